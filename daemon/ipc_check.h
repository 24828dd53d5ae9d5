/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_DAEMON_IPC_CHECK_H
#define MPRDS_DAEMON_IPC_CHECK_H
/* The daemon's parser of client requests (ipc.h): untrusted bytes in, checked views out. */
#include <stddef.h>
#include <stdint.h>

#include "mprds/ipc.h"

struct ipc_call {
	struct ipc_req h;
	const uint8_t *data, *name, *control;
	size_t datacount; /* data bytes the frame carries */
};

/*
 * How long the frame that starts with these n bytes (n >= sizeof(struct ipc_req)) says it
 * is: its length, or 0 if it cannot be a request (too short, too long).
 */
size_t ipc_frame_len(const void *buf, size_t n);
/* Parses one whole frame of n bytes: 0, or -EPROTO for anything our shim never sends. */
int ipc_call_parse(const void *buf, size_t n, struct ipc_call *c);

#endif
