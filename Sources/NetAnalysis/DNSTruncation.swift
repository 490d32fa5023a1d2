import NetWire

/// DNS over UDP whose answer did not fit (TC bit): the answer's line says why, and the client's
/// retry of the same question over TCP is linked to it (`dns_tcp_retry`, `relatedFrame`). The
/// retry is found by client, server, name and type (a resolver may give it a new id).
/// The limit is what the query advertised with EDNS (its OPT record's class), else 512 bytes
/// (RFC 1035 §4.2.1). Bounded: past `capacity` entries the tables start again.
public struct DNSTruncationTracker {
    struct Key: Hashable {
        var client: IPv6Address
        var server: IPv6Address
        var name: String
        var type: UInt16
    }

    /// EDNS sizes advertised by queries (only queries with an OPT record are kept).
    private var advertised: [Key: Int] = [:]
    /// Truncated answers not yet retried over TCP: the answer's frame.
    private var truncated: [Key: Int] = [:]
    /// Retried over TCP, the answer not seen yet: the truncated answer's frame.
    private var retried: [Key: Int] = [:]
    public static let capacity = 4096
    /// The classic limit of a DNS message over UDP without EDNS.
    public static let classicLimit = 512

    public init() {}

    /// No query with an EDNS size waits for its answer.
    public var advertisedIsEmpty: Bool { advertised.isEmpty }

    /// True while some truncated answer waits for its TCP retry (TCP segments are looked at only then).
    public var waiting: Bool { !truncated.isEmpty || !retried.isEmpty }

    static func addresses(_ p: Packet) -> (IPv6Address, IPv6Address)? {
        if let ip = p.ipv6, ip.isComplete { return (ip.source, ip.destination) }
        if let ip = p.ipv4, ip.isComplete { return (IPv6Address(mapping: ip.source), IPv6Address(mapping: ip.destination)) }
        return nil
    }

    /// A DNS message over UDP.
    public mutating func udp(_ m: DNSMessage, packet p: Packet, frame: Int, notes: inout [Note]) {
        guard m.headerComplete, let q = m.questions.first, let (src, dst) = Self.addresses(p) else { return }
        if !m.isResponse {
            for r in m.additional where r.type == DNSType.opt {
                if advertised.count >= Self.capacity { advertised.removeAll(keepingCapacity: true) }
                advertised[Key(client: src, server: dst, name: q.name, type: q.type)] = max(Int(r.rclass), Self.classicLimit)
            }
            return
        }
        // Every answer ends its query's wait (an untruncated one included: otherwise the table
        // only ever fills up and is wiped).
        let key = Key(client: dst, server: src, name: q.name, type: q.type)
        let advertisedLimit = advertised.isEmpty ? nil : advertised.removeValue(forKey: key)
        guard m.truncatedFlag else { return }
        let limit = advertisedLimit ?? Self.classicLimit
        var note = Note(kind: .dnsTruncated, text: "TC: answer > \(limit) B UDP limit — client retries over TCP")
        note.amount = limit
        notes.append(note)
        if truncated.count >= Self.capacity { truncated.removeAll(keepingCapacity: true) }
        truncated[key] = frame
    }

    /// The DNS messages framed in a TCP segment (the notes of this packet so far): a query that
    /// repeats a truncated answer's question gets a `dns_tcp_retry` note.
    public mutating func tcp(packet p: Packet, notes: inout [Note]) {
        guard waiting, let (src, dst) = Self.addresses(p) else { return }
        var found: [Note] = []
        for n in notes {
            guard let f = n.framed, f.hasDNS else { continue }
            for s in f.spans {
                guard let m = s.dns, let q = m.questions.first else { continue }
                if !m.isResponse {
                    let key = Key(client: src, server: dst, name: q.name, type: q.type)
                    guard let frame = truncated.removeValue(forKey: key) else { continue }
                    if retried.count >= Self.capacity { retried.removeAll(keepingCapacity: true) }
                    retried[key] = frame
                    found.append(Note(kind: .dnsTCPRetry, text: "retry over TCP of the truncated answer #\(frame)", relatedFrame: frame))
                } else if let frame = retried.removeValue(forKey: Key(client: dst, server: src, name: q.name, type: q.type)) {
                    var note = Note(kind: .dnsTCPAnswer, text: "the whole answer over TCP: \(m.length) B (truncated over UDP in #\(frame))",
                                    relatedFrame: frame)
                    note.amount = m.length
                    found.append(note)
                }
            }
        }
        notes.append(contentsOf: found)
    }
}
