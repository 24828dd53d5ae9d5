// SPDX-License-Identifier: MIT
/*
 * The socket calls as the shim makes them (include/mprds/api.h), and nothing else: the errno
 * of each bad argument, delivery between two sockets of this process, truncation and
 * peeking, send-buffer accounting, the readiness of the fd api_socket(test_engine(), ) returns and the
 * RDS_INFO sizes (socket-api.md §2-§13). No test reads or writes a core struct, so these
 * hold whatever shape the engine takes behind api.h.
 *
 * Each test runs in a child of its own (check's CK_FORK): main() never calls the api, so
 * every child starts a fresh engine, with its loop thread, on its first api_socket(test_engine(), ). The
 * engine listens on 127.0.0.6x:TEST_TCP_PORT, an unusual port, so that nothing else on the
 * machine is disturbed; tests release what they open, so CK_FORK=no works too.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rds.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mprds/api.h"

#include "counters.h"
#include "info_sizes.h"

#include "check_main.h"

#define TEST_TCP_PORT "26385"
#define A1 "127.0.0.61"
#define A2 "127.0.0.62"
/* No engine listens there: connections to it are refused and messages stay queued. */
#define UNREACHABLE "127.0.0.69"
/* TEST-NET-1, assigned to no interface: the engine cannot listen there. */
#define NOT_LOCAL "192.0.2.1"
#define P1 4001
#define P2 4002
#define NOBODY 4999 /* a port no socket binds */

/* The engine of this test's process, made on first use as the shim makes it. */
static struct engine *test_engine(void)
{
	static struct engine *e;

	if (!e)
		ck_assert_int_eq(api_engine_new(&e), 0);
	return e;
}

/* One RDS socket as the shim holds it: the engine's handle and the application's fd. */
struct rsock {
	struct api_sock *s;
	int fd;
};

static struct rsock open_sock(int type)
{
	struct rsock r;

	r.fd = api_socket(test_engine(), type, 0, &r.s);
	ck_assert_int_ge(r.fd, 0);
	return r;
}

/* What the shim does at the application's last close. */
static void close_sock(struct rsock r)
{
	api_release(r.s);
	close(r.fd);
}

/* family overrides whatever ip parses as, so that a row can lie about it. */
static socklen_t fill_addr(struct sockaddr_storage *ss, int family, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_port = htons(port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_port = htons(port);
	}
	ss->ss_family = (sa_family_t)family;
	return family == AF_INET6 ? sizeof(*sin6) : sizeof(*sin);
}

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static int bind_to(struct rsock r, const char *ip, uint16_t port)
{
	struct sockaddr_in a = sin4(ip, port);

	return api_bind(r.s, (struct sockaddr *)&a, sizeof(a));
}

static struct rsock bound_sock(const char *ip, uint16_t port)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);

	ck_assert_int_eq(bind_to(r, ip, port), 0);
	return r;
}

static ssize_t send_to(struct rsock r, const char *ip, uint16_t port, const void *buf, size_t len,
		       int flags)
{
	struct sockaddr_in a = sin4(ip, port);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1
	};

	return api_sendmsg(r.s, &msg, flags);
}

/* A non-blocking receive into buf; the source in *from and msg_flags in *mflags if asked. */
static ssize_t recv_from(struct rsock r, void *buf, size_t len, int flags, struct sockaddr_in *from,
			 int *mflags)
{
	struct sockaddr_in unused;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_name = from ? from : &unused,
			      .msg_namelen = sizeof(unused),
			      .msg_iov = &iov,
			      .msg_iovlen = 1 };
	ssize_t n = api_recvmsg(r.s, &msg, flags | MSG_DONTWAIT);

	if (mflags)
		*mflags = msg.msg_flags;
	return n;
}

static int set_int(struct rsock r, int level, int name, int v)
{
	return api_setsockopt(r.s, level, name, &v, sizeof(v));
}

/* The value of an int option; getting it must succeed. */
static int opt_int(struct rsock r, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	ck_assert_int_eq(api_getsockopt(r.s, level, name, &v, &len), 0);
	return v;
}

/* What poll(2) says about the application's fd right now. */
static short ready(struct rsock r)
{
	struct pollfd pfd = { .fd = r.fd, .events = POLLIN | POLLOUT };

	ck_assert_int_ge(poll(&pfd, 1, 0), 0);
	return pfd.revents;
}

static bool readable(struct rsock r)
{
	return ready(r) & POLLIN;
}

static bool writable(struct rsock r)
{
	return ready(r) & POLLOUT;
}

/* §2 */

START_TEST(socket_takes_only_seqpacket_and_protocol_0)
{
	struct api_sock *s;

	ck_assert_int_eq(api_socket(test_engine(), SOCK_STREAM, 0, &s), -ESOCKTNOSUPPORT);
	ck_assert_int_eq(api_socket(test_engine(), SOCK_DGRAM, 0, &s), -ESOCKTNOSUPPORT);
	ck_assert_int_eq(api_socket(test_engine(), SOCK_RDM, 0, &s), -ESOCKTNOSUPPORT);
	ck_assert_int_eq(api_socket(test_engine(), SOCK_SEQPACKET, 1, &s), -ESOCKTNOSUPPORT);
	ck_assert_int_eq(api_socket(test_engine(), 11, 0, &s), -EINVAL); /* >= SOCK_MAX */
	ck_assert_int_eq(api_socket(test_engine(), SOCK_SEQPACKET | 0x10000, 0, &s),
			 -EINVAL); /* unknown flag */
}
END_TEST

START_TEST(socket_honours_sock_nonblock)
{
	struct rsock r = open_sock(SOCK_SEQPACKET | SOCK_NONBLOCK);
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	/* without MSG_DONTWAIT: the fd's O_NONBLOCK alone makes the call not wait */
	ck_assert_int_eq(api_recvmsg(r.s, &msg, 0), -EAGAIN);
	close_sock(r);
}
END_TEST

/* §3: one row each; every row binds a fresh socket. */
static const struct addr_row {
	const char *why;
	int family;
	const char *ip;
	socklen_t len; /* 0: the family's own size */
	int err;
} bind_rows[] = {
	{ "addrlen < 2", AF_INET, A1, 1, -EINVAL },
	{ "AF_INET shorter than sockaddr_in", AF_INET, A1, 15, -EINVAL },
	{ "INADDR_ANY", AF_INET, "0.0.0.0", 0, -EINVAL },
	{ "broadcast", AF_INET, "255.255.255.255", 0, -EINVAL },
	{ "multicast", AF_INET, "224.0.0.1", 0, -EINVAL },
	{ "another family", AF_UNIX, A1, 0, -EINVAL },
	{ "AF_INET6 shorter than sockaddr_in6", AF_INET6, "::1", 27, -EINVAL },
	{ "AF_INET6 multicast", AF_INET6, "ff02::1", 0, -EINVAL },
	{ "AF_INET6 link-local without scope", AF_INET6, "fe80::1", 0, -EINVAL },
	{ "an address of no interface", AF_INET, NOT_LOCAL, 0, -EADDRNOTAVAIL },
};

