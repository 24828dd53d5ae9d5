// SPDX-License-Identifier: MIT
/*
 * recvmsg: waiting, congestion notifications, truncation, peeking, the source address and
 * the control messages of a data message (socket-api.md §6).
 */
#include <errno.h>
#include <linux/rds.h>
#include <linux/time_types.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "mprds/apisock.h"
#include "mprds/clock.h"
#include "mprds/engine.h"

/* Adds one control message; sets MSG_CTRUNC and returns false if it does not fit. */
static bool put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data,
		     size_t len)
{
	struct cmsghdr *c;

	if (!msg->msg_control || *used + CMSG_SPACE(len) > msg->msg_controllen) {
		msg->msg_flags |= MSG_CTRUNC;
		return false;
	}
	c = (struct cmsghdr *)((char *)msg->msg_control + *used);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	*used += CMSG_SPACE(len);
	return true;
}

/* §6: a pending congestion notification is returned alone, as a 0-byte read. */
static ssize_t take_cong_notify(struct sock *s, struct msghdr *msg)
{
	uint64_t mask = s->cong_notify;
	size_t used = 0;

	msg->msg_flags = 0;
	put_cmsg(msg, &used, SOL_RDS, RDS_CMSG_CONG_UPDATE, &mask, sizeof(mask));
	msg->msg_controllen = used;
	msg->msg_namelen = 0;
	s->cong_notify = 0; /* reported, or lost to MSG_CTRUNC as in the kernel */
	sock_update_readiness(s);
	return 0;
}

/* §6, §10: up to RDS_MAX_ZCOOKIES cookies of acknowledged MSG_ZEROCOPY sends. */
static unsigned put_zcopy_cookies(struct sock *s, struct msghdr *msg, size_t *used)
{
	struct rds_zcopy_cookies z = { 0 };

	if (!s->zc_count)
		return 0;
	z.num = s->zc_count < RDS_MAX_ZCOOKIES ? s->zc_count : RDS_MAX_ZCOOKIES;
	memcpy(z.cookies, s->zc_cookies, z.num * sizeof(z.cookies[0]));
	if (!put_cmsg(msg, used, SOL_RDS, RDS_CMSG_ZCOPY_COMPLETION, &z, sizeof(z)))
		return 0;
	s->zc_count -= z.num;
	memmove(s->zc_cookies, s->zc_cookies + z.num, s->zc_count * sizeof(s->zc_cookies[0]));
	sock_update_readiness(s);
	return z.num;
}

/*
 * No message, but completions: the kernel returns them to a non-blocking call and makes a
 * blocking one wait for a message. Our wait is a poll() on an fd that stays readable while
 * completions wait, so a blocking call returns them too rather than spin.
 */
static ssize_t take_zcopy_only(struct sock *s, struct msghdr *msg)
{
	size_t used = 0;

	msg->msg_flags = 0;
	msg->msg_namelen = 0;
	put_zcopy_cookies(s, msg, &used);
	msg->msg_controllen = used;
	return 0;
}

