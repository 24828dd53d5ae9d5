/* SPDX-License-Identifier: MIT */
/*
 * rds_echo ADDR PORT [count] [timeout_s]
 *
 * Binds an RDS socket to ADDR:PORT, receives messages and sends each one back to its sender
 * (recvmsg -> sendto). Exits 0 after `count` messages (0 = no limit), or when nothing arrives
 * for timeout_s seconds (default 10): that is an error if a count was given and not reached.
 *
 * Output: "ready ADDR:PORT", one "echo len=N from=IP:PORT" per message, "echoed N messages".
 */
#include "rds_common.h"

#include <signal.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	rds_sa from;
	socklen_t fromlen;
	long count = 0, timeout_s = 10, got = 0;
	uint8_t *buf;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s ADDR PORT [count] [timeout_s]\n", argv[0]);
		return 2;
	}
	if (argc > 3)
		count = parse_long(argv[3], "count", 0, 1000000000);
	if (argc > 4)
		timeout_s = parse_long(argv[4], "timeout_s", 1, 3600);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	buf = malloc(RDS_TEST_MAX_MSG);
	if (!buf)
		die("out of memory");

	fd = rds_socket(0);
	rds_set_bufs(fd, 2 * RDS_TEST_MAX_MSG);
	set_timeouts(fd, 20);
	rds_bind(fd, argv[1], parse_long(argv[2], "port", 0, 65535));
	printf("ready %s:%s\n", argv[1], argv[2]);

	while (!stop && (count == 0 || got < count)) {
		int trunc;
		ssize_t n;
		int rev = wait_fd(fd, POLLIN, (int)timeout_s * 1000);

		if (stop)
			break;
		if (rev == 0) {
			if (count) {
				printf("error: idle for %lds after %ld of %ld messages\n",
				       timeout_s, got, count);
				return 1;
			}
			printf("idle for %lds, stopping\n", timeout_s);
			break;
		}
		if (!(rev & POLLIN))
			die("poll on RDS socket gave revents 0x%x", rev);
		n = rds_recv_from(fd, buf, RDS_TEST_MAX_MSG, MSG_DONTWAIT, &from, &fromlen, &trunc);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				printf("note: POLLIN but recvmsg gave %s\n", strerror(errno));
				continue;
			}
			die("recvmsg: %s", strerror(errno));
		}
		if (fromlen == 0) {
			printf("note: notification without a source (len %zd), skipped\n", n);
			continue;
		}
		if ((from.sa.sa_family != AF_INET && from.sa.sa_family != AF_INET6) ||
		    fromlen != sa_len(&from))
			die("recvmsg: msg_namelen %u family %u", (unsigned)fromlen,
			    from.sa.sa_family);
		if (trunc)
			die("message from %s truncated at %zd bytes", addr_str(&from), n);
		got++;
		printf("echo len=%zd from=%s\n", n, addr_str(&from));
		ssize_t s = sendto(fd, buf, (size_t)n, 0, &from.sa, sa_len(&from));
		if (s < 0)
			die("sendto %s (%zd bytes): %s", addr_str(&from), n, strerror(errno));
		if (s != n)
			die("sendto %s returned %zd, want %zd", addr_str(&from), s, n);
	}
	printf("echoed %ld messages\n", got);
	/* No close(): it would drop a last echo still queued (socket-api.md §8); exit flushes. */
	free(buf);
	return 0;
}
