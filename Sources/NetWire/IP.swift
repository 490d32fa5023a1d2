/// The upper-layer part of an IP datagram: where it starts, how long the IP header says it is,
/// the reader over it, and what the checksum pseudo-header needs.
struct UpperLayer {
    var reader: ByteReader
    var proto: IPProtocol
    /// Length the IP header declares for the upper layer.
    var declaredLength: Int
    /// The length on the wire as far as it can be known: the declared length, unless the frame was
    /// captured whole and is shorter than the IP header claims (a malformed length), then what is there.
    var effectiveLength: Int
    /// True when every declared byte is in the capture.
    var complete: Bool
    /// Pseudo-header sum for checksums; nil for non-first fragments.
    var pseudoHeader: UInt64
    /// Part of a fragmented datagram: transport checksums cannot be verified.
    var fragmented: Bool
    var firstFragment: Bool
    var isIPv6: Bool
    /// IPv6: the destination the upper-layer checksum covers (after a routing header).
    var finalDestination: IPv6Address?
}

enum IPv4Decoder {
    static func decode(_ r: ByteReader, _ p: inout Packet, verifyChecksums: Bool) throws(DecodeError) -> UpperLayer? {
        var h = r.rest(layer: .ipv4)
        let start = h.offset
        var f = h.fields(20)
        let vihl = f.u8()
        guard f.available == 0 || vihl >> 4 == 4 else {
            throw DecodeError.malformed(.ipv4, at: start, field: "version", value: Int(vihl >> 4))
        }
        let ihl = vihl & 0x0F
        let tos = f.u8()
        let total = f.u16()
        let ident = f.u16()
        let frag = f.u16()
        let ttl = f.u8()
        let proto = IPProtocol(rawValue: f.u8())
        let checksum = f.u16()
        let src = f.ipv4()
        let dst = f.ipv4()
        let hl = Int(ihl) * 4
        var ip = IPv4Header(ihl: ihl, tos: tos, totalLength: total, identification: ident,
                            dontFragment: frag & 0x4000 != 0, moreFragments: frag & 0x2000 != 0,
                            reservedFlag: frag & 0x8000 != 0, fragmentOffset: frag & 0x1FFF,
                            ttl: ttl, proto: proto, checksum: checksum, checksumStatus: .unverified,
                            source: src, destination: dst, optionsLength: max(hl - 20, 0), offset: start)
        // With a header length below 5 words only version and IHL mean anything.
        ip.validBytes = ihl < 5 ? min(f.available, 1) : f.available
        if f.available > 0 { p.ipv4 = ip }
        try h.skip(20)  // reports the cut, after keeping the fields that were captured
        guard ihl >= 5 else { throw DecodeError.malformed(.ipv4, at: start, field: "header length", value: hl) }
        guard Int(total) >= hl else {
            // A total length below the header length leaves only the fields up to it meaningful.
            ip.validBytes = min(ip.validBytes, 4)
            p.ipv4 = ip
            throw DecodeError.malformed(.ipv4, at: start + 2, field: "total length", value: Int(total))
        }
        // The header checksum first: it holds even when an option inside turns out malformed.
        if verifyChecksums {
            let header = h.raw(from: start, to: start + hl)
            if header.count == hl && hl <= h.upper - start {
                ip.checksumStatus = InternetChecksum.fold(InternetChecksum.sum(header)) == 0xFFFF ? .ok : .bad
                p.ipv4 = ip
            }
        }
        // Options.
        if hl > 20 {
            var o = h.sub(declared: hl - 20, layer: .ipv4)
            try o.require(hl - 20)
            do {
                try decodeOptions(&o, &p)
            } catch {
                // A malformed option is reported; the datagram behind the header is still decoded.
                p.errors.append(error)
            }
            try h.skip(hl - 20)
        }
        let declared = Int(total) - hl
        let available = r.upper - start - hl
        if declared > available && !r.clampedByCapture {
            // The frame itself (captured whole) is shorter than the IP header claims.
            p.errors.append(DecodeError(layer: .ipv4, kind: .malformed, offset: start + 2,
                                        detail: .badValue(field: "total length exceeds frame", value: Int(total))))
        }
        let body = h.sub(declared: declared, layer: .ipv4)
        let fragmented = ip.isFragment
        return UpperLayer(reader: body, proto: proto, declaredLength: declared,
                          effectiveLength: body.clampedByCapture ? declared : min(declared, body.remaining),
                          complete: body.remaining == declared,
                          pseudoHeader: InternetChecksum.pseudoHeaderIPv4(source: src, destination: dst, proto: proto.rawValue, length: declared),
                          fragmented: fragmented, firstFragment: ip.fragmentOffset == 0, isIPv6: false, finalDestination: nil)
    }

