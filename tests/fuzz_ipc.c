// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what a client process sends mprdsd after its hello (include/mprds/
 * ipc.h): the frames are split as the daemon splits them, parsed by daemon/ipc_check.c and,
 * when they parse, served by daemon/serve.c on a real engine that never blocks, as in
 * mprdsd. Whatever the bytes, nothing crashes, leaks or reads past a frame.
 *
 * A small socket id (< 64) names the input's k-th socket, since ids are the daemon's to
 * choose. Addresses are the other thing rewritten: every IPv4 address a call names becomes 127.0.0.78
 * and every IPv6 one ::1, so that the engine never sends a byte to any other host; the
 * engine's TCP port is 26388.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "../daemon/client.c"
#include "../daemon/handover.c"
#include "../daemon/ipc_check.c"
#include "../daemon/rendezvous.c"
#include "../daemon/serve.c"
#include "../daemon/sockets.c"
#include "fuzz_defaults.h"
#include "mprds/clock.h"
#include "mprds/engine.h"

static struct serve_ctx ctx;

static struct client *no_client(void *arg, uint64_t token)
{
	(void)arg, (void)token;
	return NULL;
}

static void keep_local(uint8_t *name, size_t len)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	sa_family_t family = 0;

	if (len >= sizeof(family))
		memcpy(&family, name, sizeof(family)); /* the frame's bytes are not aligned */
	if (len >= sizeof(sin) && family == AF_INET) {
		memcpy(&sin, name, sizeof(sin));
		sin.sin_addr.s_addr = htonl(0x7f00004e);
		memcpy(name, &sin, sizeof(sin));
	} else if (len >= sizeof(sin6) && family == AF_INET6) {
		memcpy(&sin6, name, sizeof(sin6));
		sin6.sin6_addr = in6addr_loopback;
		memcpy(name, &sin6, sizeof(sin6));
	}
}

/* One frame of n bytes, in a buffer of exactly n bytes: ASan sees any read past it. */
static void serve_frame(struct client *c, const uint8_t *data, size_t n)
{
	uint8_t *frame = malloc(n ? n : 1);
	struct ipc_call call;

	if (!frame)
		return;
	memcpy(frame, data, n);
	if (!ipc_call_parse(frame, n, &call)) {
		keep_local((uint8_t *)call.name, call.h.namelen);
		/* ids are the daemon's to give: a small one names the input's own sockets */
		if (call.h.id < 64 && c->held.n)
			call.h.id = c->held.h[call.h.id % c->held.n].id;
		serve_call(&ctx, c, &call);
		c->out_len = c->out_off = 0;
		c->pass_fd = -1; /* the daemon keeps its copy (sockets.c) */
	}
	free(frame);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config cfg;
	struct engine *e;

	(void)argc, (void)argv;
	setenv("MPRDS_TCP_PORT", "26388", 1);
	setenv("MPRDS_LOG", "error", 0);
	engine_config_from_env(&cfg);
	cfg.never_block = true;
	e = engine_new(&cfg);
	if (!e || engine_start(e))
		abort();
	ctx = (struct serve_ctx){ e, "fuzz", 64, 1 << 20, no_client, NULL };
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client c = { .fd = -1, .pass_fd = -1, .given_fd = -1 };

	while (size) {
		size_t n = ipc_frame_len(data, size);

		if (!n || n > size)
			n = size; /* the daemon would wait for the rest, then drop the client */
		serve_frame(&c, data, n);
		data += n;
		size -= n;
	}
	sockets_let_go_all(&c.held);
	/* IPC_PASSING holds outlive their client (10 s in mprdsd's loop): here, the input */
	sockets_expire_passing(clock_now() + 1e9);
	free(c.out);
	return 0;
}
