// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the socket calls (include/mprds/api.h) with hostile arguments, on the
 * whole engine as it ships, loop thread included (the Makefile links the core compiled with
 * the fuzzer's flags). Sockets of four slots bind, connect, send, receive, poll and take
 * options; every buffer is exactly as long as the call is told, so ASan sees any read or
 * write past what the application gave.
 *
 * Input: operations, each [op][slot][arguments], read by the take_* helpers; an input that
 * runs dry reads as zeros. See run_op() for the operations. Seeds (tests/corpus/api): two
 * sockets exchanging a message, a congested port with RDS_CONG_MONITOR, zerocopy
 * completions, sends to a peer that is not there. Besides ASan and UBSan, one check: a
 * non-blocking recvmsg that found nothing while the fd polls readable aborts (DESIGN.md:
 * exact readiness).
 *
 * Only loopback: every unicast destination is rewritten to 127.0.0.70-77 or ::1 (bind may
 * also try 192.0.2.1, which no interface has), and the engine's TCP port is FUZZ_TCP_PORT.
 * What a socket queued for a peer that is not there is cancelled before the socket is
 * released, so that nothing outlives an input but the engine's connections and listeners.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rds.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_defaults.h"
#include "mprds/api.h"

#define FUZZ_TCP_PORT "26386"
#define SLOTS 4
#define MAX_DESTS 16
#define MAX_IOVS 8
#define MAX_SEND_BYTES (8 << 20) /* per input: queues to absent peers stay small */

struct input {
	const uint8_t *p;
	size_t left;
};

static void take(struct input *in, void *out, size_t n)
{
	size_t have = n < in->left ? n : in->left;

	memcpy(out, in->p, have);
	memset((uint8_t *)out + have, 0, n - have);
	in->p += have;
	in->left -= have;
}

static uint8_t take_u8(struct input *in)
{
	uint8_t v;

	take(in, &v, sizeof(v));
	return v;
}

static uint16_t take_u16(struct input *in)
{
	uint16_t v;

	take(in, &v, sizeof(v));
	return v;
}

static uint32_t take_u32(struct input *in)
{
	uint32_t v;

	take(in, &v, sizeof(v));
	return v;
}

/* n bytes of the input in a buffer of exactly n bytes (never NULL; free() it). */
static void *take_buf(struct input *in, size_t n)
{
	void *b = malloc(n ? n : 1);

	if (b)
		take(in, b, n);
	return b;
}

/* A destination the engine may reach: what queued for it is cancelled at release. */
struct dest {
	struct sockaddr_storage addr;
	socklen_t len;
};

struct slot {
	struct api_sock *s;
	int fd;
	struct dest dests[MAX_DESTS];
	int ndests;
	struct dest peer; /* the last connect() that succeeded */
	bool has_peer;
};

static struct slot slots[SLOTS];
static struct engine *engine;
static size_t sent_bytes;

static const char *const addresses[] = {
	"127.0.0.70",	  "127.0.0.71", "127.0.0.72", "127.0.0.73", "0.0.0.0", "255.255.255.255",
	"224.0.0.1",	  "::1",	"::",	      "ff02::1",    "fe80::1", "::ffff:127.0.0.71",
	"::ffff:0.0.0.0", "192.0.2.1",	"127.0.0.74",
	/* the 16th: raw bytes */
};

static void address_from_table(struct sockaddr_storage *ss, unsigned i, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addresses[i], &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		(void)inet_pton(AF_INET6, addresses[i], &sin6->sin6_addr);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
}

static bool is_v4_special(uint32_t ip)
{
	return ip == INADDR_ANY || ip == INADDR_BROADCAST || IN_MULTICAST(ip);
}

/* A unicast IPv4 address becomes one of eight loopback ones; 192.0.2.1 stays if allowed. */
static void keep_v4_local(struct in_addr *a, bool allow_testnet)
{
	uint32_t ip = ntohl(a->s_addr);

	if (is_v4_special(ip) || (allow_testnet && ip == 0xc0000201))
		return;
	a->s_addr = htonl(0x7f000046 + (ip & 7)); /* 127.0.0.70 + 0..7 */
}

/*
 * Rewrites what the engine would parse as a unicast address that is not ours to loopback,
 * so that no input makes it open a TCP connection beyond this host.
 */
static void keep_local(uint8_t *buf, socklen_t len, bool allow_testnet)
{
	struct sockaddr_in6 sin6;
	sa_family_t family;

	if (len < sizeof(family))
		return;
	memcpy(&family, buf, sizeof(family));
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		keep_v4_local(&((struct sockaddr_in *)buf)->sin_addr, allow_testnet);
		return;
	}
	if (family != AF_INET6 || len < sizeof(sin6))
		return;
	memcpy(&sin6, buf, sizeof(sin6));
	if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
		keep_v4_local((struct in_addr *)&sin6.sin6_addr.s6_addr[12], allow_testnet);
	} else if (!IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr) &&
		   !IN6_IS_ADDR_MULTICAST(&sin6.sin6_addr) &&
		   !(IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr) && sin6.sin6_scope_id == 0)) {
		sin6.sin6_addr = in6addr_loopback;
	}
	memcpy(buf, &sin6, sizeof(sin6));
}

