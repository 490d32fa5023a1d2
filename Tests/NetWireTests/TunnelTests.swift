import Testing
@testable import NetWire

/// Encapsulations: for each, known-good bytes → fields and the inner packet; every truncated prefix
/// → one truncation error somewhere in the packet chain, never a trap; a crafted bad field → malformed.
@Suite("Tunnels") struct TunnelTests {
    static let innerTCP = Build.ipv4(.v4(src: [10, 1, 0, 1], dst: [10, 1, 0, 2]), proto: 6,
                                     payload: Build.tcp(.v4(src: [10, 1, 0, 1], dst: [10, 1, 0, 2]), sport: 1234, dport: 80, flags: 0x002))
    static let innerEth = Build.ethernet(type: 0x0800, payload: innerTCP)

    static func vxlan(flags: UInt8 = 0x08, vni: UInt32 = 100) -> [UInt8] {
        let v: [UInt8] = [flags, 0, 0, 0] + be32(vni << 8)
        return Build.udp4Frame(sport: 50000, dport: 4789, payload: v + innerEth)
    }

    static func geneve(options: [UInt8] = [], version: UInt8 = 0, proto: UInt16 = 0x6558, body: [UInt8] = innerEth) -> [UInt8] {
        let g: [UInt8] = [version << 6 | UInt8(options.count / 4), 0] + be16(proto) + be32(7 << 8) + options
        return Build.udp4Frame(sport: 50000, dport: 6081, payload: g + body)
    }

    static func gre(flags: UInt16 = 0x3000, proto: UInt16 = 0x0800, body: [UInt8] = innerTCP) -> [UInt8] {
        var g = be16(flags) + be16(proto)
        if flags & 0x2000 != 0 { g += be32(42) }
        if flags & 0x1000 != 0 { g += be32(5) }
        return Build.eth4(Build.ipv4(proto: 47, payload: g + body))
    }

    /// Every error in the packet and the packets inside it.
    static func allErrors(_ p: Packet) -> [DecodeError] {
        var e = p.errors
        var box = p.inner
        while let b = box { e += b.packet.errors; box = b.packet.inner }
        return e
    }

    static func innermost(_ p: Packet) -> Packet { p.innermost?.packet ?? p }

    /// Every proper prefix decodes with exactly one error in the chain, a truncation; the whole frame with none.
    static func expectAllPrefixesTruncated(_ full: [UInt8], trailer: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) {
        var problems: [String] = []
        var p = Packet()
        for k in 0 ..< full.count - trailer {
            decode(Array(full[0 ..< k]), wireLength: full.count, into: &p)
            let e = allErrors(p)
            if e.count != 1 || e[0].kind != .truncated { problems.append("prefix \(k): \(e)") }
        }
        decode(full, into: &p)
        if !allErrors(p).isEmpty { problems.append("whole: \(allErrors(p))") }
        #expect(problems.isEmpty, "\(problems.prefix(6).joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    static func expectInnerSYN(_ p: Packet, sourceLocation: SourceLocation = #_sourceLocation) {
        let q = innermost(p)
        #expect(q.ipv4?.source == IPv4Address(10, 1, 0, 1), sourceLocation: sourceLocation)
        #expect(q.tcp?.sourcePort == 1234, sourceLocation: sourceLocation)
        #expect(q.tcp?.destinationPort == 80, sourceLocation: sourceLocation)
        #expect(q.tcp?.checksumStatus == .ok, sourceLocation: sourceLocation)
        #expect(q.depth >= 1, sourceLocation: sourceLocation)
    }

    @Test func vxlanGood() {
        let p = decode(Self.vxlan())
        #expect(allErrorsEmpty(p))
        #expect(p.vxlan?.vni == 100)
        #expect(p.inner?.encapsulation == .vxlan)
        #expect(p.inner?.packet.ethernet?.etherType == .ipv4)
        Self.expectInnerSYN(p)
        // The outer layers keep their place.
        #expect(p.udp?.destinationPort == 4789)
        #expect(p.ipv4?.source == IPv4Address(ip4A[0], ip4A[1], ip4A[2], ip4A[3]))
    }

