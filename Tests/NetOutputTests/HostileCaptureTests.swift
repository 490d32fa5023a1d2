import Foundation
import Testing

/// Damaged and hostile capture files, built byte by byte at test time and read by the built
/// `netinspect`. For each: a clear message (one line on stderr besides the "reading from file"
/// banner), the packets before the damage decoded, no crash, no hang (`CLI.run` kills a run after
/// its timeout and fails the test), bounded memory (every run here has its address space capped).
enum Hostile {
    /// Address-space cap of every run: a 4 GB length field that got allocated fails the run.
    static let memoryLimitMB = 256

    // MARK: files

    /// Writes `bytes` to a fresh temporary file, runs `body` with its path, removes it.
    static func withFile<T>(_ name: String, _ bytes: [UInt8], _ body: (String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netinspect-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return try body(url.path)
    }

    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// A little-endian pcap file header (microsecond magic unless told).
    static func pcapHeader(linkType: UInt32 = 1, snaplen: UInt32 = 65535, magic: UInt32 = 0xA1B2_C3D4) -> [UInt8] {
        le32(magic) + le16(2) + le16(4) + le32(0) + le32(0) + le32(snaplen) + le32(linkType)
    }

    /// A pcap record; `caplen` and `wire` default to the data's length (and may lie).
    static func record(_ data: [UInt8], caplen: UInt32? = nil, wire: UInt32? = nil,
                       seconds: UInt32 = 1_700_000_000, micros: UInt32 = 0) -> [UInt8] {
        le32(seconds) + le32(micros) + le32(caplen ?? UInt32(data.count)) + le32(wire ?? UInt32(data.count)) + data
    }

    static func pcap(linkType: UInt32 = 1, snaplen: UInt32 = 65535, _ packets: [[UInt8]]) -> [UInt8] {
        pcapHeader(linkType: linkType, snaplen: snaplen) + packets.flatMap { record($0) }
    }

    // pcapng (little-endian)
    static func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
        let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let total = UInt32(12 + padded.count)
        return le32(type) + le32(total) + padded + le32(total)
    }
    static let sectionHeader = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xFF, count: 8))
    static func interface(linkType: UInt16 = 1) -> [UInt8] { block(1, le16(linkType) + le16(0) + le32(65535)) }
    static func enhancedPacket(_ data: [UInt8], interface: UInt32 = 0, caplen: UInt32? = nil) -> [UInt8] {
        block(6, le32(interface) + le32(0) + le32(0) + le32(caplen ?? UInt32(data.count)) + le32(UInt32(data.count)) + data)
    }

    // MARK: frames

    static func ethernet(_ payload: [UInt8], type: UInt16 = 0x0800) -> [UInt8] {
        [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2] + be16(type) + payload
    }

    static func ipv4(proto: UInt8, _ payload: [UInt8], ihl: UInt8 = 5, totalLength: UInt16? = nil) -> [UInt8] {
        let options = [UInt8](repeating: 1, count: max(0, Int(ihl) - 5) * 4)  // NOPs
        let total = totalLength ?? UInt16(20 + options.count + payload.count)
        return [0x40 | ihl, 0] + be16(total) + be16(1) + be16(0x4000) + [64, proto] + be16(0)
            + [10, 0, 0, 1] + [10, 0, 0, 2] + options + payload
    }

    static func tcp(seq: UInt32, ack: UInt32 = 0, flags: UInt8 = 0x18, dataOffset: UInt8 = 5, sport: UInt16 = 40000,
                    dport: UInt16 = 9, _ payload: [UInt8] = []) -> [UInt8] {
        be16(sport) + be16(dport) + be32(seq) + be32(ack) + [dataOffset << 4, flags] + be16(65535) + be16(0) + be16(0) + payload
    }

    static func udp(sport: UInt16 = 40000, dport: UInt16 = 9, length: UInt16? = nil, _ payload: [UInt8]) -> [UInt8] {
        be16(sport) + be16(dport) + be16(length ?? UInt16(8 + payload.count)) + be16(0) + payload
    }

    /// A good UDP datagram; `n` makes each one different (source port 1000 + n).
    static func good(_ n: Int) -> [UInt8] {
        ethernet(ipv4(proto: 17, udp(sport: UInt16(1000 + n), dport: 9, Array("packet \(n)".utf8))))
    }

    /// A DNS query whose question section is `question` (the header says one question).
    static func dns(_ question: [UInt8]) -> [UInt8] {
        ethernet(ipv4(proto: 17, udp(sport: 5353, dport: 53, be16(0x1234) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0) + question)))
    }

    // MARK: running and checking

    static func run(_ args: [String]) throws -> CLI.Result {
        try CLI.run(args, timeout: 60, memoryLimitMB: memoryLimitMB)
    }

    /// The lines of an output (an empty line counts).
    static func lines(_ s: String) -> [Substring] {
        var parts = s.split(separator: "\n", omittingEmptySubsequences: false)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// The stderr lines that are not the "reading from file" banner.
    static func problems(_ r: CLI.Result) -> [Substring] {
        lines(r.stderr).filter { !$0.hasPrefix("reading from file ") }
    }

    /// Every stdout line parses as a JSON object; returns them.
    static func jsonObjects(_ r: CLI.Result, sourceLocation: SourceLocation = #_sourceLocation) -> [[String: Any]] {
        lines(r.stdout).compactMap { line in
            let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(obj != nil, "not a JSON object: \(line)", sourceLocation: sourceLocation)
            return obj
        }
    }

    /// A damaged file: text and JSON both print exactly the `before` packets, then one clear line on
    /// stderr naming the file and containing `message`, and exit 1.
    static func expectDamaged(_ name: String, _ bytes: [UInt8], before: Int, message: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        try withFile(name, bytes) { path in
            let text = try run(["-n", "-r", path])
            #expect(!text.signaled && text.status == 1, "\(name): status \(text.status)", sourceLocation: sourceLocation)
            #expect(lines(text.stdout).count == before, "\(name): \(text.stdout)", sourceLocation: sourceLocation)
            let p = problems(text)
            #expect(p.count == 1, "\(name): stderr \(text.stderr)", sourceLocation: sourceLocation)
            #expect(p.first?.hasPrefix("netinspect: \(path): ") == true, "\(name): \(text.stderr)", sourceLocation: sourceLocation)
            #expect(p.first?.contains(message) == true, "\(name): '\(text.stderr)' lacks '\(message)'", sourceLocation: sourceLocation)
            // The packets before the damage are decoded, not just counted.
            for (i, line) in lines(text.stdout).enumerated() {
                #expect(line.contains("10.0.0.1.\(1000 + i) > 10.0.0.2.9: UDP"), "\(name): \(line)", sourceLocation: sourceLocation)
            }

            let json = try run(["-r", path, "--json"])
            #expect(!json.signaled && json.status == 1, "\(name) --json: status \(json.status)", sourceLocation: sourceLocation)
            #expect(jsonObjects(json, sourceLocation: sourceLocation).count == before, "\(name) --json: \(json.stdout)", sourceLocation: sourceLocation)
            #expect(lines(json.stderr).count == 1, "\(name) --json: stderr \(json.stderr)", sourceLocation: sourceLocation)
            #expect(json.stderr.contains(message), "\(name) --json: \(json.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// A readable file with hostile packets: exit 0, one text line and one JSON object per packet,
    /// nothing on stderr but the banner. Returns the text lines and JSON objects.
    static func decodeAll(_ name: String, _ bytes: [UInt8], packets: Int, textArgs: [String] = ["-n"],
                          sourceLocation: SourceLocation = #_sourceLocation) throws -> (text: [Substring], json: [[String: Any]]) {
        try withFile(name, bytes) { path in
            let text = try run(textArgs + ["-r", path])
            #expect(!text.signaled && text.status == 0, "\(name): status \(text.status) \(text.stderr)", sourceLocation: sourceLocation)
            #expect(problems(text).isEmpty, "\(name): \(text.stderr)", sourceLocation: sourceLocation)
            let textLines = lines(text.stdout)
            #expect(textLines.count == packets, "\(name): \(textLines.count) lines for \(packets) packets", sourceLocation: sourceLocation)
            let json = try run(["-r", path, "--json"])
            #expect(!json.signaled && json.status == 0, "\(name) --json: status \(json.status) \(json.stderr)", sourceLocation: sourceLocation)
            #expect(json.stderr.isEmpty, "\(name) --json: \(json.stderr)", sourceLocation: sourceLocation)
            let objects = jsonObjects(json, sourceLocation: sourceLocation)
            #expect(objects.count == packets, "\(name) --json: \(objects.count) objects for \(packets) packets", sourceLocation: sourceLocation)
            #expect(objects.map { $0["frame"] as? Int ?? -1 } == (0 ..< packets).map { $0 + 1 },
                    "\(name) --json: frame numbers", sourceLocation: sourceLocation)
            return (textLines, objects)
        }
    }
}

/// A seeded generator, so a failure names a reproducible file.
struct HostileRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0 ..< n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

@Suite("Hostile captures: damaged files")
struct DamagedFileTests {
    static let three = Hostile.pcap([Hostile.good(0), Hostile.good(1), Hostile.good(2)])

    @Test(arguments: [0, 2, 4, 13, 23])
    func fileCutInsideTheFileHeader(at cut: Int) throws {
        try Hostile.expectDamaged("cut-header-\(cut).pcap", Array(Self.three.prefix(cut)), before: 0, message: "truncated dump file")
    }

    @Test func fileCutInsideARecordHeader() throws {
        try Hostile.expectDamaged("cut-record-header.pcap", Self.three + Hostile.record(Hostile.good(3)).prefix(7),
                                  before: 3, message: "truncated dump file; tried to read 16 header bytes, only got 7")
    }

    @Test func fileCutInsideRecordData() throws {
        let fourth = Hostile.record(Hostile.good(3))
        try Hostile.expectDamaged("cut-record-data.pcap", Self.three + fourth.prefix(16 + 10), before: 3,
                                  message: "truncated dump file; tried to read \(fourth.count - 16) captured bytes, only got 10")
    }

    @Test func badMagic() throws {
        let bytes = Hostile.le32(0xDEAD_BEEF) + Self.three.dropFirst(4)
        try Hostile.expectDamaged("bad-magic.pcap", bytes, before: 0, message: "unknown file format")
    }

    @Test func notACaptureAtAll() throws {
        try Hostile.expectDamaged("text.pcap", Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8), before: 0, message: "unknown file format")
    }

    /// caplen 4 GB (and just past libpcap's largest snapshot length): libpcap refuses the record
    /// before allocating it; under a 256 MB address-space cap, an allocation would have failed the run.
    @Test(arguments: [UInt32.max, 0x8000_0000, 262_145])
    func absurdCapturedLength(_ caplen: UInt32) throws {
        let bytes = Self.three + Hostile.record(Hostile.good(3), caplen: caplen)
        try Hostile.expectDamaged("caplen-\(caplen).pcap", bytes, before: 3,
                                  message: "invalid packet capture length \(caplen), bigger than snaplen of 65535")
    }

    @Test func absurdCapturedLengthWithAbsurdSnaplen() throws {
        // A header snapshot length of 4 GB is clamped by libpcap; the record is still refused.
        let bytes = Hostile.pcapHeader(snaplen: UInt32.max) + [Hostile.good(0)].flatMap { Hostile.record($0) }
            + Hostile.record(Hostile.good(1), caplen: UInt32.max)
        try Hostile.expectDamaged("snaplen-4g.pcap", bytes, before: 1, message: "invalid packet capture length 4294967295")
    }

    @Test func pcapngCutInsideTheSectionHeader() throws {
        let bytes = Hostile.sectionHeader.prefix(10)
        try Hostile.expectDamaged("cut-shb.pcapng", Array(bytes), before: 0, message: "unknown file format")
    }

    static let ngTwo = Hostile.sectionHeader + Hostile.interface() + Hostile.enhancedPacket(Hostile.good(0))
        + Hostile.enhancedPacket(Hostile.good(1))

    @Test func pcapngCutInsideABlock() throws {
        let third = Hostile.enhancedPacket(Hostile.good(2))
        try Hostile.expectDamaged("cut-block-header.pcapng", Self.ngTwo + third.prefix(6), before: 2, message: "truncated pcapng dump file")
        try Hostile.expectDamaged("cut-block-body.pcapng", Self.ngTwo + third.prefix(20), before: 2, message: "truncated pcapng dump file")
        try Hostile.expectDamaged("cut-block-trailer.pcapng", Self.ngTwo + third.dropLast(2), before: 2, message: "truncated pcapng dump file")
    }

    @Test func pcapngAbsurdLengths() throws {
        var huge = Hostile.enhancedPacket(Hostile.good(2))
        huge.replaceSubrange(4 ..< 8, with: Hostile.le32(0xFFFF_FFFC))
        try Hostile.expectDamaged("block-4g.pcapng", Self.ngTwo + huge, before: 2, message: "pcapng block size 4294967292 > maximum")
        var tiny = Hostile.enhancedPacket(Hostile.good(2))
        tiny.replaceSubrange(4 ..< 8, with: Hostile.le32(8))
        try Hostile.expectDamaged("block-8.pcapng", Self.ngTwo + tiny, before: 2, message: "has a length of 8 < 12")
        try Hostile.expectDamaged("epb-caplen-4g.pcapng", Self.ngTwo + Hostile.enhancedPacket(Hostile.good(2), caplen: UInt32.max),
                                  before: 2, message: "invalid packet capture length 4294967295")
        try Hostile.expectDamaged("epb-caplen-past-block.pcapng", Self.ngTwo + Hostile.enhancedPacket(Hostile.good(2), caplen: 1000),
                                  before: 2, message: "is too short")
        var mismatch = Hostile.enhancedPacket(Hostile.good(2))
        mismatch.replaceSubrange(mismatch.count - 4 ..< mismatch.count, with: Hostile.le32(1234))
        try Hostile.expectDamaged("trailer-mismatch.pcapng", Self.ngTwo + mismatch, before: 2, message: "don't match")
    }

    @Test func pcapngPacketsWithoutInterface() throws {
        try Hostile.expectDamaged("no-idb.pcapng", Hostile.sectionHeader + Hostile.enhancedPacket(Hostile.good(0)), before: 0,
                                  message: "before any Interface Description Blocks")
        try Hostile.expectDamaged("bad-interface.pcapng", Self.ngTwo + Hostile.enhancedPacket(Hostile.good(2), interface: 5), before: 2,
                                  message: "no Interface Description Block for that interface")
    }
}

