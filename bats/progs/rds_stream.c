/* SPDX-License-Identifier: MIT */
/*
 * rds_stream -m send|recv [-n N] [-c M] [-s size] [-r KiB_per_s] [-t timeout_s] [-H hold_s]
 *            ADDR BASE PEER_ADDR PEER_BASE
 *
 * A stream of large messages over N sockets (default 16) bound to ADDR:BASE..BASE+N-1:
 * socket i sends M messages (default 64) of `size` bytes (default 32768, at least 16) to
 * PEER_ADDR:PEER_BASE+i (-m send), or expects exactly those from there (-m recv), checking
 * order, content, and that nothing is lost or duplicated. Messages span many TCP segments,
 * so a TCP connection that dies mid-stream leaves some half sent: tests of path failure.
 *
 * -r paces the sender: at most that many KiB per second over all sockets (default: no limit).
 * Sends are non-blocking (POLLOUT on EAGAIN; ENOBUFS from a congested peer port is retried
 * every 10 ms). Both sides print "progress sent=X recv=Y" every 250 ms while running.
 * The sender holds hold_s seconds (default 0) after its last send before it exits (a kernel
 * socket drops untransmitted messages at close) or until SIGTERM.
 *
 * Message: "STRM", be32 socket index, be32 seq, be32 size; then (i * 131 + seq * 7 + j) bytes.
 * Output: "ready ...", progress lines, "done sent=X recv=Y", "total sockets=N sent=X recv=Y
 * errors=E". Exits 0 only if every message was sent / received in order with its content.
 */
#include "rds_common.h"

#include <signal.h>

#define HDR 16

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
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

struct ssock {
	int fd;
	rds_sa peer;
	long sent, recvd;
	long long retry_at; /* ENOBUFS: next try */
};

static long errors;

static void fill(uint8_t *buf, long idx, long seq, size_t size)
{
	memcpy(buf, "STRM", 4);
	put_be32(buf + 4, (uint32_t)idx);
	put_be32(buf + 8, (uint32_t)seq);
	put_be32(buf + 12, (uint32_t)size);
	for (size_t j = HDR; j < size; j++)
		buf[j] = (uint8_t)(idx * 131 + seq * 7 + (long)j);
}

static void check(const uint8_t *buf, ssize_t n, long idx, struct ssock *s, size_t size)
{
	long seq;

	if (n < HDR || memcmp(buf, "STRM", 4) || get_be32(buf + 12) != (uint32_t)n) {
		printf("error: sock %ld: bad message (len %zd)\n", idx, n);
		errors++;
		return;
	}
	seq = (long)get_be32(buf + 8);
	if ((long)get_be32(buf + 4) != idx || seq != s->recvd || (size_t)n != size) {
		printf("error: sock %ld: got index %u seq %ld len %zd, want seq %ld len %zu (%s)\n",
		       idx, get_be32(buf + 4), seq, n, s->recvd, size,
		       seq < s->recvd ? "duplicate or reordered" : "lost messages");
		errors++;
		s->recvd = seq + 1;
		return;
	}
	for (size_t j = HDR; j < size; j++) {
		if (buf[j] != (uint8_t)(idx * 131 + seq * 7 + (long)j)) {
			printf("error: sock %ld seq %ld: content differs at %zu\n", idx, seq, j);
			errors++;
			break;
		}
	}
	s->recvd++;
}

