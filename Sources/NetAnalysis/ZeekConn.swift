import NetWire

// Zeek-compatible `history` and `conn_state` for one TCP connection.
//
// This is a port of the parts of Zeek that produce those two conn.log fields, nothing more. Sources
// (zeek/zeek on GitHub, current master):
//
// - `src/packet_analysis/protocol/tcp/TCP.cc` / `TCPSessionAdapter.cc`: `update_history()` (the
//   S H A D F R I Q letters), `update_window()` (W), `update_last_seq()` (T), `init_endpoint()` (the
//   endpoint's start sequence, used to decide whether a repeated S/H/F/R is recorded again),
//   `ValidateChecksum()` (C: the segment is dropped after it), and the endpoint state machine
//   `UpdateStateMachine()` → `UpdateInactiveState()`, `UpdateSYN_SentState()`,
//   `UpdateEstablishedState()`, `UpdateClosedState()`, `UpdateResetState()`.
// - `src/analyzer/protocol/tcp/TCP_Endpoint.{h,cc}`: `CheckHistory()` (upper case for the
//   originator, lower case for the responder; the responder's "seen" mask is shifted by 16 bits),
//   `ChecksumError()`, `DidRxmit()`, `ZeroWindow()`, `Gap()` (C T W G via `ScaledHistoryEntry`),
//   `SetState()` (keeps `prev_state`).
// - `src/Conn.{h,cc}` / `src/session/Session.h`: `Connection::CheckHistory()` (a letter is added
//   the first time its mask is seen) and `ScaledHistoryEntry()` (counter reaching the threshold
//   adds the letter and multiplies the threshold by 10: letters at the 1st, 10th, 100th … event).
// - `scripts/base/protocols/conn/main.zeek`: the documented letter table and the `conn_state()`
//   function, reproduced in `connState` below.

/// Zeek conn.log's `history` and `conn_state` for one TCP connection, fed each segment in capture order.
///
/// History letters (upper case: sent by the originator, lower case: by the responder), as Zeek's
/// `update_history()` assigns them. Only SYN, FIN and RST count as "control bits"; ACK, PSH, URG,
/// ECE, CWR and NS do not:
///
/// | letter | segment | how often |
/// |---|---|---|
/// | `S` | SYN without ACK, no FIN/RST | once per direction; again only if its relative sequence number differs from the last SYN's (needs `sequenceNumber`) |
/// | `H` | SYN+ACK, no FIN/RST | shares `S`'s slot: a direction records at most one of S/H unless the sequence number changes |
/// | `A` | no SYN/FIN/RST, no payload, ACK set | once per direction |
/// | `D` | no SYN/FIN/RST, payload > 0 (so a FIN or RST carrying data gives `F`/`R`, not `D`) | once per direction |
/// | `F` | FIN, no SYN/RST | once per direction; again if seq+payload differs from the last FIN's |
/// | `R` | RST, no SYN/FIN (an RST+ACK is just `R`: "Sr" for a refused connection) | once per direction; again if seq differs from the last RST's |
/// | `I` | FIN+RST (with or without SYN) | once per direction; no S/F/R letter for that segment |
/// | `Q` | SYN+FIN or SYN+RST | once per direction; no S/F/R letter for that segment |
/// | `C` | bad checksum — Zeek then drops the segment: no other letter, no state change | 1st, 10th, 100th … |
/// | `T` | retransmitted payload (payload > 0, sender not in RESET state) | 1st, 10th, 100th … |
/// | `W` | window 0, not on an RST, sender not RESET, and the receiver has not sent a FIN | 1st, 10th, 100th … |
/// | `G` | content gap in that endpoint's stream (see `contentGap`) | 1st, 10th, 100th … |
///
/// Within one segment the letters come in Zeek's order: the flag letter, then W, then T, then G.
///
/// Not produced: `^` (Zeek flips originator and responder when its heuristics decide the first
/// packet seen came from the server, and records `^`; our flow tracker fixes the originator up front
/// and never flips, so `^` never appears and a SYN-ACK seen first simply stays the responder's `h`).
/// `X` (analysis limits exceeded) does not apply either. Connection reuse (a new SYN after the close,
/// which Zeek turns into a new conn.log entry via `IsReuse()`) is the tracker's decision: feed the
/// new connection to a fresh summary.
public struct ZeekConnSummary: Sendable {
    /// Zeek's TCP endpoint states (`TCP_ENDPOINT_*`, script names `TCP_INACTIVE` …).
    public enum EndpointState: String, Sendable, Equatable {
        case inactive = "TCP_INACTIVE"
        case synSent = "TCP_SYN_SENT"
        case synAckSent = "TCP_SYN_ACK_SENT"
        case partial = "TCP_PARTIAL"
        case established = "TCP_ESTABLISHED"
        case closed = "TCP_CLOSED"
        case reset = "TCP_RESET"
    }

