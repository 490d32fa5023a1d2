import CPcap
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A capture problem: one line for the user.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum TimestampPrecision: Sendable {
    case micro, nano
}

/// One packet as libpcap hands it over. `bytes` is only valid during the callback.
public struct PacketRecord {
    public var seconds: Int
    /// Nanoseconds within the second (files are always opened at nanosecond precision).
    public var nanoseconds: Int
    public var capturedLength: Int
    public var wireLength: Int
    public var bytes: UnsafeRawBufferPointer
}

/// How a read loop ended.
public enum ReadEnd: Sendable, Equatable {
    case endOfFile
    case stopped
    /// libpcap reported an error (for example a file that ends in the middle of a packet).
    case error(String)
}

/// A compiled BPF filter.
public final class PacketFilter {
    var program = bpf_program()
    public let expression: String

    init(handle: OpaquePointer, expression: String, netmask: UInt32 = PCAP_NETMASK_UNKNOWN) throws(CaptureError) {
        self.expression = expression
        if pcap_compile(handle, &program, expression, 1, netmask) != 0 {
            let why = String(cString: pcap_geterr(handle))
            throw CaptureError("invalid filter expression '\(expression)': \(why)")
        }
    }

    deinit { pcap_freecode(&program) }

    @inline(__always)
    func matches(_ header: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>) -> Bool {
        pcap_offline_filter(&program, header, data) != 0
    }
}

/// Settings for a live capture (tcpdump's -s, -p, -B, immediate mode).
public struct LiveOptions: Sendable {
    public var snapshotLength: Int = 262_144
    public var promiscuous: Bool = true
    /// Deliver each packet as it arrives (for a terminal). Off, the kernel hands over packets in
    /// blocks (at the latest after the read timeout), which keeps up with far higher rates: with
    /// immediate mode libpcap falls back to a ring of a few large frames.
    public var immediate: Bool = true
    /// How long the kernel may hold packets before handing them over when not immediate.
    public static let readTimeoutMilliseconds = 100
    /// Kernel buffer size in KiB (nil: libpcap's default).
    public var bufferKiB: Int?
    public init() {}
}

/// A source of packets through libpcap: a saved capture (pcap or pcapng, any size, streamed) or a
/// live interface. The only code in netinspect that touches libpcap lives in this module.
public final class CaptureSource {
    fileprivate let handle: OpaquePointer
    /// The file path or interface name.
    public let name: String
    public let isLive: Bool
    public let linkType: Int32
    /// libpcap's name for the link type, e.g. `EN10MB`, `LINUX_SLL2`.
    public let linkTypeName: String
    /// libpcap's description of the link type, e.g. `Ethernet`.
    public let linkTypeDescription: String?
    /// The precision the source's timestamps have (files: as stored; live: nanoseconds).
    public let precision: TimestampPrecision
    public let snapshotLength: Int
    @exclusivity(unchecked) private var filter: PacketFilter?
    @exclusivity(unchecked) private var framesRead = 0
    /// Set by `beginDrain()`: reads no longer wait, and "nothing there" ends the capture.
    @exclusivity(unchecked) private var draining = false

    private init(handle: OpaquePointer, name: String, isLive: Bool, precision: TimestampPrecision) {
        self.handle = handle
        self.name = name
        self.isLive = isLive
        self.precision = precision
        linkType = pcap_datalink(handle)
        linkTypeName = pcap_datalink_val_to_name(linkType).map { String(cString: $0) } ?? "DLT \(linkType)"
        linkTypeDescription = pcap_datalink_val_to_description(linkType).map { String(cString: $0) }
        snapshotLength = Int(pcap_snapshot(handle))
    }

    deinit {
        if stopFlag == stopRequest { stopFlag = nil }
        if stopHandle == handle { stopHandle = nil }
        stopRequest.deinitialize(count: 1)
        stopRequest.deallocate()
        records?.release()
        pcap_close(handle)
        fileBuffer?.deallocate()
    }

    /// Saved classic pcap files: records read in blocks by us until libpcap must take over (see
    /// `FileRecords`); nil: libpcap reads.
    @exclusivity(unchecked) private var records: FileRecords?
    /// Set by `breakLoop` and the stop signals: ends the records read without libpcap (libpcap
    /// has its own flag). Its own memory, so a signal handler can reach it without Swift runtime calls.
    private let stopRequest: UnsafeMutablePointer<Atomic<Bool>> = {
        let p = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
        p.initialize(to: Atomic(false))
        return p
    }()

