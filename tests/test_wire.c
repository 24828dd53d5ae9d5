// SPDX-License-Identifier: MIT
/* Unit tests of core/wire.c against the worked examples and rules of spec/wire.md. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/wire.h"

#include "check_main.h"

static void assert_header_eq(const struct wire_header *a, const struct wire_header *b)
{
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->ack, b->ack);
	ck_assert_uint_eq(a->len, b->len);
	ck_assert_uint_eq(a->sport, b->sport);
	ck_assert_uint_eq(a->dport, b->dport);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->credit, b->credit);
	ck_assert_uint_eq(a->csum, b->csum);
	ck_assert_mem_eq(a->ext, b->ext, WIRE_EXT_LEN);
}

static void assert_exts_eq(const struct wire_exts *a, const struct wire_exts *b)
{
	ck_assert_int_eq(a->has_npaths, b->has_npaths);
	ck_assert_uint_eq(a->npaths, b->npaths);
	ck_assert_int_eq(a->has_gen_num, b->has_gen_num);
	ck_assert_uint_eq(a->gen_num, b->gen_num);
	ck_assert_int_eq(a->has_sport_idx, b->has_sport_idx);
}

/* ---- wire.md §15 worked examples ---- */

enum { V_PROBE, V_PROBE_OLD, V_PONG, V_PONG_LEGACY, V_HELLO, V_HELLO_RETX, V_CONG, NVECTORS };

struct vector {
	const char *name;
	uint8_t msg[64];
	size_t msg_len; /* header + payload bytes present in msg */
	struct wire_header h;
	enum wire_kind kind;
	struct wire_exts exts;
};

// clang-format off
#define EXT_PROBE_7 { 0x05, 0x00, 0x08, 0x06, 0x9a, 0xbc, 0xde, 0xf0, 0x08 }
#define EXT_PONG_7 { 0x05, 0x00, 0x08, 0x06, 0x11, 0x22, 0x33, 0x44, 0x08 }
#define EXT_OLD { 0x05, 0x00, 0x08 }

static const struct vector vectors[NVECTORS] = {
	[V_PROBE] = {
		.name = "(a) probe ping, 7.0+",
		.msg =
			"\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x01\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x05\x00\x08\x06\x9a\xbc\xde\xf0" "\x08\x00\x00\x00\x00\x00\x00\x00",
		.msg_len = 48,
		.h = { .seq = 1, .sport = 1, .dport = 0, .ext = EXT_PROBE_7 },
		.kind = WIRE_KIND_PROBE,
		.exts = { .has_npaths = true, .npaths = 8, .has_gen_num = true,
			  .gen_num = 0x9abcdef0, .has_sport_idx = true },
	},
	[V_PROBE_OLD] = {
		.name = "(a) probe ping, <=6.19",
		.msg =
			"\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x01\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x05\x00\x08\x00\x00\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00",
		.msg_len = 48,
		.h = { .seq = 1, .sport = 1, .dport = 0, .ext = EXT_OLD },
		.kind = WIRE_KIND_PROBE,
		.exts = { .has_npaths = true, .npaths = 8 },
	},
	[V_PONG] = {
		.name = "(b) probe pong, 7.0+",
		.msg =
			"\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x05\x00\x08\x06\x11\x22\x33\x44" "\x08\x00\x00\x00\x00\x00\x00\x00",
		.msg_len = 48,
		.h = { .seq = 1, .sport = 0, .dport = 1, .ext = EXT_PONG_7 },
		.kind = WIRE_KIND_PROBE_PONG,
		.exts = { .has_npaths = true, .npaths = 8, .has_gen_num = true,
			  .gen_num = 0x11223344, .has_sport_idx = true },
	},
	[V_PONG_LEGACY] = {
		/* no NPATHS at all: the caller's max(c_npaths, 1) rule makes it 1 (§6) */
		.name = "(b) probe pong, legacy pre-4.10",
		.msg =
			"\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00",
		.msg_len = 48,
		.h = { .seq = 1, .sport = 0, .dport = 1 },
		.kind = WIRE_KIND_PROBE_PONG,
		.exts = { .has_npaths = false },
	},
	[V_HELLO] = {
		.name = "(c) data hello",
		.msg =
			"\x00\x00\x00\x00\x00\x00\x00\x02" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x05\x0f\xa0\x13\x88" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x68\x65\x6c\x6c\x6f",
		.msg_len = 53,
		.h = { .seq = 2, .len = 5, .sport = 4000, .dport = 5000 },
		.kind = WIRE_KIND_DATA,
	},
	[V_HELLO_RETX] = {
		.name = "(c) data hello, retransmitted",
		.msg =
			"\x00\x00\x00\x00\x00\x00\x00\x02" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x05\x0f\xa0\x13\x88" "\x04\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x68\x65\x6c\x6c\x6f",
		.msg_len = 53,
		.h = { .seq = 2, .len = 5, .sport = 4000, .dport = 5000,
		       .flags = WIRE_FLAG_RETRANSMITTED },
		.kind = WIRE_KIND_DATA,
	},
	[V_CONG] = {
		.name = "(d) cong map header",
		.msg =
			"\x00\x00\x00\x00\x00\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x20\x00\x00\x00\x00\x00" "\x01\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x00\x00\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00",
		.msg_len = 48,
		.h = { .seq = 0, .len = WIRE_CONG_MAP_BYTES, .flags = WIRE_FLAG_CONG_BITMAP },
		.kind = WIRE_KIND_CONG_MAP,
	},
};
// clang-format on

