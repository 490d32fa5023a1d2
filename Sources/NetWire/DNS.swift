/// DNS message decoding (RFC 1035 and friends), over a reader windowed to the message.

public struct DNSSOA: Sendable, Equatable {
    public var mname: String
    public var rname: String
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32
}

public struct DNSOption: Sendable, Equatable {
    public var code: UInt16
    public var data: [UInt8]
}

public enum DNSRData: Sendable, Equatable {
    case a(IPv4Address)
    case aaaa(IPv6Address)
    /// NS, CNAME, PTR, DNAME: one domain name.
    case name(String)
    case mx(preference: UInt16, exchange: String)
    case txt([[UInt8]])
    case soa(DNSSOA)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
    case opt([DNSOption])
    /// HINFO: CPU and OS character-strings.
    case hinfo(cpu: [UInt8], os: [UInt8])
    /// RP, MINFO: two domain names (mailbox and TXT owner; responsible and error mailboxes).
    case twoNames(String, String)
    /// AFSDB, RT, KX: a 16-bit number (subtype, preference) and a host name.
    case numberAndName(UInt16, String)
    /// NAPTR (RFC 3403).
    indirect case naptr(DNSNAPTR)
    /// DS, CDS, DLV (RFC 4034 §5): key tag, algorithm, digest type, digest.
    case ds(keyTag: UInt16, algorithm: UInt8, digestType: UInt8, digest: [UInt8])
    /// DNSKEY, CDNSKEY, KEY (RFC 4034 §2): flags, protocol, algorithm, public key.
    case dnskey(flags: UInt16, protocol: UInt8, algorithm: UInt8, key: [UInt8])
    /// RRSIG, SIG (RFC 4034 §3).
    indirect case rrsig(DNSRRSIG)
    /// NSEC (RFC 4034 §4): the next owner name and the types present (from the type bitmap).
    case nsec(next: String, types: [UInt16])
    /// NSEC3 (RFC 5155 §3).
    indirect case nsec3(DNSNSEC3)
    /// NSEC3PARAM (RFC 5155 §4).
    case nsec3param(hashAlgorithm: UInt8, flags: UInt8, iterations: UInt16, salt: [UInt8])
    /// SSHFP (RFC 4255): algorithm, fingerprint type, fingerprint.
    case sshfp(algorithm: UInt8, fingerprintType: UInt8, fingerprint: [UInt8])
    /// TLSA, SMIMEA (RFC 6698): usage, selector, matching type, certificate association data.
    case tlsa(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8])
    /// CAA (RFC 8659): flags, tag, value.
    case caa(flags: UInt8, tag: [UInt8], value: [UInt8])
    /// URI (RFC 7553): priority, weight, target.
    case uri(priority: UInt16, weight: UInt16, target: [UInt8])
    /// SVCB, HTTPS (RFC 9460): priority, target name, SvcParams (key, value) in wire order.
    case svcb(priority: UInt16, target: String, params: [DNSOption])
    /// Anything else, or a record whose data did not match its type's shape.
    case raw([UInt8])
}

public struct DNSNAPTR: Sendable, Equatable {
    public var order: UInt16
    public var preference: UInt16
    public var flags: [UInt8]
    public var services: [UInt8]
    public var regexp: [UInt8]
    public var replacement: String
}

public struct DNSRRSIG: Sendable, Equatable {
    public var typeCovered: UInt16
    public var algorithm: UInt8
    public var labels: UInt8
    public var originalTTL: UInt32
    /// Seconds since the epoch (serial-number arithmetic aside, as RFC 4034 §3.1.5 writes them).
    public var expiration: UInt32
    public var inception: UInt32
    public var keyTag: UInt16
    public var signer: String
    public var signature: [UInt8]
}

public struct DNSNSEC3: Sendable, Equatable {
    public var hashAlgorithm: UInt8
    public var flags: UInt8
    public var iterations: UInt16
    public var salt: [UInt8]
    public var nextHashedOwner: [UInt8]
    public var types: [UInt16]
}

public struct DNSQuestion: Sendable, Equatable {
    public var name: String
    public var type: UInt16
    public var qclass: UInt16
}

