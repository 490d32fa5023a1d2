import Testing
@testable import NetWire

@Suite("UDP")
struct UDPTests {
    static let payload = Array("hello, udp".utf8)

    static func frame(_ dg: [UInt8]) -> [UInt8] { Build.eth4(Build.ipv4(proto: 17, payload: dg)) }

    @Test func basicHeader() {
        let dg = Build.udp(sport: 40000, dport: 9999, payload: Self.payload)
        let p = decode(Self.frame(dg))
        #expect(p.errors.isEmpty)
        let u = p.udp
        #expect(u?.sourcePort == 40000)
        #expect(u?.destinationPort == 9999)
        #expect(u?.length == 18)
        #expect(u?.checksum == dg.get16(at: 6))
        #expect(u?.checksumStatus == .ok)
        #expect(u?.offset == 34)
        #expect(p.payloadStart == 42)
        #expect(p.payloadEnd == 52)
        #expect(p.partialPorts?.0 == 40000 && p.partialPorts?.1 == 9999)
        #expect(p.dns == nil)
    }

    @Test(arguments: [UInt16(0), 7])
    func lengthBelowEight(len: UInt16) {
        let p = decode(Self.frame(Build.udp(payload: Self.payload, length: len)))
        let e = expectOneError(p, .malformed, .udp, offset: 34 + 4)
        #expect(badValueField(e) == "length")
        #expect(badValue(e) == Int(len))
        #expect(p.udp?.length == len)
        #expect(p.udp?.sourcePort == 40000)
        // A length that frames nothing: not a usable header (tcpdump shows the ports and the error).
        #expect(p.udp?.lengthValid == false && p.udp?.isComplete == false)
        #expect(p.udp?.checksumStatus == .unverified)
    }

    @Test func zeroLengthOverIPv6StandsForTheIPv6Payload() {
        // RFC 2675 jumbograms; Linux and tshark take a 0 length so for any IPv6 datagram. The payload
        // the IPv6 header declares is the datagram (and its length goes into the pseudo-header); a
        // datagram that is not a jumbogram is reported.
        let query = DNSBuilder(flags: 0x0100, qd: 0).bytes
        let dg = Build.udp(.v6AB, sport: 40001, dport: 53, payload: query, length: 0)
        let p = decode(Build.eth6(Build.ipv6(next: 17, payload: dg)))
        let e = expectOneError(p, .malformed, .udp, offset: 54 + 4)
        #expect(e?.detail == .inconsistent("length 0 in a datagram that is not a jumbogram"))
        #expect(p.udp?.length == 0 && p.udp?.lengthValid == true && p.udp?.isComplete == true)
        #expect(p.udp?.checksumStatus == .ok)
        #expect(p.dns?.id == 0x1234 && p.dns?.headerComplete == true)
        #expect(p.payloadStart == 62 && p.payloadEnd == 74)
        var bad = dg
        bad[bad.count - 1] ^= 1
        #expect(decode(Build.eth6(Build.ipv6(next: 17, payload: bad))).udp?.checksumStatus == .bad)
        // Over IPv4 a 0 length stays malformed.
        let q = decode(Self.frame(Build.udp(payload: Self.payload, length: 0)))
        #expect(q.udp?.isComplete == false)
        // Over IPv6 with less than a header's worth of payload, too.
        let r = decode(Build.eth6(Build.ipv6(next: 17, payload: Array(dg.prefix(6)))))
        #expect(r.udp?.isComplete == false && r.dns == nil)
    }

    @Test func lengthBeyondIPPayload() {
        let p = decode(Self.frame(Build.udp(payload: Self.payload, length: 8 + 10 + 1)))
        let e = expectOneError(p, .malformed, .udp, offset: 34 + 4)
        #expect(badValueField(e) == "length exceeds IP payload")
        #expect(badValue(e) == 19)
        #expect(p.udp?.destinationPort == 9999)
    }

