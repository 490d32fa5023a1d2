// ICMPv6 (RFC 4443): echo, the four error messages with the invoking packet they quote, Neighbor
// Discovery (RFC 4861: router/neighbour solicitation and advertisement, redirect, with their
// options) and Multicast Listener Discovery (RFC 2710, RFC 3810).

/// The start of the invoking packet that an ICMPv6 error message quotes.
public struct QuotedIPv6Header: Sendable, Equatable {
    public var source: IPv6Address
    public var destination: IPv6Address
    /// Next Header of the quoted fixed header.
    public var nextHeader: IPProtocol
    /// The upper-layer protocol after the quoted extension headers (the Next Header of the last one).
    public var proto: IPProtocol
    /// Transport ports when `proto` is TCP or UDP and they were quoted.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
}

public struct ICMPv6Message: Sendable {
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    /// The 4 bytes after the checksum: echo id/seq, the MTU (packet too big), the pointer (parameter
    /// problem), the neighbour-advertisement flags, the router-advertisement hop limit/flags/lifetime,
    /// the MLD maximum response delay.
    public var restOfHeader: UInt32
    /// Target address: neighbour solicitation and advertisement, redirect (the better first hop).
    public var target: IPv6Address?
    /// Bytes after the 8-byte header, as the wire declares them.
    public var dataLength: Int

    /// Redirect: the destination whose traffic is redirected.
    public var redirectDestination: IPv6Address?
    /// MLD query/report/done (v1) and MLDv2 query: the multicast address.
    public var multicastAddress: IPv6Address?
    /// MLDv2 query: the number of sources.
    public var mldSourceCount: UInt16?
    /// Neighbour discovery options: the MAC of the first source / target link-layer address
    /// option that holds one (an option of 8 bytes: type, length, 6-byte address).
    public var sourceLinkAddress: MACAddress?
    public var targetLinkAddress: MACAddress?
    /// The MTU option (router advertisement).
    public var mtuOption: UInt32?
    /// The first prefix information option (router advertisement).
    public var prefix: IPv6Address?
    public var prefixLength: UInt8 = 0
    /// Neighbour discovery options walked.
    public var optionCount: Int = 0
    /// Error messages (types 1–4): the quoted invoking packet.
    public var quoted: QuotedIPv6Header?

    public init(type: UInt8, code: UInt8, checksum: UInt16, checksumStatus: ChecksumStatus, restOfHeader: UInt32,
                target: IPv6Address?, dataLength: Int) {
        self.type = type
        self.code = code
        self.checksum = checksum
        self.checksumStatus = checksumStatus
        self.restOfHeader = restOfHeader
        self.target = target
        self.dataLength = dataLength
    }

    public var identifier: UInt16 { UInt16(truncatingIfNeeded: restOfHeader >> 16) }
    public var sequence: UInt16 { UInt16(truncatingIfNeeded: restOfHeader) }
    /// Error messages have types 0–127, informational ones 128–255.
    public var isError: Bool { type < 128 }
    /// The link-layer address the message tells about: the target's for a neighbour advertisement
    /// or redirect, the sender's otherwise.
    public var linkAddress: MACAddress? {
        type == ICMPv6Message.neighborAdvertisement || type == ICMPv6Message.redirect ? targetLinkAddress : sourceLinkAddress
    }

    public static let destinationUnreachable: UInt8 = 1
    public static let packetTooBig: UInt8 = 2
    public static let timeExceeded: UInt8 = 3
    public static let parameterProblem: UInt8 = 4
    public static let echoRequest: UInt8 = 128
    public static let echoReply: UInt8 = 129
    public static let mldQuery: UInt8 = 130
    public static let mldReport: UInt8 = 131
    public static let mldDone: UInt8 = 132
    public static let routerSolicitation: UInt8 = 133
    public static let routerAdvertisement: UInt8 = 134
    public static let neighborSolicitation: UInt8 = 135
    public static let neighborAdvertisement: UInt8 = 136
    public static let redirect: UInt8 = 137
    public static let mldv2Report: UInt8 = 143

    /// Neighbour advertisement flags (in `restOfHeader`).
    public static let flagRouter: UInt32 = 0x8000_0000
    public static let flagSolicited: UInt32 = 0x4000_0000
    public static let flagOverride: UInt32 = 0x2000_0000
}

enum ICMPv6Decoder {
    /// Neighbour discovery option types with a meaning we keep.
    static let optionSourceLinkAddress: UInt8 = 1
    static let optionTargetLinkAddress: UInt8 = 2
    static let optionPrefixInformation: UInt8 = 3
    static let optionMTU: UInt8 = 5