int main(int argc, char **argv)
{
	long nsock = 16, count = 64, size = 32768, timeout_s = 60, hold_s = 0, base, peer_base;
	long rate_kib = 0;
	long long t_start;
	long total_sent = 0, total_recvd = 0;
	int do_send = -1, opt, done = 0;
	struct ssock *socks;
	struct pollfd *pfd;
	struct sigaction sa;
	long long deadline, next_progress;
	uint8_t *buf;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "m:n:c:s:r:t:H:")) != -1) {
		switch (opt) {
		case 'm':
			do_send = !strcmp(optarg, "send") ? 1 : !strcmp(optarg, "recv") ? 0 : -1;
			break;
		case 'n':
			nsock = parse_long(optarg, "N", 1, 256);
			break;
		case 'c':
			count = parse_long(optarg, "M", 1, 10000000);
			break;
		case 's':
			size = parse_long(optarg, "size", HDR, RDS_TEST_MAX_MSG);
			break;
		case 't':
			timeout_s = parse_long(optarg, "timeout_s", 1, 3600);
			break;
		case 'r':
			rate_kib = parse_long(optarg, "KiB_per_s", 1, 100000000);
			break;
		case 'H':
			hold_s = parse_long(optarg, "hold_s", 0, 3600);
			break;
		default:
			goto usage;
		}
	}
	if (do_send < 0 || argc - optind != 4)
		goto usage;
	base = parse_long(argv[optind + 1], "BASE", 1, 65535 - nsock + 1);
	peer_base = parse_long(argv[optind + 3], "PEER_BASE", 1, 65535 - nsock + 1);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	socks = calloc((size_t)nsock, sizeof(*socks));
	pfd = calloc((size_t)nsock, sizeof(*pfd));
	buf = malloc((size_t)size + 64);
	if (!socks || !pfd || !buf)
		die("out of memory");
	for (long i = 0; i < nsock; i++) {
		socks[i].fd = rds_socket(SOCK_NONBLOCK);
		/* Room for a few messages each way; the receiver's also avoids congestion. */
		rds_set_bufs(socks[i].fd, (int)(4 * size > 262144 ? 4 * size : 262144));
		rds_bind(socks[i].fd, argv[optind], base + i);
		socks[i].peer = make_addr(argv[optind + 2], peer_base + i);
	}
	printf("ready %s %s:%ld..%ld peer %s:%ld.. %ld x %ld messages of %ld bytes\n",
	       do_send ? "send" : "recv", argv[optind], base, base + nsock - 1, argv[optind + 2],
	       peer_base, nsock, count, size);

	t_start = now_ms();
	deadline = t_start + timeout_s * 1000;
	next_progress = now_ms() + 250;
	while (!stop) {
		long pending = 0;
		int timeout = 100;

		for (long i = 0; i < nsock; i++) {
			struct ssock *s = &socks[i];
			long have = do_send ? s->sent : s->recvd;

			pfd[i].fd = s->fd;
			pfd[i].revents = 0;
			pfd[i].events = do_send ? (s->retry_at ? 0 : POLLOUT) : POLLIN;
			if (do_send && s->retry_at)
				timeout = 10;
			if (have < count)
				pending++;
		}
		if (now_ms() >= next_progress) {
			total_sent = total_recvd = 0;
			for (long i = 0; i < nsock; i++) {
				total_sent += socks[i].sent;
				total_recvd += socks[i].recvd;
			}
			printf("progress sent=%ld recv=%ld\n", total_sent, total_recvd);
			next_progress = now_ms() + 250;
		}
		if (!pending) {
			done = 1;
			break;
		}
		if (now_ms() > deadline) {
			printf("error: timeout after %lds\n", timeout_s);
			errors++;
			break;
		}
		if (poll(pfd, (nfds_t)nsock, timeout) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (long i = 0; i < nsock; i++) {
			struct ssock *s = &socks[i];

			if (pfd[i].revents & (POLLERR | POLLNVAL))
				die("sock %ld: poll revents 0x%x", i, pfd[i].revents);
			if (!do_send) {
				for (int k = 0; k < 64 && (pfd[i].revents & POLLIN); k++) {
					rds_sa from;
					socklen_t fromlen;
					int trunc;
					ssize_t n = rds_recv_from(s->fd, buf, (size_t)size + 64,
								  MSG_DONTWAIT, &from, &fromlen, &trunc);

					if (n < 0 && (errno == EAGAIN || errno == EINTR))
						break;
					if (n < 0)
						die("sock %ld: recvmsg: %s", i, strerror(errno));
					if (fromlen == 0)
						continue;
					if (!same_addr(&from, &s->peer)) {
						printf("error: sock %ld: message from %s\n", i,
						       addr_str(&from));
						errors++;
						continue;
					}
					if (s->recvd >= count) {
						printf("error: sock %ld: extra message\n", i);
						errors++;
						continue;
					}
					check(buf, trunc ? -1 : n, i, s, (size_t)size);
				}
				continue;
			}
			if (s->retry_at && now_ms() < s->retry_at)
				continue;
			if (rate_kib) {
				long sent_all = 0;

				for (long j = 0; j < nsock; j++)
					sent_all += socks[j].sent;
				if ((sent_all + 1) * size / 1024 >
				    rate_kib * (now_ms() - t_start) / 1000) {
					s->retry_at = now_ms() + 10; /* over the pace: later */
					continue;
				}
			}
			s->retry_at = 0;
			for (int k = 0; k < 8 && s->sent < count; k++) {
				fill(buf, i, s->sent, (size_t)size);
				ssize_t n = sendto(s->fd, buf, (size_t)size, MSG_DONTWAIT,
						   &s->peer.sa, sa_len(&s->peer));
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (n < 0 && errno == ENOBUFS) {
					s->retry_at = now_ms() + 10;
					break;
				}
				if (n != size)
					die("sock %ld: sendto: %zd (%s)", i, n,
					    n < 0 ? strerror(errno) : "short");
				s->sent++;
			}
		}
	}
	total_sent = total_recvd = 0;
	for (long i = 0; i < nsock; i++) {
		total_sent += socks[i].sent;
		total_recvd += socks[i].recvd;
	}
	if (done) {
		printf("done sent=%ld recv=%ld\n", total_sent, total_recvd);
		for (long long end = now_ms() + hold_s * 1000; !stop && now_ms() < end;)
			usleep(50000);
	}
	printf("total sockets=%ld sent=%ld recv=%ld errors=%ld\n", nsock, total_sent, total_recvd,
	       errors);
	free(buf);
	free(pfd);
	free(socks);
	return errors || !done ? 1 : 0;

usage:
	fprintf(stderr,
		"usage: %s -m send|recv [-n N] [-c M] [-s size] [-r KiB_per_s] [-t timeout_s] [-H hold_s]\n"
		"          ADDR BASE PEER_ADDR PEER_BASE\n",
		argv[0]);
	return 2;
}
