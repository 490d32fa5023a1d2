"""Minimal DNS wire-format encoder used by make_corpus.py.

Written by hand (instead of scapy's DNS layer) so the corpus controls exactly
which record types, section layouts and compression pointers appear.
Everything produced here is a *valid* DNS message; invalid ones come from the
mutation step in make_corpus.py.
"""

import ipaddress
import struct

TYPES = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15,
    "TXT": 16, "AAAA": 28, "SRV": 33, "NAPTR": 35, "DNAME": 39, "OPT": 41,
    "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "SVCB": 64, "HTTPS": 65,
    "ANY": 255, "CAA": 257, "SPF": 99,
}

WORDS = ["www", "mail", "ns1", "ns2", "api", "cdn", "example", "test", "local",
         "internal", "corp", "a", "b", "db", "x-ray", "_sip", "_tcp", "_udp",
         "edge01", "Mixed-Case", "xn--bcher-kva", "s3", "eu-west-1", "long" * 8]
TLDS = ["com", "net", "org", "io", "arpa", "test", "example"]


def rand_label(rng):
    r = rng.random()
    if r < 0.6:
        return rng.choice(WORDS)
    if r < 0.95:
        n = rng.randint(1, 20)
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(n)).strip("-") or "z"
    # longest legal label
    return "m" * 63


def rand_name(rng, pool=None):
    if pool and rng.random() < 0.6:
        base = rng.choice(pool)
        if rng.random() < 0.5:
            return rand_label(rng) + "." + base
        return base
    if rng.random() < 0.03:
        return "."  # root
    n = rng.randint(1, 4)
    return ".".join([rand_label(rng) for _ in range(n)] + [rng.choice(TLDS)])


class Writer:
    def __init__(self, compress=True):
        self.buf = bytearray()
        self.compress = compress
        self.names = {}  # lower-case suffix -> offset

    def u8(self, v):
        self.buf += struct.pack("!B", v)

    def u16(self, v):
        self.buf += struct.pack("!H", v)

    def u32(self, v):
        self.buf += struct.pack("!I", v)

    def raw(self, b):
        self.buf += b

    def name(self, name, allow_compress=True):
        if name in (".", ""):
            self.u8(0)
            return
        labels = name.rstrip(".").split(".")
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if self.compress and allow_compress and suffix in self.names:
                self.u16(0xC000 | self.names[suffix])
                return
            if len(self.buf) < 0x3FFF:
                self.names.setdefault(suffix, len(self.buf))
            lab = labels[i].encode()
            self.u8(len(lab))
            self.raw(lab)
        self.u8(0)


