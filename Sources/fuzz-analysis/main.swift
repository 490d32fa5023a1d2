// libFuzzer target over the TCP analysis (scripts/fuzz builds and runs it).
//
// One input is one conversation: a sequence of TCP segments between 10.0.0.1 and 10.0.0.2. Each
// segment is encoded as
//
//   2 bytes  big-endian: bit 15 = direction (0 client→server, 1 server→client), bits 0-14 = length L
//   1 byte   time step in milliseconds to add before this segment; with bit 7 set, instead: the
//            segment's bytes are one IPv4 fragment (bit 6: more fragments, bits 0-5: offset in
//            8-byte units) of a datagram with a fixed identification, so IP reassembly is reached
//   L bytes  the TCP header and payload (anything: the decoder judges it)
//
// Each segment is wrapped in an IPv4 header and decoded, then fed through the duplicate-frame
// detector, the flow tracker (handshake/teardown/anomaly notes, states, relative numbers) and the
// stream reassembly + message framing (the framing chosen by the input's length, small caps so
// they are reached; split-message notes resolved as held lines are), and
// printed as a text line and a JSON line; at the end every flow row is printed as text and JSON.
// Besides traps and memory errors, these are crashes: an output that is not one line of UTF-8 /
// one valid JSON object per line, a flow id that is not positive, more flows than segments.
//
// `fuzz-analysis --make-seeds DIR CAPTURE...` turns the TCP packets of classic-pcap Ethernet or
// raw-IPv4 captures into one input per capture.

import CFuzzerDriver
import NetAnalysis
import NetOutput
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum AnalysisFuzz {
    nonisolated(unsafe) static var out = OutputBuffer(fd: -1, capacity: 1 << 16)

    static func run(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        guard let data else { return 0 }
        let input = UnsafeBufferPointer(start: data, count: size)
        var packet = Packet()
        let decoder = PacketDecoder()
        var rows: [FlowSummary] = []
        let streams = StreamAnalyzer()
        let specs: [FramingSpec] = [.lengthPrefix(width: 4, bigEndian: true, adjust: 0), .lengthPrefix(width: 2, bigEndian: false, adjust: -2),
                                    .lengthPrefix(width: 1, bigEndian: true, adjust: 3), .lengthPrefix(width: 8, bigEndian: false, adjust: 0),
                                    .line, .delimiter([13, 10]), .lpjson(bigEndian: false), .lpjson(bigEndian: true), .dnsTCP, .auto, .raw]
        streams.policy.global = specs[size % specs.count]
        streams.recvSize = size % 3 == 0 ? 7 : nil
        streams.maxHeldSegments = 8
        streams.maxHeldBytes = 4096
        streams.recordResolutions = true
        streams.followFlow = 1
        streams.follow = { e in
            var printer = FollowPrinter(hex: size % 2 == 0)
            printer.event(e, into: &out)
            out.flush()
        }
        var analyzer = PacketAnalyzer(flows: FlowTracker(maxFlows: 16, finished: { rows.append($0) }), streams: streams)
        var text = TextFormatter(options: TextOptions())
        let json = JSONFormatter(nanosecondPrecision: true)
        var notes: [Note] = []
        var frame = [UInt8](repeating: 0, count: 20 + 32768)
        var at = 0
        var nanoseconds = 1_700_000_000 * 1_000_000_000
        var segments = 0
        while at + 3 <= input.count {
            let head = Int(input[at]) << 8 | Int(input[at + 1])
            let fromServer = head & 0x8000 != 0
            let length = min(head & 0x7FFF, input.count - at - 3)
            let step = input[at + 2]
            let fragmented = step & 0x80 != 0
            if !fragmented { nanoseconds += Int(step) * 1_000_000 }
            let body = input[(at + 3) ..< (at + 3 + length)]
            at += 3 + length
            segments += 1
            // IPv4 header: version/IHL, total length, TTL, protocol TCP, addresses by direction.
            let total = 20 + length
            frame[0] = 0x45; frame[1] = 0
            frame[2] = UInt8(truncatingIfNeeded: total >> 8); frame[3] = UInt8(truncatingIfNeeded: total)
            frame[4] = UInt8(truncatingIfNeeded: segments >> 8); frame[5] = UInt8(truncatingIfNeeded: segments)
            frame[6] = 0x40; frame[7] = 0; frame[8] = 64; frame[9] = 6; frame[10] = 0; frame[11] = 0
            if fragmented {
                frame[4] = 0x77; frame[5] = 0x77
                frame[6] = step & 0x40 != 0 ? 0x20 : 0; frame[7] = step & 0x3F
            }
            let (a, b): (UInt8, UInt8) = fromServer ? (2, 1) : (1, 2)
            frame[12] = 10; frame[13] = 0; frame[14] = 0; frame[15] = a
            frame[16] = 10; frame[17] = 0; frame[18] = 0; frame[19] = b
            var k = 20
            for byte in body { frame[k] = byte; k += 1 }
            frame.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[0 ..< total])
                decoder.decode(bytes, wireLength: total, linkType: .raw, into: &packet)
                let secs = nanoseconds / 1_000_000_000, ns = nanoseconds % 1_000_000_000
                let flow = analyzer.analyze(&packet, frame: segments, seconds: secs, nanoseconds: ns, bytes: bytes,
                                            wireLength: total, notes: &notes)
                if let f = flow, f.flowID <= 0 { fatalError("flow id \(f.flowID)") }
                for i in notes.indices where notes[i].framed != nil {
                    guard let f = notes[i].framed else { continue }
                    for sp in f.spans where sp.from < 0 || sp.to < sp.from || sp.part < 1 {
                        fatalError("bad span \(sp)")
                    }
                    MessageNotes.resolve(&notes[i], streams.resolution)
                }
                text.format(seconds: secs, nanoseconds: ns, packet: packet, notes: notes, flow: flow, linkName: "RAW", into: &out)
                checkLines(out.bytes, json: false)
                out.flush()
                json.format(frame: segments, seconds: secs, nanoseconds: ns, packet: packet, notes: notes, flow: flow,
                            link: "raw", into: &out)
                checkLines(out.bytes, json: true)
                out.flush()
            }
        }
        analyzer.flows.finishAll()
        if rows.count > max(segments, 0) { fatalError("\(rows.count) flows from \(segments) segments") }
        for r in rows {
            FlowFormatter.text(r, into: &out)
            checkLines(out.bytes, json: false)
            out.flush()
            FlowFormatter.json(r, into: &out)
            checkLines(out.bytes, json: true)
            out.flush()
        }
        return 0
    }

    static func checkLines(_ line: [UInt8], json: Bool) {
        guard line.last == 10, line.firstIndex(of: 10) == line.count - 1 else {
            fatalError("output is not exactly one line: \(String(decoding: line, as: UTF8.self).debugDescription)")
        }
        let body = Array(line.dropLast())
        guard String(validating: body, as: UTF8.self) != nil else { fatalError("output is not UTF-8") }
        if json {
            // A cheap structural check: balanced braces/brackets outside strings, starts with {.
            var depth = 0, inString = false, escaped = false
            for c in body {
                if inString {
                    if escaped { escaped = false } else if c == 92 { escaped = true } else if c == 34 { inString = false }
                    continue
                }
                switch c {
                case 34: inString = true
                case 123, 91: depth += 1
                case 125, 93: depth -= 1; if depth < 0 { fatalError("unbalanced JSON: \(String(decoding: body, as: UTF8.self))") }
                default: break
                }
            }
            if depth != 0 || inString || body.first != 123 { fatalError("malformed JSON: \(String(decoding: body, as: UTF8.self))") }
        }
    }
}

