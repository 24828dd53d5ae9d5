// SPDX-License-Identifier: MIT
/* The allow-list of peers (allow.h): parsing CIDR lists and matching addresses against them. */
#include "mprds/allow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One entry "ADDR[/BITS]" of len bytes into *n: true if it is one. */
static bool parse_net(const char *s, size_t len, struct allow_net *n)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	struct in_addr v4;
	long bits;
	int max;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		n->net.s6_addr[10] = n->net.s6_addr[11] = 0xff;
		memcpy(&n->net.s6_addr[12], &v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, buf, &n->net) == 1) {
		max = 128;
	} else {
		return false;
	}
	bits = max;
	if (slash) {
		bits = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || bits < 0 || bits > max)
			return false;
	}
	n->prefix = (int)bits + (128 - max);
	return true;
}

int allow_parse(const char *spec, struct allow_list *out, char *bad, size_t bad_size)
{
	const char *p = spec;

	out->n = 0;
	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (out->n == ALLOW_MAX || !parse_net(p, len, &out->nets[out->n])) {
			snprintf(bad, bad_size, "%.*s", (int)len, p);
			out->n = 0;
			return -EINVAL;
		}
		out->n++;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static bool in_net(const struct allow_net *n, const struct in6_addr *a)
{
	int whole = n->prefix / 8, rest = n->prefix % 8;

	if (memcmp(n->net.s6_addr, a->s6_addr, (size_t)whole) != 0)
		return false;
	if (!rest)
		return true;
	return ((n->net.s6_addr[whole] ^ a->s6_addr[whole]) & (0xff00 >> rest)) == 0;
}

bool allow_permits(const struct allow_list *l, const struct addr *peer)
{
	if (l->n == 0)
		return true;
	for (int i = 0; i < l->n; i++)
		if (in_net(&l->nets[i], &peer->ip))
			return true;
	return false;
}
