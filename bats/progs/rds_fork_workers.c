/* SPDX-License-Identifier: MIT */
/*
 * rds_fork_workers ADDR_PREFIX FIRST PEER PEERPORT [workers] [count]
 *
 * In the style of rds-stress: the parent opens an RDS socket on ADDR_PREFIX.FIRST, then forks
 * `workers` children; child i opens its own socket on ADDR_PREFIX.(FIRST+1+i) after the fork,
 * sends `count` numbered messages to PEER:PEERPORT (an echo server) and checks every echo in
 * order. A child also checks the socket inherited from the parent: with RDS_INHERITED=same
 * (host-wide mode) it is the parent's socket, bound where the parent bound it, as in the
 * kernel; otherwise (in-process mode) it refuses to work (EBADF: it belongs to the parent's
 * engine). The parent, after its children, still exchanges a message on its own socket.
 * Every wait is bounded (SO_RCVTIMEO, alarm).
 *
 * Output: "worker I ok N echoes", "inherited fd: EBADF" or "inherited fd: the parent's
 * socket", "parent ok", "all ok".
 */
#include "rds_common.h"

#include <sys/wait.h>

#define PARENT_PORT 7100

static int open_bound(const char *prefix, long host, long port)
{
	char ip[64];
	rds_sa a;
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	snprintf(ip, sizeof(ip), "%s.%ld", prefix, host);
	a = make_addr(ip, port);
	if (bind(fd, &a.sa, sa_len(&a)) < 0)
		die("bind %s:%ld: %s", ip, port, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("SO_RCVTIMEO: %s", strerror(errno));
	return fd;
}

static void exchange(int fd, const rds_sa *peer, const char *text)
{
	char buf[256];
	ssize_t n;

	if (sendto(fd, text, strlen(text), 0, &peer->sa, sa_len(peer)) < 0)
		die("sendto: %s", strerror(errno));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		die("recv: %s", strerror(errno));
	buf[n] = 0;
	if (strcmp(buf, text) != 0)
		die("echo mismatch: got '%s', want '%s'", buf, text);
}

static void check_inherited(int idx, int inherited, const char *prefix, long first,
			    const rds_sa *peer)
{
	const char *mode = getenv("RDS_INHERITED");
	char ip[64];
	rds_sa want, got;
	socklen_t len = sizeof(got);

	if (!mode || strcmp(mode, "same") != 0) {
		if (sendto(inherited, "x", 1, 0, &peer->sa, sa_len(peer)) >= 0 || errno != EBADF)
			die("worker %d: inherited fd did not give EBADF (%s)", idx,
			    strerror(errno));
		if (idx == 0)
			printf("inherited fd: EBADF\n");
		return;
	}
	snprintf(ip, sizeof(ip), "%s.%ld", prefix, first);
	want = make_addr(ip, PARENT_PORT);
	if (getsockname(inherited, &got.sa, &len) < 0)
		die("worker %d: getsockname of the inherited fd: %s", idx, strerror(errno));
	if (len != sa_len(&want) || memcmp(&got, &want, len) != 0)
		die("worker %d: the inherited fd is not bound where the parent bound it", idx);
	if (idx == 0)
		printf("inherited fd: the parent's socket\n");
}

static void worker(int idx, int inherited, const char *prefix, long first, const rds_sa *peer,
		   long count)
{
	char text[64];
	int fd;

	check_inherited(idx, inherited, prefix, first, peer);
	fd = open_bound(prefix, first + 1 + idx, 7000 + idx);
	for (long k = 0; k < count; k++) {
		snprintf(text, sizeof(text), "worker %d message %ld", idx, k);
		exchange(fd, peer, text);
	}
	printf("worker %d ok %ld echoes\n", idx, count);
	close(fd);
	exit(0);
}

int main(int argc, char **argv)
{
	long first, workers = 4, count = 50;
	rds_sa peer;
	int fd, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5 || argc > 7) {
		fprintf(stderr, "usage: %s ADDR_PREFIX FIRST PEER PEERPORT [workers] [count]\n",
			argv[0]);
		return 2;
	}
	first = parse_long(argv[2], "FIRST", 1, 250);
	peer = make_addr(argv[3], parse_long(argv[4], "PEERPORT", 2, 65535));
	if (argc > 5)
		workers = parse_long(argv[5], "workers", 1, 16);
	if (argc > 6)
		count = parse_long(argv[6], "count", 1, 100000);
	alarm(60);
	fd = open_bound(argv[1], first, PARENT_PORT);
	exchange(fd, &peer, "parent before fork");
	for (int i = 0; i < workers; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0)
			worker(i, fd, argv[1], first, &peer, count);
	}
	for (int i = 0; i < workers; i++) {
		int status;

		if (wait(&status) < 0)
			die("wait: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	exchange(fd, &peer, "parent after its workers");
	printf("parent ok\n");
	if (failed)
		die("%d workers failed", failed);
	printf("all ok\n");
	return 0;
}
