import NetWire

/// Which framing a connection's payload is read with: `--framing PORT=SPEC` for a server port,
/// then `--framing SPEC` for all TCP payload, then the defaults (DNS on 53, the demos' ports),
/// else `raw` (no message notes).
public struct FramingPolicy: Sendable {
    public var global: FramingSpec?
    public var byPort: [UInt16: FramingSpec] = [:]
    /// The bundled demos' default ports and DNS.
    public static let defaults: [UInt16: FramingSpec] = [
        53: .dnsTCP,
        9001: .line,                      // echo
        9002: .line,                      // chat
        9004: .line,                      // sticky
        9005: .lpjson(bigEndian: false),  // framed
        9008: .line,                      // backlog
        9009: .line,                      // reset
    ]
    public var useDefaults = true

    public init() {}

    /// Adds one `--framing` argument: `SPEC` or `PORT=SPEC`. Returns a problem description.
    public mutating func add(_ argument: String) -> String? {
        if let eq = argument.firstIndex(of: "=") {
            guard let port = UInt16(argument[..<eq]) else { return "'\(argument)': the part before '=' must be a port number" }
            guard let spec = FramingSpec(parsing: String(argument[argument.index(after: eq)...])) else {
                return "'\(argument)': unknown framing (use lp:N[:be|le][+K], line, delim:BYTES, lpjson[:be], dns-tcp, raw, auto)"
            }
            byPort[port] = spec
        } else {
            guard let spec = FramingSpec(parsing: argument) else {
                return "'\(argument)': unknown framing (use lp:N[:be|le][+K], line, delim:BYTES, lpjson[:be], dns-tcp, raw, auto)"
            }
            global = spec
        }
        return nil
    }

    public func spec(serverPort: UInt16) -> FramingSpec {
        if let s = byPort[serverPort] { return s }
        if let g = global { return g }
        if useDefaults, let d = Self.defaults[serverPort] { return d }
        return .raw
    }
}

/// What `follow` receives: the in-order bytes of each direction with the messages they carry, and gaps.
public enum StreamEvent {
    case data(frame: Int, clientToServer: Bool, offset: Int, bytes: UnsafeRawBufferPointer, spans: [MessageSpan])
    case gap(frame: Int, clientToServer: Bool, offset: Int, count: Int)
}

/// TCP stream reassembly and message framing, per connection and direction. Fed every TCP segment
/// of a tracked conversation (after the flow tracker); adds `message` / `sticky` / `split` notes
/// (and reassembly notes) to the segment's line, and framing counters to the flow row.
///
/// Reassembly: sequence numbers are compared modulo 2^32; a segment ahead of the next expected byte
/// is held (copied) until the gap fills — at most `maxHeldSegments` / `maxHeldBytes` per direction
/// and `maxHeldTotal` in all, beyond which (or as soon as the peer acknowledges past the gap: the
/// capture lost it, the receiver did not) the gap is skipped and reported. Retransmitted bytes are
/// not framed again; the first copy wins, and a retransmission of the same range with different
/// bytes is flagged. Only held segments and message headers are stored, never whole streams.
public final class StreamAnalyzer {
    @exclusivity(unchecked) public var policy: FramingPolicy
    /// `--recv-size N`: also note how a receiver's recv(N) loop would cut the stream.
    /// (0 or less: off — a recv() of no bytes would never advance.)
    @exclusivity(unchecked) public var recvSize: Int? {
        didSet { if let n = recvSize, n <= 0 { recvSize = nil } }
    }
    @exclusivity(unchecked) public var maxHeldSegments = 256
    @exclusivity(unchecked) public var maxHeldBytes = 1 << 20
    @exclusivity(unchecked) public var maxHeldTotal = 64 << 20
    /// Record when split messages complete, so held lines can say "part 1/3" (see `resolutions`).
    @exclusivity(unchecked) public var recordResolutions = false
    /// Receives the stream of one flow (`follow`).
    @exclusivity(unchecked) public var followFlow: Int?
    /// Follow the first TCP conversation seen (sets `followFlow`).
    @exclusivity(unchecked) public var followFirst = false
    @exclusivity(unchecked) public var follow: ((StreamEvent) -> Void)?

    /// Streams by flow-table slot, with the flow id that holds it. Each entry holds one retain of
    /// its conversation (taken when stored, given back by `finish`, replacement or `deinit`), so
    /// the per-segment path reads it without reference counting.
    @exclusivity(unchecked) var bySlot: [(id: Int, conn: Unmanaged<StreamConn>?)] = []
    @exclusivity(unchecked) var heldTotal = 0
    @exclusivity(unchecked) var nextPendingID = 1
    /// Pending message ids from `resolutionBase` on: the final part count (0: not known yet) and
    /// length (−1: the message never completed). Ids only grow, so this is an array, not a map.
    @exclusivity(unchecked) var resolutionBase = 1
    @exclusivity(unchecked) var resolvedParts: [Int] = []
    @exclusivity(unchecked) var resolvedLength: [Int] = []
    /// Scratch space for the framer's completed messages.
    @exclusivity(unchecked) var completions: [Framer.Completed] = []
    /// The message detail of the last framed segment's note (reused once that note is gone), and
    /// the spans array the next segment fills (its storage moves between the two).
    @exclusivity(unchecked) var scratchDetail = FramedDetail(spans: [], clientToServer: true, framing: "")
    /// What the segment being analysed adds, until `flush` turns it into notes: its own spans,
    /// the spans of held segments (of either direction) it let through, and reassembly notes.
    /// Kept here rather than in `Context` (whose copies and destruction cost reference counting
    /// on every segment); empty between segments.
    @exclusivity(unchecked) var pendSpans: [MessageSpan] = []
    @exclusivity(unchecked) var pendOther: [MessageSpan] = []
    @exclusivity(unchecked) var pendExtra: [Note] = []

    /// Beyond any flow table's size (`FlowTracker.maxFlows` is at most this).
    static let maxSlots = 1 << 26

    /// Numbers for framing names (`StreamConn.nameID`), from 1.
    @exclusivity(unchecked) var nameIDs: [String: Int] = [:]

    func nameID(_ spec: FramingSpec) -> Int {
        let name = spec.name
        if let id = nameIDs[name] { return id }
        let id = nameIDs.count + 1
        nameIDs[name] = id
        return id
    }

    public init(policy: FramingPolicy = FramingPolicy()) {
        self.policy = policy
    }

