// SPDX-License-Identifier: MIT
/*
 * One path: the protocol state of one connection of a conn — sequence numbers, the send
 * queue, the messages written and not yet acknowledged, and the rules for what is resent
 * after a reconnect (wire.md §8, §13). The connection itself is the transport's
 * (transport.h, tcp_*.c); what arrives on it is classified in rx.c.
 *
 * Life cycle (state, and what moves it):
 *
 *   DOWN ----------- path_service: transport->connect -------------> CONNECTING
 *                    (path_connecting)
 *   CONNECTING ----- connected (path_connected) -------------------> UP
 *   CONNECTING ----- refused (path_connect_failed) -----------------> DOWN, retry
 *   CONNECTING ----- our poke reached the smaller peer (path_poked) -> DOWN, retry
 *   DOWN/CONNECTING  accepted from the peer (path_connected) ------> UP
 *   UP ------------- path_drop: read to its end, then shut --------> DOWN
 *   UP ------------- path_drop while reads are paused -------------> UP with tx_dead:
 *                    no writes; shut once the reads resume and end (transport)
 *   UP ------------- path_abort (malformed stream, fewer paths) ---> DOWN at once
 *   any ------------ path_release (the conn goes away) ------------> gone
 *   (new engine) --- path_restored (mprdsd --upgrade, path_snap.c) -> UP on the old
 *                    daemon's connection, or DOWN as after shut() if it had none
 *
 * set_state() is the one place the state changes, and it refuses any other transition.
 * Every way down goes through shut(): the epoch is bumped (a parser callback sees that its
 * path went down under it), what the peer's TCP acknowledged is freed, the rest goes back to
 * the front of the send queue marked retransmitted, and the smaller side schedules a
 * reconnect. Only the smaller address connects; the larger pokes path 0 (wire.md §1, §7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/path.h"
#include "mprds/path_log.h"
#include "mprds/sock.h"

int path_init(struct path *p, struct conn *c, int index, const struct transport *tr,
	      const struct path_owner_ops *owner)
{
	memset(p, 0, sizeof(*p));
	p->conn = c;
	p->index = index;
	p->tr = tr;
	p->owner = owner;
	p->next_tx_seq = 1;
	TAILQ_INIT(&p->sendq);
	TAILQ_INIT(&p->unacked);
	wire_parser_init(&p->parser);
	p->parser.pool = &p->conn->eng->bufs;
	return tr->path_init(p);
}

const char *path_name(const struct path *p, char *buf, size_t n)
{
	char l[ADDR_STRLEN], f[ADDR_STRLEN];

	snprintf(buf, n, "%s->%s path %d", addr_str(&p->conn->laddr, l),
		 addr_str(&p->conn->faddr, f), p->index);
	return buf;
}

static const char *state_name(enum path_state s)
{
	static const char *const names[] = { "down", "connecting", "up" };

	return names[s];
}

static void set_state(struct path *p, enum path_state to)
{
	static const bool allowed[3][3] = {
		[PATH_DOWN] = { [PATH_DOWN] = true, [PATH_CONNECTING] = true, [PATH_UP] = true },
		[PATH_CONNECTING] = { [PATH_DOWN] = true, [PATH_UP] = true },
		[PATH_UP] = { [PATH_DOWN] = true },
	};

	if (!allowed[p->state][to]) {
		/* A bug of ours: say so loudly, and keep the state we know to be consistent. */
		PATH_LOG(LOG_ERROR, p, "refused state change %s -> %s", state_name(p->state),
			 state_name(to));
		return;
	}
	p->state = to;
}

void path_connecting(struct path *p)
{
	set_state(p, PATH_CONNECTING);
}

void path_poked(struct path *p)
{
	set_state(p, PATH_DOWN);
	p->poke = false;
}

