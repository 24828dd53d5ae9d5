// SPDX-License-Identifier: MIT
/*
 * Paths under faults. The TCP transport's own part (tcp_recv.c) on real connections: an
 * AF_UNIX socketpair is installed as an accepted connection, the test plays the peer on its
 * other end and runs the loop itself (EVRUN_NOWAIT) where the engine thread would. The
 * protocol's part through the fake transport (fake_peer.h): re-probes on every path 0,
 * lanes after a new handshake, a peer restart noticed on a live connection (wire.md §13),
 * malformed and odd streams, and the bound on pongs.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/info.h"
#include "mprds/sock.h"
#include "mprds/tcp_path.h"

#include "check_main.h"
#include "counters.h"
#include "fake_peer.h"
#include "test_addr.h"
#include "test_engine.h"

static struct engine *eng; /* the TCP tests' */

static void setup_tcp(void)
{
	eng = test_engine_new();
	ck_assert_ptr_nonnull(eng);
	a_small = test_addr("198.18.0.1");
	a_large = test_addr("198.18.0.2");
}

static void teardown_tcp(void)
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

static struct sock *tcp_bound_sock(const struct addr *a, uint16_t port)
{
	struct sock *s = sock_new(eng, -1, -1);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sock_bind_port(s, a, port), 0);
	return s;
}

/* As a close does: messages still queued go on without their socket. */
static void tcp_free_sock(struct sock *s)
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

/* The peer writes a message on its end of p's connection. */
static void peer_write(int peer, const struct wire_header *h, const void *payload)
{
	uint8_t buf[WIRE_HDR_LEN + 256];

	wire_header_encode(h, buf);
	if (h->len)
		memcpy(buf + WIRE_HDR_LEN, payload, h->len);
	ck_assert_int_eq(write(peer, buf, WIRE_HDR_LEN + h->len), (ssize_t)(WIRE_HDR_LEN + h->len));
}

static void loop_once(void)
{
	ev_run(eng->loop, EVRUN_NOWAIT);
}

/* socket-api.md §12: e's counter of that name in RDS_INFO_COUNTERS. */
static uint64_t counter(struct engine *e, const char *name)
{
	static struct rds_info_counter ctrs[COUNTERS_MAX];
	socklen_t len = sizeof(ctrs);

	ck_assert_int_eq(info_get(e, RDS_INFO_COUNTERS, ctrs, &len), (int)sizeof(ctrs[0]));
	return counter_in(ctrs, len, name);
}

START_TEST(failed_connection_is_read_to_its_end)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct sock *s = tcp_bound_sock(&a_large, 5000);
	int peer = attach(&c->paths[2]);
	struct wire_header h = { .seq = 1, .len = 2, .sport = 4000, .dport = 5000 };

	peer_write(peer, &h, "m1");
	h.seq = 2;
	peer_write(peer, &h, "m2");
	/* a write fails before the loop saw the bytes: they were TCP-acked, they count */
	path_drop(&c->paths[2], "Connection reset by peer");
	ck_assert_int_eq(c->paths[2].state, PATH_DOWN);
	ck_assert_int_eq(queue_len(&s->rxq), 2);
	ck_assert_uint_eq(counter(eng, "tcp_data_ready_calls"), 1); /* one read took both */
	ck_assert_uint_eq(c->paths[2].next_rx_seq, 3);
	close(peer);
	tcp_free_sock(s);
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
START_TEST(flood_to_an_unread_socket_pauses_reading)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct sock *s = tcp_bound_sock(&a_large, 5000);
	struct path *p = &c->paths[1];
	static uint8_t big[WIRE_HDR_LEN + 65536];
	struct wire_header h = { .len = 65536, .sport = 4000, .dport = 5000 };
	int peer = attach(p), written = 0; /* the bound: 4 * rcvbuf + 1 MiB, 22.5 of these */
	struct msg *m;

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
	tcp_free_sock(s);
}
END_TEST