    deinit {
        for e in bySlot { e.conn?.release() }
    }

    /// A pending message's final part count and length (nil length: it never completed), or nil
    /// while it is still open (or was forgotten).
    public func resolution(_ id: Int) -> (parts: Int, length: Int?)? {
        let i = id &- resolutionBase
        guard i >= 0, i < resolvedParts.count, resolvedParts[i] != 0 else { return nil }
        let l = resolvedLength[i]
        return (resolvedParts[i], l < 0 ? nil : l)
    }

    /// Forgets the resolutions of every id below `id` (their lines were written).
    public func forgetResolutions(below id: Int) {
        let k = min(max(id &- resolutionBase, 0), resolvedParts.count)
        guard k > 0 else { return }
        resolvedParts.removeFirst(k)
        resolvedLength.removeFirst(k)
        resolutionBase &+= k
    }

    /// How many message resolutions are recorded (see `forgetResolutions`).
    public var resolutionCount: Int { resolvedParts.count }

    /// The next id a pending message will get.
    public var nextID: Int { nextPendingID }

    func newPendingID() -> Int {
        let id = nextPendingID
        nextPendingID &+= 1
        if recordResolutions {
            if resolvedParts.isEmpty { resolutionBase = id }
            // Entry `i` is id `resolutionBase + i`: ids issued while recording was off get empty
            // entries, so later ones keep their places.
            let gap = id &- resolutionBase &- resolvedParts.count
            if gap > 0 {
                resolvedParts.append(contentsOf: repeatElement(0, count: gap))
                resolvedLength.append(contentsOf: repeatElement(-1, count: gap))
            }
            resolvedParts.append(0)
            resolvedLength.append(-1)
        }
        return id
    }

    func resolve(_ id: Int, parts: Int, length: Int?) {
        let i = id &- resolutionBase
        guard i >= 0, i < resolvedParts.count else { return }
        resolvedParts[i] = max(parts, 1)
        resolvedLength[i] = length ?? -1
    }

    /// One TCP segment of flow `flowID`. `payload` is the captured payload; `wirePayload` its length
    /// on the wire (more when the snapshot length cut it).
    /// (`slot` is the flow table's, which this table follows; only `PacketAnalyzer` calls this.)
    func segment(flowID: Int, slot: Int, clientToServer: Bool, tcp t: TCPHeader, payload: UnsafeRawBufferPointer,
                 frame: Int, notes: inout [Note]) {
        if followFirst && followFlow == nil { followFlow = flowID }
        let entry: Unmanaged<StreamConn>
        guard slot >= 0 && slot < Self.maxSlots else { return }
        if slot < bySlot.count && bySlot[slot].id == flowID, let c = bySlot[slot].conn {
            // The flow table's slot indexes this table too (no hashing per segment).
            entry = c
        } else {
            let serverPort = clientToServer ? t.destinationPort : t.sourcePort
            let spec = policy.spec(serverPort: serverPort)
            let conn: StreamConn
            if spec != .raw || recvSize != nil || flowID == followFlow {
                conn = StreamConn(spec: spec, tracked: true, nameID: nameID(spec))
            } else {
                conn = StreamConn.untracked  // shared: nothing is kept for an unframed conversation
            }
            if slot >= bySlot.count {
                bySlot.append(contentsOf: repeatElement((id: -1, conn: Unmanaged<StreamConn>?.none), count: slot + 1 - bySlot.count))
            }
            bySlot[slot].conn?.release()
            entry = Unmanaged.passRetained(conn)
            bySlot[slot] = (flowID, entry)
        }
        // The table holds the conversation for the whole call: used without reference counting.
        entry._withUnsafeGuaranteedRef { conn in
            segment(conn, flowID: flowID, clientToServer: clientToServer, tcp: t, payload: payload, frame: frame, notes: &notes)
        }
    }

    private func segment(_ conn: StreamConn, flowID: Int, clientToServer: Bool, tcp t: TCPHeader, payload: UnsafeRawBufferPointer,
                         frame: Int, notes: inout [Note]) {
        guard conn.tracked, conn.summary == nil else { return }
        let following = flowID == followFlow && follow != nil
        var ctx = Context(frame: frame, clientToServer: clientToServer, conn: conn, following: following)
        // The peer acknowledges bytes this capture never saw: skip that gap in the other direction.
        if t.flags.contains(.ack) {
            if clientToServer { ackPast(&conn.s2c, t.acknowledgment, &ctx) } else { ackPast(&conn.c2s, t.acknowledgment, &ctx) }
            if !pendOther.isEmpty || !pendExtra.isEmpty { flush(&ctx, &notes) }
        }
        if clientToServer { process(&conn.c2s, t, payload, &ctx) } else { process(&conn.s2c, t, payload, &ctx) }
        flush(&ctx, &notes)
        if conn.c2s.ended && conn.s2c.ended && !following {
            // Both directions are over: keep the counters, free the streams (the conversation may
            // stay in the flow table for a long time).
            conn.summary = Self.summarize(conn)
            conn.c2s = DirectionStream.finished
            conn.s2c = DirectionStream.finished
        }
    }

    struct Context {
        var frame: Int
        var clientToServer: Bool
        /// The conversation (held by the analyzer for the whole call).
        unowned(unsafe) let conn: StreamConn
        var framing: String { conn.name }
        var following: Bool
        /// The direction of the held segments in `pendOther`.
        var heldClientToServer = true

        init(frame: Int, clientToServer: Bool, conn: StreamConn, following: Bool) {
            self.frame = frame
            self.clientToServer = clientToServer
            self.conn = conn
            self.following = following
        }
    }

    func ackPast(_ d: inout DirectionStream, _ ack: UInt32, _ ctx: inout Context) {
        guard d.started, !d.held.isEmpty, Int32(bitPattern: ack &- d.next) > 0 else { return }
        skipGap(&d, upTo: ack, &ctx, reason: "acknowledged by the receiver, never captured")
    }

