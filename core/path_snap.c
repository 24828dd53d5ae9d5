// SPDX-License-Identifier: MIT
/*
 * A path in an engine's snapshot (mprdsd --upgrade): its sequence numbers, its queues, the
 * part of a message its parser holds, its counters, and its connection (the transport's
 * part). A path is handed over up only if its connection is up and healthy; any other is
 * read back down, and path_restored() treats it as shut: the new daemon reconnects.
 */
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/path.h"
#include "mprds/snap.h"
#include "mprds/sock.h"

static void parser_save(struct snap_out *o, const struct wire_parser *w)
{
	bool whole_hdr = w->hdr_have == WIRE_HDR_LEN;

	snap_blob(o, w->hdr_buf, (uint32_t)w->hdr_have);
	snap_blob(o, whole_hdr ? w->payload : NULL, whole_hdr ? (uint32_t)w->payload_have : 0);
}

/* A snapshot holds part of a message, never a whole one: a whole one is refused (and freed). */
static int partial_only(void *pool, const struct wire_header *h, uint8_t *payload)
{
	buf_pool_put(pool, payload, h->len);
	return -1;
}

/* The bytes the parser held, fed again: it ends in the same place. */
static void parser_load(struct snap_in *in, struct wire_parser *w)
{
	const uint8_t *hdr, *payload;
	uint32_t nh = snap_get_blob(in, &hdr, WIRE_HDR_LEN);
	uint32_t np = snap_get_blob(in, &payload, WIRE_MAX_PAYLOAD);

	if (in->bad)
		return;
	if ((np && nh < WIRE_HDR_LEN) || wire_parser_feed(w, hdr, nh, partial_only, w->pool) ||
	    wire_parser_feed(w, payload, np, partial_only, w->pool))
		snap_fail(in, "a path's parser holds what no stream can");
}

static void counters_save(struct snap_out *o, const struct path *p)
{
	const uint64_t c[] = { p->msgs_tx, p->msgs_rx,	p->bytes_tx, p->bytes_rx, p->retransmits,
			       p->dups,	   p->connects, p->flushed,  p->rx_pauses };

	snap_u32(o, sizeof(c) / sizeof(c[0]));
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		snap_u64(o, c[i]);
}

static void counters_load(struct snap_in *in, struct path *p)
{
	uint64_t *c[] = { &p->msgs_tx, &p->msgs_rx,  &p->bytes_tx, &p->bytes_rx, &p->retransmits,
			  &p->dups,    &p->connects, &p->flushed,  &p->rx_pauses };
	uint32_t n = snap_get_count(in, 64);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = snap_get_u64(in);

		if (i < sizeof(c) / sizeof(c[0]))
			*c[i] = v;
	}
}

/* Only a healthy connection goes to the new daemon; the rest are made anew there. */
static bool handed_over_up(const struct path *p)
{
	return p->state == PATH_UP && !p->tx_dead && !p->poke && p->tr->is_open(p) && p->tr->save;
}

void path_save(const struct path *p, struct snap_out *o)
{
	const struct sock *b = p->rx_blocker;
	bool up = handed_over_up(p);

	snap_u8(o, up);
	snap_u8(o, p->state == PATH_UP);
	snap_u32(o, p->epoch);
	snap_u8(o, p->warned);
	snap_u32(o, p->pongs);
	msg_queue_save(o, &p->sendq);
	msg_queue_save(o, &p->unacked);
	snap_u64(o, p->head_off);
	snap_u64(o, p->next_tx_seq);
	snap_u64(o, p->next_rx_seq);
	snap_u16(o, p->peer_port);
	snap_u64(o, p->rx_seq_at_accept);
	snap_u64(o, p->tx_offset);
	snap_u64(o, p->flush_upto);
	snap_u8(o, p->flush_armed);
	parser_save(o, &p->parser);
	snap_u64(o, p->rx_stamp_ns);
	snap_u64(o, p->msg_began_ns);
	counters_save(o, p);
	/* a socket already closed holds nothing back: reads resume in the new daemon */
	snap_u32(o, up && b && b->listed && !b->released ? b->snap_id : 0);
	if (p->tr->save)
		p->tr->save(p, up, o);
}

void path_restore(struct path *p, struct snap_in *in)
{
	bool up = snap_get_bool(in), was_up = snap_get_bool(in);
	struct sock *blocker;

	p->epoch = snap_get_u32(in);
	p->warned = snap_get_u8(in);
	p->pongs = snap_get_u32(in);
	msg_queue_load(in, p->conn->eng, &p->sendq);
	msg_queue_load(in, p->conn->eng, &p->unacked);
	p->head_off = snap_get_u64(in);
	p->next_tx_seq = snap_get_u64(in);
	p->next_rx_seq = snap_get_u64(in);
	p->peer_port = snap_get_u16(in);
	p->rx_seq_at_accept = snap_get_u64(in);
	p->tx_offset = snap_get_u64(in);
	p->flush_upto = snap_get_u64(in);
	p->flush_armed = snap_get_bool(in);
	parser_load(in, &p->parser);
	p->rx_stamp_ns = snap_get_u64(in);
	p->msg_began_ns = snap_get_u64(in);
	counters_load(in, p);
	blocker = snap_get_obj(in);
	if (blocker) {
		sock_get(blocker);
		p->rx_blocker = blocker;
	}
	if (p->head_off &&
	    (TAILQ_EMPTY(&p->sendq) || p->head_off >= WIRE_HDR_LEN + TAILQ_FIRST(&p->sendq)->h.len))
		snap_fail(in, "a path written past its first message");
	if (p->tr->restore)
		p->tr->restore(p, up, in);
	if (in->bad)
		return;
	path_restored(p, up);
	if (was_up && !up && p->index == 0)
		p->owner->path0_down(p->conn);
}
