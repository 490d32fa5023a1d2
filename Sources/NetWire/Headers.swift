// The meaning of each layer's header, as plain values. Decoders fill them in; formatters read them.

/// Checksum verdict. `unverified`: not all covered bytes were captured, the checksum was not
/// computed by the sender (UDP zero), or the field holds a transmit-offload partial sum.
public enum ChecksumStatus: UInt8, Sendable {
    case ok, bad, unverified
}

/// Up to four 802.1Q/802.1ad tags, outermost first, stored inline (no allocation per packet).
public struct VLANTags: Sendable, Equatable {
    public static let capacity = 4
    public private(set) var count: Int = 0
    var storage: (UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0)  // TCI values
    var tpids: (UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0)
    public init() {}

    mutating func append(tpid: UInt16, tci: UInt16) {
        switch count {
        case 0: storage.0 = tci; tpids.0 = tpid
        case 1: storage.1 = tci; tpids.1 = tpid
        case 2: storage.2 = tci; tpids.2 = tpid
        case 3: storage.3 = tci; tpids.3 = tpid
        default: return
        }
        count += 1
    }

    /// The tag control information of tag `i` (priority 3 bits, DEI 1 bit, VLAN id 12 bits).
    public func tci(_ i: Int) -> UInt16 {
        switch i {
        case 0: storage.0
        case 1: storage.1
        case 2: storage.2
        case 3: storage.3
        default: 0
        }
    }
    public func tpid(_ i: Int) -> UInt16 {
        switch i {
        case 0: tpids.0
        case 1: tpids.1
        case 2: tpids.2
        case 3: tpids.3
        default: 0
        }
    }
    public func id(_ i: Int) -> UInt16 { tci(i) & 0x0FFF }
    public static func == (a: VLANTags, b: VLANTags) -> Bool {
        guard a.count == b.count else { return false }
        return (0 ..< a.count).allSatisfy { a.tci($0) == b.tci($0) && a.tpid($0) == b.tpid($0) }
    }
    public func priority(_ i: Int) -> UInt8 { UInt8(tci(i) >> 13) }
}

public struct EthernetHeader: Sendable {
    public var destination: MACAddress
    public var source: MACAddress
    /// The EtherType after any VLAN tags, or the 802.3 length when `isLength8023`.
    public var etherType: EtherType
    public var vlans: VLANTags
    /// The type/length field held a length (< 0x0600): an IEEE 802.3 frame with LLC.
    public var isLength8023: Bool
    public var headerLength: Int
}

/// Linux cooked capture header, version 1 (SLL) or 2 (SLL2).
public struct SLLHeader: Sendable {
    public var version: UInt8
    /// 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 outgoing.
    public var packetType: UInt16
    public var arphrdType: UInt16
    public var addressLength: UInt16
    /// Link-layer address (first up to 8 bytes) as a big-endian number, `addressLength` bytes used.
    public var address: UInt64
    public var protocolType: EtherType
    /// SLL2 only.
    public var interfaceIndex: UInt32
    /// Header bytes captured (16 for SLL, 20 for SLL2 when whole); fields beyond were not read.
    public var validBytes: Int
    public var isComplete: Bool { validBytes >= (version == 2 ? 20 : 16) }
    public func has(through end: Int) -> Bool { validBytes >= end }
    /// Bytes of the address field that are meaningful, as shown: 4 or 6 for IPv4 and Ethernet
    /// addresses, else `addressLength` capped at the field's 8 bytes (0: no address).
    public var shownAddressLength: Int { min(Int(addressLength), 8) }
    /// The address's shown bytes were captured (it starts after byte 12 in SLL2, byte 6 in SLL).
    public var hasAddress: Bool { shownAddressLength > 0 && has(through: (version == 2 ? 12 : 6) + shownAddressLength) }
    /// Which fields were captured (their places differ between the versions).
    public var hasPacketType: Bool { has(through: version == 2 ? 11 : 2) }
    public var hasHardwareType: Bool { has(through: version == 2 ? 10 : 4) }
    public var hasAddressLength: Bool { has(through: version == 2 ? 12 : 6) }
    public var hasProtocol: Bool { has(through: version == 2 ? 2 : 16) }
    public var hasInterfaceIndex: Bool { version == 2 && has(through: 8) }
}

