// SPDX-License-Identifier: MIT
/*
 * The accept rules of wire.md §7: which path an accepted TCP connection becomes. A peer that
 * advertises SPORT_IDX (7.0+) is filed by its source port % 8; any other (≤6.19) takes the
 * first path without a connection, path 0 alone until the handshake. We are the larger
 * address; the peer's connections and handshake come through the fake transport.
 */
#include <check.h>

#include "mprds/tcp_listen.h"

#include "check_main.h"
#include "fake_peer.h"

START_TEST(before_the_handshake_only_path0)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);

	ck_assert_ptr_eq(listen_pick_slot(c, 32777), &c->paths[0]);
	ck_assert_int_eq(fake_accept(&c->paths[0]), 0);
	ck_assert_ptr_null(listen_pick_slot(c, 32777)); /* a lane SYN too early: refused */
}
END_TEST

START_TEST(sport_idx_files_by_source_port)
{
	struct conn *c = handshake_as_larger(8, PEER_GEN, true);

	/* wire.md §15: 32776 % 8 == 0 is path 0; the index survives any connect order */
	ck_assert_ptr_eq(listen_pick_slot(c, 32776), &c->paths[0]);
	ck_assert_ptr_eq(listen_pick_slot(c, 32779), &c->paths[3]);
	ck_assert_ptr_eq(listen_pick_slot(c, 32783), &c->paths[7]);
	ck_assert_int_eq(fake_accept(&c->paths[3]), 0);
	ck_assert_int_eq(c->paths[3].state, PATH_UP);
	ck_assert_ptr_eq(listen_pick_slot(c, 40003), &c->paths[3]); /* a reconnect: its own slot */
}
END_TEST

START_TEST(sport_idx_beyond_npaths_is_refused)
{
	struct conn *c;

	fake_engine_setup(4);
	c = handshake_as_larger(8, PEER_GEN, true);
	ck_assert_int_eq(c->npaths, 4);
	ck_assert_ptr_eq(listen_pick_slot(c, 32770), &c->paths[2]);
	ck_assert_ptr_null(listen_pick_slot(c, 32773)); /* index 5 of 4 paths */
}
END_TEST

START_TEST(without_sport_idx_first_free_path)
{
	struct conn *c = handshake_as_larger(8, PEER_GEN, false);

	ck_assert_int_eq(c->npaths, 8);
	ck_assert_ptr_eq(listen_pick_slot(c, 32776), &c->paths[1]);
	ck_assert_int_eq(fake_accept(&c->paths[1]), 0);
	ck_assert_ptr_eq(listen_pick_slot(c, 32776), &c->paths[2]);
	for (int i = 2; i < 8; i++)
		ck_assert_int_eq(fake_accept(&c->paths[i]), 0);
	ck_assert_ptr_null(listen_pick_slot(c, 32776));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("listen");
	TCase *tc = check_tcase(s, "accept slots", fake_peer_setup8, fake_peer_teardown);

	tcase_add_test(tc, before_the_handshake_only_path0);
	tcase_add_test(tc, sport_idx_files_by_source_port);
	tcase_add_test(tc, sport_idx_beyond_npaths_is_refused);
	tcase_add_test(tc, without_sport_idx_first_free_path);
	return check_run(s);
}
