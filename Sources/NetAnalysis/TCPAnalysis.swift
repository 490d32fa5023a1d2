import NetWire

/// Wireshark's TCP expert analysis (`tcp.analysis.*` with default preferences), our own
/// implementation of the rules its user's guide ("TCP Analysis") and `tcp_analyze_sequence_number`
/// describe. Per connection: two `TCPSeqState` values (one per direction) in `FlowTracker.Conn`,
/// fixed size, no allocation per packet. docs/tcp-analysis.md has one sentence per kind.
public struct TCPAnalysisFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let retransmission = Self(rawValue: 1 << 0)
    public static let fastRetransmission = Self(rawValue: 1 << 1)
    public static let spuriousRetransmission = Self(rawValue: 1 << 2)
    public static let outOfOrder = Self(rawValue: 1 << 3)
    public static let lostSegment = Self(rawValue: 1 << 4)
    public static let ackedUnseen = Self(rawValue: 1 << 5)
    public static let duplicateAck = Self(rawValue: 1 << 6)
    public static let keepAlive = Self(rawValue: 1 << 7)
    public static let keepAliveAck = Self(rawValue: 1 << 8)
    public static let zeroWindow = Self(rawValue: 1 << 9)
    public static let zeroWindowProbe = Self(rawValue: 1 << 10)
    public static let zeroWindowProbeAck = Self(rawValue: 1 << 11)
    public static let windowUpdate = Self(rawValue: 1 << 12)
    public static let windowFull = Self(rawValue: 1 << 13)
    public static let reusedPorts = Self(rawValue: 1 << 14)

    /// The kinds, in the order their notes are written (Wireshark's order of precedence: the
    /// sequence kinds first, retransmission types before window kinds).
    static let order: [(TCPAnalysisFlags, Note.Kind, StaticString)] = [
        (.reusedPorts, .reusedPorts, "tcp.analysis.reused_ports"),
        (.zeroWindowProbe, .zeroWindowProbe, "tcp.analysis.zero_window_probe"),
        (.zeroWindow, .zeroWindow, "tcp.analysis.zero_window"),
        (.lostSegment, .lostSegment, "tcp.analysis.lost_segment"),
        (.keepAlive, .keepAlive, "tcp.analysis.keep_alive"),
        (.windowUpdate, .windowUpdate, "tcp.analysis.window_update"),
        (.windowFull, .windowFull, "tcp.analysis.window_full"),
        (.keepAliveAck, .keepAliveAck, "tcp.analysis.keep_alive_ack"),
        (.zeroWindowProbeAck, .zeroWindowProbeAck, "tcp.analysis.zero_window_probe_ack"),
        (.duplicateAck, .duplicateAck, "tcp.analysis.duplicate_ack"),
        (.ackedUnseen, .ackedUnseen, "tcp.analysis.ack_lost_segment"),
        (.spuriousRetransmission, .spuriousRetransmission, "tcp.analysis.spurious_retransmission"),
        (.fastRetransmission, .fastRetransmission, "tcp.analysis.fast_retransmission"),
        (.outOfOrder, .outOfOrder, "tcp.analysis.out_of_order"),
        (.retransmission, .retransmission, "tcp.analysis.retransmission"),
    ]

    /// The Wireshark field of a TCP analysis note kind (nil: not an analysis kind).
    public static func wiresharkName(_ kind: Note.Kind) -> StaticString? {
        for (_, k, name) in order where k == kind { return name }
        return nil
    }
}

/// What one direction of a connection has sent, as the analysis remembers it. As in Wireshark, a
/// sequence or ACK number of 0 stands for "not seen yet".
struct TCPSeqState {
    // (Declared widest first: 64 bytes a direction, no padding holes.)
    /// When the highest sequence was sent.
    var nextSeqTime = 0
    /// When the last ACK was sent.
    var lastAckTime = 0
    /// Duplicate ACKs in a row, and the frame of the last ACK that changed the ACK number.
    var dupAcks = 0
    var lastNonDupAck = 0
    /// The byte after the highest sequence sent.
    var nextSeq: UInt32 = 0
    /// The highest sequence sent without a hole before it: an ACK beyond it acknowledges bytes
    /// the capture did not see.
    var maxSeqToBeAcked: UInt32 = 0
    /// The last ACK field and window field sent (as carried).
    var lastAck: UInt32 = 0
    var window = UInt32.max
    /// The first sequence number seen (the ISN after a SYN), for reused ports.
    var baseSeq: UInt32?
    /// The analysis flags of the last segment sent (keep-alive / zero-window probe matter).
    var lastFlags: TCPAnalysisFlags = []
    /// The window scale of this direction: nil unknown (no SYN, no option seen), -1 none (the
    /// handshake did not agree on scaling), else the shift its option announced.
    var scale: Int8?
    /// The window stored came from a SYN (never scaled).
    var windowFromSyn = false
    /// An ACK of bytes not seen from this side was noted since its last hole.
    var unseenNoted = false
}

