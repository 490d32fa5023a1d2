import NetAnalysis
import NetWire

/// `--explain`: one plain sentence per note, on its own indented line under the packet line, in
/// the course's terms (which side is in which state and what it waits for). The words come from
/// the catalogue of the chosen language; which sentence fits is read from the note's kind, step
/// and typed fields only.
public struct Explainer: Sendable {
    public let catalog: Catalog
    /// What each explanation line starts with.
    public static let indent = "    ↳ "

    public init(_ language: Language) {
        catalog = Catalog.of(language)
    }

    /// The phrase that explains a note of `kind` (the first choice for its step). Every kind has
    /// one (`ExplainTests` walks `Note.Kind.allCases`).
    public static func phrase(for kind: Note.Kind, step: Note.Step = .none, completes: Bool = false, mixed: Bool = false,
                              framed: Bool = true, rtt: Bool = false) -> Phrase {
        switch kind {
        case .duplicateFrame: return .exDuplicateFrame
        case .handshake:
            switch step {
            case .syn: return .exHandshakeSyn
            case .synAck: return .exHandshakeSynAck
            case .synAckAgain: return .exHandshakeSynAckAgain
            case .synAckNoSyn: return .exHandshakeSynAckNoSyn
            default: return rtt ? .exHandshakeAckRTT : .exHandshakeAck
            }
        case .teardown:
            switch step {
            case .firstFin: return .exTeardownFirstFin
            case .ackFirstFin: return .exTeardownAckFirstFin
            case .finAck: return .exTeardownFinAck
            case .secondFin: return .exTeardownSecondFin
            case .ackLastFin: return .exTeardownAckLastFin
            case .simultaneousFin: return .exTeardownSimultaneousFin
            case .simultaneousAck: return .exTeardownSimultaneousAck
            default: return .exTeardown
            }
        case .reset: return step == .refused ? .exRefused : .exReset
        case .midstream: return .exMidstream
        case .halfClose: return .exHalfClose
        case .afterClose: return .exAfterClose
        case .retransmission: return .exRetransmission
        case .outOfOrder: return .exOutOfOrder
        case .lostSegment: return .exLostSegment
        case .duplicateAck: return .exDuplicateAck
        case .zeroWindow: return .exZeroWindow
        case .windowFull: return .exWindowFull
        case .keepAlive: return .exKeepAlive
        case .synRetransmission: return .exSynRetransmission
        case .fastRetransmission: return .exFastRetransmission
        case .spuriousRetransmission: return .exSpuriousRetransmission
        case .ackedUnseen: return .exAckedUnseen
        case .keepAliveAck: return .exKeepAliveAck
        case .zeroWindowProbe: return .exZeroWindowProbe
        case .zeroWindowProbeAck: return .exZeroWindowProbeAck
        case .windowUpdate: return .exWindowUpdate
        case .reusedPorts: return .exReusedPorts
        case .dataBeforeHandshake: return .exDataBeforeHandshake
        case .synFlood: return .exSynFlood
        case .ackNotAccepted: return .exAckNotAccepted
        case .serverAccepted: return .exServerAccepted
        case .message: return framed ? .exMessage : .exFramingAuto
        case .sticky: return mixed ? .exStickyMixed : .exSticky
        case .split: return mixed ? .exStickyMixed : completes ? .exSplitEnd : .exSplit
        case .framingLost: return .exFramingLost
        case .overlapDiffers: return .exOverlapDiffers
        case .streamGap: return .exStreamGap
        case .recv: return .exRecv
        case .reassembled: return .exReassembled
        case .fragmentOverlap: return .exFragmentOverlap
        case .tso: return .exTSO
        case .dnsTruncated: return .exDNSTruncated
        case .dnsTCPRetry: return .exDNSTCPRetry
        case .dnsTCPAnswer: return .exDNSTCPAnswer
        }
    }

    /// The sentence for `note`.
    public func sentence(_ note: Note) -> String {
        var completes = false, mixed = false, count = 0
        var framing = ""
        if let ref = note.framedRef {
            ref._withUnsafeGuaranteedRef { d in
                framing = d.framing
                count = d.spans.count
                if let last = d.spans.last { completes = last.completes && last.part > 1 && d.spans.count == 1 }
                mixed = note.kind == .sticky ? d.spans.contains { !$0.isWhole } : d.spans.count > 1
            }
        }
        let p = Self.phrase(for: note.kind, step: note.step, completes: completes, mixed: mixed,
                            framed: note.framed != nil, rtt: note.rttNanoseconds != nil)
        let client = note.byClient ?? true
        var values: [String: String] = [
            "who": catalog.side(client: client),
            "other": catalog.side(client: !client),
        ]
        if let rtt = note.rttNanoseconds { values["rtt"] = FlowTracker.durationText(rtt) }
        if let f = note.relatedFrame { values["frame"] = String(f) }
        if let a = note.amount { values["limit"] = String(a) }
        values["n"] = note.kind == .dnsTCPAnswer ? String(note.amount ?? 0) : String(count)
        values["framing"] = framing.isEmpty ? "?" : framing
        return catalog.text(p, values)
    }

