// SPDX-License-Identifier: MIT
/*
 * One RDS connection per (local, peer) address pair: the multipath handshake, the choice of
 * path for a socket, and the lane-0 catch-up that keeps a socket's messages in order when it
 * moves from path 0 to its own lane (wire.md §6-§8).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/clock.h"
#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/sock.h"
#include "mprds/sysio.h"

struct conn *conn_find(struct engine *e, const struct addr *laddr, const struct addr *faddr)
{
	struct conn *c;

	LIST_FOREACH(c, &e->conns.list, link)
	if (addr_eq(&c->laddr, laddr) && addr_eq(&c->faddr, faddr))
		return c;
	return NULL;
}

#define HOLD_TIMEOUT_S 1.0 /* every kernel answers a probe at once; this is for broken peers */
#define HS_TIMEOUT_S 1.0 /* lanes wait at most this long for the handshake on a new path 0 */
#define MAX_PROVISIONAL 32 /* conns made by accepted connections and not heard from yet */
#define EVICT_LOG_S 10.0

static void release_held(struct conn *c)
{
	struct msg *m;

	timer_stop(&c->eng->timers, &c->hold_timer);
	while ((m = TAILQ_FIRST(&c->held))) {
		TAILQ_REMOVE(&c->held, m, link);
		path_enqueue(conn_pick_path(c, m->h.sport), m);
	}
}

static void on_hold_timeout(struct timer *t, void *arg)
{
	struct conn *c = arg;
	char f[ADDR_STRLEN];

	(void)t;
	if (c->npaths || TAILQ_EMPTY(&c->held))
		return;
	log_warn("%s has not answered the multipath probe: sending on path 0",
		 addr_str(&c->faddr, f));
	c->hold_expired = true;
	release_held(c);
}

static void queue_probe(struct conn *c);

/*
 * A timeout of c in secs. Out of memory for the timer heap, it stays unarmed: what it
 * guards then waits for the next event of the connection instead.
 */
static void start_timer(struct conn *c, struct timer *t, double secs)
{
	if (timer_start(&c->eng->timers, t, clock_now() + secs) < 0)
		log_warn("out of memory for a timer: it waits for the connection's next event");
}

static void open_lanes(struct conn *c)
{
	c->lanes_ok = true;
	timer_stop(&c->eng->timers, &c->hs_timer);
	if (c->smaller)
		for (int i = 1; i < c->npaths; i++)
			kick_path(&c->eng->kicks, &c->paths[i]);
}

static void on_hs_timeout(struct timer *t, void *arg)
{
	struct conn *c = arg;
	char f[ADDR_STRLEN];

	(void)t;
	log_warn("%s has not answered the probe on a new path 0: opening the other paths anyway",
		 addr_str(&c->faddr, f));
	open_lanes(c);
}

/* A probe queued and never written yet will open this connection: one probe at a time. */
static bool fresh_probe_queued(struct conn *c)
{
	struct msg *m;

	TAILQ_FOREACH(m, &c->paths[0].sendq, link)
	if (m->h.sport == WIRE_PROBE_PORT && m->h.dport == 0 && !m->retransmit)
		return true;
	return false;
}

void conn_path0_up(struct conn *c)
{
	/* 7.0+ (wire.md §6): every path-0 connection handshakes again; GEN_NUM tells a restart. */
	if (!fresh_probe_queued(c)) {
		c->probe_pending = false;
		queue_probe(c);
	}
	c->lanes_ok = false;
	if (c->smaller && c->npaths > 1)
		start_timer(c, &c->hs_timer, HS_TIMEOUT_S);
	if (c->npaths == 0 && !TAILQ_EMPTY(&c->held) && !timer_active(&c->hold_timer))
		start_timer(c, &c->hold_timer, HOLD_TIMEOUT_S);
}

void conn_path0_down(struct conn *c)
{
	c->probe_pending = false;
	c->lanes_ok = false;
	timer_stop(&c->eng->timers, &c->hs_timer);
}

struct path *conn_send(struct conn *c, struct msg *m)
{
	struct path *p;

