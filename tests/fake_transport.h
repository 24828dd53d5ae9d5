/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TESTS_FAKE_TRANSPORT_H
#define MPRDS_TESTS_FAKE_TRANSPORT_H
/*
 * A transport for tests (transport.h): no socket, no watcher. Each path's connection is a
 * pair of in-memory byte streams, and the test plays both the peer and the event loop: it
 * sees which paths asked to connect and completes or refuses those connects, accepts
 * connections from the peer, reads and acknowledges what we wrote, writes and closes as the
 * peer, fires pending retries and runs the engine's kick list. Everything happens in the
 * call that causes it, on the caller's thread: no sleeping, no time.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mprds/path.h"
#include "mprds/wire.h"

#define FAKE_GEN_NUM 0x9abcdef0u /* our GEN_NUM (wire.md §13) */
#define FAKE_ACK_ALL UINT64_MAX

extern const struct transport fake_transport;

/*
 * Every engine setting the tests and fuzzers need, in one place: the configuration (npaths
 * 1..8, our GEN_NUM, the kernel's default buffer sizes), the fake transport below every new
 * conn, an empty kick list; and no connections, no bound sockets.
 */
void fake_engine_setup(int npaths);
/* The engine fake_engine_setup() made (freed by the next setup or by the teardown). */
extern struct engine *fake_engine;
/* Frees every connection (and what is queued on them). */
void fake_engine_teardown(void);
/* Nothing left for the loop: no kicked path, no timeout armed. */
bool fake_engine_idle(void);
/* What the loop thread does when woken: path_service() on each kicked path, until none is. */
void fake_run_kicks(void);
/* Time jumps to the earliest timeout armed (conn.c's): it runs, and any due with it. */
void fake_run_timers(void);

/* Connecting (our side). */

/* p asked to connect and the test has not completed or refused it yet. */
bool fake_connecting(const struct path *p);
/* How many connects p asked for since it was made. */
unsigned fake_connects(const struct path *p);
/* The peer accepts p's connect (a poke is then closed, as wire.md §1 says). */
void fake_connect_complete(struct path *p);
/* The peer refuses it (ECONNREFUSED). */
void fake_connect_refuse(struct path *p);
/* It fails with errno err (ETIMEDOUT: nothing answered; EHOSTUNREACH: no route). */
void fake_connect_fail(struct path *p, int err);
/* A reconnect is waiting for its backoff (transport->retry). */
bool fake_retry_pending(const struct path *p);
/* The backoff is over: the path is serviced (connects if it should). */
void fake_fire_retry(struct path *p);

/* The peer. */

/* The peer connects to us and we accept on p (as the listener would): 0, or -EBUSY. */
int fake_accept(struct path *p);
/* The same for a connection from the peer's TCP source port (as the listener records it). */
int fake_accept_from(struct path *p, uint16_t port);
/*
 * What the peer writes on p from now on arrived at arrived_ns (monotonic), as the kernel
 * stamps a segment (sys_read_stamped); 0, the default: no stamp. Bytes are still read at
 * once, in the order written: a stamp earlier than another path's read before it is how
 * the loop reads ready connections out of their order of arrival.
 */
void fake_peer_arrival(struct path *p, uint64_t arrived_ns);
/* The peer's TCP delivers n bytes; p reads them (unless its reads are paused). */
void fake_peer_write(struct path *p, const void *buf, size_t n);
/* The same for one message: a header and its h->len bytes of payload. */
void fake_peer_send(struct path *p, const struct wire_header *h, const void *payload);
/* The peer closes its end: p reads what is left, then sees the end of the stream. */
void fake_peer_close(struct path *p);

/* One message we wrote, as the peer read it. */
struct fake_msg {
	struct wire_header h;
	struct wire_exts ex; /* h.ext parsed */
	const uint8_t *data; /* h.len bytes, valid until the next read on that path */
	uint64_t end; /* stream offset just past it: fake_peer_ack(p, end) acknowledges it */
};

/* The peer reads the next whole message we wrote on p's connection: false if there is none. */
bool fake_peer_next(struct path *p, struct fake_msg *m);
/* The peer reads everything written on p; returns how many whole messages. */
int fake_peer_read_all(struct path *p);
/*
 * The peer's TCP acknowledges p's stream up to offset upto (FAKE_ACK_ALL: all written), and
 * our side learns it, as the ack poll would: path_drop_acked().
 */
void fake_peer_ack(struct path *p, uint64_t upto);
/* Bytes written on p's connection so far, and of those not yet read by the peer. */
uint64_t fake_written(const struct path *p);
size_t fake_unread_by_peer(const struct path *p);
/*
 * At most this many bytes written and unread by the peer (SIZE_MAX, the default: no limit):
 * a write beyond is partial, and the rest waits until the peer reads.
 */
void fake_set_window(struct path *p, size_t bytes);
/* Bytes the peer wrote that p has not read yet (its reads are paused). */
size_t fake_unread_by_us(const struct path *p);
/* The loop's look at a paused path (transport rx poll): reads resume if they may. */
void fake_rx_poll(struct path *p);

#endif
