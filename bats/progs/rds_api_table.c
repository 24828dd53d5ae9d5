/* SPDX-License-Identifier: MIT */
/*
 * rds_api_table ADDR1 ADDR2 [BASE_PORT]
 *
 * Table-driven check of the PF_RDS socket API: one row (or a few) per row of
 * shared/spec/socket-api.md §2-§13. Each row has an id ("5.11": section 5, table row 11; a
 * letter for several checks of one spec row), a description, the call(s) and the expected
 * result or errno: the kernel's (6.x) behaviour, which is the reference (rows where the kernel
 * differs from the spec text say so in a comment "KERNEL:").
 *
 * Plain kernel RDS API: runs unchanged against the kernel (rds + rds_tcp loaded) or under
 * mprds (build/mprds-run). ADDR1 and ADDR2 are two local IPv4 addresses of this host
 * (127.x under mprds; on a kernel prefer two non-127 addresses, so the sockets get the TCP
 * transport as in production, not the loopback transport). Rows needing delivery use two
 * sockets of this process bound to ADDR1 and ADDR2. Rows that need IPv6 use ::1.
 *
 * RDS_API_NETNS2=PATH (e.g. /var/run/netns/b): sockets for ADDR2 are created in that network
 * namespace (the rest in the current one), so that ADDR1 -> ADDR2 traffic crosses a real
 * RDS/TCP connection. Without it, a kernel serves two local addresses of one namespace with
 * its loopback connection, which has no congestion control (the receiver's congestion bit is
 * set in the sender's map) and sends a ping's pong back to the pinged address.
 *
 * Rows needing congestion control or a ping's pong are skipped when ADDR1 -> ADDR2 is a
 * "loopback" connection (see loop_conn()); RDS_API_STRICT=1 runs them anyway (the bats test
 * does, so that mprds, which also lists in-process destinations as "loopback", is held to the
 * kernel's RDS/TCP behaviour).
 *
 * Output: "PASS|FAIL|SKIP <id> <description>: got ..., want ..." per row, then
 * "N passed, M failed, K skipped". Exit status 1 if any row failed.
 * RDS_API_ONLY=PREFIX[,PREFIX...] runs only the rows whose id starts with one of the prefixes.
 * Every wait is bounded; a row that hangs is failed by a per-row watchdog (alarm) and the run
 * goes on; a crash ends it (exit status 3).
 *
 * Against the kernel, in the kvm-rds guest (shared/kvm-rds; netns a = 198.18.0.1, b = .2):
 *   kvm-rds run --no-net --share "$PWD" -- sh -c 'ip -n a link set lo up;
 *     ip -n b link set lo up; RDS_API_NETNS2=/var/run/netns/b ip netns exec a
 *     '"$PWD"'/build/progs/rds_api_table 198.18.0.1 198.18.0.2'
 * Rows marked KERNEL: below are where the kernel (Debian 6.1.0-56 and 6.12.117; 7.3.4 gives
 * the same results) differs from the text of socket-api.md; the table follows the kernel.
 * The interop suite runs it in the guest as its last row (bats/interop/interop.bats).
 */
#include "rds_common.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>

#ifndef SO_TIMESTAMP_OLD
#define SO_TIMESTAMP_OLD 29
#endif
#ifndef SO_TIMESTAMP_NEW
#define SO_TIMESTAMP_NEW 63
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef RDS_CMSG_ZCOPY_COOKIE
#define RDS_CMSG_ZCOPY_COOKIE 12
#endif
#ifndef RDS_CMSG_ZCOPY_COMPLETION
#define RDS_CMSG_ZCOPY_COMPLETION 13
#endif
#ifndef RDS6_INFO_CONNECTIONS
#define RDS6_INFO_CONNECTIONS 10011
#define RDS6_INFO_SEND_MESSAGES 10012
#define RDS6_INFO_RETRANS_MESSAGES 10013
#define RDS6_INFO_RECV_MESSAGES 10014
#define RDS6_INFO_SOCKETS 10015
#define RDS6_INFO_TCP_SOCKETS 10016
#define RDS6_INFO_IB_CONNECTIONS 10017
#endif
#define RDS_TRANS_LOOP 3 /* t_type of the kernel's internal loopback transport */
#define WATCHDOG_S 15 /* per row */
#define WAIT_MS 3000 /* bound for a delivery inside this process */
#define DEAD_ADDR "192.0.2.1" /* TEST-NET-1: not local, nobody answers */

/* ---------------------------------------------------------------------------------------
 * Row state and checks
 */
enum { ST_PASS, ST_FAIL, ST_SKIP };

static const char *cur_id = "-", *cur_desc = "-";
static int st;
static char got[600], want[300];
static int npass, nfail, nskip;

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char ring[16][300];
	static unsigned n;
	char *b = ring[n++ % 16];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(ring[0]), f, ap);
	va_end(ap);
	return b;
}

static const char *ename(int e)
{
	const char *s = e ? strerrorname_np(e) : "0";

	return s ? s : fmt("errno %d", e);
}

static const char *res(long r, int e)
{
	return r == -1 ? fmt("-1 %s", ename(e)) : fmt("%ld", r);
}

/* Records one check. The first failing check of a row decides its got/want; a passing row
 * shows its last check (the setup checks come first). Returns ok. */
static int note(int ok, const char *g, const char *w)
{
	if (st != ST_PASS)
		return ok;
	snprintf(got, sizeof(got), "%s", g);
	snprintf(want, sizeof(want), "%s", w);
	if (!ok)
		st = ST_FAIL;
	return ok;
}

/* Expects -1 with errno wante. Reads errno first, so pass the call itself as r. */
static int x_err(const char *what, long r, int wante)
{
	int e = errno;

	return note(r == -1 && e == wante, fmt("%s %s", what, res(r, e)),
		    fmt("%s -1 %s", what, ename(wante)));
}

/* Expects exactly wantr. */
static int x_ret(const char *what, long r, long wantr)
{
	int e = errno;

	return note(r == wantr, fmt("%s %s", what, res(r, e)), fmt("%s %ld", what, wantr));
}

/* Expects r >= 0. */
static int x_ok(const char *what, long r)
{
	int e = errno;

	return note(r >= 0, fmt("%s %s", what, res(r, e)), fmt("%s >= 0", what));
}

static int x_eq(const char *what, long long g, long long w)
{
	return note(g == w, fmt("%s %lld", what, g), fmt("%s %lld", what, w));
}

static int x_true(int ok, const char *g, const char *w)
{
	return note(ok, g, w);
}

static void skip(const char *why)
{
	if (st == ST_PASS) {
		st = ST_SKIP;
		snprintf(got, sizeof(got), "not run");
		snprintf(want, sizeof(want), "%s", why);
	}
}

/* ---------------------------------------------------------------------------------------
 * Sockets and addresses
 */
static const char *A1s, *A2s;
static struct in_addr A1, A2, DEAD;
static int next_port = 30000;
static int fds[64], nfds;
static int loop_conn(void);
#define LOOP_SKIP "kernel loopback connection (ADDR1, ADDR2 in one netns; use RDS_API_NETNS2)"

static int port(void)
{
	return next_port++;
}

static int track(int fd)
{
	if (fd >= 0 && nfds < (int)(sizeof(fds) / sizeof(fds[0])))
		fds[nfds++] = fd;
	return fd;
}

static void close_all(void)
{
	while (nfds > 0)
		close(fds[--nfds]);
}

static struct sockaddr_in sin4(struct in_addr a, int p)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr = a;
	s.sin_port = htons((uint16_t)p);
	return s;
}

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die("bad IPv4 address %s", s);
	return a;
}

static struct sockaddr_in6 sin6(const char *a, int p, uint32_t scope)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, a, &s.sin6_addr) != 1)
		die("bad IPv6 address %s", a);
	s.sin6_port = htons((uint16_t)p);
	s.sin6_scope_id = scope;
	return s;
}

static const char *sastr(const void *sa, socklen_t len)
{
	const struct sockaddr *s = sa;
	char b[INET6_ADDRSTRLEN];

	if (len < sizeof(sa_family_t))
		return fmt("(len %u)", len);
	if (s->sa_family == AF_INET) {
		const struct sockaddr_in *i = sa;

		inet_ntop(AF_INET, &i->sin_addr, b, sizeof(b));
		return fmt("AF_INET %s:%u len %u", b, ntohs(i->sin_port), len);
	}
	if (s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *i = sa;

		inet_ntop(AF_INET6, &i->sin6_addr, b, sizeof(b));
		return fmt("AF_INET6 [%s%%%u]:%u len %u", b, i->sin6_scope_id, ntohs(i->sin6_port),
			   len);
	}
	return fmt("family %u len %u", s->sa_family, len);
}

static int ns1_fd = -1, ns2_fd = -1; /* RDS_API_NETNS2 */

/* socket() in the network namespace of address a. */
static int socket_for(struct in_addr a, int flags)
{
	int fd, e;

	if (ns2_fd < 0 || a.s_addr != A2.s_addr)
		return socket(AF_RDS, SOCK_SEQPACKET | flags, 0);
	if (setns(ns2_fd, CLONE_NEWNET) < 0)
		die("setns(RDS_API_NETNS2): %s", strerror(errno));
	fd = socket(AF_RDS, SOCK_SEQPACKET | flags, 0);
	e = errno;
	if (setns(ns1_fd, CLONE_NEWNET) < 0)
		die("setns back: %s", strerror(errno));
	errno = e;
	return fd;
}

/* A new socket for address a, closed at the end of the row; -1 (row failed) on error. */
static int sock_new_for(struct in_addr a, int flags)
{
	int fd = socket_for(a, flags);

	if (fd < 0) {
		note(0, fmt("setup: socket() %s", res(-1, errno)), "setup ok");
		return -1;
	}
	return track(fd);
}

static int sock_new(int flags)
{
	return sock_new_for(A1, flags);
}

static int bind_any(int fd, const void *sa, socklen_t len)
{
	if (bind(fd, sa, len) == 0)
		return 0;
	note(0, fmt("setup: bind(%s) %s", sastr(sa, len), res(-1, errno)), "setup ok");
	return -1;
}

/* A socket bound to a:p. */
static int sock_at(struct in_addr a, int p)
{
	struct sockaddr_in s = sin4(a, p);
	int fd = sock_new_for(a, 0);

	if (fd < 0 || bind_any(fd, &s, sizeof(s)) < 0)
		return -1;
	return fd;
}

static int sock_at6(const char *a, int p)
{
	struct sockaddr_in6 s = sin6(a, p, 0);
	int fd = sock_new(0);

	if (fd < 0 || bind_any(fd, &s, sizeof(s)) < 0)
		return -1;
	return fd;
}

static int setint(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

static long getint(int fd, int level, int opt, int *v)
{
	socklen_t l = sizeof(*v);

	*v = -12345;
	return getsockopt(fd, level, opt, v, &l);
}

static int transport_of(int fd)
{
	int v;

	return getint(fd, SOL_RDS, SO_RDS_TRANSPORT, &v) == 0 ? v : -2;
}

static ssize_t send4(int fd, const void *buf, size_t len, int flags, struct in_addr a, int p)
{
	struct sockaddr_in s = sin4(a, p);

	return sendto(fd, buf, len, flags, (struct sockaddr *)&s, sizeof(s));
}

/* One received message (or error). */
struct rmsg {
	ssize_t r;
	int e;
	int flags;
	struct sockaddr_storage from;
	socklen_t fromlen;
	union {
		char buf[512];
		struct cmsghdr align;
	} ctl;
	size_t ctllen;
};

static void do_recv(int fd, void *buf, size_t cap, int flags, struct rmsg *m)
{
	struct iovec iov = { buf, cap };
	struct msghdr h;

	memset(m, 0, sizeof(*m));
	memset(&h, 0, sizeof(h));
	h.msg_name = &m->from;
	h.msg_namelen = sizeof(m->from);
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = m->ctl.buf;
	h.msg_controllen = sizeof(m->ctl.buf);
	errno = 0;
	m->r = recvmsg(fd, &h, flags);
	m->e = errno;
	m->flags = h.msg_flags;
	m->fromlen = h.msg_namelen;
	m->ctllen = h.msg_controllen;
}

/* Waits up to ms for a message and receives it with flags (plus MSG_DONTWAIT). */
static void recv_wait(int fd, void *buf, size_t cap, int flags, struct rmsg *m, int ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = end - now_ms();

		poll(&p, 1, left > 0 ? (int)left : 0);
		do_recv(fd, buf, cap, flags | MSG_DONTWAIT, m);
		if (!(m->r == -1 && m->e == EAGAIN) || now_ms() >= end)
			return;
	}
}

static struct cmsghdr *find_cmsg(struct rmsg *m, int level, int type)
{
	struct msghdr h;
	struct cmsghdr *c;

	memset(&h, 0, sizeof(h));
	h.msg_control = m->ctl.buf;
	h.msg_controllen = m->ctllen;
	for (c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
		if (c->cmsg_level == level && c->cmsg_type == type)
			return c;
	return NULL;
}

/* sendmsg with one cmsg (level, type, data of dlen bytes, cmsg_len = CMSG_LEN(dlen) unless
 * cmsglen >= 0) and optionally a destination. */
static ssize_t send_cmsg(int fd, const void *buf, size_t len, int flags, const void *to,
			 socklen_t tolen, int level, int type, const void *data, size_t dlen,
			 long cmsglen)
{
	union {
		char b[CMSG_SPACE(256)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr h;
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	memset(&h, 0, sizeof(h));
	h.msg_name = (void *)to;
	h.msg_namelen = tolen;
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = ctl.b;
	h.msg_controllen = CMSG_SPACE(dlen);
	c = CMSG_FIRSTHDR(&h);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = cmsglen >= 0 ? (size_t)cmsglen : CMSG_LEN(dlen);
	if (dlen)
		memcpy(CMSG_DATA(c), data, dlen);
	return sendmsg(fd, &h, flags);
}

/* Interrupting a blocked call: a thread sends SIGUSR1 (handler without SA_RESTART) to the
 * main thread after ms, unless disarmed first. */
static pthread_t main_thread, intr_thread;
static pthread_mutex_t intr_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t intr_cv = PTHREAD_COND_INITIALIZER;
static int intr_cancel, intr_ms, intr_fired;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *intr_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += intr_ms / 1000;
	ts.tv_nsec += (long)(intr_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&intr_mu);
	while (!intr_cancel)
		if (pthread_cond_timedwait(&intr_cv, &intr_mu, &ts) == ETIMEDOUT)
			break;
	if (!intr_cancel) {
		intr_fired = 1;
		pthread_kill(main_thread, SIGUSR1);
	}
	pthread_mutex_unlock(&intr_mu);
	return NULL;
}

static void set_usr1(int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	sigaction(SIGUSR1, &sa, NULL);
}

/* SIGUSR1 has no SA_RESTART only while armed, so that a row testing restarts (6.6d) runs
 * with every handler SA_RESTART. */
static void intr_arm(int ms)
{
	set_usr1(0);
	intr_cancel = 0;
	intr_fired = 0;
	intr_ms = ms;
	if (pthread_create(&intr_thread, NULL, intr_main, NULL) != 0)
		die("pthread_create");
}

/* Returns whether the signal was sent. */
static int intr_disarm(void)
{
	int e = errno; /* kept for the caller's check */

	pthread_mutex_lock(&intr_mu);
	intr_cancel = 1;
	pthread_cond_signal(&intr_cv);
	pthread_mutex_unlock(&intr_mu);
	pthread_join(intr_thread, NULL);
	set_usr1(SA_RESTART);
	errno = e;
	return intr_fired;
}

/* =======================================================================================
 * §2 socket()
 */
static void r2_1a(void)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 0);

	track(fd);
	x_ok("socket", fd);
}

static void r2_1b(void)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	track(fd);
	if (!x_ok("socket", fd))
		return;
	x_true(fcntl(fd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK clear", "O_NONBLOCK set");
	x_true(fcntl(fd, F_GETFD) & FD_CLOEXEC, "FD_CLOEXEC clear", "FD_CLOEXEC set");
}

static void type_row(int type)
{
	int fd = socket(AF_RDS, type, 0);

	track(fd);
	x_err("socket", fd, ESOCKTNOSUPPORT);
}

static void r2_2a(void)
{
	type_row(SOCK_STREAM);
}
static void r2_2b(void)
{
	type_row(SOCK_DGRAM);
}
static void r2_2c(void)
{
	type_row(SOCK_RAW);
}
static void r2_2d(void)
{
	type_row(SOCK_RDM);
}

static void r2_3(void)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 1);

	track(fd);
	x_err("socket", fd, ESOCKTNOSUPPORT);
}

static void r2_4a(void)
{
	int fd = socket(AF_RDS, 11 /* SOCK_MAX */, 0);

	track(fd);
	x_err("socket", fd, EINVAL);
}

static void r2_4b(void)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET | 0x100000, 0);

	track(fd);
	x_err("socket", fd, EINVAL);
}

static void r2_5(void)
{
	skip("module-absent case cannot be produced from inside one run");
}

static void r2_6a(void)
{
	int fd = sock_new(0), v;

	if (fd < 0)
		return;
	if (x_ret("getsockopt(SO_RDS_TRANSPORT)", getint(fd, SOL_RDS, SO_RDS_TRANSPORT, &v), 0))
		x_eq("transport", v, RDS_TRANS_NONE);
}

/* Defaults are the generic socket layer's (wmem_default/rmem_default, which a UDP socket of
 * the same network namespace also gets; /proc/sys/net/core is not visible outside init_net). */
static void r2_6b(void)
{
	int fd = sock_new(0), u = track(socket(AF_INET, SOCK_DGRAM, 0)), s, r, us, ur;

	if (fd < 0 || u < 0)
		return;
	getint(fd, SOL_SOCKET, SO_SNDBUF, &s);
	getint(fd, SOL_SOCKET, SO_RCVBUF, &r);
	getint(u, SOL_SOCKET, SO_SNDBUF, &us);
	getint(u, SOL_SOCKET, SO_RCVBUF, &ur);
	x_eq("SO_SNDBUF (UDP socket's)", s, us);
	x_eq("SO_RCVBUF (UDP socket's)", r, ur);
}

/* =======================================================================================
 * §3 bind()
 */
static void bind_row(const void *sa, socklen_t len, int wante)
{
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (wante)
		x_err(fmt("bind(%s)", sastr(sa, len)), bind(fd, sa, len), wante);
	else
		x_ret(fmt("bind(%s)", sastr(sa, len)), bind(fd, sa, len), 0);
}

static void r3_1(void)
{
	struct sockaddr_in s = sin4(A1, port());

	bind_row(&s, 1, EINVAL);
}

static void r3_2a(void)
{
	struct sockaddr_in s = sin4(A1, port());

	bind_row(&s, 8, EINVAL);
}

