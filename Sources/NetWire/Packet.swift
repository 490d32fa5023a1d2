/// Everything decoded from one captured frame. A `Packet` is reused from frame to frame (its arrays
/// keep their capacity), so decoding the common packet allocates nothing.
public struct Packet: @unchecked Sendable {
    public var linkType: LinkType = .ethernet
    /// Captured bytes and original (wire) length.
    public var capturedLength: Int = 0
    public var wireLength: Int = 0

    public var ethernet: EthernetHeader?
    public var sll: SLLHeader?
    public var null: NullHeader?
    public var arp: ARPPacket?
    public var ipv4: IPv4Header?
    public var ipv4Options: [IPv4Option] = []
    public var ipv6: IPv6Header?
    /// The IPv6 extension headers walked, in order.
    public var ipv6Extensions: [IPv6Extension] = []
    /// The addresses of IPv6 routing headers (see `IPv6Extension.addressStart`).
    public var ipv6RoutingAddresses: [IPv6Address] = []
    public var icmp: ICMPMessage?
    public var icmpv6: ICMPv6Message?
    public var tcp: TCPHeader?
    public var tcpOptions: [TCPOption] = []
    public var udp: UDPHeader?
    public var dns: DNSMessage?
    /// Encapsulation headers (see Tunnels.swift): shims before the network layer and tunnel headers
    /// whose payload is the `inner` packet.
    public var mpls: [MPLSLabel] = []
    public var pppoe: PPPoEHeader?
    public var macsec: MACsecHeader?
    public var nsh: NSHHeader?
    public var vxlan: VXLANHeader?
    public var geneve: GeneveHeader?
    public var gre: GREHeader?
    public var pim: PIMHeader?
    /// Part of a fragmented IP datagram (not for an atomic fragment).
    public var fragment: FragmentInfo?
    /// Some shim, tunnel header or fragment field above is set (the common packet skips them all).
    public var hasEncapsulation = false
    /// The IP length field was 0 (segmentation offload, BIG TCP): the captured length stood in.
    public var lengthFromCapture = false
    /// How deep inside tunnels this packet is (0 for the frame's own).
    public var depth = 0
    /// The inner packet's box (kept across frames for its capacity); `hasInner` says if it is in use.
    @usableFromInline var innerStorage: InnerPacket?
    public var hasInner = false
    public var errors: [DecodeError] = []
    /// Source and destination port of a TCP/UDP header, kept even when the rest of it was cut off.
    public var partialPorts: (UInt16, UInt16)?

    /// The network-layer protocol the link header announced (set even when it is not decoded).
    public var networkType: EtherType?
    /// Where the network header starts: the link header's length as decoded (VLAN tags included);
    /// the captured length when the link header was cut, 0 for an unsupported link type.
    public var networkOffset = 0
    /// Absolute range of the captured application payload (TCP/UDP payload), if any.
    public var payloadStart: Int = 0
    public var payloadEnd: Int = 0
    /// False when the link type is not one we decode.
    public var linkSupported: Bool = true

    public init() {}

    public mutating func reset(linkType: LinkType, capturedLength: Int, wireLength: Int) {
        self.linkType = linkType
        self.capturedLength = capturedLength
        self.wireLength = wireLength
        ethernet = nil; sll = nil; null = nil; arp = nil
        ipv4 = nil; ipv6 = nil; icmp = nil; icmpv6 = nil; tcp = nil; udp = nil; dns = nil
        if !ipv4Options.isEmpty { ipv4Options.removeAll(keepingCapacity: true) }
        if !ipv6Extensions.isEmpty { ipv6Extensions.removeAll(keepingCapacity: true) }
        if !ipv6RoutingAddresses.isEmpty { ipv6RoutingAddresses.removeAll(keepingCapacity: true) }
        if !tcpOptions.isEmpty { tcpOptions.removeAll(keepingCapacity: true) }
        if !errors.isEmpty { errors.removeAll(keepingCapacity: true) }
        partialPorts = nil
        if hasEncapsulation {
            if !mpls.isEmpty { mpls.removeAll(keepingCapacity: true) }
            pppoe = nil; macsec = nil; nsh = nil; vxlan = nil; gre = nil; pim = nil; fragment = nil
            if geneve != nil { geneve = nil }
            hasEncapsulation = false
        }
        lengthFromCapture = false
        hasInner = false
        networkType = nil
        networkOffset = capturedLength
        payloadStart = 0; payloadEnd = 0
        linkSupported = true
    }

    public var payloadLength: Int { payloadEnd - payloadStart }
    public var hasErrors: Bool { !errors.isEmpty }
}
