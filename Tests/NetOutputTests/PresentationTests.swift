import Foundation
import NetAnalysis
@testable import NetOutput
import NetWire
import Testing

/// The merged output the golden files hold: the first stderr line (the "reading from file"
/// banner), stdout, the rest of stderr, and the exit status (as scripts/update-goldens writes them).
private func merged(_ r: CLI.Result) -> String {
    let err = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var errLines = err
    if errLines.last == "" { errLines.removeLast() }
    let first = errLines.first.map { $0 + "\n" } ?? ""
    let rest = errLines.dropFirst().map { $0 + "\n" }.joined()
    return first + r.stdout + rest + "exit \(r.status)\n"
}

/// Golden files of the presentation outputs (scripts/update-goldens writes them): every
/// `NAME.v.txt`, `NAME.vv.txt`, `NAME.X.txt`, `NAME.stats.txt` and `NAME.stats.json` in
/// captures/expected is compared with what the binary prints for captures/NAME.
@Suite struct PresentationGoldenTests {
    /// Golden file suffix and the arguments that produce it (`FILE`: the capture).
    static let kinds: [(suffix: String, args: [String])] = [
        (".v.txt", ["-n", "-v", "-r", "FILE"]),
        (".vv.txt", ["-n", "-vv", "-r", "FILE"]),
        (".X.txt", ["-n", "-X", "-r", "FILE"]),
        (".stats.txt", ["stats", "-r", "FILE"]),
        (".stats.json", ["stats", "-r", "FILE", "--json"]),
        // --explain in each language, with the capture's --flows (header line and legend).
        (".explain.zh.txt", ["-n", "-r", "FILE", "--explain", "--lang", "zh"]),
        (".explain.txt", ["-n", "-r", "FILE", "--explain", "--lang", "en"]),
    ]

    static var goldens: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: CLI.captures.appendingPathComponent("expected").path)) ?? []
        return names.filter { n in kinds.contains { n.hasSuffix($0.suffix) } }.sorted()
    }

    static func capture(for golden: String, suffix: String) -> String? {
        let name = String(golden.dropLast(suffix.count))
        return CLI.fixtures.first { CLI.stem($0) == name }
    }

    @Test func everyKindHasGoldens() {
        for kind in Self.kinds {
            #expect(Self.goldens.contains { $0.hasSuffix(kind.suffix) }, "no golden file ends in \(kind.suffix)")
        }
        // --stats on every capture.
        #expect(Self.goldens.filter { $0.hasSuffix(".stats.txt") }.count == CLI.fixtures.count)
    }

    @Test(arguments: PresentationGoldenTests.goldens)
    func outputMatchesGolden(_ golden: String) throws {
        let kind = try #require(Self.kinds.first { golden.hasSuffix($0.suffix) })
        let capture = try #require(Self.capture(for: golden, suffix: kind.suffix), "no capture for \(golden)")
        // The capture's extra arguments (captures/NAME.args: a framing), less --flows.
        let extra = CLI.extraArgs(capture).filter { $0 != "--flows" || kind.suffix.hasPrefix(".explain") }
        let r = try CLI.run(kind.args.map { $0 == "FILE" ? "captures/\(capture)" : $0 } + extra)
        let expected = try String(contentsOf: CLI.captures.appendingPathComponent("expected/\(golden)"), encoding: .utf8)
        #expect(merged(r) == expected, "\(golden): run scripts/update-goldens and review the diff")
    }
}

/// `-v`: what the layered view says, checked against the packets' known contents.
@Suite struct LayeredViewTests {
    static func run(_ args: [String]) throws -> String {
        let r = try CLI.run(args)
        #expect(r.status == 0 && !r.signaled, "\(args): \(r.stderr)")
        return r.stdout
    }

    /// The blocks of each packet, outermost first, labelled with the course's layers.
    @Test func layersInOrder() throws {
        let out = try Self.run(["-n", "-v", "-r", "captures/demo-dns.pcap", "-c", "1"])
        let labels = out.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .map { String($0.dropFirst(2).prefix { $0 != "," }) }
        #expect(labels == ["Physical: frame 1", "Link: Ethernet II", "Network: IPv4", "Transport: UDP", "Application: DNS"])
    }

