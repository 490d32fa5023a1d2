import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// sticky — the 粘包 ("sticky packets") demonstration: TCP is a byte stream, not a message stream.
///
/// The client makes many small send() calls back-to-back (Nagle's algorithm on, unless
/// `--nodelay`); the server waits a moment before its first recv() and then prints every recv()
/// result: several messages glued together ("hello\nworld\n…") and a message cut apart at the end
/// of the receive buffer. On the wire, with Nagle on, the small sends leave in few segments; with
/// `--nodelay` each send() is its own segment — yet recv() still glues them, because the receiver
/// reads whatever has arrived.
///
/// Each message ends with `\n` (line framing, so netinspect — and a careful receiver — can find the
/// boundaries again; `--raw` leaves the newline out, the classic "helloworld"). After the small
/// messages come three patterns that also glue and cut on the wire: five messages sent with MSG_MORE
/// (one segment, 粘包 at the sender), a 3000-byte message written in three send()s (半包: one message,
/// three segments), and the end of that message, a whole one and the start of another in one segment.
public enum StickyDemo {
    public static let defaultPort: UInt16 = 9004

    /// The words the messages cycle through (when no `size` is given).
    public static let words = ["hello", "world", "foo", "bar", "baz", "qux", "tcp", "is", "a", "stream"]

    public struct Options: Sendable {
        public var common = DemoOptions()
        /// How many messages the client sends (one send() each).
        public var count = 20
        /// nil: the messages are the words "hello", "world", …; N: message i is N copies of one letter
        /// ("aaaa", "bbbb", …) so that each message's bytes stand out.
        public var size: Int?
        /// TCP_NODELAY on the client: each send() leaves as its own segment.
        public var noDelay = false
        /// Seconds the server waits after accept() before its first recv() (the messages pile up meanwhile).
        public var readDelay = 0.5
        /// The server's recv() buffer size (small, so that a message can be cut apart at its end).
        public var recvSize = 32
        /// Messages without the `\n` (no framing at all: the boundaries cannot be found again).
        public var raw = false
        /// After the small messages, the sender-side patterns (burst, big message, mixed segment).
        public var patterns = true
        public init() {}
    }

    /// One send() call of the client.
    public struct Write: Sendable {
        public var bytes: [UInt8]
        /// MSG_MORE: keep it for the next send().
        public var more = false
        /// Set TCP_NODELAY before this send().
        public var noDelay = false
        /// Wait 20 ms first (so that what came before has left).
        public var pause = false
    }

    public struct Result: Sendable {
        /// The messages the client sent, one send() each.
        public var sent: [[UInt8]] = []
        /// What each of the server's recv() calls returned (the end-of-stream 0 not included).
        public var received: [[UInt8]] = []
        public var transcript: [String] = []
    }

    /// The messages the client sends for these options (each ends with `\n` unless `raw`).
    public static func messages(_ o: Options) -> [[UInt8]] {
        plan(o).messages
    }

    /// The messages, and the send() calls that carry them.
    public static func plan(_ o: Options) -> (messages: [[UInt8]], writes: [Write]) {
        let end: [UInt8] = o.raw ? [] : [10]
        var messages: [[UInt8]] = (0 ..< max(0, o.count)).map { i in
            if let size = o.size {
                return [UInt8](repeating: UInt8(ascii: "a") + UInt8(i % 26), count: max(1, size)) + end
            }
            return Array(words[i % words.count].utf8) + end
        }
        var writes = messages.map { Write(bytes: $0) }
        guard o.patterns && !o.raw else { return (messages, writes) }
        // 粘包 at the sender: five messages held back with MSG_MORE leave as one segment.
        for k in 1 ... 5 {
            let m = Array("burst \(k)".utf8) + end
            messages.append(m)
            writes.append(Write(bytes: m, more: k < 5, pause: k == 1))
        }
        // 半包: one 3000-byte message written in three send()s (Nagle off, so each leaves at once).
        var big = Array("big message: ".utf8)
        while big.count < 2999 { big.append(UInt8(ascii: "a") + UInt8(big.count % 26)) }
        big += end
        messages.append(big)
        writes.append(Write(bytes: Array(big[0 ..< 1000]), noDelay: true, pause: true))
        writes.append(Write(bytes: Array(big[1000 ..< 2000])))
        // Mixed: the big message's end, a whole message and the start of the next in one segment.
        let whole = Array("short one".utf8) + end
        let last = Array("the last message, cut in two".utf8) + end
        messages.append(whole)
        messages.append(last)
        writes.append(Write(bytes: Array(big[2000...]), more: true))
        writes.append(Write(bytes: whole, more: true))
        writes.append(Write(bytes: Array(last[0 ..< 10])))
        writes.append(Write(bytes: Array(last[10...])))
        return (messages, writes)
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        var result = Result()
        let (served, got) = try DemoRunner.tcp(o.common, defaultPort: defaultPort, t,
                                               server: { (l) throws(DemoError) in try serve(l, o, t) },
                                               client: { (a) throws(DemoError) in try client(a, o, t) })
        if let served { result.received = served }
        if let got { result.sent = got }
        if o.common.role == .both {
            let same = result.sent.flatMap { $0 } == result.received.flatMap { $0 }
            t.say("summary", t.words(same ? .stickySummarySame : .stickySummaryDiffer,
                                     ["sends": "\(result.sent.count)", "recvs": "\(result.received.count)"]))
        }
        result.transcript = t.all
        return result
    }