/// BSD loopback / DLT_NULL / DLT_LOOP header: the address family.
public struct NullHeader: Sendable {
    public var family: UInt32
}

public struct ARPPacket: Sendable {
    public var hardwareType: UInt16
    public var protocolType: UInt16
    public var hardwareLength: UInt8
    public var protocolLength: UInt8
    public var operation: UInt16
    /// Set when hardware is 6-byte and protocol 4-byte (Ethernet/IPv4).
    public var isEthernetIPv4: Bool
    /// The MAC fields hold 6-byte hardware addresses that were read.
    public var hasHardwareAddresses = false
    /// The IP fields hold 4-byte protocol addresses that were read.
    public var hasProtocolAddresses = false
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address

    public static let request: UInt16 = 1
    public static let reply: UInt16 = 2
    public static let rarpRequest: UInt16 = 3
    public static let rarpReply: UInt16 = 4
}

public struct IPv4Option: Sendable, Equatable {
    public var kind: UInt8
    public var length: UInt8
}

public struct IPv4Header: Sendable {
    /// Bytes of the 20-byte fixed header that were captured (and meaningful); a field whose bytes
    /// lie beyond this was not read and is zero. Formatters show only the fields read.
    public var validBytes: Int = 20
    public var isComplete: Bool { validBytes >= 20 }
    public func has(through end: Int) -> Bool { validBytes >= end }
    public var ihl: UInt8
    public var tos: UInt8
    public var totalLength: UInt16
    public var identification: UInt16
    public var dontFragment: Bool
    public var moreFragments: Bool
    public var reservedFlag: Bool
    /// Fragment offset in 8-byte units.
    public var fragmentOffset: UInt16
    public var ttl: UInt8
    public var proto: IPProtocol
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    public var source: IPv4Address
    public var destination: IPv4Address
    /// Options are in `Packet.ipv4Options`.
    public var optionsLength: Int
    /// Absolute offset of the header in the packet.
    public var offset: Int

    public var headerLength: Int { Int(ihl) * 4 }
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
}

public struct IPv6Header: Sendable {
    /// Bytes of the 40-byte fixed header that were captured (and meaningful); a field whose bytes
    /// lie beyond this was not read and is zero. Formatters show only the fields read.
    public var validBytes: Int = 40
    public var isComplete: Bool { validBytes >= 40 }
    public func has(through end: Int) -> Bool { validBytes >= end }
    public var trafficClass: UInt8
    public var flowLabel: UInt32
    public var payloadLength: UInt16
    public var nextHeader: IPProtocol
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address
    /// The upper-layer protocol after the extension header chain.
    public var upperProtocol: IPProtocol
    /// Number of extension headers walked (they are in `Packet.ipv6Extensions`).
    public var extensionCount: Int
    /// Fragment header fields when one was present.
    public var isFragment: Bool
    public var fragmentOffset: UInt16
    public var moreFragments: Bool
    public var fragmentIdentification: UInt32
    public var offset: Int
    /// RFC 2675: the Jumbo Payload option's length, when the payload length is 0 and a hop-by-hop
    /// header carries one (it then stands for the payload length).
    public var jumboPayloadLength: UInt32? = nil
}

