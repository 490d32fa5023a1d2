import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// chat — the TCP chat loop of the socket course: the client sends a line it reads, the server
/// prints it and answers with a line it reads, and so on. Empty lines are refused (never sent).
/// The server loops over clients (SO_REUSEADDR, so it can restart at once): when a client vanishes
/// abruptly (RST → ECONNRESET) or leaves (FIN → recv() returns 0), it serves the next one.
///
/// Lines come from standard input in two terminals, or from a script (`--script FILE`, and a
/// built-in one in all-in-one mode). A script line `client: TEXT` or `server: TEXT` is for that side
/// only, any other line for both. A client line `/quit` closes normally (FIN), `/vanish` leaves
/// abruptly (SO_LINGER 0 + close → RST); in all-in-one mode the following client lines are then
/// sent by a new client.
///
/// On the wire: per client a handshake, one data segment each way per turn, and either the FIN
/// teardown or a single RST.
public enum ChatDemo {
    public static let defaultPort: UInt16 = 9002

    /// The conversation all-in-one mode plays without `--script`.
    public static let defaultScript = [
        "client: hello, server",
        "server: hello, client",
        "client:",
        "client: how are you?",
        "server: fine, thanks",
        "client: /vanish",
        "client: I am the second client",
        "server: welcome!",
    ]

    public struct Options: Sendable {
        public var common = DemoOptions()
        /// Script lines (see the type's documentation); nil reads standard input, except in
        /// all-in-one mode, which then plays `defaultScript`.
        public var script: [String]?
        /// The server exits after this many clients.
        public var maxClients = 2
        public init() {}
    }

    public struct Result: Sendable {
        /// Per client the server accepted, the lines it received (without the newline).
        public var serverReceived: [[String]]
        /// The replies the client(s) received (without the newline).
        public var clientReceived: [String]
        /// How many clients the server accepted.
        public var clientsServed: Int
        /// How many of them vanished with a reset (the server's recv() failed with ECONNRESET).
        public var clientsReset: Int
        /// How many empty lines were refused, on both sides.
        public var refused: Int
        public var transcript: [String]
    }

