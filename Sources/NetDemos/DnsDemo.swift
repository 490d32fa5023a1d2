import NetOutput
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// dns — a tiny authoritative DNS server for `demo.test` on loopback, and a client.
///
/// The server answers A, AAAA, CNAME (with the target's records), MX (with the exchanges' addresses
/// as additional records), TXT, NS, SOA and ANY from a built-in zone; a name under `demo.test` that
/// is not in it gets NXDOMAIN with the zone's SOA in the authority section. Names in answers are
/// compressed (pointers back to the question). An answer that does not fit in 512 bytes goes out
/// over UDP with only the question and the TC bit; the client then asks again over TCP (every
/// message there is preceded by its length, 2 bytes big-endian), which the server serves too.
///
/// The server side encodes and parses messages with the small code in this file; the client
/// decodes answers with NetWire's DNS decoder (the one netinspect prints packets with).
public enum DnsDemo {
    /// The course's DNS port; binding it needs root (or CAP_NET_BIND_SERVICE).
    public static let defaultPort: UInt16 = 53
    /// Where the server goes when it cannot bind port 53.
    public static let fallbackPort: UInt16 = 10053
    /// The classic limit for a DNS message over UDP without EDNS (RFC 1035 §4.2.1).
    public static let udpLimit = 512
    public static let zoneName = "demo.test"

    // MARK: - Records and the zone

    public enum RData: Sendable, Equatable, CustomStringConvertible {
        /// 4 bytes.
        case a([UInt8])
        /// 16 bytes.
        case aaaa([UInt8])
        case cname(String)
        case ns(String)
        case mx(preference: UInt16, exchange: String)
        case txt([String])
        case soa(mname: String, rname: String, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
        /// A record of a type this demo does not present (type number, data length).
        case other(type: UInt16, length: Int)

        public var type: UInt16 {
            switch self {
            case .a: DNSType.a
            case .aaaa: DNSType.aaaa
            case .cname: DNSType.cname
            case .ns: DNSType.ns
            case .mx: DNSType.mx
            case .txt: DNSType.txt
            case .soa: DNSType.soa
            case .other(let t, _): t
            }
        }

        public var description: String {
            switch self {
            case .a(let b): return b.map { String($0) }.joined(separator: ".")
            case .aaaa(let b): return DnsDemo.ipv6Text(b)
            case .cname(let n), .ns(let n): return n + "."
            case .mx(let p, let x): return "\(p) \(x)."
            case .txt(let strings):
                let shown = strings.count > 4 ? Array(strings.prefix(2)) : strings
                let text = shown.map { "\"\($0)\"" }.joined(separator: " ")
                return strings.count > 4 ? text + " … (\(strings.count) strings, \(strings.reduce(0) { $0 + $1.utf8.count + 1 }) bytes)" : text
            case .soa(let m, let r, let serial, let refresh, let retry, let expire, let minimum):
                return "\(m). \(r). \(serial) \(refresh) \(retry) \(expire) \(minimum)"
            case .other(_, let n): return "(\(n) bytes)"
            }
        }
    }

    public struct Record: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var ttl: UInt32
        public var data: RData
        public var type: UInt16 { data.type }
        public init(_ name: String, ttl: UInt32 = 300, _ data: RData) {
            self.name = name
            self.ttl = ttl
            self.data = data
        }
        public var description: String { "\(name). \(ttl) \(DnsDemo.typeName(type)) \(data)" }
    }

    /// The strings of `big.demo.test TXT`: together well over 512 bytes, so the answer needs TCP.
    public static let bigText: [String] = (1 ... 16).map { i in
        let n = i < 10 ? "0\(i)" : "\(i)"
        return "line \(n): a TXT answer this long does not fit in 512 bytes"
    }

    public static let soa = RData.soa(mname: "ns1.demo.test", rname: "hostmaster.demo.test", serial: 2_024_060_101,
                                      refresh: 3600, retry: 600, expire: 86400, minimum: 300)

