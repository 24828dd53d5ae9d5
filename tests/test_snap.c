// SPDX-License-Identifier: MIT
/*
 * The engine's snapshot (mprdsd --upgrade: snap.h, engine_snap.c and the rooms' *_snap.c):
 * an engine made from another's snapshot holds the same sockets, queues, connections,
 * sequence numbers, parser state, congestion maps, timers and GEN_NUM; a snapshot cut short
 * anywhere is refused, never half-used or crashed on.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/api.h"
#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/snap.h"
#include "mprds/sock.h"
#include "mprds/tcp_path.h"

#include "check_main.h"
#include "test_engine.h"

#define LOCAL "127.0.0.71"
#define PEER "127.0.0.72"
#define PORT 4100
#define CONGESTED_PEER_PORT 77
#define HOLD_DUE 1000.5

static struct addr addr_of(const char *ip)
{
	struct addr a = { .ip.s6_addr[10] = 0xff, .ip.s6_addr[11] = 0xff };

	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.ip.s6_addr[12]), 1);
	return a;
}

static struct msg *text_msg(struct engine *e, uint16_t sport, uint16_t dport, const char *text)
{
	uint32_t n = (uint32_t)strlen(text);
	uint8_t *data = malloc(n);

	ck_assert_ptr_nonnull(data);
	memcpy(data, text, n);
	return msg_new(e, sport, dport, data, n);
}

static int never_whole(void *ctx, const struct wire_header *h, uint8_t *payload)
{
	(void)ctx, (void)h, (void)payload;
	ck_abort_msg("the parser was given a whole message");
	return -1;
}

/* A socket bound to LOCAL:PORT with two unread messages and options of its own. */
static struct sock *populated_sock(struct engine *e)
{
	struct api_sock *as;
	struct addr local = addr_of(LOCAL);
	struct sock *s;

	ck_assert_int_ge(api_socket(e, SOCK_SEQPACKET, 0, &as), 0);
	s = (struct sock *)as;
	ck_assert_int_eq(sock_bind_port(s, &local, PORT), 0);
	s->rcvbuf = 12345;
	s->cong_monitor = true;
	s->cong_mask = 0x5;
	s->recverr = true;
	sock_deliver(s, text_msg(e, 9, PORT, "first"));
	sock_deliver(s, text_msg(e, 9, PORT, "second"));
	return s;
}

/*
 * A connection with a handshake done; its path 3 up (on one end of a socketpair, as the TCP
 * transport holds a connected socket) with a message queued and half a message read.
 */
static int peer_end = -1; /* the other end of path 3's socketpair */

static void populate_conn(struct engine *e, struct sock *s)
{
	struct addr local = addr_of(LOCAL), peer = addr_of(PEER);
	struct conn *c = conn_get(e, &local, &peer);
	struct path *p = &c->paths[3];
	struct wire_header h = { .len = 100, .sport = 1, .dport = PORT, .seq = 42 };
	uint8_t hdr[WIRE_HDR_LEN], part[10] = { 1, 2, 3 };
	struct msg *held = text_msg(e, PORT, 5, "held");

	int sv[2];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	peer_end = sv[1];
	tcp_of(p)->fd = sv[0];
	path_connected(p);
	c->npaths = 8;
	c->peer_gen = 0x1234;
	wire_cong_set(c->peer_cong, CONGESTED_PEER_PORT);
	c->peer_cong_at = 777;
	path_queue(p, text_msg(e, PORT, 6, "hello"));
	p->next_rx_seq = 42;
	wire_header_encode(&h, hdr);
	ck_assert_int_eq(wire_parser_feed(&p->parser, hdr, sizeof(hdr), never_whole, NULL), 0);
	ck_assert_int_eq(wire_parser_feed(&p->parser, part, sizeof(part), never_whole, NULL), 0);
	held->sender = s;
	TAILQ_INSERT_TAIL(&c->held, held, link);
	ck_assert_int_eq(timer_start(&e->timers, &c->hold_timer, HOLD_DUE), 0);
}

/* The sockets of e go without closing their fds (another engine of the test shares them). */
static void free_engine_keeping_fds(struct engine *e)
{
	struct sock *s;

	engine_lock(e);
	conn_free_all(e);
	while ((s = LIST_FIRST(&e->socks.all))) {
		sock_unbind(s);
		sock_put(s);
	}
	engine_unlock(e);
	engine_free(e);
}

static void save(struct engine *e, struct snap_out *o)
{
	snap_out_init(o);
	engine_lock(e);
	engine_save(e, o);
	engine_unlock(e);
	ck_assert(!o->failed);
}

static void check_msg(const struct msg *m, const char *text)
{
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->h.len, strlen(text));
	ck_assert_mem_eq(m->data, text, strlen(text));
}

static void check_sock(struct engine *e, struct sock *s)
{
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->rcvbuf, 12345);
	ck_assert(s->cong_monitor && s->recverr);
	ck_assert_uint_eq(s->cong_mask, 0x5);
	ck_assert_uint_eq(s->rcv_queued, strlen("first") + strlen("second"));
	check_msg(TAILQ_FIRST(&s->rxq), "first");
	check_msg(TAILQ_NEXT(TAILQ_FIRST(&s->rxq), link), "second");
	ck_assert_ptr_eq(sock_lookup(e, &s->bound_addr, PORT), s);
}

