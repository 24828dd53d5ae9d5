// SPDX-License-Identifier: MIT
/*
 * getsockopt(SOL_RDS, RDS_INFO_*) (socket-api.md §12) driven on connections and sockets made
 * without an engine thread: the length protocol (size probe, ENOSPC with the length needed,
 * what is copied when the buffer is short), the packed layouts byte by byte, and what each
 * source lists. The state shown is made as a running engine makes it: sockets through the
 * socket calls, connections and their queues through the fake transport (fake_peer.h), the
 * TCP table on a real TCP connection.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/rds.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mprds/api.h"
#include "mprds/conn.h"
#include "mprds/control.h"
#include "mprds/engine.h"
#include "mprds/info.h"
#include "mprds/sock.h"
#include "mprds/tcp_path.h"

#include "check_main.h"
#include "fake_peer.h"
#include "info_sizes.h"
#include "test_addr.h"
#include "test_engine.h"

#define NCOUNTERS 48 /* 36 core + mprds_catchup_tx0_retries + 5 TCP + 6 mprds_path_* */

static struct engine *eng;
static struct addr a_local, a_peer, a_peer2, a6_local;
static struct sock *socks[8];
static int nsocks;
static int tcp_fds[3] = { -1, -1, -1 };

static void setup(void)
{
	fake_engine_setup(8);
	eng = fake_engine;
	nsocks = 0;
	a_local = test_addr("198.18.0.1");
	a_peer = test_addr("198.18.0.2");
	a_peer2 = test_addr("198.18.0.3");
	a6_local = test_addr("2001:db8::1");
}

static void teardown(void)
{
	for (int i = 0; i < nsocks; i++) {
		int app = socks[i]->app_fd, efd = socks[i]->eng_fd;

		sock_unbind(socks[i]);
		sock_unlist(socks[i]);
		sock_put(socks[i]);
		close(app);
		close(efd);
	}
	for (int i = 0; i < 3; i++)
		if (tcp_fds[i] >= 0)
			close(tcp_fds[i]);
	tcp_fds[0] = tcp_fds[1] = tcp_fds[2] = -1;
	fake_engine_teardown();
}

/* Our path 0 to the peer comes up (we are the smaller address): it writes our map and probe. */
static struct path *path0_up(struct conn *c)
{
	struct path *p0 = &c->paths[0];

	fake_run_kicks();
	ck_assert(fake_connecting(p0));
	fake_connect_complete(p0);
	fake_run_kicks();
	return p0;
}

/* And the peer answers the probe: npaths 8, lanes filed by source port; all is acknowledged. */
static struct path *handshake_done(struct conn *c)
{
	struct wire_header pong = handshake(false, 1, 8, PEER_GEN, true);
	struct path *p0;

	conn_probe(c);
	p0 = path0_up(c);
	fake_peer_send(p0, &pong, NULL);
	fake_run_kicks();
	fake_peer_read_all(p0);
	fake_peer_ack(p0, FAKE_ACK_ALL);
	ck_assert_int_eq(c->npaths, 8);
	return p0;
}

static void send_empty(struct path *p, uint16_t sport, uint16_t dport, int n)
{
	for (int i = 0; i < n; i++)
		path_enqueue(p, msg_new(eng, sport, dport, NULL, 0));
}

/* A socket with a real fd (for the inode), bound to a:port unless a is NULL. */
static struct sock *make_sock(const struct addr *a, uint16_t port)
{
	int sv[2];
	struct sock *s;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s = sock_new(eng, sv[0], sv[1]);
	ck_assert_ptr_nonnull(s);
	if (a)
		ck_assert_int_eq(sock_bind_port(s, a, port), 0);
	socks[nsocks++] = s;
	return s;
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_ino;
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static uint16_t be16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ntohs(v);
}

static uint64_t u64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

