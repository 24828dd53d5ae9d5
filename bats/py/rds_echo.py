#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rds_echo.py ADDR PORT [count] [timeout_s]

Python twin of bats/progs/rds_echo: binds ADDR:PORT and sends every message back to its
sender (recvfrom -> sendto). Exits after `count` messages (0 = no limit) or after timeout_s
seconds (default 10) without a message: an error if a count was given and not reached.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdsutil import MAX_MSG, fail, out, rds_socket, sendto_retry, set_bufs  # noqa: E402


def main():
    if not 3 <= len(sys.argv) <= 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    addr, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0

    s = rds_socket()
    set_bufs(s, 2 * MAX_MSG)
    s.bind((addr, port))
    s.settimeout(timeout)
    out(f"ready {addr}:{port}")
    got = 0
    while count == 0 or got < count:
        try:
            data, src = s.recvfrom(MAX_MSG)
        except socket.timeout:
            if count:
                fail(f"idle for {timeout}s after {got} of {count} messages")
            out(f"idle for {timeout}s, stopping")
            break
        if src is None:
            out("note: notification without a source, skipped")
            continue
        got += 1
        out(f"echo len={len(data)} from={src[0]}:{src[1]}")
        try:
            n = sendto_retry(s, data, src, timeout)
        except OSError as e:
            fail(f"sendto {src} ({len(data)} bytes): {e}")
        if n != len(data):
            fail(f"sendto returned {n}, want {len(data)}")
    # Python closes the socket at exit, and close() drops messages still queued
    # (socket-api.md §8): stay a moment so the last echo leaves, still serving.
    if count:
        s.settimeout(2.0)
        try:
            data, src = s.recvfrom(MAX_MSG)
            fail(f"extra message of {len(data)} bytes from {src} after {count}")
        except socket.timeout:
            pass
    out(f"echoed {got} messages")


if __name__ == "__main__":
    main()