    /// The words of note `k` on a line, in the catalogue's language (as the packet line writes them).
    public func words(_ notes: [Note], _ k: Int) -> String {
        var out = OutputBuffer(fd: -1, capacity: 256)
        NoteWords.write(notes, k, states: false, marks: nil, language: catalog.language, into: &out)
        return out.takeString()
    }

    /// The explanation lines of one packet's notes (and of a length taken from the capture).
    public func write(_ notes: [Note], tso: Bool = false, into out: inout OutputBuffer) {
        if tso { line(catalog.text(.exTSO), &out) }
        for k in notes.indices { line(sentence(notes[k]), &out) }
    }

    private func line(_ s: String, _ out: inout OutputBuffer) {
        out.string(Self.indent)
        out.string(s)
        out.byte(10)
    }

    /// `--flows --explain`: the line above the flow rows.
    public func flowsHeader(into out: inout OutputBuffer) {
        out.string(catalog.text(.flowsHeader)); out.byte(10)
    }

    /// `--flows --explain`: after the rows, what the conn_state codes and history letters that
    /// occurred mean.
    public func flowsLegend(states: Set<String>, letters: Set<Character>, into out: inout OutputBuffer) {
        let codes: [(String, Phrase)] = [("S0", .connS0), ("S1", .connS1), ("SF", .connSF), ("REJ", .connREJ),
                                         ("S2", .connS2), ("S3", .connS3), ("RSTO", .connRSTO), ("RSTR", .connRSTR),
                                         ("RSTOS0", .connRSTOS0), ("RSTRH", .connRSTRH), ("SH", .connSH),
                                         ("SHR", .connSHR), ("OTH", .connOTH)]
        let used = codes.filter { states.contains($0.0) }
        if !used.isEmpty {
            out.string(catalog.text(.flowsLegend)); out.byte(10)
            for (_, p) in used { out.string("#   "); out.string(catalog.text(p)); out.byte(10) }
        }
        let history: [(Character, Phrase)] = [("S", .histS), ("H", .histH), ("A", .histA), ("D", .histD), ("F", .histF),
                                              ("R", .histR), ("C", .histC), ("G", .histG), ("T", .histT), ("W", .histW),
                                              ("I", .histI), ("Q", .histQ), ("^", .histFlipped)]
        // (History letters are ASCII: upper-cased byte by byte, never a multi-character result.)
        let lower = Set(letters.map { c -> Character in
            guard let a = c.asciiValue, a >= 97, a <= 122 else { return c }
            return Character(Unicode.Scalar(a - 32))
        })
        let usedLetters = history.filter { lower.contains($0.0) }
        if !usedLetters.isEmpty {
            out.string(catalog.text(.flowsHistoryLegend)); out.byte(10)
            for (_, p) in usedLetters { out.string("#   "); out.string(catalog.text(p)); out.byte(10) }
            out.string("#   "); out.string(catalog.text(.histCase)); out.byte(10)
        }
    }
}

