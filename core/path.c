// SPDX-License-Identifier: MIT
/*
 * One path = one TCP connection of a conn: connect, write the send queue, keep written
 * messages until the peer's TCP acknowledges them, parse what arrives, drop and reconnect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/path.h"
#include "mprds/sock.h"
#include "mprds/sysio.h"
#include "mprds/tcp.h"

#define WRITE_BATCH 64 /* messages per writev */
#define ACK_POLL_S 0.001 /* TCP gives no ack event: poll SIOCOUTQ while bytes are in flight */
#define BACKOFF_MIN_S 0.001 /* wire.md §9: reconnect_min_delay_ms */
#define BACKOFF_MAX_S 1.0 /* reconnect_max_delay_ms */
#define SPORT_TRIES 64 /* source-port groups tried per connect (wire.md §1, 7.0+) */
#define MAX_QUEUED_PONGS 256 /* a peer that pings and never reads gets no more answers */
#define RX_POLL_S 0.005 /* while reads are paused, how often the blocking socket is looked at */
#define DRAIN_READS 64 /* at most this many reads of a failed connection's buffered bytes */

/* Tolerated oddities, each logged once per TCP connection. */
enum { PATH_WARN_CONG_LEN = 1, PATH_WARN_EXT = 2, PATH_WARN_PONGS = 4, PATH_WARN_SEQ = 8 };

#define PATH_STOPPED 1 /* on_message: the path went down under it (not an error) */

static void on_read(struct ev_loop *loop, ev_io *w, int revents);
static void on_write(struct ev_loop *loop, ev_io *w, int revents);
static void on_retry(struct ev_loop *loop, ev_timer *w, int revents);
static void on_ack_poll(struct ev_loop *loop, ev_timer *w, int revents);
static void on_rx_poll(struct ev_loop *loop, ev_timer *w, int revents);

void path_init(struct path *p, struct conn *c, int index)
{
	memset(p, 0, sizeof(*p));
	p->conn = c;
	p->index = index;
	p->fd = -1;
	p->next_tx_seq = 1;
	TAILQ_INIT(&p->sendq);
	TAILQ_INIT(&p->unacked);
	wire_parser_init(&p->parser);
	p->parser.pool = &engine.bufs;
	ev_io_init(&p->rio, on_read, -1, EV_READ);
	ev_io_init(&p->wio, on_write, -1, EV_WRITE);
	ev_init(&p->retry, on_retry);
	ev_init(&p->ack_poll, on_ack_poll);
	ev_init(&p->rx_poll, on_rx_poll);
	p->rio.data = p->wio.data = p->retry.data = p->ack_poll.data = p->rx_poll.data = p;
	p->sport_group = (uint16_t)random();
	/* Path 0 first: data written there before a fan-out must be parsed first (§8). */
	ev_set_priority(&p->rio, index == 0 ? EV_MAXPRI : 0);
}

static const char *path_name(const struct path *p, char *buf, size_t n)
{
	char l[ADDR_STRLEN], f[ADDR_STRLEN];

	snprintf(buf, n, "%s->%s path %d", addr_str(&p->conn->laddr, l),
		 addr_str(&p->conn->faddr, f), p->index);
	return buf;
}

