// SPDX-License-Identifier: MIT
/* The daemon's table of RDS sockets and their holders (sockets.h). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "mprds/ipc.h"
#include "mprds/snap.h"
#include "sockets.h"

/* An id is a slot and the slot's generation, so that a stale id never names a new socket. */
#define SLOT_BITS 16
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

struct slot {
	struct api_sock *s;
	int app_fd; /* our copy of the application's end, closed with the socket */
	unsigned holders; /* clients, and passing holds */
	unsigned passing; /* holds for an fd in flight between processes (SCM_RIGHTS) */
	double passing_until;
	uint16_t gen;
};

static struct slot slots[SOCKETS_MAX];
static unsigned next_free, live, passing_slots;
static double next_expiry; /* the earliest passing_until, when passing_slots > 0 */

static struct slot *slot_of(uint32_t id)
{
	struct slot *sl = &slots[id & SLOT_MASK];

	return sl->s && sl->gen == (id >> SLOT_BITS) ? sl : NULL;
}

/*
 * A slot's next generation. The first is this daemon's own, so that the ids of a daemon that
 * replaces a dead one, and the fd names made of them (serve.c), are not those of the sockets
 * its clients still hold from the dead one while they make them again (shim/replay.c).
 */
static uint16_t next_gen(uint16_t gen)
{
	static uint16_t first;

	if (!first)
		first = (uint16_t)(((uint32_t)getpid() * 2654435761u) >> 16) | 1;
	if (!gen)
		return first;
	return (uint16_t)(gen + 1) ? (uint16_t)(gen + 1) : 1;
}

uint32_t sockets_add(struct api_sock *s, int app_fd)
{
	for (unsigned k = 0; k < SOCKETS_MAX; k++) {
		unsigned i = (next_free + k) % SOCKETS_MAX;
		struct slot *sl = &slots[i];

		if (sl->s || i == 0)
			continue;
		sl->s = s;
		sl->app_fd = app_fd;
		sl->holders = 0;
		sl->passing = 0;
		sl->gen = next_gen(sl->gen);
		next_free = i + 1;
		live++;
		return (uint32_t)sl->gen << SLOT_BITS | i;
	}
	return 0;
}

static int held_index(const struct held *h, uint32_t id)
{
	for (unsigned i = 0; i < h->n; i++)
		if (h->h[i].id == id)
			return (int)i;
	return -1;
}

struct hold *sockets_hold_of(struct held *h, uint32_t id)
{
	int i = held_index(h, id);

	return i < 0 ? NULL : &h->h[i];
}

void sockets_returned(struct held *h, uint32_t id, unsigned n, size_t bytes)
{
	struct hold *e = sockets_hold_of(h, id);
	struct slot *sl = slot_of(id);

	if (!e || !sl)
		return;
	n = n < e->lent ? n : e->lent;
	bytes = bytes < e->lent_bytes ? bytes : e->lent_bytes;
	e->lent -= n;
	e->lent_bytes -= bytes;
	api_recv_returned(sl->s, n, bytes);
}

struct api_sock *sockets_find(const struct held *holder, uint32_t id)
{
	struct slot *sl = slot_of(id);

	return sl && held_index(holder, id) >= 0 ? sl->s : NULL;
}

int sockets_hold(struct held *h, uint32_t id)
{
	struct slot *sl = slot_of(id);

	if (!sl)
		return -EBADF;
	if (held_index(h, id) >= 0)
		return 0;
	if (h->n == h->cap) {
		unsigned cap = h->cap ? 2 * h->cap : 16;
		struct hold *hs = realloc(h->h, cap * sizeof(*hs));

		if (!hs)
			return -ENOMEM;
		h->h = hs;
		h->cap = cap;
	}
	h->h[h->n++] = (struct hold){ .id = id };
	sl->holders++;
	return 0;
}

static void slot_drop(struct slot *sl)
{
	if (--sl->holders)
		return;
	api_release(sl->s);
	close(sl->app_fd);
	sl->s = NULL;
	live--;
}

void sockets_let_go(struct held *h, uint32_t id)
{
	int i = held_index(h, id);

	if (i < 0)
		return;
	/* what its cache held is lost with it, as a closed socket's queue */
	sockets_returned(h, id, h->h[i].lent, h->h[i].lent_bytes);
	h->h[i] = h->h[--h->n];
	slot_drop(slot_of(id));
}

void sockets_let_go_all(struct held *h)
{
	while (h->n)
		sockets_let_go(h, h->h[h->n - 1].id);
	free(h->h);
	*h = (struct held){ 0 };
}