    @Test func vxlanPrefixes() { Self.expectAllPrefixesTruncated(Self.vxlan()) }

    @Test func vxlanWithoutVNIFlag() {
        let p = decode(Self.vxlan(flags: 0))
        expectOneError(p, .malformed, .vxlan)
        #expect(p.inner == nil)
    }

    @Test func geneveWithOptions() {
        let opts: [UInt8] = be16(0x0102) + [0x80, 1] + be32(0xDEADBEEF) + be16(0x0103) + [0x05, 0] // 8 + 4 bytes
        let p = decode(Self.geneve(options: opts))
        #expect(allErrorsEmpty(p))
        #expect(p.geneve?.vni == 7)
        #expect(p.geneve?.optionsLength == 12)
        #expect(p.geneve?.options.count == 2)
        #expect(p.geneve?.options.first?.optionClass == 0x0102)
        #expect(p.geneve?.options.first?.length == 4)
        Self.expectInnerSYN(p)
        Self.expectAllPrefixesTruncated(Self.geneve(options: opts))
        // Straight IPv4 payload (protocol 0x0800).
        let q = decode(Self.geneve(proto: 0x0800, body: Self.innerTCP))
        Self.expectInnerSYN(q)
        #expect(q.inner?.packet.ethernet == nil)
    }

    @Test func geneveBadFields() {
        expectOneError(decode(Self.geneve(version: 1)), .malformed, .geneve)
        // An option whose length runs past the options area.
        let bad: [UInt8] = be16(0x0102) + [0x80, 2] + be32(0)
        expectOneError(decode(Self.geneve(options: bad)), .malformed, .geneve)
    }

    @Test func greKeySequence() {
        let p = decode(Self.gre())
        #expect(allErrorsEmpty(p))
        #expect(p.gre?.key == 42)
        #expect(p.gre?.sequence == 5)
        #expect(p.gre?.protocolType == .ipv4)
        Self.expectInnerSYN(p)
        Self.expectAllPrefixesTruncated(Self.gre())
        // Transparent Ethernet bridging.
        let b = decode(Self.gre(flags: 0, proto: 0x6558, body: Self.innerEth))
        #expect(b.inner?.packet.ethernet != nil)
        Self.expectInnerSYN(b)
        Self.expectAllPrefixesTruncated(Self.gre(flags: 0, proto: 0x6558, body: Self.innerEth))
    }

    @Test func greBadVersion() {
        let p = decode(Self.gre(flags: 0x0002))
        expectOneError(p, .malformed, .gre)
        #expect(p.inner == nil)
    }

    @Test func ipInIPAndIPv6() {
        let p = decode(Build.eth4(Build.ipv4(proto: 4, payload: Self.innerTCP)))
        #expect(allErrorsEmpty(p))
        #expect(p.inner?.encapsulation == .ipInIP)
        Self.expectInnerSYN(p)
        Self.expectAllPrefixesTruncated(Build.eth4(Build.ipv4(proto: 4, payload: Self.innerTCP)))
        // IPv4 in IPv6, IPv6 in IPv4, IPv6 in IPv6.
        let v4in6 = decode(Build.eth6(Build.ipv6(next: 4, payload: Self.innerTCP)))
        Self.expectInnerSYN(v4in6)
        let tcp6 = Build.ipv6(next: 6, payload: Build.tcp(.v6AB, flags: 0x002))
        let v6in4 = decode(Build.eth4(Build.ipv4(proto: 41, payload: tcp6)))
        #expect(v6in4.inner?.packet.ipv6 != nil)
        #expect(v6in4.inner?.packet.tcp?.checksumStatus == .ok)
        let v6in6 = decode(Build.eth6(Build.ipv6(next: 41, payload: tcp6)))
        #expect(v6in6.inner?.packet.tcp?.checksumStatus == .ok)
    }

