// SPDX-License-Identifier: MIT
/*
 * getsockopt(SOL_RDS, RDS_INFO_*) (socket-api.md §12) and mprds-info's own snapshots
 * (control.h) in the kernel's packed structures, into the output of info_out.c, so that
 * rds-info and rds-stress read them unchanged. The sockets' tables are sock_info.c's; the
 * producers below are on their way to the rooms that own their data (issue 11). The kernel
 * answers for the whole host; an engine answers for its process (mprds-info asks every
 * engine on the host through the control socket, control.c).
 */
#include <errno.h>
#include <linux/rds.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "mprds/conn.h"
#include "mprds/control.h"
#include "mprds/engine.h"
#include "mprds/info.h"
#include "mprds/info_out.h"
#include "mprds/sock_info.h"
#include "mprds/transport.h"

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

static void conn_info_connections(struct info_out *o)
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

static void conn_info_messages(struct info_out *o)
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

static void conn_info_counters(struct info_out *o)
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

static void conn_info_paths(struct info_out *o)
{
	conn_foreach(o->eng, conn_paths, o);
}

_Static_assert(sizeof(struct rds_info_tcp_socket) == 41, "socket-api.md §12");
_Static_assert(sizeof(struct rds6_info_tcp_socket) == 64, "socket-api.md §12");

/* A path of this transport with an established connection. */
static bool tcp_live(const struct path *p)
{
	return p->tr == &tcp_transport && p->state == PATH_UP && tcp_transport.is_open(p);
}

/* The IPv4 variant lists only connections between IPv4 addresses. */
static bool tcp_listed(int flags, const struct conn *c)
{
	return (flags & INFO_V6) || addr_is_v4(&c->laddr);
}

struct tcp_count {
	int flags;
	size_t n;
};

static void count_tcp(struct conn *c, void *arg)
{
	struct tcp_count *t = arg;

	if (!tcp_listed(t->flags, c))
		return;
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		t->n += tcp_live(&c->paths[i]);
}

/*
 * The receive state of the path's parser as the kernel's rds_tcp reports it (48 header bytes
 * to go when idle), and its send sequence numbers. mprds does not see the TCP sequence
 * numbers: these count bytes from the start of the TCP connection (initial sequence 0).
 */
struct tcp_state {
	uint64_t hdr_rem, data_rem;
	uint32_t sent_nxt, expected_una, seen_una;
};

static void tcp_state(const struct path *p, long outq, struct tcp_state *t)
{
	const struct msg *last = TAILQ_LAST(&p->unacked, msg_queue);

	if (p->parser.hdr_have < WIRE_HDR_LEN) {
		t->hdr_rem = WIRE_HDR_LEN - p->parser.hdr_have;
		t->data_rem = 0;
	} else {
		t->hdr_rem = 0;
		t->data_rem = p->parser.hdr.len - p->parser.payload_have;
	}
	t->sent_nxt = (uint32_t)p->tx_offset;
	t->expected_una = (uint32_t)(last ? last->end_offset : p->tx_offset);
	t->seen_una = (uint32_t)(p->tx_offset - (uint64_t)(outq > 0 ? outq : 0));
}

static void tcp_one_v6(struct info_out *o, const struct transport_info *tr,
		       const struct tcp_state *t)
{
	struct rds6_info_tcp_socket ti = { 0 };

	memcpy(&ti.local_addr, &tr->laddr.ip, sizeof(ti.local_addr));
	memcpy(&ti.peer_addr, &tr->faddr.ip, sizeof(ti.peer_addr));
	ti.local_port = htons(tr->lport);
	ti.peer_port = htons(tr->fport);
	ti.hdr_rem = t->hdr_rem;
	ti.data_rem = t->data_rem;
	ti.last_sent_nxt = t->sent_nxt;
	ti.last_expected_una = t->expected_una;
	ti.last_seen_una = t->seen_una;
	info_out_put(o, &ti);
}

static void tcp_one_v4(struct info_out *o, const struct transport_info *tr,
		       const struct tcp_state *t)
{
	struct rds_info_tcp_socket ti = { 0 };

	ti.local_addr = info_out_v4(&tr->laddr);
	ti.peer_addr = info_out_v4(&tr->faddr);
	ti.local_port = htons(tr->lport);
	ti.peer_port = htons(tr->fport);
	ti.hdr_rem = t->hdr_rem;
	ti.data_rem = t->data_rem;
	ti.last_sent_nxt = t->sent_nxt;
	ti.last_expected_una = t->expected_una;
	ti.last_seen_una = t->seen_una;
	info_out_put(o, &ti);
}