    @Test func fieldsWithTheirMeaning() throws {
        let out = try Self.run(["-n", "-v", "-r", "captures/tcp-handshake.pcap", "-c", "4"])
        for expected in [
            "    flags: 0x018 [PSH, ACK]",
            "    flags: 0x002 [SYN]",
            "    window: 64 (scaled ×1024 = 65536)",
            "    window: 65495 (a SYN's window is never scaled)",
            "    ttl: 64 (hops left)",
            "    checksum: 0x07b9 ok",
            "    seq: 354837917 (relative 1, next 14)",
            "      window scale: 10 (×1024)",
            "      mss: 65495 bytes (largest segment this side accepts)",
            "    text: \"hello server\\n\"",
        ] {
            #expect(out.contains(expected + "\n"), "missing: \(expected)")
        }
    }

    /// The packet lines of `-v` are exactly the default output's lines; everything else is indented.
    @Test(arguments: CLI.fixtures)
    func packetLinesUnchanged(_ file: String) throws {
        let plain = try CLI.run(["-n", "-r", "captures/\(file)"])
        let detailed = try CLI.run(["-n", "-v", "-X", "--hex-payload", "-r", "captures/\(file)"])
        #expect(detailed.status == plain.status && !detailed.signaled)
        let lines = detailed.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let top = lines.filter { !$0.hasPrefix(" ") && !$0.hasPrefix("\t") && !$0.isEmpty }
        #expect(top.joined(separator: "\n") + (top.isEmpty ? "" : "\n") == plain.stdout)
        #expect(detailed.stderr == plain.stderr)
    }

    /// A decode error appears under the layer where it happened, after that layer's fields.
    @Test func errorsWhereTheyHappened() throws {
        let out = try Self.run(["-n", "-v", "-r", "captures/truncated-snaplen.pcap", "-c", "1"])
        let lines = out.split(separator: "\n").map(String.init)
        let transport = try #require(lines.firstIndex { $0.hasPrefix("  Transport: TCP") })
        let error = try #require(lines.firstIndex { $0.contains("error: truncated") })
        #expect(error > transport)
        #expect(lines[error].contains("[|tcp]"))
        let corrupted = try Self.run(["-n", "-v", "-r", "captures/corrupted.pcap", "-c", "1"])
        let c = corrupted.split(separator: "\n").map(String.init)
        let network = try #require(c.firstIndex { $0.hasPrefix("  Network: IPv4") })
        let malformed = try #require(c.firstIndex { $0.contains("error: malformed ip (header length 16 at offset 14)") })
        #expect(malformed == network + 3, "\(c)")
    }

    @Test func analysisWithVV() throws {
        let out = try Self.run(["-n", "-vv", "-r", "captures/tcp-rst-abort.pcap"])
        #expect(out.contains("  Analysis: flow 1, client to server\n    handshake 1/3 | client SYN_SENT, server SYN_RCVD\n"))
        #expect(out.contains("    reset by server in ESTABLISHED | client CLOSED, server CLOSED\n"))
        // The kind is written when the text does not start with it.
        let mid = try Self.run(["-n", "-vv", "-r", "captures/tcp-midstream.pcap", "-c", "1"])
        #expect(mid.contains("    midstream: mid-stream: no handshake seen"), "\(mid)")
        // -vv keeps the states on the line (what -v did before the layered view); -v does not.
        #expect(out.contains("[handshake 1/3 | client SYN_SENT, server SYN_RCVD]"))
        let v = try Self.run(["-n", "-v", "-r", "captures/tcp-rst-abort.pcap"])
        #expect(!v.contains("| client") && !v.contains("Analysis:"))
    }

    @Test func hexPayloadAlone() throws {
        let out = try Self.run(["-n", "--hex-payload", "-r", "captures/tcp-handshake.pcap", "-c", "4"])
        let lines = out.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[4] == "\t0x0000:  6865 6c6c 6f20 7365 7276 6572 0a         hello.server.")
    }
}

