import NetWire

/// What a bounded statistics table ranks its entries by.
public protocol StatisticsWeighted {
    var weight: Int { get }
}

/// One node of the protocol hierarchy: what a frame carried at one level.
public enum ProtocolNode: Hashable, Sendable {
    /// The link type (a DLT value), the root of every frame's path.
    case link(Int32)
    /// One 802.1Q / 802.1ad (QinQ) tag, by the EtherType that announced it.
    case vlan(tpid: UInt16)
    /// An IEEE 802.3 frame (a length, not an EtherType): LLC, not decoded.
    case llc
    /// The network protocol the link header announced.
    case etherType(UInt16)
    /// The transport protocol (IPv4 protocol / IPv6 upper-layer next header).
    case ipProtocol(UInt8)
    /// A non-first IP fragment: no transport header in it.
    case fragment
    /// A DNS message.
    case dns
    /// Application bytes not decoded.
    case data
    /// Protocols seen after the hierarchy reached its size limit (`CaptureStatistics.maxHierarchyNodes`).
    case other
    /// A shim or tunnel header (MPLS, PPPoE, MACsec, NSH, VXLAN, Geneve, GRE, PIM), by its layer.
    case encapsulation(Layer)
}

/// Counters over a whole capture for `--stats`: the protocol hierarchy (frames and bytes per
/// protocol path, as tshark's `-z io,phs`), top talkers, conversations and their outcomes (Zeek
/// conn_state), DNS rcodes and names, and the analysis annotations by kind.
///
/// Memory is bounded on any capture: the tables of addresses and DNS names hold at most
/// `tableCapacity` entries; when one fills up, its less busy half is dropped (the counts shown are
/// then lower bounds, and `approximate` says so).
///
/// A value: the per-packet counting mutates it in place without the dynamic exclusivity checks a
/// class's properties would cost on every access. Conversations arrive through the flow table's
/// callback, which needs a reference: they are counted by a `ConversationCounter` and handed over
/// at the end (`flows`).
public struct CaptureStatistics {
    public struct Counter: Sendable {
        public var frames = 0
        public var bytes = 0
        public init(frames: Int = 0, bytes: Int = 0) {
            self.frames = frames
            self.bytes = bytes
        }
    }

    /// The hierarchy as a tree in an array: node 0 is the root (all frames).
    public struct HierarchyNode: Sendable {
        public var node: ProtocolNode?
        public var count = Counter()
        public var children: [Int] = []
    }

    public struct Host: Hashable, Sendable, Comparable {
        public var hi: UInt64
        public var lo: UInt64
        public var isIPv6: Bool
        public static func < (a: Host, b: Host) -> Bool {
            if a.isIPv6 != b.isIPv6 { return !a.isIPv6 }
            return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo
        }
        /// Every word goes through the seeded hasher (a fold before it would let chosen IPv6
        /// addresses all collide); IPv4 hosts cost one word.
        public func hash(into h: inout Hasher) {
            h.combine(lo)
            if isIPv6 { h.combine(hi) }
        }
        public var ipv4: IPv4Address { IPv4Address(raw: UInt32(truncatingIfNeeded: lo)) }
        public var ipv6: IPv6Address { IPv6Address(hi: hi, lo: lo) }
    }

    public struct Talker: Sendable, StatisticsWeighted {
        public var sentPackets = 0
        public var sentBytes = 0
        public var receivedPackets = 0
        public var receivedBytes = 0
        public var packets: Int { sentPackets &+ receivedPackets }
        public var bytes: Int { sentBytes &+ receivedBytes }
        public var weight: Int { bytes }
    }

    /// How often a DNS name was asked for.
    public struct NameCount: Sendable, StatisticsWeighted {
        public var count = 0
        public var weight: Int { count }
    }

    /// A table of at most `capacity` keys; adding a key to a full table first drops the half with
    /// the smallest weights.
    public struct BoundedTable<Key: Hashable, Value: StatisticsWeighted> {
        public private(set) var entries: [Key: Value] = [:]
        public let capacity: Int
        /// Entries were dropped: counts are lower bounds, and keys that lost out are missing.
        public private(set) var pruned = false

        init(capacity: Int) {
            self.capacity = max(capacity, 2)
        }

