import ArgumentParser
import NetDemos

struct StickyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sticky",
        abstract: "粘包: many small send()s, and the server's recv() results glue them together and cut them apart.",
        discussion: """
        The client sends --count messages back-to-back, one send() each ("hello\\n", "world\\n", …;
        with --size N each message is N copies of one letter; --raw leaves the newline out). Then five
        messages with MSG_MORE (one segment), a 3000-byte message in three send()s, and a segment with
        the end of one message, a whole one and the start of another (--no-patterns leaves them out). The server waits --read-delay seconds before
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

    @Flag(help: "Send the messages without their trailing newline (no framing at all: the classic \"helloworld\").")
    var raw = false

    @Flag(name: .customLong("no-patterns"), help: "Only the small messages: no MSG_MORE burst, no big message, no mixed segment.")
    var noPatterns = false

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
        o.raw = raw
        o.patterns = !noPatterns
        try runDemo { () throws(DemoError) in _ = try StickyDemo.run(o) }
    }
}