/// `-x`/`-X`: tcpdump's layout, byte for byte (tcpdump is the oracle where it is installed).
@Suite struct HexDumpTests {
    func render(_ bytes: [UInt8], ascii: Bool) -> String {
        var o = OutputBuffer(fd: -1, capacity: 64)
        bytes.withUnsafeBytes { HexDump.lines($0, ascii: ascii, into: &o) }
        return o.takeString()
    }

    @Test func layout() {
        #expect(render([], ascii: true) == "")
        #expect(render([0x0a], ascii: true) == "\t0x0000:  0a" + String(repeating: " ", count: 39) + ".\n")
        #expect(render([0x41, 0x42, 0x20], ascii: false) == "\t0x0000:  4142 20\n")
        let sixteen = Array(0x41 ..< 0x51).map(UInt8.init)
        #expect(render(sixteen, ascii: true) == "\t0x0000:  4142 4344 4546 4748 494a 4b4c 4d4e 4f50  ABCDEFGHIJKLMNOP\n")
        let seventeen = render(sixteen + [0x7f], ascii: true).split(separator: "\n")
        #expect(seventeen.count == 2)
        #expect(seventeen[1] == "\t0x0010:  7f" + String(repeating: " ", count: 39) + ".")
        // Offsets past 0xffff take more digits, as tcpdump's %04x.
        let big = render([UInt8](repeating: 0, count: 0x10010), ascii: false).split(separator: "\n")
        #expect(big.last?.hasPrefix("\t0x10000:  ") == true)
    }

    static var tcpdump: String? {
        ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// tcpdump prints the link header for a packet its printer found truncated, and prints an
    /// unsupported link type's bytes twice: those three captures differ on purpose.
    static let tcpdumpQuirks: Set<String> = ["corrupted.pcap", "truncated-snaplen.pcap", "unknown-dlt.pcap"]

    @Test(.enabled(if: HexDumpTests.tcpdump != nil), arguments: CLI.fixtures)
    func sameBytesAsTcpdump(_ file: String) throws {
        guard !Self.tcpdumpQuirks.contains(file), let tcpdump = Self.tcpdump else { return }
        for flag in ["-x", "-xx", "-X", "-XX"] {
            let ours = try CLI.run(["-n", flag, "-r", "captures/\(file)"])
            let theirs = try CLI.output(of: tcpdump, ["-n", flag, "-r", CLI.captures.appendingPathComponent(file).path])
            func hex(_ s: String) -> [Substring] { s.split(separator: "\n").filter { $0.hasPrefix("\t0x") } }
            #expect(hex(ours.stdout) == hex(theirs), "\(file) \(flag)")
            #expect(!hex(ours.stdout).isEmpty || file == "truncated-file.pcap", "\(file) \(flag): no hex lines")
        }
    }
}

/// `--color`: escape codes only when asked for or on a terminal.
@Suite struct ColorTests {
    static let esc = "\u{1B}["

    @Test func pipedOutputIsPlain() throws {
        for args in [["-n"], ["-n", "-vv", "-X"], ["-n", "--color", "auto"], ["-n", "--color", "never", "-v"], ["--json"],
                     ["stats"], ["-n", "--flows", "--stats"]] {
            let a = args.first == "stats" ? ["stats", "-r", "captures/tcp-rst-abort.pcap"] : args + ["-r", "captures/tcp-rst-abort.pcap"]
            let r = try CLI.run(a)
            #expect(r.status == 0)
            #expect(!r.stdout.contains(Self.esc) && !r.stderr.contains(Self.esc), "\(a)")
        }
    }

