/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the bats test programs. Everything here is plain kernel RDS API
 * (<linux/rds.h>, <sys/socket.h>): the programs run unchanged on a kernel with the rds and
 * rds_tcp modules, or under the mprds shim.
 */
#ifndef RDS_TEST_COMMON_H
#define RDS_TEST_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rds.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_RDS
#define AF_RDS 21
#endif
#ifndef SOL_RDS
#define SOL_RDS 276
#endif

/* Largest RDS message (RDS_MAX_MSG_SIZE, socket-api.md §5 row 11). */
#define RDS_TEST_MAX_MSG (1024 * 1024)

static inline void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Prints "error: ..." to stdout (where the tests look) and exits 1. */
static inline void die(const char *fmt, ...)
{
	va_list ap;

	printf("error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* Monotonic clock in milliseconds. */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long parse_long(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		die("bad %s '%s' (want %ld..%ld)", what, s, min, max);
	return v;
}

/*
 * An RDS address: IPv4 (sockaddr_in) or IPv6 (sockaddr_in6). make_addr takes "a.b.c.d",
 * or an IPv6 address with an optional scope as "%ifname" or "%index" (link-local), e.g.
 * "fe80::1%eth0" or "::ffff:198.18.1.2" (IPv4-mapped).
 */
typedef union {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
} rds_sa;

static inline socklen_t sa_len(const rds_sa *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

static inline rds_sa make_addr(const char *spec, long port)
{
	char ip[INET6_ADDRSTRLEN + 32];
	char *pct;
	rds_sa a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, spec, &a.in.sin_addr) == 1) {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons((uint16_t)port);
		return a;
	}
	snprintf(ip, sizeof(ip), "%s", spec);
	pct = strchr(ip, '%');
	if (pct) {
		*pct++ = 0;
		a.in6.sin6_scope_id = if_nametoindex(pct);
		if (!a.in6.sin6_scope_id)
			a.in6.sin6_scope_id = (uint32_t)strtoul(pct, NULL, 10);
		if (!a.in6.sin6_scope_id)
			die("bad scope '%s' in '%s'", pct, spec);
	}
	if (inet_pton(AF_INET6, ip, &a.in6.sin6_addr) != 1)
		die("bad address '%s' (IPv4, or IPv6 with an optional %%scope)", spec);
	a.in6.sin6_family = AF_INET6;
	a.in6.sin6_port = htons((uint16_t)port);
	return a;
}

/*
 * "a.b.c.d:port" or "[v6%scope]:port" into a static buffer (one of four, so that a few can
 * appear in one printf).
 */
static inline const char *addr_str(const rds_sa *a)
{
	static char bufs[4][INET6_ADDRSTRLEN + 24];
	static int which;
	char ip[INET6_ADDRSTRLEN];
	char *b = bufs[which++ & 3];

	if (a->sa.sa_family == AF_INET6) {
		if (!inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip)))
			strcpy(ip, "?");
		if (a->in6.sin6_scope_id)
			snprintf(b, sizeof(bufs[0]), "[%s%%%u]:%u", ip, a->in6.sin6_scope_id,
				 ntohs(a->in6.sin6_port));
		else
			snprintf(b, sizeof(bufs[0]), "[%s]:%u", ip, ntohs(a->in6.sin6_port));
		return b;
	}
	if (!inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip)))
		strcpy(ip, "?");
	snprintf(b, sizeof(bufs[0]), "%s:%u", ip, ntohs(a->in.sin_port));
	return b;
}

/*
 * Same family, address, port and (IPv6) scope. A peer given as IPv4-mapped IPv6 matches
 * the IPv4 source a socket bound to IPv4 reports (the kernel's recvmsg does so).
 */
static inline int same_addr(const rds_sa *a, const rds_sa *b)
{
	if (a->sa.sa_family == AF_INET && b->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6 && b->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(struct in6_addr)) &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id;
	if (a->sa.sa_family == AF_INET6)
		return same_addr(b, a);
	return b->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&b->in6.sin6_addr) &&
	       a->in.sin_port == b->in6.sin6_port &&
	       !memcmp(&a->in.sin_addr, &b->in6.sin6_addr.s6_addr[12], 4);
}

