import NetWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte buffer that lines are formatted into and that is written out with few `write(2)` calls.
/// No `String` is built per packet: numbers, addresses and literals are appended as bytes into one
/// preallocated block.
///
/// A value type over one heap block (owned by `storage`), so that passing it `inout` gets static
/// exclusivity checking rather than a runtime check per append. Do not copy it.
public struct OutputBuffer {
    private final class Storage {
        var base: UnsafeMutablePointer<UInt8>
        init(capacity: Int) { base = .allocate(capacity: capacity) }
        deinit { base.deallocate() }
    }
    private let storage: Storage
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var count: Int = 0
    public let fd: Int32
    public let flushThreshold: Int
    /// Set when a write failed (for example a closed pipe); callers stop reading then.
    public private(set) var failed = false

    public init(fd: Int32 = 1, capacity: Int = 1 << 18) {
        self.fd = fd
        self.capacity = max(capacity, 64)
        flushThreshold = max(self.capacity - 8192, self.capacity / 2)
        storage = Storage(capacity: self.capacity)
        base = storage.base
    }

    /// The formatted bytes not yet written.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }
    public var lastByte: UInt8? { count > 0 ? base[count - 1] : nil }

    @inline(__always) private mutating func ensure(_ n: Int) {
        if n > capacity &- count { grow(n) }
    }

    private mutating func grow(_ n: Int) {
        let newCapacity = max(capacity * 2, count + n)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        p.update(from: base, count: count)
        storage.base.deallocate()
        storage.base = p
        base = p
        capacity = newCapacity
    }

    /// Writes out the buffer when it is nearly full (call after each line).
    @inline(__always)
    public mutating func flushIfNeeded() {
        if count >= flushThreshold { flush() }
    }

    public mutating func flush() {
        guard count > 0 else { return }
        if fd >= 0 && !failed {
            var off = 0
            while off < count {
                let n = write(fd, base + off, count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    break
                }
                off += n
            }
        }
        count = 0
    }

    /// Gives up on the output: what is buffered is dropped and `failed` is set (the caller stops).
    public mutating func abandon() {
        failed = true
        count = 0
    }

    /// The bytes not yet written, without copying.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Drops the first `n` bytes (they were written elsewhere); the rest moves to the front.
    public mutating func removeFirst(_ n: Int) {
        let n = min(max(n, 0), count)
        guard n > 0 else { return }
        if n < count { UnsafeMutableRawPointer(base).copyMemory(from: base + n, byteCount: count - n) }
        count -= n
    }

    /// Returns the contents as a String and empties the buffer (for tests and small outputs).
    public mutating func takeString() -> String {
        let s = String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
        count = 0
        return s
    }

    // MARK: appending

    @inline(__always) public mutating func byte(_ b: UInt8) {
        ensure(1)
        base[count] = b
        count &+= 1
    }

    @inline(__always) public mutating func append(_ p: UnsafeRawBufferPointer) {
        let n = p.count
        guard n > 0, let src = p.baseAddress else { return }
        ensure(n)
        UnsafeMutableRawPointer(base + count).copyMemory(from: src, byteCount: n)
        count &+= n
    }

    public mutating func append(buffer other: borrowing OutputBuffer) {
        append(UnsafeRawBufferPointer(start: other.base, count: other.count))
    }

    @inline(__always) public mutating func ascii(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        if n <= 8 {
            // Short literals (most of them): a byte loop beats a call to memcpy.
            ensure(n)
            let src = s.utf8Start
            var i = 0
            while i < n { base[count &+ i] = src[i]; i &+= 1 }
            count &+= n
        } else {
            append(UnsafeRawBufferPointer(start: s.utf8Start, count: n))
        }
    }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    public mutating func raw(_ b: [UInt8]) { b.withUnsafeBytes { append($0) } }

