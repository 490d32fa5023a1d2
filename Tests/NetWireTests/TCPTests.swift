import Testing
@testable import NetWire

@Suite("TCP")
struct TCPTests {
    /// MSS 1460, SACK permitted, timestamps, NOP, window scale 7: a typical SYN, 20 bytes of options.
    static let synOptions: [UInt8] = [2, 4, 0x05, 0xB4, 4, 2, 8, 10] + be32(0x0011_2233) + be32(0x4455_6677) + [1, 3, 3, 7]

    static func frame(_ seg: [UInt8]) -> [UInt8] { Build.eth4(Build.ipv4(proto: 6, payload: seg)) }

    @Test func basicHeader() {
        let seg = Build.tcp(sport: 40000, dport: 80, seq: 0xDEAD_BEEF, ack: 0x0102_0304, flags: 0x018,
                            window: 29200, urgent: 0, payload: Array("hello".utf8))
        let p = decode(Self.frame(seg))
        #expect(p.errors.isEmpty)
        let t = p.tcp
        #expect(t?.sourcePort == 40000)
        #expect(t?.destinationPort == 80)
        #expect(t?.sequence == 0xDEAD_BEEF)
        #expect(t?.acknowledgment == 0x0102_0304)
        #expect(t?.dataOffset == 5)
        #expect(t?.headerLength == 20)
        #expect(t?.flags == [.psh, .ack])
        #expect(t?.window == 29200)
        #expect(t?.checksum == seg.get16(at: 16))
        #expect(t?.checksumStatus == .ok)
        #expect(t?.urgentPointer == 0)
        #expect(t?.payloadLength == 5)
        #expect(t?.offset == 34)
        #expect(p.partialPorts?.0 == 40000 && p.partialPorts?.1 == 80)
        #expect(p.payloadStart == 54)
        #expect(p.payloadEnd == 59)
        #expect(p.tcpOptions.isEmpty)
    }

    static let flagBits: [(UInt16, TCPFlags)] = [
        (0x001, .fin), (0x002, .syn), (0x004, .rst), (0x008, .psh), (0x010, .ack),
        (0x020, .urg), (0x040, .ece), (0x080, .cwr), (0x100, .ns),
    ]

