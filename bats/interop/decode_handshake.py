#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""decode_handshake.py --ours ADDR --kernel ADDR --sport P --dport P --len N PCAP

Decodes the RDS/TCP streams in a tcpdump capture (classic pcap, Ethernet) between our
address and the kernel's, and checks them against wire.md (§2 header, §4 extensions, §6
probe/pong, §10 congestion map, §15 worked examples):

  (a) our probe ping: first message on our path 0, seq 1, sport 1, dport 0, len 0, flags 0,
      extension area starting with NPATHS=8 (05 00 08);
  (b) the kernel's probe pong on path 0: sport 0, dport 1, len 0, NPATHS=8 (the kernel's
      own maximum), as a <=6.19 kernel sends it (05 00 08, rest zero) or a 7.0+ one;
  (c) our data header: seq = next on its path, sport/dport/len as given, flags 0, ack,
      credit, padding, csum and extension area zero; the payload follows (pattern of
      bats/progs/rds_common.h).
Also: per path and direction the sequence numbers run 1, 2, 3, ... (cong maps carry 0).
With --kernel-2026 (a kernel with the 2026 series, 7.0+), also:
  (d) the kernel's own probe ping on path 0 carries NPATHS=8, a nonzero GEN_NUM and
      SPORT_IDX (05 00 08 06 g g g g 08, rest zero), and its probe pong carries the same
      three with the kernel's own GEN_NUM (the one of its probe), not ours: a pong does not
      echo the prober's GEN_NUM (wire.md §6, §15 b); our pong carries ours;
  (e) our path 0 and the kernel's own connections come from a source port = 0 (mod 8).
