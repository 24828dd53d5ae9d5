/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_WIRE_H
#define MPRDS_WIRE_H

/*
 * The RDS/TCP wire format (spec/wire.md §2-§5, §10, §11): the 48-byte header, the extension
 * area, message classification, congestion-map bits and a stream parser. Pure: no I/O, no
 * globals, no logging.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mprds/bufpool.h"

#define WIRE_HDR_LEN 48
#define WIRE_EXT_LEN 16
#define WIRE_MAX_PAYLOAD (1u << 20)
#define WIRE_CONG_MAP_BYTES 8192
#define WIRE_TCP_PORT 16385
#define WIRE_MAX_PATHS 8
#define WIRE_PROBE_PORT 1

/* h_flags bits (wire.md §3). */
enum {
	WIRE_FLAG_CONG_BITMAP = 0x01,
	WIRE_FLAG_ACK_REQUIRED = 0x02,
	WIRE_FLAG_RETRANSMITTED = 0x04,
	WIRE_FLAG_HB_PING = 0x08,
	WIRE_FLAG_HB_PONG = 0x10,
	WIRE_FLAG_EXTHDR_EXTENSION = 0x20
};

#define WIRE_FLAGS_KNOWN 0x3f

/* Extension types of the h_exthdr area (wire.md §4); WIRE_EXT_MAX stops the parser. */
enum {
	WIRE_EXT_NONE = 0,
	WIRE_EXT_VERSION = 1,
	WIRE_EXT_RDMA = 2,
	WIRE_EXT_RDMA_DEST = 3,
	WIRE_EXT_RDMA_BYTES = 4,
	WIRE_EXT_NPATHS = 5,
	WIRE_EXT_GEN_NUM = 6,
	WIRE_EXT_CAP_BITS = 7,
	WIRE_EXT_SPORT_IDX = 8,
	WIRE_EXT_MAX = 16
};

/* decoded header, host byte order */
struct wire_header {
	uint64_t seq, ack;
	uint32_t len;
	uint16_t sport, dport;
	uint8_t flags, credit;
	uint16_t csum;
	uint8_t ext[WIRE_EXT_LEN];
};

/* padding bytes 26..29 written 0 */
void wire_header_encode(const struct wire_header *h, uint8_t out[WIRE_HDR_LEN]);
/* padding bytes 26..29 ignored */
void wire_header_decode(const uint8_t in[WIRE_HDR_LEN], struct wire_header *h);

/* the handshake extensions we understand */
struct wire_exts {
	bool has_npaths;
	uint16_t npaths; /* raw value as sent; callers clamp (wire.md §6: min(8, n)) */
	bool has_gen_num;
	uint32_t gen_num;
	bool has_sport_idx;
	bool overrun; /* parsing stopped at a value running past byte 16 (never from a kernel) */
};

/*
 * wire.md §4 rules exactly: stop at type 0, at type >= 16, or when a value would overrun byte
 * 16; a type < 16 of unknown size counts as length 0; sizes: VERSION 4, RDMA 4, RDMA_DEST 8,
 * RDMA_BYTES 8, NPATHS 2, GEN_NUM 4, CAP_BITS 0 (mainline), SPORT_IDX 1. A type seen twice:
 * the later value wins, as in the kernel's receive loop.
 */
void wire_exts_parse(const uint8_t ext[WIRE_EXT_LEN], struct wire_exts *out);
/* order NPATHS, GEN_NUM, SPORT_IDX (SPORT_IDX last: old kernels read its 0x00 value as
 * terminator), rest zero */
void wire_exts_build(const struct wire_exts *in, uint8_t ext[WIRE_EXT_LEN]);

/* what a complete message is, before sequence/dedup processing (wire.md §5 steps 0,3,4,5) */
enum wire_kind {
	WIRE_KIND_CONG_MAP,
	WIRE_KIND_PING,
	WIRE_KIND_PROBE,
	WIRE_KIND_PROBE_PONG,
	WIRE_KIND_PING_IGNORED,
	WIRE_KIND_DATA
};

/* CONG_MAP iff flags == 0x01 exactly; dport 0 && sport 0 -> PING_IGNORED; dport 0 && sport 1
 * -> PROBE; dport 0 -> PING; dport 1 && sport 0 -> PROBE_PONG; else DATA */
enum wire_kind wire_classify(const struct wire_header *h);
/* §8: seq < next_rx_seq && RETRANSMITTED */
bool wire_is_duplicate(const struct wire_header *h, uint64_t next_rx_seq);

/* congestion map bits, §10: port p <-> byte p>>3, bit p&7, LSB first */
void wire_cong_set(uint8_t map[WIRE_CONG_MAP_BYTES], uint16_t port);
void wire_cong_clear(uint8_t map[WIRE_CONG_MAP_BYTES], uint16_t port);
bool wire_cong_test(const uint8_t map[WIRE_CONG_MAP_BYTES], uint16_t port);

/*
 * stream parser: cuts a TCP byte stream into messages however the bytes are split.
 * hdr_have < WIRE_HDR_LEN: collecting the header; else hdr is valid and payload_have of
 * hdr.len payload bytes are in payload (NULL until allocated, and when hdr.len == 0).
 */
struct wire_parser {
	uint8_t hdr_buf[WIRE_HDR_LEN];
	size_t hdr_have;
	struct wire_header hdr;
	uint8_t *payload;
	size_t payload_have;
	struct buf_pool *pool; /* where payloads come from; NULL (init) = malloc */
};

/*
 * called per complete message; payload is malloc'd (NULL when h->len == 0) and owned by the
 * callee from then on; return 0 to go on, nonzero to stop feeding (wire_parser_feed returns
 * that value). The parser is already back to "expect header" when fn runs, so fn may reset it.
 */
typedef int (*wire_message_fn)(void *ctx, const struct wire_header *h, uint8_t *payload);

void wire_parser_init(struct wire_parser *p);
/* frees a partial payload, back to "expect header" */
void wire_parser_reset(struct wire_parser *p);
/*
 * returns 0 when all n bytes were consumed, -EMSGSIZE if a header announces
 * len > WIRE_MAX_PAYLOAD, -ENOMEM, or the callback's nonzero value. On a callback stop the
 * bytes after that message are not consumed. -EMSGSIZE is sticky until wire_parser_reset();
 * after -ENOMEM a later feed retries the allocation.
 */
int wire_parser_feed(struct wire_parser *p, const uint8_t *buf, size_t n, wire_message_fn fn,
		     void *ctx);
/* bytes still expected for the message being parsed (header remainder + payload remainder),
 * for info (hdr_rem/data_rem); data_rem is 0 while the header is incomplete */
size_t wire_parser_hdr_rem(const struct wire_parser *p);
size_t wire_parser_data_rem(const struct wire_parser *p);

#endif
