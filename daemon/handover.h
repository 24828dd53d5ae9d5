/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_DAEMON_HANDOVER_H
#define MPRDS_DAEMON_HANDOVER_H
/*
 * mprdsd --upgrade: how a running daemon hands its state to a newly started binary, on the
 * new one's channel to the rendezvous. The new binary says the upgrade hello; the old one,
 * its engine stopped, sends the snapshot (snap.h) as a memfd and the fds it names in
 * batches (SCM_RIGHTS); the new one makes the state again and answers; only when it
 * answers "restored" is it told to go, and the old one exits. Anything else (no answer in
 * HANDOVER_WAIT_S, a refusal, the channel gone) leaves the old one serving, and the new one
 * never touches what it was given.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mprds/snap.h"

#define HANDOVER_MAGIC 0x6d707275u /* "mpru": a rendezvous hello asking to take over */
#define HANDOVER_WAIT_S 10.0

/* Is this hello (n bytes from a client, untrusted) a new binary asking to take over? */
bool handover_hello_is(const void *buf, size_t n);

/*
 * Old daemon: sends o on fd and waits for the new binary's answer. 0: it restored the state
 * and was told to go (the caller exits at once); else -errno, with why filled.
 */
int handover_give(int fd, const struct snap_out *o, char *why, size_t why_len);

/* What the new binary was given: the snapshot's bytes (mapped) and its fds. */
struct handover_taken {
	uint8_t *buf;
	size_t len;
	int *fds;
	unsigned nfds;
	int old_pid;
};

/* New binary: connects to instance's daemon and asks for its state: 0, or -errno and why. */
int handover_take(const char *instance, int *chan, struct handover_taken *t, char *why,
		  size_t why_len);
/* Unmaps the bytes, frees the list (the fds are the restorer's or were closed). */
void handover_taken_free(struct handover_taken *t);
/*
 * New binary: tells the old daemon that the state is made again (why NULL) or why not, and
 * in the first case waits for its go: 0 = serve now; else the old one goes on.
 */
int handover_answer(int chan, const char *why);

#endif