START_TEST(test_vector_encode)
{
	const struct vector *v = &vectors[_i];
	uint8_t out[WIRE_HDR_LEN];

	memset(out, 0xaa, sizeof(out));
	wire_header_encode(&v->h, out);
	ck_assert_mem_eq(out, v->msg, WIRE_HDR_LEN);
}
END_TEST

START_TEST(test_vector_decode)
{
	const struct vector *v = &vectors[_i];
	struct wire_header h;

	memset(&h, 0xaa, sizeof(h));
	wire_header_decode(v->msg, &h);
	assert_header_eq(&h, &v->h);
	ck_assert_int_eq(wire_classify(&h), v->kind);
}
END_TEST

START_TEST(test_vector_exts)
{
	const struct vector *v = &vectors[_i];
	struct wire_exts got;
	uint8_t ext[WIRE_EXT_LEN];

	wire_exts_parse(v->msg + 32, &got);
	assert_exts_eq(&got, &v->exts);
	memset(ext, 0xaa, sizeof(ext));
	wire_exts_build(&v->exts, ext);
	ck_assert_mem_eq(ext, v->msg + 32, WIRE_EXT_LEN);
}
END_TEST

struct one_msg {
	int calls;
	struct wire_header h;
	uint8_t *payload;
};

static int take_one(void *ctx, const struct wire_header *h, uint8_t *payload)
{
	struct one_msg *m = ctx;

	m->calls++;
	m->h = *h;
	free(m->payload);
	m->payload = payload;
	return 0;
}

START_TEST(test_vector_parse)
{
	const struct vector *v = &vectors[_i];
	struct wire_parser p;
	struct one_msg m = { 0 };

	if (v->msg_len != WIRE_HDR_LEN + v->h.len)
		return; /* (d): payload checked in test_cong_map_message */
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, v->msg, v->msg_len, take_one, &m), 0);
	ck_assert_int_eq(m.calls, 1);
	assert_header_eq(&m.h, &v->h);
	if (v->h.len)
		ck_assert_mem_eq(m.payload, v->msg + WIRE_HDR_LEN, v->h.len);
	else
		ck_assert_ptr_null(m.payload);
	ck_assert_uint_eq(wire_parser_hdr_rem(&p), WIRE_HDR_LEN);
	ck_assert_uint_eq(wire_parser_data_rem(&p), 0);
	free(m.payload);
	wire_parser_reset(&p);
}
END_TEST

START_TEST(test_hello_is_53_bytes)
{
	ck_assert_uint_eq(vectors[V_HELLO].msg_len, 53);
	ck_assert_mem_eq(vectors[V_HELLO].msg + 48, "hello", 5);
	/* the retransmitted copy differs in byte 0x18 only */
	ck_assert_mem_eq(vectors[V_HELLO].msg, vectors[V_HELLO_RETX].msg, 0x18);
	ck_assert_uint_eq(vectors[V_HELLO_RETX].msg[0x18], 0x04);
	ck_assert_mem_eq(vectors[V_HELLO].msg + 0x19, vectors[V_HELLO_RETX].msg + 0x19, 53 - 0x19);
}
END_TEST

START_TEST(test_cong_map_message)
{
	static uint8_t msg[WIRE_HDR_LEN + WIRE_CONG_MAP_BYTES];
	const struct vector *v = &vectors[V_CONG];
	struct wire_parser p;
	struct one_msg m = { 0 };
	size_t i;

	memset(msg, 0, sizeof(msg));
	wire_header_encode(&v->h, msg);
	wire_cong_set(msg + WIRE_HDR_LEN, 5000);
	ck_assert_uint_eq(msg[WIRE_HDR_LEN + 625], 0x01);
	for (i = 0; i < WIRE_CONG_MAP_BYTES; i++)
		if (i != 625)
			ck_assert_uint_eq(msg[WIRE_HDR_LEN + i], 0);

	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, msg, sizeof(msg), take_one, &m), 0);
	ck_assert_int_eq(m.calls, 1);
	ck_assert_int_eq(wire_classify(&m.h), WIRE_KIND_CONG_MAP);
	ck_assert_uint_eq(m.h.len, WIRE_CONG_MAP_BYTES);
	ck_assert(wire_cong_test(m.payload, 5000));
	ck_assert(!wire_cong_test(m.payload, 4999));
	ck_assert(!wire_cong_test(m.payload, 5001));
	free(m.payload);
}
END_TEST

/* ---- header layout ---- */

START_TEST(test_header_byte_order)
{
	static const uint8_t want[WIRE_HDR_LEN] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12, 0x13, 0x14,
		0x15, 0x16, 0x17, 0x18, 0x21, 0x22, 0x23, 0x24, 0x31, 0x32, 0x41, 0x42,
		0x51, 0x61, 0x00, 0x00, 0x00, 0x00, 0x71, 0x72, 0x80, 0x81, 0x82, 0x83,
		0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	};
	struct wire_header h = {
		.seq = 0x0102030405060708ull,
		.ack = 0x1112131415161718ull,
		.len = 0x21222324,
		.sport = 0x3132,
		.dport = 0x4142,
		.flags = 0x51,
		.credit = 0x61,
		.csum = 0x7172,
		.ext = { 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
			 0x8c, 0x8d, 0x8e, 0x8f },
	};
	uint8_t out[WIRE_HDR_LEN], in[WIRE_HDR_LEN];
	struct wire_header got;

	memset(out, 0xff, sizeof(out));
	wire_header_encode(&h, out);
	ck_assert_mem_eq(out, want, WIRE_HDR_LEN);

	/* padding is ignored on decode */
	memcpy(in, want, sizeof(in));
	memset(in + 26, 0xee, 4);
	wire_header_decode(in, &got);
	assert_header_eq(&got, &h);
}
END_TEST

