# SPDX-License-Identifier: MIT
"""Helpers shared by the bats Python programs: plain socket.AF_RDS use, nothing mprds-specific.

Run them with the unmodified system interpreter (/usr/bin/python3) under mprds-run, or on a
kernel with the rds and rds_tcp modules.
"""
import errno
import socket
import sys
import time

AF_RDS = getattr(socket, "AF_RDS", 21)
SOL_RDS = getattr(socket, "SOL_RDS", 276)
MAX_MSG = 1 << 20  # RDS_MAX_MSG_SIZE
SO_SNDBUFFORCE = getattr(socket, "SO_SNDBUFFORCE", 32)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def rds_socket(nonblock=False):
    s = socket.socket(AF_RDS, socket.SOCK_SEQPACKET, 0)
    if nonblock:
        s.setblocking(False)
    return s


def _set_buf(s, opt, force_opt, name, want):
    s.setsockopt(socket.SOL_SOCKET, opt, want)
    if s.getsockopt(socket.SOL_SOCKET, opt) // 2 >= want:
        return
    # Capped by net.core.[wr]mem_max (212992 on a stock kernel): the FORCE option (root)
    # goes past it.
    try:
        s.setsockopt(socket.SOL_SOCKET, force_opt, want)
    except OSError:
        pass
    got = s.getsockopt(socket.SOL_SOCKET, opt)
    if got // 2 < want:
        fail(f"{name} stays {got} (< 2 * {want})")


def set_bufs(s, want):
    """Room for messages up to `want` bytes: the RDS send limit is the requested SO_SNDBUF
    (bigger messages fail with EMSGSIZE), and a port is congested while its unread bytes
    exceed SO_RCVBUF (socket-api.md §10)."""
    _set_buf(s, socket.SO_SNDBUF, SO_SNDBUFFORCE, "SO_SNDBUF", want)
    _set_buf(s, socket.SO_RCVBUF, SO_RCVBUFFORCE, "SO_RCVBUF", want)


def sendto_retry(s, data, addr, timeout):
    """sendto that waits out ENOBUFS (destination port congested, socket-api.md §5 row 18),
    which a socket with a Python timeout (non-blocking underneath) gets instead of blocking.
    Bounded by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return s.sendto(data, addr)
        except OSError as e:
            if e.errno != errno.ENOBUFS or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def pattern(size):
    """Same bytes as pattern_byte() in bats/progs/rds_common.h: (j*7 + size*13 + 1) & 0xff."""
    period = bytes(((j * 7 + size * 13 + 1) & 0xFF) for j in range(256))
    return (period * (size // 256 + 1))[:size]


def fail(msg):
    print(f"error: {msg}", flush=True)
    sys.exit(1)


def out(msg):
    print(msg, flush=True)
