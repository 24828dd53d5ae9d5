// SPDX-License-Identifier: MIT
/*
 * pingpong: request/response round trips over RDS, TCP or UDP, one socket per thread.
 *
 *   pingpong server rds|tcp|udp ADDR PORT NSOCKS SIZE LIFETIME_S
 *   pingpong client rds|tcp|udp LADDR RADDR PORT NSOCKS SIZE SECS [WARMUP_MS]
 *
 * The server echoes every message back to its sender: RDS and UDP with NSOCKS sockets bound
 * to ADDR:PORT+i; TCP with one listener on ADDR:PORT and NSOCKS connections. Client socket i
 * (RDS/UDP: bound to LADDR:PORT+i, talking to RADDR:PORT+i) keeps one SIZE-byte message in
 * flight: send, wait for the echo, record the round trip, again, for SECS seconds; the first
 * WARMUP_MS are not recorded (connection set-up, the multipath handshake). An RDS or UDP
 * message that is not answered within 1 s is sent again (counted as a timeout).
 *
 * The client prints one line per socket and one for all:
 *   sock I port P n N p50 US p99 US p999 US max US timeouts T
 *   all n N rtt_per_s R p50 US p99 US p999 US max US
 *
 * Plain <linux/rds.h> API: runs under mprds-run and against a kernel with RDS alike.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_RDS
#define AF_RDS 21
#endif

#define MAX_SOCKS 256
#define MAX_SAMPLES (4u << 20)

enum proto { P_RDS, P_TCP, P_UDP };

struct sock {
	pthread_t thread;
	int fd, index;
	struct sockaddr_in peer;
	uint32_t *samples; /* round trips in ns */
	size_t n;
	uint64_t timeouts;
};

static enum proto proto;
static size_t size;
static uint64_t t_start, t_record, t_end;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "pingpong: bad address %s\n", addr);
		exit(2);
	}
	return sin;
}

static int dgram_socket(const struct sockaddr_in *bind_to)
{
	int fd = socket(proto == P_RDS ? AF_RDS : AF_INET,
			proto == P_RDS ? SOCK_SEQPACKET : SOCK_DGRAM, 0);
	int buf = 4 << 20;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to)))
		die("bind");
	return fd;
}

static int read_full(int fd, uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t r = read(fd, buf, n);

		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- server ---- */

static void *serve_stream(void *arg)
{
	struct sock *s = arg;
	uint8_t *buf = malloc(size);

	while (buf && read_full(s->fd, buf, size) == 0)
		if (write(s->fd, buf, size) != (ssize_t)size)
			break;
	free(buf);
	return NULL;
}

static void *serve_dgram(void *arg)
{
	struct sock *s = arg;
	uint8_t *buf = malloc(1 << 20);

	for (;;) {
		struct sockaddr_in from;
		socklen_t alen = sizeof(from);
		ssize_t n = recvfrom(s->fd, buf, 1 << 20, 0, (struct sockaddr *)&from, &alen);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, alen);
	}
	free(buf);
	return NULL;
}

static int server(const char *addr, int port, int nsocks, int lifetime)
{
	static struct sock socks[MAX_SOCKS];

	if (proto == P_TCP) {
		struct sockaddr_in sin = sin_of(addr, port);
		int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);

		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, MAX_SOCKS))
			die("listen");
		printf("ready\n");
		fflush(stdout);
		for (int i = 0; i < nsocks; i++) {
			struct pollfd pfd = { .fd = lfd, .events = POLLIN };

			if (poll(&pfd, 1, lifetime * 1000) <= 0)
				return 1;
			socks[i].fd = accept(lfd, NULL, NULL);
			if (socks[i].fd < 0)
				die("accept");
			setsockopt(socks[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			pthread_create(&socks[i].thread, NULL, serve_stream, &socks[i]);
		}
	} else {
		for (int i = 0; i < nsocks; i++) {
			struct sockaddr_in sin = sin_of(addr, port + i);

			socks[i].fd = dgram_socket(&sin);
			pthread_create(&socks[i].thread, NULL, serve_dgram, &socks[i]);
		}
		printf("ready\n");
		fflush(stdout);
	}
	/* Bounded: the bench stops us by pid sooner; TCP ends when its connections close. */
	sleep((unsigned)lifetime);
	return 0;
}

/* ---- client ---- */

static void record(struct sock *s, uint64_t t0)
{
	uint64_t t = now_ns();

	if (t0 >= t_record && s->n < MAX_SAMPLES)
		s->samples[s->n++] = (uint32_t)(t - t0 > UINT32_MAX ? UINT32_MAX : t - t0);
}

static void *client_stream(void *arg)
{
	struct sock *s = arg;
	uint8_t *buf = calloc(1, size);

	while (buf && now_ns() < t_end) {
		uint64_t t0 = now_ns();

		if (write(s->fd, buf, size) != (ssize_t)size || read_full(s->fd, buf, size))
			break;
		record(s, t0);
	}
	free(buf);
	return NULL;
}