Prints every message and the three headers in the layout of wire.md §15 (each GEN_NUM
labelled with whose it is); exits 1 if a check fails.
"""
import argparse
import ipaddress
import struct
import sys

HDR = 48
PORT = 16385


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise SystemExit(f"{path}: too short for a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file (magic {magic.hex()})")
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, want Ethernet (1)")
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + caplen]
        off += caplen


def tcp_segments(path):
    """Yields (src, sport, dst, dport, seq, flags, payload) of IPv4 TCP packets."""
    for frame in read_pcap(path):
        if len(frame) < 14:
            continue
        etype = struct.unpack(">H", frame[12:14])[0]
        ip = frame[14:]
        if etype == 0x8100 and len(frame) >= 18:
            etype = struct.unpack(">H", frame[16:18])[0]
            ip = frame[18:]
        if etype != 0x0800 or len(ip) < 20:
            continue
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6:
            continue
        src = str(ipaddress.IPv4Address(ip[12:16]))
        dst = str(ipaddress.IPv4Address(ip[16:20]))
        tcp = ip[ihl:total]
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        yield src, sport, dst, dport, seq, flags, tcp[doff:]


class Stream:
    def __init__(self, key, order):
        self.key = key
        self.order = order  # index of its SYN in the capture
        self.isn = None
        self.segs = {}

    def add(self, seq, flags, payload):
        if flags & 0x02:  # SYN
            self.isn = seq
            return
        if self.isn is None or not payload:
            return
        rel = (seq - self.isn - 1) & 0xFFFFFFFF
        if rel not in self.segs or len(self.segs[rel]) < len(payload):
            self.segs[rel] = payload

    def data(self):
        out = bytearray()
        for rel in sorted(self.segs):
            seg = self.segs[rel]
            if rel > len(out):
                break  # a hole: stop at it
            out += seg[len(out) - rel:]
        return bytes(out)


def parse_rds(data):
    msgs, off = [], 0
    while off + HDR <= len(data):
        h = data[off:off + HDR]
        seq, ack, hlen, sport, dport, flags, credit, pad, csum = struct.unpack(
            ">QQIHHBB4sH", h[:32])
        ext = h[32:48]
        payload = data[off + HDR:off + HDR + hlen]
        msgs.append(dict(seq=seq, ack=ack, len=hlen, sport=sport, dport=dport, flags=flags,
                         credit=credit, pad=pad, csum=csum, ext=ext, raw=h,
                         payload=payload, complete=len(payload) == hlen))
        off += HDR + hlen
    return msgs, len(data) - off


def parse_exts(ext):
    sizes = {1: 4, 2: 4, 3: 8, 4: 8, 5: 2, 6: 4, 8: 1}
    names = {1: "VERSION", 2: "RDMA", 3: "RDMA_DEST", 4: "RDMA_BYTES", 5: "NPATHS",
             6: "GEN_NUM", 8: "SPORT_IDX"}
    out, i = [], 0
    while i < len(ext):
        t = ext[i]
        if t == 0 or t >= 16:
            break
        n = sizes.get(t, 0)
        if i + 1 + n > len(ext):
            break
        out.append((names.get(t, f"type{t}"), int.from_bytes(ext[i + 1:i + 1 + n], "big")))
        i += 1 + n
    return out


def hexdump(raw, notes):
    lines = []
    for row in range(0, len(raw), 16):
        b = raw[row:row + 16]
        hx = " ".join(f"{x:02x}" for x in b[:8]) + "  " + " ".join(f"{x:02x}" for x in b[8:])
        lines.append(f"    {row:04x}: {hx}   {notes[row // 16] if row // 16 < len(notes) else ''}")
    return "\n".join(lines)


GENS = {}  # GEN_NUM -> whose ("ours", "the kernel's"), filled from the probes


def describe(m):
    s = (f"seq={m['seq']} len={m['len']} sport={m['sport']} dport={m['dport']} "
         f"flags=0x{m['flags']:02x}")
    ex = parse_exts(m["ext"])
    if ex:
        s += " ext=" + ",".join(f"{n}={v}" + (f" ({GENS[v]})" if n == "GEN_NUM" and v in GENS
                                               else "") for n, v in ex)
    if m["flags"] == 0x01:
        s += " (congestion map)"
    elif m["sport"] == 1 and m["dport"] == 0:
        s += " (probe ping)"
    elif m["sport"] == 0 and m["dport"] == 1:
        s += " (probe pong)"
    elif m["dport"] == 0:
        s += " (ping)"
    elif m["sport"] == 0:
        s += " (pong)"
    return s


def pattern(size):
    return bytes(((j * 7 + size * 13 + 1) & 0xFF) for j in range(size))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--sport", type=int)
    ap.add_argument("--dport", type=int)
    ap.add_argument("--len", type=int)
    ap.add_argument("--seqs", action="store_true",
                    help="only list, one line per connection and direction: CLIENT_PORT "
                         "SENDER(ours|kernel) then SEQ[R]:SPORT>DPORT per message (R: "
                         "retransmitted; cong maps left out)")
    ap.add_argument("--kernel-2026", action="store_true",
                    help="the kernel has the 2026 series (7.0+): check its probe and pong too")
    ap.add_argument("pcap")
    a = ap.parse_args()

    streams, order = {}, 0
    for src, sp, dst, dp, seq, flags, payload in tcp_segments(a.pcap):
        if {src, dst} != {a.ours, a.kernel} or PORT not in (sp, dp):
            continue
        key = (src, sp, dst, dp)
        if key not in streams:
            streams[key] = Stream(key, order)
            order += 1
        streams[key].add(seq, flags, payload)

    if a.seqs:
        for key, st in sorted(streams.items(), key=lambda kv: kv[1].order):
            if st.isn is None:
                continue
            msgs, _ = parse_rds(st.data())
            cport = key[1] if key[3] == PORT else key[3]
            who = "ours" if key[0] == a.ours else "kernel"
            print(cport, who, *(f"{m['seq']}{'R' if m['flags'] & 0x04 else ''}:"
                                f"{m['sport']}>{m['dport']}" for m in msgs if m["flags"] != 0x01))
        return 0
    if a.sport is None or a.dport is None or a.len is None:
        ap.error("--sport, --dport and --len are needed (or --seqs)")

    fails = []

    def check(cond, what):
        print(f"  [{'ok' if cond else 'FAIL'}] {what}")
        if not cond:
            fails.append(what)

    # A TCP connection is identified by its client end: (client ip, client port).
    conns = {}
    for (src, sp, dst, dp), st in streams.items():
        if dp == PORT:
            conns.setdefault((src, sp, dst), {})["c2s"] = st
        elif sp == PORT:
            conns.setdefault((dst, dp, src), {})["s2c"] = st
    # Whose GEN_NUM is whose: the one in each side's probe pings (sport 1, dport 0).
    for (src, sp, dst, dp), st in streams.items():
        if st.isn is None:
            continue
        for m in parse_rds(st.data())[0]:
            if m["sport"] == 1 and m["dport"] == 0 and m["flags"] != 0x01:
                for n, v in parse_exts(m["ext"]):
                    if n == "GEN_NUM":
                        GENS.setdefault(v, "ours" if src == a.ours else "the kernel's")
    print(f"capture {a.pcap}: {len(conns)} TCP connections on port {PORT} between "
          f"{a.ours} and {a.kernel}")

    ours_to_k, k_to_ours = {}, {}  # conn -> messages
    for ck, d in sorted(conns.items(), key=lambda kv: min(s.order for s in kv[1].values())):
        client, cport, server = ck
        for dirn, st in d.items():
            if st.isn is None:
                print(f"  connection {client}:{cport} -> {server}:{PORT}: SYN not captured")
                continue
            msgs, rest = parse_rds(st.data())
            sender = st.key[0]
            (ours_to_k if sender == a.ours else k_to_ours)[ck] = msgs
            print(f"  {client}:{cport} -> {server}:{PORT} [{dirn}] {sender} sends "
                  f"{len(msgs)} messages" + (f", {rest} trailing bytes" if rest else ""))
            for m in msgs[:12]:
                print(f"      {describe(m)}")
            if len(msgs) > 12:
                print(f"      ... {len(msgs) - 12} more")

    # Path 0 = the connection that carries our probe ping (sport 1, dport 0).
    probe = p0 = None
    for ck, msgs in ours_to_k.items():
        for m in msgs:
            if m["sport"] == 1 and m["dport"] == 0 and m["flags"] != 0x01:
                probe, p0 = m, ck
                break
        if probe:
            break

    print("\n(a) our probe ping (wire.md §15 a)")
    check(probe is not None, "a probe ping (sport 1, dport 0) from us")
    if probe:
        first = [m for m in ours_to_k[p0] if m["flags"] != 0x01][0]
        print(hexdump(probe["raw"], ["seq, ack", "len sport dport flags credit pad csum",
                                     "extensions"]))
        check(first is probe, "it is the first message (other than a cong map) on its connection (path 0)")
        check(probe["seq"] == 1, f"seq 1 (got {probe['seq']})")
        check(probe["ack"] == 0 and probe["len"] == 0, "ack 0, len 0")
        check(probe["flags"] == 0 and probe["credit"] == 0 and probe["pad"] == b"\0" * 4
              and probe["csum"] == 0, "flags, credit, padding, csum 0")
        ex = parse_exts(probe["ext"])
        check(probe["ext"][:3] == b"\x05\x00\x08", "extensions start with NPATHS=8 (05 00 08)")
        names = [n for n, _ in ex]
        used = 3 + sum({"GEN_NUM": 5, "SPORT_IDX": 2}.get(n, 0) for n in names[1:])
        check(names in (["NPATHS"], ["NPATHS", "GEN_NUM"], ["NPATHS", "GEN_NUM", "SPORT_IDX"])
              and probe["ext"][used:] == b"\0" * (16 - used),
              "extension area: NPATHS, then optionally GEN_NUM (nonzero) and SPORT_IDX, "
              "rest zero (wire.md §4)")
        if "GEN_NUM" in names:
            check(dict(ex)["GEN_NUM"] != 0, "GEN_NUM nonzero")
        style = {1: "<=6.19 kernel (NPATHS only)",
                 2: "NPATHS + GEN_NUM (no SPORT_IDX: neither the <=6.19 nor the 7.0+ kernel "
                    "form; both parse it, wire.md §4)",
                 3: "7.0+ kernel (NPATHS, GEN_NUM, SPORT_IDX)"}.get(len(names), "other")
        print(f"      style: {style}")

    print("\n(b) the kernel's probe pong (wire.md §15 b)")
    pong = None
    if p0 in k_to_ours:
        for m in k_to_ours[p0]:
            if m["sport"] == 0 and m["dport"] == 1 and m["flags"] != 0x01:
                pong = m
                break
    check(pong is not None, "a probe pong (sport 0, dport 1) from the kernel on path 0")
    if pong:
        print(hexdump(pong["raw"], ["seq, ack", "len sport dport flags credit pad csum",
                                    "extensions"]))
        check(pong["len"] == 0 and pong["ack"] == 0 and pong["flags"] == 0, "len 0, ack 0, flags 0")
        check(pong["ext"][:3] == b"\x05\x00\x08", "NPATHS=8 (the kernel's own maximum)")
        legacy = pong["ext"] == b"\x05\x00\x08" + b"\0" * 13
        print(f"      style: {'<=6.19 (NPATHS only, as wire.md §4 says for v4.10-v6.19)' if legacy else 'with more extensions: ' + str(parse_exts(pong['ext']))}")

    print("\n(c) our data header (wire.md §15 c)")
    data = dck = None
    for ck, msgs in ours_to_k.items():
        for m in msgs:
            if m["sport"] == a.sport and m["dport"] == a.dport:
                data, dck = m, ck
                break
        if data:
            break
    check(data is not None, f"a message {a.sport} -> {a.dport} from us")
    if data:
        print(hexdump(data["raw"] + data["payload"][:16],
                      ["seq, ack", "len sport dport flags credit pad csum", "extensions",
                       "payload"]))
        prior = [m for m in ours_to_k[dck] if m["flags"] != 0x01]
        idx = prior.index(data)
        check(data["seq"] == idx + 1,
              f"seq {data['seq']} = next on its connection ({'path 0' if dck == p0 else 'a lane'}, "
              f"{idx} earlier messages)")
        check(data["len"] == a.len, f"len {a.len}")
        check(data["ack"] == 0 and data["flags"] == 0 and data["credit"] == 0
              and data["pad"] == b"\0" * 4 and data["csum"] == 0,
              "ack, flags, credit, padding, csum 0")
        check(data["ext"] == b"\0" * 16, "extension area zero")
        check(data["complete"] and data["payload"] == pattern(a.len), "payload follows the header")

    if a.kernel_2026:
        print("\n(d) the kernel's own probe and its pong (2026 series, 7.0+)")
        kprobe = None
        if p0 in k_to_ours:
            for m in k_to_ours[p0]:
                if m["sport"] == 1 and m["dport"] == 0 and m["flags"] != 0x01:
                    kprobe = m
                    break
        check(kprobe is not None, "a probe ping (sport 1, dport 0) from the kernel on path 0")
        ours_gen = dict(parse_exts(probe["ext"])).get("GEN_NUM") if probe else None
        kgen = None
        if kprobe:
            print(hexdump(kprobe["raw"], ["seq, ack", "len sport dport flags credit pad csum",
                                          "extensions"]))
            kex = parse_exts(kprobe["ext"])
            kgen = dict(kex).get("GEN_NUM")
            check([n for n, _ in kex] == ["NPATHS", "GEN_NUM", "SPORT_IDX"]
                  and dict(kex)["NPATHS"] == 8 and kgen and dict(kex)["SPORT_IDX"] == 0
                  and kprobe["ext"][10:] == b"\0" * 6,
                  f"its extensions: NPATHS=8, GEN_NUM nonzero, SPORT_IDX, rest zero (got {kex})")
            print(f"      the kernel's GEN_NUM: {kgen} (0x{kgen or 0:08x}); ours: {ours_gen} "
                  f"(0x{ours_gen or 0:08x})")
            check(kgen != ours_gen, "the kernel's GEN_NUM is its own, not ours")
        if pong:
            pex = parse_exts(pong["ext"])
            check([n for n, _ in pex] == ["NPATHS", "GEN_NUM", "SPORT_IDX"]
                  and pong["ext"][10:] == b"\0" * 6,
                  f"its probe pong: NPATHS, GEN_NUM, SPORT_IDX, rest zero (got {pex})")
            check(kgen is not None and dict(pex).get("GEN_NUM") == kgen,
                  f"its probe pong carries its own GEN_NUM {kgen}, not ours {ours_gen} "
                  f"(got {dict(pex).get('GEN_NUM')})")
        our_pong = None
        for m in ours_to_k.get(p0, []):
            if m["sport"] == 0 and m["dport"] == 1 and m["flags"] != 0x01:
                our_pong = m
                break
        check(our_pong is not None and dict(parse_exts(our_pong["ext"])).get("GEN_NUM") == ours_gen,
              "our probe pong to it carries our own GEN_NUM")
        print("\n(e) source ports (SPORT_IDX: port % 8 = path index)")
        if p0:
            check(p0[1] % 8 == 0, f"our path 0 comes from port {p0[1]} = 0 (mod 8)")
        for ck in k_to_ours:
            if ck[0] == a.kernel:
                print(f"      the kernel connects from {ck[1]} (mod 8 = {ck[1] % 8})")

    print("\nsequence numbers and congestion maps")
    for name, side in (("ours", ours_to_k), ("kernel", k_to_ours)):
        for ck, msgs in side.items():
            seqs = [m["seq"] for m in msgs if m["flags"] != 0x01]
            cmaps = [m for m in msgs if m["flags"] == 0x01]
            check(seqs == list(range(1, len(seqs) + 1)) or (name == "kernel"),
                  f"{name} on {ck[0]}:{ck[1]}: seqs {seqs[:8]}{'...' if len(seqs) > 8 else ''}"
                  + ("" if name == "ours" else " (the kernel's own count, not checked)"))
            for m in cmaps:
                check(m["seq"] == 0 and m["len"] == 8192 and m["sport"] == 0 and m["dport"] == 0,
                      f"{name} congestion map: seq 0, len 8192, ports 0 (wire.md §10)")

    print("\nnotes (differences from what the kernel does, not failures)")
    if p0:
        n = sum(1 for m in ours_to_k[p0] if m["sport"] == 1 and m["dport"] == 0
                and m["flags"] != 0x01)
        print(f"  probe pings from us on path 0: {n}"
              + ("" if n <= 1 else " (a kernel has one probe at a time: c_ping_triggered, wire.md §6)"))
    for name, side in (("us", ours_to_k), ("the kernel", k_to_ours)):
        per = {f"{ck[0]}:{ck[1]}": sum(1 for m in msgs if m["flags"] == 0x01)
               for ck, msgs in side.items()}
        total = sum(per.values())
        print(f"  congestion maps from {name}: {total} "
              f"({', '.join(f'{v} on {k}' for k, v in per.items() if v)})")

    if fails:
        print(f"\n{len(fails)} check(s) failed")
        return 1
    print("\nall checks ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
