#!/usr/bin/env python3
"""Build a held-out capture corpus for comparing netinspect with tshark.

    make_corpus.py [OUTDIR] [--seed N] [--count N] [--no-live] [--no-mutate]

OUTDIR (default /tmp/netinspect-corpus, deliberately outside the git tree) gets

  live/      real captures taken now on the loopback interface with tcpdump
             (lo as Ethernet, `-i any` as Linux cooked v2 and v1, nanosecond
             timestamps, snaplen 68 and 96) while this script runs a TCP echo
             exchange (small messages, multi-segment bulk transfers with a
             small and with the default MSS, half-close, abortive close),
             UDP echo datagrams, DNS over UDP to a tiny responder on
             127.0.0.1:53 / [::1]:53 (only if nothing else owns port 53) and on
             127.0.0.1:5353, pings of 127.0.0.1 and ::1, and datagrams/SYNs to
             closed ports (ICMP port unreachable, RST).  All traffic stays on
             loopback; the capture filter only admits this script's ports and
             ICMP, so nothing else on the machine ends up in the corpus.
  crafted/   scapy-built packets: random but valid DNS messages (many RR types,
             with and without name compression, EDNS), TCP with random option
             lists and flag combinations, ARP, ICMP/ICMPv6 incl. errors that
             quote an inner IP/UDP/TCP header, 802.1Q / QinQ / 802.1ad VLAN
             stacks, IPv4 options and fragments, IPv6 extension headers,
             802.3/LLC frames, Ethernet padding, raw-IP and BSD-loopback (NULL)
             link types, plus pcapng and nanosecond-pcap copies.
  mutated/   seeded mutations of the crafted files and of two live files: bit
             flips, byte/word overwrites (biased towards headers), DNS-specific
             damage (counts, compression pointers incl. loops, label lengths),
             truncation (caplen lowered, record header rewritten consistently,
             original length kept) and appended junk.  Only packet bytes and the
             record's caplen/len are changed; pcap headers stay valid.
  MANIFEST.tsv   file, packets, description

--count is the number of mutated packets to produce (default 8000; the whole
corpus is then roughly 22k packets).  --seed makes crafted/ and the mutation
choices reproducible (live/ is, by nature, different on every run, and so are
the mutated copies of live files).
"""

import argparse
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ inside the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnswire  # noqa: E402

DEFAULT_OUT = "/tmp/netinspect-corpus"

# ---------------------------------------------------------------------------
# pcap reading / writing (classic libpcap format only)
# ---------------------------------------------------------------------------

MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", False), b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True), b"\xa1\xb2\x3c\x4d": (">", True),
}


def read_pcap(path):
    """-> (global_header_bytes, endian, linktype, [(ts_sec, ts_frac, orig_len, data)])"""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:4] not in MAGICS:
        raise ValueError(f"{path}: not a classic pcap file")
    e, _nano = MAGICS[blob[:4]]
    gh = blob[:24]
    linktype = struct.unpack(e + "I", gh[20:24])[0] & 0x0FFFFFFF
    recs = []
    pos = 24
    while pos + 16 <= len(blob):
        s, fr, incl, orig = struct.unpack(e + "IIII", blob[pos:pos + 16])
        pos += 16
        recs.append((s, fr, orig, blob[pos:pos + incl]))
        pos += incl
    return gh, e, linktype, recs


def write_pcap(path, gh, e, recs):
    with open(path, "wb") as f:
        f.write(gh)
        for s, fr, orig, data in recs:
            f.write(struct.pack(e + "IIII", s, fr, len(data), max(orig, len(data))))
            f.write(data)


