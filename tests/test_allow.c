// SPDX-License-Identifier: MIT
/* The allow-list (allow.h): CIDR lists as MPRDS_ALLOW and mprdsd --allow give them. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mprds/allow.h"

#include "check_main.h"

static struct addr ip(const char *s)
{
	struct addr a = { 0 };
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		a.ip.s6_addr[10] = a.ip.s6_addr[11] = 0xff;
		memcpy(&a.ip.s6_addr[12], &v4, 4);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, s, &a.ip), 1);
	}
	return a;
}

static bool permits(const char *list, const char *peer)
{
	struct allow_list l;
	char bad[64];
	struct addr a = ip(peer);

	ck_assert_int_eq(allow_parse(list, &l, bad, sizeof(bad)), 0);
	return allow_permits(&l, &a);
}

START_TEST(an_empty_list_allows_every_peer)
{
	ck_assert(permits("", "203.0.113.9"));
	ck_assert(permits("", "2001:db8::1"));
}
END_TEST

START_TEST(ipv4_networks_match_by_prefix)
{
	ck_assert(permits("198.18.0.0/15", "198.19.255.254"));
	ck_assert(!permits("198.18.0.0/15", "198.20.0.1"));
	ck_assert(permits("10.1.2.0/23", "10.1.3.7"));
	ck_assert(!permits("10.1.2.0/23", "10.1.4.7"));
	ck_assert(permits("127.0.0.2", "127.0.0.2")); /* a bare address is /32 */
	ck_assert(!permits("127.0.0.2", "127.0.0.3"));
	ck_assert(permits("0.0.0.0/0", "203.0.113.9"));
	ck_assert(!permits("0.0.0.0/0", "2001:db8::1")); /* every IPv4 peer, no IPv6 one */
}
END_TEST

START_TEST(ipv6_networks_match_by_prefix)
{
	ck_assert(permits("fe80::/10", "fe80::5054:ff:fe12:3456"));
	ck_assert(permits("fe80::/10", "febf::1"));
	ck_assert(!permits("fe80::/10", "fec0::1"));
	ck_assert(permits("2001:db8::1", "2001:db8::1"));
	ck_assert(!permits("2001:db8::1", "2001:db8::2"));
	ck_assert(permits("::/0", "203.0.113.9")); /* ::/0 holds the v4-mapped form too */
}
END_TEST

START_TEST(any_entry_of_a_list_lets_in)
{
	ck_assert(permits("10.0.0.0/8,198.18.0.0/15,fe80::/10", "198.18.1.2"));
	ck_assert(permits("10.0.0.0/8,198.18.0.0/15,fe80::/10", "fe80::1"));
	ck_assert(!permits("10.0.0.0/8,198.18.0.0/15,fe80::/10", "192.0.2.1"));
}
END_TEST

START_TEST(bad_entries_are_named_and_leave_the_list_empty)
{
	static const char *bad_lists[] = { "198.18.0.0/33",	  "fe80::/129", "nonsense",
					   "10.0.0.0/8,,1.2.3.4", "1.2.3.4/",	"1.2.3.4/x" };
	struct allow_list l;
	char bad[64];

	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		bad[0] = 0;
		ck_assert_int_eq(allow_parse(bad_lists[i], &l, bad, sizeof(bad)), -EINVAL);
		ck_assert_int_eq(l.n, 0);
	}
	ck_assert_int_eq(allow_parse("10.0.0.0/8,nonsense", &l, bad, sizeof(bad)), -EINVAL);
	ck_assert_str_eq(bad, "nonsense");
}
END_TEST

START_TEST(more_than_allow_max_entries_are_refused)
{
	char list[ALLOW_MAX * 16 + 32] = "";
	struct allow_list l;
	char bad[64];

	for (int i = 0; i <= ALLOW_MAX; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.0.%d.0/24",
			 i ? "," : "", i);
	ck_assert_int_eq(allow_parse(list, &l, bad, sizeof(bad)), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("allow");
	TCase *tc = check_tcase(s, "allow-list", NULL, NULL);

	tcase_add_test(tc, an_empty_list_allows_every_peer);
	tcase_add_test(tc, ipv4_networks_match_by_prefix);
	tcase_add_test(tc, ipv6_networks_match_by_prefix);
	tcase_add_test(tc, any_entry_of_a_list_lets_in);
	tcase_add_test(tc, bad_entries_are_named_and_leave_the_list_empty);
	tcase_add_test(tc, more_than_allow_max_entries_are_refused);
	return check_run(s);
}
