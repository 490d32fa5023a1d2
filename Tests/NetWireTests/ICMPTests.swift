import Testing
@testable import NetWire

@Suite("ICMP")
struct ICMPTests {
    static let back = Addrs.v4(src: ip4B, dst: ip4A)

    static func echoFrame(type: UInt8 = 8, checksum: ChecksumMode = .correct) -> [UInt8] {
        let data = (0 ..< 32).map { UInt8($0) }
        return Build.eth4(Build.ipv4(proto: 1, payload: Build.icmp(type: type, code: 0, rest: 0x1234_0001, data: data, checksum: checksum)))
    }

    /// The first `n` bytes of the datagram the ICMP error is about.
    static func quotedUDP(_ n: Int = 28, options: [UInt8] = []) -> [UInt8] {
        let orig = Build.ipv4(proto: 17, payload: Build.udp(sport: 40123, dport: 33434, payload: [UInt8](repeating: 0x55, count: 10)),
                              ttl: 1, options: options)
        return Array(orig.prefix(n))
    }

    static func errorFrame(type: UInt8, code: UInt8, quoted: [UInt8], checksum: ChecksumMode = .correct) -> [UInt8] {
        Build.eth4(Build.ipv4(back, proto: 1, payload: Build.icmp(type: type, code: code, rest: 0, data: quoted, checksum: checksum)))
    }

    @Test func echoRequest() {
        let p = decode(Self.echoFrame())
        #expect(p.errors.isEmpty)
        let m = p.icmp
        #expect(m?.type == ICMPMessage.echoRequest)
        #expect(m?.code == 0)
        #expect(m?.identifier == 0x1234)
        #expect(m?.sequence == 1)
        #expect(m?.restOfHeader == 0x1234_0001)
        #expect(m?.checksumStatus == .ok)
        #expect(m?.dataLength == 32)
        #expect(m?.quoted == nil)
        #expect(p.payloadStart == 42)
        #expect(p.payloadEnd == 74)
    }

    @Test func echoReplyAndBadChecksum() {
        let p = decode(Self.echoFrame(type: 0))
        #expect(p.icmp?.type == ICMPMessage.echoReply)
        #expect(p.icmp?.checksumStatus == .ok)
        let q = decode(Self.echoFrame(checksum: .bad))
        #expect(q.errors.isEmpty)
        #expect(q.icmp?.checksumStatus == .bad)
        let r = decode(Self.echoFrame(checksum: .bad), verifyChecksums: false)
        #expect(r.icmp?.checksumStatus == .unverified)
    }

    @Test func portUnreachableQuotesUDPPorts() {
        let f = Self.errorFrame(type: 3, code: 3, quoted: Self.quotedUDP())
        let p = decode(f)
        #expect(p.errors.isEmpty)
        let m = p.icmp
        #expect(m?.type == ICMPMessage.destinationUnreachable)
        #expect(m?.code == 3)
        #expect(m?.checksumStatus == .ok)
        #expect(m?.dataLength == 28)
        #expect(m?.quoted?.source == ipv4(ip4A))
        #expect(m?.quoted?.destination == ipv4(ip4B))
        #expect(m?.quoted?.proto == .udp)
        #expect(m?.quoted?.sourcePort == 40123)
        #expect(m?.quoted?.destinationPort == 33434)
        #expect(p.ipv4?.source == ipv4(ip4B))
        #expect(p.udp == nil)
    }

    @Test func timeExceededQuotesTheEchoProbe() {
        // traceroute's ICMP probe: an echo request (id 0x0500, seq 0x3800) quoted in a time exceeded.
        let probe = Build.ipv4(proto: 1, payload: Build.icmp(type: 8, code: 0, rest: 0x0500_3800, data: [1, 2, 3, 4], checksum: .correct), ttl: 1)
        let p = decode(Self.errorFrame(type: 11, code: 0, quoted: Array(probe.prefix(28))))
        #expect(p.errors.isEmpty)
        #expect(p.icmp?.quoted?.proto == .icmp)
        #expect(p.icmp?.quoted?.echoIdentifier == 0x0500 && p.icmp?.quoted?.echoSequence == 0x3800)
        // Quoted only up to the ICMP type: no id, and no error either.
        let q = decode(Self.errorFrame(type: 11, code: 0, quoted: Array(probe.prefix(24))))
        #expect(q.errors.isEmpty)
        #expect(q.icmp?.quoted?.echoIdentifier == nil && q.icmp?.quoted?.proto == .icmp)
        // A quoted ICMP message that is not an echo has none.
        let other = Build.ipv4(proto: 1, payload: Build.icmp(type: 13, code: 0, rest: 0x0500_3800, data: [], checksum: .correct), ttl: 1)
        #expect(decode(Self.errorFrame(type: 11, code: 0, quoted: Array(other.prefix(28)))).icmp?.quoted?.echoIdentifier == nil)
    }

