// SPDX-License-Identifier: MIT
/*
 * One RDS socket: the bind table, the receive queue, send-buffer accounting and the
 * readiness of the application's fd (DESIGN.md: one byte readable while a message waits;
 * the send side filled while the send buffer is full).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/clock.h"
#include "mprds/cong.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/sock.h"
#include "mprds/sysio.h"

void sock_table_init(struct sock_table *t)
{
	for (int i = 0; i < SOCK_BIND_BUCKETS; i++)
		LIST_INIT(&t->bound[i]);
	LIST_INIT(&t->all);
	LIST_INIT(&t->signals_due);
}

void sock_table_set_loop(struct sock_table *t, pthread_t thread)
{
	t->loop = thread;
	t->has_loop = true;
}

static unsigned bind_bucket(const struct addr *a, uint16_t port)
{
	return (addr_hash(a) ^ (port * 2654435761u)) % SOCK_BIND_BUCKETS;
}

struct sock *sock_new(struct engine *e, int app_fd, int eng_fd)
{
	struct sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->app_fd = app_fd;
	s->eng_fd = eng_fd;
	s->eng = e;
	s->refs = 1;
	/* socket-api.md §2, §10: the RDS limits are half the kernel's stored defaults. */
	s->sndbuf = e->cfg.wmem_default / 2;
	s->rcvbuf = e->cfg.rmem_default / 2;
	TAILQ_INIT(&s->rxq);
	LIST_INSERT_HEAD(&e->socks.all, s, all_link);
	s->listed = true;
	return s;
}

void sock_foreach(struct engine *e, void (*fn)(struct sock *s, void *arg), void *arg)
{
	struct sock *s, *next;

	for (s = LIST_FIRST(&e->socks.all); s; s = next) {
		next = LIST_NEXT(s, all_link);
		fn(s, arg);
	}
}

void sock_unlist(struct sock *s)
{
	if (s->listed)
		LIST_REMOVE(s, all_link);
	s->listed = false;
}

void sock_get(struct sock *s)
{
	s->refs++;
}

void sock_put(struct sock *s)
{
	if (--s->refs > 0)
		return;
	sock_unlist(s);
	sock_rx_flush(s);
	free(s);
}

struct sock *sock_lookup(struct engine *e, const struct addr *a, uint16_t port)
{
	struct sock *s;

	LIST_FOREACH(s, &e->socks.bound[bind_bucket(a, port)], bind_link)
	if (s->bound_port == port && addr_eq(&s->bound_addr, a))
		return s;
	return NULL;
}

static uint16_t random_port(void)
{
	return (uint16_t)(2 + (unsigned)random() % 65534);
}

/* socket-api.md §3: port 0 picks a random start >= 2 and scans, skipping 0 and 1. */
static int pick_free_port(struct engine *e, const struct addr *a, uint16_t *port)
{
	uint16_t p = random_port();

	for (int i = 0; i < 65536; i++, p++) {
		if (p < 2)
			continue;
		if (!sock_lookup(e, a, p)) {
			*port = p;
			return 0;
		}
	}
	return -EADDRINUSE;
}

int sock_bind_port(struct sock *s, const struct addr *a, uint16_t port)
{
	if (port == 0) {
		int err = pick_free_port(s->eng, a, &port);

		if (err)
			return err;
	} else if (sock_lookup(s->eng, a, port)) {
		return -EADDRINUSE;
	}
	s->bound = true;
	s->bound_addr = *a;
	s->bound_port = port;
	LIST_INSERT_HEAD(&s->eng->socks.bound[bind_bucket(a, port)], s, bind_link);
	return 0;
}

void sock_unbind(struct sock *s)
{
	if (!s->bound)
		return;
	LIST_REMOVE(s, bind_link);
	s->bound = false;
}

size_t sock_rx_bound(const struct sock *s)
{
	return 4 * s->rcvbuf + WIRE_MAX_PAYLOAD;
}

/* On TCP every update carries an all-ones port mask: every armed bit fires. */
static void notify_monitor(struct sock *s, void *arg)
{
	(void)arg;
	if (!s->cong_monitor || !s->cong_mask)
		return;
	s->cong_notify |= s->cong_mask;
	s->cong_mask = 0;
	sock_update_readiness(s);
}

void sock_peer_map_changed(struct engine *e)
{
	sock_foreach(e, notify_monitor, NULL);
}

static void set_congested(struct sock *s, bool congested)
{
	struct engine *e = s->eng;

	if (cong_map_set(e, &s->bound_addr, s->bound_port, congested) < 0)
		return;
	s->congested = congested;
	log_debug("port %u %s (%zu bytes unread, rcvbuf %zu)", s->bound_port,
		  congested ? "congested" : "uncongested", s->rcv_queued, s->rcvbuf);
	if (e->socks.local_map_changed)
		e->socks.local_map_changed(e, &s->bound_addr);
	/* our own senders to this address see the change at once, as the loop transport's do */
	sock_foreach(e, notify_monitor, NULL);
}

/* wire.md §10: set above rcvbuf, cleared below half of it. */
static void update_congestion(struct sock *s)
{
	if (!s->bound)
		return;
	if (!s->congested && s->rcv_queued > s->rcvbuf)
		set_congested(s, true);
	else if (s->congested && s->rcv_queued < s->rcvbuf / 2)
		set_congested(s, false);
}

void sock_cong_release(struct sock *s)
{
	if (s->bound && s->congested)
		set_congested(s, false);
}

static bool rx_pending(const struct sock *s)
{
	return !TAILQ_EMPTY(&s->rxq) || s->cong_notify || s->zc_count || s->lent;
}

