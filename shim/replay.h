/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SHIM_REPLAY_H
#define MPRDS_SHIM_REPLAY_H
/*
 * A socket served by mprdsd outlives the daemon (replay.c): the calls that shaped it are
 * recorded, and when the daemon dies the socket is made again in the next one from them.
 */
#include <sys/socket.h>

#include "shim.h"

/*
 * Before a call on p: p names a socket of the daemon the process talks to now, made again
 * there (with every other RDS socket of the process) if its daemon died. 0, or -errno: it
 * could not be made again (p->lost), or no daemon answers.
 */
int replay_ensure(struct shim_sock *p);

/* After a call on p that succeeded: what makes the socket again. */
void replay_note_bind(struct shim_sock *p, const struct sockaddr *sa, socklen_t len);
void replay_note_connect(struct shim_sock *p, const struct sockaddr *sa, socklen_t len);
void replay_note_option(struct shim_sock *p, int level, int name, const void *val, socklen_t len);
void replay_note_tos(struct shim_sock *p, unsigned char tos);
/* After epoll_ctl(epfd, op, fd, ev) succeeded on p's fd: the set it joins again (or not). */
void replay_note_epoll(struct shim_sock *p, int epfd, int op, int fd, const struct epoll_event *ev);

/* p came from another process (exec, SCM_RIGHTS): its bind, as the daemon says it is. */
void replay_note_attached(struct shim_sock *p);

/* p is released: its record goes. */
void replay_forget(struct shim_sock *p);

#endif