/*
 * A socket address: from the table or raw, with its family kept, swapped or made up, and a
 * length that is the family's own, any, or short; or NULL with a length. The buffer is as
 * long as *len (bytes past the storage come from the input).
 */
static void *take_addr(struct input *in, bool allow_testnet, socklen_t *len)
{
	uint8_t how = take_u8(in);
	struct sockaddr_storage ss;
	uint8_t *buf;

	address_from_table(&ss, (how & 15) % 15, take_u16(in));
	if ((how & 15) == 15)
		take(in, &ss, sizeof(ss));
	if ((how >> 4) & 1)
		ss.ss_family = take_u8(in) % 4 ? AF_UNSPEC : take_u8(in);
	if ((how >> 5) & 1)
		ss.ss_family = ss.ss_family == AF_INET ? AF_INET6 : AF_INET;
	*len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (how >> 6 == 1)
		*len = take_u8(in) % (sizeof(ss) + 16);
	else if (how >> 6 == 2)
		*len -= take_u8(in) % (*len + 1);
	else if (how >> 6 == 3)
		return NULL;
	buf = malloc(*len ? *len : 1);
	if (!buf)
		return NULL;
	memcpy(buf, &ss, *len < sizeof(ss) ? *len : sizeof(ss));
	if (*len > sizeof(ss))
		take(in, buf + sizeof(ss), *len - sizeof(ss));
	keep_local(buf, *len, allow_testnet);
	return buf;
}

static void remember(struct slot *sl, const void *name, socklen_t len)
{
	struct dest d = { .len = 0 };
	sa_family_t family;

	if (!name || len < sizeof(struct sockaddr_in) || sl->ndests == MAX_DESTS)
		return;
	memcpy(&family, name, sizeof(family));
	d.len = family == AF_INET6 && len >= sizeof(struct sockaddr_in6) ?
			sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in);
	memcpy(&d.addr, name, d.len);
	sl->dests[sl->ndests++] = d;
}

/* What the socket still has queued for a peer that never answers goes with it. */
static void release(struct slot *sl)
{
	if (!sl->s)
		return;
	for (int i = 0; i < sl->ndests; i++)
		(void)api_setsockopt(sl->s, SOL_RDS, RDS_CANCEL_SENT_TO, &sl->dests[i].addr,
				     sl->dests[i].len);
	api_release(sl->s);
	close(sl->fd);
	memset(sl, 0, sizeof(*sl));
}

