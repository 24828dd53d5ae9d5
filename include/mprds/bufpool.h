/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_BUFPOOL_H
#define MPRDS_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

#define BUF_POOL_SLOTS 64
#define BUF_POOL_MIN 4096 /* smaller payloads come from malloc's own caches */
#define BUF_POOL_MAX_BYTES (8u << 20)

/*
 * Payload buffers of recently freed messages, kept for reuse by size. Without it, every large
 * message cost fresh pages: glibc returned the freed memory to the kernel (heap trimming of
 * a thread's arena) and the next payload faulted it in again (bench: 64 KiB messages, ~7% of
 * the CPU in page faults). Bounded: at most BUF_POOL_SLOTS buffers and BUF_POOL_MAX_BYTES.
 * A buffer given back must have come from malloc (any caller's) with exactly len bytes.
 * Callers serialise (the engine lock); a NULL pool is plain malloc/free.
 */
struct buf_pool {
	struct {
		uint8_t *buf;
		size_t len;
	} slot[BUF_POOL_SLOTS];
	unsigned n;
	size_t bytes;
};

/*
 * Freed objects of one size (struct msg), kept for reuse: malloc and free were a tenth of
 * the CPU with 16 sockets of 8 KiB messages (perf). At most OBJ_CACHE_MAX are kept.
 */
#define OBJ_CACHE_MAX 4096
struct obj_cache {
	void *head; /* each free object starts with the pointer to the next */
	unsigned n;
};

uint8_t *buf_pool_get(struct buf_pool *bp, size_t len);
void buf_pool_put(struct buf_pool *bp, uint8_t *buf, size_t len);
/* Frees every cached buffer. */
void buf_pool_drain(struct buf_pool *bp);

/* A zeroed object of size bytes (the same size at every call for one cache), or NULL. */
void *obj_cache_get(struct obj_cache *oc, size_t size);
void obj_cache_put(struct obj_cache *oc, void *obj);
void obj_cache_drain(struct obj_cache *oc);

#endif
