/// Decodes captured frames into a reusable `Packet`. Pure: no I/O, no printing, no allocation for
/// the common packet. Decoding never traps; problems land in `Packet.errors` and decoding stops at
/// the layer where they happened.
public struct PacketDecoder: Sendable {
    /// Verify IPv4 header, TCP, UDP and ICMP checksums (costs a pass over the bytes).
    public var verifyChecksums: Bool
    /// Decode DNS on UDP port 53.
    public var decodeDNS: Bool
    /// UDP ports decoded as DNS besides 53 (`--dns-port`); built once, only read per packet.
    public var extraDNSPorts: [UInt16]

    public init(verifyChecksums: Bool = true, decodeDNS: Bool = true, extraDNSPorts: [UInt16] = []) {
        self.verifyChecksums = verifyChecksums
        self.decodeDNS = decodeDNS
        self.extraDNSPorts = extraDNSPorts
    }

    public func decode(_ bytes: UnsafeRawBufferPointer, wireLength: Int, linkType: LinkType, into p: inout Packet) {
        p.reset(linkType: linkType, capturedLength: bytes.count, wireLength: wireLength)
        let root = ByteReader(buffer: bytes, offset: 0, upper: bytes.count, layer: .link,
                              clamped: bytes.count < wireLength)
        do {
            try decodeLink(root, linkType, &p)
        } catch {
            p.errors.append(error)
        }
    }

    func decodeLink(_ root: ByteReader, _ linkType: LinkType, _ p: inout Packet) throws(DecodeError) {
        var r = root
        let type: EtherType?
        switch linkType {
        case .ethernet:
            r = root.rest(layer: .ethernet)
            type = try LinkDecoder.ethernet(&r, &p)
        case .linuxSLL:
            type = try LinkDecoder.sll(&r, &p)
        case .linuxSLL2:
            type = try LinkDecoder.sll2(&r, &p)
        case .null:
            type = try LinkDecoder.null(&r, &p, networkOrder: false)
        case .loop:
            type = try LinkDecoder.null(&r, &p, networkOrder: true)
        case .raw, .rawAlt, .linktypeRaw:
            r = root.rest(layer: .raw)
            type = try LinkDecoder.raw(r)
        case .ipv4:
            type = .ipv4
        case .ipv6:
            type = .ipv6
        default:
            p.linkSupported = false
            p.networkOffset = 0
            return
        }
        p.networkOffset = min(r.offset, p.capturedLength)
        guard let type else { return }
        p.networkType = type
        try decodeNetwork(type, r, &p)
    }

    func decodeNetwork(_ type: EtherType, _ r: ByteReader, _ p: inout Packet) throws(DecodeError) {
        let upper: UpperLayer?
        switch type {
        case .ipv4:
            upper = try IPv4Decoder.decode(r, &p, verifyChecksums: verifyChecksums)
        case .ipv6:
            upper = try IPv6Decoder.decode(r, &p)
        case .arp, .rarp:
            try ARPDecoder.decode(r, &p)
            return
        default:
            return
        }
        guard let u = upper, u.firstFragment else { return }
        switch u.proto {
        case .tcp:
            try TCPDecoder.decode(u, &p, verifyChecksums: verifyChecksums)
        case .udp:
            try UDPDecoder.decode(u, &p, verifyChecksums: verifyChecksums, decodeDNS: decodeDNS, extraDNSPorts: extraDNSPorts)
        case .icmp where !u.isIPv6:
            try ICMPDecoder.decode(u, &p, verifyChecksums: verifyChecksums)
        case .icmpv6 where u.isIPv6:
            try ICMPv6Decoder.decode(u, &p, verifyChecksums: verifyChecksums)
        default:
            return
        }
    }
}
