// SPDX-License-Identifier: MIT
/*
 * The fake transport (fake_transport.h). Each op does what its TCP counterpart in tcp_*.c
 * does to the path, in the same order, with an in-memory stream where TCP has a socket and
 * a call from the test where TCP has a watcher firing: connect completes when the test says
 * so, reads happen when the peer writes, acknowledgements when the peer acknowledges.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/sock.h"

#include "fake_transport.h"

#define WRITE_BATCH 64 /* messages per write, as tcp_send.c */
#define READ_CHUNK 65536 /* bytes per read */

/* Bytes written and not yet read by the other end. */
struct fake_stream {
	uint8_t *buf;
	size_t off, len, cap; /* unread: buf[off..len) */
};

/* The transport state of one path: its connection, if any. */
struct fake_path {
	bool open; /* a connection exists (connecting, up, or failed and held for reads) */
	bool connecting; /* our connect, not completed or refused yet */
	bool retry_pending;
	bool blocked; /* the window is full: writes wait for the peer to read */
	bool paused; /* reads stopped for a socket over its bound */
	bool failed; /* failed while reads were paused: closed once they resume and end */
	bool peer_closed; /* the end of the stream comes after the unread bytes */
	uint64_t arrived_ns; /* the kernel's stamp of the bytes the peer wrote last (0: none) */
	unsigned connects;
	size_t window;
	uint64_t written, read, acked; /* offsets in the stream we write */
	struct fake_stream out, in;
	uint8_t *last; /* the payload fake_peer_next() returned last */
	size_t last_cap;
};

static struct fake_path *fake_of(const struct path *p)
{
	return p->tr_state;
}

static void *xrealloc(void *ptr, size_t n)
{
	void *q = realloc(ptr, n);

	if (!q) {
		fprintf(stderr, "fake transport: out of memory\n");
		abort();
	}
	return q;
}

static size_t stream_unread(const struct fake_stream *s)
{
	return s->len - s->off;
}

static void stream_clear(struct fake_stream *s)
{
	s->off = s->len = 0;
}

static void stream_append(struct fake_stream *s, const void *buf, size_t n)
{
	if (!n)
		return;
	if (s->off && s->len + n > s->cap) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;

		while (cap < s->len + n)
			cap *= 2;
		s->buf = xrealloc(s->buf, cap);
		s->cap = cap;
	}
	memcpy(s->buf + s->len, buf, n);
	s->len += n;
}

/* A fresh connection: nothing written, nothing to read. */
static void fresh_connection(struct fake_path *f)
{
	stream_clear(&f->out);
	stream_clear(&f->in);
	f->written = f->read = f->acked = 0;
	f->blocked = f->paused = f->failed = f->peer_closed = false;
	f->connecting = false;
	f->open = true;
}

/*
 * Freed paths' states, buffers and all, for the next paths: a fuzzer makes and frees 8 paths
 * per input, and fresh memory for each (ASan's quarantine) was most of its time.
 */
#define SPARES 64
static struct fake_path *spares[SPARES];
static int nspares;

static int fake_path_init(struct path *p)
{
	struct fake_path *f = nspares ? spares[--nspares] : calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*f = (struct fake_path){
		.out = f->out, .in = f->in, .last = f->last, .last_cap = f->last_cap
	};
	stream_clear(&f->out);
	stream_clear(&f->in);
	f->window = SIZE_MAX;
	p->tr_state = f;
	return 0;
}

static void fake_path_fini(struct path *p)
{
	struct fake_path *f = fake_of(p);

	if (!f)
		return;
	p->tr_state = NULL;
	if (nspares < SPARES) {
		spares[nspares++] = f;
		return;
	}
	free(f->out.buf);
	free(f->in.buf);
	free(f->last);
	free(f);
}

static void fake_close(struct path *p)
{
	struct fake_path *f = fake_of(p);

	fresh_connection(f);
	f->open = false;
}

/* tcp_path_connect: the connect is in progress until the test completes or refuses it. */
static void fake_connect(struct path *p)
{
	struct fake_path *f = fake_of(p);

	p->poke = !p->conn->smaller;
	fresh_connection(f);
	f->connecting = true;
	f->connects++;
	path_connecting(p);
}

static void fake_retry(struct path *p)
{
	fake_of(p)->retry_pending = true;
}

static bool fake_retry_pending_op(const struct path *p)
{
	return fake_of(p)->retry_pending;
}

/* Writes iov into the stream as far as the window lets it; the bytes written. */
static size_t write_iov(struct fake_path *f, const struct iovec *iov, int n)
{
	size_t inflight = (size_t)(f->written - f->read), done = 0;
	size_t room = f->window > inflight ? f->window - inflight : 0;

	for (int i = 0; i < n && room; i++) {
		size_t k = iov[i].iov_len < room ? iov[i].iov_len : room;

		stream_append(&f->out, iov[i].iov_base, k);
		done += k;
		room -= k;
	}
	f->written += done;
	return done;
}

