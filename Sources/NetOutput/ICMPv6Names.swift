/// ICMPv6 type and code names, spelled as tcpdump spells them (print-icmp6.c), for the text line
/// and the JSON `name`.
enum ICMPv6Names {
    static func type(_ t: UInt8) -> StaticString? {
        switch t {
        case 1: "destination unreachable"
        case 2: "packet too big"
        case 3: "time exceeded in-transit"
        case 4: "parameter problem"
        case 128: "echo request"
        case 129: "echo reply"
        case 130: "multicast listener query"
        case 131: "multicast listener report"
        case 132: "multicast listener done"
        case 133: "router solicitation"
        case 134: "router advertisement"
        case 135: "neighbor solicitation"
        case 136: "neighbor advertisement"
        case 137: "redirect"
        case 138: "router renumbering"
        case 139: "who-are-you request"
        case 140: "who-are-you reply"
        case 141: "inverse neighbor solicitation"
        case 142: "inverse neighbor advertisement"
        case 143: "multicast listener report v2"
        case 144: "ha discovery request"
        case 145: "ha discovery reply"
        case 146: "mobile router solicitation"
        case 147: "mobile router advertisement"
        case 155: "RPL"
        case 200: "mtrace response"
        case 201: "mtrace message"
        default: nil
        }
    }

    /// Destination unreachable codes (tcpdump's `icmp6_dst_unreach_code_values`, its odd leading
    /// space in code 1 included).
    static func unreachable(_ c: UInt8) -> StaticString? {
        switch c {
        case 0: "unreachable route"
        case 1: " unreachable prohibited"
        case 2: "beyond scope"
        case 3: "unreachable address"
        case 4: "unreachable port"
        default: nil
        }
    }
}
