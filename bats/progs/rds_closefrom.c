/* SPDX-License-Identifier: MIT */
/*
 * rds_closefrom ADDR PORT PEER PEERPORT
 *
 * A daemon-like program that tidies its fds while it uses RDS: it exchanges messages with an
 * echo server, then closes every fd but stdio and its RDS socket with close_range(),
 * closefrom() and a close() loop, and exchanges messages again. Under the shim the engine's
 * own fds are among them: they must stay open and traffic must keep flowing.
 *
 * Output: "before ok", "closed fds", "after ok".
 */
#include "rds_common.h"

static void exchange(int fd, const rds_sa *peer, int round)
{
	char text[64], buf[64];
	ssize_t n;

	for (int k = 0; k < 20; k++) {
		snprintf(text, sizeof(text), "round %d message %d", round, k);
		if (sendto(fd, text, strlen(text), 0, &peer->sa, sa_len(peer)) < 0)
			die("sendto: %s", strerror(errno));
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			die("recv (round %d): %s", round, strerror(errno));
		buf[n] = 0;
		if (strcmp(buf, text))
			die("echo mismatch: got '%s', want '%s'", buf, text);
	}
}

int main(int argc, char **argv)
{
	rds_sa me, peer;
	struct timeval tv = { .tv_sec = 10 };
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 5) {
		fprintf(stderr, "usage: %s ADDR PORT PEER PEERPORT\n", argv[0]);
		return 2;
	}
	alarm(60);
	me = make_addr(argv[1], parse_long(argv[2], "PORT", 2, 65535));
	peer = make_addr(argv[3], parse_long(argv[4], "PEERPORT", 2, 65535));
	fd = socket(AF_RDS, SOCK_SEQPACKET, 0);
	if (fd < 0 || bind(fd, &me.sa, sa_len(&me)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("socket/bind: %s", strerror(errno));
	exchange(fd, &peer, 1);
	printf("before ok\n");
	/* Close every fd but stdio and the RDS socket, three ways. */
	if (fd > 3 && close_range(3, (unsigned int)fd - 1, 0) < 0)
		die("close_range below: %s", strerror(errno));
	if (close_range((unsigned int)fd + 1, ~0U, 0) < 0)
		die("close_range above: %s", strerror(errno));
	closefrom(fd + 1);
	for (int i = 3; i < 1024; i++)
		if (i != fd)
			close(i);
	printf("closed fds\n");
	exchange(fd, &peer, 2);
	printf("after ok\n");
	return 0;
}
