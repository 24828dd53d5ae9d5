/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TEST_COUNTERS_H
#define MPRDS_TEST_COUNTERS_H
/*
 * socket-api.md §12: one counter of an RDS_INFO_COUNTERS table, found by its name as rds-info
 * and mprds-info find it, not by its place. A name missing from the table fails the test.
 */
#include <check.h>
#include <linux/rds.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define COUNTERS_MAX 128 /* room for the kernel's counters, mprds's own, and more to come */

static inline uint64_t counter_in(const struct rds_info_counter *table, socklen_t len,
				  const char *name)
{
	for (size_t i = 0; i < len / sizeof(*table); i++)
		if (!strcmp((const char *)table[i].name, name))
			return table[i].value;
	ck_abort_msg("no counter %s in RDS_INFO_COUNTERS", name);
	return 0;
}

#endif
