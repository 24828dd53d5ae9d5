#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Non-blocking receive on an empty RDS socket gives EAGAIN; TCP and UDP sockets in the same
# program keep working. One process per test, no peer. $NET.70 .. .79.

load helpers

setup() {
	mprds_setup
	need_progs rds_nonblock
}
teardown() { mprds_teardown; }

# nonblock_check ADDR CHECK: runs one check of bats/progs/rds_nonblock.c under the shim.
nonblock_check() {
	run shimt 30 "$PROGS/rds_nonblock" "$1" 7000 "$2"
	assert_success
	assert_line "ok $2"
}

@test "SOCK_NONBLOCK: recv, recvfrom, recvmsg, read on an empty socket give EAGAIN" {
	nonblock_check "$NET.70" sock_nonblock
}

@test "MSG_DONTWAIT on an empty blocking socket gives EAGAIN" {
	nonblock_check "$NET.71" dontwait
}

@test "fcntl O_NONBLOCK on and off; blocking recv with SO_RCVTIMEO fails with ETIMEDOUT" {
	nonblock_check "$NET.72" fcntl
}

@test "poll: no POLLIN on an empty socket, POLLOUT on an idle one" {
	nonblock_check "$NET.73" poll
}

@test "UDP sockets work beside an RDS socket, also on a reused RDS fd number" {
	nonblock_check "$NET.74" udp
}

@test "TCP sockets work beside an RDS socket" {
	nonblock_check "$NET.75" tcp
}

@test "two RDS sockets of one process reach each other" {
	nonblock_check "$NET.76" self
}

@test "python3: non-blocking recv on an empty RDS socket raises BlockingIOError (EAGAIN)" {
	run shimt 30 "$PY" "$PYDIR/api_check.py" "$NET.77" 7100 nonblock
	assert_success
	assert_line "ok nonblocking_recv_eagain"
	assert_line "ok msg_dontwait_recv_eagain"
}