static void r3_2b(void)
{
	struct sockaddr_in s = sin4(ip4("0.0.0.0"), port());

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_2c(void)
{
	struct sockaddr_in s = sin4(ip4("255.255.255.255"), port());

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_2d(void)
{
	struct sockaddr_in s = sin4(ip4("224.0.0.1"), port());

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_3a(void)
{
	struct sockaddr_in6 s = sin6("::1", port(), 0);

	bind_row(&s, 24, EINVAL);
}

static void r3_3b(void)
{
	struct sockaddr_in6 s = sin6("ff02::1", port(), 0);

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_3c(void)
{
	struct sockaddr_in6 s = sin6("::ffff:0.0.0.0", port(), 0);

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_3d(void)
{
	struct sockaddr_in6 s = sin6("::ffff:255.255.255.255", port(), 0);

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_3e(void)
{
	struct sockaddr_in6 s = sin6("::ffff:224.0.0.1", port(), 0);

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_3f(void)
{
	struct sockaddr_in6 s = sin6("fe80::1", port(), 0);

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_3g(void)
{
	struct sockaddr_in6 s = sin6("::", port(), 0);

	bind_row(&s, sizeof(s), EINVAL);
}

/* IPv6 loopback: accepted (kernel: loopback transport). */
static void r3_3h(void)
{
	struct sockaddr_in6 s = sin6("::1", port(), 0), g;
	socklen_t gl = sizeof(g);
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret("bind(::1)", bind(fd, (struct sockaddr *)&s, sizeof(s)), 0))
		return;
	memset(&g, 0, sizeof(g));
	getsockname(fd, (struct sockaddr *)&g, &gl);
	x_true(gl == sizeof(g) && g.sin6_family == AF_INET6 && g.sin6_port == s.sin6_port &&
		       !memcmp(&g.sin6_addr, &s.sin6_addr, 16),
	       fmt("getsockname %s", sastr(&g, gl)), fmt("getsockname %s", sastr(&s, sizeof(s))));
}

/* v4-mapped ADDR1: accepted as the IPv4 address; getsockname answers AF_INET. */
static void r3_3i(void)
{
	int p = port();
	struct sockaddr_in6 s = sin6(fmt("::ffff:%s", A1s), p, 0);
	struct sockaddr_in w = sin4(A1, p), g;
	socklen_t gl = sizeof(g);
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret(fmt("bind(::ffff:%s)", A1s), bind(fd, (struct sockaddr *)&s, sizeof(s)), 0))
		return;
	memset(&g, 0, sizeof(g));
	getsockname(fd, (struct sockaddr *)&g, &gl);
	x_true(gl == sizeof(w) && !memcmp(&g, &w, sizeof(w)), fmt("getsockname %s", sastr(&g, gl)),
	       fmt("getsockname %s", sastr(&w, sizeof(w))));
}

static void r3_4(void)
{
	struct sockaddr_in s = sin4(A1, port());

	s.sin_family = AF_UNIX;
	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_5a(void)
{
	int fd = sock_at(A1, port());
	struct sockaddr_in s = sin4(A1, port());

	if (fd >= 0)
		x_err("second bind (same address)", bind(fd, (struct sockaddr *)&s, sizeof(s)),
		      EINVAL);
}

static void r3_5b(void)
{
	int fd = sock_at(A1, port());
	struct sockaddr_in s = sin4(A2, port());

	if (fd >= 0)
		x_err("second bind (other address)", bind(fd, (struct sockaddr *)&s, sizeof(s)),
		      EINVAL);
}

/* Connected to a link-local address with scope 1, then bound to one with scope 2: the
 * scope check comes before the address check. */
static void r3_6(void)
{
	struct sockaddr_in6 c = sin6("fe80::1", port(), 1), b = sin6("fe80::2", port(), 2);
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret("connect(fe80::1%1)", connect(fd, (struct sockaddr *)&c, sizeof(c)), 0))
		return;
	x_err("bind(fe80::2%2)", bind(fd, (struct sockaddr *)&b, sizeof(b)), EINVAL);
}

static void r3_7(void)
{
	struct sockaddr_in s = sin4(DEAD, port());
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret("SO_RDS_TRANSPORT=TCP", setint(fd, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), 0))
		return;
	x_err("bind(" DEAD_ADDR ")", bind(fd, (struct sockaddr *)&s, sizeof(s)), ENOPROTOOPT);
}

/* TCP preset, then a 127.x address: the TCP transport accepts any local address. */
static void r3_7b(void)
{
	struct sockaddr_in s = sin4(ip4("127.0.0.1"), port());
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret("SO_RDS_TRANSPORT=TCP", setint(fd, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), 0))
		return;
	if (x_ret("bind(127.0.0.1)", bind(fd, (struct sockaddr *)&s, sizeof(s)), 0))
		x_eq("transport", transport_of(fd), RDS_TRANS_TCP);
}

static void r3_8(void)
{
	struct sockaddr_in s = sin4(DEAD, port());

	bind_row(&s, sizeof(s), EADDRNOTAVAIL);
}

static void r3_9a(void)
{
	int p = port();
	int fd = sock_at(A1, p);
	struct sockaddr_in s = sin4(A1, p);
	int fd2 = sock_new(0);

	if (fd >= 0 && fd2 >= 0)
		x_err("bind (port in use)", bind(fd2, (struct sockaddr *)&s, sizeof(s)),
		      EADDRINUSE);
}

/* Port space is per address. */
static void r3_9b(void)
{
	int p = port();
	int fd = sock_at(A1, p);
	struct sockaddr_in s = sin4(A2, p);
	int fd2 = sock_new_for(A2, 0);

	if (fd >= 0 && fd2 >= 0)
		x_ret("bind (same port, other address)",
		      bind(fd2, (struct sockaddr *)&s, sizeof(s)), 0);
}

/* Port in use on a non-local address: 4.19+ checks the address first. */
static void r3_9c(void)
{
	struct sockaddr_in s = sin4(DEAD, 1);

	bind_row(&s, sizeof(s), EADDRNOTAVAIL);
}

static void r3_10(void)
{
	struct sockaddr_in s = sin4(A1, 1);

	bind_row(&s, sizeof(s), EINVAL);
}

static void r3_11(void)
{
	struct sockaddr_in s = sin4(A1, 0), g;
	socklen_t gl = sizeof(g);
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret("bind(port 0)", bind(fd, (struct sockaddr *)&s, sizeof(s)), 0))
		return;
	memset(&g, 0, sizeof(g));
	getsockname(fd, (struct sockaddr *)&g, &gl);
	x_true(g.sin_family == AF_INET && g.sin_addr.s_addr == A1.s_addr && ntohs(g.sin_port) >= 2,
	       fmt("getsockname %s", sastr(&g, gl)), fmt("getsockname %s:(>= 2)", A1s));
}

static void r3_12(void)
{
	struct sockaddr_in s = sin4(A1, port()), g;
	socklen_t gl = sizeof(g);
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret("bind", bind(fd, (struct sockaddr *)&s, sizeof(s)), 0))
		return;
	memset(&g, 0, sizeof(g));
	getsockname(fd, (struct sockaddr *)&g, &gl);
	x_true(gl == sizeof(s) && !memcmp(&g, &s, sizeof(s)), fmt("getsockname %s", sastr(&g, gl)),
	       fmt("getsockname %s", sastr(&s, sizeof(s))));
}

/* A socket receives only what is sent to its exact bound address. */
static void r3_13(void)
{
	int p = port();
	int r = sock_at(A2, p), s = sock_at(A1, port());
	char b[8];
	struct rmsg m;

	if (r < 0 || s < 0)
		return;
	if (!x_ret("sendto(ADDR1:p)", send4(s, "x", 1, 0, A1, p), 1))
		return;
	recv_wait(r, b, sizeof(b), 0, &m, 500);
	x_true(m.r == -1 && m.e == EAGAIN, fmt("socket on ADDR2:p recv %s", res(m.r, m.e)),
	       "socket on ADDR2:p recv -1 EAGAIN");
}

/* =======================================================================================
 * §4 connect()
 */
static void connect_row(const void *sa, socklen_t len, int wante)
{
	int fd = sock_new(0);

	if (fd < 0)
		return;
	x_err(fmt("connect(%s)", sastr(sa, len)), connect(fd, sa, len), wante);
}

static void r4_1(void)
{
	struct sockaddr_in s = sin4(A2, port());

	connect_row(&s, 1, EINVAL);
}

static void r4_2(void)
{
	struct sockaddr_in s = sin4(A2, port());

	connect_row(&s, 8, EINVAL);
}

static void r4_3(void)
{
	struct sockaddr_in s = sin4(ip4("0.0.0.0"), port());

	connect_row(&s, sizeof(s), EDESTADDRREQ);
}

static void r4_4a(void)
{
	struct sockaddr_in s = sin4(ip4("224.0.0.1"), port());

	connect_row(&s, sizeof(s), EINVAL);
}

static void r4_4b(void)
{
	struct sockaddr_in s = sin4(ip4("255.255.255.255"), port());

	connect_row(&s, sizeof(s), EINVAL);
}

static void r4_5(void)
{
	struct sockaddr_in6 s = sin6("::1", port(), 0);

	connect_row(&s, 24, EINVAL);
}

static void r4_6a(void)
{
	struct sockaddr_in6 s = sin6("ff02::1", port(), 0);

	connect_row(&s, sizeof(s), EPROTOTYPE);
}

static void r4_6b(void)
{
	struct sockaddr_in6 s = sin6("::ffff:0.0.0.0", port(), 0);

	connect_row(&s, sizeof(s), EPROTOTYPE);
}

static void r4_6c(void)
{
	struct sockaddr_in6 s = sin6("::ffff:224.0.0.1", port(), 0);

	connect_row(&s, sizeof(s), EPROTOTYPE);
}

static void r4_7a(void)
{
	struct sockaddr_in6 s = sin6("fe80::1", port(), 0);

	connect_row(&s, sizeof(s), EINVAL);
}

static void r4_7b(void)
{
	skip("needs a socket bound to a configured link-local address");
}

static void r4_8a(void)
{
	struct sockaddr_in s = sin4(A2, port());

	s.sin_family = AF_UNSPEC;
	connect_row(&s, sizeof(s), EAFNOSUPPORT);
}

static void r4_8b(void)
{
	struct sockaddr_in s = sin4(A2, port());

	s.sin_family = AF_UNIX;
	connect_row(&s, sizeof(s), EAFNOSUPPORT);
}

/* No bind needed, repeatable; getpeername shows the latest. */
static void r4_9(void)
{
	struct sockaddr_in c1 = sin4(A2, port()), c2 = sin4(A1, port()), g;
	socklen_t gl = sizeof(g);
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (!x_ret("connect #1 (unbound)", connect(fd, (struct sockaddr *)&c1, sizeof(c1)), 0) ||
	    !x_ret("connect #2", connect(fd, (struct sockaddr *)&c2, sizeof(c2)), 0))
		return;
	memset(&g, 0, sizeof(g));
	getpeername(fd, (struct sockaddr *)&g, &gl);
	x_true(gl == sizeof(c2) && !memcmp(&g, &c2, sizeof(c2)),
	       fmt("getpeername %s", sastr(&g, gl)), fmt("getpeername %s", sastr(&c2, sizeof(c2))));
}

/* connect does not check the family against the bound address. */
static void r4_10(void)
{
	struct sockaddr_in6 c = sin6("::1", port(), 0);
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_ret("connect(::1) on an IPv4-bound socket",
		      connect(fd, (struct sockaddr *)&c, sizeof(c)), 0);
}

/* =======================================================================================
 * §5 sendmsg
 */
static uint8_t big[RDS_TEST_MAX_MSG + 16];

static ssize_t sendmsg_to(int fd, const void *buf, size_t len, int flags, const void *to,
			  socklen_t tolen)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr h;

	memset(&h, 0, sizeof(h));
	h.msg_name = (void *)to;
	h.msg_namelen = tolen;
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	return sendmsg(fd, &h, flags);
}

/* On an unbound socket, so the row also shows the check comes before ENOTCONN (row 7). */
static void send_unbound(const void *to, socklen_t tolen, int flags, int wante)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err(fmt("unbound sendmsg(%s, flags 0x%x)", sastr(to, tolen), flags),
		      sendmsg_to(fd, "x", 1, flags, to, tolen), wante);
}

/* A bound sender s (ADDR1) and a receiver r (ADDR2:*rp). */
static int pair(int *s, int *r, int *rp)
{
	*rp = port();
	*r = sock_at(A2, *rp);
	*s = *r < 0 ? -1 : sock_at(A1, port());
	return *s >= 0;
}

static void flag_row(int flag)
{
	int s, r, p;

	if (pair(&s, &r, &p))
		x_err(fmt("sendto(flags 0x%x)", flag), send4(s, "x", 1, flag, A2, p), EOPNOTSUPP);
}

static void r5_1a(void)
{
	flag_row(MSG_NOSIGNAL);
}
static void r5_1b(void)
{
	flag_row(MSG_MORE);
}
static void r5_1c(void)
{
	flag_row(MSG_OOB);
}
static void r5_1d(void)
{
	flag_row(MSG_EOR);
}
static void r5_1e(void)
{
	flag_row(MSG_CONFIRM);
}

static void r5_1f(void)
{
	struct sockaddr_in s = sin4(A2, port());

	send_unbound(&s, 8, MSG_NOSIGNAL, EOPNOTSUPP);
}

static void r5_2(void)
{
	struct sockaddr_in s = sin4(A2, port());

	send_unbound(&s, 8, 0, EINVAL);
}

static void r5_3a(void)
{
	struct sockaddr_in s = sin4(ip4("0.0.0.0"), port());

	send_unbound(&s, sizeof(s), 0, EINVAL);
}

static void r5_3b(void)
{
	struct sockaddr_in s = sin4(ip4("255.255.255.255"), port());

	send_unbound(&s, sizeof(s), 0, EINVAL);
}

static void r5_3c(void)
{
	struct sockaddr_in s = sin4(ip4("224.0.0.1"), port());

	send_unbound(&s, sizeof(s), 0, EINVAL);
}

static void r5_4a(void)
{
	struct sockaddr_in6 s = sin6("::1", port(), 0);

	send_unbound(&s, 24, 0, EINVAL);
}

static void r5_4b(void)
{
	struct sockaddr_in6 s = sin6("ff02::1", port(), 0);

	send_unbound(&s, sizeof(s), 0, EINVAL);
}

static void r5_4c(void)
{
	struct sockaddr_in6 s = sin6("::ffff:0.0.0.0", port(), 0);

	send_unbound(&s, sizeof(s), 0, EINVAL);
}

static void r5_4d(void)
{
	struct sockaddr_in6 s = sin6("::ffff:224.0.0.1", port(), 0);

	send_unbound(&s, sizeof(s), 0, EINVAL);
}

static void r5_4e(void)
{
	struct sockaddr_in6 s = sin6("fe80::1", port(), 0);

	send_unbound(&s, sizeof(s), 0, EINVAL);
}

static void r5_5(void)
{
	struct sockaddr_in s = sin4(A2, port());

	s.sin_family = AF_UNIX;
	send_unbound(&s, sizeof(s), 0, EINVAL);
}

/* Checks that r receives exactly len bytes of data from want. */
static void expect_msg(int r, const void *data, size_t len, const void *want, socklen_t wantlen)
{
	static char b[4096];
	struct rmsg m;

	recv_wait(r, b, sizeof(b), 0, &m, WAIT_MS);
	x_true(m.r == (ssize_t)len && !memcmp(b, data, len) && m.fromlen == wantlen &&
		       !memcmp(&m.from, want, wantlen),
	       fmt("recv %s from %s", res(m.r, m.e), sastr(&m.from, m.fromlen)),
	       fmt("recv %zu from %s", len, sastr(want, wantlen)));
}

static void r5_6(void)
{
	int p2 = port(), p1 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, p1);
	struct sockaddr_in c = sin4(A2, p2), w = sin4(A1, p1);

	if (r < 0 || s < 0)
		return;
	if (!x_ret("connect", connect(s, (struct sockaddr *)&c, sizeof(c)), 0) ||
	    !x_ret("send (no name)", send(s, "hello", 5, 0), 5))
		return;
	expect_msg(r, "hello", 5, &w, sizeof(w));
}

static void r5_7a(void)
{
	struct sockaddr_in s = sin4(A2, port());

	send_unbound(&s, sizeof(s), 0, ENOTCONN);
}

static void r5_7b(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("send (bound, not connected, no name)", send(fd, "x", 1, 0), ENOTCONN);
}

static void r5_7c(void)
{
	struct sockaddr_in c = sin4(A2, port());
	int fd = sock_new(0);

	if (fd < 0 || !x_ret("connect", connect(fd, (struct sockaddr *)&c, sizeof(c)), 0))
		return;
	x_err("send (unbound, connected)", send(fd, "x", 1, 0), ENOTCONN);
}

/* No autobind: still unbound after a failed send. */
static void r5_7d(void)
{
	struct sockaddr_in c = sin4(A2, port()), g;
	socklen_t gl = sizeof(g);
	int fd = sock_new(0);

	if (fd < 0 ||
	    !x_err("sendto (unbound)", send4(fd, "x", 1, 0, A2, ntohs(c.sin_port)), ENOTCONN))
		return;
	memset(&g, 0xff, sizeof(g));
	getsockname(fd, (struct sockaddr *)&g, &gl);
	x_true(gl == sizeof(g) && g.sin_family == AF_UNSPEC && g.sin_port == 0 &&
		       g.sin_addr.s_addr == 0,
	       fmt("getsockname %s", sastr(&g, gl)), "getsockname family 0, all zero, len 16");
}

static void r5_8a(void)
{
	int fd = sock_at6("::1", port());

	if (fd >= 0)
		x_err("IPv6-bound sendto(IPv4)", send4(fd, "x", 1, 0, A2, port()), EOPNOTSUPP);
}

static void r5_8b(void)
{
	struct sockaddr_in6 to = sin6("::1", port(), 0);
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("IPv4-bound sendto(::1)", sendmsg_to(fd, "x", 1, 0, &to, sizeof(to)),
		      EOPNOTSUPP);
}

/* A v4-mapped destination from an IPv4-bound socket is the IPv4 address. */
static void r5_8c(void)
{
	int p2 = port(), p1 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, p1);
	struct sockaddr_in6 to = sin6(fmt("::ffff:%s", A2s), p2, 0);
	struct sockaddr_in w = sin4(A1, p1);

	if (r < 0 || s < 0)
		return;
	if (x_ret("sendto(::ffff:ADDR2)", sendmsg_to(s, "v4m", 3, 0, &to, sizeof(to)), 3))
		expect_msg(r, "v4m", 3, &w, sizeof(w));
}

