/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SOCK_H
#define MPRDS_SOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "mprds/addr.h"
#include "mprds/msg.h"

struct engine;

#define SOCK_BIND_BUCKETS 4096

/* An engine's sockets: the bind table, every socket, readable edges the loop sends late. */
struct sock_table {
	LIST_HEAD(, sock) bound[SOCK_BIND_BUCKETS];
	LIST_HEAD(, sock) all;
	LIST_HEAD(, sock) signals_due;
	/* Our map of this address changed: every peer connection must get it (conn.c). */
	void (*local_map_changed)(struct engine *e, const struct addr *a);
	/* The loop thread, once running: readable edges it makes wait until it lets go. */
	bool has_loop;
	pthread_t loop;
};

void sock_table_init(struct sock_table *t);
/* The engine's loop thread is running as thread: the readable edges it makes wait for it. */
void sock_table_set_loop(struct sock_table *t, pthread_t thread);

/* One RDS socket (the core side of struct api_sock). */
struct sock {
	struct engine *eng;
	int app_fd; /* the application's end of the readiness socketpair */
	int eng_fd; /* the engine's end */
	int refs; /* 1 for the application + 1 per api call in progress */
	bool released;
	bool listed; /* on sock_foreach's list */
	bool bound, connected;
	struct addr bound_addr, conn_addr;
	uint16_t bound_port, conn_port;
	size_t sndbuf, rcvbuf; /* the RDS limits: the values the application asked for */
	size_t snd_queued, rcv_queued; /* payload bytes */
	struct msg_queue rxq;
	bool rx_signalled; /* one byte is readable on app_fd */
	/*
	 * mprdsd: messages lent to a client's cache (sock_rx_lend): out of rxq, still counted in
	 * rcv_queued and keeping app_fd readable until the client says they were taken.
	 */
	unsigned lent;
	size_t lent_bytes;
	bool rx_signal_due; /* on engine.signals_due: the byte goes out as the loop lets go */
	bool tx_blocked; /* app_fd's send side is filled: it polls not writable */
	bool congested; /* our port's bit is set in the local congestion map */
	bool cong_monitor; /* RDS_CONG_MONITOR */
	uint64_t cong_mask, cong_notify; /* armed and pending monitor bits (port % 64) */
	bool transport_set; /* SO_RDS_TRANSPORT was set (it can be, once) */
	bool zerocopy; /* SO_ZEROCOPY */
	bool has_sent; /* a message went to a connection: the TOS is fixed (§13) */
	uint32_t zc_cookies[64]; /* completed MSG_ZEROCOPY sends not yet reported */
	unsigned zc_count;
	bool recverr;
	int timestamp; /* 0, SO_TIMESTAMP_OLD or SO_TIMESTAMP_NEW */
	uint8_t rx_traces, rx_trace_pos[3]; /* SO_RDS_MSG_RXPATH_LATENCY */
	uint32_t snap_id; /* its number in the snapshot being written (sock_snap.c) */
	LIST_ENTRY(sock) bind_link;
	LIST_ENTRY(sock) all_link;
	LIST_ENTRY(sock) due_link;
};

struct sock *sock_new(struct engine *e, int app_fd, int eng_fd);
/* Calls fn for every socket the application still holds. */
void sock_foreach(struct engine *e, void (*fn)(struct sock *s, void *arg), void *arg);
/* The socket leaves sock_foreach's list: the application has released it. */
void sock_unlist(struct sock *s);
void sock_get(struct sock *s);
void sock_put(struct sock *s);
struct sock *sock_lookup(struct engine *e, const struct addr *a, uint16_t port);
int sock_bind_port(struct sock *s, const struct addr *a, uint16_t port);
void sock_unbind(struct sock *s);
/* Queues a received message on the socket and makes the app fd readable. */
void sock_deliver(struct sock *s, struct msg *m);
struct msg *sock_rx_take(struct sock *s, bool peek);
/* Frees every message queued to s (it is closed): they count as freed from the socket. */
void sock_rx_flush(struct sock *s);
/* Credits payload bytes TCP has acknowledged (or a cancel freed). */
void sock_credit(struct sock *s, size_t bytes);
void sock_charge(struct sock *s, size_t bytes);
void sock_update_readiness(struct sock *s);
/* mprdsd: takes the head of s's queue for a client's cache (see lent above), or NULL. */
struct msg *sock_rx_lend(struct sock *s);
/* mprdsd: n lent messages of bytes in all were taken by the application (or are lost). */
void sock_rx_returned(struct sock *s, unsigned n, size_t bytes);
/* The socket is going away: its port is no longer congested (wire.md §10). */
void sock_cong_release(struct sock *s);
/* A peer's map arrived or went stale: RDS_CONG_MONITOR sockets hear of it (socket-api.md §6). */
void sock_peer_map_changed(struct engine *e);
/* A socket may hold this many unread bytes before the paths feeding it stop reading. */
size_t sock_rx_bound(const struct sock *s);
/* Loop thread, about to release the engine lock: sends the readable edges it deferred. */
void sock_signal_due(struct engine *e);
/* A MSG_ZEROCOPY message is acknowledged: its cookie is reported by a later recvmsg. */
void sock_zcopy_done(struct sock *s, uint32_t cookie);


/* sock_snap.c: the state of messages and sockets for mprdsd --upgrade (snap.h). */
struct snap_in;
struct snap_out;
void msg_queue_save(struct snap_out *o, const struct msg_queue *q);
/* Appends the messages read to q (what was read before a bad one stays there). */
void msg_queue_load(struct snap_in *in, struct engine *e, struct msg_queue *q);
/* Every socket the application holds, numbered from 1 (snap_id) in the order written. */
void sock_save_all(struct snap_out *o, struct engine *e);
/* Makes them again, bound and with their queues; in->objs lists them by snap_id. */
void sock_restore_all(struct snap_in *in, struct engine *e);
#endif
