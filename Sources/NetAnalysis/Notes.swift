/// An analysis annotation on one packet. Formatters print `text` as a suffix on the line and the
/// whole note in JSON `notes`.
public struct Note: Sendable, Equatable {
    public enum Kind: String, Sendable {
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
        case dataBeforeHandshake = "data_before_handshake"
        case synFlood = "syn_flood"
    }

    public var kind: Kind
    public var text: String
    /// The frame this note refers to (for a duplicate: the first copy).
    public var relatedFrame: Int?
    /// Endpoint states after this segment, as an observer infers them (TCP notes).
    public var states: (client: TCPState, server: TCPState)?
    /// Handshake round-trip time in nanoseconds (on `handshake 3/3`).
    public var rttNanoseconds: Int?

    public init(kind: Kind, text: String, relatedFrame: Int? = nil,
                states: (client: TCPState, server: TCPState)? = nil, rttNanoseconds: Int? = nil) {
        self.kind = kind
        self.text = text
        self.relatedFrame = relatedFrame
        self.states = states
        self.rttNanoseconds = rttNanoseconds
    }

    public static func == (a: Note, b: Note) -> Bool {
        a.kind == b.kind && a.text == b.text && a.relatedFrame == b.relatedFrame
            && a.states?.client == b.states?.client && a.states?.server == b.states?.server
            && a.rttNanoseconds == b.rttNanoseconds
    }
}

/// RFC 793 connection states of one endpoint, as an observer of the wire infers them.
public enum TCPState: String, Sendable {
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
