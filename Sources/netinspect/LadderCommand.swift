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

/// `netinspect ladder -r FILE [--flow ID]`: one TCP connection as a sequence diagram.
struct LadderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netinspect ladder",
        abstract: "Draw one TCP connection of a capture as a ladder (sequence) diagram.",
        discussion: """
        The client's line is on the left, the server's on the right; each segment is an arrow with its flags, relative seq/ack, length and annotation (handshake 1/3, teardown 2/4, reset …), and the endpoint states are written beside the lines where they change.

        Examples:
          netinspect ladder -r captures/tcp-handshake.pcap
          netinspect ladder -r captures/demo-chat.pcap --flow 2
          netinspect ladder -r capture.pcap --svg conn.svg 'tcp port 9000'
        """
    )

    @Option(name: .customShort("r"), help: ArgumentHelp("Read packets from a pcap or pcapng file ('-' for standard input).", valueName: "file"))
    var readFile: String

    @Option(name: .long, help: ArgumentHelp("The connection to draw, by the flow id that --flows prints (default: the first TCP connection).", valueName: "id"))
    var flow: Int?

    @Option(name: .long, help: ArgumentHelp("Width of the text diagram in columns (default: the terminal's, else $COLUMNS, else 100; at least \(LadderDiagram.minimumWidth)).", valueName: "columns"))
    var width: Int?

    @Option(name: .long, help: ArgumentHelp("Write the diagram as an SVG file ('-' for standard output) instead of printing it as text.", valueName: "file"))
    var svg: String?

    @Flag(name: .customShort("n"), help: "Print port numbers, not service names.")
    var numeric = false

    @OptionGroup(title: "Framing (messages in TCP streams)")
    var framing: FramingOptions

    @OptionGroup(title: "Output")
    var learner: LearnerOptions

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as for tcpdump (flow ids then count only matching packets, as with --flows).", valueName: "filter"))
    var filter: [String] = []

    func validate() throws {
        if let width, width < LadderDiagram.minimumWidth || width > Self.maximumWidth {
            throw ValidationError("--width must be from \(LadderDiagram.minimumWidth) to \(Self.maximumWidth)")
        }
        if let flow, flow <= 0 { throw ValidationError("--flow needs a positive flow id (as --flows prints it)") }
    }

    /// The widest diagram drawn (each row is a line of this many cells).
    static let maximumWidth = 10_000

    /// The terminal's width (TIOCGWINSZ on standard output); when the output is not a terminal,
    /// `COLUMNS` if it holds a width; else 100.
    static func terminalWidth() -> Int {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 { return Int(ws.ws_col) }
        if let c = getenv("COLUMNS"), let n = Int(String(cString: c)), n > 0, n <= Self.maximumWidth { return n }
        return 100
    }

    /// `127.0.0.1:9000`, `[::1]:http` (service names unless -n).
    static func endpoint(_ p: Packet, source: Bool, numeric: Bool) -> String {
        var o = OutputBuffer(fd: -1, capacity: 128)
        if let ip = p.ipv4 {
            o.ipv4(source ? ip.source : ip.destination)
        } else if let ip = p.ipv6 {
            o.byte(91); o.ipv6(source ? ip.source : ip.destination); o.byte(93)
        }
        o.byte(58)
        let port = p.tcp.map { source ? $0.sourcePort : $0.destinationPort } ?? 0
        if !numeric, let name = Names.service(port: port, udp: false) { o.ascii(name) } else { o.decimal(port) }
        return o.takeString()
    }

    func run() throws {
        let source = try Diagnostics.openFile(readFile, filter: filter, command: "netinspect ladder")
        let linkType = LinkType(rawValue: source.linkType)
        // The same decoding and analysis as every view (message notes included).
        var configuration = AnalysisConfiguration()
        configuration.verifyChecksums = false
        configuration.framing = framing.policy
        configuration.recvSize = framing.recvSize
        var pipeline = FramePipeline(configuration)
        let explainer = learner.explainer
        pipeline.analyzer.streams?.recordResolutions = true
        var eventNotes: [[Note]] = []

        var chosen = flow
        var chosenIsUDP = false
        var highestID = 0
        var events: [LadderEvent] = []
        var client = "", server = ""
        var initial: (client: TCPState, server: TCPState)?
        var start = 0
        var isn: (client: UInt32?, server: UInt32?) = (nil, nil)
        var readError: String?

        func event(_ t: TCPHeader, fromClient: Bool, seqBase: UInt32?, ackBase: UInt32?, ns: Int, notes: [Note],
                   states: (client: TCPState, server: TCPState)? = nil) -> LadderEvent {
            let f = t.flags
            var seq: UInt32?
            var ack: UInt32?
            if f.contains(.syn) {
                seq = 0
                let peer = fromClient ? isn.server : isn.client
                if f.contains(.ack) { ack = t.acknowledgment &- (peer ?? 0) }
            } else {
                if t.payloadLength > 0 || f.contains(.fin) || f.contains(.rst) { seq = t.sequence &- (seqBase ?? 0) }
                if f.contains(.ack) { ack = t.acknowledgment &- (ackBase ?? 0) }
            }
            // The words come after the whole file is read (message notes learn their part counts later).
            eventNotes.append(notes)
            let (offset, overflow) = ns.subtractingReportingOverflow(start)
            var e = LadderEvent(nanoseconds: overflow ? 0 : offset, fromClient: fromClient, flags: LadderEvent.flagString(f),
                               seq: seq, ack: ack, length: t.payloadLength,
                               note: nil,
                               states: notes.last(where: { $0.states != nil })?.states ?? states)
            if let explainer { e.explanations = notes.map { explainer.sentence($0) } }
            return e
        }

        reading: while true {
            switch source.next() {
            case .packet(let frame, let record):
                let info = FrameInfo(frame: frame, seconds: record.seconds, nanoseconds: record.nanoseconds,
                                     bytes: record.bytes, wireLength: record.wireLength)
                let ns = info.time
                guard let obs = pipeline.analyze(info, linkType: linkType) else { continue }
                let notes = pipeline.notes
                // The conversation's own packet (inside a tunnel, or a reassembled datagram).
                let packet = pipeline.packet.conversationBox?.packet ?? pipeline.packet
                if notes.contains(where: { $0.kind == .duplicateFrame }) {
                    // Not a new segment (the tracker did not see it), but it was on the wire twice:
                    // drawn like its original.
                    if obs.flowID == chosen, let t = packet.tcp, t.isComplete {
                        events.append(event(t, fromClient: obs.direction == .clientToServer, seqBase: obs.seqBase,
                                            ackBase: obs.ackBase, ns: ns, notes: notes))
                    }
                    continue
                }
                highestID = max(highestID, obs.flowID)
                guard let t = packet.tcp, t.isComplete else {
                    if obs.flowID == chosen { chosenIsUDP = true; break reading }
                    continue
                }
                if chosen == nil { chosen = obs.flowID }
                guard obs.flowID == chosen else {
                    // Flow ids only grow: once past the chosen one with nothing seen, it does not exist.
                    continue
                }
                let fromClient = obs.direction == .clientToServer
                if events.isEmpty {
                    start = ns
                    client = Self.endpoint(packet, source: fromClient, numeric: numeric)
                    server = Self.endpoint(packet, source: !fromClient, numeric: numeric)
                    let f = t.flags
                    if f.contains(.syn) { initial = f.contains(.ack) ? nil : (.closed, .listen) }
                }
                if t.flags.contains(.syn) {
                    if fromClient && !t.flags.contains(.ack) && isn.client == nil { isn.client = t.sequence }
                    if !fromClient && t.flags.contains(.ack) && isn.server == nil { isn.server = t.sequence }
                }
                events.append(event(t, fromClient: fromClient, seqBase: obs.seqBase, ackBase: obs.ackBase, ns: ns, notes: notes,
                                    states: obs.states))
            case .end(let end):
                if case .error(let message) = end { readError = message }
                break reading
            }
        }

        let name = source.name
        if chosenIsUDP, let id = chosen {
            Diagnostics.line("netinspect ladder: flow \(id) in \(name) is UDP; the ladder draws TCP connections")
            throw ExitCode(1)
        }
        if events.isEmpty {
            Diagnostics.noConversation(command: "netinspect ladder", file: name, flow: flow, flowKind: "flow",
                                       highestID: highestID, filtered: !filter.isEmpty, readError: readError)
            throw ExitCode(1)
        }

        let language = learner.language
        let words = language == .en ? nil : Explainer(language)
        for i in events.indices where i < eventNotes.count {
            let texts = eventNotes[i].map { n -> String in
                var n = n
                if let streams = pipeline.analyzer.streams { MessageNotes.resolve(&n, streams.resolution) }
                // --lang: the words the packet line would write.
                return words?.words([n], 0) ?? n.text
            }.filter { !$0.isEmpty }
            events[i].note = texts.isEmpty ? nil : texts.joined(separator: "; ")
        }
        let count = events.count
        let title = "TCP flow \(chosen ?? 0): \(client) > \(server), \(count) segment\(count == 1 ? "" : "s") in \(LadderDiagram.time(events.last?.nanoseconds ?? 0)) s"
        let diagram = LadderDiagram(title: title, client: client, server: server, initialStates: initial, events: events)
        if let svg {
            var out = OutputBuffer(fd: svg == "-" ? 1 : -1)
            diagram.svg(into: &out)
            if svg == "-" {
                out.flush()
            } else {
                let text = out.takeString()
                guard let file = fopen(svg, "w") else {
                    Diagnostics.line("netinspect ladder: \(svg): \(String(cString: strerror(errno)))")
                    throw ExitCode(1)
                }
                let written = text.utf8.count == 0 ? 0 : fwrite(text, 1, text.utf8.count, file)
                if fclose(file) != 0 || written != text.utf8.count {
                    Diagnostics.line("netinspect ladder: \(svg): write failed")
                    throw ExitCode(1)
                }
                Diagnostics.line("wrote \(svg): \(title)")
            }
        } else {
            var out = OutputBuffer(fd: 1)
            diagram.text(width: width ?? Self.terminalWidth(), into: &out)
            out.flush()
        }
        if let readError {
            Diagnostics.line("netinspect ladder: \(name): \(readError)")
            throw ExitCode(1)
        }
    }
}
