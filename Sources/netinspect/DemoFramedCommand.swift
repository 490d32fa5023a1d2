import ArgumentParser
import NetDemos

extension FramedDemo.Prefix: ExpressibleByArgument {}

struct FramedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "framed",
        abstract: "The fix for 粘包: 4-byte length, JSON header {\"total_size\": N, \"name\": …}, then the body.",
        discussion: """
        The client sends commands; the server runs only its allowlist of harmless built-ins (never a
        shell): date, uptime, echo WORDS, ls (of a demo directory it creates), big N (N bytes, at most
        10000000, so that one answer spans many segments). Anything else is answered with an error.
        Default commands: \(FramedDemo.defaultCommands.map { "\"\($0)\"" }.joined(separator: ", ")).
        """)

    @OptionGroup var common: DemoCommonOptions

    @Option(help: "Byte order of the 4-byte length prefix (le: Python's struct.pack('i') on x86).")
    var prefix: FramedDemo.Prefix = .le

    @Option(name: .customLong("command"), help: ArgumentHelp("A command the client sends (repeatable; replaces the defaults).", valueName: "line"))
    var commands: [String] = []

    func run() throws {
        var o = FramedDemo.Options()
        o.common = common.options
        o.prefix = prefix
        if !commands.isEmpty { o.commands = commands }
        try runDemo { () throws(DemoError) in _ = try FramedDemo.run(o) }
    }
}
