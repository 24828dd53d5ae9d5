// SPDX-License-Identifier: MIT
/*
 * The socket calls that shape a socket: create, bind, connect, names, release; and the
 * shared entry of every call (socket-api.md §2-§4, §8).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mprds/apisock.h"
#include "mprds/clock.h"
#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/fdreg.h"
#include "mprds/log.h"
#include "mprds/sysio.h"
#include "mprds/tcp_listen.h"

#define SOCK_TYPE_MASK 0xf
#define READINESS_SNDBUF 1 /* the kernel rounds up to its minimum: the fill stays small */

/* What this thread's last call would have waited for (api_would_wait). */
static __thread int would_wait;
/* The engine this thread holds for a batch of calls (api_batch_begin), or NULL. */
static __thread struct engine *batch_held;

void api_batch_begin(struct engine *e)
{
	if (batch_held == e)
		return;
	engine_lock(e);
	batch_held = e;
}

void api_batch_end(struct engine *e)
{
	if (batch_held != e)
		return;
	batch_held = NULL;
	engine_unlock(e);
}

/* A call's own hold of the engine, unless this thread holds it for a batch. */
static void call_lock(struct engine *e)
{
	if (batch_held != e)
		engine_lock(e);
}

static void call_unlock(struct engine *e)
{
	if (batch_held != e)
		engine_unlock(e);
}

int api_enter(struct api_sock *as, struct sock **out)
{
	struct sock *s = (struct sock *)as;

	call_lock(s->eng);
	if (s->eng->stale) {
		call_unlock(s->eng);
		log_warn("RDS fd %d was inherited across fork: it belongs to the parent process",
			 s->app_fd);
		return -EBADF;
	}
	sock_get(s);
	would_wait = 0;
	*out = s;
	return 0;
}

void api_leave(struct sock *s)
{
	struct engine *e = s->eng;

	sock_put(s);
	call_unlock(e);
}

int api_would_wait(void)
{
	return would_wait;
}

int api_nonblocking(const struct sock *s, int flags, int events)
{
	if ((flags & MSG_DONTWAIT) || sys_is_nonblocking(s->app_fd))
		return 1;
	if (!s->eng->cfg.never_block)
		return 0;
	would_wait = events; /* mprdsd: the client waits in its own process */
	return 1;
}

double api_fd_deadline(int fd, int optname)
{
	int ms = sys_timeout_ms(fd, optname);

	return ms < 0 ? -1 : clock_now() + ms / 1000.0;
}

double api_deadline(const struct sock *s, int optname)
{
	return api_fd_deadline(s->app_fd, optname);
}

/*
 * After a handler ran, the kernel restarts a blocked socket call if the handler was installed
 * with SA_RESTART and the call has no timeout (socket-api.md §5, §6). poll(2) does not say
 * which signal it was, so restart only if every installed handler asks for restarts.
 */