#define PATH_LOG(level, p, fmt, ...)                                                   \
	do {                                                                           \
		char name_[160];                                                       \
		if (log_enabled(level))                                                \
			log_msg(level, "%s: " fmt, path_name(p, name_, sizeof(name_)), \
				##__VA_ARGS__);                                        \
	} while (0)

static bool queue_has_app_data(const struct msg_queue *q)
{
	const struct msg *m;

	TAILQ_FOREACH(m, q, link) {
		if (m->sender || m->orphan)
			return true;
	}
	return false;
}

/* Probes and pongs left behind by a peer that went away are not worth waiting for at exit. */
bool path_idle(const struct path *p)
{
	return !queue_has_app_data(&p->sendq) && !queue_has_app_data(&p->unacked);
}

/* wire.md §1, §7: only the smaller address opens paths; the larger only pokes path 0. */
bool path_should_connect(const struct path *p)
{
	const struct conn *c = p->conn;

	if (p->state != PATH_DOWN || ev_is_active(&p->retry) || c->loopback)
		return false;
	/* The larger side pokes while it holds messages: the smaller may have restarted. */
	if (!c->smaller)
		return p->index == 0 && conn_has_app_data(c);
	if (p->index == 0)
		return true;
	if (c->npaths <= p->index || !c->lanes_ok)
		return false;
	/*
	 * wire.md §7: a peer without SPORT_IDX (kernels <= 6.19) files each connection in its
	 * first free slot, whose sequence numbers it continues. Lanes opened together land in
	 * the order their SYNs arrive, which after a loss of every path may not be ours (seen:
	 * the kernel's lane 3 numbers on our lane 3 after ss -K of all 8 paths). One at a time,
	 * each after the one below is up, they land in order.
	 */
	return c->peer_sport_idx || c->paths[p->index - 1].state == PATH_UP;
}

bool path_rx_paused(const struct path *p)
{
	return p->rx_blocker != NULL;
}

static bool is_pong(const struct msg *m)
{
	return !m->sender && !m->orphan && m->h.sport == 0 && m->h.dport != 0;
}

/* A message that will not be sent (again): its socket gets the room back. */
static void discard(struct path *p, struct msg *m)
{
	if (is_pong(m))
		p->pongs--;
	if (m->sender)
		sock_credit(m->sender, m->h.len);
	msg_free(m);
	p->flushed++;
}

void path_queue(struct path *p, struct msg *m)
{
	m->h.seq = p->next_tx_seq++;
	TAILQ_INSERT_TAIL(&p->sendq, m, link);
}

void path_enqueue(struct path *p, struct msg *m)
{
	path_queue(p, m);
	engine_kick(p);
}

static void schedule_retry(struct path *p)
{
	double delay = 0;

	/* wire.md §9: first attempt at once, then random up to a doubling bound. */
	if (p->backoff > 0)
		delay = p->backoff * ((double)(random() % 1000) / 1000.0);
	p->backoff = p->backoff == 0 ? BACKOFF_MIN_S : p->backoff * 2;
	if (p->backoff > BACKOFF_MAX_S)
		p->backoff = BACKOFF_MAX_S;
	ev_timer_set(&p->retry, delay, 0);
	ev_timer_start(engine.loop, &p->retry);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct path *p = w->data;

	(void)loop, (void)revents;
	path_service(p);
}

/*
 * Every written but unacknowledged message goes back to the front of the send queue (§8),
 * but for those written before the peer's restart was noticed (§13: FLUSH).
 */
static void requeue_unacked(struct path *p)
{
	struct msg *m, *next;

	for (m = TAILQ_FIRST(&p->unacked); m; m = next) {
		next = TAILQ_NEXT(m, link);
		if (p->flush_armed && m->end_offset <= p->flush_upto) {
			TAILQ_REMOVE(&p->unacked, m, link);
			discard(p, m);
			continue;
		}
		m->retransmit = 1;
		p->retransmits++;
	}
	p->flush_armed = false;
	TAILQ_CONCAT(&p->unacked, &p->sendq, link);
	TAILQ_CONCAT(&p->sendq, &p->unacked, link);
	p->head_off = 0;
}

void path_peer_restarted(struct path *p)
{
	struct msg *m, *next;
	uint64_t seq = 1;

	for (m = TAILQ_FIRST(&p->sendq); m; m = next) {
		next = TAILQ_NEXT(m, link);
		/* Its header is on the wire already: the numbers after it must not go back. */
		if (m == TAILQ_FIRST(&p->sendq) && p->head_off) {
			seq = m->h.seq + 1;
			continue;
		}
		if (m->h.flags == WIRE_FLAG_CONG_BITMAP)
			continue;
		if (m->retransmit) {
			TAILQ_REMOVE(&p->sendq, m, link);
			discard(p, m);
			continue;
		}
		m->h.seq = seq++;
	}
	p->next_tx_seq = seq;
	p->next_rx_seq = 0;
	p->flush_upto = p->tx_offset;
	p->flush_armed = !TAILQ_EMPTY(&p->unacked);
}

static void stop_rx_pause(struct path *p)
{
	if (p->rx_blocker) {
		sock_put(p->rx_blocker);
		p->rx_blocker = NULL;
	}
	if (engine.loop)
		ev_timer_stop(engine.loop, &p->rx_poll);
}

static void close_fd(struct path *p)
{
	ev_io_stop(engine.loop, &p->rio);
	ev_io_stop(engine.loop, &p->wio);
	ev_timer_stop(engine.loop, &p->ack_poll);
	sys_close(p->fd);
	p->fd = -1;
	p->tx_dead = false;
	p->warned = 0;
}

static bool free_acked(struct path *p);
static void drain(struct path *p);
static void pause_rx(struct path *p);

/* The TCP connection is gone: requeue, and reconnect if this side does that. */
static void shut(struct path *p, const char *why)
{
	struct conn *c = p->conn;

	p->epoch++;
	if (p->fd >= 0) {
		PATH_LOG(p->state == PATH_UP ? LOG_INFO : LOG_DEBUG, p, "down: %s", why);
		/* 7.0+ (wire.md §8): what TCP has acknowledged is not sent again. */
		if (p->state == PATH_UP)
			free_acked(p);
		close_fd(p);
	}
	stop_rx_pause(p);
	if (p->state == PATH_UP && p->index == 0)
		conn_path0_down(c);
	p->state = PATH_DOWN;
	p->poke = false;
	p->tx_offset = 0;
	wire_parser_reset(&p->parser);
	requeue_unacked(p);
	if (path_should_connect(p))
		schedule_retry(p);
	else if (!c->smaller && p->index != 0 && conn_has_app_data(c))
		engine_kick(&c->paths[0]); /* path 0 pokes for the lanes' messages too */
	conn_path_down(c);
}

void path_drop(struct path *p, const char *why)
{
	if (p->dropping)
		return;
	if (p->fd >= 0 && p->state == PATH_UP) {
		p->dropping = true;
		drain(p);
		p->dropping = false;
		if (p->fd >= 0 && p->rx_blocker) {
			/* Bytes may still be buffered: read them when the socket has room. */
			if (!p->tx_dead)
				PATH_LOG(LOG_INFO, p,
					 "failed (%s) while reads are paused: "
					 "closed once they resume",
					 why);
			p->tx_dead = true;
			ev_io_stop(engine.loop, &p->wio);
			ev_timer_stop(engine.loop, &p->ack_poll);
			pause_rx(p);
			return;
		}
	}
	shut(p, why);
}

void path_abort(struct path *p, const char *why)
{
	if (!p->dropping)
		shut(p, why);
}

void path_release(struct path *p)
{
	struct msg *m;

	if (engine.loop) {
		if (p->fd >= 0)
			close_fd(p);
		ev_timer_stop(engine.loop, &p->retry);
		ev_timer_stop(engine.loop, &p->ack_poll);
	} else if (p->fd >= 0) {
		sys_close(p->fd);
		p->fd = -1;
	}
	stop_rx_pause(p);
	if (p->kicked) {
		TAILQ_REMOVE(&engine.kicks, p, kick_link);
		p->kicked = false;
	}
	p->head_off = 0;
	TAILQ_CONCAT(&p->unacked, &p->sendq, link);
	while ((m = TAILQ_FIRST(&p->unacked))) {
		TAILQ_REMOVE(&p->unacked, m, link);
		discard(p, m);
	}
	p->pongs = 0;
	wire_parser_reset(&p->parser);
}

static void path_up(struct path *p)
{
	p->state = PATH_UP;
	p->backoff = 0;
	p->connects++;
	ev_io_stop(engine.loop, &p->wio);
	ev_io_set(&p->rio, p->fd, EV_READ);
	ev_io_set(&p->wio, p->fd, EV_WRITE);
	ev_io_start(engine.loop, &p->rio);
	PATH_LOG(LOG_INFO, p, "up (tcp fd %d)", p->fd);
	if (p->index == 0)
		conn_path0_up(p->conn);
	conn_want_cong_map(p->conn); /* wire.md §9: every path up sends our map */
	path_service(p);
	if (p->index + 1 < p->conn->npaths && path_should_connect(&p->conn->paths[p->index + 1]))
		engine_kick(&p->conn->paths[p->index + 1]);
}

/*
 * wire.md §1 (7.0+): source port = base + 8 * group + index, so that the acceptor files the
 * connection under this index however the connections race. Groups rotate; one whose port
 * is taken (or whose 4-tuple lingers in TIME_WAIT) is skipped.
 */
static int connect_indexed(struct path *p)
{
	struct conn *c = p->conn;
	int fd = -EADDRINUSE;

	for (int i = 0; i < SPORT_TRIES && i < engine.cfg.port_groups; i++) {
		unsigned g = p->sport_group++ % engine.cfg.port_groups;
		uint16_t port = (uint16_t)(engine.cfg.port_base + 8 * g + (unsigned)p->index);

		fd = tcp_connect_from(&c->laddr, port, &c->faddr, engine.cfg.tcp_port);
		if (fd != -EADDRINUSE && fd != -EADDRNOTAVAIL)
			break;
	}
	return fd;
}

static int connect_any(struct path *p)
{
	struct conn *c = p->conn;
	int fd = tcp_socket_bound(&c->laddr, 0, 0), err;

	if (fd < 0)
		return fd;
	err = tcp_connect(fd, &c->faddr, engine.cfg.tcp_port);
	if (err && err != -EINPROGRESS) {
		sys_close(fd);
		return err;
	}
	return fd;
}

static void path_connect(struct path *p)
{
	struct conn *c = p->conn;
	int fd;

	p->poke = !c->smaller;
	fd = c->smaller && engine.cfg.sport_idx ? connect_indexed(p) : connect_any(p);
	PATH_LOG(LOG_DEBUG, p, "%s", p->poke ? "poking the smaller peer" : "connecting");
	if (fd < 0) {
		PATH_LOG(fd == -ECONNREFUSED ? LOG_DEBUG : LOG_INFO, p, "cannot connect: %s",
			 strerror(-fd));
		p->poke = false;
		schedule_retry(p);
		conn_path_down(c);
		return;
	}
	tcp_tune(fd);
	p->fd = fd;
	p->state = PATH_CONNECTING;
	ev_io_set(&p->wio, fd, EV_WRITE);
	ev_io_start(engine.loop, &p->wio);
}

int path_attach(struct path *p, int fd)
{
	if (p->fd >= 0 && p->state == PATH_UP) {
		/* wire.md §7: the peer gave up on the old one; read what it had delivered. */
		path_drop(p, "replaced by a new connection from the peer");
		if (p->fd >= 0)
			return -EBUSY;
	}
	if (p->fd >= 0) {
		ev_io_stop(engine.loop, &p->wio);
		sys_close(p->fd);
		p->fd = -1;
	}
	ev_timer_stop(engine.loop, &p->retry);
	p->fd = fd;
	p->poke = false;
	p->tx_offset = 0;
	requeue_unacked(p);
	wire_parser_reset(&p->parser);
	tcp_tune(fd);
	path_up(p);
	return 0;
}

static void on_connected(struct path *p)
{
	int err = tcp_error(p->fd);

	if (err) {
		path_drop(p, strerror(-err));
		return;
	}
	if (p->poke) {
		/* wire.md §1: the larger side's connection only tells the smaller to connect. */
		PATH_LOG(LOG_DEBUG, p, "poked; waiting for the smaller peer to connect");
		ev_io_stop(engine.loop, &p->wio);
		sys_close(p->fd);
		p->fd = -1;
		p->state = PATH_DOWN;
		p->poke = false;
		schedule_retry(p);
		return;
	}
	path_up(p);
}

/* Frees the messages whose last byte the peer's TCP has acknowledged; true if any. */
static bool free_acked(struct path *p)
{
	long outq = sys_tcp_unacked(p->fd);
	uint64_t acked;
	struct msg *m;
	bool progress = false;

	/* More outstanding than written: not TCP (a unit test's socketpair counts skb sizes). */
	if (outq < 0 || (uint64_t)outq > p->tx_offset)
		return false;
	acked = p->tx_offset - (uint64_t)outq;
	while ((m = TAILQ_FIRST(&p->unacked)) && m->end_offset <= acked) {
		TAILQ_REMOVE(&p->unacked, m, link);
		if (is_pong(m))
			p->pongs--;
		if (m->sender && m->zcopy)
			sock_zcopy_done(m->sender, m->zcookie);
		if (m->sender)
			sock_credit(m->sender, m->h.len);
		msg_free(m);
		progress = true;
	}
	return progress;
}

#define ACK_POLL_LINGER_S 0.05 /* keep polling a little after the last write (see below) */

static void check_acks(struct path *p)
{
	bool progress = free_acked(p);

	/* kept running a while after the last write, so that path_write_direct() finds it on */
	if (TAILQ_EMPTY(&p->unacked) && engine_now() - p->last_write > ACK_POLL_LINGER_S)
		ev_timer_stop(engine.loop, &p->ack_poll);
	else if (!ev_is_active(&p->ack_poll) && !TAILQ_EMPTY(&p->unacked)) {
		ev_timer_set(&p->ack_poll, ACK_POLL_S, ACK_POLL_S);
		ev_timer_start(engine.loop, &p->ack_poll);
	}
	if (progress && p->index == 0 && p->conn->catchup_seq)
		for (int i = 1; i < p->conn->npaths; i++)
			if (!TAILQ_EMPTY(&p->conn->paths[i].sendq))
				engine_kick(&p->conn->paths[i]);
}

static void on_ack_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct path *p = w->data;

	(void)loop, (void)revents;
	if (p->state == PATH_UP)
		check_acks(p);
}

