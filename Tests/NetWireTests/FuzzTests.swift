#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import NetWire

/// Seeded random inputs: decoding must never trap (a trap crashes the test run) and must keep a few
/// cheap invariants.
@Suite("Fuzz")
struct FuzzTests {
    static let linkTypes: [LinkType] = [.null, .ethernet, .raw, .rawAlt, .loop, .linktypeRaw, .linuxSLL, .ipv4, .ipv6, .linuxSLL2]
    /// `NETWIRE_FUZZ_SCALE=n` multiplies the iteration counts for a longer local run (and then mutates
    /// up to 4 bytes at a time instead of 1).
    static let scale: Int = getenv("NETWIRE_FUZZ_SCALE").flatMap { Int(String(cString: $0)) }.map { max(1, $0) } ?? 1
    static let iterations = 20_000 * scale
    static let mutations = 20_000 * scale

    /// Invariants every decode must keep, whatever the input. Returns a description of the first broken one.
    static func invariantProblem(_ p: Packet, captured: Int) -> String? {
        if p.payloadStart > p.payloadEnd { return "payloadStart \(p.payloadStart) > payloadEnd \(p.payloadEnd)" }
        if p.payloadEnd > captured { return "payloadEnd \(p.payloadEnd) > captured \(captured)" }
        // At most one error per problem that is reported while decoding goes on (IPv4 option, IP
        // length, UDP length, DNS record data), plus the one that stops.
        if p.errors.count > 5 { return "\(p.errors.count) errors: \(p.errors)" }
        if p.capturedLength != captured { return "capturedLength \(p.capturedLength)" }
        if let e = p.errors.first(where: { $0.offset < 0 }) { return "negative offset: \(e)" }
        return nil
    }

    static func hex(_ b: UnsafeRawBufferPointer) -> String {
        b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test(arguments: FuzzTests.linkTypes)
    func randomBuffers(link: LinkType) {
        var rng = SplitMix64(seed: 0x5EED_0000 &+ UInt64(UInt32(bitPattern: link.rawValue)))
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 208, alignment: 8)
        defer { buf.deallocate() }
        var p = Packet()
        let decoders = [PacketDecoder(), PacketDecoder(verifyChecksums: false, decodeDNS: true),
                        PacketDecoder(verifyChecksums: true, decodeDNS: false)]
        var reported = false
        var transport = 0, dns = 0
        for i in 0 ..< Self.iterations {
            let len = Int(rng.next() % 201)
            var j = 0
            while j < len {
                let w = rng.next()
                buf.storeBytes(of: w, toByteOffset: j, as: UInt64.self)  // buffer has 8 bytes of slack
                j += 8
            }
            // Half the buffers get plausible headers so the deeper decoders see them too.
            if i & 1 == 1 { Self.plausibilize(buf, len, link, &rng) }
            let wire = rng.next() & 1 == 0 ? len : len + 1 + Int(rng.next() % 2000)
            let bytes = UnsafeRawBufferPointer(rebasing: buf[0 ..< len])
            decoders[i % 3].decode(bytes, wireLength: wire, linkType: link, into: &p)
            if p.tcp != nil || p.udp != nil || p.icmp != nil || p.icmpv6 != nil { transport += 1 }
            if p.dns != nil { dns += 1 }
            if !reported, let problem = Self.invariantProblem(p, captured: len) {
                Issue.record("link \(link.rawValue) wire \(wire) bytes \(Self.hex(bytes)): \(problem)")
                reported = true
            }
        }
        // The plausible half must get deep enough to exercise the upper decoders (about 2,000–4,000 / 500–900 today).
        #expect(transport > 1000, "only \(transport) decodes reached a transport layer")
        #expect(dns > 200, "only \(dns) decodes reached DNS")
    }

