/// The one bounds-checked reader for packet bytes.
///
/// A reader is a window `[lower, upper)` over the captured bytes of one packet. Every read checks
/// the window first; reads past it throw. Whether running out is *truncation* (the capture cut the
/// packet short) or *malformation* (the packet's own length fields lie) is decided by
/// `clampedByCapture`: a layer slices its reader to the length its header declares, clamped to what
/// was captured, and remembers which of the two limits won.
///
/// The reader never escapes the decode call: the buffer it looks at belongs to libpcap and is only
/// valid until the next packet is read.
public struct ByteReader {
    public let buffer: UnsafeRawBufferPointer
    /// Absolute offset of the next byte to read, from the start of the captured packet.
    public private(set) var offset: Int
    /// Absolute end of the window (exclusive).
    public let upper: Int
    public let layer: Layer
    /// True when the window ends because the capture ended, not because a header said so.
    public let clampedByCapture: Bool

    public init(_ buffer: UnsafeRawBufferPointer, layer: Layer) {
        self.buffer = buffer
        self.offset = 0
        self.upper = buffer.count
        self.layer = layer
        self.clampedByCapture = true
    }

    /// A reader over a whole message whose length its carrier declared (a DNS message read from a
    /// TCP stream after its length prefix): running out of bytes is malformation, not truncation.
    public init(wholeMessage buffer: UnsafeRawBufferPointer, layer: Layer) {
        self.init(buffer: buffer, offset: 0, upper: buffer.count, layer: layer, clamped: false)
    }

    init(buffer: UnsafeRawBufferPointer, offset: Int, upper: Int, layer: Layer, clamped: Bool) {
        self.buffer = buffer
        self.offset = offset
        self.upper = upper
        self.layer = layer
        self.clampedByCapture = clamped
    }

    public var remaining: Int { upper - offset }
    public var isAtEnd: Bool { offset >= upper }

    /// The error for needing `needed` bytes at `at` when they are not there.
    public func shortError(at: Int, needed: Int) -> DecodeError {
        if clampedByCapture {
            return DecodeError(layer: layer, kind: .truncated, offset: at, detail: .needBytes(needed))
        }
        return DecodeError(layer: layer, kind: .malformed, offset: at, detail: .pastDeclaredLength(needed))
    }

    public func require(_ n: Int) throws(DecodeError) {
        if n < 0 || n > upper - offset { throw shortError(at: offset, needed: n) }
    }

    public mutating func readUInt8() throws(DecodeError) -> UInt8 {
        guard offset < upper else { throw shortError(at: offset, needed: 1) }
        let v = buffer.load(fromByteOffset: offset, as: UInt8.self)
        offset &+= 1
        return v
    }

    public mutating func readUInt16() throws(DecodeError) -> UInt16 {
        guard upper - offset >= 2 else { throw shortError(at: offset, needed: 2) }
        let v = UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        offset &+= 2
        return v
    }

    public mutating func readUInt16LE() throws(DecodeError) -> UInt16 {
        guard upper - offset >= 2 else { throw shortError(at: offset, needed: 2) }
        let v = UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        offset &+= 2
        return v
    }

    public mutating func readUInt32() throws(DecodeError) -> UInt32 {
        guard upper - offset >= 4 else { throw shortError(at: offset, needed: 4) }
        let v = UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset &+= 4
        return v
    }

    public mutating func readUInt32LE() throws(DecodeError) -> UInt32 {
        guard upper - offset >= 4 else { throw shortError(at: offset, needed: 4) }
        let v = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset &+= 4
        return v
    }

    public mutating func readUInt64() throws(DecodeError) -> UInt64 {
        guard upper - offset >= 8 else { throw shortError(at: offset, needed: 8) }
        let v = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset &+= 8
        return v
    }

