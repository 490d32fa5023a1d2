import Testing
@testable import NetWire

@Suite("IPv4")
struct IPv4Tests {
    static let tcpSeg = Build.tcp(flags: 0x018, payload: Array("GET / HTTP/1.0\r\n".utf8))
    static let udpDgram = Build.udp(payload: Array("payload!".utf8))

    @Test func basicHeader() {
        let ip = Build.ipv4(proto: 6, payload: Self.tcpSeg, ttl: 57, tos: 0xB8, id: 0xBEEF)
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        let h = p.ipv4
        #expect(h?.ihl == 5)
        #expect(h?.headerLength == 20)
        #expect(h?.tos == 0xB8)
        #expect(h?.totalLength == UInt16(ip.count))
        #expect(h?.identification == 0xBEEF)
        #expect(h?.dontFragment == true)
        #expect(h?.moreFragments == false)
        #expect(h?.reservedFlag == false)
        #expect(h?.fragmentOffset == 0)
        #expect(h?.isFragment == false)
        #expect(h?.ttl == 57)
        #expect(h?.proto == .tcp)
        #expect(h?.checksum == ip.get16(at: 10))
        #expect(h?.checksumStatus == .ok)
        #expect(h?.source == ipv4(ip4A))
        #expect(h?.destination == ipv4(ip4B))
        #expect(h?.optionsLength == 0)
        #expect(h?.offset == 14)
        #expect(p.ipv4Options.isEmpty)
        #expect(p.tcp?.payloadLength == 16)
    }

    static let rrOptions: [UInt8] = [1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0]

    @Test func optionsNopRecordRouteEnd() {
        // NOP, record route (len 7, pointer 4, one empty slot), end of list, then padding.
        let ip = Build.ipv4(proto: 47, payload: [0, 0, 0x08, 0x00], options: Self.rrOptions)
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        #expect(p.ipv4?.ihl == 8)
        #expect(p.ipv4?.optionsLength == 12)
        #expect(p.ipv4?.checksumStatus == .ok)
        #expect(p.ipv4Options == [IPv4Option(kind: 1, length: 1), IPv4Option(kind: 7, length: 7), IPv4Option(kind: 0, length: 1)])
    }

    @Test func routerAlertOption() {
        let ip = Build.ipv4(proto: 2, payload: [0x16, 0, 0xFA, 0x04, 0xE0, 0, 0, 0xFB], options: [0x94, 4, 0, 0])
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        #expect(p.ipv4?.proto == .igmp)
        #expect(p.ipv4Options == [IPv4Option(kind: 0x94, length: 4)])
    }

