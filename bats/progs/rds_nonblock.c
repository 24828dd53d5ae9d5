/* SPDX-License-Identifier: MIT */
/*
 * rds_nonblock ADDR PORT [check...]
 *
 * Single-process checks of an RDS socket's non-blocking behaviour and of ordinary sockets
 * living beside it. Checks (default: all), each using its own RDS port PORT+k:
 *
 *   sock_nonblock  socket(SOCK_NONBLOCK): F_GETFL has O_NONBLOCK; recv, recvfrom, recvmsg
 *                  and read on the empty socket fail with EAGAIN
 *   dontwait       blocking socket: recv(MSG_DONTWAIT) and recvmsg(MSG_DONTWAIT) give EAGAIN
 *   fcntl          fcntl(O_NONBLOCK) on: recv gives EAGAIN; off again: F_GETFL shows it off
 *                  and a blocking recv with SO_RCVTIMEO waits and fails (ETIMEDOUT)
 *   poll           poll on an empty bound socket: no POLLIN in 200 ms, POLLOUT at once
 *   udp            UDP sockets on ADDR work (sendto/recvfrom, connect+write/read, MSG_DONTWAIT
 *                  EAGAIN, SO_TYPE) with an RDS socket open; after the RDS fd is closed its
 *                  number can be reused by a UDP socket that works
 *   tcp            TCP listen/connect/accept, write/read, send/recv with MSG_NOSIGNAL,
 *                  sendmsg/recvmsg, shutdown(SHUT_WR) -> EOF, O_NONBLOCK EAGAIN, with an RDS
 *                  socket open whose binding stays intact
 *   self           two RDS sockets of this process: a message from one reaches the other
 *
 * Output: "ok CHECK" per check, "all N checks ok". Exits 1 at the first failure.
 */
#include "rds_common.h"

#include <fcntl.h>
#include <netinet/tcp.h>

static const char *addr;
static long base_port;

#define CHECK(cond, ...)                  \
	do {                              \
		if (!(cond))              \
			die(__VA_ARGS__); \
	} while (0)

/* Expects call result r == -1 with errno == want. */
static void expect_errno(long r, int want, const char *what)
{
	int e = errno;

	if (r != -1)
		die("%s returned %ld, want -1 %s", what, r, strerror(want));
	if (e != want && !(want == EAGAIN && e == EWOULDBLOCK))
		die("%s failed with %s, want %s", what, strerror(e), strerror(want));
}

static int bound_rds(int flags, long port_off)
{
	int fd = rds_socket(flags);

	rds_bind(fd, addr, base_port + port_off);
	return fd;
}

static void check_sock_nonblock(void)
{
	int fd = bound_rds(SOCK_NONBLOCK, 0);
	int fl = fcntl(fd, F_GETFL);
	char buf[64];
	rds_sa from;
	socklen_t fromlen = sizeof(from);
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	CHECK(fl >= 0 && (fl & O_NONBLOCK), "F_GETFL after SOCK_NONBLOCK: 0x%x", fl);
	expect_errno(recv(fd, buf, sizeof(buf), 0), EAGAIN, "recv on empty SOCK_NONBLOCK socket");
	expect_errno(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen), EAGAIN,
		     "recvfrom on empty SOCK_NONBLOCK socket");
	expect_errno(recvmsg(fd, &msg, 0), EAGAIN, "recvmsg on empty SOCK_NONBLOCK socket");
	expect_errno(read(fd, buf, sizeof(buf)), EAGAIN, "read on empty SOCK_NONBLOCK socket");
	close(fd);
}

static void check_dontwait(void)
{
	int fd = bound_rds(0, 1);
	int fl = fcntl(fd, F_GETFL);
	char buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	CHECK(fl >= 0 && !(fl & O_NONBLOCK), "F_GETFL of a blocking socket: 0x%x", fl);
	set_timeouts(fd, 5); /* if MSG_DONTWAIT is ignored, fail in 5 s rather than hang */
	expect_errno(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN,
		     "recv(MSG_DONTWAIT) on empty blocking socket");
	expect_errno(recvmsg(fd, &msg, MSG_DONTWAIT), EAGAIN,
		     "recvmsg(MSG_DONTWAIT) on empty blocking socket");
	close(fd);
}

