/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_CONTROL_H
#define MPRDS_CONTROL_H

/*
 * The control socket: every engine answers queries on the abstract AF_UNIX stream socket
 * "\0mprds.<pid>" (shown as "@mprds.<pid>" in /proc/net/unix), so that mprds-info can show
 * every process on the host that uses mprds, as rds-info shows the kernel's whole host.
 * Only clients with the engine's effective uid, or root, are answered.
 *
 * The protocol: the client writes a struct control_req; the engine answers with a struct
 * control_resp and then resp.len bytes: the snapshot of that optname, exactly what
 * getsockopt(SOL_RDS, optname) would return in that process with a buffer large enough
 * (resp.ret = the element size, or -errno and no bytes). A client may send several requests
 * on one connection, one after the other. All fields are in host byte order, except the
 * addresses and ports inside the RDS_INFO_* structures, which are as in <linux/rds.h>.
 */

#include <stdint.h>
#include <sys/queue.h>

#define CONTROL_NAME_PREFIX "mprds."
#define CONTROL_MAGIC 0x6d707264u /* "mprd" */
#define CONTROL_VERSION 1

/* Beyond RDS_INFO_LAST, never valid for getsockopt: the engine's own snapshots. */
#define CONTROL_INFO_PROCESS 0x6d700001 /* one struct control_process */
#define CONTROL_INFO_PATHS 0x6d700002 /* one struct control_path per path */

struct control_req {
	uint32_t magic;
	uint32_t version;
	int32_t optname; /* RDS_INFO_* or CONTROL_INFO_* */
} __attribute__((packed));

struct control_resp {
	uint32_t magic;
	int32_t ret; /* > 0: bytes per element; else -errno */
	uint32_t len; /* bytes that follow */
} __attribute__((packed));

/* The engine's settings and sizes. */
struct control_process {
	uint32_t pid;
	uint32_t npaths; /* MPRDS_NPATHS */
	uint32_t tcp_port; /* MPRDS_TCP_PORT */
	uint32_t gen_num; /* this incarnation's generation number (wire.md §13) */
	uint32_t sockets;
	uint32_t connections;
} __attribute__((packed));

enum control_path_state { CONTROL_PATH_DOWN, CONTROL_PATH_CONNECTING, CONTROL_PATH_UP };

/* One path (TCP connection) of one connection, with its counters since the engine started. */
struct control_path {
	uint8_t laddr[16], faddr[16]; /* the connection's; IPv4 as v4-mapped IPv6 */
	uint16_t tcp_lport, tcp_fport; /* the TCP connection's ports; 0 while down */
	uint8_t index; /* 0..7 */
	uint8_t state; /* enum control_path_state */
	uint8_t npaths; /* agreed with the peer; 0 = not yet */
	uint8_t flags; /* CONTROL_PATH_* below */
	uint32_t tcp_rtt_us, tcp_rttvar_us; /* TCP_INFO; 0 while down */
	uint32_t sendq, unacked; /* messages queued / written but not acknowledged */
	uint64_t next_tx_seq, next_rx_seq;
	uint64_t msgs_tx, msgs_rx, bytes_tx, bytes_rx;
	uint64_t retransmits, dups, connects;
} __attribute__((packed));

#define CONTROL_PATH_ACTIVE 0x01 /* this side opens the TCP connection (smaller address) */

_Static_assert(sizeof(struct control_req) == 12, "control_req is 12 bytes");
_Static_assert(sizeof(struct control_resp) == 12, "control_resp is 12 bytes");
_Static_assert(sizeof(struct control_process) == 24, "control_process is 24 bytes");
_Static_assert(sizeof(struct control_path) == 128, "control_path is 128 bytes");

struct engine;
struct control_watch;

/* The engine's server: its listener and the clients being answered (control.c). */
struct control_server {
	int listen_fd;
	struct control_watch *watch; /* the listener's watcher (control.c) */
	LIST_HEAD(, control_client) clients;
	int nclients;
};

/* The engine's server: started with the loop (before its thread), stopped after fork. */
void control_start(struct engine *e);
/* Closes the listener and every client without touching the loop (which may be gone). */
void control_stop(struct engine *e);

#endif