/* tcp_path_xmit: as much of the send queue as the window takes, then what was acknowledged. */
static void fake_xmit(struct path *p)
{
	struct fake_path *f = fake_of(p);
	struct iovec iov[2 * WRITE_BATCH];

	if (p->tx_dead)
		return;
	while (path_may_send(p)) {
		int n = path_tx_iov(p, iov, 2 * WRITE_BATCH);
		size_t w = write_iov(f, iov, n);

		if (!w) {
			f->blocked = true;
			return;
		}
		path_tx_written(p, w);
	}
	f->blocked = false;
	path_drop_acked(p, f->acked);
}

/* The application thread's direct write is the TCP transport's optimisation: always "kick". */
static bool fake_xmit_direct(struct path *p)
{
	(void)p;
	return false;
}

/* Feeds what the peer wrote to the parser until a socket is over its bound or it is gone. */
static void read_in(struct path *p)
{
	static uint8_t chunk[READ_CHUNK];
	struct fake_path *f = fake_of(p);

	while (f->open && stream_unread(&f->in) && !p->rx_blocker) {
		size_t n = stream_unread(&f->in);

		if (n > sizeof(chunk))
			n = sizeof(chunk);
		memcpy(chunk, f->in.buf + f->in.off, n);
		f->in.off += n;
		p->rx_stamp_ns = f->arrived_ns; /* as sys_read_stamped gives it */
		if (path_receive(p, chunk, n) < 0)
			return;
	}
}

static void fake_drain(struct path *p)
{
	read_in(p);
}

static void fake_hold_for_reads(struct path *p)
{
	struct fake_path *f = fake_of(p);

	f->failed = true;
	f->paused = true;
}

/* tcp_on_read: the loop finds p readable (bytes, or the end of the stream). */
static void on_readable(struct path *p)
{
	struct fake_path *f = fake_of(p);

	if (!f->open || p->state != PATH_UP)
		return;
	if (!p->rx_blocker)
		read_in(p);
	if (!f->open || p->state != PATH_UP)
		return;
	if (p->rx_blocker) {
		f->paused = true;
		return;
	}
	if (f->peer_closed) {
		path_note_truncated(p);
		path_drop(p, "peer closed the connection");
		return;
	}
	if (f->failed) {
		path_drop(p, "connection failed");
		return;
	}
	if (!TAILQ_EMPTY(&p->sendq))
		fake_xmit(p);
}

static bool fake_is_open(const struct path *p)
{
	return fake_of(p) && fake_of(p)->open;
}

static long fake_unacked_bytes(const struct path *p)
{
	const struct fake_path *f = fake_of(p);

	return f->open ? (long)(f->written - f->acked) : -1;
}

static void fake_info(const struct path *p, struct transport_info *out)
{
	const struct fake_path *f = fake_of(p);

	memset(out, 0, sizeof(*out));
	out->unacked = -1;
	if (!f || !f->open)
		return;
	out->sending = f->blocked;
	out->laddr = p->conn->laddr;
	out->faddr = p->conn->faddr;
	out->unacked = fake_unacked_bytes(p);
}

const struct transport fake_transport = {
	.name = "fake",
	.path_init = fake_path_init,
	.path_fini = fake_path_fini,
	.connect = fake_connect,
	.retry = fake_retry,
	.retry_pending = fake_retry_pending_op,
	.xmit = fake_xmit,
	.xmit_direct = fake_xmit_direct,
	.drain = fake_drain,
	.hold_for_reads = fake_hold_for_reads,
	.close = fake_close,
	.forget = fake_close,
	.is_open = fake_is_open,
	.unacked_bytes = fake_unacked_bytes,
	.info = fake_info,
};

struct engine *fake_engine;

void fake_engine_setup(int npaths)
{
	struct config cfg = {
		.npaths = npaths,
		.tcp_port = WIRE_TCP_PORT,
		.gen_num = FAKE_GEN_NUM,
		.sport_idx = WIRE_MAX_PATHS % npaths == 0,
		.wmem_max = 212992,
		.rmem_max = 212992,
		.wmem_default = 212992,
		.rmem_default = 212992,
	};

	engine_free(fake_engine); /* each test starts with a fresh engine */
	fake_engine = engine_new(&cfg);
	if (!fake_engine)
		abort();
	fake_engine->transport = &fake_transport;
}

/* The engine stays (fake_engine_idle() may look at it) until the next set-up frees it. */
void fake_engine_teardown(void)
{
	conn_free_all(fake_engine);
}

bool fake_engine_idle(void)
{
	return TAILQ_EMPTY(&fake_engine->kicks.paths) && timers_next_due(&fake_engine->timers) < 0;
}

/* engine.c's on_wake, without the wake-up. */
void fake_run_kicks(void)
{
	engine_run_kicks(fake_engine);
}

void fake_run_timers(void)
{
	double due = timers_next_due(&fake_engine->timers);

	if (due >= 0)
		timers_run(&fake_engine->timers, due);
}

bool fake_connecting(const struct path *p)
{
	return fake_of(p)->connecting;
}

unsigned fake_connects(const struct path *p)
{
	return fake_of(p)->connects;
}

