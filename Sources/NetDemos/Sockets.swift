#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A socket problem, as one line for the learner.
public struct DemoError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The errno value behind it (ECONNRESET, EPIPE, …), when a system call failed.
    public var code: Int32?
    public init(_ message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }
    public var description: String { message }

    static func errno(_ what: String) -> DemoError {
        let e = Glibc.errno
        return DemoError("\(what): \(String(cString: strerror(e)))", code: e)
    }
}

/// An IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    /// Resolves a numeric host (`127.0.0.1`, `::1`) and port; no DNS lookups.
    public init(host: String, port: UInt16) throws(DemoError) {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let info = result else {
            throw DemoError("\(host): not a numeric IPv4 or IPv6 address")
        }
        defer { freeaddrinfo(result) }
        length = info.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
        }
    }

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    public var family: Int32 { Int32(storage.ss_family) }
    public var isLoopback: Bool {
        var s = storage
        return withUnsafeBytes(of: &s) { raw in
            if family == AF_INET { return raw[4] == 127 }
            if family == AF_INET6 { return raw[8 ..< 23].allSatisfy { $0 == 0 } && raw[23] == 1 }
            return false
        }
    }

    public var port: UInt16 {
        var s = storage
        return withUnsafeBytes(of: &s) { raw in UInt16(raw[2]) << 8 | UInt16(raw[3]) }
    }

    public var description: String {
        var s = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var serv = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let rc = withUnsafePointer(to: &s) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &serv, socklen_t(serv.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard rc == 0 else { return "?" }
        let h = String(cString: host), p = String(cString: serv)
        return family == AF_INET6 ? "[\(h)]:\(p)" : "\(h):\(p)"
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var s = storage
        return withUnsafePointer(to: &s) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
}

/// Waits until `fd` is readable (or writable); false on timeout.
func wait(_ fd: Int32, forReading: Bool = true, seconds: Double) -> Bool {
    var p = pollfd(fd: fd, events: Int16(forReading ? POLLIN : POLLOUT), revents: 0)
    let ms = Int32(max(0, min(seconds, 3600)) * 1000)
    while true {
        let rc = poll(&p, 1, ms)
        if rc < 0 && Glibc.errno == EINTR { continue }
        return rc > 0
    }
}

/// A connected TCP socket, with the calls the course teaches and a timeout on each blocking one.
public final class TCPConnection: @unchecked Sendable {
    public private(set) var fd: Int32
    public let peer: SocketAddress
    public var timeout: Double

    init(fd: Int32, peer: SocketAddress, timeout: Double) {
        self.fd = fd
        self.peer = peer
        self.timeout = timeout
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// connect() to `address`.
    public static func connect(to address: SocketAddress, timeout: Double = 10) throws(DemoError) -> TCPConnection {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DemoError.errno("socket") }
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard rc == 0 else {
            let e = DemoError.errno("connect to \(address)")
            Glibc.close(fd)
            throw e
        }
        return TCPConnection(fd: fd, peer: address, timeout: timeout)
    }

    /// send() all of `bytes`; returns how many bytes the kernel took. `more`: MSG_MORE (Linux), the
    /// kernel holds the bytes back to send them with what the next send() gives.
    @discardableResult
    public func send(_ bytes: [UInt8], more: Bool = false) throws(DemoError) -> Int {
        var off = 0
        while off < bytes.count {
            guard wait(fd, forReading: false, seconds: timeout) else { throw DemoError("send: timed out") }
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.send(fd, base + off, raw.count - off, Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0))
            }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw DemoError.errno("send")
            }
            off += n
        }
        return off
    }

    public func send(_ text: String) throws(DemoError) { try send(Array(text.utf8)) }

    /// One recv() call: what it returned (empty at end of stream), nil on timeout.
    public func receive(max: Int = 65536) throws(DemoError) -> [UInt8]? {
        guard wait(fd, seconds: timeout) else { return nil }
        var buf = [UInt8](repeating: 0, count: Swift.max(1, max))
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw DemoError.errno("recv")
            }
            return Array(buf.prefix(n))
        }
    }

    /// Reads exactly `count` bytes (several recv() calls); nil if the stream ends or times out first.
    public func receive(exactly count: Int) throws(DemoError) -> [UInt8]? {
        var out: [UInt8] = []
        while out.count < count {
            guard let chunk = try receive(max: count - out.count), !chunk.isEmpty else { return nil }
            out += chunk
        }
        return out
    }

    /// Reads up to and including `delimiter` (one byte at a time after the first chunk is not
    /// needed: data after the line stays buffered in `pending`).
    public func receiveLine(delimiter: UInt8 = 10) throws(DemoError) -> [UInt8]? {
        while true {
            if let i = pending.firstIndex(of: delimiter) {
                let line = Array(pending[...i])
                pending.removeFirst(i + 1)
                return line
            }
            guard let chunk = try receive(), !chunk.isEmpty else {
                if pending.isEmpty { return nil }
                defer { pending = [] }
                return pending
            }
            pending += chunk
        }
    }

    private var pending: [UInt8] = []

    public func setNoDelay(_ on: Bool) {
        var v: Int32 = on ? 1 : 0
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// SO_LINGER with a zero timeout: close() then sends RST instead of FIN (an abortive close).
    public func setLingerZero() {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    /// shutdown(SHUT_WR): sends FIN, the other direction stays open (half-close).
    public func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    public func close() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    /// close() the descriptor now, as exit() does to every open socket (close() above only shuts
    /// the connection down). After setLingerZero(), or with received data still unread, the kernel
    /// answers this with RST instead of FIN.
    public func closeDescriptor() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }
}

