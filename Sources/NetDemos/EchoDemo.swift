import NetOutput

/// echo — TCP: the client sends a line, the server replies with it upper-cased, then one side closes.
///
/// On the wire: the three-way handshake, one data segment each way with its ACKs, and the teardown
/// started by whichever side `--closer` names (that side ends in TIME_WAIT).
public enum EchoDemo {
    public static let defaultPort: UInt16 = 9001

    public enum Closer: String, Sendable, CaseIterable { case client, server }

    public struct Options: Sendable {
        public var common = DemoOptions()
        public var message = "hello, server"
        public var closer: Closer = .client
        public init() {}
    }

    public struct Result: Sendable {
        /// What the client received back.
        public var reply: String?
        /// What the server received.
        public var received: String?
        public var transcript: [String]
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        var result = Result(reply: nil, received: nil, transcript: [])
        let (served, got) = try DemoRunner.tcp(o.common, defaultPort: defaultPort, t,
                                               server: { (l) throws(DemoError) in try serve(l, o, t) },
                                               client: { (a) throws(DemoError) in try client(a, o, t) })
        if let served { result.received = served }
        if let got { result.reply = got }
        result.transcript = t.all
        return result
    }

    static func serve(_ listener: TCPListener, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> String? {
        guard let conn = try listener.accept(timeout: o.common.timeout, connectionTimeout: o.common.timeout) else {
            t.say("server", t.words(.demoNoClient, ["s": "\(Int(o.common.timeout))"]))
            return nil
        }
        t.say("server", t.words(.demoAccepted, ["peer": "\(conn.peer)"]))
        guard let line = try conn.receiveLine() else {
            t.say("server", t.words(.demoClosedBeforeSending))
            return nil
        }
        t.say("server", t.words(.demoRecvReturned, ["n": "\(line.count)", "bytes": DemoTranscript.show(line)]))
        let reply = Array(String(decoding: line, as: UTF8.self).uppercased().utf8)
        let sentAt = DemoClock.now()
        try conn.send(reply)
        t.say("server", t.words(.demoSent, ["n": "\(reply.count)", "bytes": DemoTranscript.show(reply)]), at: sentAt)
        if o.closer == .server {
            t.say("server", t.words(.demoServerCloses))
            conn.close()
        } else {
            let end = try conn.receive()
            t.say("server", t.words(end?.isEmpty == true ? .demoClientClosed : .demoWaitedForClient))
            conn.close()
        }
        return String(decoding: line, as: UTF8.self)
    }

    static func client(_ address: SocketAddress, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> String? {
        let conn = try TCPConnection.connect(to: address, timeout: o.common.timeout)
        t.say("client", t.words(.demoConnectedHandshake, ["address": "\(address)"]))
        let line = Array((o.message + "\n").utf8)
        let sentAt = DemoClock.now()
        try conn.send(line)
        t.say("client", t.words(.demoSent, ["n": "\(line.count)", "bytes": DemoTranscript.show(line)]), at: sentAt)
        guard let reply = try conn.receiveLine() else {
            t.say("client", t.words(.demoNoReply))
            return nil
        }
        t.say("client", t.words(.demoRecvReturned, ["n": "\(reply.count)", "bytes": DemoTranscript.show(reply)]))
        if o.closer == .client {
            t.say("client", t.words(.demoClientCloses))
            conn.close()
        } else {
            let end = try conn.receive()
            t.say("client", t.words(end?.isEmpty == true ? .demoServerClosed : .demoWaitedForServer))
            conn.close()
        }
        return String(decoding: reply, as: UTF8.self)
    }
}