/// Seeds: the TCP segments of each capture as one conversation input (classic pcap; Ethernet
/// IPv4 or raw IPv4). Direction: the first segment's sender is the client.
enum SeedMaker {
    static func make(outDir: String, captures: [String]) -> Int32 {
        var written = 0
        for path in captures {
            guard let f = fopen(path, "rb") else { continue }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
                if n <= 0 { break }
                bytes += chunk[0 ..< n]
            }
            fclose(f)
            guard bytes.count >= 24 else { continue }
            let magic = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            guard magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D else { continue }
            let link = Int(bytes[20]) | Int(bytes[21]) << 8
            var at = 24
            var out: [UInt8] = []
            var client: [UInt8]?
            while at + 16 <= bytes.count {
                let caplen = Int(bytes[at + 8]) | Int(bytes[at + 9]) << 8 | Int(bytes[at + 10]) << 16 | Int(bytes[at + 11]) << 24
                let start = at + 16
                at = start + caplen
                guard at <= bytes.count else { break }
                var ip = start
                if link == 1 {
                    guard caplen >= 34, bytes[start + 12] == 0x08, bytes[start + 13] == 0 else { continue }
                    ip = start + 14
                } else if link != 101 && link != 12 { break }
                guard ip + 20 <= at, bytes[ip] >> 4 == 4, bytes[ip + 9] == 6 else { continue }
                let ihl = Int(bytes[ip] & 15) * 4
                guard ihl >= 20, ip + ihl <= at else { continue }
                let segment = Array(bytes[(ip + ihl) ..< at])
                let src = Array(bytes[(ip + 12) ..< (ip + 16)])
                if client == nil { client = src }
                let dir = src == client ? 0 : 0x8000
                let head = dir | min(segment.count, 0x7FFF)
                out += [UInt8(head >> 8), UInt8(head & 0xFF), 1] + segment.prefix(0x7FFF)
            }
            if out.isEmpty { continue }
            let stem = path.split(separator: "/").last.map(String.init) ?? path
            guard let o = fopen("\(outDir)/\(stem)", "wb") else { return 1 }
            _ = out.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, o) }
            fclose(o)
            written += 1
        }
        print("fuzz-analysis: wrote \(written) seed inputs to \(outDir)")
        return 0
    }
}

let arguments = CommandLine.arguments
if arguments.count >= 3, arguments[1] == "--make-seeds" {
    exit(SeedMaker.make(outDir: arguments[2], captures: Array(arguments.dropFirst(3))))
}
exit(netinspect_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv, "fuzz-analysis") { data, size in
    AnalysisFuzz.run(data, size)
})
