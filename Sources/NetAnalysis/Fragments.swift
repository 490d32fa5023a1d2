import NetWire

/// IP fragment reassembly (IPv4 and IPv6), bounded in every direction: a datagram waits at most
/// `timeoutNanoseconds` (capture time) for its missing fragments, at most `maxDatagrams` wait at
/// once holding at most `maxBytes` in all, and no datagram grows past `maxDatagramBytes` (the
/// largest an IP length field can describe). When a cap is reached the oldest waiting datagram is
/// dropped, so a flood of fragments that never complete keeps memory flat.
///
/// Overlapping fragments are flagged; the bytes first received are kept (as tshark's default and
/// the BSD policy "first"). A fragment whose data was not captured whole ends its datagram: it can
/// never be rebuilt.
public struct FragmentReassembler {
    public struct Limits: Sendable {
        public var timeoutNanoseconds: Int
        public var maxDatagrams: Int
        public var maxBytes: Int
        public var maxDatagramBytes: Int
        /// Fragments one datagram may have: bounds its frame list and its list of byte ranges (a
        /// datagram cut into 8-byte pieces would otherwise hold 8,192 of each and insert into them
        /// 8,192 times).
        public var maxFragmentsPerDatagram: Int
        /// Linux's defaults: `ipfrag_time` 30 s; 64 KiB the most an IP length field describes.
        public static let standard = Limits(timeoutNanoseconds: 30_000_000_000, maxDatagrams: 1024,
                                            maxBytes: 8 << 20, maxDatagramBytes: 65_535)
        public init(timeoutNanoseconds: Int, maxDatagrams: Int, maxBytes: Int, maxDatagramBytes: Int,
                    maxFragmentsPerDatagram: Int = 256) {
            self.timeoutNanoseconds = timeoutNanoseconds
            self.maxDatagrams = maxDatagrams
            self.maxBytes = maxBytes
            self.maxDatagramBytes = maxDatagramBytes
            self.maxFragmentsPerDatagram = maxFragmentsPerDatagram
        }
    }

    /// What one fragment did.
    public enum Outcome: Equatable, Sendable {
        /// Held, waiting for the rest.
        case held
        /// Completed a datagram: its upper-layer bytes are in `completed`.
        case completed
        /// Could not be used: its data was not captured whole, or the datagram would pass the size cap.
        case unusable
    }

    /// Counters, for statistics and tests.
    public struct Counters: Sendable, Equatable {
        public var fragments = 0
        public var reassembled = 0
        public var overlaps = 0
        public var timedOut = 0
        public var evicted = 0
        public var unusable = 0
    }

    struct Key: Hashable {
        var source: IPv6Address
        var destination: IPv6Address
        var identification: UInt32
        var proto: UInt8
        var isIPv6: Bool
    }

    struct Pending {
        var generation: Int
        var firstSeen: Int
        var data: [UInt8] = []
        /// Byte ranges received, sorted and merged.
        var covered: [Range<Int>] = []
        /// The datagram's length, once its last fragment (no "more fragments") arrived.
        var total: Int?
        var frames: [Int] = []
        var sizes: [Int] = []
        var overlap = false
    }

    public let limits: Limits
    static let zeros = [UInt8](repeating: 0, count: 4096)
    public private(set) var counters = Counters()
    var pending: [Key: Pending] = [:]
    /// Waiting datagrams in arrival order (entries whose generation no longer matches are stale).
    var order: [(key: Key, generation: Int)] = []
    var orderHead = 0
    var nextGeneration = 0
    /// Bytes held by all waiting datagrams.
    public private(set) var heldBytes = 0

    /// After `.completed`: the datagram's upper-layer bytes, the frames of its fragments (in
    /// arrival order) with the data bytes each carried, and whether fragments overlapped.
    public private(set) var completed: [UInt8] = []
    public private(set) var completedFrames: [Int] = []
    public private(set) var completedSizes: [Int] = []
    public private(set) var completedOverlap = false
    /// After any outcome: this fragment overlapped data already held.
    public private(set) var lastOverlapped = false

    public init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// Datagrams waiting for fragments.
    public var waiting: Int { pending.count }

