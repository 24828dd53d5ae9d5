// SPDX-License-Identifier: MIT
/*
 * Engines are objects, not a process singleton: two of them live in one process, each with
 * its own loop thread, sockets, port space and connections, talk to each other over real
 * TCP on loopback as two hosts would, and each is freed with everything it holds.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/rds.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/api.h"
#include "mprds/engine.h"

#include "check_main.h"
#include "counters.h"

#define TEST_TCP_PORT "26387" /* unusual: nothing else on the machine is disturbed */
#define HOST1 "127.0.0.91"
#define HOST2 "127.0.0.92"

struct rsock {
	struct api_sock *s;
	int fd;
};

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct engine *new_engine(void)
{
	struct engine *e = NULL;

	ck_assert_int_eq(api_engine_new(&e), 0);
	return e;
}

static struct rsock bound_sock(struct engine *e, const char *ip, uint16_t port)
{
	struct sockaddr_in a = sin4(ip, port);
	struct rsock r;

	r.fd = api_socket(e, SOCK_SEQPACKET, 0, &r.s);
	ck_assert_int_ge(r.fd, 0);
	ck_assert_int_eq(api_bind(r.s, (struct sockaddr *)&a, sizeof(a)), 0);
	return r;
}

static void close_sock(struct rsock r)
{
	api_release(r.s);
	close(r.fd);
}

static void send_to(struct rsock r, const char *ip, uint16_t port, const char *text)
{
	struct sockaddr_in a = sin4(ip, port);
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = {
		.msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1
	};

	ck_assert_int_eq(api_sendmsg(r.s, &msg, 0), (ssize_t)strlen(text));
}

/* Waits (at most 5 s) for one message and checks its text and source. */
static void expect(struct rsock r, const char *text, const char *from_ip, uint16_t from_port)
{
	struct pollfd pfd = { .fd = r.fd, .events = POLLIN };
	struct sockaddr_in from, want = sin4(from_ip, from_port);
	char buf[64] = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1
	};

	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	ck_assert_int_eq(api_recvmsg(r.s, &msg, MSG_DONTWAIT), (ssize_t)strlen(text));
	ck_assert_str_eq(buf, text);
	ck_assert_uint_eq(from.sin_addr.s_addr, want.sin_addr.s_addr);
	ck_assert_uint_eq(from.sin_port, want.sin_port);
}

static int connections(struct rsock r)
{
	struct rds_info_connection conns[8];
	socklen_t len = sizeof(conns);
	int each = api_getsockopt(r.s, SOL_RDS, RDS_INFO_CONNECTIONS, conns, &len);

	ck_assert_int_gt(each, 0);
	return (int)(len / (socklen_t)each);
}

/* §12: r's engine's counter of that name in RDS_INFO_COUNTERS. */
static uint64_t counter(struct rsock r, const char *name)
{
	static struct rds_info_counter ctrs[COUNTERS_MAX];
	socklen_t len = sizeof(ctrs);

	ck_assert_int_eq(api_getsockopt(r.s, SOL_RDS, RDS_INFO_COUNTERS, ctrs, &len),
			 (int)sizeof(ctrs[0]));
	return counter_in(ctrs, len, name);
}

/* The loop thread counts what arrives: waits (at most 5 s) until the counter has value. */
static void wait_counter(struct rsock r, const char *name, uint64_t value)
{
	for (int i = 0; i < 500 && counter(r, name) != value; i++)
		usleep(10000);
	ck_assert_uint_eq(counter(r, name), value);
}

START_TEST(two_engines_in_one_process_talk_over_tcp)
{
	struct engine *e1 = new_engine(), *e2 = new_engine();
	struct rsock a = bound_sock(e1, HOST1, 5001), b = bound_sock(e2, HOST2, 5002);

	ck_assert_ptr_ne(e1, e2);
	send_to(a, HOST2, 5002, "one to two");
	expect(b, "one to two", HOST1, 5001);
	send_to(b, HOST1, 5001, "two to one");
	expect(a, "two to one", HOST2, 5002);
	/* each engine reports its own connection, not the other's */
	ck_assert_int_eq(connections(a), 1);
	ck_assert_int_eq(connections(b), 1);
	close_sock(a);
	close_sock(b);
	engine_free(e1);
	engine_free(e2);
}
END_TEST

