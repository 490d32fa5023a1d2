import CPcap
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

    init(handle: OpaquePointer, expression: String) throws(CaptureError) {
        self.expression = expression
        if pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
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

/// A saved capture (pcap or pcapng, any size), read one packet at a time through libpcap.
public final class PcapFileReader {
    private let handle: OpaquePointer
    public let path: String
    public let linkType: Int32
    /// libpcap's name for the link type, e.g. `EN10MB`, `LINUX_SLL2`.
    public let linkTypeName: String
    /// libpcap's description of the link type, e.g. `Ethernet`.
    public let linkTypeDescription: String?
    /// The precision the file stores timestamps with.
    public let precision: TimestampPrecision
    public let snapshotLength: Int
    private var filter: PacketFilter?

    public init(path: String) throws(CaptureError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            let why = errbuf.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "cannot open" }
            throw CaptureError("\(path): \(why)")
        }
        handle = h
        self.path = path
        linkType = pcap_datalink(h)
        if let name = pcap_datalink_val_to_name(linkType) {
            linkTypeName = String(cString: name)
        } else {
            linkTypeName = "DLT \(linkType)"
        }
        linkTypeDescription = pcap_datalink_val_to_description(linkType).map { String(cString: $0) }
        snapshotLength = Int(pcap_snapshot(h))
        precision = path == "-" ? .micro : FilePrecisionSniffer.precision(ofFileAt: path)
    }

    deinit { pcap_close(handle) }

    /// Compiles and installs a BPF filter; packets that do not match are still counted but skipped.
    public func setFilter(_ expression: String) throws(CaptureError) {
        filter = try PacketFilter(handle: handle, expression: expression)
    }

    /// The result of one `next()` call.
    public enum Next {
        case packet(frame: Int, PacketRecord)
        case end(ReadEnd)
    }

    private var framesRead = 0

    /// Reads the next packet that passes the filter. The record's bytes stay valid until the next
    /// call. `frame` is 1-based and counts filtered-out frames too.
    @inline(__always)
    public func next() -> Next {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while true {
            let rc = pcap_next_ex(handle, &header, &data)
            if rc == 1, let header, let data {
                framesRead &+= 1
                if let f = filter, !f.matches(header, data) { continue }
                let h = header.pointee
                let caplen = Int(h.caplen)
                return .packet(frame: framesRead, PacketRecord(
                    seconds: Int(h.ts.tv_sec), nanoseconds: Int(h.ts.tv_usec),
                    capturedLength: caplen, wireLength: Int(h.len),
                    bytes: UnsafeRawBufferPointer(start: data, count: caplen)))
            } else if rc == PCAP_ERROR_BREAK {
                return .end(.endOfFile)
            } else if rc == 0 {
                continue
            } else {
                return .end(.error(String(cString: pcap_geterr(handle))))
            }
        }
    }

    /// Reads every packet; `body` gets the 1-based frame number (counting filtered-out frames) and
    /// the record, and returns false to stop.
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

    /// Name of a DLT value as libpcap knows it.
    public static func linkTypeName(_ dlt: Int32) -> String {
        if let name = pcap_datalink_val_to_name(dlt) { return String(cString: name) }
        return "DLT \(dlt)"
    }
}

/// Finds out whether a capture file stores micro- or nanosecond timestamps, from its first bytes.
/// libpcap converts everything to the precision we ask for; the file's own precision decides how
/// many digits are honest to print.
enum FilePrecisionSniffer {
    static func precision(ofFileAt path: String) -> TimestampPrecision {
        guard let f = fopen(path, "rb") else { return .micro }
        defer { fclose(f) }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { fread($0.baseAddress, 1, 4096, f) }
        return precision(ofHeader: Array(head.prefix(n)))
    }

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
