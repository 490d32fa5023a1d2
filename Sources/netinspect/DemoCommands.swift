import ArgumentParser
import NetDemos
import NetOutput

/// `netinspect demo NAME`: the bundled socket-course programs.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netinspect demo",
        abstract: "Run a bundled socket demo on loopback (all-in-one, or --server / --client in two terminals).",
        discussion: """
        Every demo ends by itself. Add --capture FILE to record its traffic, or --inspect to see
        netinspect's view of it live (both need capture rights: root or cap_net_raw,cap_net_admin).
        """,
        subcommands: DemoCommand.all
    )

    /// Each demo adds its command here.
    nonisolated(unsafe) static var all: [ParsableCommand.Type] = [EchoCommand.self, StickyCommand.self, FramedCommand.self, DownloadCommand.self, ChatCommand.self, UDPCommand.self, ResetCommand.self, DnsCommand.self, BacklogCommand.self]
}

/// Options every demo has.
struct DemoCommonOptions: ParsableArguments {
    @Flag(name: .long, help: "Run only the server side.")
    var server = false

    @Flag(name: .long, help: "Run only the client side.")
    var client = false

    @Option(name: .long, help: "Numeric address to bind or connect to (127.0.0.1; ::1 for IPv6).")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port (each demo has a default; 0 = any free port).")
    var port: UInt16?

    @Option(name: .long, help: "Seconds any single wait may take before the demo gives up.")
    var timeout: Double = 10

    @Option(name: .long, help: ArgumentHelp("Record the demo's own traffic on lo into this pcap file.", valueName: "file"))
    var capture: String?

    @Flag(name: .long, help: "Print netinspect's view of the demo's traffic live, beside the application's output.")
    var inspect = false

    @Flag(name: .customLong("no-explain"), help: "With --inspect: leave out the sentence under each annotated [wire] line that says what happened and why.")
    var noExplain = false

    @Flag(name: .long, help: "With --inspect: explain each annotated [wire] line (the default; see --no-explain).")
    var explain = false

    @Option(name: .long, help: ArgumentHelp("Language of the explanations and notes: en or zh (default: zh when LC_ALL or LANG starts with zh).", valueName: "lang"))
    var lang: Language?

    func validate() throws {
        if server && client { throw ValidationError("use --server or --client, not both (neither: all-in-one)") }
        if timeout <= 0 || timeout > 3600 { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        if explain && noExplain { throw ValidationError("use --explain or --no-explain, not both") }
    }

    var options: DemoOptions {
        var o = DemoOptions()
        o.role = server ? .server : client ? .client : .both
        o.host = host
        o.port = port
        o.timeout = timeout
        o.captureFile = capture
        o.inspect = inspect
        o.explain = !noExplain
        o.language = lang ?? Language.fromEnvironment()
        return o
    }
}

/// Runs a demo body, turning its errors into one line and exit 1.
func runDemo(_ body: () throws(DemoError) -> Void) throws {
    // The transcript waits a moment to be printed in time order: all of it goes out before the end.
    defer { DemoConsole.shared.drain() }
    do {
        try body()
    } catch {
        Diagnostics.line("netinspect demo: \(error.message)")
        throw ExitCode(1)
    }
}

extension EchoDemo.Closer: ExpressibleByArgument {}

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "TCP echo: the client sends a line, the server answers it upper-cased, one side closes.")

    @OptionGroup var common: DemoCommonOptions

    @Option(help: "The line the client sends.")
    var message = "hello, server"

    @Option(help: "Who starts the teardown (that side ends in TIME_WAIT).")
    var closer: EchoDemo.Closer = .client

    func run() throws {
        var o = EchoDemo.Options()
        o.common = common.options
        o.message = message
        o.closer = closer
        try runDemo { () throws(DemoError) in _ = try EchoDemo.run(o) }
    }
}