static int wait_for_message(struct sock *s, int flags, struct msg **out)
{
	double deadline = -1;
	int err;

	*out = NULL;
	while (!s->cong_notify && !(*out = sock_rx_take(s, flags & MSG_PEEK)) && !s->zc_count) {
		if (api_nonblocking(s, flags, POLLIN))
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
		if (!n)
			continue;
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

static void put_timestamp(const struct sock *s, const struct msg *m, struct msghdr *msg,
			  size_t *used)
{
	if (s->timestamp == SO_TIMESTAMP_NEW) {
		struct __kernel_sock_timeval tv = { m->rx_time.tv_sec, m->rx_time.tv_nsec / 1000 };

		put_cmsg(msg, used, SOL_SOCKET, SO_TIMESTAMP_NEW, &tv, sizeof(tv));
	} else {
		struct timeval tv = { m->rx_time.tv_sec, m->rx_time.tv_nsec / 1000 };

		put_cmsg(msg, used, SOL_SOCKET, SO_TIMESTAMP_OLD, &tv, sizeof(tv));
	}
}

/*
 * §9: nanoseconds between receive-path points: 0 = header seen -> payload start, 1 = payload
 * start -> queued, 2 = queued -> this recvmsg. We parse a message whole once its last byte is
 * read, so point 0 reports 0.
 */
static void put_rx_trace(const struct sock *s, const struct msg *m, struct msghdr *msg,
			 size_t *used)
{
	struct rds_cmsg_rx_trace t = { .rx_traces = s->rx_traces };
	uint64_t now = clock_ns();
	uint64_t span[3] = { 0, m->rx_stamp_ns[1] - m->rx_stamp_ns[0], now - m->rx_stamp_ns[1] };

	for (int i = 0; i < s->rx_traces; i++) {
		t.rx_trace_pos[i] = s->rx_trace_pos[i];
		t.rx_trace[i] = span[s->rx_trace_pos[i]];
	}
	put_cmsg(msg, used, SOL_RDS, RDS_CMSG_RXPATH_LATENCY, &t, sizeof(t));
}

static void put_cmsgs(struct sock *s, const struct msg *m, struct msghdr *msg)
{
	size_t used = 0;

	if (s->timestamp && m->rx_time.tv_sec)
		put_timestamp(s, m, msg, &used);
	if (s->rx_traces && m->rx_stamp_ns[1])
		put_rx_trace(s, m, msg, &used);
	put_zcopy_cookies(s, msg, &used);
	msg->msg_controllen = used;
}

ssize_t api_recvmsg(struct api_sock *as, struct msghdr *msg, int flags)
{
	struct msg *m;
	struct sock *s;
	size_t copied, len;
	ssize_t ret;
	int err;

	if (flags & MSG_OOB)
		return 0;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* §6: the generic error queue, always empty on RDS/TCP */
	struct msghdr data_only = *msg; /* a NULL control buffer only truncates (MSG_CTRUNC) */

	data_only.msg_control = NULL;
	data_only.msg_controllen = 0;
	if ((err = api_check_msghdr(&data_only)))
		return err;
	err = api_enter(as, &s);
	if (err)
		return err;
	err = wait_for_message(s, flags, &m);
	if (err || !m) {
		ret = err	     ? err :
		      s->cong_notify ? take_cong_notify(s, msg) :
				       take_zcopy_only(s, msg);
		api_leave(s);
		return ret;
	}
	len = m->h.len;
	copied = copy_out(m, msg);
	/* as the kernel counts them: a peek delivers (and copies) too */
	stats_inc(&s->eng->stats, STAT_RECV_DELIVERED);
	stats_add(&s->eng->stats, STAT_COPY_TO_USER, copied);
	msg->msg_flags = copied < len ? MSG_TRUNC : 0;
	put_cmsgs(s, m, msg);
	fill_source(m, msg);
	if (!(flags & MSG_PEEK))
		msg_free(m);
	api_leave(s);
	return (ssize_t)((flags & MSG_TRUNC) ? len : copied);
}

/* One lent message as a record: struct api_lent, the source's sockaddr, the payload. */
static size_t put_lent(const struct msg *m, uint8_t *buf)
{
	struct sockaddr_storage ss;
	struct api_lent rec = { .len = m->h.len };

	rec.namelen = (uint16_t)addr_fill(&m->src, m->h.sport, &ss);
	memcpy(buf, &rec, sizeof(rec));
	memcpy(buf + sizeof(rec), &ss, rec.namelen);
	if (m->h.len) /* a zero-length message has no payload buffer */
		memcpy(buf + sizeof(rec) + rec.namelen, m->data, m->h.len);
	return sizeof(rec) + rec.namelen + m->h.len;
}

/* Would recvmsg() give a message of s anything but its data and source? Then it is not lent. */
static bool per_message_extras(const struct sock *s)
{
	return s->timestamp || s->rx_traces || s->cong_notify || s->zc_count;
}

size_t api_recv_lend(struct api_sock *as, uint8_t *buf, size_t room, unsigned *count,
		     size_t *payload)
{
	size_t used = 0;
	struct msg *m;
	struct sock *s;

	*count = 0;
	*payload = 0;
	if (api_enter(as, &s))
		return 0;
	while (!per_message_extras(s) && (m = TAILQ_FIRST(&s->rxq)) &&
	       sizeof(struct api_lent) + sizeof(struct sockaddr_storage) + m->h.len <=
		       room - used) {
		used += put_lent(m, buf + used);
		*payload += m->h.len;
		msg_free(sock_rx_lend(s));
		++*count;
	}
	api_leave(s);
	return used;
}

void api_recv_returned(struct api_sock *as, unsigned n, size_t bytes)
{
	struct sock *s;

	if (api_enter(as, &s))
		return;
	sock_rx_returned(s, n, bytes);
	api_leave(s);
}
