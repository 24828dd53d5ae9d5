// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the receive side as it ships, linked with the whole core: the stream
 * parser (wire.c), the classification, duplicate rule, handshake, peer restarts and delivery
 * (rx.c, path.c, conn.c), the sockets' queues (sock.c) and congestion maps (cong.c), and what
 * comes back (pongs, maps, retransmissions). Below the paths is the fake transport
 * (fake_transport.h): the fuzzer plays the peer and the loop, with no socket and no thread.
 *
 * Input: byte 0 = set-up (bit 0: our address is the smaller; bits 1-3: npaths agreed by a
 * handshake beforehand, 0 = none, 7 = 8; bit 4: that handshake carried a GEN_NUM (with npaths
 * 0: a handshake without NPATHS, a legacy peer); bit 5: the socket on port 5002 gets a tiny
 * receive buffer, so reads pause). Then operations, each [op][len][len bytes]: op & 7 = path
 * index, op >> 3 = what (see run_op).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/sock.h"

#include "fake_transport.h"
#include "fuzz_defaults.h"

#define NSOCKS 3
#define MAX_OPS 64
#define MAX_QUEUED_PONGS 256 /* rx.c's bound */
#define PEER_GEN 0x11223344u
/* The invariant checks only watch: their branches are no coverage to steer by. */
#define WATCHER __attribute__((no_sanitize("coverage"), noinline))

static struct addr a_small, a_large;
static struct sock *socks[NSOCKS];

WATCHER static void fuzz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static struct addr v4(const char *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct addr a;
	uint16_t port;

	inet_pton(AF_INET, s, &sin.sin_addr);
	addr_parse((struct sockaddr *)&sin, sizeof(sin), &a, &port);
	return a;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* a warning per malformed input would be most of the time */
	setenv("MPRDS_LOG", "error", 0);
	log_init();
	fake_engine_setup(WIRE_MAX_PATHS);
	a_small = v4("198.18.0.1");
	a_large = v4("198.18.0.2");
	return 0;
}

static void app_read(int k)
{
	struct msg *m = sock_rx_take(socks[k % NSOCKS], false);

	if (m)
		msg_free(m);
}

/* sendmsg below its argument checks (send.c). */
static void app_send(struct conn *c, int k, const uint8_t *data, size_t n)
{
	struct sock *s = socks[k % NSOCKS];
	uint8_t *copy = n ? malloc(n) : NULL;
	struct path *p;
	struct msg *m;

	if (n && !copy)
		return;
	if (n)
		memcpy(copy, data, n);
	m = msg_new(fake_engine, s->bound_port, (uint16_t)(6000 + k), copy, (uint32_t)n);
	if (!m) {
		free(copy);
		return;
	}
	m->sender = s;
	p = conn_send(c, m);
	if (p)
		kick_path(&fake_engine->kicks, p);
	sock_charge(s, n);
}

/* What the peer reads of our stream must parse: known flags, sane lengths. */
static void peer_read(struct path *p)
{
	struct fake_msg m;

	while (fake_peer_next(p, &m)) {
		fuzz_check(!(m.h.flags & ~WIRE_FLAGS_KNOWN), "we write known flags only");
		fuzz_check(m.h.len <= WIRE_MAX_PAYLOAD, "we write messages of 1 MiB at most");
		fuzz_check(m.h.flags != WIRE_FLAG_CONG_BITMAP || m.h.len == WIRE_CONG_MAP_BYTES,
			   "our maps are whole");
	}
}

/* The peer's TCP acknowledges all but the last v bytes written. */
static void peer_ack_some(struct path *p, unsigned v)
{
	uint64_t w = fake_written(p);

	fake_peer_ack(p, w > v ? w - v : 0);
}

static void run_timers(void)
{
	for (int i = 0; i < 3 * WIRE_MAX_PATHS; i++)
		fake_run_timers();
}

static void run_op(struct conn *c, uint8_t op, const uint8_t *buf, size_t n)
{
	struct path *p = &c->paths[op & 7];
	unsigned v = n ? buf[0] : 0;

	switch (op >> 3) {
	case 0:
	case 1:
	case 2:
		/* bytes on p's connection, accepted from the peer first if there is none */
		if (!p->tr->is_open(p))
			fake_accept(p);
		fake_peer_write(p, buf, n);
		break;
	case 3:
		fake_accept(p);
		break;
	case 4:
	case 5:
		fake_peer_write(p, buf, n);
		break;
	case 6:
		peer_read(p);
		fake_peer_ack(p, FAKE_ACK_ALL);
		break;
	case 7:
		fake_peer_close(p);
		break;
	case 8:
		path_drop(p, "fuzz");
		break;
	case 9:
		app_read((int)v);
		break;
	case 10:
		app_send(c, (int)v, buf, n);
		break;
	case 11:
		fake_rx_poll(p);
		break;
	case 12:
		run_timers();
		break;
	case 14:
		fake_connect_complete(p);
		break;
	case 15:
		fake_connect_refuse(p);
		break;
	case 16:
		fake_fire_retry(p);
		break;
	case 17:
		peer_read(p);
		peer_ack_some(p, v * 16);
		break;
	case 18:
		fake_set_window(p, n ? (size_t)v * 64 + 1 : SIZE_MAX);
		break;
	default:
		for (int i = 0; n && i < WIRE_MAX_PATHS; i++)
			app_read(i);
		break;
	}
	fake_run_kicks();
}

