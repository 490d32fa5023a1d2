import NetAnalysis
@testable import NetOutput
import NetWire
import Testing

/// `--explain` and `--lang`: every note kind has an explanation in every language, and every
/// phrase of the catalogue exists in every language.
@Suite struct ExplainTests {
    @Test func everyPhraseInEveryLanguage() {
        for language in Language.allCases {
            let table = language.phrases
            for p in Phrase.allCases {
                let text = table[p] ?? ""
                #expect(!text.isEmpty, "phrase \(p.rawValue) missing in \(language.rawValue)")
            }
        }
    }

    /// The placeholders of a phrase are the same in every language.
    @Test func placeholdersAgree() {
        func names(_ s: String) -> Set<String> {
            var out = Set<String>()
            var rest = Substring(s)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                // (`{n:s}`, an English plural ending, is not a value of its own: Chinese has none.)
                let name = rest[rest.index(after: open) ..< close]
                if !name.contains(":") { out.insert(String(name)) }
                rest = rest[rest.index(after: close)...]
            }
            return out
        }
        for p in Phrase.allCases {
            #expect(names(English.phrases[p] ?? "") == names(Chinese.phrases[p] ?? ""), "placeholders of \(p.rawValue)")
        }
    }

    /// Every kind, with every step, gets a sentence in both languages with no placeholder left.
    @Test func everyNoteKindExplained() {
        for language in Language.allCases {
            let e = Explainer(language)
            for kind in Note.Kind.allCases {
                for step in Note.Step.allCases {
                    let p = Explainer.phrase(for: kind, step: step)
                    let phrase = language.phrases[p] ?? ""
                    #expect(!phrase.isEmpty, "\(kind.rawValue)/\(step) has no explanation in \(language.rawValue)")
                    var note = Note(kind: kind, text: "x", relatedFrame: 3, rttNanoseconds: 28_000, step: step, byClient: false)
                    note.amount = 512
                    let s = e.sentence(note)
                    #expect(!s.isEmpty && !s.contains("{"), "\(kind.rawValue): \(s)")
                }
            }
        }
    }

    /// The typed step and side live in the padding after `kind` (and the amount, 32 bits, in the
    /// padding after `states`): a note is no bigger than without them.
    @Test func noteStaysSmall() {
        #expect(MemoryLayout<Note>.offset(of: \Note.step) == 1)
        #expect(MemoryLayout<Note>.offset(of: \Note.byClient) == 2)
        #expect(MemoryLayout<Note>.size <= 96, "\(MemoryLayout<Note>.size)")
    }

    @Test func courseWordsInChinese() {
        let e = Explainer(.zh)
        let syn = e.sentence(Note(kind: .handshake, text: "handshake 1/3", step: .syn, byClient: true))
        #expect(syn.contains("三次握手") && syn.contains("半连接队列"))
        let fin = e.sentence(Note(kind: .teardown, text: "", step: .firstFin, byClient: true))
        #expect(fin.contains("四次挥手") && fin.contains("客户端"))
        let last = e.sentence(Note(kind: .teardown, text: "", step: .ackLastFin, byClient: true))
        #expect(last.contains("TIME_WAIT") && last.contains("2MSL"))
        #expect(e.sentence(Note(kind: .ackNotAccepted, text: "")).contains("全连接队列"))
        let sticky = Note(kind: .sticky, framed: FramedDetail(spans: [
            MessageSpan(message: 1, from: 0, to: 6, length: 6, part: 1, parts: 1, completes: true),
            MessageSpan(message: 2, from: 0, to: 6, length: 6, part: 1, parts: 1, completes: true),
            MessageSpan(message: 3, from: 0, to: 6, length: 6, part: 1, parts: 1, completes: true),
        ], clientToServer: true, framing: "line"))
        #expect(e.sentence(sticky).hasPrefix("3 条消息被粘在这一个报文段里") && e.sentence(sticky).contains("粘包"))
        #expect(Explainer(.en).sentence(sticky).hasPrefix("3 messages were glued into this one segment because TCP is a byte stream"))
        let split = Note(kind: .split, framed: FramedDetail(spans: [
            MessageSpan(message: 4, from: 0, to: 1000, length: 3000, part: 1, parts: 3, completes: false),
        ], clientToServer: true, framing: "line"))
        #expect(e.sentence(split).contains("半包"))
    }

    /// The Chinese words on the line: from the typed fields, English kept where they are not typed.
    @Test func chineseNoteWords() {
        let zh = Catalog.chinese
        #expect(LocalNoteWords.words(Note(kind: .handshake, text: "handshake 1/3", step: .syn), zh) == "三次握手 1/3")
        #expect(LocalNoteWords.words(Note(kind: .handshake, text: "handshake 3/3 (RTT 28 µs)", rttNanoseconds: 28_000, step: .handshakeAck), zh)
                == "三次握手 3/3（RTT 28 µs）")
        // The SYN retransmissions are only in the English words: kept.
        #expect(LocalNoteWords.words(Note(kind: .handshake, text: "handshake 3/3 (RTT 2 ms, after 1 SYN retransmission)",
                                          rttNanoseconds: 2_000_000, step: .handshakeAck), zh) == nil)
        #expect(LocalNoteWords.words(Note(kind: .teardown, text: "", step: .ackFirstFin, byClient: false), zh) == "四次挥手 2/4（服务器确认客户端的 FIN）")
        #expect(LocalNoteWords.words(Note(kind: .reset, text: "reset by client in ESTABLISHED", step: .abort, byClient: true), zh)
                == "客户端在 ESTABLISHED 状态下重置连接")
        // Every English literal of a message note has its Chinese piece.
        let sticky = FramedDetail(spans: [
            MessageSpan(message: 1, from: 0, to: 6, length: 6, part: 1, parts: 1, completes: true),
            MessageSpan(message: 2, from: 0, to: 6, length: 6, part: 1, parts: 1, completes: true),
            MessageSpan(message: 3, from: 0, to: 100, length: 200, part: 1, parts: 2, completes: false),
        ], clientToServer: true, framing: "line")
        var out = OutputBuffer(fd: -1, capacity: 256)
        BufferSink.write(sticky, into: &out, json: false, marks: nil, pieces: LocalNoteWords.chinesePieces)
        let words = out.takeString()
        #expect(words == "粘包：#1–#2 + 开头 #3 (#3 字节 0–99，共 200 (片段 1/2))", "\(words)")
    }
}

