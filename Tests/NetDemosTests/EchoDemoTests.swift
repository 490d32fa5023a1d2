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
