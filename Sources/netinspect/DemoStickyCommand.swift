import ArgumentParser
import NetDemos

struct StickyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sticky",
        abstract: "粘包: many small send()s, and the server's recv() results glue them together and cut them apart.",
        discussion: """
        The client sends --count messages back-to-back, one send() each ("hello", "world", …; with
        --size N each message is N copies of one letter). The server waits --read-delay seconds before
        its first recv(), then prints every recv() result. TCP keeps the bytes and their order, not the
        message boundaries. --nodelay turns Nagle's algorithm off: one segment per send() on the wire,
        yet recv() still glues them.
        """)

    @OptionGroup var common: DemoCommonOptions

    @Option(help: "How many messages the client sends.")
    var count = 20

    @Option(help: "Bytes per message (default: the words hello, world, foo, …).")
    var size: Int?

    @Flag(help: "Set TCP_NODELAY on the client (Nagle off) for contrast.")
    var nodelay = false

    @Option(name: .customLong("read-delay"), help: "Seconds the server waits before its first recv().")
    var readDelay = 0.5

    @Option(name: .customLong("recv-size"), help: "The server's recv() buffer size in bytes.")
    var recvSize = 32

    func validate() throws {
        guard (1 ... 10_000).contains(count) else { throw ValidationError("--count must be between 1 and 10000") }
        if let size, !(1 ... 65536).contains(size) { throw ValidationError("--size must be between 1 and 65536") }
        guard (1 ... 1 << 20).contains(recvSize) else { throw ValidationError("--recv-size must be between 1 and 1048576") }
        guard readDelay >= 0 && readDelay <= 60 else { throw ValidationError("--read-delay must be between 0 and 60 seconds") }
    }

    func run() throws {
        var o = StickyDemo.Options()
        o.common = common.options
        o.count = count
        o.size = size
        o.noDelay = nodelay
        o.readDelay = readDelay
        o.recvSize = recvSize
        try runDemo { () throws(DemoError) in _ = try StickyDemo.run(o) }
    }
}