START_TEST(struct_sizes_and_offsets_are_the_kernels)
{
	ck_assert_uint_eq(sizeof(struct rds_info_counter), 40);
	ck_assert_uint_eq(offsetof(struct rds_info_counter, value), 32);
	ck_assert_uint_eq(sizeof(struct rds_info_connection), 42);
	ck_assert_uint_eq(offsetof(struct rds_info_connection, laddr), 16);
	ck_assert_uint_eq(offsetof(struct rds_info_connection, transport), 24);
	ck_assert_uint_eq(offsetof(struct rds_info_connection, flags), 40);
	ck_assert_uint_eq(offsetof(struct rds_info_connection, tos), 41);
	ck_assert_uint_eq(sizeof(struct rds6_info_connection), 65);
	ck_assert_uint_eq(offsetof(struct rds6_info_connection, flags), 64);
	ck_assert_uint_eq(sizeof(struct rds_info_message), 26);
	ck_assert_uint_eq(offsetof(struct rds_info_message, lport), 20);
	ck_assert_uint_eq(offsetof(struct rds_info_message, tos), 25);
	ck_assert_uint_eq(sizeof(struct rds6_info_message), 50);
	ck_assert_uint_eq(offsetof(struct rds6_info_message, lport), 44);
	ck_assert_uint_eq(sizeof(struct rds_info_socket), 28);
	ck_assert_uint_eq(offsetof(struct rds_info_socket, rcvbuf), 16);
	ck_assert_uint_eq(offsetof(struct rds_info_socket, inum), 20);
	ck_assert_uint_eq(sizeof(struct rds6_info_socket), 52);
	ck_assert_uint_eq(offsetof(struct rds6_info_socket, inum), 44);
	ck_assert_uint_eq(sizeof(struct rds_info_tcp_socket), 41);
	ck_assert_uint_eq(offsetof(struct rds_info_tcp_socket, peer_addr), 6);
	ck_assert_uint_eq(offsetof(struct rds_info_tcp_socket, hdr_rem), 12);
	ck_assert_uint_eq(offsetof(struct rds_info_tcp_socket, tos), 40);
	ck_assert_uint_eq(sizeof(struct rds6_info_tcp_socket), 64);
	ck_assert_uint_eq(offsetof(struct rds6_info_tcp_socket, last_seen_una), 60);
	ck_assert_uint_eq(sizeof(struct control_path), 128);
}
END_TEST

/* Each registered source answers with its element size; the kernel's unregistered ones not. */
START_TEST(registered_sources_and_enoprotoopt)
{
	static const int unknown[] = { 10002, RDS_INFO_IB_CONNECTIONS, RDS_INFO_CONNECTION_STATS,
				       RDS_INFO_IWARP_CONNECTIONS, RDS6_INFO_IB_CONNECTIONS };
	static uint8_t buf[4096];

	for (size_t i = 0; i < sizeof(info_sizes) / sizeof(info_sizes[0]); i++) {
		socklen_t len = sizeof(buf);

		ck_assert_int_eq(info_get(eng, info_sizes[i].optname, buf, &len),
				 info_sizes[i].each);
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		socklen_t len = sizeof(buf);

		ck_assert_int_eq(info_get(eng, unknown[i], buf, &len), -ENOPROTOOPT);
		len = 0;
		ck_assert_int_eq(info_get(eng, unknown[i], NULL, &len), -ENOPROTOOPT);
	}
}
END_TEST

/* rds_info_getsockopt(): a negative length and a wrapping buffer are EINVAL, before the optname. */
START_TEST(bad_lengths_and_buffers)
{
	uint8_t buf[64];
	socklen_t len = (socklen_t)-1;

	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, buf, &len), -EINVAL);
	len = (socklen_t)-1;
	ck_assert_int_eq(info_get(eng, 10002, buf, &len), -EINVAL);
	len = 0x7fffffff;
	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, buf, &len), -EINVAL);
	len = 16;
	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, (void *)(~(uintptr_t)0 - 4), &len),
			 -EINVAL);
	len = 16;
	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, NULL, &len), -EFAULT);
}
END_TEST

