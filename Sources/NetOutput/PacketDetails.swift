import NetAnalysis
import NetWire

/// Everything printed under a packet's one-line summary: the `-v` layered view, the `-x`/`-X`
/// hex dump, and `--hex-payload`. Built once per run; `nil` in the runner when none is asked for,
/// so the default output pays nothing for it.
public struct PacketDetails {
    /// `-v` (and `-vv`): the layered view.
    public var layered: LayeredView?
    /// `-x`/`-X` (`-xx`/`-XX` for the whole frame): the packet's bytes.
    public var hex: (extent: HexDump.Extent, ascii: Bool)?
    /// `--hex-payload`: the application payload's bytes (inside the layered view when there is
    /// one: its option follows this one).
    public var hexPayload = false {
        didSet { layered?.options.hexPayload = hexPayload }
    }

    public init(layered: LayeredView? = nil, hex: (extent: HexDump.Extent, ascii: Bool)? = nil, hexPayload: Bool = false) {
        var layered = layered
        layered?.options.hexPayload = hexPayload
        self.layered = layered
        self.hex = hex
        self.hexPayload = hexPayload
    }

    /// True when there is anything to print under a line.
    public var isEmpty: Bool { layered == nil && hex == nil && !hexPayload }

    /// Appends the lines under one packet's summary line. `windowShift`: the window scale of a TCP
    /// segment's connection (`FlowTracker.windowShift(of:)`), for the `-v` view.
    public func format(frame: Int, packet p: Packet, bytes: UnsafeRawBufferPointer, notes: [Note],
                       flow: FlowObservation?, windowShift: UInt8? = nil, marks: PendingMarks? = nil,
                       into out: inout OutputBuffer) {
        if let layered {
            layered.format(frame: frame, packet: p, bytes: bytes, notes: notes, flow: flow, windowShift: windowShift,
                           marks: marks, into: &out)
        } else if hexPayload {
            let payload = Self.payload(p, bytes)
            if payload.count > 0 { HexDump.lines(payload, ascii: true, into: &out) }
        }
        if let hex {
            HexDump.frame(bytes, packet: p, extent: hex.extent, ascii: hex.ascii, into: &out)
        }
    }

    /// The captured part of the packet's application payload (TCP/UDP data), clamped to `bytes`.
    static func payload(_ p: Packet, _ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard p.tcp != nil || p.udp != nil else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let stop = min(max(p.payloadEnd, 0), bytes.count)
        let start = min(max(p.payloadStart, 0), stop)
        return UnsafeRawBufferPointer(rebasing: bytes[start ..< stop])
    }
}
