import Testing
@testable import NetWire

/// A response with every record type we decode, compressed the way real servers do.
enum BigResponse {
    static let aaaaBytes: [UInt8] = [0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01, 0x02, 0x48, 0x18, 0x93, 0x25, 0xC8, 0x19, 0x46]
    static let cookie: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]

    /// The message and the offset just after each record (answers, authority, additional in order).
    static let built: (msg: [UInt8], recordEnds: [Int]) = {
        var d = DNSBuilder(id: 0x1234, flags: 0x8180, qd: 1, an: 3, ns: 2, ar: 6)
        var ends: [Int] = []
        d.name("www.example.com")  // at 12; "example.com" at 16
        d.question(type: DNSType.a)
        d.pointer(12); d.record(type: DNSType.cname, ttl: 300) { $0.pointer(16) }; ends.append(d.offset)
        d.pointer(16); d.record(type: DNSType.a, ttl: 60) { $0.raw([93, 184, 216, 34]) }; ends.append(d.offset)
        d.pointer(16); d.record(type: DNSType.aaaa, ttl: 60) { $0.raw(aaaaBytes) }; ends.append(d.offset)
        d.pointer(16); d.record(type: DNSType.ns, ttl: 3600) { $0.name("ns1", pointer: 16) }; ends.append(d.offset)
        d.pointer(16)
        d.record(type: DNSType.soa, ttl: 3600) {
            $0.name("ns1", pointer: 16); $0.name("hostmaster", pointer: 16)
            $0.u32(2_024_010_101); $0.u32(7200); $0.u32(3600); $0.u32(1_209_600); $0.u32(300)
        }
        ends.append(d.offset)
        d.pointer(16); d.record(type: DNSType.mx, ttl: 300) { $0.u16(10); $0.name("mail", pointer: 16) }; ends.append(d.offset)
        d.pointer(16)
        d.record(type: DNSType.txt, ttl: 300) { $0.rawLabel(Array("hello".utf8)); $0.rawLabel([]); $0.rawLabel(Array("world".utf8)) }
        ends.append(d.offset)
        d.name("_sip._tcp", pointer: 16)
        d.record(type: DNSType.srv, ttl: 300) { $0.u16(10); $0.u16(60); $0.u16(5060); $0.name("sip", pointer: 16) }
        ends.append(d.offset)
        d.name("34.216.184.93.in-addr.arpa"); d.record(type: DNSType.ptr, ttl: 300) { $0.pointer(16) }; ends.append(d.offset)
        d.pointer(16); d.record(type: 65280, ttl: 0) { $0.raw([0xDE, 0xAD, 0xBE, 0xEF]) }; ends.append(d.offset)
        d.name("")
        d.record(type: DNSType.opt, rclass: 4096, ttl: 0x0000_8000) { $0.u16(10); $0.u16(8); $0.raw(cookie); $0.u16(12); $0.u16(0) }
        ends.append(d.offset)
        return (d.bytes, ends)
    }()

    static var msg: [UInt8] { built.msg }

    static let answers: [DNSRecord] = [
        DNSRecord(name: "www.example.com", type: 5, rclass: 1, ttl: 300, data: .name("example.com"), rdlength: 2),
        DNSRecord(name: "example.com", type: 1, rclass: 1, ttl: 60, data: .a(IPv4Address(93, 184, 216, 34)), rdlength: 4),
        DNSRecord(name: "example.com", type: 28, rclass: 1, ttl: 60, data: .aaaa(ipv6(aaaaBytes)), rdlength: 16),
    ]
    static let authority: [DNSRecord] = [
        DNSRecord(name: "example.com", type: 2, rclass: 1, ttl: 3600, data: .name("ns1.example.com"), rdlength: 6),
        DNSRecord(name: "example.com", type: 6, rclass: 1, ttl: 3600, data: .soa(DNSSOA(
            mname: "ns1.example.com", rname: "hostmaster.example.com", serial: 2_024_010_101,
            refresh: 7200, retry: 3600, expire: 1_209_600, minimum: 300)), rdlength: 39),
    ]
    static let additional: [DNSRecord] = [
        DNSRecord(name: "example.com", type: 15, rclass: 1, ttl: 300, data: .mx(preference: 10, exchange: "mail.example.com"), rdlength: 9),
        DNSRecord(name: "example.com", type: 16, rclass: 1, ttl: 300, data: .txt([Array("hello".utf8), [], Array("world".utf8)]), rdlength: 13),
        DNSRecord(name: "_sip._tcp.example.com", type: 33, rclass: 1, ttl: 300,
                  data: .srv(priority: 10, weight: 60, port: 5060, target: "sip.example.com"), rdlength: 12),
        DNSRecord(name: "34.216.184.93.in-addr.arpa", type: 12, rclass: 1, ttl: 300, data: .name("example.com"), rdlength: 2),
        DNSRecord(name: "example.com", type: 65280, rclass: 1, ttl: 0, data: .raw([0xDE, 0xAD, 0xBE, 0xEF]), rdlength: 4),
        DNSRecord(name: ".", type: 41, rclass: 4096, ttl: 0x8000,
                  data: .opt([DNSOption(code: 10, data: cookie), DNSOption(code: 12, data: [])]), rdlength: 16),
    ]
}

