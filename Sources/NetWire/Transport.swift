// Transport decoders: TCP, UDP, ICMP (ICMPv6 is in ICMPv6.swift).

enum TCPDecoder {
    static func decode(_ u: UpperLayer, _ p: inout Packet, verifyChecksums: Bool) throws(DecodeError) {
        var r = u.reader.rest(layer: .tcp)
        let start = r.offset
        var f = r.fields(20)
        let sport = f.u16()
        let dport = f.u16()
        if f.available >= 4 { p.partialPorts = (sport, dport) }
        let seq = f.u32()
        let ack = f.u32()
        let offFlags = f.u16()
        let window = f.u16()
        let checksum = f.u16()
        let urgent = f.u16()
        let doff = UInt8(offFlags >> 12)
        let hl = Int(doff) * 4
        // The segment's length: what the IP header declares, bounded by what the frame carried on the
        // wire when the capture cut it (tshark bounds it so too). Unknown for a fragment.
        var segmentLength = u.effectiveLength
        if u.reader.clampedByCapture { segmentLength = boundedByWire(segmentLength, start: start, p) }
        var tcp = TCPHeader(sourcePort: sport, destinationPort: dport, sequence: seq, acknowledgment: ack,
                            dataOffset: doff, flags: TCPFlags(rawValue: offFlags & 0x01FF), window: window,
                            checksum: checksum, checksumStatus: .unverified, urgentPointer: urgent,
                            payloadLength: max(segmentLength - hl, 0), offset: start,
                            segmentHoldsHeader: !u.fragmented && hl <= segmentLength)
        // A header cut inside its first 16 bytes keeps its ports only; the 12 bytes after them (sequence
        // and acknowledgment numbers, data offset, flags, window) are read as one, as tshark does. One
        // with an impossible data offset is never complete (see `TCPHeader.validBytes`).
        if f.available < 20 || doff < 5 {
            tcp.validBytes = f.available < 16 ? min(f.available, 4) : doff >= 5 ? f.available : min(f.available, 19)
        }
        if f.available >= 4 { p.tcp = tcp }
        // The checksum covers the segment whatever its header holds, so it is checked first (when its
        // two bytes are there).
        if verifyChecksums && !u.fragmented && f.available >= 18 {
            if u.complete {
                tcp.checksumStatus = InternetChecksum.transportVerdict(
                    segment: r.raw(from: start, to: start + u.declaredLength), pseudo: u.pseudoHeader, field: checksum)
            } else if !u.reader.clampedByCapture {
                tcp.checksumStatus = checksumOfShortSegment(u, r.raw(from: start, to: start + u.effectiveLength), field: checksum,
                                                            ipv4: p.ipv4, ipv6: p.ipv6)
            }
            p.tcp = tcp
        }
        try r.skip(20)
        guard doff >= 5 else { throw DecodeError.malformed(.tcp, at: start + 12, field: "data offset", value: hl) }
        // A header longer than its segment: the options that are inside the segment are still shown
        // (as tshark shows them), then the data offset is the error.
        if hl > segmentLength { throw headerBeyondSegment(r, start: start, headerLength: hl, &p) }
        if hl > 20 {
            var o = r.sub(declared: hl - 20, layer: .tcp)
            let cut = o.remaining < hl - 20
            try decodeOptions(&o, headerEnd: start + hl, &p)
            // The options that were there are kept; the ones cut off are an error.
            if cut { throw o.shortError(at: o.upper, needed: hl - 20 - (o.upper - start - 20)) }
        }
        let payloadStart = start + hl
        p.payloadStart = min(payloadStart, r.upper)
        p.payloadEnd = r.upper
    }

    /// `length` (of a layer starting at `start`) bounded by the frame's length on the wire: an IP length
    /// claiming more than the frame carried is exposed by it. (When the frame was captured whole, the
    /// IP layer already bounds the length by what is there.) Out of line: only for cut captures.
    @inline(never)
    static func boundedByWire(_ length: Int, start: Int, _ p: borrowing Packet) -> Int {
        guard p.wireLength >= p.capturedLength else { return length }  // lengths that lie about each other
        return min(length, max(p.wireLength - start, 0))
    }

