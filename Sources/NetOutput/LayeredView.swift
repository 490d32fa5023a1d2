import NetAnalysis
import NetWire

/// Options of the `-v` layered view.
public struct LayeredOptions: Sendable {
    /// `-n`: ports as numbers only (otherwise a known service name is added).
    public var numeric = false
    /// `-S`: no relative sequence numbers beside the raw ones.
    public var absoluteSequence = false
    /// `-vv`: an `Analysis` block with the flow, its direction, and every annotation with its kind
    /// and the endpoint states.
    public var analysis = false
    /// `--hex-payload`: the application payload's bytes in hex and ASCII under its layer.
    public var hexPayload = false
    /// `--color`: layer names bold, addresses cyan, errors red, annotations by kind.
    public var color = false

    public init() {}
}

/// The `-v` view of one packet: under its line, one block per layer, outermost first, labelled by
/// the layer the course names it after (`Physical`, `Link: Ethernet II`, `Network: IPv4`,
/// `Transport: TCP`, `Application: DNS`), each decoded field on its own line with what it means,
/// options one per line, and decode errors under the layer where they happened:
///
///       Network: IPv4, 127.0.0.1 > 127.0.0.1
///         ttl: 64
///         checksum: 0x07b9 ok
///       Transport: TCP, 60126 > 9000
///         flags: 0x018 [PSH, ACK]
///         window: 512 (scaled ×128 = 65536)
///
/// Only fields that were read are shown: a header the capture cut short shows what was captured,
/// then its error. Pure formatting: it reads the decoded `Packet`, the captured bytes (for the
/// payload preview) and the analysis results.
public struct LayeredView {
    public var options: LayeredOptions

    public init(options: LayeredOptions) {
        self.options = options
    }

    /// Appends the blocks for one packet (each line ends in a newline).
    /// `windowShift`: the window scale that applies to a TCP segment (`FlowTracker.windowShift(of:)`).
    /// `marks`: where the part counts of split messages go once known (as in the packet line).
    public func format(frame: Int, packet p: Packet, bytes: UnsafeRawBufferPointer, notes: [Note] = [],
                       flow: FlowObservation? = nil, windowShift: UInt8? = nil, marks: PendingMarks? = nil,
                       into out: inout OutputBuffer) {
        physical(frame, p, &out)
        link(p, &out)
        // The messages framing found in this segment (shown under Application instead of "data"),
        // and the DNS messages a TCP segment completes.
        var framed: FramedDetail?
        for n in notes where n.framed != nil && n.prefix.isEmpty && n.kind != .recv {
            framed = n.framed
            break
        }
        if p.linkSupported {
            let tcpDNS = p.tcp != nil && JSONFormatter.hasStreamDNS(notes) ? JSONFormatter.streamDNS(notes) : []
            layers(p, bytes, flow, windowShift, framed: framed, tcpDNS: tcpDNS, &out)
        }
        if options.analysis { analysis(notes, flow, marks, &out) }
    }

    /// The blocks from the network layer up, then the tunnel headers and the inner packet's blocks.
    /// `tcpDNS`: the DNS messages (dns-tcp framing) this TCP segment completes.
    private func layers(_ p: Packet, _ bytes: UnsafeRawBufferPointer, _ flow: FlowObservation?, _ windowShift: UInt8?,
                        framed: FramedDetail? = nil, reassembled: Bool = false, tcpDNS: [DNSMessage] = [],
                        _ out: inout OutputBuffer) {
        if p.hasEncapsulation { shimBlocks(p, &out) }
        if !reassembled {
            if p.arp != nil || has(p, .arp) { arp(p, &out) }
            if p.ipv4 != nil || has(p, .ipv4) { ipv4(p, &out) }
            if p.ipv6 != nil || has(p, .ipv6) { ipv6(p, &out) }
        }
        let inner = p.inner
        let isTunnel = inner.map { $0.encapsulation != .reassembled } ?? false
        // The flow and window scale belong to the innermost conversation.
        let own = inner == nil
        if p.icmp != nil || has(p, .icmp) { icmp(p, &out) }
        if p.icmpv6 != nil || has(p, .icmpv6) { icmpv6(p, &out) }
        if p.tcp != nil || has(p, .tcp) { tcp(p, own ? flow : nil, own ? windowShift : nil, &out) }
        if p.udp != nil || has(p, .udp) { udp(p, &out) }
        if p.dns != nil || has(p, .dns) {
            dns(p, bytes, &out)
        } else if !tcpDNS.isEmpty {
            for m in tcpDNS {
                header("Application", "DNS over TCP", &out)
                dnsMessage(m, &out)
                errorLines(m.streamProblems, &out)
            }
        } else if (p.tcp != nil || p.udp != nil) && !isTunnel && p.vxlan == nil && p.geneve == nil {
            data(p, bytes, own ? framed : nil, &out)
        }
        if p.hasEncapsulation { tunnelBlocks(p, &out) }
        if let box = inner {
            let q = box.packet
            header("Inner packet", Self.carrier(box.encapsulation), &out)
            if box.encapsulation == .reassembled {
                out.ascii(", datagram of "); Self.bytes(box.bytes.count, &out)
            }
            end(&out)
            if q.ethernet != nil || has(q, .link) { ethernet(q, &out) }
            if box.ownsBytes {
                box.bytes.withUnsafeBytes {
                    layers(q, $0, flow, windowShift, framed: framed, reassembled: box.encapsulation == .reassembled, &out)
                }
            } else {
                layers(q, bytes, flow, windowShift, framed: framed, &out)
            }
        }
    }

    static func carrier(_ e: Encapsulation) -> StaticString {
        switch e {
        case .vxlan: "carried by VXLAN"
        case .geneve: "carried by Geneve"
        case .gre: "carried by GRE"
        case .ipInIP: "IP in IP"
        case .pimRegister: "carried by a PIM Register"
        case .nsh: "carried by NSH"
        case .mpls: "carried by MPLS"
        case .reassembled: "reassembled from IP fragments"
        }
    }

