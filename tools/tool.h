// SPDX-License-Identifier: MIT
/*
 * What the tools share: how they end on a usage error (status 2) or a fatal one (status 1),
 * how they read an address, and the RDS constants an older <sys/socket.h> may lack. Built
 * into each tool from tools/tool.c.
 */
#ifndef MPRDS_TOOLS_TOOL_H
#define MPRDS_TOOLS_TOOL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#ifndef AF_RDS
#define AF_RDS 21
#endif
#ifndef SOL_RDS
#define SOL_RDS 276
#endif

/* Each tool defines these two: its name and its usage line after the name. */
extern const char *const progname;
extern const char *const synopsis;

/* The message on stderr after "progname: ", then exit(1). */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* A usage error: what was wrong (fmt NULL: getopt has said it), then the usage line; exit(2). */
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* An IPv4 address in dotted digits, or a name it resolves to; false if neither. */
bool parse_addr(const char *s, struct in_addr *out);

#endif
