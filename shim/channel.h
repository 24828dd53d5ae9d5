/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SHIM_CHANNEL_H
#define MPRDS_SHIM_CHANNEL_H
/* The process's channel to mprdsd: one call and its reply at a time (channel.c). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mprds/ipc.h"

struct channel_call {
	struct ipc_req req; /* len, op and the rest, filled by the caller */
	const struct iovec *data_out; /* the request's data */
	size_t data_out_n;
	const void *name_out, *control_out; /* req.namelen, req.ctllen bytes */
	const int *give_fd; /* an fd the request carries (SCM_RIGHTS), or NULL */
	struct ipc_rep rep; /* the reply's header */
	const struct iovec *data_in; /* where the reply's data goes */
	size_t data_in_n;
	void *name_in, *control_in;
	size_t name_in_room, control_in_room;
	void *extra_in; /* where lent messages go (ipc_rep.lentlen bytes) */
	size_t extra_in_room;
	int passed_fd; /* the fd that came with the reply, or -1 */
	/*
	 * In: the daemon (channel_epoch()) req.id belongs to, 0 for a call that names no socket.
	 * Out: the daemon that served the call.
	 */
	uint32_t epoch;
};

/*
 * Every daemon the process talks to in turn is one epoch: when the channel breaks (the
 * daemon died), the ids of the last one name nothing, and the sockets are made again in the
 * next (replay.c). Never -errno: the callers turn them into a retry or a result.
 */
#define CHANNEL_STALE (-ESTALE) /* c->epoch is not the daemon's now: nothing was sent */
#define CHANNEL_LOST (-ECONNABORTED) /* the daemon died after the request went: outcome unknown */

/* The daemon the process talks to now; it changes when the channel breaks. */
uint32_t channel_epoch(void);

/*
 * Sends c's request (starting the daemon if none answers) and reads the reply into c's
 * buffers: 0, CHANNEL_STALE, CHANNEL_LOST, or -errno when there is no daemon to talk to.
 */
int channel_call(struct channel_call *c);

/* Sends c's request, which has no reply (IPC_SEND_QUEUED): 0, CHANNEL_STALE or -errno. */
int channel_send(struct channel_call *c);

/* The fork handlers (preload.c): the child gets a channel of its own holding our sockets. */
void channel_fork_prepare(void);
void channel_fork_parent(void);
void channel_fork_child(void);

#endif
