/* SPDX-License-Identifier: MIT */
/*
 * rds_v6 echo ADDR6 PORT COUNT [HOLD_S]
 * rds_v6 send ADDR6 PORT PEER6 PEERPORT COUNT [HOLD_S]
 *
 * RDS over IPv6 with plain sockaddr_in6 (scope ids as "%ifname" or "%index"): "echo" sends
 * back what it receives; "send" sends COUNT numbered messages and checks each echo, its
 * content and that it came from PEER6 (a sockaddr_in6, with the bound scope). Every wait is
 * bounded (SO_RCVTIMEO, alarm). Both then keep their paths up HOLD_S seconds (default 0), for
 * whoever counts them. Output: "ready", "echoed N", "ok N echoes".
 */
#include "rds_common.h"

#include <net/if.h>

static struct sockaddr_in6 make6(const char *spec, long port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	char ip[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char *pct;

	snprintf(ip, sizeof(ip), "%s", spec);
	pct = strchr(ip, '%');
	if (pct) {
		*pct++ = 0;
		s.sin6_scope_id = if_nametoindex(pct);
		if (!s.sin6_scope_id)
			s.sin6_scope_id = (uint32_t)atoi(pct);
	}
	if (inet_pton(AF_INET6, ip, &s.sin6_addr) != 1)
		die("bad IPv6 address %s", spec);
	return s;
}

static int open6(const char *spec, long port)
{
	struct sockaddr_in6 a = make6(spec, port);
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind %s: %s", spec, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("SO_RCVTIMEO: %s", strerror(errno));
	return fd;
}

static void echo(int fd, long count)
{
	char buf[256];
	struct sockaddr_in6 from;
	socklen_t len;
	long n;

	for (n = 0; n < count; n++) {
		ssize_t r;

		len = sizeof(from);
		r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (r < 0)
			die("recvfrom: %s", strerror(errno));
		if (len != sizeof(from) || from.sin6_family != AF_INET6)
			die("source is not a sockaddr_in6 (len %u)", len);
		if (sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from, len) < 0)
			die("sendto: %s", strerror(errno));
	}
	printf("echoed %ld\n", n);
}

static void send_all(int fd, const struct sockaddr_in6 *peer, long count)
{
	char text[64], buf[256];
	struct sockaddr_in6 from;
	socklen_t len;

	for (long k = 0; k < count; k++) {
		ssize_t r;

		snprintf(text, sizeof(text), "v6 message %ld", k);
		if (sendto(fd, text, strlen(text), 0, (const struct sockaddr *)peer, sizeof(*peer)) <
		    0)
			die("sendto: %s", strerror(errno));
		len = sizeof(from);
		r = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &len);
		if (r < 0)
			die("recvfrom: %s", strerror(errno));
		buf[r] = 0;
		if (strcmp(buf, text))
			die("echo mismatch: '%s' vs '%s'", buf, text);
		if (memcmp(&from.sin6_addr, &peer->sin6_addr, sizeof(from.sin6_addr)) ||
		    from.sin6_port != peer->sin6_port)
			die("echo from the wrong address");
	}
	printf("ok %ld echoes\n", count);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "echo")) {
		int fd = open6(argv[2], parse_long(argv[3], "PORT", 2, 65535));

		printf("ready\n");
		echo(fd, parse_long(argv[4], "COUNT", 1, 1000000));
		if (argc == 6)
			sleep((unsigned int)parse_long(argv[5], "HOLD_S", 0, 30));
		return 0;
	}
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "send")) {
		int fd = open6(argv[2], parse_long(argv[3], "PORT", 2, 65535));
		struct sockaddr_in6 peer = make6(argv[4], parse_long(argv[5], "PEERPORT", 2, 65535));

		send_all(fd, &peer, parse_long(argv[6], "COUNT", 1, 1000000));
		if (argc == 8)
			sleep((unsigned int)parse_long(argv[7], "HOLD_S", 0, 30));
		return 0;
	}
	fprintf(stderr, "usage: %s echo ADDR6 PORT COUNT | send ADDR6 PORT PEER6 PEERPORT COUNT\n",
		argv[0]);
	return 2;
}