    /// One side's bookkeeping, as in Zeek's `TCP_Endpoint`.
    struct Endpoint: Sendable {
        var state: EndpointState = .inactive
        var prevState: EndpointState = .inactive
        /// `hist_seen` bits for this side (Zeek's HIST_* masks, before the responder's 16-bit shift).
        var seen: UInt16 = 0
        /// Scaled-entry counters (`chk_cnt`/`chk_thresh`, `rxmt_…`, `win0_…`, `gap_…`).
        var checksums = ScaledCounter(), retransmits = ScaledCounter()
        var zeroWindows = ScaledCounter(), gaps = ScaledCounter()
        /// `StartSeq()` as `init_endpoint()` sets it (nil until a segment with a sequence number).
        var startSeq: UInt32?
        /// `hist_last_SYN` / `hist_last_FIN` / `hist_last_RST` (relative sequence numbers, start 0).
        var lastSYN: Int64 = 0, lastFIN: Int64 = 0, lastRST: Int64 = 0
        /// Payload bytes sent (non-RST, not retransmitted): stands in for Zeek's sequence-number based
        /// `Size()`, which only matters for one REJ case.
        var payloadBytes: Int = 0

        mutating func setState(_ new: EndpointState) {
            // TCP_Endpoint::SetState: prev_state changes only on a real transition.
            if new != state {
                prevState = state
                state = new
            }
        }

        var isInactive: Bool { state == .inactive || state == .partial }
    }

    /// `Connection::ScaledHistoryEntry()` with base 10: true (add the letter) when the count reaches
    /// the threshold, which then grows tenfold (1, 10, 100 …); on overflow the count restarts.
    struct ScaledCounter: Sendable {
        var count: UInt32 = 0
        var threshold: UInt32 = 1

        mutating func hit() -> Bool {
            count &+= 1
            guard count == threshold else { return false }
            let (next, overflow) = threshold.multipliedReportingOverflow(by: 10)
            if overflow || next <= threshold {
                count = 0
            } else {
                threshold = next
            }
            return true
        }
    }

    // Zeek's HistoryMasks (TCP_Endpoint.h).
    static let histSYN: UInt16 = 0x1
    static let histFIN: UInt16 = 0x2
    static let histRST: UInt16 = 0x4
    static let histFINRST: UInt16 = 0x8
    static let histData: UInt16 = 0x10
    static let histACK: UInt16 = 0x20
    static let histMultiFlag: UInt16 = 0x40

    var orig = Endpoint()
    var resp = Endpoint()
    var letters: [Character] = []

    public init() {}

    /// Zeek's state of the originator's endpoint so far.
    public var originatorState: EndpointState { orig.state }
    /// Zeek's state of the responder's endpoint so far.
    public var responderState: EndpointState { resp.state }

