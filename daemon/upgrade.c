// SPDX-License-Identifier: MIT
/*
 * mprdsd --upgrade: a new binary takes over a running daemon (handover.h). The old daemon
 * stops its engine (it holds the engine lock from the snapshot to its exit), writes
 * everything a client or a peer could notice — its settings and MPRDS_* environment, the
 * engine (engine_snap.c), the socket table and every client with its channel — and the new
 * one makes it all again on the same fds before it is told to go. Peers see a pause, not a
 * restart (the same GEN_NUM and TCP connections); clients see a slow call.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "handover.h"
#include "mprds/clock.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/snap.h"
#include "sockets.h"

#define ENV_PREFIX "MPRDS_"
#define MAX_ENV 256

extern char **environ;

static bool is_ours(const char *kv)
{
	return !strncmp(kv, ENV_PREFIX, strlen(ENV_PREFIX)) && strchr(kv, '=');
}

/* The daemon was configured by its MPRDS_* variables: the new one runs with the same. */
static void env_save(struct snap_out *o)
{
	uint32_t n = 0;

	for (char **e = environ; *e; e++)
		n += is_ours(*e) && n < MAX_ENV;
	snap_u32(o, n);
	for (char **e = environ; *e && n; e++)
		if (is_ours(*e) && n--)
			snap_blob(o, *e, (uint32_t)strlen(*e));
}

static void env_clear_ours(void)
{
	char name[256];

	for (char **e = environ; *e;) {
		size_t k = strcspn(*e, "=");

		if (!is_ours(*e) || k >= sizeof(name)) {
			e++;
			continue;
		}
		memcpy(name, *e, k);
		name[k] = 0;
		unsetenv(name); /* environ shifts down: look at the same place again */
	}
}

static void env_load(struct snap_in *in)
{
	uint32_t n = snap_get_count(in, MAX_ENV);
	char kv[4096];

	env_clear_ours();
	for (uint32_t i = 0; i < n && !in->bad; i++) {
		const uint8_t *p;
		uint32_t len = snap_get_blob(in, &p, sizeof(kv) - 1);

		if (len)
			memcpy(kv, p, len);
		kv[len] = 0;
		if (!is_ours(kv)) {
			snap_fail(in, "an environment variable not of ours");
			return;
		}
		kv[strcspn(kv, "=")] = 0;
		setenv(kv, kv + strlen(kv) + 1, 1);
	}
}

static void daemon_save(const struct daemon *d, unsigned skip, struct snap_out *o)
{
	snap_u32(o, SNAP_MAGIC);
	snap_u32(o, SNAP_VERSION);
	env_save(o);
	snap_f64(o, d->idle_exit);
	snap_u8(o, d->system);
	snap_u32(o, d->ctx.max_client_sockets);
	snap_u64(o, d->ctx.max_client_bytes);
	snap_fd(o, d->listen_fd);
	snap_fd(o, STDERR_FILENO); /* the new daemon logs where this one did */
	engine_save(d->eng, o);
	sockets_save(o);
	snap_u32(o, d->nclients - 1);
	for (unsigned i = 1; i <= d->nclients; i++)
		if (i != skip)
			client_save(o, d->clients[i]);
}

/* May this client replace us? Our own user, or root. */
static bool may_take_over(const struct client *c)
{
	return c->uid == geteuid() || c->uid == 0;
}

void daemon_hand_over(struct daemon *d, unsigned i)
{
	struct client *c = d->clients[i];
	double t0 = clock_now();
	char why[200] = "out of memory";
	struct snap_out o;
	int err = -ENOMEM;

	if (!may_take_over(c)) {
		log_warn("mprdsd: pid %d (uid %u) asked to take over: refused, it is another "
			 "user's",
			 (int)c->pid, (unsigned)c->uid);
		return;
	}
	snap_out_init(&o);
	engine_lock(d->eng); /* held until we exit: nothing may change under the new daemon */
	daemon_save(d, i, &o);
	if (!o.failed)
		err = handover_give(c->fd, &o, why, sizeof(why));
	if (!err) {
		log_info("mprdsd %d: pid %d took over (%u clients, %u sockets, %u fds, %zu bytes "
			 "of state) after %.1f ms; exiting",
			 (int)getpid(), (int)c->pid, d->nclients - 1, sockets_count(), o.nfds,
			 o.len, (clock_now() - t0) * 1000);
		_exit(0);
	}
	engine_unlock(d->eng);
	snap_out_fini(&o);
	log_warn("mprdsd %d: upgrade to pid %d failed (%s): this daemon goes on serving",
		 (int)getpid(), (int)c->pid, why);
}

