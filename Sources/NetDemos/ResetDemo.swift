import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// reset — an abortive close: the client sets SO_LINGER 0 (or exits with a reply still unread) and
/// closes mid-conversation, so the kernel sends RST instead of FIN; the server's next recv() fails
/// with ECONNRESET, and the server handles it instead of crashing.
///
/// On the wire: the three-way handshake, one line each way with its ACKs, then a single RST from the
/// client — no FIN exchange, and nobody ends in TIME_WAIT.
public enum ResetDemo {
    public static let defaultPort: UInt16 = 9009

    /// How the client disappears.
    public enum Mode: String, Sendable, CaseIterable {
        /// setsockopt(SO_LINGER, {on, 0}), then close(): the textbook abortive close.
        case linger0
        /// close() with the server's reply still unread in the receive buffer, as when the program
        /// exits (or crashes) mid-conversation: the kernel sends RST for the data it throws away.
        case exit
    }

    public struct Options: Sendable {
        public var common = DemoOptions()
        public var mode: Mode = .linger0
        /// The line the client sends before it vanishes.
        public var message = "hello, server"
        public init() {}
    }

    public struct Result: Sendable {
        /// What the server received before the reset.
        public var received: String?
        /// The errno the server's recv() failed with after the client vanished ("ECONNRESET").
        public var serverError: String?
        /// True when the server saw ECONNRESET (and handled it).
        public var serverSawReset: Bool
        /// What send() said when the server tried to write to the dead connection ("EPIPE").
        public var sendAfterReset: String?
        public var transcript: [String]
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        var result = Result(received: nil, serverError: nil, serverSawReset: false, sendAfterReset: nil, transcript: [])
        switch o.common.role {
        case .server:
            let listener = try TCPListener(host: o.common.host, port: o.common.port(default: defaultPort))
            t.say("server", t.words(.demoListening, ["address": "\(listener.address)"]))
            let capture = try DemoRunner.startCapture(o.common, ports: [listener.address.port])
            let s = try serve(listener, o, t)
            capture?.stop()
            result.apply(s)
        case .client:
            let address = try SocketAddress(host: o.common.host, port: o.common.port(default: defaultPort))
            let capture = try DemoRunner.startCapture(o.common, ports: [address.port])
            try client(address, o, t)
            capture?.stop()
        case .both:
            let listener = try TCPListener(host: o.common.host, port: o.common.port(default: defaultPort))
            t.say("server", t.words(.demoListening, ["address": "\(listener.address)"]))
            let capture = try DemoRunner.startCapture(o.common, ports: [listener.address.port])
            let (s, _) = try DemoRunner.both(server: { () throws(DemoError) in try serve(listener, o, t) },
                                             client: { () throws(DemoError) in try client(listener.address, o, t) })
            capture?.stop()
            result.apply(s)
        }
        result.transcript = t.all
        return result
    }

    /// The symbolic name of an errno value the demos meet ("ECONNRESET"), or nil.
    public static func errnoName(_ code: Int32?) -> String? {
        guard let code else { return nil }
        switch code {
        case ECONNRESET: return "ECONNRESET"
        case EPIPE: return "EPIPE"
        case ECONNREFUSED: return "ECONNREFUSED"
        case ETIMEDOUT: return "ETIMEDOUT"
        case ENOTCONN: return "ENOTCONN"
        case EBADF: return "EBADF"
        case EHOSTUNREACH: return "EHOSTUNREACH"
        case ENETUNREACH: return "ENETUNREACH"
        case EAGAIN: return "EAGAIN"
        case EINTR: return "EINTR"
        default: return nil
        }
    }

    /// "recv() failed: Connection reset by peer (ECONNRESET)" for a failed call.
    static func failure(_ call: String, _ error: DemoError, _ t: DemoTranscript) -> String {
        guard let code = error.code else { return t.words(.resetFailed, ["call": call, "message": error.message]) }
        let name = errnoName(code) ?? "errno \(code)"
        return t.words(.resetFailedCode, ["call": call, "message": String(cString: strerror(code)), "name": name])
    }

    struct ServerOutcome {
        var received: String?
        var error: String?
        var sawReset = false
        var sendError: String?
    }

