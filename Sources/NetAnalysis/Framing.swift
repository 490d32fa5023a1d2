import NetWire

/// How application messages are delimited inside one direction of a TCP stream (`--framing`).
public enum FramingSpec: Hashable, Sendable {
    /// An N-byte (1, 2, 4, 8) length prefix; the body is `value + adjust` bytes (a negative
    /// `adjust` of −N when the length counts the prefix itself).
    case lengthPrefix(width: Int, bigEndian: Bool, adjust: Int)
    /// Lines ending in `\n` (a `\r\n` ending is part of the line).
    case line
    /// Messages ending with these bytes.
    case delimiter([UInt8])
    /// The course protocol: a 4-byte signed header length, a JSON header holding `total_size`
    /// (or `size` / `length`), then that many body bytes.
    case lpjson(bigEndian: Bool)
    /// DNS over TCP: a 2-byte big-endian length, each message decoded as DNS.
    case dnsTCP
    /// No framing, no message notes.
    case raw
    /// Try the length-prefix framers and `line` on each direction; keep one that parses the stream.
    case auto

    /// Parses `lp:4`, `lp:2:le`, `lp:4:be+4`, `lp:2-2`, `line`, `delim:\r\n`, `delim:0x00ff`,
    /// `lpjson`, `lpjson:be`, `dns-tcp`, `raw`, `auto`.
    public init?(parsing text: String) {
        let s = text.lowercased()
        switch s {
        case "line", "lines": self = .line; return
        case "lpjson", "lpjson:le": self = .lpjson(bigEndian: false); return
        case "lpjson:be": self = .lpjson(bigEndian: true); return
        case "dns-tcp", "dns": self = .dnsTCP; return
        case "raw", "none": self = .raw; return
        case "auto": self = .auto; return
        default: break
        }
        if text.hasPrefix("delim:") {
            guard let bytes = Self.delimiterBytes(String(text.dropFirst(6))), !bytes.isEmpty, bytes.count <= 16 else { return nil }
            self = .delimiter(bytes)
            return
        }
        guard s.hasPrefix("lp:") else { return nil }
        var rest = Substring(s.dropFirst(3))
        var adjust = 0
        if let sign = rest.firstIndex(where: { $0 == "+" || $0 == "-" }) {
            // Digits only (Int() would take a second sign: "lp:4--9223372036854775808").
            let digits = rest[rest.index(after: sign)...]
            guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let k = Int(digits), k <= 1 << 20 else {
                return nil
            }
            adjust = rest[sign] == "-" ? -k : k
            rest = rest[..<sign]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard let first = parts.first, let width = Int(first), [1, 2, 4, 8].contains(width), parts.count <= 2 else { return nil }
        var bigEndian = true
        if parts.count == 2 {
            switch parts[1] {
            case "be": bigEndian = true
            case "le": bigEndian = false
            default: return nil
            }
        }
        self = .lengthPrefix(width: width, bigEndian: bigEndian, adjust: adjust)
    }

    /// The spec in the form it is written (`lp:4:be`, `lpjson`, `delim:\r\n` …).
    public var name: String {
        switch self {
        case .lengthPrefix(let w, let be, let adjust):
            return "lp:\(w):\(be ? "be" : "le")" + (adjust > 0 ? "+\(adjust)" : adjust < 0 ? "\(adjust)" : "")
        case .line: return "line"
        case .delimiter(let bytes):
            var s = "delim:"
            for b in bytes {
                switch b {
                case 10: s += "\\n"
                case 13: s += "\\r"
                case 9: s += "\\t"
                case 92: s += "\\\\"
                case 0x21 ... 0x7E: s += String(UnicodeScalar(b))
                default: s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
                }
            }
            return s
        case .lpjson(let be): return be ? "lpjson:be" : "lpjson"
        case .dnsTCP: return "dns-tcp"
        case .raw: return "raw"
        case .auto: return "auto"
        }
    }

    /// `\r\n`, `\x00`, `|`, or `0x0d0a`.
    static func delimiterBytes(_ t: String) -> [UInt8]? {
        let u = Array(t.utf8)
        if u.count > 2 && u[0] == 48 && (u[1] == 120 || u[1] == 88) {
            let hex = u[2...]
            guard hex.count % 2 == 0 else { return nil }
            var out: [UInt8] = []
            var i = hex.startIndex
            while i < hex.endIndex {
                guard let hi = hexValue(hex[i]), let lo = hexValue(hex[i + 1]) else { return nil }
                out.append(hi << 4 | lo)
                i += 2
            }
            return out
        }
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == 92 && i + 1 < u.count {
                switch u[i + 1] {
                case 110: out.append(10); i += 2
                case 114: out.append(13); i += 2
                case 116: out.append(9); i += 2
                case 48: out.append(0); i += 2
                case 92: out.append(92); i += 2
                case 120:
                    guard i + 3 < u.count, let hi = hexValue(u[i + 2]), let lo = hexValue(u[i + 3]) else { return nil }
                    out.append(hi << 4 | lo); i += 4
                default: return nil
                }
            } else {
                out.append(u[i]); i += 1
            }
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48 ... 57: c - 48
        case 97 ... 102: c - 87
        case 65 ... 70: c - 55
        default: nil
        }
    }
}

