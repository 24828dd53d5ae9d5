// SPDX-License-Identifier: MIT
/*
 * mprds-ping [-c count] [-i interval] [-I local_addr] [-Q tos] [-v] address
 *
 * rds-ping for mprds: sends an empty RDS message to port 0 of the destination every interval
 * and prints one line per reply, " SEQ: RTT usec". The peer's RDS stack (its kernel, or its
 * mprds engine) answers every message to port 0 with an empty message from port 0, without
 * any application being involved. As rds-ping, the pings go out in turn from 8 sockets, so
 * that a reply tells which ping it answers by the socket it arrives on.
 *
 * When no reply came back it says what it can tell of why: how the RDS_INFO_CONNECTIONS
 * table of its own RDS stack lists the connection to the destination.
 *
 * Written against the plain <linux/rds.h> API: runs under mprds-run and on a kernel with RDS.
 * Exit status 0 if any reply came back, 1 if none or on an error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/rds.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define NSOCKETS 8

const char *const progname = "mprds-ping";

struct ping_sock {
	int fd;
	unsigned sent_id; /* 0: nothing sent yet */
	double sent_at;
	unsigned replies;
};

static struct sockaddr_in dst, src;
static unsigned long count; /* 0 = until interrupted */
static double interval = 1.0;
static int tos = -1;
static bool verbose;
static volatile sig_atomic_t interrupted;

#define SYNOPSIS "[-c count] [-i interval] [-I local_addr] [-Q tos] [-v] address"
const char *const synopsis = SYNOPSIS;

