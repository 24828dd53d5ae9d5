/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SHIM_REMOTE_H
#define MPRDS_SHIM_REMOTE_H
/* RDS sockets served by mprdsd (remote.c); their calls are shim_remote_ops. */
#include <stdint.h>

#include "shim.h"

/* A new socket in the daemon: the application's fd for it, its id in *id; or -errno. */
int remote_socket(int type, int protocol, uint32_t *id);

#endif