        mutating func update(_ key: Key, default value: @autoclosure () -> Value, _ body: (inout Value) -> Void) {
            if entries.count >= capacity && entries[key] == nil { prune() }
            body(&entries[key, default: value()])
        }

        /// Keeps the `capacity / 2` heaviest entries: one sort of the weights finds the cut, one
        /// pass keeps what is above it (and as many at it as fit).
        private mutating func prune() {
            let keep = capacity / 2
            var weights = [Int]()
            weights.reserveCapacity(entries.count)
            for v in entries.values { weights.append(v.weight) }
            weights.sort(by: >)
            let cut = weights[min(keep, weights.count) - 1]
            var atCut = keep - weights.prefix(keep).reduce(0) { $0 + ($1 > cut ? 1 : 0) }
            var kept: [Key: Value] = [:]
            kept.reserveCapacity(capacity)
            for (k, v) in entries {
                let w = v.weight
                if w > cut {
                    kept[k] = v
                } else if w == cut && atCut > 0 {
                    atCut -= 1
                    kept[k] = v
                }
            }
            entries = kept
            pruned = true
        }

        /// The `n` heaviest entries, heaviest first; equal weights in the order `before` gives their
        /// keys (so the result does not depend on hashing). One pass, keeping the best `n`.
        public func top(_ n: Int, before: (Key, Key) -> Bool) -> [(key: Key, value: Value)] {
            guard n > 0 else { return [] }
            func heavier(_ a: (key: Key, value: Value), _ b: (key: Key, value: Value)) -> Bool {
                let x = a.value.weight, y = b.value.weight
                return x != y ? x > y : before(a.key, b.key)
            }
            var best: [(key: Key, value: Value)] = []
            best.reserveCapacity(min(n, entries.count) + 1)
            for e in entries {
                if best.count == n, let last = best.last, !heavier(e, last) { continue }
                var i = best.count
                while i > 0 && heavier(e, best[i - 1]) { i -= 1 }
                best.insert(e, at: i)
                if best.count > n { best.removeLast() }
            }
            return best
        }
    }

    public static let defaultTableCapacity = 16_384
    /// Nodes of the protocol hierarchy at most (hostile traffic could name every EtherType under
    /// every tag stack); past it, new protocols count under one `other` node per parent.
    public static let maxHierarchyNodes = 4096

    public private(set) var packets = 0
    /// Bytes on the wire (original lengths), as tshark counts them.
    public private(set) var bytes = 0
    public private(set) var capturedBytes = 0
    /// First and last capture time, nanoseconds since the epoch (saturating).
    public private(set) var firstNanoseconds: Int?
    public private(set) var lastNanoseconds: Int?
    public private(set) var hierarchy: [HierarchyNode] = [HierarchyNode()]
    /// Packets with a truncated / malformed decode error (a packet may count in both).
    public private(set) var truncatedPackets = 0
    public private(set) var malformedPackets = 0

    public private(set) var talkers: BoundedTable<Host, Talker>
    /// The conversations, as they left the flow table.
    public var flows: Conversations

    /// The busiest conversations by bytes (both directions), at most `Conversations.top`.
    public var conversations: [FlowSummary] { flows.busiest }
    public var tcpConnections: Int { flows.tcpConnections }
    public var udpConversations: Int { flows.udpConversations }
    /// TCP connections by Zeek conn_state.
    public var connStates: [String: Int] { flows.connStates }
    /// TCP connections by how they ended (`fin by client`, `rst by server`, `open` …).
    public var endings: [String: Int] { flows.endings }
    public var handshakeRTT: (count: Int, min: Int, max: Int, total: Int) { flows.handshakeRTT }

    public private(set) var dnsQueries = 0
    public private(set) var dnsResponses = 0
    /// Responses by RCODE (the 4-bit header value).
    public private(set) var dnsRcodes = [Int](repeating: 0, count: 16)
    /// Queried names (the first question of each query), lower-cased.
    public private(set) var dnsNames: BoundedTable<String, NameCount>

    /// Annotations by kind: works for every kind, including ones added after this was written.
    public private(set) var notes: [Note.Kind: Int] = [:]
    /// `handshake 3/3` annotations: handshakes seen to complete.
    public private(set) var handshakesCompleted = 0

    public init(tableCapacity: Int = CaptureStatistics.defaultTableCapacity, topConversations: Int = 10) {
        talkers = BoundedTable(capacity: tableCapacity)
        dnsNames = BoundedTable(capacity: tableCapacity)
        flows = Conversations(top: topConversations)
    }

