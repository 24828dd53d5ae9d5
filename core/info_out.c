// SPDX-License-Identifier: MIT
/*
 * The output side of every RDS_INFO snapshot (socket-api.md §12): the kernel's length checks,
 * its copy-while-it-fits and -ENOSPC rules, and the message layout that the send, retransmit
 * and receive queues share. The producers live in the rooms that own their data.
 */
#include <errno.h>
#include <limits.h>
#include <linux/rds.h>
#include <netinet/in.h>
#include <string.h>

#include "mprds/info_out.h"

_Static_assert(sizeof(struct rds_info_message) == 26, "socket-api.md §12");
_Static_assert(sizeof(struct rds6_info_message) == 50, "socket-api.md §12");

#define INFO_PAGE 4096 /* rds_info_getsockopt() refuses lengths within a page of INT_MAX */

void info_out_put(struct info_out *o, const void *item)
{
	if (o->copy && (o->nr + 1) * o->each <= o->room)
		memcpy(o->buf + o->nr * o->each, item, o->each);
	o->nr++;
}

bool info_out_fits(struct info_out *o, size_t n)
{
	o->copy = o->room / o->each >= n;
	if (!o->copy)
		o->nr += n;
	return o->copy;
}

uint32_t info_out_v4(const struct addr *a)
{
	uint32_t v;

	memcpy(&v, &a->ip.s6_addr[12], sizeof(v));
	return v;
}

void info_out_msg(struct info_out *o, const struct msg *m, const struct addr *l,
		  const struct addr *f, uint16_t lport, uint16_t fport)
{
	if (o->flags & INFO_V6) {
		struct rds6_info_message mi = { 0 };

		mi.seq = m->h.seq;
		mi.len = m->h.len;
		memcpy(&mi.laddr, &l->ip, sizeof(mi.laddr));
		memcpy(&mi.faddr, &f->ip, sizeof(mi.faddr));
		mi.lport = htons(lport);
		mi.fport = htons(fport);
		info_out_put(o, &mi);
	} else {
		struct rds_info_message mi = { 0 };

		mi.seq = m->h.seq;
		mi.len = m->h.len;
		mi.laddr = info_out_v4(l);
		mi.faddr = info_out_v4(f);
		mi.lport = htons(lport);
		mi.fport = htons(fport);
		info_out_put(o, &mi);
	}
}

int info_out_check(const void *buf, socklen_t len)
{
	int n = (int)len;

	if (n < 0 || n > INT_MAX - INFO_PAGE + 1 || (uintptr_t)buf + (size_t)n < (uintptr_t)buf)
		return -EINVAL;
	if (n > 0 && !buf)
		return -EFAULT; /* the kernel cannot pin the pages */
	return 0;
}

int info_out_run(struct engine *e, info_producer *fn, int flags, size_t each, void *buf,
		 socklen_t *len)
{
	struct info_out o = {
		.eng = e, .buf = buf, .room = *len, .each = each, .copy = true, .flags = flags
	};
	size_t total;

	fn(&o);
	total = o.nr * each;
	*len = (socklen_t)total;
	return total > o.room ? -ENOSPC : (int)each;
}
