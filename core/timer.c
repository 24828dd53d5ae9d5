// SPDX-License-Identifier: MIT
/* Keeps a room's timeouts as data, on a clock its owner supplies (timer.h says why). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "mprds/timer.h"

#define TIMERS_MIN_CAP 16

/*
 * The heap order is (rank, due, seq). Outside timers_run() every rank is 0: plain (due, seq).
 * During a run, a timer that already ran in it and was re-armed for <= now is "held" (rank 1):
 * it must not run again, yet the loop only ever looks at the top, so it sorts after every
 * timer still to run (rank 0) and before every timer not yet due (rank 2). The run stops at
 * the first top that is not rank 0, and puts the held ones, then the top of the heap, back
 * where the plain order wants them. Switching the order on at the start of a run keeps the heap valid: nothing
 * has run yet, and rank 0 / rank 2 is only a cut of the plain order at now.
 */
static int rank(const struct timers *set, const struct timer *t)
{
	if (!set->running)
		return 0;
	if (!(t->due <= set->now))
		return 2;
	return t->ran == set->run ? 1 : 0;
}

static bool before(const struct timers *set, const struct timer *a, const struct timer *b)
{
	int ra = rank(set, a), rb = rank(set, b);

	if (ra != rb)
		return ra < rb;
	if (a->due != b->due)
		return a->due < b->due;
	return a->seq < b->seq;
}

static void place(struct timers *set, unsigned i, struct timer *t)
{
	set->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct timers *set, unsigned i)
{
	struct timer *t = set->heap[i];

	while (i > 0) {
		unsigned parent = (i - 1) / 2;

		if (!before(set, t, set->heap[parent]))
			break;
		place(set, i, set->heap[parent]);
		i = parent;
	}
	place(set, i, t);
}

static void sift_down(struct timers *set, unsigned i)
{
	struct timer *t = set->heap[i];

	for (;;) {
		unsigned child = 2 * i + 1;

		if (child >= set->n)
			break;
		if (child + 1 < set->n && before(set, set->heap[child + 1], set->heap[child]))
			child++;
		if (!before(set, set->heap[child], t))
			break;
		place(set, i, set->heap[child]);
		i = child;
	}
	place(set, i, t);
}

/* The timer at i has a new key, which may be earlier or later than its old one. */
static void fix(struct timers *set, unsigned i)
{
	if (i > 0 && before(set, set->heap[i], set->heap[(i - 1) / 2]))
		sift_up(set, i);
	else
		sift_down(set, i);
}

static void remove_at(struct timers *set, unsigned i)
{
	struct timer *t = set->heap[i];
	struct timer *last = set->heap[--set->n];

	t->slot = 0;
	if (i < set->n) {
		place(set, i, last);
		fix(set, i);
	}
}

static int heap_grow(struct timers *set)
{
	struct timer **heap;
	unsigned cap;

	/* At most UINT_MAX / 2 cells, so that 2 * i + 2 in sift_down cannot wrap. */
	if (set->cap > UINT_MAX / 4)
		return -ENOMEM;
	cap = set->cap ? set->cap * 2 : TIMERS_MIN_CAP;
	heap = reallocarray(set->heap, cap, sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	set->heap = heap;
	set->cap = cap;
	return 0;
}

void timers_init(struct timers *set)
{
	*set = (struct timers){ 0 };
}

void timers_fini(struct timers *set)
{
	for (unsigned i = 0; i < set->n; i++)
		set->heap[i]->slot = 0;
	free(set->heap);
	set->heap = NULL;
	set->n = set->cap = 0;
}

void timer_init(struct timer *t, void (*fn)(struct timer *, void *), void *arg)
{
	*t = (struct timer){ .fn = fn, .arg = arg };
}

int timer_start(struct timers *set, struct timer *t, double due)
{
	bool had_top = set->n > 0;
	double old_top = had_top ? set->heap[0]->due : 0;

	if (!(due >= 0))
		return -EINVAL;
	if (t->slot) {
		t->due = due;
		t->seq = set->seq++;
		fix(set, t->slot - 1);
	} else {
		if (set->n == set->cap && heap_grow(set))
			return -ENOMEM;
		t->due = due;
		t->seq = set->seq++;
		place(set, set->n++, t);
		sift_up(set, set->n - 1);
	}
	/*
	 * Re-arming the top for later moves nothing earlier: the engine's wake-up then comes
	 * early, runs nothing and re-arms at the new next_due, cheaper than a wake-up now.
	 */
	if (set->on_earlier && set->heap[0] == t && (!had_top || due < old_top))
		set->on_earlier(set, set->on_earlier_arg);
	return 0;
}

void timer_stop(struct timers *set, struct timer *t)
{
	if (t->slot)
		remove_at(set, t->slot - 1);
}

bool timer_active(const struct timer *t)
{
	return t->slot != 0;
}

double timers_next_due(const struct timers *set)
{
	return set->n ? set->heap[0]->due : -1.0;
}

unsigned timers_run(struct timers *set, double now)
{
	unsigned ran = 0, held = 0;

	if (set->running)
		return 0;
	set->running = true;
	set->now = now;
	set->run++;
	while (set->n && rank(set, set->heap[0]) == 0) {
		struct timer *t = set->heap[0];

		remove_at(set, 0);
		t->ran = set->run;
		/* t may be freed by its callback: not touched after it. */
		t->fn(t, t->arg);
		ran++;
	}
	/*
	 * The held timers are now the top. Each is parked in the cell its removal freed, just
	 * past the end of the heap, so that putting them back needs no memory: with the plain
	 * order on, each parked one is re-admitted where it lies and sifted up.
	 */
	while (set->n && rank(set, set->heap[0]) == 1) {
		struct timer *t = set->heap[0];

		remove_at(set, 0);
		place(set, set->n, t);
		held++;
	}
	set->running = false;
	while (held--) {
		set->n++;
		sift_up(set, set->n - 1);
	}
	return ran;
}
