import ArgumentParser
import NetAnalysis
import NetCapture
import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ColorChoice: ExpressibleByArgument {}

/// `--progress`: the progress line on standard error while a file is read.
enum ProgressChoice: String, ExpressibleByArgument, CaseIterable {
    /// Reading a file (not standard input) while standard error is a terminal, packet lines do not
    /// go to a terminal, and `CI` is unset.
    case auto
    case always
    case never
}

/// How the packets are shown beyond the one-line summary (the "Output" section of the help).
struct DisplayOptions: ParsableArguments {
    @Flag(name: .customShort("v"), help: ArgumentHelp(
        "Under each packet, its layers outermost first (Physical, Link, Network, Transport, Application), every field with its meaning, errors where they happened. -vv adds the analysis: flow id and direction, annotations with both endpoints' TCP states (also on the line)."))
    var verbosity: Int

    @Flag(name: .customShort("x"), help: "Print each packet's bytes in hex, from the network header on (-xx: from the link header).")
    var hex: Int

    @Flag(name: .customShort("X"), help: "Print each packet's bytes in hex and ASCII, tcpdump's layout (-XX: with the link header).")
    var hexASCII: Int

    @Flag(name: .customLong("hex-payload"), help: "Print the application payload of each packet (a DNS message, TCP/UDP data) in hex and ASCII.")
    var hexPayload = false

    @Option(name: .customLong("color"), help: ArgumentHelp(
        "Color addresses, TCP flags, annotations (handshake green, teardown blue, reset and anomalies red, sticky/split yellow) and errors. auto: when standard output is a terminal and NO_COLOR is not set.",
        valueName: "when"))
    var color: ColorChoice = .auto

    @Option(name: .customLong("progress"), help: ArgumentHelp(
        "A progress line (bytes read of the file, packets/s, time left) on standard error while a file is read. auto: when standard error is a terminal, the packet lines are not, and CI is not set.",
        valueName: "when"))
    var progress: ProgressChoice = .auto

    /// The hex dump asked for, if any (`-X` wins over `-x` for the ASCII column; either doubled
    /// includes the link header).
    var hexDump: (extent: HexDump.Extent, ascii: Bool)? {
        guard hex > 0 || hexASCII > 0 else { return nil }
        return (hex > 1 || hexASCII > 1 ? .frame : .network, hexASCII > 0)
    }
}

/// Analysis over the whole capture (the "Analysis" section of the help).
struct AnalysisOptions: ParsableArguments {
    @Flag(name: .long, help: "After the packets (instead of them with -q), one row per conversation: endpoints, packets, bytes, handshake RTT, Zeek conn_state and history, how it ended.")
    var flows = false

    @Option(name: .customLong("max-flows"), help: "Conversations tracked at once; beyond, closed then idle ones are finished early (bounds memory).")
    var maxFlows: Int = 32_768

    @Option(name: .customLong("dns-port"), help: ArgumentHelp("Also decode DNS on this UDP port (repeatable).", valueName: "port"))
    var dnsPorts: [UInt16] = []

    @Flag(name: .long, help: "After the packets (instead of them with -q), a summary: protocol hierarchy, top talkers and conversations, TCP outcomes by conn_state, DNS rcodes and names, analysis counters (one JSON object with --json; also 'netinspect stats').")
    var stats = false

    @Option(name: .long, help: ArgumentHelp("Rows in each --stats list (talkers, conversations, DNS names).", valueName: "n"))
    var top: Int = 5

    /// Rows per --stats list at most (the lists are for reading, and each is kept in memory).
    static let maxTop = 10_000

    /// The decoding and analysis these options ask for (framing comes from `FramingOptions`).
    var configuration: AnalysisConfiguration {
        var c = AnalysisConfiguration()
        c.maxFlows = maxFlows
        c.dnsPorts = dnsPorts
        return c
    }

    func validate() throws {
        if maxFlows <= 0 { throw ValidationError("--max-flows needs a positive number") }
        if top <= 0 || top > Self.maxTop { throw ValidationError("--top needs a number from 1 to \(Self.maxTop)") }
    }
}

extension Language: ExpressibleByArgument {}

