import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// backlog — the accept queue: a server with a small `listen(backlog)` that accepts slowly, and N
/// clients that all connect at once.
///
/// On Linux a connection whose handshake is done waits in the listening socket's accept queue
/// (at most backlog + 1 of them) until the server calls accept(). While that queue is full, the
/// kernel drops new SYNs without an answer; those clients' kernels send the SYN again after 1 s,
/// then 2 s, 4 s … later. The capture shows the retransmitted SYNs, and the connections that are
/// established (data sent and ACKed) but not yet accepted. Every client gives up after `timeout`
/// seconds, and the server drains its queue before it stops, so the demo always ends by itself.
public enum BacklogDemo {
    public static let defaultPort: UInt16 = 9008
    /// The most clients one run starts.
    public static let maxClients = 200

    public struct Options: Sendable {
        public var common = DemoOptions()
        /// listen()'s backlog argument.
        public var backlog: Int32 = 2
        /// Seconds the server sleeps after each accepted connection.
        public var acceptDelay: Double = 0.25
        /// Clients connecting at once (capped at `maxClients`).
        public var clients = 20
        public init() {}
    }

    public enum Outcome: String, Sendable {
        /// Connected, sent its hello, got the server's reply.
        case served
        /// The handshake completed (the connection waited in the accept queue), but no reply came in time.
        case connectedNotServed = "connected, not served"
        /// connect() never completed within the timeout (its SYNs were dropped).
        case timedOut = "timed out"
        /// connect() failed (refused, reset, …).
        case failed
    }

    public struct Client: Sendable {
        public var number: Int
        public var outcome: Outcome = .timedOut
        /// Seconds from the start of the run.
        public var connectedAt: Double?
        public var servedAt: Double?
        public var error: String?
        /// connect() completed (whatever happened next).
        public var connected: Bool { connectedAt != nil }
        /// Got through: accepted and answered by the server.
        public var gotThrough: Bool { outcome == .served }
    }

    public struct Result: Sendable {
        /// Client side: one entry per client, in order.
        public var clients: [Client] = []
        /// Server side: connections accept() returned (live ones plus ones whose client had given up).
        public var accepted = 0
        /// Server side: accepted connections whose client was still there (hello read, answer sent).
        public var acceptedLive = 0
        /// Server side: the live clients' numbers in the order they were accepted.
        public var acceptOrder: [Int] = []
        public var transcript: [String] = []
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        if let a = try? SocketAddress(host: o.common.host, port: 0), !a.isLoopback {
            throw DemoError("backlog: \(o.common.host) is not a loopback address; this demo floods connections and runs on loopback only")
        }
        let clock = Clock()
        var result = Result()
        switch o.common.role {
        case .server:
            let listener = try listen(o, t)
            let capture = try DemoRunner.startCapture(o.common, ports: [listener.address.port])
            (result.accepted, result.acceptOrder) = try serve(listener, o, t, clock, stop: Flag())
            result.acceptedLive = result.acceptOrder.count
            capture?.stop()
        case .client:
            let address = try SocketAddress(host: o.common.host, port: o.common.port(default: defaultPort))
            let capture = try DemoRunner.startCapture(o.common, ports: [address.port])
            result.clients = try runClients(address, o, t, clock)
            capture?.stop()
            summarize(result, o, t, server: false)
        case .both:
            let listener = try listen(o, t)
            let capture = try DemoRunner.startCapture(o.common, ports: [listener.address.port])
            let stop = Flag()
            let (served, clients) = try DemoRunner.both(
                server: { () throws(DemoError) in try serve(listener, o, t, clock, stop: stop) },
                client: { () throws(DemoError) in
                    defer { stop.set() }
                    return try runClients(listener.address, o, t, clock)
                })
            capture?.stop()
            (result.accepted, result.acceptOrder) = served
            result.acceptedLive = result.acceptOrder.count
            result.clients = clients
            summarize(result, o, t, server: true)
        }
        result.transcript = t.all
        return result
    }

    static func listen(_ o: Options, _ t: DemoTranscript) throws(DemoError) -> TCPListener {
        let l = try TCPListener(host: o.common.host, port: o.common.port(default: defaultPort), backlog: o.backlog)
        t.say("server", t.words(.bkListen, ["b": "\(o.backlog)", "address": "\(l.address)", "q": "\(o.backlog + 1)",
                                            "d": format(o.acceptDelay)]))
        return l
    }

    // MARK: - Server

    static func serve(_ listener: TCPListener, _ o: Options, _ t: DemoTranscript, _ clock: Clock,
                      stop: Flag) throws(DemoError) -> (Int, [Int]) {
        var order: [Int] = []
        var accepted = 0
        var idleSince = clock.now
        var draining = false
        while true {
            if !draining && stop.isSet {
                draining = true
                t.say("server", t.words(.bkDraining))
            }
            if o.common.role == .server && clock.now - idleSince > o.common.timeout {
                t.say("server", t.words(.bkIdle, ["s": "\(Int(o.common.timeout))"]))
                break
            }
            guard let conn = try listener.accept(timeout: draining ? 0 : 0.1, connectionTimeout: min(o.common.timeout, 2)) else {
                if draining { break }
                continue
            }
            idleSince = clock.now
            let queued = queueLength(listener.fd)
            accepted += 1
            if let n = handle(conn, t, clock, queued: queued) { order.append(n) }
            if !draining {
                // Accept slowly; wake up early when the clients are done.
                let until = clock.now + o.acceptDelay
                while clock.now < until && !stop.isSet { usleep(10_000) }
            }
        }
        t.say("server", t.words(.bkAcceptedAll, ["k": "\(accepted)", "live": "\(order.count)", "gone": "\(accepted - order.count)"]))
        return (accepted, order)
    }

