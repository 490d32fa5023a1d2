import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// framed — the fix for 粘包: every message carries its own length.
///
/// A message is a 4-byte length (of the header), a JSON header `{"total_size": N, "name": "…"}`,
/// then N body bytes. The client sends commands (the body is the command line); the server answers
/// each with a message of the same shape (the body is the output). The server runs only an
/// allowlist of harmless built-in commands — never a shell: `date`, `uptime`, `echo WORDS`, `ls` (of a
/// demo directory it creates), `big N` (N bytes, so that one answer spans many segments). Anything
/// else is answered with name "error". The client reads exactly 4, then exactly the header, then
/// exactly total_size bytes, however many recv() calls that takes.
public enum FramedDemo {
    public static let defaultPort: UInt16 = 9005

    /// Byte order of the 4-byte length prefix. Python's `struct.pack('i', n)` is little-endian on x86.
    public enum Prefix: String, Sendable, CaseIterable { case be, le }

    /// The commands the server runs.
    public static let allowed = ["date", "uptime", "echo", "ls", "big"]
    /// `big N` is capped here.
    public static let bigLimit = 10_000_000
    /// Largest header either side accepts; a larger length usually means the two sides disagree on --prefix.
    public static let headerLimit = 64 * 1024
    /// Largest request body (a command line) the server accepts.
    public static let requestLimit = 64 * 1024

    public static let defaultCommands = ["date", "uptime", "echo hello, framed world", "ls", "big 100000", "cat /etc/passwd"]

    public struct Options: Sendable {
        public var common = DemoOptions()
        public var prefix: Prefix = .le
        /// The command lines the client sends, in order.
        public var commands = FramedDemo.defaultCommands
        public init() {}
    }

    /// One answer as the client reassembled it.
    public struct Answer: Sendable {
        public var command: String
        /// The header's "name": the command's name, or "error" when refused.
        public var name: String
        public var body: [UInt8]
        public var refused: Bool { name == "error" }
    }

    public struct Result: Sendable {
        /// What the client got back, one per command sent.
        public var answers: [Answer] = []
        /// The command lines the server received.
        public var commands: [String] = []
        public var transcript: [String] = []
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        var result = Result()
        let (served, got) = try DemoRunner.tcp(o.common, defaultPort: defaultPort, t,
                                               server: { (l) throws(DemoError) in try serve(l, o, t) },
                                               client: { (a) throws(DemoError) in try client(a, o, t) })
        if let served { result.commands = served }
        if let got { result.answers = got }
        result.transcript = t.all
        return result
    }

    // MARK: - The wire format

    /// The 4-byte length prefix in the chosen byte order (a signed 32-bit integer, as `struct.pack('i')`).
    public static func lengthPrefix(_ n: Int, _ p: Prefix) -> [UInt8] {
        let v = UInt32(truncatingIfNeeded: Int32(clamping: n))
        let be: [UInt8] = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        return p == .be ? be : be.reversed()
    }

    public static func decodeLength(_ b: [UInt8], _ p: Prefix) -> Int {
        let x = p == .be ? b : b.reversed()
        let v = UInt32(x[0]) << 24 | UInt32(x[1]) << 16 | UInt32(x[2]) << 8 | UInt32(x[3])
        return Int(Int32(bitPattern: v))
    }

    /// A whole message: prefix, header, body.
    public static func frame(name: String, body: [UInt8], _ p: Prefix) -> (prefix: [UInt8], header: [UInt8], bytes: [UInt8]) {
        let header = Array(JSONHeader.encode(totalSize: body.count, name: name).utf8)
        let prefix = lengthPrefix(header.count, p)
        return (prefix, header, prefix + header + body)
    }