    @Test func nestingIsBounded() {
        var ip = Self.innerTCP
        for _ in 0 ..< 12 { ip = Build.ipv4(proto: 4, payload: ip) }
        let p = decode(Build.eth4(ip))
        var depth = 0
        var box = p.inner
        while let b = box { depth += 1; box = b.packet.inner }
        #expect(depth == PacketDecoder.maxEncapsulationDepth - 1)
        let e = Self.allErrors(p)
        #expect(e.count == 1 && e.first?.kind == .malformed)
    }

    @Test func mplsStack() {
        let labels = be32(100 << 12 | 64) + be32(200 << 12 | 0x100 | 63)
        let frame = Build.ethernet(type: 0x8847, payload: labels + Self.innerTCP)
        let p = decode(frame)
        #expect(allErrorsEmpty(p))
        #expect(p.mpls.map(\.label) == [100, 200])
        #expect(p.mpls.last?.bottomOfStack == true)
        #expect(p.mpls.first?.ttl == 64)
        // A shim: the network layer stays in the same packet.
        #expect(p.ipv4?.source == IPv4Address(10, 1, 0, 1))
        #expect(p.tcp?.checksumStatus == .ok)
        #expect(p.inner == nil)
        Self.expectAllPrefixesTruncated(frame)
        // No bottom-of-stack bit in 16 labels: malformed.
        let endless = (0 ..< 20).flatMap { _ in be32(5 << 12 | 64) }
        expectOneError(decode(Build.ethernet(type: 0x8847, payload: endless)), .malformed, .mpls)
    }

    static func pppoe(vt: UInt8 = 0x11, proto: UInt16 = 0x0021, body: [UInt8] = innerTCP) -> [UInt8] {
        Build.ethernet(type: 0x8864, payload: [vt, 0] + be16(0x11) + be16(UInt16(body.count + 2)) + be16(proto) + body)
    }

    @Test func pppoeSession() {
        let p = decode(Self.pppoe())
        #expect(allErrorsEmpty(p))
        #expect(p.pppoe?.session == 0x11)
        #expect(p.pppoe?.pppProtocol == 0x21)
        #expect(p.tcp?.sourcePort == 1234)
        Self.expectAllPrefixesTruncated(Self.pppoe())
        let v6 = decode(Self.pppoe(proto: 0x0057, body: Build.ipv6(next: 6, payload: Build.tcp(.v6AB, flags: 0x002))))
        #expect(v6.ipv6 != nil && v6.tcp?.checksumStatus == .ok)
        expectOneError(decode(Self.pppoe(vt: 0x21)), .malformed, .pppoe)
    }

    static func macsec(tci: UInt8 = 0x00, body: [UInt8] = be16(0x0800) + innerTCP) -> [UInt8] {
        Build.ethernet(type: 0x88E5, payload: [tci, 0] + be32(1) + body + [UInt8](repeating: 0xAA, count: 16))
    }

    @Test func macsecInClear() {
        let p = decode(Self.macsec())
        #expect(allErrorsEmpty(p))
        #expect(p.macsec?.packetNumber == 1)
        #expect(p.macsec?.clear == true)
        #expect(p.tcp?.checksumStatus == .ok)
        // A cut inside the 16-byte ICV (not decoded) leaves the data whole.
        Self.expectAllPrefixesTruncated(Self.macsec(), trailer: 16)
        // With an SCI.
        let s = decode(Build.ethernet(type: 0x88E5, payload: [0x20, 0] + be32(9) + be32(0x0102_0304) + be32(0x0506_0001)
                                        + be16(0x0800) + Self.innerTCP + [UInt8](repeating: 0, count: 16)))
        #expect(s.macsec?.sci == 0x0102_0304_0506_0001)
        #expect(s.tcp != nil)
        // Encrypted: the SecTAG only.
        let e = decode(Self.macsec(tci: 0x0C))
        #expect(e.macsec?.encrypted == true)
        #expect(e.ipv4 == nil && e.errors.isEmpty)
        expectOneError(decode(Self.macsec(tci: 0x80)), .malformed, .macsec)
    }

