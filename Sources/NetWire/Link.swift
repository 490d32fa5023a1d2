// Link-layer decoders: Ethernet (with VLAN tags), Linux cooked (SLL, SLL2), BSD null/loop, raw IP.

enum LinkDecoder {
    /// Most VLAN tags walked before giving up (QinQ is two; stacks deeper than this are malformed).
    static let maxVLANTags = VLANTags.capacity

    static func ethernet(_ r: inout ByteReader, _ p: inout Packet) throws(DecodeError) -> EtherType? {
        let start = r.offset
        try r.require(14)
        let dst = try r.readMAC()
        let src = try r.readMAC()
        var type = EtherType(rawValue: try r.readUInt16())
        var tags = VLANTags()
        // Record what we have before walking tags, so a truncated tag keeps the MACs.
        p.ethernet = EthernetHeader(destination: dst, source: src, etherType: type, vlans: tags,
                                    isLength8023: false, headerLength: 14)
        while type.isVLANTag {
            guard tags.count < maxVLANTags else {
                throw DecodeError.malformed(.vlan, at: r.offset, field: "VLAN tag depth", value: tags.count + 1)
            }
            var v = r.rest(layer: .vlan)
            let tci = try v.readUInt16()
            let inner = EtherType(rawValue: try v.readUInt16())
            r = v.rest(layer: .ethernet)
            tags.append(tpid: type.rawValue, tci: tci)
            type = inner
            p.ethernet?.vlans = tags
            p.ethernet?.etherType = type
            p.ethernet?.headerLength = r.offset - start
        }
        if type.rawValue < 0x0600 {
            // IEEE 802.3 length field: LLC follows, which we do not decode.
            p.ethernet?.isLength8023 = true
            return nil
        }
        return type
    }

    static func sll(_ r: inout ByteReader, _ p: inout Packet) throws(DecodeError) -> EtherType? {
        var h = r.rest(layer: .sll)
        var f = h.fields(16)
        let packetType = f.u16()
        let arphrd = f.u16()
        let alen = f.u16()
        let addr = UInt64(f.u32()) << 32 | UInt64(f.u32())
        let proto = f.u16()
        let shown = min(Int(alen), 8)
        let address = shown == 0 ? 0 : addr >> UInt64((8 - shown) * 8)
        p.sll = SLLHeader(version: 1, packetType: packetType, arphrdType: arphrd, addressLength: alen,
                          address: address, protocolType: EtherType(rawValue: proto), interfaceIndex: 0,
                          validBytes: f.available)
        if f.available < 2 { p.sll = nil }
        try h.skip(16)  // the cut, after keeping what was captured
        r = h.rest(layer: .link)
        return cookedProtocol(proto, arphrd: arphrd)
    }

    static func sll2(_ r: inout ByteReader, _ p: inout Packet) throws(DecodeError) -> EtherType? {
        var h = r.rest(layer: .sll2)
        var f = h.fields(20)
        let proto = f.u16()
        _ = f.u16()  // reserved
        let ifindex = f.u32()
        let arphrd = f.u16()
        let packetType = UInt16(f.u8())
        let alen = f.u8()
        let addr = UInt64(f.u32()) << 32 | UInt64(f.u32())
        let shown = min(Int(alen), 8)
        let address = shown == 0 ? 0 : addr >> UInt64((8 - shown) * 8)
        p.sll = SLLHeader(version: 2, packetType: packetType, arphrdType: arphrd, addressLength: UInt16(alen),
                          address: address, protocolType: EtherType(rawValue: proto), interfaceIndex: ifindex,
                          validBytes: f.available)
        // tshark reads protocol, interface index, hardware type and packet type together (through byte
        // 12) before it shows any of them, and tcpdump shows none of a cut header: so nothing is kept
        // of a header cut before its address length.
        if f.available < 12 { p.sll = nil }
        try h.skip(20)
        r = h.rest(layer: .link)
        return cookedProtocol(proto, arphrd: arphrd)
    }

    /// The cooked header's protocol field is an EtherType except for a few Linux-internal values
    /// below 0x0600 (802.3, 802.2 LLC, CAN …) and for netlink captures.
    static func cookedProtocol(_ proto: UInt16, arphrd: UInt16) -> EtherType? {
        if arphrd == 824 { return nil }  // ARPHRD_NETLINK
        if proto < 0x0600 { return nil }
        return EtherType(rawValue: proto)
    }

    /// DLT_NULL (host byte order family) and DLT_LOOP (network byte order).
    static func null(_ r: inout ByteReader, _ p: inout Packet, networkOrder: Bool) throws(DecodeError) -> EtherType? {
        var h = r.rest(layer: .null)
        var family = networkOrder ? try h.readUInt32() : try h.readUInt32LE()
        // The writer's byte order is unknown for DLT_NULL: families are small numbers, so a value
        // with high bits set was written in the other order.
        if family & 0xFFFF_0000 != 0 { family = family.byteSwapped }
        p.null = NullHeader(family: family)
        r = h.rest(layer: .link)
        switch family {
        case 2: return .ipv4
        case 10, 24, 28, 30: return .ipv6
        default: return nil
        }
    }

    /// Raw IP: the version nibble says which.
    static func raw(_ r: ByteReader) throws(DecodeError) -> EtherType? {
        let first = try r.byte(at: r.offset, lowerBound: r.offset)
        switch first >> 4 {
        case 4: return .ipv4
        case 6: return .ipv6
        default:
            throw DecodeError.malformed(.raw, at: r.offset, field: "IP version", value: Int(first >> 4))
        }
    }
}
