#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The unmodified system python3 and C programs exchange RDS messages of 0 B, 1 B, 8 KiB and
# 1 MiB through the shim, content checked, in both directions. Addresses $NET.10 .. .17.

load helpers

setup() { mprds_setup; }
teardown() { mprds_teardown; }

@test "python3 sends 0 B, 1 B, 8 KiB, 1 MiB to a C receiver and checks what comes back" {
	need_progs rds_echo
	start_bg echo "$PROGS/rds_echo" "$NET.10" 4000 4 20
	wait_for_line echo '^ready'
	# python3 is on the larger address: it sends first, so the smaller side is "poked".
	run shimt 60 "$PY" "$PYDIR/rds_send_check.py" "$NET.11" 4000 "$NET.10" 4000 \
		0 1 8192 1048576
	assert_success
	assert_line "ok size=0"
	assert_line "ok size=1"
	assert_line "ok size=8192"
	assert_line "ok size=1048576"
	assert_exits_ok echo 15
	run cat "$(log_of echo)"
	assert_line "echo len=0 from=$NET.11:4000"
	assert_line "echo len=1 from=$NET.11:4000"
	assert_line "echo len=8192 from=$NET.11:4000"
	assert_line "echo len=1048576 from=$NET.11:4000"
	assert_line "echoed 4 messages"
}

@test "C sends 0 B, 1 B, 8 KiB, 1 MiB to a python3 receiver and checks what comes back" {
	need_progs rds_send_check
	start_bg echo "$PY" "$PYDIR/rds_echo.py" "$NET.13" 4100 4 20
	wait_for_line echo '^ready'
	# The C program is on the smaller address: it sends first and connects.
	run shimt 60 "$PROGS/rds_send_check" "$NET.12" 4100 "$NET.13" 4100 \
		0 1 8192 1048576
	assert_success
	assert_line "ok size=0"
	assert_line "ok size=1"
	assert_line "ok size=8192"
	assert_line "ok size=1048576"
	assert_exits_ok echo 15
	run cat "$(log_of echo)"
	assert_line "echo len=0 from=$NET.12:4100"
	assert_line "echo len=1048576 from=$NET.12:4100"
	assert_line "echoed 4 messages"
}

@test "python3 to python3: several 1 MiB messages in a row arrive intact" {
	start_bg echo "$PY" "$PYDIR/rds_echo.py" "$NET.14" 4200 5 20
	wait_for_line echo '^ready'
	run shimt 90 "$PY" "$PYDIR/rds_send_check.py" "$NET.15" 4200 "$NET.14" 4200 \
		1048576 1048575 1048576 65537 1048576
	assert_success
	assert_line "all 5 sizes ok"
	assert_exits_ok echo 15
}

@test "the same two addresses work again right after both processes exited" {
	need_progs rds_echo
	local round
	for round in 1 2; do
		start_bg "echo$round" "$PROGS/rds_echo" "$NET.16" 4300 3 20
		wait_for_line "echo$round" '^ready'
		run shimt 60 "$PY" "$PYDIR/rds_send_check.py" \
			"$NET.17" 4300 "$NET.16" 4300 0 1 8192
		assert_success
		assert_line "all 3 sizes ok"
		assert_exits_ok "echo$round" 15
	done
}