    @Test func quotedHeaderWithOptions() {
        let f = Self.errorFrame(type: 3, code: 3, quoted: Self.quotedUDP(32, options: [0x94, 4, 0, 0]))
        let p = decode(f)
        #expect(p.errors.isEmpty)
        #expect(p.icmp?.quoted?.sourcePort == 40123)
        #expect(p.icmp?.quoted?.destinationPort == 33434)
    }

    @Test func timeExceededQuotesTCP() {
        let orig = Build.ipv4(proto: 6, payload: Build.tcp(sport: 51000, dport: 443, flags: 0x002), ttl: 1)
        let f = Self.errorFrame(type: 11, code: 0, quoted: Array(orig.prefix(28)))
        let p = decode(f)
        #expect(p.errors.isEmpty)
        #expect(p.icmp?.type == ICMPMessage.timeExceeded)
        #expect(p.icmp?.code == 0)
        #expect(p.icmp?.checksumStatus == .ok)
        #expect(p.icmp?.quoted?.proto == .tcp)
        #expect(p.icmp?.quoted?.sourcePort == 51000)
        #expect(p.icmp?.quoted?.destinationPort == 443)
    }

    @Test func quotedNonTransportHasNoPorts() {
        let orig = Build.ipv4(proto: 1, payload: Build.icmp(type: 8, code: 0, rest: 1, data: []))
        let p = decode(Self.errorFrame(type: 3, code: 1, quoted: orig))
        #expect(p.errors.isEmpty)
        #expect(p.icmp?.quoted?.proto == .icmp)
        #expect(p.icmp?.quoted?.sourcePort == nil)
    }

    @Test func quotedHeaderBadVersionIsMalformed() {
        var q = Self.quotedUDP()
        q[0] = 0x65
        let p = decode(Self.errorFrame(type: 3, code: 3, quoted: q))
        let e = expectOneError(p, .malformed, .icmp, offset: 42)
        #expect(badValueField(e) == "quoted IP header")
        #expect(p.icmp?.type == 3)
        #expect(p.icmp?.checksumStatus == .ok)
        #expect(p.icmp?.quoted == nil)
        var r = Self.quotedUDP()
        r[0] = 0x44  // IHL 4
        expectOneError(decode(Self.errorFrame(type: 3, code: 3, quoted: r)), .malformed, .icmp, offset: 42)
    }

    @Test func quotedDataShorterThanHeaderIsMalformedWhenCaptured() {
        let f = Self.errorFrame(type: 3, code: 3, quoted: Self.quotedUDP(10))
        let p = decode(f)
        expectOneError(p, .malformed, .icmp)
        #expect(p.icmp?.code == 3)
        // The addresses are there, the ports are not.
        let g = Self.errorFrame(type: 3, code: 3, quoted: Self.quotedUDP(22))
        let q = decode(g)
        expectOneError(q, .malformed, .icmp)
        #expect(q.icmp?.quoted?.destination == ipv4(ip4B))
        #expect(q.icmp?.quoted?.sourcePort == nil)
    }

    @Test func echoPrefixes() {
        expectPrefixes(Self.echoFrame(), cuts: [(14, .ethernet), (34, .ipv4), (42, .icmp)]) { k, p in
            if k >= 42 {
                #expect(p.icmp?.checksumStatus == .unverified)
                #expect(p.icmp?.dataLength == 32)
                #expect(p.payloadEnd == k)
            }
        }
    }

    @Test func unreachablePrefixes() {
        let f = Self.errorFrame(type: 3, code: 3, quoted: Self.quotedUDP())
        #expect(f.count == 70)
        expectPrefixes(f, cuts: [(14, .ethernet), (34, .ipv4), (66, .icmp)]) { k, p in
            if k >= 62 && k < 66 {
                #expect(p.icmp?.quoted?.destination == ipv4(ip4B))
                #expect(p.icmp?.quoted?.sourcePort == nil)
            }
            if k >= 66 { #expect(p.icmp?.quoted?.destinationPort == 33434) }
        }
    }

    @Test func icmpOnlyUnderTheRightIPVersion() {
        // Protocol 1 inside IPv6 and 58 inside IPv4 are not decoded.
        let a = decode(Build.eth6(Build.ipv6(next: 1, payload: Build.icmp(type: 8, code: 0, rest: 0, data: []))))
        #expect(a.errors.isEmpty)
        #expect(a.icmp == nil && a.icmpv6 == nil)
        let b = decode(Build.eth4(Build.ipv4(proto: 58, payload: Build.icmp(type: 128, code: 0, rest: 0, data: []))))
        #expect(b.errors.isEmpty)
        #expect(b.icmp == nil && b.icmpv6 == nil)
    }
}