/// What a framer knows about one message when it completes (or, for the current one, so far).
public struct FramedMessageInfo: Sendable {
    /// The lpjson header text (bounded), for display.
    public var jsonHeader: String?
    /// The decoded DNS message of a dns-tcp message (boxed: an unboxed optional DNS message costs
    /// a multi-field copy and destroy on every completed message of every framing).
    var dnsBox: DNSBox?
    /// Neither a header nor a DNS decode.
    var isEmpty: Bool { jsonHeader == nil && dnsBox == nil }
    public var dns: DNSMessage? {
        get { dnsBox?.message }
        set { dnsBox = newValue.map(DNSBox.init) }
    }
}

final class DNSBox: Sendable {
    let message: DNSMessage
    init(_ m: DNSMessage) { message = m }
}

/// One direction's message framer: a small state machine fed the stream's bytes in order, in
/// pieces of any size (swift-nio's ByteToMessageDecoder shape: `decode` consumes what it can and
/// reports boundaries; `endOfStream` says what was left). Only headers (and dns-tcp messages, at
/// most 65,535 bytes) are kept; bodies are counted, never stored, so a lying length costs nothing.
public struct Framer: Sendable {
    public let spec: FramingSpec
    /// Largest message accepted; a larger declared length loses the framing instead of waiting.
    public var maxMessage: Int
    /// A length prefix announcing an empty body loses the framing (`auto`: a 4-byte prefix read
    /// as two 2-byte ones gives `00 00` lengths).
    public var rejectEmpty = false
    /// Largest lpjson header and longest line / delimited message.
    public static let maxHeader = 64 * 1024

    enum Phase: Sendable, Equatable {
        /// Collecting the length prefix (or lpjson's header, or a dns-tcp message) into `held`.
        case header
        /// Counting `remaining` body bytes.
        case body
        /// Scanning for the delimiter.
        case scan
        case lost
    }

    var phase: Phase
    var held: [UInt8] = []
    /// Bytes `held` must reach before the header (or dns-tcp message) is complete.
    var want: Int
    var remaining = 0
    /// Bytes of the current message seen so far (0: between messages).
    public private(set) var messageBytes = 0
    /// The current message's full length, once known.
    public private(set) var messageLength: Int?
    var delimiterMatched = 0
    let delimiter: [UInt8]
    /// For each matched prefix length k+1 of the delimiter, the longest proper prefix that is also
    /// a suffix of it (the KMP failure function).
    let delimiterFallback: [Int]
    var info = FramedMessageInfo()
    /// Why the framing was lost.
    public private(set) var lostReason: String?

    static let newline: [UInt8] = [10]

    public init(_ spec: FramingSpec, maxMessage: Int = 64 << 20) {
        self.spec = spec
        self.maxMessage = max(maxMessage, 0)
        if case .delimiter(let d) = spec { delimiter = d } else { delimiter = Self.newline }
        delimiterFallback = Self.fallback(delimiter)
        switch spec {
        case .lengthPrefix(let w, _, _):
            // A width the parser would refuse (the spec is public): nothing can be framed with it.
            phase = [1, 2, 4, 8].contains(w) ? .header : .lost
            want = phase == .lost ? 0 : w
            if phase == .lost { lostReason = "a length prefix of \(w) bytes is not supported" }
        case .lpjson: phase = .header; want = 4
        case .dnsTCP: phase = .header; want = 2
        case .line: phase = .scan; want = 0
        case .delimiter(let d): phase = d.isEmpty ? .lost : .scan; want = 0  // an empty delimiter frames nothing
        case .raw, .auto: phase = .lost; want = 0
        }
    }

    public var isLost: Bool { phase == .lost }

    static func fallback(_ d: [UInt8]) -> [Int] {
        var f = [Int](repeating: 0, count: d.count)
        var k = 0
        var i = 1
        while i < d.count {
            while k > 0 && d[i] != d[k] { k = f[k - 1] }
            if d[i] == d[k] { k += 1 }
            f[i] = k
            i += 1
        }
        return f
    }

