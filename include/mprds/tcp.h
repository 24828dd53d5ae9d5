/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TCP_H
#define MPRDS_TCP_H

#include "mprds/addr.h"

/* TCP socket set-up in one place, so the rest never repeats setsockopt boilerplate. */

#define TCP_BIND_REUSEADDR 1
#define TCP_BIND_V6ONLY 2 /* an IPv6 wildcard that leaves IPv4 to its own listener */

/* A non-blocking TCP socket of a's family, bound to a:port (flags: TCP_BIND_*); fd or -errno. */
int tcp_socket_bound(const struct addr *a, uint16_t port, int flags);
/* wire.md §1 tuning: TCP_NODELAY, keepalive 5 s / 5 s / 5 probes. */
void tcp_tune(int fd);
/* Starts a non-blocking connect; returns 0, -EINPROGRESS or -errno. */
int tcp_connect(int fd, const struct addr *a, uint16_t port);
/*
 * A non-blocking socket bound to laddr:lport (SO_REUSEADDR: the port may hold TIME_WAIT
 * sockets of earlier connections) connecting to faddr:fport. Returns the fd, connected or
 * in progress, or -errno: -EADDRINUSE / -EADDRNOTAVAIL when that port cannot be used.
 */
int tcp_connect_from(const struct addr *laddr, uint16_t lport, const struct addr *faddr,
		     uint16_t fport);
/* Closes with an RST (SO_LINGER 0), as the kernel refuses a connection. */
void tcp_reset(int fd);
/* The pending error of a connecting socket (SO_ERROR), as -errno or 0. */
int tcp_error(int fd);

#endif
