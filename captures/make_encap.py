#!/usr/bin/env python3
"""Crafted captures for tunnels, shims, IP fragments and TSO (captures/tunnel-*.pcap,
ip-fragments.pcap, tso.pcap).

    python3 captures/make_encap.py            # rewrites every file below
    python3 captures/make_encap.py tso.pcap   # just one

Deterministic, byte for byte: fixed addresses (documentation ranges only: 192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, and 239.1.2.3 as the multicast group), MACs,
ports, ids, sequence numbers and timestamps (1700000000 + 1 ms per frame); no randomness.
scapy builds IP/IPv6/TCP/UDP/DNS (and their checksums); the tunnel headers are packed by hand
here so every byte is the one the comment says. Classic pcap, little-endian, EN10MB, caplen ==
orig_len. Every inner packet carries TCP or UDP; several carry a DNS query, so tshark and
netinspect both have transport and DNS fields to show.
"""

import os
import struct
import sys

from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, IPv6, IPv6ExtHdrFragment, Raw, raw

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_TS = 1700000000

# outer (underlay) endpoints: the tunnel end points
MAC_A, MAC_B = "02:00:00:00:00:a1", "02:00:00:00:00:b2"
V4_A, V4_B = "192.0.2.1", "192.0.2.2"
V6_A, V6_B = "2001:db8::a", "2001:db8::b"
# inner (overlay) hosts
MAC_C, MAC_S = "02:00:00:00:00:0c", "02:00:00:00:00:05"
IN4_C, IN4_S = "198.51.100.10", "198.51.100.20"
IN6_C, IN6_S = "2001:db8:1::10", "2001:db8:1::20"

ETH_IPV4, ETH_IPV6, ETH_TEB = 0x0800, 0x86DD, 0x6558


def write_pcap(name, frames):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, data in enumerate(frames):
            data = bytes(data)
            t = i * 1000  # microseconds
            f.write(struct.pack("<IIII", BASE_TS + t // 1000000, t % 1000000, len(data), len(data)))
            f.write(data)
    print(f"wrote {name:24} packets={len(frames)}")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


# ---------------------------------------------------------------------------
# inner packets (what the tunnels carry)
# ---------------------------------------------------------------------------

def syn4(sport=40001, dport=80, seq=1000):
    return IP(src=IN4_C, dst=IN4_S, id=0x0101, ttl=64, flags="DF") / TCP(
        sport=sport, dport=dport, seq=seq, flags="S", window=64240, options=[("MSS", 1460)])


def synack4(sport=40001, dport=80, seq=5000, ack=1001):
    return IP(src=IN4_S, dst=IN4_C, id=0x0202, ttl=64, flags="DF") / TCP(
        sport=dport, dport=sport, seq=seq, ack=ack, flags="SA", window=65160, options=[("MSS", 1400)])


def dns4(qid, name, qtype="A", sport=50001):
    return IP(src=IN4_C, dst=IN4_S, id=0x0303, ttl=64) / UDP(sport=sport, dport=53) / DNS(
        id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))


def syn6(sport=40006, dport=443, seq=2000):
    return IPv6(src=IN6_C, dst=IN6_S, hlim=64) / TCP(sport=sport, dport=dport, seq=seq, flags="S",
                                                     window=64800, options=[("MSS", 1440)])


def dns6(qid, name, qtype="AAAA", sport=50006):
    return IPv6(src=IN6_C, dst=IN6_S, hlim=64) / UDP(sport=sport, dport=53) / DNS(
        id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))


def eth_in(pkt, src=MAC_C, dst=MAC_S):
    return Ether(src=src, dst=dst) / pkt


def outer4_udp(dport, payload, sport=49152, src=V4_A, dst=V4_B):
    return Ether(src=MAC_A, dst=MAC_B) / IP(src=src, dst=dst, id=0x0a0a, ttl=64, flags="DF") / UDP(
        sport=sport, dport=dport) / Raw(bytes(payload))


