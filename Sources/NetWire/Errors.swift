/// The protocol layer a field or error belongs to.
public enum Layer: UInt8, Sendable, Hashable, CaseIterable {
    case link, ethernet, vlan, sll, sll2, null, raw, arp, ipv4, ipv6, icmp, icmpv6, tcp, udp, dns,
         mpls, pppoe, macsec, nsh, vxlan, geneve, gre, pim

    public var name: StaticString {
        switch self {
        case .link: "link"
        case .ethernet: "ether"
        case .vlan: "vlan"
        case .sll: "sll"
        case .sll2: "sll2"
        case .null: "null"
        case .raw: "raw"
        case .arp: "arp"
        case .ipv4: "ip"
        case .ipv6: "ip6"
        case .icmp: "icmp"
        case .icmpv6: "icmp6"
        case .tcp: "tcp"
        case .udp: "udp"
        case .dns: "domain"
        case .mpls: "mpls"
        case .pppoe: "pppoe"
        case .macsec: "macsec"
        case .nsh: "nsh"
        case .vxlan: "vxlan"
        case .geneve: "geneve"
        case .gre: "gre"
        case .pim: "pim"
        }
    }
}

/// What went wrong, as a value (formatting is the output layer's job).
public enum ErrorDetail: Sendable, Hashable {
    /// The capture ended `n` bytes short of a field.
    case needBytes(Int)
    /// A field runs past the length the enclosing header declared.
    case pastDeclaredLength(Int)
    /// A field holds an impossible value.
    case badValue(field: String, value: Int)
    /// A field is inconsistent with another.
    case inconsistent(String)
}

/// A decode problem with its layer and absolute byte offset in the captured packet.
public struct DecodeError: Error, Sendable, Hashable {
    public enum Kind: UInt8, Sendable { case truncated, malformed }
    public var layer: Layer
    public var kind: Kind
    public var offset: Int
    public var detail: ErrorDetail

    public init(layer: Layer, kind: Kind, offset: Int, detail: ErrorDetail) {
        self.layer = layer
        self.kind = kind
        self.offset = offset
        self.detail = detail
    }

    public static func truncated(_ layer: Layer, at offset: Int, needed: Int) -> DecodeError {
        DecodeError(layer: layer, kind: .truncated, offset: offset, detail: .needBytes(needed))
    }

    public static func malformed(_ layer: Layer, at offset: Int, field: String, value: Int) -> DecodeError {
        DecodeError(layer: layer, kind: .malformed, offset: offset, detail: .badValue(field: field, value: value))
    }

    public static func malformed(_ layer: Layer, at offset: Int, _ why: String) -> DecodeError {
        DecodeError(layer: layer, kind: .malformed, offset: offset, detail: .inconsistent(why))
    }
}