START_TEST(size_probe_of_an_empty_source_succeeds)
{
	socklen_t len = 0;

	ck_assert_int_eq(info_get(eng, RDS_INFO_CONNECTIONS, NULL, &len), 42);
	ck_assert_uint_eq(len, 0);
	len = 0;
	ck_assert_int_eq(info_get(eng, RDS6_INFO_SOCKETS, NULL, &len), 52);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(counters_probe_then_fill)
{
	static uint8_t buf[NCOUNTERS * 40];
	struct conn *c = conn_get(eng, &a_local, &a_peer);
	socklen_t len = 0;
	struct path *p0 = &c->paths[0];

	send_empty(p0, 4000, 5000, 6);
	path0_up(c); /* the 6, and the probe: 7 messages sent (the map does not count) */
	peer_data(p0, 1, 5000, "m1", 0);
	for (int i = 0; i < 7; i++) /* 7 duplicates dropped */
		peer_data(p0, 1, 5000, "m1", WIRE_FLAG_RETRANSMITTED);
	ck_assert_int_eq(info_get(eng, RDS_INFO_COUNTERS, NULL, &len), -ENOSPC);
	ck_assert_uint_eq(len, NCOUNTERS * 40);
	/* too small: nothing copied */
	memset(buf, 0xaa, sizeof(buf));
	len = sizeof(buf) - 1;
	ck_assert_int_eq(info_get(eng, RDS_INFO_COUNTERS, buf, &len), -ENOSPC);
	ck_assert_uint_eq(len, NCOUNTERS * 40);
	ck_assert_uint_eq(buf[0], 0xaa);
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_COUNTERS, buf, &len), 40);
	ck_assert_uint_eq(len, NCOUNTERS * 40);
	ck_assert_str_eq((char *)buf, "conn_reset");
	ck_assert_str_eq((char *)buf + 2 * 40, "recv_drop_old_seq");
	ck_assert_uint_eq(u64_at(buf + 2 * 40 + 32), 7);
	ck_assert_str_eq((char *)buf + 35 * 40, "send_stuck_rm");
	ck_assert_str_eq((char *)buf + 36 * 40, "mprds_catchup_tx0_retries");
	ck_assert_str_eq((char *)buf + 37 * 40, "tcp_data_ready_calls");
	ck_assert_str_eq((char *)buf + 41 * 40, "tcp_listen_closed_stale");
	ck_assert_str_eq((char *)buf + 42 * 40, "mprds_path_msgs_sent");
	ck_assert_uint_eq(u64_at(buf + 42 * 40 + 32), 7);
	for (int i = 0; i < NCOUNTERS; i++)
		ck_assert_uint_eq(buf[i * 40 + 31], 0); /* every name NUL-terminated */
}
END_TEST

START_TEST(connections_layout_and_prefix_on_enospc)
{
	struct conn *c1 = conn_get(eng, &a_local, &a_peer);
	struct conn *c2 = conn_get(eng, &a_local, &a_peer2);
	uint8_t buf[2 * 42];
	socklen_t len;
	const uint8_t *e;

	send_empty(&c1->paths[0], 4000, 5000, 9);
	path0_up(c1); /* the probe is the 10th: next_tx_seq 11 */
	peer_data(&c1->paths[0], 21, 5000, "m21", 0); /* next_rx_seq 22 */
	send_empty(&c2->paths[0], 4000, 5000, 1);
	fake_run_kicks(); /* c2 connects, and the peer does not answer yet */
	ck_assert(fake_connecting(&c2->paths[0]));
	conn_get(eng, &a6_local, &a6_local); /* an IPv6 connection: not in the IPv4 table */
	len = 0;
	ck_assert_int_eq(info_get(eng, RDS_INFO_CONNECTIONS, NULL, &len), -ENOSPC);
	ck_assert_uint_eq(len, 84);
	/* room for one: the kernel copies that one, and still asks for both */
	memset(buf, 0, sizeof(buf));
	len = 42;
	ck_assert_int_eq(info_get(eng, RDS_INFO_CONNECTIONS, buf, &len), -ENOSPC);
	ck_assert_uint_eq(len, 84);
	ck_assert_uint_ne(be32_at(buf + 16), 0);
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_CONNECTIONS, buf, &len), 42);
	ck_assert_uint_eq(len, 84);
	for (int i = 0; i < 2; i++) {
		e = buf + i * 42;
		ck_assert_uint_eq(be32_at(e + 16), 0xc6120001); /* 198.18.0.1 */
		ck_assert_str_eq((const char *)e + 24, "tcp");
		ck_assert_uint_eq(e[41], 0); /* tos */
		if (be32_at(e + 20) == 0xc6120002) {
			ck_assert_uint_eq(u64_at(e), 11);
			ck_assert_uint_eq(u64_at(e + 8), 22);
			ck_assert_uint_eq(e[40], RDS_INFO_CONNECTION_FLAG_CONNECTED);
		} else {
			ck_assert_uint_eq(be32_at(e + 20), 0xc6120003);
			ck_assert_uint_eq(e[40], RDS_INFO_CONNECTION_FLAG_CONNECTING);
		}
	}
	/* the IPv6 variant lists all three, IPv4 ones v4-mapped */
	len = 0;
	ck_assert_int_eq(info_get(eng, RDS6_INFO_CONNECTIONS, NULL, &len), -ENOSPC);
	ck_assert_uint_eq(len, 3 * 65);
}
END_TEST

