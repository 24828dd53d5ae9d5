/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SHIM_REMOTE_H
#define MPRDS_SHIM_REMOTE_H
/* RDS sockets served by mprdsd (remote.c); their calls are shim_remote_ops. */
#include <stdint.h>

#include "shim.h"

/*
 * A new socket in the daemon: the application's fd for it, its id in *id and the daemon that
 * made it in *epoch (channel.h); or -errno.
 */
int remote_socket(int type, int protocol, uint32_t *id, uint32_t *epoch);

/*
 * The calls replay.c makes the socket again with: on socket id of the daemon of epoch, as
 * they are (no replay of their own): 0, -errno, CHANNEL_STALE or CHANNEL_LOST.
 */
int remote_bind_in(uint32_t id, uint32_t epoch, const struct sockaddr *sa, socklen_t len);
int remote_connect_in(uint32_t id, uint32_t epoch, const struct sockaddr *sa, socklen_t len);
int remote_setsockopt_in(uint32_t id, uint32_t epoch, int level, int name, const void *val,
			 socklen_t len);
int remote_ioctl_in(uint32_t id, uint32_t epoch, unsigned long request, void *arg);
void remote_release_in(uint32_t id, uint32_t epoch);

#endif
