// SPDX-License-Identifier: MIT
/*
 * mprds-stress: an rds-stress-like load generator.
 *
 *   passive:  mprds-stress [-r local_addr] [-p port]
 *   active:   mprds-stress -s peer_addr [-r local_addr] [-p port] [-t tasks] [-q req_bytes]
 *                          [-a ack_bytes] [-d depth] [-T seconds] [-z] [--threads]
 *
 * As rds-stress: the active instance connects over TCP to the passive one at peer_addr:port
 * and sends it the options; both then start `tasks` tasks (forked processes; threads with
 * --threads), task i with an RDS socket bound to its address, port + 1 + i. Every task keeps
 * `depth` requests of req_bytes outstanding to every task of the other instance and answers
 * each request it receives with an ack of ack_bytes; the round trip of request and ack is
 * the latency. Each instance prints its throughput and latency once a second and a summary
 * at the end (after -T seconds, or when interrupted, or when the other instance goes away).
 *
 * Under mprds each process serves its own addresses, so forked tasks of one instance cannot
 * share an address: use -t 1, or --threads for several tasks in one process.
 *
 * Written against the plain <linux/rds.h> API: runs under mprds-run and on a kernel with RDS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/rds.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define PARAMS_MAGIC 0x6d707273u /* "mprs" */
#define PARAMS_VERSION 1
#define MSG_MAGIC 0x4d505253u
#define TYPE_REQ 1
#define TYPE_ACK 2
#define MAX_TASKS 256
#define MAX_BYTES (1024 * 1024)
#define HIST_BUCKETS 512
#define SETUP_TIMEOUT_S 30

const char *const progname = "mprds-stress";

#define SYNOPSIS                                                               \
	"[-s peer_addr] [-r local_addr] [-p port] [-t tasks] [-q req_bytes]\n" \
	"                    [-a ack_bytes] [-d depth] [-T seconds] [-z] [--threads]"
const char *const synopsis = SYNOPSIS;

/* What the active instance tells the passive one (network byte order on the wire). */
struct params {
	uint32_t magic, version;
	uint32_t tasks, req_bytes, ack_bytes, depth, seconds, port, flags;
};

#define PARAM_THREADS 0x1 /* tasks are threads (both instances: mprds needs it for -t > 1) */

/* The header of every message; the rest of the message is filler. */
struct msg_hdr {
	uint32_t magic;
	uint32_t type;
	uint32_t task; /* the sender's task index */
	uint32_t seq;
	uint64_t sent_ns; /* the request's send time, echoed in its ack */
} __attribute__((packed));

/* One task's counters, written by the task only, read by the parent. */
struct task_stats {
	uint64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes;
	uint64_t send_ns, rtt_ns, rtt_n, rtt_max, errors;
	uint64_t hist[HIST_BUCKETS];
} __attribute__((aligned(64)));

/* Shared between the parent and its tasks (MAP_SHARED, so forked tasks see it too). */
struct shared {
	int ready, failed, go, stop;
	struct task_stats stats[];
};

static struct params prm = { .tasks = 1, .req_bytes = 1024, .ack_bytes = 64, .depth = 1 };
static struct sockaddr_in local, peer;
static bool opt_threads, opt_summary_only;
static struct shared *sh;
static volatile sig_atomic_t interrupted;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Single writer per counter: a relaxed store is enough for the reader to see whole values. */
static void add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, *p + v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Latency histogram: 8 buckets per power of two. */
static int hist_bucket(uint64_t ns)
{
	int e;

	if (ns < 8)
		return (int)ns;
	e = 63 - __builtin_clzll(ns);
	return (e - 2) * 8 + (int)((ns >> (e - 3)) & 7);
}

static double hist_value(int b)
{
	int e = b / 8 + 2;

	if (b < 8)
		return b;
	return (double)((uint64_t)(8 + b % 8) << (e - 3)) + (double)(1ull << (e - 3)) / 2;
}

/* ---- one task ---- */

/* An ack waiting for send-buffer room. */
struct pending {
	struct sockaddr_in to;
	struct msg_hdr h;
};

struct task {
	int index, fd;
	struct task_stats *st;
	uint8_t *buf;
	uint32_t *outstanding; /* per peer task */
	uint32_t seq;
	struct pending *acks; /* a FIFO */
	size_t acks_head, acks_n, acks_max;
};