static void r5_9(void)
{
	skip("needs a socket bound to a configured link-local address");
}

/* Malformed cmsg + oversized payload: EINVAL (row 10) before EMSGSIZE (row 11). */
static void r5_10a(void)
{
	int s, r, p;
	struct sockaddr_in to;

	if (!pair(&s, &r, &p))
		return;
	to = sin4(A2, p);
	x_err("sendmsg(SOL_RDS cmsg_len 8, 1 MiB + 1)",
	      send_cmsg(s, big, RDS_TEST_MAX_MSG + 1, 0, &to, sizeof(to), SOL_RDS, 99, NULL, 0, 8),
	      EINVAL);
}

/* KERNEL: CMSG_OK is checked for every cmsg before its level is looked at. */
static void r5_10b(void)
{
	int s, r, p;
	struct sockaddr_in to;

	if (!pair(&s, &r, &p))
		return;
	to = sin4(A2, p);
	x_err("sendmsg(SOL_SOCKET cmsg_len 8)",
	      send_cmsg(s, "x", 1, 0, &to, sizeof(to), SOL_SOCKET, 99, NULL, 0, 8), EINVAL);
}

static void r5_10c(void)
{
	int s, r, p;
	uint64_t v = 0;
	struct sockaddr_in to;

	if (!pair(&s, &r, &p))
		return;
	to = sin4(A2, p);
	x_err("sendmsg(RDMA_ARGS 8 bytes)",
	      send_cmsg(s, "x", 1, 0, &to, sizeof(to), SOL_RDS, RDS_CMSG_RDMA_ARGS, &v, sizeof(v),
			-1),
	      EINVAL);
}

/* Raises the send buffer above 1 MiB (SO_SNDBUFFORCE; as root), so row 11 alone answers. */
static void big_sndbuf(int fd)
{
	int v = 4 * RDS_TEST_MAX_MSG;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static void r5_11a(void)
{
	int s, r, p;

	if (!pair(&s, &r, &p))
		return;
	big_sndbuf(s);
	x_err("sendto(1 MiB + 1)", send4(s, big, RDS_TEST_MAX_MSG + 1, 0, A2, p), EMSGSIZE);
}

static void r5_11b(void)
{
	int s, r, p, v;

	if (!pair(&s, &r, &p))
		return;
	big_sndbuf(s);
	getint(s, SOL_SOCKET, SO_SNDBUF, &v);
	if (v / 2 < RDS_TEST_MAX_MSG) {
		skip("cannot raise SO_SNDBUF to 1 MiB (not root?)");
		return;
	}
	x_ret("sendto(1 MiB) to a port nobody bound",
	      send4(s, big, RDS_TEST_MAX_MSG, 0, A2, port()), RDS_TEST_MAX_MSG);
}

static void r5_11c(void)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("unbound sendto(1 MiB + 1)",
		      send4(fd, big, RDS_TEST_MAX_MSG + 1, 0, A2, port()), ENOTCONN);
}

/* Row 11 before row 14 (unknown SOL_RDS cmsg type). */
static void r5_11d(void)
{
	int s, r, p;
	uint32_t v = 0;
	struct sockaddr_in to;

	if (!pair(&s, &r, &p))
		return;
	to = sin4(A2, p);
	big_sndbuf(s);
	x_err("sendmsg(1 MiB + 1, SOL_RDS cmsg type 99)",
	      send_cmsg(s, big, RDS_TEST_MAX_MSG + 1, 0, &to, sizeof(to), SOL_RDS, 99, &v,
			sizeof(v), -1),
	      EMSGSIZE);
}

static void r5_12a(void)
{
	int s, r, p;

	if (!pair(&s, &r, &p) ||
	    !x_ret("SO_SNDBUF=4096", setint(s, SOL_SOCKET, SO_SNDBUF, 4096), 0))
		return;
	x_err("sendto(4097)", send4(s, big, 4097, 0, A2, p), EMSGSIZE);
}

static void r5_12b(void)
{
	int s, r, p;

	if (!pair(&s, &r, &p) ||
	    !x_ret("SO_SNDBUF=4096", setint(s, SOL_SOCKET, SO_SNDBUF, 4096), 0))
		return;
	x_ret("sendto(4096)", send4(s, big, 4096, 0, A2, p), 4096);
}

/* Default buffer: the limit is SO_SNDBUF / 2. */
static void r5_12c(void)
{
	int s, r, p, v;

	if (!pair(&s, &r, &p))
		return;
	getint(s, SOL_SOCKET, SO_SNDBUF, &v);
	if (v / 2 >= RDS_TEST_MAX_MSG) {
		skip("default send buffer >= 1 MiB");
		return;
	}
	if (x_err(fmt("sendto(SO_SNDBUF/2 + 1 = %d)", v / 2 + 1),
		  send4(s, big, (size_t)(v / 2 + 1), 0, A2, port()), EMSGSIZE))
		x_ret(fmt("sendto(SO_SNDBUF/2 = %d)", v / 2),
		      send4(s, big, (size_t)(v / 2), 0, A2, p), v / 2);
}

/* MSG_ZEROCOPY: EOPNOTSUPP on the loopback transport, accepted on TCP. */
static void r5_13(void)
{
	int s, r, p, t;
	uint32_t cookie = 0x5eed;
	struct sockaddr_in to;

	if (!pair(&s, &r, &p) || !x_ret("SO_ZEROCOPY=1", setint(s, SOL_SOCKET, SO_ZEROCOPY, 1), 0))
		return;
	to = sin4(A2, p);
	t = transport_of(s);
	if (t == RDS_TRANS_LOOP)
		x_err("sendmsg(MSG_ZEROCOPY, cookie) on transport 3",
		      send_cmsg(s, "zc", 2, MSG_ZEROCOPY, &to, sizeof(to), SOL_RDS,
				RDS_CMSG_ZCOPY_COOKIE, &cookie, sizeof(cookie), -1),
		      EOPNOTSUPP);
	else
		x_ret(fmt("sendmsg(MSG_ZEROCOPY, cookie) on transport %d", t),
		      send_cmsg(s, "zc", 2, MSG_ZEROCOPY, &to, sizeof(to), SOL_RDS,
				RDS_CMSG_ZCOPY_COOKIE, &cookie, sizeof(cookie), -1),
		      2);
}

static void cmsg_row(int level, int type, const void *data, size_t dlen, int flags, int wante)
{
	int s, r, p;
	struct sockaddr_in to;

	if (!pair(&s, &r, &p))
		return;
	to = sin4(A2, p);
	if (flags & MSG_ZEROCOPY) {
		if (!x_ret("SO_ZEROCOPY=1", setint(s, SOL_SOCKET, SO_ZEROCOPY, 1), 0))
			return;
		if (transport_of(s) == RDS_TRANS_LOOP)
			wante = EOPNOTSUPP; /* row 13 first */
	}
	x_err(fmt("sendmsg(cmsg level %d type %d len %zu, flags 0x%x)", level, type, dlen, flags),
	      send_cmsg(s, "x", 1, flags, &to, sizeof(to), level, type, data, dlen, -1), wante);
}

static void r5_14a(void)
{
	uint64_t v = 0;

	cmsg_row(SOL_RDS, 99, &v, sizeof(v), 0, EINVAL);
}

static void r5_14b(void)
{
	uint64_t v = 1;

	cmsg_row(SOL_RDS, RDS_CMSG_CONG_UPDATE, &v, sizeof(v), 0, EINVAL);
}

static void r5_14c(void)
{
	struct rds_cmsg_rx_trace v;

	memset(&v, 0, sizeof(v));
	cmsg_row(SOL_RDS, RDS_CMSG_RXPATH_LATENCY, &v, sizeof(v), 0, EINVAL);
}

/* MSG_ZEROCOPY without a cookie: use an unknown-level cmsg to carry nothing. */
static void r5_14d(void)
{
	int v = 0;

	cmsg_row(SOL_IP, 99, &v, sizeof(v), MSG_ZEROCOPY, EINVAL);
}

static void r5_14e(void)
{
	uint32_t v = 7;

	cmsg_row(SOL_RDS, RDS_CMSG_ZCOPY_COOKIE, &v, sizeof(v), 0, EINVAL);
}

static void r5_14f(void)
{
	uint16_t v = 7;

	cmsg_row(SOL_RDS, RDS_CMSG_ZCOPY_COOKIE, &v, sizeof(v), MSG_ZEROCOPY, EINVAL);
}

/* RDMA_DEST together with ATOMIC_FADD (groups DEST/MAP and ARGS/atomics mixed). */
static void r5_14g(void)
{
	union {
		char b[CMSG_SPACE(8) + CMSG_SPACE(sizeof(struct rds_atomic_args))];
		struct cmsghdr align;
	} ctl;
	static uint64_t target __attribute__((aligned(8)));
	struct rds_atomic_args aa;
	uint64_t key = 0x1234;
	struct iovec iov = { "x", 1 };
	struct sockaddr_in to;
	struct msghdr h;
	struct cmsghdr *c;
	int s, r, p;

	if (!pair(&s, &r, &p))
		return;
	to = sin4(A2, p);
	memset(&ctl, 0, sizeof(ctl));
	memset(&aa, 0, sizeof(aa));
	aa.local_addr = (uintptr_t)&target;
	memset(&h, 0, sizeof(h));
	h.msg_name = &to;
	h.msg_namelen = sizeof(to);
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = ctl.b;
	h.msg_controllen = sizeof(ctl.b);
	c = CMSG_FIRSTHDR(&h);
	c->cmsg_level = SOL_RDS;
	c->cmsg_type = RDS_CMSG_RDMA_DEST;
	c->cmsg_len = CMSG_LEN(8);
	memcpy(CMSG_DATA(c), &key, 8);
	c = CMSG_NXTHDR(&h, c);
	c->cmsg_level = SOL_RDS;
	c->cmsg_type = RDS_CMSG_ATOMIC_FADD;
	c->cmsg_len = CMSG_LEN(sizeof(aa));
	memcpy(CMSG_DATA(c), &aa, sizeof(aa));
	x_err("sendmsg(RDMA_DEST + ATOMIC_FADD)", sendmsg(s, &h, 0), EINVAL);
}

/* Non-SOL_RDS cmsgs are ignored. */
static void r5_14h(void)
{
	int p2 = port(), p1 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, p1), v = 1;
	struct sockaddr_in to = sin4(A2, p2), w = sin4(A1, p1);

	if (r < 0 || s < 0)
		return;
	if (x_ret("sendmsg(SOL_SOCKET cmsg type 99)",
		  send_cmsg(s, "ign", 3, 0, &to, sizeof(to), SOL_SOCKET, 99, &v, sizeof(v), -1), 3))
		expect_msg(r, "ign", 3, &w, sizeof(w));
}

static void r5_15(void)
{
	int s, r, p;

	if (pair(&s, &r, &p))
		x_err("sendto(NULL buffer, 16)", send4(s, NULL, 16, 0, A2, p), EFAULT);
}

static void r5_16a(void)
{
	static char region[8192];
	uint64_t cookie = 0;
	struct rds_get_mr_args a;

	memset(&a, 0, sizeof(a));
	a.vec.addr = (uintptr_t)region;
	a.vec.bytes = sizeof(region);
	a.cookie_addr = (uintptr_t)&cookie;
	cmsg_row(SOL_RDS, RDS_CMSG_RDMA_MAP, &a, sizeof(a), 0, EOPNOTSUPP);
}

static void r5_16b(void)
{
	uint64_t key = 0x1234;

	cmsg_row(SOL_RDS, RDS_CMSG_RDMA_DEST, &key, sizeof(key), 0, EINVAL);
}

static void r5_16c(void)
{
	static char local[4096];
	static struct rds_iovec lv;
	struct rds_rdma_args a;

	lv.addr = (uintptr_t)local;
	lv.bytes = sizeof(local);
	memset(&a, 0, sizeof(a));
	a.cookie = 0x1234;
	a.remote_vec.addr = 0;
	a.remote_vec.bytes = sizeof(local);
	a.local_vec_addr = (uintptr_t)&lv;
	a.nr_local = 1;
	cmsg_row(SOL_RDS, RDS_CMSG_RDMA_ARGS, &a, sizeof(a), 0, EOPNOTSUPP);
}

static void r5_16d(void)
{
	static uint64_t target __attribute__((aligned(8)));
	struct rds_atomic_args a;

	memset(&a, 0, sizeof(a));
	a.cookie = 0x1234;
	a.local_addr = (uintptr_t)&target;
	a.fadd.add = 1;
	cmsg_row(SOL_RDS, RDS_CMSG_ATOMIC_FADD, &a, sizeof(a), 0, EOPNOTSUPP);
}

static void r5_17(void)
{
	skip("connection teardown (netns/module unload) cannot be produced here");
}

static void r5_20a(void)
{
	int s, r, p;

	if (pair(&s, &r, &p))
		x_ret("sendto(100)", send4(s, big, 100, 0, A2, p), 100);
}

static void r5_20b(void)
{
	int p2 = port(), p1 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, p1);
	struct sockaddr_in w = sin4(A1, p1);

	if (r < 0 || s < 0)
		return;
	if (x_ret("sendto(0 bytes)", send4(s, "", 0, 0, A2, p2), 0))
		expect_msg(r, "", 0, &w, sizeof(w));
}

static void r5_20c(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_ret("sendto(port nobody bound)", send4(fd, "x", 1, 0, A2, port()), 1);
}

/* Destination port 0: the peer's kernel answers a 0-byte message from its port 0. */
static void r5_20d(void)
{
	int fd = sock_at(A1, port());
	struct sockaddr_in w = sin4(A2, 0);

	if (loop_conn()) {
		skip(LOOP_SKIP);
		return;
	}
	if (fd < 0 || !x_ret("sendto(ADDR2:0, 0 bytes)", send4(fd, "", 0, 0, A2, 0), 0))
		return;
	expect_msg(fd, "", 0, &w, sizeof(w));
}

/* KERNEL: write() on a SOCK_SEQPACKET socket passes MSG_EOR, which sendmsg refuses. */
static void r5_20e(void)
{
	int p2 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, port());
	struct sockaddr_in c = sin4(A2, p2);

	if (r < 0 || s < 0 || !x_ret("connect", connect(s, (struct sockaddr *)&c, sizeof(c)), 0))
		return;
	x_err("write(5)", write(s, "write", 5), EOPNOTSUPP);
}

/* =======================================================================================
 * §6 recvmsg
 */
/* A message of len bytes from ADDR1:*sp to a socket at ADDR2 (returned), waited for with
 * poll; -1 on failure (row failed). */
static int with_msg(size_t len, int *sp_out)
{
	int p2 = port(), p1 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, p1);
	struct pollfd pf;

	if (r < 0 || s < 0)
		return -1;
	if (sp_out)
		*sp_out = p1;
	if (!x_ret(fmt("sendto(%zu)", len), send4(s, big, len, 0, A2, p2), (long)len))
		return -1;
	pf.fd = r;
	pf.events = POLLIN;
	pf.revents = 0;
	if (poll(&pf, 1, WAIT_MS) != 1 || !(pf.revents & POLLIN)) {
		note(0, "setup: message not readable within the wait", "setup ok");
		return -1;
	}
	return r;
}

static void r6_1(void)
{
	char b[16];
	int r = with_msg(5, NULL);
	struct rmsg m;

	if (r < 0)
		return;
	if (!x_ret("recv(MSG_OOB)", recv(r, b, sizeof(b), MSG_OOB), 0))
		return;
	do_recv(r, b, sizeof(b), MSG_DONTWAIT, &m);
	x_eq("message still queued: recv", m.r, 5);
}

static void r6_2(void)
{
	char b[16];
	int r = sock_at(A2, port());
	long rr;

	if (r < 0)
		return;
	intr_arm(2000); /* bounds a wrongly blocking call: EINTR then */
	rr = recv(r, b, sizeof(b), MSG_ERRQUEUE);
	intr_disarm();
	x_err("recv(MSG_ERRQUEUE)", rr, EAGAIN);
}

static void r6_3(void)
{
	skip("RDMA notifications need an RDMA transport");
}

