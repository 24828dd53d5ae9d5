/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SHIM_H
#define MPRDS_SHIM_H

/*
 * The shim's own parts, shared by preload.c and calls.c: the real libc functions and the
 * table that says which application fds are RDS sockets.
 */

#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mprds/api.h"

#define SHIM_VA_PARAMS(...) (__VA_ARGS__, ...)
#define SHIM_VA_ARGS(...) (__VA_ARGS__, arg)

/* glibc declares sockaddr arguments as transparent unions under _GNU_SOURCE (sys/socket.h). */
#if defined __cplusplus || !__GNUC_PREREQ(2, 7) || !defined __USE_GNU
#define SHIM_SA(arg) (arg)
#else
#define SHIM_SA(arg) ((arg).__sockaddr__)
#endif

/* The real libc functions, one per line of calls.def; NULL where libc lacks one. */
struct shim_real {
#define SHIM_CALL(ret, name, params, args) ret(*name) params;
#define SHIM_CALL_VA(ret, name, params, last, args) ret(*name) SHIM_VA_PARAMS params;
#include "calls.def"
};

extern struct shim_real shim_real;
extern atomic_bool shim_resolved;
void shim_resolve(void);

static inline struct shim_real *shim_real_get(void)
{
	if (__builtin_expect(!atomic_load_explicit(&shim_resolved, memory_order_acquire), 0))
		shim_resolve();
	return &shim_real;
}

/* The real libc function name, resolved on first use from whichever thread comes first. */
#define REAL(name) (shim_real_get()->name)

struct shim_sock;

/*
 * The socket calls, served by the in-process engine (local.c, api.h) or by mprdsd
 * (remote.c); fd is the application's fd the call came on, where a blocking call waits.
 */
struct shim_ops {
	void (*release)(struct shim_sock *p);
	int (*bind)(struct shim_sock *p, const struct sockaddr *sa, socklen_t len);
	int (*connect)(struct shim_sock *p, const struct sockaddr *sa, socklen_t len);
	ssize_t (*sendmsg)(struct shim_sock *p, int fd, const struct msghdr *msg, int flags);
	ssize_t (*recvmsg)(struct shim_sock *p, int fd, struct msghdr *msg, int flags);
	int (*getsockname)(struct shim_sock *p, struct sockaddr *sa, socklen_t *len);
	int (*getpeername)(struct shim_sock *p, struct sockaddr *sa, socklen_t *len);
	int (*getsockopt)(struct shim_sock *p, int level, int name, void *val, socklen_t *len);
	int (*setsockopt)(struct shim_sock *p, int level, int name, const void *val, socklen_t len);
	int (*ioctl)(struct shim_sock *p, unsigned long request, void *arg);
};

extern const struct shim_ops shim_local_ops, shim_remote_ops;

/*
 * One RDS socket as the shim holds it, and who still uses it. In-process: the core's socket
 * and the fd api_socket() returned, which the application never sees, only dups of it (see
 * socket()). Served by mprdsd: the daemon's id for it, and no fd of ours (fd is -1).
 */
struct shim_sock {
	const struct shim_ops *ops;
	struct api_sock *s;
	uint32_t id;
	int fd;
	/* mprdsd: the send room the daemon's last answer left for one destination (remote.c) */
	pthread_mutex_t tx_lock;
	struct sockaddr_storage tx_dst;
	socklen_t tx_dstlen;
	size_t tx_credit;
	/* mprdsd: messages the daemon lent to this process's cache (remote.c) */
	pthread_mutex_t rx_lock;
	uint8_t *rx_cache; /* IPC_MAX_LEND bytes, made on first use, kept with the shim_sock */
	size_t rx_len, rx_off;
	unsigned rx_taken; /* taken from the cache since it was filled */
	size_t rx_taken_bytes;
	/*
	 * mprdsd: the daemon's incarnation (channel_epoch()) id is valid in, and what makes the
	 * socket again in the next one when that daemon dies (replay.c), under replay_lock.
	 */
	atomic_uint epoch;
	pthread_mutex_t replay_lock;
	struct replay_record *replay;
	int lost; /* -errno: it could not be made again; every call fails so (replay.c) */
	uint32_t tx_id, tx_epoch; /* the socket tx_credit was given for */
	uint32_t rx_epoch; /* the daemon that lent the cache */
	/* one per application fd that names it in the table, one per call in progress */
	atomic_uint refs;
	bool live;
	/* every shim_sock ever made; they are never freed, only reused */
	struct shim_sock *next;
	struct shim_sock *free_next;
};

/* fd -> struct shim_sock *; shim_nfds stays 0 until the first RDS socket. */
/*
 * The pid the table belongs to. A vfork() or posix_spawn() child shares our memory but not
 * our fds: its close_range() (Python's subprocess closes every fd) must not edit the table.
 */
extern atomic_int shim_pid;

static inline bool shim_in_vfork_child(void)
{
	int pid = atomic_load_explicit(&shim_pid, memory_order_relaxed);

	return pid && getpid() != pid;
}

extern _Atomic(struct shim_sock *) *shim_fds;
extern atomic_uint shim_nfds;

/* The RDS socket fd names, or NULL; a bounds check and a load, for every call the shim sees. */
static inline struct shim_sock *shim_peek(int fd)
{
	if ((unsigned int)fd >= atomic_load_explicit(&shim_nfds, memory_order_acquire))
		return NULL;
	return atomic_load_explicit(&shim_fds[fd], memory_order_acquire);
}

struct shim_sock *shim_get_slow(int fd);

/* Like shim_peek(), but holds a reference for the caller, who drops it with shim_put(). */
static inline struct shim_sock *shim_get(int fd)
{
	if (__builtin_expect(!shim_peek(fd), 1))
		return NULL;
	return shim_get_slow(fd);
}

void shim_put(struct shim_sock *p);
int shim_start(void);
/* The process's engine, made on the first call (0 or -errno). */
int shim_engine(struct engine **out);
int shim_sock_new(struct api_sock *s, int fd, bool cloexec);
/* The application's fd app for the socket id of mprdsd: app, or -errno with it closed. */
int shim_sock_new_remote(uint32_t id, uint32_t epoch, int app);
/* The first application fd that names p, or -1. */
int shim_fd_of(struct shim_sock *p);
/*
 * Puts newfd's file under every application fd that names p, each keeping its FD_CLOEXEC
 * (the socket made again in a new mprdsd, replay.c). newfd stays the caller's.
 */
void shim_replace_fds(struct shim_sock *p, int newfd);
/* Calls fn for every RDS socket of mprdsd, each held for the call (replay.c). */
void shim_for_each_remote(void (*fn)(struct shim_sock *p));
/* Do RDS sockets go to mprdsd (the default) rather than an in-process engine (MPRDS_ENGINE=process)? */
bool shim_use_daemon(void);
int shim_attach(int fd, struct shim_sock *p);
void shim_detach_range(unsigned int first, unsigned int last);

/* Drops fd's entry, if any: the last reference to an RDS socket releases it. */
static inline void shim_detach(int fd)
{
	if (shim_peek(fd))
		shim_attach(fd, NULL);
}

/* Ends a core call made for p: drops the call's reference and turns -errno into errno. */
static inline long shim_end(struct shim_sock *p, int saved_errno, long ret)
{
	shim_put(p);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	errno = saved_errno;
	return ret;
}

/* Runs one core call for p, with errno kept as it was unless the call fails. */
#define SHIM_RUN(p, call)                          \
	({                                         \
		int saved_errno_ = errno;          \
		shim_end(p, saved_errno_, (call)); \
	})

#endif
