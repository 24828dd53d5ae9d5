// SPDX-License-Identifier: MIT
/*
 * The process singleton: configuration, the lazily started libev loop thread, the one lock,
 * wake-ups from application threads, fork and exit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/control.h"
#include "mprds/engine.h"
#include "mprds/fdreg.h"
#include "mprds/listen.h"
#include "mprds/log.h"
#include "mprds/path.h"
#include "mprds/sock.h"
#include "mprds/sysio.h"
#include "mprds/transport.h"

struct engine engine = { .lock = PTHREAD_MUTEX_INITIALIZER, .transport = &tcp_transport };

/* Guards engine.started; separate from engine.lock so start-up can create the loop. */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

void engine_lock(void)
{
	pthread_mutex_lock(&engine.lock);
}

void engine_unlock(void)
{
	pthread_mutex_unlock(&engine.lock);
}

bool engine_on_loop_thread(void)
{
	return engine.started && pthread_equal(pthread_self(), engine.thread);
}

double engine_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	n = strtol(v, &end, 10);
	if (*end || n < min || n > max) {
		log_warn("%s=%s is not in %ld..%ld; using %ld", name, v, min, max, def);
		return def;
	}
	return n;
}

static uint32_t proc_u32(const char *path, uint32_t def)
{
	char buf[32] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return def;
	n = sys_read(fd, buf, sizeof(buf) - 1);
	sys_close(fd);
	return n > 0 ? (uint32_t)strtoul(buf, NULL, 10) : def;
}

/* net.ipv4.ip_local_port_range, cut to whole groups of 8 (wire.md §1, 7.0+). */
static void port_groups_read(struct config *c)
{
	char buf[64] = { 0 };
	unsigned lo = 32768, hi = 60999;
	int fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (sys_read(fd, buf, sizeof(buf) - 1) > 0)
			(void)sscanf(buf, "%u %u", &lo, &hi);
		sys_close(fd);
	}
	lo = (lo + 7) & ~7u;
	if (lo < 1024 || hi > 65535 || hi < lo + 7)
		return;
	c->port_base = (uint16_t)lo;
	c->port_groups = (uint16_t)((hi + 1 - lo) / 8);
	c->sport_idx = (WIRE_MAX_PATHS % c->npaths) == 0;
}

static uint32_t fresh_gen_num(void)
{
	uint32_t g = 0;

	while (g == 0)
		if (getrandom(&g, sizeof(g), 0) != sizeof(g))
			g = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	return g;
}

static void config_read(struct config *c)
{
	log_init();
	c->npaths = (int)env_long("MPRDS_NPATHS", WIRE_MAX_PATHS, 1, WIRE_MAX_PATHS);
	c->tcp_port = (uint16_t)env_long("MPRDS_TCP_PORT", WIRE_TCP_PORT, 1, 65535);
	c->linger_ms = (int)env_long("MPRDS_LINGER_MS", 2000, 0, 3600000);
	c->gen_num = fresh_gen_num();
	port_groups_read(c);
	c->wmem_max = proc_u32("/proc/sys/net/core/wmem_max", 212992);
	c->rmem_max = proc_u32("/proc/sys/net/core/rmem_max", 212992);
	c->wmem_default = proc_u32("/proc/sys/net/core/wmem_default", 212992);
	c->rmem_default = proc_u32("/proc/sys/net/core/rmem_default", 212992);
}

static void loop_release(struct ev_loop *loop)
{
	(void)loop;
	sock_signal_due();
	engine_unlock();
}

static void loop_acquire(struct ev_loop *loop)
{
	(void)loop;
	engine_lock();
}

static void on_wake(struct ev_loop *loop, ev_io *w, int revents)
{
	uint64_t n;
	struct path *p;

	(void)loop, (void)w, (void)revents;
	(void)!sys_read(engine.wake_fd, &n, sizeof(n));
	listen_start_pending();
	while ((p = TAILQ_FIRST(&engine.kicks))) {
		TAILQ_REMOVE(&engine.kicks, p, kick_link);
		p->kicked = false;
		path_service(p);
	}
}

void engine_kick(struct path *p)
{
	bool was_empty = TAILQ_EMPTY(&engine.kicks);

	if (p && !p->kicked) {
		p->kicked = true;
		TAILQ_INSERT_TAIL(&engine.kicks, p, kick_link);
	}
	/* Unit tests drive the rooms without a loop thread. */
	if (was_empty && engine.started) {
		uint64_t one = 1;

		(void)!sys_write(engine.wake_fd, &one, sizeof(one));
	}
}

static void on_timers_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	timers_run(&engine.timers, engine_now());
}

/* Before the loop blocks: its libev timer is set for the earliest of the rooms' timeouts. */
static void on_timers_arm(struct ev_loop *loop, ev_prepare *w, int revents)
{
	double due = timers_next_due(&engine.timers);

	(void)w, (void)revents;
	ev_timer_stop(loop, &engine.timers_due);
	if (due < 0)
		return;
	due -= engine_now();
	ev_timer_set(&engine.timers_due, due > 0 ? due : 0, 0);
	ev_timer_start(loop, &engine.timers_due);
}

