#!/usr/bin/env python3
"""Crafted captures for stream reassembly and message framing (captures/framing-*.pcap).

Deterministic: fixed addresses (documentation ranges), ports, sequence numbers and
timestamps; scapy only builds the bytes, a small writer below writes classic pcap.
Run: python3 captures/make_framing.py   (rewrites every framing-*.pcap)

Every file holds one TCP connection 192.0.2.1:40000 -> 198.51.100.2:7000 (the server
port framed with --framing 7000=SPEC in the tests), with handshake and teardown.
"""

import os
import struct

from scapy.all import Ether, IP, TCP, raw

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_TS = 1700000000

C, S = "192.0.2.1", "198.51.100.2"
CP, SP = 40000, 7000
MAC_C, MAC_S = "02:00:00:00:00:01", "02:00:00:00:00:02"


def write_pcap(name, frames):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, data in enumerate(frames):
            ts = BASE_TS + i // 1000
            us = (i % 1000) * 1000
            f.write(struct.pack("<IIII", ts, us, len(data), len(data)))
            f.write(data)


class Conn:
    """Builds the frames of one connection; seq numbers are tracked per side."""

    def __init__(self, cisn=1000, sisn=5000):
        self.frames = []
        self.cseq = cisn
        self.sseq = sisn

    def seg(self, from_client, flags, payload=b"", seq=None, ack=None):
        if from_client:
            pkt = Ether(src=MAC_C, dst=MAC_S) / IP(src=C, dst=S, id=len(self.frames) + 1) / TCP(
                sport=CP, dport=SP, flags=flags, seq=self.cseq if seq is None else seq,
                ack=self.sseq if ack is None else ack, window=65535) / payload
        else:
            pkt = Ether(src=MAC_S, dst=MAC_C) / IP(src=S, dst=C, id=len(self.frames) + 1) / TCP(
                sport=SP, dport=CP, flags=flags, seq=self.sseq if seq is None else seq,
                ack=self.cseq if ack is None else ack, window=65535) / payload
        self.frames.append(raw(pkt))

    def handshake(self):
        self.seg(True, "S", ack=0)
        self.cseq = (self.cseq + 1) % 2**32
        self.seg(False, "SA")
        self.sseq = (self.sseq + 1) % 2**32
        self.seg(True, "A")

    def send(self, from_client, payload, advance=True, flags="PA"):
        self.seg(from_client, flags, payload)
        if advance:
            if from_client:
                self.cseq = (self.cseq + len(payload)) % 2**32
            else:
                self.sseq = (self.sseq + len(payload)) % 2**32

    def ack(self, from_client):
        self.seg(from_client, "A")

    def teardown(self):
        self.seg(True, "FA")
        self.cseq = (self.cseq + 1) % 2**32
        self.seg(False, "FA")
        self.sseq = (self.sseq + 1) % 2**32
        self.seg(True, "A")


def lp4(body):
    return struct.pack(">I", len(body)) + body


def split3():
    """lp:4 (big-endian): a 3000-byte message in 3 segments; 100 messages in one segment; a length
    prefix split across two segments; then a message split 1+1 across the client's last segments."""
    c = Conn()
    c.handshake()
    m = lp4(bytes((i % 26) + 97 for i in range(2996)))  # 3000 bytes in all
    c.send(True, m[:1000]); c.send(True, m[1000:2000]); c.send(True, m[2000:])
    c.ack(False)
    hundred = b"".join(lp4(b"m%03d" % i) for i in range(100))
    c.send(False, hundred)
    c.ack(True)
    x = lp4(b"prefix-split")
    c.send(True, x[:2]); c.send(True, x[2:])
    # end of nothing + whole + start: [whole msg][start of next], then its end
    y = lp4(b"whole one") + lp4(b"the next, cut")[:6]
    c.send(True, y)
    c.send(True, lp4(b"the next, cut")[6:])
    c.ack(False)
    c.teardown()
    write_pcap("framing-split3.pcap", c.frames)


