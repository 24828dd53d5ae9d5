// SPDX-License-Identifier: MIT
/*
 * shim_cost: what the preloaded shim costs a program that never uses RDS.
 *
 *   shim_cost [ITERATIONS]
 *
 * Times non-RDS calls that the shim interposes (each must look up the fd and pass straight
 * through to libc) and prints one line per call: "op NAME ns PER_CALL". Run it with and
 * without LD_PRELOAD=libmprds.so and compare. Also prints the thread count at the end: a
 * program that never opens an RDS socket must not get the engine's thread.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *op, double secs, long n)
{
	printf("op %s ns %.1f\n", op, secs * 1e9 / (double)n);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int p[2], tcp = socket(AF_INET, SOCK_STREAM, 0), v;
	socklen_t len;
	char c = 'x', line[256];
	double t;
	FILE *f;

	if (tcp < 0 || pipe2(p, O_NONBLOCK) < 0 || n < 1) {
		perror("shim_cost");
		return 1;
	}
	t = now_s();
	for (long i = 0; i < n; i++) {
		len = sizeof(v);
		getsockopt(tcp, SOL_SOCKET, SO_TYPE, &v, &len);
	}
	report("getsockopt", now_s() - t, n);

	t = now_s();
	for (long i = 0; i < n; i++)
		fcntl(p[0], F_GETFL);
	report("fcntl", now_s() - t, n);

	t = now_s();
	for (long i = 0; i < n; i++)
		if (read(p[0], &c, 1) != -1)
			return 1;
	report("read_empty_pipe", now_s() - t, n);

	t = now_s();
	for (long i = 0; i < n; i++)
		if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
			return 1;
	report("write+read_pipe", now_s() - t, n);

	t = now_s();
	for (long i = 0; i < n / 10; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd < 0)
			return 1;
		close(fd);
	}
	report("socket+close_udp", now_s() - t, n / 10);

	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			printf("threads %d\n", atoi(line + 8));
	if (f)
		fclose(f);
	return 0;
}
