#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hostile_peer.py SRC VICTIM CASE [options]

A broken or hostile RDS/TCP peer, written against raw TCP: it connects from SRC (which must
be the smaller address, so the victim files the connection as a path) to VICTIM:16385 and
does one of the things a real peer never does (wire.md §2-§11). Prints what it did and what
the victim did to the connection; exits 0 unless it could not do its part.

Cases:
  bad_hlen       a header announcing a 2 GiB payload
  truncated      20 bytes of a header, then close
  unknown_flags  a message with h_flags 0x80
  cong_len       a congestion map (h_flags 0x01) of 100 bytes instead of 8192
  ext_overrun    a probe whose extension area runs past its 16 bytes
  seq_games      data whose sequence numbers jump back and forth, retransmitted or not
  never_reads    pings as fast as TCP takes them, never reading the pongs
  slow_drip      one valid message, a byte every 10 ms
  flood          64 KiB messages to --port-to as fast as TCP takes them, for --seconds
  idle_conns     --count connections from each address of --addrs, held --seconds, silent
"""
import argparse
import errno
import select
import socket
import struct
import sys
import time

RDS_TCP_PORT = 16385
HDR = struct.Struct(">QQIHHBBIH")  # seq ack len sport dport flags credit padding csum
FLAG_CONG, FLAG_RETX = 0x01, 0x04


def header(seq=0, length=0, sport=0, dport=0, flags=0, ext=b""):
    return HDR.pack(seq, 0, length, sport, dport, flags, 0, 0, 0) + ext.ljust(16, b"\0")


def message(seq, sport, dport, payload, flags=0):
    return header(seq, len(payload), sport, dport, flags) + payload


def connect(src, dst, port=RDS_TCP_PORT, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((dst, port))
    return s


def closed_by_peer(s, wait):
    """Reads (and discards) until the victim closes or resets, or `wait` seconds pass."""
    end = time.monotonic() + wait
    poller = select.poll()
    poller.register(s, select.POLLIN)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        if not poller.poll(left * 1000):
            return False
        try:
            if not s.recv(65536):
                return True
        except ConnectionError:
            return True


def is_open(s):
    """Connected, and neither closed nor reset by the victim (what it sent stays unread)."""
    try:
        return len(s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)) > 0
    except BlockingIOError:
        return True
    except OSError:
        return False


def expect(what, ok):
    print(f"{what}: {'ok' if ok else 'NOT AS EXPECTED'}", flush=True)
    return ok


def case_bad_hlen(a):
    s = connect(a.src, a.victim)
    s.sendall(header(1, 0x7FFFFFFF, 4000, a.port_to))
    return expect("victim dropped the connection after h_len 0x7fffffff", closed_by_peer(s, 5))


def case_truncated(a):
    s = connect(a.src, a.victim)
    s.sendall(header(1, 0, 4000, a.port_to)[:20])
    # A clean end (FIN), not a reset: read what the victim sent until it closes too.
    s.shutdown(socket.SHUT_WR)
    closed = closed_by_peer(s, 5)
    s.close()
    return expect("sent 20 header bytes and closed; victim closed too", closed)


def case_unknown_flags(a):
    s = connect(a.src, a.victim)
    s.sendall(message(1, 4000, a.port_to, b"x", flags=0x80))
    return expect("victim dropped the connection after h_flags 0x80", closed_by_peer(s, 5))


def case_cong_len(a):
    s = connect(a.src, a.victim)
    s.sendall(header(0, 100, 0, 0, FLAG_CONG) + b"\xff" * 100)
    # Decided: ignored as the kernel ignores it; the stream is still in step, so it stays.
    ok = expect("victim kept the connection after a 100-byte map", not closed_by_peer(s, 1))
    s.close()
    return ok


def case_ext_overrun(a):
    s = connect(a.src, a.victim)
    ext = bytes([0x05, 0x00, 0x08, 0x01, 0xEE, 0xEE, 0xEE, 0xEE,
                 0x01, 0xEE, 0xEE, 0xEE, 0xEE, 0x07, 0x06, 0x00])
    s.sendall(header(1, 0, 1, 0, 0, ext))
    ok = expect("victim kept the connection after the overrun", not closed_by_peer(s, 1))
    s.close()
    return ok


def case_seq_games(a):
    s = connect(a.src, a.victim)
    seqs = [(5, 0), (5, FLAG_RETX), (3, 0), (2**64 - 1, 0), (0, FLAG_RETX), (0, 0),
            (2**63, FLAG_RETX), (7, FLAG_RETX), (1, 0)]
    for seq, flags in seqs:
        s.sendall(message(seq, 4000, a.port_to, b"seq", flags))
    ok = expect("victim kept the connection through the sequence games", not closed_by_peer(s, 1))
    s.close()
    return ok


def case_never_reads(a):
    s = connect(a.src, a.victim)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    sent, seq, end = 0, 1, time.monotonic() + a.seconds
    while time.monotonic() < end:
        try:
            s.send(header(seq, 0, 4000 + seq % 1000, 0))
            seq += 1
            sent += 1
        except BlockingIOError:
            select.select([], [s], [], 0.05)
        except ConnectionError:
            break
    print(f"sent {sent} pings, read none", flush=True)
    s.close()
    return True


def case_slow_drip(a):
    s = connect(a.src, a.victim)
    data = message(1, 4000, a.port_to, bytes(range(100)))
    start = time.monotonic()
    for i in range(len(data)):
        s.send(data[i:i + 1])
        time.sleep(0.01)
    ok = expect(f"dripped {len(data)} bytes in {time.monotonic() - start:.1f} s, still connected",
                not closed_by_peer(s, 0.5))
    s.close()
    return ok


def case_flood(a):
    s = connect(a.src, a.victim)
    s.settimeout(0.2)
    payload = b"\xab" * 65536
    sent, seq, end = 0, 1, time.monotonic() + a.seconds
    buf = b""
    while time.monotonic() < end:
        if not buf:
            buf = message(seq, 4000, a.port_to, payload)
            seq += 1
        try:
            n = s.send(buf)
            buf = buf[n:]
            sent += n
        except socket.timeout:
            pass
        except ConnectionError as e:
            print(f"connection failed: {e}", flush=True)
            break
    print(f"flood: {sent} bytes ({seq - 1} messages) in {a.seconds} s", flush=True)
    s.close()
    return True


def case_idle_conns(a):
    socks, failed = [], 0
    # One each first, in turn, so that every address is a peer the victim has accepted...
    for src in a.addrs.split(","):
        socks.append(connect(src, a.victim, timeout=2))
    # ...then the rest all at once.
    for src in a.addrs.split(","):
        for _ in range(a.count - 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, 0))
            if s.connect_ex((a.victim, RDS_TCP_PORT)) in (0, errno.EINPROGRESS):
                socks.append(s)
            else:
                failed += 1
                s.close()
    # All connects at once; those the victim's backlog did not take stay pending: fine.
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLOUT)
    end = time.monotonic() + 2
    while time.monotonic() < end and poller.poll(100):
        pass
    up = sum(1 for s in socks if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    time.sleep(0.5)
    alive = sum(1 for s in socks if is_open(s))
    print(f"idle: opened {len(socks)} connections ({failed} failed at once), {up} connected, "
          f"{alive} still open after 0.5 s", flush=True)
    time.sleep(a.seconds)
    for s in socks:
        s.close()
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("victim")
    ap.add_argument("case")
    ap.add_argument("--port-to", type=int, default=7000, help="RDS port data goes to")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--addrs", default="")
    a = ap.parse_args()
    fn = globals().get("case_" + a.case)
    if not fn:
        ap.error(f"unknown case {a.case}")
    print(f"case {a.case} from {a.src} to {a.victim}", flush=True)
    return 0 if fn(a) else 1


if __name__ == "__main__":
    sys.exit(main())
