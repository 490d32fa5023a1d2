// libFuzzer target over the packet decoder and both formatters (scripts/fuzz builds and runs it).
//
// One input is one packet. Its first 4 bytes choose how it is decoded and printed, the rest is the
// captured packet:
//
//   byte 0  link type: `DecodeFuzz.linkTypes[byte % count]`
//   byte 1  bit 0 no checksum verification, bit 1 no DNS decoding, bit 2 `-n`, bit 3 `-e`,
//           bit 4 `-q`, bit 5 `--nano`, bit 6 UTC, bit 7 JSON nanosecond precision
//   byte 2  bits 0-2 timestamp style (`-t` level, 6 and 7 as 0), bits 3-4 one of four timestamps
//   byte 3  wire length: 0 = captured length, 0xFF = half of it (a lying record), 0xFE = 2^32 - 1,
//           n = captured length + 64 n
//
// Each input is decoded once and formatted as a text line and as a JSON line into an
// `OutputBuffer` with fd -1 (nothing is written). Besides traps and memory errors (AddressSanitizer),
// these are crashes: a payload range outside the packet, a text output that is not exactly one
// line of UTF-8, a JSON output that is not exactly one line holding one valid JSON object.
// It is also shown as the `-vv` layered view with `--hex-payload` and `-XX` (byte 1 bit 2 picks
// `-X` instead, bit 3 colors), which must be lines of UTF-8 that are all indented (never a line
// that could pass for a packet line), and counted by `--stats`.
//
// Without libFuzzer linked in (a plain `swift build`), `fuzz-decode FILE...` runs each file once,
// which replays a reproducer; `fuzz-decode --make-seeds DIR CAPTURE...` writes one input per packet
// of pcap/pcapng captures (the seed corpus).

import CFuzzerDriver
import NetAnalysis
import NetOutput
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum DecodeFuzz {
    /// Decoded link types, libpcap's other common ones, and values nothing knows.
    static let linkTypes: [Int32] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105, 127, 147, 9, 0x7FFF_FFFF]
    /// Timestamps as the capture layer hands them over: nanoseconds in 0..<1e9 (CaptureSource.next
    /// carries out-of-range sub-second fields into the seconds), seconds from a 32-bit signed pcap
    /// field or a 64-bit pcapng one.
    static let timestamps: [(Int, Int)] = [
        (1_700_000_000, 123_456_789), (0, 0), (-2_147_483_648, 999_999_999), (18_446_744_073_709, 999_999_999),
    ]

    nonisolated(unsafe) static var packet = Packet()
    nonisolated(unsafe) static var out = OutputBuffer(fd: -1, capacity: 1 << 16)

    static func run(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        guard let data, size >= 4 else { return 0 }
        let link = LinkType(rawValue: linkTypes[Int(data[0]) % linkTypes.count])
        let flags = data[1]
        let bytes = UnsafeRawBufferPointer(start: data + 4, count: size - 4)
        let captured = bytes.count
        let wire: Int
        switch data[3] {
        case 0: wire = captured
        case 0xFF: wire = captured / 2
        case 0xFE: wire = Int(UInt32.max)
        case let n: wire = captured + 64 * Int(n)
        }
        let decoder = PacketDecoder(verifyChecksums: flags & 1 == 0, decodeDNS: flags & 2 == 0)
        decoder.decode(bytes, wireLength: wire, linkType: link, into: &packet)

        if packet.payloadStart > packet.payloadEnd || packet.payloadEnd > captured || packet.payloadStart < 0
            || packet.capturedLength != captured {
            fatalError("payload range \(packet.payloadStart)..<\(packet.payloadEnd) in \(captured) captured bytes (capturedLength \(packet.capturedLength))")
        }

        var options = TextOptions()
        options.numeric = flags & 4 != 0
        options.linkHeader = flags & 8 != 0
        options.quiet = flags & 16 != 0
        options.nanoseconds = flags & 32 != 0
        options.utc = flags & 64 != 0
        switch data[2] & 7 {
        case 1: options.timestamps = .none
        case 2: options.timestamps = .epoch
        case 3: options.timestamps = .delta
        case 4: options.timestamps = .dateTime
        case 5: options.timestamps = .sinceFirst
        default: options.timestamps = .timeOfDay
        }
        let (seconds, nanoseconds) = timestamps[Int(data[2] >> 3) & 3]
        let pcapName = "DLT \(link.rawValue)"

        var text = TextFormatter(options: options)
        text.format(seconds: seconds, nanoseconds: nanoseconds, packet: packet, linkName: pcapName, into: &out)
        check(out.bytes, json: false)
        out.flush()

        let json = JSONFormatter(nanosecondPrecision: flags & 128 != 0)
        json.format(frame: 1, seconds: seconds, nanoseconds: nanoseconds, packet: packet,
                    link: JSONFormatter.linkName(link, pcapName: pcapName), into: &out)
        check(out.bytes, json: true)
        out.flush()

        var layered = LayeredOptions()
        layered.numeric = options.numeric
        layered.analysis = true
        layered.hexPayload = true
        layered.color = flags & 8 != 0
        let details = PacketDetails(layered: LayeredView(options: layered),
                                    hex: (flags & 4 != 0 ? .network : .frame, true), hexPayload: true)
        details.format(frame: 1, packet: packet, bytes: bytes, notes: [], flow: nil, into: &out)
        checkDetails(out.bytes)
        out.flush()
        stats.add(packet, notes: [], seconds: seconds, nanoseconds: nanoseconds)
        return 0
    }

    nonisolated(unsafe) static var stats = CaptureStatistics(tableCapacity: 64)

    /// Lines under a packet line: UTF-8, each ending in a newline, each indented.
    static func checkDetails(_ text: [UInt8]) {
        guard text.last == 10 else { fatalError("details do not end in a newline: \(String(decoding: text, as: UTF8.self).debugDescription)") }
        guard text.withContiguousStorageIfAvailable({ String(validating: $0, as: UTF8.self) }) != nil else {
            fatalError("details are not UTF-8: \(text)")
        }
        var lineStart = true
        for b in text {
            if lineStart && b != 32 && b != 9 {
                fatalError("a detail line is not indented: \(String(decoding: text, as: UTF8.self).debugDescription)")
            }
            lineStart = b == 10
        }
    }

    static func check(_ line: [UInt8], json: Bool) {
        let kind = json ? "JSON" : "text"
        guard line.last == 10, line.firstIndex(of: 10) == line.count - 1 else {
            fatalError("\(kind) output is not exactly one line: \(String(decoding: line, as: UTF8.self).debugDescription)")
        }
        let body = line.dropLast()
        guard body.withContiguousStorageIfAvailable({ String(validating: $0, as: UTF8.self) }) != nil else {
            fatalError("\(kind) output is not UTF-8: \(line)")
        }
        if json {
            var v = JSONValidator(Array(body))
            if let problem = v.validateObjectLine() {
                fatalError("JSON output invalid (\(problem)): \(String(decoding: line, as: UTF8.self))")
            }
        }
    }
}

