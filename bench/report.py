#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py OUTDIR RESULTS.md: the tables and plots of bench/run.

Reads OUTDIR/data/s<N>.tsv (scenario, group, variant, metric, value; one line per run and
metric), prints one markdown table per scenario with every figure as median [min-max] over the
runs, draws PNG plots with gnuplot into OUTDIR/plots and the directory of RESULTS.md, and writes
RESULTS.md. Figures only: nothing is asserted.
"""
import math
import os
import shutil
import subprocess
import sys
from collections import OrderedDict

OUT, RESULTS = sys.argv[1], sys.argv[2]
DATA = os.path.join(OUT, "data")
PLOTS = os.path.join(OUT, "plots")
RESDIR = os.path.dirname(os.path.abspath(RESULTS))
os.makedirs(PLOTS, exist_ok=True)

TITLES = {
    "1": "1. Throughput on loopback (127.0.0.2 -> 127.0.0.3)",
    "2": "2. Ping-pong latency on loopback, 1 socket",
    "3": "3. Against the kernel: RDS/TCP between two netns in the kvm-rds guest (TCG-emulated)",
    "4": "4. Multipath pays off: every TCP flow capped, 16 sockets",
    "5": "5. Head-of-line blocking: 1% random drop on one path, 16 sockets ping-pong 64 B",
    "6": "6. Scale and cost",
}


def read(name, default=""):
    try:
        with open(os.path.join(DATA, name)) as f:
            return f.read().strip()
    except OSError:
        return default


def load(sc):
    """{(group, variant): {metric: [values]}} in first-seen order, and the metric order."""
    rows, metrics = OrderedDict(), []
    path = os.path.join(DATA, "s%s.tsv" % sc)
    if not os.path.exists(path):
        return rows, metrics
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5 or parts[4] == "":
                continue
            _, group, variant, metric, value = parts
            try:
                v = float(value)
            except ValueError:
                continue
            rows.setdefault((group, variant), OrderedDict()).setdefault(metric, []).append(v)
            if metric not in metrics:
                metrics.append(metric)
    return rows, metrics


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def num(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    a = abs(x)
    if a >= 1e6:
        return "{:,.0f}".format(x).replace(",", " ")
    if a >= 100:
        return "{:,.0f}".format(x).replace(",", " ")
    if a >= 10:
        return "%.1f" % x
    return "%.2f" % x


def cell(v):
    if not v:
        return "-"
    return "%s [%s–%s]" % (num(median(v)), num(min(v)), num(max(v)))


def med(rows, key, metric):
    v = rows.get(key, {}).get(metric)
    return median(v) if v else None


def ratio(a, b):
    return a / b if a is not None and b else None


def table(rows, metrics, group_name, extra=None):
    """Markdown table; extra: (title, fn(group, variant) -> str) columns."""
    extra = extra or []
    head = [group_name, "variant"] + metrics + [t for t, _ in extra]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (group, variant), m in rows.items():
        cells = [group, variant] + [cell(m.get(k)) for k in metrics]
        cells += [fn(group, variant) for _, fn in extra]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def runs_of(rows):
    n = [len(v) for m in rows.values() for v in m.values()]
    return (min(n), max(n)) if n else (0, 0)


def gnuplot(script, name):
    png = os.path.join(PLOTS, name)
    gp = os.path.join(PLOTS, name.replace(".png", ".gp"))
    with open(gp, "w") as f:
        f.write('set terminal pngcairo size 1000,520 font "sans,10" noenhanced\n' if cairo else
                'set terminal png size 1000,520 noenhanced\n')
        f.write('set output "%s"\n' % png)
        f.write(script)
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        print("gnuplot %s: %s" % (name, r.stderr.strip()), file=sys.stderr)
        return None
    shutil.copy(png, os.path.join(RESDIR, name))
    return name


def q(text):
    """A gnuplot string literal."""
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def has_cairo():
    try:
        r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        return "pngcairo" in (r.stdout + r.stderr)
    except OSError:
        return False


cairo = has_cairo()


def bars(name, title, ylabel, groups, variants, get, logscale=True):
    """Clustered bars with min-max error bars; get(group, variant) -> list of values."""
    dat = os.path.join(PLOTS, name.replace(".png", ".dat"))
    with open(dat, "w") as f:
        for g in groups:
            cols = []
            for v in variants:
                vals = get(g, v)
                cols += ["%g %g %g" % (median(vals), min(vals), max(vals))] if vals else ["NaN NaN NaN"]
            f.write('"%s" %s\n' % (g, " ".join(cols)))
    plots = []
    for i, v in enumerate(variants):
        c = 2 + 3 * i
        plots.append("%s using %d:%d:%d%s title %s" % (q(dat), c, c + 1, c + 2,
                                                        ":xtic(1)" if i == 0 else "", q(v)))
    script = "set title %s\nset ylabel %s\n" % (q(title), q(ylabel))
    script += "set style data histogram\nset style histogram errorbars gap 1 lw 1\n"
    script += "set style fill solid 0.8 border -1\nset key top left\nset grid ytics\n"
    script += "set xtics rotate by -20\nset bmargin 7\nset rmargin 18\n"
    script += "set yrange [%s:*]\n" % ("*" if logscale else "0")
    if logscale:
        script += "set logscale y\n"
    script += "plot " + ", ".join(plots) + "\n"
    return gnuplot(script, name)


md = []
printed = []
headline = []


def emit(text):
    md.append(text)
    printed.append(text)


emit("# mprds benchmarks\n")
emit(read("machine"))
busy = read("busy").split()
if busy:
    emit("\n**Another session's QEMU guest was running on this machine's 2 CPUs when scenario(s) "
         "%s started**: those figures carry its load (the variants of one table shared it "
         "alike)." % ", ".join(busy))
emit("\nEvery figure is the median [min–max] of the runs (%s). Variants of one table ran "
     "interleaved in the same session, side by side, on a machine shared with other work: "
     "compare within a table, not across runs. `make bench` prints these figures and never "
     "asserts them. Raw logs: `build/bench/logs/`." % ("see each table"))

# ---- 1 ----
rows, metrics = load("1")
if rows:
    lo, hi = runs_of(rows)
    emit("\n## " + TITLES["1"] + "\n")
    emit("mprds-stress (rds-stress-like: every task keeps `depth` requests outstanding to every "
         "task of the other instance, both ways, 64-byte acks) against `bench/tcp_stream`, the "
         "same traffic over plain TCP with as many connections as mprds's 8 paths use "
         "(min(sockets, 8); requests in flight matched; one sendmsg per burst). messages/s = "
         "requests delivered per second, both directions (what the active instance received + "
         "its own requests acknowledged); MB/s = that × the request size. %d runs of %s s "
         "(1 MiB with 16 sockets: 3 times as long, as 256 MiB are in flight each way and a 64-byte "
         "ack waits behind them, so a short run measures the start only).\n" % (lo, read("secs", "1")))

    def tcp_key(group):
        for (g, v) in rows:
            if g == group and v.startswith("raw TCP"):
                return (g, v)
        return None

    def vs_tcp(group, variant):
        k = tcp_key(group)
        r = ratio(med(rows, (group, variant), "MB/s"), med(rows, k, "MB/s")) if k else None
        return "%.2f" % r if r else "-"

    def vs_1p(group, variant):
        if variant != "mprds 8 paths":
            return ""
        r = ratio(med(rows, (group, variant), "MB/s"), med(rows, (group, "mprds 1 path"), "MB/s"))
        return "%.2f" % r if r else "-"

    emit(table(rows, metrics, "size, sockets",
               [("÷ raw TCP", vs_tcp), ("8 paths ÷ 1 path", vs_1p)]))
    groups = list(OrderedDict.fromkeys(g for g, _ in rows))
    variants = list(OrderedDict.fromkeys(v for _, v in rows))
    # one bar colour per kind, whatever the TCP connection count in its label
    kinds = ["mprds 8 paths", "mprds 1 path", "raw TCP"]

    def get1(g, kind):
        for (gg, v), m in rows.items():
            if gg == g and v.startswith(kind):
                return m.get("MB/s")
        return None

    p = bars("throughput.png", "Throughput on loopback (MB/s of requests delivered, both directions)",
             "MB/s", groups, kinds, get1)
    if p:
        emit("\n![throughput](%s)\n" % p)
    r8 = [ratio(med(rows, (g, "mprds 8 paths"), "MB/s"), med(rows, tcp_key(g), "MB/s"))
          for g in groups if tcp_key(g)]
    r8 = [x for x in r8 if x]
    if r8:
        gm = math.exp(sum(math.log(x) for x in r8) / len(r8))
        headline.append("mprds (8 paths) ÷ raw TCP, loopback throughput: %.2f geometric mean over "
                        "%d size×socket points (range %.2f–%.2f)" % (gm, len(r8), min(r8), max(r8)))
    r81 = [ratio(med(rows, (g, "mprds 8 paths"), "MB/s"), med(rows, (g, "mprds 1 path"), "MB/s"))
           for g in groups if g.endswith("16 sock")]
    r81 = [x for x in r81 if x]
    if r81:
        headline.append("8 paths ÷ 1 path on uncapped loopback, 16 sockets: %s (CPU-bound: "
                        "2 cores)" % ", ".join("%.2f" % x for x in r81))

# ---- 2 ----
rows, metrics = load("2")
if rows:
    lo, hi = runs_of(rows)
    emit("\n## " + TITLES["2"] + "\n")
    emit("`bench/pingpong`: one socket, one message in flight, the server echoes it; p50/p99/p99.9 "
         "of the round trip in µs (after 0.5 s of warm-up), %d runs of %s s.\n" % (lo, read("secs", "1")))

    def vs_tcp2(group, variant):
        r = ratio(med(rows, (group, variant), "p50 us"), med(rows, (group, "raw TCP x1"), "p50 us"))
        return "%.2f" % r if r else "-"

    emit(table(rows, metrics, "size", [("p50 ÷ raw TCP (medians)", vs_tcp2)]))
    groups = list(OrderedDict.fromkeys(g for g, _ in rows))
    variants = list(OrderedDict.fromkeys(v for _, v in rows))
    pg = [(g, m) for g in groups for m in ("p50 us", "p99 us", "p99.9 us")]
    p = bars("latency.png", "Ping-pong round trip on loopback (µs, lower is better)", "µs",
             ["%s %s" % (g, m.split()[0]) for g, m in pg], variants,
             lambda gm, v: rows.get((gm.rsplit(" ", 1)[0], v), {}).get(gm.rsplit(" ", 1)[1] + " us"))
    if p:
        emit("\n![latency](%s)\n" % p)
    for g in groups:
        same = rows.get((g, "mprds 8 paths"), {}).get("p50 ÷ raw TCP, same run")
        if same:
            headline.append("mprds ÷ raw TCP, ping-pong p50 round trip %s: %.1f× (median of the "
                            "per-run ratios, range %.1f–%.1f; %s vs %s µs)" % (
                g, median(same), min(same), max(same),
                num(med(rows, (g, "mprds 8 paths"), "p50 us")),
                num(med(rows, (g, "raw TCP x1"), "p50 us"))))

# ---- 3 ----
rows, metrics = load("3")
emit("\n## " + TITLES["3"] + "\n")
if rows:
    lo, hi = runs_of(rows)
    emit("Inside the kvm-rds guest (kernel %s, %s), between netns a (198.18.0.1) and b "
         "(198.18.0.2) over their veth: the kernel's own RDS sockets (mprds-stress and "
         "bench/pingpong without preload, written to `<linux/rds.h>`), then mprds in the same "
         "guest on the same veth, and plain TCP. The kernel's rds_tcp listens on 16385 in every "
         "netns there, so the mprds runs use **MPRDS_TCP_PORT=16386**. The guest is emulated "
         "by QEMU TCG (no hardware virtualisation here): these are functional-baseline "
         "**ratios**, not absolute speeds. %d runs of %s s.\n"
         % (read("guest-uname", "?"), read("guest-cpu", "?"), lo, read("secs", "1")))

    def vs_k(group, variant):
        m = "MB/s" if group.startswith("throughput") else "p50 us"
        r = ratio(med(rows, (group, variant), m), med(rows, (group, "kernel RDS/TCP"), m))
        return "%.2f" % r if r else "-"

    for kind, ms in (("throughput", ["msgs/s", "MB/s"]),
                     ("latency", ["p50 us", "p99 us", "p99.9 us", "round trips/s"])):
        sub = OrderedDict((k, m) for k, m in rows.items() if k[0].startswith(kind))
        if sub:
            emit(table(sub, [m for m in ms if m in metrics], kind,
                       [("÷ kernel (%s)" % ("MB/s" if kind == "throughput" else "p50"), vs_k)]))
            emit("")
    groups = list(OrderedDict.fromkeys(g for g, _ in rows))
    variants = list(OrderedDict.fromkeys(v for _, v in rows))

    def rel(g, v):
        if g.startswith("throughput"):
            k = rows.get((g, "kernel RDS/TCP"), {}).get("MB/s")
            x = rows.get((g, v), {}).get("MB/s")
            return [a / median(k) for a in x] if k and x else None
        k = rows.get((g, "kernel RDS/TCP"), {}).get("p50 us")
        x = rows.get((g, v), {}).get("p50 us")
        return [median(k) / a for a in x] if k and x else None

    p = bars("kernel.png", "Relative to the kernel's RDS/TCP in the TCG guest (higher is better: "
             "MB/s ratio, or inverse p50 ratio)", "× kernel", groups, variants, rel, logscale=False)
    if p:
        emit("\n![against the kernel](%s)\n" % p)
    for g in groups:
        m = "MB/s" if g.startswith("throughput") else "p50 us"
        r = ratio(med(rows, (g, "mprds 8 paths"), m), med(rows, (g, "kernel RDS/TCP"), m))
        if r:
            headline.append("mprds ÷ kernel RDS/TCP (TCG guest), %s: %.2f (%s)" % (
                g, r, "throughput, higher is better" if m == "MB/s" else "p50 round trip, lower is better"))
else:
    emit("Not measured in this run (see the log of bench/run: no guest, or another qemu held "
         "the machine).\n")

def cap(rate):
    """MB/s both directions of one path capped at rate (tc units: kbit, mbit, gbit)."""
    units = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bit": 1}
    for u, f in units.items():
        if rate.endswith(u):
            try:
                return 2 * float(rate[:-len(u)]) * f / 8 / 1e6
            except ValueError:
                return 0
    return 0


# ---- 4 ----
rows, metrics = load("4")
if rows:
    lo, hi = runs_of(rows)
    rate = read("rate", "?")
    emit("\n## " + TITLES["4"] + "\n")
    emit("Two network namespaces joined by a veth (198.18.20.1 and .2). Path i of a pair "
         "connects from a source port whose low 3 bits are i (spec/wire.md §1), so an htb class "
         "per path index, selected by a u32 filter on the TCP source port (destination port on "
         "the way back), caps every TCP flow at **%s** in each direction (%.3f MB/s). 16 "
         "sockets each side, bound to ports 6000-6015, which conn_pick_path spreads 2 per path "
         "over 8 paths. *one-way stream*: `bench/rds_stream`, every socket keeps its send "
         "buffer full of 64 KiB messages to its peer socket, MB/s delivered (after 1 s of "
         "warm-up); ideal = paths × the cap. *mprds-stress both ways*: 8 KiB requests, depth "
         "1 to every peer socket, 64-byte acks, MB/s of requests delivered in both directions; "
         "ideal = 2 × paths × the cap. %d runs of %s s.\n"
         % (rate, cap(rate) / 2, lo, max(3, int(read("secs", "1")))))
    variants = list(OrderedDict.fromkeys(v for _, v in rows))

    def vs1(group, variant):
        r = ratio(med(rows, (group, variant), "MB/s"), med(rows, ("1", variant), "MB/s"))
        return "%.2f" % r if r else "-"

    def of_cap(group, variant):
        c = cap(rate) / 2 * int(group) * (2 if "both" in variant else 1)
        r = ratio(med(rows, (group, variant), "MB/s"), c)
        return "%.0f%%" % (100 * r) if r else "-"

    emit(table(rows, [m for m in ("MB/s", "msgs/s") if m in metrics], "paths",
               [("÷ 1 path (ideal: paths)", vs1), ("of the caps", of_cap)]))
    dat = os.path.join(PLOTS, "multipath.dat")
    groups = list(OrderedDict.fromkeys(g for g, _ in rows))
    with open(dat, "w") as f:
        for g in groups:
            cols = [g]
            for v in variants:
                x = rows.get((g, v), {}).get("MB/s")
                cols += ["%g %g %g" % (median(x), min(x), max(x))] if x else ["NaN NaN NaN"]
            cols.append("%g" % (cap(rate) / 2 * int(g)))
            f.write(" ".join(cols) + "\n")
    lines = []
    for i, v in enumerate(variants):
        c = 2 + 3 * i
        lines.append("%s using 1:%d:%d:%d with yerrorlines lw 2 title %s"
                     % (q(dat) if i == 0 else "''", c, c + 1, c + 2, q(v)))
    c = 2 + 3 * len(variants)
    lines.append("'' using 1:%d with lines dt 2 lc rgb 'black' title %s"
                 % (c, q("one direction at the cap: paths x " + rate)))
    lines.append("'' using 1:(2*$%d) with lines dt 3 lc rgb 'black' title %s"
                 % (c, q("both directions at the cap")))
    p = gnuplot("set title %s\nset xlabel 'paths (MPRDS_NPATHS)'\nset ylabel 'MB/s delivered'\n"
                "set grid\nset key top left\nset xtics (1,2,4,8)\nset yrange [0:*]\n"
                "plot %s\n" % (q("16 sockets, every TCP flow capped at " + rate), ", ".join(lines)),
                "multipath.png")
    if p:
        emit("\n![multipath](%s)\n" % p)
    for v in variants:
        r = ratio(med(rows, ("8", v), "MB/s"), med(rows, ("1", v), "MB/s"))
        if r:
            headline.append("8 paths ÷ 1 path, every TCP flow capped at %s, 16 sockets, %s: %.2f "
                            "(ideal 8)" % (rate, v, r))

# ---- 5 ----
rows, metrics = load("5")
if rows:
    lo, hi = runs_of(rows)
    emit("\n## " + TITLES["5"] + "\n")
    emit("Two network namespaces as in 4, no rate cap. 16 RDS sockets ping-pong 64 B (one in "
         "flight each); nftables drops 1%% of the packets of one path (`tcp sport & 7 == K "
         "numgen random mod 100 < 1 drop`, both directions). A socket's path is the hash of its "
         "port (conn_pick_path); each figure is the median over the sockets of that class of "
         "their own percentile, then median [min–max] over %d runs of %s s. With 1 path every "
         "socket shares the lossy connection. How to read it: a path that carries only a couple "
         "of ping-pong sockets has one or two packets in flight, so a drop there is repaired by "
         "TCP's retransmission timer or tail-loss probe (≥ 200 ms with one packet out); a "
         "connection shared by 16 sockets has packets behind the lost one and repairs it by "
         "fast retransmit within a round trip or two.\n" % (lo, max(3, int(read("secs", "1")))))
    emit(table(rows, metrics, "paths"))
    def short(g, v):
        return "%s: %s" % (g, v.replace("1% loss on path", "1% loss, path")
                           .replace(", sockets on the other paths", ", other paths")
                           .replace(", all sockets (one path)", "")
                           .replace(", sockets on path", ", sockets of path"))

    keys = {short(g, v): (g, v) for g, v in rows}
    p = bars("hol.png", "Round trip (µs) of 16 sockets ping-pong, 1% drop on one path", "µs",
             list(keys), ["p99", "p99.9"], lambda k, m: rows[keys[k]].get(m + " us"))
    if p:
        emit("\n![head-of-line blocking](%s)\n" % p)
    clean = med(rows, ("8 paths", "no loss, sockets on the other paths"), "p99 us")
    for (g, v) in rows:
        if v.startswith("1%") and ("other" in v or "all" in v):
            x = med(rows, (g, v), "p99 us")
            headline.append("p99 with 1%% loss on one path, %s, %s: %s µs (8 paths loss-free: %s µs)"
                            % (g, v.split(", ", 1)[1] if ", " in v else v, num(x), num(clean)))

# ---- 6 ----
rows, metrics = load("6")
if rows:
    emit("\n## " + TITLES["6"] + "\n")
    fail = read("scale-fail")
    scale = [(k, m) for k, m in rows.items() if not k[0].startswith("shim")]
    shim = [(k, m) for k, m in rows.items() if k[0].startswith("shim")]
    if fail:
        lines = fail.splitlines()
        want, hard = (lines[-1].split() + ["?", "?"])[:2]
        emit("**%s sockets in one process do not fit here**: each mprds socket holds 3 file "
             "descriptors (the application's, the shim's own dup of it, the engine's end of the "
             "socketpair) where the kernel needs 1, and this machine's hard RLIMIT_NOFILE is %s "
             "(not raisable without CAP_SYS_RESOURCE). The %s-socket attempt ended: `%s`. The "
             "largest round number that fits is measured instead.\n"
             % (want, hard, want, lines[0] if len(lines) > 1 else "EMFILE"))
    if scale:
        emit("`bench/rds_scale`: one client process with N RDS sockets on 127.0.0.2, socket i "
             "talking to 127.0.1.(i mod 64 + 1), served by 4 echo processes of 16 addresses "
             "each; one round = every socket sends 64 B and gets its echo; a first round sets "
             "up the 64 connections × 8 paths, then 10 rounds are timed. CPU = the client's "
             "user+system time (engine thread included) per message sent or received.\n")
        names = {"start_rss_kb": "RSS before the first socket (KiB)",
                 "sockets_rss_kb": "RSS after creating the sockets (KiB)",
                 "connected_rss_kb": "RSS with 64 peers connected (KiB)",
                 "end_rss_kb": "RSS after the rounds (KiB)", "vmhwm_kb": "peak RSS (KiB)",
                 "connected_threads": "threads", "connected_fds": "open fds",
                 "create_s": "time to create + bind the sockets (s)",
                 "cpu_us_per_msg": "CPU per message (µs)", "msgs_per_s": "messages/s"}
        out = ["| %s | median [min–max] |" % scale[0][0][0], "|---|---|"]
        for metric, vals in scale[0][1].items():
            out.append("| %s | %s |" % (names.get(metric, metric), cell(vals)))
        emit("\n".join(out))
    if shim:
        emit("\nThe shim's cost for a program that never uses RDS (`bench/shim_cost`, 1M calls "
             "each; socket+close 100k): ns per call without and with "
             "`LD_PRELOAD=libmprds.so`.\n")
        ops = list(OrderedDict.fromkeys(g for (g, _), _ in shim))
        out = ["| call | without | with LD_PRELOAD | difference (ns) |", "|---|---|---|---|"]
        for op in ops:
            a = rows.get((op, "without"), {})
            b = rows.get((op, "with LD_PRELOAD"), {})
            ma, mb = (a.get("ns/call") or a.get("threads")), (b.get("ns/call") or b.get("threads"))
            d = "%+.0f" % (median(mb) - median(ma)) if ma and mb and "threads" not in op else ""
            out.append("| %s | %s | %s | %s |" % (op.replace("shim: ", ""), cell(ma), cell(mb), d))
        emit("\n".join(out))
        emit("\n(threads: a program that never opens an RDS socket keeps its one thread; the "
             "engine starts with the first RDS socket.)")
        p = bars("shim.png", "Non-RDS calls with and without the shim (ns per call)", "ns",
                 [o.replace("shim: ", "") for o in ops if "threads" not in o],
                 ["without", "with LD_PRELOAD"],
                 lambda o, v: rows.get(("shim: " + o, v), {}).get("ns/call"), logscale=False)
        if p:
            emit("\n![shim cost](%s)\n" % p)

if headline:
    hl = ["\n## Headline ratios\n"] + ["- " + h for h in headline]
    md[2:2] = hl
    printed.extend(hl)

elapsed = read("elapsed")
if elapsed:
    emit("\n_bench/run took %s s._" % elapsed)
print("\n".join(printed))
with open(RESULTS, "w") as f:
    f.write("\n".join(md) + "\n")
print("\nwrote %s and the plots in %s" % (RESULTS, PLOTS), file=sys.stderr)