static void r6_5a(void)
{
	char b[16];
	int r = sock_at(A2, port());

	if (r >= 0)
		x_err("recv(MSG_DONTWAIT)", recv(r, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
}

static void r6_5b(void)
{
	char b[16];
	int r = sock_new_for(A2, SOCK_NONBLOCK);
	struct sockaddr_in s = sin4(A2, port());

	if (r < 0 || bind_any(r, &s, sizeof(s)) < 0)
		return;
	x_err("recv (O_NONBLOCK)", recv(r, b, sizeof(b), 0), EAGAIN);
}

/* A zerocopy completion is reaped into msg_control: 0 with RDS_CMSG_ZCOPY_COMPLETION. */
static void r6_5c(void)
{
	int s, r, p;
	uint32_t cookie = 0x5eed;
	struct sockaddr_in to;
	struct rmsg m;
	struct cmsghdr *c;
	struct rds_zcopy_cookies zc;
	char b[16];

	if (!pair(&s, &r, &p) || !x_ret("SO_ZEROCOPY=1", setint(s, SOL_SOCKET, SO_ZEROCOPY, 1), 0))
		return;
	if (transport_of(s) == RDS_TRANS_LOOP) {
		skip("loopback transport has no zerocopy");
		return;
	}
	to = sin4(A2, p);
	if (!x_ret("sendmsg(MSG_ZEROCOPY, cookie)",
		   send_cmsg(s, "zc", 2, MSG_ZEROCOPY, &to, sizeof(to), SOL_RDS,
			     RDS_CMSG_ZCOPY_COOKIE, &cookie, sizeof(cookie), -1),
		   2))
		return;
	recv_wait(r, b, sizeof(b), 0, &m, WAIT_MS); /* the receiver consumes it */
	recv_wait(s, b, sizeof(b), 0, &m, WAIT_MS);
	c = find_cmsg(&m, SOL_RDS, RDS_CMSG_ZCOPY_COMPLETION);
	memset(&zc, 0, sizeof(zc));
	if (c)
		memcpy(&zc, CMSG_DATA(c), sizeof(zc));
	x_true(m.r == 0 && c && zc.num == 1 && zc.cookies[0] == cookie,
	       fmt("recv %s, completion cmsg %s num %u cookie 0x%x", res(m.r, m.e),
		   c ? "yes" : "no", zc.num, zc.cookies[0]),
	       fmt("recv 0, completion cmsg yes num 1 cookie 0x%x", cookie));
}

static void r6_6a(void)
{
	char b[16];
	struct timeval tv = { 0, 200000 };
	int r = sock_at(A2, port());
	long long t0;

	if (r < 0 || setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return;
	t0 = now_ms();
	if (x_err("recv (SO_RCVTIMEO 200 ms)", recv(r, b, sizeof(b), 0), ETIMEDOUT))
		x_true(now_ms() - t0 >= 150, fmt("-1 ETIMEDOUT after %lld ms", now_ms() - t0),
		       "-1 ETIMEDOUT after >= 150 ms");
}

static void r6_6b(void)
{
	char b[16];
	struct timeval tv = { 0, 200000 };
	int r = sock_new(0);

	if (r < 0 || setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return;
	x_err("recv unbound (SO_RCVTIMEO 200 ms)", recv(r, b, sizeof(b), 0), ETIMEDOUT);
}

static void r6_6c(void)
{
	char b[16];
	int r = sock_at(A2, port());
	long rr;

	if (r < 0)
		return;
	intr_arm(200);
	rr = recv(r, b, sizeof(b), 0);
	intr_disarm();
	x_err("blocking recv, signal (no SA_RESTART) after 200 ms", rr, EINTR);
}

/* SA_RESTART: the signal does not end the call; a message sent later is received. */
static int late_fd, late_port;
static void *late_send(void *arg)
{
	(void)arg;
	usleep(200000);
	pthread_kill(main_thread, SIGUSR2);
	usleep(300000);
	send4(late_fd, "late", 4, 0, A2, late_port);
	return NULL;
}

static void r6_6d(void)
{
	char b[16];
	int s, r;
	long rr;
	pthread_t t;

	if (!pair(&s, &r, &late_port))
		return;
	late_fd = s;
	if (pthread_create(&t, NULL, late_send, NULL) != 0)
		die("pthread_create");
	rr = recv(r, b, sizeof(b), 0);
	pthread_join(t, NULL);
	x_ret("blocking recv, SA_RESTART signal at 200 ms, message at 500 ms", rr, 4);
}

static void r6_7(void)
{
	char b[16];
	int r = with_msg(5, NULL);

	if (r < 0)
		return;
	if (x_ret("recv", recv(r, b, sizeof(b), 0), 5))
		x_err("second recv(MSG_DONTWAIT)", recv(r, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
}

static void r6_8a(void)
{
	char b[10];
	int r = with_msg(100, NULL);
	struct rmsg m;

	if (r < 0)
		return;
	do_recv(r, b, sizeof(b), 0, &m);
	x_true(m.r == 10 && (m.flags & MSG_TRUNC),
	       fmt("recv %s msg_flags 0x%x", res(m.r, m.e), m.flags),
	       "recv 10 msg_flags MSG_TRUNC");
	x_err("rest discarded: recv(MSG_DONTWAIT)", recv(r, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
}

static void r6_8b(void)
{
	char b[10];
	int r = with_msg(100, NULL);
	struct rmsg m;

	if (r < 0)
		return;
	do_recv(r, b, sizeof(b), MSG_TRUNC, &m);
	x_true(m.r == 100 && (m.flags & MSG_TRUNC),
	       fmt("recv(MSG_TRUNC) %s msg_flags 0x%x", res(m.r, m.e), m.flags),
	       "recv(MSG_TRUNC) 100 msg_flags MSG_TRUNC");
}

static void r6_9a(void)
{
	char b[16];
	int r = with_msg(5, NULL);

	if (r < 0)
		return;
	if (x_ret("recv(MSG_PEEK)", recv(r, b, sizeof(b), MSG_PEEK), 5))
		x_ret("then recv", recv(r, b, sizeof(b), MSG_DONTWAIT), 5);
}

static void r6_9b(void)
{
	int r = with_msg(100, NULL);

	if (r < 0)
		return;
	if (x_ret("recv(NULL, 0, MSG_PEEK|MSG_TRUNC)", recv(r, NULL, 0, MSG_PEEK | MSG_TRUNC), 100))
		x_ret("then recv", recv(r, big, 200, MSG_DONTWAIT), 100);
}

static void r6_10(void)
{
	char b[16];
	int sp, r = with_msg(0, &sp);
	struct rmsg m;
	struct sockaddr_in w = sin4(A1, sp);

	if (r < 0)
		return;
	do_recv(r, b, sizeof(b), 0, &m);
	x_true(m.r == 0 && m.fromlen == sizeof(w) && !memcmp(&m.from, &w, sizeof(w)),
	       fmt("recv %s from %s", res(m.r, m.e), sastr(&m.from, m.fromlen)),
	       fmt("recv 0 from %s", sastr(&w, sizeof(w))));
}

static void r6_11a(void)
{
	char b[16];
	int sp, r = with_msg(3, &sp);
	struct rmsg m;
	struct sockaddr_in w = sin4(A1, sp);

	if (r < 0)
		return;
	do_recv(r, b, sizeof(b), 0, &m);
	x_true(m.r == 3 && m.fromlen == sizeof(w) && !memcmp(&m.from, &w, sizeof(w)),
	       fmt("recv %s from %s", res(m.r, m.e), sastr(&m.from, m.fromlen)),
	       fmt("recv 3 from %s", sastr(&w, sizeof(w))));
}

static void r6_11b(void)
{
	int p2 = port(), p1 = port();
	int r = sock_at6("::1", p2), s = sock_at6("::1", p1);
	struct sockaddr_in6 to = sin6("::1", p2, 0), w = sin6("::1", p1, 0);

	if (r < 0 || s < 0)
		return;
	if (x_ret("sendto([::1]:p)", sendmsg_to(s, "six", 3, 0, &to, sizeof(to)), 3))
		expect_msg(r, "six", 3, &w, sizeof(w));
}

static void r6_12(void)
{
	char b[100];
	int r = with_msg(5, NULL);

	if (r >= 0)
		x_ret("recv(100, MSG_WAITALL)", recv(r, b, sizeof(b), MSG_WAITALL), 5);
}

/* read() receives like recv(). */
static void r6_14(void)
{
	char b[16];
	int r = with_msg(5, NULL);

	if (r >= 0)
		x_ret("read", read(r, b, sizeof(b)), 5);
}

static void stamp_row(int level, int opt, int cmsg_type, size_t cmsg_size)
{
	int p2 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, port());
	char b[16];
	struct rmsg m;
	struct cmsghdr *c;
	long long sec = 0, now = time(NULL);

	if (r < 0 || s < 0 ||
	    !x_ret(fmt("setsockopt(level %d, opt %d, 1)", level, opt), setint(r, level, opt, 1), 0))
		return;
	if (!x_ret("sendto", send4(s, "ts", 2, 0, A2, p2), 2))
		return;
	recv_wait(r, b, sizeof(b), 0, &m, WAIT_MS);
	c = find_cmsg(&m, SOL_SOCKET, cmsg_type);
	if (c && c->cmsg_len == CMSG_LEN(cmsg_size))
		memcpy(&sec, CMSG_DATA(c), sizeof(sec)); /* tv_sec first in both layouts */
	x_true(m.r == 2 && c && c->cmsg_len == CMSG_LEN(cmsg_size) && sec >= now - 5 &&
		       sec <= now + 5,
	       fmt("recv %s, cmsg type %d %s len %zu sec %lld", res(m.r, m.e), cmsg_type,
		   c ? "present" : "absent", c ? (size_t)c->cmsg_len : 0, sec),
	       fmt("recv 2, cmsg type %d present len %zu sec ~%lld", cmsg_type,
		   (size_t)CMSG_LEN(cmsg_size), now));
}

static void r6_13a(void)
{
	stamp_row(SOL_SOCKET, SO_TIMESTAMP_OLD, SO_TIMESTAMP_OLD, 16);
}
static void r6_13b(void)
{
	stamp_row(SOL_SOCKET, SO_TIMESTAMP_NEW, SO_TIMESTAMP_NEW, 16);
}
static void r6_13c(void)
{
	stamp_row(SOL_RDS, SO_TIMESTAMP_OLD, SO_TIMESTAMP_OLD, 16);
}

static void r6_13d(void)
{
	int p2 = port();
	int r = sock_at(A2, p2), s = sock_at(A1, port());
	struct rds_rx_trace_so tr = { 2, { 0, 1, 0 } };
	struct rds_cmsg_rx_trace t;
	char b[16];
	struct rmsg m;
	struct cmsghdr *c;

	if (r < 0 || s < 0 ||
	    !x_ret("SO_RDS_MSG_RXPATH_LATENCY {2, 0 1}",
		   setsockopt(r, SOL_RDS, SO_RDS_MSG_RXPATH_LATENCY, &tr, sizeof(tr)), 0))
		return;
	if (!x_ret("sendto", send4(s, "rx", 2, 0, A2, p2), 2))
		return;
	recv_wait(r, b, sizeof(b), 0, &m, WAIT_MS);
	c = find_cmsg(&m, SOL_RDS, RDS_CMSG_RXPATH_LATENCY);
	memset(&t, 0, sizeof(t));
	if (c)
		memcpy(&t, CMSG_DATA(c), sizeof(t));
	x_true(m.r == 2 && c && c->cmsg_len == CMSG_LEN(sizeof(t)) && t.rx_traces == 2 &&
		       t.rx_trace_pos[0] == 0 && t.rx_trace_pos[1] == 1,
	       fmt("recv %s, RXPATH_LATENCY cmsg %s len %zu rx_traces %u pos %u %u", res(m.r, m.e),
		   c ? "present" : "absent", c ? (size_t)c->cmsg_len : 0, t.rx_traces,
		   t.rx_trace_pos[0], t.rx_trace_pos[1]),
	       fmt("recv 2, RXPATH_LATENCY cmsg present len %zu rx_traces 2 pos 0 1",
		   (size_t)CMSG_LEN(sizeof(t))));
}

/* =======================================================================================
 * §7 poll
 */
static short poll1(int fd, short ev, int ms)
{
	struct pollfd pf = { fd, ev, 0 };

	return poll(&pf, 1, ms) < 0 ? -1 : pf.revents;
}

static void r7_1a(void)
{
	int fd = sock_at(A1, port());
	short m;

	if (fd < 0)
		return;
	m = poll1(fd, POLLIN | POLLOUT | POLLWRNORM, 0);
	x_true(m >= 0 && (m & (POLLOUT | POLLWRNORM)) == (POLLOUT | POLLWRNORM),
	       fmt("revents 0x%x", m), "revents has POLLOUT|POLLWRNORM (0x104)");
}

static void r7_1b(void)
{
	int fd = sock_new(0);
	short m;

	if (fd < 0)
		return;
	m = poll1(fd, POLLOUT, 0);
	x_true(m >= 0 && (m & POLLOUT), fmt("unbound revents 0x%x", m), "unbound revents POLLOUT");
}

static void r7_2(void)
{
	int r = with_msg(5, NULL);
	short m;

	if (r < 0)
		return;
	m = poll1(r, POLLIN | POLLRDNORM, 0);
	x_true(m >= 0 && (m & (POLLIN | POLLRDNORM)) == (POLLIN | POLLRDNORM),
	       fmt("revents 0x%x", m), "revents has POLLIN|POLLRDNORM (0x41)");
}

/* Once any initial congestion-generation wake is consumed, an idle socket is only writable. */
static void r7_3(void)
{
	int fd = sock_at(A1, port());
	short m;

	if (fd < 0)
		return;
	poll1(fd, POLLIN | POLLOUT, 0);
	m = poll1(fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLWRBAND | POLLPRI, 0);
	x_eq("second poll revents", m, POLLOUT | POLLWRNORM);
}

static void r7_6a(void)
{
	int r = with_msg(5, NULL);
	fd_set rd, wr;
	struct timeval tv = { 0, 0 };
	int n;

	if (r < 0)
		return;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(r, &rd);
	FD_SET(r, &wr);
	n = select(r + 1, &rd, &wr, NULL, &tv);
	x_true(n == 2 && FD_ISSET(r, &rd) && FD_ISSET(r, &wr),
	       fmt("select %d readable %d writable %d", n, !!FD_ISSET(r, &rd), !!FD_ISSET(r, &wr)),
	       "select 2 readable 1 writable 1");
}

static void r7_6b(void)
{
	int r = with_msg(5, NULL), ep, n;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT }, out;

	if (r < 0)
		return;
	ep = track(epoll_create1(0));
	if (!x_ret("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev), 0))
		return;
	n = epoll_wait(ep, &out, 1, 0);
	x_true(n == 1 && (out.events & (EPOLLIN | EPOLLOUT)) == (EPOLLIN | EPOLLOUT),
	       fmt("epoll_wait %d events 0x%x", n, n == 1 ? out.events : 0),
	       "epoll_wait 1 events EPOLLIN|EPOLLOUT");
}

/* =======================================================================================
 * RDS_INFO helpers (§12)
 */
/* getsockopt(SOL_RDS, opt) with the size-probe protocol. Returns `each` (> 0), *buf (free it)
 * and *len; or -1 with errno. */
static int info_get(int fd, int opt, uint8_t **buf, socklen_t *len)
{
	socklen_t l = 0;
	uint8_t *b = NULL;
	int r, i, e;

	for (i = 0; i < 8; i++) {
		r = getsockopt(fd, SOL_RDS, opt, b, &l);
		if (r > 0) {
			*buf = b;
			*len = l;
			return r;
		}
		e = r == 0 ? EPROTO : errno;
		free(b);
		if (e != ENOSPC) {
			errno = e;
			return -1;
		}
		l += 4096; /* room for growth between the probe and the call */
		b = malloc(l);
		if (!b)
			die("malloc");
	}
	errno = ENOSPC;
	return -1;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* rds_info_message (26): 0 seq, 8 len, 12 laddr, 16 faddr, 20 lport, 22 fport. Number of
 * entries matching (laddr, faddr, lport, fport); a 0 field matches anything. */
static int info_msgs(int opt, struct in_addr la, struct in_addr fa, int lp, int fp, int *each)
{
	int fd = socket_for(la, 0), n = 0, ea;
	uint8_t *b = NULL, *e;
	socklen_t len = 0, i;

	if (fd < 0)
		return -1;
	ea = info_get(fd, opt, &b, &len);
	close(fd);
	if (each)
		*each = ea;
	if (ea < 26) {
		free(b);
		return -1;
	}
	for (i = 0; i + (socklen_t)ea <= len; i += (socklen_t)ea) {
		e = b + i;
		if ((!la.s_addr || rd32(e + 12) == la.s_addr) &&
		    (!fa.s_addr || rd32(e + 16) == fa.s_addr) &&
		    (!lp || rd16(e + 20) == htons((uint16_t)lp)) &&
		    (!fp || rd16(e + 22) == htons((uint16_t)fp)))
			n++;
	}
	free(b);
	return n;
}

/* Whether the kernel serves ADDR1 -> ADDR2 with its loopback connection (transport
 * "loopback" in RDS_INFO_CONNECTIONS: both addresses local to one network namespace). That
 * connection has no congestion control (the receiver's bit lands in the sender's own map) and
 * sends a ping's pong to the pinged address: rows about those are skipped then. */
static int loop_conn(void)
{
	static int cached = -1;
	struct sockaddr_in a = sin4(A1, port());
	uint8_t *b = NULL;
	socklen_t len = 0, i;
	int s, each;

	if (cached >= 0)
		return cached;
	cached = 0;
	if (getenv("RDS_API_STRICT") && *getenv("RDS_API_STRICT"))
		return 0;
	s = socket_for(A1, 0);
	if (s < 0)
		return 0;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && send4(s, "", 0, 0, A2, port()) == 0) {
		each = info_get(s, RDS_INFO_CONNECTIONS, &b, &len);
		for (i = 0; each >= 42 && i + (socklen_t)each <= len; i += (socklen_t)each)
			if (rd32(b + i + 16) == A1.s_addr && rd32(b + i + 20) == A2.s_addr &&
			    !strncmp((char *)b + i + 24, "loopback", 16))
				cached = 1;
		free(b);
	}
	close(s);
	return cached;
}

/* =======================================================================================
 * §8 close, shutdown, other ops
 */
static void r8_1b(void)
{
	int p = port();
	int fd = sock_at(A1, p);
	struct sockaddr_in s = sin4(A1, p);
	int fd2 = sock_new(0);

	if (fd < 0 || fd2 < 0)
		return;
	close(fd);
	fds[0] = -1; /* fd was tracked first */
	x_ret("bind of the closed socket's addr:port", bind(fd2, (struct sockaddr *)&s, sizeof(s)),
	      0);
}

/* Unread received messages are freed with the socket. */
static void r8_1d(void)
{
	int sp, r = with_msg(7, &sp), n;
	struct in_addr any = { 0 };

	if (r < 0)
		return;
	n = info_msgs(RDS_INFO_RECV_MESSAGES, A2, any, 0, sp, NULL);
	if (!x_eq("RDS_INFO_RECV_MESSAGES entries before close", n, 1))
		return;
	close(fds[0]); /* r */
	fds[0] = -1;
	x_eq("entries after close", info_msgs(RDS_INFO_RECV_MESSAGES, A2, any, 0, sp, NULL), 0);
}

static void r8_2(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("shutdown(SHUT_RDWR)", shutdown(fd, SHUT_RDWR), EOPNOTSUPP);
}

static void r8_3a(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("listen", listen(fd, 5), EOPNOTSUPP);
}

static void r8_3b(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("accept", accept(fd, NULL, NULL), EOPNOTSUPP);
}

static void r8_3c(void)
{
	int sv[2] = { -1, -1 };
	int r = socketpair(AF_RDS, SOCK_SEQPACKET, 0, sv);

	track(sv[0]);
	track(sv[1]);
	x_err("socketpair", r, EOPNOTSUPP);
}

static void r8_4(void)
{
	int fd = sock_at(A1, port());
	void *m;

	if (fd < 0)
		return;
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED)
		munmap(m, 4096);
	x_err("mmap", m == MAP_FAILED ? -1 : 0, ENODEV);
}

static void name_row(int peer, const void *conn, socklen_t connlen, const void *w, socklen_t wl)
{
	struct sockaddr_in6 g;
	socklen_t gl = sizeof(g);
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (conn && !x_ret("connect", connect(fd, conn, connlen), 0))
		return;
	memset(&g, 0xff, sizeof(g));
	if (!x_ret(peer ? "getpeername" : "getsockname",
		   peer ? getpeername(fd, (struct sockaddr *)&g, &gl) :
			  getsockname(fd, (struct sockaddr *)&g, &gl),
		   0))
		return;
	x_true(gl == wl && !memcmp(&g, w, wl), fmt("%s", sastr(&g, gl)), fmt("%s", sastr(w, wl)));
}

static void r8_5b(void)
{
	struct sockaddr_in w;

	memset(&w, 0, sizeof(w));
	name_row(0, NULL, 0, &w, sizeof(w));
}

static void r8_5c(void)
{
	struct sockaddr_in c = sin4(A2, port()), w;

	memset(&w, 0, sizeof(w));
	w.sin_family = AF_INET;
	name_row(0, &c, sizeof(c), &w, sizeof(w));
}

static void r8_5d(void)
{
	struct sockaddr_in6 c = sin6("::1", port(), 0), w;

	memset(&w, 0, sizeof(w));
	w.sin6_family = AF_INET6;
	name_row(0, &c, sizeof(c), &w, sizeof(w));
}

static void r8_6a(void)
{
	struct sockaddr_in g;
	socklen_t gl = sizeof(g);
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("getpeername (not connected)", getpeername(fd, (struct sockaddr *)&g, &gl),
		      ENOTCONN);
}

static void r8_6b(void)
{
	struct sockaddr_in c = sin4(A2, port());

	name_row(1, &c, sizeof(c), &c, sizeof(c));
}

static void r8_6c(void)
{
	struct sockaddr_in6 c = sin6("::1", port(), 0);

	name_row(1, &c, sizeof(c), &c, sizeof(c));
}

/* =======================================================================================
 * §9 SOL_RDS options
 */
static void r9_1a(void)
{
	struct sockaddr_in a = sin4(A2, port());
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("RDS_CANCEL_SENT_TO (unbound)",
		      setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, &a, sizeof(a)), ENOTCONN);
}

static void r9_1b(void)
{
	struct sockaddr_in a = sin4(A2, port());
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("RDS_CANCEL_SENT_TO (unbound, optlen 8)",
		      setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, &a, 8), ENOTCONN);
}

static void r9_1c(void)
{
	struct sockaddr_in a = sin4(A2, port());
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("RDS_CANCEL_SENT_TO (optlen 8)",
		      setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, &a, 8), EINVAL);
}

static void r9_1d(void)
{
	struct sockaddr_in a = sin4(A2, port());
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_ret("RDS_CANCEL_SENT_TO (sockaddr_in)",
		      setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, &a, sizeof(a)), 0);
}

static void r9_1e(void)
{
	struct sockaddr_in6 a = sin6(fmt("::ffff:%s", A2s), port(), 0);
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_ret("RDS_CANCEL_SENT_TO (sockaddr_in6 v4-mapped)",
		      setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, &a, sizeof(a)), 0);
}

static void r9_1f(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("getsockopt(RDS_CANCEL_SENT_TO)",
		      getsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, &a, &l), ENOPROTOOPT);
}

static void r9_1h(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("RDS_CANCEL_SENT_TO (NULL, 16)",
		      setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, NULL, 16), EFAULT);
}

