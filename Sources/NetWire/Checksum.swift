/// Internet checksum (RFC 1071) helpers.
public enum InternetChecksum {
    /// One's-complement sum of `bytes` as big-endian 16-bit words (odd tail padded with zero),
    /// accumulated into a wide integer and not yet folded.
    @inlinable
    public static func sum(_ bytes: UnsafeRawBufferPointer, initial: UInt64 = 0) -> UInt64 {
        var acc = initial
        let n = bytes.count
        var i = 0
        // 4 bytes at a time: big-endian 32-bit words keep the 16-bit word sum intact after folding.
        while i &+ 4 <= n {
            acc &+= UInt64(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
            i &+= 4
        }
        if i &+ 2 <= n {
            acc &+= UInt64(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
            i &+= 2
        }
        if i < n {
            acc &+= UInt64(bytes.load(fromByteOffset: i, as: UInt8.self)) << 8
        }
        return acc
    }

    /// Folds a wide sum to 16 bits (not complemented).
    @inlinable
    public static func fold(_ s: UInt64) -> UInt16 {
        var s = s
        while s >> 16 != 0 { s = (s & 0xFFFF) &+ (s >> 16) }
        return UInt16(s)
    }

    /// Pseudo-header sum for IPv4 upper layers.
    @inlinable
    public static func pseudoHeaderIPv4(source: IPv4Address, destination: IPv4Address, proto: UInt8, length: Int) -> UInt64 {
        UInt64(source.raw >> 16) &+ UInt64(source.raw & 0xFFFF) &+ UInt64(destination.raw >> 16)
            &+ UInt64(destination.raw & 0xFFFF) &+ UInt64(proto) &+ UInt64(UInt32(truncatingIfNeeded: length))
    }

    @inlinable
    public static func pseudoHeaderIPv6(source: IPv6Address, destination: IPv6Address, proto: UInt8, length: Int) -> UInt64 {
        @inline(__always) func words(_ w: UInt64) -> UInt64 {
            (w >> 48) &+ ((w >> 32) & 0xFFFF) &+ ((w >> 16) & 0xFFFF) &+ (w & 0xFFFF)
        }
        let s = words(source.hi) &+ words(source.lo) &+ words(destination.hi) &+ words(destination.lo)
        let len = UInt64(UInt32(truncatingIfNeeded: length))
        return s &+ (len >> 16) &+ (len & 0xFFFF) &+ UInt64(proto)
    }

    /// Verdict for a transport checksum: `ok` when the segment sums to 0xFFFF; `unverified` when the
    /// field holds just the pseudo-header sum (a transmit-offload partial checksum, as Linux leaves
    /// on loopback and outgoing captures); otherwise `bad`.
    @inlinable
    public static func transportVerdict(segment: UnsafeRawBufferPointer, pseudo: UInt64, field: UInt16) -> ChecksumStatus {
        if fold(sum(segment, initial: pseudo)) == 0xFFFF { return .ok }
        let partial = fold(pseudo)
        if field == partial || field == ~partial { return .unverified }
        return .bad
    }
}