START_TEST(bind_rejects_each_bad_address)
{
	const struct addr_row *row = &bind_rows[_i];
	struct rsock r = open_sock(SOCK_SEQPACKET);
	struct sockaddr_storage ss;
	socklen_t len = fill_addr(&ss, row->family, row->ip, P1);

	ck_assert_msg(api_bind(r.s, (struct sockaddr *)&ss, row->len ? row->len : len) == row->err,
		      "bind to %s", row->why);
	close_sock(r);
}
END_TEST

START_TEST(bind_twice_is_einval)
{
	struct rsock r = bound_sock(A1, P1);

	ck_assert_int_eq(bind_to(r, A1, P2), -EINVAL);
	ck_assert_int_eq(bind_to(r, A2, P1), -EINVAL);
	close_sock(r);
}
END_TEST

START_TEST(bind_to_a_taken_port_is_eaddrinuse_until_released)
{
	struct rsock a = bound_sock(A1, P1), b = open_sock(SOCK_SEQPACKET);
	struct rsock other = bound_sock(A2, P1); /* the port space is per address */

	ck_assert_int_eq(bind_to(b, A1, P1), -EADDRINUSE);
	close_sock(a);
	ck_assert_int_eq(bind_to(b, A1, P1), 0);
	close_sock(b);
	close_sock(other);
}
END_TEST

START_TEST(bind_port_1_is_reserved_for_the_probe)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);

	ck_assert_int_eq(bind_to(r, A1, 1), -EINVAL);
	close_sock(r);
}
END_TEST

START_TEST(bind_after_choosing_another_transport_is_enoprotoopt)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);

	ck_assert_int_eq(set_int(r, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), 0);
	ck_assert_int_eq(bind_to(r, NOT_LOCAL, P1), -ENOPROTOOPT);
	close_sock(r);
}
END_TEST

START_TEST(bind_port_0_picks_a_free_port_of_2_or_more)
{
	struct rsock r = bound_sock(A1, 0);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	ck_assert_int_eq(api_getsockname(r.s, (struct sockaddr *)&a, &len), 0);
	ck_assert_int_eq(len, sizeof(a));
	ck_assert_int_eq(a.sin_family, AF_INET);
	ck_assert_int_eq(a.sin_addr.s_addr, sin4(A1, 0).sin_addr.s_addr);
	ck_assert_int_ge(ntohs(a.sin_port), 2);
	close_sock(r);
}
END_TEST

/* §4 */
static const struct addr_row connect_rows[] = {
	{ "addrlen < 2", AF_INET, A2, 1, -EINVAL },
	{ "AF_INET shorter than sockaddr_in", AF_INET, A2, 15, -EINVAL },
	{ "INADDR_ANY", AF_INET, "0.0.0.0", 0, -EDESTADDRREQ },
	{ "broadcast", AF_INET, "255.255.255.255", 0, -EINVAL },
	{ "multicast", AF_INET, "224.0.0.1", 0, -EINVAL },
	{ "AF_UNSPEC", AF_UNSPEC, A2, 0, -EAFNOSUPPORT },
	{ "AF_INET6 shorter than sockaddr_in6", AF_INET6, "::1", 27, -EINVAL },
	{ "AF_INET6 unspecified", AF_INET6, "::", 0, -EPROTOTYPE },
	{ "AF_INET6 multicast", AF_INET6, "ff02::1", 0, -EPROTOTYPE },
	{ "AF_INET6 link-local without scope", AF_INET6, "fe80::1", 0, -EINVAL },
};

START_TEST(connect_rejects_each_bad_address)
{
	const struct addr_row *row = &connect_rows[_i];
	struct rsock r = open_sock(SOCK_SEQPACKET);
	struct sockaddr_storage ss;
	socklen_t len = fill_addr(&ss, row->family, row->ip, P2);

	ck_assert_msg(api_connect(r.s, (struct sockaddr *)&ss, row->len ? row->len : len) ==
			      row->err,
		      "connect to %s", row->why);
	close_sock(r);
}
END_TEST

/* §8 */
START_TEST(names_of_an_unbound_socket)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	struct sockaddr_in a, zero = { 0 };
	socklen_t len = sizeof(a);

	memset(&a, 0xa5, sizeof(a));
	ck_assert_int_eq(api_getsockname(r.s, (struct sockaddr *)&a, &len), 0);
	ck_assert_int_eq(len, sizeof(a));
	ck_assert_mem_eq(&a, &zero, sizeof(a)); /* AF_UNSPEC, all zero */
	ck_assert_int_eq(api_getpeername(r.s, (struct sockaddr *)&a, &len), -ENOTCONN);
	close_sock(r);
}
END_TEST

START_TEST(names_after_bind_and_connect)
{
	struct rsock r = bound_sock(A1, P1);
	struct sockaddr_in a, want = sin4(A2, P2);
	socklen_t len = sizeof(a);

	ck_assert_int_eq(api_connect(r.s, (struct sockaddr *)&want, sizeof(want)), 0);
	ck_assert_int_eq(api_getpeername(r.s, (struct sockaddr *)&a, &len), 0);
	ck_assert_int_eq(len, sizeof(a));
	ck_assert_mem_eq(&a, &want, sizeof(a));
	want = sin4(A1, P1);
	ck_assert_int_eq(api_getsockname(r.s, (struct sockaddr *)&a, &len), 0);
	ck_assert_mem_eq(&a, &want, sizeof(a));
	len = 4; /* too short: truncated, the real length reported */
	ck_assert_int_eq(api_getsockname(r.s, (struct sockaddr *)&a, &len), 0);
	ck_assert_int_eq(len, sizeof(a));
	close_sock(r);
}
END_TEST

