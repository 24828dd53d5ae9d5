/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_DAEMON_DAEMON_H
#define MPRDS_DAEMON_DAEMON_H
/* One mprdsd: its engine, its rendezvous listener and its clients (mprdsd.c, upgrade.c). */
#include <poll.h>
#include <stdbool.h>

#include "client.h"
#include "serve.h"

#define MAX_CLIENTS 1024

struct daemon {
	struct engine *eng;
	int listen_fd;
	struct pollfd fds[1 + MAX_CLIENTS]; /* [0]: the listener */
	struct client *clients[1 + MAX_CLIENTS]; /* [i] is served on fds[i] */
	unsigned nclients;
	double idle_since; /* < 0: busy */
	double idle_exit; /* 0: never */
	bool system; /* --system: every user's processes are admitted */
	struct serve_ctx ctx;
};

/* The serve context of d's engine (its limits already in d->ctx). */
void daemon_ctx_init(struct daemon *d, const char *instance, unsigned max_sockets,
		     size_t max_bytes);
/* Serves clients until stopped or idle long enough; drops them all then. */
void daemon_serve(struct daemon *d);
/* SIGTERM and SIGINT end daemon_serve(). */
void daemon_signals(void);
/* Client c joins d on its channel (admitted already). */
void daemon_add_client(struct daemon *d, struct client *c);

/* upgrade.c: client i asked to take over: hand everything to it; returns only if it failed. */
void daemon_hand_over(struct daemon *d, unsigned i);
/* mprdsd --upgrade: take over instance's running daemon; the exit status. */
int daemon_upgrade(const char *instance);

#endif
