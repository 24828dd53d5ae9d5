#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""crash_recv.py ADDR PORT

A blocking receiver whose sockets must outlive their mprdsd (bats/50-daemon-crash.bats):
socket s (ADDR:PORT) has SO_RDS_TRANSPORT set before its bind, SO_RCVBUF, RDS_RECVERR and
RDS_CONG_MONITOR (which cannot be read back) after it, and waits in a plain blocking recvfrom; socket t (ADDR:PORT+1) is
non-blocking with an SO_RCVTIMEO, and is never read. Prints "ready STATE", then "got DATA
STATE" for every message, STATE saying what both sockets look like, so that the test can
compare them before and after the daemon was replaced. Any error ends it with status 1.
"""
import fcntl
import os
import socket
import struct
import sys

SOL_RDS, RDS_RECVERR, RDS_CONG_MONITOR, SO_RDS_TRANSPORT, RDS_TRANS_TCP = 276, 5, 6, 8, 2


def state(s, t):
    def flag(fd, get, bit):
        return int(bool(fcntl.fcntl(fd, get) & bit))

    return (
        f"s: fd={s.fileno()} name={s.getsockname()} "
        f"rcvbuf={s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)} "
        f"recverr={s.getsockopt(SOL_RDS, RDS_RECVERR)} "
        f"transport={s.getsockopt(SOL_RDS, SO_RDS_TRANSPORT)} "
        f"cloexec={flag(s.fileno(), fcntl.F_GETFD, fcntl.FD_CLOEXEC)} "
        f"nonblock={flag(s.fileno(), fcntl.F_GETFL, os.O_NONBLOCK)} | "
        f"t: fd={t.fileno()} name={t.getsockname()} "
        f"nonblock={flag(t.fileno(), fcntl.F_GETFL, os.O_NONBLOCK)} "
        f"rcvtimeo={struct.unpack('ll', t.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16))}"
    )


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
    s.setsockopt(SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP)
    s.bind((addr, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 300000)
    s.setsockopt(SOL_RDS, RDS_RECVERR, 1)
    s.setsockopt(SOL_RDS, RDS_CONG_MONITOR, 1)
    t = socket.socket(21, socket.SOCK_SEQPACKET, 0)
    t.bind((addr, port + 1))
    fd = t.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 3, 0))
    print("ready", state(s, t), flush=True)
    while True:
        data, _ = s.recvfrom(100)
        print("got", data.decode(), state(s, t), flush=True)


main()
