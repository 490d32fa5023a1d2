import ArgumentParser
import NetDemos

extension ResetDemo.Mode: ExpressibleByArgument {}

struct ResetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Abortive close: the client vanishes mid-conversation with RST; the server's recv() fails with ECONNRESET and it carries on.")

    @OptionGroup var common: DemoCommonOptions

    @Option(help: "How the client vanishes: linger0 (SO_LINGER 0, then close) or exit (close with the reply unread, as exit() does).")
    var mode: ResetDemo.Mode = .linger0

    @Option(help: "The line the client sends before it vanishes.")
    var message = "hello, server"

    func run() throws {
        var o = ResetDemo.Options()
        o.common = common.options
        o.mode = mode
        o.message = message
        try runDemo { () throws(DemoError) in _ = try ResetDemo.run(o) }
    }
}