    /// Takes one fragment: `f` as the decoder described it, `data` its captured data bytes.
    public mutating func add(_ f: FragmentInfo, source: IPv6Address, destination: IPv6Address, data: UnsafeRawBufferPointer,
                             frame: Int, now: Int) -> Outcome {
        counters.fragments += 1
        lastOverlapped = false
        expire(now: now)
        let key = Key(source: source, destination: destination, identification: f.identification, proto: f.proto.rawValue,
                      isIPv6: f.isIPv6)
        let (end, overflow) = f.offset.addingReportingOverflow(f.length)
        guard !overflow, f.offset >= 0, f.length >= 0, end <= limits.maxDatagramBytes,
              f.capturedLength == f.length, data.count == f.length else {
            // Never rebuildable: forget what was held of it.
            drop(key)
            counters.unusable += 1
            return .unusable
        }
        // Taken out of the table while it is worked on (one lookup), put back at the end (one more).
        var d: Pending
        if let held = pending.removeValue(forKey: key) {
            d = held
            heldBytes -= d.data.count
            guard d.frames.count < limits.maxFragmentsPerDatagram else {
                counters.unusable += 1
                return .unusable  // (already out of the table: forgotten)
            }
            let grown = max(d.data.count, end)
            if heldBytes + grown > limits.maxBytes && makeRoom(for: grown, keeping: key) {
                order.append((key, d.generation))  // its place in the arrival list was passed over
            }
        } else {
            makeRoom(for: f.length)
            let g = nextGeneration
            nextGeneration &+= 1
            d = Pending(generation: g, firstSeen: now)
            order.append((key, g))
        }
        if d.data.count < end {
            let grow = end - d.data.count
            d.data.reserveCapacity(end)
            Self.zeros.withUnsafeBytes { z in
                var left = grow
                while left > 0 {
                    let n = min(left, z.count)
                    d.data.append(contentsOf: UnsafeRawBufferPointer(rebasing: z[0 ..< n]))
                    left -= n
                }
            }
        }
        // Copy the bytes that fill gaps; bytes already held win.
        var at = f.offset
        var overlapped = false
        for r in d.covered where r.upperBound > at && r.lowerBound < end {
            overlapped = true
            if r.lowerBound > at { copy(data, from: f.offset, range: at ..< r.lowerBound, into: &d.data) }
            at = max(at, r.upperBound)
        }
        if at < end { copy(data, from: f.offset, range: at ..< end, into: &d.data) }
        if f.length > 0 { insert(f.offset ..< end, into: &d.covered) }
        if !f.moreFragments {
            if let t = d.total, t != end { overlapped = true }
            if d.total == nil { d.total = end }
        }
        if overlapped {
            d.overlap = true
            counters.overlaps += 1
            lastOverlapped = true
        }
        d.frames.append(frame)
        d.sizes.append(f.length)
        if let total = d.total, d.covered.count == 1, d.covered[0].lowerBound == 0, d.covered[0].upperBound >= total {
            counters.reassembled += 1
            completed.removeAll(keepingCapacity: true)
            completed.append(contentsOf: d.data.prefix(total))
            completedFrames = d.frames
            completedSizes = d.sizes
            completedOverlap = d.overlap
            return .completed
        }
        heldBytes += d.data.count
        pending[key] = d
        return .held
    }

    private func copy(_ data: UnsafeRawBufferPointer, from base: Int, range: Range<Int>, into out: inout [UInt8]) {
        let lo = range.lowerBound - base, hi = range.upperBound - base
        guard lo >= 0, hi <= data.count, lo < hi, range.upperBound <= out.count else { return }
        out.withUnsafeMutableBytes { dst in
            guard let d = dst.baseAddress, let s = data.baseAddress else { return }
            (d + range.lowerBound).copyMemory(from: s + lo, byteCount: hi - lo)
        }
    }

    private func insert(_ r: Range<Int>, into covered: inout [Range<Int>]) {
        var merged = r
        var out: [Range<Int>] = []
        out.reserveCapacity(covered.count + 1)
        var placed = false
        for c in covered {
            if c.upperBound < merged.lowerBound {
                out.append(c)
            } else if c.lowerBound > merged.upperBound {
                if !placed { out.append(merged); placed = true }
                out.append(c)
            } else {
                merged = min(c.lowerBound, merged.lowerBound) ..< max(c.upperBound, merged.upperBound)
            }
        }
        if !placed { out.append(merged) }
        covered = out
    }

    /// Drops datagrams that waited longer than the timeout.
    mutating func expire(now: Int) {
        while orderHead < order.count {
            let (key, g) = order[orderHead]
            guard let d = pending[key], d.generation == g else {
                orderHead += 1
                continue
            }
            let (limit, overflow) = d.firstSeen.addingReportingOverflow(limits.timeoutNanoseconds)
            guard !overflow, now > limit else { break }
            drop(key)
            counters.timedOut += 1
            orderHead += 1
        }
        compactOrder()
    }

    /// Drops the oldest waiting datagrams until one more (of `bytes`) fits.
    /// Drops the oldest waiting datagrams until one more (of `bytes`) fits. `keeping`: a datagram
    /// being worked on (out of the table meanwhile); returns true when its arrival-list entry was
    /// passed over, so the caller appends it again.
    @discardableResult
    mutating func makeRoom(for bytes: Int, keeping: Key? = nil) -> Bool {
        var passedKept = false
        while (pending.count >= limits.maxDatagrams || heldBytes + bytes > limits.maxBytes) && orderHead < order.count {
            let (key, g) = order[orderHead]
            orderHead += 1
            if key == keeping { passedKept = true; continue }
            guard let d = pending[key], d.generation == g else { continue }
            drop(key)
            counters.evicted += 1
        }
        compactOrder(keeping: keeping)
        return passedKept
    }

    mutating func drop(_ key: Key) {
        if let d = pending.removeValue(forKey: key) { heldBytes -= d.data.count }
    }

    /// Keeps the arrival list from growing with entries of datagrams already gone.
    mutating func compactOrder(keeping: Key? = nil) {
        if orderHead > 0 && (orderHead >= order.count || orderHead > 1024 && orderHead * 2 > order.count) {
            order.removeFirst(orderHead)
            orderHead = 0
        }
        if order.count > 4 * max(limits.maxDatagrams, 16) {
            order = order.filter { $0.key == keeping || pending[$0.key]?.generation == $0.generation }
            orderHead = 0
        }
    }
}

extension IPv6Address {
    /// An IPv4 address in IPv4-mapped form, so one reassembly key type serves both families.
    init(mapping a: IPv4Address) {
        self.init(hi: 0, lo: 0xFFFF_0000_0000 | UInt64(a.raw))
    }
}
