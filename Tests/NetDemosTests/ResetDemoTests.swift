import Testing
@testable import NetDemos

@Suite struct ResetDemoTests {
    @Test(arguments: ResetDemo.Mode.allCases)
    func serverSeesECONNRESET(mode: ResetDemo.Mode) throws {
        var o = ResetDemo.Options()
        o.common.port = 0  // any free port
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.mode = mode
        let r = try ResetDemo.run(o)
        #expect(r.received == "hello, server\n")
        #expect(r.serverSawReset)
        #expect(r.serverError == "ECONNRESET")
        #expect(r.transcript.contains("server: recv() failed: Connection reset by peer (ECONNRESET)"))
        #expect(r.sendAfterReset == "EPIPE")
        #expect(r.transcript.last?.hasPrefix("server: handled") == true)
    }
}
