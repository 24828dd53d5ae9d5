// SPDX-License-Identifier: MIT
/*
 * The protocol as a peer sees it, through the fake transport (fake_transport.h): the test
 * plays the peer (connects, writes, reads what we wrote, acknowledges, closes) and the loop
 * (kicks, retries); the engine is driven only through its functions. The multipath
 * handshake (wire.md §6), lanes (§7, §8), retransmission (§8), duplicates (§8), peer restarts
 * (§13), congestion maps (§10) and read pausing (README, "Memory").
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/api.h"
#include "mprds/cong.h"
#include "mprds/engine.h"
#include "mprds/info.h"
#include "mprds/log.h"

#include "check_main.h"
#include "counters.h"
#include "fake_peer.h"
#include "log_capture.h"

/* wire.md §6: the probe carries NPATHS and GEN_NUM; nothing else goes before the answer. */
START_TEST(probe_carries_npaths_and_gen_num)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct fake_msg m;
	struct conn *c;

	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	fake_run_kicks();
	ck_assert(fake_connecting(&c->paths[0]));
	for (int i = 1; i < WIRE_MAX_PATHS; i++)
		ck_assert_uint_eq(fake_connects(&c->paths[i]), 0);
	fake_connect_complete(&c->paths[0]);
	m = read_map_and_probe(c);
	ck_assert_uint_eq(m.h.seq, 1);
	ck_assert_uint_eq(m.h.len, 0);
	ck_assert(m.ex.has_npaths);
	ck_assert_uint_eq(m.ex.npaths, 8);
	ck_assert(m.ex.has_gen_num);
	ck_assert_uint_eq(m.ex.gen_num, FAKE_GEN_NUM);
	ck_assert(m.ex.has_sport_idx);
	/* the message waits for npaths: it goes to its own path once that is known */
	ck_assert(!fake_peer_next(&c->paths[0], &m));
	ck_assert_int_eq(c->npaths, 0);
	free_sock(s);
}
END_TEST

/* wire.md §6: npaths = min(ours, theirs), at least 1; lanes 1..npaths-1 open, no others. */
START_TEST(npaths_is_the_minimum_of_both_offers)
{
	static const struct {
		int ours, theirs, want;
	} rows[] = { { 8, 8, 8 },  { 8, 4, 4 }, { 8, 2, 2 }, { 8, 1, 1 },
		     { 8, 16, 8 }, { 8, 0, 1 }, { 2, 8, 2 }, { 1, 8, 1 } };

	for (unsigned r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct sock *s;
		struct conn *c;

		fake_engine_setup(rows[r].ours);
		s = bound_sock(&a_small, 4000);
		c = handshake_as_smaller(s, rows[r].theirs, PEER_GEN, true);
		ck_assert_msg(c->npaths == rows[r].want, "ours %d theirs %d: npaths %d",
			      rows[r].ours, rows[r].theirs, c->npaths);
		for (int i = 1; i < WIRE_MAX_PATHS; i++)
			ck_assert_msg(fake_connecting(&c->paths[i]) == (i < rows[r].want),
				      "ours %d theirs %d: lane %d connecting %d", rows[r].ours,
				      rows[r].theirs, i, fake_connecting(&c->paths[i]));
		free_sock(s);
	}
}
END_TEST

START_TEST(our_probe_offers_our_own_limit)
{
	struct sock *s;
	struct fake_msg m;
	struct conn *c;

	fake_engine_setup(2);
	s = bound_sock(&a_small, 4000);
	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	fake_run_kicks();
	fake_connect_complete(&c->paths[0]);
	m = read_map_and_probe(c);
	ck_assert_uint_eq(m.ex.npaths, 2);
	free_sock(s);
}
END_TEST

/* wire.md §6: a pong without NPATHS is a legacy peer: one path, and what was held goes there. */
START_TEST(legacy_peer_gets_one_path)
{
	struct sock *s = bound_sock(&a_small, 4003);
	struct conn *c = handshake_as_smaller(s, LEGACY, 0, false);
	struct fake_msg m;

	ck_assert_int_eq(c->npaths, 1);
	m = next_msg(&c->paths[0]);
	ck_assert_uint_eq(m.h.sport, 4003);
	ck_assert_uint_eq(m.h.dport, 5000);
	ck_assert_uint_eq(m.h.seq, 2);
	ck_assert_mem_eq(m.data, "first", 5);
	app_send(s, &a_large, 5000, "second");
	fake_run_kicks();
	m = next_msg(&c->paths[0]);
	ck_assert_uint_eq(m.h.seq, 3);
	for (int i = 1; i < WIRE_MAX_PATHS; i++)
		ck_assert_uint_eq(fake_connects(&c->paths[i]), 0);
	free_sock(s);
}
END_TEST

