import NetWire

/// An analysis annotation on one packet. Formatters print `text` as a suffix on the line and the
/// whole note in JSON `notes`.
public struct Note: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case duplicateFrame = "duplicate_frame"
        case handshake
        case teardown
        case reset
        case midstream
        case halfClose = "half_close"
        case afterClose = "segment_after_close"
        case retransmission
        case outOfOrder = "out_of_order"
        case lostSegment = "lost_segment"
        case duplicateAck = "duplicate_ack"
        case zeroWindow = "zero_window"
        case windowFull = "window_full"
        case keepAlive = "keep_alive"
        case synRetransmission = "syn_retransmission"
        /// Wireshark's TCP analysis kinds we had not (TCPAnalysis.swift, docs/tcp-analysis.md).
        case fastRetransmission = "fast_retransmission"
        case spuriousRetransmission = "spurious_retransmission"
        case ackedUnseen = "acked_unseen"
        case keepAliveAck = "keep_alive_ack"
        case zeroWindowProbe = "zero_window_probe"
        case zeroWindowProbeAck = "zero_window_probe_ack"
        case windowUpdate = "window_update"
        case reusedPorts = "reused_ports"
        case dataBeforeHandshake = "data_before_handshake"
        case synFlood = "syn_flood"
        /// The server is still half-open (SYN_RCVD) after the client's handshake ACK and ignores the
        /// client (data retransmitted, SYN-ACK sent again): the ACK was dropped, accept queue full.
        case ackNotAccepted = "ack_not_accepted"
        /// The server's first segment after it had ignored the handshake ACK: it left SYN_RCVD.
        case serverAccepted = "server_accepted"
        /// Message framing (issue: sticky packets): one whole message, several (粘包), or part of one (半包).
        case message
        case sticky
        case split
        case framingLost = "framing_lost"
        /// A retransmission whose bytes differ from the first copy (the first copy is kept).
        case overlapDiffers = "overlap_differs"
        /// Reassembly skipped bytes that were never captured, or dropped data at a memory cap.
        case streamGap = "stream_gap"
        /// The receiver's view (`--recv-size`): how a recv(N) loop would have cut the stream.
        case recv
        /// IP reassembly: this fragment completed a datagram (its upper layers are the inner packet).
        case reassembled
        /// IP reassembly: this fragment overlapped data already held (the first copy is kept).
        case fragmentOverlap = "fragment_overlap"
        /// A decoder fact counted like a note: an IPv4 total length of 0 (segmentation offload),
        /// the captured length stood in. (Formatters write it from `Packet.lengthFromCapture`.)
        case tso
        /// DNS over UDP: an answer with the TC bit (it did not fit the UDP size limit).
        case dnsTruncated = "dns_truncated"
        /// DNS over TCP: the query again after a truncated UDP answer (`relatedFrame`: that answer).
        case dnsTCPRetry = "dns_tcp_retry"
        /// DNS over TCP: the whole answer to such a retry (`amount`: its length, `relatedFrame`:
        /// the truncated UDP answer).
        case dnsTCPAnswer = "dns_tcp_answer"
    }

    /// Which step of a TCP life cycle a handshake, teardown or reset note is (typed, so that views
    /// can word it in any language without reading `text`).
    public enum Step: UInt8, Sendable, CaseIterable {
        case none
        /// handshake 1/3 (SYN)
        case syn
        /// handshake 2/3 (SYN-ACK)
        case synAck
        /// handshake 2/3 again (the SYN-ACK retransmitted)
        case synAckAgain
        /// handshake 2/3, the SYN not captured
        case synAckNoSyn
        /// handshake 3/3 (the ACK)
        case handshakeAck
        /// RST answering a SYN
        case refused
        /// RST of an open connection
        case abort
        /// teardown 1/4: the first FIN
        case firstFin
        /// teardown 2/4: the ACK of the first FIN
        case ackFirstFin
        /// teardown 2+3/4: the ACK of the first FIN with the second FIN
        case finAck
        /// teardown 3/4: the second FIN
        case secondFin
        /// teardown 4/4: the ACK of the last FIN
        case ackLastFin
        /// simultaneous close: a FIN after the peer's unacknowledged FIN
        case simultaneousFin
        /// simultaneous close: the ACK of a FIN
        case simultaneousAck
    }

    public var kind: Kind
    /// The life-cycle step of a handshake, teardown or reset note (`.none` for other notes).
    /// Not part of `==` (it restates `text`). (Beside `kind`, in its padding.)
    public var step: Step = .none
    /// Whether the segment came from the client (nil: not recorded). Not part of `==`.
    public var byClient: Bool?
    /// The annotation in words. Message notes (`framed`) build it on demand (formatters write
    /// them straight from `framed`, without building strings).
    public var text: String {
        get { if let f = framed, storedText.isEmpty { return prefix + MessageNotes.text(f) } else { return storedText } }
        set { storedText = newValue }
    }
    var storedText: String
    /// The words come from `framed` (write them with `MessageNotes.write`).
    public var wordsFromFramed: Bool { framed != nil && storedText.isEmpty }
    /// Words before a message note's text ("delivered from held segments: ").
    public var prefix: String {
        get { framed?.prefix ?? "" }
        set {
            guard framed != nil else { return }
            // A note is a value: another note sharing the detail keeps its words.
            if !isKnownUniquelyReferenced(&framed) { framed = framed?.copy() }
            framed?.prefix = newValue
        }
    }
    /// The frame this note refers to (for a duplicate: the first copy; for a duplicate ACK: the
    /// ACK it repeats).
    public var relatedFrame: Int?
    /// The Wireshark expert field this note corresponds to (`tcp.analysis.retransmission` …), on
    /// TCP analysis notes, also where our kind differs (`syn_retransmission`, `duplicate_frame`).
    public var wireshark: StaticString?
    /// Endpoint states after this segment, as an observer infers them (TCP notes).
    public var states: (client: TCPState, server: TCPState)?
    /// A number the note's words carry, typed (dns_truncated: the UDP size limit; lost_segment:
    /// the bytes missing; duplicate_ack: its count; dns_tcp_answer: the answer's length). Not part
    /// of `==`. (Kept as 32 bits, 0 for none, in the padding after `states`: the note stays
    /// 72 bytes.)
    public var amount: Int? {
        get { storedAmount == 0 ? nil : Int(storedAmount) }
        set { storedAmount = newValue.map { Int32(clamping: $0) } ?? 0 }
    }
    var storedAmount: Int32 = 0
    /// Handshake round-trip time in nanoseconds (on `handshake 3/3`).
    public var rttNanoseconds: Int?
    /// `reassembled`: the frames of the datagram's fragments, in arrival order.
    public var fragmentFrames: [Int]?
    /// Message framing details (message / sticky / split notes).
    public var framed: FramedDetail?
    /// `framed`, unretained, for formatters that read it only while the note is held (no reference
    /// counting per note): valid as long as the note (or its array) is. Keep `framed` otherwise.
    /// (Public, not `package`: a `package` getter is called on a copy of the note.)
    public var framedRef: Unmanaged<FramedDetail>? {
        guard let f = framed else { return nil }
        return Unmanaged.passUnretained(f)
    }

    public init(kind: Kind, text: String, relatedFrame: Int? = nil,
                states: (client: TCPState, server: TCPState)? = nil, rttNanoseconds: Int? = nil,
                step: Step = .none, byClient: Bool? = nil) {
        self.kind = kind
        self.step = step
        self.byClient = byClient
        self.storedText = text
        self.relatedFrame = relatedFrame
        self.states = states
        self.rttNanoseconds = rttNanoseconds
    }

    /// A message note whose words come from `framed`.
    public init(kind: Kind, framed: FramedDetail) {
        self.kind = kind
        self.storedText = ""
        self.framed = framed
    }

    public static func == (a: Note, b: Note) -> Bool {
        a.kind == b.kind && a.text == b.text && a.relatedFrame == b.relatedFrame
            && a.states?.client == b.states?.client && a.states?.server == b.states?.server
            && a.rttNanoseconds == b.rttNanoseconds && a.framed == b.framed
            && a.wireshark?.description == b.wireshark?.description
    }
}

