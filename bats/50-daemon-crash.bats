#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Replacement after a crash (issue 14): when a host's mprdsd dies (kill -9), its clients' next
# calls start a new one and make their sockets again in it (shim/replay.c): same fds, same
# address, options and flags; what the dead daemon held queued is lost, as in a node crash.
# Two hosts on one machine: A ($NET.24, $NET.26, $NET.28) and B (+1), each an mprdsd instance.

load helpers

setup() {
	mprds_setup
	need_progs rds_seqcheck
}

teardown() {
	mprds_teardown
}

# CLOCK_MONOTONIC in ms, as rds_seqcheck prints it.
mono_ms() {
	"$PY" -c 'import time; print(int(time.monotonic() * 1000))'
}

# new_daemon ADDR OLD_PID: waits (bounded) until a daemon other than OLD_PID serves ADDR.
new_daemon() {
	local i pid
	for ((i = 0; i < 50; i++)); do
		pid=$(daemon_pids "$(instance_of_addr "$1")" | head -n 1)
		[[ -n $pid && $pid != "$2" ]] && echo "$pid" && return 0
		sleep 0.1
	done
	fail_with_logs "no new daemon for $1 within 5 s"
}

# recovery_ms NAME CRASH_MS: the longest gap between two successful sends of NAME (rds_seqcheck
# -S) that ended within 5 s after CRASH_MS: the crash to its first successful send; "none".
recovery_ms() {
	awk -v c="$2" '/^stall / {
		split($3, to, "="); split($4, ms, "=")
		if (to[2] > c && to[2] < c + 5000 && ms[2] > best) best = ms[2]
	} END { print best ? best : "none" }' "$(log_of "$1")"
}

# sent_after NAME MS: does NAME's log show a send that went through after MS? (stall lines)
sent_after() {
	[[ $(recovery_ms "$1" "$2") != none ]]
}

# crash_daemon ADDR: kill -9 of the mprdsd serving ADDR; returns once another serves it (its
# clients' next calls start one).
crash_daemon() {
	local old
	old=$(daemon_pids "$(instance_of_addr "$1")" | head -n 1)
	kill_host "$1"
	new_daemon "$1" "$old" >/dev/null
}

# wait_resumed MS [WHAT]: waits (bounded, 5 s each) until s1 and s2 have each sent again after
# MS, the crash; fails, saying WHAT crash, if one has not.
wait_resumed() {
	local n i
	for n in s1 s2; do
		for ((i = 0; i < 50; i++)); do
			sent_after "$n" "$1" && break
			sleep 0.1
		done
		sent_after "$n" "$1" || fail_with_logs "${2:+$2: }$n sent nothing after the crash"
	done
}

fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# start_stream A B: two processes of host A stream to two receivers on host B (2 sockets each,
# 1000 messages a second, gaps allowed at the receivers, never a duplicate or a step back).
start_stream() {
	local a=$1 b=$2
	# r1 starts host B's daemon: at info, it logs the peers that restart
	start_bg r1 MPRDS_LOG=info "$PROGS/rds_seqcheck" recv -g -n 2 -c 0 -t 120 -p 100 "$b" 5000 "$a" 6000
	start_bg r2 "$PROGS/rds_seqcheck" recv -g -n 2 -c 0 -t 120 -p 100 "$b" 5100 "$a" 6100
	wait_for_line r1 '^ready'
	wait_for_line r2 '^ready'
	start_bg s1 "$PROGS/rds_seqcheck" send -n 2 -c 0 -d 100 -t 120 -r 1000 -S 3 \
		"$a" 6000 "$b" 5000
	start_bg s2 "$PROGS/rds_seqcheck" send -n 2 -c 0 -d 100 -t 120 -r 1000 -S 3 \
		"$a" 6100 "$b" 5100
	wait_for_line r1 '^first'
	wait_for_line r2 '^first'
}

# stop_stream: senders and receivers stop (SIGTERM); every stream was in order, no duplicate.
stop_stream() {
	local n
	for n in s1 s2 r1 r2; do
		assert_stops_ok "$n"
	done
	for n in r1 r2; do
		grep -qE '^recv total=[1-9][0-9]* dups=0 reorder=0 gaps=[0-9]+ errors=0$' \
			"$(log_of "$n")" || fail_with_logs "$n: a duplicate, a step back or an error"
	done
}

# received NAME: the last count NAME's progress lines give.
received() {
	sed -n 's/^progress t=[0-9]* recv=\([0-9]*\)$/\1/p' "$(log_of "$1")" | tail -n 1
}

# send_one ADDR PORT DEST_ADDR DEST_PORT TEXT: one message, from a process of ADDR's host.
send_one() {
	shimt 20 "$PY" -c "
import socket, sys
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(sys.argv[5].encode(), (sys.argv[3], int(sys.argv[4])))" "$@"
}

# restarts_seen ADDR NAME: how often NAME's daemon logged that the peer at ADDR restarted.
restarts_seen() {
	grep -cE "peer $1(:[0-9]+)? restarted \(generation" "$(engine_log "$2")" || true
}

