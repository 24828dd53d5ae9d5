// SPDX-License-Identifier: MIT
/* The list of paths the loop must service (kick.h says why it is a room of its own). */
#include "mprds/kick.h"
#include "mprds/path.h"

void kicks_init(struct kicks *k)
{
	TAILQ_INIT(&k->paths);
	k->wake = NULL;
	k->wake_arg = NULL;
}

void kick_path(struct kicks *k, struct path *p)
{
	bool was_empty = TAILQ_EMPTY(&k->paths);

	if (p && !p->kicked) {
		p->kicked = true;
		TAILQ_INSERT_TAIL(&k->paths, p, kick_link);
	}
	/* One wake-up per batch: the loop takes every kicked path when it runs. */
	if (was_empty && k->wake)
		k->wake(k->wake_arg);
}

struct path *kicks_take(struct kicks *k)
{
	struct path *p = TAILQ_FIRST(&k->paths);

	if (p) {
		TAILQ_REMOVE(&k->paths, p, kick_link);
		p->kicked = false;
	}
	return p;
}

void kicks_forget(struct kicks *k, struct path *p)
{
	if (p->kicked) {
		TAILQ_REMOVE(&k->paths, p, kick_link);
		p->kicked = false;
	}
}
