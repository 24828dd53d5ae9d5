#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seeds of tests/corpus/recv/ (the fuzz_recv input format, see
tests/fuzz_recv.c): python3 tests/gen_corpus_recv.py [DIR]."""
import os
import struct
import sys

HDR = struct.Struct(">QQIHHBBIH")
FEED, ATTACH, PEER_WRITE, PEER_READ, PEER_CLOSE, DROP, APP_READ, APP_SEND, RX_POLL, TIMERS = (
    0, 3, 4, 6, 7, 8, 9, 10, 11, 12)
CONNECTED, REFUSED, RETRY, PEER_ACK_SOME, WINDOW = 14, 15, 16, 17, 18
SMALLER, EIGHT_PATHS, GEN_KNOWN, TINY_RCVBUF = 0x01, 7 << 1, 0x10, 0x20


def hdr(seq=0, length=0, sport=0, dport=0, flags=0, ext=b""):
    return HDR.pack(seq, 0, length, sport, dport, flags, 0, 0, 0) + ext.ljust(16, b"\0")


def exts(npaths=8, gen=None, sport_idx=True):
    e = bytes([5]) + struct.pack(">H", npaths)
    if gen is not None:
        e += bytes([6]) + struct.pack(">I", gen)
    if sport_idx:
        e += bytes([8, 0])
    return e


def probe(seq, gen=None):
    return hdr(seq, 0, 1, 0, 0, exts(gen=gen))


def pong(seq, gen=None, sport_idx=True):
    return hdr(seq, 0, 0, 1, 0, exts(gen=gen, sport_idx=sport_idx))


def data(seq, dport, payload=b"hello", flags=0, sport=4000):
    return hdr(seq, len(payload), sport, dport, flags) + payload


class Seed:
    def __init__(self, cfg):
        self.b = bytearray([cfg])

    def op(self, what, path=0, payload=b""):
        for i in range(0, max(len(payload), 1), 255):
            chunk = payload[i:i + 255]
            self.b += bytes([what << 3 | path, len(chunk)]) + chunk
        return self


def seeds():
    s = {}
    s["handshake_smaller"] = (Seed(SMALLER).op(ATTACH).op(PEER_WRITE, 0, pong(1, 0x11111111))
                              .op(PEER_READ).op(APP_SEND, 0, b"\x00abc").op(PEER_READ))
    s["data_on_lane"] = (Seed(EIGHT_PATHS).op(ATTACH, 3).op(PEER_WRITE, 3, data(1, 5000))
                         .op(PEER_WRITE, 3, data(2, 5001, b"")).op(APP_READ, 0, b"\x00"))
    s["restart"] = (Seed(SMALLER | EIGHT_PATHS | GEN_KNOWN).op(ATTACH).op(PEER_WRITE, 0, pong(1, 0x11223344))
                    .op(APP_SEND, 0, b"\x01one").op(APP_SEND, 0, b"\x01two").op(DROP)
                    .op(ATTACH).op(PEER_WRITE, 0, probe(1, 0x55667788)).op(PEER_READ)
                    .op(PEER_WRITE, 0, data(1, 5000, b"again", 0x04)))
    s["duplicates"] = Seed(0).op(FEED, 1, data(5, 5000) + data(5, 5000, flags=0x04)
                                 + data(3, 5000) + data(2**64 - 1, 5000) + data(0, 5000, flags=4))
    cong = hdr(0, 8192, 0, 0, 0x01) + bytes(625) + b"\x01" + bytes(8192 - 626)
    s["cong_map"] = Seed(0).op(FEED, 0, cong)
    s["cong_map_short"] = Seed(0).op(ATTACH).op(PEER_WRITE, 0, hdr(0, 100, 0, 0, 1) + bytes(100))
    flood = b"".join(data(i, 5002, bytes(200)) for i in range(1, 6))
    s["pause_and_resume"] = (Seed(TINY_RCVBUF).op(ATTACH, 2).op(PEER_WRITE, 2, flood)
                             .op(PEER_WRITE, 2, flood).op(DROP, 2).op(APP_READ, 0, b"\x02")
                             .op(APP_READ, 0, b"\x02").op(RX_POLL, 2).op(13, 0, b"\x01"))
    s["bad_hlen"] = Seed(0).op(ATTACH).op(PEER_WRITE, 0, hdr(1, 0x7FFFFFFF, 4000, 5000))
    s["unknown_flags"] = Seed(0).op(ATTACH, 1).op(PEER_WRITE, 1, data(1, 5000, flags=0x80))
    s["truncated_close"] = Seed(0).op(ATTACH).op(PEER_WRITE, 0, hdr(1, 10, 4000, 5000)[:20]).op(PEER_CLOSE)
    s["pings"] = Seed(0).op(FEED, 4, b"".join(hdr(i, 0, 4000 + i, 0) for i in range(1, 5)))
    over = bytes([5, 0, 8, 1, 0xEE, 0xEE, 0xEE, 0xEE, 1, 0xEE, 0xEE, 0xEE, 0xEE, 7, 6, 0])
    s["ext_overrun"] = Seed(SMALLER).op(FEED, 0, hdr(1, 0, 1, 0, 0, over))
    s["fewer_paths"] = (Seed(SMALLER | EIGHT_PATHS | GEN_KNOWN).op(APP_SEND, 0, b"\x05x")
                        .op(APP_SEND, 0, b"\x07y").op(FEED, 0, hdr(1, 0, 0, 1, 0, exts(1, 0x99)))
                        .op(TIMERS))
    # our side connects (fuzz_recv's fake transport: the peer completes or refuses)
    s["connect_handshake_lanes"] = (Seed(SMALLER).op(APP_SEND, 0, b"\x00hi").op(CONNECTED)
                                    .op(PEER_READ).op(PEER_WRITE, 0, pong(1, 0x11111111))
                                    .op(CONNECTED, 1).op(CONNECTED, 2).op(CONNECTED, 3)
                                    .op(PEER_READ).op(APP_SEND, 0, b"\x01x" * 20))
    s["lanes_in_order"] = (Seed(SMALLER).op(APP_SEND, 0, b"\x00hi").op(CONNECTED)
                           .op(PEER_WRITE, 0, pong(1, 0x11111111, sport_idx=False))
                           .op(CONNECTED, 1).op(CONNECTED, 2).op(CONNECTED, 3).op(CONNECTED, 4))
    s["refused_then_retry"] = (Seed(SMALLER).op(APP_SEND, 0, b"\x00hi").op(REFUSED).op(RETRY)
                               .op(CONNECTED).op(PEER_WRITE, 0, pong(1)).op(PEER_READ))
    s["reconnect_resends"] = (Seed(SMALLER | EIGHT_PATHS | GEN_KNOWN).op(APP_SEND, 0, b"\x02one")
                              .op(CONNECTED).op(PEER_ACK_SOME, 0, b"\x01").op(PEER_CLOSE)
                              .op(RETRY).op(CONNECTED).op(PEER_READ)
                              .op(PEER_WRITE, 0, pong(1, 0x55667788)))
    s["partial_writes"] = (Seed(0).op(WINDOW, 0, b"\x01").op(ATTACH).op(APP_SEND, 0, bytes(200))
                           .op(APP_SEND, 0, bytes(100)).op(PEER_ACK_SOME, 0, b"\x00")
                           .op(PEER_WRITE, 0, probe(1, 0x11111111)).op(PEER_READ))
    s["poke"] = Seed(EIGHT_PATHS).op(APP_SEND, 0, b"\x00hi").op(CONNECTED).op(RETRY).op(REFUSED)
    s["timeouts"] = (Seed(SMALLER).op(APP_SEND, 0, b"\x00held").op(CONNECTED).op(TIMERS)
                     .op(PEER_READ))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "recv")
    os.makedirs(out, exist_ok=True)
    for name, seed in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(seed.b))


if __name__ == "__main__":
    main()
