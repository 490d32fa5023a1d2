#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Recognises exact duplicate frames: the same bytes seen again within a short time, as captures
/// made with AF_PACKET on Linux loopback (or on a bridge, or with both -i any and a mirror) hold each
/// frame twice. Marking them keeps later analysis from counting the copy as a retransmission.
///
/// Cost per packet: a few comparisons of length and time against the last `capacity` frames and one
/// `memcpy` of the frame into a ring slot; bytes are compared (`memcmp`) only when length and time
/// match. Memory: `capacity` slots, each as large as the largest frame it held (≤ the snap length).
public struct DuplicateFrameDetector {
    /// How close in time two copies must be (nanoseconds).
    public var window: Int
    public let capacity: Int

    private struct Slot {
        var frame = 0
        var time = Int.min  // nanoseconds since the epoch
        var length = -1
        var wireLength = -1
        var buffer: UnsafeMutableRawPointer?
        var bufferSize = 0
    }

    /// Owns the slot buffers (frees them); the pointers themselves live in `meta`, so the per-packet
    /// path touches only this struct's own storage.
    private final class Owner {
        var buffers: [UnsafeMutableRawPointer] = []
        deinit { for b in buffers { b.deallocate() } }
    }

    private var meta: [Slot]
    private let owner = Owner()
    private var nextSlot = 0

    public init(window: Int = 2_000_000, capacity: Int = 8) {
        self.window = window
        self.capacity = max(capacity, 1)
        meta = Array(repeating: Slot(), count: self.capacity)
    }

    /// Returns the frame number of an earlier identical copy, or nil; then remembers this frame.
    public mutating func check(frame: Int, seconds: Int, nanoseconds: Int,
                               bytes: UnsafeRawBufferPointer, wireLength: Int) -> Int? {
        let (t, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let time = overflow ? Int.max : t &+ nanoseconds
        let length = bytes.count
        var i = 0
        while i < capacity {
            let m = meta[i]
            if m.length == length && m.wireLength == wireLength && m.frame != 0,
               time >= m.time, time &- m.time <= window, Self.same(bytes, m) {
                // A duplicate is not remembered again: a third copy matches the first.
                return m.frame
            }
            i += 1
        }
        var slot = meta[nextSlot]
        if slot.bufferSize < length {
            let size = max(length, 256)
            let b = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            if let old = slot.buffer, let k = owner.buffers.firstIndex(of: old) {
                owner.buffers[k] = b
                old.deallocate()
            } else {
                owner.buffers.append(b)
            }
            slot.buffer = b
            slot.bufferSize = size
        }
        if let dst = slot.buffer, let src = bytes.baseAddress, length > 0 {
            dst.copyMemory(from: src, byteCount: length)
        }
        slot.frame = frame
        slot.time = time
        slot.length = length
        slot.wireLength = wireLength
        meta[nextSlot] = slot
        nextSlot = nextSlot + 1 == capacity ? 0 : nextSlot + 1
        return nil
    }

    private static func same(_ bytes: UnsafeRawBufferPointer, _ m: Slot) -> Bool {
        guard bytes.count > 0 else { return true }
        guard let a = m.buffer, let b = bytes.baseAddress, m.bufferSize >= bytes.count else { return false }
        return memcmp(a, b, bytes.count) == 0
    }
}