    /// The frame was captured whole but the IP header claims more than it holds: the segment that
    /// exists is checked with its own length in the pseudo-header (as tshark does), which sums right
    /// when only the IP length field is wrong. (Out of line: a rare path.)
    @inline(never)
    static func checksumOfShortSegment(_ u: UpperLayer, _ segment: UnsafeRawBufferPointer, field: UInt16,
                                       ipv4: IPv4Header?, ipv6: IPv6Header?) -> ChecksumStatus {
        let pseudo: UInt64
        if let ip6 = ipv6 {
            pseudo = InternetChecksum.pseudoHeaderIPv6(source: ip6.source, destination: u.finalDestination ?? ip6.destination,
                                                       proto: 6, length: segment.count)
        } else if let ip4 = ipv4 {
            pseudo = InternetChecksum.pseudoHeaderIPv4(source: ip4.source, destination: ip4.destination, proto: 6, length: segment.count)
        } else {
            pseudo = u.pseudoHeader
        }
        return InternetChecksum.transportVerdict(segment: segment, pseudo: pseudo, field: field) == .ok ? .ok : .bad
    }

    /// A header longer than its segment: the options that are inside the segment are still listed
    /// (as tshark lists them), then the data offset is the one error (an option problem found on the
    /// way is a consequence). `r` is just past the fixed header. (Out of line: a rare path.)
    @inline(never)
    static func headerBeyondSegment(_ r: ByteReader, start: Int, headerLength hl: Int, _ p: inout Packet) -> DecodeError {
        if hl > 20 {
            var o = r.sub(declared: hl - 20, layer: .tcp)
            let errorsBefore = p.errors.count
            try? decodeOptions(&o, headerEnd: start + hl, &p)
            if p.errors.count > errorsBefore { p.errors.removeSubrange(errorsBefore...) }
        }
        return DecodeError.malformed(.tcp, at: start + 12, field: "data offset beyond segment", value: hl)
    }

    /// Decodes the options in `o`, which ends at `headerEnd` (the end the data offset declares) or
    /// earlier where the capture or the segment ended. As tshark and tcpdump list them: an option is
    /// listed once its kind and length byte are there and its length fits the header; one whose data
    /// is cut keeps its kind (and a timestamp's TSval, a SACK's whole blocks); a known kind with a
    /// wrong length is listed by kind, reported, and skipped by its length.
    static func decodeOptions(_ o: inout ByteReader, headerEnd: Int, _ p: inout Packet) throws(DecodeError) {
        while !o.isAtEnd {
            let at = o.offset
            let kind = try o.readUInt8()
            switch kind {
            case 0:
                p.tcpOptions.append(.endOfList)
                return
            case 1:
                p.tcpOptions.append(.noOperation)
                continue
            default:
                break
            }
            // Without its length byte an option is not listed (a cut one is truncation).
            let len = Int(try o.readUInt8())
            guard len >= 2 else { throw DecodeError.malformed(.tcp, at: at + 1, field: "option length", value: len) }
            if o.remaining < len - 2 {
                // An option running past the header's end is malformed, whatever was captured (`o`
                // never reaches past the header, so an option that is all there is inside it).
                guard len <= headerEnd - at else {
                    throw DecodeError(layer: .tcp, kind: .malformed, offset: o.offset, detail: .pastDeclaredLength(len - 2))
                }
                // Cut (by the capture, or by the end of a segment shorter than its header).
                switch kind {
                case 8 where o.remaining >= 4:
                    p.tcpOptions.append(.timestampValueOnly(try o.peekUInt32()))
                case 5 where o.remaining >= 8:
                    var blocks = SACKBlocks()
                    var b = o
                    while b.remaining >= 8 {
                        let left = try b.readUInt32()
                        blocks.append(left, try b.readUInt32())
                    }
                    p.tcpOptions.append(.truncatedSACK(blocks, declared: (len - 2) / 8))
                default:
                    p.tcpOptions.append(.truncated(kind: kind))
                }
                throw o.shortError(at: o.offset, needed: len - 2)
            }
            switch (kind, len) {
            case (2, 4):
                p.tcpOptions.append(.maximumSegmentSize(try o.readUInt16()))
            case (3, 3):
                p.tcpOptions.append(.windowScale(try o.readUInt8()))
            case (4, 2):
                p.tcpOptions.append(.sackPermitted)
            case (5, _) where len >= 10 && (len - 2) % 8 == 0:
                var blocks = SACKBlocks()
                var n = (len - 2) / 8
                while n > 0 {
                    let left = try o.readUInt32()
                    let right = try o.readUInt32()
                    blocks.append(left, right)
                    n -= 1
                }
                p.tcpOptions.append(.sack(blocks))
            case (8, 10):
                let v = try o.readUInt32()
                let e = try o.readUInt32()
                p.tcpOptions.append(.timestamps(value: v, echo: e))
            case (2, _), (3, _), (4, _), (5, _), (8, _):
                // A known option with the wrong length: its length still frames it, so the options
                // after it are read (as tshark does); the first such problem is reported.
                p.tcpOptions.append(.invalidLength(kind: kind, length: UInt8(len)))
                if !p.errors.contains(where: { $0.layer == .tcp }) {
                    p.errors.append(DecodeError.malformed(.tcp, at: at + 1, field: "option length", value: len))
                }
                try o.skip(len - 2)
            default:
                p.tcpOptions.append(.unknown(kind: kind, length: UInt8(len), dataOffset: o.offset))
                try o.skip(len - 2)
            }
        }
    }
}

