// SPDX-License-Identifier: MIT
/*
 * RDS_INFO of the connections (socket-api.md §12): each connection as path 0 shows it, the
 * messages on its paths' send and retransmit queues, the engine's counters;
 * and mprds-info's view of each path (CONTROL_INFO_PATHS, control.h).
 */
#include <linux/rds.h>
#include <string.h>

#include "mprds/conn.h"
#include "mprds/conn_info.h"
#include "mprds/control.h"
#include "mprds/engine.h"

_Static_assert(sizeof(struct rds_info_counter) == 40, "socket-api.md §12");
_Static_assert(sizeof(struct rds_info_connection) == 42, "socket-api.md §12");
_Static_assert(sizeof(struct rds6_info_connection) == 65, "socket-api.md §12");

static bool conn_is_v4(const struct conn *c)
{
	return addr_is_v4(&c->laddr);
}

static bool path_live(const struct path *p)
{
	return p->state == PATH_UP && p->tr->is_open(p);
}

/* Connections: path 0 of each (the kernel does not report the other paths either). */
static uint8_t conn_flags(const struct path *p0)
{
	uint8_t f = 0;

	struct transport_info ti;

	p0->tr->info(p0, &ti);
	if (ti.sending)
		f |= RDS_INFO_CONNECTION_FLAG_SENDING;
	if (p0->state == PATH_CONNECTING)
		f |= RDS_INFO_CONNECTION_FLAG_CONNECTING;
	if (p0->state == PATH_UP)
		f |= RDS_INFO_CONNECTION_FLAG_CONNECTED;
	return f;
}

static void conn_one_v6(struct info_out *o, const struct conn *c, const char *transport,
			uint8_t flags)
{
	struct rds6_info_connection ci = { 0 };

	ci.next_tx_seq = c->paths[0].next_tx_seq;
	ci.next_rx_seq = c->paths[0].next_rx_seq;
	memcpy(&ci.laddr, &c->laddr.ip, sizeof(ci.laddr));
	memcpy(&ci.faddr, &c->faddr.ip, sizeof(ci.faddr));
	strcpy((char *)ci.transport, transport);
	ci.flags = flags;
	info_out_put(o, &ci);
}

static void conn_one_v4(struct info_out *o, const struct conn *c, const char *transport,
			uint8_t flags)
{
	struct rds_info_connection ci = { 0 };

	ci.next_tx_seq = c->paths[0].next_tx_seq;
	ci.next_rx_seq = c->paths[0].next_rx_seq;
	ci.laddr = info_out_v4(&c->laddr);
	ci.faddr = info_out_v4(&c->faddr);
	strcpy((char *)ci.transport, transport);
	ci.flags = flags;
	info_out_put(o, &ci);
}

static void conn_one(struct conn *c, void *arg)
{
	struct info_out *o = arg;
	/* a pair served in memory: the kernel's loop transport, always connected */
	const char *transport = c->loopback ? "loopback" : "tcp";
	uint8_t flags = c->loopback ? RDS_INFO_CONNECTION_FLAG_CONNECTED : conn_flags(&c->paths[0]);

	if (o->flags & INFO_V6)
		conn_one_v6(o, c, transport, flags);
	else if (conn_is_v4(c))
		conn_one_v4(o, c, transport, flags);
}

void conn_info_connections(struct info_out *o)
{
	conn_foreach(o->eng, conn_one, o);
}

static void queue_put(struct info_out *o, const struct conn *c, const struct msg_queue *q)
{
	const struct msg *m;

	TAILQ_FOREACH(m, q, link)
	info_out_msg(o, m, &c->laddr, &c->faddr, m->h.sport, m->h.dport);
}

/*
 * Send queue: what no TCP connection has taken yet, including messages held for the
 * handshake (they have no sequence number yet: 0). Retransmit queue: written to TCP and
 * not yet acknowledged by the peer's TCP.
 */
