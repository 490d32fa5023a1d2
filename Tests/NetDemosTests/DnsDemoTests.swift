import Testing
@testable import NetDemos

@Suite struct DnsDemoTests {
    func options(_ queries: [(name: String, type: UInt16)] = []) -> DnsDemo.Options {
        var o = DnsDemo.Options()
        o.common.port = 0  // any free port (UDP and TCP)
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.queries = queries
        return o
    }

    static let www4: DnsDemo.RData = .a([192, 0, 2, 80])
    static let www6: DnsDemo.RData = .aaaa([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80])

    /// The zone's records for a name and type, as the demo defines them.
    func zone(_ name: String, _ type: UInt16) -> [DnsDemo.Record] {
        DnsDemo.zone.filter { $0.name == name && $0.type == type }
    }

    @Test func everyAnswerMatchesTheZone() throws {
        let r = try DnsDemo.run(options())
        #expect(r.queries.count == DnsDemo.allInOneQueries.count)
        func q(_ name: String, _ type: String) -> DnsDemo.QueryResult? {
            r.queries.first { $0.name == name && $0.type == DnsDemo.parseType(type) }
        }

        // A and AAAA
        let a = try #require(q("www.demo.test", "A"))
        #expect(a.rcode == 0)
        #expect(a.answers.map(\.data) == [Self.www4])
        #expect(a.answers == zone("www.demo.test", 1))
        #expect(a.message?.authoritative == true)
        #expect(a.overTCP == false && a.truncatedOverUDP == false)
        let aaaa = try #require(q("www.demo.test", "AAAA"))
        #expect(aaaa.answers.map(\.data) == [Self.www6])
        #expect(aaaa.answers.first?.name == "www.demo.test")

        // CNAME, then the target's A
        let alias = try #require(q("alias.demo.test", "A"))
        #expect(alias.rcode == 0)
        #expect(alias.answers.map(\.name) == ["alias.demo.test", "www.demo.test"])
        #expect(alias.answers.map(\.data) == [.cname("www.demo.test"), Self.www4])

        // MX: preference and exchange, the exchanges' addresses as additional records
        let mx = try #require(q("demo.test", "MX"))
        #expect(mx.answers.map(\.data) == [.mx(preference: 10, exchange: "mail.demo.test"),
                                           .mx(preference: 20, exchange: "backup-mail.demo.test")])
        #expect(mx.answers == zone("demo.test", 15))
        #expect(mx.additional.contains { $0.name == "mail.demo.test" && $0.data == .a([192, 0, 2, 25]) })
        #expect(mx.additional.contains { $0.name == "backup-mail.demo.test" && $0.data == .a([192, 0, 2, 26]) })

        // TXT strings
        let txt = try #require(q("demo.test", "TXT"))
        #expect(txt.answers.map(\.data) == [.txt(["v=demo1", "the netinspect dns demo zone"])])

        // NXDOMAIN, with the zone's SOA in the authority section
        let nx = try #require(q("missing.demo.test", "A"))
        #expect(nx.rcode == 3)
        #expect(nx.answers.isEmpty)
        #expect(nx.authority.count == 1)
        #expect(nx.authority.first?.name == "demo.test")
        #expect(nx.authority.first?.data == DnsDemo.soa)

        // The server answered every query.
        #expect(r.servedUDP == DnsDemo.allInOneQueries.count)
        #expect(r.servedTCP == 1)
    }

    @Test func bigAnswerComesBackCompleteOverTCP() throws {
        let r = try DnsDemo.run(options([("big.demo.test", 16)]))
        let big = try #require(r.queries.first)
        #expect(big.truncatedOverUDP)
        #expect(big.overTCP)
        #expect(big.size > DnsDemo.udpLimit)
        #expect(big.rcode == 0)
        #expect(big.message?.truncatedFlag == false)
        #expect(big.answers.map(\.data) == [.txt(DnsDemo.bigText)])
        #expect(r.transcript.contains { $0.hasPrefix("client: ") && $0.contains("TC set") })
        #expect(r.transcript.contains { $0.hasPrefix("server: ") && $0.contains("TC (truncated) set") })
        #expect(r.transcript.contains { $0.hasPrefix("server: accept() → TCP connection") })
        #expect(r.servedUDP == 1 && r.servedTCP == 1)
    }

    @Test func namesInAnswersAreCompressed() throws {
        let query = DnsDemo.buildQuery(id: 7, name: "alias.demo.test", type: 1)
        let reply = try #require(DnsDemo.respond(to: query))
        // The answer owner names point back to the question (offset 12): no second copy of the labels.
        let labels = Array("\u{5}alias\u{4}demo\u{4}test".utf8)
        let copies = (0 ... reply.count - labels.count).filter { Array(reply[$0 ..< $0 + labels.count]) == labels }
        #expect(copies == [12])
        #expect(reply.contains(0xC0))
        let decoded = try #require(DnsDemo.decode(reply))
        #expect(decoded.answers.map(DnsDemo.record).map(\.data) == [.cname("www.demo.test"), Self.www4])
    }

    @Test func mixedCaseNamesAndOutsideTheZone() throws {
        let r = try DnsDemo.run(options([("WWW.Demo.Test", 1), ("example.com", 1), ("www.demo.test", 15)]))
        #expect(r.queries[0].answers.map(\.data) == [Self.www4])
        #expect(r.queries[1].rcode == 5)  // REFUSED: not our zone
        #expect(r.queries[2].rcode == 0)  // NODATA: the name exists, no MX
        #expect(r.queries[2].answers.isEmpty)
        #expect(r.queries[2].authority.first?.data == DnsDemo.soa)
    }

    @Test func malformedQueriesDoNotCrashTheServer() {
        #expect(DnsDemo.respond(to: []) == nil)
        #expect(DnsDemo.respond(to: [UInt8](repeating: 0, count: 11)) == nil)
        // A pointer loop in the question: FORMERR.
        let loop: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        let reply = DnsDemo.respond(to: loop)
        #expect(reply.map { $0[3] & 0xF } == 1)
    }
}
