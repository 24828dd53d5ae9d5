// SPDX-License-Identifier: MIT
/*
 * The interposed libc functions. Each passes a fd that is not an RDS socket straight to libc;
 * for an RDS socket it translates its arguments into one call of include/mprds/api.h and turns
 * the -errno result into errno, doing on the way what the kernel's syscall layer (net/socket.c,
 * fs/read_write.c) does before a protocol sees a call: msghdr fields are checked and clamped,
 * addresses are copied out truncated with their full length. The application's fd is a real
 * socket (api.h), so whatever only the fd needs - O_NONBLOCK and FD_CLOEXEC, SO_RCVTIMEO and
 * SO_SNDTIMEO, poll - is done by libc on that fd, where the core reads it back.
 */
#undef _FORTIFY_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "passfd.h"
#include "remote.h"
#include "replay.h"
#include "shim.h"

#ifndef AF_RDS
#define AF_RDS 21
#endif
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#include "exports.h"

void __chk_fail(void) __attribute__((noreturn));

/* What copy_msghdr_from_user() makes of a msghdr: no name, no length; at most 128 bytes. */
static int msg_in(struct msghdr *m, const struct msghdr *msg)
{
	if (!msg)
		return -EFAULT; /* copy_msghdr_from_user() */
	*m = *msg;
	if (!m->msg_name)
		m->msg_namelen = 0;
	if ((int)m->msg_namelen < 0)
		return -EINVAL;
	if (m->msg_namelen > sizeof(struct sockaddr_storage))
		m->msg_namelen = sizeof(struct sockaddr_storage);
	if (m->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	return 0;
}

static ssize_t do_sendmsg(struct shim_sock *p, int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m;
	int ret = msg_in(&m, msg);

	return ret < 0 ? ret : p->ops->sendmsg(p, fd, &m, flags);
}

static ssize_t do_send(struct shim_sock *p, int fd, const void *buf, size_t len, int flags,
		       const struct sockaddr *addr, socklen_t alen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	/* sendto() takes a name only if it has a pointer (__sys_sendto) */
	if (addr) {
		if (alen > sizeof(struct sockaddr_storage))
			return -EINVAL;
		m.msg_name = (void *)addr;
		m.msg_namelen = alen;
	}
	return p->ops->sendmsg(p, fd, &m, flags);
}

/*
 * The core writes the source address into a sockaddr_storage and sets msg_namelen to its
 * length (0 if none); the caller gets as much as fits and the full length, as from
 * move_addr_to_user(). msg_flags and msg_controllen come back as the core left them.
 */
static ssize_t do_recvmsg(struct shim_sock *p, int fd, struct msghdr *msg, int flags)
{
	struct sockaddr_storage ss;
	struct msghdr m;
	ssize_t ret = msg_in(&m, msg);

	if (ret < 0)
		return ret;
	if (m.msg_name) {
		m.msg_name = &ss;
		m.msg_namelen = sizeof(ss);
	}
	ret = p->ops->recvmsg(p, fd, &m, flags);
	if (ret < 0)
		return ret;
	if (msg->msg_name) {
		if (m.msg_namelen > sizeof(ss))
			m.msg_namelen = sizeof(ss);
		memcpy(msg->msg_name, &ss,
		       m.msg_namelen < msg->msg_namelen ? m.msg_namelen : msg->msg_namelen);
		msg->msg_namelen = m.msg_namelen;
	}
	msg->msg_flags = m.msg_flags;
	msg->msg_controllen = m.msg_controllen;
	return ret;
}

static ssize_t do_recvfrom(struct shim_sock *p, int fd, void *buf, size_t len, int flags,
			   struct sockaddr *addr, socklen_t *alen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t ret;

	if (addr) {
		if (!alen)
			return -EFAULT;
		m.msg_name = addr;
		m.msg_namelen = *alen;
	}
	ret = do_recvmsg(p, fd, &m, flags);
	if (ret >= 0 && addr)
		*alen = m.msg_namelen;
	return ret;
}

static ssize_t iov_check(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	int i;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

/* read(2) and readv(2): flags 0, and reading nothing returns 0 at once (sock_read_iter). */
static ssize_t do_readv(struct shim_sock *p, int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t ret = iov_check(iov, iovcnt);

	return ret <= 0 ? ret : do_recvmsg(p, fd, &m, 0);
}

/*
 * writev(2) of nothing returns 0 at once (do_iter_write). Otherwise sock_write_iter() adds
 * MSG_EOR on a SOCK_SEQPACKET socket, which rds_sendmsg() refuses: write and writev on an
 * RDS socket fail with EOPNOTSUPP in the kernel, and here.
 */
static ssize_t do_writev(struct shim_sock *p, int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t ret = iov_check(iov, iovcnt);

	return ret <= 0 ? ret : p->ops->sendmsg(p, fd, &m, MSG_EOR);
}

/* Kept on the application's fd, where the core reads them back (socket-api.md §10). */
static bool fd_sockopt(int level, int name)
{
	return level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD ||
				       name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW);
}

/* Requests the kernel serves before or after the protocol has its say (socket-api.md §13). */
static bool fd_ioctl(unsigned long request)
{
	switch (request) {
	case FIONBIO:
	case FIOASYNC:
	case FIOCLEX:
	case FIONCLEX:
	case FIOSETOWN:
	case SIOCSPGRP:
	case FIOGETOWN:
	case SIOCGPGRP:
		return true;
	}
	/* network device requests reach dev_ioctl() whatever the socket's family */
	return (request >= SIOCGIFNAME && request < SIOCPROTOPRIVATE) ||
	       (request >= SIOCDEVPRIVATE && request <= SIOCDEVPRIVATE + 15);
}

/*
 * After the real dup/dup2/dup3/fcntl(F_DUPFD) made newfd from fd: newfd names what fd names
 * (p, held by the caller and dropped here, or nothing), and what newfd named before is dropped.
 */
static int dup_done(struct shim_sock *p, int fd, int newfd)
{
	int saved_errno = errno, ret = 0;

	if (newfd >= 0 && newfd != fd)
		ret = shim_attach(newfd, p);
	if (p)
		shim_put(p);
	if (ret < 0) {
		REAL(close)(newfd);
		errno = -ret;
		return -1;
	}
	errno = saved_errno;
	return newfd;
}

static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	struct shim_sock *p;

	if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !(p = shim_get(fd)))
		return real(fd, cmd, arg);
	return dup_done(p, fd, real(fd, cmd, arg));
}

