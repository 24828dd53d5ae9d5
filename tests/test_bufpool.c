// SPDX-License-Identifier: MIT
/* The payload cache: reuse by exact size, and its two bounds (slots and bytes). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/bufpool.h"

#include "check_main.h"

/* The build under AddressSanitizer turns the cache off (bufpool.c): only plain malloc there. */
#if defined(__SANITIZE_ADDRESS__)
#define POOL_ON 0
#else
#define POOL_ON 1
#endif

START_TEST(reuses_same_size_only)
{
	struct buf_pool bp = { 0 };
	uint8_t *a = buf_pool_get(&bp, 65536);

	ck_assert_ptr_nonnull(a);
	memset(a, 1, 65536);
	buf_pool_put(&bp, a, 65536);
	ck_assert_uint_eq(bp.n, POOL_ON ? 1 : 0);
	uint8_t *b = buf_pool_get(&bp, 65535); /* another size: a fresh buffer */

	ck_assert_ptr_nonnull(b);
	if (POOL_ON)
		ck_assert_ptr_ne(a, b);
	uint8_t *c = buf_pool_get(&bp, 65536);

	if (POOL_ON)
		ck_assert_ptr_eq(a, c);
	ck_assert_uint_eq(bp.n, 0);
	ck_assert_uint_eq(bp.bytes, 0);
	free(b);
	free(c);
}
END_TEST

START_TEST(small_buffers_are_not_kept)
{
	struct buf_pool bp = { 0 };

	buf_pool_put(&bp, malloc(100), 100);
	buf_pool_put(&bp, NULL, 0);
	ck_assert_uint_eq(bp.n, 0);
	free(buf_pool_get(NULL, 8192)); /* no pool: malloc */
}
END_TEST

START_TEST(slots_are_bounded)
{
	struct buf_pool bp = { 0 };

	for (int i = 0; i < 3 * BUF_POOL_SLOTS; i++)
		buf_pool_put(&bp, malloc(BUF_POOL_MIN), BUF_POOL_MIN);
	ck_assert_uint_le(bp.n, BUF_POOL_SLOTS);
	ck_assert_uint_eq(bp.bytes, (size_t)bp.n * BUF_POOL_MIN);
	buf_pool_drain(&bp);
	ck_assert_uint_eq(bp.n, 0);
	ck_assert_uint_eq(bp.bytes, 0);
}
END_TEST

START_TEST(bytes_are_bounded)
{
	struct buf_pool bp = { 0 };
	const size_t mib = 1u << 20;

	for (int i = 0; i < 20; i++)
		buf_pool_put(&bp, malloc(mib), mib);
	ck_assert_uint_le(bp.bytes, BUF_POOL_MAX_BYTES);
	if (POOL_ON)
		ck_assert_uint_eq(bp.n, BUF_POOL_MAX_BYTES / mib);
	/* one larger than the whole cache is never kept */
	buf_pool_put(&bp, malloc(BUF_POOL_MAX_BYTES + 1), BUF_POOL_MAX_BYTES + 1);
	ck_assert_uint_le(bp.bytes, BUF_POOL_MAX_BYTES);
	buf_pool_drain(&bp);
}
END_TEST

START_TEST(objects_come_back_zeroed_and_bounded)
{
	struct obj_cache oc = { 0 };
	uint64_t *a = obj_cache_get(&oc, 64);

	ck_assert_ptr_nonnull(a);
	memset(a, 0xff, 64);
	obj_cache_put(&oc, a);
	uint64_t *b = obj_cache_get(&oc, 64);

	if (POOL_ON)
		ck_assert_ptr_eq(a, b);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(b[i], 0);
	obj_cache_put(&oc, b);
	for (int i = 0; i < OBJ_CACHE_MAX + 10; i++)
		obj_cache_put(&oc, malloc(64));
	ck_assert_uint_le(oc.n, OBJ_CACHE_MAX);
	obj_cache_drain(&oc);
	ck_assert_uint_eq(oc.n, 0);
	ck_assert_ptr_null(oc.head);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bufpool");
	TCase *tc = check_tcase(s, "core", NULL, NULL);

	tcase_add_test(tc, reuses_same_size_only);
	tcase_add_test(tc, small_buffers_are_not_kept);
	tcase_add_test(tc, slots_are_bounded);
	tcase_add_test(tc, bytes_are_bounded);
	tcase_add_test(tc, objects_come_back_zeroed_and_bounded);
	return check_run(s);
}
