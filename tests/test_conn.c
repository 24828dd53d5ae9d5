// SPDX-License-Identifier: MIT
/*
 * The multipath handshake and the receive classification, driven without TCP: bytes are
 * fed to a path as if read from its connection, and the queues are inspected.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/sock.h"
#include "test_engine.h"

static struct engine *eng;
static struct addr a_small, a_large;

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
	if (eng)
		engine_free(eng); /* each test starts with a fresh engine */
	eng = test_engine_new();
	ck_assert_ptr_nonnull(eng);
	a_small = v4("198.18.0.1");
	a_large = v4("198.18.0.2");
}

static int queue_len(struct msg_queue *q)
{
	struct msg *m;
	int n = 0;

	TAILQ_FOREACH(m, q, link)
	n++;
	return n;
}

static void feed(struct path *p, const struct wire_header *h, const void *payload)
{
	uint8_t buf[WIRE_HDR_LEN + 64];

	wire_header_encode(h, buf);
	if (h->len)
		memcpy(buf + WIRE_HDR_LEN, payload, h->len);
	ck_assert_int_eq(path_receive(p, buf, WIRE_HDR_LEN + h->len), 0);
}

START_TEST(probe_is_queued_once_with_npaths)
{
	struct conn *c = conn_get(eng, &a_small, &a_large);
	struct msg *m;
	struct wire_exts ex;

	ck_assert(c->smaller);
	ck_assert_int_eq(c->npaths, 0);
	conn_probe(c);
	conn_probe(c);
	ck_assert_int_eq(queue_len(&c->paths[0].sendq), 1);
	m = TAILQ_FIRST(&c->paths[0].sendq);
	ck_assert_uint_eq(m->h.seq, 1);
	ck_assert_uint_eq(m->h.sport, WIRE_PROBE_PORT);
	ck_assert_uint_eq(m->h.dport, 0);
	wire_exts_parse(m->h.ext, &ex);
	ck_assert(ex.has_npaths);
	ck_assert_uint_eq(ex.npaths, 8);
	ck_assert(ex.has_gen_num);
	ck_assert_uint_eq(ex.gen_num, 0x9abcdef0);
}
END_TEST

START_TEST(pong_sets_npaths_to_the_minimum)
{
	static const int offers[] = { 8, 4, 2, 1, 16 };
	static const int want[] = { 8, 4, 2, 1, 8 };

	for (unsigned i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
		struct conn *c;
		struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
		struct wire_exts ex = { .has_npaths = true, .npaths = (uint16_t)offers[i] };

		setup();
		c = conn_get(eng, &a_small, &a_large);
		conn_probe(c);
		wire_exts_build(&ex, h.ext);
		feed(&c->paths[0], &h, NULL);
		ck_assert_int_eq(c->npaths, want[i]);
		ck_assert(!c->probe_pending);
	}
}
END_TEST

START_TEST(own_limit_caps_npaths)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct wire_exts ex = { .has_npaths = true, .npaths = 8 };
	struct conn *c;

	eng->cfg.npaths = 1;
	c = conn_get(eng, &a_small, &a_large);
	wire_exts_build(&ex, h.ext);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 1);
}
END_TEST

START_TEST(legacy_pong_means_one_path)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct conn *c = conn_get(eng, &a_small, &a_large);

	conn_probe(c);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 1);
	ck_assert(conn_pick_path(c, 4001) == &c->paths[0]);
}
END_TEST

START_TEST(probe_gets_a_probe_pong_with_our_npaths)
{
	struct wire_header h = { .seq = 1, .sport = WIRE_PROBE_PORT };
	struct wire_exts ex = { .has_npaths = true, .npaths = 8 }, got;
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct msg *pong;

	eng->cfg.npaths = 4;
	wire_exts_build(&ex, h.ext);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 4);
	pong = TAILQ_LAST(&c->paths[0].sendq, msg_queue);
	ck_assert_ptr_nonnull(pong);
	ck_assert_uint_eq(pong->h.sport, 0);
	ck_assert_uint_eq(pong->h.dport, WIRE_PROBE_PORT);
	wire_exts_parse(pong->h.ext, &got);
	ck_assert(got.has_npaths);
	ck_assert_uint_eq(got.npaths, 4); /* our own maximum, not the agreed minimum */
}
END_TEST

START_TEST(ordinary_ping_gets_plain_pong)
{
	struct wire_header h = { .seq = 1, .sport = 4000 };
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct msg *pong;
	struct wire_exts got;

	feed(&c->paths[2], &h, NULL);
	pong = TAILQ_FIRST(&c->paths[2].sendq);
	ck_assert_ptr_nonnull(pong);
	ck_assert_uint_eq(pong->h.dport, 4000);
	ck_assert_uint_eq(pong->h.sport, 0);
	wire_exts_parse(pong->h.ext, &got);
	ck_assert(!got.has_npaths);
	ck_assert_int_eq(c->npaths, 0);
}
END_TEST

