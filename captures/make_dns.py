#!/usr/bin/env python3
"""Crafted DNS captures: captures/dns-dnssec.pcap and captures/dns-tcp.pcap.

Deterministic: fixed addresses (documentation ranges), ids, ports, sequence numbers and
timestamps. The DNS messages are written by the small encoder below (so every record type
and its exact bytes are under control); scapy builds Ethernet/IPv4/UDP/TCP with correct
checksums. Run: python3 captures/make_dns.py   (rewrites both files)

dns-dnssec.pcap (UDP, 192.0.2.10 -> 192.0.2.53:53): DNSSEC responses and many RR types in
the answer, authority and additional sections; a root-name query; one record whose data is
malformed (a CAA tag of length 0), kept as raw bytes.
dns-tcp.pcap (one TCP connection 192.0.2.10:40100 -> 192.0.2.53:53): two queries in one
segment, a response split over two segments, a length prefix split across segments, a
segment that completes two responses, a zone transfer (AXFR) in several messages, and a
response that claims more answers than it carries (malformed).
"""

import os
import struct

from scapy.all import Ether, IP, TCP, UDP, raw

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_TS = 1700000000
C, S = "192.0.2.10", "192.0.2.53"
MAC_C, MAC_S = "02:00:00:00:00:0a", "02:00:00:00:00:35"

T = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "HINFO": 13, "MX": 15, "TXT": 16, "RP": 17, "AFSDB": 18,
     "AAAA": 28, "LOC": 29, "SRV": 33, "NAPTR": 35, "OPT": 41, "DS": 43, "SSHFP": 44, "RRSIG": 46,
     "NSEC": 47, "DNSKEY": 48, "NSEC3": 50, "NSEC3PARAM": 51, "TLSA": 52, "CDS": 59, "CDNSKEY": 60,
     "SVCB": 64, "HTTPS": 65, "SPF": 99, "AXFR": 252, "ANY": 255, "URI": 256, "CAA": 257}


def name(n):
    """Uncompressed wire form; "." or "" is the root."""
    out = b""
    for label in n.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def cstr(s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b)]) + b


