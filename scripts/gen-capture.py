#!/usr/bin/env python3
"""Synthetic capture generator for netinspect benchmarks (and for anyone who needs a big,
realistic, reproducible pcap).

    scripts/gen-capture.py --mode {mixed,shortconn,synflood,oneflow,fragflood} --packets N --seed S -o FILE [--stats]

Writes a classic pcap file: little-endian, version 2.4, microsecond timestamps, snaplen 262144,
link type Ethernet, caplen == orig_len. Frames shorter than 60 bytes get Ethernet padding to 60 (as
seen on a span port). Every IPv4 header, TCP, UDP and ICMP checksum is correct. Timestamps never go
backwards; they start at 1700000000 (2023-11-14 22:13:20 UTC). The same mode, packet count and
seed always give a byte-identical file (only Python's `random.Random(seed)` is used).

Addresses are private or documentation ranges only: 10.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24 and 2001:db8::/32 (in DNS answers); MACs are locally administered (02:...).
The packets are only ever written to a file, never sent.

Modes
-----
mixed     A LAN 10.0.0.0/16 seen from a span port: ~240 clients (10.0.1.x, 10.0.2.x), a gateway
          10.0.0.1, two resolvers 10.0.0.53/.54, 16 LAN servers 10.0.0.20-35, and 60 Internet
          servers (20 in each documentation /24) reached through the gateway's MAC, each with
          its own RTT (LAN 0.08-0.4 ms, Internet 3-180 ms) and bandwidth. About 300 sessions run
          concurrently, so the connections interleave.
          * TCP (~96% of packets): handshake SYN / SYN-ACK / ACK with Linux options (MSS,
            SACK-permitted, timestamps, NOP, window scale), then request/response rounds.
            Application data is length-prefixed messages: a 4-byte big-endian length, then that
            many bytes of body. Requests are one message per segment, or several messages
            coalesced into one segment, or one message split over several segments (length
            prefix alone, then the body; or cut at random points), or a message straddling two
            segments. Responses larger than the MSS are cut into MSS-sized segments and sent
            in congestion-window bursts (slow start from 10 segments). The receiver ACKs every
            second segment and delays the ACK of a lone segment by 40 ms unless its next
            request carries it. Data segments carry the timestamp option (TSval = a ms clock
            + a random per-connection offset, TSecr = the last TSval seen from the peer).
            A few retransmissions: a request's tail segment lost after the capture point (the
            capture shows it twice), and a response segment lost before it (dup ACKs with SACK
            blocks, then a fast retransmit, or an RTO retransmit when there are too few dup
            ACKs). Some SYNs are retransmitted; some SYNs go unanswered; some are refused with
            RST-ACK. Teardown by client FIN, server FIN (with ACK piggybacked or separate), RST
            aborts by either side, and a few aborts in the middle of a response where the
            client answers the server's in-flight segments with bare RSTs.
          * DNS over UDP to the resolvers (~3%): A (+AAAA, as glibc asks both), CNAME answers, MX,
            NODATA and NXDOMAIN (with the zone's SOA in the authority section), some queries
            with EDNS OPT; responses use name compression. A few queries are retried.
          * ARP requests and replies (clients <-> gateway), gratuitous ARP, unanswered requests.
          * ICMP echo request/reply (ping, 1 s apart, 56 data bytes), some unanswered.
synflood  SYNs from random spoofed sources (random 10.x.y.z, a few from documentation ranges)
          and random ports to one listener 192.0.2.10:80, bare or with MSS / full options, about
          one every 10 us; the listener answers ~20% with SYN-ACK (syncookies).
oneflow   Every packet is a different flow (unique source address for up to 2^24 packets):
          TCP (SYN, data with timestamps, FIN, RST), UDP datagrams to random high ports, and ICMP
          echo with a random id.

--stats prints the packet mix (per protocol, TCP events, retransmissions, DNS types) to stderr. It
counts what the sessions generated; sessions still open when --packets is reached are cut off, so
the last few counted packets may not be in the file.
Speed: 1M packets in about 10 s (mixed), 4 s (synflood), 8 s (oneflow) with CPython 3.11 on one
core (bytes are built with struct and written in
8 MB chunks; scapy is not used).
"""

import argparse
import heapq
import random
import struct
import sys
import time

BASE_SEC = 1700000000
SNAPLEN = 262144

REC = struct.Struct("<IIII")
IPTCP = struct.Struct("!BBHHHBBH4s4sHHIIBBHHH")
IPUDP = struct.Struct("!BBHHHBBH4s4sHHHH")
IPICMP = struct.Struct("!BBHHHBBH4s4sBBHHH")
TSOPT = struct.Struct("!III")            # NOP NOP TS(10) tsval tsecr
SACKOPT = struct.Struct("!IIIIII")       # NOP NOP TS, NOP NOP SACK(10) left right
SYNOPT = struct.Struct("!HHHHIIBBBB")    # MSS, SACK-perm, TS, NOP, WS
ARP = struct.Struct("!HHBBH6s4s6s4s")
PAD = [b"\x00" * (60 - i) if i < 60 else b"" for i in range(61)]

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ETH_IP = b"\x08\x00"
ETH_ARP = b"\x08\x06"
BCAST = b"\xff" * 6


def ip4(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def ip4s(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


# ---------------------------------------------------------------------------------------------
# pcap writer
# ---------------------------------------------------------------------------------------------

class PcapWriter:
    def __init__(self, path):
        self.f = sys.stdout.buffer if path == "-" else open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, 1))
        self.buf = bytearray()
        self.count = 0
        self.last_t = 0
        self.clamped = 0
        self.bytes = 24

    def add(self, t, frame):
        if t < self.last_t:          # never backwards (sessions are merged in time order anyway)
            t = self.last_t
            self.clamped += 1
        self.last_t = t
        n = len(frame)
        if n < 60:
            frame += PAD[n]
            n = 60
        self.buf += REC.pack(BASE_SEC + t // 1000000, t % 1000000, n, n)
        self.buf += frame
        self.count += 1
        if len(self.buf) >= 8 << 20:
            self.flush()

    def flush(self):
        self.f.write(self.buf)
        self.bytes += len(self.buf)
        self.buf = bytearray()

    def close(self):
        self.flush()
        if self.f is not sys.stdout.buffer:
            self.f.close()
        else:
            self.f.flush()


# ---------------------------------------------------------------------------------------------
# Packet builders. Checksums use: a byte string read as a big-endian integer is congruent,
# modulo 0xFFFF, to the sum of its 16-bit words, so the one's-complement checksum is
# (-sum) % 0xFFFF (0 for a sum of 0xFFFF, as RFC 1071 gives). Per-direction constant parts
# (addresses, ports, protocol) are summed once.
# ---------------------------------------------------------------------------------------------

class Half:
    """One direction of a flow: link header, addresses, ports and the running IP id."""
    __slots__ = ("eth", "src", "dst", "ttl", "ipsum", "psum", "sport", "dport", "ipid",
                 "tsoff", "tslast", "proto", "df")

    def __init__(self, eth, src, dst, proto, sport, dport, ttl, ipid, df=True, tsoff=0):
        self.eth = eth
        self.src = src.to_bytes(4, "big")
        self.dst = dst.to_bytes(4, "big")
        self.ttl = ttl
        self.proto = proto
        self.df = 0x4000 if df else 0
        asum = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF)
        self.ipsum = 0x4500 + self.df + ((ttl << 8) | proto) + asum
        self.psum = asum + proto + sport + dport
        self.sport = sport
        self.dport = dport
        self.ipid = ipid
        self.tsoff = tsoff
        self.tslast = 0


