import Testing
@testable import NetDemos

@Suite struct ChatDemoTests {
    func options(_ script: [String]) -> ChatDemo.Options {
        var o = ChatDemo.Options()
        o.common.port = 0  // any free port
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.script = script
        return o
    }

    @Test func linesArriveAndEmptyLinesAreRefused() throws {
        let r = try ChatDemo.run(options([
            "client: hello, server",
            "server: hello, client",
            "client:",
            "client:    ",
            "client: how are you?",
            "server: ",
            "server: fine, thanks",
        ]))
        #expect(r.clientsServed == 1)
        #expect(r.serverReceived == [["hello, server", "how are you?"]])
        #expect(r.clientReceived == ["hello, client", "fine, thanks"])
        #expect(r.refused == 3)
        #expect(r.transcript.filter { $0.hasSuffix("empty line refused (not sent)") }.count == 3)
        #expect(!r.transcript.contains { $0.contains("send() 1 bytes") })  // no bare "\n" went out
        #expect(r.clientsReset == 0)
    }

    @Test func serverSurvivesAClientThatVanishes() throws {
        let r = try ChatDemo.run(options([
            "client: hello from the first client",
            "server: hi, first",
            "client: /vanish",  // SO_LINGER 0 + close(): RST
            "client: hello from the second client",
            "server: hi, second",
            "client: still there?",
            "server: yes",
        ]))
        #expect(r.clientsServed == 2)
        #expect(r.clientsReset == 1)
        #expect(r.transcript.contains("server: recv() failed: Connection reset by peer (ECONNRESET)"))
        #expect(r.serverReceived == [["hello from the first client"], ["hello from the second client", "still there?"]])
        #expect(r.clientReceived == ["hi, first", "hi, second", "yes"])
    }

    @Test func builtInConversation() throws {
        var o = options([])
        o.script = nil  // all-in-one without a script plays ChatDemo.defaultScript
        let r = try ChatDemo.run(o)
        #expect(r.clientsServed == 2)
        #expect(r.clientsReset == 1)
        #expect(r.refused == 1)
        #expect(r.serverReceived.last == ["I am the second client"])
    }

    @Test func maxClientsBoundsTheServer() throws {
        var o = options(["client: one", "client: /quit", "client: two", "client: /quit", "client: three", "server: ok", "server: ok", "server: ok"])
        o.maxClients = 2
        let r = try ChatDemo.run(o)
        #expect(r.clientsServed == 2)
        #expect(r.serverReceived == [["one"], ["two"]])
    }

    @Test func scriptLines() {
        #expect(ChatDemo.scriptLines("a\r\n\nclient: b\n") == ["a", "", "client: b"])
        #expect(ChatDemo.lines(of: ["a", "client: b", "server:c", "client:"], for: "client") == ["a", "b", ""])
        #expect(ChatDemo.lines(of: ["a", "client: b", "server:c"], for: "server") == ["a", "c"])
        #expect(ChatDemo.plannedSessions(["x", "/vanish", "y", "/quit"]) == 2)
    }
}
