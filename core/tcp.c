// SPDX-License-Identifier: MIT
/* TCP socket helpers (wire.md §1). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/fdreg.h"
#include "mprds/sysio.h"
#include "mprds/tcp.h"

static void set_int(int fd, int level, int name, int val)
{
	(void)setsockopt(fd, level, name, &val, sizeof(val));
}

int tcp_socket_bound(const struct addr *a, uint16_t port, int flags)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_fill(a, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	fdreg_add(fd);
	if (flags & TCP_BIND_REUSEADDR)
		set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (flags & TCP_BIND_V6ONLY)
		set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		sys_close(fd);
		return err;
	}
	return fd;
}

void tcp_tune(int fd)
{
	set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 5);
	set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 5);
	set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 5);
	/* Orders the peer's congestion maps across paths by their arrival (cong.c). */
	set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
}

int tcp_connect(int fd, const struct addr *a, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_fill(a, port, &ss);

	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 0;
	return -errno;
}

int tcp_connect_from(const struct addr *laddr, uint16_t lport, const struct addr *faddr,
		     uint16_t fport)
{
	int fd = tcp_socket_bound(laddr, lport, TCP_BIND_REUSEADDR);
	int err;

	if (fd < 0)
		return fd;
	err = tcp_connect(fd, faddr, fport);
	if (err && err != -EINPROGRESS) {
		sys_close(fd);
		return err;
	}
	return fd;
}

void tcp_reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	sys_close(fd);
}

int tcp_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}