    func process(_ d: inout DirectionStream, _ t: TCPHeader, _ payload: UnsafeRawBufferPointer, _ ctx: inout Context) {
        let f = t.flags
        if f.contains(.rst) {
            end(&d, &ctx, why: nil)
            return
        }
        var seq = t.sequence
        if f.contains(.syn) {
            if !d.started || d.delivered == 0 && d.held.isEmpty {
                d.started = true
                d.next = seq &+ 1
            }
            seq = seq &+ 1
        } else if !d.started {
            d.started = true
            d.next = seq
        }
        let wireLength = max(t.payloadLength, payload.count)
        if wireLength > 0 && !d.ended {
            let rel = Int32(bitPattern: seq &- d.next)
            if rel > 0 {
                hold(&d, seq: seq, payload, missing: wireLength - payload.count, &ctx)
            } else {
                let overlap = Int(-Int64(rel))
                if overlap >= wireLength {
                    checkRetransmission(d, seq: seq, payload, complete: payload.count == wireLength, &ctx)
                } else {
                    // New bytes (maybe after a retransmitted head).
                    let fresh = UnsafeRawBufferPointer(rebasing: payload[min(overlap, payload.count)...])
                    deliver(&d, fresh, missing: wireLength - max(overlap, payload.count), frame: ctx.frame, &ctx)
                    d.remember(seq: seq, payload, complete: payload.count == wireLength)
                    drainHeld(&d, &ctx)
                }
            }
        }
        if f.contains(.fin) && !d.ended {
            let finSeq = seq &+ UInt32(truncatingIfNeeded: wireLength)
            if Int32(bitPattern: finSeq &- d.next) > 0 {
                skipGap(&d, upTo: finSeq, &ctx, reason: "before the FIN, never captured")
            }
            end(&d, &ctx, why: "FIN")
        }
    }

    // MARK: reassembly

    func hold(_ d: inout DirectionStream, seq: UInt32, _ payload: UnsafeRawBufferPointer, missing: Int, _ ctx: inout Context) {
        if missing > 0 || d.held.count >= maxHeldSegments || d.heldBytes + payload.count > maxHeldBytes
            || heldTotal + payload.count > maxHeldTotal {
            // Cannot wait: skip what is missing before this segment.
            skipGap(&d, upTo: seq, &ctx, reason: missing > 0 ? "segment cut by the snapshot length arrived early" : "reassembly cap reached")
            let rel = Int32(bitPattern: seq &- d.next)
            if rel == 0 {
                deliver(&d, payload, missing: missing, frame: ctx.frame, &ctx)
                drainHeld(&d, &ctx)
            }
            return
        }
        // Keep in sequence order; a second copy of a held segment is dropped (first copy wins).
        var i = d.held.count
        while i > 0 && Int32(bitPattern: d.held[i - 1].seq &- seq) > 0 { i -= 1 }
        if i > 0 && d.held[i - 1].seq == seq {
            if d.held[i - 1].bytes.count == payload.count && !d.held[i - 1].bytes.elementsEqual(payload) {
                pendExtra.append(Note(kind: .overlapDiffers, text: "retransmission differs from the held copy (first copy kept)"))
            }
            return
        }
        d.held.insert(HeldSegment(seq: seq, bytes: Array(payload), frame: ctx.frame), at: i)
        d.heldBytes += payload.count
        heldTotal += payload.count
        pendExtra.append(Note(kind: .streamGap, text: "held for reassembly: \(Int32(bitPattern: seq &- d.next)) bytes missing before it"))
    }

    /// Delivers held segments that now follow on.
    func drainHeld(_ d: inout DirectionStream, _ ctx: inout Context) {
        while let first = d.held.first, !d.ended {
            let rel = Int32(bitPattern: first.seq &- d.next)
            guard rel <= 0 else { return }
            d.held.removeFirst()
            d.heldBytes -= first.bytes.count
            heldTotal -= first.bytes.count
            let overlap = Int(-Int64(rel))
            if overlap < first.bytes.count {
                first.bytes.withUnsafeBytes { all in
                    deliver(&d, UnsafeRawBufferPointer(rebasing: all[overlap...]), missing: 0, frame: first.frame, &ctx)
                }
            }
        }
    }

    /// Gives up waiting for the bytes before `seq`: reports the gap and goes on after it.
    func skipGap(_ d: inout DirectionStream, upTo seq: UInt32, _ ctx: inout Context, reason: String) {
        let gap = Int(Int32(bitPattern: seq &- d.next))
        guard gap > 0 else { return }
        let target = seq
        // Held segments before the target are delivered in order, skipping the holes between them.
        while !d.ended {
            let nextHeld = d.held.first.map { Int32(bitPattern: $0.seq &- target) < 0 } ?? false
            let upTo = nextHeld ? (d.held.first?.seq ?? target) : target
            let hole = Int(Int32(bitPattern: upTo &- d.next))
            if hole > 0 { skipBytes(&d, hole, &ctx, reason: reason) }
            if !nextHeld { break }
            drainHeld(&d, &ctx)
        }
        drainHeld(&d, &ctx)
    }

    func skipBytes(_ d: inout DirectionStream, _ count: Int, _ ctx: inout Context, reason: String) {
        let offset = d.delivered
        d.next = d.next &+ UInt32(truncatingIfNeeded: count)
        d.delivered += count
        if ctx.following { follow?(.gap(frame: ctx.frame, clientToServer: d.clientToServer, offset: offset, count: count)) }
        // Payload cut by the snapshot length: said once per direction, not on every segment.
        let snap = reason.hasSuffix("(snapshot length)")
        if !snap || !d.snapNoted {
            pendExtra.append(Note(kind: .streamGap, text: snap ? "stream gap: \(count) bytes \(reason), skipped (and in later segments)"
                                                               : "stream gap: \(count) bytes \(reason), skipped"))
        }
        if snap { d.snapNoted = true }
        for i in d.candidates.indices where !d.candidates[i].framer.isLost {
            if !d.candidates[i].framer.skip(count) {
                if i == d.chosenIndex { framingLost(&d.candidates[i], &ctx) } else { resolvePending(&d.candidates[i]) }
            } else if d.candidates[i].framer.messageBytes > 0 {
                d.candidates[i].parts += 1
            }
        }
        d.recvView.skip(count)
    }

    func checkRetransmission(_ d: DirectionStream, seq: UInt32, _ payload: UnsafeRawBufferPointer, complete: Bool, _ ctx: inout Context) {
        guard complete, !payload.isEmpty else { return }
        let h = DirectionStream.hash(payload)
        if let known = d.recent.hash(seq: seq, length: payload.count), known != h {
            pendExtra.append(Note(kind: .overlapDiffers, text: "retransmission carries different bytes than the first copy (first copy kept)"))
        }
    }

    // MARK: framing

