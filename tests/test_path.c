// SPDX-License-Identifier: MIT
/*
 * Paths under faults, driven without a loop thread: a "TCP connection" is an AF_UNIX
 * socketpair whose other end the test plays as the peer, and the test runs the loop itself
 * (EVRUN_NOWAIT) where the engine thread would. Peer restarts (wire.md §13), re-probes,
 * reading a failed connection to its end, malformed streams, and the memory bounds.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/sock.h"
#include "mprds/sysio.h"
#include "mprds/tcp_path.h"
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
	eng = test_engine_new();
	ck_assert_ptr_nonnull(eng);
	a_small = v4("198.18.0.1");
	a_large = v4("198.18.0.2");
}

static void teardown(void)
{
	engine_free(eng);
}

static int queue_len(const struct msg_queue *q)
{
	const struct msg *m;
	int n = 0;

	TAILQ_FOREACH(m, q, link)
	n++;
	return n;
}

static struct sock *bound_sock(const struct addr *a, uint16_t port)
{
	struct sock *s = sock_new(eng, -1, -1);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sock_bind_port(s, a, port), 0);
	return s;
}

/* As a close does: messages still queued go on without their socket. */
static void free_sock(struct sock *s)
{
	conn_forget_sender(s);
	sock_unbind(s);
	sock_put(s);
}

/* Installs a socketpair as path p, as an accepted connection; returns the peer's end. */
static int attach(struct path *p)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(tcp_path_attach(p, sv[0]), 0);
	return sv[1];
}

static size_t encode(const struct wire_header *h, const void *payload, uint8_t *out)
{
	wire_header_encode(h, out);
	if (h->len)
		memcpy(out + WIRE_HDR_LEN, payload, h->len);
	return WIRE_HDR_LEN + h->len;
}

static void feed(struct path *p, const struct wire_header *h, const void *payload)
{
	uint8_t buf[WIRE_HDR_LEN + 256];

	ck_assert_int_eq(path_receive(p, buf, encode(h, payload, buf)), 0);
}

/* The peer writes a message on its end of p's connection. */
static void peer_send(int peer, const struct wire_header *h, const void *payload)
{
	uint8_t buf[WIRE_HDR_LEN + 256];
	size_t n = encode(h, payload, buf);

	ck_assert_int_eq(write(peer, buf, n), (ssize_t)n);
}

static void loop_once(void)
{
	ev_run(eng->loop, EVRUN_NOWAIT);
}

static struct wire_header handshake(bool probe, uint64_t seq, uint32_t gen)
{
	struct wire_header h = { .seq = seq };
	struct wire_exts ex = { .has_npaths = true,
				.npaths = 8,
				.has_gen_num = gen != 0,
				.gen_num = gen,
				.has_sport_idx = true };

	if (probe)
		h.sport = WIRE_PROBE_PORT;
	else
		h.dport = WIRE_PROBE_PORT;
	wire_exts_build(&ex, h.ext);
	return h;
}

static struct msg *app_msg(struct sock *s, uint16_t dport, bool retransmit)
{
	struct msg *m = msg_new(eng, s->bound_port, dport, NULL, 0);

	ck_assert_ptr_nonnull(m);
	m->sender = s;
	m->retransmit = retransmit;
	return m;
}

