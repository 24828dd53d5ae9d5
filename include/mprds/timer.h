/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TIMER_H
#define MPRDS_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Timers as plain data, on a clock the set never reads: its owner says what time it is
 * (timers_run) and asks when to come back (timers_next_due). The engine drives one set from a
 * single ev_timer armed at the earliest due time; unit tests drive it with a fake clock, so
 * that no room needs <ev.h> or real time to have timeouts. Not locked: callers serialise (the
 * engine lock), and the set is never shared between threads without it.
 */

/* One timeout, embedded in the object it times; armed in at most one set at a time. */
struct timer {
	void (*fn)(struct timer *t, void *arg); /* runs when due, from timers_run() */
	void *arg;
	double due; /* seconds, in the clock of the set */
	/* private */
	unsigned slot; /* position in the heap + 1; 0 = not armed */
	uint64_t seq; /* when it was armed, in the set's order: ties on due go first-armed first */
	uint64_t ran; /* the timers_run() call it last ran in */
};

/* Every timer of one clock, earliest first. */
struct timers {
	struct timer **heap; /* private: binary min-heap on (due, seq) */
	unsigned n, cap; /* private */
	/*
	 * Called when the earliest due time moved earlier (the engine wakes its loop thread
	 * then, to re-arm its one ev_timer); may be NULL.
	 */
	void (*on_earlier)(struct timers *set, void *arg);
	void *on_earlier_arg;
	/* private */
	uint64_t seq; /* arming counter */
	uint64_t run; /* timers_run() counter */
	double now; /* of the timers_run() in progress */
	bool running;
};

void timers_init(struct timers *set);
/* Frees the heap; timers still armed are simply forgotten (they read as not active). */
void timers_fini(struct timers *set);
void timer_init(struct timer *t, void (*fn)(struct timer *, void *), void *arg);
/*
 * Arms t to run at `due` (absolute, >= 0); re-arms it if already armed, and it then ties as
 * armed now. Returns 0, -EINVAL (due negative or NaN: a negative due would read as "nothing
 * armed" in timers_next_due) or -ENOMEM (the heap could not grow); on error t is as it was.
 */
int timer_start(struct timers *set, struct timer *t, double due);
/* No-op if not armed; safe from any callback, on any timer. */
void timer_stop(struct timers *set, struct timer *t);
bool timer_active(const struct timer *t);
/*
 * The earliest due time, or a negative value if nothing is armed. Meant for after
 * timers_run(): inside it, timers already run and re-armed for <= now are not counted.
 */
double timers_next_due(const struct timers *set);
/*
 * Runs every timer due at or before now, earliest first (ties: order of arming), each at most
 * once per call: a timer a callback re-arms for <= now runs at the next call, not again in
 * this one (no endless loop). Callbacks may start and stop any timer, including other due
 * ones (a stopped one does not run; one started for <= now that has not run in this call
 * does run in it), and may free their own timer. A callback must not call timers_run() on
 * the same set (it would return 0). Never allocates. Returns how many ran.
 */
unsigned timers_run(struct timers *set, double now);

#endif
