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
/* Is this call non-blocking (MSG_DONTWAIT or O_NONBLOCK on the application's fd)? */
int api_nonblocking(const struct sock *s, int flags);
/* Waits for events on the app fd until deadline (-1 = none): 0, -ETIMEDOUT, -EINTR, -EBADF. */
int api_wait(struct sock *s, short events, double deadline);
/* The iovec and control pointers of msg: -EFAULT for a NULL the kernel could not copy. */
int api_check_msghdr(const struct msghdr *msg);
/* Would the kernel restart a call without timeout that a handler interrupted? */
bool api_signal_restarts(void);
/* The deadline SO_RCVTIMEO / SO_SNDTIMEO gives a call starting now, or -1. */
double api_deadline(const struct sock *s, int optname);

#endif