static int build_iov(struct path *p, struct iovec *iov, struct msg **batch)
{
	struct msg *m;
	int n = 0, k = 0;

	TAILQ_FOREACH(m, &p->sendq, link)
	{
		if (k == WRITE_BATCH)
			break;
		struct wire_header h = m->h;

		if (m->retransmit)
			h.flags |= WIRE_FLAG_RETRANSMITTED;
		wire_header_encode(&h, m->wire);
		iov[n++] = (struct iovec){ m->wire, WIRE_HDR_LEN };
		if (m->h.len)
			iov[n++] = (struct iovec){ m->data, m->h.len };
		batch[k++] = m;
	}
	/* The first message may be partly written already. */
	size_t skip = p->head_off;

	for (int i = 0; i < n && skip; i++) {
		size_t d = skip < iov[i].iov_len ? skip : iov[i].iov_len;

		iov[i].iov_base = (char *)iov[i].iov_base + d;
		iov[i].iov_len -= d;
		skip -= d;
	}
	return n;
}

static void account_written(struct path *p, size_t n)
{
	struct msg *m;

	p->tx_offset += n;
	n += p->head_off;
	while ((m = TAILQ_FIRST(&p->sendq))) {
		size_t total = WIRE_HDR_LEN + (size_t)m->h.len;

		if (n < total)
			break;
		n -= total;
		TAILQ_REMOVE(&p->sendq, m, link);
		m->end_offset = p->tx_offset - n;
		if (m->h.flags == WIRE_FLAG_CONG_BITMAP) {
			msg_free(m); /* never retransmitted: the next path up sends a fresh one */
			continue;
		}
		p->msgs_tx++;
		p->bytes_tx += m->h.len;
		TAILQ_INSERT_TAIL(&p->unacked, m, link);
	}
	p->head_off = n;
}