    /// Counts newline-terminated messages across recv() results and says what one result held:
    /// `25 messages glued: #1–#25, and the first 896 B of #26`.
    struct MessageCount {
        /// The words (`--lang`).
        var catalog = Catalog.english
        /// Messages completed before the current result.
        var done = 0
        /// Bytes of the message in progress received so far.
        var partial = 0

        /// The words for `chunk` (nil: one whole message, or part of one, nothing to say).
        mutating func add(_ chunk: [UInt8]) -> String? {
            var ends: [Int] = []
            for (i, b) in chunk.enumerated() where b == 10 { ends.append(i + 1) }
            let startedMid = partial > 0
            let first = done + 1
            defer {
                done += ends.count
                partial = ends.last.map { chunk.count - $0 } ?? partial + chunk.count
            }
            guard let firstEnd = ends.first, let lastEnd = ends.last else { return nil }
            let last = done + ends.count
            let tail = chunk.count - lastEnd
            let c = catalog
            let head = startedMid ? c.text(.gluedLastOf, ["n": "\(firstEnd)", "m": "\(first)"]) : ""
            let next = tail > 0 ? c.text(.gluedFirstOf, ["n": "\(tail)", "m": "\(last + 1)"]) : ""
            if ends.count >= 2 {
                var s = c.text(.gluedMany, ["n": "\(ends.count)", "first": "\(first)", "last": "\(last)"])
                if !head.isEmpty { s += c.text(.gluedStartingWith, ["head": head]) }
                if !next.isEmpty { s += c.text(.gluedAnd, ["next": next]) }
                return s
            }
            if next.isEmpty { return head.isEmpty ? nil : head }
            return c.text(.gluedPair, ["a": head.isEmpty ? c.text(.gluedOne, ["m": "\(first)"]) : head, "b": next])
        }
    }

    static func serve(_ listener: TCPListener, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> [[UInt8]] {
        guard let conn = try listener.accept(timeout: o.common.timeout, connectionTimeout: o.common.timeout) else {
            t.say("server", t.words(.demoNoClient, ["s": "\(Int(o.common.timeout))"]))
            return []
        }
        t.say("server", t.words(.demoAccepted, ["peer": "\(conn.peer)"]))
        let delay = max(0, min(o.readDelay, o.common.timeout / 2))
        t.say("server", t.words(.stickySleeping, ["d": "\(delay)"]))
        usleep(UInt32(delay * 1_000_000))
        var received: [[UInt8]] = []
        var messages = MessageCount(catalog: t.catalog)
        while true {
            guard let chunk = try conn.receive(max: max(1, o.recvSize)) else {
                t.say("server", t.words(.stickyRecvTimeout, ["s": "\(Int(o.common.timeout))"]))
                break
            }
            if chunk.isEmpty {
                t.say("server", t.words(.demoClientClosed))
                break
            }
            received.append(chunk)
            // Which messages (newline-terminated) this one result holds, partial ones included.
            let glued = o.raw ? "" : messages.add(chunk).map { " (" + $0 + ")" } ?? ""
            t.say("server", t.words(.stickyRecv, ["size": "\(o.recvSize)", "k": "\(received.count)", "n": "\(chunk.count)",
                                                 "bytes": DemoTranscript.show(chunk)]) + glued)
        }
        conn.close()
        t.say("server", t.words(.stickyTotal, ["k": "\(received.count)", "b": "\(received.reduce(0) { $0 + $1.count })"]))
        return received
    }

    static func client(_ address: SocketAddress, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> [[UInt8]] {
        let conn = try TCPConnection.connect(to: address, timeout: o.common.timeout)
        t.say("client", t.words(.demoConnected, ["address": "\(address)"]))
        if o.noDelay {
            conn.setNoDelay(true)
            t.say("client", t.words(.stickyNoDelay))
        } else {
            t.say("client", t.words(.stickyNagle))
        }
        let (msgs, writes) = plan(o)
        for w in writes {
            if w.noDelay && !o.noDelay {
                conn.setNoDelay(true)
                t.say("client", t.words(.stickyNoDelayFromHere))
            }
            // A small pause between the patterns, so that each leaves on its own.
            if w.pause { usleep(20_000) }
            let sentAt = DemoClock.now()
            try conn.send(w.bytes, more: w.more)
            t.say("client", t.words(.stickySend, ["flag": w.more ? "MSG_MORE" : "", "n": "\(w.bytes.count)",
                                               "bytes": DemoTranscript.show(w.bytes)]), at: sentAt)
        }
        t.say("client", t.words(.stickySentAll, ["m": "\(msgs.count)", "b": "\(msgs.reduce(0) { $0 + $1.count })"]))
        conn.shutdownWrite()
        let end = try conn.receive()
        t.say("client", t.words(end?.isEmpty == true ? .stickyServerClosedToo : .stickyWaitedClose))
        conn.close()
        return msgs
    }
}
