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
        if hlen == 6 && plen == 4 {
            a.senderMAC = try r.readMAC()
            a.senderIP = try r.readIPv4()
            a.targetMAC = try r.readMAC()
            a.targetIP = try r.readIPv4()
            a.isEthernetIPv4 = true
            p.arp = a
        } else {
            if htype == 1 && hlen != 6 {
                throw DecodeError.malformed(.arp, at: r.offset - 4, field: "hardware length", value: Int(hlen))
            }
            // Other address sizes: check the addresses are all there, without decoding them.
            try r.skip(2 * (Int(hlen) + Int(plen)))
        }
    }
}
