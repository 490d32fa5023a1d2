/// Encapsulations: shims between the link and the network layer (MPLS, PPPoE session, MACsec in
/// clear, NSH) and tunnels that carry a whole packet after an IP or UDP header (VXLAN, Geneve, GRE,
/// IP in IP, PIM register). A shim is decoded into the same `Packet`; a tunnel's payload into the
/// packet's `inner` one, to `PacketDecoder.maxEncapsulationDepth`.

extension EtherType {
    public static let mplsUnicast = EtherType(rawValue: 0x8847)
    public static let mplsMulticast = EtherType(rawValue: 0x8848)
    public static let pppoeDiscovery = EtherType(rawValue: 0x8863)
    public static let pppoeSession = EtherType(rawValue: 0x8864)
    public static let macsec = EtherType(rawValue: 0x88E5)
    public static let nsh = EtherType(rawValue: 0x894F)
    /// Transparent Ethernet bridging: an Ethernet frame follows (GRE, Geneve).
    public static let transparentEthernet = EtherType(rawValue: 0x6558)
}

extension IPProtocol {
    public static let ipInIP = IPProtocol(rawValue: 4)
    public static let pim = IPProtocol(rawValue: 103)
}

/// What carries an inner packet.
public enum Encapsulation: UInt8, Sendable {
    case vxlan, geneve, gre, ipInIP, pimRegister, nsh, mpls
    /// The upper layers of a datagram reassembled from IP fragments (set by the analysis).
    case reassembled

    /// The name the JSON contract gives it (`"encap"`): `"vxlan"`, `"geneve"`, `"gre"`, `"ip"`,
    /// `"pim"`, `"nsh"`, `"mpls"`, `"reassembled"`.
    public var name: StaticString {
        switch self {
        case .vxlan: "vxlan"
        case .geneve: "geneve"
        case .gre: "gre"
        case .ipInIP: "ip"
        case .pimRegister: "pim"
        case .nsh: "nsh"
        case .mpls: "mpls"
        case .reassembled: "reassembled"
        }
    }
}

/// One MPLS label stack entry.
public struct MPLSLabel: Sendable, Hashable {
    public var label: UInt32
    public var trafficClass: UInt8
    public var bottomOfStack: Bool
    public var ttl: UInt8
}

/// VXLAN (RFC 7348), UDP port 4789.
public struct VXLANHeader: Sendable {
    public var flags: UInt8
    public var vni: UInt32
}

/// One Geneve option (class, type, length of its data in bytes).
public struct GeneveOption: Sendable, Hashable {
    public var optionClass: UInt16
    public var type: UInt8
    public var length: Int
}

/// Geneve (RFC 8926), UDP port 6081.
public struct GeneveHeader: Sendable {
    public var version: UInt8
    /// Length of the options in bytes.
    public var optionsLength: Int
    public var oam: Bool
    public var critical: Bool
    public var protocolType: EtherType
    public var vni: UInt32
    public var options: [GeneveOption]
}

/// GRE (RFC 2784, 2890; version 1 is PPTP's enhanced GRE, RFC 2637).
public struct GREHeader: Sendable {
    public var flagsVersion: UInt16
    public var protocolType: EtherType
    public var checksum: UInt16?
    /// The offset field that follows the checksum (RFC 1701), when the checksum or routing bit is set.
    public var offset: UInt16? = nil
    public var key: UInt32?
    public var sequence: UInt32?
    /// PPTP (version 1): the acknowledgment number.
    public var acknowledgment: UInt32?
    /// Bytes after the GRE header (the payload's length as captured or declared).
    public var payloadLength: Int
    public var version: UInt8 { UInt8(flagsVersion & 7) }
    public var hasChecksum: Bool { flagsVersion & 0x8000 != 0 }
    public var hasRouting: Bool { flagsVersion & 0x4000 != 0 }
    public var hasKey: Bool { flagsVersion & 0x2000 != 0 }
    public var hasSequence: Bool { flagsVersion & 0x1000 != 0 }
}

/// PPPoE session stage header (RFC 2516) and the PPP protocol behind it.
public struct PPPoEHeader: Sendable {
    public var version: UInt8
    public var type: UInt8
    public var code: UInt8
    public var session: UInt16
    public var length: UInt16
    /// The PPP protocol field (0x0021 IPv4, 0x0057 IPv6); nil when not captured.
    public var pppProtocol: UInt16?
}