    /// Reads one message; nil at a clean end of stream before the first byte. Counts recv() calls.
    static func readFrame(_ conn: TCPConnection, _ p: Prefix, bodyLimit: Int,
                          who: String) throws(DemoError) -> (header: JSONHeader, body: [UInt8], recvs: Int)? {
        var recvs = 0
        func exactly(_ n: Int, _ what: String) throws(DemoError) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(n)
            while out.count < n {
                guard let chunk = try conn.receive(max: min(n - out.count, 1 << 20)) else {
                    throw DemoError("\(who): recv() timed out in the middle of the \(what)")
                }
                recvs += 1
                if chunk.isEmpty {
                    throw DemoError("\(who): the stream ended after \(out.count) of \(n) bytes of the \(what)")
                }
                out += chunk
            }
            return out
        }
        guard let first = try conn.receive(max: 4) else { throw DemoError("\(who): recv() timed out waiting for a message") }
        if first.isEmpty { return nil }
        recvs = 1
        let prefix = first.count == 4 ? first : first + (try exactly(4 - first.count, "length prefix"))
        let hlen = decodeLength(prefix, p)
        guard hlen > 0, hlen <= headerLimit else {
            throw DemoError("\(who): header length \(hlen) (prefix bytes \(hex(prefix))) is impossible — do both sides use the same --prefix?")
        }
        let headerBytes = try exactly(hlen, "header")
        guard let header = JSONHeader.decode(headerBytes) else {
            throw DemoError("\(who): the header is not the JSON object expected: \(DemoTranscript.show(headerBytes))")
        }
        guard header.totalSize >= 0, header.totalSize <= bodyLimit else {
            throw DemoError("\(who): total_size \(header.totalSize) is over the limit of \(bodyLimit) bytes")
        }
        let body = try exactly(header.totalSize, "body")
        return (header, body, recvs)
    }

    static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return b.map { String(digits[Int($0 >> 4)]) + String(digits[Int($0 & 15)]) }.joined(separator: " ")
    }

    // MARK: - The server

    static func serve(_ listener: TCPListener, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> [String] {
        let dir = try DemoDirectory(prefix: "netinspect-framed", files: [
            ("readme.txt", Array("This directory is what the framed demo's `ls` lists.\n".utf8)),
            ("notes.txt", Array("length prefix, JSON header, body: the receiver always knows where a message ends\n".utf8)),
            ("numbers.txt", Array((1 ... 100).map { "\($0)\n" }.joined().utf8)),
        ])
        defer { dir.remove() }
        t.say("server", t.words(.frAllowlist, ["list": allowed.joined(separator: ", "), "dir": dir.path]))
        guard let conn = try listener.accept(timeout: o.common.timeout, connectionTimeout: o.common.timeout) else {
            t.say("server", t.words(.demoNoClient, ["s": "\(Int(o.common.timeout))"]))
            return []
        }
        t.say("server", t.words(.demoAccepted, ["peer": "\(conn.peer)"]))
        var commands: [String] = []
        while true {
            guard let m = try readFrame(conn, o.prefix, bodyLimit: requestLimit, who: "server") else {
                t.say("server", t.words(.demoClientClosed))
                break
            }
            let (header, body, recvs) = (m.header, m.body, m.recvs)
            let line = String(decoding: body, as: UTF8.self)
            commands.append(line)
            t.say("server", t.words(.frMessageIn, ["k": "\(recvs)", "size": "\(header.totalSize)", "name": DemoTranscript.show(Array(header.name.utf8)),
                                                "body": DemoTranscript.show(body)]))
            let (name, output) = execute(line, dir: dir.path)
            let f = frame(name: name, body: output, o.prefix)
            let sentAt = DemoClock.now()
            try conn.send(f.bytes)
            if name == "error" {
                t.say("server", t.words(.frRefused, ["output": DemoTranscript.show(output), "n": "\(f.bytes.count)"]), at: sentAt)
            } else {
                t.say("server", t.words(.frSentFrame, ["n": "\(f.bytes.count)", "h": "\(f.header.count)", "prefix": o.prefix.rawValue, "hex": hex(f.prefix),
                                                    "header": DemoTranscript.show(f.header), "b": "\(output.count)"]), at: sentAt)
            }
        }
        conn.close()
        return commands
    }

    /// Runs one allowlisted command: (header name, output). Never a shell, never a file outside `dir`.
    static func execute(_ line: String, dir: String) -> (String, [UInt8]) {
        let trimmed = line.drop { $0 == " " }
        let word = String(trimmed.prefix { $0 != " " })
        let rest = String(trimmed.dropFirst(word.count).drop { $0 == " " })
        switch word {
        case "date" where rest.isEmpty:
            var now = time(nil)
            var tm = tm()
            gmtime_r(&now, &tm)
            var buf = [CChar](repeating: 0, count: 64)
            let n = strftime(&buf, buf.count, "%a %b %e %H:%M:%S UTC %Y", &tm)
            return ("date", Array(buf.prefix(n).map { UInt8(bitPattern: $0) }) + [10])
        case "uptime" where rest.isEmpty:
            guard let raw = readWholeFile("/proc/uptime"),
                  let secs = Double(String(decoding: raw.prefix { $0 != 32 && $0 != 10 }, as: UTF8.self)) else {
                return ("error", Array("uptime: /proc/uptime is not readable\n".utf8))
            }
            let s = Int(secs)
            return ("uptime", Array("up \(s / 86400) days, \(s % 86400 / 3600) h \(s % 3600 / 60) min (\(s) s)\n".utf8))
        case "echo":
            return ("echo", Array((rest + "\n").utf8))
        case "ls" where rest.isEmpty:
            return ("ls", Array(DemoDirectory.listing(dir).utf8))
        case "big":
            guard let n = Int(rest), n >= 0 else { return ("error", Array("usage: big N (a number of bytes)\n".utf8)) }
            guard n <= bigLimit else { return ("error", Array("big: at most \(bigLimit) bytes\n".utf8)) }
            return ("big", bigBody(n))
        default:
            let what = word.isEmpty ? "an empty command" : "'\(word)'"
            return ("error", Array("refused: \(what) is not an allowed command (allowed: \(allowed.joined(separator: ", ")); no arguments except for echo and big)\n".utf8))
        }
    }

    /// `big N`'s output: numbered 64-byte lines ("big 0000001 ABCD…\n"), cut at N bytes.
    public static func bigBody(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n + 64)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-+".utf8)
        var line = 1
        while out.count < n {
            var num = Array(String(line).utf8)
            while num.count < 7 { num.insert(UInt8(ascii: "0"), at: 0) }
            let head = Array("big ".utf8) + num + [32]
            out += head
            out += letters.prefix(63 - head.count)
            out.append(10)
            line += 1
        }
        out.removeLast(out.count - n)
        return out
    }

    // MARK: - The client

    static func client(_ address: SocketAddress, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> [Answer] {
        let conn = try TCPConnection.connect(to: address, timeout: o.common.timeout)
        t.say("client", t.words(.frConnected, ["address": "\(address)", "endian": t.words(o.prefix == .le ? .frLittle : .frBig)]))
        var answers: [Answer] = []
        for command in o.commands {
            let f = frame(name: "command", body: Array(command.utf8), o.prefix)
            let sentAt = DemoClock.now()
            try conn.send(f.bytes)
            t.say("client", t.words(.frSentCommand, ["n": "\(f.bytes.count)", "h": "\(f.header.count)", "hex": hex(f.prefix),
                                                "header": DemoTranscript.show(f.header), "body": DemoTranscript.show(Array(command.utf8))]), at: sentAt)
            guard let m = try readFrame(conn, o.prefix, bodyLimit: bigLimit + 4096, who: "client") else {
                t.say("client", t.words(.frServerClosedEarly))
                break
            }
            let (header, body, recvs) = (m.header, m.body, m.recvs)
            answers.append(Answer(command: command, name: header.name, body: body))
            let what = t.words(header.name == "error" ? .frErrorAnswer : .frAnswer)
            t.say("client", t.words(.frReassembled, ["what": what, "k": "\(recvs)", "size": "\(header.totalSize)",
                                                    "name": DemoTranscript.show(Array(header.name.utf8)), "body": DemoTranscript.show(body, limit: 160)]))
        }
        t.say("client", t.words(.frClientCloses))
        conn.close()
        return answers
    }
}

