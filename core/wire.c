// SPDX-License-Identifier: MIT
/* The RDS/TCP wire format: header, extensions, classification, cong bits, stream parser. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/wire.h"

static void put_be(uint8_t *out, uint64_t v, size_t n)
{
	while (n--) {
		out[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *in, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *in++;
	return v;
}

void wire_header_encode(const struct wire_header *h, uint8_t out[WIRE_HDR_LEN])
{
	put_be(out + 0, h->seq, 8);
	put_be(out + 8, h->ack, 8);
	put_be(out + 16, h->len, 4);
	put_be(out + 20, h->sport, 2);
	put_be(out + 22, h->dport, 2);
	out[24] = h->flags;
	out[25] = h->credit;
	memset(out + 26, 0, 4);
	put_be(out + 30, h->csum, 2);
	memcpy(out + 32, h->ext, WIRE_EXT_LEN);
}

void wire_header_decode(const uint8_t in[WIRE_HDR_LEN], struct wire_header *h)
{
	h->seq = get_be(in + 0, 8);
	h->ack = get_be(in + 8, 8);
	h->len = (uint32_t)get_be(in + 16, 4);
	h->sport = (uint16_t)get_be(in + 20, 2);
	h->dport = (uint16_t)get_be(in + 22, 2);
	h->flags = in[24];
	h->credit = in[25];
	h->csum = (uint16_t)get_be(in + 30, 2);
	memcpy(h->ext, in + 32, WIRE_EXT_LEN);
}

/* §4: the length is implied by the type; mainline knows no size for 7 (UEK CAP_BITS) or 9..15. */
static size_t ext_size(uint8_t type)
{
	switch (type) {
	case WIRE_EXT_VERSION:
	case WIRE_EXT_RDMA:
	case WIRE_EXT_GEN_NUM:
		return 4;
	case WIRE_EXT_RDMA_DEST:
	case WIRE_EXT_RDMA_BYTES:
		return 8;
	case WIRE_EXT_NPATHS:
		return 2;
	case WIRE_EXT_SPORT_IDX:
		return 1;
	default:
		return 0;
	}
}

static void ext_take(uint8_t type, const uint8_t *val, struct wire_exts *out)
{
	switch (type) {
	case WIRE_EXT_NPATHS:
		out->has_npaths = true;
		out->npaths = (uint16_t)get_be(val, 2);
		break;
	case WIRE_EXT_GEN_NUM:
		out->has_gen_num = true;
		out->gen_num = (uint32_t)get_be(val, 4);
		break;
	case WIRE_EXT_SPORT_IDX:
		/* §4: presence is the message; the 0x00 value means nothing. */
		out->has_sport_idx = true;
		break;
	}
}

void wire_exts_parse(const uint8_t ext[WIRE_EXT_LEN], struct wire_exts *out)
{
	size_t pos = 0, len;
	uint8_t type;

	memset(out, 0, sizeof(*out));
	while (pos < WIRE_EXT_LEN) {
		type = ext[pos++];
		if (type == WIRE_EXT_NONE || type >= WIRE_EXT_MAX)
			return;
		len = ext_size(type);
		if (pos + len > WIRE_EXT_LEN) {
			out->overrun = true;
			return;
		}
		ext_take(type, ext + pos, out);
		pos += len;
	}
}

void wire_exts_build(const struct wire_exts *in, uint8_t ext[WIRE_EXT_LEN])
{
	size_t pos = 0;

	memset(ext, 0, WIRE_EXT_LEN);
	if (in->has_npaths) {
		ext[pos++] = WIRE_EXT_NPATHS;
		put_be(ext + pos, in->npaths, 2);
		pos += 2;
	}
	if (in->has_gen_num) {
		ext[pos++] = WIRE_EXT_GEN_NUM;
		put_be(ext + pos, in->gen_num, 4);
		pos += 4;
	}
	/* §4: last, because a ≤6.19 receiver skips type 8 as length 0 and stops at its value. */
	if (in->has_sport_idx)
		ext[pos] = WIRE_EXT_SPORT_IDX;
}

enum wire_kind wire_classify(const struct wire_header *h)
{
	/* §3/§5 step 0: only the exact value; 0x05 etc. fall through to the port rules. */
	if (h->flags == WIRE_FLAG_CONG_BITMAP)
		return WIRE_KIND_CONG_MAP;
	if (h->dport == 0) {
		/* §5 step 3: a pong to it would be another sport-0 ping: never answer one. */
		if (h->sport == 0)
			return WIRE_KIND_PING_IGNORED;
		if (h->sport == WIRE_PROBE_PORT)
			return WIRE_KIND_PROBE;
		return WIRE_KIND_PING;
	}
	if (h->dport == WIRE_PROBE_PORT && h->sport == 0)
		return WIRE_KIND_PROBE_PONG;
	return WIRE_KIND_DATA;
}

