import Foundation
import Testing

/// End-to-end tests: run the built `netinspect` over the fixture captures and compare with the
/// golden files in captures/expected (regenerate with scripts/update-goldens, then review the diff).
enum CLI {
    static let repo: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let captures = repo.appendingPathComponent("captures")

    static var binary: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("netinspect")
    }

    struct Result {
        var stdout: String
        var stderr: String
        /// The exit status, or the signal number when `signaled`.
        var status: Int32
        /// The process was ended by a signal (a trap, a crash).
        var signaled = false
    }

    /// A run that did not end within its time limit (it was killed).
    struct TimedOut: Error, CustomStringConvertible {
        var args: [String]
        var seconds: Double
        var description: String { "netinspect \(args.joined(separator: " ")) still running after \(seconds) s: killed" }
    }

    /// Runs the built `netinspect`. A run still going after `timeout` seconds is killed and throws
    /// `TimedOut`, so a hang fails the test instead of hanging it. `memoryLimitMB` caps the child's
    /// address space (`ulimit -v`), so an allocation the size of a hostile length field fails.
    /// The standard output of an oracle tool (tcpdump, tshark) run to its end; its standard error
    /// is dropped.
    static func output(of tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func run(_ args: [String], environment: [String: String] = ["TZ": "UTC"], timeout: Double = 60,
                    memoryLimitMB: Int? = nil) throws -> Result {
        let p = Process()
        if let mb = memoryLimitMB {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "ulimit -v \(mb * 1024) && exec \"$0\" \"$@\"", binary.path] + args
        } else {
            p.executableURL = binary
            p.arguments = args
        }
        p.currentDirectoryURL = repo
        var env = ProcessInfo.processInfo.environment
        // The language comes from the arguments (or the test's environment), not the caller's locale.
        env["LC_ALL"] = nil
        env["LANG"] = "C.UTF-8"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        // stderr goes to a file and stdout to a pipe read to the end, so a large output cannot block.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("netinspect-test-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let pid = p.processIdentifier
        let killed = KilledFlag()
        let watchdog = DispatchWorkItem {
            killed.set()
            kill(pid, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        try errHandle.close()
        if killed.isSet { throw TimedOut(args: args, seconds: timeout) }
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
                      status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal)
    }

    final class KilledFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.lock(); value = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    }

    static var fixtures: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: captures.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }

    static func stem(_ file: String) -> String {
        (file as NSString).deletingPathExtension
    }

    /// Extra arguments for a fixture (captures/NAME.args: a framing for a crafted port, --flows).
    static func extraArgs(_ file: String) -> [String] {
        let url = captures.appendingPathComponent(stem(file) + ".args")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }
}

@Suite struct GoldenTests {
    @Test func fixturesArePresent() {
        #expect(CLI.fixtures.count >= 15)
    }

    @Test(arguments: CLI.fixtures)
    func textOutputMatchesGolden(_ file: String) throws {
        let r = try CLI.run(["-n", "-r", "captures/\(file)"] + CLI.extraArgs(file))
        let got = r.stderr.isEmpty ? r.stdout : (r.stderr.split(separator: "\n").first.map { $0 + "\n" } ?? "") + r.stdout
            + r.stderr.split(separator: "\n").dropFirst().map { $0 + "\n" }.joined()
        let expected = try String(contentsOf: CLI.captures.appendingPathComponent("expected/\(CLI.stem(file)).txt"), encoding: .utf8)
        #expect(got + "exit \(r.status)\n" == expected)
    }

    @Test(arguments: CLI.fixtures)
    func jsonOutputMatchesGolden(_ file: String) throws {
        let r = try CLI.run(["-r", "captures/\(file)", "--json"] + CLI.extraArgs(file))
        let expected = try String(contentsOf: CLI.captures.appendingPathComponent("expected/\(CLI.stem(file)).jsonl"), encoding: .utf8)
        #expect(r.stdout + r.stderr + "exit \(r.status)\n" == expected)
    }
}

/// The JSON Lines contract (docs/json.md): every line parses, carries the
/// per-packet keys, and layer objects carry their keys with the fixed value forms.
@Suite struct JSONContractTests {
    static let layerKeys: [String: [String]] = [
        "eth": ["src", "dst", "type"],
        "arp": ["op", "sha", "spa", "tha", "tpa"],
        "ipv4": ["src", "dst", "ttl", "id", "proto", "len", "ihl", "df", "mf", "frag_offset", "checksum"],
        "tcp": ["sport", "dport", "seq", "ack", "flags", "win", "payload_len", "options", "checksum"],
        "udp": ["sport", "dport", "len", "checksum"],
        "dns": ["id", "qr", "opcode", "rcode", "flags", "questions", "answers", "authority", "additional"],
        "icmp": ["type", "code"],
    ]

