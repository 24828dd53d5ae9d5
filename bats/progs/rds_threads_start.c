/* SPDX-License-Identifier: MIT */
/*
 * rds_threads_start LOCAL BASE PEER PEER_PORT NTHREADS
 *
 * The first RDS socket of a process made from many threads at once: NTHREADS threads wait
 * at a barrier, then each makes its socket, binds LOCAL:BASE+i, sends "thread i" to
 * PEER:PEER_PORT (an echo server) and waits (SO_RCVTIMEO 10 s) for it to come back.
 * Prints "ok thread i" for each echo that came back intact, then "tasks N": the threads of
 * the process once the workers have ended (under mprds: main and one engine thread).
 *
 * With RDS_EARLY=1 a constructor of this program does the same for one socket (BASE+NTHREADS)
 * before main() runs, and prints "ok early".
 */
#include "rds_common.h"

#include <dirent.h>
#include <pthread.h>

struct job {
	const char *local, *peer;
	long port, peer_port;
	int index; /* -1: the constructor */
	int ok;
};

static pthread_barrier_t start;

static int exchange(struct job *j)
{
	char out[64], in[64];
	rds_sa peer = make_addr(j->peer, j->peer_port), from;
	socklen_t fromlen = sizeof(from);
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_RDS, SOCK_SEQPACKET, 0);
	ssize_t n;

	if (fd < 0) {
		printf("error: socket (%d): %s\n", j->index, strerror(errno));
		return 0;
	}
	rds_bind(fd, j->local, j->port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(out, sizeof(out), "thread %d", j->index);
	if (sendto(fd, out, strlen(out), 0, &peer.sa, sa_len(&peer)) < 0) {
		printf("error: sendto (%d): %s\n", j->index, strerror(errno));
		close(fd);
		return 0;
	}
	n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fromlen);
	close(fd);
	if (n != (ssize_t)strlen(out) || memcmp(in, out, (size_t)n) != 0) {
		printf("error: echo (%d): %zd: %s\n", j->index, n, n < 0 ? strerror(errno) : "");
		return 0;
	}
	return 1;
}

static void *worker(void *arg)
{
	struct job *j = arg;

	pthread_barrier_wait(&start);
	j->ok = exchange(j);
	return NULL;
}

static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Before main(): argv from /proc/self/cmdline, as a constructor has no arguments. */
__attribute__((constructor)) static void early(void)
{
	static char buf[4096];
	char *argv[8] = { 0 };
	const char *on = getenv("RDS_EARLY");
	FILE *f;
	size_t n;
	int argc = 0;

	if (!on || strcmp(on, "1") != 0 || !(f = fopen("/proc/self/cmdline", "r")))
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n && argc < 8; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	if (argc != 6)
		return;
	struct job j = { argv[1], argv[3], parse_long(argv[2], "BASE", 1, 60000) +
				    parse_long(argv[5], "NTHREADS", 1, 256),
			 parse_long(argv[4], "PEER_PORT", 1, 65535), -1, 0 };

	if (exchange(&j))
		printf("ok early\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct job *jobs;
	pthread_t *tids;
	long n, ok = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: rds_threads_start LOCAL BASE PEER PEER_PORT NTHREADS\n");
		return 2;
	}
	n = parse_long(argv[5], "NTHREADS", 1, 256);
	jobs = calloc((size_t)n, sizeof(*jobs));
	tids = calloc((size_t)n, sizeof(*tids));
	if (!jobs || !tids)
		die("out of memory");
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (long i = 0; i < n; i++) {
		jobs[i] = (struct job){ argv[1], argv[3], parse_long(argv[2], "BASE", 1, 60000) + i,
					parse_long(argv[4], "PEER_PORT", 1, 65535), (int)i, 0 };
		if (pthread_create(&tids[i], NULL, worker, &jobs[i]) != 0)
			die("pthread_create");
	}
	for (long i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		if (jobs[i].ok) {
			printf("ok thread %d\n", jobs[i].index);
			ok++;
		}
	}
	printf("tasks %d\n", count_tasks());
	printf("%ld of %ld threads ok\n", ok, n);
	free(jobs);
	free(tids);
	pthread_barrier_destroy(&start);
	return ok == n ? 0 : 1;
}