    /// MPLS, PPPoE, MACsec and NSH: headers between the link and the network layer.
    private func shimBlocks(_ p: Packet, _ out: inout OutputBuffer) {
        if !p.mpls.isEmpty || has(p, .mpls) {
            header("Shim", "MPLS", &out); out.ascii(", "); out.decimal(p.mpls.count); out.ascii(p.mpls.count == 1 ? " label" : " labels"); end(&out)
            for l in p.mpls {
                field("label", &out); out.decimal(l.label)
                out.ascii(" (traffic class "); out.decimal(l.trafficClass); out.ascii(", ttl "); out.decimal(l.ttl)
                out.ascii(l.bottomOfStack ? ", bottom of stack)\n" : ")\n")
            }
            errors(p, .mpls, &out)
        }
        if let h = p.pppoe {
            header("Shim", "PPPoE session", &out); out.ascii(", session 0x"); out.hex(UInt64(h.session)); end(&out)
            field("version/type", &out); out.decimal(h.version); out.byte(47); out.decimal(h.type); out.byte(10)
            field("code", &out); out.decimal(h.code); out.byte(10)
            field("length", &out); out.decimal(h.length); out.byte(10)
            if let pp = h.pppProtocol {
                field("PPP protocol", &out); out.hexPadded(UInt64(pp), digits: 4)
                out.ascii(pp == 0x21 ? " (IPv4)\n" : pp == 0x57 ? " (IPv6)\n" : "\n")
            }
        }
        if has(p, .pppoe) { errors(p, .pppoe, &out) }
        if let h = p.macsec {
            header("Shim", "MACsec", &out); out.ascii(h.clear ? ", payload in clear" : ", payload encrypted or modified (not decoded)"); end(&out)
            field("association number", &out); out.decimal(h.associationNumber); out.byte(10)
            field("packet number", &out); out.decimal(h.packetNumber); out.byte(10)
            if h.shortLength != 0 { field("short length", &out); out.decimal(h.shortLength); out.byte(10) }
            if let sci = h.sci { field("secure channel", &out); out.hexPadded(sci, digits: 16); out.byte(10) }
        }
        if has(p, .macsec) { errors(p, .macsec, &out) }
        if let h = p.nsh {
            header("Shim", "NSH (network service header)", &out); end(&out)
            field("service path", &out); out.decimal(h.servicePath); out.ascii(", index "); out.decimal(h.serviceIndex); out.byte(10)
            field("ttl", &out); out.decimal(h.ttl); out.byte(10)
            field("length", &out); out.decimal(Int(h.length) * 4); out.ascii(" bytes (MD type "); out.decimal(h.mdType); out.ascii(")\n")
            field("next protocol", &out); out.decimal(h.nextProtocol); out.byte(10)
        }
        if has(p, .nsh) { errors(p, .nsh, &out) }
    }

    /// VXLAN, Geneve, GRE and PIM headers, whose payload is the inner packet.
    private func tunnelBlocks(_ p: Packet, _ out: inout OutputBuffer) {
        if let h = p.vxlan {
            header("Tunnel", "VXLAN", &out); out.ascii(", VNI "); out.decimal(h.vni); end(&out)
            field("flags", &out); out.hexPadded(UInt64(h.flags), digits: 2)
            out.ascii(h.flags & 0x08 != 0 ? " (VNI valid)\n" : "\n")
        }
        if has(p, .vxlan) { errors(p, .vxlan, &out) }
        if let h = p.geneve {
            header("Tunnel", "Geneve", &out); out.ascii(", VNI "); out.decimal(h.vni); end(&out)
            field("protocol", &out); etherType(h.protocolType, &out); out.byte(10)
            field("options", &out); Self.bytes(h.optionsLength, &out)
            for o in h.options {
                out.ascii(", class "); out.hexPadded(UInt64(o.optionClass), digits: 4); out.ascii(" type "); out.decimal(o.type)
            }
            out.byte(10)
            if h.oam || h.critical { field("flags", &out); out.ascii(h.oam ? "OAM " : ""); out.ascii(h.critical ? "critical options" : ""); out.byte(10) }
        }
        if has(p, .geneve) { errors(p, .geneve, &out) }
        if let h = p.gre {
            header("Tunnel", "GRE", &out); out.ascii(", version "); out.decimal(h.version); end(&out)
            field("protocol", &out); etherType(h.protocolType, &out); out.byte(10)
            if let k = h.key { field("key", &out); out.hexPadded(UInt64(k), digits: 8); out.byte(10) }
            if let q = h.sequence { field("sequence", &out); out.decimal(q); out.byte(10) }
            if let a = h.acknowledgment { field("acknowledgment", &out); out.decimal(a); out.byte(10) }
            if let c = h.checksum { field("checksum", &out); out.hexPadded(UInt64(c), digits: 4); out.ascii(" (unverified)\n") }
        }
        if has(p, .gre) { errors(p, .gre, &out) }
        if let h = p.pim {
            header("Tunnel", "PIM", &out); out.ascii(", version "); out.decimal(h.version)
            out.ascii(h.type == 1 ? ", Register" : ", type "); if h.type != 1 { out.decimal(h.type) }
            end(&out)
            if h.type == 1 {
                field("flags", &out); out.ascii(h.border ? "border " : ""); out.ascii(h.nullRegister ? "null-register" : "")
                out.byte(10)
            }
        }
        if has(p, .pim) { errors(p, .pim, &out) }
    }

    // MARK: writing

    /// The block's first line: `  Network: IPv4` (the rest of the line is the caller's; `end` closes it).
    private func header(_ layer: StaticString, _ name: StaticString, _ out: inout OutputBuffer) {
        out.ascii("  ")
        if options.color { out.ascii(Style.layer) }
        out.ascii(layer); out.ascii(": "); out.ascii(name)
        if options.color { out.ascii(Style.reset) }
    }

    private func end(_ out: inout OutputBuffer) { out.byte(10) }

    /// `    name: ` (depth 1) or `      name: ` (depth 2).
    private func field(_ name: StaticString, depth: Int = 1, _ out: inout OutputBuffer) {
        out.ascii(depth > 1 ? "      " : "    ")
        out.ascii(name); out.ascii(": ")
    }

    private func item(depth: Int = 2, _ out: inout OutputBuffer) {
        out.ascii(depth > 1 ? "      " : "    ")
    }

    private func address(_ out: inout OutputBuffer, _ body: (inout OutputBuffer) -> Void) {
        if options.color { out.ascii(Style.address) }
        body(&out)
        if options.color { out.ascii(Style.reset) }
    }

    private func has(_ p: Packet, _ block: Layer) -> Bool {
        for e in p.errors where Self.block(of: e.layer) == block { return true }
        return false
    }

    /// The block an error is shown under.
    static func block(of layer: Layer) -> Layer {
        switch layer {
        case .link, .ethernet, .vlan, .sll, .sll2, .null, .raw: .link
        default: layer
        }
    }

    /// The errors of one block, each on its own line: `    error: truncated [|tcp] (needed 4 more bytes at offset 54)`.
    private func errors(_ p: Packet, _ block: Layer, _ out: inout OutputBuffer) {
        errorLines(p.errors.filter { Self.block(of: $0.layer) == block }, &out)
    }

    /// One `error:` line per problem.
    private func errorLines(_ errors: [DecodeError], _ out: inout OutputBuffer) {
        for e in errors {
            out.ascii("    ")
            if options.color { out.ascii(Style.error) }
            switch e.kind {
            case .truncated:
                out.ascii("error: truncated, the capture ends here [|"); out.ascii(e.layer.name); out.ascii("] (")
            case .malformed:
                out.ascii("error: malformed "); out.ascii(e.layer.name); out.ascii(" (")
            }
            ErrorText.detail(e, &out)
            out.byte(41)
            if options.color { out.ascii(Style.reset) }
            out.byte(10)
        }
    }