/// RFC 8259 syntax check of one JSON text whose top level must be an object.
struct JSONValidator {
    let b: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { self.b = b }

    mutating func validateObjectLine() -> String? {
        guard b.first == UInt8(ascii: "{") else { return "does not start with {" }
        if let e = value(depth: 0) { return e }
        skipSpace()
        return i == b.count ? nil : "trailing bytes at \(i)"
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
    }

    mutating func literal(_ s: StaticString) -> String? {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count else { return "cut literal at \(i)" }
        for k in 0 ..< n where b[i + k] != s.utf8Start[k] { return "bad literal at \(i)" }
        i += n
        return nil
    }

    mutating func value(depth: Int) -> String? {
        if depth > 64 { return "nested too deeply" }
        skipSpace()
        guard i < b.count else { return "value expected at end" }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1; skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return nil }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { return "key expected at \(i)" }
                if let e = string() { return e }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return ": expected at \(i)" }
                i += 1
                if let e = value(depth: depth + 1) { return e }
                skipSpace()
                guard i < b.count else { return "unterminated object" }
                if b[i] == UInt8(ascii: "}") { i += 1; return nil }
                guard b[i] == UInt8(ascii: ",") else { return ", or } expected at \(i)" }
                i += 1
            }
        case UInt8(ascii: "["):
            i += 1; skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return nil }
            while true {
                if let e = value(depth: depth + 1) { return e }
                skipSpace()
                guard i < b.count else { return "unterminated array" }
                if b[i] == UInt8(ascii: "]") { i += 1; return nil }
                guard b[i] == UInt8(ascii: ",") else { return ", or ] expected at \(i)" }
                i += 1
            }
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    mutating func string() -> String? {
        i += 1
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return nil }
            if c < 0x20 { return "control byte \(c) in string at \(i)" }
            if c == UInt8(ascii: "\\") {
                guard i + 1 < b.count else { return "cut escape" }
                switch b[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= b.count, b[i + 2 ..< i + 6].allSatisfy(isHex) else { return "bad \\u escape at \(i)" }
                    i += 6
                default: return "bad escape at \(i)"
                }
                continue
            }
            i += 1
        }
        return "unterminated string"
    }

    func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
    }

    func isDigit(_ at: Int) -> Bool { at < b.count && b[at] >= 48 && b[at] <= 57 }

    mutating func number() -> String? {
        let start = i
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { return "bad value at \(start)" }
        if b[i] == 48 { i += 1 } else { while isDigit(i) { i += 1 } }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return "bad fraction at \(start)" }
            while isDigit(i) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { return "bad exponent at \(start)" }
            while isDigit(i) { i += 1 }
        }
        return nil
    }
}

