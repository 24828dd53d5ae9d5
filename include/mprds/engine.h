/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_ENGINE_H
#define MPRDS_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "mprds/allow.h"
#include "mprds/bufpool.h"
#include "mprds/cong.h"
#include "mprds/conn.h"
#include "mprds/control.h"
#include "mprds/kick.h"
#include "mprds/sock.h"
#include "mprds/stats.h"
#include "mprds/tcp_listen.h"
#include "mprds/timer.h"

struct ev_loop;
struct engine_watchers;
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
	bool never_block; /* mprdsd: calls never wait in the engine (api_would_wait) */
	struct allow_list allow; /* MPRDS_ALLOW: the peers accepted (all when empty) */
};

/*
 * One RDS engine: its loop, its clock and timers, and the state of each room, created by
 * engine_new() and freed by engine_free(); nothing of it is global, so that two engines can
 * live in one process (tests) and a forked child simply drops its parent's. One mutex
 * guards every object of the engine: application threads take it inside each api_* call,
 * the loop thread holds it whenever it is not waiting in the kernel.
 */
struct engine {
	pthread_mutex_t lock;
	pthread_mutex_t start_lock; /* guards started; apart from lock: start-up makes the loop */
	struct ev_loop *loop; /* only the transport and the engine's own watchers use it */
	struct engine_watchers *watchers; /* the loop's own (engine.c) */
	pthread_t thread;
	/*
	 * The rooms' timeouts, on clock_now()'s clock (timer.h): one libev timer armed for the
	 * earliest, re-armed before the loop blocks; unit tests run them on a clock of their own.
	 */
	struct timers timers;
	int wake_fd; /* an eventfd of our own, not ev_async: fdreg must know every engine fd */
	int backend_fd; /* libev's epoll fd, found at start (engine.c) */
	bool started;
	bool stopping; /* engine_free: the loop thread returns */
	bool stale; /* a forked child's copy of its parent's engine: never used again */
	struct config cfg;
	const struct transport *transport; /* below every path (transport.h) */
	struct kicks kicks; /* paths the loop must look at (kick.h) */
	uint8_t rxbuf[256 * 1024]; /* loop thread only */
	struct buf_pool bufs; /* message payloads, under lock */
	struct obj_cache msgs; /* struct msg, under lock */
	/* The rooms' own state. */
	struct sock_table socks;
	struct conn_table conns;
	struct cong_table cong;
	struct listen_table listeners;
	struct control_server control;
	struct stats stats; /* RDS_INFO_COUNTERS: the events of every room, under lock */
};

/* The settings of MPRDS_* variables (README), with a fresh generation number. */
void engine_config_from_env(struct config *cfg);
/*
 * An engine with these settings and no thread yet (unit tests drive it without one): NULL
 * when out of memory. engine_start() starts its loop thread, once; 0 or -errno.
 */
struct engine *engine_new(const struct config *cfg);
int engine_start(struct engine *e);
/* The loop alone, before engine_start (engine_restore installs watchers in it): 0 or -errno. */
int engine_open_loop(struct engine *e);
/* Stops the loop thread, closes every connection and frees everything of e. */
void engine_free(struct engine *e);
void engine_lock(struct engine *e);
void engine_unlock(struct engine *e);
/* The loop thread's next iteration runs the kicked paths (unit tests: without a thread). */
void engine_run_kicks(struct engine *e);
/* True in the loop thread (false before the engine starts: unit tests run without one). */
bool engine_on_loop_thread(const struct engine *e);
/*
 * In a forked child: e is the parent's. Its fds (connections, listeners, loop) are closed,
 * it is marked stale and left as it is (the parent's threads may have been mid-update).
 */
void engine_forget_after_fork(struct engine *e);
/*
 * engine_snap.c, for mprdsd --upgrade: e's state as a snapshot (snap.h; the caller holds the
 * lock, and e is left as it was), and a new engine (its loop open, not started) made into that state:
 * 0, or -EPROTO with in->why saying what was wrong.
 */
struct snap_in;
struct snap_out;
void engine_save(struct engine *e, struct snap_out *o);
int engine_restore(struct engine *e, struct snap_in *in);
/* At exit: wait up to MPRDS_LINGER_MS for queued messages to be acknowledged. */
void engine_linger(struct engine *e);

#endif
