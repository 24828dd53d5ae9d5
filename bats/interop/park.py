#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""park.py SRC DST INDEX HOLD_S

One more RDS/TCP connection to DST:16385 from SRC, from a source port = INDEX (mod 8) (the
lane a SPORT_IDX peer files it under, wire.md §1, §7), as a ninth connection for a lane that
is already up. It sends one valid header, a probe ping (seq 1, sport 1, dport 0, NPATHS=8,
SPORT_IDX: wire.md §15 a without GEN_NUM, so that it cannot restart anything), and then for
HOLD_S seconds reports what comes back. Output: "connected from PORT", "sent 48", then
"received N bytes (first header: seq S sport P dport D)", "closed by the peer after T s" or
"reset by the peer after T s" as they happen, and "held T s: open, N bytes received" if the
connection is still open at the end (then it closes it). Addresses: 198.18.0.0/15 only.
"""
import ipaddress
import random
import select
import socket
import struct
import sys
import time

PORT = 16385


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    src, dst, index, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    net = ipaddress.ip_network("198.18.0.0/15")
    for a in (src, dst):
        if ipaddress.ip_address(a) not in net:
            raise SystemExit(f"park.py: {a} is outside 198.18.0.0/15")
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = (int(x) for x in f.read().split())
    s = None
    for _ in range(200):  # bounded: a free port of the right residue
        port = (random.randrange(lo, hi - 8) // 8) * 8 + index % 8
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((src, port))
            break
        except OSError:
            s.close()
            s = None
    if s is None:
        raise SystemExit("park.py: no free source port")
    s.settimeout(5)
    s.connect((dst, PORT))
    print(f"connected from {port}", flush=True)
    hdr = struct.pack(">QQIHHBB4sH", 1, 0, 0, 1, 0, 0, 0, b"\0" * 4, 0)
    ext = bytes([5, 0, 8, 8]) + b"\0" * 12
    s.sendall(hdr + ext)
    print(f"sent {len(hdr) + len(ext)}", flush=True)
    s.setblocking(False)
    t0 = time.monotonic()
    got = b""
    while time.monotonic() - t0 < hold:
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            continue
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            print(f"reset by the peer after {time.monotonic() - t0:.1f} s", flush=True)
            return 0
        if not data:
            print(f"closed by the peer after {time.monotonic() - t0:.1f} s", flush=True)
            return 0
        if not got and len(data) >= 24:
            seq, _, _, sp, dp = struct.unpack(">QQIHH", data[:24])
            print(f"received {len(data)} bytes (first header: seq {seq} sport {sp} dport {dp})",
                  flush=True)
        else:
            print(f"received {len(data)} bytes", flush=True)
        got += data
    print(f"held {hold:g} s: open, {len(got)} bytes received", flush=True)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
