import NetAnalysis
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options of the one-line text output (tcpdump's flags where tcpdump has them).
public struct TextOptions: Sendable {
    public enum Timestamps: Sendable {
        /// `-t`: none.
        case none
        /// default: local time of day.
        case timeOfDay
        /// `-tt`: seconds since the epoch.
        case epoch
        /// `-ttt`: delta since the previous printed packet.
        case delta
        /// `-tttt`: local date and time.
        case dateTime
        /// `-ttttt`: delta since the first printed packet.
        case sinceFirst
    }

    public var timestamps: Timestamps = .timeOfDay
    /// `-n`: ports as numbers.
    public var numeric = false
    /// `-e`: link-level header on each line.
    public var linkHeader = false
    /// `-q`: less protocol detail.
    public var quiet = false
    /// Print nanoseconds instead of microseconds.
    public var nanoseconds = false
    /// Use UTC instead of the local time zone.
    public var utc = false
    /// `-S`: sequence numbers as carried, not relative to the connection's first.
    public var absoluteSequence = false
    /// `-vv`: annotations also show both endpoints' TCP states.
    public var verbose = false

    public init() {}
}

/// Formats the one-line summary of a packet, tcpdump style, into an `OutputBuffer`.
public struct TextFormatter {
    public var options: TextOptions
    /// Where split-message notes leave their part counts to be filled in (nil: written as known).
    public var pendingMarks: PendingMarks?
    // Local-time conversion is done once per second, not per packet.
    private var cachedSecond = Int.min
    private var cachedTime: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
    /// `--color`: ANSI colors for addresses, TCP flags, annotations and errors (see `Style`). Kept
    /// here, in the padding after `cachedTime`, so the formatter does not grow: it is copied per
    /// call into the line's parts, which costs more once it no longer fits in 128 bytes.
    public var color = false
    /// `--lang`: the language of the notes' words (the line itself stays tcpdump's).
    public var language: Language = .en
    private var cachedDate: (Int, Int, Int) = (0, 0, 0)
    private var previous: (Int, Int)?
    /// The current packet's flow, for relative sequence numbers.
    private var relative: FlowObservation?
    private var first: (Int, Int)?

    public init(options: TextOptions) {
        self.options = options
    }

    // MARK: timestamps

    mutating func timestamp(seconds: Int, nanoseconds: Int, _ out: inout OutputBuffer) {
        switch options.timestamps {
        case .none:
            return
        case .timeOfDay:
            timeOfDay(seconds, &out)
            fraction(nanoseconds, &out)
        case .dateTime:
            timeOfDay(seconds, &out, withDate: true)
            fraction(nanoseconds, &out)
        case .epoch:
            out.epoch(seconds: seconds, nanoseconds: nanoseconds, digits: options.nanoseconds ? 9 : 6)
        case .delta, .sinceFirst:
            let base = options.timestamps == .delta ? (previous ?? (seconds, nanoseconds)) : (first ?? (seconds, nanoseconds))
            var ds = seconds &- base.0
            var dn = nanoseconds &- base.1
            if dn < 0 { dn &+= 1_000_000_000; ds &-= 1 }
            if ds < 0 {  // time went backwards in the file
                out.byte(UInt8(ascii: "-"))
                ds = -ds - (dn > 0 ? 1 : 0)
                dn = dn > 0 ? 1_000_000_000 - dn : 0
            }
            out.padded(ds / 3600, width: 2); out.byte(58)
            out.padded((ds / 60) % 60, width: 2); out.byte(58)
            out.padded(ds % 60, width: 2)
            fraction(dn, &out)
            previous = (seconds, nanoseconds)
            if first == nil { first = (seconds, nanoseconds) }
        }
        out.byte(32)
    }

    private mutating func timeOfDay(_ seconds: Int, _ out: inout OutputBuffer, withDate: Bool = false) {
        if seconds != cachedSecond {
            cachedSecond = seconds
            var t = time_t(seconds)
            var tmv = tm()
            if options.utc { gmtime_r(&t, &tmv) } else { localtime_r(&t, &tmv) }
            let h = Int(tmv.tm_hour), m = Int(tmv.tm_min), s = Int(tmv.tm_sec)
            cachedTime = (UInt8(48 + h / 10), UInt8(48 + h % 10), UInt8(48 + m / 10), UInt8(48 + m % 10),
                          UInt8(48 + s / 10), UInt8(48 + s % 10))
            cachedDate = (Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday))
        }
        if withDate {
            out.padded(cachedDate.0, width: 4); out.byte(45)
            out.padded(cachedDate.1, width: 2); out.byte(45)
            out.padded(cachedDate.2, width: 2); out.byte(32)
        }
        out.byte(cachedTime.0); out.byte(cachedTime.1); out.byte(58)
        out.byte(cachedTime.2); out.byte(cachedTime.3); out.byte(58)
        out.byte(cachedTime.4); out.byte(cachedTime.5)
    }

    @inline(__always)
    private func fraction(_ ns: Int, _ out: inout OutputBuffer) {
        out.byte(46)
        if options.nanoseconds {
            out.padded(ns, width: 9)
        } else {
            out.padded(ns / 1000, width: 6)
        }
    }

    // MARK: the line

    /// Appends one line (with its newline) for `p`.
    public mutating func format(seconds: Int, nanoseconds: Int, packet p: Packet, notes: [Note] = [],
                                flow: FlowObservation? = nil, linkName: String, into out: inout OutputBuffer) {
        relative = options.absoluteSequence ? nil : flow
        timestamp(seconds: seconds, nanoseconds: nanoseconds, &out)
        let lineStart = out.count
        if !p.linkSupported {
            out.ascii("unsupported link type ")
            if !linkName.hasPrefix("DLT ") { out.string(linkName); out.byte(32) }
            out.ascii("(DLT "); out.decimal(p.linkType.rawValue); out.ascii("), length ")
            out.decimal(p.wireLength)
            out.byte(10)
            return
        }
        link(p, &out)
        network(p, &out)
        // DNS over TCP (dns-tcp framing): each message this segment completes, as tcpdump writes
        // a DNS message after the segment's length.
        if !notes.isEmpty && p.tcp != nil && !options.quiet && StreamDNS.present(notes) {
            // (A TCP segment has no `dns` of its own.)
            var first = true
            StreamDNS.forEach(notes) { m in
                out.ascii(first ? " " : " | ")
                first = false
                dnsLine(m, &out)
                ErrorText.printAll(m.streamProblems, separated: true, color: color, &out)
            }
        }
        ErrorText.printAll(p.errors, separated: out.count > lineStart && out.lastByte != 32, color: color, &out)
        if p.lengthFromCapture || p.innerLengthFromCapture { out.ascii(" [TSO: length from capture]") }
        // Notes are read in place (a copy of each would retain its fields).
        var k = 0
        while k < notes.count {
            defer { k &+= 1 }
            out.byte(32)
            let noteColor = color ? Style.note(notes[k].kind) : nil
            if let noteColor { out.ascii(noteColor) }
            out.byte(91)
            NoteWords.write(notes, k, states: options.verbose, marks: pendingMarks, language: language, into: &out)
            out.byte(93)
            if noteColor != nil { out.ascii(Style.reset) }
        }
        out.byte(10)
    }

    private func link(_ p: Packet, _ out: inout OutputBuffer) {
        if let eth = p.ethernet {
            let unknown = p.networkType.map { !isDecodedNetwork($0) } ?? false
            if options.linkHeader || unknown || eth.isLength8023 {
                out.mac(eth.source); out.ascii(" > "); out.mac(eth.destination)
                if eth.isLength8023 {
                    out.ascii(", 802.3, length "); out.decimal(p.wireLength); out.ascii(": LLC")
                    return
                }
                out.ascii(", ethertype ")
                let outer = eth.vlans.count > 0 ? EtherType(rawValue: eth.vlans.tpid(0)) : eth.etherType
                etherTypeName(outer, &out)
                out.ascii(", length "); out.decimal(p.wireLength); out.ascii(": ")
                var i = 0
                while i < eth.vlans.count {
                    out.ascii("vlan "); out.decimal(eth.vlans.id(i))
                    out.ascii(", p "); out.decimal(eth.vlans.priority(i))
                    out.ascii(", ethertype ")
                    etherTypeName(i + 1 < eth.vlans.count ? EtherType(rawValue: eth.vlans.tpid(i + 1)) : eth.etherType, &out)
                    out.ascii(", ")
                    i += 1
                }
            } else if eth.vlans.count > 0 {
                var i = 0
                while i < eth.vlans.count {
                    out.ascii("vlan "); out.decimal(eth.vlans.id(i)); out.ascii(", ")
                    i += 1
                }
            }
        } else if let sll = p.sll, sll.isComplete {
            if sll.version == 2 {
                out.ascii("ifindex "); out.decimal(sll.interfaceIndex); out.byte(32)
            }
            switch sll.packetType {
            case 0: out.ascii("In  ")
            case 1: out.ascii("B   ")
            case 2: out.ascii("M   ")
            case 3: out.ascii("P   ")
            case 4: out.ascii("Out ")
            default: out.decimal(sll.packetType); out.byte(32)
            }
            if options.linkHeader {
                if sll.addressLength == 6 { out.mac(MACAddress(raw: sll.address)) } else { out.hex(sll.address) }
                out.ascii(" ethertype ")
                etherTypeName(sll.protocolType, &out)
                out.ascii(", length "); out.decimal(p.wireLength); out.ascii(": ")
            }
        } else if let null = p.null, options.linkHeader || (p.networkType == nil) {
            out.ascii("AF "); out.decimal(null.family)
            out.ascii(", length "); out.decimal(p.wireLength); out.ascii(": ")
        }
    }

    private func isDecodedNetwork(_ t: EtherType) -> Bool {
        t == .ipv4 || t == .ipv6 || t == .arp || t == .rarp || t == .mplsUnicast || t == .mplsMulticast
            || t == .pppoeSession || t == .macsec || t == .nsh || t == .transparentEthernet
    }

    /// SACK blocks as `{left:right}`, in the acknowledged sequence space: relative like the ack
    /// (tcpdump).
    private func sackBlocks(_ b: SACKBlocks, _ out: inout OutputBuffer) {
        let base = relative?.ackBase ?? 0
        var i = 0
        while i < b.count {
            let blk = b.block(i)
            out.byte(123); out.decimal(blk.left &- base); out.byte(58); out.decimal(blk.right &- base); out.byte(125)
            i += 1
        }
    }

    private func etherTypeName(_ t: EtherType, _ out: inout OutputBuffer) {
        if let n = Names.etherType(t) { out.ascii(n) } else { out.ascii("Unknown") }
        out.ascii(" ("); out.hexPadded(UInt64(t.rawValue), digits: 4); out.byte(41)
    }

    private func network(_ p: Packet, _ out: inout OutputBuffer) {
        if let arp = p.arp {
            arpLine(arp, p, &out)
            return
        }
        if p.hasEncapsulation { shims(p, &out) }
        if p.ipv4 == nil && p.ipv6 == nil, let box = p.inner, box.encapsulation == .nsh {
            // A shim carrying an Ethernet frame (NSH next protocol 3, transparent bridging).
            if out.lastByte != 32 { out.ascii(": ") }
            innerLine(box.packet, &out)
            return
        }
        if let ip = p.ipv4 {
            out.ascii("IP ")
            guard ip.isComplete else { return }  // cut or bad header: the error marker says which
            if let box = p.inner, box.encapsulation == .reassembled {
                // The fragment that completed a datagram: the datagram's upper layers, then the fragment.
                transport(box.packet, src: { $0.ipv4(ip.source) }, dst: { $0.ipv4(ip.destination) },
                          payloadLength: box.bytes.count, proto: ip.proto, &out)
                fragmentMark(ip, &out)
                return
            }
            if ip.isFragment && ip.fragmentOffset != 0 {
                out.ipv4(ip.source); out.ascii(" > "); out.ipv4(ip.destination); out.ascii(": ")
                protoName(ip.proto, &out)
                fragmentMark(ip, &out)
                return
            }
            transport(p, src: { $0.ipv4(ip.source) }, dst: { $0.ipv4(ip.destination) },
                      payloadLength: max(Int(ip.totalLength) - ip.headerLength, 0), proto: ip.proto, &out)
            if ip.isFragment { fragmentMark(ip, &out) }
            return
        }
        if let ip = p.ipv6 {
            ipv6Line(ip, p, &out)
            return
        }
        if let t = p.networkType, p.ethernet == nil {
            // Cooked or null header announcing something we do not decode.
            out.ascii("ethertype ")
            etherTypeName(t, &out)
            out.ascii(", length "); out.decimal(p.wireLength)
        } else if p.networkType == nil, p.ethernet == nil, p.sll != nil {
            out.ascii("protocol "); out.hexPadded(UInt64(p.sll?.protocolType.rawValue ?? 0), digits: 4)
            out.ascii(", length "); out.decimal(p.wireLength)
        }
    }

    private func protoName(_ proto: IPProtocol, _ out: inout OutputBuffer) {
        if let n = Names.ipProtocol(proto) { out.ascii(n) } else { out.ascii("ip-proto-"); out.decimal(proto.rawValue) }
    }

    private func port(_ port: UInt16, udp: Bool, _ out: inout OutputBuffer) {
        if !options.numeric, let name = Names.service(port: port, udp: udp) {
            out.ascii(name)
        } else {
            out.decimal(port)
        }
    }

    private func transport(_ p: Packet, src: (inout OutputBuffer) -> Void, dst: (inout OutputBuffer) -> Void,
                           payloadLength: Int, proto: IPProtocol, _ out: inout OutputBuffer) {
        let isUDP = proto == .udp
        let color = self.color
        if let ports = p.partialPorts, proto == .tcp || isUDP {
            if color { out.ascii(Style.address) }
            src(&out); out.byte(46); port(ports.0, udp: isUDP, &out)
            if color { out.ascii(Style.reset) }
            out.ascii(" > ")
            if color { out.ascii(Style.address) }
            dst(&out); out.byte(46); port(ports.1, udp: isUDP, &out)
            if color { out.ascii(Style.reset) }
            out.ascii(": ")
            if let tcp = p.tcp, tcp.isComplete {
                tcpLine(tcp, p.tcpOptions, &out)
            } else if let udp = p.udp, udp.isComplete, p.vxlan != nil || p.geneve != nil {
                udpTunnel(p, &out)
            } else if let udp = p.udp, udp.isComplete {
                if let dns = p.dns {
                    if options.quiet { out.ascii("UDP, length "); out.decimal(max(Int(udp.length) - 8, 0)); return }
                    dnsLine(dns, &out)
                } else {
                    out.ascii(options.quiet ? "UDP, length " : "UDP, length ")
                    out.decimal(max(Int(udp.length) - 8, 0))
                }
            }
            return
        }
        if color { out.ascii(Style.address) }
        src(&out)
        if color { out.ascii(Style.reset) }
        out.ascii(" > ")
        if color { out.ascii(Style.address) }
        dst(&out)
        if color { out.ascii(Style.reset) }
        out.ascii(": ")
        if let icmp = p.icmp {
            icmpLine(icmp, &out)
        } else if let icmp6 = p.icmpv6 {
            icmp6Line(icmp6, &out)
        } else if ipTunnel(p, proto, ipPayloadLength: payloadLength, &out) {
            return
        } else if proto != .tcp && proto != .udp && proto != .icmp && proto != .icmpv6 {
            protoName(proto, &out)
            out.byte(32); out.decimal(payloadLength)
        }
    }

    // MARK: encapsulations (as tcpdump prints them, on one line: the tunnel, then the inner packet)

    /// ` (frag 77:32@64+)`: identification, data length, byte offset, more fragments.
    private func fragmentMark(_ ip: IPv4Header, _ out: inout OutputBuffer) {
        out.ascii(" (frag "); out.decimal(ip.identification); out.byte(58)
        out.decimal(max(Int(ip.totalLength) - ip.headerLength, 0)); out.byte(64)
        out.decimal(Int(ip.fragmentOffset) * 8)
        if ip.moreFragments { out.byte(43) }
        out.byte(41)
    }

    /// MPLS labels, PPPoE session, MACsec and NSH headers before the network layer.
    private func shims(_ p: Packet, _ out: inout OutputBuffer) {
        if !p.mpls.isEmpty {
            out.ascii("MPLS ")
            for (i, l) in p.mpls.enumerated() {
                if i > 0 { out.byte(32) }
                out.ascii("(label "); out.decimal(l.label); out.ascii(", tc "); out.decimal(l.trafficClass)
                if l.bottomOfStack { out.ascii(", [S]") }
                out.ascii(", ttl "); out.decimal(l.ttl); out.byte(41)
            }
            out.byte(32)
        }
        if let h = p.pppoe {
            out.ascii("PPPoE  [ses 0x"); out.hex(UInt64(h.session)); out.ascii("] ")
        }
        if let h = p.macsec, options.linkHeader || !h.clear {
            // (tcpdump names a MACsec header in clear only with -e.)
            out.ascii("MACsec, AN "); out.decimal(h.associationNumber)
            out.ascii(", PN "); out.decimal(h.packetNumber)
            if let sci = h.sci { out.ascii(", SCI "); out.hexPadded(sci, digits: 16) }  // 0x and 16 digits
            out.ascii(h.clear ? ": " : ", encrypted")
        }
        if let h = p.nsh {
            out.ascii("NSH, flags ["); out.ascii(h.oam ? "O" : "none")
            out.ascii("], service-path-id "); out.hexPadded(UInt64(h.servicePath), digits: 6)
            out.ascii(", service-index 0x"); out.hex(UInt64(h.serviceIndex))
            out.ascii(p.networkType == .nsh ? "" : ": ")
        }
    }

    /// VXLAN and Geneve after a UDP header.
    private func udpTunnel(_ p: Packet, _ out: inout OutputBuffer) {
        if let h = p.vxlan {
            out.ascii("VXLAN, flags ["); out.ascii(h.flags & 0x08 != 0 ? "I" : ".")
            out.ascii("] ("); out.hexPadded(UInt64(h.flags), digits: 2); out.ascii("), vni "); out.decimal(h.vni)
        } else if let h = p.geneve {
            out.ascii("Geneve, Flags [")
            if !h.oam && !h.critical { out.ascii("none") }
            if h.oam { out.ascii("O") }
            if h.critical { out.ascii(h.oam ? ", C" : "C") }
            out.ascii("], vni 0x"); out.hex(UInt64(h.vni))
            if !h.options.isEmpty {
                out.ascii(", options ["); out.decimal(h.optionsLength); out.ascii(" bytes]")
            }
        }
        innerPacket(p, &out)
    }

    /// GRE, IP in IP and PIM register after an IP header; false when `proto` is none of them.
    private func ipTunnel(_ p: Packet, _ proto: IPProtocol, ipPayloadLength: Int, _ out: inout OutputBuffer) -> Bool {
        if let g = p.gre, proto == .gre {
            out.ascii("GREv"); out.decimal(g.version)
            if g.version == 1 {
                out.ascii(", call "); out.decimal((g.key ?? 0) & 0xFFFF)
            } else {
                // tcpdump: the offset after a checksum, then the key.
                if g.hasChecksum, let off = g.offset { out.ascii(", off 0x"); out.hex(UInt64(off)) }
                if let k = g.key { out.ascii(", key=0x"); out.hex(UInt64(k)) }
            }
            if let q = g.sequence { out.ascii(", seq "); out.decimal(q) }
            if let a = g.acknowledgment { out.ascii(", ack "); out.decimal(a) }
            out.ascii(", length "); out.decimal(ipPayloadLength)
            if p.inner == nil && g.version == 0 {
                out.ascii(": "); out.ascii("proto "); etherTypeName(g.protocolType, &out)
            }
            innerPacket(p, &out)
            return true
        }
        if let h = p.pim, proto == .pim {
            out.ascii("PIMv"); out.decimal(h.version)
            out.ascii(h.type == 1 ? ", Register" : ", type "); if h.type != 1 { out.decimal(h.type) }
            out.ascii(", length "); out.decimal(h.length)
            innerPacket(p, &out)
            return true
        }
        if (proto == .ipInIP || proto == .ipv6), let box = p.inner, box.encapsulation == .ipInIP {
            innerLine(box.packet, &out)
            return true
        }
        return false
    }

    /// `: ` and the inner packet's line, when there is one.
    private func innerPacket(_ p: Packet, _ out: inout OutputBuffer) {
        guard let box = p.inner, box.encapsulation != .reassembled else { return }
        out.ascii(": ")
        innerLine(box.packet, &out)
    }

    /// An inner packet as a line of its own would read (its link header only with `-e`), with its
    /// decode problems.
    private func innerLine(_ q: Packet, _ out: inout OutputBuffer) {
        let start = out.count
        link(q, &out)
        network(q, &out)
        ErrorText.printAll(q.errors, separated: out.count > start && out.lastByte != 32, color: color, &out)
    }

    // MARK: TCP

    private func tcpLine(_ tcp: TCPHeader, _ options: [TCPOption], _ out: inout OutputBuffer) {
        if self.options.quiet {
            out.ascii("tcp "); out.decimal(tcp.payloadLength)
            return
        }
        out.ascii("Flags [")
        let f = tcp.flags
        if color { out.ascii(Style.tcpFlags(f)) }
        if f.contains(.fin) { out.byte(UInt8(ascii: "F")) }
        if f.contains(.syn) { out.byte(UInt8(ascii: "S")) }
        if f.contains(.rst) { out.byte(UInt8(ascii: "R")) }
        if f.contains(.psh) { out.byte(UInt8(ascii: "P")) }
        if f.contains(.ack) { out.byte(UInt8(ascii: ".")) }
        if f.contains(.urg) { out.byte(UInt8(ascii: "U")) }
        if f.contains(.ece) { out.byte(UInt8(ascii: "E")) }
        if f.contains(.cwr) { out.byte(UInt8(ascii: "W")) }
        if f.contains(.ns) { out.byte(UInt8(ascii: "e")) }
        if f.isEmpty { out.ascii("none") }
        if color { out.ascii(Style.reset) }
        out.byte(93)
        let len = tcp.payloadLength
        // tcpdump's relative numbers (from each side's initial sequence number) unless -S.
        let seq = tcp.sequence &- (relative?.seqBase ?? 0)
        let ack = tcp.acknowledgment &- (relative?.ackBase ?? 0)
        if len > 0 || f.contains(.syn) || f.contains(.fin) || f.contains(.rst) {
            out.ascii(", seq "); out.decimal(seq)
            if len > 0 { out.byte(58); out.decimal(seq &+ UInt32(truncatingIfNeeded: len)) }
        }
        if f.contains(.ack) { out.ascii(", ack "); out.decimal(ack) }
        out.ascii(", win "); out.decimal(tcp.window)
        if f.contains(.urg) { out.ascii(", urg "); out.decimal(tcp.urgentPointer) }
        if !options.isEmpty {
            out.ascii(", options [")
            var first = true
            for o in options {
                if !first { out.byte(44) }
                first = false
                switch o {
                case .endOfList: out.ascii("eol")
                case .noOperation: out.ascii("nop")
                case .maximumSegmentSize(let v): out.ascii("mss "); out.decimal(v)
                case .windowScale(let v): out.ascii("wscale "); out.decimal(v)
                case .sackPermitted: out.ascii("sackOK")
                case .sack(let b):
                    out.ascii("sack "); out.decimal(b.count); out.byte(32)
                    sackBlocks(b, &out)
                case .timestamps(let v, let e):
                    out.ascii("TS val "); out.decimal(v); out.ascii(" ecr "); out.decimal(e)
                case .unknown(let kind, let length, _):
                    out.ascii("opt-"); out.decimal(kind); out.ascii(" len "); out.decimal(length)
                case .truncated(let kind):
                    out.ascii(TCPOptionNames.text(kind))
                case .timestampValueOnly(let v):
                    out.ascii("TS val "); out.decimal(v)
                case .truncatedSACK(let b, let declared):
                    // As tcpdump: the declared count, then the blocks that were captured.
                    out.ascii("sack "); out.decimal(declared); out.byte(32)
                    sackBlocks(b, &out)
                case .invalidLength(let kind, let length):
                    // tcpdump's marker for an option whose length does not fit its kind.
                    out.ascii(TCPOptionNames.text(kind)); out.ascii(" [len "); out.decimal(length); out.byte(93)
                }
            }
            out.byte(93)
        }
        out.ascii(", length "); out.decimal(len)
    }

    // MARK: DNS (tcpdump's compact form)

    private func dnsLine(_ m: DNSMessage, _ out: inout OutputBuffer) {
        out.decimal(m.id)
        guard m.headerComplete else { return }  // the [|domain] marker follows
        if m.opcode != 0 { out.ascii(" op"); out.decimal(m.opcode) }
        if m.isResponse {
            if m.rcode != 0 {
                out.byte(32)
                switch m.rcode {
                case 1: out.ascii("FormErr")
                case 2: out.ascii("ServFail")
                case 3: out.ascii("NXDomain")
                case 4: out.ascii("NotImp")
                case 5: out.ascii("Refused")
                default: out.ascii("Resp"); out.decimal(m.rcode)
                }
            }
            if m.authoritative { out.byte(UInt8(ascii: "*")) }
            if !m.recursionAvailable { out.byte(UInt8(ascii: "-")) }
            if m.truncatedFlag { out.byte(UInt8(ascii: "|")) }
            if m.authenticData { out.byte(UInt8(ascii: "$")) }
            if m.questionCount != 1 { out.ascii(" ["); out.decimal(m.questionCount); out.ascii("q]") }
            out.byte(32)
            out.decimal(m.answerCount); out.byte(47); out.decimal(m.authorityCount); out.byte(47); out.decimal(m.additionalCount)
            var first = true
            for rr in m.answers {
                out.ascii(first ? " " : ", ")
                first = false
                out.dnsType(rr.type)
                if DNSPresentation.summaryShowsData(rr) {
                    out.byte(32)
                    DNSPresentation.data(rr, &out, trailingDots: true)
                }
            }
        } else {
            if m.recursionDesired { out.byte(UInt8(ascii: "+")) }
            if m.checkingDisabled { out.byte(UInt8(ascii: "%")) }
            if m.authenticData { out.byte(UInt8(ascii: "$")) }
            if m.questionCount != 1 { out.ascii(" ["); out.decimal(m.questionCount); out.ascii("q]") }
            if m.answerCount != 0 { out.ascii(" ["); out.decimal(m.answerCount); out.ascii("a]") }
            if m.authorityCount != 0 { out.ascii(" ["); out.decimal(m.authorityCount); out.ascii("n]") }
            if m.additionalCount != 0 { out.ascii(" ["); out.decimal(m.additionalCount); out.ascii("au]") }
            if let q = m.questions.first {
                out.byte(32)
                out.dnsType(q.type)
                out.ascii("? ")
                DNSPresentation.name(q.name, &out, trailingDot: true)
            }
        }
        out.ascii(" ("); out.decimal(m.length); out.byte(41)
    }

    // MARK: ICMP, ARP

    private func icmpLine(_ m: ICMPMessage, _ out: inout OutputBuffer) {
        out.ascii("ICMP ")
        switch m.type {
        case ICMPMessage.echoRequest, ICMPMessage.echoReply:
            out.ascii(m.type == ICMPMessage.echoRequest ? "echo request" : "echo reply")
            out.ascii(", id "); out.decimal(m.identifier); out.ascii(", seq "); out.decimal(m.sequence)
        case ICMPMessage.destinationUnreachable:
            if let q = m.quoted {
                switch m.code {
                case 2:
                    out.ipv4(q.destination); out.ascii(" protocol "); out.decimal(q.proto.rawValue); out.ascii(" unreachable")
                case 3:
                    out.ipv4(q.destination); out.byte(32); protoName(q.proto, &out)
                    out.ascii(" port ")
                    if let dp = q.destinationPort { port(dp, udp: q.proto == .udp, &out) } else { out.byte(63) }
                    out.ascii(" unreachable")
                case 4:
                    out.ipv4(q.destination); out.ascii(" unreachable - need to frag (mtu ")
                    out.decimal(m.sequence); out.byte(41)
                default:
                    if let n = Names.icmpUnreachable(m.code), m.code < 2 {
                        out.ascii(n); out.byte(32); out.ipv4(q.destination); out.ascii(" unreachable")
                    } else {
                        out.ascii("host "); out.ipv4(q.destination); out.ascii(" unreachable")
                        if let n = Names.icmpUnreachable(m.code) { out.ascii(" - "); out.ascii(n) } else { out.ascii(" - code "); out.decimal(m.code) }
                    }
                }
            } else {
                out.ascii("unreachable, code "); out.decimal(m.code)
            }
        case ICMPMessage.timeExceeded:
            out.ascii(m.code == 0 ? "time exceeded in-transit" : m.code == 1 ? "ip reassembly time exceeded" : "time exceeded")
        case ICMPMessage.redirect:
            out.ascii("redirect")
            if let q = m.quoted { out.byte(32); out.ipv4(q.destination) }
            out.ascii(" to "); out.ipv4(IPv4Address(raw: m.restOfHeader))
        case ICMPMessage.parameterProblem:
            out.ascii("parameter problem - octet "); out.decimal(m.restOfHeader >> 24)
        case ICMPMessage.sourceQuench:
            out.ascii("source quench")
        case ICMPMessage.timestampRequest, ICMPMessage.timestampReply:
            out.ascii(m.type == 13 ? "time stamp query" : "time stamp reply")
            out.ascii(" id "); out.decimal(m.identifier); out.ascii(" seq "); out.decimal(m.sequence)
        default:
            out.ascii("type-#"); out.decimal(m.type)
        }
        out.ascii(", length "); out.decimal(m.dataLength + 8)
    }

    // MARK: IPv6 (tcpdump's ip6_print: the addresses carry the ports only when TCP or UDP directly
    // follows the fixed header; otherwise `a > b: ` comes first, then the extension headers, then the
    // upper layer with bare ports)

    private func ipv6Line(_ ip: IPv6Header, _ p: Packet, _ out: inout OutputBuffer) {
        out.ascii("IP6 ")
        guard ip.isComplete else { return }  // cut or bad header: the error marker says which
        let proto = ip.upperProtocol
        let payloadLength = Int(ip.jumboPayloadLength ?? UInt32(ip.payloadLength))
        if p.ipv6Extensions.isEmpty && (proto == .tcp || proto == .udp) {
            transport(p, src: { $0.ipv6(ip.source) }, dst: { $0.ipv6(ip.destination) },
                      payloadLength: payloadLength, proto: proto, &out)
            return
        }
        out.ipv6(ip.source); out.ascii(" > "); out.ipv6(ip.destination); out.ascii(": ")
        var upperLength = payloadLength
        for e in p.ipv6Extensions {
            upperLength -= e.length
            switch e.kind {
            case .hopByHop: out.ascii("HBH ")
            case .destinationOptions: out.ascii("DSTOPT ")
            case .routing: routingHeader(e, p, &out)
            case .ah:
                out.ascii("AH(spi="); out.hexPadded(UInt64(e.spi), digits: 8)
                out.ascii(",seq=0x"); out.hex(UInt64(e.sequence)); out.ascii("): ")
            case .fragment:
                // tcpdump: the fragment's byte offset and the bytes after the fragment header.
                out.ascii("frag ("); out.decimal(Int(e.fragmentOffset) * 8); out.byte(124)
                out.decimal(max(payloadLength - (e.offset - ip.offset - 40) - 8, 0)); out.byte(41)
                if let box = p.inner, box.encapsulation == .reassembled {
                    // This fragment completed the datagram: its upper layers follow.
                    out.byte(32)
                    ipv6Upper(proto, box.packet, upperLength: box.bytes.count, &out)
                    return
                }
                if e.fragmentOffset != 0 { return }  // only the first fragment holds the upper layer
                out.byte(32)
            default:
                break
            }
        }
        // The walk stopped inside the chain (the error marker follows).
        if proto.isIPv6ExtensionHeader { return }
        ipv6Upper(proto, p, upperLength: upperLength, &out)
    }

    /// What follows an IPv6 header chain: ports and the transport line, ICMPv6, a tunnel, or the protocol.
    private func ipv6Upper(_ proto: IPProtocol, _ p: Packet, upperLength: Int, _ out: inout OutputBuffer) {
        switch proto {
        case .tcp, .udp:
            guard let ports = p.partialPorts else { return }
            let isUDP = proto == .udp
            port(ports.0, udp: isUDP, &out); out.ascii(" > "); port(ports.1, udp: isUDP, &out); out.ascii(": ")
            if let tcp = p.tcp, tcp.isComplete {
                tcpLine(tcp, p.tcpOptions, &out)
            } else if let udp = p.udp, udp.isComplete {
                if let dns = p.dns, !options.quiet {
                    dnsLine(dns, &out)
                } else {
                    out.ascii("UDP, length "); out.decimal(max(Int(udp.length) - 8, 0))
                }
            }
        case .icmpv6:
            if let m = p.icmpv6 { icmp6Line(m, &out) }
        case .noNext:
            out.ascii("no next header")
        case _ where ipTunnel(p, proto, ipPayloadLength: max(upperLength, 0), &out):
            break
        default:
            protoName(proto, &out)
            out.byte(32); out.decimal(max(upperLength, 0))
        }
    }

    /// `RT6 (len=2, type=0 [Deprecated], segleft=1, [0]2001:db8::1) `, as tcpdump's rt6_print.
    private func routingHeader(_ e: IPv6Extension, _ p: Packet, _ out: inout OutputBuffer) {
        out.ascii("RT6 (len="); out.decimal(e.lengthField)
        out.ascii(", type="); out.decimal(e.routingType)
        if e.routingType == 0 { out.ascii(" [Deprecated]") }
        out.ascii(", segleft="); out.decimal(e.segmentsLeft)
        switch e.routingType {
        case 0, 2:
            if e.routingData != 0 { out.ascii(", rsv=0x"); out.hex(UInt64(e.routingData)) }
        case 4:
            out.ascii(", last-entry="); out.decimal(e.routingData >> 24)
            let flags = (e.routingData >> 16) & 0xFF
            if flags != 0 { out.ascii(", flags=0x"); out.hex(UInt64(flags)) }
            out.ascii(", tag="); out.hex(UInt64(e.routingData & 0xFFFF))
        default:
            break
        }
        var i = 0
        while i < e.addressCount {
            let k = e.addressStart + i
            guard k < p.ipv6RoutingAddresses.count else { break }
            out.ascii(", ["); out.decimal(i); out.byte(93); out.ipv6(p.ipv6RoutingAddresses[k])
            i += 1
        }
        out.ascii(") ")
    }

    /// tcpdump's icmp6_print without -v: the type's name, what the message is about, its length.
    private func icmp6Line(_ m: ICMPv6Message, _ out: inout OutputBuffer) {
        out.ascii("ICMP6, ")
        let length = m.dataLength + 8
        if let name = ICMPv6Names.type(m.type) { out.ascii(name) } else {
            out.ascii("unknown icmp6 type ("); out.decimal(m.type); out.byte(41)
        }
        switch m.type {
        case ICMPv6Message.destinationUnreachable:
            out.ascii(", ")
            guard let n = ICMPv6Names.unreachable(m.code) else {
                // tcpdump follows an unknown code with a hex dump instead of the length.
                out.ascii("unknown unreach code ("); out.decimal(m.code); out.byte(41)
                return
            }
            out.ascii(n)
            guard let q = m.quoted else { break }
            switch m.code {
            case 0, 1, 3:
                out.byte(32); out.ipv6(q.destination)
            case 2:
                out.byte(32); out.ipv6(q.destination); out.ascii(", source address "); out.ipv6(q.source)
            case 4:
                out.ascii(", "); out.ipv6(q.destination)
                if let dp = q.destinationPort, q.proto == .tcp || q.proto == .udp {
                    out.ascii(q.proto == .tcp ? " tcp port " : " udp port ")
                    port(dp, udp: q.proto == .udp, &out)
                } else {
                    out.ascii(" protocol "); out.decimal(q.proto.rawValue)
                }
            default:
                break
            }
        case ICMPv6Message.packetTooBig:
            out.ascii(", mtu "); out.decimal(m.restOfHeader)
        case ICMPv6Message.timeExceeded:
            switch m.code {
            case 0: if let q = m.quoted { out.ascii(" for "); out.ipv6(q.destination) }
            case 1: out.ascii(" (reassembly)")
            default: out.ascii(", unknown code ("); out.decimal(m.code); out.byte(41)
            }
        case ICMPv6Message.parameterProblem:
            switch m.code {
            case 0: out.ascii(", erroneous - octet ")
            case 1: out.ascii(", next header - octet ")
            case 2: out.ascii(", option - octet ")
            case 3: out.ascii(", incomplete header chain - octet ")
            default: out.ascii(", code-#"); out.decimal(m.code)
            }
            if m.code <= 3 { out.decimal(m.restOfHeader) }
        case ICMPv6Message.echoRequest, ICMPv6Message.echoReply:
            out.ascii(", id "); out.decimal(m.identifier); out.ascii(", seq "); out.decimal(m.sequence)
        case ICMPv6Message.mldQuery:
            if length == 24, let a = m.multicastAddress {
                mldAddress(m, a, &out)
            } else if length >= 28, let a = m.multicastAddress {
                out.ascii(" v2 [gaddr "); out.ipv6(a)
                if let n = m.mldSourceCount, n > 0 {
                    if length < 28 + Int(n) * 16 { out.ascii(" [invalid number of sources]") } else {
                        out.ascii(", "); out.decimal(n); out.ascii(" source(s)")
                    }
                }
                out.byte(93)
            } else {
                out.ascii(" unknown-version (len "); out.decimal(length); out.ascii(") ")
            }
        case ICMPv6Message.mldReport, ICMPv6Message.mldDone:
            if let a = m.multicastAddress { mldAddress(m, a, &out) }
        case ICMPv6Message.mldv2Report:
            if length < 8 { out.ascii(" [invalid len "); out.decimal(length); out.byte(93) } else {
                out.ascii(", "); out.decimal(m.sequence); out.ascii(" group record(s)")
            }
        case ICMPv6Message.neighborSolicitation:
            if let t = m.target { out.ascii(", who has "); out.ipv6(t) }
        case ICMPv6Message.neighborAdvertisement:
            if let t = m.target { out.ascii(", tgt is "); out.ipv6(t) }
        case ICMPv6Message.redirect:
            if let d = m.redirectDestination, let t = m.target {
                out.ascii(", "); out.ipv6(d); out.ascii(" to "); out.ipv6(t)
            }
        case 144, 146:  // home agent discovery request, mobile prefix solicitation
            out.ascii(", id "); out.hexPadded(UInt64(m.identifier), digits: 4)
        default:
            break
        }
        out.ascii(", length "); out.decimal(length)
    }

    /// tcpdump's mld6_print (no separator before it, as tcpdump prints it).
    private func mldAddress(_ m: ICMPv6Message, _ a: IPv6Address, _ out: inout OutputBuffer) {
        out.ascii("max resp delay: "); out.decimal(m.identifier); out.ascii(" addr: "); out.ipv6(a)
    }

    private func arpLine(_ a: ARPPacket, _ p: Packet, _ out: inout OutputBuffer) {
        out.ascii(a.protocolType == 0x0800 || !a.isEthernetIPv4 ? "ARP, " : "ARP, ")
        let arpLength = p.wireLength - (p.ethernet?.headerLength ?? (p.sll?.version == 2 ? 20 : 16))
        guard a.isEthernetIPv4 else {
            out.ascii("hardware #"); out.decimal(a.hardwareType); out.ascii(" (len "); out.decimal(a.hardwareLength)
            out.ascii("), protocol "); out.hexPadded(UInt64(a.protocolType), digits: 4)
            out.ascii(" (len "); out.decimal(a.protocolLength); out.ascii("), op "); out.decimal(a.operation)
            out.ascii(", length "); out.decimal(arpLength)
            return
        }
        switch a.operation {
        case ARPPacket.request:
            out.ascii("Request who-has "); out.ipv4(a.targetIP)
            if a.targetMAC.raw != 0 { out.ascii(" ("); out.mac(a.targetMAC); out.byte(41) }
            out.ascii(" tell "); out.ipv4(a.senderIP)
        case ARPPacket.reply:
            out.ascii("Reply "); out.ipv4(a.senderIP); out.ascii(" is-at "); out.mac(a.senderMAC)
        case ARPPacket.rarpRequest:
            out.ascii("Reverse Request who-is "); out.mac(a.targetMAC); out.ascii(" tell "); out.mac(a.senderMAC)
        case ARPPacket.rarpReply:
            out.ascii("Reverse Reply "); out.mac(a.targetMAC); out.ascii(" at "); out.ipv4(a.targetIP)
        default:
            out.ascii("op "); out.decimal(a.operation)
        }
        out.ascii(", length "); out.decimal(arpLength)
    }
}