/* tcp_path_connect_done. */
void fake_connect_complete(struct path *p)
{
	struct fake_path *f = fake_of(p);

	if (!f->connecting)
		return;
	f->connecting = false;
	if (p->poke) {
		/* wire.md §1: the larger side's connection only tells the smaller to connect. */
		fake_close(p);
		path_poked(p);
		fake_retry(p);
		return;
	}
	path_connected(p);
}

void fake_connect_fail(struct path *p, int err)
{
	struct fake_path *f = fake_of(p);

	if (!f->connecting)
		return;
	f->connecting = false;
	path_connect_failed(p, err);
}

void fake_connect_refuse(struct path *p)
{
	fake_connect_fail(p, ECONNREFUSED);
}

bool fake_retry_pending(const struct path *p)
{
	return fake_of(p)->retry_pending;
}

/* tcp_on_retry. */
void fake_fire_retry(struct path *p)
{
	struct fake_path *f = fake_of(p);

	if (!f->retry_pending)
		return;
	f->retry_pending = false;
	path_service(p);
}

/* tcp_path_attach. */
int fake_accept(struct path *p)
{
	struct fake_path *f = fake_of(p);

	if (!path_make_room(p))
		return -EBUSY;
	f->retry_pending = false;
	fresh_connection(f);
	path_connected(p);
	return 0;
}

int fake_accept_from(struct path *p, uint16_t port)
{
	int err = fake_accept(p);

	if (!err)
		path_accepted(p, port);
	return err;
}

void fake_peer_arrival(struct path *p, uint64_t arrived_ns)
{
	fake_of(p)->arrived_ns = arrived_ns;
}

void fake_peer_write(struct path *p, const void *buf, size_t n)
{
	struct fake_path *f = fake_of(p);

	if (!f->open || f->peer_closed)
		return;
	stream_append(&f->in, buf, n);
	if (!f->paused)
		on_readable(p);
}

void fake_peer_send(struct path *p, const struct wire_header *h, const void *payload)
{
	uint8_t hdr[WIRE_HDR_LEN];
	struct fake_path *f = fake_of(p);

	if (!f->open || f->peer_closed)
		return;
	wire_header_encode(h, hdr);
	stream_append(&f->in, hdr, sizeof(hdr));
	if (h->len)
		stream_append(&f->in, payload, h->len);
	if (!f->paused)
		on_readable(p);
}

void fake_peer_close(struct path *p)
{
	struct fake_path *f = fake_of(p);

	if (!f->open || f->connecting)
		return;
	f->peer_closed = true;
	if (!f->paused)
		on_readable(p);
}

bool fake_peer_next(struct path *p, struct fake_msg *m)
{
	struct fake_path *f = fake_of(p);
	size_t have = stream_unread(&f->out);

	if (!f->open || have < WIRE_HDR_LEN)
		return false;
	wire_header_decode(f->out.buf + f->out.off, &m->h);
	if (have - WIRE_HDR_LEN < m->h.len)
		return false;
	if (m->h.len > f->last_cap) {
		f->last = xrealloc(f->last, m->h.len);
		f->last_cap = m->h.len;
	}
	if (m->h.len)
		memcpy(f->last, f->out.buf + f->out.off + WIRE_HDR_LEN, m->h.len);
	m->data = f->last;
	wire_exts_parse(m->h.ext, &m->ex);
	f->out.off += WIRE_HDR_LEN + m->h.len;
	f->read += WIRE_HDR_LEN + m->h.len;
	m->end = f->read;
	/* tcp_on_write: room again for what waited. */
	if (f->blocked && p->state == PATH_UP)
		fake_xmit(p);
	return true;
}

int fake_peer_read_all(struct path *p)
{
	struct fake_msg m;
	int n = 0;

	while (fake_peer_next(p, &m))
		n++;
	return n;
}

/* tcp_on_ack_poll. */
void fake_peer_ack(struct path *p, uint64_t upto)
{
	struct fake_path *f = fake_of(p);

	if (!f->open)
		return;
	if (upto > f->written)
		upto = f->written;
	if (upto > f->acked)
		f->acked = upto;
	if (p->state == PATH_UP && !p->tx_dead)
		path_drop_acked(p, f->acked);
}

uint64_t fake_written(const struct path *p)
{
	return fake_of(p)->written;
}

size_t fake_unread_by_peer(const struct path *p)
{
	return stream_unread(&fake_of(p)->out);
}

void fake_set_window(struct path *p, size_t bytes)
{
	struct fake_path *f = fake_of(p);

	f->window = bytes;
	if (f->blocked && f->open && p->state == PATH_UP)
		fake_xmit(p);
}

size_t fake_unread_by_us(const struct path *p)
{
	return stream_unread(&fake_of(p)->in);
}

/* tcp_on_rx_poll. */
void fake_rx_poll(struct path *p)
{
	struct fake_path *f = fake_of(p);

	if (!f->paused && !p->rx_blocker)
		return;
	if (!path_rx_may_resume(p))
		return;
	f->paused = false;
	on_readable(p);
}
