// SPDX-License-Identifier: MIT
/*
 * Sockets and messages in an engine's snapshot (snap.h, mprdsd --upgrade): everything a
 * socket's application can see (binding, options, what is queued to it, its send-buffer
 * accounting) and the two ends of its readiness pair, which carry the readable byte and the
 * filled send side as they are.
 */
#include <stdlib.h>

#include "mprds/cong.h"
#include "mprds/engine.h"
#include "mprds/fdreg.h"
#include "mprds/snap.h"
#include "mprds/sock.h"

/* More than any queue can hold: a count beyond it is a bad snapshot. */
#define SNAP_MAX_QUEUE (1u << 24)
#define SNAP_MAX_SOCKS (1u << 20)

static void msg_save(struct snap_out *o, const struct msg *m)
{
	uint8_t hdr[WIRE_HDR_LEN];

	wire_header_encode(&m->h, hdr);
	snap_raw(o, hdr, sizeof(hdr));
	snap_raw(o, m->data, m->h.len);
	snap_u32(o, m->sender ? m->sender->snap_id : 0);
	snap_u64(o, m->end_offset);
	snap_addr(o, &m->src);
	snap_u8(o, m->retransmit);
	snap_u8(o, m->orphan);
	snap_u8(o, m->zcopy);
	snap_u32(o, m->zcookie);
	snap_raw(o, m->wire, sizeof(m->wire));
	snap_u64(o, (uint64_t)m->rx_time.tv_sec);
	snap_u64(o, (uint64_t)m->rx_time.tv_nsec);
	snap_u64(o, m->rx_stamp_ns[0]);
	snap_u64(o, m->rx_stamp_ns[1]);
}

static struct msg *msg_load(struct snap_in *in, struct engine *e)
{
	uint8_t hdr[WIRE_HDR_LEN], *data = NULL;
	struct wire_header h;
	struct msg *m;

	snap_get_raw(in, hdr, sizeof(hdr));
	wire_header_decode(hdr, &h);
	if (in->bad || h.len > WIRE_MAX_PAYLOAD || h.len > in->len - in->off) {
		snap_fail(in, "a message beyond the snapshot");
		return NULL;
	}
	if (h.len && !(data = buf_pool_get(&e->bufs, h.len))) {
		snap_fail(in, "out of memory");
		return NULL;
	}
	snap_get_raw(in, data, h.len);
	m = msg_new(e, h.sport, h.dport, data, h.len);
	if (!m) {
		buf_pool_put(&e->bufs, data, h.len);
		snap_fail(in, "out of memory");
		return NULL;
	}
	m->h = h;
	m->sender = snap_get_obj(in);
	m->end_offset = snap_get_u64(in);
	snap_get_addr(in, &m->src);
	m->retransmit = snap_get_u8(in);
	m->orphan = snap_get_u8(in);
	m->zcopy = snap_get_u8(in);
	m->zcookie = snap_get_u32(in);
	snap_get_raw(in, m->wire, sizeof(m->wire));
	m->rx_time.tv_sec = (time_t)snap_get_u64(in);
	m->rx_time.tv_nsec = (long)(snap_get_u64(in) % 1000000000u);
	m->rx_stamp_ns[0] = snap_get_u64(in);
	m->rx_stamp_ns[1] = snap_get_u64(in);
	return m;
}

void msg_queue_save(struct snap_out *o, const struct msg_queue *q)
{
	const struct msg *m;
	uint32_t n = 0;

	TAILQ_FOREACH(m, q, link)
	n++;
	snap_u32(o, n);
	TAILQ_FOREACH(m, q, link)
	msg_save(o, m);
}

void msg_queue_load(struct snap_in *in, struct engine *e, struct msg_queue *q)
{
	uint32_t n = snap_get_count(in, SNAP_MAX_QUEUE);
	struct msg *m;

	for (uint32_t i = 0; i < n && !in->bad; i++) {
		m = msg_load(in, e);
		if (m)
			TAILQ_INSERT_TAIL(q, m, link);
	}
}