bool api_signal_restarts(void)
{
	struct sigaction sa;

	for (int sig = 1; sig < NSIG; sig++) {
		/* faults are raised by the faulting thread, never by a wait (sanitizers trap them) */
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
		    sig == SIGTRAP || sig == SIGSYS)
			continue;
		if (sigaction(sig, NULL, &sa) < 0 || sa.sa_handler == SIG_DFL ||
		    sa.sa_handler == SIG_IGN)
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

int api_fd_wait(int fd, short events, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms = -1, n;

	if (deadline >= 0) {
		double left = deadline - clock_now();

		if (left <= 0)
			return -ETIMEDOUT;
		ms = (int)(left * 1000) + 1;
	}
	n = poll(&pfd, 1, ms);
	if (n < 0 && errno == EINTR && deadline < 0 && api_signal_restarts())
		return 0; /* the caller's loop waits again */
	if (n < 0)
		return -errno;
	if (n == 1 && (pfd.revents & POLLNVAL))
		return -EBADF;
	return n == 0 ? -ETIMEDOUT : 0;
}

int api_wait(struct sock *s, short events, double deadline)
{
	int err;

	engine_unlock(s->eng);
	err = api_fd_wait(s->app_fd, events, deadline);
	engine_lock(s->eng);
	return s->released ? -EBADF : err;
}

static int make_pair(int type, int sv[2])
{
	int one = READINESS_SNDBUF;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* sv[0] too: the shim hands the application a dup of it and keeps this one for us */
	fdreg_add(sv[0]);
	fdreg_add(sv[1]);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (!(type & SOCK_CLOEXEC))
		(void)fcntl(sv[0], F_SETFD, 0);
	if (type & SOCK_NONBLOCK)
		(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	return 0;
}

int api_engine_new(struct engine **out)
{
	struct config cfg;
	struct engine *e;
	int err;

	engine_config_from_env(&cfg);
	e = engine_new(&cfg);
	if (!e)
		return -ENOMEM;
	err = engine_start(e);
	if (err) {
		engine_free(e);
		return err;
	}
	*out = e;
	return 0;
}

int api_socket_check(int type, int protocol)
{
	int flags = type & ~SOCK_TYPE_MASK;

	/* socket-api.md §2: generic checks first, then RDS's own. */
	if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) || (type & SOCK_TYPE_MASK) >= 11)
		return -EINVAL;
	if ((type & SOCK_TYPE_MASK) != SOCK_SEQPACKET || protocol != 0)
		return -ESOCKTNOSUPPORT;
	return 0;
}

int api_socket(struct engine *e, int type, int protocol, struct api_sock **out)
{
	int sv[2], err = api_socket_check(type, protocol);
	struct sock *s;

	if (err)
		return err;
	err = make_pair(type, sv);
	if (err)
		return err;
	engine_lock(e);
	s = sock_new(e, sv[0], sv[1]);
	engine_unlock(e);
	if (!s) {
		sys_close(sv[1]);
		sys_close(sv[0]);
		return -ENOMEM;
	}
	*out = (struct api_sock *)s;
	return sv[0];
}

void api_release(struct api_sock *as)
{
	struct sock *s = (struct sock *)as;

	struct engine *e = s->eng;

	engine_lock(e);
	if (!e->stale) {
		conn_forget_sender(s);
		sock_cong_release(s);
		sock_unbind(s);
		sock_unlist(s);
		sock_rx_flush(s);
		s->released = true;
		/* Closing our end wakes every thread blocked on the application's end. */
		sys_close(s->eng_fd);
		fdreg_del(s->app_fd); /* the shim closes it right after this returns */
		sock_put(s);
	}
	engine_unlock(e);
}

