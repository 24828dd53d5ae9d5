// SPDX-License-Identifier: MIT
/*
 * One engine: its configuration, its rooms' state, the libev loop thread started on demand,
 * the one lock, wake-ups from application threads, timers, fork and exit.
 */
#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mprds/clock.h"
#include "mprds/engine.h"
#include "mprds/fdreg.h"
#include "mprds/log.h"
#include "mprds/path.h"
#include "mprds/sysio.h"
#include "mprds/transport.h"

/* The loop's own watchers: wake-ups from application threads and the rooms' timeouts. */
struct engine_watchers {
	ev_io wake;
	ev_timer timers_due;
	ev_prepare timers_arm;
	double armed_due; /* what timers_due is armed for, while it is active */
};

void engine_lock(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
}

void engine_unlock(struct engine *e)
{
	pthread_mutex_unlock(&e->lock);
}

bool engine_on_loop_thread(const struct engine *e)
{
	return e->started && pthread_equal(pthread_self(), e->thread);
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

/*
 * MPRDS_ALLOW: a list that does not parse refuses every peer (a control meant to keep peers
 * out does not let them all in for a typo), and says so.
 */
static void allow_from_env(struct config *c)
{
	const char *v = getenv("MPRDS_ALLOW");
	char bad[64];

	if (!v || !*v)
		return;
	if (allow_parse(v, &c->allow, bad, sizeof(bad)) < 0) {
		log_warn("MPRDS_ALLOW=%s: '%s' is not an address or network (CIDR): no peer may "
			 "connect until it is fixed",
			 v, bad);
		c->allow.n = 1; /* ::/128, which no peer is */
		memset(&c->allow.nets[0], 0, sizeof(c->allow.nets[0]));
		c->allow.nets[0].prefix = 128;
	}
}

void engine_config_from_env(struct config *c)
{
	log_init();
	memset(c, 0, sizeof(*c));
	c->npaths = (int)env_long("MPRDS_NPATHS", WIRE_MAX_PATHS, 1, WIRE_MAX_PATHS);
	c->tcp_port = (uint16_t)env_long("MPRDS_TCP_PORT", WIRE_TCP_PORT, 1, 65535);
	c->linger_ms = (int)env_long("MPRDS_LINGER_MS", 2000, 0, 3600000);
	c->gen_num = fresh_gen_num();
	allow_from_env(c);
	port_groups_read(c);
	c->wmem_max = proc_u32("/proc/sys/net/core/wmem_max", 212992);
	c->rmem_max = proc_u32("/proc/sys/net/core/rmem_max", 212992);
	c->wmem_default = proc_u32("/proc/sys/net/core/wmem_default", 212992);
	c->rmem_default = proc_u32("/proc/sys/net/core/rmem_default", 212992);
}

static void loop_release(struct ev_loop *loop)
{
	struct engine *e = ev_userdata(loop);

	sock_signal_due(e);
	engine_unlock(e);
}

static void loop_acquire(struct ev_loop *loop)
{
	engine_lock(ev_userdata(loop));
}

void engine_run_kicks(struct engine *e)
{
	struct path *p;

	listen_start_pending(e);
	while ((p = kicks_take(&e->kicks)))
		path_service(p);
}

static void on_wake(struct ev_loop *loop, ev_io *w, int revents)
{
	struct engine *e = ev_userdata(loop);
	uint64_t n;

	(void)w, (void)revents;
	(void)!sys_read(e->wake_fd, &n, sizeof(n));
	if (e->stopping)
		ev_break(loop, EVBREAK_ALL);
	else
		engine_run_kicks(e);
}

static void wake_loop(void *arg)
{
	struct engine *e = arg;
	uint64_t one = 1;

	(void)!sys_write(e->wake_fd, &one, sizeof(one));
}

static void on_timers_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = ev_userdata(loop);

	(void)w, (void)revents;
	timers_run(&e->timers, clock_now());
}

/* Before the loop blocks: its libev timer is set for the earliest of the rooms' timeouts. */
static void on_timers_arm(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct engine *e = ev_userdata(loop);
	double due = timers_next_due(&e->timers);

	(void)w, (void)revents;
	/* runs before every block of the loop: most iterations leave the earliest one as it was */
	if (due >= 0 && ev_is_active(&e->watchers->timers_due) && due == e->watchers->armed_due)
		return;
	ev_timer_stop(loop, &e->watchers->timers_due);
	if (due < 0)
		return;
	e->watchers->armed_due = due;
	due -= clock_now();
	ev_timer_set(&e->watchers->timers_due, due > 0 ? due : 0, 0);
	ev_timer_start(loop, &e->watchers->timers_due);
}

/* An application thread armed a timeout earlier than the loop waits for: wake it to re-arm. */
static void on_earlier_timer(struct timers *set, void *arg)
{
	struct engine *e = arg;

	(void)set;
	if (e->started && !engine_on_loop_thread(e))
		kick_path(&e->kicks, NULL);
}

static void on_syserr(const char *msg)
{
	log_error("event loop: %s: %s", msg, strerror(errno));
}

static void *loop_main(void *arg)
{
	struct engine *e = arg;

	engine_lock(e);
	ev_run(e->loop, 0);
	engine_unlock(e);
	return NULL;
}

