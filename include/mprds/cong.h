/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_CONG_H
#define MPRDS_CONG_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/queue.h>

#include "mprds/addr.h"

struct conn;
struct engine;
struct msg;
struct sock;

/* An engine's local congestion maps, one per local address with a congested socket. */
struct cong_table {
	LIST_HEAD(, cong_map) maps;
};

/*
 * Congestion maps (wire.md §10): one bitmap per local address, set for a port whose socket
 * holds more unread bytes than its rcvbuf, sent to every peer of that address on change and
 * whenever a path comes up; and each peer's map, tested before queueing a message to it.
 */

/* Sets or clears port's bit in the local map of a: 0, or -ENOMEM (no map yet, none made). */
int cong_map_set(struct engine *e, const struct addr *a, uint16_t port, bool congested);
/* A snapshot of c's local map as a message to send, or NULL (no map, no memory). */
struct msg *cong_map_message(const struct conn *c);
/* Is port congested in map (a peer's, or ours; NULL = none) for a sender on s? Arms the
 * monitor bit as the kernel does. */
bool cong_blocks(struct sock *s, const uint8_t *map, uint16_t dport);
/* The local map of address a, for senders in this process; NULL if it has none. */
const uint8_t *cong_local_map(struct engine *e, const struct addr *a);
/*
 * A map of c's peer arrived at arrived_ns (monotonic; 0: unknown): taken unless one that
 * arrived later (on another path) was taken already. False: ignored, as stale.
 */
bool cong_peer_map_take(struct conn *c, const uint8_t *map, uint64_t arrived_ns);
/* c's peer map means nothing any more (no path left, a new incarnation): all clear. */
void cong_peer_map_forget(struct conn *c);
/* Frees every map. */
void cong_free_all(struct engine *e);

#endif