static int task_fail(struct task *t, const char *what, int err)
{
	fprintf(stderr, "%s: task %d: %s: %s\n", progname, t->index, what, strerror(err));
	if (err == EADDRINUSE)
		fprintf(stderr,
			"%s: under mprds each process needs its own address: "
			"use -t 1 or --threads\n",
			progname);
	__atomic_fetch_add(&sh->failed, 1, __ATOMIC_ACQ_REL);
	return -1;
}

static void set_buf(struct task *t, int opt, int force, size_t want)
{
	int v = (int)want, got = 0;
	socklen_t len = sizeof(got);

	setsockopt(t->fd, SOL_SOCKET, opt, &v, sizeof(v));
	/* root may go beyond net.core.[wr]mem_max */
	if (!getsockopt(t->fd, SOL_SOCKET, opt, &got, &len) && (size_t)got / 2 < want)
		setsockopt(t->fd, SOL_SOCKET, force, &v, sizeof(v));
}

static int task_setup(struct task *t)
{
	struct sockaddr_in sin = local;
	size_t per = (size_t)prm.req_bytes + prm.ack_bytes;
	size_t want = per * prm.depth * prm.tasks + per;
	int got = 0;
	socklen_t len = sizeof(got);

	t->fd = socket(AF_RDS, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return task_fail(t, "socket(AF_RDS)", errno);
	sin.sin_port = htons((uint16_t)(prm.port + 1 + (uint32_t)t->index));
	if (bind(t->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return task_fail(t, "bind", errno);
	set_buf(t, SO_SNDBUF, SO_SNDBUFFORCE, want);
	set_buf(t, SO_RCVBUF, SO_RCVBUFFORCE, want);
	if (getsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0 &&
	    (size_t)got / 2 < prm.req_bytes) {
		fprintf(stderr,
			"%s: SO_SNDBUF is %d: too small for %u-byte requests "
			"(raise net.core.wmem_max)\n",
			progname, got / 2, prm.req_bytes);
		return task_fail(t, "SO_SNDBUF", EMSGSIZE);
	}
	t->buf = calloc(1, MAX_BYTES);
	t->outstanding = calloc(prm.tasks, sizeof(*t->outstanding));
	t->acks_max = (size_t)prm.tasks * prm.depth + 1;
	t->acks = calloc(t->acks_max, sizeof(*t->acks));
	if (!t->buf || !t->outstanding || !t->acks)
		return task_fail(t, "memory", ENOMEM);
	return 0;
}

/* Returns 1 if sent, 0 if the socket cannot take it now, -1 on error. */
static int task_send(struct task *t, const struct sockaddr_in *to, const struct msg_hdr *h,
		     size_t bytes)
{
	uint64_t start = now_ns();
	ssize_t n;

	memcpy(t->buf, h, sizeof(*h));
	n = sendto(t->fd, t->buf, bytes, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
	add(&t->st->send_ns, now_ns() - start);
	if (n < 0) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			return 0;
		add(&t->st->errors, 1);
		return -1;
	}
	add(&t->st->tx_msgs, 1);
	add(&t->st->tx_bytes, (uint64_t)n);
	return 1;
}

static bool flush_acks(struct task *t)
{
	while (t->acks_n) {
		struct pending *p = &t->acks[t->acks_head];
		int r = task_send(t, &p->to, &p->h, prm.ack_bytes);

		if (r == 0)
			return false;
		t->acks_head = (t->acks_head + 1) % t->acks_max;
		t->acks_n--;
	}
	return true;
}

/* Keeps depth requests outstanding to every peer task; false if the socket is full. */
static bool send_requests(struct task *t)
{
	struct sockaddr_in to = peer;

	for (uint32_t j = 0; j < prm.tasks; j++) {
		to.sin_port = htons((uint16_t)(prm.port + 1 + j));
		while (t->outstanding[j] < prm.depth) {
			struct msg_hdr h = { MSG_MAGIC, TYPE_REQ, (uint32_t)t->index, ++t->seq,
					     now_ns() };
			int r = task_send(t, &to, &h, prm.req_bytes);

			if (r == 0)
				return false;
			if (r < 0)
				break;
			t->outstanding[j]++;
		}
	}
	return true;
}

static void on_message(struct task *t, const struct sockaddr_in *from, size_t n)
{
	struct msg_hdr h;

	add(&t->st->rx_msgs, 1);
	add(&t->st->rx_bytes, n);
	if (n < sizeof(h)) {
		add(&t->st->errors, 1);
		return;
	}
	memcpy(&h, t->buf, sizeof(h));
	if (h.magic != MSG_MAGIC || h.task >= prm.tasks) {
		add(&t->st->errors, 1);
		return;
	}
	if (h.type == TYPE_REQ) {
		struct pending *p = &t->acks[(t->acks_head + t->acks_n) % t->acks_max];

		if (t->acks_n == t->acks_max) {
			add(&t->st->errors, 1); /* more requests than depth allows */
			return;
		}
		p->to = *from;
		p->h = h;
		p->h.type = TYPE_ACK;
		p->h.task = (uint32_t)t->index;
		t->acks_n++;
	} else if (h.type == TYPE_ACK) {
		uint32_t j = (uint32_t)(ntohs(from->sin_port) - prm.port - 1);
		uint64_t rtt = now_ns() - h.sent_ns;

		if (j < prm.tasks && t->outstanding[j])
			t->outstanding[j]--;
		add(&t->st->rtt_ns, rtt);
		add(&t->st->rtt_n, 1);
		add(&t->st->hist[hist_bucket(rtt)], 1);
		if (rtt > t->st->rtt_max)
			__atomic_store_n(&t->st->rtt_max, rtt, __ATOMIC_RELAXED);
	}
}

static void receive_all(struct task *t)
{
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in from;
		socklen_t alen = sizeof(from);
		ssize_t n = recvfrom(t->fd, t->buf, MAX_BYTES, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &alen);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				add(&t->st->errors, 1);
			return;
		}
		on_message(t, &from, (size_t)n);
	}
}

static void task_run(int index)
{
	struct task t = { .index = index, .fd = -1, .st = &sh->stats[index] };

	if (task_setup(&t) == 0) {
		__atomic_fetch_add(&sh->ready, 1, __ATOMIC_ACQ_REL);
		while (!load(&sh->go) && !load(&sh->stop))
			usleep(1000);
		while (!load(&sh->stop)) {
			struct pollfd pfd = { .fd = t.fd, .events = POLLIN };
			bool room = flush_acks(&t) && send_requests(&t);

			if (!room)
				pfd.events |= POLLOUT;
			if (poll(&pfd, 1, 100) > 0 && (pfd.revents & POLLIN))
				receive_all(&t);
		}
	}
	if (t.fd >= 0)
		close(t.fd);
	free(t.buf);
	free(t.outstanding);
	free(t.acks);
}

static void *task_thread(void *arg)
{
	task_run((int)(intptr_t)arg);
	return NULL;
}

/* ---- the parent ---- */

struct totals {
	uint64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes, send_ns, rtt_ns, rtt_n, rtt_max, errors;
};

static void sum(struct totals *s)
{
	memset(s, 0, sizeof(*s));
	for (uint32_t i = 0; i < prm.tasks; i++) {
		const struct task_stats *t = &sh->stats[i];
		uint64_t m = get(&t->rtt_max);

		s->tx_msgs += get(&t->tx_msgs);
		s->tx_bytes += get(&t->tx_bytes);
		s->rx_msgs += get(&t->rx_msgs);
		s->rx_bytes += get(&t->rx_bytes);
		s->send_ns += get(&t->send_ns);
		s->rtt_ns += get(&t->rtt_ns);
		s->rtt_n += get(&t->rtt_n);
		s->errors += get(&t->errors);
		if (m > s->rtt_max)
			s->rtt_max = m;
	}
}

static void print_header(void)
{
	if (!opt_summary_only)
		printf("%4s %8s %8s %12s %8s %8s\n", "tsks", "tx/s", "rx/s", "tx+rx K/s", "tx us/c",
		       "rtt us");
}

static void print_interval(const struct totals *a, const struct totals *b, double secs)
{
	uint64_t tx = b->tx_msgs - a->tx_msgs, rx = b->rx_msgs - a->rx_msgs;
	uint64_t bytes = b->tx_bytes - a->tx_bytes + b->rx_bytes - a->rx_bytes;
	uint64_t n = b->rtt_n - a->rtt_n;

	if (opt_summary_only || secs <= 0)
		return;
	printf("%4u %8.0f %8.0f %12.2f %8.2f %8.2f\n", prm.tasks, (double)tx / secs,
	       (double)rx / secs, (double)bytes / 1024.0 / secs,
	       tx ? (double)(b->send_ns - a->send_ns) / (double)tx / 1000.0 : 0.0,
	       n ? (double)(b->rtt_ns - a->rtt_ns) / (double)n / 1000.0 : 0.0);
	fflush(stdout);
}

static double percentile(double p)
{
	uint64_t total = 0, seen = 0;

	for (int b = 0; b < HIST_BUCKETS; b++)
		for (uint32_t i = 0; i < prm.tasks; i++)
			total += get(&sh->stats[i].hist[b]);
	if (!total)
		return 0;
	for (int b = 0; b < HIST_BUCKETS; b++) {
		for (uint32_t i = 0; i < prm.tasks; i++)
			seen += get(&sh->stats[i].hist[b]);
		if ((double)seen >= p * (double)total)
			return hist_value(b);
	}
	return 0;
}

static void print_summary(const struct totals *s, double secs)
{
	if (secs <= 0)
		secs = 1e-9;
	printf("---------------------------------------------\n");
	printf("summary: %.2f s, %u tasks, req %u B, ack %u B, depth %u\n", secs, prm.tasks,
	       prm.req_bytes, prm.ack_bytes, prm.depth);
	printf("  messages: tx %llu (%.0f/s), rx %llu (%.0f/s), tx+rx %.2f K/s\n",
	       (unsigned long long)s->tx_msgs, (double)s->tx_msgs / secs,
	       (unsigned long long)s->rx_msgs, (double)s->rx_msgs / secs,
	       (double)(s->tx_bytes + s->rx_bytes) / 1024.0 / secs);
	printf("  rtt us:   avg %.2f, p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f (%llu round trips)\n",
	       s->rtt_n ? (double)s->rtt_ns / (double)s->rtt_n / 1000.0 : 0.0,
	       percentile(0.5) / 1000.0, percentile(0.99) / 1000.0, percentile(0.999) / 1000.0,
	       (double)s->rtt_max / 1000.0, (unsigned long long)s->rtt_n);
	printf("  tx us/c:  %.2f\n",
	       s->tx_msgs ? (double)s->send_ns / (double)s->tx_msgs / 1000.0 : 0.0);
	printf("  errors:   %llu\n", (unsigned long long)s->errors);
	fflush(stdout);
}

static pid_t pids[MAX_TASKS];
static pthread_t threads[MAX_TASKS];

static void start_tasks(void)
{
	for (uint32_t i = 0; i < prm.tasks; i++) {
		if (opt_threads) {
			if (pthread_create(&threads[i], NULL, task_thread, (void *)(intptr_t)i))
				die("pthread_create failed");
			continue;
		}
		fflush(stdout);
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			signal(SIGINT, SIG_IGN); /* as rds-stress: the parent decides */
			signal(SIGTERM, SIG_DFL);
			task_run((int)i);
			_exit(0); /* no linger at exit: what is still queued does not matter */
		}
	}
}