/// PIM version 2 header (RFC 7761); for a Register (type 1) also its flags.
public struct PIMHeader: Sendable {
    public var version: UInt8
    public var type: UInt8
    public var checksum: UInt16
    /// Register: the Border bit and the Null-Register bit.
    public var border: Bool = false
    public var nullRegister: Bool = false
    public var length: Int
}

/// MACsec SecTAG (IEEE 802.1AE).
public struct MACsecHeader: Sendable {
    /// The TCI bits (V, ES, SC, SCB, E, C) and the association number.
    public var tci: UInt8
    public var shortLength: UInt8
    public var packetNumber: UInt32
    public var sci: UInt64?
    public var associationNumber: UInt8 { tci & 3 }
    public var encrypted: Bool { tci & 0x08 != 0 }
    public var changed: Bool { tci & 0x04 != 0 }
    /// Payload in clear: neither encrypted nor changed (E = C = 0).
    public var clear: Bool { tci & 0x0C == 0 }
}

/// Network Service Header (RFC 8300).
public struct NSHHeader: Sendable {
    public var version: UInt8
    public var oam: Bool
    public var ttl: UInt8
    /// Header length in 4-byte words.
    public var length: UInt8
    public var mdType: UInt8
    public var nextProtocol: UInt8
    public var servicePath: UInt32
    public var serviceIndex: UInt8
}

/// IP fragment facts of the packet (IPv4 flags/offset or an IPv6 fragment header), for a packet
/// that is part of a fragmented datagram.
public struct FragmentInfo: Sendable {
    public var identification: UInt32
    /// Offset of this fragment's data in the datagram, in bytes.
    public var offset: Int
    /// Bytes of datagram data this fragment carries (as its IP header declares).
    public var length: Int
    public var moreFragments: Bool
    public var isIPv6: Bool
    /// Where the fragment's data starts in the frame (absolute) and how many bytes of it were captured.
    public var dataStart: Int
    public var capturedLength: Int
    /// The protocol of the datagram (IPv4 protocol, or the IPv6 header after the fragment header).
    public var proto: IPProtocol

    public init(identification: UInt32, offset: Int, length: Int, moreFragments: Bool, isIPv6: Bool,
                dataStart: Int, capturedLength: Int, proto: IPProtocol) {
        self.identification = identification
        self.offset = offset
        self.length = length
        self.moreFragments = moreFragments
        self.isIPv6 = isIPv6
        self.dataStart = dataStart
        self.capturedLength = capturedLength
        self.proto = proto
    }
}

/// The packet carried inside this one (a tunnel's payload, or a reassembled datagram), held in a
/// box that a `Packet` reuses from frame to frame. `bytes` holds the reassembled datagram when the
/// inner packet's offsets point into it instead of the frame (`ownsBytes`).
public final class InnerPacket: @unchecked Sendable {
    public var packet = Packet()
    public var encapsulation: Encapsulation = .ipInIP
    public var bytes: [UInt8] = []
    public var ownsBytes = false
    public init() {}

    func copy() -> InnerPacket {
        let c = InnerPacket()
        c.packet = packet
        c.encapsulation = encapsulation
        c.bytes = bytes
        c.ownsBytes = ownsBytes
        return c
    }
}

extension Packet {
    /// The inner packet, if this frame carries one.
    public var inner: InnerPacket? { hasInner ? innerStorage : nil }

    /// The innermost packet (self's box chain followed to its end); nil when there is no inner one.
    public var innermost: InnerPacket? {
        guard var box = inner else { return nil }
        var depth = 0
        while let next = box.packet.inner, depth < PacketDecoder.maxEncapsulationDepth * 2 {
            box = next
            depth += 1
        }
        return box
    }

    /// A fresh inner packet for `encapsulation`, reusing this packet's box when no copy shares it.
    public mutating func makeInner(_ encapsulation: Encapsulation, linkType: LinkType) -> InnerPacket {
        let box: InnerPacket
        if let b = innerStorage, isKnownUniquelyReferenced(&innerStorage!) {
            box = b
        } else {
            box = InnerPacket()
            innerStorage = box
        }
        box.encapsulation = encapsulation
        box.ownsBytes = false
        if !box.bytes.isEmpty { box.bytes.removeAll(keepingCapacity: true) }
        box.packet.reset(linkType: linkType, capturedLength: capturedLength, wireLength: wireLength)
        box.packet.networkOffset = 0
        hasInner = true
        return box
    }

