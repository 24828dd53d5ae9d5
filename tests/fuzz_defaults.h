/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TESTS_FUZZ_DEFAULTS_H
#define MPRDS_TESTS_FUZZ_DEFAULTS_H
/* The sanitizer settings every libFuzzer target runs with (included once, by each target). */

/*
 * ASan keeps freed memory out of reuse for 256 MiB by default: each input then ran on fresh
 * pages, and page faults were half its time. 16 MiB is still hundreds of inputs' worth.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

/* Undefined behaviour is a finding, not a line in the log: stop at the first, as ASan does. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

#endif
