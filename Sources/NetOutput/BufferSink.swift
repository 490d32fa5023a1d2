import NetAnalysis

/// Places in formatted output where a split message's part count (or length) goes once known:
/// the command line keeps such lines in its buffer until the message completes, then writes them
/// with the value filled in (`part 1/3`).
public final class PendingMarks {
    public struct Mark {
        /// Offset in the output buffer the formatter wrote into.
        public var offset: Int
        public var id: Int
        public var field: PendingField
        public var json: Bool
        /// Written in `--lang zh`: the inserted words are Chinese.
        public var chinese = false
    }

    @exclusivity(unchecked) public var list: [Mark] = []
    /// No line waits. (Read through this from other modules: their direct accesses to `list`
    /// would be checked at run time, once per packet.)
    public var isEmpty: Bool { list.isEmpty }

    public init() {}

    /// Something can be written: lines before the oldest mark, or the oldest mark's message has
    /// its answer (`lookup`: the stream analyzer's resolutions).
    public func headReady(_ lookup: (Int) -> (parts: Int, length: Int?)?) -> Bool {
        guard let first = list.first else { return false }
        return first.offset > 0 || lookup(first.id) != nil
    }

    func add(offset: Int, id: Int, field: PendingField, json: Bool, chinese: Bool = false) {
        list.append(Mark(offset: offset, id: id, field: field, json: json, chinese: chinese))
    }

    /// What to insert for a mark, given the message's final part count and length (nil: unknown).
    public static func insertion(_ m: Mark, parts: Int?, length: Int?, into o: inout OutputBuffer) {
        switch (m.field, m.json) {
        case (.parts, false): if let p = parts { o.byte(47); o.decimal(p) }
        case (.length, false):
            if let l = length {
                if m.chinese { o.string(Catalog.chinese[.msgOf]) } else { o.ascii(" of ") }
                o.decimal(l)
            }
        case (.parts, true): if let p = parts { o.ascii(",\"parts\":"); o.decimal(p) }
        case (.length, true): if let l = length { o.ascii(",\"len\":"); o.decimal(l) }
        }
    }
}

/// Message notes written straight into an output buffer (no intermediate Strings); in a JSON
/// string, the variable parts (an lpjson header) are escaped.
struct BufferSink: NoteTextSink {
    let out: UnsafeMutablePointer<OutputBuffer>
    let json: Bool
    /// Held by the formatter for the whole write (no reference counting per mark).
    let marks: Unmanaged<PendingMarks>?
    /// `--lang`: the literal pieces translated (nil: English).
    let pieces: [String: String]?

    init(out: UnsafeMutablePointer<OutputBuffer>, json: Bool, marks: PendingMarks?, pieces: [String: String]? = nil) {
        self.out = out
        self.json = json
        self.marks = marks.map { Unmanaged.passUnretained($0) }
        self.pieces = pieces
    }

    @inline(__always) mutating func lit(_ s: StaticString) {
        if let pieces, let t = pieces["\(s)"] { out.pointee.string(t) } else { out.pointee.ascii(s) }
    }

    mutating func str(_ s: String) {
        if json {
            var s = s
            s.withUTF8 { out.pointee.jsonEscaped($0) }
        } else {
            out.pointee.string(s)
        }
    }

    @inline(__always) mutating func num(_ n: Int) { out.pointee.decimal(n) }

    mutating func pending(_ id: Int, _ field: PendingField) {
        // Inside the JSON "text" string the inserted words are the same as in the text line.
        let at = out.pointee.count
        let chinese = pieces != nil
        marks?._withUnsafeGuaranteedRef { $0.add(offset: at, id: id, field: field, json: false, chinese: chinese) }
    }

    static func write(_ d: FramedDetail, into o: inout OutputBuffer, json: Bool, marks: PendingMarks?,
                      pieces: [String: String]? = nil) {
        withUnsafeMutablePointer(to: &o) { p in
            var sink = BufferSink(out: p, json: json, marks: marks, pieces: pieces)
            d.withSpans { MessageNotes.write($0, to: &sink) }
        }
    }
}

/// A note's words as the packet line and the `-v` view write them: a message note straight from
/// its detail (read in place, unretained: `notes` holds it), any other its text; with `states`,
/// the endpoint states after it.
enum NoteWords {
    static func write(_ notes: [Note], _ k: Int, states: Bool, marks: PendingMarks?, language: Language = .en,
                      into out: inout OutputBuffer) {
        if language != .en {
            localized(notes, k, states: states, marks: marks, catalog: Catalog.of(language), into: &out)
            return
        }
        if let ref = notes[k].framedRef, notes[k].wordsFromFramed {
            ref._withUnsafeGuaranteedRef { f in
                if f.hasPrefix { out.string(f.prefix) }
                BufferSink.write(f, into: &out, json: false, marks: marks)
            }
        } else {
            out.string(notes[k].text)
        }
        if states, let st = notes[k].states {
            out.ascii(" | client "); out.string(st.client.rawValue)
            out.ascii(", server "); out.string(st.server.rawValue)
        }
    }

    /// `--lang`: the words from the catalogue where the note's typed fields carry them all (else
    /// the analysis's English words).
    static func localized(_ notes: [Note], _ k: Int, states: Bool, marks: PendingMarks?, catalog: Catalog,
                          into out: inout OutputBuffer) {
        if let ref = notes[k].framedRef, notes[k].wordsFromFramed {
            ref._withUnsafeGuaranteedRef { f in
                if f.hasPrefix { out.string(f.prefix) }
                BufferSink.write(f, into: &out, json: false, marks: marks,
                                 pieces: catalog.language == .zh ? LocalNoteWords.chinesePieces : nil)
            }
        } else if let w = LocalNoteWords.words(notes[k], catalog) {
            out.string(w)
        } else {
            out.string(notes[k].text)
        }
        if states, let st = notes[k].states {
            out.string(catalog.text(.noteStates, ["c": st.client.rawValue, "s": st.server.rawValue]))
        }
    }
}