    @Test func lengthShorterThanIPPayload() {
        // Trailing bytes inside the IP datagram after the UDP datagram are not UDP payload.
        let dg = Build.udp(payload: Self.payload)
        let p = decode(Self.frame(dg + [0xEE, 0xEE]))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.checksumStatus == .ok)
        #expect(p.payloadEnd == 52)
    }

    @Test func checksums() {
        let bad = decode(Self.frame(Build.udp(payload: Self.payload, checksum: .bad)))
        #expect(bad.errors.isEmpty)
        #expect(bad.udp?.checksumStatus == .bad)
        // Zero over IPv4: the sender did not compute one.
        let zero = decode(Self.frame(Build.udp(payload: Self.payload, checksum: .zero)))
        #expect(zero.errors.isEmpty)
        #expect(zero.udp?.checksum == 0)
        #expect(zero.udp?.checksumStatus == .unverified)
        #expect(decode(Self.frame(Build.udp(payload: Self.payload, checksum: .partial))).udp?.checksumStatus == .unverified)
        #expect(decode(Self.frame(Build.udp(payload: Self.payload)), verifyChecksums: false).udp?.checksumStatus == .unverified)
        // Odd-length payload.
        #expect(decode(Self.frame(Build.udp(payload: [1, 2, 3]))).udp?.checksumStatus == .ok)
        var f = Self.frame(Build.udp(payload: [1, 2, 3]))
        f[f.count - 1] = 4
        #expect(decode(f).udp?.checksumStatus == .bad)
    }

    @Test func overIPv6() {
        let ok = Build.udp(.v6AB, payload: Self.payload)
        let p = decode(Build.eth6(Build.ipv6(next: 17, payload: ok)))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.checksumStatus == .ok)
        let bad = Build.udp(.v6AB, payload: Self.payload, checksum: .bad)
        #expect(decode(Build.eth6(Build.ipv6(next: 17, payload: bad))).udp?.checksumStatus == .bad)
        // Zero is not allowed over IPv6, so it is not "unverified" there.
        let zero = Build.udp(.v6AB, payload: Self.payload, checksum: .zero)
        #expect(decode(Build.eth6(Build.ipv6(next: 17, payload: zero))).udp?.checksumStatus == .bad)
    }

    @Test func emptyDatagramToPort53() {
        let p = decode(Build.udp4Frame(sport: 40001, dport: 53, payload: []))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.length == 8)
        #expect(p.dns == nil)
        #expect(p.payloadStart == 42 && p.payloadEnd == 42)
    }

    @Test func ipv6PseudoHeaderUsesUDPLength() {
        // IPv6 payload = UDP datagram + 2 stray bytes. The checksum covers the UDP length (RFC 8200 §8.1:
        // the upper-layer packet length, which UDP carries itself), as over IPv4.
        let dg = Build.udp(.v6AB, payload: Self.payload)
        let p = decode(Build.eth6(Build.ipv6(next: 17, payload: dg + [0xEE, 0xEE])))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.length == 18)
        #expect(p.udp?.checksumStatus == .ok)

        // The same over IPv4 verifies.
        let q = decode(Self.frame(Build.udp(payload: Self.payload) + [0xEE, 0xEE]))
        #expect(q.udp?.checksumStatus == .ok)
    }

    @Test func prefixes() {
        let f = Self.frame(Build.udp(payload: Self.payload))
        expectPrefixes(f, cuts: [(14, .ethernet), (34, .ipv4), (42, .udp)]) { k, p in
            if k >= 38 && k < 42 {
                #expect(p.partialPorts?.0 == 40000)
                // The captured part of the header is kept; the length field only once both its bytes are there.
                #expect(p.udp?.validBytes == k - 34 && p.udp?.isComplete == false)
                #expect(p.udp?.has(through: 6) == (k >= 40))
            }
            if k >= 42 {
                #expect(p.udp?.checksumStatus == .unverified)
                #expect(p.payloadStart == 42)
                #expect(p.payloadEnd == k)
            }
        }
    }
}
