import NetAnalysis
import NetWire

/// JSON Lines output, exactly as docs/json.md (the contract) fixes the names and value forms.
public struct JSONFormatter {
    /// Where split-message notes leave their part counts to be filled in (nil: written as known).
    public var pendingMarks: PendingMarks?
    public var nanosecondPrecision: Bool

    public init(nanosecondPrecision: Bool) {
        self.nanosecondPrecision = nanosecondPrecision
    }

    /// The contract's `link` value for a link type.
    public static func linkName(_ t: LinkType, pcapName: String) -> String {
        switch t {
        case .ethernet: "ethernet"
        case .linuxSLL: "sll"
        case .linuxSLL2: "sll2"
        case .raw, .rawAlt, .linktypeRaw, .ipv4, .ipv6: "raw"
        case .null, .loop: "null"
        default: pcapName
        }
    }

    public func format(frame: Int, seconds: Int, nanoseconds: Int, packet p: Packet, notes: [Note] = [],
                       flow: FlowObservation? = nil, link: String, into o: inout OutputBuffer) {
        o.ascii("{\"frame\":"); o.decimal(frame)
        o.ascii(",\"ts\":")
        o.epoch(seconds: seconds, nanoseconds: nanoseconds, digits: nanosecondPrecision ? 9 : 6)
        o.ascii(",\"caplen\":"); o.decimal(p.capturedLength)
        o.ascii(",\"len\":"); o.decimal(p.wireLength)
        o.ascii(",\"link\":"); o.jsonString(link)
        // (DNS over TCP: only when a note carries a DNS decode; a TCP segment has no `dns` of its own.)
        layers(p, tcpDNS: p.tcp != nil && Self.hasStreamDNS(notes) ? Self.streamDNS(notes) : [], &o)
        if !p.linkSupported {
            o.ascii(",\"unsupported_link\":"); o.decimal(p.linkType.rawValue)
        }
        if let flow {
            o.ascii(",\"flow\":{\"id\":"); o.decimal(flow.flowID)
            o.ascii(flow.direction == .clientToServer ? ",\"dir\":\"c2s\"}" : ",\"dir\":\"s2c\"}")
        }
        let tso = p.lengthFromCapture || p.innerLengthFromCapture
        if !notes.isEmpty || tso {
            o.ascii(",\"notes\":[")
            var first = true
            if tso {
                o.ascii("{\"kind\":\"tso\",\"text\":\"TSO: length from capture\"}")
                first = false
            }
            for n in notes {
                if !first { o.byte(44) }
                first = false
                o.ascii("{\"kind\":"); o.jsonString(n.kind.rawValue)
                o.ascii(",\"text\":")
                if let f = n.framed, n.wordsFromFramed {
                    o.byte(34)
                    if !n.prefix.isEmpty { var p = n.prefix; p.withUTF8 { o.jsonEscaped($0) } }
                    BufferSink.write(f, into: &o, json: true, marks: pendingMarks)
                    o.byte(34)
                } else {
                    o.jsonString(n.text)
                }
                if let f = n.relatedFrame { o.ascii(",\"of\":"); o.decimal(f) }
                if let w = n.wireshark { o.ascii(",\"wireshark\":\""); o.ascii(w); o.byte(34) }
                if let st = n.states {
                    o.ascii(",\"states\":{\"client\":\""); o.string(st.client.rawValue)
                    o.ascii("\",\"server\":\""); o.string(st.server.rawValue); o.ascii("\"}")
                }
                if let rtt = n.rttNanoseconds { o.ascii(",\"rtt\":"); FlowFormatter.seconds(rtt, &o) }
                if let frames = n.fragmentFrames {
                    o.ascii(",\"fragments\":[")
                    for (i, fr) in frames.enumerated() { if i > 0 { o.byte(44) }; o.decimal(fr) }
                    o.byte(93)
                }
                if let f = n.framed { framed(f, &o) }
                o.byte(125)
            }
            o.byte(93)
        }
        o.ascii("}\n")
    }

    static func hasStreamDNS(_ notes: [Note]) -> Bool { StreamDNS.present(notes) }
    static func streamDNS(_ notes: [Note]) -> [DNSMessage] { StreamDNS.all(notes) }