static void r9_2a(void)
{
	int fd = sock_new(0), v;

	if (fd < 0 || !x_ret("set RDS_RECVERR 1", setint(fd, SOL_RDS, RDS_RECVERR, 1), 0))
		return;
	if (x_ret("get RDS_RECVERR", getint(fd, SOL_RDS, RDS_RECVERR, &v), 0))
		x_eq("value", v, 1);
}

static void r9_2b(void)
{
	int fd = sock_new(0), v = 1;

	if (fd >= 0)
		x_err("set RDS_RECVERR optlen 2", setsockopt(fd, SOL_RDS, RDS_RECVERR, &v, 2),
		      EINVAL);
}

static void r9_2c(void)
{
	int fd = sock_new(0), v = 0;
	socklen_t l = 2;

	if (fd >= 0)
		x_err("get RDS_RECVERR optlen 2", getsockopt(fd, SOL_RDS, RDS_RECVERR, &v, &l),
		      EINVAL);
}

static void r9_3a(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_ret("set RDS_CONG_MONITOR 1", setint(fd, SOL_RDS, RDS_CONG_MONITOR, 1), 0);
}

static void r9_3b(void)
{
	int fd = sock_at(A1, port()), v = 1;

	if (fd >= 0)
		x_err("set RDS_CONG_MONITOR optlen 2",
		      setsockopt(fd, SOL_RDS, RDS_CONG_MONITOR, &v, 2), EINVAL);
}

static void r9_3c(void)
{
	int fd = sock_at(A1, port()), v;

	if (fd < 0 || !x_ret("set RDS_CONG_MONITOR 1", setint(fd, SOL_RDS, RDS_CONG_MONITOR, 1), 0))
		return;
	x_err("get RDS_CONG_MONITOR", getint(fd, SOL_RDS, RDS_CONG_MONITOR, &v), ENOPROTOOPT);
}

static void r9_4a(void)
{
	int fd = sock_new(0);

	if (fd < 0 || !x_ret("set SO_RDS_TRANSPORT 2",
			     setint(fd, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), 0))
		return;
	x_eq("get SO_RDS_TRANSPORT", transport_of(fd), RDS_TRANS_TCP);
}

static void r9_4b(void)
{
	int fd = sock_new(0);

	if (fd < 0 || !x_ret("set SO_RDS_TRANSPORT 2",
			     setint(fd, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), 0))
		return;
	x_err("set again", setint(fd, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), EOPNOTSUPP);
}

static void r9_4c(void)
{
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("set SO_RDS_TRANSPORT 2 on a bound socket",
		      setint(fd, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), EOPNOTSUPP);
}

/* Already attached is checked before optlen. */
static void r9_4d(void)
{
	long long v = RDS_TRANS_TCP;
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("set SO_RDS_TRANSPORT optlen 8 on a bound socket",
		      setsockopt(fd, SOL_RDS, SO_RDS_TRANSPORT, &v, sizeof(v)), EOPNOTSUPP);
}

static void r9_4e(void)
{
	long long v = RDS_TRANS_TCP;
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("set SO_RDS_TRANSPORT optlen 8",
		      setsockopt(fd, SOL_RDS, SO_RDS_TRANSPORT, &v, sizeof(v)), EINVAL);
}

static void trans_val_row(int v, int wante)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err(fmt("set SO_RDS_TRANSPORT %d", v), setint(fd, SOL_RDS, SO_RDS_TRANSPORT, v),
		      wante);
}

/* Whether this thread is in the initial network namespace (as far as /proc/1 tells). */
static int in_init_netns(void)
{
	char a[64] = "", b[64] = "";

	if (readlink("/proc/self/ns/net", a, sizeof(a) - 1) < 0 ||
	    readlink("/proc/1/ns/net", b, sizeof(b) - 1) < 0)
		return 1;
	return !strcmp(a, b);
}

/* KERNEL (stable 2026 "RDS/IB is restricted to the initial network namespace", in Debian
 * 6.1.0-56): outside init_net, any transport but TCP is EPROTOTYPE. */
static void trans_unavail_row(int v)
{
	trans_val_row(v, in_init_netns() ? ENOPROTOOPT : EPROTOTYPE);
}

static void r9_4f(void)
{
	trans_val_row(RDS_TRANS_NONE, EINVAL);
}
static void r9_4g(void)
{
	trans_val_row(RDS_TRANS_COUNT, EINVAL);
}
static int rds_rdma_loaded(void)
{
	return access("/sys/module/rds_rdma", F_OK) == 0;
}

static void r9_4h(void)
{
	trans_unavail_row(RDS_TRANS_GAP);
}

/* KERNEL: in init_net, newer kernels load rds_rdma for this; then it succeeds. */
static void r9_4i(void)
{
	int fd = sock_new(0), loaded;
	long r;
	int init = in_init_netns(), e;

	if (fd < 0)
		return;
	r = setint(fd, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_IB);
	e = errno;
	loaded = rds_rdma_loaded();
	errno = e;
	if (!init)
		x_err("set SO_RDS_TRANSPORT 0 (not init_net)", r, EPROTOTYPE);
	else if (loaded)
		x_ret("set SO_RDS_TRANSPORT 0 (rds_rdma loaded)", r, 0);
	else
		x_err("set SO_RDS_TRANSPORT 0 (no rds_rdma)", r, ENOPROTOOPT);
}

static void r9_4j(void)
{
	int fd = sock_new(0), v = 0;
	socklen_t l = 2;

	if (fd >= 0)
		x_err("get SO_RDS_TRANSPORT optlen 2",
		      getsockopt(fd, SOL_RDS, SO_RDS_TRANSPORT, &v, &l), EINVAL);
}

/* The kernel's rule: 127/8 and ::1 bind to the loopback transport (3), others to TCP (2). */
static void r9_4k(void)
{
	int fd = sock_at(A1, port());
	int w = (ntohl(A1.s_addr) >> 24) == 127 ? RDS_TRANS_LOOP : RDS_TRANS_TCP;

	if (fd >= 0)
		x_eq(fmt("SO_RDS_TRANSPORT of a socket bound to %s", A1s), transport_of(fd), w);
}

static void r9_4l(void)
{
	int fd = sock_at6("::1", port());

	if (fd >= 0)
		x_eq("SO_RDS_TRANSPORT of a socket bound to ::1", transport_of(fd), RDS_TRANS_LOOP);
}

/* UEK's RDS_CONN_RESET (8, 12 bytes) is SO_RDS_TRANSPORT in mainline. */
static void r9_4m(void)
{
	char reset[12] = { 0 };
	int u = sock_new(0), b = sock_at(A1, port());

	if (u < 0 || b < 0)
		return;
	if (x_err("RDS_CONN_RESET-style optname 8, 12 bytes, unbound",
		  setsockopt(u, SOL_RDS, 8, reset, sizeof(reset)), EINVAL))
		x_err("same, bound", setsockopt(b, SOL_RDS, 8, reset, sizeof(reset)), EOPNOTSUPP);
}

static void rx_row(const void *v, socklen_t len, int wante, const char *what)
{
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (wante)
		x_err(what, setsockopt(fd, SOL_RDS, SO_RDS_MSG_RXPATH_LATENCY, v, len), wante);
	else
		x_ret(what, setsockopt(fd, SOL_RDS, SO_RDS_MSG_RXPATH_LATENCY, v, len), 0);
}

static void r9_5a(void)
{
	struct rds_rx_trace_so t = { 3, { 0, 1, 2 } };

	rx_row(&t, sizeof(t), 0, "RXPATH_LATENCY {3, 0 1 2}");
}

static void r9_5b(void)
{
	uint8_t t[8] = { 1, 0, 0, 0 };

	rx_row(t, sizeof(t), EFAULT, "RXPATH_LATENCY optlen 8");
}

static void r9_5c(void)
{
	struct rds_rx_trace_so t = { 4, { 0, 1, 2 } };

	rx_row(&t, sizeof(t), EFAULT, "RXPATH_LATENCY rx_traces 4");
}

static void r9_5d(void)
{
	struct rds_rx_trace_so t = { 3, { 0, 1, 3 } };

	rx_row(&t, sizeof(t), EFAULT, "RXPATH_LATENCY {3, 0 1 3}");
}

/* KERNEL: only the rx_traces positions in use are checked (spec: any pos >= 3 -> EFAULT). */
static void r9_5e(void)
{
	struct rds_rx_trace_so t = { 1, { 0, 7, 7 } };

	rx_row(&t, sizeof(t), 0, "RXPATH_LATENCY {1, 0 7 7}");
}

static void r9_5f(void)
{
	struct rds_rx_trace_so t;
	socklen_t l = sizeof(t);
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("get RXPATH_LATENCY",
		      getsockopt(fd, SOL_RDS, SO_RDS_MSG_RXPATH_LATENCY, &t, &l), ENOPROTOOPT);
}

static void ts_row(int opt, socklen_t len, int wante)
{
	long long v = 1;
	int fd = sock_new(0);

	if (fd < 0)
		return;
	if (wante)
		x_err(fmt("SOL_RDS opt %d optlen %u", opt, len),
		      setsockopt(fd, SOL_RDS, opt, &v, len), wante);
	else
		x_ret(fmt("SOL_RDS opt %d optlen %u", opt, len),
		      setsockopt(fd, SOL_RDS, opt, &v, len), 0);
}

static void r9_6a(void)
{
	ts_row(SO_TIMESTAMP_OLD, 4, 0);
}
static void r9_6b(void)
{
	ts_row(SO_TIMESTAMP_OLD, 2, EFAULT);
}
static void r9_6c(void)
{
	ts_row(SO_TIMESTAMP_OLD, 8, EFAULT);
}
static void r9_6d(void)
{
	ts_row(SO_TIMESTAMP_NEW, 4, 0);
}

static void r9_6e(void)
{
	int fd = sock_new(0), v;

	if (fd >= 0)
		x_err("get SOL_RDS SO_TIMESTAMP", getint(fd, SOL_RDS, SO_TIMESTAMP_OLD, &v),
		      ENOPROTOOPT);
}

static struct rds_get_mr_args mr_args(void)
{
	static char region[8192];
	static uint64_t cookie;
	struct rds_get_mr_args a;

	memset(&a, 0, sizeof(a));
	a.vec.addr = (uintptr_t)region;
	a.vec.bytes = sizeof(region);
	a.cookie_addr = (uintptr_t)&cookie;
	return a;
}

static void r9_7a(void)
{
	struct rds_get_mr_args a = mr_args();
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("RDS_GET_MR optlen 8", setsockopt(fd, SOL_RDS, RDS_GET_MR, &a, 8), EINVAL);
}

static void r9_7b(void)
{
	struct rds_get_mr_args a = mr_args();
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("RDS_GET_MR (unbound)", setsockopt(fd, SOL_RDS, RDS_GET_MR, &a, sizeof(a)),
		      ENOTCONN);
}

static void r9_7c(void)
{
	struct rds_get_mr_args a = mr_args();
	int fd = sock_new(0);

	if (fd < 0 || !x_ret("SO_RDS_TRANSPORT 2", setint(fd, SOL_RDS, SO_RDS_TRANSPORT, 2), 0))
		return;
	x_err("RDS_GET_MR (unbound, transport set)",
	      setsockopt(fd, SOL_RDS, RDS_GET_MR, &a, sizeof(a)), ENOTCONN);
}

static void r9_7d(void)
{
	struct rds_get_mr_args a = mr_args();
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("RDS_GET_MR (bound)", setsockopt(fd, SOL_RDS, RDS_GET_MR, &a, sizeof(a)),
		      EOPNOTSUPP);
}

static void r9_7e(void)
{
	struct rds_get_mr_args g = mr_args();
	struct rds_get_mr_for_dest_args a;
	struct sockaddr_in d = sin4(A2, port());
	int fd = sock_at(A1, port());

	if (fd < 0)
		return;
	memset(&a, 0, sizeof(a));
	memcpy(&a.dest_addr, &d, sizeof(d));
	a.vec = g.vec;
	a.cookie_addr = g.cookie_addr;
	x_err("RDS_GET_MR_FOR_DEST (bound)",
	      setsockopt(fd, SOL_RDS, RDS_GET_MR_FOR_DEST, &a, sizeof(a)), EOPNOTSUPP);
}

static void r9_7f(void)
{
	struct rds_free_mr_args a = { 0x1234, 0 };
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("RDS_FREE_MR unknown key",
		      setsockopt(fd, SOL_RDS, RDS_FREE_MR, &a, sizeof(a)), EINVAL);
}

static void r9_7g(void)
{
	struct rds_free_mr_args a = { 0x1234, 0 };
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("RDS_FREE_MR optlen 8", setsockopt(fd, SOL_RDS, RDS_FREE_MR, &a, 8), EINVAL);
}

static void r9_7h(void)
{
	struct rds_get_mr_args a;
	socklen_t l = sizeof(a);
	int fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("get RDS_GET_MR", getsockopt(fd, SOL_RDS, RDS_GET_MR, &a, &l), ENOPROTOOPT);
}

static void r9_8(void)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("set RDS_INFO_COUNTERS", setint(fd, SOL_RDS, RDS_INFO_COUNTERS, 0),
		      ENOPROTOOPT);
}

static void r9_9a(void)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("set SOL_RDS optname 99", setint(fd, SOL_RDS, 99, 1), ENOPROTOOPT);
}

static void r9_9b(void)
{
	int fd = sock_new(0), v;

	if (fd >= 0)
		x_err("get SOL_RDS optname 99", getint(fd, SOL_RDS, 99, &v), ENOPROTOOPT);
}

static void r9_9c(void)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("set SOL_RDS optname 4 (old BARRIER)", setint(fd, SOL_RDS, 4, 1),
		      ENOPROTOOPT);
}

static void r9_9d(void)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("setsockopt(IPPROTO_TCP, TCP_NODELAY)", setint(fd, IPPROTO_TCP, 1, 1),
		      ENOPROTOOPT);
}

static void r9_9e(void)
{
	int fd = sock_new(0), v;

	if (fd >= 0)
		x_err("getsockopt(IPPROTO_IP, IP_TOS)", getint(fd, IPPROTO_IP, IP_TOS, &v),
		      ENOPROTOOPT);
}

/* =======================================================================================
 * §10 SOL_SOCKET options
 */
static void buf_row(int opt)
{
	int fd = sock_new(0), v;

	if (fd < 0 || !x_ret("set 10000", setint(fd, SOL_SOCKET, opt, 10000), 0))
		return;
	if (x_ret("get", getint(fd, SOL_SOCKET, opt, &v), 0))
		x_eq("value", v, 20000);
}

static void r10_1(void)
{
	buf_row(SO_SNDBUF);
}
static void r10_2(void)
{
	buf_row(SO_RCVBUF);
}

static void r10_6(void)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_ret("SO_ZEROCOPY 1", setint(fd, SOL_SOCKET, SO_ZEROCOPY, 1), 0);
}

static void int_row(int opt, int w)
{
	int fd = sock_new(0), v;

	if (fd >= 0 && x_ret("getsockopt", getint(fd, SOL_SOCKET, opt, &v), 0))
		x_eq("value", v, w);
}

static void r10_7a(void)
{
	int_row(SO_TYPE, SOCK_SEQPACKET);
}
static void r10_7b(void)
{
	int_row(SO_DOMAIN, AF_RDS);
}
static void r10_7c(void)
{
	int_row(SO_PROTOCOL, 0);
}
static void r10_7d(void)
{
	int_row(SO_ERROR, 0);
}

