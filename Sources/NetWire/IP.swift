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
    static func decode(_ r: ByteReader, _ p: inout Packet, verifyChecksums: Bool, tsoSupport: Bool = true) throws(DecodeError) -> UpperLayer? {
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
        var totalLength = Int(total)
        if total == 0 && tsoSupport {
            // Segmentation offload (TSO/GSO, BIG TCP): the stack handed the capture one large
            // packet with total length 0; the frame's length from here stands in (as tshark does).
            let onWire = r.clampedByCapture && p.depth == 0 ? p.wireLength - start : r.upper - start
            totalLength = max(onWire, 0)
            ip.totalLength = UInt16(clamping: totalLength)
            p.lengthFromCapture = true
            p.ipv4 = ip
        }
        guard totalLength >= hl else {
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
        let declared = totalLength - hl
        let available = r.upper - start - hl
        if declared > available && !r.clampedByCapture {
            // The frame itself (captured whole) is shorter than the IP header claims.
            p.errors.append(DecodeError(layer: .ipv4, kind: .malformed, offset: start + 2,
                                        detail: .badValue(field: "total length exceeds frame", value: totalLength)))
        }
        let body = h.sub(declared: declared, layer: .ipv4)
        let fragmented = ip.isFragment
        if fragmented {
            p.hasEncapsulation = true
            p.fragment = FragmentInfo(identification: UInt32(ident), offset: Int(ip.fragmentOffset) * 8, length: max(declared, 0),
                                      moreFragments: ip.moreFragments, isIPv6: false, dataStart: body.offset,
                                      capturedLength: min(max(declared, 0), body.remaining), proto: proto)
        }
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
    /// RFC 2675 Jumbo Payload option type (in a hop-by-hop header).
    static let jumboOption: UInt8 = 0xC2

    static func isExtension(_ p: IPProtocol) -> Bool { p.isIPv6ExtensionHeader }

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
        // The payload length, or for a jumbogram (payload length 0, RFC 2675) the Jumbo Payload option's.
        var payloadLength = Int(plen)
        let available = r.upper - start - 40
        if plen == 0 && next == .hopByHop {
            let jumbo = try jumboLength(h)
            if jumbo > 0xFFFF {
                ip.jumboPayloadLength = jumbo
                p.ipv6 = ip
                payloadLength = Int(jumbo)
            } else {
                // No (valid) jumbogram: reported, and the chain is walked over what the frame holds.
                p.errors.append(DecodeError.malformed(.ipv6, at: start + 4,
                                                      field: jumbo == 0 ? "payload length 0 without jumbo option" : "jumbo payload length",
                                                      value: Int(jumbo)))
                payloadLength = max(available, 0)
            }
        }
        if payloadLength > available && !r.clampedByCapture {
            p.errors.append(DecodeError(layer: .ipv6, kind: .malformed, offset: start + 4,
                                        detail: .badValue(field: "payload length exceeds frame", value: payloadLength)))
        }
        var body = h.sub(declared: payloadLength, layer: .ipv6)
        var proto = next
        var consumed = 0
        var finalDestination = dst
        // The fragmentable part (RFC 8200 §4.5) starts right after the fragment header: where a
        // fragment's data begins, how much of the payload precedes it, and its first header.
        var fragmentData: (start: Int, before: Int, next: IPProtocol)?
        while isExtension(proto) {
            // A later fragment holds datagram bytes after its fragment header, not headers.
            if fragmentData != nil && ip.fragmentOffset != 0 { break }
            guard ip.extensionCount < maxExtensionHeaders else {
                throw DecodeError.malformed(.ipv6, at: body.offset, field: "extension header chain length", value: ip.extensionCount + 1)
            }
            let at = body.offset
            let nh = IPProtocol(rawValue: try body.readUInt8())
            let lenByte = try body.readUInt8()
            var e = IPv6Extension(kind: proto, offset: at, length: 0)
            e.lengthField = lenByte
            switch proto {
            case .fragment:
                e.length = 8
                let offsetFlags = try body.readUInt16()
                e.identification = try body.readUInt32()
                e.fragmentOffset = offsetFlags >> 3
                e.moreFragments = offsetFlags & 1 != 0
                ip.isFragment = true
                ip.fragmentOffset = e.fragmentOffset
                ip.moreFragments = e.moreFragments
                ip.fragmentIdentification = e.identification
            case .routing:
                e.length = (Int(lenByte) + 1) * 8
                try body.require(e.length - 2)
                e.routingType = try body.readUInt8()
                e.segmentsLeft = try body.readUInt8()
                e.routingData = try body.readUInt32()
                // Types 0 and 2 hold Hdr Ext Len / 2 addresses; type 4 (segment routing) holds
                // last entry + 1 of them, as far as the header reaches.
                let room = (e.length - 8) / 16
                let count: Int
                switch e.routingType {
                case 0, 2: count = room
                case 4: count = min(Int(e.routingData >> 24) + 1, room)
                default: count = 0
                }
                e.addressStart = p.ipv6RoutingAddresses.count
                var i = 0
                while i < count {
                    p.ipv6RoutingAddresses.append(try body.readIPv6())
                    i += 1
                }
                e.addressCount = count
                // The upper-layer checksum covers the final destination (RFC 8200 §8.1): for type 0
                // the last address, type 2 the home address, type 4 segment list[0], type 3 (RPL) the
                // last, compressed address.
                if e.segmentsLeft > 0 && count > 0 {
                    switch e.routingType {
                    case 0: finalDestination = p.ipv6RoutingAddresses[e.addressStart + count - 1]
                    case 2, 4: finalDestination = p.ipv6RoutingAddresses[e.addressStart]
                    default: break
                    }
                }
                if e.segmentsLeft > 0 && e.routingType == 3,
                   let last = try rplLastAddress(body, header: at, length: e.length, data: e.routingData, destination: dst) {
                    finalDestination = last
                }
                try body.seek(to: at + e.length, lowerBound: at)
            case .ah:
                e.length = (Int(lenByte) + 2) * 4
                // Next header, length, reserved, SPI and sequence number take 12 bytes.
                guard e.length >= 12 else {
                    throw DecodeError.malformed(.ipv6, at: at + 1, field: "AH length", value: Int(lenByte))
                }
                try body.require(e.length - 2)
                try body.skip(2)  // reserved
                e.spi = try body.readUInt32()
                e.sequence = try body.readUInt32()
                try body.seek(to: at + e.length, lowerBound: at)
            default:  // hop-by-hop and destination options
                e.length = (Int(lenByte) + 1) * 8
                try body.require(e.length - 2)
                // An option running past its header is reported; the datagram behind is still decoded.
                if let problem = optionProblem(body.sub(declared: e.length - 2, layer: .ipv6)) { p.errors.append(problem) }
                try body.skip(e.length - 2)
            }
            consumed += e.length
            if proto == .fragment && fragmentData == nil { fragmentData = (at + 8, consumed, nh) }
            p.ipv6Extensions.append(e)
            ip.extensionCount += 1
            proto = nh
            ip.upperProtocol = nh
            p.ipv6 = ip
        }
        let declared = payloadLength - consumed
        guard declared >= 0 else {
            throw DecodeError.malformed(.ipv6, at: start + 4, field: "payload length", value: payloadLength)
        }
        // An atomic fragment (offset 0, no more fragments) holds the whole datagram.
        let fragmented = ip.isFragment && (ip.moreFragments || ip.fragmentOffset != 0)
        let rest = body.rest(layer: .ipv6)
        if fragmented, let fd = fragmentData {
            // The fragment's data: everything after its fragment header (extension headers that
            // follow it in the first fragment belong to the datagram being reassembled).
            let length = max(payloadLength - fd.before, 0)
            let captured = max(min(length, body.upper - fd.start), 0)
            p.hasEncapsulation = true
            p.fragment = FragmentInfo(identification: ip.fragmentIdentification, offset: Int(ip.fragmentOffset) * 8,
                                      length: length, moreFragments: ip.moreFragments, isIPv6: true, dataStart: fd.start,
                                      capturedLength: captured, proto: fd.next)
        }
        return UpperLayer(reader: rest, proto: proto, declaredLength: declared,
                          effectiveLength: rest.clampedByCapture ? declared : min(declared, rest.remaining),
                          complete: rest.remaining == declared,
                          pseudoHeader: InternetChecksum.pseudoHeaderIPv6(source: src, destination: finalDestination, proto: proto.rawValue, length: declared),
                          fragmented: fragmented, firstFragment: ip.fragmentOffset == 0, isIPv6: true, finalDestination: finalDestination)
    }

    /// The options of a hop-by-hop or destination-options header (`o` covers them): Pad1 is one byte,
    /// every other option type-length-value. Returns the error for an option that runs past the header.
    static func optionProblem(_ o: ByteReader) -> DecodeError? {
        var o = o
        while !o.isAtEnd {
            let at = o.offset
            guard let type = try? o.readUInt8() else { return nil }
            if type == 0 { continue }  // Pad1
            guard let len = try? o.readUInt8(), Int(len) <= o.remaining else {
                return DecodeError.malformed(.ipv6, at: at + 1, field: "option length", value: Int((try? o.byte(at: at + 1, lowerBound: at)) ?? 0))
            }
            try? o.skip(Int(len))
        }
        return nil
    }

    /// RFC 6554 (RPL source routing, type 3): the last address of the vector, `16 − CmprE` bytes
    /// after the first `CmprE` bytes of the IPv6 destination; nil when the vector holds none.
    static func rplLastAddress(_ r: ByteReader, header at: Int, length: Int, data: UInt32,
                               destination: IPv6Address) throws(DecodeError) -> IPv6Address? {
        let cmprI = Int(data >> 28), cmprE = Int((data >> 24) & 0xF), pad = Int((data >> 20) & 0xF)
        let vector = length - 8 - pad
        guard vector >= 16 - cmprE else { return nil }
        let n = (vector - (16 - cmprE)) / (16 - cmprI) + 1
        let lastAt = at + 8 + (n - 1) * (16 - cmprI)
        var hi = destination.hi, lo = destination.lo
        var i = cmprE
        while i < 16 {
            let b = UInt64(try r.byte(at: lastAt + i - cmprE, lowerBound: at))
            let shift = UInt64((7 - (i & 7)) * 8)
            if i < 8 { hi = hi & ~(0xFF << shift) | b << shift } else { lo = lo & ~(0xFF << shift) | b << shift }
            i += 1
        }
        return IPv6Address(hi: hi, lo: lo)
    }

    /// The Jumbo Payload option of the hop-by-hop header at `r` (0 when it has none): its options are
    /// walked (Pad1 is one byte, every other option type-length-value) inside the header's length.
    static func jumboLength(_ r: ByteReader) throws(DecodeError) -> UInt32 {
        var h = r.rest(layer: .ipv6)
        try h.skip(1)
        let length = (Int(try h.readUInt8()) + 1) * 8
        try h.require(length - 2)
        var o = h.sub(declared: length - 2, layer: .ipv6)
        while !o.isAtEnd {
            let type = try o.readUInt8()
            if type == 0 { continue }  // Pad1
            let len = Int(try o.readUInt8())
            if type == jumboOption && len == 4 { return try o.readUInt32() }
            guard len <= o.remaining else {
                throw DecodeError.malformed(.ipv6, at: o.offset - 1, field: "hop-by-hop option length", value: len)
            }
            try o.skip(len)
        }
        return 0
    }
}

extension IPProtocol {
    /// An IPv6 extension header the decoder walks: hop-by-hop, routing, fragment, destination
    /// options, authentication.
    public var isIPv6ExtensionHeader: Bool {
        self == .hopByHop || self == .routing || self == .destinationOptions || self == .fragment || self == .ah
    }
}
