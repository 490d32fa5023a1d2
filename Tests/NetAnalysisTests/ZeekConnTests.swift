import Testing
@testable import NetAnalysis
import NetWire

// Expected values are worked out by hand from Zeek's rules (update_history(), the endpoint state
// machine and conn_state() in scripts/base/protocols/conn/main.zeek); see ZeekConn.swift.
// os / rs = originator / responder endpoint state.

private let S: TCPFlags = [.syn]
private let SA: TCPFlags = [.syn, .ack]
private let A: TCPFlags = [.ack]
private let PA: TCPFlags = [.psh, .ack]
private let FA: TCPFlags = [.fin, .ack]
private let R: TCPFlags = [.rst]
private let RA: TCPFlags = [.rst, .ack]

/// One segment: (from originator?, flags, payload).
private typealias Seg = (Bool, TCPFlags, Int)

private func summary(_ segs: [Seg]) -> ZeekConnSummary {
    var z = ZeekConnSummary()
    for (o, f, n) in segs { z.record(fromOriginator: o, flags: f, payloadLength: n) }
    return z
}

/// The three-way handshake: S (os SYN_SENT), h (rs ESTABLISHED and os SYN_SENT → ESTABLISHED), A.
private let handshake: [Seg] = [(true, S, 0), (false, SA, 0), (true, A, 0)]

@Suite struct ZeekConnTests {
    @Test func normalConnectionIsShADadFfSF() {
        // S   orig SYN            → "S"  (SYN w/o ACK)               os SYN_SENT
        // h   resp SYN+ACK        → "h"  (SYN+ACK, lower case)        rs ESTABLISHED, os ESTABLISHED
        // A   orig ACK            → "A"  (pure ACK)
        // D   orig PSH+ACK 10 B   → "D"  (payload, no SYN/FIN/RST)
        // a   resp ACK            → "a"
        // d   resp PSH+ACK 20 B   → "d"
        // -   orig ACK            → nothing (A already recorded for the originator)
        // F   orig FIN+ACK        → "F"                               os CLOSED
        // f   resp FIN+ACK        → "f"                               rs CLOSED
        // -   orig ACK            → nothing
        // both CLOSED → SF.
        let z = summary(handshake + [
            (true, PA, 10), (false, A, 0), (false, PA, 20), (true, A, 0),
            (true, FA, 0), (false, FA, 0), (true, A, 0),
        ])
        #expect(z.history == "ShADadFf")
        #expect(z.connState == "SF")
        #expect(z.originatorState == .closed && z.responderState == .closed)
    }

    @Test func refusedIsSrREJ() {
        // S  orig SYN → "S", os SYN_SENT.
        // r  resp RST+ACK: only SYN/FIN/RST count as control bits, exactly one (RST) is set, so the
        //    letter is "r" — the ACK bit adds nothing (no "a"). rs INACTIVE → RESET.
        // rs RESET and os SYN_SENT → REJ.
        let z = summary([(true, S, 0), (false, RA, 0)])
        #expect(z.history == "Sr")
        #expect(z.connState == "REJ")
    }

    @Test func refusedThenOriginatorResetIsStillREJ() {
        // "Sr" as above, then the originator also resets: "R" (first RST from it), os RESET.
        // rs RESET, os RESET and no payload either way → REJ.
        let z = summary([(true, S, 0), (false, RA, 0), (true, R, 0)])
        #expect(z.history == "SrR")
        #expect(z.connState == "REJ")
    }

    @Test func synOnlyIsS0() {
        // S, then the same SYN retransmitted (flagged by the tracker): S is recorded once per
        // direction (same sequence number), and T needs payload, so still "S". os SYN_SENT, rs
        // INACTIVE → S0.
        var z = ZeekConnSummary()
        z.record(fromOriginator: true, flags: S, payloadLength: 0, sequenceNumber: 1000)
        z.record(fromOriginator: true, flags: S, payloadLength: 0, isRetransmission: true, sequenceNumber: 1000)
        #expect(z.history == "S")
        #expect(z.connState == "S0")
    }

    @Test func synRetriedWithNewISNIsNotRecordedTwice() {
        // A second SYN with a different sequence number while os is SYN_SENT: init_endpoint() rebases
        // the start sequence to it (SYN_seq_jump), so its relative seq is 0 == hist_last_SYN → no
        // second "S".
        var z = ZeekConnSummary()
        z.record(fromOriginator: true, flags: S, payloadLength: 0, sequenceNumber: 1000)
        z.record(fromOriginator: true, flags: S, payloadLength: 0, sequenceNumber: 777_777)
        #expect(z.history == "S")
        #expect(z.connState == "S0")
    }