/* A peer that never answers the probe does not hold our messages for ever: path 0 gets them. */
START_TEST(silent_peer_gets_held_messages_on_path0)
{
	struct sock *s = bound_sock(&a_small, 4001);
	struct fake_msg m;
	struct conn *c;

	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	fake_run_kicks();
	fake_connect_complete(&c->paths[0]);
	read_map_and_probe(c);
	ck_assert(!fake_peer_next(&c->paths[0], &m));
	fake_run_timers();
	fake_run_kicks();
	m = next_msg(&c->paths[0]);
	ck_assert_mem_eq(m.data, "first", 5);
	ck_assert_uint_eq(m.h.seq, 2);
	ck_assert_int_eq(c->npaths, 0); /* still unknown: a late answer can still set it */
	free_sock(s);
}
END_TEST

/* wire.md §6: the larger side answers a probe with a probe pong carrying its own NPATHS. */
START_TEST(peer_probe_gets_a_pong_with_our_npaths)
{
	struct conn *c;
	struct wire_header probe = handshake(true, 1, 8, PEER_GEN, true);
	struct fake_msg m;
	bool pong = false;

	fake_engine_setup(4);
	c = conn_accept_get(fake_engine, &a_large, &a_small);
	ck_assert(!c->smaller);
	ck_assert_int_eq(fake_accept(&c->paths[0]), 0);
	read_map_and_probe(c); /* every path-0 connection probes, on this side too (7.0+) */
	fake_peer_send(&c->paths[0], &probe, NULL);
	fake_run_kicks();
	ck_assert_int_eq(c->npaths, 4);
	ck_assert_uint_eq(c->peer_gen, PEER_GEN);
	while (fake_peer_next(&c->paths[0], &m)) {
		if (m.h.sport != 0 || m.h.dport != WIRE_PROBE_PORT)
			continue;
		pong = true;
		ck_assert(m.ex.has_npaths);
		ck_assert_uint_eq(m.ex.npaths, 4); /* our maximum, not the agreed minimum */
		ck_assert(m.ex.has_gen_num);
		ck_assert_uint_eq(m.ex.gen_num, FAKE_GEN_NUM);
	}
	ck_assert(pong);
	/* wire.md §1: the larger side never opens lanes */
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		ck_assert_uint_eq(fake_connects(&c->paths[i]), 0);
}
END_TEST

/* wire.md §7, §8: lanes connect after the handshake and send once path 0 has caught up. */
START_TEST(lanes_open_after_the_handshake_and_wait_for_path0)
{
	struct sock *s = bound_sock(&a_small, 4001);
	struct wire_header pong;
	struct conn *c;
	struct path *lane;
	struct fake_msg m;

	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	fake_run_kicks();
	fake_connect_complete(&c->paths[0]);
	fake_run_kicks();
	for (int i = 1; i < WIRE_MAX_PATHS; i++)
		ck_assert_uint_eq(fake_connects(&c->paths[i]), 0);
	read_map_and_probe(c);
	pong = handshake(false, 1, 8, PEER_GEN, true);
	fake_peer_send(&c->paths[0], &pong, NULL);
	fake_run_kicks();
	/* a peer that files lanes by source port: all at once */
	for (int i = 1; i < WIRE_MAX_PATHS; i++)
		ck_assert(fake_connecting(&c->paths[i]));
	lane = conn_pick_path(c, 4001);
	ck_assert_int_ne(lane->index, 0);
	for (int i = 1; i < WIRE_MAX_PATHS; i++)
		fake_connect_complete(&c->paths[i]);
	fake_run_kicks();
	/* path 0's probe, written before the fan-out, is not acknowledged yet */
	ck_assert(!fake_peer_next(lane, &m));
	fake_peer_ack(&c->paths[0], FAKE_ACK_ALL);
	fake_run_kicks();
	m = next_msg(lane);
	ck_assert_uint_eq(m.h.sport, 4001);
	ck_assert_uint_eq(m.h.seq, 1); /* each path numbers its own messages */
	ck_assert_mem_eq(m.data, "first", 5);
	free_sock(s);
}
END_TEST

/* wire.md §7: a peer without SPORT_IDX files connections first-free: lanes go in order. */
START_TEST(lanes_open_one_at_a_time_without_sport_idx)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c = handshake_as_smaller(s, 8, PEER_GEN, false);

	ck_assert(!c->peer_sport_idx);
	for (int i = 1; i < WIRE_MAX_PATHS; i++) {
		ck_assert_msg(fake_connecting(&c->paths[i]), "lane %d should connect now", i);
		for (int j = i + 1; j < WIRE_MAX_PATHS; j++)
			ck_assert_msg(fake_connects(&c->paths[j]) == 0,
				      "lane %d connects before lane %d is up", j, i);
		fake_connect_complete(&c->paths[i]);
		fake_run_kicks();
	}
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		ck_assert_int_eq(c->paths[i].state, PATH_UP);
	free_sock(s);
}
END_TEST

/* A refused connect is retried after the backoff; nothing is lost meanwhile. */
START_TEST(refused_connect_is_retried)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c;

	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	fake_run_kicks();
	fake_connect_refuse(&c->paths[0]);
	ck_assert_int_eq(c->paths[0].state, PATH_DOWN);
	ck_assert(fake_retry_pending(&c->paths[0]));
	fake_fire_retry(&c->paths[0]);
	ck_assert(fake_connecting(&c->paths[0]));
	ck_assert_uint_eq(fake_connects(&c->paths[0]), 2);
	fake_connect_complete(&c->paths[0]);
	read_map_and_probe(c);
	free_sock(s);
}
END_TEST