static void sock_save(struct snap_out *o, const struct sock *s)
{
	snap_fd(o, s->app_fd);
	snap_fd(o, s->eng_fd);
	snap_u8(o, s->bound);
	snap_u8(o, s->connected);
	snap_addr(o, &s->bound_addr);
	snap_addr(o, &s->conn_addr);
	snap_u16(o, s->bound_port);
	snap_u16(o, s->conn_port);
	snap_u64(o, s->sndbuf);
	snap_u64(o, s->rcvbuf);
	snap_u64(o, s->snd_queued);
	snap_u64(o, s->rcv_queued);
	msg_queue_save(o, &s->rxq);
	snap_u8(o, s->rx_signalled);
	snap_u32(o, s->lent);
	snap_u64(o, s->lent_bytes);
	snap_u8(o, s->tx_blocked);
	snap_u8(o, s->congested);
	snap_u8(o, s->cong_monitor);
	snap_u64(o, s->cong_mask);
	snap_u64(o, s->cong_notify);
	snap_u8(o, s->transport_set);
	snap_u8(o, s->zerocopy);
	snap_u8(o, s->has_sent);
	snap_u32(o, s->zc_count);
	for (unsigned i = 0; i < s->zc_count; i++)
		snap_u32(o, s->zc_cookies[i]);
	snap_u8(o, s->recverr);
	snap_u32(o, (uint32_t)s->timestamp);
	snap_u8(o, s->rx_traces);
	snap_raw(o, s->rx_trace_pos, sizeof(s->rx_trace_pos));
}

void sock_save_all(struct snap_out *o, struct engine *e)
{
	struct sock *s;
	uint32_t n = 0;

	/* Numbered first: the messages written later name their senders by number. */
	LIST_FOREACH(s, &e->socks.all, all_link)
	s->snap_id = ++n;
	snap_u32(o, n);
	LIST_FOREACH(s, &e->socks.all, all_link)
	sock_save(o, s);
}

/* The fields after the fds; the receive queue needs every socket made first. */
static void sock_load_fields(struct snap_in *in, struct sock *s)
{
	bool bound = snap_get_bool(in);
	struct addr baddr;
	uint16_t bport;

	s->connected = snap_get_bool(in);
	snap_get_addr(in, &baddr);
	snap_get_addr(in, &s->conn_addr);
	bport = snap_get_u16(in);
	s->conn_port = snap_get_u16(in);
	s->sndbuf = snap_get_u64(in);
	s->rcvbuf = snap_get_u64(in);
	s->snd_queued = snap_get_u64(in);
	s->rcv_queued = snap_get_u64(in);
	msg_queue_load(in, s->eng, &s->rxq);
	s->rx_signalled = snap_get_bool(in);
	s->lent = snap_get_u32(in);
	s->lent_bytes = snap_get_u64(in);
	s->tx_blocked = snap_get_bool(in);
	s->congested = snap_get_bool(in);
	s->cong_monitor = snap_get_bool(in);
	s->cong_mask = snap_get_u64(in);
	s->cong_notify = snap_get_u64(in);
	s->transport_set = snap_get_bool(in);
	s->zerocopy = snap_get_bool(in);
	s->has_sent = snap_get_bool(in);
	s->zc_count = snap_get_count(in, sizeof(s->zc_cookies) / sizeof(s->zc_cookies[0]));
	for (unsigned i = 0; i < s->zc_count; i++)
		s->zc_cookies[i] = snap_get_u32(in);
	s->recverr = snap_get_bool(in);
	s->timestamp = (int)snap_get_u32(in);
	s->rx_traces = snap_get_u8(in);
	snap_get_raw(in, s->rx_trace_pos, sizeof(s->rx_trace_pos));
	if (bound && !in->bad && sock_bind_port(s, &baddr, bport) < 0)
		snap_fail(in, "two sockets bound to one port");
	/* Our map of that address is the set of congested ports: made again from them. */
	if (s->bound && s->congested && cong_map_set(s->eng, &baddr, bport, true) < 0)
		snap_fail(in, "out of memory");
}

static struct sock *sock_load(struct snap_in *in, struct engine *e)
{
	int app_fd = snap_get_fd(in), eng_fd = snap_get_fd(in);
	struct sock *s = app_fd >= 0 && eng_fd >= 0 ? sock_new(e, app_fd, eng_fd) : NULL;

	if (!s) {
		snap_fail(in, "a socket without its fds, or out of memory");
		return NULL;
	}
	fdreg_add(app_fd);
	fdreg_add(eng_fd);
	sock_load_fields(in, s);
	return s;
}

void sock_restore_all(struct snap_in *in, struct engine *e)
{
	uint32_t n = snap_get_count(in, SNAP_MAX_SOCKS);

	in->objs = calloc(n ? n : 1, sizeof(*in->objs));
	if (!in->objs) {
		snap_fail(in, "out of memory");
		return;
	}
	in->nobjs = n;
	/*
	 * Received messages name no sender, so the sockets can be read one after the other. The
	 * readable byte is as the old daemon left it: its loop sends a deferred one before it
	 * lets go of the lock the snapshot was taken under.
	 */
	for (uint32_t i = 0; i < n && !in->bad; i++)
		in->objs[i] = sock_load(in, e);
}