/// One IPv6 extension header as it was walked, with the fields the text line shows.
public struct IPv6Extension: Sendable, Equatable {
    /// The header's protocol number: hop-by-hop (0), routing (43), fragment (44), destination
    /// options (60), authentication (51).
    public var kind: IPProtocol
    /// Absolute offset in the packet and length in bytes.
    public var offset: Int
    public var length: Int
    /// Routing: the Hdr Ext Len byte, routing type and segments left.
    public var lengthField: UInt8 = 0
    public var routingType: UInt8 = 0
    public var segmentsLeft: UInt8 = 0
    /// Routing: the 4 bytes after segments left (type 0/2: reserved; type 4: last entry, flags, tag).
    public var routingData: UInt32 = 0
    /// Routing types 0, 2 and 4: the addresses are `Packet.ipv6RoutingAddresses[addressStart ..<
    /// addressStart + addressCount]`.
    public var addressStart: Int = 0
    public var addressCount: Int = 0
    /// Fragment: offset in 8-byte units, M flag, identification.
    public var fragmentOffset: UInt16 = 0
    public var moreFragments: Bool = false
    public var identification: UInt32 = 0
    /// Authentication header: security parameters index and sequence number.
    public var spi: UInt32 = 0
    public var sequence: UInt32 = 0

    public init(kind: IPProtocol, offset: Int, length: Int) {
        self.kind = kind
        self.offset = offset
        self.length = length
    }
}

/// The original datagram's header quoted inside an ICMP error.
public struct QuotedIPHeader: Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var proto: IPProtocol
    /// Transport ports when the quoted protocol is TCP/UDP and they were quoted.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// A quoted ICMP echo or echo reply (traceroute's probes): its identifier and sequence number.
    public var echoIdentifier: UInt16? = nil
    public var echoSequence: UInt16? = nil
}

public struct ICMPMessage: Sendable {
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    /// The 4 bytes after the checksum: echo id/seq, MTU for "fragmentation needed", gateway for redirects.
    public var restOfHeader: UInt32
    public var quoted: QuotedIPHeader?
    /// Bytes after the 8-byte header, as the wire declares them.
    public var dataLength: Int

    public var identifier: UInt16 { UInt16(truncatingIfNeeded: restOfHeader >> 16) }
    public var sequence: UInt16 { UInt16(truncatingIfNeeded: restOfHeader) }

    public static let echoReply: UInt8 = 0
    public static let destinationUnreachable: UInt8 = 3
    public static let sourceQuench: UInt8 = 4
    public static let redirect: UInt8 = 5
    public static let echoRequest: UInt8 = 8
    public static let timeExceeded: UInt8 = 11
    public static let parameterProblem: UInt8 = 12
    public static let timestampRequest: UInt8 = 13
    public static let timestampReply: UInt8 = 14
}

/// TCP header flags, the 9 bits of the header (NS/AE is bit 8).
public struct TCPFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public static var fin: TCPFlags { TCPFlags(rawValue: 0x001) }
    @inlinable public static var syn: TCPFlags { TCPFlags(rawValue: 0x002) }
    @inlinable public static var rst: TCPFlags { TCPFlags(rawValue: 0x004) }
    @inlinable public static var psh: TCPFlags { TCPFlags(rawValue: 0x008) }
    @inlinable public static var ack: TCPFlags { TCPFlags(rawValue: 0x010) }
    @inlinable public static var urg: TCPFlags { TCPFlags(rawValue: 0x020) }
    @inlinable public static var ece: TCPFlags { TCPFlags(rawValue: 0x040) }
    @inlinable public static var cwr: TCPFlags { TCPFlags(rawValue: 0x080) }
    @inlinable public static var ns: TCPFlags { TCPFlags(rawValue: 0x100) }
}

/// Up to four SACK blocks, inline.
public struct SACKBlocks: Sendable, Equatable {
    public private(set) var count: Int = 0
    var s: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)
    public init() {}
    mutating func append(_ left: UInt32, _ right: UInt32) {
        switch count {
        case 0: s.0 = left; s.1 = right
        case 1: s.2 = left; s.3 = right
        case 2: s.4 = left; s.5 = right
        case 3: s.6 = left; s.7 = right
        default: return
        }
        count += 1
    }
    public static func == (a: SACKBlocks, b: SACKBlocks) -> Bool {
        guard a.count == b.count else { return false }
        return (0 ..< a.count).allSatisfy { a.block($0) == b.block($0) }
    }
    public func block(_ i: Int) -> (left: UInt32, right: UInt32) {
        switch i {
        case 0: (s.0, s.1)
        case 1: (s.2, s.3)
        case 2: (s.4, s.5)
        case 3: (s.6, s.7)
        default: (0, 0)
        }
    }
}