public struct DNSRecord: Sendable, Equatable {
    public var name: String
    public var type: UInt16
    /// For OPT this is the requestor's UDP payload size.
    public var rclass: UInt16
    /// For OPT this holds extended RCODE, version and flags.
    public var ttl: UInt32
    public var data: DNSRData
    /// RDLENGTH as carried (the data's wire length, before any name decompression).
    public var rdlength: UInt16

    public init(name: String, type: UInt16, rclass: UInt16, ttl: UInt32, data: DNSRData, rdlength: UInt16) {
        self.name = name
        self.type = type
        self.rclass = rclass
        self.ttl = ttl
        self.data = data
        self.rdlength = rdlength
    }
}

public struct DNSMessage: Sendable, Equatable {
    public var id: UInt16 = 0
    public var flags: UInt16 = 0
    public var questionCount: UInt16 = 0
    public var answerCount: UInt16 = 0
    public var authorityCount: UInt16 = 0
    public var additionalCount: UInt16 = 0
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authority: [DNSRecord] = []
    public var additional: [DNSRecord] = []
    /// Message length as carried (UDP payload length declared).
    public var length: Int = 0
    /// How many of the six 16-bit header fields (id, flags, 4 counts) were read; the rest are zero
    /// placeholders, which formatters must not show.
    public var headerFieldsRead = 0
    /// The first record whose data did not fit its type (the record is kept with raw data, or with
    /// its fields when the data is longer than they are).
    public var recordProblem: DecodeError?
    /// The error that ended decoding, for a message decoded outside a packet (DNS over TCP, from
    /// the reassembled stream; offsets count from the message's first byte). Over UDP the error
    /// is the packet's, and this stays nil.
    public var messageError: DecodeError?
    /// The problems of a message decoded outside a packet: `messageError`, then `recordProblem`.
    public var streamProblems: [DecodeError] { [messageError, recordProblem].compactMap { $0 } }
    /// The 12-byte header was read (the counts and flags are real).
    public var headerComplete: Bool { headerFieldsRead == 6 }

    public init() {}

    public var isResponse: Bool { flags & 0x8000 != 0 }
    public var opcode: UInt8 { UInt8((flags >> 11) & 0xF) }
    public var authoritative: Bool { flags & 0x0400 != 0 }
    public var truncatedFlag: Bool { flags & 0x0200 != 0 }
    public var recursionDesired: Bool { flags & 0x0100 != 0 }
    public var recursionAvailable: Bool { flags & 0x0080 != 0 }
    public var zFlag: Bool { flags & 0x0040 != 0 }
    public var authenticData: Bool { flags & 0x0020 != 0 }
    public var checkingDisabled: Bool { flags & 0x0010 != 0 }
    /// The 4-bit header RCODE (extended RCODE from OPT is not folded in).
    public var rcode: UInt8 { UInt8(flags & 0xF) }
}

public enum DNSType {
    public static let a: UInt16 = 1
    public static let ns: UInt16 = 2
    public static let cname: UInt16 = 5
    public static let soa: UInt16 = 6
    public static let ptr: UInt16 = 12
    public static let hinfo: UInt16 = 13
    public static let minfo: UInt16 = 14
    public static let mx: UInt16 = 15
    public static let txt: UInt16 = 16
    public static let rp: UInt16 = 17
    public static let afsdb: UInt16 = 18
    public static let rt: UInt16 = 21
    public static let sig: UInt16 = 24
    public static let key: UInt16 = 25
    public static let aaaa: UInt16 = 28
    public static let srv: UInt16 = 33
    public static let naptr: UInt16 = 35
    public static let kx: UInt16 = 36
    public static let dname: UInt16 = 39
    public static let opt: UInt16 = 41
    public static let ds: UInt16 = 43
    public static let sshfp: UInt16 = 44
    public static let rrsig: UInt16 = 46
    public static let nsec: UInt16 = 47
    public static let dnskey: UInt16 = 48
    public static let nsec3: UInt16 = 50
    public static let nsec3param: UInt16 = 51
    public static let tlsa: UInt16 = 52
    public static let smimea: UInt16 = 53
    public static let cds: UInt16 = 59
    public static let cdnskey: UInt16 = 60
    public static let svcb: UInt16 = 64
    public static let https: UInt16 = 65
    public static let spf: UInt16 = 99
    public static let uri: UInt16 = 256
    public static let caa: UInt16 = 257
    public static let dlv: UInt16 = 32769
}

