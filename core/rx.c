// SPDX-License-Identifier: MIT
/*
 * What arrives on a path: the receiver's classification of each complete message (wire.md
 * §5) and what follows from it — the handshake (conn), pings answered, congestion maps
 * taken, data delivered to the socket bound to its port, duplicates dropped — and the bound
 * past which a path stops reading for a socket that does not read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mprds/clock.h"
#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/path.h"
#include "mprds/path_log.h"
#include "mprds/sock.h"

#define MAX_QUEUED_PONGS 256 /* a peer that pings and never reads gets no more answers */
#define PATH_STOPPED 1 /* on_message: the path went down under it (not an error) */

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
	pong = msg_new(p->conn->eng, 0, h->sport, NULL, 0);
	if (!pong)
		return;
	p->pongs++;
	stats_inc(&p->conn->eng->stats, STAT_SEND_PONG);
	stats_inc(&p->conn->eng->stats, STAT_SEND_QUEUED); /* the kernel counts pongs as sends */
	if (probe) {
		struct wire_exts ex;

		conn_fill_exts(p->conn, &ex);
		wire_exts_build(&ex, pong->h.ext);
	}
	path_enqueue(p, pong);
}

static void deliver(struct path *p, const struct wire_header *h, uint8_t *payload)
{
	struct sock *s = sock_lookup(p->conn->eng, &p->conn->laddr, h->dport);
	struct msg *m;

	if (!s)
		stats_inc(&p->conn->eng->stats, STAT_RECV_DROP_NO_SOCK);
	if (!s || !(m = msg_new(p->conn->eng, h->sport, h->dport, payload, h->len))) {
		buf_pool_put(&p->conn->eng->bufs, payload, h->len);
		return;
	}
	m->h = *h;
	m->src = p->conn->faddr;
	if (s->rx_traces)
		m->rx_stamp_ns[0] = clock_ns();
	sock_deliver(s, m);
	/*
	 * A peer that ignores the congestion map cannot fill our memory: past this bound the
	 * path stops reading and TCP pushes back (README, "Memory").
	 */
	if (!p->rx_blocker && s->rcv_queued > sock_rx_bound(s)) {
		sock_get(s);
		p->rx_blocker = s;
		p->rx_pauses++;
		PATH_LOG(LOG_INFO, p, "port %u holds %zu unread bytes: reading paused",
			 s->bound_port, s->rcv_queued);
	}
}

/* For the log: how many ports a map marks, and the lowest (-1: none). */
static unsigned cong_count(const uint8_t *map)
{
	unsigned n = 0;

	for (size_t i = 0; i < WIRE_CONG_MAP_BYTES; i++)
		n += (unsigned)__builtin_popcount(map[i]);
	return n;
}

static int cong_first(const uint8_t *map)
{
	for (size_t i = 0; i < WIRE_CONG_MAP_BYTES; i++)
		if (map[i])
			return (int)(i * 8) + __builtin_ctz(map[i]); /* §10: LSB first */
	return -1;
}

/* Every map of the peer gets a debug line: which path, what it marks, taken or stale. */
static void log_map(struct path *p, const uint8_t *map, uint64_t began, bool taken)
{
	unsigned long long before_us = (p->conn->peer_cong_at - began) / 1000;

	if (taken)
		PATH_LOG(LOG_DEBUG, p, "congestion map: %u ports congested, first %d",
			 cong_count(map), cong_first(map));
	else
		PATH_LOG(LOG_DEBUG, p,
			 "congestion map (%u ports congested) arrived %llu us before the one taken "
			 "(another path): stale, ignored",
			 cong_count(map), before_us);
}

/*
 * wire.md §10: a peer's map is never sequenced, retransmitted or answered. It is as old as
 * its first bytes (began: when the read they came in arrived), the kernel having filled it
 * when it started sending it.
 */
static void take_cong_map(struct path *p, const struct wire_header *h, const uint8_t *payload,
			  uint64_t began)
{
	if (h->len == WIRE_CONG_MAP_BYTES) {
		bool taken = cong_peer_map_take(p->conn, payload, began);

		stats_inc(&p->conn->eng->stats, STAT_CONG_UPDATE_RECEIVED);
		log_map(p, payload, began, taken);
		if (taken)
			sock_peer_map_changed(p->conn->eng);
	} else {
		/* §10: the kernel ignores it silently; the stream is still in step. */
		PATH_WARN_ONCE(p, PATH_WARN_CONG_LEN,
			       "congestion map of %u bytes (not 8192) ignored", h->len);
	}
	conn_heard(p->conn);
}

