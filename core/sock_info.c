// SPDX-License-Identifier: MIT
/*
 * RDS_INFO of the sockets (socket-api.md §12): each socket's addresses, buffer sizes and
 * inode, and the messages on its receive queue, in the kernel's packed structures.
 */
#include <linux/rds.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>

#include "mprds/sock.h"
#include "mprds/sock_info.h"

_Static_assert(sizeof(struct rds_info_socket) == 28, "socket-api.md §12");
_Static_assert(sizeof(struct rds6_info_socket) == 52, "socket-api.md §12");

static bool sock_is_v4(const struct sock *s)
{
	return s->bound && addr_is_v4(&s->bound_addr);
}

/* Receive queues: laddr is the socket's, the ports flipped (lport = destination port). */
static void sock_msgs(struct sock *s, void *arg)
{
	struct info_out *o = arg;
	const struct msg *m;

	if (!(o->flags & INFO_V6) && !sock_is_v4(s))
		return;
	TAILQ_FOREACH(m, &s->rxq, link)
	info_out_msg(o, m, &s->bound_addr, &m->src, m->h.dport, m->h.sport);
}

void sock_info_recv_messages(struct info_out *o)
{
	sock_foreach(o->eng, sock_msgs, o);
}

static void count_sock(struct sock *s, void *arg)
{
	(void)s;
	(*(size_t *)arg)++;
}

size_t sock_info_count(struct engine *e)
{
	size_t n = 0;

	sock_foreach(e, count_sock, &n);
	return n;
}

static uint64_t sock_inode(const struct sock *s)
{
	struct stat st;

	return fstat(s->app_fd, &st) ? 0 : (uint64_t)st.st_ino;
}

static void sock_one_v6(struct info_out *o, const struct sock *s, const struct addr *c)
{
	struct rds6_info_socket si = { 0 };

	si.sndbuf = (uint32_t)s->sndbuf; /* §11: the requested (halved) values */
	si.rcvbuf = (uint32_t)s->rcvbuf;
	if (s->bound)
		memcpy(&si.bound_addr, &s->bound_addr.ip, sizeof(si.bound_addr));
	memcpy(&si.connected_addr, &c->ip, sizeof(si.connected_addr));
	si.bound_port = htons(s->bound ? s->bound_port : 0);
	si.connected_port = htons(s->connected ? s->conn_port : 0);
	si.inum = sock_inode(s);
	info_out_put(o, &si);
}

static void sock_one_v4(struct info_out *o, const struct sock *s, const struct addr *c)
{
	struct rds_info_socket si = { 0 };

	si.sndbuf = (uint32_t)s->sndbuf;
	si.rcvbuf = (uint32_t)s->rcvbuf;
	si.bound_addr = info_out_v4(&s->bound_addr);
	si.connected_addr = info_out_v4(c);
	si.bound_port = htons(s->bound_port);
	si.connected_port = htons(s->connected ? s->conn_port : 0);
	si.inum = sock_inode(s);
	info_out_put(o, &si);
}

static void sock_one(struct sock *s, void *arg)
{
	struct info_out *o = arg;
	struct addr none = { 0 };
	const struct addr *c = s->connected ? &s->conn_addr : &none;

	if (o->flags & INFO_V6)
		sock_one_v6(o, s, c);
	else if (sock_is_v4(s))
		sock_one_v4(o, s, c);
}

/*
 * Every socket, bound or not. The IPv4 variant (kernels >= 4.19) copies only sockets bound
 * to an IPv4 address, but a buffer too small for all sockets gets the count of all of them.
 */
void sock_info_sockets(struct info_out *o)
{
	if (info_out_fits(o, sock_info_count(o->eng)))
		sock_foreach(o->eng, sock_one, o);
}