def outer4_proto(proto, payload, src=V4_A, dst=V4_B, ident=0x0b0b):
    return Ether(src=MAC_A, dst=MAC_B) / IP(src=src, dst=dst, id=ident, ttl=64, proto=proto) / Raw(bytes(payload))


def outer6_proto(nh, payload, src=V6_A, dst=V6_B):
    return Ether(src=MAC_A, dst=MAC_B) / IPv6(src=src, dst=dst, hlim=64, nh=nh) / Raw(bytes(payload))


# ---------------------------------------------------------------------------
# tunnel headers
# ---------------------------------------------------------------------------

def vxlan(vni, inner_frame):
    """RFC 7348: flags 0x08 (I: VNI valid), 24 reserved bits, VNI, 8 reserved bits."""
    return struct.pack("!II", 0x08000000, vni << 8) + bytes(inner_frame)


def geneve(vni, proto, payload, options=b"", oam=False, critical=False):
    """RFC 8926: ver 0, opt len (4-byte words), O, C, protocol type, VNI, reserved; options."""
    assert len(options) % 4 == 0
    b0 = (0 << 6) | (len(options) // 4)
    b1 = (0x80 if oam else 0) | (0x40 if critical else 0)
    return struct.pack("!BBHI", b0, b1, proto, vni << 8) + options + bytes(payload)


def geneve_option(cls, typ, data):
    assert len(data) % 4 == 0
    return struct.pack("!HBB", cls, typ, len(data) // 4) + data


def gre(proto, payload, key=None, seq=None, checksum=False):
    """RFC 2784/2890: C, K, S flags, version 0; [checksum, reserved1] [key] [sequence number]."""
    flags = (0x8000 if checksum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    opt = b""
    if checksum:
        opt += b"\0\0\0\0"
    if key is not None:
        opt += struct.pack("!I", key)
    if seq is not None:
        opt += struct.pack("!I", seq)
    hdr = struct.pack("!HH", flags, proto) + opt
    pkt = hdr + bytes(payload)
    if checksum:
        c = csum(pkt)
        pkt = pkt[:4] + struct.pack("!H", c) + pkt[6:]
    return pkt


def mpls(labels, payload):
    """labels: [(label, tc, ttl)] outermost first; S set on the last."""
    out = b""
    for i, (label, tc, ttl) in enumerate(labels):
        s = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (tc << 9) | (s << 8) | ttl)
    return out + bytes(payload)


def pppoe_session(session, ppp_proto, payload):
    """RFC 2516 session stage: ver 1, type 1, code 0, session id, length (PPP proto + payload)."""
    body = struct.pack("!H", ppp_proto) + bytes(payload)
    return struct.pack("!BBHH", 0x11, 0x00, session, len(body)) + body


def pim_register(inner, border=False, null_register=False):
    """RFC 7761 PIMv2 Register (type 1): ver 2 / type 1, reserved, checksum over the 8-byte
    PIM header only (the Register rule), B and N bits, then the multicast packet."""
    bits = (0x80000000 if border else 0) | (0x40000000 if null_register else 0)
    hdr = struct.pack("!BBHI", 0x21, 0, 0, bits)
    c = csum(hdr)
    return hdr[:2] + struct.pack("!H", c) + hdr[4:] + bytes(inner)


def macsec(user_ethertype, payload, an=0, pn=1, sci=None):
    """IEEE 802.1AE SecTAG without encryption (E = C = 0): TCI/AN, SL, PN, [SCI]; then the
    frame's own EtherType and payload in clear, then a 16-byte ICV (fixed filler bytes)."""
    tci = 0x20 if sci is not None else 0x00  # SC bit
    secure = struct.pack("!H", user_ethertype) + bytes(payload)
    sl = len(secure) if len(secure) < 48 else 0
    tag = struct.pack("!BBI", tci | an, sl, pn)
    if sci is not None:
        tag += struct.pack("!Q", sci)
    icv = bytes(range(0xe0, 0xf0))
    return tag + secure + icv


def nsh(spi, si, next_proto, payload, md_type=2, context=b"", ttl=63):
    """RFC 8300: ver 0, O 0, U 0, TTL, length (4-byte words), MD type, next protocol
    (1 IPv4, 2 IPv6, 3 Ethernet); service path header SPI(24) SI(8); MD type 1 carries
    16 bytes of fixed context, MD type 2 variable TLVs (none here)."""
    if md_type == 1:
        assert len(context) == 16
    length = 2 + len(context) // 4
    w0 = (0 << 30) | (ttl << 22) | (length << 16) | (md_type << 8) | next_proto
    return struct.pack("!II", w0, (spi << 8) | si) + context + bytes(payload)


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------

def build_vxlan():
    return [
        # 1: VNI 100, inner Ethernet/IPv4/TCP SYN
        outer4_udp(4789, vxlan(100, eth_in(syn4())), sport=49152),
        # 2: the SYN-ACK back, VNI 100
        Ether(src=MAC_B, dst=MAC_A) / IP(src=V4_B, dst=V4_A, id=0x0c0c, ttl=64, flags="DF") / UDP(
            sport=49153, dport=4789) / Raw(vxlan(100, eth_in(synack4(), src=MAC_S, dst=MAC_C))),
        # 3: VNI 200, inner Ethernet/IPv4/UDP DNS A query www.example.com
        outer4_udp(4789, vxlan(200, eth_in(dns4(0x7101, "www.example.com"))), sport=49154),
        # 4: VNI 200, inner Ethernet/IPv6/UDP DNS AAAA query
        outer4_udp(4789, vxlan(200, eth_in(dns6(0x7102, "v6.example.com"))), sport=49155),
    ]


def build_geneve():
    opt = geneve_option(0x0102, 0x80, b"\x00\x00\x00\x2a")  # class 0x0102, critical-type bit set, 4 bytes
    return [
        # 1: one 8-byte option, protocol 0x6558 (Ethernet), inner IPv4/TCP SYN
        outer4_udp(6081, geneve(300, ETH_TEB, eth_in(syn4(sport=40011)), options=opt), sport=50100),
        # 2: no option, protocol 0x0800 (IPv4 directly), inner UDP DNS query
        outer4_udp(6081, geneve(300, ETH_IPV4, dns4(0x7201, "geneve.example.com")), sport=50101),
        # 3: two options (4-byte and 0-byte data), OAM bit, protocol 0x86DD, inner IPv6/TCP SYN
        outer4_udp(6081, geneve(301, ETH_IPV6, syn6(sport=40012),
                                options=geneve_option(0xffff, 0x01, b"\xde\xad\xbe\xef") + geneve_option(0x0103, 0x02, b""),
                                oam=True), sport=50102),
    ]


def build_gre():
    return [
        # 1: GRE with key 0x1000 and sequence number 1, protocol IPv4, inner TCP SYN
        outer4_proto(47, gre(ETH_IPV4, syn4(sport=40021), key=0x1000, seq=1)),
        # 2: key and sequence number 2, inner DNS query over IPv4/UDP
        outer4_proto(47, gre(ETH_IPV4, dns4(0x7301, "gre.example.com"), key=0x1000, seq=2)),
        # 3: transparent Ethernet bridging (0x6558) with key 0x2000: inner Ethernet/IPv4/UDP DNS
        outer4_proto(47, gre(ETH_TEB, eth_in(dns4(0x7302, "teb.example.com")), key=0x2000)),
        # 4: checksum present (valid), protocol IPv6, inner IPv6/TCP SYN, over an IPv6 outer header
        outer6_proto(47, gre(ETH_IPV6, syn6(sport=40022), checksum=True)),
    ]


def build_ipip():
    return [
        # 1: IPv4 in IPv4 (protocol 4), inner TCP SYN
        outer4_proto(4, syn4(sport=40031)),
        # 2: IPv6 in IPv4 (protocol 41, 6in4), inner DNS AAAA query
        outer4_proto(41, dns6(0x7401, "sixinfour.example.com")),
        # 3: IPv4 in IPv6 (next header 4), inner DNS A query
        outer6_proto(4, dns4(0x7402, "fourinsix.example.com")),
        # 4: IPv6 in IPv6 (next header 41), inner TCP SYN
        outer6_proto(41, syn6(sport=40032)),
    ]


def build_mpls():
    stack = [(100, 0, 64), (200, 5, 63)]  # outer label 100 (TC 0), bottom label 200 (TC 5)
    frames = []
    for inner in (syn4(sport=40041), dns4(0x7501, "mpls.example.com")):
        frames.append(Ether(src=MAC_A, dst=MAC_B, type=0x8847) / Raw(mpls(stack, inner)))
    # 3: a single label (S set) carrying IPv6/TCP
    frames.append(Ether(src=MAC_A, dst=MAC_B, type=0x8847) / Raw(mpls([(300, 0, 64)], syn6(sport=40042))))
    return frames


def build_pppoe():
    return [
        # 1: session 0x1234, PPP protocol 0x0021 (IPv4), UDP DNS query
        Ether(src=MAC_A, dst=MAC_B, type=0x8864) / Raw(pppoe_session(0x1234, 0x0021, dns4(0x7601, "pppoe.example.com"))),
        # 2: PPP protocol 0x0021, TCP SYN
        Ether(src=MAC_A, dst=MAC_B, type=0x8864) / Raw(pppoe_session(0x1234, 0x0021, syn4(sport=40051))),
        # 3: PPP protocol 0x0057 (IPv6), TCP SYN
        Ether(src=MAC_A, dst=MAC_B, type=0x8864) / Raw(pppoe_session(0x1234, 0x0057, syn6(sport=40052))),
    ]


def build_pim():
    mc = "239.1.2.3"
    data = IP(src=IN4_C, dst=mc, id=0x0404, ttl=16) / UDP(sport=5004, dport=5004) / Raw(b"multicast payload")
    dnsq = IP(src=IN4_C, dst=mc, id=0x0405, ttl=16) / UDP(sport=50071, dport=53) / DNS(
        id=0x7701, rd=0, qd=DNSQR(qname="pim.example.com", qtype="A"))
    return [
        # 1: Register from the DR 192.0.2.1 to the RP 192.0.2.2 carrying a UDP datagram to 239.1.2.3
        outer4_proto(103, pim_register(data)),
        # 2: Register with the border bit, carrying a UDP/53 DNS query to the group
        outer4_proto(103, pim_register(dnsq, border=True), ident=0x0b0c),
    ]


def build_macsec():
    return [
        # 1: SC bit and SCI 02:00:00:00:00:a1 port 1, AN 0, PN 1: IPv4/UDP DNS query in clear
        Ether(src=MAC_A, dst=MAC_B, type=0x88E5) / Raw(
            macsec(ETH_IPV4, dns4(0x7801, "macsec.example.com"), an=0, pn=1, sci=0x0200000000a10001)),
        # 2: no SCI, AN 1, PN 2: IPv4/TCP SYN in clear
        Ether(src=MAC_A, dst=MAC_B, type=0x88E5) / Raw(macsec(ETH_IPV4, syn4(sport=40081), an=1, pn=2)),
    ]


def build_nsh():
    ctx = bytes.fromhex("00000001000000020000000300000004")
    return [
        # 1: MD type 1 (16 bytes of context), SPI 42, SI 255, next protocol IPv4: TCP SYN
        Ether(src=MAC_A, dst=MAC_B, type=0x894F) / Raw(nsh(42, 255, 1, syn4(sport=40091), md_type=1, context=ctx)),
        # 2: MD type 2 (no metadata), SPI 42, SI 254, next protocol Ethernet: IPv4/UDP DNS query
        Ether(src=MAC_A, dst=MAC_B, type=0x894F) / Raw(nsh(42, 254, 3, eth_in(dns4(0x7901, "nsh.example.com")))),
        # 3: MD type 2, next protocol IPv6: DNS AAAA query
        Ether(src=MAC_A, dst=MAC_B, type=0x894F) / Raw(nsh(43, 200, 2, dns6(0x7902, "nsh6.example.com"))),
    ]


def build_nested():
    # 1: IPv6 / GRE (key 7) / IPv4 / UDP 4789 / VXLAN 500 / Ethernet / IPv4 / TCP SYN
    mid = IP(src="203.0.113.1", dst="203.0.113.2", id=0x0d0d, ttl=64) / UDP(sport=49200, dport=4789) / Raw(
        vxlan(500, eth_in(syn4(sport=40101))))
    f1 = outer6_proto(47, gre(ETH_IPV4, mid, key=7))
    # 2: IPv4 / UDP 4789 / VXLAN 501 / Ethernet / IPv6 / IPv4 (4in6) / UDP DNS query
    inner6 = IPv6(src=IN6_C, dst=IN6_S, hlim=64, nh=4) / dns4(0x7a01, "nested.example.com")
    f2 = outer4_udp(4789, vxlan(501, Ether(src=MAC_C, dst=MAC_S) / inner6), sport=49201)
    # 3: IPv4 / GRE TEB / Ethernet / MPLS 2 labels / IPv6 / TCP SYN
    f3 = outer4_proto(47, gre(ETH_TEB, Ether(src=MAC_C, dst=MAC_S, type=0x8847) / Raw(
        mpls([(1000, 0, 64), (1001, 0, 64)], syn6(sport=40102)))))
    return [f1, f2, f3]


def build_ip_fragments():
    frames = []
    # --- IPv4: a 1081-byte UDP datagram (a DNS response with five 180-byte TXT records) in 3
    # fragments, sent out of order (last, first, middle); the middle one overlaps the first by
    # 8 bytes (same bytes). id 0x1111, 192.0.2.53:53 -> 192.0.2.10:40000.
    txt = [DNSRR(rrname="big.example.com", type="TXT", ttl=300, rdata=[bytes([0x61 + i]) * 180]) for i in range(5)]
    resp = IP(src="192.0.2.53", dst="192.0.2.10", id=0x1111, ttl=64) / UDP(sport=53, dport=40000) / DNS(
        id=0x8101, qr=1, aa=1, rd=1, ra=1, qd=DNSQR(qname="big.example.com", qtype="TXT"), an=txt)
    whole = raw(resp)
    ihl = 20
    udp_bytes = whole[ihl:]  # UDP header + DNS, checksum computed over the whole datagram

    def frag4(ident, data, off, mf, src="192.0.2.53", dst="192.0.2.10"):
        return Ether(src=MAC_B, dst=MAC_A) / IP(src=src, dst=dst, id=ident, ttl=64, proto=17,
                                                 flags="MF" if mf else 0, frag=off // 8) / Raw(data)

    n = len(udp_bytes)
    a = frag4(0x1111, udp_bytes[0:400], 0, True)
    b = frag4(0x1111, udp_bytes[392:800], 392, True)  # overlaps bytes 392-399 of the first
    c = frag4(0x1111, udp_bytes[800:n], 800, False)
    frames += [c, a, b]  # 1: last, 2: first, 3: middle (completes the datagram)
    # --- IPv4: a datagram that never completes (id 0x2222): first and last fragment, the middle lost.
    q = IP(src="192.0.2.10", dst="192.0.2.53", id=0x2222, ttl=64) / UDP(sport=40001, dport=53) / DNS(
        id=0x8102, rd=1, qd=DNSQR(qname="lost.example.com", qtype="TXT"), ar=[DNSRR(rrname=".", type="TXT", rdata=["z" * 300])])
    qb = raw(q)[20:]
    frames.append(frag4(0x2222, qb[0:160], 0, True, src="192.0.2.10", dst="192.0.2.53"))     # 4
    frames.append(frag4(0x2222, qb[320:], 320, False, src="192.0.2.10", dst="192.0.2.53"))  # 5
    # --- IPv6: a DNS response in two fragments (fragment header id 0xabcdef01), in order.
    an = [DNSRR(rrname="frag6.example.com", type="AAAA", ttl=60, rdata=f"2001:db8:2::{i + 1:x}") for i in range(12)]
    r6 = IPv6(src="2001:db8::53", dst="2001:db8::10", hlim=64) / UDP(sport=53, dport=40006) / DNS(
        id=0x8103, qr=1, rd=1, ra=1, qd=DNSQR(qname="frag6.example.com", qtype="AAAA"), an=an)
    u6 = raw(r6)[40:]

    def frag6(data, off, mf):
        return Ether(src=MAC_B, dst=MAC_A) / IPv6(src="2001:db8::53", dst="2001:db8::10", hlim=64) / IPv6ExtHdrFragment(
            nh=17, offset=off // 8, m=1 if mf else 0, id=0xabcdef01) / Raw(data)

    frames.append(frag6(u6[0:200], 0, True))     # 6
    frames.append(frag6(u6[200:], 200, False))   # 7 (completes it)
    # 8: an ordinary unfragmented DNS query afterwards (same hosts), to see decoding carry on
    frames.append(Ether(src=MAC_A, dst=MAC_B) / IP(src="192.0.2.10", dst="192.0.2.53", id=0x3333, ttl=64) / UDP(
        sport=40002, dport=53) / DNS(id=0x8104, rd=1, qd=DNSQR(qname="after.example.com")))
    return frames


def build_tso():
    """A TCP connection whose sender had segmentation offload: the two data segments are
    larger than the 1500-byte MTU and their IPv4 total length is 0 (the captured length stands
    in, as tshark shows with ip.tso_support). Checksums are correct over the bytes captured."""
    c, s = "192.0.2.10", "192.0.2.80"
    cp, sp = 40200, 8080

    def seg(src, dst, sport, dport, seq, ack, flags, payload=b"", ident=0, tso=False):
        ip = IP(src=src, dst=dst, id=ident, ttl=64, flags="DF")
        tcp = TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=502)
        pkt = ip / tcp / Raw(payload) if payload else ip / tcp
        b = bytearray(raw(Ether(src=MAC_A if src == c else MAC_B, dst=MAC_B if src == c else MAC_A) / pkt))
        if tso:
            b[14 + 2:14 + 4] = b"\0\0"        # total length 0
            b[14 + 10:14 + 12] = b"\0\0"
            b[14 + 10:14 + 12] = struct.pack("!H", csum(bytes(b[14:34])))  # header checksum over length 0
        return bytes(b)

    big1 = bytes((i * 7) & 0xFF for i in range(2896))   # 2 x 1448
    big2 = bytes((i * 13) & 0xFF for i in range(5792))  # 4 x 1448
    return [
        seg(c, s, cp, sp, 1000, 0, "S", ident=0x4001),
        seg(s, c, sp, cp, 9000, 1001, "SA", ident=0),
        seg(c, s, cp, sp, 1001, 9001, "A", ident=0x4002),
        seg(c, s, cp, sp, 1001, 9001, "PA", big1, ident=0x4003, tso=True),
        seg(s, c, sp, cp, 9001, 3897, "A", ident=0x5001),
        seg(c, s, cp, sp, 3897, 9001, "PA", big2, ident=0x4004, tso=True),
        seg(s, c, sp, cp, 9001, 9689, "A", ident=0x5002),
    ]


FILES = {
    "tunnel-vxlan.pcap": build_vxlan,
    "tunnel-geneve.pcap": build_geneve,
    "tunnel-gre.pcap": build_gre,
    "tunnel-ipip.pcap": build_ipip,
    "tunnel-mpls.pcap": build_mpls,
    "tunnel-pppoe.pcap": build_pppoe,
    "tunnel-pim.pcap": build_pim,
    "tunnel-macsec.pcap": build_macsec,
    "tunnel-nsh.pcap": build_nsh,
    "tunnel-nested.pcap": build_nested,
    "ip-fragments.pcap": build_ip_fragments,
    "tso.pcap": build_tso,
}


def main(argv):
    names = argv or list(FILES)
    for n in names:
        if n not in FILES:
            print(f"unknown file {n}; one of: {' '.join(FILES)}", file=sys.stderr)
            return 2
        write_pcap(n, FILES[n]())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
