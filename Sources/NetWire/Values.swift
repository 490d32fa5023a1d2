/// A 48-bit MAC address in the low bits of `raw`, first byte most significant.
public struct MACAddress: Hashable, Sendable {
    public var raw: UInt64
    public init(raw: UInt64) { self.raw = raw & 0xFFFF_FFFF_FFFF }
    @inlinable public func byte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: raw >> UInt64((5 - i) * 8)) }
    public static let broadcast = MACAddress(raw: 0xFFFF_FFFF_FFFF)
}

/// An IPv4 address; `raw` holds the four bytes in network order as a number (a.b.c.d = a<<24|…).
public struct IPv4Address: Hashable, Sendable {
    public var raw: UInt32
    public init(raw: UInt32) { self.raw = raw }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        raw = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
}

/// An IPv6 address as two big-endian halves.
public struct IPv6Address: Hashable, Sendable {
    public var hi: UInt64
    public var lo: UInt64
    public init(hi: UInt64, lo: UInt64) { self.hi = hi; self.lo = lo }
    /// The i-th 16-bit group (0…7).
    @inlinable public func group(_ i: Int) -> UInt16 {
        let word = i < 4 ? hi : lo
        return UInt16(truncatingIfNeeded: word >> UInt64((3 - (i & 3)) * 16))
    }
}

/// An EtherType; an open set so unknown values survive and print.
public struct EtherType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    public static let vlan = EtherType(rawValue: 0x8100)
    public static let qinq = EtherType(rawValue: 0x88A8)
    public static let qinqOld = EtherType(rawValue: 0x9100)
    public static let ipv6 = EtherType(rawValue: 0x86DD)
    public static let rarp = EtherType(rawValue: 0x8035)
    public static let lldp = EtherType(rawValue: 0x88CC)
    public static let loopback = EtherType(rawValue: 0x9000)

    public var isVLANTag: Bool { self == .vlan || self == .qinq || self == .qinqOld }
}

/// An IP protocol number (IPv4 protocol / IPv6 next header); open set.
public struct IPProtocol: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let hopByHop = IPProtocol(rawValue: 0)
    public static let icmp = IPProtocol(rawValue: 1)
    public static let igmp = IPProtocol(rawValue: 2)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let ipv6 = IPProtocol(rawValue: 41)
    public static let routing = IPProtocol(rawValue: 43)
    public static let fragment = IPProtocol(rawValue: 44)
    public static let gre = IPProtocol(rawValue: 47)
    public static let esp = IPProtocol(rawValue: 50)
    public static let ah = IPProtocol(rawValue: 51)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    public static let noNext = IPProtocol(rawValue: 59)
    public static let destinationOptions = IPProtocol(rawValue: 60)
    public static let sctp = IPProtocol(rawValue: 132)
}

/// A libpcap link-layer header type (LINKTYPE_/DLT_ value as libpcap reports it); open set.
public struct LinkType: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let null = LinkType(rawValue: 0)          // DLT_NULL, BSD loopback
    public static let ethernet = LinkType(rawValue: 1)      // DLT_EN10MB
    public static let raw = LinkType(rawValue: 12)          // DLT_RAW as libpcap maps LINKTYPE_RAW (101) on Linux
    public static let rawAlt = LinkType(rawValue: 14)       // DLT_RAW on some BSDs
    public static let loop = LinkType(rawValue: 108)        // DLT_LOOP (OpenBSD, network-order family)
    public static let linktypeRaw = LinkType(rawValue: 101) // LINKTYPE_RAW
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)
}
