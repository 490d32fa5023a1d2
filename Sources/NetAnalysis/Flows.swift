import NetWire

/// `to − from` in nanoseconds without trapping: capture timestamps are whatever the file says
/// (pcapng allows 64-bit seconds), so the difference saturates instead of overflowing.
@inline(__always)
func elapsed(from: Int, to: Int) -> Int {
    let (d, overflow) = to.subtractingReportingOverflow(from)
    return overflow ? (to > from ? Int.max : Int.min) : d
}

/// One side of a conversation: address and port.
public struct FlowEndpoint: Hashable, Sendable {
    public var hi: UInt64
    public var lo: UInt64
    public var port: UInt16
    public var isIPv6: Bool

    public init(ipv4: IPv4Address, port: UInt16) {
        hi = 0; lo = UInt64(ipv4.raw); self.port = port; isIPv6 = false
    }

    public init(ipv6: IPv6Address, port: UInt16) {
        hi = ipv6.hi; lo = ipv6.lo; self.port = port; isIPv6 = true
    }

    public var ipv4: IPv4Address { IPv4Address(raw: UInt32(truncatingIfNeeded: lo)) }
    public var ipv6: IPv6Address { IPv6Address(hi: hi, lo: lo) }

    static func < (a: FlowEndpoint, b: FlowEndpoint) -> Bool {
        if a.hi != b.hi { return a.hi < b.hi }
        if a.lo != b.lo { return a.lo < b.lo }
        return a.port < b.port
    }
}

/// A bidirectional flow key: the same for both directions of a conversation.
public struct FlowKey: Hashable, Sendable {
    public let low: FlowEndpoint
    public let high: FlowEndpoint
    public let proto: UInt8

    public init(_ a: FlowEndpoint, _ b: FlowEndpoint, proto: UInt8) {
        if b < a { low = b; high = a } else { low = a; high = b }
        self.proto = proto
    }

    public func hash(into h: inout Hasher) {
        h.combine(low.lo); h.combine(high.lo); h.combine(low.port); h.combine(high.port); h.combine(proto)
        h.combine(low.isIPv6)
        if low.isIPv6 { h.combine(low.hi); h.combine(high.hi) }
    }

    /// One multiply-xorshift round over the state and the next word of the key.
    @inline(__always)
    static func round(_ state: UInt64, _ word: UInt64) -> UInt64 {
        var x = (state ^ word) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return x
    }

