/* SPDX-License-Identifier: MIT */
/*
 * rds_send_check [-t timeout_s] ADDR PORT PEER_ADDR PEER_PORT [size...]
 *
 * Binds ADDR:PORT, sends one message of each size (default 0 1 8192 1048576) with a
 * deterministic content pattern to PEER_ADDR:PEER_PORT, which must echo it back (rds_echo,
 * bats/py/rds_echo.py), and checks each echo: source, length and content.
 *
 * ADDR and PEER_ADDR: IPv4, or IPv6 with an optional %scope (rds_common.h make_addr).
 * Output: "echoes from ADDR" (the source of the first echo, as recvmsg gave it), "ok size=N"
 * per size, then "all N sizes ok". Exits 1 on the first failure; every wait is bounded by
 * timeout_s (default 20).
 */
#include "rds_common.h"

int main(int argc, char **argv)
{
	static const long default_sizes[] = { 0, 1, 8192, RDS_TEST_MAX_MSG };
	long sizes[64];
	int nsizes = 0, opt;
	long timeout_s = 20;
	rds_sa peer;
	uint8_t *out, *in;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt == 't') {
			timeout_s = parse_long(optarg, "timeout_s", 1, 3600);
		} else {
			fprintf(stderr,
				"usage: %s [-t timeout_s] ADDR PORT PEER_ADDR PEER_PORT [size...]\n",
				argv[0]);
			return 2;
		}
	}
	if (argc - optind < 4) {
		fprintf(stderr,
			"usage: %s [-t timeout_s] ADDR PORT PEER_ADDR PEER_PORT [size...]\n",
			argv[0]);
		return 2;
	}
	for (int i = optind + 4; i < argc; i++) {
		if (nsizes == (int)(sizeof(sizes) / sizeof(sizes[0])))
			die("too many sizes");
		sizes[nsizes++] = parse_long(argv[i], "size", 0, RDS_TEST_MAX_MSG);
	}
	if (nsizes == 0) {
		for (size_t i = 0; i < sizeof(default_sizes) / sizeof(default_sizes[0]); i++)
			sizes[nsizes++] = default_sizes[i];
	}

	out = malloc(RDS_TEST_MAX_MSG);
	in = malloc(RDS_TEST_MAX_MSG + 1);
	if (!out || !in)
		die("out of memory");

	peer = make_addr(argv[optind + 2], parse_long(argv[optind + 3], "peer port", 1, 65535));
	fd = rds_socket(0);
	rds_set_bufs(fd, 2 * RDS_TEST_MAX_MSG);
	set_timeouts(fd, (int)timeout_s);
	rds_bind(fd, argv[optind], parse_long(argv[optind + 1], "port", 0, 65535));
	printf("bound %s:%s, peer %s\n", argv[optind], argv[optind + 1], addr_str(&peer));

	for (int k = 0; k < nsizes; k++) {
		size_t size = (size_t)sizes[k];
		rds_sa from;
		socklen_t fromlen;
		int trunc;
		ssize_t n;

		fill_pattern(out, size);
		n = sendto(fd, out, size, 0, &peer.sa, sa_len(&peer));
		if (n < 0)
			die("sendto %s size=%zu: %s", addr_str(&peer), size, strerror(errno));
		if ((size_t)n != size)
			die("sendto size=%zu returned %zd (want the payload length)", size, n);
		printf("sent size=%zu\n", size);

		/* Wait for the echo; skip (and report) anything that is not from the peer. */
		for (;;) {
			int rev = wait_fd(fd, POLLIN, (int)timeout_s * 1000);

			if (rev == 0)
				die("no echo of size=%zu within %lds", size, timeout_s);
			if (!(rev & POLLIN))
				die("poll gave revents 0x%x waiting for size=%zu", rev, size);
			n = rds_recv_from(fd, in, RDS_TEST_MAX_MSG + 1, MSG_DONTWAIT, &from,
					  &fromlen, &trunc);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0)
				die("recvmsg waiting for size=%zu: %s", size, strerror(errno));
			if (fromlen == 0) {
				printf("note: notification without a source, skipped\n");
				continue;
			}
			break;
		}
		if (fromlen != sa_len(&from))
			die("size=%zu: msg_namelen %u, want %u", size, (unsigned)fromlen,
			    (unsigned)sa_len(&from));
		if (!same_addr(&from, &peer))
			die("size=%zu: echo came from %s, want %s", size, addr_str(&from),
			    addr_str(&peer));
		if (trunc)
			die("size=%zu: echo truncated (MSG_TRUNC)", size);
		if ((size_t)n != size)
			die("size=%zu: echo has %zd bytes", size, n);
		size_t bad = check_pattern(in, size);
		if (bad != size)
			die("size=%zu: content differs at offset %zu (got 0x%02x want 0x%02x)",
			    size, bad, in[bad], pattern_byte(size, bad));
		if (k == 0)
			printf("echoes from %s\n", addr_str(&from));
		printf("ok size=%zu\n", size);
	}
	printf("all %d sizes ok\n", nsizes);
	free(out);
	free(in);
	close(fd);
	return 0;
}
