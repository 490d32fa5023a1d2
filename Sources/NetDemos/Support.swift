import NetAnalysis
import NetCapture
import NetOutput
import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which side(s) of a demo this process runs.
public enum DemoRole: String, Sendable, CaseIterable {
    /// Server and client in one process on 127.0.0.1 (the default).
    case both
    case server
    case client
}

/// Options every demo has.
public struct DemoOptions: Sendable {
    public var role: DemoRole = .both
    /// Numeric address; 127.0.0.1 by default (::1 works too).
    public var host = "127.0.0.1"
    /// nil = the demo's default port; 0 = any free port (the tests use this; the client is told which).
    public var port: UInt16?
    /// Seconds any single wait may take before the demo gives up (demos always end by themselves).
    public var timeout: Double = 10
    /// Record the demo's own traffic on the loopback interface into this pcap.
    public var captureFile: String?
    /// Print netinspect's view of the demo's traffic while it runs.
    public var inspect = false
    /// Print the transcript (tests turn this off and read `DemoTranscript` instead).
    public var echoTranscript = true
    /// `--inspect`: a sentence under each annotated [wire] line (`--no-explain` turns it off).
    public var explain = true
    /// `--lang`: the language of the explanations, the notes and the narration.
    public var language: Language = .en

    public init() {}

    /// The port to bind or connect to: the one given, or the demo's default.
    public func port(default d: UInt16) -> UInt16 { port ?? d }
}

