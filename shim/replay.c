// SPDX-License-Identifier: MIT
/*
 * A socket served by mprdsd outlives its daemon, as a kernel socket outlives nothing of the
 * kind: when the daemon dies (kill -9, OOM), the next call of the process finds its channel
 * broken (channel.c), and every RDS socket of the process is made again in the daemon that
 * replaces it (started by the first process that asks, rendezvous.c), from the calls the
 * application made on it: the options it set, its bind and its connect, in the order they
 * were made. The new socket's fd takes the application's fd numbers (dup3), with their
 * FD_CLOEXEC, the O_NONBLOCK and the timeouts of the old one. What the dead daemon held
 * queued is lost, as in a crash of the node; README ("Faults") says what an application sees.
 */
#include <fcntl.h>
#include <linux/rds.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "channel.h"
#include "mprds/log.h"
#include "remote.h"
#include "replay.h"

/* STEP_EPOLL is no daemon's: an epoll set (level) an fd (name) of the socket joins again. */
enum step_kind { STEP_OPTION, STEP_BIND, STEP_CONNECT, STEP_TOS, STEP_EPOLL };

/* One call to make again; a later call of the same kind and option replaces it in place. */
struct replay_step {
	enum step_kind kind;
	int level, name;
	socklen_t len;
	unsigned char value[];
};

struct replay_record {
	struct replay_step **steps;
	unsigned n, cap;
};

/* Options that act once rather than set a state: nothing to make again. */
static bool option_is_state(int level, int name)
{
	return level != SOL_RDS || (name != RDS_CANCEL_SENT_TO && name != RDS_GET_MR &&
				    name != RDS_GET_MR_FOR_DEST && name != RDS_FREE_MR);
}

static struct replay_step **step_slot(struct replay_record *r, enum step_kind kind, int level,
				      int name)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->steps[i]->kind == kind && r->steps[i]->level == level &&
		    r->steps[i]->name == name)
			return &r->steps[i];
	if (r->n == r->cap) {
		unsigned cap = r->cap ? 2 * r->cap : 8;
		struct replay_step **s = realloc(r->steps, cap * sizeof(*s));

		if (!s)
			return NULL;
		r->steps = s;
		r->cap = cap;
	}
	r->steps[r->n] = NULL;
	return &r->steps[r->n++];
}

/* Under p->replay_lock. */
static bool record_step(struct shim_sock *p, enum step_kind kind, int level, int name,
			const void *val, socklen_t len)
{
	struct replay_step **slot, *st;

	if (!p->replay && !(p->replay = calloc(1, sizeof(*p->replay))))
		return false;
	slot = step_slot(p->replay, kind, level, name);
	if (!slot)
		return false;
	st = realloc(*slot, sizeof(*st) + len);
	if (!st) {
		if (!*slot) /* a new slot stays empty: take it back */
			p->replay->n--;
		return false;
	}
	*st = (struct replay_step){ .kind = kind, .level = level, .name = name, .len = len };
	memcpy(st->value, val, len);
	*slot = st;
	return true;
}

static void note(struct shim_sock *p, enum step_kind kind, int level, int name, const void *val,
		 socklen_t len)
{
	bool ok;

	pthread_mutex_lock(&p->replay_lock);
	ok = record_step(p, kind, level, name, val, len);
	pthread_mutex_unlock(&p->replay_lock);
	if (!ok)
		log_warn("mprds: out of memory: if mprdsd dies, a socket is made again without "
			 "one of its calls");
}

void replay_note_bind(struct shim_sock *p, const struct sockaddr *sa, socklen_t len)
{
	note(p, STEP_BIND, 0, 0, sa, len);
}

void replay_note_connect(struct shim_sock *p, const struct sockaddr *sa, socklen_t len)
{
	note(p, STEP_CONNECT, 0, 0, sa, len);
}

void replay_note_option(struct shim_sock *p, int level, int name, const void *val, socklen_t len)
{
	if (option_is_state(level, name))
		note(p, STEP_OPTION, level, name, val, len);
}