static int start_thread(struct engine *e)
{
	sigset_t all, old;
	int err;

	/* The application's signal handlers must never run on the engine thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&e->thread, NULL, loop_main, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
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
static struct ev_loop *new_loop(struct engine *e)
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
				fdreg_add(e->backend_fd = fd);
	}
	free(before);
	return loop;
}

struct engine *engine_new(const struct config *cfg)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->watchers = calloc(1, sizeof(*e->watchers));
	if (!e->watchers) {
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->start_lock, NULL);
	e->cfg = *cfg;
	e->transport = &tcp_transport;
	e->wake_fd = e->backend_fd = -1;
	kicks_init(&e->kicks); /* no wake-up until the loop thread runs */
	timers_init(&e->timers);
	e->timers.on_earlier = on_earlier_timer;
	e->timers.on_earlier_arg = e;
	sock_table_init(&e->socks);
	e->socks.local_map_changed = conn_cong_changed;
	LIST_INIT(&e->conns.list);
	LIST_INIT(&e->cong.maps);
	LIST_INIT(&e->listeners.list);
	e->control.listen_fd = -1;
	LIST_INIT(&e->control.clients);
	return e;
}

static int open_loop(struct engine *e)
{
	ev_set_syserr_cb(on_syserr);
	/* Never the default loop: it would claim SIGCHLD from the application. */
	e->loop = new_loop(e);
	if (!e->loop)
		return -ENOMEM;
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0) {
		int err = -errno;

		ev_loop_destroy(e->loop);
		e->loop = NULL;
		return err;
	}
	fdreg_add(e->wake_fd);
	ev_set_userdata(e->loop, e);
	ev_io_init(&e->watchers->wake, on_wake, e->wake_fd, EV_READ);
	ev_set_priority(&e->watchers->wake, EV_MAXPRI);
	ev_io_start(e->loop, &e->watchers->wake);
	ev_set_loop_release_cb(e->loop, loop_release, loop_acquire);
	ev_init(&e->watchers->timers_due, on_timers_due);
	ev_prepare_init(&e->watchers->timers_arm, on_timers_arm);
	ev_prepare_start(e->loop, &e->watchers->timers_arm);
	return 0;
}

static void close_loop(struct engine *e)
{
	if (e->loop)
		ev_loop_destroy(e->loop); /* closes the backend fd */
	if (e->backend_fd >= 0)
		fdreg_del(e->backend_fd);
	if (e->wake_fd >= 0)
		sys_close(e->wake_fd);
	e->loop = NULL;
	e->wake_fd = e->backend_fd = -1;
}

int engine_open_loop(struct engine *e)
{
	return e->loop ? 0 : open_loop(e);
}

static int start_locked(struct engine *e)
{
	int err = engine_open_loop(e);

	if (err)
		return err;
	control_start(e); /* mprds-info's view of this engine (control.c) */
	err = start_thread(e);
	if (err) {
		control_stop(e);
		close_loop(e);
		return err;
	}
	engine_lock(e); /* the loop thread may already be running */
	e->started = true;
	sock_table_set_loop(&e->socks, e->thread);
	e->kicks.wake = wake_loop;
	e->kicks.wake_arg = e;
	wake_loop(e); /* what was kicked before the thread ran (an engine made from a snapshot) */
	engine_unlock(e);
	log_debug("engine started: npaths %d, tcp port %u, gen %08x", e->cfg.npaths,
		  e->cfg.tcp_port, e->cfg.gen_num);
	return 0;
}

int engine_start(struct engine *e)
{
	int err = 0;

	pthread_mutex_lock(&e->start_lock);
	if (!e->started)
		err = start_locked(e);
	pthread_mutex_unlock(&e->start_lock);
	return err;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	if (e->started) {
		engine_lock(e);
		e->stopping = true;
		wake_loop(e);
		engine_unlock(e);
		pthread_join(e->thread, NULL);
		e->started = false;
	}
	engine_lock(e);
	control_stop(e);
	conn_free_all(e);
	listen_free_all(e);
	cong_free_all(e);
	engine_unlock(e);
	close_loop(e);
	timers_fini(&e->timers);
	buf_pool_drain(&e->bufs);
	obj_cache_drain(&e->msgs);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->start_lock);
	free(e->watchers);
	free(e);
}

/*
 * In a forked child only the forking thread exists: the loop thread and every lock holder
 * are gone, so nothing of e is freed (it may be mid-update). Our copies of its fds close.
 */
void engine_forget_after_fork(struct engine *e)
{
	if (!e)
		return;
	/* Held, perhaps, by a thread the child does not have: api_enter must still see stale. */
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->start_lock, NULL);
	e->stale = true;
	if (e->started) { /* our copies of the parent's loop fds */
		if (e->backend_fd > 0)
			sys_close(e->backend_fd);
		sys_close(e->wake_fd);
	}
	conn_forget_after_fork(e);
	listen_forget_after_fork(e);
	control_stop(e);
}

/* At exit: give queued messages cfg.linger_ms to be acknowledged by the peers' TCP. */
void engine_linger(struct engine *e)
{
	double deadline;

	if (!e || !e->started)
		return;
	deadline = clock_now() + e->cfg.linger_ms / 1000.0;
	for (;;) {
		engine_lock(e);
		bool idle = conn_all_idle(e);

		engine_unlock(e);
		if (idle || clock_now() >= deadline)
			break;
		usleep(1000);
	}
	engine_lock(e);
	conn_log_stats(e);
	engine_unlock(e);
}
