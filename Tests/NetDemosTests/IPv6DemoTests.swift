#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetAnalysis
import NetCapture
import NetWire
import Testing
@testable import NetDemos

/// What a demo's own `--capture` of its traffic over ::1 holds, decoded and analysed the way
/// `netinspect -r` does it.
struct CapturedConversation {
    var packets = 0
    /// Packets with an IPv6 header from ::1 to ::1.
    var loopbackIPv6 = 0
    var ipv4 = 0
    var dnsMessages = 0
    var notes: [String] = []
    var flows: [FlowSummary] = []

    static let loopback = IPv6Address(hi: 0, lo: 1)

    init(file: String, dnsPort: UInt16? = nil) throws {
        let source = try CaptureSource.open(file: file)
        let decoder = PacketDecoder(extraDNSPorts: dnsPort.map { [$0] } ?? [])
        var finished: [FlowSummary] = []
        var analyzer = PacketAnalyzer(flows: FlowTracker(finished: { finished.append($0) }))
        var p = Packet()
        var frameNotes: [Note] = []
        var me = self
        _ = source.forEach { frame, record in
            decoder.decode(record.bytes, wireLength: record.wireLength, linkType: LinkType(rawValue: source.linkType), into: &p)
            me.packets += 1
            if let ip = p.ipv6, ip.source == Self.loopback, ip.destination == Self.loopback { me.loopbackIPv6 += 1 }
            if p.ipv4 != nil { me.ipv4 += 1 }
            if p.dns != nil { me.dnsMessages += 1 }
            _ = analyzer.analyze(&p, frame: frame, seconds: record.seconds, nanoseconds: record.nanoseconds,
                                 bytes: record.bytes, wireLength: record.wireLength, notes: &frameNotes)
            me.notes += frameNotes.map(\.text)
            return true
        }
        analyzer.flows.finishAll()
        me.flows = finished
        self = me
    }
}

/// echo, sticky and dns over ::1 with --capture (needs root; skipped with a message otherwise): the
/// recorded traffic is IPv6 end to end and analyses like the IPv4 runs (handshake, teardown, flows).
@Suite(.enabled(if: geteuid() == 0, "capturing on lo needs root or cap_net_raw,cap_net_admin"), .serialized)
struct IPv6DemoCaptureTests {
    static func tempFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).pcap").path
    }

    static func common(capture file: String) -> DemoOptions {
        var o = DemoOptions()
        o.host = "::1"
        o.port = 0
        o.timeout = 5
        o.echoTranscript = false
        o.captureFile = file
        return o
    }

    @Test func echoOverIPv6() throws {
        let file = Self.tempFile("demo-echo-v6")
        defer { unlink(file) }
        var o = EchoDemo.Options()
        o.common = Self.common(capture: file)
        let r = try EchoDemo.run(o)
        #expect(r.reply == "HELLO, SERVER\n")
        let c = try CapturedConversation(file: file)
        #expect(c.packets >= 10)
        #expect(c.loopbackIPv6 == c.packets)
        #expect(c.ipv4 == 0)
        #expect(c.notes.contains("handshake 1/3"))
        #expect(c.notes.contains("teardown 4/4 (client acks the last FIN)"))
        let f = try #require(c.flows.first)
        #expect(c.flows.count == 1)
        #expect(f.isTCP)
        #expect(f.client.isIPv6 && f.server.isIPv6)
        #expect(f.server.ipv6 == CapturedConversation.loopback)
        #expect(f.bytes.c2s == 14 && f.bytes.s2c == 14)
        #expect(f.connState == "SF")
        #expect(f.end == "fin by client")
    }

    @Test func stickyOverIPv6() throws {
        let file = Self.tempFile("demo-sticky-v6")
        defer { unlink(file) }
        var o = StickyDemo.Options()
        o.common = Self.common(capture: file)
        o.count = 20
        o.readDelay = 1
        let r = try StickyDemo.run(o)
        #expect(r.received.flatMap { $0 } == r.sent.flatMap { $0 })
        let c = try CapturedConversation(file: file)
        #expect(c.loopbackIPv6 == c.packets)
        #expect(c.notes.contains("handshake 3/3") || c.notes.contains { $0.hasPrefix("handshake 3/3") })
        let f = try #require(c.flows.first)
        #expect(c.flows.count == 1)
        // Every byte sent is on the wire (a retransmitted segment counts twice).
        #expect(f.bytes.c2s >= r.sent.reduce(0) { $0 + $1.count })
        #expect(f.bytes.s2c == 0)
        #expect(f.connState == "SF")
    }

    @Test func dnsOverIPv6() throws {
        let file = Self.tempFile("demo-dns-v6")
        defer { unlink(file) }
        var o = DnsDemo.Options()
        o.common = Self.common(capture: file)
        let r = try DnsDemo.run(o)
        #expect(r.servedUDP == DnsDemo.allInOneQueries.count)
        #expect(r.servedTCP == 1)
        // The AAAA answer came back over IPv6.
        let aaaa = try #require(r.queries.first { $0.type == DnsDemo.parseType("AAAA") })
        #expect(aaaa.answers.map(\.data) == [DnsDemoTests.www6])
        let c = try CapturedConversation(file: file, dnsPort: r.port)
        #expect(c.loopbackIPv6 == c.packets)
        // Every UDP query and answer decodes as DNS (2 per query over UDP).
        #expect(c.dnsMessages == 2 * DnsDemo.allInOneQueries.count)
        #expect(c.flows.filter { !$0.isTCP }.count == DnsDemo.allInOneQueries.count)
        let tcp = try #require(c.flows.first { $0.isTCP })
        #expect(tcp.connState == "SF")
        #expect(tcp.server.port == r.port)
        #expect(tcp.bytes.s2c > Int(DnsDemo.udpLimit))
    }
}

