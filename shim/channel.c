// SPDX-License-Identifier: MIT
/*
 * The process's channel to mprdsd (include/mprds/ipc.h): found or started on the first RDS
 * socket, one call at a time under a mutex. The daemon never blocks for a client: a call that
 * would wait comes back with what it waits for, and remote.c waits here, on the
 * application's own fd, outside the mutex.
 *
 * At fork the parent opens a second channel and has the daemon give it the parent's sockets
 * (IPC_ADOPT): the child takes that channel, so that it holds the RDS sockets it inherited
 * and a child that dies lets go of them, as a process's exit closes its fds.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/rendezvous.h"
#include "channel.h"
#include "mprds/fdreg.h"
#include "mprds/log.h"
#include "shim.h"

#ifndef MPRDS_BINDIR
#define MPRDS_BINDIR "/usr/local/bin"
#endif

static pthread_mutex_t chan_lock = PTHREAD_MUTEX_INITIALIZER;
static int chan_fd = -1;
static uint64_t chan_token;
static int fork_fd = -1; /* the channel made for a child being forked */
static uint64_t fork_token;
/* Starts at 1: 0 in a channel_call means "names no socket". */
static atomic_uint chan_epoch = 1;

uint32_t channel_epoch(void)
{
	return atomic_load_explicit(&chan_epoch, memory_order_acquire);
}

/* MPRDS_DAEMON if it names a program we may run; a bad one is said once. */
static bool daemon_from_env(char *buf, size_t size)
{
	static bool bad_said;
	const char *env = getenv("MPRDS_DAEMON");

	if (!env || !*env)
		return false;
	if (access(env, X_OK) == 0) {
		snprintf(buf, size, "%s", env);
		return true;
	}
	if (!bad_said) {
		bad_said = true;
		log_warn("MPRDS_DAEMON=%s is not a program that can be run (%s): using the "
			 "default mprdsd",
			 env, strerror(errno));
	}
	return false;
}

/* The daemon to start: MPRDS_DAEMON, mprdsd beside this library (a build tree), or BINDIR's. */
static void daemon_path(char *buf, size_t size)
{
	Dl_info info;
	const char *slash;

	if (daemon_from_env(buf, size))
		return;
	if (dladdr((void *)daemon_path, &info) && info.dli_fname &&
	    (slash = strrchr(info.dli_fname, '/'))) {
		snprintf(buf, size, "%.*s/mprdsd", (int)(slash - info.dli_fname), info.dli_fname);
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, size, "%s/mprdsd", MPRDS_BINDIR);
}

/* Under chan_lock. */
static int open_channel(uint64_t *token)
{
	static bool bad_instance_said;
	struct rendezvous_welcome w;
	char path[PATH_MAX];
	int fd;

	if (!rendezvous_instance_ok(getenv("MPRDS_INSTANCE"))) {
		/* Never another instance instead: that would be another host's sockets. */
		if (!bad_instance_said)
			log_warn("MPRDS_INSTANCE=%s is not 1 to 32 of [A-Za-z0-9_.-]: no daemon "
				 "serves it; RDS sockets fail with EINVAL",
				 getenv("MPRDS_INSTANCE"));
		bad_instance_said = true;
		return -EINVAL;
	}
	daemon_path(path, sizeof(path));
	fd = rendezvous_ensure(getenv("MPRDS_INSTANCE"), path, &w);
	if (fd < 0) {
		log_warn("no mprdsd answers for instance %s and %s did not start one (%s): RDS "
			 "sockets fail; set MPRDS_DAEMON to mprdsd, or MPRDS_ENGINE=process",
			 getenv("MPRDS_INSTANCE") ? getenv("MPRDS_INSTANCE") : "default", path,
			 strerror(-fd));
		return fd;
	}
	fdreg_add(fd);
	*token = w.token;
	return fd;
}

static void close_channel(int fd)
{
	fdreg_del(fd);
	REAL(close)(fd);
}

/* Moves *iov (*n entries) past k bytes that a partial read or write moved. */
static void iov_advance(struct iovec **iov, size_t *n, size_t k)
{
	while (*n && k >= (*iov)->iov_len) {
		k -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + k;
		(*iov)->iov_len -= k;
	}
}