    static func decodeOptions(_ o: inout ByteReader, _ p: inout Packet) throws(DecodeError) {
        while !o.isAtEnd {
            let at = o.offset
            let kind = try o.readUInt8()
            if kind == 0 {  // end of option list
                p.ipv4Options.append(IPv4Option(kind: 0, length: 1))
                return
            }
            if kind == 1 {  // no-op
                p.ipv4Options.append(IPv4Option(kind: 1, length: 1))
                continue
            }
            let len = try o.readUInt8()
            guard len >= 2 else { throw DecodeError.malformed(.ipv4, at: at + 1, field: "option length", value: Int(len)) }
            guard Int(len) - 2 <= o.remaining else {
                throw DecodeError.malformed(.ipv4, at: at + 1, field: "option length", value: Int(len))
            }
            try o.skip(Int(len) - 2)
            p.ipv4Options.append(IPv4Option(kind: kind, length: len))
        }
    }
}

enum IPv6Decoder {
    /// Most extension headers walked; a longer chain is malformed.
    static let maxExtensionHeaders = 8

    static func decode(_ r: ByteReader, _ p: inout Packet) throws(DecodeError) -> UpperLayer? {
        var h = r.rest(layer: .ipv6)
        let start = h.offset
        var f = h.fields(40)
        let first = f.u32()
        guard f.available < 4 || first >> 28 == 6 else {
            throw DecodeError.malformed(.ipv6, at: start, field: "version", value: Int(first >> 28))
        }
        let plen = f.u16()
        let next = IPProtocol(rawValue: f.u8())
        let hlim = f.u8()
        let src = f.ipv6()
        let dst = f.ipv6()
        var ip = IPv6Header(trafficClass: UInt8(truncatingIfNeeded: first >> 20), flowLabel: first & 0xFFFFF,
                            payloadLength: plen, nextHeader: next, hopLimit: hlim, source: src, destination: dst,
                            upperProtocol: next, extensionCount: 0, isFragment: false, fragmentOffset: 0,
                            moreFragments: false, fragmentIdentification: 0, offset: start)
        ip.validBytes = f.available
        if f.available >= 4 { p.ipv6 = ip }
        try h.skip(40)
        let available = r.upper - start - 40
        if Int(plen) > available && !r.clampedByCapture {
            p.errors.append(DecodeError(layer: .ipv6, kind: .malformed, offset: start + 4,
                                        detail: .badValue(field: "payload length exceeds frame", value: Int(plen))))
        }
        var body = h.sub(declared: Int(plen), layer: .ipv6)
        var proto = next
        var consumed = 0
        var finalDestination = dst
        walk: while true {
            switch proto {
            case .hopByHop, .routing, .destinationOptions, .fragment, .ah:
                guard ip.extensionCount < maxExtensionHeaders else {
                    throw DecodeError.malformed(.ipv6, at: body.offset, field: "extension header chain length", value: ip.extensionCount + 1)
                }
                let at = body.offset
                let nh = IPProtocol(rawValue: try body.readUInt8())
                let lenByte = Int(try body.readUInt8())
                let len: Int
                if proto == .fragment {
                    len = 8
                    let offFlags = try body.readUInt16()
                    let ident = try body.readUInt32()
                    ip.isFragment = true
                    ip.fragmentOffset = offFlags >> 3
                    ip.moreFragments = offFlags & 1 != 0
                    ip.fragmentIdentification = ident
                } else if proto == .routing {
                    len = (lenByte + 1) * 8
                    try body.require(len - 2)
                    let routingType = try body.readUInt8()
                    let segmentsLeft = try body.readUInt8()
                    // The upper-layer checksum covers the final destination (RFC 8200 §8.1).
                    if segmentsLeft > 0 {
                        let addresses = (len - 8) / 16
                        switch routingType {
                        case 0 where addresses >= 1, 2 where addresses >= 1:  // type 0: the last address; type 2: the home address
                            var a = body
                            try a.skip(4 + (routingType == 0 ? (addresses - 1) * 16 : 0))
                            finalDestination = try a.readIPv6()
                        case 4 where addresses >= 1:  // segment routing: segment list[0] is the final one
                            var a = body
                            try a.skip(4)
                            finalDestination = try a.readIPv6()
                        default:
                            break
                        }
                    }
                    try body.skip(len - 4)
                } else {
                    len = proto == .ah ? (lenByte + 2) * 4 : (lenByte + 1) * 8
                    try body.skip(len - 2)
                }
                consumed += len
                p.ipv6Extensions.append(proto)
                ip.extensionCount += 1
                proto = nh
                ip.upperProtocol = nh
                p.ipv6 = ip
                _ = at
            default:
                break walk
            }
        }
        let declared = Int(plen) - consumed
        guard declared >= 0 else {
            throw DecodeError.malformed(.ipv6, at: start + 4, field: "payload length", value: Int(plen))
        }
        // An atomic fragment (offset 0, no more fragments) holds the whole datagram.
        let fragmented = ip.isFragment && (ip.moreFragments || ip.fragmentOffset != 0)
        let rest = body.rest(layer: .ipv6)
        return UpperLayer(reader: rest, proto: proto, declaredLength: declared,
                          effectiveLength: rest.clampedByCapture ? declared : min(declared, rest.remaining),
                          complete: rest.remaining == declared,
                          pseudoHeader: InternetChecksum.pseudoHeaderIPv6(source: src, destination: finalDestination, proto: proto.rawValue, length: declared),
                          fragmented: fragmented, firstFragment: ip.fragmentOffset == 0, isIPv6: true, finalDestination: finalDestination)
    }
}
