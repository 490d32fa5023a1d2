import Testing
@testable import NetAnalysis
import NetWire

/// The server side of the handshake as the flow tracker infers it (docs/backlog.md): SYN_RCVD until a
/// segment from the server shows it took the client's ACK; a full accept queue shows as ignored
/// client segments or a SYN-ACK sent again; tcp_abort_on_overflow = 1 as a RST in SYN_RCVD.
private let syn: UInt8 = 0x02, ack: UInt8 = 0x10, rst: UInt8 = 0x04, psh: UInt8 = 0x08

@Suite struct AcceptQueueTests {


    /// A raw IPv4/TCP packet (DLT 228) 192.0.2.10:40000 ↔ 192.0.2.80:80, decoded.
    static func packet(fromClient: Bool, seq: UInt32, ack: UInt32, flags: UInt8, payload: [UInt8] = []) -> Packet {
        let total = 40 + payload.count
        let client: [UInt8] = [192, 0, 2, 10], server: [UInt8] = [192, 0, 2, 80]
        var b: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0, 0, 64, 6, 0, 0]
        b += fromClient ? client + server : server + client
        b += fromClient ? [0x9C, 0x40, 0x00, 0x50] : [0x00, 0x50, 0x9C, 0x40]
        for v in [seq, ack] { b += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        b += [0x50, flags, 0xFA, 0xF0, 0, 0, 0, 0]
        b += payload
        var p = Packet()
        b.withUnsafeBytes { PacketDecoder(verifyChecksums: false).decode($0, wireLength: b.count, linkType: .ipv4, into: &p) }
        return p
    }

    struct Run {
        var tracker = FlowTracker()
        var frame = 0
        var flows: [FlowSummary] = []

        /// Feeds one segment at `ms` milliseconds; returns its notes and the states after it.
        mutating func step(_ ms: Int, client: Bool, seq: UInt32, ack: UInt32, _ flags: UInt8, _ payload: [UInt8] = [])
            -> (notes: [Note], states: (client: TCPState, server: TCPState)?) {
            frame += 1
            var notes: [Note] = []
            let p = AcceptQueueTests.packet(fromClient: client, seq: seq, ack: ack, flags: flags, payload: payload)
            let obs = tracker.observe(p, frame: frame, seconds: 1_700_000_000 + ms / 1000, nanoseconds: ms % 1000 * 1_000_000, notes: &notes)
            return (notes, obs?.states)
        }

        mutating func summaries() -> [FlowSummary] {
            var out: [FlowSummary] = []
            tracker.finished = { out.append($0) }
            tracker.finishAll()
            return out
        }
    }

    static func handshake(_ r: inout Run) {
        _ = r.step(0, client: true, seq: 1000, ack: 0, syn)
        _ = r.step(1, client: false, seq: 5000, ack: 1001, syn | ack)
        let third = r.step(2, client: true, seq: 1001, ack: 5001, ack)
        #expect(third.notes.map(\.text) == ["handshake 3/3 (RTT 2.0 ms)"])
        #expect(third.states?.client == .established && third.states?.server == .synReceived)
    }

    @Test func serverLeavesSynRcvdAtItsFirstSegment() {
        var r = Run()
        Self.handshake(&r)
        let data = r.step(3, client: true, seq: 1001, ack: 5001, psh | ack, Array("hello".utf8))
        #expect(data.notes.isEmpty)
        #expect(data.states?.server == .synReceived)
        let reply = r.step(4, client: false, seq: 5001, ack: 1006, ack)
        // The ordinary case: no note, only the state.
        #expect(reply.notes.isEmpty)
        #expect(reply.states?.client == .established && reply.states?.server == .established)
        let f = r.summaries()
        #expect(f.count == 1 && f[0].acksIgnored == 0 && f[0].serverHalfOpenNanoseconds == nil && f[0].synRetransmissions == 0)
    }

    @Test func synAckSentAgainAfterTheAckMeansTheAckWasDropped() {
        var r = Run()
        Self.handshake(&r)
        let again = r.step(1002, client: false, seq: 5000, ack: 1001, syn | ack)
        #expect(again.notes.map(\.kind) == [Note.Kind.handshake, .ackNotAccepted])
        #expect(again.notes.last?.text == "ACK not accepted by server: accept queue full?")
        #expect(again.states?.client == .established && again.states?.server == .synReceived)
        _ = r.step(1003, client: true, seq: 1001, ack: 5001, ack)
        _ = r.step(1004, client: true, seq: 1001, ack: 5001, psh | ack, Array("hello".utf8))
        let taken = r.step(1005, client: false, seq: 5001, ack: 1006, ack)
        #expect(taken.notes.map(\.text) == ["server took the ACK at last: ESTABLISHED after 1003 ms half-open, 1 client segment ignored"])
        #expect(taken.states?.server == .established)
        let f = r.summaries()
        #expect(f.first?.acksIgnored == 1 && f.first?.serverHalfOpenNanoseconds == 1_003_000_000)
    }

    @Test func retransmittedDataWhileHalfOpen() {
        var r = Run()
        Self.handshake(&r)
        let hello = Array("hello".utf8)
        _ = r.step(3, client: true, seq: 1001, ack: 5001, psh | ack, hello)
        let resent = r.step(210, client: true, seq: 1001, ack: 5001, psh | ack, hello)
        #expect(resent.notes.map(\.kind) == [Note.Kind.retransmission, .ackNotAccepted])
        let f = r.summaries()
        // The capture ends first: the server is still half-open.
        #expect(f.first?.states.client == .established && f.first?.states.server == .synReceived)
        #expect(f.first?.acksIgnored == 1 && f.first?.serverHalfOpenNanoseconds == nil)
    }

    /// net.ipv4.tcp_abort_on_overflow = 1: the server answers the ACK with a RST from SYN_RCVD.
    @Test func abortOnOverflowIsAResetInSynRcvd() {
        var r = Run()
        Self.handshake(&r)
        let reset = r.step(3, client: false, seq: 5001, ack: 0, rst)
        #expect(reset.notes.map(\.text) == ["reset by server in SYN_RCVD"])
        #expect(reset.states?.client == .closed && reset.states?.server == .closed)
    }

    /// The RTT runs from the SYN the SYN-ACK answers (the last one), as tshark's initial_rtt.
    @Test func rttFromTheLastSyn() {
        var r = Run()
        _ = r.step(0, client: true, seq: 1000, ack: 0, syn)
        let second = r.step(1000, client: true, seq: 1000, ack: 0, syn)
        #expect(second.notes.map(\.kind) == [Note.Kind.synRetransmission])
        _ = r.step(3000, client: true, seq: 1000, ack: 0, syn)
        _ = r.step(3001, client: false, seq: 5000, ack: 1001, syn | ack)
        let third = r.step(3002, client: true, seq: 1001, ack: 5001, ack)
        #expect(third.notes.map(\.text) == ["handshake 3/3 (RTT 2.0 ms, after 2 SYN retransmissions)"])
        #expect(third.notes.first?.rttNanoseconds == 2_000_000)
        let f = r.summaries()
        #expect(f.first?.handshakeRTTNanoseconds == 2_000_000 && f.first?.synRetransmissions == 2)
        #expect(f.first?.retransmissions == 0)
    }
}