static void r10_8(void)
{
	struct linger lg = { 1, 1 };
	int fd = sock_new(0);

	if (fd < 0)
		return;
	x_ret("SO_REUSEADDR", setint(fd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	x_ret("SO_PRIORITY", setint(fd, SOL_SOCKET, SO_PRIORITY, 3), 0);
	x_ret("SO_LINGER", setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
}

/* =======================================================================================
 * §11 accounting, §12 RDS_INFO_*
 */
/* rds_info_socket (28): 0 sndbuf, 4 bound_addr, 8 connected_addr, 12 bound_port,
 * 14 connected_port, 16 rcvbuf, 20 inode. */
static void r11_3(void)
{
	int p = port(), fd = sock_at(A1, p), each, found = 0;
	uint8_t *b = NULL;
	socklen_t len = 0, i;
	uint32_t sb = 0, rb = 0;

	if (fd < 0 || setint(fd, SOL_SOCKET, SO_SNDBUF, 10000) < 0 ||
	    setint(fd, SOL_SOCKET, SO_RCVBUF, 12000) < 0)
		return;
	each = info_get(fd, RDS_INFO_SOCKETS, &b, &len);
	if (!x_ret("RDS_INFO_SOCKETS", each, 28)) {
		free(b);
		return;
	}
	for (i = 0; i + 28 <= len; i += 28)
		if (rd32(b + i + 4) == A1.s_addr && rd16(b + i + 12) == htons((uint16_t)p)) {
			found++;
			sb = rd32(b + i);
			rb = rd32(b + i + 16);
		}
	free(b);
	x_true(found == 1 && sb == 10000 && rb == 12000,
	       fmt("%d entries, sndbuf %u rcvbuf %u", found, sb, rb),
	       "1 entries, sndbuf 10000 rcvbuf 12000");
}

static void r12_1(void)
{
	int fd = sock_new(0);
	char b[64];
	socklen_t l = (socklen_t)-1;

	if (fd >= 0)
		x_err("RDS_INFO_COUNTERS optlen -1",
		      getsockopt(fd, SOL_RDS, RDS_INFO_COUNTERS, b, &l), EINVAL);
}

static void r12_2(void)
{
	int fd = sock_new(0);
	socklen_t l = 0;

	if (fd < 0 || !x_err("RDS_INFO_COUNTERS probe (NULL, 0)",
			     getsockopt(fd, SOL_RDS, RDS_INFO_COUNTERS, NULL, &l), ENOSPC))
		return;
	x_true(l >= 36 * 40 && l % 40 == 0, fmt("optlen %u", l),
	       "optlen >= 36 * 40, multiple of 40");
}

static void r12_3(void)
{
	int fd = sock_new(0);
	char b[40];
	socklen_t l = sizeof(b);

	if (fd < 0 || !x_err("RDS_INFO_COUNTERS 40-byte buffer",
			     getsockopt(fd, SOL_RDS, RDS_INFO_COUNTERS, b, &l), ENOSPC))
		return;
	x_true(l >= 36 * 40 && l % 40 == 0, fmt("optlen %u", l),
	       "optlen >= 36 * 40, multiple of 40");
}

static void r12_4(void)
{
	static const char *const names[] = {
		"conn_reset",
		"recv_drop_bad_checksum",
		"recv_drop_old_seq",
		"recv_drop_no_sock",
		"recv_drop_dead_sock",
		"recv_deliver_raced",
		"recv_delivered",
		"recv_queued",
		"recv_immediate_retry",
		"recv_delayed_retry",
		"recv_ack_required",
		"recv_rdma_bytes",
		"recv_ping",
		"send_queue_empty",
		"send_queue_full",
		"send_lock_contention",
		"send_lock_queue_raced",
		"send_immediate_retry",
		"send_delayed_retry",
		"send_drop_acked",
		"send_ack_required",
		"send_queued",
		"send_rdma",
		"send_rdma_bytes",
		"send_pong",
		"page_remainder_hit",
		"page_remainder_miss",
		"copy_to_user",
		"copy_from_user",
		"cong_update_queued",
		"cong_update_received",
		"cong_send_error",
		"cong_send_blocked",
		"recv_bytes_added_to_sock",
		"recv_bytes_freed_fromsock",
		"send_stuck_rm",
	};
	int fd = sock_new(0), each, i, bad = -1;
	uint8_t *b = NULL;
	socklen_t len = 0;

	if (fd < 0)
		return;
	each = info_get(fd, RDS_INFO_COUNTERS, &b, &len);
	if (x_ret("RDS_INFO_COUNTERS", each, 40) &&
	    x_true(len >= 36 * 40 && len % 40 == 0, fmt("optlen %u", len),
		   "optlen >= 1440, multiple of 40")) {
		for (i = 0; i < 36 && bad < 0; i++)
			if (strncmp((char *)b + i * 40, names[i], 32))
				bad = i;
		x_true(bad < 0,
		       bad < 0 ? "36 core names in order" :
				 fmt("name %d = \"%.32s\"", bad, (char *)b + bad * 40),
		       bad < 0 ? "36 core names in order" :
				 fmt("name %d = \"%s\"", bad, names[bad]));
	}
	free(b);
}

/* The v4 SOCKETS list omits unbound sockets; RDS6_INFO_SOCKETS lists them (by inode). */
static int sockets_has_inode(int opt, int each_want, unsigned long long ino, int *each)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 0), n = 0;
	int off = each_want == 28 ? 20 : 44;
	uint8_t *b = NULL;
	socklen_t len = 0, i;
	unsigned long long v;

	if (fd < 0)
		return -1;
	*each = info_get(fd, opt, &b, &len);
	close(fd);
	if (*each != each_want) {
		free(b);
		return -1;
	}
	for (i = 0; i + (socklen_t)each_want <= len; i += (socklen_t)each_want) {
		memcpy(&v, b + i + off, 8);
		if (v == ino)
			n++;
	}
	free(b);
	return n;
}

static unsigned long long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

static void r12_5a(void)
{
	int p = port(), fd = sock_at(A1, p), each, n;

	if (fd < 0)
		return;
	n = sockets_has_inode(RDS_INFO_SOCKETS, 28, inode_of(fd), &each);
	if (x_ret("RDS_INFO_SOCKETS", each, 28))
		x_eq("entries with the bound socket's inode", n, 1);
}

static void r12_5b(void)
{
	int fd = sock_new(0), each, n;

	if (fd < 0)
		return;
	n = sockets_has_inode(RDS_INFO_SOCKETS, 28, inode_of(fd), &each);
	if (x_ret("RDS_INFO_SOCKETS", each, 28))
		x_eq("entries with the unbound socket's inode", n, 0);
}

static void r12_5c(void)
{
	int fd = sock_new(0), each, n;

	if (fd < 0)
		return;
	n = sockets_has_inode(RDS6_INFO_SOCKETS, 52, inode_of(fd), &each);
	if (x_ret("RDS6_INFO_SOCKETS", each, 52))
		x_eq("entries with the unbound socket's inode", n, 1);
}

/* rds_info_connection (42): 16 laddr, 20 faddr. */
static void r12_6a(void)
{
	int p2 = port(), r = sock_at(A2, p2), s = sock_at(A1, port()), each, n = 0;
	uint8_t *b = NULL;
	socklen_t len = 0, i;

	if (r < 0 || s < 0 || !x_ret("sendto", send4(s, "c", 1, 0, A2, p2), 1))
		return;
	each = info_get(s, RDS_INFO_CONNECTIONS, &b, &len);
	if (x_ret("RDS_INFO_CONNECTIONS", each, 42)) {
		for (i = 0; i + 42 <= len; i += 42)
			if (rd32(b + i + 16) == A1.s_addr && rd32(b + i + 20) == A2.s_addr)
				n++;
		x_eq("entries ADDR1 -> ADDR2", n, 1);
	}
	free(b);
}

/* rds6_info_connection (65): 16 laddr[16], 32 faddr[16]; v4 connections as v4-mapped. */
static void r12_6b(void)
{
	int p2 = port(), r = sock_at(A2, p2), s = sock_at(A1, port()), each, n = 0;
	uint8_t *b = NULL, la[16] = { [10] = 0xff, [11] = 0xff }, fa[16];
	socklen_t len = 0, i;

	if (r < 0 || s < 0 || !x_ret("sendto", send4(s, "c", 1, 0, A2, p2), 1))
		return;
	memcpy(fa, la, 16);
	memcpy(la + 12, &A1, 4);
	memcpy(fa + 12, &A2, 4);
	each = info_get(s, RDS6_INFO_CONNECTIONS, &b, &len);
	if (x_ret("RDS6_INFO_CONNECTIONS", each, 65)) {
		for (i = 0; i + 65 <= len; i += 65)
			if (!memcmp(b + i + 16, la, 16) && !memcmp(b + i + 32, fa, 16))
				n++;
		x_eq("entries ::ffff:ADDR1 -> ::ffff:ADDR2", n, 1);
	}
	free(b);
}

/* An unread message at the receiver: laddr = its bound addr, lport = h_dport. */
static void r12_8a(void)
{
	int sp, r = with_msg(9, &sp), each, n;
	struct in_addr any = { 0 };
	(void)any;

	if (r < 0)
		return;
	n = info_msgs(RDS_INFO_RECV_MESSAGES, A2, A1, 0, sp, &each);
	if (x_ret("RDS_INFO_RECV_MESSAGES", each, 26))
		x_eq("entries laddr ADDR2 faddr ADDR1 fport = sender port", n, 1);
}

/* `each` of a list (success with entries, or an empty list: the probe answers each). */
static void each_row(int opt, int w)
{
	int fd = sock_new(0);
	uint8_t *b = NULL;
	socklen_t len = 0;

	if (fd < 0)
		return;
	x_ret(fmt("RDS_INFO %d each", opt), info_get(fd, opt, &b, &len), w);
	x_true(len % (socklen_t)w == 0, fmt("optlen %u", len), fmt("optlen multiple of %d", w));
	free(b);
}

static void r12_7a(void)
{
	each_row(RDS_INFO_SEND_MESSAGES, 26);
}
static void r12_7b(void)
{
	each_row(RDS_INFO_RETRANS_MESSAGES, 26);
}
static void r12_7c(void)
{
	each_row(RDS6_INFO_SEND_MESSAGES, 50);
}
static void r12_7d(void)
{
	each_row(RDS6_INFO_RETRANS_MESSAGES, 50);
}
static void r12_8b(void)
{
	each_row(RDS6_INFO_RECV_MESSAGES, 50);
}
static void r12_9a(void)
{
	each_row(RDS_INFO_TCP_SOCKETS, 41);
}
static void r12_9b(void)
{
	each_row(RDS6_INFO_TCP_SOCKETS, 64);
}

static void noinfo_row(int opt)
{
	int fd = sock_new(0);
	char b[64];
	socklen_t l = sizeof(b);

	if (fd >= 0)
		x_err(fmt("getsockopt(%d)", opt), getsockopt(fd, SOL_RDS, opt, b, &l), ENOPROTOOPT);
}

static void r12_10a(void)
{
	noinfo_row(10002);
}
static void r12_10b(void)
{
	noinfo_row(10009);
}
static void r12_10c(void)
{
	noinfo_row(10010);
}
/* Registered by rds_rdma (which row 9.4i may have loaded): then a list like the others. */
static void ib_info_row(int opt, int each)
{
	if (rds_rdma_loaded())
		each_row(opt, each);
	else
		noinfo_row(opt);
}

static void r12_10d(void)
{
	ib_info_row(RDS_INFO_IB_CONNECTIONS, 68);
}
static void r12_10e(void)
{
	ib_info_row(RDS6_INFO_IB_CONNECTIONS, 92);
}

/* =======================================================================================
 * §13 ioctl
 */
static void r13_1a(void)
{
	rds_tos_t t = 1;
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("SIOCRDSSETTOS (unbound)", ioctl(fd, SIOCRDSSETTOS, &t), ENOTTY);
}

/* KERNEL: the argument is read before anything else. */
static void r13_1b(void)
{
	int fd = sock_new(0);

	if (fd >= 0)
		x_err("SIOCRDSSETTOS (unbound, NULL)", ioctl(fd, SIOCRDSSETTOS, NULL), EFAULT);
}

/* TCP maps every TOS to 0: the call succeeds, and SIOCRDSGETTOS reads 0. */
static void r13_1c(void)
{
	rds_tos_t t = 5;
	unsigned char g[2] = { 0xff, 0xff };
	int fd = sock_at(A1, port()), tr;

	if (fd < 0)
		return;
	tr = transport_of(fd);
	if (tr == RDS_TRANS_LOOP) {
		x_err("SIOCRDSSETTOS on the loopback transport", ioctl(fd, SIOCRDSSETTOS, &t),
		      ENOTTY);
		return;
	}
	if (!x_ret("SIOCRDSSETTOS 5 (TCP)", ioctl(fd, SIOCRDSSETTOS, &t), 0) ||
	    !x_ret("SIOCRDSGETTOS", ioctl(fd, SIOCRDSGETTOS, g), 0))
		return;
	x_true(g[0] == 0 && g[1] == 0xff, fmt("tos bytes %02x %02x", g[0], g[1]),
	       "tos bytes 00 ff (one byte written)");
}

static void r13_1d(void)
{
	rds_tos_t t = 5;
	int fd = sock_at(A1, port());

	if (fd < 0)
		return;
	if (transport_of(fd) == RDS_TRANS_LOOP) {
		skip("loopback transport: no TOS");
		return;
	}
	if (x_ret("sendto", send4(fd, "t", 1, 0, A2, port()), 1))
		x_err("SIOCRDSSETTOS after a send", ioctl(fd, SIOCRDSSETTOS, &t), EINVAL);
}

static void r13_1e(void)
{
	rds_tos_t t = 5;
	int fd = sock_new(0);

	if (fd < 0 || !x_ret("SO_RDS_TRANSPORT 2", setint(fd, SOL_RDS, SO_RDS_TRANSPORT, 2), 0))
		return;
	x_ret("SIOCRDSSETTOS (unbound, TCP transport set)", ioctl(fd, SIOCRDSSETTOS, &t), 0);
}

static void r13_1f(void)
{
	rds_tos_t t = 5;
	int fd = sock_at6("::1", port()), tr;

	if (fd < 0)
		return;
	tr = transport_of(fd);
	if (tr == RDS_TRANS_LOOP)
		x_err("SIOCRDSSETTOS on ::1 (transport 3)", ioctl(fd, SIOCRDSSETTOS, &t), ENOTTY);
	else
		x_ret(fmt("SIOCRDSSETTOS on ::1 (transport %d)", tr), ioctl(fd, SIOCRDSSETTOS, &t),
		      0);
}

static void r13_2(void)
{
	unsigned char g[2] = { 0xff, 0xff };
	int fd = sock_new(0);

	if (fd < 0 || !x_ret("SIOCRDSGETTOS (unbound)", ioctl(fd, SIOCRDSGETTOS, g), 0))
		return;
	x_true(g[0] == 0 && g[1] == 0xff, fmt("tos bytes %02x %02x", g[0], g[1]),
	       "tos bytes 00 ff");
}

static void ioctl_row(unsigned long req, const char *name)
{
	int v = 0, fd = sock_at(A1, port());

	if (fd >= 0)
		x_err(name, ioctl(fd, req, &v), ENOTTY);
}

static void r13_3a(void)
{
	ioctl_row(FIONREAD, "FIONREAD");
}
static void r13_3b(void)
{
	ioctl_row(SIOCOUTQ, "SIOCOUTQ");
}
static void r13_3c(void)
{
	ioctl_row(SIOCGSTAMP, "SIOCGSTAMP");
}
static void r13_3d(void)
{
	ioctl_row(SIOCPROTOPRIVATE + 5, "SIOCPROTOPRIVATE+5");
}

/* SIOCDEVPRIVATE.. is the device layer's: ENODEV, before the protocol sees it. */
static void r13_3e(void)
{
	int v = 0, fd = sock_at(A1, port());

	if (fd >= 0)
		x_err("SIOCDEVPRIVATE", ioctl(fd, SIOCDEVPRIVATE, &v), ENODEV);
}

static void r13_4a(void)
{
	int on = 1, fd = sock_at(A1, port());
	char b[8];

	if (fd < 0 || !x_ret("FIONBIO 1", ioctl(fd, FIONBIO, &on), 0))
		return;
	x_err("recv", recv(fd, b, sizeof(b), 0), EAGAIN);
}

static void r13_4b(void)
{
	int fd = sock_new(0);

	if (fd < 0 || !x_ret("FIOCLEX", ioctl(fd, FIOCLEX), 0))
		return;
	x_true(fcntl(fd, F_GETFD) & FD_CLOEXEC, "FD_CLOEXEC clear", "FD_CLOEXEC set");
}

/* =======================================================================================
 * Full send queue (§5 row 19, §7, §8 close, §9 cancel): messages to DEAD_ADDR are never
 * acknowledged, so they stay in the send buffer.
 */
/* A socket at ADDR1:*p with SO_SNDBUF 4096 and 4096 bytes queued to DEAD_ADDR:*dp. */
static int fill_dead(int *p, int *dp)
{
	int fd;

	*p = port();
	*dp = port();
	fd = sock_at(A1, *p);
	if (fd < 0 || !x_ret("SO_SNDBUF=4096", setint(fd, SOL_SOCKET, SO_SNDBUF, 4096), 0) ||
	    !x_ret("sendto(dead peer, 4096, MSG_DONTWAIT)",
		   send4(fd, big, 4096, MSG_DONTWAIT, DEAD, *dp), 4096))
		return -1;
	return fd;
}

static void r5_19a(void)
{
	int p, dp, fd = fill_dead(&p, &dp);

	if (fd >= 0)
		x_err("sendto(1, MSG_DONTWAIT) with a full queue",
		      send4(fd, "x", 1, MSG_DONTWAIT, DEAD, dp), EAGAIN);
}

static void r5_19b(void)
{
	int p, dp, fd = fill_dead(&p, &dp);

	if (fd >= 0)
		x_err("sendto(0 bytes, MSG_DONTWAIT) with a full queue",
		      send4(fd, "", 0, MSG_DONTWAIT, DEAD, dp), EAGAIN);
}

/* Blocking with SO_SNDTIMEO: ETIMEDOUT. KERNEL <= 6.19: a blocking send from a socket whose
 * multipath hash is not 0 first waits (no timeout) for the handshake with the (dead) peer;
 * a signal ends that wait. Such sockets are retried with a new one (the hash is random). */
static void r5_19c(void)
{
	struct timeval tv = { 0, 100000 };
	int i, p, dp, fd, e = 0;
	long r = 0;
	long long t0 = 0, el = 0;

	for (i = 0; i < 30; i++) {
		fd = fill_dead(&p, &dp);
		if (fd < 0)
			return;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		t0 = now_ms();
		intr_arm(300);
		r = send4(fd, "x", 1, 0, DEAD, dp);
		e = errno;
		intr_disarm();
		el = now_ms() - t0;
		close_all();
		if (!(r == -1 && e == EINTR))
			break;
	}
	errno = e;
	if (x_err(fmt("blocking sendto, SO_SNDTIMEO 100 ms (socket %d)", i + 1), r, ETIMEDOUT))
		x_true(el >= 80, fmt("-1 ETIMEDOUT after %lld ms (socket %d)", el, i + 1),
		       "-1 ETIMEDOUT after >= 80 ms");
}

static void r7_4(void)
{
	int p, dp, fd = fill_dead(&p, &dp);
	short m;

	if (fd < 0)
		return;
	m = poll1(fd, POLLOUT | POLLWRNORM, 0);
	x_true(m >= 0 && !(m & (POLLOUT | POLLWRNORM)), fmt("revents 0x%x", m),
	       "revents without POLLOUT|POLLWRNORM");
}

static void r8_1a(void)
{
	int p, dp, fd = fill_dead(&p, &dp);
	long long t0;

	if (fd < 0)
		return;
	t0 = now_ms();
	close(fds[0]);
	fds[0] = -1;
	x_true(now_ms() - t0 < 500, fmt("close took %lld ms", now_ms() - t0), "close < 500 ms");
}

/* rds_info_message: laddr ADDR1, faddr DEAD, lport p (h_sport), fport dp. */
static void r8_1c(void)
{
	int p, dp, fd = fill_dead(&p, &dp), each, n;

	if (fd < 0)
		return;
	n = info_msgs(RDS_INFO_SEND_MESSAGES, A1, DEAD, p, dp, &each);
	if (each == 26 && n == 0) {
		/* KERNEL: the list covers c_npaths paths, 0 before the first handshake. */
		skip("RDS_INFO_SEND_MESSAGES does not list messages of a never-connected peer");
		return;
	}
	if (!x_ret("RDS_INFO_SEND_MESSAGES", each, 26) ||
	    !x_eq("entries for the queued message before close", n, 1))
		return;
	close(fds[0]);
	fds[0] = -1;
	x_eq("entries after close", info_msgs(RDS_INFO_SEND_MESSAGES, A1, DEAD, p, dp, NULL), 0);
}

static void r9_1g(void)
{
	int p, dp, fd = fill_dead(&p, &dp), n;
	struct sockaddr_in a = sin4(DEAD, dp);
	short m;

	if (fd < 0 || !x_ret("RDS_CANCEL_SENT_TO(dead peer)",
			     setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, &a, sizeof(a)), 0))
		return;
	n = info_msgs(RDS_INFO_SEND_MESSAGES, A1, DEAD, p, dp, NULL);
	m = poll1(fd, POLLOUT, 0);
	x_true(n == 0 && m >= 0 && (m & POLLOUT),
	       fmt("%d RDS_INFO_SEND_MESSAGES entries, revents 0x%x", n, m),
	       "0 RDS_INFO_SEND_MESSAGES entries, revents POLLOUT");
	x_ret("sendto(4096, MSG_DONTWAIT) again", send4(fd, big, 4096, MSG_DONTWAIT, DEAD, dp),
	      4096);
}