/* give's fd as the SCM_RIGHTS of m, in cbuf. */
static void attach_fd(struct msghdr *m, char *cbuf, size_t size, int give)
{
	struct cmsghdr *cm;

	memset(cbuf, 0, size);
	m->msg_control = cbuf;
	m->msg_controllen = size;
	cm = CMSG_FIRSTHDR(m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &give, sizeof(int));
}

/*
 * Writes every byte of iov[0..n) (a stream: partial writes go on), *give (unless NULL) with
 * the first of them.
 */
static int write_all(int fd, struct iovec *iov, size_t n, const int *give)
{
	char cbuf[CMSG_SPACE(sizeof(int))];

	while (n) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n < IOV_MAX ? n : IOV_MAX };
		ssize_t k;

		if (give)
			attach_fd(&m, cbuf, sizeof(cbuf), *give);
		k = REAL(sendmsg)(fd, &m, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EPIPE;
		give = NULL;
		iov_advance(&iov, &n, (size_t)k);
	}
	return 0;
}

/* Reads exactly len bytes into iov (which has room for them), taking a passed fd if one comes. */
static int read_all(int fd, struct iovec *iov, size_t n, size_t len, int *passed)
{
	char cbuf[CMSG_SPACE(sizeof(int))];

	while (len) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n < IOV_MAX ? n : IOV_MAX };
		ssize_t k;

		while (iov->iov_len == 0 && n > 1) {
			iov++;
			n--;
			m.msg_iov = iov;
			m.msg_iovlen = n < IOV_MAX ? n : IOV_MAX;
		}
		if (passed) {
			m.msg_control = cbuf;
			m.msg_controllen = sizeof(cbuf);
		}
		k = REAL(recvmsg)(fd, &m, MSG_CMSG_CLOEXEC);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -ECONNRESET; /* the request went, if there was one */
		if (passed && m.msg_controllen) {
			struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

			if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(passed, CMSG_DATA(cm), sizeof(int));
			passed = NULL;
		}
		len -= (size_t)k;
		iov_advance(&iov, &n, (size_t)k);
	}
	return 0;
}

