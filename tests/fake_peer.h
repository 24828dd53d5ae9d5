/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TESTS_FAKE_PEER_H
#define MPRDS_TESTS_FAKE_PEER_H
/*
 * The scenes the protocol tests play on the fake transport (fake_transport.h), in one place:
 * the application's side (a bound socket sends through api_sendmsg, reads its queue) and the
 * peer's (handshake messages, data, what it reads of ours). Every state they reach, they
 * reach through the engine's functions, as a running process would.
 */
#include <stdbool.h>
#include <stdint.h>

#include "mprds/addr.h"
#include "mprds/conn.h"
#include "mprds/sock.h"

#include "fake_transport.h"

#define PEER_GEN 0x11111111u
#define PEER_GEN2 0x22222222u
#define LEGACY (-1) /* a handshake message without extensions */

/* 198.18.0.1 and .2: the smaller connects, the larger accepts (wire.md §1). */
extern struct addr a_small, a_large;

/* A fresh fake engine with npaths (fake_engine_setup), and the two addresses. */
void fake_peer_setup(int npaths);
/* The check fixture: fake_peer_setup(8); and the engine freed. */
void fake_peer_setup8(void);
void fake_peer_teardown(void);

/* A socket of ours bound to a:port. */
struct sock *bound_sock(const struct addr *a, uint16_t port);
/* As a close does: what is queued to it is freed, what it sent goes on without it. */
void free_sock(struct sock *s);
/* sendmsg(MSG_DONTWAIT) of text from s to dst:dport; it must be accepted. */
void app_send(struct sock *s, const struct addr *dst, uint16_t dport, const char *text);
/* The next message the application reads from s: its payload must be text. */
void app_reads(struct sock *s, const char *text);
/* Reads everything queued to s: how many messages. */
int app_read_all(struct sock *s);

/* A probe (sport 1) or probe pong (dport 1) with NPATHS npaths (or none: LEGACY). */
struct wire_header handshake(bool probe, uint64_t seq, int npaths, uint32_t gen, bool sport_idx);
/* The peer sends text from its port 4000 to dport on p. */
void peer_data(struct path *p, uint64_t seq, uint16_t dport, const char *text, uint8_t flags);
/* The peer reads the next message we wrote on p; there must be one. */
struct fake_msg next_msg(struct path *p);
bool is_cong_map(const struct fake_msg *m);
bool is_probe(const struct fake_msg *m);
void expect_cong_map(struct path *p);
/* The peer reads our congestion map, then our probe on path 0; returns the probe. */
struct fake_msg read_map_and_probe(struct conn *c);

/*
 * We are the smaller address and s sends the first message to the larger: path 0 connects,
 * the probe goes out, the peer answers with npaths (or LEGACY), gen and sport_idx.
 */
struct conn *handshake_as_smaller(struct sock *s, int npaths, uint32_t gen, bool sport_idx);
/*
 * We are the larger address: the smaller peer connects path 0 and probes with npaths, gen
 * and sport_idx; the peer reads what we wrote (our map, probe and pong).
 */
struct conn *handshake_as_larger(int npaths, uint32_t gen, bool sport_idx);

#endif
