import ArgumentParser
import NetDemos

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "TCP chat loop: both sides take turns sending lines; empty lines are refused; the server survives a client that vanishes and serves the next.",
        discussion: """
        In two terminals (--server, --client) each side reads its lines from standard input. --script FILE
        feeds lines instead, one per line: `client: TEXT` or `server: TEXT` is for that side only, any
        other line for both; a client line /quit closes normally (FIN), /vanish leaves abruptly
        (SO_LINGER 0 + close → RST). All-in-one mode without --script plays a built-in conversation.
        """)

    @OptionGroup var common: DemoCommonOptions

    @Option(help: ArgumentHelp("Read the lines to send from this file instead of standard input.", valueName: "file"))
    var script: String?

    @Option(help: "The server exits after this many clients.")
    var clients = 2

    func validate() throws {
        if clients < 1 || clients > 100 { throw ValidationError("--clients must be between 1 and 100") }
    }

    func run() throws {
        var o = ChatDemo.Options()
        o.common = common.options
        o.maxClients = clients
        try runDemo { () throws(DemoError) in
            if let script { o.script = try ChatDemo.readScript(path: script) }
            _ = try ChatDemo.run(o)
        }
    }
}
