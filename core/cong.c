// SPDX-License-Identifier: MIT
/*
 * The local congestion maps (wire.md §10), one per local address, and the message that
 * carries one to a peer; sock.c decides when a port is congested, conn.c sends the maps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
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

int cong_map_set(struct engine *e, const struct addr *a, uint16_t port, bool congested)
{
	struct cong_map *m = map_get(e, a);

	if (!m)
		return -ENOMEM;
	if (congested)
		wire_cong_set(m->bits, port);
	else
		wire_cong_clear(m->bits, port);
	return 0;
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

/*
 * A peer's map is a whole snapshot, and the newest wins. The kernel sends one on every
 * change and every path up, on whichever of its paths transmits first (7.3 put a good
 * share on lanes 1..7 in our captures: bats/interop/README.md), so maps of different
 * ages travel on different TCP connections at once. One connection keeps its own in order;
 * across connections only their arrival tells which is newer, and our loop reads ready
 * connections in no particular order (libev: the last ready first). So each map carries the
 * time its bytes arrived, and one that arrived before the map already taken is stale.
 */
bool cong_peer_map_take(struct conn *c, const uint8_t *map, uint64_t arrived_ns)
{
	if (arrived_ns && arrived_ns < c->peer_cong_at)
		return false;
	memcpy(c->peer_cong, map, WIRE_CONG_MAP_BYTES);
	if (arrived_ns)
		c->peer_cong_at = arrived_ns;
	return true;
}

void cong_peer_map_forget(struct conn *c)
{
	memset(c->peer_cong, 0, sizeof(c->peer_cong));
	c->peer_cong_at = 0;
}

void cong_free_all(struct engine *e)
{
	struct cong_map *m;

	while ((m = LIST_FIRST(&e->cong.maps))) {
		LIST_REMOVE(m, link);
		free(m);
	}
}