public enum DNSDecoder {
    /// Maximum length of a name in wire form (RFC 1035 §2.3.4).
    public static let maxNameLength = 255
    /// Most compression pointers one name may follow (a 255-byte name has at most 127 labels).
    public static let maxPointerJumps = 127
    /// Records decoded per section at most; the rest are counted but not stored.
    public static let maxRecordsPerSection = 512

    /// Decodes a DNS message from `r` (windowed to the message). Partial results stay in `msg`
    /// when an error is thrown.
    /// `declaredLength` is the message length its carrier declares (UDP length − 8), which the
    /// reader's window may be shorter than when the capture cut it.
    public static func decode(_ r: ByteReader, declaredLength: Int, into msg: inout DNSMessage) throws(DecodeError) {
        var r = r
        let start = r.offset
        msg.length = declaredLength
        // The ID is kept only together with the flags (tshark reads the two as one and shows neither
        // alone; tcpdump shows nothing of a header cut short): an ID alone says nothing about the message.
        let id = try r.readUInt16()
        msg.flags = try r.readUInt16()
        msg.id = id
        msg.headerFieldsRead = 2
        msg.questionCount = try r.readUInt16()
        msg.answerCount = try r.readUInt16()
        msg.authorityCount = try r.readUInt16()
        msg.additionalCount = try r.readUInt16()
        msg.headerFieldsRead = 6

        var q = 0
        while q < Int(msg.questionCount) {
            let name = try readName(&r, messageStart: start)
            let type = try r.readUInt16()
            let qclass = try r.readUInt16()
            if q < maxRecordsPerSection { msg.questions.append(DNSQuestion(name: name, type: type, qclass: qclass)) }
            q += 1
        }
        try readRecords(&r, count: msg.answerCount, messageStart: start, into: &msg.answers, problem: &msg.recordProblem)
        try readRecords(&r, count: msg.authorityCount, messageStart: start, into: &msg.authority, problem: &msg.recordProblem)
        try readRecords(&r, count: msg.additionalCount, messageStart: start, into: &msg.additional, problem: &msg.recordProblem)
    }

    static func readRecords(_ r: inout ByteReader, count: UInt16, messageStart: Int, into list: inout [DNSRecord],
                            problem: inout DecodeError?) throws(DecodeError) {
        var i = 0
        while i < Int(count) {
            let record = try readRecord(&r, messageStart: messageStart, problem: &problem)
            if i < maxRecordsPerSection { list.append(record) }
            i += 1
        }
    }

    static func readRecord(_ r: inout ByteReader, messageStart: Int, problem: inout DecodeError?) throws(DecodeError) -> DNSRecord {
        let name = try readName(&r, messageStart: messageStart)
        let type = try r.readUInt16()
        let rclass = try r.readUInt16()
        let ttl = try r.readUInt32()
        let rdlength16 = try r.readUInt16()
        let rdlength = Int(rdlength16)
        let rdStart = r.offset
        try r.require(rdlength)
        let data: DNSRData
        do throws(DecodeError) {
            data = try recordData(type: type, buffer: r.buffer, start: rdStart, length: rdlength,
                                  messageStart: messageStart, messageEnd: r.upper, problem: &problem)
        } catch {
            // The data does not fit its type (a bad name inside, wrong length): the record is kept
            // with its data as raw bytes, the first such problem is reported, and decoding goes on.
            if problem == nil { problem = error }
            var raw = ByteReader(buffer: r.buffer, offset: rdStart, upper: rdStart + rdlength, layer: .dns, clamped: false)
            data = .raw(try raw.readBytes(rdlength))
        }
        try r.skip(rdlength)
        return DNSRecord(name: name, type: type, rclass: rclass, ttl: ttl, data: data, rdlength: rdlength16)
    }

