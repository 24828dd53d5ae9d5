/* SPDX-License-Identifier: MIT */
/*
 * rds_ping [-c count] [-t timeout_s] [-i interval_ms] ADDR PORT PEER_ADDR
 *
 * RDS ping as rds-ping does it: binds ADDR:PORT (PORT 0 lets the system choose), sends
 * `count` (default 3) zero-length messages to PEER_ADDR port 0 and waits after each for the
 * pong: a zero-length message from PEER_ADDR port 0 (wire.md §6). Anything else that
 * arrives is reported and is an error.
 *
 * Output: "bound ADDR:PORT", "pong N from PEER:0 len 0 rtt_us U" per pong, "N/N pongs".
 * Exits 0 only if every ping got its pong within timeout_s (default 10) seconds.
 */
#include "rds_common.h"

int main(int argc, char **argv)
{
	long count = 3, timeout_s = 10, interval_ms = 100, got = 0, bad = 0;
	rds_sa local, peer, from;
	socklen_t len = sizeof(local), fromlen;
	uint8_t buf[64];
	int fd, opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "c:t:i:")) != -1) {
		switch (opt) {
		case 'c':
			count = parse_long(optarg, "count", 1, 100000);
			break;
		case 't':
			timeout_s = parse_long(optarg, "timeout_s", 1, 3600);
			break;
		case 'i':
			interval_ms = parse_long(optarg, "interval_ms", 0, 60000);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 3)
		goto usage;

	fd = rds_socket(0);
	rds_bind(fd, argv[optind], parse_long(argv[optind + 1], "port", 0, 65535));
	if (getsockname(fd, &local.sa, &len) < 0)
		die("getsockname: %s", strerror(errno));
	printf("bound %s\n", addr_str(&local));
	peer = make_addr(argv[optind + 2], 0);

	for (long k = 1; k <= count; k++) {
		long long t0 = now_ms(), deadline = t0 + timeout_s * 1000;
		struct timespec ts0, ts1;

		clock_gettime(CLOCK_MONOTONIC, &ts0);
		if (sendto(fd, NULL, 0, 0, &peer.sa, sa_len(&peer)) < 0)
			die("ping %ld: sendto %s: %s", k, addr_str(&peer), strerror(errno));
		for (;;) {
			long long left = deadline - now_ms();
			int trunc;
			ssize_t n;

			if (left <= 0 || !(wait_fd(fd, POLLIN, (int)left) & POLLIN)) {
				printf("error: no pong %ld within %lds\n", k, timeout_s);
				return 1;
			}
			n = rds_recv_from(fd, buf, sizeof(buf), MSG_DONTWAIT, &from, &fromlen,
					  &trunc);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0)
				die("recvmsg: %s", strerror(errno));
			if (fromlen == 0) {
				printf("note: notification without a source, skipped\n");
				continue;
			}
			if (fromlen == sa_len(&from) && same_addr(&from, &peer) && n == 0)
				break;
			printf("error: unexpected message len %zd from %s (namelen %u)\n", n,
			       addr_str(&from), (unsigned)fromlen);
			bad++;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts1);
		got++;
		printf("pong %ld from %s len 0 rtt_us %ld\n", k, addr_str(&from),
		       (long)((ts1.tv_sec - ts0.tv_sec) * 1000000 +
			      (ts1.tv_nsec - ts0.tv_nsec) / 1000));
		if (k < count && interval_ms)
			usleep((useconds_t)interval_ms * 1000);
	}
	printf("%ld/%ld pongs\n", got, count);
	return bad ? 1 : 0;

usage:
	fprintf(stderr, "usage: %s [-c count] [-t timeout_s] [-i interval_ms] ADDR PORT PEER_ADDR\n",
		argv[0]);
	return 2;
}
