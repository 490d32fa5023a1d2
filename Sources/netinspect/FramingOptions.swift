import ArgumentParser
import NetAnalysis

/// Message framing over reassembled TCP streams (sticky 粘包 / split 半包 annotations).
struct FramingOptions: ParsableArguments {
    @Option(name: .customLong("framing"), help: ArgumentHelp(
        "How messages are delimited in TCP payload: SPEC for all, PORT=SPEC for a server port (repeatable). SPEC: lp:N[:be|le][+K|-K] (N = 1, 2, 4, 8), line, delim:BYTES (e.g. delim:\\r\\n, delim:0x00), lpjson[:be] (4-byte header length + JSON header with total_size + body), dns-tcp, raw, auto. Defaults: 53=dns-tcp and the demos' ports.",
        valueName: "spec"))
    var framing: [String] = []

    @Flag(name: .customLong("no-default-framing"), help: "Do not frame the demos' ports and DNS over TCP unless --framing says so.")
    var noDefaultFraming = false

    @Option(name: .customLong("recv-size"), help: ArgumentHelp("Also show how a receiver's recv(N) loop, reading after the data piled up, would have cut each stream.", valueName: "N"))
    var recvSize: Int?

    func validate() throws {
        var p = FramingPolicy()
        for f in framing {
            if let problem = p.add(f) { throw ValidationError("--framing \(problem)") }
        }
        if let n = recvSize, n <= 0 || n > 1 << 24 { throw ValidationError("--recv-size must be between 1 and 16777216") }
    }

    var policy: FramingPolicy {
        var p = FramingPolicy()
        for f in framing { _ = p.add(f) }
        p.useDefaults = !noDefaultFraming
        return p
    }

    func makeAnalyzer() -> StreamAnalyzer {
        let s = StreamAnalyzer(policy: policy)
        s.recvSize = recvSize
        return s
    }
}
