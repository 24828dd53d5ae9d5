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

static void on_read(struct ev_loop *loop, ev_io *w, int revents);
static void on_write(struct ev_loop *loop, ev_io *w, int revents);
static void on_retry(struct ev_loop *loop, ev_timer *w, int revents);
static void on_ack_poll(struct ev_loop *loop, ev_timer *w, int revents);

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
	ev_io_init(&p->rio, on_read, -1, EV_READ);
	ev_io_init(&p->wio, on_write, -1, EV_WRITE);
	ev_init(&p->retry, on_retry);
	ev_init(&p->ack_poll, on_ack_poll);
	p->rio.data = p->wio.data = p->retry.data = p->ack_poll.data = p;
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

	TAILQ_FOREACH(m, q, link)
	if (m->sender)
		return true;
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

	if (p->state != PATH_DOWN || ev_is_active(&p->retry))
		return false;
	if (!c->smaller)
		return p->index == 0 && !TAILQ_EMPTY(&p->sendq);
	if (p->index == 0)
		return true;
	return c->npaths > p->index;
}

void path_enqueue(struct path *p, struct msg *m)
{
	m->h.seq = p->next_tx_seq++;
	TAILQ_INSERT_TAIL(&p->sendq, m, link);
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

/* Every written but unacknowledged message goes back to the front of the send queue. */
static void requeue_unacked(struct path *p)
{
	struct msg *m;

	TAILQ_FOREACH(m, &p->unacked, link)
	{
		m->retransmit = 1;
		p->retransmits++;
	}
	TAILQ_CONCAT(&p->unacked, &p->sendq, link);
	TAILQ_CONCAT(&p->sendq, &p->unacked, link);
	p->head_off = 0;
}

void path_drop(struct path *p, const char *why)
{
	if (p->fd >= 0) {
		PATH_LOG(p->state == PATH_UP ? LOG_INFO : LOG_DEBUG, p, "down: %s", why);
		ev_io_stop(engine.loop, &p->rio);
		ev_io_stop(engine.loop, &p->wio);
		ev_timer_stop(engine.loop, &p->ack_poll);
		sys_close(p->fd);
		p->fd = -1;
	}
	p->state = PATH_DOWN;
	p->poke = false;
	p->tx_offset = 0;
	wire_parser_reset(&p->parser);
	requeue_unacked(p);
	if (path_should_connect(p) || (!p->conn->smaller && !TAILQ_EMPTY(&p->sendq)))
		schedule_retry(p);
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
	path_service(p);
}

static void path_connect(struct path *p)
{
	struct conn *c = p->conn;
	int fd = tcp_socket_bound(&c->laddr, 0, 0);
	int err;

	if (fd < 0) {
		PATH_LOG(LOG_WARN, p, "cannot make a TCP socket: %s", strerror(-fd));
		schedule_retry(p);
		return;
	}
	tcp_tune(fd);
	p->fd = fd;
	p->poke = !c->smaller;
	p->state = PATH_CONNECTING;
	err = tcp_connect(fd, &c->faddr, engine.cfg.tcp_port);
	PATH_LOG(LOG_DEBUG, p, "%s", p->poke ? "poking the smaller peer" : "connecting");
	if (err && err != -EINPROGRESS) {
		path_drop(p, strerror(-err));
		return;
	}
	ev_io_set(&p->wio, fd, EV_WRITE);
	ev_io_start(engine.loop, &p->wio);
}

void path_attach(struct path *p, int fd)
{
	if (p->fd >= 0) {
		ev_io_stop(engine.loop, &p->wio);
		sys_close(p->fd);
	}
	ev_timer_stop(engine.loop, &p->retry);
	p->fd = fd;
	p->poke = false;
	p->tx_offset = 0;
	requeue_unacked(p);
	tcp_tune(fd);
	path_up(p);
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

static void check_acks(struct path *p)
{
	long outq = sys_tcp_unacked(p->fd);
	uint64_t acked;
	struct msg *m;
	bool progress = false;

	if (outq < 0)
		return;
	acked = p->tx_offset - (uint64_t)outq;
	while ((m = TAILQ_FIRST(&p->unacked)) && m->end_offset <= acked) {
		TAILQ_REMOVE(&p->unacked, m, link);
		if (m->sender)
			sock_credit(m->sender, m->h.len);
		msg_free(m);
		progress = true;
	}
	if (TAILQ_EMPTY(&p->unacked))
		ev_timer_stop(engine.loop, &p->ack_poll);
	else if (!ev_is_active(&p->ack_poll)) {
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
		p->msgs_tx++;
		p->bytes_tx += m->h.len;
		TAILQ_INSERT_TAIL(&p->unacked, m, link);
	}
	p->head_off = n;
}

static void path_write(struct path *p)
{
	struct iovec iov[2 * WRITE_BATCH];
	struct msg *batch[WRITE_BATCH];

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

static void answer_ping(struct path *p, const struct wire_header *h, bool probe)
{
	struct msg *pong = msg_new(0, h->sport, NULL, 0);

	if (!pong)
		return;
	if (probe) {
		struct wire_exts ex;

		conn_fill_exts(&ex);
		wire_exts_build(&ex, pong->h.ext);
	}
	path_enqueue(p, pong);
}

static void deliver(struct path *p, const struct wire_header *h, uint8_t *payload)
{
	struct sock *s = sock_lookup(&p->conn->laddr, h->dport);
	struct msg *m;

	if (!s || !(m = msg_new(h->sport, h->dport, payload, h->len))) {
		free(payload);
		return;
	}
	m->h = *h;
	m->src = p->conn->faddr;
	sock_deliver(s, m);
}

/* wire.md §5: the receiver's classification of one complete message. */
static int on_message(void *ctx, const struct wire_header *h, uint8_t *payload)
{
	struct path *p = ctx;
	enum wire_kind kind = wire_classify(h);
	struct wire_exts ex;

	p->msgs_rx++;
	p->bytes_rx += h->len;
	if (kind == WIRE_KIND_CONG_MAP) {
		if (h->len == WIRE_CONG_MAP_BYTES)
			memcpy(p->conn->peer_cong, payload, WIRE_CONG_MAP_BYTES);
		free(payload);
		return 0;
	}
	if (h->flags & ~WIRE_FLAGS_KNOWN) {
		free(payload);
		return -EPROTO;
	}
	if (wire_is_duplicate(h, p->next_rx_seq)) {
		p->dups++;
		free(payload);
		return 0;
	}
	p->next_rx_seq = h->seq + 1;
	if (kind != WIRE_KIND_DATA)
		free(payload);
	switch (kind) {
	case WIRE_KIND_PROBE:
		wire_exts_parse(h->ext, &ex);
		conn_handshake(p->conn, &ex);
		answer_ping(p, h, true);
		break;
	case WIRE_KIND_PING:
		answer_ping(p, h, false);
		break;
	case WIRE_KIND_PROBE_PONG:
		wire_exts_parse(h->ext, &ex);
		conn_handshake(p->conn, &ex);
		break;
	case WIRE_KIND_DATA:
		deliver(p, h, payload);
		break;
	default:
		break;
	}
	return 0;
}

int path_receive(struct path *p, const uint8_t *buf, size_t n)
{
	int err = wire_parser_feed(&p->parser, buf, n, on_message, p);

	if (err) {
		PATH_LOG(LOG_WARN, p, "malformed stream from peer (%s): dropping this connection",
			 err == -EMSGSIZE ? "message longer than 1 MiB" : strerror(-err));
		path_drop(p, "malformed stream");
	}
	return err;
}

static void read_once(struct path *p, bool *more)
{
	ssize_t n = sys_read(p->fd, engine.rxbuf, sizeof(engine.rxbuf));

	*more = false;
	if (n == 0) {
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
	*more = (size_t)n == sizeof(engine.rxbuf);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct path *p = w->data;
	bool more = true;

	(void)loop, (void)revents;
	/* Path 0 is drained first so that pre-fan-out data is parsed before lane data. */
	for (int i = 0; more && i < (p->index == 0 ? 16 : 1) && p->state == PATH_UP; i++)
		read_once(p, &more);
	if (p->state == PATH_UP && !TAILQ_EMPTY(&p->sendq))
		path_write(p);
}
