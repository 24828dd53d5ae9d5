/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_SHIM_EXPORTS_H
#define MPRDS_SHIM_EXPORTS_H
/*
 * The shim's wrappers, declared from calls.def: each is checked against libc's prototype and
 * exported; all else in us is hidden. Every file that defines wrappers includes this.
 */
#include "shim.h"

#define SHIM_CALL(ret, name, params, args) __attribute__((visibility("default"))) ret name params;
#define SHIM_CALL_VA(ret, name, params, last, args) \
	__attribute__((visibility("default"))) ret name SHIM_VA_PARAMS params;
#define SHIM_EXPORT(ret, name, params) __attribute__((visibility("default"))) ret name params;
#include "calls.def"

#endif
