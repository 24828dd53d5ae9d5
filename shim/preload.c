// SPDX-License-Identifier: MIT
/*
 * The shim's state: the real libc functions, resolved once with dlsym(RTLD_NEXT), and the table
 * from application fds to RDS sockets.
 *
 * The table is one array indexed by fd, mapped once (untouched pages cost nothing) with room for
 * every fd RLIMIT_NOFILE allows, so it never moves and every call the shim sees pays one bounds
 * check and one load to learn that its fd is not ours. Several application fds may name one
 * socket (dup); each holds a reference, and so does each call in progress, so that a socket
 * closed by one thread while another is inside a call is released when that call returns, as
 * the kernel keeps a file alive while a syscall uses it. The fd api_socket() returned stays
 * with us until then (shim_sock_new()). shim_socks are never freed, only reused, so a reader
 * that raced with the last close touches valid memory and sees refs == 0.
 */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "channel.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "replay.h"
#include "shim.h"

/* The most fds the table covers, whatever RLIMIT_NOFILE says (32 MiB of address space). */
#define SHIM_MAX_FDS (1u << 22)

struct shim_real shim_real;
atomic_bool shim_resolved;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

_Atomic(struct shim_sock *) *shim_fds;
atomic_uint shim_nfds;
/* 1 + the highest fd that ever named an RDS socket */
static atomic_uint shim_hwm;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int table_err;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

/* Guards the two lists of shim_socks; the table itself is only touched with atomics. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct shim_sock *all_socks;
static struct shim_sock *free_socks;

static void resolve(void)
{
	int saved_errno = errno;

	/* dlsym() calls none of the functions we interpose, so this cannot recurse. */
#define SHIM_CALL(ret, name, params, args) *(void **)&shim_real.name = dlsym(RTLD_NEXT, #name);
#include "calls.def"
	atomic_store_explicit(&shim_resolved, true, memory_order_release);
	errno = saved_errno;
}

void shim_resolve(void)
{
	pthread_once(&resolve_once, resolve);
}

/*
 * The core's own calls to the functions above are renamed to these at build time (Makefile,
 * build/shim/real.syms), so that the core reaches libc directly and never re-enters the shim.
 */
#define SHIM_CALL(ret, name, params, args) \
	ret shim_real_##name params;       \
	ret shim_real_##name params        \
	{                                  \
		return REAL(name) args;    \
	}
#define SHIM_CALL_VOID(name, params, args) \
	void shim_real_##name params;      \
	void shim_real_##name params       \
	{                                  \
		REAL(name) args;           \
	}
#define SHIM_CALL_VA(ret, name, params, last, args)  \
	ret shim_real_##name SHIM_VA_PARAMS params;  \
	ret shim_real_##name SHIM_VA_PARAMS params   \
	{                                            \
		va_list ap;                          \
		void *arg;                           \
                                                     \
		va_start(ap, last);                  \
		arg = va_arg(ap, void *);            \
		va_end(ap);                          \
		return REAL(name) SHIM_VA_ARGS args; \
	}
#include "calls.def"

static void table_init(void)
{
	struct rlimit rl;
	rlim_t n = SHIM_MAX_FDS;
	void *t;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
		n = rl.rlim_max < 1024 ? 1024 : rl.rlim_max;
	t = mmap(NULL, n * sizeof(*shim_fds), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED) {
		table_err = -ENOMEM;
		return;
	}
	shim_fds = t;
	atomic_store_explicit(&shim_nfds, (unsigned int)n, memory_order_release);
}

/*
 * The process's engine: made by its first RDS socket, dropped (not freed) in a forked child.
 * The one mutable pointer to an engine in the library (DESIGN.md).
 */
static struct engine *process_engine;
static pthread_mutex_t engine_mutex = PTHREAD_MUTEX_INITIALIZER;

int shim_engine(struct engine **out)
{
	int err = 0;

	pthread_mutex_lock(&engine_mutex);
	if (!process_engine)
		err = api_engine_new(&process_engine);
	*out = process_engine;
	pthread_mutex_unlock(&engine_mutex);
	return err;
}

static bool use_daemon;
static pthread_once_t engine_choice_once = PTHREAD_ONCE_INIT;

/* Once per process, at its first RDS socket: which engine, and what MPRDS_* say. */
static void choose_engine(void)
{
	const char *v = getenv("MPRDS_ENGINE");
	struct config unused;

	log_init();
	use_daemon = !v || strcmp(v, "process") != 0;
	if (v && strcmp(v, "process") != 0 && strcmp(v, "daemon") != 0)
		log_warn("MPRDS_ENGINE=%s is neither daemon nor process: using daemon", v);
	/*
	 * mprdsd reads the engine's variables when it starts, and logs a bad value in its own
	 * log; the program's stderr is where its user looks, daemon started or found.
	 */
	if (use_daemon)
		engine_config_from_env(&unused);
}

