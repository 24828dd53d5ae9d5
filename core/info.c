// SPDX-License-Identifier: MIT
/*
 * getsockopt(SOL_RDS, RDS_INFO_*) (socket-api.md §12) and mprds-info's own snapshots
 * (control.h) in the kernel's packed structures, into the output of info_out.c, so that
 * rds-info and rds-stress read them unchanged. The sockets' tables are sock_info.c's, the
 * connections' conn_info.c's; the TCP sockets' below is on its way to the TCP transport. The kernel
 * answers for the whole host; an engine answers for its process (mprds-info asks every
 * engine on the host through the control socket, control.c).
 */
#include <errno.h>
#include <linux/rds.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "mprds/conn.h"
#include "mprds/conn_info.h"
#include "mprds/control.h"
#include "mprds/engine.h"
#include "mprds/info.h"
#include "mprds/info_out.h"
#include "mprds/sock_info.h"
#include "mprds/transport.h"

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