    @Test func alwaysColors() throws {
        let r = try CLI.run(["-n", "--color", "always", "-r", "captures/tcp-rst-abort.pcap"])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.contains(Self.esc) })
        // handshake green, reset red, addresses cyan, SYN flags green, RST flags red.
        #expect(lines[0].contains("\u{1B}[32m[handshake 1/3]\u{1B}[0m"))
        #expect(lines[0].contains("\u{1B}[36m192.0.2.10.41006\u{1B}[0m"))
        #expect(lines[0].contains("Flags [\u{1B}[32mS\u{1B}[0m]"))
        #expect(r.stdout.contains("Flags [\u{1B}[31mR.\u{1B}[0m]"))
        #expect(r.stdout.contains("\u{1B}[31m[reset by server in ESTABLISHED]\u{1B}[0m"))
        // Without the escapes, the same text as without color.
        let plain = try CLI.run(["-n", "-r", "captures/tcp-rst-abort.pcap"])
        #expect(r.stdout.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression) == plain.stdout)
        // JSON never.
        let json = try CLI.run(["--json", "--color", "always", "-r", "captures/tcp-rst-abort.pcap"])
        #expect(!json.stdout.contains(Self.esc))
    }

    @Test func errorsAreRed() throws {
        let r = try CLI.run(["-n", "-v", "--color", "always", "-r", "captures/corrupted.pcap", "-c", "1"])
        #expect(r.stdout.contains("\u{1B}[31m(invalid ip: header length 16 at offset 14)\u{1B}[0m"))
        #expect(r.stdout.contains("\u{1B}[31merror: malformed ip"))
        #expect(r.stdout.contains("\u{1B}[1mNetwork: IPv4\u{1B}[0m"))
    }

    @Test func noteColorsByKind() {
        func color(_ kind: String) -> String? { Style.note(named: kind).map { "\($0)" } }
        #expect(color("handshake") == "\(Style.green)")
        #expect(color("teardown") == "\(Style.blue)")
        #expect(color("reset") == "\(Style.red)")
        #expect(color("retransmission") == "\(Style.red)")
        #expect(color("sticky") == "\(Style.yellow)")
        #expect(color("split") == "\(Style.yellow)")
        #expect(color("a_kind_from_the_future") == nil)
    }

    /// On a terminal (a pseudo-terminal from util-linux `script`), auto colors unless NO_COLOR.
    static var script: String? {
        ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: ColorTests.script != nil))
    func autoOnATerminal() throws {
        func onTerminal(_ env: [String: String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.script ?? "/usr/bin/script")
            p.arguments = ["-qec", "\(CLI.binary.path) -n -c 1 -r captures/tcp-rst-abort.pcap", "/dev/null"]
            p.currentDirectoryURL = CLI.repo
            var e = ProcessInfo.processInfo.environment
            e["NO_COLOR"] = nil
            e["TERM"] = "xterm"
            for (k, v) in env { e[k] = v }
            p.environment = e
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardInput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let colored = try onTerminal([:])
        #expect(colored.contains("[handshake 1/3]"), "\(colored)")
        #expect(colored.contains("\u{1B}[32m[handshake 1/3]"))
        let plain = try onTerminal(["NO_COLOR": "1"])
        #expect(plain.contains("[handshake 1/3]"))
        #expect(!plain.contains("\u{1B}[3"), "\(plain)")
    }
}

/// `--stats` and `netinspect stats`.
@Suite struct StatisticsTests {
    @Test func statsSubcommandIsStatsQuiet() throws {
        let sub = try CLI.run(["stats", "-r", "captures/demo-dns.pcap"])
        let flag = try CLI.run(["--stats", "-q", "-r", "captures/demo-dns.pcap"])
        #expect(sub.status == 0 && sub.stdout == flag.stdout)
        #expect(sub.stdout.hasPrefix("Statistics: 24 packets, 2,987 bytes on the wire"))
    }

    @Test func afterThePacketLines() throws {
        let r = try CLI.run(["-n", "--stats", "-r", "captures/tcp-refused.pcap"])
        let plain = try CLI.run(["-n", "-r", "captures/tcp-refused.pcap"])
        #expect(r.stdout.hasPrefix(plain.stdout + "\nStatistics: 2 packets"))
        #expect(r.stdout.contains("  REJ            1  attempt rejected\n"))
        #expect(r.stdout.contains("  resets                           1\n"))
    }

