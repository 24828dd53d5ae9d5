// SPDX-License-Identifier: MIT
/* RDS messages and their queues. */
#include <stdlib.h>
#include <string.h>

#include "mprds/engine.h"
#include "mprds/msg.h"

struct msg *msg_new(uint16_t sport, uint16_t dport, uint8_t *data, uint32_t len)
{
	struct msg *m = obj_cache_get(&engine.msgs, sizeof(*m));

	if (!m)
		return NULL;
	m->h.sport = sport;
	m->h.dport = dport;
	m->h.len = len;
	m->data = data;
	return m;
}

void msg_free(struct msg *m)
{
	buf_pool_put(&engine.bufs, m->data, m->h.len);
	obj_cache_put(&engine.msgs, m);
}

uint64_t msg_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void msg_queue_free(struct msg_queue *q)
{
	struct msg *m;

	while ((m = TAILQ_FIRST(q))) {
		TAILQ_REMOVE(q, m, link);
		msg_free(m);
	}
}
