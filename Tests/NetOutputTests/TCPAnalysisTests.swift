import Foundation
import Testing

/// TCP connection analysis end to end (issue 6): handshake and teardown notes, endpoint states,
/// resets, mid-stream starts, SYN retransmission, port reuse, sequence-number wraparound, and the
/// `--flows` rows (Zeek conn_state and history, end, final states) over the crafted `tcp-*.pcap`
/// fixtures (captures/make_captures.py, `build_tcp_*`) and the real loopback captures.
///
/// The Zeek values are worked out by hand from the rules in Sources/NetAnalysis/ZeekConn.swift
/// (Zeek's `update_history()` and `conn_state()`): a letter per direction the first time its kind is
/// seen (upper case originator, lower case responder); only SYN, FIN and RST are control bits, so an
/// FIN+ACK gives `F`/`f` and an RST+ACK `R`/`r`; a segment with payload and no control bit gives
/// `D`/`d`; a pure ACK `A`/`a`.
@Suite struct TCPAnalysisTests {
    // MARK: helpers

    /// One note as expected: kind, text, and the endpoint states after the segment
    /// (nil: the note carries no states).
    struct N: Equatable, CustomStringConvertible {
        var kind: String
        var text: String
        var client: String?
        var server: String?

        init(_ kind: String, _ text: String, _ client: String? = nil, _ server: String? = nil) {
            self.kind = kind; self.text = text; self.client = client; self.server = server
        }

        var description: String {
            "\(kind): \(text)" + (client.map { " [\($0)/\(server ?? "-")]" } ?? "")
        }
    }

    struct States: Decodable { var client: String; var server: String }
    struct NoteRow: Decodable { var kind: String; var text: String; var states: States? }
    struct TCPRow: Decodable { var seq: UInt32; var ack: UInt32 }
    struct FlowRef: Decodable { var id: Int; var dir: String }
    struct PacketRow: Decodable {
        var frame: Int
        var tcp: TCPRow?
        var flow: FlowRef?
        var notes: [NoteRow]?
    }
    struct Pair: Decodable { var c2s: Int; var s2c: Int }
    struct FlowRow: Decodable {
        var type: String
        var id: Int
        var client: String
        var server: String
        var packets: Pair
        var bytes: Pair
        var conn_state: String
        var history: String
        var handshake_rtt: Double?
        var syn_retransmissions: Int?
        var acks_ignored: Int?
        var server_half_open: Double?
        var states: States
        var retransmissions: Int
        var end: String
        var midstream: Bool?
    }

    /// `netinspect -r FILE --json`, one decoded object per packet.
    static func packets(_ file: String) throws -> [PacketRow] {
        let r = try CLI.run(["-r", "captures/\(file)", "--json"])
        #expect(r.status == 0, "exit \(r.status): \(r.stderr)")
        return try r.stdout.split(separator: "\n").map { try JSONDecoder().decode(PacketRow.self, from: Data($0.utf8)) }
    }

    /// The notes of every frame that has any, by frame number.
    static func notes(_ file: String) throws -> [Int: [N]] {
        var out: [Int: [N]] = [:]
        for p in try packets(file) {
            guard let ns = p.notes, !ns.isEmpty else { continue }
            out[p.frame] = ns.map { N($0.kind, $0.text, $0.states?.client, $0.states?.server) }
        }
        return out
    }

    /// `netinspect -r FILE --flows --json -q`: the flow rows only.
    static func flows(_ file: String) throws -> [FlowRow] {
        let r = try CLI.run(["-r", "captures/\(file)", "--flows", "--json", "-q"])
        #expect(r.status == 0, "exit \(r.status): \(r.stderr)")
        return try r.stdout.split(separator: "\n").map { try JSONDecoder().decode(FlowRow.self, from: Data($0.utf8)) }
    }

    /// Text output lines (stdout only), `-n` plus `extra`.
    static func lines(_ file: String, _ extra: [String] = []) throws -> [String] {
        let r = try CLI.run(["-n", "-r", "captures/\(file)"] + extra)
        #expect(r.status == 0, "exit \(r.status): \(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    static func line(_ lines: [String], frame: Int) -> String {
        frame - 1 < lines.count ? lines[frame - 1] : "<no frame \(frame)>"
    }

