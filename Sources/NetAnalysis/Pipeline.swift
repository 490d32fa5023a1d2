import NetWire

/// How frames are decoded and analysed: built once (by the command line, a demo, a test) and the
/// same for every view, so that text, JSON, `-v`, the ladder, `follow`, `stats`, `--flows` and a
/// demo's `--inspect` see the same notes, flows and messages.
public struct AnalysisConfiguration: Sendable {
    /// Verify IPv4, TCP, UDP and ICMP checksums (JSON and `-v` show them; the text line does not).
    public var verifyChecksums = true
    /// Decode DNS on port 53 and `dnsPorts`.
    public var decodeDNS = true
    public var dnsPorts: [UInt16] = []
    /// Decode tunnels and shims; take an IPv4 total length of 0 as segmentation offload.
    public var decodeTunnels = true
    public var tsoSupport = true
    /// Reassemble IP fragments (the completing fragment carries the datagram's upper layers).
    public var reassembleFragments = true
    /// Flow table size and idle timeout.
    public var maxFlows = 32_768
    public var idleTimeoutSeconds = 300
    /// Message framing over reassembled TCP streams (nil: no stream analysis at all).
    public var framing: FramingPolicy? = FramingPolicy()
    /// `--recv-size N`: how a receiver's recv(N) loop would have cut each stream.
    public var recvSize: Int?

    public init() {}

    /// The decoder these options describe.
    public var decoder: PacketDecoder {
        PacketDecoder(verifyChecksums: verifyChecksums, decodeDNS: decodeDNS, extraDNSPorts: dnsPorts.filter { $0 != 53 },
                      decodeTunnels: decodeTunnels, tsoSupport: tsoSupport)
    }

    /// A stream analyser for the framing (nil without framing).
    public func makeStreams() -> StreamAnalyzer? {
        guard let policy = framing else { return nil }
        let s = StreamAnalyzer(policy: policy)
        s.recvSize = recvSize
        return s
    }
}

/// Where a frame came from: its number, time and bytes (valid only during the call that gets it).
public struct FrameInfo {
    public var frame: Int
    public var seconds: Int
    public var nanoseconds: Int
    public var bytes: UnsafeRawBufferPointer
    public var wireLength: Int

    public init(frame: Int, seconds: Int, nanoseconds: Int, bytes: UnsafeRawBufferPointer, wireLength: Int) {
        self.frame = frame
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.bytes = bytes
        self.wireLength = wireLength
    }

    /// Nanoseconds since the epoch (saturating).
    public var time: Int {
        let (s, o) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return o ? (seconds < 0 ? Int.min : Int.max) : s &+ nanoseconds
    }
}

/// A view of the analysed pipeline: gets every frame after decoding and analysis, borrowed for the
/// call (copy what must outlive it). Printing, ladder, follow, statistics and demos are sinks.
public protocol FrameSink {
    /// The sink wants the window scale of each TCP segment (the `-v` view); looked up only then.
    var needsWindowShift: Bool { get }
    /// One decoded and analysed frame: `packet` with its inner packets, the analysis `notes`, the
    /// conversation it belongs to (`flow`), the window scale that applies to its segment.
    mutating func consume(_ info: FrameInfo, packet: Packet, notes: [Note], flow: FlowObservation?, windowShift: UInt8?)
}

/// The one decode → analyse step: a reused packet and note list, the decoder and the analyser of
/// one `AnalysisConfiguration`. Feed it frames in capture order; it hands each to a sink.
public struct FramePipeline {
    public let configuration: AnalysisConfiguration
    public let decoder: PacketDecoder
    public var analyzer: PacketAnalyzer
    public var packet = Packet()
    public var notes: [Note] = []

    /// `streams`: a stream analyser to use instead of the configuration's (one a view set up to
    /// follow a flow or record resolutions); `finished`: conversations as they leave the flow table.
    public init(_ configuration: AnalysisConfiguration, streams: StreamAnalyzer? = nil,
                finished: @escaping (FlowSummary) -> Void = { _ in }) {
        self.configuration = configuration
        decoder = configuration.decoder
        let flows = FlowTracker(maxFlows: configuration.maxFlows, idleTimeoutSeconds: configuration.idleTimeoutSeconds,
                                finished: finished)
        analyzer = PacketAnalyzer(flows: flows, streams: streams ?? configuration.makeStreams(), decoder: decoder)
        analyzer.reassembleFragments = configuration.reassembleFragments
    }

    /// Decodes and analyses one frame, then hands it to `sink`; returns its flow.
    /// (Inlinable: specialised for the sink and inlined into the caller's loop, where the packet is
    /// read in place instead of copied for each call.)
    @discardableResult @inlinable @inline(__always)
    public mutating func process<S: FrameSink>(_ info: FrameInfo, linkType: LinkType, into sink: inout S) -> FlowObservation? {
        let flow = analyze(info, linkType: linkType)
        let shift = sink.needsWindowShift ? analyzer.windowShift(of: packet) : nil
        sink.consume(info, packet: packet, notes: notes, flow: flow, windowShift: shift)
        return flow
    }

    /// Decodes and analyses one frame into `packet` and `notes`; returns its flow.
    @inlinable @inline(__always)
    public mutating func analyze(_ info: FrameInfo, linkType: LinkType) -> FlowObservation? {
        decoder.decode(info.bytes, wireLength: info.wireLength, linkType: linkType, into: &packet)
        if packet.needsNesting {
            return analyzer.analyze(&packet, frame: info.frame, seconds: info.seconds, nanoseconds: info.nanoseconds,
                                    bytes: info.bytes, wireLength: info.wireLength, notes: &notes)
        }
        return analyzer.analyzePlain(packet, frame: info.frame, seconds: info.seconds, nanoseconds: info.nanoseconds,
                                     bytes: info.bytes, wireLength: info.wireLength, notes: &notes)
    }

    /// The end of the capture: every conversation still open leaves the table (to `finished`).
    public mutating func finish() {
        analyzer.flows.finishAll()
    }

    /// The packet of this frame's conversation: the innermost one with an IP layer (inside a
    /// tunnel, or a reassembled datagram), else the frame's own. Calls `body` with it and its bytes.
    public static func withConversation<R>(_ p: Packet, _ bytes: UnsafeRawBufferPointer,
                                           _ body: (Packet, UnsafeRawBufferPointer) -> R) -> R {
        guard let box = p.conversationBox else { return body(p, bytes) }
        if box.ownsBytes { return box.bytes.withUnsafeBytes { body(box.packet, $0) } }
        return body(box.packet, bytes)
    }
}
