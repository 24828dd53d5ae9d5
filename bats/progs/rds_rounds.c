/* SPDX-License-Identifier: MIT */
/*
 * rds_rounds [-t timeout_s] [-H hold_s] ADDR PORT PEER_ADDR PEER_PORT [size...]
 *
 * A long-lived RDS peer for restart tests. One socket bound to ADDR:PORT:
 *  - every SIGUSR1 starts a round: one message of each size (default 0 1 8192 65536) with a
 *    pattern is sent to PEER_ADDR:PEER_PORT, which must echo it (rds_echo); each echo is
 *    checked (source, length, content) before the next size is sent;
 *  - every message from anyone else (or from the peer outside a round) is echoed back to
 *    its sender, so that other programs can use it as an echo server meanwhile.
 * Ends at SIGTERM/SIGINT or after hold_s seconds (default 120).
 *
 * Output: "ready ADDR:PORT", "round N ok (T ms)" or "round N error: ...", "echo len=L from=..." per
 * echoed message, "rounds ok=X failed=Y". Exits 0 if no round failed.
 */
#include "rds_common.h"

#include <signal.h>

static volatile sig_atomic_t stop, go;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		go++;
	else
		stop = 1;
}

static uint8_t *buf;

/* Receives one message (bounded by deadline); echoes anything that is not from `peer`
 * (always, when in_round is 0). Returns the length of a message from the peer in a round,
 * -1 on timeout or stop. */
static ssize_t serve_one(int fd, const rds_sa *peer, int in_round, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		rds_sa from;
		socklen_t fromlen;
		int trunc, rev;
		ssize_t n;

		if (left <= 0 || stop)
			return -1;
		rev = wait_fd(fd, POLLIN, left > 100 ? 100 : (int)left);
		if (!(rev & POLLIN))
			continue;
		n = rds_recv_from(fd, buf, RDS_TEST_MAX_MSG, MSG_DONTWAIT, &from, &fromlen,
				  &trunc);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			die("recvmsg: %s", strerror(errno));
		if (fromlen == 0)
			continue;
		if (in_round && same_addr(&from, peer))
			return trunc ? -2 : n;
		printf("echo len=%zd from=%s\n", n, addr_str(&from));
		if (sendto(fd, buf, (size_t)n, 0, &from.sa, sa_len(&from)) != n)
			printf("error: echo to %s: %s\n", addr_str(&from), strerror(errno));
		if (!in_round)
			return 0;
	}
}

int main(int argc, char **argv)
{
	static const long default_sizes[] = { 0, 1, 8192, 65536 };
	long sizes[32], timeout_s = 20, hold_s = 120, ok = 0, failed = 0, round = 0;
	int nsizes = 0, fd, opt;
	rds_sa peer;
	struct sigaction sa;
	long long end;
	uint8_t *out;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "t:H:")) != -1) {
		if (opt == 't')
			timeout_s = parse_long(optarg, "timeout_s", 1, 3600);
		else if (opt == 'H')
			hold_s = parse_long(optarg, "hold_s", 1, 36000);
		else
			goto usage;
	}
	if (argc - optind < 4)
		goto usage;
	for (int i = optind + 4; i < argc && nsizes < 32; i++)
		sizes[nsizes++] = parse_long(argv[i], "size", 0, RDS_TEST_MAX_MSG);
	if (!nsizes)
		for (size_t i = 0; i < sizeof(default_sizes) / sizeof(default_sizes[0]); i++)
			sizes[nsizes++] = default_sizes[i];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	buf = malloc(RDS_TEST_MAX_MSG);
	out = malloc(RDS_TEST_MAX_MSG);
	if (!buf || !out)
		die("out of memory");
	peer = make_addr(argv[optind + 2], parse_long(argv[optind + 3], "peer port", 1, 65535));
	fd = rds_socket(0);
	rds_set_bufs(fd, 2 * RDS_TEST_MAX_MSG);
	rds_bind(fd, argv[optind], parse_long(argv[optind + 1], "port", 1, 65535));
	printf("ready %s:%s peer %s\n", argv[optind], argv[optind + 1], addr_str(&peer));

	end = now_ms() + hold_s * 1000;
	while (!stop && now_ms() < end) {
		if (round >= go) {
			serve_one(fd, &peer, 0, now_ms() + 100);
			continue;
		}
		round++;
		long long t0 = now_ms();
		const char *err = NULL;
		char why[160];

		for (int k = 0; k < nsizes && !err; k++) {
			size_t size = (size_t)sizes[k];
			ssize_t n;

			fill_pattern(out, size);
			if (sendto(fd, out, size, 0, &peer.sa, sa_len(&peer)) != (ssize_t)size) {
				snprintf(why, sizeof(why), "sendto size=%zu: %s", size,
					 strerror(errno));
				err = why;
				break;
			}
			n = serve_one(fd, &peer, 1, now_ms() + timeout_s * 1000);
			if (n == -1) {
				snprintf(why, sizeof(why), "no echo of size=%zu within %lds", size,
					 timeout_s);
				err = why;
			} else if (n == -2 || (size_t)n != size) {
				snprintf(why, sizeof(why), "echo of size=%zu has %zd bytes%s", size,
					 n, n == -2 ? " (truncated)" : "");
				err = why;
			} else if (check_pattern(buf, size) != size) {
				snprintf(why, sizeof(why), "echo of size=%zu differs at %zu", size,
					 check_pattern(buf, size));
				err = why;
			}
		}
		if (err) {
			failed++;
			printf("round %ld error: %s (after %lld ms)\n", round, err, now_ms() - t0);
		} else {
			ok++;
			printf("round %ld ok (%lld ms)\n", round, now_ms() - t0);
		}
	}
	printf("rounds ok=%ld failed=%ld\n", ok, failed);
	return failed ? 1 : 0;

usage:
	fprintf(stderr,
		"usage: %s [-t timeout_s] [-H hold_s] ADDR PORT PEER_ADDR PEER_PORT [size...]\n",
		argv[0]);
	return 2;
}