/// Every demo runs over ::1 (`--host ::1`): AF_INET6 sockets, peers shown as `[::1]:port`.
@Suite struct EveryDemoOverIPv6Tests {
    static func common() -> DemoOptions {
        var o = DemoOptions()
        o.host = "::1"
        o.port = 0
        o.timeout = 5
        o.echoTranscript = false
        return o
    }

    @Test func sticky() throws {
        var o = StickyDemo.Options()
        o.common = Self.common()
        o.count = 20
        o.patterns = false
        o.readDelay = 1
        let r = try StickyDemo.run(o)
        #expect(r.received.flatMap { $0 } == r.sent.flatMap { $0 })
        #expect(r.received.count < r.sent.count)
        #expect(String(decoding: r.received.first ?? [], as: UTF8.self).hasPrefix("hello\nworld\n"))
        #expect(r.transcript.contains { $0.hasPrefix("server: accept() → connection from [::1]:") })
    }

    @Test func framed() throws {
        var o = FramedDemo.Options()
        o.common = Self.common()
        o.commands = ["echo over ipv6", "big 5000"]
        let r = try FramedDemo.run(o)
        #expect(r.answers.map(\.name) == ["echo", "big"])
        #expect(r.answers.first.map { String(decoding: $0.body, as: UTF8.self) } == "over ipv6\n")
        #expect(r.answers.last?.body.count == 5000)
    }

    @Test func download() throws {
        var o = DownloadDemo.Options()
        o.common = Self.common()
        o.file = "hello.txt"
        let r = try DownloadDemo.run(o)
        #expect(r.data == DownloadDemo.sampleFiles[0].bytes)
    }

    @Test func chat() throws {
        var o = ChatDemo.Options()
        o.common = Self.common()
        o.script = ["client: hello over ipv6", "server: hello back"]
        let r = try ChatDemo.run(o)
        #expect(r.serverReceived == [["hello over ipv6"]])
        #expect(r.clientReceived == ["hello back"])
    }

    @Test func reset() throws {
        var o = ResetDemo.Options()
        o.common = Self.common()
        let r = try ResetDemo.run(o)
        #expect(r.serverSawReset)
        #expect(r.serverError == "ECONNRESET")
    }

    @Test func dns() throws {
        var o = DnsDemo.Options()
        o.common = Self.common()
        o.queries = [("www.demo.test", 28), ("big.demo.test", 16)]
        let r = try DnsDemo.run(o)
        #expect(r.queries.first?.answers.map(\.data) == [DnsDemoTests.www6])
        #expect(r.queries.last?.truncatedOverUDP == true && r.queries.last?.overTCP == true)
    }

    @Test func backlog() throws {
        var o = BacklogDemo.Options()
        o.common = Self.common()
        o.common.timeout = 8
        o.clients = 3
        o.backlog = 2
        o.acceptDelay = 0.05
        let r = try BacklogDemo.run(o)
        #expect(r.clients.count == 3)
        #expect(r.clients.allSatisfy { $0.outcome == .served })
    }
}