#define NO_RDS_AT_LARGE "warn: no RDS at 198.18.0.2:16385 (from 198.18.0.1): "
#define NO_RDS_AT_SMALL "warn: no RDS at 198.18.0.1:16385 (from 198.18.0.2): "
#define ANSWERS "info: RDS at "

/* Info lines too: the one that says a peer answers again. */
static void log_info_level(void)
{
	setenv("MPRDS_LOG", "info", 1);
	log_init();
}

/* A peer that refuses every connect: one warn line, not one per retry; one when it answers. */
START_TEST(an_absent_peer_is_said_once_until_it_answers)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c;
	const char *log;

	log_info_level();
	log_capture_start();
	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	fake_run_kicks();
	for (int i = 0; i < 5; i++) {
		fake_connect_refuse(&c->paths[0]);
		fake_fire_retry(&c->paths[0]);
	}
	ck_assert_uint_eq(fake_connects(&c->paths[0]), 6);
	fake_connect_complete(&c->paths[0]);
	log = log_capture_end();
	ck_assert_int_eq(log_lines_with(log, NO_RDS_AT_LARGE "connection refused; retrying"), 1);
	ck_assert_int_eq(log_lines_with(log, "warn: "), 1);
	ck_assert_int_eq(log_lines_with(log, ANSWERS "198.18.0.2:16385 answers"), 1);
	read_map_and_probe(c);
	free_sock(s);
}
END_TEST

/* Gone again after it answered: said again, with why (no answer, no route), once. */
START_TEST(a_peer_gone_again_is_said_again)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c = handshake_as_smaller(s, 1, PEER_GEN, true);
	struct path *p = &c->paths[0];
	const char *log;

	log_capture_start();
	fake_peer_close(p);
	fake_fire_retry(p);
	fake_connect_fail(p, ETIMEDOUT);
	fake_fire_retry(p);
	fake_connect_fail(p, EHOSTUNREACH);
	fake_fire_retry(p);
	fake_connect_refuse(p);
	log = log_capture_end();
	ck_assert_int_eq(log_lines_with(log, NO_RDS_AT_LARGE "connection timed out; retrying"), 1);
	ck_assert_int_eq(log_lines_with(log, "no RDS at"), 1);
	free_sock(s);
}
END_TEST

/* The larger address only pokes (wire.md §1): a refused poke is said; the peer's connect clears it. */
START_TEST(a_refused_poke_is_said_once_and_cleared_by_the_peers_connect)
{
	struct sock *s = bound_sock(&a_large, 5000);
	struct conn *c;
	const char *log;

	log_info_level();
	log_capture_start();
	app_send(s, &a_small, 4000, "first");
	c = conn_find(fake_engine, &a_large, &a_small);
	fake_run_kicks();
	ck_assert(c->paths[0].poke);
	fake_connect_refuse(&c->paths[0]);
	fake_fire_retry(&c->paths[0]);
	fake_connect_refuse(&c->paths[0]);
	ck_assert_int_eq(fake_accept(&c->paths[0]), 0);
	log = log_capture_end();
	ck_assert_int_eq(log_lines_with(log, NO_RDS_AT_SMALL "connection refused; retrying"), 1);
	ck_assert_int_eq(log_lines_with(log, ANSWERS "198.18.0.1:16385 answers"), 1);
	free_sock(s);
}
END_TEST

/* A failure of ours (our address gone) is not blamed on the peer. */
START_TEST(our_own_connect_failure_is_not_blamed_on_the_peer)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c;
	const char *log;

	log_capture_start();
	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	fake_run_kicks();
	fake_connect_fail(&c->paths[0], EADDRNOTAVAIL);
	log = log_capture_end();
	ck_assert_int_eq(log_lines_with(log, "warn: cannot connect from 198.18.0.1 to RDS at "
					     "198.18.0.2:16385: cannot assign requested address"),
			 1);
	ck_assert_int_eq(log_lines_with(log, "no RDS at"), 0);
	free_sock(s);
}
END_TEST