/// What the application saw, line by line ("server: recv() returned 10 bytes: \"helloworld\"").
/// Printed as it happens (unless turned off) and kept for tests. Thread-safe.
public final class DemoTranscript: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var lines: [String] = []
    private let echo: Bool

    /// `--lang`: the narration's words (`words(_:_:)`) and the sides' names.
    public let catalog: Catalog

    public init(echo: Bool, language: Language = .en) {
        self.echo = echo
        catalog = Catalog.of(language)
        if echo { DemoConsole.shared.catalog = catalog }
        pthread_mutex_init(&lock, nil)
    }

    /// A phrase of the narration in the transcript's language.
    public func words(_ p: Phrase, _ values: [String: String] = [:]) -> String { catalog.text(p, values) }

    /// The name of a side in the transcript's language.
    func label(_ who: String) -> String {
        switch who {
        case "server": return catalog[.server]
        case "client": return catalog[.client]
        case "summary": return catalog[.whoSummary]
        case "warning": return catalog[.whoWarning]
        case "clients": return catalog[.whoClients]
        case "chat": return catalog[.whoChat]
        default:
            // "client #2"
            if who.hasPrefix("client #") { return catalog[.client] + " " + who.dropFirst(7) }
            return who
        }
    }

    deinit { pthread_mutex_destroy(&lock) }

    /// `at`: when it happened (`DemoClock.now()` taken before the call the line reports, as for
    /// a send(): its segment is on the wire before the call returns); by default now. The line is
    /// printed in time order with the other side's lines and the `[wire]` lines (`DemoConsole`).
    public func say(_ who: String, _ text: String, at: Int? = nil) {
        let line = "\(label(who)): \(text)"
        let time = at ?? DemoClock.now()
        pthread_mutex_lock(&lock)
        lines.append(line)
        pthread_mutex_unlock(&lock)
        if echo { DemoConsole.shared.submit(line, at: time, who: who) }
    }

    public var all: [String] {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return lines
    }

    /// Bytes shown the way a learner reads them: printable ASCII as is, the rest escaped.
    public static func show(_ bytes: [UInt8], limit: Int = 80) -> String {
        var s = "\""
        for b in bytes.prefix(limit) {
            switch b {
            case 10: s += "\\n"
            case 13: s += "\\r"
            case 9: s += "\\t"
            case 34: s += "\\\""
            case 92: s += "\\\\"
            case 0x20 ..< 0x7F: s.append(Character(UnicodeScalar(b)))
            default:
                let hex = Array("0123456789abcdef")
                s += "\\x" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        s += "\""
        if bytes.count > limit { s += "… (\(bytes.count) bytes)" }
        return s
    }
}

/// `1 send() call`, `2 send() calls`: a count with its noun, plural when it is not 1.
public func counted(_ n: Int, _ noun: String) -> String {
    "\(n) \(noun)\(n == 1 ? "" : "s")"
}

/// The clock of the transcript and of the captured packets (CLOCK_REALTIME, nanoseconds).
public enum DemoClock {
    public static func now() -> Int {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int(t.tv_sec) &* 1_000_000_000 &+ Int(t.tv_nsec)
    }
}

/// Standard output of the demos: the client's and the server's lines and the `[wire]` lines on
/// one clock, printed in time order. Lines wait `hold` nanoseconds (the capture thread's lines
/// come a little after the packets' times), then go out sorted; `drain()` writes the rest.
/// A run of lines from one side that differ only in their `#numbers` (repeated `recv(32)`
/// results) is written once, then counted: `server: … (the same 5 more times: #4–#8)`.
public final class DemoConsole: @unchecked Sendable {
    public static let shared = DemoConsole()

    struct Entry {
        var time: Int
        var order: Int
        var text: String
        var who: String?
    }

    private var lock = pthread_mutex_t()
    private var pending: [Entry] = []
    private var order = 0
    private var flusher: DemoThread?
    private var running = false
    /// How long a line waits for earlier ones (ns).
    public var hold = 150_000_000
    /// The words of the collapsed runs (the transcript's language).
    public var catalog = Catalog.english
    // The run being collapsed: its shape, the numbers of its repeats, the line that started it.
    private var runShape: String?
    private var runWho: String?
    private var runFirst = ""
    private var runNumbers: [String] = []
    private var runCount = 0

    init() { pthread_mutex_init(&lock, nil) }

    /// A line (`who` for transcript lines: runs are collapsed per side; nil for [wire] lines).
    public func submit(_ text: String, at time: Int, who: String? = nil) {
        pthread_mutex_lock(&lock)
        pending.append(Entry(time: time, order: order, text: text, who: who))
        order &+= 1
        if !running {
            running = true
            flusher = DemoThread { [self] in self.loop() }
        }
        pthread_mutex_unlock(&lock)
    }

    private func loop() {
        while true {
            usleep(50_000)
            pthread_mutex_lock(&lock)
            let stop = pending.isEmpty
            if stop { running = false; flushRun() }
            emit(before: DemoClock.now() - hold)
            pthread_mutex_unlock(&lock)
            if stop { return }
        }
    }

    /// Writes every line now, in time order.
    public func drain() {
        pthread_mutex_lock(&lock)
        emit(before: Int.max)
        flushRun()
        let thread = flusher
        pthread_mutex_unlock(&lock)
        _ = thread
    }

    /// (Lock held.)
    private func emit(before limit: Int) {
        guard !pending.isEmpty else { return }
        pending.sort { $0.time != $1.time ? $0.time < $1.time : $0.order < $1.order }
        var k = 0
        while k < pending.count, pending[k].time < limit {
            put(pending[k])
            k += 1
        }
        pending.removeFirst(k)
    }

    /// `text` with each `#digits` as `#`, and the numbers taken out.
    static func shape(_ text: String) -> (String, [String]) {
        var out = ""
        var numbers: [String] = []
        var digits = ""
        var afterHash = false
        for ch in text {
            if afterHash, ch.isASCII, ch.isNumber { digits.append(ch); continue }
            if afterHash && !digits.isEmpty { numbers.append(digits) }
            digits = ""
            afterHash = ch == "#"
            out.append(ch)
        }
        if afterHash && !digits.isEmpty { numbers.append(digits) }
        return (out, numbers)
    }

    private func put(_ e: Entry) {
        guard let who = e.who else {
            flushRun()
            write(e.text)
            return
        }
        let (shape, numbers) = Self.shape(e.text)
        if who == runWho, shape == runShape {
            runCount += 1
            if let n = numbers.first { runNumbers.append(n) }
            return
        }
        flushRun()
        write(e.text)
        runShape = shape
        runWho = who
        runFirst = e.text
    }

    private func flushRun() {
        if runCount > 0 {
            let range = runNumbers.isEmpty ? ""
                : runNumbers.count > 1 ? " (#\(runNumbers[0])–#\(runNumbers[runNumbers.count - 1]))" : " (#\(runNumbers[0]))"
            // The line's side as it was printed (the text up to its first ": ").
            let who = runFirst.split(separator: ":", maxSplits: 1).first.map(String.init) ?? (runWho ?? "")
            write("\(who): " + catalog.text(.consoleSameAgain, ["k": "\(runCount)", "range": range]))
        }
        runShape = nil
        runWho = nil
        runCount = 0
        runNumbers = []
    }

    private func write(_ text: String) {
        var out = text + "\n"
        out.withUTF8 { _ = Glibc.write(1, $0.baseAddress, $0.count) }
    }
}

/// Runs `body` on a new thread; `join()` waits for it.
public final class DemoThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let box: Box

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    public init(_ body: @escaping () -> Void) {
        box = Box(body)
        let unmanaged = Unmanaged.passRetained(box)
        pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            let b = Unmanaged<Box>.fromOpaque(arg).takeRetainedValue()
            b.body()
            return nil
        }, unmanaged.toOpaque())
    }

    public func join() { pthread_join(thread, nil) }
}

