/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_CLOCK_H
#define MPRDS_CLOCK_H
/* CLOCK_MONOTONIC, the clock of every timeout, deadline and latency stamp in the engine. */
#include <stdint.h>

/* In seconds. */
double clock_now(void);
/* In nanoseconds. */
uint64_t clock_ns(void);

#endif
