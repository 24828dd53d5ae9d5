/* SPDX-License-Identifier: MIT */
/*
 * Congestion (wire.md §10) between two plain RDS programs:
 *
 * rds_congest sink [-r rcvbuf] [-H hold_s] [-t timeout_s] ADDR PORT
 *     Binds ADDR:PORT with SO_RCVBUF rcvbuf (default 32768) and does not read for hold_s
 *     seconds (default 30) or until SIGUSR1, so that its queue passes rcvbuf and the port is
 *     marked congested. Then it reads everything until the flooder's end message (or nothing
 *     for timeout_s, default 20), checking that the sequence numbers run 0, 1, 2, ... with
 *     the right content: nothing lost, duplicated or reordered.
 *     Output: "ready ADDR:PORT", "draining after Xs (signal|time)", "received N messages in
 *     order, end seen".
 *
 * rds_congest flood [-s size] [-n max] [-t timeout_s] ADDR PORT PEER_ADDR PEER_PORT
 *     Non-blocking socket. Sends messages of size bytes (default 4096) to the peer until a
 *     send fails with ENOBUFS (the peer's congestion map marks the port), waiting for POLLOUT
 *     on EAGAIN. Then retries the refused message every 20 ms until the port is uncongested
 *     again and sends an end message. Gives up after max messages (default 20000) or
 *     timeout_s seconds (default 30) without ENOBUFS: then it still sends the end message and
 *     exits 1.
 *     Output: "ENOBUFS after N messages (T ms)", "resumed after T ms", "sent N messages".
 *
 * Message: "CONG", be32 seq, be32 flags (1 = end), be32 length; then pattern bytes.
 */
#include "rds_common.h"

#include <signal.h>

#define HDR 16

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t body_byte(uint32_t seq, size_t j)
{
	return (uint8_t)(seq * 31 + j * 3 + 5);
}

static size_t build(uint8_t *buf, uint32_t seq, uint32_t flags, size_t size)
{
	if (size < HDR)
		size = HDR;
	memcpy(buf, "CONG", 4);
	put_be32(buf + 4, seq);
	put_be32(buf + 8, flags);
	put_be32(buf + 12, (uint32_t)size);
	for (size_t j = HDR; j < size; j++)
		buf[j] = body_byte(seq, j);
	return size;
}