    /// A message note's details: `"framing"`, `"dir"`, and per message carried
    /// `{"msg", "from", "to", "len", "part", "parts", "complete", "segments", "header", "dns"}`.
    private func framed(_ f: FramedDetail, _ o: inout OutputBuffer) {
        o.ascii(",\"framing\":"); o.jsonString(f.framing)
        o.ascii(f.clientToServer ? ",\"dir\":\"c2s\"" : ",\"dir\":\"s2c\"")
        o.ascii(",\"messages\":[")
        var first = true
        for s in f.spans {
            if !first { o.byte(44) }
            first = false
            o.ascii("{\"msg\":"); o.decimal(s.message)
            o.ascii(",\"from\":"); o.decimal(s.from)
            o.ascii(",\"to\":"); o.decimal(s.to)
            if let l = s.length {
                o.ascii(",\"len\":"); o.decimal(l)
            } else if let id = s.pendingID, let m = pendingMarks {
                m.add(offset: o.count, id: id, field: .length, json: true)
            }
            o.ascii(",\"part\":"); o.decimal(s.part)
            if let p = s.parts {
                o.ascii(",\"parts\":"); o.decimal(p)
            } else if let id = s.pendingID, let m = pendingMarks {
                m.add(offset: o.count, id: id, field: .parts, json: true)
            }
            o.ascii(s.completes ? ",\"complete\":true" : ",\"complete\":false")
            if !s.frames.isEmpty {
                o.ascii(",\"segments\":[")
                for (i, fr) in s.frames.enumerated() { if i > 0 { o.byte(44) }; o.decimal(fr) }
                o.byte(93)
            }
            if let h = s.jsonHeader { o.ascii(",\"header\":"); o.jsonString(h) }
            if let m = s.dns { o.ascii(",\"dns\":"); dnsObject(m, streamErrors: true, &o) }
            o.byte(125)
        }
        o.byte(93)
    }

    /// The layer objects of one packet (the frame's own, or an inner one: same keys), tunnel and
    /// shim headers, the inner packet recursively, and the decode errors of this level.
    /// `tcpDNS`: the DNS messages a TCP segment completes (dns-tcp framing); the first is the
    /// packet's `dns`, and when there are several, all of them are `dns_messages` too.
    private func layers(_ p: Packet, reassembled: Bool = false, tcpDNS: [DNSMessage] = [], _ o: inout OutputBuffer) {
        if let e = p.ethernet {
            o.ascii(",\"eth\":{\"src\":\""); o.mac(e.source)
            o.ascii("\",\"dst\":\""); o.mac(e.destination)
            o.ascii("\",\"type\":"); o.decimal(e.etherType.rawValue)
            if e.isLength8023 { o.ascii(",\"llc\":true") }
            if e.vlans.count > 0 {
                o.ascii(",\"vlan\":[")
                var i = 0
                while i < e.vlans.count {
                    if i > 0 { o.byte(44) }
                    o.decimal(e.vlans.id(i))
                    i += 1
                }
                o.byte(93)
            }
            o.byte(125)
        }
        if let s = p.sll {
            o.ascii(s.version == 2 ? ",\"sll2\":{" : ",\"sll\":{")
            // Only the fields that were captured (a cut header shows what it has).
            var comma = false
            func key(_ k: StaticString) { if comma { o.byte(44) }; comma = true; o.byte(34); o.ascii(k); o.ascii("\":") }
            if s.hasPacketType { key("pkttype"); o.decimal(s.packetType) }
            if s.hasHardwareType { key("hatype"); o.decimal(s.arphrdType) }
            // The address as far as its length says, once those bytes were captured (as tshark).
            if s.hasAddress { key("addr"); o.byte(34); o.sllAddress(s); o.byte(34) }
            if s.hasProtocol { key("type"); o.decimal(s.protocolType.rawValue) }
            if s.hasInterfaceIndex { key("ifindex"); o.decimal(s.interfaceIndex) }
            o.byte(125)
        }
        if let n = p.null {
            o.ascii(",\"null\":{\"family\":"); o.decimal(n.family); o.byte(125)
        }
        if let a = p.arp { arp(a, &o) }
        if p.hasEncapsulation { shims(p, &o) }
        if !reassembled {
            if let ip = p.ipv4 { ipv4(ip, p.ipv4Options, &o) }
            if let ip = p.ipv6 { ipv6(ip, p.ipv6Extensions, &o) }
        }
        if let f = p.fragment, !reassembled { fragment(f, &o) }
        if let m = p.icmp { icmp(m, &o) }
        if let m = p.icmpv6 { icmpv6(m, &o) }
        if let t = p.tcp { tcp(t, p.tcpOptions, &o) }
        else if p.udp == nil, let ports = p.partialPorts {
            // A transport header cut short: keep the ports that were read.
            let isUDP = (p.ipv4?.proto ?? p.ipv6?.upperProtocol) == .udp
            o.ascii(isUDP ? ",\"udp\":{\"sport\":" : ",\"tcp\":{\"sport\":"); o.decimal(ports.0)
            o.ascii(",\"dport\":"); o.decimal(ports.1); o.byte(125)
        }
        if let u = p.udp {
            o.ascii(",\"udp\":{\"sport\":"); o.decimal(u.sourcePort)
            o.ascii(",\"dport\":"); o.decimal(u.destinationPort)
            if u.has(through: 6) { o.ascii(",\"len\":"); o.decimal(u.length) }
            if u.isComplete { o.ascii(",\"checksum\":"); checksum(u.checksumStatus, &o) }
            o.byte(125)
        }
        if let d = p.dns { dns(d, &o) }
        else if !tcpDNS.isEmpty, let d = tcpDNS.first {
            o.ascii(",\"dns\":")
            dnsObject(d, streamErrors: true, &o)
            if tcpDNS.count > 1 {
                o.ascii(",\"dns_messages\":[")
                for (i, m) in tcpDNS.enumerated() {
                    if i > 0 { o.byte(44) }
                    dnsObject(m, streamErrors: true, &o)
                }
                o.byte(93)
            }
        }
        if p.hasEncapsulation { tunnels(p, &o) }
        if let box = p.inner {
            o.ascii(",\"inner\":{\"encap\":\""); o.ascii(box.encapsulation.name); o.byte(34)
            layers(box.packet, reassembled: box.encapsulation == .reassembled, &o)
            o.byte(125)
        }
        if !p.errors.isEmpty { errorList(p.errors, &o) }
    }

