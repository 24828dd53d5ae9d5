// SPDX-License-Identifier: MIT
/*
 * mprds-info [-c] [-k] [-n] [-r] [-s] [-t] [-T] [-6] [--paths] [-p pid] [--self]
 *
 * rds-info for mprds. The kernel's rds-info shows the whole host; an mprds engine lives
 * inside one process, so mprds-info asks every engine on this host through its control
 * socket (the abstract AF_UNIX socket "@mprds.<pid>", include/mprds/control.h, found in
 * /proc/net/unix) and prints each process's tables in rds-info's layout. Each engine answers
 * with exactly what getsockopt(SOL_RDS, RDS_INFO_*) returns inside that process.
 *
 * With --self, or when no process on the host uses mprds, the tables come from
 * getsockopt(SOL_RDS, RDS_INFO_*) on a socket of this process, as rds-info does: on a kernel
 * with RDS that is the kernel's view of the host.
 *
 * --paths (mprds only): one line per TCP path with its state, messages and bytes sent and
 * received, retransmits and the TCP round-trip time.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/rds.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "../daemon/rendezvous.h"
#include "mprds/control.h"
#include "tool.h"

#define MAX_PROCS 4096
#define CONTROL_TIMEOUT_S 3

const char *const progname = "mprds-info";
static bool opt_v6;

/* Where the tables come from: an engine's control socket, or getsockopt here. */
struct source {
	int fd; /* control connection, or an RDS socket */
	bool control;
};

/* ---- fetching one snapshot ---- */

static bool read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return false;
		}
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static int fetch_control(int fd, int optname, void **data, socklen_t *len)
{
	struct control_req req = { CONTROL_MAGIC, CONTROL_VERSION, optname };
	struct control_resp resp;

	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return -errno;
	if (!read_full(fd, &resp, sizeof(resp)))
		return -errno;
	if (resp.magic != CONTROL_MAGIC)
		return -EPROTO;
	free(*data);
	*data = malloc(resp.len ? resp.len : 1);
	if (!*data)
		return -ENOMEM;
	if (!read_full(fd, *data, resp.len))
		return -errno;
	*len = resp.len;
	return resp.ret;
}

/* rds-info's loop: call, on ENOSPC grow the buffer to what the kernel asks, call again. */
static int fetch_sockopt(int fd, int optname, void **data, socklen_t *len)
{
	int each;

	*len = 0;
	for (int tries = 0; tries < 16; tries++) {
		each = getsockopt(fd, SOL_RDS, optname, *data, len);
		if (each >= 0)
			return each;
		if (errno != ENOSPC)
			return -errno;
		void *p = realloc(*data, *len ? *len : 1);

		if (!p)
			return -ENOMEM;
		*data = p;
	}
	return -EAGAIN;
}

static int fetch(const struct source *src, int optname, void **data, socklen_t *len)
{
	return src->control ? fetch_control(src->fd, optname, data, len) :
			      fetch_sockopt(src->fd, optname, data, len);
}

/* ---- printing, in rds-info's layout ---- */

static const char *ntop(int af, const void *a)
{
	static char bufs[8][INET6_ADDRSTRLEN];
	static int which;
	char *s = bufs[which];

	which = (which + 1) % 8;
	if (!inet_ntop(af, a, s, INET6_ADDRSTRLEN))
		strcpy(s, "?");
	return s;
}

static const char *v4(uint32_t a)
{
	return ntop(AF_INET, &a);
}

/* An IPv6 address; an IPv4 one (v4-mapped) in dotted quad. */
static const char *v6(const void *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a, mapped, sizeof(mapped)))
		return ntop(AF_INET, (const uint8_t *)a + 12);
	return ntop(AF_INET6, a);
}

/* Copies element i into a zeroed local struct of size n, whatever size the source uses. */
#define FOR_EACH(var, data, each, len)                                             \
	for (size_t off_ = 0;                                                      \
	     off_ + (size_t)(each) <= (len) &&                                     \
	     (memset(&(var), 0, sizeof(var)),                                      \
	      memcpy(&(var), (const uint8_t *)(data) + off_,                       \
		     (size_t)(each) < sizeof(var) ? (size_t)(each) : sizeof(var)), \
	      1);                                                                  \
	     off_ += (size_t)(each))

