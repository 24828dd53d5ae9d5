/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_PORT_OWNER_H
#define MPRDS_PORT_OWNER_H
/*
 * Who holds a local TCP port that our listener could not bind (EADDRINUSE), as far as this
 * process can see (/proc): so that the log line tells another mprds engine from a program
 * that is not mprds, and says what to do about each.
 */
#include <stddef.h>
#include <stdint.h>

#include "mprds/addr.h"

enum port_owner_kind {
	PORT_OWNER_MPRDS, /* an mprds engine: mprdsd or a process with one in it */
	PORT_OWNER_OTHER, /* a process we can see, without an mprds engine */
	PORT_OWNER_UNKNOWN, /* not visible here: another user's, or the kernel's */
};

/*
 * Describes the holder of a:port (a unspecified: of the port on any address) in buf, as
 * "process 1234 (python3)", and says which kind it is.
 */
enum port_owner_kind port_owner(const struct addr *a, uint16_t port, char *buf, size_t n);

#endif
