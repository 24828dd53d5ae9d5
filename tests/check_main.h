/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TESTS_CHECK_MAIN_H
#define MPRDS_TESTS_CHECK_MAIN_H
/* What every unit test's main() does with check: a suite of test cases, run, its verdict. */
#include <check.h>
#include <stdlib.h>

/* A test case of s, each of its tests between setup and teardown (either may be NULL). */
static inline TCase *check_tcase(Suite *s, const char *name, void (*setup)(void),
				 void (*teardown)(void))
{
	TCase *tc = tcase_create(name);

	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

/* Runs s; the exit status of main(): failure if any test failed. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