    /// The JSON object agrees with the per-packet JSON and the flow rows of the same capture.
    @Test(arguments: CLI.fixtures)
    func jsonAgreesWithPacketsAndFlows(_ file: String) throws {
        let r = try CLI.run(["stats", "-r", "captures/\(file)", "--json", "--top", "100"])
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let s = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(s["type"] as? String == "stats")
        let packets = try CLI.run(["-r", "captures/\(file)", "--json", "--flows"])
        let objects = packets.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let frames = objects.filter { $0["type"] == nil }
        let flows = objects.filter { $0["type"] as? String == "flow" }
        #expect(s["packets"] as? Int == frames.count)
        #expect(s["bytes"] as? Int == frames.reduce(0) { $0 + ($1["len"] as? Int ?? 0) })
        // The hierarchy's first level adds up to every frame.
        let top = s["hierarchy"] as? [[String: Any]] ?? []
        #expect(top.reduce(0) { $0 + ($1["frames"] as? Int ?? 0) } == frames.count)
        let tcp = s["tcp"] as? [String: Any]
        let tcpFlows = flows.filter { $0["proto"] as? String == "tcp" }
        #expect(tcp?["connections"] as? Int == tcpFlows.count)
        let states = tcp?["conn_states"] as? [String: Int] ?? [:]
        #expect(states.values.reduce(0, +) == tcpFlows.count)
        for f in tcpFlows {
            let state = f["conn_state"] as? String ?? "?"
            #expect((states[state] ?? 0) > 0, "\(file): \(state)")
        }
        // Annotation counts match the notes on the packets.
        var notes: [String: Int] = [:]
        for f in frames { for n in f["notes"] as? [[String: Any]] ?? [] { notes[n["kind"] as? String ?? "?", default: 0] += 1 } }
        #expect(s["notes"] as? [String: Int] == notes, "\(file)")
        // DNS counts the first `dns` walking the line's top level, then `inner` (a tunnelled query).
        func outermostDNS(_ o: [String: Any]) -> [String: Any]? {
            var level: [String: Any]? = o
            while let l = level {
                if let d = l["dns"] as? [String: Any] { return d }
                level = l["inner"] as? [String: Any]
            }
            return nil
        }
        let dns = s["dns"] as? [String: Any]
        // Every DNS message counts: a TCP segment completing several lists them all in dns_messages.
        let queries = frames.reduce(0) { n, f in
            let all = f["dns_messages"] as? [[String: Any]] ?? outermostDNS(f).map { [$0] } ?? []
            return n + all.filter { $0["qr"] as? Bool == false }.count
        }
        #expect(dns?["queries"] as? Int == queries)
        // The analysis counters mean what the flow rows mean (one pipeline, one definition).
        let analysis = s["analysis"] as? [String: Any] ?? [:]
        func total(_ key: String) -> Int { flows.reduce(0) { $0 + ($1[key] as? Int ?? 0) } }
        #expect(analysis["sticky_segments"] as? Int == total("sticky_segments"), "\(file): sticky")
        #expect(analysis["split_messages"] as? Int == total("split_messages"), "\(file): split")
        #expect(analysis["sticky_segments"] as? Int == notes["sticky"] ?? 0, "\(file): sticky notes")
        // Retransmissions as Wireshark counts them: plain, fast and spurious.
        let retransmitted = ["retransmission", "fast_retransmission", "spurious_retransmission"].reduce(0) { $0 + (notes[$1] ?? 0) }
        #expect(analysis["retransmissions"] as? Int == retransmitted, "\(file): retransmissions")
        #expect(analysis["resets"] as? Int == notes["reset"] ?? 0, "\(file): resets")
        // Every whole message the flows count ends on a frame whose note says so.
        let ended = frames.reduce(0) { n, f in
            n + (f["notes"] as? [[String: Any]] ?? []).reduce(0) { m, note in
                m + (note["messages"] as? [[String: Any]] ?? []).filter { $0["complete"] as? Bool == true }.count
            }
        }
        let messages = flows.reduce(0) { n, f in
            let m = f["messages"] as? [String: Int] ?? [:]
            return n + (m["c2s"] ?? 0) + (m["s2c"] ?? 0)
        }
        #expect(ended == messages, "\(file): messages")
    }

