// SPDX-License-Identifier: MIT
/*
 * tcp_stream: the raw-TCP yardstick for mprds-stress's throughput runs.
 *
 *   tcp_stream -l ADDR -p PORT -c CONNS -q REQ -a ACK -d DEPTH -T SECS   (passive)
 *   tcp_stream -s PEER [-r ADDR] -p PORT -c CONNS -q REQ -a ACK -d DEPTH -T SECS   (active)
 *
 * The same traffic as mprds-stress, over CONNS plain TCP connections, one thread per
 * connection on each side: both ends keep DEPTH requests of REQ bytes outstanding on every
 * connection and answer each request with an ACK-byte ack (one send() per message, as an
 * application would; reads in 1 MiB chunks). Messages are framed by a 16-byte header inside
 * the REQ/ACK bytes. The active end prints a summary in mprds-stress's format, so that bench/run
 * reads both the same way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define RBUF (4u << 20)
#define TYPE_REQ 1
#define TYPE_ACK 2

struct hdr {
	uint32_t len, type;
	uint64_t sent_ns;
};

struct conn {
	pthread_t thread;
	int fd;
	uint64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes, rtt_ns, rtt_n;
	uint64_t hist[512];
};

static uint32_t req = 1024, ack = 64, depth = 1, secs = 1, nconns = 1;
static volatile int stop;
static int one_send; /* -1: one message per sendmsg */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 8 buckets per power of two, as mprds-stress. */
static int bucket(uint64_t ns)
{
	int e;

	if (ns < 8)
		return (int)ns;
	e = 63 - __builtin_clzll(ns);
	return (e - 2) * 8 + (int)((ns >> (e - 3)) & 7);
}

static double bucket_value(int b)
{
	int e = b / 8 + 2;

	if (b < 8)
		return b;
	return (double)((uint64_t)(8 + b % 8) << (e - 3)) + (double)(1ull << (e - 3)) / 2;
}

/*
 * One connection's pump. The messages ready to go wait in `q` (a ring of headers); one
 * writev sends as many of them as TCP takes (header + a shared zero filler per message),
 * so a burst costs one system call, as mprds's engine batches a path's queue.
 */
struct out {
	struct hdr h;
};

static void *run_conn(void *arg)
{
	struct conn *c = arg;
	size_t qmax = 2 * (size_t)depth + 2;
	uint8_t *rbuf = malloc(RBUF), *zero = calloc(1, req > ack ? req : ack);
	struct out *q = calloc(qmax, sizeof(*q));
	struct iovec iov[1024];
	size_t rlen = 0, q_head = 0, q_n = 0, q_off = 0; /* bytes of q[q_head] already sent */
	uint32_t outstanding = 0;

	if (!rbuf || !zero || !q) {
		fprintf(stderr, "tcp_stream: out of memory\n");
		exit(1);
	}
	while (!stop) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		while (outstanding < depth && q_n < qmax) {
			q[(q_head + q_n++) % qmax].h = (struct hdr){ req, TYPE_REQ, now_ns() };
			outstanding++;
		}
		while (q_n) {
			int k = 0;
			size_t off = q_off;

			for (size_t i = 0; i < q_n && k + 2 <= (int)(one_send ? 2 : 1024); i++) {
				struct out *o = &q[(q_head + i) % qmax];

				if (off < sizeof(o->h))
					iov[k++] = (struct iovec){ (uint8_t *)&o->h + off, sizeof(o->h) - off };
				iov[k++] = (struct iovec){ zero, o->h.len - (off > sizeof(o->h) ? off : sizeof(o->h)) };
				off = 0;
			}
			struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)k };

			n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					pfd.events |= POLLOUT;
					break;
				}
				goto out;
			}
			/* Retire what went out whole. */
			while (n > 0) {
				struct out *o = &q[q_head];
				size_t left = o->h.len - q_off;

				if ((size_t)n < left) {
					q_off += (size_t)n;
					break;
				}
				n -= (ssize_t)left;
				q_off = 0;
				c->tx_msgs++;
				c->tx_bytes += o->h.len;
				q_head = (q_head + 1) % qmax;
				q_n--;
			}
			if (q_n)
				pfd.events |= POLLOUT; /* sendmsg wrote less than asked: TCP is full */
			break;
		}
		if (poll(&pfd, 1, 100) <= 0 || !(pfd.revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		n = recv(c->fd, rbuf + rlen, RBUF - rlen, MSG_DONTWAIT);
		if (n == 0)
			goto out;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto out;
		}
		rlen += (size_t)n;
		/* Parse every whole message in the buffer. */
		size_t off = 0;
		while (rlen - off >= sizeof(struct hdr)) {
			struct hdr h;

			memcpy(&h, rbuf + off, sizeof(h));
			if (h.len < sizeof(h) || h.len > RBUF) {
				fprintf(stderr, "tcp_stream: bad frame\n");
				exit(1);
			}
			if (rlen - off < h.len)
				break;
			off += h.len;
			c->rx_msgs++;
			c->rx_bytes += h.len;
			if (h.type == TYPE_REQ) {
				/* Acks go out with the next sendmsg (the ring has room: depth + depth). */
				q[(q_head + q_n++) % qmax].h = (struct hdr){ ack, TYPE_ACK, h.sent_ns };
			} else {
				uint64_t rtt = now_ns() - h.sent_ns;

				outstanding--;
				c->rtt_ns += rtt;
				c->rtt_n++;
				c->hist[bucket(rtt)]++;
			}
		}
		memmove(rbuf, rbuf + off, rlen - off);
		rlen -= off;
	}
