import Testing
@testable import NetDemos

@Suite struct EchoDemoTests {
    func options(_ closer: EchoDemo.Closer, host: String = "127.0.0.1") -> EchoDemo.Options {
        var o = EchoDemo.Options()
        o.common.port = 0  // any free port
        o.common.host = host
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.message = "hello, server"
        o.closer = closer
        return o
    }

    @Test(arguments: EchoDemo.Closer.allCases)
    func replyIsUpperCased(closer: EchoDemo.Closer) throws {
        let r = try EchoDemo.run(options(closer))
        #expect(r.received == "hello, server\n")
        #expect(r.reply == "HELLO, SERVER\n")
        #expect(r.transcript.contains { $0.hasPrefix("\(closer.rawValue): close() — the \(closer.rawValue) starts the teardown") })
    }

    @Test func overIPv6() throws {
        let r = try EchoDemo.run(options(.client, host: "::1"))
        #expect(r.reply == "HELLO, SERVER\n")
        #expect(r.transcript.first?.contains("[::1]:") == true)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetCapture

/// `--capture FILE` records the demo's own traffic (needs root; skipped with a message otherwise).
@Suite(.enabled(if: geteuid() == 0, "capturing on lo needs root or cap_net_raw,cap_net_admin"))
struct EchoDemoCaptureTests {
    @Test func captureRecordsTheWholeConversation() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("demo-echo-\(UUID().uuidString).pcap").path
        defer { unlink(file) }
        var o = EchoDemo.Options()
        o.common.port = 0
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.common.captureFile = file
        let r = try EchoDemo.run(o)
        #expect(r.reply == "HELLO, SERVER\n")
        let source = try CaptureSource.open(file: file)
        var count = 0
        _ = source.forEach { _, _ in count += 1; return true }
        // Handshake (3), data and ACK each way (4), teardown (3).
        #expect(count >= 10)
    }
}
