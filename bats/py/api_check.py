#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""api_check.py ADDR PORT [group...]

Errno checks of the AF_RDS socket API from socket-api.md (kernel behaviour), one process, no
peer needed. ADDR must be a local address (a 127.0.0.x); ports PORT..PORT+19 are used.
Groups (default all): socket bind connect send sockopt unsupported nonblock.

Output: "ok NAME" per check, "FAIL NAME: ..." per failure, then "N checks, N failed";
exits 1 if any failed.
"""
import errno
import fcntl
import os
import select
import socket
import sys
import termios

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdsutil import AF_RDS, MAX_MSG, SOL_RDS, rds_socket, set_bufs  # noqa: E402

results = {"ok": 0, "fail": 0}


def ok(name):
    results["ok"] += 1
    print(f"ok {name}", flush=True)


def bad(name, why):
    results["fail"] += 1
    print(f"FAIL {name}: {why}", flush=True)


def expect_errno(name, want, fn):
    """fn() must raise OSError with errno `want`."""
    try:
        r = fn()
    except OSError as e:
        if e.errno == want:
            ok(name)
        else:
            bad(name, f"errno {errno.errorcode.get(e.errno, e.errno)}, "
                      f"want {errno.errorcode[want]}")
        return
    bad(name, f"returned {r!r}, want {errno.errorcode[want]}")


def expect_value(name, want, fn):
    try:
        r = fn()
    except OSError as e:
        bad(name, f"raised {e}")
        return
    if r == want:
        ok(name)
    else:
        bad(name, f"got {r!r}, want {want!r}")


def g_socket(addr, port):
    for t, tname in ((socket.SOCK_STREAM, "stream"), (socket.SOCK_DGRAM, "dgram")):
        expect_errno(f"socket_{tname}_esocktnosupport", errno.ESOCKTNOSUPPORT,
                     lambda t=t: socket.socket(AF_RDS, t, 0))
    expect_errno("socket_protocol_esocktnosupport", errno.ESOCKTNOSUPPORT,
                 lambda: socket.socket(AF_RDS, socket.SOCK_SEQPACKET, 6))
    s = rds_socket()
    expect_value("so_type", socket.SOCK_SEQPACKET,
                 lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE))
    expect_value("so_domain", AF_RDS, lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN))
    expect_value("so_protocol", 0, lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))
    s.close()


def g_bind(addr, port):
    def fresh_bind(where):
        s = rds_socket()
        try:
            return s.bind(where)
        finally:
            s.close()

    for name, where in (("any", "0.0.0.0"), ("broadcast", "255.255.255.255"),
                        ("multicast", "224.0.0.1")):
        expect_errno(f"bind_{name}_einval", errno.EINVAL, lambda w=where: fresh_bind((w, port)))
    expect_errno("bind_nonlocal_eaddrnotavail", errno.EADDRNOTAVAIL,
                 lambda: fresh_bind(("192.0.2.1", port)))
    expect_errno("bind_port1_einval", errno.EINVAL, lambda: fresh_bind((addr, 1)))
    s = rds_socket()
    expect_value("bind_ok", None, lambda: s.bind((addr, port)))
    expect_value("getsockname_bound", (addr, port), lambda: s.getsockname())
    expect_errno("rebind_einval", errno.EINVAL, lambda: s.bind((addr, port + 1)))
    expect_errno("bind_inuse_eaddrinuse", errno.EADDRINUSE, lambda: fresh_bind((addr, port)))
    s3 = rds_socket()
    s3.bind((addr, 0))
    p = s3.getsockname()[1]
    if 2 <= p <= 65535 and p != port:
        ok("bind_port0_picks_port")
    else:
        bad("bind_port0_picks_port", f"port {p}")
    s.close()
    s3.close()
    expect_value("bind_after_close_ok", None, lambda: fresh_bind((addr, port)))


def g_connect(addr, port):
    s = rds_socket()
    expect_errno("getpeername_unconnected_enotconn", errno.ENOTCONN, lambda: s.getpeername())
    expect_errno("connect_any_edestaddrreq", errno.EDESTADDRREQ,
                 lambda: s.connect(("0.0.0.0", port)))
    expect_value("connect_ok", None, lambda: s.connect((addr, port + 2)))
    expect_value("getpeername_connected", (addr, port + 2), lambda: s.getpeername())
    expect_errno("send_connected_unbound_enotconn", errno.ENOTCONN, lambda: s.send(b"x"))
    s.bind((addr, port + 3))
    r = rds_socket(nonblock=True)
    r.bind((addr, port + 2))
    expect_value("send_connected", 5, lambda: s.send(b"hello"))
    if select.select([r], [], [], 5)[0]:
        expect_value("recv_connected", (b"hello", (addr, port + 3)), lambda: r.recvfrom(64))
    else:
        bad("recv_connected", "nothing within 5 s")
    s.close()
    r.close()


def g_send(addr, port):
    s = rds_socket()
    expect_errno("sendto_unbound_enotconn", errno.ENOTCONN,
                 lambda: s.sendto(b"x", (addr, port + 5)))
    s.bind((addr, port + 4))
    expect_errno("send_no_destination_enotconn", errno.ENOTCONN, lambda: s.send(b"x"))
    expect_errno("sendto_any_einval", errno.EINVAL, lambda: s.sendto(b"x", ("0.0.0.0", port)))
    expect_errno("sendto_broadcast_einval", errno.EINVAL,
                 lambda: s.sendto(b"x", ("255.255.255.255", port)))
    expect_errno("sendto_multicast_einval", errno.EINVAL,
                 lambda: s.sendto(b"x", ("224.0.0.1", port)))
    expect_errno("sendto_msg_nosignal_eopnotsupp", errno.EOPNOTSUPP,
                 lambda: s.sendto(b"x", socket.MSG_NOSIGNAL, (addr, port + 5)))
    set_bufs(s, 2 * MAX_MSG)
    expect_errno("sendto_over_1mib_emsgsize", errno.EMSGSIZE,
                 lambda: s.sendto(bytes(MAX_MSG + 1), (addr, port + 5)))
    # Nobody is bound there: the send succeeds and the message is dropped (socket-api.md §5).
    expect_value("sendto_unbound_port_ok", 3, lambda: s.sendto(b"abc", (addr, port + 5)))
    expect_value("sendto_zero_bytes", 0, lambda: s.sendto(b"", (addr, port + 5)))
    s.close()


def g_sockopt(addr, port):
    s = rds_socket()
    expect_errno("getsockopt_sol_rds_unknown_enoprotoopt", errno.ENOPROTOOPT,
                 lambda: s.getsockopt(SOL_RDS, 99))
    expect_errno("setsockopt_sol_rds_unknown_enoprotoopt", errno.ENOPROTOOPT,
                 lambda: s.setsockopt(SOL_RDS, 99, 1))
    # The kernel stores SO_SNDBUF doubled and reports that (socket-api.md §10).
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 100000)
    expect_value("so_sndbuf_doubled", 200000,
                 lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    s.close()


def g_unsupported(addr, port):
    s = rds_socket()
    s.bind((addr, port + 6))
    expect_errno("shutdown_eopnotsupp", errno.EOPNOTSUPP, lambda: s.shutdown(socket.SHUT_RDWR))
    expect_errno("listen_eopnotsupp", errno.EOPNOTSUPP, lambda: s.listen(1))
    expect_errno("ioctl_fionread_enotty", errno.ENOTTY,
                 lambda: fcntl.ioctl(s.fileno(), termios.FIONREAD, b"\0\0\0\0"))
    s.close()


def g_nonblock(addr, port):
    s = rds_socket(nonblock=True)
    s.bind((addr, port + 7))
    expect_errno("nonblocking_recv_eagain", errno.EAGAIN, lambda: s.recv(64))
    expect_errno("nonblocking_recvfrom_eagain", errno.EAGAIN, lambda: s.recvfrom(64))
    s.setblocking(True)
    expect_errno("msg_dontwait_recv_eagain", errno.EAGAIN, lambda: s.recv(64, socket.MSG_DONTWAIT))
    s.settimeout(0.3)
    try:
        s.recv(64)
        bad("settimeout_recv_times_out", "recv returned")
    except socket.timeout:
        ok("settimeout_recv_times_out")
    except OSError as e:
        bad("settimeout_recv_times_out", f"raised {e}")
    s.close()


GROUPS = {
    "socket": g_socket, "bind": g_bind, "connect": g_connect, "send": g_send,
    "sockopt": g_sockopt, "unsupported": g_unsupported, "nonblock": g_nonblock,
}


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    addr, port = sys.argv[1], int(sys.argv[2])
    names = sys.argv[3:] or list(GROUPS)
    for n in names:
        if n not in GROUPS:
            print(f"unknown group {n}", file=sys.stderr)
            sys.exit(2)
    for n in names:
        GROUPS[n](addr, port)
    print(f"{results['ok'] + results['fail']} checks, {results['fail']} failed", flush=True)
    sys.exit(1 if results["fail"] else 0)


if __name__ == "__main__":
    main()
