// SPDX-License-Identifier: MIT
/*
 * RDS_INFO of the connections (socket-api.md §12): each connection as path 0 shows it, the
 * messages on its paths' send and retransmit queues, the counters summed over every path;
 * and mprds-info's view of each path (CONTROL_INFO_PATHS, control.h).
 */
#include <linux/rds.h>
#include <string.h>

#include "mprds/conn.h"
#include "mprds/conn_info.h"
#include "mprds/control.h"

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
 * the extra ones at the end are safe. mprds keeps per-path counters only: what maps onto
 * a kernel counter is filled in, every other kernel counter is 0.
 */
enum {
	C_CONN_RESET,
	C_RECV_DROP_OLD_SEQ = 2,
	C_CORE_END = 37, /* 36 core counters + mprds_catchup_tx0_retries */
	C_TCP_END = C_CORE_END + 5,
	C_PATH_MSGS_TX = C_TCP_END,
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

static void sum_paths(struct conn *c, void *arg)
{
	uint64_t *v = arg;

	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		const struct path *p = &c->paths[i];

		/* an established connection that went down: the kernel resets the path */
		v[C_CONN_RESET] += p->connects - (p->connects && p->state == PATH_UP);
		v[C_RECV_DROP_OLD_SEQ] += p->dups;
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
