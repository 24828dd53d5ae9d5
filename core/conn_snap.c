// SPDX-License-Identifier: MIT
/*
 * Connections in an engine's snapshot (mprdsd --upgrade): the handshake's outcome (npaths,
 * the peer's generation and SPORT_IDX), the peer's congestion map, what waits for the
 * handshake, the timers, and each path (path_snap.c). Our own generation number goes with
 * the engine (engine_snap.c): a peer must not see a restart.
 */
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/snap.h"
#include "mprds/sock.h"

#define SNAP_MAX_CONNS (1u << 20)

/* Timers are on CLOCK_MONOTONIC, the same in both daemons: the due time carries over. */
static void timer_save(struct snap_out *o, const struct timer *t)
{
	snap_f64(o, t->slot ? t->due : -1);
}

static void timer_load(struct snap_in *in, struct engine *e, struct timer *t)
{
	double due = snap_get_f64(in);

	if (!in->bad && due >= 0 && timer_start(&e->timers, t, due) < 0)
		snap_fail(in, "a timer that cannot be armed");
}

static void conn_save(struct snap_out *o, const struct conn *c)
{
	snap_addr(o, &c->laddr);
	snap_addr(o, &c->faddr);
	snap_u8(o, c->loopback);
	snap_u32(o, (uint32_t)c->npaths);
	snap_u8(o, c->probe_pending);
	snap_u8(o, c->lanes_ok);
	snap_u8(o, c->provisional);
	snap_u64(o, c->catchup_seq);
	snap_u32(o, c->peer_gen);
	snap_u8(o, c->peer_sport_idx);
	snap_raw(o, c->peer_cong, sizeof(c->peer_cong));
	snap_u64(o, c->peer_cong_at);
	msg_queue_save(o, &c->held);
	snap_u8(o, c->hold_expired);
	snap_u8(o, c->cong_pending);
	snap_u8(o, c->unreachable_said);
	timer_save(o, &c->hs_timer);
	timer_save(o, &c->reap);
	timer_save(o, &c->hold_timer);
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		path_save(&c->paths[i], o);
}

void conn_save_all(struct snap_out *o, struct engine *e)
{
	uint32_t n = (uint32_t)conn_count(e);
	struct conn *c;

	snap_u32(o, n);
	LIST_FOREACH(c, &e->conns.list, link)
	conn_save(o, c);
}

static void conn_load(struct snap_in *in, struct engine *e)
{
	struct addr laddr, faddr;
	struct conn *c;

	snap_get_addr(in, &laddr);
	snap_get_addr(in, &faddr);
	c = in->bad ? NULL : conn_get(e, &laddr, &faddr);
	if (!c) {
		snap_fail(in, "a connection that cannot be made");
		return;
	}
	c->loopback = snap_get_bool(in);
	c->npaths = (int)snap_get_u32(in);
	if (c->npaths < 0 || c->npaths > WIRE_MAX_PATHS)
		snap_fail(in, "a connection with more paths than there are");
	c->probe_pending = snap_get_bool(in);
	c->lanes_ok = snap_get_bool(in);
	c->provisional = snap_get_bool(in);
	c->catchup_seq = snap_get_u64(in);
	c->peer_gen = snap_get_u32(in);
	c->peer_sport_idx = snap_get_bool(in);
	snap_get_raw(in, c->peer_cong, sizeof(c->peer_cong));
	c->peer_cong_at = snap_get_u64(in);
	msg_queue_load(in, e, &c->held);
	c->hold_expired = snap_get_bool(in);
	c->cong_pending = snap_get_bool(in);
	c->unreachable_said = snap_get_bool(in);
	timer_load(in, e, &c->hs_timer);
	timer_load(in, e, &c->reap);
	timer_load(in, e, &c->hold_timer);
	for (int i = 0; i < WIRE_MAX_PATHS && !in->bad; i++)
		path_restore(&c->paths[i], in);
}

void conn_restore_all(struct snap_in *in, struct engine *e)
{
	uint32_t n = snap_get_count(in, SNAP_MAX_CONNS);

	for (uint32_t i = 0; i < n && !in->bad; i++)
		conn_load(in, e);
}