def tcp_frame(h, flags, seq, ack, win, opts, payload):
    olen = len(opts)
    plen = len(payload)
    hl = 20 + olen
    tcplen = hl + plen
    total = 20 + tcplen
    ipid = h.ipid
    h.ipid = (ipid + 1) & 0xFFFF
    ipcs = -(h.ipsum + total + ipid) % 0xFFFF
    s = (h.psum + tcplen + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF)
         + ((hl << 10) | flags) + win)
    if olen:
        s += int.from_bytes(opts, "big")
    if plen:
        if plen & 1:
            s += int.from_bytes(payload, "big") << 8
        else:
            s += int.from_bytes(payload, "big")
    return h.eth + IPTCP.pack(0x45, 0, total, ipid, h.df, h.ttl, 6, ipcs, h.src, h.dst,
                              h.sport, h.dport, seq, ack, hl << 2, flags, win, -s % 0xFFFF,
                              0) + opts + payload


def tcp_ts(t, h, peer, flags, seq, ack, win, payload):
    tsval = (t // 1000 + h.tsoff) & 0xFFFFFFFF
    h.tslast = tsval
    return tcp_frame(h, flags, seq, ack, win, TSOPT.pack(0x0101080A, tsval, peer.tslast), payload)


def tcp_sack(t, h, peer, seq, ack, win, left, right):
    tsval = (t // 1000 + h.tsoff) & 0xFFFFFFFF
    h.tslast = tsval
    return tcp_frame(h, ACK, seq, ack, win,
                     SACKOPT.pack(0x0101080A, tsval, peer.tslast, 0x0101050A, left, right), b"")


def tcp_syn(t, h, peer, flags, seq, ack, win, mss, ws):
    tsval = (t // 1000 + h.tsoff) & 0xFFFFFFFF
    h.tslast = tsval
    tsecr = peer.tslast if flags & ACK else 0
    return tcp_frame(h, flags, seq, ack, win,
                     SYNOPT.pack(0x0204, mss, 0x0402, 0x080A, tsval, tsecr, 1, 3, 3, ws), b"")


def tcp_plain(t, h, peer, flags, seq, ack, win):
    return tcp_frame(h, flags, seq, ack, win, b"", b"")


def udp_frame(h, ipid, payload, paysum):
    """paysum: int.from_bytes(payload (zero-padded to even length)) % 0xFFFF."""
    ulen = 8 + len(payload)
    total = 20 + ulen
    ipcs = -(h.ipsum + total + ipid) % 0xFFFF
    cs = -(h.psum + ulen + ulen + paysum) % 0xFFFF or 0xFFFF
    return h.eth + IPUDP.pack(0x45, 0, total, ipid, h.df, h.ttl, 17, ipcs, h.src, h.dst,
                              h.sport, h.dport, ulen, cs) + payload


def paysum(b):
    return (int.from_bytes(b, "big") << (8 if len(b) & 1 else 0)) % 0xFFFF


def icmp_frame(h, ipid, typ, ident, seqno, payload):
    total = 28 + len(payload)
    ipcs = -(h.ipsum + total + ipid) % 0xFFFF
    cs = -((typ << 8) + ident + seqno + paysum(payload)) % 0xFFFF
    return h.eth + IPICMP.pack(0x45, 0, total, ipid, h.df, h.ttl, 1, ipcs, h.src, h.dst,
                               typ, 0, cs, ident, seqno) + payload


def arp_frame(dst_mac, src_mac, op, sha, spa, tha, tpa):
    return dst_mac + src_mac + ETH_ARP + ARP.pack(1, 0x0800, 6, 4, op, sha, spa.to_bytes(4, "big"),
                                                  tha, tpa.to_bytes(4, "big"))


# ---------------------------------------------------------------------------------------------
# DNS messages (built once per name/type/EDNS and cached; only the id changes per packet)
# ---------------------------------------------------------------------------------------------

T_A, T_NS, T_CNAME, T_SOA, T_MX, T_AAAA, T_OPT = 1, 2, 5, 6, 15, 28, 41


class DnsMsg:
    def __init__(self):
        self.b = bytearray(12)
        self.comp = {}

    def name(self, name):
        labels = name.split(".") if name else []
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            off = self.comp.get(suffix)
            if off is not None:
                self.b += struct.pack("!H", 0xC000 | off)
                return
            if len(self.b) < 0x3FFF:
                self.comp[suffix] = len(self.b)
            lab = labels[i].encode()
            self.b.append(len(lab))
            self.b += lab
        self.b.append(0)

    def question(self, name, qtype):
        self.name(name)
        self.b += struct.pack("!HH", qtype, 1)

    def rr(self, name, rtype, ttl, rdata_fn):
        self.name(name)
        self.b += struct.pack("!HHI", rtype, 1, ttl)
        at = len(self.b)
        self.b += b"\x00\x00"
        rdata_fn(self)
        struct.pack_into("!H", self.b, at, len(self.b) - at - 2)

    def opt(self):
        self.b += b"\x00" + struct.pack("!HHIH", T_OPT, 1232, 0, 0)


class Zone:
    """Names, addresses and canned answers for the mixed mode."""

    def __init__(self, R, servers):
        self.R = R
        labels = ["www", "api", "cdn", "static", "img", "auth", "login", "mail", "smtp", "imap",
                  "db", "cache", "shop", "blog", "docs", "git", "ci", "status", "media", "ws"]
        domains = ["example.com", "example.net", "example.org"]
        self.names = []
        self.info = {}
        i = 0
        for d in domains:
            for lab in labels:
                srv = servers[i]
                i += 1
                name = lab + "." + d
                a = [srv.ip] + [R.choice(servers).ip for _ in range(R.choice((0, 0, 1, 2)))]
                aaaa = []
                if R.random() < 0.6:
                    aaaa = [bytes.fromhex("20010db8%04x%04x0000000000000%03x"
                                          % (R.getrandbits(16), R.getrandbits(16), R.getrandbits(12)))
                            for _ in range(R.choice((1, 1, 2)))]
                cname = None
                if R.random() < 0.3:
                    cname = "%s-%s.edge%d.cdn.example.net" % (lab, d.split(".")[1], R.randrange(1, 9))
                self.info[name] = (srv, a, aaaa, cname, d, R.randrange(30, 3600))
                self.names.append(name)
                srv.name = name
        self.nx = ["nonexistent.example.com", "wpad.example.net", "printer.corp.example.org",
                   "api-staging.example.org", "old-www.example.com", "xn--bcher-kva.example.net",
                   "isatap.example.com", "mail3.example.org", "telemetry.example.net",
                   "_ldap._tcp.dc.example.com"]
        self.mx = {d: [(10, "mail." + d), (20, "smtp." + d)] for d in domains}
        self.cache = {}

    def soa(self, m, zone):
        m.rr(zone, T_SOA, 300, lambda m: (m.name("ns1." + zone), m.name("hostmaster." + zone),
                                           m.b.extend(struct.pack("!IIIII", 2023111401, 7200, 3600,
                                                                  1209600, 300))))

    def zone_of(self, name):
        parts = name.split(".")
        return ".".join(parts[-2:])

    def messages(self, name, qtype, edns):
        """(query, query_sum, response, response_sum) with id 0."""
        key = (name, qtype, edns)
        hit = self.cache.get(key)
        if hit:
            return hit
        q = DnsMsg()
        q.question(name, qtype)
        if edns:
            q.opt()
        struct.pack_into("!HHHHHH", q.b, 0, 0, 0x0100, 1, 0, 0, 1 if edns else 0)
        r = DnsMsg()
        r.question(name, qtype)
        an = ns = 0
        rcode = 0
        info = self.info.get(name)
        if info is None and qtype == T_MX and name in self.mx:
            for pref, host in self.mx[name]:
                r.rr(name, T_MX, 3600, lambda m, p=pref, h=host: (m.b.extend(struct.pack("!H", p)),
                                                                   m.name(h)))
                an += 1
        elif info is None:
            rcode = 3
            self.soa(r, self.zone_of(name))
            ns = 1
        else:
            srv, a, aaaa, cname, dom, ttl = info
            owner = name
            if cname:
                r.rr(name, T_CNAME, 3600, lambda m: m.name(cname))
                an += 1
                owner = cname
            typed = 0
            if qtype == T_A:
                for addr in a:
                    r.rr(owner, T_A, ttl, lambda m, x=addr: m.b.extend(x.to_bytes(4, "big")))
                    typed += 1
            elif qtype == T_AAAA:
                for addr in aaaa:
                    r.rr(owner, T_AAAA, ttl, lambda m, x=addr: m.b.extend(x))
                    typed += 1
            an += typed
            if not typed:
                self.soa(r, dom)        # NODATA: the name exists, no record of this type
                ns = 1
        if edns:
            r.opt()
        struct.pack_into("!HHHHHH", r.b, 0, 0, 0x8180 | rcode, 1, an, ns, 1 if edns else 0)
        qb, rb = bytes(q.b), bytes(r.b)
        hit = (qb, paysum(qb), rb, paysum(rb))
        self.cache[key] = hit
        return hit


# ---------------------------------------------------------------------------------------------
# mixed mode
# ---------------------------------------------------------------------------------------------

class Host:
    __slots__ = ("ip", "mac", "l2", "ttl", "rtt", "bw", "name", "port", "lan", "df_icmp")


class Stats:
    def __init__(self):
        self.c = {}

    def __call__(self, key, n=1):
        self.c[key] = self.c.get(key, 0) + n


class Mixed:
    def __init__(self, R, stats):
        self.R = R
        self.st = stats
        macs = set()

        def mac():
            while True:
                m = bytes([0x02, R.getrandbits(8)]) + R.getrandbits(32).to_bytes(4, "big")
                if m not in macs:
                    macs.add(m)
                    return m

        def host(ip, lan, ttl, rtt, bw):
            h = Host()
            h.ip = ip
            h.mac = mac()
            h.lan = lan
            h.ttl = ttl
            h.rtt = rtt
            h.bw = bw
            h.name = None
            h.port = R.randrange(32768, 61000)
            h.df_icmp = R.random() < 0.5
            return h

        self.gw = host(ip4("10.0.0.1"), True, 64, 0, 0)
        self.resolvers = [host(ip4("10.0.0.53"), True, 64, 0, 0), host(ip4("10.0.0.54"), True, 64, 0, 0)]
        self.clients = [host(ip4("10.0.1.0") + i, True, 64, 0, 0) for i in range(10, 130)] + \
                       [host(ip4("10.0.2.0") + i, True, 64, 0, 0) for i in range(10, 130)]
        self.lan_servers = [host(ip4("10.0.0.20") + i, True, 64, R.randrange(80, 400), 125.0)
                            for i in range(16)]
        self.inet_servers = []
        for net in ("192.0.2.0", "198.51.100.0", "203.0.113.0"):
            for i in R.sample(range(2, 250), 20):
                hops = R.randrange(6, 20)
                ttl = (128 if R.random() < 0.15 else 64) - hops
                rtt = int(min(180000, max(3000, R.lognormvariate(10.0, 0.8))))
                bw = R.choice((12.5, 12.5, 6.25, 25.0, 2.5))      # bytes per us
                self.inet_servers.append(host(ip4(net) + i, False, ttl, rtt, bw))
        for s in self.inet_servers:
            s.l2 = self.gw.mac
        for h in self.lan_servers + self.resolvers + self.clients + [self.gw]:
            h.l2 = h.mac
        self.zone = Zone(R, self.inet_servers)
        self.lan_ports = [9200, 25000, 15000, 24000]
        self.inet_ports = [9000, 9000, 8443, 8443, 50051, 4433, 6565]
        # message body bytes: half printable text, half binary
        text = bytes(R.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 {}:\",._-ABCDEFGH")
                     for _ in range(65536))
        self.body = text + R.getrandbits(8 * 65536).to_bytes(65536, "big")

    def next_port(self, h):
        h.port += self.R.randrange(1, 8)
        if h.port > 60999:
            h.port = 32768 + (h.port - 61000)
        return h.port

    def body_bytes(self, n):
        out = []
        while n > 0:
            k = min(n, 32768)
            off = self.R.randrange(0, len(self.body) - k)
            out.append(self.body[off:off + k])
            n -= k
        return b"".join(out)

    def message(self, size):
        return struct.pack("!I", size) + self.body_bytes(size)

    # ---- session dispatcher ------------------------------------------------------------------

    def session(self, t):
        R = self.R
        x = R.random()
        cl = R.choice(self.clients)
        if x < 0.60:
            return self.web(t, cl)
        if x < 0.72:
            srv = R.choice(self.lan_servers)
            return self.tcp(t, cl, srv, R.choice(self.lan_ports))
        if x < 0.86:
            return self.dns_only(t, cl)
        if x < 0.95:
            return self.arp(t, cl)
        return self.ping(t, cl)

    def web(self, t, cl):
        R = self.R
        name = R.choice(self.zone.names)
        srv = self.zone.info[name][0]
        port = R.choice(self.inet_ports)
        if R.random() < 0.5:
            t = yield from self.dns_lookup(t, cl, name, (T_A, T_AAAA), R.random() < 0.4)
            t += R.randrange(30, 300)
        yield from self.tcp(t, cl, srv, port)

    # ---- DNS -----------------------------------------------------------------------------

    def dns_only(self, t, cl):
        R = self.R
        for _ in range(R.choice((1, 1, 2, 3))):
            x = R.random()
            edns = R.random() < 0.4
            if x < 0.45:
                t = yield from self.dns_lookup(t, cl, R.choice(self.zone.names), (T_A, T_AAAA), edns)
            elif x < 0.65:
                t = yield from self.dns_lookup(t, cl, R.choice(self.zone.names), (T_A,), edns)
            elif x < 0.80:
                t = yield from self.dns_lookup(t, cl, R.choice(self.zone.nx), (T_A, T_AAAA), edns)
            elif x < 0.90:
                d = R.choice(("example.com", "example.net", "example.org"))
                t = yield from self.dns_lookup(t, cl, d, (T_MX,), edns)
            else:
                t = yield from self.dns_lookup(t, cl, R.choice(self.zone.names), (T_MX,), edns)
            t += int(R.expovariate(1 / 200000))

    def dns_lookup(self, t, cl, name, qtypes, edns):
        """Queries from one socket (as glibc sends A and AAAA), answers; returns the end time."""
        R = self.R
        st = self.st
        res = self.resolvers[0] if R.random() < 0.8 else self.resolvers[1]
        sport = self.next_port(cl)
        up = Half(res.mac + cl.mac + ETH_IP, cl.ip, res.ip, 17, sport, 53, 64, 0)
        down = Half(cl.mac + res.mac + ETH_IP, res.ip, cl.ip, 17, 53, sport, 64, 0)
        cached = R.random() < 0.7
        ev = []
        tq = t
        end = t
        for qt in qtypes:
            qid = R.getrandbits(16)
            q, qsum, r, rsum = self.zone.messages(name, qt, edns)
            q = struct.pack("!H", qid) + q[2:]
            r = struct.pack("!H", qid) + r[2:]
            ev.append((tq, udp_frame, (up, R.getrandbits(16), q, (qsum + qid) % 0xFFFF)))
            st("dns query")
            lat = R.randrange(150, 900) if cached else R.randrange(5000, 80000)
            if R.random() < 0.01:             # lost answer: the stub retries after 1 s
                tq2 = tq + 1000000 + R.randrange(0, 500)
                ev.append((tq2, udp_frame, (up, R.getrandbits(16), q, (qsum + qid) % 0xFFFF)))
                st("dns query retry")
                tr = tq2 + lat
            else:
                tr = tq + lat
            ev.append((tr, udp_frame, (down, R.getrandbits(16), r, (rsum + qid) % 0xFFFF)))
            st("dns response")
            st("dns qtype %d rcode %d" % (qt, r[3] & 15))
            end = max(end, tr)
            tq += R.randrange(15, 80)
        ev.sort(key=lambda e: e[0])
        for e in ev:
            yield e
        return end

    # ---- ARP, ICMP ----------------------------------------------------------------------

    def arp(self, t, cl):
        R = self.R
        gw = self.gw
        x = R.random()
        if x < 0.55:            # client resolves the gateway (or a resolver)
            tgt = gw if R.random() < 0.8 else R.choice(self.resolvers)
            yield (t, arp_frame, (BCAST, cl.mac, 1, cl.mac, cl.ip, b"\0" * 6, tgt.ip))
            t += R.randrange(40, 900)
            yield (t, arp_frame, (cl.mac, tgt.mac, 2, tgt.mac, tgt.ip, cl.mac, cl.ip))
            self.st("arp", 2)
        elif x < 0.85:          # gateway refreshes a client (unicast probe or broadcast)
            dst = cl.mac if R.random() < 0.5 else BCAST
            yield (t, arp_frame, (dst, gw.mac, 1, gw.mac, gw.ip, b"\0" * 6, cl.ip))
            t += R.randrange(40, 900)
            yield (t, arp_frame, (gw.mac, cl.mac, 2, cl.mac, cl.ip, gw.mac, gw.ip))
            self.st("arp", 2)
        elif x < 0.95:          # nobody home: three unanswered requests, 1 s apart
            ghost = ip4("10.0.3.0") + R.randrange(1, 255)
            for _ in range(3):
                yield (t, arp_frame, (BCAST, cl.mac, 1, cl.mac, cl.ip, b"\0" * 6, ghost))
                t += 1000000 + R.randrange(0, 2000)
            self.st("arp", 3)
        else:                   # gratuitous ARP announcement
            for _ in range(2):
                yield (t, arp_frame, (BCAST, cl.mac, 1, cl.mac, cl.ip, b"\0" * 6, cl.ip))
                t += 1000000 + R.randrange(0, 5000)
            self.st("arp", 2)

    def ping(self, t, cl):
        R = self.R
        srv = R.choice(self.inet_servers) if R.random() < 0.7 else R.choice(self.lan_servers + [self.gw])
        rtt = srv.rtt or R.randrange(100, 400)
        up = Half(srv.l2 + cl.mac + ETH_IP, cl.ip, srv.ip, 1, 0, 0, 64, 0, df=True)
        down = Half(cl.mac + srv.l2 + ETH_IP, srv.ip, cl.ip, 1, 0, 0, srv.ttl, 0, df=srv.df_icmp)
        ident = R.getrandbits(16)
        dead = R.random() < 0.1
        pattern = bytes(range(0x10, 0x38))
        ipid = R.getrandbits(16)
        for seqno in range(1, R.choice((1, 3, 4, 4, 5, 10)) + 1):
            tv = struct.pack("<QQ", BASE_SEC + t // 1000000, t % 1000000) + pattern
            yield (t, icmp_frame, (up, ipid, 8, ident, seqno, tv))
            ipid = (ipid + 1) & 0xFFFF
            self.st("icmp echo")
            if not dead and R.random() > 0.02:
                tr = t + rtt + R.randrange(0, max(1, rtt // 10))
                yield (tr, icmp_frame, (down, R.getrandbits(16), 0, ident, seqno, tv))
                self.st("icmp echo reply")
            t += 1000000 + R.randrange(0, 300)

    # ---- TCP ----------------------------------------------------------------------------

    def req_size(self):
        x = self.R.random()
        if x < 0.6:
            return self.R.randrange(16, 200)
        if x < 0.9:
            return self.R.randrange(200, 1400)
        if x < 0.98:
            return self.R.randrange(1400, 6000)
        return self.R.randrange(6000, 40000)

    def resp_size(self):
        x = self.R.random()
        if x < 0.5:
            return self.R.randrange(8, 300)
        if x < 0.8:
            return self.R.randrange(300, 3000)
        if x < 0.95:
            return self.R.randrange(3000, 30000)
        return self.R.randrange(30000, 200000)

    def request_writes(self):
        """Application writes of one request: list of bytes; returns (writes, pattern)."""
        R = self.R
        x = R.random()
        if x < 0.55:
            return [self.message(self.req_size())], "single"
        if x < 0.70:       # pipelined messages coalesced into one write/segment
            return [b"".join(self.message(R.randrange(8, 300)) for _ in range(R.randrange(2, 5)))], \
                "coalesced"
        if x < 0.80:       # several messages, each its own write
            return [self.message(R.randrange(8, 600)) for _ in range(R.randrange(2, 4))], "separate"
        if x < 0.92:       # one message split over several writes
            m = self.message(R.randrange(20, 1200))
            if R.random() < 0.5:
                return [m[:4], m[4:]], "split-header"
            cuts = sorted(R.sample(range(1, len(m)), R.choice((1, 2))))
            parts = [m[a:b] for a, b in zip([0] + cuts, cuts + [len(m)])]
            return parts, "split"
        # a message straddling two writes: msg1 + start of msg2, then the rest of msg2
        m1 = self.message(R.randrange(8, 400))
        m2 = self.message(R.randrange(20, 600))
        c = R.randrange(1, len(m2))
        return [m1 + m2[:c], m2[c:]], "straddle"

    def response_writes(self):
        R = self.R
        x = R.random()
        if x < 0.75:
            return [self.message(self.resp_size())]
        if x < 0.88:
            return [b"".join(self.message(R.randrange(8, 500)) for _ in range(R.randrange(2, 4)))]
        m = self.message(self.resp_size())
        return [m[:4], m[4:]]

    def rounds(self):
        x = self.R.random()
        if x < 0.4:
            return 1
        if x < 0.7:
            return self.R.randrange(2, 6)
        if x < 0.9:
            return self.R.randrange(6, 21)
        return self.R.randrange(21, 61)

    def client_think(self):
        x = self.R.random()
        if x < 0.5:
            return self.R.randrange(100, 5000)
        if x < 0.8:
            return self.R.randrange(5000, 200000)
        return self.R.randrange(200000, 5000000)

    def server_think(self):
        x = self.R.random()
        if x < 0.7:
            return self.R.randrange(30, 2000)
        if x < 0.9:
            return self.R.randrange(2000, 30000)
        return self.R.randrange(30000, 400000)

    def tcp(self, t0, cl, srv, dport):
        R = self.R
        st = self.st
        rtt0 = srv.rtt
        bw = srv.bw

        def rtt():
            return rtt0 + R.randrange(0, rtt0 // 20 + 1)

        sport = self.next_port(cl)
        c = Half(srv.l2 + cl.mac + ETH_IP, cl.ip, srv.ip, 6, sport, dport, 64, R.getrandbits(16),
                 tsoff=R.getrandbits(32))
        s = Half(cl.mac + srv.l2 + ETH_IP, srv.ip, cl.ip, 6, dport, sport, srv.ttl,
                 0 if R.random() < 0.2 else R.getrandbits(16), tsoff=R.getrandbits(32))
        mss_s = 1460 if srv.lan else R.choice((1460, 1460, 1460, 1440, 1400, 1380))
        eff = min(1460, mss_s) - 12
        ws_s = R.choice((7, 7, 8, 9, 10))
        isn_c = R.getrandbits(32)
        isn_s = R.getrandbits(32)
        M = 0xFFFFFFFF
        ev = []
        n = 0

        def E(t, fn, *args):
            nonlocal n
            ev.append((t, n, fn, (t,) + args))
            n += 1

        def flush():
            ev.sort()
            for e in ev:
                yield (e[0], e[2], e[3])
            last = ev[-1][0] if ev else 0
            ev.clear()
            return last

        # ---- handshake
        t = t0
        x = R.random()
        if x < 0.005:                 # no answer: SYN retransmitted 1 s, 3 s, 7 s later
            for k in range(4):
                E(t0 + (2 ** k - 1) * 1000000 + R.randrange(0, 3000), tcp_syn, c, s, SYN, isn_c, 0,
                  64240, 1460, 7)
            st("tcp syn unanswered")
            yield from flush()
            return
        if x < 0.015:                 # refused
            E(t, tcp_syn, c, s, SYN, isn_c, 0, 64240, 1460, 7)
            E(t + rtt(), tcp_plain, s, c, RST | ACK, 0, (isn_c + 1) & M, 0)
            st("tcp refused")
            yield from flush()
            return
        E(t, tcp_syn, c, s, SYN, isn_c, 0, 64240, 1460, 7)
        if x < 0.02:                  # first SYN (or its SYN-ACK) lost
            t += 1000000 + R.randrange(0, 3000)
            E(t, tcp_syn, c, s, SYN, isn_c, 0, 64240, 1460, 7)
            st("tcp syn retransmission")
        t += rtt()
        E(t, tcp_syn, s, c, SYN | ACK, isn_s, (isn_c + 1) & M, 65160, mss_s, ws_s)
        t += R.randrange(15, 90)
        cseq = (isn_c + 1) & M
        sseq = (isn_s + 1) & M
        cwin, swin = 502, 509
        E(t, tcp_ts, c, s, ACK, cseq, sseq, cwin, b"")
        st("tcp connection")
        now = t
        cwnd = 10
        pending = None                 # time of the client's delayed ACK, if one is owed
        last_data = t

        nrounds = self.rounds()
        abort_mid = R.random() < 0.01
        for rnd in range(nrounds):
            tq = now + (R.randrange(20, 400) if rnd == 0 else self.client_think())
            if pending is not None and pending < tq:
                E(pending, tcp_ts, c, s, ACK, cseq, sseq, cwin, b"")
            pending = None
            if tq - last_data > 1000000:
                cwnd = 10                  # slow start after idle
            # -- request
            writes, pattern = self.request_writes()
            st("req " + pattern)
            segs = []
            tt = tq
            for w in writes:
                for off in range(0, len(w), eff):
                    chunk = w[off:off + eff]
                    segs.append((tt, chunk, off + eff >= len(w)))
                    tt += R.randrange(3, 30) + len(chunk) // 50
                tt += R.randrange(5, 120)
            seq = cseq
            ends = []
            for (ts, chunk, psh) in segs:
                E(ts, tcp_ts, c, s, ACK | PSH if psh else ACK, seq, sseq, cwin, chunk)
                ends.append((ts, seq, chunk, psh))
                seq = (seq + len(chunk)) & M
            cend = seq
            t_done = segs[-1][0]
            # server ACKs every second segment as it arrives
            for i in range(1, len(ends), 2):
                ts, sq, chunk, _ = ends[i]
                if i == len(ends) - 1:
                    break            # the last one is acked below (or by the response)
                E(min(ts + rtt(), t_done + rtt0), tcp_ts, s, c, ACK, sseq, (sq + len(chunk)) & M, swin,
                  b"")
            if R.random() < 0.005:   # tail segment lost after the capture point: retransmitted
                ts, sq, chunk, psh = ends[-1]
                t_done = ts + max(10000, 2 * rtt0) + R.randrange(0, 2000)
                E(t_done, tcp_ts, c, s, ACK | PSH if psh else ACK, sq, sseq, cwin, chunk)
                st("tcp retransmission (request tail)")
            cseq = cend
            t_srv = t_done + rtt()
            think = self.server_think()
            if think > 40000:
                E(t_srv + 40000 + R.randrange(0, 300), tcp_ts, s, c, ACK, sseq, cseq, swin, b"")
            t = t_srv + think
            swin = min(swin + 3, 8000)
            # -- response
            rsegs = []
            for w in self.response_writes():
                for off in range(0, len(w), eff):
                    rsegs.append((w[off:off + eff], off + eff >= len(w)))
            nseg = len(rsegs)
            lost = -1
            if nseg >= 2 and R.random() < 0.02 or R.random() < 0.002:
                lost = R.randrange(0, nseg)
            seq = sseq
            seqs = []
            for chunk, _ in rsegs:
                seqs.append(seq)
                seq = (seq + len(chunk)) & M
            send = seq
            i = 0
            unacked = 0
            acked_to = sseq
            t_last_arr = t
            while i < nseg:
                burst = range(i, min(nseg, i + cwnd))
                first_ack = None
                hole_dups = []
                for j in burst:
                    chunk, psh = rsegs[j]
                    if j > i:
                        t += int((len(chunk) + 66) / bw) + R.randrange(0, 20)
                    if j == lost:
                        continue
                    E(t, tcp_ts, s, c, ACK | PSH if psh else ACK, seqs[j], cseq, swin, chunk)
                    ta = t + R.randrange(8, 60)
                    t_last_arr = ta
                    end_j = (seqs[j] + len(chunk)) & M
                    if 0 <= lost < j:          # out of order at the client: dup ACK + SACK
                        E(ta, tcp_sack, c, s, cseq, seqs[lost], cwin, seqs[lost + 1], end_j)
                        hole_dups.append(ta)
                        st("tcp dup ack")
                    else:
                        unacked += 1
                        if unacked >= 2:
                            E(ta, tcp_ts, c, s, ACK, cseq, end_j, cwin, b"")
                            acked_to = end_j
                            unacked = 0
                            if first_ack is None:
                                first_ack = ta
                if lost in burst:
                    chunk, psh = rsegs[lost]
                    if len(hole_dups) >= 3:
                        trx = hole_dups[2] + rtt()
                        st("tcp fast retransmission")
                    else:
                        trx = t + max(200000, 2 * rtt0) + R.randrange(0, 5000)
                        st("tcp rto retransmission")
                    trx = max(trx, t + 1)
                    E(trx, tcp_ts, s, c, ACK | PSH if psh else ACK, seqs[lost], cseq, swin, chunk)
                    last_in_burst = burst[-1]
                    hi = (seqs[last_in_burst] + len(rsegs[last_in_burst][0])) & M
                    ta = trx + R.randrange(8, 60)
                    E(ta, tcp_ts, c, s, ACK, cseq, hi, cwin, b"")
                    acked_to = hi
                    unacked = 0
                    t_last_arr = ta
                    first_ack = ta
                    cwnd = max(2, cwnd // 2)
                    lost = -1
                else:
                    cwnd = min(cwnd * 2, 200)
                i = burst[-1] + 1
                if i < nseg:
                    t = max(t + 20, (first_ack or t) + rtt())
                    if abort_mid and i >= 4:
                        # the client gives up: RST now; segments already in flight get bare RSTs
                        tr = t_last_arr + R.randrange(100, 3000)
                        rcvd = (seqs[i - 1] + len(rsegs[i - 1][0])) & M
                        E(tr, tcp_ts, c, s, RST | ACK, cseq, rcvd, cwin, b"")
                        st("tcp rst (client, mid-response)")
                        j = i
                        while j < nseg and t < tr + rtt0:
                            chunk, psh = rsegs[j]
                            E(t, tcp_ts, s, c, ACK | PSH if psh else ACK, seqs[j], cseq, swin, chunk)
                            E(t + R.randrange(5, 40), tcp_plain, c, s, RST, cseq, 0, 0)
                            st("tcp rst (to in-flight segment)")
                            t += int((len(chunk) + 66) / bw) + R.randrange(0, 20)
                            j += 1
                        yield from flush()
                        return
            sseq = send
            cwin = min(cwin + nseg * 4, 12000)
            if unacked:
                pending = t_last_arr + 40000 + R.randrange(0, 2000)
            now = yield from flush()
            last_data = now

        # ---- teardown
        x = R.random()
        if x < 0.60:                    # client closes, server closes at once
            tf = now + self.client_think()
            if pending is not None and pending < tf:
                E(pending, tcp_ts, c, s, ACK, cseq, sseq, cwin, b"")
            E(tf, tcp_ts, c, s, FIN | ACK, cseq, sseq, cwin, b"")
            cseq = (cseq + 1) & M
            t = tf + rtt()
            if R.random() < 0.3:        # server ACKs the FIN first, closes a little later
                E(t, tcp_ts, s, c, ACK, sseq, cseq, swin, b"")
                t += R.randrange(50, 5000)
            E(t, tcp_ts, s, c, FIN | ACK, sseq, cseq, swin, b"")
            sseq = (sseq + 1) & M
            E(t + R.randrange(10, 80), tcp_ts, c, s, ACK, cseq, sseq, cwin, b"")
            st("tcp close (client fin)")
        elif x < 0.88:                  # server closes (idle timeout); the client follows
            ts = now + R.randrange(1000, 3000000)
            if pending is not None and pending < ts:
                E(pending, tcp_ts, c, s, ACK, cseq, sseq, cwin, b"")
            E(ts, tcp_ts, s, c, FIN | ACK, sseq, cseq, swin, b"")
            sseq = (sseq + 1) & M
            ta = ts + R.randrange(10, 80)
            if R.random() < 0.5:        # ACK of the FIN first, the application closes later
                E(ta, tcp_ts, c, s, ACK, cseq, sseq, cwin, b"")
                ta += R.randrange(50, 20000)
            E(ta, tcp_ts, c, s, FIN | ACK, cseq, sseq, cwin, b"")
            cseq = (cseq + 1) & M
            E(ta + rtt(), tcp_ts, s, c, ACK, sseq, cseq, swin, b"")
            st("tcp close (server fin)")
        else:
            tf = now + self.client_think()
            if pending is not None and pending < tf:
                E(pending, tcp_ts, c, s, ACK, cseq, sseq, cwin, b"")
            if x < 0.96:                # client aborts (SO_LINGER 0)
                E(tf, tcp_ts, c, s, RST | ACK, cseq, sseq, cwin, b"")
                st("tcp rst (client abort)")
            else:                       # server aborts
                E(tf, tcp_ts, s, c, RST | ACK, sseq, cseq, swin, b"")
                st("tcp rst (server abort)")
        yield from flush()

    # ---- scheduler ----------------------------------------------------------------------

    def run(self, w, npackets, concurrency=300):
        R = self.R
        heap = []
        k = 0
        for i in range(concurrency):
            g = self.session(R.randrange(0, 1000000))
            e = next(g, None)
            if e is not None:
                heap.append((e[0], k, g, e[1], e[2]))
                k += 1
        heapq.heapify(heap)
        add = w.add
        replace = heapq.heapreplace
        written = 0
        while written < npackets:
            t, _, g, fn, args = heap[0]
            add(t, fn(*args))
            written += 1
            e = next(g, None)
            if e is None:
                g = self.session(t + int(R.expovariate(1 / 3000)))
                e = next(g, None)
                while e is None:
                    g = self.session(t + int(R.expovariate(1 / 3000)))
                    e = next(g, None)
            k += 1
            replace(heap, (e[0], k, g, e[1], e[2]))


# ---------------------------------------------------------------------------------------------
# flow-table worst cases
# ---------------------------------------------------------------------------------------------

DOC_NETS = [ip4("192.0.2.0"), ip4("198.51.100.0"), ip4("203.0.113.0")]


def synflood(R, w, npackets, st):
    gw_mac = bytes.fromhex("020000000001")
    srv_mac = bytes.fromhex("020000000010")
    listener = ip4("192.0.2.10")
    to_srv = srv_mac + gw_mac + ETH_IP
    from_srv = gw_mac + srv_mac + ETH_IP
    recent = []
    t = 0
    srv_ipid = R.getrandbits(16)
    srv_tsoff = R.getrandbits(32)
    for _ in range(npackets):
        t += R.randrange(1, 20)
        if recent and R.random() < 0.2:
            src, sport, isn, kind, tsval = recent.pop(R.randrange(len(recent)))
            h = Half(from_srv, listener, src, 6, 80, sport, 64, srv_ipid)
            srv_ipid = (srv_ipid + 1) & 0xFFFF
            cookie = R.getrandbits(32)
            if kind == 2:
                h.tsoff = srv_tsoff
                peer = Half(b"", src, listener, 6, 0, 0, 64, 0)
                peer.tslast = tsval
                w.add(t, tcp_syn(t, h, peer, SYN | ACK, cookie, (isn + 1) & 0xFFFFFFFF, 65160, 1460, 7))
            else:
                opts = b"\x02\x04\x05\xb4" if kind == 1 else b""
                w.add(t, tcp_frame(h, SYN | ACK, cookie, (isn + 1) & 0xFFFFFFFF, 64240, opts, b""))
            st("tcp syn-ack")
            continue
        if R.random() < 0.95:
            src = 0x0A000000 | R.getrandbits(24)
        else:
            src = R.choice(DOC_NETS) | R.randrange(1, 255)
        sport = R.randrange(1024, 65536)
        isn = R.getrandbits(32)
        h = Half(to_srv, src, listener, 6, sport, 80, R.randrange(30, 129), R.getrandbits(16),
                 df=R.random() < 0.5, tsoff=R.getrandbits(32))
        x = R.random()
        win = R.choice((512, 1024, 5840, 14600, 29200, 64240, 65535))
        tsval = 0
        if x < 0.6:
            kind = 0
            w.add(t, tcp_frame(h, SYN, isn, 0, win, b"", b""))
        elif x < 0.9:
            kind = 1
            w.add(t, tcp_frame(h, SYN, isn, 0, win, b"\x02\x04\x05\xb4", b""))
        else:
            kind = 2
            peer = Half(b"", 0, 0, 6, 0, 0, 64, 0)
            w.add(t, tcp_syn(t, h, peer, SYN, isn, 0, win, 1460, 7))
            tsval = h.tslast
        st("tcp syn")
        if len(recent) < 64:
            recent.append((src, sport, isn, kind, tsval))


def oneflow(R, w, npackets, st):
    gw_mac = bytes.fromhex("020000000001")
    srv_macs = [bytes([2, 0, 0, 0, 1, i]) for i in range(16)]
    mult = 0x9E3779B1 & 0xFFFFFF | 1
    off = R.getrandbits(24)
    t = 0
    body = R.getrandbits(8 * 4096).to_bytes(4096, "big")
    pattern = bytes(range(0x10, 0x38))
    for i in range(npackets):
        t += R.randrange(1, 10)
        src = 0x0A000000 | ((i * mult + off) & 0xFFFFFF)       # a bijection: unique per packet
        dst = R.choice(DOC_NETS) | R.randrange(1, 255)
        eth = R.choice(srv_macs) + gw_mac + ETH_IP
        x = R.random()
        if x < 0.55:
            sport = R.randrange(1024, 65536)
            dport = R.randrange(1024, 65536)
            h = Half(eth, src, dst, 6, sport, dport, R.randrange(40, 65), R.getrandbits(16),
                     tsoff=R.getrandbits(32))
            peer = Half(b"", dst, src, 6, 0, 0, 64, 0)
            peer.tslast = R.getrandbits(32)
            y = R.random()
            seq, ack = R.getrandbits(32), R.getrandbits(32)
            if y < 0.3:
                w.add(t, tcp_syn(t, h, peer, SYN, seq, 0, 64240, 1460, 7))
                st("tcp syn")
            elif y < 0.8:
                n = R.randrange(0, 1449)
                o = R.randrange(0, 4096 - n)
                w.add(t, tcp_ts(t, h, peer, ACK | PSH if n else ACK, seq, ack, R.randrange(200, 3000),
                                body[o:o + n]))
                st("tcp data/ack")
            elif y < 0.9:
                w.add(t, tcp_ts(t, h, peer, FIN | ACK, seq, ack, 501, b""))
                st("tcp fin")
            else:
                w.add(t, tcp_frame(h, RST | ACK if R.random() < 0.5 else RST, seq, ack, 0, b"", b""))
                st("tcp rst")
        elif x < 0.95:
            sport = R.randrange(20000, 65000)
            dport = R.randrange(20000, 65000)
            h = Half(eth, src, dst, 17, sport, dport, R.randrange(40, 65), 0)
            n = R.randrange(8, 1200)
            o = R.randrange(0, 4096 - n)
            p = body[o:o + n]
            w.add(t, udp_frame(h, R.getrandbits(16), p, paysum(p)))
            st("udp")
        else:
            h = Half(eth, src, dst, 1, 0, 0, R.randrange(40, 65), 0)
            tv = struct.pack("<QQ", BASE_SEC + t // 1000000, t % 1000000) + pattern
            w.add(t, icmp_frame(h, R.getrandbits(16), 8, R.getrandbits(16), R.randrange(1, 100), tv))
            st("icmp echo")


def ipv4_header(total, ipid, flags_frag, ttl, proto, src, dst):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ipid, flags_frag, ttl, proto, 0, src, dst)
    cs = sum(struct.unpack("!10H", hdr))
    while cs >> 16:
        cs = (cs & 0xFFFF) + (cs >> 16)
    return hdr[:10] + struct.pack("!H", ~cs & 0xFFFF) + hdr[12:]


def fragflood(R, w, npackets, st):
    """IPv4 fragments, most of which never complete: first fragments (offset 0, more fragments) of
    3,000-byte UDP datagrams from random sources with random identifications; one datagram in ten is
    completed by its second fragment right after (so reassembly happens too). Memory of a
    reassembler must stay flat on it."""
    gw_mac = bytes.fromhex("020000000001")
    srv_mac = bytes.fromhex("020000000010")
    eth = srv_mac + gw_mac + ETH_IP
    dst = ip4("192.0.2.10").to_bytes(4, "big")
    body = R.getrandbits(8 * 1472).to_bytes(1472, "big")
    tail = R.getrandbits(8 * 1520).to_bytes(1520, "big")
    t = 0
    n = 0
    while n < npackets:
        t += R.randrange(1, 20)
        src = (0x0A000000 | R.getrandbits(24)).to_bytes(4, "big")
        ipid = R.getrandbits(16)
        udp = struct.pack("!HHHH", R.randrange(1024, 65536), 9999, 3000, 0)
        first = eth + ipv4_header(20 + 1480, ipid, 0x2000, 64, 17, src, dst) + udp + body
        w.add(t, first)
        n += 1
        st("ipv4 first fragment")
        if n < npackets and R.random() < 0.1:
            t += 1
            w.add(t, eth + ipv4_header(20 + 1520, ipid, 1480 // 8, 64, 17, src, dst) + tail)
            n += 1
            st("ipv4 last fragment (completes)")


def dns_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def shortconn(R, w, npackets, st):
    """Many short TCP connections with small length-prefixed messages (issue: traffic we did not
    make). About 28 connections per 1,000 packets, each: handshake, 1-20 request/response messages
    (4-byte big-endian length + 5-200 bytes) with some segments carrying two or three messages
    (sticky) and some messages split over two segments, delayed ACKs (the receiver ACKs every other
    segment, else piggybacks), a few retransmissions, FIN teardown or (one in ten) an RST abort;
    DNS lookups, ARP and ICMP echo mixed in. Connections overlap in time."""
    gw_mac = bytes.fromhex("020000000001")
    srv_mac = bytes.fromhex("020000000050")
    srv = ip4("192.0.2.80")
    dns_srv = ip4("192.0.2.53")
    heap = []
    order = 0
    n = 0
    T = 0

    def push(t, frame, kind):
        nonlocal order
        heapq.heappush(heap, (t, order, frame, kind))
        order += 1

    def message():
        body = R.getrandbits(8 * 200).to_bytes(200, "big")[:R.randrange(5, 201)]
        return struct.pack("!I", len(body)) + body

    def session(t0):
        client = 0x0A010000 | R.randrange(1, 250)   # a LAN of clients: few addresses, many connections
        cport = R.randrange(32768, 61000)
        cmac = bytes([2, 0, 0, 1, R.getrandbits(8), R.getrandbits(8)])
        if R.random() < 0.3:   # a DNS lookup first
            qid = R.getrandbits(16)
            q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name("svc%d.example.com" % R.randrange(50)) + b"\0\1\0\1"
            a = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q[12:] + b"\xc0\x0c\0\1\0\1\0\0\x01\x2c\0\4" + srv.to_bytes(4, "big")
            hq = Half(gw_mac + cmac + ETH_IP, client, dns_srv, 17, cport + 1, 53, 64, 0)
            ha = Half(cmac + gw_mac + ETH_IP, dns_srv, client, 17, 53, cport + 1, 64, 0)
            push(t0, udp_frame(hq, R.getrandbits(16), q, paysum(q)), "dns query")
            t0 += R.randrange(200, 2000)
            push(t0, udp_frame(ha, R.getrandbits(16), a, paysum(a)), "dns response")
        if R.random() < 0.05:
            push(t0, arp_frame(b"\xff" * 6, cmac, 1, cmac, client, b"\0" * 6, srv), "arp request")
            push(t0 + 30, arp_frame(cmac, srv_mac, 2, srv_mac, srv, cmac, client), "arp reply")
        c = Half(srv_mac + cmac + ETH_IP, client, srv, 6, cport, 9000, 64, R.getrandbits(16))
        v = Half(cmac + srv_mac + ETH_IP, srv, client, 6, 9000, cport, 64, R.getrandbits(16))
        if R.random() < 0.03:
            hi = Half(srv_mac + cmac + ETH_IP, client, srv, 1, 0, 0, 64, 0)
            ho = Half(cmac + srv_mac + ETH_IP, srv, client, 1, 0, 0, 64, 0)
            ident = R.getrandbits(16)
            push(t0, icmp_frame(hi, R.getrandbits(16), 8, ident, 1, b"ping" * 8), "icmp echo")
            push(t0 + 90, icmp_frame(ho, R.getrandbits(16), 0, ident, 1, b"ping" * 8), "icmp echo reply")
        rtt = R.randrange(40, 400)
        cs, ss = R.getrandbits(32), R.getrandbits(32)
        t = t0 + 10
        push(t, tcp_frame(c, SYN, cs, 0, 64240, b"\x02\x04\x05\xb4", b""), "tcp syn")
        t += rtt
        push(t, tcp_frame(v, SYN | ACK, ss, cs + 1, 65160, b"\x02\x04\x05\xb4", b""), "tcp syn-ack")
        t += rtt
        cs = (cs + 1) & 0xFFFFFFFF
        ss = (ss + 1) & 0xFFFFFFFF
        push(t, tcp_frame(c, ACK, cs, ss, 502, b"", b""), "tcp ack")
        unacked = {0: 0, 1: 0}

        def send(side, data, t):
            nonlocal cs, ss
            if side == 0:
                push(t, tcp_frame(c, PSH | ACK, cs, ss, 502, b"", data), "tcp data")
                if R.random() < 0.02:   # a retransmission
                    push(t + 200000, tcp_frame(c, PSH | ACK, cs, ss, 502, b"", data), "tcp retransmission")
                cs = (cs + len(data)) & 0xFFFFFFFF
            else:
                push(t, tcp_frame(v, PSH | ACK, ss, cs, 509, b"", data), "tcp data")
                if R.random() < 0.02:
                    push(t + 200000, tcp_frame(v, PSH | ACK, ss, cs, 509, b"", data), "tcp retransmission")
                ss = (ss + len(data)) & 0xFFFFFFFF
            unacked[side] += 1
            if unacked[side] >= 2:   # delayed ACK: every other segment
                unacked[side] = 0
                if side == 0:
                    push(t + 40, tcp_frame(v, ACK, ss, cs, 509, b"", b""), "tcp ack")
                else:
                    push(t + 40, tcp_frame(c, ACK, cs, ss, 502, b"", b""), "tcp ack")

        for _ in range(R.randrange(1, 21)):
            for side in (0, 1):
                t += R.randrange(30, 600)
                x = R.random()
                if x < 0.12:      # two or three messages glued into one segment
                    send(side, b"".join(message() for _ in range(R.randrange(2, 4))), t)
                elif x < 0.22:    # one message split over two segments
                    m = message()
                    cut = R.randrange(1, len(m))
                    send(side, m[:cut], t)
                    t += R.randrange(20, 200)
                    send(side, m[cut:], t)
                else:
                    send(side, message(), t)
        t += R.randrange(100, 2000)
        if R.random() < 0.1:
            push(t, tcp_frame(c, RST | ACK, cs, ss, 0, b"", b""), "tcp rst")
            return
        push(t, tcp_frame(c, FIN | ACK, cs, ss, 502, b"", b""), "tcp fin")
        t += rtt
        push(t, tcp_frame(v, FIN | ACK, ss, cs + 1, 509, b"", b""), "tcp fin")
        t += rtt
        push(t, tcp_frame(c, ACK, cs + 1, ss + 1, 502, b"", b""), "tcp ack")

    while n < npackets:
        T += R.randrange(200, 1400)
        session(T)
        while heap and heap[0][0] <= T and n < npackets:
            t, _, frame, kind = heapq.heappop(heap)
            w.add(t, frame)
            st(kind)
            n += 1
    while heap and n < npackets:
        t, _, frame, kind = heapq.heappop(heap)
        w.add(t, frame)
        st(kind)
        n += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("mixed", "shortconn", "synflood", "oneflow", "fragflood"), default="mixed")
    ap.add_argument("--packets", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", required=True, help="output pcap file ('-' for stdout)")
    ap.add_argument("--stats", action="store_true", help="print the packet mix to stderr")
    a = ap.parse_args()
    if a.packets < 0:
        ap.error("--packets must be >= 0")
    R = random.Random(a.seed)
    st = Stats()
    w = PcapWriter(a.output)
    t0 = time.monotonic()
    if a.mode == "mixed":
        Mixed(R, st).run(w, a.packets)
    elif a.mode == "synflood":
        synflood(R, w, a.packets, st)
    elif a.mode == "shortconn":
        shortconn(R, w, a.packets, st)
    elif a.mode == "fragflood":
        fragflood(R, w, a.packets, st)
    else:
        oneflow(R, w, a.packets, st)
    w.close()
    dt = time.monotonic() - t0
    span = w.last_t / 1e6
    print("gen-capture: %s seed=%d: %d packets, %.1f MB, %.1f s of traffic, written in %.1f s"
          % (a.mode, a.seed, w.count, w.bytes / 1e6, span, dt), file=sys.stderr)
    if a.stats:
        st("timestamps clamped to the previous one", w.clamped)
        for k in sorted(st.c):
            print("  %-36s %d" % (k, st.c[k]), file=sys.stderr)


if __name__ == "__main__":
    main()