@Suite("Hostile captures: lying records")
struct LyingRecordTests {
    /// caplen above the file's snapshot length (but below libpcap's limit): libpcap keeps the first
    /// snaplen bytes, the packet is shown as cut by the capture, and the records after it stay in step.
    @Test func capturedLengthAboveSnaplen() throws {
        let bytes = Hostile.pcap(snaplen: 40, [Hostile.good(0), Hostile.good(1), Hostile.good(2)])
        let (text, json) = try Hostile.decodeAll("caplen-over-snaplen.pcap", bytes, packets: 3)
        #expect(text.allSatisfy { $0.contains("[|udp]") && !$0.contains("invalid") }, "\(text)")
        #expect(text.enumerated().allSatisfy { $0.element.contains("10.0.0.1.\(1000 + $0.offset) > ") }, "\(text)")
        #expect(json.map { $0["caplen"] as? Int } == [40, 40, 40])
        #expect(json.map { $0["len"] as? Int } == [50, 50, 50])
    }

    @Test func zeroLengthPackets() throws {
        for (dlt, name) in [(1, "ethernet"), (113, "sll"), (276, "sll2"), (0, "null"), (101, "raw"), (147, "user0")] {
            let bytes = Hostile.pcapHeader(linkType: UInt32(dlt)) + Hostile.record([]) + Hostile.record([], wire: 60)
                + Hostile.record([], wire: UInt32.max) + Hostile.record(dlt == 1 ? Hostile.good(0) : [0x45])
                + Hostile.record([])
            let (_, json) = try Hostile.decodeAll("zero-\(name).pcap", bytes, packets: 5)
            #expect(json.map { $0["caplen"] as? Int } == [0, 0, 0, dlt == 1 ? Hostile.good(0).count : 1, 0], "\(name)")
            #expect(json[2]["len"] as? Int == Int(UInt32.max), "\(name)")
        }
    }