    func deliver(_ d: inout DirectionStream, _ bytes: UnsafeRawBufferPointer, missing: Int, frame: Int, _ ctx: inout Context) {
        guard !bytes.isEmpty || missing > 0 else { return }
        let offset = d.delivered
        d.next = d.next &+ UInt32(truncatingIfNeeded: bytes.count)
        d.delivered += bytes.count
        var spans: [MessageSpan] = []
        let own = frame == ctx.frame && d.clientToServer == ctx.clientToServer
        let simple = d.candidates.count == 1 && own && recvSize == nil && !ctx.following
        if d.candidates.count == 1 {
            if !d.candidates[0].framer.isLost {
                if simple {
                    // The common case: straight into this packet's spans.
                    frameBytes(&d.candidates[0], bytes, frame: frame, into: &pendSpans)
                } else {
                    frameBytes(&d.candidates[0], bytes, frame: frame, into: &spans)
                }
                d.candidates[0].reported = true
                if d.candidates[0].framer.isLost { framingLost(&d.candidates[0], &ctx) }
            }
            if simple {
                if missing > 0 { skipBytes(&d, missing, &ctx, reason: "not captured (snapshot length)") }
                return
            }
        } else {
            spans = autoFrame(&d, bytes, frame: frame, &ctx)
        }
        if let n = recvSize {
            var calls: [Note] = []
            d.recvView.add(bytes, n: n, message: d.chosenMessage, spans: spans, into: &calls)
            if calls.count > 2 {
                // A long stretch inside one message: the first call, then how many more.
                let first = d.recvView.calls - calls.count + 1
                pendExtra.append(calls[0])
                pendExtra.append(Note(kind: .recv, text: "recv(\(n)) #\(first + 1)–#\(d.recvView.calls) → \(calls.count - 1) more results of \(n) B"))
            } else {
                pendExtra.append(contentsOf: calls)
            }
        }
        if ctx.following {
            follow?(.data(frame: frame, clientToServer: d.clientToServer, offset: offset, bytes: bytes, spans: spans))
        }
        if frame == ctx.frame && d.clientToServer == ctx.clientToServer {
            pendSpans.append(contentsOf: spans)
        } else {
            pendOther.append(contentsOf: spans)
            ctx.heldClientToServer = d.clientToServer
        }
        if missing > 0 { skipBytes(&d, missing, &ctx, reason: "not captured (snapshot length)") }
    }

    func frameBytes(_ d: inout FramedStream, _ bytes: UnsafeRawBufferPointer, frame: Int) -> [MessageSpan] {
        var spans: [MessageSpan] = []
        frameBytes(&d, bytes, frame: frame, into: &spans)
        return spans
    }

    func frameBytes(_ d: inout FramedStream, _ bytes: UnsafeRawBufferPointer, frame: Int, into spans: inout [MessageSpan]) {
        let before = d.framer.messageBytes
        let spansBefore = spans.count
        if !completions.isEmpty { completions.removeAll(keepingCapacity: true) }
        d.framer.decode(bytes, into: &completions)
        // Completions are read in place by index (a copy of one would retain its header and DNS).
        let done = completions.count
        var whole = 0
        var k = 0
        while k < done {
            let no = d.message + 1
            let continuing = k == 0 && before > 0
            let part = continuing ? d.parts + 1 : 1
            if part == 1 { whole &+= 1 }
            let length = completions[k].length
            if part > 1 || !completions[k].info.isEmpty {
                var frames: [Int] = []
                if part > 1 {
                    frames = d.frames
                    if frames.count < DirectionStream.maxFramesListed { frames.append(frame) }
                    d.splitMessages += 1
                    if let id = d.pendingID, recordResolutions, d.reported {
                        resolve(id, parts: part, length: length)
                    }
                }
                spans.append(MessageSpan(message: no, from: continuing ? before : 0, to: length, length: length,
                                         part: part, parts: part, completes: true, pendingID: nil,
                                         extras: SpanExtras(frames: frames, jsonHeader: completions[k].info.jsonHeader,
                                                            dnsBox: completions[k].info.dnsBox)))
            } else {
                // The common case: numbers only (no reference to count).
                spans.append(MessageSpan(message: no, from: 0, to: length, length: length,
                                         part: 1, parts: 1, completes: true, pendingID: nil, extras: nil))
            }
            d.message = no
            d.parts = 0
            if !d.frames.isEmpty { d.frames.removeAll(keepingCapacity: true) }
            d.pendingID = nil
            k &+= 1
        }
        if d.framer.isLost { return }
        let now = d.framer.messageBytes
        if now > 0 {
            // A message starts or continues here and goes on in later segments.
            let continuing = done == 0 && before > 0
            d.parts += 1
            if d.frames.count < DirectionStream.maxFramesListed { d.frames.append(frame) }
            if d.pendingID == nil {
                d.pendingID = newPendingID()
            }
            if d.parts == 1, let h = d.framer.currentHeader {
                spans.append(MessageSpan(message: d.message + 1, from: continuing ? before : 0, to: now,
                                         length: d.framer.messageLength, part: d.parts, parts: nil, completes: false,
                                         pendingID: d.pendingID, extras: SpanExtras(frames: [], jsonHeader: h, dnsBox: nil)))
            } else {
                spans.append(MessageSpan(message: d.message + 1, from: continuing ? before : 0, to: now,
                                         length: d.framer.messageLength, part: d.parts, parts: nil, completes: false,
                                         pendingID: d.pendingID, extras: nil))
            }
        }
        // Sticky (粘包): this segment carries parts of two or more messages.
        if spans.count - spansBefore >= 2 { d.stickySegments += 1 }
    }