/// The messages one segment carries, for the notes `message`, `sticky` and `split`. A reference
/// (one word in the note), so that notes stay small to copy.
public final class FramedDetail: @unchecked Sendable, Equatable {
    // Stored internally, read from other modules through the getters below: a direct access from
    // another module is checked for exclusivity at run time (`@exclusivity(unchecked)` does not
    // reach it), which cost a runtime call per access per framed packet.
    @exclusivity(unchecked) var storedSpans: [MessageSpan]
    @exclusivity(unchecked) var storedClientToServer: Bool
    @exclusivity(unchecked) var storedFraming: String
    @exclusivity(unchecked) var storedHasDNS = false
    @exclusivity(unchecked) var storedPrefix = ""
    /// `StreamConn.nameID` of the framing name stored (0: none).
    @exclusivity(unchecked) var framingID = 0

    /// The pieces, in stream order.
    public var spans: [MessageSpan] { storedSpans }
    /// `c2s` or `s2c` stream.
    public var clientToServer: Bool { storedClientToServer }
    /// The framing that found them (`lp:4:be`, `line` …).
    public var framing: String { storedFraming }
    /// Some span carries a DNS decode (dns-tcp), so formatters look for one.
    public var hasDNS: Bool { storedHasDNS }
    /// Words before the note's text ("delivered from held segments: ").
    public var prefix: String {
        get { storedPrefix }
        set { storedPrefix = newValue }
    }
    public var hasPrefix: Bool { !storedPrefix.isEmpty }

    /// Calls `body` with the spans in place (no copy of the array or of its spans).
    public func withSpans(_ body: (UnsafeBufferPointer<MessageSpan>) -> Void) {
        storedSpans.withUnsafeBufferPointer(body)
    }

