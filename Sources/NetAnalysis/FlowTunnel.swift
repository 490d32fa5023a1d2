import NetWire

/// The tunnel a conversation was seen in (the outermost one, when tunnels nest): what carried it,
/// between which outer addresses, and its VXLAN/Geneve network identifier or GRE key. Flows are
/// keyed by the innermost conversation; this keeps where it travelled (Zeek's `tunnel_parents`).
public struct FlowTunnel: Sendable, Equatable {
    public var encapsulation: Encapsulation
    /// The outer IP addresses (port 0).
    public var source: FlowEndpoint
    public var destination: FlowEndpoint
    /// VXLAN or Geneve VNI, GRE key.
    public var identifier: UInt32?
    /// How many tunnels the conversation was inside.
    public var depth: Int

    public init(encapsulation: Encapsulation, source: FlowEndpoint, destination: FlowEndpoint, identifier: UInt32?, depth: Int) {
        self.encapsulation = encapsulation
        self.source = source
        self.destination = destination
        self.identifier = identifier
        self.depth = depth
    }

    /// The outermost tunnel of a frame, if its conversation packet is inside one (a reassembled
    /// datagram alone is not a tunnel).
    public static func of(_ p: Packet) -> FlowTunnel? {
        guard p.hasInner, var box = p.inner else { return nil }
        // The outermost tunnel is the frame's own, unless the frame only carries a reassembled
        // datagram; levels are read in their boxes (no copy of a packet per level).
        var found: FlowTunnel?
        var depth = 0
        if box.encapsulation != .reassembled {
            depth = 1
            found = tunnel(box.encapsulation, p)
        }
        var steps = 0
        while let next = box.packet.inner, steps < PacketDecoder.maxEncapsulationDepth * 2 {
            steps += 1
            if next.encapsulation != .reassembled {
                depth += 1
                if found == nil { found = tunnel(next.encapsulation, box.packet) }
            }
            box = next
        }
        found?.depth = depth
        return found
    }

    /// The tunnel `carrier` (the packet whose payload it is) describes.
    static func tunnel(_ e: Encapsulation, _ carrier: borrowing Packet) -> FlowTunnel? {
        guard let (s, d) = addresses(carrier) else { return nil }
        let id = carrier.vxlan?.vni ?? carrier.geneve?.vni ?? carrier.gre?.key
        return FlowTunnel(encapsulation: e, source: s, destination: d, identifier: id, depth: 0)
    }

    static func addresses(_ p: borrowing Packet) -> (FlowEndpoint, FlowEndpoint)? {
        if let ip = p.ipv4 { return (FlowEndpoint(ipv4: ip.source, port: 0), FlowEndpoint(ipv4: ip.destination, port: 0)) }
        if let ip = p.ipv6 { return (FlowEndpoint(ipv6: ip.source, port: 0), FlowEndpoint(ipv6: ip.destination, port: 0)) }
        return nil
    }

    /// `"vxlan"`, `"geneve"`, `"gre"`, `"ip"`, `"pim"`, `"nsh"`, `"mpls"` (as the JSON `encap`).
    public var name: StaticString { encapsulation.name }
}
