import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import NetAnalysis
import NetOutput
import Testing

/// `netinspect ladder`: the text diagram (golden file), the SVG (well-formed, one arrow per
/// segment), flow selection and its errors; and the renderer on its own.
@Suite struct LadderTests {
    /// One pipeline: the ladder shows the message notes (sticky, split, msg) that `-r` shows.
    @Test func ladderShowsTheMessageNotesOfTheTextView() throws {
        func notes(_ s: String) -> [String] {
            let re = try? NSRegularExpression(pattern: #"\[(sticky|split|msg)[^\]]*\]"#)
            let ns = s as NSString
            return re?.matches(in: s, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) } ?? []
        }
        let ladder = try CLI.run(["ladder", "-r", "captures/demo-sticky.pcap", "-n", "--width", "400"])
        let text = try CLI.run(["-r", "captures/demo-sticky.pcap", "-n"])
        #expect(ladder.status == 0 && text.status == 0)
        let a = notes(ladder.stdout), b = notes(text.stdout)
        #expect(!a.isEmpty)
        #expect(a == b)
        #expect(a.contains { $0.hasPrefix("[sticky") })
    }

    static let golden = "expected/ladder-tcp-handshake.txt"

    @Test func textMatchesGolden() throws {
        let r = try CLI.run(["ladder", "-r", "captures/tcp-handshake.pcap", "-n", "--width", "100"])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        let expected = try String(contentsOf: CLI.captures.appendingPathComponent(Self.golden), encoding: .utf8)
        #expect(r.stdout == expected)
    }

    /// `--explain`, in each language: the goldens, and every line's bars in the same columns
    /// (Chinese characters take two).
    @Test(arguments: [("en", "expected/ladder-tcp-handshake-explain-en.txt"), ("zh", "expected/ladder-tcp-handshake-explain-zh.txt")])
    func explainedMatchesGolden(_ lang: String, _ golden: String) throws {
        let r = try CLI.run(["ladder", "-r", "captures/tcp-handshake.pcap", "-n", "--width", "100", "--explain", "--lang", lang])
        #expect(r.status == 0)
        let expected = try String(contentsOf: CLI.captures.appendingPathComponent(golden), encoding: .utf8)
        #expect(r.stdout == expected)
        #expect(r.stdout.contains("↳ "))
        func columns(_ s: Substring) -> [Int] {
            var n = 0, at: [Int] = []
            for ch in s {
                if ch == "|" { at.append(n) }
                let v = ch.unicodeScalars.first?.value ?? 0
                n += (0x2E80 ... 0x9FFF).contains(v) || (0xFF00 ... 0xFF60).contains(v) ? 2 : 1
            }
            return at
        }
        let rows = r.stdout.split(separator: "\n").filter { $0.contains("|") && !$0.contains("[") }
        let bars = Set(rows.map { columns($0) })
        #expect(bars.count == 1, "\(bars)")
    }