/// `--explain` and `--lang`: words for learners (the "Output" section of the help of every view).
struct LearnerOptions: ParsableArguments {
    @Flag(name: .long, help: ArgumentHelp(
        "After each annotated line, one plain sentence per note on what happened and why (which side is in which state, what it waits for, 粘包/半包, the accept queue, TIME_WAIT); with --flows a header line and a legend of conn_state and history."))
    var explain = false

    @Option(name: .long, help: ArgumentHelp(
        "Language of the explanations, the notes' words and the demos' narration: en or zh (default: zh when LC_ALL or LANG starts with zh, else en). Packet lines stay tcpdump's.",
        valueName: "lang"))
    var lang: Language?

    /// The language asked for, or the environment's.
    var language: Language { lang ?? Language.fromEnvironment() }

    /// The explainer asked for (nil: no explanations).
    var explainer: Explainer? { explain ? Explainer(language) : nil }

    /// The arguments that give these options again (`stats` runs the main command).
    var arguments: [String] {
        var a: [String] = []
        if explain { a.append("--explain") }
        if let lang { a += ["--lang", lang.rawValue] }
        return a
    }
}

/// The presentation and analysis options, pulled into the main command as one group whose parts
/// land in the help's "Output" and "Analysis" sections.
struct PresentationOptions: ParsableArguments {
    @OptionGroup(title: "Output")
    var display: DisplayOptions

    @OptionGroup(title: "Analysis")
    var analysis: AnalysisOptions

    @OptionGroup(title: "Output")
    var learner: LearnerOptions

    /// What shell completion offers for the first free word: the subcommands (dispatched before
    /// parsing) and the usual first words of a filter.
    static let firstWords = ["demo", "follow", "ladder", "stats", "help", "tcp", "udp", "icmp", "icmp6", "arp", "ip", "ip6",
                             "host", "net", "port", "portrange", "src", "dst", "not", "vlan"]

    /// The text line's formatter with `-vv`'s states and `--color` applied.
    func textFormatter(_ base: TextOptions, color: Bool) -> TextFormatter {
        var o = base
        o.verbose = display.verbosity >= 2
        var f = TextFormatter(options: o)
        f.color = color
        f.language = learner.language
        return f
    }

    /// What is printed under each packet line (nil: nothing, the default).
    func details(numeric: Bool, absoluteSequence: Bool, color: Bool) -> PacketDetails? {
        var layered: LayeredView?
        if display.verbosity > 0 {
            var o = LayeredOptions()
            o.numeric = numeric
            o.absoluteSequence = absoluteSequence
            o.analysis = display.verbosity >= 2
            o.hexPayload = display.hexPayload
            o.color = color
            layered = LayeredView(options: o)
        }
        let d = PacketDetails(layered: layered, hex: display.hexDump, hexPayload: display.hexPayload)
        return d.isEmpty ? nil : d
    }

    /// Checksums are verified for JSON and for `-v` (whose view shows them); the text line does
    /// not pay for them.
    var needsChecksums: Bool { display.verbosity > 0 }

    func writeStatistics(_ packets: CaptureStatistics, flows: ConversationCounter?, json: Bool, separate: Bool,
                         into out: inout OutputBuffer) {
        var s = packets
        if let flows { s.flows = flows.value }
        if json {
            StatisticsFormatter.json(s, top: analysis.top, into: &out)
        } else {
            if separate { out.byte(10) }
            StatisticsFormatter.text(s, top: analysis.top, into: &out)
            // --explain: what the TCP outcomes' conn_state codes mean.
            if let e = learner.explainer, !s.connStates.isEmpty {
                e.flowsLegend(states: Set(s.connStates.keys), letters: [], into: &out)
            }
        }
        out.flush()
    }
}

/// The progress line on standard error: checked every 1024 packets, drawn at most five times a
/// second, erased at the end. With `auto` it waits half a second first, so small files never show
/// it; `always` draws from the first check on.
final class ProgressMeter {
    private let source: CaptureSource
    private let line: ProgressLine
    private let start: Int
    private var lastDraw = 0
    private var drawn = false
    private let width: Int

    static func make(_ choice: ProgressChoice, source: CaptureSource, packetLinesToTerminal: Bool) -> ProgressMeter? {
        guard choice != .never, !source.isLive, source.name != "-", let total = source.fileSize, total > 0 else { return nil }
        if choice == .auto {
            guard isatty(2) != 0, !packetLinesToTerminal, getenv("CI") == nil else { return nil }
            if let t = getenv("TERM"), String(cString: t) == "dumb" { return nil }
        }
        let name = source.name.split(separator: "/").last.map(String.init) ?? source.name
        return ProgressMeter(source: source, line: ProgressLine(name: name, total: total),
                             delay: choice == .always ? 0 : 500_000_000)
    }

