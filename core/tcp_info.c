// SPDX-License-Identifier: MIT
/*
 * RDS_INFO_TCP_SOCKETS (socket-api.md §12): one entry per established connection of the TCP
 * transport, as the kernel's rds_tcp lists its rds_tcp_connections: the TCP ends, where the
 * path's parser stands in the stream, and how far the stream is written and acknowledged.
 */
#include <linux/rds.h>
#include <netinet/in.h>
#include <string.h>

#include "mprds/conn.h"
#include "mprds/tcp_info.h"
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

/* The fields the IPv4 and IPv6 tables share: the two structs differ only in the addresses. */
#define TCP_INFO_FILL(ti, tr, t)                            \
	do {                                                \
		(ti).local_port = htons((tr)->lport);       \
		(ti).peer_port = htons((tr)->fport);        \
		(ti).hdr_rem = (t)->hdr_rem;                \
		(ti).data_rem = (t)->data_rem;              \
		(ti).last_sent_nxt = (t)->sent_nxt;         \
		(ti).last_expected_una = (t)->expected_una; \
		(ti).last_seen_una = (t)->seen_una;         \
	} while (0)

static void tcp_one_v6(struct info_out *o, const struct transport_info *tr,
		       const struct tcp_state *t)
{
	struct rds6_info_tcp_socket ti = { 0 };

	memcpy(&ti.local_addr, &tr->laddr.ip, sizeof(ti.local_addr));
	memcpy(&ti.peer_addr, &tr->faddr.ip, sizeof(ti.peer_addr));
	TCP_INFO_FILL(ti, tr, t);
	info_out_put(o, &ti);
}

static void tcp_one_v4(struct info_out *o, const struct transport_info *tr,
		       const struct tcp_state *t)
{
	struct rds_info_tcp_socket ti = { 0 };

	ti.local_addr = info_out_v4(&tr->laddr);
	ti.peer_addr = info_out_v4(&tr->faddr);
	TCP_INFO_FILL(ti, tr, t);
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

void tcp_info_sockets(struct info_out *o)
{
	struct tcp_count t = { .flags = o->flags };

	conn_foreach(o->eng, count_tcp, &t);
	if (info_out_fits(o, t.n))
		conn_foreach(o->eng, conn_tcp, o);
}
