/* SPDX-License-Identifier: MIT */
/*
 * rds_multi [-m send|recv|both] [-n N] [-c M] [-W] [-H hold_s] [-t timeout_s]
 *           ADDR BASE PEER_ADDR PEER_BASE
 *
 * Opens N RDS sockets (default 16) bound to ADDR:BASE .. ADDR:BASE+N-1. Socket i sends M
 * messages (default 100) to PEER_ADDR:PEER_BASE+i and/or expects M messages from exactly that
 * peer port, checking source, order and content. One poll() loop serves all sockets; sends
 * are non-blocking (MSG_DONTWAIT) so that two instances in "both" mode never deadlock.
 *
 * Message i/seq: 16-byte header (big-endian) "MPRD", index i, seq, total length; then
 * payload bytes (i * 131 + seq * 7 + j) & 0xff. Total length 16 + (i * 7 + seq * 13) % 241.
 * tools/demo_peer.py speaks the same format.
 *
 * -W  (both mode) socket i starts sending only after its first message arrived: start the
 *     -W instance first, then the other; then no message reaches an unbound peer port.
 * -H  after the exchange, stay alive up to hold_s seconds (still receiving; any extra message
 *     is an error) or until SIGTERM / SIGINT / SIGUSR1: tests look at the TCP paths meanwhile.
 * -t  bound on the exchange (default 30 s).
 *
 * Output: "ready ...", "done sent=X recv=Y", then per socket "sock I port P -> PEER:PP sent S
 * recv R" and "total sockets=N sent=X recv=Y errors=E". Exit 0 only if everything checked.
 */
#include "rds_common.h"

#include <signal.h>

#define HDR_LEN 16
#define MAX_SOCKS 1024
#define MAX_LEN (HDR_LEN + 240)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct msock {
	int fd;
	rds_sa local, peer;
	long sent, recvd;
	int nobufs; /* last send hit ENOBUFS (peer port congested): retry on a timer */
};

static long errors;

static size_t msg_len(long idx, long seq)
{
	return HDR_LEN + (size_t)((idx * 7 + seq * 13) % 241);
}