static void check_fcntl(void)
{
	int fd = bound_rds(0, 2);
	int fl = fcntl(fd, F_GETFL);
	char buf[64];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };

	CHECK(fl >= 0, "F_GETFL: %s", strerror(errno));
	set_timeouts(fd, 5);
	CHECK(fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0, "F_SETFL O_NONBLOCK: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	CHECK(fl >= 0 && (fl & O_NONBLOCK), "F_GETFL after setting O_NONBLOCK: 0x%x", fl);
	expect_errno(recv(fd, buf, sizeof(buf), 0), EAGAIN, "recv after fcntl(O_NONBLOCK)");
	CHECK(fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0, "F_SETFL ~O_NONBLOCK: %s",
	      strerror(errno));
	fl = fcntl(fd, F_GETFL);
	CHECK(fl >= 0 && !(fl & O_NONBLOCK), "F_GETFL after clearing O_NONBLOCK: 0x%x", fl);
	/* Blocking again: the receive waits for SO_RCVTIMEO, then ETIMEDOUT (socket-api.md §6). */
	CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO: %s",
	      strerror(errno));
	expect_errno(recv(fd, buf, sizeof(buf), 0), ETIMEDOUT,
		     "blocking recv with SO_RCVTIMEO 300 ms on an empty socket");
	close(fd);
}

static void check_poll(void)
{
	int fd = bound_rds(0, 3);
	struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
	int n = poll(&p, 1, 200);

	CHECK(n == 0, "poll(POLLIN) on an empty socket returned %d revents 0x%x", n, p.revents);
	p.events = POLLOUT;
	p.revents = 0;
	n = poll(&p, 1, 2000);
	CHECK(n == 1 && (p.revents & POLLOUT), "poll(POLLOUT) on an idle socket: %d revents 0x%x",
	      n, p.revents);
	close(fd);
}

static int sockopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		die("getsockopt(%d, %d): %s", level, name, strerror(errno));
	return v;
}

static int udp_bound(struct sockaddr_in *out)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	rds_sa sin = make_addr(addr, 0);
	socklen_t len = sizeof(*out);

	CHECK(fd >= 0, "socket(AF_INET, SOCK_DGRAM): %s", strerror(errno));
	CHECK(bind(fd, &sin.sa, sa_len(&sin)) == 0, "bind UDP: %s", strerror(errno));
	CHECK(getsockname(fd, (struct sockaddr *)out, &len) == 0, "getsockname UDP: %s",
	      strerror(errno));
	return fd;
}

/* Receives one UDP/TCP payload equal to `want` on fd within 5 s. */
static void expect_data(int fd, const char *want, const char *what)
{
	char buf[256];
	ssize_t n;

	CHECK(wait_fd(fd, POLLIN, 5000) & POLLIN, "%s: nothing to read within 5 s", what);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	CHECK(n >= 0, "%s: recv: %s", what, strerror(errno));
	buf[n] = 0;
	CHECK(strcmp(buf, want) == 0, "%s: got '%s', want '%s'", what, buf, want);
}