    /// Overwrites the header fields that steer decoding with values that lead somewhere.
    static func plausibilize(_ b: UnsafeMutableRawBufferPointer, _ len: Int, _ link: LinkType, _ rng: inout SplitMix64) {
        func put8(_ at: Int, _ v: UInt8) { if at >= 0 && at < len { b[at] = v } }
        func put16(_ at: Int, _ v: UInt16) { put8(at, UInt8(v >> 8)); put8(at + 1, UInt8(v & 0xFF)) }
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        var v6 = rng.next() & 1 == 0
        var net = 0
        switch link {
        case .ethernet:
            var off = 12
            var t: UInt16 = pick([0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x0800, 0x86DD])
            while (t == 0x8100 || t == 0x88A8) && off < 40 {
                put16(off, t)
                off += 4
                t = pick([0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x0800, 0x86DD])
            }
            put16(off, t)
            net = off + 2
            if t == 0x0806 {
                put16(net, 1); put16(net + 2, 0x0800); put8(net + 4, pick([6, 6, 5])); put8(net + 5, 4)
                return
            }
            v6 = t == 0x86DD
        case .linuxSLL:
            put16(14, v6 ? 0x86DD : 0x0800); put16(2, pick([1, 772, 824]))
            net = 16
        case .linuxSLL2:
            put16(0, v6 ? 0x86DD : 0x0800); put16(8, pick([1, 772]))
            net = 20
        case .null:
            let fam: UInt8 = v6 ? pick([10, 24, 28, 30]) : 2
            if rng.next() & 1 == 0 { put8(0, fam); put8(1, 0); put8(2, 0); put8(3, 0) } else { put8(0, 0); put8(1, 0); put8(2, 0); put8(3, fam) }
            net = 4
        case .loop:
            put8(0, 0); put8(1, 0); put8(2, 0); put8(3, v6 ? 24 : 2)
            net = 4
        case .ipv4: v6 = false
        case .ipv6: v6 = true
        default: break
        }
        let transport: Int
        let proto: UInt8
        if v6 {
            put8(net, 0x60 | UInt8(rng.next() & 0xF))
            put16(net + 4, rng.next() & 3 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : UInt16(max(0, len - net - 40)))
            proto = pick([6, 17, 58, 17, 0, 44, 60, 43, 51])
            put8(net + 6, proto)
            transport = net + 40
            if proto == 44 { put8(transport, pick([6, 17])); put8(transport + 2, 0); put8(transport + 3, 0) }
        } else {
            let ihl = rng.next() & 3 == 0 ? Int(rng.next() % 16) : 5
            put8(net, 0x40 | UInt8(ihl))
            put16(net + 2, rng.next() & 3 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : UInt16(max(0, len - net)))
            put16(net + 6, rng.next() & 1 == 0 ? 0x4000 : UInt16(truncatingIfNeeded: rng.next()))
            proto = pick([6, 17, 1, 17])
            put8(net + 9, proto)
            transport = net + max(ihl, 5) * 4
        }
        switch proto {
        case 17:
            put16(transport + (rng.next() & 1 == 0 ? 0 : 2), 53)
            put16(transport + 4, rng.next() & 3 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : UInt16(max(0, len - transport)))
            // Small DNS counts and label-ish bytes.
            for k in 0 ..< 4 { put16(transport + 12 + 2 * k, UInt16(rng.next() % 4)) }
            var at = transport + 20
            while at < len {
                put8(at, pick([0, 1, 3, 0xC0, 0x40, 63]))
                at += 1 + Int(rng.next() % 6)
            }
        case 6:
            put8(transport + 12, UInt8(5 + rng.next() % 11) << 4)
            var at = transport + 20
            while at < len && at < transport + 60 {
                put8(at, pick([0, 1, 2, 3, 4, 5, 8, 30]))
                put8(at + 1, UInt8(rng.next() % 12))
                at += 2 + Int(rng.next() % 8)
            }
        case 1:
            put8(transport, pick([0, 3, 8, 11, 5, 12]))
            put8(transport + 8, pick([0x45, 0x46, 0x44, 0x65]))
            put8(transport + 17, pick([6, 17, 1]))
        case 58:
            put8(transport, pick([128, 129, 135, 136, 137, 1]))
        default: break
        }
    }

    /// The good packets of the other suites.
    static let corpus: [(name: String, bytes: [UInt8], link: LinkType)] = {
        var c: [(String, [UInt8], LinkType)] = []
        c.append(("tcp syn options", Build.tcp4Frame(options: TCPTests.synOptions, payload: Array("abc".utf8), flags: 0x002), .ethernet))
        c.append(("tcp sack", Build.tcp4Frame(options: [1, 1, 5, 18] + [UInt8](repeating: 7, count: 16)), .ethernet))
        c.append(("udp", Build.udp4Frame(payload: Array("hello".utf8)), .ethernet))
        c.append(("dns big", Build.dnsFrame(BigResponse.msg), .ethernet))
        c.append(("dns v6", Build.eth6(Build.ipv6(next: 17, payload: Build.udp(.v6AB, sport: 53, payload: BigResponse.msg))), .ethernet))
        c.append(("icmp unreachable", ICMPTests.errorFrame(type: 3, code: 3, quoted: ICMPTests.quotedUDP()), .ethernet))
        c.append(("icmp echo", ICMPTests.echoFrame(), .ethernet))
        c.append(("icmpv6 ns", ICMPv6Tests.nsFrame(), .ethernet))
        c.append(("arp", ARPTests.frame(ARPTests.arp(op: 1)), .ethernet))
        c.append(("qinq", Build.ethernet(type: 0x0800, tags: [(0x88A8, 5), (0x8100, 6)], payload: Build.ipv4(proto: 17, payload: Build.udp(payload: [1]))), .ethernet))
        c.append(("ipv4 options", Build.eth4(Build.ipv4(proto: 6, payload: Build.tcp(), options: [1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0])), .ethernet))
        c.append(("ipv6 ext chain", Build.eth6(Build.ipv6(next: 0, payload: IPv6Tests.ext8(next: 60) + IPv6Tests.ext8(next: 44)
                + IPv6Tests.fragment(next: 17, offset: 0, more: false, id: 1) + Build.udp(.v6AB, payload: [1, 2]))), .ethernet))
        c.append(("sll", be16(0) + be16(1) + be16(6) + macA + [0, 0] + be16(0x0800) + Build.ipv4(proto: 6, payload: Build.tcp()), .linuxSLL))
        c.append(("sll2", be16(0x86DD) + [0, 0] + be32(1) + be16(1) + [0, 6] + macA + [0, 0]
                + Build.ipv6(next: 6, payload: Build.tcp(.v6AB, options: TCPTests.synOptions)), .linuxSLL2))
        c.append(("null v4", [2, 0, 0, 0] + Build.ipv4(proto: 17, payload: Build.udp(sport: 53, payload: BigResponse.msg)), .null))
        c.append(("loop v6", be32(24) + Build.ipv6(next: 58, payload: Build.icmpv6(type: 128, code: 0, rest: 1, data: [1, 2])), .loop))
        c.append(("raw v4", Build.ipv4(proto: 1, payload: Build.icmp(type: 8, code: 0, rest: 1, data: [1, 2, 3])), .raw))
        c.append(("raw v6", Build.ipv6(next: 17, payload: Build.udp(.v6AB, payload: [9])), .linktypeRaw))
        return c
    }()

