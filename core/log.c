// SPDX-License-Identifier: MIT
/* MPRDS_LOG levels; each line is written with one write(2) so lines never interleave. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mprds/log.h"
#include "mprds/sysio.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Read-mostly setting, written once at start-up before any thread logs. */
static int log_level = LOG_WARN;

/* Once per process: a level nobody asked for must not be ignored silently, nor said twice. */
static bool bad_level_said;

void log_init(void)
{
	const char *v = getenv("MPRDS_LOG");

	if (!v || !*v)
		return;
	for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
		if (strcasecmp(v, level_names[i]) == 0) {
			log_level = i;
			return;
		}
	}
	if (!bad_level_said) {
		bad_level_said = true;
		log_warn("MPRDS_LOG=%s is not error, warn, info or debug: using %s", v,
			 level_names[log_level]);
	}
}

int log_enabled(enum log_level level)
{
	return (int)level <= log_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	n = snprintf(line, sizeof(line), "mprds[%d]: %s: ", (int)getpid(), level_names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!sys_write(2, line, (size_t)n);
}
