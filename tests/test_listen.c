// SPDX-License-Identifier: MIT
/*
 * The accept rules of wire.md §7: which path an accepted TCP connection becomes. A peer that
 * advertises SPORT_IDX (7.0+) is filed by its source port % 8; any other (≤6.19) takes the
 * first path without a connection, path 0 alone until the handshake.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/tcp_listen.h"
#include "test_engine.h"

static struct engine *eng;
static struct conn *c;

static struct addr v4(const char *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct addr a;
	uint16_t port;

	inet_pton(AF_INET, s, &sin.sin_addr);
	addr_parse((struct sockaddr *)&sin, sizeof(sin), &a, &port);
	return a;
}

static void setup(void)
{
	struct addr l = v4("198.18.0.2"), f = v4("198.18.0.1");

	eng = test_engine_new();
	ck_assert_ptr_nonnull(eng);
	c = conn_get(eng, &l, &f);
}

static void teardown(void)
{
	engine_free(eng);
}

START_TEST(before_the_handshake_only_path0)
{
	ck_assert_ptr_eq(listen_pick_slot(c, 32777), &c->paths[0]);
	c->paths[0].state = PATH_UP;
	ck_assert_ptr_null(listen_pick_slot(c, 32777)); /* a lane SYN too early: refused */
}
END_TEST

START_TEST(sport_idx_files_by_source_port)
{
	c->npaths = 8;
	c->peer_sport_idx = true;
	/* wire.md §15: 32776 % 8 == 0 is path 0; the index survives any connect order */
	ck_assert_ptr_eq(listen_pick_slot(c, 32776), &c->paths[0]);
	ck_assert_ptr_eq(listen_pick_slot(c, 32779), &c->paths[3]);
	ck_assert_ptr_eq(listen_pick_slot(c, 32783), &c->paths[7]);
	c->paths[3].state = PATH_UP; /* a reconnect takes over its own slot */
	ck_assert_ptr_eq(listen_pick_slot(c, 40003), &c->paths[3]);
}
END_TEST

START_TEST(sport_idx_beyond_npaths_is_refused)
{
	c->npaths = 4;
	c->peer_sport_idx = true;
	ck_assert_ptr_eq(listen_pick_slot(c, 32770), &c->paths[2]);
	ck_assert_ptr_null(listen_pick_slot(c, 32773)); /* index 5 of 4 paths */
}
END_TEST

START_TEST(without_sport_idx_first_free_path)
{
	c->npaths = 8;
	c->paths[0].state = PATH_UP;
	c->paths[1].state = PATH_UP;
	ck_assert_ptr_eq(listen_pick_slot(c, 32776), &c->paths[2]);
	for (int i = 0; i < 8; i++)
		c->paths[i].state = PATH_UP;
	ck_assert_ptr_null(listen_pick_slot(c, 32776));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("listen");
	TCase *tc = tcase_create("accept slots");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, before_the_handshake_only_path0);
	tcase_add_test(tc, sport_idx_files_by_source_port);
	tcase_add_test(tc, sport_idx_beyond_npaths_is_refused);
	tcase_add_test(tc, without_sport_idx_first_free_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
