// SPDX-License-Identifier: MIT
/*
 * rds_scale: many RDS sockets and many peer addresses in one process.
 *
 *   rds_scale server PREFIX FIRST COUNT LIFETIME_S
 *       binds one socket to each of PREFIX.FIRST .. PREFIX.(FIRST + COUNT - 1) (e.g. PREFIX
 *       127.0.1), port 5000, and echoes every message back, for at most LIFETIME_S seconds
 *       (several servers share the client's NPEERS addresses between them)
 *   rds_scale client LADDR PREFIX NPEERS NSOCKS ROUNDS
 *       binds NSOCKS sockets to LADDR ports 20000.., then ROUNDS times sends one 64-byte
 *       message from every socket (socket i to PREFIX.(i % NPEERS + 1)) and waits for all
 *       the echoes; prints "key value" lines: RSS and threads before the first socket, after
 *       creating the sockets and after the rounds, and the CPU time per message.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_RDS
#define AF_RDS 21
#endif

#define MSG 64
#define PEER_PORT 5000
#define ROUND_TIMEOUT_S 60

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "rds_scale: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n - 3; /* ., .., and the DIR's own fd */
}

static void snapshot(const char *when)
{
	printf("%s_rss_kb %ld\n%s_threads %ld\n%s_fds %d\n", when, status_kb("VmRSS:"), when,
	       status_kb("Threads:"), when, count_fds());
	fflush(stdout);
}

static struct sockaddr_in peer_addr(const char *prefix, int i, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char a[64];

	snprintf(a, sizeof(a), "%s.%d", prefix, i + 1);
	if (inet_pton(AF_INET, a, &sin.sin_addr) != 1) {
		fprintf(stderr, "rds_scale: bad address %s\n", a);
		exit(2);
	}
	return sin;
}

static int rds_socket(struct sockaddr_in *sin)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 0);

	if (fd < 0)
		die("socket(AF_RDS)");
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)))
		die("bind");
	return fd;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int server(const char *prefix, int first, int npeers, int lifetime)
{
	int ep = epoll_create1(0);
	double end = now_s() + lifetime;
	char buf[MSG];

	raise_nofile();
	for (int i = 0; i < npeers; i++) {
		struct sockaddr_in sin = peer_addr(prefix, first - 1 + i, PEER_PORT);
		struct epoll_event ev = { .events = EPOLLIN };
		int buf_sz = 8 << 20;

		ev.data.fd = rds_socket(&sin);
		setsockopt(ev.data.fd, SOL_SOCKET, SO_SNDBUF, &buf_sz, sizeof(buf_sz));
		setsockopt(ev.data.fd, SOL_SOCKET, SO_RCVBUF, &buf_sz, sizeof(buf_sz));
		epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	printf("ready\n");
	fflush(stdout);
	while (now_s() < end) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 1000);

		for (int i = 0; i < n; i++) {
			for (;;) {
				struct sockaddr_in from;
				socklen_t alen = sizeof(from);
				ssize_t r = recvfrom(evs[i].data.fd, buf, sizeof(buf), MSG_DONTWAIT,
						     (struct sockaddr *)&from, &alen);

				if (r < 0)
					break;
				/* blocking send: waits for room in the send buffer */
				sendto(evs[i].data.fd, buf, (size_t)r, 0, (struct sockaddr *)&from,
				       alen);
			}
		}
	}
	return 0;
}

static int client(const char *laddr, const char *prefix, int npeers, int nsocks, int rounds)
{
	int *fds = calloc((size_t)nsocks, sizeof(int)), ep = epoll_create1(0);
	struct epoll_event *evs = calloc(1024, sizeof(*evs));
	double t0, c0 = 0, t1, c1;
	char buf[MSG] = { 0 };

	raise_nofile();
	snapshot("start");
	t0 = now_s();
	for (int i = 0; i < nsocks; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons((uint16_t)(20000 + i)) };
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		inet_pton(AF_INET, laddr, &sin.sin_addr);
		fds[i] = rds_socket(&sin);
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	printf("create_s %.3f\n", now_s() - t0);
	snapshot("sockets");
	/* Round 0 sets up the connections and paths; rounds 1.. are measured. */
	for (int r = 0; r <= rounds; r++) {
		long got = 0;
		double deadline = now_s() + ROUND_TIMEOUT_S;

		if (r == 1) {
			t0 = now_s();
			c0 = cpu_s();
		}
		for (int i = 0; i < nsocks; i++) {
			struct sockaddr_in to = peer_addr(prefix, i % npeers, PEER_PORT);

			while (sendto(fds[i], buf, sizeof(buf), 0, (struct sockaddr *)&to,
				      sizeof(to)) < 0) {
				if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
					die("sendto");
				usleep(100);
				if (now_s() > deadline)
					die("sendto timeout");
			}
		}
		while (got < nsocks) {
			int n = epoll_wait(ep, evs, 1024, 1000);

			if (now_s() > deadline) {
				fprintf(stderr, "rds_scale: round %d: %ld of %d echoes\n", r, got,
					nsocks);
				exit(1);
			}
			for (int k = 0; k < n; k++)
				while (recv(fds[evs[k].data.u32], buf, sizeof(buf), MSG_DONTWAIT) > 0)
					got++;
		}
		if (r == 0)
			snapshot("connected");
	}
	t1 = now_s();
	c1 = cpu_s();
	printf("rounds %d\nmessages %ld\nwall_s %.3f\ncpu_s %.3f\n", rounds, (long)rounds * nsocks * 2,
	       t1 - t0, c1 - c0);
	/* A message sent and one received per socket per round. */
	printf("cpu_us_per_msg %.2f\nmsgs_per_s %.0f\n",
	       (c1 - c0) * 1e6 / ((double)rounds * nsocks * 2),
	       (double)rounds * nsocks * 2 / (t1 - t0));
	snapshot("end");
	printf("vmhwm_kb %ld\n", status_kb("VmHWM:"));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "server"))
		return server(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	if (argc == 7 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
	fprintf(stderr, "usage: rds_scale server PREFIX FIRST COUNT LIFETIME_S\n"
			"       rds_scale client LADDR PREFIX NPEERS NSOCKS ROUNDS\n");
	return 2;
}
