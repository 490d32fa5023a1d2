import Testing
import NetWire
@testable import NetAnalysis

/// IP fragment reassembly: crafted fragments (raw IP link type) through the decoder and the analyzer.
@Suite struct FragmentTests {
    static func sum16(_ b: [UInt8]) -> UInt16 {
        var s: UInt32 = 0
        var i = 0
        while i < b.count {
            s += UInt32(b[i]) << 8 | (i + 1 < b.count ? UInt32(b[i + 1]) : 0)
            s = (s & 0xFFFF) + (s >> 16)
            i += 2
        }
        return ~UInt16(s)
    }

    /// A UDP datagram (header + payload) from 192.0.2.1:1000 to 192.0.2.2:2000 with a valid checksum.
    static func udpDatagram(_ payload: [UInt8], sport: UInt16 = 1000, dport: UInt16 = 2000) -> [UInt8] {
        let len = UInt16(8 + payload.count)
        var u: [UInt8] = [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF),
                          UInt8(len >> 8), UInt8(len & 0xFF), 0, 0] + payload
        let pseudo: [UInt8] = [192, 0, 2, 1, 192, 0, 2, 2, 0, 17, UInt8(len >> 8), UInt8(len & 0xFF)]
        let c = sum16(pseudo + u)
        u[6] = UInt8(c >> 8); u[7] = UInt8(c & 0xFF)
        return u
    }

    /// One IPv4 fragment carrying `data` at byte `offset` (a multiple of 8).
    static func v4(id: UInt16, offset: Int, more: Bool, _ data: [UInt8], proto: UInt8 = 17) -> [UInt8] {
        let total = UInt16(20 + data.count)
        let frag = UInt16(offset / 8) | (more ? 0x2000 : 0)
        var h: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), UInt8(id >> 8), UInt8(id & 0xFF),
                          UInt8(frag >> 8), UInt8(frag & 0xFF), 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]
        let c = sum16(h)
        h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xFF)
        return h + data
    }

    /// One IPv6 fragment (fragment header, next header UDP).
    static func v6(id: UInt32, offset: Int, more: Bool, _ data: [UInt8]) -> [UInt8] {
        let plen = UInt16(8 + data.count)
        let src: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let dst: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [2]
        let of = UInt16(offset / 8) << 3 | (more ? 1 : 0)
        return [0x60, 0, 0, 0, UInt8(plen >> 8), UInt8(plen & 0xFF), 44, 64] + src + dst
            + [17, 0, UInt8(of >> 8), UInt8(of & 0xFF), UInt8(id >> 24), UInt8((id >> 16) & 0xFF), UInt8((id >> 8) & 0xFF), UInt8(id & 0xFF)]
            + data
    }

    struct Run {
        var decoder = PacketDecoder()
        var analyzer = PacketAnalyzer()
        var packet = Packet()
        var notes: [Note] = []
        var frame = 0

        /// Decodes and analyses one frame at `seconds`; returns the packet after analysis.
        mutating func feed(_ bytes: [UInt8], seconds: Int = 1) -> Packet {
            frame += 1
            bytes.withUnsafeBytes { raw in
                decoder.decode(raw, wireLength: raw.count, linkType: .raw, into: &packet)
                _ = analyzer.analyze(&packet, frame: frame, seconds: seconds, nanoseconds: 0, bytes: raw,
                                     wireLength: raw.count, notes: &notes)
            }
            return packet
        }
    }

    @Test func decoderDescribesEachFragment() {
        let d = Self.udpDatagram([UInt8](repeating: 0x41, count: 40))
        var r = Run()
        let p = r.feed(Self.v4(id: 7, offset: 16, more: true, Array(d[16 ..< 32])))
        let f = p.fragment
        #expect(f?.identification == 7 && f?.offset == 16 && f?.length == 16 && f?.moreFragments == true)
        #expect(f?.isIPv6 == false && f?.dataStart == 20 && f?.capturedLength == 16 && f?.proto == .udp)
        // An atomic IPv6 fragment (offset 0, no M flag) is a whole datagram, not a fragment.
        let q = r.feed(Self.v6(id: 1, offset: 0, more: false, d))
        #expect(q.fragment == nil)
        #expect(q.udp?.isComplete == true)
    }

    @Test func outOfOrderIPv4FragmentsCompleteTheDatagram() {
        let payload = (0 ..< 3000).map { UInt8($0 & 0xFF) }
        let d = Self.udpDatagram(payload)
        var r = Run()
        _ = r.feed(Self.v4(id: 77, offset: 1480, more: true, Array(d[1480 ..< 2960])))
        #expect(r.notes.isEmpty && !r.packet.hasInner)
        _ = r.feed(Self.v4(id: 77, offset: 0, more: true, Array(d[0 ..< 1480])))
        #expect(!r.packet.hasInner)
        let p = r.feed(Self.v4(id: 77, offset: 2960, more: false, Array(d[2960...])))
        let box = p.inner
        #expect(box?.encapsulation == .reassembled)
        #expect(box?.bytes == d)
        #expect(box?.packet.udp?.sourcePort == 1000 && box?.packet.udp?.length == UInt16(d.count))
        #expect(box?.packet.udp?.checksumStatus == .ok)
        #expect(box?.packet.ipv4?.moreFragments == false && box?.packet.ipv4?.fragmentOffset == 0)
        let note = r.notes.first { $0.kind == .reassembled }
        #expect(note?.fragmentFrames == [1, 2, 3])
        #expect(note?.relatedFrame == 1)
        #expect(note?.text == "reassembled 3 IP fragments (3008 B): #1(1480) #2(1480) #3(48)")
        #expect(r.analyzer.fragments.waiting == 0 && r.analyzer.fragments.heldBytes == 0)
        // The reassembled datagram is one UDP conversation packet; the fragments before it are not.
        var rows: [FlowSummary] = []
        r.analyzer.flows.finished = { rows.append($0) }
        r.analyzer.flows.finishAll()
        #expect(rows.count == 1 && rows.first?.packets.c2s == 1 && rows.first?.bytes.c2s == 3000)
    }

    @Test func ipv6FragmentsComplete() {
        let d = Self.udpDatagram([UInt8](repeating: 0x42, count: 300))
        var r = Run()
        _ = r.feed(Self.v6(id: 0x1234, offset: 0, more: true, Array(d[0 ..< 152])))
        let p = r.feed(Self.v6(id: 0x1234, offset: 152, more: false, Array(d[152...])))
        #expect(p.inner?.encapsulation == .reassembled)
        #expect(p.inner?.bytes == d)
        #expect(p.inner?.packet.udp?.destinationPort == 2000)
        #expect(p.inner?.packet.ipv6 != nil)
    }

    @Test func ipv6FragmentableHeadersBelongToTheDatagram() {
        // The first fragment carries a destination-options header after its fragment header: that
        // header is fragment data (RFC 8200 §4.5), and the second fragment's data is not headers.
        let destopts: [UInt8] = [17, 0, 1, 4, 0, 0, 0, 0]  // next UDP, 8 bytes, PadN
        let datagram = destopts + Self.udpDatagram([UInt8](repeating: 0x43, count: 40))  // 56 bytes
        func frag(offset: Int, more: Bool, _ data: [UInt8]) -> [UInt8] {
            var b = Self.v6(id: 9, offset: offset, more: more, data)
            b[40] = 60  // the fragment header's next header: destination options
            return b
        }
        var r = Run()
        let first = r.feed(frag(offset: 0, more: true, Array(datagram[0 ..< 32])))
        #expect(first.fragment?.length == 32 && first.fragment?.dataStart == 48 && first.fragment?.proto.rawValue == 60)
        let last = r.feed(frag(offset: 32, more: false, Array(datagram[32...])))
        #expect(last.fragment?.length == 24 && last.ipv6Extensions.count == 1)  // no header read from its data
        #expect(last.inner?.bytes == datagram)
    }

    @Test func overlapsAreFlaggedAndTheFirstCopyWins() {
        let d = Self.udpDatagram([UInt8](repeating: 0x58, count: 40))  // 48 bytes
        var r = Run()
        _ = r.feed(Self.v4(id: 9, offset: 0, more: true, Array(d[0 ..< 32])))
        _ = r.feed(Self.v4(id: 9, offset: 16, more: true, [UInt8](repeating: 0xEE, count: 24)))  // 16..40, overlaps 16..32
        #expect(r.notes.contains { $0.kind == .fragmentOverlap })
        let p = r.feed(Self.v4(id: 9, offset: 40, more: false, Array(d[40...])))
        var expected = d
        for i in 32 ..< 40 { expected[i] = 0xEE }  // the gap the second fragment filled first
        #expect(p.inner?.bytes == expected)
        #expect(r.notes.first { $0.kind == .reassembled }?.text.hasSuffix(", overlapping") == true)
        #expect(r.analyzer.fragments.counters.overlaps == 1)
    }

    @Test func datagramsTimeOut() {
        let d = Self.udpDatagram([UInt8](repeating: 1, count: 40))
        var r = Run()
        _ = r.feed(Self.v4(id: 5, offset: 0, more: true, Array(d[0 ..< 24])), seconds: 100)
        #expect(r.analyzer.fragments.waiting == 1)
        // 31 s later the rest comes: the first part has expired, so nothing completes.
        let p = r.feed(Self.v4(id: 5, offset: 24, more: false, Array(d[24...])), seconds: 131)
        #expect(!p.hasInner)
        #expect(r.analyzer.fragments.counters.timedOut == 1)
    }

    @Test func cutFragmentsAndOversizedDatagramsAreUnusable() {
        let d = Self.udpDatagram([UInt8](repeating: 1, count: 40))
        var r = Run()
        _ = r.feed(Self.v4(id: 3, offset: 0, more: true, Array(d[0 ..< 24])))
        // The second fragment's data cut by the capture (declared 24, captured 10).
        var cut = Self.v4(id: 3, offset: 24, more: false, Array(d[24...]))
        cut.removeLast(14)
        var p = Packet()
        cut.withUnsafeBytes { raw in
            r.decoder.decode(raw, wireLength: raw.count + 14, linkType: .raw, into: &p)
            _ = r.analyzer.analyze(&p, frame: 2, seconds: 1, nanoseconds: 0, bytes: raw, wireLength: raw.count + 14, notes: &r.notes)
        }
        #expect(!p.hasInner)
        #expect(r.analyzer.fragments.waiting == 0)  // the datagram can never be rebuilt: dropped
        // A fragment reaching past 65,535 bytes.
        _ = r.feed(Self.v4(id: 4, offset: 65_528, more: false, [UInt8](repeating: 0, count: 16)))
        #expect(r.analyzer.fragments.counters.unusable == 2)
        #expect(r.analyzer.fragments.waiting == 0)
    }

    @Test func aFloodOfFragmentsThatNeverCompleteStaysBounded() {
        var f = FragmentReassembler(limits: .init(timeoutNanoseconds: 30_000_000_000, maxDatagrams: 64,
                                                  maxBytes: 64 * 1024, maxDatagramBytes: 65_535))
        let chunk = [UInt8](repeating: 7, count: 1400)
        var maxHeld = 0, maxWaiting = 0
        chunk.withUnsafeBytes { data in
            for i in 0 ..< 5_000 {
                let info = FragmentInfo(identification: UInt32(i), offset: 0, length: 1400, moreFragments: true,
                                        isIPv6: false, dataStart: 0, capturedLength: 1400, proto: .udp)
                _ = f.add(info, source: IPv6Address(hi: 0, lo: UInt64(i % 7)), destination: IPv6Address(hi: 0, lo: 9),
                          data: data, frame: i, now: i * 1000)
                maxHeld = max(maxHeld, f.heldBytes)
                maxWaiting = max(maxWaiting, f.waiting)
            }
        }
        #expect(maxHeld <= 64 * 1024 && maxWaiting <= 64)
        #expect(f.counters.evicted > 4_900)
        #expect(f.order.count <= 4 * 64 + 1100)
    }

    @Test func oneDatagramInTinyPiecesIsCapped() {
        var f = FragmentReassembler()
        let eight = [UInt8](repeating: 1, count: 8)
        var outcomes: [FragmentReassembler.Outcome] = []
        eight.withUnsafeBytes { data in
            for i in 0 ..< 300 {
                let info = FragmentInfo(identification: 1, offset: i * 8, length: 8, moreFragments: true, isIPv6: false,
                                        dataStart: 0, capturedLength: 8, proto: .udp)
                outcomes.append(f.add(info, source: IPv6Address(hi: 0, lo: 1), destination: IPv6Address(hi: 0, lo: 2),
                                      data: data, frame: i, now: 0))
            }
        }
        #expect(outcomes.prefix(256).allSatisfy { $0 == .held })
        #expect(outcomes[256] == .unusable)
        #expect(f.counters.unusable >= 1)
    }

    @Test func everyWaitingDatagramStaysReachableUnderBytePressure() {
        // Two datagrams growing in turn against a small byte cap: whatever is evicted, every
        // datagram still waiting keeps its place in the arrival list (so it can expire or be evicted).
        var f = FragmentReassembler(limits: .init(timeoutNanoseconds: 30_000_000_000, maxDatagrams: 4,
                                                  maxBytes: 4000, maxDatagramBytes: 65_535))
        let chunk = [UInt8](repeating: 3, count: 800)
        chunk.withUnsafeBytes { data in
            for i in 0 ..< 200 {
                let info = FragmentInfo(identification: UInt32(i % 3), offset: (i / 3) * 800 % 40_000, length: 800,
                                        moreFragments: true, isIPv6: false, dataStart: 0, capturedLength: 800, proto: .udp)
                _ = f.add(info, source: IPv6Address(hi: 0, lo: 1), destination: IPv6Address(hi: 0, lo: 2),
                          data: data, frame: i, now: i)
                #expect(f.heldBytes <= 4000 + 40_000)
                let listed = Set(f.order[f.orderHead...].filter { f.pending[$0.key]?.generation == $0.generation }.map(\.key))
                #expect(Set(f.pending.keys).isSubset(of: listed))
            }
        }
        #expect(f.waiting <= 4)
    }

    @Test func hostileFragmentSequencesNeverTrap() {
        // Random offsets, lengths and flags, same key: whatever comes, nothing traps and caps hold.
        var g = SplitMix(seed: 42)
        var r = Run()
        for _ in 0 ..< 3000 {
            let off = Int(g.next() % 200) * 8
            let len = Int(g.next() % 64)
            let more = g.next() % 3 != 0
            _ = r.feed(Self.v4(id: UInt16(g.next() % 4), offset: off, more: more, [UInt8](repeating: UInt8(g.next() & 0xFF), count: len)))
            #expect(r.analyzer.fragments.waiting <= 4)
            if let box = r.packet.inner { #expect(box.bytes.count <= 65_535) }
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