    /// The built-in zone (names without the trailing dot, lower case).
    public static let zone: [Record] = [
        Record("demo.test", ttl: 3600, soa),
        Record("demo.test", ttl: 3600, .ns("ns1.demo.test")),
        Record("demo.test", .a([192, 0, 2, 1])),
        Record("demo.test", .mx(preference: 10, exchange: "mail.demo.test")),
        Record("demo.test", .mx(preference: 20, exchange: "backup-mail.demo.test")),
        Record("demo.test", .txt(["v=demo1", "the netinspect dns demo zone"])),
        Record("ns1.demo.test", .a([192, 0, 2, 53])),
        Record("www.demo.test", .a([192, 0, 2, 80])),
        Record("www.demo.test", .aaaa([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80])),
        Record("alias.demo.test", .cname("www.demo.test")),
        Record("mail.demo.test", .a([192, 0, 2, 25])),
        Record("mail.demo.test", .aaaa([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25])),
        Record("backup-mail.demo.test", .a([192, 0, 2, 26])),
        Record("big.demo.test", .txt(bigText)),
    ]

    /// What all-in-one mode (and `--client` without NAME TYPE) asks: every answer kind once.
    public static let allInOneQueries: [(name: String, type: UInt16)] = [
        ("www.demo.test", DNSType.a),
        ("www.demo.test", DNSType.aaaa),
        ("alias.demo.test", DNSType.a),
        ("demo.test", DNSType.mx),
        ("demo.test", DNSType.txt),
        ("missing.demo.test", DNSType.a),
        ("big.demo.test", DNSType.txt),
    ]

    public static let typeNames: [(String, UInt16)] = [
        ("A", DNSType.a), ("NS", DNSType.ns), ("CNAME", DNSType.cname), ("SOA", DNSType.soa),
        ("MX", DNSType.mx), ("TXT", DNSType.txt), ("AAAA", DNSType.aaaa), ("ANY", 255),
    ]

    public static func typeName(_ t: UInt16) -> String {
        typeNames.first { $0.1 == t }?.0 ?? "TYPE\(t)"
    }

    /// `A`, `mx`, `TYPE99` or `99`.
    public static func parseType(_ s: String) -> UInt16? {
        let u = s.uppercased()
        if let t = typeNames.first(where: { $0.0 == u }) { return t.1 }
        if u.hasPrefix("TYPE"), let n = UInt16(u.dropFirst(4)) { return n }
        return UInt16(u)
    }

    public static func rcodeName(_ r: UInt8) -> String {
        switch r {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "RCODE\(r)"
        }
    }

    // MARK: - Options and results

    public struct Options: Sendable {
        public var common = DemoOptions()
        /// The queries the client sends; empty = `allInOneQueries`.
        public var queries: [(name: String, type: UInt16)] = []
        public init() {}
    }

    public struct QueryResult: Sendable {
        public var name: String
        public var type: UInt16
        /// The answer as NetWire decoded it (over TCP when the UDP answer was truncated); nil if none came.
        public var message: DNSMessage?
        /// The UDP answer had TC set.
        public var truncatedOverUDP = false
        /// The final answer came over TCP.
        public var overTCP = false
        /// Size of the final answer message.
        public var size = 0

        public var rcode: UInt8? { message?.rcode }
        public var answers: [Record] { message?.answers.map(DnsDemo.record) ?? [] }
        public var authority: [Record] { message?.authority.map(DnsDemo.record) ?? [] }
        public var additional: [Record] { message?.additional.map(DnsDemo.record) ?? [] }
    }

    public struct Result: Sendable {
        /// The port the server bound, or the client asked.
        public var port: UInt16 = 0
        /// Client side: one result per query.
        public var queries: [QueryResult] = []
        /// Server side: queries answered over UDP and over TCP.
        public var servedUDP = 0
        public var servedTCP = 0
        public var transcript: [String] = []
    }