    /// The inner packet's IP length came from the capture (TSO inside a tunnel). Checks `hasInner`
    /// first: the common frame reads one flag, nothing of the inner packet.
    @inlinable public var innerLengthFromCapture: Bool {
        guard hasInner, let box = innerStorage else { return false }
        return box.packet.lengthFromCapture
    }

    /// Every error of this packet and of the packets inside it.
    public var allErrorCount: Int {
        var n = errors.count
        var box = inner
        var depth = 0
        while let b = box, depth < PacketDecoder.maxEncapsulationDepth * 2 {
            n += b.packet.errors.count
            box = b.packet.inner
            depth += 1
        }
        return n
    }
}

enum TunnelDecoder {
    static let vxlanPort: UInt16 = 4789
    static let genevePort: UInt16 = 6081
    static let maxMPLSLabels = 16
    static let maxGeneveOptions = 64

    // MARK: shims (same packet)

    /// MPLS label stack; returns what follows the bottom label, guessed from its first nibble
    /// (4: IPv4, 6: IPv6; anything else is not decoded).
    static func mpls(_ r: inout ByteReader, _ p: inout Packet) throws(DecodeError) -> EtherType? {
        p.hasEncapsulation = true
        var h = r.rest(layer: .mpls)
        if !p.mpls.isEmpty { p.mpls.removeAll(keepingCapacity: true) }
        while true {
            guard p.mpls.count < maxMPLSLabels else {
                throw DecodeError.malformed(.mpls, at: h.offset, field: "label stack depth", value: p.mpls.count + 1)
            }
            let v = try h.readUInt32()
            let e = MPLSLabel(label: v >> 12, trafficClass: UInt8((v >> 9) & 7), bottomOfStack: v & 0x100 != 0,
                              ttl: UInt8(truncatingIfNeeded: v))
            p.mpls.append(e)
            if e.bottomOfStack { break }
        }
        r = h.rest(layer: .mpls)
        let nibble = try r.byte(at: r.offset, lowerBound: r.offset) >> 4
        switch nibble {
        case 4: return .ipv4
        case 6: return .ipv6
        default: return nil
        }
    }

    /// PPPoE session header and PPP protocol; returns the network protocol it carries.
    static func pppoe(_ r: inout ByteReader, _ p: inout Packet) throws(DecodeError) -> EtherType? {
        p.hasEncapsulation = true
        var h = r.rest(layer: .pppoe)
        let start = h.offset
        let vt = try h.readUInt8()
        let code = try h.readUInt8()
        let session = try h.readUInt16()
        let length = try h.readUInt16()
        var hdr = PPPoEHeader(version: vt >> 4, type: vt & 0xF, code: code, session: session, length: length, pppProtocol: nil)
        p.pppoe = hdr
        guard vt == 0x11 else { throw DecodeError.malformed(.pppoe, at: start, field: "version/type", value: Int(vt)) }
        guard length >= 2 else { throw DecodeError.malformed(.pppoe, at: start + 4, field: "length", value: Int(length)) }
        var body = h.sub(declared: Int(length), layer: .pppoe)
        var proto = UInt16(try body.readUInt8())
        // PPP protocol field: one byte when its low bit is set (compressed), two otherwise.
        if proto & 1 == 0 { proto = proto << 8 | UInt16(try body.readUInt8()) }
        hdr.pppProtocol = proto
        p.pppoe = hdr
        r = body.rest(layer: .pppoe)
        switch proto {
        case 0x0021: return .ipv4
        case 0x0057: return .ipv6
        default: return nil
        }
    }