	if (c->npaths == 0 && !c->hold_expired) {
		conn_probe(c);
		TAILQ_INSERT_TAIL(&c->held, m, link);
		kick_path(&c->eng->kicks, &c->paths[0]);
		return NULL;
	}
	p = conn_pick_path(c, m->h.sport);
	path_queue(p, m);
	return p;
}

/* "a.b.c.d:port" or "[v6]:port": the peer's RDS/TCP listener, as a log line names it. */
static const char *peer_endpoint(const struct conn *c, char *buf, size_t n)
{
	char a[ADDR_STRLEN];

	addr_str(&c->faddr, a);
	snprintf(buf, n, addr_is_v4(&c->faddr) ? "%s:%u" : "[%s]:%u", a, c->eng->cfg.tcp_port);
	return buf;
}

/* Errors that say nothing answers at the peer's address, rather than something of ours. */
static bool peer_absent(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == EHOSTDOWN || err == ECONNRESET;
}

/*
 * A peer where nothing answers gets one warn line, not one per retry (the backoff retries
 * every second at most, for as long as messages wait), and one info line once it answers.
 */
static void conn_unreachable(struct conn *c, int err)
{
	char peer[ADDR_STRLEN + 16], l[ADDR_STRLEN], why[64];

	if (c->unreachable_said)
		return;
	c->unreachable_said = true;
	snprintf(why, sizeof(why), "%s", strerror(err));
	why[0] = (char)tolower((unsigned char)why[0]);
	peer_endpoint(c, peer, sizeof(peer));
	addr_str(&c->laddr, l);
	if (peer_absent(err))
		log_warn("no RDS at %s (from %s): %s; retrying", peer, l, why);
	else
		log_warn("cannot connect from %s to RDS at %s: %s; retrying", l, peer, why);
}

static void conn_reached(struct conn *c)
{
	char peer[ADDR_STRLEN + 16];

	if (!c->unreachable_said)
		return;
	c->unreachable_said = false;
	log_info("RDS at %s answers", peer_endpoint(c, peer, sizeof(peer)));
}

static void on_reap(struct timer *t, void *arg);

static const struct path_owner_ops path_owner = {
	.has_app_data = conn_has_app_data,
	.lane_may_send = conn_lane_may_send,
	.map_path = conn_map_path,
	.path0_up = conn_path0_up,
	.path0_down = conn_path0_down,
	.path_down = conn_path_down,
	.want_cong_map = conn_want_cong_map,
	.unreachable = conn_unreachable,
	.reached = conn_reached,
};

static struct conn *conn_new(struct engine *e, const struct addr *laddr, const struct addr *faddr)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->eng = e;
	c->laddr = *laddr;
	c->faddr = *faddr;
	c->smaller = addr_cmp(laddr, faddr) < 0;
	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		if (path_init(&c->paths[i], c, i, e->transport, &path_owner) < 0) {
			while (i-- > 0)
				path_release(&c->paths[i]);
			free(c);
			return NULL;
		}
	}
	TAILQ_INIT(&c->held);
	timer_init(&c->hold_timer, on_hold_timeout, c);
	timer_init(&c->hs_timer, on_hs_timeout, c);
	timer_init(&c->reap, on_reap, c);
	LIST_INSERT_HEAD(&e->conns.list, c, link);
	return c;
}

/* Everything of c goes: its TCP connections, timers and queued messages. */
static void conn_destroy(struct conn *c)
{
	struct msg *m;

	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		path_release(&c->paths[i]);
	timer_stop(&c->eng->timers, &c->hold_timer);
	timer_stop(&c->eng->timers, &c->hs_timer);
	timer_stop(&c->eng->timers, &c->reap);
	while ((m = TAILQ_FIRST(&c->held))) {
		TAILQ_REMOVE(&c->held, m, link);
		if (m->sender)
			sock_credit(m->sender, m->h.len);
		msg_free(m);
	}
	LIST_REMOVE(c, link);
	free(c);
}

struct conn *conn_get(struct engine *e, const struct addr *laddr, const struct addr *faddr)
{
	struct conn *c = conn_find(e, laddr, faddr);

