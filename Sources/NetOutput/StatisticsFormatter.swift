import NetAnalysis
import NetWire

/// `--stats`: the summary of a capture, as text meant to fit one screen, or as one JSON object
/// with `"type": "stats"`.
public enum StatisticsFormatter {
    /// Protocol hierarchy rows shown under one node at most (the rest are summed in one row).
    public static let maxChildrenShown = 12

    // MARK: names

    /// tshark-style protocol names for the hierarchy (`eth`, `ip`, `tcp`, `dns` …).
    public static func name(_ node: ProtocolNode) -> String {
        switch node {
        case .link(let dlt):
            switch dlt {
            case 1: return "eth"
            case 113: return "sll"
            case 276: return "sll2"
            case 0, 108: return "null"
            case 12, 14, 101, 228, 229: return "raw"
            default: return "dlt\(dlt)"
            }
        case .vlan(let tpid): return tpid == 0x88A8 ? "ieee8021ad" : "vlan"
        case .llc: return "llc"
        case .encapsulation(let layer): return "\(layer.name)"
        case .etherType(let t):
            switch t {
            case 0x0800: return "ip"
            case 0x86DD: return "ipv6"
            case 0x0806: return "arp"
            case 0x8035: return "rarp"
            default:
                if let n = Names.etherType(EtherType(rawValue: t)) { return "\(n)".lowercased() }
                return "ethertype-0x" + hex4(t)
            }
        case .ipProtocol(let p):
            switch p {
            case 1: return "icmp"
            case 6: return "tcp"
            case 17: return "udp"
            case 58: return "icmpv6"
            default:
                if let n = Names.ipProtocol(IPProtocol(rawValue: p)) { return "\(n)" }
                return "ip-proto-\(p)"
            }
        case .fragment: return "fragment"
        case .dns: return "dns"
        case .data: return "data"
        case .other: return "other"
        }
    }

