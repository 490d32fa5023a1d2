// Test-side packet builders and a reference checksum that does not use `InternetChecksum`.

import Testing
@testable import NetWire

// MARK: - Reference Internet checksum (RFC 1071, the obvious way)

enum RefChecksum {
    /// One's-complement sum of big-endian 16-bit words, end-around carry folded after every add.
    static func onesSum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i < bytes.count {
            let hi = UInt32(bytes[i])
            let lo = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            sum += hi << 8 | lo
            sum = (sum & 0xFFFF) + (sum >> 16)
            i += 2
        }
        return UInt16(sum)
    }

    /// The value to put in a checksum field.
    static func checksum(_ bytes: [UInt8]) -> UInt16 { ~onesSum(bytes) }
}

// MARK: - Byte helpers

func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

extension Array where Element == UInt8 {
    mutating func put16(_ v: UInt16, at i: Int) {
        self[i] = UInt8(v >> 8)
        self[i + 1] = UInt8(v & 0xFF)
    }
    func get16(at i: Int) -> UInt16 { UInt16(self[i]) << 8 | UInt16(self[i + 1]) }
}

let macA: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]
let macB: [UInt8] = [0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB]
let ip4A: [UInt8] = [192, 0, 2, 10]
let ip4B: [UInt8] = [198, 51, 100, 53]
/// 2001:db8::10 and 2001:db8:1:2:3:4:5:53
let ip6A: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]
let ip6B: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 0x53]

