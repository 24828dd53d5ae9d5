/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SNAP_H
#define MPRDS_SNAP_H
/*
 * An engine's state as bytes and fds, for `mprdsd --upgrade` (daemon/handover.c): the running
 * daemon writes it, a newly started binary reads it and goes on with the same TCP
 * connections, sequence numbers, queues and sockets.
 *
 * The format is a plain sequence of fields in little-endian order, each room writing and
 * reading its own part in the same order (engine_snap.c says which); an fd is written as an
 * index into the list of fds that travel beside the bytes (SCM_RIGHTS). The reader trusts
 * nothing: every read is bounded, a short or inconsistent snapshot sets `bad`, and reads
 * after that return zeros, so that a room can read all its fields and check once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mprds/addr.h"

#define SNAP_MAGIC 0x6d707275u /* "mpru" */
#define SNAP_VERSION 1

struct snap_out {
	uint8_t *buf;
	size_t len, cap;
	int *fds;
	unsigned nfds, fds_cap;
	bool failed; /* out of memory: the snapshot is useless */
};

struct snap_in {
	const uint8_t *buf;
	size_t len, off;
	int *fds;
	unsigned nfds;
	uint8_t *taken; /* fds[i] was named by what was read: its owner is there now */
	void **objs; /* what a reader made, by the ids the writer gave (sock ids) */
	unsigned nobjs;
	bool bad;
	char why[96]; /* the first thing found wrong */
};

void snap_out_init(struct snap_out *o);
/* Frees the bytes and the list (the fds in it are the writer's own, not closed). */
void snap_out_fini(struct snap_out *o);
void snap_u8(struct snap_out *o, uint8_t v);
void snap_u16(struct snap_out *o, uint16_t v);
void snap_u32(struct snap_out *o, uint32_t v);
void snap_u64(struct snap_out *o, uint64_t v);
void snap_f64(struct snap_out *o, double v);
/* n bytes as they are (the reader knows n). */
void snap_raw(struct snap_out *o, const void *p, size_t n);
/* n, then the bytes. */
void snap_blob(struct snap_out *o, const void *p, uint32_t n);
void snap_addr(struct snap_out *o, const struct addr *a);
/* fd travels with the snapshot (once, however often it is written); -1 is written as none. */
void snap_fd(struct snap_out *o, int fd);

void snap_in_init(struct snap_in *in, const uint8_t *buf, size_t len, int *fds, unsigned nfds);
/* Frees what the reader made for itself (not the buffer, not the fds). */
void snap_in_fini(struct snap_in *in);
/* Marks the snapshot bad, keeping the first reason. */
void snap_fail(struct snap_in *in, const char *why);
uint8_t snap_get_u8(struct snap_in *in);
uint16_t snap_get_u16(struct snap_in *in);
uint32_t snap_get_u32(struct snap_in *in);
uint64_t snap_get_u64(struct snap_in *in);
double snap_get_f64(struct snap_in *in);
bool snap_get_bool(struct snap_in *in);
void snap_get_addr(struct snap_in *in, struct addr *a);
/* n bytes into p (zeros once bad). */
void snap_get_raw(struct snap_in *in, void *p, size_t n);
/* A blob of at most max bytes: its length, the bytes in place (*p); 0 and NULL once bad. */
uint32_t snap_get_blob(struct snap_in *in, const uint8_t **p, uint32_t max);
/* A count of at most max items (more is bad). */
uint32_t snap_get_count(struct snap_in *in, uint32_t max);
/*
 * The fd written there (-1 for none). One fd named in two places (a socket's end and the
 * reply about to pass it) is the same fd both times: its owner is the room that closes it.
 */
int snap_get_fd(struct snap_in *in);
/* The object id names (0: none), or NULL and bad for an id out of range. */
void *snap_get_obj(struct snap_in *in);
/* Closes every fd nothing named (a snapshot that was not used closes them all first). */
void snap_in_close_rest(struct snap_in *in);

#endif