    /// The typed record data in `[start, start + length)`, which is all there. Data longer than its
    /// type's fields keeps the fields (as tshark shows them: an A record's first 4 bytes, a name and
    /// what follows it) and reports the extra bytes in `problem` (the first problem of the message).
    static func recordData(type: UInt16, buffer: UnsafeRawBufferPointer, start rdStart: Int, length rdlength: Int,
                           messageStart: Int, messageEnd: Int, problem: inout DecodeError?) throws(DecodeError) -> DNSRData {
        // The record data: a window of exactly rdlength bytes; names inside may point backwards anywhere.
        var d = ByteReader(buffer: buffer, offset: rdStart, upper: rdStart + rdlength, layer: .dns, clamped: false)
        let data: DNSRData
        let floor = messageEnd
        switch type {
        case DNSType.a:
            guard rdlength >= 4 else { throw DecodeError.malformed(.dns, at: rdStart, field: "A rdlength", value: rdlength) }
            data = .a(try d.readIPv4())
        case DNSType.aaaa:
            guard rdlength >= 16 else { throw DecodeError.malformed(.dns, at: rdStart, field: "AAAA rdlength", value: rdlength) }
            data = .aaaa(try d.readIPv6())
        case DNSType.ns, DNSType.cname, DNSType.ptr, DNSType.dname:
            data = .name(try readName(&d, messageStart: messageStart, pointerFloor: floor))
        case DNSType.mx:
            let pref = try d.readUInt16()
            data = .mx(preference: pref, exchange: try readName(&d, messageStart: messageStart, pointerFloor: floor))
        case DNSType.txt, DNSType.spf:
            var strings: [[UInt8]] = []
            while !d.isAtEnd {
                strings.append(try characterString(&d))
            }
            data = .txt(strings)
        case DNSType.hinfo:
            let cpu = try characterString(&d)
            data = .hinfo(cpu: cpu, os: try characterString(&d))
        case DNSType.rp, DNSType.minfo:
            let first = try readName(&d, messageStart: messageStart, pointerFloor: floor)
            data = .twoNames(first, try readName(&d, messageStart: messageStart, pointerFloor: floor))
        case DNSType.afsdb, DNSType.rt, DNSType.kx:
            let number = try d.readUInt16()
            data = .numberAndName(number, try readName(&d, messageStart: messageStart, pointerFloor: floor))
        case DNSType.naptr:
            let order = try d.readUInt16()
            let preference = try d.readUInt16()
            let flags = try characterString(&d)
            let services = try characterString(&d)
            let regexp = try characterString(&d)
            let replacement = try readName(&d, messageStart: messageStart, pointerFloor: floor)
            data = .naptr(DNSNAPTR(order: order, preference: preference, flags: flags, services: services,
                                   regexp: regexp, replacement: replacement))
        case DNSType.ds, DNSType.cds, DNSType.dlv:
            let keyTag = try d.readUInt16()
            let algorithm = try d.readUInt8()
            let digestType = try d.readUInt8()
            data = .ds(keyTag: keyTag, algorithm: algorithm, digestType: digestType, digest: try d.readBytes(d.remaining))
        case DNSType.dnskey, DNSType.cdnskey, DNSType.key:
            let flags = try d.readUInt16()
            let proto = try d.readUInt8()
            let algorithm = try d.readUInt8()
            data = .dnskey(flags: flags, protocol: proto, algorithm: algorithm, key: try d.readBytes(d.remaining))
        case DNSType.rrsig, DNSType.sig:
            let covered = try d.readUInt16()
            let algorithm = try d.readUInt8()
            let labels = try d.readUInt8()
            let originalTTL = try d.readUInt32()
            let expiration = try d.readUInt32()
            let inception = try d.readUInt32()
            let keyTag = try d.readUInt16()
            let signer = try readName(&d, messageStart: messageStart, pointerFloor: floor)
            data = .rrsig(DNSRRSIG(typeCovered: covered, algorithm: algorithm, labels: labels, originalTTL: originalTTL,
                                   expiration: expiration, inception: inception, keyTag: keyTag, signer: signer,
                                   signature: try d.readBytes(d.remaining)))
        case DNSType.nsec:
            let next = try readName(&d, messageStart: messageStart, pointerFloor: floor)
            data = .nsec(next: next, types: try typeBitmap(&d))
        case DNSType.nsec3:
            let hash = try d.readUInt8()
            let flags = try d.readUInt8()
            let iterations = try d.readUInt16()
            let salt = try d.readBytes(Int(try d.readUInt8()))
            let nextHashed = try d.readBytes(Int(try d.readUInt8()))
            data = .nsec3(DNSNSEC3(hashAlgorithm: hash, flags: flags, iterations: iterations, salt: salt,
                                   nextHashedOwner: nextHashed, types: try typeBitmap(&d)))
        case DNSType.nsec3param:
            let hash = try d.readUInt8()
            let flags = try d.readUInt8()
            let iterations = try d.readUInt16()
            data = .nsec3param(hashAlgorithm: hash, flags: flags, iterations: iterations, salt: try d.readBytes(Int(try d.readUInt8())))
        case DNSType.sshfp:
            let algorithm = try d.readUInt8()
            let fpType = try d.readUInt8()
            data = .sshfp(algorithm: algorithm, fingerprintType: fpType, fingerprint: try d.readBytes(d.remaining))
        case DNSType.tlsa, DNSType.smimea:
            let usage = try d.readUInt8()
            let selector = try d.readUInt8()
            let matching = try d.readUInt8()
            data = .tlsa(usage: usage, selector: selector, matchingType: matching, data: try d.readBytes(d.remaining))
        case DNSType.caa:
            let flags = try d.readUInt8()
            let tagLength = Int(try d.readUInt8())
            // RFC 8659 §4.1: the tag is 1 or more characters.
            guard tagLength >= 1 else { throw DecodeError.malformed(.dns, at: d.offset - 1, field: "CAA tag length", value: tagLength) }
            let tag = try d.readBytes(tagLength)
            data = .caa(flags: flags, tag: tag, value: try d.readBytes(d.remaining))
        case DNSType.uri:
            let prio = try d.readUInt16()
            let weight = try d.readUInt16()
            data = .uri(priority: prio, weight: weight, target: try d.readBytes(d.remaining))
        case DNSType.svcb, DNSType.https:
            let prio = try d.readUInt16()
            let target = try readName(&d, messageStart: messageStart, pointerFloor: floor)
            var params: [DNSOption] = []
            while !d.isAtEnd {
                let key = try d.readUInt16()
                let len = Int(try d.readUInt16())
                params.append(DNSOption(code: key, data: try d.readBytes(len)))
            }
            data = .svcb(priority: prio, target: target, params: params)
        case DNSType.soa:
            let mname = try readName(&d, messageStart: messageStart, pointerFloor: floor)
            let rname = try readName(&d, messageStart: messageStart, pointerFloor: floor)
            data = .soa(DNSSOA(mname: mname, rname: rname, serial: try d.readUInt32(), refresh: try d.readUInt32(),
                               retry: try d.readUInt32(), expire: try d.readUInt32(), minimum: try d.readUInt32()))
        case DNSType.srv:
            let prio = try d.readUInt16()
            let weight = try d.readUInt16()
            let port = try d.readUInt16()
            data = .srv(priority: prio, weight: weight, port: port, target: try readName(&d, messageStart: messageStart, pointerFloor: floor))
        case DNSType.opt:
            var options: [DNSOption] = []
            while !d.isAtEnd {
                let code = try d.readUInt16()
                let len = Int(try d.readUInt16())
                options.append(DNSOption(code: code, data: try d.readBytes(len)))
            }
            data = .opt(options)
        default:
            data = .raw(try d.readBytes(rdlength))
        }
        if !d.isAtEnd && problem == nil {
            problem = type == DNSType.a || type == DNSType.aaaa
                ? DecodeError.malformed(.dns, at: rdStart, field: type == DNSType.a ? "A rdlength" : "AAAA rdlength", value: rdlength)
                : DecodeError.malformed(.dns, at: d.offset, "record data longer than its fields")
        }
        return data
    }