    /// Reads a 48-bit MAC address.
    public mutating func readMAC() throws(DecodeError) -> MACAddress {
        guard upper - offset >= 6 else { throw shortError(at: offset, needed: 6) }
        let hi = UInt64(UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        let lo = UInt64(UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset &+ 2, as: UInt32.self)))
        offset &+= 6
        return MACAddress(raw: hi << 32 | lo)
    }

    public mutating func readIPv4() throws(DecodeError) -> IPv4Address {
        IPv4Address(raw: try readUInt32())
    }

    public mutating func readIPv6() throws(DecodeError) -> IPv6Address {
        guard upper - offset >= 16 else { throw shortError(at: offset, needed: 16) }
        let hi = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let lo = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt64.self))
        offset &+= 16
        return IPv6Address(hi: hi, lo: lo)
    }

    /// The next 4 bytes as a big-endian number, without advancing.
    public func peekUInt32() throws(DecodeError) -> UInt32 {
        var copy = self
        return try copy.readUInt32()
    }

    public mutating func skip(_ n: Int) throws(DecodeError) {
        try require(n)
        offset &+= n
    }

    /// Copies `n` bytes out (for small variable fields: DNS labels, unknown option data).
    public mutating func readBytes(_ n: Int) throws(DecodeError) -> [UInt8] {
        try require(n)
        let out = Array(UnsafeRawBufferPointer(rebasing: buffer[offset ..< offset + n]))
        offset &+= n
        return out
    }

    /// Byte at absolute offset `at`, which must lie inside `[lowerBound, upper)`.
    public func byte(at: Int, lowerBound: Int) throws(DecodeError) -> UInt8 {
        guard at >= lowerBound, at < upper else { throw shortError(at: at, needed: 1) }
        return buffer.load(fromByteOffset: at, as: UInt8.self)
    }

    public func uint16(at: Int, lowerBound: Int) throws(DecodeError) -> UInt16 {
        guard at >= lowerBound, at <= upper &- 2 else { throw shortError(at: at, needed: 2) }
        return UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    /// A new reader for the next `declared` bytes, clamped to this window, for `layer`.
    /// `clampedByCapture` is true when the window was shorter than `declared` and this window itself
    /// was cut by the capture (so the missing bytes were on the wire, just not captured).
    public func sub(declared: Int, layer: Layer) -> ByteReader {
        let avail = remaining
        if declared <= avail {
            return ByteReader(buffer: buffer, offset: offset, upper: offset + max(declared, 0), layer: layer, clamped: false)
        }
        return ByteReader(buffer: buffer, offset: offset, upper: upper, layer: layer, clamped: clampedByCapture)
    }

    /// The rest of this window as a reader for `layer`.
    public func rest(layer: Layer) -> ByteReader {
        ByteReader(buffer: buffer, offset: offset, upper: upper, layer: layer, clamped: clampedByCapture)
    }

    /// A reader over `[from, to)` absolute, which must lie inside this window's buffer.
    public func window(from: Int, to: Int, layer: Layer) -> ByteReader {
        let lo = min(max(from, 0), buffer.count)
        let hi = min(max(to, lo), upper)
        return ByteReader(buffer: buffer, offset: lo, upper: hi, layer: layer, clamped: clampedByCapture)
    }

    /// Sets the read position to an absolute offset inside `[lowerBound, upper]`.
    public mutating func seek(to at: Int, lowerBound: Int) throws(DecodeError) {
        guard at >= lowerBound, at <= upper else { throw shortError(at: at, needed: 1) }
        offset = at
    }

    /// Raw bytes of `[from, to)` clamped to the captured buffer (no error: for checksums and hex).
    public func raw(from: Int, to: Int) -> UnsafeRawBufferPointer {
        let lo = min(max(from, 0), buffer.count)
        let hi = min(max(to, lo), buffer.count)
        return UnsafeRawBufferPointer(rebasing: buffer[lo ..< hi])
    }
}

/// Reads the fields of a fixed-size header that may have been cut short. Reads never fail: a field
/// not (wholly) captured reads as zero, and `available` says how many header bytes were really
/// there, so a decoder can keep the fields that were read (`validBytes`) and then report the cut.
public struct HeaderFields {
    let buffer: UnsafeRawBufferPointer
    public private(set) var offset: Int
    /// Absolute end of the captured part of the header.
    let limit: Int
    /// Header bytes that were captured (≤ the header size).
    public let available: Int

    init(_ r: ByteReader, size: Int) {
        buffer = r.buffer
        offset = r.offset
        available = min(max(r.remaining, 0), size)
        limit = r.offset + available
    }

    public mutating func u8() -> UInt8 {
        defer { offset &+= 1 }
        return offset < limit ? buffer.load(fromByteOffset: offset, as: UInt8.self) : 0
    }

    public mutating func u16() -> UInt16 {
        defer { offset &+= 2 }
        return limit - offset >= 2 ? UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) : 0
    }

    public mutating func u32() -> UInt32 {
        defer { offset &+= 4 }
        return limit - offset >= 4 ? UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) : 0
    }

    public mutating func ipv4() -> IPv4Address { IPv4Address(raw: u32()) }

    public mutating func ipv6() -> IPv6Address {
        let a = u32(), b = u32(), c = u32(), d = u32()
        return IPv6Address(hi: UInt64(a) << 32 | UInt64(b), lo: UInt64(c) << 32 | UInt64(d))
    }
}

extension ByteReader {
    /// The next `size` header bytes as non-failing field reads (see `HeaderFields`); does not advance.
    public func fields(_ size: Int) -> HeaderFields { HeaderFields(self, size: size) }
}
