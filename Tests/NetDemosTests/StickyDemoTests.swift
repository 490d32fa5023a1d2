import Testing
@testable import NetDemos
import NetOutput

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

    /// What one recv() result held, partial messages included (`--recv-size 1024`: 25 messages of
    /// 128 bytes, then the first 896 of the 3000-byte #26).
    @Test func recvResultsCountPartialMessages() throws {
        var m = StickyDemo.MessageCount()
        #expect(m.add(Array("hello\nworl".utf8)) == "#1 and the first 4 B of #2")
        #expect(m.add(Array("d\nfoo\nbar\n".utf8)) == "3 messages glued: #2–#4, starting with the last 2 B of #2")
        #expect(m.add(Array("baz\nq".utf8)) == "#5 and the first 1 B of #6")
        #expect(m.add(Array("uu".utf8)) == nil)
        #expect(m.add(Array("x\n".utf8)) == "the last 2 B of #6")
        #expect(m.add(Array("one\n".utf8)) == nil)
        #expect(m.add(Array("a\nb\n".utf8)) == "2 messages glued: #8–#9")
        var o = options(patterns: true)
        o.recvSize = 1024
        let r = try StickyDemo.run(o)
        #expect(r.received.first?.count == 1024)
        #expect(r.transcript.contains { $0.hasPrefix("server: recv(1024) #1 returned 1024 bytes: \"hello\\nworld")
            && $0.hasSuffix(" (25 messages glued: #1–#25, and the first 896 B of #26)") }, "\(r.transcript)")
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

/// What the demo console collapses: lines that differ only in their `#numbers`.
@Suite struct DemoConsoleTests {
    @Test func shapeOfALine() {
        let (shape, numbers) = DemoConsole.shape("recv(32) #12 returned 32 bytes: \"#\"")
        #expect(shape == "recv(32) # returned 32 bytes: \"#\"")
        #expect(numbers == ["12"])
        #expect(DemoConsole.shape("recv(32) #3 returned").0 == DemoConsole.shape("recv(32) #4 returned").0)
        #expect(counted(1, "send() call") == "1 send() call" && counted(2, "send() call") == "2 send() calls")
    }
}

/// `--lang zh`: the echo and sticky demos narrate in Chinese, from the catalogue.
@Suite struct ChineseNarrationTests {
    @Test func stickyInChinese() throws {
        var o = StickyDemo.Options()
        o.common.port = 0
        o.common.echoTranscript = false
        o.common.language = .zh
        o.readDelay = 0.2
        o.recvSize = 1024
        let r = try StickyDemo.run(o)
        #expect(r.transcript.contains { $0.hasPrefix("客户端: send() 6 字节：\"hello\\n\"") }, "\(r.transcript)")
        #expect(r.transcript.contains { $0.hasPrefix("服务器: recv(1024) #1 返回") && $0.contains("粘包") }, "\(r.transcript)")
        #expect(r.transcript.contains { $0.hasPrefix("总结: ") && $0.contains("消息边界没有了") }, "\(r.transcript)")
    }

    @Test func gluedWordsInBothLanguages() {
        var en = StickyDemo.MessageCount()
        #expect(en.add(Array("a\nb\nc".utf8)) == "2 messages glued: #1–#2, and the first 1 B of #3")
        var zh = StickyDemo.MessageCount(catalog: .chinese)
        #expect(zh.add(Array("a\nb\nc".utf8)) == "粘包：2 条消息粘在一起：#1–#2，还有 #3 的前 1 字节")
    }
}