START_TEST(test_header_extremes)
{
	uint8_t out[WIRE_HDR_LEN];
	struct wire_header h, got;

	memset(&h, 0, sizeof(h));
	h.seq = UINT64_MAX;
	h.ack = UINT64_MAX;
	h.len = UINT32_MAX;
	h.sport = UINT16_MAX;
	h.dport = UINT16_MAX;
	h.flags = 0xff;
	h.credit = 0xff;
	h.csum = UINT16_MAX;
	memset(h.ext, 0xff, WIRE_EXT_LEN);
	wire_header_encode(&h, out);
	ck_assert_uint_eq(out[26] | out[27] | out[28] | out[29], 0);
	wire_header_decode(out, &got);
	assert_header_eq(&got, &h);
}
END_TEST

/* ---- extension area, §4 ---- */

struct ext_case {
	const char *name;
	uint8_t ext[WIRE_EXT_LEN];
	struct wire_exts want;
};

/* filler: the 4-byte value of a VERSION or RDMA extension */
#define EE4 0xee, 0xee, 0xee, 0xee

// clang-format off
static const struct ext_case ext_cases[] = {
	{ "all zero", { 0 }, { 0 } },
	{ "unknown type 7 (UEK CAP_BITS) is length 0",
	  { 0x07, 0x05, 0x00, 0x08 }, { .has_npaths = true, .npaths = 8 } },
	{ "UEK CAP_BITS with its 4-byte value: 0x00 then stops",
	  { 0x07, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00, 0x08 }, { 0 } },
	{ "unknown types 9 and 15 are length 0",
	  { 0x09, 0x0f, 0x06, 0x00, 0x00, 0x00, 0x2a }, { .has_gen_num = true, .gen_num = 42 } },
	{ "VERSION consumes 4 bytes",
	  { 0x01, 0x05, 0x00, 0x08, 0x00, 0x05, 0x00, 0x02 }, { .has_npaths = true, .npaths = 2 } },
	{ "RDMA_DEST consumes 8 bytes",
	  { 0x03, 0x05, 0x00, 0x08, 0x05, 0x00, 0x08, 0x00, 0x00, 0x05, 0x00, 0x03 },
	  { .has_npaths = true, .npaths = 3 } },
	{ "RDMA 4 + RDMA_BYTES 8 + SPORT_IDX: exactly full",
	  { 0x02, EE4, 0x04, EE4, EE4, 0x08, 0x00 },
	  { .has_sport_idx = true } },
	{ "type 16 stops",
	  { 0x05, 0x00, 0x08, 0x10, 0x06, 0x00, 0x00, 0x00, 0x01 },
	  { .has_npaths = true, .npaths = 8 } },
	{ "type 0xff first stops", { 0xff, 0x05, 0x00, 0x08 }, { 0 } },
	{ "terminator stops before later extensions",
	  { 0x05, 0x00, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01 },
	  { .has_npaths = true, .npaths = 4 } },
	{ "GEN_NUM at byte 13 overruns: not reported",
	  { 0x01, EE4, 0x01, EE4, 0x07, 0x07, 0x07, 0x06, 0xaa, 0xbb }, { 0 } },
	{ "NPATHS at byte 14 overruns by one: not reported",
	  { 0x01, EE4, 0x01, EE4, 0x07, 0x07, 0x07, 0x07, 0x05, 0x00 }, { 0 } },
	{ "SPORT_IDX in byte 15 has no value byte: not reported",
	  { 0x01, EE4, 0x01, EE4, 0x07, 0x07, 0x07, 0x07, 0x07, 0x08 }, { 0 } },
	{ "earlier extensions survive a later overrun",
	  { 0x05, 0x00, 0x08, 0x01, EE4, 0x01, EE4, 0x07, 0x06, 0x00 },
	  { .has_npaths = true, .npaths = 8 } },
	{ "exactly full, no terminator, NPATHS last",
	  { 0x01, EE4, 0x06, 0x12, 0x34, 0x56, 0x78, 0x07, 0x08, 0x00, 0x05, 0x00, 0x08 },
	  { .has_npaths = true, .npaths = 8, .has_gen_num = true, .gen_num = 0x12345678,
	    .has_sport_idx = true } },
	{ "SPORT_IDX first: its 0x00 is a value to us, not a terminator",
	  { 0x08, 0x00, 0x05, 0x00, 0x08 },
	  { .has_npaths = true, .npaths = 8, .has_sport_idx = true } },
	{ "a repeated type: the later value wins",
	  { 0x05, 0x00, 0x02, 0x05, 0x00, 0x08 }, { .has_npaths = true, .npaths = 8 } },
	{ "NPATHS is reported raw, not clamped",
	  { 0x05, 0x01, 0x00 }, { .has_npaths = true, .npaths = 256 } },
	{ "NPATHS 0 is present", { 0x05, 0x00, 0x00 }, { .has_npaths = true, .npaths = 0 } },
	{ "GEN_NUM 0 is present", { 0x06, 0x00, 0x00, 0x00, 0x00 }, { .has_gen_num = true } },
};
// clang-format on