    /// `,"errors":[{"layer", "kind", "offset", "detail"}, …]`.
    private func errorList(_ errors: [DecodeError], _ o: inout OutputBuffer) {
        o.ascii(",\"errors\":[")
        var first = true
        for e in errors {
            if !first { o.byte(44) }
            first = false
            o.ascii("{\"layer\":\""); o.ascii(Self.layerName(e.layer))
            o.ascii(e.kind == .truncated ? "\",\"kind\":\"truncated\"" : "\",\"kind\":\"malformed\"")
            o.ascii(",\"offset\":"); o.decimal(e.offset)
            o.ascii(",\"detail\":\"")
            var tmp = OutputBuffer(fd: -1, capacity: 128)
            ErrorText.detail(e, &tmp)
            tmp.bytes.withUnsafeBufferPointer { o.jsonEscaped($0) }
            o.ascii("\"}")
        }
        o.byte(93)
    }

    /// `mpls`, `pppoe`, `macsec`, `nsh`: headers between the link and the network layer.
    private func shims(_ p: Packet, _ o: inout OutputBuffer) {
        if !p.mpls.isEmpty {
            o.ascii(",\"mpls\":[")
            for (i, l) in p.mpls.enumerated() {
                if i > 0 { o.byte(44) }
                o.ascii("{\"label\":"); o.decimal(l.label)
                o.ascii(",\"tc\":"); o.decimal(l.trafficClass)
                o.ascii(l.bottomOfStack ? ",\"s\":true" : ",\"s\":false")
                o.ascii(",\"ttl\":"); o.decimal(l.ttl); o.byte(125)
            }
            o.byte(93)
        }
        if let h = p.pppoe {
            o.ascii(",\"pppoe\":{\"ver\":"); o.decimal(h.version)
            o.ascii(",\"type\":"); o.decimal(h.type)
            o.ascii(",\"code\":"); o.decimal(h.code)
            o.ascii(",\"session\":"); o.decimal(h.session)
            o.ascii(",\"len\":"); o.decimal(h.length)
            if let pp = h.pppProtocol { o.ascii(",\"proto\":"); o.decimal(pp) }
            o.byte(125)
        }
        if let h = p.macsec {
            o.ascii(",\"macsec\":{\"tci\":"); o.decimal(h.tci >> 2)
            o.ascii(",\"an\":"); o.decimal(h.associationNumber)
            o.ascii(",\"sl\":"); o.decimal(h.shortLength)
            o.ascii(",\"pn\":"); o.decimal(h.packetNumber)
            if let sci = h.sci { o.ascii(",\"sci\":\""); o.hexPadded(sci, digits: 16); o.byte(34) }
            o.ascii(h.encrypted ? ",\"encrypted\":true" : ",\"encrypted\":false")
            o.byte(125)
        }
        if let h = p.nsh {
            o.ascii(",\"nsh\":{\"ver\":"); o.decimal(h.version)
            o.ascii(h.oam ? ",\"oam\":true" : ",\"oam\":false")
            o.ascii(",\"ttl\":"); o.decimal(h.ttl)
            o.ascii(",\"len\":"); o.decimal(h.length)
            o.ascii(",\"md_type\":"); o.decimal(h.mdType)
            o.ascii(",\"next\":"); o.decimal(h.nextProtocol)
            o.ascii(",\"spi\":"); o.decimal(h.servicePath)
            o.ascii(",\"si\":"); o.decimal(h.serviceIndex)
            o.byte(125)
        }
    }

