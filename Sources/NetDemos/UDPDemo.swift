import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// udp — sendto()/recvfrom() echo: the client sends its datagrams back-to-back, the server echoes
/// each one. Every recvfrom() returns exactly one datagram, whole — the contrast to TCP's byte
/// stream, where the same sends can arrive glued together or cut apart.
///
/// On the wire: one UDP packet per sendto(), each way; no handshake, no ACKs, no teardown.
public enum UDPDemo {
    public static let defaultPort: UInt16 = 9003
    /// The largest UDP payload over IPv4 (65535 − 20 − 8).
    public static let maxDatagram = 65507

    public struct Options: Sendable {
        public var common = DemoOptions()
        /// The small datagrams the client sends, one sendto() each.
        public var messages = ["hello", "world", "how are you?"]
        /// Size of one more, large datagram sent last (0: none) — still one recvfrom().
        public var bigSize = 1400
        /// Server only: exit after echoing this many datagrams (nil: as many as the client sends
        /// with the same options). It also exits when none arrives within the timeout.
        public var serverCount: Int?
        public init() {}

        /// The payloads, in sending order.
        public var payloads: [[UInt8]] {
            var p = messages.map { Array($0.utf8) }
            if bigSize > 0 {
                let pattern = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
                p.append((0 ..< bigSize).map { pattern[$0 % pattern.count] })
            }
            return p
        }
    }

    public struct Result: Sendable {
        /// What the client sent, one element per sendto().
        public var sent: [[UInt8]]
        /// One element per server recvfrom().
        public var serverReceived: [[UInt8]]
        /// One element per client recvfrom() (the echoes).
        public var clientReceived: [[UInt8]]
        public var transcript: [String]
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        if let big = o.payloads.map(\.count).max(), big > maxDatagram {
            throw DemoError("a datagram of \(big) bytes does not fit in UDP (at most \(maxDatagram))")
        }
        var result = Result(sent: [], serverReceived: [], clientReceived: [], transcript: [])
        switch o.common.role {
        case .server:
            let socket = try UDPSocket(host: o.common.host, port: o.common.port(default: defaultPort))
            t.say("server", t.words(.udpBound, ["address": "\(socket.address)"]))
            let capture = try DemoRunner.startCapture(o.common, ports: [socket.address.port])
            result.serverReceived = try serve(socket, o, t)
            capture?.stop()
        case .client:
            let address = try SocketAddress(host: o.common.host, port: o.common.port(default: defaultPort))
            let capture = try DemoRunner.startCapture(o.common, ports: [address.port])
            (result.sent, result.clientReceived) = try client(address, o, t)
            capture?.stop()
        case .both:
            let socket = try UDPSocket(host: o.common.host, port: o.common.port(default: defaultPort))
            t.say("server", t.words(.udpBound, ["address": "\(socket.address)"]))
            let capture = try DemoRunner.startCapture(o.common, ports: [socket.address.port])
            let (received, (sent, echoes)) = try DemoRunner.both(
                server: { () throws(DemoError) in try serve(socket, o, t) },
                client: { () throws(DemoError) in try client(socket.address, o, t) })
            capture?.stop()
            result.serverReceived = received
            result.sent = sent
            result.clientReceived = echoes
        }
        result.transcript = t.all
        return result
    }

    static func serve(_ socket: UDPSocket, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> [[UInt8]] {
        let count = o.serverCount ?? o.payloads.count
        var received: [[UInt8]] = []
        while received.count < count {
            guard let (datagram, from) = try socket.receive(timeout: o.common.timeout) else {
                t.say("server", t.words(.udpNoDatagram, ["s": "\(Int(o.common.timeout))"]))
                break
            }
            received.append(datagram)
            t.say("server", t.words(.udpRecvfrom, ["n": "\(datagram.count)", "from": "\(from)", "bytes": DemoTranscript.show(datagram)]))
            let sentAt = DemoClock.now()
            try socket.send(datagram, to: from)
            t.say("server", t.words(.udpSentBack, ["n": "\(datagram.count)", "from": "\(from)"]), at: sentAt)
        }
        t.say("server", t.words(.udpEchoed, ["k": "\(received.count)"]))
        return received
    }

    static func client(_ address: SocketAddress, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> ([[UInt8]], [[UInt8]]) {
        // An unbound UDP socket would get an ephemeral port at its first sendto(); binding port 0
        // does the same explicitly.
        let socket = try UDPSocket(host: address.family == AF_INET6 ? "::" : "0.0.0.0", port: 0)
        t.say("client", t.words(.udpClientBound, ["port": "\(socket.address.port)", "k": "\(o.payloads.count)"]))
        let payloads = o.payloads
        for p in payloads {
            let sentAt = DemoClock.now()
            try socket.send(p, to: address)
            t.say("client", t.words(.udpSendto, ["address": "\(address)", "n": "\(p.count)", "bytes": DemoTranscript.show(p)]), at: sentAt)
        }
        var echoes: [[UInt8]] = []
        while echoes.count < payloads.count {
            guard let (datagram, from) = try socket.receive(timeout: o.common.timeout) else {
                t.say("client", t.words(.udpNoEcho, ["s": "\(Int(o.common.timeout))"]))
                break
            }
            echoes.append(datagram)
            t.say("client", t.words(.udpRecvfrom, ["n": "\(datagram.count)", "from": "\(from)", "bytes": DemoTranscript.show(datagram)]))
        }
        if echoes.map(\.count) == payloads.map(\.count) {
            t.say("client", t.words(.udpBoundariesKept, ["sends": "\(payloads.count)", "recvs": "\(echoes.count)"]))
        }
        return (payloads, echoes)
    }
}