/// Decode errors as text: `[|tcp]` for truncation (tcpdump's marker), `(invalid tcp: data offset 12
/// at offset 46)` for malformed fields.
enum ErrorText {
    static func printAll(_ errors: [DecodeError], separated: Bool, color: Bool = false, _ out: inout OutputBuffer) {
        var space = separated
        for e in errors {
            if space { out.byte(32) }
            space = true
            if color { out.ascii(Style.error) }
            defer { if color { out.ascii(Style.reset) } }
            switch e.kind {
            case .truncated:
                out.ascii("[|"); out.ascii(e.layer.name); out.byte(93)
            case .malformed:
                out.ascii("(invalid "); out.ascii(e.layer.name); out.ascii(": ")
                detail(e, &out)
                out.byte(41)
            }
        }
    }

    static func detail(_ e: DecodeError, _ out: inout OutputBuffer) {
        switch e.detail {
        case .needBytes(let n):
            out.ascii("needed "); out.decimal(n); out.ascii(" more bytes")
        case .pastDeclaredLength(let n):
            out.decimal(n); out.ascii("-byte field past declared length")
        case .badValue(let field, let value):
            out.string(field); out.byte(32); out.decimal(value)
        case .inconsistent(let why):
            out.string(why)
        }
        out.ascii(" at offset "); out.decimal(e.offset)
    }
}