    /// `vxlan`, `geneve`, `gre`, `pim`: tunnel headers whose payload is the `inner` packet.
    private func tunnels(_ p: Packet, _ o: inout OutputBuffer) {
        if let h = p.vxlan {
            o.ascii(",\"vxlan\":{\"flags\":"); o.decimal(h.flags)
            o.ascii(",\"vni\":"); o.decimal(h.vni); o.byte(125)
        }
        if let h = p.geneve {
            o.ascii(",\"geneve\":{\"ver\":"); o.decimal(h.version)
            o.ascii(",\"opt_len\":"); o.decimal(h.optionsLength)
            o.ascii(h.oam ? ",\"oam\":true" : ",\"oam\":false")
            o.ascii(h.critical ? ",\"critical\":true" : ",\"critical\":false")
            o.ascii(",\"proto\":"); o.decimal(h.protocolType.rawValue)
            o.ascii(",\"vni\":"); o.decimal(h.vni)
            o.ascii(",\"options\":[")
            for (i, opt) in h.options.enumerated() {
                if i > 0 { o.byte(44) }
                o.ascii("{\"class\":"); o.decimal(opt.optionClass)
                o.ascii(",\"type\":"); o.decimal(opt.type)
                o.ascii(",\"len\":"); o.decimal(opt.length); o.byte(125)
            }
            o.ascii("]}")
        }
        if let h = p.gre {
            o.ascii(",\"gre\":{\"ver\":"); o.decimal(h.version)
            o.ascii(",\"flags\":[")
            var first = true
            func flag(_ on: Bool, _ name: StaticString) {
                guard on else { return }
                if !first { o.byte(44) }
                first = false
                o.byte(34); o.ascii(name); o.byte(34)
            }
            flag(h.hasChecksum, "checksum"); flag(h.hasRouting, "routing"); flag(h.hasKey, "key"); flag(h.hasSequence, "seq")
            flag(h.version == 1 && h.flagsVersion & 0x80 != 0, "ack")
            o.ascii("],\"proto\":"); o.decimal(h.protocolType.rawValue)
            if let v = h.checksum { o.ascii(",\"checksum_value\":"); o.decimal(v) }
            if let v = h.key { o.ascii(",\"key\":"); o.decimal(v) }
            if let v = h.sequence { o.ascii(",\"seq\":"); o.decimal(v) }
            if let v = h.acknowledgment { o.ascii(",\"ack\":"); o.decimal(v) }
            o.ascii(",\"payload_len\":"); o.decimal(h.payloadLength)
            o.byte(125)
        }
        if let h = p.pim {
            o.ascii(",\"pim\":{\"ver\":"); o.decimal(h.version)
            o.ascii(",\"type\":"); o.decimal(h.type)
            if h.type == 1 {
                o.ascii(h.border ? ",\"border\":true" : ",\"border\":false")
                o.ascii(h.nullRegister ? ",\"null_register\":true" : ",\"null_register\":false")
            }
            o.byte(125)
        }
    }

    /// `fragment`: `{"id", "offset" (bytes), "len", "mf"}`.
    private func fragment(_ f: FragmentInfo, _ o: inout OutputBuffer) {
        o.ascii(",\"fragment\":{\"id\":"); o.decimal(f.identification)
        o.ascii(",\"offset\":"); o.decimal(f.offset)
        o.ascii(",\"len\":"); o.decimal(f.length)
        o.ascii(f.moreFragments ? ",\"mf\":true}" : ",\"mf\":false}")
    }

    static func layerName(_ l: Layer) -> StaticString {
        switch l {
        case .link: "link"
        case .ethernet: "eth"
        case .vlan: "vlan"
        case .sll: "sll"
        case .sll2: "sll2"
        case .null: "null"
        case .raw: "raw"
        case .arp: "arp"
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        case .icmp: "icmp"
        case .icmpv6: "icmpv6"
        case .tcp: "tcp"
        case .udp: "udp"
        case .dns: "dns"
        case .mpls: "mpls"
        case .pppoe: "pppoe"
        case .macsec: "macsec"
        case .nsh: "nsh"
        case .vxlan: "vxlan"
        case .geneve: "geneve"
        case .gre: "gre"
        case .pim: "pim"
        }
    }

    private func checksum(_ s: ChecksumStatus, _ o: inout OutputBuffer) {
        switch s {
        case .ok: o.ascii("\"ok\"")
        case .bad: o.ascii("\"bad\"")
        case .unverified: o.ascii("\"unverified\"")
        }
    }

    private func arp(_ a: ARPPacket, _ o: inout OutputBuffer) {
        o.ascii(",\"arp\":{\"op\":")
        switch a.operation {
        case ARPPacket.request: o.ascii("\"request\"")
        case ARPPacket.reply: o.ascii("\"reply\"")
        default: o.decimal(a.operation)
        }
        if a.hasHardwareAddresses {
            o.ascii(",\"sha\":\""); o.mac(a.senderMAC)
            o.ascii("\",\"tha\":\""); o.mac(a.targetMAC); o.byte(34)
        }
        if a.hasProtocolAddresses {
            o.ascii(",\"spa\":\""); o.ipv4(a.senderIP)
            o.ascii("\",\"tpa\":\""); o.ipv4(a.targetIP); o.byte(34)
        }
        if !a.isEthernetIPv4 {
            o.ascii(",\"htype\":"); o.decimal(a.hardwareType)
            o.ascii(",\"ptype\":"); o.decimal(a.protocolType)
            o.ascii(",\"hlen\":"); o.decimal(a.hardwareLength)
            o.ascii(",\"plen\":"); o.decimal(a.protocolLength)
        }
        o.byte(125)
    }