    @Test(arguments: CLI.fixtures)
    func everyLineFollowsTheContract(_ file: String) throws {
        let r = try CLI.run(["-r", "captures/\(file)", "--json"] + CLI.extraArgs(file))
        var frames: [Int] = []
        for line in r.stdout.split(separator: "\n") {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if obj["type"] as? String == "flow" {
                // --flows rows (after the packets): the contract's per-conversation keys.
                for key in ["id", "proto", "client", "server", "start", "duration", "packets", "bytes", "end"] {
                    #expect(obj[key] != nil, "\(file): flow row lacks \(key)")
                }
                if obj["framing"] != nil {
                    for key in ["messages", "sticky_segments", "split_messages"] { #expect(obj[key] != nil, "\(file): \(key)") }
                }
                continue
            }
            for key in ["frame", "ts", "caplen", "len", "link"] {
                #expect(obj[key] != nil, "\(file): missing \(key)")
            }
            frames.append(obj["frame"] as? Int ?? -1)
            #expect(obj["type"] == nil)
            for (layer, keys) in Self.layerKeys {
                guard let l = obj[layer] as? [String: Any] else { continue }
                let partial = (obj["errors"] as? [[String: Any]])?.isEmpty == false
                for k in keys where !partial {
                    #expect(l[k] != nil, "\(file) frame \(obj["frame"] ?? 0): \(layer) lacks \(k)")
                }
                if let c = l["checksum"] as? String { #expect(["ok", "bad", "unverified"].contains(c)) }
            }
            if let eth = obj["eth"] as? [String: Any], let src = eth["src"] as? String {
                #expect(src.range(of: "^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", options: .regularExpression) != nil)
            }
            if let tcp = obj["tcp"] as? [String: Any], let flags = tcp["flags"] as? [String] {
                #expect(Set(flags).isSubset(of: ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"]))
            }
            if let dns = obj["dns"] as? [String: Any], let rcode = dns["rcode"] as? String {
                #expect(rcode == rcode.uppercased())
                for rr in (dns["answers"] as? [[String: Any]]) ?? [] {
                    for k in ["name", "type", "class", "ttl", "data"] { #expect(rr[k] != nil) }
                    if let n = rr["name"] as? String { #expect(n == "." || !n.hasSuffix(".")) }
                }
            }
            for e in (obj["errors"] as? [[String: Any]]) ?? [] {
                #expect(["truncated", "malformed"].contains(e["kind"] as? String ?? ""))
                #expect(e["layer"] is String && e["offset"] is Int && e["detail"] is String)
            }
        }
        #expect(frames == frames.sorted())
    }

    @Test func nanosecondFileKeepsNanoseconds() throws {
        let r = try CLI.run(["-r", "captures/nanosecond.pcap", "--json", "-c", "1"])
        let ts = try #require(r.stdout.range(of: "\"ts\":[0-9]+\\.[0-9]+", options: .regularExpression))
        #expect(r.stdout[ts].split(separator: ".").last?.count == 9)
    }

    @Test func frameNumbersCountFilteredPackets() throws {
        let r = try CLI.run(["-r", "captures/dns-udp.pcap", "--json", "udp src port 53"])
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 11)
        #expect(lines.first?.hasPrefix("{\"frame\":2,") == true)
    }
}

@Suite struct CommandLineTests {
    /// `-#` / `--number`: the frame number first, as tcpdump -# writes it (`%5u  `); the notes'
    /// frame references (#N) are these numbers.
    @Test func frameNumbersFirst() throws {
        let r = try CLI.run(["-#", "-n", "-r", "captures/tcp-handshake.pcap"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 16)
        #expect(lines.first?.hasPrefix("    1  21:53:16.116838 IP 127.0.0.1.60126 > 127.0.0.1.9000: Flags [S]") == true)
        #expect(lines.count > 9 && lines[9].hasPrefix("   10  21:53:16.217890 "))
        let long = try CLI.run(["--number", "-n", "-r", "captures/tcp-handshake.pcap"])
        #expect(long.stdout == r.stdout)
        // JSON has its own "frame" key: no prefix there.
        let json = try CLI.run(["-#", "-r", "captures/tcp-handshake.pcap", "--json", "-c", "1"])
        #expect(json.stdout.hasPrefix("{\"frame\":1,"))
    }

    /// `-c -5` is a bad count like `-c 0`, not a missing value (the parser takes `-5` for an option).
    @Test func negativeCountSaysPositive() throws {
        for args in [["-c", "-5", "-r", "captures/arp.pcap"], ["-c", "0", "-r", "captures/arp.pcap"], ["-c", "-5"]] {
            let r = try CLI.run(args)
            #expect(r.status == 64, "\(args)")
            #expect(r.stderr.hasPrefix("Error: -c needs a positive count\n"), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    /// An unknown option is named, whether or not a source was given.
    @Test func unknownOptionIsNamedFirst() throws {
        for args in [["--bogus"], ["--bogus", "-r", "captures/arp.pcap"], ["-r", "captures/arp.pcap", "--bogus"]] {
            let r = try CLI.run(args)
            #expect(r.status == 64, "\(args)")
            #expect(r.stderr.hasPrefix("Error: Unknown option '--bogus'\n"), "\(args): \(r.stderr)")
        }
        // Nothing unknown, no source: still asked for one.
        let none = try CLI.run(["-n"])
        #expect(none.status == 64)
        #expect(none.stderr.hasPrefix("Error: say where packets come from: -r FILE, -i INTERFACE, or -D"))
    }

    @Test func missingFileIsOneLineAndNonZero() throws {
        let r = try CLI.run(["-r", "captures/does-not-exist.pcap"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("does-not-exist.pcap"))
    }

    @Test func notACaptureFile() throws {
        let r = try CLI.run(["-r", "README.md"])
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func badFilterExitsTwo() throws {
        let r = try CLI.run(["-r", "captures/tcp-handshake.pcap", "tcp", "port", "banana"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("invalid filter expression"))
        #expect(r.stdout.isEmpty)
    }

    @Test func filterAndCount() throws {
        let r = try CLI.run(["-n", "-r", "captures/tcp-handshake.pcap", "-c", "2", "tcp[tcpflags] & tcp-syn != 0"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("Flags [S]") && lines[1].contains("Flags [S.]"))
    }

    @Test func readAndWriteRefiltersAFile() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ni-refilter-\(UUID().uuidString).pcap")
        defer { try? FileManager.default.removeItem(at: out) }
        let w = try CLI.run(["-r", "captures/dns-udp.pcap", "-w", out.path, "udp src port 53"])
        #expect(w.status == 0 && w.stdout.isEmpty)
        let back = try CLI.run(["-n", "-r", out.path])
        let lines = back.stdout.split(separator: "\n")
        #expect(lines.count == 11)
        #expect(lines.allSatisfy { $0.contains(".53 > ") })
        // The same packets, byte for byte, as the filtered original shows them.
        let direct = try CLI.run(["-n", "-r", "captures/dns-udp.pcap", "udp src port 53"])
        #expect(back.stdout == direct.stdout)
    }

    @Test func serviceNamesUnlessNumeric() throws {
        let named = try CLI.run(["-r", "captures/dns-udp.pcap", "-c", "1"])
        #expect(named.stdout.contains(".domain: "))
        let numeric = try CLI.run(["-n", "-r", "captures/dns-udp.pcap", "-c", "1"])
        #expect(numeric.stdout.contains(".53: "))
    }

    @Test func timestampStyles() throws {
        let none = try CLI.run(["-t", "-n", "-r", "captures/arp.pcap", "-c", "1"])
        #expect(none.stdout.hasPrefix("ARP, Request"))
        let epoch = try CLI.run(["-tt", "-n", "-r", "captures/arp.pcap", "-c", "1"])
        #expect(epoch.stdout.hasPrefix("1700000000.000000 ARP"))
        let delta = try CLI.run(["-ttt", "-n", "-r", "captures/arp.pcap", "-c", "2"])
        #expect(delta.stdout.split(separator: "\n").first?.hasPrefix("00:00:00.000000 ") == true)
        let date = try CLI.run(["-tttt", "-n", "-r", "captures/arp.pcap", "-c", "1"])
        #expect(date.stdout.hasPrefix("2023-11-14 22:13:20.000000 "))
    }

    @Test func linkHeaderWithE() throws {
        let r = try CLI.run(["-e", "-n", "-r", "captures/arp.pcap", "-c", "1"])
        #expect(r.stdout.contains(", ethertype ARP (0x0806), length "))
    }

    @Test func corruptedCaptureDecodesEveryFrame() throws {
        let r = try CLI.run(["-n", "-S", "-r", "captures/corrupted.pcap"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 22)
        #expect(lines.filter { $0.contains("(invalid ") }.count >= 15)
        // The last frame is a good one: decoding went on.
        #expect(lines.last?.contains("Flags [P.], seq 1000:1017") == true)
        #expect(lines.last?.contains("invalid") == false)
    }

    @Test func snaplenTruncationIsMarked() throws {
        let r = try CLI.run(["-n", "-r", "captures/truncated-snaplen.pcap"])
        #expect(r.stdout.split(separator: "\n").allSatisfy { $0.contains("[|") })
        #expect(!r.stdout.contains("(invalid"))
    }

    @Test func truncatedFileKeepsEarlierPacketsAndFails() throws {
        let r = try CLI.run(["-n", "-r", "captures/truncated-file.pcap"])
        #expect(r.status == 1)
        #expect(r.stdout.split(separator: "\n").count == 15)
        #expect(r.stderr.contains("truncated dump file"))
    }

    @Test func unsupportedLinkTypeSaysWhich() throws {
        let r = try CLI.run(["-n", "-r", "captures/unknown-dlt.pcap"])
        #expect(r.status == 0)
        #expect(r.stdout.split(separator: "\n").allSatisfy { $0.contains("unsupported link type") && $0.contains("147") })
    }
}
