/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_ALLOW_H
#define MPRDS_ALLOW_H
/*
 * The peers an engine accepts RDS/TCP connections from (MPRDS_ALLOW, mprdsd --allow): a list
 * of networks, IPv4 or IPv6 in CIDR form. The kernel has no such control: any host that
 * reaches port 16385 may connect. An empty list allows every peer.
 */
#include <stdbool.h>
#include <stddef.h>

#include "mprds/addr.h"

#define ALLOW_MAX 32

struct allow_net {
	struct in6_addr net; /* IPv4 held v4-mapped, as struct addr holds it */
	int prefix; /* bits of net that count, over the 128 of the v6 form */
};

struct allow_list {
	int n;
	struct allow_net nets[ALLOW_MAX];
};

/*
 * Parses "CIDR[,CIDR...]" ("198.18.0.0/15", "fe80::/10", a bare address is /32 or /128) into
 * out: 0, or -EINVAL with out empty and the first bad entry copied into bad.
 */
int allow_parse(const char *spec, struct allow_list *out, char *bad, size_t bad_size);
/* Does the list let a connection from peer in? */
bool allow_permits(const struct allow_list *l, const struct addr *peer);

#endif