void replay_note_tos(struct shim_sock *p, unsigned char tos)
{
	note(p, STEP_TOS, 0, 0, &tos, 1);
}

/* Under p->replay_lock. */
static void drop_step(struct shim_sock *p, enum step_kind kind, int level, int name)
{
	struct replay_record *r = p->replay;

	for (unsigned i = 0; r && i < r->n; i++) {
		if (r->steps[i]->kind != kind || r->steps[i]->level != level ||
		    r->steps[i]->name != name)
			continue;
		free(r->steps[i]);
		/* the order of the rest is kept: it is the order the calls are made again in */
		memmove(&r->steps[i], &r->steps[i + 1], (r->n - i - 1) * sizeof(r->steps[0]));
		r->n--;
		return;
	}
}

void replay_note_epoll(struct shim_sock *p, int epfd, int op, int fd, const struct epoll_event *ev)
{
	if (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) {
		note(p, STEP_EPOLL, epfd, fd, ev, sizeof(*ev));
		return;
	}
	pthread_mutex_lock(&p->replay_lock);
	drop_step(p, STEP_EPOLL, epfd, fd);
	pthread_mutex_unlock(&p->replay_lock);
}

void replay_note_attached(struct shim_sock *p)
{
	struct sockaddr_in6 sa; /* sin_port and sin6_port lie alike */
	socklen_t len = sizeof(sa);

	if (!p->ops->getsockname(p, (struct sockaddr *)&sa, &len) && len <= sizeof(sa) &&
	    (sa.sin6_family == AF_INET || sa.sin6_family == AF_INET6) && sa.sin6_port)
		replay_note_bind(p, (struct sockaddr *)&sa, len);
}

void replay_forget(struct shim_sock *p)
{
	struct replay_record *r = p->replay;

	p->replay = NULL;
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++)
		free(r->steps[i]);
	free(r->steps);
	free(r);
}

static int redo_step(const struct replay_step *st, uint32_t id, uint32_t epoch)
{
	unsigned char tos;

	switch (st->kind) {
	case STEP_BIND:
		return remote_bind_in(id, epoch, (const struct sockaddr *)st->value, st->len);
	case STEP_CONNECT:
		return remote_connect_in(id, epoch, (const struct sockaddr *)st->value, st->len);
	case STEP_TOS:
		tos = st->value[0];
		return remote_ioctl_in(id, epoch, SIOCRDSSETTOS, &tos);
	case STEP_EPOLL:
		return 0; /* after the fds are replaced: rejoin_epoll() */
	case STEP_OPTION:
		break;
	}
	return remote_setsockopt_in(id, epoch, st->level, st->name, st->value, st->len);
}

/*
 * p's calls, made again on socket id: 0; the error of a bind that failed (its port is
 * another's now); CHANNEL_STALE or CHANNEL_LOST (this daemon died too). Under replay_lock.
 */
static int redo_steps(const struct shim_sock *p, uint32_t id, uint32_t epoch)
{
	const struct replay_record *r = p->replay;

	for (unsigned i = 0; r && i < r->n; i++) {
		const struct replay_step *st = r->steps[i];
		int err = redo_step(st, id, epoch);

		if (!err)
			continue;
		if (err == CHANNEL_STALE || err == CHANNEL_LOST || st->kind == STEP_BIND)
			return err;
		/* it was taken once: the new daemon should too; the socket goes on without it */
		log_warn("mprds: mprdsd was replaced and refused an option (%d, %d) it had taken: "
			 "%s",
			 st->level, st->name, strerror(-err));
	}
	return 0;
}

/* What belongs to the fd, not to the daemon's socket: O_NONBLOCK and the two timeouts. */
static void copy_fd_state(int from, int to)
{
	static const int timeouts[] = { SO_RCVTIMEO, SO_SNDTIMEO };
	int fl = REAL(fcntl)(from, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK))
		(void)REAL(fcntl)(to, F_SETFL, REAL(fcntl)(to, F_GETFL) | O_NONBLOCK);
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		struct timeval tv;
		socklen_t len = sizeof(tv);

		if (!REAL(getsockopt)(from, SOL_SOCKET, timeouts[i], &tv, &len))
			(void)REAL(setsockopt)(to, SOL_SOCKET, timeouts[i], &tv, len);
	}
}

