// SPDX-License-Identifier: MIT
/* The hand-over of a running daemon's state to a new binary (handover.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handover.h"
#include "mprds/api.h"
#include "mprds/clock.h"
#include "rendezvous.h"

#define FDS_PER_BATCH 200 /* under SCM_MAX_FD (253) */
#define GO_BYTE 'G'

struct handover_head {
	uint32_t magic, version;
	uint64_t len;
	uint32_t nfds;
	int32_t pid; /* the old daemon's (SO_PEERCRED names whoever listened first) */
} __attribute__((packed));

struct handover_reply {
	uint32_t magic;
	int32_t status; /* 0: restored; else -errno */
	char why[120];
} __attribute__((packed));

bool handover_hello_is(const void *buf, size_t n)
{
	struct rendezvous_hello h;

	if (n != sizeof(h))
		return false;
	memcpy(&h, buf, sizeof(h));
	return h.magic == HANDOVER_MAGIC;
}

static void say(char *why, size_t n, const char *what, int err)
{
	snprintf(why, n, "%s: %s", what, strerror(err));
}

/* api_fd_wait until deadline (clock_now()), a signal not ending it: 0, or -ETIMEDOUT / -errno. */
static int wait_for(int fd, short events, double deadline)
{
	int err;

	do
		err = api_fd_wait(fd, events, deadline);
	while (err == -EINTR);
	return err;
}

/* One message of n bytes with fds attached (nfds may be 0), whole, before deadline. */
static int send_with_fds(int fd, const void *buf, size_t n, const int *fds, unsigned nfds,
			 double deadline)
{
	char cbuf[CMSG_SPACE(FDS_PER_BATCH * sizeof(int))] = { 0 };
	struct iovec iov = { (void *)buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t w;
	int err;

	if (nfds) {
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	for (;;) {
		w = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == (ssize_t)n)
			return 0;
		if (w >= 0)
			return -EPIPE; /* our messages are small: a stream socket takes them whole */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = wait_for(fd, POLLOUT, deadline);
		if (err)
			return err;
	}
}

/* Exactly n bytes, and the fds that came with them (up to *nfds; *nfds set), by deadline. */
static int recv_with_fds(int fd, void *buf, size_t n, int *fds, unsigned *nfds, double deadline)
{
	char cbuf[CMSG_SPACE(FDS_PER_BATCH * sizeof(int))];
	unsigned max = nfds ? *nfds : 0, got = 0;
	size_t have = 0;
	int err;

	while (have < n) {
		struct iovec iov = { (char *)buf + have, n - have };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t r;

		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		r = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			err = wait_for(fd, POLLIN, deadline);
			if (err)
				return err;
			continue;
		}
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		if (m.msg_flags & MSG_CTRUNC)
			return -EMFILE; /* fds refused on our side: RLIMIT_NOFILE */
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			unsigned k = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (unsigned i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (got < max)
					fds[got++] = f;
				else
					close(f);
			}
		}
		have += (size_t)r;
	}
	if (nfds)
		*nfds = got;
	return 0;
}

/* The snapshot's bytes in a memfd: one fd, however large. */
static int bytes_in_memfd(const struct snap_out *o)
{
	int fd = memfd_create("mprdsd-state", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < o->len) {
		ssize_t w = write(fd, o->buf + off, o->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return w < 0 ? -errno : -EIO;
		}
		off += (size_t)w;
	}
	return fd;
}

static int send_state(int fd, const struct snap_out *o, double deadline)
{
	struct handover_head head = { HANDOVER_MAGIC, SNAP_VERSION, o->len, o->nfds, getpid() };
	int mfd = bytes_in_memfd(o), err;

	if (mfd < 0)
		return mfd;
	err = send_with_fds(fd, &head, sizeof(head), &mfd, 1, deadline);
	close(mfd);
	for (unsigned i = 0; !err && i < o->nfds; i += FDS_PER_BATCH) {
		unsigned k = o->nfds - i < FDS_PER_BATCH ? o->nfds - i : FDS_PER_BATCH;
		uint8_t count = 1;

		err = send_with_fds(fd, &count, 1, o->fds + i, k, deadline);
	}
	return err;
}