    /// Dictionary's per-lookup hash without SipHash's setup: every word of the key goes through a
    /// round that starts from the process's random seed (so which keys collide is not known in
    /// advance: a key folded before seeding could be made to collide from one /64 by choosing
    /// addresses), then murmur3's fmix64 finalizer.
    public func _rawHashValue(seed: Int) -> Int {
        let ports = UInt64(low.port) << 48 | UInt64(high.port) << 32 | UInt64(proto) << 8 | (low.isIPv6 ? 1 : 0)
        var x = UInt64(bitPattern: Int64(seed)) ^ 0xD6E8_FEB8_6659_FD93
        x = Self.round(x, low.lo)
        x = Self.round(x, high.lo)
        x = Self.round(x, ports)
        if low.isIPv6 {
            x = Self.round(x, low.hi)
            x = Self.round(x, high.hi)
        }
        x = (x ^ (x >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        x = (x ^ (x >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return Int(bitPattern: UInt(x))
    }
}

public enum FlowDirection: Sendable {
    case clientToServer, serverToClient
}

/// What the tracker says about one packet.
public struct FlowObservation: Sendable {
    public var flowID: Int
    public var direction: FlowDirection
    /// Subtract from seq / ack for tcpdump-style relative numbers (nil: print as carried).
    public var seqBase: UInt32?
    public var ackBase: UInt32?
    /// The conversation's slot in the flow table (reused after it leaves; check `flowID`).
    public internal(set) var slot: Int = -1
    /// TCP: both endpoints' states after this segment (also when no note says so, e.g. the server
    /// leaving SYN_RCVD on its first segment after the handshake).
    public internal(set) var states: (client: TCPState, server: TCPState)? = nil
}

/// A finished (or, at the end, still open) conversation, as `--flows` prints it.
public struct FlowSummary: Sendable {
    public var id: Int
    public var isTCP: Bool
    public var client: FlowEndpoint
    public var server: FlowEndpoint
    /// The first packet seen was not a SYN: the originator is a guess (the first sender).
    public var midstream: Bool
    public var startNanoseconds: Int
    public var lastNanoseconds: Int
    public var packets: (c2s: Int, s2c: Int)
    public var bytes: (c2s: Int, s2c: Int)
    public var handshakeRTTNanoseconds: Int?
    public var connState: String
    public var history: String
    public var end: String
    public var states: (client: TCPState, server: TCPState)
    public var retransmissions: Int
    /// SYNs sent again (same ISN) before the SYN-ACK; the handshake RTT is timed from the last one.
    public var synRetransmissions = 0
    /// Client segments the server did not take while it was still half-open after the client's
    /// handshake ACK (retransmitted data, SYN-ACK retransmissions): the ACK was dropped (on Linux,
    /// the accept queue was full), see docs/backlog.md.
    public var acksIgnored = 0
    /// From the client's handshake ACK to the server's first segment, when the server ignored that
    /// ACK at first (`acksIgnored` > 0) and accepted it later.
    public var serverHalfOpenNanoseconds: Int? = nil
    /// Message framing (nil: raw, not framed): the framing used, whole messages each way,
    /// segments with two or more whole messages, messages that arrived in several segments.
    public var framing: String? = nil
    public var messages: (c2s: Int, s2c: Int) = (0, 0)
    public var stickySegments = 0
    public var splitMessages = 0
    /// Notes per TCP analysis kind (Wireshark's tcp.analysis flags; `retransmissions` above counts
    /// the plain, fast and spurious ones together).
    public var analysis = TCPAnalysisCounts()
    /// The tunnel the conversation travelled in (nil: none).
    public var tunnel: FlowTunnel? = nil
    /// The flow-table slot it held.
    public var slot: Int = -1

    /// Last minus first packet time, never negative, saturating on absurd timestamps.
    public var durationNanoseconds: Int { max(elapsed(from: startNanoseconds, to: lastNanoseconds), 0) }
}

/// Tracks conversations (TCP and UDP) and TCP connection life cycles: handshake and teardown steps,
/// resets, endpoint states, Zeek conn_state/history. Memory is bounded: at most `maxFlows`
/// conversations are held; when full, closed ones go first, then the longest idle, and every
/// conversation that leaves the table is handed to `finished` (so `--flows` can stream it out).
public struct FlowTracker {
    public var maxFlows: Int
    /// Conversations idle this long (capture time) are finished when the table needs room.
    public var idleTimeoutNanoseconds: Int

    struct Conn {
        var id: Int
        var key: FlowKey
        var client: FlowEndpoint
        var server: FlowEndpoint
        var isTCP: Bool
        var midstream: Bool
        var tunnel: FlowTunnel? = nil
        var start: Int
        var last: Int
        var packets = (c2s: 0, s2c: 0)
        var bytes = (c2s: 0, s2c: 0)
        var clientState: TCPState = .closed
        var serverState: TCPState = .listen
        var clientISN: UInt32?
        var serverISN: UInt32?
        /// Bases for relative sequence numbers (tcpdump's): the ISNs, or for a mid-stream start the
        /// first packet's seq and ack − 1.
        var base: (client: UInt32?, server: UInt32?) = (nil, nil)
        /// The last SYN before the SYN-ACK (the one it answers): the handshake RTT starts there.
        var synTime: Int?
        var rtt: Int?
        var synRetransmissions = 0
        var synAckSeen = false
        /// The client's handshake ACK was seen (the client is ESTABLISHED).
        var established = false
        /// The server showed that it took the handshake ACK (a segment from it after the ACK):
        /// until then it is half-open, SYN_RCVD.
        var serverAccepted = false
        var handshakeAckTime: Int?
        var acksIgnored = 0
        var serverHalfOpen: Int?
        var clientFin: UInt32?
        var serverFin: UInt32?
        var clientFinAcked = false
        var serverFinAcked = false
        var firstCloser: FlowDirection?
        var teardownMerged = false
        var resetBy: FlowDirection?
        var refused = false
        var zeek = ZeekConnSummary()
        /// Per direction (0 = client→server, 1 = server→client): what the TCP analysis remembers
        /// (TCPAnalysis.swift), and the window scale announced.
        var seq = (TCPSeqState(), TCPSeqState())
        var windowScale: (UInt8?, UInt8?) = (nil, nil)
        /// Notes of each TCP analysis kind (flow rows count them).
        var analysisCounts = TCPAnalysisCounts()
        var retransmissions = 0
        var afterCloseNoted = false
        /// False once the conversation has left the table (its slot waits for reuse).
        var alive = true
        /// Counted as half-open at its listener (SYN seen, handshake not complete).
        var halfOpen = false

        var closed: Bool {
            resetBy != nil || (clientState == .closed || clientState == .timeWait) && (serverState == .closed || serverState == .timeWait)
        }
    }

    var index: [FlowKey: Int] = [:]

    /// Half-open connections per listener, for the SYN-flood / backlog note.
    struct Pressure {
        var halfOpen = 0
        var sources: Set<UInt64> = []
        var noted = false
    }
    var pressure: [FlowEndpoint: Pressure] = [:]
    /// Half-open connections at one listener that make the note appear (once per listener).
    public var synFloodThreshold = 100
    static let maxDistinctSources = 65_536
    /// Conversations by slot, mutated in place (no copy per packet).
    var conns: [Conn] = []
    var freeSlots: [Int] = []
    var nextID = 1
    /// Receives every conversation that leaves the table (evicted or, via `finishAll`, at the end).
    public var finished: (FlowSummary) -> Void

    public init(maxFlows: Int = 32_768, idleTimeoutSeconds: Int = 300, finished: @escaping (FlowSummary) -> Void = { _ in }) {
        self.maxFlows = max(maxFlows, 16)
        idleTimeoutNanoseconds = idleTimeoutSeconds * 1_000_000_000
        self.finished = finished
    }

    public var count: Int { index.count }

    /// When the connection table reaches this many slots, capacity for `maxFlows` (at most
    /// `reserveLimit`) is reserved in one step.
    static let reserveAt = 1024
    static let reserveLimit = 1 << 17

    /// Observes one decoded packet; appends notes for it; returns its flow, or nil for packets
    /// that belong to no TCP/UDP conversation.
    public mutating func observe(_ p: Packet, frame: Int, seconds: Int, nanoseconds: Int, notes: inout [Note],
                                 tunnel: FlowTunnel? = nil) -> FlowObservation? {
        let proto: UInt8
        let sport: UInt16, dport: UInt16
        if let t = p.tcp, t.isComplete {
            sport = t.sourcePort; dport = t.destinationPort; proto = 6
        } else if let u = p.udp, u.isComplete {
            sport = u.sourcePort; dport = u.destinationPort; proto = 17
        } else {
            return nil
        }
        guard let (src, dst) = Self.endpoints(p, sport, dport) else { return nil }
        let (secs, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let now = overflow ? Int.max : secs &+ nanoseconds
        let key = FlowKey(src, dst, proto: proto)
        let tcp = proto == 6 ? p.tcp : nil
        let isSYN = tcp.map { $0.flags.contains(.syn) && !$0.flags.contains(.ack) } ?? false

        var slot = index[key]
        var firstOfFlow = false
        // Wireshark's reused ports: a SYN whose sequence is not the first one seen from that side.
        var reused = false
        if let t = tcp, t.flags.contains(.syn), let s = slot, conns[s].isTCP {
            let base = src == conns[s].client ? conns[s].seq.0.baseSeq : conns[s].seq.1.baseSeq
            if let b = base, b != t.sequence { reused = true }
        }
        if isSYN, let s = slot, conns[s].isTCP, conns[s].closed, tcp?.sequence != conns[s].clientISN {
            // Port reuse: a new SYN after the old connection closed starts a new connection.
            finish(slot: s)
            slot = nil
        }
        if slot == nil {
            if index.count >= maxFlows { makeRoom(now: now) }
            // The originator sent the SYN; a SYN-ACK seen first means the other side did.
            let synAckFirst = tcp.map { $0.flags.contains(.syn) && $0.flags.contains(.ack) } ?? false
            var c = Conn(id: nextID, key: key, client: synAckFirst ? dst : src, server: synAckFirst ? src : dst,
                         isTCP: proto == 6, midstream: proto == 6 && !isSYN, start: now, last: now)
            if c.midstream { c.clientState = .unknown; c.serverState = .unknown }
            c.tunnel = tunnel
            if c.midstream && !synAckFirst, let t = tcp {
                c.base.client = t.sequence
                if t.flags.contains(.ack) { c.base.server = t.acknowledgment &- 1 }
                firstOfFlow = true
            }
            nextID += 1
            let s: Int
            if let f = freeSlots.popLast() {
                s = f; conns[s] = c
            } else {
                s = conns.count
                if s == Self.reserveAt {
                    // A large table: room for all of it now, instead of doubling (each doubling
                    // holds the old and the new block at once, and the freed blocks stay resident).
                    // Untouched capacity costs address space, not memory.
                    conns.reserveCapacity(min(maxFlows, Self.reserveLimit))
                }
                conns.append(c)
            }
            index[key] = s
            slot = s
            if c.midstream && !synAckFirst {
                notes.append(Note(kind: .midstream, text: "mid-stream: no handshake seen, originator guessed"))
            }
        }
        guard let s = slot else { return nil }
        let wasHalfOpen = conns[s].halfOpen
        let dir: FlowDirection = src == conns[s].client ? .clientToServer : .serverToClient
        conns[s].last = now
        let payload = tcp?.payloadLength ?? max(Int(p.udp?.length ?? 8) - 8, 0)
        if dir == .clientToServer {
            conns[s].packets.c2s += 1; conns[s].bytes.c2s += payload
        } else {
            conns[s].packets.s2c += 1; conns[s].bytes.s2c += payload
        }
        var obs = FlowObservation(flowID: conns[s].id, direction: dir, seqBase: nil, ackBase: nil, slot: s)
        if let t = tcp {
            Self.tcpStep(&conns[s], t, options: p.tcpOptions, dir: dir, now: now, frame: frame, reused: reused,
                         analyzable: !p.errors.contains { $0.layer == .tcp && $0.kind == .truncated }, notes: &notes)
            obs.states = (conns[s].clientState, conns[s].serverState)
            // Listener pressure: count SYNs whose handshake has not completed.
            if !wasHalfOpen && isSYN && conns[s].clientState == .synSent && !conns[s].established {
                conns[s].halfOpen = true
                let server = conns[s].server
                let source = conns[s].client.lo ^ conns[s].client.hi &* 31
                // One in-place access (copying the entry would copy its set of sources per SYN).
                if let (count, sources) = Self.countHalfOpen(&pressure[server, default: Pressure()], source: source,
                                                             threshold: synFloodThreshold) {
                    let many = sources >= Self.maxDistinctSources ? "≥ \(Self.maxDistinctSources)" : "\(sources)"
                    notes.append(Note(kind: .synFlood,
                                      text: "SYN flood / backlog pressure: \(count) half-open connections to this listener from \(many) sources"))
                }
            } else if wasHalfOpen && (conns[s].established || conns[s].closed) {
                conns[s].halfOpen = false
                releaseHalfOpen(conns[s].server)
            }
            if !firstOfFlow { Self.relativeBases(conns[s].base, t, dir, &obs) }
        }
        return obs
    }

    /// tcpdump's relative numbers: from each side's base (first packet of a flow and SYNs print absolute).
    static func relativeBases(_ base: (client: UInt32?, server: UInt32?), _ t: TCPHeader, _ dir: FlowDirection,
                              _ obs: inout FlowObservation) {
        guard !t.flags.contains(.syn) else { return }
        obs.seqBase = dir == .clientToServer ? base.client : base.server
        obs.ackBase = t.flags.contains(.ack) ? (dir == .clientToServer ? base.server : base.client) : nil
    }

    /// Source and destination endpoint of a packet with a complete IPv4 or IPv6 header.
    static func endpoints(_ p: Packet, _ sport: UInt16, _ dport: UInt16) -> (FlowEndpoint, FlowEndpoint)? {
        if let ip = p.ipv4, ip.isComplete {
            return (FlowEndpoint(ipv4: ip.source, port: sport), FlowEndpoint(ipv4: ip.destination, port: dport))
        }
        if let ip = p.ipv6, ip.isComplete {
            return (FlowEndpoint(ipv6: ip.source, port: sport), FlowEndpoint(ipv6: ip.destination, port: dport))
        }
        return nil
    }

    /// The flow of a packet without changing anything (for a duplicate frame: same numbers as the original).
    public func lookup(_ p: Packet) -> FlowObservation? {
        guard let t = p.tcp, t.isComplete else { return nil }
        guard let (src, dst) = Self.endpoints(p, t.sourcePort, t.destinationPort) else { return nil }
        guard let s = index[FlowKey(src, dst, proto: 6)] else { return nil }
        let dir: FlowDirection = src == conns[s].client ? .clientToServer : .serverToClient
        var obs = FlowObservation(flowID: conns[s].id, direction: dir, seqBase: nil, ackBase: nil, slot: s)
        Self.relativeBases(conns[s].base, t, dir, &obs)
        return obs
    }

    /// What Wireshark's analysis would say about `p` in its conversation, without changing anything
    /// (for a duplicate frame, which the tracker does not see: the flags of the first one that applies).
    public func analysisName(of p: Packet, frame: Int, seconds: Int, nanoseconds: Int) -> StaticString? {
        guard let t = p.tcp, t.isComplete else { return nil }
        guard let (src, dst) = Self.endpoints(p, t.sourcePort, t.destinationPort) else { return nil }
        guard let s = index[FlowKey(src, dst, proto: 6)] else { return nil }
        let (secs, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let now = overflow ? Int.max : secs &+ nanoseconds
        var a = conns[s].seq.0, b = conns[s].seq.1
        var n = 0, of = 0
        let flags = src == conns[s].client
            ? Self.analyze(&a, &b, t, now: now, frame: frame, initialRTT: conns[s].rtt, dupNumber: &n, dupOf: &of)
            : Self.analyze(&b, &a, t, now: now, frame: frame, initialRTT: conns[s].rtt, dupNumber: &n, dupOf: &of)
        for (flag, _, name) in TCPAnalysisFlags.order.reversed() where flags.contains(flag) { return name }
        return nil
    }

    /// The window scale shift (RFC 7323) that applies to a TCP segment's window field: the
    /// sender's own announced scale, once both SYNs of its tracked connection carried the option
    /// (nil: not negotiated, not known, not tracked, or a SYN, whose window is never scaled).
    /// A lookup, for the `-v` view: the per-packet path does not pay for it.
    public func windowShift(of p: Packet) -> UInt8? {
        guard let t = p.tcp, t.isComplete, !t.flags.contains(.syn) else { return nil }
        guard let (src, dst) = Self.endpoints(p, t.sourcePort, t.destinationPort) else { return nil }
        guard let s = index[FlowKey(src, dst, proto: 6)], let c = conns[s].windowScale.0, let v = conns[s].windowScale.1 else { return nil }
        return src == conns[s].client ? c : v
    }

    // MARK: the TCP life cycle

    static func tcpStep(_ c: inout Conn, _ t: TCPHeader, options: [TCPOption], dir: FlowDirection, now: Int, frame: Int,
                        reused: Bool = false, analyzable: Bool = true, notes: inout [Note]) {
        let f = t.flags
        let fromClient = dir == .clientToServer
        // Computed where a note uses them (two String locals would be destroyed on every segment).
        var who: String { fromClient ? "client" : "server" }
        var other: String { fromClient ? "server" : "client" }
        let len = UInt32(truncatingIfNeeded: t.payloadLength)
        let d = fromClient ? 0 : 1
        // Wireshark's expert analysis (TCPAnalysis.swift): the flags, then one note per flag.
        // Window scale, as Wireshark learns it: the option on any segment sets its sender's scale;
        // a SYN without it means no scaling either way, and a SYN-ACK with it after a SYN without
        // it means none too.
        var ws: Int8?
        for o in options { if case .windowScale(let v) = o { ws = Int8(min(v, 14)) } }
        if f.contains(.syn) {
            if d == 0 { c.windowScale.0 = ws.map { UInt8($0) } } else { c.windowScale.1 = ws.map { UInt8($0) } }
        }
        if let ws { if d == 0 { c.seq.0.scale = ws } else { c.seq.1.scale = ws } }
        if f.contains(.syn) {
            if ws == nil {
                c.seq.0.scale = -1; c.seq.1.scale = -1
            } else if f.contains(.ack) && (d == 0 ? c.seq.1.scale : c.seq.0.scale) == -1 {
                if d == 0 { c.seq.0.scale = -1 } else { c.seq.1.scale = -1 }
            }
        }
        var dupNumber = 0, dupOf = 0
        var flags: TCPAnalysisFlags
        let expected = d == 0 ? c.seq.0.nextSeq : c.seq.1.nextSeq
        // Data resent within 3 ms (and within the handshake RTT) of the highest segment: a
        // reordering, not a sender's timeout. The backlog lesson and Zeek's T letter count only
        // resends after that (a server that dropped the handshake ACK makes the client time out).
        let sinceHighest = elapsed(from: d == 0 ? c.seq.0.nextSeqTime : c.seq.1.nextSeqTime, to: now)
        let quick = len > 0 && sinceHighest < 3_000_000 && (c.rtt.map { sinceHighest < $0 } ?? true)
        if reused {
            // A new SYN (another ISN) on the same ports: Wireshark starts the analysis afresh.
            let scale = d == 0 ? c.seq.0.scale : c.seq.1.scale
            c.seq = (TCPSeqState(), TCPSeqState())
            if d == 0 { c.seq.0.scale = scale } else { c.seq.1.scale = scale }
        }
        if d == 0 {
            flags = Self.analyze(&c.seq.0, &c.seq.1, t, now: now, frame: frame, initialRTT: c.rtt, dupNumber: &dupNumber, dupOf: &dupOf)
        } else {
            flags = Self.analyze(&c.seq.1, &c.seq.0, t, now: now, frame: frame, initialRTT: c.rtt, dupNumber: &dupNumber, dupOf: &dupOf)
        }
        if reused { flags.insert(.reusedPorts) }
        // A header cut by the capture (options missing): the analysis remembers the segment, but
        // Wireshark stops before it shows the verdict.
        if !analyzable { flags = [] }
        if !flags.isEmpty {
            c.analysisCounts.add(flags)
            Self.analysisNotes(flags, t, fromClient: fromClient, missing: Int(Int32(bitPattern: t.sequence &- expected)), dupNumber: dupNumber, dupOf: dupOf, notes: &notes)
        }
        let retransmission = !flags.isDisjoint(with: [.retransmission, .fastRetransmission, .spuriousRetransmission])
        if retransmission { c.retransmissions += 1 }
        let resent = retransmission && !quick && !f.contains(.syn)
        // Data while the handshake is not complete.
        let completesHandshake = fromClient && c.synAckSeen && f.contains(.ack) && t.acknowledgment == (c.serverISN ?? 0) &+ 1
        if len > 0 && !c.established && !c.midstream && !f.contains(.syn) && !completesHandshake {
            notes.append(Note(kind: .dataBeforeHandshake, text: "data before the handshake completed"))
        }
        c.zeek.record(fromOriginator: fromClient, flags: f, payloadLength: t.payloadLength,
                      isRetransmission: resent,
                      badChecksum: t.checksumStatus == .bad, zeroWindow: t.window == 0 && !f.contains(.rst))

        if c.closed && !f.contains(.syn) {
            if !c.afterCloseNoted && !f.contains(.rst) {
                c.afterCloseNoted = true
                notes.append(Note(kind: .afterClose, text: "segment after close", states: (c.clientState, c.serverState), byClient: fromClient))
            }
            return
        }
        if f.contains(.rst) {
            if !c.synAckSeen && !fromClient && c.clientISN != nil && !c.established {
                c.refused = true
                c.resetBy = dir
                c.clientState = .closed; c.serverState = .closed
                notes.append(Note(kind: .reset, text: "connection refused (RST answers the SYN)", states: (c.clientState, c.serverState), step: .refused, byClient: fromClient))
            } else {
                let state = fromClient ? c.clientState : c.serverState
                c.resetBy = dir
                c.clientState = .closed; c.serverState = .closed
                notes.append(Note(kind: .reset, text: "reset by \(who) in \(state.rawValue)", states: (c.clientState, c.serverState), step: .abort, byClient: fromClient))
            }
            return
        }
        if f.contains(.syn) && !f.contains(.ack) {
            if fromClient {
                if c.clientISN == nil || c.clientISN == t.sequence && !c.synAckSeen {
                    let again = c.clientISN != nil
                    c.clientISN = t.sequence
                    c.base.client = t.sequence
                    // The SYN-ACK answers the latest SYN (tshark's tcp.analysis.initial_rtt does the same).
                    c.synTime = now
                    if again { c.synRetransmissions += 1 }
                    c.clientState = .synSent
                    c.serverState = .synReceived
                    if again {
                        var n = Note(kind: .synRetransmission, text: "SYN retransmission: half-open, no answer yet",
                                     states: (c.clientState, c.serverState), byClient: true)
                        Self.takeRetransmission(into: &n, &c, &notes)
                        notes.append(n)
                    } else {
                        notes.append(Note(kind: .handshake, text: "handshake 1/3", states: (c.clientState, c.serverState), step: .syn, byClient: true))
                    }
                }
            }
            return
        }
        if f.contains(.syn) && f.contains(.ack) {
            if !fromClient, let isn = c.clientISN, t.acknowledgment == isn &+ 1 {
                let again = c.synAckSeen
                c.serverISN = t.sequence
                c.base.server = t.sequence
                c.synAckSeen = true
                if c.established && !c.serverAccepted && c.handshakeAckTime != nil {
                    // The client's ACK came, yet the server still retransmits its SYN-ACK: it did
                    // not take the ACK (on Linux: accept queue full, tcp_abort_on_overflow = 0).
                    c.acksIgnored += 1
                    var n = Note(kind: .handshake, text: "handshake 2/3 again (SYN-ACK retransmission)",
                                 states: (c.clientState, c.serverState), step: .synAckAgain, byClient: false)
                    Self.takeRetransmission(into: &n, &c, &notes)
                    notes.append(n)
                    notes.append(Note(kind: .ackNotAccepted, text: "ACK not accepted by server: accept queue full?",
                                      states: (c.clientState, c.serverState)))
                    return
                }
                if !c.established { c.clientState = .established }
                c.serverState = .synReceived
                var n = Note(kind: .handshake, text: again ? "handshake 2/3 again (SYN-ACK retransmission)" : "handshake 2/3 (acks SYN)",
                             states: (c.clientState, c.serverState), step: again ? .synAckAgain : .synAck, byClient: false)
                if again { Self.takeRetransmission(into: &n, &c, &notes) }
                notes.append(n)
            } else if !fromClient && c.clientISN == nil {
                // The SYN was not captured: the SYN-ACK's sequence still anchors the server side.
                c.serverISN = t.sequence
                c.clientISN = t.acknowledgment &- 1
                c.base = (t.acknowledgment &- 1, t.sequence)
                c.synAckSeen = true
                c.clientState = .established
                c.serverState = .synReceived
                notes.append(Note(kind: .handshake, text: "handshake 2/3 (SYN not captured)", states: (c.clientState, c.serverState), step: .synAckNoSyn, byClient: false))
            }
            return
        }
        // The ACK that completes the handshake.
        if !c.established && c.synAckSeen && fromClient && f.contains(.ack),
           let cisn = c.clientISN, let sisn = c.serverISN,
           t.sequence == cisn &+ 1, t.acknowledgment == sisn &+ 1 {
            c.established = true
            c.handshakeAckTime = now
            // The client is ESTABLISHED; the server stays SYN_RCVD (half-open) until a segment
            // from it shows that it took this ACK (a full accept queue drops it).
            c.clientState = .established
            var rtt: Int?
            if let syn = c.synTime { rtt = elapsed(from: syn, to: now); c.rtt = rtt }
            // (One string, built directly: this runs once per connection.)
            var text = "handshake 3/3"
            let resent = c.synRetransmissions
            if rtt != nil || resent > 0 {
                text += " ("
                if let rtt { text += "RTT " + Self.duration(rtt) }
                if resent > 0 { text += (rtt == nil ? "" : ", ") + "after \(resent) SYN retransmission" + (resent == 1 ? "" : "s") }
                text += ")"
            }
            notes.append(Note(kind: .handshake, text: text, states: (c.clientState, c.serverState), rttNanoseconds: rtt,
                              step: .handshakeAck, byClient: true))
            if t.payloadLength == 0 && !f.contains(.fin) { return }
        }
        if c.established && !c.serverAccepted && c.handshakeAckTime != nil {
            if !fromClient {
                // Anything but a SYN-ACK or RST from the server after the handshake ACK: it has a
                // full socket now (ESTABLISHED, waiting in or taken from the accept queue).
                c.serverAccepted = true
                if c.serverState == .synReceived { c.serverState = .established }
                if c.acksIgnored > 0, let ackTime = c.handshakeAckTime {
                    let waited = elapsed(from: ackTime, to: now)
                    c.serverHalfOpen = waited
                    let n = c.acksIgnored
                    notes.append(Note(kind: .serverAccepted,
                                      text: "server took the ACK at last: ESTABLISHED after \(Self.duration(waited)) half-open, \(n) client segment\(n == 1 ? "" : "s") ignored",
                                      states: (c.clientState, c.serverState)))
                }
            } else if resent {
                // The client sends again what the server never acknowledged: the server is still
                // half-open, it dropped the handshake ACK and this data with it.
                c.acksIgnored += 1
                notes.append(Note(kind: .ackNotAccepted, text: "ACK not accepted by server: accept queue full?",
                                  states: (c.clientState, c.serverState)))
            }
        }
        if c.midstream && c.clientState == .unknown {
            c.clientState = .established; c.serverState = .established; c.established = true
        }
        // Data after the other side's FIN: a half-close in use.
        let peerFin = fromClient ? c.serverFin : c.clientFin
        if t.payloadLength > 0 && peerFin != nil && !f.contains(.fin) && (fromClient ? c.clientFin : c.serverFin) == nil {
            notes.append(Note(kind: .halfClose, text: "half-close: \(who) still sends after the \(other)'s FIN", states: (c.clientState, c.serverState), byClient: fromClient))
        }
        // ACK of the other side's FIN.
        var ackedPeerFinNow = false
        if f.contains(.ack), let pf = peerFin, t.acknowledgment == pf &+ 1 {
            let alreadyAcked = fromClient ? c.serverFinAcked : c.clientFinAcked
            if !alreadyAcked {
                ackedPeerFinNow = true
                if fromClient { c.serverFinAcked = true } else { c.clientFinAcked = true }
                // The FIN's sender: FIN_WAIT_1 → FIN_WAIT_2, CLOSING → TIME_WAIT, LAST_ACK → CLOSED.
                var finSender = fromClient ? c.serverState : c.clientState
                switch finSender {
                case .finWait1: finSender = .finWait2
                case .closing: finSender = .timeWait
                case .lastAck: finSender = .closed
                default: break
                }
                if fromClient { c.serverState = finSender } else { c.clientState = finSender }
                if !f.contains(.fin) {
                    let kind: Note.Step = finSender == .finWait2 ? .ackFirstFin : finSender == .closed ? .ackLastFin : .simultaneousAck
                    let step = finSender == .finWait2 ? "teardown 2/4 (\(who) acks the \(other)'s FIN)"
                        : finSender == .closed ? "teardown 4/4 (\(who) acks the last FIN)"
                        : "teardown: \(who) acks the \(other)'s FIN (simultaneous close)"
                    notes.append(Note(kind: .teardown, text: step, states: (c.clientState, c.serverState), step: kind, byClient: fromClient))
                }
            }
        }
        if f.contains(.fin) {
            let ownFin = fromClient ? c.clientFin : c.serverFin
            if ownFin == nil {
                let finSeq = t.sequence &+ UInt32(truncatingIfNeeded: t.payloadLength)
                if fromClient { c.clientFin = finSeq } else { c.serverFin = finSeq }
                let mine = fromClient ? c.clientState : c.serverState
                var next: TCPState
                var text: String
                var kind = Note.Step.firstFin
                if peerFin == nil {
                    c.firstCloser = dir
                    next = .finWait1
                    text = "teardown 1/4 (FIN from \(who))"
                    if fromClient { c.serverState = .closeWait } else { c.clientState = .closeWait }
                } else if fromClient ? c.serverFinAcked : c.clientFinAcked {
                    // This side had acknowledged the peer's FIN (now or before): the normal close.
                    next = .lastAck
                    if ackedPeerFinNow {
                        // This FIN also acknowledges the first one: the 3-segment form.
                        c.teardownMerged = true
                        text = "teardown 2+3/4 (FIN+ACK from \(who))"
                        kind = .finAck
                    } else {
                        text = "teardown 3/4 (FIN from \(who))"
                        kind = .secondFin
                    }
                } else {
                    // Both sent FIN before either acknowledged the other's: simultaneous close.
                    next = .closing
                    if fromClient { c.serverState = .closing } else { c.clientState = .closing }
                    _ = mine
                    text = "teardown: simultaneous close (FIN from \(who) too)"
                    kind = .simultaneousFin
                }
                if fromClient { c.clientState = next } else { c.serverState = next }
                notes.append(Note(kind: .teardown, text: text, states: (c.clientState, c.serverState), step: kind, byClient: fromClient))
            }
        }
        // FIN_WAIT_2 becomes TIME_WAIT when the peer's FIN arrives; the observer sees that FIN.
        if f.contains(.fin) {
            if fromClient, c.serverState == .finWait2 { c.serverState = .timeWait }
            if !fromClient, c.clientState == .finWait2 { c.clientState = .timeWait }
            if let last = notes.last, last.kind == .teardown { notes[notes.count - 1].states = (c.clientState, c.serverState) }
        }
    }

    /// A SYN or SYN-ACK sent again has its own note (the handshake's words, the backlog lesson's):
    /// Wireshark's retransmission verdict on the same segment moves into it as its `wireshark` name,
    /// and it is not counted among the connection's retransmissions (flows count SYNs sent again
    /// apart, as `syn_retransmissions`).
    static func takeRetransmission(into n: inout Note, _ c: inout Conn, _ notes: inout [Note]) {
        guard let i = notes.lastIndex(where: { $0.kind == .retransmission }) else { return }
        notes.remove(at: i)
        n.wireshark = "tcp.analysis.retransmission"
        c.analysisCounts.remove(.retransmission)
        c.retransmissions -= 1
    }

    public static func durationText(_ ns: Int) -> String { duration(ns) }

    static func duration(_ ns: Int) -> String {
        if ns < 1_000_000 { return "\(ns / 1000) µs" }
        let ms = Double(ns) / 1_000_000
        return ms < 100 ? "\(Double(Int(ms * 100)) / 100) ms" : "\(Int(ms)) ms"
    }

    // MARK: leaving the table

    func summary(_ c: Conn) -> FlowSummary {
        let end: String
        if !c.isTCP {
            end = "open"
        } else if let r = c.resetBy {
            end = c.refused ? "refused (rst by server)" : "rst by \(r == .clientToServer ? "client" : "server")"
        } else if let first = c.firstCloser {
            end = "fin by \(first == .clientToServer ? "client" : "server")"
        } else {
            end = "open"
        }
        return FlowSummary(id: c.id, isTCP: c.isTCP, client: c.client, server: c.server, midstream: c.midstream,
                           startNanoseconds: c.start, lastNanoseconds: c.last, packets: c.packets, bytes: c.bytes,
                           handshakeRTTNanoseconds: c.rtt, connState: c.isTCP ? c.zeek.connState : "",
                           history: c.isTCP ? c.zeek.history : "", end: end,
                           states: (c.clientState, c.serverState), retransmissions: c.retransmissions,
                           synRetransmissions: c.synRetransmissions, acksIgnored: c.acksIgnored,
                           serverHalfOpenNanoseconds: c.serverHalfOpen,
                           analysis: c.analysisCounts, tunnel: c.tunnel)
    }

    mutating func finish(slot s: Int, evicted: Bool = false) {
        guard conns[s].alive else { return }
        var sum = summary(conns[s])
        sum.slot = s
        if evicted && sum.end == "open" { sum.end = "evicted" }
        finished(sum)
        index[conns[s].key] = nil
        if conns[s].halfOpen { releaseHalfOpen(conns[s].server) }
        conns[s].alive = false
        conns[s].zeek = ZeekConnSummary()  // drop its history now, not when the slot is reused
        freeSlots.append(s)
    }

    /// Counts one more half-open connection; returns (half-open, distinct sources) the first time
    /// the threshold is reached.
    static func countHalfOpen(_ pr: inout Pressure, source: UInt64, threshold: Int) -> (Int, Int)? {
        pr.halfOpen += 1
        if pr.sources.count < maxDistinctSources { pr.sources.insert(source) }
        guard pr.halfOpen >= threshold, !pr.noted else { return nil }
        pr.noted = true
        return (pr.halfOpen, pr.sources.count)
    }

    mutating func releaseHalfOpen(_ server: FlowEndpoint) {
        guard pressure[server] != nil else { return }
        pressure[server, default: Pressure()].halfOpen -= 1
        if let pr = pressure[server], pr.halfOpen <= 0, !pr.noted { pressure[server] = nil }
    }

    /// Frees room: closed conversations first, then idle ones, then the oldest by last activity.
    mutating func makeRoom(now: Int) {
        // Down to three quarters, so the sweep (linear in the table) runs once per maxFlows/4 new flows.
        let target = maxFlows * 3 / 4
        var victims: [(last: Int, slot: Int)] = []
        for s in conns.indices where conns[s].alive {
            if conns[s].closed || elapsed(from: conns[s].last, to: now) > idleTimeoutNanoseconds {
                finish(slot: s, evicted: true)
            } else {
                victims.append((conns[s].last, s))
            }
        }
        if index.count > target {
            victims.sort { $0.last < $1.last }
            for v in victims.prefix(index.count - target) { finish(slot: v.slot, evicted: true) }
        }
    }

    /// Hands every conversation still in the table to `finished`, in id order.
    public mutating func finishAll() {
        let order = conns.indices.filter { conns[$0].alive }.map { (conns[$0].id, $0) }.sorted { $0.0 < $1.0 }
        for (_, s) in order { finish(slot: s) }
    }
}