    private func ipv4(_ ip: IPv4Header, _ options: [IPv4Option], _ o: inout OutputBuffer) {
        guard ip.isComplete else { return ipv4Partial(ip, &o) }
        o.ascii(",\"ipv4\":{\"src\":\""); o.ipv4(ip.source)
        o.ascii("\",\"dst\":\""); o.ipv4(ip.destination)
        o.ascii("\",\"ttl\":"); o.decimal(ip.ttl)
        o.ascii(",\"id\":"); o.decimal(ip.identification)
        o.ascii(",\"proto\":"); o.decimal(ip.proto.rawValue)
        o.ascii(",\"len\":"); o.decimal(ip.totalLength)
        o.ascii(",\"ihl\":"); o.decimal(ip.ihl)
        o.ascii(ip.dontFragment ? ",\"df\":true" : ",\"df\":false")
        o.ascii(ip.moreFragments ? ",\"mf\":true" : ",\"mf\":false")
        o.ascii(",\"frag_offset\":"); o.decimal(Int(ip.fragmentOffset) * 8)
        o.ascii(",\"tos\":"); o.decimal(ip.tos)
        o.ascii(",\"checksum\":"); checksum(ip.checksumStatus, &o)
        if !options.isEmpty {
            o.ascii(",\"options\":[")
            var first = true
            for opt in options {
                if !first { o.byte(44) }
                first = false
                o.ascii("{\"kind\":"); o.decimal(opt.kind); o.ascii(",\"len\":"); o.decimal(opt.length); o.byte(125)
            }
            o.byte(93)
        }
        o.byte(125)
    }

    /// The fields of a cut (or, for IHL < 5, meaningless) header that were read, in header order.
    private func ipv4Partial(_ ip: IPv4Header, _ o: inout OutputBuffer) {
        o.ascii(",\"ipv4\":{\"ihl\":"); o.decimal(ip.ihl)
        if ip.has(through: 2) { o.ascii(",\"tos\":"); o.decimal(ip.tos) }
        if ip.has(through: 4) { o.ascii(",\"len\":"); o.decimal(ip.totalLength) }
        if ip.has(through: 6) { o.ascii(",\"id\":"); o.decimal(ip.identification) }
        if ip.has(through: 8) {
            o.ascii(ip.dontFragment ? ",\"df\":true" : ",\"df\":false")
            o.ascii(ip.moreFragments ? ",\"mf\":true" : ",\"mf\":false")
            o.ascii(",\"frag_offset\":"); o.decimal(Int(ip.fragmentOffset) * 8)
        }
        if ip.has(through: 9) { o.ascii(",\"ttl\":"); o.decimal(ip.ttl) }
        if ip.has(through: 10) { o.ascii(",\"proto\":"); o.decimal(ip.proto.rawValue) }
        if ip.has(through: 12) { o.ascii(",\"checksum\":\"unverified\"") }
        if ip.has(through: 16) { o.ascii(",\"src\":\""); o.ipv4(ip.source); o.byte(34) }
        o.byte(125)
    }

    private func ipv6(_ ip: IPv6Header, _ ext: [IPv6Extension], _ o: inout OutputBuffer) {
        guard ip.isComplete else {
            o.ascii(",\"ipv6\":{\"tclass\":"); o.decimal(ip.trafficClass)
            o.ascii(",\"flow_label\":"); o.decimal(ip.flowLabel)
            if ip.has(through: 6) { o.ascii(",\"plen\":"); o.decimal(ip.payloadLength) }
            if ip.has(through: 7) { o.ascii(",\"next\":"); o.decimal(ip.nextHeader.rawValue) }
            if ip.has(through: 8) { o.ascii(",\"hlim\":"); o.decimal(ip.hopLimit) }
            if ip.has(through: 24) { o.ascii(",\"src\":\""); o.ipv6(ip.source); o.byte(34) }
            o.byte(125)
            return
        }
        o.ascii(",\"ipv6\":{\"src\":\""); o.ipv6(ip.source)
        o.ascii("\",\"dst\":\""); o.ipv6(ip.destination)
        o.ascii("\",\"hlim\":"); o.decimal(ip.hopLimit)
        o.ascii(",\"next\":"); o.decimal(ip.nextHeader.rawValue)
        o.ascii(",\"flow_label\":"); o.decimal(ip.flowLabel)
        o.ascii(",\"plen\":"); o.decimal(ip.payloadLength)
        o.ascii(",\"tclass\":"); o.decimal(ip.trafficClass)
        o.ascii(",\"ext\":[")
        var first = true
        for e in ext {
            if !first { o.byte(44) }
            first = false
            o.decimal(e.kind.rawValue)
        }
        o.byte(93)
        if let j = ip.jumboPayloadLength { o.ascii(",\"jumbo\":"); o.decimal(j) }
        if ip.isFragment {
            o.ascii(",\"frag_offset\":"); o.decimal(Int(ip.fragmentOffset) * 8)
            o.ascii(ip.moreFragments ? ",\"mf\":true" : ",\"mf\":false")
            o.ascii(",\"frag_id\":"); o.decimal(ip.fragmentIdentification)
        }
        o.byte(125)
    }