    /// `auto`: every candidate reads the bytes; the notes come from the most specific candidate
    /// that is still consistent and has found a message. When it fails, the next one takes over.
    func autoFrame(_ d: inout DirectionStream, _ bytes: UnsafeRawBufferPointer, frame: Int, _ ctx: inout Context) -> [MessageSpan] {
        var results: [[MessageSpan]] = []
        results.reserveCapacity(d.candidates.count)
        for k in d.candidates.indices {
            if d.candidates[k].framer.isLost { results.append([]); continue }
            results.append(frameBytes(&d.candidates[k], bytes, frame: frame))
            if d.candidates[k].framer.isLost { resolvePending(&d.candidates[k]) }
        }
        let previous = d.chosenIndex
        // The most specific candidate still consistent that has found a message.
        let pick = d.candidates.firstIndex { !$0.framer.isLost && $0.message > 0 }
        guard let i = pick else {
            if let p = previous, d.candidates[p].framer.isLost, !d.candidates[p].lostNoted {
                d.candidates[p].lostNoted = true
                let f = d.candidates[p].framer
                pendExtra.append(Note(kind: .framingLost, text: "framing auto: \(f.spec.name) stopped fitting (\(f.lostReason ?? "")); no other framing fits"))
            }
            d.chosenIndex = nil
            return []
        }
        if i != previous {
            let name = d.candidates[i].framer.spec.name
            if let p = previous, d.candidates[p].framer.isLost {
                d.candidates[p].lostNoted = true
                let f = d.candidates[p].framer
                pendExtra.append(Note(kind: .framingLost, text: "framing auto: \(f.spec.name) stopped fitting (\(f.lostReason ?? "")); now \(name)"))
            } else if let p = previous {
                pendExtra.append(Note(kind: .message, text: "framing auto: \(name) fits too, preferred to \(d.candidates[p].framer.spec.name)"))
            } else {
                pendExtra.append(Note(kind: .message, text: "framing auto: \(name) fits so far"))
            }
            d.chosenIndex = i
        }
        d.candidates[i].reported = true
        return results[i]
    }

    func framingLost(_ d: inout FramedStream, _ ctx: inout Context) {
        guard !d.lostNoted else { return }
        d.lostNoted = true
        resolvePending(&d)
        let why = d.framer.lostReason ?? "unreadable"
        pendExtra.append(Note(kind: .framingLost, text: "framing lost (\(d.framer.spec.name): \(why)) after message #\(d.message); this direction is no longer framed"))
    }

    /// The current message will never complete: its held lines say what is known.
    func resolvePending(_ d: inout FramedStream) {
        if let id = d.pendingID, recordResolutions, d.reported {
            resolve(id, parts: d.parts, length: nil)
        }
        d.pendingID = nil
    }

    func end(_ d: inout DirectionStream, _ ctx: inout Context, why: String?) {
        guard !d.ended else { return }
        if let why, let c = d.chosen, !c.framer.isLost, let (bytes, length) = c.framer.endOfStream() {
            let of = length.map { " of \($0)" } ?? ""
            pendExtra.append(Note(kind: .split, text: "msg #\(c.message + 1) incomplete at the \(why): \(bytes)\(of) bytes arrived"))
        }
        for i in d.candidates.indices { resolvePending(&d.candidates[i]) }
        if why != nil, let n = recvSize, d.recvView.filled > 0 {
            d.recvView.emit(n: n, lastMessage: d.chosenMessage, into: &pendExtra)
        }
        d.ended = true
        heldTotal -= d.heldBytes
        d.heldBytes = 0
        d.held = []
    }

    /// Turns the segment's spans and reassembly events into notes.
    func flush(_ ctx: inout Context, _ notes: inout [Note]) {
        if !pendSpans.isEmpty {
            // The detail of the previous packet's note is reused when nobody holds that note any
            // more (the caller cleared its notes): no allocation per framed segment. Read through
            // an unretained reference (the analyzer holds it) and filled field by field.
            if isKnownUniquelyReferenced(&scratchDetail) {
                let clientToServer = ctx.clientToServer
                let nameID = ctx.conn.nameID
                let decodesDNS = ctx.conn.decodesDNS
                Unmanaged.passUnretained(scratchDetail)._withUnsafeGuaranteedRef { d in
                    swap(&d.storedSpans, &pendSpans)
                    pendSpans.removeAll(keepingCapacity: true)
                    d.storedClientToServer = clientToServer
                    if d.hasPrefix { d.storedPrefix = "" }
                    if d.framingID != nameID {
                        d.storedFraming = ctx.conn.name
                        d.framingID = nameID
                    }
                    d.storedHasDNS = decodesDNS && d.storedSpans.contains { $0.extras?.dns != nil }
                }
            } else {
                let d = FramedDetail(spans: [], clientToServer: ctx.clientToServer, framing: ctx.framing)
                swap(&d.storedSpans, &pendSpans)
                d.storedHasDNS = ctx.conn.decodesDNS && d.storedSpans.contains { $0.extras?.dns != nil }
                d.framingID = ctx.conn.nameID
                scratchDetail = d
            }
            let kind = MessageNotes.kind(of: scratchDetail)
            notes.append(Note(kind: kind, framed: scratchDetail))
        }
        if !pendOther.isEmpty {
            var n = MessageNotes.note(FramedDetail(spans: pendOther, clientToServer: ctx.heldClientToServer, framing: ctx.framing))
            n.prefix = "delivered from held segments: "
            notes.append(n)
            pendOther.removeAll(keepingCapacity: true)
        }
        if !pendExtra.isEmpty {
            notes.append(contentsOf: pendExtra)
            pendExtra.removeAll(keepingCapacity: true)
        }
    }

    // MARK: the end of a conversation

    /// Adds the framing counters to a conversation leaving the flow table and forgets its streams.
    public func finish(_ s: inout FlowSummary) {
        guard s.slot >= 0 && s.slot < bySlot.count && bySlot[s.slot].id == s.id, let entry = bySlot[s.slot].conn else { return }
        bySlot[s.slot] = (-1, nil)
        let c = entry.takeRetainedValue()
        guard c.tracked else { return }
        if c.summary == nil {
            var ctx = Context(frame: 0, clientToServer: true, conn: c, following: false)
            // (Ending without a reason adds no note, so nothing reaches the next segment's line.)
            if !c.c2s.ended { end(&c.c2s, &ctx, why: nil) }
            if !c.s2c.ended { end(&c.s2c, &ctx, why: nil) }
        }
        guard let sum = c.summary ?? Self.summarize(c) else { return }
        s.framing = sum.framing
        s.messages = sum.messages
        s.stickySegments = sum.sticky
        s.splitMessages = sum.split
    }

    struct FramingSummary {
        var framing: String
        var messages: (c2s: Int, s2c: Int)
        var sticky: Int
        var split: Int
    }

