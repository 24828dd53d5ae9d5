// SPDX-License-Identifier: MIT
/* Timers on a fake clock: order, ties, stop and re-arm, callbacks that change the set. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "mprds/timer.h"

#include "check_main.h"

#define NT 64

/* What ran, in order: each timer's arg is its index in tm[]. */
static struct timers set;
static struct timer tm[NT];
static int ran[4 * NT];
static unsigned nran;

static void record(struct timer *t, void *arg)
{
	(void)t;
	ck_assert_uint_lt(nran, 4 * NT);
	ran[nran++] = (int)(intptr_t)arg;
}

static void setup(void)
{
	timers_init(&set);
	for (int i = 0; i < NT; i++)
		timer_init(&tm[i], record, (void *)(intptr_t)i);
	nran = 0;
}

static void teardown(void)
{
	timers_fini(&set);
}

static void start(int i, double due)
{
	ck_assert_int_eq(timer_start(&set, &tm[i], due), 0);
}

static void assert_ran(const int *want, unsigned n)
{
	ck_assert_uint_eq(nran, n);
	for (unsigned i = 0; i < n; i++)
		ck_assert_msg(ran[i] == want[i], "run %u: timer %d, wanted %d", i, ran[i], want[i]);
}

START_TEST(runs_earliest_first)
{
	static const double due[] = { 7, 3, 9, 1, 5, 2.5, 8, 4 };
	static const int order[] = { 3, 5, 1, 7, 4, 0, 6, 2 };

	for (int i = 0; i < 8; i++)
		start(i, due[i]);
	/* at or before now: 2.5 is due at 2.5 */
	ck_assert_uint_eq(timers_run(&set, 2.5), 2);
	assert_ran(order, 2);
	ck_assert(!timer_active(&tm[3]));
	ck_assert(timer_active(&tm[1]));
	ck_assert_uint_eq(timers_run(&set, 2.9), 0);
	ck_assert_uint_eq(timers_run(&set, 100), 6);
	assert_ran(order, 8);
	ck_assert_uint_eq(timers_run(&set, 200), 0);
}
END_TEST

START_TEST(ties_run_in_arming_order)
{
	/* Enough timers that an unstable heap would mix them up. */
	int order[NT];

	for (int i = 0; i < NT; i++)
		order[i] = (i * 37) % NT; /* 37 is prime to 64: a permutation */
	for (int i = 0; i < NT; i++)
		start(order[i], 5);
	/* re-arming for the same due time makes it the last armed */
	start(order[0], 5);
	for (int i = 0; i < NT - 1; i++)
		order[i] = order[i + 1];
	order[NT - 1] = (0 * 37) % NT;
	ck_assert_uint_eq(timers_run(&set, 5), NT);
	assert_ran(order, NT);
}
END_TEST

START_TEST(stopped_timer_never_runs)
{
	start(0, 1);
	start(1, 2);
	start(2, 3);
	timer_stop(&set, &tm[1]);
	ck_assert(!timer_active(&tm[1]));
	timer_stop(&set, &tm[1]); /* not armed: no-op */
	timer_stop(&set, &tm[9]); /* never armed */
	ck_assert_uint_eq(timers_run(&set, 10), 2);
	assert_ran((const int[]){ 0, 2 }, 2);
	ck_assert(timers_next_due(&set) < 0);
}
END_TEST

START_TEST(rearm_moves_it)
{
	start(0, 10);
	start(1, 12);
	start(0, 20);
	ck_assert(timer_active(&tm[0]));
	ck_assert_double_eq(tm[0].due, 20);
	ck_assert_double_eq(timers_next_due(&set), 12);
	ck_assert_uint_eq(timers_run(&set, 15), 1);
	assert_ran((const int[]){ 1 }, 1);
	start(0, 5); /* earlier again */
	ck_assert_double_eq(timers_next_due(&set), 5);
	ck_assert_uint_eq(timers_run(&set, 5), 1); /* once: re-arming did not add a copy */
	assert_ran((const int[]){ 1, 0 }, 2);
	ck_assert_uint_eq(timers_run(&set, 30), 0);
	ck_assert(timers_next_due(&set) < 0);
}
END_TEST

static double fake_now;

static void rearm_self(struct timer *t, void *arg)
{
	record(t, arg);
	ck_assert_int_eq(timer_start(&set, t, fake_now), 0);
}

START_TEST(self_rearm_for_now_runs_once_per_run)
{
	fake_now = 10;
	timer_init(&tm[0], rearm_self, (void *)(intptr_t)0);
	timer_init(&tm[1], rearm_self, (void *)(intptr_t)1);
	start(0, 1);
	start(1, 4);
	start(2, 5); /* due after the re-armed ones' old times, still due: must not be starved */
	start(3, 10);
	start(4, 11);
	ck_assert_uint_eq(timers_run(&set, fake_now), 4);
	assert_ran((const int[]){ 0, 1, 2, 3 }, 4);
	ck_assert(timer_active(&tm[0]));
	ck_assert(timer_active(&tm[1]));
	ck_assert_double_eq(timers_next_due(&set), 10);
	/* each held one is back in the plain order: they run next time, in arming order */
	ck_assert_uint_eq(timers_run(&set, fake_now), 2);
	assert_ran((const int[]){ 0, 1, 2, 3, 0, 1 }, 6);
	/* re-armed for a time past the run: the next run picks it up */
	fake_now = 10.5;
	ck_assert_uint_eq(timers_run(&set, 11), 3);
	assert_ran((const int[]){ 0, 1, 2, 3, 0, 1, 0, 1, 4 }, 9);
	ck_assert_double_eq(timers_next_due(&set), 10.5);
}
END_TEST

