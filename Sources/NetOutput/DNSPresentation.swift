import NetWire

/// DNS record data in presentation form (RFC 1035 master-file style; RFC 3597 for unknown types).
enum DNSPresentation {
    static func name(_ n: String, _ out: inout OutputBuffer, trailingDot: Bool) {
        out.string(n)
        if trailingDot && n != "." { out.byte(46) }
    }

    static func data(_ rr: DNSRecord, _ out: inout OutputBuffer, trailingDots: Bool) {
        switch rr.data {
        case .a(let a): out.ipv4(a)
        case .aaaa(let a): out.ipv6(a)
        case .name(let n): name(n, &out, trailingDot: trailingDots)
        case .mx(let pref, let exchange):
            out.decimal(pref); out.byte(32); name(exchange, &out, trailingDot: trailingDots)
        case .txt(let strings):
            var first = true
            for s in strings {
                if !first { out.byte(32) }
                first = false
                out.byte(34)
                for b in s {
                    if b == 34 || b == 92 { out.byte(92); out.byte(b) }
                    else if b >= 0x20 && b < 0x7F { out.byte(b) }
                    else { out.byte(92); out.padded(Int(b), width: 3) }
                }
                out.byte(34)
            }
        case .soa(let s):
            name(s.mname, &out, trailingDot: trailingDots); out.byte(32)
            name(s.rname, &out, trailingDot: trailingDots); out.byte(32)
            out.decimal(s.serial); out.byte(32); out.decimal(s.refresh); out.byte(32)
            out.decimal(s.retry); out.byte(32); out.decimal(s.expire); out.byte(32); out.decimal(s.minimum)
        case .srv(let prio, let weight, let port, let target):
            out.decimal(prio); out.byte(32); out.decimal(weight); out.byte(32); out.decimal(port); out.byte(32)
            name(target, &out, trailingDot: trailingDots)
        case .opt(let options):
            out.ascii("udp "); out.decimal(rr.rclass)
            out.ascii(" version "); out.decimal((rr.ttl >> 16) & 0xFF)
            if rr.ttl & 0x8000 != 0 { out.ascii(" do") }
            for o in options {
                out.ascii(" opt "); out.decimal(o.code); out.byte(58)
                for b in o.data { out.hexByte(b) }
            }
        case .raw(let bytes):
            out.ascii("\\# "); out.decimal(bytes.count)
            if !bytes.isEmpty {
                out.byte(32)
                for b in bytes { out.hexByte(b) }
            }
        }
    }
}
