/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TRANSPORT_H
#define MPRDS_TRANSPORT_H
/*
 * The transport below the paths, as the kernel's struct rds_transport: the rooms behind these
 * ops (tcp_*.c) are the only ones that touch a TCP socket or a libev watcher of a path. The
 * protocol rooms call down through the ops only; the transport reports upward by calling
 * path's entry points (path_connected, path_receive, path_drop_acked, path_drop), never the
 * other way round. Unit tests put a fake transport in its place (tests/fake_transport.h).
 */
#include <stdbool.h>
#include <stdint.h>

#include "mprds/addr.h"

struct path;
struct snap_in;
struct snap_out;

/* What RDS_INFO and mprds-info show of one path's connection. */
struct transport_info {
	bool sending; /* writes wait for the connection to take more */
	struct addr laddr, faddr; /* the connection's ends (IPv4 as v4-mapped) */
	uint16_t lport, fport;
	long unacked; /* bytes written and not acknowledged by the peer's TCP, or -1 */
	uint32_t rtt_us, rttvar_us;
};

struct transport {
	const char *name;
	/* A path is made (its transport state allocated: 0 or -ENOMEM) and released. */
	int (*path_init)(struct path *p);
	void (*path_fini)(struct path *p);
	/* Loop thread: open p's connection, or poke the smaller peer (wire.md §1). */
	void (*connect)(struct path *p);
	/* Try connect() again after the backoff of wire.md §9; is such a retry pending? */
	void (*retry)(struct path *p);
	bool (*retry_pending)(const struct path *p);
	/* Loop thread: write what p's send queue holds, as far as the connection takes it. */
	void (*xmit)(struct path *p);
	/* Application thread under the engine lock: write p's one queued message if idle. */
	bool (*xmit_direct)(struct path *p);
	/* The connection failed: read what it still holds (stops at a paused socket). */
	void (*drain)(struct path *p);
	/* Failed while reads are paused: stop writing, close once reads resume. */
	void (*hold_for_reads)(struct path *p);
	/* Closes the connection; no watcher of it stays. */
	void (*close)(struct path *p);
	/* In a forked child: close the parent's connection without touching the loop. */
	void (*forget)(struct path *p);
	/* A connection exists (up, connecting, or failed and waiting to be read). */
	bool (*is_open)(const struct path *p);
	/* Bytes written and not yet acknowledged by the peer, or -1 if unknown. */
	long (*unacked_bytes)(const struct path *p);
	/* Of an open connection (ends, unacknowledged bytes, round-trip time). */
	void (*info)(const struct path *p, struct transport_info *out);
	/*
	 * mprdsd --upgrade (snap.h): the connection's state, its fd travelling with the snapshot
	 * when up; restore installs it in a new engine as it was, read and written from where
	 * the old one stopped. NULL in a transport that cannot be handed over.
	 */
	void (*save)(const struct path *p, bool up, struct snap_out *o);
	void (*restore)(struct path *p, bool up, struct snap_in *in);
};

/* RDS over TCP (tcp_path.c and its rooms). */
extern const struct transport tcp_transport;

#endif