def rdata_for(rng, w, rtype, pool):
    """Append RDLENGTH+RDATA for rtype to writer w."""
    lenpos = len(w.buf)
    w.u16(0)
    start = len(w.buf)
    if rtype == "A":
        w.raw(ipaddress.IPv4Address(rng.getrandbits(32)).packed)
    elif rtype == "AAAA":
        w.raw(ipaddress.IPv6Address(rng.getrandbits(128)).packed)
    elif rtype in ("NS", "CNAME", "PTR"):
        w.name(rand_name(rng, pool))
    elif rtype == "DNAME":
        w.name(rand_name(rng, pool), allow_compress=False)
    elif rtype == "MX":
        w.u16(rng.choice([0, 5, 10, 20, 65535]))
        w.name(rand_name(rng, pool))
    elif rtype == "TXT":
        for _ in range(rng.randint(1, 3)):
            s = bytes(rng.choice(b"abcdefghij klmnop=;0123456789") for _ in range(rng.randint(0, 40)))
            w.u8(len(s))
            w.raw(s)
    elif rtype == "SOA":
        w.name(rand_name(rng, pool))
        w.name(rand_name(rng, pool))
        for _ in range(5):
            w.u32(rng.getrandbits(32) if rng.random() < 0.3 else rng.choice([3600, 7200, 86400, 300, 2024010101]))
    elif rtype == "SRV":
        w.u16(rng.randint(0, 100))
        w.u16(rng.randint(0, 100))
        w.u16(rng.randint(1, 65535))
        w.name(rand_name(rng, pool), allow_compress=False)
    elif rtype == "HINFO":
        for s in (b"INTEL-386", b"LINUX"):
            w.u8(len(s))
            w.raw(s)
    elif rtype == "CAA":
        w.u8(rng.choice([0, 128]))
        tag = rng.choice([b"issue", b"issuewild", b"iodef"])
        w.u8(len(tag))
        w.raw(tag + b"letsencrypt.org")
    elif rtype == "OPT":
        if rng.random() < 0.5:  # one EDNS option (cookie)
            w.u16(10)
            w.u16(8)
            w.raw(bytes(rng.getrandbits(8) for _ in range(8)))
    elif rtype == "DS":
        w.u16(rng.getrandbits(16))
        w.u8(8)
        w.u8(2)
        w.raw(bytes(rng.getrandbits(8) for _ in range(32)))
    elif rtype == "SPF":  # same layout as TXT
        s = b"v=spf1 -all"
        w.u8(len(s))
        w.raw(s)
    elif rtype == "NAPTR":
        w.u16(rng.randint(0, 200))
        w.u16(rng.randint(0, 50))
        for s in (b"S", b"SIP+D2U", b""):
            w.u8(len(s))
            w.raw(s)
        w.name(rand_name(rng, pool), allow_compress=False)
    elif rtype == "RRSIG":
        w.u16(rng.choice([1, 28, 6, 2]))
        w.u8(13)
        w.u8(rng.randint(1, 4))
        w.u32(3600)
        w.u32(1700000000 + rng.getrandbits(20))
        w.u32(1690000000 + rng.getrandbits(20))
        w.u16(rng.getrandbits(16))
        w.name(rand_name(rng, pool), allow_compress=False)
        w.raw(bytes(rng.getrandbits(8) for _ in range(64)))
    elif rtype == "NSEC":
        w.name(rand_name(rng, pool), allow_compress=False)
        w.raw(b"\x00\x06\x40\x00\x00\x00\x00\x03")  # window 0, 6 bytes: A, RRSIG, NSEC
    elif rtype == "DNSKEY":
        w.u16(rng.choice([256, 257]))
        w.u8(3)
        w.u8(13)
        w.raw(bytes(rng.getrandbits(8) for _ in range(64)))
    elif rtype in ("SVCB", "HTTPS"):
        w.u16(1)
        w.name(rand_name(rng, pool) if rng.random() < 0.5 else ".", allow_compress=False)
        w.u16(1)  # alpn
        w.u16(3)
        w.u8(2)
        w.raw(b"h2")
        w.u16(3)  # port
        w.u16(2)
        w.u16(443)
    else:  # unknown types: opaque bytes (RFC 3597)
        w.raw(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 24))))
    struct.pack_into("!H", w.buf, lenpos, len(w.buf) - start)