    /// MACsec SecTAG; in a frame whose payload is in clear returns the EtherType behind it and
    /// leaves `r` over the user data (without the 16-byte ICV).
    static func macsec(_ r: inout ByteReader, _ p: inout Packet) throws(DecodeError) -> EtherType? {
        p.hasEncapsulation = true
        var h = r.rest(layer: .macsec)
        let start = h.offset
        let tci = try h.readUInt8()
        let sl = try h.readUInt8()
        let pn = try h.readUInt32()
        var hdr = MACsecHeader(tci: tci, shortLength: sl & 0x3F, packetNumber: pn, sci: nil)
        p.macsec = hdr
        guard tci & 0x80 == 0 else { throw DecodeError.malformed(.macsec, at: start, field: "version", value: Int(tci >> 7)) }
        if tci & 0x20 != 0 {
            hdr.sci = try h.readUInt64()
            p.macsec = hdr
        }
        guard hdr.clear else { return nil }
        // Secure data: the short length when it is set (below 48 bytes), else up to the ICV.
        let icv = 16
        let dataLength: Int
        if hdr.shortLength != 0 {
            dataLength = Int(hdr.shortLength)
        } else {
            // The ICV ends the frame: where the wire frame ends when the capture cut it.
            let end = h.clampedByCapture && p.depth == 0 ? max(p.wireLength, h.upper) : h.upper
            dataLength = max(end - h.offset - icv, 0)
        }
        var body = h.sub(declared: dataLength, layer: .macsec)
        let type = EtherType(rawValue: try body.readUInt16())
        r = body.rest(layer: .macsec)
        return type
    }

    /// NSH base, service path and context headers; returns what follows as an EtherType
    /// (Ethernet is `.transparentEthernet`; MPLS `.mplsUnicast`; NSH `.nsh`).
    static func nsh(_ r: inout ByteReader, _ p: inout Packet) throws(DecodeError) -> EtherType? {
        p.hasEncapsulation = true
        var h = r.rest(layer: .nsh)
        let start = h.offset
        let b0 = try h.readUInt8()
        let b1 = try h.readUInt8()
        let b2 = try h.readUInt8()
        let next = try h.readUInt8()
        let sp = try h.readUInt32()
        let ttl = UInt8((UInt16(b0 & 0x0F) << 2) | UInt16(b1 >> 6))
        let hdr = NSHHeader(version: b0 >> 6, oam: b0 & 0x20 != 0, ttl: ttl, length: b1 & 0x3F,
                            mdType: b2 & 0x0F, nextProtocol: next, servicePath: sp >> 8,
                            serviceIndex: UInt8(truncatingIfNeeded: sp))
        p.nsh = hdr
        guard hdr.version == 0 else { throw DecodeError.malformed(.nsh, at: start, field: "version", value: Int(hdr.version)) }
        let words = Int(hdr.length)
        // MD type 1 has a fixed 16-byte context (length 6); type 2 variable (length ≥ 2).
        guard words >= 2, hdr.mdType != 1 || words == 6 else {
            throw DecodeError.malformed(.nsh, at: start + 1, field: "length", value: words)
        }
        try h.skip(words * 4 - 8)
        r = h.rest(layer: .nsh)
        switch next {
        case 1: return .ipv4
        case 2: return .ipv6
        case 3: return .transparentEthernet
        case 4: return .nsh
        case 5: return .mplsUnicast
        default: return nil
        }
    }

    // MARK: tunnels (inner packet)

    static func vxlan(_ r: ByteReader, _ p: inout Packet) throws(DecodeError) -> ByteReader {
        p.hasEncapsulation = true
        var h = r.rest(layer: .vxlan)
        let start = h.offset
        let flags = try h.readUInt8()
        try h.skip(3)
        let vni = try h.readUInt32() >> 8
        p.vxlan = VXLANHeader(flags: flags, vni: vni)
        guard flags & 0x08 != 0 else { throw DecodeError.malformed(.vxlan, at: start, field: "flags (no VNI)", value: Int(flags)) }
        return h.rest(layer: .vxlan)
    }