    /// The count of annotations of the kind named `kind` (0 for a kind this build does not have).
    public func noteCount(_ kind: String) -> Int {
        Note.Kind(rawValue: kind).map(noteCount) ?? 0
    }

    public func noteCount(_ kind: Note.Kind) -> Int { notes[kind, default: 0] }

    public var approximate: Bool { talkers.pruned || dnsNames.pruned }

    // MARK: per packet

    /// Counts one decoded packet and its annotations.
    public mutating func add(_ p: Packet, notes packetNotes: [Note], seconds: Int, nanoseconds: Int) {
        packets &+= 1
        bytes &+= p.wireLength
        capturedBytes &+= p.capturedLength
        let (secs, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, sumOverflow) = secs.addingReportingOverflow(nanoseconds)
        let now = overflow || sumOverflow ? (seconds < 0 ? Int.min : Int.max) : sum
        firstNanoseconds = min(firstNanoseconds ?? now, now)
        lastNanoseconds = max(lastNanoseconds ?? now, now)
        // DNS over TCP (dns-tcp framing): the messages this segment completes count as DNS, and
        // the segment as a DNS frame in the hierarchy, as tshark counts them with reassembly.
        var streamDNS: [DNSMessage] = []
        var inDNSStream = false
        if p.tcp != nil && p.dns == nil {
            for n in packetNotes {
                guard let f = n.framed else { continue }
                if f.framing == "dns-tcp" { inDNSStream = true }
                guard f.hasDNS else { continue }
                f.withSpans { spans in
                    for s in spans where s.completes { if let m = s.dns { streamDNS.append(m) } }
                }
            }
        }
        frameCompletesDNS = !streamDNS.isEmpty
        // A part of a DNS message that a later segment completes: TCP only (tshark: "tcp", not "data").
        framePartOfDNS = inDNSStream && streamDNS.isEmpty
        countHierarchy(p)
        frameCompletesDNS = false
        framePartOfDNS = false
        if !p.errors.isEmpty || p.hasInner {
            var truncated = false, malformed = false
            for e in p.errors { if e.kind == .truncated { truncated = true } else { malformed = true } }
            var box = p.inner
            var depth = 0
            while let b = box, depth < PacketDecoder.maxEncapsulationDepth {
                for e in b.packet.errors { if e.kind == .truncated { truncated = true } else { malformed = true } }
                box = b.packet.inner
                depth += 1
            }
            if truncated { truncatedPackets &+= 1 }
            if malformed { malformedPackets &+= 1 }
        }
        countTalkers(p)
        if let m = p.dns, m.headerFieldsRead >= 2 {
            countDNS(m)
        } else if p.hasInner, let b = p.innermost, let m = b.packet.dns, m.headerFieldsRead >= 2 {
            countDNS(m)  // DNS inside a tunnel, or in a reassembled datagram
        }
        if p.lengthFromCapture || p.innerLengthFromCapture { notes[.tso, default: 0] &+= 1 }
        for m in streamDNS where m.headerFieldsRead >= 2 { countDNS(m) }
        for n in packetNotes {
            notes[n.kind, default: 0] &+= 1
            if n.kind == .handshake && n.text.hasPrefix("handshake 3/3") { handshakesCompleted &+= 1 }
        }
    }

    /// While one packet is counted: it is a TCP segment that completes DNS messages.
    private var frameCompletesDNS = false
    /// … or carries only parts of DNS messages that later segments complete.
    private var framePartOfDNS = false

    struct NodeKey: Hashable {
        var parent: Int
        var node: ProtocolNode
    }
    /// Every node by parent and protocol, for parents with many children (a few are scanned).
    private var nodeIndex: [NodeKey: Int] = [:]

    private mutating func child(_ parent: Int, _ node: ProtocolNode, _ wire: Int) -> Int {
        var found: Int?
        if hierarchy[parent].children.count <= 8 {
            for c in hierarchy[parent].children where hierarchy[c].node == node { found = c; break }
        } else {
            found = nodeIndex[NodeKey(parent: parent, node: node)]
        }
        if let c = found {
            hierarchy[c].count.frames &+= 1
            hierarchy[c].count.bytes &+= wire
            return c
        }
        if hierarchy.count >= Self.maxHierarchyNodes && node != .other { return child(parent, .other, wire) }
        hierarchy.append(HierarchyNode(node: node, count: Counter(frames: 1, bytes: wire)))
        let c = hierarchy.count - 1
        hierarchy[parent].children.append(c)
        nodeIndex[NodeKey(parent: parent, node: node)] = c
        return c
    }

