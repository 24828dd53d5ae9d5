// SPDX-License-Identifier: MIT
/*
 * The multipath handshake and the receive classification, driven without TCP: bytes are
 * fed to a path as if read from its connection, and the queues are inspected.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/engine.h"

#include "check_main.h"
#include "fake_peer.h"
#include "test_addr.h"

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
	struct conn *c = conn_get(fake_engine, &a_small, &a_large);
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

		fake_engine_setup(8);
		c = conn_get(fake_engine, &a_small, &a_large);
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

	fake_engine_setup(1);
	c = conn_get(fake_engine, &a_small, &a_large);
	wire_exts_build(&ex, h.ext);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 1);
}
END_TEST

START_TEST(legacy_pong_means_one_path)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct conn *c = conn_get(fake_engine, &a_small, &a_large);

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
	struct conn *c;
	struct msg *pong;

	fake_engine_setup(4);
	c = conn_get(fake_engine, &a_large, &a_small);
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
	struct conn *c = conn_get(fake_engine, &a_large, &a_small);
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
	struct conn *c = conn_get(fake_engine, &a_large, &a_small);
	struct sock *s = sock_new(fake_engine, -1, -1);
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
	struct conn *c = conn_get(fake_engine, &a_large, &a_small);

	wire_header_encode(&h, buf);
	ck_assert_int_lt(path_receive(&c->paths[0], buf, sizeof(buf)), 0);
	ck_assert_int_eq(c->paths[0].state, PATH_DOWN);
}
END_TEST

START_TEST(cong_map_is_stored_without_sequence)
{
	uint8_t *buf = calloc(1, WIRE_HDR_LEN + WIRE_CONG_MAP_BYTES);
	struct wire_header h = { .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP };
	struct conn *c = conn_get(fake_engine, &a_small, &a_large);

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
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct wire_exts ex = { .has_npaths = true, .npaths = 8 };
	struct conn *c = conn_get(fake_engine, &a_small, &a_large);
	int used[WIRE_MAX_PATHS] = { 0 };

	ck_assert(conn_pick_path(c, 4000) == &c->paths[0]); /* before the handshake */
	conn_probe(c);
	wire_exts_build(&ex, h.ext);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 8);
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
	struct wire_header pong = handshake(false, 1, 8, PEER_GEN, true);
	struct conn *c = conn_get(fake_engine, &a_small, &a_large);
	struct path *p0 = &c->paths[0];

	path_enqueue(p0, msg_new(fake_engine, 4001, 5000, NULL, 0)); /* seq 1, before fan-out */
	fake_run_kicks();
	fake_connect_complete(p0); /* the probe: seq 2 */
	fake_peer_send(p0, &pong, NULL);
	ck_assert_int_eq(c->npaths, 8);
	ck_assert_uint_eq(c->catchup_seq, 3);
	ck_assert(!conn_lane_may_send(c, &c->paths[3]));
	ck_assert(conn_lane_may_send(c, p0));
	fake_run_kicks();
	ck_assert(!conn_lane_may_send(c, &c->paths[3])); /* written, not acknowledged */
	fake_peer_ack(p0, FAKE_ACK_ALL);
	ck_assert(conn_lane_may_send(c, &c->paths[3]));
	ck_assert_uint_eq(c->catchup_seq, 0);
}
END_TEST

START_TEST(first_sends_are_held_until_the_handshake)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct wire_exts ex = { .has_npaths = true, .npaths = 8 };
	struct conn *c = conn_get(fake_engine, &a_small, &a_large);
	struct path *lane;

	for (int port = 4000; port < 4016; port++)
		conn_send(c, msg_new(fake_engine, (uint16_t)port, 5000, NULL, 0));
	ck_assert_int_eq(queue_len(&c->held), 16);
	ck_assert_int_eq(queue_len(&c->paths[0].sendq), 1); /* only the probe */
	wire_exts_build(&ex, h.ext);
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(queue_len(&c->held), 0);
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		ck_assert_int_eq(queue_len(&c->paths[i].sendq), i == 0 ? 3 : 2);
	lane = conn_pick_path(c, 4005);
	ck_assert_uint_eq(TAILQ_FIRST(&lane->sendq)->h.seq, 1);
	conn_send(c, msg_new(fake_engine, 4005, 5000, NULL, 0));
	ck_assert_uint_eq(TAILQ_LAST(&lane->sendq, msg_queue)->h.sport, 4005);
}
END_TEST

