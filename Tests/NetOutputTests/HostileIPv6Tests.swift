import Foundation
import Testing

extension Hostile {
    /// 2001:db8::1 and 2001:db8::2.
    static let v6a: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
    static let v6b: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [2]

    /// An IPv6 header (payload length from the payload unless given) and its payload.
    static func ipv6(next: UInt8, _ payload: [UInt8], payloadLength: UInt16? = nil) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payloadLength ?? UInt16(truncatingIfNeeded: payload.count)) + [next, 64] + v6a + v6b + payload
    }

    static func ethernet6(_ ip: [UInt8]) -> [UInt8] { ethernet(ip, type: 0x86DD) }

    /// An 8-byte extension header (hop-by-hop, destination options or routing with PadN inside).
    static func ext8(next: UInt8) -> [UInt8] { [next, 0, 1, 4, 0, 0, 0, 0] }

    /// A good IPv6 UDP datagram, the last packet of a hostile file: decoding carried on.
    static func good6() -> [UInt8] { ethernet6(ipv6(next: 17, udp(sport: 2000, dport: 9, Array("still fine".utf8)))) }
    static let good6Line = "2001:db8::1.2000 > 2001:db8::2.9: UDP, length 10"

    static func icmpv6(type: UInt8, _ body: [UInt8]) -> [UInt8] { [type, 0, 0, 0] + body }

    static func errors(_ obj: [String: Any]) -> [[String: Any]] { obj["errors"] as? [[String: Any]] ?? [] }
}

@Suite("Hostile captures: IPv6")
struct HostileIPv6Tests {
    @Test func extensionHeaderLoopsAndLongChains() throws {
        // A destination-options header that names itself as the next header, 50 times over: the walk
        // stops after 8 headers. Likewise hop-by-hop repeated (only allowed first, still bounded).
        var loop: [UInt8] = []
        for _ in 0 ..< 50 { loop += Hostile.ext8(next: 60) }
        var hbh: [UInt8] = []
        for _ in 0 ..< 9 { hbh += Hostile.ext8(next: 0) }
        var eight: [UInt8] = []
        for i in 0 ..< 8 { eight += Hostile.ext8(next: i == 7 ? 17 : 60) }
        let packets = [
            Hostile.ethernet6(Hostile.ipv6(next: 60, loop)),
            Hostile.ethernet6(Hostile.ipv6(next: 0, hbh + Hostile.udp([1]))),
            // A chain whose last header points back into the chain type (routing → routing …).
            Hostile.ethernet6(Hostile.ipv6(next: 43, [UInt8]((0 ..< 20).flatMap { _ in [43, 0, 0, 0, 0, 0, 0, 0] as [UInt8] }))),
            // Eight are fine, and the datagram behind them is decoded.
            Hostile.ethernet6(Hostile.ipv6(next: 60, eight + Hostile.udp(sport: 3000, [7]))),
            Hostile.good6(),
        ]
        let (text, json) = try Hostile.decodeAll("ext-loop.pcap", Hostile.pcap(packets), packets: 5)
        for line in text.prefix(3) {
            #expect(line.contains("(invalid ip6: extension header chain length 9 at offset 118)"), "\(line)")
        }
        #expect(text[0].contains("2001:db8::1 > 2001:db8::2: DSTOPT DSTOPT DSTOPT DSTOPT DSTOPT DSTOPT DSTOPT DSTOPT (invalid"))
        #expect(text[2].contains("RT6 (len=0, type=0 [Deprecated], segleft=0)"), "\(text[2])")
        #expect(text[3].hasSuffix("DSTOPT 3000 > 9: UDP, length 1"), "\(text[3])")
        #expect(text[4].hasSuffix(Hostile.good6Line))
        for obj in json.prefix(3) {
            #expect(Hostile.errors(obj).first?["layer"] as? String == "ipv6")
            #expect((obj["ipv6"] as? [String: Any])?["ext"] as? [Int] != nil)
            #expect(((obj["ipv6"] as? [String: Any])?["ext"] as? [Int])?.count == 8)
        }
        #expect(Hostile.errors(json[3]).isEmpty)
    }

