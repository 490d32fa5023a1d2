import NetWire

/// Names of protocol numbers for display. Tables only; no parsing.
public enum Names {
    /// TCP flag names in header order (the JSON contract's spelling), for lists of set flags.
    static let tcpFlagNames: [(TCPFlags, StaticString)] = [
        (.fin, "FIN"), (.syn, "SYN"), (.rst, "RST"), (.psh, "PSH"), (.ack, "ACK"),
        (.urg, "URG"), (.ece, "ECE"), (.cwr, "CWR"), (.ns, "NS"),
    ]

    /// What a Linux cooked capture's packet type means (the `-v` view's words).
    public static func sllPacketType(_ t: UInt16) -> StaticString? {
        switch t {
        case 0: "to us"
        case 1: "broadcast"
        case 2: "multicast"
        case 3: "to another host"
        case 4: "sent by us"
        default: nil
        }
    }

    /// ARPHRD_ hardware types seen in Linux cooked captures.
    public static func arphrd(_ t: UInt16) -> StaticString? {
        switch t {
        case 1: "Ethernet"
        case 772: "loopback"
        case 776: "IPv6-in-IPv4"
        case 65534: "none"
        default: nil
        }
    }

    /// Well-known service names (as in /etc/services) for ports, shown without `-n`.
    public static func service(port: UInt16, udp: Bool) -> StaticString? {
        switch port {
        case 7: "echo"
        case 9: "discard"
        case 13: "daytime"
        case 20: "ftp-data"
        case 21: "ftp"
        case 22: "ssh"
        case 23: "telnet"
        case 25: "smtp"
        case 37: "time"
        case 43: "whois"
        case 53: "domain"
        case 67: "bootps"
        case 68: "bootpc"
        case 69: "tftp"
        case 79: "finger"
        case 80: "http"
        case 88: "kerberos"
        case 110: "pop3"
        case 111: "sunrpc"
        case 113: "auth"
        case 119: "nntp"
        case 123: "ntp"
        case 137: "netbios-ns"
        case 138: "netbios-dgm"
        case 139: "netbios-ssn"
        case 143: "imap"
        case 161: "snmp"
        case 162: "snmp-trap"
        case 179: "bgp"
        case 389: "ldap"
        case 443: "https"
        case 445: "microsoft-ds"
        case 465: "submissions"
        case 500: "isakmp"
        case 514: udp ? "syslog" : "shell"
        case 515: "printer"
        case 520: udp ? "route" : nil
        case 546: "dhcpv6-client"
        case 547: "dhcpv6-server"
        case 554: "rtsp"
        case 587: "submission"
        case 631: "ipp"
        case 636: "ldaps"
        case 853: "domain-s"
        case 873: "rsync"
        case 989: "ftps-data"
        case 990: "ftps"
        case 993: "imaps"
        case 995: "pop3s"
        case 1080: "socks"
        case 1194: "openvpn"
        case 1433: "ms-sql-s"
        case 1812: "radius"
        case 1883: "mqtt"
        case 2049: "nfs"
        case 3306: "mysql"
        case 3389: "ms-wbt-server"
        case 5060: "sip"
        case 5353: "mdns"
        case 5432: "postgresql"
        case 5672: "amqp"
        case 6379: "redis"
        case 6667: "ircd"
        case 8080: "http-alt"
        case 9418: "git"
        case 11211: "memcache"
        default: nil
        }
    }

    public static func etherType(_ t: EtherType) -> StaticString? {
        switch t.rawValue {
        case 0x0800: "IPv4"
        case 0x0806: "ARP"
        case 0x8035: "Reverse ARP"
        case 0x8100: "802.1Q"
        case 0x88A8: "802.1Q-QinQ"
        case 0x9100: "802.1Q-9100"
        case 0x86DD: "IPv6"
        case 0x88CC: "LLDP"
        case 0x8847: "MPLS unicast"
        case 0x8848: "MPLS multicast"
        case 0x8863: "PPPoE D"
        case 0x8864: "PPPoE S"
        case 0x888E: "EAPOL"
        case 0x88E5: "MACsec"
        case 0x894F: "NSH"
        case 0x6558: "Transparent Ethernet Bridging"
        case 0x9000: "Loopback"
        default: nil
        }
    }