/* wire.md §10: the map goes out ahead of the next message not yet started. */
static void insert_cong_map(struct path *p)
{
	struct msg *m = cong_map_message(p->conn), *head = TAILQ_FIRST(&p->sendq);

	if (!m)
		return;
	p->conn->cong_pending = false;
	if (head && p->head_off)
		TAILQ_INSERT_AFTER(&p->sendq, head, m, link);
	else
		TAILQ_INSERT_HEAD(&p->sendq, m, link);
}

/*
 * DESIGN.md, Speed: like the kernel's rds_send_xmit() in the sender's context, an application
 * thread writes a message itself when its path is idle: no eventfd, no wake-up of the loop
 * thread. It holds the engine lock, so the loop thread is not running. Only when nothing is
 * in flight (a burst is better batched by the loop thread: one TCP segment per message
 * measured 5x fewer messages/s at depth 32), and only while the ack timer runs (watchers are
 * the loop thread's to start). Otherwise false: the caller kicks the loop.
 */
bool path_write_direct(struct path *p)
{
	struct iovec iov[2 * WRITE_BATCH];
	struct msg *batch[WRITE_BATCH];
	struct msg *m = TAILQ_FIRST(&p->sendq);

	if (p->state != PATH_UP || p->tx_dead || p->kicked || ev_is_active(&p->wio) ||
	    !ev_is_active(&p->ack_poll) || p->conn->cong_pending || !m || TAILQ_NEXT(m, link) ||
	    !conn_lane_may_send(p->conn, p))
		return false;
	if (!TAILQ_EMPTY(&p->unacked)) {
		free_acked(p);
		if (!TAILQ_EMPTY(&p->unacked))
			return false;
	}
	int n = build_iov(p, iov, batch);
	ssize_t w = writev(p->fd, iov, n);

	if (w < 0)
		return false;
	account_written(p, (size_t)w);
	p->last_write = engine_now();
	return TAILQ_EMPTY(&p->sendq);
}