	if (!c)
		c = conn_new(e, laddr, faddr);
	if (c)
		c->provisional = false; /* a local socket holds it now, across waits */
	return c;
}

/*
 * The peer addresses of the provisional conns (up to MAX_PROVISIONAL + 1), in the order of
 * each one's newest conn: the list has the newest first, so the last is the peer that has
 * connected least recently. *known: faddr is one of them.
 */
static int provisional_peers(struct engine *e, const struct addr *faddr, struct addr *peers,
			     bool *known)
{
	struct conn *c;
	int n = 0, i;

	*known = false;
	LIST_FOREACH(c, &e->conns.list, link)
	{
		if (!c->provisional)
			continue;
		*known = *known || addr_eq(&c->faddr, faddr);
		for (i = 0; i < n && !addr_eq(&peers[i], &c->faddr); i++)
			;
		if (i == n && n <= MAX_PROVISIONAL)
			peers[n++] = c->faddr;
	}
	return n;
}

/* Closes every conn of peer that has not been heard from (README "Bounded memory"). */
static void evict_peer(struct engine *e, const struct addr *peer, int peers)
{
	struct conn_table *t = &e->conns;
	struct conn *c, *next;
	char f[ADDR_STRLEN];

	/* One line per EVICT_LOG_S at most: this is what a flood looks like. */
	if (++t->evicted == 1 || clock_now() >= t->evict_logged + EVICT_LOG_S) {
		log_warn("%d peers connected and sent nothing yet: closing the connections of the "
			 "oldest, %s (%u so far)",
			 peers, addr_str(peer, f), t->evicted);
		t->evict_logged = clock_now();
	}
	for (c = LIST_FIRST(&t->list); c; c = next) {
		next = LIST_NEXT(c, link);
		if (c->provisional && addr_eq(&c->faddr, peer))
			conn_destroy(c);
	}
}

/*
 * A peer address counts once however many of our addresses it connects to: one client of
 * 64 addresses of this process is one peer (it used to count 64 and trip the guard).
 */
struct conn *conn_accept_get(struct engine *e, const struct addr *laddr, const struct addr *faddr)
{
	struct conn *c = conn_find(e, laddr, faddr);
	struct addr peers[MAX_PROVISIONAL + 1];
	bool known;
	int n;

	if (c)
		return c;
	n = provisional_peers(e, faddr, peers, &known);
	if (!known && n >= MAX_PROVISIONAL) {
		struct addr oldest = peers[n - 1];

		evict_peer(e, &oldest, n);
	}
	c = conn_new(e, laddr, faddr);
	if (c)
		c->provisional = true;
	return c;
}

void conn_heard(struct conn *c)
{
	c->provisional = false;
}

bool conn_has_app_data(const struct conn *c)
{
	if (!TAILQ_EMPTY(&c->held))
		return true;
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		if (!path_idle(&c->paths[i]))
			return true;
	return false;
}

static bool all_closed(const struct conn *c)
{
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		if (c->paths[i].tr->is_open(&c->paths[i]))
			return false;
	return true;
}

static void on_reap(struct timer *t, void *arg)
{
	struct conn *c = arg;

	(void)t;
	if (c->provisional && all_closed(c))
		conn_destroy(c);
}

static bool map_clear(const uint8_t *map)
{
	static const uint8_t zero[WIRE_CONG_MAP_BYTES];

	return !memcmp(map, zero, sizeof(zero));
}