int handover_give(int fd, const struct snap_out *o, char *why, size_t why_len)
{
	double deadline = clock_now() + HANDOVER_WAIT_S;
	struct handover_reply r;
	uint8_t go = GO_BYTE;
	int err = send_state(fd, o, deadline);

	if (err) {
		say(why, why_len, "sending the state", -err);
		return err;
	}
	err = recv_with_fds(fd, &r, sizeof(r), NULL, NULL, deadline);
	if (err) {
		say(why, why_len, "waiting for the new binary", -err);
		return err;
	}
	if (r.magic != HANDOVER_MAGIC || r.status) {
		r.why[sizeof(r.why) - 1] = 0;
		snprintf(why, why_len, "the new binary refused: %s",
			 r.magic == HANDOVER_MAGIC ? r.why : "(an answer we cannot read)");
		return r.status < 0 ? r.status : -EPROTO;
	}
	err = send_with_fds(fd, &go, 1, NULL, 0, deadline);
	if (err)
		say(why, why_len, "telling the new binary to go", -err);
	return err;
}

static int map_state(int mfd, uint64_t len, struct handover_taken *t)
{
	struct stat st;
	void *p;

	if (fstat(mfd, &st) < 0 || (uint64_t)st.st_size != len || !len)
		return -EPROTO;
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, mfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	t->buf = p;
	t->len = len;
	return 0;
}

static int take_fds(int chan, struct handover_taken *t, unsigned nfds, double deadline)
{
	t->fds = calloc(nfds ? nfds : 1, sizeof(int));
	if (!t->fds)
		return -ENOMEM;
	while (t->nfds < nfds) {
		unsigned k = nfds - t->nfds < FDS_PER_BATCH ? nfds - t->nfds : FDS_PER_BATCH;
		uint8_t count;
		int err = recv_with_fds(chan, &count, 1, t->fds + t->nfds, &k, deadline);

		if (err)
			return err;
		if (!k)
			return -EPROTO;
		t->nfds += k;
	}
	return 0;
}

static int take_state(int chan, struct handover_taken *t, char *why, size_t why_len)
{
	double deadline = clock_now() + HANDOVER_WAIT_S;
	struct handover_head head;
	unsigned one = 1;
	int mfd = -1, err = recv_with_fds(chan, &head, sizeof(head), &mfd, &one, deadline);

	if (!err && (head.magic != HANDOVER_MAGIC || one != 1))
		err = -EPROTO;
	if (!err && head.version != SNAP_VERSION) {
		snprintf(why, why_len,
			 "the running daemon's state is version %u; this binary reads %u",
			 head.version, SNAP_VERSION);
		if (mfd >= 0)
			close(mfd);
		return -EPROTONOSUPPORT;
	}
	if (!err)
		err = map_state(mfd, head.len, t);
	t->old_pid = head.pid;
	if (mfd >= 0)
		close(mfd);
	if (!err)
		err = take_fds(chan, t, head.nfds, deadline);
	if (err)
		say(why, why_len, "receiving the state", -err);
	return err;
}

int handover_take(const char *instance, int *chan, struct handover_taken *t, char *why,
		  size_t why_len)
{
	struct rendezvous_hello hello = { HANDOVER_MAGIC, SNAP_VERSION };
	int fd = rendezvous_connect(instance), err;

	memset(t, 0, sizeof(*t));
	*chan = -1;
	if (fd < 0) {
		say(why, why_len, "no daemon to take over", -fd);
		return fd;
	}
	err = send_with_fds(fd, &hello, sizeof(hello), NULL, 0, clock_now() + HANDOVER_WAIT_S);
	if (err)
		say(why, why_len, "asking the daemon", -err);
	else
		err = take_state(fd, t, why, why_len);
	if (err) {
		close(fd);
		return err;
	}
	*chan = fd;
	return 0;
}

void handover_taken_free(struct handover_taken *t)
{
	if (t->buf)
		munmap(t->buf, t->len);
	free(t->fds);
	memset(t, 0, sizeof(*t));
}

int handover_answer(int chan, const char *why)
{
	double deadline = clock_now() + HANDOVER_WAIT_S;
	struct handover_reply r = { .magic = HANDOVER_MAGIC, .status = why ? -EPROTO : 0 };
	uint8_t go = 0;
	int err;

	if (why)
		snprintf(r.why, sizeof(r.why), "%s", why);
	err = send_with_fds(chan, &r, sizeof(r), NULL, 0, deadline);
	if (err || why)
		return err ? err : -EPROTO;
	err = recv_with_fds(chan, &go, 1, NULL, NULL, deadline);
	return err ? err : go == GO_BYTE ? 0 : -EPROTO;
}