    private func checksum(_ value: UInt16, _ status: ChecksumStatus, why: StaticString, _ out: inout OutputBuffer) {
        field("checksum", &out)
        out.hexPadded(UInt64(value), digits: 4)
        switch status {
        case .ok: out.ascii(" ok")
        case .bad:
            if options.color { out.ascii(Style.error) }
            out.ascii(" bad")
            if options.color { out.ascii(Style.reset) }
        case .unverified: out.ascii(" unverified ("); out.ascii(why); out.byte(41)
        }
        out.byte(10)
    }

    /// Why a transport checksum could not be verified, as far as the packet tells.
    private func unverifiedTransport(_ p: Packet, udpZero: Bool) -> StaticString {
        if udpZero { return "none: the sender did not compute one" }
        if p.capturedLength < p.wireLength { return "not all bytes were captured" }
        if p.ipv4?.isFragment == true || (p.ipv6?.isFragment == true) { return "a fragment: the checksum covers the whole datagram" }
        return "holds only the pseudo-header sum: transmit checksum offload"
    }

    /// `1 byte`, `13 bytes`
    static func bytes(_ n: Int, _ out: inout OutputBuffer) {
        out.decimal(n)
        out.ascii(n == 1 ? " byte" : " bytes")
    }

    private func port(_ port: UInt16, udp: Bool, _ out: inout OutputBuffer) {
        out.decimal(port)
        if !options.numeric, let name = Names.service(port: port, udp: udp) {
            out.ascii(" ("); out.ascii(name); out.byte(41)
        }
    }

    // MARK: physical and link

    private func physical(_ frame: Int, _ p: Packet, _ out: inout OutputBuffer) {
        header("Physical", "frame", &out)
        out.byte(32); out.decimal(frame)
        out.ascii(", "); Self.bytes(p.wireLength, &out); out.ascii(" on the wire (")
        out.decimal(p.wireLength.multipliedReportingOverflow(by: 8).partialValue); out.ascii(" bits), ")
        if p.capturedLength < p.wireLength {
            out.decimal(p.capturedLength); out.ascii(" captured (cut by the snapshot length)")
        } else {
            out.decimal(p.capturedLength); out.ascii(" captured")
        }
        end(&out)
    }

    private func link(_ p: Packet, _ out: inout OutputBuffer) {
        guard p.linkSupported else {
            header("Link", "DLT ", &out); out.decimal(p.linkType.rawValue); out.ascii(" (not decoded)")
            end(&out)
            return
        }
        switch p.linkType {
        case .ethernet:
            ethernet(p, &out)
        case .linuxSLL, .linuxSLL2:
            sll(p, &out)
        case .null, .loop:
            header("Link", "BSD loopback", &out)
            if let n = p.null {
                out.ascii(", family "); out.decimal(n.family)
                end(&out)
                field("family", &out); out.decimal(n.family)
                switch n.family {
                case 2: out.ascii(" (IPv4)")
                case 10, 24, 28, 30: out.ascii(" (IPv6)")
                default: out.ascii(" (not decoded)")
                }
                out.byte(10)
            } else {
                end(&out)
            }
        default:
            header("Link", "none", &out); out.ascii(" (raw IP: the capture starts at the network header)")
            end(&out)
        }
        errors(p, .link, &out)
    }

    private func ethernet(_ p: Packet, _ out: inout OutputBuffer) {
        guard let e = p.ethernet else {
            header("Link", "Ethernet", &out); end(&out)
            return
        }
        header("Link", e.isLength8023 ? "Ethernet (IEEE 802.3)" : "Ethernet II", &out)
        out.ascii(", "); out.decimal(e.headerLength); out.ascii("-byte header")
        end(&out)
        field("destination", &out); address(&out) { $0.mac(e.destination) }
        macKind(e.destination, &out)
        field("source", &out); address(&out) { $0.mac(e.source) }
        macKind(e.source, &out)
        var i = 0
        while i < e.vlans.count {
            field("vlan", &out)
            out.ascii("id "); out.decimal(e.vlans.id(i))
            out.ascii(", priority "); out.decimal(e.vlans.priority(i))
            out.ascii(", DEI "); out.decimal((e.vlans.tci(i) >> 12) & 1)
            out.ascii(" (tag "); out.hexPadded(UInt64(e.vlans.tpid(i)), digits: 4)
            if let n = Names.etherType(EtherType(rawValue: e.vlans.tpid(i))) { out.byte(32); out.ascii(n) }
            out.ascii(")\n")
            i += 1
        }
        if e.isLength8023 {
            field("length", &out); out.decimal(e.etherType.rawValue)
            out.ascii(" (an 802.3 length field: LLC follows, not decoded)\n")
        } else {
            field("type", &out); etherType(e.etherType, &out); out.byte(10)
        }
    }

    /// ` (broadcast)`, ` (multicast)` or nothing, then the newline.
    private func macKind(_ m: MACAddress, _ out: inout OutputBuffer) {
        if m == .broadcast {
            out.ascii(" (broadcast)")
        } else if m.byte(0) & 1 == 1 {
            out.ascii(" (multicast)")
        }
        out.byte(10)
    }

    private func etherType(_ t: EtherType, _ out: inout OutputBuffer) {
        out.hexPadded(UInt64(t.rawValue), digits: 4)
        out.ascii(" (")
        if let n = Names.etherType(t) { out.ascii(n) } else { out.ascii("unknown") }
        out.byte(41)
    }

    /// The invoking packet an ICMP or ICMPv6 error quotes: addresses, protocol, ports.
    private func originalDatagram(src: (inout OutputBuffer) -> Void, dst: (inout OutputBuffer) -> Void, proto: IPProtocol,
                                  ports: (UInt16?, UInt16?), _ out: inout OutputBuffer) {
        field("original datagram", &out)
        address(&out, src)
        out.ascii(" > "); address(&out, dst)
        out.ascii(", protocol "); protocolName(proto, &out)
        if let s = ports.0, let d = ports.1 {
            out.ascii(", ports "); out.decimal(s); out.ascii(" > "); out.decimal(d)
        }
        out.byte(10)
    }

    /// `label: value (meaning)` for a code with a known meaning, else `label: value`.
    private func numbered(_ label: StaticString, _ value: UInt16, _ meaning: StaticString?, _ out: inout OutputBuffer) {
        field(label, &out); out.decimal(value)
        if let meaning { out.ascii(" ("); out.ascii(meaning); out.byte(41) }
        out.byte(10)
    }

