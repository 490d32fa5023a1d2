import Foundation
import Testing

/// Issue 19: the TCP analysis notes classify like Wireshark's `tcp.analysis.*` (default
/// preferences), frame by frame, over the crafted `tcp-analysis-*.pcap` (one frame per kind,
/// captures/make_captures.py `build_tcp_analysis_*`) and the real-world copies. The expected
/// frames are what tshark 4.0 flags on these files (captures/README.md); every analysis note
/// names its Wireshark field in `wireshark`.
@Suite struct WiresharkAnalysisTests {
    struct NoteRow: Decodable { var kind: String; var text: String; var wireshark: String?; var of: Int? }
    struct PacketRow: Decodable { var frame: Int; var notes: [NoteRow]? }

    /// The analysis kinds and their Wireshark fields, as docs/tcp-analysis.md lists them.
    static let fields: [String: String] = [
        "retransmission": "retransmission", "fast_retransmission": "fast_retransmission",
        "spurious_retransmission": "spurious_retransmission", "out_of_order": "out_of_order",
        "lost_segment": "lost_segment", "acked_unseen": "ack_lost_segment", "duplicate_ack": "duplicate_ack",
        "keep_alive": "keep_alive", "keep_alive_ack": "keep_alive_ack", "zero_window": "zero_window",
        "zero_window_probe": "zero_window_probe", "zero_window_probe_ack": "zero_window_probe_ack",
        "window_update": "window_update", "window_full": "window_full", "reused_ports": "reused_ports",
    ]

    /// Frame → the analysis kinds noted on it (in note order); checks each one's `wireshark` key.
    static func kinds(_ file: String) throws -> [Int: [String]] {
        let r = try CLI.run(["-r", "captures/\(file)", "--json"])
        #expect(r.status == 0, "exit \(r.status): \(r.stderr)")
        var out: [Int: [String]] = [:]
        for line in r.stdout.split(separator: "\n") {
            let p = try JSONDecoder().decode(PacketRow.self, from: Data(line.utf8))
            for n in p.notes ?? [] {
                guard let field = fields[n.kind] else { continue }
                #expect(n.wireshark == "tcp.analysis." + field, "\(file) #\(p.frame) \(n.kind): wireshark \(n.wireshark ?? "-")")
                out[p.frame, default: []].append(n.kind)
            }
        }
        return out
    }

    static func notes(_ file: String, frame: Int) throws -> [NoteRow] {
        let r = try CLI.run(["-r", "captures/\(file)", "--json"])
        for line in r.stdout.split(separator: "\n") {
            let p = try JSONDecoder().decode(PacketRow.self, from: Data(line.utf8))
            if p.frame == frame { return p.notes ?? [] }
        }
        return []
    }

    @Test func sequenceKinds() throws {
        #expect(try Self.kinds("tcp-analysis-seq.pcap") == [
            5: ["lost_segment"], 6: ["out_of_order"],
            10: ["duplicate_ack"], 12: ["duplicate_ack"], 13: ["duplicate_ack"],
            14: ["fast_retransmission"], 16: ["spurious_retransmission"], 18: ["retransmission"],
            19: ["acked_unseen"],
        ])
        // Duplicate ACK #n and the frame it repeats (tshark: "Dup ACK 7#3").
        let dup = try #require(try Self.notes("tcp-analysis-seq.pcap", frame: 13).first)
        #expect(dup.text == "duplicate ACK #3 of #7" && dup.of == 7)
    }

    @Test func windowKinds() throws {
        #expect(try Self.kinds("tcp-analysis-window.pcap") == [
            5: ["window_full"], 6: ["zero_window"], 7: ["zero_window_probe"],
            8: ["zero_window", "zero_window_probe_ack"], 9: ["window_update"],
        ])
    }

    @Test func keepAliveKinds() throws {
        #expect(try Self.kinds("tcp-analysis-keepalive.pcap") == [
            6: ["keep_alive"], 7: ["keep_alive_ack"], 8: ["keep_alive"], 9: ["keep_alive_ack"],
        ])
    }

    @Test func reusedPorts() throws {
        #expect(try Self.kinds("tcp-port-reuse.pcap") == [9: ["reused_ports"]])
    }

    @Test func realWorldCaptures() throws {
        #expect(try Self.kinds("tcp_retransmissions.pcapng") == [
            2: ["retransmission"], 3: ["retransmission"], 4: ["retransmission"], 5: ["retransmission"], 6: ["retransmission"],
        ])
        #expect(try Self.kinds("tcp_dupack.pcapng") == [
            3: ["duplicate_ack"], 5: ["duplicate_ack"], 7: ["duplicate_ack"], 8: ["fast_retransmission"],
        ])
        #expect(try Self.kinds("tcp_zerowindowrecovery.pcapng") == [4: ["zero_window"], 5: ["window_update"]])
        #expect(try Self.kinds("tcp_zerowindowdead.pcapng") == [
            2: ["zero_window"], 3: ["keep_alive"], 4: ["zero_window"], 5: ["keep_alive"], 6: ["zero_window"],
            7: ["keep_alive"], 8: ["zero_window"],
        ])
    }

    /// Where our kind differs on purpose, the note carries Wireshark's name too.
    @Test func deliberateDifferencesCarryWiresharkName() throws {
        let syn = try Self.notes("tcp-syn-retransmit.pcap", frame: 2)
        #expect(syn.map(\.kind) == ["syn_retransmission"])
        #expect(syn.first?.wireshark == "tcp.analysis.retransmission")
        let dup = try Self.notes("loopback-double.pcap", frame: 2)
        #expect(dup.first?.kind == "duplicate_frame" && dup.first?.wireshark == "tcp.analysis.retransmission")
    }

    /// Flow rows and stats count the same kinds.
    @Test func flowsAndStatsCountTheKinds() throws {
        struct Flow: Decodable { var retransmissions: Int; var analysis: [String: Int]? }
        let r = try CLI.run(["-r", "captures/tcp-analysis-seq.pcap", "--flows", "--json", "-q"])
        let flow = try JSONDecoder().decode(Flow.self, from: Data(r.stdout.utf8))
        #expect(flow.retransmissions == 3)
        #expect(flow.analysis == ["lost_segment": 1, "out_of_order": 1, "duplicate_ack": 3, "fast_retransmission": 1,
                                  "spurious_retransmission": 1, "retransmission": 1, "acked_unseen": 1])
        struct Stats: Decodable { var analysis: [String: Int]; var notes: [String: Int] }
        let s = try CLI.run(["stats", "-r", "captures/tcp-analysis-seq.pcap", "--json"])
        let stats = try JSONDecoder().decode(Stats.self, from: Data(s.stdout.utf8))
        #expect(stats.analysis["retransmissions"] == 3)
        for (kind, n) in flow.analysis ?? [:] { #expect(stats.notes[kind] == n, "\(kind)") }
    }
}
