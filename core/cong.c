// SPDX-License-Identifier: MIT
/* Local and peer congestion maps, their update messages and monitor notifications. */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/msg.h"
#include "mprds/sock.h"

/* The map of one local address. */
struct cong_map {
	struct addr addr;
	uint8_t bits[WIRE_CONG_MAP_BYTES];
	LIST_ENTRY(cong_map) link;
};

static struct cong_map *map_find(struct engine *e, const struct addr *a)
{
	struct cong_map *m;

	LIST_FOREACH(m, &e->cong.maps, link)
	if (addr_eq(&m->addr, a))
		return m;
	return NULL;
}

static struct cong_map *map_get(struct engine *e, const struct addr *a)
{
	struct cong_map *m = map_find(e, a);

	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->addr = *a;
	LIST_INSERT_HEAD(&e->cong.maps, m, link);
	return m;
}

static void notify_monitor(struct sock *s, void *arg);

static void set_port(struct sock *s, bool congested)
{
	struct cong_map *m = map_get(s->eng, &s->bound_addr);

	if (!m)
		return;
	s->congested = congested;
	log_debug("port %u %s (%zu bytes unread, rcvbuf %zu)", s->bound_port,
		  congested ? "congested" : "uncongested", s->rcv_queued, s->rcvbuf);
	if (congested)
		wire_cong_set(m->bits, s->bound_port);
	else
		wire_cong_clear(m->bits, s->bound_port);
	conn_cong_changed(s->eng, &s->bound_addr);
	/* our own senders to this address see the change at once, as the loop transport's do */
	sock_foreach(s->eng, notify_monitor, NULL);
}

/* wire.md §10: set above rcvbuf, cleared below half of it. */
void cong_sock_update(struct sock *s)
{
	if (!s->bound)
		return;
	if (!s->congested && s->rcv_queued > s->rcvbuf)
		set_port(s, true);
	else if (s->congested && s->rcv_queued < s->rcvbuf / 2)
		set_port(s, false);
}

void cong_sock_release(struct sock *s)
{
	if (s->bound && s->congested)
		set_port(s, false);
}

struct msg *cong_map_message(const struct conn *c)
{
	struct cong_map *map = map_find(c->eng, &c->laddr);
	uint8_t *bits = calloc(1, WIRE_CONG_MAP_BYTES);
	struct msg *m;

	if (!bits)
		return NULL;
	if (map)
		memcpy(bits, map->bits, WIRE_CONG_MAP_BYTES);
	m = msg_new(c->eng, 0, 0, bits, WIRE_CONG_MAP_BYTES);
	if (!m) {
		free(bits);
		return NULL;
	}
	m->h.flags = WIRE_FLAG_CONG_BITMAP;
	return m;
}

/* On TCP every update carries an all-ones port mask: every armed bit fires. */
static void notify_monitor(struct sock *s, void *arg)
{
	(void)arg;
	if (!s->cong_monitor || !s->cong_mask)
		return;
	s->cong_notify |= s->cong_mask;
	s->cong_mask = 0;
	sock_update_readiness(s);
}

void cong_peer_updated(struct conn *c)
{
	sock_foreach(c->eng, notify_monitor, NULL);
}

bool cong_blocks(struct sock *s, const uint8_t *map, uint16_t dport)
{
	if (!map || !wire_cong_test(map, dport))
		return false;
	/* socket-api.md §5 row 18: arm the monitor bit, then test again. */
	if (s->cong_monitor)
		s->cong_mask |= 1ULL << (dport % 64);
	return wire_cong_test(map, dport);
}

const uint8_t *cong_local_map(struct engine *e, const struct addr *a)
{
	struct cong_map *m = map_find(e, a);

	return m ? m->bits : NULL;
}

void cong_free_all(struct engine *e)
{
	struct cong_map *m;

	while ((m = LIST_FIRST(&e->cong.maps))) {
		LIST_REMOVE(m, link);
		free(m);
	}
}
