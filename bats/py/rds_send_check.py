#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rds_send_check.py [-t timeout_s] ADDR PORT PEER_ADDR PEER_PORT [size...]

Python twin of bats/progs/rds_send_check: binds ADDR:PORT, sends one message of each size
(default 0 1 8192 1048576) with a deterministic pattern to PEER_ADDR:PEER_PORT, which echoes
it, and checks each echo's source, length (no MSG_TRUNC) and content. Prints "ok size=N".
"""
import argparse
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdsutil import MAX_MSG, fail, out, pattern, rds_socket, sendto_retry, set_bufs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", type=float, default=20.0, dest="timeout")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("peer")
    ap.add_argument("peer_port", type=int)
    ap.add_argument("sizes", type=int, nargs="*")
    a = ap.parse_args()
    sizes = a.sizes or [0, 1, 8192, MAX_MSG]
    peer = (a.peer, a.peer_port)

    s = rds_socket()
    set_bufs(s, 2 * MAX_MSG)
    s.bind((a.addr, a.port))
    s.settimeout(a.timeout)  # bounds every send and receive below
    out(f"bound {s.getsockname()}, peer {peer}")
    for size in sizes:
        data = pattern(size)
        try:
            n = sendto_retry(s, data, peer, a.timeout)
        except OSError as e:
            fail(f"sendto {peer} size={size}: {e}")
        if n != size:
            fail(f"sendto size={size} returned {n}")
        out(f"sent size={size}")
        for _ in range(100):
            try:
                got, _anc, flags, src = s.recvmsg(MAX_MSG + 1)
            except socket.timeout:
                fail(f"no echo of size={size} within {a.timeout}s")
            except OSError as e:
                fail(f"recvmsg waiting for size={size}: {e}")
            if src is None:
                out("note: notification without a source, skipped")
                continue
            break
        else:
            fail("only notifications")
        if tuple(src) != peer:
            fail(f"size={size}: echo came from {src}, want {peer}")
        if flags & socket.MSG_TRUNC:
            fail(f"size={size}: echo truncated (MSG_TRUNC)")
        if len(got) != size:
            fail(f"size={size}: echo has {len(got)} bytes")
        if got != data:
            off = next(i for i in range(size) if got[i] != data[i])
            fail(f"size={size}: content differs at offset {off}")
        out(f"ok size={size}")
    out(f"all {len(sizes)} sizes ok")


if __name__ == "__main__":
    main()
