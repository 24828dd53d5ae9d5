// SPDX-License-Identifier: MIT
/*
 * RDS sockets served by mprdsd (the host-wide engine): each call goes over the channel as the
 * api_* call it would be in-process (channel.c), and a call that would wait waits here, on
 * the application's fd, whose readiness the daemon keeps exact, then calls again. The
 * application holds one fd per socket: the daemon made it and passed it to us.
 */
#include <fcntl.h>
#include <linux/rds.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel.h"
#include "mprds/clock.h"
#include "remote.h"
#include "replay.h"

/* One call as it is, on the socket and daemon c names: the reply's return, or the channel's. */
static long call_simple(struct channel_call *c)
{
	int err;

	c->req.len = (uint32_t)(sizeof(c->req) + c->req.namelen + c->req.ctllen);
	for (size_t i = 0; i < c->data_out_n; i++)
		c->req.len += (uint32_t)c->data_out[i].iov_len;
	c->rep = (struct ipc_rep){ 0 }; /* a call the channel failed waits for nothing */
	err = channel_call(c);
	return err ? err : (long)c->rep.ret;
}

static long call_in(uint32_t id, uint32_t epoch, struct channel_call *c)
{
	c->req.id = id;
	c->epoch = epoch;
	return call_simple(c);
}

/* How often a call is tried again on a new daemon that died too before it answered. */
#define CALL_TRIES 4

/*
 * One call on p in the daemon of now: when p's daemon died, p is made again in the next
 * (replay.c) and the call goes again, unless it was a send the dead daemon may have taken:
 * the caller counts that one as sent (README, "Faults").
 */
static long call_for(struct shim_sock *p, struct channel_call *c)
{
	for (int t = 0; t < CALL_TRIES; t++) {
		int err = replay_ensure(p);
		long ret;

		if (err)
			return err;
		ret = call_in(p->id, atomic_load_explicit(&p->epoch, memory_order_acquire), c);
		if (ret == CHANNEL_LOST && c->req.op == IPC_SENDMSG)
			return ret;
		if (ret != CHANNEL_STALE && ret != CHANNEL_LOST)
			return ret;
	}
	return -ECONNRESET;
}

int remote_socket(int type, int protocol, uint32_t *id, uint32_t *epoch)
{
	for (int t = 0; t < CALL_TRIES; t++) {
		struct channel_call c = {
			.req = { .op = IPC_SOCKET, .flags = type, .arg1 = protocol }
		};
		long ret = call_simple(&c);

		if (ret < 0 && c.passed_fd >= 0)
			REAL(close)(c.passed_fd);
		if (ret == CHANNEL_STALE || ret == CHANNEL_LOST)
			continue; /* a socket the dead daemon made died with it */
		if (ret < 0)
			return (int)ret;
		if (c.passed_fd < 0)
			return -EPROTO;
		if (!(type & SOCK_CLOEXEC))
			REAL(fcntl)(c.passed_fd, F_SETFD, 0);
		*id = c.rep.id;
		*epoch = c.epoch;
		return c.passed_fd;
	}
	return -ECONNRESET;
}

void remote_release_in(uint32_t id, uint32_t epoch)
{
	struct channel_call c = { .req = { .op = IPC_RELEASE } };

	/* a socket of a daemon that died went with it: CHANNEL_STALE, nothing to do */
	(void)call_in(id, epoch, &c);
}

static void remote_release(struct shim_sock *p)
{
	remote_release_in(p->id, atomic_load(&p->epoch));
}

static int name_call(struct channel_call *c, int op, const struct sockaddr *sa, socklen_t len)
{
	*c = (struct channel_call){ .req = { .op = (uint16_t)op } };
	if (len > sizeof(struct sockaddr_storage))
		return -EINVAL; /* move_addr_to_kernel() */
	if (len && !sa)
		return -EFAULT;
	c->req.namelen = (uint16_t)len;
	c->name_out = sa;
	return 0;
}

int remote_bind_in(uint32_t id, uint32_t epoch, const struct sockaddr *sa, socklen_t len)
{
	struct channel_call c;
	int err = name_call(&c, IPC_BIND, sa, len);

	return err ? err : (int)call_in(id, epoch, &c);
}

int remote_connect_in(uint32_t id, uint32_t epoch, const struct sockaddr *sa, socklen_t len)
{
	struct channel_call c;
	int err = name_call(&c, IPC_CONNECT, sa, len);

	return err ? err : (int)call_in(id, epoch, &c);
}

