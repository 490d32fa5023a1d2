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
    /// IP fragment reassembly (on unless `reassembleFragments` is false).
    public var fragments = FragmentReassembler()
    public var reassembleFragments = true
    /// Truncated DNS answers over UDP and their retries over TCP.
    public var dnsTruncation = DNSTruncationTracker()
    /// Decodes reassembled datagrams (the same options as the frames' decoder).
    public var decoder: PacketDecoder

    public init(flows: FlowTracker = FlowTracker(), streams: StreamAnalyzer? = nil, decoder: PacketDecoder = PacketDecoder()) {
        self.decoder = decoder
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

    /// Clears `notes`, then fills them for this packet; returns its flow, if it has one. A fragment
    /// goes to IP reassembly first: the one that completes a datagram gets the datagram's upper
    /// layers as its inner packet (`.reassembled`). Flows and framing see the conversation packet:
    /// the innermost one with an IP layer (inside tunnels, or the reassembled datagram); a fragment
    /// that completes nothing is not shown to them.
    public mutating func analyze(_ p: inout Packet, frame: Int, seconds: Int, nanoseconds: Int,
                                 bytes: UnsafeRawBufferPointer, wireLength: Int, notes: inout [Note]) -> FlowObservation? {
        if !notes.isEmpty { notes.removeAll(keepingCapacity: true) }
        let doubled = Self.mayBeDoubleCaptured(p)
        if p.fragment != nil || p.hasInner {
            return analyzeNested(&p, frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: bytes,
                                 wireLength: wireLength, notes: &notes, doubled: doubled)
        }
        return analyzeConversation(p, frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: bytes,
                                   frameBytes: bytes, wireLength: wireLength, notes: &notes, mayBeDoubled: doubled)
    }

    /// `analyze` for a packet that is neither a fragment nor carries an inner packet (`needsNesting`
    /// is false): nothing to change in it, so it is only read (not copied on the way).
    public mutating func analyzePlain(_ p: borrowing Packet, frame: Int, seconds: Int, nanoseconds: Int,
                                      bytes: UnsafeRawBufferPointer, wireLength: Int, notes: inout [Note]) -> FlowObservation? {
        if !notes.isEmpty { notes.removeAll(keepingCapacity: true) }
        let doubled = Self.mayBeDoubleCaptured(p)
        return analyzeConversation(p, frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: bytes,
                                   frameBytes: bytes, wireLength: wireLength, notes: &notes, mayBeDoubled: doubled)
    }

    /// Fragments and tunnels: reassembly, then the conversation packet.
    private mutating func analyzeNested(_ p: inout Packet, frame: Int, seconds: Int, nanoseconds: Int,
                                        bytes: UnsafeRawBufferPointer, wireLength: Int, notes: inout [Note],
                                        doubled: Bool) -> FlowObservation? {
        let (secs, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let now = overflow ? Int.max : secs &+ nanoseconds
        if reassembleFragments {
            if p.fragment != nil {
                reassemble(&p, bytes, frame: frame, now: now, notes: &notes)
            }
            // A fragment inside a tunnel (its bytes are the frame's, or a reassembled datagram's).
            if let box = p.conversationBox, box.packet.fragment != nil {
                if box.ownsBytes {
                    let held = box.bytes
                    held.withUnsafeBytes { reassemble(&box.packet, $0, frame: frame, now: now, notes: &notes) }
                } else {
                    reassemble(&box.packet, bytes, frame: frame, now: now, notes: &notes)
                }
            }
        }
        guard let box = p.conversationBox else {
            if p.fragment != nil { return nil }
            return analyzeConversation(p, frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: bytes,
                                       frameBytes: bytes, wireLength: wireLength, notes: &notes, mayBeDoubled: doubled)
        }
        if box.packet.fragment != nil && box.packet.inner?.encapsulation != .reassembled { return nil }
        let tunnel = FlowTunnel.of(p)
        if box.ownsBytes {
            return box.bytes.withUnsafeBytes {
                analyzeConversation(box.packet, frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: $0,
                                    frameBytes: bytes, wireLength: wireLength, notes: &notes, tunnel: tunnel, mayBeDoubled: doubled)
            }
        }
        return analyzeConversation(box.packet, frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: bytes,
                                   frameBytes: bytes, wireLength: wireLength, notes: &notes, tunnel: tunnel, mayBeDoubled: doubled)
    }

    /// One fragment into the reassembler; on completion the datagram is decoded into `p`'s inner packet.
    private mutating func reassemble(_ p: inout Packet, _ bytes: UnsafeRawBufferPointer, frame: Int, now: Int, notes: inout [Note]) {
        guard let f = p.fragment else { return }
        let source: IPv6Address, destination: IPv6Address
        if let ip = p.ipv6 {
            source = ip.source; destination = ip.destination
        } else if let ip = p.ipv4 {
            source = IPv6Address(mapping: ip.source); destination = IPv6Address(mapping: ip.destination)
        } else {
            return
        }
        let lo = f.dataStart, hi = f.dataStart &+ f.capturedLength
        guard lo >= 0, lo <= hi, hi <= bytes.count else { return }
        let data = UnsafeRawBufferPointer(rebasing: bytes[lo ..< hi])
        let outcome = fragments.add(f, source: source, destination: destination, data: data, frame: frame, now: now)
        if fragments.lastOverlapped {
            notes.append(Note(kind: .fragmentOverlap, text: "overlapping IP fragment (first copy kept)"))
        }
        guard outcome == .completed else { return }
        decoder.decodeReassembled(fragments.completed, into: &p)
        var text = "reassembled \(fragments.completedFrames.count) IP fragments ("
        text += "\(fragments.completed.count) B):"
        for (i, fr) in fragments.completedFrames.enumerated() {
            let size = i < fragments.completedSizes.count ? fragments.completedSizes[i] : 0
            text += " #\(fr)(\(size))"
        }
        if fragments.completedOverlap { text += ", overlapping" }
        var note = Note(kind: .reassembled, text: text, relatedFrame: fragments.completedFrames.first)
        note.fragmentFrames = fragments.completedFrames
        notes.append(note)
    }

    /// Duplicate check, flow tracking and framing of the conversation packet `p` (its payload in `bytes`).
    private mutating func analyzeConversation(_ p: Packet, frame: Int, seconds: Int, nanoseconds: Int,
                                              bytes: UnsafeRawBufferPointer, frameBytes: UnsafeRawBufferPointer,
                                              wireLength: Int, notes: inout [Note], tunnel: FlowTunnel? = nil,
                                              mayBeDoubled: Bool) -> FlowObservation? {
        if mayBeDoubled, let first = duplicates.check(frame: frame, seconds: seconds, nanoseconds: nanoseconds, bytes: frameBytes, wireLength: wireLength) {
            var n = Note(kind: .duplicateFrame, text: "duplicate frame of #\(first)", relatedFrame: first)
            // What Wireshark, which keeps both copies, calls the second one.
            n.wireshark = flows.analysisName(of: p, frame: frame, seconds: seconds, nanoseconds: nanoseconds)
            notes.append(n)
            return flows.lookup(p)
        }
        let obs = flows.observe(p, frame: frame, seconds: seconds, nanoseconds: nanoseconds, notes: &notes, tunnel: tunnel)
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
            if dnsTruncation.waiting { dnsTruncation.tcp(packet: p, notes: &notes) }
        } else if p.udp != nil, let m = p.dns {
            // (Queries that may carry EDNS, and answers: a query's wait ends with its answer.)
            if m.flags & 0x8000 == 0 ? m.additionalCount > 0 : !dnsTruncation.advertisedIsEmpty || m.flags & 0x0200 != 0 {
                dnsTruncation.udp(m, packet: p, frame: frame, notes: &notes)
            }
        }
        return obs
    }

    /// Whether a frame may be the second copy of a double capture, which only happens where one
    /// host sees its own packets twice: loopback (an Ethernet header with zero addresses, null/loop),
    /// cooked captures (`-i any`, which sees loopback packets going out and coming in) and raw IP.
    /// Frames from a real Ethernet link are left to the TCP analysis (Wireshark has no duplicate
    /// check either); this also spares them the copy into the detector's ring.
    @inline(__always)
    static func mayBeDoubleCaptured(_ p: borrowing Packet) -> Bool {
        guard p.linkType == .ethernet else { return true }
        guard let e = p.ethernet else { return false }
        return e.source.raw == 0 && e.destination.raw == 0
    }

    /// The window scale shift that applies to this frame's (conversation packet's) TCP segment.
    public func windowShift(of p: Packet) -> UInt8? {
        if let box = p.conversationBox { return flows.windowShift(of: box.packet) }
        return flows.windowShift(of: p)
    }
}

extension Packet {
    /// A fragment, or a frame carrying an inner packet: analysis may change it (reassembly) and
    /// looks inside it for the conversation.
    @inlinable public var needsNesting: Bool { hasInner || (hasEncapsulation && fragment != nil) }

    /// The packet whose conversation this frame belongs to when that is not the frame's own: the
    /// innermost one with an IP layer (a tunnel's payload, a reassembled datagram); nil otherwise.
    public var conversationBox: InnerPacket? {
        guard hasInner else { return nil }
        var best: InnerPacket?
        var box = inner
        var depth = 0
        while let b = box, depth < PacketDecoder.maxEncapsulationDepth * 2 {
            if b.packet.ipv4 != nil || b.packet.ipv6 != nil { best = b }
            box = b.packet.inner
            depth += 1
        }
        return best
    }
}
