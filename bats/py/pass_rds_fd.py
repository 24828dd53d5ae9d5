#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""pass_rds_fd.py give|take UNIX_PATH ADDR PORT

An RDS fd passed to an unrelated process with SCM_RIGHTS stays the same RDS socket, as in
the kernel. give: binds an RDS socket to ADDR:PORT, listens on UNIX_PATH, hands the RDS fd
to the first connection and closes its own copy at once; then waits for one byte back.
take: connects to UNIX_PATH, receives the fd, and through it sends a message to ADDR:PORT
(itself) and receives it. Output: "ready", "given, own copy closed"; "name ADDR PORT",
"got MESSAGE from ADDR PORT". Every wait is bounded (5 s).
"""
import socket
import sys

AF_RDS = 21


def give(path, addr, port):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(5)
    r = socket.socket(AF_RDS, socket.SOCK_SEQPACKET, 0)
    r.bind((addr, port))
    print("ready", flush=True)
    c, _ = srv.accept()
    c.settimeout(5)
    socket.send_fds(c, [b"x"], [r.fileno()])
    r.close()
    print("given, own copy closed", flush=True)
    c.recv(1)


def take(path, addr, port):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    c.connect(path)
    _, fds, _, _ = socket.recv_fds(c, 10, 1)
    r = socket.socket(fileno=fds[0])
    r.settimeout(5)
    print("name %s %d" % r.getsockname(), flush=True)
    r.sendto(b"through a passed fd", (addr, port))
    data, src = r.recvfrom(100)
    print("got %s from %s %d" % (data.decode(), src[0], src[1]), flush=True)
    c.send(b"k")


if len(sys.argv) != 5 or sys.argv[1] not in ("give", "take"):
    sys.exit(__doc__)
(give if sys.argv[1] == "give" else take)(sys.argv[2], sys.argv[3], int(sys.argv[4]))
