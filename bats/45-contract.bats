#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The socket contract beyond one call at a time: congestion back-pressure, forked workers,
# programs that close every fd they do not know, python's SOL_RDS options and the select,
# epoll and nested-epoll wake-ups. Addresses $NET.200 .. $NET.229.

load helpers

setup() {
	mprds_setup
	need_progs rds_echo rds_multi rds_fork_workers rds_closefrom rds_badargs
}
teardown() { mprds_teardown; }

@test "congestion: a reader that stops makes senders get ENOBUFS or wait; both resume when it reads" {
	local go="$BATS_TEST_TMPDIR/go"
	start_bg recv "$PY" "$PYDIR/contract.py" congest-recv "$NET.201" 6000 "$go"
	wait_for_line recv '^ready'
	start_bg send "$PY" "$PYDIR/contract.py" congest-send "$NET.200" "$NET.201" 6000 "$go"
	assert_exits_ok send 40
	assert_exits_ok recv 40
	run cat "$(log_of send)"
	assert_line --regexp '^ENOBUFS after [0-9]+ messages$'
	assert_line 'blocking sender waits'
	assert_line 'blocking sender resumed'
	local sent
	sent=$(sed -n 's/^non-blocking sender resumed; sent \([0-9]*\)$/\1/p' "$(log_of send)")
	[[ -n $sent ]] || fail_with_logs "the non-blocking sender did not resume"
	run cat "$(log_of recv)"
	assert_line "received $sent"
}

@test "fork: 4 workers forked after the parent's socket each open their own and exchange" {
	start_bg echo "$PROGS/rds_echo" "$NET.210" 5000 0 20
	wait_for_line echo '^ready'
	start_bg forker AS_HOST="$NET.211" RDS_INHERITED="$(host_wide && echo same)" \
		"$PROGS/rds_fork_workers" "$NET" 211 "$NET.210" 5000 4 50
	assert_exits_ok forker 60
	run cat "$(log_of forker)"
	if host_wide; then
		assert_line "inherited fd: the parent's socket"
	else
		assert_line 'inherited fd: EBADF'
		assert_line --partial 'was inherited across fork'
	fi
	for i in 0 1 2 3; do assert_line "worker $i ok 50 echoes"; done
	assert_line 'parent ok'
	assert_line 'all ok'
}

@test "close_range, closefrom and a close loop leave the engine's fds alone: traffic goes on" {
	start_bg echo "$PROGS/rds_echo" "$NET.221" 5000 0 20
	wait_for_line echo '^ready'
	start_bg tidy "$PROGS/rds_closefrom" "$NET.220" 5001 "$NET.221" 5000
	assert_exits_ok tidy 40
	run cat "$(log_of tidy)"
	assert_line 'before ok'
	assert_line 'closed fds'
	assert_line 'after ok'
}

@test "python3: setsockopt/getsockopt at SOL_RDS follow the kernel's rules" {
	run shimt 20 "$PY" "$PYDIR/contract.py" sol-rds "$NET.222"
	assert_success
	assert_output 'sol-rds ok'
}

@test "python3 receivers waiting in select, epoll and a nested epoll wake up" {
	local mode n=223
	for mode in select epoll nested-epoll; do
		start_bg "recv-$mode" "$PY" "$PYDIR/contract.py" wait-recv "$mode" "$NET.$n" 6000 3
		wait_for_line "recv-$mode" '^ready'
		start_bg "send-$mode" "$PROGS/rds_multi" -m send -n 1 -c 3 -H 30 "$NET.$((n + 1))" 6000 "$NET.$n" 6000
		assert_exits_ok "recv-$mode" 20
		run cat "$(log_of "recv-$mode")"
		assert_line "$mode received 3 messages"
		stop_bg "send-$mode" || true
		n=$((n + 2))
	done
}

@test "bad pointers and lengths get the kernel's errno (EFAULT, EMSGSIZE), never a crash" {
	run shimt 20 "$PROGS/rds_badargs" "$NET.229"
	assert_success
	assert_line '0 failed'
	refute_line --partial 'FAIL'
}

@test "python3 subprocess.run (vfork + close_range in the child) leaves the parent's RDS sockets working" {
	run shimt 20 "$PY" -c '
import socket, subprocess
a = socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET); a.bind(("'"$NET"'.228", 4000))
b = socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET); b.bind(("'"$NET"'.228", 4001))
subprocess.run(["true"], check=True)
a.sendto(b"after spawn", ("'"$NET"'.228", 4001))
b.settimeout(5)
print(b.recvfrom(100)[0].decode())'
	assert_success
	assert_output 'after spawn'
}
