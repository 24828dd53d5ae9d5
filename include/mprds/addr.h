/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_ADDR_H
#define MPRDS_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An RDS address: IPv4 held v4-mapped so that both families order as wire.md §1 says. */
struct addr {
	struct in6_addr ip;
	uint32_t scope;
};

/* Why a sockaddr was refused, so each call can map it to the kernel's errno for that call. */
enum addr_kind { ADDR_OK, ADDR_SHORT, ADDR_FAMILY, ADDR_ANY, ADDR_NOT_UNICAST, ADDR_NEED_SCOPE };

#define ADDR_STRLEN 64

enum addr_kind addr_parse(const struct sockaddr *sa, socklen_t len, struct addr *out,
			  uint16_t *port);
/* Fills a sockaddr_in (v4-mapped) or sockaddr_in6; returns the length written. */
socklen_t addr_fill(const struct addr *a, uint16_t port, struct sockaddr_storage *ss);
bool addr_is_v4(const struct addr *a);
int addr_cmp(const struct addr *a, const struct addr *b);
bool addr_eq(const struct addr *a, const struct addr *b);
const char *addr_str(const struct addr *a, char buf[ADDR_STRLEN]);
uint32_t addr_hash(const struct addr *a);

#endif
