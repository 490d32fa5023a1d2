import ArgumentParser
import NetCapture
import NetOutput
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct NetInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netinspect",
        abstract: "Read packet captures and show what the sockets did.",
        discussion: """
        Examples:
          netinspect -r captures/tcp-handshake.pcap
          netinspect -n -r capture.pcap tcp port 80
          netinspect -r capture.pcapng --json | jq .tcp
        """
    )

    @OptionGroup(title: "Input")
    var input: InputOptions

    @OptionGroup(title: "Output")
    var output: OutputOptions

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as for tcpdump (e.g. 'tcp port 80').", valueName: "filter"))
    var filter: [String] = []

    mutating func run() throws {
        let reader: PcapFileReader
        do {
            reader = try PcapFileReader(path: input.readFile)
        } catch {
            Diagnostics.line("netinspect: \(error.message)")
            throw ExitCode(1)
        }
        if !filter.isEmpty {
            do {
                try reader.setFilter(filter.joined(separator: " "))
            } catch {
                Diagnostics.line("netinspect: \(error.message)")
                throw ExitCode(2)
            }
        }
        if !output.json {
            Diagnostics.line("reading from file \(input.readFile), link-type \(reader.linkTypeName)\(reader.linkTypeDescription.map { " (\($0))" } ?? ""), snapshot length \(reader.snapshotLength)")
        }
        let end = FileRun(reader: reader, output: output, count: input.count).run()
        if case .error(let message) = end {
            Diagnostics.line("netinspect: \(input.readFile): \(message)")
            throw ExitCode(1)
        }
    }
}

struct InputOptions: ParsableArguments {
    @Option(name: .customShort("r"), help: ArgumentHelp("Read packets from a pcap or pcapng file ('-' for standard input).", valueName: "file"))
    var readFile: String

    @Option(name: .customShort("c"), help: "Exit after this many packets (after filtering).")
    var count: Int?

    func validate() throws {
        if let count, count <= 0 { throw ValidationError("-c needs a positive count") }
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .customShort("n"), help: "Print port numbers, not service names.")
    var numeric = false

    @Flag(name: .customShort("t"), help: "Timestamps: -t none, -tt epoch seconds, -ttt delta to previous, -tttt date and time, -ttttt since first.")
    var timestampLevel: Int

    @Flag(name: .customShort("e"), help: "Print the link-level header on each line.")
    var linkHeader = false

    @Flag(name: .customShort("q"), help: "Quiet: less protocol detail per line.")
    var quiet = false

    @Flag(name: .long, help: "Print timestamps with nanoseconds.")
    var nano = false

    @Flag(name: .long, help: "Write one JSON object per packet (JSON Lines, see docs/json.md).")
    var json = false

    var textOptions: TextOptions {
        var o = TextOptions()
        o.numeric = numeric
        o.linkHeader = linkHeader
        o.quiet = quiet
        o.nanoseconds = nano
        switch timestampLevel {
        case 0: o.timestamps = .timeOfDay
        case 1: o.timestamps = .none
        case 2: o.timestamps = .epoch
        case 3: o.timestamps = .delta
        case 4: o.timestamps = .dateTime
        default: o.timestamps = .sinceFirst
        }
        return o
    }
}

enum Diagnostics {
    static func line(_ s: String) {
        var s = s + "\n"
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// The per-packet loop for `-r`: decode, format into a buffer, write in large blocks.
struct FileRun {
    let reader: PcapFileReader
    let output: OutputOptions
    let count: Int?

    func run() -> ReadEnd {
        let linkType = LinkType(rawValue: reader.linkType)
        let linkName = JSONFormatter.linkName(linkType, pcapName: reader.linkTypeName)
        // Checksums are only shown in JSON; the text line does not pay for them.
        let decoder = PacketDecoder(verifyChecksums: output.json, decodeDNS: true)
        var packet = Packet()
        var out = OutputBuffer(fd: 1)
        var text = TextFormatter(options: output.textOptions)
        let json = JSONFormatter(nanosecondPrecision: reader.precision == .nano)
        let limit = count ?? Int.max
        let jsonMode = output.json
        var printed = 0
        // The loop keeps `packet` local (no closure captures it), so formatting borrows it uncopied.
        while printed < limit {
            switch reader.next() {
            case .packet(let frame, let record):
                decoder.decode(record.bytes, wireLength: record.wireLength, linkType: linkType, into: &packet)
                if jsonMode {
                    json.format(frame: frame, seconds: record.seconds, nanoseconds: record.nanoseconds,
                                packet: packet, link: linkName, into: &out)
                } else {
                    text.format(seconds: record.seconds, nanoseconds: record.nanoseconds, packet: packet,
                                linkName: reader.linkTypeName, into: &out)
                }
                out.flushIfNeeded()
                printed &+= 1
                if out.failed { out.flush(); return .stopped }
            case .end(let end):
                out.flush()
                return end
            }
        }
        out.flush()
        return .stopped
    }
}