public enum TCPOption: Sendable, Equatable {
    case endOfList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case sack(SACKBlocks)
    case timestamps(value: UInt32, echo: UInt32)
    /// Any other kind: its kind byte, its length byte and the absolute offset of its data.
    case unknown(kind: UInt8, length: UInt8, dataOffset: Int)
    /// An option whose data was cut off (by the capture, or by the end of a segment shorter than its
    /// header): only its kind and length byte were there.
    case truncated(kind: UInt8)
    /// A timestamps option cut after its TSval.
    case timestampValueOnly(UInt32)
    /// A SACK option cut inside its blocks: the blocks that were there whole, and how many its
    /// length byte declares (tcpdump prints that count).
    case truncatedSACK(SACKBlocks, declared: Int)
    /// A known kind (MSS, window scale, SACK permitted, SACK, timestamps) whose length byte does not
    /// fit it: listed by kind and skipped by its length, as tshark does; the decoder reports it.
    case invalidLength(kind: UInt8, length: UInt8)
}

public struct TCPHeader: Sendable {
    /// Bytes of the 20-byte fixed header that were read: 20 when whole; when cut short (by the capture
    /// or by a segment shorter than 20 bytes), 16–19 if the ports, numbers, data offset, flags and
    /// window were all there (read as one, as tshark does: the checksum is then there from 18, the
    /// urgent pointer at 20), else 4 (the ports only). A field whose bytes lie beyond this was not
    /// read and is zero. Formatters show only the fields read. A header whose data offset is below 5
    /// words counts at most 19: it is not a usable TCP header (tcpdump shows its ports and the error,
    /// tshark its ports, sequence number and header length; neither interprets its flags,
    /// acknowledgment or window).
    public var validBytes: Int = 20
    /// The whole fixed header, with a possible data offset.
    public var isComplete: Bool { validBytes >= 20 }
    /// The data offset is at least the 5 words of the fixed header.
    public var dataOffsetValid: Bool { dataOffset >= 5 }
    public func has(through end: Int) -> Bool { validBytes >= end }
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgment: UInt32
    /// Header length in 32-bit words.
    public var dataOffset: UInt8
    public var flags: TCPFlags
    public var window: UInt16
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    public var urgentPointer: UInt16
    /// Payload length as the IP header declares it (what tshark calls tcp.len).
    public var payloadLength: Int
    /// Options are in `Packet.tcpOptions`.
    public var offset: Int
    /// The segment (as long as the IP header declares it, bounded by the frame's length on the wire)
    /// holds the header its data offset declares, so `payloadLength` is meaningful (tshark's tcp.len
    /// exists); false for a fragment, whose segment length is not known.
    public var segmentHoldsHeader = false

    public var headerLength: Int { Int(dataOffset) * 4 }
}

public struct UDPHeader: Sendable {
    /// Bytes of the 8-byte fixed header that were captured (and meaningful); a field whose bytes
    /// lie beyond this was not read and is zero. Formatters show only the fields read.
    public var validBytes: Int = 8
    /// The length field frames a datagram: at least the 8 header bytes, or 0 over IPv6 (the whole IPv6
    /// payload, RFC 2675). A header with an impossible length is not a usable UDP header.
    public var lengthValid = true
    public var isComplete: Bool { validBytes >= 8 && lengthValid }
    public func has(through end: Int) -> Bool { validBytes >= end }
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var length: UInt16
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    public var offset: Int
}