    static func summarize(_ c: StreamConn) -> FramingSummary? {
        guard c.spec != .raw else { return nil }
        var s = FramingSummary(framing: c.name, messages: (0, 0), sticky: 0, split: 0)
        let a = c.c2s.chosen, b = c.s2c.chosen
        s.messages = (a?.message ?? 0, b?.message ?? 0)
        s.sticky = (a?.stickySegments ?? 0) + (b?.stickySegments ?? 0)
        s.split = (a?.splitMessages ?? 0) + (b?.splitMessages ?? 0)
        if c.spec == .auto {
            // Detected: what parsed each direction's whole stream (no loss, nothing left over).
            func detected(_ d: DirectionStream) -> String? {
                guard let x = d.chosen, !x.framer.isLost, x.message > 0, x.framer.endOfStream() == nil else { return nil }
                return x.framer.spec.name
            }
            let names = [detected(c.c2s), detected(c.s2c)]
            let found = Set(names.compactMap { $0 })
            s.framing = found.isEmpty ? "auto: none detected"
                : found.count == 1 ? "auto: " + (found.first ?? "") + (names.contains(nil) && (c.c2s.delivered > 0 && c.s2c.delivered > 0) ? " (one direction)" : "")
                : "auto: \(names[0] ?? "none") / \(names[1] ?? "none")"
        } else {
            let lost = [a, b].filter { $0?.lostNoted ?? false }.count
            if lost > 0 { s.framing = c.name + " (lost in \(lost == 2 ? "both directions" : "one direction"))" }
        }
        return s
    }
}

final class StreamConn {
    let spec: FramingSpec
    let name: String
    /// The same number for the same name (a message detail reused for another conversation keeps
    /// its framing name when the numbers match, without comparing strings).
    let nameID: Int
    /// dns-tcp: its messages carry DNS decodes.
    let decodesDNS: Bool
    let tracked: Bool
    @exclusivity(unchecked) var c2s: DirectionStream
    @exclusivity(unchecked) var s2c: DirectionStream
    /// Set when both directions have ended and the streams were freed.
    @exclusivity(unchecked) var summary: StreamAnalyzer.FramingSummary?
    /// The one entry every unframed conversation shares.
    nonisolated(unsafe) static let untracked = StreamConn(spec: .raw, tracked: false)

    init(spec: FramingSpec, tracked: Bool, nameID: Int = 0) {
        self.spec = spec
        name = spec.name
        self.nameID = nameID
        decodesDNS = spec == .dnsTCP
        self.tracked = tracked
        c2s = DirectionStream(spec, clientToServer: true)
        s2c = DirectionStream(spec, clientToServer: false)
    }
}

/// One framing's view of a direction: its framer and the messages it found.
struct FramedStream {
    var framer: Framer
    /// Messages completed; the current one's parts so far, their frames, its pending id.
    var message = 0
    var parts = 0
    var frames: [Int] = []
    var pendingID: Int?
    var stickySegments = 0
    var splitMessages = 0
    var lostNoted = false
    /// Its spans have been shown (so its pending ids matter).
    var reported = false

    init(_ framer: Framer) {
        self.framer = framer
    }
}

struct HeldSegment {
    var seq: UInt32
    var bytes: [UInt8]
    var frame: Int
}

struct DirectionStream {
    static let maxFramesListed = MessageNotes.maxFramesListed
    let clientToServer: Bool
    var started = false
    /// Next expected sequence number, and how many stream bytes came before it.
    var next: UInt32 = 0
    var delivered = 0
    var held: [HeldSegment] = []
    var heldBytes = 0
    /// The last segments delivered (sequence, length, hash), to tell a retransmission with
    /// different bytes.
    var recent = RecentSegments()
    /// The framer (or, for `auto`, the candidates in order of preference) with their message state.
    var candidates: [FramedStream]
    /// The framing whose notes are shown.
    var chosenIndex: Int?
    var chosen: FramedStream? { chosenIndex.map { candidates[$0] } }
    var chosenMessage: Int { chosenIndex.map { candidates[$0].message } ?? 0 }
    var ended = false
    var snapNoted = false
    var recvView = RecvView()

    /// What an ended stream is replaced with (shares its storage).
    static let finished = DirectionStream(.raw, clientToServer: true)

    /// `auto` tries these, most specific first.
    static let autoCandidates: [FramingSpec] = [
        .lpjson(bigEndian: false), .lpjson(bigEndian: true),
        .lengthPrefix(width: 4, bigEndian: true, adjust: 0), .lengthPrefix(width: 4, bigEndian: false, adjust: 0),
        .lengthPrefix(width: 2, bigEndian: true, adjust: 0), .lengthPrefix(width: 2, bigEndian: false, adjust: 0),
        .line,
    ]

    init(_ spec: FramingSpec, clientToServer: Bool) {
        self.clientToServer = clientToServer
        if spec == .auto {
            candidates = Self.autoCandidates.map {
                var f = Framer($0)
                f.rejectEmpty = true
                return FramedStream(f)
            }
            chosenIndex = nil
        } else {
            candidates = [FramedStream(Framer(spec))]
            chosenIndex = 0
        }
    }

    mutating func remember(seq: UInt32, _ payload: UnsafeRawBufferPointer, complete: Bool) {
        guard complete, !payload.isEmpty else { return }
        recent.add(seq: seq, length: payload.count, hash: Self.hash(payload))
    }

    /// A 64-bit fingerprint of all of a segment's bytes and its length. Four 64-bit lanes take
    /// 32 bytes per step with an add and an xor-shift each (vector instructions even on baseline
    /// x86-64: about a quarter instruction per byte), then the lanes are mixed with multiplies.
    /// Cheap enough for every delivered segment, and a retransmission that differs anywhere is
    /// told from the first copy (accidental differences; it is not a cryptographic hash).
    static func hash(_ b: UnsafeRawBufferPointer) -> UInt64 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        let n = b.count
        guard let base = b.baseAddress else { return 0xcbf2_9ce4_8422_2325 ^ UInt64(n) }
        var lanes = SIMD4<UInt64>(0xcbf2_9ce4_8422_2325 ^ UInt64(n), 0x8422_2325_cbf2_9ce4,
                                  0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9)
        var i = 0
        while i &+ 32 <= n {
            lanes &+= (base + i).loadUnaligned(as: SIMD4<UInt64>.self)
            lanes ^= lanes &>> 23
            lanes &+= lanes &<< 11
            i &+= 32
        }
        var h = lanes[0] ^ (lanes[1] &* k) ^ ((lanes[2] &* k) >> 7) ^ ((lanes[3] &* k) << 5)
        while i &+ 8 <= n {
            h = (h ^ (base + i).loadUnaligned(as: UInt64.self)) &* k
            h ^= h >> 29
            i &+= 8
        }
        while i < n {
            h = (h ^ UInt64((base + i).load(as: UInt8.self))) &* 0x100_0000_01b3
            i &+= 1
        }
        h = (h ^ (h >> 32)) &* k
        return h ^ (h >> 29)
    }
}