START_TEST(restarted_peer_resets_sequences_and_flushes)
{
	struct conn *c = conn_get(eng, &a_small, &a_large);
	struct sock *s = bound_sock(&a_small, 4000);
	struct path *p = &c->paths[3];
	struct msg *m;
	struct wire_header hs = handshake(false, 1, 0x11111111);

	feed(&c->paths[0], &hs, NULL);
	ck_assert_uint_eq(c->peer_gen, 0x11111111);
	/* two messages waiting for retransmission, then two never written */
	path_enqueue(p, app_msg(s, 5000, true));
	path_enqueue(p, app_msg(s, 5000, true));
	path_enqueue(p, app_msg(s, 5000, false));
	path_enqueue(p, app_msg(s, 5000, false));
	ck_assert_uint_eq(p->next_tx_seq, 5);
	p->next_rx_seq = 700;

	hs = handshake(false, 2, 0x22222222); /* the same peer, a new incarnation */
	feed(&c->paths[0], &hs, NULL);
	ck_assert_uint_eq(c->peer_gen, 0x22222222);
	ck_assert_int_eq(queue_len(&p->sendq), 2);
	ck_assert_uint_eq(p->flushed, 2);
	ck_assert_uint_eq(TAILQ_FIRST(&p->sendq)->h.seq, 1);
	ck_assert_uint_eq(TAILQ_LAST(&p->sendq, msg_queue)->h.seq, 2);
	ck_assert_uint_eq(p->next_tx_seq, 3);
	ck_assert_uint_eq(p->next_rx_seq, 0);
	ck_assert_uint_eq(c->paths[0].next_rx_seq, 0);
	m = TAILQ_FIRST(&p->sendq);
	ck_assert(!m->retransmit);

	/* the same generation again changes nothing */
	hs = handshake(true, 3, 0x22222222);
	feed(&c->paths[0], &hs, NULL);
	ck_assert_int_eq(queue_len(&p->sendq), 2);
	ck_assert_uint_eq(p->next_tx_seq, 3);
	free_sock(s);
}
END_TEST

START_TEST(restart_is_heard_with_sequence_from_one)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct wire_header h = { .seq = 900, .len = 1, .sport = 4000, .dport = 5000 };

	feed(&c->paths[1], &h, "a");
	/* kill -9 and start again: a new GEN_NUM, numbers from 1, even retransmitted ones */
	h = handshake(true, 1, 0x33333333);
	feed(&c->paths[0], &h, NULL);
	h = handshake(true, 1, 0x44444444);
	feed(&c->paths[0], &h, NULL);
	h = (struct wire_header){
		.seq = 1, .len = 1, .sport = 4000, .dport = 5000, .flags = WIRE_FLAG_RETRANSMITTED
	};
	feed(&c->paths[1], &h, "b");
	ck_assert_int_eq(queue_len(&s->rxq), 2);
	ck_assert_uint_eq(c->paths[1].dups, 0);
	free_sock(s);
}
END_TEST

START_TEST(every_path0_connection_probes_again)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	int peer = attach(&c->paths[0]);
	struct wire_header pong = handshake(false, 1, 0x55555555);
	struct msg *m;
	int probes = 0;

	ck_assert(c->probe_pending);
	feed(&c->paths[0], &pong, NULL);
	ck_assert_int_eq(c->npaths, 8);
	ck_assert(!c->probe_pending);
	path_drop(&c->paths[0], "test");
	close(peer);
	peer = attach(&c->paths[0]);
	ck_assert(c->probe_pending);
	TAILQ_FOREACH(m, &c->paths[0].sendq, link)
	if (m->h.sport == WIRE_PROBE_PORT)
		probes++;
	TAILQ_FOREACH(m, &c->paths[0].unacked, link)
	if (m->h.sport == WIRE_PROBE_PORT)
		probes++;
	ck_assert_int_eq(probes, 2); /* the first one, resent, and the new one */
	close(peer);
}
END_TEST

START_TEST(lanes_wait_for_the_handshake_on_a_new_path0)
{
	struct conn *c = conn_get(eng, &a_small, &a_large);
	struct wire_header pong = handshake(false, 1, 0x55555555);
	int peer;

	c->npaths = 8;
	ck_assert(!path_should_connect(&c->paths[3]));
	peer = attach(&c->paths[0]);
	ck_assert(!path_should_connect(&c->paths[3]));
	feed(&c->paths[0], &pong, NULL);
	ck_assert(c->lanes_ok);
	ck_assert(path_should_connect(&c->paths[3]));
	ck_assert(c->peer_sport_idx);
	close(peer);
}
END_TEST