func mac(_ b: [UInt8]) -> MACAddress {
    MACAddress(raw: b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
}
func ipv4(_ b: [UInt8]) -> IPv4Address { IPv4Address(b[0], b[1], b[2], b[3]) }
func ipv6(_ b: [UInt8]) -> IPv6Address {
    IPv6Address(hi: b[0 ..< 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                lo: b[8 ..< 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
}

// MARK: - Builders

/// The addresses of an IP datagram, for transport pseudo-headers.
enum Addrs {
    case v4(src: [UInt8], dst: [UInt8])
    case v6(src: [UInt8], dst: [UInt8])

    static let v4AB = Addrs.v4(src: ip4A, dst: ip4B)
    static let v6AB = Addrs.v6(src: ip6A, dst: ip6B)

    func pseudoHeader(proto: UInt8, length: Int) -> [UInt8] {
        switch self {
        case let .v4(s, d):
            return s + d + [0, proto] + be16(UInt16(length))
        case let .v6(s, d):
            return s + d + be32(UInt32(length)) + [0, 0, 0, proto]
        }
    }
}

/// What to put in a transport checksum field.
enum ChecksumMode {
    case correct
    /// The correct value with one bit flipped.
    case bad
    case zero
    /// Transmit-offload partial checksum: the folded pseudo-header sum (not complemented).
    case partial
    /// The same, complemented.
    case partialComplemented
    case value(UInt16)
}

func fillChecksum(_ seg: inout [UInt8], at field: Int, pseudo: [UInt8], mode: ChecksumMode, zeroMeansFFFF: Bool = false) {
    seg.put16(0, at: field)
    var c = RefChecksum.checksum(pseudo + seg)
    if zeroMeansFFFF && c == 0 { c = 0xFFFF }
    switch mode {
    case .correct: break
    case .bad: c ^= 0x0100
    case .zero: c = 0
    case .partial: c = RefChecksum.onesSum(pseudo)
    case .partialComplemented: c = ~RefChecksum.onesSum(pseudo)
    case let .value(v): c = v
    }
    seg.put16(c, at: field)
}

enum Build {
    static func ethernet(dst: [UInt8] = macA, src: [UInt8] = macB, type: UInt16,
                         tags: [(tpid: UInt16, tci: UInt16)] = [], payload: [UInt8]) -> [UInt8] {
        var b = dst + src
        for t in tags { b += be16(t.tpid) + be16(t.tci) }
        return b + be16(type) + payload
    }

    /// An IPv4 header (checksum computed after all overrides unless `checksum` is given) + payload.
    static func ipv4(_ a: Addrs = .v4AB, proto: UInt8, payload: [UInt8], ttl: UInt8 = 64, tos: UInt8 = 0,
                     id: UInt16 = 0x1C46, flags: UInt16 = 0x4000, fragmentOffset: UInt16 = 0,
                     options: [UInt8] = [], totalLength: UInt16? = nil, versionIHL: UInt8? = nil,
                     checksum: UInt16? = nil) -> [UInt8] {
        guard case let .v4(src, dst) = a else { fatalError("ipv4 needs v4 addresses") }
        precondition(options.count % 4 == 0)
        let hl = 20 + options.count
        var h: [UInt8] = [versionIHL ?? UInt8(0x40 | hl / 4), tos]
        h += be16(totalLength ?? UInt16(hl + payload.count))
        h += be16(id) + be16(flags | fragmentOffset) + [ttl, proto, 0, 0] + src + dst + options
        h.put16(checksum ?? RefChecksum.checksum(h), at: 10)
        return h + payload
    }

    static func ipv6(_ a: Addrs = .v6AB, next: UInt8, payload: [UInt8], hopLimit: UInt8 = 64,
                     trafficClass: UInt8 = 0, flowLabel: UInt32 = 0, payloadLength: UInt16? = nil,
                     version: UInt32 = 6) -> [UInt8] {
        guard case let .v6(src, dst) = a else { fatalError("ipv6 needs v6 addresses") }
        let first = version << 28 | UInt32(trafficClass) << 20 | (flowLabel & 0xFFFFF)
        return be32(first) + be16(payloadLength ?? UInt16(payload.count)) + [next, hopLimit] + src + dst + payload
    }

    /// A TCP segment. `flags` holds the low 9 bits (NS = 0x100); `reserved` the 3 bits above them.
    static func tcp(_ a: Addrs = .v4AB, sport: UInt16 = 40000, dport: UInt16 = 80, seq: UInt32 = 0x0102_0304,
                    ack: UInt32 = 0x0A0B_0C0D, flags: UInt16 = 0x018, window: UInt16 = 65535, urgent: UInt16 = 0,
                    options: [UInt8] = [], payload: [UInt8] = [], dataOffset: UInt8? = nil, reserved: UInt16 = 0,
                    checksum: ChecksumMode = .correct) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let doff = UInt16(dataOffset ?? UInt8((20 + options.count) / 4))
        var s = be16(sport) + be16(dport) + be32(seq) + be32(ack)
        s += be16(doff << 12 | (reserved & 7) << 9 | (flags & 0x1FF)) + be16(window) + [0, 0] + be16(urgent)
        s += options + payload
        fillChecksum(&s, at: 16, pseudo: a.pseudoHeader(proto: 6, length: s.count), mode: checksum)
        return s
    }

    static func udp(_ a: Addrs = .v4AB, sport: UInt16 = 40000, dport: UInt16 = 9999, payload: [UInt8] = [],
                    length: UInt16? = nil, checksum: ChecksumMode = .correct) -> [UInt8] {
        var s = be16(sport) + be16(dport) + be16(length ?? UInt16(8 + payload.count)) + [0, 0] + payload
        fillChecksum(&s, at: 6, pseudo: a.pseudoHeader(proto: 17, length: s.count), mode: checksum, zeroMeansFFFF: true)
        return s
    }

    /// ICMP (v4): checksum over the message only.
    static func icmp(type: UInt8, code: UInt8, rest: UInt32, data: [UInt8], checksum: ChecksumMode = .correct) -> [UInt8] {
        var m = [type, code, 0, 0] + be32(rest) + data
        fillChecksum(&m, at: 2, pseudo: [], mode: checksum)
        return m
    }

    static func icmpv6(_ a: Addrs = .v6AB, type: UInt8, code: UInt8, rest: UInt32, data: [UInt8],
                       checksum: ChecksumMode = .correct) -> [UInt8] {
        var m = [type, code, 0, 0] + be32(rest) + data
        fillChecksum(&m, at: 2, pseudo: a.pseudoHeader(proto: 58, length: m.count), mode: checksum)
        return m
    }

    // Whole frames.

    static func eth4(_ ip: [UInt8]) -> [UInt8] { ethernet(type: 0x0800, payload: ip) }
    static func eth6(_ ip: [UInt8]) -> [UInt8] { ethernet(type: 0x86DD, payload: ip) }

    static func tcp4Frame(options: [UInt8] = [], payload: [UInt8] = [], flags: UInt16 = 0x018,
                          checksum: ChecksumMode = .correct) -> [UInt8] {
        eth4(ipv4(proto: 6, payload: tcp(flags: flags, options: options, payload: payload, checksum: checksum)))
    }

    static func udp4Frame(sport: UInt16 = 40000, dport: UInt16 = 9999, payload: [UInt8]) -> [UInt8] {
        eth4(ipv4(proto: 17, payload: udp(sport: sport, dport: dport, payload: payload)))
    }

    /// A DNS message in Ethernet/IPv4/UDP, from port 53 (a response) unless told otherwise.
    static func dnsFrame(_ msg: [UInt8], sport: UInt16 = 53, dport: UInt16 = 40001) -> [UInt8] {
        udp4Frame(sport: sport, dport: dport, payload: msg)
    }
}

/// Offsets in an Ethernet/IPv4 (no options) frame.
enum Off {
    static let ip = 14
    static let l4 = 34
    static let udpPayload = 42
    static let tcpOptions = 54
    static let ip6L4 = 54
}

// MARK: - DNS message builder

struct DNSBuilder {
    var bytes: [UInt8]

    init(id: UInt16 = 0x1234, flags: UInt16 = 0x8180, qd: UInt16 = 0, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) {
        bytes = be16(id) + be16(flags) + be16(qd) + be16(an) + be16(ns) + be16(ar)
    }

    var offset: Int { bytes.count }

    /// Labels of a dotted name ("" for none), then a compression pointer or the root label.
    mutating func name(_ dotted: String, pointer: Int? = nil) {
        for label in dotted.split(separator: ".", omittingEmptySubsequences: true) {
            rawLabel(Array(label.utf8))
        }
        if let p = pointer { self.pointer(p) } else { bytes.append(0) }
    }

    mutating func rawLabel(_ l: [UInt8]) {
        bytes.append(UInt8(l.count))
        bytes += l
    }

    mutating func pointer(_ to: Int) { bytes += [0xC0 | UInt8(to >> 8), UInt8(to & 0xFF)] }

    mutating func question(type: UInt16, qclass: UInt16 = 1) { bytes += be16(type) + be16(qclass) }

    /// Type, class, TTL, then rdata written by `body`, then the rdlength patched in.
    mutating func record(type: UInt16, rclass: UInt16 = 1, ttl: UInt32, _ body: (inout DNSBuilder) -> Void) {
        bytes += be16(type) + be16(rclass) + be32(ttl) + [0, 0]
        let lenAt = bytes.count - 2
        body(&self)
        bytes.put16(UInt16(bytes.count - lenAt - 2), at: lenAt)
    }

    mutating func u16(_ v: UInt16) { bytes += be16(v) }
    mutating func u32(_ v: UInt32) { bytes += be32(v) }
    mutating func raw(_ b: [UInt8]) { bytes += b }
}

// MARK: - Decoding helpers

/// Decodes `bytes` from an exactly sized buffer, so any read past the capture would trap in debug.
func decode(_ bytes: [UInt8], wireLength: Int? = nil, link: LinkType = .ethernet,
            verifyChecksums: Bool = true, decodeDNS: Bool = true) -> Packet {
    var p = Packet()
    decode(bytes, wireLength: wireLength, link: link, verifyChecksums: verifyChecksums, decodeDNS: decodeDNS, into: &p)
    return p
}

func decode(_ bytes: [UInt8], wireLength: Int? = nil, link: LinkType = .ethernet,
            verifyChecksums: Bool = true, decodeDNS: Bool = true, into p: inout Packet) {
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
    defer { buf.deallocate() }
    buf.copyBytes(from: bytes)
    PacketDecoder(verifyChecksums: verifyChecksums, decodeDNS: decodeDNS)
        .decode(UnsafeRawBufferPointer(buf), wireLength: wireLength ?? bytes.count, linkType: link, into: &p)
}

/// Decodes every proper prefix of `full` as a capture cut (`wireLength` = full length).
///
/// `cuts` is ascending `(end, layer)`: prefixes shorter than `end` (and not shorter than the previous
/// entry's end) must end in exactly one error, `.truncated`, at `layer`; prefixes from the last `end`
/// on must decode with no error at all. `check` sees every prefix's packet for extra expectations.
func expectPrefixes(_ full: [UInt8], link: LinkType = .ethernet, cuts: [(end: Int, layer: Layer)],
                    skip: Set<Int> = [],
                    sourceLocation: SourceLocation = #_sourceLocation,
                    check: (Int, Packet) -> Void = { _, _ in }) {
    var problems: [String] = []
    var p = Packet()
    for k in 0 ..< full.count where !skip.contains(k) {
        decode(Array(full[0 ..< k]), wireLength: full.count, link: link, into: &p)
        let expected = cuts.first { k < $0.end }?.layer
        if let layer = expected {
            if p.errors.count != 1 || p.errors[0].kind != .truncated || p.errors[0].layer != layer {
                problems.append("prefix \(k): expected one .truncated at \(layer), got \(p.errors)")
            }
        } else if !p.errors.isEmpty {
            problems.append("prefix \(k): expected no error, got \(p.errors)")
        }
        check(k, p)
    }
    #expect(problems.isEmpty, "\(problems.prefix(8).joined(separator: "\n"))", sourceLocation: sourceLocation)
}

/// The single error of `p`, expected to be of `kind` at `layer` (and `offset` when given).
@discardableResult
func expectOneError(_ p: Packet, _ kind: DecodeError.Kind, _ layer: Layer, offset: Int? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) -> DecodeError? {
    #expect(p.errors.count == 1, "errors: \(p.errors)", sourceLocation: sourceLocation)
    guard let e = p.errors.first else { return nil }
    #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
    #expect(e.layer == layer, "\(e)", sourceLocation: sourceLocation)
    if let offset { #expect(e.offset == offset, "\(e)", sourceLocation: sourceLocation) }
    return e
}

func badValueField(_ e: DecodeError?) -> String? {
    if case let .badValue(field, _)? = e?.detail { return field }
    return nil
}

func badValue(_ e: DecodeError?) -> Int? {
    if case let .badValue(_, value)? = e?.detail { return value }
    return nil
}

// MARK: - Deterministic PRNG

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