static int remote_bind(struct shim_sock *p, const struct sockaddr *sa, socklen_t len)
{
	struct channel_call c;
	int err = name_call(&c, IPC_BIND, sa, len);

	if (!err)
		err = (int)call_for(p, &c);
	if (!err)
		replay_note_bind(p, sa, len);
	return err;
}

static int remote_connect(struct shim_sock *p, const struct sockaddr *sa, socklen_t len)
{
	struct channel_call c;
	int err = name_call(&c, IPC_CONNECT, sa, len);

	if (!err)
		err = (int)call_for(p, &c);
	if (!err)
		replay_note_connect(p, sa, len);
	return err;
}

/*
 * Waits as the engine would have (socket-api.md §5-§6) for what the daemon said the call
 * waits for, then the caller calls again: 0, -ETIMEDOUT, -EINTR, -EBADF.
 */
static int wait_for(int fd, int what, int optname, double *deadline, bool *has_deadline)
{
	if (!*has_deadline) {
		*deadline = api_fd_deadline(fd, optname);
		*has_deadline = true;
	}
	if (what != API_WAIT_CONGESTION)
		return api_fd_wait(fd, (short)what, *deadline);
	/* §5 row 18: no waiter list for congestion map updates: look again every 2 ms */
	if (*deadline >= 0 && clock_now() >= *deadline)
		return -ETIMEDOUT;
	if (nanosleep(&(struct timespec){ 0, 2000000 }, NULL) < 0 && !api_signal_restarts())
		return -EINTR;
	return 0;
}

