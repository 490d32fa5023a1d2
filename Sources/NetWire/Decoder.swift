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
    /// Decode tunnels and shims (VXLAN, Geneve, GRE, IP in IP, PIM register, MPLS, PPPoE, MACsec,
    /// NSH); off, their payload stays undecoded.
    public var decodeTunnels: Bool
    /// Take an IPv4 total length of 0 as segmentation offload (the captured length stands in), as
    /// tshark's `ip.tso_support`.
    public var tsoSupport: Bool

    /// Most encapsulations decoded inside one another; a deeper one is reported.
    public static let maxEncapsulationDepth = 8

    public init(verifyChecksums: Bool = true, decodeDNS: Bool = true, extraDNSPorts: [UInt16] = [],
                decodeTunnels: Bool = true, tsoSupport: Bool = true) {
        self.verifyChecksums = verifyChecksums
        self.decodeDNS = decodeDNS
        self.extraDNSPorts = extraDNSPorts
        self.decodeTunnels = decodeTunnels
        self.tsoSupport = tsoSupport
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
        var type = type
        var r = r
        // Shims between link and network layer, each at most a few times (a label stack is one).
        var shims = 0
        while decodeTunnels && shims < 4 {
            let next: EtherType?
            switch type {
            case .mplsUnicast, .mplsMulticast:
                next = try TunnelDecoder.mpls(&r, &p)
            case .pppoeSession:
                next = try TunnelDecoder.pppoe(&r, &p)
            case .macsec:
                next = try TunnelDecoder.macsec(&r, &p)
            case .nsh where p.nsh == nil:
                next = try TunnelDecoder.nsh(&r, &p)
            case .transparentEthernet, .nsh:
                decodeInner(.nsh, ethernet: type == .transparentEthernet, network: type, r, &p)
                return
            default:
                next = nil
                shims = 4
                continue
            }
            guard let next else { return }
            // (`networkOffset` stays where the link header ended: MPLS, PPPoE and NSH count as
            // network layer, as tcpdump's -x shows them.)
            p.networkType = next
            // MACsec is link layer to tcpdump: -x starts after it.
            if type == .macsec { p.networkOffset = min(r.offset, p.capturedLength) }
            type = next
            shims += 1
        }
        let upper: UpperLayer?
        switch type {
        case .ipv4:
            upper = try IPv4Decoder.decode(r, &p, verifyChecksums: verifyChecksums, tsoSupport: tsoSupport)
        case .ipv6:
            upper = try IPv6Decoder.decode(r, &p)
        case .arp, .rarp:
            try ARPDecoder.decode(r, &p)
            return
        default:
            return
        }
        guard let u = upper, u.firstFragment else { return }
        try decodeUpper(u, &p)
    }

    /// The transport layer (and what it carries) of an IP datagram, or of its first fragment.
    func decodeUpper(_ u: UpperLayer, _ p: inout Packet) throws(DecodeError) {
        switch u.proto {
        case .tcp:
            try TCPDecoder.decode(u, &p, verifyChecksums: verifyChecksums)
        case .udp:
            try UDPDecoder.decode(u, &p, verifyChecksums: verifyChecksums, decodeDNS: decodeDNS, extraDNSPorts: extraDNSPorts)
            guard decodeTunnels, !u.fragmented, let udp = p.udp, p.dns == nil else { return }
            let body = u.reader.window(from: p.payloadStart, to: p.payloadEnd, layer: .udp)
            if udp.destinationPort == TunnelDecoder.vxlanPort || udp.sourcePort == TunnelDecoder.vxlanPort {
                let rest = try TunnelDecoder.vxlan(body, &p)
                decodeInner(.vxlan, ethernet: true, network: nil, rest, &p)
            } else if udp.destinationPort == TunnelDecoder.genevePort || udp.sourcePort == TunnelDecoder.genevePort {
                let (rest, proto) = try TunnelDecoder.geneve(body, &p)
                decodeInner(.geneve, ethernet: proto == .transparentEthernet, network: proto, rest, &p)
            }
        case .icmp where !u.isIPv6:
            try ICMPDecoder.decode(u, &p, verifyChecksums: verifyChecksums)
        case .icmpv6 where u.isIPv6:
            try ICMPv6Decoder.decode(u, &p, verifyChecksums: verifyChecksums)
        case .ipInIP where decodeTunnels && !u.fragmented:
            decodeInner(.ipInIP, ethernet: false, network: .ipv4, u.reader, &p)
        case .ipv6 where decodeTunnels && !u.fragmented:
            decodeInner(.ipInIP, ethernet: false, network: .ipv6, u.reader, &p)
        case .gre where decodeTunnels && !u.fragmented:
            let rest = try TunnelDecoder.gre(u.reader, &p)
            if let g = p.gre, g.version == 0 {
                decodeInner(.gre, ethernet: g.protocolType == .transparentEthernet, network: g.protocolType, rest, &p)
            }
        case .pim where decodeTunnels && !u.fragmented:
            if let rest = try TunnelDecoder.pim(u.reader, &p), p.pim?.nullRegister == false,
               let t = TunnelDecoder.ipVersion(rest) {
                decodeInner(.pimRegister, ethernet: false, network: t, rest, &p)
            }
        default:
            return
        }
    }

    /// Decodes a datagram reassembled from IP fragments, `payload` its upper-layer bytes (what
    /// follows the IP header and extension headers), into `p`'s inner packet (encapsulation
    /// `.reassembled`, which owns the bytes). The inner packet keeps `p`'s IP header (fragment
    /// fields cleared, lengths of the whole datagram) so that flows see the conversation; views show
    /// only its upper layers. `p` must be the fragment that completed the datagram.
    public func decodeReassembled(_ payload: [UInt8], into p: inout Packet) {
        guard let f = p.fragment, p.ipv4 != nil || p.ipv6 != nil else { return }
        guard p.depth + 1 < Self.maxEncapsulationDepth else { return }
        let box = p.makeInner(.reassembled, linkType: p.linkType)
        box.bytes.append(contentsOf: payload)
        box.ownsBytes = true
        let n = box.bytes.count
        var q = Packet()
        swap(&q, &box.packet)  // decode into the box's packet (its arrays keep their capacity) unaliased
        q.reset(linkType: p.linkType, capturedLength: n, wireLength: n)
        q.depth = p.depth + 1
        q.networkOffset = 0
        let pseudo: UInt64
        if var ip = p.ipv4 {
            ip.moreFragments = false
            ip.fragmentOffset = 0
            ip.totalLength = UInt16(clamping: ip.headerLength + n)
            q.ipv4 = ip
            q.networkType = .ipv4
            pseudo = InternetChecksum.pseudoHeaderIPv4(source: ip.source, destination: ip.destination, proto: f.proto.rawValue, length: n)
        } else if var ip = p.ipv6 {
            ip.moreFragments = false
            ip.fragmentOffset = 0
            ip.isFragment = false
            ip.upperProtocol = f.proto
            q.ipv6 = ip
            q.networkType = .ipv6
            pseudo = InternetChecksum.pseudoHeaderIPv6(source: ip.source, destination: ip.destination, proto: f.proto.rawValue, length: n)
        } else {
            pseudo = 0
        }
        box.bytes.withUnsafeBytes { raw in
            let r = ByteReader(buffer: raw, offset: 0, upper: raw.count, layer: f.isIPv6 ? .ipv6 : .ipv4, clamped: false)
            let u = UpperLayer(reader: r, proto: f.proto, declaredLength: n, effectiveLength: n, complete: true,
                               pseudoHeader: pseudo, fragmented: false, firstFragment: true, isIPv6: f.isIPv6,
                               finalDestination: p.ipv6?.destination)
            do throws(DecodeError) {
                try decodeUpper(u, &q)
            } catch {
                q.errors.append(error)
            }
        }
        swap(&q, &box.packet)
    }

    /// Decodes the packet a tunnel carries into `p`'s inner packet: an Ethernet frame, or a
    /// network-layer packet of type `network`. Its problems stay with the inner packet.
    func decodeInner(_ encapsulation: Encapsulation, ethernet: Bool, network: EtherType?, _ r: ByteReader, _ p: inout Packet) {
        guard p.depth + 1 < Self.maxEncapsulationDepth else {
            p.errors.append(DecodeError.malformed(r.layer, at: r.offset, field: "encapsulation depth", value: p.depth + 1))
            return
        }
        guard ethernet || network == .ipv4 || network == .ipv6 || network == .mplsUnicast || network == .nsh
                || network == .pppoeSession else { return }
        let box = p.makeInner(encapsulation, linkType: ethernet ? .ethernet : p.linkType)
        box.packet.depth = p.depth + 1
        box.packet.networkOffset = min(r.offset, p.capturedLength)
        do {
            if ethernet {
                var e = r.rest(layer: .ethernet)
                let t = try LinkDecoder.ethernet(&e, &box.packet)
                box.packet.networkOffset = min(e.offset, p.capturedLength)
                guard let t else { return }
                box.packet.networkType = t
                try decodeNetwork(t, e, &box.packet)
            } else if let network {
                box.packet.networkType = network
                try decodeNetwork(network, r, &box.packet)
            }
        } catch {
            box.packet.errors.append(error)
        }
    }
}
