import Testing
@testable import NetWire

@Suite("InternetChecksum")
struct ChecksumTests {
    func withBytes<R>(_ b: [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R { b.withUnsafeBytes(body) }

    @Test func rfc1071Example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 2ddf0, folds to ddf2.
        let b: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        let s = withBytes(b) { InternetChecksum.sum($0) }
        #expect(InternetChecksum.fold(s) == 0xDDF2)
        #expect(RefChecksum.onesSum(b) == 0xDDF2)
    }

    @Test func oddTailIsPaddedWithZero() {
        #expect(withBytes([0x01]) { InternetChecksum.sum($0) } == 0x0100)
        // ABCD + EF00 = 1_9ACD → 9ACE
        #expect(withBytes([0xAB, 0xCD, 0xEF]) { InternetChecksum.fold(InternetChecksum.sum($0)) } == 0x9ACE)
        #expect(RefChecksum.onesSum([0xAB, 0xCD, 0xEF]) == 0x9ACE)
        #expect(withBytes([]) { InternetChecksum.sum($0) } == 0)
        #expect(withBytes([1, 2]) { InternetChecksum.sum($0, initial: 5) } == 0x0107)
    }

    @Test func foldEdgeCases() {
        #expect(InternetChecksum.fold(0) == 0)
        #expect(InternetChecksum.fold(0xFFFF) == 0xFFFF)
        #expect(InternetChecksum.fold(0x1_0000) == 1)
        #expect(InternetChecksum.fold(0x1_FFFE) == 0xFFFF)
        #expect(InternetChecksum.fold(0xFFFF_FFFF) == 0xFFFF)
        #expect(InternetChecksum.fold(UInt64.max) == 0xFFFF)
        #expect(InternetChecksum.fold(0x1234_5678_9ABC) == RefChecksum.onesSum([0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC]))
    }

    @Test func matchesReferenceOnRandomUnalignedBuffers() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        let big = (0 ..< 2048).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        big.withUnsafeBytes { all in
            for _ in 0 ..< 2000 {
                let start = Int.random(in: 0 ..< 64, using: &rng)
                let len = Int.random(in: 0 ... 1500, using: &rng)
                let slice = UnsafeRawBufferPointer(rebasing: all[start ..< start + len])
                let initial = UInt64.random(in: 0 ... 0xFFFF_FFFF, using: &rng)
                let got = InternetChecksum.fold(InternetChecksum.sum(slice, initial: initial))
                // A 32-bit initial value is two more 16-bit words in front.
                let ref = RefChecksum.onesSum(be32(UInt32(initial)) + Array(big[start ..< start + len]))
                if got != ref {
                    Issue.record("start \(start) len \(len) initial \(initial): \(got) vs \(ref)")
                    return
                }
            }
        }
    }

    @Test func allOnesDoesNotOverflow() {
        let b = [UInt8](repeating: 0xFF, count: 65536)
        #expect(withBytes(b) { InternetChecksum.fold(InternetChecksum.sum($0)) } == 0xFFFF)
    }

    @Test func pseudoHeaders() {
        let v4 = InternetChecksum.pseudoHeaderIPv4(source: ipv4(ip4A), destination: ipv4(ip4B), proto: 6, length: 1234)
        #expect(InternetChecksum.fold(v4) == RefChecksum.onesSum(Addrs.v4AB.pseudoHeader(proto: 6, length: 1234)))
        let v6 = InternetChecksum.pseudoHeaderIPv6(source: ipv6(ip6A), destination: ipv6(ip6B), proto: 17, length: 0x1_2345)
        #expect(InternetChecksum.fold(v6) == RefChecksum.onesSum(Addrs.v6AB.pseudoHeader(proto: 17, length: 0x1_2345)))
        let ones = [UInt8](repeating: 0xFF, count: 16)
        let v6max = InternetChecksum.pseudoHeaderIPv6(source: ipv6(ones), destination: ipv6(ones), proto: 255, length: 0xFFFF_FFFF)
        #expect(InternetChecksum.fold(v6max) == RefChecksum.onesSum(ones + ones + be32(0xFFFF_FFFF) + [0, 0, 0, 255]))
    }