    private func sll(_ p: Packet, _ out: inout OutputBuffer) {
        let v2 = p.linkType == .linuxSLL2
        header("Link", v2 ? "Linux cooked capture v2 (SLL2)" : "Linux cooked capture (SLL)", &out)
        guard let s = p.sll else { end(&out); return }
        out.ascii(", "); out.decimal(v2 ? 20 : 16); out.ascii("-byte pseudo-header written by the kernel")
        end(&out)
        if s.hasInterfaceIndex { field("interface index", &out); out.decimal(s.interfaceIndex); out.byte(10) }
        if s.hasPacketType { numbered("packet type", s.packetType, Names.sllPacketType(s.packetType), &out) }
        if s.hasHardwareType { numbered("link-layer address type", s.arphrdType, Names.arphrd(s.arphrdType), &out) }
        // The address bytes it declares, once they were captured (as JSON's `addr`); "none" once
        // the length byte was.
        if s.hasAddress || s.shownAddressLength == 0 && s.hasAddressLength {
            field("address", &out)
            if s.addressLength == 6 {
                address(&out) { $0.sllAddress(s) }
            } else if s.addressLength == 0 {
                out.ascii("none")
            } else {
                out.sllAddress(s)
            }
            out.ascii(" ("); out.decimal(s.addressLength); out.ascii(" bytes)\n")
        }
        if s.hasProtocol {
            field("protocol", &out); etherType(s.protocolType, &out); out.byte(10)
        }
    }

    // MARK: network

    private func arp(_ p: Packet, _ out: inout OutputBuffer) {
        header("Network", "ARP", &out)
        guard let a = p.arp else { end(&out); errors(p, .arp, &out); return }
        switch a.operation {
        case ARPPacket.request: out.ascii(", request")
        case ARPPacket.reply: out.ascii(", reply")
        case ARPPacket.rarpRequest: out.ascii(", reverse request")
        case ARPPacket.rarpReply: out.ascii(", reverse reply")
        default: break
        }
        end(&out)
        field("hardware type", &out); out.decimal(a.hardwareType)
        out.ascii(a.hardwareType == 1 ? " (Ethernet)\n" : "\n")
        field("protocol type", &out); etherType(EtherType(rawValue: a.protocolType), &out); out.byte(10)
        field("hardware address length", &out); out.decimal(a.hardwareLength); out.byte(10)
        field("protocol address length", &out); out.decimal(a.protocolLength); out.byte(10)
        field("operation", &out); out.decimal(a.operation)
        switch a.operation {
        case ARPPacket.request: out.ascii(" (request: who has the target IP?)")
        case ARPPacket.reply: out.ascii(" (reply: the sender has the sender IP)")
        case ARPPacket.rarpRequest: out.ascii(" (reverse request)")
        case ARPPacket.rarpReply: out.ascii(" (reverse reply)")
        default: break
        }
        out.byte(10)
        if a.hasHardwareAddresses { field("sender MAC", &out); address(&out) { $0.mac(a.senderMAC) }; out.byte(10) }
        if a.hasProtocolAddresses { field("sender IP", &out); address(&out) { $0.ipv4(a.senderIP) }; out.byte(10) }
        if a.hasHardwareAddresses {
            field("target MAC", &out); address(&out) { $0.mac(a.targetMAC) }
            out.ascii(a.operation == ARPPacket.request && a.targetMAC.raw == 0 ? " (unknown: being asked for)\n" : "\n")
        }
        if a.hasProtocolAddresses { field("target IP", &out); address(&out) { $0.ipv4(a.targetIP) }; out.byte(10) }
        errors(p, .arp, &out)
    }

    private func protocolName(_ proto: IPProtocol, _ out: inout OutputBuffer) {
        out.decimal(proto.rawValue)
        switch proto {
        case .tcp: out.ascii(" (TCP)")
        case .udp: out.ascii(" (UDP)")
        case .icmp: out.ascii(" (ICMP)")
        case .icmpv6: out.ascii(" (ICMPv6)")
        case .hopByHop: out.ascii(" (hop-by-hop options)")
        case .routing: out.ascii(" (routing header)")
        case .fragment: out.ascii(" (fragment header)")
        case .destinationOptions: out.ascii(" (destination options)")
        case .noNext: out.ascii(" (no next header)")
        default:
            if let n = Names.ipProtocol(proto) { out.ascii(" ("); out.ascii(n); out.byte(41) }
        }
    }

    private func ipv4(_ p: Packet, _ out: inout OutputBuffer) {
        header("Network", "IPv4", &out)
        guard let ip = p.ipv4 else { end(&out); errors(p, .ipv4, &out); return }
        if ip.has(through: 20) {
            out.ascii(", "); address(&out) { $0.ipv4(ip.source) }
            out.ascii(" > "); address(&out) { $0.ipv4(ip.destination) }
        }
        end(&out)
        field("version", &out); out.ascii("4\n")
        field("header length", &out); out.decimal(ip.headerLength); out.ascii(" bytes (IHL "); out.decimal(ip.ihl)
        if ip.ihl < 5 {
            out.ascii(": below the minimum of 5)\n")
        } else if ip.headerLength > 20 {
            out.ascii(", "); out.decimal(ip.headerLength - 20); out.ascii(" bytes of options)\n")
        } else {
            out.ascii(")\n")
        }
        if ip.has(through: 2) {
            field("tos", &out); out.hexPadded(UInt64(ip.tos), digits: 2)
            out.ascii(" (DSCP "); out.decimal(ip.tos >> 2); out.ascii(", ECN "); out.decimal(ip.tos & 3)
            switch ip.tos & 3 {
            case 1, 2: out.ascii(": ECN-capable")
            case 3: out.ascii(": congestion experienced")
            default: break
            }
            out.ascii(")\n")
        }
        if ip.has(through: 4) {
            field("total length", &out); out.decimal(ip.totalLength)
            if ip.isComplete { out.ascii(" ("); out.decimal(ip.headerLength); out.ascii(" header + "); out.decimal(max(Int(ip.totalLength) - ip.headerLength, 0)); out.ascii(" payload)") }
            out.byte(10)
        }
        if ip.has(through: 6) {
            field("id", &out); out.hexPadded(UInt64(ip.identification), digits: 4)
            out.ascii(" ("); out.decimal(ip.identification); out.ascii(")\n")
        }
        if ip.has(through: 8) {
            let bits = (ip.reservedFlag ? 4 : 0) | (ip.dontFragment ? 2 : 0) | (ip.moreFragments ? 1 : 0)
            field("flags", &out); out.hexPadded(UInt64(bits), digits: 1); out.ascii(" [")
            var list = FlagList()
            list.add(ip.reservedFlag, "reserved", &out); list.add(ip.dontFragment, "DF", &out); list.add(ip.moreFragments, "MF", &out)
            list.close(&out)
            if ip.dontFragment { out.ascii(" (don't fragment)") }
            if ip.moreFragments { out.ascii(" (more fragments follow)") }
            out.byte(10)
            field("fragment offset", &out); out.decimal(ip.fragmentOffset)
            if ip.fragmentOffset != 0 {
                out.ascii(" ("); out.decimal(Int(ip.fragmentOffset) * 8); out.ascii(" bytes into the datagram; no transport header here)")
            }
            out.byte(10)
        }
        if ip.has(through: 9) {
            field("ttl", &out); out.decimal(ip.ttl); out.ascii(" (hops left)\n")
        }
        if ip.has(through: 10) { field("protocol", &out); protocolName(ip.proto, &out); out.byte(10) }
        if ip.has(through: 12) {
            checksum(ip.checksum, ip.checksumStatus, why: ip.isComplete ? "not verified" : "header not all captured", &out)
        }
        if ip.has(through: 16) { field("source", &out); address(&out) { $0.ipv4(ip.source) }; out.byte(10) }
        if ip.has(through: 20) { field("destination", &out); address(&out) { $0.ipv4(ip.destination) }; out.byte(10) }
        if !p.ipv4Options.isEmpty {
            field("options", &out); out.decimal(ip.optionsLength); out.ascii(" bytes\n")
            for o in p.ipv4Options {
                item(&out)
                switch o.kind {
                case 0: out.ascii("end of options")
                case 1: out.ascii("no-op")
                default:
                    ipv4OptionName(o.kind, &out)
                    out.ascii(", length "); out.decimal(o.length)
                }
                out.byte(10)
            }
        }
        errors(p, .ipv4, &out)
    }