#define NEXT_CASES ((int)(sizeof(ext_cases) / sizeof(ext_cases[0])))

START_TEST(test_ext_parse)
{
	const struct ext_case *c = &ext_cases[_i];
	struct wire_exts got;

	memset(&got, 0xaa, sizeof(got));
	wire_exts_parse(c->ext, &got);
	assert_exts_eq(&got, &c->want);
}
END_TEST

/* A ≤6.19 receiver (§4): the same walk, but it knows no size for type 8 (length 0). */
static void old_kernel_parse(const uint8_t ext[WIRE_EXT_LEN], struct wire_exts *out)
{
	static const uint8_t size[WIRE_EXT_MAX] = { [1] = 4, [2] = 4, [3] = 8, [5] = 2, [6] = 4 };
	size_t pos = 0;
	uint8_t type;

	memset(out, 0, sizeof(*out));
	while (pos < WIRE_EXT_LEN) {
		type = ext[pos++];
		if (type == 0 || type >= WIRE_EXT_MAX || pos + size[type] > WIRE_EXT_LEN)
			return;
		if (type == WIRE_EXT_NPATHS) {
			out->has_npaths = true;
			out->npaths = (uint16_t)(ext[pos] << 8 | ext[pos + 1]);
		} else if (type == WIRE_EXT_GEN_NUM) {
			out->has_gen_num = true;
			out->gen_num = (uint32_t)ext[pos] << 24 | (uint32_t)ext[pos + 1] << 16 |
				       (uint32_t)ext[pos + 2] << 8 | ext[pos + 3];
		}
		pos += size[type];
	}
}

START_TEST(test_ext_old_kernel_view)
{
	const struct wire_exts all = { .has_npaths = true,
				       .npaths = 8,
				       .has_gen_num = true,
				       .gen_num = 0x9abcdef0,
				       .has_sport_idx = true };
	const struct wire_exts old_sees = {
		.has_npaths = true, .npaths = 8, .has_gen_num = true, .gen_num = 0x9abcdef0
	};
	const uint8_t sport_first[WIRE_EXT_LEN] = { 0x08, 0x00, 0x05, 0x00, 0x08,
						    0x06, 0x9a, 0xbc, 0xde, 0xf0 };
	struct wire_exts got;
	uint8_t ext[WIRE_EXT_LEN];

	/* what we build: an old kernel still sees NPATHS and GEN_NUM */
	wire_exts_build(&all, ext);
	old_kernel_parse(ext, &got);
	assert_exts_eq(&got, &old_sees);
	wire_exts_parse(ext, &got);
	assert_exts_eq(&got, &all);

	/* had SPORT_IDX come first, an old kernel would stop at its value and see nothing */
	old_kernel_parse(sport_first, &got);
	assert_exts_eq(&got, &(struct wire_exts){ 0 });
	wire_exts_parse(sport_first, &got);
	assert_exts_eq(&got, &all);
}
END_TEST

START_TEST(test_ext_build)
{
	static const struct {
		struct wire_exts in;
		uint8_t want[WIRE_EXT_LEN];
	} cases[] = {
		{ { 0 }, { 0 } },
		{ { .has_npaths = true, .npaths = 8 }, { 0x05, 0x00, 0x08 } },
		{ { .has_npaths = true, .npaths = 0x1234, .has_sport_idx = true },
		  { 0x05, 0x12, 0x34, 0x08, 0x00 } },
		{ { .has_gen_num = true, .gen_num = 0xa1b2c3d4, .has_sport_idx = true },
		  { 0x06, 0xa1, 0xb2, 0xc3, 0xd4, 0x08, 0x00 } },
		{ { .has_sport_idx = true }, { 0x08, 0x00 } },
		/* values without their has_ flag are not sent */
		{ { .npaths = 8, .gen_num = 7 }, { 0 } },
	};
	uint8_t ext[WIRE_EXT_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(ext, 0xaa, sizeof(ext));
		wire_exts_build(&cases[i].in, ext);
		ck_assert_mem_eq(ext, cases[i].want, WIRE_EXT_LEN);
	}
}
END_TEST

START_TEST(test_ext_roundtrip)
{
	struct wire_exts in = { 0 }, got;
	uint8_t ext[WIRE_EXT_LEN];
	int mask;

	for (mask = 0; mask < 8; mask++) {
		in.has_npaths = mask & 1;
		in.npaths = in.has_npaths ? 0xbeef : 0;
		in.has_gen_num = mask & 2;
		in.gen_num = in.has_gen_num ? 0xfeedface : 0;
		in.has_sport_idx = mask & 4;
		wire_exts_build(&in, ext);
		wire_exts_parse(ext, &got);
		assert_exts_eq(&got, &in);
	}
}
END_TEST

/* ---- classification §5 and duplicates §8 ---- */