    /// A boundary event while decoding: a message ended `at` this many bytes into the piece.
    public struct Completed: Sendable {
        public var end: Int
        public var length: Int
        public var info: FramedMessageInfo
    }

    /// Consumes `bytes` (the next bytes of the stream); calls `completed` for every message that
    /// ends inside them. Stops (and sets `lostReason`) when the stream cannot be this framing.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, completed: (Completed) -> Void) {
        var done: [Completed] = []
        decode(bytes, into: &done)
        for c in done { completed(c) }
    }

    /// `decode`, appending the messages that end inside `bytes` to `completed`.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, into completed: inout [Completed]) {
        var i = 0
        let n = bytes.count
        while i < n {
            switch phase {
            case .lost:
                return
            case .header:
                let take = min(want - held.count, n - i)
                held.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i ..< i + take]))
                i += take
                messageBytes += take
                if held.count == want {
                    headerComplete()
                    if phase == .header && held.count == want {
                        // A dns-tcp message (or a zero-length body) is complete right here.
                        finishMessage(at: i, &completed)
                    }
                    if phase == .body && remaining == 0 { finishMessage(at: i, &completed) }
                }
            case .body:
                let take = min(remaining, n - i)
                remaining -= take
                i += take
                messageBytes += take
                if remaining == 0 { finishMessage(at: i, &completed) }
            case .scan:
                let delim = delimiter
                if delim.count == 1 && delimiterMatched == 0 {
                    // One-byte delimiter: memchr-speed search for it.
                    let rest = UnsafeRawBufferPointer(rebasing: bytes[i ..< n])
                    if let k = rest.firstIndex(of: delim[0]) {
                        let len = k - rest.startIndex + 1
                        i += len
                        messageBytes += len
                        if messageBytes > Self.maxHeader {
                            lose("no delimiter within \(Self.maxHeader) bytes")
                            return
                        }
                        finishMessage(at: i, &completed)
                    } else {
                        messageBytes += n - i
                        i = n
                        if messageBytes > Self.maxHeader {
                            lose("no delimiter within \(Self.maxHeader) bytes")
                            return
                        }
                    }
                    continue
                }
                while i < n {
                    let b = bytes[i]
                    i += 1
                    messageBytes += 1
                    // Knuth–Morris–Pratt: on a mismatch fall back to the longest matched prefix that
                    // is also a suffix (`abac` in `ababac`, `aab` in `aaab`).
                    while delimiterMatched > 0 && b != delim[delimiterMatched] {
                        delimiterMatched = delimiterFallback[delimiterMatched - 1]
                    }
                    if b == delim[delimiterMatched] {
                        delimiterMatched += 1
                        if delimiterMatched == delim.count {
                            delimiterMatched = 0
                            finishMessage(at: i, &completed)
                            break
                        }
                    }
                    if messageBytes > Self.maxHeader {
                        lose("no delimiter within \(Self.maxHeader) bytes")
                        return
                    }
                }
            }
        }
    }

    /// `count` bytes the capture does not have (a gap, or payload cut by the snapshot length):
    /// a length-prefixed body can skip them; anything else loses the framing.
    public mutating func skip(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        if phase == .body && count <= remaining && spec != .dnsTCP {
            remaining -= count
            messageBytes += count
            return true
        }
        if phase != .lost { lose("\(count) bytes missing from the stream") }
        return false
    }

    /// What is left at the end of the stream: a message cut short (bytes seen, length if known).
    public func endOfStream() -> (bytes: Int, length: Int?)? {
        messageBytes > 0 && phase != .lost ? (messageBytes, messageLength) : nil
    }


    mutating func lose(_ why: String) {
        phase = .lost
        lostReason = why
        held = []
    }

    mutating func headerComplete() {
        switch spec {
        case .lengthPrefix(let w, let be, let adjust):
            var v: UInt64 = 0
            for k in 0 ..< w {
                let b = UInt64(held[be ? k : w - 1 - k])
                v = v << 8 | b
            }
            guard v <= UInt64(max(maxMessage, 0)) else {
                lose("length \(v) over the \(maxMessage >> 20) MiB limit")
                return
            }
            // v ≤ maxMessage (64 MiB by default) and a parsed adjust is within ±1 MiB; checked all
            // the same, since the spec is a public value.
            let (body, over) = Int(v).addingReportingOverflow(adjust)
            guard !over else {
                lose("length \(v) with the adjustment \(adjust) does not fit")
                return
            }
            guard body >= 0 else {
                lose("length \(v) is shorter than the prefix adjustment")
                return
            }
            if rejectEmpty && body == 0 {
                lose("empty message")
                return
            }
            remaining = body
            messageLength = w &+ body  // w ≤ 8 and body ≤ maxMessage + adjust
            phase = .body
        case .lpjson(let be):
            if held.count == 4 {
                let raw = be ? UInt32(held[0]) << 24 | UInt32(held[1]) << 16 | UInt32(held[2]) << 8 | UInt32(held[3])
                    : UInt32(held[3]) << 24 | UInt32(held[2]) << 16 | UInt32(held[1]) << 8 | UInt32(held[0])
                let hlen = Int(Int32(bitPattern: raw))
                guard hlen > 0, hlen <= Self.maxHeader else {
                    lose("header length \(hlen) is impossible")
                    return
                }
                want = 4 + hlen
                return
            }
            let header = Array(held[4...])
            guard let size = JSONHeaderScan.size(header) else {
                lose("the header is not a JSON object with total_size")
                return
            }
            guard size >= 0, size <= maxMessage else {
                lose("total_size \(size) is impossible")
                return
            }
            info.jsonHeader = JSONHeaderScan.preview(header)
            remaining = size
            messageLength = held.count + size
            phase = .body
        case .dnsTCP:
            if held.count == 2 {
                let len = Int(held[0]) << 8 | Int(held[1])
                guard len >= 12 else {
                    lose("DNS length \(len) is shorter than a DNS header")
                    return
                }
                want = 2 + len
                messageLength = want
                return
            }
            var msg = DNSMessage()
            held.withUnsafeBytes { all in
                let body = UnsafeRawBufferPointer(rebasing: all[2...])
                do throws(DecodeError) {
                    try DNSDecoder.decode(ByteReader(wholeMessage: body, layer: .dns), declaredLength: body.count, into: &msg)
                } catch {
                    msg.messageError = error
                }
            }
            info.dns = msg
        case .line, .delimiter, .raw, .auto:
            break
        }
    }

    mutating func finishMessage(at end: Int, _ completed: inout [Completed]) {
        let done = Completed(end: end, length: messageBytes, info: info)
        messageBytes = 0
        messageLength = nil
        info = FramedMessageInfo()
        remaining = 0
        if !held.isEmpty { held.removeAll(keepingCapacity: true) }
        switch spec {
        case .lengthPrefix(let w, _, _):
            // A width the parser would refuse (the spec is public): nothing can be framed with it.
            phase = [1, 2, 4, 8].contains(w) ? .header : .lost
            want = phase == .lost ? 0 : w
            if phase == .lost { lostReason = "a length prefix of \(w) bytes is not supported" }
        case .lpjson: phase = .header; want = 4
        case .dnsTCP: phase = .header; want = 2
        default: phase = .scan
        }
        completed.append(done)
    }

    /// The current message's lpjson header, once read.
    public var currentHeader: String? { info.jsonHeader }

}

