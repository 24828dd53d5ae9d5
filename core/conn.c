// SPDX-License-Identifier: MIT
/*
 * One RDS connection per (local, peer) address pair: the multipath handshake, the choice of
 * path for a socket, and the lane-0 catch-up that keeps a socket's messages in order when it
 * moves from path 0 to its own lane (wire.md §6-§8).
 */
#include <stdlib.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/sock.h"
#include "mprds/sysio.h"

/* Engine state (under engine.lock). */
static LIST_HEAD(, conn) conns = LIST_HEAD_INITIALIZER(conns);

struct conn *conn_find(const struct addr *laddr, const struct addr *faddr)
{
	struct conn *c;

	LIST_FOREACH(c, &conns, link)
	if (addr_eq(&c->laddr, laddr) && addr_eq(&c->faddr, faddr))
		return c;
	return NULL;
}

#define HOLD_TIMEOUT_S 1.0 /* every kernel answers a probe at once; this is for broken peers */

static void release_held(struct conn *c)
{
	struct msg *m;

	if (ev_is_active(&c->hold_timer))
		ev_timer_stop(engine.loop, &c->hold_timer);
	while ((m = TAILQ_FIRST(&c->held))) {
		TAILQ_REMOVE(&c->held, m, link);
		path_enqueue(conn_pick_path(c, m->h.sport), m);
	}
}

static void on_hold_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	char f[ADDR_STRLEN];

	(void)loop, (void)revents;
	if (c->npaths || TAILQ_EMPTY(&c->held))
		return;
	log_warn("%s has not answered the multipath probe: sending on path 0",
		 addr_str(&c->faddr, f));
	c->hold_expired = true;
	release_held(c);
}

void conn_path0_up(struct conn *c)
{
	if (c->npaths == 0 && !TAILQ_EMPTY(&c->held) && !ev_is_active(&c->hold_timer)) {
		ev_timer_set(&c->hold_timer, HOLD_TIMEOUT_S, 0);
		ev_timer_start(engine.loop, &c->hold_timer);
	}
}

void conn_send(struct conn *c, struct msg *m)
{
	if (c->npaths == 0 && !c->hold_expired) {
		conn_probe(c);
		TAILQ_INSERT_TAIL(&c->held, m, link);
		engine_kick(&c->paths[0]);
		return;
	}
	path_enqueue(conn_pick_path(c, m->h.sport), m);
}

struct conn *conn_get(const struct addr *laddr, const struct addr *faddr)
{
	struct conn *c = conn_find(laddr, faddr);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->laddr = *laddr;
	c->faddr = *faddr;
	c->smaller = addr_cmp(laddr, faddr) < 0;
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		path_init(&c->paths[i], c, i);
	TAILQ_INIT(&c->held);
	ev_init(&c->hold_timer, on_hold_timeout);
	c->hold_timer.data = c;
	LIST_INSERT_HEAD(&conns, c, link);
	return c;
}

/*
 * Any function of the port keeps a socket's messages on one path; this one spreads runs of
 * consecutive ports, and ports a multiple of 8 apart, evenly over 8 paths.
 */
struct path *conn_pick_path(struct conn *c, uint16_t port)
{
	unsigned h = port ^ (port >> 3) ^ (port >> 6);

	if (c->npaths <= 1)
		return &c->paths[0];
	return &c->paths[h % (unsigned)c->npaths];
}

void conn_fill_exts(struct wire_exts *ex)
{
	*ex = (struct wire_exts){
		.has_npaths = true,
		.npaths = (uint16_t)engine.cfg.npaths,
		.has_gen_num = true,
		.gen_num = engine.cfg.gen_num,
	};
}

void conn_probe(struct conn *c)
{
	struct wire_exts ex;
	struct msg *m;

	if (c->npaths != 0 || c->probe_pending)
		return;
	m = msg_new(WIRE_PROBE_PORT, 0, NULL, 0);
	if (!m)
		return;
	conn_fill_exts(&ex);
	wire_exts_build(&ex, m->h.ext);
	c->probe_pending = true;
	path_enqueue(&c->paths[0], m);
	log_debug("probe queued on path 0 (NPATHS=%d)", engine.cfg.npaths);
}

static void note_generation(struct conn *c, const struct wire_exts *ex)
{
	char f[ADDR_STRLEN];

	if (!ex->has_gen_num || ex->gen_num == 0)
		return;
	if (c->peer_gen && c->peer_gen != ex->gen_num)
		log_info("peer %s restarted (generation %08x -> %08x)", addr_str(&c->faddr, f),
			 c->peer_gen, ex->gen_num);
	c->peer_gen = ex->gen_num;
}