/* wire.md §8: unacknowledged messages are resent, marked; acknowledged ones are not. */
START_TEST(unacked_messages_are_resent_after_reconnect)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c = handshake_as_smaller(s, 1, PEER_GEN, true);
	struct path *p = &c->paths[0];
	struct fake_msg m, first;
	uint64_t seq[3];
	int data = 0;

	first = next_msg(p); /* "first", held until the handshake */
	app_send(s, &a_large, 5000, "two");
	app_send(s, &a_large, 5000, "three");
	fake_run_kicks();
	seq[0] = next_msg(p).h.seq;
	seq[1] = next_msg(p).h.seq;
	fake_peer_ack(p, first.end);
	ck_assert_uint_eq(s->snd_queued, 3 + 5); /* "first" was credited back */
	app_send(s, &a_large, 5000, "four"); /* queued, not written yet */
	seq[2] = seq[1] + 1;
	fake_peer_close(p);
	ck_assert_int_eq(p->state, PATH_DOWN);
	ck_assert(fake_retry_pending(p));
	fake_fire_retry(p);
	fake_connect_complete(p);
	fake_run_kicks();
	expect_cong_map(p);
	while (fake_peer_next(p, &m)) {
		if (!m.h.len)
			continue;
		ck_assert_int_lt(data, 3);
		ck_assert_msg(m.h.seq == seq[data], "message %d: seq %llu, not %llu", data,
			      (unsigned long long)m.h.seq, (unsigned long long)seq[data]);
		/* what was written is marked, what was not is not */
		ck_assert_msg(!!(m.h.flags & WIRE_FLAG_RETRANSMITTED) == (data < 2),
			      "seq %llu: flags %#x", (unsigned long long)m.h.seq, m.h.flags);
		data++;
	}
	ck_assert_int_eq(data, 3);
	ck_assert_uint_eq(p->retransmits, 2);
	free_sock(s);
}
END_TEST

/* wire.md §7: on the accepting side, the peer's new connection gets the unacknowledged. */
START_TEST(unacked_messages_go_on_the_peers_new_connection)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p = &c->paths[0];
	struct wire_header probe = handshake(true, 1, 1, PEER_GEN, true);
	struct fake_msg m;
	int resent = 0;

	ck_assert_int_eq(fake_accept(p), 0);
	fake_peer_send(p, &probe, NULL);
	fake_run_kicks();
	fake_peer_read_all(p);
	fake_peer_ack(p, FAKE_ACK_ALL);
	app_send(s, &a_small, 4000, "one");
	app_send(s, &a_small, 4000, "two");
	fake_run_kicks();
	ck_assert_int_eq(fake_peer_read_all(p), 2);
	/* the peer gives up on that connection and makes another */
	ck_assert_int_eq(fake_accept(p), 0);
	ck_assert_int_eq(p->state, PATH_UP);
	fake_run_kicks();
	while (fake_peer_next(p, &m))
		if (m.h.len && !is_cong_map(&m)) {
			ck_assert(m.h.flags & WIRE_FLAG_RETRANSMITTED);
			resent++;
		}
	ck_assert_int_eq(resent, 2);
	free_sock(s);
}
END_TEST

/* wire.md §8: a retransmitted message already delivered is dropped; the rest are taken. */
START_TEST(duplicates_after_a_reconnect_are_dropped)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p = &c->paths[2];

	ck_assert_int_eq(fake_accept(p), 0);
	peer_data(p, 1, 5000, "m1", 0);
	peer_data(p, 2, 5000, "m2", 0);
	peer_data(p, 3, 5000, "m3", 0);
	fake_peer_close(p);
	ck_assert_int_eq(p->state, PATH_DOWN);
	ck_assert_int_eq(fake_accept(p), 0);
	peer_data(p, 2, 5000, "m2", WIRE_FLAG_RETRANSMITTED);
	peer_data(p, 3, 5000, "m3", WIRE_FLAG_RETRANSMITTED);
	peer_data(p, 4, 5000, "m4", 0);
	app_reads(s, "m1");
	app_reads(s, "m2");
	app_reads(s, "m3");
	app_reads(s, "m4");
	ck_assert_int_eq(app_read_all(s), 0);
	ck_assert_uint_eq(p->dups, 2);
	/* lower, not marked: a peer restarted without GEN_NUM; taken as the kernel takes it */
	peer_data(p, 2, 5000, "again", 0);
	app_reads(s, "again");
	free_sock(s);
}
END_TEST

/* wire.md §13: a new GEN_NUM: the peer's numbers start again, even on a retransmission. */
START_TEST(peer_restart_restarts_receive_sequences)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct wire_header probe = handshake(true, 1, 8, PEER_GEN, true);
	struct path *p0 = &c->paths[0], *lane = &c->paths[1];

	ck_assert_int_eq(fake_accept(p0), 0);
	fake_peer_send(p0, &probe, NULL);
	ck_assert_int_eq(fake_accept(lane), 0);
	peer_data(lane, 1, 5000, "old1", 0);
	peer_data(lane, 2, 5000, "old2", 0);
	peer_data(lane, 3, 5000, "old3", 0);
	/* kill -9 and start again */
	fake_peer_close(lane);
	fake_peer_close(p0);
	ck_assert_int_eq(fake_accept(p0), 0);
	probe = handshake(true, 1, 8, PEER_GEN2, true);
	fake_peer_send(p0, &probe, NULL);
	ck_assert_uint_eq(c->peer_gen, PEER_GEN2);
	ck_assert_int_eq(fake_accept(lane), 0);
	peer_data(lane, 1, 5000, "new1", WIRE_FLAG_RETRANSMITTED);
	peer_data(lane, 2, 5000, "new2", 0);
	app_reads(s, "old1");
	app_reads(s, "old2");
	app_reads(s, "old3");
	app_reads(s, "new1");
	app_reads(s, "new2");
	ck_assert_uint_eq(lane->dups, 0);
	/* the same generation again is no restart */
	probe = handshake(true, 2, 8, PEER_GEN2, true);
	fake_peer_send(p0, &probe, NULL);
	peer_data(lane, 2, 5000, "dup", WIRE_FLAG_RETRANSMITTED);
	ck_assert_int_eq(app_read_all(s), 0);
	free_sock(s);
}
END_TEST

