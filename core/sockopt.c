// SPDX-License-Identifier: MIT
/* getsockopt, setsockopt and ioctl of an RDS socket (socket-api.md §9, §10, §13). */
#include <errno.h>
#include <linux/rds.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mprds/apisock.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/info.h"

#define SOCK_MIN_SNDBUF 4608
#define SOCK_MIN_RCVBUF 2304

static int put_int(int v, void *val, socklen_t *len)
{
	if ((int)*len < 0)
		return -EINVAL;
	if (*len > sizeof(int))
		*len = sizeof(int);
	if (*len) /* val may be NULL then, and memcpy() must not be given one */
		memcpy(val, &v, *len);
	return 0;
}

static int get_int(const void *val, socklen_t len, int *out)
{
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* Generic options the kernel keeps on any socket live on the application's real fd. */
static int forward_get(struct sock *s, int level, int name, void *val, socklen_t *len)
{
	if (syscall(SYS_getsockopt, s->app_fd, level, name, val, len) < 0)
		return -errno;
	return 0;
}

static int forward_set(struct sock *s, int level, int name, const void *val, socklen_t len)
{
	if (syscall(SYS_setsockopt, s->app_fd, level, name, val, len) < 0)
		return -errno;
	return 0;
}

static int get_socket_level(struct sock *s, int name, void *val, socklen_t *len)
{
	switch (name) {
	case SO_TYPE:
		return put_int(SOCK_SEQPACKET, val, len);
	case SO_DOMAIN:
		return put_int(AF_RDS, val, len);
	case SO_PROTOCOL:
	case SO_ERROR:
		return put_int(0, val, len);
	case SO_ZEROCOPY:
		return put_int(s->zerocopy, val, len);
	case SO_SNDBUF: /* §10: the kernel reports the doubled value it stores */
		return put_int((int)s->sndbuf * 2, val, len);
	case SO_RCVBUF:
		return put_int((int)s->rcvbuf * 2, val, len);
	default:
		return forward_get(s, SOL_SOCKET, name, val, len);
	}
}

static size_t buffer_limit(int v, uint32_t max, bool force, size_t min)
{
	size_t stored;

	if (v < 0)
		v = 0;
	if (!force && (uint32_t)v > max)
		v = (int)max;
	stored = (size_t)v * 2;
	return (stored < min ? min : stored) / 2;
}

static int set_socket_level(struct sock *s, int name, const void *val, socklen_t len)
{
	int v, err;

	switch (name) {
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		if ((err = get_int(val, len, &v)))
			return err;
		s->sndbuf = buffer_limit(v, s->eng->cfg.wmem_max, name == SO_SNDBUFFORCE,
					 SOCK_MIN_SNDBUF);
		return 0;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		if ((err = get_int(val, len, &v)))
			return err;
		s->rcvbuf = buffer_limit(v, s->eng->cfg.rmem_max, name == SO_RCVBUFFORCE,
					 SOCK_MIN_RCVBUF);
		return 0;
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMP_NEW:
		if ((err = get_int(val, len, &v)))
			return err;
		s->timestamp = v ? name : (s->timestamp == name ? 0 : s->timestamp);
		return forward_set(s, SOL_SOCKET, name, val, len);
	case SO_ZEROCOPY: /* §10: allowed for PF_RDS */
		if ((err = get_int(val, len, &v)))
			return err;
		s->zerocopy = !!v;
		return 0;
	default:
		return forward_set(s, SOL_SOCKET, name, val, len);
	}
}

static int get_rds_level(struct sock *s, int name, void *val, socklen_t *len)
{
	if (name >= RDS_INFO_FIRST && name <= RDS_INFO_LAST)
		return info_get(s->eng, name, val, len); /* §12, info.c */
	switch (name) {
	case SO_RDS_TRANSPORT:
		if (*len < sizeof(int))
			return -EINVAL;
		/* §9: set or bound means attached; ours is always TCP (see the README). */
		return put_int(s->bound || s->transport_set ? RDS_TRANS_TCP : RDS_TRANS_NONE, val,
			       len);
	case RDS_RECVERR:
		if (*len < sizeof(int))
			return -EINVAL;
		return put_int(s->recverr, val, len);
	default:
		return -ENOPROTOOPT;
	}
}

/* §9: set once, before bind; only TCP is available here (IB and iWARP are not). */
static int set_transport(struct sock *s, const void *val, socklen_t len)
{
	int v;

	if (s->bound || s->transport_set)
		return -EOPNOTSUPP;
	if (len != sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	if (v < 0 || v >= RDS_TRANS_COUNT)
		return -EINVAL;
	if (v != RDS_TRANS_TCP)
		return -ENOPROTOOPT;
	s->transport_set = true;
	return 0;
}

/* §9: RDS_CANCEL_SENT_TO drops what this socket still has queued for one destination. */
static int cancel_sent_to(struct sock *s, const void *val, socklen_t len)
{
	struct addr dst;
	uint16_t port;
	struct sockaddr_in6 sin6;

	if (!s->bound)
		return -ENOTCONN;
	if (len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (len >= sizeof(struct sockaddr_in6)) {
		/* the kernel does not check the family field of a long argument */
		memcpy(&sin6, val, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		addr_parse((struct sockaddr *)&sin6, sizeof(sin6), &dst, &port);
	} else {
		struct sockaddr_in sin;

		memcpy(&sin, val, sizeof(sin));
		sin.sin_family = AF_INET;
		addr_parse((struct sockaddr *)&sin, sizeof(sin), &dst, &port);
	}
	conn_cancel(s, &dst, port);
	return 0;
}

/* §9: SO_RDS_MSG_RXPATH_LATENCY takes struct rds_rx_trace_so, and EFAULT for any misuse. */
static int set_rx_trace(struct sock *s, const void *val, socklen_t len)
{
	struct rds_rx_trace_so t;

	if (len != sizeof(t))
		return -EFAULT;
	memcpy(&t, val, sizeof(t));
	if (t.rx_traces > RDS_MSG_RX_DGRAM_TRACE_MAX)
		return -EFAULT;
	for (int i = 0; i < t.rx_traces; i++)
		if (t.rx_trace_pos[i] >= RDS_MSG_RX_DGRAM_TRACE_MAX)
			return -EFAULT;
	s->rx_traces = t.rx_traces;
	memcpy(s->rx_trace_pos, t.rx_trace_pos, sizeof(s->rx_trace_pos));
	return 0;
}

/* §9: the RDMA memory-region options check their length, then the binding; TCP has no MRs. */
static int mr_option(struct sock *s, socklen_t len, size_t size, int on_tcp)
{
	if (len != size)
		return -EINVAL;
	return s->bound ? on_tcp : -ENOTCONN;
}

static int set_rds_level(struct sock *s, int name, const void *val, socklen_t len)
{
	int v, err;

	switch (name) {
	case SO_RDS_TRANSPORT:
		return set_transport(s, val, len);
	case RDS_CANCEL_SENT_TO:
		return cancel_sent_to(s, val, len);
	case RDS_RECVERR:
		if ((err = get_int(val, len, &v)))
			return err;
		s->recverr = !!v;
		return 0;
	case RDS_CONG_MONITOR:
		if ((err = get_int(val, len, &v)))
			return err;
		s->cong_monitor = !!v;
		if (!v)
			s->cong_mask = s->cong_notify = 0;
		sock_update_readiness(s);
		return 0;
	case SO_RDS_MSG_RXPATH_LATENCY:
		return set_rx_trace(s, val, len);
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMP_NEW:
		if (len != sizeof(int))
			return -EFAULT;
		memcpy(&v, val, sizeof(v));
		s->timestamp = v ? name : 0;
		return 0;
	case RDS_GET_MR:
		return mr_option(s, len, sizeof(struct rds_get_mr_args), -EOPNOTSUPP);
	case RDS_GET_MR_FOR_DEST:
		return mr_option(s, len, sizeof(struct rds_get_mr_for_dest_args), -EOPNOTSUPP);
	case RDS_FREE_MR:
		return mr_option(s, len, sizeof(struct rds_free_mr_args),
				 -EINVAL); /* no such key */
	default:
		return -ENOPROTOOPT;
	}
}

int api_getsockopt(struct api_sock *as, int level, int name, void *val, socklen_t *len)
{
	struct sock *s;
	int err;

	if (!len || (!val && *len))
		return -EFAULT;
	err = api_enter(as, &s);

	if (err)
		return err;
	if (level == SOL_SOCKET)
		err = get_socket_level(s, name, val, len);
	else if (level == SOL_RDS)
		err = get_rds_level(s, name, val, len);
	else
		err = -ENOPROTOOPT;
	api_leave(s);
	return err;
}

int api_setsockopt(struct api_sock *as, int level, int name, const void *val, socklen_t len)
{
	struct sock *s;
	int err;

	if (!val && len)
		return -EFAULT;
	err = api_enter(as, &s);

	if (err)
		return err;
	if (level == SOL_SOCKET)
		err = set_socket_level(s, name, val, len);
	else if (level == SOL_RDS)
		err = set_rds_level(s, name, val, len);
	else
		err = -ENOPROTOOPT;
	api_leave(s);
	return err;
}

/* §13: the argument is read first; TCP maps every TOS to 0, which cannot change once sent. */
static int set_tos(struct sock *s, const void *arg)
{
	if (!arg)
		return -EFAULT;
	if (!s->bound && !s->transport_set)
		return -ENOTTY;
	return s->has_sent ? -EINVAL : 0;
}

int api_ioctl(struct api_sock *as, unsigned long request, void *arg)
{
	struct sock *s;
	int err = api_enter(as, &s);

	if (err)
		return err;
	if (request == SIOCRDSGETTOS)
		err = arg ? (*(uint8_t *)arg = 0, 0) : -EFAULT;
	else if (request == SIOCRDSSETTOS)
		err = set_tos(s, arg);
	else
		err = -ENOTTY;
	api_leave(s);
	return err;
}