int sockets_app_fd(uint32_t id)
{
	struct slot *sl = slot_of(id);

	return sl ? sl->app_fd : -1;
}

void sockets_passing(uint32_t id, double until)
{
	struct slot *sl = slot_of(id);

	if (!sl)
		return;
	if (!sl->passing++)
		passing_slots++;
	sl->holders++;
	sl->passing_until = until;
	if (passing_slots == 1 || until < next_expiry)
		next_expiry = until;
}

int sockets_attach(struct held *h, uint32_t id)
{
	struct slot *sl = slot_of(id);
	int err;

	if (!sl)
		return -EBADF;
	if (held_index(h, id) >= 0)
		return 0;
	err = sockets_hold(h, id);
	if (err || !sl->passing)
		return err;
	if (!--sl->passing)
		passing_slots--;
	slot_drop(sl); /* the passing hold, now the attacher's */
	return 0;
}

/* Called on every turn of the daemon's loop: it looks at the table only when one is due. */
void sockets_expire_passing(double now)
{
	if (!passing_slots || now < next_expiry)
		return;
	next_expiry = now + IPC_PASSING_S;
	for (unsigned i = 1; passing_slots && i < SOCKETS_MAX; i++) {
		struct slot *sl = &slots[i];

		if (!sl->s || !sl->passing)
			continue;
		if (now < sl->passing_until) {
			if (sl->passing_until < next_expiry)
				next_expiry = sl->passing_until;
			continue;
		}
		passing_slots--;
		while (sl->passing && sl->s) {
			sl->passing--;
			slot_drop(sl);
		}
	}
}

unsigned sockets_count(void)
{
	return live;
}

void sockets_save(struct snap_out *o)
{
	snap_u32(o, live);
	snap_u32(o, next_free);
	for (unsigned i = 1; i < SOCKETS_MAX; i++) {
		const struct slot *sl = &slots[i];

		if (!sl->s)
			continue;
		snap_u32(o, i);
		snap_u16(o, sl->gen);
		snap_u32(o, api_snap_id(sl->s));
		snap_u32(o, sl->holders);
		snap_u32(o, sl->passing);
		snap_f64(o, sl->passing_until);
	}
}

static void slot_load(struct snap_in *in)
{
	uint32_t i = snap_get_u32(in);
	struct slot *sl = &slots[i < SOCKETS_MAX ? i : 0];

	sl->gen = snap_get_u16(in);
	sl->s = snap_get_obj(in);
	sl->holders = snap_get_u32(in);
	sl->passing = snap_get_u32(in);
	sl->passing_until = snap_get_f64(in);
	if (!i || i >= SOCKETS_MAX || !sl->s || !sl->holders || sl->passing > sl->holders) {
		snap_fail(in, "a socket slot out of range, empty or held by no one");
		sl->s = NULL;
		return;
	}
	sl->app_fd = api_app_fd(sl->s);
	live++;
	if (sl->passing && (!passing_slots++ || sl->passing_until < next_expiry))
		next_expiry = sl->passing_until;
}

void sockets_restore(struct snap_in *in)
{
	uint32_t n = snap_get_count(in, SOCKETS_MAX - 1);

	next_free = snap_get_u32(in) % SOCKETS_MAX;
	for (uint32_t k = 0; k < n && !in->bad; k++)
		slot_load(in);
}

void held_save(struct snap_out *o, const struct held *h)
{
	snap_u32(o, h->n);
	for (unsigned i = 0; i < h->n; i++) {
		snap_u32(o, h->h[i].id);
		snap_u32(o, h->h[i].lent);
		snap_u64(o, h->h[i].lent_bytes);
		snap_u64(o, h->h[i].credit);
	}
}

void held_load(struct snap_in *in, struct held *h)
{
	uint32_t n = snap_get_count(in, SOCKETS_MAX);

	h->h = calloc(n ? n : 1, sizeof(*h->h));
	if (!h->h) {
		snap_fail(in, "out of memory");
		return;
	}
	h->cap = n ? n : 1;
	for (uint32_t i = 0; i < n && !in->bad; i++) {
		struct hold *e = &h->h[h->n];

		e->id = snap_get_u32(in);
		e->lent = snap_get_u32(in);
		e->lent_bytes = snap_get_u64(in);
		e->credit = snap_get_u64(in);
		if (!slot_of(e->id))
			snap_fail(in, "a hold of a socket that is not there");
		else
			h->n++;
	}
}