START_TEST(a_negative_name_length_is_einval_and_nothing_is_written)
{
	struct rsock r = bound_sock(A1, P1);
	struct sockaddr_in to = sin4(A2, P2);
	char small[8] = { 0 }, zero[8] = { 0 };
	socklen_t len = (socklen_t)-1; /* move_addr_to_user() refuses it */

	ck_assert_int_eq(api_connect(r.s, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(api_getsockname(r.s, (struct sockaddr *)small, &len), -EINVAL);
	ck_assert_int_eq(api_getpeername(r.s, (struct sockaddr *)small, &len), -EINVAL);
	ck_assert_mem_eq(small, zero, sizeof(small));
	close_sock(r);
}
END_TEST

/* §5: one row each, from a socket bound to A1 unless the row says otherwise. */
static const struct send_row {
	const char *why;
	int flags;
	int family;
	const char *ip;
	socklen_t namelen; /* 0: the family's own size */
	int err;
} send_rows[] = {
	{ "MSG_NOSIGNAL", MSG_NOSIGNAL, AF_INET, A2, 0, -EOPNOTSUPP },
	{ "MSG_MORE", MSG_MORE, AF_INET, A2, 0, -EOPNOTSUPP },
	{ "MSG_OOB", MSG_OOB, AF_INET, A2, 0, -EOPNOTSUPP },
	{ "a name shorter than sockaddr_in", 0, AF_INET, A2, 8, -EINVAL },
	{ "INADDR_ANY", 0, AF_INET, "0.0.0.0", 0, -EINVAL },
	{ "broadcast", 0, AF_INET, "255.255.255.255", 0, -EINVAL },
	{ "multicast", 0, AF_INET, "224.0.0.1", 0, -EINVAL },
	{ "another family", 0, AF_UNIX, A2, 0, -EINVAL },
	{ "AF_INET6 shorter than sockaddr_in6", 0, AF_INET6, "::1", 20, -EINVAL },
	{ "an IPv6 peer from an IPv4 address", 0, AF_INET6, "::1", 0, -EOPNOTSUPP },
};

START_TEST(sendmsg_rejects_each_bad_argument)
{
	const struct send_row *row = &send_rows[_i];
	struct rsock r = bound_sock(A1, P1);
	struct sockaddr_storage ss;
	socklen_t len = fill_addr(&ss, row->family, row->ip, P2);
	char payload[8] = "payload";
	struct iovec iov = { payload, sizeof(payload) };
	struct msghdr msg = { .msg_name = &ss,
			      .msg_namelen = row->namelen ? row->namelen : len,
			      .msg_iov = &iov,
			      .msg_iovlen = 1 };

	ck_assert_msg(api_sendmsg(r.s, &msg, row->flags | MSG_DONTWAIT) == row->err,
		      "sendmsg with %s", row->why);
	close_sock(r);
}
END_TEST

START_TEST(send_from_an_unbound_socket_is_enotconn)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	struct sockaddr_in to = sin4(A2, P2);

	ck_assert_int_eq(send_to(r, A2, P2, "x", 1, MSG_DONTWAIT), -ENOTCONN);
	/* connect() does not bind either: no autobind in any kernel */
	ck_assert_int_eq(api_connect(r.s, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(send_to(r, A2, P2, "x", 1, MSG_DONTWAIT), -ENOTCONN);
	close_sock(r);
}
END_TEST

START_TEST(send_without_a_destination_is_enotconn)
{
	struct rsock r = bound_sock(A1, P1);
	struct iovec iov = { "x", 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	ck_assert_int_eq(api_sendmsg(r.s, &msg, MSG_DONTWAIT), -ENOTCONN);
	close_sock(r);
}
END_TEST

START_TEST(send_of_more_than_1_mib_is_emsgsize)
{
	struct rsock r = bound_sock(A1, P1);
	static char half[512 * 1024 + 1];
	struct iovec iov[2] = { { half, sizeof(half) }, { half, sizeof(half) } };
	struct sockaddr_in to = sin4(A1, NOBODY);
	struct msghdr msg = {
		.msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov, .msg_iovlen = 2
	};

	/* even with a send buffer that would take it */
	ck_assert_int_eq(set_int(r, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20), 0);
	ck_assert_int_eq(api_sendmsg(r.s, &msg, MSG_DONTWAIT), -EMSGSIZE);
	close_sock(r);
}
END_TEST

START_TEST(send_of_more_than_sndbuf_is_emsgsize)
{
	struct rsock r = bound_sock(A1, P1);
	static char buf[8193];

	ck_assert_int_eq(set_int(r, SOL_SOCKET, SO_SNDBUF, 8192), 0);
	ck_assert_int_eq(send_to(r, A1, NOBODY, buf, 8193, MSG_DONTWAIT), -EMSGSIZE);
	ck_assert_int_eq(send_to(r, A1, NOBODY, buf, 8192, MSG_DONTWAIT), 8192);
	close_sock(r);
}
END_TEST

START_TEST(send_with_a_null_iov_is_efault)
{
	struct rsock r = bound_sock(A1, P1);
	struct sockaddr_in to = sin4(A1, NOBODY);
	struct iovec iov = { NULL, 4 };
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iovlen = 1 };

	ck_assert_int_eq(api_sendmsg(r.s, &msg, MSG_DONTWAIT), -EFAULT);
	msg.msg_iov = &iov;
	ck_assert_int_eq(api_sendmsg(r.s, &msg, MSG_DONTWAIT), -EFAULT);
	close_sock(r);
}
END_TEST

/* §5 row 10, 14, 16 and §5a: one control message per row. */
static const struct cmsg_row {
	const char *why;
	int level, type;
	size_t data_len;
	int err; /* 0: the message is sent */
} cmsg_rows[] = {
	{ "an unknown SOL_RDS type", SOL_RDS, 99, 8, -EINVAL },
	{ "RDS_CMSG_CONG_UPDATE", SOL_RDS, RDS_CMSG_CONG_UPDATE, 8, -EINVAL },
	{ "RDS_CMSG_RDMA_DEST: no such key", SOL_RDS, RDS_CMSG_RDMA_DEST, 8, -EINVAL },
	{ "RDS_CMSG_RDMA_ARGS too short", SOL_RDS, RDS_CMSG_RDMA_ARGS, 4, -EINVAL },
	{ "RDS_CMSG_RDMA_ARGS on TCP", SOL_RDS, RDS_CMSG_RDMA_ARGS, sizeof(struct rds_rdma_args),
	  -EOPNOTSUPP },
	{ "RDS_CMSG_ATOMIC_FADD on TCP", SOL_RDS, RDS_CMSG_ATOMIC_FADD,
	  sizeof(struct rds_atomic_args), -EOPNOTSUPP },
	{ "a zerocopy cookie without MSG_ZEROCOPY", SOL_RDS, RDS_CMSG_ZCOPY_COOKIE, 4, -EINVAL },
	{ "a SOL_SOCKET cmsg, ignored", SOL_SOCKET, 99, 8, 0 },
	{ "a SOL_IP cmsg, ignored", SOL_IP, 1, 3, 0 },
};

/* Room for one control message, aligned as the kernel's callers align it. */
union cmsg_buf {
	char buf[CMSG_SPACE(256)];
	struct cmsghdr align;
};

/* A sendmsg of "abc" to NOBODY on A1 with controllen bytes of control. */
struct cmsg_send {
	struct sockaddr_in to;
	struct iovec iov;
	union cmsg_buf control;
	struct msghdr msg;
};

static struct cmsghdr *cmsg_send_init(struct cmsg_send *cs, size_t controllen)
{
	memset(cs, 0, sizeof(*cs));
	cs->to = sin4(A1, NOBODY);
	cs->iov = (struct iovec){ "abc", 3 };
	cs->msg = (struct msghdr){ .msg_name = &cs->to,
				   .msg_namelen = sizeof(cs->to),
				   .msg_iov = &cs->iov,
				   .msg_iovlen = 1,
				   .msg_control = cs->control.buf,
				   .msg_controllen = controllen };
	return CMSG_FIRSTHDR(&cs->msg);
}

START_TEST(sendmsg_checks_each_control_message)
{
	const struct cmsg_row *row = &cmsg_rows[_i];
	struct rsock r = bound_sock(A1, P1);
	struct cmsg_send cs;
	struct msghdr *msg = &cs.msg;
	struct cmsghdr *c = cmsg_send_init(&cs, CMSG_SPACE(row->data_len));

	c->cmsg_level = row->level;
	c->cmsg_type = row->type;
	c->cmsg_len = CMSG_LEN(row->data_len);
	ck_assert_msg(api_sendmsg(r.s, msg, MSG_DONTWAIT) == (row->err ? row->err : 3),
		      "sendmsg with %s", row->why);
	close_sock(r);
}
END_TEST

START_TEST(sendmsg_rejects_a_control_buffer_it_cannot_walk)
{
	struct rsock r = bound_sock(A1, P1);
	struct cmsg_send cs;
	struct msghdr *msg = &cs.msg;
	struct cmsghdr *c = cmsg_send_init(&cs, CMSG_SPACE(8));

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_len = msg->msg_controllen + 1; /* runs past the buffer */
	ck_assert_int_eq(api_sendmsg(r.s, msg, MSG_DONTWAIT), -EINVAL);
	c->cmsg_len = sizeof(*c) - 1; /* shorter than its own header */
	ck_assert_int_eq(api_sendmsg(r.s, msg, MSG_DONTWAIT), -EINVAL);
	msg->msg_control = NULL;
	ck_assert_int_eq(api_sendmsg(r.s, msg, MSG_DONTWAIT), -EFAULT);
	close_sock(r);
}
END_TEST

/* §5, §6: delivery between two sockets of this process */

START_TEST(a_message_reaches_a_local_socket_with_its_source)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	struct sockaddr_in from, want = sin4(A1, P1);
	char buf[16];
	int mflags;

	ck_assert_int_eq(send_to(a, A2, P2, "hello", 5, MSG_DONTWAIT), 5);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, &from, &mflags), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_mem_eq(&from, &want, sizeof(from));
	ck_assert_int_eq(mflags, 0);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	ck_assert_int_eq(recv_from(a, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(messages_arrive_whole_and_in_order)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A1, P2);
	char buf[64];

	for (int i = 0; i < 10; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		ck_assert_int_eq(send_to(a, A1, P2, buf, (size_t)i + 1, MSG_DONTWAIT), i + 1);
	}
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), i + 1);
		ck_assert_int_eq(buf[i], 'a' + i);
	}
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(connect_gives_the_default_destination)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	struct sockaddr_in to = sin4(A2, P2);
	struct iovec iov = { "hi", 2 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	char buf[4];

	ck_assert_int_eq(api_connect(a.s, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(api_sendmsg(a.s, &msg, MSG_DONTWAIT), 2);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 2);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(a_zero_byte_message_is_delivered_with_its_source)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	struct sockaddr_in from = { 0 }, want = sin4(A1, P1);
	char buf[4];

	ck_assert_int_eq(send_to(a, A2, P2, NULL, 0, MSG_DONTWAIT), 0);
	ck_assert(readable(b));
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, &from, NULL), 0);
	ck_assert_mem_eq(&from, &want, sizeof(from));
	ck_assert(!readable(b));
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(a_message_to_an_unbound_port_is_dropped_silently)
{
	struct rsock a = bound_sock(A1, P1);
	char buf[4];

	ck_assert_int_eq(send_to(a, A1, NOBODY, "lost", 4, MSG_DONTWAIT), 4);
	ck_assert_int_eq(recv_from(a, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	close_sock(a);
}
END_TEST

START_TEST(a_ping_to_port_0_comes_back_empty_from_port_0)
{
	struct rsock a = bound_sock(A1, P1);
	struct sockaddr_in from, want = sin4(A2, 0);
	struct rsock b = bound_sock(A2, P2); /* so that A2 is an address of this host's engine */
	char buf[4];

	ck_assert_int_eq(send_to(a, A2, 0, "ping", 4, MSG_DONTWAIT), 4);
	ck_assert_int_eq(recv_from(a, buf, sizeof(buf), 0, &from, NULL), 0);
	ck_assert_mem_eq(&from, &want, sizeof(from));
	close_sock(a);
	close_sock(b);
}
END_TEST

/* §6 */

START_TEST(peek_leaves_the_message_queued)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	char buf[16] = { 0 };

	ck_assert_int_eq(send_to(a, A2, P2, "first", 5, MSG_DONTWAIT), 5);
	ck_assert_int_eq(send_to(a, A2, P2, "second", 6, MSG_DONTWAIT), 6);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), MSG_PEEK, NULL, NULL), 5);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), MSG_PEEK, NULL, NULL), 5);
	ck_assert(readable(b));
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 5);
	ck_assert_mem_eq(buf, "first", 5);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 6);
	ck_assert_mem_eq(buf, "second", 6);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(a_short_buffer_truncates_and_discards_the_rest)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	char buf[4];
	int mflags;

	ck_assert_int_eq(send_to(a, A2, P2, "0123456789", 10, MSG_DONTWAIT), 10);
	ck_assert_int_eq(send_to(a, A2, P2, "ab", 2, MSG_DONTWAIT), 2);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, &mflags), 4);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert(mflags & MSG_TRUNC);
	/* the rest of the first message is gone: the next read is the next message */
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, &mflags), 2);
	ck_assert(!(mflags & MSG_TRUNC));
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(msg_trunc_returns_the_whole_length)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	char buf[4];
	int mflags;

	ck_assert_int_eq(send_to(a, A2, P2, "0123456789", 10, MSG_DONTWAIT), 10);
	/* the size of the next message, without taking it */
	ck_assert_int_eq(recv_from(b, NULL, 0, MSG_PEEK | MSG_TRUNC, NULL, NULL), 10);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), MSG_TRUNC, NULL, &mflags), 10);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert(mflags & MSG_TRUNC);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(recv_flags_oob_and_errqueue)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	char buf[8];

	ck_assert_int_eq(send_to(a, A2, P2, "data", 4, MSG_DONTWAIT), 4);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), MSG_OOB, NULL, NULL), 0);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), MSG_ERRQUEUE, NULL, NULL), -EAGAIN);
	/* neither consumed the message */
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 4);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(a_blocking_recv_times_out_after_so_rcvtimeo)
{
	struct rsock r = bound_sock(A1, P1);
	struct timeval tv = { .tv_usec = 50 * 1000 };
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	ck_assert_int_eq(api_setsockopt(r.s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(api_recvmsg(r.s, &msg, 0), -ETIMEDOUT);
	close_sock(r);
}
END_TEST

struct delayed_send {
	struct rsock from;
	pthread_t thread;
};

static void *send_after_a_moment(void *arg)
{
	struct delayed_send *d = arg;

	usleep(50 * 1000);
	ck_assert_int_eq(send_to(d->from, A2, P2, "late", 4, 0), 4);
	return NULL;
}

START_TEST(a_blocking_recv_wakes_for_a_message)
{
	struct rsock b = bound_sock(A2, P2);
	struct delayed_send d = { .from = bound_sock(A1, P1) };
	char buf[8];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	ck_assert_int_eq(pthread_create(&d.thread, NULL, send_after_a_moment, &d), 0);
	ck_assert_int_eq(api_recvmsg(b.s, &msg, 0), 4);
	ck_assert_mem_eq(buf, "late", 4);
	pthread_join(d.thread, NULL);
	close_sock(d.from);
	close_sock(b);
}
END_TEST

/* §7: readiness of the fd api_socket(test_engine(), ) returned */

START_TEST(pollin_exactly_while_a_message_waits)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	char buf[8];

	ck_assert(!readable(b));
	ck_assert_int_eq(send_to(a, A2, P2, "one", 3, MSG_DONTWAIT), 3);
	ck_assert(readable(b));
	ck_assert_int_eq(send_to(a, A2, P2, "two", 3, MSG_DONTWAIT), 3);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), MSG_PEEK, NULL, NULL), 3);
	ck_assert(readable(b));
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 3);
	ck_assert(readable(b)); /* one still waits */
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 3);
	ck_assert(!readable(b));
	ck_assert(!readable(a));
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(pollout_on_a_socket_that_can_send)
{
	struct rsock fresh = open_sock(SOCK_SEQPACKET), a = bound_sock(A1, P1);
	static char buf[1000];

	ck_assert(writable(fresh));
	ck_assert(writable(a));
	/* a local destination frees what it was sent at once (§11): never full */
	ck_assert_int_eq(set_int(a, SOL_SOCKET, SO_SNDBUF, 8192), 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(send_to(a, A1, NOBODY, buf, sizeof(buf), MSG_DONTWAIT), 1000);
	ck_assert(writable(a));
	close_sock(fresh);
	close_sock(a);
}
END_TEST

/* §5 rows 18-19, §11: send-buffer accounting */

/* Sends 1000-byte messages until one fails; returns how many went, the failure in *err. */
static int fill(struct rsock r, const char *ip, uint16_t port, int *err)
{
	static char buf[1000];
	ssize_t n;
	int sent = 0;

	while ((n = send_to(r, ip, port, buf, sizeof(buf), MSG_DONTWAIT)) == sizeof(buf))
		if (++sent > 1000)
			break;
	*err = (int)n;
	return sent;
}

START_TEST(a_full_send_buffer_is_eagain_and_not_pollout)
{
	struct rsock a = bound_sock(A1, P1);
	int err;

	ck_assert_int_eq(set_int(a, SOL_SOCKET, SO_SNDBUF, 8192), 0);
	/* queued while the peer refuses: sent while less than 8192 bytes wait, so the last
	 * message overshoots */
	ck_assert_int_eq(fill(a, UNREACHABLE, P2, &err), 9);
	ck_assert_int_eq(err, -EAGAIN);
	ck_assert(!writable(a));
	ck_assert_int_eq(send_to(a, UNREACHABLE, P2, NULL, 0, MSG_DONTWAIT), -EAGAIN);
	/* the fd's O_NONBLOCK counts as MSG_DONTWAIT */
	ck_assert_int_eq(fcntl(a.fd, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(send_to(a, UNREACHABLE, P2, "x", 1, 0), -EAGAIN);
	close_sock(a);
}
END_TEST

START_TEST(cancelled_messages_give_their_room_back)
{
	struct rsock a = bound_sock(A1, P1);
	struct sockaddr_in dst = sin4(UNREACHABLE, P2);
	int err;

	ck_assert_int_eq(set_int(a, SOL_SOCKET, SO_SNDBUF, 8192), 0);
	ck_assert_int_eq(fill(a, UNREACHABLE, P2, &err), 9);
	ck_assert(!writable(a));
	ck_assert_int_eq(api_setsockopt(a.s, SOL_RDS, RDS_CANCEL_SENT_TO, &dst, sizeof(dst)), 0);
	ck_assert(writable(a));
	ck_assert_int_eq(fill(a, UNREACHABLE, P2, &err), 9);
	close_sock(a);
}
END_TEST

START_TEST(a_blocking_send_to_a_full_buffer_times_out)
{
	struct rsock a = bound_sock(A1, P1);
	struct timeval tv = { .tv_usec = 50 * 1000 };
	int err;

	ck_assert_int_eq(set_int(a, SOL_SOCKET, SO_SNDBUF, 8192), 0);
	ck_assert_int_eq(fill(a, UNREACHABLE, P2, &err), 9);
	ck_assert_int_eq(api_setsockopt(a.s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(send_to(a, UNREACHABLE, P2, "x", 1, 0), -ETIMEDOUT);
	close_sock(a);
}
END_TEST

/* The receiver's rcvbuf is 4096: its port is congested past 4096 unread bytes. */
static struct rsock slow_receiver(void)
{
	struct rsock b = bound_sock(A2, P2);

	ck_assert_int_eq(set_int(b, SOL_SOCKET, SO_RCVBUF, 4096), 0);
	return b;
}

START_TEST(a_congested_local_port_is_enobufs)
{
	struct rsock a = bound_sock(A1, P1), b = slow_receiver();
	int err;

	ck_assert_int_eq(fill(a, A2, P2, &err), 5); /* 5000 > 4096 unread */
	ck_assert_int_eq(err, -ENOBUFS);
	ck_assert(writable(a)); /* §7: POLLOUT says nothing about congestion */
	/* other ports of the same address are not congested */
	ck_assert_int_eq(send_to(a, A2, NOBODY, "x", 1, MSG_DONTWAIT), 1);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(reading_below_half_of_rcvbuf_uncongests)
{
	struct rsock a = bound_sock(A1, P1), b = slow_receiver();
	char buf[1000];
	int err;

	ck_assert_int_eq(fill(a, A2, P2, &err), 5);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 1000);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 1000);
	/* 3000 unread: not yet below 2048 */
	ck_assert_int_eq(send_to(a, A2, P2, buf, 1, MSG_DONTWAIT), -ENOBUFS);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 1000);
	ck_assert_int_eq(send_to(a, A2, P2, buf, 1, MSG_DONTWAIT), 1);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(closing_a_congested_receiver_uncongests)
{
	struct rsock a = bound_sock(A1, P1), b = slow_receiver();
	int err;

	ck_assert_int_eq(fill(a, A2, P2, &err), 5);
	close_sock(b);
	b = bound_sock(A2, P2);
	ck_assert_int_eq(send_to(a, A2, P2, "x", 1, MSG_DONTWAIT), 1);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(a_blocking_send_to_a_congested_port_times_out)
{
	struct rsock a = bound_sock(A1, P1), b = slow_receiver();
	struct timeval tv = { .tv_usec = 50 * 1000 };
	int err;

	ck_assert_int_eq(fill(a, A2, P2, &err), 5);
	/* the kernel would wait for ever here; mprds honours SO_SNDTIMEO (README) */
	ck_assert_int_eq(api_setsockopt(a.s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(send_to(a, A2, P2, "x", 1, 0), -ETIMEDOUT);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(cong_monitor_reports_the_port_that_drained)
{
	struct rsock a = bound_sock(A1, P1), b = slow_receiver();
	union {
		char buf[CMSG_SPACE(sizeof(uint64_t))];
		struct cmsghdr align;
	} control;
	char buf[1000];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	uint64_t mask;
	int err;

	ck_assert_int_eq(set_int(a, SOL_RDS, RDS_CONG_MONITOR, 1), 0);
	ck_assert_int_eq(fill(a, A2, P2, &err), 5);
	ck_assert(!readable(a));
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 1000);
	ck_assert(readable(a));
	ck_assert_int_eq(api_recvmsg(a.s, &msg, MSG_DONTWAIT), 0);
	ck_assert_ptr_nonnull(CMSG_FIRSTHDR(&msg));
	ck_assert_int_eq(CMSG_FIRSTHDR(&msg)->cmsg_type, RDS_CMSG_CONG_UPDATE);
	memcpy(&mask, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(mask));
	ck_assert(mask & (1ULL << (P2 % 64)));
	ck_assert(!readable(a));
	close_sock(a);
	close_sock(b);
}
END_TEST

/* §9, §10 */

START_TEST(options_of_unknown_levels_and_names_are_enoprotoopt)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	int v = 1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(api_getsockopt(r.s, SOL_IP, IP_TOS, &v, &len), -ENOPROTOOPT);
	ck_assert_int_eq(api_setsockopt(r.s, SOL_TCP, 1, &v, sizeof(v)), -ENOPROTOOPT);
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, 99, &v, &len), -ENOPROTOOPT);
	ck_assert_int_eq(api_setsockopt(r.s, SOL_RDS, 99, &v, sizeof(v)), -ENOPROTOOPT);
	/* set-only options */
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_CONG_MONITOR, &v, &len), -ENOPROTOOPT);
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_CANCEL_SENT_TO, &v, &len), -ENOPROTOOPT);
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, SO_RDS_MSG_RXPATH_LATENCY, &v, &len),
			 -ENOPROTOOPT);
	/* get-only */
	ck_assert_int_eq(api_setsockopt(r.s, SOL_RDS, RDS_INFO_COUNTERS, &v, sizeof(v)),
			 -ENOPROTOOPT);
	close_sock(r);
}
END_TEST