static uint8_t payload_byte(long idx, long seq, size_t j)
{
	return (uint8_t)(idx * 131 + seq * 7 + (long)j);
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

static void error_msg(long idx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void error_msg(long idx, const char *fmt, ...)
{
	va_list ap;

	errors++;
	if (errors > 20)
		return; /* the count in the summary says the rest */
	printf("error: sock %ld: ", idx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Sends as many of socket i's remaining messages as the socket takes now. */
static void send_some(struct msock *s, long idx, long count)
{
	uint8_t buf[MAX_LEN];

	s->nobufs = 0;
	for (int burst = 0; burst < 64 && s->sent < count; burst++) {
		size_t len = msg_len(idx, s->sent);
		ssize_t n;

		memcpy(buf, "MPRD", 4);
		put_be32(buf + 4, (uint32_t)idx);
		put_be32(buf + 8, (uint32_t)s->sent);
		put_be32(buf + 12, (uint32_t)len);
		for (size_t j = HDR_LEN; j < len; j++)
			buf[j] = payload_byte(idx, s->sent, j - HDR_LEN);
		n = sendto(s->fd, buf, len, MSG_DONTWAIT, &s->peer.sa, sa_len(&s->peer));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (errno == ENOBUFS) {
				s->nobufs = 1;
				return;
			}
			die("sock %ld: sendto %s: %s", idx, addr_str(&s->peer), strerror(errno));
		}
		if ((size_t)n != len)
			die("sock %ld: sendto returned %zd, want %zu", idx, n, len);
		s->sent++;
	}
}

/* Receives what is queued on socket i (bounded per call) and checks each message. */
static void recv_some(struct msock *s, long idx, long count)
{
	uint8_t buf[MAX_LEN + 64];

	for (int burst = 0; burst < 256; burst++) {
		rds_sa from;
		socklen_t fromlen;
		int trunc;
		ssize_t n = rds_recv_from(s->fd, buf, sizeof(buf), MSG_DONTWAIT, &from, &fromlen,
					  &trunc);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			die("sock %ld: recvmsg: %s", idx, strerror(errno));
		}
		if (fromlen == 0)
			continue; /* a notification, not a message */
		if (fromlen != sa_len(&from) || !same_addr(&from, &s->peer)) {
			error_msg(idx, "message from %s (namelen %u), want %s", addr_str(&from),
				  (unsigned)fromlen, addr_str(&s->peer));
			continue;
		}
		if (s->recvd >= count) {
			error_msg(idx, "extra message (already got %ld)", s->recvd);
			continue;
		}
		if (trunc || n < HDR_LEN || memcmp(buf, "MPRD", 4) != 0) {
			error_msg(idx, "bad message: len %zd trunc %d", n, trunc);
			continue;
		}
		long ridx = (long)get_be32(buf + 4), rseq = (long)get_be32(buf + 8);
		size_t rlen = get_be32(buf + 12);

		if (ridx != idx || rseq != s->recvd) {
			error_msg(idx, "got index %ld seq %ld, want index %ld seq %ld (order)",
				  ridx, rseq, idx, s->recvd);
			s->recvd++;
			continue;
		}
		if (rlen != (size_t)n || rlen != msg_len(idx, rseq)) {
			error_msg(idx, "seq %ld: length %zd, header says %zu, want %zu", rseq, n,
				  rlen, msg_len(idx, rseq));
		} else {
			for (size_t j = HDR_LEN; j < rlen; j++) {
				if (buf[j] != payload_byte(idx, rseq, j - HDR_LEN)) {
					error_msg(idx, "seq %ld: content differs at byte %zu", rseq,
						  j);
					break;
				}
			}
		}
		s->recvd++;
	}
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-m send|recv|both] [-n N] [-c M] [-W] [-H hold_s] [-t timeout_s]\n"
		"          ADDR BASE PEER_ADDR PEER_BASE\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	int do_send = 1, do_recv = 1, wait_first = 0, opt;
	long nsock = 16, count = 100, hold_s = 0, timeout_s = 30, base, peer_base;
	struct msock *socks;
	struct pollfd *pfd;
	struct sigaction sa;
	long long deadline;
	long total_sent = 0, total_recvd = 0;
	int done = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "m:n:c:WH:t:")) != -1) {
		switch (opt) {
		case 'm':
			do_send = !strcmp(optarg, "send") || !strcmp(optarg, "both");
			do_recv = !strcmp(optarg, "recv") || !strcmp(optarg, "both");
			if (!do_send && !do_recv)
				usage(argv[0]);
			break;
		case 'n':
			nsock = parse_long(optarg, "N", 1, MAX_SOCKS);
			break;
		case 'c':
			count = parse_long(optarg, "M", 0, 10000000);
			break;
		case 'W':
			wait_first = 1;
			break;
		case 'H':
			hold_s = parse_long(optarg, "hold_s", 0, 3600);
			break;
		case 't':
			timeout_s = parse_long(optarg, "timeout_s", 1, 3600);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (argc - optind != 4)
		usage(argv[0]);
	if (wait_first && !(do_send && do_recv))
		die("-W needs -m both");
	base = parse_long(argv[optind + 1], "BASE", 2, 65535);
	peer_base = parse_long(argv[optind + 3], "PEER_BASE", 2, 65535);
	if (base + nsock - 1 > 65535 || peer_base + nsock - 1 > 65535)
		die("port range past 65535");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	socks = calloc((size_t)nsock, sizeof(*socks));
	pfd = calloc((size_t)nsock, sizeof(*pfd));
	if (!socks || !pfd)
		die("out of memory");
	for (long i = 0; i < nsock; i++) {
		struct msock *s = &socks[i];

		s->fd = rds_socket(SOCK_NONBLOCK);
		s->local = make_addr(argv[optind], base + i);
		s->peer = make_addr(argv[optind + 2], peer_base + i);
		if (bind(s->fd, &s->local.sa, sa_len(&s->local)) < 0)
			die("bind %s: %s", addr_str(&s->local), strerror(errno));
	}
	printf("ready addr=%s ports=%ld..%ld peer=%s ports=%ld..%ld mode=%s%s count=%ld\n",
	       argv[optind], base, base + nsock - 1, argv[optind + 2], peer_base,
	       peer_base + nsock - 1,
	       do_send && do_recv ? "both" :
	       do_send		  ? "send" :
				    "recv",
	       wait_first ? " (waits for the peer first)" : "", count);

	deadline = now_ms() + timeout_s * 1000;
	while (!stop) {
		int timeout = 100;
		long pending_send = 0, pending_recv = 0;

		for (long i = 0; i < nsock; i++) {
			struct msock *s = &socks[i];
			int may_send = do_send && s->sent < count && (!wait_first || s->recvd > 0);

			pfd[i].fd = s->fd;
			pfd[i].events = 0;
			pfd[i].revents = 0;
			if (do_recv)
				pfd[i].events |= POLLIN;
			if (may_send && !s->nobufs)
				pfd[i].events |= POLLOUT;
			if (may_send && s->nobufs)
				timeout = 10;
			if (do_send && s->sent < count)
				pending_send++;
			if (do_recv && s->recvd < count)
				pending_recv++;
		}
		if (!pending_send && !pending_recv) {
			done = 1;
			break;
		}
		if (now_ms() > deadline) {
			printf("error: timeout after %lds: %ld sockets still sending, %ld still "
			       "receiving\n",
			       timeout_s, pending_send, pending_recv);
			for (long i = 0; i < nsock; i++)
				printf("  sock %ld sent %ld recv %ld\n", i, socks[i].sent,
				       socks[i].recvd);
			errors++;
			break;
		}
		int n = poll(pfd, (nfds_t)nsock, timeout);

		if (n < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (long i = 0; i < nsock; i++) {
			struct msock *s = &socks[i];

			if (n > 0 && (pfd[i].revents & POLLIN))
				recv_some(s, i, count);
			if (n > 0 && (pfd[i].revents & (POLLERR | POLLNVAL)))
				die("sock %ld: poll revents 0x%x", i, pfd[i].revents);
			if (do_send && s->sent < count && (!wait_first || s->recvd > 0))
				send_some(s, i, count);
		}
	}

	for (long i = 0; i < nsock; i++) {
		total_sent += socks[i].sent;
		total_recvd += socks[i].recvd;
	}
	if (done) {
		printf("done sent=%ld recv=%ld\n", total_sent, total_recvd);
		if (hold_s > 0 && !stop) {
			printf("holding up to %lds (SIGTERM/SIGINT/SIGUSR1 ends)\n", hold_s);
			deadline = now_ms() + hold_s * 1000;
			while (!stop && now_ms() < deadline) {
				for (long i = 0; i < nsock; i++) {
					pfd[i].fd = socks[i].fd;
					pfd[i].events = do_recv ? POLLIN : 0;
					pfd[i].revents = 0;
				}
				int n = poll(pfd, (nfds_t)nsock, 100);

				if (n < 0 && errno != EINTR)
					die("poll: %s", strerror(errno));
				for (long i = 0; n > 0 && i < nsock; i++)
					if (pfd[i].revents & POLLIN)
						recv_some(&socks[i], i, count);
			}
			printf("hold ended (%s)\n", stop ? "signal" : "time");
		}
	}

	total_recvd = 0;
	for (long i = 0; i < nsock; i++) {
		struct msock *s = &socks[i];

		printf("sock %2ld port %u -> %s sent %ld recv %ld\n", i,
		       ntohs(s->local.in.sin_port), addr_str(&s->peer), s->sent, s->recvd);
		total_recvd += s->recvd;
	}
	printf("total sockets=%ld sent=%ld recv=%ld errors=%ld\n", nsock, total_sent, total_recvd,
	       errors);
	/*
	 * The sockets are left open on purpose: close() drops a socket's messages that are still
	 * queued (socket-api.md §8), while exit lets the engine flush them (MPRDS_LINGER_MS).
	 */
	free(socks);
	free(pfd);
	return errors || !done ? 1 : 0;
}
