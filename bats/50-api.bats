#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Wrong arguments and unsupported calls get the kernel's errno (socket-api.md §2-§8), seen
# from the unmodified system python3. One process per test. $NET.80 .. .89.

load helpers

setup() { mprds_setup; }
teardown() { mprds_teardown; }

# api_group ADDR GROUP: runs one group of bats/py/api_check.py; every check must pass.
api_group() {
	run shimt 60 "$PY" "$PYDIR/api_check.py" "$1" 8000 "$2"
	assert_success
	assert_line --regexp '^[0-9]+ checks, 0 failed$'
}

@test "socket(): wrong type or protocol gives ESOCKTNOSUPPORT; SO_TYPE/SO_DOMAIN/SO_PROTOCOL" {
	api_group "$NET.80" socket
}

@test "bind(): any/broadcast/multicast/port 1 EINVAL, non-local EADDRNOTAVAIL, rebind EINVAL, in use EADDRINUSE" {
	api_group "$NET.81" bind
}

@test "connect(): INADDR_ANY EDESTADDRREQ; getpeername; send() uses the connected address" {
	api_group "$NET.82" connect
}

@test "sendto(): unbound ENOTCONN, bad destination EINVAL, MSG_NOSIGNAL EOPNOTSUPP, > 1 MiB EMSGSIZE" {
	api_group "$NET.83" send
}

@test "socket options: unknown SOL_RDS option ENOPROTOOPT, SO_SNDBUF reads back doubled" {
	api_group "$NET.84" sockopt
}

@test "shutdown and listen give EOPNOTSUPP, ioctl FIONREAD gives ENOTTY" {
	api_group "$NET.85" unsupported
}
