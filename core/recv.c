// SPDX-License-Identifier: MIT
/* recvmsg: waiting, truncation, peeking and the source address (socket-api.md §6). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "mprds/apisock.h"
#include "mprds/engine.h"

static int wait_for_message(struct sock *s, int flags, struct msg **out)
{
	double deadline = -1;
	int err;

	while (!(*out = sock_rx_take(s, flags & MSG_PEEK))) {
		if (api_nonblocking(s, flags))
			return -EAGAIN;
		if (deadline < 0)
			deadline = api_deadline(s, SO_RCVTIMEO);
		err = api_wait(s, POLLIN, deadline);
		if (err)
			return err;
	}
	return 0;
}

static size_t copy_out(const struct msg *m, struct msghdr *msg)
{
	size_t done = 0;

	for (size_t i = 0; i < msg->msg_iovlen && done < m->h.len; i++) {
		size_t n = m->h.len - done;

		if (n > msg->msg_iov[i].iov_len)
			n = msg->msg_iov[i].iov_len;
		memcpy(msg->msg_iov[i].iov_base, m->data + done, n);
		done += n;
	}
	return done;
}

static void fill_source(const struct msg *m, struct msghdr *msg)
{
	struct sockaddr_storage ss;
	socklen_t real = addr_fill(&m->src, m->h.sport, &ss);

	if (!msg->msg_name)
		return;
	memcpy(msg->msg_name, &ss, msg->msg_namelen < real ? msg->msg_namelen : real);
	msg->msg_namelen = real;
}

ssize_t api_recvmsg(struct api_sock *as, struct msghdr *msg, int flags)
{
	struct msg *m;
	struct sock *s;
	size_t copied, len;
	int err;

	if (flags & MSG_OOB)
		return 0;
	err = api_enter(as, &s);
	if (err)
		return err;
	err = wait_for_message(s, flags, &m);
	if (err) {
		api_leave(s);
		return err;
	}
	len = m->h.len;
	copied = copy_out(m, msg);
	msg->msg_flags = copied < len ? MSG_TRUNC : 0;
	msg->msg_controllen = 0;
	fill_source(m, msg);
	if (!(flags & MSG_PEEK))
		msg_free(m);
	api_leave(s);
	return (ssize_t)((flags & MSG_TRUNC) ? len : copied);
}
