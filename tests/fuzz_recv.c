// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the receive path as it ships: the stream parser (wire.c), the
 * classification, duplicate rule, handshake, peer restarts and delivery (path.c, conn.c),
 * the sockets' queues (sock.c) and congestion maps (cong.c), driven without a loop thread:
 * eng->loop exists but never runs, and the fuzzer plays the loop by calling the watchers'
 * callbacks that the loop would call. "TCP connections" are AF_UNIX socketpairs.
 *
 * Input: byte 0 = set-up (bit 0: our address is the smaller; bits 1-3: npaths agreed
 * beforehand, 0 = none, 7 = 8; bit 4: a peer generation is known; bit 5: the socket on port 5002
 * gets a tiny receive buffer, so reads pause). Then operations, each [op][len][len bytes]:
 * op & 7 = path index, op >> 3 = what (see run_op).
 */
#define deliver wire_deliver /* wire.c and rx.c both have a static deliver() */
#include "../core/bufpool.c"
#include "../core/wire.c"
#undef deliver
#include "../core/addr.c"
#include "../core/cong.c"
#include "../core/conn.c"
#include "../core/fdreg.c"
#include "../core/kick.c"
#include "../core/log.c"
#include "../core/msg.c"
#include "../core/path.c"
#include "../core/rx.c"
#include "../core/sock.c"
#include "../core/sysio.c"
#include "../core/tcp.c"
#include "../core/tcp_connect.c"
#include "../core/tcp_path.c"
#include "../core/tcp_recv.c"
#include "../core/tcp_send.c"
#include "../core/timer.c"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>

/* eng->c would start a thread; these are its parts the rooms above use. */
static struct engine engine_obj = { .lock = PTHREAD_MUTEX_INITIALIZER,
				    .transport = &tcp_transport };
static struct engine *const eng = &engine_obj;

void engine_lock(struct engine *e)
{
	(void)e;
}

void engine_unlock(struct engine *e)
{
	(void)e;
}

/* A clock that stands still: runs repeat exactly. */
double clock_now(void)
{
	return 0;
}

uint64_t clock_ns(void)
{
	return 0;
}

bool engine_on_loop_thread(const struct engine *e)
{
	(void)e;
	return false; /* readiness is sent at once, as in the unit tests */
}

#define NSOCKS 3
#define MAX_OPS 64

static struct addr a_small, a_large;
static struct sock *socks[NSOCKS];
static int peer_end[WIRE_MAX_PATHS]; /* our copy of the peer's end of each "TCP" pair */

static void fuzz_check(bool ok, const char *what)
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
	setenv("MPRDS_LOG", "error",
	       0); /* a warning per malformed input would be most of the time */
	log_init();
	eng->cfg.npaths = 8;
	eng->cfg.tcp_port = 16385;
	eng->cfg.gen_num = 0x9abcdef0;
	eng->cfg.wmem_default = eng->cfg.rmem_default = 212992;
	eng->loop = ev_loop_new(EVFLAG_NOENV);
	kicks_init(&eng->kicks);
	timers_init(&eng->timers);
	sock_table_init(&eng->socks);
	eng->socks.local_map_changed = conn_cong_changed;
	LIST_INIT(&eng->conns.list);
	LIST_INIT(&eng->cong.maps);
	a_small = v4("198.18.0.1");
	a_large = v4("198.18.0.2");
	return 0;
}

/* What on_wake does with the kicks, but never connecting: only paths that are up write. */
static void run_kicks(void)
{
	struct path *p;

	while ((p = kicks_take(&eng->kicks))) {
		if (p->state == PATH_UP)
			path_service(p);
	}
}

static void attach(struct path *p)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	if (tcp_path_attach(p, sv[0]) < 0) {
		sys_close(sv[0]);
		sys_close(sv[1]);
		return;
	}
	if (peer_end[p->index] >= 0)
		sys_close(peer_end[p->index]);
	peer_end[p->index] = sv[1];
}

/* The peer's TCP writes bytes; the loop sees the path readable. */
static void peer_write(struct path *p, const uint8_t *buf, size_t n)
{
	struct tcp_path *t = tcp_of(p);

	if (peer_end[p->index] < 0 || t->fd < 0)
		return;
	if (n)
		(void)!sys_write(peer_end[p->index], buf, n);
	if (ev_is_active(&t->rio))
		tcp_on_read(eng->loop, &t->rio, EV_READ);
}

/* The peer reads everything we wrote: on a socketpair that acknowledges it (SIOCOUTQ). */
static void peer_read(struct path *p)
{
	struct tcp_path *t = tcp_of(p);
	uint8_t buf[4096];

	if (peer_end[p->index] < 0)
		return;
	while (sys_read(peer_end[p->index], buf, sizeof(buf)) > 0)
		;
	if (ev_is_active(&t->wio))
		tcp_on_write(eng->loop, &t->wio, EV_WRITE);
	if (ev_is_active(&t->ack_poll))
		tcp_on_ack_poll(eng->loop, &t->ack_poll, EV_TIMER);
}