static int fail(int ret)
{
	errno = -ret;
	return -1;
}

/* An RDS socket of the in-process engine: the application's fd, or -errno. */
static int local_socket(int type, int protocol)
{
	struct api_sock *s;
	struct engine *e;
	int fd, ret = shim_engine(&e);

	if (ret < 0)
		return ret;
	fd = api_socket(e, type, protocol, &s);
	if (fd < 0)
		return fd;
	return shim_sock_new(s, fd, type & SOCK_CLOEXEC);
}

/* An RDS socket of mprdsd: the application's fd, or -errno. */
static int daemon_socket(int type, int protocol)
{
	uint32_t id, epoch;
	int fd = remote_socket(type, protocol, &id, &epoch);

	return fd < 0 ? fd : shim_sock_new_remote(id, epoch, fd);
}

int socket(int domain, int type, int protocol)
{
	int saved_errno = errno, fd, ret;

	if (domain != AF_RDS) {
		fd = REAL(socket)(domain, type, protocol);
		shim_detach(fd);
		return fd;
	}
	ret = shim_start();
	if (ret < 0)
		return fail(ret);
	ret = api_socket_check(type, protocol);
	if (ret < 0)
		return fail(ret);
	fd = shim_use_daemon() ? daemon_socket(type, protocol) : local_socket(type, protocol);
	if (fd < 0)
		return fail(fd);
	errno = saved_errno;
	return fd;
}

