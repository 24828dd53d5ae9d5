/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TEST_ENGINE_H
#define MPRDS_TEST_ENGINE_H
/*
 * An engine for a unit test: the settings the tests assume, a libev loop that the test runs
 * itself (EVRUN_NOWAIT), no loop thread. Each test makes its own and frees it, so that no
 * state leaks from one test into the next.
 */
#include <ev.h>

#include "mprds/engine.h"

static inline struct engine *test_engine_new(void)
{
	struct config cfg = {
		.npaths = 8,
		.tcp_port = 16385,
		.gen_num = 0x9abcdef0,
		.wmem_max = 212992,
		.rmem_max = 212992,
		.wmem_default = 212992,
		.rmem_default = 212992,
	};
	struct engine *e = engine_new(&cfg);

	if (e)
		e->loop = ev_loop_new(EVFLAG_NOENV);
	return e;
}

#endif