static void *client_dgram(void *arg)
{
	struct sock *s = arg;
	uint8_t *buf = calloc(1, size > 64 ? size : 64);
	uint32_t seq = 0;

	while (buf && now_ns() < t_end) {
		uint64_t t0 = now_ns();
		uint32_t got;

		seq++;
		memcpy(buf, &seq, sizeof(seq));
		if (sendto(s->fd, buf, size, 0, (struct sockaddr *)&s->peer, sizeof(s->peer)) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
				usleep(100);
				continue;
			}
			die("sendto");
		}
		for (;;) {
			struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
			ssize_t n;

			if (poll(&pfd, 1, 1000) <= 0) {
				s->timeouts++;
				break;
			}
			n = recv(s->fd, buf, size, 0);
			if (n < (ssize_t)sizeof(got))
				continue;
			memcpy(&got, buf, sizeof(got));
			if (got == seq) {
				record(s, t0);
				break;
			}
		}
	}
	free(buf);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)n);
	return (double)v[i < n ? i : n - 1] / 1000.0;
}

static int client(const char *laddr, const char *raddr, int port, int nsocks, int secs,
		  int warmup_ms)
{
	static struct sock socks[MAX_SOCKS];
	uint32_t *all;
	size_t total = 0;

	for (int i = 0; i < nsocks; i++) {
		struct sock *s = &socks[i];

		s->index = i;
		s->samples = malloc(MAX_SAMPLES * sizeof(uint32_t));
		if (!s->samples)
			die("malloc");
		if (proto == P_TCP) {
			struct sockaddr_in peer = sin_of(raddr, port), me = sin_of(laddr, 0);
			int one = 1;

			s->fd = socket(AF_INET, SOCK_STREAM, 0);
			setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (bind(s->fd, (struct sockaddr *)&me, sizeof(me)) ||
			    connect(s->fd, (struct sockaddr *)&peer, sizeof(peer)))
				die("connect");
		} else {
			struct sockaddr_in me = sin_of(laddr, port + i);

			s->fd = dgram_socket(&me);
			s->peer = sin_of(raddr, port + i);
		}
	}
	t_start = now_ns();
	t_record = t_start + (uint64_t)warmup_ms * 1000000u;
	t_end = t_record + (uint64_t)secs * 1000000000u;
	for (int i = 0; i < nsocks; i++)
		pthread_create(&socks[i].thread, NULL, proto == P_TCP ? client_stream : client_dgram,
			       &socks[i]);
	for (int i = 0; i < nsocks; i++) {
		pthread_join(socks[i].thread, NULL);
		close(socks[i].fd);
		total += socks[i].n;
	}
	all = malloc((total + 1) * sizeof(uint32_t));
	total = 0;
	for (int i = 0; i < nsocks; i++) {
		struct sock *s = &socks[i];

		qsort(s->samples, s->n, sizeof(uint32_t), cmp_u32);
		printf("sock %d port %d n %zu p50 %.1f p99 %.1f p999 %.1f max %.1f timeouts %llu\n",
		       i, proto == P_TCP ? port : port + i, s->n, pct(s->samples, s->n, 0.5),
		       pct(s->samples, s->n, 0.99), pct(s->samples, s->n, 0.999),
		       s->n ? (double)s->samples[s->n - 1] / 1000.0 : 0.0,
		       (unsigned long long)s->timeouts);
		memcpy(all + total, s->samples, s->n * sizeof(uint32_t));
		total += s->n;
	}
	qsort(all, total, sizeof(uint32_t), cmp_u32);
	printf("all n %zu rtt_per_s %.0f p50 %.1f p99 %.1f p999 %.1f max %.1f\n", total,
	       (double)total / secs, pct(all, total, 0.5), pct(all, total, 0.99),
	       pct(all, total, 0.999), total ? (double)all[total - 1] / 1000.0 : 0.0);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		goto usage;
	if (!strcmp(argv[2], "rds"))
		proto = P_RDS;
	else if (!strcmp(argv[2], "tcp"))
		proto = P_TCP;
	else if (!strcmp(argv[2], "udp"))
		proto = P_UDP;
	else
		goto usage;
	if (!strcmp(argv[1], "server") && argc == 8) {
		int n = atoi(argv[5]);

		size = (size_t)atol(argv[6]);
		if (n < 1 || n > MAX_SOCKS || size < 8 || size > (1 << 20))
			goto usage;
		return server(argv[3], atoi(argv[4]), n, atoi(argv[7]));
	}
	if (!strcmp(argv[1], "client") && (argc == 9 || argc == 10)) {
		int n = atoi(argv[6]);

		size = (size_t)atol(argv[7]);
		if (n < 1 || n > MAX_SOCKS || size < 8 || size > (1 << 20))
			goto usage;
		return client(argv[3], argv[4], atoi(argv[5]), n, atoi(argv[8]),
			      argc == 10 ? atoi(argv[9]) : 300);
	}
usage:
	fprintf(stderr, "usage: pingpong server rds|tcp|udp ADDR PORT NSOCKS SIZE LIFETIME_S\n"
			"       pingpong client rds|tcp|udp LADDR RADDR PORT NSOCKS SIZE SECS "
			"[WARMUP_MS]\n");
	return 2;
}