enum UDPDecoder {
    static let dnsPort: UInt16 = 53

    static func decode(_ u: UpperLayer, _ p: inout Packet, verifyChecksums: Bool, decodeDNS: Bool,
                       extraDNSPorts: [UInt16] = []) throws(DecodeError) {
        var r = u.reader.rest(layer: .udp)
        let start = r.offset
        var f = r.fields(8)
        let sport = f.u16()
        let dport = f.u16()
        if f.available >= 4 { p.partialPorts = (sport, dport) }
        let len = f.u16()
        let checksum = f.u16()
        // Over IPv6 a length of 0 stands for the whole IPv6 payload (RFC 2675 jumbograms); Linux and
        // tshark take it so for any IPv6 datagram, and so does this (reported unless it is a jumbogram).
        let zeroOverIPv6 = len == 0 && u.isIPv6 && !u.fragmented && u.declaredLength >= 8
        var udp = UDPHeader(sourcePort: sport, destinationPort: dport, length: len, checksum: checksum,
                            checksumStatus: .unverified, offset: start)
        udp.validBytes = f.available
        // A length below the header's own 8 bytes frames nothing: the header is not usable (tcpdump
        // shows the ports and the error, tshark the ports and the length).
        udp.lengthValid = len >= 8 || zeroOverIPv6
        if f.available >= 4 { p.udp = udp }
        try r.skip(8)
        guard udp.lengthValid else { throw DecodeError.malformed(.udp, at: start + 4, field: "length", value: Int(len)) }
        // A length beyond the IP payload is reported, and the payload the IP header declares is
        // decoded (as tshark does); the checksum cannot be verified then.
        var udpLength = zeroOverIPv6 ? u.declaredLength : Int(len)
        let exceeds = udpLength > u.declaredLength && !u.fragmented
        if exceeds {
            p.errors.append(DecodeError.malformed(.udp, at: start + 4, field: "length exceeds IP payload", value: Int(len)))
            udpLength = u.declaredLength
        }
        if zeroOverIPv6 && u.declaredLength <= 0xFFFF {
            p.errors.append(DecodeError.malformed(.udp, at: start + 4, "length 0 in a datagram that is not a jumbogram"))
        }
        let body = r.sub(declared: udpLength - 8, layer: .udp)
        p.payloadStart = body.offset
        p.payloadEnd = body.upper
        // Verifiable when the whole datagram its length field declares was captured (the IP length
        // may still lie beyond it).
        if verifyChecksums && !u.fragmented && !exceeds && r.raw(from: start, to: start + udpLength).count == udpLength {
            if checksum == 0 && !u.isIPv6 {
                udp.checksumStatus = .unverified  // sender did not compute one (allowed over IPv4)
            } else {
                // The pseudo-header carries the UDP length (RFC 768 / RFC 8200 §8.1; for a length of 0
                // over IPv6, the payload length it stands for, RFC 2675 §4).
                let pseudo: UInt64
                if let ip6 = p.ipv6 {
                    pseudo = InternetChecksum.pseudoHeaderIPv6(source: ip6.source, destination: u.finalDestination ?? ip6.destination,
                                                               proto: 17, length: udpLength)
                } else if let ip4 = p.ipv4 {
                    pseudo = InternetChecksum.pseudoHeaderIPv4(source: ip4.source, destination: ip4.destination, proto: 17, length: udpLength)
                } else {
                    pseudo = u.pseudoHeader
                }
                udp.checksumStatus = InternetChecksum.transportVerdict(
                    segment: r.raw(from: start, to: start + udpLength), pseudo: pseudo, field: checksum)
            }
            p.udp = udp
        }
        // A declared DNS payload is decoded even when the capture kept none of it (then it is truncated).
        let dnsPorts = sport == dnsPort || dport == dnsPort
            || (!extraDNSPorts.isEmpty && (extraDNSPorts.contains(sport) || extraDNSPorts.contains(dport)))
        if decodeDNS && dnsPorts && !u.fragmented && udpLength > 8 {
            var msg = DNSMessage()
            do {
                try DNSDecoder.decode(body.rest(layer: .dns), declaredLength: udpLength - 8, into: &msg)
                p.dns = msg
                if let problem = msg.recordProblem { p.errors.append(problem) }
            } catch {
                // Keep what was decoded, but not a header that was never read (no made-up zeros).
                if msg.headerFieldsRead > 0 { p.dns = msg }
                if let problem = msg.recordProblem { p.errors.append(problem) }
                throw error
            }
        }
    }
}