static void conn_msgs(struct conn *c, void *arg)
{
	struct info_out *o = arg;

	if (!(o->flags & INFO_V6) && !conn_is_v4(c))
		return;
	if (!(o->flags & INFO_RETRANS))
		queue_put(o, c, &c->held);
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		queue_put(o, c,
			  o->flags & INFO_RETRANS ? &c->paths[i].unacked : &c->paths[i].sendq);
}

void conn_info_messages(struct info_out *o)
{
	conn_foreach(o->eng, conn_msgs, o);
}

/*
 * The kernel's counters in its order (§12): the core's, mprds_catchup_tx0_retries (7.0+),
 * then rds_tcp's; then mprds's own per-path totals. Callers look counters up by name, so
 * the extra ones at the end are safe. Each comes from the engine's counts (stats.h), or is
 * summed over the paths of every connection (conn_reset and mprds_path_*: they go when a
 * connection is reaped), or stays 0 where the engine cannot know it:
 *   recv_drop_bad_checksum  rds_tcp never checks h_csum, nor do we
 *   recv_drop_dead_sock, recv_deliver_raced, send_lock_contention, send_lock_queue_raced
 *                           races the one engine lock rules out
 *   recv_immediate_retry, recv_delayed_retry, send_immediate_retry, send_delayed_retry,
 *   send_stuck_rm           the kernel's work-queue retries; our loop has none
 *   recv_ack_required, send_ack_required
 *                           we never ask for RDS acknowledgements: TCP's are enough
 *   send_drop_acked         no kernel code counts it: 0 there too
 *   recv_rdma_bytes, send_rdma, send_rdma_bytes, page_remainder_hit, page_remainder_miss
 *                           RDMA and the kernel's page allocator
 *   tcp_connect_raced       the accepting (larger) side connects only to poke (wire.md §1),
 *                           and a connection it accepts takes the poke's place: no race
 */
enum {
	C_CONN_RESET,
	C_RECV_DROP_BAD_CHECKSUM,
	C_RECV_DROP_OLD_SEQ,
	C_RECV_DROP_NO_SOCK,
	C_RECV_DROP_DEAD_SOCK,
	C_RECV_DELIVER_RACED,
	C_RECV_DELIVERED,
	C_RECV_QUEUED,
	C_RECV_IMMEDIATE_RETRY,
	C_RECV_DELAYED_RETRY,
	C_RECV_ACK_REQUIRED,
	C_RECV_RDMA_BYTES,
	C_RECV_PING,
	C_SEND_QUEUE_EMPTY,
	C_SEND_QUEUE_FULL,
	C_SEND_LOCK_CONTENTION,
	C_SEND_LOCK_QUEUE_RACED,
	C_SEND_IMMEDIATE_RETRY,
	C_SEND_DELAYED_RETRY,
	C_SEND_DROP_ACKED,
	C_SEND_ACK_REQUIRED,
	C_SEND_QUEUED,
	C_SEND_RDMA,
	C_SEND_RDMA_BYTES,
	C_SEND_PONG,
	C_PAGE_REMAINDER_HIT,
	C_PAGE_REMAINDER_MISS,
	C_COPY_TO_USER,
	C_COPY_FROM_USER,
	C_CONG_UPDATE_QUEUED,
	C_CONG_UPDATE_RECEIVED,
	C_CONG_SEND_ERROR,
	C_CONG_SEND_BLOCKED,
	C_RECV_BYTES_ADDED_TO_SOCK,
	C_RECV_BYTES_FREED_FROMSOCK,
	C_SEND_STUCK_RM,
	C_MPRDS_CATCHUP_TX0_RETRIES,
	C_TCP_DATA_READY_CALLS,
	C_TCP_WRITE_SPACE_CALLS,
	C_TCP_SNDBUF_FULL,
	C_TCP_CONNECT_RACED,
	C_TCP_LISTEN_CLOSED_STALE,
	C_PATH_MSGS_TX,
	C_PATH_MSGS_RX,
	C_PATH_BYTES_TX,
	C_PATH_BYTES_RX,
	C_PATH_RETRANSMITS,
	C_PATH_CONNECTS,
	C_COUNT
};