    private func ipv4OptionName(_ kind: UInt8, _ out: inout OutputBuffer) {
        switch kind {
        case 7: out.ascii("record route")
        case 68: out.ascii("timestamp")
        case 130: out.ascii("security")
        case 131: out.ascii("loose source route")
        case 136: out.ascii("stream id")
        case 137: out.ascii("strict source route")
        case 148: out.ascii("router alert")
        default: out.ascii("kind "); out.decimal(kind)
        }
    }

    private func ipv6(_ p: Packet, _ out: inout OutputBuffer) {
        header("Network", "IPv6", &out)
        guard let ip = p.ipv6 else { end(&out); errors(p, .ipv6, &out); return }
        if ip.isComplete {
            out.ascii(", "); address(&out) { $0.ipv6(ip.source) }
            out.ascii(" > "); address(&out) { $0.ipv6(ip.destination) }
        }
        end(&out)
        field("version", &out); out.ascii("6\n")
        field("traffic class", &out); out.hexPadded(UInt64(ip.trafficClass), digits: 2)
        out.ascii(" (DSCP "); out.decimal(ip.trafficClass >> 2); out.ascii(", ECN "); out.decimal(ip.trafficClass & 3); out.ascii(")\n")
        field("flow label", &out); out.hexPadded(UInt64(ip.flowLabel), digits: 5); out.byte(10)
        if ip.has(through: 6) {
            field("payload length", &out); out.decimal(ip.payloadLength)
            if ip.payloadLength == 0, let jumbo = ip.jumboPayloadLength {
                out.ascii(" (jumbogram: "); out.decimal(jumbo); out.ascii(" bytes, from the hop-by-hop Jumbo Payload option)")
            }
            out.byte(10)
        }
        if ip.has(through: 7) { field("next header", &out); protocolName(ip.nextHeader, &out); out.byte(10) }
        if ip.has(through: 8) { field("hop limit", &out); out.decimal(ip.hopLimit); out.ascii(" (hops left)\n") }
        if ip.has(through: 24) { field("source", &out); address(&out) { $0.ipv6(ip.source) }; out.byte(10) }
        if ip.has(through: 40) { field("destination", &out); address(&out) { $0.ipv6(ip.destination) }; out.byte(10) }
        if !p.ipv6Extensions.isEmpty {
            field("extension headers", &out); out.decimal(p.ipv6Extensions.count); out.byte(10)
            for e in p.ipv6Extensions { ipv6Extension(e, p, &out) }
            field("upper-layer protocol", &out); protocolName(ip.upperProtocol, &out); out.byte(10)
        }
        errors(p, .ipv6, &out)
    }

    /// One extension header: its kind and length, then what it carries.
    private func ipv6Extension(_ e: IPv6Extension, _ p: Packet, _ out: inout OutputBuffer) {
        item(&out); protocolName(e.kind, &out); out.ascii(", "); Self.bytes(e.length, &out)
        switch e.kind {
        case .routing:
            out.ascii(", type "); out.decimal(e.routingType)
            out.ascii(", segments left "); out.decimal(e.segmentsLeft)
            out.byte(10)
            var i = 0
            while i < e.addressCount {
                let k = e.addressStart + i
                guard k >= 0, k < p.ipv6RoutingAddresses.count else { break }
                out.ascii("        address: "); address(&out) { $0.ipv6(p.ipv6RoutingAddresses[k]) }; out.byte(10)
                i += 1
            }
        case .fragment:
            out.ascii(": offset "); out.decimal(Int(e.fragmentOffset) * 8)
            out.ascii(e.moreFragments ? " bytes, more fragments follow" : " bytes, last fragment")
            out.ascii(", id "); out.hexPadded(UInt64(e.identification), digits: 8); out.byte(10)
        case .ah:
            out.ascii(": SPI "); out.hexPadded(UInt64(e.spi), digits: 8)
            out.ascii(", sequence "); out.decimal(e.sequence); out.byte(10)
        default:
            out.byte(10)
        }
    }

    private static func icmpTypeName(_ t: UInt8) -> StaticString? {
        switch t {
        case 0: "echo reply"
        case 3: "destination unreachable"
        case 4: "source quench"
        case 5: "redirect"
        case 8: "echo request"
        case 9: "router advertisement"
        case 10: "router solicitation"
        case 11: "time exceeded"
        case 12: "parameter problem"
        case 13: "timestamp request"
        case 14: "timestamp reply"
        case 15: "information request"
        case 16: "information reply"
        case 17: "address mask request"
        case 18: "address mask reply"
        default: nil
        }
    }

    private func icmp(_ p: Packet, _ out: inout OutputBuffer) {
        header("Network", "ICMP", &out)
        guard let m = p.icmp else { end(&out); errors(p, .icmp, &out); return }
        if let n = Self.icmpTypeName(m.type) { out.ascii(", "); out.ascii(n) }
        end(&out)
        field("type", &out); out.decimal(m.type)
        if let n = Self.icmpTypeName(m.type) { out.ascii(" ("); out.ascii(n); out.byte(41) }
        out.byte(10)
        field("code", &out); out.decimal(m.code)
        if m.type == ICMPMessage.destinationUnreachable, let n = Names.icmpUnreachable(m.code) {
            out.ascii(" ("); out.ascii(n); out.ascii(" unreachable)")
        } else if m.type == ICMPMessage.timeExceeded {
            out.ascii(m.code == 0 ? " (TTL reached 0 in transit)" : m.code == 1 ? " (fragment reassembly time exceeded)" : "")
        }
        out.byte(10)
        checksum(m.checksum, m.checksumStatus, why: "not all bytes were captured", &out)
        switch m.type {
        case ICMPMessage.echoRequest, ICMPMessage.echoReply, ICMPMessage.timestampRequest, ICMPMessage.timestampReply,
             15, 16, 17, 18:
            field("identifier", &out); out.decimal(m.identifier); out.byte(10)
            field("sequence", &out); out.decimal(m.sequence); out.byte(10)
        case ICMPMessage.destinationUnreachable where m.code == 4:
            field("next-hop MTU", &out); out.decimal(m.sequence); out.byte(10)
        case ICMPMessage.redirect:
            field("gateway", &out); address(&out) { $0.ipv4(IPv4Address(raw: m.restOfHeader)) }; out.byte(10)
        case ICMPMessage.parameterProblem:
            field("pointer", &out); out.decimal(m.restOfHeader >> 24); out.ascii(" (the octet in error)\n")
        default:
            break
        }
        if let q = m.quoted {
            originalDatagram(src: { $0.ipv4(q.source) }, dst: { $0.ipv4(q.destination) }, proto: q.proto,
                             ports: (q.sourcePort, q.destinationPort), &out)
        }
        field("data", &out); Self.bytes(m.dataLength, &out); out.ascii(" after the 8-byte header\n")
        errors(p, .icmp, &out)
    }