static void rds_still_bound(int rfd, long port_off)
{
	rds_sa sin, want = make_addr(addr, base_port + port_off);
	socklen_t len = sizeof(sin);
	char buf[8];

	CHECK(getsockname(rfd, &sin.sa, &len) == 0, "getsockname RDS: %s", strerror(errno));
	CHECK(len == sa_len(&want) && same_addr(&sin, &want), "RDS getsockname: %s, want %s",
	      addr_str(&sin), addr_str(&want));
	CHECK(sockopt_int(rfd, SOL_SOCKET, SO_DOMAIN) == AF_RDS, "RDS SO_DOMAIN != AF_RDS");
	CHECK(sockopt_int(rfd, SOL_SOCKET, SO_TYPE) == SOCK_SEQPACKET, "RDS SO_TYPE");
	expect_errno(recv(rfd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "RDS recv(MSG_DONTWAIT)");
}

static void check_udp(void)
{
	int rfd = bound_rds(0, 4);
	struct sockaddr_in a1, a2, a3;
	int u1 = udp_bound(&a1), u2 = udp_bound(&a2), u3;
	char buf[16];
	int old;

	printf("fds: rds=%d udp=%d,%d\n", rfd, u1, u2);
	CHECK(sockopt_int(u1, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM, "UDP SO_TYPE");
	CHECK(sockopt_int(u1, SOL_SOCKET, SO_DOMAIN) == AF_INET, "UDP SO_DOMAIN");
	expect_errno(recv(u2, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "UDP recv(MSG_DONTWAIT)");

	CHECK(sendto(u1, "udp one", 7, 0, (struct sockaddr *)&a2, sizeof(a2)) == 7,
	      "UDP sendto: %s", strerror(errno));
	expect_data(u2, "udp one", "UDP sendto -> recv");
	CHECK(connect(u2, (struct sockaddr *)&a1, sizeof(a1)) == 0, "UDP connect: %s",
	      strerror(errno));
	CHECK(write(u2, "udp two", 7) == 7, "UDP write: %s", strerror(errno));
	expect_data(u1, "udp two", "UDP write -> recv");
	rds_still_bound(rfd, 4);

	/* The RDS fd's number, once closed, belongs to whatever comes next. */
	old = rfd;
	close(rfd);
	u3 = udp_bound(&a3);
	printf("closed rds fd %d, new udp fd %d\n", old, u3);
	CHECK(sockopt_int(u3, SOL_SOCKET, SO_DOMAIN) == AF_INET, "reused fd: SO_DOMAIN");
	CHECK(sendto(u3, "udp three", 9, 0, (struct sockaddr *)&a2, sizeof(a2)) == 9,
	      "UDP sendto on reused fd %d: %s", u3, strerror(errno));
	/* u2 is connected to a1, so it filters u3's datagram: check on u1 instead. */
	CHECK(sendto(u3, "udp four", 8, 0, (struct sockaddr *)&a1, sizeof(a1)) == 8,
	      "UDP sendto on reused fd %d: %s", u3, strerror(errno));
	expect_data(u1, "udp four", "UDP from reused fd");
	CHECK(sendto(u1, "udp five", 8, 0, (struct sockaddr *)&a3, sizeof(a3)) == 8,
	      "UDP sendto to reused fd: %s", strerror(errno));
	expect_data(u3, "udp five", "UDP to reused fd");
	close(u1);
	close(u2);
	close(u3);
}

static void check_tcp(void)
{
	int rfd = bound_rds(0, 5);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, a, one = 1, fl;
	rds_sa sin = make_addr(addr, 0);
	socklen_t len = sizeof(sin);
	char buf[64];
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	CHECK(l >= 0, "socket(TCP): %s", strerror(errno));
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0, "SO_REUSEADDR: %s",
	      strerror(errno));
	CHECK(bind(l, &sin.sa, sa_len(&sin)) == 0, "bind TCP: %s", strerror(errno));
	CHECK(listen(l, 4) == 0, "listen: %s", strerror(errno));
	CHECK(getsockname(l, &sin.sa, &len) == 0, "getsockname TCP: %s", strerror(errno));
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0, "socket(TCP): %s", strerror(errno));
	CHECK(connect(c, &sin.sa, sa_len(&sin)) == 0, "TCP connect %s: %s", addr_str(&sin),
	      strerror(errno));
	CHECK(wait_fd(l, POLLIN, 5000) & POLLIN, "TCP listener: no connection within 5 s");
	a = accept(l, NULL, NULL);
	CHECK(a >= 0, "accept: %s", strerror(errno));
	printf("fds: rds=%d tcp listen=%d client=%d accepted=%d\n", rfd, l, c, a);
	CHECK(sockopt_int(c, SOL_SOCKET, SO_TYPE) == SOCK_STREAM, "TCP SO_TYPE");
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0, "TCP_NODELAY: %s",
	      strerror(errno));

	CHECK(write(c, "tcp hello", 9) == 9, "TCP write: %s", strerror(errno));
	expect_data(a, "tcp hello", "TCP write -> recv");
	CHECK(send(a, "tcp back", 8, MSG_NOSIGNAL) == 8, "TCP send(MSG_NOSIGNAL): %s",
	      strerror(errno));
	CHECK(wait_fd(c, POLLIN, 5000) & POLLIN, "TCP: no reply within 5 s");
	n = read(c, buf, sizeof(buf) - 1);
	CHECK(n == 8 && memcmp(buf, "tcp back", 8) == 0, "TCP read: %zd", n);

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)"tcp msg";
	iov.iov_len = 7;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	CHECK(sendmsg(c, &msg, 0) == 7, "TCP sendmsg: %s", strerror(errno));
	CHECK(wait_fd(a, POLLIN, 5000) & POLLIN, "TCP: sendmsg data not readable within 5 s");
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	n = recvmsg(a, &msg, 0);
	CHECK(n == 7 && memcmp(buf, "tcp msg", 7) == 0, "TCP recvmsg: %zd", n);

	fl = fcntl(a, F_GETFL);
	CHECK(fl >= 0 && fcntl(a, F_SETFL, fl | O_NONBLOCK) == 0, "TCP O_NONBLOCK: %s",
	      strerror(errno));
	expect_errno(recv(a, buf, sizeof(buf), 0), EAGAIN, "TCP recv on empty O_NONBLOCK socket");
	CHECK(shutdown(c, SHUT_WR) == 0, "TCP shutdown(SHUT_WR): %s", strerror(errno));
	CHECK(wait_fd(a, POLLIN, 5000) & POLLIN, "TCP: no EOF within 5 s after shutdown");
	n = recv(a, buf, sizeof(buf), 0);
	CHECK(n == 0, "TCP recv after peer shutdown: %zd (%s), want 0 (EOF)", n,
	      n < 0 ? strerror(errno) : "data");
	rds_still_bound(rfd, 5);
	close(a);
	close(c);
	close(l);
	close(rfd);
}

