#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Host-wide RDS in the default instance (issue 12), in network namespaces that each test makes
# (names unique to the run, a veth pair, 198.18.30.0/24 .. 198.18.32.0/24 only): each
# namespace is a host whose mprdsd, as the kernel's RDS, listens on *:16385 and [::]:16385 and
# answers pings on every local address; and who may use whose daemon. Needs root; skipped
# without.

load helpers

setup() {
	mprds_setup
	need_progs rds_ping
	[[ $(id -u) -eq 0 ]] || skip "needs root for ip netns"
	NS_TAG="mprdshw-$$-$RANDOM"
	NS_A="$NS_TAG-a"
	NS_B="$NS_TAG-b"
	NS_MADE=()
	export MPRDS_ENGINE=daemon MPRDS_IDLE_EXIT=30 # teardown kills them by PID
	export MPRDS_DAEMON_LOG="$BATS_TEST_TMPDIR/mprdsd.log"
	unset MPRDS_INSTANCE
}

# ns_daemon_pids NS: the pids of the daemons of namespace NS (listening on their rendezvous).
ns_daemon_pids() {
	ip netns exec "$1" ss -xlpH | grep -F "@mprdsd." | grep -o 'pid=[0-9]*' | cut -d= -f2 |
		sort -u
}

teardown() {
	local ns pid
	mprds_teardown
	for ns in "${NS_MADE[@]}"; do
		for pid in $(ns_daemon_pids "$ns"); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
}

@test "default instance: the host's daemon listens on *:16385 and [::]:16385; rds-ping to an address nobody bound gets pongs" {
	make_ns_pair 198.18.30
	# host B: its daemon only, no RDS socket bound anywhere
	ip netns exec "$NS_B" "$MPRDS_BUILD/mprdsd" --ensure >/dev/null
	run ip netns exec "$NS_B" ss -tlnH "( sport = :$RDS_TCP_PORT )"
	assert_line --regexp '^LISTEN .* 0\.0\.0\.0:16385 '
	assert_line --regexp '^LISTEN .* \[::\]:16385 '
	assert_equal "$(echo "$output" | wc -l)" 2
	run ip netns exec "$NS_A" "$MPRDS_RUN" "$PROGS/rds_ping" -c 3 -t 10 "$A" 0 "$B"
	echo "$output"
	assert_success
	assert_line "3/3 pongs"
	assert_equal "$(ns_daemon_pids "$NS_A" | wc -l)" 1
	assert_equal "$(ns_daemon_pids "$NS_B" | wc -l)" 1
}

@test "users: root's daemon serves a non-root user; a non-root user with no daemon gets one of its own" {
	local pid uid
	make_ns_pair 198.18.31
	# host B: root's daemon, then a process of user nobody served by it
	ip netns exec "$NS_B" "$MPRDS_BUILD/mprdsd" --ensure >/dev/null
	run ip netns exec "$NS_B" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env MPRDS_DAEMON_LOG=/dev/null "$MPRDS_RUN" "$PY" -c "
import socket
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.settimeout(5)
s.bind(('$B', 5000))
s.sendto(b'served', ('$B', 5000))
print(s.recv(100).decode())"
	assert_success
	assert_output "served"
	pid=$(ns_daemon_pids "$NS_B")
	assert_equal "$(ps -o user= -p "$pid" | tr -d ' ')" root
	# host A: no daemon yet; user nobody's first socket starts one that runs as nobody
	run ip netns exec "$NS_A" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env MPRDS_DAEMON_LOG=/dev/null "$MPRDS_RUN" "$PROGS/rds_ping" -c 2 -t 10 "$A" 0 "$B"
	assert_success
	assert_line "2/2 pongs"
	pid=$(ns_daemon_pids "$NS_A")
	[[ -n $pid ]] || fail "no daemon in $NS_A"
	uid=$(ps -o uid= -p "$pid" | tr -d ' ')
	assert_equal "$uid" "$(id -u nobody)"
}

@test "allow-list: mprdsd --allow serves a peer inside it and refuses one outside at accept, with one log line" {
	local net=198.18.32 target
	make_ns_pair "$net"
	# host A: its own address .1 (allowed) and .3 (not); host B: .2 and .5, whose daemon
	# accepts only .1 (both of A's addresses are smaller than .5: they connect to it)
	ip -n "$NS_A" addr add "$net.3/24" dev veth0
	ip -n "$NS_B" addr add "$net.5/24" dev veth0
	target=$net.5
	ip netns exec "$NS_B" "$MPRDS_BUILD/mprdsd" --allow "$net.1/32,fe80::/10" --ensure >/dev/null
	run ip netns exec "$NS_A" "$MPRDS_RUN" "$PROGS/rds_ping" -c 3 -t 10 "$net.1" 0 "$target"
	echo "$output"
	assert_success
	assert_line "3/3 pongs"
	run ip netns exec "$NS_A" "$MPRDS_RUN" "$PROGS/rds_ping" -c 1 -t 3 "$net.3" 0 "$target"
	echo "$output"
	assert_failure
	assert_line --partial "no pong"
	# A's engine retried the refused connect several times in those 3 s: one line said so
	run grep -c "refused an RDS/TCP connection from $net.3: not in the allow-list" \
		"$MPRDS_DAEMON_LOG"
	assert_output 1
	! grep -q "refused an RDS/TCP connection from $net.1:" "$MPRDS_DAEMON_LOG" ||
		fail "the allowed peer was refused"
	# a list mprdsd cannot read: it does not start
	run ip netns exec "$NS_B" "$MPRDS_BUILD/mprdsd" --allow "$net.1/33" --instance x
	assert_failure 2
	assert_output --partial "'$net.1/33' is not an address or network (CIDR)"
}