static const char *const counter_names[C_COUNT] = {
	"conn_reset",
	"recv_drop_bad_checksum",
	"recv_drop_old_seq",
	"recv_drop_no_sock",
	"recv_drop_dead_sock",
	"recv_deliver_raced",
	"recv_delivered",
	"recv_queued",
	"recv_immediate_retry",
	"recv_delayed_retry",
	"recv_ack_required",
	"recv_rdma_bytes",
	"recv_ping",
	"send_queue_empty",
	"send_queue_full",
	"send_lock_contention",
	"send_lock_queue_raced",
	"send_immediate_retry",
	"send_delayed_retry",
	"send_drop_acked",
	"send_ack_required",
	"send_queued",
	"send_rdma",
	"send_rdma_bytes",
	"send_pong",
	"page_remainder_hit",
	"page_remainder_miss",
	"copy_to_user",
	"copy_from_user",
	"cong_update_queued",
	"cong_update_received",
	"cong_send_error",
	"cong_send_blocked",
	"recv_bytes_added_to_sock",
	"recv_bytes_freed_fromsock",
	"send_stuck_rm",
	"mprds_catchup_tx0_retries",
	"tcp_data_ready_calls",
	"tcp_write_space_calls",
	"tcp_sndbuf_full",
	"tcp_connect_raced",
	"tcp_listen_closed_stale",
	"mprds_path_msgs_sent",
	"mprds_path_msgs_received",
	"mprds_path_bytes_sent",
	"mprds_path_bytes_received",
	"mprds_path_retransmits",
	"mprds_path_connects",
};

/* Where each of the engine's counts is reported. */
static const uint8_t stat_counter[STAT_COUNT] = {
	[STAT_RECV_DROP_OLD_SEQ] = C_RECV_DROP_OLD_SEQ,
	[STAT_RECV_DROP_NO_SOCK] = C_RECV_DROP_NO_SOCK,
	[STAT_RECV_DELIVERED] = C_RECV_DELIVERED,
	[STAT_RECV_QUEUED] = C_RECV_QUEUED,
	[STAT_RECV_PING] = C_RECV_PING,
	[STAT_SEND_QUEUE_EMPTY] = C_SEND_QUEUE_EMPTY,
	[STAT_SEND_QUEUE_FULL] = C_SEND_QUEUE_FULL,
	[STAT_SEND_QUEUED] = C_SEND_QUEUED,
	[STAT_SEND_PONG] = C_SEND_PONG,
	[STAT_COPY_TO_USER] = C_COPY_TO_USER,
	[STAT_COPY_FROM_USER] = C_COPY_FROM_USER,
	[STAT_CONG_UPDATE_QUEUED] = C_CONG_UPDATE_QUEUED,
	[STAT_CONG_UPDATE_RECEIVED] = C_CONG_UPDATE_RECEIVED,
	[STAT_CONG_SEND_ERROR] = C_CONG_SEND_ERROR,
	[STAT_CONG_SEND_BLOCKED] = C_CONG_SEND_BLOCKED,
	[STAT_RECV_BYTES_ADDED_TO_SOCK] = C_RECV_BYTES_ADDED_TO_SOCK,
	[STAT_RECV_BYTES_FREED_FROMSOCK] = C_RECV_BYTES_FREED_FROMSOCK,
	[STAT_MPRDS_CATCHUP_TX0_RETRIES] = C_MPRDS_CATCHUP_TX0_RETRIES,
	[STAT_TCP_DATA_READY_CALLS] = C_TCP_DATA_READY_CALLS,
	[STAT_TCP_WRITE_SPACE_CALLS] = C_TCP_WRITE_SPACE_CALLS,
	[STAT_TCP_SNDBUF_FULL] = C_TCP_SNDBUF_FULL,
	[STAT_TCP_LISTEN_CLOSED_STALE] = C_TCP_LISTEN_CLOSED_STALE,
};

