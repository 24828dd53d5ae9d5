/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_APISOCK_H
#define MPRDS_APISOCK_H

/* Shared by the api_* rooms (api.c, send.c, recv.c, sockopt.c): entering a socket call. */

#include <stdbool.h>

#include "mprds/api.h"
#include "mprds/sock.h"

/* Takes the engine lock and a reference; -EBADF for a socket inherited across fork. */
int api_enter(struct api_sock *as, struct sock **out);
/* Drops the reference and the lock. */
void api_leave(struct sock *s);
/*
 * Must this call, which would wait for events, return at once? Yes for MSG_DONTWAIT or
 * O_NONBLOCK on the application's fd, and always in an engine that never blocks (mprdsd),
 * which then keeps events for api_would_wait().
 */
int api_nonblocking(const struct sock *s, int flags, int events);
/* Waits for events on the app fd until deadline (-1 = none): 0, -ETIMEDOUT, -EINTR, -EBADF. */
int api_wait(struct sock *s, short events, double deadline);
/* The deadline SO_RCVTIMEO / SO_SNDTIMEO gives a call starting now, or -1. */
double api_deadline(const struct sock *s, int optname);

#endif