/* Called from inside c's own callbacks: the free happens from the loop, a moment later. */
void conn_path_down(struct conn *c)
{
	bool had_bits;

	if (!all_closed(c))
		return;
	/*
	 * No connection left: the peer's map is stale, and a sender blocked on a congested
	 * port of a peer that is gone would wait for ever (the kernel's would). Every path up
	 * brings the peer's map again (wire.md §9).
	 */
	had_bits = !map_clear(c->peer_cong);
	cong_peer_map_forget(c);
	if (had_bits)
		sock_peer_map_changed(c->eng);
	if (c->provisional && !timer_active(&c->reap))
		start_timer(c, &c->reap, 0);
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

/*
 * Maps sent on different paths could be applied out of order by the peer, a stale one last;
 * so every map goes on the lowest path that is up: path 0, unless it is down.
 */
struct path *conn_map_path(struct conn *c)
{
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		if (c->paths[i].state == PATH_UP)
			return &c->paths[i];
	return NULL;
}

void conn_want_cong_map(struct conn *c)
{
	struct path *p = conn_map_path(c);

	c->cong_pending = true;
	if (p)
		kick_path(&c->eng->kicks, p);
}

void conn_cong_changed(struct engine *e, const struct addr *laddr)
{
	struct conn *c;

	LIST_FOREACH(c, &e->conns.list, link)
	if (addr_eq(&c->laddr, laddr))
		conn_want_cong_map(c);
}

void conn_fill_exts(const struct conn *c, struct wire_exts *ex)
{
	const struct config *cfg = &c->eng->cfg;

	*ex = (struct wire_exts){
		.has_npaths = true,
		.npaths = (uint16_t)cfg->npaths,
		.has_gen_num = true,
		.gen_num = cfg->gen_num,
		.has_sport_idx = cfg->sport_idx,
	};
}

void conn_probe(struct conn *c)
{
	if (c->npaths == 0)
		queue_probe(c);
}

static void queue_probe(struct conn *c)
{
	struct wire_exts ex;
	struct msg *m;

	if (c->probe_pending)
		return;
	m = msg_new(c->eng, WIRE_PROBE_PORT, 0, NULL, 0);
	if (!m)
		return;
	conn_fill_exts(c, &ex);
	wire_exts_build(&ex, m->h.ext);
	c->probe_pending = true;
	path_enqueue(&c->paths[0], m);
	log_debug("probe queued on path 0 (NPATHS=%d)", c->eng->cfg.npaths);
}

/*
 * wire.md §13: the peer is a new incarnation. On every path sequence numbers start again
 * and what waits for retransmission is dropped: it was for the old one (which may well
 * have had it). Messages not yet written go to the new one, renumbered.
 */
static void peer_restarted(struct conn *c, uint32_t gen)
{
	char f[ADDR_STRLEN];
	uint64_t flushed = 0;

	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		uint64_t before = c->paths[i].flushed;

		path_peer_restarted(&c->paths[i]);
		flushed += c->paths[i].flushed - before;
	}
	/* Path 0's queue was renumbered: its whole present queue goes before the lanes. */
	if (c->catchup_seq)
		c->catchup_seq = c->paths[0].next_tx_seq;
	/* The old incarnation's congestion map means nothing now; the new one sends its own. */
	cong_peer_map_forget(c);
	sock_peer_map_changed(c->eng);
	log_info("peer %s restarted (generation %08x -> %08x): sequence numbers start again, "
		 "%llu stale retransmissions dropped",
		 addr_str(&c->faddr, f), c->peer_gen, gen, (unsigned long long)flushed);
}

static void note_generation(struct conn *c, const struct wire_exts *ex)
{
	if (!ex->has_gen_num || ex->gen_num == 0)
		return;
	if (c->peer_gen && c->peer_gen != ex->gen_num)
		peer_restarted(c, ex->gen_num);
	c->peer_gen = ex->gen_num;
}

/*
 * The peer now offers fewer paths (it restarted with another MPRDS_NPATHS): lanes are not
 * merged by the kernel (wire.md §7); ours hand what they hold to the paths left, renumbered.
 */
static void merge_lanes(struct conn *c)
{
	for (int i = c->npaths; i < WIRE_MAX_PATHS; i++) {
		struct path *p = &c->paths[i];
		struct msg *m;

		path_abort(p, "the peer now uses fewer paths");
		while ((m = TAILQ_FIRST(&p->sendq))) {
			TAILQ_REMOVE(&p->sendq, m, link);
			if (!m->sender && !m->orphan) {
				msg_free(m); /* that lane's own pongs and maps */
				continue;
			}
			m->retransmit = 0;
			path_enqueue(conn_pick_path(c, m->h.sport), m);
		}
		p->pongs = 0;
	}
}