/// `--lang zh`: a note's words on the packet line in the catalogue's language, built from its
/// kind, step and typed fields. nil where the note carries words that are not typed (its counts
/// or names are only in `text`): the line keeps the analysis's English words there, and the
/// explanation under it is in the chosen language.
enum LocalNoteWords {
    static func words(_ note: Note, _ c: Catalog) -> String? {
        let client = note.byClient ?? true
        let who = c.side(client: client), other = c.side(client: !client)
        switch note.kind {
        case .handshake:
            switch note.step {
            case .syn: return c[.noteHandshakeSyn]
            case .synAck: return c[.noteHandshakeSynAck]
            case .synAckAgain: return c[.noteHandshakeSynAckAgain]
            case .synAckNoSyn: return c[.noteHandshakeSynAckNoSyn]
            case .handshakeAck:
                // After SYN retransmissions the English words also count them: kept.
                let plain = note.rttNanoseconds.map { "handshake 3/3 (RTT \(FlowTracker.durationText($0)))" } ?? "handshake 3/3"
                guard note.text == plain else { return nil }
                if let rtt = note.rttNanoseconds { return c.text(.noteHandshakeAckRTT, ["rtt": FlowTracker.durationText(rtt)]) }
                return c[.noteHandshakeAck]
            default: return nil
            }
        case .teardown:
            let p: Phrase
            switch note.step {
            case .firstFin: p = .noteTeardownFirstFin
            case .ackFirstFin: p = .noteTeardownAckFirstFin
            case .finAck: p = .noteTeardownFinAck
            case .secondFin: p = .noteTeardownSecondFin
            case .ackLastFin: p = .noteTeardownAckLastFin
            case .simultaneousFin: p = .noteTeardownSimultaneousFin
            case .simultaneousAck: p = .noteTeardownSimultaneousAck
            default: return nil
            }
            return c.text(p, ["who": who, "other": other])
        case .reset:
            if note.step == .refused { return c[.noteRefused] }
            // The state the resetting side was in is only in the English words ("… in ESTABLISHED").
            guard note.step == .abort, let last = note.text.split(separator: " ").last,
                  let state = TCPState(rawValue: String(last)) else { return nil }
            return c.text(.noteReset, ["who": who, "state": state.rawValue])
        case .synRetransmission: return c[.noteSynRetransmission]
        case .fastRetransmission: return c[.noteFastRetransmission]
        case .spuriousRetransmission: return c[.noteSpuriousRetransmission]
        case .ackedUnseen: return c[.noteAckedUnseen]
        case .keepAliveAck: return c[.noteKeepAliveAck]
        case .zeroWindowProbe: return c[.noteZeroWindowProbe]
        case .zeroWindowProbeAck: return c[.noteZeroWindowProbeAck]
        case .windowUpdate: return c[.noteWindowUpdate]
        case .reusedPorts: return c[.noteReusedPorts]
        case .ackNotAccepted: return c[.noteAckNotAccepted]
        case .retransmission: return c[.noteRetransmission]
        case .outOfOrder: return c[.noteOutOfOrder]
        case .keepAlive: return c[.noteKeepAlive]
        case .windowFull: return c[.noteWindowFull]
        case .zeroWindow: return c.text(.noteZeroWindow, ["who": who])
        case .duplicateFrame: return note.relatedFrame.map { c.text(.noteDuplicateFrame, ["frame": String($0)]) }
        case .afterClose: return c[.noteAfterClose]
        case .dataBeforeHandshake: return c[.noteDataBeforeHandshake]
        case .midstream: return c[.noteMidstream]
        case .halfClose: return c.text(.noteHalfClose, ["who": who, "other": other])
        case .fragmentOverlap: return c[.noteFragmentOverlap]
        case .overlapDiffers: return c[.noteOverlapDiffers]
        case .lostSegment: return note.amount.map { c.text(.noteLostSegment, ["n": String($0)]) } ?? c[.noteLostSegmentPlain]
        case .duplicateAck:
            guard let n = note.amount, let f = note.relatedFrame else { return nil }
            return c.text(.noteDuplicateAck, ["n": String(n), "frame": String(f)])
        case .dnsTruncated: return note.amount.map { c.text(.noteDNSTruncated, ["limit": String($0)]) }
        case .dnsTCPRetry: return note.relatedFrame.map { c.text(.noteDNSTCPRetry, ["frame": String($0)]) }
        case .dnsTCPAnswer:
            guard let f = note.relatedFrame, let n = note.amount else { return nil }
            return c.text(.noteDNSTCPAnswer, ["frame": String(f), "n": String(n)])
        case .synFlood, .serverAccepted, .message, .sticky, .split, .framingLost, .streamGap, .recv,
             .reassembled, .tso:
            return nil
        }
    }

    /// The message-note pieces of `MessageNotes.write` in the catalogue's language (English
    /// literal → translation).
    static let chinesePieces: [String: String] = {
        let pieces: [Phrase] = [.msgNumber, .msgBytesEnd, .msgSplit, .msgSticky, .msgStickyCount, .msgBytes, .msgOf,
                                .msgPart, .msgEndOf, .msgStartOf, .msgPartOf, .msgCompleteIn, .msgHeader]
        var m: [String: String] = [:]
        for p in pieces { if let e = English.phrases[p], let z = Chinese.phrases[p] { m[e] = z } }
        return m
    }()
}