    /// `fromOriginator`: the segment was sent by the connection's originator (Zeek's "orig").
    /// `isRetransmission`: the tracker judged it a retransmission (for the T/t letter).
    /// `badChecksum`: checksum verified bad (C/c). `zeroWindow`: window field 0 on a non-RST segment (W/w).
    ///
    /// Extras beyond the minimal interface:
    /// - `contentGap`: this segment acknowledges bytes of the *other* direction's stream that were
    ///   never seen. Zeek finds gaps when the peer's ACK passes the hole (`peer->AckReceived()` after
    ///   the state machine) and records them against the endpoint whose data is missing: a responder
    ///   ACK over missing originator data gives `G`, an originator ACK over missing responder data `g`.
    ///   (Zeek's reassembler does not report a gap revealed only by a final FIN/RST; leave that to the
    ///   tracker.)
    /// - `sequenceNumber`: the segment's raw sequence number. With it, a repeated S/H/F/R whose
    ///   relative sequence number (Zeek's `init_endpoint()` rebasing included) differs from the
    ///   previous one of the same kind is recorded again, as Zeek does. Without it (nil) they are
    ///   recorded once per direction. Pass it for every segment or for none.
    ///
    /// A segment with `badChecksum` only counts towards `C`/`c`: Zeek's `ValidateChecksum()` drops it
    /// before any other analysis.
    public mutating func record(fromOriginator: Bool, flags: TCPFlags, payloadLength: Int,
                                isRetransmission: Bool = false, badChecksum: Bool = false, zeroWindow: Bool = false,
                                contentGap: Bool = false, sequenceNumber: UInt32? = nil) {
        var ep = fromOriginator ? orig : resp
        var peer = fromOriginator ? resp : orig
        defer {
            if fromOriginator { orig = ep; resp = peer } else { resp = ep; orig = peer }
        }
        let len = max(0, payloadLength)

        // ValidateChecksum(): ChecksumError() then return before anything else.
        if badChecksum {
            if ep.checksums.hit() { add("C", fromOriginator) }
            return
        }

        let syn = flags.contains(.syn), fin = flags.contains(.fin), rst = flags.contains(.rst)
        let ack = flags.contains(.ack)

        // init_endpoint(): where this endpoint's relative sequence space starts.
        var relSeq: Int64?
        if let seq = sequenceNumber {
            switch ep.state {
            case .inactive:
                ep.startSeq = syn ? seq : seq &- 1
            case .synSent, .synAckSent:
                if syn && seq != ep.startSeq { ep.startSeq = seq }
            case .established, .partial:
                if syn { ep.startSeq = seq }
            case .reset:
                if syn && ep.prevState == .inactive { ep.startSeq = seq }
            case .closed:
                break
            }
            let start = ep.startSeq ?? (syn ? seq : seq &- 1)
            ep.startSeq = start
            relSeq = Int64(Int32(bitPattern: seq &- start))
        }

        // update_history().
        let bitsSet = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
        if bitsSet > 1 {
            if fin && rst {
                _ = checkHistory(&ep, Self.histFINRST, "I", fromOriginator)
            } else {
                _ = checkHistory(&ep, Self.histMultiFlag, "Q", fromOriginator)
            }
        } else if bitsSet == 1 {
            if syn {
                let code: Character = ack ? "H" : "S"
                if checkHistory(&ep, Self.histSYN, code, fromOriginator), let rel = relSeq, rel != ep.lastSYN {
                    add(code, fromOriginator)
                }
                if let rel = relSeq { ep.lastSYN = rel }
            }
            if fin {
                // For FINs the sequence number that counts is the one after the payload.
                let end = relSeq.map { $0 &+ Int64(len) }
                if checkHistory(&ep, Self.histFIN, "F", fromOriginator), let end, end != ep.lastFIN {
                    add("F", fromOriginator)
                }
                if let end { ep.lastFIN = end }
            }
            if rst {
                if checkHistory(&ep, Self.histRST, "R", fromOriginator), let rel = relSeq, rel != ep.lastRST {
                    add("R", fromOriginator)
                }
                if let rel = relSeq { ep.lastRST = rel }
            }
        } else if len > 0 {
            _ = checkHistory(&ep, Self.histData, "D", fromOriginator)
        } else if ack {
            _ = checkHistory(&ep, Self.histACK, "A", fromOriginator)
        }

        // update_window(): uses the states from before this segment.
        if zeroWindow && !rst && peer.state != .closed && ep.state != .reset {
            if ep.zeroWindows.hit() { add("W", fromOriginator) }
        }

        // update_last_seq(): DidRxmit() for payload at or below the highest sequence seen, unless the
        // sender has reset ("don't trust any subsequent sequence numbers").
        if isRetransmission && len > 0 && ep.state != .reset {
            if ep.retransmits.hit() { add("T", fromOriginator) }
        }

        updateStateMachine(&ep, &peer, isOrig: fromOriginator, syn: syn, fin: fin, rst: rst, ack: ack, len: len)

        // peer->AckReceived() after the state machine: a gap in the peer's stream.
        if contentGap && ack {
            if peer.gaps.hit() { add("G", !fromOriginator) }
        }

        if !rst && !isRetransmission { ep.payloadBytes += len }
    }