/// `--capture FILE` / `--inspect`: captures the demo's own traffic on the loopback interface
/// (filtered to its ports) on a background thread while the demo runs.
public final class DemoCapture: @unchecked Sendable {
    private let source: CaptureSource
    private let writer: CaptureWriter?
    private let inspect: Bool
    private var thread: DemoThread?
    public private(set) var packets = 0

    /// Opens `lo` with a filter for `ports`; throws a clear message without capture rights.
    /// `dnsPorts`: ports whose UDP traffic `--inspect` shows as DNS (the dns demo off port 53).
    public init(ports: [UInt16], file: String?, inspect: Bool, dnsPorts: [UInt16] = [],
                explainer: Explainer? = nil, language: Language = .en) throws(DemoError) {
        self.explainer = explainer
        self.language = language
        do {
            var o = LiveOptions()
            o.immediate = true
            // Immediate mode hands over each packet in its own ring block; a roomy ring keeps a burst
            // of small segments from being dropped while this thread writes the file.
            o.bufferKiB = 32 * 1024
            let src = try CaptureSource.open(interface: "lo", options: o)
            try src.setFilter(ports.map { "port \($0)" }.joined(separator: " or "))
            source = src
            if let file {
                writer = try CaptureWriter(path: file, for: src)
            } else {
                writer = nil
            }
        } catch {
            throw DemoError("--capture/--inspect: \(error.message)")
        }
        self.inspect = inspect
        self.dnsPorts = dnsPorts
    }

    private let dnsPorts: [UInt16]
    private let explainer: Explainer?
    private let language: Language

    public func start() {
        if inspect, let explainer { DemoConsole.shared.submit(explainer.catalog[.demoExplainHint], at: DemoClock.now()) }
        thread = DemoThread { [self] in self.loop() }
        usleep(200_000)  // let the capture get going before the demo's first packet
    }

    private func loop() {
        // The same decoding and analysis as `-r` and `-i` (message framing with the demos' default
        // ports): --inspect shows the notes those show.
        var configuration = AnalysisConfiguration()
        configuration.verifyChecksums = false
        configuration.dnsPorts = dnsPorts
        var pipeline = FramePipeline(configuration)
        var text = TextFormatter(options: {
            var o = TextOptions()
            o.numeric = true
            o.timestamps = .sinceFirst
            return o
        }())
        text.language = language
        var out = OutputBuffer(fd: -1, capacity: 1 << 14)
        let link = LinkType(rawValue: source.linkType)
        while true {
            switch source.next() {
            case .packet(_, let record):
                packets += 1
                writer?.write(record)
                if inspect {
                    let flow = pipeline.analyze(FrameInfo(frame: packets, seconds: record.seconds, nanoseconds: record.nanoseconds,
                                                          bytes: record.bytes, wireLength: record.wireLength), linkType: link)
                    out.ascii("  [wire] ")
                    text.format(seconds: record.seconds, nanoseconds: record.nanoseconds, packet: pipeline.packet, notes: pipeline.notes,
                                flow: flow, linkName: source.linkTypeName, into: &out)
                    if let explainer {
                        let p = pipeline.packet
                        let tso = p.lengthFromCapture || p.innerLengthFromCapture
                        if !pipeline.notes.isEmpty || tso { explainer.write(pipeline.notes, tso: tso, into: &out) }
                    }
                    // On the transcript's clock, in time order with the client's and server's lines.
                    var line = out.takeString()
                    if line.hasSuffix("\n") { line.removeLast() }
                    DemoConsole.shared.submit(line, at: record.seconds &* 1_000_000_000 &+ record.nanoseconds)
                }
            case .end:
                writer?.close()
                return
            }
        }
    }

