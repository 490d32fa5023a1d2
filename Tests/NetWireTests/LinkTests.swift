import Testing
@testable import NetWire

@Suite("Ethernet and VLAN")
struct EthernetTests {
    let udp = Build.ipv4(proto: 17, payload: Build.udp(payload: Array("hello".utf8)))

    @Test func plainEthernet() {
        let p = decode(Build.eth4(udp))
        #expect(p.errors.isEmpty)
        let e = p.ethernet
        #expect(e?.destination == mac(macA))
        #expect(e?.source == mac(macB))
        #expect(e?.etherType == .ipv4)
        #expect(e?.vlans.count == 0)
        #expect(e?.isLength8023 == false)
        #expect(e?.headerLength == 14)
        #expect(p.networkType == .ipv4)
        #expect(p.ipv4?.offset == 14)
        #expect(p.udp?.sourcePort == 40000)
        #expect(p.linkSupported)
    }

    @Test func singleTag() {
        let f = Build.ethernet(type: 0x0800, tags: [(0x8100, 0x2064)], payload: udp)
        let p = decode(f)
        #expect(p.errors.isEmpty)
        let e = p.ethernet
        #expect(e?.vlans.count == 1)
        #expect(e?.vlans.tpid(0) == 0x8100)
        #expect(e?.vlans.id(0) == 100)
        #expect(e?.vlans.priority(0) == 1)
        #expect(e?.vlans.tci(0) == 0x2064)
        #expect(e?.etherType == .ipv4)
        #expect(e?.headerLength == 18)
        #expect(p.ipv4?.offset == 18)
        #expect(p.udp?.offset == 38)
    }

    @Test func qinq88a8() {
        let ip6 = Build.ipv6(next: 17, payload: Build.udp(.v6AB, payload: [1, 2, 3]))
        let f = Build.ethernet(type: 0x86DD, tags: [(0x88A8, 0x00C8), (0x8100, 0x612C)], payload: ip6)
        let p = decode(f)
        #expect(p.errors.isEmpty)
        let e = p.ethernet
        #expect(e?.vlans.count == 2)
        #expect(e?.vlans.tpid(0) == 0x88A8)
        #expect(e?.vlans.id(0) == 200)
        #expect(e?.vlans.tpid(1) == 0x8100)
        #expect(e?.vlans.id(1) == 300)
        #expect(e?.vlans.priority(1) == 3)
        #expect(e?.etherType == .ipv6)
        #expect(e?.headerLength == 22)
        #expect(p.ipv6?.offset == 22)
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func oldQinQ9100() {
        let f = Build.ethernet(type: 0x0800, tags: [(0x9100, 7), (0x8100, 8)], payload: udp)
        let p = decode(f)
        #expect(p.errors.isEmpty)
        #expect(p.ethernet?.vlans.count == 2)
        #expect(p.ethernet?.vlans.tpid(0) == 0x9100)
        #expect(p.udp != nil)
    }

    @Test func fourTagsAreAllowed() {
        let tags: [(tpid: UInt16, tci: UInt16)] = [(0x88A8, 1), (0x8100, 2), (0x8100, 3), (0x8100, 4)]
        let p = decode(Build.ethernet(type: 0x0800, tags: tags, payload: udp))
        #expect(p.errors.isEmpty)
        #expect(p.ethernet?.vlans.count == 4)
        #expect(p.ethernet?.vlans.id(3) == 4)
        #expect(p.ethernet?.headerLength == 30)
        #expect(p.udp != nil)
    }

    @Test func tooManyTagsIsMalformed() {
        let tags: [(tpid: UInt16, tci: UInt16)] = (1 ... 5).map { (0x8100, UInt16($0)) }
        let p = decode(Build.ethernet(type: 0x0800, tags: tags, payload: udp))
        let e = expectOneError(p, .malformed, .vlan, offset: 14 + 4 * 4)
        #expect(badValueField(e) == "VLAN tag depth")
        #expect(badValue(e) == 5)
        // What was read before the error stays.
        #expect(p.ethernet?.source == mac(macB))
        #expect(p.ethernet?.vlans.count == 4)
        #expect(p.ethernet?.vlans.id(3) == 4)
        #expect(p.ipv4 == nil)
    }

    @Test func ieee8023LengthField() {
        let llc: [UInt8] = [0x42, 0x42, 0x03] + [UInt8](repeating: 0, count: 35)
        let p = decode(Build.ethernet(type: UInt16(llc.count), payload: llc))
        #expect(p.errors.isEmpty)
        #expect(p.ethernet?.isLength8023 == true)
        #expect(p.ethernet?.etherType.rawValue == 38)
        #expect(p.networkType == nil)
        #expect(p.ipv4 == nil)
    }

    @Test func unknownEtherTypeIsNotAnError() {
        let p = decode(Build.ethernet(type: 0x88CC, payload: [UInt8](repeating: 0, count: 46)))
        #expect(p.errors.isEmpty)
        #expect(p.networkType == .lldp)
        #expect(p.ethernet?.etherType == .lldp)
    }

    @Test func ethernetPaddingAfterIPIsIgnored() {
        let p = decode(Build.eth4(udp) + [UInt8](repeating: 0xEE, count: 20))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.checksumStatus == .ok)
        #expect(p.payloadEnd == 14 + udp.count)
    }

