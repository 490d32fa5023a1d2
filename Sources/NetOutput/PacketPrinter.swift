import NetAnalysis
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The packet-printing sink of the pipeline: text lines (with `-v`/`-x` details under them) or JSON
/// Lines, into one output buffer written in large blocks (or per packet when line-buffered), and
/// the capture statistics. Reading a file, lines whose split-message notes wait for later segments
/// ("part 1/3") stay in the buffer until those messages complete (bounded); live, they go out at once.
public struct PacketPrinter: FrameSink {
    public var out: OutputBuffer
    public var text: TextFormatter
    public var json: JSONFormatter
    public let jsonMode: Bool
    /// What is printed under each packet line (-v, -x/-X, --hex-payload); nil by default.
    public let details: PacketDetails?
    /// Lines are printed (not only counted).
    public let showPackets: Bool
    public let lineBuffered: Bool
    /// JSON's `link` value and the capture's link type name.
    public let linkName: String
    public let pcapLinkName: String
    /// Statistics (`--stats`, `stats`): counted when `counting`.
    public let counting: Bool
    public var stats: CaptureStatistics
    /// The stream analyser whose message resolutions held lines wait for (nil: nothing is held).
    public let streams: StreamAnalyzer?
    public let marks: PendingMarks?
    /// `--explain`: a sentence per note under each annotated line (text only).
    public var explainer: Explainer?
    /// `-#`: the frame number first on each text line, as tcpdump prints it (`%5u  `).
    public var numbered = false
    private var nextCheck = 0

    /// Output held back for split-message part counts, at most (then written with what is known).
    public static let maxWaiting = 2 << 20
    /// Resolutions kept while no line waits for one (16 bytes each).
    public static let maxIdleResolutions = 1 << 16

    public init(out: OutputBuffer, text: TextFormatter, json: JSONFormatter, jsonMode: Bool, details: PacketDetails?,
                showPackets: Bool, lineBuffered: Bool, holdForMessages: Bool, streams: StreamAnalyzer?,
                linkName: String, pcapLinkName: String, counting: Bool) {
        self.out = out
        self.text = text
        self.json = json
        self.jsonMode = jsonMode
        self.details = details
        self.showPackets = showPackets
        self.lineBuffered = lineBuffered
        self.linkName = linkName
        self.pcapLinkName = pcapLinkName
        self.counting = counting
        stats = CaptureStatistics(tableCapacity: counting ? CaptureStatistics.defaultTableCapacity : 2)
        let hold = holdForMessages && showPackets && streams != nil
        self.streams = hold ? streams : nil
        streams?.recordResolutions = hold
        marks = hold ? PendingMarks() : nil
        self.text.pendingMarks = marks
        self.json.pendingMarks = marks
    }

    /// The output could not be written (a closed pipe): stop.
    public var failed: Bool { out.failed }

    public var needsWindowShift: Bool { details != nil && showPackets && !jsonMode }

    public mutating func consume(_ info: FrameInfo, packet: borrowing Packet, notes: [Note], flow: FlowObservation?, windowShift: UInt8?) {
        if counting { stats.add(packet, notes: notes, seconds: info.seconds, nanoseconds: info.nanoseconds) }
        guard showPackets else { return }
        if jsonMode {
            json.format(frame: info.frame, seconds: info.seconds, nanoseconds: info.nanoseconds,
                        packet: packet, notes: notes, flow: flow, link: linkName, into: &out)
        } else {
            if numbered { Self.frameNumber(info.frame, &out) }
            text.format(seconds: info.seconds, nanoseconds: info.nanoseconds, packet: packet,
                        notes: notes, flow: flow, linkName: pcapLinkName, into: &out)
            if let explainer {
                let tso = packet.lengthFromCapture || packet.innerLengthFromCapture
                if !notes.isEmpty || tso { explainer.write(notes, tso: tso, into: &out) }
            }
            // (With no details, optional chaining skips the arguments: no window lookup.)
            details?.format(frame: info.frame, packet: packet, bytes: info.bytes, notes: notes, flow: flow,
                            windowShift: windowShift, marks: marks, into: &out)
        }
        if let marks, let streams, !marks.isEmpty {
            if out.count >= nextCheck || lineBuffered && marks.headReady(streams.resolution) {
                // Write what no longer waits; check again when the buffer has doubled (but
                // by `maxWaiting` at the latest, where the oldest lines are forced out).
                writeResolved(force: out.count > Self.maxWaiting)
                nextCheck = min(max(out.count * 2, out.flushThreshold), Self.maxWaiting + 1)
            }
        } else if let streams, marks != nil, streams.resolutionCount > Self.maxIdleResolutions {
            // No line waits, yet resolutions pile up (`auto` candidates that are never shown
            // record them too): bounded here. (A message whose lines were forced out at
            // `maxWaiting` loses its late part count; nothing else refers to them.)
            streams.forgetResolutions(below: streams.nextID)
            if lineBuffered { out.flush() } else { out.flushIfNeeded() }
        } else if lineBuffered {
            out.flush()
        } else {
            out.flushIfNeeded()
        }
    }

