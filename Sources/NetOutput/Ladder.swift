import NetAnalysis
import NetWire

/// One TCP segment of a ladder (sequence) diagram.
public struct LadderEvent: Sendable {
    /// Time since the connection's first segment, in nanoseconds.
    public var nanoseconds: Int
    /// True for client → server (drawn left to right).
    public var fromClient: Bool
    /// tcpdump-style flags: `S`, `S.`, `.`, `P.`, `F.`, `R.` …
    public var flags: String
    /// Relative sequence number (shown when the segment carries data, SYN, FIN or RST).
    public var seq: UInt32?
    /// Relative acknowledgement number (nil without the ACK flag).
    public var ack: UInt32?
    public var length: Int
    /// The annotation (`handshake 2/3 …`), nil when there is none.
    public var note: String?
    /// Endpoint states after this segment, when the analysis says (handshake, teardown, reset).
    public var states: (client: TCPState, server: TCPState)?
    /// `--explain`: a sentence per note, drawn under the arrow.
    public var explanations: [String] = []

    public init(nanoseconds: Int, fromClient: Bool, flags: String, seq: UInt32?, ack: UInt32?, length: Int,
                note: String? = nil, states: (client: TCPState, server: TCPState)? = nil) {
        self.nanoseconds = nanoseconds
        self.fromClient = fromClient
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.length = length
        self.note = note
        self.states = states
    }

    /// The flags as the text output prints them between `[` and `]`.
    public static func flagString(_ f: TCPFlags) -> String {
        var s = ""
        if f.contains(.fin) { s += "F" }
        if f.contains(.syn) { s += "S" }
        if f.contains(.rst) { s += "R" }
        if f.contains(.psh) { s += "P" }
        if f.contains(.ack) { s += "." }
        if f.contains(.urg) { s += "U" }
        if f.contains(.ece) { s += "E" }
        if f.contains(.cwr) { s += "W" }
        if f.contains(.ns) { s += "e" }
        return s.isEmpty ? "none" : s
    }

    /// `[P.] seq 1:14 ack 1 len 13`
    public var label: String {
        var s = "[" + flags + "]"
        if let seq {
            s += " seq \(seq)"
            if length > 0 { s += ":\(seq &+ UInt32(truncatingIfNeeded: length))" }
        }
        if let ack { s += " ack \(ack)" }
        s += " len \(length)"
        return s
    }
}

/// A TCP connection drawn as a sequence diagram: the client's line on the left, the server's on
/// the right, one arrow per segment, endpoint states beside the lines where they change. Pure: it
/// only builds text (for a terminal) or SVG (for a browser).
public struct LadderDiagram: Sendable {
    /// First line of the text form (and the SVG's heading); empty for none.
    public var title: String
    public var client: String
    public var server: String
    /// States before the first segment (CLOSED / LISTEN when the handshake was captured).
    public var initialStates: (client: TCPState, server: TCPState)?
    public var events: [LadderEvent]

    /// Narrowest text diagram drawn; a narrower `width` is widened to this.
    public static let minimumWidth = 60

    public init(title: String, client: String, server: String,
                initialStates: (client: TCPState, server: TCPState)?, events: [LadderEvent]) {
        self.title = title
        self.client = client
        self.server = server
        self.initialStates = initialStates
        self.events = events
    }

    // MARK: shared layout facts

