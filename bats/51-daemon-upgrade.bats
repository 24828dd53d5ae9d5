#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Upgrade without loss (issue 14): `mprdsd --upgrade` starts the new binary, which takes the
# running daemon's state (daemon/upgrade.c, handover.c): its TCP paths as they are, sequence
# numbers, queues, sockets and clients. Peers see no reset and no restart; applications see
# nothing but a pause. If the hand-over fails, the old daemon goes on serving and says why.
# Two hosts on one machine: A ($NET.130, .132, .134, .136) and B (+1), each an mprdsd instance.

load helpers

setup() {
	mprds_setup
	need_progs rds_seqcheck
}

teardown() {
	mprds_teardown
}

MPRDSD="$MPRDS_BUILD/mprdsd"

# upgrade ADDR: runs `mprdsd --upgrade` for ADDR's host; its output in $output, status in $status.
upgrade() {
	run env MPRDS_INSTANCE="$(instance_of_addr "$1")" timeout 20 "$MPRDSD" --upgrade
}

# the_daemon ADDR: the one pid that serves ADDR's host.
the_daemon() {
	local pids
	pids=$(daemon_pids "$(instance_of_addr "$1")")
	[[ $(wc -w <<<"$pids") -eq 1 ]] || fail_with_logs "host $1 has daemons '$pids', not one"
	echo "$pids"
}

# upgrade_host ADDR: upgrades ADDR's daemon, checks that another process serves it after and
# that the old one is gone; prints the new pid.
upgrade_host() {
	local old new i
	old=$(the_daemon "$1")
	upgrade "$1"
	[[ $status -eq 0 ]] || fail_with_logs "mprdsd --upgrade of $1: status $status: $output"
	[[ $output == *"serves instance"*"now (pid $old handed it over"* ]] ||
		fail_with_logs "unexpected output: $output"
	new=$(the_daemon "$1")
	[[ $new != "$old" ]] || fail_with_logs "host $1: the same pid $old serves it"
	for ((i = 0; i < 50; i++)); do
		proc_alive "$old" || break
		sleep 0.1
	done
	proc_alive "$old" && fail_with_logs "the old daemon $old of $1 did not exit"
	echo "$new"
}

# path_events ADDR: "ups downs restarts" in the log of ADDR's daemon (all of its pids).
path_events() {
	local log="$LOGDIR/mprdsd-$1.log"
	echo "$(grep -c ' up (tcp fd' "$log") $(grep -c ' down: ' "$log") $(grep -c 'restarted (generation' "$log")"
}

# path_connects ADDR PEER: the Connects counter of each of ADDR's daemon's paths to PEER
# (mprds-info --paths), in path order: carried over by an upgrade, bumped by a reconnect.
path_connects() {
	"$MPRDS_BUILD/tools/mprds-info" --paths -p "$(the_daemon "$1")" |
		awk -v a="$1" -v b="$2" '$1 == a && $2 == b { print $3, $4, $13 }' | sort
}

@test "mprdsd --upgrade of both hosts, three times, during 100,000 messages over 16 sockets: each delivered once, in order; no path reset, no restart; new pids" {
	local A=$NET.130 B=$NET.131 a1 b1 a2
	start_bg r MPRDS_LOG=info "$PROGS/rds_seqcheck" recv -n 16 -c 100000 -t 60 "$B" 5000 "$A" 6000
	wait_for_line r '^ready'
	start_bg s MPRDS_LOG=info "$PROGS/rds_seqcheck" send -n 16 -c 100000 -r 12500 -t 60 "$A" 6000 "$B" 5000
	wait_for_line r '^first' 10
	sleep 1
	a1=$(upgrade_host "$A")
	sleep 1
	b1=$(upgrade_host "$B")
	sleep 1
	a2=$(upgrade_host "$A")
	[[ $a2 != "$a1" ]] || fail_with_logs "A's second upgrade kept pid $a1"
	# the peers' counters, read while the stream goes on: each path connected once, both sides
	run path_connects "$A" "$B"
	assert_output "$(printf '%s up 1\n' 0/8 1/8 2/8 3/8 4/8 5/8 6/8 7/8)"
	run path_connects "$B" "$A"
	assert_output "$(printf '%s up 1\n' 0/8 1/8 2/8 3/8 4/8 5/8 6/8 7/8)"
	assert_exits_ok s 60
	assert_exits_ok r 60
	run grep -E '^recv total=' "$(log_of r)"
	assert_output "recv total=100000 dups=0 reorder=0 gaps=0 errors=0"
	run grep -E '^sent total=' "$(log_of s)"
	assert_output "sent total=100000 timeouts=0 eagain=0"
	# 8 paths came up once on each side, none went down, neither side saw the other restart
	run path_events "$A"
	assert_output "8 0 0"
	run path_events "$B"
	assert_output "8 0 0"
	echo "# longest pause at the receiver: $(grep -o 'max_gap_ms=.*' "$(log_of r)")" >&3
	echo "# $(grep -ho 'took over instance .* in [0-9.]* ms' "$LOGDIR"/mprdsd-*.log | tr '\n' ';')" >&3
}

