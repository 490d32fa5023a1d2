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

@main
struct NetInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netinspect",
        abstract: "Capture packets or read captures, and show what the sockets did.",
        discussion: """
        Examples:
          netinspect -r captures/tcp-handshake.pcap
          sudo netinspect -i lo tcp port 9000
          sudo netinspect -i any -w out.pcap -c 100
          netinspect -n -r capture.pcap --json 'udp port 53'
          netinspect -r captures/demo-sticky.pcap --flows   (messages, sticky and split segments)
          netinspect follow -r captures/demo-framed.pcap --flow 1
          netinspect demo echo --inspect       (see 'netinspect demo --help')
          netinspect -v -r captures/demo-dns.pcap -c 2    (every layer of each packet)
          netinspect stats -r capture.pcap

        More: netinspect help demo|follow|ladder|stats, docs/ in the source tree.
        Shell completions: netinspect --generate-completion-script bash|zsh|fish
        """
    )

    /// `netinspect demo …` and `netinspect ladder …` go to their commands; everything else is the
    /// capture tool, whose trailing words are a filter expression (so these cannot be ordinary
    /// subcommands here).
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "demo" {
            DemoCommand.main(Array(args.dropFirst()))
        } else if args.first == "ladder" {
            LadderCommand.main(Array(args.dropFirst()))
        } else if args.first == "follow" {
            FollowCommand.main(Array(args.dropFirst()))
        } else if args.first == "stats" {
            StatsCommand.main(Array(args.dropFirst()))
        } else if args.first == "help" {
            HelpCommand.main(Array(args.dropFirst()))
        } else {
            if let problem = countProblem(args) { NetInspect.exit(withError: ValidationError(problem)) }
            NetInspect.main(args)
        }
    }

    /// `-c -5`: the parser takes `-5` for an option and says the value is missing; say what `-c 0` says.
    static func countProblem(_ args: [String]) -> String? {
        var i = 0
        while i + 1 < args.count, args[i] != "--" {
            if args[i] == "-c", let n = Int(args[i + 1]), n <= 0 { return "-c needs a positive count" }
            i += 1
        }
        return nil
    }

    @OptionGroup(title: "Capture")
    var capture: CaptureOptions

    @OptionGroup(title: "Output")
    var output: OutputOptions

    @OptionGroup
    var presentation: PresentationOptions

    @OptionGroup(title: "Framing (messages in TCP streams)")
    var framing: FramingOptions

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as for tcpdump (e.g. 'tcp port 80').", valueName: "filter"),
              completion: .list(PresentationOptions.firstWords))
    var filter: [String] = []

    func validate() throws {
        let sources = [capture.readFile != nil, capture.interface != nil, capture.listInterfaces].filter { $0 }.count
        // No source at all is reported by run(): the parser checks for unknown options only after
        // validate(), and `netinspect --bogus` should say that '--bogus' is unknown.
        if sources > 1 { throw ValidationError("use only one of -r, -i and -D") }
        if capture.writeFile == "-" && output.printWhileWriting {
            throw ValidationError("--print cannot share standard output with -w -")
        }
        if capture.writeFile != nil && !output.printWhileWriting && presentation.analysis.stats {
            throw ValidationError("--stats with -w needs --print (or run 'netinspect stats' on the written file)")
        }
    }

    static let noSource = "say where packets come from: -r FILE, -i INTERFACE, or -D to list interfaces"

    mutating func run() throws {
        if capture.readFile == nil && capture.interface == nil && !capture.listInterfaces {
            throw ValidationError(Self.noSource)
        }
        if capture.listInterfaces {
            try Self.listInterfaces()
            return
        }
        let printing = capture.writeFile == nil || output.printWhileWriting
        // Per-packet output (and libpcap's immediate mode) for a terminal or -U, as tcpdump does.
        let lineBuffered = output.lineBuffered || (printing && isatty(1) != 0)
        let source: CaptureSource
        do {
            if let path = capture.readFile {
                source = try CaptureSource.open(file: path)
            } else {
                var live = capture.liveOptions
                live.immediate = lineBuffered
                source = try CaptureSource.open(interface: capture.interface ?? "", options: live)
            }
        } catch {
            Diagnostics.line("netinspect: \(error.message)")
            throw ExitCode(1)
        }
        // Drop root right after the handle is open, before any packet is decoded.
        if let user = capture.dropToUser {
            if let problem = Privileges.drop(to: user) {
                Diagnostics.line("netinspect: -Z \(user): \(problem)")
                throw ExitCode(1)
            }
        }
        if !filter.isEmpty {
            do {
                try source.setFilter(filter.joined(separator: " "))
            } catch {
                Diagnostics.line("netinspect: \(error.message)")
                throw ExitCode(2)
            }
        }
        var writer: CaptureWriter?
        if let w = capture.writeFile {
            do {
                writer = try CaptureWriter(path: w, for: source)
            } catch {
                Diagnostics.line("netinspect: \(error.message)")
                throw ExitCode(1)
            }
        }
        let linkDescription = source.linkTypeName + (source.linkTypeDescription.map { " (\($0))" } ?? "")
        if source.isLive {
            Diagnostics.line("listening on \(source.name), link-type \(linkDescription), snapshot length \(source.snapshotLength) bytes")
        } else if !output.json {
            Diagnostics.line("reading from file \(source.name), link-type \(linkDescription), snapshot length \(source.snapshotLength)")
        }
        source.stopOnSignals()
        if let d = capture.duration { alarm(UInt32(clamping: d)) }

        var run = Runner(source: source, output: output, count: capture.count, writer: writer,
                         printing: printing, lineBuffered: lineBuffered, streams: framing.makeAnalyzer(),
                         presentation: presentation)
        let end = run.run()
        writer?.close()
        if source.isLive {
            Diagnostics.line("\(run.captured) packet\(run.captured == 1 ? "" : "s") captured")
            if let s = source.statistics() {
                Diagnostics.line("\(s.received) packet\(s.received == 1 ? "" : "s") received by filter")
                Diagnostics.line("\(s.dropped) packet\(s.dropped == 1 ? "" : "s") dropped by kernel")
            }
        }
        if case .error(let message) = end {
            Diagnostics.line("netinspect: \(source.name): \(message)")
            throw ExitCode(1)
        }
    }

    static func listInterfaces() throws {
        let list: [CaptureSource.Interface]
        do {
            list = try CaptureSource.listInterfaces()
        } catch {
            Diagnostics.line("netinspect: \(error.message)")
            throw ExitCode(1)
        }
        var text = ""
        for (i, d) in list.enumerated() {
            var flags: [String] = []
            if d.isUp { flags.append("Up") }
            if d.isRunning { flags.append("Running") }
            if d.isLoopback { flags.append("Loopback") }
            text += "\(i + 1).\(d.name)"
            if let desc = d.description { text += " (\(desc))" }
            if !flags.isEmpty { text += " [\(flags.joined(separator: ", "))]" }
            text += "\n"
        }
        var out = OutputBuffer(fd: 1)
        out.string(text)
        out.flush()
    }
}

