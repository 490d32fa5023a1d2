import ArgumentParser
import NetAnalysis
import NetCapture
import NetOutput
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `netinspect follow -r FILE --flow ID`: the reassembled stream of one connection.
struct FollowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netinspect follow",
        abstract: "Show the reassembled byte stream of one TCP connection, both directions in time order, with message boundaries.",
        discussion: """
        Retransmitted bytes appear once (the first copy), out-of-order segments in their place, bytes the capture never had as a marked gap. With a framing (--framing, or the defaults for DNS and the demos' ports), every message starts with a line `── msg #4 (23 B) ──`.

        Examples:
          netinspect follow -r captures/demo-sticky.pcap --flow 1
          netinspect follow -r captures/demo-framed.pcap --flow 1 --hex
          netinspect follow -r capture.pcap --flow 3 --framing lp:4 --raw out/
        """
    )

    @Option(name: .customShort("r"), help: ArgumentHelp("Read packets from a pcap or pcapng file ('-' for standard input).", valueName: "file"))
    var readFile: String

    @Option(name: .long, help: ArgumentHelp("The connection, by the flow id that --flows prints (default: the first TCP connection).", valueName: "id"))
    var flow: Int?

    @Flag(name: .long, help: "Show the bytes as hex and ASCII (offsets in each direction's stream).")
    var hex = false

    @Option(name: .long, help: ArgumentHelp("Also write each direction's bytes to a file in this directory, named like tcpflow's (SRCIP.SRCPORT-DSTIP.DSTPORT); gaps become zero bytes.", valueName: "dir"))
    var raw: String?

    @OptionGroup(title: "Framing")
    var framing: FramingOptions

    @OptionGroup(title: "Output")
    var learner: LearnerOptions

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression (flow ids then count only matching packets, as with --flows).", valueName: "filter"))
    var filter: [String] = []

    func validate() throws {
        if let flow, flow <= 0 { throw ValidationError("--flow needs a positive flow id (as --flows prints it)") }
        if framing.recvSize != nil {
            throw ValidationError("--recv-size annotates packet lines; follow prints the stream itself (use it with -r)")
        }
    }

    /// `127.000.000.001.09004` (tcpflow's file-name form) or the IPv6 address with its port.
    static func tcpflowName(_ p: Packet, source: Bool, port: UInt16) -> String {
        var o = OutputBuffer(fd: -1, capacity: 128)
        if let ip = p.ipv4 {
            let a = (source ? ip.source : ip.destination).raw
            for k in 0 ..< 4 {
                if k > 0 { o.byte(46) }
                o.padded(Int(a >> UInt32(24 - 8 * k) & 0xFF), width: 3)
            }
        } else if let ip = p.ipv6 {
            o.ipv6(source ? ip.source : ip.destination)
        }
        o.byte(46); o.padded(Int(port), width: 5)
        return o.takeString()
    }

    func run() throws {
        let source = try Diagnostics.openFile(readFile, filter: filter, command: "netinspect follow")
        let linkType = LinkType(rawValue: source.linkType)
        let streams = framing.makeAnalyzer()
        let sink = FollowSink(hex: hex)
        sink.printer.explainer = learner.explainer
        streams.followFlow = flow
        streams.followFirst = flow == nil
        streams.follow = { [sink] e in sink.event(e) }
        // The same decoding and analysis as every view; its stream analyser follows the flow.
        var configuration = AnalysisConfiguration()
        configuration.verifyChecksums = false
        var pipeline = FramePipeline(configuration, streams: streams)
        var chosen = flow
        var highestID = 0
        var readError: String?
        var rawFiles: (c2s: Int32, s2c: Int32)?
        defer { if let f = rawFiles { close(f.c2s); close(f.s2c) } }

        reading: while true {
            switch source.next() {
            case .packet(let frame, let record):
                let info = FrameInfo(frame: frame, seconds: record.seconds, nanoseconds: record.nanoseconds,
                                     bytes: record.bytes, wireLength: record.wireLength)
                guard let obs = pipeline.analyze(info, linkType: linkType) else { continue }
                highestID = max(highestID, obs.flowID)
                if chosen == nil { chosen = streams.followFlow }
                if obs.flowID == chosen, !sink.started,
                   case let packet = pipeline.packet.conversationBox?.packet ?? pipeline.packet, let t = packet.tcp, t.isComplete {
                    let c2s = obs.direction == .clientToServer
                    let clientPort = c2s ? t.sourcePort : t.destinationPort
                    let serverPort = c2s ? t.destinationPort : t.sourcePort
                    // The files first: `start` replays this packet's bytes, which belong in them too.
                    if let dir = raw {
                        let clientName = Self.tcpflowName(packet, source: c2s, port: clientPort)
                        let serverName = Self.tcpflowName(packet, source: !c2s, port: serverPort)
                        let a = open("\(dir)/\(clientName)-\(serverName)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                        let why = errno
                        let b = a < 0 ? -1 : open("\(dir)/\(serverName)-\(clientName)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                        if a < 0 || b < 0 {
                            Diagnostics.line("netinspect follow: --raw \(dir): \(String(cString: strerror(a < 0 ? why : errno)))")
                            if a >= 0 { close(a) }
                            throw ExitCode(1)
                        }
                        rawFiles = (a, b)
                        sink.rawFiles = (a, b)
                    }
                    sink.start(flow: obs.flowID,
                               client: LadderCommand.endpoint(packet, source: c2s, numeric: true),
                               server: LadderCommand.endpoint(packet, source: !c2s, numeric: true),
                               framing: streams.policy.spec(serverPort: serverPort).name)
                }
                if sink.out.failed { break reading }
            case .end(let end):
                if case .error(let message) = end { readError = message }
                break reading
            }
        }
        pipeline.finish()
        if !sink.started {
            Diagnostics.noConversation(command: "netinspect follow", file: source.name, flow: flow, flowKind: "TCP flow",
                                       highestID: highestID, filtered: !filter.isEmpty, readError: readError)
            throw ExitCode(1)
        }
        sink.finish()
        if let readError {
            Diagnostics.line("netinspect follow: \(source.name): \(readError)")
            throw ExitCode(1)
        }
    }
}