/*
 * §9: setsockopt at SOL_RDS (and SOL_SOCKET) with an argument of the wrong size, on a bound
 * socket unless the option checks its attachment first.
 */
static const struct optlen_row {
	const char *why;
	int level, name;
	socklen_t len;
	bool unbound;
	int err;
} set_optlen_rows[] = {
	{ "RDS_RECVERR", SOL_RDS, RDS_RECVERR, 3, false, -EINVAL },
	{ "RDS_CONG_MONITOR", SOL_RDS, RDS_CONG_MONITOR, 3, false, -EINVAL },
	{ "SO_RDS_TRANSPORT short", SOL_RDS, SO_RDS_TRANSPORT, 3, true, -EINVAL },
	{ "SO_RDS_TRANSPORT long", SOL_RDS, SO_RDS_TRANSPORT, 8, true, -EINVAL },
	{ "SO_RDS_MSG_RXPATH_LATENCY", SOL_RDS, SO_RDS_MSG_RXPATH_LATENCY, 3, false, -EFAULT },
	{ "SO_TIMESTAMP_OLD at SOL_RDS", SOL_RDS, SO_TIMESTAMP_OLD, 8, false, -EFAULT },
	{ "RDS_CANCEL_SENT_TO", SOL_RDS, RDS_CANCEL_SENT_TO, 8, false, -EINVAL },
	{ "RDS_GET_MR", SOL_RDS, RDS_GET_MR, 4, false, -EINVAL },
	{ "RDS_FREE_MR", SOL_RDS, RDS_FREE_MR, 4, false, -EINVAL },
	{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 2, false, -EINVAL },
	{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 2, false, -EINVAL },
};

