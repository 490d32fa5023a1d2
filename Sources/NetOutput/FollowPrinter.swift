import NetAnalysis

/// `netinspect follow`: one connection's reassembled stream, both directions in capture order, as
/// text (printable bytes as they are, others as `.`) or hex, with message boundaries
/// (`── msg #4 (23 B) ──`) and gaps marked.
public struct FollowPrinter {
    public var hex: Bool
    /// Which direction was printed last (nil: nothing yet), and whether the output is at a line start.
    var lastDirection: Bool?
    var atLineStart = true
    public private(set) var bytes = (c2s: 0, s2c: 0)
    public private(set) var messages = (c2s: 0, s2c: 0)
    public private(set) var gaps = 0

    public init(hex: Bool) {
        self.hex = hex
    }

    /// `--explain`: a sentence under the header on what the stream is.
    public var explainer: Explainer?

    public mutating func header(flow: Int, client: String, server: String, framing: String, into o: inout OutputBuffer) {
        o.ascii("follow flow "); o.decimal(flow); o.ascii(": client "); o.string(client)
        o.ascii(", server "); o.string(server); o.ascii(", framing "); o.string(framing); o.byte(10)
        if let e = explainer {
            let unframed = framing.isEmpty || framing == "none" || framing == "raw"
            o.string(Explainer.indent)
            o.string(e.catalog.text(unframed ? .exFollowUnframed : .exFollow, ["framing": framing]))
            o.byte(10)
        }
    }

    public mutating func event(_ e: StreamEvent, into o: inout OutputBuffer) {
        switch e {
        case .gap(let frame, let c2s, let offset, let count):
            direction(c2s, frame: frame, &o)
            newline(&o)
            o.ascii("── gap: "); o.decimal(count); o.ascii(" bytes not captured (stream offset "); o.decimal(offset)
            o.ascii(") ──\n")
            gaps += 1
            if c2s { bytes.c2s += count } else { bytes.s2c += count }
        case .data(let frame, let c2s, let offset, let data, let spans):
            direction(c2s, frame: frame, &o)
            if c2s { bytes.c2s += data.count } else { bytes.s2c += data.count }
            var pos = 0
            for s in spans {
                let n = min(s.to - s.from, data.count - pos)
                guard n >= 0 else { break }
                if s.from == 0 {
                    newline(&o)
                    o.ascii("── msg #"); o.decimal(s.message)
                    if let l = s.length { o.ascii(" ("); o.decimal(l); o.ascii(" B)") }
                    if let h = s.jsonHeader { o.ascii(" header "); o.string(h) }
                    o.ascii(" ──\n")
                    atLineStart = true
                }
                if s.completes { if c2s { messages.c2s += 1 } else { messages.s2c += 1 } }
                body(UnsafeRawBufferPointer(rebasing: data[pos ..< pos + n]), streamOffset: offset + pos, &o)
                pos += n
            }
            if pos < data.count {
                body(UnsafeRawBufferPointer(rebasing: data[pos...]), streamOffset: offset + pos, &o)
            }
        }
    }

    public mutating func finish(into o: inout OutputBuffer) {
        newline(&o)
        o.ascii("── end: client → server "); o.decimal(bytes.c2s); o.ascii(" B")
        if messages.c2s > 0 { o.ascii(" ("); o.decimal(messages.c2s); o.ascii(" messages)") }
        o.ascii(", server → client "); o.decimal(bytes.s2c); o.ascii(" B")
        if messages.s2c > 0 { o.ascii(" ("); o.decimal(messages.s2c); o.ascii(" messages)") }
        if gaps > 0 { o.ascii(", "); o.decimal(gaps); o.ascii(gaps == 1 ? " gap" : " gaps") }
        o.ascii(" ──\n")
    }

    mutating func direction(_ c2s: Bool, frame: Int, _ o: inout OutputBuffer) {
        guard lastDirection != c2s else { return }
        newline(&o)
        o.ascii(c2s ? ">>> client → server (frame " : "<<< server → client (frame ")
        o.decimal(frame); o.ascii(")\n")
        atLineStart = true
        lastDirection = c2s
    }

    mutating func newline(_ o: inout OutputBuffer) {
        if !atLineStart { o.byte(10); atLineStart = true }
    }

    mutating func body(_ b: UnsafeRawBufferPointer, streamOffset: Int, _ o: inout OutputBuffer) {
        guard !b.isEmpty else { return }
        if hex {
            // tcpdump -X layout, offsets counted in the direction's stream.
            newline(&o)
            HexDump.lines(b, ascii: true, indent: "  ", startOffset: streamOffset, into: &o)
            atLineStart = true
            return
        }
        for c in b {
            if c == 10 { o.byte(10); atLineStart = true; continue }
            o.byte(c >= 0x20 && c < 0x7F || c == 9 || c == 13 ? (c == 13 ? 46 : c) : 46)
            atLineStart = false
        }
    }
}