    /// Records a content gap in one direction's stream directly (Zeek's `TCP_Endpoint::Gap()`):
    /// `G` for the originator's stream, `g` for the responder's, 1st, 10th, 100th … time.
    public mutating func recordContentGap(inOriginatorStream: Bool) {
        if inOriginatorStream {
            if orig.gaps.hit() { add("G", true) }
        } else {
            if resp.gaps.hit() { add("G", false) }
        }
    }

    /// Zeek's history string so far (e.g. "ShADadFf").
    public var history: String { String(letters) }

    /// Zeek's conn_state for what was seen (S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH).
    ///
    /// This is `conn_state()` of `scripts/base/protocols/conn/main.zeek`, branch for branch, over the
    /// endpoint states (`os`, `rs`; "inactive" means TCP_INACTIVE or TCP_PARTIAL), first match wins:
    ///
    /// 1. `rs` RESET:
    ///    - `os` SYN_SENT or SYN_ACK_SENT, or `os` RESET with no payload either way → **REJ**
    ///      (SYN answered by RST; Zeek compares sequence-based sizes, we count payload bytes);
    ///    - `os` inactive → **RSTRH** (responder's SYN-ACK/traffic then RST, no originator SYN);
    ///    - otherwise → **RSTR** (established, responder aborted).
    /// 2. `os` RESET:
    ///    - `rs` inactive: history matches `/\^?S[^HAFGIQ]*R.*/` → **RSTOS0** (originator SYN then RST,
    ///      no SYN-ACK), else → **OTH**;
    ///    - otherwise → **RSTO** (established, originator aborted).
    /// 3. both CLOSED → **SF** (normal establishment and termination).
    /// 4. `os` CLOSED → **SH** if `rs` inactive (SYN then FIN, no SYN-ACK: half-open), else **S2**
    ///    (close attempt by the originator only).
    /// 5. `rs` CLOSED → **SHR** if `os` inactive (SYN-ACK then FIN, no SYN), else **S3** (close attempt
    ///    by the responder only).
    /// 6. `os` SYN_SENT and `rs` INACTIVE → **S0** (attempt, no reply).
    /// 7. both ESTABLISHED → **S1** (established, not terminated).
    /// 8. anything else → **OTH** (no SYN seen / midstream, or an unusual mix).
    public var connState: String {
        let os = orig.state, rs = resp.state
        if rs == .reset {
            if os == .synSent || os == .synAckSent || (os == .reset && orig.payloadBytes == 0 && resp.payloadBytes == 0) {
                return "REJ"
            }
            return orig.isInactive ? "RSTRH" : "RSTR"
        }
        if os == .reset {
            if resp.isInactive {
                return Self.looksLikeRSTOS0(letters) ? "RSTOS0" : "OTH"
            }
            return "RSTO"
        }
        if rs == .closed && os == .closed { return "SF" }
        if os == .closed { return resp.isInactive ? "SH" : "S2" }
        if rs == .closed { return orig.isInactive ? "SHR" : "S3" }
        if os == .synSent && rs == .inactive { return "S0" }
        if os == .established && rs == .established { return "S1" }
        return "OTH"
    }