START_TEST(setsockopt_checks_each_optlen)
{
	const struct optlen_row *row = &set_optlen_rows[_i];
	struct rsock r = row->unbound ? open_sock(SOCK_SEQPACKET) : bound_sock(A1, P1);
	char val[64] = { 0 };

	ck_assert_msg(api_setsockopt(r.s, row->level, row->name, val, row->len) == row->err,
		      "setsockopt %s, optlen %u", row->why, row->len);
	close_sock(r);
}
END_TEST

START_TEST(getsockopt_checks_optlen)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	char val[4];
	socklen_t len = 3;

	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, SO_RDS_TRANSPORT, val, &len), -EINVAL);
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_RECVERR, val, &len), -EINVAL);
	len = 0;
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_RECVERR, NULL, &len), -EINVAL);
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_RECVERR, val, NULL), -EFAULT);
	close_sock(r);
}
END_TEST

START_TEST(options_that_need_a_bound_socket_are_enotconn)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	struct sockaddr_in dst = sin4(A2, P2);
	struct rds_get_mr_args mr = { 0 };

	ck_assert_int_eq(api_setsockopt(r.s, SOL_RDS, RDS_CANCEL_SENT_TO, &dst, sizeof(dst)),
			 -ENOTCONN);
	ck_assert_int_eq(api_setsockopt(r.s, SOL_RDS, RDS_GET_MR, &mr, sizeof(mr)), -ENOTCONN);
	ck_assert_int_eq(bind_to(r, A1, P1), 0);
	/* TCP has no memory regions */
	ck_assert_int_eq(api_setsockopt(r.s, SOL_RDS, RDS_GET_MR, &mr, sizeof(mr)), -EOPNOTSUPP);
	close_sock(r);
}
END_TEST