    /// Reads the client's hello, answers it, closes; returns the client's number (0 if it said none),
    /// nil when the client had already given up (closed before it was accepted).
    static func handle(_ conn: TCPConnection, _ t: DemoTranscript, _ clock: Clock, queued: Int?) -> Int? {
        defer { conn.close() }
        let at = format(clock.now)
        // The line tells of the accept() and what followed it: it goes out at the accept's time.
        let acceptedAt = DemoClock.now()
        let waiting = queued.map { t.words(.bkWaiting, ["n": "\($0)"]) } ?? ""
        let line: [UInt8]?
        do throws(DemoError) { line = try conn.receiveLine() } catch { line = nil }
        guard let line, !line.isEmpty else {
            t.say("server", t.words(.bkGaveUp, ["at": at, "peer": "\(conn.peer)", "waiting": waiting]), at: acceptedAt)
            return nil
        }
        let text = String(decoding: line, as: UTF8.self)
        let n = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).last.flatMap { Int($0) } ?? 0
        // Its hello, then its FIN: the client sent it and gave up before the server got to accept().
        var byte: UInt8 = 0
        if wait(conn.fd, seconds: 0) && recv(conn.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0 {
            t.say("server", t.words(.bkHelloThenGone, ["at": at, "n": "\(n)", "peer": "\(conn.peer)", "waiting": waiting,
                                                    "hello": DemoTranscript.show(line)]), at: acceptedAt)
            return nil
        }
        let reply = Array("welcome, client \(n)\n".utf8)
        do throws(DemoError) {
            try conn.send(reply)
            t.say("server", t.words(.bkServed, ["at": at, "n": "\(n)", "peer": "\(conn.peer)", "waiting": waiting,
                                             "hello": DemoTranscript.show(line), "reply": DemoTranscript.show(reply)]), at: acceptedAt)
        } catch {
            t.say("server", t.words(.bkSendFailed, ["at": at, "n": "\(n)", "peer": "\(conn.peer)", "waiting": waiting,
                                                 "message": error.message]), at: acceptedAt)
            return nil
        }
        return n
    }