    /// Whole-string match of Zeek's `/\^?S[^HAFGIQ]*R.*/`: after an optional `^`, an `S`, then an `R`
    /// before any of H A F G I Q (upper case only: responder letters do not stop it).
    static func looksLikeRSTOS0(_ h: [Character]) -> Bool {
        var i = 0
        if i < h.count && h[i] == "^" { i += 1 }
        guard i < h.count, h[i] == "S" else { return false }
        i += 1
        while i < h.count {
            let c = h[i]
            if c == "R" { return true }
            if "HAFGIQ".contains(c) { return false }
            i += 1
        }
        return false
    }

    // MARK: - Zeek's helpers

    /// `Connection::CheckHistory()`: adds the letter the first time; returns true if already seen.
    private mutating func checkHistory(_ ep: inout Endpoint, _ mask: UInt16, _ code: Character, _ isOrig: Bool) -> Bool {
        if ep.seen & mask == 0 {
            ep.seen |= mask
            add(code, isOrig)
            return false
        }
        return true
    }

    private mutating func add(_ code: Character, _ isOrig: Bool) {
        letters.append(isOrig ? code : Character(code.lowercased()))
    }

    /// `TCPSessionAdapter::UpdateStateMachine()` and the per-state functions it calls, without the
    /// events, weirds and timers, and without `FlipRoles()` (see the type's documentation).
    private func updateStateMachine(_ ep: inout Endpoint, _ peer: inout Endpoint, isOrig: Bool,
                                    syn: Bool, fin: Bool, rst: Bool, ack: Bool, len: Int) {
        switch ep.state {
        case .inactive:
            // UpdateInactiveState()
            if syn {
                if isOrig {
                    ep.setState(ack ? .synAckSent : .synSent)
                } else {
                    if !ack && peer.state == .synAckSent {
                        // SYN/SYN-ACK reversal: Zeek flips the roles here and marks the (new)
                        // originator established; we keep the roles and establish both.
                        peer.setState(.established)
                    }
                    if peer.state == .synSent { peer.setState(.established) }
                    ep.setState(.established)
                }
            }
            if fin { ep.setState(.closed) }
            if rst { ep.setState(.reset) }
            if ep.state == .inactive {
                if !isOrig && len == 0 && peer.state == .synSent {
                    // An ACK of the initial SYN before the SYN-ACK: not a partial connection.
                } else if ack && peer.state == .established {
                    // SYN-ACK seen without the SYN, now a pure ACK: treat as established.
                    ep.setState(.established)
                } else {
                    ep.setState(.partial)
                }
            }
        case .synSent, .synAckSent:
            // UpdateSYN_SentState()
            if fin { ep.setState(.closed) }
            if rst { ep.setState(.reset) }
        case .established, .partial:
            // UpdateEstablishedState()
            if syn && ep.state == .partial && peer.state == .inactive && !ack {
                ep.setState(.synSent)
            }
            if fin && !rst {
                ep.setState(.closed)
                if peer.state == .reset && peer.prevState == .closed {
                    // The peer's FIN then RST was a normal termination after all.
                    peer.setState(.closed)
                }
            }
            if rst { ep.setState(.reset) }
        case .closed:
            // UpdateClosedState(): an RST after our FIN counts unless the peer closed too.
            if rst && peer.state != .closed { ep.setState(.reset) }
        case .reset:
            // UpdateResetState(): weirds only.
            break
        }
    }
}
