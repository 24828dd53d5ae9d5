/* SPDX-License-Identifier: MIT */
/*
 * rds_seqcheck send|recv [options] ADDR BASE PEER_ADDR PEER_BASE
 *
 * Exactly-once, in-order delivery under faults. N sockets (-n, default 16) are bound to
 * ADDR:BASE .. ADDR:BASE+N-1; socket i talks to PEER_ADDR:PEER_BASE+i only. Every message
 * carries its socket index and a per-socket sequence number (from 1), so the receiver can
 * tell a lost, duplicated or reordered message from a good one.
 *
 * Message: "SEQ5", u32 index, u64 seq, u32 length (all big-endian), then filler bytes
 * (index * 131 + seq * 7 + j) & 0xff up to -s SIZE bytes in all.
 *
 * send: -c COUNT messages in all, round-robin over the sockets (COUNT 0: no end, see -d).
 *       Blocking sends; -T MS sets SO_SNDTIMEO. EAGAIN / ENOBUFS / ETIMEDOUT are counted
 *       and the same message is tried again, unless -x: then the first ETIMEDOUT ends the
 *       run ("etimedout after ...", exit 0). -d S stops after S seconds, -r R caps the rate
 *       at R messages a second. -S MS prints "stall from=T1 to=T2 ms=D" when two successful
 *       sends are MS or more apart (a daemon that died and was replaced: T2 is the first send
 *       that went through after it).
 * recv: -c COUNT: exit when that many arrived. Strict by default: socket i must see 1, 2,
 *       3, ... exactly. -g: gaps are allowed (a restarted receiver, or a restarted peer,
 *       loses what was in flight), but never a duplicate or a step back. -z PORT: one more
 *       socket is bound to ADDR:PORT and never read (for tests of a flooding peer).
 * both: -t S bounds the run (default 60 s); -p MS prints "progress" lines that often.
 *
 * Output: "ready t=MS" (CLOCK_MONOTONIC milliseconds: comparable between processes), "first
 * t=MS ..." at the first message received, progress lines, then "sent total=X timeouts=T
 * eagain=A" or "recv total=X dups=D reorder=R gaps=G errors=E" and "elapsed_ms=E"; a receiver
 * then prints "max_gap_ms=G at t=MS": the longest wait between two messages, and when it ended.
 * SIGTERM / SIGINT end the run with the summary. Exit 0 only if everything checked.
 */
#include "rds_common.h"

#include <signal.h>

#define HDR_LEN 20
#define MAX_SOCKS 256

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct ssock {
	int fd;
	rds_sa local, peer;
	uint64_t next; /* send: next seq to send; recv: last seq seen */
	long count;
};

static long errors, dups, reorders, gaps;

