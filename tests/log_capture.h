/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TESTS_LOG_CAPTURE_H
#define MPRDS_TESTS_LOG_CAPTURE_H
/*
 * What the engine logs during part of a test: its lines go to fd 2 (log.c), so fd 2 points
 * at an in-memory file meanwhile. The level is the test's to set (MPRDS_LOG, log_init).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int log_capture_fd = -1, log_capture_saved = -1;

static inline void log_capture_start(void)
{
	fflush(stderr);
	log_capture_fd = memfd_create("mprds-log", MFD_CLOEXEC);
	log_capture_saved = dup(2);
	ck_assert_int_ge(log_capture_fd, 0);
	ck_assert_int_ge(log_capture_saved, 0);
	ck_assert_int_eq(dup2(log_capture_fd, 2), 2);
}

/* The lines logged since log_capture_start (the first 64 KiB), NUL-terminated. */
static inline const char *log_capture_end(void)
{
	static char text[65536];
	ssize_t n;

	ck_assert_int_eq(dup2(log_capture_saved, 2), 2);
	close(log_capture_saved);
	n = pread(log_capture_fd, text, sizeof(text) - 1, 0);
	close(log_capture_fd);
	text[n > 0 ? n : 0] = 0;
	fputs(text, stderr); /* still shown, as without the capture */
	return text;
}

/* How many lines of text contain needle. */
static inline int log_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (memmem(line, len, needle, strlen(needle)))
			n++;
		line += len + (end ? 1 : 0);
	}
	return n;
}

#endif
