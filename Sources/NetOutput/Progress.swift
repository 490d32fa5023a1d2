/// The progress line shown on a terminal's standard error while a large file is read:
///
///     reading big.pcap  312.4 MB of 766.9 MB  [#########...........]  41%  1.42 M packets/s  ETA 0:03
///
/// Pure formatting: the caller decides when to draw (a few times a second) and where.
public struct ProgressLine: Sendable {
    public var name: String
    public var total: Int64

    public init(name: String, total: Int64) {
        self.name = name
        self.total = max(total, 0)
    }

    /// `312.4 MB`
    public static func size(_ b: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(max(b, 0))
        var u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        if u == 0 { return "\(Int(v)) B" }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[u])"
    }

    /// `1.42 M`, `853 k`, `12`
    public static func rate(_ perSecond: Double) -> String {
        guard perSecond.isFinite, perSecond >= 0 else { return "?" }
        if perSecond >= 1_000_000 {
            let h = Int((perSecond / 10_000).rounded())
            let frac = String(h % 100)
            return "\(h / 100)." + (frac.count < 2 ? "0" + frac : frac) + " M"
        }
        if perSecond >= 1000 { return "\(Int((perSecond / 1000).rounded())) k" }
        return "\(Int(perSecond.rounded()))"
    }

    /// `0:07`, `12:30`, `1:02:03`
    public static func clock(_ seconds: Int) -> String {
        let s = max(seconds, 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if s >= 3600 { return "\(s / 3600):" + two(s / 60 % 60) + ":" + two(s % 60) }
        return "\(s / 60):" + two(s % 60)
    }

    /// The line (without a newline) for `read` bytes and `packets` after `elapsed` nanoseconds, at
    /// most `width` columns: the bar takes the room the rest leaves (and is dropped when there is none).
    public func text(read: Int64, packets: Int, elapsedNanoseconds: Int, width: Int) -> String {
        let done = total > 0 ? min(Double(max(read, 0)) / Double(total), 1) : 0
        let seconds = Double(max(elapsedNanoseconds, 1)) / 1e9
        let pps = Double(packets) / seconds
        var eta = "ETA ?"
        if done > 0.001 {
            let remaining = seconds * (1 - done) / done
            eta = "ETA " + Self.clock(Int(remaining.rounded(.up)))
        }
        let percent = "\(Int((done * 100).rounded(.down)))%"
        let sizes = "  \(Self.size(read)) of \(Self.size(total))"
        let tail = "  \(percent)  \(Self.rate(pps)) packets/s  \(eta)"
        // The bar takes the room left (at most 40 cells); without room for 10 cells it is dropped,
        // then the file name is shortened from the front.
        var name = self.name
        let fixed = "reading ".count + sizes.count + tail.count
        let room = width - fixed - name.count - 4
        if room >= 10 {
            let cells = min(room, 40)
            let filled = Int((Double(cells) * done).rounded(.down))
            return "reading " + name + sizes + "  [" + String(repeating: "#", count: filled)
                + String(repeating: ".", count: cells - filled) + "]" + tail
        }
        if fixed + name.count > width {
            let keep = width - fixed - 1
            name = keep > 0 ? "…" + String(name.suffix(keep)) : ""
        }
        let line = "reading " + name + sizes + tail
        return line.count <= width ? line : String(line.prefix(max(width, 0)))
    }
}