/* socket-api.md §4: connect's own errno for each kind of bad address. */
static int connect_errno(const struct sockaddr *sa, enum addr_kind kind)
{
	/* only these kinds were parsed past the family: a shorter address may not have one */
	bool v6 = (kind == ADDR_ANY || kind == ADDR_NOT_UNICAST) && sa->sa_family == AF_INET6;

	switch (kind) {
	case ADDR_FAMILY:
		return -EAFNOSUPPORT;
	case ADDR_ANY:
		return v6 ? -EPROTOTYPE : -EDESTADDRREQ;
	case ADDR_NOT_UNICAST:
		return v6 ? -EPROTOTYPE : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* bind's errno for a bad address: EINVAL, whatever its kind. */
static int bind_errno(const struct sockaddr *sa, enum addr_kind kind)
{
	(void)sa;
	(void)kind;
	return -EINVAL;
}

/* bind() and connect(): the address (bad() gives the errno of a bad one), then the socket. */
static int enter_with_addr(struct api_sock *as, const struct sockaddr *sa, socklen_t len,
			   int (*bad)(const struct sockaddr *sa, enum addr_kind kind),
			   struct addr *a, uint16_t *port, struct sock **s)
{
	enum addr_kind kind;

	if (!sa && len)
		return -EFAULT;
	kind = addr_parse(sa, len, a, port);
	if (kind != ADDR_OK)
		return bad(sa, kind);
	return api_enter(as, s);
}

int api_bind(struct api_sock *as, const struct sockaddr *sa, socklen_t len)
{
	struct addr a;
	uint16_t port;
	struct sock *s;
	int err = enter_with_addr(as, sa, len, bind_errno, &a, &port, &s);

	if (err)
		return err;
	if (s->bound)
		err = -EINVAL;
	else if (s->connected && a.scope && s->conn_addr.scope && a.scope != s->conn_addr.scope)
		err = -EINVAL; /* §3: connect() to a link-local peer fixed the scope; before the address */
	else if ((err = listen_ensure(s->eng, &a)))
		err = err == -EADDRNOTAVAIL && s->transport_set ? -ENOPROTOOPT : err;
	else if (port == WIRE_PROBE_PORT)
		err = -EINVAL; /* §3: reserved for the handshake probe, checked after the address */
	else
		err = sock_bind_port(s, &a, port);
	api_leave(s);
	return err;
}

int api_connect(struct api_sock *as, const struct sockaddr *sa, socklen_t len)
{
	struct addr a;
	uint16_t port;
	struct sock *s;
	int err = enter_with_addr(as, sa, len, connect_errno, &a, &port, &s);

	if (err)
		return err;
	s->connected = true;
	s->conn_addr = a;
	s->conn_port = port;
	api_leave(s);
	return 0;
}

static int copy_name(const struct sockaddr_storage *ss, socklen_t real, struct sockaddr *out,
		     socklen_t *len)
{
	/* move_addr_to_user(): a length negative as an int is refused, nothing written */
	if ((int)*len < 0)
		return -EINVAL;
	if (!out)
		return 0;
	memcpy(out, ss, *len < real ? *len : real);
	*len = real;
	return 0;
}

/* getsockname() and getpeername(): the kernel's checks of the arguments, then the socket. */
static int enter_for_name(struct api_sock *as, const struct sockaddr *sa, const socklen_t *len,
			  struct sock **s)
{
	if (!len || (!sa && *len))
		return -EFAULT;
	return api_enter(as, s);
}

int api_getsockname(struct api_sock *as, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t real;
	struct sock *s;
	int err = enter_for_name(as, sa, len, &s);

	if (err)
		return err;
	if (s->bound) {
		real = addr_fill(&s->bound_addr, s->bound_port, &ss);
	} else if (s->connected) {
		struct addr zero = { 0 };

		if (addr_is_v4(&s->conn_addr))
			zero.ip.s6_addr[10] = zero.ip.s6_addr[11] = 0xff;
		real = addr_fill(&zero, 0, &ss);
	} else {
		memset(&ss, 0, sizeof(ss));
		real = sizeof(struct sockaddr_in); /* AF_UNSPEC, all zero */
	}
	err = copy_name(&ss, real, sa, len);
	api_leave(s);
	return err;
}

int api_getpeername(struct api_sock *as, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	struct sock *s;
	int err = enter_for_name(as, sa, len, &s);

	if (err)
		return err;
	if (!s->connected)
		err = -ENOTCONN;
	else
		err = copy_name(&ss, addr_fill(&s->conn_addr, s->conn_port, &ss), sa, len);
	api_leave(s);
	return err;
}

int api_check_msghdr(const struct msghdr *msg)
{
	if (msg->msg_iovlen && !msg->msg_iov)
		return -EFAULT;
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		if (!msg->msg_iov[i].iov_base && msg->msg_iov[i].iov_len)
			return -EFAULT;
	if (!msg->msg_control && msg->msg_controllen)
		return -EFAULT;
	return 0;
}

int api_owns_fd(int fd)
{
	return fdreg_has(fd);
}

uint32_t api_snap_id(const struct api_sock *as)
{
	return ((const struct sock *)as)->snap_id;
}

int api_app_fd(const struct api_sock *as)
{
	return ((const struct sock *)as)->app_fd;
}

int api_next_owned_fd(int from)
{
	return fdreg_next(from);
}

int api_unsupported(void)
{
	return -EOPNOTSUPP;
}

void api_after_fork_child(struct engine *e)
{
	engine_forget_after_fork(e);
}

void api_at_exit(struct engine *e)
{
	engine_linger(e);
}