/*
 * wire.md §13: what waited to be resent to the old incarnation is dropped (it may have had
 * it); what was never written goes to the new one, numbered from 1.
 */
START_TEST(peer_restart_drops_stale_retransmissions)
{
	struct sock *s = bound_sock(&a_small, 4001);
	struct conn *c = handshake_as_smaller(s, 8, PEER_GEN, true);
	struct path *p0 = &c->paths[0], *lane = conn_pick_path(c, 4001);
	struct wire_header pong;
	struct fake_msg m;

	for (int i = 1; i < WIRE_MAX_PATHS; i++)
		fake_connect_complete(&c->paths[i]);
	fake_peer_ack(p0, FAKE_ACK_ALL); /* path 0 caught up: the lane writes */
	fake_run_kicks();
	m = next_msg(lane);
	ck_assert_mem_eq(m.data, "first", 5); /* written, never acknowledged */
	/* the peer restarts: every connection ends */
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		fake_peer_close(&c->paths[i]);
	app_send(s, &a_large, 5000, "after");
	ck_assert_uint_eq(s->snd_queued, 5 + 5);
	fake_fire_retry(p0);
	fake_connect_complete(p0);
	fake_run_kicks();
	ck_assert_uint_eq(fake_connects(lane), 1); /* lanes wait for the new handshake */
	pong = handshake(false, 1, 8, PEER_GEN2, true);
	fake_peer_send(p0, &pong, NULL);
	fake_run_kicks();
	ck_assert_uint_eq(lane->flushed, 1);
	ck_assert_uint_eq(s->snd_queued, 5); /* "first" is given up and credited */
	ck_assert(fake_connecting(lane));
	fake_connect_complete(lane);
	fake_peer_ack(p0, FAKE_ACK_ALL);
	fake_run_kicks();
	m = next_msg(lane);
	ck_assert_mem_eq(m.data, "after", 5);
	ck_assert_uint_eq(m.h.seq, 1);
	ck_assert(!(m.h.flags & WIRE_FLAG_RETRANSMITTED));
	ck_assert(!fake_peer_next(lane, &m));
	free_sock(s);
}
END_TEST

/* wire.md §9, §10: every path up sends our map, on the lowest path up. */
START_TEST(congestion_map_is_sent_on_every_path_up)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c = handshake_as_smaller(s, 8, PEER_GEN, true);
	struct path *p0 = &c->paths[0];
	struct fake_msg m;
	int maps = 0;

	fake_peer_read_all(p0);
	fake_peer_ack(p0, FAKE_ACK_ALL); /* past the catch-up point: lanes may send (§8) */
	fake_connect_complete(&c->paths[3]);
	fake_run_kicks();
	ck_assert(!fake_peer_next(&c->paths[3], &m)); /* not on the lane itself */
	while (fake_peer_next(p0, &m))
		maps += is_cong_map(&m);
	ck_assert_int_eq(maps, 1);
	/* path 0 down: the map of a lane coming up goes on the lowest path up */
	fake_peer_close(p0);
	fake_connect_complete(&c->paths[4]);
	fake_run_kicks();
	expect_cong_map(&c->paths[3]);
	ck_assert(!fake_peer_next(&c->paths[4], &m));
	/* and path 0's reconnect sends one again */
	fake_fire_retry(p0);
	fake_connect_complete(p0);
	fake_run_kicks();
	expect_cong_map(p0);
	free_sock(s);
}
END_TEST

/* wire.md §10: a socket over its rcvbuf is congested: the peer is told, and told again. */
START_TEST(a_congested_port_is_announced_and_cleared)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p0 = &c->paths[0];
	static char big[60001];
	struct fake_msg m;
	bool set = false, cleared = false;

	memset(big, 'x', sizeof(big) - 1);
	ck_assert_int_eq(fake_accept(p0), 0);
	fake_peer_read_all(p0);
	peer_data(p0, 1, 5000, big, 0);
	peer_data(p0, 2, 5000, big, 0); /* 120000 bytes > rcvbuf 106496 */
	fake_run_kicks();
	while (fake_peer_next(p0, &m))
		set = set || (is_cong_map(&m) && wire_cong_test(m.data, 5000));
	ck_assert(set);
	ck_assert_int_eq(app_read_all(s), 2);
	fake_run_kicks();
	while (fake_peer_next(p0, &m))
		cleared = cleared || (is_cong_map(&m) && !wire_cong_test(m.data, 5000));
	ck_assert(cleared);
	free_sock(s);
}
END_TEST