START_TEST(legacy_peer_gets_held_messages_on_path0)
{
	struct wire_header h = { .seq = 1, .dport = WIRE_PROBE_PORT };
	struct conn *c = conn_get(fake_engine, &a_small, &a_large);

	for (int port = 4000; port < 4016; port++)
		conn_send(c, msg_new(fake_engine, (uint16_t)port, 5000, NULL, 0));
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 1);
	ck_assert_int_eq(queue_len(&c->paths[0].sendq), 17);
}
END_TEST

/* README "Bounded memory": the flood guard counts peer addresses, not (local, peer) pairs. */
START_TEST(one_peer_of_many_local_addresses_is_one_peer)
{
	struct addr client = test_addr("198.18.9.1"), local[65];

	for (int i = 1; i <= 64; i++) {
		local[i] = test_addr_n("198.18.8", i);
		ck_assert_ptr_nonnull(conn_accept_get(fake_engine, &local[i], &client));
	}
	ck_assert_int_eq(conn_count(fake_engine), 64); /* none evicted */
}
END_TEST

START_TEST(the_33rd_silent_peer_evicts_the_least_recent)
{
	struct addr local = test_addr("198.18.8.1"), local2 = test_addr("198.18.8.2"), peer[41];

	for (int i = 1; i <= 40; i++)
		peer[i] = test_addr_n("198.18.9", i);
	for (int i = 1; i <= 32; i++)
		conn_accept_get(fake_engine, &local, &peer[i]);
	/* peer .1 connects again, to another of our addresses: now .2 is the least recent */
	conn_accept_get(fake_engine, &local2, &peer[1]);
	ck_assert_int_eq(conn_count(fake_engine), 33);
	conn_accept_get(fake_engine, &local, &peer[33]);
	ck_assert_int_eq(conn_count(fake_engine), 33);
	ck_assert_ptr_null(conn_find(fake_engine, &local, &peer[2]));
	ck_assert_ptr_nonnull(conn_find(fake_engine, &local, &peer[1]));
	ck_assert_ptr_nonnull(conn_find(fake_engine, &local2, &peer[1]));
	/* a peer that has been heard from is never evicted */
	conn_heard(conn_find(fake_engine, &local, &peer[3]));
	for (int i = 34; i <= 40; i++)
		conn_accept_get(fake_engine, &local, &peer[i]);
	ck_assert_ptr_nonnull(conn_find(fake_engine, &local, &peer[3]));
	ck_assert_int_le(conn_count(fake_engine), 34);
}
END_TEST

static struct conn *accept_from(int i)
{
	char prefix[24];
	struct addr a;

	snprintf(prefix, sizeof(prefix), "198.18.%d", 1 + i / 200);
	a = test_addr_n(prefix, 1 + i % 200);
	return conn_accept_get(fake_engine, &a_large, &a);
}

/* One that spoke stays, however many silent ones come after it. */
START_TEST(silent_accepted_connections_are_bounded)
{
	struct conn *spoke;

	for (int i = 0; i < 100; i++)
		ck_assert_ptr_nonnull(accept_from(i));
	ck_assert_int_le(conn_count(fake_engine), 32);
	spoke = accept_from(100);
	conn_heard(spoke);
	for (int i = 101; i < 300; i++)
		accept_from(i);
	ck_assert_int_le(conn_count(fake_engine), 33);
	ck_assert_ptr_eq(accept_from(100), spoke);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = check_tcase(s, "handshake", fake_peer_setup8, fake_peer_teardown);

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
	tc = check_tcase(s, "flood guard", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, one_peer_of_many_local_addresses_is_one_peer);
	tcase_add_test(tc, the_33rd_silent_peer_evicts_the_least_recent);
	tcase_add_test(tc, silent_accepted_connections_are_bounded);
	return check_run(s);
}
