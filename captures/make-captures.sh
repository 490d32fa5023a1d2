#!/usr/bin/env bash
# Regenerate the netinspect fixture captures in this directory.
#
#   ./make-captures.sh            # everything (live captures need root)
#   ./make-captures.sh crafted    # only the deterministic scapy-crafted files
#   ./make-captures.sh live       # only the real loopback captures (root)
#   ./make-captures.sh derived    # pcapng-mixed.pcapng + truncated-file.pcap
#   ./make-captures.sh check      # open every file with tshark and tcpdump
#
# Requirements: python3 + scapy (crafted), tcpdump, ping (iputils-ping),
# editcap/mergecap (wireshark-common), tshark (check).
#
# Crafted files are byte-for-byte reproducible.  Live files contain real
# timestamps/ISNs/ports and differ on every run; the committed copies are the
# ones produced once -- do not regenerate them casually, tests may depend on
# their exact contents.  Only loopback (127.0.0.1 / ::1) is used for traffic.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="python3 $DIR/make_captures.py"
MODE="${1:-all}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# live OUTFILE "tcpdump args" command...
#   start tcpdump, wait for it to be ready, run the traffic command, wait, SIGINT.
live() {
    local out="$1" tdargs="$2"; shift 2
    echo "== live capture: $out  (tcpdump $tdargs)"
    # -Z root: Debian's tcpdump otherwise drops privileges and may be unable
    # to write into the repo.  -U: flush each packet.
    # shellcheck disable=SC2086
    tcpdump -Z root -U -n $tdargs -w "$DIR/$out" 2>"$TMP/tcpdump.err" &
    local pid=$!
    sleep 1
    "$@"
    sleep 1
    kill -INT "$pid"
    wait "$pid" || true
    grep -E 'captured|dropped' "$TMP/tcpdump.err" || cat "$TMP/tcpdump.err"
}

do_crafted() {
    echo "== crafted files"
    $PY crafted
    python3 "$DIR/make_encap.py"   # tunnel-*.pcap, ip-fragments.pcap, tso.pcap
    python3 "$DIR/make_dns.py"   # dns-dnssec.pcap, dns-tcp.pcap
}

do_live() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "live captures need root (tcpdump)" >&2
        exit 1
    fi
    # 1. TCP handshake / data / FIN teardown on 127.0.0.1:9000
    live tcp-handshake.pcap "-i lo tcp port 9000" \
        $PY traffic tcp4
    # 4. ping -c 3 127.0.0.1
    live icmp-ping.pcap "-i lo icmp" \
        ping -c 3 127.0.0.1
    # 5. Linux cooked captures on the "any" pseudo-interface
    live sll2.pcap "-i any -y LINUX_SLL2 (tcp port 9003 or udp port 9004) and host 127.0.0.1" \
        $PY traffic any
    live sll.pcap "-i any -y LINUX_SLL (tcp port 9003 or udp port 9004) and host 127.0.0.1" \
        $PY traffic any
    # 7. snaplen 60: TCP payloads of 150-300 bytes + DNS query to 127.0.0.1:53
    #    (nobody listens -> ICMP port unreachable, also truncated)
    live truncated-snaplen.pcap "-i lo -s 60 tcp port 9002 or udp port 53 or icmp" \
        $PY traffic big
    # 14. TCP over ::1 port 9001
    live ipv6-tcp.pcap "-i lo ip6 and tcp port 9001" \
        $PY traffic tcp6
    # ping -6 -c 3 ::1
    live icmp6-ping.pcap "-i lo icmp6" \
        ping -6 -c 3 ::1
}

do_derived() {
    echo "== derived files"
    # 9. pcapng: tcp-handshake.pcap then dns-udp.pcap, concatenated (-a, not
    #    time-sorted), one IDB per input (-I none; both Ethernet, snaplen
    #    262144 -- libpcap/tcpdump refuse pcapng files whose IDBs differ in
    #    link type or snaplen).  editcap then adds a section-header comment and
    #    an EPB opt_comment on packets 1 and 17 to exercise option parsing.
    mergecap -a -I none -F pcapng -w "$TMP/merged.pcapng" \
        "$DIR/tcp-handshake.pcap" "$DIR/dns-udp.pcap"
    editcap -F pcapng --capture-comment "netinspect fixture: tcp-handshake + dns-udp" \
        -a "1:first packet of tcp-handshake.pcap" \
        -a "17:first packet of dns-udp.pcap" \
        "$TMP/merged.pcapng" "$DIR/pcapng-mixed.pcapng"
    # 15. tcp-handshake.pcap with the last 20 bytes cut off (ends mid-record)
    head -c -20 "$DIR/tcp-handshake.pcap" > "$DIR/truncated-file.pcap"
    # loopback-double.pcap: every frame of tcp-handshake.pcap twice, the copy 3 µs later, as an
    # AF_PACKET capture on a loopback or bridged interface can hold them.
    python3 - "$DIR/tcp-handshake.pcap" "$DIR/loopback-double.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out = [d[:24]]
off = 24
while off + 16 <= len(d):
    s, us, cl, ol = struct.unpack("<IIII", d[off:off + 16])
    rec = d[off + 16:off + 16 + cl]
    off += 16 + cl
    out.append(d[off - 16 - cl:off])
    t = s * 1000000 + us + 3
    out.append(struct.pack("<IIII", t // 1000000, t % 1000000, cl, ol) + rec)
open(sys.argv[2], "wb").write(b"".join(out))
PY
}

do_check() {
    local f rc=0
    for f in "$DIR"/*.pcap "$DIR"/*.pcapng; do
        local n
        n=$(tshark -r "$f" 2>/dev/null | wc -l) || true
        if ! tcpdump -n -r "$f" >/dev/null 2>"$TMP/err"; then
            # truncated-file.pcap legitimately makes tcpdump complain at EOF
            if ! grep -q 'truncated dump file' "$TMP/err"; then
                echo "tcpdump FAILED on $f"; cat "$TMP/err"; rc=1
            fi
        fi
        printf '%-26s %4s packets (tshark)\n' "$(basename "$f")" "$n"
    done
    return $rc
}

case "$MODE" in
    all)     do_crafted; do_live; do_derived; do_check ;;
    crafted) do_crafted ;;
    live)    do_live ;;
    derived) do_derived ;;
    check)   do_check ;;
    *) echo "usage: $0 [all|crafted|live|derived|check]" >&2; exit 2 ;;
esac