START_TEST(sockets_ipv4_variant_omits_unbound_but_counts_them)
{
	struct sock *bound = make_sock(&a_local, 4000);
	uint8_t buf[4 * 52];
	socklen_t len;

	struct api_sock *as = (struct api_sock *)bound; /* the application's view of it */
	struct sockaddr_storage to;
	socklen_t tolen = addr_fill(&a_peer, 4001, &to);
	int sndbuf = 50000, rcvbuf = 60000;

	make_sock(NULL, 0); /* like rds-info's own socket */
	ck_assert_int_eq(api_setsockopt(as, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	ck_assert_int_eq(api_setsockopt(as, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	ck_assert_int_eq(api_connect(as, (struct sockaddr *)&to, tolen), 0);
	len = 0;
	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, NULL, &len), -ENOSPC);
	ck_assert_uint_eq(len, 2 * 28); /* too small: the count of all sockets */
	memset(buf, 0xaa, sizeof(buf));
	len = 28;
	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, buf, &len), -ENOSPC);
	ck_assert_uint_eq(len, 56);
	ck_assert_uint_eq(buf[0], 0xaa); /* nothing copied */
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, buf, &len), 28);
	ck_assert_uint_eq(len, 28); /* only the bound one */
	ck_assert_uint_eq(u32_at(buf), 50000);
	ck_assert_uint_eq(be32_at(buf + 4), 0xc6120001);
	ck_assert_uint_eq(be32_at(buf + 8), 0xc6120002);
	ck_assert_uint_eq(be16_at(buf + 12), 4000);
	ck_assert_uint_eq(be16_at(buf + 14), 4001);
	ck_assert_uint_eq(u32_at(buf + 16), 60000);
	ck_assert_uint_eq(u64_at(buf + 20), inode_of(bound->app_fd));
}
END_TEST

START_TEST(sockets_ipv6_variant_lists_every_socket)
{
	struct sock *v6 = make_sock(&a6_local, 7000);
	uint8_t buf[4 * 52], zero[16] = { 0 };
	socklen_t len = sizeof(buf);
	int found = 0;

	make_sock(&a_local, 4000);
	make_sock(NULL, 0);
	ck_assert_int_eq(info_get(eng, RDS6_INFO_SOCKETS, buf, &len), 52);
	ck_assert_uint_eq(len, 3 * 52);
	for (int i = 0; i < 3; i++) {
		const uint8_t *e = buf + i * 52;

		if (be16_at(e + 36) == 7000) {
			ck_assert_mem_eq(e + 4, &v6->bound_addr.ip, 16);
			found++;
		} else if (be16_at(e + 36) == 0) {
			ck_assert_mem_eq(e + 4, zero, 16); /* unbound: :: */
			found++;
		} else {
			ck_assert_uint_eq(be16_at(e + 36), 4000);
			ck_assert_uint_eq(e[4 + 10], 0xff); /* v4-mapped */
			found++;
		}
		ck_assert_uint_eq(u32_at(e), 212992 / 2);
	}
	ck_assert_int_eq(found, 3);
	/* an IPv6-bound socket is no IPv4 socket */
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_SOCKETS, buf, &len), 28);
	ck_assert_uint_eq(len, 28);
}
END_TEST

