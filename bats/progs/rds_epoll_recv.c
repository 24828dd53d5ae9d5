/* SPDX-License-Identifier: MIT */
/*
 * rds_epoll_recv [-e] ADDR PORT [count] [timeout_s]
 *
 * Binds a non-blocking RDS socket to ADDR:PORT and waits for messages with epoll_wait only
 * (level-triggered, or edge-triggered with -e); after each wake-up it drains the socket until
 * EAGAIN. Exits 0 once `count` messages (default 1) arrived; exits 1 if epoll_wait sees
 * nothing for timeout_s seconds (default 10).
 *
 * Output: "ready ADDR:PORT", "wake N events=0x..", "recv len=N from=IP:PORT" per message,
 * "received N messages in W wake-ups".
 */
#include "rds_common.h"

#include <fcntl.h>
#include <sys/epoll.h>

int main(int argc, char **argv)
{
	long count = 1, timeout_s = 10, got = 0, wakes = 0, empty_wakes = 0;
	int edge = 0, opt, fd, ep, flags;
	struct epoll_event ev;
	static uint8_t buf[RDS_TEST_MAX_MSG];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "e")) != -1) {
		if (opt == 'e') {
			edge = 1;
		} else {
			fprintf(stderr, "usage: %s [-e] ADDR PORT [count] [timeout_s]\n", argv[0]);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 4) {
		fprintf(stderr, "usage: %s [-e] ADDR PORT [count] [timeout_s]\n", argv[0]);
		return 2;
	}
	if (argc - optind > 2)
		count = parse_long(argv[optind + 2], "count", 1, 1000000000);
	if (argc - optind > 3)
		timeout_s = parse_long(argv[optind + 3], "timeout_s", 1, 3600);

	fd = rds_socket(SOCK_NONBLOCK | SOCK_CLOEXEC);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || !(flags & O_NONBLOCK))
		die("socket(SOCK_NONBLOCK): F_GETFL gives 0x%x (%s), O_NONBLOCK missing", flags,
		    flags < 0 ? strerror(errno) : "ok");
	rds_bind(fd, argv[optind], parse_long(argv[optind + 1], "port", 0, 65535));

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (edge ? EPOLLET : 0);
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl(ADD, RDS fd): %s", strerror(errno));
	printf("ready %s:%s %s-triggered\n", argv[optind], argv[optind + 1],
	       edge ? "edge" : "level");

	while (got < count) {
		struct epoll_event out[4];
		int n = epoll_wait(ep, out, 4, (int)timeout_s * 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		if (n == 0)
			die("epoll_wait: no wake-up for %lds (got %ld of %ld messages)", timeout_s,
			    got, count);
		if (out[0].data.fd != fd)
			die("epoll_wait returned an unknown fd %d", out[0].data.fd);
		if (!(out[0].events & EPOLLIN))
			die("epoll_wait woke with events 0x%x without EPOLLIN", out[0].events);
		wakes++;
		printf("wake %ld events=0x%x\n", wakes, out[0].events);

		/* Drain until EAGAIN (required for edge-triggered; bounded anyway). */
		long this_wake = 0;
		for (int i = 0; i < 100000; i++) {
			rds_sa from;
			socklen_t fromlen;
			int trunc;
			ssize_t r = rds_recv_from(fd, buf, sizeof(buf), 0, &from, &fromlen, &trunc);

			if (r < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				if (errno == EINTR)
					continue;
				die("recvmsg after wake-up: %s", strerror(errno));
			}
			if (fromlen == 0) {
				printf("note: notification without a source\n");
				continue;
			}
			if (fromlen != sizeof(from.in) || from.sa.sa_family != AF_INET)
				die("recvmsg: msg_namelen %u family %u", (unsigned)fromlen,
				    from.sa.sa_family);
			if (trunc)
				die("message truncated");
			got++;
			this_wake++;
			printf("recv len=%zd from=%s\n", r, addr_str(&from));
		}
		if (this_wake == 0) {
			empty_wakes++;
			printf("note: wake-up without a message\n");
			if (empty_wakes > 1000)
				die("epoll keeps waking with nothing to read");
		}
	}
	printf("received %ld messages in %ld wake-ups\n", got, wakes);
	close(ep);
	close(fd);
	return 0;
}