static void stop_tasks(void)
{
	store(&sh->stop, 1);
	for (uint32_t i = 0; i < prm.tasks; i++) {
		if (opt_threads) {
			pthread_join(threads[i], NULL);
			continue;
		}
		for (int k = 0; k < 50; k++) {
			if (waitpid(pids[i], NULL, WNOHANG) != 0)
				break;
			usleep(100000);
			if (k == 49) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], NULL, 0);
			}
		}
	}
}

static bool write_full(int fd, const void *buf, size_t n)
{
	return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n;
}

static bool read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	uint8_t *p = buf;

	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		r = recv(fd, p, n, 0);
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Both instances: wait for our tasks to be bound, tell the peer, wait for the peer's. */
static bool sync_start(int ctl)
{
	char c = 'R';
	uint64_t deadline = now_ns() + (uint64_t)SETUP_TIMEOUT_S * 1000000000u;

	while (load(&sh->ready) + load(&sh->failed) < (int)prm.tasks && !interrupted) {
		if (now_ns() > deadline)
			return false;
		usleep(1000);
	}
	if (load(&sh->failed) || interrupted) {
		c = 'F';
		write_full(ctl, &c, 1);
		return false;
	}
	if (!write_full(ctl, &c, 1) || !read_full(ctl, &c, 1, SETUP_TIMEOUT_S * 1000))
		return false;
	return c == 'R';
}

