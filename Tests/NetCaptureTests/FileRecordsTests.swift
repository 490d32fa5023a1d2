import Foundation
import NetCapture
import Testing

/// Saved classic pcap files are read in blocks by `FileRecords` until something needs libpcap.
/// Every record and every ending must be the same as libpcap reading the whole file: checked on
/// each bundled capture and on crafted damaged files.
@Suite struct FileRecordsTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Read: Equatable {
        var records: [String] = []
        var end = ""
    }

    static func read(_ path: String, blocks: Bool, filter: String? = nil) throws -> Read {
        let source = try CaptureSource.open(file: path, blockReads: blocks)
        if let filter { try source.setFilter(filter) }
        var out = Read()
        let end = source.forEach { frame, r in
            let bytes = Array(UnsafeRawBufferPointer(r.bytes))
            out.records.append("\(frame) \(r.seconds).\(r.nanoseconds) \(r.capturedLength)/\(r.wireLength) \(bytes.hashValue) \(bytes.prefix(4))")
            return true
        }
        out.end = "\(end)"
        return out
    }

    static func expectSame(_ path: String, filter: String? = nil) throws {
        let libpcap = try read(path, blocks: false, filter: filter)
        let blocks = try read(path, blocks: true, filter: filter)
        #expect(blocks.records.count == libpcap.records.count, "\(path)")
        #expect(blocks == libpcap, "\(path)")
    }

    @Test func bundledCapturesReadTheSame() throws {
        let dir = Self.repo.appendingPathComponent("captures")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
        #expect(files.count > 20)
        for f in files.sorted() {
            try Self.expectSame(dir.appendingPathComponent(f).path)
        }
        try Self.expectSame(dir.appendingPathComponent("demo-echo.pcap").path, filter: "tcp and port 9001")
    }

    // MARK: crafted files

    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
    static func be32(_ v: UInt32) -> [UInt8] { le32(v).reversed() }

    static func header(magic: UInt32 = 0xA1B2_C3D4, snaplen: UInt32 = 65535, minor: UInt8 = 4, big: Bool = false) -> [UInt8] {
        let w = big ? be32 : le32
        let version: [UInt8] = big ? [0, 2, 0, minor] : [2, 0, minor, 0]
        return w(magic) + version + w(0) + w(0) + w(snaplen) + w(1)
    }

    static func record(_ size: Int, caplen: UInt32? = nil, wire: UInt32? = nil, seconds: UInt32 = 1_700_000_000,
                       sub: UInt32 = 5, big: Bool = false, fill: UInt8 = 0xAB) -> [UInt8] {
        let w = big ? be32 : le32
        return w(seconds) + w(sub) + w(caplen ?? UInt32(size)) + w(wire ?? UInt32(size)) + [UInt8](repeating: fill, count: size)
    }

    static func withFile(_ bytes: [UInt8], _ body: (String) throws -> Void) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netinspect-records-\(UUID().uuidString).pcap")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        try body(url.path)
    }

    @Test func damagedAndUnusualFilesReadTheSame() throws {
        let three = Self.record(60) + Self.record(61, fill: 1) + Self.record(62, fill: 2)
        var cases: [(String, [UInt8])] = [
            ("plain", Self.header() + three),
            ("nanosecond magic", Self.header(magic: 0xA1B2_3C4D) + Self.record(60, sub: 999_999_999) + Self.record(60, sub: 7)),
            ("sub-second overflow and negative", Self.header() + Self.record(60, sub: 2_500_000) + Self.record(60, seconds: 0xFFFF_FFF0, sub: 0xFFFF_FFFF)),
            ("swapped byte order", Self.header(big: true) + Self.record(60, big: true) + Self.record(70, big: true)),
            ("version 2.3", Self.header(minor: 3) + three),
            ("caplen over the snapshot length", Self.header(snaplen: 64) + Self.record(60) + Self.record(100) + Self.record(50)),
            ("caplen over the maximum", Self.header() + Self.record(60) + Self.record(10, caplen: 0x7FFF_FFFF)),
            ("caplen larger than wire", Self.header() + Self.record(60, wire: 20)),
            ("empty records", Self.header() + Self.record(0) + Self.record(0) + Self.record(1)),
            ("header only", Self.header()),
            ("large records", Self.header(snaplen: 262_144) + Self.record(200_000) + Self.record(262_144, fill: 3) + Self.record(100)),
            ("many records across blocks", Self.header() + (0 ..< 3000).flatMap { Self.record(300 + $0 % 700, fill: UInt8($0 & 0xFF)) }),
        ]
        // Cut at every point of the last record and its header: libpcap's truncation messages.
        let full = Self.header() + three
        for cut in stride(from: full.count - 78, to: full.count, by: 7) {
            cases.append(("cut at \(cut)", Array(full.prefix(cut))))
        }
        // A record cut where a block boundary falls.
        let big = Self.header() + (0 ..< 2000).flatMap { Self.record(1000, fill: UInt8($0 & 0xFF)) }
        cases.append(("cut after the first block", Array(big.prefix((1 << 20) + 9))))
        for (name, bytes) in cases {
            try Self.withFile(bytes) { path in
                let libpcap = try Self.read(path, blocks: false)
                let blocks = try Self.read(path, blocks: true)
                #expect(blocks == libpcap, "\(name)")
            }
        }
    }

    @Test func breakLoopEndsOnlyItsOwnSource() throws {
        let bytes = Self.header() + (0 ..< 100).flatMap { _ in Self.record(100) }
        try Self.withFile(bytes) { path in
            let stopped = try CaptureSource.open(file: path)
            let other = try CaptureSource.open(file: path)
            var n = 0
            let end = stopped.forEach { _, _ in
                n += 1
                if n == 10 { stopped.breakLoop() }
                return true
            }
            #expect(n == 10)
            #expect(end == .endOfFile)
            var m = 0
            _ = other.forEach { _, _ in m += 1; return true }
            #expect(m == 100)
        }
    }

    @Test func blockReadsReportTheirPosition() throws {
        let bytes = Self.header() + (0 ..< 100).flatMap { _ in Self.record(100) }
        try Self.withFile(bytes) { path in
            let source = try CaptureSource.open(file: path)
            var n = 0
            _ = source.forEach { _, _ in
                n += 1
                if n == 10 { #expect(source.bytesRead == Int64(24 + 10 * 116)) }
                return true
            }
            #expect(n == 100)
        }
    }
}
