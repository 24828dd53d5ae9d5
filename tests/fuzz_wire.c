// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the stream parser and extension parser, fuzzing core/wire.c exactly as
 * it ships.
 *
 * Input: byte 0 = ctl: ctl & 7 chunk-size bytes follow (0: one feed of everything), ctl >> 3
 * = the message count after which the callback asks to stop (0: never). Then the chunk sizes
 * (0 = all that is left), used round-robin; the rest is the TCP byte stream.
 */
#include "../core/bufpool.c"
#include "../core/wire.c"

#include <stdio.h>

struct fuzz_ctx {
	const uint8_t *stream;
	size_t len;
	size_t next; /* stream offset of the next message's header */
	size_t calls;
	size_t stop_at;
};

#define FUZZ_STOP 1

static void fuzz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static void check_exts(const uint8_t ext[WIRE_EXT_LEN])
{
	struct wire_exts e, again;
	uint8_t built[WIRE_EXT_LEN];

	wire_exts_parse(ext, &e);
	wire_exts_build(&e, built);
	wire_exts_parse(built, &again);
	fuzz_check(e.has_npaths == again.has_npaths && e.npaths == again.npaths &&
			   e.has_gen_num == again.has_gen_num && e.gen_num == again.gen_num &&
			   e.has_sport_idx == again.has_sport_idx,
		   "exts build/parse round trip");
}

/* The message must be exactly the bytes at ctx->next: header re-encodes, payload matches. */
static int fuzz_message(void *arg, const struct wire_header *h, uint8_t *payload)
{
	struct fuzz_ctx *ctx = arg;
	const uint8_t *raw = ctx->stream + ctx->next;
	uint8_t enc[WIRE_HDR_LEN];

	fuzz_check(h->len <= WIRE_MAX_PAYLOAD, "len bounded");
	fuzz_check(ctx->next + WIRE_HDR_LEN + h->len <= ctx->len, "message inside the stream");
	fuzz_check((payload == NULL) == (h->len == 0), "payload NULL iff len 0");
	wire_header_encode(h, enc);
	fuzz_check(!memcmp(enc, raw, 26) && !memcmp(enc + 30, raw + 30, WIRE_HDR_LEN - 30),
		   "header re-encodes to its bytes");
	fuzz_check(!h->len || !memcmp(payload, raw + WIRE_HDR_LEN, h->len), "payload bytes");
	fuzz_check(wire_classify(h) <= WIRE_KIND_DATA, "kind in range");
	check_exts(h->ext);
	free(payload);
	ctx->next += WIRE_HDR_LEN + h->len;
	ctx->calls++;
	return ctx->calls == ctx->stop_at ? FUZZ_STOP : 0;
}

/* What the parser holds must be exactly the bytes after the last message. */
static void check_partial(const struct wire_parser *p, const struct fuzz_ctx *ctx, size_t fed)
{
	size_t held = fed - ctx->next;

	if (held < WIRE_HDR_LEN) {
		fuzz_check(wire_parser_hdr_rem(p) == WIRE_HDR_LEN - held, "hdr_rem");
		fuzz_check(wire_parser_data_rem(p) == 0, "data_rem while in header");
		return;
	}
	fuzz_check(wire_parser_hdr_rem(p) == 0, "hdr_rem after header");
	fuzz_check(wire_parser_data_rem(p) == p->hdr.len - (held - WIRE_HDR_LEN), "data_rem");
}

static void run(const uint8_t *sizes, size_t nsizes, struct fuzz_ctx *ctx)
{
	struct wire_parser p;
	size_t off = 0, k, i = 0;
	int ret;

	wire_parser_init(&p);
	while (off < ctx->len) {
		k = nsizes ? sizes[i++ % nsizes] : 0;
		if (k == 0 || k > ctx->len - off)
			k = ctx->len - off;
		ret = wire_parser_feed(&p, ctx->stream + off, k, fuzz_message, ctx);
		if (ret == FUZZ_STOP) {
			/* resume right after the message that stopped us */
			fuzz_check(ctx->next <= off + k, "stop inside the chunk");
			off = ctx->next;
			continue;
		}
		if (ret == -EMSGSIZE) {
			fuzz_check(p.hdr.len > WIRE_MAX_PAYLOAD && !p.payload,
				   "EMSGSIZE only if big");
			break;
		}
		fuzz_check(ret == 0, "feed returns 0");
		off += k;
		check_partial(&p, ctx, off);
	}
	wire_parser_reset(&p);
	fuzz_check(wire_parser_hdr_rem(&p) == WIRE_HDR_LEN && !p.payload, "reset");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ctx ctx = { 0 };
	size_t nsizes;

	if (size < 1)
		return 0;
	nsizes = data[0] & 7;
	if (size < 1 + nsizes)
		return 0;
	ctx.stop_at = data[0] >> 3;
	ctx.stream = data + 1 + nsizes;
	ctx.len = size - 1 - nsizes;
	run(data + 1, nsizes, &ctx);
	if (size >= WIRE_EXT_LEN)
		check_exts(data + size - WIRE_EXT_LEN);
	return 0;
}
