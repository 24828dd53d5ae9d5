/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_API_H
#define MPRDS_API_H

/*
 * The socket calls of one RDS socket, as the shim hands them to the core.
 *
 * Every function returns a count or 0 on success and -errno on failure; only the shim
 * touches errno. The core never sees the application's fd table: the shim maps its fd to
 * the struct api_sock * that api_socket() returned.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One RDS socket as the application holds it (opaque outside core/). */
struct api_sock;
/* The engine that serves the sockets (opaque outside core/); the shim holds the one pointer. */
struct engine;

/*
 * An engine configured from the MPRDS_* variables, its loop thread started: stores it in
 * *out and returns 0, or -errno. Made on the process's first RDS socket, never before.
 */
int api_engine_new(struct engine **out);

/*
 * Creates an RDS socket. type is the type argument of socket(2) (SOCK_SEQPACKET, possibly
 * OR-ed with SOCK_NONBLOCK | SOCK_CLOEXEC), protocol its protocol. On success stores the
 * socket in *out and returns the kernel fd the application will hold (>= 0); that fd is a
 * real socket whose readiness mirrors the RDS socket's. The shim owns that fd: it closes it
 * with the real close() right after api_release().
 */
int api_socket(struct engine *e, int type, int protocol, struct api_sock **out);
/* api_socket()'s argument checks alone, before there is an engine: 0 or -errno. */
int api_socket_check(int type, int protocol);

/* Drops the application's last reference: the socket is unbound and its queues freed. */
void api_release(struct api_sock *s);

int api_bind(struct api_sock *s, const struct sockaddr *addr, socklen_t len);
int api_connect(struct api_sock *s, const struct sockaddr *addr, socklen_t len);
ssize_t api_sendmsg(struct api_sock *s, const struct msghdr *msg, int flags);
ssize_t api_recvmsg(struct api_sock *s, struct msghdr *msg, int flags);
/*
 * mprdsd: after a receive, the messages waiting behind it, lent to the client's cache as
 * records (struct api_lent, the source sockaddr, the payload) in buf, up to room bytes, so
 * that its next receives need not ask; none when recvmsg() would give more than data and
 * source (timestamps, traces, notifications). Returns the bytes used, *count the messages.
 * They stay counted in the receive buffer, and the socket readable, until the client says
 * its application took them (api_recv_returned). *payload: their data bytes.
 */
struct api_lent {
	uint32_t len;
	uint16_t namelen;
	uint16_t pad;
};
size_t api_recv_lend(struct api_sock *s, uint8_t *buf, size_t room, unsigned *count,
		     size_t *payload);
void api_recv_returned(struct api_sock *s, unsigned n, size_t bytes);

/*
 * mprdsd: a message its client already reported as sent, from the room api_send_room() gave
 * it: queued whatever the send buffer and the destination's congestion say now (as a kernel
 * queues a message sent just before a congestion update arrives); checked as by
 * api_sendmsg() otherwise.
 */
ssize_t api_sendmsg_queued(struct api_sock *s, const struct msghdr *msg, int flags);
/*
 * mprdsd: this thread holds e's lock from begin to end, so that a run of
 * api_sendmsg_queued() calls takes it once, not once per message: each time a message is
 * queued the loop thread (woken to write it) would wait for the lock, and every unlock woke
 * it again. Only calls that never wait (never_block) and never release a socket may be made
 * in between; the batch must be short, as the loop thread serves no connection meanwhile.
 */
void api_batch_begin(struct engine *e);
void api_batch_end(struct engine *e);
/* The bytes s may queue before its send buffer is full (0 when it is full). */
long api_send_room(struct api_sock *s);
/* The payload bytes s has queued and no peer has acknowledged yet. */
size_t api_send_queued_bytes(struct api_sock *s);
int api_getsockname(struct api_sock *s, struct sockaddr *addr, socklen_t *len);
int api_getpeername(struct api_sock *s, struct sockaddr *addr, socklen_t *len);
int api_getsockopt(struct api_sock *s, int level, int name, void *val, socklen_t *len);
int api_setsockopt(struct api_sock *s, int level, int name, const void *val, socklen_t len);
int api_ioctl(struct api_sock *s, unsigned long request, void *arg);
/* listen, accept, shutdown, socketpair on an RDS socket: the kernel's answer. */
int api_unsupported(void);

/*
 * In an engine made with cfg.never_block (mprdsd), a call never waits: where it would, it
 * fails as a non-blocking call would (-EAGAIN, -ENOBUFS for a congested destination) and
 * api_would_wait() tells the thread what it would have waited for: POLLIN or POLLOUT on the
 * application's fd, or API_WAIT_CONGESTION (a destination's congestion bit, looked at again
 * every 2 ms); 0 if the call was non-blocking anyway. The client then waits in its own
 * process with api_fd_wait() and calls again, so that the daemon serves others meanwhile.
 */
#define API_WAIT_CONGESTION 0x10000
int api_would_wait(void);
/*
 * Waits until fd polls events or deadline (clock_now() seconds, -1: none) passes: 0 (also
 * after a signal whose handler asks for a restart, when there is no deadline: the caller
 * loops), -ETIMEDOUT, -EINTR, -EBADF, as the kernel's socket waits end (socket-api.md §5-§6).
 */
int api_fd_wait(int fd, short events, double deadline);
/* The deadline SO_RCVTIMEO or SO_SNDTIMEO on fd gives a call starting now, or -1. */
double api_fd_deadline(int fd, int optname);
/* Would the kernel restart a call without timeout that a handler interrupted? */
bool api_signal_restarts(void);

/* The iovec and control pointers of msg: -EFAULT for a NULL the kernel could not copy. */
int api_check_msghdr(const struct msghdr *msg);

/* Is fd one of the engine's own? close, close_range and closefrom must leave it open. */
int api_owns_fd(int fd);
/*
 * mprdsd --upgrade: a socket's number in the engine's snapshot being written (engine_save;
 * the reader finds it among snap_in.objs), and the application's end of its readiness pair.
 */
uint32_t api_snap_id(const struct api_sock *s);
int api_app_fd(const struct api_sock *s);
/* The lowest engine fd >= from, or -1. */
int api_next_owned_fd(int from);

/*
 * In a child after fork(): e (the parent's engine) is dropped: its fds are closed, and its
 * sockets answer EBADF, as RDS sockets inherited across fork did before host-wide RDS.
 * The child's next RDS socket makes a new engine (api_engine_new).
 */
void api_after_fork_child(struct engine *e);
/* At process exit: give queued messages MPRDS_LINGER_MS to reach TCP, then stop. */
void api_at_exit(struct engine *e);

#endif
