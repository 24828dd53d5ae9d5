/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_KICK_H
#define MPRDS_KICK_H
/*
 * The paths the loop must look at (connect, write), as the kernel queues a path's send work:
 * any room asks, the engine's loop services them. A low room of its own so that every room
 * can ask without calling up into the engine; the engine gives it the wake-up to use.
 */
#include <stdbool.h>
#include <sys/queue.h>

struct path;

struct kicks {
	TAILQ_HEAD(, path) paths;
	/* Wakes the loop on the first request after it emptied the list; NULL: no loop yet. */
	void (*wake)(void *arg);
	void *wake_arg;
};

void kicks_init(struct kicks *k);
/* Queues p (once) for the loop and wakes it if the list was empty; p NULL: only the wake. */
void kick_path(struct kicks *k, struct path *p);
/* The next kicked path, off the list; NULL when none. */
struct path *kicks_take(struct kicks *k);
/* p goes away: off the list if it is on it. */
void kicks_forget(struct kicks *k, struct path *p);

#endif
