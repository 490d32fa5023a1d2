import NetWire

/// The per-packet analysis every consumer runs (the command line, `ladder`, the demos' `--inspect`,
/// the fuzzer): a duplicate frame of a double capture is marked and not shown to the flow tracker
/// (so it is not a retransmission) but keeps its original's flow and relative numbers; every other
/// packet goes through the flow tracker.
public struct PacketAnalyzer {
    public var duplicates = DuplicateFrameDetector()
    public var flows: FlowTracker

    public init(flows: FlowTracker = FlowTracker()) {
        self.flows = flows
    }

    /// Clears `notes`, then fills them for this packet; returns its flow, if it has one.
    public mutating func analyze(_ p: Packet, frame: Int, seconds: Int, nanoseconds: Int,
                                 bytes: UnsafeRawBufferPointer, wireLength: Int, notes: inout [Note]) -> FlowObservation? {
        if !notes.isEmpty { notes.removeAll(keepingCapacity: true) }
        if let first = duplicates.check(frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: bytes, wireLength: wireLength) {
            notes.append(Note(kind: .duplicateFrame, text: "duplicate frame of #\(first)", relatedFrame: first))
            return flows.lookup(p)
        }
        return flows.observe(p, frame: frame, seconds: seconds, nanoseconds: nanoseconds, notes: &notes)
    }
}
