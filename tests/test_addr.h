/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TESTS_TEST_ADDR_H
#define MPRDS_TESTS_TEST_ADDR_H
/* Addresses for unit tests, written as text. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>

#include "mprds/addr.h"

/* "198.18.0.1" or "2001:db8::1" as the engine holds it. */
static inline struct addr test_addr(const char *s)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(*sin);
	struct addr a;
	uint16_t port;

	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		len = sizeof(*sin6);
	}
	ck_assert_int_eq(addr_parse((struct sockaddr *)&ss, len, &a, &port), ADDR_OK);
	return a;
}

/* The n-th address of a /24: test_addr_n("198.18.9", 3) is 198.18.9.3. */
static inline struct addr test_addr_n(const char *prefix, int n)
{
	char s[64];

	snprintf(s, sizeof(s), "%s.%d", prefix, n);
	return test_addr(s);
}

#endif