START_TEST(test_classify)
{
	static const struct {
		uint8_t flags;
		uint16_t sport, dport;
		enum wire_kind want;
	} cases[] = {
		{ 0x01, 0, 0, WIRE_KIND_CONG_MAP },
		{ 0x01, 4000, 5000, WIRE_KIND_CONG_MAP },
		{ 0x01, 1, 0, WIRE_KIND_CONG_MAP },
		/* not exactly 0x01: the port rules apply */
		{ 0x05, 0, 0, WIRE_KIND_PING_IGNORED },
		{ 0x03, 4000, 5000, WIRE_KIND_DATA },
		{ 0x00, 0, 0, WIRE_KIND_PING_IGNORED },
		{ WIRE_FLAG_HB_PING, 0, 0, WIRE_KIND_PING_IGNORED },
		{ WIRE_FLAG_HB_PONG, 0, 0, WIRE_KIND_PING_IGNORED },
		{ 0x00, 1, 0, WIRE_KIND_PROBE },
		{ 0x04, 1, 0, WIRE_KIND_PROBE },
		{ 0x00, 4000, 0, WIRE_KIND_PING },
		{ 0x00, 2, 0, WIRE_KIND_PING },
		{ 0x00, 0, 1, WIRE_KIND_PROBE_PONG },
		{ 0x04, 0, 1, WIRE_KIND_PROBE_PONG },
		{ 0x00, 5, 1, WIRE_KIND_DATA },
		{ 0x00, 1, 1, WIRE_KIND_DATA },
		/* pong to an ordinary ping is delivered like data (§5 step 5) */
		{ 0x00, 0, 4000, WIRE_KIND_DATA },
		{ 0x00, 4000, 5000, WIRE_KIND_DATA },
		{ 0x00, 65535, 65535, WIRE_KIND_DATA },
	};
	struct wire_header h;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&h, 0, sizeof(h));
		h.flags = cases[i].flags;
		h.sport = cases[i].sport;
		h.dport = cases[i].dport;
		ck_assert_msg(wire_classify(&h) == cases[i].want, "case %zu", i);
	}
}
END_TEST

START_TEST(test_duplicate)
{
	static const struct {
		uint64_t seq;
		uint8_t flags;
		uint64_t next_rx;
		bool want;
	} cases[] = {
		{ 5, WIRE_FLAG_RETRANSMITTED, 6, true },
		{ 1, WIRE_FLAG_RETRANSMITTED, UINT64_MAX, true },
		{ 5, 0xff, 6, true },
		{ 5, 0, 6, false }, /* restarted peer: always accepted */
		{ 1, 0, 100, false },
		{ 6, WIRE_FLAG_RETRANSMITTED, 6, false },
		{ 7, WIRE_FLAG_RETRANSMITTED, 6, false },
		{ 0, WIRE_FLAG_RETRANSMITTED, 0, false },
		{ 5, 0xff & ~WIRE_FLAG_RETRANSMITTED, 6, false },
	};
	struct wire_header h;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&h, 0, sizeof(h));
		h.seq = cases[i].seq;
		h.flags = cases[i].flags;
		ck_assert_msg(wire_is_duplicate(&h, cases[i].next_rx) == cases[i].want, "case %zu",
			      i);
	}
}
END_TEST

/* ---- congestion map bits §10 ---- */

static const struct {
	uint16_t port;
	size_t byte;
	uint8_t mask;
} cong_cases[] = {
	{ 0, 0, 0x01 }, { 7, 0, 0x80 }, { 8, 1, 0x01 }, { 5000, 625, 0x01 }, { 65535, 8191, 0x80 },
};

#define NCONG_CASES ((int)(sizeof(cong_cases) / sizeof(cong_cases[0])))

START_TEST(test_cong_bit)
{
	static uint8_t map[WIRE_CONG_MAP_BYTES];
	uint16_t port = cong_cases[_i].port;
	size_t i;

	memset(map, 0, sizeof(map));
	wire_cong_set(map, port);
	for (i = 0; i < WIRE_CONG_MAP_BYTES; i++)
		ck_assert_uint_eq(map[i], i == cong_cases[_i].byte ? cong_cases[_i].mask : 0);
	ck_assert(wire_cong_test(map, port));
	if (port > 0)
		ck_assert(!wire_cong_test(map, port - 1));
	if (port < 65535)
		ck_assert(!wire_cong_test(map, port + 1));
	wire_cong_set(map, port);
	ck_assert_uint_eq(map[cong_cases[_i].byte], cong_cases[_i].mask);
	wire_cong_clear(map, port);
	ck_assert(!wire_cong_test(map, port));
	for (i = 0; i < WIRE_CONG_MAP_BYTES; i++)
		ck_assert_uint_eq(map[i], 0);
}
END_TEST

START_TEST(test_cong_clear_keeps_neighbours)
{
	static uint8_t map[WIRE_CONG_MAP_BYTES];
	uint32_t port;

	memset(map, 0xff, sizeof(map));
	wire_cong_clear(map, 5001);
	ck_assert_uint_eq(map[625], 0xfd);
	for (port = 0; port <= 65535; port++)
		ck_assert(wire_cong_test(map, (uint16_t)port) == (port != 5001));
}
END_TEST

/* ---- stream parser ---- */

struct expect_msg {
	struct wire_header h;
	size_t off; /* of the payload in the stream */
};

struct stream {
	uint8_t *buf;
	size_t len;
	struct expect_msg want[16];
	size_t n;
};

/* Appends a message; payload NULL means a pattern that differs per message and offset. */
static void stream_add(struct stream *s, const struct wire_header *h, const void *payload)
{
	uint8_t *p;
	size_t i;

	ck_assert_uint_lt(s->n, sizeof(s->want) / sizeof(s->want[0]));
	s->buf = realloc(s->buf, s->len + WIRE_HDR_LEN + h->len);
	ck_assert_ptr_nonnull(s->buf);
	wire_header_encode(h, s->buf + s->len);
	s->want[s->n].h = *h;
	s->want[s->n].off = s->len + WIRE_HDR_LEN;
	p = s->buf + s->want[s->n].off;
	if (payload)
		memcpy(p, payload, h->len);
	else
		for (i = 0; i < h->len; i++)
			p[i] = (uint8_t)(s->n * 131 + i * 7 + (i >> 9));
	s->len += WIRE_HDR_LEN + h->len;
	s->n++;
}