    public static func dnsType(_ t: UInt16) -> StaticString? {
        switch t {
        case 1: "A"
        case 2: "NS"
        case 5: "CNAME"
        case 6: "SOA"
        case 10: "NULL"
        case 11: "WKS"
        case 12: "PTR"
        case 13: "HINFO"
        case 14: "MINFO"
        case 15: "MX"
        case 16: "TXT"
        case 17: "RP"
        case 18: "AFSDB"
        case 21: "RT"
        case 24: "SIG"
        case 25: "KEY"
        case 28: "AAAA"
        case 29: "LOC"
        case 33: "SRV"
        case 35: "NAPTR"
        case 36: "KX"
        case 37: "CERT"
        case 39: "DNAME"
        case 41: "OPT"
        case 42: "APL"
        case 43: "DS"
        case 44: "SSHFP"
        case 45: "IPSECKEY"
        case 46: "RRSIG"
        case 47: "NSEC"
        case 48: "DNSKEY"
        case 49: "DHCID"
        case 50: "NSEC3"
        case 51: "NSEC3PARAM"
        case 52: "TLSA"
        case 53: "SMIMEA"
        case 55: "HIP"
        case 59: "CDS"
        case 60: "CDNSKEY"
        case 61: "OPENPGPKEY"
        case 62: "CSYNC"
        case 63: "ZONEMD"
        case 64: "SVCB"
        case 65: "HTTPS"
        case 99: "SPF"
        case 108: "EUI48"
        case 109: "EUI64"
        case 249: "TKEY"
        case 250: "TSIG"
        case 251: "IXFR"
        case 252: "AXFR"
        case 255: "ANY"
        case 256: "URI"
        case 257: "CAA"
        case 32768: "TA"
        case 32769: "DLV"
        default: nil
        }
    }

    public static func dnsClass(_ c: UInt16) -> StaticString? {
        switch c {
        case 1: "IN"
        case 3: "CH"
        case 4: "HS"
        case 254: "NONE"
        case 255: "ANY"
        default: nil
        }
    }

    /// RCODE mnemonics (RFC 6895).
    public static func dnsRcode(_ r: UInt8) -> StaticString? {
        switch r {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSET"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        default: nil
        }
    }

    public static func icmpUnreachable(_ code: UInt8) -> StaticString? {
        switch code {
        case 0: "net"
        case 1: "host"
        case 2: "protocol"
        case 3: "port"
        case 4: "need to frag"
        case 5: "source route failed"
        case 6: "net unknown"
        case 7: "host unknown"
        case 9: "net prohibited"
        case 10: "host prohibited"
        case 13: "admin prohibited filter"
        default: nil
        }
    }

    public static func ipProtocol(_ p: IPProtocol) -> StaticString? {
        switch p.rawValue {
        case 1: "icmp"
        case 2: "igmp"
        case 4: "ipip"
        case 6: "tcp"
        case 17: "udp"
        case 41: "ipv6"
        case 47: "gre"
        case 50: "esp"
        case 51: "ah"
        case 58: "icmp6"
        case 89: "ospf"
        case 103: "pim"
        case 112: "vrrp"
        case 132: "sctp"
        default: nil
        }
    }
}

/// TCP option kinds by name, for options cut off by the capture (only the kind was seen).
enum TCPOptionNames {
    static func json(_ kind: UInt8) -> StaticString {
        switch kind {
        case 0: "eol"
        case 1: "nop"
        case 2: "mss"
        case 3: "wscale"
        case 4: "sack_perm"
        case 5: "sack"
        case 8: "ts"
        default: "unknown"
        }
    }

    /// tcpdump's spelling.
    static func text(_ kind: UInt8) -> StaticString {
        switch kind {
        case 2: "mss"
        case 3: "wscale"
        case 4: "sackOK"
        case 5: "sack"
        case 8: "TS"
        default: "opt"
        }
    }
}

/// The names above as written into output: the mnemonic, or the number after its RFC 3597-style
/// prefix (`TYPE65280`, `CLASS7`, `RCODE12`).
extension OutputBuffer {
    mutating func dnsType(_ t: UInt16) {
        if let n = Names.dnsType(t) { ascii(n) } else { ascii("TYPE"); decimal(t) }
    }

    mutating func dnsClass(_ c: UInt16) {
        if let n = Names.dnsClass(c) { ascii(n) } else { ascii("CLASS"); decimal(c) }
    }

    mutating func dnsRcode(_ r: UInt8) {
        if let n = Names.dnsRcode(r) { ascii(n) } else { ascii("RCODE"); decimal(r) }
    }
}

extension OutputBuffer {
    /// A Linux cooked capture's link-layer address: a MAC for 6 bytes, else its shown bytes in hex.
    mutating func sllAddress(_ s: SLLHeader) {
        if s.addressLength == 6 { mac(MACAddress(raw: s.address)); return }
        var i = s.shownAddressLength - 1
        while i >= 0 { hexByte(UInt8(truncatingIfNeeded: s.address >> UInt64(i &* 8))); i -= 1 }
    }
}