struct CaptureOptions: ParsableArguments {
    @Option(name: .customShort("r"), help: ArgumentHelp("Read packets from a pcap or pcapng file ('-' for standard input).", valueName: "file"),
            completion: .file(extensions: ["pcap", "pcapng", "cap"]))
    var readFile: String?

    @Option(name: .customShort("i"), help: ArgumentHelp("Capture live on this interface ('any' for all; needs root or cap_net_raw,cap_net_admin).", valueName: "interface"))
    var interface: String?

    @Flag(name: .customShort("D"), help: "List the interfaces that can be captured on, and exit.")
    var listInterfaces = false

    @Option(name: .customShort("c"), help: "Exit after this many packets (after filtering).")
    var count: Int?

    @Option(name: .customShort("w"), help: ArgumentHelp("Write the packets to a pcap file ('-' for standard output) instead of printing them.", valueName: "file"))
    var writeFile: String?

    @Option(name: .customShort("s"), help: ArgumentHelp("Snapshot length: bytes kept of each packet (live).", valueName: "snaplen"))
    var snaplen: Int = 262_144

    @Flag(name: .customShort("p"), help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(name: .customShort("B"), help: ArgumentHelp("Kernel capture buffer size in KiB.", valueName: "KiB"))
    var bufferKiB: Int?

    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Int?

    @Option(name: .customShort("Z"), help: ArgumentHelp("After opening the interface, drop root privileges and run as this user.", valueName: "user"))
    var dropToUser: String?

    func validate() throws {
        if let count, count <= 0 { throw ValidationError("-c needs a positive count") }
        if snaplen <= 0 || snaplen > 262_144 { throw ValidationError("-s must be between 1 and 262144") }
        if let b = bufferKiB, b <= 0 { throw ValidationError("-B needs a positive size in KiB") }
        if let d = duration, d <= 0 { throw ValidationError("--duration needs a positive number of seconds") }
    }

    var liveOptions: LiveOptions {
        var o = LiveOptions()
        o.snapshotLength = snaplen
        o.promiscuous = !noPromiscuous
        o.immediate = true
        o.bufferKiB = bufferKiB
        return o
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .customShort("n"), help: "Print port numbers, not service names.")
    var numeric = false

    @Flag(name: .customShort("t"), help: "Timestamps: -t none, -tt epoch seconds, -ttt delta to previous, -tttt date and time, -ttttt since first.")
    var timestampLevel: Int

    @Flag(name: .customShort("e"), help: "Print the link-level header on each line.")
    var linkHeader = false

    @Flag(name: .customShort("q"), help: "Quiet: less protocol detail per line.")
    var quiet = false

    @Flag(name: .long, help: "Print timestamps with nanoseconds.")
    var nano = false

    @Flag(name: .long, help: "Write one JSON object per packet (JSON Lines).")
    var json = false

    @Flag(name: [.customShort("U"), .customLong("line-buffered")], help: "Write each packet out as soon as it is formatted (default when printing to a terminal).")
    var lineBuffered = false

    @Flag(name: .customLong("print"), help: "With -w, also print the packets.")
    var printWhileWriting = false

    @Flag(name: [.customShort("#"), .customLong("number")], help: "Print the frame number first on each line (as tcpdump -#); the numbers notes refer to.")
    var number = false

    @Flag(name: .customShort("S"), help: "Print TCP sequence numbers as carried, not relative to the connection's first.")
    var absoluteSequence = false

    var textOptions: TextOptions {
        var o = TextOptions()
        o.numeric = numeric
        o.linkHeader = linkHeader
        o.quiet = quiet
        o.nanoseconds = nano
        o.absoluteSequence = absoluteSequence
        switch timestampLevel {
        case 0: o.timestamps = .timeOfDay
        case 1: o.timestamps = .none
        case 2: o.timestamps = .epoch
        case 3: o.timestamps = .delta
        case 4: o.timestamps = .dateTime
        default: o.timestamps = .sinceFirst
        }
        return o
    }
}

enum Diagnostics {
    static func line(_ s: String) {
        var s = s + "\n"
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// Why a subcommand that shows one conversation (`follow`, `ladder`) found none: the read
    /// error, or which flow ids the capture has, or that no TCP connection (matching the filter)
    /// was there. One line on stderr.
    static func noConversation(command: String, file: String, flow: Int?, flowKind: String, highestID: Int,
                               filtered: Bool, readError: String?) {
        if let readError {
            line("\(command): \(file): \(readError)")
        } else if let id = flow {
            let known = highestID == 0 ? "it has no TCP or UDP flows"
                : highestID == 1 ? "its only flow is 1" : "its flows are 1 to \(highestID)"
            line("\(command): no \(flowKind) \(id) in \(file) (\(known); see --flows)")
        } else {
            line("\(command): no TCP connection in \(file)" + (filtered ? " matching the filter" : ""))
        }
    }

    /// Opens a capture file for a subcommand and applies its filter; one line on stderr and exit
    /// 1 (unreadable file) or 2 (bad filter expression) otherwise.
    static func openFile(_ path: String, filter: [String], command: String) throws -> CaptureSource {
        let source: CaptureSource
        do {
            source = try CaptureSource.open(file: path)
        } catch {
            line("\(command): \(error.message)")
            throw ExitCode(1)
        }
        if !filter.isEmpty {
            do {
                try source.setFilter(filter.joined(separator: " "))
            } catch {
                line("\(command): \(error.message)")
                throw ExitCode(2)
            }
        }
        return source
    }
}

/// The per-packet loop, the same for files and live interfaces: decode, annotate, format into a
/// buffer, write in large blocks (or per packet when line-buffered), and write to -w.
struct Runner {
    let source: CaptureSource
    let output: OutputOptions
    let count: Int?
    let writer: CaptureWriter?
    let printing: Bool
    let lineBuffered: Bool
    let streams: StreamAnalyzer
    let presentation: PresentationOptions
    /// What is printed under each packet line (-v, -x/-X, --hex-payload); nil by default.
    let details: PacketDetails?
    /// How frames are decoded and analysed (the same for every view).
    let configuration: AnalysisConfiguration
    private(set) var captured = 0