    private mutating func countHierarchy(_ p: Packet) {
        let wire = p.wireLength
        hierarchy[0].count.frames &+= 1
        hierarchy[0].count.bytes &+= wire
        // Below an `other` node (the hierarchy is full) nothing more is counted.
        var at = child(0, .link(p.linkType.rawValue), wire)
        if let e = p.ethernet {
            var i = 0
            while i < e.vlans.count {
                if hierarchy[at].node == .other { return }
                at = child(at, .vlan(tpid: e.vlans.tpid(i)), wire)
                i += 1
            }
            if hierarchy[at].node == .other { return }
            if e.isLength8023 { _ = child(at, .llc, wire); return }
        }
        countNetwork(p, from: at, wire)
    }

    /// The path from the network layer up, then (for a tunnel) the inner packet's, under `at`.
    private mutating func countNetwork(_ p: Packet, from start: Int, _ wire: Int) {
        var at = start
        // Shims between link and network layer (their EtherTypes are not nodes of their own).
        if !p.mpls.isEmpty { at = child(at, .encapsulation(.mpls), wire) }
        if p.pppoe != nil { at = child(at, .encapsulation(.pppoe), wire) }
        if p.macsec != nil { at = child(at, .encapsulation(.macsec), wire) }
        if p.nsh != nil { at = child(at, .encapsulation(.nsh), wire) }
        guard let network = p.networkType, hierarchy[at].node != .other else { return }
        at = child(at, .etherType(network.rawValue), wire)
        if hierarchy[at].node == .other { return }
        let proto: IPProtocol
        let reassembled = p.inner?.encapsulation == .reassembled
        if let ip = p.ipv4, ip.isComplete {
            if ip.fragmentOffset != 0 && !reassembled { _ = child(at, .fragment, wire); return }
            proto = ip.proto
        } else if let ip = p.ipv6, ip.isComplete {
            if ip.isFragment && ip.fragmentOffset != 0 && !reassembled { _ = child(at, .fragment, wire); return }
            proto = ip.upperProtocol
        } else {
            return
        }
        at = child(at, .ipProtocol(proto.rawValue), wire)
        if hierarchy[at].node == .other { return }
        // The transport and application of a reassembled datagram are its inner packet's.
        let q = reassembled ? (p.inner?.packet ?? p) : p
        if q.dns != nil || (frameCompletesDNS && q.tcp != nil) {
            _ = child(at, .dns, wire)
            return
        }
        if let box = q.inner, box.encapsulation != .reassembled, q.depth < PacketDecoder.maxEncapsulationDepth {
            if q.vxlan != nil { at = child(at, .encapsulation(.vxlan), wire) }
            if q.geneve != nil { at = child(at, .encapsulation(.geneve), wire) }
            // (GRE and PIM are already named by their IP protocol node.)
            if hierarchy[at].node == .other { return }
            let inner = box.packet
            if inner.ethernet != nil { at = child(at, .link(1), wire) }
            if hierarchy[at].node == .other { return }
            countNetwork(inner, from: at, wire)
            return
        }
        if (q.tcp != nil || q.udp != nil) && q.payloadEnd > q.payloadStart && !(framePartOfDNS && q.tcp != nil) {
            _ = child(at, .data, wire)
        }
    }

    private mutating func countTalkers(_ p: Packet) {
        let src: Host, dst: Host
        if let ip = p.ipv4, ip.isComplete {
            src = Host(hi: 0, lo: UInt64(ip.source.raw), isIPv6: false)
            dst = Host(hi: 0, lo: UInt64(ip.destination.raw), isIPv6: false)
        } else if let ip = p.ipv6, ip.isComplete {
            src = Host(hi: ip.source.hi, lo: ip.source.lo, isIPv6: true)
            dst = Host(hi: ip.destination.hi, lo: ip.destination.lo, isIPv6: true)
        } else {
            return
        }
        let wire = p.wireLength
        talkers.update(src, default: Talker()) { $0.sentPackets &+= 1; $0.sentBytes &+= wire }
        talkers.update(dst, default: Talker()) { $0.receivedPackets &+= 1; $0.receivedBytes &+= wire }
    }