extension FlowTracker {
    /// Wireshark's sequence and window analysis of one segment (`fwd`: its sender's state, `rev`:
    /// the other side's). Returns the flags; for a duplicate ACK, `dupNumber` is its count and
    /// `dupOf` the frame of the ACK it repeats.
    static func analyze(_ fwd: inout TCPSeqState, _ rev: inout TCPSeqState, _ t: TCPHeader, now: Int, frame: Int,
                        initialRTT: Int?, dupNumber: inout Int, dupOf: inout Int) -> TCPAnalysisFlags {
        let f = t.flags
        let seq = t.sequence
        let ack = t.acknowledgment
        let seglen = UInt32(truncatingIfNeeded: min(max(t.payloadLength, 0), Int(UInt32.max)))
        let synFinRst = f.contains(.syn) || f.contains(.fin) || f.contains(.rst)
        let window = UInt32(t.window)
        var flags: TCPAnalysisFlags = []
        @inline(__always) func gt(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }
        @inline(__always) func lt(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }

        // The first sequence of each side (a SYN's, or one before the first segment's; the other
        // side's from the first ACK of it), for reused ports.
        if fwd.baseSeq == nil { fwd.baseSeq = f.contains(.syn) ? seq : seq &- 1 }
        if rev.baseSeq == nil && f.contains(.ack) { rev.baseSeq = ack &- 1 }
        checks: do {
            // Zero-window probe: one byte at the next sequence while the peer's window is 0.
            if seglen == 1 && seq == fwd.nextSeq && rev.window == 0 {
                flags.insert(.zeroWindowProbe)
                break checks
            }
            // Zero window: this side announces it can take nothing.
            if window == 0 && !synFinRst { flags.insert(.zeroWindow) }
            // Lost segment: it starts beyond the next expected byte.
            if fwd.nextSeq != 0 && gt(seq, fwd.nextSeq) && !f.contains(.rst) {
                flags.insert(.lostSegment)
                fwd.unseenNoted = false
            }
            // Keep-alive: 0 or 1 byte, one byte below the next expected sequence.
            if seglen <= 1 && fwd.nextSeq != 0 && seq == fwd.nextSeq &- 1 && !synFinRst { flags.insert(.keepAlive) }
            let same = seglen == 0 && seq == fwd.nextSeq && ack == fwd.lastAck && !synFinRst
            // Window update: nothing new but the window.
            if same && window != 0 && window != fwd.window { flags.insert(.windowUpdate) }
            // Window full: the data reaches the edge of the window the peer announced.
            if seglen > 0 && !synFinRst, let sc = rev.scale {
                let shift = rev.windowFromSyn || sc < 0 ? 0 : UInt32(sc)
                if rev.window != UInt32.max && seq &+ seglen == rev.lastAck &+ (rev.window << shift) {
                    flags.insert(.windowFull)
                }
            }
            // A repeated ACK: after a keep-alive, after a zero-window probe, or a duplicate ACK.
            if same && window == fwd.window {
                if window != 0 && rev.lastFlags.contains(.keepAlive) {
                    flags.insert(.keepAliveAck)
                    break checks
                }
                if window == 0 && rev.lastFlags.contains(.zeroWindowProbe) {
                    flags.insert(.zeroWindowProbeAck)
                    break checks
                }
                if window != 0 {
                    fwd.dupAcks = fwd.dupAcks == Int.max ? Int.max : fwd.dupAcks + 1
                    flags.insert(.duplicateAck)
                    dupNumber = fwd.dupAcks
                    dupOf = fwd.lastNonDupAck
                }
            }
        }
        if ack != fwd.lastAck {
            fwd.lastNonDupAck = frame
            fwd.dupAcks = 0
        }
        // ACKed unseen segment: it acknowledges bytes the capture never showed, once per hole (a
        // new hole is a lost segment from that side).
        if f.contains(.ack) && rev.maxSeqToBeAcked != 0 && gt(ack, rev.maxSeqToBeAcked) {
            if !rev.unseenNoted { flags.insert(.ackedUnseen) }
            rev.unseenNoted = true
            rev.maxSeqToBeAcked = rev.nextSeq
        }
        var end = seq &+ seglen
        if f.contains(.syn) || f.contains(.fin) { end = end &+ 1 }
        // Retransmission, fast retransmission, spurious retransmission, out-of-order.
        if (seglen > 0 || f.contains(.syn) || f.contains(.fin)) && !flags.contains(.keepAlive) {
            var notAdvanced = fwd.nextSeq != 0 && lt(seq, fwd.nextSeq)
            // One byte below the next, with more than one byte: new data after a probe.
            if seglen > 1 && fwd.nextSeq &- 1 == seq { notAdvanced = false }
            if seglen > 0 && rev.lastAck != 0 && !gt(seq &+ seglen, rev.lastAck) {
                flags.insert(.spuriousRetransmission)
            } else if notAdvanced {
                let sinceDupAck = elapsed(from: rev.lastAckTime, to: now)
                let sinceHighest = elapsed(from: fwd.nextSeqTime, to: now)
                let threshold = initialRTT.flatMap { $0 > 0 ? $0 : nil } ?? 3_000_000
                if rev.dupAcks >= 2 && rev.lastAck == seq && sinceDupAck < 20_000_000 {
                    flags.insert(.fastRetransmission)
                } else if sinceHighest < threshold && fwd.nextSeq != end {
                    flags.insert(.outOfOrder)
                } else {
                    flags.insert(.retransmission)
                }
            }
        }
        // Remember the highest sequence (a zero-window probe does not advance it).
        if !flags.contains(.zeroWindowProbe) {
            if gt(end, fwd.nextSeq) || fwd.nextSeq == 0 {
                fwd.nextSeq = end
                fwd.nextSeqTime = now
            }
            if seq == fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked == 0 {
                fwd.maxSeqToBeAcked = fwd.nextSeq
            }
        }
        fwd.window = window
        fwd.windowFromSyn = f.contains(.syn)
        fwd.lastAck = ack
        fwd.lastAckTime = now
        fwd.lastFlags = flags
        return flags
    }
}