static void print_counters(const void *data, int each, socklen_t len, const char *what)
{
	struct rds_info_counter c;

	(void)what;
	printf("\nCounters:\n%25s %16s\n", "CounterName", "Value");
	FOR_EACH(c, data, each, len)
	{
		c.name[sizeof(c.name) - 1] = 0;
		printf("%25s %16" PRIu64 "\n", (const char *)c.name, (uint64_t)c.value);
	}
}

static void print_sockets(const void *data, int each, socklen_t len, const char *what)
{
	(void)what;
	if (opt_v6) {
		struct rds6_info_socket s;

		printf("\nRDS Sockets:\n%39s %5s %39s %5s %10s %10s %8s\n", "BoundAddr", "BPort",
		       "ConnAddr", "CPort", "SndBuf", "RcvBuf", "Inode");
		FOR_EACH(s, data, each, len)
		printf("%39s %5u %39s %5u %10u %10u %8llu\n", v6(&s.bound_addr),
		       ntohs(s.bound_port), v6(&s.connected_addr), ntohs(s.connected_port),
		       s.sndbuf, s.rcvbuf, (unsigned long long)s.inum);
		return;
	}
	struct rds_info_socket s;

	printf("\nRDS Sockets:\n%15s %5s %15s %5s %10s %10s %8s\n", "BoundAddr", "BPort",
	       "ConnAddr", "CPort", "SndBuf", "RcvBuf", "Inode");
	FOR_EACH(s, data, each, len)
	printf("%15s %5u %15s %5u %10u %10u %8llu\n", v4(s.bound_addr), ntohs(s.bound_port),
	       v4(s.connected_addr), ntohs(s.connected_port), s.sndbuf, s.rcvbuf,
	       (unsigned long long)s.inum);
}

static char flag(uint8_t flags, uint8_t bit, char c)
{
	return flags & bit ? c : '-';
}

static void print_conns(const void *data, int each, socklen_t len, const char *what)
{
	(void)what;
	if (opt_v6) {
		struct rds6_info_connection c;

		printf("\nRDS Connections:\n%39s %39s %16s %16s %3s\n", "LocalAddr", "RemoteAddr",
		       "NextTX", "NextRX", "Flg");
		FOR_EACH(c, data, each, len)
		printf("%39s %39s %16" PRIu64 " %16" PRIu64 " %c%c%c\n", v6(&c.laddr), v6(&c.faddr),
		       (uint64_t)c.next_tx_seq, (uint64_t)c.next_rx_seq,
		       flag(c.flags, RDS_INFO_CONNECTION_FLAG_SENDING, 's'),
		       flag(c.flags, RDS_INFO_CONNECTION_FLAG_CONNECTING, 'c'),
		       flag(c.flags, RDS_INFO_CONNECTION_FLAG_CONNECTED, 'C'));
		return;
	}
	struct rds_info_connection c;

	printf("\nRDS Connections:\n%15s %15s %16s %16s %3s\n", "LocalAddr", "RemoteAddr", "NextTX",
	       "NextRX", "Flg");
	FOR_EACH(c, data, each, len)
	printf("%15s %15s %16" PRIu64 " %16" PRIu64 " %c%c%c\n", v4(c.laddr), v4(c.faddr),
	       (uint64_t)c.next_tx_seq, (uint64_t)c.next_rx_seq,
	       flag(c.flags, RDS_INFO_CONNECTION_FLAG_SENDING, 's'),
	       flag(c.flags, RDS_INFO_CONNECTION_FLAG_CONNECTING, 'c'),
	       flag(c.flags, RDS_INFO_CONNECTION_FLAG_CONNECTED, 'C'));
}

static void print_msgs(const void *data, int each, socklen_t len, const char *what)
{
	if (opt_v6) {
		struct rds6_info_message m;

		printf("\n%s Message Queue:\n%39s %5s %39s %5s %16s %10s\n", what, "LocalAddr",
		       "LPort", "RemoteAddr", "RPort", "Seq", "Bytes");
		FOR_EACH(m, data, each, len)
		printf("%39s %5u %39s %5u %16" PRIu64 " %10u\n", v6(&m.laddr), ntohs(m.lport),
		       v6(&m.faddr), ntohs(m.fport), (uint64_t)m.seq, m.len);
		return;
	}
	struct rds_info_message m;

	printf("\n%s Message Queue:\n%15s %5s %15s %5s %16s %10s\n", what, "LocalAddr", "LPort",
	       "RemoteAddr", "RPort", "Seq", "Bytes");
	FOR_EACH(m, data, each, len)
	printf("%15s %5u %15s %5u %16" PRIu64 " %10u\n", v4(m.laddr), ntohs(m.lport), v4(m.faddr),
	       ntohs(m.fport), (uint64_t)m.seq, m.len);
}