/* rds_tcp's counters: reads that brought bytes; a socket found full, then writable again. */
START_TEST(tcp_counters_of_reads_and_of_a_full_socket)
{
	struct conn *c = conn_get(eng, &a_large, &a_small);
	struct sock *s = tcp_bound_sock(&a_large, 5000);
	struct path *p = &c->paths[1];
	struct wire_header h = { .seq = 1, .len = 2, .sport = 4000, .dport = 5000 };
	int peer = attach(p);
	static uint8_t sink[1 << 16];

	peer_write(peer, &h, "m1");
	loop_once();
	ck_assert_int_eq(queue_len(&s->rxq), 1);
	ck_assert_uint_eq(counter(eng, "tcp_data_ready_calls"), 1);
	ck_assert_uint_eq(counter(eng, "tcp_sndbuf_full"), 0);
	/* 4 MiB for a peer that reads nothing: more than the socketpair holds */
	for (int i = 0; i < 64; i++) {
		uint8_t *data = buf_pool_get(&eng->bufs, sizeof(sink));

		ck_assert_ptr_nonnull(data);
		memset(data, 'x', sizeof(sink));
		path_enqueue(p, msg_new(eng, 5000, 4000, data, sizeof(sink)));
	}
	tcp_path_xmit(p);
	ck_assert_uint_eq(counter(eng, "tcp_sndbuf_full"), 1);
	ck_assert_uint_eq(counter(eng, "tcp_write_space_calls"), 0);
	/* the peer reads: the loop finds the socket writable and writes on */
	while (read(peer, sink, sizeof(sink)) > 0)
		;
	loop_once();
	ck_assert_uint_eq(counter(eng, "tcp_write_space_calls"), 1);
	ck_assert_uint_eq(counter(eng, "tcp_data_ready_calls"), 1); /* written, not read */
	close(peer);
	tcp_free_sock(s);
}
END_TEST

/* Every path-0 connection probes again (7.0+), even with npaths known; nothing is lost. */
START_TEST(every_path0_connection_probes_again)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct wire_header pong = handshake(false, 1, 8, PEER_GEN, true);
	struct path *p0 = &c->paths[0];
	struct fake_msg m;
	int probes = 0;

	ck_assert_int_eq(fake_accept(p0), 0);
	ck_assert(c->probe_pending);
	fake_peer_send(p0, &pong, NULL);
	ck_assert_int_eq(c->npaths, 8);
	ck_assert(!c->probe_pending);
	fake_run_kicks();
	read_map_and_probe(c); /* read, never acknowledged */
	fake_peer_close(p0);
	ck_assert_int_eq(fake_accept(p0), 0);
	ck_assert(c->probe_pending);
	fake_run_kicks();
	while (fake_peer_next(p0, &m))
		probes += is_probe(&m);
	ck_assert_int_eq(probes, 2); /* the first one, resent, and the new one */
}
END_TEST

/* wire.md §7: lanes of a new path 0 wait for its handshake, though npaths is known. */
START_TEST(lanes_wait_for_the_handshake_on_a_new_path0)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c = handshake_as_smaller(s, 8, PEER_GEN, true);
	struct path *p0 = &c->paths[0], *lane = &c->paths[3];
	struct wire_header pong = handshake(false, 2, 8, PEER_GEN, true);

	ck_assert(fake_connecting(lane));
	fake_connect_complete(lane);
	fake_peer_close(lane);
	fake_peer_close(p0);
	fake_fire_retry(p0);
	fake_connect_complete(p0);
	fake_run_kicks();
	ck_assert_int_eq(p0->state, PATH_UP);
	fake_fire_retry(lane); /* its backoff is over: still it waits */
	ck_assert(!fake_connecting(lane));
	ck_assert(!path_should_connect(lane));
	fake_peer_send(p0, &pong, NULL);
	fake_run_kicks();
	ck_assert(c->lanes_ok);
	ck_assert(c->peer_sport_idx);
	ck_assert(fake_connecting(lane));
	free_sock(s);
}
END_TEST

/*
 * wire.md §13: the peer's restart is noticed while the connection is up. What was written to
 * the old incarnation is not resent after the reconnect; what was sent after, is.
 */
START_TEST(written_before_a_restart_is_not_resent)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c = handshake_as_smaller(s, 1, PEER_GEN, true);
	struct wire_header probe = handshake(true, 2, 1, PEER_GEN2, true);
	struct path *p = &c->paths[0];
	struct fake_msg m;
	int data = 0;

	app_send(s, &a_large, 5000, "one");
	app_send(s, &a_large, 5000, "two");
	fake_run_kicks();
	ck_assert_int_eq(fake_peer_read_all(p), 3); /* "first" too: unacknowledged */
	fake_peer_send(p, &probe, NULL);
	ck_assert_uint_eq(c->peer_gen, PEER_GEN2);
	app_send(s, &a_large, 5000, "after"); /* after the restart was noticed */
	fake_peer_close(p);
	fake_fire_retry(p);
	fake_connect_complete(p);
	fake_run_kicks();
	while (fake_peer_next(p, &m)) {
		if (!m.h.len || is_cong_map(&m))
			continue;
		ck_assert_mem_eq(m.data, "after", 5);
		data++;
	}
	ck_assert_int_eq(data, 1);
	free_sock(s);
}
END_TEST