    private func icmpv6(_ p: Packet, _ out: inout OutputBuffer) {
        header("Network", "ICMPv6", &out)
        guard let m = p.icmpv6 else { end(&out); errors(p, .icmpv6, &out); return }
        if let n = ICMPv6Names.type(m.type) { out.ascii(", "); out.ascii(n) }
        end(&out)
        field("type", &out); out.decimal(m.type)
        if let n = ICMPv6Names.type(m.type) { out.ascii(" ("); out.ascii(n); out.byte(41) }
        out.ascii(m.isError ? ", an error message\n" : ", an informational message\n")
        field("code", &out); out.decimal(m.code)
        if m.type == ICMPv6Message.destinationUnreachable, let n = ICMPv6Names.unreachable(m.code) {
            // (tcpdump's names keep an odd leading space: skipped in place, no String built.)
            out.ascii(" ("); n.withUTF8Buffer { b in
                let raw = UnsafeRawBufferPointer(b)
                out.append(UnsafeRawBufferPointer(rebasing: raw[(raw.firstIndex { $0 != 32 } ?? raw.count)...]))
            }
            out.byte(41)
        } else if m.type == ICMPv6Message.timeExceeded {
            out.ascii(m.code == 0 ? " (hop limit reached 0 in transit)" : m.code == 1 ? " (fragment reassembly time exceeded)" : "")
        }
        out.byte(10)
        checksum(m.checksum, m.checksumStatus, why: "not all bytes were captured", &out)
        switch m.type {
        case ICMPv6Message.echoRequest, ICMPv6Message.echoReply:
            field("identifier", &out); out.decimal(m.identifier); out.byte(10)
            field("sequence", &out); out.decimal(m.sequence); out.byte(10)
        case ICMPv6Message.packetTooBig:
            field("MTU", &out); out.decimal(m.restOfHeader); out.ascii(" (of the next link)\n")
        case ICMPv6Message.parameterProblem:
            field("pointer", &out); out.decimal(m.restOfHeader); out.ascii(" (the octet in error)\n")
        default:
            break
        }
        if let t = m.target { field("target", &out); address(&out) { $0.ipv6(t) }; out.byte(10) }
        if let d = m.redirectDestination { field("redirected destination", &out); address(&out) { $0.ipv6(d) }; out.byte(10) }
        if let a = m.multicastAddress { field("multicast address", &out); address(&out) { $0.ipv6(a) }; out.byte(10) }
        if let n = m.mldSourceCount { field("sources", &out); out.decimal(n); out.byte(10) }
        if let mac = m.sourceLinkAddress { field("source link-layer address", &out); address(&out) { $0.mac(mac) }; out.byte(10) }
        if let mac = m.targetLinkAddress { field("target link-layer address", &out); address(&out) { $0.mac(mac) }; out.byte(10) }
        if let mtu = m.mtuOption { field("MTU option", &out); out.decimal(mtu); out.byte(10) }
        if let prefix = m.prefix {
            field("prefix", &out); address(&out) { $0.ipv6(prefix) }; out.byte(47); out.decimal(m.prefixLength); out.byte(10)
        }
        if m.optionCount > 0 { field("options", &out); out.decimal(m.optionCount); out.ascii(" (neighbor discovery)\n") }
        if let q = m.quoted {
            originalDatagram(src: { $0.ipv6(q.source) }, dst: { $0.ipv6(q.destination) }, proto: q.proto,
                             ports: (q.sourcePort, q.destinationPort), &out)
        }
        field("data", &out); Self.bytes(m.dataLength, &out); out.ascii(" after the 8-byte header\n")
        errors(p, .icmpv6, &out)
    }

    // MARK: transport

    private func tcp(_ p: Packet, _ flow: FlowObservation?, _ windowShift: UInt8?, _ out: inout OutputBuffer) {
        header("Transport", "TCP", &out)
        guard let t = p.tcp else { end(&out); errors(p, .tcp, &out); return }
        out.ascii(", "); out.decimal(t.sourcePort); out.ascii(" > "); out.decimal(t.destinationPort)
        end(&out)
        field("source port", &out); port(t.sourcePort, udp: false, &out); out.byte(10)
        field("destination port", &out); port(t.destinationPort, udp: false, &out); out.byte(10)
        guard t.isComplete else { errors(p, .tcp, &out); return }
        let f = t.flags
        let relative = options.absoluteSequence ? nil : flow
        field("seq", &out); out.decimal(t.sequence)
        if f.contains(.syn) {
            out.ascii(" (initial sequence number)")
        } else if let base = relative?.seqBase {
            let rel = t.sequence &- base
            out.ascii(" (relative "); out.decimal(rel)
            if t.payloadLength > 0 {
                out.ascii(", next "); out.decimal(rel &+ UInt32(truncatingIfNeeded: t.payloadLength))
            }
            out.byte(41)
        }
        out.byte(10)
        field("ack", &out); out.decimal(t.acknowledgment)
        if !f.contains(.ack) {
            out.ascii(" (not used: no ACK flag)")
        } else if let base = relative?.ackBase {
            out.ascii(" (relative "); out.decimal(t.acknowledgment &- base); out.ascii(": next byte expected)")
        } else if f.contains(.syn) {
            out.ascii(" (the SYN's sequence number + 1: next byte expected)")
        } else {
            out.ascii(" (next byte expected)")
        }
        out.byte(10)
        field("header length", &out); out.decimal(t.headerLength); out.ascii(" bytes (data offset "); out.decimal(t.dataOffset); out.ascii(")\n")
        field("flags", &out); out.hexPadded(UInt64(f.rawValue), digits: 3); out.ascii(" [")
        if options.color { out.ascii(Style.tcpFlags(f)) }
        var first = true
        for (x, name) in Names.tcpFlagNames where f.contains(x) {
            if !first { out.ascii(", ") }
            first = false
            out.ascii(name)
        }
        if first { out.ascii("none") }
        if options.color { out.ascii(Style.reset) }
        out.ascii("]\n")
        field("window", &out); out.decimal(t.window)
        if f.contains(.syn) {
            out.ascii(" (a SYN's window is never scaled)")
        } else if let shift = windowShift {
            let scaled = UInt64(t.window) << UInt64(min(shift, 14))
            out.ascii(" (scaled ×"); out.decimal(UInt64(1) << UInt64(min(shift, 14)))
            out.ascii(" = "); out.decimal(scaled); out.byte(41)
        }
        out.byte(10)
        checksum(t.checksum, t.checksumStatus, why: unverifiedTransport(p, udpZero: false), &out)
        if f.contains(.urg) || t.urgentPointer != 0 {
            field("urgent pointer", &out); out.decimal(t.urgentPointer)
            if !f.contains(.urg) { out.ascii(" (ignored: no URG flag)") }
            out.byte(10)
        }
        if !p.tcpOptions.isEmpty {
            field("options", &out); out.decimal(max(t.headerLength - 20, 0)); out.ascii(" bytes\n")
            for o in p.tcpOptions { tcpOption(o, &out) }
        }
        field("payload", &out); Self.bytes(t.payloadLength, &out); out.byte(10)
        errors(p, .tcp, &out)
    }

