// SPDX-License-Identifier: MIT
/*
 * One socket's readiness: the application's fd is readable exactly while something waits to
 * be received, and the loop thread sends that edge as it lets go of the engine lock.
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/api.h"
#include "mprds/engine.h"
#include "mprds/msg.h"
#include "mprds/sock.h"

#include "check_main.h"
#include "test_engine.h"

static struct engine *eng;
static struct sock *s;
static int fds[2];

static bool readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

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
	if (s)
		sock_put(s);
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	engine_free(eng);
}

/* An application thread: it reads what the socket holds. */
static void *take_all(void *arg)
{
	struct msg *m;

	while ((m = sock_rx_take(arg, false)))
		msg_free(m);
	return NULL;
}

START_TEST(readable_exactly_while_a_message_waits)
{
	ck_assert(!readable(fds[0]));
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	ck_assert(readable(fds[0]));
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	msg_free(sock_rx_take(s, false));
	ck_assert(readable(fds[0])); /* one still waits */
	msg_free(sock_rx_take(s, false));
	ck_assert(!readable(fds[0]));
}
END_TEST

START_TEST(the_loop_thread_signals_as_it_lets_go)
{
	pthread_t app;

	sock_table_set_loop(&eng->socks, pthread_self()); /* this thread plays the loop thread */
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	ck_assert(!readable(fds[0]));
	ck_assert_int_eq(s->refs, 2); /* held until the edge is sent */
	sock_signal_due(eng);
	ck_assert(readable(fds[0]));
	ck_assert_int_eq(s->refs, 1);
	ck_assert_ptr_null(LIST_FIRST(&eng->socks.signals_due));
	/* an application thread takes them: the fd goes quiet at once */
	ck_assert_int_eq(pthread_create(&app, NULL, take_all, s), 0);
	ck_assert_int_eq(pthread_join(app, NULL), 0);
	ck_assert(!readable(fds[0]));
}
END_TEST

/* The edge must not go to the engine's fd of a closed socket: its number may be reused. */
START_TEST(a_socket_released_before_the_edge_gets_none)
{
	int old = fds[1], reused[2];

	sock_table_set_loop(&eng->socks, pthread_self());
	sock_deliver(s, msg_new(eng, 1, 2, NULL, 0));
	/* the application closes it: its reference and the engine's fd go, the edge's stays */
	api_release((struct api_sock *)s);
	s = NULL;
	fds[1] = -1;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, reused), 0);
	ck_assert_int_eq(reused[0], old); /* the lowest free number: the engine's old fd */
	sock_signal_due(eng); /* frees the socket */
	ck_assert(!readable(reused[1]));
	close(reused[0]);
	close(reused[1]);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("sock");
	TCase *tc = check_tcase(suite, "readiness", setup, teardown);

	tcase_add_test(tc, readable_exactly_while_a_message_waits);
	tcase_add_test(tc, the_loop_thread_signals_as_it_lets_go);
	tcase_add_test(tc, a_socket_released_before_the_edge_gets_none);
	return check_run(suite);
}