START_TEST(so_rds_transport_is_set_once_before_bind)
{
	struct rsock r = open_sock(SOCK_SEQPACKET), bound = bound_sock(A1, P1);

	ck_assert_int_eq(opt_int(r, SOL_RDS, SO_RDS_TRANSPORT), RDS_TRANS_NONE);
	ck_assert_int_eq(set_int(r, SOL_RDS, SO_RDS_TRANSPORT, 3), -EINVAL);
	ck_assert_int_eq(set_int(r, SOL_RDS, SO_RDS_TRANSPORT, -1), -EINVAL);
	ck_assert_int_eq(set_int(r, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_IB), -ENOPROTOOPT);
	ck_assert_int_eq(set_int(r, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), 0);
	ck_assert_int_eq(opt_int(r, SOL_RDS, SO_RDS_TRANSPORT), RDS_TRANS_TCP);
	ck_assert_int_eq(set_int(r, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), -EOPNOTSUPP);
	/* bind attaches one too; ours is TCP whatever the address (README) */
	ck_assert_int_eq(set_int(bound, SOL_RDS, SO_RDS_TRANSPORT, RDS_TRANS_TCP), -EOPNOTSUPP);
	ck_assert_int_eq(opt_int(bound, SOL_RDS, SO_RDS_TRANSPORT), RDS_TRANS_TCP);
	close_sock(r);
	close_sock(bound);
}
END_TEST

START_TEST(so_sndbuf_and_so_rcvbuf_report_the_doubled_value)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);

	ck_assert_int_eq(set_int(r, SOL_SOCKET, SO_SNDBUF, 8192), 0);
	ck_assert_int_eq(opt_int(r, SOL_SOCKET, SO_SNDBUF), 16384);
	ck_assert_int_eq(set_int(r, SOL_SOCKET, SO_RCVBUF, 8192), 0);
	ck_assert_int_eq(opt_int(r, SOL_SOCKET, SO_RCVBUF), 16384);
	/* the kernel's minimum */
	ck_assert_int_eq(set_int(r, SOL_SOCKET, SO_SNDBUF, 1), 0);
	ck_assert_int_eq(opt_int(r, SOL_SOCKET, SO_SNDBUF), 4608);
	close_sock(r);
}
END_TEST

START_TEST(socket_level_identity)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);

	ck_assert_int_eq(opt_int(r, SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
	ck_assert_int_eq(opt_int(r, SOL_SOCKET, SO_DOMAIN), AF_RDS);
	ck_assert_int_eq(opt_int(r, SOL_SOCKET, SO_PROTOCOL), 0);
	ck_assert_int_eq(opt_int(r, SOL_RDS, RDS_RECVERR), 0);
	ck_assert_int_eq(set_int(r, SOL_RDS, RDS_RECVERR, 7), 0);
	ck_assert_int_eq(opt_int(r, SOL_RDS, RDS_RECVERR), 1);
	close_sock(r);
}
END_TEST

/* §13 */

START_TEST(ioctls)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	uint8_t tos = 0xff;
	int n;

	ck_assert_int_eq(api_ioctl(r.s, SIOCRDSSETTOS, &tos), -ENOTTY); /* unbound */
	ck_assert_int_eq(api_ioctl(r.s, FIONREAD, &n), -ENOTTY);
	ck_assert_int_eq(api_ioctl(r.s, SIOCOUTQ, &n), -ENOTTY);
	ck_assert_int_eq(api_ioctl(r.s, SIOCRDSGETTOS, &tos), 0);
	ck_assert_int_eq(tos, 0);
	ck_assert_int_eq(bind_to(r, A1, P1), 0);
	tos = 1;
	ck_assert_int_eq(api_ioctl(r.s, SIOCRDSSETTOS, &tos), 0);
	ck_assert_int_eq(api_ioctl(r.s, SIOCRDSSETTOS, NULL), -EFAULT);
	ck_assert_int_eq(send_to(r, A1, NOBODY, "x", 1, MSG_DONTWAIT), 1);
	/* once sent, the TOS is fixed */
	ck_assert_int_eq(api_ioctl(r.s, SIOCRDSSETTOS, &tos), -EINVAL);
	close_sock(r);
}
END_TEST