@test "after mprdsd --upgrade, what a socket held unread is still there, in order, with its options, name and readiness; it sends and receives; a recvfrom blocked across it wakes" {
	local A=$NET.132 B=$NET.133
	start_bg rcv "$PY" -c "
import os, select, socket, sys, time
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 300000)
s.bind((sys.argv[1], 7000))
before = (s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), s.getsockname())
print('ready', flush=True)
for _ in range(200):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
after = (s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), s.getsockname())
print('same options and name:', before == after, before, after)
print('readable:', select.select([s], [], [], 0)[0] == [s])
got = [s.recvfrom(100)[0].decode() for _ in range(20)]
print('in order:', got == ['queued %d' % i for i in range(20)])
s.sendto(b'answer', (sys.argv[3], 7001))
s.settimeout(10)
print('then:', s.recvfrom(100)[0].decode(), flush=True)
" "$B" "$BATS_TEST_TMPDIR/go" "$A"
	wait_for_line rcv '^ready'
	start_bg snd "$PY" -c "
import socket, sys
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], 7001))
for i in range(20):
    s.sendto(b'queued %d' % i, (sys.argv[2], 7000))
print('sent', flush=True)
s.settimeout(20)
print('got:', s.recvfrom(100)[0].decode(), flush=True)
s.sendto(b'after the upgrade', (sys.argv[2], 7000))
s.sendto(b'a late message', (sys.argv[2], 7002))
" "$A" "$B"
	wait_for_line snd '^sent'
	# and one blocked in recvfrom across both upgrades, woken by a message sent after them
	start_bg blk "$PY" -c "
import socket, sys
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], 7002))
s.settimeout(30)
print('blocking', flush=True)
print('woke with:', s.recvfrom(100)[0].decode(), flush=True)
" "$B"
	wait_for_line blk '^blocking'
	sleep 0.5
	upgrade_host "$B" >/dev/null
	upgrade_host "$A" >/dev/null
	touch "$BATS_TEST_TMPDIR/go"
	assert_exits_ok rcv 20
	assert_exits_ok snd 20
	run cat "$(log_of rcv)"
	assert_line --partial "same options and name: True"
	assert_line "readable: True"
	assert_line "in order: True"
	assert_line "then: after the upgrade"
	run cat "$(log_of snd)"
	assert_line "got: answer"
	assert_exits_ok blk 20
	run cat "$(log_of blk)"
	assert_line "woke with: a late message"
}

@test "an upgrade that cannot take the state (too few fds for the new binary) leaves the old daemon serving, and both say why" {
	local A=$NET.134 B=$NET.135 old
	start_bg r MPRDS_LOG=info "$PROGS/rds_seqcheck" recv -n 16 -c 20000 -t 60 "$B" 5000 "$A" 6000
	wait_for_line r '^ready'
	start_bg s MPRDS_LOG=info "$PROGS/rds_seqcheck" send -n 16 -c 20000 -r 5000 -t 60 "$A" 6000 "$B" 5000
	wait_for_line r '^first' 10
	old=$(the_daemon "$A")
	run env MPRDS_INSTANCE="$(instance_of_addr "$A")" bash -c "ulimit -n 24; exec timeout 20 '$MPRDSD' --upgrade"
	[[ $status -eq 1 ]] || fail_with_logs "status $status: $output"
	[[ $output == *"cannot take over"*"receiving the state"* ]] || fail_with_logs "output: $output"
	assert_equal "$(the_daemon "$A")" "$old"
	grep -q "mprdsd $old: upgrade to pid [0-9]* failed (.*): this daemon goes on serving" \
		"$LOGDIR/mprdsd-$A.log" || fail_with_logs "the old daemon did not say why"
	assert_exits_ok s 60
	assert_exits_ok r 60
	run grep -E '^recv total=' "$(log_of r)"
	assert_output "recv total=20000 dups=0 reorder=0 gaps=0 errors=0"
	run path_events "$A"
	assert_output "8 0 0"
}

@test "mprdsd --upgrade by another user is refused; with no daemon there is nothing to take over" {
	local A=$NET.136 old
	[[ $(id -u) -eq 0 ]] || skip "needs root to run as another user"
	start_bg rcv "$PY" -c "
import socket, sys, time
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], 7000))
print('ready', flush=True)
time.sleep(30)
" "$A"
	wait_for_line rcv '^ready'
	old=$(the_daemon "$A")
	run env MPRDS_INSTANCE="$(instance_of_addr "$A")" setpriv --reuid=65534 --regid=65534 --clear-groups timeout 20 "$MPRDSD" --upgrade
	[[ $status -eq 1 ]] || fail_with_logs "status $status: $output"
	assert_equal "$(the_daemon "$A")" "$old"
	wait_for_engine_line rcv "asked to take over: refused, it is another user's" 5
	run env MPRDS_INSTANCE="nosuch$$" timeout 20 "$MPRDSD" --upgrade
	assert_failure 1
	assert_output --partial "no daemon to take over"
}
