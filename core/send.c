// SPDX-License-Identifier: MIT
/* sendmsg: the kernel's checks in the kernel's order (socket-api.md §5), then queueing. */
#include <errno.h>
#include <linux/rds.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/apisock.h"
#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/listen.h"
#include "mprds/sysio.h"

/* MSG_CMSG_COMPAT, the third flag §5 allows, is kernel-internal: userspace cannot pass it. */
#define SEND_FLAGS_OK (MSG_DONTWAIT | MSG_ZEROCOPY)

/* §5 rows 10, 14, 16 and §5a: what SOL_RDS control messages get on TCP. */
static int check_cmsgs(const struct msghdr *msg, int flags)
{
	struct cmsghdr *c;

	if (!msg->msg_control || msg->msg_controllen == 0)
		return 0;
	for (c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_len < sizeof(*c) ||
		    c->cmsg_len > msg->msg_controllen - ((char *)c - (char *)msg->msg_control))
			return -EINVAL;
		if (c->cmsg_level != SOL_RDS)
			continue;
		switch (c->cmsg_type) {
		case RDS_CMSG_RDMA_ARGS:
		case RDS_CMSG_RDMA_MAP:
		case RDS_CMSG_ATOMIC_FADD:
		case RDS_CMSG_ATOMIC_CSWP:
		case RDS_CMSG_MASKED_ATOMIC_FADD:
		case RDS_CMSG_MASKED_ATOMIC_CSWP:
			return -EOPNOTSUPP;
		case RDS_CMSG_ZCOPY_COOKIE:
			if (!(flags & MSG_ZEROCOPY))
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static ssize_t iov_total(const struct msghdr *msg)
{
	size_t n = 0;

	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		n += msg->msg_iov[i].iov_len;
		if (n > WIRE_MAX_PAYLOAD)
			return -EMSGSIZE;
	}
	return (ssize_t)n;
}

static uint8_t *copy_payload(const struct msghdr *msg, size_t len)
{
	uint8_t *buf, *p;

	if (len == 0)
		return NULL;
	buf = p = malloc(len);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		memcpy(p, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
		p += msg->msg_iov[i].iov_len;
	}
	return buf;
}

/* wire.md §12: a destination this process owns is served at once, like the loop transport. */
static void deliver_locally(struct sock *s, const struct addr *dst, uint16_t dport, uint8_t *data,
			    size_t len)
{
	struct sock *to = dport ? sock_lookup(dst, dport) : s;
	struct msg *m;

	if (!to || !(m = msg_new(dport ? s->bound_port : 0, dport ? dport : s->bound_port, data,
				 (uint32_t)len))) {
		free(data);
		return;
	}
	if (!dport) { /* a ping: the pong comes back empty from port 0 */
		free(m->data);
		m->data = NULL;
		m->h.len = 0;
	}
	m->src = dport ? s->bound_addr : *dst;
	sock_deliver(to, m);
}

/* §5 rows 18-19: wait for the peer's congestion bit to clear and for send-buffer room. */
static int wait_for_room(struct sock *s, struct conn *c, uint16_t dport, int flags)
{
	double deadline = -1;
	int err;

	while (cong_blocks(s, c, dport)) {
		if (api_nonblocking(s, flags))
			return -ENOBUFS;
		/* §5 row 18: no timeout; cong_peer_updated() has no waiter list, so look again */
		engine_unlock();
		err = usleep(2000) < 0 ? -errno : 0;
		engine_lock();
		if (s->released)
			return -EBADF;
		if (err == -EINTR && !api_signal_restarts())
			return err;
	}
	while (s->snd_queued >= s->sndbuf) {
		if (api_nonblocking(s, flags))
			return -EAGAIN;
		if (deadline < 0)
			deadline = api_deadline(s, SO_SNDTIMEO);
		err = api_wait(s, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

static int parse_dest(const struct msghdr *msg, struct addr *dst, uint16_t *dport)
{
	if (msg->msg_namelen < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (addr_parse(msg->msg_name, msg->msg_namelen, dst, dport) != ADDR_OK)
		return -EINVAL;
	return 0;
}

static ssize_t queue_message(struct sock *s, const struct addr *dst, uint16_t dport,
			     const struct msghdr *msg, size_t len, int flags)
{
	struct conn *c;
	struct msg *m;
	uint8_t *data;
	int err;

	if (listen_owns(dst)) {
		data = copy_payload(msg, len);
		if (len && !data)
			return -ENOMEM;
		deliver_locally(s, dst, dport, data, len);
		return (ssize_t)len;
	}
	c = conn_get(&s->bound_addr, dst);
	if (!c)
		return -ENOMEM;
	err = wait_for_room(s, c, dport, flags);
	if (err)
		return err;
	data = copy_payload(msg, len);
	m = (len && !data) ? NULL : msg_new(s->bound_port, dport, data, (uint32_t)len);
	if (!m) {
		free(data);
		return -ENOMEM;
	}
	m->sender = s;
	conn_send(c, m);
	sock_charge(s, len);
	return (ssize_t)len;
}

static int check_send(struct sock *s, const struct msghdr *msg, int flags, const struct addr *dst,
		      ssize_t *len)
{
	int err;

	if (!s->bound || (!msg->msg_namelen && !s->connected))
		return -ENOTCONN; /* no autobind in any kernel */
	if (msg->msg_namelen && addr_is_v4(dst) != addr_is_v4(&s->bound_addr))
		return -EOPNOTSUPP;
	err = check_cmsgs(msg, flags);
	if (err)
		return err;
	*len = iov_total(msg);
	if (*len < 0)
		return (int)*len;
	if ((size_t)*len > s->sndbuf)
		return -EMSGSIZE;
	if (flags & MSG_ZEROCOPY)
		return -EINVAL; /* §5a: a zerocopy send needs RDS_CMSG_ZCOPY_COOKIE */
	return 0;
}

ssize_t api_sendmsg(struct api_sock *as, const struct msghdr *msg, int flags)
{
	struct addr dst;
	uint16_t dport;
	struct sock *s;
	ssize_t len = 0;
	int err;

	if (flags & ~SEND_FLAGS_OK)
		return -EOPNOTSUPP;
	if ((err = api_check_msghdr(msg)))
		return err;
	if (msg->msg_namelen && (err = parse_dest(msg, &dst, &dport)))
		return err;
	err = api_enter(as, &s);
	if (err)
		return err;
	if (!msg->msg_namelen) {
		dst = s->conn_addr;
		dport = s->conn_port;
	}
	err = check_send(s, msg, flags, &dst, &len);
	if (!err)
		len = queue_message(s, &dst, dport, msg, (size_t)len, flags);
	api_leave(s);
	return err ? err : len;
}