START_TEST(an_address_belongs_to_one_engine)
{
	struct engine *e1 = new_engine(), *e2 = new_engine();
	struct rsock a = bound_sock(e1, HOST1, 5003), b;
	struct sockaddr_in same = sin4(HOST1, 5003);

	/* another engine is another host: the address (its TCP listener) is taken */
	b.fd = api_socket(e2, SOCK_SEQPACKET, 0, &b.s);
	ck_assert_int_ge(b.fd, 0);
	ck_assert_int_eq(api_bind(b.s, (struct sockaddr *)&same, sizeof(same)), -EADDRINUSE);
	close_sock(a);
	close_sock(b);
	engine_free(e1);
	engine_free(e2);
}
END_TEST

START_TEST(an_engine_frees_what_it_still_holds)
{
	struct engine *e1 = new_engine();
	struct rsock a = bound_sock(e1, HOST1, 5004);

	/* queued to an address nobody serves: still held when the engine goes */
	send_to(a, "127.0.0.99", 5005, "never delivered");
	close_sock(a);
	engine_free(e1); /* under SAN=1, ASan reports anything left behind */
}
END_TEST

/* The counters are the engine's own: mprdsd's one engine counts for the whole host. */
START_TEST(each_engine_counts_its_own_events)
{
	struct engine *e1 = new_engine(), *e2 = new_engine();
	struct rsock a = bound_sock(e1, HOST1, 5006), b = bound_sock(e2, HOST2, 5007);
	uint64_t pings, pongs;

	send_to(a, HOST2, 5007, "one");
	send_to(a, HOST2, 5007, "two");
	expect(b, "one", HOST1, 5006);
	expect(b, "two", HOST1, 5006);
	ck_assert_uint_eq(counter(a, "copy_from_user"), 6);
	ck_assert_uint_eq(counter(b, "copy_from_user"), 0);
	ck_assert_uint_eq(counter(b, "recv_delivered"), 2);
	ck_assert_uint_eq(counter(b, "copy_to_user"), 6);
	ck_assert_uint_eq(counter(a, "recv_delivered"), 0);
	ck_assert_uint_ge(counter(b, "tcp_data_ready_calls"), 1);
	/* a ping over TCP, answered by the other engine (after the handshake's probe) */
	pings = counter(b, "recv_ping");
	pongs = counter(b, "send_pong");
	send_to(a, HOST2, 0, "");
	expect(a, "", HOST2, 0);
	ck_assert_uint_eq(counter(b, "recv_ping"), pings + 1);
	ck_assert_uint_eq(counter(b, "send_pong"), pongs + 1);
	send_to(a, HOST2, 5999, "nobody");
	wait_counter(b, "recv_drop_no_sock", 1);
	ck_assert_uint_eq(counter(a, "recv_drop_no_sock"), 0);
	close_sock(a);
	close_sock(b);
	engine_free(e1);
	engine_free(e2);
}
END_TEST

/* A TCP connection from the smaller address when its one path is up: closed (rds_tcp's name). */
START_TEST(a_connection_no_path_needs_counts_as_closed_stale)
{
	struct engine *e1, *e2;
	struct rsock a, b;
	struct sockaddr_in from = sin4(HOST1, 0), to = sin4(HOST2, atoi(TEST_TCP_PORT));
	int fd;

	setenv("MPRDS_NPATHS", "1", 1); /* this test's child only */
	e1 = new_engine();
	e2 = new_engine();
	a = bound_sock(e1, HOST1, 5008);
	b = bound_sock(e2, HOST2, 5009);
	send_to(a, HOST2, 5009, "up");
	expect(b, "up", HOST1, 5008);
	ck_assert_uint_eq(counter(b, "tcp_listen_closed_stale"), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	wait_counter(b, "tcp_listen_closed_stale", 1);
	close(fd);
	close_sock(a);
	close_sock(b);
	engine_free(e1);
	engine_free(e2);
}
END_TEST

static Suite *engines_suite(void)
{
	Suite *s = suite_create("engines");
	TCase *tc = tcase_create("objects");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, two_engines_in_one_process_talk_over_tcp);
	tcase_add_test(tc, an_address_belongs_to_one_engine);
	tcase_add_test(tc, an_engine_frees_what_it_still_holds);
	tcase_add_test(tc, each_engine_counts_its_own_events);
	tcase_add_test(tc, a_connection_no_path_needs_counts_as_closed_stale);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	setenv("MPRDS_TCP_PORT", TEST_TCP_PORT, 1);
	setenv("MPRDS_LOG", "error", 0);
	return check_run(engines_suite());
}