START_TEST(data_is_delivered_and_duplicates_dropped)
{
	struct wire_header h = { .seq = 5, .len = 5, .sport = 4000, .dport = 5000 };
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct sock *s = sock_new(eng, -1, -1);
	struct msg *m;

	ck_assert_int_eq(sock_bind_port(s, &a_large, 5000), 0);
	feed(&c->paths[1], &h, "hello");
	h.flags = WIRE_FLAG_RETRANSMITTED; /* the same message again after a reconnect */
	feed(&c->paths[1], &h, "hello");
	h.seq = 3;
	h.flags = 0; /* lower but not retransmitted: a restarted peer, accepted */
	feed(&c->paths[1], &h, "again");
	ck_assert_int_eq(queue_len(&s->rxq), 2);
	m = TAILQ_FIRST(&s->rxq);
	ck_assert_mem_eq(m->data, "hello", 5);
	ck_assert_uint_eq(m->h.sport, 4000);
	ck_assert(addr_eq(&m->src, &a_small));
	ck_assert_uint_eq(c->paths[1].dups, 1);
	h.dport = 5001; /* nobody bound: silently dropped */
	feed(&c->paths[1], &h, "hello");
	ck_assert_int_eq(queue_len(&s->rxq), 2);
	sock_unbind(s);
	sock_put(s);
}
END_TEST

START_TEST(oversized_message_drops_the_path)
{
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_header h = { .seq = 1, .len = WIRE_MAX_PAYLOAD + 1, .dport = 5000 };
	struct conn *c = conn_get(eng, &a_large, &a_small);

	wire_header_encode(&h, buf);
	ck_assert_int_lt(path_receive(&c->paths[0], buf, sizeof(buf)), 0);
	ck_assert_int_eq(c->paths[0].state, PATH_DOWN);
}
END_TEST

START_TEST(cong_map_is_stored_without_sequence)
{
	uint8_t *buf = calloc(1, WIRE_HDR_LEN + WIRE_CONG_MAP_BYTES);
	struct wire_header h = { .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP };
	struct conn *c = conn_get(eng, &a_small, &a_large);

	wire_header_encode(&h, buf);
	wire_cong_set(buf + WIRE_HDR_LEN, 5000);
	ck_assert_int_eq(path_receive(&c->paths[0], buf, WIRE_HDR_LEN + WIRE_CONG_MAP_BYTES), 0);
	ck_assert(wire_cong_test(c->peer_cong, 5000));
	ck_assert(!wire_cong_test(c->peer_cong, 5001));
	ck_assert_uint_eq(c->paths[0].next_rx_seq, 0);
	free(buf);
}
END_TEST

START_TEST(sockets_keep_their_path_and_spread)
{
	struct conn *c = conn_get(eng, &a_small, &a_large);
	int used[WIRE_MAX_PATHS] = { 0 };

	ck_assert(conn_pick_path(c, 4000) == &c->paths[0]); /* before the handshake */
	c->npaths = 8;
	for (int port = 4000; port < 4016; port++) {
		struct path *p = conn_pick_path(c, (uint16_t)port);

		ck_assert(p == conn_pick_path(c, (uint16_t)port));
		used[p->index]++;
	}
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		ck_assert_int_eq(used[i], 2);
}
END_TEST

START_TEST(lanes_wait_for_path0_catch_up)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct wire_exts ex = { .has_npaths = true, .npaths = 8 };
	struct conn *c = conn_get(eng, &a_small, &a_large);
	struct msg *m;

	conn_probe(c); /* seq 1 */
	path_enqueue(&c->paths[0], msg_new(eng, 4001, 5000, NULL, 0)); /* seq 2, before fan-out */
	wire_exts_build(&ex, h.ext);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 8);
	ck_assert_uint_eq(c->catchup_seq, 3);
	ck_assert(!conn_lane_may_send(c, &c->paths[3]));
	ck_assert(conn_lane_may_send(c, &c->paths[0]));
	while ((m = TAILQ_FIRST(&c->paths[0].sendq))) {
		TAILQ_REMOVE(&c->paths[0].sendq, m, link);
		msg_free(m);
	}
	ck_assert(conn_lane_may_send(c, &c->paths[3]));
	ck_assert_uint_eq(c->catchup_seq, 0);
}
END_TEST

START_TEST(first_sends_are_held_until_the_handshake)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct wire_exts ex = { .has_npaths = true, .npaths = 8 };
	struct conn *c = conn_get(eng, &a_small, &a_large);
	struct path *lane;

	for (int port = 4000; port < 4016; port++)
		conn_send(c, msg_new(eng, (uint16_t)port, 5000, NULL, 0));
	ck_assert_int_eq(queue_len(&c->held), 16);
	ck_assert_int_eq(queue_len(&c->paths[0].sendq), 1); /* only the probe */
	wire_exts_build(&ex, h.ext);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(queue_len(&c->held), 0);
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		ck_assert_int_eq(queue_len(&c->paths[i].sendq), i == 0 ? 3 : 2);
	lane = conn_pick_path(c, 4005);
	ck_assert_uint_eq(TAILQ_FIRST(&lane->sendq)->h.seq, 1);
	conn_send(c, msg_new(eng, 4005, 5000, NULL, 0));
	ck_assert_uint_eq(TAILQ_LAST(&lane->sendq, msg_queue)->h.sport, 4005);
}
END_TEST