static size_t min_len(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t iov_room(const struct msghdr *msg)
{
	size_t n = 0;

	for (size_t i = 0; i < msg->msg_iovlen; i++)
		n += msg->msg_iov[i].iov_len;
	return n;
}

#define SEND_FLAGS_QUEUED (MSG_DONTWAIT | MSG_EOR | MSG_NOSIGNAL)
#define CREDIT_MAX (128 * 1024) /* what may be queued past a congestion update, at most */

/*
 * May this message go without waiting for the daemon's answer? Yes when it is plain, goes
 * where the last answered send went, and fits the room that answer left: it cannot fail
 * then, and the daemon queues it (IPC_SEND_QUEUED). The room is spent here.
 */
static bool spend_credit(struct shim_sock *p, const struct msghdr *msg, int flags, size_t len,
			 struct channel_call *c)
{
	bool ok;

	if (msg->msg_controllen || (flags & ~SEND_FLAGS_QUEUED))
		return false;
	pthread_mutex_lock(&p->tx_lock);
	/* the queue takes a message while it is not full (§5 row 19): room > 0 */
	ok = p->tx_credit > 0 && p->tx_credit >= len && msg->msg_namelen == p->tx_dstlen &&
	     (!p->tx_dstlen || !memcmp(msg->msg_name, &p->tx_dst, p->tx_dstlen));
	if (ok) {
		p->tx_credit -= len;
		/* the room is the daemon's that gave it: if that one died, the send asks anew */
		c->req.id = p->tx_id;
		c->epoch = p->tx_epoch;
	}
	pthread_mutex_unlock(&p->tx_lock);
	return ok;
}

/* After an answered send c: the room left for its destination (0 after a failure). */
static void learn_credit(struct shim_sock *p, const struct msghdr *msg, int flags, long ret,
			 const struct channel_call *c)
{
	size_t room = c->rep.optlen;

	pthread_mutex_lock(&p->tx_lock);
	p->tx_credit = 0;
	if (ret >= 0 && !msg->msg_controllen && !(flags & ~SEND_FLAGS_QUEUED) &&
	    msg->msg_namelen <= sizeof(p->tx_dst)) {
		if (msg->msg_namelen) /* a connected socket's send names nothing */
			memcpy(&p->tx_dst, msg->msg_name, msg->msg_namelen);
		p->tx_dstlen = msg->msg_namelen;
		p->tx_credit = room < CREDIT_MAX ? room : CREDIT_MAX;
		p->tx_id = c->req.id;
		p->tx_epoch = c->epoch;
	}
	pthread_mutex_unlock(&p->tx_lock);
}

/* A send on credit, with no answer to wait for: 0, or c is as it was for an answered send. */
static int send_queued(struct channel_call *c)
{
	int err;

	c->req.op = IPC_SEND_QUEUED;
	err = channel_send(c);
	c->req.op = IPC_SENDMSG;
	return err;
}

static void request_message(struct channel_call *c, const struct msghdr *msg, size_t len)
{
	c->req.datalen = len;
	if (len <= IPC_MAX_DATA) {
		c->data_out = msg->msg_iov;
		c->data_out_n = msg->msg_iovlen;
	}
	c->req.namelen = (uint16_t)msg->msg_namelen;
	c->name_out = msg->msg_name;
	c->req.ctllen = (uint32_t)msg->msg_controllen;
	c->control_out = msg->msg_control;
	c->req.len = (uint32_t)(sizeof(c->req) + c->req.namelen + c->req.ctllen +
				(len <= IPC_MAX_DATA ? len : 0));
}

static ssize_t send_once(struct shim_sock *p, const struct msghdr *msg, int flags, int *wait)
{
	struct channel_call c = { .req = { .op = IPC_SENDMSG, .flags = flags } };
	size_t len = iov_room(msg);
	long ret;

	*wait = 0;
	request_message(&c, msg, len);
	if (spend_credit(p, msg, flags, len, &c) && !send_queued(&c))
		return (ssize_t)len;
	ret = call_for(p, &c);
	/* the daemon died with the send in its hands: sent, then lost with the daemon (README) */
	if (ret == CHANNEL_LOST)
		return (ssize_t)len;
	*wait = c.rep.wait;
	learn_credit(p, msg, flags, ret, &c);
	return ret;
}

static ssize_t remote_sendmsg(struct shim_sock *p, int fd, const struct msghdr *msg, int flags)
{
	double deadline = -1;
	bool has_deadline = false;
	int err, wait;

	if ((err = api_check_msghdr(msg)))
		return err;
	if (msg->msg_controllen > IPC_MAX_CONTROL)
		return -ENOBUFS; /* more than sock_kmalloc() gives a control buffer */
	for (;;) {
		ssize_t ret = send_once(p, msg, flags, &wait);

		if (ret >= 0 || !wait)
			return ret;
		err = wait_for(fd, wait, SO_SNDTIMEO, &deadline, &has_deadline);
		if (err)
			return err;
	}
}

/* Tells the daemon the application took every message of the cache (IPC_RECV_TAKEN). */
static void cache_taken(struct shim_sock *p)
{
	struct channel_call c = { .req = { .len = sizeof(struct ipc_req),
					   .op = IPC_RECV_TAKEN,
					   .id = p->id,
					   .arg1 = (int)p->rx_taken,
					   .datalen = p->rx_taken_bytes },
				  .epoch = p->rx_epoch };

	(void)channel_send(&c);
	p->rx_len = p->rx_off = p->rx_taken = p->rx_taken_bytes = 0;
}

static size_t copy_to_iov(const uint8_t *data, size_t len, const struct msghdr *msg)
{
	size_t done = 0;

	for (size_t i = 0; i < msg->msg_iovlen && done < len; i++) {
		size_t n = min_len(len - done, msg->msg_iov[i].iov_len);

		memcpy(msg->msg_iov[i].iov_base, data + done, n);
		done += n;
	}
	return done;
}

/*
 * The next message the daemon lent us, received as the engine would give it (data and source
 * only: it lends no other kind); -EAGAIN when the cache is empty. Under p->rx_lock.
 */
static ssize_t recv_cached(struct shim_sock *p, struct msghdr *msg, int flags)
{
	const uint8_t *at = p->rx_cache + p->rx_off;
	struct api_lent rec;
	size_t copied;

	/* lent by a daemon that died: lost with what it held (README, "Faults") */
	if (p->rx_epoch != atomic_load(&p->epoch))
		p->rx_len = p->rx_off = p->rx_taken = p->rx_taken_bytes = 0;
	if (p->rx_off >= p->rx_len)
		return -EAGAIN;
	memcpy(&rec, at, sizeof(rec));
	copied = copy_to_iov(at + sizeof(rec) + rec.namelen, rec.len, msg);
	if (msg->msg_name) {
		memcpy(msg->msg_name, at + sizeof(rec), min_len(msg->msg_namelen, rec.namelen));
		msg->msg_namelen = rec.namelen;
	}
	msg->msg_flags = copied < rec.len ? MSG_TRUNC : 0;
	msg->msg_controllen = 0;
	if (!(flags & MSG_PEEK)) {
		p->rx_off += sizeof(rec) + rec.namelen + rec.len;
		p->rx_taken++;
		p->rx_taken_bytes += rec.len;
		if (p->rx_off >= p->rx_len)
			cache_taken(p);
	}
	return (flags & MSG_TRUNC) ? (ssize_t)rec.len : (ssize_t)copied;
}

/* A receive through the daemon; what it lends fills the (empty) cache. Under p->rx_lock. */
static ssize_t recv_once(struct shim_sock *p, struct msghdr *msg, int flags, int *wait)
{
	struct channel_call c = { .req = { .op = IPC_RECVMSG, .flags = flags } };
	size_t room = iov_room(msg);
	long ret;

	if (!p->rx_cache)
		p->rx_cache = malloc(IPC_MAX_LEND);
	c.req.datalen = room;
	c.req.arg1 = msg->msg_name ? (int)(msg->msg_namelen < IPC_MAX_NAME ? msg->msg_namelen :
									     IPC_MAX_NAME) :
				     0;
	c.req.arg2 = p->rx_cache ? IPC_MAX_LEND : 0;
	c.req.ctlroom = (uint32_t)(msg->msg_controllen < IPC_MAX_CONTROL ? msg->msg_controllen :
									   IPC_MAX_CONTROL);
	if (!msg->msg_control)
		c.req.ctlroom = 0;
	c.data_in = msg->msg_iov;
	c.data_in_n = msg->msg_iovlen;
	c.name_in = msg->msg_name;
	c.name_in_room = (size_t)c.req.arg1;
	c.control_in = msg->msg_control;
	c.control_in_room = c.req.ctlroom;
	c.extra_in = p->rx_cache;
	c.extra_in_room = p->rx_cache ? IPC_MAX_LEND : 0;
	ret = call_for(p, &c);
	*wait = c.rep.wait;
	if (ret >= 0) {
		msg->msg_namelen = c.rep.namelen;
		msg->msg_flags = c.rep.msg_flags;
		msg->msg_controllen = c.rep.ctllen;
		p->rx_len = c.rep.lentlen;
		p->rx_off = 0;
		p->rx_epoch = c.epoch;
	}
	return ret;
}

#define RECV_FLAGS_PLAIN (MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_CMSG_CLOEXEC)

/*
 * The application's fd polls readable exactly while the socket has something to receive, so
 * a plain receive on a socket that has nothing need not ask the daemon: -EAGAIN for a
 * non-blocking one, POLLIN (wait on the fd) for a blocking one; 0: ask.
 */
static int nothing_to_receive(int fd, int flags)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if ((flags & ~RECV_FLAGS_PLAIN) || poll(&pfd, 1, 0) != 0)
		return 0;
	if ((flags & MSG_DONTWAIT) || (REAL(fcntl)(fd, F_GETFL) & O_NONBLOCK))
		return -EAGAIN;
	return POLLIN;
}

