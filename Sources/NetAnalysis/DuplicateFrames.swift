/// Recognises exact duplicate frames: the same bytes seen again within a short time, as captures
/// made with AF_PACKET on Linux loopback (or on a bridge, or with both -i any and a mirror) hold each
/// frame twice. Marking them keeps later analysis from counting the copy as a retransmission.
///
/// Cost per packet: a few comparisons of length and time against the last `capacity` frames, and a
/// copy of the frame into a fixed ring. Bytes are compared only when length and time match.
public struct DuplicateFrameDetector {
    /// How close in time two copies must be (nanoseconds).
    public var window: Int
    public let capacity: Int

    private struct Entry {
        var frame = 0
        var time = Int.min  // nanoseconds since the epoch
        var length = -1
        var wireLength = -1
        var bytes: [UInt8] = []
    }

    private var ring: [Entry]
    private var nextSlot = 0

    public init(window: Int = 2_000_000, capacity: Int = 8) {
        self.window = window
        self.capacity = max(capacity, 1)
        ring = Array(repeating: Entry(), count: self.capacity)
    }

    /// Returns the frame number of an earlier identical copy, or nil; then remembers this frame.
    public mutating func check(frame: Int, seconds: Int, nanoseconds: Int,
                               bytes: UnsafeRawBufferPointer, wireLength: Int) -> Int? {
        let (t, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let time = overflow ? Int.max : t &+ nanoseconds
        var found: Int?
        var i = 0
        while i < capacity {
            if ring[i].length == bytes.count && ring[i].wireLength == wireLength && ring[i].frame != 0,
               time >= ring[i].time, time - ring[i].time <= window,
               ring[i].bytes.withUnsafeBytes({ $0.elementsEqual(bytes) }) {
                found = ring[i].frame
                break
            }
            i += 1
        }
        if found != nil { return found }  // a duplicate is not remembered again: a third copy matches the first
        ring[nextSlot].frame = frame
        ring[nextSlot].time = time
        ring[nextSlot].length = bytes.count
        ring[nextSlot].wireLength = wireLength
        ring[nextSlot].bytes.removeAll(keepingCapacity: true)
        ring[nextSlot].bytes.append(contentsOf: bytes)
        nextSlot = nextSlot + 1 == capacity ? 0 : nextSlot + 1
        return nil
    }
}
