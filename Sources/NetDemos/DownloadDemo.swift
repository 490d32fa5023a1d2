import NetOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// download — TCP file download: the client sends a file name (one line), the server answers with
/// a status line (`OK SIZE` or `ERR message`), then the file's bytes, and closes; the client reads
/// until recv() returns 0.
///
/// The server serves one directory only (by default a temporary one it creates with a few sample
/// files; `--dir` to choose): absolute paths and `..` are refused, and the name is resolved with
/// realpath() and must still lie inside the directory, so symlinks pointing out of it are refused too.
public enum DownloadDemo {
    public static let defaultPort: UInt16 = 9006

    /// The files of the default directory.
    public static let sampleFiles: [(name: String, bytes: [UInt8])] = [
        ("hello.txt", Array("Hello from the netinspect download demo!\n".utf8)),
        ("numbers.txt", Array((1 ... 2000).map { "\($0)\n" }.joined().utf8)),
        ("data.bin", (0 ..< 16384).map { UInt8($0 & 0xFF) }),
    ]
    /// A symlink in the default directory that points out of it (asking for it is refused).
    public static let sampleLink = (name: "passwd-link", target: "/etc/passwd")

    /// Longest request line the server reads.
    public static let nameLimit = 4096

    public struct Options: Sendable {
        public var common = DemoOptions()
        /// The file name the client asks for.
        public var file = "hello.txt"
        /// The directory the server serves; nil: a temporary one with `sampleFiles`.
        public var dir: String?
        /// Where the client saves what it downloaded (never overwrites); nil: not saved.
        public var output: String?
        public init() {}
    }

    public struct Result: Sendable {
        /// The bytes the client downloaded (nil if refused or cut short).
        public var data: [UInt8]?
        /// The server's error message, as the client received it.
        public var refusal: String?
        /// The name the server was asked for.
        public var requested: String?
        public var transcript: [String] = []
    }

    public static func run(_ o: Options) throws(DemoError) -> Result {
        let t = DemoTranscript(echo: o.common.echoTranscript, language: o.common.language)
        DemoRunner.warnIfNotLoopback(o.common.host, t)
        var result = Result()
        let (served, got) = try DemoRunner.tcp(o.common, defaultPort: defaultPort, t,
                                               server: { (l) throws(DemoError) in try serve(l, o, t) },
                                               client: { (a) throws(DemoError) in try client(a, o, t) })
        if let served { result.requested = served }
        if let got { (result.data, result.refusal) = got }
        result.transcript = t.all
        return result
    }

    // MARK: - Which file a name means

