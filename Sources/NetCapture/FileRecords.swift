#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the records of a classic pcap file (native byte order, version 2.4) straight from the
/// file in large blocks, instead of libpcap's two `fread` calls and one copy per packet. It hands
/// over only records that libpcap would hand over unchanged; at anything else — a record larger
/// than the snapshot length or than the block, a short read, the end of the file, a read error —
/// it stops, and libpcap reads on from that record's offset, so every damaged file ends with
/// libpcap's own handling and message.
/// (A value that owns its block: kept in one place and given back with `release()`, never copied.)
struct FileRecords {
    /// One record: its header fields and its bytes (valid until the next call).
    struct Record {
        var seconds: Int
        var subsecond: Int
        var capturedLength: Int
        var wireLength: Int
        var bytes: UnsafeRawPointer
    }

    enum Step {
        case record(Record)
        /// libpcap must read on from `offset`.
        case handOver(offset: Int64)
    }

    /// Holds the largest record of the usual 262,144-byte snapshot length; larger ones go to libpcap.
    static let blockSize = 1 << 19
    static let recordHeader = 16

    private let fd: Int32
    /// libpcap's snapshot length for the file (records longer are not read here).
    private let snapshot: Int
    /// Microsecond file read at nanosecond precision: the sub-second field is scaled up.
    private let scale: Int
    private let block: UnsafeMutableRawPointer
    /// File offset of `block[0]`, and the valid bytes `block[position ..< filled]`.
    private var blockOffset: Int64
    private var position = 0
    private var filled = 0

    /// The sub-second scale for a file whose first bytes are `header`, or nil when this reader
    /// does not take it: native little-endian magic only (x86-64, aarch64), version 2.4; swapped
    /// files, pcapng and the modified formats stay with libpcap.
    static func scale(ofHeader header: [UInt8]) -> Int? {
        // 64-bit only: the 32-bit lengths are widened to Int and added without overflow checks.
        guard header.count >= 24, UInt32(littleEndian: 1) == 1, MemoryLayout<Int>.size == 8 else { return nil }
        let magic = UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24
        let major = UInt16(header[4]) | UInt16(header[5]) << 8
        let minor = UInt16(header[6]) | UInt16(header[7]) << 8
        guard major == 2, minor == 4 else { return nil }
        switch magic {
        case 0xa1b2_c3d4: return 1000
        case 0xa1b2_3c4d: return 1
        default: return nil
        }
    }

    /// Nil when the file is not one this reader takes (then libpcap reads it all).
    init?(fd: Int32, header: [UInt8], startOffset: Int64, snapshot: Int) {
        guard startOffset == 24, snapshot > 0, let scale = Self.scale(ofHeader: header) else { return nil }
        self.scale = scale
        self.fd = fd
        self.snapshot = snapshot
        blockOffset = startOffset
        block = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: 16)
    }

    func release() { block.deallocate() }

    /// The file offset of the next record.
    var offset: Int64 { blockOffset + Int64(position) }

    /// The next record, or where libpcap takes over.
    mutating func next() -> Step {
        if filled - position < Self.recordHeader, !refill(need: Self.recordHeader) { return .handOver(offset: offset) }
        let h = block + position
        let caplen = Int(h.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let total = Self.recordHeader + caplen
        guard caplen <= snapshot, total <= Self.blockSize else { return .handOver(offset: offset) }
        if filled - position < total, !refill(need: total) { return .handOver(offset: offset) }
        let r = block + position
        // libpcap's fields are signed 32-bit values in the file, widened.
        let seconds = Int(r.loadUnaligned(fromByteOffset: 0, as: Int32.self))
        let subsecond = Int(r.loadUnaligned(fromByteOffset: 4, as: Int32.self)) &* scale
        let wire = Int(r.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        position &+= total
        return .record(Record(seconds: seconds, subsecond: subsecond, capturedLength: caplen, wireLength: wire,
                              bytes: UnsafeRawPointer(r + Self.recordHeader)))
    }

    /// Moves what is left to the front and reads until `need` bytes are there; false at the end of
    /// the file or on an error (libpcap then reads from `offset` and reports it its own way).
    private mutating func refill(need: Int) -> Bool {
        let left = filled - position
        if position > 0 {
            if left > 0 { memmove(block, block + position, left) }
            blockOffset += Int64(position)
            position = 0
            filled = left
        }
        while filled < need {
            let n = pread(fd, block + filled, Self.blockSize - filled, off_t(blockOffset + Int64(filled)))
            if n <= 0 { return false }
            filled += n
        }
        return true
    }
}
