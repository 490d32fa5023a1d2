import NetAnalysis
import NetWire

/// `--flows` rows: one per conversation, as text or as JSON objects with `"type": "flow"`
/// (docs/json.md).
public enum FlowFormatter {
    static func endpoint(_ e: FlowEndpoint, _ o: inout OutputBuffer) {
        if e.isIPv6 { o.byte(91); o.ipv6(e.ipv6); o.byte(93) } else { o.ipv4(e.ipv4) }
        o.byte(58); o.decimal(e.port)
    }

    static func address(_ e: FlowEndpoint, _ o: inout OutputBuffer) {
        if e.isIPv6 { o.ipv6(e.ipv6) } else { o.ipv4(e.ipv4) }
    }

    static func seconds(_ ns: Int, _ o: inout OutputBuffer) {
        // Floor division that cannot trap, Int.min included.
        o.epoch(seconds: ns >= 0 ? ns / 1_000_000_000 : -(-(ns + 1) / 1_000_000_000) - 1,
                nanoseconds: ((ns % 1_000_000_000) + 1_000_000_000) % 1_000_000_000, digits: 6)
    }

    public static func json(_ f: FlowSummary, into o: inout OutputBuffer) {
        o.ascii("{\"type\":\"flow\",\"id\":"); o.decimal(f.id)
        o.ascii(f.isTCP ? ",\"proto\":\"tcp\"" : ",\"proto\":\"udp\"")
        o.ascii(",\"client\":\""); endpoint(f.client, &o)
        o.ascii("\",\"server\":\""); endpoint(f.server, &o)
        o.ascii("\",\"start\":"); seconds(f.startNanoseconds, &o)
        o.ascii(",\"duration\":"); seconds(f.durationNanoseconds, &o)
        o.ascii(",\"packets\":{\"c2s\":"); o.decimal(f.packets.c2s); o.ascii(",\"s2c\":"); o.decimal(f.packets.s2c)
        o.ascii("},\"bytes\":{\"c2s\":"); o.decimal(f.bytes.c2s); o.ascii(",\"s2c\":"); o.decimal(f.bytes.s2c); o.byte(125)
        if f.isTCP {
            o.ascii(",\"conn_state\":"); o.jsonString(f.connState)
            o.ascii(",\"history\":"); o.jsonString(f.history)
            if let rtt = f.handshakeRTTNanoseconds { o.ascii(",\"handshake_rtt\":"); seconds(rtt, &o) }
            o.ascii(",\"states\":{\"client\":\""); o.string(f.states.client.rawValue)
            o.ascii("\",\"server\":\""); o.string(f.states.server.rawValue); o.ascii("\"}")
            o.ascii(",\"retransmissions\":"); o.decimal(f.retransmissions)
            if f.synRetransmissions > 0 { o.ascii(",\"syn_retransmissions\":"); o.decimal(f.synRetransmissions) }
            if f.acksIgnored > 0 { o.ascii(",\"acks_ignored\":"); o.decimal(f.acksIgnored) }
            if let h = f.serverHalfOpenNanoseconds { o.ascii(",\"server_half_open\":"); seconds(h, &o) }
            if !f.analysis.isEmpty {
                // Notes per TCP analysis kind (the kinds `stats` counts under `notes`).
                o.ascii(",\"analysis\":{")
                for (i, (kind, n)) in f.analysis.nonZero.enumerated() {
                    if i > 0 { o.byte(44) }
                    o.jsonString(kind.rawValue); o.byte(58); o.decimal(n)
                }
                o.byte(125)
            }
        }
        o.ascii(",\"end\":"); o.jsonString(f.end)
        if f.midstream { o.ascii(",\"midstream\":true") }
        if let t = f.tunnel {
            o.ascii(",\"tunnel\":{\"encap\":\""); o.ascii(t.name); o.byte(34)
            o.ascii(",\"src\":\""); address(t.source, &o)
            o.ascii("\",\"dst\":\""); address(t.destination, &o); o.byte(34)
            if let id = t.identifier { o.ascii(",\"id\":"); o.decimal(id) }
            o.ascii(",\"depth\":"); o.decimal(t.depth); o.byte(125)
        }
        if let framing = f.framing {
            o.ascii(",\"framing\":"); o.jsonString(framing)
            o.ascii(",\"messages\":{\"c2s\":"); o.decimal(f.messages.c2s); o.ascii(",\"s2c\":"); o.decimal(f.messages.s2c)
            o.ascii("},\"sticky_segments\":"); o.decimal(f.stickySegments)
            o.ascii(",\"split_messages\":"); o.decimal(f.splitMessages)
        }
        o.ascii("}\n")
    }

