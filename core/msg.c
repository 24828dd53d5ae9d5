// SPDX-License-Identifier: MIT
/* RDS messages and their queues. */
#include <stdlib.h>
#include <string.h>

#include "mprds/engine.h"
#include "mprds/msg.h"

struct msg *msg_new(struct engine *e, uint16_t sport, uint16_t dport, uint8_t *data, uint32_t len)
{
	struct msg *m = obj_cache_get(&e->msgs, sizeof(*m));

	if (!m)
		return NULL;
	m->eng = e;
	m->h.sport = sport;
	m->h.dport = dport;
	m->h.len = len;
	m->data = data;
	return m;
}

void msg_free(struct msg *m)
{
	struct engine *e = m->eng;

	buf_pool_put(&e->bufs, m->data, m->h.len);
	obj_cache_put(&e->msgs, m);
}

void msg_queue_free(struct msg_queue *q)
{
	struct msg *m;

	while ((m = TAILQ_FIRST(q))) {
		TAILQ_REMOVE(q, m, link);
		msg_free(m);
	}
}