enum ICMPDecoder {
    static func decode(_ u: UpperLayer, _ p: inout Packet, verifyChecksums: Bool) throws(DecodeError) {
        var r = u.reader.rest(layer: .icmp)
        let start = r.offset
        let type = try r.readUInt8()
        let code = try r.readUInt8()
        let checksum = try r.readUInt16()
        let rest = try r.readUInt32()
        var m = ICMPMessage(type: type, code: code, checksum: checksum, checksumStatus: .unverified,
                            restOfHeader: rest, quoted: nil, dataLength: max(u.declaredLength - 8, 0))
        if verifyChecksums && u.complete && !u.fragmented {
            let sum = InternetChecksum.fold(InternetChecksum.sum(r.raw(from: start, to: start + u.declaredLength)))
            m.checksumStatus = sum == 0xFFFF ? .ok : .bad
        }
        p.icmp = m
        p.payloadStart = r.offset
        p.payloadEnd = r.upper
        switch type {
        case ICMPMessage.destinationUnreachable, ICMPMessage.timeExceeded, ICMPMessage.parameterProblem,
             ICMPMessage.sourceQuench, ICMPMessage.redirect:
            // The original datagram's IP header and first 8 bytes.
            var q = r.rest(layer: .icmp)
            let qstart = q.offset
            let vihl = try q.readUInt8()
            guard vihl >> 4 == 4, vihl & 0x0F >= 5 else {
                throw DecodeError.malformed(.icmp, at: qstart, field: "quoted IP header", value: Int(vihl))
            }
            try q.skip(8)
            let proto = IPProtocol(rawValue: try q.readUInt8())
            try q.skip(2)
            let src = try q.readIPv4()
            let dst = try q.readIPv4()
            var quoted = QuotedIPHeader(source: src, destination: dst, proto: proto, sourcePort: nil, destinationPort: nil)
            p.icmp?.quoted = quoted
            if proto == .tcp || proto == .udp {
                try q.seek(to: qstart + Int(vihl & 0x0F) * 4, lowerBound: qstart)
                quoted.sourcePort = try q.readUInt16()
                quoted.destinationPort = try q.readUInt16()
                p.icmp?.quoted = quoted
            } else if proto == .icmp {
                // A quoted echo request or reply: its identifier and sequence (when quoted; a
                // quote cut before them is no error, the RFC asks only for 8 bytes of it).
                if (try? q.seek(to: qstart + Int(vihl & 0x0F) * 4, lowerBound: qstart)) != nil,
                   let t = try? q.readUInt8(), t == 8 || t == 0, (try? q.skip(3)) != nil,
                   let id = try? q.readUInt16(), let seq = try? q.readUInt16() {
                    quoted.echoIdentifier = id
                    quoted.echoSequence = seq
                    p.icmp?.quoted = quoted
                }
            }
        default:
            break
        }
    }
}