START_TEST(rds_info_returns_the_element_size)
{
	const struct info_size *row = &info_sizes[_i];
	struct rsock r = open_sock(SOCK_SEQPACKET);
	static char buf[64 * 1024];
	socklen_t len = sizeof(buf);

	ck_assert_msg(api_getsockopt(r.s, SOL_RDS, row->optname, buf, &len) == row->each,
		      "RDS_INFO %d", row->optname);
	ck_assert_int_eq(len % row->each, 0);
	close_sock(r);
}
END_TEST

START_TEST(rds_info_probe_says_how_much_room_it_needs)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	socklen_t len = 0;
	char *buf;

	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_INFO_COUNTERS, NULL, &len), -ENOSPC);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(len % 40, 0);
	buf = malloc(len);
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_INFO_COUNTERS, buf, &len), 40);
	len--;
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_INFO_COUNTERS, buf, &len), -ENOSPC);
	len = (socklen_t)-1; /* negative as an int */
	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_INFO_COUNTERS, buf, &len), -EINVAL);
	free(buf);
	close_sock(r);
}
END_TEST

START_TEST(rds_info_unregistered_tables_are_enoprotoopt)
{
	struct rsock r = open_sock(SOCK_SEQPACKET);
	static const int absent[] = { 10002, RDS_INFO_IB_CONNECTIONS, RDS_INFO_CONNECTION_STATS,
				      RDS_INFO_IWARP_CONNECTIONS, RDS6_INFO_IB_CONNECTIONS };
	char buf[256];

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		socklen_t len = sizeof(buf);

		ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, absent[i], buf, &len), -ENOPROTOOPT);
	}
	close_sock(r);
}
END_TEST

static socklen_t info_len(struct rsock r, int optname)
{
	static char buf[64 * 1024];
	socklen_t len = sizeof(buf);

	ck_assert_int_gt(api_getsockopt(r.s, SOL_RDS, optname, buf, &len), 0);
	return len;
}

START_TEST(rds_info_lists_sockets_and_unread_messages)
{
	struct rsock unbound = open_sock(SOCK_SEQPACKET);
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);

	/* the IPv4 table leaves unbound sockets out; the IPv6 one lists every socket */
	ck_assert_int_eq(info_len(unbound, RDS_INFO_SOCKETS), 2 * 28);
	ck_assert_int_eq(info_len(unbound, RDS6_INFO_SOCKETS), 3 * 52);
	ck_assert_int_eq(info_len(a, RDS_INFO_RECV_MESSAGES), 0);
	ck_assert_int_eq(send_to(a, A2, P2, "unread", 6, MSG_DONTWAIT), 6);
	ck_assert_int_eq(info_len(a, RDS_INFO_RECV_MESSAGES), 26);
	ck_assert_int_ge(info_len(a, RDS_INFO_CONNECTIONS), 42); /* A1 to A2, at least */
	close_sock(b);
	ck_assert_int_eq(info_len(a, RDS_INFO_RECV_MESSAGES), 0);
	ck_assert_int_eq(info_len(a, RDS_INFO_SOCKETS), 28);
	close_sock(a);
	close_sock(unbound);
}
END_TEST

/* §12: the engine's counter of that name in RDS_INFO_COUNTERS. */
static uint64_t counter(struct rsock r, const char *name)
{
	static struct rds_info_counter ctrs[COUNTERS_MAX];
	socklen_t len = sizeof(ctrs);

	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_INFO_COUNTERS, ctrs, &len),
			 (int)sizeof(ctrs[0]));
	return counter_in(ctrs, len, name);
}

START_TEST(counters_of_messages_queued_read_and_copied)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	char buf[4];

	ck_assert_int_eq(send_to(a, A2, P2, "0123456789", 10, MSG_DONTWAIT), 10);
	ck_assert_int_eq(send_to(a, A2, P2, "ab", 2, MSG_DONTWAIT), 2);
	ck_assert_int_eq(send_to(a, A2, P2, "xyz", 3, MSG_DONTWAIT), 3);
	ck_assert_uint_eq(counter(a, "send_queued"), 3);
	ck_assert_uint_eq(counter(a, "copy_from_user"), 15);
	ck_assert_uint_eq(counter(a, "recv_queued"), 3);
	ck_assert_uint_eq(counter(a, "recv_bytes_added_to_sock"), 15);
	ck_assert_uint_eq(counter(a, "recv_delivered"), 0); /* queued, not read yet */
	/* a peek is delivered and copied, as the kernel counts it; it frees nothing */
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), MSG_PEEK, NULL, NULL), 4);
	ck_assert_uint_eq(counter(b, "recv_delivered"), 1);
	ck_assert_uint_eq(counter(b, "recv_bytes_freed_fromsock"), 0);
	/* copy_to_user: what the buffers took (4 of the 10), not the messages' length */
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 4);
	ck_assert_int_eq(recv_from(b, buf, sizeof(buf), 0, NULL, NULL), 2);
	ck_assert_uint_eq(counter(b, "recv_delivered"), 3);
	ck_assert_uint_eq(counter(b, "copy_to_user"), 10);
	ck_assert_uint_eq(counter(b, "recv_bytes_freed_fromsock"), 12);
	/* what a closed socket never read leaves it too */
	close_sock(b);
	ck_assert_uint_eq(counter(a, "recv_bytes_freed_fromsock"), 15);
	ck_assert_uint_eq(counter(a, "recv_drop_no_sock"), 0);
	close_sock(a);
}
END_TEST

