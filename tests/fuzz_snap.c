// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the reader of an engine's snapshot (mprdsd --upgrade: snap.c,
 * engine_snap.c, sock_snap.c, conn_snap.c, path_snap.c, tcp_listen.c): the new daemon
 * trusts the old one little, so any bytes must either make an engine or be refused, never
 * crash, leak or hang. The input is the snapshot; no fds come with it, so every part that
 * names one is refused, and the rest (connections, paths, queues, parsers, timers,
 * listeners without a socket) is read in full.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_defaults.h"
#include "mprds/engine.h"
#include "mprds/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg = { .npaths = 8,
			      .tcp_port = 16385,
			      .gen_num = 1,
			      .wmem_max = 212992,
			      .rmem_max = 212992,
			      .wmem_default = 212992,
			      .rmem_default = 212992 };
	struct engine *e = engine_new(&cfg);
	struct snap_in in;

	if (!e)
		return 0;
	snap_in_init(&in, data, size, NULL, 0);
	(void)engine_restore(e, &in);
	snap_in_fini(&in);
	engine_free(e);
	return 0;
}
