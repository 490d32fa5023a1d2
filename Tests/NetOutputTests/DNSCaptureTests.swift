import Foundation
import Testing

/// The DNS fixtures made by captures/make_dns.py: every record of every section in every view,
/// the root written ".", and DNS over TCP decoded on the frame that completes each message.
@Suite struct DNSCaptureTests {
    static func jsonLines(_ file: String) throws -> [[String: Any]] {
        let r = try CLI.run(["-r", "captures/\(file)", "--json"])
        #expect(r.status == 0 && !r.signaled, "\(r.stderr)")
        return try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func records(_ dns: [String: Any], _ section: String) -> [[String: Any]] {
        dns[section] as? [[String: Any]] ?? []
    }

    @Test func everyRecordOfEverySectionIsListed() throws {
        let lines = try Self.jsonLines("dns-dnssec.pcap")
        #expect(lines.count == 12)
        for line in lines {
            let dns = try #require(line["dns"] as? [String: Any])
            let counts = try #require(dns["counts"] as? [Int])
            #expect(Self.records(dns, "answers").count == counts[1], "frame \(line["frame"] ?? 0)")
            #expect(Self.records(dns, "authority").count == counts[2], "frame \(line["frame"] ?? 0)")
            #expect(Self.records(dns, "additional").count == counts[3], "frame \(line["frame"] ?? 0)")
            for section in ["answers", "authority", "additional"] {
                for rr in Self.records(dns, section) {
                    for key in ["name", "type", "class", "ttl", "rdlength", "data"] { #expect(rr[key] != nil, "\(key) in \(rr)") }
                }
            }
        }
        let any = try #require(lines[7]["dns"] as? [String: Any])
        #expect(Self.records(any, "answers").compactMap { $0["type"] as? String } ==
            ["HINFO", "CAA", "CAA", "NAPTR", "SSHFP", "TLSA", "URI", "SPF", "TXT", "RP", "AFSDB", "LOC", "CDS", "CDNSKEY"])
        #expect(Self.records(any, "authority").compactMap { $0["type"] as? String } == ["NS", "SVCB"])
        #expect(Self.records(any, "additional").compactMap { $0["type"] as? String } == ["HTTPS", "A", "AAAA", "TYPE65280", "OPT"])
        #expect(Self.records(any, "answers").first?["data"] as? String == "\"PDP-11\" \"UNIX\"")
        #expect(Self.records(any, "additional").first?["data"] as? String == "1 . alpn=h2 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1")
        let keys = try #require(lines[1]["dns"] as? [String: Any])
        let sig = Self.records(keys, "answers").last
        #expect(sig?["type"] as? String == "RRSIG")
        #expect((sig?["data"] as? String)?.hasPrefix("DNSKEY 13 2 3600 20231214221320 20231114221320 2371 example.com ") == true)
        #expect(sig?["rdlength"] as? Int == 95)
        let nx = try #require(lines[5]["dns"] as? [String: Any])
        #expect(Self.records(nx, "authority").compactMap { $0["type"] as? String } ==
            ["SOA", "RRSIG", "NSEC", "RRSIG", "NSEC3", "NSEC3PARAM"])
        #expect(Self.records(nx, "authority")[2]["data"] as? String == "www.example.com A AAAA RRSIG NSEC")
        #expect(Self.records(nx, "authority")[5]["data"] as? String == "1 0 0 -")
    }

    @Test func theRootIsADot() throws {
        let lines = try Self.jsonLines("dns-dnssec.pcap")
        let answer = try #require(lines[9]["dns"] as? [String: Any])
        #expect((answer["questions"] as? [[String: Any]])?.first?["name"] as? String == ".")
        #expect(Self.records(answer, "answers").compactMap { $0["name"] as? String } == [".", "."])
        #expect(Self.records(answer, "additional").last?["name"] as? String == ".")
        let text = try CLI.run(["-n", "-r", "captures/dns-dnssec.pcap"]).stdout.split(separator: "\n")
        #expect(text[8].hasSuffix("21253 [1au] NS? . (28)"))
        let v = try CLI.run(["-n", "-v", "-r", "captures/dns-dnssec.pcap"]).stdout
        #expect(v.contains("    question: . IN NS\n"))
        #expect(v.contains("    answer: . 518400 IN NS a.root-servers.net. (rdlength 20)\n"))
    }

    @Test func aMalformedRecordIsKeptRaw() throws {
        let last = try #require(try Self.jsonLines("dns-dnssec.pcap").last)
        let dns = try #require(last["dns"] as? [String: Any])
        #expect(Self.records(dns, "answers").compactMap { $0["data"] as? String } == ["\\# 3 000078", "192.0.2.80"])
        let errors = last["errors"] as? [[String: Any]]
        #expect(errors?.count == 1)
        #expect(errors?.first?["kind"] as? String == "malformed")
        #expect(errors?.first?["layer"] as? String == "dns")
    }