out:
	free(rbuf);
	free(zero);
	free(q);
	return NULL;
}

static int tcp_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static double percentile(struct conn *cs, double p)
{
	uint64_t total = 0, seen = 0;

	for (uint32_t i = 0; i < nconns; i++)
		for (int b = 0; b < 512; b++)
			total += cs[i].hist[b];
	for (int b = 0; b < 512; b++) {
		for (uint32_t i = 0; i < nconns; i++)
			seen += cs[i].hist[b];
		if (total && (double)seen >= p * (double)total)
			return bucket_value(b) / 1000.0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET }, peer = { .sin_family = AF_INET };
	struct conn cs[MAX_CONNS] = { 0 };
	int opt, port = 5000, lfd = -1;
	const char *listen_addr = NULL, *peer_addr = NULL, *local_addr = NULL;
	uint64_t t0, t1;

	while ((opt = getopt(argc, argv, "l:s:r:p:c:q:a:d:T:1")) != -1) {
		switch (opt) {
		case 'l': listen_addr = optarg; break;
		case 's': peer_addr = optarg; break;
		case 'r': local_addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': nconns = (uint32_t)atoi(optarg); break;
		case 'q': req = (uint32_t)atoi(optarg); break;
		case 'a': ack = (uint32_t)atoi(optarg); break;
		case 'd': depth = (uint32_t)atoi(optarg); break;
		case 'T': secs = (uint32_t)atoi(optarg); break;
		case '1': one_send = 1; break;
		default: goto usage;
		}
	}
	if (!!listen_addr == !!peer_addr || nconns < 1 || nconns > MAX_CONNS || depth < 1 ||
	    req < sizeof(struct hdr) || ack < sizeof(struct hdr) || req > RBUF / 2 || secs < 1)
		goto usage;
	if (listen_addr) {
		int one = 1;

		lfd = tcp_socket();
		inet_pton(AF_INET, listen_addr, &addr.sin_addr);
		addr.sin_port = htons((uint16_t)port);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, MAX_CONNS)) {
			perror("tcp_stream: listen");
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
		for (uint32_t i = 0; i < nconns; i++) {
			struct pollfd pfd = { .fd = lfd, .events = POLLIN };

			if (poll(&pfd, 1, 30000) <= 0 || (cs[i].fd = accept(lfd, NULL, NULL)) < 0) {
				fprintf(stderr, "tcp_stream: no connection from the active end\n");
				return 1;
			}
			setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
	} else {
		inet_pton(AF_INET, peer_addr, &peer.sin_addr);
		peer.sin_port = htons((uint16_t)port);
		if (local_addr)
			inet_pton(AF_INET, local_addr, &addr.sin_addr);
		for (uint32_t i = 0; i < nconns; i++) {
			cs[i].fd = tcp_socket();
			if ((local_addr && bind(cs[i].fd, (struct sockaddr *)&addr, sizeof(addr))) ||
			    connect(cs[i].fd, (struct sockaddr *)&peer, sizeof(peer))) {
				perror("tcp_stream: connect");
				return 1;
			}
		}
	}
	t0 = now_ns();
	for (uint32_t i = 0; i < nconns; i++)
		pthread_create(&cs[i].thread, NULL, run_conn, &cs[i]);
	/* The passive end stops when the active one closes (bounded: SECS + 10 s). */
	int joined[MAX_CONNS] = { 0 }, left = (int)nconns;

	while (now_ns() - t0 < (uint64_t)(secs + (listen_addr ? 10 : 0)) * 1000000000u && left) {
		usleep(10000);
		for (uint32_t i = 0; listen_addr && i < nconns; i++)
			if (!joined[i] && pthread_tryjoin_np(cs[i].thread, NULL) == 0)
				joined[i] = 1, left--;
	}
	stop = 1;
	t1 = now_ns();
	for (uint32_t i = 0; i < nconns; i++) {
		if (!joined[i])
			pthread_join(cs[i].thread, NULL);
		close(cs[i].fd);
	}
	if (!listen_addr) {
		double s = (double)(t1 - t0) / 1e9;
		uint64_t tx = 0, rx = 0, txb = 0, rxb = 0, rtt = 0, rn = 0;

		for (uint32_t i = 0; i < nconns; i++) {
			tx += cs[i].tx_msgs, rx += cs[i].rx_msgs, txb += cs[i].tx_bytes;
			rxb += cs[i].rx_bytes, rtt += cs[i].rtt_ns, rn += cs[i].rtt_n;
		}
		printf("summary: %.2f s, %u connections, req %u B, ack %u B, depth %u\n", s, nconns,
		       req, ack, depth);
		printf("  messages: tx %llu (%.0f/s), rx %llu (%.0f/s), tx+rx %.2f K/s\n",
		       (unsigned long long)tx, (double)tx / s, (unsigned long long)rx, (double)rx / s,
		       (double)(txb + rxb) / 1024.0 / s);
		printf("  rtt us:   avg %.2f, p50 %.1f, p99 %.1f, p99.9 %.1f (%llu round trips)\n",
		       rn ? (double)rtt / (double)rn / 1000.0 : 0.0, percentile(cs, 0.5),
		       percentile(cs, 0.99), percentile(cs, 0.999), (unsigned long long)rn);
	}
	if (lfd >= 0)
		close(lfd);
	return 0;
usage:
	fprintf(stderr, "usage: tcp_stream (-l ADDR | -s PEER [-r ADDR]) [-p PORT] [-c CONNS] "
			"[-q REQ] [-a ACK] [-d DEPTH] [-T SECS]\n");
	return 2;
}