static int sink(int argc, char **argv)
{
	long rcvbuf = 32768, hold_s = 30, timeout_s = 20, got = 0;
	struct sigaction sa;
	long long t0;
	uint8_t *buf;
	int fd, opt, end = 0, bad = 0;

	while ((opt = getopt(argc, argv, "r:H:t:")) != -1) {
		switch (opt) {
		case 'r':
			rcvbuf = parse_long(optarg, "rcvbuf", 1024, 1 << 24);
			break;
		case 'H':
			hold_s = parse_long(optarg, "hold_s", 0, 3600);
			break;
		case 't':
			timeout_s = parse_long(optarg, "timeout_s", 1, 3600);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	buf = malloc(RDS_TEST_MAX_MSG);
	if (!buf)
		die("out of memory");
	fd = rds_socket(0);
	int v = (int)rcvbuf;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
		die("SO_RCVBUF %d: %s", v, strerror(errno));
	rds_bind(fd, argv[optind], parse_long(argv[optind + 1], "port", 1, 65535));
	printf("ready %s:%s rcvbuf %ld\n", argv[optind], argv[optind + 1], rcvbuf);
	t0 = now_ms();
	while (!usr1 && now_ms() - t0 < hold_s * 1000)
		usleep(20000);
	printf("draining after %.1fs (%s)\n", (double)(now_ms() - t0) / 1000,
	       usr1 ? "signal" : "time");
	while (!end) {
		rds_sa from;
		socklen_t fromlen;
		int trunc;
		ssize_t n;

		if (!(wait_fd(fd, POLLIN, (int)timeout_s * 1000) & POLLIN)) {
			printf("error: nothing for %lds after %ld messages, no end message\n",
			       timeout_s, got);
			return 1;
		}
		n = rds_recv_from(fd, buf, RDS_TEST_MAX_MSG, MSG_DONTWAIT, &from, &fromlen,
				  &trunc);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			die("recvmsg: %s", strerror(errno));
		if (fromlen == 0)
			continue;
		if (n < HDR || memcmp(buf, "CONG", 4) || get_be32(buf + 12) != (uint32_t)n) {
			printf("error: bad message len %zd from %s\n", n, addr_str(&from));
			bad++;
			continue;
		}
		uint32_t seq = get_be32(buf + 4);
		if (seq != (uint32_t)got) {
			printf("error: got seq %u, want %ld (%s)\n", seq, got,
			       seq < (uint32_t)got ? "duplicate/reordered" : "lost");
			bad++;
			got = seq;
		}
		for (size_t j = HDR; j < (size_t)n; j++) {
			if (buf[j] != body_byte(seq, j)) {
				printf("error: seq %u: content differs at %zu\n", seq, j);
				bad++;
				break;
			}
		}
		if (get_be32(buf + 8) & 1)
			end = 1;
		else
			got++;
		if (bad > 20)
			break;
	}
	printf("received %ld messages %s, end seen\n", got, bad ? "WITH ERRORS" : "in order");
	free(buf);
	return bad ? 1 : 0;
}

/* Sends one message, retrying EAGAIN after POLLOUT; returns 0 or the failing errno. */
static int send_one(int fd, const rds_sa *peer, const uint8_t *buf, size_t len, long long deadline)
{
	for (;;) {
		ssize_t n = sendto(fd, buf, len, 0, &peer->sa, sa_len(peer));

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			die("sendto returned %zd, want %zu", n, len);
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return errno;
		if (now_ms() > deadline)
			return ETIMEDOUT;
		wait_fd(fd, POLLOUT, 50);
	}
}

static int flood(int argc, char **argv)
{
	long size = 4096, max = 20000, timeout_s = 30;
	rds_sa peer;
	long long t0, deadline, t_nobufs = -1, t_resumed = -1;
	uint32_t seq = 0;
	uint8_t *buf;
	size_t len;
	int fd, opt, e, rc = 0;

	while ((opt = getopt(argc, argv, "s:n:t:")) != -1) {
		switch (opt) {
		case 's':
			size = parse_long(optarg, "size", HDR, 1 << 20);
			break;
		case 'n':
			max = parse_long(optarg, "max", 1, 100000000);
			break;
		case 't':
			timeout_s = parse_long(optarg, "timeout_s", 1, 3600);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 4)
		return 2;
	buf = malloc((size_t)size);
	if (!buf)
		die("out of memory");
	peer = make_addr(argv[optind + 2], parse_long(argv[optind + 3], "peer port", 1, 65535));
	fd = rds_socket(SOCK_NONBLOCK);
	rds_bind(fd, argv[optind], parse_long(argv[optind + 1], "port", 1, 65535));
	printf("flooding %s with %ld-byte messages\n", addr_str(&peer), size);
	t0 = now_ms();
	deadline = t0 + timeout_s * 1000;
	while ((long)seq < max) {
		len = build(buf, seq, 0, (size_t)size);
		e = send_one(fd, &peer, buf, len, deadline);
		if (e == 0) {
			seq++;
			continue;
		}
		if (e == ENOBUFS) {
			t_nobufs = now_ms();
			printf("ENOBUFS after %u messages (%lld ms)\n", seq, t_nobufs - t0);
			break;
		}
		if (e == ETIMEDOUT)
			break;
		die("sendto seq %u: %s", seq, strerror(e));
	}
	if (t_nobufs < 0) {
		printf("error: no ENOBUFS after %u messages in %lld ms\n", seq, now_ms() - t0);
		rc = 1;
	} else {
		/* Retry the refused message until the peer's map clears the port. */
		deadline = now_ms() + timeout_s * 1000;
		for (;;) {
			e = send_one(fd, &peer, buf, len, deadline);
			if (e == 0) {
				seq++;
				t_resumed = now_ms();
				printf("resumed after %lld ms\n", t_resumed - t_nobufs);
				break;
			}
			if (e != ENOBUFS || now_ms() > deadline) {
				printf("error: still %s after %lld ms\n", strerror(e),
				       now_ms() - t_nobufs);
				rc = 1;
				break;
			}
			usleep(20000);
		}
	}
	/* The end message, also after a failure so that the sink stops. */
	len = build(buf, seq, 1, HDR);
	deadline = now_ms() + timeout_s * 1000;
	for (;;) {
		e = send_one(fd, &peer, buf, len, deadline);
		if (e == 0 || e != ENOBUFS || now_ms() > deadline)
			break;
		usleep(20000);
	}
	if (e)
		printf("error: end message: %s\n", strerror(e));
	printf("sent %u messages\n", seq);
	/*
	 * No close(): under mprds, exit lets queued messages go out (socket-api.md §8); the
	 * kernel drops a socket's untransmitted messages at close, so give it a moment first.
	 */
	usleep(500000);
	free(buf);
	return rc || e ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return sink(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "flood"))
		return flood(argc - 1, argv + 1);
	fprintf(stderr,
		"usage: %s sink [-r rcvbuf] [-H hold_s] [-t timeout_s] ADDR PORT\n"
		"       %s flood [-s size] [-n max] [-t timeout_s] ADDR PORT PEER_ADDR PEER_PORT\n",
		argv[0], argv[0]);
	return 2;
}
