import Testing
@testable import NetDemos

@Suite struct StickyDemoTests {
    func options(noDelay: Bool = false, size: Int? = nil, patterns: Bool = false, raw: Bool = false) -> StickyDemo.Options {
        var o = StickyDemo.Options()
        o.common.port = 0  // any free port
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.count = 20
        o.size = size
        o.noDelay = noDelay
        o.patterns = patterns
        o.raw = raw
        o.readDelay = 1  // margin for a loaded CI machine: all 20 send()s land before the first recv()
        return o
    }

    @Test(arguments: [false, true])
    func messagesAreGluedAndCut(noDelay: Bool) throws {
        let r = try StickyDemo.run(options(noDelay: noDelay))
        #expect(r.sent.count == 20)
        #expect(r.sent.prefix(2).map { String(decoding: $0, as: UTF8.self) } == ["hello\n", "world\n"])
        // Fewer recv() results than messages: the stream kept no message boundaries.
        #expect(r.received.count < r.sent.count)
        #expect(!r.received.isEmpty)
        // …but every byte arrived, in order.
        #expect(r.received.flatMap { $0 } == r.sent.flatMap { $0 })
        // Glued: the first recv() holds more than the first message ("hello\nworld\n…").
        #expect(String(decoding: r.received[0], as: UTF8.self).hasPrefix("hello\nworld\n"))
        #expect(r.transcript.contains { $0.hasPrefix("summary: 20 send() calls became \(r.received.count) recv() results") })
    }

    @Test func rawMessagesHaveNoNewline() throws {
        let r = try StickyDemo.run(options(raw: true))
        #expect(r.sent.prefix(2).map { String(decoding: $0, as: UTF8.self) } == ["hello", "world"])
        #expect(String(decoding: r.received[0], as: UTF8.self).hasPrefix("helloworld"))
    }

    @Test func sizedMessages() throws {
        let r = try StickyDemo.run(options(size: 7))
        #expect(r.sent.count == 20)
        #expect(r.sent.allSatisfy { $0.count == 8 })
        #expect(r.sent[1] == Array("bbbbbbb\n".utf8))
        #expect(r.received.count < r.sent.count)
        #expect(r.received.flatMap { $0 } == r.sent.flatMap { $0 })
    }

    @Test func patternsAddBurstBigAndMixed() throws {
        let plan = StickyDemo.plan(options(patterns: true))
        #expect(plan.messages.count == 28)
        #expect(plan.messages[25].count == 3000)
        // The writes carry exactly the messages' bytes; five MSG_MORE-held writes end the burst.
        #expect(plan.writes.flatMap(\.bytes) == plan.messages.flatMap { $0 })
        #expect(plan.writes.filter(\.more).count == 6)
        let r = try StickyDemo.run(options(patterns: true))
        #expect(r.sent.count == 28)
        #expect(r.received.flatMap { $0 } == r.sent.flatMap { $0 })
    }
}