/// Receives the followed flow's stream events and prints them.
final class FollowSink {
    var printer: FollowPrinter
    var out = OutputBuffer(fd: 1)
    var started = false
    var rawFiles: (c2s: Int32, s2c: Int32)?
    /// Events that came before the flow's header could be printed (the header needs the tracker's id).
    var early: [(StreamEventCopy)] = []

    struct StreamEventCopy {
        var frame: Int
        var c2s: Bool
        var offset: Int
        var bytes: [UInt8]?
        var count: Int
        var spans: [MessageSpan]
    }

    init(hex: Bool) {
        printer = FollowPrinter(hex: hex)
    }

    func start(flow: Int, client: String, server: String, framing: String) {
        started = true
        printer.header(flow: flow, client: client, server: server, framing: framing, into: &out)
        for e in early {
            if let b = e.bytes {
                b.withUnsafeBytes { raw in
                    emit(.data(frame: e.frame, clientToServer: e.c2s, offset: e.offset, bytes: raw, spans: e.spans))
                }
            } else {
                emit(.gap(frame: e.frame, clientToServer: e.c2s, offset: e.offset, count: e.count))
            }
        }
        early = []
    }

    func event(_ e: StreamEvent) {
        guard started else {
            switch e {
            case .data(let frame, let c2s, let offset, let bytes, let spans):
                early.append(StreamEventCopy(frame: frame, c2s: c2s, offset: offset, bytes: Array(bytes), count: bytes.count, spans: spans))
            case .gap(let frame, let c2s, let offset, let count):
                early.append(StreamEventCopy(frame: frame, c2s: c2s, offset: offset, bytes: nil, count: count, spans: []))
            }
            return
        }
        emit(e)
    }

    func emit(_ e: StreamEvent) {
        printer.event(e, into: &out)
        out.flushIfNeeded()
        guard let files = rawFiles else { return }
        switch e {
        case .data(_, let c2s, let offset, let bytes, _):
            guard let base = bytes.baseAddress else { return }
            _ = pwrite(c2s ? files.c2s : files.s2c, base, bytes.count, off_t(offset))
        case .gap(_, let c2s, let offset, let count):
            // Leave a hole of zeros: extend the file past the gap.
            let fd = c2s ? files.c2s : files.s2c
            let end = off_t(offset + count)
            var st = stat()
            if fstat(fd, &st) == 0 && st.st_size < end { _ = ftruncate(fd, end) }
        }
    }

    func finish() {
        printer.finish(into: &out)
        out.flush()
    }
}