    @inline(__always)
    public mutating func decimal<T: BinaryInteger>(_ value: T) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        unsigned(UInt64(truncatingIfNeeded: value.magnitude))
    }

    /// "00" … "99": two digits per division.
    private static let digitPairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    @inline(__always)
    static func digitCount(_ v: UInt64) -> Int {
        var n = 1
        var x = v
        while x >= 10_000 { x /= 10_000; n &+= 4 }
        if x >= 1000 { return n &+ 3 }
        if x >= 100 { return n &+ 2 }
        if x >= 10 { return n &+ 1 }
        return n
    }

    @inline(__always)
    public mutating func unsigned(_ value: UInt64) {
        if value < 10 { byte(UInt8(truncatingIfNeeded: value) &+ 48); return }
        let digits = Self.digitCount(value)
        ensure(digits)
        let pairs = Self.digitPairs.utf8Start
        var v = value
        var i = count &+ digits
        while v >= 100 {
            let q = v / 100
            let r = Int(truncatingIfNeeded: v &- q &* 100) &* 2
            i &-= 2
            base[i] = pairs[r]
            base[i &+ 1] = pairs[r &+ 1]
            v = q
        }
        if v >= 10 {
            let r = Int(truncatingIfNeeded: v) &* 2
            base[i &- 2] = pairs[r]
            base[i &- 1] = pairs[r &+ 1]
        } else {
            base[i &- 1] = UInt8(truncatingIfNeeded: v) &+ 48
        }
        count &+= digits
    }

    /// Exactly `width` decimal digits, zero-padded (value must fit).
    @inline(__always)
    public mutating func padded(_ value: Int, width: Int) {
        guard width > 0 else { return }
        ensure(width)
        // From the right, dividing by the constant 10 (a multiply), never a negative digit; a value
        // wider than `width` keeps its lowest digits.
        var v = UInt64(value.magnitude)
        var i = count &+ width
        while i > count {
            i &-= 1
            let q = v / 10
            base[i] = UInt8(truncatingIfNeeded: v &- q &* 10) &+ 48
            v = q
        }
        count &+= width
    }

    /// A time as seconds since the epoch with `digits` (6 or 9) fraction digits, correct before 1970
    /// too (`seconds` < 0 with a positive fraction).
    public mutating func epoch(seconds: Int, nanoseconds: Int, digits: Int) {
        var whole = seconds, fraction = nanoseconds
        if whole < 0 && fraction > 0 {
            byte(45)
            whole = -(whole + 1)
            fraction = 1_000_000_000 - fraction
        }
        decimal(whole)
        byte(46)
        if digits == 9 { padded(fraction, width: 9) } else { padded(fraction / 1000, width: 6) }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    @inline(__always)
    public mutating func hexByte(_ b: UInt8) {
        byte(OutputBuffer.hexDigits[Int(b >> 4)])
        byte(OutputBuffer.hexDigits[Int(b & 0xF)])
    }

    /// Lower-case hex without leading zeros (at least one digit).
    public mutating func hex(_ value: UInt64) {
        var started = false
        var shift = 60
        while shift >= 0 {
            let d = Int((value >> UInt64(shift)) & 0xF)
            if d != 0 || started || shift == 0 {
                byte(OutputBuffer.hexDigits[d])
                started = true
            }
            shift -= 4
        }
    }

    /// `0x` and exactly `digits` hex digits.
    public mutating func hexPadded(_ value: UInt64, digits: Int) {
        ascii("0x")
        var shift = (digits - 1) * 4
        while shift >= 0 {
            byte(OutputBuffer.hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    public mutating func ipv4(_ a: IPv4Address) {
        let r = a.raw
        unsigned(UInt64(r >> 24)); byte(46)
        unsigned(UInt64((r >> 16) & 0xFF)); byte(46)
        unsigned(UInt64((r >> 8) & 0xFF)); byte(46)
        unsigned(UInt64(r & 0xFF))
    }

    public mutating func mac(_ m: MACAddress) {
        var i = 0
        while i < 6 {
            if i > 0 { byte(58) }
            hexByte(m.byte(i))
            i += 1
        }
    }

    /// RFC 5952 text form: lower-case, leading zeros dropped, the longest run (≥ 2) of zero groups
    /// as `::` (the first such run on a tie), and IPv4-mapped addresses as `::ffff:a.b.c.d`. Like
    /// tcpdump and tshark (BSD inet_ntop), a deprecated IPv4-compatible address (96 zero bits, then
    /// a non-zero seventh group) is written `::a.b.c.d`; `::1` and `::2` stay as they are.
    public mutating func ipv6(_ a: IPv6Address) {
        if a.hi == 0 && (a.lo >> 32) == 0xFFFF {
            ascii("::ffff:")
            ipv4(IPv4Address(raw: UInt32(truncatingIfNeeded: a.lo)))
            return
        }
        if a.hi == 0 && (a.lo >> 32) == 0 && (a.lo >> 16) & 0xFFFF != 0 {
            ascii("::")
            ipv4(IPv4Address(raw: UInt32(truncatingIfNeeded: a.lo)))
            return
        }
        var bestStart = -1, bestLen = 0
        var runStart = -1
        for i in 0 ..< 8 {
            if a.group(i) == 0 {
                if runStart < 0 { runStart = i }
                let len = i - runStart + 1
                if len > bestLen { bestLen = len; bestStart = runStart }
            } else {
                runStart = -1
            }
        }
        if bestLen < 2 { bestStart = -1 }
        var i = 0
        var needColon = false
        while i < 8 {
            if i == bestStart {
                ascii("::")
                i += bestLen
                needColon = false
                continue
            }
            if needColon { byte(58) }
            hex(UInt64(a.group(i)))
            needColon = true
            i += 1
        }
    }

    /// A JSON string literal with the required escapes.
    public mutating func jsonString(_ s: String) {
        byte(34)
        var s = s
        s.withUTF8 { jsonEscaped($0) }
        byte(34)
    }

    public mutating func jsonEscaped(_ u: UnsafeBufferPointer<UInt8>) {
        for b in u {
            switch b {
            case 34: ascii("\\\"")
            case 92: ascii("\\\\")
            case 10: ascii("\\n")
            case 13: ascii("\\r")
            case 9: ascii("\\t")
            case 0 ..< 0x20:
                ascii("\\u00"); hexByte(b)
            default: byte(b)
            }
        }
    }
}