START_TEST(send_retrans_and_recv_queues)
{
	struct conn *c = conn_get(eng, &a_local, &a_peer);
	make_sock(&a_local, 4000); /* receives */
	struct wire_header h = { .seq = 9, .len = 33, .sport = 6000, .dport = 4000 };
	static const uint8_t payload[33];
	uint8_t buf[4 * 26];
	socklen_t len;
	struct path *p0 = handshake_done(c); /* the probe was seq 1 on path 0 */

	send_empty(&c->paths[3], 4000, 5000, 1); /* seq 1 on lane 3, still connecting */
	path_enqueue(p0, msg_new(eng, 4000, 5001, calloc(1, 100), 100)); /* seq 2 on path 0 */
	fake_run_kicks(); /* written, not acknowledged */
	fake_peer_send(p0, &h, payload); /* to the socket */

	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_SEND_MESSAGES, buf, &len), 26);
	ck_assert_uint_eq(len, 26);
	ck_assert_uint_eq(u64_at(buf), 1);
	ck_assert_uint_eq(u32_at(buf + 8), 0);
	ck_assert_uint_eq(be32_at(buf + 12), 0xc6120001);
	ck_assert_uint_eq(be32_at(buf + 16), 0xc6120002);
	ck_assert_uint_eq(be16_at(buf + 20), 4000); /* lport = h_sport */
	ck_assert_uint_eq(be16_at(buf + 22), 5000);
	ck_assert_uint_eq(buf[24], 0);

	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_RETRANS_MESSAGES, buf, &len), 26);
	ck_assert_uint_eq(len, 26);
	ck_assert_uint_eq(u64_at(buf), 2);
	ck_assert_uint_eq(u32_at(buf + 8), 100);
	ck_assert_uint_eq(be16_at(buf + 22), 5001);

	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_RECV_MESSAGES, buf, &len), 26);
	ck_assert_uint_eq(len, 26);
	ck_assert_uint_eq(u64_at(buf), 9);
	ck_assert_uint_eq(u32_at(buf + 8), 33);
	ck_assert_uint_eq(be32_at(buf + 12), 0xc6120001); /* laddr: the socket's */
	ck_assert_uint_eq(be32_at(buf + 16), 0xc6120002);
	ck_assert_uint_eq(be16_at(buf + 20), 4000); /* lport = h_dport */
	ck_assert_uint_eq(be16_at(buf + 22), 6000);

	/* the IPv6 variant: 50-byte entries with the same content */
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS6_INFO_RECV_MESSAGES, buf, &len), 50);
	ck_assert_uint_eq(len, 50);
	ck_assert_uint_eq(be16_at(buf + 44), 4000);
	ck_assert_uint_eq(be16_at(buf + 46), 6000);

	/* a short buffer gets the first messages and the length of all */
	send_empty(&c->paths[1], 4001, 5000, 1);
	memset(buf, 0, sizeof(buf));
	len = 26;
	ck_assert_int_eq(info_get(eng, RDS_INFO_SEND_MESSAGES, buf, &len), -ENOSPC);
	ck_assert_uint_eq(len, 52);
	ck_assert_uint_ne(be32_at(buf + 12), 0);
}
END_TEST

/* A real loopback TCP connection stands in for an established path. */
static void tcp_pair(int fds[3], uint16_t *lport, uint16_t *fport)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(sin);

	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fds[0], 0);
	ck_assert_int_eq(bind(fds[0], (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fds[0], 1), 0);
	ck_assert_int_eq(getsockname(fds[0], (struct sockaddr *)&sin, &len), 0);
	*fport = ntohs(sin.sin_port);
	fds[1] = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fds[1], (struct sockaddr *)&sin, sizeof(sin)), 0);
	fds[2] = accept(fds[0], NULL, NULL);
	ck_assert_int_ge(fds[2], 0);
	len = sizeof(sin);
	ck_assert_int_eq(getsockname(fds[1], (struct sockaddr *)&sin, &len), 0);
	*lport = ntohs(sin.sin_port);
}

