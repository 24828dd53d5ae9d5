/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TEST_INFO_SIZES_H
#define MPRDS_TEST_INFO_SIZES_H
/* socket-api.md §12: the size of one element of each RDS_INFO table, as the kernel's. */
#include <linux/rds.h>

static const struct info_size {
	int optname;
	int each;
} info_sizes[] = {
	{ RDS_INFO_COUNTERS, 40 },	 { RDS_INFO_CONNECTIONS, 42 },
	{ RDS_INFO_SEND_MESSAGES, 26 },	 { RDS_INFO_RETRANS_MESSAGES, 26 },
	{ RDS_INFO_RECV_MESSAGES, 26 },	 { RDS_INFO_SOCKETS, 28 },
	{ RDS_INFO_TCP_SOCKETS, 41 },	 { RDS6_INFO_CONNECTIONS, 65 },
	{ RDS6_INFO_SEND_MESSAGES, 50 }, { RDS6_INFO_RETRANS_MESSAGES, 50 },
	{ RDS6_INFO_RECV_MESSAGES, 50 }, { RDS6_INFO_SOCKETS, 52 },
	{ RDS6_INFO_TCP_SOCKETS, 64 },
};

#endif
