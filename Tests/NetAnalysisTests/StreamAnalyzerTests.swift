import Testing
@testable import NetAnalysis
import NetWire

/// The stream analyzer fed segments directly (no capture file): retransmission fingerprints,
/// message notes as values, and the resolution table.
@Suite struct StreamAnalyzerTests {
    /// An IPv4/TCP packet (DLT 228, raw IPv4) carrying `payload` at `seq`, decoded: its TCP header.
    static func header(seq: UInt32, payload: [UInt8]) -> TCPHeader? {
        let total = 40 + payload.count
        var b: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 10, 192, 0, 2, 80]
        b += [0x9C, 0x40, 0x1B, 0x58]  // 40000 > 7000
        b += [UInt8(seq >> 24), UInt8(seq >> 16 & 0xFF), UInt8(seq >> 8 & 0xFF), UInt8(seq & 0xFF), 0, 0, 0, 1]
        b += [0x50, 0x18, 0x02, 0x00, 0, 0, 0, 0]  // data offset 5, PSH ACK, window 512
        b += payload
        var p = Packet()
        b.withUnsafeBytes { PacketDecoder(verifyChecksums: false).decode($0, wireLength: b.count, linkType: .ipv4, into: &p) }
        return p.tcp
    }

    static func feed(_ s: StreamAnalyzer, seq: UInt32, _ bytes: [UInt8], frame: Int) -> [Note] {
        var notes: [Note] = []
        guard let t = header(seq: seq, payload: bytes) else {
            Issue.record("no TCP header")
            return notes
        }
        #expect(t.payloadLength == bytes.count)
        bytes.withUnsafeBytes { b in
            s.segment(flowID: 1, slot: 0, clientToServer: true, tcp: t, payload: b, frame: frame, notes: &notes)
        }
        return notes
    }

    @Test func retransmissionDifferingAnywhereIsFlagged() {
        var policy = FramingPolicy()
        policy.global = .lengthPrefix(width: 4, bigEndian: true, adjust: 0)
        let s = StreamAnalyzer(policy: policy)
        let message: [UInt8] = [0, 0, 5, 0] + (0 ..< 1280).map { UInt8($0 & 0xFF) }
        #expect(Self.feed(s, seq: 1, message, frame: 1).contains { $0.kind == .message })
        // The same bytes again: a plain retransmission, nothing to flag.
        #expect(!Self.feed(s, seq: 1, message, frame: 2).contains { $0.kind == .overlapDiffers })
        // One byte in the middle differs (far from both ends).
        var changed = message
        changed[640] ^= 0x01
        #expect(Self.feed(s, seq: 1, changed, frame: 3).contains { $0.kind == .overlapDiffers })
        // The last byte differs.
        changed = message
        changed[changed.count - 1] ^= 0x80
        #expect(Self.feed(s, seq: 1, changed, frame: 4).contains { $0.kind == .overlapDiffers })
    }

    @Test func fingerprintsSeeEveryByteAndTheLength() {
        let base = (0 ..< 1000).map { UInt8($0 * 7 & 0xFF) }
        let h = base.withUnsafeBytes { DirectionStream.hash($0) }
        for i in [0, 1, 7, 8, 31, 32, 500, 991, 999] {
            var b = base
            b[i] ^= 0x40
            #expect(b.withUnsafeBytes { DirectionStream.hash($0) } != h, "byte \(i)")
        }
        #expect(Array(base.prefix(999)).withUnsafeBytes { DirectionStream.hash($0) } != h)
        // Two top-bit flips in different words do not cancel out.
        var two = base
        two[7] ^= 0x80
        two[15] ^= 0x80
        #expect(two.withUnsafeBytes { DirectionStream.hash($0) } != h)
    }

    @Test func notesAreValuesThoughTheirDetailIsShared() {
        let span = MessageSpan(message: 1, from: 0, to: 5, length: 5, part: 1, parts: 1, completes: true)
        let a = Note(kind: .message, framed: FramedDetail(spans: [span], clientToServer: true, framing: "line"))
        var b = a
        b.prefix = "delivered from held segments: "
        #expect(a.prefix.isEmpty)
        #expect(a.text == "msg #1 (5 B)")
        #expect(b.text == "delivered from held segments: msg #1 (5 B)")
    }

    @Test func resolutionsKeepTheirPlacesWhenRecordingPauses() {
        let s = StreamAnalyzer()
        s.recordResolutions = true
        let first = s.newPendingID()
        s.recordResolutions = false
        let unrecorded = s.newPendingID()
        s.recordResolutions = true
        let third = s.newPendingID()
        s.resolve(third, parts: 3, length: 3000)
        #expect(s.resolution(third)?.parts == 3)
        #expect(s.resolution(third)?.length == 3000)
        #expect(s.resolution(first) == nil)
        #expect(s.resolution(unrecorded) == nil)
        s.resolve(first, parts: 2, length: nil)
        #expect(s.resolution(first)?.parts == 2)
        #expect(s.resolution(third)?.parts == 3)
    }

    @Test func handshakeRoundTripsNeverGoNegative() {
        var c = Conversations(top: 5)
        func flow(_ rtt: Int) -> FlowSummary {
            var f = FlowSummary(id: 1, isTCP: true, client: FlowEndpoint(ipv4: IPv4Address(raw: 1), port: 1),
                                server: FlowEndpoint(ipv4: IPv4Address(raw: 2), port: 2), midstream: false,
                                startNanoseconds: 0, lastNanoseconds: 0, packets: (1, 1), bytes: (0, 0),
                                handshakeRTTNanoseconds: rtt, connState: "SF", history: "ShADadFf", end: "fin by client",
                                states: (.closed, .closed), retransmissions: 0)
            f.slot = 0
            return f
        }
        for _ in 0 ..< 3 { c.add(flow(Int.max / 2)) }
        c.add(flow(-5))
        #expect(c.handshakeRTT.total == Int.max)
        #expect(c.handshakeRTT.min == 0)
        #expect(c.handshakeRTT.count == 4)
    }
}
