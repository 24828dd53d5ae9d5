/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_DAEMON_CLIENT_H
#define MPRDS_DAEMON_CLIENT_H
/*
 * One client process's channel to the daemon: what it sent that is not served yet, the reply
 * not yet written, and the sockets it holds. A client gets one reply at a time and must read
 * it before the daemon reads its next request, so a client that stops reading holds only its
 * own buffer (DESIGN.md: a hostile client hurts only itself).
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockets.h"

struct client {
	int fd;
	uid_t uid;
	pid_t pid;
	uint64_t token; /* IPC_ADOPT names a client by it */
	bool welcomed; /* the hello was answered: ipc.h frames follow */
	bool handover; /* a new binary's upgrade hello (handover.h): not a client */
	uint8_t *in;
	size_t in_off, in_len, in_cap; /* in[in_off..in_len) is read and not yet served */
	uint8_t *out;
	size_t out_len, out_off;
	int pass_fd; /* sent with the reply's first byte (SCM_RIGHTS), or -1 */
	int given_fd; /* the last fd the client sent (SCM_RIGHTS), for IPC_ATTACH; or -1 */
	struct held held;
	/*
	 * At least what c's sockets hold queued plus the credit they were given to send unasked
	 * (MPRDS_CLIENT_MIB): what the last count found plus what was added since; counted
	 * again, socket by socket, only when near the limit.
	 */
	size_t queued_bound;
};

struct serve_ctx;

struct client *client_new(int fd, uid_t uid, pid_t pid, uint64_t token);
/* Lets go of c's sockets, closes its channel, frees it. */
void client_free(struct client *c);
/*
 * Reads what c sent and serves a request once it is whole, putting the reply in c's output
 * (the hello's welcome first). false: c is gone or sent what our shim never sends.
 */
bool client_read(struct client *c, const struct serve_ctx *ctx, unsigned nclients,
		 unsigned gen_num);
/* Writes what it can of c's reply: false when c is gone. */
bool client_write(struct client *c);
/* Is a reply still to be written? (Then c's requests wait.) */
bool client_has_output(const struct client *c);
/* Room for a reply of size bytes in c's output (empty until now): NULL when out of memory. */
void *client_reply_room(struct client *c, size_t size);

/* mprdsd --upgrade: c in a snapshot (snap.h: after the socket table), and back. */
struct snap_in;
struct snap_out;
void client_save(struct snap_out *o, const struct client *c);
struct client *client_load(struct snap_in *in);

#endif