START_TEST(unknown_flags_drop_only_that_connection)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);

	ck_assert_int_eq(fake_accept(&c->paths[0]), 0);
	ck_assert_int_eq(fake_accept(&c->paths[1]), 0);
	peer_data(&c->paths[1], 1, 5000, "", 0x80);
	ck_assert_int_eq(c->paths[1].state, PATH_DOWN);
	ck_assert(!c->paths[1].tr->is_open(&c->paths[1]));
	ck_assert_int_eq(c->paths[0].state, PATH_UP);
}
END_TEST

/* What the kernel tolerates: a map that is not 8192 bytes, an extension area overrun. */
START_TEST(odd_cong_map_and_ext_overrun_are_tolerated)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct path *p0 = &c->paths[0];
	uint8_t payload[100] = { 0xff };
	struct wire_header h = { .len = sizeof(payload), .flags = WIRE_FLAG_CONG_BITMAP };
	static const uint8_t overrun[WIRE_EXT_LEN] = { 0x05, 0x00, 0x08, 0x01, 0xee, 0xee,
						       0xee, 0xee, 0x01, 0xee, 0xee, 0xee,
						       0xee, 0x07, 0x06, 0x00 };

	ck_assert_int_eq(fake_accept(p0), 0);
	fake_peer_send(p0, &h, payload);
	ck_assert(!wire_cong_test(c->peer_cong, 0));
	ck_assert_int_eq(p0->state, PATH_UP);
	h = (struct wire_header){ .seq = 1, .sport = WIRE_PROBE_PORT };
	memcpy(h.ext, overrun, sizeof(overrun));
	fake_peer_send(p0, &h, NULL);
	ck_assert_int_eq(c->npaths, 8); /* what came before the overrun counts */
	ck_assert_int_eq(p0->state, PATH_UP);
}
END_TEST

/* README "Bounded memory": a peer that pings and never reads gets at most 256 pongs. */
START_TEST(pongs_to_a_peer_that_never_reads_are_bounded)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct path *p = &c->paths[0];
	struct wire_header h = { .sport = 4000 };
	struct fake_msg m;
	int pongs = 0;

	ck_assert_int_eq(fake_accept(p), 0);
	for (int i = 1; i <= 1000; i++) {
		h.seq = (uint64_t)i;
		fake_peer_send(p, &h, NULL);
		fake_run_kicks();
	}
	ck_assert_uint_le(p->pongs, 256);
	ck_assert_int_le(queue_len(&p->sendq), 256);
	while (fake_peer_next(p, &m)) /* read, never acknowledged */
		pongs += m.h.dport == 4000;
	ck_assert_int_gt(pongs, 0);
	ck_assert_int_le(pongs, 256);
	/* every ping was received; only the pongs queued were sent */
	ck_assert_uint_eq(counter(fake_engine, "recv_ping"), 1000);
	ck_assert_uint_eq(counter(fake_engine, "send_pong"), (uint64_t)pongs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("path");
	TCase *tc = check_tcase(s, "tcp faults", setup_tcp, teardown_tcp);

	tcase_add_test(tc, failed_connection_is_read_to_its_end);
	tcase_add_test(tc, truncated_header_then_close_drops_the_path);
	tcase_add_test(tc, flood_to_an_unread_socket_pauses_reading);
	tcase_add_test(tc, tcp_counters_of_reads_and_of_a_full_socket);
	tc = check_tcase(s, "protocol faults", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, every_path0_connection_probes_again);
	tcase_add_test(tc, lanes_wait_for_the_handshake_on_a_new_path0);
	tcase_add_test(tc, written_before_a_restart_is_not_resent);
	tcase_add_test(tc, unknown_flags_drop_only_that_connection);
	tcase_add_test(tc, odd_cong_map_and_ext_overrun_are_tolerated);
	tcase_add_test(tc, pongs_to_a_peer_that_never_reads_are_bounded);
	return check_run(s);
}