    @Test func midstreamIsOTH() {
        // No SYN: orig data "D" → os PARTIAL; resp ACK "a" → rs PARTIAL (not the "ACK of a SYN"
        // exception, os is not SYN_SENT). Both PARTIAL → no rule matches → OTH.
        let z = summary([(true, PA, 100), (false, A, 0), (true, PA, 100)])
        #expect(z.history == "Da")
        #expect(z.connState == "OTH")
        #expect(z.originatorState == .partial && z.responderState == .partial)
    }

    @Test func establishedIsS1() {
        // "ShA" + data both ways "Dd"; both ESTABLISHED, nothing closed → S1.
        let z = summary(handshake + [(true, PA, 5), (false, PA, 5)])
        #expect(z.history == "ShADd")
        #expect(z.connState == "S1")
    }

    @Test func originatorResetIsRSTO() {
        // "ShAD", then orig RST+ACK → "R", os RESET. rs ESTABLISHED (not inactive) → RSTO.
        let z = summary(handshake + [(true, PA, 10), (true, RA, 0)])
        #expect(z.history == "ShADR")
        #expect(z.connState == "RSTO")
    }

    @Test func responderResetIsRSTR() {
        // "ShAD", then resp RST → "r", rs RESET. os ESTABLISHED: not SYN_SENT, not RESET, not
        // inactive → RSTR.
        let z = summary(handshake + [(true, PA, 10), (false, R, 0)])
        #expect(z.history == "ShADr")
        #expect(z.connState == "RSTR")
    }

    @Test func synThenOriginatorResetIsRSTOS0() {
        // "S" (os SYN_SENT), then orig RST → "R" (os RESET). rs INACTIVE; history "SR" matches
        // /\^?S[^HAFGIQ]*R.*/ → RSTOS0.
        let z = summary([(true, S, 0), (true, R, 0)])
        #expect(z.history == "SR")
        #expect(z.connState == "RSTOS0")
    }

    @Test func midstreamOriginatorResetIsOTH() {
        // orig data "D" (os PARTIAL), orig RST "R" (os RESET), rs INACTIVE; "DR" does not start with
        // S → OTH.
        let z = summary([(true, PA, 10), (true, R, 0)])
        #expect(z.history == "DR")
        #expect(z.connState == "OTH")
    }

    @Test func synAckThenResponderResetIsRSTRH() {
        // No SYN seen. resp SYN+ACK → "h", rs ESTABLISHED (unsolicited SYN response); resp RST → "r",
        // rs RESET. os INACTIVE: not SYN_SENT/RESET, inactive → RSTRH.
        let z = summary([(false, SA, 0), (false, RA, 0)])
        #expect(z.history == "hr")
        #expect(z.connState == "RSTRH")
    }

    @Test func synThenFinIsSH() {
        // "S" (os SYN_SENT), orig FIN → "F", os CLOSED. rs INACTIVE → SH.
        let z = summary([(true, S, 0), (true, FA, 0)])
        #expect(z.history == "SF")
        #expect(z.connState == "SH")
    }

    @Test func synAckThenFinIsSHR() {
        // resp SYN+ACK "h" (rs ESTABLISHED), resp FIN "f" (rs CLOSED); os INACTIVE → SHR.
        let z = summary([(false, SA, 0), (false, FA, 0)])
        #expect(z.history == "hf")
        #expect(z.connState == "SHR")
    }

    @Test func originatorCloseOnlyIsS2() {
        // "ShAD", orig FIN "F" → os CLOSED, rs ESTABLISHED → S2. The responder's ACK of the FIN "a"
        // changes nothing.
        let z = summary(handshake + [(true, PA, 3), (true, FA, 0), (false, A, 0)])
        #expect(z.history == "ShADFa")
        #expect(z.connState == "S2")
    }

    @Test func responderCloseOnlyIsS3() {
        // "ShA", resp data "d", resp FIN "f" → rs CLOSED, os ESTABLISHED → S3; orig's ACK adds nothing
        // (A already seen).
        let z = summary(handshake + [(false, PA, 3), (false, FA, 0), (true, A, 0)])
        #expect(z.history == "ShAdf")
        #expect(z.connState == "S3")
    }