START_TEST(failed_connection_is_read_to_its_end)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	int peer = attach(&c->paths[2]);
	struct wire_header h = { .seq = 1, .len = 2, .sport = 4000, .dport = 5000 };

	peer_send(peer, &h, "m1");
	h.seq = 2;
	peer_send(peer, &h, "m2");
	/* a write fails before the loop saw the bytes: they were TCP-acked, they count */
	path_drop(&c->paths[2], "Connection reset by peer");
	ck_assert_int_eq(c->paths[2].state, PATH_DOWN);
	ck_assert_int_eq(queue_len(&s->rxq), 2);
	ck_assert_uint_eq(c->paths[2].next_rx_seq, 3);
	close(peer);
	free_sock(s);
}
END_TEST

START_TEST(written_before_a_restart_is_not_resent)
{
	struct conn *c = conn_get(eng, &a_small, &a_large);
	struct sock *s = bound_sock(&a_small, 4000);
	struct wire_header hs = handshake(false, 1, 0x11111111);
	struct path *p = &c->paths[0];
	int peer = attach(p);
	struct msg *m;
	int app = 0;

	feed(p, &hs, NULL);
	path_enqueue(p, app_msg(s, 5000, false));
	path_enqueue(p, app_msg(s, 5000, false));
	path_service(p); /* written, not read by the peer: unacknowledged */
	ck_assert_int_ge(queue_len(&p->unacked), 2);
	hs = handshake(true, 2, 0x22222222);
	feed(p, &hs, NULL);
	path_enqueue(p, app_msg(s, 5000, false)); /* after the restart was noticed */
	path_drop(p, "test");
	TAILQ_FOREACH(m, &p->sendq, link)
	if (m->sender)
		app++;
	ck_assert_int_eq(app, 1);
	close(peer);
	free_sock(s);
}
END_TEST

START_TEST(unknown_flags_drop_only_that_connection)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_header h = { .seq = 1, .sport = 4000, .dport = 5000, .flags = 0x80 };
	int peer0 = attach(&c->paths[0]), peer1 = attach(&c->paths[1]);

	wire_header_encode(&h, buf);
	ck_assert_int_eq(path_receive(&c->paths[1], buf, sizeof(buf)), -EPROTO);
	ck_assert_int_eq(c->paths[1].state, PATH_DOWN);
	ck_assert_int_eq(c->paths[0].state, PATH_UP);
	close(peer0);
	close(peer1);
}
END_TEST

START_TEST(odd_cong_map_and_ext_overrun_are_tolerated)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	uint8_t payload[100] = { 0xff };
	struct wire_header h = { .len = sizeof(payload), .flags = WIRE_FLAG_CONG_BITMAP };
	int peer = attach(&c->paths[0]);
	static const uint8_t overrun[WIRE_EXT_LEN] = { 0x05, 0x00, 0x08, 0x01, 0xee, 0xee,
						       0xee, 0xee, 0x01, 0xee, 0xee, 0xee,
						       0xee, 0x07, 0x06, 0x00 };

	feed(&c->paths[0], &h, payload);
	ck_assert(!wire_cong_test(c->peer_cong, 0));
	ck_assert_int_eq(c->paths[0].state, PATH_UP);
	h = (struct wire_header){ .seq = 1, .sport = WIRE_PROBE_PORT };
	memcpy(h.ext, overrun, sizeof(overrun));
	feed(&c->paths[0], &h, NULL);
	ck_assert_int_eq(c->npaths, 8); /* what came before the overrun counts */
	ck_assert_int_eq(c->paths[0].state, PATH_UP);
	close(peer);
}
END_TEST

START_TEST(truncated_header_then_close_drops_the_path)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	uint8_t buf[WIRE_HDR_LEN] = { 0 };
	int peer = attach(&c->paths[0]);

	ck_assert_int_eq(write(peer, buf, 20), 20);
	close(peer);
	loop_once();
	loop_once();
	ck_assert_int_eq(c->paths[0].state, PATH_DOWN);
	ck_assert(!c->paths[0].tr->is_open(&c->paths[0]));
}
END_TEST