bool wire_is_duplicate(const struct wire_header *h, uint64_t next_rx_seq)
{
	/* §8: a non-retransmitted message is always taken, so a restarted peer is heard. */
	return h->seq < next_rx_seq && (h->flags & WIRE_FLAG_RETRANSMITTED);
}

static uint8_t cong_bit(uint16_t port)
{
	return (uint8_t)(1u << (port & 7));
}

void wire_cong_set(uint8_t map[WIRE_CONG_MAP_BYTES], uint16_t port)
{
	map[port >> 3] |= cong_bit(port);
}

void wire_cong_clear(uint8_t map[WIRE_CONG_MAP_BYTES], uint16_t port)
{
	map[port >> 3] &= ~cong_bit(port);
}

bool wire_cong_test(const uint8_t map[WIRE_CONG_MAP_BYTES], uint16_t port)
{
	return map[port >> 3] & cong_bit(port);
}

void wire_parser_init(struct wire_parser *p)
{
	memset(p, 0, sizeof(*p));
}

/* Back to "expect a header", keeping where payloads come from. */
static void expect_header(struct wire_parser *p)
{
	struct buf_pool *pool = p->pool;

	wire_parser_init(p);
	p->pool = pool;
}

void wire_parser_reset(struct wire_parser *p)
{
	buf_pool_put(p->pool, p->payload, p->hdr.len);
	expect_header(p);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Callers pass k > 0 only: buf may be NULL when n == 0, and NULL + 0 is undefined in C. */
static void advance(const uint8_t **buf, size_t *n, size_t k)
{
	*buf += k;
	*n -= k;
}

/* Called with *n > 0 only. */
static void take_header(struct wire_parser *p, const uint8_t **buf, size_t *n)
{
	size_t k = min_size(*n, WIRE_HDR_LEN - p->hdr_have);

	memcpy(p->hdr_buf + p->hdr_have, *buf, k);
	p->hdr_have += k;
	advance(buf, n, k);
	if (p->hdr_have == WIRE_HDR_LEN)
		wire_header_decode(p->hdr_buf, &p->hdr);
}

/*
 * §11: the kernel never bounds h_len; we refuse more than 1 MiB before allocating anything.
 * Called on every pass, so the refusal is sticky and a failed allocation is retried.
 */
static int alloc_payload(struct wire_parser *p)
{
	if (p->hdr.len > WIRE_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (p->hdr.len == 0 || p->payload)
		return 0;
	p->payload = buf_pool_get(p->pool, p->hdr.len);
	return p->payload ? 0 : -ENOMEM;
}

static void take_payload(struct wire_parser *p, const uint8_t **buf, size_t *n)
{
	size_t k = min_size(*n, p->hdr.len - p->payload_have);

	if (!k)
		return;
	memcpy(p->payload + p->payload_have, *buf, k);
	p->payload_have += k;
	advance(buf, n, k);
}

/* Hands the message over after resetting, so fn may reset the parser (e.g. to drop the path). */
static int deliver(struct wire_parser *p, wire_message_fn fn, void *ctx)
{
	struct wire_header h = p->hdr;
	uint8_t *payload = p->payload;

	expect_header(p);
	return fn(ctx, &h, payload);
}

int wire_parser_feed(struct wire_parser *p, const uint8_t *buf, size_t n, wire_message_fn fn,
		     void *ctx)
{
	int ret;

	for (;;) {
		if (p->hdr_have < WIRE_HDR_LEN) {
			if (!n)
				return 0;
			take_header(p, &buf, &n);
			continue;
		}
		ret = alloc_payload(p);
		if (ret)
			return ret;
		take_payload(p, &buf, &n);
		/* Invariant: an incomplete payload means every byte was taken (n == 0). */
		if (p->payload_have < p->hdr.len)
			return 0;
		ret = deliver(p, fn, ctx);
		if (ret)
			return ret;
	}
}

size_t wire_parser_hdr_rem(const struct wire_parser *p)
{
	return WIRE_HDR_LEN - p->hdr_have;
}

size_t wire_parser_data_rem(const struct wire_parser *p)
{
	if (p->hdr_have < WIRE_HDR_LEN)
		return 0;
	return p->hdr.len - p->payload_have;
}