static void stop_timer_1(struct timer *t, void *arg)
{
	record(t, arg);
	timer_stop(&set, &tm[1]);
	timer_stop(&set, t); /* itself, already taken off: no-op */
}

START_TEST(callback_stops_another_due_timer)
{
	timer_init(&tm[0], stop_timer_1, (void *)(intptr_t)0);
	start(0, 1);
	start(1, 2);
	start(2, 3);
	ck_assert_uint_eq(timers_run(&set, 5), 2);
	assert_ran((const int[]){ 0, 2 }, 2);
	ck_assert(!timer_active(&tm[1]));
}
END_TEST

static void start_earlier(struct timer *t, void *arg)
{
	record(t, arg);
	start(1, 5); /* earlier than t, still due: runs in this call */
	start(2, 11); /* not due */
	start(3, 7); /* due, but after 1 */
}

START_TEST(callback_starts_an_earlier_timer)
{
	timer_init(&tm[0], start_earlier, (void *)(intptr_t)0);
	start(0, 10);
	start(4, 10); /* armed before 1 and 3, due later: after them all the same */
	ck_assert_uint_eq(timers_run(&set, 10), 4);
	assert_ran((const int[]){ 0, 1, 3, 4 }, 4);
	ck_assert(timer_active(&tm[2]));
	ck_assert_double_eq(timers_next_due(&set), 11);
}
END_TEST

static unsigned earlier_calls;

static void count_earlier(struct timers *s, void *arg)
{
	ck_assert_ptr_eq(s, &set);
	ck_assert_ptr_eq(arg, &earlier_calls);
	earlier_calls++;
}

START_TEST(on_earlier_only_when_top_moves_earlier)
{
	start(9, 50); /* no hook yet: nothing to call */
	timer_stop(&set, &tm[9]);
	set.on_earlier = count_earlier;
	set.on_earlier_arg = &earlier_calls;
	start(0, 10); /* empty set */
	ck_assert_uint_eq(earlier_calls, 1);
	start(1, 20); /* later */
	start(2, 10); /* tie: armed later, not the top */
	ck_assert_uint_eq(earlier_calls, 1);
	start(3, 5); /* new top */
	ck_assert_uint_eq(earlier_calls, 2);
	start(3, 3); /* the top, earlier still */
	ck_assert_uint_eq(earlier_calls, 3);
	start(3, 3); /* the top, same time */
	start(3, 30); /* the top, later */
	ck_assert_uint_eq(earlier_calls, 3);
	ck_assert_double_eq(timers_next_due(&set), 10);
	timer_stop(&set, &tm[0]); /* the top goes later */
	ck_assert_uint_eq(earlier_calls, 3);
	start(1, 1); /* re-arming a non-top timer to before the top */
	ck_assert_uint_eq(earlier_calls, 4);
	ck_assert_uint_eq(timers_run(&set, 100), 3);
	ck_assert_uint_eq(earlier_calls, 4); /* running moves the top later, never earlier */
	ck_assert_int_eq(timer_start(&set, &tm[5], -1), -EINVAL);
	ck_assert_uint_eq(earlier_calls, 4);
}
END_TEST

START_TEST(next_due)
{
	ck_assert(timers_next_due(&set) < 0);
	start(0, 0); /* time 0 is a time, not "nothing armed" */
	ck_assert_double_eq(timers_next_due(&set), 0);
	start(1, 4);
	start(2, 2);
	ck_assert_double_eq(timers_next_due(&set), 0);
	timer_stop(&set, &tm[0]);
	ck_assert_double_eq(timers_next_due(&set), 2);
	ck_assert_uint_eq(timers_run(&set, 3), 1);
	ck_assert_double_eq(timers_next_due(&set), 4);
	timer_stop(&set, &tm[1]);
	ck_assert(timers_next_due(&set) < 0);
}
END_TEST

START_TEST(bad_due_is_refused)
{
	start(0, 3);
	ck_assert_int_eq(timer_start(&set, &tm[0], NAN), -EINVAL);
	ck_assert_int_eq(timer_start(&set, &tm[0], -0.5), -EINVAL);
	ck_assert_int_eq(timer_start(&set, &tm[1], NAN), -EINVAL);
	ck_assert(!timer_active(&tm[1]));
	ck_assert(timer_active(&tm[0]));
	ck_assert_double_eq(tm[0].due, 3);
	ck_assert_double_eq(timers_next_due(&set), 3);
}
END_TEST