    @Test func dnsOverTCPOnTheFrameThatCompletesEachMessage() throws {
        let lines = try Self.jsonLines("dns-tcp.pcap")
        #expect(lines.count == 19)
        var ids: [Int: [Int]] = [:]
        for line in lines {
            let frame = line["frame"] as? Int ?? 0
            guard let dns = line["dns"] as? [String: Any] else { continue }
            let all = line["dns_messages"] as? [[String: Any]] ?? [dns]
            ids[frame] = all.compactMap { $0["id"] as? Int }
            #expect(all.first?["id"] as? Int == dns["id"] as? Int)
        }
        #expect(ids == [4: [0x7001, 0x7002], 5: [0x7001], 7: [0x7002], 9: [0x7003], 10: [0x7003],
                        11: [0x7003, 0x7003], 13: [0x7003], 15: [0x7004], 16: [0x7004]])
        // A whole message with fewer answers than its header claims: malformed, in the message's errors.
        let bad = try #require(lines[15]["dns"] as? [String: Any])
        #expect(Self.records(bad, "answers").count == 1)
        let errors = bad["errors"] as? [[String: Any]]
        #expect(errors?.count == 1)
        #expect(errors?.first?["kind"] as? String == "malformed")
        #expect(lines[15]["errors"] == nil)
        // The split response: AAAA and its RRSIG, decoded once the second part arrived.
        let r2 = try #require(lines[6]["dns"] as? [String: Any])
        #expect(Self.records(r2, "answers").compactMap { $0["type"] as? String } == ["AAAA", "RRSIG"])
        // The zone transfer: 3 + 2 + 2 + 1 records, ending with the SOA.
        let axfr = [lines[9]["dns"]] + (lines[10]["dns_messages"] as? [Any] ?? []) + [lines[12]["dns"]]
        let types = axfr.compactMap { $0 as? [String: Any] }.flatMap { Self.records($0, "answers").compactMap { $0["type"] as? String } }
        #expect(types == ["SOA", "NS", "A", "A", "MX", "A", "TXT", "SOA"])
    }

    /// The real-world retry over TCP (captures/dns-tcp-dnssec.pcapng): the response's length prefix
    /// is split 1 + 1 over two segments; it is decoded on the second, with all of its DNSSEC records.
    @Test func realWorldDNSSECOverTCP() throws {
        let lines = try Self.jsonLines("dns-tcp-dnssec.pcapng")
        #expect(lines.count == 14)
        #expect(lines[7]["dns"] == nil)
        let dns = try #require(lines[9]["dns"] as? [String: Any])
        #expect(dns["id"] as? Int == 46275)
        #expect(Self.records(dns, "answers").compactMap { $0["type"] as? String } ==
            ["DNSKEY", "DNSKEY", "DNSKEY", "DNSKEY", "RRSIG", "DS", "DS", "RRSIG"])
        #expect(Self.records(dns, "answers").compactMap { $0["rdlength"] as? Int } == [264, 136, 136, 264, 284, 24, 36, 151])
        #expect(Self.records(dns, "answers")[5]["data"] as? String == "47252 5 1 02739F2DD39560789D73581AA60F0CDB6073A849")
        #expect((Self.records(dns, "answers")[7]["data"] as? String)?.hasPrefix("DS 8 2 86400 20121014041541 20121007030541 61988 net ") == true)
        // The UDP answer before it (TC set) lists its 2 DNSKEYs too.
        let udp = try #require(lines[1]["dns"] as? [String: Any])
        #expect(Self.records(udp, "answers").compactMap { $0["type"] as? String } == ["DNSKEY", "DNSKEY"])
    }

    @Test func dnsOverTCPInTheTextViews() throws {
        let text = try CLI.run(["-n", "-r", "captures/dns-tcp.pcap"]).stdout.split(separator: "\n").map(String.init)
        #expect(text[3].contains("length 70 28673+ A? www.example.com. (33) | 28674+ AAAA? www.example.com. (33) [sticky"))
        #expect(text[6].contains("length 180 28674 2/0/0 AAAA 2001:db8::80, RRSIG (198) [split"))
        #expect(!text[5].contains("28673"))  // a bare ACK
        #expect(text[15].contains("28676 2/0/0 A 192.0.2.80 (64) (invalid domain: 1-byte field past declared length at offset 64) [msg #7"))
        let v = try CLI.run(["-n", "-v", "-r", "captures/dns-tcp.pcap"]).stdout
        #expect(v.components(separatedBy: "  Application: DNS over TCP, ").count - 1 == 11)
        #expect(v.contains("    error: malformed domain ("))
        #expect(v.contains("    answer: www.example.com. 60 IN AAAA 2001:db8::80 (rdlength 16)\n"))
    }
}