    private func icmp(_ m: ICMPMessage, _ o: inout OutputBuffer) {
        o.ascii(",\"icmp\":{\"type\":"); o.decimal(m.type)
        o.ascii(",\"code\":"); o.decimal(m.code)
        switch m.type {
        case ICMPMessage.echoRequest, ICMPMessage.echoReply, ICMPMessage.timestampRequest, ICMPMessage.timestampReply,
             15, 16, 17, 18:  // information and address-mask request/reply carry id and seq too
            o.ascii(",\"id\":"); o.decimal(m.identifier)
            o.ascii(",\"seq\":"); o.decimal(m.sequence)
        default:
            break
        }
        if let q = m.quoted {
            quoted(src: { $0.ipv4(q.source) }, dst: { $0.ipv4(q.destination) }, proto: q.proto,
                   ports: (q.sourcePort, q.destinationPort), echo: (q.echoIdentifier, q.echoSequence), &o)
        }
        o.ascii(",\"checksum\":"); checksum(m.checksumStatus, &o)
        o.byte(125)
    }

    /// The `"quoted"` object of an ICMP or ICMPv6 error: the invoking packet's addresses, protocol
    /// and ports.
    private func quoted(src: (inout OutputBuffer) -> Void, dst: (inout OutputBuffer) -> Void, proto: IPProtocol,
                        ports: (UInt16?, UInt16?), echo: (UInt16?, UInt16?) = (nil, nil), _ o: inout OutputBuffer) {
        o.ascii(",\"quoted\":{\"src\":\""); src(&o)
        o.ascii("\",\"dst\":\""); dst(&o)
        o.ascii("\",\"proto\":"); o.decimal(proto.rawValue)
        if let s = ports.0 { o.ascii(",\"sport\":"); o.decimal(s) }
        if let d = ports.1 { o.ascii(",\"dport\":"); o.decimal(d) }
        if let i = echo.0 { o.ascii(",\"id\":"); o.decimal(i) }
        if let q = echo.1 { o.ascii(",\"seq\":"); o.decimal(q) }
        o.byte(125)
    }

    private func icmpv6(_ m: ICMPv6Message, _ o: inout OutputBuffer) {
        o.ascii(",\"icmpv6\":{\"type\":"); o.decimal(m.type)
        o.ascii(",\"code\":"); o.decimal(m.code)
        if let n = ICMPv6Names.type(m.type) { o.ascii(",\"name\":\""); o.ascii(n); o.byte(34) }
        switch m.type {
        case ICMPv6Message.echoRequest, ICMPv6Message.echoReply:
            o.ascii(",\"id\":"); o.decimal(m.identifier)
            o.ascii(",\"seq\":"); o.decimal(m.sequence)
        case ICMPv6Message.packetTooBig:
            o.ascii(",\"mtu\":"); o.decimal(m.restOfHeader)
        case ICMPv6Message.parameterProblem:
            o.ascii(",\"pointer\":"); o.decimal(m.restOfHeader)
        case ICMPv6Message.neighborAdvertisement:
            o.ascii(",\"flags\":[")
            var first = true
            func flag(_ bit: UInt32, _ name: StaticString) {
                guard m.restOfHeader & bit != 0 else { return }
                if !first { o.byte(44) }
                first = false
                o.byte(34); o.ascii(name); o.byte(34)
            }
            flag(ICMPv6Message.flagRouter, "router"); flag(ICMPv6Message.flagSolicited, "solicited")
            flag(ICMPv6Message.flagOverride, "override")
            o.byte(93)
        case ICMPv6Message.routerAdvertisement:
            o.ascii(",\"hop_limit\":"); o.decimal(m.restOfHeader >> 24)
            o.ascii(",\"router_lifetime\":"); o.decimal(m.restOfHeader & 0xFFFF)
        default:
            break
        }
        if let t = m.target { o.ascii(",\"target\":\""); o.ipv6(t); o.byte(34) }
        if let d = m.redirectDestination { o.ascii(",\"destination\":\""); o.ipv6(d); o.byte(34) }
        if let g = m.multicastAddress { o.ascii(",\"group\":\""); o.ipv6(g); o.byte(34) }
        if let n = m.mldSourceCount { o.ascii(",\"sources\":"); o.decimal(n) }
        if let mac = m.linkAddress { o.ascii(",\"lladdr\":\""); o.mac(mac); o.byte(34) }
        if let mtu = m.mtuOption { o.ascii(",\"mtu\":"); o.decimal(mtu) }
        if let pfx = m.prefix {
            o.ascii(",\"prefix\":\""); o.ipv6(pfx); o.byte(47); o.decimal(m.prefixLength); o.byte(34)
        }
        if let q = m.quoted {
            quoted(src: { $0.ipv6(q.source) }, dst: { $0.ipv6(q.destination) }, proto: q.proto,
                   ports: (q.sourcePort, q.destinationPort), &o)
        }
        o.ascii(",\"checksum\":"); checksum(m.checksumStatus, &o)
        o.byte(125)
    }