    /// Opens a saved capture ('-' is standard input). `blockReads` false: libpcap reads every
    /// record (to compare the two readers).
    public static func open(file path: String, blockReads: Bool = true) throws(CaptureError) -> CaptureSource {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        if path == "-" {
            guard let h = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
                throw CaptureError("\(path): \(Self.string(errbuf))")
            }
            return CaptureSource(handle: h, name: path, isLive: false, precision: .micro)
        }
        // libpcap reads a file with fread(); stdio's default buffer is one 4 KiB block, so a large
        // capture costs a read(2) per 4 KiB. We open the file ourselves and give it a larger buffer
        // (1 MiB; 64 KiB when `FileRecords` reads the records), then hand the stream to libpcap,
        // which closes it.
        guard let fp = fopen(path, "rb") else {
            throw CaptureError("\(path): \(String(cString: strerror(errno)))")
        }
        // The file's own timestamp precision, from its first bytes, read without moving the stream
        // (a pipe or FIFO cannot be read twice: it is taken as microseconds).
        var head = [UInt8](repeating: 0, count: 4096)
        let got = head.withUnsafeMutableBytes { pread(fileno(fp), $0.baseAddress, $0.count, 0) }
        let precision = got > 0 ? FilePrecisionSniffer.precision(ofHeader: Array(head.prefix(got))) : .micro
        // Files read in blocks (`FileRecords`) need stdio only after a hand-over: a smaller buffer.
        let blocks = blockReads && FileRecords.scale(ofHeader: Array(head.prefix(max(got, 0)))) != nil
        let bufferSize = blocks ? Self.fileBufferSize / 16 : Self.fileBufferSize
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bufferSize)
        setvbuf(fp, buffer, _IOFBF, bufferSize)
        #if os(Linux)
        _ = posix_fadvise(fileno(fp), 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        guard let h = pcap_fopen_offline_with_tstamp_precision(fp, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            // libpcap leaves a stream it could not read open for its caller.
            fclose(fp)
            buffer.deallocate()
            throw CaptureError("\(path): \(Self.string(errbuf))")
        }
        let source = CaptureSource(handle: h, name: path, isLive: false, precision: precision)
        source.fileBuffer = buffer
        if blocks {
            source.records = FileRecords(fd: fileno(fp), header: Array(head.prefix(24)), startOffset: Int64(ftello(fp)),
                                         snapshot: source.snapshotLength)
        }
        return source
    }

    /// The stdio buffer of a saved capture's stream (freed after `pcap_close` closed the stream).
    private var fileBuffer: UnsafeMutablePointer<CChar>?
    static let fileBufferSize = 1 << 20

    /// Opens a live interface (`pcap_create` + `pcap_activate`).
    public static func open(interface: String, options: LiveOptions) throws(CaptureError) -> CaptureSource {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw CaptureError("\(interface): \(Self.string(errbuf))")
        }
        pcap_set_snaplen(h, Int32(clamping: options.snapshotLength))
        pcap_set_promisc(h, options.promiscuous ? 1 : 0)
        pcap_set_immediate_mode(h, options.immediate ? 1 : 0)
        pcap_set_timeout(h, Int32(LiveOptions.readTimeoutMilliseconds))
        if let kib = options.bufferKiB { pcap_set_buffer_size(h, Int32(clamping: kib * 1024)) }
        pcap_set_tstamp_precision(h, PCAP_TSTAMP_PRECISION_NANO)
        let rc = pcap_activate(h)
        if rc < 0 {
            let detail = String(cString: pcap_geterr(h))
            pcap_close(h)
            switch rc {
            case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
                throw CaptureError(Self.permissionMessage(interface))
            case PCAP_ERROR_NO_SUCH_DEVICE:
                let names = (try? listInterfaces().map(\.name)) ?? []
                throw CaptureError("\(interface): no such interface; available: \(names.joined(separator: ", "))")
            default:
                throw CaptureError("\(interface): \(detail.isEmpty ? String(cString: pcap_statustostr(rc)) : detail)")
            }
        }
        preferSLL2(h)
        return CaptureSource(handle: h, name: interface, isLive: true, precision: .nano)
    }

    static let linuxSLL: Int32 = 113
    static let linuxSLL2: Int32 = 276

    /// Linux cooked capture (`-i any`) in its version 2 header, as tcpdump 4.99 writes it: the
    /// interface index and the protocol first (libpcap still starts such a handle at LINUX_SLL).
    static func preferSLL2(_ h: OpaquePointer) {
        guard pcap_datalink(h) == linuxSLL else { return }
        var list: UnsafeMutablePointer<Int32>?
        let n = pcap_list_datalinks(h, &list)
        guard n > 0, let l = list else { return }
        defer { pcap_free_datalinks(l) }
        let offered = UnsafeBufferPointer(start: l, count: Int(n))
        if offered.contains(linuxSLL2) { _ = pcap_set_datalink(h, linuxSLL2) }
    }

    public static func permissionMessage(_ interface: String) -> String {
        "\(interface): permission denied: capturing needs root or the capabilities cap_net_raw,cap_net_admin; "
            + "run it with sudo, or grant them once: sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v netinspect)\""
    }

    private static func string(_ buf: [CChar]) -> String {
        buf.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
    }

    /// Installs a BPF filter. Files: matched per packet in user space, so frame numbers still count
    /// every packet; live: in the kernel.
    public func setFilter(_ expression: String) throws(CaptureError) {
        let f = try PacketFilter(handle: handle, expression: expression)
        if isLive {
            if pcap_setfilter(handle, &f.program) != 0 {
                throw CaptureError("cannot install filter: \(String(cString: pcap_geterr(handle)))")
            }
        } else {
            filter = f
        }
    }

    /// The result of one `next()` call.
    public enum Next {
        case packet(frame: Int, PacketRecord)
        case end(ReadEnd)
    }

    /// Reads the next packet that passes the filter. The record's bytes stay valid until the next
    /// call. `frame` is 1-based and counts filtered-out frames too (for files).
    @inline(__always)
    public func next() -> Next {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while records != nil {
            var step = FileRecords.Step.handOver(offset: 0)
            if stopRequest.pointee.load(ordering: .relaxed) {
                // A stop (a signal, `breakLoop`) hands over to libpcap, whose own flag is set too:
                // it ends the read as it always does, and one reader holds the state.
                stopRequest.pointee.store(false, ordering: .relaxed)
                if let at = records?.offset { step = .handOver(offset: at) }
            } else if let s = records?.next() {
                step = s
            }
            switch step {
            case .record(let r):
                framesRead &+= 1
                if let f = filter {
                    var h = pcap_pkthdr()
                    h.caplen = UInt32(truncatingIfNeeded: r.capturedLength)
                    h.len = UInt32(truncatingIfNeeded: r.wireLength)
                    if !f.matches(&h, r.bytes.assumingMemoryBound(to: UInt8.self)) { continue }
                }
                let (seconds, nanoseconds) = Self.normalized(r.seconds, r.subsecond)
                return .packet(frame: framesRead, PacketRecord(
                    seconds: seconds, nanoseconds: nanoseconds, capturedLength: r.capturedLength,
                    wireLength: r.wireLength, bytes: UnsafeRawBufferPointer(start: r.bytes, count: r.capturedLength)))
            case .handOver(let offset):
                // libpcap reads on from this record (its stream is repositioned there; should that
                // fail, the block reader stays, and a later call tries again).
                if let f = pcap_file(handle), fseeko(f, off_t(offset), SEEK_SET) != 0 {
                    return .end(.error("cannot seek in the file: \(String(cString: strerror(errno)))"))
                }
                records?.release()
                records = nil
            }
        }
        while true {
            let rc = pcap_next_ex(handle, &header, &data)
            if rc == 1, let header, let data {
                framesRead &+= 1
                if let f = filter, !f.matches(header, data) { continue }
                let h = header.pointee
                let caplen = Int(h.caplen)
                let (seconds, nanoseconds) = Self.normalized(Int(h.ts.tv_sec), Int(h.ts.tv_usec))
                return .packet(frame: framesRead, PacketRecord(
                    seconds: seconds, nanoseconds: nanoseconds,
                    capturedLength: caplen, wireLength: Int(h.len),
                    bytes: UnsafeRawBufferPointer(start: data, count: caplen)))
            } else if rc == PCAP_ERROR_BREAK {
                // End of file, or pcap_breakloop (a signal, -c, --duration).
                return .end(isLive ? .stopped : .endOfFile)
            } else if rc == 0 {
                if draining { return .end(.stopped) }
                continue  // live: read timeout with nothing captured
            } else {
                return .end(.error(String(cString: pcap_geterr(handle))))
            }
        }
    }

    /// A file's sub-second field is not checked by libpcap (it may hold 10^6 µs or more, or read
    /// as negative): carried into the seconds so 0 ≤ nanoseconds < 10^9.
    @inline(__always)
    static func normalized(_ s: Int, _ ns: Int) -> (Int, Int) {
        var seconds = s
        var nanoseconds = ns
        if nanoseconds < 0 || nanoseconds >= 1_000_000_000 {
            let carry = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : -((-nanoseconds - 1) / 1_000_000_000) - 1
            seconds &+= carry
            nanoseconds -= carry * 1_000_000_000
        }
        return (seconds, nanoseconds)
    }

    /// Reads every packet; `body` gets the frame number and the record, and returns false to stop.
    public func forEach(_ body: (Int, PacketRecord) -> Bool) -> ReadEnd {
        while true {
            switch next() {
            case .packet(let frame, let record):
                if !body(frame, record) { return .stopped }
            case .end(let end):
                return end
            }
        }
    }

    /// How far into a saved capture the reader is, in bytes (the next record's offset); nil for
    /// live captures and for input that cannot tell
    /// (a pipe). One `ftello` call: meant for a progress display a few times a second, not per packet.
    public var bytesRead: Int64? {
        if let r = records { return r.offset }
        guard !isLive, let f = pcap_file(handle) else { return nil }
        let position = ftello(f)
        return position >= 0 ? Int64(position) : nil
    }

    /// The size of a saved capture that is a regular file (nil for live captures, pipes, devices).
    public var fileSize: Int64? {
        guard !isLive, let f = pcap_file(handle) else { return nil }
        var st = stat()
        guard fstat(fileno(f), &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Kernel statistics of a live capture: (received by filter, dropped by kernel, dropped by interface).
    public func statistics() -> (received: UInt32, dropped: UInt32, interfaceDropped: UInt32)? {
        var s = pcap_stat()
        guard isLive, pcap_stats(handle, &s) == 0 else { return nil }
        return (s.ps_recv, s.ps_drop, s.ps_ifdrop)
    }

    /// After a stop (signal, --duration), collects what the kernel already holds: the ring's current
    /// block is handed over only when its timeout expires, so wait that long, then read without
    /// blocking until nothing is left. Nothing captured before the stop is lost.
    public func beginDrain() {
        guard isLive, !draining else { return }
        draining = true
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        pcap_setnonblock(handle, 1, &errbuf)
        usleep(useconds_t(LiveOptions.readTimeoutMilliseconds * 1000 + 20_000))
    }

    /// Makes the next `next()` return `.end(.stopped)`. Safe to call from a signal handler.
    public func breakLoop() {
        stopRequest.pointee.store(true, ordering: .relaxed)
        pcap_breakloop(handle)
    }

    /// Stops the capture on SIGINT, SIGTERM and SIGALRM (used for --duration): the loop ends after
    /// the packet in hand, so everything captured is printed and written before exit.
    public func stopOnSignals() {
        StopSignals.install(handle, stopRequest)
    }

    /// Name of a DLT value as libpcap knows it.
    public static func linkTypeName(_ dlt: Int32) -> String {
        pcap_datalink_val_to_name(dlt).map { String(cString: $0) } ?? "DLT \(dlt)"
    }

    // MARK: interfaces

    public struct Interface: Sendable {
        public var name: String
        public var description: String?
        public var isUp: Bool
        public var isRunning: Bool
        public var isLoopback: Bool
    }

    /// The interfaces libpcap can capture on, in its order (what `-D` prints).
    public static func listInterfaces() throws(CaptureError) -> [Interface] {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errbuf) == 0 else { throw CaptureError(string(errbuf)) }
        defer { pcap_freealldevs(list) }
        var out: [Interface] = []
        var cursor = list
        while let d = cursor {
            let flags = d.pointee.flags
            out.append(Interface(name: String(cString: d.pointee.name),
                                 description: d.pointee.description.map { String(cString: $0) },
                                 isUp: flags & UInt32(PCAP_IF_UP) != 0, isRunning: flags & UInt32(PCAP_IF_RUNNING) != 0,
                                 isLoopback: flags & UInt32(PCAP_IF_LOOPBACK) != 0))
            cursor = d.pointee.next
        }
        return out
    }
}