/* =======================================================================================
 * Congestion (§5 row 18, §6 notification, §7 POLLWRBAND): a receiver with SO_RCVBUF 4096
 * that reads nothing.
 */
/* s at ADDR1 (RDS_CONG_MONITOR if monitor) sends 1000-byte messages (MSG_DONTWAIT) to r at
 * ADDR2:*rp until ENOBUFS. r first sends s a message (so ADDR2 has a connection to ADDR1 on
 * which its congestion map travels). Returns the number of messages sent, or -1. */
static int congest(int *s, int *r, int *rp, int monitor)
{
	char b[16];
	struct rmsg m;
	int sp = port(), i;
	long ret = 0;
	int e = 0;

	if (loop_conn()) {
		skip(LOOP_SKIP);
		return -1;
	}
	*rp = port();
	*r = sock_at(A2, *rp);
	*s = *r < 0 ? -1 : sock_at(A1, sp);
	if (*s < 0 || !x_ret("SO_RCVBUF=4096", setint(*r, SOL_SOCKET, SO_RCVBUF, 4096), 0))
		return -1;
	if (monitor && !x_ret("RDS_CONG_MONITOR=1", setint(*s, SOL_RDS, RDS_CONG_MONITOR, 1), 0))
		return -1;
	if (!x_ret("receiver sendto(sender)", send4(*r, "hi", 2, 0, A1, sp), 2))
		return -1;
	recv_wait(*s, b, sizeof(b), 0, &m, WAIT_MS);
	for (i = 0; i < 200; i++) {
		ret = send4(*s, big, 1000, MSG_DONTWAIT, A2, *rp);
		e = errno;
		if (ret != 1000)
			break;
		if (i > 8)
			usleep(2000); /* lets a congestion map travel */
	}
	errno = e;
	if (!x_err(fmt("sendto #%d (1000 bytes, MSG_DONTWAIT) to a congested port", i + 1), ret,
		   ENOBUFS))
		return -1;
	return i;
}

static void drain(int r)
{
	while (recv(r, big, 2000, MSG_DONTWAIT) >= 0)
		;
}

static void r5_18a(void)
{
	int s, r, rp, n = congest(&s, &r, &rp, 0);

	if (n >= 0)
		x_true(n >= 4, fmt("ENOBUFS after %d messages", n), "ENOBUFS after >= 4 messages");
}

/* Blocking: waits with no timeout (SO_SNDTIMEO not applied) until a signal. */
static void r5_18b(void)
{
	struct timeval tv = { 0, 100000 };
	int s, r, rp;
	long ret;
	long long t0;

	if (congest(&s, &r, &rp, 0) < 0)
		return;
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	t0 = now_ms();
	intr_arm(800);
	ret = send4(s, big, 1000, 0, A2, rp);
	intr_disarm();
	if (x_err("blocking sendto, SO_SNDTIMEO 100 ms, signal at 800 ms", ret, EINTR))
		x_true(now_ms() - t0 >= 700, fmt("-1 EINTR after %lld ms", now_ms() - t0),
		       "-1 EINTR after >= 700 ms");
}

/* Once the receiver reads, the port is uncongested again. */
static void r5_18c(void)
{
	int s, r, rp;
	long ret = -1;
	long long end;

	if (congest(&s, &r, &rp, 0) < 0)
		return;
	drain(r);
	end = now_ms() + WAIT_MS;
	while (now_ms() < end) {
		ret = send4(s, "y", 1, MSG_DONTWAIT, A2, rp);
		if (ret == 1)
			break;
		usleep(10000);
	}
	x_ret("sendto after the receiver drained", ret, 1);
}

/* §6: RDS_CONG_MONITOR: the ENOBUFS send armed bit rp % 64; after the drain the sender gets
 * a 0-byte read with an RDS_CMSG_CONG_UPDATE mask that has it, and msg_namelen 0. */
static void r6_4(void)
{
	int s, r, rp;
	struct rmsg m;
	struct cmsghdr *c;
	uint64_t mask = 0, bit;
	char b[16];

	if (congest(&s, &r, &rp, 1) < 0)
		return;
	bit = 1ULL << (rp % 64);
	drain(r);
	recv_wait(s, b, sizeof(b), 0, &m, WAIT_MS);
	c = find_cmsg(&m, SOL_RDS, RDS_CMSG_CONG_UPDATE);
	if (c)
		memcpy(&mask, CMSG_DATA(c), sizeof(mask));
	x_true(m.r == 0 && c && (mask & bit) && m.fromlen == 0,
	       fmt("recv %s, CONG_UPDATE %s mask 0x%llx, namelen %u", res(m.r, m.e),
		   c ? "present" : "absent", (unsigned long long)mask, m.fromlen),
	       fmt("recv 0, CONG_UPDATE present mask has 0x%llx, namelen 0",
		   (unsigned long long)bit));
}

/* §7: without RDS_CONG_MONITOR, a congestion map update wakes POLLIN|POLLWRBAND. */
static void r7_5(void)
{
	int s, r, rp;
	short m = 0;
	long long end;

	if (congest(&s, &r, &rp, 0) < 0)
		return;
	usleep(100000);
	poll1(s, POLLIN | POLLOUT, 0); /* consumes the update that congested the port */
	drain(r);
	end = now_ms() + WAIT_MS;
	while (now_ms() < end) {
		m = poll1(s, POLLIN | POLLWRBAND, 100);
		if (m > 0)
			break;
	}
	x_true(m > 0 && (m & (POLLIN | POLLWRBAND)) == (POLLIN | POLLWRBAND),
	       fmt("revents 0x%x", m), "revents POLLIN|POLLWRBAND");
}

/* TABLE_PART_1 */

/* =======================================================================================
 * The table
 */
struct row {
	const char *id;
	const char *desc;
	void (*fn)(void);
};

