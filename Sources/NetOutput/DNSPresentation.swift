import NetAnalysis
import NetWire

/// DNS record data in presentation form (RFC 1035 master-file style; RFC 3597 for unknown types;
/// the DNSSEC types as RFC 4034/5155 write them: base64 keys and signatures, hex digests,
/// `YYYYMMDDHHmmSS` signature times, base32hex NSEC3 hashes).
enum DNSPresentation {
    static func name(_ n: String, _ out: inout OutputBuffer, trailingDot: Bool) {
        // The root is "." whatever its stored form (an empty name is the root too).
        if n.isEmpty || n == "." { out.byte(46); return }
        out.string(n)
        if trailingDot { out.byte(46) }
    }

    /// Whether tcpdump's one-line summary shows this record's data (it shows A, AAAA, the name
    /// types, MX, TXT, SOA, SRV, OPT and, for unknown types, we show the RFC 3597 form); the
    /// DNSSEC and other typed records show their type only there, as tcpdump prints them.
    static func summaryShowsData(_ rr: DNSRecord) -> Bool {
        switch rr.data {
        case .a, .aaaa, .name, .mx, .txt, .soa, .srv, .opt, .raw: true
        default: false
        }
    }

    /// One <character-string> in quotes, `"` and `\` escaped, other bytes outside printable ASCII as `\DDD`.
    static func quoted(_ s: [UInt8], _ out: inout OutputBuffer) {
        out.byte(34)
        for b in s {
            if b == 34 || b == 92 { out.byte(92); out.byte(b) }
            else if b >= 0x20 && b < 0x7F { out.byte(b) }
            else { out.byte(92); out.padded(Int(b), width: 3) }
        }
        out.byte(34)
    }

    static func upperHex(_ bytes: [UInt8], _ out: inout OutputBuffer) {
        let digits: StaticString = "0123456789ABCDEF"
        digits.withUTF8Buffer { d in
            for b in bytes {
                out.byte(d[Int(b >> 4)]); out.byte(d[Int(b & 0xF)])
            }
        }
    }