static ssize_t remote_recvmsg(struct shim_sock *p, int fd, struct msghdr *msg, int flags)
{
	struct msghdr data_only = *msg;
	double deadline = -1;
	bool has_deadline = false;
	int err, wait;

	data_only.msg_control = NULL; /* a NULL control buffer only truncates (MSG_CTRUNC) */
	data_only.msg_controllen = 0;
	if ((err = api_check_msghdr(&data_only)))
		return err;
	for (;;) {
		ssize_t ret = -EAGAIN;

		pthread_mutex_lock(&p->rx_lock);
		if (!(flags & ~RECV_FLAGS_PLAIN))
			ret = recv_cached(p, msg, flags);
		wait = ret == -EAGAIN ? nothing_to_receive(fd, flags) : 0;
		if (ret == -EAGAIN && !wait)
			ret = recv_once(p, msg, flags, &wait);
		pthread_mutex_unlock(&p->rx_lock);
		if (wait < 0)
			return wait;
		if (ret >= 0 || !wait)
			return ret;
		err = wait_for(fd, wait, SO_RCVTIMEO, &deadline, &has_deadline);
		if (err)
			return err;
	}
}

static int get_name(struct shim_sock *p, int op, struct sockaddr *sa, socklen_t *len)
{
	struct channel_call c = { .req = { .op = (uint16_t)op } };
	int ret;

	if (!len || (!sa && *len))
		return -EFAULT;
	c.req.arg1 = (int)(*len < IPC_MAX_NAME ? *len : IPC_MAX_NAME);
	c.name_in = sa;
	c.name_in_room = (size_t)c.req.arg1;
	ret = (int)call_for(p, &c);
	if (!ret)
		*len = c.rep.namelen;
	return ret;
}