@test "kill -9 of host A's mprdsd while two of its processes stream to B: both go on at once, B sees A restart once, traffic resumes" {
	local A=$NET.24 B=$NET.25 crash n before
	start_stream "$A" "$B"
	sleep 1
	before=$(received r1)
	crash=$(mono_ms)
	crash_daemon "$A"
	wait_resumed "$crash"
	for n in s1 s2; do
		echo "# $n: crash to first successful send: $(recovery_ms "$n" "$crash") ms" >&3
		(($(recovery_ms "$n" "$crash") < 1000)) || fail_with_logs "$n took 1 s or more"
		proc_alive "$(pid_of "$n")" || fail_with_logs "$n did not survive"
	done
	sleep 1
	(($(received r1) > before + 500)) || fail_with_logs "r1: traffic did not resume"
	(($(received r2) > 500)) || fail_with_logs "r2: no traffic"
	stop_stream
	run restarts_seen "$A" r1
	assert_output 1
}

@test "10 crashes of host A's mprdsd in a row: no fd leaks in its clients, RSS bounded, every stream whole but for the crashes" {
	local A=$NET.26 B=$NET.27 k n crash pid
	local -A fds0 rss0 times
	start_stream "$A" "$B"
	sleep 0.5
	for n in s1 s2; do
		pid=$(pid_of "$n")
		fds0[$n]=$(fd_count "$pid")
		rss0[$n]=$(rss_kib "$pid")
	done
	for ((k = 1; k <= 10; k++)); do
		crash=$(mono_ms)
		crash_daemon "$A"
		wait_resumed "$crash" "crash $k"
		for n in s1 s2; do
			times[$n]+=" $(recovery_ms "$n" "$crash")"
		done
		sleep 0.3
	done
	sleep 0.5
	for n in s1 s2; do
		pid=$(pid_of "$n")
		echo "# $n: crash to first send (ms):${times[$n]}; fds ${fds0[$n]} -> $(fd_count "$pid"); RSS ${rss0[$n]} -> $(rss_kib "$pid") KiB" >&3
		assert_equal "$(fd_count "$pid")" "${fds0[$n]}"
		(($(rss_kib "$pid") < rss0[$n] + 16384)) || fail_with_logs "$n: RSS grew by 16 MiB"
	done
	stop_stream
	run restarts_seen "$A" r1
	assert_output 10
}

@test "receivers blocked in recvfrom and in epoll on host A wake when its mprdsd dies and get what B sends afterwards; fds, name, options and flags are the same" {
	local A=$NET.28 B=$NET.29 before after
	start_bg recv "$PY" "$BATS_TEST_DIRNAME/py/crash_recv.py" "$A" 7000
	# and one whose fd stays in an epoll set: the fd's new file must join the set again
	start_bg erecv "$PY" -c "
import select, socket, sys
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], int(sys.argv[2])))
s.setblocking(False)
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLIN)
print('ready', flush=True)
got = 0
while got < 2:
    if not ep.poll(30):
        sys.exit('no event in 30 s')
    try:
        data, _ = s.recvfrom(100)
    except BlockingIOError:
        continue
    print('recv', data.decode(), flush=True)
    got += 1" "$A" 7010
	wait_for_line recv '^ready'
	wait_for_line erecv '^ready'
	run send_one "$B" 7100 "$A" 7000 before
	assert_success
	run send_one "$B" 7100 "$A" 7010 before
	assert_success
	wait_for_line recv '^got before' 10
	wait_for_line erecv '^recv before' 10
	before=$(sed -n 's/^got before //p' "$(log_of recv)")
	crash_daemon "$A"
	sleep 0.5
	run send_one "$B" 7101 "$A" 7000 after
	assert_success
	run send_one "$B" 7101 "$A" 7010 after
	assert_success
	wait_for_line recv '^got after' 10
	wait_for_line erecv '^recv after' 10
	assert_exits_ok erecv 10
	after=$(sed -n 's/^got after //p' "$(log_of recv)")
	echo "# before: $before" >&3
	echo "# after:  $after" >&3
	assert_equal "$after" "$before"
}

@test "a socket whose port another process took while the daemon was down: its calls fail with EADDRINUSE, its fd polls hung up, it never hangs; a new socket works" {
	local A=$NET.28 B=$NET.29 old go="$BATS_TEST_TMPDIR/go"
	start_bg victim "$PY" -c "
import errno, os, select, socket, sys, time
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], 7200))
s.sendto(b'x', (sys.argv[1], 7200))
s.recvfrom(10)
print('ready', flush=True)
for i in range(300):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
for call in ('sendto', 'recvfrom'):
    try:
        s.sendto(b'y', (sys.argv[1], 7200)) if call == 'sendto' else s.recvfrom(10)
        print(call, 'ok')
    except OSError as e:
        print(call, 'errno', e.errno, flush=True)
p = select.poll()
p.register(s.fileno(), select.POLLIN)
print('poll', p.poll(1000), flush=True)
s.close()
t = socket.socket(21, socket.SOCK_SEQPACKET, 0)
t.bind((sys.argv[1], 7201))
t.sendto(b'z', (sys.argv[1], 7201))
t.settimeout(5)
print('new socket', t.recvfrom(10)[0].decode(), flush=True)" "$A" "$go"
	wait_for_line victim '^ready'
	old=$(daemon_pids "$(instance_of_addr "$A")" | head -n 1)
	kill_host "$A"
	# another process of host A starts the new daemon and takes the port first
	start_bg thief "$PY" -c "
import socket, sys, time
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], 7200))
print('bound', flush=True)
time.sleep(20)" "$A"
	wait_for_line thief '^bound'
	touch "$go"
	wait_for_line victim '^new socket z' 10
	run cat "$(log_of victim)"
	assert_line "sendto errno 98"
	assert_line "recvfrom errno 98"
	assert_line --regexp "^poll \[\([0-9]+, (17|25)\)\]$"
	assert_exits_ok victim 10
}