    /// One <character-string>: a length byte, then that many bytes.
    static func characterString(_ d: inout ByteReader) throws(DecodeError) -> [UInt8] {
        let n = Int(try d.readUInt8())
        return try d.readBytes(n)
    }

    /// An NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2) to the end of `d`: window blocks of a window
    /// number, a bitmap length of 1…32, and the bitmap; windows in increasing order.
    static func typeBitmap(_ d: inout ByteReader) throws(DecodeError) -> [UInt16] {
        var types: [UInt16] = []
        var previousWindow = -1
        while !d.isAtEnd {
            let windowAt = d.offset
            let window = Int(try d.readUInt8())
            let length = Int(try d.readUInt8())
            guard window > previousWindow else {
                throw DecodeError.malformed(.dns, at: windowAt, field: "type bitmap window (not increasing)", value: window)
            }
            guard length >= 1 && length <= 32 else {
                throw DecodeError.malformed(.dns, at: windowAt + 1, field: "type bitmap length", value: length)
            }
            previousWindow = window
            let bits = try d.readBytes(length)
            for (i, b) in bits.enumerated() where b != 0 {
                var bit = 0
                while bit < 8 {
                    if b & (0x80 >> UInt8(bit)) != 0 {
                        types.append(UInt16(window << 8 | (i * 8 + bit)))
                    }
                    bit += 1
                }
            }
        }
        return types
    }