    /// The listening socket's accept-queue length (Linux reports it in tcpi_unacked).
    static func queueLength(_ fd: Int32) -> Int? {
        #if os(Linux)
        var info = tcp_info()
        var len = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &len) == 0 else { return nil }
        return Int(info.tcpi_unacked)
        #else
        return nil
        #endif
    }

    // MARK: - Clients

    private struct Pending {
        var fd: Int32
        var connecting = true
        var received: [UInt8] = []
    }

    /// Starts every client with a non-blocking connect(), then drives them all from one poll() loop.
    static func runClients(_ address: SocketAddress, _ o: Options, _ t: DemoTranscript, _ clock: Clock) throws(DemoError) -> [Client] {
        let count = max(1, min(o.clients, maxClients))
        var clients = (1 ... count).map { Client(number: $0) }
        var pending: [Int: Pending] = [:]
        defer { for p in pending.values { close(p.fd) } }
        let deadline = clock.now + o.common.timeout

        func finish(_ i: Int, _ outcome: Outcome, _ text: String) {
            clients[i].outcome = outcome
            if let p = pending.removeValue(forKey: i) { close(p.fd) }
            t.say(t.words(.bkClientLabel, ["n": "\(i + 1)"]), t.words(.bkClientAt, ["at": format(clock.now), "text": text]))
        }
        func connected(_ i: Int) {
            clients[i].connectedAt = clock.now
            pending[i]?.connecting = false
            let hello = Array("hello from client \(i + 1)\n".utf8)
            guard let fd = pending[i]?.fd else { return }
            let n = hello.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            let sent = n == hello.count ? t.words(.bkSendHello, ["hello": DemoTranscript.show(hello)]) : t.words(.bkSendFailedShort)
            t.say(t.words(.bkClientLabel, ["n": "\(i + 1)"]),
                  t.words(.bkClientAt, ["at": format(clock.now), "text": t.words(.bkConnectDone, ["send": sent])]))
        }

        for i in clients.indices {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else {
                clients[i].outcome = .failed
                clients[i].error = String(cString: strerror(errno))
                t.say(t.words(.bkClientLabel, ["n": "\(i + 1)"]), t.words(.bkSocketFailed, ["e": clients[i].error ?? "?"]))
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            pending[i] = Pending(fd: fd)
            let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            if rc == 0 {
                connected(i)
            } else if errno != EINPROGRESS {
                clients[i].error = String(cString: strerror(errno))
                finish(i, .failed, t.words(.bkConnectFailed, ["e": clients[i].error ?? "?"]))
            }
        }
        t.say("clients", t.words(.bkStarted, ["k": "\(count)", "address": "\(address)", "s": format(o.common.timeout)]))

        while !pending.isEmpty {
            let now = clock.now
            if now >= deadline {
                for i in pending.keys.sorted() {
                    if pending[i]?.connecting == true {
                        finish(i, .timedOut, t.words(.bkTimedOutConnecting))
                    } else {
                        finish(i, .connectedNotServed, t.words(.bkTimedOutConnected))
                    }
                }
                break
            }
            let keys = pending.keys.sorted()
            var fds = keys.map { k -> pollfd in
                let p = pending[k]
                return pollfd(fd: p?.fd ?? -1, events: Int16(p?.connecting == true ? POLLOUT : POLLIN), revents: 0)
            }
            let ms = Int32(max(1, min(100, (deadline - now) * 1000)))
            let rc = poll(&fds, nfds_t(fds.count), ms)
            if rc < 0 && errno != EINTR { throw DemoError.errno("poll") }
            guard rc > 0 else { continue }
            for (k, i) in keys.enumerated() where fds[k].revents != 0 {
                guard let p = pending[i] else { continue }
                if p.connecting {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    if err == 0 {
                        connected(i)
                    } else {
                        clients[i].error = String(cString: strerror(err))
                        finish(i, .failed, t.words(.bkConnectFailed, ["e": clients[i].error ?? "?"]))
                    }
                    continue
                }
                var buf = [UInt8](repeating: 0, count: 256)
                let n = buf.withUnsafeMutableBytes { recv(p.fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    pending[i]?.received += buf.prefix(n)
                    let got = pending[i]?.received ?? []
                    if got.contains(10) {
                        clients[i].servedAt = clock.now
                        finish(i, .served, t.words(.bkClientServed, ["got": DemoTranscript.show(got)]))
                    }
                } else if n == 0 {
                    finish(i, .connectedNotServed, t.words(.bkServerClosedNoAnswer))
                } else if errno != EAGAIN && errno != EINTR {
                    clients[i].error = String(cString: strerror(errno))
                    finish(i, .connectedNotServed, t.words(.bkRecvFailed, ["e": clients[i].error ?? "?"]))
                }
            }
        }
        return clients
    }

    static func summarize(_ r: Result, _ o: Options, _ t: DemoTranscript, server: Bool) {
        let c = r.clients
        func n(_ k: Outcome) -> Int { c.filter { $0.outcome == k }.count }
        var line = t.words(.bkSummary, ["k": "\(c.count)", "b": "\(o.backlog)", "served": "\(n(.served))",
                                         "notServed": "\(n(.connectedNotServed))", "timedOut": "\(n(.timedOut))", "failed": "\(n(.failed))"])
        if server {
            line += t.words(.bkSummaryServer, ["live": "\(r.acceptedLive)"])
            if r.accepted > r.acceptedLive { line += t.words(.bkSummaryGaveUp, ["gone": "\(r.accepted - r.acceptedLive)"]) }
        }
        t.say("summary", line)
        // Handshakes that completed close together, as groups: the later groups came after SYN retransmissions.
        var groups: [(Double, [Int])] = []
        for cl in c.sorted(by: { ($0.connectedAt ?? 0) < ($1.connectedAt ?? 0) }) {
            guard let at = cl.connectedAt else { continue }
            if let last = groups.last, at - last.0 < 0.2 {
                groups[groups.count - 1].1.append(cl.number)
            } else {
                groups.append((at, [cl.number]))
            }
        }
        if !groups.isEmpty {
            let list = groups.map { t.words(.bkGroup, ["at": format($0.0), "k": "\($0.1.count)",
                                                       "list": $0.1.map(String.init).joined(separator: ", ")]) }
            t.say("summary", t.words(.bkGroups, ["groups": list.joined(separator: t.words(.bkGroupSeparator))]))
            if groups.count > 1 {
                t.say("summary", t.words(.bkLaterGroups))
            }
            if groups.contains(where: { $0.1.count > Int(o.backlog) + 1 }) {
                t.say("summary", t.words(.bkTooMany, ["q": "\(o.backlog + 1)"]))
            }
        }
    }

    static func format(_ s: Double) -> String {
        let ms = Int((s * 1000).rounded())
        let frac = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }

    /// Seconds since the run started (monotonic).
    final class Clock: Sendable {
        let origin: Double
        init() { origin = Clock.raw() }
        static func raw() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        var now: Double { Clock.raw() - origin }
    }

    /// Set by the client side in all-in-one mode when every client is done.
    final class Flag: @unchecked Sendable {
        private var lock = pthread_mutex_t()
        private var value = false
        init() { pthread_mutex_init(&lock, nil) }
        deinit { pthread_mutex_destroy(&lock) }
        func set() { pthread_mutex_lock(&lock); value = true; pthread_mutex_unlock(&lock) }
        var isSet: Bool { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return value }
    }
}