START_TEST(tcp_sockets_list_established_paths)
{
	struct engine *tcp = test_engine_new(), *eng = tcp; /* the TCP transport's */
	struct conn *c = conn_get(tcp, &a_local, &a_peer);
	uint8_t buf[2 * 64];
	uint16_t lport, fport;
	socklen_t len;
	int sv[2];

	tcp_pair(tcp_fds, &lport, &fport);
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_TCP_SOCKETS, buf, &len), 41);
	ck_assert_uint_eq(len, 0);
	/* path 0 up first takes our map (and probe), then ends: only path 2 is listed */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(tcp_path_attach(&c->paths[0], sv[0]), 0);
	ck_assert_int_eq(tcp_path_attach(&c->paths[2], tcp_fds[1]), 0);
	tcp_fds[1] = -1; /* the engine's now */
	path_service(&c->paths[0]);
	path_abort(&c->paths[0], "test");
	close(sv[1]);
	/* 1000 bytes written on path 2 */
	path_enqueue(&c->paths[2],
		     msg_new(tcp, 4000, 5000, calloc(1, 1000 - WIRE_HDR_LEN), 1000 - WIRE_HDR_LEN));
	path_service(&c->paths[2]);
	len = 40;
	memset(buf, 0xaa, sizeof(buf));
	ck_assert_int_eq(info_get(eng, RDS_INFO_TCP_SOCKETS, buf, &len), -ENOSPC);
	ck_assert_uint_eq(len, 41);
	ck_assert_uint_eq(buf[0], 0xaa);
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS_INFO_TCP_SOCKETS, buf, &len), 41);
	ck_assert_uint_eq(len, 41);
	ck_assert_uint_eq(be32_at(buf), 0x7f000001);
	ck_assert_uint_eq(be16_at(buf + 4), lport);
	ck_assert_uint_eq(be32_at(buf + 6), 0x7f000001);
	ck_assert_uint_eq(be16_at(buf + 10), fport);
	ck_assert_uint_eq(u64_at(buf + 12), 48); /* idle: a whole header to go */
	ck_assert_uint_eq(u64_at(buf + 20), 0);
	ck_assert_uint_eq(u32_at(buf + 28), 1000);
	len = sizeof(buf);
	ck_assert_int_eq(info_get(eng, RDS6_INFO_TCP_SOCKETS, buf, &len), 64);
	ck_assert_uint_eq(len, 64);
	ck_assert_uint_eq(be16_at(buf + 16), lport);
	engine_free(tcp);
}
END_TEST

START_TEST(paths_of_each_connection)
{
	struct conn *c = conn_get(eng, &a_local, &a_peer);
	uint8_t buf[8 * 128];
	struct control_path cp;
	socklen_t len = sizeof(buf);

	ck_assert_int_eq(info_paths(eng, buf, &len), 128);
	ck_assert_uint_eq(len, 128); /* before the handshake: path 0 */
	handshake_done(c);
	fake_connect_complete(&c->paths[6]);
	send_empty(&c->paths[6], 4000, 5000, 5);
	fake_run_kicks();
	ck_assert_int_eq(fake_peer_read_all(&c->paths[6]), 5);
	fake_peer_close(&c->paths[6]); /* and it went down */
	len = 0;
	ck_assert_int_eq(info_paths(eng, NULL, &len), -ENOSPC);
	ck_assert_uint_eq(len, 8 * 128);
	len = sizeof(buf);
	ck_assert_int_eq(info_paths(eng, buf, &len), 128);
	ck_assert_uint_eq(len, 8 * 128);
	memcpy(&cp, buf + 6 * 128, sizeof(cp));
	ck_assert_uint_eq(cp.index, 6);
	ck_assert_uint_eq(cp.npaths, 8);
	ck_assert_uint_eq(cp.state, CONTROL_PATH_DOWN);
	ck_assert_uint_eq(cp.msgs_tx, 5);
	ck_assert_uint_eq(cp.flags, CONTROL_PATH_ACTIVE); /* 198.18.0.1 < .2 */
	ck_assert_mem_eq(cp.laddr, &a_local.ip, 16);
	len = sizeof(buf);
	ck_assert_int_eq(info_process(eng, buf, &len), (int)sizeof(struct control_process));
	ck_assert_uint_eq(len, sizeof(struct control_process));
	ck_assert_uint_eq(u32_at(buf), (uint32_t)getpid());
	ck_assert_uint_eq(u32_at(buf + 4), 8);
	ck_assert_uint_eq(u32_at(buf + 20), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("info");
	TCase *tc = check_tcase(s, "rds_info", setup, teardown);

	tcase_add_test(tc, struct_sizes_and_offsets_are_the_kernels);
	tcase_add_test(tc, registered_sources_and_enoprotoopt);
	tcase_add_test(tc, bad_lengths_and_buffers);
	tcase_add_test(tc, size_probe_of_an_empty_source_succeeds);
	tcase_add_test(tc, counters_probe_then_fill);
	tcase_add_test(tc, connections_layout_and_prefix_on_enospc);
	tcase_add_test(tc, sockets_ipv4_variant_omits_unbound_but_counts_them);
	tcase_add_test(tc, sockets_ipv6_variant_lists_every_socket);
	tcase_add_test(tc, send_retrans_and_recv_queues);
	tcase_add_test(tc, tcp_sockets_list_established_paths);
	tcase_add_test(tc, paths_of_each_connection);
	return check_run(s);
}