    private func sackBlocks(_ b: SACKBlocks, _ out: inout OutputBuffer) {
        var i = 0
        while i < b.count {
            let blk = b.block(i)
            out.byte(32); out.decimal(blk.left); out.byte(45); out.decimal(blk.right)
            i += 1
        }
    }

    private func tcpOption(_ o: TCPOption, _ out: inout OutputBuffer) {
        item(&out)
        switch o {
        case .endOfList: out.ascii("end of options")
        case .noOperation: out.ascii("nop (padding)")
        case .maximumSegmentSize(let v): out.ascii("mss: "); out.decimal(v); out.ascii(" bytes (largest segment this side accepts)")
        case .windowScale(let v):
            out.ascii("window scale: "); out.decimal(v)
            out.ascii(" (×"); out.decimal(UInt64(1) << UInt64(min(v, 14))); out.byte(41)
        case .sackPermitted: out.ascii("SACK permitted")
        case .sack(let b):
            out.ascii("SACK:"); sackBlocks(b, &out)
        case .timestamps(let v, let e):
            out.ascii("timestamps: value "); out.decimal(v); out.ascii(", echo reply "); out.decimal(e)
        case .unknown(let kind, let length, _):
            out.ascii("kind "); out.decimal(kind); out.ascii(", length "); out.decimal(length); out.ascii(" (not decoded)")
        case .truncated(let kind):
            out.ascii(TCPOptionNames.text(kind)); out.ascii(" (kind "); out.decimal(kind); out.ascii(", cut off by the capture)")
        case .timestampValueOnly(let v):
            out.ascii("timestamps: value "); out.decimal(v); out.ascii(" (echo reply cut off by the capture)")
        case .truncatedSACK(let b, let declared):
            out.ascii("SACK:"); sackBlocks(b, &out)
            out.ascii(" (the other "); out.decimal(max(declared - b.count, 0)); out.ascii(" of "); out.decimal(declared)
            out.ascii(" blocks cut off)")
        case .invalidLength(let kind, let length):
            out.ascii(TCPOptionNames.text(kind)); out.ascii(" (kind "); out.decimal(kind)
            out.ascii(") with length "); out.decimal(length); out.ascii(": wrong for its kind, skipped")
        }
        out.byte(10)
    }

    private func udp(_ p: Packet, _ out: inout OutputBuffer) {
        header("Transport", "UDP", &out)
        guard let u = p.udp else { end(&out); errors(p, .udp, &out); return }
        out.ascii(", "); out.decimal(u.sourcePort); out.ascii(" > "); out.decimal(u.destinationPort)
        end(&out)
        field("source port", &out); port(u.sourcePort, udp: true, &out); out.byte(10)
        field("destination port", &out); port(u.destinationPort, udp: true, &out); out.byte(10)
        if u.has(through: 6) {
            field("length", &out); out.decimal(u.length)
            if u.length >= 8 { out.ascii(" (8-byte header + "); out.decimal(Int(u.length) - 8); out.ascii(" bytes of data)") }
            out.byte(10)
        }
        if u.isComplete {
            checksum(u.checksum, u.checksumStatus, why: unverifiedTransport(p, udpZero: u.checksum == 0 && p.ipv6 == nil), &out)
        }
        errors(p, .udp, &out)
    }

    // MARK: application

    /// The application payload of a TCP/UDP packet that no decoder here understands: its size and
    /// the first bytes as text.
    private func data(_ p: Packet, _ bytes: UnsafeRawBufferPointer, _ framed: FramedDetail?, _ out: inout OutputBuffer) {
        let declared = p.tcp.map { $0.isComplete ? $0.payloadLength : 0 } ?? p.udp.map { $0.isComplete ? max(Int($0.length) - 8, 0) : 0 } ?? 0
        let payload = PacketDetails.payload(p, bytes)
        let captured = payload.count
        guard declared > 0 || captured > 0 else { return }
        if let f = framed, !f.spans.isEmpty {
            // What the framing found in this segment's bytes.
            header("Application", "messages", &out)
            out.ascii(", "); Self.bytes(declared, &out); out.ascii(" (framing "); out.string(f.framing); out.byte(41)
            end(&out)
            for s in f.spans {
                out.ascii("    msg #"); out.decimal(s.message); out.ascii(": ")
                if s.isWhole {
                    Self.bytes(s.to - s.from, &out); out.ascii(", whole")
                } else {
                    out.ascii("part "); out.decimal(s.part)
                    if let n = s.parts { out.ascii(" of "); out.decimal(n) }
                    out.ascii(", its bytes "); out.decimal(s.from); out.ascii("–"); out.decimal(s.to)
                    if let l = s.length { out.ascii(" of "); out.decimal(l) }
                    if s.completes { out.ascii(" (its end)") }
                }
                out.byte(10)
            }
        } else {
            header("Application", "data", &out)
            out.ascii(", "); Self.bytes(declared, &out); out.ascii(" (not decoded)")
            end(&out)
        }
        if captured < declared {
            field("captured", &out); out.decimal(captured); out.ascii(" of "); out.decimal(declared); out.ascii(" bytes\n")
        }
        if captured > 0 {
            field("text", &out)
            Self.preview(payload, limit: 64, &out)
            out.byte(10)
            if options.hexPayload { HexDump.lines(payload, ascii: true, into: &out) }
        }
    }

    /// `"hello server\n"`: the first `limit` bytes as a quoted string, printable ASCII as is, other
    /// bytes escaped; `…` when there is more.
    static func preview(_ b: UnsafeRawBufferPointer, limit: Int, _ out: inout OutputBuffer) {
        out.byte(34)
        let n = min(b.count, limit)
        var i = 0
        while i < n {
            let c = b[i]
            switch c {
            case 10: out.ascii("\\n")
            case 13: out.ascii("\\r")
            case 9: out.ascii("\\t")
            case 34: out.ascii("\\\"")
            case 92: out.ascii("\\\\")
            case 0x20 ..< 0x7F: out.byte(c)
            default: out.ascii("\\x"); out.hexByte(c)
            }
            i += 1
        }
        out.byte(34)
        if b.count > limit { out.ascii(" …") }
    }

