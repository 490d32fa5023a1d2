import ArgumentParser
import NetDemos

struct UDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udp",
        abstract: "UDP sendto/recvfrom echo: each datagram arrives whole and separate (unlike TCP's byte stream).")

    @OptionGroup var common: DemoCommonOptions

    @Option(name: .customLong("message"), help: ArgumentHelp("A small datagram the client sends (repeatable; default: hello, world, how are you?).", valueName: "text"))
    var messages: [String] = []

    @Option(help: "Size of one large datagram the client sends last (0: none).")
    var big = 1400

    @Option(help: "Server: exit after echoing this many datagrams (default: as many as the client sends by default).")
    var count: Int?

    func validate() throws {
        if big < 0 || big > UDPDemo.maxDatagram { throw ValidationError("--big must be between 0 and \(UDPDemo.maxDatagram)") }
        if let count, count < 1 || count > 10000 { throw ValidationError("--count must be between 1 and 10000") }
        if messages.count > 1000 { throw ValidationError("at most 1000 --message") }
    }

    func run() throws {
        var o = UDPDemo.Options()
        o.common = common.options
        if !messages.isEmpty { o.messages = messages }
        o.bigSize = big
        o.serverCount = count
        try runDemo { () throws(DemoError) in _ = try UDPDemo.run(o) }
    }
}