void conn_handshake(struct conn *c, const struct wire_exts *ex)
{
	char l[ADDR_STRLEN], f[ADDR_STRLEN];
	int old = c->npaths;

	if (ex->has_npaths) {
		int n = ex->npaths < 1 ? 1 : ex->npaths;

		c->npaths = n < engine.cfg.npaths ? n : engine.cfg.npaths;
	} else if (c->npaths < 1) {
		c->npaths = 1; /* a legacy peer: one path */
	}
	c->probe_pending = false;
	c->peer_sport_idx = ex->has_sport_idx;
	note_generation(c, ex);
	if (c->npaths == old)
		return;
	if (c->npaths > 1)
		c->catchup_seq = c->paths[0].next_tx_seq;
	release_held(c);
	log_info("handshake %s<->%s: peer %s%u paths, using %d", addr_str(&c->laddr, l),
		 addr_str(&c->faddr, f), ex->has_npaths ? "offers " : "is legacy, ",
		 ex->has_npaths ? ex->npaths : 1, c->npaths);
	if (c->smaller)
		for (int i = 1; i < c->npaths; i++)
			engine_kick(&c->paths[i]);
}

bool conn_lane_may_send(struct conn *c, const struct path *p)
{
	const struct path *p0 = &c->paths[0];
	const struct msg *oldest;

	if (p->index == 0 || c->catchup_seq == 0)
		return true;
	oldest = TAILQ_FIRST(&p0->unacked);
	if (!oldest)
		oldest = TAILQ_FIRST(&p0->sendq);
	if (oldest && oldest->h.seq < c->catchup_seq)
		return false;
	c->catchup_seq = 0;
	return true;
}

static void forget_in_queue(struct path *p, struct msg_queue *q, struct sock *s, bool sendq)
{
	struct msg *m, *next;

	for (m = TAILQ_FIRST(q); m; m = next) {
		next = TAILQ_NEXT(m, link);
		if (m->sender != s)
			continue;
		/* A message partly on the wire must be finished or the stream breaks. */
		if (sendq && m == TAILQ_FIRST(q) && p->head_off) {
			m->sender = NULL;
			continue;
		}
		TAILQ_REMOVE(q, m, link);
		msg_free(m);
	}
}

/* socket-api.md §8: closing a socket removes its queued and unacknowledged messages. */
void conn_forget_sender(struct sock *s)
{
	struct conn *c;

	LIST_FOREACH(c, &conns, link)
	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		if (i == 0)
			forget_in_queue(&c->paths[0], &c->held, s, false);
		forget_in_queue(&c->paths[i], &c->paths[i].sendq, s, true);
		forget_in_queue(&c->paths[i], &c->paths[i].unacked, s, false);
	}
}

void conn_after_fork(void)
{
	struct conn *c;

	LIST_FOREACH(c, &conns, link)
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		if (c->paths[i].fd >= 0)
			sys_close(c->paths[i].fd);
	LIST_INIT(&conns);
}

void conn_free_all(void)
{
	struct conn *c;

	while ((c = LIST_FIRST(&conns))) {
		LIST_REMOVE(c, link);
		msg_queue_free(&c->held);
		for (int i = 0; i < WIRE_MAX_PATHS; i++) {
			msg_queue_free(&c->paths[i].sendq);
			msg_queue_free(&c->paths[i].unacked);
			wire_parser_reset(&c->paths[i].parser);
		}
		free(c);
	}
}

bool conn_all_idle(void)
{
	struct conn *c;

	LIST_FOREACH(c, &conns, link)
	{
		if (!TAILQ_EMPTY(&c->held))
			return false;
		for (int i = 0; i < WIRE_MAX_PATHS; i++)
			if (!path_idle(&c->paths[i]))
				return false;
	}
	return true;
}

int conn_count(void)
{
	struct conn *c;
	int n = 0;

	LIST_FOREACH(c, &conns, link)
	n++;
	return n;
}

void conn_log_stats(void)
{
	char l[ADDR_STRLEN], f[ADDR_STRLEN];
	struct conn *c;

	if (!log_enabled(LOG_INFO))
		return;
	LIST_FOREACH(c, &conns, link)
	{
		log_info("conn %s<->%s: %d paths", addr_str(&c->laddr, l), addr_str(&c->faddr, f),
			 c->npaths);
		for (int i = 0; i < WIRE_MAX_PATHS; i++) {
			struct path *p = &c->paths[i];

			if (!p->connects && !p->msgs_tx && !p->msgs_rx)
				continue;
			log_info("  path %d: sent %llu msgs (%llu B), received %llu msgs (%llu B), "
				 "retransmitted %llu, duplicates dropped %llu",
				 i, (unsigned long long)p->msgs_tx, (unsigned long long)p->bytes_tx,
				 (unsigned long long)p->msgs_rx, (unsigned long long)p->bytes_rx,
				 (unsigned long long)p->retransmits, (unsigned long long)p->dups);
		}
	}
}
