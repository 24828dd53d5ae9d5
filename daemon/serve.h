/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_DAEMON_SERVE_H
#define MPRDS_DAEMON_SERVE_H
/* The socket calls of clients, run on the engine that never blocks (ipc.h, api.h). */
#include "client.h"
#include "ipc_check.h"

struct engine;

struct serve_ctx {
	struct engine *eng;
	const char *instance; /* NULL: the default one */
	unsigned max_client_sockets; /* MPRDS_CLIENT_SOCKETS */
	size_t max_client_bytes; /* MPRDS_CLIENT_MIB: what all of a client's sockets may queue */
	/* the client whose token an IPC_ADOPT names, or NULL */
	struct client *(*client_by_token)(void *arg, uint64_t token);
	void *arg;
};

/* Runs one checked call of c and puts its reply in c's output: false to drop c. */
bool serve_call(const struct serve_ctx *ctx, struct client *c, const struct ipc_call *call);

#endif