int socketpair(int domain, int type, int protocol, int sv[2])
{
	int ret;

	if (domain == AF_RDS)
		return fail(api_unsupported());
	ret = REAL(socketpair)(domain, type, protocol, sv);
	if (!ret) {
		shim_detach(sv[0]);
		shim_detach(sv[1]);
	}
	return ret;
}

int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(bind)(fd, addr, len);
	return SHIM_RUN(p, p->ops->bind(p, SHIM_SA(addr), len));
}

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(connect)(fd, addr, len);
	return SHIM_RUN(p, p->ops->connect(p, SHIM_SA(addr), len));
}

int listen(int fd, int backlog)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(listen)(fd, backlog);
	return SHIM_RUN(p, api_unsupported());
}

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	struct shim_sock *p = shim_get(fd);
	int ret;

	if (p)
		return SHIM_RUN(p, api_unsupported());
	ret = REAL(accept)(fd, addr, len);
	shim_detach(ret);
	return ret;
}

int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
	struct shim_sock *p = shim_get(fd);
	int ret;

	if (p)
		return SHIM_RUN(p, api_unsupported());
	ret = REAL(accept4)(fd, addr, len, flags);
	shim_detach(ret);
	return ret;
}

int shutdown(int fd, int how)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(shutdown)(fd, how);
	return SHIM_RUN(p, api_unsupported());
}

int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(getsockname)(fd, addr, len);
	return SHIM_RUN(p, p->ops->getsockname(p, SHIM_SA(addr), len));
}

int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(getpeername)(fd, addr, len);
	return SHIM_RUN(p, p->ops->getpeername(p, SHIM_SA(addr), len));
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct shim_sock *p;

	if (fd_sockopt(level, name) || !(p = shim_get(fd)))
		return REAL(getsockopt)(fd, level, name, val, len);
	return SHIM_RUN(p, p->ops->getsockopt(p, level, name, val, len));
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct shim_sock *p;

	if (fd_sockopt(level, name) || !(p = shim_get(fd)))
		return REAL(setsockopt)(fd, level, name, val, len);
	return SHIM_RUN(p, p->ops->setsockopt(p, level, name, val, len));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct shim_sock *p = shim_get(fd);

	if (!p) {
		if (msg && msg->msg_controllen)
			passfd_before_send(msg);
		return REAL(sendmsg)(fd, msg, flags);
	}
	return SHIM_RUN(p, do_sendmsg(p, fd, msg, flags));
}

/* As __sys_sendmmsg(): at most IOV_MAX messages; the count sent if any, else the error. */
int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	struct shim_sock *p = shim_get(fd);
	int saved_errno = errno;
	unsigned int i;
	ssize_t ret = 0;

	if (!p)
		return REAL(sendmmsg)(fd, vec, vlen, flags);
	if (vlen > IOV_MAX)
		vlen = IOV_MAX;
	for (i = 0; i < vlen; i++) {
		ret = do_sendmsg(p, fd, &vec[i].msg_hdr, flags);
		if (ret < 0)
			break;
		vec[i].msg_len = (unsigned int)ret;
	}
	return shim_end(p, saved_errno, i ? (long)i : ret);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG addr,
	       socklen_t alen)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(sendto)(fd, buf, len, flags, addr, alen);
	return SHIM_RUN(p, do_send(p, fd, buf, len, flags, SHIM_SA(addr), alen));
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(send)(fd, buf, len, flags);
	return SHIM_RUN(p, do_send(p, fd, buf, len, flags, NULL, 0));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(write)(fd, buf, len);
	return SHIM_RUN(p, do_send(p, fd, buf, len, MSG_EOR, NULL, 0)); /* see do_writev() */
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(writev)(fd, iov, iovcnt);
	return SHIM_RUN(p, do_writev(p, fd, iov, iovcnt));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct shim_sock *p = shim_get(fd);
	ssize_t ret;

	if (!p) {
		ret = REAL(recvmsg)(fd, msg, flags);
		if (ret >= 0 && msg->msg_controllen) {
			int saved_errno = errno;

			passfd_after_recv(msg);
			errno = saved_errno;
		}
		return ret;
	}
	return SHIM_RUN(p, do_recvmsg(p, fd, msg, flags));
}