    @Test func halfCloseThenResponderResetIsRSTR() {
        // "ShADad", orig FIN "F" (os CLOSED), resp RST "r" (rs RESET). os CLOSED is neither SYN_SENT
        // nor inactive → RSTR.
        let z = summary(handshake + [(true, PA, 4), (false, A, 0), (false, PA, 4), (true, FA, 0), (false, RA, 0)])
        #expect(z.history == "ShADadFr")
        #expect(z.connState == "RSTR")
    }

    @Test func finThenResetThenPeerFinIsSF() {
        // "ShA", orig FIN "F" (os CLOSED), orig RST "R": UpdateClosedState, peer not CLOSED → os RESET
        // (prev CLOSED). resp FIN "f": rs CLOSED, and since the peer is RESET with prev_state CLOSED,
        // Zeek turns os back to CLOSED ("actually normal termination") → SF.
        let z = summary(handshake + [(true, FA, 0), (true, RA, 0), (false, FA, 0)])
        #expect(z.history == "ShAFRf")
        #expect(z.connState == "SF")
    }

    @Test func resetAfterBothFinsIsStillSF() {
        // "ShAFf", both CLOSED; orig RST "R": UpdateClosedState ignores it (peer CLOSED) → SF.
        let z = summary(handshake + [(true, FA, 0), (false, FA, 0), (true, R, 0)])
        #expect(z.history == "ShAFfR")
        #expect(z.connState == "SF")
    }

    @Test func retransmissionsScaleAt1_10_100() {
        // "ShAD", then n retransmissions of the originator's data: T at the 1st, 10th and 100th.
        func history(retransmissions n: Int) -> String {
            var z = summary(handshake + [(true, PA, 100)])
            for _ in 0 ..< n {
                z.record(fromOriginator: true, flags: PA, payloadLength: 100, isRetransmission: true)
            }
            return z.history
        }
        #expect(history(retransmissions: 1) == "ShADT")
        #expect(history(retransmissions: 9) == "ShADT")
        #expect(history(retransmissions: 10) == "ShADTT")
        #expect(history(retransmissions: 99) == "ShADTT")
        #expect(history(retransmissions: 100) == "ShADTTT")
        #expect(history(retransmissions: 1000) == "ShADTTTT")
    }

    @Test func responderRetransmissionIsLowerCaseAndNeedsPayload() {
        // "ShA", resp data "d", resp data retransmitted "t". A retransmitted pure ACK (no payload)
        // gives no "t": DidRxmit() needs len > 0.
        var z = summary(handshake + [(false, PA, 50)])
        z.record(fromOriginator: false, flags: PA, payloadLength: 50, isRetransmission: true)
        z.record(fromOriginator: false, flags: A, payloadLength: 0, isRetransmission: true)
        #expect(z.history == "ShAdta")
        #expect(z.connState == "S1")
    }

    @Test func zeroWindowScalesAndComesAfterTheFlagLetter() {
        // "ShA", resp ACK with window 0: flag letter "a" first (update_history), then "w"
        // (update_window). 9 more zero windows → the 10th adds a second "w".
        var z = summary(handshake)
        z.record(fromOriginator: false, flags: A, payloadLength: 0, zeroWindow: true)
        #expect(z.history == "ShAaw")
        for _ in 0 ..< 9 { z.record(fromOriginator: false, flags: A, payloadLength: 0, zeroWindow: true) }
        #expect(z.history == "ShAaww")
        // Window 0 on an RST is not a zero-window advertisement.
        z.record(fromOriginator: true, flags: R, payloadLength: 0, zeroWindow: true)
        #expect(z.history == "ShAawwR")
    }

    @Test func zeroWindowAfterPeerFinIsIgnored() {
        // "ShA", orig FIN "F" (os CLOSED); resp window 0 now is "boring" (peer has closed) → only "a".
        var z = summary(handshake + [(true, FA, 0)])
        z.record(fromOriginator: false, flags: A, payloadLength: 0, zeroWindow: true)
        #expect(z.history == "ShAFa")
    }

    @Test func badChecksumOnlyCountsAsC() {
        // A bad-checksum SYN is dropped after ChecksumError(): "C", no "S", no state change → OTH.
        var z = ZeekConnSummary()
        z.record(fromOriginator: true, flags: S, payloadLength: 0, badChecksum: true)
        #expect(z.history == "C")
        #expect(z.connState == "OTH")
        // The good retransmission then gives "S" and S0. Nine more bad ones → 10th "C".
        z.record(fromOriginator: true, flags: S, payloadLength: 0)
        for _ in 0 ..< 9 { z.record(fromOriginator: false, flags: SA, payloadLength: 0, badChecksum: true) }
        #expect(z.history == "CSc")
        z.record(fromOriginator: false, flags: SA, payloadLength: 0, badChecksum: true)
        #expect(z.history == "CScc")
        #expect(z.connState == "S0")
    }

