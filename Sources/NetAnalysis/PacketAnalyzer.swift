import NetWire

/// The per-packet analysis every consumer runs (the command line, `ladder`, the demos' `--inspect`,
/// the fuzzer): a duplicate frame of a double capture is marked and not shown to the flow tracker
/// (so it is not a retransmission) but keeps its original's flow and relative numbers; every other
/// packet goes through the flow tracker.
public struct PacketAnalyzer {
    public var duplicates = DuplicateFrameDetector()
    public var flows: FlowTracker
    /// Reassembly and message framing (nil: off).
    public let streams: StreamAnalyzer?
    /// `streams` unretained (held by `streams`): the per-packet calls need no reference counting.
    private let streamsRef: Unmanaged<StreamAnalyzer>?

    /// `streams`: reassembly and framing; conversations leaving the flow table get its counters
    /// before they reach the tracker's `finished`.
    public init(flows: FlowTracker = FlowTracker(), streams: StreamAnalyzer? = nil) {
        var flows = flows
        if let streams {
            let downstream = flows.finished
            flows.finished = { summary in
                var s = summary
                streams.finish(&s)
                downstream(s)
            }
        }
        self.flows = flows
        self.streams = streams
        streamsRef = streams.map { Unmanaged.passUnretained($0) }
    }

    /// Clears `notes`, then fills them for this packet; returns its flow, if it has one.
    public mutating func analyze(_ p: Packet, frame: Int, seconds: Int, nanoseconds: Int,
                                 bytes: UnsafeRawBufferPointer, wireLength: Int, notes: inout [Note]) -> FlowObservation? {
        if !notes.isEmpty { notes.removeAll(keepingCapacity: true) }
        if let first = duplicates.check(frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: bytes, wireLength: wireLength) {
            notes.append(Note(kind: .duplicateFrame, text: "duplicate frame of #\(first)", relatedFrame: first))
            return flows.lookup(p)
        }
        let obs = flows.observe(p, frame: frame, seconds: seconds, nanoseconds: nanoseconds, notes: &notes)
        // Every TCP segment of a tracked conversation; the stream analyzer returns at once for one
        // it does not frame.
        if let ref = streamsRef, let obs, let t = p.tcp, t.isComplete {
            ref._withUnsafeGuaranteedRef { streams in
                let start = p.payloadStart, end = p.payloadEnd
                let payload = start >= 0 && start <= end && end <= bytes.count
                    ? UnsafeRawBufferPointer(rebasing: bytes[start ..< end]) : UnsafeRawBufferPointer(rebasing: bytes[0 ..< 0])
                streams.segment(flowID: obs.flowID, slot: obs.slot, clientToServer: obs.direction == .clientToServer, tcp: t,
                                payload: payload, frame: frame, notes: &notes)
            }
        }
        return obs
    }
}