/* An application thread armed a timeout earlier than the loop waits for: wake it to re-arm. */
static void on_earlier_timer(struct timers *set, void *arg)
{
	(void)set, (void)arg;
	if (engine.started && !engine_on_loop_thread())
		engine_kick(NULL);
}

static void on_syserr(const char *msg)
{
	log_error("event loop: %s: %s", msg, strerror(errno));
}

static void *loop_main(void *arg)
{
	(void)arg;
	engine_lock();
	ev_run(engine.loop, 0);
	engine_unlock();
	return NULL;
}

static int start_thread(void)
{
	sigset_t all, old;
	int err;

	/* The application's signal handlers must never run on the engine thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&engine.thread, NULL, loop_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_detach(engine.thread);
	return 0;
}

/* The epoll fds open now, one bit per fd below EPOLL_SCAN_MAX. */
#define EPOLL_SCAN_MAX 65536

static void scan_epoll_fds(uint8_t *bits)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[64], link[64];

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		ssize_t n;

		if (fd <= 0 || fd >= EPOLL_SCAN_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = 0, strstr(link, "eventpoll")))
			bits[fd / 8] |= (uint8_t)(1 << (fd % 8));
	}
	closedir(d);
}

/*
 * libev does not tell its backend fd, yet close_range() must not close it: it is the epoll
 * fd that appeared while the loop was made.
 */
static struct ev_loop *new_loop(void)
{
	uint8_t *before = calloc(2, EPOLL_SCAN_MAX / 8), *after = before + EPOLL_SCAN_MAX / 8;
	struct ev_loop *loop;

	if (before)
		scan_epoll_fds(before);
	loop = ev_loop_new(EVFLAG_NOENV | EVFLAG_NOSIGMASK);
	if (loop && before) {
		scan_epoll_fds(after);
		for (int fd = 0; fd < EPOLL_SCAN_MAX; fd++)
			if ((after[fd / 8] & ~before[fd / 8]) & (1 << (fd % 8)))
				fdreg_add(engine.backend_fd = fd);
	}
	free(before);
	return loop;
}

static int start_locked(void)
{
	int err;

	config_read(&engine.cfg);
	ev_set_syserr_cb(on_syserr);
	/* Never the default loop: it would claim SIGCHLD from the application. */
	engine.loop = new_loop();
	if (!engine.loop)
		return -ENOMEM;
	TAILQ_INIT(&engine.kicks);
	engine.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (engine.wake_fd < 0) {
		err = -errno;
		ev_loop_destroy(engine.loop);
		return err;
	}
	fdreg_add(engine.wake_fd);
	ev_io_init(&engine.wake, on_wake, engine.wake_fd, EV_READ);
	ev_set_priority(&engine.wake, EV_MAXPRI);
	ev_io_start(engine.loop, &engine.wake);
	ev_set_loop_release_cb(engine.loop, loop_release, loop_acquire);
	engine.timers.on_earlier = on_earlier_timer;
	ev_init(&engine.timers_due, on_timers_due);
	ev_prepare_init(&engine.timers_arm, on_timers_arm);
	ev_prepare_start(engine.loop, &engine.timers_arm);
	control_start(); /* mprds-info's view of this process (control.c) */
	err = start_thread();
	if (err) {
		control_stop();
		sys_close(engine.wake_fd);
		ev_loop_destroy(engine.loop);
		engine.loop = NULL;
		return err;
	}
	engine.started = true;
	log_debug("engine started: npaths %d, tcp port %u, gen %08x", engine.cfg.npaths,
		  engine.cfg.tcp_port, engine.cfg.gen_num);
	return 0;
}

int engine_start(void)
{
	int err = 0;

	pthread_mutex_lock(&start_lock);
	if (!engine.started)
		err = start_locked();
	pthread_mutex_unlock(&start_lock);
	return err;
}

/*
 * In a forked child only the forking thread exists: the loop thread and every lock holder
 * are gone. Start from nothing; the parent's objects are left as they are (never freed
 * here, they may be mid-update) and its TCP fds stay open only in the parent's sense.
 */
void engine_after_fork_child(void)
{
	pthread_mutex_init(&start_lock, NULL);
	pthread_mutex_init(&engine.lock, NULL);
	if (engine.started) { /* our copies of the parent's loop fds */
		if (engine.backend_fd > 0)
			sys_close(engine.backend_fd);
		sys_close(engine.wake_fd);
	}
	fdreg_after_fork();
	engine.started = false;
	engine.loop = NULL;
	engine.generation++;
	TAILQ_INIT(&engine.kicks);
	LIST_INIT(&engine.signals_due); /* the parent's sockets */
	timers_init(&engine.timers); /* the parent's heap is left, like its connections */
	conn_after_fork();
	listen_after_fork();
	sock_after_fork();
	cong_after_fork();
	control_stop();
}

/* At exit: give queued messages cfg.linger_ms to be acknowledged by the peers' TCP. */
void engine_linger(void)
{
	double deadline;

	if (!engine.started)
		return;
	deadline = engine_now() + engine.cfg.linger_ms / 1000.0;
	for (;;) {
		engine_lock();
		bool idle = conn_all_idle();

		engine_unlock();
		if (idle || engine_now() >= deadline)
			break;
		usleep(1000);
	}
	engine_lock();
	conn_log_stats();
	engine_unlock();
}
