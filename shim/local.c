// SPDX-License-Identifier: MIT
/* RDS sockets served by the in-process engine (MPRDS_ENGINE=process): the api_* calls. */
#include "shim.h"

static void local_release(struct shim_sock *p)
{
	api_release(p->s);
}

static int local_bind(struct shim_sock *p, const struct sockaddr *sa, socklen_t len)
{
	return api_bind(p->s, sa, len);
}

static int local_connect(struct shim_sock *p, const struct sockaddr *sa, socklen_t len)
{
	return api_connect(p->s, sa, len);
}

static ssize_t local_sendmsg(struct shim_sock *p, int fd, const struct msghdr *msg, int flags)
{
	(void)fd; /* the engine waits on the fd it keeps (p->fd) */
	return api_sendmsg(p->s, msg, flags);
}

static ssize_t local_recvmsg(struct shim_sock *p, int fd, struct msghdr *msg, int flags)
{
	(void)fd;
	return api_recvmsg(p->s, msg, flags);
}

static int local_getsockname(struct shim_sock *p, struct sockaddr *sa, socklen_t *len)
{
	return api_getsockname(p->s, sa, len);
}

static int local_getpeername(struct shim_sock *p, struct sockaddr *sa, socklen_t *len)
{
	return api_getpeername(p->s, sa, len);
}

static int local_getsockopt(struct shim_sock *p, int level, int name, void *val, socklen_t *len)
{
	return api_getsockopt(p->s, level, name, val, len);
}

static int local_setsockopt(struct shim_sock *p, int level, int name, const void *val,
			    socklen_t len)
{
	return api_setsockopt(p->s, level, name, val, len);
}

static int local_ioctl(struct shim_sock *p, unsigned long request, void *arg)
{
	return api_ioctl(p->s, request, arg);
}

const struct shim_ops shim_local_ops = {
	.release = local_release,
	.bind = local_bind,
	.connect = local_connect,
	.sendmsg = local_sendmsg,
	.recvmsg = local_recvmsg,
	.getsockname = local_getsockname,
	.getpeername = local_getpeername,
	.getsockopt = local_getsockopt,
	.setsockopt = local_setsockopt,
	.ioctl = local_ioctl,
};
