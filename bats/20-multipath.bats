#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Multipath: 16 sockets with different bound ports between two addresses make exactly 8
# established TCP connections on port 16385; MPRDS_NPATHS=1 on either side makes exactly 1.
# Connections are counted with ss while both processes are alive (they hold after the
# exchange until SIGTERM). Addresses $NET.40 .. .51.

load helpers

setup() {
	mprds_setup
	need_progs rds_multi
}
teardown() { mprds_teardown; }

# exchange FIRST_ADDR SECOND_ADDR [VAR=VALUE for FIRST] [-- VAR=VALUE for SECOND]
# FIRST starts and waits (-W); SECOND starts and sends first. 16 sockets, 50 messages each
# way per socket, both ends checking order and content; then both hold for up to 60 s.
exchange() {
	local first=$1 second=$2
	shift 2
	local -a env1=() env2=()
	while [[ $# -gt 0 && $1 != -- ]]; do env1+=("$1"); shift; done
	[[ ${1:-} == -- ]] && shift
	env2=("$@")
	start_bg first "${env1[@]}" "$PROGS/rds_multi" -m both -W -n 16 -c 50 -H 60 -t 40 \
		"$first" 5000 "$second" 5000
	wait_for_line first '^ready'
	start_bg second "${env2[@]}" "$PROGS/rds_multi" -m both -n 16 -c 50 -H 60 -t 40 \
		"$second" 5000 "$first" 5000
	wait_for_line second '^done' 45
	wait_for_line first '^done' 45
}

# Both stop on SIGTERM with status 0, having sent and received everything.
assert_exchange_complete() {
	assert_stops_ok first
	assert_stops_ok second
	run cat "$(log_of first)"
	assert_line "total sockets=16 sent=800 recv=800 errors=0"
	run cat "$(log_of second)"
	assert_line "total sockets=16 sent=800 recv=800 errors=0"
}

@test "16 sockets, the smaller address sends first: exactly 8 TCP connections" {
	exchange "$NET.41" "$NET.40"
	assert_conns "$NET.40" "$NET.41" 8
	assert_exchange_complete
}

@test "16 sockets, the larger address sends first: exactly 8 TCP connections" {
	exchange "$NET.42" "$NET.43"
	assert_conns "$NET.42" "$NET.43" 8
	assert_exchange_complete
}

@test "MPRDS_NPATHS=1 on the smaller side: exactly 1 TCP connection" {
	exchange "$NET.45" "$NET.44" -- MPRDS_NPATHS=1
	assert_conns "$NET.44" "$NET.45" 1
	assert_exchange_complete
}

@test "MPRDS_NPATHS=1 on the larger side: exactly 1 TCP connection" {
	exchange "$NET.47" "$NET.46" MPRDS_NPATHS=1
	assert_conns "$NET.46" "$NET.47" 1
	assert_exchange_complete
}

@test "python3 with 16 sockets and a C program: exactly 8 TCP connections" {
	start_bg py "$PY" "$REPO_ROOT/tools/demo_peer.py" -m both -W -n 16 -c 50 -H 60 -t 40 \
		"$NET.49" 5000 "$NET.48" 5000
	wait_for_line py '^ready'
	start_bg c "$PROGS/rds_multi" -m both -n 16 -c 50 -H 60 -t 40 \
		"$NET.48" 5000 "$NET.49" 5000
	wait_for_line c '^done' 45
	wait_for_line py '^done' 45
	assert_conns "$NET.48" "$NET.49" 8
	assert_stops_ok c
	assert_stops_ok py
	run cat "$(log_of c)"
	assert_line "total sockets=16 sent=800 recv=800 errors=0"
	run cat "$(log_of py)"
	assert_line "total sockets=16 sent=800 recv=800 errors=0"
}

@test "a sender that exits right after its last send still delivers every message" {
	start_bg recv "$PROGS/rds_multi" -m recv -n 16 -c 20 -t 40 "$NET.51" 5000 "$NET.50" 5000
	wait_for_line recv '^ready'
	# No hold: the process exits as soon as the last sendto returned.
	run shimt 60 "$PROGS/rds_multi" -m send -n 16 -c 20 \
		"$NET.50" 5000 "$NET.51" 5000
	assert_success
	assert_line "total sockets=16 sent=320 recv=0 errors=0"
	assert_exits_ok recv 45
	run cat "$(log_of recv)"
	assert_line "total sockets=16 sent=0 recv=320 errors=0"
}