static void op_socket(struct slot *sl, struct input *in)
{
	static const int types[] = { SOCK_SEQPACKET, SOCK_SEQPACKET | SOCK_NONBLOCK,
				     SOCK_SEQPACKET | SOCK_CLOEXEC, SOCK_STREAM };
	uint8_t how = take_u8(in);
	int type = how & 4 ? (int)take_u32(in) : types[how & 3];
	int protocol = how & 8 ? (int)take_u32(in) : 0;
	struct api_sock *s;
	int fd;

	release(sl);
	fd = api_socket(engine, type, protocol, &s);
	if (fd < 0)
		return;
	sl->s = s;
	sl->fd = fd;
}

static void op_bind(struct slot *sl, struct input *in)
{
	socklen_t len;
	void *addr = take_addr(in, true, &len);

	(void)api_bind(sl->s, addr, len);
	free(addr);
}

static void op_connect(struct slot *sl, struct input *in)
{
	socklen_t len;
	void *addr = take_addr(in, false, &len);

	if (api_connect(sl->s, addr, len) == 0 && len <= sizeof(sl->peer.addr)) {
		memcpy(&sl->peer.addr, addr, len);
		sl->peer.len = len;
		sl->has_peer = true;
	}
	free(addr);
}

/* Up to MAX_IOVS buffers of random lengths (large ones if the input says so), or a NULL. */
static size_t take_iovs(struct input *in, struct msghdr *msg, bool fill)
{
	uint8_t how = take_u8(in);
	size_t n = how % (MAX_IOVS + 1), total = 0;
	struct iovec *iov;

	if (how & 0x80) { /* a count without an array */
		msg->msg_iovlen = n;
		return 0;
	}
	iov = calloc(n ? n : 1, sizeof(*iov));
	msg->msg_iov = iov;
	msg->msg_iovlen = iov ? n : 0;
	for (size_t i = 0; iov && i < n; i++) {
		size_t len = take_u16(in) % 4096;

		if (how & 0x40)
			len <<= 8; /* up to 1 MiB each: past RDS_MAX_MSG_SIZE together */
		iov[i].iov_len = len;
		iov[i].iov_base = (how & 0x20) && i == 0 ? NULL : malloc(len ? len : 1);
		if (iov[i].iov_base && fill)
			memset(iov[i].iov_base, (int)i, len);
		total += len;
	}
	return total;
}

static void free_iovs(struct msghdr *msg)
{
	for (size_t i = 0; msg->msg_iov && i < msg->msg_iovlen; i++)
		free(msg->msg_iov[i].iov_base);
	free(msg->msg_iov);
}

/* Control messages of random levels, types and lengths, in a buffer of random length. */
static void take_control(struct input *in, struct msghdr *msg)
{
	static const int levels[] = { SOL_RDS, SOL_SOCKET, SOL_IP, -1 };
	size_t len = take_u16(in) % 512, off = 0;
	uint8_t *buf = take_buf(in, len);
	int n = take_u8(in) % 5;

	msg->msg_control = buf;
	msg->msg_controllen = buf ? len : 0;
	for (int i = 0; buf && i < n && off + sizeof(struct cmsghdr) <= len; i++) {
		size_t data = take_u8(in) % 64;
		struct cmsghdr c = { .cmsg_level = levels[take_u8(in) % 4],
				     .cmsg_type = take_u8(in) % 16,
				     .cmsg_len = CMSG_LEN(data) };
		uint8_t skew = take_u8(in);

		if (c.cmsg_level < 0)
			c.cmsg_level = (int)take_u32(in);
		if (skew & 0x80)
			c.cmsg_len = skew & 0x7f; /* too short or too long, or unaligned */
		memcpy(buf + off, &c, sizeof(c));
		off += CMSG_SPACE(data);
	}
}

/* Each blocking call that finds nothing costs the 1 ms of its timeout: one in eight. */
static bool blocking(int flags)
{
	return (flags & 0x70) == 0x70;
}

/*
 * Random flags; MSG_DONTWAIT unless the input asks for a blocking call, which the socket's
 * 1 ms SO_RCVTIMEO / SO_SNDTIMEO set here ends.
 */