/* wire.md §8: false for a duplicate (dropped); otherwise the message moves next_rx_seq. */
static bool take_sequence(struct path *p, const struct wire_header *h)
{
	if (wire_is_duplicate(h, p->next_rx_seq)) {
		p->dups++;
		stats_inc(&p->conn->eng->stats, STAT_RECV_DROP_OLD_SEQ);
		return false;
	}
	/* Taken, as the kernel takes it: a peer that restarted without GEN_NUM looks so. */
	if (h->seq < p->next_rx_seq && !(h->flags & WIRE_FLAG_RETRANSMITTED))
		PATH_LOG_ONCE(LOG_INFO, p, PATH_WARN_SEQ,
			      "sequence number went back (%llu after %llu) on a message not marked "
			      "retransmitted: taken, as from a restarted peer",
			      (unsigned long long)h->seq, (unsigned long long)p->next_rx_seq - 1);
	p->next_rx_seq = h->seq + 1;
	return true;
}

/* Probes, pongs and pings: answered, or the handshake taken (wire.md §6). */
static void take_control(struct path *p, const struct wire_header *h, enum wire_kind kind)
{
	struct wire_exts ex;

	/* A probe is a ping too (dport 0), as the kernel counts it; a pong is not. */
	if (kind == WIRE_KIND_PING || kind == WIRE_KIND_PROBE)
		stats_inc(&p->conn->eng->stats, STAT_RECV_PING);
	if (kind == WIRE_KIND_PING) {
		answer_ping(p, h, false);
		return;
	}
	if (kind != WIRE_KIND_PROBE && kind != WIRE_KIND_PROBE_PONG)
		return;
	wire_exts_parse(h->ext, &ex);
	/* §4: what parsed before the overrun counts, as in the kernel. */
	if (ex.overrun)
		PATH_WARN_ONCE(p, PATH_WARN_EXT,
			       "extension area runs past its 16 bytes: rest ignored");
	conn_handshake(p->conn, &ex);
	if (kind == WIRE_KIND_PROBE)
		answer_ping(p, h, true);
}

/* wire.md §5: the receiver's classification of one complete message. */
static int on_message(void *ctx, const struct wire_header *h, uint8_t *payload)
{
	struct path *p = ctx;
	struct buf_pool *bufs = &p->conn->eng->bufs;
	enum wire_kind kind = wire_classify(h);
	unsigned epoch = p->epoch;
	uint64_t began = p->msg_began_ns;

	p->msg_began_ns = p->rx_stamp_ns; /* a message after this one begins in this read */
	p->msgs_rx++;
	p->bytes_rx += h->len;
	if (kind == WIRE_KIND_CONG_MAP) {
		take_cong_map(p, h, payload, began);
		buf_pool_put(bufs, payload, h->len);
		return 0;
	}
	/* No kernel sets bits above 0x20 (§3): this is not an RDS peer, or a broken one. */
	if (h->flags & ~WIRE_FLAGS_KNOWN) {
		snprintf(p->bad, sizeof(p->bad), "unknown h_flags bits 0x%02x",
			 h->flags & ~WIRE_FLAGS_KNOWN);
		buf_pool_put(bufs, payload, h->len);
		return -EPROTO;
	}
	conn_heard(p->conn);
	if (!take_sequence(p, h)) {
		buf_pool_put(bufs, payload, h->len);
		return 0;
	}
	if (kind == WIRE_KIND_DATA) {
		deliver(p, h, payload); /* the payload is the socket's now */
	} else {
		buf_pool_put(bufs, payload, h->len);
		take_control(p, h, kind);
	}
	/* The handshake closed this very path (fewer paths now): parse no further. */
	return p->epoch == epoch ? 0 : PATH_STOPPED;
}

static int feed(struct path *p, const uint8_t *buf, size_t n)
{
	p->bad[0] = '\0';
	if (p->parser.hdr_have == 0) /* the next message begins in these bytes */
		p->msg_began_ns = p->rx_stamp_ns;
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