    public static func == (a: FramedDetail, b: FramedDetail) -> Bool {
        a.storedSpans == b.storedSpans && a.storedClientToServer == b.storedClientToServer
            && a.storedFraming == b.storedFraming && a.storedPrefix == b.storedPrefix
    }

    public init(spans: [MessageSpan], clientToServer: Bool, framing: String) {
        storedSpans = spans
        storedClientToServer = clientToServer
        storedFraming = framing
        storedHasDNS = spans.contains { $0.extras?.dns != nil }
    }

    /// A detail of its own with the same contents (see `Note.prefix`, `MessageNotes.resolve`).
    func copy() -> FramedDetail {
        let d = FramedDetail(spans: storedSpans, clientToServer: storedClientToServer, framing: storedFraming)
        d.storedPrefix = storedPrefix
        d.framingID = framingID
        return d
    }

    /// True while some span waits for its message's total part count or length.
    public var isPending: Bool { storedSpans.contains { $0.pendingID != nil } }
}

/// One message's bytes inside one segment. Plain numbers plus one optional reference for the
/// rare extras (segment list, lpjson header, DNS decode), so spans copy without reference counting
/// of several fields.
public struct MessageSpan: Sendable, Equatable {
    /// Message number in its direction, from 1.
    public var message: Int
    /// Byte range of the message carried here: `from ..< to`.
    public var from: Int
    public var to: Int
    /// The message's full length, when known.
    public var length: Int?
    /// Which part of the message this is (1-based), and of how many when known.
    public var part: Int
    public var parts: Int?
    /// The message ends in this segment.
    public var completes: Bool
    /// Set while `parts` (or `length`) is not known yet: the message's id for `resolve`.
    public var pendingID: Int?
    /// Segment list, lpjson header, DNS decode (nil when the span has none of them).
    @usableFromInline var extras: SpanExtras?

    /// On the last part of a split message: the frames that carried it.
    public var frames: [Int] { extras?.frames ?? [] }
    /// The lpjson header of the message (on the span that completes it).
    public var jsonHeader: String? { extras?.jsonHeader }
    /// The DNS decode of a dns-tcp message (on the span that completes it).
    public var dns: DNSMessage? { extras?.dns }

    public init(message: Int, from: Int, to: Int, length: Int?, part: Int, parts: Int?, completes: Bool,
                frames: [Int] = [], jsonHeader: String? = nil, dns: DNSMessage? = nil, pendingID: Int? = nil) {
        let plain = frames.isEmpty && jsonHeader == nil && dns == nil
        self.init(message: message, from: from, to: to, length: length, part: part, parts: parts, completes: completes,
                  pendingID: pendingID, extras: plain ? nil : SpanExtras(frames: frames, jsonHeader: jsonHeader, dns: dns))
    }

    /// The analyzer's own: numbers and an already built extras reference (no defaulted array or
    /// DNS optional to build and destroy per span).
    init(message: Int, from: Int, to: Int, length: Int?, part: Int, parts: Int?, completes: Bool,
         pendingID: Int?, extras: SpanExtras?) {
        self.message = message
        self.from = from
        self.to = to
        self.length = length
        self.part = part
        self.parts = parts
        self.completes = completes
        self.pendingID = pendingID
        self.extras = extras
    }

    public var isWhole: Bool { part == 1 && completes }
}

/// What few spans carry besides numbers.
@usableFromInline final class SpanExtras: Sendable, Equatable {
    @usableFromInline let frames: [Int]
    let jsonHeader: String?
    /// The framer's box, shared (the decode is not copied again).
    let dnsBox: DNSBox?
    var dns: DNSMessage? { dnsBox?.message }
    init(frames: [Int], jsonHeader: String?, dnsBox: DNSBox?) {
        self.frames = frames
        self.jsonHeader = jsonHeader
        self.dnsBox = dnsBox
    }
    convenience init(frames: [Int], jsonHeader: String?, dns: DNSMessage?) {
        self.init(frames: frames, jsonHeader: jsonHeader, dnsBox: dns.map(DNSBox.init))
    }
    @usableFromInline static func == (a: SpanExtras, b: SpanExtras) -> Bool {
        a.frames == b.frames && a.jsonHeader == b.jsonHeader && a.dns == b.dns
    }
}

/// RFC 793 connection states of one endpoint, as an observer of the wire infers them.
public enum TCPState: String, Sendable, CaseIterable {
    case closed = "CLOSED"
    case listen = "LISTEN"
    case synSent = "SYN_SENT"
    case synReceived = "SYN_RCVD"
    case established = "ESTABLISHED"
    case finWait1 = "FIN_WAIT_1"
    case finWait2 = "FIN_WAIT_2"
    case closeWait = "CLOSE_WAIT"
    case closing = "CLOSING"
    case lastAck = "LAST_ACK"
    case timeWait = "TIME_WAIT"
    /// Mid-stream start: the state before the capture is not known.
    case unknown = "UNKNOWN"
}