static void put_be(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static uint8_t filler(long idx, uint64_t seq, size_t j)
{
	return (uint8_t)((unsigned long)idx * 131 + seq * 7 + j);
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void report(const char *fmt, ...)
{
	va_list ap;

	if (++errors > 20)
		return;
	printf("error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: rds_seqcheck send|recv [-n N] [-c COUNT] [-s SIZE] [-d S] [-t S]\n"
			"           [-T MS] [-x] [-r RATE] [-g] [-z PORT] [-p MS] [-S MS]\n"
			"           ADDR BASE PEER_ADDR PEER_BASE\n");
	exit(2);
}

struct opts {
	int send, gaps_ok, stop_at_timeout;
	long nsock, count, size, duration_s, timeout_s, sndtimeo_ms, rate, sink_port, progress_ms;
	long stall_ms;
};

static void set_sndtimeo(int fd, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		die("setsockopt(SO_SNDTIMEO): %s", strerror(errno));
}

static int run_send(const struct opts *o, struct ssock *socks)
{
	uint8_t *buf = malloc((size_t)o->size);
	long long start = now_ms(), end = o->duration_s ? start + o->duration_s * 1000 : 0;
	long long deadline = start + o->timeout_s * 1000, next_progress = start;
	long total = 0, timeouts = 0, eagain = 0, i = 0;
	long long last_ok = 0;
	int timed_out = 0;

	if (!buf)
		die("out of memory");
	while (!stop && (o->count == 0 || total < o->count)) {
		struct ssock *s = &socks[i];
		long long now = now_ms();
		ssize_t n;

		if ((end && now >= end) || now >= deadline)
			break;
		if (o->rate && total > (now - start) * o->rate / 1000) {
			usleep(1000);
			continue;
		}
		if (o->progress_ms && now >= next_progress) {
			printf("progress t=%lld sent=%ld timeouts=%ld\n", now, total, timeouts);
			next_progress = now + o->progress_ms;
		}
		memcpy(buf, "SEQ5", 4);
		put_be(buf + 4, (uint64_t)i, 4);
		put_be(buf + 8, s->next, 8);
		put_be(buf + 16, (uint64_t)o->size, 4);
		for (long j = HDR_LEN; j < o->size; j++)
			buf[j] = filler(i, s->next, (size_t)j);
		n = sendto(s->fd, buf, (size_t)o->size, 0, &s->peer.sa, sa_len(&s->peer));
		if (n < 0) {
			if (errno == ETIMEDOUT) {
				timeouts++;
				if (o->stop_at_timeout) {
					printf("etimedout after %lld ms: sock %ld seq %llu\n",
					       now_ms() - start, i, (unsigned long long)s->next);
					timed_out = 1;
					break;
				}
			} else if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
				eagain++;
				usleep(1000);
			} else {
				die("sock %ld: sendto %s: %s", i, addr_str(&s->peer),
				    strerror(errno));
			}
			continue; /* the same message again, or the next socket's */
		}
		if (n != o->size)
			die("sock %ld: sendto returned %zd, want %ld", i, n, o->size);
		now = now_ms();
		if (o->stall_ms && last_ok && now - last_ok >= o->stall_ms)
			printf("stall from=%lld to=%lld ms=%lld\n", last_ok, now, now - last_ok);
		last_ok = now;
		s->next++;
		s->count++;
		total++;
		i = (i + 1) % o->nsock;
	}
	printf("sent total=%ld timeouts=%ld eagain=%ld%s\n", total, timeouts, eagain,
	       timed_out ? " (stopped at ETIMEDOUT)" : "");
	printf("elapsed_ms=%lld\n", now_ms() - start);
	free(buf);
	if (o->stop_at_timeout)
		return timed_out ? 0 : 1;
	return o->count && total < o->count ? 1 : 0;
}

static void check_message(const struct opts *o, struct ssock *s, long idx, const uint8_t *buf,
			  ssize_t n)
{
	uint64_t seq;

	if (n < HDR_LEN || memcmp(buf, "SEQ5", 4) || (long)get_be(buf + 4, 4) != idx ||
	    (ssize_t)get_be(buf + 16, 4) != n) {
		report("sock %ld: malformed message of %zd bytes", idx, n);
		return;
	}
	seq = get_be(buf + 8, 8);
	for (ssize_t j = HDR_LEN; j < n; j++)
		if (buf[j] != filler(idx, seq, (size_t)j)) {
			report("sock %ld seq %llu: content differs at byte %zd", idx,
			       (unsigned long long)seq, j);
			break;
		}
	if (seq == s->next + 1 || (o->gaps_ok && s->next == 0)) {
		/* the next one; in -g mode the first one may be anywhere */
	} else if (seq == s->next) {
		dups++;
		report("sock %ld: seq %llu again (duplicate)", idx, (unsigned long long)seq);
		return;
	} else if (seq < s->next) {
		reorders++;
		report("sock %ld: seq %llu after %llu (out of order)", idx, (unsigned long long)seq,
		       (unsigned long long)s->next);
		return;
	} else if (o->gaps_ok) {
		gaps += (long)(seq - s->next - 1);
	} else {
		gaps += (long)(seq - s->next - 1);
		report("sock %ld: seq %llu after %llu (lost %llu)", idx, (unsigned long long)seq,
		       (unsigned long long)s->next, (unsigned long long)(seq - s->next - 1));
	}
	s->next = seq;
	s->count++;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The longest wait between two messages received (an upgraded daemon's pause), and when. */
static long long last_rx_us, max_gap_us, max_gap_at_ms;

static void note_arrival(void)
{
	long long t = now_us();

	if (last_rx_us && t - last_rx_us > max_gap_us) {
		max_gap_us = t - last_rx_us;
		max_gap_at_ms = t / 1000;
	}
	last_rx_us = t;
}

static int run_recv(const struct opts *o, struct ssock *socks)
{
	struct pollfd *pfd = calloc((size_t)o->nsock, sizeof(*pfd));
	uint8_t *buf = malloc((size_t)RDS_TEST_MAX_MSG);
	long long start = now_ms(), deadline = start + o->timeout_s * 1000;
	long long next_progress = start;
	long total = 0;
	int done = 0;

	if (!pfd || !buf)
		die("out of memory");
	while (!stop) {
		long long now = now_ms();
		int n;

		if (o->count && total >= o->count) {
			done = 1;
			break;
		}
		if (now >= deadline) {
			printf("timeout after %ld s: %ld of %ld received\n", o->timeout_s, total,
			       o->count);
			break;
		}
		if (o->progress_ms && now >= next_progress) {
			printf("progress t=%lld recv=%ld\n", now, total);
			next_progress = now + o->progress_ms;
		}
		for (long i = 0; i < o->nsock; i++)
			pfd[i] = (struct pollfd){ .fd = socks[i].fd, .events = POLLIN };
		n = poll(pfd, (nfds_t)o->nsock, 50);
		if (n < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (long i = 0; n > 0 && i < o->nsock; i++) {
			struct ssock *s = &socks[i];

			if (!(pfd[i].revents & POLLIN))
				continue;
			for (int burst = 0; burst < 256; burst++) {
				rds_sa from;
				socklen_t fromlen;
				int trunc;
				ssize_t r = rds_recv_from(s->fd, buf, RDS_TEST_MAX_MSG,
							  MSG_DONTWAIT, &from, &fromlen, &trunc);

				if (r < 0) {
					if (errno == EAGAIN || errno == EINTR)
						break;
					die("sock %ld: recvmsg: %s", i, strerror(errno));
				}
				if (!same_addr(&from, &s->peer)) {
					report("sock %ld: message from %s", i, addr_str(&from));
					continue;
				}
				if (total == 0)
					printf("first t=%lld sock=%ld\n", now_ms(), i);
				check_message(o, s, i, buf, r);
				note_arrival();
				total++;
			}
		}
	}
	printf("recv total=%ld dups=%ld reorder=%ld gaps=%ld errors=%ld\n", total, dups, reorders,
	       gaps, errors);
	printf("elapsed_ms=%lld\n", now_ms() - start);
	printf("max_gap_ms=%.1f at t=%lld\n", max_gap_us / 1000.0, max_gap_at_ms);
	free(buf);
	free(pfd);
	if (o->count)
		return done && !errors ? 0 : 1;
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .nsock = 16, .size = 64, .timeout_s = 60 };
	struct sigaction sa;
	struct ssock *socks;
	long base, peer_base;
	int opt, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "send"))
		o.send = 1;
	else if (strcmp(argv[1], "recv"))
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "n:c:s:d:t:T:xr:gz:p:S:")) != -1) {
		switch (opt) {
		case 'n':
			o.nsock = parse_long(optarg, "N", 1, MAX_SOCKS);
			break;
		case 'c':
			o.count = parse_long(optarg, "COUNT", 0, 1000000000);
			break;
		case 's':
			o.size = parse_long(optarg, "SIZE", HDR_LEN, RDS_TEST_MAX_MSG);
			break;
		case 'd':
			o.duration_s = parse_long(optarg, "S", 1, 3600);
			break;
		case 't':
			o.timeout_s = parse_long(optarg, "S", 1, 3600);
			break;
		case 'T':
			o.sndtimeo_ms = parse_long(optarg, "MS", 1, 3600000);
			break;
		case 'x':
			o.stop_at_timeout = 1;
			break;
		case 'r':
			o.rate = parse_long(optarg, "RATE", 1, 100000000);
			break;
		case 'g':
			o.gaps_ok = 1;
			break;
		case 'z':
			o.sink_port = parse_long(optarg, "PORT", 2, 65535);
			break;
		case 'p':
			o.progress_ms = parse_long(optarg, "MS", 1, 3600000);
			break;
		case 'S':
			o.stall_ms = parse_long(optarg, "MS", 1, 3600000);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4)
		usage();
	base = parse_long(argv[optind + 1], "BASE", 2, 65535);
	peer_base = parse_long(argv[optind + 3], "PEER_BASE", 2, 65535);
	if (base + o.nsock > 65536 || peer_base + o.nsock > 65536)
		die("port range past 65535");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	socks = calloc((size_t)o.nsock, sizeof(*socks));
	if (!socks)
		die("out of memory");
	for (long i = 0; i < o.nsock; i++) {
		struct ssock *s = &socks[i];

		s->fd = rds_socket(0);
		s->local = make_addr(argv[optind], base + i);
		s->peer = make_addr(argv[optind + 2], peer_base + i);
		s->next = o.send ? 1 : 0;
		rds_bind(s->fd, argv[optind], base + i);
		if (o.send && o.sndtimeo_ms)
			set_sndtimeo(s->fd, o.sndtimeo_ms);
		if (!o.send && o.size > 0)
			rds_set_bufs(s->fd, 1 << 20);
	}
	if (o.sink_port) {
		int fd = rds_socket(0);

		rds_bind(fd, argv[optind], o.sink_port);
		printf("sink %s:%ld is never read\n", argv[optind], o.sink_port);
	}
	printf("ready t=%lld %s %s:%ld..%ld peer %s:%ld..%ld\n", now_ms(), o.send ? "send" : "recv",
	       argv[optind], base, base + o.nsock - 1, argv[optind + 2], peer_base,
	       peer_base + o.nsock - 1);
	ret = o.send ? run_send(&o, socks) : run_recv(&o, socks);
	/* Sockets stay open: exit lets the engine deliver what is queued (MPRDS_LINGER_MS). */
	free(socks);
	return ret;
}
