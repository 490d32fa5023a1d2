import Testing
@testable import NetAnalysis
import NetWire

/// Runs `stream` through a framer in pieces cut at `cuts`; returns the message lengths found.
private func frame(_ spec: FramingSpec, _ stream: [UInt8], cuts: [Int] = []) -> (lengths: [Int], framer: Framer) {
    var f = Framer(spec)
    var lengths: [Int] = []
    var start = 0
    for end in (cuts + [stream.count]).sorted() where end >= start && end <= stream.count {
        stream.withUnsafeBytes { raw in
            f.decode(UnsafeRawBufferPointer(rebasing: raw[start ..< end])) { lengths.append($0.length) }
        }
        start = end
    }
    return (lengths, f)
}

private func be32(_ n: Int) -> [UInt8] { [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] }
private func le32(_ n: Int) -> [UInt8] { be32(n).reversed() }

@Suite struct FramingSpecTests {
    @Test func parsesEveryForm() {
        #expect(FramingSpec(parsing: "lp:4") == .lengthPrefix(width: 4, bigEndian: true, adjust: 0))
        #expect(FramingSpec(parsing: "lp:2:le") == .lengthPrefix(width: 2, bigEndian: false, adjust: 0))
        #expect(FramingSpec(parsing: "lp:4:be+4") == .lengthPrefix(width: 4, bigEndian: true, adjust: 4))
        #expect(FramingSpec(parsing: "lp:2-2") == .lengthPrefix(width: 2, bigEndian: true, adjust: -2))
        #expect(FramingSpec(parsing: "lp:8:le") == .lengthPrefix(width: 8, bigEndian: false, adjust: 0))
        #expect(FramingSpec(parsing: "line") == .line)
        #expect(FramingSpec(parsing: "delim:\\r\\n") == .delimiter([13, 10]))
        #expect(FramingSpec(parsing: "delim:0x00ff") == .delimiter([0, 255]))
        #expect(FramingSpec(parsing: "delim:|") == .delimiter([124]))
        #expect(FramingSpec(parsing: "lpjson") == .lpjson(bigEndian: false))
        #expect(FramingSpec(parsing: "lpjson:be") == .lpjson(bigEndian: true))
        #expect(FramingSpec(parsing: "dns-tcp") == .dnsTCP)
        #expect(FramingSpec(parsing: "raw") == .raw)
        #expect(FramingSpec(parsing: "auto") == .auto)
    }

