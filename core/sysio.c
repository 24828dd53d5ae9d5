// SPDX-License-Identifier: MIT
/* Direct system calls, bypassing the interposed libc entry points of this library. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
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