/// The header `{"total_size": N, "name": "…"}`: a tiny hand-written JSON encoder and decoder for one
/// flat object (string and integer values; other members are skipped).
public struct JSONHeader: Sendable, Equatable {
    public var totalSize: Int
    public var name: String

    public static func encode(totalSize: Int, name: String) -> String {
        "{\"total_size\": \(totalSize), \"name\": \(quote(name))}"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = Array("0123456789abcdef")
                out += "\\u00" + String(hex[Int(u.value >> 4)]) + String(hex[Int(u.value & 15)])
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Parses the header; nil unless it is one JSON object with an integer "total_size" and a string "name".
    public static func decode(_ bytes: [UInt8]) -> JSONHeader? {
        var p = Parser(b: bytes)
        guard let members = p.object(), p.atEnd() else { return nil }
        var size: Int?
        var name: String?
        for (k, v) in members {
            switch (k, v) {
            case ("total_size", .int(let n)): size = n
            case ("name", .string(let s)): name = s
            default: break
            }
        }
        guard let size, let name else { return nil }
        return JSONHeader(totalSize: size, name: name)
    }

    enum Value { case int(Int), string(String), other }

    struct Parser {
        let b: [UInt8]
        var i = 0

        mutating func ws() { while i < b.count, [32, 9, 10, 13].contains(b[i]) { i += 1 } }
        mutating func atEnd() -> Bool { ws(); return i == b.count }
        mutating func eat(_ c: UInt8) -> Bool {
            ws()
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }

        mutating func object() -> [(String, Value)]? {
            guard eat(UInt8(ascii: "{")) else { return nil }
            var out: [(String, Value)] = []
            if eat(UInt8(ascii: "}")) { return out }
            repeat {
                ws()
                guard let k = string(), eat(UInt8(ascii: ":")), let v = value() else { return nil }
                out.append((k, v))
            } while eat(UInt8(ascii: ","))
            return eat(UInt8(ascii: "}")) ? out : nil
        }

        mutating func value() -> Value? {
            ws()
            guard i < b.count else { return nil }
            switch b[i] {
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"):
                let start = i
                if b[i] == UInt8(ascii: "-") { i += 1 }
                while i < b.count, (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(b[i]) { i += 1 }
                guard let n = Int(String(decoding: b[start ..< i], as: UTF8.self)) else { return nil }
                if i < b.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(b[i]) { return nil }
                return .int(n)
            default:
                for word in ["true", "false", "null"] {
                    let w = Array(word.utf8)
                    if b.count - i >= w.count, Array(b[i ..< i + w.count]) == w { i += w.count; return .other }
                }
                return nil
            }
        }

        mutating func string() -> String? {
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            var raw: [UInt8] = []
            while i < b.count {
                let c = b[i]
                i += 1
                switch c {
                case UInt8(ascii: "\""): return String(validating: raw, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard i < b.count else { return nil }
                    let e = b[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): raw.append(e)
                    case UInt8(ascii: "n"): raw.append(10)
                    case UInt8(ascii: "r"): raw.append(13)
                    case UInt8(ascii: "t"): raw.append(9)
                    case UInt8(ascii: "b"): raw.append(8)
                    case UInt8(ascii: "f"): raw.append(12)
                    case UInt8(ascii: "u"):
                        guard let u = hex4() else { return nil }
                        var scalar: UInt32 = u
                        if (0xD800 ..< 0xDC00).contains(u) {
                            guard b.count - i >= 2, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { return nil }
                            i += 2
                            guard let lo = hex4(), (0xDC00 ..< 0xE000).contains(lo) else { return nil }
                            scalar = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        guard let s = Unicode.Scalar(scalar) else { return nil }
                        raw += Array(String(Character(s)).utf8)
                    default: return nil
                    }
                case 0 ..< 0x20: return nil
                default: raw.append(c)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard b.count - i >= 4 else { return nil }
            var v: UInt32 = 0
            for _ in 0 ..< 4 {
                let c = b[i]
                i += 1
                switch c {
                case UInt8(ascii: "0") ... UInt8(ascii: "9"): v = v << 4 | UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a") ... UInt8(ascii: "f"): v = v << 4 | UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A") ... UInt8(ascii: "F"): v = v << 4 | UInt32(c - UInt8(ascii: "A") + 10)
                default: return nil
                }
            }
            return v
        }
    }
}