/// The handle the signal handler breaks. One capture at a time per process, as in tcpdump.
private nonisolated(unsafe) var stopHandle: OpaquePointer?
/// The same request for the records that source reads without libpcap (`FileRecords`): its
/// atomic flag, safe to set from a signal handler.
private nonisolated(unsafe) var stopFlag: UnsafeMutablePointer<Atomic<Bool>>?

private enum StopSignals {
    static func install(_ handle: OpaquePointer, _ flag: UnsafeMutablePointer<Atomic<Bool>>) {
        stopHandle = handle
        stopFlag = flag
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            stopFlag?.pointee.store(true, ordering: .relaxed)
            if let h = stopHandle { pcap_breakloop(h) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: a blocking poll returns EINTR and sees the break flag
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGALRM, &action, nil)
        // A parent (a test runner, a shell script) may have left these blocked; unblock them here.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGALRM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// Writes packets to a pcap file (`-w`), readable by tcpdump and tshark.
public final class CaptureWriter {
    private let dumper: OpaquePointer
    private var closed = false

    /// `path` "-" writes to standard output.
    public init(path: String, for source: CaptureSource) throws(CaptureError) {
        guard let d = pcap_dump_open(source.handle, path) else {
            throw CaptureError("\(path): \(String(cString: pcap_geterr(source.handle)))")
        }
        dumper = d
    }

    deinit { close() }

    public func write(_ record: PacketRecord) {
        guard !closed, let base = record.bytes.baseAddress else { return }
        var h = pcap_pkthdr()
        h.ts.tv_sec = time_t(record.seconds)
        h.ts.tv_usec = suseconds_t(record.nanoseconds)  // the handle is at nanosecond precision
        h.caplen = bpf_u_int32(truncatingIfNeeded: record.capturedLength)
        h.len = bpf_u_int32(truncatingIfNeeded: record.wireLength)
        withUnsafePointer(to: &h) { hp in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), hp,
                      base.assumingMemoryBound(to: UInt8.self))
        }
    }