    @Test func corpusDecodesCleanly() {
        for entry in Self.corpus {
            let p = decode(entry.bytes, link: entry.link)
            #expect(p.errors.isEmpty, "\(entry.name): \(p.errors)")
        }
    }

    @Test(arguments: 0 ..< FuzzTests.corpus.count)
    func singleByteMutations(entry: Int) {
        let (name, good, link) = Self.corpus[entry]
        var rng = SplitMix64(seed: 0xB17F_11B0 &+ UInt64(entry))
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: good.count, alignment: 1)
        defer { buf.deallocate() }
        var p = Packet()
        let decoder = PacketDecoder()
        var reported = false
        let n = Self.mutations / Self.corpus.count + 1
        for _ in 0 ..< n {
            buf.copyBytes(from: good)
            let at = Int(rng.next() % UInt64(good.count))
            buf[at] = good[at] ^ UInt8(1 + rng.next() % 255)
            if Self.scale > 1 {
                for _ in 0 ..< rng.next() % 4 { buf[Int(rng.next() % UInt64(good.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            decoder.decode(UnsafeRawBufferPointer(buf), wireLength: good.count, linkType: link, into: &p)
            if !reported, let problem = Self.invariantProblem(p, captured: good.count) {
                Issue.record("\(name): byte \(at) → \(buf[at]): \(problem)")
                reported = true
            }
            // The same mutant, cut by the capture somewhere.
            let cut = Int(rng.next() % UInt64(good.count))
            decoder.decode(UnsafeRawBufferPointer(rebasing: buf[0 ..< cut]), wireLength: good.count, linkType: link, into: &p)
            if !reported, let problem = Self.invariantProblem(p, captured: cut) {
                Issue.record("\(name): byte \(at) → \(buf[at]), cut at \(cut): \(problem)")
                reported = true
            }
            if !reported, p.errors.contains(where: { $0.kind == .truncated }) == false, cut < 14, link == .ethernet {
                Issue.record("\(name): cut at \(cut) inside the Ethernet header without a truncation error")
                reported = true
            }
        }
    }

    @Test func packetIsResetBetweenDecodes() {
        var p = Packet()
        decode(Build.dnsFrame(BigResponse.msg), into: &p)
        #expect(p.dns != nil && p.udp != nil)
        decode(ICMPv6Tests.nsFrame(), into: &p)
        #expect(p.dns == nil && p.udp == nil && p.ipv4 == nil && p.partialPorts == nil)
        #expect(p.icmpv6?.target != nil)
        decode(Build.tcp4Frame(options: TCPTests.synOptions), into: &p)
        #expect(p.ipv6 == nil && p.icmpv6 == nil && p.ipv6Extensions.isEmpty)
        #expect(p.tcpOptions.count == 5)
        decode(ARPTests.frame(ARPTests.arp(op: 1)), into: &p)
        #expect(p.tcp == nil && p.tcpOptions.isEmpty && p.errors.isEmpty && p.payloadStart == 0 && p.payloadEnd == 0)
        decode([1, 2, 3], into: &p)
        #expect(p.arp == nil && p.ethernet == nil && p.errors.count == 1)
        decode(ARPTests.frame(ARPTests.arp(op: 1)), into: &p)
        #expect(p.errors.isEmpty)
    }
}