START_TEST(pongs_to_a_peer_that_never_reads_are_bounded)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct path *p = &c->paths[0];
	struct wire_header h = { .sport = 4000 };

	for (int i = 1; i <= 1000; i++) {
		h.seq = (uint64_t)i;
		feed(p, &h, NULL);
	}
	ck_assert_uint_le(p->pongs, 256);
	ck_assert_int_le(queue_len(&p->sendq), 256);
}
END_TEST

START_TEST(flood_to_an_unread_socket_pauses_reading)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p = &c->paths[1];
	static uint8_t big[WIRE_HDR_LEN + 65536];
	struct wire_header h = { .len = 65536, .sport = 4000, .dport = 5000 };
	int peer = attach(p), written = 0;
	struct msg *m;

	s->rcvbuf = 4096; /* bound: 4 * rcvbuf + 1 MiB */
	for (uint64_t seq = 1; seq <= 64; seq++) {
		h.seq = seq;
		wire_header_encode(&h, big);
		for (size_t off = 0; off < sizeof(big);) {
			ssize_t n = write(peer, big + off, sizeof(big) - off);

			if (n < 0) {
				loop_once();
				if (path_rx_paused(p))
					goto paused;
				continue;
			}
			off += (size_t)n;
		}
		written++;
		loop_once();
	}
paused:
	ck_assert(path_rx_paused(p));
	ck_assert_uint_eq(p->rx_pauses, 1);
	ck_assert_uint_le(s->rcv_queued, sock_rx_bound(s) + sizeof(eng->rxbuf) + 65536);
	/* the application reads: a moment later the path reads again */
	while ((m = sock_rx_take(s, false)))
		msg_free(m);
	usleep(10000);
	loop_once();
	ck_assert(!path_rx_paused(p));
	ck_assert_int_eq(p->state, PATH_UP);
	ck_assert_int_gt(written, 16);
	close(peer);
	free_sock(s);
}
END_TEST

static struct conn *accept_from(int i)
{
	char ip[32];
	struct addr a;

	snprintf(ip, sizeof(ip), "198.18.%d.%d", 1 + i / 200, 1 + i % 200);
	a = v4(ip);
	return conn_accept_get(eng, &a_large, &a);
}

START_TEST(silent_accepted_connections_are_bounded)
{
	struct conn *spoke;

	for (int i = 0; i < 100; i++)
		ck_assert_ptr_nonnull(accept_from(i));
	ck_assert_int_le(conn_count(eng), 32);
	/* one that spoke stays, however many silent ones come after it */
	spoke = accept_from(100);
	conn_heard(spoke);
	for (int i = 101; i < 300; i++)
		accept_from(i);
	ck_assert_int_le(conn_count(eng), 33);
	ck_assert_ptr_eq(accept_from(100), spoke);
}
END_TEST

static Suite *path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, restarted_peer_resets_sequences_and_flushes);
	tcase_add_test(tc, restart_is_heard_with_sequence_from_one);
	tcase_add_test(tc, every_path0_connection_probes_again);
	tcase_add_test(tc, lanes_wait_for_the_handshake_on_a_new_path0);
	tcase_add_test(tc, failed_connection_is_read_to_its_end);
	tcase_add_test(tc, written_before_a_restart_is_not_resent);
	tcase_add_test(tc, unknown_flags_drop_only_that_connection);
	tcase_add_test(tc, odd_cong_map_and_ext_overrun_are_tolerated);
	tcase_add_test(tc, truncated_header_then_close_drops_the_path);
	tcase_add_test(tc, pongs_to_a_peer_that_never_reads_are_bounded);
	tcase_add_test(tc, flood_to_an_unread_socket_pauses_reading);
	tcase_add_test(tc, silent_accepted_connections_are_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(path_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
