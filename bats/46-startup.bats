#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Start-up races and early calls: the first RDS socket of a process made from many threads
# at once, and RDS calls made by a constructor before main(). Addresses $NET.190 .. .193.

load helpers

setup() { mprds_setup; }
teardown() { mprds_teardown; }

@test "the first socket() from 16 threads at once: one engine thread, every echo comes back" {
	need_progs rds_echo rds_threads_start
	start_bg echo "$PROGS/rds_echo" "$NET.190" 4600 16 20
	wait_for_line echo '^ready'
	run shimt 60 "$PROGS/rds_threads_start" "$NET.191" 4700 "$NET.190" 4600 16
	assert_success
	for i in $(seq 0 15); do
		assert_line "ok thread $i"
	done
	# main and the engine's loop thread: the race started one engine, not several; host-wide,
	# the engine is the daemon's and the program has its main thread alone
	if host_wide; then assert_line "tasks 1"; else assert_line "tasks 2"; fi
	assert_exits_ok echo 15
}

@test "RDS calls from a program's constructor, before main() runs, are served" {
	need_progs rds_echo rds_threads_start
	start_bg echo "$PROGS/rds_echo" "$NET.192" 4800 5 20
	wait_for_line echo '^ready'
	RDS_EARLY=1 run shimt 60 "$PROGS/rds_threads_start" "$NET.193" 4900 \
		"$NET.192" 4800 4
	assert_success
	assert_line "ok early"
	assert_line "4 of 4 threads ok"
	assert_exits_ok echo 15
	run cat "$(log_of echo)"
	assert_line "echo len=9 from=$NET.193:4904"
}
