import ArgumentParser
import NetDemos

struct DnsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "DNS over UDP and TCP: a tiny server for demo.test, and a client; big answers set TC and go over TCP.",
        discussion: """
        The server binds port 53 when it may (root), otherwise 10053 and says so (read such a capture
        with netinspect --dns-port 10053). It answers A, AAAA, CNAME, MX, TXT, NS, SOA and ANY from a
        built-in zone under demo.test (try www, alias, mail, big, or a missing name for NXDOMAIN).
        An answer over 512 bytes (big.demo.test TXT) is sent over UDP with only the TC bit; the client
        asks again over TCP, where every message is preceded by a 2-byte length.
        All-in-one mode and --client without NAME TYPE ask one query of every kind.
        """)

    @OptionGroup var common: DemoCommonOptions

    @Argument(help: ArgumentHelp("The query to send: a name (e.g. www.demo.test), then a type (A, AAAA, CNAME, MX, TXT, NS, SOA, ANY; default A).",
                                 valueName: "name type"))
    var query: [String] = []

    func validate() throws {
        if query.count > 2 { throw ValidationError("give one query: NAME [TYPE]") }
        if !query.isEmpty && common.server { throw ValidationError("NAME TYPE is for the client (--client, or all-in-one)") }
        if query.count == 2 && DnsDemo.parseType(query[1]) == nil {
            throw ValidationError("unknown type '\(query[1])' (A, AAAA, CNAME, MX, TXT, NS, SOA, ANY or TYPEnnn)")
        }
    }

    func run() throws {
        var o = DnsDemo.Options()
        o.common = common.options
        if let name = query.first {
            o.queries = [(name, query.count == 2 ? DnsDemo.parseType(query[1])! : 1)]
        }
        try runDemo { () throws(DemoError) in _ = try DnsDemo.run(o) }
    }
}