static long ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000L + ts->tv_nsec;
}

/*
 * As do_recvmmsg(): at most IOV_MAX messages; MSG_WAITFORONE makes all but the first
 * non-blocking; the timeout is only looked at between messages, and what is left of it is
 * written back; the count received if any, else the error.
 */
int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *tmo)
{
	struct shim_sock *p = shim_get(fd);
	int saved_errno = errno, f = flags & ~MSG_WAITFORONE;
	struct timespec now;
	long end = 0, left;
	unsigned int i;
	ssize_t ret = 0;

	if (!p)
		return REAL(recvmmsg)(fd, vec, vlen, flags, tmo);
	if (tmo) {
		if (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= 1000000000L)
			return shim_end(p, saved_errno, -EINVAL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		end = ts_ns(&now) + ts_ns(tmo);
	}
	if (vlen > IOV_MAX)
		vlen = IOV_MAX;
	for (i = 0; i < vlen; i++) {
		ret = do_recvmsg(p, fd, &vec[i].msg_hdr, f);
		if (ret < 0)
			break;
		vec[i].msg_len = (unsigned int)ret;
		if (flags & MSG_WAITFORONE)
			f |= MSG_DONTWAIT;
		if (tmo) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = end - ts_ns(&now);
			if (left < 0)
				left = 0;
			tmo->tv_sec = left / 1000000000L;
			tmo->tv_nsec = left % 1000000000L;
			if (!left) {
				i++;
				break;
			}
		}
	}
	return shim_end(p, saved_errno, i ? (long)i : ret);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, __SOCKADDR_ARG addr, socklen_t *alen)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	return SHIM_RUN(p, do_recvfrom(p, fd, buf, len, flags, SHIM_SA(addr), alen));
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(recv)(fd, buf, len, flags);
	return SHIM_RUN(p, do_recvfrom(p, fd, buf, len, flags, NULL, NULL));
}

ssize_t read(int fd, void *buf, size_t len)
{
	struct shim_sock *p = shim_get(fd);
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (!p)
		return REAL(read)(fd, buf, len);
	return SHIM_RUN(p, do_readv(p, fd, &iov, 1));
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(readv)(fd, iov, iovcnt);
	return SHIM_RUN(p, do_readv(p, fd, iov, iovcnt));
}

/* The _FORTIFY_SOURCE entry points: glibc's buffer check, then the plain call. */
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(__recv_chk)(fd, buf, len, buflen, flags);
	if (len > buflen)
		__chk_fail();
	return SHIM_RUN(p, do_recvfrom(p, fd, buf, len, flags, NULL, NULL));
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, __SOCKADDR_ARG addr,
		       socklen_t *alen)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, addr, alen);
	if (len > buflen)
		__chk_fail();
	return SHIM_RUN(p, do_recvfrom(p, fd, buf, len, flags, SHIM_SA(addr), alen));
}

ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct shim_sock *p = shim_get(fd);
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (!p)
		return REAL(__read_chk)(fd, buf, len, buflen);
	if (len > buflen)
		__chk_fail();
	return SHIM_RUN(p, do_readv(p, fd, &iov, 1));
}

/* The last fd of an RDS socket: api_release() (unless a call is still in progress), then close. */
int close(int fd)
{
	bool rds = shim_peek(fd);

	if (!rds && !api_owns_fd(fd))
		return REAL(close)(fd);
	/*
	 * The engine's own fds are not the application's to close: to it they are not open. Not in
	 * a vfork child either, which shares our memory: the channel to mprdsd must be there when
	 * it execs (exec.c), and closes with the exec (CLOEXEC).
	 */
	if (!rds)
		return fail(-EBADF);
	if (shim_in_vfork_child())
		return REAL(close)(fd); /* the table is the parent's */
	shim_detach(fd);
	return REAL(close)(fd);
}

