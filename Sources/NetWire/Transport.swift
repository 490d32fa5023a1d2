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
        var tcp = TCPHeader(sourcePort: sport, destinationPort: dport, sequence: seq, acknowledgment: ack,
                            dataOffset: doff, flags: TCPFlags(rawValue: offFlags & 0x01FF), window: window,
                            checksum: checksum, checksumStatus: .unverified, urgentPointer: urgent,
                            payloadLength: max(u.effectiveLength - hl, 0), offset: start)
        // A header cut inside its 20 fixed bytes keeps its ports only, as tshark and tcpdump show it.
        tcp.validBytes = f.available == 20 ? 20 : min(f.available, 4)
        if f.available >= 4 { p.tcp = tcp }
        try r.skip(20)
        // The checksum covers the segment whatever its header holds, so it is checked first.
        if verifyChecksums && !u.fragmented {
            if u.complete {
                tcp.checksumStatus = InternetChecksum.transportVerdict(
                    segment: r.raw(from: start, to: start + u.declaredLength), pseudo: u.pseudoHeader, field: checksum)
            } else if !u.reader.clampedByCapture {
                // The frame was captured whole but the IP header claims more: the segment that exists
                // is checked as it is (and will not sum right; tshark says the same).
                tcp.checksumStatus = InternetChecksum.transportVerdict(
                    segment: r.raw(from: start, to: start + u.effectiveLength),
                    pseudo: u.pseudoHeader, field: checksum) == .ok ? .ok : .bad
            }
            p.tcp = tcp
        }
        guard doff >= 5 else { throw DecodeError.malformed(.tcp, at: start + 12, field: "data offset", value: hl) }
        guard hl <= u.declaredLength else {
            throw DecodeError.malformed(.tcp, at: start + 12, field: "data offset beyond segment", value: hl)
        }
        if hl > 20 {
            var o = r.sub(declared: hl - 20, layer: .tcp)
            let cut = o.remaining < hl - 20
            try decodeOptions(&o, &p)
            // The options that were captured are kept; the ones the capture cut off are an error.
            if cut { throw o.shortError(at: o.upper, needed: hl - 20 - (o.upper - start - 20)) }
        }
        let payloadStart = start + hl
        p.payloadStart = min(payloadStart, r.upper)
        p.payloadEnd = r.upper
    }

    static func decodeOptions(_ o: inout ByteReader, _ p: inout Packet) throws(DecodeError) {
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
            let len: Int
            do throws(DecodeError) {
                len = Int(try o.readUInt8())
                guard len >= 2 else { throw DecodeError.malformed(.tcp, at: at + 1, field: "option length", value: len) }
                try o.require(len - 2)
            } catch {
                // Cut by the capture: keep the kind that was seen, as tshark and tcpdump do, and
                // for timestamps the TSval when its 4 bytes made it.
                if error.kind == .truncated {
                    if kind == 8, o.remaining >= 4, let v = try? o.peekUInt32() {  // o is just past the length byte
                        p.tcpOptions.append(.timestampValueOnly(v))
                    } else {
                        p.tcpOptions.append(.truncated(kind: kind))
                    }
                }
                throw error
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
                // A known option with the wrong length.
                throw DecodeError.malformed(.tcp, at: at + 1, field: "option length", value: len)
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
        var udp = UDPHeader(sourcePort: sport, destinationPort: dport, length: len, checksum: checksum,
                            checksumStatus: .unverified, offset: start)
        udp.validBytes = f.available
        if f.available >= 4 { p.udp = udp }
        try r.skip(8)
        guard len >= 8 else { throw DecodeError.malformed(.udp, at: start + 4, field: "length", value: Int(len)) }
        // A length beyond the IP payload is reported, and the payload the IP header declares is
        // decoded (as tshark does); the checksum cannot be verified then.
        var udpLength = Int(len)
        if udpLength > u.declaredLength && !u.fragmented {
            p.errors.append(DecodeError.malformed(.udp, at: start + 4, field: "length exceeds IP payload", value: Int(len)))
            udpLength = u.declaredLength
        }
        let body = r.sub(declared: udpLength - 8, layer: .udp)
        p.payloadStart = body.offset
        p.payloadEnd = body.upper
        // Verifiable when the whole datagram its length field declares was captured (the IP length
        // may still lie beyond it).
        if verifyChecksums && !u.fragmented && udpLength == Int(len) && r.raw(from: start, to: start + Int(len)).count == Int(len) {
            if checksum == 0 && !u.isIPv6 {
                udp.checksumStatus = .unverified  // sender did not compute one (allowed over IPv4)
            } else {
                // The pseudo-header carries the UDP length field (RFC 768 / RFC 8200 §8.1).
                let pseudo: UInt64
                if let ip6 = p.ipv6 {
                    pseudo = InternetChecksum.pseudoHeaderIPv6(source: ip6.source, destination: u.finalDestination ?? ip6.destination,
                                                               proto: 17, length: Int(len))
                } else if let ip4 = p.ipv4 {
                    pseudo = InternetChecksum.pseudoHeaderIPv4(source: ip4.source, destination: ip4.destination, proto: 17, length: Int(len))
                } else {
                    pseudo = u.pseudoHeader
                }
                udp.checksumStatus = InternetChecksum.transportVerdict(
                    segment: r.raw(from: start, to: start + Int(len)), pseudo: pseudo, field: checksum)
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
            }
        default:
            break
        }
    }
}
