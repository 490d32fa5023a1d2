import Testing
@testable import NetDemos

@Suite struct BacklogDemoTests {
    func options(clients: Int, backlog: Int32, acceptDelay: Double, timeout: Double) -> BacklogDemo.Options {
        var o = BacklogDemo.Options()
        o.common.port = 0  // any free port
        o.common.timeout = timeout
        o.common.echoTranscript = false
        o.clients = clients
        o.backlog = backlog
        o.acceptDelay = acceptDelay
        return o
    }

    /// Every client ends served or timed out cleanly, and the server accepted (with the client still
    /// there) exactly the clients that got through; any other accepted connection was one whose client
    /// had already given up, and only clients whose connect() completed can be among those.
    func expectConsistent(_ r: BacklogDemo.Result, clients: Int) {
        #expect(r.clients.count == clients)
        #expect(r.clients.map(\.number) == Array(1 ... clients))
        #expect(r.clients.allSatisfy { $0.outcome != .failed })
        let through = r.clients.filter(\.gotThrough)
        #expect(r.acceptedLive == through.count)
        #expect(r.acceptOrder.sorted() == through.map(\.number))
        #expect(r.accepted >= r.acceptedLive)
        #expect(r.accepted <= r.clients.filter(\.connected).count)
        #expect(through.allSatisfy { $0.connectedAt != nil && $0.servedAt != nil })
        #expect(r.transcript.contains { $0.hasPrefix("summary: \(clients) clients") })
    }

    @Test(.timeLimit(.minutes(1)))
    func everyClientIsServedEventually() throws {
        let start = ContinuousClock.now
        let r = try BacklogDemo.run(options(clients: 6, backlog: 1, acceptDelay: 0.1, timeout: 9))
        #expect(ContinuousClock.now - start < .seconds(15))
        expectConsistent(r, clients: 6)
        #expect(r.clients.allSatisfy { $0.outcome == .served })
        #expect(r.accepted == 6 && r.acceptedLive == 6)
        #expect(Set(r.acceptOrder) == Set(1 ... 6))
    }

    @Test(.timeLimit(.minutes(1)))
    func slowServerClientsTimeOutCleanly() throws {
        let start = ContinuousClock.now
        let r = try BacklogDemo.run(options(clients: 5, backlog: 1, acceptDelay: 3, timeout: 1.5))
        #expect(ContinuousClock.now - start < .seconds(15))
        expectConsistent(r, clients: 5)
        // The server took one connection and slept: the rest either waited in the queue or never connected.
        #expect(r.clients.contains { $0.outcome == .served })
        #expect(r.clients.contains { $0.outcome != .served })
        #expect(r.clients.allSatisfy { $0.outcome == .served || $0.outcome == .timedOut || $0.outcome == .connectedNotServed })
    }

    @Test func refusesNonLoopbackHosts() {
        var o = options(clients: 1, backlog: 1, acceptDelay: 0, timeout: 1)
        o.common.host = "192.0.2.1"
        #expect(throws: DemoError.self) { try BacklogDemo.run(o) }
    }
}
