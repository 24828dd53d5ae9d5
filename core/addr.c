// SPDX-License-Identifier: MIT
/* Parsing and ordering of RDS addresses (socket-api.md §3-§5, wire.md §1). */
#include <arpa/inet.h>
#include <string.h>

#include "mprds/addr.h"

static enum addr_kind parse_v4(const struct sockaddr_in *sin, struct addr *out, uint16_t *port)
{
	uint32_t ip = ntohl(sin->sin_addr.s_addr);

	memset(out, 0, sizeof(*out));
	out->ip.s6_addr[10] = 0xff;
	out->ip.s6_addr[11] = 0xff;
	memcpy(&out->ip.s6_addr[12], &sin->sin_addr, 4);
	*port = ntohs(sin->sin_port);
	if (ip == INADDR_ANY)
		return ADDR_ANY;
	if (ip == INADDR_BROADCAST || IN_MULTICAST(ip))
		return ADDR_NOT_UNICAST;
	return ADDR_OK;
}

static enum addr_kind parse_v6(const struct sockaddr_in6 *sin6, struct addr *out, uint16_t *port)
{
	const struct in6_addr *ip = &sin6->sin6_addr;

	if (IN6_IS_ADDR_V4MAPPED(ip)) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = sin6->sin6_port };

		memcpy(&sin.sin_addr, &ip->s6_addr[12], 4);
		return parse_v4(&sin, out, port);
	}
	out->ip = *ip;
	out->scope = sin6->sin6_scope_id;
	*port = ntohs(sin6->sin6_port);
	if (IN6_IS_ADDR_UNSPECIFIED(ip))
		return ADDR_ANY;
	if (IN6_IS_ADDR_MULTICAST(ip))
		return ADDR_NOT_UNICAST;
	if (IN6_IS_ADDR_LINKLOCAL(ip) && out->scope == 0)
		return ADDR_NEED_SCOPE;
	if (!IN6_IS_ADDR_LINKLOCAL(ip))
		out->scope = 0;
	return ADDR_OK;
}

enum addr_kind addr_parse(const struct sockaddr *sa, socklen_t len, struct addr *out,
			  uint16_t *port)
{
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return ADDR_SHORT;
	if (sa->sa_family == AF_INET) {
		if (len < (socklen_t)sizeof(struct sockaddr_in))
			return ADDR_SHORT;
		return parse_v4((const struct sockaddr_in *)sa, out, port);
	}
	if (sa->sa_family == AF_INET6) {
		if (len < (socklen_t)sizeof(struct sockaddr_in6))
			return ADDR_SHORT;
		return parse_v6((const struct sockaddr_in6 *)sa, out, port);
	}
	return ADDR_FAMILY;
}

bool addr_is_v4(const struct addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(&a->ip);
}

socklen_t addr_fill(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr_is_v4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, &a->ip.s6_addr[12], 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = a->ip;
	sin6->sin6_scope_id = a->scope;
	return sizeof(*sin6);
}

int addr_cmp(const struct addr *a, const struct addr *b)
{
	return memcmp(&a->ip, &b->ip, sizeof(a->ip));
}

bool addr_eq(const struct addr *a, const struct addr *b)
{
	return addr_cmp(a, b) == 0 && a->scope == b->scope;
}

const char *addr_str(const struct addr *a, char buf[ADDR_STRLEN])
{
	if (addr_is_v4(a))
		return inet_ntop(AF_INET, &a->ip.s6_addr[12], buf, ADDR_STRLEN);
	return inet_ntop(AF_INET6, &a->ip, buf, ADDR_STRLEN);
}

uint32_t addr_hash(const struct addr *a)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a->ip.s6_addr[i]) * 16777619u;
	return h ^ a->scope;
}