START_TEST(legacy_peer_gets_held_messages_on_path0)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct conn *c = conn_get(eng, &a_small, &a_large);

	for (int port = 4000; port < 4016; port++)
		conn_send(c, msg_new(eng, (uint16_t)port, 5000, NULL, 0));
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 1);
	ck_assert_int_eq(queue_len(&c->paths[0].sendq), 17);
}
END_TEST

static struct addr v4_n(const char *prefix, int n)
{
	char s[32];

	snprintf(s, sizeof(s), "%s.%d", prefix, n);
	return v4(s);
}

/* README "Bounded memory": the flood guard counts peer addresses, not (local, peer) pairs. */
START_TEST(one_peer_of_many_local_addresses_is_one_peer)
{
	struct addr client = v4("198.18.9.1"), local[65];

	for (int i = 1; i <= 64; i++) {
		local[i] = v4_n("198.18.8", i);
		ck_assert_ptr_nonnull(conn_accept_get(eng, &local[i], &client));
	}
	ck_assert_int_eq(conn_count(eng), 64); /* none evicted */
}
END_TEST

START_TEST(the_33rd_silent_peer_evicts_the_least_recent)
{
	struct addr local = v4("198.18.8.1"), local2 = v4("198.18.8.2"), peer[41];

	for (int i = 1; i <= 40; i++)
		peer[i] = v4_n("198.18.9", i);
	for (int i = 1; i <= 32; i++)
		conn_accept_get(eng, &local, &peer[i]);
	/* peer .1 connects again, to another of our addresses: now .2 is the least recent */
	conn_accept_get(eng, &local2, &peer[1]);
	ck_assert_int_eq(conn_count(eng), 33);
	conn_accept_get(eng, &local, &peer[33]);
	ck_assert_int_eq(conn_count(eng), 33);
	ck_assert_ptr_null(conn_find(eng, &local, &peer[2]));
	ck_assert_ptr_nonnull(conn_find(eng, &local, &peer[1]));
	ck_assert_ptr_nonnull(conn_find(eng, &local2, &peer[1]));
	/* a peer that has been heard from is never evicted */
	conn_heard(conn_find(eng, &local, &peer[3]));
	for (int i = 34; i <= 40; i++)
		conn_accept_get(eng, &local, &peer[i]);
	ck_assert_ptr_nonnull(conn_find(eng, &local, &peer[3]));
	ck_assert_int_le(conn_count(eng), 34);
}
END_TEST

/* wire.md §7: a peer without SPORT_IDX fills slots first-free, so lanes open in order. */
START_TEST(lanes_open_in_order_for_a_peer_without_sport_idx)
{
	struct conn *c = conn_get(eng, &a_small, &a_large);

	ck_assert(c->smaller);
	c->npaths = 8;
	c->lanes_ok = true;
	c->peer_sport_idx = false;
	ck_assert(path_should_connect(&c->paths[1]) == (c->paths[0].state == PATH_UP));
	c->paths[0].state = PATH_UP;
	ck_assert(path_should_connect(&c->paths[1]));
	ck_assert(!path_should_connect(&c->paths[2])); /* lane 1 is not up yet */
	c->paths[1].state = PATH_UP;
	ck_assert(path_should_connect(&c->paths[2]));
	ck_assert(!path_should_connect(&c->paths[3]));
	c->peer_sport_idx = true; /* filed by source port: all at once */
	ck_assert(path_should_connect(&c->paths[3]));
	ck_assert(path_should_connect(&c->paths[7]));
	for (int i = 0; i < 2; i++)
		c->paths[i].state = PATH_DOWN;
}
END_TEST

static void teardown(void)
{
	conn_free_all(eng);
}

static Suite *conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("handshake");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, probe_is_queued_once_with_npaths);
	tcase_add_test(tc, pong_sets_npaths_to_the_minimum);
	tcase_add_test(tc, own_limit_caps_npaths);
	tcase_add_test(tc, legacy_pong_means_one_path);
	tcase_add_test(tc, probe_gets_a_probe_pong_with_our_npaths);
	tcase_add_test(tc, ordinary_ping_gets_plain_pong);
	tcase_add_test(tc, data_is_delivered_and_duplicates_dropped);
	tcase_add_test(tc, oversized_message_drops_the_path);
	tcase_add_test(tc, cong_map_is_stored_without_sequence);
	tcase_add_test(tc, sockets_keep_their_path_and_spread);
	tcase_add_test(tc, lanes_wait_for_path0_catch_up);
	tcase_add_test(tc, first_sends_are_held_until_the_handshake);
	tcase_add_test(tc, legacy_peer_gets_held_messages_on_path0);
	tcase_add_test(tc, one_peer_of_many_local_addresses_is_one_peer);
	tcase_add_test(tc, the_33rd_silent_peer_evicts_the_least_recent);
	tcase_add_test(tc, lanes_open_in_order_for_a_peer_without_sport_idx);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