def reorder():
    """lp:4 with a retransmitted and an out-of-order segment inside one message, and sequence
    numbers that wrap around 2^32 in the middle of it."""
    c = Conn(cisn=2**32 - 1500)
    c.handshake()
    m = lp4(bytes((i % 10) + 48 for i in range(3996)))  # 4000 bytes, crosses the wrap
    start = c.cseq
    parts = [m[:1000], m[1000:2000], m[2000:3000], m[3000:]]
    seqs = [(start + 1000 * k) % 2**32 for k in range(4)]
    c.seg(True, "PA", parts[0], seq=seqs[0])
    c.seg(True, "PA", parts[0], seq=seqs[0])          # retransmission, same bytes
    c.seg(True, "PA", parts[2], seq=seqs[2])          # out of order: arrives before part 2
    c.seg(True, "PA", parts[1], seq=seqs[1])          # fills the hole: parts 2 and 3 framed
    c.seg(True, "PA", parts[3], seq=seqs[3])
    c.cseq = (start + 4000) % 2**32
    c.ack(False)
    c.send(True, lp4(b"after the wrap"))
    c.ack(False)
    c.teardown()
    write_pcap("framing-reorder.pcap", c.frames)


def gap():
    """lp:4: a body segment the capture lost (the server acknowledges past it: skipped, the framing
    goes on), then a lost segment holding a length prefix (framing lost for that direction)."""
    c = Conn()
    c.handshake()
    m = lp4(b"A" * 2996)
    c.send(True, m[:1000])
    c.cseq = (c.cseq + 1000) % 2**32                 # m[1000:2000] never captured
    c.send(True, m[2000:])
    c.ack(False)
    c.send(True, lp4(b"still framed"))
    c.ack(False)
    n = lp4(b"B" * 96) + lp4(b"C" * 96)
    c.cseq = (c.cseq + 100) % 2**32                  # the first message never captured ...
    c.send(True, n[100:102])                          # ... and only part of the next prefix
    c.cseq = (c.cseq + 98) % 2**32
    c.ack(False)
    c.teardown()
    write_pcap("framing-gap.pcap", c.frames)


def lying():
    """Lying length prefixes: lp:4 announcing 0xFFFFFFF0 bytes from the client; lpjson with a
    negative header length from the server (the connection is read with lp:4 one way ... the tests
    read this file with --framing 7000=lp:4 and with --framing 7000=lpjson)."""
    c = Conn()
    c.handshake()
    c.send(True, lp4(b"fine"))
    c.ack(False)
    c.send(True, struct.pack(">I", 0xFFFFFFF0) + b"lies")
    c.ack(False)
    c.send(False, struct.pack("<i", -1) + b'{"total_size": 5}hello')
    c.ack(True)
    c.send(False, b"x" * 64)
    c.ack(True)
    c.teardown()
    write_pcap("framing-lying.pcap", c.frames)


def lpjson_sizes():
    """lpjson (little-endian): a JSON header whose total_size is negative, after a good message."""
    c = Conn()
    c.handshake()
    h = b'{"total_size": 3, "name": "ok"}'
    c.send(True, struct.pack("<i", len(h)) + h + b"abc")
    c.ack(False)
    h = b'{"total_size": -5, "name": "liar"}'
    c.send(True, struct.pack("<i", len(h)) + h + b"zzzzz")
    c.ack(False)
    c.teardown()
    write_pcap("framing-lpjson-negative.pcap", c.frames)


def overlap():
    """line framing: a retransmission that carries different bytes than the first copy."""
    c = Conn()
    c.handshake()
    first = c.cseq
    c.send(True, b"hello\n")
    c.seg(True, "PA", b"HELLO\n", seq=first)
    c.send(True, b"world\n")
    c.ack(False)
    c.teardown()
    write_pcap("framing-overlap.pcap", c.frames)


if __name__ == "__main__":
    split3()
    reorder()
    gap()
    lying()
    lpjson_sizes()
    overlap()
