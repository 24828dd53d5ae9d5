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
#include "mprds/engine.h"

#define SOCK_MIN_SNDBUF 4608
#define SOCK_MIN_RCVBUF 2304

static int put_int(int v, void *val, socklen_t *len)
{
	if ((int)*len < 0)
		return -EINVAL;
	if (*len > sizeof(int))
		*len = sizeof(int);
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
		s->sndbuf = buffer_limit(v, engine.cfg.wmem_max, name == SO_SNDBUFFORCE,
					 SOCK_MIN_SNDBUF);
		return 0;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		if ((err = get_int(val, len, &v)))
			return err;
		s->rcvbuf = buffer_limit(v, engine.cfg.rmem_max, name == SO_RCVBUFFORCE,
					 SOCK_MIN_RCVBUF);
		return 0;
	default:
		return forward_set(s, SOL_SOCKET, name, val, len);
	}
}

static int get_rds_level(struct sock *s, int name, void *val, socklen_t *len)
{
	if (name != SO_RDS_TRANSPORT)
		return -ENOPROTOOPT;
	if (*len < sizeof(int))
		return -EINVAL;
	/* §9: a bound socket has a transport; ours is always TCP (see the README). */
	return put_int(s->bound ? RDS_TRANS_TCP : RDS_TRANS_NONE, val, len);
}

static int set_rds_level(struct sock *s, int name, const void *val, socklen_t len)
{
	int v;

	switch (name) {
	case SO_RDS_TRANSPORT:
		if (s->bound)
			return -EOPNOTSUPP;
		if (len != sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		if (v < 0 || v >= RDS_TRANS_COUNT)
			return -EINVAL;
		return v == RDS_TRANS_TCP ? 0 : -ENOPROTOOPT;
	case RDS_RECVERR:
	case RDS_CONG_MONITOR:
		return get_int(val, len, &v);
	default:
		return -ENOPROTOOPT;
	}
}

int api_getsockopt(struct api_sock *as, int level, int name, void *val, socklen_t *len)
{
	struct sock *s;
	int err = api_enter(as, &s);

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
	int err = api_enter(as, &s);

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

int api_ioctl(struct api_sock *as, unsigned long request, void *arg)
{
	struct sock *s;
	int err = api_enter(as, &s);

	if (err)
		return err;
	if (request == SIOCRDSGETTOS)
		err = arg ? (*(uint8_t *)arg = 0, 0) : -EFAULT;
	else if (request == SIOCRDSSETTOS)
		err = !s->bound ? -ENOTTY : arg ? 0 : -EFAULT; /* TCP maps every TOS to 0 */
	else
		err = -ENOTTY;
	api_leave(s);
	return err;
}