    private mutating func countDNS(_ m: DNSMessage) {
        if m.isResponse {
            dnsResponses &+= 1
            dnsRcodes[Int(m.rcode & 0xF)] &+= 1
        } else {
            dnsQueries &+= 1
            if let q = m.questions.first {
                // (Lower-cased only when it has capitals: most names are already.)
                let name = q.name.utf8.contains { $0 >= 65 && $0 <= 90 } ? q.name.lowercased() : q.name
                dnsNames.update(name, default: NameCount()) { $0.count &+= 1 }
            }
        }
    }

    // MARK: per conversation

    /// Counts one conversation as it leaves the flow table.
    public mutating func add(flow f: FlowSummary) { flows.add(f) }

    // MARK: derived

    /// TCP connections that ended with FIN (`fin by …`).
    public var teardowns: Int { endings.reduce(0) { $0 &+ ($1.key.hasPrefix("fin by") ? $1.value : 0) } }
    /// TCP connections that ended with RST, refused ones included.
    public var resets: Int {
        endings.reduce(0) { $0 &+ ($1.key.hasPrefix("rst by") || $1.key.hasPrefix("refused") ? $1.value : 0) }
    }

    /// Capture time from the first to the last packet, nanoseconds (never negative).
    public var durationNanoseconds: Int {
        guard let a = firstNanoseconds, let b = lastNanoseconds else { return 0 }
        let (d, overflow) = b.subtractingReportingOverflow(a)
        return overflow ? Int.max : max(d, 0)
    }
}

/// Conversations counted as they leave the flow table: TCP outcomes by conn_state and ending, the
/// handshake RTTs, the busiest conversations.
public struct Conversations: Sendable {
    public let top: Int
    /// The busiest conversations by payload bytes (both directions), at most `top`, busiest first.
    public private(set) var busiest: [FlowSummary] = []
    public private(set) var tcpConnections = 0
    public private(set) var udpConversations = 0
    public private(set) var connStates: [String: Int] = [:]
    public private(set) var endings: [String: Int] = [:]
    public private(set) var handshakeRTT: (count: Int, min: Int, max: Int, total: Int) = (0, Int.max, 0, 0)
    /// Messages whose bytes arrived in more than one segment (半包), over all framed conversations.
    public private(set) var splitMessages = 0

    public init(top: Int) {
        self.top = max(top, 0)
    }

    public mutating func add(_ f: FlowSummary) {
        splitMessages &+= f.splitMessages
        if f.isTCP {
            tcpConnections &+= 1
            connStates[f.connState, default: 0] &+= 1
            endings[f.end, default: 0] &+= 1
            if let measured = f.handshakeRTTNanoseconds {
                // Timestamps may go backwards in a file: no negative round trip. The total
                // saturates rather than wrapping into a negative average.
                let rtt = max(measured, 0)
                handshakeRTT.count &+= 1
                handshakeRTT.min = min(handshakeRTT.min, rtt)
                handshakeRTT.max = max(handshakeRTT.max, rtt)
                let (sum, overflow) = handshakeRTT.total.addingReportingOverflow(rtt)
                handshakeRTT.total = overflow ? Int.max : sum
            }
        } else {
            udpConversations &+= 1
        }
        guard top > 0 else { return }
        let weight = f.bytes.c2s &+ f.bytes.s2c
        if busiest.count == top, let last = busiest.last, last.bytes.c2s &+ last.bytes.s2c >= weight {
            return
        }
        // Sorted by bytes (descending), then by flow id: a stable order for equal weights.
        let at = busiest.firstIndex { c in
            let w = c.bytes.c2s &+ c.bytes.s2c
            return w < weight || (w == weight && c.id > f.id)
        } ?? busiest.count
        busiest.insert(f, at: at)
        if busiest.count > top { busiest.removeLast() }
    }
}

/// Receives conversations from the flow table's callback (which needs a reference) for
/// `CaptureStatistics.flows`.
public final class ConversationCounter {
    public private(set) var value: Conversations

    public init(top: Int = 10) {
        value = Conversations(top: top)
    }

    public func add(_ f: FlowSummary) { value.add(f) }
}