/// A truncated DNS answer over UDP says why, and the query's retry over TCP points back at it.
@Suite struct DNSTruncationTests {
    @Test func truncatedAnswerAndItsRetry() throws {
        let r = try CLI.run(["-n", "-r", "captures/demo-dns.pcap", "--explain", "--lang", "en"])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let tc = try #require(lines.firstIndex { $0.contains("*-| 0/0/0") })
        #expect(lines[tc].hasSuffix("[TC: answer > 512 B UDP limit — client retries over TCP]"))
        #expect(lines[tc + 1].hasPrefix(Explainer.indent + "The answer did not fit in one UDP datagram (512 B)"))
        let retry = try #require(lines.firstIndex { $0.contains("TXT? big.demo.test.") && $0.contains("Flags [P.]") })
        #expect(lines[retry].hasSuffix("[retry over TCP of the truncated answer #14]"))
        #expect(lines.contains { $0.contains("length 973") && $0.hasSuffix("[the whole answer over TCP: 971 B (truncated over UDP in #14)]") })
        let zh = try CLI.run(["-n", "-r", "captures/demo-dns.pcap", "--lang", "zh"])
        #expect(zh.stdout.contains("[TC：应答超过 512 字节的 UDP 上限——客户端改用 TCP 重试]"))
        #expect(zh.stdout.contains("[通过 TCP 重试被截断的应答 #14]"))
        #expect(zh.stdout.contains("[TCP 上的完整应答：971 字节（UDP 上在 #14 被截断）]"))
    }

    /// The locale chooses the language when --lang is not given.
    @Test func languageFromTheLocale() throws {
        let zh = try CLI.run(["-n", "-r", "captures/demo-sticky.pcap", "--explain"], environment: ["TZ": "UTC", "LANG": "zh_CN.UTF-8"])
        #expect(zh.stdout.contains("[三次握手 1/3]") && zh.stdout.contains("粘包"))
        let en = try CLI.run(["-n", "-r", "captures/demo-sticky.pcap", "--explain"], environment: ["TZ": "UTC", "LANG": "en_US.UTF-8"])
        #expect(en.stdout.contains("[handshake 1/3]") && !en.stdout.contains("粘包：") && en.stdout.contains("sticky packets"))
    }
}

/// The demos' transcript in causal order, explained [wire] lines by default.
@Suite(.serialized) struct DemoTranscriptOrderTests {
    /// The client's send() comes before the server's recv() of the same bytes, whichever thread
    /// printed first.
    @Test func sendBeforeRecv() throws {
        for _ in 0 ..< 3 {
            let r = try CLI.run(["demo", "echo", "--port", "0"])
            let lines = r.stdout.split(separator: "\n").map(String.init)
            let send = try #require(lines.firstIndex { $0.hasPrefix("client: send()") })
            let recv = try #require(lines.firstIndex { $0.hasPrefix("server: recv() returned 14 bytes") })
            #expect(send < recv, "\(r.stdout)")
        }
    }

    @Test(.enabled(if: Live.canCapture, "live capture on lo needs root or cap_net_raw,cap_net_admin"))
    func inspectExplainsByDefault() throws {
        let r = try CLI.run(["demo", "echo", "--port", "0", "--inspect"])
        #expect(r.stdout.contains("[handshake 1/3]\n" + Explainer.indent + "Three-way handshake, step 1"), "\(r.stdout)")
        let zh = try CLI.run(["demo", "echo", "--port", "0", "--inspect", "--lang", "zh"])
        #expect(zh.stdout.contains("[三次握手 1/3]\n" + Explainer.indent + "三次握手第 1 步"), "\(zh.stdout)")
        let quiet = try CLI.run(["demo", "echo", "--port", "0", "--inspect", "--no-explain"])
        #expect(quiet.stdout.contains("[handshake 1/3]") && !quiet.stdout.contains(Explainer.indent), "\(quiet.stdout)")
    }

}