/* wire.md §10: the peer's map blocks sends to its congested ports, until it is gone. */
START_TEST(peer_map_blocks_its_congested_ports)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct wire_header h = { .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP };
	static uint8_t map[WIRE_CONG_MAP_BYTES];

	ck_assert_int_eq(fake_accept(&c->paths[1]), 0);
	wire_cong_set(map, 6000);
	fake_peer_send(&c->paths[1], &h, map);
	ck_assert(cong_blocks(s, c->peer_cong, 6000));
	ck_assert(!cong_blocks(s, c->peer_cong, 6001));
	ck_assert_uint_eq(c->paths[1].next_rx_seq, 0); /* maps have no sequence number */
	fake_peer_close(&c->paths[1]);
	ck_assert(!cong_blocks(s, c->peer_cong, 6000)); /* no connection left: stale */
	free_sock(s);
}
END_TEST

/* The peer's map on p, port marked or not, as if it arrived at arrived_ns. */
static void peer_map_at(struct path *p, uint16_t port, bool congested, uint64_t arrived_ns)
{
	struct wire_header h = { .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP };
	static uint8_t map[WIRE_CONG_MAP_BYTES];

	memset(map, 0, sizeof(map));
	if (congested)
		wire_cong_set(map, port);
	fake_peer_arrival(p, arrived_ns);
	fake_peer_send(p, &h, map);
}

/*
 * wire.md §10 as 7.3 does it: maps on any path. A lane's map that arrived before path 0's
 * newer one, but is read after it (the loop's order), must not undo it; one that arrived
 * later does.
 */
START_TEST(a_peer_map_that_arrived_earlier_on_another_path_is_stale)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p0 = &c->paths[0], *lane = &c->paths[5];

	ck_assert_int_eq(fake_accept(p0), 0);
	ck_assert_int_eq(fake_accept(lane), 0);
	peer_map_at(p0, 6000, true, 2000); /* the change: 6000 congested */
	peer_map_at(lane, 6000, false, 1000); /* the lane's path-up map, sent before it */
	ck_assert(cong_blocks(s, c->peer_cong, 6000));
	peer_map_at(lane, 6000, false, 3000); /* the peer's reader drained: a newer map */
	ck_assert(!cong_blocks(s, c->peer_cong, 6000));
	peer_map_at(p0, 6000, true, 2500); /* path 0 again, but older than the lane's */
	ck_assert(!cong_blocks(s, c->peer_cong, 6000));
	/* no stamps (a kernel that gives none): the last map read is taken, as before */
	peer_map_at(p0, 6000, true, 0);
	ck_assert(cong_blocks(s, c->peer_cong, 6000));
	free_sock(s);
}
END_TEST

/* A map whose bytes came in two reads is as old as its first: its bits left with them. */
START_TEST(a_peer_map_is_as_old_as_its_first_bytes)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p0 = &c->paths[0], *lane = &c->paths[2];
	struct wire_header h = { .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP };
	static uint8_t msg[WIRE_HDR_LEN + WIRE_CONG_MAP_BYTES];
	size_t half = sizeof(msg) / 2;

	ck_assert_int_eq(fake_accept(p0), 0);
	ck_assert_int_eq(fake_accept(lane), 0);
	wire_header_encode(&h, msg); /* an all-clear map */
	fake_peer_arrival(lane, 1000);
	fake_peer_write(lane, msg, half);
	peer_map_at(p0, 6000, true, 2000);
	fake_peer_arrival(lane, 3000);
	fake_peer_write(lane, msg + half, sizeof(msg) - half);
	ck_assert(cong_blocks(s, c->peer_cong, 6000));
	free_sock(s);
}
END_TEST

/* Sends n messages of 64 KiB from the peer to port 5000 on p. */
static void flood(struct path *p, uint64_t first_seq, int n)
{
	static uint8_t payload[65536];
	struct wire_header h = { .len = sizeof(payload), .sport = 4000, .dport = 5000 };

	for (int i = 0; i < n; i++) {
		h.seq = first_seq + (uint64_t)i;
		fake_peer_send(p, &h, payload);
	}
}

/* README "Memory": past its bound a socket stops its paths' reads, and they resume. */
START_TEST(reads_pause_for_a_socket_over_its_bound)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p = &c->paths[1];
	size_t unread;
	int got;

	ck_assert_int_eq(fake_accept(p), 0);
	flood(p, 1, 40); /* 2.5 MiB, the bound is 1.4 MiB */
	ck_assert(path_rx_paused(p));
	ck_assert_uint_eq(p->rx_pauses, 1);
	ck_assert_uint_gt(fake_unread_by_us(p), 0);
	ck_assert_uint_le(s->rcv_queued, sock_rx_bound(s) + 2 * 65536);
	unread = fake_unread_by_us(p);
	fake_rx_poll(p); /* nothing read yet: still paused, nothing more read */
	ck_assert(path_rx_paused(p));
	ck_assert_uint_eq(fake_unread_by_us(p), unread);
	got = app_read_all(s);
	fake_rx_poll(p);
	ck_assert(!path_rx_paused(p));
	ck_assert_uint_eq(fake_unread_by_us(p), 0);
	got += app_read_all(s);
	ck_assert_int_eq(got, 40);
	ck_assert_int_eq(p->state, PATH_UP);
	free_sock(s);
}
END_TEST