static void print_tcp(const void *data, int each, socklen_t len, const char *what)
{
	(void)what;
	if (opt_v6) {
		struct rds6_info_tcp_socket t;

		printf("\nTCP Connections:\n%39s %5s %39s %5s %10s %10s %10s %10s %10s\n",
		       "LocalAddr", "LPort", "RemoteAddr", "RPort", "HdrRemain", "DataRemain",
		       "SentNxt", "ExpectUna", "SeenUna");
		FOR_EACH(t, data, each, len)
		printf("%39s %5u %39s %5u %10" PRIu64 " %10" PRIu64 " %10u %10u %10u\n",
		       v6(&t.local_addr), ntohs(t.local_port), v6(&t.peer_addr), ntohs(t.peer_port),
		       (uint64_t)t.hdr_rem, (uint64_t)t.data_rem, t.last_sent_nxt,
		       t.last_expected_una, t.last_seen_una);
		return;
	}
	struct rds_info_tcp_socket t;

	printf("\nTCP Connections:\n%15s %5s %15s %5s %10s %10s %10s %10s %10s\n", "LocalAddr",
	       "LPort", "RemoteAddr", "RPort", "HdrRemain", "DataRemain", "SentNxt", "ExpectUna",
	       "SeenUna");
	FOR_EACH(t, data, each, len)
	printf("%15s %5u %15s %5u %10" PRIu64 " %10" PRIu64 " %10u %10u %10u\n", v4(t.local_addr),
	       ntohs(t.local_port), v4(t.peer_addr), ntohs(t.peer_port), (uint64_t)t.hdr_rem,
	       (uint64_t)t.data_rem, t.last_sent_nxt, t.last_expected_una, t.last_seen_una);
}

static const char *path_state(uint8_t s)
{
	switch (s) {
	case CONTROL_PATH_UP:
		return "up";
	case CONTROL_PATH_CONNECTING:
		return "connecting";
	default:
		return "down";
	}
}

static void print_paths(const void *data, int each, socklen_t len, const char *what)
{
	int w = opt_v6 ? 39 : 15;
	struct control_path p;

	(void)what;
	printf("\nmprds Paths:\n%*s %*s %5s %-10s %5s %5s %10s %10s %12s %12s %8s %8s %8s\n", w,
	       "LocalAddr", w, "RemoteAddr", "Path", "State", "LPort", "RPort", "MsgsSent",
	       "MsgsRecv", "BytesSent", "BytesRecv", "Retrans", "RTTus", "Connects");
	FOR_EACH(p, data, each, len)
	{
		char idx[8];

		snprintf(idx, sizeof(idx), "%u/%u", p.index, p.npaths);
		printf("%*s %*s %5s %-10s %5u %5u %10" PRIu64 " %10" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %8" PRIu64 " %8u %8" PRIu64 "\n",
		       w, v6(p.laddr), w, v6(p.faddr), idx, path_state(p.state), p.tcp_lport,
		       p.tcp_fport, (uint64_t)p.msgs_tx, (uint64_t)p.msgs_rx, (uint64_t)p.bytes_tx,
		       (uint64_t)p.bytes_rx, (uint64_t)p.retransmits, p.tcp_rtt_us,
		       (uint64_t)p.connects);
	}
}

/* ---- the tables, in rds-info's order ---- */

struct table {
	char letter; /* the option; 0: long option only */
	int optname, optname6; /* optname6: the RDS6_ variant, or 0 */
	const char *description;
	void (*print)(const void *data, int each, socklen_t len, const char *what);
	const char *what;
	bool control_only;
	bool wanted;
};