static void tcp_one(struct info_out *o, const struct path *p)
{
	struct transport_info tr;
	struct tcp_state t;

	tcp_transport.info(p, &tr);
	tcp_state(p, tr.unacked, &t);
	if (o->flags & INFO_V6)
		tcp_one_v6(o, &tr, &t);
	else
		tcp_one_v4(o, &tr, &t);
}

static void conn_tcp(struct conn *c, void *arg)
{
	struct info_out *o = arg;

	if (!tcp_listed(o->flags, c))
		return;
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		if (tcp_live(&c->paths[i]))
			tcp_one(o, &c->paths[i]);
}

static void tcp_info_sockets(struct info_out *o)
{
	struct tcp_count t = { .flags = o->flags };

	conn_foreach(o->eng, count_tcp, &t);
	if (info_out_fits(o, t.n))
		conn_foreach(o->eng, conn_tcp, o);
}

struct info_source {
	int optname;
	size_t each;
	info_producer *fn;
	int flags;
};

/* The sources a kernel with rds_tcp and without rds_rdma registers; the rest: ENOPROTOOPT. */
static const struct info_source sources[] = {
	{ RDS_INFO_COUNTERS, sizeof(struct rds_info_counter), conn_info_counters, 0 },
	{ RDS_INFO_CONNECTIONS, sizeof(struct rds_info_connection), conn_info_connections, 0 },
	{ RDS_INFO_SEND_MESSAGES, sizeof(struct rds_info_message), conn_info_messages, 0 },
	{ RDS_INFO_RETRANS_MESSAGES, sizeof(struct rds_info_message), conn_info_messages,
	  INFO_RETRANS },
	{ RDS_INFO_RECV_MESSAGES, sizeof(struct rds_info_message), sock_info_recv_messages, 0 },
	{ RDS_INFO_SOCKETS, sizeof(struct rds_info_socket), sock_info_sockets, 0 },
	{ RDS_INFO_TCP_SOCKETS, sizeof(struct rds_info_tcp_socket), tcp_info_sockets, 0 },
	{ RDS6_INFO_CONNECTIONS, sizeof(struct rds6_info_connection), conn_info_connections,
	  INFO_V6 },
	{ RDS6_INFO_SEND_MESSAGES, sizeof(struct rds6_info_message), conn_info_messages, INFO_V6 },
	{ RDS6_INFO_RETRANS_MESSAGES, sizeof(struct rds6_info_message), conn_info_messages,
	  INFO_V6 | INFO_RETRANS },
	{ RDS6_INFO_RECV_MESSAGES, sizeof(struct rds6_info_message), sock_info_recv_messages,
	  INFO_V6 },
	{ RDS6_INFO_SOCKETS, sizeof(struct rds6_info_socket), sock_info_sockets, INFO_V6 },
	{ RDS6_INFO_TCP_SOCKETS, sizeof(struct rds6_info_tcp_socket), tcp_info_sockets, INFO_V6 },
};

/* rds_info_getsockopt(): the length checks, the buffer, then the source. */
int info_get(struct engine *e, int optname, void *buf, socklen_t *len)
{
	int err = info_out_check(buf, *len);

	if (err)
		return err;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (sources[i].optname == optname)
			return info_out_run(e, sources[i].fn, sources[i].flags, sources[i].each,
					    buf, len);
	return -ENOPROTOOPT;
}

int info_paths(struct engine *e, void *buf, socklen_t *len)
{
	int err = info_out_check(buf, *len);

	return err ? err :
		     info_out_run(e, conn_info_paths, 0, sizeof(struct control_path), buf, len);
}

/* The engine's settings and sizes: what no one room owns. */
static void process(struct info_out *o)
{
	struct control_process cp = { 0 };

	cp.pid = (uint32_t)getpid();
	cp.npaths = (uint32_t)o->eng->cfg.npaths;
	cp.tcp_port = o->eng->cfg.tcp_port;
	cp.gen_num = o->eng->cfg.gen_num;
	cp.sockets = (uint32_t)sock_info_count(o->eng);
	cp.connections = (uint32_t)conn_count(o->eng);
	info_out_put(o, &cp);
}

int info_process(struct engine *e, void *buf, socklen_t *len)
{
	int err = info_out_check(buf, *len);

	return err ? err : info_out_run(e, process, 0, sizeof(struct control_process), buf, len);
}