    @Test(arguments: 0 ..< 9)
    func eachFlag(index: Int) {
        let (bit, flag) = Self.flagBits[index]
        let seg = Build.tcp(flags: bit, urgent: bit == 0x020 ? 3 : 0)
        let p = decode(Self.frame(seg))
        #expect(p.errors.isEmpty)
        #expect(p.tcp?.flags == flag)
        #expect(p.tcp?.flags.rawValue == bit)
        #expect(p.tcp?.checksumStatus == .ok)
        if bit == 0x100 { #expect(seg[12] == 0x51) }  // NS is the low bit of the data-offset byte
    }

    @Test func allFlagsAndReservedBitsIgnored() {
        let all = decode(Self.frame(Build.tcp(flags: 0x1FF)))
        #expect(all.tcp?.flags == [.fin, .syn, .rst, .psh, .ack, .urg, .ece, .cwr, .ns])
        let reserved = decode(Self.frame(Build.tcp(flags: 0x002, reserved: 7)))
        #expect(reserved.errors.isEmpty)
        #expect(reserved.tcp?.flags == .syn)
        #expect(reserved.tcp?.dataOffset == 5)
    }

    @Test func synOptions() {
        let p = decode(Self.frame(Build.tcp(flags: 0x002, options: Self.synOptions)))
        #expect(p.errors.isEmpty)
        #expect(p.tcp?.dataOffset == 10)
        #expect(p.tcp?.checksumStatus == .ok)
        #expect(p.tcpOptions == [.maximumSegmentSize(1460), .sackPermitted,
                                 .timestamps(value: 0x0011_2233, echo: 0x4455_6677), .noOperation, .windowScale(7)])
        #expect(p.payloadStart == 74)
        #expect(p.payloadEnd == 74)
    }

    @Test(arguments: 1 ... 4)
    func sackBlocks(n: Int) {
        var opts: [UInt8] = [1, 1, 5, UInt8(2 + 8 * n)]
        for i in 0 ..< n { opts += be32(UInt32(1000 * i + 1)) + be32(UInt32(1000 * i + 500)) }
        let p = decode(Self.frame(Build.tcp(options: opts)))
        #expect(p.errors.isEmpty)
        #expect(p.tcpOptions.count == 3)
        #expect(p.tcpOptions.prefix(2) == [.noOperation, .noOperation])
        guard case let .sack(blocks)? = p.tcpOptions.last else {
            Issue.record("no SACK option: \(p.tcpOptions)")
            return
        }
        #expect(blocks.count == n)
        for i in 0 ..< n {
            #expect(blocks.block(i).left == UInt32(1000 * i + 1))
            #expect(blocks.block(i).right == UInt32(1000 * i + 500))
        }
    }

    @Test func endOfListStopsParsing() {
        // NOP, EOL, then bytes that would be malformed if they were read.
        let p = decode(Self.frame(Build.tcp(options: [1, 0, 0xFF, 0x01])))
        #expect(p.errors.isEmpty)
        #expect(p.tcpOptions == [.noOperation, .endOfList])
    }

    @Test func unknownOptionKeepsKindLengthAndOffset() {
        // MPTCP (30), length 6, then two NOPs.
        let p = decode(Self.frame(Build.tcp(options: [30, 6, 0xA, 0xB, 0xC, 0xD, 1, 1])))
        #expect(p.errors.isEmpty)
        #expect(p.tcpOptions == [.unknown(kind: 30, length: 6, dataOffset: 34 + 20 + 2), .noOperation, .noOperation])
    }

    @Test(arguments: [UInt8(0), 1])
    func optionLengthBelowTwo(len: UInt8) {
        let p = decode(Self.frame(Build.tcp(options: [1, 2, len, 0])))
        let e = expectOneError(p, .malformed, .tcp, offset: 54 + 2)
        #expect(badValueField(e) == "option length")
        #expect(badValue(e) == Int(len))
        #expect(p.tcp?.sourcePort == 40000)
        #expect(p.tcpOptions == [.noOperation])
    }

    @Test func knownOptionWithWrongLength() {
        let p = decode(Self.frame(Build.tcp(options: [2, 3, 5, 1])))  // MSS with length 3
        let e = expectOneError(p, .malformed, .tcp, offset: 55)
        #expect(badValue(e) == 3)
        // Its length still frames it: listed by kind, and the NOP after it is read (as tshark does).
        #expect(p.tcpOptions == [.invalidLength(kind: 2, length: 3), .noOperation])
        #expect(p.tcp?.isComplete == true)
    }

    @Test func optionsAfterAWrongLengthAreRead() {
        // MSS with length 6, timestamps, NOP, window scale: one error, every option listed.
        let opts: [UInt8] = [2, 6, 5, 0xB4, 0, 0, 8, 10] + be32(7) + be32(9) + [1, 3, 3, 7]
        let p = decode(Self.frame(Build.tcp(flags: 0x002, options: opts)))
        let e = expectOneError(p, .malformed, .tcp, offset: 55)
        #expect(badValueField(e) == "option length")
        #expect(p.tcpOptions == [.invalidLength(kind: 2, length: 6), .timestamps(value: 7, echo: 9),
                                 .noOperation, .windowScale(7)])
        #expect(p.tcp?.checksumStatus == .ok)
        // Two wrong lengths: both listed, the first reported.
        let q = decode(Self.frame(Build.tcp(options: [4, 4, 0, 0, 3, 2, 1, 1])))
        expectOneError(q, .malformed, .tcp, offset: 55)
        #expect(q.tcpOptions == [.invalidLength(kind: 4, length: 4), .invalidLength(kind: 3, length: 2), .noOperation, .noOperation])
    }

    @Test func optionLongerThanTheHeaderIsNotListed() {
        // An unknown option whose length runs past the 12-byte option area, in a frame the capture
        // cut inside it: malformed (the header says so), not truncation, and not listed.
        let f = Self.frame(Build.tcp(options: [1, 127, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0], payload: [1, 2, 3]))
        let p = decode(Array(f.prefix(58)), wireLength: f.count)
        let e = expectOneError(p, .malformed, .tcp, offset: 57)
        #expect(e?.detail == .pastDeclaredLength(125))
        #expect(p.tcpOptions == [.noOperation])
    }

    @Test func optionKindWithoutItsLengthByteIsNotListed() {
        let f = Self.frame(Build.tcp(options: [1, 1, 8, 10] + be32(1) + be32(2) + [0, 0, 0, 0]))
        let p = decode(Array(f.prefix(57)), wireLength: f.count)  // the kind byte of TS is the last one
        expectOneError(p, .truncated, .tcp, offset: 57)
        #expect(p.tcpOptions == [.noOperation, .noOperation])
    }

    @Test func sackCutKeepsItsWholeBlocks() {
        let opts: [UInt8] = [1, 1, 5, 18] + be32(100) + be32(200) + be32(300) + be32(400)
        let f = Self.frame(Build.tcp(options: opts))
        for (cut, blocks) in [(58 + 7, 0), (58 + 8, 1), (58 + 13, 1), (58 + 15, 1)] {
            let p = decode(Array(f.prefix(cut)), wireLength: f.count)
            expectOneError(p, .truncated, .tcp)
            guard let last = p.tcpOptions.last else { Issue.record("no options at \(cut)"); continue }
            if blocks == 0 {
                #expect(last == .truncated(kind: 5), "cut \(cut)")
            } else if case let .truncatedSACK(b, declared) = last {
                #expect(b.count == blocks && b.block(0).left == 100 && b.block(0).right == 200, "cut \(cut)")
                #expect(declared == 2, "cut \(cut)")
            } else {
                Issue.record("cut \(cut): \(last)")
            }
        }
    }

    @Test func optionPastHeaderIsMalformed() {
        // Timestamps (10 bytes) starting 2 bytes before the end of a 4-byte option area.
        let p = decode(Self.frame(Build.tcp(options: [1, 1, 8, 10], payload: [UInt8](repeating: 0, count: 12))))
        expectOneError(p, .malformed, .tcp)
        #expect(p.tcpOptions == [.noOperation, .noOperation])
        #expect(p.tcp?.dataOffset == 6)
        // An unknown option running past the header.
        let q = decode(Self.frame(Build.tcp(options: [1, 1, 30, 8], payload: [1, 2, 3, 4, 5, 6])))
        expectOneError(q, .malformed, .tcp)
        // A kind byte with no room for its length byte.
        let r = decode(Self.frame(Build.tcp(options: [1, 1, 1, 2], payload: [5, 5, 5])))
        expectOneError(r, .malformed, .tcp)
    }

    @Test(arguments: [UInt8(0), 4])
    func dataOffsetBelowFive(doff: UInt8) {
        let p = decode(Self.frame(Build.tcp(payload: [1, 2, 3], dataOffset: doff)))
        let e = expectOneError(p, .malformed, .tcp, offset: 34 + 12)
        #expect(badValueField(e) == "data offset")
        #expect(p.tcp?.dataOffset == doff)
        #expect(p.tcp?.sequence == 0x0102_0304)
        // Not a usable header (tcpdump and tshark stop interpreting it there).
        #expect(p.tcp?.dataOffsetValid == false && p.tcp?.isComplete == false)
        // tshark's tcp.len: the segment minus the (impossible) header length.
        #expect(p.tcp?.segmentHoldsHeader == true)
        #expect(p.tcp?.payloadLength == 23 - Int(doff) * 4)
    }

    @Test func dataOffsetBeyondSegment() {
        // Header says 60 bytes; the whole segment is 24.
        let p = decode(Self.frame(Build.tcp(payload: [1, 2, 3, 4], dataOffset: 15)))
        let e = expectOneError(p, .malformed, .tcp, offset: 34 + 12)
        #expect(badValueField(e) == "data offset beyond segment")
        #expect(badValue(e) == 60)
        #expect(p.tcp?.dataOffset == 15)
        #expect(p.tcp?.segmentHoldsHeader == false)
    }

    @Test func optionsInsideASegmentShorterThanItsHeader() {
        // Data offset 12 (28 bytes of options), but the IP header leaves the segment 30 bytes: the
        // options inside it are listed (a timestamp cut after its TSval keeps that), then the data
        // offset is the one error.
        let opts: [UInt8] = [1, 1, 8, 10] + be32(0xAABB_CCDD) + be32(0x1122_3344)
        let seg = Build.tcp(options: opts + [UInt8](repeating: 1, count: 16), dataOffset: 12)
        let p = decode(Self.frame(Array(seg.prefix(30))))
        let e = expectOneError(p, .malformed, .tcp, offset: 34 + 12)
        #expect(badValueField(e) == "data offset beyond segment")
        #expect(p.tcpOptions == [.noOperation, .noOperation, .timestampValueOnly(0xAABB_CCDD)])
        #expect(p.tcp?.checksumStatus == .bad)  // computed over the 30 bytes that are the segment
        #expect(p.tcp?.segmentHoldsHeader == false)
    }

    @Test(arguments: [16, 17, 18, 19])
    func segmentShorterThanTheFixedHeader(n: Int) {
        // The IP header declares n bytes of TCP (and the frame has them): the fields inside the n
        // bytes are read, as tshark reads them; the checksum is checked over the n bytes when its two
        // bytes are there.
        let seg = Array(Build.tcp(flags: 0x011, payload: [1, 2, 3]).prefix(n))
        let p = decode(Self.frame(seg))
        let e = expectOneError(p, .malformed, .tcp, offset: 34)
        #expect(e?.detail == .pastDeclaredLength(20))
        #expect(p.tcp?.validBytes == n && p.tcp?.isComplete == false)
        #expect(p.tcp?.sequence == 0x0102_0304 && p.tcp?.acknowledgment == 0x0A0B_0C0D)
        #expect(p.tcp?.flags == [.fin, .ack] && p.tcp?.window == 65535)
        #expect(p.tcp?.checksumStatus == (n >= 18 ? .bad : .unverified))
        #expect(p.tcp?.segmentHoldsHeader == false)
        // 15 bytes: the ports only.
        let q = decode(Self.frame(Array(seg.prefix(15))))
        #expect(q.tcp?.validBytes == 4)
    }

    @Test func ipLengthBeyondTheWireLength() {
        // The IP total length says 1000 bytes, the frame was 74 bytes on the wire and the capture kept
        // 60: the segment is what the wire carried (40 bytes), so 20 bytes of payload.
        let f = Build.eth4(Build.ipv4(proto: 6, payload: Build.tcp(payload: [UInt8](repeating: 7, count: 20)), totalLength: 1000))
        #expect(f.count == 74)
        let p = decode(Array(f.prefix(60)), wireLength: 74)
        #expect(p.errors.isEmpty)  // a payload cut by the capture is not an error
        #expect(p.tcp?.isComplete == true)
        #expect(p.tcp?.segmentHoldsHeader == true)
        #expect(p.tcp?.payloadLength == 20)
        #expect(p.tcp?.checksumStatus == .unverified)
    }

    @Test func checksumWhenOnlyTheIPLengthLies() {
        // Captured whole, but the IP total length claims 10 bytes more: the checksum is checked over
        // the segment that is there with its own length in the pseudo-header, and is right.
        let seg = Build.tcp(payload: Array("payload".utf8))
        let p = decode(Build.eth4(Build.ipv4(proto: 6, payload: seg, totalLength: UInt16(20 + seg.count + 10))))
        #expect(p.tcp?.checksumStatus == .ok)
        #expect(p.errors.count == 1 && p.errors.first?.layer == .ipv4)
        var bad = seg
        bad[bad.count - 1] ^= 1
        #expect(decode(Build.eth4(Build.ipv4(proto: 6, payload: bad, totalLength: UInt16(20 + seg.count + 10)))).tcp?.checksumStatus == .bad)
    }

    @Test func checksums() {
        let payload = Array("some data".utf8)  // odd length
        #expect(decode(Self.frame(Build.tcp(payload: payload))).tcp?.checksumStatus == .ok)
        let bad = decode(Self.frame(Build.tcp(payload: payload, checksum: .bad)))
        #expect(bad.errors.isEmpty)
        #expect(bad.tcp?.checksumStatus == .bad)
        #expect(decode(Self.frame(Build.tcp(payload: payload, checksum: .zero))).tcp?.checksumStatus == .bad)
        // Transmit offload leaves the pseudo-header sum in the field.
        #expect(decode(Self.frame(Build.tcp(payload: payload, checksum: .partial))).tcp?.checksumStatus == .unverified)
        #expect(decode(Self.frame(Build.tcp(payload: payload, checksum: .partialComplemented))).tcp?.checksumStatus == .unverified)
        #expect(decode(Self.frame(Build.tcp(payload: payload)), verifyChecksums: false).tcp?.checksumStatus == .unverified)
        // A flipped payload byte is caught.
        var f = Self.frame(Build.tcp(payload: payload))
        f[f.count - 1] ^= 0x20
        #expect(decode(f).tcp?.checksumStatus == .bad)
    }

    @Test func overIPv6() {
        let seg = Build.tcp(.v6AB, flags: 0x012, options: Self.synOptions)
        let p = decode(Build.eth6(Build.ipv6(next: 6, payload: seg)))
        #expect(p.errors.isEmpty)
        #expect(p.tcp?.flags == [.syn, .ack])
        #expect(p.tcp?.checksumStatus == .ok)
        #expect(p.tcpOptions.count == 5)
        let partial = Build.tcp(.v6AB, flags: 0x012, checksum: .partial)
        #expect(decode(Build.eth6(Build.ipv6(next: 6, payload: partial))).tcp?.checksumStatus == .unverified)
        let bad = Build.tcp(.v6AB, flags: 0x012, checksum: .bad)
        #expect(decode(Build.eth6(Build.ipv6(next: 6, payload: bad))).tcp?.checksumStatus == .bad)
    }

    @Test func prefixes() {
        let f = Self.frame(Build.tcp(flags: 0x002, options: Self.synOptions, payload: Array("0123456789".utf8)))
        #expect(f.count == 84)
        expectPrefixes(f, cuts: [(14, .ethernet), (34, .ipv4), (74, .tcp)]) { k, p in
            if k >= 38 { #expect(p.partialPorts?.0 == 40000 && p.partialPorts?.1 == 80) } else { #expect(p.partialPorts == nil) }
            // A fixed header cut inside its first 16 bytes keeps its ports only; from 16 bytes on the
            // numbers, data offset, flags and window too (as tshark shows them).
            if k < 38 {
                #expect(p.tcp == nil)
            } else if k < 50 {
                #expect(p.tcp?.validBytes == 4 && p.tcp?.isComplete == false)
            } else if k < 54 {
                #expect(p.tcp?.validBytes == k - 34 && p.tcp?.isComplete == false)
                #expect(p.tcp?.sequence == 0x0102_0304 && p.tcp?.acknowledgment == 0x0A0B_0C0D)
                #expect(p.tcp?.flags == .syn && p.tcp?.window == 65535 && p.tcp?.dataOffset == 10)
                // The checksum's two bytes are there from 18 on; the segment is not, so unverified.
                #expect(p.tcp?.has(through: 18) == (k >= 52))
                #expect(p.tcp?.checksumStatus == .unverified)
            }
            if k >= 54 { #expect(p.tcp?.isComplete == true) }
            // Options that were captured whole are kept when the rest are cut; of an option whose
            // data the capture cut, its kind is kept once its length byte is there (as tshark and
            // tcpdump show it), and a timestamp's TSval once that is.
            if k == 58 || k == 59 { #expect(p.tcpOptions == [.maximumSegmentSize(1460)]) }
            if k == 60 || k == 61 { #expect(p.tcpOptions == [.maximumSegmentSize(1460), .sackPermitted]) }
            if k >= 62 && k < 66 { #expect(p.tcpOptions.last == .truncated(kind: 8)) }
            if k >= 66 && k < 70 { #expect(p.tcpOptions.last == .timestampValueOnly(0x0011_2233)) }
            if k >= 74 {
                #expect(p.tcpOptions.count == 5)
                #expect(p.tcp?.checksumStatus == .unverified)
                #expect(p.tcp?.payloadLength == 10)
                #expect(p.payloadStart == 74)
                #expect(p.payloadEnd == k)
            }
        }
    }
}