    @Test(arguments: [60, 80, 100, 137])
    func everyLineFitsTheWidth(_ width: Int) throws {
        let r = try CLI.run(["ladder", "-r", "captures/demo-chat.pcap", "-n", "--width", "\(width)"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count > 10)
        for line in lines { #expect(line.count <= width, "\(line.count) > \(width): \(line)") }
        // Every segment of the first connection (10) is one arrow.
        let arrows = lines.filter { $0.contains("->|") || $0.contains("|<-") }
        #expect(arrows.count == 10)
    }

    @Test func arrowsShowDirectionFlagsStatesAndNotes() throws {
        let r = try CLI.run(["ladder", "-r", "captures/tcp-handshake.pcap", "-n", "--width", "120"])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let syn = try #require(lines.first { $0.contains("[S]") })
        #expect(syn.contains("SYN_SENT |--") && syn.contains("->| SYN_RCVD") && syn.contains("handshake 1/3"))
        let synAck = try #require(lines.first { $0.contains("[S.]") })
        #expect(synAck.contains("|<-") && synAck.contains("seq 0 ack 1") && synAck.contains("handshake 2/3"))
        #expect(lines.contains { $0.contains("CLOSED |") && $0.hasSuffix("| LISTEN") })
        #expect(lines.contains { $0.contains("[P.] seq 1:14 ack 1 len 13") })
        #expect(lines.contains { $0.contains("TIME_WAIT |<-") && $0.hasSuffix("| LAST_ACK") })
        #expect(lines.contains { $0.contains("client acks the last FIN") && $0.hasSuffix("| CLOSED") })
        #expect(lines.contains { $0.contains("127.0.0.1:60126") && $0.contains("127.0.0.1:9000") })
    }

    @Test func svgIsWellFormedWithTwoLinesAndOneArrowPerSegment() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ladder-\(UUID().uuidString).svg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLI.run(["ladder", "-r", "captures/tcp-handshake.pcap", "-n", "--svg", path])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let counter = ElementCounter()
        let parser = XMLParser(data: data)
        parser.delegate = counter
        #expect(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        #expect(counter.root == "svg")
        #expect(counter.classes["lifeline", default: 0] == 2)
        #expect(counter.classes["segment", default: 0] == 16)
        #expect(counter.markerEnds == 16)
        #expect(counter.classes["state", default: 0] >= 6)
        #expect(counter.texts.contains("handshake 1/3"))
        #expect(counter.texts.contains("SYN_SENT"))
        #expect(counter.texts.contains("[P.] seq 1:14 ack 1 len 13"))
    }

    @Test func svgToStandardOutput() throws {
        let r = try CLI.run(["ladder", "-r", "captures/demo-chat.pcap", "--flow", "2", "--svg", "-"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("<?xml"))
        #expect(r.stdout.components(separatedBy: "class=\"segment\"").count - 1 == 10)
    }

    @Test func flowPicksTheSecondConnection() throws {
        let first = try CLI.run(["ladder", "-r", "captures/demo-chat.pcap", "-n", "--width", "100"])
        let second = try CLI.run(["ladder", "-r", "captures/demo-chat.pcap", "-n", "--width", "100", "--flow", "2"])
        #expect(first.status == 0 && second.status == 0)
        #expect(first.stdout.contains("TCP flow 1: 127.0.0.1:53550 > 127.0.0.1:9002"))
        #expect(first.stdout.contains("reset by client"))
        #expect(second.stdout.contains("TCP flow 2: 127.0.0.1:53554 > 127.0.0.1:9002"))
        #expect(!second.stdout.contains("53550"))
        #expect(!second.stdout.contains("reset"))
        #expect(second.stdout.contains("teardown 4/4"))
        // The same ids as --flows prints.
        let flows = try CLI.run(["-n", "-q", "--flows", "-r", "captures/demo-chat.pcap"])
        #expect(flows.stdout.contains("flow 2 tcp 127.0.0.1:53554 > 127.0.0.1:9002"))
    }

    @Test func unknownFlowIsOneLineAndExit1() throws {
        let r = try CLI.run(["ladder", "-r", "captures/demo-chat.pcap", "--flow", "9"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "netinspect ladder: no flow 9 in captures/demo-chat.pcap (its flows are 1 to 2; see --flows)\n")
    }

    @Test func captureWithoutTCPIsAClearMessage() throws {
        let r = try CLI.run(["ladder", "-r", "captures/dns-udp.pcap"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "netinspect ladder: no TCP connection in captures/dns-udp.pcap\n")
        let udp = try CLI.run(["ladder", "-r", "captures/dns-udp.pcap", "--flow", "1"])
        #expect(udp.status == 1)
        #expect(udp.stderr.contains("is UDP"))
        #expect(udp.stderr.split(separator: "\n").count == 1)
    }

    @Test func missingFileAndBadWidth() throws {
        let missing = try CLI.run(["ladder", "-r", "captures/no-such-file.pcap"])
        #expect(missing.status == 1)
        #expect(missing.stderr.split(separator: "\n").count == 1)
        let narrow = try CLI.run(["ladder", "-r", "captures/tcp-handshake.pcap", "--width", "20"])
        #expect(narrow.status != 0)
        #expect(narrow.stderr.contains("--width must be from"))
    }

    // MARK: the renderer alone

    static func sample() -> LadderDiagram {
        LadderDiagram(title: "", client: "10.0.0.1:40000", server: "10.0.0.2:80", initialStates: (.closed, .listen), events: [
            LadderEvent(nanoseconds: 0, fromClient: true, flags: "S", seq: 0, ack: nil, length: 0,
                        note: "handshake 1/3", states: (.synSent, .synReceived)),
            LadderEvent(nanoseconds: 1500, fromClient: false, flags: "R.", seq: 0, ack: 1, length: 0,
                        note: "connection refused (RST answers the SYN) <&>", states: (.closed, .closed)),
        ])
    }

    @Test func rendererDrawsStateChangesOnlyWhenTheyChange() {
        let text = Self.sample().text(width: 80)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines.contains { $0.hasPrefix("0.000000") && $0.contains("SYN_SENT |-- [S] seq 0 len 0 [handshake 1/3]") && $0.hasSuffix("->| SYN_RCVD") })
        #expect(lines.contains { $0.hasPrefix("0.000001") && $0.contains("CLOSED |<") && $0.hasSuffix("--| CLOSED") })
        #expect(lines.contains { $0.contains("connection refused") })
        #expect(LadderEvent.flagString([.syn, .ack]) == "S.")
        #expect(LadderEvent.flagString([.psh, .ack]) == "P.")
        #expect(LadderEvent.flagString([.fin, .ack]) == "F.")
        #expect(LadderEvent.flagString([]) == "none")
    }

    @Test func rendererEscapesSVGText() throws {
        let svg = Self.sample().svg()
        #expect(svg.contains("&lt;&amp;&gt;"))
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse())
    }
}

/// Counts SVG elements by their `class` attribute, and collects text content.
final class ElementCounter: NSObject, XMLParserDelegate {
    var root: String?
    var classes: [String: Int] = [:]
    var markerEnds = 0
    var texts: Set<String> = []
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        if let c = attributes["class"] { classes[c, default: 0] += 1 }
        if name == "line", attributes["marker-end"] != nil { markerEnds += 1 }
        current = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.insert(current) }
        current = ""
    }
}