    /// `    7  `: a frame number right-aligned in five columns, then two spaces (tcpdump -#).
    public static func frameNumber(_ n: Int, _ o: inout OutputBuffer) {
        var digits = 1
        var v = n.magnitude
        while v >= 10 { v /= 10; digits += 1 }
        var pad = 5 - digits - (n < 0 ? 1 : 0)
        while pad > 0 { o.byte(32); pad -= 1 }
        o.decimal(n)
        o.ascii("  ")
    }

    /// The end: every held line goes out, then the buffer.
    public mutating func finish() {
        if marks != nil { writeResolved(force: true) }
        out.flush()
    }

    /// Writes the formatted output up to the first mark whose message has not completed, filling in
    /// the part counts of the marks before it; `force`: the oldest marks go out unfilled until the
    /// buffer is below the bound. The rest stays in `out`.
    mutating func writeResolved(force: Bool) {
        guard let marks, let streams else { return }
        // (Under malloc's mmap threshold: no map and unmap per call.)
        var done = OutputBuffer(fd: out.fd, capacity: 1 << 16)
        var pos = 0
        var k = 0
        let list = marks.list
        let total = out.count
        out.withBytes { raw in
            while k < list.count {
                let m = list[k]
                let r = streams.resolution(m.id)
                if r == nil && !(force && total - pos > Self.maxWaiting / 2) { break }
                done.append(UnsafeRawBufferPointer(rebasing: raw[pos ..< m.offset]))
                done.flushIfNeeded()
                PendingMarks.insertion(m, parts: r.flatMap { $0.length == nil ? nil : $0.parts }, length: r?.length, into: &done)
                pos = m.offset
                k += 1
            }
            let upTo = k < list.count ? list[k].offset : total
            done.append(UnsafeRawBufferPointer(rebasing: raw[pos ..< upTo]))
            pos = upTo
        }
        done.flush()
        if done.failed {
            // The output is gone (a closed pipe): stop as when `out` itself fails to write; no
            // waiting line will be written, so no mark may point into `out` any more.
            out.abandon()
            marks.list.removeAll()
            streams.forgetResolutions(below: streams.nextID)
            return
        }
        out.removeFirst(pos)
        marks.list.removeFirst(k)
        var lowest = streams.nextID
        for i in marks.list.indices {
            marks.list[i].offset -= pos
            lowest = min(lowest, marks.list[i].id)
        }
        // Messages no waiting line refers to any more are forgotten.
        streams.forgetResolutions(below: lowest)
    }
}

/// `--flows` rows, formatted as conversations leave the flow table and kept in a temporary file
/// until the packet lines are done (memory stays bounded).
public final class FlowSpool {
    public let enabled: Bool
    public let json: Bool
    private var buffer = OutputBuffer(fd: -1, capacity: 1 << 16)
    private var file: UnsafeMutablePointer<FILE>?
    /// Set when the temporary file could not be made or written: rows were kept in memory instead.
    public private(set) var spillFailed = false

    /// `--explain`: a header line above the rows, a legend of what occurred in them below.
    public let explainer: Explainer?
    private var connStates = Set<String>()
    private var historyLetters = Set<Character>()

    public init(enabled: Bool, json: Bool, explainer: Explainer? = nil) {
        self.enabled = enabled
        self.json = json
        self.explainer = json ? nil : explainer
    }

    deinit { if let file { fclose(file) } }

    public func add(_ f: FlowSummary) {
        guard enabled else { return }
        if json { FlowFormatter.json(f, into: &buffer) } else { FlowFormatter.text(f, into: &buffer) }
        if explainer != nil && f.isTCP {
            connStates.insert(f.connState)
            for c in f.history { historyLetters.insert(c) }
        }
        if buffer.count > 1 << 15 && !spillFailed { spill() }
    }

    private func spill() {
        if file == nil { file = tmpfile() }
        guard let file else { spillFailed = true; return }
        let bytes = buffer.bytes
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if n != bytes.count { spillFailed = true; return }
        _ = buffer.takeString()
    }

    /// Appends every spooled row to `out` and flushes it.
    public func writeOut(_ out: inout OutputBuffer) {
        guard enabled else { return }
        explainer?.flowsHeader(into: &out)
        if let file {
            fflush(file)
            rewind(file)
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                if n <= 0 { break }
                chunk.withUnsafeBytes { out.append(UnsafeRawBufferPointer(rebasing: $0[0 ..< n])) }
                out.flushIfNeeded()
            }
        }
        out.append(buffer: buffer)
        explainer?.flowsLegend(states: connStates, letters: historyLetters, into: &out)
        out.flush()
    }
}