    @Test func transportVerdicts() {
        let a = Addrs.v4AB
        let pseudo = InternetChecksum.pseudoHeaderIPv4(source: ipv4(ip4A), destination: ipv4(ip4B), proto: 6, length: 25)
        func verdict(_ mode: ChecksumMode) -> ChecksumStatus {
            let seg = Build.tcp(a, payload: [1, 2, 3, 4, 5], checksum: mode)
            #expect(seg.count == 25)
            return seg.withUnsafeBytes { InternetChecksum.transportVerdict(segment: $0, pseudo: pseudo, field: seg.get16(at: 16)) }
        }
        #expect(verdict(.correct) == .ok)
        #expect(verdict(.bad) == .bad)
        #expect(verdict(.partial) == .unverified)
        #expect(verdict(.partialComplemented) == .unverified)
        #expect(verdict(.value(0x1234)) == .bad)
    }

    @Test func ipv4HeaderBuiltByTestsSumsToAllOnes() {
        // The decoder's IPv4 check: the whole header, checksum included, folds to 0xFFFF.
        let h = Array(Build.ipv4(proto: 6, payload: [], options: [1, 1, 1, 0]).prefix(24))
        #expect(withBytes(h) { InternetChecksum.fold(InternetChecksum.sum($0)) } == 0xFFFF)
    }
}

@Suite("ByteReader")
struct ByteReaderTests {
    /// A heap copy that outlives the closures `#expect` builds.
    static func buffer(_ b: [UInt8]) -> UnsafeRawBufferPointer {
        let m = UnsafeMutableRawBufferPointer.allocate(byteCount: b.count, alignment: 1)
        m.copyBytes(from: b)
        return UnsafeRawBufferPointer(m)
    }

    @Test func readsBigAndLittleEndian() throws {
        let buf = Self.buffer([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22])
        defer { buf.deallocate() }
        var r = ByteReader(buf, layer: .link)
        let a = try r.readUInt8()
        let b = try r.readUInt16()
        let c = try r.readUInt16LE()
        let d = try r.readUInt32()
        let e = try r.readUInt32LE()
        let f = try r.readMAC()
        #expect(a == 1)
        #expect(b == 0x0203)
        #expect(c == 0x0504)
        #expect(d == 0x0607_0809)
        #expect(e == 0x0D0C_0B0A)
        #expect(f == MACAddress(raw: 0x0E0F_1011_1213))
        #expect(r.remaining == 3)
        #expect(throws: DecodeError.truncated(.link, at: 19, needed: 4)) { try r.readUInt32() }
        #expect(r.offset == 19)
    }

    @Test func subWindowsDecideTruncatedVersusMalformed() throws {
        let buf = Self.buffer([UInt8](repeating: 0xAA, count: 10))
        defer { buf.deallocate() }
        // The root window is the capture, clamped by it.
        let root = ByteReader(buf, layer: .link)
        var inside = root.sub(declared: 4, layer: .udp)
        #expect(inside.remaining == 4)
        #expect(!inside.clampedByCapture)
        _ = try inside.readUInt32()
        #expect(throws: DecodeError(layer: .udp, kind: .malformed, offset: 4, detail: .pastDeclaredLength(1))) {
            try inside.readUInt8()
        }
        var past = root.sub(declared: 20, layer: .tcp)
        #expect(past.remaining == 10)
        #expect(past.clampedByCapture)
        try past.skip(10)
        #expect(throws: DecodeError.truncated(.tcp, at: 10, needed: 1)) { try past.readUInt8() }
        #expect(root.sub(declared: -3, layer: .ipv4).remaining == 0)
        // Negative and oversized requirements throw instead of trapping.
        #expect(throws: DecodeError.self) { try root.require(-1) }
        #expect(throws: DecodeError.self) { try root.require(Int.max) }
        #expect(throws: DecodeError.self) { try root.byte(at: -1, lowerBound: 0) }
        #expect(throws: DecodeError.self) { try root.uint16(at: 9, lowerBound: 0) }
        let w = try root.uint16(at: 8, lowerBound: 0)
        #expect(w == 0xAAAA)
        #expect(root.raw(from: 8, to: 100).count == 2)
        #expect(root.raw(from: 50, to: 100).count == 0)
    }
}