    /// Reads a possibly compressed domain name at the reader's position and advances past it (only
    /// on success: on an error the reader has not moved).
    ///
    /// Compression pointers must point strictly backwards (before the pointer itself), so following
    /// them always terminates; the decoded name is capped at `maxNameLength` wire bytes. Pointers
    /// may reach any earlier byte of the message (`messageStart`…), even outside `r`'s window, but
    /// never at or past `pointerFloor` when given (the end of the enclosing section).
    static func readName(_ r: inout ByteReader, messageStart: Int, pointerFloor: Int? = nil) throws(DecodeError) -> String {
        var out: [UInt8] = []
        var wireLength = 0
        var cursor = r.offset
        // After the first pointer, reads follow pointers in the whole message window.
        var followed = false
        var resumeAt = 0
        // Each pointer must go strictly before the previous jump target (first: the name's start),
        // so pointer chains are finite even when labels run forward after a jump.
        var floorForPointer = cursor
        // Pointers add no bytes to the name, so a chain of them is bounded here: a real name has at
        // most 127 labels, hence needs at most 127 jumps (without this, one 64 KiB message could
        // make every name walk ~8,000 pointers).
        var jumps = 0
        let whole = ByteReader(buffer: r.buffer, offset: messageStart, upper: pointerFloor ?? r.upper, layer: .dns, clamped: r.clampedByCapture)
        while true {
            let src = followed ? whole : r
            let len = try src.byte(at: cursor, lowerBound: followed ? messageStart : r.offset)
            switch len & 0xC0 {
            case 0x00:
                if len == 0 {
                    wireLength += 1  // the root label; counted in the limit check below
                    if !followed { resumeAt = cursor + 1 }
                    try r.seek(to: resumeAt, lowerBound: r.offset)
                    if out.isEmpty { return "." }
                    return String(decoding: out, as: UTF8.self)
                }
                let n = Int(len)
                wireLength += n + 1
                // + 1 for the root label that must still follow.
                guard wireLength + 1 <= maxNameLength else {
                    throw DecodeError.malformed(.dns, at: cursor, field: "name length", value: wireLength)
                }
                // Check the whole label is there before copying.
                _ = try src.byte(at: cursor + n, lowerBound: cursor)
                if !out.isEmpty { out.append(UInt8(ascii: ".")) }
                var i = 1
                while i <= n {
                    appendEscaped(src.buffer.load(fromByteOffset: cursor + i, as: UInt8.self), to: &out)
                    i += 1
                }
                cursor += n + 1
            case 0xC0:
                let lo = try src.byte(at: cursor + 1, lowerBound: cursor)
                let target = Int(len & 0x3F) << 8 | Int(lo)
                let absolute = messageStart + target
                guard absolute < floorForPointer else {
                    throw DecodeError.malformed(.dns, at: cursor, field: "compression pointer (not backwards)", value: target)
                }
                jumps += 1
                guard jumps <= maxPointerJumps else {
                    throw DecodeError.malformed(.dns, at: cursor, field: "compression pointer chain", value: jumps)
                }
                if !followed {
                    resumeAt = cursor + 2
                    followed = true
                }
                cursor = absolute
                floorForPointer = absolute
            default:
                throw DecodeError.malformed(.dns, at: cursor, field: "label type", value: Int(len))
            }
        }
    }

    /// Presentation-form escaping of one label byte (RFC 4343).
    @inline(__always)
    static func appendEscaped(_ b: UInt8, to out: inout [UInt8]) {
        if b == UInt8(ascii: ".") || b == UInt8(ascii: "\\") {
            out.append(UInt8(ascii: "\\")); out.append(b)
        } else if b > 0x20 && b < 0x7F {
            out.append(b)
        } else {
            out.append(UInt8(ascii: "\\"))
            out.append(UInt8(ascii: "0") + b / 100)
            out.append(UInt8(ascii: "0") + (b / 10) % 10)
            out.append(UInt8(ascii: "0") + b % 10)
        }
    }
}