/// How many notes of each TCP analysis kind a connection had (fixed size, in `Conn`).
public struct TCPAnalysisCounts: Sendable, Equatable {
    var counts = SIMD16<UInt32>()
    public init() {}

    mutating func add(_ flags: TCPAnalysisFlags) {
        for i in 0 ..< 15 where flags.rawValue & (1 << UInt16(i)) != 0 {
            counts[i] = counts[i] &+ 1 == 0 ? counts[i] : counts[i] &+ 1
        }
    }

    mutating func remove(_ flags: TCPAnalysisFlags) {
        for i in 0 ..< 15 where flags.rawValue & (1 << UInt16(i)) != 0 && counts[i] > 0 { counts[i] -= 1 }
    }

    /// The count of one kind (0 for a kind that is not an analysis kind).
    public subscript(kind: Note.Kind) -> Int {
        for (flag, k, _) in TCPAnalysisFlags.order where k == kind {
            return Int(counts[flag.rawValue.trailingZeroBitCount])
        }
        return 0
    }

    /// The kinds with a non-zero count, in note order.
    public var nonZero: [(Note.Kind, Int)] {
        TCPAnalysisFlags.order.compactMap { flag, k, _ in
            let n = Int(counts[flag.rawValue.trailingZeroBitCount])
            return n > 0 ? (k, n) : nil
        }
    }

    public var isEmpty: Bool { counts == SIMD16<UInt32>() }
}

extension FlowTracker {
    /// One note per flag, in `TCPAnalysisFlags.order`, each naming its Wireshark field.
    static func analysisNotes(_ flags: TCPAnalysisFlags, _ t: TCPHeader, fromClient: Bool, missing: Int,
                              dupNumber: Int, dupOf: Int, notes: inout [Note]) {
        for (flag, kind, name) in TCPAnalysisFlags.order where flags.contains(flag) {
            var n: Note
            switch kind {
            case .lostSegment:
                n = Note(kind: kind, text: missing > 0 ? "previous segment not captured (\(missing) bytes missing)"
                                                       : "previous segment not captured")
                if missing > 0 { n.amount = missing }
            case .duplicateAck:
                n = Note(kind: kind, text: "duplicate ACK #\(dupNumber) of #\(dupOf)", relatedFrame: dupOf)
                n.amount = dupNumber
            case .zeroWindow:
                n = Note(kind: kind, text: fromClient ? "zero window: client cannot take more data"
                                                      : "zero window: server cannot take more data")
            default:
                n = Note(kind: kind, text: Self.analysisText(kind))
            }
            // (Typed, for views in other languages: which side sent it.)
            n.byClient = fromClient
            n.wireshark = name
            notes.append(n)
        }
    }

    static func analysisText(_ kind: Note.Kind) -> String {
        switch kind {
        case .retransmission: "retransmission"
        case .fastRetransmission: "fast retransmission"
        case .spuriousRetransmission: "spurious retransmission"
        case .outOfOrder: "out-of-order"
        case .ackedUnseen: "ACKed unseen segment"
        case .keepAlive: "keep-alive"
        case .keepAliveAck: "keep-alive ACK"
        case .zeroWindowProbe: "zero-window probe"
        case .zeroWindowProbeAck: "zero-window probe ACK"
        case .windowUpdate: "window update"
        case .windowFull: "window full"
        case .reusedPorts: "reused ports: a new SYN on this connection's ports"
        default: kind.rawValue
        }
    }
}