/*
 * wire.md §7 (7.0+ fan-out check): before the handshake only path 0 takes a connection, so a
 * peer that reconnects its lanes before its path 0 (it still knows our old handshake) has its
 * lane k filed as our path 0. Told now that its source port names the lane, we drop that
 * connection as the kernel does, before any of our data goes on it, and lane k's receive
 * numbering goes with it: the peer resends its unacknowledged on lane k, where what we had
 * taken is known, and on path 0 what we had taken before is known again.
 */
static void drop_misfiled_path0(struct conn *c)
{
	struct path *p0 = &c->paths[0];
	struct path *lane;
	char f[ADDR_STRLEN];

	if (c->smaller || !c->peer_sport_idx || c->npaths < 2 || p0->state != PATH_UP ||
	    !p0->peer_port || p0->peer_port % c->npaths == 0)
		return;
	lane = &c->paths[p0->peer_port % c->npaths];
	if (lane->next_rx_seq < p0->next_rx_seq)
		lane->next_rx_seq = p0->next_rx_seq;
	p0->next_rx_seq = p0->rx_seq_at_accept;
	log_info(
		"%s connected its lane %d (port %u) before its path 0: dropped, as the kernel does",
		addr_str(&c->faddr, f), lane->index, p0->peer_port);
	path_abort(p0, "it was the peer's lane");
}

void conn_handshake(struct conn *c, const struct wire_exts *ex)
{
	char l[ADDR_STRLEN], f[ADDR_STRLEN];
	int old = c->npaths;

	note_generation(c, ex);
	if (ex->has_npaths) {
		int n = ex->npaths < 1 ? 1 : ex->npaths;

		c->npaths = n < c->eng->cfg.npaths ? n : c->eng->cfg.npaths;
	} else if (c->npaths < 1) {
		c->npaths = 1; /* a legacy peer: one path */
	}
	c->probe_pending = false;
	c->peer_sport_idx = ex->has_sport_idx;
	drop_misfiled_path0(c);
	open_lanes(c);
	if (c->npaths == old)
		return;
	if (old > 1 && c->npaths < old)
		merge_lanes(c);
	if (c->npaths > 1)
		c->catchup_seq = c->paths[0].next_tx_seq;
	release_held(c);
	log_info("handshake %s<->%s: peer %s%u paths, using %d", addr_str(&c->laddr, l),
		 addr_str(&c->faddr, f), ex->has_npaths ? "offers " : "is legacy, ",
		 ex->has_npaths ? ex->npaths : 1, c->npaths);
}

bool conn_lane_may_send(struct conn *c, const struct path *p)
{
	const struct path *p0 = &c->paths[0];
	const struct msg *oldest;

	if (p->index == 0 || c->catchup_seq == 0)
		return true;
	/* Both heads: after a peer restart the unacked ones keep numbers the queue lost. */
	oldest = TAILQ_FIRST(&p0->unacked);
	if (oldest && oldest->h.seq < c->catchup_seq)
		return false;
	TAILQ_FOREACH(oldest, &p0->sendq, link)
	{
		if (oldest->h.flags == WIRE_FLAG_CONG_BITMAP)
			continue; /* no sequence number */
		if (oldest->h.seq < c->catchup_seq)
			return false;
		break;
	}
	c->catchup_seq = 0;
	return true;
}

/* Removes s's messages (to dport only, unless dport < 0) from one queue of path p. */
static void forget_in_queue(struct path *p, struct msg_queue *q, struct sock *s, int dport)
{
	struct msg *m, *next;

	for (m = TAILQ_FIRST(q); m; m = next) {
		next = TAILQ_NEXT(m, link);
		if (m->sender != s || (dport >= 0 && m->h.dport != dport))
			continue;
		sock_credit(s, m->h.len);
		/* A message partly on the wire must be finished or the stream breaks. */
		if (q == &p->sendq && m == TAILQ_FIRST(q) && p->head_off) {
			m->sender = NULL;
			continue;
		}
		TAILQ_REMOVE(q, m, link);
		msg_free(m);
	}
}