    private func tcp(_ t: TCPHeader, _ options: [TCPOption], _ o: inout OutputBuffer) {
        o.ascii(",\"tcp\":{\"sport\":"); o.decimal(t.sourcePort)
        o.ascii(",\"dport\":"); o.decimal(t.destinationPort)
        // Every field that was read (see `TCPHeader.validBytes`; the contract never drops a key): a
        // header cut inside its first 16 bytes shows its ports; the sequence number, acknowledgment,
        // flags and window come as one (as tshark reads them), also with an impossible data offset,
        // whose options then are none.
        guard t.has(through: 16) else { o.byte(125); return }
        o.ascii(",\"seq\":"); o.decimal(t.sequence)
        o.ascii(",\"ack\":"); o.decimal(t.acknowledgment)
        o.ascii(",\"flags\":["); tcpFlags(t.flags, &o)
        o.ascii("],\"win\":"); o.decimal(t.window)
        o.ascii(",\"payload_len\":"); o.decimal(t.payloadLength)
        o.ascii(",\"hlen\":"); o.decimal(t.headerLength)
        let usable = t.dataOffsetValid
        if usable && t.has(through: 20) && t.flags.contains(.urg) { o.ascii(",\"urg\":"); o.decimal(t.urgentPointer) }
        if !usable {
            o.ascii(",\"options\":[]")
        } else if t.has(through: 20) {
            tcpOptions(options, &o)
        }
        if t.has(through: 18) { o.ascii(",\"checksum\":"); checksum(t.checksumStatus, &o) }
        o.byte(125)
    }

    private func tcpOptions(_ options: [TCPOption], _ o: inout OutputBuffer) {
        o.ascii(",\"options\":[")
        var first = true
        for opt in options {
            if !first { o.byte(44) }
            first = false
            switch opt {
            case .endOfList: o.ascii("{\"kind\":\"eol\"}")
            case .noOperation: o.ascii("{\"kind\":\"nop\"}")
            case .maximumSegmentSize(let v): o.ascii("{\"kind\":\"mss\",\"value\":"); o.decimal(v); o.byte(125)
            case .windowScale(let v): o.ascii("{\"kind\":\"wscale\",\"value\":"); o.decimal(v); o.byte(125)
            case .sackPermitted: o.ascii("{\"kind\":\"sack_perm\"}")
            case .sack(let b):
                o.ascii("{\"kind\":\"sack\",\"value\":["); sackBlocks(b, &o); o.ascii("]}")
            case .timestamps(let v, let e):
                o.ascii("{\"kind\":\"ts\",\"value\":"); o.decimal(v); o.ascii(",\"echo\":"); o.decimal(e); o.byte(125)
            case .unknown(let kind, let length, _):
                o.ascii("{\"kind\":\"unknown\",\"code\":"); o.decimal(kind); o.ascii(",\"len\":"); o.decimal(length); o.byte(125)
            case .timestampValueOnly(let v):
                o.ascii("{\"kind\":\"ts\",\"value\":"); o.decimal(v); o.ascii(",\"truncated\":true}")
            case .truncatedSACK(let b, _):
                o.ascii("{\"kind\":\"sack\",\"value\":["); sackBlocks(b, &o); o.ascii("],\"truncated\":true}")
            case .invalidLength(let kind, let length):
                o.ascii("{\"kind\":\""); o.ascii(TCPOptionNames.json(kind)); o.ascii("\",\"code\":"); o.decimal(kind)
                o.ascii(",\"len\":"); o.decimal(length); o.ascii(",\"invalid\":true}")
            case .truncated(let kind):
                o.ascii("{\"kind\":\""); o.ascii(TCPOptionNames.json(kind)); o.ascii("\",\"code\":"); o.decimal(kind)
                o.ascii(",\"truncated\":true}")
            }
        }
        o.byte(93)
    }

    private func sackBlocks(_ b: SACKBlocks, _ o: inout OutputBuffer) {
        var i = 0
        while i < b.count {
            if i > 0 { o.byte(44) }
            let blk = b.block(i)
            o.byte(91); o.decimal(blk.left); o.byte(44); o.decimal(blk.right); o.byte(93)
            i += 1
        }
    }

