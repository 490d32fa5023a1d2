#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The language of the words netinspect writes for learners (`--lang`): the explanations, the
/// notes on the packet lines and the demos' narration. Packet lines themselves stay tcpdump's.
public enum Language: String, Sendable, CaseIterable {
    case en
    case zh

    /// `zh` when `LC_ALL` (or, when it is unset or empty, `LANG`) starts with `zh`; else `en`.
    public static func fromEnvironment() -> Language {
        for name in ["LC_ALL", "LANG"] {
            guard let v = getenv(name) else { continue }
            let value = String(cString: v)
            if value.isEmpty { continue }
            return value.hasPrefix("zh") ? .zh : .en
        }
        return .en
    }

    /// Every phrase of this language (`English.phrases`, `Chinese.phrases`).
    public var phrases: [Phrase: String] {
        switch self {
        case .en: return English.phrases
        case .zh: return Chinese.phrases
        }
    }
}

/// The words of one language, looked up by `Phrase` (one catalogue per language: English.swift,
/// Chinese.swift). Templates name their values in braces: `{who}`, `{n}`.
public struct Catalog: Sendable {
    public let language: Language
    private let table: [Phrase: String]

    public init(_ language: Language) {
        self.language = language
        table = language.phrases
    }

    public static let english = Catalog(.en)
    public static let chinese = Catalog(.zh)

    public static func of(_ l: Language) -> Catalog { l == .zh ? chinese : english }

    /// The phrase, its `{name}` placeholders replaced by `values` (a missing phrase falls back to
    /// English, then to its key: the catalogue test keeps both complete).
    public func text(_ p: Phrase, _ values: [String: String] = [:]) -> String {
        var s = table[p] ?? English.phrases[p] ?? p.rawValue
        for (k, v) in values {
            // `{k:s}`: an English plural ending, "s" unless the value is 1.
            s = s.replacingAll("{" + k + ":s}", with: v == "1" ? "" : "s")
            s = s.replacingAll("{" + k + "}", with: v)
        }
        return s
    }

    public subscript(_ p: Phrase) -> String { text(p) }

    /// "client" / "server" in this language.
    public func side(client: Bool) -> String { text(client ? .client : .server) }
}

extension String {
    /// Every occurrence of `target` replaced (Foundation-free).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            result += rest[rest.startIndex ..< r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        result += rest
        return result
    }
}

extension Substring {
    /// The first range of `target` (Foundation-free).
    func range(of target: String) -> Range<Substring.Index>? {
        let t = Array(target.utf8)
        guard !t.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            var j = i
            var k = 0
            while k < t.count, j < endIndex, utf8[j] == t[k] {
                j = utf8.index(after: j)
                k += 1
            }
            if k == t.count { return i ..< j }
            i = index(after: i)
        }
        return nil
    }
}

/// Every phrase netinspect has for learners. Each language's catalogue gives every key a text
/// (`CatalogTests` fails when one is missing).
public enum Phrase: String, Sendable, CaseIterable {
    // Words used inside other phrases.
    case client, server

    // Explanations (`--explain`): one sentence per note, by note kind (and step).
    case exHandshakeSyn, exHandshakeSynAck, exHandshakeSynAckAgain, exHandshakeSynAckNoSyn
    case exHandshakeAck, exHandshakeAckRTT
    case exSynRetransmission, exSynFlood, exAckNotAccepted, exServerAccepted
    case exDataBeforeHandshake, exMidstream
    case exTeardownFirstFin, exTeardownAckFirstFin, exTeardownFinAck, exTeardownSecondFin, exTeardownAckLastFin
    case exTeardownSimultaneousFin, exTeardownSimultaneousAck, exTeardown
    case exHalfClose, exAfterClose
    case exRefused, exReset
    case exRetransmission, exOutOfOrder, exLostSegment, exDuplicateAck
    case exFastRetransmission, exSpuriousRetransmission, exAckedUnseen, exKeepAliveAck, exZeroWindowProbe
    case exZeroWindowProbeAck, exWindowUpdate, exReusedPorts
    case exZeroWindow, exWindowFull, exKeepAlive, exDuplicateFrame
    case exMessage, exFramingAuto, exSticky, exStickyMixed, exSplit, exSplitEnd, exFramingLost
    case exOverlapDiffers, exStreamGap, exRecv
    case exReassembled, exFragmentOverlap, exTSO
    case exDNSTruncated, exDNSTCPRetry, exDNSTCPAnswer
    case exFollow, exFollowUnframed

    // Notes on the packet line (`--lang zh`), where the note's typed fields carry all its words.
    case noteHandshakeSyn, noteHandshakeSynAck, noteHandshakeSynAckAgain, noteHandshakeSynAckNoSyn
    case noteHandshakeAck, noteHandshakeAckRTT
    case noteSynRetransmission, noteAckNotAccepted
    case noteTeardownFirstFin, noteTeardownAckFirstFin, noteTeardownFinAck, noteTeardownSecondFin
    case noteTeardownAckLastFin, noteTeardownSimultaneousFin, noteTeardownSimultaneousAck
    case noteRefused, noteReset
    case noteRetransmission, noteOutOfOrder, noteKeepAlive, noteWindowFull, noteZeroWindow
    case noteFastRetransmission, noteSpuriousRetransmission, noteAckedUnseen, noteKeepAliveAck, noteZeroWindowProbe
    case noteZeroWindowProbeAck, noteWindowUpdate, noteReusedPorts, noteLostSegmentPlain
    case noteDuplicateFrame, noteAfterClose, noteDataBeforeHandshake, noteMidstream, noteHalfClose
    case noteFragmentOverlap, noteOverlapDiffers, noteDNSTruncated, noteDNSTCPRetry, noteDNSTCPAnswer, noteLostSegment, noteDuplicateAck
    case noteStates