@Suite("DNS")
struct DNSTests {
    static let dnsStart = Off.udpPayload

    static func query(_ name: [UInt8], qd: UInt16 = 1, extra: [UInt8] = []) -> [UInt8] {
        DNSBuilder(id: 0x0042, flags: 0x0100, qd: qd).bytes + name + be16(1) + be16(1) + extra
    }

    // MARK: Known-good

    @Test func everyRecordType() {
        let p = decode(Build.dnsFrame(BigResponse.msg))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.checksumStatus == .ok)
        guard let m = p.dns else { Issue.record("no DNS"); return }
        #expect(m.id == 0x1234)
        #expect(m.flags == 0x8180)
        #expect(m.isResponse && m.recursionDesired && m.recursionAvailable)
        #expect(!m.authoritative && !m.truncatedFlag)
        #expect(m.rcode == 0)
        #expect((m.questionCount, m.answerCount, m.authorityCount, m.additionalCount) == (1, 3, 2, 6))
        #expect(m.questions == [DNSQuestion(name: "www.example.com", type: 1, qclass: 1)])
        #expect(m.answers == BigResponse.answers)
        #expect(m.authority == BigResponse.authority)
        #expect(m.additional == BigResponse.additional)
        #expect(m.length == BigResponse.msg.count)
    }

    @Test func simpleQueryToPort53() {
        var d = DNSBuilder(id: 0xBEEF, flags: 0x0120, qd: 1)
        d.name("example.com")
        d.question(type: DNSType.aaaa)
        let p = decode(Build.dnsFrame(d.bytes, sport: 40001, dport: 53))
        #expect(p.errors.isEmpty)
        #expect(p.dns?.id == 0xBEEF)
        #expect(p.dns?.isResponse == false)
        #expect(p.dns?.recursionDesired == true)
        #expect(p.dns?.authenticData == true)
        #expect(p.dns?.questions == [DNSQuestion(name: "example.com", type: 28, qclass: 1)])
        #expect(p.dns?.answers.isEmpty == true)
    }

    @Test func headerFlagAccessors() {
        let p = decode(Build.dnsFrame(DNSBuilder(id: 1, flags: 0x97F3).bytes))
        #expect(p.errors.isEmpty)
        let m = p.dns
        #expect(m?.isResponse == true)
        #expect(m?.opcode == 2)
        #expect(m?.authoritative == true)
        #expect(m?.truncatedFlag == true)
        #expect(m?.recursionDesired == true)
        #expect(m?.recursionAvailable == true)
        #expect(m?.zFlag == true)
        #expect(m?.authenticData == true)
        #expect(m?.checkingDisabled == true)
        #expect(m?.rcode == 3)
    }

    @Test func rootNameAndPointerChains() {
        var d = DNSBuilder(qd: 2, an: 1)
        d.name("")  // root question at 12
        d.question(type: DNSType.ns)
        let x = d.offset
        d.name("a", pointer: 12)  // "a" + the root name at 12
        d.question(type: DNSType.a)
        let y = d.offset
        d.name("b", pointer: x)  // b → a → root
        d.record(type: DNSType.cname, ttl: 1) { $0.name("c", pointer: y) }  // c → b → a
        let p = decode(Build.dnsFrame(d.bytes))
        #expect(p.errors.isEmpty)
        #expect(p.dns?.questions.map(\.name) == [".", "a"])
        #expect(p.dns?.answers.first?.name == "b.a")
        #expect(p.dns?.answers.first?.data == .name("c.b.a"))
    }

    @Test func labelEscaping() {
        var d = DNSBuilder(qd: 1)
        d.rawLabel(Array("a.b".utf8))
        d.rawLabel([0x20, 0x5C, 0x7F, 0xFF])
        d.raw([0])
        d.question(type: 1)
        let p = decode(Build.dnsFrame(d.bytes))
        #expect(p.errors.isEmpty)
        #expect(p.dns?.questions.first?.name == "a\\.b.\\032\\\\\\127\\255")
    }

    @Test func decodeDNSOffAndOtherPorts() {
        let f = Build.dnsFrame(BigResponse.msg)
        let p = decode(f, decodeDNS: false)
        #expect(p.errors.isEmpty)
        #expect(p.dns == nil)
        #expect(p.udp != nil)
        let q = decode(Build.udp4Frame(sport: 5353, dport: 5353, payload: BigResponse.msg))
        #expect(q.dns == nil)
    }

    @Test func overIPv6() {
        let dg = Build.udp(.v6AB, sport: 53, dport: 40001, payload: BigResponse.msg)
        let p = decode(Build.eth6(Build.ipv6(next: 17, payload: dg)))
        #expect(p.errors.isEmpty)
        #expect(p.udp?.checksumStatus == .ok)
        #expect(p.dns?.answers == BigResponse.answers)
        #expect(p.dns?.additional.count == 6)
    }

    @Test func fragmentedUDPIsNotDecodedAsDNS() {
        let ip = Build.ipv4(proto: 17, payload: Build.udp(sport: 53, dport: 40001, payload: BigResponse.msg), flags: 0x2000)
        let p = decode(Build.eth4(ip))
        #expect(p.errors.isEmpty)
        #expect(p.dns == nil)
    }

    @Test func recordsBeyond512PerSectionAreCountedNotStored() {
        var d = DNSBuilder(id: 9, flags: 0x0100, qd: 600)
        for _ in 0 ..< 600 { d.name(""); d.question(type: 1) }
        let p = decode(Build.dnsFrame(d.bytes, sport: 40001, dport: 53))
        #expect(p.errors.isEmpty)
        #expect(p.dns?.questionCount == 600)
        #expect(p.dns?.questions.count == DNSDecoder.maxRecordsPerSection)
    }

    // MARK: Malformed names

    @Test func pointerToItself() {
        let p = decode(Build.dnsFrame(Self.query([0xC0, 0x0C])))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + 12)
        #expect(badValueField(e) == "compression pointer (not backwards)")
        #expect(badValue(e) == 12)
        #expect(p.dns?.id == 0x0042)
        #expect(p.dns?.questions.isEmpty == true)
    }

    @Test func forwardPointer() {
        // Question 1 points at question 2's (valid) name, which comes after it.
        var d = DNSBuilder(id: 0x0042, flags: 0x0100, qd: 2)
        d.pointer(18)
        d.question(type: 1)
        d.name("example.com")
        d.question(type: 1)
        let p = decode(Build.dnsFrame(d.bytes))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + 12)
        #expect(badValue(e) == 18)
        #expect(p.dns?.questions.isEmpty == true)
    }

    @Test func pointerLoopThroughTwoPointers() {
        // Q1 "a" with type 0xC013, whose bytes (at 15) read as a pointer to Q2's name at 19.
        // Q2's name is a pointer to 15: 19 → 15 → 19 → … must stop with an error.
        var d = DNSBuilder(id: 0x0042, flags: 0x0100, qd: 2)
        d.name("a")
        d.question(type: 0xC013)
        #expect(d.offset == 19)
        d.pointer(15)
        d.question(type: 1)
        let p = decode(Build.dnsFrame(d.bytes))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + 15)
        #expect(badValue(e) == 19)
        #expect(p.dns?.questions == [DNSQuestion(name: "a", type: 0xC013, qclass: 1)])
    }

    @Test func pointerBackIntoOwnLabels() {
        // "x" then a pointer to the start of this very name: x.x.x.… without the backwards rule.
        let p = decode(Build.dnsFrame(Self.query([1, 0x78, 0xC0, 0x0C])))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + 14)
        #expect(badValue(e) == 12)
    }

    @Test func longPointerChainStops() {
        // Question k's name is a pointer to question k−1's name, so question k follows k−1
        // pointers (all strictly backwards). 127 jumps are a legal name's most; the 129th
        // question needs 128 and is malformed — a bound on work per name, not only on length.
        let count = 129
        var body: [UInt8] = [0] + be16(1) + be16(1)  // question 1: the root name, at 12
        var starts = [12]
        for _ in 2 ... count {
            let previous = starts[starts.count - 1]
            starts.append(12 + body.count)
            body += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)] + be16(1) + be16(1)
        }
        let msg = DNSBuilder(id: 0x0042, flags: 0x0100, qd: UInt16(count)).bytes + body
        let p = decode(Build.dnsFrame(msg))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + starts[1])  // the 128th jump: from question 2 to 1
        #expect(badValueField(e) == "compression pointer chain")
        #expect(badValue(e) == DNSDecoder.maxPointerJumps + 1)
        #expect(p.dns?.questions.count == count - 1)
        #expect(p.dns?.questions.last?.name == ".")
    }

    @Test(arguments: [UInt8(0x40), 0x41, 0x80, 0xBF])
    func reservedLabelTypes(byte: UInt8) {
        let p = decode(Build.dnsFrame(Self.query([3, 0x61, 0x62, 0x63, byte, 0x61, 0])))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + 16)
        #expect(badValueField(e) == "label type")
        #expect(badValue(e) == Int(byte))
    }

    static func labels(_ sizes: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, n) in sizes.enumerated() { out += [UInt8(n)] + [UInt8](repeating: UInt8(ascii: "a") + UInt8(i), count: n) }
        return out + [0]
    }

    @Test func nameLongerThan255() {
        let name = Self.labels([63, 63, 63, 63])  // 257 bytes in wire form
        let p = decode(Build.dnsFrame(Self.query(name)))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + 12 + 3 * 64)
        #expect(badValueField(e) == "name length")
        #expect(badValue(e) == 256)
    }

    @Test func nameOf255BytesIsAccepted() {
        let name = Self.labels([63, 63, 63, 61])
        #expect(name.count == 255)
        let p = decode(Build.dnsFrame(Self.query(name)))
        #expect(p.errors.isEmpty)
        #expect(p.dns?.questions.first?.name.utf8.count == 253)
    }

    @Test func nameOf256BytesIsMalformed() {
        // RFC 1035 §2.3.4: 255 octets or less, counting the root label. This one is 256.
        let name = Self.labels([63, 63, 63, 62])
        #expect(name.count == 256)
        let p = decode(Build.dnsFrame(Self.query(name)))
        #expect(p.errors.count == 1)
        #expect(p.errors.first?.kind == .malformed)
        #expect(p.errors.first?.layer == .dns)

    }

    @Test func nameLongerThan255ThroughCompression() {
        var d = DNSBuilder(id: 0x0042, flags: 0x0100, qd: 2)
        d.raw(Self.labels([63, 63, 63]))  // 193 bytes at 12
        d.question(type: 1)
        d.rawLabel([UInt8](repeating: 0x7A, count: 63))
        d.pointer(12)  // 64 + 193 = 257
        d.question(type: 1)
        let p = decode(Build.dnsFrame(d.bytes))
        let e = expectOneError(p, .malformed, .dns)
        #expect(badValueField(e) == "name length")
        #expect(p.dns?.questions.count == 1)
    }

    // MARK: Malformed records

    @Test func answerCountBeyondMessage() {
        // Says 3 answers, carries 1, fully captured.
        var d = DNSBuilder(qd: 1, an: 3)
        d.name("example.com")
        d.question(type: 1)
        d.pointer(12); d.record(type: 1, ttl: 60) { $0.raw([192, 0, 2, 1]) }
        let p = decode(Build.dnsFrame(d.bytes))
        let e = expectOneError(p, .malformed, .dns, offset: Self.dnsStart + d.offset)
        #expect(e?.detail == .pastDeclaredLength(1))
        #expect(p.dns?.answerCount == 3)
        #expect(p.dns?.questions.count == 1)
        #expect(p.dns?.answers == [DNSRecord(name: "example.com", type: 1, rclass: 1, ttl: 60, data: .a(IPv4Address(192, 0, 2, 1)), rdlength: 4)])
    }

    @Test func sameMessageCutByCaptureIsTruncated() {
        // The full message has all 3 answers; the capture stops after the first.
        var d = DNSBuilder(qd: 1, an: 3)
        d.name("example.com")
        d.question(type: 1)
        d.pointer(12); d.record(type: 1, ttl: 60) { $0.raw([192, 0, 2, 1]) }
        let cut = d.offset
        for i: UInt8 in 2 ... 3 { d.pointer(12); d.record(type: 1, ttl: 60) { $0.raw([192, 0, 2, i]) } }
        let f = Build.dnsFrame(d.bytes)
        let p = decode(Array(f.prefix(Self.dnsStart + cut)), wireLength: f.count)
        let e = expectOneError(p, .truncated, .dns, offset: Self.dnsStart + cut)
        #expect(e?.detail == .needBytes(1))
        #expect(p.dns?.questions.count == 1)
        #expect(p.dns?.answers.count == 1)
        #expect(p.udp?.checksumStatus == .unverified)
    }

    @Test func rdataShapeMismatch() {
        func one(_ body: (inout DNSBuilder) -> Void) -> Packet {
            var d = DNSBuilder(an: 1)
            d.name("x")
            body(&d)
            return decode(Build.dnsFrame(d.bytes))
        }
        // A with 5 bytes: the address is its first 4 (as tshark shows it), the length is reported.
        let a = one { $0.record(type: 1, ttl: 1) { $0.raw([1, 2, 3, 4, 5]) } }
        #expect(badValueField(expectOneError(a, .malformed, .dns, offset: Self.dnsStart + 12 + 3 + 10)) == "A rdlength")
        #expect(a.dns?.answers.first?.data == .a(IPv4Address(1, 2, 3, 4)))
        // A with 3 bytes: no address, the raw bytes.
        let a3 = one { $0.record(type: 1, ttl: 1) { $0.raw([1, 2, 3]) } }
        #expect(badValueField(expectOneError(a3, .malformed, .dns)) == "A rdlength")
        #expect(a3.dns?.answers.first?.data == .raw([1, 2, 3]))
        // AAAA with 17.
        let aaaa17 = one { $0.record(type: 28, ttl: 1) { $0.raw(Array(1 ... 17)) } }
        #expect(badValueField(expectOneError(aaaa17, .malformed, .dns)) == "AAAA rdlength")
        #expect(aaaa17.dns?.answers.first?.data == .aaaa(ipv6(Array(1 ... 16))))
        // AAAA with 4.
        let aaaa = one { $0.record(type: 28, ttl: 1) { $0.raw([1, 2, 3, 4]) } }
        #expect(badValueField(expectOneError(aaaa, .malformed, .dns)) == "AAAA rdlength")
        // CNAME with a byte after the name.
        let cname = one { $0.record(type: 5, ttl: 1) { $0.name("y"); $0.raw([0xFF]) } }
        let e = expectOneError(cname, .malformed, .dns)
        #expect(e?.detail == .inconsistent("record data longer than its fields"))
        #expect(cname.dns?.answers.first?.data == .name("y"))  // the name is kept (as tshark shows it)
        // MX with a byte after its exchange, then a second answer: both kept, one error.
        var mx2 = DNSBuilder(an: 2)
        mx2.name("x")
        mx2.record(type: 15, ttl: 1) { $0.u16(10); $0.name("m"); $0.raw([0]) }
        mx2.pointer(12); mx2.record(type: 1, ttl: 1) { $0.raw([9, 9, 9, 9]) }
        let m2 = decode(Build.dnsFrame(mx2.bytes))
        expectOneError(m2, .malformed, .dns)
        #expect(m2.dns?.answers.map(\.data) == [.mx(preference: 10, exchange: "m"), .a(IPv4Address(9, 9, 9, 9))])
        // A name running past its rdlength (the next bytes would complete it).
        var d = DNSBuilder(an: 1)
        d.name("x")
        d.bytes += be16(5) + be16(1) + be32(1) + be16(2) + [3, 0x61, 0x62, 0x63, 0]
        expectOneError(decode(Build.dnsFrame(d.bytes)), .malformed, .dns)
        // MX too short for its preference.
        let mx = one { $0.record(type: 15, ttl: 1) { $0.raw([0]) } }
        expectOneError(mx, .malformed, .dns)
        // TXT string longer than the rdata.
        let txt = one { $0.record(type: 16, ttl: 1) { $0.raw([5, 0x61]) } }
        expectOneError(txt, .malformed, .dns)
        // OPT option longer than the rdata.
        let opt = one { $0.record(type: 41, rclass: 512, ttl: 0) { $0.raw(be16(10) + be16(9) + [1, 2]) } }
        expectOneError(opt, .malformed, .dns)
        // SOA missing its numbers.
        let soa = one { $0.record(type: 6, ttl: 1) { $0.name("a"); $0.name("b"); $0.u32(1) } }
        expectOneError(soa, .malformed, .dns)
        // rdlength beyond the fully captured message.
        var r = DNSBuilder(an: 1)
        r.name("x")
        r.bytes += be16(1) + be16(1) + be32(1) + be16(100) + [1, 2, 3, 4]
        let rp = decode(Build.dnsFrame(r.bytes))
        expectOneError(rp, .malformed, .dns)
        #expect(rp.dns?.answers.isEmpty == true)
    }

    @Test func pointerInRDataMustPointBeforeTheName() {
        // A CNAME whose target points at the record's own rdata start.
        var d = DNSBuilder(an: 1)
        d.name("x")
        let rdStart = d.offset + 10
        d.record(type: 5, ttl: 1) { $0.pointer(rdStart) }
        let p = decode(Build.dnsFrame(d.bytes))
        expectOneError(p, .malformed, .dns, offset: Self.dnsStart + rdStart)
    }

    @Test func headerShorterThan12IsMalformedWhenCaptured() {
        let p = decode(Build.dnsFrame([0x12, 0x34, 0x81, 0x80, 0, 1]))
        expectOneError(p, .malformed, .dns)
        #expect(p.dns?.id == 0x1234)
        #expect(p.dns?.flags == 0x8180 && p.dns?.headerComplete == false)
        // The ID without the flags is not kept (tshark reads the two as one; tcpdump shows nothing).
        for n in 2 ... 3 {
            let q = decode(Build.dnsFrame(Array([0x12, 0x34, 0x81, 0x80].prefix(n))))
            expectOneError(q, .malformed, .dns)
            #expect(q.dns == nil)
        }
    }

    // MARK: Capture cuts

    @Test func everyPrefixOfTheBigResponse() {
        let f = Build.dnsFrame(BigResponse.msg)
        let ends = BigResponse.built.recordEnds.map { $0 + Self.dnsStart }
        let start = Self.dnsStart
        expectPrefixes(f, cuts: [(14, .ethernet), (34, .ipv4), (42, .udp), (f.count, .dns)], skip: [start]) { k, p in
            // A DNS layer appears once its id and flags were captured.
            guard k >= start + 4 else { #expect(p.dns == nil); return }
            #expect(p.dns?.flags == 0x8180)
            if k >= start + 33 { #expect(p.dns?.questions.count == 1) }
            let whole = ends.filter { $0 <= k }.count
            let got = (p.dns?.answers.count ?? 0) + (p.dns?.authority.count ?? 0) + (p.dns?.additional.count ?? 0)
            #expect(got == whole, "prefix \(k)")
        }
    }

    @Test func captureCutAtTheStartOfTheDNSMessage() {
        // The UDP header is captured, none of its 12+ bytes of DNS are: that cuts the DNS message.
        let f = Build.dnsFrame(BigResponse.msg)
        let p = decode(Array(f.prefix(Self.dnsStart)), wireLength: f.count)
        #expect(p.udp != nil)
        #expect(p.errors.count == 1)
        #expect(p.errors.first?.kind == .truncated)
        #expect(p.errors.first?.layer == .dns)

    }

    @Test func messageLengthIsTheDeclaredLength() {
        // DNSMessage.length is documented as the UDP payload length declared.
        let f = Build.dnsFrame(BigResponse.msg)
        let p = decode(Array(f.prefix(Self.dnsStart + 40)), wireLength: f.count)
        #expect(p.dns != nil)
        #expect(p.dns?.length == BigResponse.msg.count)

    }
}

/// One record of each newly typed RR type: its rdata, the decoded value, and rdata whose fields do
/// not fit (kept as raw bytes, one malformed error).
struct RRCase: Sendable, CustomStringConvertible {
    var type: UInt16
    var rdata: [UInt8]
    var expected: DNSRData
    var bad: [UInt8]
    var description: String { "type \(type)" }

    static func name(_ dotted: String) -> [UInt8] {
        var d = DNSBuilder()
        d.bytes = []
        d.name(dotted)
        return d.bytes
    }

    static func cs(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }

    static let key: [UInt8] = Array(3 ... 34)
    static let digest: [UInt8] = Array(0xA0 ... 0xBF)

    static let all: [RRCase] = [
        RRCase(type: DNSType.hinfo, rdata: cs("PDP-11") + cs("UNIX"),
               expected: .hinfo(cpu: Array("PDP-11".utf8), os: Array("UNIX".utf8)), bad: [3, 0x61, 0x62, 0x63]),
        RRCase(type: DNSType.rp, rdata: name("admin.example") + name("info.example"),
               expected: .twoNames("admin.example", "info.example"), bad: name("admin.example")),
        RRCase(type: DNSType.minfo, rdata: name("a.x") + name("b.x"), expected: .twoNames("a.x", "b.x"), bad: [1, 0x61]),
        RRCase(type: DNSType.afsdb, rdata: be16(1) + name("afs.example"), expected: .numberAndName(1, "afs.example"), bad: [0]),
        RRCase(type: DNSType.kx, rdata: be16(10) + name("kx.example"), expected: .numberAndName(10, "kx.example"), bad: be16(10)),
        RRCase(type: DNSType.naptr, rdata: be16(100) + be16(10) + cs("S") + cs("SIP+D2U") + cs("") + name("_sip._udp.example"),
               expected: .naptr(DNSNAPTR(order: 100, preference: 10, flags: Array("S".utf8), services: Array("SIP+D2U".utf8),
                                         regexp: [], replacement: "_sip._udp.example")),
               bad: be16(100) + be16(10) + [9, 0x53]),
        RRCase(type: DNSType.ds, rdata: be16(2371) + [13, 2] + digest,
               expected: .ds(keyTag: 2371, algorithm: 13, digestType: 2, digest: digest), bad: be16(2371) + [13]),
        RRCase(type: DNSType.cds, rdata: be16(1) + [8, 1] + digest, expected: .ds(keyTag: 1, algorithm: 8, digestType: 1, digest: digest),
               bad: [1]),
        RRCase(type: DNSType.dnskey, rdata: be16(257) + [3, 13] + key,
               expected: .dnskey(flags: 257, protocol: 3, algorithm: 13, key: key), bad: be16(257) + [3]),
        RRCase(type: DNSType.cdnskey, rdata: be16(256) + [3, 8] + key,
               expected: .dnskey(flags: 256, protocol: 3, algorithm: 8, key: key), bad: [1, 0]),
        RRCase(type: DNSType.rrsig,
               rdata: be16(DNSType.a) + [13, 2] + be32(3600) + be32(1_702_592_000) + be32(1_700_000_000) + be16(2371)
                   + name("example") + key,
               expected: .rrsig(DNSRRSIG(typeCovered: 1, algorithm: 13, labels: 2, originalTTL: 3600, expiration: 1_702_592_000,
                                         inception: 1_700_000_000, keyTag: 2371, signer: "example", signature: key)),
               bad: be16(DNSType.a) + [13, 2] + be32(3600) + be32(1) + be32(2) + be16(3)),  // no signer name
        RRCase(type: DNSType.nsec, rdata: name("next.example") + [0, 6, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03],
               expected: .nsec(next: "next.example", types: [1, 15, 46, 47]),
               bad: name("next.example") + [0, 0]),  // a bitmap of length 0
        RRCase(type: DNSType.nsec3, rdata: [1, 1] + be16(10) + [2, 0xAA, 0xBB] + [4, 1, 2, 3, 4] + [0, 1, 0x60],
               expected: .nsec3(DNSNSEC3(hashAlgorithm: 1, flags: 1, iterations: 10, salt: [0xAA, 0xBB],
                                         nextHashedOwner: [1, 2, 3, 4], types: [1, 2])),
               bad: [1, 1] + be16(10) + [9, 0xAA]),  // salt longer than the rdata
        RRCase(type: DNSType.nsec3param, rdata: [1, 0] + be16(0) + [0],
               expected: .nsec3param(hashAlgorithm: 1, flags: 0, iterations: 0, salt: []), bad: [1, 0] + be16(0)),
        RRCase(type: DNSType.sshfp, rdata: [4, 2] + digest, expected: .sshfp(algorithm: 4, fingerprintType: 2, fingerprint: digest),
               bad: [4]),
        RRCase(type: DNSType.tlsa, rdata: [3, 1, 1] + digest, expected: .tlsa(usage: 3, selector: 1, matchingType: 1, data: digest),
               bad: [3, 1]),
        RRCase(type: DNSType.caa, rdata: [0] + cs("issue") + Array("ca.example".utf8),
               expected: .caa(flags: 0, tag: Array("issue".utf8), value: Array("ca.example".utf8)),
               bad: [0, 0, 0x78]),  // a tag of length 0
        RRCase(type: DNSType.uri, rdata: be16(10) + be16(1) + Array("ftp://x/".utf8),
               expected: .uri(priority: 10, weight: 1, target: Array("ftp://x/".utf8)), bad: be16(10) + [0]),
        RRCase(type: DNSType.svcb, rdata: be16(1) + name("svc.example") + be16(1) + be16(3) + cs("h2") + be16(3) + be16(2) + be16(8443),
               expected: .svcb(priority: 1, target: "svc.example",
                               params: [DNSOption(code: 1, data: cs("h2")), DNSOption(code: 3, data: be16(8443))]),
               bad: be16(1) + name("svc.example") + be16(3) + be16(5) + [0x20]),  // a value longer than the rdata
        RRCase(type: DNSType.https, rdata: be16(1) + [0], expected: .svcb(priority: 1, target: ".", params: []), bad: be16(1)),
        RRCase(type: DNSType.spf, rdata: cs("v=spf1 -all"), expected: .txt([Array("v=spf1 -all".utf8)]), bad: [5, 0x76]),
    ]
}

@Suite("DNS record types")
struct DNSRecordTypeTests {
    static let dnsStart = Off.udpPayload

    /// A response with the record in the answer section, then an A record (decoding goes on after it).
    static func frame(_ c: RRCase, rdata: [UInt8]) -> [UInt8] {
        var d = DNSBuilder(an: 2)
        d.name("example.com")
        d.record(type: c.type, ttl: 300) { $0.raw(rdata) }
        d.pointer(12)
        d.record(type: DNSType.a, ttl: 60) { $0.raw([192, 0, 2, 1]) }
        return Build.dnsFrame(d.bytes)
    }

    @Test(arguments: RRCase.all)
    func knownGood(_ c: RRCase) {
        let p = decode(Self.frame(c, rdata: c.rdata))
        #expect(p.errors.isEmpty, "\(p.errors)")
        #expect(p.dns?.answers.count == 2)
        #expect(p.dns?.answers.first?.type == c.type)
        #expect(p.dns?.answers.first?.rdlength == UInt16(c.rdata.count))
        #expect(p.dns?.answers.first?.data == c.expected)
        #expect(p.dns?.answers.last?.data == .a(IPv4Address(192, 0, 2, 1)))
    }

    @Test(arguments: RRCase.all)
    func everyPrefixIsTruncated(_ c: RRCase) {
        let f = Self.frame(c, rdata: c.rdata)
        expectPrefixes(f, cuts: [(14, .ethernet), (34, .ipv4), (42, .udp), (f.count, .dns)], skip: [Self.dnsStart]) { k, p in
            // The typed record appears only once all of its data was captured.
            let recordEnd = Self.dnsStart + 12 + 13 + 10 + c.rdata.count
            if k >= recordEnd { #expect(p.dns?.answers.first?.data == c.expected, "prefix \(k)") }
            else { #expect(p.dns?.answers.isEmpty ?? true, "prefix \(k)") }
        }
    }

    @Test(arguments: RRCase.all)
    func badFieldIsMalformed(_ c: RRCase) {
        let p = decode(Self.frame(c, rdata: c.bad))
        expectOneError(p, .malformed, .dns)
        // The record is kept with its data as raw bytes, and the next record is decoded.
        #expect(p.dns?.answers.first?.data == .raw(c.bad))
        #expect(p.dns?.answers.first?.rdlength == UInt16(c.bad.count))
        #expect(p.dns?.answers.last?.data == .a(IPv4Address(192, 0, 2, 1)))
    }

    @Test func typeBitmapWindowsMustIncrease() {
        let c = RRCase.all.first { $0.type == DNSType.nsec }
        guard let c else { Issue.record("no NSEC case"); return }
        let bad = RRCase.name("n.example") + [1, 1, 0x80, 0, 1, 0x40]  // window 1, then window 0
        let p = decode(Self.frame(c, rdata: bad))
        #expect(badValueField(expectOneError(p, .malformed, .dns)) == "type bitmap window (not increasing)")
        // Window 1 bit 0 is type 256; a 32-byte bitmap is the largest.
        let ok = RRCase.name("n.example") + [0, 1, 0x40, 1, 1, 0x80, 2, 32] + [UInt8](repeating: 0, count: 31) + [1]
        let q = decode(Self.frame(c, rdata: ok))
        #expect(q.errors.isEmpty)
        #expect(q.dns?.answers.first?.data == .nsec(next: "n.example", types: [1, 256, 0x02FF]))
        let tooLong = RRCase.name("n.example") + [0, 33] + [UInt8](repeating: 0, count: 33)
        #expect(badValueField(expectOneError(decode(Self.frame(c, rdata: tooLong)), .malformed, .dns)) == "type bitmap length")
    }

    @Test func recordsInEverySectionKeepRdlength() {
        var d = DNSBuilder(qd: 1, an: 1, ns: 1, ar: 1)
        d.name("")
        d.question(type: DNSType.dnskey)
        d.name(""); d.record(type: DNSType.dnskey, ttl: 1) { $0.raw(be16(257) + [3, 8] + RRCase.key) }
        d.name(""); d.record(type: DNSType.nsec3param, ttl: 1) { $0.raw([1, 0, 0, 0, 0]) }
        d.name(""); d.record(type: DNSType.opt, rclass: 1232, ttl: 0x8000) { _ in }
        let p = decode(Build.dnsFrame(d.bytes))
        #expect(p.errors.isEmpty)
        #expect(p.dns?.questions.first?.name == ".")
        #expect(p.dns?.answers.map(\.rdlength) == [36])
        #expect(p.dns?.authority.map(\.rdlength) == [5])
        #expect(p.dns?.additional.map(\.rdlength) == [0])
        #expect([p.dns?.answers.first?.name, p.dns?.authority.first?.name, p.dns?.additional.first?.name] == [".", ".", "."])
    }
}