    /// Straight-line (every TCP packet passes here); the same order and names as
    /// `Names.tcpFlagNames`, which the -v view walks.
    private func tcpFlags(_ flags: TCPFlags, _ o: inout OutputBuffer) {
        var first = true
        @inline(__always) func name(_ f: TCPFlags, _ n: StaticString, _ o: inout OutputBuffer) {
            guard flags.contains(f) else { return }
            if !first { o.byte(44) }
            first = false
            o.byte(34); o.ascii(n); o.byte(34)
        }
        name(.fin, "FIN", &o); name(.syn, "SYN", &o); name(.rst, "RST", &o); name(.psh, "PSH", &o)
        name(.ack, "ACK", &o); name(.urg, "URG", &o); name(.ece, "ECE", &o); name(.cwr, "CWR", &o); name(.ns, "NS", &o)
    }

    private func dnsName(_ n: String, _ o: inout OutputBuffer) {
        o.jsonString(n)
    }

    private func typeName(_ t: UInt16, _ o: inout OutputBuffer) {
        o.byte(34); o.dnsType(t); o.byte(34)
    }

    private func className(_ c: UInt16, _ o: inout OutputBuffer) {
        o.byte(34); o.dnsClass(c); o.byte(34)
    }

    private func dns(_ m: DNSMessage, _ o: inout OutputBuffer) {
        o.ascii(",\"dns\":")
        dnsObject(m, &o)
    }

    /// The `dns` object of one message. `streamErrors`: a message from a TCP stream, whose decode
    /// problems are its own `errors` (offsets in the message), not the packet's.
    private func dnsObject(_ m: DNSMessage, streamErrors: Bool = false, _ o: inout OutputBuffer) {
        dnsFields(m, &o)
        if streamErrors {
            let problems = m.streamProblems
            if !problems.isEmpty { errorList(problems, &o) }
        }
        o.byte(125)
    }

    /// The `dns` object without its closing brace.
    private func dnsFields(_ m: DNSMessage, _ o: inout OutputBuffer) {
        o.ascii("{\"id\":"); o.decimal(m.id)
        // Only the header fields that were captured (the rest of a cut header is not made up).
        guard m.headerFieldsRead >= 2 else { return }
        o.ascii(m.isResponse ? ",\"qr\":true" : ",\"qr\":false")
        o.ascii(",\"opcode\":"); o.decimal(m.opcode)
        o.ascii(",\"rcode\":\"")
        o.dnsRcode(m.rcode)
        o.ascii("\",\"flags\":[")
        var first = true
        func flag(_ on: Bool, _ name: StaticString) {
            if on {
                if !first { o.byte(44) }
                first = false
                o.byte(34); o.ascii(name); o.byte(34)
            }
        }
        flag(m.authoritative, "AA"); flag(m.truncatedFlag, "TC"); flag(m.recursionDesired, "RD")
        flag(m.recursionAvailable, "RA"); flag(m.zFlag, "Z"); flag(m.authenticData, "AD"); flag(m.checkingDisabled, "CD")
        guard m.headerComplete else { o.byte(93); return }
        o.ascii("],\"counts\":["); o.decimal(m.questionCount); o.byte(44); o.decimal(m.answerCount); o.byte(44)
        o.decimal(m.authorityCount); o.byte(44); o.decimal(m.additionalCount)
        o.ascii("],\"questions\":[")
        first = true
        for q in m.questions {
            if !first { o.byte(44) }
            first = false
            o.ascii("{\"name\":"); dnsName(q.name, &o)
            o.ascii(",\"type\":"); typeName(q.type, &o)
            o.ascii(",\"class\":"); className(q.qclass, &o)
            o.byte(125)
        }
        o.byte(93)
        section("answers", m.answers, &o)
        section("authority", m.authority, &o)
        section("additional", m.additional, &o)
    }

    private func section(_ key: StaticString, _ rrs: [DNSRecord], _ o: inout OutputBuffer) {
        o.ascii(",\""); o.ascii(key); o.ascii("\":[")
        var first = true
        for rr in rrs {
            if !first { o.byte(44) }
            first = false
            o.ascii("{\"name\":"); dnsName(rr.name, &o)
            o.ascii(",\"type\":"); typeName(rr.type, &o)
            o.ascii(",\"class\":"); className(rr.rclass, &o)
            o.ascii(",\"ttl\":"); o.decimal(rr.ttl)
            o.ascii(",\"rdlength\":"); o.decimal(rr.rdlength)
            o.ascii(",\"data\":\"")
            var tmp = OutputBuffer(fd: -1, capacity: 256)
            DNSPresentation.data(rr, &tmp, trailingDots: false)
            tmp.bytes.withUnsafeBufferPointer { o.jsonEscaped($0) }
            o.byte(34)
            if rr.type == DNSType.opt { o.ascii(",\"udp_size\":"); o.decimal(rr.rclass) }
            o.byte(125)
        }
        o.byte(93)
    }
}