def random_message(rng, is_response=None):
    """A random but well-formed DNS message (bytes)."""
    compress = rng.random() < 0.8
    w = Writer(compress)
    qr = rng.random() < 0.6 if is_response is None else is_response
    opcode = 0 if rng.random() < 0.9 else rng.choice([1, 2, 4, 5])
    aa, tc = int(rng.random() < 0.3), int(rng.random() < 0.05)
    rd, ra = int(rng.random() < 0.8), int(qr and rng.random() < 0.8)
    ad, cd = int(rng.random() < 0.1), int(rng.random() < 0.1)
    rcode = 0 if rng.random() < 0.7 else rng.choice([1, 2, 3, 4, 5])
    if not qr:
        aa = ra = 0
        rcode = 0
    flags = (qr << 15) | (opcode << 11) | (aa << 10) | (tc << 9) | (rd << 8) | (ra << 7) | (ad << 5) | (cd << 4) | rcode
    pool = [rand_name(rng) for _ in range(3)]
    nq = 1 if rng.random() < 0.93 else rng.choice([0, 2])
    an = ns = ar = 0
    if qr:
        an = rng.choice([0, 1, 1, 2, 3, 5])
        ns = rng.choice([0, 0, 1, 2])
        ar = rng.choice([0, 0, 1, 2, 3])
    edns = rng.random() < 0.4
    w.u16(rng.getrandbits(16))
    w.u16(flags)
    w.u16(nq)
    w.u16(an)
    w.u16(ns)
    w.u16(ar + (1 if edns else 0))
    qtypes = ["A", "AAAA", "MX", "TXT", "CNAME", "NS", "SOA", "PTR", "SRV", "ANY", "CAA", "HTTPS"]
    for _ in range(nq):
        w.name(rand_name(rng, pool))
        w.u16(TYPES[rng.choice(qtypes)] if rng.random() < 0.97 else rng.choice([65280, 4000, 4096]))
        w.u16(1 if rng.random() < 0.95 else rng.choice([3, 255]))
    ans_types = ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR", "SRV", "SOA", "HINFO", "CAA",
                 "DNAME", "DS", "NAPTR", "RRSIG", "DNSKEY", "SVCB", "HTTPS", "NSEC", "SPF", "TYPE65280", "TYPE4000"]

    def rr(rtype):
        w.name(rand_name(rng, pool))
        code = int(rtype[4:]) if rtype.startswith("TYPE") else TYPES[rtype]
        w.u16(code)
        w.u16(1 if rng.random() < 0.95 else 3)
        w.u32(rng.choice([0, 60, 300, 3600, 86400, 2147483647]) if rng.random() < 0.8 else rng.getrandbits(32))
        rdata_for(rng, w, rtype, pool)

    for _ in range(an):
        rr(rng.choice(ans_types))
    for _ in range(ns):
        rr(rng.choice(["NS", "SOA"]))
    for _ in range(ar):
        rr(rng.choice(["A", "AAAA"]))
    if edns:
        w.u8(0)
        w.u16(41)
        w.u16(rng.choice([512, 1232, 4096]))
        w.u32(rng.choice([0, 0x8000]))
        rdata_for(rng, w, "OPT", pool)
    return bytes(w.buf)


def simple_query(qid, name, qtype=1):
    w = Writer(False)
    w.u16(qid)
    w.u16(0x0100)
    w.u16(1)
    w.u16(0)
    w.u16(0)
    w.u16(0)
    w.name(name)
    w.u16(qtype)
    w.u16(1)
    return bytes(w.buf)


def answer_query(rng, query):
    """Build a response to `query` (bytes) echoing its question; None if unparseable."""
    if len(query) < 12:
        return None
    qid, _flags, qd = struct.unpack("!HHH", query[:6])
    pos = 12
    labels = []
    try:
        while True:
            n = query[pos]
            pos += 1
            if n == 0:
                break
            labels.append(query[pos:pos + n].decode("ascii", "replace"))
            pos += n
        qtype, qclass = struct.unpack("!HH", query[pos:pos + 4])
    except (IndexError, struct.error):
        return None
    qname = ".".join(labels) or "."
    w = Writer(True)
    rcode = 3 if rng.random() < 0.1 else 0
    w.u16(qid)
    w.u16(0x8180 | rcode)
    w.u16(1)
    names = {v: k for k, v in TYPES.items()}
    tname = names.get(qtype, "A")
    if tname in ("ANY", "OPT"):
        tname = "A"
    n_an = 0 if rcode else rng.randint(1, 3)
    cname = bool(n_an) and rng.random() < 0.3
    w.u16(n_an + (1 if cname else 0))
    w.u16(1 if rcode else 0)
    w.u16(0)
    w.name(qname)
    w.u16(qtype)
    w.u16(qclass)
    for i in range(n_an + (1 if cname else 0)):
        if cname and i == 0:
            target = "alias." + qname if qname != "." else "alias.example"
            w.name(qname)
            w.u16(5)
            w.u16(1)
            w.u32(300)
            lenpos = len(w.buf)
            w.u16(0)
            s = len(w.buf)
            w.name(target)
            struct.pack_into("!H", w.buf, lenpos, len(w.buf) - s)
            qname = target
            continue
        w.name(qname)
        w.u16(TYPES.get(tname, 1))
        w.u16(1)
        w.u32(rng.choice([30, 300, 3600]))
        rdata_for(rng, w, tname, [qname])
    if rcode:
        w.name(".".join(qname.split(".")[-2:]) if "." in qname else ".")
        w.u16(6)
        w.u16(1)
        w.u32(900)
        rdata_for(rng, w, "SOA", [qname])
    return bytes(w.buf)
