#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seeds of tests/corpus/snap/ (an engine's snapshot as engine_save
writes it, without fds: see core/engine_snap.c and the rooms' *_snap.c):
python3 tests/gen_corpus_snap.py [DIR]."""
import os
import struct
import sys

NO_FD = 0xFFFFFFFF
HDR = struct.Struct(">QQIHHBBIH")


def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)
def f64(v): return struct.pack("<d", v)
def blob(b): return u32(len(b)) + b


def addr(last, port_scope=0):
    return b"\0" * 10 + b"\xff\xff" + bytes([127, 0, 0, last]) + u32(port_scope)


def msg(seq, data, sport=4000, dport=5000):
    hdr = HDR.pack(seq, 0, len(data), sport, dport, 0, 0, 0, 0) + b"\0" * 16
    return (hdr + data + u32(0) + u64(48 + len(data)) + addr(2) + u8(0) + u8(0) + u8(0) + u32(0)
            + hdr + u64(0) + u64(0) + u64(0) + u64(0))


def queue(msgs):
    return u32(len(msgs)) + b"".join(msgs)


def path(up=False, sendq=(), unacked=(), parser=(b"", b""), next_tx=1, next_rx=0):
    counters = u32(9) + b"".join(u64(i) for i in range(9))
    return (u8(up) + u8(up) + u32(0) + u8(0) + u32(0) + queue(sendq) + queue(unacked)
            + u64(0) + u64(next_tx) + u64(next_rx) + u16(0) + u64(0) + u64(0) + u64(0) + u8(0)
            + blob(parser[0]) + blob(parser[1]) + u64(0) + u64(0) + counters + u32(0)
            + u32(NO_FD) + f64(0.5) + u16(3) + f64(0))


def conn(paths, held=(), hold_due=-1.0):
    cong = bytearray(8192)
    cong[77 // 8] |= 1 << (77 % 8)
    return (addr(1) + addr(2) + u8(0) + u32(8) + u8(0) + u8(1) + u8(0) + u64(0) + u32(0x1234)
            + u8(1) + bytes(cong) + u64(0) + queue(held) + u8(0) + u8(0) + u8(0)
            + f64(-1) + f64(-1) + f64(hold_due) + b"".join(paths))


def engine(listeners=b"", conns=()):
    stats = u32(4) + u64(1) + u64(2) + u64(3) + u64(4)
    return (u32(0x9ABCDEF0) + u8(1) + u16(40000) + u16(100) + stats + u32(0)
            + listeners + u32(len(conns)) + b"".join(conns))


def seeds():
    half = HDR.pack(9, 0, 100, 1, 5000, 0, 0, 0, 0) + b"\0" * 16
    down = [path() for _ in range(8)]
    busy = [path(sendq=[msg(1, b"hello")], unacked=[msg(2, b"x" * 300)], next_tx=3)] + \
        [path(parser=(half, b"abc"), next_rx=9)] + [path() for _ in range(6)]
    yield "empty", engine(u32(0))
    yield "listeners", engine(u32(2) + addr(1) + u8(0) + u32(NO_FD) + addr(0) + u8(1) + u32(NO_FD))
    yield "conn-down", engine(u32(0), [conn(down)])
    yield "conn-queues", engine(u32(0), [conn(busy, held=[msg(0, b"held")], hold_due=5.5)])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "snap")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