    private let delay: Int

    private init(source: CaptureSource, line: ProgressLine, delay: Int) {
        self.source = source
        self.line = line
        self.delay = delay
        start = Self.now()
        var ws = winsize()
        width = ioctl(2, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 ? Int(ws.ws_col) - 1 : 79
    }

    static func now() -> Int {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int(t.tv_sec) &* 1_000_000_000 &+ Int(t.tv_nsec)
    }

    @inline(__always)
    func tick(_ packets: Int) {
        if packets & 1023 == 0 { check(packets) }
    }

    private func check(_ packets: Int) {
        let now = Self.now()
        guard now &- start >= delay, now &- lastDraw >= 200_000_000 else { return }
        lastDraw = now
        drawn = true
        let text = "\r" + line.text(read: source.bytesRead ?? 0, packets: packets, elapsedNanoseconds: now &- start, width: width) + "\u{1B}[K"
        Self.emit(text)
    }

    /// Erases the line (before anything else is written to the terminal).
    func finish() {
        if drawn { Self.emit("\r\u{1B}[K") }
        drawn = false
    }

    private static func emit(_ s: String) {
        var s = s
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// `netinspect stats -r FILE [filter]`: only the summary (the same as `-r FILE --stats -q`).
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netinspect stats",
        abstract: "Summarise a capture: protocol hierarchy, top talkers and conversations, TCP connection outcomes, DNS, analysis counters.",
        discussion: """
        The same summary as `netinspect -r FILE --stats -q`. Memory stays bounded on any capture.

        Examples:
          netinspect stats -r captures/demo-dns.pcap
          netinspect stats -r big.pcap --top 10 'tcp'
          netinspect stats -r big.pcap --json | jq .tcp
        """
    )

    @Option(name: .customShort("r"), help: ArgumentHelp("Read packets from a pcap or pcapng file ('-' for standard input).", valueName: "file"))
    var readFile: String

    @Flag(name: .long, help: "The summary as one JSON object (\"type\": \"stats\").")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Rows in each list (talkers, conversations, DNS names).", valueName: "n"))
    var top: Int = 5

    @Option(name: .customLong("dns-port"), help: ArgumentHelp("Also decode DNS on this UDP port (repeatable).", valueName: "port"))
    var dnsPorts: [UInt16] = []

    @Option(name: .customLong("progress"), help: ArgumentHelp("Progress line on standard error: auto, always or never.", valueName: "when"))
    var progress: ProgressChoice = .auto

    @OptionGroup(title: "Framing (messages in TCP streams)")
    var framing: FramingOptions

    @OptionGroup(title: "Output")
    var learner: LearnerOptions

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as for tcpdump.", valueName: "filter"))
    var filter: [String] = []

    func run() throws {
        var args = ["-r", readFile, "--stats", "-q", "--top", String(top), "--progress", progress.rawValue]
        args += learner.arguments
        if json { args.append("--json") }
        for p in dnsPorts { args += ["--dns-port", String(p)] }
        for f in framing.framing { args += ["--framing", f] }
        if framing.noDefaultFraming { args.append("--no-default-framing") }
        if let n = framing.recvSize { args += ["--recv-size", String(n)] }
        var command = try NetInspect.parseAsRoot(args + filter)
        try command.run()
    }
}

/// `netinspect help [TOPIC …]`: the help of the main command or of a subcommand.
enum HelpCommand {
    static let topics = "demo, follow, ladder, stats"

    static func main(_ args: [String]) {
        guard let topic = args.first else {
            NetInspect.main(["--help"])
            return
        }
        switch topic {
        case "demo":
            DemoCommand.main(args.count > 1 ? ["help"] + args.dropFirst() : ["--help"])
        case "ladder":
            LadderCommand.main(["--help"])
        case "follow":
            FollowCommand.main(["--help"])
        case "stats":
            StatsCommand.main(["--help"])
        default:
            Diagnostics.line("netinspect help: no help on '\(topic)'; topics: \(topics) (or just 'netinspect --help')")
            exit(1)
        }
    }
}