    /// Compares two frame → notes maps with a readable difference.
    static func expectNotes(_ got: [Int: [N]], _ want: [Int: [N]], sourceLocation: SourceLocation = #_sourceLocation) {
        for frame in Set(got.keys).union(want.keys).sorted() where got[frame] != want[frame] {
            Issue.record("frame \(frame): got \(got[frame] ?? []), expected \(want[frame] ?? [])", sourceLocation: sourceLocation)
        }
    }

    // Frequently used notes.
    static func syn() -> N { N("handshake", "handshake 1/3", "SYN_SENT", "SYN_RCVD") }
    static func synAck(_ isn: UInt32) -> N { N("handshake", "handshake 2/3 (acks SYN)", "ESTABLISHED", "SYN_RCVD") }
    /// The client is ESTABLISHED once it sends the ACK; the server stays SYN_RCVD until a segment from
    /// it shows it took the ACK (docs/backlog.md).
    static func ack(_ rtt: String) -> N { N("handshake", "handshake 3/3 (RTT \(rtt))", "ESTABLISHED", "SYN_RCVD") }

    // MARK: crafted captures

    @Test func threeWayClose() throws {
        let file = "tcp-three-way-close.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            2: [Self.synAck(1000)],
            3: [Self.ack("2.0 ms")],
            7: [N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT")],
            // The server's FIN also acks the client's: client FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT at once.
            8: [N("teardown", "teardown 2+3/4 (FIN+ACK from server)", "TIME_WAIT", "LAST_ACK")],
            9: [N("teardown", "teardown 4/4 (client acks the last FIN)", "TIME_WAIT", "CLOSED")],
        ])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: 1 SYN → S; 2 SYN-ACK → h; 3 pure ACK → A; 4 client data → D; 5 server data → d;
        // 6 client ACK (A seen); 7 client FIN+ACK → F; 8 server FIN+ACK → f; 9 ACK (A seen).
        // The server never sent a pure ACK, so no `a`: "ShADdFf". Both endpoints end TCP_CLOSED → SF.
        #expect(f[0].conn_state == "SF")
        #expect(f[0].history == "ShADdFf")
        #expect(f[0].end == "fin by client")
        #expect(f[0].states.client == "TIME_WAIT" && f[0].states.server == "CLOSED")
        #expect(f[0].client == "192.0.2.10:41001" && f[0].server == "198.51.100.80:80")
        #expect(f[0].packets.c2s == 6 && f[0].packets.s2c == 3)
        #expect(f[0].bytes.c2s == 5 && f[0].bytes.s2c == 6)
        #expect(f[0].handshake_rtt == 0.002)
        #expect(f[0].retransmissions == 0)
        #expect(f[0].midstream == nil)
    }

    @Test func threeWayCloseTextRelativeAndAbsolute() throws {
        let file = "tcp-three-way-close.pcap"
        let rel = try Self.lines(file)
        #expect(Self.line(rel, frame: 3).hasSuffix("Flags [.], ack 1, win 64240, length 0 [handshake 3/3 (RTT 2.0 ms)]"))
        #expect(Self.line(rel, frame: 4).contains("Flags [P.], seq 1:6, ack 1, win 64240, length 5"))
        #expect(Self.line(rel, frame: 5).contains("Flags [P.], seq 1:7, ack 6, win 65160, length 6"))
        #expect(Self.line(rel, frame: 8).contains("Flags [F.], seq 7, ack 7, win 65160, length 0 [teardown 2+3/4 (FIN+ACK from server)]"))
        // The SYN and SYN-ACK carry absolute numbers, as tcpdump prints them.
        #expect(Self.line(rel, frame: 2).contains("Flags [S.], seq 5000, ack 1001,"))
        let abs = try Self.lines(file, ["-S"])
        #expect(Self.line(abs, frame: 4).contains("Flags [P.], seq 1001:1006, ack 5001, win 64240, length 5"))
        #expect(Self.line(abs, frame: 8).contains("Flags [F.], seq 5007, ack 1007,"))
        // JSON keeps the raw values whatever the text shows.
        let p = try Self.packets(file)
        #expect(p[3].tcp?.seq == 1001 && p[3].tcp?.ack == 5001)
    }

    @Test func threeWayCloseFlowTextRow() throws {
        let r = try CLI.run(["-n", "-r", "captures/tcp-three-way-close.pcap", "--flows", "-q"])
        #expect(r.stdout == "flow 1 tcp 192.0.2.10:41001 > 198.51.100.80:80 0.008000 s 6/3 pkts 5/6 B rtt 2.0 ms SF ShADdFf fin by client (TIME_WAIT/CLOSED)\n")
    }

    @Test func fourWayCloseServerFirst() throws {
        let file = "tcp-four-way-close.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            2: [Self.synAck(2000)],
            3: [Self.ack("2.0 ms")],
            6: [N("teardown", "teardown 1/4 (FIN from server)", "CLOSE_WAIT", "FIN_WAIT_1")],
            7: [N("teardown", "teardown 2/4 (client acks the server's FIN)", "CLOSE_WAIT", "FIN_WAIT_2")],
            // The client's FIN reaches the server in FIN_WAIT_2: it enters TIME_WAIT.
            8: [N("teardown", "teardown 3/4 (FIN from client)", "LAST_ACK", "TIME_WAIT")],
            9: [N("teardown", "teardown 4/4 (server acks the last FIN)", "CLOSED", "TIME_WAIT")],
        ])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S (1), h (2), A (3), D (4 client data), a (5 server pure ACK), f (6 server FIN+ACK),
        // 7 client ACK (A seen), F (8 client FIN+ACK), 9 server ACK (a seen) → "ShADafF";
        // both TCP_CLOSED → SF.
        #expect(f[0].conn_state == "SF")
        #expect(f[0].history == "ShADafF")
        #expect(f[0].end == "fin by server")
        #expect(f[0].states.client == "CLOSED" && f[0].states.server == "TIME_WAIT")
        #expect(f[0].packets.c2s == 5 && f[0].packets.s2c == 4)
        #expect(f[0].retransmissions == 0)
    }

    @Test func simultaneousClose() throws {
        let file = "tcp-simultaneous-close.pcap"
        let got = try Self.notes(file)
        // Up to the first FIN the tracker is right.
        Self.expectNotes(got.filter { $0.key <= 4 }, [
            1: [Self.syn()],
            2: [Self.synAck(3000)],
            3: [Self.ack("2.0 ms")],
            4: [N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT")],
        ])
        // Frame 5 is the server's FIN with ack 3001 (= the client's FIN sequence, not past it): it was
        // sent before the client's FIN arrived, so both sides are in FIN_WAIT_1 → CLOSING. Each ACK then
        // moves the FIN's sender from CLOSING to TIME_WAIT; both end in TIME_WAIT.
        Self.expectNotes(got.filter { $0.key > 4 }, [
            5: [N("teardown", "teardown: simultaneous close (FIN from server too)", "CLOSING", "CLOSING")],
            6: [N("teardown", "teardown: client acks the server's FIN (simultaneous close)", "CLOSING", "TIME_WAIT")],
            7: [N("teardown", "teardown: server acks the client's FIN (simultaneous close)", "TIME_WAIT", "TIME_WAIT")],
        ])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S (1), h (2), A (3), F (4 client FIN+ACK), f (5 server FIN+ACK), 6 client ACK (A seen),
        // a (7 server pure ACK) → "ShAFfa"; both TCP_CLOSED → SF.
        #expect(f[0].conn_state == "SF")
        #expect(f[0].history == "ShAFfa")
        #expect(f[0].end == "fin by client")
        #expect(f[0].retransmissions == 0)
        #expect(f[0].states.client == "TIME_WAIT" && f[0].states.server == "TIME_WAIT")
    }

    @Test func halfClose() throws {
        let file = "tcp-half-close.pcap"
        let halfClose = N("half_close", "half-close: server still sends after the client's FIN", "FIN_WAIT_2", "CLOSE_WAIT")
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            2: [Self.synAck(4000)],
            3: [Self.ack("2.0 ms")],
            5: [N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT")],
            6: [N("teardown", "teardown 2/4 (server acks the client's FIN)", "FIN_WAIT_2", "CLOSE_WAIT")],
            7: [halfClose],
            8: [halfClose],
            10: [N("teardown", "teardown 3/4 (FIN from server)", "TIME_WAIT", "LAST_ACK")],
            11: [N("teardown", "teardown 4/4 (client acks the last FIN)", "TIME_WAIT", "CLOSED")],
        ])
        let rel = try Self.lines(file)
        #expect(Self.line(rel, frame: 7).contains("Flags [P.], seq 1:12, ack 6, win 65160, length 11 [half-close: server still sends after the client's FIN]"))
        #expect(Self.line(rel, frame: 8).contains("seq 12:24, ack 6,"))
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S (1), h (2), A (3), D (4 request), F (5 client FIN+ACK), a (6 server pure ACK),
        // d (7 server data after the FIN; 8 d seen), 9 client ACK (A seen), f (10 server FIN+ACK),
        // 11 (A seen) → "ShADFadf"; both TCP_CLOSED → SF.
        #expect(f[0].conn_state == "SF")
        #expect(f[0].history == "ShADFadf")
        #expect(f[0].end == "fin by client")
        #expect(f[0].states.client == "TIME_WAIT" && f[0].states.server == "CLOSED")
        #expect(f[0].bytes.c2s == 4 && f[0].bytes.s2c == 23)
    }

    @Test func refused() throws {
        let file = "tcp-refused.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            2: [N("reset", "connection refused (RST answers the SYN)", "CLOSED", "CLOSED")],
        ])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S (1 SYN), r (2 RST+ACK: RST is the only control bit) → "Sr". The originator is still
        // TCP_SYN_SENT and the responder TCP_RESET → REJ (conn_state rule 1).
        #expect(f[0].conn_state == "REJ")
        #expect(f[0].history == "Sr")
        #expect(f[0].end == "refused (rst by server)")
        #expect(f[0].states.client == "CLOSED" && f[0].states.server == "CLOSED")
        #expect(f[0].handshake_rtt == nil)
        #expect(f[0].server == "198.51.100.80:81")
    }

    @Test func resetAbortByServer() throws {
        let file = "tcp-rst-abort.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            2: [Self.synAck(10000)],
            3: [Self.ack("2.0 ms")],
            7: [N("reset", "reset by server in ESTABLISHED", "CLOSED", "CLOSED")],
            // The client's data that crossed the RST.
            8: [N("segment_after_close", "segment after close", "CLOSED", "CLOSED")],
        ])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S, h, A, D (4), d (5), 6 ACK (A seen), r (7 RST+ACK from the responder), 8 client data
        // (D seen, and not a retransmission: seq 10006 is the next byte) → "ShADdr". The responder is
        // TCP_RESET, the originator TCP_ESTABLISHED (neither SYN_SENT nor inactive) → RSTR.
        #expect(f[0].conn_state == "RSTR")
        #expect(f[0].history == "ShADdr")
        #expect(f[0].end == "rst by server")
        #expect(f[0].states.client == "CLOSED" && f[0].states.server == "CLOSED")
        #expect(f[0].retransmissions == 0)
    }

    @Test func midstreamStart() throws {
        let file = "tcp-midstream.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [N("midstream", "mid-stream: no handshake seen, originator guessed")],
        ])
        // No ISN seen: the first packet prints the numbers as carried.
        let rel = try Self.lines(file)
        #expect(Self.line(rel, frame: 1).contains("Flags [P.], seq 50000:50009, ack 90000, win 64240, length 9 [mid-stream"))
        // After it, tcpdump counts from the first packet's numbers (its seq, and its ack - 1 for the
        // other side): `tcpdump -n -r captures/tcp-midstream.pcap` prints these.
        #expect(Self.line(rel, frame: 2).contains("Flags [P.], seq 1:6, ack 9, win 65160, length 5"))
        #expect(Self.line(rel, frame: 3).contains("Flags [.], ack 6, win 64240"))
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: D (1 client data with ACK), d (2 server data), A (3 client pure ACK) → "DdA". No SYN on
        // either side: after the first segment each endpoint is TCP_PARTIAL (an ACK while the peer is
        // not established), so no rule before the last applies → OTH.
        #expect(f[0].conn_state == "OTH")
        #expect(f[0].history == "DdA")
        #expect(f[0].midstream == true)
        #expect(f[0].end == "open")
        #expect(f[0].states.client == "ESTABLISHED" && f[0].states.server == "ESTABLISHED")
        #expect(f[0].client == "192.0.2.10:41007")
        #expect(f[0].handshake_rtt == nil)
    }

    /// The accept queue (docs/backlog.md): demo-backlog.pcap's clients 4 (port 59398, flow 4) and 5
    /// (59414, flow 5) completed their handshake, but the server's accept queue was full, so it
    /// dropped their ACK and their data: it stays SYN_RCVD until it acknowledges the data at last.
    @Test func acceptQueueFullKeepsTheServerHalfOpen() throws {
        let file = "demo-backlog.pcap"
        let got = try Self.notes(file)
        let ignored = N("ack_not_accepted", "ACK not accepted by server: accept queue full?", "ESTABLISHED", "SYN_RCVD")
        let retrans = N("retransmission", "retransmission", nil, nil)
        Self.expectNotes(got.filter { [10, 40, 45, 50, 65, 82, 83, 64, 66].contains($0.key) }, [
            10: [Self.syn()],
            40: [N("syn_retransmission", "SYN retransmission: half-open, no answer yet", "SYN_SENT", "SYN_RCVD")],
            45: [Self.synAck(2515797022)],
            // Timed from the resent SYN (tshark's initial_rtt: 0.000045833 s), not from the dropped first one.
            50: [N("handshake", "handshake 3/3 (RTT 45 µs, after 1 SYN retransmission)", "ESTABLISHED", "SYN_RCVD")],
            65: [retrans, ignored],
            82: [retrans, ignored],
            83: [N("server_accepted", "server took the ACK at last: ESTABLISHED after 3359 ms half-open, 2 client segments ignored",
                   "ESTABLISHED", "ESTABLISHED")],
            64: [retrans, ignored],
            66: [N("server_accepted", "server took the ACK at last: ESTABLISHED after 207 ms half-open, 1 client segment ignored",
                   "ESTABLISHED", "ESTABLISHED")],
        ])
        // Frame 51 (the first copy of the data) has only its message note: nothing is known yet.
        #expect(got[51]?.map(\.kind) == ["message"])
        let f = try Self.flows(file)
        try #require(f.count == 8)
        #expect(f[3].acks_ignored == 2 && f[3].syn_retransmissions == 1 && f[3].retransmissions == 2)
        #expect(f[3].server_half_open.map { abs($0 - 3.359966) < 0.000_01 } == true)
        #expect(f[3].handshake_rtt == 0.000045)
        #expect(f[4].acks_ignored == 1)
        // Clients 6–8 lost their first SYN only: their ACK was taken at once.
        for i in 5 ..< 8 { #expect(f[i].acks_ignored == nil && f[i].syn_retransmissions == 1) }
        for i in 0 ..< 3 { #expect(f[i].acks_ignored == nil && f[i].syn_retransmissions == nil) }
        let rows = try Self.lines(file, ["--flows", "-q"])
        #expect(rows.contains { $0.hasPrefix("flow 4 ") && $0.contains("rtt 45 µs")
            && $0.contains("(CLOSED/TIME_WAIT) retrans 2 syn-retrans 1 ack-ignored 2 (server half-open 3359 ms, accept queue full?)") })
        // Cut before the server took client 4's ACK: the row shows the server still half-open.
        let cut = try Self.lines(file, ["--flows", "-q", "-c", "66"])
        #expect(cut.contains { $0.hasPrefix("flow 4 ") && $0.contains("open (ESTABLISHED/SYN_RCVD)")
            && $0.contains("ack-ignored 1 (server still half-open, accept queue full?)") })
        // stats: the average handshake RTT no longer includes the dropped SYNs' second.
        let stats = try CLI.run(["stats", "-r", "captures/\(file)"])
        #expect(stats.stdout.contains("handshake RTT min 4 µs, avg 43 µs, max 75 µs"))
    }

    /// The ladder draws the server SYN_RCVD until the segment that shows it took the ACK.
    @Test func acceptQueueLadder() throws {
        let r = try CLI.run(["ladder", "-n", "-r", "captures/demo-backlog.pcap", "--flow", "4", "--width", "140"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let ack = try #require(lines.first { $0.contains("handshake 3/3") })
        #expect(!ack.hasSuffix("ESTABLISHED"))
        let resent = lines.filter { $0.contains("ACK not accepted by server: accept queue full?") }
        #expect(resent.count == 2)
        let taken = try #require(lines.first { $0.contains("[.] ack 21 len 0") })
        #expect(taken.hasPrefix("4.370850") && taken.hasSuffix("| ESTABLISHED"))
        // An ordinary connection: the server is drawn ESTABLISHED at its first segment after the ACK.
        let one = try CLI.run(["ladder", "-n", "-r", "captures/demo-backlog.pcap", "--flow", "1", "--width", "120"])
        let first = try #require(one.stdout.split(separator: "\n").first { $0.contains("[.] ack 21 len 0") })
        #expect(first.hasSuffix("| ESTABLISHED"))
    }

    @Test func synRetransmission() throws {
        let file = "tcp-syn-retransmit.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            // The same SYN (same ISN) again: the half-open connection waits; still SYN_SENT/SYN_RCVD.
            2: [N("syn_retransmission", "SYN retransmission: half-open, no answer yet", "SYN_SENT", "SYN_RCVD")],
            3: [Self.synAck(11000)],
            // The RTT counts from the SYN the SYN-ACK answers (the second), as tshark's
            // tcp.analysis.initial_rtt does (0.002 s); the resent SYN is counted apart.
            4: [N("handshake", "handshake 3/3 (RTT 2.0 ms, after 1 SYN retransmission)", "ESTABLISHED", "SYN_RCVD")],
        ])
        let p = try Self.packets(file)
        #expect(Set(p.compactMap { $0.flow?.id }) == [1])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S (1); 2 the same SYN, same sequence number → no second S; h (3); A (4) → "ShA".
        // No payload was resent, so no T. Originator SYN_SENT → ESTABLISHED by the SYN-ACK, no FIN/RST
        // → S1 (Zeek's). The server sent nothing after the ACK, so nothing shows it took it: SYN_RCVD.
        #expect(f[0].conn_state == "S1")
        #expect(f[0].history == "ShA")
        #expect(f[0].end == "open")
        #expect(f[0].states.client == "ESTABLISHED" && f[0].states.server == "SYN_RCVD")
        #expect(f[0].handshake_rtt == 0.002)
        #expect(f[0].syn_retransmissions == 1)
        #expect(f[0].acks_ignored == nil)
        // The resent SYN has its own note and is not counted among the (data) retransmissions.
        #expect(f[0].retransmissions == 0)
        #expect(f[0].packets.c2s == 3 && f[0].packets.s2c == 1)
    }

    @Test func portReuseStartsASecondFlow() throws {
        let file = "tcp-port-reuse.pcap"
        let teardown: (N, N, N) = (
            N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT"),
            N("teardown", "teardown 2+3/4 (FIN+ACK from server)", "TIME_WAIT", "LAST_ACK"),
            N("teardown", "teardown 4/4 (client acks the last FIN)", "TIME_WAIT", "CLOSED"))
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()], 2: [Self.synAck(12000)], 3: [Self.ack("2.0 ms")],
            6: [teardown.0], 7: [teardown.1], 8: [teardown.2],
            // The new SYN (new ISN) on the same 4-tuple: a new handshake, not a segment after close
            // (Wireshark: reused ports).
            9: [N("reused_ports", "reused ports: a new SYN on this connection's ports"), Self.syn()], 10: [Self.synAck(112000)], 11: [Self.ack("2.0 ms")],
            12: [teardown.0], 13: [teardown.1], 14: [teardown.2],
        ])
        let p = try Self.packets(file)
        #expect(p.map { $0.flow?.id ?? 0 } == Array(repeating: 1, count: 8) + Array(repeating: 2, count: 6))
        // Relative numbers restart from the new ISNs.
        let rel = try Self.lines(file)
        #expect(Self.line(rel, frame: 11).contains("Flags [.], ack 1, win 64240"))
        #expect(Self.line(rel, frame: 13).contains("Flags [F.], seq 1, ack 2,"))
        let f = try Self.flows(file)
        try #require(f.count == 2)
        // Flow 1, Zeek: S, h, A, D (4), a (5), F (6), f (7), 8 (A seen) → "ShADaFf", SF.
        #expect(f[0].id == 1 && f[0].conn_state == "SF" && f[0].history == "ShADaFf")
        #expect(f[0].end == "fin by client")
        #expect(f[0].packets.c2s == 5 && f[0].packets.s2c == 3)
        // Flow 2 is a fresh summary (Zeek's IsReuse() starts a new conn.log entry): S, h, A, F, f → "ShAFf", SF.
        #expect(f[1].id == 2 && f[1].conn_state == "SF" && f[1].history == "ShAFf")
        #expect(f[1].end == "fin by client")
        #expect(f[1].states.client == "TIME_WAIT" && f[1].states.server == "CLOSED")
        #expect(f[1].packets.c2s == 4 && f[1].packets.s2c == 2)
        #expect(f[0].client == f[1].client && f[0].server == f[1].server)
    }

    @Test func sequenceNumbersWrapAround() throws {
        let file = "tcp-seq-wrap.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            2: [Self.synAck(4294967146)],
            3: [Self.ack("2.0 ms")],
            11: [N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT")],
            12: [N("teardown", "teardown 2+3/4 (FIN+ACK from server)", "TIME_WAIT", "LAST_ACK")],
            13: [N("teardown", "teardown 4/4 (client acks the last FIN)", "TIME_WAIT", "CLOSED")],
        ])
        // JSON: raw values, across 2^32.
        let p = try Self.packets(file)
        try #require(p.count == 13)
        #expect(p[3].tcp?.seq == 4294967147)
        #expect(p[5].tcp?.seq == 4294967247)
        #expect(p[7].tcp?.seq == 51)
        #expect(p[11].tcp?.seq == 1 && p[11].tcp?.ack == 152)
        // Text: relative numbers continue smoothly through the wrap.
        let rel = try Self.lines(file)
        #expect(Self.line(rel, frame: 4).contains("Flags [P.], seq 1:101, ack 1, win 64240, length 100"))
        #expect(Self.line(rel, frame: 5).contains("Flags [.], ack 101, win 65160"))
        #expect(Self.line(rel, frame: 6).contains("Flags [P.], seq 101:201, ack 1, win 64240, length 100"))
        #expect(Self.line(rel, frame: 8).contains("Flags [P.], seq 201:301, ack 1, win 64240, length 100"))
        #expect(Self.line(rel, frame: 9).contains("Flags [.], ack 301, win 65160"))
        #expect(Self.line(rel, frame: 10).contains("Flags [P.], seq 1:3, ack 301, win 65160, length 2"))
        #expect(Self.line(rel, frame: 12).contains("Flags [F.], seq 3, ack 302,"))
        #expect(Self.line(rel, frame: 13).contains("Flags [.], ack 4, win 64240"))
        let abs = try Self.lines(file, ["-S"])
        #expect(Self.line(abs, frame: 6).contains("seq 4294967247:51, ack 4294967295,"))
        #expect(Self.line(abs, frame: 8).contains("seq 51:151, ack 4294967295,"))
        #expect(Self.line(abs, frame: 12).contains("Flags [F.], seq 1, ack 152,"))
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // The wrap is not a retransmission (no T). Zeek: S, h, A, D (4), a (5), 6-9 seen, d (10 server
        // data), F (11), f (12), 13 seen → "ShADadFf"; both TCP_CLOSED → SF.
        #expect(f[0].retransmissions == 0)
        #expect(f[0].conn_state == "SF")
        #expect(f[0].history == "ShADadFf")
        #expect(f[0].bytes.c2s == 300 && f[0].bytes.s2c == 2)
    }

    // MARK: real captures

    @Test func liveHandshakeCapture() throws {
        let file = "tcp-handshake.pcap"
        Self.expectNotes(try Self.notes(file), [
            1: [Self.syn()],
            2: [Self.synAck(354837916)],
            3: [Self.ack("21 µs")],
            14: [N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT")],
            15: [N("teardown", "teardown 2+3/4 (FIN+ACK from server)", "TIME_WAIT", "LAST_ACK")],
            16: [N("teardown", "teardown 4/4 (client acks the last FIN)", "TIME_WAIT", "CLOSED")],
        ])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S, h, A (3), D (4), a (5), d (6), … F (14), f (15) → "ShADadFf", SF.
        #expect(f[0].conn_state == "SF" && f[0].history == "ShADadFf")
        #expect(f[0].end == "fin by client")
        #expect(f[0].retransmissions == 0)
        let rel = try Self.lines(file)
        #expect(Self.line(rel, frame: 4).contains("Flags [P.], seq 1:14, ack 1, win 64,"))
        #expect(Self.line(rel, frame: 9).contains("Flags [P.], seq 19:36, ack 26, win 64,"))
        let abs = try Self.lines(file, ["-S"])
        #expect(Self.line(abs, frame: 4).contains("Flags [P.], seq 354837917:354837930, ack 1910565937,"))
    }

    @Test func demoEcho() throws {
        let file = "demo-echo.pcap"
        let got = try Self.notes(file)
        Self.expectNotes(got.filter { $0.key <= 3 }, [
            1: [Self.syn()],
            2: [Self.synAck(2471346411)],
            3: [Self.ack("21 µs")],
        ])
        #expect(got[8] == [N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT")])
        #expect(got[9] == [N("teardown", "teardown 2+3/4 (FIN+ACK from server)", "TIME_WAIT", "LAST_ACK")])
        #expect(got[10] == [N("teardown", "teardown 4/4 (client acks the last FIN)", "TIME_WAIT", "CLOSED")])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S (1), h (2), A (3), D (4 client line), a (5 server ACK), d (6 echo), 7 (A seen),
        // F (8 client FIN+ACK), f (9 server FIN+ACK), 10 (A seen) → "ShADadFf"; both closed → SF.
        #expect(f[0].conn_state == "SF")
        #expect(f[0].history == "ShADadFf")
        #expect(f[0].end == "fin by client")
        #expect(f[0].states.client == "TIME_WAIT" && f[0].states.server == "CLOSED")
    }

    @Test func demoReset() throws {
        let file = "demo-reset.pcap"
        let got = try Self.notes(file)
        #expect(got[8] == [N("reset", "reset by client in ESTABLISHED", "CLOSED", "CLOSED")])
        let f = try Self.flows(file)
        try #require(f.count == 1)
        // Zeek: S, h, A, D (4), a (5), d (6), 7 (A seen), R (8 client RST+ACK) → "ShADadR". The
        // originator is TCP_RESET, the responder TCP_ESTABLISHED (not inactive) → RSTO.
        #expect(f[0].conn_state == "RSTO")
        #expect(f[0].history == "ShADadR")
        #expect(f[0].end == "rst by client")
        #expect(f[0].states.client == "CLOSED" && f[0].states.server == "CLOSED")
    }

    @Test func demoChatTwoFlows() throws {
        let file = "demo-chat.pcap"
        let got = try Self.notes(file)
        #expect(got[10] == [N("reset", "reset by client in ESTABLISHED", "CLOSED", "CLOSED")])
        #expect(got[11] == [Self.syn()])
        #expect(got[13]?.first?.text.hasPrefix("handshake 3/3") == true)
        #expect(got[18] == [N("teardown", "teardown 1/4 (FIN from client)", "FIN_WAIT_1", "CLOSE_WAIT")])
        #expect(got[20] == [N("teardown", "teardown 4/4 (client acks the last FIN)", "TIME_WAIT", "CLOSED")])
        let f = try Self.flows(file)
        try #require(f.count == 2)
        // Client 1, Zeek: S, h, A, D (4), a (5), d (6), 7-9 seen, R (10 RST+ACK) → "ShADadR", RSTO.
        #expect(f[0].conn_state == "RSTO" && f[0].history == "ShADadR" && f[0].end == "rst by client")
        // Client 2: S, h, A, D, a, d, F, f → "ShADadFf", SF.
        #expect(f[1].conn_state == "SF" && f[1].history == "ShADadFf" && f[1].end == "fin by client")
        #expect(f[0].client != f[1].client)
    }

    @Test func doubleCaptureIsNotRetransmission() throws {
        let single = try Self.notes("tcp-handshake.pcap")
        let double = try Self.notes("loopback-double.pcap")
        // Frame k of tcp-handshake.pcap is frame 2k-1 here; each copy 2k carries only the duplicate note.
        var want: [Int: [N]] = [:]
        for k in 1...16 {
            if let n = single[k] { want[2 * k - 1] = n }
            want[2 * k] = [N("duplicate_frame", "duplicate frame of #\(2 * k - 1)")]
        }
        Self.expectNotes(double, want)
        let f = try Self.flows("loopback-double.pcap")
        try #require(f.count == 1)
        #expect(f[0].retransmissions == 0)
        #expect(f[0].history == "ShADadFf" && f[0].conn_state == "SF")
        #expect(f[0].packets.c2s == 10 && f[0].packets.s2c == 6)
        // Text: the copy reads like the original (tcpdump prints both relative).
        let lines = try Self.lines("loopback-double.pcap")
        #expect(Self.line(lines, frame: 9).contains("Flags [.], ack 14, win 64,"))
        #expect(Self.line(lines, frame: 10).contains("Flags [.], ack 14, win 64,"))
    }
}
