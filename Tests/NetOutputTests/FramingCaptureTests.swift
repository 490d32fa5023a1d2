import Foundation
import Testing

/// Message framing end to end: the demo captures and the crafted framing-*.pcap files, read by the
/// built binary; message boundaries are checked against an independent split of the reassembled
/// stream (`follow --raw`).
@Suite struct FramingCaptureTests {
    static func jsonLines(_ args: [String]) throws -> [[String: Any]] {
        let r = try CLI.run(args + ["--json"])
        #expect(r.status == 0, "\(args): \(r.stderr)")
        return try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The message notes' spans of every packet, in capture order: (frame, dir, kind, spans).
    static func messageNotes(_ lines: [[String: Any]]) -> [(frame: Int, dir: String, kind: String, spans: [[String: Any]])] {
        var out: [(Int, String, String, [[String: Any]])] = []
        for l in lines {
            for n in (l["notes"] as? [[String: Any]]) ?? [] {
                guard let spans = n["messages"] as? [[String: Any]], let kind = n["kind"] as? String else { continue }
                out.append((l["frame"] as? Int ?? 0, n["dir"] as? String ?? "", kind, spans))
            }
        }
        return out
    }

    /// Both directions' bytes as `follow --raw` writes them: (client→server, server→client).
    static func rawStreams(_ file: String, _ extra: [String] = []) throws -> (c2s: [UInt8], s2c: [UInt8]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netinspect-follow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["follow", "-r", file, "--raw", dir.path] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.count == 2)
        // The client's port is the ephemeral one: its file name starts with the client endpoint.
        let header = r.stdout.split(separator: "\n").first.map(String.init) ?? ""
        let client = header.components(separatedBy: "client ").dropFirst().first?.components(separatedBy: ",").first ?? ""
        let clientPort = client.split(separator: ":").last.map(String.init) ?? ""
        var c2s: [UInt8] = [], s2c: [UInt8] = []
        for n in names {
            let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(n)))
            let first = n.split(separator: "-").first.map(String.init) ?? ""
            if let p = Int(clientPort), first.hasSuffix(String(format: ".%05d", p)) { c2s = bytes } else { s2c = bytes }
        }
        return (c2s, s2c)
    }

    /// lpjson messages of a stream, split independently of netinspect: (total length, header text).
    static func lpjsonMessages(_ s: [UInt8], bigEndian: Bool) -> [(Int, String)] {
        var out: [(Int, String)] = []
        var i = 0
        while i + 4 <= s.count {
            let b = Array(s[i ..< i + 4])
            let h = bigEndian ? Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
                : Int(b[3]) << 24 | Int(b[2]) << 16 | Int(b[1]) << 8 | Int(b[0])
            guard i + 4 + h <= s.count,
                  let obj = try? JSONSerialization.jsonObject(with: Data(s[i + 4 ..< i + 4 + h])) as? [String: Any],
                  let size = obj["total_size"] as? Int else { break }
            out.append((4 + h + size, String(decoding: s[i + 4 ..< i + 4 + h], as: UTF8.self)))
            i += 4 + h + size
        }
        #expect(i == s.count, "the stream splits into whole messages")
        return out
    }

    /// The messages each direction's notes report, in order: message number → (length, header).
    static func completed(_ notes: [(frame: Int, dir: String, kind: String, spans: [[String: Any]])], dir: String) -> [(Int, Int, String?)] {
        var out: [(Int, Int, String?)] = []
        for n in notes where n.dir == dir {
            for s in n.spans where s["complete"] as? Bool == true {
                out.append((s["msg"] as? Int ?? 0, s["len"] as? Int ?? -1, s["header"] as? String))
            }
        }
        return out
    }

    func checkFramed(_ file: String, bigEndian: Bool, extra: [String]) throws {
        let lines = try Self.jsonLines(["-r", file] + extra)
        let notes = Self.messageNotes(lines)
        let streams = try Self.rawStreams(file, extra)
        for (dir, bytes) in [("c2s", streams.c2s), ("s2c", streams.s2c)] {
            let expected = Self.lpjsonMessages(bytes, bigEndian: bigEndian)
            let got = Self.completed(notes, dir: dir)
            #expect(got.count == expected.count && !got.isEmpty, "\(file) \(dir)")
            for (k, (g, e)) in zip(got, expected).enumerated() {
                #expect(g.0 == k + 1)
                #expect(g.1 == e.0, "\(file) \(dir) message \(k + 1) length")
                #expect(g.2 == e.1, "\(file) \(dir) message \(k + 1) header")
            }
        }
        // Every byte of payload is accounted for by the spans of its segment.
        for l in lines {
            guard let tcp = l["tcp"] as? [String: Any], let len = tcp["payload_len"] as? Int, len > 0 else { continue }
            let notesHere = (l["notes"] as? [[String: Any]]) ?? []
            if notesHere.contains(where: { $0["kind"] as? String == "retransmission" }) { continue }
            let spans = notesHere.compactMap { $0["messages"] as? [[String: Any]] }.flatMap { $0 }
            let covered = spans.reduce(0) { $0 + (($1["to"] as? Int ?? 0) - ($1["from"] as? Int ?? 0)) }
            #expect(covered == len, "frame \(l["frame"] ?? 0)")
        }
    }

    @Test func framedDemoLittleEndianRecoversEveryMessage() throws {
        try checkFramed("captures/demo-framed.pcap", bigEndian: false, extra: [])
    }

    @Test func framedDemoBigEndianRecoversEveryMessageAcrossSegments() throws {
        try checkFramed("captures/demo-framed-be.pcap", bigEndian: true, extra: ["--framing", "9005=lpjson:be"])
        // The 200,041-byte answer is split over several segments, and its last part says which.
        let r = try CLI.run(["-n", "-r", "captures/demo-framed-be.pcap", "--framing", "9005=lpjson:be"])
        #expect(r.stdout.contains("split: msg #3 bytes 0–"))
        #expect(r.stdout.contains("of 200041 (part 1/"))
        #expect(r.stdout.contains("msg #3 complete in segments "))
    }

    @Test func autoDetectsBothByteOrders() throws {
        for (file, expect) in [("captures/demo-framed.pcap", "auto: lpjson"), ("captures/demo-framed-be.pcap", "auto: lpjson:be"),
                               ("captures/framing-split3.pcap", "auto: lp:4:be"), ("captures/demo-sticky.pcap", "auto: line")] {
            let r = try CLI.run(["-n", "-r", file, "--framing", "auto", "--flows", "-q"])
            #expect(r.stdout.contains("framing \(expect) msgs"), "\(file): \(r.stdout)")
        }
    }

    @Test func stickyDemoMarksEveryCoalescedSegment() throws {
        let lines = try Self.jsonLines(["-r", "captures/demo-sticky.pcap"])
        let notes = Self.messageNotes(lines)
        let streams = try Self.rawStreams("captures/demo-sticky.pcap")
        // Independent split of the client's stream at each newline.
        var lengths: [Int] = []
        var run = 0
        for b in streams.c2s {
            run += 1
            if b == 10 { lengths.append(run); run = 0 }
        }
        #expect(run == 0 && lengths.count == 28)
        let got = Self.completed(notes, dir: "c2s")
        #expect(got.map(\.0) == Array(1 ... lengths.count))
        #expect(got.map(\.1) == lengths)
        // Every segment carrying parts of two or more messages is a sticky note (粘包) naming
        // consecutive messages; one with a single message is not.
        var stickySeen = 0
        for n in notes {
            let numbers = n.spans.compactMap { $0["msg"] as? Int }
            if numbers.count >= 2 {
                stickySeen += 1
                #expect(n.kind == "sticky")
                #expect(numbers == Array(numbers[0] ... numbers[0] + numbers.count - 1))
            } else {
                #expect(n.kind != "sticky")
            }
        }
        #expect(stickySeen >= 1)
        // The MSG_MORE burst (five messages "burst 1" … "burst 5") is inside one sticky segment.
        let text = try CLI.run(["-n", "-r", "captures/demo-sticky.pcap"]).stdout
        let burstFirst = lengths.count - 7  // messages 21–25 are the burst
        #expect(notes.contains { n in n.kind == "sticky" && Set(n.spans.compactMap { $0["msg"] as? Int }).isSuperset(of: Set(burstFirst ... burstFirst + 4)) })
        // The 3000-byte message in three segments, and the mixed segment.
        #expect(text.contains("split: msg #26 bytes 0–999 of 3000 (part 1/3)"))
        #expect(text.contains("sticky: end of #26 + #27 + start of #28"))
        #expect(text.contains("msg #28 complete in segments"))
    }

    @Test func oneSegmentWithAHundredMessages() throws {
        let r = try CLI.run(["-n", "-r", "captures/framing-split3.pcap", "--framing", "7000=lp:4"])
        #expect(r.stdout.contains("length 800 [sticky: 100 messages (#1–#100)]"))
        #expect(r.stdout.contains("split: msg #1 bytes 0–999 of 3000 (part 1/3)"))
        #expect(r.stdout.contains("split: msg #1 bytes 2000–2999 of 3000 (part 3/3), msg #1 complete in segments 4,5,6"))
        // The length prefix itself split over two segments.
        #expect(r.stdout.contains("split: msg #2 bytes 0–1 of 16 (part 1/2)"))
    }

    @Test func retransmittedOutOfOrderAndWrappingSegmentsInsideAMessage() throws {
        let r = try CLI.run(["-n", "-r", "captures/framing-reorder.pcap", "--framing", "7000=lp:4", "--flows"])
        #expect(r.stdout.contains("held for reassembly: 1000 bytes missing before it"))
        #expect(r.stdout.contains("part 4/4), msg #1 complete in segments"))
        #expect(r.stdout.contains("[msg #2 (18 B)]"))
        #expect(r.stdout.contains("framing lp:4:be msgs 2/0"))
        // follow shows the 4000-byte message once, in order, across the 2^32 wrap.
        let f = try CLI.run(["follow", "-r", "captures/framing-reorder.pcap", "--framing", "7000=lp:4"])
        #expect(f.stdout.contains("── msg #1 (4000 B) ──"))
        let digits = f.stdout.filter { $0.isNumber }
        #expect(digits.contains("0123456789012"))
    }

    @Test func gapsAreSkippedInBodiesAndLoseTheFramingInHeaders() throws {
        let r = try CLI.run(["-n", "-r", "captures/framing-gap.pcap", "--framing", "7000=lp:4", "--flows"])
        #expect(r.stdout.contains("stream gap: 1000 bytes acknowledged by the receiver, never captured, skipped"))
        #expect(r.stdout.contains("[msg #2 (16 B)]"))
        #expect(r.stdout.contains("framing lost (lp:4:be: 100 bytes missing from the stream) after message #2"))
        let f = try CLI.run(["follow", "-r", "captures/framing-gap.pcap", "--framing", "7000=lp:4"])
        #expect(f.stdout.contains("── gap: 1000 bytes not captured"))
    }

    @Test func lyingLengthsStopFramingWithoutAllocating() throws {
        for spec in ["7000=lp:4", "7000=lp:8", "7000=lpjson", "7000=lpjson:be", "7000=lp:2:le-2"] {
            let r = try CLI.run(["-n", "-r", "captures/framing-lying.pcap", "--framing", spec, "--flows"], timeout: 20, memoryLimitMB: 512)
            #expect(r.status == 0 && !r.signaled, "\(spec)")
            #expect(r.stdout.contains("framing lost ("), "\(spec): \(r.stdout)")
        }
        let n = try CLI.run(["-n", "-r", "captures/framing-lpjson-negative.pcap", "--framing", "7000=lpjson"])
        #expect(n.stdout.contains("framing lost (lpjson: total_size -5 is impossible) after message #1"))
    }

    @Test func differingRetransmissionIsFlagged() throws {
        let r = try CLI.run(["-n", "-r", "captures/framing-overlap.pcap", "--framing", "7000=line"])
        #expect(r.stdout.contains("retransmission carries different bytes than the first copy (first copy kept)"))
        let f = try CLI.run(["follow", "-r", "captures/framing-overlap.pcap", "--framing", "7000=line"])
        #expect(f.stdout.contains("hello\n") && !f.stdout.contains("HELLO"))
    }

    @Test func dnsOverTCPIsFramedAndDecoded() throws {
        let lines = try Self.jsonLines(["-r", "captures/demo-dns.pcap"])
        let notes = Self.messageNotes(lines)
        let dns = notes.flatMap(\.spans).compactMap { $0["dns"] as? [String: Any] }
        #expect(dns.count == 2)
        let q = (dns.first?["questions"] as? [[String: Any]])?.first
        #expect(q?["name"] as? String == "big.demo.test" && q?["type"] as? String == "TXT")
        #expect(((dns.last?["answers"] as? [[String: Any]]) ?? []).count == 1)
    }

    @Test func receiverViewGluesMessages() throws {
        let r = try CLI.run(["-n", "-r", "captures/demo-sticky.pcap", "--recv-size", "32"])
        #expect(r.stdout.contains("recv(32) #1 → 32 B \"hello\\nworld\\nfoo\\nbar\\nbaz\\nqux\\ntcp\\n\" (7 messages glued: #1–#7)"))
    }

    /// A recv() result that ends inside a message reports that message's first bytes too, and one that
    /// starts inside a message says only its end is there.
    @Test func receiverViewCountsPartialMessages() throws {
        let r = try CLI.run(["-n", "-r", "captures/demo-sticky.pcap", "--recv-size", "1024"])
        // 25 messages are 128 bytes; the rest of the 1024 are the first 896 of #26 (3000 bytes).
        #expect(r.stdout.contains("[recv(1024) #1 → 1024 B \"hello\\nworld\\nfoo\\nbar\\nbaz\\nqux\\ntcp\\nis\\na\\nstr…\" (25 messages glued: #1–#25, and the first 896 B of #26)]"))
        #expect(r.stdout.contains("[recv(1024) #4 → 95 B \"ghijklmnopqrstuvwxyzabcdefghijklmnopqrst…\" (3 messages glued: #26–#28, starting with the last 56 B of #26)]"))
        // Inside #26 only: nothing glued.
        #expect(r.stdout.contains("[recv(1024) #2 → 1024 B \"mnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz…\"]"))
        let small = try CLI.run(["-n", "-r", "captures/demo-sticky.pcap", "--recv-size", "10"])
        // "hello\nworld\n": recv(10) returns #1 and the first 4 bytes of #2.
        #expect(small.stdout.contains("[recv(10) #1 → 10 B \"hello\\nworl\" (#1 and the first 4 B of #2)]"))
    }

    @Test(arguments: [("follow-demo-sticky.txt", ["captures/demo-sticky.pcap"]),
                      ("follow-demo-framed-be.txt", ["captures/demo-framed-be.pcap", "--framing", "9005=lpjson:be"]),
                      ("follow-framing-reorder.txt", ["captures/framing-reorder.pcap", "--framing", "7000=lp:4", "--hex"]),
                      ("follow-framing-gap.txt", ["captures/framing-gap.pcap", "--framing", "7000=lp:4"])])
    func followMatchesGolden(_ golden: String, _ args: [String]) throws {
        let r = try CLI.run(["follow", "-r"] + args)
        let expected = try String(contentsOf: CLI.captures.appendingPathComponent("expected/\(golden)"), encoding: .utf8)
        #expect(r.stdout == expected)
    }

    @Test func followHexOffsetsGrowPastSixteenBits() throws {
        let r = try CLI.run(["follow", "-r", "captures/demo-framed-be.pcap", "--framing", "9005=lpjson:be", "--hex"])
        // The 200,041-byte answer: offsets past 0xffff get a fifth digit instead of wrapping.
        #expect(r.stdout.contains("  0x1000b:  "))
        #expect(r.stdout.range(of: "\n  0x3[0-9a-f]{4}:  ", options: .regularExpression) != nil)
    }

    @Test func followRefusesUnknownFlowsAndFramings() throws {
        let r = try CLI.run(["follow", "-r", "captures/demo-echo.pcap", "--flow", "9"])
        #expect(r.status == 1 && r.stderr.contains("no TCP flow 9"))
        let b = try CLI.run(["-r", "captures/demo-echo.pcap", "--framing", "lp:3"])
        #expect(b.status != 0 && b.stderr.contains("unknown framing"))
    }
}