WATCHER static bool is_pong(const struct msg *m)
{
	return !m->sender && !m->orphan && m->h.sport == 0 && m->h.dport != 0;
}

/* Adds the payload bytes of q's messages to their senders' counts. */
WATCHER static void count_sent(const struct msg_queue *q, size_t *sent)
{
	const struct msg *m;

	TAILQ_FOREACH(m, q, link)
	for (int k = 0; k < NSOCKS; k++)
		if (m->sender == socks[k])
			sent[k] += m->h.len;
}

WATCHER static void check_sockets(const struct conn *c)
{
	size_t sent[NSOCKS] = { 0 };

	count_sent(&c->held, sent);
	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		count_sent(&c->paths[i].sendq, sent);
		count_sent(&c->paths[i].unacked, sent);
	}
	for (int k = 0; k < NSOCKS; k++) {
		size_t bytes = 0;
		struct msg *m;

		TAILQ_FOREACH(m, &socks[k]->rxq, link)
		{
			fuzz_check((m->data == NULL) == (m->h.len == 0), "payload iff length");
			bytes += m->h.len;
		}
		fuzz_check(bytes == socks[k]->rcv_queued, "rcv_queued is the queue's bytes");
		fuzz_check(sent[k] == socks[k]->snd_queued,
			   "snd_queued is the bytes queued or unacknowledged");
	}
}

/* Queue bookkeeping the rest of the engine relies on. */
WATCHER static void check_invariants(const struct conn *c)
{
	check_sockets(c);
	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		const struct path *p = &c->paths[i];
		bool open = p->tr->is_open(p);
		uint64_t last = 0;
		unsigned pongs = 0;
		struct msg *m;

		TAILQ_FOREACH(m, &p->unacked, link)
		{
			if (is_pong(m))
				pongs++;
		}
		TAILQ_FOREACH(m, &p->sendq, link)
		{
			if (is_pong(m))
				pongs++;
			if (m->h.flags == WIRE_FLAG_CONG_BITMAP)
				continue;
			fuzz_check(m->h.seq > last || (m == TAILQ_FIRST(&p->sendq)),
				   "send queue in sequence order");
			fuzz_check(m->h.seq < p->next_tx_seq || m == TAILQ_FIRST(&p->sendq),
				   "queued below next_tx_seq");
			last = m->h.seq;
		}
		fuzz_check(pongs == p->pongs, "pong count");
		fuzz_check(p->pongs <= MAX_QUEUED_PONGS, "pongs bounded");
		fuzz_check(p->state == PATH_DOWN || open,
			   "a path up or connecting has a connection");
		fuzz_check(p->state != PATH_UP || fake_written(p) == p->tx_offset,
			   "tx_offset counts the bytes written on this connection");
		fuzz_check(!p->rx_blocker || open || p->state == PATH_DOWN,
			   "a pause belongs to a connection");
		fuzz_check(!p->tx_dead || p->rx_blocker, "tx_dead only while paused");
		fuzz_check(!fake_connecting(p) || p->state == PATH_CONNECTING,
			   "a connect in progress is CONNECTING");
	}
}

static void setup_socks(uint8_t cfg)
{
	const struct addr *local = (cfg & 1) ? &a_small : &a_large;

	for (int k = 0; k < NSOCKS; k++) {
		socks[k] = sock_new(fake_engine, -1, -1);
		fuzz_check(socks[k] && !sock_bind_port(socks[k], local, (uint16_t)(5000 + k)),
			   "bind");
	}
	if (cfg & 0x20)
		socks[2]->rcvbuf = 64; /* SO_RCVBUF, as sockopt.c sets it */
}

/* Bits 1-4 of the set-up byte: a handshake that happened before the input's operations. */
static void setup_handshake(struct conn *c, uint8_t cfg)
{
	int npaths = (cfg >> 1) & 7;
	struct wire_exts ex = {
		.has_npaths = npaths != 0,
		.npaths = (uint16_t)(npaths == 7 ? WIRE_MAX_PATHS : npaths),
		.has_gen_num = (cfg & 0x10) != 0,
		.gen_num = PEER_GEN,
		.has_sport_idx = true,
	};

	if (ex.has_npaths || ex.has_gen_num)
		conn_handshake(c, &ex);
}

static void teardown(void)
{
	conn_free_all(fake_engine);
	fuzz_check(fake_engine_idle(), "no kick nor timeout left for freed paths and conns");
	for (int k = 0; k < NSOCKS; k++) {
		sock_cong_release(socks[k]);
		sock_unbind(socks[k]);
		sock_put(socks[k]);
	}
	/* the engine itself stays for the next input: one per run, as a process has one */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn *c;
	uint8_t cfg;
	size_t off = 1;
	int ops = 0;

	if (size < 1)
		return 0;
	cfg = data[0];
	setup_socks(cfg);
	c = (cfg & 1) ? conn_get(fake_engine, &a_small, &a_large) :
			conn_get(fake_engine, &a_large, &a_small);
	fuzz_check(c != NULL, "conn");
	setup_handshake(c, cfg);
	fake_run_kicks();
	while (off + 2 <= size && ops++ < MAX_OPS) {
		uint8_t op = data[off];
		size_t n = data[off + 1];

		off += 2;
		if (n > size - off)
			n = size - off;
		run_op(c, op, data + off, n);
		off += n;
		check_invariants(c);
	}
	teardown();
	return 0;
}
