# SPDX-License-Identifier: MIT
"""Socket-contract checks with the unmodified system python3 (run under mprds-run).

  contract.py congest-recv ADDR PORT GOFILE   receiver that reads only once GOFILE exists
  contract.py congest-send ADDR PEER PORT GOFILE
  contract.py wait-recv MODE ADDR PORT COUNT   MODE: select, epoll, nested-epoll
  contract.py sol-rds ADDR                      setsockopt/getsockopt at SOL_RDS
Every wait is bounded.
"""
import errno
import os
import select
import socket
import sys
import threading
import time

SOL_RDS = 276
SO_RDS_TRANSPORT = 8
RDS_RECVERR = 5
RDS_CONG_MONITOR = 6
RDS_TRANS_TCP = 2


def rds(addr, port, rcvbuf=None):
    s = socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((addr, port))
    return s


def wait_file(path, limit):
    end = time.time() + limit
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit("gave up waiting for " + path)
        time.sleep(0.02)


def congest_recv(addr, port, gofile):
    s = rds(addr, int(port), rcvbuf=32768)
    print("ready", flush=True)
    wait_file(gofile, 30)
    s.settimeout(3)
    n = 0
    try:
        while True:
            s.recv(65536)
            n += 1
    except socket.timeout:
        pass
    print("received %d" % n, flush=True)


def congest_send(addr, peer, port, gofile):
    s = rds(addr, int(port))
    dest = (peer, int(port))
    s.setblocking(False)
    sent, end = 0, time.time() + 20
    while True:
        if time.time() > end:
            sys.exit("no ENOBUFS after %d messages" % sent)
        try:
            s.sendto(b"c" * 4096, dest)
            sent += 1
        except BlockingIOError:  # EAGAIN: send buffer full, wait for acks
            time.sleep(0.002)
        except OSError as e:
            if e.errno != errno.ENOBUFS:
                raise
            break
    print("ENOBUFS after %d messages" % sent, flush=True)
    done = threading.Event()

    def blocking_send():
        b = socket.socket(fileno=os.dup(s.fileno()))
        b.setblocking(True)
        b.sendto(b"b", dest)
        done.set()

    t = threading.Thread(target=blocking_send, daemon=True)
    t.start()
    if done.wait(1.0):
        sys.exit("a blocking send to a congested port returned at once")
    print("blocking sender waits", flush=True)
    open(gofile, "w").close()
    if not done.wait(15):
        sys.exit("the blocking sender never resumed")
    print("blocking sender resumed", flush=True)
    end = time.time() + 15
    while True:
        try:
            s.sendto(b"n", dest)
            break
        except OSError as e:
            if e.errno not in (errno.ENOBUFS, errno.EAGAIN) or time.time() > end:
                raise
            time.sleep(0.01)
    print("non-blocking sender resumed; sent %d" % (sent + 2), flush=True)


def wait_recv(mode, addr, port, count):
    s = rds(addr, int(port))
    s.setblocking(False)
    count = int(count)
    if mode == "select":
        def wait():
            r, _, _ = select.select([s], [], [], 10)
            return bool(r)
    else:
        ep = select.epoll()
        ep.register(s.fileno(), select.EPOLLIN)
        outer = ep
        if mode == "nested-epoll":
            outer = select.epoll()
            outer.register(ep.fileno(), select.EPOLLIN)

        def wait():
            return bool(outer.poll(10))
    print("ready", flush=True)
    got = 0
    while got < count:
        if not wait():
            sys.exit("%s: no wake-up within 10 s after %d messages" % (mode, got))
        while True:
            try:
                data, src = s.recvfrom(65536)
            except BlockingIOError:
                break
            got += 1
            print("recv len=%d from=%s:%d" % (len(data), src[0], src[1]), flush=True)
    print("%s received %d messages" % (mode, got), flush=True)


def sol_rds(addr):
    s = socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET)
    assert s.getsockopt(SOL_RDS, SO_RDS_TRANSPORT) == -1  # RDS_TRANS_NONE
    s.setsockopt(SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP)
    try:
        s.setsockopt(SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP)
        sys.exit("SO_RDS_TRANSPORT set twice")
    except OSError as e:
        assert e.errno == errno.EOPNOTSUPP, e
    s.bind((addr, 0))
    assert s.getsockopt(SOL_RDS, SO_RDS_TRANSPORT) == RDS_TRANS_TCP
    s.setsockopt(SOL_RDS, RDS_RECVERR, 1)
    assert s.getsockopt(SOL_RDS, RDS_RECVERR) == 1
    s.setsockopt(SOL_RDS, RDS_CONG_MONITOR, 1)
    try:
        s.getsockopt(SOL_RDS, RDS_CONG_MONITOR)
        sys.exit("RDS_CONG_MONITOR is not gettable in the kernel")
    except OSError as e:
        assert e.errno == errno.ENOPROTOOPT, e
    try:
        s.setsockopt(SOL_RDS, 999, 1)
        sys.exit("unknown SOL_RDS option accepted")
    except OSError as e:
        assert e.errno == errno.ENOPROTOOPT, e
    print("sol-rds ok", flush=True)


if __name__ == "__main__":
    modes = {"congest-recv": congest_recv, "congest-send": congest_send,
             "wait-recv": wait_recv, "sol-rds": sol_rds}
    modes[sys.argv[1]](*sys.argv[2:])
