import Testing
@testable import NetDemos

@Suite struct UDPDemoTests {
    func options(host: String = "127.0.0.1") -> UDPDemo.Options {
        var o = UDPDemo.Options()
        o.common.port = 0  // any free port
        o.common.host = host
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.messages = ["hello", "world", "how are you?"]
        o.bigSize = 1400
        return o
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func eachDatagramArrivesWholeAndSeparate(host: String) throws {
        let r = try UDPDemo.run(options(host: host))
        #expect(r.sent.map(\.count) == [5, 5, 12, 1400])
        // One recvfrom() per sendto(), each exactly the datagram sent: no gluing ("helloworld"), no cutting.
        #expect(r.serverReceived == r.sent)
        #expect(r.clientReceived == r.sent)
        #expect(r.transcript.filter { $0.hasPrefix("server: recvfrom() returned") }.count == 4)
        #expect(r.transcript.contains { $0.hasPrefix("server: recvfrom() returned 1400 bytes") })
    }

    @Test func tooLargeADatagramIsRefused() {
        var o = options()
        o.bigSize = UDPDemo.maxDatagram + 1
        #expect(throws: DemoError.self) { try UDPDemo.run(o) }
    }
}