    @Test func lyingPayloadLengths() throws {
        let udp = Hostile.udp(Array("payload!".utf8))  // 16 bytes
        let packets = [
            Hostile.ethernet6(Hostile.ipv6(next: 17, udp, payloadLength: 1000)),   // more than the frame holds
            Hostile.ethernet6(Hostile.ipv6(next: 17, udp, payloadLength: 0xFFFF)),
            Hostile.ethernet6(Hostile.ipv6(next: 17, udp, payloadLength: 6)),      // less than the UDP header
            Hostile.ethernet6(Hostile.ipv6(next: 17, udp, payloadLength: 12)),     // less than the UDP length says
            Hostile.ethernet6(Hostile.ipv6(next: 17, udp, payloadLength: 0)),      // 0 without a hop-by-hop header
            Hostile.ethernet6(Hostile.ipv6(next: 0, Hostile.ext8(next: 17) + udp, payloadLength: 0)),  // 0 without jumbo option
            // A "jumbo" option whose length fits 16 bits (not a jumbogram), and one far beyond the frame.
            Hostile.ethernet6(Hostile.ipv6(next: 0, [17, 0, 0xC2, 4] + Hostile.be32(24) + udp, payloadLength: 0)),
            Hostile.ethernet6(Hostile.ipv6(next: 0, [17, 0, 0xC2, 4] + Hostile.be32(0xFFFF_FFFF) + udp, payloadLength: 0)),
            // An extension header longer than the payload length (and than the frame).
            Hostile.ethernet6(Hostile.ipv6(next: 60, [17, 255, 1, 4, 0, 0, 0, 0] + udp)),
            Hostile.good6(),
        ]
        let (text, json) = try Hostile.decodeAll("ipv6-plen.pcap", Hostile.pcap(packets), packets: 10)
        #expect(text[0].contains("(invalid ip6: payload length exceeds frame 1000 at offset 18)"), "\(text[0])")
        #expect(text[1].contains("(invalid ip6: payload length exceeds frame 65535 at offset 18)"), "\(text[1])")
        #expect(text[2].contains("(invalid udp:"), "\(text[2])")
        #expect(text[3].contains("(invalid udp: length exceeds IP payload 16"), "\(text[3])")
        #expect(text[4].contains("(invalid udp:"), "\(text[4])")
        #expect(text[5].contains("(invalid ip6: payload length 0 without jumbo option 0 at offset 18)"), "\(text[5])")
        #expect(text[6].contains("(invalid ip6: jumbo payload length 24 at offset 18)"), "\(text[6])")
        #expect(text[7].contains("HBH") && text[7].contains("(invalid ip6: payload length exceeds frame 4294967295"), "\(text[7])")
        #expect(text[8].contains("(invalid ip6:"), "\(text[8])")
        #expect(text[9].hasSuffix(Hostile.good6Line))
        for obj in json.prefix(9) { #expect(!Hostile.errors(obj).isEmpty, "\(obj)") }
        #expect((json[7]["ipv6"] as? [String: Any])?["jumbo"] as? Int == 0xFFFF_FFFF)
        // Cut by the capture (caplen < wire length) is truncation, not a lie.
        let whole = Hostile.ethernet6(Hostile.ipv6(next: 17, udp))
        let cut = Hostile.pcapHeader() + Hostile.record(Array(whole.prefix(60)), wire: UInt32(whole.count))
            + Hostile.record(Hostile.good6())
        let (t2, j2) = try Hostile.decodeAll("ipv6-cut.pcap", cut, packets: 2)
        #expect(t2[0].hasSuffix("[|udp]"), "\(t2[0])")
        #expect(Hostile.errors(j2[0]).first?["kind"] as? String == "truncated")
    }

    @Test func fragmentHeadersWithOddOffsets() throws {
        let udp = Hostile.udp(Array("fragment".utf8))
        func frag(_ next: UInt8, offset: UInt16, more: Bool, id: UInt32) -> [UInt8] {
            [next, 0] + Hostile.be16(offset << 3 | (more ? 1 : 0)) + Hostile.be32(id)
        }
        let packets = [
            Hostile.ethernet6(Hostile.ipv6(next: 44, frag(17, offset: 8191, more: true, id: 1) + udp)),   // the largest offset
            Hostile.ethernet6(Hostile.ipv6(next: 44, frag(17, offset: 8191, more: false, id: 2) + udp)),
            Hostile.ethernet6(Hostile.ipv6(next: 44, frag(44, offset: 0, more: true, id: 3) + frag(17, offset: 1, more: false, id: 4) + udp)),
            Hostile.ethernet6(Hostile.ipv6(next: 44, frag(17, offset: 0, more: false, id: 5) + udp)),   // atomic
            Hostile.ethernet6(Hostile.ipv6(next: 44, frag(17, offset: 0, more: true, id: 6))),           // first fragment, no data
            Hostile.ethernet6(Hostile.ipv6(next: 44, [17, 0, 0] )),                                     // cut inside by its payload length
            Hostile.ethernet6(Hostile.ipv6(next: 44, frag(17, offset: 3, more: true, id: 7) + udp, payloadLength: 4)),
            Hostile.good6(),
        ]
        let (text, json) = try Hostile.decodeAll("ipv6-frag.pcap", Hostile.pcap(packets), packets: 8)
        #expect(text[0].hasSuffix("2001:db8::1 > 2001:db8::2: frag (65528|16)"), "\(text[0])")
        #expect(text[1].hasSuffix("frag (65528|16)"), "\(text[1])")
        #expect(text[2].hasSuffix("frag (0|24) frag (8|16)"), "\(text[2])")
        #expect(text[3].hasSuffix("frag (0|16) 40000 > 9: UDP, length 8"), "\(text[3])")
        #expect(text[4].hasSuffix("frag (0|0) (invalid udp: 8-byte field past declared length at offset 62)"), "\(text[4])")
        #expect(text[5].contains("(invalid ip6:"), "\(text[5])")
        #expect(text[6].contains("(invalid ip6:"), "\(text[6])")
        #expect(text[7].hasSuffix(Hostile.good6Line))
        let v6 = json.compactMap { $0["ipv6"] as? [String: Any] }
        #expect(v6[0]["frag_offset"] as? Int == 65528)
        #expect(v6[0]["mf"] as? Bool == true)
        #expect(v6[2]["ext"] as? [Int] == [44, 44])
        #expect(json[3]["udp"] != nil)
        #expect(json[0]["udp"] == nil)  // a later fragment has no transport header
    }

    @Test func icmpv6OptionsAndQuotesThatLie() throws {
        let target = Hostile.v6b
        let mac: [UInt8] = [2, 0, 0, 0, 0, 0x0A]
        var manyOptions: [UInt8] = []
        for _ in 0 ..< 150 { manyOptions += [200, 1, 0, 0, 0, 0, 0, 0] }
        var quoteLoop = Hostile.ipv6(next: 60, [])
        for _ in 0 ..< 30 { quoteLoop += Hostile.ext8(next: 60) }
        let packets = [
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 135, [0, 0, 0, 0] + target + [1, 0] + mac))),     // length 0
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 135, [0, 0, 0, 0] + target + [1, 255] + mac))),   // past the message
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 136, [0x60, 0, 0, 0] + target + [2, 1] + mac))),  // good NA
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 134, [UInt8](repeating: 0, count: 12) + manyOptions))),
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 135, [0, 0, 0, 0] + [1, 2, 3]))),                  // no room for the target
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 1, [0, 0, 0, 0] + quoteLoop))),                     // quoted chain loops
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 3, [0, 0, 0, 0] + [0x45] + [UInt8](repeating: 0, count: 39)))),  // quote is IPv4
            Hostile.ethernet6(Hostile.ipv6(next: 58, Hostile.icmpv6(type: 2, Hostile.be32(1280) + Hostile.ipv6(next: 17, []).prefix(20)))),  // quote cut by the message
            Hostile.ethernet6(Hostile.ipv6(next: 58, [128, 0])),                                                             // header cut by its length
            Hostile.good6(),
        ]
        let (text, json) = try Hostile.decodeAll("icmpv6-lies.pcap", Hostile.pcap(packets), packets: 10)
        #expect(text[0].contains("who has 2001:db8::2") && text[0].contains("(invalid icmp6: option length 0 at offset 79)"), "\(text[0])")
        #expect(text[1].contains("(invalid icmp6: 2038-byte field past declared length at offset 80)"), "\(text[1])")
        #expect(text[2].hasSuffix("ICMP6, neighbor advertisement, tgt is 2001:db8::2, length 32"), "\(text[2])")
        #expect(text[3].hasSuffix("ICMP6, router advertisement, length 1216"), "\(text[3])")
        #expect(text[4].contains("ICMP6, neighbor solicitation, length 11 (invalid icmp6: 16-byte field past declared length at offset 62)"), "\(text[4])")
        #expect(text[5].contains("(invalid icmp6: quoted extension header chain length 9"), "\(text[5])")
        #expect(text[6].contains("(invalid icmp6: quoted IP version 4 at offset 62)"), "\(text[6])")
        #expect(text[7].hasSuffix("ICMP6, packet too big, mtu 1280, length 28 (invalid icmp6: 16-byte field past declared length at offset 70)"), "\(text[7])")
        #expect(text[8].contains("(invalid icmp6:"), "\(text[8])")
        #expect(text[9].hasSuffix(Hostile.good6Line))
        let na = json[2]["icmpv6"] as? [String: Any]
        #expect(na?["lladdr"] as? String == "02:00:00:00:00:0a")
        #expect(na?["flags"] as? [String] == ["solicited", "override"])
        #expect((json[0]["icmpv6"] as? [String: Any])?["target"] as? String == "2001:db8::2")
    }

    /// `ip` behind the link header of `linkType` (null: the three BSD AF_INET6 values in turn).
    static func link(_ linkType: UInt32, _ ip: [UInt8], _ i: Int) -> [UInt8] {
        switch linkType {
        case 1: Hostile.ethernet6(ip)
        case 113: Hostile.be16(0) + Hostile.be16(1) + Hostile.be16(6) + [2, 0, 0, 0, 0, 1, 0, 0] + Hostile.be16(0x86DD) + ip
        case 276: Hostile.be16(0x86DD) + [0, 0] + Hostile.be32(1) + Hostile.be16(1) + [0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + ip
        case 0: Hostile.le32([24, 28, 30][i % 3]) + ip
        case 108: Hostile.be32(24) + ip
        default: ip
        }
    }

    /// Random bytes behind an IPv6 header, with every next-header value that starts a walk, on every
    /// link type that can carry IPv6: no crash, no hang, one line and one JSON object per packet.
    @Test(arguments: [(UInt32(1), "ethernet"), (101, "raw"), (229, "ipv6"), (113, "sll"), (276, "sll2"), (0, "null"), (108, "loop")])
    func randomChainsOnEveryLinkType(_ linkType: UInt32, _ name: String) throws {
        var rng = HostileRNG(state: 0x1F6 &+ UInt64(linkType))
        let starts: [UInt8] = [0, 43, 44, 60, 51, 58, 17, 6, 59]
        var packets: [[UInt8]] = []
        for i in 0 ..< 1500 {
            var body = rng.bytes(Int(rng.next() % 120))
            // Seed the random bytes with plausible chain links so the walk goes deep.
            var k = 0
            while k + 1 < body.count {
                if rng.next() % 2 == 0 { body[k] = starts[Int(rng.next() % UInt64(starts.count))] }
                body[k + 1] = UInt8(rng.next() % 3)
                k += Int(body[k + 1] + 1) * 8
            }
            let plen: UInt16? = i % 4 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : nil
            let frame = Self.link(linkType, Hostile.ipv6(next: starts[i % starts.count], body, payloadLength: plen), i)
            packets.append(i % 7 == 0 ? Array(frame.prefix(Int(rng.next() % UInt64(frame.count + 1)))) : frame)
        }
        packets.append(Self.link(linkType, Hostile.ipv6(next: 17, Hostile.udp(sport: 2000, dport: 9, Array("still fine".utf8))), 0))
        let file = Hostile.pcapHeader(linkType: linkType) + packets.enumerated().flatMap { (i, p) in
            // Every fifth record claims a longer wire length (a capture cut), the rest are whole.
            Hostile.record(p, wire: i % 5 == 0 ? UInt32(p.count + 40) : nil)
        }
        let (text, json) = try Hostile.decodeAll("ipv6-random-\(name).pcap", file, packets: packets.count)
        #expect(text.last?.hasSuffix(Hostile.good6Line) == true, "\(text.last ?? "")")
        #expect(json.last?["udp"] != nil)
    }
}