static void stream_free(struct stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static bool header_eq(const struct wire_header *a, const struct wire_header *b)
{
	return a->seq == b->seq && a->ack == b->ack && a->len == b->len && a->sport == b->sport &&
	       a->dport == b->dport && a->flags == b->flags && a->credit == b->credit &&
	       a->csum == b->csum && !memcmp(a->ext, b->ext, WIRE_EXT_LEN);
}

/*
 * Counts mismatches instead of asserting: every passing ck_assert is a write to the runner
 * (_mark_point), which made the split loops take seconds of system time.
 */
struct recorder {
	const struct stream *s;
	size_t got;
	size_t bad;
	size_t stop_at; /* 1-based message count after which to stop; 0 = never */
	int stop_ret;
};

static bool message_ok(const struct recorder *r, const struct wire_header *h,
		       const uint8_t *payload)
{
	const struct expect_msg *w;

	if (r->got >= r->s->n)
		return false;
	w = &r->s->want[r->got];
	if (!header_eq(h, &w->h))
		return false;
	if (!h->len)
		return !payload;
	return payload && !memcmp(payload, r->s->buf + w->off, h->len);
}

static int record(void *ctx, const struct wire_header *h, uint8_t *payload)
{
	struct recorder *r = ctx;

	r->bad += !message_ok(r, h, payload);
	free(payload);
	r->got++;
	return r->got == r->stop_at ? r->stop_ret : 0;
}

static void assert_all_ok(const struct recorder *r)
{
	ck_assert_uint_eq(r->bad, 0);
	ck_assert_uint_eq(r->got, r->s->n);
}

static void assert_idle(const struct wire_parser *p)
{
	ck_assert_uint_eq(wire_parser_hdr_rem(p), WIRE_HDR_LEN);
	ck_assert_uint_eq(wire_parser_data_rem(p), 0);
	ck_assert_ptr_null(p->payload);
}

static void small_stream(struct stream *s)
{
	static const struct wire_header zero_len = { .seq = 3, .sport = 4000, .dport = 5000 };
	static const struct wire_header one_byte = {
		.seq = 4, .len = 1, .sport = 4000, .dport = 5001
	};
	static const struct wire_header ping = { .seq = 5, .sport = 4000, .dport = 0 };

	memset(s, 0, sizeof(*s));
	stream_add(s, &vectors[V_PROBE].h, NULL);
	stream_add(s, &vectors[V_PONG].h, NULL);
	stream_add(s, &vectors[V_HELLO].h, "hello");
	stream_add(s, &zero_len, NULL);
	stream_add(s, &vectors[V_HELLO_RETX].h, "hello");
	stream_add(s, &one_byte, NULL);
	stream_add(s, &ping, NULL);
	stream_add(s, &vectors[V_PONG_LEGACY].h, NULL);
}

static bool idle(const struct wire_parser *p)
{
	return wire_parser_hdr_rem(p) == WIRE_HDR_LEN && wire_parser_data_rem(p) == 0 &&
	       !p->payload;
}

/* Feeds s cut at the given points (ascending, each <= s->len); true if all went right. */
static bool feed_cut(const struct stream *s, const size_t *cuts, size_t ncuts)
{
	struct wire_parser p;
	struct recorder r = { .s = s };
	size_t i, from = 0, to;
	bool ok = true;

	wire_parser_init(&p);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : s->len;
		ok &= wire_parser_feed(&p, s->buf + from, to - from, record, &r) == 0;
		from = to;
	}
	ok &= r.bad == 0 && r.got == s->n && idle(&p);
	wire_parser_reset(&p);
	return ok;
}

START_TEST(test_parse_every_split)
{
	struct stream s;
	size_t cut;

	small_stream(&s);
	ck_assert_uint_eq(s.len, 8 * WIRE_HDR_LEN + 5 + 5 + 1);
	for (cut = 0; cut <= s.len; cut++)
		ck_assert_msg(feed_cut(&s, &cut, 1), "split at %zu", cut);
	stream_free(&s);
}
END_TEST

START_TEST(test_parse_every_split_pair)
{
	struct stream s;
	size_t cuts[2], fails = 0;

	small_stream(&s);
	for (cuts[0] = 0; cuts[0] <= s.len; cuts[0]++)
		for (cuts[1] = cuts[0]; cuts[1] <= s.len; cuts[1]++)
			fails += !feed_cut(&s, cuts, 2);
	ck_assert_uint_eq(fails, 0);
	stream_free(&s);
}
END_TEST

START_TEST(test_parse_byte_by_byte)
{
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s };
	size_t i;

	small_stream(&s);
	wire_parser_init(&p);
	for (i = 0; i < s.len; i++)
		r.bad += wire_parser_feed(&p, s.buf + i, 1, record, &r) != 0;
	assert_all_ok(&r);
	assert_idle(&p);
	stream_free(&s);
}
END_TEST