/* What the peer's TCP delivered before it closed is read once reads resume, then it ends. */
START_TEST(a_close_while_paused_waits_for_the_reads)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p = &c->paths[1];
	int got;

	ck_assert_int_eq(fake_accept(p), 0);
	flood(p, 1, 40);
	ck_assert(path_rx_paused(p));
	fake_peer_close(p);
	ck_assert_int_eq(p->state, PATH_UP);
	got = app_read_all(s);
	fake_rx_poll(p);
	got += app_read_all(s);
	ck_assert_int_eq(got, 40);
	ck_assert_int_eq(p->state, PATH_DOWN);
	free_sock(s);
}
END_TEST

/* A connection failing while reads are paused stops writing and ends once they resume. */
START_TEST(a_failure_while_paused_is_held_for_the_reads)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p = &c->paths[1];
	struct fake_msg m;
	int got;

	ck_assert_int_eq(fake_accept(p), 0);
	fake_peer_read_all(p);
	flood(p, 1, 40);
	path_drop(p, "a write failed");
	ck_assert(p->tx_dead);
	ck_assert(fake_peer_next(&c->paths[1], &m) == false);
	ck_assert(c->paths[1].tr->is_open(&c->paths[1]));
	got = app_read_all(s);
	fake_rx_poll(p);
	got += app_read_all(s);
	ck_assert_int_eq(got, 40);
	ck_assert_int_eq(p->state, PATH_DOWN);
	ck_assert(!p->tx_dead);
	free_sock(s);
}
END_TEST

/* socket-api.md §12: the engine's counter of that name in RDS_INFO_COUNTERS. */
static uint64_t counter(const char *name)
{
	static struct rds_info_counter ctrs[COUNTERS_MAX];
	socklen_t len = sizeof(ctrs);

	ck_assert_int_eq(info_get(fake_engine, RDS_INFO_COUNTERS, ctrs, &len),
			 (int)sizeof(ctrs[0]));
	return counter_in(ctrs, len, name);
}

/* sendmsg(MSG_DONTWAIT) of text from s to dst:dport: what it returns. */
static ssize_t try_send(struct sock *s, const struct addr *dst, uint16_t dport, const char *text)
{
	struct sockaddr_storage to;
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = { .msg_name = &to, .msg_iov = &iov, .msg_iovlen = 1 };

	msg.msg_namelen = addr_fill(dst, dport, &to);
	return api_sendmsg((struct api_sock *)s, &msg, MSG_DONTWAIT);
}

/* Everything a peer sends is counted once, by what it turned out to be (wire.md §5). */
START_TEST(counters_of_what_a_peer_sends)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct sock *s = bound_sock(&a_large, 5000);
	struct path *p0 = &c->paths[0];
	struct wire_header probe = handshake(true, 1, 8, PEER_GEN, true);
	struct wire_header ping = { .seq = 2, .sport = 4000 };
	struct wire_header map = { .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP };
	static uint8_t bits[WIRE_CONG_MAP_BYTES];

	ck_assert_int_eq(fake_accept(p0), 0);
	ck_assert_uint_eq(counter("cong_update_queued"), 1); /* our map, as the path came up */
	fake_peer_send(p0, &probe, NULL); /* a probe is a ping to port 0 too */
	fake_peer_send(p0, &ping, NULL);
	ck_assert_uint_eq(counter("recv_ping"), 2);
	ck_assert_uint_eq(counter("send_pong"), 2);
	ck_assert_uint_eq(counter("send_queued"), 2); /* the kernel counts its pongs as sends */
	ping.seq = 3;
	ping.sport = 0; /* never answered, not counted */
	fake_peer_send(p0, &ping, NULL);
	ck_assert_uint_eq(counter("recv_ping"), 2);
	peer_data(p0, 4, 5000, "hello", 0);
	peer_data(p0, 5, 5999, "lost", 0);
	peer_data(p0, 4, 5000, "hello", WIRE_FLAG_RETRANSMITTED);
	ck_assert_uint_eq(counter("recv_queued"), 1);
	ck_assert_uint_eq(counter("recv_bytes_added_to_sock"), 5);
	ck_assert_uint_eq(counter("recv_drop_no_sock"), 1);
	ck_assert_uint_eq(counter("recv_drop_old_seq"), 1);
	fake_peer_send(p0, &map, bits);
	map.len = 16; /* ignored, and not counted */
	fake_peer_send(p0, &map, bits);
	ck_assert_uint_eq(counter("cong_update_received"), 1);
	/* taken from the queue without recvmsg: freed from the socket, not delivered */
	ck_assert_int_eq(app_read_all(s), 1);
	ck_assert_uint_eq(counter("recv_bytes_freed_fromsock"), 5);
	ck_assert_uint_eq(counter("recv_delivered"), 0);
	ck_assert_uint_eq(counter("copy_to_user"), 0);
	free_sock(s);
}
END_TEST

