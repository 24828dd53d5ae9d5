// SPDX-License-Identifier: MIT
/* What the tools share (tool.h). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

static void say(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	exit(1);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		say(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Usage: %s %s\nTry '%s --help'.\n", progname, synopsis, progname);
	exit(2);
}

bool parse_addr(const char *s, struct in_addr *out)
{
	struct addrinfo hints = { .ai_family = AF_INET }, *res;

	if (inet_pton(AF_INET, s, out) == 1)
		return true;
	if (getaddrinfo(s, NULL, &hints, &res))
		return false;
	*out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return true;
}