static int run(int ctl)
{
	struct totals prev, cur;
	uint64_t start, last, end;
	int status = 0;

	sh = mmap(NULL, sizeof(*sh) + prm.tasks * sizeof(struct task_stats), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	start_tasks();
	if (!sync_start(ctl)) {
		fprintf(stderr, "%s: the test could not start (see above, or the peer's output)\n",
			progname);
		stop_tasks();
		return 1;
	}
	store(&sh->go, 1);
	start = last = now_ns();
	end = prm.seconds ? start + (uint64_t)prm.seconds * 1000000000u : UINT64_MAX;
	memset(&prev, 0, sizeof(prev));
	print_header();
	while (!interrupted) {
		uint64_t t = now_ns(), next = last + 1000000000u;
		uint64_t until = next < end ? next : end;
		struct pollfd pfd = { .fd = ctl, .events = POLLIN };
		ssize_t n;
		char c;

		if (t >= end)
			break;
		if (t >= next) {
			sum(&cur);
			print_interval(&prev, &cur, (double)(t - last) / 1e9);
			prev = cur;
			last = t;
			continue;
		}
		if (poll(&pfd, 1, (int)((until - t) / 1000000u) + 1) <= 0)
			continue;
		n = recv(ctl, &c, 1, MSG_DONTWAIT);
		if (n == 1 && c == 'E')
			break; /* the peer's time is up too */
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			fprintf(stderr, "%s: the peer instance has gone\n", progname);
			break;
		}
	}
	end = now_ns();
	write_full(ctl, "E", 1);
	stop_tasks();
	sum(&cur);
	print_summary(&cur, (double)(end - start) / 1e9);
	if (load(&sh->failed) || cur.errors)
		status = 1;
	return status;
}