static void path_write(struct path *p)
{
	struct iovec iov[2 * WRITE_BATCH];
	struct msg *batch[WRITE_BATCH];

	if (p->tx_dead)
		return;
	if (p->conn->cong_pending && p == conn_map_path(p->conn))
		insert_cong_map(p);
	while (!TAILQ_EMPTY(&p->sendq) && conn_lane_may_send(p->conn, p)) {
		int n = build_iov(p, iov, batch);
		ssize_t w = writev(p->fd, iov, n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			ev_io_start(engine.loop, &p->wio);
			return;
		}
		if (w < 0) {
			path_drop(p, strerror(errno));
			return;
		}
		account_written(p, (size_t)w);
		p->last_write = engine_now();
	}
	ev_io_stop(engine.loop, &p->wio);
	check_acks(p);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct path *p = w->data;

	(void)loop, (void)revents;
	if (p->state == PATH_CONNECTING)
		on_connected(p);
	else if (p->state == PATH_UP)
		path_write(p);
}

void path_service(struct path *p)
{
	if (p->state == PATH_UP)
		path_write(p);
	else if (path_should_connect(p))
		path_connect(p);
}

#define PATH_LOG_ONCE(level, p, bit, fmt, ...)                  \
	do {                                                    \
		if (!((p)->warned & (bit))) {                   \
			(p)->warned |= (bit);                   \
			PATH_LOG(level, p, fmt, ##__VA_ARGS__); \
		}                                               \
	} while (0)
#define PATH_WARN_ONCE(p, bit, fmt, ...) PATH_LOG_ONCE(LOG_WARN, p, bit, fmt, ##__VA_ARGS__)

static void answer_ping(struct path *p, const struct wire_header *h, bool probe)
{
	struct msg *pong;

	/* A peer that pings and never reads our answers must not grow our queue. */
	if (p->pongs >= MAX_QUEUED_PONGS) {
		PATH_WARN_ONCE(
			p, PATH_WARN_PONGS,
			"peer sends pings and does not read the pongs: %d are unacknowledged, "
			"further pings are not answered",
			MAX_QUEUED_PONGS);
		return;
	}
	pong = msg_new(0, h->sport, NULL, 0);
	if (!pong)
		return;
	p->pongs++;
	if (probe) {
		struct wire_exts ex;

		conn_fill_exts(&ex);
		wire_exts_build(&ex, pong->h.ext);
	}
	path_enqueue(p, pong);
}

size_t path_rx_bound(const struct sock *s)
{
	return 4 * s->rcvbuf + WIRE_MAX_PAYLOAD;
}

static void deliver(struct path *p, const struct wire_header *h, uint8_t *payload)
{
	struct sock *s = sock_lookup(&p->conn->laddr, h->dport);
	struct msg *m;

	if (!s || !(m = msg_new(h->sport, h->dport, payload, h->len))) {
		buf_pool_put(&engine.bufs, payload, h->len);
		return;
	}
	m->h = *h;
	m->src = p->conn->faddr;
	if (s->rx_traces)
		m->rx_stamp_ns[0] = msg_clock_ns();
	sock_deliver(s, m);
	/*
	 * A peer that ignores the congestion map cannot fill our memory: past this bound the
	 * path stops reading and TCP pushes back (README, "Memory").
	 */
	if (!p->rx_blocker && s->rcv_queued > path_rx_bound(s)) {
		sock_get(s);
		p->rx_blocker = s;
		p->rx_pauses++;
		PATH_LOG(LOG_INFO, p, "port %u holds %zu unread bytes: reading paused",
			 s->bound_port, s->rcv_queued);
	}
}

/* wire.md §5: the receiver's classification of one complete message. */
static int on_message(void *ctx, const struct wire_header *h, uint8_t *payload)
{
	struct path *p = ctx;
	enum wire_kind kind = wire_classify(h);
	unsigned epoch = p->epoch;
	struct wire_exts ex;

	p->msgs_rx++;
	p->bytes_rx += h->len;
	if (kind == WIRE_KIND_CONG_MAP) {
		if (h->len == WIRE_CONG_MAP_BYTES) {
			memcpy(p->conn->peer_cong, payload, WIRE_CONG_MAP_BYTES);
			cong_peer_updated(p->conn);
		} else {
			/* §10: the kernel ignores it silently; the stream is still in step. */
			PATH_WARN_ONCE(p, PATH_WARN_CONG_LEN,
				       "congestion map of %u bytes (not 8192) ignored", h->len);
		}
		buf_pool_put(&engine.bufs, payload, h->len);
		conn_heard(p->conn);
		return 0;
	}
	/* No kernel sets bits above 0x20 (§3): this is not an RDS peer, or a broken one. */
	if (h->flags & ~WIRE_FLAGS_KNOWN) {
		snprintf(p->bad, sizeof(p->bad), "unknown h_flags bits 0x%02x",
			 h->flags & ~WIRE_FLAGS_KNOWN);
		buf_pool_put(&engine.bufs, payload, h->len);
		return -EPROTO;
	}
	conn_heard(p->conn);
	if (wire_is_duplicate(h, p->next_rx_seq)) {
		p->dups++;
		buf_pool_put(&engine.bufs, payload, h->len);
		return 0;
	}
	/* §8: taken, as the kernel takes it: a peer that restarted without GEN_NUM looks so. */
	if (h->seq < p->next_rx_seq && !(h->flags & WIRE_FLAG_RETRANSMITTED))
		PATH_LOG_ONCE(LOG_INFO, p, PATH_WARN_SEQ,
			      "sequence number went back (%llu after %llu) on a message not marked "
			      "retransmitted: taken, as from a restarted peer",
			      (unsigned long long)h->seq, (unsigned long long)p->next_rx_seq - 1);
	p->next_rx_seq = h->seq + 1;
	if (kind != WIRE_KIND_DATA)
		buf_pool_put(&engine.bufs, payload, h->len);
	switch (kind) {
	case WIRE_KIND_PROBE:
	case WIRE_KIND_PROBE_PONG:
		wire_exts_parse(h->ext, &ex);
		/* §4: what parsed before the overrun counts, as in the kernel. */
		if (ex.overrun)
			PATH_WARN_ONCE(p, PATH_WARN_EXT,
				       "extension area runs past its 16 bytes: rest ignored");
		conn_handshake(p->conn, &ex);
		if (kind == WIRE_KIND_PROBE)
			answer_ping(p, h, true);
		break;
	case WIRE_KIND_PING:
		answer_ping(p, h, false);
		break;
	case WIRE_KIND_DATA:
		deliver(p, h, payload);
		break;
	default:
		break;
	}
	/* The handshake closed this very path (fewer paths now): parse no further. */
	return p->epoch == epoch ? 0 : PATH_STOPPED;
}

static int feed(struct path *p, const uint8_t *buf, size_t n)
{
	p->bad[0] = '\0';
	return wire_parser_feed(&p->parser, buf, n, on_message, p);
}

/* The one line a malformed stream gets (the drop itself logs at info). */
static void log_malformed(struct path *p, int err)
{
	if (err == -EMSGSIZE)
		PATH_LOG(LOG_WARN, p,
			 "malformed stream from peer (h_len %u: longer than 1 MiB): dropping this "
			 "connection",
			 p->parser.hdr.len);
	else
		PATH_LOG(LOG_WARN, p, "malformed stream from peer (%s): dropping this connection",
			 p->bad[0] ? p->bad : strerror(-err));
}

int path_receive(struct path *p, const uint8_t *buf, size_t n)
{
	int err = feed(p, buf, n);

	if (err == PATH_STOPPED)
		return 0;
	if (err) {
		log_malformed(p, err);
		path_abort(p, "malformed stream");
	}
	return err;
}

/* Reads are paused past the bound of rx_blocker: TCP pushes back on the peer. */
static void pause_rx(struct path *p)
{
	ev_io_stop(engine.loop, &p->rio);
	if (!ev_is_active(&p->rx_poll)) {
		ev_timer_set(&p->rx_poll, RX_POLL_S, RX_POLL_S);
		ev_timer_start(engine.loop, &p->rx_poll);
	}
}

static void on_rx_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct path *p = w->data;
	struct sock *s = p->rx_blocker;

	(void)loop, (void)revents;
	if (s && !s->released && s->bound && s->rcv_queued > path_rx_bound(s) / 2)
		return;
	stop_rx_pause(p);
	if (p->fd >= 0 && p->state == PATH_UP) {
		PATH_LOG(LOG_DEBUG, p, "reading again");
		ev_io_start(engine.loop, &p->rio);
	}
}

