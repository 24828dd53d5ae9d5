#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""demo_peer.py [-m send|recv|both] [-n N] [-c M] [-W] [-H hold_s] [-t timeout_s]
               ADDR BASE PEER_ADDR PEER_BASE

The Python twin of bats/progs/rds_multi, written against plain socket.AF_RDS: N non-blocking
RDS sockets bound to ADDR:BASE+i; socket i sends M messages to PEER_ADDR:PEER_BASE+i and/or
checks the M it receives from there (source, order, content). Same message format, options
and output lines as rds_multi, so either can face the other. Run it with the system python3
under mprds-run (make demo does), or on a kernel with RDS.
"""
import argparse
import errno
import select
import signal
import socket
import struct
import sys
import time

AF_RDS = getattr(socket, "AF_RDS", 21)
HDR = struct.Struct(">4sIII")  # "MPRD", index, seq, total length


def msg_len(idx, seq):
    return HDR.size + (idx * 7 + seq * 13) % 241


def make_msg(idx, seq):
    n = msg_len(idx, seq)
    payload = bytes(((idx * 131 + seq * 7 + j) & 0xFF) for j in range(n - HDR.size))
    return HDR.pack(b"MPRD", idx, seq, n) + payload


class Peer:
    def __init__(self, a):
        self.a = a
        self.errors = 0
        self.stop = False
        self.socks = []
        self.sent = [0] * a.n
        self.recvd = [0] * a.n
        self.nobufs = [False] * a.n
        self.peers = [(a.peer, a.peer_base + i) for i in range(a.n)]

    def error(self, idx, msg):
        self.errors += 1
        if self.errors <= 20:
            print(f"error: sock {idx}: {msg}", flush=True)

    def may_send(self, i):
        a = self.a
        return a.send and self.sent[i] < a.c and (not a.W or self.recvd[i] > 0)

    def send_some(self, i):
        self.nobufs[i] = False
        for _ in range(64):
            if self.sent[i] >= self.a.c:
                return
            data = make_msg(i, self.sent[i])
            try:
                n = self.socks[i].sendto(data, self.peers[i])
            except BlockingIOError:
                return
            except InterruptedError:
                return
            except OSError as e:
                if e.errno == errno.ENOBUFS:  # peer port congested: retry on a timer
                    self.nobufs[i] = True
                    return
                print(f"error: sock {i}: sendto {self.peers[i]}: {e}", flush=True)
                sys.exit(1)
            if n != len(data):
                print(f"error: sock {i}: sendto returned {n}, want {len(data)}", flush=True)
                sys.exit(1)
            self.sent[i] += 1

    def recv_some(self, i):
        for _ in range(256):
            try:
                data, src = self.socks[i].recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            if src is None:
                continue  # a notification, not a message
            if tuple(src) != self.peers[i]:
                self.error(i, f"message from {src}, want {self.peers[i]}")
                continue
            if self.recvd[i] >= self.a.c:
                self.error(i, f"extra message (already got {self.recvd[i]})")
                continue
            want_seq = self.recvd[i]
            self.recvd[i] += 1
            if len(data) < HDR.size or data[:4] != b"MPRD":
                self.error(i, f"bad message of {len(data)} bytes")
                continue
            _, ridx, rseq, rlen = HDR.unpack_from(data)
            if ridx != i or rseq != want_seq:
                self.error(i, f"got index {ridx} seq {rseq}, want index {i} seq {want_seq} "
                              "(order)")
            elif rlen != len(data) or data != make_msg(i, rseq):
                self.error(i, f"seq {rseq}: length or content differs")

    def run(self):
        a = self.a
        for i in range(a.n):
            s = socket.socket(AF_RDS, socket.SOCK_SEQPACKET, 0)
            s.setblocking(False)
            s.bind((a.addr, a.base + i))
            self.socks.append(s)
        mode = "both" if a.send and a.recv else ("send" if a.send else "recv")
        print(f"ready addr={a.addr} ports={a.base}..{a.base + a.n - 1} peer={a.peer} "
              f"ports={a.peer_base}..{a.peer_base + a.n - 1} mode={mode}"
              f"{' (waits for the peer first)' if a.W else ''} count={a.c}", flush=True)
        fdidx = {s.fileno(): i for i, s in enumerate(self.socks)}
        done = False
        deadline = time.monotonic() + a.t
        while not self.stop:
            p = select.poll()
            timeout = 100
            pend_send = pend_recv = 0
            for i, s in enumerate(self.socks):
                ev = select.POLLIN if a.recv else 0
                if self.may_send(i):
                    if self.nobufs[i]:
                        timeout = 10
                    else:
                        ev |= select.POLLOUT
                if ev:
                    p.register(s.fileno(), ev)
                pend_send += a.send and self.sent[i] < a.c
                pend_recv += a.recv and self.recvd[i] < a.c
            if not pend_send and not pend_recv:
                done = True
                break
            if time.monotonic() > deadline:
                print(f"error: timeout after {a.t}s: {pend_send} sockets still sending, "
                      f"{pend_recv} still receiving", flush=True)
                self.errors += 1
                break
            ready = {fdidx[fd]: ev for fd, ev in p.poll(timeout)}
            for i in range(a.n):
                if ready.get(i, 0) & select.POLLIN:
                    self.recv_some(i)
                if self.may_send(i):
                    self.send_some(i)
        if done:
            print(f"done sent={sum(self.sent)} recv={sum(self.recvd)}", flush=True)
            if a.H > 0 and not self.stop:
                print(f"holding up to {a.H}s (SIGTERM/SIGINT/SIGUSR1 ends)", flush=True)
                end = time.monotonic() + a.H
                p = select.poll()
                for s in self.socks:
                    p.register(s.fileno(), select.POLLIN if a.recv else 0)
                while not self.stop and time.monotonic() < end:
                    for fd, ev in p.poll(100):
                        if ev & select.POLLIN:
                            self.recv_some(fdidx[fd])
                print(f"hold ended ({'signal' if self.stop else 'time'})", flush=True)
        for i in range(a.n):
            print(f"sock {i:2d} port {a.base + i} -> {a.peer}:{a.peer_base + i} "
                  f"sent {self.sent[i]} recv {self.recvd[i]}", flush=True)
        print(f"total sockets={a.n} sent={sum(self.sent)} recv={sum(self.recvd)} "
              f"errors={self.errors}", flush=True)
        # The sockets stay open until exit: close() would drop queued messages
        # (socket-api.md §8).
        return 0 if done and not self.errors else 1


def main():
    ap = argparse.ArgumentParser(description="16-socket RDS peer (twin of rds_multi)")
    ap.add_argument("-m", choices=("send", "recv", "both"), default="both")
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("-c", type=int, default=100)
    ap.add_argument("-W", action="store_true")
    ap.add_argument("-H", type=float, default=0)
    ap.add_argument("-t", type=float, default=30)
    ap.add_argument("addr")
    ap.add_argument("base", type=int)
    ap.add_argument("peer")
    ap.add_argument("peer_base", type=int)
    a = ap.parse_args()
    a.send = a.m in ("send", "both")
    a.recv = a.m in ("recv", "both")
    if a.W and not (a.send and a.recv):
        ap.error("-W needs -m both")
    peer = Peer(a)

    def on_signal(_sig, _frame):
        peer.stop = True

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(sig, on_signal)
    rc = peer.run()
    sys.stdout.flush()
    # Keep the sockets referenced until the interpreter ends, so nothing closes them early.
    main.socks = peer.socks
    return rc


if __name__ == "__main__":
    sys.exit(main())