/* ---- set-up: options, the TCP control connection ---- */

/* A number with an optional K, M or G (as rds-stress). */
static uint32_t parse_size(const char *s, uint32_t min, uint32_t max, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		v <<= 30, end++;
	if (errno || end == s || *end || v < min || v > max)
		usage_error("bad %s <%s>: want %u..%u", what, s, min, max);
	return (uint32_t)v;
}

static int tcp_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket(AF_INET): %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void params_hton(struct params *p)
{
	uint32_t *w = (uint32_t *)p;

	for (size_t i = 0; i < sizeof(*p) / sizeof(*w); i++)
		w[i] = htonl(w[i]);
}

static void params_ntoh(struct params *p)
{
	uint32_t *w = (uint32_t *)p;

	for (size_t i = 0; i < sizeof(*p) / sizeof(*w); i++)
		w[i] = ntohl(w[i]);
}

static int active(void)
{
	struct sockaddr_in sin = local;
	struct params p = prm;
	socklen_t len = sizeof(sin);
	int fd = tcp_socket();

	sin.sin_port = 0;
	if (local.sin_addr.s_addr && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind %s: %s", inet_ntoa(local.sin_addr), strerror(errno));
	sin = peer;
	sin.sin_port = htons((uint16_t)prm.port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect to %s:%u: %s (is the passive mprds-stress running?)",
		    inet_ntoa(peer.sin_addr), prm.port, strerror(errno));
	if (!local.sin_addr.s_addr && getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		local.sin_addr = sin.sin_addr;
	params_hton(&p);
	if (!write_full(fd, &p, sizeof(p)))
		die("sending the options: %s", strerror(errno));
	return fd;
}

static int passive(void)
{
	struct sockaddr_in sin = local;
	socklen_t len = sizeof(sin);
	int lfd = tcp_socket(), fd;

	sin.sin_port = htons((uint16_t)prm.port);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1) < 0)
		die("listen on %s:%u: %s", inet_ntoa(local.sin_addr), prm.port, strerror(errno));
	printf("waiting for an active mprds-stress on %s:%u\n", inet_ntoa(local.sin_addr),
	       prm.port);
	fflush(stdout);
	fd = accept(lfd, (struct sockaddr *)&peer, &len);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	close(lfd);
	len = sizeof(sin);
	if (getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		local.sin_addr = sin.sin_addr;
	peer.sin_port = 0;
	{
		uint32_t port = prm.port;

		if (!read_full(fd, &prm, sizeof(prm), SETUP_TIMEOUT_S * 1000))
			die("no options from the active instance");
		params_ntoh(&prm);
		if (prm.flags & PARAM_THREADS)
			opt_threads = true;
		if (prm.magic != PARAMS_MAGIC || prm.version != PARAMS_VERSION)
			die("the active instance speaks another protocol");
		if (prm.tasks < 1 || prm.tasks > MAX_TASKS || prm.depth < 1 ||
		    prm.req_bytes < sizeof(struct msg_hdr) || prm.req_bytes > MAX_BYTES ||
		    prm.ack_bytes < sizeof(struct msg_hdr) || prm.ack_bytes > MAX_BYTES ||
		    prm.port != port)
			die("bad options from the active instance");
	}
	printf("testing with %s: %u tasks, req %u B, ack %u B, depth %u, %u s\n",
	       inet_ntoa(peer.sin_addr), prm.tasks, prm.req_bytes, prm.ack_bytes, prm.depth,
	       prm.seconds);
	fflush(stdout);
	return fd;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void help(void)
{
	printf("Usage: %s " SYNOPSIS "\n"
	       "Without -s: the passive instance, waiting on local_addr:port for an active one.\n"
	       "  -s, --send-addr A     the passive instance's address: this is the active one\n"
	       "  -r, --recv-addr A     the local address (default: any / the route's source)\n"
	       "  -p, --port P          TCP control port; tasks bind RDS ports P+1.. (4000)\n"
	       "  -t, --tasks N         tasks per instance (1)\n"
	       "  -q, --req-bytes N     request size, K/M suffixes (1024; at least %zu)\n"
	       "  -a, --ack-bytes N     ack size (64; at least %zu)\n"
	       "  -d, --depth N         requests outstanding to each peer task (1)\n"
	       "  -T, --time S          stop after S seconds (default: when interrupted)\n"
	       "  -z, --report-summary  print only the summary\n"
	       "      --threads         tasks are threads of one process, not forked processes\n"
	       "                        (given to the active instance, both use threads)\n"
	       "  -h, --help            show this help\n"
	       "  -V, --version         show the version\n"
	       "Exit status: 0 if the test ran without errors, 1 if it could not start or had "
	       "errors, 2 on a usage error.\n",
	       progname, sizeof(struct msg_hdr), sizeof(struct msg_hdr));
	exit(0);
}

int main(int argc, char **argv)
{
	enum { OPT_THREADS = 256 };
	static const struct option longopts[] = {
		{ "send-addr", required_argument, NULL, 's' },
		{ "recv-addr", required_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'p' },
		{ "tasks", required_argument, NULL, 't' },
		{ "req-bytes", required_argument, NULL, 'q' },
		{ "ack-bytes", required_argument, NULL, 'a' },
		{ "depth", required_argument, NULL, 'd' },
		{ "time", required_argument, NULL, 'T' },
		{ "report-summary", no_argument, NULL, 'z' },
		{ "threads", no_argument, NULL, OPT_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	bool is_active = false;
	int c, ctl, status;

	prm.port = 4000;
	local.sin_family = peer.sin_family = AF_INET;
	while ((c = getopt_long(argc, argv, "s:r:p:t:q:a:d:T:zhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_addr(optarg, &peer.sin_addr))
				usage_error("unknown address <%s>", optarg);
			is_active = true;
			break;
		case 'r':
			if (!parse_addr(optarg, &local.sin_addr))
				usage_error("unknown address <%s>", optarg);
			break;
		case 'p':
			prm.port = parse_size(optarg, 1, 65535 - MAX_TASKS, "port");
			break;
		case 't':
			prm.tasks = parse_size(optarg, 1, MAX_TASKS, "task count");
			break;
		case 'q':
			prm.req_bytes = parse_size(optarg, sizeof(struct msg_hdr), MAX_BYTES,
						   "request size");
			break;
		case 'a':
			prm.ack_bytes =
				parse_size(optarg, sizeof(struct msg_hdr), MAX_BYTES, "ack size");
			break;
		case 'd':
			prm.depth = parse_size(optarg, 1, 1u << 16, "depth");
			break;
		case 'T':
			prm.seconds = parse_size(optarg, 1, 1u << 24, "time");
			break;
		case 'z':
			opt_summary_only = true;
			break;
		case OPT_THREADS:
			opt_threads = true;
			break;
		case 'h':
			help();
			break;
		case 'V':
			printf("%s %s\n", progname, MPRDS_VERSION);
			return 0;
		default:
			usage_error(NULL); /* getopt said what */
		}
	}
	if (optind != argc)
		usage_error("unexpected argument <%s>", argv[optind]);
	prm.magic = PARAMS_MAGIC;
	prm.version = PARAMS_VERSION;
	prm.flags = opt_threads ? PARAM_THREADS : 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ctl = is_active ? active() : passive();
	status = run(ctl);
	close(ctl);
	return status;
}