    public func flush() {
        if !closed { pcap_dump_flush(dumper) }
    }

    /// Flushes and closes the file so it is complete and valid.
    public func close() {
        guard !closed else { return }
        closed = true
        pcap_dump_close(dumper)
    }
}

/// Finds out whether a capture file stores micro- or nanosecond timestamps, from its first bytes.
/// libpcap converts everything to the precision we ask for; the file's own precision decides how
/// many digits are honest to print.
enum FilePrecisionSniffer {
    static func precision(ofHeader b: [UInt8]) -> TimestampPrecision {
        func u32(_ at: Int, _ big: Bool) -> UInt32? {
            guard at >= 0, at + 4 <= b.count else { return nil }
            let v = UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
            return big ? v : v.byteSwapped
        }
        func u16(_ at: Int, _ big: Bool) -> UInt16? {
            guard at >= 0, at + 2 <= b.count else { return nil }
            let v = UInt16(b[at]) << 8 | UInt16(b[at + 1])
            return big ? v : v.byteSwapped
        }
        guard let magic = u32(0, true) else { return .micro }
        switch magic {
        case 0xA1B2_3C4D, 0x4D3C_B2A1: return .nano
        case 0x0A0D_0D0A:
            // pcapng: section header block, then (usually) the first interface description block.
            guard let bom = u32(8, true) else { return .micro }
            let big = bom == 0x1A2B_3C4D
            guard let shbLen = u32(4, big).map(Int.init), shbLen >= 28, shbLen % 4 == 0 else { return .micro }
            var at = shbLen
            var blocks = 0
            while blocks < 16, let type = u32(at, big), let len = u32(at + 4, big).map(Int.init), len >= 12, len % 4 == 0 {
                blocks += 1
                if type == 1 {  // interface description block
                    var o = at + 16
                    let end = at + len - 4
                    while o + 4 <= end, let code = u16(o, big), let olen = u16(o + 2, big).map(Int.init) {
                        if code == 0 { break }
                        if code == 9, olen >= 1, o + 4 < b.count {  // if_tsresol
                            let v = b[o + 4]
                            if v & 0x80 == 0 { return v > 6 ? .nano : .micro }
                            return (v & 0x7F) > 19 ? .nano : .micro
                        }
                        o += 4 + (olen + 3) / 4 * 4
                    }
                    return .micro
                }
                at += len
            }
            return .micro
        default:
            return .micro
        }
    }
}