/*
 * The old file left the epoll sets it was in when dup3 closed its last fd: the new one joins
 * them, where the fd still names p. Under replay_lock.
 */
static void rejoin_epoll(const struct shim_sock *p)
{
	const struct replay_record *r = p->replay;

	for (unsigned i = 0; r && i < r->n; i++) {
		const struct replay_step *st = r->steps[i];
		struct epoll_event ev;

		if (st->kind != STEP_EPOLL || shim_peek(st->name) != p)
			continue;
		memcpy(&ev, st->value, sizeof(ev));
		(void)REAL(epoll_ctl)(st->level, EPOLL_CTL_ADD, st->name, &ev);
	}
}

/* The new socket (fd, id of epoch's daemon) is p's from now on. Under replay_lock. */
static void take_new_socket(struct shim_sock *p, int fd, uint32_t id, uint32_t epoch)
{
	int old = shim_fd_of(p);

	if (old >= 0)
		copy_fd_state(old, fd);
	shim_replace_fds(p, fd);
	REAL(close)(fd);
	rejoin_epoll(p);
	p->id = id;
	atomic_store_explicit(&p->epoch, epoch, memory_order_release);
}

/*
 * p cannot be made again: every call on it fails with err from now on. Its fd stays the dead
 * one, which polls readable and hung up, so that whoever waits on it calls and learns it.
 */
static int lose(struct shim_sock *p, int err)
{
	int fd = shim_fd_of(p);

	p->lost = err;
	log_warn("mprds: mprdsd was replaced and RDS socket fd %d could not be bound again (%s): "
		 "its calls fail so; close it",
		 fd, strerror(-err));
	return err;
}

/* p, made again in the daemon of now from its record: 0 or -errno. Under replay_lock. */
static int remake(struct shim_sock *p)
{
	for (int t = 0; t < 4; t++) {
		uint32_t id, epoch;
		int fd = remote_socket(SOCK_SEQPACKET | SOCK_CLOEXEC, 0, &id, &epoch), err;

		if (fd < 0)
			return fd; /* no daemon answers: the next call tries again */
		err = redo_steps(p, id, epoch);
		if (!err) {
			take_new_socket(p, fd, id, epoch);
			return 0;
		}
		remote_release_in(id, epoch);
		REAL(close)(fd);
		if (err != CHANNEL_STALE && err != CHANNEL_LOST)
			return lose(p, err);
	}
	return -ECONNRESET;
}

/* p made again if its daemon died: 0, or -errno; *remade says whether it was. */
static int remake_if_stale(struct shim_sock *p, bool *remade)
{
	int err;

	pthread_mutex_lock(&p->replay_lock);
	err = p->lost;
	if (!err && atomic_load(&p->epoch) != channel_epoch()) {
		err = remake(p);
		*remade = !err;
	}
	pthread_mutex_unlock(&p->replay_lock);
	return err;
}

static void remake_other(struct shim_sock *p)
{
	bool remade = false;

	(void)remake_if_stale(p, &remade);
}

int replay_ensure(struct shim_sock *p)
{
	bool remade = false;
	int err;

	if (atomic_load_explicit(&p->epoch, memory_order_acquire) == channel_epoch())
		return 0; /* the daemon p was made in still serves */
	err = remake_if_stale(p, &remade);
	/*
	 * The first socket made again brings the others of the process along, so that their
	 * ports are theirs again before a peer sends to them, whether or not they are called.
	 */
	if (remade) {
		log_info("mprds: mprdsd died: this process's RDS sockets are made again in the "
			 "daemon that replaces it");
		shim_for_each_remote(remake_other);
	}
	return err;
}