    /// One text row: `flow 3 tcp 127.0.0.1:40000 > 127.0.0.1:9000 0.101 s 8/8 pkts 21/26 B rtt 34 µs SF ShADadFf fin by client (TIME_WAIT/CLOSED)`.
    public static func text(_ f: FlowSummary, into o: inout OutputBuffer) {
        o.ascii("flow "); o.decimal(f.id)
        o.ascii(f.isTCP ? " tcp " : " udp ")
        endpoint(f.client, &o); o.ascii(" > "); endpoint(f.server, &o)
        o.byte(32); seconds(f.durationNanoseconds, &o); o.ascii(" s")
        o.byte(32); o.decimal(f.packets.c2s); o.byte(47); o.decimal(f.packets.s2c); o.ascii(" pkts ")
        o.decimal(f.bytes.c2s); o.byte(47); o.decimal(f.bytes.s2c); o.ascii(" B")
        if f.isTCP {
            if let rtt = f.handshakeRTTNanoseconds { o.ascii(" rtt "); o.string(FlowTracker.durationText(rtt)) }
            o.byte(32); o.string(f.connState); o.byte(32); o.string(f.history.isEmpty ? "-" : f.history)
            o.byte(32); o.string(f.end)
            o.ascii(" ("); o.string(f.states.client.rawValue); o.byte(47); o.string(f.states.server.rawValue); o.byte(41)
            if f.retransmissions > 0 { o.ascii(" retrans "); o.decimal(f.retransmissions) }
            if f.synRetransmissions > 0 { o.ascii(" syn-retrans "); o.decimal(f.synRetransmissions) }
            if f.acksIgnored > 0 {
                // The server dropped the client's handshake ACK (docs/backlog.md).
                o.ascii(" ack-ignored "); o.decimal(f.acksIgnored)
                if let h = f.serverHalfOpenNanoseconds {
                    o.ascii(" (server half-open "); o.string(FlowTracker.durationText(h)); o.ascii(", accept queue full?)")
                } else {
                    o.ascii(" (server still half-open, accept queue full?)")
                }
            }
        }
        if f.isTCP && !f.analysis.isEmpty {
            // The other TCP analysis kinds (retransmissions are `retrans` above).
            for (kind, n) in f.analysis.nonZero where kind != .retransmission {
                o.byte(32); o.string(kind.rawValue); o.byte(32); o.decimal(n)
            }
        }
        if f.midstream { o.ascii(" midstream") }
        if let t = f.tunnel {
            o.ascii(" tunnel "); o.ascii(t.name); o.byte(32)
            address(t.source, &o); o.ascii(" > "); address(t.destination, &o)
            if let id = t.identifier {
                // (As the packet lines write them: a GRE key in hex, a VNI in decimal.)
                if t.encapsulation == .gre { o.ascii(" key 0x"); o.hex(UInt64(id)) } else { o.ascii(" vni "); o.decimal(id) }
            }
        }
        if let framing = f.framing {
            o.ascii(" framing "); o.string(framing)
            o.ascii(" msgs "); o.decimal(f.messages.c2s); o.byte(47); o.decimal(f.messages.s2c)
            o.ascii(" sticky "); o.decimal(f.stickySegments)
            o.ascii(" split "); o.decimal(f.splitMessages)
        }
        o.byte(10)
    }
}
