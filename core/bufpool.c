// SPDX-License-Identifier: MIT
/* Bounded caches of payload buffers (by exact size) and of messages (bufpool.h says why). */
#include <stdlib.h>
#include <string.h>

#include "mprds/bufpool.h"

/* Under AddressSanitizer every buffer goes back to malloc, so reuse after free is caught. */
#if defined(__SANITIZE_ADDRESS__)
#define BUF_POOL_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUF_POOL_ON 0
#endif
#endif
#ifndef BUF_POOL_ON
#define BUF_POOL_ON 1
#endif

static void take_slot(struct buf_pool *bp, unsigned i)
{
	bp->bytes -= bp->slot[i].len;
	bp->slot[i] = bp->slot[--bp->n];
}

uint8_t *buf_pool_get(struct buf_pool *bp, size_t len)
{
	if (BUF_POOL_ON && bp && len >= BUF_POOL_MIN)
		for (unsigned i = bp->n; i-- > 0;)
			if (bp->slot[i].len == len) {
				uint8_t *buf = bp->slot[i].buf;

				take_slot(bp, i);
				return buf;
			}
	return malloc(len);
}

void buf_pool_put(struct buf_pool *bp, uint8_t *buf, size_t len)
{
	if (!buf)
		return;
	if (!BUF_POOL_ON || !bp || len < BUF_POOL_MIN || len > BUF_POOL_MAX_BYTES) {
		free(buf);
		return;
	}
	/* Make room: the buffer given back now is the likeliest size to be wanted next. */
	while (bp->n && (bp->n == BUF_POOL_SLOTS || bp->bytes + len > BUF_POOL_MAX_BYTES)) {
		free(bp->slot[0].buf);
		take_slot(bp, 0);
	}
	bp->slot[bp->n].buf = buf;
	bp->slot[bp->n].len = len;
	bp->n++;
	bp->bytes += len;
}

void buf_pool_drain(struct buf_pool *bp)
{
	while (bp->n) {
		free(bp->slot[0].buf);
		take_slot(bp, 0);
	}
}

void *obj_cache_get(struct obj_cache *oc, size_t size)
{
	void *obj = oc->head;

	if (!obj)
		return calloc(1, size);
	oc->head = *(void **)obj;
	oc->n--;
	memset(obj, 0, size);
	return obj;
}

void obj_cache_put(struct obj_cache *oc, void *obj)
{
	if (!obj)
		return;
	if (!BUF_POOL_ON || oc->n >= OBJ_CACHE_MAX) {
		free(obj);
		return;
	}
	*(void **)obj = oc->head;
	oc->head = obj;
	oc->n++;
}

void obj_cache_drain(struct obj_cache *oc)
{
	void *obj;

	while ((obj = oc->head)) {
		oc->head = *(void **)obj;
		free(obj);
	}
	oc->n = 0;
}