    static func geneve(_ r: ByteReader, _ p: inout Packet) throws(DecodeError) -> (ByteReader, EtherType) {
        p.hasEncapsulation = true
        var h = r.rest(layer: .geneve)
        let start = h.offset
        let b0 = try h.readUInt8()
        let b1 = try h.readUInt8()
        let proto = EtherType(rawValue: try h.readUInt16())
        let vni = try h.readUInt32() >> 8
        var g = GeneveHeader(version: b0 >> 6, optionsLength: Int(b0 & 0x3F) * 4, oam: b1 & 0x80 != 0,
                             critical: b1 & 0x40 != 0, protocolType: proto, vni: vni,
                             options: p.geneve?.options ?? [])
        if !g.options.isEmpty { g.options.removeAll(keepingCapacity: true) }
        p.geneve = g
        guard g.version == 0 else { throw DecodeError.malformed(.geneve, at: start, field: "version", value: Int(g.version)) }
        var o = h.sub(declared: g.optionsLength, layer: .geneve)
        try o.require(g.optionsLength)
        while !o.isAtEnd {
            let at = o.offset
            let cls = try o.readUInt16()
            let type = try o.readUInt8()
            let len = Int(try o.readUInt8() & 0x1F) * 4
            guard len <= o.remaining else { throw DecodeError.malformed(.geneve, at: at + 3, field: "option length", value: len) }
            try o.skip(len)
            if g.options.count < maxGeneveOptions { g.options.append(GeneveOption(optionClass: cls, type: type, length: len)) }
        }
        p.geneve = g
        try h.skip(g.optionsLength)
        return (h.rest(layer: .geneve), proto)
    }

    static func gre(_ r: ByteReader, _ p: inout Packet) throws(DecodeError) -> ByteReader {
        p.hasEncapsulation = true
        var h = r.rest(layer: .gre)
        let start = h.offset
        let fv = try h.readUInt16()
        let proto = EtherType(rawValue: try h.readUInt16())
        var g = GREHeader(flagsVersion: fv, protocolType: proto, payloadLength: 0)
        p.gre = g
        let version = fv & 7
        guard version <= 1 else { throw DecodeError.malformed(.gre, at: start + 1, field: "version", value: Int(version)) }
        if version == 1 {
            // PPTP: key present (payload length, call id), optional sequence and acknowledgment.
            g.key = try h.readUInt32()
            if g.hasSequence { g.sequence = try h.readUInt32() }
            if fv & 0x0080 != 0 { g.acknowledgment = try h.readUInt32() }
        } else {
            if g.hasChecksum || g.hasRouting {
                g.checksum = try h.readUInt16()
                g.offset = try h.readUInt16()  // offset (RFC 1701) / reserved (RFC 2784)
            }
            if g.hasKey { g.key = try h.readUInt32() }
            if g.hasSequence { g.sequence = try h.readUInt32() }
            if g.hasRouting {
                // Source route entries (RFC 1701) until a NULL entry; bounded by the header.
                var entries = 0
                while true {
                    let at = h.offset
                    _ = try h.readUInt16()  // address family
                    let sreOffset = try h.readUInt8()
                    let sreLength = try h.readUInt8()
                    _ = sreOffset
                    if sreLength == 0 { break }
                    entries += 1
                    guard entries <= 64 else { throw DecodeError.malformed(.gre, at: at, field: "routing entries", value: entries) }
                    try h.skip(Int(sreLength))
                }
            }
        }
        g.payloadLength = h.remaining
        p.gre = g
        return h.rest(layer: .gre)
    }

    static func pim(_ r: ByteReader, _ p: inout Packet) throws(DecodeError) -> ByteReader? {
        p.hasEncapsulation = true
        var h = r.rest(layer: .pim)
        let start = h.offset
        let vt = try h.readUInt8()
        try h.skip(1)
        let ck = try h.readUInt16()
        var hdr = PIMHeader(version: vt >> 4, type: vt & 0xF, checksum: ck, length: r.remaining)
        p.pim = hdr
        guard hdr.version == 2 else { throw DecodeError.malformed(.pim, at: start, field: "version", value: Int(hdr.version)) }
        guard hdr.type == 1 else { return nil }
        let flags = try h.readUInt32()
        hdr.border = flags & 0x8000_0000 != 0
        hdr.nullRegister = flags & 0x4000_0000 != 0
        p.pim = hdr
        return h.rest(layer: .pim)
    }

    /// The network protocol of an IP packet by its version nibble (PIM register, MPLS).
    static func ipVersion(_ r: ByteReader) -> EtherType? {
        guard !r.isAtEnd, let b = try? r.byte(at: r.offset, lowerBound: r.offset) else { return nil }
        switch b >> 4 {
        case 4: return .ipv4
        case 6: return .ipv6
        default: return nil
        }
    }
}
