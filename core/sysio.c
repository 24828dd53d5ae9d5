// SPDX-License-Identifier: MIT
/* Direct system calls, bypassing the interposed libc entry points of this library. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mprds/fdreg.h"
#include "mprds/sysio.h"

ssize_t sys_read(int fd, void *buf, size_t n)
{
	return syscall(SYS_read, fd, buf, n);
}

ssize_t sys_write(int fd, const void *buf, size_t n)
{
	return syscall(SYS_write, fd, buf, n);
}

ssize_t sys_send_nowait(int fd, const void *buf, size_t n)
{
	return syscall(SYS_sendto, fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
}

ssize_t sys_recv_nowait(int fd, void *buf, size_t n)
{
	return syscall(SYS_recvfrom, fd, buf, n, MSG_DONTWAIT, NULL, NULL);
}

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* A realtime stamp of the recent past on the monotonic clock: now on both, minus its age. */
static uint64_t monotonic_of(uint64_t real_ns)
{
	struct timespec real, mono;
	uint64_t age;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	/* from the future: the clock was set back meanwhile; taken as just now */
	age = real_ns > ns_of(&real) ? 0 : ns_of(&real) - real_ns;
	return age < ns_of(&mono) ? ns_of(&mono) - age : 1;
}

ssize_t sys_read_stamped(int fd, void *buf, size_t n, uint64_t *stamp_ns)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t got = syscall(SYS_recvmsg, fd, &msg, 0);

	*stamp_ns = 0;
	for (struct cmsghdr *c = got > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*stamp_ns = monotonic_of(ns_of(&ts));
		}
	return got;
}

int sys_close(int fd)
{
	fdreg_del(fd);
	return (int)syscall(SYS_close, fd);
}

int sys_timeout_ms(int fd, int optname)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (syscall(SYS_getsockopt, fd, SOL_SOCKET, optname, &tv, &len) < 0)
		return -1;
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		return -1;
	return (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

int sys_is_nonblocking(int fd)
{
	long fl = syscall(SYS_fcntl, fd, F_GETFL, 0);

	return fl >= 0 && (fl & O_NONBLOCK);
}

long sys_tcp_unacked(int fd)
{
	int n = 0;

	if (syscall(SYS_ioctl, fd, SIOCOUTQ, &n) < 0)
		return -1;
	return n;
}
