import Testing
@testable import NetWire

@Suite("IPv6")
struct IPv6Tests {
    static let udpDgram = Build.udp(.v6AB, payload: Array("six!".utf8))

    /// Hop-by-hop / destination options / routing header of 8 bytes (PadN inside).
    static func ext8(next: UInt8) -> [UInt8] { [next, 0, 1, 4, 0, 0, 0, 0] }
    static func fragment(next: UInt8, offset: UInt16, more: Bool, id: UInt32) -> [UInt8] {
        [next, 0] + be16(offset << 3 | (more ? 1 : 0)) + be32(id)
    }

    @Test func fixedHeader() {
        let ip = Build.ipv6(next: 17, payload: Self.udpDgram, hopLimit: 255, trafficClass: 0xB8, flowLabel: 0x12345)
        let p = decode(Build.eth6(ip))
        #expect(p.errors.isEmpty)
        let h = p.ipv6
        #expect(h?.trafficClass == 0xB8)
        #expect(h?.flowLabel == 0x12345)
        #expect(h?.payloadLength == UInt16(Self.udpDgram.count))
        #expect(h?.nextHeader == .udp)
        #expect(h?.upperProtocol == .udp)
        #expect(h?.hopLimit == 255)
        #expect(h?.source == ipv6(ip6A))
        #expect(h?.destination == ipv6(ip6B))
        #expect(h?.destination.group(1) == 0x0DB8)
        #expect(h?.destination.group(7) == 0x0053)
        #expect(h?.extensionCount == 0)
        #expect(h?.isFragment == false)
        #expect(h?.offset == 14)
        #expect(p.ipv6Extensions.isEmpty)
        #expect(p.udp?.offset == 54)
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func hopByHopDestOptsFragmentChain() {
        let chain = Self.ext8(next: 60) + Self.ext8(next: 44) + Self.fragment(next: 17, offset: 0, more: false, id: 0xDEAD_BEEF)
        let ip = Build.ipv6(next: 0, payload: chain + Self.udpDgram)
        let p = decode(Build.eth6(ip))
        #expect(p.errors.isEmpty)
        let h = p.ipv6
        #expect(h?.nextHeader == .hopByHop)
        #expect(h?.upperProtocol == .udp)
        #expect(h?.extensionCount == 3)
        #expect(p.ipv6Extensions.map(\.kind) == [.hopByHop, .destinationOptions, .fragment])
        #expect(h?.isFragment == true)
        #expect(h?.fragmentOffset == 0)
        #expect(h?.moreFragments == false)
        #expect(h?.fragmentIdentification == 0xDEAD_BEEF)
        #expect(p.udp?.offset == 14 + 40 + 24)
        #expect(p.udp?.sourcePort == 40000)
        // An atomic fragment (offset 0, M=0, RFC 6946) holds the whole datagram: it is verified.
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func routingAndAHChainVerifiesUpperChecksum() {
        let routing: [UInt8] = [51, 0, 4, 0, 0, 0, 0, 0]
        let ah: [UInt8] = [17, 4, 0, 0] + be32(0x100) + be32(1) + [UInt8](repeating: 0xAA, count: 12)
        #expect(ah.count == 24)
        let ip = Build.ipv6(next: 43, payload: routing + ah + Self.udpDgram)
        let p = decode(Build.eth6(ip))
        #expect(p.errors.isEmpty)
        #expect(p.ipv6Extensions.map(\.kind) == [.routing, .ah])
        #expect(p.ipv6?.upperProtocol == .udp)
        #expect(p.udp?.offset == 14 + 40 + 32)
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func nonFirstFragment() {
        let frag = Self.fragment(next: 17, offset: 100, more: true, id: 7)
        let ip = Build.ipv6(next: 44, payload: frag + Self.udpDgram)
        let p = decode(Build.eth6(ip))
        #expect(p.errors.isEmpty)
        #expect(p.ipv6?.isFragment == true)
        #expect(p.ipv6?.fragmentOffset == 100)
        #expect(p.ipv6?.moreFragments == true)
        #expect(p.ipv6?.fragmentIdentification == 7)
        #expect(p.udp == nil)
        #expect(p.partialPorts == nil)
    }

    @Test func eightExtensionHeadersAreAllowed() {
        var chain: [UInt8] = []
        for i in 0 ..< 8 { chain += Self.ext8(next: i == 7 ? 59 : 60) }
        let p = decode(Build.eth6(Build.ipv6(next: 60, payload: chain)))
        #expect(p.errors.isEmpty)
        #expect(p.ipv6?.extensionCount == 8)
        #expect(p.ipv6?.upperProtocol == .noNext)
    }

    @Test func nineExtensionHeadersAreMalformed() {
        var chain: [UInt8] = []
        for i in 0 ..< 9 { chain += Self.ext8(next: i == 8 ? 59 : 60) }
        let p = decode(Build.eth6(Build.ipv6(next: 60, payload: chain)))
        let e = expectOneError(p, .malformed, .ipv6, offset: 14 + 40 + 64)
        #expect(badValueField(e) == "extension header chain length")
        #expect(badValue(e) == 9)
        #expect(p.ipv6?.extensionCount == 8)
        #expect(p.ipv6Extensions.count == 8)
        #expect(p.ipv6?.source == ipv6(ip6A))
    }

    @Test func payloadLengthBeyondFullyCapturedFrame() {
        let ip = Build.ipv6(next: 17, payload: Self.udpDgram, payloadLength: UInt16(Self.udpDgram.count + 8))
        let f = Build.eth6(ip)
        let p = decode(f)
        let e = expectOneError(p, .malformed, .ipv6, offset: 18)
        #expect(badValueField(e) == "payload length exceeds frame")
        #expect(p.udp?.sourcePort == 40000)
        #expect(p.udp?.checksumStatus == .ok)  // the datagram its UDP length declares is complete
        // Cut by the capture instead: not malformed.
        let q = decode(f, wireLength: f.count + 8)
        #expect(q.errors.isEmpty)
    }

    @Test func payloadLengthShorterThanExtensionHeader() {
        // Payload length 4 cannot hold the 8-byte hop-by-hop header that follows (fully captured).
        let ip = Build.ipv6(next: 0, payload: Self.ext8(next: 17) + Self.udpDgram, payloadLength: 4)
        let p = decode(Build.eth6(ip))
        expectOneError(p, .malformed, .ipv6)
        #expect(p.ipv6?.payloadLength == 4)
        #expect(p.udp == nil)
    }

    @Test func payloadLengthShorterThanUDP() {
        // The IPv6 payload length covers only 6 bytes of the UDP header: UDP is cut by a length field.
        let ip = Build.ipv6(next: 17, payload: Self.udpDgram, payloadLength: 6)
        let p = decode(Build.eth6(ip))
        expectOneError(p, .malformed, .udp)
        #expect(p.partialPorts?.0 == 40000)
    }

    @Test func badVersion() {
        let ip = Build.ipv6(next: 17, payload: Self.udpDgram, version: 4)
        let p = decode(Build.eth6(ip))
        let e = expectOneError(p, .malformed, .ipv6, offset: 14)
        #expect(badValueField(e) == "version")
        #expect(badValue(e) == 4)
        #expect(p.ipv6 == nil)
    }

    @Test func prefixes() {
        let chain = Self.ext8(next: 60) + Self.ext8(next: 44) + Self.fragment(next: 17, offset: 0, more: false, id: 1)
        let f = Build.eth6(Build.ipv6(next: 0, payload: chain + Self.udpDgram))
        expectPrefixes(f, cuts: [(14, .ethernet), (78, .ipv6), (86, .udp)]) { k, p in
            if k >= 54 && k < 62 { #expect(p.ipv6?.extensionCount == 0) }
            if k >= 62 && k < 70 { #expect(p.ipv6Extensions.map(\.kind) == [.hopByHop]) }
        }
        let plain = Build.eth6(Build.ipv6(next: 17, payload: Self.udpDgram))
        expectPrefixes(plain, cuts: [(14, .ethernet), (54, .ipv6), (62, .udp)]) { k, p in
            if k >= 62 { #expect(p.udp?.checksumStatus == .unverified) }
        }
    }

    @Test func routingHeaderAddressesAreKept() {
        let addrs = ip6B + ip6A
        let routing: [UInt8] = [17, 4, 0, 2, 0, 0, 0, 0] + addrs
        // The UDP checksum covers the final destination: the type-0 header's last address (ip6A).
        let udp = Build.udp(.v6(src: ip6A, dst: ip6A), payload: Array("six!".utf8))
        let p = decode(Build.eth6(Build.ipv6(next: 43, payload: routing + udp)))
        #expect(p.errors.isEmpty)
        let e = p.ipv6Extensions.first
        #expect(e?.kind == .routing)
        #expect(e?.offset == 54)
        #expect(e?.length == 40)
        #expect(e?.lengthField == 4)
        #expect(e?.routingType == 0)
        #expect(e?.segmentsLeft == 2)
        #expect(e?.addressCount == 2)
        #expect(p.ipv6RoutingAddresses == [ipv6(ip6B), ipv6(ip6A)])
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func segmentRoutingHeaderLastEntryBoundsTheAddresses() {
        // Type 4 with last entry 0 but room for two addresses: one is listed; segment list[0] is final.
        let srh: [UInt8] = [17, 4, 4, 1, 0, 0, 0, 7] + ip6B + ip6A
        let udp = Build.udp(.v6(src: ip6A, dst: ip6B), payload: [1, 2, 3])
        let p = decode(Build.eth6(Build.ipv6(next: 43, payload: srh + udp)))
        #expect(p.errors.isEmpty)
        #expect(p.ipv6Extensions.first?.routingType == 4)
        #expect(p.ipv6Extensions.first?.routingData == 7)
        #expect(p.ipv6Extensions.first?.addressCount == 1)
        #expect(p.ipv6RoutingAddresses == [ipv6(ip6B)])
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func rplRoutingHeaderFinalDestinationIsDecompressed() {
        // RFC 6554: CmprI = CmprE = 8, two 8-byte addresses sharing the destination's first 8 bytes.
        let final: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x99]
        let rpl: [UInt8] = [17, 2, 3, 2, 0x88, 0, 0, 0] + Array(ip6A.suffix(8)) + Array(final.suffix(8))
        let udp = Build.udp(.v6(src: ip6A, dst: final), payload: [9])
        let p = decode(Build.eth6(Build.ipv6(next: 43, payload: rpl + udp)))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func authenticationHeaderFields() {
        let ah: [UInt8] = [17, 4, 0, 0] + be32(0x0102_0304) + be32(77) + [UInt8](repeating: 0xAA, count: 12)
        let p = decode(Build.eth6(Build.ipv6(next: 51, payload: ah + Self.udpDgram)))
        #expect(p.errors.isEmpty)
        #expect(p.ipv6Extensions.first?.kind == .ah)
        #expect(p.ipv6Extensions.first?.length == 24)
        #expect(p.ipv6Extensions.first?.spi == 0x0102_0304)
        #expect(p.ipv6Extensions.first?.sequence == 77)
        #expect(p.udp?.sourcePort == 40000)
    }

    @Test func authenticationHeaderTooShortIsMalformed() {
        // Payload length byte 0: 8 bytes, shorter than the 12 its fixed fields need.
        let ah: [UInt8] = [17, 0, 0, 0] + be32(0x0102_0304) + be32(77)
        let p = decode(Build.eth6(Build.ipv6(next: 51, payload: ah + Self.udpDgram)))
        #expect(p.errors.first?.kind == .malformed)
        #expect(p.errors.first?.layer == .ipv6)
        #expect(p.udp == nil)
    }

    @Test func fragmentHeaderFieldsPerExtension() {
        let frag = Self.fragment(next: 17, offset: 0, more: true, id: 0xCAFE)
        let p = decode(Build.eth6(Build.ipv6(next: 44, payload: frag + Self.udpDgram)))
        #expect(p.errors.isEmpty)
        #expect(p.ipv6Extensions.first?.fragmentOffset == 0)
        #expect(p.ipv6Extensions.first?.moreFragments == true)
        #expect(p.ipv6Extensions.first?.identification == 0xCAFE)
        // A first fragment: the transport header is decoded, its checksum (over the whole datagram) not verified.
        #expect(p.udp?.checksumStatus == .unverified)
    }

    @Test func jumbogramUsesTheJumboPayloadLength() {
        // RFC 2675: payload length 0 and a hop-by-hop Jumbo Payload option (> 65535).
        let payload = [UInt8](repeating: 0x5A, count: 70_000)
        let udp = Build.udp(.v6AB, payload: payload, length: 0)  // UDP length 0 for a jumbogram (RFC 2675 §4)
        let total = 8 + udp.count
        let hbh: [UInt8] = [17, 0, 0xC2, 4] + be32(UInt32(total))
        let p = decode(Build.eth6(Build.ipv6(next: 0, payload: hbh + udp, payloadLength: 0)))
        #expect(p.ipv6?.jumboPayloadLength == UInt32(total))
        #expect(p.ipv6Extensions.map(\.kind) == [.hopByHop])
        #expect(p.udp?.sourcePort == 40000)
        // UDP jumbograms carry length 0 (RFC 2675), which netinspect reports as a bad UDP length.
        #expect(p.errors.allSatisfy { $0.layer == .udp })
    }

    @Test func payloadLengthZeroWithoutJumboOptionIsReported() {
        let hbh = Self.ext8(next: 17)
        let p = decode(Build.eth6(Build.ipv6(next: 0, payload: hbh + Self.udpDgram, payloadLength: 0)))
        let e = expectOneError(p, .malformed, .ipv6, offset: 18)
        #expect(badValueField(e) == "payload length 0 without jumbo option")
        // The chain is still walked over what the frame holds.
        #expect(p.ipv6Extensions.map(\.kind) == [.hopByHop])
        #expect(p.udp?.sourcePort == 40000)
        // A jumbo option with a length that fits the 16-bit field is not a jumbogram either.
        let small: [UInt8] = [17, 0, 0xC2, 4] + be32(100)
        let q = decode(Build.eth6(Build.ipv6(next: 0, payload: small + Self.udpDgram, payloadLength: 0)))
        #expect(badValueField(q.errors.first) == "jumbo payload length")
        #expect(badValue(q.errors.first) == 100)
    }

    @Test func optionRunningPastItsHeaderIsReportedAndDecodingGoesOn() {
        // A PadN claiming 255 bytes inside an 8-byte hop-by-hop header, then a good one, Pad1s, a router alert.
        let bad: [UInt8] = [60, 0, 1, 255, 0, 0, 0, 0]
        let good: [UInt8] = [17, 0, 0, 0, 5, 2, 0, 0]
        let p = decode(Build.eth6(Build.ipv6(next: 0, payload: bad + good + Self.udpDgram)))
        let e = expectOneError(p, .malformed, .ipv6, offset: 14 + 40 + 3)
        #expect(badValueField(e) == "option length")
        #expect(badValue(e) == 255)
        #expect(p.ipv6Extensions.map(\.kind) == [.hopByHop, .destinationOptions])
        #expect(p.udp?.checksumStatus == .ok)
        #expect(decode(Build.eth6(Build.ipv6(next: 60, payload: good + Self.udpDgram))).errors.isEmpty)
    }

    @Test func hopByHopOptionOverrunningItsHeaderIsMalformed() {
        // Payload length 0 makes the decoder look for a jumbo option: a PadN claiming 200 bytes.
        let hbh: [UInt8] = [17, 0, 1, 200, 0, 0, 0, 0]
        let p = decode(Build.eth6(Build.ipv6(next: 0, payload: hbh + Self.udpDgram, payloadLength: 0)))
        let e = expectOneError(p, .malformed, .ipv6)
        #expect(badValueField(e) == "hop-by-hop option length")
    }
}