static void forget_in_conn(struct conn *c, struct sock *s, int dport)
{
	forget_in_queue(&c->paths[0], &c->held, s, dport);
	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		forget_in_queue(&c->paths[i], &c->paths[i].sendq, s, dport);
		forget_in_queue(&c->paths[i], &c->paths[i].unacked, s, dport);
	}
}

static void orphan_in_queue(struct msg_queue *q, struct sock *s)
{
	struct msg *m;

	TAILQ_FOREACH(m, q, link)
	if (m->sender == s) {
		m->sender = NULL;
		m->orphan = 1;
	}
}

/*
 * socket-api.md §8 says close drops the socket's queued messages; but the kernel hands a
 * message to TCP in the sending thread, so what it drops at close is only what TCP could
 * not take. Ours are handed over by the engine thread, a moment later: a close right after
 * a send must not lose the message, so the socket's messages are sent without it.
 */
void conn_forget_sender(struct sock *s)
{
	struct conn *c;

	LIST_FOREACH(c, &s->eng->conns.list, link)
	{
		orphan_in_queue(&c->held, s);
		for (int i = 0; i < WIRE_MAX_PATHS; i++) {
			orphan_in_queue(&c->paths[i].sendq, s);
			orphan_in_queue(&c->paths[i].unacked, s);
		}
	}
}

void conn_cancel(struct sock *s, const struct addr *dst, uint16_t port)
{
	struct conn *c = conn_find(s->eng, &s->bound_addr, dst);

	if (c)
		forget_in_conn(c, s, port);
}

void conn_forget_after_fork(struct engine *e)
{
	struct conn *c;

	LIST_FOREACH(c, &e->conns.list, link)
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		c->paths[i].tr->forget(&c->paths[i]);
}

void conn_free_all(struct engine *e)
{
	struct conn *c;

	while ((c = LIST_FIRST(&e->conns.list)))
		conn_destroy(c);
}

bool conn_all_idle(struct engine *e)
{
	struct conn *c;

	LIST_FOREACH(c, &e->conns.list, link)
	{
		if (!TAILQ_EMPTY(&c->held))
			return false;
		for (int i = 0; i < WIRE_MAX_PATHS; i++)
			if (!path_idle(&c->paths[i]))
				return false;
	}
	return true;
}

int conn_count(struct engine *e)
{
	struct conn *c;
	int n = 0;

	LIST_FOREACH(c, &e->conns.list, link)
	n++;
	return n;
}

void conn_foreach(struct engine *e, void (*fn)(struct conn *c, void *arg), void *arg)
{
	struct conn *c;

	LIST_FOREACH(c, &e->conns.list, link)
	fn(c, arg);
}

void conn_log_stats(struct engine *e)
{
	char l[ADDR_STRLEN], f[ADDR_STRLEN];
	struct conn *c;

	if (!log_enabled(LOG_INFO))
		return;
	LIST_FOREACH(c, &e->conns.list, link)
	{
		log_info("conn %s<->%s: %d paths", addr_str(&c->laddr, l), addr_str(&c->faddr, f),
			 c->npaths);
		for (int i = 0; i < WIRE_MAX_PATHS; i++) {
			struct path *p = &c->paths[i];

			if (!p->connects && !p->msgs_tx && !p->msgs_rx)
				continue;
			log_info("  path %d: sent %llu msgs (%llu B), received %llu msgs (%llu B), "
				 "retransmitted %llu, duplicates dropped %llu, stale dropped %llu, "
				 "connects %llu, read pauses %llu",
				 i, (unsigned long long)p->msgs_tx, (unsigned long long)p->bytes_tx,
				 (unsigned long long)p->msgs_rx, (unsigned long long)p->bytes_rx,
				 (unsigned long long)p->retransmits, (unsigned long long)p->dups,
				 (unsigned long long)p->flushed, (unsigned long long)p->connects,
				 (unsigned long long)p->rx_pauses);
		}
	}
}