    /// Stops after the packets the kernel already holds, and closes the file.
    public func stop() {
        usleep(300_000)  // the last ACKs and FINs
        source.breakLoop()
        thread?.join()
        writer?.close()
        DemoConsole.shared.drain()
    }
}

/// Shared scaffolding: warns about non-loopback hosts, sets up capture, runs server and client
/// (both on threads in all-in-one mode), and tears the capture down.
public enum DemoRunner {
    public static func warnIfNotLoopback(_ host: String, _ t: DemoTranscript) {
        if let a = try? SocketAddress(host: host, port: 0), !a.isLoopback {
            t.say("warning", t.words(.demoNotLoopback, ["host": host]))
        }
    }

    /// All-in-one mode: `server` on a thread, `client` on this one; waits for both and returns both
    /// results (or the first error).
    public static func both<S, C>(server: @escaping () throws(DemoError) -> S,
                                  client: () throws(DemoError) -> C) throws(DemoError) -> (S, C) {
        nonisolated(unsafe) var serverResult: Result<S, DemoError>?
        let thread = DemoThread {
            do throws(DemoError) { serverResult = .success(try server()) } catch { serverResult = .failure(error) }
        }
        let clientResult: Result<C, DemoError>
        do throws(DemoError) { clientResult = .success(try client()) } catch { clientResult = .failure(error) }
        thread.join()
        let c = try clientResult.get()
        guard let s = serverResult else { throw DemoError("server thread ended without a result") }
        return (try s.get(), c)
    }

    /// The three roles of a TCP demo: `--server` listens and serves, `--client` connects, all-in-one
    /// does both (server on a thread); --capture/--inspect run around it and are stopped even when a
    /// side fails. Returns what the server and the client returned (nil for the side not run).
    public static func tcp<S, C>(_ o: DemoOptions, defaultPort: UInt16, _ t: DemoTranscript,
                                 server: @escaping (TCPListener) throws(DemoError) -> S,
                                 client: @escaping (SocketAddress) throws(DemoError) -> C) throws(DemoError) -> (S?, C?) {
        let port = o.port(default: defaultPort)
        switch o.role {
        case .server:
            let listener = try TCPListener(host: o.host, port: port)
            t.say("server", t.words(.demoListening, ["address": "\(listener.address)"]))
            let capture = try startCapture(o, ports: [listener.address.port])
            defer { capture?.stop() }
            return (try server(listener), nil)
        case .client:
            let address = try SocketAddress(host: o.host, port: port)
            let capture = try startCapture(o, ports: [address.port])
            defer { capture?.stop() }
            return (nil, try client(address))
        case .both:
            let listener = try TCPListener(host: o.host, port: port)
            t.say("server", t.words(.demoListening, ["address": "\(listener.address)"]))
            let capture = try startCapture(o, ports: [listener.address.port])
            defer { capture?.stop() }
            let (s, c) = try both(server: { () throws(DemoError) in try server(listener) },
                                  client: { () throws(DemoError) in try client(listener.address) })
            return (s, c)
        }
    }

    /// Starts --capture/--inspect for `ports` if asked; returns the running capture.
    public static func startCapture(_ o: DemoOptions, ports: [UInt16], dnsPorts: [UInt16] = []) throws(DemoError) -> DemoCapture? {
        guard o.captureFile != nil || o.inspect else { return nil }
        let c = try DemoCapture(ports: ports, file: o.captureFile, inspect: o.inspect, dnsPorts: dnsPorts,
                                explainer: o.inspect && o.explain ? Explainer(o.language) : nil, language: o.language)
        c.start()
        return c
    }
}