/// A listening TCP socket.
public final class TCPListener: @unchecked Sendable {
    public let fd: Int32
    public let address: SocketAddress

    /// socket(), SO_REUSEADDR (so a restarted server binds at once), bind(), listen(backlog).
    /// Port 0 picks a free port; `address.port` tells which.
    public init(host: String, port: UInt16, backlog: Int32 = 16) throws(DemoError) {
        let want = try SocketAddress(host: host, port: port)
        let fd = socket(want.family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DemoError.errno("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard want.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let e = DemoError.errno("bind \(want)")
            Glibc.close(fd)
            throw e
        }
        guard listen(fd, backlog) == 0 else {
            let e = DemoError.errno("listen")
            Glibc.close(fd)
            throw e
        }
        self.fd = fd
        var s = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &s) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        address = SocketAddress(storage: s, length: len)
    }

    deinit { Glibc.close(fd) }

    /// accept(); nil on timeout.
    public func accept(timeout: Double, connectionTimeout: Double = 10) throws(DemoError) -> TCPConnection? {
        guard wait(fd, seconds: timeout) else { return nil }
        var s = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let c = withUnsafeMutablePointer(to: &s) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &len) } }
        guard c >= 0 else { throw DemoError.errno("accept") }
        return TCPConnection(fd: c, peer: SocketAddress(storage: s, length: len), timeout: connectionTimeout)
    }
}

/// A UDP socket (sendto/recvfrom).
public final class UDPSocket: @unchecked Sendable {
    public let fd: Int32
    public let address: SocketAddress

    /// Binds `host:port` (port 0: any free port).
    public init(host: String, port: UInt16) throws(DemoError) {
        let want = try SocketAddress(host: host, port: port)
        let fd = socket(want.family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw DemoError.errno("socket") }
        guard want.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let e = DemoError.errno("bind \(want)")
            Glibc.close(fd)
            throw e
        }
        self.fd = fd
        var s = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &s) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        address = SocketAddress(storage: s, length: len)
    }

    deinit { Glibc.close(fd) }

    public func send(_ bytes: [UInt8], to: SocketAddress) throws(DemoError) {
        let n = to.withSockaddr { sa, len in bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, len) } }
        guard n >= 0 else { throw DemoError.errno("sendto \(to)") }
    }

    /// One recvfrom(): the datagram and its sender, nil on timeout.
    public func receive(timeout: Double, max: Int = 65536) throws(DemoError) -> ([UInt8], SocketAddress)? {
        guard wait(fd, seconds: timeout) else { return nil }
        var buf = [UInt8](repeating: 0, count: max)
        var s = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = withUnsafeMutablePointer(to: &s) { sp in
            sp.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                buf.withUnsafeMutableBytes { recvfrom(fd, $0.baseAddress, $0.count, 0, sa, &len) }
            }
        }
        guard n >= 0 else { throw DemoError.errno("recvfrom") }
        return (Array(buf.prefix(n)), SocketAddress(storage: s, length: len))
    }
}
