// SPDX-License-Identifier: MIT
/*
 * One socket's readiness: the application's fd is readable exactly while something waits to
 * be received, and the loop thread sends that edge as it lets go of the engine lock.
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/engine.h"
#include "mprds/msg.h"
#include "mprds/sock.h"
#include "test_engine.h"

static struct engine *eng;
static struct sock *s;
static int fds[2];

static bool readable(void)
{
	struct pollfd pfd = { .fd = fds[0], .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
	eng = test_engine_new();
	ck_assert_ptr_nonnull(eng);
	s = sock_new(eng, fds[0], fds[1]);
	ck_assert_ptr_nonnull(s);
}

static void teardown(void)
{
	sock_put(s);
	close(fds[0]);
	close(fds[1]);
	engine_free(eng);
}

START_TEST(readable_exactly_while_a_message_waits)
{
	ck_assert(!readable());
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	ck_assert(readable());
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	msg_free(sock_rx_take(s, false));
	ck_assert(readable()); /* one still waits */
	msg_free(sock_rx_take(s, false));
	ck_assert(!readable());
}
END_TEST

START_TEST(the_loop_thread_signals_as_it_lets_go)
{
	eng->socks.has_loop = true; /* this thread plays the loop thread */
	eng->socks.loop = pthread_self();
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	ck_assert(!readable());
	ck_assert_int_eq(s->refs, 2); /* held until the edge is sent */
	sock_signal_due(eng);
	ck_assert(readable());
	ck_assert_int_eq(s->refs, 1);
	ck_assert_ptr_null(LIST_FIRST(&eng->socks.signals_due));
	/* an application thread takes them: the fd goes quiet at once */
	eng->socks.has_loop = false;
	msg_free(sock_rx_take(s, false));
	msg_free(sock_rx_take(s, false));
	ck_assert(!readable());
}
END_TEST

START_TEST(a_socket_released_before_the_edge_gets_none)
{
	eng->socks.has_loop = true;
	eng->socks.loop = pthread_self();
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	s->released = true;
	sock_signal_due(eng);
	ck_assert(!readable());
	ck_assert_int_eq(s->refs, 1);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("sock");
	TCase *tc = tcase_create("readiness");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, readable_exactly_while_a_message_waits);
	tcase_add_test(tc, the_loop_thread_signals_as_it_lets_go);
	tcase_add_test(tc, a_socket_released_before_the_edge_gets_none);
	suite_add_tcase(suite, tc);
	sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
