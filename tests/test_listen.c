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

/*
 * A 7.x peer that still knows our old handshake reconnects a lane before its path 0: before
 * the handshake that lane is our path 0. Its handshake (SPORT_IDX) drops it before any of our
 * data goes on it, and the lane's receive numbering goes to lane 3: the peer's resend there is
 * a duplicate, and what path 0 carries next is new.
 */
START_TEST(a_lane_filed_as_path0_is_dropped_at_the_handshake)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	/* the peer answers our probe on the connection it came on, in that lane's numbering */
	struct wire_header pong = handshake(false, 9, 8, PEER_GEN, true);
	struct path *p0 = &c->paths[0], *p3 = &c->paths[3];

	ck_assert_int_eq(fake_accept_from(p0, 40003), 0);
	peer_data(p0, 7, 5000, "m7", 0);
	peer_data(p0, 8, 5000, "m8", 0);
	fake_peer_send(p0, &pong, NULL);
	ck_assert_int_eq(p0->state, PATH_DOWN);
	ck_assert_int_eq(c->npaths, 8);
	ck_assert_ptr_eq(listen_pick_slot(c, 40003), p3);
	ck_assert_int_eq(fake_accept_from(p3, 40003), 0);
	peer_data(p3, 8, 5000, "m8", WIRE_FLAG_RETRANSMITTED);
	peer_data(p3, 9, 5000, "m9", WIRE_FLAG_RETRANSMITTED);
	ck_assert_uint_eq(p3->dups, 2);
	ck_assert_int_eq(fake_accept_from(p0, 40000), 0);
	peer_data(p0, 1, 5000, "on path 0", WIRE_FLAG_RETRANSMITTED);
	app_reads(s, "m7");
	app_reads(s, "m8");
	app_reads(s, "on path 0");
	ck_assert_int_eq(app_read_all(s), 0);
	free_sock(s);
}
END_TEST

/* A lane whose port says path 0 stays. */
START_TEST(path0_from_a_port_of_lane0_stays_at_the_handshake)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct wire_header probe = handshake(true, 1, 8, PEER_GEN, true);

	ck_assert_int_eq(fake_accept_from(&c->paths[0], 40008), 0);
	fake_peer_send(&c->paths[0], &probe, NULL);
	ck_assert_int_eq(c->paths[0].state, PATH_UP);
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
	tcase_add_test(tc, a_lane_filed_as_path0_is_dropped_at_the_handshake);
	tcase_add_test(tc, path0_from_a_port_of_lane0_stays_at_the_handshake);
	return check_run(s);
}