static struct table tables[] = {
	{ .letter = 'T',
	  .optname = RDS_INFO_TCP_SOCKETS,
	  .optname6 = RDS6_INFO_TCP_SOCKETS,
	  .description = "TCP transport sockets",
	  .print = print_tcp },
	{ .letter = 'c',
	  .optname = RDS_INFO_COUNTERS,
	  .description = "statistic counters",
	  .print = print_counters },
	{ .letter = 'k',
	  .optname = RDS_INFO_SOCKETS,
	  .optname6 = RDS6_INFO_SOCKETS,
	  .description = "sockets",
	  .print = print_sockets },
	{ .letter = 'n',
	  .optname = RDS_INFO_CONNECTIONS,
	  .optname6 = RDS6_INFO_CONNECTIONS,
	  .description = "connections",
	  .print = print_conns },
	{ .letter = 'r',
	  .optname = RDS_INFO_RECV_MESSAGES,
	  .optname6 = RDS6_INFO_RECV_MESSAGES,
	  .description = "recv queue messages",
	  .print = print_msgs,
	  .what = "Receive" },
	{ .letter = 's',
	  .optname = RDS_INFO_SEND_MESSAGES,
	  .optname6 = RDS6_INFO_SEND_MESSAGES,
	  .description = "send queue messages",
	  .print = print_msgs,
	  .what = "Send" },
	{ .letter = 't',
	  .optname = RDS_INFO_RETRANS_MESSAGES,
	  .optname6 = RDS6_INFO_RETRANS_MESSAGES,
	  .description = "retransmit queue messages",
	  .print = print_msgs,
	  .what = "Retransmit" },
	{ .optname = CONTROL_INFO_PATHS,
	  .description = "mprds paths (TCP connections) with counters and RTT",
	  .print = print_paths,
	  .control_only = true },
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static int print_tables(const struct source *src)
{
	void *data = NULL;
	socklen_t len;
	int ret = 0;

	for (size_t i = 0; i < NTABLES; i++) {
		const struct table *t = &tables[i];
		int opt = opt_v6 && t->optname6 ? t->optname6 : t->optname;
		int each;

		if (!t->wanted)
			continue;
		if (t->control_only && !src->control) {
			fprintf(stderr, "%s: %s: only mprds engines have them\n", progname,
				t->description);
			continue;
		}
		each = fetch(src, opt, &data, &len);
		if (each <= 0 && src->control && each != -ENOPROTOOPT) {
			ret = each < 0 ? each : -EPROTO; /* the connection is no good any more */
			break;
		}
		if (each <= 0) {
			fprintf(stderr, "%s: unable to get %s: %s\n", progname, t->description,
				strerror(each < 0 ? -each : EPROTO));
			ret = 1;
			continue;
		}
		t->print(data, each, len, t->what);
	}
	free(data);
	fflush(stdout);
	return ret;
}

/* ---- finding the engines on this host ---- */

static int cmp_pid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Listening sockets "@mprds.<pid>" in /proc/net/unix: one per process using mprds. */
static int find_engines(int *pids, int max)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && n < max) {
		char *at = strstr(line, " @" CONTROL_NAME_PREFIX);
		char *end;
		long pid;

		if (!at)
			continue;
		at += 2 + strlen(CONTROL_NAME_PREFIX);
		pid = strtol(at, &end, 10);
		if (end == at || (*end && !isspace((unsigned char)*end)) || pid <= 0 ||
		    pid > 0x7fffffff)
			continue;
		pids[n++] = (int)pid;
	}
	fclose(f);
	qsort(pids, (size_t)n, sizeof(*pids), cmp_pid);
	int k = 0;

	for (int i = 0; i < n; i++)
		if (k == 0 || pids[k - 1] != pids[i])
			pids[k++] = pids[i];
	return k;
}

static int control_connect(int pid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CONTROL_TIMEOUT_S };
	socklen_t len;
	int fd, n;

	n = snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, CONTROL_NAME_PREFIX "%d", pid);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void comm_of(int pid, char *buf, size_t n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, (int)n, f))
		snprintf(buf, n, "?");
	else
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

static bool engine_listed(int pid)
{
	static int now[MAX_PROCS];
	int n = find_engines(now, MAX_PROCS);

	for (int i = 0; i < n; i++)
		if (now[i] == pid)
			return true;
	return false;
}

/* Whose process: an engine answers only its own user and root. */
static bool same_user(int pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return geteuid() == 0 || stat(path, &st) || st.st_uid == geteuid();
}

/*
 * One engine: a header line, then its tables. Returns 0, or 1 if it could not be asked. A
 * process that ended meanwhile is no error: the host changes while we look.
 */
