import NetAnalysis
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--color`: when terminal colors are written.
public enum ColorChoice: String, Sendable, CaseIterable {
    /// When standard output is a terminal, `NO_COLOR` is unset (or empty) and `TERM` is not `dumb`.
    case auto
    case always
    case never

    /// Whether output to `fd` gets colors.
    public func isEnabled(fd: Int32 = 1) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            guard isatty(fd) != 0 else { return false }
            if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
            if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
            return true
        }
    }
}

/// The ANSI (SGR) sequences of `--color`. Formatters write them only when their options say color
/// is on: plain output carries no escape codes and pays one Bool test per colored element.
///
/// What is colored, and how: addresses cyan; TCP flags by what they do (SYN green, FIN blue, RST
/// red, others bold); annotations by kind (handshake green, teardown blue, reset and anomalies
/// red, sticky/split yellow); decode errors red; layer names in the `-v` view bold.
public enum Style {
    public static let reset: StaticString = "\u{1B}[0m"
    public static let bold: StaticString = "\u{1B}[1m"
    public static let dim: StaticString = "\u{1B}[2m"
    public static let red: StaticString = "\u{1B}[31m"
    public static let green: StaticString = "\u{1B}[32m"
    public static let yellow: StaticString = "\u{1B}[33m"
    public static let blue: StaticString = "\u{1B}[34m"
    public static let magenta: StaticString = "\u{1B}[35m"
    public static let cyan: StaticString = "\u{1B}[36m"

    public static let address = cyan
    public static let error = red
    public static let layer = bold

    /// The color of a TCP segment's flags: what the segment does to the connection.
    @inline(__always)
    public static func tcpFlags(_ f: TCPFlags) -> StaticString {
        if f.contains(.rst) { return red }
        if f.contains(.syn) { return green }
        if f.contains(.fin) { return blue }
        return bold
    }

    /// The color of an annotation, by its kind's name (so kinds added later get a color too):
    /// handshake green, teardown blue, reset and anomalies red, sticky/split yellow, the rest
    /// (mid-stream start, message boundaries, kinds not known here) uncolored (`nil`).
    /// The colour of an annotation (a switch on the kind: no string comparisons per note, and a
    /// new kind must be placed here).
    public static func note(_ kind: Note.Kind) -> StaticString? {
        switch kind {
        case .handshake, .serverAccepted:
            return green
        case .teardown, .halfClose:
            return blue
        case .sticky, .split:
            return yellow
        case .reset, .retransmission, .outOfOrder, .lostSegment, .duplicateAck, .zeroWindow, .windowFull, .keepAlive,
             .synRetransmission, .dataBeforeHandshake, .afterClose, .synFlood, .duplicateFrame, .framingLost,
             .overlapDiffers, .streamGap, .fragmentOverlap, .ackNotAccepted, .fastRetransmission,
             .spuriousRetransmission, .ackedUnseen, .zeroWindowProbe, .reusedPorts, .dnsTruncated:
            return red
        case .midstream, .message, .recv, .reassembled, .tso, .keepAliveAck, .zeroWindowProbeAck, .windowUpdate,
             .dnsTCPRetry, .dnsTCPAnswer:
            return nil
        }
    }

    /// `note(_:)` by the kind's JSON name (nil for an unknown name).
    public static func note(named kind: String) -> StaticString? {
        Note.Kind(rawValue: kind).flatMap { note($0) }
    }
}