    init(source: CaptureSource, output: OutputOptions, count: Int?, writer: CaptureWriter?, printing: Bool, lineBuffered: Bool,
         streams: StreamAnalyzer, presentation: PresentationOptions) {
        self.source = source
        self.output = output
        self.count = count
        self.writer = writer
        self.printing = printing
        self.lineBuffered = lineBuffered
        self.streams = streams
        self.presentation = presentation
        var c = presentation.analysis.configuration
        // Checksums are only shown in JSON and -v; the text line does not pay for them.
        c.verifyChecksums = output.json || presentation.needsChecksums
        configuration = c
        details = output.json ? nil : presentation.details(numeric: output.numeric, absoluteSequence: output.absoluteSequence,
                                                           color: presentation.display.color.isEnabled(fd: 1))
    }

    mutating func run() -> ReadEnd {
        let linkType = LinkType(rawValue: source.linkType)
        let analysis = presentation.analysis
        // Flow rows leave the table while packets still stream by (evicted flows): they are spooled
        // to a temporary file and written after the packet lines, so memory stays bounded.
        let flowSpool = FlowSpool(enabled: analysis.flows, json: output.json,
                                  explainer: output.json ? nil : presentation.learner.explainer)
        let counting = analysis.stats
        let flowCounts = counting ? ConversationCounter(top: analysis.top) : nil
        var pipeline = FramePipeline(configuration, streams: streams, finished: { flowSpool.add($0); flowCounts?.add($0) })
        let showPackets = !((analysis.flows || analysis.stats) && output.quiet)
        let color = !output.json && presentation.display.color.isEnabled(fd: 1)
        var printer = PacketPrinter(out: OutputBuffer(fd: 1), text: presentation.textFormatter(output.textOptions, color: color),
                                    json: JSONFormatter(nanosecondPrecision: source.precision == .nano), jsonMode: output.json,
                                    details: details, showPackets: showPackets, lineBuffered: lineBuffered,
                                    holdForMessages: !source.isLive, streams: streams,
                                    linkName: JSONFormatter.linkName(linkType, pcapName: source.linkTypeName),
                                    pcapLinkName: source.linkTypeName, counting: counting)
        if !output.json { printer.explainer = presentation.learner.explainer }
        printer.numbered = output.number && !output.json
        let progress = ProgressMeter.make(presentation.display.progress, source: source,
                                          packetLinesToTerminal: showPackets && isatty(1) != 0)
        let limit = count ?? Int.max
        var drained = false
        // (No closure captures `pipeline` or `printer`: captured, they would be copied per packet.)
        var end = ReadEnd.stopped
        reading: while captured < limit {
            switch source.next() {
            case .packet(let frame, let record):
                captured &+= 1
                if let writer {
                    writer.write(record)
                    if lineBuffered { writer.flush() }
                }
                progress?.tick(captured)
                guard printing else { continue }
                pipeline.process(FrameInfo(frame: frame, seconds: record.seconds, nanoseconds: record.nanoseconds,
                                           bytes: record.bytes, wireLength: record.wireLength),
                                 linkType: linkType, into: &printer)
                if printer.failed { progress?.finish(); return .stopped }
            case .end(let e):
                if e == .stopped && source.isLive && !drained {
                    // Stopped by a signal or --duration: print what the kernel already holds.
                    drained = true
                    source.beginDrain()
                    continue
                }
                end = e
                break reading
            }
        }
        progress?.finish()
        pipeline.finish()
        printer.finish()
        flowSpool.writeOut(&printer.out)
        if flowSpool.spillFailed {
            Diagnostics.line("netinspect: --flows: the temporary file for flow rows failed; they were kept in memory")
        }
        if counting {
            presentation.writeStatistics(printer.stats, flows: flowCounts, json: output.json, separate: showPackets, into: &printer.out)
        }
        return end
    }
}

/// `-Z USER`: give up root once the capture handle is open.
enum Privileges {
    /// Returns a problem description, or nil when the process now runs as `user`.
    static func drop(to user: String) -> String? {
        guard let pw = getpwnam(user) else { return "no such user" }
        let uid = pw.pointee.pw_uid
        let gid = pw.pointee.pw_gid
        if getuid() == uid && geteuid() == uid { return nil }
        var groups = [gid]
        if setgroups(1, &groups) != 0 { return "setgroups failed: \(String(cString: strerror(errno)))" }
        if setgid(gid) != 0 { return "setgid failed: \(String(cString: strerror(errno)))" }
        if setuid(uid) != 0 { return "setuid failed: \(String(cString: strerror(errno)))" }
        // Make sure there is no way back.
        if setuid(0) == 0 && uid != 0 { return "could still regain root" }
        return nil
    }
}