static int take_flags(struct slot *sl, struct input *in)
{
	static const int common[] = { 0,       MSG_PEEK,     MSG_TRUNC,	   MSG_PEEK | MSG_TRUNC,
				      MSG_OOB, MSG_ERRQUEUE, MSG_ZEROCOPY, MSG_NOSIGNAL };
	uint8_t how = take_u8(in);
	int flags = how & 8 ? (int)take_u32(in) : common[how & 7];
	struct timeval tv = { .tv_usec = 1000 };

	if (!blocking(how))
		return flags | MSG_DONTWAIT;
	(void)api_setsockopt(sl->s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)api_setsockopt(sl->s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return flags & ~MSG_DONTWAIT;
}

static void op_sendmsg(struct slot *sl, struct input *in)
{
	struct msghdr msg = { 0 };
	uint8_t how = take_u8(in);
	socklen_t namelen = 0;
	int flags;

	if (how & 1)
		msg.msg_name = take_addr(in, false, &namelen);
	msg.msg_namelen = how & 2 ? namelen : 0;
	if (sl->ndests == MAX_DESTS || sent_bytes > MAX_SEND_BYTES)
		goto out; /* it could not be cancelled, or memory would grow */
	sent_bytes += take_iovs(in, &msg, true);
	if (how & 4)
		take_control(in, &msg);
	flags = take_flags(sl, in);
	if (api_sendmsg(sl->s, &msg, flags) >= 0) {
		if (msg.msg_namelen)
			remember(sl, msg.msg_name, msg.msg_namelen);
		else if (sl->has_peer)
			remember(sl, &sl->peer.addr, sl->peer.len);
	}
out:
	free_iovs(&msg);
	free(msg.msg_control);
	free(msg.msg_name);
}

static bool pollin(const struct slot *sl)
{
	struct pollfd pfd = { .fd = sl->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static void op_recvmsg(struct slot *sl, struct input *in)
{
	struct msghdr msg = { 0 };
	uint8_t how = take_u8(in);
	int flags;
	ssize_t n;

	take_iovs(in, &msg, false);
	if (how & 1) {
		msg.msg_namelen = take_u8(in) % (sizeof(struct sockaddr_storage) + 1);
		msg.msg_name = malloc(msg.msg_namelen ? msg.msg_namelen : 1);
	}
	if (how & 2)
		take_control(in, &msg);
	flags = take_flags(sl, in);
	n = api_recvmsg(sl->s, &msg, flags);
	/* nothing to take: the fd must not say otherwise (DESIGN.md: exact readiness) */
	if (n == -EAGAIN && (flags & MSG_DONTWAIT) && !(flags & (MSG_ERRQUEUE | MSG_OOB)) &&
	    pollin(sl))
		abort();
	free_iovs(&msg);
	free(msg.msg_control);
	free(msg.msg_name);
}

/* Options the engine hands to the kernel that would change how the harness runs. */
static bool harness_owns(int level, int name)
{
	switch (level == SOL_SOCKET ? name : -1) {
	case SO_RCVTIMEO_OLD:
	case SO_SNDTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW:
	case SO_ATTACH_FILTER:
	case SO_DETACH_FILTER:
	case SO_LOCK_FILTER:
	case SO_ATTACH_BPF:
	case SO_ATTACH_REUSEPORT_CBPF:
	case SO_ATTACH_REUSEPORT_EBPF:
	case SO_DETACH_REUSEPORT_BPF:
		return true;
	default:
		return false;
	}
}

static void take_option(struct input *in, int *level, int *name)
{
	static const int levels[] = { SOL_RDS, SOL_SOCKET, SOL_RDS, SOL_IP };
	uint8_t how = take_u8(in);

	*level = how & 4 ? (int)take_u32(in) : levels[how & 3];
	if (how & 8)
		*name = (int)take_u32(in);
	else if (how & 16)
		*name = RDS_INFO_FIRST + take_u8(in) % 24;
	else
		*name = take_u8(in) % 72;
}

/* An option length: small, negative as an int, or up to 64 KiB. */
static socklen_t take_optlen(struct input *in, bool *negative)
{
	uint8_t how = take_u8(in);

	*negative = how >> 6 == 3;
	if (*negative)
		return (socklen_t)INT32_MIN + take_u16(in);
	return how & 0x80 ? take_u16(in) : how % 64;
}

/* An option call's arguments: level, name, length (maybe negative as an int), NULL buffer. */
struct opt_args {
	int level, name;
	bool negative, null;
	socklen_t len;
};

static struct opt_args take_opt_args(struct input *in)
{
	struct opt_args a = { .null = take_u8(in) & 1 };

	take_option(in, &a.level, &a.name);
	a.len = take_optlen(in, &a.negative);
	return a;
}

static void op_setsockopt(struct slot *sl, struct input *in)
{
	struct opt_args a = take_opt_args(in);
	void *val;

	if (a.negative || harness_owns(a.level, a.name))
		return; /* setsockopt's optlen is unsigned: the buffer would be a lie */
	val = a.null ? NULL : take_buf(in, a.len);
	(void)api_setsockopt(sl->s, a.level, a.name, val, a.len);
	free(val);
}

static void op_getsockopt(struct slot *sl, struct input *in)
{
	struct opt_args a = take_opt_args(in);
	/* a negative length has a small buffer: the kernel refuses it without writing */
	void *val = a.null ? NULL : malloc(a.negative ? 8 : a.len ? a.len : 1);

	(void)api_getsockopt(sl->s, a.level, a.name, val, &a.len);
	free(val);
}

static void op_name(struct slot *sl, struct input *in)
{
	uint8_t how = take_u8(in);
	socklen_t len = how & 0x40 ? (socklen_t)-1 : take_u8(in) % 40;
	void *buf = how & 0x20 ? NULL : malloc(how & 0x40 ? 8 : len ? len : 1);

	if (how & 1)
		(void)api_getsockname(sl->s, buf, how & 0x80 ? NULL : &len);
	else
		(void)api_getpeername(sl->s, buf, how & 0x80 ? NULL : &len);
	free(buf);
}

static void op_ioctl(struct slot *sl, struct input *in)
{
	static const unsigned long requests[] = { SIOCRDSSETTOS, SIOCRDSGETTOS, FIONREAD,
						  SIOCOUTQ };
	uint8_t how = take_u8(in);
	unsigned long request = how & 4 ? take_u32(in) : requests[how & 3];
	uint64_t arg = take_u8(in);

	(void)api_ioctl(sl->s, request, how & 8 ? NULL : &arg);
}

static void op_release(struct slot *sl, struct input *in)
{
	(void)in;
	release(sl);
}

/* The calls, by the op byte of the input (mod OPS). */
static void (*const ops[])(struct slot *, struct input *) = {
	op_socket,  op_release,	   op_bind,	  op_connect, op_sendmsg,
	op_recvmsg, op_setsockopt, op_getsockopt, op_name,    op_ioctl,
};
#define OPS (sizeof(ops) / sizeof(ops[0]))

static void run_op(struct input *in)
{
	uint8_t op = take_u8(in);
	struct slot *sl = &slots[take_u8(in) % SLOTS];

	/* 0 makes a socket in the slot; the others need one there */
	if (op % OPS && !sl->s)
		return;
	ops[op % OPS](sl, in);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	setenv("MPRDS_TCP_PORT", FUZZ_TCP_PORT, 1);
	setenv("MPRDS_LOG", "error", 0); /* hostile calls are logged as warnings */
	/* one engine for the whole run, as the shim keeps one for its process */
	if (api_engine_new(&engine) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	sent_bytes = 0;
	while (in.left)
		run_op(&in);
	for (int i = 0; i < SLOTS; i++)
		release(&slots[i]);
	return 0;
}