static void help(void)
{
	printf("Usage: %s " SYNOPSIS "\n"
	       "  -c count     stop after count replies (default: until interrupted)\n"
	       "  -i interval  seconds between pings, or with a unit: 200ms, 500us (default 1)\n"
	       "  -I address   local address to send from (default: the route's source)\n"
	       "  -Q tos       type of service of the sockets (SIOCRDSSETTOS)\n"
	       "  -v           also print where each reply came from and its length\n"
	       "  -h, --help   show this help\n"
	       "  -V, --version  show the version\n"
	       "Exit status: 0 if any reply came back, 1 if none or on an error, 2 on a usage "
	       "error.\n",
	       progname);
	exit(0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* As rds-ping: seconds, or a number with ms/msec/us/usec. */
static bool parse_interval(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return false;
	if (!strcmp(end, "ms") || !strcmp(end, "msec"))
		v *= 1e-3;
	else if (!strcmp(end, "us") || !strcmp(end, "usec"))
		v *= 1e-6;
	else if (*end)
		return false;
	if (v < 0)
		return false;
	*out = v;
	return true;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* Without -I: the address the kernel would send from towards dst (as rds-ping does). */
static void guess_source(void)
{
	struct sockaddr_in sin = dst;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket(AF_INET): %s", strerror(errno));
	sin.sin_port = htons(1);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("no route to %s: %s", inet_ntoa(dst.sin_addr), strerror(errno));
	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die("getsockname: %s", strerror(errno));
	close(fd);
	src.sin_addr = sin.sin_addr;
}

static int rds_socket(void)
{
	int fd = socket(AF_RDS, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket(AF_RDS): %s (run it under mprds-run)", strerror(errno));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		die("bind %s: %s", inet_ntoa(src.sin_addr), strerror(errno));
	if (tos >= 0) {
		unsigned char t = (unsigned char)tos;

		if (ioctl(fd, SIOCRDSSETTOS, &t) < 0)
			die("SIOCRDSSETTOS %d: %s", tos, strerror(errno));
	}
	return fd;
}

static void report(struct ping_sock *ps, double at, const struct sockaddr_in *from, ssize_t len,
		   int err)
{
	printf(" %3u:", ps->sent_id);
	if (at > 0)
		printf(" %ld usec", (long)((at - ps->sent_at) * 1e6));
	if (from && from->sin_addr.s_addr != dst.sin_addr.s_addr)
		printf(" (%s)", inet_ntoa(from->sin_addr));
	if (ps->replies)
		printf(" DUP!");
	if (verbose && from)
		printf(" from %s:%u, %zd bytes", inet_ntoa(from->sin_addr), ntohs(from->sin_port),
		       len);
	if (err)
		printf(" ERROR: %s", strerror(err));
	printf("\n");
	fflush(stdout);
	ps->replies++;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static unsigned long receive(struct ping_sock *ps)
{
	struct sockaddr_in from;
	socklen_t alen = sizeof(from);
	char buf[64];
	ssize_t n;

	n = recvfrom(ps->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &alen);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			report(ps, now(), NULL, 0, errno);
		return 0;
	}
	report(ps, now(), &from, n, 0);
	return 1;
}

/* rds-info's loop: call, on ENOSPC grow the buffer to what the stack asks, call again. */
static int rds_info(int fd, int optname, void **data, socklen_t *len)
{
	*len = 0;
	for (int tries = 0; tries < 16; tries++) {
		int each = getsockopt(fd, SOL_RDS, optname, *data, len);
		void *p;

		if (each >= 0)
			return each;
		if (errno != ENOSPC)
			return -1;
		p = realloc(*data, *len ? *len : 1);
		if (!p)
			return -1;
		*data = p;
	}
	return -1;
}

/* The flags of our connection to dst in RDS_INFO_CONNECTIONS, or -1 if it is not listed. */
static int connection_flags(int fd)
{
	struct rds_info_connection ci;
	void *data = NULL;
	socklen_t len;
	int each = rds_info(fd, RDS_INFO_CONNECTIONS, &data, &len), flags = -1;

	for (size_t off = 0; each >= (int)sizeof(ci) && off + (size_t)each <= len;
	     off += (size_t)each) {
		memcpy(&ci, (char *)data + off, sizeof(ci));
		if (ci.laddr == src.sin_addr.s_addr && ci.faddr == dst.sin_addr.s_addr)
			flags = ci.flags;
	}
	free(data);
	return flags;
}

/* No reply came back: what the RDS stack can tell of why, on stderr. */
static void explain_silence(int fd, unsigned long send_errors, unsigned long sent)
{
	int flags = connection_flags(fd);
	const char *why;

	if (sent && send_errors == sent)
		why = "every send failed (above)";
	else if (flags < 0)
		why = "no RDS connection to it is listed";
	else if (flags & RDS_INFO_CONNECTION_FLAG_CONNECTED)
		why = "the connection is up, but no pong came back";
	else if (flags & RDS_INFO_CONNECTION_FLAG_CONNECTING)
		why = "still connecting to its RDS/TCP port: nothing answers (no RDS there, or "
		      "packets dropped?)";
	else
		why = "nothing answered at its RDS/TCP port (no RDS there?)";
	fprintf(stderr, "%s: no reply from %s: %s\n", progname, inet_ntoa(dst.sin_addr), why);
}

static int ping(void)
{
	struct ping_sock socks[NSOCKETS] = { 0 };
	struct pollfd pfd[NSOCKETS];
	unsigned long sent = 0, received = 0, send_errors = 0;
	double next = now();
	int turn = 0;

	for (int i = 0; i < NSOCKETS; i++) {
		socks[i].fd = rds_socket();
		pfd[i] = (struct pollfd){ .fd = socks[i].fd, .events = POLLIN };
	}
	while (!interrupted && !(count && received >= count)) {
		double t = now();
		int ms, n;

		if (t >= next) {
			struct ping_sock *ps = &socks[turn];
			int err = 0;

			if (count && sent >= count)
				break; /* one interval after the last ping: give up on the rest */
			next += interval;
			if (sendto(ps->fd, NULL, 0, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
				err = errno;
			ps->sent_id = (unsigned)++sent;
			ps->sent_at = t;
			ps->replies = 0;
			turn = (turn + 1) % NSOCKETS;
			if (err) {
				send_errors++;
				report(ps, 0, NULL, 0, err);
			}
			continue;
		}
		ms = (int)((next - t) * 1000) + 1;
		n = poll(pfd, NSOCKETS, ms);
		if (n < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int i = 0; n > 0 && i < NSOCKETS; i++)
			if (pfd[i].revents & POLLIN)
				received += receive(&socks[i]);
	}
	if (!received)
		explain_silence(socks[0].fd, send_errors, sent);
	for (int i = 0; i < NSOCKETS; i++)
		close(socks[i].fd);
	return received ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' },
						  { "version", no_argument, NULL, 'V' },
						  { NULL, 0, NULL, 0 } };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long v;
	bool have_src = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:i:I:Q:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (!parse_ulong(optarg, ~0ul, &count))
				usage_error("bad count <%s>", optarg);
			break;
		case 'i':
			if (!parse_interval(optarg, &interval))
				usage_error("bad interval <%s>", optarg);
			break;
		case 'I':
			if (!parse_addr(optarg, &src.sin_addr))
				usage_error("unknown source address <%s>", optarg);
			have_src = true;
			break;
		case 'Q':
			if (!parse_ulong(optarg, 255, &v))
				usage_error("bad tos <%s>", optarg);
			tos = (int)v;
			break;
		case 'v':
			verbose = true;
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
	if (optind == argc)
		usage_error("no address to ping");
	if (optind + 1 != argc)
		usage_error("one address only, not also <%s>", argv[optind + 1]);
	dst.sin_family = src.sin_family = AF_INET;
	if (!parse_addr(argv[optind], &dst.sin_addr))
		usage_error("cannot parse destination address <%s>", argv[optind]);
	if (!have_src)
		guess_source();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return ping();
}
