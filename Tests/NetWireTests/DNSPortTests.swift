import Testing
@testable import NetWire

/// `--dns-port`: DNS on a UDP port other than 53 is decoded only when that port is configured.
@Suite("DNS ports")
struct DNSPortTests {
    static let query: [UInt8] = {
        var d = DNSBuilder(id: 0x4242, flags: 0x0100, qd: 1)
        d.name("www.demo.test")
        d.question(type: DNSType.a)
        return d.bytes
    }()

    static func decodeWith(_ ports: [UInt16], sport: UInt16 = 40001, dport: UInt16 = 10053) -> Packet {
        let bytes = Build.udp4Frame(sport: sport, dport: dport, payload: query)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buf.deallocate() }
        buf.copyBytes(from: bytes)
        var p = Packet()
        PacketDecoder(extraDNSPorts: ports)
            .decode(UnsafeRawBufferPointer(buf), wireLength: bytes.count, linkType: .ethernet, into: &p)
        return p
    }

    @Test func notDecodedWithoutThePort() {
        let p = Self.decodeWith([])
        #expect(p.errors.isEmpty)
        #expect(p.udp?.destinationPort == 10053)
        #expect(p.dns == nil)
        #expect(Self.decodeWith([5353]).dns == nil)
    }

    @Test func decodedOnAConfiguredPort() {
        for (sport, dport) in [(UInt16(40001), UInt16(10053)), (10053, 40001)] {
            let p = Self.decodeWith([5353, 10053], sport: sport, dport: dport)
            #expect(p.errors.isEmpty)
            #expect(p.dns?.id == 0x4242)
            #expect(p.dns?.questions == [DNSQuestion(name: "www.demo.test", type: DNSType.a, qclass: 1)])
        }
    }

    @Test func port53StillDecodedAndDecodeDNSOffWins() {
        #expect(Self.decodeWith([10053], sport: 40001, dport: 53).dns?.id == 0x4242)
        let bytes = Build.udp4Frame(sport: 40001, dport: 10053, payload: Self.query)
        let p = bytes.withUnsafeBytes { raw -> Packet in
            var p = Packet()
            PacketDecoder(decodeDNS: false, extraDNSPorts: [10053]).decode(raw, wireLength: bytes.count, linkType: .ethernet, into: &p)
            return p
        }
        #expect(p.dns == nil)
    }
}
