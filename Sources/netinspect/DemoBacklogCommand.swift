import ArgumentParser
import NetDemos

struct BacklogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backlog",
        abstract: "The accept queue: a slow server with a small listen() backlog, and many clients connecting at once.",
        discussion: """
        While the accept queue is full (backlog + 1 finished handshakes on Linux), new SYNs are dropped
        and the clients' kernels retransmit them 1 s, then 2 s, 4 s … later; the transcript shows which
        client connected when, the capture shows the SYN retransmissions and the established
        connections waiting for accept(). Loopback only; every client gives up after --timeout seconds.
        """)

    @OptionGroup var common: DemoCommonOptions

    @Option(help: "listen()'s backlog argument.")
    var backlog: Int32 = 2

    @Option(name: .customLong("accept-delay"), help: ArgumentHelp("Seconds the server sleeps after each accept().", valueName: "seconds"))
    var acceptDelay: Double = 0.25

    @Option(help: "Clients connecting at once (at most \(BacklogDemo.maxClients)).")
    var clients = 20

    func validate() throws {
        if clients < 1 || clients > BacklogDemo.maxClients { throw ValidationError("--clients must be between 1 and \(BacklogDemo.maxClients)") }
        if backlog < 0 || backlog > 4096 { throw ValidationError("--backlog must be between 0 and 4096") }
        if acceptDelay < 0 || acceptDelay > 60 { throw ValidationError("--accept-delay must be between 0 and 60 seconds") }
    }

    func run() throws {
        var o = BacklogDemo.Options()
        o.common = common.options
        o.backlog = backlog
        o.acceptDelay = acceptDelay
        o.clients = clients
        try runDemo { () throws(DemoError) in _ = try BacklogDemo.run(o) }
    }
}
