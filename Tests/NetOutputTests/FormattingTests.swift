import Testing
@testable import NetOutput
import NetWire

@Suite struct FormattingTests {
    func render(_ body: (inout OutputBuffer) -> Void) -> String {
        var o = OutputBuffer(fd: -1, capacity: 64)
        body(&o)
        return o.takeString()
    }

    @Test func decimalsAndPadding() {
        #expect(render { $0.unsigned(0) } == "0")
        #expect(render { $0.unsigned(UInt64.max) } == "18446744073709551615")
        for v: UInt64 in [1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10_000, 65535, 99_999, 100_000, 4_294_967_295, 12_345_678_901] {
            #expect(render { $0.unsigned(v) } == String(v))
        }
        #expect(render { $0.decimal(-42) } == "-42")
        #expect(render { $0.padded(7, width: 6) } == "000007")
        #expect(render { $0.hexPadded(0x800, digits: 4) } == "0x0800")
        #expect(render { $0.hex(0) } == "0")
        #expect(render { $0.hex(0xabc) } == "abc")
    }

    @Test func growsPastInitialCapacity() {
        let s = render { o in for _ in 0 ..< 1000 { o.ascii("0123456789") } }
        #expect(s.utf8.count == 10_000)
    }

    @Test func ipv4AndMAC() {
        #expect(render { $0.ipv4(IPv4Address(127, 0, 0, 1)) } == "127.0.0.1")
        #expect(render { $0.ipv4(IPv4Address(raw: 0xFFFF_FFFF)) } == "255.255.255.255")
        #expect(render { $0.mac(MACAddress(raw: 0x0200_0000_00A6)) } == "02:00:00:00:00:a6")
    }

    /// RFC 5952 §4 rules.
    @Test(arguments: [
        (IPv6Address(hi: 0, lo: 1), "::1"),
        (IPv6Address(hi: 0, lo: 0), "::"),
        (IPv6Address(hi: 0x2001_0db8_0000_0000, lo: 0x0000_0000_0000_0001), "2001:db8::1"),
        // A single zero group is not shortened.
        (IPv6Address(hi: 0x2001_0db8_0000_0001, lo: 0x0001_0001_0001_0001), "2001:db8:0:1:1:1:1:1"),
        // The longest run wins; on a tie the first.
        (IPv6Address(hi: 0x2001_0000_0000_0001, lo: 0x0000_0000_0000_0001), "2001:0:0:1::1"),
        (IPv6Address(hi: 0x2001_0db8_0000_0000, lo: 0x0001_0000_0000_0001), "2001:db8::1:0:0:1"),
        (IPv6Address(hi: 0xfe80_0000_0000_0000, lo: 0x0200_5eff_fe00_5301), "fe80::200:5eff:fe00:5301"),
        (IPv6Address(hi: 0, lo: 0x0000_ffff_c000_0201), "::ffff:192.0.2.1"),
        (IPv6Address(hi: 0x0001_0000_0000_0000, lo: 0), "1::"),
        // IPv4-compatible (96 zero bits, then a non-zero seventh group) as tcpdump and tshark print it;
        // ::1, ::2 and ::100 (seventh group zero) are not.
        (IPv6Address(hi: 0, lo: 0x0000_0000_c000_0201), "::192.0.2.1"),
        (IPv6Address(hi: 0, lo: 0x0000_0000_0001_0002), "::0.1.0.2"),
        (IPv6Address(hi: 0, lo: 2), "::2"),
        (IPv6Address(hi: 0, lo: 0x100), "::100"),
        (IPv6Address(hi: 0, lo: 0x0000_ffff_0000_0001), "::ffff:0.0.0.1"),
        (IPv6Address(hi: 0, lo: 0x0001_ffff_0000_0001), "::1:ffff:0:1"),
        (IPv6Address(hi: 0x0064_ff9b_0000_0000, lo: 0x0000_0000_c000_0201), "64:ff9b::c000:201"),
    ])
    func ipv6(_ a: IPv6Address, _ expected: String) {
        #expect(render { $0.ipv6(a) } == expected)
    }

    @Test func jsonEscaping() {
        #expect(render { $0.jsonString("a\"b\\c\n\u{1}") } == "\"a\\\"b\\\\c\\n\\u0001\"")
    }
}