/* Copies iov (n entries) after slot 1 of out, for write_all: out has n + 3 entries. */
static size_t request_iov(struct iovec *out, const struct channel_call *c)
{
	size_t k = 0;

	out[k++] = (struct iovec){ (void *)&c->req, sizeof(c->req) };
	for (size_t i = 0; c->data_out && i < c->data_out_n; i++)
		out[k++] = c->data_out[i];
	if (c->req.namelen)
		out[k++] = (struct iovec){ (void *)c->name_out, c->req.namelen };
	if (c->req.ctllen)
		out[k++] = (struct iovec){ (void *)c->control_out, c->req.ctllen };
	return k;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The reply's data, name and control, into the caller's buffers. */
static int read_reply_body(int fd, struct channel_call *c)
{
	size_t names = min_size(c->rep.namelen, c->name_in_room), n = c->data_in_n + 3, k = 0;
	struct iovec stack[8], *iov = n <= 8 ? stack : calloc(n, sizeof(*iov));
	int err;

	if (!iov)
		return -ENOMEM;
	/* the data fills the caller's buffers only as far as it goes: the name comes next */
	for (size_t i = 0, left = c->rep.datacount; i < c->data_in_n && left; i++) {
		iov[k] = c->data_in[i];
		iov[k].iov_len = min_size(iov[k].iov_len, left);
		left -= iov[k++].iov_len;
	}
	iov[k++] = (struct iovec){ c->name_in, names };
	iov[k++] = (struct iovec){ c->control_in, c->rep.ctllen };
	iov[k++] = (struct iovec){ c->extra_in, c->rep.lentlen };
	err = read_all(fd, iov, k, c->rep.datacount + names + c->rep.ctllen + c->rep.lentlen, NULL);
	if (iov != stack)
		free(iov);
	return err;
}

/*
 * The reply must fit what the call gave room for: a daemon that says more is not ours. Of a
 * name, the reply carries as much as the call had room for (name_in_room <= IPC_MAX_NAME).
 */
static bool reply_fits(const struct channel_call *c)
{
	size_t room = 0;

	for (size_t i = 0; i < c->data_in_n; i++)
		room += c->data_in[i].iov_len;
	return c->rep.datacount <= room && c->rep.ctllen <= c->control_in_room &&
	       c->rep.lentlen <= c->extra_in_room &&
	       c->rep.len == sizeof(c->rep) + c->rep.datacount +
				     min_size(c->rep.namelen, c->name_in_room) + c->rep.ctllen +
				     c->rep.lentlen;
}

static int exchange(int fd, struct channel_call *c)
{
	size_t n = c->data_out_n + 3;
	struct iovec stack[8], *iov = n <= 8 ? stack : calloc(n, sizeof(*iov));
	struct iovec hdr = { &c->rep, sizeof(c->rep) };
	int err;

	if (!iov)
		return -ENOMEM;
	err = write_all(fd, iov, request_iov(iov, c), c->give_fd);
	if (iov != stack)
		free(iov);
	if (!err)
		err = read_all(fd, &hdr, 1, sizeof(c->rep), &c->passed_fd);
	if (!err && !reply_fits(c))
		err = -EPROTO;
	return err ? err : read_reply_body(fd, c);
}

/*
 * Under chan_lock: the channel cannot be used again (the daemon died, or the stream is out
 * of step); with it go the daemon's sockets, which the next one makes again.
 */
static void channel_broken(void)
{
	close_channel(chan_fd);
	chan_fd = -1;
	atomic_fetch_add_explicit(&chan_epoch, 1, memory_order_release);
}

/* Under chan_lock: may a request for c->epoch's daemon go on the channel? */
static bool epoch_current(const struct channel_call *c)
{
	return !c->epoch || c->epoch == atomic_load(&chan_epoch);
}

int channel_call(struct channel_call *c)
{
	int err = 0;

	c->passed_fd = -1;
	pthread_mutex_lock(&chan_lock);
	if (!epoch_current(c)) {
		pthread_mutex_unlock(&chan_lock);
		return CHANNEL_STALE;
	}
	if (chan_fd < 0) {
		chan_fd = open_channel(&chan_token);
		err = chan_fd < 0 ? chan_fd : 0;
		if (err)
			chan_fd = -1;
	}
	if (!err)
		err = exchange(chan_fd, c);
	/* -EPROTO: a reply that does not parse leaves the stream out of step */
	if (err == -EPIPE || err == -ECONNRESET || err == -EPROTO)
		channel_broken();
	c->epoch = atomic_load(&chan_epoch);
	pthread_mutex_unlock(&chan_lock);
	/* a write that failed reached no daemon; one that went may have been served */
	if (err == -EPIPE)
		return CHANNEL_STALE;
	return err == -ECONNRESET || err == -EPROTO ? CHANNEL_LOST : err;
}

int channel_send(struct channel_call *c)
{
	size_t n = c->data_out_n + 3;
	struct iovec stack[8], *iov = n <= 8 ? stack : calloc(n, sizeof(*iov));
	int err = CHANNEL_STALE;

	if (!iov)
		return -ENOMEM;
	pthread_mutex_lock(&chan_lock);
	if (chan_fd >= 0 && epoch_current(c))
		err = write_all(chan_fd, iov, request_iov(iov, c), c->give_fd);
	if (err == -EPIPE) {
		channel_broken();
		err = CHANNEL_STALE;
	}
	pthread_mutex_unlock(&chan_lock);
	if (iov != stack)
		free(iov);
	return err;
}

void channel_fork_prepare(void)
{
	struct channel_call c = { .req = { .len = sizeof(struct ipc_req) + sizeof(uint64_t),
					   .op = IPC_ADOPT,
					   .datalen = sizeof(uint64_t) } };
	struct iovec tok = { &chan_token, sizeof(chan_token) };

	pthread_mutex_lock(&chan_lock);
	if (chan_fd < 0)
		return;
	fork_fd = open_channel(&fork_token);
	c.data_out = &tok;
	c.data_out_n = 1;
	if (fork_fd >= 0 && (exchange(fork_fd, &c) || c.rep.ret)) {
		close_channel(fork_fd);
		fork_fd = -1;
	}
}

void channel_fork_parent(void)
{
	if (fork_fd >= 0)
		close_channel(fork_fd);
	fork_fd = -1;
	pthread_mutex_unlock(&chan_lock);
}

void channel_fork_child(void)
{
	if (chan_fd >= 0) {
		close_channel(chan_fd);
		chan_fd = fork_fd;
		chan_token = fork_token;
		/* no channel holds what we inherited (the daemon died?): the next one makes it anew */
		if (fork_fd < 0)
			atomic_fetch_add(&chan_epoch, 1);
	}
	fork_fd = -1;
	pthread_mutex_init(&chan_lock, NULL);
}