    /// The real path of `name` inside `root`, or the reason it is refused.
    public static func resolve(_ name: String, in root: String) -> Swift.Result<String, RefusedName> {
        if name.isEmpty { return .failure(RefusedName("empty file name")) }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return .failure(RefusedName("control characters in the file name"))
        }
        if name.hasPrefix("/") { return .failure(RefusedName("absolute paths are refused: this server serves one directory only")) }
        if name.split(separator: "/", omittingEmptySubsequences: true).contains("..") {
            return .failure(RefusedName("'..' is refused: this server serves one directory only"))
        }
        guard let realRoot = realPath(root) else { return .failure(RefusedName("the served directory is missing")) }
        guard let real = realPath(realRoot + "/" + name) else {
            return .failure(RefusedName("no such file: \(name)"))
        }
        if real == realRoot { return .failure(RefusedName("\(name) is the served directory itself, not a file")) }
        let inside = realRoot == "/" ? "/" : realRoot + "/"
        guard real.hasPrefix(inside) else {
            return .failure(RefusedName("\(name) leads outside the served directory (a symlink?): refused"))
        }
        var st = stat()
        guard stat(real, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            return .failure(RefusedName("\(name) is not a regular file"))
        }
        return .success(real)
    }

    public struct RefusedName: Error, Sendable, Equatable {
        public var message: String
        init(_ m: String) { message = m }
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    // MARK: - The server

    static func serve(_ listener: TCPListener, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> String? {
        var temp: DemoDirectory?
        defer { temp?.remove() }
        let root: String
        if let dir = o.dir {
            guard realPath(dir) != nil else { throw DemoError("--dir \(dir): no such directory") }
            root = dir
        } else {
            temp = try DemoDirectory(prefix: "netinspect-download", files: sampleFiles.map { ($0.name, $0.bytes) },
                                     links: [(sampleLink.name, sampleLink.target)])
            root = temp!.path
        }
        let listing = DemoDirectory.listing(root).split(separator: "\n").joined(separator: ", ")
        t.say("server", t.words(.dlServing, ["root": "\(root)", "listing": listing.isEmpty ? t.words(.dlEmpty) : listing]))
        guard let conn = try listener.accept(timeout: o.common.timeout, connectionTimeout: o.common.timeout) else {
            t.say("server", t.words(.demoNoClient, ["s": "\(Int(o.common.timeout))"]))
            return nil
        }
        t.say("server", t.words(.demoAccepted, ["peer": "\(conn.peer)"]))
        var line: [UInt8] = []
        while !line.contains(10) && line.count <= nameLimit {
            guard let chunk = try conn.receive(max: nameLimit + 1 - line.count) else {
                t.say("server", t.words(.dlNameTimeout))
                conn.close()
                return nil
            }
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let nl = line.firstIndex(of: 10) else {
            let why = line.isEmpty ? "the client closed without asking for a file" : "no complete name line within \(nameLimit) bytes"
            t.say("server", line.isEmpty ? t.words(.dlClosedWithoutAsking) : t.words(.dlNoNameLine, ["n": "\(nameLimit)"]))
            try? conn.send(Array("ERR \(why)\n".utf8))
            conn.close()
            return nil
        }
        var nameBytes = Array(line[..<nl])
        if nameBytes.last == 13 { nameBytes.removeLast() }
        let name = String(decoding: nameBytes, as: UTF8.self)
        t.say("server", t.words(.dlFileName, ["name": DemoTranscript.show(nameBytes)]))
        switch resolve(name, in: root) {
        case .failure(let refused):
            let msg = Array("ERR \(refused.message)\n".utf8)
            let sentAt = DemoClock.now()
            try conn.send(msg)
            t.say("server", t.words(.dlRefused, ["n": "\(msg.count)", "msg": DemoTranscript.show(msg)]), at: sentAt)
        case .success(let path):
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            var st = stat()
            guard fd >= 0, fstat(fd, &st) == 0 else {
                if fd >= 0 { close(fd) }
                let msg = Array("ERR \(name) cannot be opened\n".utf8)
                let sentAt = DemoClock.now()
                try conn.send(msg)
                t.say("server", t.words(.dlOpenFailed, ["msg": DemoTranscript.show(msg)]), at: sentAt)
                conn.close()
                return name
            }
            defer { close(fd) }
            let status = Array("OK \(st.st_size)\n".utf8)
            let sentAt = DemoClock.now()
            try conn.send(status)
            t.say("server", t.words(.dlStatus, ["status": DemoTranscript.show(status)]), at: sentAt)
            var sent = 0, calls = 0
            // The line tells of the send() calls: it goes out at the first one's time.
            let fileAt = DemoClock.now()
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                try conn.send(Array(buf.prefix(n)))
                sent += n
                calls += 1
            }
            t.say("server", t.words(.dlSentFile, ["b": "\(sent)", "k": "\(calls)"]), at: fileAt)
        }
        conn.close()
        return name
    }

    // MARK: - The client

    static func client(_ address: SocketAddress, _ o: Options, _ t: DemoTranscript) throws(DemoError) -> ([UInt8]?, String?) {
        let conn = try TCPConnection.connect(to: address, timeout: o.common.timeout)
        t.say("client", t.words(.demoConnected, ["address": "\(address)"]))
        let request = Array((o.file + "\n").utf8)
        let sentAt = DemoClock.now()
        try conn.send(request)
        t.say("client", t.words(.demoSent, ["n": "\(request.count)", "bytes": DemoTranscript.show(request)]), at: sentAt)
        var all: [UInt8] = []
        var calls = 0
        var ended = false
        while true {
            guard let chunk = try conn.receive() else {
                t.say("client", t.words(.dlRecvTimeout, ["s": "\(Int(o.common.timeout))"]))
                break
            }
            if chunk.isEmpty { ended = true; break }
            calls += 1
            if calls <= 3 { t.say("client", t.words(.demoRecvReturned, ["n": "\(chunk.count)", "bytes": DemoTranscript.show(chunk, limit: 48)])) }
            all += chunk
        }
        if calls > 3 { t.say("client", t.words(.dlRecvMany, ["k": "\(calls)", "b": "\(all.count)"])) }
        t.say("client", t.words(ended ? .dlEndOfFile : .dlClose))
        conn.close()
        guard let nl = all.firstIndex(of: 10) else {
            t.say("client", t.words(.dlNoStatus))
            return (nil, nil)
        }
        let status = String(decoding: all[..<nl], as: UTF8.self)
        let body = Array(all[(nl + 1)...])
        if status.hasPrefix("ERR ") {
            let msg = String(status.dropFirst(4))
            t.say("client", t.words(.dlServerRefused, ["msg": msg]))
            return (nil, msg)
        }
        guard status.hasPrefix("OK "), let size = Int(status.dropFirst(3)) else {
            t.say("client", t.words(.dlUnexpected, ["status": DemoTranscript.show(Array(all[..<nl]))]))
            return (nil, nil)
        }
        guard body.count == size, ended else {
            t.say("client", t.words(.dlIncomplete, ["k": "\(body.count)", "n": "\(size)"]))
            return (nil, nil)
        }
        t.say("client", t.words(.dlDownloaded, ["file": o.file, "n": "\(size)"]))
        if let out = o.output {
            guard writeWholeFile(out, body) else { throw DemoError.errno("--output \(out) (an existing file is never overwritten)") }
            t.say("client", t.words(.dlSaved, ["out": out]))
        }
        return (body, nil)
    }
}