static int show_engine(int pid)
{
	struct source src = { .control = true };
	struct control_process cp;
	void *data = NULL;
	socklen_t len = 0;
	char comm[64];
	int ret;

	src.fd = control_connect(pid);
	ret = src.fd < 0 ? src.fd : fetch(&src, CONTROL_INFO_PROCESS, &data, &len);
	if (ret == (int)sizeof(cp) && len == sizeof(cp)) {
		memcpy(&cp, data, sizeof(cp));
		comm_of(pid, comm, sizeof(comm));
		printf("\nmprds process %d (%s): %u sockets, %u connections, npaths %u, "
		       "tcp port %u\n",
		       pid, comm, cp.sockets, cp.connections, cp.npaths, cp.tcp_port);
		ret = print_tables(&src);
	} else if (ret >= 0) {
		ret = -EPROTO;
	}
	free(data);
	if (src.fd >= 0)
		close(src.fd);
	if (ret >= 0)
		return ret;
	fflush(stdout);
	if (!engine_listed(pid))
		return 0;
	fprintf(stderr, "%s: process %d does not answer: %s\n", progname, pid, strerror(-ret));
	return 1;
}

/* The value of NAME in process pid's environment (as it started), into buf: false if absent. */
static bool environ_of(int pid, const char *name, char *buf, size_t n)
{
	char path[64], env[65536];
	size_t len, k = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	len = fread(env, 1, sizeof(env) - 1, f);
	fclose(f);
	env[len] = 0;
	for (size_t i = 0; i < len; i += strlen(env + i) + 1)
		if (!strncmp(env + i, name, k) && env[i + k] == '=') {
			snprintf(buf, n, "%s", env + i + k + 1);
			return true;
		}
	return false;
}

/* The inode of the listening AF_UNIX socket named @name in /proc/net/unix, or 0. */
static unsigned long listener_inode(const char *name)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512], path[256];
	unsigned long ino = 0, flags, i;

	if (!f)
		return 0;
	while (!ino && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %255s", &flags, &i, path) == 3 &&
		    (flags & 0x10000) && path[0] == '@' && !strcmp(path + 1, name))
			ino = i; /* __SO_ACCEPTCON: the daemon's listening socket */
	fclose(f);
	return ino;
}

/* The process holding socket inode ino, or 0. */
static int holder_of(unsigned long ino)
{
	char want[64], path[600], link[64];
	struct dirent *p, *d;
	DIR *procs = opendir("/proc"), *fds;
	int pid = 0;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	while (procs && !pid && (p = readdir(procs))) {
		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		if (!(fds = opendir(path)))
			continue;
		while (!pid && (d = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, d->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = 0, !strcmp(link, want)))
				pid = atoi(p->d_name);
		}
		closedir(fds);
	}
	if (procs)
		closedir(procs);
	return pid;
}

/*
 * In host-wide mode a process's RDS sockets live in the mprdsd of its instance: the pid of
 * the daemon that serves pid, found as its shim finds it (its MPRDS_ENGINE and MPRDS_INSTANCE,
 * its network namespace), or 0.
 */
static int serving_daemon(int pid, char *instance, size_t n)
{
	char path[64], name[160], engine[16];
	struct stat st;
	unsigned long ino;

	if (environ_of(pid, "MPRDS_ENGINE", engine, sizeof(engine)) && !strcmp(engine, "process"))
		return 0;
	if (!environ_of(pid, "MPRDS_INSTANCE", instance, n) || !*instance)
		snprintf(instance, n, RENDEZVOUS_DEFAULT);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st) < 0)
		return 0;
	snprintf(name, sizeof(name), RENDEZVOUS_NAME_FMT, (unsigned long)st.st_ino, instance);
	ino = listener_inode(name);
	return ino ? holder_of(ino) : 0;
}