    /// The address and name tables stay bounded: a full table drops its quieter half, and says so.
    @Test func boundedTables() {
        var stats = CaptureStatistics(tableCapacity: 8)
        let decoder = PacketDecoder()
        var packet = Packet()
        func frame(_ src: UInt8, _ dst: UInt8) -> [UInt8] {
            var b: [UInt8] = [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00]
            b += [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, dst]
            b += [0x9c, 0x40, 0, 9, 0, 8, 0, 0]
            return b
        }
        // One busy pair, then many one-packet addresses.
        for _ in 0 ..< 50 {
            frame(1, 2).withUnsafeBytes { decoder.decode($0, wireLength: $0.count, linkType: .ethernet, into: &packet) }
            stats.add(packet, notes: [], seconds: 0, nanoseconds: 0)
        }
        for i in 3 ..< 200 {
            frame(UInt8(i), 2).withUnsafeBytes { decoder.decode($0, wireLength: $0.count, linkType: .ethernet, into: &packet) }
            stats.add(packet, notes: [], seconds: 0, nanoseconds: 0)
        }
        #expect(stats.talkers.entries.count <= 8)
        #expect(stats.approximate)
        let top = stats.talkers.top(2, before: <)
        #expect(top.map { StatisticsFormatter.address($0.key) } == ["10.0.0.2", "10.0.0.1"])
        #expect(stats.packets == 247)
        var out = OutputBuffer(fd: -1)
        StatisticsFormatter.text(stats, top: 5, into: &out)
        #expect(out.takeString().contains("counts are lower bounds"))
    }

