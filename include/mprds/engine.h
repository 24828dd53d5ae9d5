/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_ENGINE_H
#define MPRDS_ENGINE_H

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "mprds/bufpool.h"
#include "mprds/timer.h"

struct path;
struct listener;
struct transport;

/* Settings read once from MPRDS_* variables when the engine starts. */
struct config {
	int npaths; /* MPRDS_NPATHS, 1..8 */
	uint16_t tcp_port; /* MPRDS_TCP_PORT */
	int linger_ms; /* MPRDS_LINGER_MS */
	uint32_t gen_num; /* this process's incarnation, wire.md §13 */
	/*
	 * wire.md §1 (7.0+): path i connects from port_base + 8 * g + i, g < port_groups, and
	 * says so with RDS_EXTHDR_SPORT_IDX (sport_idx); off when npaths does not divide 8,
	 * because a kernel acceptor files a connection under (source port % npaths).
	 */
	bool sport_idx;
	uint16_t port_base, port_groups;
	uint32_t wmem_max, rmem_max, wmem_default, rmem_default;
};

/*
 * The process singleton. One mutex guards every core object: application threads take it
 * inside each api_* call, the loop thread holds it whenever it is not waiting in the kernel.
 */
struct engine {
	pthread_mutex_t lock;
	struct ev_loop *loop;
	pthread_t thread;
	ev_io wake; /* an eventfd of our own, not ev_async: fdreg must know every engine fd */
	/*
	 * The rooms' timeouts, on engine_now()'s clock (timer.h): one libev timer armed for the
	 * earliest, re-armed before the loop blocks; unit tests run them on a clock of their own.
	 */
	struct timers timers;
	ev_timer timers_due;
	ev_prepare timers_arm;
	int wake_fd;
	int backend_fd; /* libev's epoll fd, found at start (engine.c) */
	bool started;
	unsigned generation; /* bumped in a forked child: older sockets are the parent's */
	struct config cfg;
	const struct transport *transport; /* below every path (transport.h) */
	TAILQ_HEAD(, path) kicks; /* paths the loop must look at */
	uint8_t rxbuf[256 * 1024]; /* loop thread only */
	struct buf_pool bufs; /* message payloads, under lock */
	struct obj_cache msgs; /* struct msg, under lock */
	LIST_HEAD(, sock) signals_due; /* readable edges the loop thread sends as it lets go */
};

extern struct engine engine;

/* Starts the loop thread once; returns 0 or -errno. */
int engine_start(void);
void engine_lock(void);
void engine_unlock(void);
/* Asks the loop thread to service a path (connect, write); wakes it on the first request. */
void engine_kick(struct path *p);
double engine_now(void);
/* True in the loop thread (false before the engine starts: unit tests run without one). */
bool engine_on_loop_thread(void);
/* In a forked child: forget the parent's engine; the first socket starts a new one. */
void engine_after_fork_child(void);
/* At exit: wait up to MPRDS_LINGER_MS for queued messages to be acknowledged. */
void engine_linger(void);

#endif