START_TEST(counters_of_a_ping_and_of_a_message_nobody_takes)
{
	struct rsock a = bound_sock(A1, P1), b = bound_sock(A2, P2);
	char buf[4];

	ck_assert_int_eq(send_to(a, A2, 0, "ping", 4, MSG_DONTWAIT), 4);
	ck_assert_int_eq(recv_from(a, buf, sizeof(buf), 0, NULL, NULL), 0);
	ck_assert_uint_eq(counter(a, "recv_ping"), 1);
	ck_assert_uint_eq(counter(a, "send_pong"), 1);
	ck_assert_uint_eq(counter(a, "send_queued"), 2); /* the ping, and the pong */
	ck_assert_uint_eq(counter(a, "recv_queued"), 1); /* the pong */
	ck_assert_uint_eq(counter(a, "recv_drop_no_sock"), 0);
	ck_assert_int_eq(send_to(a, A1, NOBODY, "lost", 4, MSG_DONTWAIT), 4);
	ck_assert_uint_eq(counter(a, "recv_drop_no_sock"), 1);
	ck_assert_uint_eq(counter(a, "recv_queued"), 1);
	ck_assert_uint_eq(counter(a, "recv_ping"), 1);
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(counters_of_sends_refused_or_waiting)
{
	struct rsock a = bound_sock(A1, P1), b = slow_receiver(), c = bound_sock(A1, P1 + 10);
	struct timeval tv = { .tv_usec = 20 * 1000 };
	int err;

	/* a congested port: refused without waiting, or waited for (once a call) */
	ck_assert_int_eq(fill(a, A2, P2, &err), 5);
	ck_assert_int_eq(err, -ENOBUFS);
	ck_assert_uint_eq(counter(a, "cong_send_error"), 1);
	ck_assert_uint_eq(counter(a, "cong_send_blocked"), 0);
	ck_assert_int_eq(api_setsockopt(a.s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(send_to(a, A2, P2, "x", 1, 0), -ETIMEDOUT);
	ck_assert_uint_eq(counter(a, "cong_send_blocked"), 1);
	ck_assert_uint_eq(counter(a, "cong_send_error"), 1);
	/* a full send buffer: EAGAIN, then a wait that times out */
	ck_assert_int_eq(set_int(c, SOL_SOCKET, SO_SNDBUF, 8192), 0);
	ck_assert_int_eq(fill(c, UNREACHABLE, P2, &err), 9);
	ck_assert_int_eq(err, -EAGAIN);
	ck_assert_uint_eq(counter(c, "send_queue_full"), 1);
	ck_assert_int_eq(api_setsockopt(c.s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(send_to(c, UNREACHABLE, P2, "x", 1, 0), -ETIMEDOUT);
	ck_assert_uint_ge(counter(c, "send_queue_full"), 2);
	ck_assert_uint_eq(counter(c, "send_queued"), 5 + 9);
	close_sock(a);
	close_sock(b);
	close_sock(c);
}
END_TEST

static void add_loop(TCase *tc, const TTest *t, size_t rows)
{
	tcase_add_loop_test(tc, t, 0, (int)rows);
}

#define ROWS(a) (sizeof(a) / sizeof((a)[0]))

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *calls = tcase_create("errnos"), *data = tcase_create("delivery");
	TCase *room = tcase_create("send buffer and readiness"), *opts = tcase_create("options");

	tcase_add_test(calls, socket_takes_only_seqpacket_and_protocol_0);
	tcase_add_test(calls, socket_honours_sock_nonblock);
	add_loop(calls, bind_rejects_each_bad_address, ROWS(bind_rows));
	tcase_add_test(calls, bind_twice_is_einval);
	tcase_add_test(calls, bind_to_a_taken_port_is_eaddrinuse_until_released);
	tcase_add_test(calls, bind_port_1_is_reserved_for_the_probe);
	tcase_add_test(calls, bind_after_choosing_another_transport_is_enoprotoopt);
	tcase_add_test(calls, bind_port_0_picks_a_free_port_of_2_or_more);
	add_loop(calls, connect_rejects_each_bad_address, ROWS(connect_rows));
	tcase_add_test(calls, names_of_an_unbound_socket);
	tcase_add_test(calls, names_after_bind_and_connect);
	tcase_add_test(calls, a_negative_name_length_is_einval_and_nothing_is_written);
	add_loop(calls, sendmsg_rejects_each_bad_argument, ROWS(send_rows));
	tcase_add_test(calls, send_from_an_unbound_socket_is_enotconn);
	tcase_add_test(calls, send_without_a_destination_is_enotconn);
	tcase_add_test(calls, send_of_more_than_1_mib_is_emsgsize);
	tcase_add_test(calls, send_of_more_than_sndbuf_is_emsgsize);
	tcase_add_test(calls, send_with_a_null_iov_is_efault);
	add_loop(calls, sendmsg_checks_each_control_message, ROWS(cmsg_rows));
	tcase_add_test(calls, sendmsg_rejects_a_control_buffer_it_cannot_walk);
	suite_add_tcase(s, calls);

	tcase_add_test(data, a_message_reaches_a_local_socket_with_its_source);
	tcase_add_test(data, messages_arrive_whole_and_in_order);
	tcase_add_test(data, connect_gives_the_default_destination);
	tcase_add_test(data, a_zero_byte_message_is_delivered_with_its_source);
	tcase_add_test(data, a_message_to_an_unbound_port_is_dropped_silently);
	tcase_add_test(data, a_ping_to_port_0_comes_back_empty_from_port_0);
	tcase_add_test(data, peek_leaves_the_message_queued);
	tcase_add_test(data, a_short_buffer_truncates_and_discards_the_rest);
	tcase_add_test(data, msg_trunc_returns_the_whole_length);
	tcase_add_test(data, recv_flags_oob_and_errqueue);
	tcase_add_test(data, a_blocking_recv_times_out_after_so_rcvtimeo);
	tcase_add_test(data, a_blocking_recv_wakes_for_a_message);
	suite_add_tcase(s, data);

	tcase_add_test(room, pollin_exactly_while_a_message_waits);
	tcase_add_test(room, pollout_on_a_socket_that_can_send);
	tcase_add_test(room, a_full_send_buffer_is_eagain_and_not_pollout);
	tcase_add_test(room, cancelled_messages_give_their_room_back);
	tcase_add_test(room, a_blocking_send_to_a_full_buffer_times_out);
	tcase_add_test(room, a_congested_local_port_is_enobufs);
	tcase_add_test(room, reading_below_half_of_rcvbuf_uncongests);
	tcase_add_test(room, closing_a_congested_receiver_uncongests);
	tcase_add_test(room, a_blocking_send_to_a_congested_port_times_out);
	tcase_add_test(room, cong_monitor_reports_the_port_that_drained);
	suite_add_tcase(s, room);

	tcase_add_test(opts, options_of_unknown_levels_and_names_are_enoprotoopt);
	add_loop(opts, setsockopt_checks_each_optlen, ROWS(set_optlen_rows));
	tcase_add_test(opts, getsockopt_checks_optlen);
	tcase_add_test(opts, options_that_need_a_bound_socket_are_enotconn);
	tcase_add_test(opts, so_rds_transport_is_set_once_before_bind);
	tcase_add_test(opts, so_sndbuf_and_so_rcvbuf_report_the_doubled_value);
	tcase_add_test(opts, socket_level_identity);
	tcase_add_test(opts, ioctls);
	add_loop(opts, rds_info_returns_the_element_size, ROWS(info_sizes));
	tcase_add_test(opts, rds_info_probe_says_how_much_room_it_needs);
	tcase_add_test(opts, rds_info_unregistered_tables_are_enoprotoopt);
	tcase_add_test(opts, rds_info_lists_sockets_and_unread_messages);
	tcase_add_test(opts, counters_of_messages_queued_read_and_copied);
	tcase_add_test(opts, counters_of_a_ping_and_of_a_message_nobody_takes);
	tcase_add_test(opts, counters_of_sends_refused_or_waiting);
	suite_add_tcase(s, opts);
	return s;
}

int main(void)
{
	/* read by the engine when it starts, in each test's child */
	setenv("MPRDS_TCP_PORT", TEST_TCP_PORT, 1);
	return check_run(api_suite());
}