/* What we send: queued, copied, refused for the peer's congestion, acknowledged at last. */
START_TEST(counters_of_our_sends)
{
	struct sock *s = bound_sock(&a_small, 4000);
	struct conn *c = handshake_as_smaller(s, 1, PEER_GEN, false); /* sends "first" */
	struct path *p0 = &c->paths[0];
	struct wire_header map = { .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP };
	static uint8_t bits[WIRE_CONG_MAP_BYTES];

	ck_assert_uint_eq(counter("send_queued"), 1);
	ck_assert_uint_eq(counter("copy_from_user"), 5);
	ck_assert_uint_eq(counter("recv_ping"), 0); /* the peer's probe pong is no ping */
	ck_assert_uint_eq(counter("send_queue_empty"), 0);
	fake_peer_read_all(p0);
	fake_peer_ack(p0, FAKE_ACK_ALL);
	ck_assert_uint_eq(counter("send_queue_empty"), 1);
	wire_cong_set(bits, 6000);
	fake_peer_send(p0, &map, bits);
	ck_assert_uint_eq(counter("cong_update_received"), 1);
	ck_assert_int_eq(try_send(s, &a_large, 6000, "no"), -ENOBUFS);
	ck_assert_uint_eq(counter("cong_send_error"), 1);
	ck_assert_int_eq(try_send(s, &a_large, 6001, "yes"), 3);
	ck_assert_uint_eq(counter("send_queued"), 2);
	ck_assert_uint_eq(counter("copy_from_user"), 8);
	ck_assert_uint_eq(counter("cong_send_blocked"), 0);
	free_sock(s);
}
END_TEST

/* wire.md §8: a lane that must wait for path 0 to catch up counts each time it is held. */
START_TEST(counters_of_a_lane_waiting_for_path0)
{
	struct sock *s = bound_sock(&a_small, 4001);
	struct conn *c = handshake_as_smaller(s, 8, PEER_GEN, true); /* "first" is for a lane */
	struct path *lane = conn_pick_path(c, 4001);
	struct fake_msg m;

	ck_assert_int_ne(lane->index, 0);
	ck_assert_uint_eq(counter("mprds_catchup_tx0_retries"), 0);
	fake_connect_complete(lane);
	fake_run_kicks();
	ck_assert(!fake_peer_next(lane, &m)); /* path 0's probe is not acknowledged yet */
	ck_assert_uint_ge(counter("mprds_catchup_tx0_retries"), 1);
	fake_peer_ack(&c->paths[0], FAKE_ACK_ALL);
	fake_run_kicks();
	m = next_msg(lane);
	ck_assert_mem_eq(m.data, "first", 5);
	free_sock(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc;

	tc = check_tcase(s, "handshake", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, probe_carries_npaths_and_gen_num);
	tcase_add_test(tc, npaths_is_the_minimum_of_both_offers);
	tcase_add_test(tc, our_probe_offers_our_own_limit);
	tcase_add_test(tc, legacy_peer_gets_one_path);
	tcase_add_test(tc, silent_peer_gets_held_messages_on_path0);
	tcase_add_test(tc, peer_probe_gets_a_pong_with_our_npaths);
	tc = check_tcase(s, "lanes", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, lanes_open_after_the_handshake_and_wait_for_path0);
	tcase_add_test(tc, lanes_open_one_at_a_time_without_sport_idx);
	tcase_add_test(tc, refused_connect_is_retried);
	tc = check_tcase(s, "absent peers", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, an_absent_peer_is_said_once_until_it_answers);
	tcase_add_test(tc, a_peer_gone_again_is_said_again);
	tcase_add_test(tc, a_refused_poke_is_said_once_and_cleared_by_the_peers_connect);
	tcase_add_test(tc, our_own_connect_failure_is_not_blamed_on_the_peer);
	tc = check_tcase(s, "retransmit", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, unacked_messages_are_resent_after_reconnect);
	tcase_add_test(tc, unacked_messages_go_on_the_peers_new_connection);
	tcase_add_test(tc, duplicates_after_a_reconnect_are_dropped);
	tc = check_tcase(s, "generation", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, peer_restart_restarts_receive_sequences);
	tcase_add_test(tc, peer_restart_drops_stale_retransmissions);
	tc = check_tcase(s, "congestion", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, congestion_map_is_sent_on_every_path_up);
	tcase_add_test(tc, a_congested_port_is_announced_and_cleared);
	tcase_add_test(tc, peer_map_blocks_its_congested_ports);
	tcase_add_test(tc, a_peer_map_that_arrived_earlier_on_another_path_is_stale);
	tcase_add_test(tc, a_peer_map_is_as_old_as_its_first_bytes);
	tc = check_tcase(s, "pausing", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, reads_pause_for_a_socket_over_its_bound);
	tcase_add_test(tc, a_close_while_paused_waits_for_the_reads);
	tcase_add_test(tc, a_failure_while_paused_is_held_for_the_reads);
	tc = check_tcase(s, "counters", fake_peer_setup8, fake_peer_teardown);
	tcase_add_test(tc, counters_of_what_a_peer_sends);
	tcase_add_test(tc, counters_of_our_sends);
	tcase_add_test(tc, counters_of_a_lane_waiting_for_path0);
	return check_run(s);
}
