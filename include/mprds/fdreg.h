/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_FDREG_H
#define MPRDS_FDREG_H

#include <stdbool.h>

/*
 * The fds the engine owns (TCP sockets, listeners, socketpair ends, the loop's own), so that
 * an application's close_range(), closefrom() or close loop never closes them (socket-api
 * issue: "must never close the engine's own fds"). Reads are lock-free.
 */

void fdreg_add(int fd);
void fdreg_del(int fd);
bool fdreg_has(int fd);
/* The lowest registered fd >= from, or -1. */
int fdreg_next(int from);
/* In a forked child: the parent's engine fds are closed by their rooms; start empty. */
void fdreg_after_fork(void);

#endif