static int daemon_restore(struct daemon *d, const char *instance, struct snap_in *in)
{
	struct config cfg;
	int stderr_fd;
	unsigned max_sockets;
	size_t max_bytes;
	uint32_t n;

	if (snap_get_u32(in) != SNAP_MAGIC || snap_get_u32(in) != SNAP_VERSION)
		snap_fail(in, "not a daemon's state");
	env_load(in);
	log_init();
	engine_config_from_env(&cfg);
	cfg.never_block = true;
	d->idle_exit = snap_get_f64(in);
	d->system = snap_get_bool(in);
	max_sockets = snap_get_u32(in);
	max_bytes = snap_get_u64(in);
	d->listen_fd = snap_get_fd(in);
	stderr_fd = snap_get_fd(in);
	if (stderr_fd >= 0 && stderr_fd != STDERR_FILENO) {
		dup2(stderr_fd, STDERR_FILENO); /* from here on we log where the old daemon does */
		close(stderr_fd);
	}
	d->eng = in->bad ? NULL : engine_new(&cfg);
	if (!d->eng)
		snap_fail(in, "no engine");
	if (in->bad || engine_restore(d->eng, in) < 0)
		return -EPROTO;
	daemon_ctx_init(d, instance, max_sockets, max_bytes);
	sockets_restore(in);
	n = snap_get_count(in, MAX_CLIENTS);
	for (uint32_t k = 0; k < n && !in->bad; k++) {
		struct client *c = client_load(in);

		if (c)
			daemon_add_client(d, c);
	}
	if (!in->bad && in->off != in->len)
		snap_fail(in, "bytes after the end");
	return in->bad || d->listen_fd < 0 ? -EPROTO : 0;
}

/* To the waiting `mprdsd --upgrade` command: a status byte, then what to print. */
static int report(int fd, int status, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	line[0] = (char)('0' + status);
	va_start(ap, fmt);
	n = vsnprintf(line + 1, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	n = n < 0 ? 0 : n > (int)sizeof(line) - 3 ? (int)sizeof(line) - 3 : n;
	line[1 + n] = '\n';
	(void)!write(fd, line, (size_t)n + 2);
	return status;
}

static void detach_stdio(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
}

/* The restored daemon, told to go: it serves from here on. */
static int serve_taken_over(struct daemon *d, const char *instance, int report_fd, pid_t old,
			    double t0)
{
	int err = engine_start(d->eng);

	if (err)
		return report(report_fd, 1, "mprdsd: took over from pid %d but cannot start: %s",
			      (int)old, strerror(-err));
	detach_stdio();
	log_info("mprdsd %d: took over instance %s from pid %d (%u clients, %u sockets) in "
		 "%.1f ms",
		 (int)getpid(), instance ? instance : "default", (int)old, d->nclients,
		 sockets_count(), (clock_now() - t0) * 1000);
	report(report_fd, 0,
	       "mprdsd: pid %d serves instance %s now (pid %d handed it over in "
	       "%.1f ms)",
	       (int)getpid(), instance ? instance : "default", (int)old, (clock_now() - t0) * 1000);
	close(report_fd);
	daemon_serve(d);
	log_info("mprdsd %d: exiting", (int)getpid());
	return 0;
}

static int take_over(const char *instance, int report_fd)
{
	static struct daemon d; /* large (its poll set), and alive until exit */
	double t0 = clock_now();
	struct handover_taken t;
	struct snap_in in;
	char why[200];
	int chan;
	pid_t old;

	if (handover_take(instance, &chan, &t, why, sizeof(why)))
		return report(report_fd, 1, "mprdsd: cannot take over: %s", why);
	old = t.old_pid;
	snap_in_init(&in, t.buf, t.len, t.fds, t.nfds);
	if (daemon_restore(&d, instance, &in) < 0) {
		/* Nothing was started: the fds close with this process, the old daemon goes on. */
		handover_answer(chan, in.why);
		return report(report_fd, 1, "mprdsd: cannot take over from pid %d: %s", (int)old,
			      in.why);
	}
	if (handover_answer(chan, NULL) < 0)
		return report(report_fd, 1, "mprdsd: pid %d did not let go: it goes on serving",
			      (int)old);
	close(chan);
	snap_in_close_rest(&in);
	snap_in_fini(&in);
	handover_taken_free(&t);
	return serve_taken_over(&d, instance, report_fd, old, t0);
}

/* The command's own process prints what the new daemon reported, and its status. */
static int wait_for_report(int fd)
{
	char buf[1024];
	size_t have = 0;
	ssize_t n;

	while (have < sizeof(buf) - 1 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		have += (size_t)n;
	}
	buf[have] = 0;
	if (!have) {
		fprintf(stderr, "mprdsd: the new daemon died before it said anything\n");
		return 1;
	}
	fputs(buf + 1, buf[0] == '0' ? stdout : stderr);
	return buf[0] == '0' ? 0 : 1;
}

int daemon_upgrade(const char *instance)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("mprdsd: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("mprdsd: fork");
		return 1;
	}
	if (pid > 0) {
		close(p[1]);
		return wait_for_report(p[0]);
	}
	close(p[0]);
	setsid();
	signal(SIGPIPE, SIG_IGN);
	daemon_signals();
	_exit(take_over(instance ? strdup(instance) : NULL, p[1]));
}
