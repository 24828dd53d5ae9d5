#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Readiness: receivers that only wait with epoll (C) or asyncio (python3) wake up and
# receive. The sender holds its sockets open until the receiver is done. $NET.60 .. .67.

load helpers

setup() {
	mprds_setup
	need_progs rds_multi
}
teardown() { mprds_teardown; }

# send_to FROM TO PORT COUNT: one socket sends COUNT messages from FROM:PORT to TO:PORT.
send_to() {
	start_bg sender "$PROGS/rds_multi" -m send -n 1 -c "$4" -H 60 "$1" "$3" "$2" "$3"
	wait_for_line sender '^done' 20
}

@test "an epoll (level-triggered) C receiver wakes up and receives" {
	need_progs rds_epoll_recv
	start_bg recv "$PROGS/rds_epoll_recv" "$NET.61" 6000 3 20
	wait_for_line recv '^ready'
	send_to "$NET.60" "$NET.61" 6000 3
	assert_exits_ok recv 25
	run cat "$(log_of recv)"
	assert_line --regexp '^wake 1 events=0x[0-9a-f]+$'
	assert_line "recv len=16 from=$NET.60:6000"
	assert_line "recv len=29 from=$NET.60:6000"
	assert_line "recv len=42 from=$NET.60:6000"
	assert_line --regexp '^received 3 messages in [0-9]+ wake-ups$'
	assert_stops_ok sender
}

@test "an epoll (edge-triggered) C receiver wakes up for each new batch" {
	need_progs rds_epoll_recv
	start_bg recv "$PROGS/rds_epoll_recv" -e "$NET.63" 6000 5 20
	wait_for_line recv '^ready .*edge'
	send_to "$NET.62" "$NET.63" 6000 5
	assert_exits_ok recv 25
	run cat "$(log_of recv)"
	assert_line --regexp '^received 5 messages in [0-9]+ wake-ups$'
	assert_stops_ok sender
}

@test "an asyncio python3 receiver (loop.sock_recvfrom) wakes up and receives" {
	start_bg recv "$PY" "$PYDIR/asyncio_recv.py" "$NET.65" 6100 3 20
	wait_for_line recv '^ready'
	send_to "$NET.64" "$NET.65" 6100 3
	assert_exits_ok recv 25
	run cat "$(log_of recv)"
	assert_line "recv len=16 from=$NET.64:6100"
	assert_line "recv len=42 from=$NET.64:6100"
	assert_line "received 3 messages"
	assert_stops_ok sender
}

@test "an asyncio python3 receiver (loop.add_reader) wakes up and receives" {
	start_bg recv "$PY" "$PYDIR/asyncio_recv.py" --reader "$NET.67" 6100 3 20
	wait_for_line recv '^ready'
	send_to "$NET.66" "$NET.67" 6100 3
	assert_exits_ok recv 25
	run cat "$(log_of recv)"
	assert_line "received 3 messages"
	assert_stops_ok sender
}

@test "an asyncio python3 receiver (loop.sock_recv) wakes up and receives" {
	start_bg recv "$PY" "$PYDIR/asyncio_recv.py" --sock-recv "$NET.69" 6100 3 20
	wait_for_line recv '^ready .*via sock_recv$'
	send_to "$NET.68" "$NET.69" 6100 3
	assert_exits_ok recv 25
	run cat "$(log_of recv)"
	assert_line "recv len=16 from=?:0"
	assert_line "recv len=42 from=?:0"
	assert_line "received 3 messages"
	assert_stops_ok sender
}