static const struct row table[] = {
	{ "2.1a", "socket(AF_RDS, SOCK_SEQPACKET, 0) succeeds", r2_1a },
	{ "2.1b", "SOCK_NONBLOCK|SOCK_CLOEXEC set O_NONBLOCK and FD_CLOEXEC", r2_1b },
	{ "2.2a", "socket type SOCK_STREAM -> ESOCKTNOSUPPORT", r2_2a },
	{ "2.2b", "socket type SOCK_DGRAM -> ESOCKTNOSUPPORT", r2_2b },
	{ "2.2c", "socket type SOCK_RAW -> ESOCKTNOSUPPORT", r2_2c },
	{ "2.2d", "socket type SOCK_RDM -> ESOCKTNOSUPPORT", r2_2d },
	{ "2.3", "protocol 1 -> ESOCKTNOSUPPORT", r2_3 },
	{ "2.4a", "type >= SOCK_MAX -> EINVAL", r2_4a },
	{ "2.4b", "unknown type flag -> EINVAL", r2_4b },
	{ "2.5", "RDS module absent -> EAFNOSUPPORT", r2_5 },
	{ "2.6a", "new socket: SO_RDS_TRANSPORT = RDS_TRANS_NONE", r2_6a },
	{ "2.6b", "new socket: SO_SNDBUF/SO_RCVBUF = wmem_default/rmem_default", r2_6b },
	{ "3.1", "bind addrlen 1 -> EINVAL", r3_1 },
	{ "3.2a", "bind AF_INET addrlen 8 -> EINVAL", r3_2a },
	{ "3.2b", "bind INADDR_ANY -> EINVAL", r3_2b },
	{ "3.2c", "bind 255.255.255.255 -> EINVAL", r3_2c },
	{ "3.2d", "bind multicast -> EINVAL", r3_2d },
	{ "3.3a", "bind AF_INET6 addrlen 24 -> EINVAL", r3_3a },
	{ "3.3b", "bind IPv6 multicast -> EINVAL", r3_3b },
	{ "3.3c", "bind v4-mapped any -> EINVAL", r3_3c },
	{ "3.3d", "bind v4-mapped broadcast -> EINVAL", r3_3d },
	{ "3.3e", "bind v4-mapped multicast -> EINVAL", r3_3e },
	{ "3.3f", "bind link-local without scope_id -> EINVAL", r3_3f },
	{ "3.3g", "bind :: (IPv6 any) -> EINVAL", r3_3g },
	{ "3.3h", "bind ::1 succeeds, getsockname sockaddr_in6", r3_3h },
	{ "3.3i", "bind v4-mapped ADDR1 succeeds, getsockname AF_INET", r3_3i },
	{ "3.4", "bind other family -> EINVAL", r3_4 },
	{ "3.5a", "rebind to the same address -> EINVAL", r3_5a },
	{ "3.5b", "rebind to another address -> EINVAL", r3_5b },
	{ "3.6", "bind link-local, scope differs from connected scope -> EINVAL", r3_6 },
	{ "3.7a", "SO_RDS_TRANSPORT=TCP then bind non-local -> ENOPROTOOPT", r3_7 },
	{ "3.7b", "SO_RDS_TRANSPORT=TCP then bind 127.0.0.1 ok, transport TCP", r3_7b },
	{ "3.8", "bind non-local address -> EADDRNOTAVAIL", r3_8 },
	{ "3.9a", "bind port in use -> EADDRINUSE", r3_9a },
	{ "3.9b", "same port on another address is free", r3_9b },
	{ "3.9c", "address checked before port: port 1 on non-local -> EADDRNOTAVAIL", r3_9c },
	{ "3.10", "bind port 1 -> EINVAL", r3_10 },
	{ "3.11", "bind port 0 picks a port >= 2", r3_11 },
	{ "3.12", "bind returns 0, getsockname shows addr/port", r3_12 },
	{ "3.13", "only the exact bound address receives", r3_13 },
	{ "4.1", "connect addrlen 1 -> EINVAL", r4_1 },
	{ "4.2", "connect AF_INET addrlen 8 -> EINVAL", r4_2 },
	{ "4.3", "connect INADDR_ANY -> EDESTADDRREQ", r4_3 },
	{ "4.4a", "connect multicast -> EINVAL", r4_4a },
	{ "4.4b", "connect broadcast -> EINVAL", r4_4b },
	{ "4.5", "connect AF_INET6 addrlen 24 -> EINVAL", r4_5 },
	{ "4.6a", "connect IPv6 multicast -> EPROTOTYPE", r4_6a },
	{ "4.6b", "connect v4-mapped any -> EPROTOTYPE", r4_6b },
	{ "4.6c", "connect v4-mapped multicast -> EPROTOTYPE", r4_6c },
	{ "4.7a", "connect link-local scope 0 -> EINVAL", r4_7a },
	{ "4.7b", "connect link-local, bound with other scope -> EINVAL", r4_7b },
	{ "4.8a", "connect AF_UNSPEC -> EAFNOSUPPORT", r4_8a },
	{ "4.8b", "connect other family -> EAFNOSUPPORT", r4_8b },
	{ "4.9", "connect unbound, repeatedly; getpeername = latest", r4_9 },
	{ "4.10", "connect does not check family against bound address", r4_10 },
	{ "5.1a", "sendmsg MSG_NOSIGNAL -> EOPNOTSUPP", r5_1a },
	{ "5.1b", "sendmsg MSG_MORE -> EOPNOTSUPP", r5_1b },
	{ "5.1c", "sendmsg MSG_OOB -> EOPNOTSUPP", r5_1c },
	{ "5.1d", "sendmsg MSG_EOR -> EOPNOTSUPP", r5_1d },
	{ "5.1e", "sendmsg MSG_CONFIRM -> EOPNOTSUPP", r5_1e },
	{ "5.1f", "flags checked first (unbound, namelen 8) -> EOPNOTSUPP", r5_1f },
	{ "5.2", "msg_namelen 8 (unbound) -> EINVAL", r5_2 },
	{ "5.3a", "dest INADDR_ANY (unbound) -> EINVAL", r5_3a },
	{ "5.3b", "dest broadcast (unbound) -> EINVAL", r5_3b },
	{ "5.3c", "dest multicast (unbound) -> EINVAL", r5_3c },
	{ "5.4a", "AF_INET6 namelen 24 (unbound) -> EINVAL", r5_4a },
	{ "5.4b", "dest IPv6 multicast (unbound) -> EINVAL", r5_4b },
	{ "5.4c", "dest v4-mapped any (unbound) -> EINVAL", r5_4c },
	{ "5.4d", "dest v4-mapped multicast (unbound) -> EINVAL", r5_4d },
	{ "5.4e", "dest link-local without scope (unbound) -> EINVAL", r5_4e },
	{ "5.5", "dest other family (unbound) -> EINVAL", r5_5 },
	{ "5.6", "namelen 0 sends to the connect()ed address", r5_6 },
	{ "5.7a", "unbound socket -> ENOTCONN", r5_7a },
	{ "5.7b", "bound, no destination -> ENOTCONN", r5_7b },
	{ "5.7c", "unbound but connected -> ENOTCONN", r5_7c },
	{ "5.7d", "no autobind after a failed send", r5_7d },
	{ "5.8a", "IPv4 dest from IPv6-bound socket -> EOPNOTSUPP", r5_8a },
	{ "5.8b", "IPv6 dest from IPv4-bound socket -> EOPNOTSUPP", r5_8b },
	{ "5.8c", "v4-mapped dest from IPv4-bound socket is delivered", r5_8c },
	{ "5.9", "link-local dest with other scope than bound -> EINVAL", r5_9 },
	{ "5.10a", "malformed SOL_RDS cmsg before EMSGSIZE -> EINVAL", r5_10a },
	{ "5.10b", "malformed non-SOL_RDS cmsg -> EINVAL", r5_10b },
	{ "5.10c", "RDMA_ARGS too short -> EINVAL", r5_10c },
	{ "5.11a", "payload > 1 MiB -> EMSGSIZE", r5_11a },
	{ "5.11b", "payload 1 MiB with a big enough SO_SNDBUF is sent", r5_11b },
	{ "5.11c", "payload > 1 MiB unbound -> ENOTCONN first", r5_11c },
	{ "5.11d", "payload > 1 MiB before unknown cmsg -> EMSGSIZE", r5_11d },
	{ "5.12a", "SO_SNDBUF 4096: 4097 bytes -> EMSGSIZE", r5_12a },
	{ "5.12b", "SO_SNDBUF 4096: 4096 bytes sent", r5_12b },
	{ "5.12c", "default buffer: limit is SO_SNDBUF/2", r5_12c },
	{ "5.13", "MSG_ZEROCOPY: loopback transport EOPNOTSUPP, TCP accepted", r5_13 },
	{ "5.14a", "unknown SOL_RDS cmsg type -> EINVAL", r5_14a },
	{ "5.14b", "RDS_CMSG_CONG_UPDATE on send -> EINVAL", r5_14b },
	{ "5.14c", "RDS_CMSG_RXPATH_LATENCY on send -> EINVAL", r5_14c },
	{ "5.14d", "MSG_ZEROCOPY without cookie -> EINVAL", r5_14d },
	{ "5.14e", "ZCOPY_COOKIE without MSG_ZEROCOPY -> EINVAL", r5_14e },
	{ "5.14f", "ZCOPY_COOKIE shorter than 4 bytes -> EINVAL", r5_14f },
	{ "5.14g", "RDMA_DEST mixed with ATOMIC_FADD -> EINVAL", r5_14g },
	{ "5.14h", "non-SOL_RDS cmsg is ignored", r5_14h },
	{ "5.15", "payload copy fault -> EFAULT", r5_15 },
	{ "5.16a", "RDMA_MAP on TCP/loopback -> EOPNOTSUPP", r5_16a },
	{ "5.16b", "RDMA_DEST with unknown key -> EINVAL", r5_16b },
	{ "5.16c", "valid RDMA_ARGS on TCP/loopback -> EOPNOTSUPP", r5_16c },
	{ "5.16d", "valid ATOMIC_FADD on TCP/loopback -> EOPNOTSUPP", r5_16d },
	{ "5.17", "connection being destroyed -> EAGAIN", r5_17 },
	{ "5.18a", "dest port congested, non-blocking -> ENOBUFS", r5_18a },
	{ "5.18b", "dest port congested, blocking: no SO_SNDTIMEO, signal -> EINTR", r5_18b },
	{ "5.18c", "dest port uncongested after the receiver reads", r5_18c },
	{ "5.19a", "send queue full, non-blocking -> EAGAIN", r5_19a },
	{ "5.19b", "send queue full, zero-length message -> EAGAIN", r5_19b },
	{ "5.19c", "send queue full, blocking with SO_SNDTIMEO -> ETIMEDOUT", r5_19c },
	{ "5.20a", "success returns the payload length", r5_20a },
	{ "5.20b", "zero-length message: 0, delivered with msg_name", r5_20b },
	{ "5.20c", "send to a port with no socket succeeds", r5_20c },
	{ "5.20d", "dest port 0 (ping): 0-byte reply from port 0", r5_20d },
	{ "5.20e", "write() (adds MSG_EOR) on a connected socket -> EOPNOTSUPP", r5_20e },
	{ "6.1", "recv MSG_OOB returns 0, message stays queued", r6_1 },
	{ "6.2", "recv MSG_ERRQUEUE -> EAGAIN", r6_2 },
	{ "6.3", "RDMA notifications -> 0 with RDMA_STATUS cmsgs", r6_3 },
	{ "6.4", "RDS_CONG_MONITOR: 0 with CONG_UPDATE cmsg, namelen 0", r6_4 },
	{ "6.5a", "no message, MSG_DONTWAIT -> EAGAIN", r6_5a },
	{ "6.5b", "no message, O_NONBLOCK -> EAGAIN", r6_5b },
	{ "6.5c", "zerocopy completion: 0 with ZCOPY_COMPLETION cmsg", r6_5c },
	{ "6.6a", "blocking recv, SO_RCVTIMEO -> ETIMEDOUT", r6_6a },
	{ "6.6b", "unbound socket never receives: SO_RCVTIMEO -> ETIMEDOUT", r6_6b },
	{ "6.6c", "blocking recv interrupted by a signal -> EINTR", r6_6c },
	{ "6.6d", "blocking recv restarts under SA_RESTART", r6_6d },
	{ "6.7", "message <= buffer: its length, then removed", r6_7 },
	{ "6.8a", "message > buffer: copied part, MSG_TRUNC, rest discarded", r6_8a },
	{ "6.8b", "MSG_TRUNC in flags returns the full length", r6_8b },
	{ "6.9a", "MSG_PEEK leaves the message queued", r6_9a },
	{ "6.9b", "MSG_PEEK|MSG_TRUNC with 0-length buffer returns size", r6_9b },
	{ "6.10", "0-byte message: 0 with msg_name", r6_10 },
	{ "6.11a", "msg_name IPv4: AF_INET source addr/port, len 16", r6_11a },
	{ "6.11b", "msg_name IPv6 (::1): sockaddr_in6, len 28", r6_11b },
	{ "6.12", "other flags (MSG_WAITALL) ignored", r6_12 },
	{ "6.13a", "SO_TIMESTAMP_OLD: struct timeval cmsg", r6_13a },
	{ "6.13b", "SO_TIMESTAMP_NEW: 64-bit timeval cmsg", r6_13b },
	{ "6.13c", "SO_TIMESTAMP at SOL_RDS enables timestamps", r6_13c },
	{ "6.13d", "SO_RDS_MSG_RXPATH_LATENCY: RXPATH_LATENCY cmsg", r6_13d },
	{ "6.14", "read() receives a message", r6_14 },
	{ "7.1a", "idle bound socket: POLLOUT|POLLWRNORM", r7_1a },
	{ "7.1b", "unbound socket: POLLOUT", r7_1b },
	{ "7.2", "message queued: POLLIN|POLLRDNORM", r7_2 },
	{ "7.3", "idle socket: only POLLOUT|POLLWRNORM (no HUP/ERR/IN)", r7_3 },
	{ "7.4", "send queue full: no POLLOUT", r7_4 },
	{ "7.5", "congestion map update: POLLIN|POLLWRBAND", r7_5 },
	{ "7.6a", "select: readable and writable", r7_6a },
	{ "7.6b", "epoll: EPOLLIN|EPOLLOUT", r7_6b },
	{ "8.1a", "close with queued messages does not block", r8_1a },
	{ "8.1b", "close frees the bound addr:port", r8_1b },
	{ "8.1c", "close removes the socket's queued messages", r8_1c },
	{ "8.1d", "close frees unread received messages", r8_1d },
	{ "8.2", "shutdown -> EOPNOTSUPP", r8_2 },
	{ "8.3a", "listen -> EOPNOTSUPP", r8_3a },
	{ "8.3b", "accept -> EOPNOTSUPP", r8_3b },
	{ "8.3c", "socketpair -> EOPNOTSUPP", r8_3c },
	{ "8.4", "mmap -> ENODEV", r8_4 },
	{ "8.5b", "getsockname unbound, unconnected: AF_UNSPEC zeros len 16", r8_5b },
	{ "8.5c", "getsockname unbound, connected IPv4: AF_INET zeros len 16", r8_5c },
	{ "8.5d", "getsockname unbound, connected IPv6: AF_INET6 zeros len 28", r8_5d },
	{ "8.6a", "getpeername not connected -> ENOTCONN", r8_6a },
	{ "8.6b", "getpeername connected IPv4", r8_6b },
	{ "8.6c", "getpeername connected IPv6: sockaddr_in6 len 28", r8_6c },
	{ "9.1a", "RDS_CANCEL_SENT_TO unbound -> ENOTCONN", r9_1a },
	{ "9.1b", "RDS_CANCEL_SENT_TO unbound checked before optlen -> ENOTCONN", r9_1b },
	{ "9.1c", "RDS_CANCEL_SENT_TO optlen < 16 -> EINVAL", r9_1c },
	{ "9.1d", "RDS_CANCEL_SENT_TO sockaddr_in -> 0", r9_1d },
	{ "9.1e", "RDS_CANCEL_SENT_TO sockaddr_in6 -> 0", r9_1e },
	{ "9.1f", "getsockopt RDS_CANCEL_SENT_TO -> ENOPROTOOPT", r9_1f },
	{ "9.1g", "RDS_CANCEL_SENT_TO drops queued messages, frees the buffer", r9_1g },
	{ "9.1h", "RDS_CANCEL_SENT_TO bad pointer -> EFAULT", r9_1h },
	{ "9.2a", "RDS_RECVERR set 1, get 1", r9_2a },
	{ "9.2b", "RDS_RECVERR set optlen < 4 -> EINVAL", r9_2b },
	{ "9.2c", "RDS_RECVERR get optlen < 4 -> EINVAL", r9_2c },
	{ "9.3a", "RDS_CONG_MONITOR set 1 -> 0", r9_3a },
	{ "9.3b", "RDS_CONG_MONITOR optlen < 4 -> EINVAL", r9_3b },
	{ "9.3c", "RDS_CONG_MONITOR not gettable -> ENOPROTOOPT", r9_3c },
	{ "9.4a", "SO_RDS_TRANSPORT set TCP before bind, get 2", r9_4a },
	{ "9.4b", "SO_RDS_TRANSPORT set twice -> EOPNOTSUPP", r9_4b },
	{ "9.4c", "SO_RDS_TRANSPORT after bind -> EOPNOTSUPP", r9_4c },
	{ "9.4d", "SO_RDS_TRANSPORT after bind, optlen 8 -> EOPNOTSUPP first", r9_4d },
	{ "9.4e", "SO_RDS_TRANSPORT optlen 8 -> EINVAL", r9_4e },
	{ "9.4f", "SO_RDS_TRANSPORT RDS_TRANS_NONE -> EINVAL", r9_4f },
	{ "9.4g", "SO_RDS_TRANSPORT 3 -> EINVAL", r9_4g },
	{ "9.4h", "SO_RDS_TRANSPORT 1 (GAP) -> ENOPROTOOPT (EPROTOTYPE outside init_net)", r9_4h },
	{ "9.4i",
	  "SO_RDS_TRANSPORT 0 (IB): ENOPROTOOPT, 0 once rds_rdma loads, EPROTOTYPE outside init_net",
	  r9_4i },
	{ "9.4j", "get SO_RDS_TRANSPORT optlen < 4 -> EINVAL", r9_4j },
	{ "9.4k", "bound socket: TCP 2 (non-127) or loopback 3 (127/8)", r9_4k },
	{ "9.4l", "socket bound to ::1 reports loopback 3", r9_4l },
	{ "9.4m", "RDS_CONN_RESET (optname 8, 12 bytes): EINVAL / bound EOPNOTSUPP", r9_4m },
	{ "9.5a", "RXPATH_LATENCY valid -> 0", r9_5a },
	{ "9.5b", "RXPATH_LATENCY optlen != 4 -> EFAULT", r9_5b },
	{ "9.5c", "RXPATH_LATENCY rx_traces > 3 -> EFAULT", r9_5c },
	{ "9.5d", "RXPATH_LATENCY used pos >= 3 -> EFAULT", r9_5d },
	{ "9.5e", "RXPATH_LATENCY unused pos >= 3 not checked -> 0", r9_5e },
	{ "9.5f", "RXPATH_LATENCY not gettable -> ENOPROTOOPT", r9_5f },
	{ "9.6a", "SO_TIMESTAMP_OLD at SOL_RDS, optlen 4 -> 0", r9_6a },
	{ "9.6b", "SO_TIMESTAMP at SOL_RDS optlen 2 -> EFAULT", r9_6b },
	{ "9.6c", "SO_TIMESTAMP at SOL_RDS optlen 8 -> EFAULT", r9_6c },
	{ "9.6d", "SO_TIMESTAMP_NEW at SOL_RDS -> 0", r9_6d },
	{ "9.6e", "SO_TIMESTAMP at SOL_RDS not gettable -> ENOPROTOOPT", r9_6e },
	{ "9.7a", "RDS_GET_MR wrong optlen -> EINVAL", r9_7a },
	{ "9.7b", "RDS_GET_MR unbound -> ENOTCONN", r9_7b },
	{ "9.7c", "RDS_GET_MR unbound with transport set -> ENOTCONN", r9_7c },
	{ "9.7d", "RDS_GET_MR on TCP/loopback -> EOPNOTSUPP", r9_7d },
	{ "9.7e", "RDS_GET_MR_FOR_DEST on TCP/loopback -> EOPNOTSUPP", r9_7e },
	{ "9.7f", "RDS_FREE_MR unknown key -> EINVAL", r9_7f },
	{ "9.7g", "RDS_FREE_MR wrong optlen -> EINVAL", r9_7g },
	{ "9.7h", "RDS_GET_MR not gettable -> ENOPROTOOPT", r9_7h },
	{ "9.8", "setsockopt RDS_INFO_* -> ENOPROTOOPT", r9_8 },
	{ "9.9a", "unknown SOL_RDS optname set -> ENOPROTOOPT", r9_9a },
	{ "9.9b", "unknown SOL_RDS optname get -> ENOPROTOOPT", r9_9b },
	{ "9.9c", "deprecated optname 4 -> ENOPROTOOPT", r9_9c },
	{ "9.9d", "setsockopt at IPPROTO_TCP -> ENOPROTOOPT", r9_9d },
	{ "9.9e", "getsockopt at IPPROTO_IP -> ENOPROTOOPT", r9_9e },
	{ "10.1", "SO_SNDBUF 10000 reads back 20000", r10_1 },
	{ "10.2", "SO_RCVBUF 10000 reads back 20000", r10_2 },
	{ "10.6", "SO_ZEROCOPY allowed", r10_6 },
	{ "10.7a", "SO_TYPE = SOCK_SEQPACKET", r10_7a },
	{ "10.7b", "SO_DOMAIN = 21", r10_7b },
	{ "10.7c", "SO_PROTOCOL = 0", r10_7c },
	{ "10.7d", "SO_ERROR = 0", r10_7d },
	{ "10.8", "SO_REUSEADDR/SO_PRIORITY/SO_LINGER accepted", r10_8 },
	{ "11.3", "RDS_INFO_SOCKETS shows the requested (halved) sndbuf/rcvbuf", r11_3 },
	{ "12.1", "RDS_INFO optlen < 0 -> EINVAL", r12_1 },
	{ "12.2", "RDS_INFO size probe (optlen 0) -> ENOSPC + needed length", r12_2 },
	{ "12.3", "RDS_INFO buffer too small -> ENOSPC + needed length", r12_3 },
	{ "12.4", "RDS_INFO_COUNTERS returns each = 40, core names in order", r12_4 },
	{ "12.5a", "RDS_INFO_SOCKETS: each 28, lists a bound socket", r12_5a },
	{ "12.5b", "RDS_INFO_SOCKETS omits unbound sockets", r12_5b },
	{ "12.5c", "RDS6_INFO_SOCKETS: each 52, lists unbound sockets", r12_5c },
	{ "12.6a", "RDS_INFO_CONNECTIONS: each 42, ADDR1 -> ADDR2 listed", r12_6a },
	{ "12.6b", "RDS6_INFO_CONNECTIONS: each 65, v4-mapped listed", r12_6b },
	{ "12.7a", "RDS_INFO_SEND_MESSAGES each 26", r12_7a },
	{ "12.7b", "RDS_INFO_RETRANS_MESSAGES each 26", r12_7b },
	{ "12.7c", "RDS6_INFO_SEND_MESSAGES each 50", r12_7c },
	{ "12.7d", "RDS6_INFO_RETRANS_MESSAGES each 50", r12_7d },
	{ "12.8a", "RDS_INFO_RECV_MESSAGES: each 26, unread message listed", r12_8a },
	{ "12.8b", "RDS6_INFO_RECV_MESSAGES each 50", r12_8b },
	{ "12.9a", "RDS_INFO_TCP_SOCKETS each 41", r12_9a },
	{ "12.9b", "RDS6_INFO_TCP_SOCKETS each 64", r12_9b },
	{ "12.10a", "RDS_INFO 10002 (FLOWS) -> ENOPROTOOPT", r12_10a },
	{ "12.10b", "RDS_INFO 10009 (CONNECTION_STATS) -> ENOPROTOOPT", r12_10b },
	{ "12.10c", "RDS_INFO 10010 (IWARP) -> ENOPROTOOPT", r12_10c },
	{ "12.10d", "RDS_INFO_IB_CONNECTIONS: ENOPROTOOPT without rds_rdma (else each 68)",
	  r12_10d },
	{ "12.10e", "RDS6_INFO_IB_CONNECTIONS: ENOPROTOOPT without rds_rdma (else each 92)",
	  r12_10e },
	{ "13.1a", "SIOCRDSSETTOS unbound -> ENOTTY", r13_1a },
	{ "13.1b", "SIOCRDSSETTOS bad pointer -> EFAULT (read first)", r13_1b },
	{ "13.1c", "SIOCRDSSETTOS on TCP -> 0, tos stays 0", r13_1c },
	{ "13.1d", "SIOCRDSSETTOS after sending -> EINVAL", r13_1d },
	{ "13.1e", "SIOCRDSSETTOS unbound with TCP transport set -> 0", r13_1e },
	{ "13.1f", "SIOCRDSSETTOS on ::1: loopback ENOTTY / TCP 0", r13_1f },
	{ "13.2", "SIOCRDSGETTOS writes one byte 0", r13_2 },
	{ "13.3a", "FIONREAD -> ENOTTY", r13_3a },
	{ "13.3b", "SIOCOUTQ -> ENOTTY", r13_3b },
	{ "13.3c", "SIOCGSTAMP -> ENOTTY", r13_3c },
	{ "13.3d", "unknown SIOCPROTOPRIVATE ioctl -> ENOTTY", r13_3d },
	{ "13.3e", "SIOCDEVPRIVATE ioctl -> ENODEV (device layer)", r13_3e },
	{ "13.4a", "FIONBIO makes recv non-blocking", r13_4a },
	{ "13.4b", "FIOCLEX sets close-on-exec", r13_4b },
	/* TABLE_ROWS_1 */
};

/* ---------------------------------------------------------------------------------------
 * Runner
 */
static void print_summary(void)
{
	printf("%d passed, %d failed, %d skipped\n", npass, nfail, nskip);
	fflush(stdout);
}

static sigjmp_buf row_jmp;
static volatile sig_atomic_t in_row;

/* Watchdog: a row that hangs fails and the run goes on with the next row (its blocked call
 * abandoned); a crash, or a hang outside a row, ends the run. */
static void on_fatal(int sig)
{
	char b[400];
	int n;

	if (sig == SIGALRM && in_row) {
		in_row = 0;
		siglongjmp(row_jmp, 1);
	}
	n = snprintf(b, sizeof(b),
		     "FAIL %s %s: got %s (crash, or hang after the row), want row to finish\n"
		     "%d passed, %d failed, %d skipped\n",
		     cur_id, cur_desc, strsignal(sig), npass, nfail + 1, nskip);
	fflush(stdout);
	if (write(1, b, (size_t)n) < 0)
		_exit(3);
	_exit(3);
}

static int selected(const char *id)
{
	const char *only = getenv("RDS_API_ONLY");
	char buf[256], *tok, *save;

	if (!only || !*only)
		return 1;
	snprintf(buf, sizeof(buf), "%s", only);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strncmp(id, tok, strlen(tok)))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s ADDR1 ADDR2 [BASE_PORT]\n", argv[0]);
		return 2;
	}
	A1s = argv[1];
	A2s = argv[2];
	A1 = ip4(A1s);
	A2 = ip4(A2s);
	DEAD = ip4(DEAD_ADDR);
	if (argc == 4)
		next_port = (int)parse_long(argv[3], "BASE_PORT", 1024, 60000);
	main_thread = pthread_self();
	if (getenv("RDS_API_NETNS2") && *getenv("RDS_API_NETNS2")) {
		ns1_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ns2_fd = open(getenv("RDS_API_NETNS2"), O_RDONLY | O_CLOEXEC);
		if (ns1_fd < 0 || ns2_fd < 0)
			die("RDS_API_NETNS2: %s", strerror(errno));
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR2, &sa, NULL); /* row 6.6d */
	set_usr1(SA_RESTART);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *r = &table[i];

		if (!selected(r->id))
			continue;
		cur_id = r->id;
		cur_desc = r->desc;
		st = ST_PASS;
		got[0] = want[0] = 0;
		if (sigsetjmp(row_jmp, 1) == 0) {
			in_row = 1;
			alarm(WATCHDOG_S);
			r->fn();
			in_row = 0;
		} else {
			st = ST_PASS;
			note(0, fmt("no result: the row hung (watchdog %d s)", WATCHDOG_S),
			     "row to finish");
		}
		alarm(WATCHDOG_S);
		close_all();
		alarm(0);
		printf("%s %s %s: got %s, want %s\n",
		       st == ST_PASS ? "PASS" :
		       st == ST_FAIL ? "FAIL" :
				       "SKIP",
		       r->id, r->desc, got[0] ? got : "-", want[0] ? want : "-");
		if (st == ST_PASS)
			npass++;
		else if (st == ST_FAIL)
			nfail++;
		else
			nskip++;
	}
	print_summary();
	return nfail ? 1 : 0;
}