    @Test func prefixesOfTaggedFrame() {
        let f = Build.ethernet(type: 0x0800, tags: [(0x88A8, 5), (0x8100, 6)], payload: udp)
        expectPrefixes(f, cuts: [(14, .ethernet), (22, .vlan), (42, .ipv4), (50, .udp)]) { k, p in
            if k < 14 { #expect(p.ethernet == nil) }
            if k >= 18 && k < 22 { #expect(p.ethernet?.vlans.count == 1) }
        }
    }

    @Test func prefixesOfPlainFrame() {
        expectPrefixes(Build.eth4(udp), cuts: [(14, .ethernet), (34, .ipv4), (42, .udp)])
    }
}

@Suite("Linux cooked capture")
struct SLLTests {
    let ip4 = Build.ipv4(proto: 17, payload: Build.udp(payload: [9, 9]))
    let ip6 = Build.ipv6(next: 17, payload: Build.udp(.v6AB, payload: [9, 9]))

    func sll(packetType: UInt16 = 0, arphrd: UInt16 = 1, alen: UInt16 = 6, proto: UInt16, payload: [UInt8]) -> [UInt8] {
        be16(packetType) + be16(arphrd) + be16(alen) + macA + [0, 0] + be16(proto) + payload
    }

    func sll2(proto: UInt16, ifindex: UInt32 = 3, arphrd: UInt16 = 1, packetType: UInt8 = 4, alen: UInt8 = 6,
              payload: [UInt8]) -> [UInt8] {
        be16(proto) + [0, 0] + be32(ifindex) + be16(arphrd) + [packetType, alen] + macA + [0, 0] + payload
    }

    @Test func sllIPv4() {
        let p = decode(sll(proto: 0x0800, payload: ip4), link: .linuxSLL)
        #expect(p.errors.isEmpty)
        let s = p.sll
        #expect(s?.version == 1)
        #expect(s?.packetType == 0)
        #expect(s?.arphrdType == 1)
        #expect(s?.addressLength == 6)
        #expect(s?.address == 0x0011_2233_4455)
        #expect(s?.protocolType == .ipv4)
        #expect(s?.interfaceIndex == 0)
        #expect(p.networkType == .ipv4)
        #expect(p.ipv4?.offset == 16)
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func sllOutgoingWithShortAddress() {
        // Loopback: ARPHRD 772, address length 0.
        let f = be16(4) + be16(772) + be16(0) + [UInt8](repeating: 0, count: 8) + be16(0x86DD) + ip6
        let p = decode(f, link: .linuxSLL)
        #expect(p.errors.isEmpty)
        #expect(p.sll?.packetType == 4)
        #expect(p.sll?.arphrdType == 772)
        #expect(p.sll?.address == 0)
        #expect(p.ipv6?.offset == 16)
    }

    @Test func sllNonEtherTypeProtocols() {
        // 0x0004: 802.2 LLC, below 0x0600 → not a network layer we decode, and not an error.
        let p = decode(sll(proto: 0x0004, payload: [0x42, 0x42, 0x03]), link: .linuxSLL)
        #expect(p.errors.isEmpty)
        #expect(p.sll?.protocolType.rawValue == 4)
        #expect(p.networkType == nil)
        // Netlink (ARPHRD 824): the protocol field is a netlink family.
        let q = decode(sll(arphrd: 824, proto: 0x0800, payload: ip4), link: .linuxSLL)
        #expect(q.errors.isEmpty)
        #expect(q.networkType == nil)
        #expect(q.ipv4 == nil)
    }

    @Test func sll2IPv6() {
        let p = decode(sll2(proto: 0x86DD, payload: ip6), link: .linuxSLL2)
        #expect(p.errors.isEmpty)
        let s = p.sll
        #expect(s?.version == 2)
        #expect(s?.protocolType == .ipv6)
        #expect(s?.interfaceIndex == 3)
        #expect(s?.arphrdType == 1)
        #expect(s?.packetType == 4)
        #expect(s?.addressLength == 6)
        #expect(s?.address == 0x0011_2233_4455)
        #expect(p.ipv6?.offset == 20)
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func sllPrefixes() {
        expectPrefixes(sll(proto: 0x0800, payload: ip4), link: .linuxSLL, cuts: [(16, .sll), (36, .ipv4), (44, .udp)])
    }

    @Test func sll2Prefixes() {
        expectPrefixes(sll2(proto: 0x86DD, payload: ip6), link: .linuxSLL2, cuts: [(20, .sll2), (60, .ipv6), (68, .udp)]) { k, p in
            // Nothing of a header cut before its address length (tshark reads protocol, interface,
            // hardware type and packet type as one; tcpdump shows none of a cut header); from there
            // the fields, and the address once its 6 bytes are there.
            if k < 12 { #expect(p.sll == nil, "prefix \(k)"); return }
            #expect(p.sll?.protocolType == .ipv6 && p.sll?.interfaceIndex == 3 && p.sll?.arphrdType == 1)
            #expect(p.sll?.packetType == 4 && p.sll?.addressLength == 6)
            #expect(p.sll?.hasAddress == (k >= 18), "prefix \(k)")
            #expect(p.sll?.isComplete == (k >= 20))
        }
    }

    @Test func sllShownAddressLength() {
        // An address length above the field's 8 bytes shows 8; 0 shows none; 4 needs 4 bytes.
        for (alen, shown) in [(UInt8(0), 0), (4, 4), (6, 6), (8, 8), (255, 8)] {
            let f = sll2(proto: 0x86DD, alen: alen, payload: ip6)
            let p = decode(Array(f.prefix(12 + shown)), wireLength: f.count, link: .linuxSLL2)
            #expect(p.sll?.shownAddressLength == shown)
            #expect(p.sll?.hasAddress == (shown > 0), "alen \(alen)")
            if shown > 0 {
                let q = decode(Array(f.prefix(12 + shown - 1)), wireLength: f.count, link: .linuxSLL2)
                #expect(q.sll?.hasAddress == false)
            }
        }
    }
}

@Suite("BSD null / loop")
struct NullTests {
    static let ip4 = Build.ipv4(proto: 6, payload: Build.tcp(flags: 0x002))
    static let ip6 = Build.ipv6(next: 17, payload: Build.udp(.v6AB, payload: [1]))

    static func header(_ family: UInt32, bigEndian: Bool) -> [UInt8] {
        bigEndian ? be32(family) : be32(family).reversed()
    }

    @Test(arguments: [false, true])
    func afInet(bigEndian: Bool) {
        let p = decode(Self.header(2, bigEndian: bigEndian) + Self.ip4, link: .null)
        #expect(p.errors.isEmpty)
        #expect(p.null?.family == 2)
        #expect(p.networkType == .ipv4)
        #expect(p.ipv4?.offset == 4)
        #expect(p.tcp?.flags == .syn)
        #expect(p.tcp?.checksumStatus == .ok)
    }

    @Test(arguments: [UInt32(10), 24, 28, 30], [false, true])
    func afInet6(family: UInt32, bigEndian: Bool) {
        let p = decode(Self.header(family, bigEndian: bigEndian) + Self.ip6, link: .null)
        #expect(p.errors.isEmpty)
        #expect(p.null?.family == family)
        #expect(p.networkType == .ipv6)
        #expect(p.ipv6?.offset == 4)
        #expect(p.udp?.checksumStatus == .ok)
    }

    @Test func loopIsNetworkOrder() {
        let p = decode(be32(2) + Self.ip4, link: .loop)
        #expect(p.errors.isEmpty)
        #expect(p.null?.family == 2)
        #expect(p.tcp != nil)
        let q = decode(be32(24) + Self.ip6, link: .loop)
        #expect(q.errors.isEmpty)
        #expect(q.ipv6 != nil)
    }

    @Test func unknownFamilyIsNotAnError() {
        let p = decode(Self.header(7, bigEndian: false) + [1, 2, 3, 4], link: .null)
        #expect(p.errors.isEmpty)
        #expect(p.null?.family == 7)
        #expect(p.networkType == nil)
    }

    @Test func prefixes() {
        expectPrefixes(Self.header(2, bigEndian: false) + Self.ip4, link: .null,
                       cuts: [(4, .null), (24, .ipv4), (44, .tcp)])
        expectPrefixes(Self.header(30, bigEndian: true) + Self.ip6, link: .null,
                       cuts: [(4, .null), (44, .ipv6), (52, .udp)])
    }
}

@Suite("Raw IP link types")
struct RawTests {
    static let ip4 = Build.ipv4(proto: 17, payload: Build.udp(payload: [7]))
    static let ip6 = Build.ipv6(next: 17, payload: Build.udp(.v6AB, payload: [7]))

    @Test(arguments: [LinkType.raw, .rawAlt, .linktypeRaw])
    func versionNibbleChooses(link: LinkType) {
        let p = decode(Self.ip4, link: link)
        #expect(p.errors.isEmpty)
        #expect(p.networkType == .ipv4)
        #expect(p.ipv4?.offset == 0)
        #expect(p.udp?.checksumStatus == .ok)
        let q = decode(Self.ip6, link: link)
        #expect(q.errors.isEmpty)
        #expect(q.networkType == .ipv6)
        #expect(q.ipv6?.offset == 0)
        #expect(q.udp?.checksumStatus == .ok)
    }

    @Test(arguments: [LinkType.raw, .rawAlt, .linktypeRaw])
    func badVersion(link: LinkType) {
        var b = Self.ip4
        b[0] = 0x55
        let p = decode(b, link: link)
        let e = expectOneError(p, .malformed, .raw, offset: 0)
        #expect(badValueField(e) == "IP version")
        #expect(badValue(e) == 5)
        #expect(p.ipv4 == nil && p.ipv6 == nil)
    }

    @Test func dedicatedIPv4AndIPv6LinkTypes() {
        let p = decode(Self.ip4, link: .ipv4)
        #expect(p.errors.isEmpty)
        #expect(p.udp != nil)
        let q = decode(Self.ip6, link: .ipv6)
        #expect(q.errors.isEmpty)
        #expect(q.udp != nil)
        // The wrong version under a fixed link type is the IP layer's error.
        let r = decode(Self.ip6, link: .ipv4)
        expectOneError(r, .malformed, .ipv4, offset: 0)
    }

    @Test func prefixes() {
        expectPrefixes(Self.ip4, link: .raw, cuts: [(1, .raw), (20, .ipv4), (28, .udp)])
        expectPrefixes(Self.ip6, link: .linktypeRaw, cuts: [(1, .raw), (40, .ipv6), (48, .udp)])
        expectPrefixes(Self.ip4, link: .ipv4, cuts: [(20, .ipv4), (28, .udp)])
        expectPrefixes(Self.ip6, link: .ipv6, cuts: [(40, .ipv6), (48, .udp)])
    }

    @Test func unsupportedLinkType() {
        let p = decode([0, 1, 2, 3], link: LinkType(rawValue: 147))
        #expect(!p.linkSupported)
        #expect(p.errors.isEmpty)
        #expect(p.networkType == nil)
    }
}