    // Pieces of the message notes (`msg #4 (23 B)`, `sticky: 3 messages (#4–#6)` …), in the
    // order `MessageNotes.write` writes them.
    case msgNumber, msgBytesEnd, msgSplit, msgSticky, msgStickyCount, msgBytes, msgOf, msgPart
    case msgEndOf, msgStartOf, msgPartOf, msgCompleteIn, msgHeader

    // `--flows --explain`: the header line and the legend of conn_state and history.
    case flowsHeader, flowsLegend, flowsHistoryLegend
    case connS0, connS1, connSF, connREJ, connS2, connS3, connRSTO, connRSTR, connRSTOS0, connRSTRH
    case connSH, connSHR, connOTH
    case histS, histH, histA, histD, histF, histR, histC, histG, histT, histW, histI, histQ, histFlipped
    case histCase

    // Demo narration (echo, sticky, and what every TCP demo says).
    case demoExplainHint
    case whoSummary, whoWarning, whoClients
    case demoListening, demoNotLoopback, demoNoClient, demoAccepted, demoClosedBeforeSending
    case demoRecvReturned, demoSent, demoServerCloses, demoClientCloses, demoClientClosed, demoServerClosed
    case demoWaitedForClient, demoWaitedForServer, demoConnectedHandshake, demoConnected, demoNoReply
    case stickySummarySame, stickySummaryDiffer, stickySleeping, stickyRecvTimeout, stickyRecv, stickyTotal
    case stickyNoDelay, stickyNagle, stickyNoDelayFromHere, stickySend, stickySentAll
    case stickyServerClosedToo, stickyWaitedClose
    case gluedMany, gluedStartingWith, gluedAnd, gluedLastOf, gluedFirstOf, gluedPair, gluedOne
    // udp
    case udpBound, udpNoDatagram, udpRecvfrom, udpSentBack, udpEchoed, udpClientBound, udpSendto, udpNoEcho, udpBoundariesKept
    // reset
    case resetWaitingNext, resetNothing, resetClosedNormally, resetAborted, resetSentProbe, resetSigpipe, resetHandled
    case resetLinger, resetNoReplyWithin, resetUnread, resetExit, resetFailed, resetFailedCode
    // backlog
    case bkListen, bkDraining, bkIdle, bkAcceptedAll, bkWaiting, bkGaveUp, bkHelloThenGone, bkServed, bkSendFailed
    case bkClientAt, bkConnectDone, bkSendHello, bkSendFailedShort, bkSocketFailed, bkConnectFailed, bkStarted
    case bkTimedOutConnecting, bkTimedOutConnected, bkClientServed, bkServerClosedNoAnswer, bkRecvFailed, bkClientLabel
    case bkSummary, bkSummaryServer, bkSummaryGaveUp, bkGroups, bkGroup, bkGroupSeparator, bkLaterGroups, bkTooMany
    // framed
    case frAllowlist, frMessageIn, frRefused, frSentFrame, frConnected, frLittle, frBig, frSentCommand
    case frServerClosedEarly, frAnswer, frErrorAnswer, frReassembled, frClientCloses
    // dns
    case dnsPortFallback, dnsServerUp, dnsIdle, dnsRecvfrom, dnsNotQuery, dnsTooBig, dnsSendto, dnsAcceptTCP
    case dnsTCPClosed, dnsTCPEndedInside, dnsTCPQuery, dnsNotQueryClosing, dnsTCPSend, dnsClientFallback
    case dnsClientSendto, dnsOtherAnswer, dnsNoAnswer, dnsUndecodable, dnsTC, dnsTCPConnected, dnsTCPSentQuery
    case dnsNoTCPAnswer, dnsTCPAnswerEnded, dnsTCPWhole, dnsTCPClose, dnsTCPUndecodable, dnsClientRecvfrom
    case dnsAnswerSummary, dnsAuthoritative
    // download
    case dlServing, dlEmpty, dlNameTimeout, dlClosedWithoutAsking, dlNoNameLine, dlFileName, dlRefused, dlOpenFailed
    case dlStatus, dlSentFile, dlRecvTimeout, dlRecvMany, dlEndOfFile, dlClose, dlNoStatus, dlServerRefused
    case dlUnexpected, dlIncomplete, dlDownloaded, dlSaved
    // chat
    case whoChat, chatListening, chatBuiltIn, chatTypeClient, chatTypeServer, chatAccepted, chatVanished, chatClosedFIN
    case chatNothingFrom, chatNoMoreLines, chatGone, chatClose, chatServed, chatEndOfInput, chatQuit, chatVanish
    case chatServerClosed, chatNoAnswer, chatAtMost, chatEmptyRefused, chatNoInput
    // the demo console: a run of repeated lines
    case consoleSameAgain
}
