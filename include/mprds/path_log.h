/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_PATH_LOG_H
#define MPRDS_PATH_LOG_H
/* Log lines about one path, named "laddr->faddr path N", for path.c, rx.c and tcp_*.c. */
#include <stddef.h>

#include "mprds/log.h"

struct path;

const char *path_name(const struct path *p, char *buf, size_t n);

#define PATH_LOG(level, p, fmt, ...)                                                   \
	do {                                                                           \
		char name_[160];                                                       \
		if (log_enabled(level))                                                \
			log_msg(level, "%s: " fmt, path_name(p, name_, sizeof(name_)), \
				##__VA_ARGS__);                                        \
	} while (0)

/* Tolerated oddities, each logged once per connection (path->warned). */
enum { PATH_WARN_CONG_LEN = 1, PATH_WARN_EXT = 2, PATH_WARN_PONGS = 4, PATH_WARN_SEQ = 8 };

#define PATH_LOG_ONCE(level, p, bit, fmt, ...)                  \
	do {                                                    \
		if (!((p)->warned & (bit))) {                   \
			(p)->warned |= (bit);                   \
			PATH_LOG(level, p, fmt, ##__VA_ARGS__); \
		}                                               \
	} while (0)
#define PATH_WARN_ONCE(p, bit, fmt, ...) PATH_LOG_ONCE(LOG_WARN, p, bit, fmt, ##__VA_ARGS__)

#endif