    /// A wire length below the captured length (impossible, but libpcap passes it on).
    @Test func wireLengthBelowCapturedLength() throws {
        let bytes = Hostile.pcapHeader() + Hostile.record(Hostile.good(0), wire: 10) + Hostile.record(Hostile.good(1), wire: 0)
            + Hostile.record(Hostile.good(2))
        let (text, _) = try Hostile.decodeAll("wire-below-caplen.pcap", bytes, packets: 3)
        #expect(text.last?.contains("10.0.0.1.1002 > 10.0.0.2.9: UDP") == true)
    }

    /// Timestamp fields libpcap passes on unchecked: a microsecond field of 2^32 - 1 (libpcap reads it
    /// as -1 µs, so -1000 ns at nanosecond precision), a second field of 2^32 - 1 (-1 s), and one
    /// million microseconds.
    @Test func hostileTimestampsStillGiveValidJSON() throws {
        let bytes = Hostile.pcapHeader() + Hostile.record(Hostile.good(0), seconds: UInt32.max, micros: UInt32.max)
            + Hostile.record(Hostile.good(1), seconds: 5, micros: 1_000_000) + Hostile.record(Hostile.good(2), seconds: 5, micros: 999_999)
        try Hostile.withFile("timestamps.pcap", bytes) { path in
            let json = try Hostile.run(["-r", path, "--json"])
            #expect(json.status == 0 && !json.signaled)
            // Sub-second fields out of range are carried into the seconds (CaptureSource.next).
            let objects = Hostile.jsonObjects(json)
            #expect(objects.count == 3)
            // 1,000,000 µs is one more second, not none.
            #expect(objects.count == 3 && objects[1]["ts"] as? Double == 6.0)
            for flags in [["-tt"], ["-tt", "--nano"], ["-ttt"], []] {
                let text = try Hostile.run(flags + ["-n", "-r", path])
                #expect(!text.stdout.contains("/"), "\(flags): \(text.stdout)")
            }
        }
    }
}