    /// A script file's lines (a final newline does not add an empty line; CR before LF is dropped).
    public static func readScript(path: String) throws(DemoError) -> [String] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DemoError.errno("--script \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DemoError.errno("--script \(path)")
            }
            if n == 0 { break }
            bytes += buf.prefix(n)
            if bytes.count > 1 << 20 { throw DemoError("--script \(path): larger than 1 MiB") }
        }
        return scriptLines(String(decoding: bytes, as: UTF8.self))
    }

    public static func scriptLines(_ text: String) -> [String] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The lines of `script` meant for `side` ("client" or "server").
    static func lines(of script: [String], for side: String) -> [String] {
        script.compactMap { line in
            for who in ["client", "server"] where line.hasPrefix(who + ":") {
                guard who == side else { return nil }
                let rest = line.dropFirst(who.count + 1)
                return String(rest.hasPrefix(" ") ? rest.dropFirst() : rest)
            }
            return line
        }
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        var result = Result(serverReceived: [], clientReceived: [], clientsServed: 0, clientsReset: 0, refused: 0, transcript: [])
        let maxClients = max(1, o.maxClients)
        switch o.common.role {
        case .server:
            let listener = try TCPListener(host: o.common.host, port: o.common.port(default: defaultPort))
            t.say("server", t.words(.chatListening, ["address": "\(listener.address)"]))
            let input = makeInput(o, side: "server", t)
            let capture = try DemoRunner.startCapture(o.common, ports: [listener.address.port])
            let s = try serve(listener, clients: maxClients, input, o, t)
            capture?.stop()
            result.apply(server: s)
        case .client:
            let input = makeInput(o, side: "client", t)
            let address = try SocketAddress(host: o.common.host, port: o.common.port(default: defaultPort))
            let capture = try DemoRunner.startCapture(o.common, ports: [address.port])
            let c = try clients(address, sessions: 1, input, o, t)
            capture?.stop()
            result.apply(client: c)
        case .both:
            let script: [String]
            if let s = o.script {
                script = s
            } else {
                script = defaultScript
                t.say("chat", t.words(.chatBuiltIn))
            }
            let clientInput = LineInput(lines: lines(of: script, for: "client"))
            let serverInput = LineInput(lines: lines(of: script, for: "server"))
            // The server waits for exactly as many clients as the script brings (then it ends).
            let sessions = min(maxClients, plannedSessions(lines(of: script, for: "client")))
            let listener = try TCPListener(host: o.common.host, port: o.common.port(default: defaultPort))
            t.say("server", t.words(.chatListening, ["address": "\(listener.address)"]))
            let capture = try DemoRunner.startCapture(o.common, ports: [listener.address.port])
            let (s, c) = try DemoRunner.both(
                server: { () throws(DemoError) in try serve(listener, clients: sessions, serverInput, o, t) },
                client: { () throws(DemoError) in try clients(listener.address, sessions: sessions, clientInput, o, t) })
            capture?.stop()
            result.apply(server: s)
            result.apply(client: c)
        }
        result.transcript = t.all
        return result
    }

    static func makeInput(_ o: Options, side: String, _ t: DemoTranscript) -> LineInput {
        if let script = o.script { return LineInput(lines: lines(of: script, for: side)) }
        t.say(side, t.words(side == "client" ? .chatTypeClient : .chatTypeServer))
        return LineInput(stdinTimeout: o.common.timeout)
    }

    /// How many client connections a script's client lines make (each /quit or /vanish followed by
    /// more lines starts another).
    static func plannedSessions(_ clientLines: [String]) -> Int {
        var n = 1
        for (i, line) in clientLines.enumerated() where (line == "/quit" || line == "/vanish") && i + 1 < clientLines.count {
            n += 1
        }
        return n
    }

    // MARK: server

    struct ServerOutcome {
        var received: [[String]] = []
        var served = 0
        var resets = 0
        var refused = 0
    }

    static func serve(_ listener: TCPListener, clients: Int, _ input: LineInput, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> ServerOutcome {
        var out = ServerOutcome()
        var inputEnded = false
        while out.served < clients && !inputEnded {
            guard let conn = try listener.accept(timeout: o.common.timeout, connectionTimeout: o.common.timeout) else {
                t.say("server", t.words(.demoNoClient, ["s": "\(Int(o.common.timeout))"]))
                break
            }
            out.served += 1
            let n = out.served
            out.received.append([])
            t.say("server", t.words(.chatAccepted, ["n": "\(n)", "peer": "\(conn.peer)"]))
            var reader = LineReader()
            conversation: while true {
                let got: LineReader.Read
                do throws(DemoError) {
                    got = try reader.next(conn)
                } catch {
                    t.say("server", ResetDemo.failure("recv()", error, t))
                    if error.code == ECONNRESET {
                        out.resets += 1
                        t.say("server", t.words(.chatVanished, ["n": "\(n)"]))
                    }
                    break conversation
                }
                switch got {
                case .closed:
                    t.say("server", t.words(.chatClosedFIN, ["n": "\(n)"]))
                    break conversation
                case .timedOut:
                    t.say("server", t.words(.chatNothingFrom, ["n": "\(n)", "s": "\(Int(o.common.timeout))"]))
                    break conversation
                case .line(let bytes):
                    t.say("server", t.words(.demoRecvReturned, ["n": "\(bytes.count)", "bytes": DemoTranscript.show(bytes)]))
                    out.received[n - 1].append(text(bytes))
                }
                guard let reply = nextLine(input, "server", &out.refused, t) else {
                    t.say("server", t.words(.chatNoMoreLines))
                    inputEnded = true
                    break conversation
                }
                let bytes = Array((reply + "\n").utf8)
                do throws(DemoError) {
                    let sentAt = DemoClock.now()
                    try conn.send(bytes)
                    t.say("server", t.words(.demoSent, ["n": "\(bytes.count)", "bytes": DemoTranscript.show(bytes)]), at: sentAt)
                } catch {
                    t.say("server", ResetDemo.failure("send()", error, t))
                    if error.code == ECONNRESET { out.resets += 1 }
                    t.say("server", t.words(.chatGone, ["n": "\(n)"]))
                    break conversation
                }
            }
            t.say("server", t.words(.chatClose, ["n": "\(n)"]))
            conn.close()
            conn.closeDescriptor()
        }
        t.say("server", t.words(.chatServed, ["k": "\(out.served)"]))
        return out
    }

    // MARK: client

    struct ClientOutcome {
        var received: [String] = []
        var refused = 0
    }

    /// Up to `sessions` client connections, one after another, taking turns with the server.
    static func clients(_ address: SocketAddress, sessions: Int, _ input: LineInput, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> ClientOutcome {
        var out = ClientOutcome()
        var session = 0
        while session < sessions {
            session += 1
            let conn = try TCPConnection.connect(to: address, timeout: o.common.timeout)
            let who = sessions > 1 ? "client #\(session)" : "client"
            t.say(who, t.words(.demoConnected, ["address": "\(address)"]))
            var reader = LineReader()
            var again = false
            conversation: while true {
                guard let line = nextLine(input, who, &out.refused, t) else {
                    t.say(who, t.words(.chatEndOfInput))
                    conn.close()
                    break conversation
                }
                if line == "/quit" {
                    t.say(who, t.words(.chatQuit))
                    conn.close()
                    again = true
                    break conversation
                }
                if line == "/vanish" {
                    conn.setLingerZero()
                    t.say(who, t.words(.chatVanish))
                    conn.closeDescriptor()
                    again = true
                    break conversation
                }
                let bytes = Array((line + "\n").utf8)
                let sentAt = DemoClock.now()
                try conn.send(bytes)
                t.say(who, t.words(.demoSent, ["n": "\(bytes.count)", "bytes": DemoTranscript.show(bytes)]), at: sentAt)
                let got: LineReader.Read
                do throws(DemoError) {
                    got = try reader.next(conn)
                } catch {
                    t.say(who, ResetDemo.failure("recv()", error, t))
                    break conversation
                }
                switch got {
                case .line(let reply):
                    t.say(who, t.words(.demoRecvReturned, ["n": "\(reply.count)", "bytes": DemoTranscript.show(reply)]))
                    out.received.append(text(reply))
                case .closed:
                    t.say(who, t.words(.chatServerClosed))
                    break conversation
                case .timedOut:
                    t.say(who, t.words(.chatNoAnswer, ["s": "\(Int(o.common.timeout))"]))
                    conn.close()
                    break conversation
                }
            }
            conn.closeDescriptor()
            guard again, input.hasMore else { break }
            if session == sessions {
                t.say("client", t.words(.chatAtMost, ["k": "\(sessions)"]))
            }
        }
        return out
    }

    // MARK: lines

    /// The next line to send: empty (or blank) lines are refused and the next one taken.
    static func nextLine(_ input: LineInput, _ who: String, _ refused: inout Int, _ t: DemoTranscript) -> String? {
        while true {
            switch input.next() {
            case .line(let line):
                if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                    refused += 1
                    t.say(who, t.words(.chatEmptyRefused))
                    continue
                }
                return line
            case .end:
                return nil
            case .timedOut(let seconds):
                t.say(who, t.words(.chatNoInput, ["s": "\(Int(seconds))"]))
                return nil
            }
        }
    }

    static func text(_ bytes: [UInt8]) -> String {
        var b = bytes[...]
        if b.last == 10 { b = b.dropLast() }
        if b.last == 13 { b = b.dropLast() }
        return String(decoding: b, as: UTF8.self)
    }

    /// Lines typed on standard input (each read waits at most the timeout), or a script's lines.
    final class LineInput: @unchecked Sendable {
        enum Next { case line(String), end, timedOut(Double) }

        private var lines: [String]
        private let stdinTimeout: Double?
        private var buffer: [UInt8] = []
        private var eof = false

        init(lines: [String]) {
            self.lines = lines
            stdinTimeout = nil
        }

        init(stdinTimeout: Double) {
            lines = []
            self.stdinTimeout = stdinTimeout
        }

        /// More script lines left (standard input: unknown, so false).
        var hasMore: Bool { stdinTimeout == nil && !lines.isEmpty }

        func next() -> Next {
            guard let timeout = stdinTimeout else {
                return lines.isEmpty ? .end : .line(lines.removeFirst())
            }
            while true {
                if let i = buffer.firstIndex(of: 10) {
                    let line = ChatDemo.text(Array(buffer[...i]))
                    buffer.removeFirst(i + 1)
                    return .line(line)
                }
                if eof {
                    guard !buffer.isEmpty else { return .end }
                    defer { buffer = [] }
                    return .line(ChatDemo.text(buffer))
                }
                guard wait(0, seconds: timeout) else { return .timedOut(timeout) }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { eof = true } else { buffer += chunk.prefix(n) }
            }
        }
    }

    /// Lines from a connection: recv() results split at newlines, telling end of stream
    /// (recv() returned 0) from a timeout.
    struct LineReader {
        enum Read { case line([UInt8]), closed, timedOut }
        private var pending: [UInt8] = []

        mutating func next(_ conn: TCPConnection) throws(DemoError) -> Read {
            while true {
                if let i = pending.firstIndex(of: 10) {
                    let line = Array(pending[...i])
                    pending.removeFirst(i + 1)
                    return .line(line)
                }
                guard let chunk = try conn.receive() else { return .timedOut }
                if chunk.isEmpty {
                    guard !pending.isEmpty else { return .closed }
                    defer { pending = [] }
                    return .line(pending)
                }
                pending += chunk
            }
        }
    }
}

extension ChatDemo.Result {
    fileprivate mutating func apply(server s: ChatDemo.ServerOutcome) {
        serverReceived = s.received
        clientsServed = s.served
        clientsReset = s.resets
        refused += s.refused
    }

    fileprivate mutating func apply(client c: ChatDemo.ClientOutcome) {
        clientReceived = c.received
        refused += c.refused
    }
}