bool shim_use_daemon(void)
{
	pthread_once(&engine_choice_once, choose_engine);
	return use_daemon;
}

static void at_exit(void)
{
	int saved_errno = errno;
	struct engine *e;

	pthread_mutex_lock(&engine_mutex);
	e = process_engine;
	pthread_mutex_unlock(&engine_mutex);
	if (e)
		api_at_exit(e);
	errno = saved_errno;
}

static void fork_prepare(void)
{
	channel_fork_prepare();
	pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
	channel_fork_parent();
}

static void fork_child(void)
{
	unsigned int fd, n = atomic_load(&shim_hwm);
	struct shim_sock *p, *next;

	pthread_mutex_init(&lock, NULL);
	pthread_mutex_init(&engine_mutex, NULL);
	channel_fork_child();
	atomic_store(&shim_pid, getpid());
	if (process_engine)
		api_after_fork_child(process_engine);
	process_engine = NULL; /* the child's first RDS socket makes its own */

	/*
	 * Calls that the parent's other threads had in progress never end here: count anew. The
	 * messages mprdsd lent to the parent stay the parent's: the child's copy is dropped.
	 */
	for (p = all_socks; p; p = p->next) {
		pthread_mutex_init(&p->tx_lock, NULL);
		pthread_mutex_init(&p->rx_lock, NULL);
		pthread_mutex_init(&p->replay_lock, NULL);
		p->rx_len = p->rx_off = p->rx_taken = p->rx_taken_bytes = 0;
		if (p->live)
			atomic_store(&p->refs, 0);
	}
	for (fd = 0; fd < n; fd++) {
		p = atomic_load(&shim_fds[fd]);
		if (p)
			atomic_fetch_add(&p->refs, 1);
	}
	for (p = all_socks; p; p = next) {
		next = p->next;
		if (p->live && !atomic_load(&p->refs)) {
			atomic_store(&p->refs, 1);
			shim_put(p);
		}
	}
}

atomic_int shim_pid;

static void hooks_init(void)
{
	atomic_store(&shim_pid, getpid());
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	atexit(at_exit);
}

/* Makes the table; called before the first RDS socket is made. */
int shim_start(void)
{
	pthread_once(&table_once, table_init);
	return table_err;
}

static void raise_hwm(int fd)
{
	unsigned int n = atomic_load(&shim_hwm);

	while (n <= (unsigned int)fd && !atomic_compare_exchange_weak(&shim_hwm, &n, fd + 1))
		;
}

static struct shim_sock *sock_alloc(void)
{
	struct shim_sock *p;

	pthread_mutex_lock(&lock);
	p = free_socks;
	if (p) {
		free_socks = p->free_next;
	} else {
		p = calloc(1, sizeof(*p));
		if (p) {
			p->next = all_socks;
			all_socks = p;
		}
	}
	if (p)
		p->live = true;
	pthread_mutex_unlock(&lock);
	return p;
}

/* Makes app name p, a new socket, and returns app. */
static int table_put(int app, struct shim_sock *p)
{
	struct shim_sock *old;

	atomic_store(&p->refs, 1);
	raise_hwm(app);
	old = atomic_exchange(&shim_fds[app], p);
	/* an entry left by a close that did not come through us (libc-internal, raw syscall) */
	if (old)
		shim_put(old);
	pthread_once(&hooks_once, hooks_init);
	return app;
}

/* Takes a reference on p unless it is being released (refs already 0). */
static bool sock_hold(struct shim_sock *p)
{
	unsigned int r = atomic_load(&p->refs);

	while (r && !atomic_compare_exchange_weak(&p->refs, &r, r + 1))
		;
	return r != 0;
}

int shim_sock_new_remote(uint32_t id, uint32_t epoch, int app)
{
	struct shim_sock *p = NULL;

	if ((unsigned int)app < atomic_load(&shim_nfds))
		p = sock_alloc();
	if (!p) {
		struct shim_sock tmp = { .ops = &shim_remote_ops, .id = id, .epoch = epoch };

		shim_remote_ops.release(&tmp);
		REAL(close)(app);
		return (unsigned int)app < atomic_load(&shim_nfds) ? -ENOMEM : -EMFILE;
	}
	p->ops = &shim_remote_ops;
	p->id = id;
	atomic_store(&p->epoch, epoch);
	p->lost = 0;
	p->fd = -1;
	p->tx_credit = 0;
	p->rx_len = p->rx_off = p->rx_taken = p->rx_taken_bytes = 0;
	return table_put(app, p);
}