static const struct path *path3(struct engine *e)
{
	struct addr local = addr_of(LOCAL), peer = addr_of(PEER);
	struct conn *c = conn_find(e, &local, &peer);

	ck_assert_ptr_nonnull(c);
	return &c->paths[3];
}

static void check_conn(struct engine *e, struct sock *s, const struct path *was)
{
	const struct path *p = path3(e);
	const struct conn *c = p->conn;
	ck_assert_int_eq(c->npaths, 8);
	ck_assert_uint_eq(c->peer_gen, 0x1234);
	ck_assert(wire_cong_test(c->peer_cong, CONGESTED_PEER_PORT));
	ck_assert_uint_eq(c->peer_cong_at, 777);
	check_msg(TAILQ_LAST(&p->sendq, msg_queue), "hello");
	ck_assert_uint_eq(TAILQ_LAST(&p->sendq, msg_queue)->h.seq,
			  TAILQ_LAST(&was->sendq, msg_queue)->h.seq);
	ck_assert_uint_eq(p->next_tx_seq, was->next_tx_seq);
	ck_assert_uint_eq(p->next_rx_seq, 42);
	ck_assert_uint_eq(p->parser.hdr_have, WIRE_HDR_LEN);
	ck_assert_uint_eq(p->parser.payload_have, 10);
	ck_assert_uint_eq(p->parser.payload[2], 3);
	ck_assert_int_eq(p->state, PATH_UP);
	ck_assert_int_eq(c->paths[2].state, PATH_DOWN);
	check_msg(TAILQ_FIRST(&c->held), "held");
	ck_assert_ptr_eq(TAILQ_FIRST(&c->held)->sender, s);
	ck_assert(c->hold_timer.slot != 0);
	ck_assert(c->hold_timer.due == HOLD_DUE);
}

START_TEST(an_engine_made_from_a_snapshot_holds_the_same_state)
{
	struct engine *a = test_engine_new(), *b = test_engine_new();
	struct sock *s = populated_sock(a);
	struct addr local = addr_of(LOCAL);
	struct snap_out o;
	struct snap_in in;

	populate_conn(a, s);
	save(a, &o);
	b->cfg.gen_num = 1;
	snap_in_init(&in, o.buf, o.len, o.fds, o.nfds);
	ck_assert_int_eq(engine_restore(b, &in), 0);
	ck_assert_uint_eq(in.off, o.len);
	ck_assert_uint_eq(b->cfg.gen_num, a->cfg.gen_num);
	check_sock(b, sock_lookup(b, &local, PORT));
	check_conn(b, sock_lookup(b, &local, PORT), path3(a));
	snap_in_fini(&in);
	snap_out_fini(&o);
	free_engine_keeping_fds(b);
	free_engine_keeping_fds(a);
	close(peer_end);
	(void)s;
}
END_TEST

START_TEST(a_snapshot_cut_short_anywhere_is_refused)
{
	struct engine *a = test_engine_new();
	struct sock *s = populated_sock(a);
	struct snap_out o;

	populate_conn(a, s);
	save(a, &o);
	for (size_t len = 0; len < o.len; len += len < 4096 ? 1 : 97) {
		struct engine *b = test_engine_new();
		struct snap_in in;

		snap_in_init(&in, o.buf, len, o.fds, o.nfds);
		ck_assert_msg(engine_restore(b, &in) == -EPROTO, "a snapshot of %zu of %zu bytes",
			      len, o.len);
		ck_assert(in.why[0]);
		snap_in_fini(&in);
		free_engine_keeping_fds(b);
	}
	snap_out_fini(&o);
	free_engine_keeping_fds(a);
	close(peer_end);
}
END_TEST

START_TEST(the_reader_refuses_counts_fds_and_ids_out_of_range)
{
	struct snap_out o;
	struct snap_in in;
	int fds[1] = { 0 };

	snap_out_init(&o);
	snap_u32(&o, 5); /* a count over its bound of 4 */
	snap_u32(&o, 1); /* fd index 1 of 1 */
	snap_u32(&o, 7); /* object 7 of none */
	snap_in_init(&in, o.buf, o.len, fds, 1);
	ck_assert_uint_eq(snap_get_count(&in, 4), 0);
	ck_assert(in.bad);
	snap_in_fini(&in);
	snap_in_init(&in, o.buf + 4, 4, fds, 1);
	ck_assert_int_eq(snap_get_fd(&in), -1);
	ck_assert(in.bad);
	snap_in_fini(&in);
	snap_in_init(&in, o.buf + 8, 4, fds, 1);
	ck_assert_ptr_null(snap_get_obj(&in));
	ck_assert(in.bad);
	ck_assert_uint_eq(snap_get_u64(&in), 0); /* once bad, zeros */
	snap_in_fini(&in);
	snap_out_fini(&o);
}
END_TEST

static Suite *snap_suite(void)
{
	Suite *s = suite_create("snap");
	TCase *tc = check_tcase(s, "snapshot", NULL, NULL);

	tcase_add_test(tc, an_engine_made_from_a_snapshot_holds_the_same_state);
	tcase_add_test(tc, a_snapshot_cut_short_anywhere_is_refused);
	tcase_add_test(tc, the_reader_refuses_counts_fds_and_ids_out_of_range);
	return s;
}

int main(void)
{
	return check_run(snap_suite());
}