/// Just enough JSON to read the course header: the integer value of `total_size`, `size` or
/// `length` in a flat object. Bounded by the header length; never recursive.
enum JSONHeaderScan {
    static func size(_ h: [UInt8]) -> Int? {
        guard let open = h.firstIndex(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }), h[open] == 123 else { return nil }
        for key in ["total_size", "size", "length"] {
            if let v = value(of: key, in: h) { return v }
        }
        return nil
    }

    static func value(of key: String, in h: [UInt8]) -> Int? {
        let k = Array("\"\(key)\"".utf8)
        guard h.count >= k.count else { return nil }
        var i = 0
        while i + k.count <= h.count {
            if h[i] == 34 && Array(h[i ..< i + k.count]) == k {
                var j = i + k.count
                while j < h.count && (h[j] == 32 || h[j] == 9) { j += 1 }
                guard j < h.count, h[j] == 58 else { i += 1; continue }
                j += 1
                while j < h.count && (h[j] == 32 || h[j] == 9) { j += 1 }
                var negative = false
                if j < h.count && h[j] == 45 { negative = true; j += 1 }
                var v = 0
                var digits = 0
                while j < h.count, h[j] >= 48, h[j] <= 57, digits < 18 {
                    v = v * 10 + Int(h[j] - 48)
                    digits += 1
                    j += 1
                }
                guard digits > 0 else { return nil }
                return negative ? -v : v
            }
            i += 1
        }
        return nil
    }

    /// The header as printable text, at most 200 characters.
    static func preview(_ h: [UInt8]) -> String {
        var s = ""
        for b in h.prefix(200) {
            s.unicodeScalars.append(b >= 0x20 && b < 0x7F ? UnicodeScalar(b) : ".")
        }
        if h.count > 200 { s += "…" }
        return s
    }
}