    @Test func refusesNonsense() {
        for bad in ["lp:3", "lp:4:xx", "lp:", "lp:4:be:le", "delim:", "delim:0x0", "delim:\\q", "lines2", "lp:4+abc", "",
                    // a second sign used to reach Int(): -Int.min trapped, Int.max overflowed later
                    "lp:4--9223372036854775808", "lp:4--9223372036854775807", "lp:4+-1", "lp:4++1", "lp:4-", "lp:4+2097152"] {
            #expect(FramingSpec(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func publicValuesTheParserRefusesFrameNothing() {
        // The spec and the framer are public: values the parser never makes must not trap or spin.
        for w in [0, -1, 3, 16] {
            let r = frame(.lengthPrefix(width: w, bigEndian: true, adjust: 0), [0, 0, 0, 1, 65, 0, 0, 0, 1, 66])
            #expect(r.lengths.isEmpty && r.framer.isLost, "width \(w)")
        }
        // An adjustment near Int.max: the framing is lost, no overflow.
        let big = frame(.lengthPrefix(width: 4, bigEndian: true, adjust: Int.max), be32(1) + [65])
        #expect(big.lengths.isEmpty && big.framer.isLost)
        var f = Framer(.lengthPrefix(width: 4, bigEndian: true, adjust: 0), maxMessage: -5)
        f.maxMessage = -1
        be32(1).withUnsafeBytes { f.decode($0) { _ in } }
        #expect(f.isLost)
    }

    @Test func multiByteDelimiterAfterAPartialMatch() {
        // A failed partial match may itself hold the start of the delimiter.
        #expect(frame(.delimiter(Array("abac".utf8)), Array("xababacyabac".utf8)).lengths == [7, 5])
        #expect(frame(.delimiter(Array("aab".utf8)), Array("aaab".utf8)).lengths == [4])
        // Cut at every point, the same boundaries.
        let stream = Array("12ababac3abac".utf8)
        for cut in 0 ... stream.count {
            #expect(frame(.delimiter(Array("abac".utf8)), stream, cuts: [cut]).lengths == [8, 5], "cut \(cut)")
        }
    }

    @Test func namesRoundTrip() {
        for text in ["lp:4:be", "lp:2:le", "lp:4:be+4", "lp:2:be-2", "line", "delim:\\r\\n", "lpjson", "lpjson:be", "dns-tcp", "raw", "auto"] {
            let spec = FramingSpec(parsing: text)
            #expect(spec?.name == text)
        }
    }

    @Test func policyPrefersPortThenGlobalThenDefaults() {
        var p = FramingPolicy()
        #expect(p.spec(serverPort: 53) == .dnsTCP)
        #expect(p.spec(serverPort: 9005) == .lpjson(bigEndian: false))
        #expect(p.spec(serverPort: 8080) == .raw)
        do { let r = p.add("lp:2"); #expect(r == nil) }
        #expect(p.spec(serverPort: 8080) == .lengthPrefix(width: 2, bigEndian: true, adjust: 0))
        do { let r = p.add("8080=line"); #expect(r == nil) }
        #expect(p.spec(serverPort: 8080) == .line)
        do { let r = p.add("x=line"); #expect(r != nil) }
        do { let r = p.add("80=lp:7"); #expect(r != nil) }
    }
}

@Suite struct FramerTests {
    @Test func lengthPrefixAtEveryCut() {
        let stream = be32(3) + Array("abc".utf8) + be32(0) + be32(5) + Array("hello".utf8)
        for cut in 0 ... stream.count {
            let (lengths, f) = frame(.lengthPrefix(width: 4, bigEndian: true, adjust: 0), stream, cuts: [cut])
            #expect(lengths == [7, 4, 9], "cut at \(cut)")
            #expect(f.messageBytes == 0 && !f.isLost)
        }
    }

    @Test func lengthPrefixEveryWidthAndOrder() {
        for w in [1, 2, 4, 8] {
            for be in [true, false] {
                var prefix = [UInt8](repeating: 0, count: w)
                prefix[be ? w - 1 : 0] = 6
                let (lengths, _) = frame(.lengthPrefix(width: w, bigEndian: be, adjust: 0), prefix + Array("sixsix".utf8))
                #expect(lengths == [w + 6], "width \(w) be \(be)")
            }
        }
        // The length counts the prefix: lp:2-2.
        let (l, _) = frame(.lengthPrefix(width: 2, bigEndian: true, adjust: -2), [0, 5, 1, 2, 3])
        #expect(l == [5])
    }

    @Test func lyingLengthsLoseTheFramingWithoutAllocating() {
        let (l, f) = frame(.lengthPrefix(width: 4, bigEndian: true, adjust: 0), [0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3])
        #expect(l.isEmpty && f.isLost)
        #expect(f.lostReason?.contains("4294967280") == true)
        let (l8, f8) = frame(.lengthPrefix(width: 8, bigEndian: true, adjust: 0), [UInt8](repeating: 0xFF, count: 8))
        #expect(l8.isEmpty && f8.isLost)
        // Shorter than the adjustment.
        let (_, fa) = frame(.lengthPrefix(width: 2, bigEndian: true, adjust: -2), [0, 1])
        #expect(fa.isLost)
    }

    @Test func linesAndDelimiters() {
        let text = Array("one\ntwo\r\nthree".utf8)
        for cut in 0 ... text.count {
            let (l, f) = frame(.line, text, cuts: [cut])
            #expect(l == [4, 5], "cut \(cut)")
            #expect(f.endOfStream()?.bytes == 5)
        }
        let crlf = Array("a\r\nbb\r\n\r\n".utf8)
        for cut in 0 ... crlf.count {
            let (l, _) = frame(.delimiter([13, 10]), crlf, cuts: [cut])
            #expect(l == [3, 4, 2], "cut \(cut)")
        }
        // A line longer than the cap loses the framing.
        let (_, f) = frame(.line, [UInt8](repeating: 65, count: Framer.maxHeader + 10))
        #expect(f.isLost)
    }

    @Test func lpjsonBothByteOrders() {
        let header = Array(#"{"total_size": 5, "name": "x"}"#.utf8)
        let body = Array("hello".utf8)
        for be in [false, true] {
            let stream = (be ? be32(header.count) : le32(header.count)) + header + body
            for cut in 0 ... stream.count {
                let (l, f) = frame(.lpjson(bigEndian: be), stream + stream, cuts: [cut])
                #expect(l == [stream.count, stream.count], "be \(be) cut \(cut)")
                #expect(!f.isLost)
            }
        }
        // `size` and `length` are accepted too.
        let h2 = Array(#"{"length":2}"#.utf8)
        #expect(frame(.lpjson(bigEndian: false), le32(h2.count) + h2 + [1, 2]).lengths == [4 + h2.count + 2])
    }

    @Test func lpjsonLiesAreCaught() {
        // Negative header length (struct.pack('i', -1)).
        #expect(frame(.lpjson(bigEndian: false), [0xFF, 0xFF, 0xFF, 0xFF, 123]).framer.isLost)
        // Zero header length.
        #expect(frame(.lpjson(bigEndian: false), [0, 0, 0, 0]).framer.isLost)
        // Not JSON / no size / negative size.
        for h in ["hello", #"{"name": "x"}"#, #"{"total_size": -5}"#, #"{"total_size": "5"}"#] {
            let b = Array(h.utf8)
            #expect(frame(.lpjson(bigEndian: false), le32(b.count) + b + [0, 0]).framer.isLost, "\(h)")
        }
    }

    @Test func dnsOverTCPDecodesEachMessage() {
        // id 0x1234, RD, one question: example.com A IN.
        let q: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1]
        let stream = [UInt8(q.count >> 8), UInt8(q.count & 0xFF)] + q
        var f = Framer(.dnsTCP)
        var infos: [FramedMessageInfo] = []
        for cut in [0, 1, 2, 5, stream.count] {
            f = Framer(.dnsTCP)
            infos = []
            stream.withUnsafeBytes { raw in
                f.decode(UnsafeRawBufferPointer(rebasing: raw[0 ..< cut])) { infos.append($0.info) }
                f.decode(UnsafeRawBufferPointer(rebasing: raw[cut...])) { infos.append($0.info) }
            }
            #expect(infos.count == 1)
            #expect(infos.first?.dns?.id == 0x1234)
            #expect(infos.first?.dns?.questions.first?.name == "example.com")
        }
        // A length shorter than a DNS header is impossible.
        #expect(frame(.dnsTCP, [0, 3, 1, 2, 3]).framer.isLost)
    }

    @Test func skippedBytesInsideABodyKeepTheFraming() {
        var f = Framer(.lengthPrefix(width: 2, bigEndian: true, adjust: 0))
        var n = 0
        let head: [UInt8] = [0, 10, 1, 2]
        head.withUnsafeBytes { f.decode($0) { _ in n += 1 } }
        let kept = f.skip(6)
        #expect(kept)
        let tail: [UInt8] = [9, 10, 0, 1, 7]
        tail.withUnsafeBytes { f.decode($0) { _ in n += 1 } }
        #expect(n == 2 && !f.isLost)
        // Skipping into a header cannot be followed.
        let skipped = f.skip(3)
        #expect(!skipped)
        #expect(f.isLost)
        var g = Framer(.line)
        let g1 = g.skip(1)
        #expect(!g1)
    }

    @Test func randomBytesNeverTrap() {
        var rng = SystemRandomNumberGenerator()
        let specs: [FramingSpec] = [.lengthPrefix(width: 1, bigEndian: true, adjust: 0), .lengthPrefix(width: 2, bigEndian: false, adjust: -2),
                                    .lengthPrefix(width: 4, bigEndian: true, adjust: 3), .lengthPrefix(width: 8, bigEndian: false, adjust: 0),
                                    .line, .delimiter([13, 10]), .lpjson(bigEndian: false), .lpjson(bigEndian: true), .dnsTCP]
        for spec in specs {
            for _ in 0 ..< 200 {
                let bytes = (0 ..< Int.random(in: 0 ... 300, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
                let cuts = (0 ..< 3).map { _ in Int.random(in: 0 ... bytes.count, using: &rng) }
                let (lengths, f) = frame(spec, bytes, cuts: cuts)
                // Whatever happened, the messages found never exceed the bytes given.
                #expect(lengths.reduce(0, +) + f.messageBytes <= bytes.count)
            }
        }
    }
}
