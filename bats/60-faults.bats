#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Nothing lost under real faults, on loopback: TCP paths killed with `ss -K` every 100 ms
# under a stream of messages checked by sequence number (exactly once, in order, per socket
# and destination); a receiver killed with SIGKILL and started again; a peer that is not
# there (SO_SNDTIMEO, exit linger). Figures are printed, not asserted tightly.
# Addresses $NET.90 .. $NET.99.

load helpers

setup() {
	mprds_setup
	need_progs rds_seqcheck
}
teardown() { mprds_teardown; }

# Messages of the ss -K test: 200,000 unless MPRDS_FAULT_MSGS says otherwise.
FAULT_MSGS=${MPRDS_FAULT_MSGS:-200000}

# kill_paths A B FLAG OUT: every 100 ms (at most 1500 times) kills one established RDS/TCP
# connection between A and B, chosen at random, with ss -K; stops when FLAG exists; writes
# the number killed to OUT.
kill_paths() {
	local a=$1 b=$2 flag=$3 out=$4 kills=0 i l r
	local -a conns
	for ((i = 0; i < 1500; i++)); do
		[[ -e $flag ]] && break
		mapfile -t conns < <(rds_tcp_lines "$a" "$b" | awk '{ print $3, $4 }')
		if ((${#conns[@]} > 0)); then
			read -r l r <<<"${conns[RANDOM % ${#conns[@]}]}"
			ss -K -tn state established src "$l" dst "$r" >/dev/null 2>&1 && kills=$((kills + 1))
		fi
		sleep 0.1
	done
	echo "$kills" >"$out"
}

# sum_stat LOG NAME: adds up "NAME N" over the per-path lines an engine logs at exit.
sum_stat() {
	grep -o "$2 [0-9]*" "$1" | awk '{ n += $NF } END { print n + 0 }'
}

@test "ss -K kills a path every 100 ms: every message arrives exactly once and in order" {
	local a=$NET.90 b=$NET.91 flag=$BATS_TEST_TMPDIR/stop kills killer
	start_bg recv MPRDS_LOG=info "$PROGS/rds_seqcheck" recv -c "$FAULT_MSGS" -t 240 \
		"$b" 6000 "$a" 5000
	wait_for_line recv '^ready'
	# 25,000 a second: the 200,000 take 8 s or more, time for some 80 kills.
	start_bg send MPRDS_LOG=info "$PROGS/rds_seqcheck" send -c "$FAULT_MSGS" -r 25000 -t 240 \
		"$a" 5000 "$b" 6000
	wait_for_line send '^ready'
	kill_paths "$a" "$b" "$flag" "$BATS_TEST_TMPDIR/kills" 3>&- &
	killer=$!
	BG_PIDS+=("$killer")
	assert_exits_ok recv 240
	touch "$flag"
	assert_exits_ok send 30
	wait_exit_pid "$killer"
	kills=$(<"$BATS_TEST_TMPDIR/kills")
	run cat "$(log_of recv)"
	assert_line "recv total=$FAULT_MSGS dups=0 reorder=0 gaps=0 errors=0"
	run cat "$(log_of send)"
	assert_line --partial "sent total=$FAULT_MSGS "
	echo "# $FAULT_MSGS messages over 16 sockets, $kills TCP connections killed," \
		"$(sum_stat "$(engine_log send)" retransmitted) retransmitted," \
		"$(sum_stat "$(engine_log recv)" "duplicates dropped") duplicates dropped" >&3
	((kills >= 5)) || fail_with_logs "only $kills connections were killed"
}

# wait_exit_pid PID: a background job of this test ends (bounded, 20 s).
wait_exit_pid() {
	local pid=$1 i
	for ((i = 0; i < 200; i++)); do
		proc_alive "$pid" || break
		sleep 0.1
	done
	proc_alive "$pid" && kill_tree "$pid" KILL
	wait "$pid" 2>/dev/null || true
}

# restart_receiver SENDER_ADDR RECEIVER_ADDR: the receiver is killed with SIGKILL while a
# sender streams to it, and started again a second later; prints the milliseconds from the
# new receiver's start to its first message.
restart_receiver() {
	local s=$1 r=$2 ready first pid
	start_bg recv1 "$PROGS/rds_seqcheck" recv -g -t 60 "$r" 6000 "$s" 5000
	wait_for_line recv1 '^ready'
	# 6 s of 5,000 messages a second; a full send buffer waits 200 ms and tries again.
	start_bg send MPRDS_LOG=info "$PROGS/rds_seqcheck" send -c 0 -d 6 -T 200 -r 5000 -t 60 \
		"$s" 5000 "$r" 6000
	wait_for_line recv1 '^first'
	sleep 1
	kill_tree "$(pid_of recv1)" KILL
	kill_host "$r"
	wait_exit recv1 5 || true
	sleep 1
	start_bg recv2 "$PROGS/rds_seqcheck" recv -g -t 60 "$r" 6000 "$s" 5000
	wait_for_line recv2 '^first' 10
	proc_alive "$(pid_of send)" || fail_with_logs "the sender did not survive the restart"
	ready=$(sed -n 's/^ready t=\([0-9]*\).*/\1/p' "$(log_of recv2)")
	first=$(sed -n 's/^first t=\([0-9]*\).*/\1/p' "$(log_of recv2)")
	assert_exits_ok send 30
	assert_stops_ok recv2
	run cat "$(log_of recv2)"
	assert_line --regexp '^recv total=[1-9][0-9]* dups=0 reorder=0 gaps=[0-9]+ errors=0$'
	run cat "$(engine_log send)"
	assert_line --regexp 'peer .* restarted \(generation [0-9a-f]{8} -> [0-9a-f]{8}\)'
	RESUME_MS=$((first - ready))
}

@test "kill -9 of a larger receiver mid-stream, restart: the sender goes on, traffic resumes" {
	restart_receiver "$NET.92" "$NET.93"
	echo "# traffic resumed ${RESUME_MS} ms after the receiver's restart (the sender reconnects)" >&3
	((RESUME_MS < 5000)) || fail_with_logs "resumed only after $RESUME_MS ms"
}

@test "kill -9 of a smaller receiver mid-stream, restart: the sender goes on, traffic resumes" {
	restart_receiver "$NET.95" "$NET.94"
	echo "# traffic resumed ${RESUME_MS} ms after the receiver's restart (poked, it connects)" >&3
	((RESUME_MS < 5000)) || fail_with_logs "resumed only after $RESUME_MS ms"
}

@test "a peer that is not there: sends end with ETIMEDOUT, exit lingers MPRDS_LINGER_MS" {
	local start elapsed
	start=$(date +%s%N)
	# Nobody serves $NET.97: 60 KB messages fill the send buffer, then SO_SNDTIMEO 300 ms.
	MPRDS_LINGER_MS=500 run shimt 30 "$PROGS/rds_seqcheck" send -c 0 -s 60000 \
		-T 300 -x -t 20 "$NET.96" 5000 "$NET.97" 6000
	elapsed=$((($(date +%s%N) - start) / 1000000))
	assert_success
	assert_line --regexp '^etimedout after [0-9]+ ms'
	echo "# ETIMEDOUT, then exit after lingering: ${elapsed} ms in all" >&3
	((elapsed < 10000)) || fail "took $elapsed ms"
}
