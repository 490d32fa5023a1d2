import Testing
@testable import NetWire

@Suite("ICMPv6")
struct ICMPv6Tests {
    static let solicitedNode: [UInt8] = [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0, 0, 0x53]
    static let nsAddrs = Addrs.v6(src: ip6A, dst: solicitedNode)
    /// fe80::1, a router's link-local address.
    static let linkLocal: [UInt8] = [0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    static let allNodes: [UInt8] = [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    static let raAddrs = Addrs.v6(src: linkLocal, dst: allNodes)

    /// A neighbour discovery option: type, length in 8-byte units, the data padded to a multiple of 8.
    static func option(_ type: UInt8, _ data: [UInt8]) -> [UInt8] {
        let total = (data.count + 2 + 7) / 8 * 8
        return [type, UInt8(total / 8)] + data + [UInt8](repeating: 0, count: total - 2 - data.count)
    }

    static func frame(_ a: Addrs = .v6AB, type: UInt8, code: UInt8 = 0, rest: UInt32 = 0, data: [UInt8],
                      hopLimit: UInt8 = 255) -> [UInt8] {
        Build.eth6(Build.ipv6(a, next: 58, payload: Build.icmpv6(a, type: type, code: code, rest: rest, data: data),
                              hopLimit: hopLimit))
    }

    static func echoFrame(checksum: ChecksumMode = .correct) -> [UInt8] {
        let m = Build.icmpv6(type: 128, code: 0, rest: 0xABCD_0007, data: Array("ping6 data......".utf8), checksum: checksum)
        return Build.eth6(Build.ipv6(next: 58, payload: m))
    }

    /// A neighbour solicitation (or, with type 136, advertisement) for ip6B with a source
    /// link-layer address option holding macB.
    static func nsFrame(type: UInt8 = 135) -> [UInt8] {
        let m = Build.icmpv6(nsAddrs, type: type, code: 0, rest: 0, data: ip6B + [1, 1] + macB)
        return Build.eth6(Build.ipv6(nsAddrs, next: 58, payload: m, hopLimit: 255))
    }

    static func raFrame() -> [UInt8] {
        // hop limit 64, flags O (0x40), router lifetime 1800; reachable 30000 ms, retrans 1000 ms
        let prefix = [64, 0xC0] + be32(86400) + be32(14400) + [0, 0, 0, 0] + ip6A
        let body = be32(30000) + be32(1000) + option(1, macA) + option(5, [0, 0] + be32(1500)) + option(3, prefix)
        return frame(raAddrs, type: 134, rest: 64 << 24 | 0x40 << 16 | 1800, data: body)
    }

    /// The first `n` bytes of a UDP datagram from ip6A:40123 to ip6B:33434 (after `ext` extension bytes).
    static func quotedUDP(_ n: Int = 70, next: UInt8 = 17, ext: [UInt8] = []) -> [UInt8] {
        let udp = Build.udp(.v6AB, sport: 40123, dport: 33434, payload: Array("probe-data".utf8))
        return Array(Build.ipv6(next: next, payload: ext + udp, hopLimit: 1).prefix(n))
    }

    static func errorFrame(type: UInt8, code: UInt8, rest: UInt32 = 0, quoted: [UInt8]) -> [UInt8] {
        frame(.v6(src: ip6B, dst: ip6A), type: type, code: code, rest: rest, data: quoted, hopLimit: 64)
    }

    // MARK: echo

    @Test func echoRequest() {
        let p = decode(Self.echoFrame())
        #expect(p.errors.isEmpty)
        let m = p.icmpv6
        #expect(m?.type == 128)
        #expect(m?.code == 0)
        #expect(m?.restOfHeader == 0xABCD_0007)
        #expect(m?.identifier == 0xABCD)
        #expect(m?.sequence == 7)
        #expect(m?.checksumStatus == .ok)
        #expect(m?.dataLength == 16)
        #expect(m?.target == nil)
        #expect(m?.quoted == nil)
        #expect(m?.optionCount == 0)
        #expect(p.payloadStart == 62)
        #expect(p.payloadEnd == 78)
    }

    @Test func badAndPartialChecksum() {
        #expect(decode(Self.echoFrame(checksum: .bad)).icmpv6?.checksumStatus == .bad)
        // No transmit offload for ICMPv6: a field holding the pseudo-header sum is just wrong.
        #expect(decode(Self.echoFrame(checksum: .partial)).icmpv6?.checksumStatus == .bad)
        #expect(decode(Self.echoFrame(checksum: .partialComplemented)).icmpv6?.checksumStatus == .bad)
        #expect(decode(Self.echoFrame(), verifyChecksums: false).icmpv6?.checksumStatus == .unverified)
    }

    // MARK: neighbour discovery

    @Test(arguments: [UInt8(135), 136])
    func neighbourDiscoveryTargetAndOption(type: UInt8) {
        let p = decode(Self.nsFrame(type: type))
        #expect(p.errors.isEmpty)
        #expect(p.ipv6?.hopLimit == 255)
        #expect(p.icmpv6?.type == type)
        #expect(p.icmpv6?.checksumStatus == .ok)
        #expect(p.icmpv6?.target == ipv6(ip6B))
        #expect(p.icmpv6?.dataLength == 24)
        #expect(p.icmpv6?.optionCount == 1)
        #expect(p.icmpv6?.sourceLinkAddress == mac(macB))
        #expect(p.icmpv6?.targetLinkAddress == nil)
        // The address a solicitation tells about is its sender's; an advertisement's is its target's.
        #expect(p.icmpv6?.linkAddress == (type == 135 ? mac(macB) : nil))
    }

    @Test func neighbourAdvertisementFlagsAndTargetLinkAddress() {
        let rest = ICMPv6Message.flagSolicited | ICMPv6Message.flagOverride
        let f = Self.frame(.v6(src: Self.linkLocal, dst: ip6A), type: 136, rest: rest, data: Self.linkLocal + Self.option(2, macB))
        let p = decode(f)
        #expect(p.errors.isEmpty)
        let m = p.icmpv6
        #expect(m?.target == ipv6(Self.linkLocal))
        #expect(m?.targetLinkAddress == mac(macB))
        #expect(m?.linkAddress == mac(macB))
        #expect(m.map { $0.restOfHeader & ICMPv6Message.flagRouter } == 0)
        #expect(m.map { $0.restOfHeader & ICMPv6Message.flagSolicited } != 0)
        #expect(m?.checksumStatus == .ok)
    }

    @Test func neighbourSolicitationWithoutTargetIsMalformed() {
        let m = Build.icmpv6(Self.nsAddrs, type: 135, code: 0, rest: 0, data: [1, 2, 3, 4])
        let p = decode(Build.eth6(Build.ipv6(Self.nsAddrs, next: 58, payload: m, hopLimit: 255)))
        expectOneError(p, .malformed, .icmpv6, offset: 62)
        #expect(p.icmpv6?.type == 135)
        #expect(p.icmpv6?.target == nil)
    }

    @Test func routerSolicitationWithoutOptions() {
        let p = decode(Self.frame(.v6(src: ip6A, dst: Self.allNodes), type: 133, data: []))
        #expect(p.errors.isEmpty)
        #expect(p.icmpv6?.type == 133)
        #expect(p.icmpv6?.optionCount == 0)
        #expect(p.icmpv6?.linkAddress == nil)
    }

    @Test func routerAdvertisementOptions() {
        let p = decode(Self.raFrame())
        #expect(p.errors.isEmpty)
        let m = p.icmpv6
        #expect(m?.type == 134)
        #expect(m?.checksumStatus == .ok)
        #expect(m.map { $0.restOfHeader >> 24 } == 64)
        #expect(m.map { $0.restOfHeader & 0xFFFF } == 1800)
        #expect(m?.optionCount == 3)
        #expect(m?.sourceLinkAddress == mac(macA))
        #expect(m?.linkAddress == mac(macA))
        #expect(m?.mtuOption == 1500)
        #expect(m?.prefix == ipv6(ip6A))
        #expect(m?.prefixLength == 64)
    }

    @Test func redirectTargetDestinationAndLinkAddress() {
        let data = Self.linkLocal + ip6B + Self.option(2, macB) + Self.option(4, [0, 0, 0, 0, 0, 0] + Self.quotedUDP(48))
        let p = decode(Self.frame(.v6(src: Self.linkLocal, dst: ip6A), type: 137, data: data))
        #expect(p.errors.isEmpty)
        let m = p.icmpv6
        #expect(m?.target == ipv6(Self.linkLocal))
        #expect(m?.redirectDestination == ipv6(ip6B))
        #expect(m?.linkAddress == mac(macB))
        #expect(m?.optionCount == 2)
    }

    @Test func unknownAndLongLinkAddressOptionsAreWalked() {
        // A 16-byte source link-layer address option (not a MAC) and an unknown option type 200.
        let data = ip6B + Self.option(1, [UInt8](repeating: 0xEE, count: 14)) + Self.option(200, [1, 2, 3]) + Self.option(1, macA)
        let p = decode(Self.frame(Self.nsAddrs, type: 135, data: data))
        #expect(p.errors.isEmpty)
        #expect(p.icmpv6?.optionCount == 3)
        #expect(p.icmpv6?.sourceLinkAddress == mac(macA))
    }

    @Test func optionLengthZeroIsMalformed() {
        // The classic infinite-loop trap: an option that would not advance the walk.
        let data = ip6B + Self.option(1, macB) + [1, 0, 0, 0, 0, 0, 0, 0]
        let p = decode(Self.frame(Self.nsAddrs, type: 135, data: data))
        let e = expectOneError(p, .malformed, .icmpv6, offset: 14 + 40 + 24 + 8 + 1)
        #expect(badValueField(e) == "option length")
        #expect(badValue(e) == 0)
        #expect(p.icmpv6?.target == ipv6(ip6B))  // what came before is kept
        #expect(p.icmpv6?.sourceLinkAddress == mac(macB))
        #expect(p.icmpv6?.optionCount == 1)
    }

    @Test func optionRunningPastTheMessageIsMalformedPastTheCaptureTruncated() {
        // The option claims 16 bytes, the message holds 8 of them.
        let data = ip6B + [1, 2] + macB
        let f = Self.frame(Self.nsAddrs, type: 135, data: data)
        let p = decode(f)
        let e = expectOneError(p, .malformed, .icmpv6)
        #expect(e?.detail == .pastDeclaredLength(14))
        // The same bytes as a capture cut short of a whole option.
        let whole = Self.frame(Self.nsAddrs, type: 135, data: ip6B + Self.option(1, macB))
        let q = decode(Array(whole.prefix(whole.count - 3)), wireLength: whole.count)
        expectOneError(q, .truncated, .icmpv6)
        #expect(q.icmpv6?.target == ipv6(ip6B))
    }

    // MARK: errors and their quotes

    @Test func portUnreachableQuotesUDP() {
        let p = decode(Self.errorFrame(type: 1, code: 4, quoted: Self.quotedUDP()))
        #expect(p.errors.isEmpty)
        let m = p.icmpv6
        #expect(m?.isError == true)
        #expect(m?.checksumStatus == .ok)
        let q = m?.quoted
        #expect(q?.source == ipv6(ip6A))
        #expect(q?.destination == ipv6(ip6B))
        #expect(q?.nextHeader == .udp)
        #expect(q?.proto == .udp)
        #expect(q?.sourcePort == 40123)
        #expect(q?.destinationPort == 33434)
    }

    @Test func quoteWalksExtensionHeaders() {
        let dstopt: [UInt8] = [17, 0, 1, 4, 0, 0, 0, 0]
        let p = decode(Self.errorFrame(type: 3, code: 0, quoted: Self.quotedUDP(78, next: 60, ext: dstopt)))
        #expect(p.errors.isEmpty)
        #expect(p.icmpv6?.quoted?.nextHeader == .destinationOptions)
        #expect(p.icmpv6?.quoted?.proto == .udp)
        #expect(p.icmpv6?.quoted?.destinationPort == 33434)
    }

    @Test func quoteOfANonFirstFragmentHasNoPorts() {
        let frag: [UInt8] = [17, 0] + be16(100 << 3) + be32(9)
        let p = decode(Self.errorFrame(type: 3, code: 1, quoted: Self.quotedUDP(78, next: 44, ext: frag)))
        #expect(p.errors.isEmpty)
        #expect(p.icmpv6?.quoted?.proto == .fragment)
        #expect(p.icmpv6?.quoted?.sourcePort == nil)
    }

    @Test func quoteEndingBeforeThePortsIsNotAnError() {
        // RFC 4443 asks for as much of the packet as fits; 42 bytes leave no room for both ports.
        let p = decode(Self.errorFrame(type: 1, code: 4, quoted: Self.quotedUDP(42)))
        #expect(p.errors.isEmpty)
        #expect(p.icmpv6?.quoted?.destination == ipv6(ip6B))
        #expect(p.icmpv6?.quoted?.destinationPort == nil)
    }

    @Test(arguments: [41, 43, 46])
    func quoteEndingInsideAnExtensionHeaderIsNotAnError(_ n: Int) {
        let frag: [UInt8] = [17, 0] + be16(0) + be32(9)
        let p = decode(Self.errorFrame(type: 1, code: 4, quoted: Self.quotedUDP(n, next: 44, ext: frag)))
        #expect(p.errors.isEmpty)
        #expect(p.icmpv6?.quoted?.proto == .fragment)
        #expect(p.icmpv6?.quoted?.destinationPort == nil)
    }

    @Test func quoteCutByTheCaptureIsTruncated() {
        let f = Self.errorFrame(type: 1, code: 4, quoted: Self.quotedUDP())
        let p = decode(Array(f.prefix(62 + 42)), wireLength: f.count)
        expectOneError(p, .truncated, .icmpv6)
        #expect(p.icmpv6?.quoted?.destination == ipv6(ip6B))
        #expect(p.icmpv6?.quoted?.destinationPort == nil)
    }

    @Test func quoteWithTheWrongVersionIsMalformed() {
        var quoted = Self.quotedUDP()
        quoted[0] = 0x45
        let p = decode(Self.errorFrame(type: 1, code: 4, quoted: quoted))
        let e = expectOneError(p, .malformed, .icmpv6, offset: 62)
        #expect(badValueField(e) == "quoted IP version")
        #expect(p.icmpv6?.type == 1)
        #expect(p.icmpv6?.quoted == nil)
    }

    @Test func quotedExtensionLoopIsBounded() {
        var chain: [UInt8] = []
        for _ in 0 ..< 12 { chain += [60, 0, 1, 4, 0, 0, 0, 0] }
        let p = decode(Self.errorFrame(type: 4, code: 1, rest: 40, quoted: Self.quotedUDP(200, next: 60, ext: chain)))
        let e = expectOneError(p, .malformed, .icmpv6)
        #expect(badValueField(e) == "quoted extension header chain length")
        #expect(p.icmpv6?.restOfHeader == 40)
    }

    @Test func packetTooBigCarriesTheMTU() {
        let p = decode(Self.errorFrame(type: 2, code: 0, rest: 1280, quoted: Self.quotedUDP()))
        #expect(p.errors.isEmpty)
        #expect(p.icmpv6?.restOfHeader == 1280)
        #expect(p.icmpv6?.quoted?.sourcePort == 40123)
    }

    // MARK: MLD

    @Test func mldReportAndV2Query() {
        let group: [UInt8] = [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFB]
        let report = decode(Self.frame(.v6(src: Self.linkLocal, dst: group), type: 131, data: group, hopLimit: 1))
        #expect(report.errors.isEmpty)
        #expect(report.icmpv6?.multicastAddress == ipv6(group))
        #expect(report.icmpv6?.mldSourceCount == nil)
        // MLDv2 query (28 bytes or more): flags/QRV, QQIC, number of sources, the sources.
        let query = decode(Self.frame(Self.raAddrs, type: 130, rest: 1000 << 16, data: group + [2, 125] + be16(1) + ip6A, hopLimit: 1))
        #expect(query.errors.isEmpty)
        #expect(query.icmpv6?.multicastAddress == ipv6(group))
        #expect(query.icmpv6?.mldSourceCount == 1)
        #expect(query.icmpv6?.identifier == 1000)
    }

    // MARK: cut anywhere

    @Test func prefixes() {
        let f = Self.nsFrame()
        #expect(f.count == 86)
        expectPrefixes(f, cuts: [(14, .ethernet), (54, .ipv6), (86, .icmpv6)]) { k, p in
            if k >= 62 && k < 78 {
                #expect(p.icmpv6?.type == 135)
                #expect(p.icmpv6?.target == nil)
            }
            if k >= 78 { #expect(p.icmpv6?.target == ipv6(ip6B)) }
        }
        expectPrefixes(Self.echoFrame(), cuts: [(14, .ethernet), (54, .ipv6), (62, .icmpv6)])
        expectPrefixes(Self.raFrame(), cuts: [(14, .ethernet), (54, .ipv6), (Self.raFrame().count, .icmpv6)])
        let err = Self.errorFrame(type: 1, code: 4, quoted: Self.quotedUDP())
        expectPrefixes(err, cuts: [(14, .ethernet), (54, .ipv6), (62 + 44, .icmpv6)]) { k, p in
            if k >= 62 + 44 { #expect(p.icmpv6?.quoted?.destinationPort == 33434) }
        }
    }
}
