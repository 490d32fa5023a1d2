import Testing
@testable import NetWire

@Suite("ARP")
struct ARPTests {
    static func arp(htype: UInt16 = 1, ptype: UInt16 = 0x0800, hlen: UInt8 = 6, plen: UInt8 = 4, op: UInt16,
                    senderMAC: [UInt8] = macB, senderIP: [UInt8] = ip4A,
                    targetMAC: [UInt8] = [0, 0, 0, 0, 0, 0], targetIP: [UInt8] = ip4B) -> [UInt8] {
        be16(htype) + be16(ptype) + [hlen, plen] + be16(op) + senderMAC + senderIP + targetMAC + targetIP
    }

    /// Padded to the 60-byte Ethernet minimum like a real frame.
    static func frame(_ body: [UInt8], dst: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) -> [UInt8] {
        let f = Build.ethernet(dst: dst, type: 0x0806, payload: body)
        return f + [UInt8](repeating: 0, count: max(0, 60 - f.count))
    }

    @Test func request() {
        let p = decode(Self.frame(Self.arp(op: 1)))
        #expect(p.errors.isEmpty)
        #expect(p.networkType == .arp)
        #expect(p.ethernet?.destination == .broadcast)
        let a = p.arp
        #expect(a?.hardwareType == 1)
        #expect(a?.protocolType == 0x0800)
        #expect(a?.hardwareLength == 6)
        #expect(a?.protocolLength == 4)
        #expect(a?.operation == ARPPacket.request)
        #expect(a?.isEthernetIPv4 == true)
        #expect(a?.senderMAC == mac(macB))
        #expect(a?.senderIP == ipv4(ip4A))
        #expect(a?.targetMAC == MACAddress(raw: 0))
        #expect(a?.targetIP == ipv4(ip4B))
    }

    @Test func reply() {
        let p = decode(Self.frame(Self.arp(op: 2, senderMAC: macA, senderIP: ip4B, targetMAC: macB, targetIP: ip4A), dst: macB))
        #expect(p.errors.isEmpty)
        let a = p.arp
        #expect(a?.operation == ARPPacket.reply)
        #expect(a?.senderMAC == mac(macA))
        #expect(a?.senderIP == ipv4(ip4B))
        #expect(a?.targetMAC == mac(macB))
        #expect(a?.targetIP == ipv4(ip4A))
    }

    @Test func rarpEtherType() {
        let p = decode(Build.ethernet(type: 0x8035, payload: Self.arp(op: 3)))
        #expect(p.errors.isEmpty)
        #expect(p.networkType == .rarp)
        #expect(p.arp?.operation == ARPPacket.rarpRequest)
    }

    @Test func badHardwareLength() {
        // Ethernet hardware type with a 5-byte hardware address.
        let body = be16(1) + be16(0x0800) + [5, 4] + be16(1) + [UInt8](repeating: 0xAB, count: 18)
        let p = decode(Self.frame(body))
        let e = expectOneError(p, .malformed, .arp, offset: 14 + 4)
        #expect(badValueField(e) == "hardware length")
        #expect(badValue(e) == 5)
        // The fixed part read before the error stays.
        #expect(p.arp?.hardwareType == 1)
        #expect(p.arp?.hardwareLength == 5)
        #expect(p.arp?.operation == 1)
        #expect(p.arp?.isEthernetIPv4 == false)
    }

    @Test func otherHardwareIsSkippedNotDecoded() {
        // InfiniBand-like: hardware type 32, 20-byte addresses: 8 + 2 * (20 + 4) = 56 bytes.
        let body = be16(32) + be16(0x0800) + [20, 4] + be16(1) + [UInt8](repeating: 0x11, count: 48)
        let p = decode(Build.ethernet(type: 0x0806, payload: body))
        #expect(p.errors.isEmpty)
        #expect(p.arp?.isEthernetIPv4 == false)
        #expect(p.arp?.hardwareLength == 20)
        // One byte short, fully captured: the addresses run past the frame.
        let short = Build.ethernet(type: 0x0806, payload: Array(body.dropLast()))
        expectOneError(decode(short), .malformed, .arp)
        // The same cut by the capture is truncation.
        let full = Build.ethernet(type: 0x0806, payload: body)
        expectOneError(decode(short, wireLength: full.count), .truncated, .arp)
    }

    @Test func prefixes() {
        let f = Self.frame(Self.arp(op: 1))
        #expect(f.count == 60)
        expectPrefixes(f, cuts: [(14, .ethernet), (42, .arp)]) { k, p in
            if k >= 22 { #expect(p.arp?.operation == 1) }
        }
    }
}