static uint64_t xorshift(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static void large_stream(struct stream *s)
{
	static uint8_t map[WIRE_CONG_MAP_BYTES];
	const struct wire_header ping = { .seq = 1, .sport = 4000 };
	const struct wire_header big = {
		.seq = 2, .len = WIRE_MAX_PAYLOAD, .sport = 4000, .dport = 5000
	};
	const struct wire_header one = { .seq = 3, .len = 1, .sport = 4000, .dport = 5000 };
	const struct wire_header empty = { .seq = 4, .sport = 4000, .dport = 5000 };
	const struct wire_header big_retx = { .seq = 2,
					      .len = WIRE_MAX_PAYLOAD,
					      .sport = 4000,
					      .dport = 5000,
					      .flags = WIRE_FLAG_RETRANSMITTED };
	const struct wire_header odd = { .seq = 5, .len = 70001, .sport = 4001, .dport = 5000 };

	memset(s, 0, sizeof(*s));
	memset(map, 0, sizeof(map));
	wire_cong_set(map, 5000);
	stream_add(s, &ping, NULL);
	stream_add(s, &big, NULL);
	stream_add(s, &vectors[V_CONG].h, map);
	stream_add(s, &one, NULL);
	stream_add(s, &empty, NULL);
	stream_add(s, &big_retx, NULL);
	stream_add(s, &vectors[V_PROBE].h, NULL);
	stream_add(s, &odd, NULL);
	stream_add(s, &empty, NULL);
}

static const size_t chunk_max[] = { 7, 600, 70000, 4u << 20 };

#define NCHUNK_MAX ((int)(sizeof(chunk_max) / sizeof(chunk_max[0])))

START_TEST(test_parse_random_chunks)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s };
	size_t off = 0, k;

	large_stream(&s);
	wire_parser_init(&p);
	while (off < s.len) {
		k = 1 + xorshift(&rng) % chunk_max[_i];
		if (k > s.len - off)
			k = s.len - off;
		r.bad += wire_parser_feed(&p, s.buf + off, k, record, &r) != 0;
		off += k;
	}
	assert_all_ok(&r);
	assert_idle(&p);
	stream_free(&s);
}
END_TEST

START_TEST(test_parse_whole_large)
{
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s };

	large_stream(&s);
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf, s.len, record, &r), 0);
	assert_all_ok(&r);
	stream_free(&s);
}
END_TEST

/* ---- malformed input and parser state ---- */

START_TEST(test_truncated_header)
{
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s };

	memset(&s, 0, sizeof(s));
	stream_add(&s, &vectors[V_PROBE].h, NULL);
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf, 47, record, &r), 0);
	ck_assert_uint_eq(r.got, 0);
	ck_assert_uint_eq(p.hdr_have, 47);
	ck_assert_uint_eq(wire_parser_hdr_rem(&p), 1);
	ck_assert_uint_eq(wire_parser_data_rem(&p), 0);
	ck_assert_int_eq(wire_parser_feed(&p, NULL, 0, record, &r), 0);
	ck_assert_uint_eq(r.got, 0);
	ck_assert_uint_eq(wire_parser_hdr_rem(&p), 1);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf + 47, 1, record, &r), 0);
	ck_assert_uint_eq(r.got, 1);
	assert_idle(&p);
	ck_assert_uint_eq(r.bad, 0);
	stream_free(&s);
}
END_TEST

START_TEST(test_truncated_payload)
{
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s };

	memset(&s, 0, sizeof(s));
	stream_add(&s, &vectors[V_HELLO].h, "hello");
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf, 50, record, &r), 0);
	ck_assert_uint_eq(r.got, 0);
	ck_assert_uint_eq(wire_parser_hdr_rem(&p), 0);
	ck_assert_uint_eq(wire_parser_data_rem(&p), 3);
	ck_assert_int_eq(wire_parser_feed(&p, NULL, 0, record, &r), 0);
	ck_assert_uint_eq(wire_parser_data_rem(&p), 3);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf + 50, 3, record, &r), 0);
	ck_assert_uint_eq(r.got, 1);
	assert_idle(&p);
	ck_assert_uint_eq(r.bad, 0);
	stream_free(&s);
}
END_TEST

static const uint32_t bad_len[] = { WIRE_MAX_PAYLOAD + 1, 0x80000000u, 0xffffffffu };

#define NBAD_LEN ((int)(sizeof(bad_len) / sizeof(bad_len[0])))

START_TEST(test_oversize)
{
	struct wire_header bad = { .seq = 9, .len = bad_len[_i], .sport = 4000, .dport = 5000 };
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s };
	uint8_t buf[2 * WIRE_HDR_LEN + 5];

	/* a good message, then the bad header: the first is still delivered */
	memset(&s, 0, sizeof(s));
	stream_add(&s, &vectors[V_HELLO].h, "hello");
	memcpy(buf, s.buf, s.len);
	wire_header_encode(&bad, buf + s.len);
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, buf, sizeof(buf), record, &r), -EMSGSIZE);
	ck_assert_uint_eq(r.got, 1);
	ck_assert_ptr_null(p.payload);

	/* sticky until reset */
	ck_assert_int_eq(wire_parser_feed(&p, buf, 5, record, &r), -EMSGSIZE);
	ck_assert_int_eq(wire_parser_feed(&p, NULL, 0, record, &r), -EMSGSIZE);
	ck_assert_uint_eq(r.got, 1);
	ck_assert_ptr_null(p.payload);

	/* the header arriving in two pieces: refused when it completes */
	wire_parser_reset(&p);
	ck_assert_int_eq(wire_parser_feed(&p, buf + s.len, 47, record, &r), 0);
	ck_assert_int_eq(wire_parser_feed(&p, buf + s.len + 47, 1, record, &r), -EMSGSIZE);
	ck_assert_ptr_null(p.payload);

	/* usable again after reset */
	wire_parser_reset(&p);
	assert_idle(&p);
	r.got = 0;
	ck_assert_int_eq(wire_parser_feed(&p, s.buf, s.len, record, &r), 0);
	ck_assert_uint_eq(r.got, 1);
	ck_assert_uint_eq(r.bad, 0);
	stream_free(&s);
}
END_TEST