/// The last eight segments delivered in one direction (sequence, length, fingerprint), kept
/// inline: a ring of fixed size, no heap storage to copy or grow.
struct RecentSegments {
    private var seqs: SIMD8<UInt32> = .zero
    private var lengths: SIMD8<Int32> = SIMD8(repeating: -1)
    private var hashes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var next = 0

    mutating func add(seq: UInt32, length: Int, hash: UInt64) {
        let i = next
        seqs[i] = seq
        lengths[i] = Int32(clamping: length)
        withUnsafeMutableBytes(of: &hashes) { $0.storeBytes(of: hash, toByteOffset: i &* 8, as: UInt64.self) }
        next = (i &+ 1) & 7
    }

    /// The fingerprint of the newest remembered segment with this sequence number and length.
    func hash(seq: UInt32, length: Int) -> UInt64? {
        guard length >= 0, length <= Int(Int32.max) else { return nil }
        let l = Int32(length)
        var k = 0
        while k < 8 {
            let i = (next &+ 7 &- k) & 7
            if seqs[i] == seq && lengths[i] == l {
                return withUnsafeBytes(of: hashes) { $0.load(fromByteOffset: i &* 8, as: UInt64.self) }
            }
            k &+= 1
        }
        return nil
    }
}

/// `--recv-size N`: a receiver that reads only after data has piled up (the course's
/// sleep-then-recv server) gets consecutive N-byte pieces of the stream, whatever the messages.
struct RecvView {
    var calls = 0
    /// Bytes in the current recv() result so far, a preview of them, and the message boundaries in it.
    var filled = 0
    var preview: [UInt8] = []
    var boundaries = 0
    var firstMessage = 0
    var startsMidMessage = false
    /// Where the first and the last message that end in the current result end, from its start
    /// (-1: none does).
    var firstEnd = -1
    var lastEnd = -1
    /// Bytes of the stream since the last message boundary (a message in progress).
    var sinceBoundary = 0

    mutating func add(_ bytes: UnsafeRawBufferPointer, n: Int, message: Int, spans: [MessageSpan], into notes: inout [Note]) {
        // Message ends inside these bytes, as offsets from their start.
        var ends: [Int] = []
        var pos = 0
        for s in spans {
            pos += s.to - s.from
            if s.completes { ends.append(pos) }
        }
        var i = 0
        var e = 0
        var completedBefore = message - ends.count
        while i < bytes.count {
            if filled == 0 {
                firstMessage = completedBefore + 1
                boundaries = 0
                firstEnd = -1
                lastEnd = -1
                startsMidMessage = sinceBoundary > 0
                preview.removeAll(keepingCapacity: true)
            }
            let take = min(n - filled, bytes.count - i)
            if preview.count < 40 { preview.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i ..< i + min(take, 40 - preview.count)])) }
            while e < ends.count && ends[e] <= i + take {
                if ends[e] < i + take || i + take == bytes.count { boundaries += 1 }
                lastEnd = filled + ends[e] - i
                if firstEnd < 0 { firstEnd = lastEnd }
                sinceBoundary = -(ends[e] - i)
                completedBefore += 1
                e += 1
            }
            sinceBoundary += take
            filled += take
            i += take
            if filled == n { emit(n: n, lastMessage: completedBefore, into: &notes) }
        }
    }

    mutating func skip(_ count: Int) {
        filled = 0
        sinceBoundary = 0
        preview.removeAll(keepingCapacity: true)
    }

    mutating func emit(n: Int, lastMessage: Int, into notes: inout [Note]) {
        calls += 1
        var text = "recv(\(n)) #\(calls) → \(filled) B \""
        for b in preview {
            switch b {
            case 10: text += "\\n"
            case 13: text += "\\r"
            case 0x20 ..< 0x7F where b != 34 && b != 92: text.unicodeScalars.append(UnicodeScalar(b))
            default: text += "."
            }
        }
        if filled > preview.count { text += "…" }
        text += "\""
        let touched = max(lastMessage - firstMessage + 1, 1)
        // Bytes after the last message that ends here: the start of the next message, read by the same call.
        let tail = lastEnd >= 0 ? filled - lastEnd : 0
        let partial = tail > 0 ? "the first \(tail) B of #\(lastMessage + 1)" : ""
        // The first message began in an earlier result: only its end is here.
        let head = startsMidMessage && firstEnd > 0 ? "the last \(firstEnd) B of #\(firstMessage)" : ""
        if touched > 1 || boundaries > 1 {
            text += " (\(touched) messages glued: #\(firstMessage)–#\(firstMessage + touched - 1)"
            if !head.isEmpty { text += ", starting with " + head }
            text += partial.isEmpty ? ")" : ", and " + partial + ")"
        } else if !partial.isEmpty {
            text += " (" + (head.isEmpty ? "#\(lastMessage)" : head) + " and " + partial + ")"
        }
        notes.append(Note(kind: .recv, text: text))
        filled = 0
    }
}

/// Message note texts (analysis decides what a segment carries; this says it in words).
public enum MessageNotes {
    /// Segment numbers listed for one message, at most (then `,…`). (A computed constant: a
    /// stored one would be a lazily initialized global where formatters inline this.)
    @inlinable static var maxFramesListed: Int { 64 }

    public static func note(_ d: FramedDetail) -> Note {
        Note(kind: kind(of: d), framed: d)
    }

    /// `sticky` (parts of two or more messages: 粘包), `message` (exactly one, whole), else
    /// `split` (part of one message: 半包).
    static func kind(of d: FramedDetail) -> Note.Kind {
        let n = d.storedSpans.count
        if n >= 2 { return .sticky }
        return n == 1 && d.storedSpans[0].isWhole ? .message : .split
    }