@Suite("Hostile captures: hostile packets")
struct HostilePacketTests {
    /// Every link type libpcap hands over: the decoded ones, ones we name but do not decode, and
    /// values nobody knows. Garbage payloads of 0 to 200 bytes, 25 per link type.
    static let linkTypes: [UInt32] = [0, 1, 12, 101, 113, 228, 229, 276, 105, 127, 147, 195, 197, 220, 239, 253,
                                      9, 10, 104, 107, 108, 119, 143, 161, 189, 192, 201, 215, 227, 231, 249, 263, 266, 281, 65000]

    @Test(arguments: HostilePacketTests.linkTypes)
    func garbageOnEveryLinkType(_ dlt: UInt32) throws {
        var rng = HostileRNG(state: 0x6A4B_0000 &+ UInt64(dlt))
        let packets = (0 ..< 25).map { _ in rng.bytes(Int(rng.next() % 201)) }
        let bytes = Hostile.pcap(linkType: dlt, snaplen: 262_144, packets)
        let (_, json) = try Hostile.decodeAll("garbage-dlt\(dlt).pcap", bytes, packets: 25)
        #expect(json.map { $0["caplen"] as? Int ?? -1 } == packets.map(\.count))
        // -e and -q take other paths through the formatter.
        _ = try Hostile.decodeAll("garbage-dlt\(dlt)-e.pcap", bytes, packets: 25, textArgs: ["-e", "-n", "-tttt"])
        _ = try Hostile.decodeAll("garbage-dlt\(dlt)-q.pcap", bytes, packets: 25, textArgs: ["-q", "--nano"])
    }

