// SPDX-License-Identifier: MIT
/*
 * RDS fds passed between processes with SCM_RIGHTS, as kernel RDS sockets can be: the fd's
 * own name says which daemon's socket it is (rendezvous_sock_name), so the receiving
 * process's shim recognises it and attaches it; the sending process first tells the daemon
 * the socket is in flight, so that closing its own fd at once does not end the socket.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "../daemon/rendezvous.h"
#include "channel.h"
#include "passfd.h"
#include "replay.h"
#include "shim.h"

/* Calls f(fd, arg) for each fd a message's SCM_RIGHTS carry. */
static void for_each_passed_fd(const struct msghdr *msg, void (*f)(int fd))
{
	struct cmsghdr *cm;

	if (!msg || !msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			f(fd);
		}
	}
}

void passfd_announce(int fd)
{
	struct shim_sock *p = shim_get(fd);
	struct channel_call c;

	if (!p)
		return;
	if (p->ops == &shim_remote_ops) {
		c = (struct channel_call){
			.req = { .len = sizeof(struct ipc_req), .op = IPC_PASSING, .id = p->id },
			.epoch = atomic_load(&p->epoch),
		};
		(void)channel_send(&c);
	}
	shim_put(p);
}

void passfd_attach_if_ours(int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	struct shim_sock *p;
	/* the fd itself goes with the call: the daemon checks it is that socket */
	struct channel_call c = {
		.req = { .len = sizeof(struct ipc_req), .op = IPC_ATTACH },
		.give_fd = &fd,
	};

	if (shim_peek(fd) || REAL(getsockname)(fd, (struct sockaddr *)&sun, &len) < 0 ||
	    sun.sun_family != AF_UNIX ||
	    !rendezvous_sock_id(getenv("MPRDS_INSTANCE"), &sun, len, &c.req.id))
		return;
	/* the first RDS socket of this process may be one it was given: the table comes first */
	if (shim_start() < 0)
		return;
	if (channel_call(&c) || c.rep.ret || shim_sock_new_remote(c.req.id, c.epoch, fd) < 0)
		return;
	p = shim_get(fd);
	if (p) {
		replay_note_attached(p);
		shim_put(p);
	}
}

void passfd_before_send(const struct msghdr *msg)
{
	if (shim_use_daemon())
		for_each_passed_fd(msg, passfd_announce);
}

void passfd_after_recv(const struct msghdr *msg)
{
	if (shim_use_daemon())
		for_each_passed_fd(msg, passfd_attach_if_ours);
}