    /// Fills in part counts and lengths learned later (`resolutions`), and rewrites the text.
    public static func resolve(_ n: inout Note, _ lookup: (Int) -> (parts: Int, length: Int?)?) {
        guard n.framed?.isPending == true else { return }
        // A note is a value: a detail another note (or the analyzer) shares is copied first.
        if !isKnownUniquelyReferenced(&n.framed) { n.framed = n.framed?.copy() }
        guard let d = n.framed else { return }
        for i in d.storedSpans.indices {
            guard let id = d.storedSpans[i].pendingID else { continue }
            if let r = lookup(id) {
                d.storedSpans[i].parts = r.length == nil ? nil : r.parts
                if d.storedSpans[i].length == nil { d.storedSpans[i].length = r.length }
            }
            d.storedSpans[i].pendingID = nil
        }
        n.framed = d
    }

    /// The note in words (as a String; formatters use `write` into their buffers).
    public static func text(_ d: FramedDetail) -> String {
        var sink = StringSink()
        write(d, to: &sink)
        return sink.value
    }

    @inlinable
    static func range<S: NoteTextSink>(_ b: UnsafeBufferPointer<MessageSpan>, _ i: Int, _ o: inout S) {
        // (Fields are read in place: a copy of the span would retain its extras.)
        o.lit("bytes "); o.num(b[i].from); o.lit("–"); o.num(max(b[i].to - 1, b[i].from))
        if let l = b[i].length { o.lit(" of "); o.num(l) } else if let id = b[i].pendingID { o.pending(id, .length) }
        o.lit(" (part "); o.num(b[i].part)
        if let p = b[i].parts { o.lit("/"); o.num(p) } else if let id = b[i].pendingID { o.pending(id, .parts) }
        o.lit(")")
    }

    @inlinable
    static func frames<S: NoteTextSink>(_ b: UnsafeBufferPointer<MessageSpan>, _ i: Int, _ o: inout S) {
        guard let x = b[i].extras else { return }
        var first = true
        for f in x.frames {
            if !first { o.lit(",") }
            first = false
            o.num(f)
        }
        if x.frames.count >= maxFramesListed { o.lit(",…") }
    }

    @inlinable
    static func extras<S: NoteTextSink>(_ b: UnsafeBufferPointer<MessageSpan>, _ i: Int, _ o: inout S) {
        if b[i].extras != nil, let h = b[i].jsonHeader { o.lit(" header "); o.str(h) }
    }

    /// Writes the note's words: `msg #4 (23 B)`, `sticky: 3 messages (#4–#6)`,
    /// `split: msg #7 bytes 0–1447 of 3000 (part 1/3)`, `split: end of #3 + #4 + start of #5 (…)`.
    @inlinable
    public static func write<S: NoteTextSink>(_ d: FramedDetail, to o: inout S) {
        // Spans are read in place (no copies of them).
        d.withSpans { spans in write(spans, to: &o) }
    }

    /// `write(_:to:)` for spans read in place (`FramedDetail.withSpans`).
    @inlinable
    public static func write<S: NoteTextSink>(_ spans: UnsafeBufferPointer<MessageSpan>, to o: inout S) {
        let n = spans.count
        guard n > 0 else { return }
        if n == 1 {
            if spans[0].isWhole {
                o.lit("msg #"); o.num(spans[0].message); o.lit(" ("); o.num(spans[0].to); o.lit(" B)")
                extras(spans, 0, &o)
                return
            }
            o.lit("split: msg #"); o.num(spans[0].message); o.lit(" "); range(spans, 0, &o)
            if !spans[0].completes { extras(spans, 0, &o) }
            if spans[0].completes && spans[0].part > 1 {
                o.lit(", msg #"); o.num(spans[0].message); o.lit(" complete in segments "); frames(spans, 0, &o)
                extras(spans, 0, &o)
            }
            return
        }
        var whole = 0
        for i in 0 ..< n where spans[i].isWhole { whole += 1 }
        if whole == n {
            o.lit("sticky: "); o.num(n); o.lit(" messages (#"); o.num(spans[0].message)
            o.lit("–#"); o.num(spans[n - 1].message); o.lit(")")
            if n <= 4 {
                o.lit(": ")
                for i in 0 ..< n {
                    if i > 0 { o.lit(", ") }
                    o.lit("#"); o.num(spans[i].message); o.lit(" "); o.num(spans[i].to); o.lit(" B")
                    extras(spans, i, &o)
                }
            }
            return
        }
        // Parts of two or more messages in one segment: sticky (粘包), whole or not.
        o.lit("sticky: ")
        var runStart = 0, runEnd = 0
        var inRun = false
        var firstPiece = true
        func sep(_ o: inout S) { if !firstPiece { o.lit(" + ") }; firstPiece = false }
        func closeRun(_ o: inout S) {
            guard inRun else { return }
            sep(&o)
            o.lit("#"); o.num(runStart)
            if runEnd != runStart { o.lit("–#"); o.num(runEnd) }
            inRun = false
        }
        for i in 0 ..< n {
            if spans[i].isWhole {
                if inRun { runEnd = spans[i].message } else { runStart = spans[i].message; runEnd = spans[i].message; inRun = true }
                continue
            }
            closeRun(&o)
            sep(&o)
            if spans[i].completes { o.lit("end of #") } else if spans[i].from == 0 { o.lit("start of #") } else { o.lit("part of #") }
            o.num(spans[i].message)
        }
        closeRun(&o)
        var tails = false
        for i in 0 ..< n where !spans[i].isWhole {
            if tails { o.lit("; ") } else { o.lit(" (") }
            tails = true
            o.lit("#"); o.num(spans[i].message)
            if spans[i].completes {
                o.lit(" complete in segments "); frames(spans, i, &o)
            } else {
                o.lit(" "); range(spans, i, &o)
            }
        }
        if tails { o.lit(")") }
    }
}

/// What a split message's first parts do not know yet: how many parts, and (line framing) its length.
public enum PendingField: Sendable {
    case parts, length
}

/// Where a message note's words go: a String, or a formatter's byte buffer. `pending` marks where
/// a value known only later belongs (a buffer can fill it in before writing the line out).
public protocol NoteTextSink {
    mutating func lit(_ s: StaticString)
    mutating func str(_ s: String)
    mutating func num(_ n: Int)
    mutating func pending(_ id: Int, _ field: PendingField)
}

public struct StringSink: NoteTextSink {
    public var value = ""
    public init() {}
    public mutating func pending(_ id: Int, _ field: PendingField) {}
    public mutating func lit(_ s: StaticString) { value += s.description }
    public mutating func str(_ s: String) { value += s }
    public mutating func num(_ n: Int) { value += String(n) }
}