    /// One TCP conversation whose timestamps jump from 2^31 - 1 s to -2^31 s (as libpcap reads a
    /// 32-bit field) and back to 0: the analysis's time differences (RTT, idle, durations, the
    /// ladder's offsets) must saturate, not trap.
    @Test func absurdTimestampsInOneConnection() throws {
        let syn = Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 1, flags: 0x02)))
        let synAck = Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 9, ack: 2, flags: 0x12, sport: 9, dport: 40000)))
        let ack = Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 2, ack: 10, flags: 0x10)))
        let bytes = Hostile.pcapHeader() + Hostile.record(syn, seconds: 0x7FFF_FFFF, micros: 999_999)
            + Hostile.record(synAck, seconds: 0x8000_0000) + Hostile.record(ack, seconds: 0)
        try Hostile.withFile("absurd-times.pcap", bytes) { path in
            for args in [["-n"], ["-n", "--flows"], ["--json", "--flows"], ["-v", "-n", "--flows", "-q"]] {
                let r = try Hostile.run(args + ["-r", path])
                #expect(r.status == 0 && !r.signaled, "\(args)")
            }
            let ladder = try CLI.run(["ladder", "-n", "--width", "80", "-r", path])
            #expect(ladder.status == 0 && !ladder.signaled)
        }
    }

    @Test func sequenceNumbersWrapAround() throws {
        let bytes = Hostile.pcap([
            Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 0xFFFF_FFF0, ack: 1, Array(repeating: 0x41, count: 32)))),
            Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 0xFFFF_FFFF, ack: 0xFFFF_FFFF, flags: 0x10))),
            Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 16, ack: 1, Array(repeating: 0x42, count: 4)))),
        ])
        // -S: sequence numbers as carried (relative numbering is tested in TCPAnalysisTests).
        let (text, json) = try Hostile.decodeAll("seq-wrap.pcap", bytes, packets: 3, textArgs: ["-n", "-S"])
        #expect(text[0].contains("seq 4294967280:16, ack 1"), "\(text[0])")
        #expect(text[1].contains("ack 4294967295"), "\(text[1])")
        #expect(text[2].contains("seq 16:20, ack 1"), "\(text[2])")
        let tcp = json.compactMap { $0["tcp"] as? [String: Any] }
        #expect(tcp.map { $0["seq"] as? Int } == [4_294_967_280, 4_294_967_295, 16])
        #expect(tcp.map { $0["ack"] as? Int } == [1, 4_294_967_295, 1])
        #expect(json.allSatisfy { $0["errors"] == nil })
    }

    /// Compression pointers that point at themselves, forwards, and in a cycle; then a long but
    /// legal backwards chain; then a good query (decoding went on).
    @Test func dnsCompressionLoopsAndForwardPointers() throws {
        let qtail: [UInt8] = [0, 1, 0, 1]
        // The DNS message starts at offset 42 of the frame; its question at message offset 12.
        let selfPointer = Hostile.dns([0xC0, 12] + qtail)
        let forward = Hostile.dns([0xC0, 32] + qtail + [UInt8](repeating: 0, count: 14) + [1, 0x62, 0])
        let cycle = Hostile.dns([1, 0x61, 0xC0, 20] + qtail + [1, 0x62, 0xC0, 12])
        let pointerToPointer = Hostile.dns([0xC0, 14, 0xC0, 12] + qtail)
        // 200 one-letter labels after the question, each ending in a pointer to the one before:
        // every pointer points backwards, but the name is 401 bytes (the limit is 255).
        var chain: [UInt8] = [1, 0x63, 0]  // at message offset 18
        func offset(_ k: Int) -> Int { k == 0 ? 18 : 21 + 4 * (k - 1) }
        for k in 1 ..< 200 { chain += [1, 0x63, 0xC0 | UInt8(offset(k - 1) >> 8), UInt8(offset(k - 1) & 0xFF)] }
        let longChain = Hostile.dns([0xC0 | UInt8(offset(199) >> 8), UInt8(offset(199) & 0xFF)] + qtail + chain)
        let good = Hostile.dns([1, 0x78, 0] + qtail)
        let (text, json) = try Hostile.decodeAll("dns-loops.pcap", Hostile.pcap([selfPointer, forward, cycle, pointerToPointer, longChain, good]), packets: 6)
        for line in text.prefix(4) {
            #expect(line.contains("(invalid domain: compression pointer"), "\(line)")
        }
        #expect(text[4].contains("invalid domain") || text[4].contains("[|domain]") || text[4].contains("A? "), "\(text[4])")
        #expect(text[5].contains("A? x. ") && !text[5].contains("invalid"), "\(text[5])")
        #expect(json.prefix(4).allSatisfy { ($0["errors"] as? [[String: Any]])?.first?["layer"] as? String == "dns" })
    }

    @Test func ipv4HeaderLengthBelowFive() throws {
        var packets = (0 ... 4).map { Hostile.ethernet(Hostile.ipv4(proto: 17, Hostile.udp(Array("x".utf8)), ihl: UInt8($0))) }
        packets.append(Hostile.ethernet(Hostile.ipv4(proto: 17, Hostile.udp(Array("x".utf8)), ihl: 15, totalLength: 29)))
        packets.append(Hostile.good(0))
        let (text, json) = try Hostile.decodeAll("ihl.pcap", Hostile.pcap(packets), packets: 7)
        for (ihl, line) in text.prefix(5).enumerated() {
            #expect(line.contains("(invalid ip: header length \(ihl * 4) at offset 14)"), "\(line)")
        }
        #expect(text[5].contains("(invalid ip"), "\(text[5])")
        #expect(text[6].contains("10.0.0.1.1000 > 10.0.0.2.9: UDP") && !text[6].contains("invalid"))
        #expect(json.prefix(6).allSatisfy { ($0["errors"] as? [[String: Any]])?.first?["kind"] as? String == "malformed" })
    }

    @Test func tcpDataOffsetBelowFiveOrBeyondThePacket() throws {
        var packets = (0 ... 4).map { Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 1, dataOffset: UInt8($0), [1, 2, 3, 4]))) }
        packets.append(Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 1, dataOffset: 15, [1, 2, 3, 4]))))
        packets.append(Hostile.ethernet(Hostile.ipv4(proto: 6, Hostile.tcp(seq: 1, dataOffset: 6))))
        packets.append(Hostile.good(0))
        let (text, json) = try Hostile.decodeAll("tcp-offset.pcap", Hostile.pcap(packets), packets: 8)
        for line in text.prefix(7) {
            #expect(line.contains("(invalid tcp: data offset"), "\(line)")
            #expect(line.contains("10.0.0.1.40000 > 10.0.0.2.9: "), "ports still shown: \(line)")
        }
        #expect(text[7].contains("10.0.0.1.1000 > 10.0.0.2.9: UDP") && !text[7].contains("invalid"))
        #expect(json.prefix(7).allSatisfy { ($0["errors"] as? [[String: Any]])?.first?["layer"] as? String == "tcp" })
    }

    @Test func udpLengthLyingBothWays() throws {
        let payload = Array("hello world".utf8)  // 11 bytes, so the honest length is 19
        let packets = [
            Hostile.ethernet(Hostile.ipv4(proto: 17, Hostile.udp(length: 200, payload))),   // longer than the IP payload
            Hostile.ethernet(Hostile.ipv4(proto: 17, Hostile.udp(length: 0xFFFF, payload))),
            Hostile.ethernet(Hostile.ipv4(proto: 17, Hostile.udp(length: 3, payload))),     // shorter than its own header
            Hostile.ethernet(Hostile.ipv4(proto: 17, Hostile.udp(length: 0, payload))),
            Hostile.ethernet(Hostile.ipv4(proto: 17, Hostile.udp(length: 10, payload))),    // shorter than the data: 2 bytes are the datagram
            Hostile.good(0),
        ]
        let (text, json) = try Hostile.decodeAll("udp-length.pcap", Hostile.pcap(packets), packets: 6)
        for line in text.prefix(4) { #expect(line.contains("(invalid udp: length"), "\(line)") }
        #expect(text[4].contains("UDP, length 2") && !text[4].contains("invalid"), "\(text[4])")
        #expect(text[5].contains("10.0.0.1.1000 > 10.0.0.2.9: UDP") && !text[5].contains("invalid"))
        let udp = json.compactMap { $0["udp"] as? [String: Any] }
        #expect(udp.count == 6)
        #expect(udp.first?["len"] as? Int == 200)
    }

    /// Many small records: no hang, no memory that grows with the file (the address-space cap of
    /// the run is 256 MB).
    @Test func manyRecordsInBoundedMemory() throws {
        var rng = HostileRNG(state: 42)
        var bytes = Hostile.pcapHeader()
        let count = 50_000
        bytes.reserveCapacity(24 + count * 80)
        for n in 0 ..< count {
            let frame = n % 3 == 0 ? Hostile.good(n % 60_000) : rng.bytes(Int(rng.next() % 60))
            bytes += Hostile.record(frame, seconds: UInt32(1_700_000_000 + n))
        }
        try Hostile.withFile("many.pcap", bytes) { path in
            let r = try Hostile.run(["-n", "-r", path])
            #expect(r.status == 0 && !r.signaled, "\(r.stderr)")
            #expect(Hostile.lines(r.stdout).count == count)
            let j = try Hostile.run(["-r", path, "--json", "-c", "\(count)"])
            #expect(j.status == 0 && !j.signaled, "\(j.stderr)")
            #expect(Hostile.lines(j.stdout).count == count)
        }
    }
}
