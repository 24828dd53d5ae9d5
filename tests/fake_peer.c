// SPDX-License-Identifier: MIT
/* The scenes of fake_peer.h. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/api.h"
#include "mprds/engine.h"

#include "fake_peer.h"
#include "test_addr.h"

struct addr a_small, a_large;

void fake_peer_setup(int npaths)
{
	fake_engine_setup(npaths);
	a_small = test_addr("198.18.0.1");
	a_large = test_addr("198.18.0.2");
}

void fake_peer_setup8(void)
{
	fake_peer_setup(8);
}

/* Every test ends with nothing left for the loop: no kicked path, no timeout armed. */
void fake_peer_teardown(void)
{
	fake_engine_teardown();
	ck_assert(fake_engine_idle());
}

struct sock *bound_sock(const struct addr *a, uint16_t port)
{
	struct sock *s = sock_new(fake_engine, -1, -1);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sock_bind_port(s, a, port), 0);
	return s;
}

void free_sock(struct sock *s)
{
	struct msg *m;

	while ((m = sock_rx_take(s, false)))
		msg_free(m);
	conn_forget_sender(s);
	sock_cong_release(s);
	sock_unbind(s);
	sock_put(s);
}

void app_send(struct sock *s, const struct addr *dst, uint16_t dport, const char *text)
{
	struct sockaddr_storage to;
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = { .msg_name = &to, .msg_iov = &iov, .msg_iovlen = 1 };

	msg.msg_namelen = addr_fill(dst, dport, &to);
	/* struct api_sock is the application's view of a struct sock (sock.h) */
	ck_assert_int_eq(api_sendmsg((struct api_sock *)s, &msg, MSG_DONTWAIT),
			 (ssize_t)iov.iov_len);
}

void app_reads(struct sock *s, const char *text)
{
	struct msg *m = sock_rx_take(s, false);

	ck_assert_msg(m != NULL, "expected \"%s\", the queue is empty", text);
	ck_assert_uint_eq(m->h.len, strlen(text));
	ck_assert_mem_eq(m->data, text, m->h.len);
	msg_free(m);
}

int app_read_all(struct sock *s)
{
	struct msg *m;
	int n = 0;

	while ((m = sock_rx_take(s, false))) {
		msg_free(m);
		n++;
	}
	return n;
}

struct wire_header handshake(bool probe, uint64_t seq, int npaths, uint32_t gen, bool sport_idx)
{
	struct wire_header h = { .seq = seq };
	struct wire_exts ex = { .has_npaths = true,
				.npaths = (uint16_t)npaths,
				.has_gen_num = gen != 0,
				.gen_num = gen,
				.has_sport_idx = sport_idx };

	if (probe)
		h.sport = WIRE_PROBE_PORT;
	else
		h.dport = WIRE_PROBE_PORT;
	if (npaths != LEGACY)
		wire_exts_build(&ex, h.ext);
	return h;
}

void peer_data(struct path *p, uint64_t seq, uint16_t dport, const char *text, uint8_t flags)
{
	struct wire_header h = { .seq = seq,
				 .len = (uint32_t)strlen(text),
				 .sport = 4000,
				 .dport = dport,
				 .flags = flags };

	fake_peer_send(p, &h, text);
}

struct fake_msg next_msg(struct path *p)
{
	struct fake_msg m;

	ck_assert_msg(fake_peer_next(p, &m), "path %d: nothing (more) written", p->index);
	return m;
}

bool is_cong_map(const struct fake_msg *m)
{
	return m->h.flags == WIRE_FLAG_CONG_BITMAP && m->h.len == WIRE_CONG_MAP_BYTES;
}

bool is_probe(const struct fake_msg *m)
{
	return m->h.sport == WIRE_PROBE_PORT && m->h.dport == 0;
}

void expect_cong_map(struct path *p)
{
	struct fake_msg m = next_msg(p);

	ck_assert_msg(is_cong_map(&m), "path %d: a congestion map expected (flags %#x len %u)",
		      p->index, m.h.flags, m.h.len);
}

struct fake_msg read_map_and_probe(struct conn *c)
{
	struct fake_msg m = next_msg(&c->paths[0]);

	ck_assert_msg(is_cong_map(&m), "a path up sends our congestion map first (§9)");
	m = next_msg(&c->paths[0]);
	ck_assert_msg(is_probe(&m), "then the probe (sport %u dport %u)", m.h.sport, m.h.dport);
	return m;
}

struct conn *handshake_as_smaller(struct sock *s, int npaths, uint32_t gen, bool sport_idx)
{
	struct conn *c;
	struct wire_header pong;

	app_send(s, &a_large, 5000, "first");
	c = conn_find(fake_engine, &a_small, &a_large);
	ck_assert_ptr_nonnull(c);
	fake_run_kicks();
	ck_assert(fake_connecting(&c->paths[0]));
	fake_connect_complete(&c->paths[0]);
	ck_assert_int_eq(c->paths[0].state, PATH_UP);
	read_map_and_probe(c);
	pong = handshake(false, 1, npaths, gen, sport_idx);
	fake_peer_send(&c->paths[0], &pong, NULL);
	fake_run_kicks();
	return c;
}

struct conn *handshake_as_larger(int npaths, uint32_t gen, bool sport_idx)
{
	struct conn *c = conn_accept_get(fake_engine, &a_large, &a_small);
	struct wire_header probe = handshake(true, 1, npaths, gen, sport_idx);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(fake_accept(&c->paths[0]), 0);
	fake_peer_send(&c->paths[0], &probe, NULL);
	fake_run_kicks();
	fake_peer_read_all(&c->paths[0]);
	return c;
}
