import Foundation
import Testing

/// IPv6 end to end: the demo captures over ::1 read like their IPv4 twins, the IPv6 lines agree with
/// tcpdump, and endpoints print as `[::1]:port` wherever an address and a port go together.
enum IPv6Output {
    static let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func lines(_ s: String) -> [String] {
        s.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func json(_ s: String) -> [[String: Any]] {
        lines(s).compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func replace(_ s: String, _ pattern: String, _ with: String) -> String {
        s.replacingOccurrences(of: pattern, with: with, options: .regularExpression)
    }

    /// A text line (`-n -t`) as it reads regardless of the IP version and of what differs from run to
    /// run: the version and the endpoints become the direction, and window, TCP options, DNS id, ISN
    /// in the handshake note and the RTT are masked. Sequence numbers are relative, so they stay.
    static func shape(_ line: String, direction: String) -> String {
        var s = replace(line, #"^IP6? \S+ > \S+: "#, direction + " ")
        s = replace(s, #", win \d+"#, "")
        s = replace(s, #", options \[[^\]]*\]"#, "")
        if s.contains("Flags [S") {  // the initial sequence numbers themselves
            s = replace(s, #", seq \d+"#, ", seq #")
            s = replace(s, #", ack \d+"#, ", ack #")
        }
        s = replace(s, #"acks SYN \d+"#, "acks SYN #")
        s = replace(s, #"RTT [^)]*\)"#, "RTT #)")
        s = replace(s, #"^(c2s|s2c|-) \d+([-+*|%$ ])"#, "$1 #$2")  // DNS id
        s = replace(s, #"(Flags \[[^\]]*\].*, length \d+) \d+([-+*|%$ ])"#, "$1 #$2")  // … over TCP, after the length
        s = replace(s, #"(recv\(\d+\) #\d+ → \d+ B) "[^"]*""#, "$1 \"…\"")  // previews hold the DNS id too
        return s
    }

    /// The extra arguments the golden files of a capture are made with (captures/NAME.args).
    static func args(_ file: String) -> [String] {
        let url = CLI.captures.appendingPathComponent(CLI.stem(file) + ".args")
        guard let s = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return s.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    /// Every packet's shape, from the text lines and the JSON flow directions.
    static func shapes(_ file: String) throws -> [String] {
        let extra = args(file).filter { $0 != "--flows" }
        let text = try CLI.run(["-n", "-t", "-r", "captures/\(file)"] + extra)
        let objs = json(try CLI.run(["-r", "captures/\(file)", "--json"] + extra).stdout)
        let ls = lines(text.stdout)
        #expect(ls.count == objs.count, "\(file)")
        return zip(ls, objs).map { line, obj in
            shape(line, direction: (obj["flow"] as? [String: Any])?["dir"] as? String ?? "-")
        }
    }

    /// `--flows --json` rows without what varies from run to run (start, durations, the RTT) and with
    /// the client's ephemeral port masked; the endpoints are checked for their form separately.
    static func flowRows(_ file: String) throws -> [[String: String]] {
        json(try CLI.run(["-r", "captures/\(file)", "--flows", "-q", "--json"] + args(file).filter { $0 != "--flows" }).stdout).map { row in
            var out: [String: String] = [:]
            for (k, v) in row where !["start", "duration", "handshake_rtt", "client", "server"].contains(k) {
                // Nested objects written with sorted keys, so equal rows compare equal.
                let data = try? JSONSerialization.data(withJSONObject: ["v": v], options: [.sortedKeys, .fragmentsAllowed])
                out[k] = data.map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
            }
            out["server_port"] = (row["server"] as? String).map { String($0.split(separator: ":").last ?? "") }
            return out
        }
    }

    /// The text flow rows with endpoints, duration and RTT masked.
    static func textFlowRows(_ file: String) throws -> [String] {
        lines(try CLI.run(["-n", "-r", "captures/\(file)", "--flows", "-q"] + args(file).filter { $0 != "--flows" }).stdout).map {
            var s = replace($0, #"(\[::1\]|127\.0\.0\.1):\d+ > (\[::1\]|127\.0\.0\.1):"#, "C > S:")
            s = replace(s, #" [0-9.]+ s "#, " # s ")
            return replace(s, #" rtt [0-9.]+ (µs|ms|s)"#, " rtt #")
        }
    }
}

@Suite struct IPv6TwinTests {
    static let twins = [("demo-echo.pcap", "demo-echo-v6.pcap"), ("demo-sticky.pcap", "demo-sticky-v6.pcap"),
                        ("demo-dns.pcap", "demo-dns-v6.pcap")]

    /// Same packets in the same directions with the same flags, relative numbers, lengths, DNS
    /// contents and annotations (handshake, teardown, retransmission …).
    @Test(arguments: twins)
    func packetsAndAnnotationsMatchTheIPv4Twin(_ v4: String, _ v6: String) throws {
        let a = try IPv6Output.shapes(v4)
        let b = try IPv6Output.shapes(v6)
        #expect(a.count == b.count)
        for (i, (x, y)) in zip(a, b).enumerated() where x != y {
            Issue.record("frame \(i + 1): IPv4 \(x) | IPv6 \(y)")
        }
        #expect(a.contains { $0.contains("[handshake 1/3]") || $0.contains("? ") })
    }

    @Test(arguments: twins)
    func flowRowsMatchTheIPv4Twin(_ v4: String, _ v6: String) throws {
        let a = try IPv6Output.flowRows(v4)
        let b = try IPv6Output.flowRows(v6)
        #expect(!a.isEmpty)
        #expect(a == b)
        #expect(try IPv6Output.textFlowRows(v4) == IPv6Output.textFlowRows(v6))
    }

    @Test(arguments: twins.map(\.1))
    func ipv6EndpointsAreBracketed(_ file: String) throws {
        let rows = IPv6Output.json(try CLI.run(["-r", "captures/\(file)", "--flows", "-q", "--json"]).stdout)
        for row in rows {
            for key in ["client", "server"] {
                let e = row[key] as? String ?? ""
                #expect(e.range(of: #"^\[::1\]:\d+$"#, options: .regularExpression) != nil, "\(key) \(e)")
            }
        }
        let text = IPv6Output.lines(try CLI.run(["-n", "-r", "captures/\(file)", "--flows", "-q"]).stdout)
        #expect(!text.isEmpty)
        for row in text {
            #expect(row.range(of: #"^flow \d+ (tcp|udp) \[::1\]:\d+ > \[::1\]:\d+ "#, options: .regularExpression) != nil, "\(row)")
        }
        // The packet lines follow tcpdump: address.port, no brackets.
        let packets = IPv6Output.lines(try CLI.run(["-n", "-t", "-r", "captures/\(file)"]).stdout)
        #expect(packets.allSatisfy { $0.range(of: #"^IP6 ::1\.\d+ > ::1\.\d+: "#, options: .regularExpression) != nil })
    }

    /// `follow` reassembles the same messages over IPv6 (endpoints and times masked).
    @Test func followMatchesTheIPv4Twin() throws {
        func stream(_ file: String) throws -> [String] {
            IPv6Output.lines(try CLI.run(["follow", "-r", "captures/\(file)"]).stdout).map {
                IPv6Output.replace($0, #"(\[::1\]|127\.0\.0\.1):\d+"#, "EP")
            }
        }
        let a = try stream("demo-sticky.pcap")
        let b = try stream("demo-sticky-v6.pcap")
        #expect(a.count > 20)
        #expect(a == b)
        #expect(b.first?.hasPrefix("follow flow 1: client EP, server EP, framing line") == true)
    }

    @Test func ladderShowsBracketedEndpoints() throws {
        let r = try CLI.run(["ladder", "-r", "captures/demo-echo-v6.pcap", "-n", "--width", "100"])
        #expect(r.status == 0)
        let ls = IPv6Output.lines(r.stdout)
        #expect(ls.first?.range(of: #"^TCP flow 1: \[::1\]:\d+ > \[::1\]:9001, 10 segments"#, options: .regularExpression) != nil, "\(ls.first ?? "")")
        #expect(ls.contains { $0.contains("[::1]:9001") && $0.range(of: #"\[::1\]:\d+ .*\[::1\]:9001"#, options: .regularExpression) != nil })
        #expect(ls.contains { $0.contains("[handshake 1/3]") })
        #expect(ls.contains { $0.contains("teardown 4/4") })
    }
}

/// The IPv6 lines of crafted and live captures against tcpdump 4.99 (`-n -t`), netinspect's own
/// annotations (the JSON `notes`) taken off the end of each line first.
@Suite(.enabled(if: IPv6Output.tcpdump != nil, "tcpdump is not installed"))
struct IPv6TcpdumpTests {

    static func tcpdumpLines(_ file: String) throws -> [String] {
        let out = try CLI.output(of: IPv6Output.tcpdump ?? "tcpdump", ["-n", "-t", "-r", CLI.captures.appendingPathComponent(file).path])
        return IPv6Output.lines(out)
    }

    @Test(arguments: ["icmpv6.pcap", "ipv6-extensions.pcap", "ipv6-dlt-ipv6.pcap", "ipv6-raw.pcap", "ipv6-loop.pcap",
                      "ipv6-tcp.pcap", "ipv6-udp-dns.pcap", "icmp6-ping.pcap", "demo-echo-v6.pcap", "demo-sticky-v6.pcap"])
    func linesAgreeWithTcpdump(_ file: String) throws {
        let ours = IPv6Output.lines(try CLI.run(["-n", "-t", "-r", "captures/\(file)"]).stdout)
        let objs = IPv6Output.json(try CLI.run(["-r", "captures/\(file)", "--json"]).stdout)
        #expect(ours.count == objs.count)
        let stripped = zip(ours, objs).map { line, obj in
            let notes = (obj["notes"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            let suffix = notes.map { " [\($0)]" }.joined()
            return line.hasSuffix(suffix) ? String(line.dropLast(suffix.count)) : line
        }
        let theirs = try Self.tcpdumpLines(file)
        #expect(stripped.count == theirs.count)
        for (i, (a, b)) in zip(stripped, theirs).enumerated() where a != b {
            // The fragment that completes a datagram also shows the datagram's upper layers (as
            // tshark does); tcpdump stops at the fragment header.
            let completes = (objs[i]["inner"] as? [String: Any])?["encap"] as? String == "reassembled"
            if completes && a.hasPrefix(b + " ") { continue }
            Issue.record("\(file) frame \(i + 1):\n  netinspect \(a)\n  tcpdump    \(b)")
        }
    }
}