/* The fds the table may name: below the highest ever used, and inside the table. */
static unsigned int table_span(void)
{
	unsigned int n = atomic_load(&shim_hwm), max = atomic_load(&shim_nfds);

	return n < max ? n : max;
}

int shim_fd_of(struct shim_sock *p)
{
	unsigned int n = table_span();

	for (unsigned int fd = 0; fd < n; fd++)
		if (atomic_load_explicit(&shim_fds[fd], memory_order_relaxed) == p)
			return (int)fd;
	return -1;
}

void shim_replace_fds(struct shim_sock *p, int newfd)
{
	unsigned int n = table_span();

	for (unsigned int fd = 0; fd < n; fd++) {
		int fdflags;

		if (atomic_load_explicit(&shim_fds[fd], memory_order_relaxed) != p)
			continue;
		fdflags = REAL(fcntl)((int)fd, F_GETFD);
		/* the old file (its daemon gone) closes here, as the fd takes the new one */
		(void)REAL(dup3)(newfd, (int)fd,
				 fdflags >= 0 && (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
	}
}

void shim_for_each_remote(void (*fn)(struct shim_sock *p))
{
	struct shim_sock *p;

	/* shim_socks are never freed and join at the head: the list from here on stays valid */
	pthread_mutex_lock(&lock);
	p = all_socks;
	pthread_mutex_unlock(&lock);
	for (; p; p = p->next) {
		if (!p->live || p->ops != &shim_remote_ops || !sock_hold(p))
			continue;
		if (p->live && p->ops == &shim_remote_ops)
			fn(p);
		shim_put(p);
	}
}

/*
 * Gives the application its fd for the socket s that api_socket() just made with fd: a dup
 * of fd, while fd itself stays with us, close-on-exec, until api_release() (shim_put()). The
 * core may so keep using fd (to poll, to read O_NONBLOCK and SO_RCVTIMEO back) however the
 * application closes, dups and replaces its own fds, even while another thread is inside a
 * call. Returns the application's fd, or -errno with s released and fd closed.
 */
int shim_sock_new(struct api_sock *s, int fd, bool cloexec)
{
	struct shim_sock *p;
	int app, ret;

	app = REAL(fcntl)(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (app < 0) {
		ret = -errno;
		goto fail;
	}
	ret = -EMFILE;
	if ((unsigned int)app >= atomic_load(&shim_nfds))
		goto fail_app;
	ret = -ENOMEM;
	p = sock_alloc();
	if (!p)
		goto fail_app;
	REAL(fcntl)(fd, F_SETFD, FD_CLOEXEC);
	p->ops = &shim_local_ops;
	p->s = s;
	p->fd = fd;
	return table_put(app, p);

fail_app:
	REAL(close)(app);
fail:
	api_release(s);
	REAL(close)(fd);
	return ret;
}

struct shim_sock *shim_get_slow(int fd)
{
	struct shim_sock *p;

	while ((p = shim_peek(fd))) {
		/* refs == 0: p left the table and is being released; the table has changed */
		if (!sock_hold(p))
			continue;
		/* p may have been released and reused for another fd before we took our reference */
		if (shim_peek(fd) == p)
			return p;
		shim_put(p);
	}
	return NULL;
}

void shim_put(struct shim_sock *p)
{
	int saved_errno;

	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	saved_errno = errno;
	p->ops->release(p);
	replay_forget(p);
	if (p->fd >= 0)
		REAL(close)(p->fd);
	errno = saved_errno;
	pthread_mutex_lock(&lock);
	p->s = NULL;
	p->live = false;
	p->free_next = free_socks;
	free_socks = p;
	pthread_mutex_unlock(&lock);
}

/*
 * Makes fd name p (held by the caller), or nothing if p is NULL, dropping the reference of
 * whatever fd named before. Called after the fd has been made, closed or replaced for real.
 */
int shim_attach(int fd, struct shim_sock *p)
{
	struct shim_sock *old;

	if ((unsigned int)fd >= atomic_load(&shim_nfds))
		return p ? -EMFILE : 0;
	if (p) {
		atomic_fetch_add(&p->refs, 1);
		raise_hwm(fd);
	}
	old = atomic_exchange(&shim_fds[fd], p);
	if (old)
		shim_put(old);
	return 0;
}

/* Drops every entry for fds first..last (close_range, closefrom). */
void shim_detach_range(unsigned int first, unsigned int last)
{
	unsigned int fd, n = atomic_load(&shim_hwm);

	if (n > atomic_load(&shim_nfds))
		n = atomic_load(&shim_nfds);
	if (last >= n)
		last = n - 1;
	for (fd = first; fd < n && fd <= last; fd++)
		if (atomic_load_explicit(&shim_fds[fd], memory_order_relaxed))
			shim_attach((int)fd, NULL);
}