    static var tshark: String? {
        ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The protocol hierarchy's frames and bytes are tshark's `-z io,phs` for the protocols both
    /// decode (tshark names every cooked capture `sll`; it dissects more payloads, which are
    /// `data` here and left out).
    @Test(.enabled(if: StatisticsTests.tshark != nil),
          arguments: ["arp", "dns-udp", "icmp-ping", "ipv6-tcp", "ipv6-udp-dns", "sll2", "tcp-handshake", "vlan", "demo-udp", "demo-chat"])
    func hierarchyAgreesWithTshark(_ name: String) throws {
        let known: Set<String> = ["eth", "sll", "vlan", "ieee8021ad", "ip", "ipv6", "arp", "tcp", "udp", "icmp", "icmpv6", "dns"]
        func paths(_ rows: [(depth: Int, name: String, frames: Int, bytes: Int)]) -> [String: [Int]] {
            var stack: [String] = []
            var out: [String: [Int]] = [:]
            for r in rows {
                stack = Array(stack.prefix(r.depth)) + [r.name]
                if stack.allSatisfy(known.contains) { out[stack.joined(separator: ":")] = [r.frames, r.bytes] }
            }
            return out
        }
        let theirText = try CLI.output(of: Self.tshark ?? "/usr/bin/tshark",
                                       ["-q", "-z", "io,phs", "-r", CLI.captures.appendingPathComponent("\(name).pcap").path])
        var theirs: [(Int, String, Int, Int)] = []
        for line in theirText.split(separator: "\n") where line.contains("frames:") {
            let indent = line.prefix { $0 == " " }.count
            let fields = line.split(separator: " ")
            guard let n = fields.first, let f = fields.first(where: { $0.hasPrefix("frames:") }),
                  let b = fields.first(where: { $0.hasPrefix("bytes:") }) else { continue }
            theirs.append((indent / 2, String(n), Int(f.dropFirst(7)) ?? -1, Int(b.dropFirst(6)) ?? -1))
        }
        let r = try CLI.run(["stats", "-r", "captures/\(name).pcap", "--json"])
        let s = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var ours: [(Int, String, Int, Int)] = []
        func walk(_ nodes: [[String: Any]], _ depth: Int) {
            for n in nodes {
                let proto = n["protocol"] as? String ?? "?"
                ours.append((depth, proto == "sll2" ? "sll" : proto, n["frames"] as? Int ?? -1, n["bytes"] as? Int ?? -1))
                walk(n["children"] as? [[String: Any]] ?? [], depth + 1)
            }
        }
        walk(s["hierarchy"] as? [[String: Any]] ?? [], 0)
        #expect(!theirs.isEmpty)
        #expect(paths(ours) == paths(theirs), "\(name)")
    }

    /// Every EtherType under every tag stack would be millions of nodes: the hierarchy stops at
    /// its limit and counts the rest under `other`, every frame still counted once per level.
    @Test func boundedHierarchy() {
        var stats = CaptureStatistics()
        let decoder = PacketDecoder()
        var packet = Packet()
        var total = 0
        for tag in [nil, 0x8100, 0x88A8] as [UInt16?] {
            for type in stride(from: 0x0600, to: 0xFFFF, by: 7) {
                var b: [UInt8] = [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1]
                if let tag { b += [UInt8(tag >> 8), UInt8(tag & 0xFF), 0, 5] }
                b += [UInt8(type >> 8), UInt8(type & 0xFF), 1, 2, 3, 4]
                b.withUnsafeBytes { decoder.decode($0, wireLength: $0.count, linkType: .ethernet, into: &packet) }
                stats.add(packet, notes: [], seconds: 0, nanoseconds: 0)
                total += 1
            }
        }
        #expect(stats.hierarchy.count <= CaptureStatistics.maxHierarchyNodes + 8)
        #expect(stats.hierarchy[0].count.frames == total)
        let eth = stats.hierarchy[stats.hierarchy[0].children[0]]
        #expect(eth.count.frames == total)
        #expect(eth.children.reduce(0) { $0 + stats.hierarchy[$1].count.frames } == total)
        #expect(stats.hierarchy.contains { $0.node == .other })
    }

    @Test func groupedNumbers() {
        #expect(StatisticsFormatter.grouped(0) == "0")
        #expect(StatisticsFormatter.grouped(999) == "999")
        #expect(StatisticsFormatter.grouped(1000) == "1,000")
        #expect(StatisticsFormatter.grouped(1_234_567) == "1,234,567")
        #expect(StatisticsFormatter.grouped(-12_345) == "-12,345")
    }

    @Test func statsWithWriteNeedsPrint() throws {
        let r = try CLI.run(["-r", "captures/tcp-refused.pcap", "-w", "/dev/null", "--stats"])
        #expect(r.status != 0 && r.stderr.contains("--stats with -w needs --print"))
    }
}

/// The hostile-packet generator's garbage through every presentation path.
@Suite struct HostilePresentationTests {
    @Test(arguments: [UInt32(1), 0, 12, 113, 276, 108, 147])
    func garbageThroughEveryView(_ dlt: UInt32) throws {
        var rng = HostileRNG(state: 0x5EED_0000 &+ UInt64(dlt))
        let packets = (0 ..< 40).map { n in n % 4 == 0 ? Hostile.good(n) : rng.bytes(Int(rng.next() % 160)) }
        let bytes = Hostile.pcap(linkType: dlt, snaplen: 262_144, packets)
        try Hostile.withFile("garbage-view-\(dlt).pcap", bytes) { path in
            let plain = try Hostile.run(["-n", "-r", path])
            for args in [["-n", "-vv", "-XX", "--hex-payload", "--color", "always"], ["-v", "-x"], ["-n", "--stats"], ["--json", "--stats"]] {
                let r = try Hostile.run(args + ["-r", path])
                #expect(r.status == 0 && !r.signaled, "\(args): \(r.stderr)")
                #expect(Hostile.problems(r).isEmpty, "\(args): \(r.stderr)")
                if args.contains("-vv") {
                    let stripped = r.stdout.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
                    let top = Hostile.lines(stripped).filter { !$0.hasPrefix(" ") && !$0.hasPrefix("\t") }
                    #expect(top.count == 40, "\(args): one packet line per packet")
                    _ = plain
                }
            }
        }
    }
}

/// The progress line: never in a pipe, and its text fits the width.
@Suite struct ProgressTests {
    @Test func lineFitsTheWidth() {
        let line = ProgressLine(name: "a-rather-long-capture-name-of-a-big-file.pcap", total: 766_858_046)
        for width in [40, 60, 79, 100, 200] {
            let t = line.text(read: 312_000_000, packets: 400_000, elapsedNanoseconds: 1_000_000_000, width: width)
            #expect(t.count <= width, "\(width): \(t)")
            #expect(t.contains("312.0 MB of 766.9 MB") || width < 60, "\(width): \(t)")
        }
        let wide = line.text(read: 383_429_023, packets: 1_000_000, elapsedNanoseconds: 2_000_000_000, width: 160)
        #expect(wide.contains("[####################....................]  50%  500 k packets/s  ETA 0:02"), "\(wide)")
        #expect(ProgressLine.rate(1_415_000) == "1.42 M")
        #expect(ProgressLine.clock(3725) == "1:02:05")
        #expect(ProgressLine.size(999) == "999 B")
    }