/* close_range over first..last, stepping around the engine's own fds. */
static int close_range_around_engine(unsigned int first, unsigned int last, int flags)
{
	unsigned int lo = first;

	while (lo <= last) {
		int e = lo > INT_MAX ? -1 : api_next_owned_fd((int)lo);

		if (e < 0 || (unsigned int)e > last)
			return REAL(close_range)(lo, last, flags);
		if ((unsigned int)e > lo && REAL(close_range)(lo, (unsigned int)e - 1, flags) < 0)
			return -1;
		lo = (unsigned int)e + 1;
	}
	return 0;
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!REAL(close_range))
		return fail(-ENOSYS);
	if (first > last || (flags & ~(int)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)))
		return REAL(close_range)(first, last, flags);
	/* in a vfork child the table is the parent's: only the engine's fds are stepped around */
	if (!(flags & CLOSE_RANGE_CLOEXEC) && !shim_in_vfork_child())
		shim_detach_range(first, last);
	return close_range_around_engine(first, last, flags);
}

void closefrom(int lowfd)
{
	if (lowfd < 0)
		return;
	if (!shim_in_vfork_child())
		shim_detach_range((unsigned int)lowfd, ~0U);
	if (REAL(close_range))
		close_range_around_engine((unsigned int)lowfd, ~0U, 0);
	else
		for (int fd = lowfd; fd < 65536; fd++) /* no close_range: the slow way */
			if (!api_owns_fd(fd))
				REAL(close)(fd);
}

int dup(int fd)
{
	struct shim_sock *p = shim_get(fd);

	if (!p)
		return REAL(dup)(fd);
	return dup_done(p, fd, REAL(dup)(fd));
}

/* dup2/dup3 onto one of the engine's own fds would close it: answer as for a busy fd. */
static bool lands_on_engine_fd(int fd, int fd2)
{
	return fd != fd2 && !shim_peek(fd2) && api_owns_fd(fd2) && !shim_in_vfork_child();
}

int dup2(int fd, int fd2)
{
	struct shim_sock *p;

	if (lands_on_engine_fd(fd, fd2))
		return fail(-EBUSY);
	p = shim_get(fd);

	if (!p && !shim_peek(fd2))
		return REAL(dup2)(fd, fd2);
	return dup_done(p, fd, REAL(dup2)(fd, fd2));
}

int dup3(int fd, int fd2, int flags)
{
	struct shim_sock *p;

	if (lands_on_engine_fd(fd, fd2))
		return fail(-EBUSY);
	p = shim_get(fd);

	if (!p && !shim_peek(fd2))
		return REAL(dup3)(fd, fd2, flags);
	return dup_done(p, fd, REAL(dup3)(fd, fd2, flags));
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(REAL(fcntl64) ? REAL(fcntl64) : REAL(fcntl), fd, cmd, arg);
}

/* The sets an RDS fd of mprdsd is in: the fd's file is replaced if the daemon dies (replay.c). */
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct shim_sock *p = shim_get(fd);
	int ret = REAL(epoll_ctl)(epfd, op, fd, ev), saved_errno = errno;

	if (!p)
		return ret;
	if (!ret && p->ops == &shim_remote_ops)
		replay_note_epoll(p, epfd, op, fd, ev);
	shim_put(p);
	errno = saved_errno;
	return ret;
}

int ioctl(int fd, unsigned long request, ...)
{
	struct shim_sock *p;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd_ioctl(request) || !(p = shim_get(fd)))
		return REAL(ioctl)(fd, request, arg);
	return SHIM_RUN(p, p->ops->ioctl(p, request, arg));
}
