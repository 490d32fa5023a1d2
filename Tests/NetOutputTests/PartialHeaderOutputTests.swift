import Foundation
import Testing
@testable import NetOutput
import NetWire

/// What the JSON and text outputs show of headers that were only partly read (cut by the capture,
/// by a length field, or with an impossible length field): the fields that were read, as tshark
/// shows them, and tcpdump's one-line form with its `[|tcp]` / `(invalid …)` markers.
@Suite struct PartialHeaderOutputTests {
    // MARK: building and rendering

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { be16(UInt16(v >> 16)) + be16(UInt16(v & 0xFFFF)) }

    /// Ethernet + IPv4 (10.0.0.1 → 10.0.0.2, header checksum left 0) + `l4`; `ipPayload` overrides
    /// the length the IP header declares for its payload.
    static func frame(proto: UInt8, _ l4: [UInt8], ipPayload: Int? = nil) -> [UInt8] {
        let eth: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]
        let total = UInt16(20 + (ipPayload ?? l4.count))
        return eth + [0x45, 0] + be16(total) + be16(1) + be16(0x4000) + [64, proto] + be16(0)
            + [10, 0, 0, 1, 10, 0, 0, 2] + l4
    }

    static func tcp(flags: UInt8 = 0x18, dataOffset: UInt8 = 5, options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        be16(40000) + be16(80) + be32(1000) + be32(2000) + [dataOffset << 4, flags] + be16(512) + be16(0x1234) + be16(7)
            + options + payload
    }

    static func decode(_ bytes: [UInt8], wireLength: Int? = nil, link: LinkType = .ethernet) -> Packet {
        var p = Packet()
        bytes.withUnsafeBytes { buf in
            PacketDecoder().decode(buf, wireLength: wireLength ?? bytes.count, linkType: link, into: &p)
        }
        return p
    }

    /// The packet's JSON object.
    static func json(_ p: Packet) -> [String: Any] {
        var o = OutputBuffer(fd: -1, capacity: 512)
        JSONFormatter(nanosecondPrecision: false).format(frame: 1, seconds: 0, nanoseconds: 0, packet: p, link: "x", into: &o)
        let line = o.takeString()
        let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(obj != nil, "not JSON: \(line)")
        return obj ?? [:]
    }

    /// The packet's text line (no time stamp, numeric ports).
    static func text(_ p: Packet) -> String {
        var options = TextOptions()
        options.timestamps = .none
        options.numeric = true
        var f = TextFormatter(options: options)
        var o = OutputBuffer(fd: -1, capacity: 512)
        f.format(seconds: 0, nanoseconds: 0, packet: p, linkName: "EN10MB", into: &o)
        return o.takeString()
    }

    static func keys(_ obj: Any?) -> Set<String> { Set((obj as? [String: Any])?.keys.map { $0 } ?? []) }

    // MARK: TCP

    @Test(arguments: [4, 15, 16, 17, 18, 19, 20])
    func tcpHeaderCutByTheCapture(n: Int) {
        let f = Self.frame(proto: 6, Self.tcp(payload: [1, 2, 3]))
        let p = Self.decode(Array(f.prefix(34 + n)), wireLength: f.count)
        let t = Self.json(p)["tcp"]
        var expected: Set<String> = ["sport", "dport"]
        if n >= 16 { expected.formUnion(["seq", "ack", "flags", "win", "payload_len", "hlen"]) }
        if n >= 18 { expected.insert("checksum") }
        if n >= 20 { expected.insert("options") }
        #expect(Self.keys(t) == expected, "n = \(n)")
        if n >= 16 {
            #expect((t as? [String: Any])?["ack"] as? Int == 2000)
            #expect((t as? [String: Any])?["payload_len"] as? Int == 3)
        }
        if n >= 18 { #expect((t as? [String: Any])?["checksum"] as? String == "unverified") }
        // The text line stays tcpdump's: ports, then the truncation marker, until the header is whole.
        let line = Self.text(p)
        if n < 20 {
            #expect(line.hasSuffix("IP 10.0.0.1.40000 > 10.0.0.2.80: [|tcp]\n"), "\(line)")
        } else {
            #expect(line.contains("Flags [P.]"), "\(line)")
        }
    }

    @Test func tcpSegmentShorterThanItsFixedHeader() {
        // The IP header declares 18 bytes of TCP: those are shown, the checksum checked over them.
        let p = Self.decode(Self.frame(proto: 6, Array(Self.tcp().prefix(18))))
        let t = Self.json(p)["tcp"] as? [String: Any]
        #expect(Self.keys(t) == ["sport", "dport", "seq", "ack", "flags", "win", "payload_len", "hlen", "checksum"])
        #expect(t?["payload_len"] as? Int == 0)
        #expect(t?["checksum"] as? String == "bad")
        #expect(Self.text(p).contains("(invalid tcp: 20-byte field past declared length at offset 34)"))
    }

    @Test(arguments: [UInt8(0), 3, 4])
    func tcpDataOffsetBelowFive(doff: UInt8) {
        let p = Self.decode(Self.frame(proto: 6, Self.tcp(flags: 0x04, dataOffset: doff, payload: [1, 2, 3, 4])))
        let t = Self.json(p)["tcp"] as? [String: Any]
        // Every field that was read stays (the contract drops no key); the impossible header has no
        // options.
        #expect(Self.keys(t) == ["sport", "dport", "seq", "ack", "flags", "win", "payload_len", "hlen", "options", "checksum"])
        #expect((t?["options"] as? [Any])?.isEmpty == true)
        #expect(t?["hlen"] as? Int == Int(doff) * 4)
        #expect(t?["payload_len"] as? Int == 24 - Int(doff) * 4)
        #expect(Self.json(p)["flow"] == nil)
        #expect(Self.text(p) == "IP 10.0.0.1.40000 > 10.0.0.2.80: (invalid tcp: data offset \(Int(doff) * 4) at offset 46)\n")
    }

    @Test func tcpHeaderLongerThanItsSegment() {
        let p = Self.decode(Self.frame(proto: 6, Self.tcp(dataOffset: 8, options: [1, 1, 1, 1])))
        let t = Self.json(p)["tcp"] as? [String: Any]
        #expect(t?["payload_len"] as? Int == 0)  // the segment does not even hold the header
        #expect(t?["hlen"] as? Int == 32)
        #expect((t?["options"] as? [[String: Any]])?.count == 4)
    }

    @Test func tcpOptionsWithWrongLengthAndCutSACK() {
        // MSS with length 6 (listed, invalid), then a SACK the capture cut after its first block.
        let opts: [UInt8] = [2, 6, 5, 0xB4, 0, 0, 1, 1, 5, 18] + Self.be32(100) + Self.be32(200) + Self.be32(300) + [0, 0, 0, 0, 0, 0]
        let f = Self.frame(proto: 6, Self.tcp(dataOffset: 12, options: opts))
        let p = Self.decode(Array(f.prefix(54 + 10 + 12)), wireLength: f.count)
        let o = (Self.json(p)["tcp"] as? [String: Any])?["options"] as? [[String: Any]] ?? []
        #expect(o.count == 4)
        #expect(o.first?["kind"] as? String == "mss" && o.first?["invalid"] as? Bool == true && o.first?["len"] as? Int == 6)
        #expect(o.last?["kind"] as? String == "sack" && o.last?["truncated"] as? Bool == true)
        #expect(o.last?["value"] as? [[Int]] == [[100, 200]])
        let line = Self.text(p)
        #expect(line.contains("options [mss [len 6],nop,nop,sack 2 {100:200}]"), "\(line)")
        #expect(line.contains("(invalid tcp: option length 6 at offset 55) [|tcp]"), "\(line)")
    }

    // MARK: UDP, SLL2, DNS

    @Test func udpLengthBelowItsHeader() {
        let p = Self.decode(Self.frame(proto: 17, Self.be16(40000) + Self.be16(9) + Self.be16(5) + Self.be16(0) + [1, 2]))
        let u = Self.json(p)["udp"] as? [String: Any]
        #expect(Self.keys(u) == ["sport", "dport", "len"])  // no checksum: the length frames nothing
        #expect(Self.text(p) == "IP 10.0.0.1.40000 > 10.0.0.2.9: (invalid udp: length 5 at offset 38)\n")
    }

    @Test func sll2CutInsideItsAddress() {
        let hdr: [UInt8] = [0x08, 0x00, 0, 0] + Self.be32(1) + Self.be16(772) + [0, 6] + [0, 0, 0, 0, 0, 0, 0, 0]
        for (n, expected) in [(11, Set<String>()), (12, Set(["pkttype", "hatype", "type", "ifindex"])),
                              (17, ["pkttype", "hatype", "type", "ifindex"]), (18, ["pkttype", "hatype", "type", "ifindex", "addr"])] {
            let p = Self.decode(Array(hdr.prefix(n)), wireLength: 60, link: .linuxSLL2)
            let obj = Self.json(p)
            if expected.isEmpty { #expect(obj["sll2"] == nil, "n = \(n)") } else { #expect(Self.keys(obj["sll2"]) == expected, "n = \(n)") }
        }
    }

    @Test func dnsIDIsShownOnlyWithTheFlags() {
        let udp: ([UInt8]) -> [UInt8] = { Self.be16(40001) + Self.be16(53) + Self.be16(UInt16(8 + $0.count)) + Self.be16(0) + $0 }
        let two = Self.decode(Self.frame(proto: 17, udp([0x12, 0x34])))
        #expect(Self.json(two)["dns"] == nil)
        let four = Self.decode(Self.frame(proto: 17, udp([0x12, 0x34, 0x01, 0x00])))
        #expect(Self.keys(Self.json(four)["dns"]) == ["id", "qr", "opcode", "rcode", "flags"])
    }
}
