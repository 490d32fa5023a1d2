import NetWire

/// Packet bytes in tcpdump's `-x` / `-X` layout: a tab, the offset, 16 bytes as eight groups of
/// four hex digits, and (with ASCII) two spaces and the bytes as text, `.` for anything but a
/// graphic ASCII character:
///
///     	0x0000:  4500 003c 3501 4000 4006 07b9 7f00 0001  E..<5.@.@.......
public enum HexDump {
    /// Width of a full line's hex part ("xxxx " × 8 without the last space): the ASCII column
    /// starts two spaces after it.
    static let hexColumns = 39

    /// What part of a frame `-x`/`-X` show.
    public enum Extent: Sendable {
        /// From the network header on (`-x`, `-X`), as tcpdump: everything after the link header.
        case network
        /// The whole frame, link header included (`-xx`, `-XX`).
        case frame
    }

    /// Appends the dump of `bytes` (offsets counted from its start, plus `startOffset`), one line per
    /// 16 bytes, each ending in a newline. Nothing for no bytes.
    public static func lines(_ bytes: UnsafeRawBufferPointer, ascii: Bool, indent: StaticString = "\t",
                             startOffset: Int = 0, into out: inout OutputBuffer) {
        let n = bytes.count
        var offset = 0
        while offset < n {
            let count = min(16, n &- offset)
            out.ascii(indent)
            out.ascii("0x")
            offsetDigits(max(startOffset, 0) &+ offset, &out)
            out.ascii(":  ")
            var i = 0
            while i < count {
                out.hexByte(bytes[offset &+ i])
                if i & 1 == 1 && i != count &- 1 { out.byte(32) }
                i &+= 1
            }
            if ascii {
                // Pad the hex part to its full width: 2 digits per byte, a space per finished pair.
                let written = count &* 2 &+ (count &- 1) / 2
                var pad = hexColumns &- written &+ 2
                while pad > 0 { out.byte(32); pad &-= 1 }
                i = 0
                while i < count {
                    let b = bytes[offset &+ i]
                    out.byte(b > 0x20 && b < 0x7F ? b : 46)
                    i &+= 1
                }
            }
            out.byte(10)
            offset &+= 16
        }
    }

    /// At least four hex digits, more for offsets past 0xffff (tcpdump's `%04x`).
    @inline(__always)
    static func offsetDigits(_ v: Int, _ out: inout OutputBuffer) {
        var digits = 4
        while digits < 16 && v >> (digits * 4) != 0 { digits += 1 }
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.byte(OutputBuffer.hexDigits[(v >> shift) & 0xF])
            shift -= 4
        }
    }

    /// Bytes of the link-layer header of a decoded frame (what `-x` leaves out), never more than
    /// were captured. Unsupported link types have none that we know of: the whole frame is shown.
    public static func linkHeaderLength(_ p: Packet) -> Int {
        max(min(p.networkOffset, p.capturedLength), 0)
    }

    /// The `-x`/`-X` lines of one captured frame: from the network header (`.network`), or all of
    /// it (`.frame`). Like tcpdump, a frame with nothing after its link header shows nothing.
    public static func frame(_ bytes: UnsafeRawBufferPointer, packet p: Packet, extent: Extent, ascii: Bool,
                             into out: inout OutputBuffer) {
        let start = extent == .frame ? 0 : linkHeaderLength(p)
        guard start < bytes.count else { return }
        lines(UnsafeRawBufferPointer(rebasing: bytes[start...]), ascii: ascii, into: &out)
    }
}