static bool queue_has_app_data(const struct msg_queue *q)
{
	const struct msg *m;

	TAILQ_FOREACH(m, q, link)
	{
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

	if (p->state != PATH_DOWN || p->tr->retry_pending(p) || c->loopback)
		return false;
	/* The larger side pokes while it holds messages: the smaller may have restarted. */
	if (!c->smaller)
		return p->index == 0 && p->owner->has_app_data(c);
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
	kick_path(&p->conn->eng->kicks, p);
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
}

bool path_rx_may_resume(struct path *p)
{
	struct sock *s = p->rx_blocker;

	if (s && !s->released && s->bound && s->rcv_queued > sock_rx_bound(s) / 2)
		return false;
	stop_rx_pause(p);
	return true;
}

/* 7.0+ (wire.md §8): what TCP has acknowledged is not sent again. */
static void free_acked_now(struct path *p)
{
	long outq = p->tr->unacked_bytes(p);

	/* More outstanding than written: not TCP (a unit test's socketpair counts skb sizes). */
	if (outq >= 0 && (uint64_t)outq <= p->tx_offset)
		path_drop_acked(p, p->tx_offset - (uint64_t)outq);
}

static void close_connection(struct path *p)
{
	p->tr->close(p);
	p->tx_dead = false;
	p->warned = 0;
}

/* The connection is gone: requeue, and reconnect if this side does that. */
static void shut(struct path *p, const char *why)
{
	struct conn *c = p->conn;

	p->epoch++;
	if (p->tr->is_open(p)) {
		PATH_LOG(p->state == PATH_UP ? LOG_INFO : LOG_DEBUG, p, "down: %s", why);
		if (p->state == PATH_UP)
			free_acked_now(p);
		close_connection(p);
	}
	stop_rx_pause(p);
	if (p->state == PATH_UP && p->index == 0)
		p->owner->path0_down(c);
	set_state(p, PATH_DOWN);
	p->poke = false;
	p->peer_port = 0;
	p->tx_offset = 0;
	wire_parser_reset(&p->parser);
	requeue_unacked(p);
	if (path_should_connect(p))
		p->tr->retry(p);
	else if (!c->smaller && p->index != 0 && p->owner->has_app_data(c))
		kick_path(&c->eng->kicks, &c->paths[0]); /* path 0 pokes for the lanes' too */
	p->owner->path_down(c);
}

void path_drop(struct path *p, const char *why)
{
	if (p->dropping)
		return;
	if (p->tr->is_open(p) && p->state == PATH_UP) {
		p->dropping = true;
		p->tr->drain(p);
		p->dropping = false;
		if (p->tr->is_open(p) && p->rx_blocker) {
			/* Bytes may still be buffered: read them when the socket has room. */
			if (!p->tx_dead)
				PATH_LOG(LOG_INFO, p,
					 "failed (%s) while reads are paused: "
					 "closed once they resume",
					 why);
			p->tx_dead = true;
			p->tr->hold_for_reads(p);
			return;
		}
	}
	shut(p, why);
}

void path_connect_failed(struct path *p, int err)
{
	p->owner->unreachable(p->conn, err);
	path_drop(p, strerror(err));
}

void path_abort(struct path *p, const char *why)
{
	if (!p->dropping)
		shut(p, why);
}

void path_release(struct path *p)
{
	struct msg *m;

	p->tr->path_fini(p);
	stop_rx_pause(p);
	kicks_forget(&p->conn->eng->kicks, p);
	p->head_off = 0;
	TAILQ_CONCAT(&p->unacked, &p->sendq, link);
	while ((m = TAILQ_FIRST(&p->unacked))) {
		TAILQ_REMOVE(&p->unacked, m, link);
		discard(p, m);
	}
	p->pongs = 0;
	wire_parser_reset(&p->parser);
}

void path_restored(struct path *p, bool up)
{
	if (up) {
		set_state(p, PATH_UP);
		kick_path(&p->conn->eng->kicks, p); /* writes what is queued, polls for acks */
		return;
	}
	/* The old daemon's connection (connecting, or failed) stayed with it: as after shut(). */
	p->tx_dead = false;
	p->poke = false;
	p->peer_port = 0;
	p->tx_offset = 0;
	wire_parser_reset(&p->parser);
	stop_rx_pause(p);
	requeue_unacked(p);
	if (path_should_connect(p))
		p->tr->retry(p);
}

void path_accepted(struct path *p, uint16_t peer_port)
{
	p->peer_port = peer_port;
	p->rx_seq_at_accept = p->next_rx_seq;
}

bool path_make_room(struct path *p)
{
	if (p->tr->is_open(p) && p->state == PATH_UP) {
		/* wire.md §7: the peer gave up on the old one; read what it had delivered. */
		path_drop(p, "replaced by a new connection from the peer");
		if (p->tr->is_open(p))
			return false;
	}
	if (p->tr->is_open(p))
		close_connection(p); /* our own connect or poke in progress: the peer's wins */
	set_state(p, PATH_DOWN);
	return true;
}

void path_connected(struct path *p)
{
	struct conn *c = p->conn;

	p->owner->reached(c);
	if (p->state != PATH_CONNECTING) {
		/* Accepted (§7): the stream starts afresh on this side as on the peer's. */
		p->tx_offset = 0;
		requeue_unacked(p);
		wire_parser_reset(&p->parser);
	}
	set_state(p, PATH_UP);
	p->poke = false;
	p->connects++;
	if (p->index == 0)
		p->owner->path0_up(c);
	p->owner->want_cong_map(c); /* wire.md §9: every path up sends our map */
	path_service(p);
	if (p->index + 1 < c->npaths && path_should_connect(&c->paths[p->index + 1]))
		kick_path(&p->conn->eng->kicks, &c->paths[p->index + 1]);
}

bool path_drop_acked(struct path *p, uint64_t acked)
{
	struct msg *m;
	bool progress = false;

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
	/* Lanes wait for path 0 to be past the catch-up point (wire.md §8). */
	if (progress && p->index == 0 && p->conn->catchup_seq)
		for (int i = 1; i < p->conn->npaths; i++)
			if (!TAILQ_EMPTY(&p->conn->paths[i].sendq))
				kick_path(&p->conn->eng->kicks, &p->conn->paths[i]);
	return progress;
}

/* wire.md §10: the map goes out ahead of the next message not yet started. */
static void insert_cong_map(struct path *p)
{
	struct msg *m = cong_map_message(p->conn), *head = TAILQ_FIRST(&p->sendq);

	if (!m)
		return;
	stats_inc(&p->conn->eng->stats, STAT_CONG_UPDATE_QUEUED);
	p->conn->cong_pending = false;
	if (head && p->head_off)
		TAILQ_INSERT_AFTER(&p->sendq, head, m, link);
	else
		TAILQ_INSERT_HEAD(&p->sendq, m, link);
}

bool path_may_send(struct path *p)
{
	if (p->tx_dead)
		return false;
	if (p->conn->cong_pending && p == p->owner->map_path(p->conn))
		insert_cong_map(p);
	if (TAILQ_EMPTY(&p->sendq))
		return false;
	if (p->owner->lane_may_send(p->conn, p))
		return true;
	/* a lane waits for path 0 to catch up (wire.md §8); the kicks that follow look again */
	stats_inc(&p->conn->eng->stats, STAT_MPRDS_CATCHUP_TX0_RETRIES);
	return false;
}

int path_tx_iov(struct path *p, struct iovec *iov, int max)
{
	struct msg *m;
	int n = 0;

	TAILQ_FOREACH(m, &p->sendq, link)
	{
		if (n + 2 > max)
			break;
		struct wire_header h = m->h;

		if (m->retransmit)
			h.flags |= WIRE_FLAG_RETRANSMITTED;
		wire_header_encode(&h, m->wire);
		iov[n++] = (struct iovec){ m->wire, WIRE_HDR_LEN };
		if (m->h.len)
			iov[n++] = (struct iovec){ m->data, m->h.len };
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

void path_tx_written(struct path *p, size_t n)
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

bool path_write_direct(struct path *p)
{
	return p->tr->xmit_direct(p);
}

void path_service(struct path *p)
{
	struct conn *c = p->conn;

	if (p->state == PATH_UP)
		p->tr->xmit(p);
	else if (path_should_connect(p))
		p->tr->connect(p);
	/*
	 * The larger side's message for a lane that went down with its peer (a restart) waits
	 * for the smaller to connect again, which only path 0's poke asks for: seen as a message
	 * sent after the peer's daemon was replaced that never left (bats/50-daemon-crash).
	 */
	else if (!c->smaller && p->index != 0 && p->state == PATH_DOWN &&
		 c->paths[0].state == PATH_DOWN)
		kick_path(&c->eng->kicks, &c->paths[0]);
}

void path_note_truncated(struct path *p)
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