    /// RFC 4648 base64 with padding.
    static func base64(_ bytes: [UInt8], _ out: inout OutputBuffer) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        alphabet.withUTF8Buffer { a in
            var i = 0
            while i < bytes.count {
                let n = min(3, bytes.count - i)
                let b0 = UInt32(bytes[i])
                let b1 = n > 1 ? UInt32(bytes[i + 1]) : 0
                let b2 = n > 2 ? UInt32(bytes[i + 2]) : 0
                let v = b0 << 16 | b1 << 8 | b2
                out.byte(a[Int((v >> 18) & 63)]); out.byte(a[Int((v >> 12) & 63)])
                out.byte(n > 1 ? a[Int((v >> 6) & 63)] : 61)
                out.byte(n > 2 ? a[Int(v & 63)] : 61)
                i += 3
            }
        }
    }

    /// RFC 4648 §7 base32 with the extended hex alphabet, no padding (RFC 5155 §3.3).
    static func base32hex(_ bytes: [UInt8], _ out: inout OutputBuffer) {
        let alphabet: StaticString = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
        alphabet.withUTF8Buffer { a in
            var acc: UInt32 = 0
            var bits = 0
            for b in bytes {
                acc = (acc << 8 | UInt32(b)) & 0xFFFF
                bits += 8
                while bits >= 5 {
                    bits -= 5
                    out.byte(a[Int((acc >> UInt32(bits)) & 31)])
                }
            }
            if bits > 0 { out.byte(a[Int((acc << UInt32(5 - bits)) & 31)]) }
        }
    }

    /// A signature time as `YYYYMMDDHHmmSS` (UTC), RFC 4034 §3.2.
    static func signatureTime(_ t: UInt32, _ out: inout OutputBuffer) {
        let secs = Int(t)
        let days = secs / 86400
        let rem = secs % 86400
        // Civil date from days since 1970-01-01 (proleptic Gregorian).
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        out.padded(year, width: 4); out.padded(month, width: 2); out.padded(day, width: 2)
        out.padded(rem / 3600, width: 2); out.padded((rem / 60) % 60, width: 2); out.padded(rem % 60, width: 2)
    }

    static func types(_ list: [UInt16], _ out: inout OutputBuffer) {
        for t in list { out.byte(32); out.dnsType(t) }
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
                quoted(s, &out)
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
        case .hinfo(let cpu, let os):
            quoted(cpu, &out); out.byte(32); quoted(os, &out)
        case .twoNames(let a, let b):
            name(a, &out, trailingDot: trailingDots); out.byte(32); name(b, &out, trailingDot: trailingDots)
        case .numberAndName(let n, let host):
            out.decimal(n); out.byte(32); name(host, &out, trailingDot: trailingDots)
        case .naptr(let n):
            out.decimal(n.order); out.byte(32); out.decimal(n.preference); out.byte(32)
            quoted(n.flags, &out); out.byte(32); quoted(n.services, &out); out.byte(32); quoted(n.regexp, &out)
            out.byte(32); name(n.replacement, &out, trailingDot: trailingDots)
        case .ds(let keyTag, let algorithm, let digestType, let digest):
            out.decimal(keyTag); out.byte(32); out.decimal(algorithm); out.byte(32); out.decimal(digestType)
            if !digest.isEmpty { out.byte(32); upperHex(digest, &out) }
        case .dnskey(let flags, let proto, let algorithm, let key):
            out.decimal(flags); out.byte(32); out.decimal(proto); out.byte(32); out.decimal(algorithm)
            if !key.isEmpty { out.byte(32); base64(key, &out) }
        case .rrsig(let s):
            out.dnsType(s.typeCovered); out.byte(32); out.decimal(s.algorithm); out.byte(32); out.decimal(s.labels)
            out.byte(32); out.decimal(s.originalTTL); out.byte(32); signatureTime(s.expiration, &out)
            out.byte(32); signatureTime(s.inception, &out); out.byte(32); out.decimal(s.keyTag); out.byte(32)
            name(s.signer, &out, trailingDot: trailingDots)
            if !s.signature.isEmpty { out.byte(32); base64(s.signature, &out) }
        case .nsec(let next, let list):
            name(next, &out, trailingDot: trailingDots)
            types(list, &out)
        case .nsec3(let n):
            out.decimal(n.hashAlgorithm); out.byte(32); out.decimal(n.flags); out.byte(32); out.decimal(n.iterations)
            out.byte(32)
            if n.salt.isEmpty { out.byte(45) } else { upperHex(n.salt, &out) }
            out.byte(32); base32hex(n.nextHashedOwner, &out)
            types(n.types, &out)
        case .nsec3param(let hash, let flags, let iterations, let salt):
            out.decimal(hash); out.byte(32); out.decimal(flags); out.byte(32); out.decimal(iterations); out.byte(32)
            if salt.isEmpty { out.byte(45) } else { upperHex(salt, &out) }
        case .sshfp(let algorithm, let fpType, let fp):
            out.decimal(algorithm); out.byte(32); out.decimal(fpType)
            if !fp.isEmpty { out.byte(32); upperHex(fp, &out) }
        case .tlsa(let usage, let selector, let matching, let d):
            out.decimal(usage); out.byte(32); out.decimal(selector); out.byte(32); out.decimal(matching)
            if !d.isEmpty { out.byte(32); upperHex(d, &out) }
        case .caa(let flags, let tag, let value):
            out.decimal(flags); out.byte(32)
            for b in tag {
                if b > 0x20 && b < 0x7F { out.byte(b) } else { out.byte(92); out.padded(Int(b), width: 3) }
            }
            out.byte(32); quoted(value, &out)
        case .uri(let prio, let weight, let target):
            out.decimal(prio); out.byte(32); out.decimal(weight); out.byte(32); quoted(target, &out)
        case .svcb(let prio, let target, let params):
            out.decimal(prio); out.byte(32); name(target, &out, trailingDot: trailingDots)
            for p in params { out.byte(32); svcParam(p, &out) }
        case .raw(let bytes):
            out.ascii("\\# "); out.decimal(bytes.count)
            if !bytes.isEmpty {
                out.byte(32)
                for b in bytes { out.hexByte(b) }
            }
        }
    }

    /// One SvcParam as RFC 9460 §2.1 writes it: `alpn=h2,h3`, `port=443`, `ipv4hint=192.0.2.1`, …;
    /// a value that does not fit its key's shape, and unknown keys, as `keyN=` and hex.
    static func svcParam(_ p: DNSOption, _ out: inout OutputBuffer) {
        let v = p.data
        switch p.code {
        case 0 where v.count % 2 == 0:
            out.ascii("mandatory=")
            var i = 0
            while i + 1 < v.count {
                if i > 0 { out.byte(44) }
                svcKeyName(UInt16(v[i]) << 8 | UInt16(v[i + 1]), &out)
                i += 2
            }
        case 1:
            out.ascii("alpn=")
            var i = 0
            var first = true
            while i < v.count {
                let n = Int(v[i])
                let end = min(v.count, i + 1 + n)
                if !first { out.byte(44) }
                first = false
                var j = i + 1
                while j < end {
                    let b = v[j]
                    if b == 44 || b == 92 { out.byte(92); out.byte(b) }
                    else if b > 0x20 && b < 0x7F && b != 34 { out.byte(b) }
                    else { out.byte(92); out.padded(Int(b), width: 3) }
                    j += 1
                }
                i = end
            }
        case 2 where v.isEmpty:
            out.ascii("no-default-alpn")
        case 3 where v.count == 2:
            out.ascii("port="); out.decimal(UInt16(v[0]) << 8 | UInt16(v[1]))
        case 4 where v.count % 4 == 0 && !v.isEmpty:
            out.ascii("ipv4hint=")
            var i = 0
            while i + 3 < v.count {
                if i > 0 { out.byte(44) }
                out.ipv4(IPv4Address(v[i], v[i + 1], v[i + 2], v[i + 3]))
                i += 4
            }
        case 5:
            out.ascii("ech="); base64(v, &out)
        case 6 where v.count % 16 == 0 && !v.isEmpty:
            out.ascii("ipv6hint=")
            var i = 0
            while i + 15 < v.count {
                if i > 0 { out.byte(44) }
                var hi: UInt64 = 0, lo: UInt64 = 0
                for k in 0 ..< 8 { hi = hi << 8 | UInt64(v[i + k]); lo = lo << 8 | UInt64(v[i + 8 + k]) }
                out.ipv6(IPv6Address(hi: hi, lo: lo))
                i += 16
            }
        default:
            out.ascii("key"); out.decimal(p.code); out.byte(61)
            for b in v { out.hexByte(b) }
        }
    }

    static func svcKeyName(_ k: UInt16, _ out: inout OutputBuffer) {
        switch k {
        case 0: out.ascii("mandatory")
        case 1: out.ascii("alpn")
        case 2: out.ascii("no-default-alpn")
        case 3: out.ascii("port")
        case 4: out.ascii("ipv4hint")
        case 5: out.ascii("ech")
        case 6: out.ascii("ipv6hint")
        default: out.ascii("key"); out.decimal(k)
        }
    }
}

/// The DNS messages (dns-tcp framing) a TCP segment completes, as its notes carry them: the one
/// place the views (text, JSON, `-v`) find them.
enum StreamDNS {
    /// Some note of this segment carries a DNS decode (read in place: no copies, no counting).
    @inline(__always)
    static func present(_ notes: [Note]) -> Bool {
        var k = 0
        while k < notes.count {
            if let ref = notes[k].framedRef, ref._withUnsafeGuaranteedRef({ $0.hasDNS }) { return true }
            k &+= 1
        }
        return false
    }

    /// Each completed message, in stream order.
    static func forEach(_ notes: [Note], _ body: (DNSMessage) -> Void) {
        var k = 0
        while k < notes.count {
            defer { k &+= 1 }
            guard let ref = notes[k].framedRef, ref._withUnsafeGuaranteedRef({ $0.hasDNS }) else { continue }
            for s in ref._withUnsafeGuaranteedRef({ $0.spans }) where s.completes {
                if let m = s.dns { body(m) }
            }
        }
    }

    static func all(_ notes: [Note]) -> [DNSMessage] {
        var out: [DNSMessage] = []
        forEach(notes) { out.append($0) }
        return out
    }
}