    @Test func multiFlagLetters() {
        // SYN+FIN from the originator: two control bits, not FIN+RST → "Q", no S/F. State machine
        // still runs: SYN → SYN_SENT, FIN → CLOSED; rs INACTIVE → SH.
        let q = summary([(true, [.syn, .fin], 0)])
        #expect(q.history == "Q")
        #expect(q.connState == "SH")
        // SYN+RST is also "Q" (Zeek's table: "multi-flag packet (SYN+FIN or SYN+RST bits set)").
        #expect(summary([(true, [.syn, .rst], 0)]).history == "Q")
        // FIN+RST is "I" (inconsistent), recorded once per direction.
        let i = summary(handshake + [(false, [.fin, .rst, .ack], 0), (false, [.fin, .rst], 0)])
        #expect(i.history == "ShAi")
        // rs: FIN ignored when RST is set in ESTABLISHED, RST → RESET; os ESTABLISHED → RSTR.
        #expect(i.connState == "RSTR")
    }

    @Test func dataOnFinOrSynGivesNoD() {
        // FIN carrying data is "F" only (one control bit set → no D); same for SYN with data.
        let z = summary([(true, S, 10), (false, SA, 0), (true, A, 0), (true, FA, 20)])
        #expect(z.history == "ShAF")
    }

    @Test func repeatedFinWithNewSequenceIsRecordedAgain() {
        // With sequence numbers: the same FIN retransmitted (same seq+len) → one "F"; a FIN ending at
        // a different sequence number → "F" again (Zeek: "f, h, r and s can be recorded multiple
        // times … if the associated sequence number differs").
        var z = ZeekConnSummary()
        z.record(fromOriginator: true, flags: S, payloadLength: 0, sequenceNumber: 100)
        z.record(fromOriginator: false, flags: SA, payloadLength: 0, sequenceNumber: 500)
        z.record(fromOriginator: true, flags: A, payloadLength: 0, sequenceNumber: 101)
        z.record(fromOriginator: true, flags: FA, payloadLength: 0, sequenceNumber: 101)
        z.record(fromOriginator: true, flags: FA, payloadLength: 0, sequenceNumber: 101)
        #expect(z.history == "ShAF")
        z.record(fromOriginator: true, flags: FA, payloadLength: 5, sequenceNumber: 101)
        #expect(z.history == "ShAFF")
    }

    @Test func contentGapIsChargedToTheStreamWithTheHole() {
        // "ShA", resp ACK over originator bytes never seen: letter for the originator's stream "G",
        // after the responder's own flag letter "a".
        var z = summary(handshake)
        z.record(fromOriginator: false, flags: A, payloadLength: 0, contentGap: true)
        #expect(z.history == "ShAaG")
        z.recordContentGap(inOriginatorStream: false)
        #expect(z.history == "ShAaGg")
    }

    @Test func ackOfSynBeforeSynAckIsNotPartial() {
        // Some stacks ACK the SYN before answering: resp pure ACK while os SYN_SENT leaves rs
        // INACTIVE, so after S, a it is still S0 ("Sa").
        let z = summary([(true, S, 0), (false, A, 0)])
        #expect(z.history == "Sa")
        #expect(z.connState == "S0")
    }

    @Test func missedSynIsEstablishedBySynAckAndAck() {
        // resp SYN+ACK "h" (rs ESTABLISHED), orig ACK "A": os INACTIVE, ACK and peer ESTABLISHED →
        // os ESTABLISHED → S1.
        let z = summary([(false, SA, 0), (true, A, 0)])
        #expect(z.history == "hA")
        #expect(z.connState == "S1")
    }

    @Test func rstos0PatternMatchesZeeksRegex() {
        #expect(ZeekConnSummary.looksLikeRSTOS0(Array("SR")))
        #expect(ZeekConnSummary.looksLikeRSTOS0(Array("^SR")))
        #expect(ZeekConnSummary.looksLikeRSTOS0(Array("STDaR")))  // lower-case and D/T don't stop it
        #expect(!ZeekConnSummary.looksLikeRSTOS0(Array("SAR")))
        #expect(!ZeekConnSummary.looksLikeRSTOS0(Array("DR")))
        #expect(!ZeekConnSummary.looksLikeRSTOS0(Array("S")))
    }
}