    static func nsh(length: UInt8 = 6, md: UInt8 = 1, next: UInt8 = 1) -> [UInt8] {
        // Ver 0, TTL 63, length in words, MD type, next protocol; SPI 1, SI 255; 16 bytes of context.
        let base: [UInt8] = [0x0F, 0xC0 | length, md, next]
        return Build.ethernet(type: 0x894F, payload: base + be32(1 << 8 | 255) + [UInt8](repeating: 0, count: 16) + innerTCP)
    }

    @Test func nshMDType1() {
        let p = decode(Self.nsh())
        #expect(allErrorsEmpty(p))
        #expect(p.nsh?.servicePath == 1)
        #expect(p.nsh?.serviceIndex == 255)
        #expect(p.nsh?.ttl == 63)
        #expect(p.tcp?.checksumStatus == .ok)
        Self.expectAllPrefixesTruncated(Self.nsh())
        expectOneError(decode(Self.nsh(length: 3)), .malformed, .nsh)
    }

    @Test func pimRegister() {
        let pim: [UInt8] = [0x21, 0, 0, 0] + be32(0) + Self.innerTCP
        let frame = Build.eth4(Build.ipv4(proto: 103, payload: pim))
        let p = decode(frame)
        #expect(allErrorsEmpty(p))
        #expect(p.pim?.type == 1)
        #expect(p.inner?.encapsulation == .pimRegister)
        Self.expectInnerSYN(p)
        expectOneError(decode(Build.eth4(Build.ipv4(proto: 103, payload: [0x31, 0, 0, 0]))), .malformed, .pim)
    }

    @Test func tsoTotalLengthZero() {
        let tcp = Build.tcp(flags: 0x018, payload: [UInt8](repeating: 0x61, count: 3000))
        let frame = Build.eth4(Build.ipv4(proto: 6, payload: tcp, totalLength: 0))
        let p = decode(frame)
        #expect(p.lengthFromCapture)
        #expect(p.errors.isEmpty)
        #expect(p.ipv4?.totalLength == 3040)
        #expect(p.tcp?.payloadLength == 3000)
        #expect(p.tcp?.checksumStatus == .ok)
        // Without TSO support the old verdict: malformed total length.
        var q = Packet()
        frame.withUnsafeBytes { PacketDecoder(tsoSupport: false).decode($0, wireLength: frame.count, linkType: .ethernet, into: &q) }
        #expect(!q.lengthFromCapture)
        expectOneError(q, .malformed, .ipv4)
        // Cut by the capture: the wire length stands in; the TCP payload is cut, not malformed.
        let cut = decode(Array(frame[0 ..< 200]), wireLength: frame.count)
        #expect(cut.lengthFromCapture)
        #expect(cut.ipv4?.totalLength == 3040)
        #expect(cut.tcp?.payloadLength == 3000)
    }

    @Test func packetCopiesDoNotShareInner() {
        var p = decode(Self.vxlan())
        let copy = p
        decode(Self.gre(), into: &p)
        #expect(copy.vxlan?.vni == 100)
        #expect(copy.inner?.encapsulation == .vxlan)
        #expect(copy.inner?.packet.tcp?.destinationPort == 80)
        #expect(p.inner?.encapsulation == .gre)
        // A plain frame after a tunnel one has no inner packet.
        decode(Build.tcp4Frame(), into: &p)
        #expect(p.inner == nil)
    }
}

func allErrorsEmpty(_ p: Packet) -> Bool { TunnelTests.allErrors(p).isEmpty }
