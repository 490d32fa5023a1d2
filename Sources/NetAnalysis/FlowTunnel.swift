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
        guard p.hasInner else { return nil }
        var level = p
        var found: FlowTunnel?
        var depth = 0
        var steps = 0
        while let box = level.inner, steps < PacketDecoder.maxEncapsulationDepth * 2 {
            steps += 1
            if box.encapsulation != .reassembled {
                depth += 1
                if found == nil, let (s, d) = addresses(level) {
                    let id = level.vxlan?.vni ?? level.geneve?.vni ?? level.gre?.key
                    found = FlowTunnel(encapsulation: box.encapsulation, source: s, destination: d, identifier: id, depth: 0)
                }
            }
            level = box.packet
        }
        found?.depth = depth
        return found
    }

    static func addresses(_ p: Packet) -> (FlowEndpoint, FlowEndpoint)? {
        if let ip = p.ipv4 { return (FlowEndpoint(ipv4: ip.source, port: 0), FlowEndpoint(ipv4: ip.destination, port: 0)) }
        if let ip = p.ipv6 { return (FlowEndpoint(ipv6: ip.source, port: 0), FlowEndpoint(ipv6: ip.destination, port: 0)) }
        return nil
    }

    /// `"vxlan"`, `"geneve"`, `"gre"`, `"ip"`, `"pim"`, `"nsh"`, `"mpls"` (as the JSON `encap`).
    public var name: StaticString { encapsulation.name }
}
