/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_INFO_H
#define MPRDS_INFO_H

/*
 * getsockopt(SOL_RDS, RDS_INFO_*) for this process's engine (socket-api.md §12), and the
 * same snapshots for the control socket (control.h). The caller holds the engine lock.
 *
 * Each function takes a buffer of *len bytes (0 = a size probe; buf may then be NULL) and
 * returns the size of one element (> 0) with *len = the bytes of the whole snapshot; or
 * -ENOSPC with *len = the bytes needed; or -EINVAL, -EFAULT, -ENOPROTOOPT.
 */

#include <sys/socket.h>

struct engine;

int info_get(struct engine *e, int optname, void *buf, socklen_t *len);
/* mprds's own: one struct control_path per path of every connection. */
int info_paths(struct engine *e, void *buf, socklen_t *len);
/* mprds's own: one struct control_process describing this engine. */
int info_process(struct engine *e, void *buf, socklen_t *len);

#endif
