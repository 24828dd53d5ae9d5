// SPDX-License-Identifier: MIT
/*
 * An engine's whole state as a snapshot (snap.h), for mprdsd --upgrade. The order of the
 * parts is the order they must be made in again: the engine's incarnation first (peers must
 * see the same GEN_NUM: no restart), then the sockets (messages and paths name them), the
 * listeners, and the connections with their paths.
 */
#include <errno.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/snap.h"
#include "mprds/sock.h"
#include "mprds/tcp_listen.h"

static void config_save(struct snap_out *o, const struct config *c)
{
	snap_u32(o, c->gen_num);
	snap_u8(o, c->sport_idx);
	snap_u16(o, c->port_base);
	snap_u16(o, c->port_groups);
}

static void config_load(struct snap_in *in, struct config *c)
{
	c->gen_num = snap_get_u32(in);
	c->sport_idx = snap_get_bool(in);
	c->port_base = snap_get_u16(in);
	c->port_groups = snap_get_u16(in);
}

static void stats_save(struct snap_out *o, const struct stats *s)
{
	snap_u32(o, STAT_COUNT);
	for (unsigned i = 0; i < STAT_COUNT; i++)
		snap_u64(o, s->v[i]);
}

/* Counters of an older binary's list are taken in order; ones it did not know stay 0. */
static void stats_load(struct snap_in *in, struct stats *s)
{
	uint32_t n = snap_get_count(in, 1024);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = snap_get_u64(in);

		if (i < STAT_COUNT)
			s->v[i] = v;
	}
}

void engine_save(struct engine *e, struct snap_out *o)
{
	config_save(o, &e->cfg);
	stats_save(o, &e->stats);
	sock_save_all(o, e);
	listen_save_all(o, e);
	conn_save_all(o, e);
}

int engine_restore(struct engine *e, struct snap_in *in)
{
	int err = engine_open_loop(e);

	if (err)
		return err;
	engine_lock(e);
	config_load(in, &e->cfg);
	stats_load(in, &e->stats);
	sock_restore_all(in, e);
	listen_restore_all(in, e);
	conn_restore_all(in, e);
	engine_unlock(e);
	return in->bad ? -EPROTO : 0;
}