static void readiness_now(struct sock *s)
{
	char b = 0;
	bool pending = rx_pending(s);

	if (s->released)
		return;
	if (pending && !s->rx_signalled) {
		if (sys_send_nowait(s->eng_fd, &b, 1) == 1)
			s->rx_signalled = true;
	} else if (!pending && s->rx_signalled) {
		if (sys_recv_nowait(s->app_fd, &b, 1) == 1)
			s->rx_signalled = false;
	}
}

static bool on_loop_thread(const struct sock_table *t)
{
	return t->has_loop && pthread_equal(pthread_self(), t->loop);
}

/*
 * The loop thread holds the engine lock until its iteration ends. A reader it woke at once
 * found the lock taken, slept on it and was woken a second time (futex: 3.4 calls per
 * ping-pong round trip); so the loop thread sends the readable edge as it lets go.
 */
void sock_update_readiness(struct sock *s)
{
	if (rx_pending(s) && !s->rx_signalled && on_loop_thread(&s->eng->socks)) {
		if (!s->rx_signal_due && !s->released) {
			s->rx_signal_due = true;
			sock_get(s);
			LIST_INSERT_HEAD(&s->eng->socks.signals_due, s, due_link);
		}
		return;
	}
	readiness_now(s);
}

void sock_signal_due(struct engine *e)
{
	struct sock *s;

	while ((s = LIST_FIRST(&e->socks.signals_due))) {
		LIST_REMOVE(s, due_link);
		s->rx_signal_due = false;
		readiness_now(s);
		sock_put(s);
	}
}

void sock_zcopy_done(struct sock *s, uint32_t cookie)
{
	/* bounded: past 64 unreported completions the oldest news is lost */
	if (s->zc_count == sizeof(s->zc_cookies) / sizeof(s->zc_cookies[0]))
		return;
	s->zc_cookies[s->zc_count++] = cookie;
	sock_update_readiness(s);
}

void sock_deliver(struct sock *s, struct msg *m)
{
	/* socket-api.md §6: stamped when queued, if asked for at that moment */
	if (s->timestamp)
		clock_gettime(CLOCK_REALTIME, &m->rx_time);
	if (s->rx_traces) {
		m->rx_stamp_ns[1] = clock_ns();
		if (!m->rx_stamp_ns[0])
			m->rx_stamp_ns[0] = m->rx_stamp_ns[1];
	}
	TAILQ_INSERT_TAIL(&s->rxq, m, link);
	s->rcv_queued += m->h.len;
	stats_inc(&s->eng->stats, STAT_RECV_QUEUED);
	stats_add(&s->eng->stats, STAT_RECV_BYTES_ADDED_TO_SOCK, m->h.len);
	update_congestion(s);
	sock_update_readiness(s);
}

struct msg *sock_rx_take(struct sock *s, bool peek)
{
	struct msg *m = TAILQ_FIRST(&s->rxq);

	if (!m || peek)
		return m;
	TAILQ_REMOVE(&s->rxq, m, link);
	s->rcv_queued -= m->h.len;
	stats_add(&s->eng->stats, STAT_RECV_BYTES_FREED_FROMSOCK, m->h.len);
	update_congestion(s);
	sock_update_readiness(s);
	return m;
}

struct msg *sock_rx_lend(struct sock *s)
{
	struct msg *m = TAILQ_FIRST(&s->rxq);

	if (!m)
		return NULL;
	TAILQ_REMOVE(&s->rxq, m, link);
	s->lent++;
	s->lent_bytes += m->h.len;
	return m;
}

void sock_rx_returned(struct sock *s, unsigned n, size_t bytes)
{
	n = n < s->lent ? n : s->lent;
	bytes = bytes < s->lent_bytes ? bytes : s->lent_bytes;
	s->lent -= n;
	s->lent_bytes -= bytes;
	s->rcv_queued = bytes < s->rcv_queued ? s->rcv_queued - bytes : 0;
	/* what the application took from the client's cache, it received */
	stats_add(&s->eng->stats, STAT_RECV_BYTES_FREED_FROMSOCK, bytes);
	stats_add(&s->eng->stats, STAT_RECV_DELIVERED, n);
	stats_add(&s->eng->stats, STAT_COPY_TO_USER, bytes);
	update_congestion(s);
	sock_update_readiness(s);
}

/* What a closed socket never read leaves its queue too: added - freed stays what is queued. */
void sock_rx_flush(struct sock *s)
{
	stats_add(&s->eng->stats, STAT_RECV_BYTES_FREED_FROMSOCK, s->rcv_queued);
	s->rcv_queued = 0;
	msg_queue_free(&s->rxq);
}

/* Makes the app fd poll not-writable: fill its send side until the kernel says EAGAIN. */
static void tx_block(struct sock *s)
{
	static const char fill[4096];

	while (sys_send_nowait(s->app_fd, fill, sizeof(fill)) > 0)
		;
	s->tx_blocked = true;
}

static void tx_unblock(struct sock *s)
{
	char buf[4096];

	while (sys_recv_nowait(s->eng_fd, buf, sizeof(buf)) > 0)
		;
	s->tx_blocked = false;
}

void sock_charge(struct sock *s, size_t bytes)
{
	s->snd_queued += bytes;
	if (s->snd_queued >= s->sndbuf && !s->tx_blocked && !s->released)
		tx_block(s);
}

void sock_credit(struct sock *s, size_t bytes)
{
	if (s->snd_queued && bytes >= s->snd_queued)
		stats_inc(&s->eng->stats, STAT_SEND_QUEUE_EMPTY);
	s->snd_queued = bytes > s->snd_queued ? 0 : s->snd_queued - bytes;
	if (s->snd_queued < s->sndbuf && s->tx_blocked && !s->released)
		tx_unblock(s);
}
