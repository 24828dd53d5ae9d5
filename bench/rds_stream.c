// SPDX-License-Identifier: MIT
/*
 * rds_stream: one-way RDS bulk transfer, for the aggregate throughput of many sockets.
 *
 *   rds_stream sink ADDR PORT NSOCKS SECS [WARMUP_MS]
 *   rds_stream source LADDR RADDR PORT NSOCKS SIZE SECS
 *
 * The sink binds NSOCKS sockets to ADDR:PORT+i and counts what arrives: from WARMUP_MS
 * (default 1000) after the first message, for SECS seconds; then prints
 *   rx_msgs N rx_bytes B secs S MB_per_s X
 * The source binds NSOCKS sockets to LADDR:PORT+i and keeps each one's send buffer full with
 * SIZE-byte messages to RADDR:PORT+i (nonblocking sends, poll for room) for SECS seconds.
 * No acknowledgement at the application level: what is measured is the transport's.
 * Plain <linux/rds.h> API.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_RDS
#define AF_RDS 21
#endif

#define MAX_SOCKS 256

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "rds_stream: bad address %s\n", addr);
		exit(2);
	}
	return sin;
}

static int rds_socket(const char *addr, int port)
{
	struct sockaddr_in sin = sin_of(addr, port);
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 0), buf = 4 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		fprintf(stderr, "rds_stream: socket/bind %s:%d: %s\n", addr, port, strerror(errno));
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	return fd;
}

static int sink(const char *addr, int port, int n, int secs, int warmup_ms)
{
	static struct pollfd pfd[MAX_SOCKS];
	static char buf[1 << 20];
	double first = 0, start = 0, end = 0, give_up = now_s() + 30 + secs;
	uint64_t msgs = 0, bytes = 0;

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = rds_socket(addr, port + i), .events = POLLIN };
	printf("ready\n");
	fflush(stdout);
	while (now_s() < give_up) {
		double t;

		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			break;
		t = now_s();
		if (end && t >= end)
			break;
		for (int i = 0; i < n; i++) {
			ssize_t r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			while ((r = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
				if (!first) {
					first = t;
					start = first + warmup_ms / 1000.0;
					end = start + secs;
				}
				if (t >= start && t < end) {
					msgs++;
					bytes += (uint64_t)r;
				}
			}
		}
	}
	if (!first) {
		fprintf(stderr, "rds_stream: nothing arrived\n");
		return 1;
	}
	printf("rx_msgs %llu rx_bytes %llu secs %d MB_per_s %.3f\n", (unsigned long long)msgs,
	       (unsigned long long)bytes, secs, (double)bytes / secs / 1e6);
	return 0;
}

static int source(const char *laddr, const char *raddr, int port, int n, size_t size, int secs)
{
	static struct pollfd pfd[MAX_SOCKS];
	static struct sockaddr_in to[MAX_SOCKS];
	char *buf = calloc(1, size);
	double end = now_s() + secs;

	if (!buf)
		return 1;
	for (int i = 0; i < n; i++) {
		pfd[i] = (struct pollfd){ .fd = rds_socket(laddr, port + i), .events = POLLOUT };
		to[i] = sin_of(raddr, port + i);
	}
	while (now_s() < end) {
		for (int i = 0; i < n; i++)
			while (sendto(pfd[i].fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)&to[i],
				      sizeof(to[i])) >= 0)
				;
		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			break;
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "sink"))
		return sink(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
			    argc == 7 ? atoi(argv[6]) : 1000);
	if (argc == 8 && !strcmp(argv[1], "source") && atoi(argv[5]) <= MAX_SOCKS)
		return source(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), (size_t)atol(argv[6]),
			      atoi(argv[7]));
	fprintf(stderr, "usage: rds_stream sink ADDR PORT NSOCKS SECS [WARMUP_MS]\n"
			"       rds_stream source LADDR RADDR PORT NSOCKS SIZE SECS\n");
	return 2;
}
