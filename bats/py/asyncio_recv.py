#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""asyncio_recv.py [--reader | --sock-recv] ADDR PORT [count] [timeout_s]

Receives `count` messages (default 1) on a non-blocking AF_RDS socket bound to ADDR:PORT
through asyncio only: loop.sock_recvfrom (loop.sock_recv before Python 3.11), or with
--reader a future completed by loop.add_reader. Every wait is bounded by timeout_s (default
10); a timeout is an error.

Output: "ready ADDR:PORT", "recv len=N from=IP:PORT" per message, "received N messages".
"""
import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdsutil import MAX_MSG, fail, out, rds_socket  # noqa: E402


async def recv_with_reader(loop, s):
    """One message via add_reader: wait until the fd is readable, then a non-blocking recv."""
    while True:
        ready = loop.create_future()
        loop.add_reader(s.fileno(), lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            loop.remove_reader(s.fileno())
        try:
            return s.recvfrom(MAX_MSG)
        except BlockingIOError:
            out("note: readable but recvfrom gave EAGAIN")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reader", action="store_true")
    ap.add_argument("addr")
    ap.add_argument("--sock-recv", action="store_true", help="use loop.sock_recv")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int, nargs="?", default=1)
    ap.add_argument("timeout", type=float, nargs="?", default=10.0)
    a = ap.parse_args()

    loop = asyncio.get_running_loop()
    s = rds_socket(nonblock=True)
    s.bind((a.addr, a.port))
    try:
        s.recv(16)
        fail("recv on an empty non-blocking socket returned data")
    except BlockingIOError:
        pass
    how = "add_reader" if a.reader else "sock_recv" if a.sock_recv else (
        "sock_recvfrom" if hasattr(loop, "sock_recvfrom") else "sock_recv")
    out(f"ready {a.addr}:{a.port} via {how}")
    got = 0
    while got < a.count:
        try:
            if a.reader:
                coro = recv_with_reader(loop, s)
            elif how == "sock_recvfrom":
                coro = loop.sock_recvfrom(s, MAX_MSG)
            else:
                coro = loop.sock_recv(s, MAX_MSG)
            res = await asyncio.wait_for(coro, a.timeout)
        except asyncio.TimeoutError:
            fail(f"asyncio: no message for {a.timeout}s (got {got} of {a.count})")
        data, src = res if isinstance(res, tuple) else (res, ("?", 0))
        if src is None:
            out("note: notification without a source")
            continue
        got += 1
        out(f"recv len={len(data)} from={src[0]}:{src[1]}")
    out(f"received {got} messages")
    s.close()


if __name__ == "__main__":
    asyncio.run(main())