/// Splits pcap and pcapng captures into seed inputs (header bytes + one packet each).
enum SeedMaker {
    static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n == 0 { break }
            all += chunk[0 ..< n]
        }
        return all
    }

    static func u32(_ b: [UInt8], _ at: Int, big: Bool) -> Int? {
        guard at >= 0, at + 4 <= b.count else { return nil }
        let v = UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
        return Int(big ? v : v.byteSwapped)
    }

    static func u16(_ b: [UInt8], _ at: Int, big: Bool) -> Int? {
        guard at >= 0, at + 2 <= b.count else { return nil }
        let v = UInt16(b[at]) << 8 | UInt16(b[at + 1])
        return Int(big ? v : v.byteSwapped)
    }

    /// (link type, wire length, packet bytes) of every whole record.
    static func packets(_ b: [UInt8]) -> [(Int32, Int, ArraySlice<UInt8>)] {
        var result: [(Int32, Int, ArraySlice<UInt8>)] = []
        guard let magic = u32(b, 0, big: true) else { return result }
        switch magic {
        case 0xA1B2_C3D4, 0xA1B2_3C4D, 0xD4C3_B2A1, 0x4D3C_B2A1:
            let big = magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D
            guard let lt = u32(b, 20, big: big) else { return result }
            var at = 24
            while let caplen = u32(b, at + 8, big: big), let len = u32(b, at + 12, big: big), at + 16 + caplen <= b.count {
                result.append((Int32(truncatingIfNeeded: lt & 0xFFFF), len, b[at + 16 ..< at + 16 + caplen]))
                at += 16 + caplen
            }
        case 0x0A0D_0D0A:
            var big = true
            var interfaces: [Int32] = []
            var at = 0
            while let type = u32(b, at, big: big) {
                if type == 0x0A0D_0D0A {
                    guard let bom = u32(b, at + 8, big: true) else { break }
                    big = bom == 0x1A2B_3C4D
                    interfaces = []
                }
                guard let len = u32(b, at + 4, big: big), len >= 12, at + len <= b.count else { break }
                if type == 1, let lt = u16(b, at + 8, big: big) {
                    interfaces.append(Int32(lt))
                } else if type == 6 || type == 2, let ifc = type == 6 ? u32(b, at + 8, big: big) : u16(b, at + 8, big: big),
                          let caplen = u32(b, at + 20, big: big), let wire = u32(b, at + 24, big: big),
                          ifc < interfaces.count, at + 28 + caplen <= at + len {
                    result.append((interfaces[ifc], wire, b[at + 28 ..< at + 28 + caplen]))
                } else if type == 3, len >= 16, let wire = u32(b, at + 8, big: big), let lt = interfaces.first {
                    let caplen = max(0, min(wire, len - 16))
                    result.append((lt, wire, b[at + 12 ..< at + 12 + caplen]))
                }
                at += len
            }
        default:
            break
        }
        return result
    }

    static func complain(_ s: String) {
        var line = "fuzz-decode: \(s)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func make(outDir: String, captures: [String]) -> Int32 {
        var written = 0
        for path in captures {
            guard let b = readFile(path) else {
                complain("cannot read \(path)")
                return 1
            }
            let stem = path.split(separator: "/").last.map(String.init) ?? path
            for (n, (lt, wire, bytes)) in packets(b).enumerated() {
                let selector = DecodeFuzz.linkTypes.firstIndex(of: lt) ?? DecodeFuzz.linkTypes.firstIndex(of: 147) ?? 0
                let extra = wire - bytes.count
                let wireByte: UInt8 = extra <= 0 ? 0 : UInt8(min(253, (extra + 63) / 64))
                let input = [UInt8(selector), 0, 0, wireByte] + bytes
                let name = "\(outDir)/\(stem)-\(n + 1)"
                guard let f = fopen(name, "wb") else {
                    complain("cannot write \(name)")
                    return 1
                }
                _ = input.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
                fclose(f)
                written += 1
            }
        }
        print("fuzz-decode: wrote \(written) seed inputs to \(outDir)")
        return 0
    }
}

let arguments = CommandLine.arguments
if arguments.count >= 3, arguments[1] == "--make-seeds" {
    exit(SeedMaker.make(outDir: arguments[2], captures: Array(arguments.dropFirst(3))))
}
exit(netinspect_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv, "fuzz-decode") { data, size in
    DecodeFuzz.run(data, size)
})