    /// The transport header starts at IHL × 4, whatever the options were.
    @Test(arguments: [[UInt8](rrOptions), [0x94, 4, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]])
    func transportAfterOptions(options: [UInt8]) {
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, options: options)
        let p = decode(Build.eth4(ip))
        #expect(p.ipv4?.checksumStatus == .ok)
        #expect(p.errors.isEmpty)
        #expect(p.udp?.offset == 14 + 20 + options.count)
        #expect(p.udp?.sourcePort == 40000)
        #expect(p.udp?.checksumStatus == .ok)
        #expect(p.payloadStart == 14 + 20 + options.count + 8)

    }

    @Test(arguments: [UInt8(0), 1])
    func optionLengthBelowTwo(len: UInt8) {
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, options: [1, 0x44, len, 0])
        let p = decode(Build.eth4(ip))
        let e = expectOneError(p, .malformed, .ipv4, offset: 14 + 20 + 2)
        #expect(badValueField(e) == "option length")
        #expect(badValue(e) == Int(len))
        #expect(p.ipv4?.source == ipv4(ip4A))
        #expect(p.ipv4Options == [IPv4Option(kind: 1, length: 1)])
        // A bad option is reported; the datagram behind the header is still decoded.
        #expect(p.udp?.sourcePort == 40000 && p.udp?.checksumStatus == .ok)
    }

    @Test func optionLengthPastHeader() {
        // A timestamp option claiming 16 bytes in a 4-byte options area.
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, options: [0x44, 16, 5, 0])
        let p = decode(Build.eth4(ip))
        let e = expectOneError(p, .malformed, .ipv4, offset: 14 + 20 + 1)
        #expect(badValueField(e) == "option length")
        #expect(p.ipv4?.ihl == 6)
        #expect(p.udp?.sourcePort == 40000)
    }

    @Test(arguments: [UInt8(0x40), 0x44])
    func ihlBelowFive(vihl: UInt8) {
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, versionIHL: vihl)
        let p = decode(Build.eth4(ip))
        let e = expectOneError(p, .malformed, .ipv4, offset: 14)
        #expect(badValueField(e) == "header length")
        #expect(badValue(e) == Int(vihl & 0xF) * 4)
        #expect(p.ipv4?.ihl == vihl & 0xF)
        #expect(p.ipv4?.source == ipv4(ip4A))
        #expect(p.udp == nil)
    }

    @Test func badVersion() {
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, versionIHL: 0x65)
        let p = decode(Build.eth4(ip))
        let e = expectOneError(p, .malformed, .ipv4, offset: 14)
        #expect(badValueField(e) == "version")
        #expect(badValue(e) == 6)
    }

    @Test func totalLengthBelowHeaderLength() {
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, options: [1, 1, 1, 1], totalLength: 20)
        let p = decode(Build.eth4(ip))
        let e = expectOneError(p, .malformed, .ipv4, offset: 16)
        #expect(badValueField(e) == "total length")
        #expect(badValue(e) == 20)
        #expect(p.ipv4?.totalLength == 20)
        #expect(p.udp == nil)
    }

    @Test func totalLengthBeyondFullyCapturedFrame() {
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, totalLength: UInt16(20 + Self.udpDgram.count + 10))
        let f = Build.eth4(ip)
        let p = decode(f)
        let e = expectOneError(p, .malformed, .ipv4, offset: 16)
        #expect(badValueField(e) == "total length exceeds frame")
        // Decoding went on with what is there.
        #expect(p.udp?.sourcePort == 40000)
        // The UDP datagram its own length declares is all there, so its checksum is verified.
        #expect(p.udp?.checksumStatus == .ok)
        // The same frame, but the capture says the wire frame was longer: no malformation.
        let q = decode(f, wireLength: f.count + 10)
        #expect(q.errors.isEmpty)
        #expect(q.udp?.checksumStatus == .ok)
    }

    @Test func headerChecksumBad() {
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, checksum: 0x1234)
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        #expect(p.ipv4?.checksum == 0x1234)
        #expect(p.ipv4?.checksumStatus == .bad)
        // Not verifying leaves it unverified.
        let q = decode(Build.eth4(ip), verifyChecksums: false)
        #expect(q.ipv4?.checksumStatus == .unverified)
        let r = decode(Build.eth4(Build.ipv4(proto: 17, payload: Self.udpDgram)), verifyChecksums: false)
        #expect(r.ipv4?.checksumStatus == .unverified)
        #expect(r.udp?.checksumStatus == .unverified)
    }

    @Test func headerChecksumOverOptions() {
        var ip = Build.ipv4(proto: 17, payload: Self.udpDgram, options: [0x94, 4, 0, 0])
        #expect(decode(Build.eth4(ip)).ipv4?.checksumStatus == .ok)
        ip[22] ^= 0x01  // an option byte
        #expect(decode(Build.eth4(ip)).ipv4?.checksumStatus == .bad)
    }

    @Test func flagsAndFragmentOffset() {
        // Reserved + DF + MF set, offset 0x1ABC (all 13 bits exercised). Non-first: no transport.
        let ip = Build.ipv4(proto: 17, payload: Self.udpDgram, flags: 0xE000, fragmentOffset: 0x1ABC)
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        let h = p.ipv4
        #expect(h?.reservedFlag == true)
        #expect(h?.dontFragment == true)
        #expect(h?.moreFragments == true)
        #expect(h?.fragmentOffset == 0x1ABC)
        #expect(h?.isFragment == true)
        #expect(h?.checksumStatus == .ok)
    }

    @Test func nonFirstFragmentDoesNotDecodeTransport() {
        // The payload looks like a UDP header to port 53 and like TCP; neither may be decoded.
        for proto: UInt8 in [6, 17, 1] {
            let junk = Build.udp(sport: 53, dport: 53, payload: [UInt8](repeating: 0xFF, count: 24))
            let ip = Build.ipv4(proto: proto, payload: junk, flags: 0, fragmentOffset: 185)
            let p = decode(Build.eth4(ip))
            #expect(p.errors.isEmpty)
            #expect(p.ipv4?.fragmentOffset == 185)
            #expect(p.ipv4?.isFragment == true)
            #expect(p.tcp == nil && p.udp == nil && p.icmp == nil && p.dns == nil)
            #expect(p.partialPorts == nil)
        }
    }

    @Test func firstFragmentDecodesTransportWithoutVerifying() {
        // UDP header says 1000 bytes; this fragment carries 16 of them.
        var dg = Build.udp(payload: [UInt8](repeating: 1, count: 8), length: 1000)
        dg.put16(0x4242, at: 6)
        let ip = Build.ipv4(proto: 17, payload: dg, flags: 0x2000)
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        #expect(p.ipv4?.moreFragments == true)
        #expect(p.ipv4?.fragmentOffset == 0)
        #expect(p.udp?.length == 1000)
        #expect(p.udp?.checksumStatus == .unverified)
        // TCP first fragment: decoded, checksum unverified even though it is wrong.
        let t = Build.ipv4(proto: 6, payload: Build.tcp(payload: [1, 2, 3], checksum: .bad), flags: 0x2000)
        let q = decode(Build.eth4(t))
        #expect(q.errors.isEmpty)
        #expect(q.tcp?.checksumStatus == .unverified)
    }

    @Test func unknownProtocol() {
        let ip = Build.ipv4(proto: 47, payload: [0, 0, 0x08, 0x00] + [UInt8](repeating: 0, count: 20))
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        #expect(p.ipv4?.proto == .gre)
        #expect(p.tcp == nil && p.udp == nil)
    }

    @Test func prefixesWithOptions() {
        // Protocol without a decoder after the options: every cut inside the header is truncation.
        let ip = Build.ipv4(proto: 99, payload: [0, 0, 0x08, 0x00, 1, 2, 3, 4], options: Self.rrOptions)
        expectPrefixes(Build.eth4(ip), cuts: [(14, .ethernet), (46, .ipv4)]) { k, p in
            if k >= 34 && k < 46 {
                // Fixed header kept while the options are cut; no checksum verdict possible.
                #expect(p.ipv4?.ihl == 8)
                #expect(p.ipv4?.checksumStatus == .unverified)
            }
            if k >= 46 {
                #expect(p.ipv4?.checksumStatus == .ok)
                #expect(p.ipv4Options.count == 3)
            }
        }
    }

    @Test func prefixesWithOptionsAndTCP() {
        let f = Build.eth4(Build.ipv4(proto: 6, payload: Self.tcpSeg, options: Self.rrOptions))
        expectPrefixes(f, cuts: [(14, .ethernet), (46, .ipv4), (66, .tcp)])

    }
}