    static func decode(_ u: UpperLayer, _ p: inout Packet, verifyChecksums: Bool) throws(DecodeError) {
        var r = u.reader.rest(layer: .icmpv6)
        let start = r.offset
        let type = try r.readUInt8()
        let code = try r.readUInt8()
        let checksum = try r.readUInt16()
        let rest = try r.readUInt32()
        var m = ICMPv6Message(type: type, code: code, checksum: checksum, checksumStatus: .unverified,
                              restOfHeader: rest, target: nil, dataLength: max(u.declaredLength - 8, 0))
        // Strictly ok or bad: the kernel computes ICMPv6 checksums itself (no transmit offload leaves a
        // partial sum here, unlike TCP and UDP), so a field equal to the pseudo-header sum is wrong.
        if verifyChecksums && u.complete && !u.fragmented {
            let sum = InternetChecksum.fold(InternetChecksum.sum(r.raw(from: start, to: start + u.declaredLength), initial: u.pseudoHeader))
            m.checksumStatus = sum == 0xFFFF ? .ok : .bad
        }
        p.payloadStart = r.offset
        p.payloadEnd = r.upper
        // Whatever the body turns out to hold, what was read so far is kept.
        defer { p.icmpv6 = m }
        switch type {
        case ICMPv6Message.destinationUnreachable, ICMPv6Message.packetTooBig, ICMPv6Message.timeExceeded,
             ICMPv6Message.parameterProblem:
            try quoted(r, &m)
        case ICMPv6Message.mldQuery, ICMPv6Message.mldReport, ICMPv6Message.mldDone:
            m.multicastAddress = try r.readIPv6()
            // A query of 28 bytes or more is an MLDv2 query: flags, QQIC, number of sources.
            if type == ICMPv6Message.mldQuery && u.declaredLength >= 28 {
                try r.skip(2)
                m.mldSourceCount = try r.readUInt16()
            }
        case ICMPv6Message.routerSolicitation:
            try options(&r, &m, end: start + u.declaredLength)
        case ICMPv6Message.routerAdvertisement:
            try r.skip(8)  // reachable time, retransmission timer
            try options(&r, &m, end: start + u.declaredLength)
        case ICMPv6Message.neighborSolicitation, ICMPv6Message.neighborAdvertisement:
            m.target = try r.readIPv6()
            try options(&r, &m, end: start + u.declaredLength)
        case ICMPv6Message.redirect:
            m.target = try r.readIPv6()
            m.redirectDestination = try r.readIPv6()
            try options(&r, &m, end: start + u.declaredLength)
        default:
            break
        }
    }

    /// Neighbour discovery options, type-length-value with the length in units of 8 bytes. Every
    /// option is at least 8 bytes, so the walk ends; a length of 0 would not move and is malformed.
    /// `end` is where the message ends on the wire: options the capture cut off there are an error.
    static func options(_ r: inout ByteReader, _ m: inout ICMPv6Message, end: Int) throws(DecodeError) {
        while !r.isAtEnd {
            let at = r.offset
            let kind = try r.readUInt8()
            let units = try r.readUInt8()
            guard units > 0 else { throw DecodeError.malformed(.icmpv6, at: at + 1, field: "option length", value: 0) }
            let length = Int(units) * 8
            try r.require(length - 2)  // cut by the capture, or running past the message
            var o = r.sub(declared: length - 2, layer: .icmpv6)
            switch kind {
            case optionSourceLinkAddress where length == 8:
                let mac = try o.readMAC()
                if m.sourceLinkAddress == nil { m.sourceLinkAddress = mac }
            case optionTargetLinkAddress where length == 8:
                let mac = try o.readMAC()
                if m.targetLinkAddress == nil { m.targetLinkAddress = mac }
            case optionPrefixInformation where length == 32 && m.prefix == nil:
                m.prefixLength = try o.readUInt8()
                try o.skip(13)  // flags, valid and preferred lifetime, reserved
                m.prefix = try o.readIPv6()
            case optionMTU where length == 8:
                try o.skip(2)
                m.mtuOption = try o.readUInt32()
            default:
                break
            }
            try r.skip(length - 2)
            m.optionCount += 1
        }
        if r.clampedByCapture && r.offset < end { throw r.shortError(at: r.offset, needed: end - r.offset) }
    }

    /// The invoking packet an error quotes: its fixed header, then its extension headers (walked with
    /// the same bound as the outer packet's) to the transport ports. RFC 4443 asks for as much of the
    /// packet as fits, so a quote that ends before the ports is not an error; a capture cut inside
    /// it is.
    static func quoted(_ r: ByteReader, _ m: inout ICMPv6Message) throws(DecodeError) {
        var q = r.rest(layer: .icmpv6)
        let qstart = q.offset
        let first = try q.readUInt8()
        guard first >> 4 == 6 else {
            throw DecodeError.malformed(.icmpv6, at: qstart, field: "quoted IP version", value: Int(first >> 4))
        }
        try q.skip(5)
        let next = IPProtocol(rawValue: try q.readUInt8())
        try q.skip(1)
        let src = try q.readIPv6()
        let dst = try q.readIPv6()
        var quoted = QuotedIPv6Header(source: src, destination: dst, nextHeader: next, proto: next,
                                      sourcePort: nil, destinationPort: nil)
        m.quoted = quoted
        var proto = next
        var walked = 0
        while IPv6Decoder.isExtension(proto) {
            guard walked < IPv6Decoder.maxExtensionHeaders else {
                throw DecodeError.malformed(.icmpv6, at: q.offset, field: "quoted extension header chain length", value: walked + 1)
            }
            // The quote may end anywhere inside the chain (not an error); the capture may not.
            if q.remaining < 2 && !q.clampedByCapture { return }
            let at = q.offset
            let nh = IPProtocol(rawValue: try q.readUInt8())
            let lenByte = Int(try q.readUInt8())
            let length: Int
            switch proto {
            case .fragment: length = 8
            case .ah: length = (lenByte + 2) * 4
            default: length = (lenByte + 1) * 8
            }
            if length - 2 > q.remaining && !q.clampedByCapture { return }
            if proto == .fragment {
                // Only the first fragment holds the transport header.
                let offsetFlags = try q.uint16(at: at + 2, lowerBound: at)
                if offsetFlags >> 3 != 0 { quoted.proto = proto; m.quoted = quoted; return }
            }
            try q.skip(length - 2)
            proto = nh
            quoted.proto = proto
            m.quoted = quoted
            walked += 1
        }
        guard proto == .tcp || proto == .udp else { return }
        if q.remaining < 4 && !q.clampedByCapture { return }
        quoted.sourcePort = try q.readUInt16()
        quoted.destinationPort = try q.readUInt16()
        m.quoted = quoted
    }
}