    private func dns(_ p: Packet, _ bytes: UnsafeRawBufferPointer, _ out: inout OutputBuffer) {
        header("Application", "DNS", &out)
        guard let m = p.dns else { end(&out); errors(p, .dns, &out); return }
        dnsMessage(m, &out)
        if options.hexPayload {
            let payload = PacketDetails.payload(p, bytes)
            if payload.count > 0 {
                field("message", &out); Self.bytes(payload.count, &out); out.byte(10)
                HexDump.lines(payload, ascii: true, into: &out)
            }
        }
        errors(p, .dns, &out)
    }

    /// The rest of a DNS block's header line (`, response`) and its fields.
    private func dnsMessage(_ m: DNSMessage, _ out: inout OutputBuffer) {
        if m.headerFieldsRead >= 2 { out.ascii(m.isResponse ? ", response" : ", query") }
        end(&out)
        field("id", &out); out.hexPadded(UInt64(m.id), digits: 4); out.ascii(" ("); out.decimal(m.id)
        out.ascii(m.headerFieldsRead >= 2 && m.isResponse ? ": matches the query's)\n" : ": the response will carry it)\n")
        if m.headerFieldsRead >= 2 {
            field("flags", &out); out.hexPadded(UInt64(m.flags), digits: 4); out.ascii(" [")
            var list = FlagList()
            list.add(m.isResponse, "QR", &out); list.add(m.authoritative, "AA", &out); list.add(m.truncatedFlag, "TC", &out)
            list.add(m.recursionDesired, "RD", &out); list.add(m.recursionAvailable, "RA", &out); list.add(m.zFlag, "Z", &out)
            list.add(m.authenticData, "AD", &out); list.add(m.checkingDisabled, "CD", &out)
            list.close(&out)
            out.ascii(" (")
            out.ascii(m.isResponse ? "response" : "query")
            if m.recursionDesired { out.ascii(", recursion desired") }
            if m.isResponse && m.recursionAvailable { out.ascii(", recursion available") }
            if m.authoritative { out.ascii(", authoritative answer") }
            if m.truncatedFlag { out.ascii(", truncated: retry over TCP") }
            out.ascii(")\n")
            field("opcode", &out); out.decimal(m.opcode)
            switch m.opcode {
            case 0: out.ascii(" (QUERY)")
            case 1: out.ascii(" (IQUERY)")
            case 2: out.ascii(" (STATUS)")
            case 4: out.ascii(" (NOTIFY)")
            case 5: out.ascii(" (UPDATE)")
            default: break
            }
            out.byte(10)
            field("rcode", &out); out.decimal(m.rcode)
            if let r = Names.dnsRcode(m.rcode) { out.ascii(" ("); out.ascii(r); out.byte(41) }
            out.byte(10)
        }
        if m.headerComplete {
            field("counts", &out)
            out.decimal(m.questionCount); out.ascii(m.questionCount == 1 ? " question, " : " questions, ")
            out.decimal(m.answerCount); out.ascii(m.answerCount == 1 ? " answer, " : " answers, ")
            out.decimal(m.authorityCount); out.ascii(" authority, ")
            out.decimal(m.additionalCount); out.ascii(" additional\n")
            for q in m.questions {
                field("question", &out)
                DNSPresentation.name(q.name, &out, trailingDot: true); out.byte(32)
                out.dnsClass(q.qclass); out.byte(32); out.dnsType(q.type); out.byte(10)
            }
            record("answer", m.answers, &out)
            record("authority", m.authority, &out)
            record("additional", m.additional, &out)
        }
    }

    private func record(_ section: StaticString, _ rrs: [DNSRecord], _ out: inout OutputBuffer) {
        for rr in rrs {
            field(section, &out)
            if rr.type == DNSType.opt {
                out.ascii("EDNS OPT, ")
                DNSPresentation.data(rr, &out, trailingDots: true)
            } else {
                DNSPresentation.name(rr.name, &out, trailingDot: true); out.byte(32)
                out.decimal(rr.ttl); out.byte(32)
                out.dnsClass(rr.rclass); out.byte(32); out.dnsType(rr.type); out.byte(32)
                DNSPresentation.data(rr, &out, trailingDots: true)
            }
            out.ascii(" (rdlength "); out.decimal(rr.rdlength); out.ascii(")\n")
        }
    }

    // MARK: -vv

    /// `text` begins with the kind's words (`_` read as a space or a hyphen), case aside.
    static func startsWithKind(_ text: String, _ kind: String) -> Bool {
        var t = text.utf8.makeIterator()
        for k in kind.utf8 {
            guard let c = t.next() else { return false }
            let lower = c >= 65 && c <= 90 ? c + 32 : c
            if k == UInt8(ascii: "_") ? (lower != 32 && lower != 45) : lower != k { return false }
        }
        return true
    }

    /// `Analysis: flow 3, client to server`, then each annotation as `kind: text (client …, server …)`.
    private func analysis(_ notes: [Note], _ flow: FlowObservation?, _ marks: PendingMarks?, _ out: inout OutputBuffer) {
        guard flow != nil || !notes.isEmpty else { return }
        header("Analysis", "", &out)
        if let flow {
            out.ascii("flow "); out.decimal(flow.flowID)
            out.ascii(flow.direction == .clientToServer ? ", client to server" : ", server to client")
        } else {
            out.ascii("no tracked flow")
        }
        end(&out)
        for k in notes.indices {
            out.ascii("    ")
            let color = options.color ? Style.note(notes[k].kind) : nil
            if let color { out.ascii(color) }
            // The kind, unless the words already start with it (`handshake 1/3`, `split: msg #1 …`).
            // Message notes say `sticky:` / `split:` themselves, `msg #…` for `message`; their
            // words are not built as a String to find that out.
            let kind = notes[k].kind.rawValue
            let saysKind = notes[k].wordsFromFramed
                ? notes[k].kind != .message && notes[k].prefix.isEmpty
                : Self.startsWithKind(notes[k].text, kind)
            if !saysKind { out.string(kind); out.ascii(": ") }
            // Message notes are written as the packet line writes them (part counts filled in later).
            NoteWords.write(notes, k, states: true, marks: marks, into: &out)
            if color != nil { out.ascii(Style.reset) }
            out.byte(10)
        }
    }
}

/// The names of the set flags of a field, `A, B` (or `none`), closed by `]`.
private struct FlagList {
    private var first = true

    mutating func add(_ on: Bool, _ name: StaticString, _ out: inout OutputBuffer) {
        guard on else { return }
        if !first { out.ascii(", ") }
        first = false
        out.ascii(name)
    }

    func close(_ out: inout OutputBuffer) {
        if first { out.ascii("none") }
        out.byte(93)
    }
}