    // MARK: - Running

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        var result = Result()
        let queries = o.queries.isEmpty ? allInOneQueries : o.queries
        switch o.common.role {
        case .server:
            let (udp, tcp) = try bindServer(o, t)
            result.port = udp.address.port
            let capture = try DemoRunner.startCapture(o.common, ports: [result.port], dnsPorts: [result.port])
            let served = try serve(udp, tcp, o, t, stop: StopFlag())
            capture?.stop()
            (result.servedUDP, result.servedTCP) = served
        case .client:
            var port = o.common.port(default: defaultPort)
            let capture = try DemoRunner.startCapture(o.common, ports: o.common.port == nil ? [defaultPort, fallbackPort] : [port],
                                                       dnsPorts: o.common.port == nil ? [defaultPort, fallbackPort] : [port])
            result.queries = try runClient(queries, port: &port, fallback: o.common.port == nil, o, t)
            result.port = port
            capture?.stop()
        case .both:
            let (udp, tcp) = try bindServer(o, t)
            result.port = udp.address.port
            let capture = try DemoRunner.startCapture(o.common, ports: [result.port], dnsPorts: [result.port])
            let stop = StopFlag()
            let (served, answers) = try DemoRunner.both(
                server: { () throws(DemoError) in try serve(udp, tcp, o, t, stop: stop) },
                client: { () throws(DemoError) in
                    defer { stop.set() }
                    var port = udp.address.port
                    return try runClient(queries, port: &port, fallback: false, o, t)
                })
            capture?.stop()
            (result.servedUDP, result.servedTCP) = served
            result.queries = answers
        }
        result.transcript = t.all
        return result
    }

    /// UDP and TCP on the same port: the one given, any free one for 0, else 53 falling back to 10053.
    static func bindServer(_ o: Options, _ t: DemoTranscript) throws(DemoError) -> (UDPSocket, TCPListener) {
        let host = o.common.host
        func pair(_ port: UInt16) throws(DemoError) -> (UDPSocket, TCPListener) {
            let udp = try UDPSocket(host: host, port: port)
            let tcp = try TCPListener(host: host, port: udp.address.port, backlog: 8)
            return (udp, tcp)
        }
        let sockets: (UDPSocket, TCPListener)
        if let port = o.common.port {
            if port == 0 {
                // Any free UDP port whose TCP twin is free too.
                var attempt = 0
                while true {
                    do throws(DemoError) {
                        sockets = try pair(0)
                        break
                    } catch {
                        attempt += 1
                        if attempt >= 20 { throw error }
                    }
                }
            } else {
                sockets = try pair(port)
            }
        } else {
            do throws(DemoError) {
                sockets = try pair(defaultPort)
            } catch {
                t.say("server", t.words(.dnsPortFallback, ["port": "\(defaultPort)", "message": error.message, "fallback": "\(fallbackPort)"]))
                sockets = try pair(fallbackPort)
            }
        }
        t.say("server", t.words(.dnsServerUp, ["zone": zoneName, "address": "\(sockets.0.address)"]))
        return sockets
    }

    /// Set by the client side in all-in-one mode when it is done.
    final class StopFlag: @unchecked Sendable {
        private var lock = pthread_mutex_t()
        private var value = false
        init() { pthread_mutex_init(&lock, nil) }
        deinit { pthread_mutex_destroy(&lock) }
        func set() { pthread_mutex_lock(&lock); value = true; pthread_mutex_unlock(&lock) }
        var isSet: Bool { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return value }
    }

    // MARK: - Server

    /// Answers queries until told to stop (all-in-one) or nothing arrives for `timeout` seconds.
    static func serve(_ udp: UDPSocket, _ tcp: TCPListener, _ o: Options, _ t: DemoTranscript,
                      stop: StopFlag) throws(DemoError) -> (Int, Int) {
        var servedUDP = 0, servedTCP = 0
        var idleSince = monotonicSeconds()
        while !stop.isSet {
            if monotonicSeconds() - idleSince > o.common.timeout {
                t.say("server", t.words(.dnsIdle, ["s": "\(Int(o.common.timeout))"]))
                break
            }
            var fds = [pollfd(fd: udp.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: tcp.fd, events: Int16(POLLIN), revents: 0)]
            let rc = poll(&fds, 2, 100)
            if rc <= 0 { continue }
            if fds[0].revents != 0, let datagram = try udp.receive(timeout: 0) {
                let (query, from) = datagram
                idleSince = monotonicSeconds()
                t.say("server", t.words(.dnsRecvfrom, ["n": "\(query.count)", "from": "\(from)", "query": describeQuery(query)]))
                guard var reply = respond(to: query) else {
                    t.say("server", t.words(.dnsNotQuery))
                    continue
                }
                if reply.count > udpLimit {
                    let full = reply.count
                    reply = truncatedReply(query) ?? reply
                    t.say("server", t.words(.dnsTooBig, ["full": "\(full)", "limit": "\(udpLimit)", "n": "\(reply.count)"]))
                }
                t.say("server", t.words(.dnsSendto, ["n": "\(reply.count)", "reply": describeReply(reply)]))
                try udp.send(reply, to: from)
                servedUDP += 1
            }
            if fds[1].revents != 0,
               let conn = try tcp.accept(timeout: 0, connectionTimeout: min(o.common.timeout, 3)) {
                t.say("server", t.words(.dnsAcceptTCP, ["peer": "\(conn.peer)"]))
                servedTCP += try serveTCP(conn, t)
                idleSince = monotonicSeconds()
            }
        }
        return (servedUDP, servedTCP)
    }

    /// One TCP connection: length-prefixed queries until the client closes.
    static func serveTCP(_ conn: TCPConnection, _ t: DemoTranscript) throws(DemoError) -> Int {
        var served = 0
        defer { conn.close() }
        while true {
            guard let prefix = try conn.receive(exactly: 2) else {
                t.say("server", t.words(.dnsTCPClosed))
                return served
            }
            let length = Int(prefix[0]) << 8 | Int(prefix[1])
            guard let query = try conn.receive(exactly: length) else {
                t.say("server", t.words(.dnsTCPEndedInside, ["n": "\(length)"]))
                return served
            }
            t.say("server", t.words(.dnsTCPQuery, ["n": "\(length)", "query": describeQuery(query)]))
            guard let reply = respond(to: query) else {
                t.say("server", t.words(.dnsNotQueryClosing))
                return served
            }
            t.say("server", t.words(.dnsTCPSend, ["total": "\(reply.count + 2)", "n": "\(reply.count)", "reply": describeReply(reply)]))
            try conn.send([UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply)
            served += 1
        }
    }

    // MARK: - Client

    static func runClient(_ queries: [(name: String, type: UInt16)], port: inout UInt16, fallback: Bool,
                          _ o: Options, _ t: DemoTranscript) throws(DemoError) -> [QueryResult] {
        var results: [QueryResult] = []
        var mayFallBack = fallback
        for q in queries {
            var server = try SocketAddress(host: o.common.host, port: port)
            var r = try ask(q.name, q.type, server, o, t)
            if r == nil && mayFallBack {
                t.say("client", t.words(.dnsClientFallback, ["port": "\(port)", "fallback": "\(fallbackPort)"]))
                port = fallbackPort
                server = try SocketAddress(host: o.common.host, port: port)
                r = try ask(q.name, q.type, server, o, t)
            }
            mayFallBack = false
            results.append(r ?? QueryResult(name: q.name, type: q.type))
        }
        return results
    }

    /// One query over UDP (and over TCP after TC); nil when the port refused (for the 53 → 10053 fallback).
    static func ask(_ name: String, _ type: UInt16, _ server: SocketAddress, _ o: Options,
                    _ t: DemoTranscript) throws(DemoError) -> QueryResult? {
        var result = QueryResult(name: name, type: type)
        let id = UInt16.random(in: 0 ... 0xFFFF)
        let query = buildQuery(id: id, name: name, type: type)
        let sock = try UDPSocket(host: server.family == AF_INET6 ? "::1" : "127.0.0.1", port: 0)
        // A connected UDP socket: only the server's datagrams arrive, and an ICMP port unreachable
        // comes back as ECONNREFUSED.
        guard server.withSockaddr({ Glibc.connect(sock.fd, $0, $1) }) == 0 else { throw DemoError.errno("connect (UDP) to \(server)") }
        let sentAt = DemoClock.now()
        let sent = query.withUnsafeBytes { Glibc.send(sock.fd, $0.baseAddress, $0.count, 0) }
        guard sent >= 0 else { throw DemoError.errno("send to \(server)") }
        t.say("client", t.words(.dnsClientSendto, ["n": "\(query.count)", "server": "\(server)", "id": hex(id), "name": name,
                                                 "type": typeName(type)]), at: sentAt)
        var reply: [UInt8]?
        let deadline = monotonicSeconds() + o.common.timeout
        while reply == nil {
            let left = deadline - monotonicSeconds()
            guard left > 0, wait(sock.fd, seconds: left) else { break }
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = buf.withUnsafeMutableBytes { Glibc.recv(sock.fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNREFUSED { return nil }
                throw DemoError.errno("recv")
            }
            let got = Array(buf.prefix(n))
            if got.count >= 2 && UInt16(got[0]) << 8 | UInt16(got[1]) == id { reply = got } else {
                t.say("client", t.words(.dnsOtherAnswer, ["n": "\(n)", "id": hex(id)]))
            }
        }
        guard let udpReply = reply else {
            t.say("client", t.words(.dnsNoAnswer, ["s": "\(Int(o.common.timeout))"]))
            return result
        }
        guard let msg = decode(udpReply) else {
            t.say("client", t.words(.dnsUndecodable, ["n": "\(udpReply.count)"]))
            return result
        }
        result.message = msg
        result.size = udpReply.count
        if msg.truncatedFlag {
            result.truncatedOverUDP = true
            t.say("client", t.words(.dnsTC, ["n": "\(udpReply.count)", "limit": "\(udpLimit)"]))
            let conn = try TCPConnection.connect(to: server, timeout: o.common.timeout)
            t.say("client", t.words(.dnsTCPConnected, ["server": "\(server)"]))
            let sentAt = DemoClock.now()
            try conn.send([UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query)
            t.say("client", t.words(.dnsTCPSentQuery, ["total": "\(query.count + 2)", "n": "\(query.count)"]), at: sentAt)
            guard let prefix = try conn.receive(exactly: 2) else {
                t.say("client", t.words(.dnsNoTCPAnswer))
                return result
            }
            let length = Int(prefix[0]) << 8 | Int(prefix[1])
            guard let tcpReply = try conn.receive(exactly: length) else {
                t.say("client", t.words(.dnsTCPAnswerEnded, ["n": "\(length)"]))
                return result
            }
            t.say("client", t.words(.dnsTCPWhole, ["n": "\(length)", "k": "\(tcpReply.count)"]))
            conn.close()
            t.say("client", t.words(.dnsTCPClose))
            guard let full = decode(tcpReply) else {
                t.say("client", t.words(.dnsTCPUndecodable))
                return result
            }
            result.message = full
            result.size = tcpReply.count
            result.overTCP = true
        } else {
            t.say("client", t.words(.dnsClientRecvfrom, ["n": "\(udpReply.count)", "server": "\(server)"]))
        }
        if let m = result.message {
            t.say("client", t.words(.dnsAnswerSummary, ["id": hex(m.id), "rcode": rcodeName(m.rcode),
                                                        "aa": m.authoritative ? t.words(.dnsAuthoritative) : "",
                                                        "an": "\(m.answerCount)", "ns": "\(m.authorityCount)", "ar": "\(m.additionalCount)"]))
            for (section, records) in [("answer", result.answers), ("authority", result.authority), ("additional", result.additional)] {
                for rr in records { t.say("client", "  \(section): \(rr)") }
            }
        }
        return result
    }

    /// NetWire's decoder over a whole message.
    static func decode(_ bytes: [UInt8]) -> DNSMessage? {
        var msg = DNSMessage()
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            do throws(DecodeError) {
                try DNSDecoder.decode(ByteReader(raw, layer: .dns), declaredLength: raw.count, into: &msg)
                return true
            } catch {
                return false
            }
        }
        return ok ? msg : nil
    }

    /// A NetWire record as this demo's `Record`.
    static func record(_ r: DNSRecord) -> Record {
        let data: RData
        switch r.data {
        case .a(let a): data = .a([24, 16, 8, 0].map { UInt8(truncatingIfNeeded: a.raw >> UInt32($0)) })
        case .aaaa(let a): data = .aaaa((0 ..< 8).flatMap { [UInt8(a.group($0) >> 8), UInt8(a.group($0) & 0xFF)] })
        case .name(let n): data = r.type == DNSType.cname ? .cname(n) : r.type == DNSType.ns ? .ns(n) : .other(type: r.type, length: 0)
        case .mx(let p, let x): data = .mx(preference: p, exchange: x)
        case .txt(let strings): data = .txt(strings.map { String(decoding: $0, as: UTF8.self) })
        case .soa(let s):
            data = .soa(mname: s.mname, rname: s.rname, serial: s.serial, refresh: s.refresh, retry: s.retry,
                        expire: s.expire, minimum: s.minimum)
        case .raw(let b): data = .other(type: r.type, length: b.count)
        default: data = .other(type: r.type, length: Int(r.rdlength))
        }
        return Record(r.name, ttl: r.ttl, data)
    }

    // MARK: - The zone's answers

    struct Answer {
        var rcode: UInt8 = 0
        var answers: [Record] = []
        var authority: [Record] = []
        var additional: [Record] = []
    }

    static func inZone(_ name: String) -> Bool { name == zoneName || name.hasSuffix("." + zoneName) }

    /// What the zone says about `name` / `type` (name lower case, no trailing dot).
    static func lookup(_ name: String, _ type: UInt16) -> Answer {
        var a = Answer()
        guard inZone(name) else {
            a.rcode = 5  // REFUSED: not our zone, and we do not recurse
            return a
        }
        var owner = name
        var hops = 0
        while true {
            let here = zone.filter { $0.name == owner }
            if here.isEmpty {
                if owner == name { a.rcode = 3 }  // NXDOMAIN
                a.authority = zone.filter { $0.name == zoneName && $0.type == DNSType.soa }
                return a
            }
            if let cname = here.first(where: { $0.type == DNSType.cname }), type != DNSType.cname, type != 255,
               case .cname(let target) = cname.data {
                a.answers.append(cname)
                owner = target
                hops += 1
                if hops < 8 && inZone(target) { continue }
                return a
            }
            let matching = here.filter { type == 255 || $0.type == type }
            if matching.isEmpty {
                a.authority = zone.filter { $0.name == zoneName && $0.type == DNSType.soa }  // NODATA
                return a
            }
            a.answers += matching
            for rr in matching {
                if case .mx(_, let exchange) = rr.data {
                    a.additional += zone.filter { $0.name == exchange && ($0.type == DNSType.a || $0.type == DNSType.aaaa) }
                }
            }
            return a
        }
    }

    // MARK: - Wire form (server side: own code, no NetWire)

    struct ParsedQuery {
        var id: UInt16
        var flags: UInt16
        /// Labels as sent (case kept).
        var labels: [[UInt8]]
        var type: UInt16
        var qclass: UInt16
        var name: String { labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") }
    }

    enum Parsed {
        case query(ParsedQuery)
        /// A header we could read but a question we could not.
        case formatError(id: UInt16, flags: UInt16)
        case notAQuery
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }

    /// Reads a (possibly compressed) name at `at`: the labels and the offset after it in the message.
    static func readName(_ b: [UInt8], at start: Int) -> ([[UInt8]], Int)? {
        var labels: [[UInt8]] = []
        var at = start
        var end: Int?
        var wireLength = 1
        var floor = start  // pointers must point strictly backwards
        while true {
            guard at < b.count else { return nil }
            let len = Int(b[at])
            if len == 0 {
                return (labels, end ?? at + 1)
            } else if len & 0xC0 == 0xC0 {
                guard at + 1 < b.count else { return nil }
                let target = Int(u16(b, at) & 0x3FFF)
                guard target < floor else { return nil }
                if end == nil { end = at + 2 }
                floor = target
                at = target
            } else if len & 0xC0 != 0 {
                return nil
            } else {
                guard at + 1 + len <= b.count else { return nil }
                wireLength += len + 1
                guard wireLength <= 255 else { return nil }
                labels.append(Array(b[at + 1 ..< at + 1 + len]))
                at += 1 + len
            }
        }
    }

    static func parse(_ b: [UInt8]) -> Parsed {
        guard b.count >= 12 else { return .notAQuery }
        let id = u16(b, 0), flags = u16(b, 2)
        guard flags & 0x8000 == 0 else { return .notAQuery }  // a response
        guard u16(b, 4) == 1, let (labels, next) = readName(b, at: 12), next + 4 <= b.count else {
            return .formatError(id: id, flags: flags)
        }
        return .query(ParsedQuery(id: id, flags: flags, labels: labels, type: u16(b, next), qclass: u16(b, next + 2)))
    }

    /// A message writer that compresses names: each name suffix written once, later ones point to it.
    struct Writer {
        var bytes: [UInt8] = []
        /// Lower-cased wire form of a name suffix → its offset.
        var written: [[UInt8]: Int] = [:]

        mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        mutating func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xFFFF)) }

        mutating func name(_ labels: [[UInt8]]) {
            for i in labels.indices {
                let key = labels[i...].flatMap { [UInt8($0.count)] + $0.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }
                if let at = written[key] {
                    u16(0xC000 | UInt16(at))
                    return
                }
                if bytes.count < 0x3FFF { written[key] = bytes.count }
                bytes.append(UInt8(labels[i].count))
                bytes += labels[i]
            }
            bytes.append(0)
        }

        mutating func name(_ dotted: String) {
            name(dotted.split(separator: ".").map { Array($0.utf8) })
        }

        mutating func record(_ r: Record) {
            name(r.name)
            u16(r.type)
            u16(1)  // IN
            u32(r.ttl)
            let lengthAt = bytes.count
            u16(0)
            switch r.data {
            case .a(let b), .aaaa(let b): bytes += b
            case .cname(let n), .ns(let n): name(n)
            case .mx(let p, let x): u16(p); name(x)
            case .txt(let strings):
                for s in strings {
                    let u = Array(s.utf8.prefix(255))
                    bytes.append(UInt8(u.count))
                    bytes += u
                }
            case .soa(let m, let r, let serial, let refresh, let retry, let expire, let minimum):
                name(m); name(r)
                u32(serial); u32(refresh); u32(retry); u32(expire); u32(minimum)
            case .other: break
            }
            let length = bytes.count - lengthAt - 2
            bytes[lengthAt] = UInt8(length >> 8)
            bytes[lengthAt + 1] = UInt8(length & 0xFF)
        }
    }

    static func buildQuery(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var w = Writer()
        w.u16(id); w.u16(0x0100)  // RD, as stub resolvers send
        w.u16(1); w.u16(0); w.u16(0); w.u16(0)
        w.name(name)
        w.u16(type); w.u16(1)
        return w.bytes
    }

    /// The full answer to `query` (nil: not a query, no answer at all).
    static func respond(to query: [UInt8]) -> [UInt8]? {
        var w = Writer()
        switch parse(query) {
        case .notAQuery:
            return nil
        case .formatError(let id, let flags):
            w.u16(id); w.u16(0x8000 | (flags & 0x7900) | 1)  // QR, opcode and RD kept, FORMERR
            w.u16(0); w.u16(0); w.u16(0); w.u16(0)
            return w.bytes
        case .query(let q):
            let opcode = (q.flags >> 11) & 0xF
            var answer = Answer()
            if opcode != 0 {
                answer.rcode = 4  // NOTIMP
            } else if q.qclass != 1 && q.qclass != 255 {
                answer.rcode = 5
            } else {
                answer = lookup(q.name.lowercased(), q.type)
            }
            // QR, opcode and RD copied, AA for our zone.
            let aa: UInt16 = answer.rcode == 0 || answer.rcode == 3 ? 0x0400 : 0
            w.u16(q.id); w.u16(0x8000 | (q.flags & 0x7900) | aa | UInt16(answer.rcode))
            w.u16(1)
            w.u16(UInt16(answer.answers.count)); w.u16(UInt16(answer.authority.count)); w.u16(UInt16(answer.additional.count))
            w.name(q.labels)
            w.u16(q.type); w.u16(q.qclass)
            for r in answer.answers + answer.authority + answer.additional { w.record(r) }
            return w.bytes
        }
    }

    /// The header and question of the answer, with TC set and no records.
    static func truncatedReply(_ query: [UInt8]) -> [UInt8]? {
        guard case .query(let q) = parse(query) else { return nil }
        var w = Writer()
        w.u16(q.id); w.u16(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0200)
        w.u16(1); w.u16(0); w.u16(0); w.u16(0)
        w.name(q.labels)
        w.u16(q.type); w.u16(q.qclass)
        return w.bytes
    }

    static func describeQuery(_ b: [UInt8]) -> String {
        switch parse(b) {
        case .query(let q): "query id \(hex(q.id)) \(q.name) \(typeName(q.type))"
        case .formatError(let id, _): "query id \(hex(id)) with a question that cannot be read"
        case .notAQuery: "not a DNS query"
        }
    }

    /// A summary of one of our own answers.
    static func describeReply(_ b: [UInt8]) -> String {
        guard b.count >= 12 else { return "?" }
        let flags = u16(b, 2)
        var s = rcodeName(UInt8(flags & 0xF))
        if flags & 0x0200 != 0 { s += ", TC" }
        s += ", \(u16(b, 6)) answer(s), \(u16(b, 8)) authority, \(u16(b, 10)) additional"
        return s
    }

    static func hex(_ v: UInt16) -> String {
        let h = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - h.count) + h
    }

    static func ipv6Text(_ b: [UInt8]) -> String {
        guard b.count == 16 else { return "?" }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: b) }
        guard inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count)) != nil else { return "?" }
        return String(cString: buf)
    }
}

private func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
