/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_INFO_OUT_H
#define MPRDS_INFO_OUT_H
/*
 * Where an RDS_INFO snapshot goes (socket-api.md §12), shared by the producers that each
 * room owning the data keeps (sock_info.c, conn_info.c, tcp_info.c) and by the dispatch in
 * info.c: the buffer, the count, the kernel's length checks and its size-probe / -ENOSPC
 * protocol. It knows nothing of the rooms above; they walk their own data into it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mprds/addr.h"
#include "mprds/msg.h"

struct engine;

/* How a producer is asked: the IPv6 variant; the retransmit queue instead of the send queue. */
#define INFO_V6 0x1
#define INFO_RETRANS 0x2

/*
 * A snapshot being made: items are copied while they fit and copy is set, and always
 * counted, so that a too-small buffer learns the size it needs.
 */
struct info_out {
	struct engine *eng;
	uint8_t *buf;
	size_t room;
	size_t each;
	size_t nr;
	bool copy;
	int flags; /* INFO_* */
};

/* A producer: puts the items of its table into o. */
typedef void info_producer(struct info_out *o);

/* Counts one item of o->each bytes; copies it if it fits. */
void info_out_put(struct info_out *o, const void *item);
/*
 * Tables that copy nothing at all unless all n items fit (sockets, TCP sockets, counters:
 * §12): true if they fit; if not, only their count is taken and the producer stops.
 */
bool info_out_fits(struct info_out *o, size_t n);
/* An IPv4 (v4-mapped) address as the kernel's structures hold it. */
uint32_t info_out_v4(const struct addr *a);
/* One struct rds_info_message or rds6_info_message (INFO_V6); ports in host order. */
void info_out_msg(struct info_out *o, const struct msg *m, const struct addr *l,
		  const struct addr *f, uint16_t lport, uint16_t fport);

/* rds_info_getsockopt()'s checks of buf and len, before anything else: 0, -EINVAL, -EFAULT. */
int info_out_check(const void *buf, socklen_t len);
/*
 * Runs fn into buf (*len bytes; 0 = a size probe): returns each with *len = the bytes of the
 * whole snapshot, or -ENOSPC with *len = the bytes needed.
 */
int info_out_run(struct engine *e, info_producer *fn, int flags, size_t each, void *buf,
		 socklen_t *len);

#endif