static int remote_getsockname(struct shim_sock *p, struct sockaddr *sa, socklen_t *len)
{
	return get_name(p, IPC_GETSOCKNAME, sa, len);
}

static int remote_getpeername(struct shim_sock *p, struct sockaddr *sa, socklen_t *len)
{
	return get_name(p, IPC_GETPEERNAME, sa, len);
}

static int remote_getsockopt(struct shim_sock *p, int level, int name, void *val, socklen_t *len)
{
	struct channel_call c = { .req = { .op = IPC_GETSOCKOPT, .arg1 = level, .arg2 = name } };
	struct iovec in;
	int ret;

	if (!len || (!val && *len))
		return -EFAULT;
	in = (struct iovec){ val, *len < IPC_MAX_DATA ? *len : IPC_MAX_DATA };
	c.req.datalen = *len;
	c.data_in = &in;
	c.data_in_n = 1;
	ret = (int)call_for(p, &c);
	if (ret >= 0 || ret == -ENOSPC)
		*len = c.rep.optlen;
	return ret;
}

static int sockopt_call(struct channel_call *c, struct iovec *out, int level, int name,
			const void *val, socklen_t len)
{
	*c = (struct channel_call){ .req = { .op = IPC_SETSOCKOPT,
					     .arg1 = level,
					     .arg2 = name,
					     .flags = !val,
					     .datalen = len } };
	if (val) {
		if (len > IPC_MAX_DATA)
			return -EINVAL;
		*out = (struct iovec){ (void *)val, len };
		c->data_out = out;
		c->data_out_n = 1;
	}
	return 0;
}

int remote_setsockopt_in(uint32_t id, uint32_t epoch, int level, int name, const void *val,
			 socklen_t len)
{
	struct channel_call c;
	struct iovec out;
	int err = sockopt_call(&c, &out, level, name, val, len);

	return err ? err : (int)call_in(id, epoch, &c);
}

static int remote_setsockopt(struct shim_sock *p, int level, int name, const void *val,
			     socklen_t len)
{
	struct channel_call c;
	struct iovec out;
	int err;

	pthread_mutex_lock(&p->tx_lock); /* SO_SNDBUF and the like: ask again */
	p->tx_credit = 0;
	pthread_mutex_unlock(&p->tx_lock);
	err = sockopt_call(&c, &out, level, name, val, len);
	if (!err)
		err = (int)call_for(p, &c);
	if (!err && val)
		replay_note_option(p, level, name, val, len);
	return err;
}

static void ioctl_call(struct channel_call *c, struct iovec *io, unsigned long request, void *arg)
{
	*c = (struct channel_call){ .req = { .op = IPC_IOCTL,
					     .flags = !arg,
					     .arg1 = (int)request,
					     .datalen = IPC_IOCTL_ARG } };
	*io = (struct iovec){ arg, IPC_IOCTL_ARG };
	/* only SIOCRDSSETTOS reads its argument, SIOCRDSGETTOS writes it: one byte each */
	if (arg && request == SIOCRDSSETTOS) {
		c->data_out = io;
		c->data_out_n = 1;
	}
	if (arg && request == SIOCRDSGETTOS) {
		c->data_in = io;
		c->data_in_n = 1;
	}
}

int remote_ioctl_in(uint32_t id, uint32_t epoch, unsigned long request, void *arg)
{
	struct channel_call c;
	struct iovec io;

	ioctl_call(&c, &io, request, arg);
	return (int)call_in(id, epoch, &c);
}

static int remote_ioctl(struct shim_sock *p, unsigned long request, void *arg)
{
	struct channel_call c;
	struct iovec io;
	int err;

	ioctl_call(&c, &io, request, arg);
	err = (int)call_for(p, &c);
	if (!err && arg && request == SIOCRDSSETTOS)
		replay_note_tos(p, *(unsigned char *)arg);
	return err;
}

const struct shim_ops shim_remote_ops = {
	.release = remote_release,
	.bind = remote_bind,
	.connect = remote_connect,
	.sendmsg = remote_sendmsg,
	.recvmsg = remote_recvmsg,
	.getsockname = remote_getsockname,
	.getpeername = remote_getpeername,
	.getsockopt = remote_getsockopt,
	.setsockopt = remote_setsockopt,
	.ioctl = remote_ioctl,
};
