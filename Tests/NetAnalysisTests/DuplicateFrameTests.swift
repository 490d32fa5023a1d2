import Testing
import NetAnalysis

@Suite struct DuplicateFrameTests {
    func check(_ d: inout DuplicateFrameDetector, _ frame: Int, _ bytes: [UInt8], ns: Int, wire: Int? = nil) -> Int? {
        bytes.withUnsafeBytes { d.check(frame: frame, seconds: 100, nanoseconds: ns, bytes: $0, wireLength: wire ?? bytes.count) }
    }

    @Test func sameBytesWithinWindowIsDuplicate() {
        var d = DuplicateFrameDetector(window: 1_000_000)
        #expect(check(&d, 1, [1, 2, 3, 4], ns: 0) == nil)
        #expect(check(&d, 2, [1, 2, 3, 4], ns: 500_000) == 1)
        // A third copy points at the first, not the second.
        #expect(check(&d, 3, [1, 2, 3, 4], ns: 600_000) == 1)
    }

    @Test func differentBytesOrLengthOrLateIsNot() {
        var d = DuplicateFrameDetector(window: 1_000_000)
        #expect(check(&d, 1, [1, 2, 3, 4], ns: 0) == nil)
        #expect(check(&d, 2, [1, 2, 3, 5], ns: 10) == nil)
        #expect(check(&d, 3, [1, 2, 3], ns: 20) == nil)
        #expect(check(&d, 4, [1, 2, 3, 4], ns: 20, wire: 99) == nil)
        #expect(check(&d, 5, [1, 2, 3, 4], ns: 5_000_000) == nil)  // outside the window: a real resend
    }

    @Test func onlyRecentFramesAreRemembered() {
        var d = DuplicateFrameDetector(window: 1_000_000_000, capacity: 2)
        #expect(check(&d, 1, [9], ns: 0) == nil)
        #expect(check(&d, 2, [8], ns: 1) == nil)
        #expect(check(&d, 3, [7], ns: 2) == nil)
        #expect(check(&d, 4, [9], ns: 3) == nil)  // frame 1 fell out of the ring
        #expect(check(&d, 5, [7], ns: 4) == 3)
    }
}
