#!/usr/bin/env python3
"""Fixture generator for netinspect's captures/ directory.

Two jobs:

* ``crafted [NAME ...]`` -- write the scapy/hand-crafted capture files.  These are
  fully deterministic: fixed addresses, ids, ports, sequence numbers and
  timestamps, and a small hand-written pcap writer (so link type, magic,
  snaplen, caplen and orig_len are exactly what we ask for).  Re-running
  produces byte-identical files.

* ``traffic KIND ...`` -- generate *real* loopback traffic while
  make-captures.sh has tcpdump running.  Only 127.0.0.1 / ::1 are ever used.

Only scapy is used to build/serialise packets; nothing is ever sent by scapy.
Addresses in crafted files are documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and locally administered MACs.
"""

import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# pcap writer
# ---------------------------------------------------------------------------

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_USER0 = 147

BASE_TS = 1700000000  # 2023-11-14 22:13:20 UTC


def write_pcap(name, linktype, records, nano=False, snaplen=262144):
    """records: list of (ts_sec, ts_frac, data[, orig_len]).

    ts_frac is microseconds, or nanoseconds if nano=True.  Little-endian file.
    """
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = bytearray(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    for rec in records:
        sec, frac, data = rec[0], rec[1], bytes(rec[2])
        orig = rec[3] if len(rec) > 3 else len(data)
        out += struct.pack("<IIII", sec, frac, len(data), orig)
        out += data
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        f.write(out)
    print("wrote %-24s linktype=%-3d packets=%d bytes=%d"
          % (name, linktype, len(records), len(out)))


def timed(frames, base=BASE_TS, start_us=0, step_us=1000):
    """Attach deterministic microsecond timestamps to a list of frames."""
    recs = []
    for i, fr in enumerate(frames):
        t = start_us + i * step_us
        recs.append((base + t // 1000000, t % 1000000, bytes(fr)))
    return recs


# ---------------------------------------------------------------------------
# checksum helpers (for hand-patched packets)
# ---------------------------------------------------------------------------

def inet_csum(data):
    data = bytes(data)
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fix_ipv4_csum(fr, off=14, hdr_len=None):
    """Recompute the IPv4 header checksum in bytearray fr (IP header at off)."""
    if hdr_len is None:
        hdr_len = max((fr[off] & 0x0F) * 4, 20)
    fr[off + 10:off + 12] = b"\x00\x00"
    fr[off + 10:off + 12] = struct.pack("!H", inet_csum(fr[off:off + hdr_len]))


def l4_csum_v4(fr, ip_off, l4_off, l4_len, proto, csum_pos):
    """Correct TCP/UDP checksum over l4_len bytes at l4_off (IPv4 pseudo hdr)."""
    seg = bytearray(fr[l4_off:l4_off + l4_len])
    rel = csum_pos - l4_off
    seg[rel:rel + 2] = b"\x00\x00"
    pseudo = bytes(fr[ip_off + 12:ip_off + 20]) + struct.pack("!BBH", 0, proto, l4_len)
    return inet_csum(pseudo + bytes(seg))


def fix_tcp_csum_v4(fr, ip_off=14):
    ihl = (fr[ip_off] & 0x0F) * 4
    tot = struct.unpack("!H", fr[ip_off + 2:ip_off + 4])[0]
    l4_off = ip_off + ihl
    l4_len = tot - ihl
    pos = l4_off + 16
    c = l4_csum_v4(fr, ip_off, l4_off, l4_len, 6, pos)
    fr[pos:pos + 2] = struct.pack("!H", c)
    return c


# ---------------------------------------------------------------------------
# crafted captures
# ---------------------------------------------------------------------------

def _scapy():
    import scapy.all as s  # noqa: imported lazily, only needed for crafting
    return s


MAC_CLIENT = "02:00:00:00:00:0a"
MAC_SERVER = "02:00:00:00:00:35"
MAC_ROUTER = "02:00:00:00:00:01"
BCAST = "ff:ff:ff:ff:ff:ff"


def build_dns_udp():
    s = _scapy()
    cli, srv = "192.0.2.10", "192.0.2.53"
    E = lambda d=False: s.Ether(src=MAC_SERVER if d else MAC_CLIENT,
                                dst=MAC_CLIENT if d else MAC_SERVER)

    def q(i, sport, qname, qtype, ar=None):
        dns = s.DNS(id=0x1000 + i, rd=1, qd=s.DNSQR(qname=qname, qtype=qtype),
                    ar=ar)
        return E() / s.IP(src=cli, dst=srv, id=0x2000 + i, ttl=64) / \
            s.UDP(sport=sport, dport=53) / dns

    def r(i, sport, qname, qtype, an=None, ns=None, ar=None, rcode=0):
        dns = s.DNS(id=0x1000 + i, qr=1, aa=1, rd=1, ra=1, rcode=rcode,
                    qd=s.DNSQR(qname=qname, qtype=qtype), an=an, ns=ns, ar=ar)
        dns = dns.compress()  # RFC 1035 4.1.4 name compression (c0 xx pointers)
        return E(True) / s.IP(src=srv, dst=cli, id=0x3000 + i, ttl=64) / \
            s.UDP(sport=53, dport=sport) / dns

    RR = s.DNSRR
    pairs = [
        # 1. A, two answers
        ("example.com", "A",
         dict(an=[RR(rrname="example.com", type="A", ttl=300, rdata="192.0.2.1"),
                  RR(rrname="example.com", type="A", ttl=300, rdata="192.0.2.2")])),
        # 2. AAAA
        ("example.com", "AAAA",
         dict(an=[RR(rrname="example.com", type="AAAA", ttl=300, rdata="2001:db8::1")])),
        # 3. CNAME chain: CNAME + A
        ("www.example.com", "A",
         dict(an=[RR(rrname="www.example.com", type="CNAME", ttl=300, rdata="web.example.com"),
                  RR(rrname="web.example.com", type="A", ttl=300, rdata="192.0.2.80")])),
        # 4. MX, two answers
        ("example.com", "MX",
         dict(an=[s.DNSRRMX(rrname="example.com", ttl=300, preference=10, exchange="mail1.example.com"),
                  s.DNSRRMX(rrname="example.com", ttl=300, preference=20, exchange="mail2.example.com")])),
        # 5. NXDOMAIN with SOA in authority
        ("nonexistent.example.com", "A",
         dict(rcode=3,
              ns=[s.DNSRRSOA(rrname="example.com", ttl=300, mname="ns1.example.com",
                             rname="hostmaster.example.com", serial=2023111401,
                             refresh=7200, retry=3600, expire=1209600, minimum=300)])),
        # 6. EDNS(0): OPT in additional of query and response
        ("example.org", "A",
         dict(an=[RR(rrname="example.org", type="A", ttl=300, rdata="192.0.2.7")],
              ar=[s.DNSRROPT(rclass=1232, z=0)])),
        # 7. TXT
        ("example.com", "TXT",
         dict(an=[RR(rrname="example.com", type="TXT", ttl=300, rdata=["v=spf1 -all"])])),
        # 8. SRV
        ("_sip._tcp.example.com", "SRV",
         dict(an=[s.DNSRRSRV(rrname="_sip._tcp.example.com", ttl=300, priority=10,
                             weight=60, port=5060, target="sip.example.com")])),
        # 9. PTR
        ("1.2.0.192.in-addr.arpa", "PTR",
         dict(an=[RR(rrname="1.2.0.192.in-addr.arpa", type="PTR", ttl=300,
                     rdata="host1.example.com")])),
        # 10. NS
        ("example.com", "NS",
         dict(an=[RR(rrname="example.com", type="NS", ttl=300, rdata="ns1.example.com")])),
        # 11. unknown type 65280 (private use) with raw rdata
        ("custom.example.com", 65280,
         dict(an=[RR(rrname="custom.example.com", type=65280, ttl=300,
                     rdata=b"\xde\xad\xbe\xef\x01\x02")])),
    ]
    frames = []
    for i, (qname, qtype, kw) in enumerate(pairs, 1):
        sport = 40000 + i
        qar = [s.DNSRROPT(rclass=1232, z=0)] if "ar" in kw else None
        frames.append(q(i, sport, qname, qtype, ar=qar))
        frames.append(r(i, sport, qname, qtype, **kw))
    # query at t, response 1.5 ms later; next pair 100 ms later
    recs = []
    for i, fr in enumerate(frames):
        t = (i // 2) * 100000 + (i % 2) * 1500
        recs.append((BASE_TS + t // 1000000, t % 1000000, bytes(fr)))
    write_pcap("dns-udp.pcap", LINKTYPE_ETHERNET, recs)


def build_ipv6_udp_dns():
    s = _scapy()
    cli, srv = "2001:db8::10", "2001:db8::53"
    qd = s.DNSQR(qname="example.com", qtype="AAAA")
    qry = s.Ether(src=MAC_CLIENT, dst=MAC_SERVER) / s.IPv6(src=cli, dst=srv, hlim=64) / \
        s.UDP(sport=50000, dport=53) / s.DNS(id=0x6666, rd=1, qd=qd)
    rsp = s.Ether(src=MAC_SERVER, dst=MAC_CLIENT) / s.IPv6(src=srv, dst=cli, hlim=64) / \
        s.UDP(sport=53, dport=50000) / s.DNS(
            id=0x6666, qr=1, aa=1, rd=1, ra=1, qd=qd,
            an=[s.DNSRR(rrname="example.com", type="AAAA", ttl=3600, rdata="2001:db8::1"),
                s.DNSRR(rrname="example.com", type="AAAA", ttl=3600, rdata="2001:db8::2")]
        ).compress()
    write_pcap("ipv6-udp-dns.pcap", LINKTYPE_ETHERNET, timed([qry, rsp], step_us=2345))


def build_arp():
    s = _scapy()
    req = s.Ether(src=MAC_CLIENT, dst=BCAST) / s.ARP(
        op=1, hwsrc=MAC_CLIENT, psrc="192.0.2.10", hwdst="00:00:00:00:00:00", pdst="192.0.2.1")
    rep = s.Ether(src=MAC_ROUTER, dst=MAC_CLIENT) / s.ARP(
        op=2, hwsrc=MAC_ROUTER, psrc="192.0.2.1", hwdst=MAC_CLIENT, pdst="192.0.2.10")
    # gratuitous ARP: request with sender IP == target IP, broadcast
    grat = s.Ether(src=MAC_SERVER, dst=BCAST) / s.ARP(
        op=1, hwsrc=MAC_SERVER, psrc="192.0.2.53", hwdst="00:00:00:00:00:00", pdst="192.0.2.53")
    # pad to the 60-byte Ethernet minimum like a real NIC would
    frames = [bytes(p) + b"\x00" * (60 - len(p)) for p in (req, rep, grat)]
    write_pcap("arp.pcap", LINKTYPE_ETHERNET, timed(frames, step_us=250))


def build_icmp_errors():
    s = _scapy()
    # the UDP datagram that triggers the port unreachable
    orig = s.IP(src="192.0.2.10", dst="192.0.2.53", id=0x4242, ttl=64) / \
        s.UDP(sport=40123, dport=33434) / s.Raw(b"probe-data-0123456789")
    orig_b = bytes(orig)
    f1 = s.Ether(src=MAC_CLIENT, dst=MAC_SERVER) / orig
    # port unreachable quoting original IP header + first 8 bytes (UDP header)
    f2 = s.Ether(src=MAC_SERVER, dst=MAC_CLIENT) / \
        s.IP(src="192.0.2.53", dst="192.0.2.10", id=0x5151, ttl=64) / \
        s.ICMP(type=3, code=3) / s.Raw(orig_b[:28])
    # time exceeded in transit from a router, quoting a TTL=1 probe's IP header + 8 bytes
    probe = bytes(s.IP(src="192.0.2.10", dst="203.0.113.9", id=0x4343, ttl=1) /
                  s.UDP(sport=40124, dport=33435) / s.Raw(b"traceroute-probe"))
    f3 = s.Ether(src=MAC_ROUTER, dst=MAC_CLIENT) / \
        s.IP(src="198.51.100.1", dst="192.0.2.10", id=0x6161, ttl=255) / \
        s.ICMP(type=11, code=0) / s.Raw(probe[:28])
    write_pcap("icmp-errors.pcap", LINKTYPE_ETHERNET, timed([f1, f2, f3], step_us=800))


def build_vlan():
    s = _scapy()
    f1 = s.Ether(src=MAC_CLIENT, dst=MAC_SERVER) / s.Dot1Q(prio=3, vlan=100) / \
        s.IP(src="192.0.2.10", dst="192.0.2.53", id=1) / s.UDP(sport=40000, dport=5000) / \
        s.Raw(b"vlan 100 udp")
    f2 = s.Ether(src=MAC_CLIENT, dst=MAC_SERVER, type=0x88A8) / s.Dot1AD(vlan=200) / \
        s.Dot1Q(vlan=300) / s.IP(src="192.0.2.10", dst="192.0.2.80", id=2) / \
        s.TCP(sport=40001, dport=80, seq=1000, flags="S", window=64240,
              options=[("MSS", 1460)])
    f3 = s.Ether(src=MAC_CLIENT, dst=BCAST) / s.Dot1Q(vlan=100) / s.ARP(
        op=1, hwsrc=MAC_CLIENT, psrc="192.0.2.10", hwdst="00:00:00:00:00:00", pdst="192.0.2.1")
    f3 = bytes(f3) + b"\x00" * (64 - len(f3))
    write_pcap("vlan.pcap", LINKTYPE_ETHERNET, timed([f1, f2, f3]))


def build_tcp_options():
    s = _scapy()
    C, S = "192.0.2.10", "192.0.2.80"
    cp, sp = 40000, 80
    ci, si = 1000, 5000

    def c2s(**kw):
        return s.Ether(src=MAC_CLIENT, dst=MAC_SERVER) / s.IP(src=C, dst=S, ttl=64) / \
            s.TCP(sport=cp, dport=sp, window=64240, **kw)

    def s2c(**kw):
        return s.Ether(src=MAC_SERVER, dst=MAC_CLIENT) / s.IP(src=S, dst=C, ttl=64) / \
            s.TCP(sport=sp, dport=cp, window=65160, **kw)

    frames = [
        # 1 SYN: MSS, SACK-permitted, timestamps, NOP, window scale (Linux order);
        #   also ECE+CWR = ECN-setup SYN
        c2s(seq=ci, flags="SEC", options=[("MSS", 1460), ("SAckOK", b""),
                                          ("Timestamp", (100000, 0)), ("NOP", None),
                                          ("WScale", 7)]),
        # 2 SYN-ACK with ECE (ECN-setup SYN-ACK)
        s2c(seq=si, ack=ci + 1, flags="SAE", options=[("MSS", 1400), ("SAckOK", b""),
                                                      ("Timestamp", (200000, 100000)),
                                                      ("NOP", None), ("WScale", 9)]),
        # 3 ACK with NOP NOP TS NOP NOP SACK (2 blocks)
        c2s(seq=ci + 1, ack=si + 1 + 1000, flags="A",
            options=[("NOP", None), ("NOP", None), ("Timestamp", (100010, 200000)),
                     ("NOP", None), ("NOP", None),
                     ("SAck", (si + 1 + 2000, si + 1 + 3000, si + 1 + 4000, si + 1 + 5000))]),
        # 4 unknown option kind 253 (RFC 4727 experimental), length 4, then EOL
        c2s(seq=ci + 1, ack=si + 1001, flags="PA",
            options=[(253, b"\x12\x34"), ("NOP", None), ("EOL", None)]) / s.Raw(b"opt253"),
        # 5 MSS followed by explicit EOL and zero padding (doff 7 -> 8 option bytes + ...)
        c2s(seq=ci + 7, ack=si + 1001, flags="A",
            options=[("MSS", 536), ("EOL", None)]),
        # 6 URG with urgent pointer 4
        c2s(seq=ci + 7, ack=si + 1001, flags="PAU", urgptr=4) / s.Raw(b"!URGnormal data"),
        # 7 ECE (congestion experienced echo)
        s2c(seq=si + 1001, ack=ci + 22, flags="AE") ,
        # 8 CWR (congestion window reduced) with data
        c2s(seq=ci + 22, ack=si + 1001, flags="PAC") / s.Raw(b"cwr"),
        # 9 NS / AE bit (0x100) set
        c2s(seq=ci + 25, ack=si + 1001, flags="PAN") / s.Raw(b"ns-bit"),
        # 10 all nine flags (FIN SYN RST PSH ACK URG ECE CWR NS) -> "christmas tree"
        c2s(seq=ci + 31, ack=si + 1001, flags=0x1FF, urgptr=1) / s.Raw(b"x"),
        # 11 frame 3 again, the capture cut inside its SACK after the first block (78 of 86 bytes)
        c2s(seq=ci + 1, ack=si + 1 + 1000, flags="A",
            options=[("NOP", None), ("NOP", None), ("Timestamp", (100010, 200000)),
                     ("NOP", None), ("NOP", None),
                     ("SAck", (si + 1 + 2000, si + 1 + 3000, si + 1 + 4000, si + 1 + 5000))]),
    ]
    records = timed(frames, step_us=10000)
    sec, frac, data = records[-1]
    records[-1] = (sec, frac, data[:78], len(data))
    write_pcap("tcp-options.pcap", LINKTYPE_ETHERNET, records)


def _dns_hdr(id_, flags, qd, an, ns=0, ar=0):
    return struct.pack("!HHHHHH", id_, flags, qd, an, ns, ar)


def _qname(name):
    out = b""
    for lab in name.split("."):
        if lab:
            out += bytes([len(lab)]) + lab.encode()
    return out + b"\x00"


def build_corrupted():
    """Each frame is broken in exactly one way (see README).  Everything not
    deliberately broken (other checksums, lengths) is kept consistent."""
    s = _scapy()
    C, S = "192.0.2.10", "192.0.2.80"
    eth = lambda: s.Ether(src=MAC_CLIENT, dst=MAC_SERVER)

    def tcp_frame(payload=b"hello", **kw):
        kw.setdefault("flags", "PA")
        return bytearray(bytes(eth() / s.IP(src=C, dst=S, id=0x0100, ttl=64) /
                               s.TCP(sport=40000, dport=80, seq=1000, ack=2000,
                                     window=64240, **kw) / s.Raw(payload)))

    def udp_frame(payload=b"udp payload!", dport=9999):
        return bytearray(bytes(eth() / s.IP(src=C, dst=S, id=0x0200, ttl=64) /
                               s.UDP(sport=40000, dport=dport) / s.Raw(payload)))

    def dns_frame(dns_bytes, response=True):
        ip = s.IP(src="192.0.2.53", dst=C, id=0x0300, ttl=64) if response else \
            s.IP(src=C, dst="192.0.2.53", id=0x0300, ttl=64)
        udp = s.UDP(sport=53, dport=40053) if response else s.UDP(sport=40053, dport=53)
        return bytearray(bytes(eth() / ip / udp / s.Raw(dns_bytes)))

    frames = []

    # 1. IPv4 IHL = 4 (< 5)
    f = tcp_frame()
    f[14] = 0x44
    fix_ipv4_csum(f, hdr_len=20)
    frames.append(f)

    # 2. IPv4 total length (1500) > captured bytes
    f = tcp_frame()
    f[16:18] = struct.pack("!H", 1500)
    fix_ipv4_csum(f)
    frames.append(f)

    # 3. IPv4 total length (12) < header length (20)
    f = tcp_frame()
    f[16:18] = struct.pack("!H", 12)
    fix_ipv4_csum(f)
    frames.append(f)

    # 4. IPv4 bad header checksum
    f = tcp_frame()
    good = struct.unpack("!H", f[24:26])[0]
    bad = 0x1234 if good != 0x1234 else 0x4321
    f[24:26] = struct.pack("!H", bad)
    frames.append(f)

    # 5. TCP data offset 3 (< 5)
    f = tcp_frame()
    f[34 + 12] = (3 << 4) | (f[34 + 12] & 0x0F)
    fix_tcp_csum_v4(f)
    frames.append(f)

    # 6. TCP data offset 15 (60 bytes) but segment is only 20 + 5 bytes
    f = tcp_frame()
    f[34 + 12] = (15 << 4) | (f[34 + 12] & 0x0F)
    fix_tcp_csum_v4(f)
    frames.append(f)

    # 7. TCP option with length 0 (kind 2/MSS, len 0) -- infinite-loop bait
    f = tcp_frame(options=[(2, b"\x05\xb4")])  # placeholder MSS, patched below
    f[34 + 20:34 + 24] = b"\x02\x00\x05\xb4"
    fix_tcp_csum_v4(f)
    frames.append(f)

    # 8. TCP option whose length runs past the header end (TS len 10 in 4-byte option space;
    #    payload follows so a naive parser would read into it)
    f = tcp_frame(payload=b"DATA-after-options", options=[(8, b"\x00\x00")])
    f[34 + 20:34 + 24] = b"\x08\x0a\x00\x00"
    fix_tcp_csum_v4(f)
    frames.append(f)

    # 9. TCP bad checksum (not 0 and not the partial pseudo-header sum used by offload)
    f = tcp_frame(payload=b"bad checksum")
    good = struct.unpack("!H", f[50:52])[0]
    f[50:52] = struct.pack("!H", good ^ 0x5A5A)
    frames.append(f)

    # 10. UDP length field 4 (< 8); UDP checksum 0 (= not used) so nothing else is wrong
    f = udp_frame()
    f[38:40] = struct.pack("!H", 4)
    f[40:42] = b"\x00\x00"
    frames.append(f)

    # 11. UDP length 200 > IP payload (20); checksum 0
    f = udp_frame()
    f[38:40] = struct.pack("!H", 200)
    f[40:42] = b"\x00\x00"
    frames.append(f)

    # 12. DNS compression pointer loop: question name is c0 0c (points to itself)
    dns = _dns_hdr(0xD001, 0x8180, 1, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    frames.append(dns_frame(dns))

    # 13. DNS forward pointer: question name points forward to the answer's owner name
    #     header(12) + qname ptr(2) + qtype/qclass(4) -> answer name at offset 18
    dns = _dns_hdr(0xD002, 0x8180, 1, 1) + b"\xc0\x12" + struct.pack("!HH", 1, 1) + \
        _qname("example.com") + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1])
    frames.append(dns_frame(dns))

    # 14. DNS label running past end of message: label length 63, only 3 bytes follow
    dns = _dns_hdr(0xD003, 0x0100, 1, 0) + b"\x07example" + b"\x3fabc"
    frames.append(dns_frame(dns, response=False))

    # 15. DNS ancount = 50, only one answer record present
    dns = _dns_hdr(0xD004, 0x8180, 1, 50) + _qname("example.com") + struct.pack("!HH", 1, 1) + \
        b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1])
    frames.append(dns_frame(dns))

    # 16. DNS name longer than 255 octets (5 x 63-byte labels = 321 octets on the wire)
    longname = ".".join([chr(ord("a") + i) * 63 for i in range(5)])
    dns = _dns_hdr(0xD005, 0x0100, 1, 0) + _qname(longname) + struct.pack("!HH", 1, 1)
    frames.append(dns_frame(dns, response=False))

    # 17. ICMP truncated after 2 bytes (type 8 code 0, nothing else); IP length consistent
    f = bytearray(bytes(eth() / s.IP(src=C, dst=S, id=0x0400, ttl=64, proto=1) /
                        s.Raw(b"\x08\x00")))
    frames.append(f)

    # 18. ARP with hardware address length 200 (frame padded to 60 bytes)
    a = bytearray(bytes(s.Ether(src=MAC_CLIENT, dst=BCAST) /
                        s.ARP(op=1, hwsrc=MAC_CLIENT, psrc=C, pdst="192.0.2.1")))
    a[14 + 4] = 200
    a += b"\x00" * (60 - len(a))
    frames.append(a)

    # 19. Ethernet frame of only 10 bytes (shorter than the 14-byte header)
    frames.append(bytearray(bytes.fromhex("02000000003502000000")))

    # 20. IPv4 version 7 (checksum valid)
    f = tcp_frame()
    f[14] = 0x75
    fix_ipv4_csum(f)
    frames.append(f)

    # 21. unknown EtherType 0x1234
    frames.append(bytearray(bytes(s.Ether(src=MAC_CLIENT, dst=MAC_SERVER, type=0x1234) /
                                  s.Raw(b"unknown ethertype payload!!"))))

    # 22. a perfectly good TCP segment: decoding must have continued
    frames.append(tcp_frame(payload=b"still decoding ok"))

    write_pcap("corrupted.pcap", LINKTYPE_ETHERNET, timed(frames))


def build_nanosecond():
    s = _scapy()
    frames = []
    for i in range(4):
        frames.append(s.Ether(src=MAC_CLIENT, dst=MAC_SERVER) /
                      s.IP(src="192.0.2.10", dst="192.0.2.53", id=0x7000 + i) /
                      s.UDP(sport=40000 + i, dport=7) / s.Raw(b"ns timestamp %d" % i))
    # sub-microsecond digits are non-zero in every record
    ns = [123456789, 123457001, 999999999, 5]
    secs = [BASE_TS, BASE_TS, BASE_TS, BASE_TS + 1]
    recs = [(secs[i], ns[i], bytes(frames[i])) for i in range(4)]
    write_pcap("nanosecond.pcap", LINKTYPE_ETHERNET, recs, nano=True)


def build_null_loopback():
    s = _scapy()
    v4a, v4b = "127.0.0.1", "127.0.0.2"
    syn = bytes(s.IP(src=v4a, dst=v4b, id=1, ttl=64) /
                s.TCP(sport=50000, dport=8080, seq=1, flags="S", options=[("MSS", 16344)]))
    synack = bytes(s.IP(src=v4b, dst=v4a, id=0, ttl=64) /
                   s.TCP(sport=8080, dport=50000, seq=9000, ack=2, flags="SA",
                         options=[("MSS", 16344)]))

    def u6(port):
        return bytes(s.IPv6(src="::1", dst="::1", hlim=64) /
                     s.UDP(sport=50001, dport=port) / s.Raw(b"af_inet6 udp"))

    LE = lambda af: struct.pack("<I", af)
    frames = [
        LE(2) + syn,          # AF_INET, little-endian host order (x86/arm macOS, *BSD)
        LE(2) + synack,
        LE(24) + u6(30001),    # AF_INET6 on NetBSD/OpenBSD
        LE(28) + u6(30002),    # AF_INET6 on FreeBSD/DragonFly
        LE(30) + u6(30003),    # AF_INET6 on macOS/iOS
        struct.pack(">I", 2) + syn,  # AF_INET written by a big-endian host
    ]
    write_pcap("null-loopback.pcap", LINKTYPE_NULL, timed(frames))


def build_raw_ip():
    s = _scapy()
    frames = [
        s.IP(src="192.0.2.10", dst="192.0.2.80", id=0x0a0a) /
        s.TCP(sport=40000, dport=443, seq=1, flags="S", options=[("MSS", 1460)]),
        s.IP(src="192.0.2.10", dst="192.0.2.53", id=0x0b0b) /
        s.UDP(sport=40001, dport=123) / s.Raw(b"\x23" + b"\x00" * 47),  # NTP client req
        s.IPv6(src="2001:db8::10", dst="2001:db8::80", hlim=64) /
        s.TCP(sport=40002, dport=443, seq=1, flags="S", options=[("MSS", 1440)]),
    ]
    write_pcap("raw-ip.pcap", LINKTYPE_RAW, timed(frames))


# ---------------------------------------------------------------------------
# IPv6: ICMPv6 (errors, neighbour discovery, MLD), extension headers, IPv6 on every link type
# ---------------------------------------------------------------------------

V6_CLIENT, V6_SERVER, V6_ROUTER = "2001:db8::10", "2001:db8::53", "2001:db8::1"
LL_CLIENT, LL_ROUTER = "fe80::a", "fe80::1"


def build_icmpv6():
    s = _scapy()
    from scapy.layers import inet6 as i6
    E = lambda src=MAC_CLIENT, dst=MAC_SERVER: s.Ether(src=src, dst=dst)
    # the datagrams the errors quote
    udp_probe = i6.IPv6(src=V6_CLIENT, dst=V6_SERVER, hlim=64) / s.UDP(sport=40123, dport=33434) / \
        s.Raw(b"probe-data-0123456789")
    tcp_big = i6.IPv6(src=V6_CLIENT, dst="2001:db8::80", hlim=64) / \
        s.TCP(sport=40124, dport=443, seq=1000, ack=2000, flags="PA") / s.Raw(b"x" * 1400)
    ttl_probe = i6.IPv6(src=V6_CLIENT, dst="2001:db8:ffff::9", hlim=1) / i6.IPv6ExtHdrDestOpt() / \
        s.UDP(sport=40125, dport=33435) / s.Raw(b"traceroute-probe")
    frames = [
        # 1-2: ping6
        E() / i6.IPv6(src=V6_CLIENT, dst=V6_SERVER, hlim=64) / i6.ICMPv6EchoRequest(id=0x0abc, seq=1, data=b"ping6 " * 8),
        E(MAC_SERVER, MAC_CLIENT) / i6.IPv6(src=V6_SERVER, dst=V6_CLIENT, hlim=64) /
        i6.ICMPv6EchoReply(id=0x0abc, seq=1, data=b"ping6 " * 8),
        # 3-4: address resolution, IPv6's ARP: who has fe80::1 (to its solicited-node group), and the answer
        s.Ether(src=MAC_CLIENT, dst="33:33:ff:00:00:01") /
        i6.IPv6(src=LL_CLIENT, dst="ff02::1:ff00:1", hlim=255) / i6.ICMPv6ND_NS(tgt=LL_ROUTER) /
        i6.ICMPv6NDOptSrcLLAddr(lladdr=MAC_CLIENT),
        E(MAC_ROUTER, MAC_CLIENT) / i6.IPv6(src=LL_ROUTER, dst=LL_CLIENT, hlim=255) /
        i6.ICMPv6ND_NA(tgt=LL_ROUTER, R=1, S=1, O=1) / i6.ICMPv6NDOptDstLLAddr(lladdr=MAC_ROUTER),
        # 5-6: router discovery
        s.Ether(src=MAC_CLIENT, dst="33:33:00:00:00:02") / i6.IPv6(src=LL_CLIENT, dst="ff02::2", hlim=255) /
        i6.ICMPv6ND_RS() / i6.ICMPv6NDOptSrcLLAddr(lladdr=MAC_CLIENT),
        s.Ether(src=MAC_ROUTER, dst="33:33:00:00:00:01") / i6.IPv6(src=LL_ROUTER, dst="ff02::1", hlim=255) /
        i6.ICMPv6ND_RA(chlim=64, M=0, O=1, routerlifetime=1800, reachabletime=30000, retranstimer=1000) /
        i6.ICMPv6NDOptSrcLLAddr(lladdr=MAC_ROUTER) / i6.ICMPv6NDOptMTU(mtu=1500) /
        i6.ICMPv6NDOptPrefixInfo(prefix="2001:db8::", prefixlen=64, L=1, A=1, validlifetime=86400,
                                 preferredlifetime=14400),
        # 7: redirect: for 2001:db8:1::99 use the neighbour fe80::2 directly
        E(MAC_ROUTER, MAC_CLIENT) / i6.IPv6(src=LL_ROUTER, dst=LL_CLIENT, hlim=255) /
        i6.ICMPv6ND_Redirect(tgt="fe80::2", dst="2001:db8:1::99") / i6.ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:02"),
        # 8-9: the UDP probe, and the port unreachable that quotes it
        E() / udp_probe,
        E(MAC_SERVER, MAC_CLIENT) / i6.IPv6(src=V6_SERVER, dst=V6_CLIENT, hlim=64) /
        i6.ICMPv6DestUnreach(code=4) / udp_probe,
        # 10: no route to the destination
        E(MAC_ROUTER, MAC_CLIENT) / i6.IPv6(src=V6_ROUTER, dst=V6_CLIENT, hlim=64) /
        i6.ICMPv6DestUnreach(code=0) / udp_probe,
        # 11: packet too big (path MTU 1280) quoting the start of a 1460-byte TCP segment
        E(MAC_ROUTER, MAC_CLIENT) / i6.IPv6(src=V6_ROUTER, dst=V6_CLIENT, hlim=64) /
        i6.ICMPv6PacketTooBig(mtu=1280) / s.Raw(bytes(tcp_big)[:1232]),
        # 12: hop limit exceeded in transit, quoting a probe with a destination-options header
        E(MAC_ROUTER, MAC_CLIENT) / i6.IPv6(src=V6_ROUTER, dst=V6_CLIENT, hlim=64) /
        i6.ICMPv6TimeExceeded(code=0) / ttl_probe,
        # 13: parameter problem, pointer 6 (the quoted next header)
        E(MAC_SERVER, MAC_CLIENT) / i6.IPv6(src=V6_SERVER, dst=V6_CLIENT, hlim=64) /
        i6.ICMPv6ParamProblem(code=1, ptr=6) / udp_probe,
        # 14: MLDv2 report (behind a hop-by-hop header with router alert), joining ff02::fb
        s.Ether(src=MAC_CLIENT, dst="33:33:00:00:00:16") /
        i6.IPv6(src=LL_CLIENT, dst="ff02::16", hlim=1) / i6.IPv6ExtHdrHopByHop(options=[i6.RouterAlert()]) /
        i6.ICMPv6MLReport2(records=[i6.ICMPv6MLDMultAddrRec(rtype=4, dst="ff02::fb")]),
        # 15: MLDv1 general query
        s.Ether(src=MAC_ROUTER, dst="33:33:00:00:00:01") /
        i6.IPv6(src=LL_ROUTER, dst="ff02::1", hlim=1) / i6.IPv6ExtHdrHopByHop(options=[i6.RouterAlert()]) /
        i6.ICMPv6MLQuery(mrd=10000, mladdr="::"),
    ]
    write_pcap("icmpv6.pcap", LINKTYPE_ETHERNET, timed(frames))


def build_ipv6_extensions():
    s = _scapy()
    from scapy.layers import inet6 as i6
    E = lambda: s.Ether(src=MAC_CLIENT, dst=MAC_SERVER)
    ip = lambda **kw: i6.IPv6(src=V6_CLIENT, dst=V6_SERVER, hlim=64, **kw)
    u = lambda sport: s.UDP(sport=sport, dport=9) / s.Raw(b"ext-%d" % sport)
    big = bytes(s.UDP(sport=41000, dport=9) / s.Raw(bytes(range(256)) * 6))  # 1544 bytes, sent in 2 fragments
    frames = [
        E() / ip(tc=0xb8, fl=0x12345) / u(41001),                                # 1 traffic class + flow label
        E() / ip() / i6.IPv6ExtHdrHopByHop(options=[i6.RouterAlert()]) / u(41002),  # 2 HBH
        E() / ip() / i6.IPv6ExtHdrDestOpt() / u(41003),                             # 3 DSTOPT
        E() / ip() / i6.IPv6ExtHdrRouting(type=0, addresses=["2001:db8::77", "2001:db8::78"], segleft=2) / u(41004),
        E() / ip() / i6.IPv6ExtHdrRouting(type=2, addresses=["2001:db8:0:1::10"], segleft=1) / u(41005),
        E() / ip() / i6.IPv6ExtHdrSegmentRouting(addresses=["2001:db8::91", "2001:db8::90"], segleft=1) / u(41006),
        E() / ip() / i6.IPv6ExtHdrHopByHop() / i6.IPv6ExtHdrDestOpt() / u(41007),   # 7 a chain of two
        E() / ip() / i6.IPv6ExtHdrFragment(id=0x0f0f0f0f, offset=0, m=1, nh=17) / s.Raw(big[:1232]),   # 8 first fragment
        E() / ip() / i6.IPv6ExtHdrFragment(id=0x0f0f0f0f, offset=154, m=0, nh=17) / s.Raw(big[1232:]),  # 9 last fragment
        E() / ip() / i6.IPv6ExtHdrFragment(id=0x1234, offset=0, m=0) / u(41010),   # 10 atomic fragment
        E() / ip(nh=59),                                                           # 11 no next header
        E() / i6.IPv6(src="::ffff:192.0.2.10", dst="::192.0.2.53", hlim=64) / u(41012),  # 12 IPv4-mapped / -compatible
        E() / i6.IPv6(src="2001:db8:0:1:0:0:1:0", dst="2001:0:0:1::1", hlim=64) / u(41013),  # 13 RFC 5952 :: choice
    ]
    write_pcap("ipv6-extensions.pcap", LINKTYPE_ETHERNET, timed(frames))


def _ipv6_link_payloads():
    """The IPv6 packets every ipv6-<link>.pcap carries: a DNS AAAA query and its answer, a TCP SYN and
    SYN-ACK, an ICMPv6 echo request and a neighbour solicitation."""
    s = _scapy()
    from scapy.layers import inet6 as i6
    qd = s.DNSQR(qname="www.example.com", qtype="AAAA")
    return [
        bytes(i6.IPv6(src=V6_CLIENT, dst=V6_SERVER, hlim=64) / s.UDP(sport=50001, dport=53) /
              s.DNS(id=0x6601, rd=1, qd=qd)),
        bytes(i6.IPv6(src=V6_SERVER, dst=V6_CLIENT, hlim=64) / s.UDP(sport=53, dport=50001) /
              s.DNS(id=0x6601, qr=1, aa=1, rd=1, ra=1, qd=qd,
                    an=s.DNSRR(rrname="www.example.com", type="AAAA", ttl=300, rdata="2001:db8::80")).compress()),
        bytes(i6.IPv6(src=V6_CLIENT, dst="2001:db8::80", hlim=64) /
              s.TCP(sport=50002, dport=443, seq=100, flags="S", window=64800, options=[("MSS", 1440)])),
        bytes(i6.IPv6(src="2001:db8::80", dst=V6_CLIENT, hlim=64) /
              s.TCP(sport=443, dport=50002, seq=900, ack=101, flags="SA", window=65160, options=[("MSS", 1440)])),
        bytes(i6.IPv6(src=V6_CLIENT, dst=V6_SERVER, hlim=64) / i6.ICMPv6EchoRequest(id=7, seq=1, data=b"link")),
        bytes(i6.IPv6(src=LL_CLIENT, dst="ff02::1:ff00:53", hlim=255) / i6.ICMPv6ND_NS(tgt="fe80::53") /
              i6.ICMPv6NDOptSrcLLAddr(lladdr=MAC_CLIENT)),
    ]


LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


def build_ipv6_links():
    pkts = _ipv6_link_payloads()
    mac = bytes.fromhex(MAC_CLIENT.replace(":", ""))
    # LINKTYPE_IPV6: the packet and nothing else
    write_pcap("ipv6-dlt-ipv6.pcap", LINKTYPE_IPV6, timed(pkts))
    # LINKTYPE_RAW with IPv6 only (the version nibble says so)
    write_pcap("ipv6-raw.pcap", LINKTYPE_RAW, timed(pkts))
    # Linux cooked v1: outgoing (4), ARPHRD_ETHER, 6-byte address + 2 bytes padding, ETH_P_IPV6
    sll = lambda p: struct.pack("!HHH", 4, 1, 6) + mac + b"\x00\x00" + struct.pack("!H", 0x86DD) + p
    write_pcap("ipv6-sll.pcap", LINKTYPE_LINUX_SLL, timed([sll(p) for p in pkts]))
    # Linux cooked v2: protocol, reserved, ifindex 2, ARPHRD_ETHER, to us (0), address length 6
    sll2 = lambda p: struct.pack("!HHIHBB", 0x86DD, 0, 2, 1, 0, 6) + mac + b"\x00\x00" + p
    write_pcap("ipv6-sll2.pcap", LINKTYPE_LINUX_SLL2, timed([sll2(p) for p in pkts]))
    # DLT_LOOP (OpenBSD): the address family in network byte order, AF_INET6 = 24
    write_pcap("ipv6-loop.pcap", LINKTYPE_LOOP, timed([struct.pack("!I", 24) + p for p in pkts]))


def build_unknown_dlt():
    frames = [
        b"\x00",
        bytes(range(32)),
        b"netinspect USER0 frame \xff\xfe\xfd",
    ]
    write_pcap("unknown-dlt.pcap", LINKTYPE_USER0, timed(frames))


# ---------------------------------------------------------------------------
# TCP connection-analysis fixtures (tcp-*.pcap): one connection variant each
# ---------------------------------------------------------------------------

TCP_CLIENT = "192.0.2.10"
TCP_SERVER = "198.51.100.80"


class _TCPConn:
    """Builds the segments of one crafted TCP conversation between
    192.0.2.10:cport (client) and 198.51.100.80:sport (server).  Each segment
    gets its own timestamp (microseconds after BASE_TS) and an IP id that
    counts up per direction, as Linux does, so no two frames are byte-equal
    (nothing is mistaken for a duplicate frame of a double capture)."""

    def __init__(self, cport, sport=80):
        self.s = _scapy()
        self.cport, self.sport = cport, sport
        self.ids = {True: 0x1000, False: 0x2000}
        self.records = []

    def seg(self, t_us, from_client, seq, ack, flags, data=b"", win=None):
        s = self.s
        self.ids[from_client] += 1
        if from_client:
            fr = s.Ether(src=MAC_CLIENT, dst=MAC_SERVER) / \
                s.IP(src=TCP_CLIENT, dst=TCP_SERVER, ttl=64, id=self.ids[True], flags="DF") / \
                s.TCP(sport=self.cport, dport=self.sport, seq=seq % 2**32, ack=ack % 2**32,
                      flags=flags, window=64240 if win is None else win)
        else:
            fr = s.Ether(src=MAC_SERVER, dst=MAC_CLIENT) / \
                s.IP(src=TCP_SERVER, dst=TCP_CLIENT, ttl=64, id=self.ids[False], flags="DF") / \
                s.TCP(sport=self.sport, dport=self.cport, seq=seq % 2**32, ack=ack % 2**32,
                      flags=flags, window=65160 if win is None else win)
        if data:
            fr = fr / s.Raw(data)
        self.records.append((BASE_TS + t_us // 1000000, t_us % 1000000, bytes(fr)))

    def c(self, t_us, seq, ack, flags, data=b"", win=None):
        self.seg(t_us, True, seq, ack, flags, data, win)

    def v(self, t_us, seq, ack, flags, data=b"", win=None):
        self.seg(t_us, False, seq, ack, flags, data, win)

    def write(self, name):
        write_pcap(name, LINKTYPE_ETHERNET, self.records)


def _handshake(k, ci, si, t0=0):
    """SYN, SYN-ACK (+1 ms), ACK (+2 ms): client ISN ci, server ISN si."""
    k.c(t0, ci, 0, "S")
    k.v(t0 + 1000, si, ci + 1, "SA")
    k.c(t0 + 2000, ci + 1, si + 1, "A")


def build_tcp_three_way_close():
    # 1-3 handshake; 4 client data 5 bytes; 5 server data 6 bytes (acks it);
    # 6 client ACK; 7 client FIN; 8 server FIN+ACK (merged); 9 client ACK.
    k = _TCPConn(41001)
    ci, si = 1000, 5000
    _handshake(k, ci, si)
    k.c(3000, ci + 1, si + 1, "PA", b"hello")
    k.v(4000, si + 1, ci + 6, "PA", b"world!")
    k.c(5000, ci + 6, si + 7, "A")
    k.c(6000, ci + 6, si + 7, "FA")
    k.v(7000, si + 7, ci + 7, "FA")
    k.c(8000, ci + 7, si + 8, "A")
    k.write("tcp-three-way-close.pcap")


def build_tcp_four_way_close():
    # 1-3 handshake; 4 client data 4 bytes; 5 server ACK; 6 server FIN
    # (server closes first); 7 client ACK of it; 8 client FIN 10 ms later;
    # 9 server ACK.
    k = _TCPConn(41002)
    ci, si = 2000, 6000
    _handshake(k, ci, si)
    k.c(3000, ci + 1, si + 1, "PA", b"ping")
    k.v(4000, si + 1, ci + 5, "A")
    k.v(5000, si + 1, ci + 5, "FA")
    k.c(6000, ci + 5, si + 2, "A")
    k.c(16000, ci + 5, si + 2, "FA")
    k.v(17000, si + 2, ci + 6, "A")
    k.write("tcp-four-way-close.pcap")


def build_tcp_simultaneous_close():
    # 1-3 handshake; 4 client FIN; 5 server FIN that does not ack the client's
    # (they crossed); 6 client ACK of the server FIN; 7 server ACK of the
    # client FIN.
    k = _TCPConn(41003)
    ci, si = 3000, 7000
    _handshake(k, ci, si)
    k.c(3000, ci + 1, si + 1, "FA")
    k.v(3100, si + 1, ci + 1, "FA")
    k.c(4000, ci + 2, si + 2, "A")
    k.v(4100, si + 2, ci + 2, "A")
    k.write("tcp-simultaneous-close.pcap")


def build_tcp_half_close():
    # 1-3 handshake; 4 client request 4 bytes; 5 client FIN (done sending);
    # 6 server ACK of request and FIN; 7, 8 server data after the client's
    # FIN (half-close); 9 client ACK; 10 server FIN; 11 client ACK.
    k = _TCPConn(41004)
    ci, si = 4000, 8000
    _handshake(k, ci, si)
    k.c(3000, ci + 1, si + 1, "PA", b"GET\n")
    k.c(4000, ci + 5, si + 1, "FA")
    k.v(5000, si + 1, ci + 6, "A")
    k.v(6000, si + 1, ci + 6, "PA", b"first half\n")
    k.v(7000, si + 12, ci + 6, "PA", b"second half\n")
    k.c(8000, ci + 6, si + 24, "A")
    k.v(9000, si + 24, ci + 6, "FA")
    k.c(10000, ci + 6, si + 25, "A")
    k.write("tcp-half-close.pcap")


def build_tcp_refused():
    # 1 SYN to a closed port; 2 RST+ACK (seq 0, acks the SYN).
    k = _TCPConn(41005, sport=81)
    ci = 9000
    k.c(0, ci, 0, "S")
    k.v(1000, 0, ci + 1, "RA")
    k.write("tcp-refused.pcap")


def build_tcp_rst_abort():
    # 1-3 handshake; 4 client data 5 bytes; 5 server data 5 bytes; 6 client
    # ACK; 7 server RST+ACK (abort); 8 client data that crossed the RST on the
    # wire (a segment after close).
    k = _TCPConn(41006)
    ci, si = 10000, 20000
    _handshake(k, ci, si)
    k.c(3000, ci + 1, si + 1, "PA", b"hello")
    k.v(4000, si + 1, ci + 6, "PA", b"HELLO")
    k.c(5000, ci + 6, si + 6, "A")
    k.v(6000, si + 6, ci + 6, "RA")
    k.c(6500, ci + 6, si + 6, "PA", b"late!")
    k.write("tcp-rst-abort.pcap")


def build_tcp_midstream():
    # The capture starts inside an established connection: 1 client data
    # (ACK set); 2 server data; 3 client ACK.  No SYN, no FIN.
    k = _TCPConn(41007)
    ci, si = 50000, 90000
    k.c(0, ci, si, "PA", b"more data")
    k.v(1000, si, ci + 9, "PA", b"reply")
    k.c(2000, ci + 9, si + 5, "A")
    k.write("tcp-midstream.pcap")


def build_tcp_syn_retransmit():
    # 1 SYN; 2 the same SYN (same ISN) 1 s later; 3 SYN-ACK; 4 ACK.
    k = _TCPConn(41008)
    ci, si = 11000, 21000
    k.c(0, ci, 0, "S")
    k.c(1000000, ci, 0, "S")
    k.v(1001000, si, ci + 1, "SA")
    k.c(1002000, ci + 1, si + 1, "A")
    k.write("tcp-syn-retransmit.pcap")


def build_tcp_port_reuse():
    # Connection 1 (frames 1-8): handshake, data, ACK, client FIN, server FIN+ACK,
    # last ACK.  Connection 2 (frames 9-14), 100 ms later on the same
    # 4-tuple with a new ISN: handshake, client FIN, server FIN+ACK, ACK.
    k = _TCPConn(41009)
    ci, si = 12000, 22000
    _handshake(k, ci, si)
    k.c(3000, ci + 1, si + 1, "PA", b"one")
    k.v(4000, si + 1, ci + 4, "A")
    k.c(5000, ci + 4, si + 1, "FA")
    k.v(6000, si + 1, ci + 5, "FA")
    k.c(7000, ci + 5, si + 2, "A")
    ci2, si2 = 112000, 122000
    _handshake(k, ci2, si2, t0=107000)
    k.c(110000, ci2 + 1, si2 + 1, "FA")
    k.v(111000, si2 + 1, ci2 + 2, "FA")
    k.c(112000, ci2 + 2, si2 + 2, "A")
    k.write("tcp-port-reuse.pcap")


def build_tcp_seq_wrap():
    # ISNs just below 2^32: the client's three 100-byte segments start at raw
    # seq 4294967147, 4294967247 (its 50th byte crosses 2^32) and 51, the
    # server's ACKs follow them across the wrap; the server's 2-byte reply
    # starts at 4294967295 and its FIN is at raw seq 1.  Relative numbers
    # must read 1:101, 101:201, 201:301.  Then a 3-segment close.
    k = _TCPConn(41010)
    ci = 2**32 - 150          # 4294967146: relative 1 is 4294967147
    si = 2**32 - 2            # 4294967294: relative 1 is 4294967295, 2 wraps to 0
    _handshake(k, ci, si)
    for i in range(3):
        k.c(3000 + 2000 * i, ci + 1 + 100 * i, si + 1, "PA", bytes([0x61 + i]) * 100)
        k.v(4000 + 2000 * i, si + 1, ci + 101 + 100 * i, "A")
    k.v(9000, si + 1, ci + 301, "PA", b"ok")
    k.c(10000, ci + 301, si + 3, "FA")
    k.v(11000, si + 3, ci + 302, "FA")
    k.c(12000, ci + 302, si + 4, "A")
    k.write("tcp-seq-wrap.pcap")


def build_tcp_analysis_seq():
    # Wireshark's sequence analysis kinds, one connection (docs/tcp-analysis.md). Handshake RTT
    # 2 ms (the out-of-order window). Client ISN 1000, server ISN 5000; 100-byte segments.
    #  4 data 1001:1101           5 data 1201:1301: lost segment (1101:1201 not captured)
    #  6 data 1101:1201 200 µs later: out-of-order      7 server ACK 1301
    #  8, 9 data 1301:1401, 1401:1501   10 server ACK 1301 again: duplicate ACK #1 of #7
    # 11 data 1501:1601   12, 13 duplicate ACK #2, #3 of #7
    # 14 data 1301:1401 again 100 µs after them: fast retransmission     15 server ACK 1601
    # 16 data 1501:1601 again 300 ms later, already acknowledged: spurious retransmission
    # 17 data 1601:1701   18 the same 290 ms later: retransmission
    # 19 server ACK 1901: ACKed unseen segment (1701:1901 never captured)
    k = _TCPConn(41011)
    ci, si = 1000, 5000
    _handshake(k, ci, si)
    d = lambda n: bytes([0x61 + n % 26]) * 100
    k.c(3000, ci + 1, si + 1, "PA", d(0))
    k.c(3200, ci + 201, si + 1, "PA", d(2))
    k.c(3400, ci + 101, si + 1, "PA", d(1))
    k.v(4000, si + 1, ci + 301, "A")
    k.c(5000, ci + 301, si + 1, "PA", d(3))
    k.c(5100, ci + 401, si + 1, "PA", d(4))
    k.v(5200, si + 1, ci + 301, "A")
    k.c(5300, ci + 501, si + 1, "PA", d(5))
    k.v(5400, si + 1, ci + 301, "A")
    k.v(5500, si + 1, ci + 301, "A")
    k.c(5600, ci + 301, si + 1, "PA", d(3))
    k.v(6000, si + 1, ci + 601, "A")
    k.c(300000, ci + 501, si + 1, "PA", d(5))
    k.c(310000, ci + 601, si + 1, "PA", d(6))
    k.c(600000, ci + 601, si + 1, "PA", d(6))
    k.v(601000, si + 1, ci + 901, "A")
    k.write("tcp-analysis-seq.pcap")


def build_tcp_analysis_window():
    # Wireshark's window kinds, one connection without window scaling; the server offers 300 bytes.
    #  4 data 1001:1101   5 data 1101:1301: window full (reaches ACK 1001 + window 300)
    #  6 server ACK 1301, window 0: zero window
    #  7 one byte at 1301, 200 ms later: zero-window probe
    #  8 server ACK 1301, window 0 again: zero window + zero-window probe ACK
    #  9 server ACK 1301, window 300: window update     10 data 1301:1401   11 server ACK 1401
    k = _TCPConn(41013)
    ci, si = 1000, 5000
    k.c(0, ci, 0, "S")
    k.v(1000, si, ci + 1, "SA", win=300)
    k.c(2000, ci + 1, si + 1, "A")
    k.c(3000, ci + 1, si + 1, "PA", b"w" * 100)
    k.c(3100, ci + 101, si + 1, "PA", b"x" * 200)
    k.v(4000, si + 1, ci + 301, "A", win=0)
    k.c(204000, ci + 301, si + 1, "A", b"y")
    k.v(205000, si + 1, ci + 301, "A", win=0)
    k.v(400000, si + 1, ci + 301, "A", win=300)
    k.c(401000, ci + 301, si + 1, "PA", b"z" * 100)
    k.v(402000, si + 1, ci + 401, "A", win=300)
    k.write("tcp-analysis-window.pcap")


def build_tcp_analysis_keepalive():
    # Keep-alives: 4 data 1001:1011; 5 server ACK 1011; 6 (60 s later) the client's keep-alive, seq
    # 1010 without data; 7 the server's keep-alive ACK; 8 (60 s later) a keep-alive with one
    # garbage byte at 1010 (as Windows sends them); 9 its keep-alive ACK.
    k = _TCPConn(41012)
    ci, si = 1000, 5000
    _handshake(k, ci, si)
    k.c(3000, ci + 1, si + 1, "PA", b"0123456789")
    k.v(4000, si + 1, ci + 11, "A")
    k.c(60004000, ci + 10, si + 1, "A")
    k.v(60005000, si + 1, ci + 11, "A")
    k.c(120005000, ci + 10, si + 1, "A", b"\x00")
    k.v(120006000, si + 1, ci + 11, "A")
    k.write("tcp-analysis-keepalive.pcap")


CRAFTED = {
    "dns-udp.pcap": build_dns_udp,
    "ipv6-udp-dns.pcap": build_ipv6_udp_dns,
    "arp.pcap": build_arp,
    "icmp-errors.pcap": build_icmp_errors,
    "vlan.pcap": build_vlan,
    "tcp-options.pcap": build_tcp_options,
    "corrupted.pcap": build_corrupted,
    "nanosecond.pcap": build_nanosecond,
    "null-loopback.pcap": build_null_loopback,
    "raw-ip.pcap": build_raw_ip,
    "unknown-dlt.pcap": build_unknown_dlt,
    "icmpv6.pcap": build_icmpv6,
    "ipv6-extensions.pcap": build_ipv6_extensions,
    "ipv6-links": build_ipv6_links,  # ipv6-dlt-ipv6, ipv6-raw, ipv6-sll, ipv6-sll2, ipv6-loop .pcap
    "tcp-three-way-close.pcap": build_tcp_three_way_close,
    "tcp-four-way-close.pcap": build_tcp_four_way_close,
    "tcp-simultaneous-close.pcap": build_tcp_simultaneous_close,
    "tcp-half-close.pcap": build_tcp_half_close,
    "tcp-refused.pcap": build_tcp_refused,
    "tcp-rst-abort.pcap": build_tcp_rst_abort,
    "tcp-midstream.pcap": build_tcp_midstream,
    "tcp-syn-retransmit.pcap": build_tcp_syn_retransmit,
    "tcp-port-reuse.pcap": build_tcp_port_reuse,
    "tcp-seq-wrap.pcap": build_tcp_seq_wrap,
    "tcp-analysis-seq.pcap": build_tcp_analysis_seq,
    "tcp-analysis-window.pcap": build_tcp_analysis_window,
    "tcp-analysis-keepalive.pcap": build_tcp_analysis_keepalive,
}


# ---------------------------------------------------------------------------
# real loopback traffic (run while tcpdump is capturing)
# ---------------------------------------------------------------------------

def tcp_session(family, host, port, messages, reply_prefix=b"ack: "):
    """One TCP connection: handshake, each message answered by the server,
    then client close (FIN) -> server close (FIN)."""
    ready = threading.Event()

    def server():
        ls = socket.socket(family, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, port))
        ls.listen(1)
        ready.set()
        conn, _ = ls.accept()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(reply_prefix + data[:32])
        ls.close()

    t = threading.Thread(target=server)
    t.start()
    ready.wait(5)
    c = socket.socket(family, socket.SOCK_STREAM)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect((host, port))
    for m in messages:
        time.sleep(0.05)
        c.sendall(m)
        c.recv(65536)
    time.sleep(0.05)
    c.close()
    t.join(5)


def udp_datagram(host, port, payload):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind((host, port))
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.sendto(payload, (host, port))
    srv.settimeout(2)
    srv.recvfrom(65536)
    c.close()
    srv.close()


def dns_query_bytes(qname, qtype=1, id_=0x4e49):
    return _dns_hdr(id_, 0x0100, 1, 0) + _qname(qname) + struct.pack("!HH", qtype, 1)


def traffic(kind):
    if kind == "tcp4":          # tcp-handshake.pcap
        tcp_session(socket.AF_INET, "127.0.0.1", 9000,
                    [b"hello server\n", b"GET /status\n", b"bye\n"])
    elif kind == "tcp6":        # ipv6-tcp.pcap
        tcp_session(socket.AF_INET6, "::1", 9001,
                    [b"hello over ipv6\n", b"second message\n"])
    elif kind == "big":         # truncated-snaplen.pcap
        tcp_session(socket.AF_INET, "127.0.0.1", 9002,
                    [b"A" * 200, b"B" * 300, b"C" * 150])
        # DNS query to 127.0.0.1:53; nothing listens, so an ICMP port
        # unreachable comes back as well.
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.sendto(dns_query_bytes("truncated-example.netinspect.test"), ("127.0.0.1", 53))
        time.sleep(0.2)
        c.close()
    elif kind == "any":         # sll.pcap / sll2.pcap
        tcp_session(socket.AF_INET, "127.0.0.1", 9003, [b"linux cooked capture\n"])
        time.sleep(0.05)
        udp_datagram("127.0.0.1", 9004, b"udp over cooked capture")
    else:
        raise SystemExit("unknown traffic kind %r" % kind)


def main(argv):
    if len(argv) >= 2 and argv[1] == "traffic":
        traffic(argv[2])
        return
    if len(argv) >= 2 and argv[1] == "crafted":
        names = argv[2:] or list(CRAFTED)
        for n in names:
            CRAFTED[n]()
        return
    print(__doc__)
    print("usage: make_captures.py crafted [NAME ...] | traffic tcp4|tcp6|big|any")
    sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