    /// A file read with --progress always (drawn from the first check, every 1024 packets) and
    /// auto (standard error is a file here, not a terminal: never).
    @Test func onlyWhenAsked() throws {
        let packet = Hostile.good(1)
        var bytes = Hostile.pcapHeader()
        let record = Hostile.record(packet)
        bytes.reserveCapacity(24 + 5000 * record.count)
        for _ in 0 ..< 5000 { bytes += record }
        try Hostile.withFile("progress.pcap", bytes) { path in
            let auto = try CLI.run(["-q", "--stats", "-r", path], timeout: 120)
            #expect(auto.status == 0)
            #expect(!auto.stderr.contains("\r") && !auto.stderr.contains("packets/s"))
            let always = try CLI.run(["-q", "--stats", "--progress", "always", "-r", path], timeout: 120)
            #expect(always.status == 0)
            #expect(always.stderr.contains("\rreading progress.pcap  "), "\(always.stderr)")
            #expect(always.stderr.contains(" packets/s  ETA "))
            #expect(always.stderr.hasSuffix("\r\u{1B}[K"), "erased at the end")
            #expect(always.stdout == auto.stdout)
        }
    }
}

/// Help: grouped options, help topics, completions.
@Suite struct HelpTests {
    @Test func groupedLikeTcpdump() throws {
        let r = try CLI.run(["--help"])
        let out = r.stdout
        let capture = try #require(out.range(of: "\nCAPTURE:\n"))
        let output = try #require(out.range(of: "\nOUTPUT:\n"))
        let analysis = try #require(out.range(of: "\nANALYSIS:\n"))
        #expect(capture.lowerBound < output.lowerBound && output.lowerBound < analysis.lowerBound)
        let outputSection = out[output.upperBound ..< analysis.lowerBound]
        for flag in ["  -v ", "  -x ", "  -X ", "  --hex-payload ", "  --color <when>", "  -n ", "  --json "] {
            #expect(outputSection.contains(flag), "\(flag) under OUTPUT")
        }
        let analysisSection = out[analysis.upperBound...]
        for flag in ["  --flows ", "  --stats ", "  --max-flows ", "  --top <n>"] {
            #expect(analysisSection.contains(flag), "\(flag) under ANALYSIS")
        }
    }

    @Test func helpTopics() throws {
        let demo = try CLI.run(["help", "demo"])
        #expect(demo.status == 0 && demo.stdout.contains("USAGE: netinspect demo"))
        let echo = try CLI.run(["help", "demo", "echo"])
        #expect(echo.status == 0 && echo.stdout.contains("echo"))
        let ladder = try CLI.run(["help", "ladder"])
        #expect(ladder.status == 0 && ladder.stdout.contains("--width"))
        let stats = try CLI.run(["help", "stats"])
        #expect(stats.status == 0 && stats.stdout.contains("USAGE: netinspect stats"))
        let main = try CLI.run(["help"])
        #expect(main.status == 0 && main.stdout.contains("CAPTURE:"))
        let none = try CLI.run(["help", "nonsense"])
        #expect(none.status == 1 && none.stderr.contains("topics: demo, follow, ladder, stats"))
        let follow = try CLI.run(["help", "follow"])
        #expect(follow.status == 0 && follow.stdout.contains("USAGE:"))
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(_ shell: String) throws {
        let r = try CLI.run(["--generate-completion-script", shell])
        #expect(r.status == 0)
        #expect(r.stdout.contains("ladder") && r.stdout.contains("stats") && r.stdout.contains("color"))
        #expect(r.stdout.contains("pcapng"))
    }
}