def count_packets(path):
    try:
        return len(read_pcap(path)[3])
    except ValueError:
        out = subprocess.run(["capinfos", "-c", "-M", path], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "Number of packets" in line:
                return int(line.split(":")[1].strip().replace(",", ""))
        return -1


# ---------------------------------------------------------------------------
# (a) live captures on loopback
# ---------------------------------------------------------------------------

def _free_port(kind, fam=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(fam, kind)
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Servers:
    def __init__(self, rng):
        self.rng = rng
        self.stop = threading.Event()
        self.threads = []
        self.socks = []
        self.ports = set()
        self.notes = []

    def _thread(self, fn, *a):
        t = threading.Thread(target=fn, args=a, daemon=True)
        t.start()
        self.threads.append(t)

    def tcp_echo(self, fam, addr, maxseg=None):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if maxseg:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
        s.bind((addr, 0))
        s.listen(64)
        s.settimeout(0.2)
        self.socks.append(s)
        port = s.getsockname()[1]
        self.ports.add(port)

        def conn(c):
            c.settimeout(10)
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    c.sendall(b)
            except OSError:
                pass
            finally:
                c.close()

        def loop():
            while not self.stop.is_set():
                try:
                    c, _ = s.accept()
                except socket.timeout:
                    continue
                except OSError:
                    break
                self._thread(conn, c)
        self._thread(loop)
        return port

    def udp(self, fam, addr, port, handler):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            s.bind((addr, port))
        except OSError as exc:
            self.notes.append(f"could not bind UDP {addr}:{port}: {exc}")
            s.close()
            return None
        s.settimeout(0.2)
        self.socks.append(s)
        port = s.getsockname()[1]
        self.ports.add(port)

        def loop():
            while not self.stop.is_set():
                try:
                    b, peer = s.recvfrom(65535)
                except socket.timeout:
                    continue
                except OSError:
                    break
                r = handler(b)
                if r is not None:
                    try:
                        s.sendto(r, peer)
                    except OSError:
                        pass
        self._thread(loop)
        return port

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=2)
        for s in self.socks:
            s.close()


def port53_in_use():
    """True if something else already listens on UDP or TCP port 53."""
    out = subprocess.run(["ss", "-Hlntu"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 5 and cols[4].rsplit(":", 1)[-1] == "53":
            return True
    return False


def tcp_exchange(fam, addr, port, payload, maxseg=None, mode="normal"):
    c = socket.socket(fam, socket.SOCK_STREAM)
    if maxseg:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
    c.settimeout(10)
    c.connect((addr, port))
    if mode == "rst":
        c.sendall(payload[:100])
        time.sleep(0.05)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        return
    got = bytearray()

    def sender():
        # several writes so that the segments vary in size
        view = memoryview(payload)
        i = 0
        while i < len(view):
            n = min(len(view) - i, random.choice([1, 100, 1000, 4000, 65536, 200000]))
            c.sendall(view[i:i + n])
            i += n
        c.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=sender)
    t.start()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    t.join()
    c.close()
    if bytes(got) != payload:
        print(f"  warning: echo mismatch ({len(got)} of {len(payload)} bytes)", file=sys.stderr)


def capture_live(outdir, rng, notes):
    os.makedirs(outdir, exist_ok=True)
    srv = Servers(rng)
    tcp4 = srv.tcp_echo(socket.AF_INET, "127.0.0.1")
    tcp4_small = srv.tcp_echo(socket.AF_INET, "127.0.0.1", maxseg=1200)
    tcp6 = srv.tcp_echo(socket.AF_INET6, "::1")
    tcp6_small = srv.tcp_echo(socket.AF_INET6, "::1", maxseg=1000)
    udp4 = srv.udp(socket.AF_INET, "127.0.0.1", 0, lambda b: b)
    udp6 = srv.udp(socket.AF_INET6, "::1", 0, lambda b: b)

    dns_rng = random.Random(rng.getrandbits(32))

    def dns_handler(b):
        if dns_rng.random() < 0.25 and len(b) >= 2:
            m = bytearray(dnswire.random_message(dns_rng, is_response=True))
            m[0:2] = b[0:2]
            return bytes(m)
        return dnswire.answer_query(dns_rng, b)

    dns_targets = []
    if port53_in_use():
        notes.append("port 53 already in use: no responder on 53, no queries to 53")
    else:
        p = srv.udp(socket.AF_INET, "127.0.0.1", 53, dns_handler)
        if p:
            dns_targets.append((socket.AF_INET, "127.0.0.1", 53, 120))
        p = srv.udp(socket.AF_INET6, "::1", 53, dns_handler)
        if p:
            dns_targets.append((socket.AF_INET6, "::1", 53, 40))
    p = srv.udp(socket.AF_INET, "127.0.0.1", 5353, dns_handler)
    if p is None:
        p = srv.udp(socket.AF_INET, "127.0.0.1", 0, dns_handler)
    dns_targets.append((socket.AF_INET, "127.0.0.1", p, 30))
    closed_udp = _free_port(socket.SOCK_DGRAM)
    closed_udp6 = _free_port(socket.SOCK_DGRAM, socket.AF_INET6, "::1")
    closed_tcp = _free_port(socket.SOCK_STREAM)
    ports = sorted(srv.ports | {closed_udp, closed_udp6, closed_tcp})
    notes.extend(srv.notes)

    bpf = "(host 127.0.0.1 or host ::1) and (icmp or icmp6 or " + " or ".join(f"port {p}" for p in ports) + ")"
    captures = [
        ("lo_eth.pcap", ["-i", "lo"], "lo (Ethernet), full snaplen, microseconds"),
        ("lo_eth_nano.pcap", ["-i", "lo", "--time-stamp-precision=nano"], "lo (Ethernet), nanosecond timestamps"),
        ("lo_snap68.pcap", ["-i", "lo", "-s", "68"], "lo (Ethernet), snaplen 68"),
        ("lo_snap96.pcap", ["-i", "lo", "-s", "96"], "lo (Ethernet), snaplen 96"),
        ("any_sll2.pcap", ["-i", "any", "-y", "LINUX_SLL2"], "-i any, Linux cooked v2"),
        ("any_sll.pcap", ["-i", "any", "-y", "LINUX_SLL"], "-i any, Linux cooked v1"),
        ("any_sll2_snap68.pcap", ["-i", "any", "-y", "LINUX_SLL2", "-s", "68"], "-i any (SLL2), snaplen 68"),
    ]
    procs = []
    try:
        for name, args, desc in captures:
            path = os.path.join(outdir, name)
            cmd = ["tcpdump", "-n", "-U", "-Z", "root", "-w", path] + args + [bpf]
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            procs.append((p, name, desc))
            # wait until this tcpdump says it is listening
            seen = []
            while True:
                line = p.stderr.readline()
                if not line:
                    raise RuntimeError(f"tcpdump for {name} failed: {''.join(seen).strip()}")
                seen.append(line)
                if "listening on" in line:
                    break
            threading.Thread(target=p.stderr.read, daemon=True).start()  # drain the final statistics
        time.sleep(0.5)
        _live_traffic(rng, tcp4, tcp4_small, tcp6, tcp6_small, udp4, udp6, dns_targets, closed_udp, closed_udp6, closed_tcp)
        time.sleep(1.0)
    finally:
        for p, name, _ in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p, name, _ in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        srv.close()
    return [(os.path.join(outdir, n), d) for _, n, d in procs]


def _live_traffic(rng, tcp4, tcp4_small, tcp6, tcp6_small, udp4, udp6, dns_targets, closed_udp, closed_udp6, closed_tcp):
    trng = random.Random(rng.getrandbits(32))
    random.seed(trng.getrandbits(32))  # tcp_exchange's write sizes
    print("  traffic: TCP echo", file=sys.stderr)
    for i in range(20):
        tcp_exchange(socket.AF_INET, "127.0.0.1", tcp4, trng.randbytes(trng.randint(1, 3000)))
    tcp_exchange(socket.AF_INET, "127.0.0.1", tcp4_small, trng.randbytes(150_000))
    tcp_exchange(socket.AF_INET, "127.0.0.1", tcp4_small, trng.randbytes(60_000), maxseg=800)
    tcp_exchange(socket.AF_INET, "127.0.0.1", tcp4, trng.randbytes(1_000_000))
    tcp_exchange(socket.AF_INET, "127.0.0.1", tcp4, b"x" * 500, mode="rst")
    for i in range(8):
        tcp_exchange(socket.AF_INET6, "::1", tcp6, trng.randbytes(trng.randint(1, 2000)))
    tcp_exchange(socket.AF_INET6, "::1", tcp6_small, trng.randbytes(80_000))
    tcp_exchange(socket.AF_INET6, "::1", tcp6, trng.randbytes(300_000))
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for _ in range(3):  # SYN to a closed port -> RST
            c = socket.socket(fam, socket.SOCK_STREAM)
            try:
                c.connect((addr, closed_tcp))
            except OSError:
                pass
            c.close()

    print("  traffic: UDP", file=sys.stderr)
    for fam, addr, port, n in ((socket.AF_INET, "127.0.0.1", udp4, 60), (socket.AF_INET6, "::1", udp6, 25)):
        c = socket.socket(fam, socket.SOCK_DGRAM)
        c.settimeout(1)
        for i in range(n):
            size = trng.choice([0, 1, 8, 100, 512, 1400, 1472, 4000, 9000, 30000, 65000]) if i % 3 == 0 else trng.randint(1, 1500)
            if fam == socket.AF_INET and size > 65507:
                size = 65507
            c.sendto(trng.randbytes(size), (addr, port))
            try:
                c.recvfrom(65535)
            except socket.timeout:
                pass
        c.close()
    for fam, addr, port in ((socket.AF_INET, "127.0.0.1", closed_udp), (socket.AF_INET6, "::1", closed_udp6)):
        c = socket.socket(fam, socket.SOCK_DGRAM)
        for i in range(6):  # -> ICMP / ICMPv6 port unreachable quoting our datagram
            payload = dnswire.simple_query(i, "closed.example") if i % 2 else trng.randbytes(trng.randint(0, 300))
            c.sendto(payload, (addr, port))
            time.sleep(0.05)
        c.close()

    print("  traffic: DNS", file=sys.stderr)
    for fam, addr, port, n in dns_targets:
        c = socket.socket(fam, socket.SOCK_DGRAM)
        c.settimeout(1)
        for i in range(n):
            if trng.random() < 0.7:
                qtype = trng.choice([1, 28, 15, 16, 5, 2, 6, 12, 33, 257, 255])
                q = dnswire.simple_query(trng.getrandbits(16), dnswire.rand_name(trng), qtype)
            else:
                q = dnswire.random_message(trng, is_response=False)
            c.sendto(q, (addr, port))
            try:
                c.recvfrom(65535)
            except socket.timeout:
                pass
        c.close()

    print("  traffic: ping", file=sys.stderr)
    for cmd in (["ping", "-n", "-c", "5", "-i", "0.2", "127.0.0.1"],
                ["ping", "-n", "-c", "2", "-s", "3000", "127.0.0.1"],
                ["ping", "-n", "-c", "1", "-s", "60000", "127.0.0.1"],
                ["ping", "-n", "-6", "-c", "5", "-i", "0.2", "::1"],
                ["ping", "-n", "-6", "-c", "2", "-s", "5000", "::1"]):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)



# ---------------------------------------------------------------------------
# (b) crafted packets
# ---------------------------------------------------------------------------

def craft_all(outdir, rng, notes):
    from scapy.all import (ARP, DNS, ICMP, IP, UDP, TCP, Dot1Q, Dot1AD, Dot3, Ether, IPOption, IPv6,  # noqa: F401
                           IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                           LLC, SNAP, Loopback, Padding, Raw, RouterAlert, fragment, fragment6, wrpcap, conf)
    from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6DestUnreach, ICMPv6PacketTooBig,
                                    ICMPv6TimeExceeded, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RS, ICMPv6ND_RA,
                                    ICMPv6NDOptSrcLLAddr)
    import logging
    conf.verb = 0
    # scapy warns "Inconsistent linktypes" when raw IP packets go into a LINKTYPE_RAW file; the header is right
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    os.makedirs(outdir, exist_ok=True)
    R = rng
    random.seed(R.getrandbits(64))  # scapy's own random defaults (e.g. IPv6 fragment ids) use the global RNG

    def mac():
        return "02:%02x:%02x:%02x:%02x:%02x" % tuple(R.getrandbits(8) for _ in range(5))

    def ip4():
        return rng.choice(["10.%d.%d.%d" % (R.randint(0, 255), R.randint(0, 255), R.randint(1, 254)),
                           "192.168.%d.%d" % (R.randint(0, 255), R.randint(1, 254)), "127.0.0.1",
                           "%d.%d.%d.%d" % tuple(R.randint(1, 223) for _ in range(4))])

    def ip6():
        r = R.random()
        if r < 0.2:
            return "::1"
        if r < 0.4:
            return "fe80::%x:%x" % (R.getrandbits(16), R.getrandbits(16))
        if r < 0.5:
            return "::ffff:%d.%d.%d.%d" % tuple(R.randint(1, 223) for _ in range(4))
        return "2001:db8:%x::%x" % (R.getrandbits(16), R.getrandbits(16))

    def eport():
        return R.randint(1024, 65535)

    def eth():
        return Ether(src=mac(), dst=mac() if R.random() < 0.9 else "ff:ff:ff:ff:ff:ff")

    def ipl(v6=None):
        if v6 is None:
            v6 = R.random() < 0.25
        if v6:
            return IPv6(src=ip6(), dst=ip6(), hlim=R.choice([1, 64, 255]), fl=R.getrandbits(20) if R.random() < 0.3 else 0)
        return IP(src=ip4(), dst=ip4(), ttl=R.choice([1, 64, 128, 255]), id=R.getrandbits(16),
                  flags=R.choice(["DF", 0, "DF"]), tos=R.choice([0, 0, 0x10, 0xb8]))

    files = []

    def save(name, pkts, desc, linktype=1, nano=False):
        t0 = 1700000000 + R.randint(0, 10**7)
        for i, p in enumerate(pkts):
            p.time = t0 + i * 0.000137 + (R.randint(0, 999) * 1e-9 if nano else 0)
        path = os.path.join(outdir, name)
        kw = {"linktype": linktype}
        if nano:
            kw["nano"] = True
        wrpcap(path, pkts, **kw)
        files.append((path, desc))

    # --- DNS ---------------------------------------------------------------
    pk = []
    for i in range(1200):
        msg = dnswire.random_message(R)
        is_resp = bool(msg[2] & 0x80)
        sport, dport = (53, eport()) if is_resp else (eport(), 53)
        if R.random() < 0.05:
            sport = dport = 53
        lower = eth()
        if R.random() < 0.08:
            lower = lower / Dot1Q(vlan=R.randint(1, 4094))
        pk.append(lower / ipl() / UDP(sport=sport, dport=dport) / Raw(msg))
    for i in range(60):  # DNS-looking payloads on other ports (mDNS, LLMNR, random): not DNS for netinspect
        msg = dnswire.random_message(R)
        port = R.choice([5353, 5355, 5300, 153, 5353])
        pk.append(eth() / ipl() / UDP(sport=port, dport=port) / Raw(msg))
    for i in range(40):  # DNS over TCP port 53 (length-prefixed): netinspect decodes DNS on UDP only
        msg = dnswire.random_message(R)
        pk.append(eth() / ipl() / TCP(sport=eport(), dport=53, flags="PA", seq=R.getrandbits(32), ack=R.getrandbits(32))
                  / Raw(struct.pack("!H", len(msg)) + msg))
    save("dns_random.pcap", pk, "random valid DNS over UDP/53 (v4/v6, some VLAN), DNS on other ports, DNS over TCP")

    # --- TCP options -----------------------------------------------------
    def rand_options():
        opts = b""
        for _ in range(R.randint(0, 7)):
            k = R.choice(["mss", "ws", "sackok", "sack", "ts", "nop", "nop", "tfo", "md5", "mptcp", "exp", "unk", "eol"])
            if k == "mss":
                o = struct.pack("!BBH", 2, 4, R.choice([536, 1220, 1460, 8960, 65495, R.getrandbits(16)]))
            elif k == "ws":
                o = struct.pack("!BBB", 3, 3, R.choice([0, 7, 14, R.randint(0, 255)]))
            elif k == "sackok":
                o = b"\x04\x02"
            elif k == "sack":
                n = R.randint(1, 4)
                o = struct.pack("!BB", 5, 2 + 8 * n) + b"".join(struct.pack("!II", R.getrandbits(32), R.getrandbits(32)) for _ in range(n))
            elif k == "ts":
                o = struct.pack("!BBII", 8, 10, R.getrandbits(32), R.getrandbits(32))
            elif k == "nop":
                o = b"\x01"
            elif k == "tfo":
                n = R.choice([0, 4, 8, 16])
                o = struct.pack("!BB", 34, 2 + n) + R.randbytes(n)
            elif k == "md5":
                o = struct.pack("!BB", 19, 18) + R.randbytes(16)
            elif k == "mptcp":
                o = struct.pack("!BBBB", 30, 12, 0x01, 0x81) + R.randbytes(8)
            elif k == "exp":
                o = struct.pack("!BBH", R.choice([253, 254]), 6, 0xF989) + R.randbytes(2)
            elif k == "unk":
                n = R.randint(0, 6)
                o = struct.pack("!BB", R.choice([6, 7, 9, 14, 15, 27, 28, 29, 69, 99, 200]), 2 + n) + R.randbytes(n)
            else:
                o = b"\x00"
            if len(opts) + len(o) > 40:
                break
            opts += o
            if k == "eol":
                break
        while len(opts) % 4:
            opts += b"\x00" if (opts.endswith(b"\x00") or R.random() < 0.5) else b"\x01"
        return opts

    pk = []
    for i in range(700):
        opts = rand_options()
        flags = R.choice([0x002, 0x012, 0x010, 0x018, 0x011, 0x019, 0x004, 0x014, 0x0C2, 0x052, 0x038])
        if R.random() < 0.15:
            flags = R.getrandbits(9)
        t = TCP(sport=R.choice([eport(), 80, 443, 22, 8080, 5201]), dport=R.choice([eport(), 80, 443, 22, 25, 3306]),
                seq=R.getrandbits(32), ack=R.getrandbits(32) if flags & 0x10 or R.random() < 0.1 else 0,
                flags=flags, window=R.choice([0, 512, 65535, R.getrandbits(16)]),
                urgptr=R.getrandbits(16) if flags & 0x20 else 0, dataofs=5 + len(opts) // 4)
        pay = R.randbytes(R.choice([0, 0, 1, 10, 100, 536, 1400])) if R.random() < 0.6 else b""
        pk.append(eth() / ipl() / t / Raw(opts + pay))
    save("tcp_options.pcap", pk, "TCP, random option lists (incl. SACK, TS, TFO, MPTCP, unknown, EOL) and flag combinations")

    # --- ARP -------------------------------------------------------------
    pk = []
    for i in range(150):
        r = R.random()
        if r < 0.4:
            a = ARP(op=1, hwsrc=mac(), psrc=ip4(), hwdst="00:00:00:00:00:00", pdst=ip4())
            dst = "ff:ff:ff:ff:ff:ff"
        elif r < 0.75:
            a = ARP(op=2, hwsrc=mac(), psrc=ip4(), hwdst=mac(), pdst=ip4())
            dst = a.hwdst
        elif r < 0.85:
            ip = ip4()
            a = ARP(op=R.choice([1, 2]), hwsrc=mac(), psrc=ip, hwdst="ff:ff:ff:ff:ff:ff", pdst=ip)  # gratuitous
            dst = "ff:ff:ff:ff:ff:ff"
        else:
            a = ARP(op=R.choice([3, 4, 8, 9, 0, 255]), hwsrc=mac(), psrc=ip4(), hwdst=mac(), pdst=ip4())
            dst = mac()
        e = Ether(src=a.hwsrc, dst=dst)
        if R.random() < 0.3:
            pk.append(e / a / Padding(b"\x00" * 18))  # minimum-size Ethernet frame
        else:
            pk.append(e / a)
    save("arp.pcap", pk, "ARP requests, replies, gratuitous, unusual opcodes, with/without padding")

    # --- ICMP / ICMPv6 ---------------------------------------------------
    pk = []
    for i in range(320):
        r = R.random()
        if r < 0.3:
            p = eth() / ipl(False) / ICMP(type=R.choice([8, 0]), id=R.getrandbits(16), seq=R.getrandbits(16)) / Raw(R.randbytes(R.choice([0, 8, 56, 1000])))
        elif r < 0.6:
            inner_ip = IP(src=ip4(), dst=ip4(), ttl=R.randint(1, 64), id=R.getrandbits(16))
            kind = R.random()
            if kind < 0.4:
                inner = inner_ip / UDP(sport=eport(), dport=53) / Raw(dnswire.random_message(R, False))
            elif kind < 0.7:
                inner = inner_ip / TCP(sport=eport(), dport=R.choice([80, 443]), flags="S", seq=R.getrandbits(32))
            else:
                inner = inner_ip / UDP(sport=eport(), dport=eport()) / Raw(R.randbytes(20))
            raw_inner = bytes(inner)
            if R.random() < 0.5:
                raw_inner = raw_inner[:28]  # RFC 792: IP header + 8 bytes
            t, c = R.choice([(3, R.randint(0, 15)), (11, R.choice([0, 1])), (5, R.randint(0, 3)), (12, 0), (4, 0)])
            ic = ICMP(type=t, code=c)
            if t == 5:
                ic.gw = ip4()
            p = eth() / ipl(False) / ic / Raw(raw_inner)
        elif r < 0.65:
            p = eth() / ipl(False) / ICMP(type=R.choice([13, 14, 17, 18, 9, 10]), code=0, id=R.getrandbits(16), seq=R.getrandbits(16),
                                          ts_ori=R.getrandbits(32), ts_rx=R.getrandbits(32), ts_tx=R.getrandbits(32)) / Raw(R.randbytes(12))
        elif r < 0.7:
            p = eth() / ipl(False) / ICMP(type=R.randint(0, 255), code=R.randint(0, 255), ts_ori=R.getrandbits(32),
                                          ts_rx=R.getrandbits(32), ts_tx=R.getrandbits(32)) / Raw(R.randbytes(R.randint(0, 40)))
        elif r < 0.8:
            p = eth() / ipl(True) / R.choice([ICMPv6EchoRequest, ICMPv6EchoReply])(id=R.getrandbits(16), seq=R.getrandbits(16), data=R.randbytes(R.choice([0, 8, 56])))
        elif r < 0.9:
            inner = IPv6(src=ip6(), dst=ip6()) / UDP(sport=eport(), dport=R.choice([53, eport()])) / Raw(dnswire.random_message(R, False))
            err = R.choice([ICMPv6DestUnreach(code=R.randint(0, 6)), ICMPv6PacketTooBig(mtu=1280), ICMPv6TimeExceeded(code=0)])
            p = eth() / ipl(True) / err / Raw(bytes(inner))
        else:
            nd = R.choice([ICMPv6ND_NS(tgt=ip6()) / ICMPv6NDOptSrcLLAddr(lladdr=mac()), ICMPv6ND_NA(tgt=ip6(), R=0, S=1, O=1),
                           ICMPv6ND_RS(), ICMPv6ND_RA()])
            p = eth() / IPv6(src=ip6(), dst="ff02::1", hlim=255) / nd
        pk.append(p)
    save("icmp.pcap", pk, "ICMP echo/errors quoting IP+UDP(+DNS)/TCP (full and 28-byte quotes), odd types; ICMPv6 echo/errors/ND")

    # --- VLAN ------------------------------------------------------------
    pk = []
    for i in range(250):
        tags = R.choice([["q"], ["q"], ["q", "q"], ["ad", "q"], ["q", "q", "q"]])
        p = eth()
        for t in tags:
            p = p / (Dot1Q(vlan=R.randint(0, 4095), prio=R.randint(0, 7)) if t == "q" else Dot1AD(vlan=R.randint(0, 4095), prio=R.randint(0, 7)))
        r = R.random()
        if r < 0.3:
            p = p / ARP(op=1, hwsrc=mac(), psrc=ip4(), pdst=ip4())
        elif r < 0.6:
            p = p / ipl(False) / UDP(sport=eport(), dport=53) / Raw(dnswire.random_message(R, False))
        elif r < 0.85:
            p = p / ipl(True) / TCP(sport=eport(), dport=443, flags="S", seq=R.getrandbits(32), options=[("MSS", 1440), ("SAckOK", b"")])
        else:
            p = p / ipl(False) / ICMP() / Raw(b"vlan-ping")
        pk.append(p)
    save("vlan.pcap", pk, "802.1Q single/double/triple tags and 802.1ad+802.1Q carrying ARP, IPv4/UDP/DNS, IPv6/TCP, ICMP")

    # --- IP odds and ends --------------------------------------------------
    pk = []
    for i in range(60):
        opts = R.choice([[IPOption(b"\x01\x01\x01\x00")], [RouterAlert()], [IPOption(b"\x07\x07\x04\x00\x00\x00\x00")],
                         [IPOption(b"\x44\x0c\x05\x00" + b"\x00" * 8)]])
        pk.append(eth() / IP(src=ip4(), dst=ip4(), options=opts) / UDP(sport=eport(), dport=R.choice([53, eport()]))
                  / Raw(dnswire.random_message(R, False)))
    for i in range(15):  # IPv4 fragments of a large DNS-ish / UDP datagram
        big = eth() / IP(src=ip4(), dst=ip4(), id=R.getrandbits(16)) / UDP(sport=eport(), dport=53) / Raw(R.randbytes(R.randint(1600, 4000)))
        for f in fragment(big[IP], fragsize=R.choice([512, 1000, 1480])):
            pk.append(Ether(src=big.src, dst=big.dst) / f)
    for i in range(40):
        pk.append(eth() / IP(src=ip4(), dst=ip4(), proto=R.choice([47, 50, 89, 132, 253, 0, 4, 41])) / Raw(R.randbytes(R.randint(0, 60))))
    for i in range(20):  # small IPv4 packets with Ethernet padding / trailers
        pk.append(eth() / IP(src=ip4(), dst=ip4()) / UDP(sport=eport(), dport=R.choice([53, 9999])) / Raw(b"hi") / Padding(R.randbytes(R.choice([4, 16, 20]))))
        pk.append(eth() / IP(src=ip4(), dst=ip4()) / TCP(sport=eport(), dport=80, flags="A") / Padding(b"\x00" * 6))
    for i in range(50):
        base = IPv6(src=ip6(), dst=ip6())
        r = R.random()
        l4 = UDP(sport=eport(), dport=53) / Raw(dnswire.random_message(R, False)) if R.random() < 0.5 else TCP(sport=eport(), dport=80, flags="S")
        if r < 0.3:
            p = base / IPv6ExtHdrHopByHop(options=[]) / l4
        elif r < 0.5:
            p = base / IPv6ExtHdrDestOpt() / l4
        elif r < 0.6:
            p = base / IPv6ExtHdrRouting(addresses=[ip6()]) / l4
        elif r < 0.8:
            p = base / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / l4
        else:
            p = base / IPv6ExtHdrFragment(m=0, offset=0, id=R.getrandbits(32)) / l4  # atomic fragment
        pk.append(eth() / p)
    for i in range(5):
        big = IPv6(src=ip6(), dst=ip6()) / IPv6ExtHdrFragment() / UDP(sport=eport(), dport=53) / Raw(R.randbytes(3000))
        for f in fragment6(big, 1280):
            pk.append(eth() / f)
    for i in range(10):
        pk.append(eth() / IPv6(src=ip6(), dst=ip6(), nh=59))  # no next header
    for i in range(40):  # non-IP Ethernet: 802.3/LLC/SNAP, LLDP, MPLS, unknown EtherTypes, runts
        r = R.random()
        if r < 0.3:
            pk.append(Dot3(src=mac(), dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42, ctrl=3) / Raw(R.randbytes(35)))
        elif r < 0.45:
            pk.append(Dot3(src=mac(), dst=mac()) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / IP(src=ip4(), dst=ip4()) / UDP(sport=1, dport=2))
        elif r < 0.7:
            pk.append(Ether(src=mac(), dst=mac(), type=R.choice([0x88cc, 0x8847, 0x88b5, 0x9000, 0x0600, 0xffff])) / Raw(R.randbytes(R.randint(0, 60))))
        else:
            pk.append(Ether(src=mac(), dst=mac(), type=0x0800))  # Ethernet header only, no IP
    save("ip_misc.pcap", pk, "IPv4 options and fragments, odd IP protocols, Ethernet padding, IPv6 extension headers and fragments, 802.3/LLC/SNAP, other EtherTypes, runts")

    # --- other link types ----------------------------------------------------
    def l3_mix(n):
        out = []
        for i in range(n):
            r = R.random()
            lower = ipl()
            if r < 0.35:
                out.append(lower / UDP(sport=eport(), dport=53) / Raw(dnswire.random_message(R)))
            elif r < 0.7:
                out.append(lower / TCP(sport=eport(), dport=R.choice([80, 443]), flags=R.choice(["S", "SA", "A", "PA", "FA", "R"]),
                                       seq=R.getrandbits(32), ack=R.getrandbits(32), options=[("MSS", 1460), ("NOP", None), ("WScale", 7)])
                           / Raw(R.randbytes(R.choice([0, 20, 300]))))
            elif isinstance(lower, IP):
                out.append(lower / ICMP() / Raw(R.randbytes(32)))
            else:
                out.append(lower / ICMPv6EchoRequest())
        return out
    save("rawip.pcap", l3_mix(150), "LINKTYPE_RAW (101): IPv4/IPv6 without link header", linktype=101)
    save("null.pcap", [Loopback(type=2 if isinstance(p, IP) else 30) / p for p in l3_mix(120)], "DLT_NULL (BSD loopback)", linktype=0)
    save("mixed_nano.pcap", [eth() / p for p in l3_mix(150)], "Ethernet IPv4/IPv6 mix with nanosecond timestamps", nano=True)

    # pcapng and nanosecond-pcap copies (not mutated: the mutator only handles classic pcap)
    for src, dst, fmt in (("dns_random.pcap", "dns_random.pcapng", "pcapng"), ("tcp_options.pcap", "tcp_options.pcapng", "pcapng"),
                          ("vlan.pcap", "vlan_nsec.pcap", "nsecpcap")):
        d = os.path.join(outdir, dst)
        r = subprocess.run(["editcap", "-F", fmt, os.path.join(outdir, src), d], capture_output=True, text=True)
        if r.returncode == 0:
            files.append((d, f"{src} converted with editcap -F {fmt}"))
        else:
            notes.append(f"editcap -F {fmt} {src} failed: {r.stderr.strip()}")
    return files


# ---------------------------------------------------------------------------
# (c) mutations
# ---------------------------------------------------------------------------

LINK_HDR = {1: 14, 113: 16, 276: 20, 101: 0, 0: 4, 228: 0, 229: 0}


def dns_offset(linktype, data):
    """Offset of a UDP/53 payload (IPv4 or IPv6, through VLAN tags), or None."""
    try:
        if linktype == 1:
            pos, et = 14, struct.unpack("!H", data[12:14])[0]
            while et in (0x8100, 0x88a8, 0x9100):
                et = struct.unpack("!H", data[pos + 2:pos + 4])[0]
                pos += 4
        elif linktype == 113:
            pos, et = 16, struct.unpack("!H", data[14:16])[0]
        elif linktype == 276:
            pos, et = 20, struct.unpack("!H", data[0:2])[0]
        elif linktype == 101:
            pos, et = 0, 0x0800 if data[0] >> 4 == 4 else 0x86DD
        elif linktype == 0:
            pos, et = 4, 0x0800 if data[4] >> 4 == 4 else 0x86DD
        else:
            return None
        if et == 0x0800:
            ihl = (data[pos] & 0x0F) * 4
            if data[pos + 9] != 17:
                return None
            u = pos + ihl
        elif et == 0x86DD:
            if data[pos + 6] != 17:
                return None
            u = pos + 40
        else:
            return None
        sp, dp = struct.unpack("!HH", data[u:u + 4])
        if 53 in (sp, dp) and len(data) >= u + 8 + 12:
            return u + 8
    except (IndexError, struct.error):
        return None
    return None


def mutate_packet(R, linktype, data, orig):
    """Return (data, orig_len, [op names])."""
    d = bytearray(data)
    hdr = LINK_HDR.get(linktype, 0)
    ops = []

    def offset():
        if not d:
            return None
        if R.random() < 0.1 or len(d) <= hdr:
            return R.randrange(len(d))
        span = len(d) - hdr
        if R.random() < 0.6:
            return hdr + int(span * R.random() ** 2.5)  # biased towards the network/transport headers
        return hdr + R.randrange(span)

    n_ops = R.choices([1, 2, 3, 4, 5], weights=[55, 25, 10, 5, 5])[0]
    for _ in range(n_ops):
        op = R.choices(["flip", "byte", "word", "dns", "trunc", "append"], weights=[25, 20, 15, 15, 18, 7])[0]
        if op == "dns":
            off = dns_offset(linktype, bytes(d))
            if off is None:
                op = "byte"
            else:
                kind = R.choice(["count", "pointer", "loop", "labellen", "byte"])
                if kind == "count":
                    i = off + R.choice([4, 6, 8, 10])
                    d[i:i + 2] = struct.pack("!H", R.choice([0, 1, 2, 3, 7, 100, 0xFFFF, R.getrandbits(16)]))
                elif kind in ("pointer", "loop") and len(d) > off + 13:
                    i = R.randrange(off + 12, len(d) - 1)
                    tgt = (i - off) if kind == "loop" else R.randrange(0, max(1, min(0x3FFF, len(d) - off + 20)))
                    d[i:i + 2] = struct.pack("!H", 0xC000 | tgt)
                elif kind == "labellen" and len(d) > off + 12:
                    i = R.randrange(off + 12, len(d))
                    d[i] = R.choice([63, 64, 0x40, 0x80, 0xBF, 0xFF, R.randint(1, 63)])
                else:
                    i = R.randrange(off, len(d))
                    d[i] = R.getrandbits(8)
                ops.append("dns-" + kind)
                continue
        if op == "flip":
            i = offset()
            if i is not None:
                d[i] ^= 1 << R.randrange(8)
        elif op == "byte":
            i = offset()
            if i is not None:
                d[i] = R.choice([0x00, 0xFF, 0x7F, 0x80, 0x01, R.getrandbits(8), R.getrandbits(8)])
        elif op == "word":
            i = offset()
            if i is not None:
                d[i:i + 2] = struct.pack("!H", R.choice([0, 0xFFFF, 0x8000, 1, 5, 20, 40, 60, R.getrandbits(16)]))[:len(d) - i]
        elif op == "trunc":
            if d:
                if R.random() < 0.6:
                    n = R.randint(0, min(len(d) - 1, hdr + 80))
                else:
                    n = R.randrange(len(d))
                del d[n:]
        elif op == "append":
            d += R.randbytes(R.randint(1, 24))
        ops.append(op)
    return bytes(d), max(orig, len(d)), ops


def mutate_all(bases, outdir, R, total):
    os.makedirs(outdir, exist_ok=True)
    files = []
    produced = 0
    k = 0
    parsed = []
    for path, _ in bases:
        try:
            parsed.append((path, read_pcap(path)))
        except (ValueError, OSError):
            continue
    parsed = [p for p in parsed if p[1][3]]
    if not parsed:
        return files
    while produced < total:
        path, (gh, e, lt, recs) = parsed[k % len(parsed)]
        rnd = k // len(parsed)
        k += 1
        take = recs if len(recs) <= 1500 else [recs[i] for i in sorted(R.sample(range(len(recs)), 1500))]
        take = take[:max(1, total - produced)]
        out = []
        for s, fr, orig, data in take:
            if R.random() < 0.12:
                out.append((s, fr, orig, data))  # leave some packets intact (keeps TCP/DNS context)
                continue
            nd, norig, _ops = mutate_packet(R, lt, data, orig)
            out.append((s, fr, norig, nd))
        name = f"mut{rnd}_{os.path.basename(path)}"
        dst = os.path.join(outdir, name)
        write_pcap(dst, gh, e, out)
        files.append((dst, f"mutation round {rnd} of {os.path.relpath(path, os.path.dirname(outdir))}"))
        produced += len(out)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=8000, help="number of mutated packets (default 8000)")
    ap.add_argument("--no-live", action="store_true", help="skip the live loopback captures (needs no root)")
    ap.add_argument("--no-mutate", action="store_true")
    a = ap.parse_args()

    out = os.path.abspath(a.outdir)
    repo = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True).stdout.strip()
    if repo and (out == repo or out.startswith(repo + os.sep)):
        sys.exit(f"refusing to write the corpus inside the git repository ({repo}); pick a directory outside it")
    os.makedirs(out, exist_ok=True)
    notes = []
    files = []
    if not a.no_live:
        if os.geteuid() != 0:
            sys.exit("live captures need root (tcpdump, port 53); use --no-live otherwise")
        print("live captures on lo ...", file=sys.stderr)
        live = capture_live(os.path.join(out, "live"), random.Random(a.seed + 2), notes)
        files += live
    print("crafting packets ...", file=sys.stderr)
    crafted = craft_all(os.path.join(out, "crafted"), random.Random(a.seed), notes)
    files += crafted
    if not a.no_mutate:
        print("mutating ...", file=sys.stderr)
        bases = [f for f in crafted if f[0].endswith(".pcap") and "nsec" not in f[0]]
        bases += [f for f in files if os.path.basename(f[0]) in ("lo_eth.pcap", "any_sll2.pcap")]
        files += mutate_all(bases, os.path.join(out, "mutated"), random.Random(a.seed + 1), a.count)
    total = 0
    with open(os.path.join(out, "MANIFEST.tsv"), "w") as m:
        m.write("file\tpackets\tdescription\n")
        for path, desc in files:
            n = count_packets(path)
            total += max(n, 0)
            m.write(f"{os.path.relpath(path, out)}\t{n}\t{desc}\n")
        for n in notes:
            m.write(f"# note: {n}\n")
    for n in notes:
        print("note:", n, file=sys.stderr)
    print(f"{len(files)} files, {total} packets in {out} (see MANIFEST.tsv)")


if __name__ == "__main__":
    main()
