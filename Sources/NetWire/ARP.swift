enum ARPDecoder {
    static func decode(_ r: ByteReader, _ p: inout Packet) throws(DecodeError) {
        var r = r.rest(layer: .arp)
        let htype = try r.readUInt16()
        let ptype = try r.readUInt16()
        let hlen = try r.readUInt8()
        let plen = try r.readUInt8()
        let op = try r.readUInt16()
        var a = ARPPacket(hardwareType: htype, protocolType: ptype, hardwareLength: hlen, protocolLength: plen,
                          operation: op, isEthernetIPv4: false, senderMAC: MACAddress(raw: 0),
                          senderIP: IPv4Address(raw: 0), targetMAC: MACAddress(raw: 0), targetIP: IPv4Address(raw: 0))
        p.arp = a
        if htype == 1 && hlen != 6 {
            throw DecodeError.malformed(.arp, at: r.offset - 4, field: "hardware length", value: Int(hlen))
        }
        // 6-byte hardware addresses are MACs and 4-byte protocol addresses IPv4, each decoded on
        // its own; other sizes are checked to be there and skipped.
        let macs = hlen == 6, ips = plen == 4
        if macs { a.senderMAC = try r.readMAC() } else { try r.skip(Int(hlen)) }
        if ips { a.senderIP = try r.readIPv4() } else { try r.skip(Int(plen)) }
        if macs { a.targetMAC = try r.readMAC() } else { try r.skip(Int(hlen)) }
        if ips { a.targetIP = try r.readIPv4() } else { try r.skip(Int(plen)) }
        a.hasHardwareAddresses = macs
        a.hasProtocolAddresses = ips
        a.isEthernetIPv4 = macs && ips
        p.arp = a
    }
}