def bitmap(types):
    windows = {}
    for t in types:
        windows.setdefault(t >> 8, set()).add(t & 0xFF)
    out = b""
    for w in sorted(windows):
        bits = bytearray(max(windows[w]) // 8 + 1)
        for b in windows[w]:
            bits[b // 8] |= 0x80 >> (b % 8)
        out += bytes([w, len(bits)]) + bytes(bits)
    return out


def rr(owner, typ, rdata, ttl=3600, rclass=1):
    return name(owner) + struct.pack(">HHIH", T.get(typ, typ) if isinstance(typ, str) else typ,
                                     rclass, ttl, len(rdata)) + rdata


def opt(udp=1232, do=True, options=b""):
    return name(".") + struct.pack(">HHIH", 41, udp, 0x8000 if do else 0, len(options)) + options


def msg(ident, flags, questions, an=(), ns=(), ar=()):
    out = struct.pack(">HHHHHH", ident, flags, len(questions), len(an), len(ns), len(ar))
    for qn, qt in questions:
        out += name(qn) + struct.pack(">HH", T[qt], 1)
    return out + b"".join(an) + b"".join(ns) + b"".join(ar)


KEY = bytes(range(3, 3 + 64))      # a stand-in public key (64 bytes)
SIG = bytes(range(100, 100 + 64))  # a stand-in signature
DIGEST = bytes.fromhex("2bb183af5f22588179a53b0a98631fad1a292118bfc3a3e2b54d6b2b1a5d1ae8")


def rrsig(covered, signer, labels=2, key_tag=12345, alg=13):
    # expiration 2023-12-14 22:13:20, inception 2023-11-14 22:13:20 (UTC)
    return struct.pack(">HBBIIIH", T[covered], alg, labels, 3600, BASE_TS + 30 * 86400, BASE_TS, key_tag) \
        + name(signer) + SIG


def dnssec_messages():
    z = "example.com"
    q = []
    # 1-2: DNSKEY with DO: two keys and their signature, OPT in both.
    q.append(msg(0x5301, 0x0100, [(z, "DNSKEY")], ar=[opt()]))
    q.append(msg(0x5301, 0x81A0, [(z, "DNSKEY")],
                 an=[rr(z, "DNSKEY", struct.pack(">HBB", 257, 3, 13) + KEY),
                     rr(z, "DNSKEY", struct.pack(">HBB", 256, 3, 13) + KEY[::-1]),
                     rr(z, "RRSIG", rrsig("DNSKEY", z, key_tag=2371))],
                 ar=[opt()]))
    # 3-4: DS (at the parent) with its signature, and the parent's NS in authority.
    q.append(msg(0x5302, 0x0100, [(z, "DS")], ar=[opt()]))
    q.append(msg(0x5302, 0x8180, [(z, "DS")],
                 an=[rr(z, "DS", struct.pack(">HBB", 2371, 13, 2) + DIGEST),
                     rr(z, "RRSIG", rrsig("DS", "com", labels=2, key_tag=19718))],
                 ns=[rr("com", "NS", name("a.gtld-servers.net"), ttl=172800)],
                 ar=[rr("a.gtld-servers.net", "A", bytes([192, 0, 2, 30]), ttl=172800), opt()]))
    # 5-6: NXDOMAIN with denial of existence: SOA, NSEC, NSEC3, NSEC3PARAM and their RRSIGs.
    soa = name("ns1." + z) + name("hostmaster." + z) + struct.pack(">IIIII", 2023111401, 7200, 3600, 1209600, 300)
    q.append(msg(0x5303, 0x0100, [("nope." + z, "A")], ar=[opt()]))
    q.append(msg(0x5303, 0x81A3, [("nope." + z, "A")],
                 ns=[rr(z, "SOA", soa, ttl=300),
                     rr(z, "RRSIG", rrsig("SOA", z), ttl=300),
                     rr("mail." + z, "NSEC", name("www." + z) + bitmap([1, 28, 46, 47]), ttl=300),
                     rr("mail." + z, "RRSIG", rrsig("NSEC", z, labels=3), ttl=300),
                     rr("9ttl7e8ik0vhbl7i9dmfhi6o4t4k1ogc." + z, "NSEC3",
                        struct.pack(">BBH", 1, 1, 10) + cstr(bytes.fromhex("aabbccdd"))
                        + cstr(bytes(range(0xA0, 0xA0 + 20))) + bitmap([1, 2, 6, 46, 48, 51, 65, 257]), ttl=300),
                     rr(z, "NSEC3PARAM", struct.pack(">BBH", 1, 0, 0) + cstr(b""), ttl=300)],
                 ar=[opt()]))
    # 7-8: many record types in every section.
    q.append(msg(0x5304, 0x0100, [(z, "ANY")]))
    q.append(msg(0x5304, 0x8580, [(z, "ANY")],
                 an=[rr(z, "HINFO", cstr("PDP-11") + cstr("UNIX")),
                     rr(z, "CAA", bytes([0]) + cstr("issue") + b"ca.example.net"),
                     rr(z, "CAA", bytes([128]) + cstr("iodef") + b"mailto:security@example.com"),
                     rr(z, "NAPTR", struct.pack(">HH", 100, 10) + cstr("S") + cstr("SIP+D2U") + cstr("")
                        + name("_sip._udp." + z)),
                     rr(z, "SSHFP", bytes([4, 2]) + DIGEST),
                     rr("_443._tcp.www." + z, "TLSA", bytes([3, 1, 1]) + DIGEST),
                     rr("_ftp._tcp." + z, "URI", struct.pack(">HH", 10, 1) + b"ftp://ftp.example.com/public"),
                     rr(z, "SPF", cstr("v=spf1 -all")),
                     rr(z, "TXT", cstr("hello \"world\"") + cstr("")),
                     rr(z, "RP", name("admin." + z) + name("info." + z)),
                     rr(z, "AFSDB", struct.pack(">H", 1) + name("afs." + z)),
                     rr(z, "LOC", bytes.fromhex("00121600899aa2b88062de708001be80")),
                     rr(z, "CDS", struct.pack(">HBB", 2371, 13, 2) + DIGEST),
                     rr(z, "CDNSKEY", struct.pack(">HBB", 257, 3, 13) + KEY)],
                 ns=[rr(z, "NS", name("ns1." + z)),
                     rr(z, "SVCB", struct.pack(">H", 1) + name("svc." + z)
                        + struct.pack(">HH", 1, 6) + cstr("h2") + cstr("h3")
                        + struct.pack(">HHH", 3, 2, 8443))],
                 ar=[rr(z, "HTTPS", struct.pack(">H", 1) + name(".")
                        + struct.pack(">HH", 1, 3) + cstr("h2")
                        + struct.pack(">HH", 4, 4) + bytes([192, 0, 2, 1])
                        + struct.pack(">HH", 6, 16) + bytes.fromhex("20010db8000000000000000000000001")),
                     rr("ns1." + z, "A", bytes([192, 0, 2, 53])),
                     rr("ns1." + z, "AAAA", bytes.fromhex("20010db8000000000000000000000053")),
                     rr(z, 65280, bytes.fromhex("deadbeef")),
                     opt(udp=4096, do=False, options=struct.pack(">HH", 10, 8) + bytes(range(1, 9)))]))
    # 9-10: the root: a priming query and its answer (names are ".").
    q.append(msg(0x5305, 0x0000, [(".", "NS")], ar=[opt(do=False)]))
    q.append(msg(0x5305, 0x8400, [(".", "NS")],
                 an=[rr(".", "NS", name("a.root-servers.net"), ttl=518400),
                     rr(".", "RRSIG", rrsig("NS", ".", labels=0, key_tag=20326, alg=8), ttl=518400)],
                 ar=[rr("a.root-servers.net", "A", bytes([198, 51, 100, 4]), ttl=518400), opt(do=False)]))
    # 11-12: a CAA record with a tag of length 0 (malformed: kept as raw bytes), then an A.
    q.append(msg(0x5306, 0x0100, [(z, "CAA")]))
    q.append(msg(0x5306, 0x8180, [(z, "CAA")],
                 an=[rr(z, "CAA", bytes([0, 0]) + b"x"), rr(z, "A", bytes([192, 0, 2, 80]))]))
    return q


def write_pcap(fname, frames, step_us=1000):
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for i, data in enumerate(frames):
        t = i * step_us
        out += struct.pack("<IIII", BASE_TS + t // 1000000, t % 1000000, len(data), len(data)) + data
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(out)
    print("wrote %-18s packets=%d bytes=%d" % (fname, len(frames), len(out)))


def build_dnssec():
    frames = []
    for i, m in enumerate(dnssec_messages()):
        query = i % 2 == 0
        sport = 41001 + i // 2
        if query:
            pkt = Ether(src=MAC_C, dst=MAC_S) / IP(src=C, dst=S, id=0x5300 + i) / UDP(sport=sport, dport=53) / m
        else:
            pkt = Ether(src=MAC_S, dst=MAC_C) / IP(src=S, dst=C, id=0x5300 + i) / UDP(sport=53, dport=sport) / m
        frames.append(raw(pkt))
    write_pcap("dns-dnssec.pcap", frames)


class Conn:
    def __init__(self, cport=40100, cisn=100000, sisn=900000):
        self.frames = []
        self.cport = cport
        self.cseq, self.sseq = cisn, sisn

    def seg(self, from_client, flags, payload=b""):
        if from_client:
            pkt = Ether(src=MAC_C, dst=MAC_S) / IP(src=C, dst=S, id=len(self.frames) + 1) / TCP(
                sport=self.cport, dport=53, flags=flags, seq=self.cseq, ack=self.sseq if "A" in flags else 0,
                window=65535) / payload
            self.cseq += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        else:
            pkt = Ether(src=MAC_S, dst=MAC_C) / IP(src=S, dst=C, id=len(self.frames) + 1) / TCP(
                sport=53, dport=self.cport, flags=flags, seq=self.sseq, ack=self.cseq, window=65535) / payload
            self.sseq += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        self.frames.append(raw(pkt))


def lp(m):
    return struct.pack(">H", len(m)) + m


def build_tcp():
    z = "example.com"
    c = Conn()
    c.seg(True, "S")
    c.seg(False, "SA")
    c.seg(True, "A")
    q1 = msg(0x7001, 0x0100, [("www." + z, "A")])
    q2 = msg(0x7002, 0x0100, [("www." + z, "AAAA")])
    r1 = msg(0x7001, 0x8180, [("www." + z, "A")], an=[rr("www." + z, "A", bytes([192, 0, 2, 80]), ttl=60)])
    r2 = msg(0x7002, 0x8180, [("www." + z, "AAAA")],
             an=[rr("www." + z, "AAAA", bytes.fromhex("20010db8000000000000000000000080"), ttl=60),
                 rr("www." + z, "RRSIG", rrsig("AAAA", z, labels=3), ttl=60)])
    # 4: two queries in one segment.
    c.seg(True, "PA", lp(q1) + lp(q2))
    # 5: r1 whole and the first 20 bytes of r2; 6: the rest of r2.
    b = lp(r1) + lp(r2)
    cut = len(lp(r1)) + 20
    c.seg(False, "PA", b[:cut])
    c.seg(True, "A")
    c.seg(False, "PA", b[cut:])
    c.seg(True, "A")
    # 9: a zone transfer request; the answer comes as 4 messages.
    q3 = msg(0x7003, 0x0000, [(z, "AXFR")])
    c.seg(True, "PA", lp(q3))
    soa = name("ns1." + z) + name("hostmaster." + z) + struct.pack(">IIIII", 2023111401, 7200, 3600, 1209600, 300)
    x1 = msg(0x7003, 0x8400, [(z, "AXFR")], an=[rr(z, "SOA", soa), rr(z, "NS", name("ns1." + z)),
                                                rr("ns1." + z, "A", bytes([192, 0, 2, 53]))])
    x2 = msg(0x7003, 0x8400, [], an=[rr("www." + z, "A", bytes([192, 0, 2, 80])),
                                     rr(z, "MX", struct.pack(">H", 10) + name("mail." + z))])
    x3 = msg(0x7003, 0x8400, [], an=[rr("mail." + z, "A", bytes([192, 0, 2, 25])),
                                     rr(z, "TXT", cstr("v=spf1 mx -all"))])
    x4 = msg(0x7003, 0x8400, [], an=[rr(z, "SOA", soa)])
    # 10: x1 whole and 1 byte of x2's length prefix; 11: the rest of x2, x3 whole and half of x4;
    # 12: the rest of x4.
    b = lp(x1) + lp(x2) + lp(x3) + lp(x4)
    cut1 = len(lp(x1)) + 1
    cut2 = len(lp(x1)) + len(lp(x2)) + len(lp(x3)) + len(lp(x4)) // 2
    c.seg(False, "PA", b[:cut1])
    c.seg(False, "PA", b[cut1:cut2])
    c.seg(True, "A")
    c.seg(False, "PA", b[cut2:])
    c.seg(True, "A")
    # 15-16: a query and a response whose header claims 2 answers but carries 1: the message is
    # whole (its length prefix says so), so the missing answer is malformed, not truncated.
    q4 = msg(0x7004, 0x0100, [("www." + z, "A")])
    r4 = bytearray(msg(0x7004, 0x8180, [("www." + z, "A")], an=[rr("www." + z, "A", bytes([192, 0, 2, 80]), ttl=60)]))
    r4[7] = 2
    c.seg(True, "PA", lp(q4))
    c.seg(False, "PA", lp(bytes(r4)))
    c.seg(True, "FA")
    c.seg(False, "FA")
    c.seg(True, "A")
    write_pcap("dns-tcp.pcap", c.frames)


if __name__ == "__main__":
    build_dnssec()
    build_tcp()