/* socket(AF_RDS, SOCK_SEQPACKET | extra_flags, 0) or die. */
static inline int rds_socket(int extra_flags)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET | extra_flags, 0);

	if (fd < 0)
		die("socket(AF_RDS, SOCK_SEQPACKET): %s", strerror(errno));
	return fd;
}

static inline void rds_bind(int fd, const char *ip, long port)
{
	rds_sa sin = make_addr(ip, port);

	if (bind(fd, &sin.sa, sa_len(&sin)) < 0)
		die("bind(RDS, %s): %s", addr_str(&sin), strerror(errno));
}

/*
 * Sets SOL_SOCKET option `opt` (SO_SNDBUF or SO_RCVBUF) so that the RDS limit is at least
 * `want` bytes: the limit is the requested value, getsockopt reports it doubled
 * (socket-api.md §10). Where net.core.[wr]mem_max is smaller (212992 on a stock kernel),
 * `force_opt` (SO_SNDBUFFORCE / SO_RCVBUFFORCE, root) goes past it.
 */
static inline void set_buf(int fd, int opt, int force_opt, const char *name, int want)
{
	int v = want, got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0)
		die("setsockopt(%s, %d): %s", name, v, strerror(errno));
	if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) < 0)
		die("getsockopt(%s): %s", name, strerror(errno));
	if (got / 2 >= want)
		return;
	v = want;
	if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, opt, &got, &len) < 0 || got / 2 < want)
		die("%s stays %d (< 2 * %d), also with the FORCE option", name, got, want);
}

/*
 * Room for messages of up to `want` bytes: a send buffer that takes them (larger messages
 * fail with EMSGSIZE) and a receive buffer that holds one without marking the port
 * congested (unread bytes > rcvbuf, socket-api.md §10).
 */
static inline void rds_set_bufs(int fd, int want)
{
	set_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, "SO_SNDBUF", want);
	set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, "SO_RCVBUF", want);
}

/* Bounds blocking sends and receives on fd (SO_SNDTIMEO / SO_RCVTIMEO). */
static inline void set_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		die("setsockopt(SO_SNDTIMEO): %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("setsockopt(SO_RCVTIMEO): %s", strerror(errno));
}

/* Waits up to timeout_ms for `events` on fd; returns revents (0 on timeout). Dies on error. */
static inline int wait_fd(int fd, short events, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = events, .revents = 0 };

	for (;;) {
		long long left = deadline - now_ms();
		int n;

		if (left < 0)
			left = 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return p.revents;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

/*
 * Receives one message with recvmsg. Returns its length; *from gets the source; *trunc is
 * set when the message did not fit. Returns -1 with errno set on failure.
 */
static inline ssize_t rds_recv_from(int fd, void *buf, size_t cap, int flags, rds_sa *from,
				    socklen_t *fromlen, int *trunc)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	memset(from, 0, sizeof(*from));
	msg.msg_name = from;
	msg.msg_namelen = sizeof(*from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return -1;
	*fromlen = msg.msg_namelen;
	*trunc = !!(msg.msg_flags & MSG_TRUNC);
	return n;
}

/* Deterministic content: byte j of a message of `size` bytes (period 256 in j). */
static inline uint8_t pattern_byte(size_t size, size_t j)
{
	return (uint8_t)(j * 7 + size * 13 + 1);
}

static inline void fill_pattern(uint8_t *buf, size_t size)
{
	for (size_t j = 0; j < size; j++)
		buf[j] = pattern_byte(size, j);
}

/* Returns the first offset where buf differs from the pattern, or size if it matches. */
static inline size_t check_pattern(const uint8_t *buf, size_t size)
{
	for (size_t j = 0; j < size; j++)
		if (buf[j] != pattern_byte(size, j))
			return j;
	return size;
}

#endif