START_TEST(test_max_payload_accepted)
{
	struct wire_header h = { .len = WIRE_MAX_PAYLOAD, .sport = 4000, .dport = 5000 };
	uint8_t hdr[WIRE_HDR_LEN];
	struct wire_parser p;
	struct one_msg m = { 0 };

	wire_header_encode(&h, hdr);
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, hdr, sizeof(hdr), take_one, &m), 0);
	ck_assert_uint_eq(wire_parser_hdr_rem(&p), 0);
	ck_assert_uint_eq(wire_parser_data_rem(&p), WIRE_MAX_PAYLOAD);
	ck_assert_int_eq(m.calls, 0);
	wire_parser_reset(&p);
}
END_TEST

START_TEST(test_callback_stops)
{
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s, .stop_at = 2, .stop_ret = 42 };
	size_t second_end;

	memset(&s, 0, sizeof(s));
	stream_add(&s, &vectors[V_PROBE].h, NULL);
	stream_add(&s, &vectors[V_HELLO].h, "hello");
	stream_add(&s, &vectors[V_PONG].h, NULL);
	second_end = 2 * WIRE_HDR_LEN + 5;
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf, s.len, record, &r), 42);
	ck_assert_uint_eq(r.got, 2);
	assert_idle(&p);

	/* the caller resumes right after the message that stopped it */
	r.stop_ret = -ECONNRESET;
	r.stop_at = 3;
	ck_assert_int_eq(wire_parser_feed(&p, s.buf + second_end, s.len - second_end, record, &r),
			 -ECONNRESET);
	ck_assert_uint_eq(r.got, 3);
	assert_idle(&p);
	ck_assert_uint_eq(r.bad, 0);
	stream_free(&s);
}
END_TEST

START_TEST(test_reset_frees_partial)
{
	struct wire_header big = {
		.seq = 1, .len = WIRE_MAX_PAYLOAD, .sport = 4000, .dport = 5000
	};
	struct wire_parser p;
	struct stream s;
	struct recorder r = { .s = &s };

	memset(&s, 0, sizeof(s));
	stream_add(&s, &big, NULL);
	wire_parser_init(&p);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf, WIRE_HDR_LEN + 1000, record, &r), 0);
	ck_assert_ptr_nonnull(p.payload);
	ck_assert_uint_eq(wire_parser_data_rem(&p), WIRE_MAX_PAYLOAD - 1000);
	wire_parser_reset(&p);
	assert_idle(&p);
	ck_assert_uint_eq(p.hdr_have, 0);
	ck_assert_uint_eq(p.payload_have, 0);

	/* a reset of an idle parser is harmless, and the parser works again */
	wire_parser_reset(&p);
	ck_assert_int_eq(wire_parser_feed(&p, s.buf, s.len, record, &r), 0);
	ck_assert_uint_eq(r.got, 1);
	ck_assert_uint_eq(r.bad, 0);
	stream_free(&s);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_vector_encode, 0, NVECTORS);
	tcase_add_loop_test(tc, test_vector_decode, 0, NVECTORS);
	tcase_add_loop_test(tc, test_vector_exts, 0, NVECTORS);
	tcase_add_loop_test(tc, test_vector_parse, 0, NVECTORS);
	tcase_add_test(tc, test_hello_is_53_bytes);
	tcase_add_test(tc, test_cong_map_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_test(tc, test_header_byte_order);
	tcase_add_test(tc, test_header_extremes);
	suite_add_tcase(s, tc);

	tc = tcase_create("exts");
	tcase_add_loop_test(tc, test_ext_parse, 0, NEXT_CASES);
	tcase_add_test(tc, test_ext_old_kernel_view);
	tcase_add_test(tc, test_ext_build);
	tcase_add_test(tc, test_ext_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_duplicate);
	suite_add_tcase(s, tc);

	tc = tcase_create("cong");
	tcase_add_loop_test(tc, test_cong_bit, 0, NCONG_CASES);
	tcase_add_test(tc, test_cong_clear_keeps_neighbours);
	suite_add_tcase(s, tc);

	tc = tcase_create("parser");
	/* the split-pair and 7-byte-chunk runs take seconds under valgrind */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_parse_every_split);
	tcase_add_test(tc, test_parse_every_split_pair);
	tcase_add_test(tc, test_parse_byte_by_byte);
	tcase_add_loop_test(tc, test_parse_random_chunks, 0, NCHUNK_MAX);
	tcase_add_test(tc, test_parse_whole_large);
	tcase_add_test(tc, test_truncated_header);
	tcase_add_test(tc, test_truncated_payload);
	tcase_add_loop_test(tc, test_oversize, 0, NBAD_LEN);
	tcase_add_test(tc, test_max_payload_accepted);
	tcase_add_test(tc, test_callback_stops);
	tcase_add_test(tc, test_reset_frees_partial);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_run(wire_suite());
}