static void peer_close(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	if (peer_end[p->index] < 0)
		return;
	sys_close(peer_end[p->index]);
	peer_end[p->index] = -1;
	if (ev_is_active(&t->rio))
		tcp_on_read(eng->loop, &t->rio, EV_READ);
	else if (ev_is_active(&t->wio))
		tcp_on_write(eng->loop, &t->wio, EV_WRITE);
}

static void app_read(int k)
{
	struct msg *m = sock_rx_take(socks[k % NSOCKS], false);

	if (m)
		msg_free(m);
}

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
	m = msg_new(eng, s->bound_port, (uint16_t)(6000 + k), copy, (uint32_t)n);
	if (!m) {
		free(copy);
		return;
	}
	m->sender = s;
	p = conn_send(c, m);
	if (p)
		kick_path(&eng->kicks, p);
	sock_charge(s, n);
}

static void run_op(struct conn *c, uint8_t op, const uint8_t *buf, size_t n)
{
	struct path *p = &c->paths[op & 7];

	switch (op >> 3) {
	case 0:
	case 1:
	case 2:
		path_receive(p, buf, n); /* bytes as if read from the connection */
		break;
	case 3:
		attach(p);
		break;
	case 4:
	case 5:
		peer_write(p, buf, n);
		break;
	case 6:
		peer_read(p);
		break;
	case 7:
		peer_close(p);
		break;
	case 8:
		path_drop(p, "fuzz");
		break;
	case 9:
		app_read(n ? buf[0] : 0);
		break;
	case 10:
		app_send(c, n ? buf[0] : 0, buf, n);
		break;
	case 11:
		if (ev_is_active(&tcp_of(p)->rx_poll))
			tcp_on_rx_poll(eng->loop, &tcp_of(p)->rx_poll, EV_TIMER);
		break;
	case 12:
		if (timer_active(&c->hs_timer))
			on_hs_timeout(&c->hs_timer, c);
		if (timer_active(&c->hold_timer))
			on_hold_timeout(&c->hold_timer, c);
		break;
	default:
		for (int i = 0; n && i < WIRE_MAX_PATHS; i++)
			app_read(i);
		break;
	}
	run_kicks();
}

/* Queue bookkeeping the rest of the engine relies on. */
static void check_invariants(struct conn *c)
{
	for (int k = 0; k < NSOCKS; k++) {
		size_t bytes = 0;
		struct msg *m;

		TAILQ_FOREACH(m, &socks[k]->rxq, link)
		{
			fuzz_check((m->data == NULL) == (m->h.len == 0), "payload iff length");
			bytes += m->h.len;
		}
		fuzz_check(bytes == socks[k]->rcv_queued, "rcv_queued is the queue's bytes");
	}
	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		struct path *p = &c->paths[i];
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
		fuzz_check(p->state != PATH_UP || tcp_of(p)->fd >= 0,
			   "an up path has a connection");
		fuzz_check(!p->rx_blocker || tcp_of(p)->fd >= 0 || p->state == PATH_DOWN,
			   "a pause belongs to a connection");
		fuzz_check(!p->tx_dead || p->rx_blocker, "tx_dead only while paused");
	}
}

static void setup_socks(uint8_t cfg)
{
	const struct addr *local = (cfg & 1) ? &a_small : &a_large;

	for (int k = 0; k < NSOCKS; k++) {
		socks[k] = sock_new(eng, -1, -1);
		fuzz_check(socks[k] && !sock_bind_port(socks[k], local, (uint16_t)(5000 + k)),
			   "bind");
	}
	if (cfg & 0x20)
		socks[2]->rcvbuf = 64;
}

static void teardown(void)
{
	conn_free_all(eng);
	for (int i = 0; i < WIRE_MAX_PATHS; i++) {
		if (peer_end[i] >= 0)
			sys_close(peer_end[i]);
		peer_end[i] = -1;
	}
	for (int k = 0; k < NSOCKS; k++) {
		sock_cong_release(socks[k]);
		sock_unbind(socks[k]);
		sock_put(socks[k]);
	}
	fuzz_check(TAILQ_EMPTY(&eng->kicks.paths), "no kicks left for freed paths");
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
	for (int i = 0; i < WIRE_MAX_PATHS; i++)
		peer_end[i] = -1;
	setup_socks(cfg);
	c = (cfg & 1) ? conn_get(eng, &a_small, &a_large) : conn_get(eng, &a_large, &a_small);
	fuzz_check(c != NULL, "conn");
	c->npaths = (cfg >> 1) & 7;
	if (c->npaths == 7)
		c->npaths = WIRE_MAX_PATHS;
	c->lanes_ok = c->npaths > 1;
	if (cfg & 0x10)
		c->peer_gen = 0x11223344;
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