    static func hex4(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(4 - s.count, 0)) + s
    }

    /// Zeek's description of each conn_state.
    public static func connStateMeaning(_ s: String) -> String {
        switch s {
        case "S0": return "attempt seen, no reply"
        case "S1": return "established, not terminated"
        case "SF": return "normal establishment and termination"
        case "REJ": return "attempt rejected"
        case "S2": return "established, close attempt by originator only"
        case "S3": return "established, close attempt by responder only"
        case "RSTO": return "established, originator aborted (RST)"
        case "RSTR": return "established, responder aborted (RST)"
        case "RSTOS0": return "originator sent SYN then RST, no SYN-ACK seen"
        case "RSTRH": return "responder sent SYN-ACK then RST, no SYN seen"
        case "SH": return "originator sent SYN then FIN, no SYN-ACK seen"
        case "SHR": return "responder sent SYN-ACK then FIN, no SYN seen"
        case "OTH": return "no SYN seen: mid-stream traffic"
        default: return ""
        }
    }

    static func address(_ h: CaptureStatistics.Host) -> String {
        var o = OutputBuffer(fd: -1, capacity: 64)
        if h.isIPv6 { o.ipv6(h.ipv6) } else { o.ipv4(h.ipv4) }
        return o.takeString()
    }

    static func endpoint(_ e: FlowEndpoint) -> String {
        var o = OutputBuffer(fd: -1, capacity: 64)
        FlowFormatter.endpoint(e, &o)
        return o.takeString()
    }

    /// `1,234,567`
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "0.0%" }
        let tenths = Int((Double(part) * 1000 / Double(whole)).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    /// A hierarchy node's children by frames (most first), then name.
    static func sortedChildren(_ s: CaptureStatistics, _ i: Int) -> [Int] {
        s.hierarchy[i].children.sorted {
            let a = s.hierarchy[$0], b = s.hierarchy[$1]
            if a.count.frames != b.count.frames { return a.count.frames > b.count.frames }
            return name(a.node ?? .data) < name(b.node ?? .data)
        }
    }

    /// Hierarchy rows, depth first, children by frames (most first) then name.
    static func hierarchyRows(_ s: CaptureStatistics) -> [(depth: Int, name: String, count: CaptureStatistics.Counter)] {
        var rows: [(Int, String, CaptureStatistics.Counter)] = []
        func walk(_ i: Int, _ depth: Int) {
            let kids = sortedChildren(s, i)
            for (k, c) in kids.enumerated() {
                if k == maxChildrenShown {
                    var rest = CaptureStatistics.Counter()
                    for r in kids[k...] {
                        rest.frames &+= s.hierarchy[r].count.frames
                        rest.bytes &+= s.hierarchy[r].count.bytes
                    }
                    rows.append((depth, "(\(kids.count - k) more)", rest))
                    break
                }
                rows.append((depth, name(s.hierarchy[c].node ?? .data), s.hierarchy[c].count))
                // Bounded depth: a path has at most link, 4 VLAN tags, network, transport, application.
                if depth < 12 { walk(c, depth + 1) }
            }
        }
        walk(0, 0)
        return rows
    }

    static func noteOrder(_ s: CaptureStatistics) -> [(String, Int)] {
        s.notes.map { ($0.key.rawValue, $0.value) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    }

    // MARK: text

    /// The summary as text: every list cut to `top` rows.
    public static func text(_ s: CaptureStatistics, top: Int, into out: inout OutputBuffer) {
        var t = ""
        func line(_ l: String = "") { t += l + "\n" }
        line("Statistics: \(grouped(s.packets)) packets, \(grouped(s.bytes)) bytes on the wire"
             + (s.capturedBytes != s.bytes ? " (\(grouped(s.capturedBytes)) captured)" : "")
             + ", \(LadderDiagram.time(s.durationNanoseconds)) s")
        if s.truncatedPackets > 0 || s.malformedPackets > 0 {
            line("Decode errors: \(grouped(s.truncatedPackets)) packets truncated, \(grouped(s.malformedPackets)) malformed")
        }

        line()
        let rows = hierarchyRows(s)
        let nameWidth = max(rows.map { $0.depth * 2 + 2 + $0.name.count }.max() ?? 0, 20) + 2
        line(pad("Protocol hierarchy", nameWidth) + padLeft("frames", 22) + padLeft("bytes", 16))
        for r in rows {
            let label = String(repeating: " ", count: r.depth * 2 + 2) + r.name
            let frames = grouped(r.count.frames) + " " + padLeft("(" + percent(r.count.frames, of: s.packets) + ")", 8)
            line(pad(label, nameWidth) + padLeft(frames, 22) + padLeft(grouped(r.count.bytes), 16))
        }

        let talkers = s.talkers.top(top, before: <)
        if !talkers.isEmpty {
            line()
            let addrs = talkers.map { address($0.key) }
            let w = max(addrs.map(\.count).max() ?? 0, 20) + 2
            line(pad("Top talkers (by bytes)", w + 2) + padLeft("packets", 10) + padLeft("bytes", 14)
                 + padLeft("sent", 14) + padLeft("received", 14))
            for (i, e) in talkers.enumerated() {
                line("  " + pad(addrs[i], w) + padLeft(grouped(e.value.packets), 10) + padLeft(grouped(e.value.bytes), 14)
                     + padLeft(grouped(e.value.sentBytes), 14) + padLeft(grouped(e.value.receivedBytes), 14))
            }
            if s.talkers.pruned {
                line("  (more than \(grouped(s.talkers.capacity)) addresses: the quietest were dropped as they came; counts are lower bounds)")
            }
        }

        let conversations = s.conversations.prefix(top)
        if !conversations.isEmpty {
            line()
            line("Top conversations (by payload bytes)")
            for f in conversations {
                var l = "  flow \(f.id) " + (f.isTCP ? "tcp " : "udp ") + endpoint(f.client) + " > " + endpoint(f.server)
                l += "  \(grouped(f.packets.c2s &+ f.packets.s2c)) pkts, \(grouped(f.bytes.c2s))/\(grouped(f.bytes.s2c)) B"
                if f.isTCP { l += "  " + f.connState + ", " + f.end }
                line(l)
            }
        }

        if s.tcpConnections > 0 || s.udpConversations > 0 {
            line()
            var l = "Conversations: \(grouped(s.tcpConnections)) TCP, \(grouped(s.udpConversations)) UDP"
            if s.handshakeRTT.count > 0 {
                let avg = s.handshakeRTT.total / s.handshakeRTT.count
                l += "; handshake RTT min \(FlowTracker.durationText(s.handshakeRTT.min)), avg \(FlowTracker.durationText(avg)), max \(FlowTracker.durationText(s.handshakeRTT.max))"
            }
            line(l)
            let states = s.connStates.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            for (state, n) in states {
                line("  " + pad(state, 7) + padLeft(grouped(n), 9) + "  " + connStateMeaning(state))
            }
            let ends = s.endings.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            if !ends.isEmpty {
                line("  ended: " + ends.map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", "))
            }
        }

        if s.dnsQueries > 0 || s.dnsResponses > 0 {
            line()
            line("DNS: \(grouped(s.dnsQueries)) queries, \(grouped(s.dnsResponses)) responses")
            var rcodes: [String] = []
            for (code, n) in s.dnsRcodes.enumerated() where n > 0 {
                let name = Names.dnsRcode(UInt8(code)).map { "\($0)" } ?? "RCODE\(code)"
                rcodes.append("\(name) \(grouped(n))")
            }
            if !rcodes.isEmpty { line("  rcodes: " + rcodes.joined(separator: ", ")) }
            let names = s.dnsNames.top(top, before: <)
            if !names.isEmpty {
                line("  top names: " + names.map { "\($0.key) \(grouped($0.value.count))" }.joined(separator: ", ")
                     + (s.dnsNames.pruned ? " (lower bounds)" : ""))
            }
        }

        line()
        line("Analysis")
        let counters: [(String, Int)] = [
            ("handshakes completed", s.handshakesCompleted),
            ("teardowns (FIN)", s.teardowns),
            ("resets", s.resets),
            // As the flow rows count them: plain, fast and spurious (Wireshark's tcp.analysis.retransmission).
            ("retransmissions", s.noteCount(.retransmission) + s.noteCount(.fastRetransmission) + s.noteCount(.spuriousRetransmission)),
            ("sticky segments", s.noteCount(.sticky)),
            ("split messages", s.flows.splitMessages),
        ]
        for (label, n) in counters { line("  " + pad(label, 22) + padLeft(grouped(n), 12)) }
        let notes = noteOrder(s)
        if !notes.isEmpty {
            line("  annotations: " + notes.map { "\($0.0) \(grouped($0.1))" }.joined(separator: ", "))
        }
        out.string(t)
    }

    // MARK: JSON

    /// The summary as one JSON object (one line) with `"type": "stats"`.
    public static func json(_ s: CaptureStatistics, top: Int, into o: inout OutputBuffer) {
        o.ascii("{\"type\":\"stats\",\"packets\":"); o.decimal(s.packets)
        o.ascii(",\"bytes\":"); o.decimal(s.bytes)
        o.ascii(",\"captured_bytes\":"); o.decimal(s.capturedBytes)
        if let first = s.firstNanoseconds { o.ascii(",\"start\":"); FlowFormatter.seconds(first, &o) }
        o.ascii(",\"duration\":"); FlowFormatter.seconds(s.durationNanoseconds, &o)
        o.ascii(",\"errors\":{\"truncated\":"); o.decimal(s.truncatedPackets)
        o.ascii(",\"malformed\":"); o.decimal(s.malformedPackets); o.byte(125)

        o.ascii(",\"hierarchy\":")
        hierarchyJSON(s, 0, depth: 0, &o)

        o.ascii(",\"talkers\":[")
        for (i, e) in s.talkers.top(top, before: <).enumerated() {
            if i > 0 { o.byte(44) }
            o.ascii("{\"address\":"); o.jsonString(address(e.key))
            o.ascii(",\"packets\":"); o.decimal(e.value.packets)
            o.ascii(",\"bytes\":"); o.decimal(e.value.bytes)
            o.ascii(",\"sent_packets\":"); o.decimal(e.value.sentPackets)
            o.ascii(",\"sent_bytes\":"); o.decimal(e.value.sentBytes)
            o.ascii(",\"received_packets\":"); o.decimal(e.value.receivedPackets)
            o.ascii(",\"received_bytes\":"); o.decimal(e.value.receivedBytes)
            o.byte(125)
        }
        o.ascii("],\"conversations\":[")
        for (i, f) in s.conversations.prefix(top).enumerated() {
            if i > 0 { o.byte(44) }
            o.ascii("{\"id\":"); o.decimal(f.id)
            o.ascii(f.isTCP ? ",\"proto\":\"tcp\"" : ",\"proto\":\"udp\"")
            o.ascii(",\"client\":"); o.jsonString(endpoint(f.client))
            o.ascii(",\"server\":"); o.jsonString(endpoint(f.server))
            o.ascii(",\"packets\":{\"c2s\":"); o.decimal(f.packets.c2s); o.ascii(",\"s2c\":"); o.decimal(f.packets.s2c)
            o.ascii("},\"bytes\":{\"c2s\":"); o.decimal(f.bytes.c2s); o.ascii(",\"s2c\":"); o.decimal(f.bytes.s2c); o.byte(125)
            if f.isTCP {
                o.ascii(",\"conn_state\":"); o.jsonString(f.connState)
                o.ascii(",\"end\":"); o.jsonString(f.end)
            }
            o.byte(125)
        }
        o.ascii("],\"tcp\":{\"connections\":"); o.decimal(s.tcpConnections)
        o.ascii(",\"conn_states\":"); counts(s.connStates, &o)
        o.ascii(",\"ends\":"); counts(s.endings, &o)
        if s.handshakeRTT.count > 0 {
            o.ascii(",\"handshake_rtt\":{\"min\":"); FlowFormatter.seconds(s.handshakeRTT.min, &o)
            o.ascii(",\"avg\":"); FlowFormatter.seconds(s.handshakeRTT.total / s.handshakeRTT.count, &o)
            o.ascii(",\"max\":"); FlowFormatter.seconds(s.handshakeRTT.max, &o); o.byte(125)
        }
        o.ascii("},\"udp\":{\"conversations\":"); o.decimal(s.udpConversations)
        o.ascii("},\"dns\":{\"queries\":"); o.decimal(s.dnsQueries)
        o.ascii(",\"responses\":"); o.decimal(s.dnsResponses)
        o.ascii(",\"rcodes\":{")
        var first = true
        for (code, n) in s.dnsRcodes.enumerated() where n > 0 {
            if !first { o.byte(44) }
            first = false
            o.byte(34); o.dnsRcode(UInt8(truncatingIfNeeded: code)); o.byte(34)
            o.byte(58); o.decimal(n)
        }
        o.ascii("},\"top_names\":[")
        for (i, e) in s.dnsNames.top(top, before: <).enumerated() {
            if i > 0 { o.byte(44) }
            o.ascii("{\"name\":"); o.jsonString(e.key); o.ascii(",\"count\":"); o.decimal(e.value.count); o.byte(125)
        }
        o.ascii("]},\"analysis\":{\"handshakes\":"); o.decimal(s.handshakesCompleted)
        o.ascii(",\"teardowns\":"); o.decimal(s.teardowns)
        o.ascii(",\"resets\":"); o.decimal(s.resets)
        o.ascii(",\"retransmissions\":")
        o.decimal(s.noteCount(.retransmission) + s.noteCount(.fastRetransmission) + s.noteCount(.spuriousRetransmission))
        o.ascii(",\"sticky_segments\":"); o.decimal(s.noteCount(.sticky))
        o.ascii(",\"split_messages\":"); o.decimal(s.flows.splitMessages)
        o.ascii("},\"notes\":{")
        for (i, n) in noteOrder(s).sorted(by: { $0.0 < $1.0 }).enumerated() {
            if i > 0 { o.byte(44) }
            o.jsonString(n.0); o.byte(58); o.decimal(n.1)
        }
        o.ascii(s.approximate ? "},\"approximate\":true}\n" : "},\"approximate\":false}\n")
    }

    private static func counts(_ d: [String: Int], _ o: inout OutputBuffer) {
        o.byte(123)
        for (i, e) in d.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { o.byte(44) }
            o.jsonString(e.key); o.byte(58); o.decimal(e.value)
        }
        o.byte(125)
    }

    private static func hierarchyJSON(_ s: CaptureStatistics, _ i: Int, depth: Int, _ o: inout OutputBuffer) {
        o.byte(91)
        let kids = sortedChildren(s, i)
        for (k, c) in kids.enumerated() {
            if k > 0 { o.byte(44) }
            let n = s.hierarchy[c]
            o.ascii("{\"protocol\":"); o.jsonString(name(n.node ?? .data))
            o.ascii(",\"frames\":"); o.decimal(n.count.frames)
            o.ascii(",\"bytes\":"); o.decimal(n.count.bytes)
            if !n.children.isEmpty && depth < 12 {
                o.ascii(",\"children\":")
                hierarchyJSON(s, c, depth: depth + 1, &o)
            }
            o.byte(125)
        }
        o.byte(93)
    }
}