static void free_self(struct timer *t, void *arg)
{
	(void)arg;
	nran++;
	free(t);
}

START_TEST(callback_may_free_its_timer)
{
	/* Under SAN=1, any touch of t after its callback is a use after free. */
	for (int i = 0; i < 3; i++) {
		struct timer *t = malloc(sizeof(*t));

		ck_assert_ptr_nonnull(t);
		timer_init(t, free_self, NULL);
		start(0, 2); /* interleaved with others */
		ck_assert_int_eq(timer_start(&set, t, i), 0);
	}
	ck_assert_uint_eq(timers_run(&set, 5), 4);
}
END_TEST

static void nested_run(struct timer *t, void *arg)
{
	record(t, arg);
	ck_assert_uint_eq(timers_run(&set, 100), 0);
}

START_TEST(run_from_a_callback_does_nothing)
{
	timer_init(&tm[0], nested_run, (void *)(intptr_t)0);
	start(0, 1);
	start(1, 2);
	ck_assert_uint_eq(timers_run(&set, 1), 1);
	assert_ran((const int[]){ 0 }, 1);
	ck_assert(timer_active(&tm[1]));
}
END_TEST

START_TEST(fini_forgets_armed_timers)
{
	for (int i = 0; i < NT; i++)
		start(i, NT - i); /* past the first capacity: the heap grew */
	ck_assert_double_eq(timers_next_due(&set), 1);
	timers_fini(&set);
	for (int i = 0; i < NT; i++)
		ck_assert(!timer_active(&tm[i]));
	ck_assert(timers_next_due(&set) < 0);
	ck_assert_uint_eq(timers_run(&set, 1000), 0);
	/* the set and the timers are usable again */
	timers_init(&set);
	start(5, 1);
	ck_assert_uint_eq(timers_run(&set, 1), 1);
	assert_ran((const int[]){ 5 }, 1);
}
END_TEST

/* The reference: an array scanned for the least (due, seq). */
static struct {
	bool armed;
	double due;
	unsigned long seq;
} model[NT];
static unsigned long model_seq;

static int model_first(double now)
{
	int best = -1;

	for (int i = 0; i < NT; i++) {
		if (!model[i].armed || model[i].due > now)
			continue;
		if (best < 0 || model[i].due < model[best].due ||
		    (model[i].due == model[best].due && model[i].seq < model[best].seq))
			best = i;
	}
	return best;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	/* xorshift64: the same sequence on every libc */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

START_TEST(random_against_reference)
{
	double now = 0;
	unsigned runs = 0, ran_total = 0;

	for (int op = 0; op < 10000; op++) {
		int i = rnd(NT);
		unsigned r = rnd(10);

		if (r < 5) {
			/* few distinct times: many ties */
			double due = now + rnd(16);

			start(i, due);
			model[i].armed = true;
			model[i].due = due;
			model[i].seq = model_seq++;
		} else if (r < 8) {
			timer_stop(&set, &tm[i]);
			model[i].armed = false;
		} else {
			int want[NT], n = 0, j;

			now += rnd(6);
			while ((j = model_first(now)) >= 0) {
				want[n++] = j;
				model[j].armed = false;
			}
			nran = 0;
			ck_assert_uint_eq(timers_run(&set, now), n);
			assert_ran(want, n);
			runs++;
			ran_total += n;
		}
		int first = model_first(INFINITY);

		if (first < 0)
			ck_assert(timers_next_due(&set) < 0);
		else
			ck_assert_double_eq(timers_next_due(&set), model[first].due);
		for (int k = 0; k < NT; k++) {
			ck_assert_int_eq(timer_active(&tm[k]), model[k].armed);
			/* the back-index: stop() finds each timer where it is */
			if (model[k].armed)
				ck_assert_ptr_eq(set.heap[tm[k].slot - 1], &tm[k]);
		}
	}
	/* the mix exercised what it is for */
	ck_assert_uint_gt(runs, 1000);
	ck_assert_uint_gt(ran_total, 1000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timer");
	TCase *tc = check_tcase(s, "core", setup, teardown);

	tcase_add_test(tc, runs_earliest_first);
	tcase_add_test(tc, ties_run_in_arming_order);
	tcase_add_test(tc, stopped_timer_never_runs);
	tcase_add_test(tc, rearm_moves_it);
	tcase_add_test(tc, self_rearm_for_now_runs_once_per_run);
	tcase_add_test(tc, callback_stops_another_due_timer);
	tcase_add_test(tc, callback_starts_an_earlier_timer);
	tcase_add_test(tc, on_earlier_only_when_top_moves_earlier);
	tcase_add_test(tc, next_due);
	tcase_add_test(tc, bad_due_is_refused);
	tcase_add_test(tc, callback_may_free_its_timer);
	tcase_add_test(tc, run_from_a_callback_does_nothing);
	tcase_add_test(tc, fini_forgets_armed_timers);
	tcase_add_test(tc, random_against_reference);
	return check_run(s);
}