    static func serve(_ listener: TCPListener, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> ServerOutcome {
        var out = ServerOutcome()
        guard let conn = try listener.accept(timeout: o.common.timeout, connectionTimeout: o.common.timeout) else {
            t.say("server", t.words(.demoNoClient, ["s": "\(Int(o.common.timeout))"]))
            return out
        }
        t.say("server", t.words(.demoAccepted, ["peer": "\(conn.peer)"]))
        // Everything on the connection may fail once the client is gone: handle it, never crash.
        do throws(DemoError) {
            guard let line = try conn.receiveLine() else {
                t.say("server", t.words(.demoClosedBeforeSending))
                return out
            }
            out.received = String(decoding: line, as: UTF8.self)
            t.say("server", t.words(.demoRecvReturned, ["n": "\(line.count)", "bytes": DemoTranscript.show(line)]))
            let reply = Array(String(decoding: line, as: UTF8.self).uppercased().utf8)
            let sentAt = DemoClock.now()
            try conn.send(reply)
            t.say("server", t.words(.demoSent, ["n": "\(reply.count)", "bytes": DemoTranscript.show(reply)]), at: sentAt)
            t.say("server", t.words(.resetWaitingNext))
            guard let more = try conn.receive() else {
                t.say("server", t.words(.resetNothing, ["s": "\(Int(o.common.timeout))"]))
                conn.close()
                return out
            }
            if more.isEmpty {
                t.say("server", t.words(.resetClosedNormally))
            } else {
                t.say("server", t.words(.demoRecvReturned, ["n": "\(more.count)", "bytes": DemoTranscript.show(more)]))
            }
            conn.close()
            return out
        } catch {
            out.error = errnoName(error.code) ?? error.message
            out.sawReset = error.code == ECONNRESET
            t.say("server", failure("recv()", error, t))
        }
        if out.sawReset {
            t.say("server", t.words(.resetAborted))
        }
        // What writing to a reset connection does: an error, not a crash (MSG_NOSIGNAL, no SIGPIPE).
        let probe = Array("are you still there?\n".utf8)
        do throws(DemoError) {
            let sentAt = DemoClock.now()
            try conn.send(probe)
            t.say("server", t.words(.resetSentProbe, ["n": "\(probe.count)", "bytes": DemoTranscript.show(probe)]), at: sentAt)
        } catch {
            out.sendError = errnoName(error.code) ?? error.message
            t.say("server", t.words(.resetSigpipe, ["failure": failure("send()", error, t)]))
        }
        t.say("server", t.words(.resetHandled))
        conn.closeDescriptor()
        return out
    }

    static func client(_ address: SocketAddress, _ o: Options, _ t: DemoTranscript) throws(DemoError) {
        let conn = try TCPConnection.connect(to: address, timeout: o.common.timeout)
        t.say("client", t.words(.demoConnectedHandshake, ["address": "\(address)"]))
        let line = Array((o.message + "\n").utf8)
        let sentAt = DemoClock.now()
        try conn.send(line)
        t.say("client", t.words(.demoSent, ["n": "\(line.count)", "bytes": DemoTranscript.show(line)]), at: sentAt)
        switch o.mode {
        case .linger0:
            guard let reply = try conn.receiveLine() else {
                t.say("client", t.words(.demoNoReply))
                conn.closeDescriptor()
                return
            }
            t.say("client", t.words(.demoRecvReturned, ["n": "\(reply.count)", "bytes": DemoTranscript.show(reply)]))
            conn.setLingerZero()
            t.say("client", t.words(.resetLinger))
            conn.closeDescriptor()
        case .exit:
            guard wait(conn.fd, seconds: o.common.timeout) else {
                t.say("client", t.words(.resetNoReplyWithin, ["s": "\(Int(o.common.timeout))"]))
                conn.closeDescriptor()
                return
            }
            var peek = [UInt8](repeating: 0, count: 65536)
            let n = peek.withUnsafeMutableBytes { recv(conn.fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
            t.say("client", t.words(.resetUnread, ["n": "\(max(n, 0))"]))
            t.say("client", t.words(.resetExit))
            conn.closeDescriptor()
        }
    }
}

extension ResetDemo.Result {
    fileprivate mutating func apply(_ s: ResetDemo.ServerOutcome) {
        received = s.received
        serverError = s.error
        serverSawReset = s.sawReset
        sendAfterReset = s.sendError
    }
}