static void sum_paths(struct conn *c, void *arg)
{
	uint64_t *v = arg;

	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		const struct path *p = &c->paths[i];

		/* an established connection that went down: the kernel resets the path */
		v[C_CONN_RESET] += p->connects - (p->connects && p->state == PATH_UP);
		v[C_PATH_MSGS_TX] += p->msgs_tx;
		v[C_PATH_MSGS_RX] += p->msgs_rx;
		v[C_PATH_BYTES_TX] += p->bytes_tx;
		v[C_PATH_BYTES_RX] += p->bytes_rx;
		v[C_PATH_RETRANSMITS] += p->retransmits;
		v[C_PATH_CONNECTS] += p->connects;
	}
}

void conn_info_counters(struct info_out *o)
{
	uint64_t v[C_COUNT] = { 0 };

	if (!info_out_fits(o, C_COUNT))
		return;
	conn_foreach(o->eng, sum_paths, v);
	for (int i = 0; i < STAT_COUNT; i++)
		v[stat_counter[i]] += o->eng->stats.v[i];
	for (int i = 0; i < C_COUNT; i++) {
		struct rds_info_counter ctr = { 0 };

		strncpy((char *)ctr.name, counter_names[i], sizeof(ctr.name) - 1);
		ctr.value = v[i];
		info_out_put(o, &ctr);
	}
}

static uint8_t path_state(const struct path *p)
{
	switch (p->state) {
	case PATH_UP:
		return CONTROL_PATH_UP;
	case PATH_CONNECTING:
		return CONTROL_PATH_CONNECTING;
	default:
		return CONTROL_PATH_DOWN;
	}
}

/* The TCP connection's ports and round-trip time, while it is up. */
static void path_tcp(const struct path *p, struct control_path *cp)
{
	struct transport_info ti;

	if (!path_live(p))
		return;
	p->tr->info(p, &ti);
	cp->tcp_lport = ti.lport;
	cp->tcp_fport = ti.fport;
	cp->tcp_rtt_us = ti.rtt_us;
	cp->tcp_rttvar_us = ti.rttvar_us;
}

static void path_one(struct info_out *o, const struct conn *c, const struct path *p)
{
	struct control_path cp = { 0 };

	memcpy(cp.laddr, &c->laddr.ip, sizeof(cp.laddr));
	memcpy(cp.faddr, &c->faddr.ip, sizeof(cp.faddr));
	cp.index = (uint8_t)p->index;
	cp.state = path_state(p);
	cp.npaths = (uint8_t)c->npaths;
	cp.flags = c->smaller ? CONTROL_PATH_ACTIVE : 0;
	path_tcp(p, &cp);
	for (const struct msg *m = TAILQ_FIRST(&p->sendq); m; m = TAILQ_NEXT(m, link))
		cp.sendq++;
	for (const struct msg *m = TAILQ_FIRST(&p->unacked); m; m = TAILQ_NEXT(m, link))
		cp.unacked++;
	cp.next_tx_seq = p->next_tx_seq;
	cp.next_rx_seq = p->next_rx_seq;
	cp.msgs_tx = p->msgs_tx;
	cp.msgs_rx = p->msgs_rx;
	cp.bytes_tx = p->bytes_tx;
	cp.bytes_rx = p->bytes_rx;
	cp.retransmits = p->retransmits;
	cp.dups = p->dups;
	cp.connects = p->connects;
	info_out_put(o, &cp);
}

/* The agreed paths of each connection (path 0 before the handshake), and any other in use. */
static void conn_paths(struct conn *c, void *arg)
{
	struct info_out *o = arg;

	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		const struct path *p = &c->paths[i];

		if (i < (c->npaths > 1 ? c->npaths : 1) || p->tr->is_open(p) || p->connects)
			path_one(o, c, p);
	}
}

void conn_info_paths(struct info_out *o)
{
	conn_foreach(o->eng, conn_paths, o);
}