/* This process's own view: getsockopt on an RDS socket (the kernel's, or our own engine's). */
static int show_self(void)
{
	struct source src = { .control = false };
	int ret;

	src.fd = socket(AF_RDS, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (src.fd < 0)
		return -errno;
	/* Under mprds-run this process has an engine of its own now: its paths are there. */
	int cfd = control_connect((int)getpid());

	if (cfd >= 0) {
		close(src.fd);
		src = (struct source){ .fd = cfd, .control = true };
	}
	ret = print_tables(&src);
	close(src.fd);
	if (ret < 0) {
		fprintf(stderr, "%s: this process's engine does not answer: %s\n", progname,
			strerror(-ret));
		return 1;
	}
	return ret;
}

#define SYNOPSIS "[-c] [-k] [-n] [-r] [-s] [-t] [-T] [-6] [--paths] [-p pid] [--self]"
const char *const synopsis = SYNOPSIS;

static void help(void)
{
	printf("Usage: %s " SYNOPSIS "\n"
	       "The following options limit output to the given sources:\n",
	       progname);
	for (size_t i = 0; i < NTABLES; i++)
		if (tables[i].letter)
			printf("    -%c %s\n", tables[i].letter, tables[i].description);
	printf("    --paths %s\n", tables[NTABLES - 1].description);
	printf("If no options are given then all sources are used.\n"
	       "  -6          the IPv6 variants (RDS6_INFO_*): IPv6 and IPv4 entries\n"
	       "  -p pid      only that process (default: every process using mprds)\n"
	       "  --self      this process's own view (getsockopt), as rds-info\n"
	       "  -h, --help  show this help\n"
	       "  -V, --version  show the version\n"
	       "Exit status: 0 on success, 1 if a process or table could not be read or there is "
	       "no RDS at all, 2 on a usage error.\n");
	exit(0);
}

int main(int argc, char **argv)
{
	enum { OPT_PATHS = 256, OPT_SELF };
	static const struct option longopts[] = { { "paths", no_argument, NULL, OPT_PATHS },
						  { "self", no_argument, NULL, OPT_SELF },
						  { "ipv6", no_argument, NULL, '6' },
						  { "pid", required_argument, NULL, 'p' },
						  { "help", no_argument, NULL, 'h' },
						  { "version", no_argument, NULL, 'V' },
						  { NULL, 0, NULL, 0 } };
	static int pids[MAX_PROCS];
	bool self = false, any = false;
	int c, npids, only = 0, ret = 0, shown = 0, others = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "ckn6rstTp:vhV", longopts, NULL)) != -1) {
		bool found = false;

		switch (c) {
		case '6':
			opt_v6 = true;
			continue;
		case 'p':
			only = (int)strtol(optarg, &end, 10);
			if (*end || only <= 0)
				usage_error("bad pid <%s>", optarg);
			continue;
		case 'v':
			continue; /* as rds-info: accepted */
		case OPT_SELF:
			self = true;
			continue;
		case 'h':
			help();
			break;
		case 'V':
			printf("%s %s\n", progname, MPRDS_VERSION);
			return 0;
		case OPT_PATHS:
			tables[NTABLES - 1].wanted = any = true;
			continue;
		default:
			break;
		}
		for (size_t i = 0; i < NTABLES; i++)
			if (tables[i].letter && tables[i].letter == c)
				tables[i].wanted = any = found = true;
		if (!found)
			usage_error(NULL); /* getopt said what */
	}
	if (optind != argc)
		usage_error("unexpected argument <%s>", argv[optind]);
	for (size_t i = 0; i < NTABLES && !any; i++)
		tables[i].wanted = true;

	if (self) {
		ret = show_self();
		if (ret < 0) {
			fprintf(stderr, "%s: socket(AF_RDS): %s\n", progname, strerror(-ret));
			return 1;
		}
		return ret;
	}
	if (only && !engine_listed(only)) {
		char instance[64], comm[64];
		int daemon = serving_daemon(only, instance, sizeof(instance));

		if (daemon > 0) {
			comm_of(only, comm, sizeof(comm));
			printf("process %d (%s) is served by mprdsd %d (instance %s): the host's engine\n",
			       only, comm, daemon, instance);
			only = daemon;
		}
	}
	npids = find_engines(pids, MAX_PROCS);
	for (int i = 0; i < npids; i++) {
		if (pids[i] == (int)getpid() || (only && pids[i] != only))
			continue;
		shown++;
		if (!same_user(pids[i])) {
			others++;
			continue;
		}
		ret |= show_engine(pids[i]);
	}
	if (others)
		fprintf(stderr,
			"%s: %d process%s of other users not shown (they answer only root)\n",
			progname, others, others == 1 ? "" : "es");
	if (only && !shown) {
		fprintf(stderr, "%s: process %d does not use mprds (no @%s%d in /proc/net/unix)\n",
			progname, only, CONTROL_NAME_PREFIX, only);
		return 1;
	}
	if (shown)
		return ret | (only && others);
	/* Nobody uses mprds here: show what this process sees, as rds-info would. */
	ret = show_self();
	if (ret < 0) {
		fprintf(stderr,
			"%s: no process on this host uses mprds, and socket(AF_RDS) failed: %s\n",
			progname, strerror(-ret));
		return 1;
	}
	return ret;
}
