#!/usr/bin/env python3
"""Frame-by-frame comparison of netinspect's TCP analysis notes with tshark's tcp.analysis.* flags.

    tcp_analysis_compare.py FILE|DIR ... [--netinspect PATH] [-n N] [--min-count N] [--threshold X]
                                         [--diffs-json OUT] [-j JOBS]

For every capture (directories are searched for *.pcap, *.pcapng, *.cap):

  * netinspect -r FILE --json: every note that carries a "wireshark" key counts as that
    tshark flag (e.g. {"kind":"syn_retransmission", "wireshark":"tcp.analysis.retransmission"});
    a note without the key counts by its kind through KIND_TO_FLAG below (so an older binary,
    whose notes had no "wireshark" key, can be measured too).
  * tshark -r FILE -T fields -e frame.number -e tcp.analysis.<flag> ..., run with an empty
    private configuration directory: Wireshark's DEFAULT preferences (sequence analysis on,
    relative numbers, IP reassembly, tunnels decoded).  A non-empty field means the flag is set.

A frame/flag pair counts as true positive when both tools set it, false positive when only
netinspect does, false negative when only tshark does.  Printed: per flag the tshark count,
precision, recall and F1, the macro F1 over the flags either tool set, and the first N
disagreements per flag (file, frame, what each tool said).

Exit status 0 when every flag tshark sets at least --min-count (10) times has precision and
recall >= --threshold (0.97) and the macro F1 >= --threshold; 1 otherwise; 2 on usage errors.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

FLAGS = [
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "lost_segment", "ack_lost_segment", "duplicate_ack", "keep_alive", "keep_alive_ack",
    "zero_window", "zero_window_probe", "zero_window_probe_ack", "window_update",
    "window_full", "reused_ports",
]

# netinspect note kinds -> tshark flag, for notes without a "wireshark" key.
KIND_TO_FLAG = {
    "retransmission": "retransmission",
    "syn_retransmission": "retransmission",
    "fast_retransmission": "fast_retransmission",
    "spurious_retransmission": "spurious_retransmission",
    "out_of_order": "out_of_order",
    "lost_segment": "lost_segment",
    "ack_lost_segment": "ack_lost_segment",
    "duplicate_ack": "duplicate_ack",
    "keep_alive": "keep_alive",
    "keep_alive_ack": "keep_alive_ack",
    "zero_window": "zero_window",
    "zero_window_probe": "zero_window_probe",
    "zero_window_probe_ack": "zero_window_probe_ack",
    "window_update": "window_update",
    "window_full": "window_full",
    "reused_ports": "reused_ports",
}

CONFIG_DIR = tempfile.mkdtemp(prefix="tcp-analysis-compare-")


def captures(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                for f in sorted(files):
                    if f.endswith((".pcap", ".pcapng", ".cap")):
                        out.append(os.path.join(root, f))
        elif os.path.isfile(p):
            out.append(p)
        else:
            print(f"tcp_analysis_compare: no such file or directory: {p}", file=sys.stderr)
            sys.exit(2)
    return sorted(out)


def tshark_flags(path):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-e", "frame.number"]
    for f in FLAGS:
        cmd += ["-e", "tcp.analysis." + f]
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=CONFIG_DIR)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    frames = {}
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        if not cols or not cols[0].isdigit():
            continue
        set_ = {FLAGS[i] for i, v in enumerate(cols[1:]) if i < len(FLAGS) and v != ""}
        if set_:
            frames[int(cols[0])] = set_
    return frames


def netinspect_flags(path, binary, timeout):
    try:
        r = subprocess.run([binary, "-r", path, "--json"], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "hang"
    frames = {}
    for line in r.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if "frame" not in o:
            continue
        s = set()
        for n in o.get("notes", []):
            ws = n.get("wireshark")
            if isinstance(ws, str) and ws.startswith("tcp.analysis."):
                s.add(ws[len("tcp.analysis."):])
            elif ws is None and n.get("kind") in KIND_TO_FLAG:
                s.add(KIND_TO_FLAG[n["kind"]])
        if s & {"fast_retransmission", "spurious_retransmission"}:
            # tshark adds tcp.analysis.retransmission to every fast and spurious retransmission.
            s.add("retransmission")
        if s:
            frames[o["frame"]] = s
    return frames, None


def compare(path, binary, timeout):
    t = tshark_flags(path)
    n, err = netinspect_flags(path, binary, timeout)
    return path, t, n, err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--netinspect", default=os.environ.get("NETINSPECT", ".build/release/netinspect"))
    ap.add_argument("-n", type=int, default=5, help="disagreements listed per flag")
    ap.add_argument("--min-count", type=int, default=10)
    ap.add_argument("--threshold", type=float, default=0.97)
    ap.add_argument("--diffs-json", help="write every disagreement as JSON Lines")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("-j", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args()
    files = captures(a.paths)
    if not files:
        print("tcp_analysis_compare: no captures", file=sys.stderr)
        return 2
    tp = collections.Counter(); fp = collections.Counter(); fn = collections.Counter()
    tcount = collections.Counter(); ncount = collections.Counter()
    diffs = collections.defaultdict(list)
    problems = []
    with concurrent.futures.ThreadPoolExecutor(a.j) as ex:
        for path, t, n, err in ex.map(lambda p: compare(p, a.netinspect, a.timeout), files):
            if err:
                problems.append((path, err))
                continue
            for frame in sorted(set(t) | set(n)):
                ts, ns = t.get(frame, set()), n.get(frame, set())
                for f in ts: tcount[f] += 1
                for f in ns: ncount[f] += 1
                for f in ts & ns: tp[f] += 1
                for f in ns - ts:
                    fp[f] += 1
                    diffs[f].append((path, frame, "netinspect only", sorted(ns), sorted(ts)))
                for f in ts - ns:
                    fn[f] += 1
                    diffs[f].append((path, frame, "tshark only", sorted(ns), sorted(ts)))
    print(f"{'flag':<26}{'tshark':>7}{'netinsp':>8}{'tp':>6}{'fp':>5}{'fn':>5}{'prec':>7}{'recall':>7}{'f1':>7}")
    ok = True
    f1s = []
    for f in FLAGS:
        if tcount[f] == 0 and ncount[f] == 0:
            continue
        p = tp[f] / (tp[f] + fp[f]) if tp[f] + fp[f] else (1.0 if tcount[f] == 0 else 0.0)
        r = tp[f] / (tp[f] + fn[f]) if tp[f] + fn[f] else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        f1s.append(f1)
        mark = ""
        if tcount[f] >= a.min_count and (p < a.threshold or r < a.threshold):
            ok = False
            mark = "  <"
        print(f"{f:<26}{tcount[f]:>7}{ncount[f]:>8}{tp[f]:>6}{fp[f]:>5}{fn[f]:>5}{p:>7.3f}{r:>7.3f}{f1:>7.3f}{mark}")
    macro = sum(f1s) / len(f1s) if f1s else 1.0
    if macro < a.threshold:
        ok = False
    print(f"macro F1 {macro:.3f} over {len(f1s)} flags, {len(files)} captures")
    for path, err in problems:
        print(f"{path}: netinspect {err}")
        ok = False
    for f in FLAGS:
        for d in diffs[f][:a.n]:
            print(f"  {f}: {os.path.basename(d[0])} #{d[1]} {d[2]} (netinspect {d[3]}, tshark {d[4]})")
    if a.diffs_json:
        with open(a.diffs_json, "w") as out:
            for f in FLAGS:
                for d in diffs[f]:
                    out.write(json.dumps({"flag": f, "file": d[0], "frame": d[1], "side": d[2],
                                          "netinspect": d[3], "tshark": d[4]}) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