static void check_self(void)
{
	int r1 = bound_rds(0, 6), r2 = bound_rds(SOCK_NONBLOCK, 7);
	rds_sa to = make_addr(addr, base_port + 7), want = make_addr(addr, base_port + 6);
	rds_sa from;
	socklen_t fromlen;
	char buf[64];
	int trunc;
	ssize_t n;

	set_timeouts(r1, 5);
	CHECK(sendto(r1, "to myself", 9, 0, &to.sa, sa_len(&to)) == 9, "RDS sendto %s: %s",
	      addr_str(&to), strerror(errno));
	CHECK(wait_fd(r2, POLLIN, 5000) & POLLIN, "RDS: same-process message not readable in 5 s");
	n = rds_recv_from(r2, buf, sizeof(buf), 0, &from, &fromlen, &trunc);
	CHECK(n == 9 && memcmp(buf, "to myself", 9) == 0 && !trunc, "RDS self recv: %zd (%s)", n,
	      n < 0 ? strerror(errno) : "content");
	CHECK(fromlen == sa_len(&from) && same_addr(&from, &want), "RDS self: source %s, want %s",
	      addr_str(&from), addr_str(&want));
	close(r1);
	close(r2);
}

static const struct {
	const char *name;
	void (*fn)(void);
} checks[] = {
	{ "sock_nonblock", check_sock_nonblock },
	{ "dontwait", check_dontwait },
	{ "fcntl", check_fcntl },
	{ "poll", check_poll },
	{ "udp", check_udp },
	{ "tcp", check_tcp },
	{ "self", check_self },
};

#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

int main(int argc, char **argv)
{
	int ran = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: %s ADDR PORT [check...]\nchecks:", argv[0]);
		for (size_t i = 0; i < NCHECKS; i++)
			fprintf(stderr, " %s", checks[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	addr = argv[1];
	base_port = parse_long(argv[2], "port", 2, 65535 - 8);
	for (int k = 3; k < argc; k++) {
		size_t i;

		for (i = 0; i < NCHECKS; i++)
			if (!strcmp(argv[k], checks[i].name))
				break;
		if (i == NCHECKS)
			die("unknown check '%s'", argv[k]);
	}
	for (size_t i = 0; i < NCHECKS; i++) {
		int wanted = argc == 3;

		for (int k = 3; k < argc; k++)
			if (!strcmp(argv[k], checks[i].name))
				wanted = 1;
		if (!wanted)
			continue;
		checks[i].fn();
		printf("ok %s\n", checks[i].name);
		ran++;
	}
	printf("all %d checks ok\n", ran);
	return 0;
}
