#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hostwide_fork.py ADDR BASE PEER PEER_PORT TASKS COUNT

In the style of rds-stress -t TASKS, on one host address: the parent binds ADDR:BASE, then
forks TASKS children; child i binds its own socket to ADDR:BASE+1+i (the same address: the
port space is host-wide), sends COUNT numbered messages to an echo server at PEER:PEER_PORT
and checks every echo in order. Child 0 also sends and receives on the socket it inherited
from the parent (the same RDS socket, as in the kernel). The parent, after its children,
still exchanges a message on its socket. Every wait is bounded (socket timeouts).

Output: "task I ok N echoes", "inherited socket ok", "parent ok", "all ok"; exit 0 only if
all of it held.
"""
import os
import socket
import sys

AF_RDS = 21


def say(line):
    """One write per line: forked tasks share the output file."""
    os.write(1, (line + "\n").encode())


def rds_socket(addr, port):
    s = socket.socket(AF_RDS, socket.SOCK_SEQPACKET, 0)
    s.settimeout(10)
    s.bind((addr, port))
    return s


def echo_round(s, peer, payload):
    s.sendto(payload, peer)
    data, src = s.recvfrom(65536)
    if data != payload or src != peer:
        raise RuntimeError("echo %r from %r, want %r from %r" % (data, src, payload, peer))


def task(i, addr, base, peer, count, inherited):
    s = rds_socket(addr, base + 1 + i)
    for k in range(count):
        echo_round(s, peer, b"task %d msg %d" % (i, k))
    say("task %d ok %d echoes" % (i, count))
    if i == 0:
        echo_round(inherited, peer, b"on the inherited socket")
        say("inherited socket ok")


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    addr, base = sys.argv[1], int(sys.argv[2])
    peer = (sys.argv[3], int(sys.argv[4]))
    tasks, count = int(sys.argv[5]), int(sys.argv[6])
    parent = rds_socket(addr, base)
    kids = []
    for i in range(tasks):
        pid = os.fork()
        if pid == 0:
            try:
                task(i, addr, base, peer, count, parent)
                os._exit(0)
            except Exception as e:  # noqa: BLE001 - any failure is the test's answer
                say("task %d: %s" % (i, e))
                os._exit(1)
        kids.append(pid)
    bad = 0
    for pid in kids:
        _, status = os.waitpid(pid, 0)
        bad += status != 0
    echo_round(parent, peer, b"parent after its children")
    say("parent ok")
    if bad:
        sys.exit("%d tasks failed" % bad)
    say("all ok")


main()