    /// `0.050168`: seconds with microseconds.
    public static func time(_ ns: Int) -> String {
        let ns = max(ns, 0)
        let frac = String(ns % 1_000_000_000 / 1000)
        return "\(ns / 1_000_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    /// The states to write beside the lines for each event: only the side(s) that changed.
    func stateChanges() -> [(client: TCPState?, server: TCPState?)] {
        var current = initialStates
        var out: [(client: TCPState?, server: TCPState?)] = []
        out.reserveCapacity(events.count)
        for e in events {
            guard let s = e.states else { out.append((nil, nil)); continue }
            let c: TCPState? = current?.client == s.client ? nil : s.client
            let v: TCPState? = current?.server == s.server ? nil : s.server
            out.append((c, v))
            current = s
        }
        return out
    }

    var stateWidth: Int {
        var w = 0
        if let i = initialStates { w = max(w, i.client.rawValue.count, i.server.rawValue.count) }
        for e in events { if let s = e.states { w = max(w, s.client.rawValue.count, s.server.rawValue.count) } }
        return w
    }

    // MARK: text

    /// A row of fixed width that strings are placed into (clipped at both edges).
    struct Row {
        var cells: [Character]
        init(_ width: Int) { cells = Array(repeating: " ", count: width) }
        mutating func put(_ s: String, at col: Int) {
            var c = col
            for ch in s {
                if c >= cells.count { break }
                let w = LadderDiagram.cols(ch)
                if c >= 0 {
                    cells[c] = ch
                    // A wide character (CJK) takes two columns: the second holds a filler.
                    if w == 2 && c + 1 < cells.count { cells[c + 1] = Self.filler }
                }
                c += w
            }
        }
        static let filler: Character = "\u{0}"
        var text: String {
            var end = cells.count
            while end > 0 && cells[end - 1] == " " { end -= 1 }
            return String(cells[0 ..< end].filter { $0 != Self.filler }) + "\n"
        }
    }

    /// Columns a character takes on a terminal: 2 for the wide East Asian ranges, else 1.
    static func cols(_ ch: Character) -> Int {
        guard let v = ch.unicodeScalars.first?.value, v >= 0x1100 else { return 1 }
        switch v {
        case 0x1100 ... 0x115F, 0x2E80 ... 0x303E, 0x3041 ... 0x33FF, 0x3400 ... 0x4DBF, 0x4E00 ... 0x9FFF,
             0xA000 ... 0xA4CF, 0xAC00 ... 0xD7A3, 0xF900 ... 0xFAFF, 0xFE30 ... 0xFE4F, 0xFF00 ... 0xFF60,
             0xFFE0 ... 0xFFE6, 0x20000 ... 0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// Columns `s` takes on a terminal.
    static func cols(_ s: String) -> Int {
        var n = 0
        for ch in s { n += cols(ch) }
        return n
    }

    /// The longest prefix of `s` that fits in `width` columns (at least one character).
    static func prefix(_ s: String, columns width: Int) -> (String, String) {
        var n = 0
        var i = s.startIndex
        while i < s.endIndex {
            let w = cols(s[i])
            if n + w > width && i != s.startIndex { break }
            n += w
            i = s.index(after: i)
        }
        return (String(s[..<i]), String(s[i...]))
    }

    /// Splits `s` into lines of at most `width` columns, at spaces where possible; text with
    /// Chinese also between any two Chinese characters (ASCII words stay whole).
    static func wrap(_ s: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        if s.contains(where: { cols($0) == 2 }) { return wrapMixed(s, width: width) }
        var lines: [String] = []
        var line = ""
        for word in s.split(separator: " ", omittingEmptySubsequences: false) {
            let w = String(word)
            if line.isEmpty {
                line = w
            } else if cols(line) + 1 + cols(w) <= width {
                line += " " + w
            } else {
                lines.append(line)
                line = w
            }
            while cols(line) > width {
                let (head, rest) = prefix(line, columns: width)
                lines.append(head)
                line = rest
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    static func wrapMixed(_ s: String, width: Int) -> [String] {
        // Units: a wide character alone, or a run of other non-space characters; `space`: one or
        // more spaces came before it.
        var units: [(text: String, space: Bool)] = []
        var word = ""
        var space = false
        func endWord() { if !word.isEmpty { units.append((word, space)); word = ""; space = false } }
        for ch in s {
            if ch == " " { endWord(); space = true; continue }
            if cols(ch) == 2 { endWord(); units.append((String(ch), space)); space = false; continue }
            word.append(ch)
        }
        endWord()
        var lines: [String] = []
        var line = ""
        for u in units {
            let add = (line.isEmpty || !u.space ? "" : " ") + u.text
            if cols(line) + cols(add) <= width {
                line += add
                continue
            }
            if !line.isEmpty { lines.append(line) }
            line = u.text
            while cols(line) > width {
                let (head, rest) = prefix(line, columns: width)
                lines.append(head)
                line = rest
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    static func fit(_ s: String, _ width: Int) -> String {
        s.count <= width ? s : String(s.prefix(max(width - 3, 0))) + "..."
    }

    /// The diagram as text lines of at most `width` columns (at least `minimumWidth`).
    public func text(width requested: Int) -> String {
        let width = max(requested, Self.minimumWidth)
        let times = events.map { Self.time($0.nanoseconds) }
        let timeW = max(times.map(\.count).max() ?? 0, 4)
        let stateW = stateWidth
        let left = timeW + 1 + stateW + 1                    // column of the client's line
        let right = width - 1 - (stateW > 0 ? stateW + 1 : 0)  // column of the server's line
        let gap = right - left - 1
        let room = gap - 6                                   // label room on an arrow: "-- " … " ->"
        var out = ""
        if !title.isEmpty { out += Self.fit(title, width) + "\n\n" }

        // Header: the role above each line, the endpoint below it (centred, kept inside the width).
        var roles = Row(width)
        roles.put("time", at: 0)
        roles.put("client", at: max(left - 3, 5))
        roles.put("server", at: min(right - 3, width - 6))
        out += roles.text
        let c = Self.fit(client, width), s = Self.fit(server, width)
        let cStart = max(0, min(left - c.count / 2, width - c.count))
        let sStart = max(0, min(right - s.count / 2, width - s.count))
        if cStart + c.count + 1 < sStart {
            var r = Row(width); r.put(c, at: cStart); r.put(s, at: sStart); out += r.text
        } else {
            var r1 = Row(width); r1.put(c, at: cStart); out += r1.text
            var r2 = Row(width); r2.put(s, at: sStart); out += r2.text
        }
        func bars(_ cs: TCPState?, _ ss: TCPState?) -> Row {
            var r = Row(width)
            r.put("|", at: left); r.put("|", at: right)
            if let cs { r.put(cs.rawValue, at: left - 1 - cs.rawValue.count) }
            if let ss { r.put(ss.rawValue, at: right + 2) }
            return r
        }
        out += bars(initialStates?.client, initialStates?.server).text

        let changes = stateChanges()
        for (i, e) in events.enumerated() {
            let base = e.label
            // The label and annotation on the arrow when they fit; else the rest on lines below.
            var lines: [String]
            if let note = e.note {
                let full = base + " [" + note + "]"
                if Self.cols(full) <= room {
                    lines = [full]
                } else {
                    lines = Self.wrap(base, width: room) + Self.wrap("[" + note + "]", width: room)
                }
            } else {
                lines = Self.wrap(base, width: room)
            }
            let onArrow = lines.first ?? ""
            let below = lines.dropFirst()
            var r = bars(changes[i].client, changes[i].server)
            r.put(times[i], at: timeW - times[i].count)
            let dashes = String(repeating: "-", count: max(gap - Self.cols(onArrow) - 5, 1))
            if e.fromClient {
                r.put("-- " + onArrow + " " + dashes + ">", at: left + 1)
            } else {
                r.put("<" + dashes + " " + onArrow + " --", at: left + 1)
            }
            out += r.text
            for line in below {
                var b = bars(nil, nil)
                b.put(line, at: e.fromClient ? left + 4 : right - 3 - Self.cols(line))
                out += b.text
            }
            // --explain: each sentence under the arrow, wrapped between the two lines.
            for sentence in e.explanations {
                for (k, line) in Self.wrap(sentence, width: max(room - 2, 10)).enumerated() {
                    var b = bars(nil, nil)
                    b.put((k == 0 ? "↳ " : "  ") + line, at: left + 3)
                    out += b.text
                }
            }
        }
        out += bars(nil, nil).text
        return out
    }

    public func text(width: Int, into out: inout OutputBuffer) {
        out.string(text(width: width))
    }

    // MARK: SVG

    static func xml(_ s: String) -> String {
        var r = ""
        r.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": r += "&amp;"
            case "<": r += "&lt;"
            case ">": r += "&gt;"
            case "\"": r += "&quot;"
            case "'": r += "&apos;"
            default:
                // Control characters are not allowed in XML 1.0.
                if ch.value < 0x20 && ch != "\n" && ch != "\t" { r += "?" } else { r.unicodeScalars.append(ch) }
            }
        }
        return r
    }

    static func num(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// The same diagram as a standalone SVG document: two vertical lines, slanted arrows with
    /// arrowheads, labels above them, annotations below, states in boxes beside the lines.
    public func svg() -> String {
        let charW = 7.2                     // monospace 12 px
        let times = events.map { Self.time($0.nanoseconds) }
        let timeW = Double(max(times.map(\.count).max() ?? 0, 4)) * charW
        let stateBoxW = Double(max(stateWidth, 4)) * charW + 12
        var longest = max(client.count, server.count)
        for e in events { longest = max(longest, e.label.count, (e.note?.count ?? 0) + 2) }
        let margin = 12.0
        let leftX = margin + timeW + 12 + stateBoxW + 10
        let gapW = max(360, Double(longest) * charW + 48)
        let rightX = leftX + gapW
        let totalW = max(rightX + 10 + stateBoxW + margin, Double(title.count) * charW * 1.1 + 2 * margin)
        let slant = 18.0
        var y = title.isEmpty ? 20.0 : 44.0
        var body = ""
        func line(_ s: String) { body += s + "\n" }
        func stateBox(_ st: TCPState, left side: Bool, y: Double) {
            let x = side ? leftX - 10 - stateBoxW : rightX + 10
            line("<rect class=\"state\" x=\"\(Self.num(x))\" y=\"\(Self.num(y - 11))\" width=\"\(Self.num(stateBoxW))\" height=\"18\" rx=\"3\" fill=\"#ffffff\" stroke=\"#444444\"/>")
            line("<text class=\"state-label\" x=\"\(Self.num(x + stateBoxW / 2))\" y=\"\(Self.num(y + 2))\" text-anchor=\"middle\">\(st.rawValue)</text>")
        }

        if !title.isEmpty {
            line("<text class=\"title\" x=\"\(Self.num(margin))\" y=\"20\" font-weight=\"bold\">\(Self.xml(title))</text>")
        }
        line("<text class=\"role\" x=\"\(Self.num(leftX))\" y=\"\(Self.num(y))\" text-anchor=\"middle\" font-weight=\"bold\">client</text>")
        line("<text class=\"role\" x=\"\(Self.num(rightX))\" y=\"\(Self.num(y))\" text-anchor=\"middle\" font-weight=\"bold\">server</text>")
        y += 16
        line("<text class=\"endpoint\" x=\"\(Self.num(leftX))\" y=\"\(Self.num(y))\" text-anchor=\"middle\">\(Self.xml(client))</text>")
        line("<text class=\"endpoint\" x=\"\(Self.num(rightX))\" y=\"\(Self.num(y))\" text-anchor=\"middle\">\(Self.xml(server))</text>")
        let top = y + 10
        y = top + 20
        if let i = initialStates {
            stateBox(i.client, left: true, y: y)
            stateBox(i.server, left: false, y: y)
            y += 26
        }
        let changes = stateChanges()
        var arrows = ""
        for (i, e) in events.enumerated() {
            let y1 = y + 14                 // room for the label above the arrow
            let y2 = y1 + slant
            let (x1, x2) = e.fromClient ? (leftX, rightX) : (rightX, leftX)
            arrows += "<text class=\"time\" x=\"\(Self.num(margin))\" y=\"\(Self.num(y1 + 4))\">\(times[i])</text>\n"
            arrows += "<line class=\"segment\" x1=\"\(Self.num(x1))\" y1=\"\(Self.num(y1))\" x2=\"\(Self.num(x2))\" y2=\"\(Self.num(y2))\" stroke=\"#000000\" stroke-width=\"1.5\" marker-end=\"url(#head)\"><title>\(Self.xml(e.label + (e.note.map { " [" + $0 + "]" } ?? "")))</title></line>\n"
            arrows += "<text class=\"label\" x=\"\(Self.num((leftX + rightX) / 2))\" y=\"\(Self.num(y1 - 2))\" text-anchor=\"middle\">\(Self.xml(e.label))</text>\n"
            var next = y2 + 8
            if let note = e.note {
                arrows += "<text class=\"note\" x=\"\(Self.num((leftX + rightX) / 2))\" y=\"\(Self.num(y2 + 16))\" text-anchor=\"middle\" font-style=\"italic\" fill=\"#444444\">\(Self.xml(note))</text>\n"
                next = y2 + 30
            }
            body += arrows
            arrows = ""
            if let c = changes[i].client { stateBox(c, left: true, y: y2) }
            if let s = changes[i].server { stateBox(s, left: false, y: y2) }
            y = max(next, y2 + (changes[i].client != nil || changes[i].server != nil ? 12 : 0))
        }
        let bottom = y + 14
        let totalH = bottom + margin
        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.num(totalW))\" height=\"\(Self.num(totalH))\" viewBox=\"0 0 \(Self.num(totalW)) \(Self.num(totalH))\" font-family=\"monospace\" font-size=\"12\">\n"
        svg += "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#000000\"/></marker></defs>\n"
        svg += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(Self.num(totalW))\" height=\"\(Self.num(totalH))\" fill=\"#ffffff\"/>\n"
        svg += "<line class=\"lifeline\" x1=\"\(Self.num(leftX))\" y1=\"\(Self.num(top))\" x2=\"\(Self.num(leftX))\" y2=\"\(Self.num(bottom))\" stroke=\"#444444\" stroke-width=\"2\"/>\n"
        svg += "<line class=\"lifeline\" x1=\"\(Self.num(rightX))\" y1=\"\(Self.num(top))\" x2=\"\(Self.num(rightX))\" y2=\"\(Self.num(bottom))\" stroke=\"#444444\" stroke-width=\"2\"/>\n"
        svg += body
        svg += "</svg>\n"
        return svg
    }

    public func svg(into out: inout OutputBuffer) {
        out.string(svg())
    }
}