/*
 * What the peer's TCP acknowledged is the peer's promise kept: a failed connection is read
 * to its end before it is closed (7.0+ does so at shutdown, wire.md §8). Stops where a
 * socket reaches its bound (the caller keeps the connection then) or on a malformed stream.
 */
static void drain(struct path *p)
{
	for (int i = 0; i < DRAIN_READS && !p->rx_blocker; i++) {
		ssize_t n = sys_read(p->fd, engine.rxbuf, sizeof(engine.rxbuf));
		int err;

		if (n <= 0)
			return;
		err = feed(p, engine.rxbuf, (size_t)n);
		if (err) {
			if (err != PATH_STOPPED)
				log_malformed(p, err);
			return;
		}
	}
}

static void note_truncated(struct path *p)
{
	size_t hdr = WIRE_HDR_LEN - wire_parser_hdr_rem(&p->parser);

	if (hdr && hdr < WIRE_HDR_LEN)
		PATH_LOG(LOG_WARN, p, "peer closed the connection after %zu of a header's 48 bytes",
			 hdr);
	else if (hdr)
		PATH_LOG(LOG_WARN, p,
			 "peer closed the connection %zu bytes short of a %u-byte message",
			 wire_parser_data_rem(&p->parser), p->parser.hdr.len);
}

static void read_once(struct path *p, bool *more)
{
	ssize_t n = sys_read(p->fd, engine.rxbuf, sizeof(engine.rxbuf));

	*more = false;
	if (n == 0) {
		note_truncated(p);
		path_drop(p, "peer closed the connection");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			path_drop(p, strerror(errno));
		return;
	}
	if (path_receive(p, engine.rxbuf, (size_t)n) < 0)
		return;
	*more = (size_t)n == sizeof(engine.rxbuf) && !p->rx_blocker;
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct path *p = w->data;
	bool more = true;

	(void)loop, (void)revents;
	if (p->rx_blocker) {
		pause_rx(p);
		return;
	}
	/* Path 0 is drained first so that pre-fan-out data is parsed before lane data. */
	for (int i = 0; more && i < (p->index == 0 ? 16 : 1) && p->state == PATH_UP; i++)
		read_once(p, &more);
	if (p->fd >= 0 && p->rx_blocker)
		pause_rx(p);
	if (p->state == PATH_UP && !TAILQ_EMPTY(&p->sendq))
		path_write(p);
}
