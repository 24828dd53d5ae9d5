#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# mprdsd, the host-wide engine's process (first step of issue 12): found by its abstract
# rendezvous name, started by the first client that finds none, race-free, detached, gone
# after its idle time. Instances are named per test run; no RDS traffic is sent.

load helpers

setup() {
	mprds_setup
	DAEMON="$MPRDS_BUILD/mprdsd"
	[[ -x $DAEMON ]] || fail "missing $DAEMON"
	INST="bats$$x$BATS_TEST_NUMBER"
	export MPRDS_DAEMON_LOG="$BATS_TEST_TMPDIR/mprdsd.log"
	DAEMON_PIDS=()
}

teardown() {
	local pid
	for pid in "${DAEMON_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	mprds_teardown
	[[ -f $MPRDS_DAEMON_LOG ]] && sed 's/^/# daemon: /' "$MPRDS_DAEMON_LOG" >&3 || true
}

# daemon_pids INSTANCE: the pids of processes listening on INSTANCE's rendezvous name.
daemon_pids() {
	ss -xlpH | grep -F "@mprdsd." | grep -F ".$1 " | grep -o 'pid=[0-9]*' | cut -d= -f2 |
		sort -u
}

@test "16 clients at once that find no daemon start exactly one, and all are served by it" {
	local i pids
	for i in $(seq 1 16); do
		MPRDS_IDLE_EXIT=30 "$DAEMON" --ensure --instance "$INST" >"$BATS_TEST_TMPDIR/ens.$i" \
			2>&1 &
	done
	wait
	run bash -c "cat '$BATS_TEST_TMPDIR'/ens.* | awk '{ print \$1, \$2 }' | sort | uniq -c"
	assert_success
	assert_output --regexp '^ +16 pid [0-9]+$'
	pids=$(daemon_pids "$INST")
	DAEMON_PIDS=($pids)
	assert_equal "${#DAEMON_PIDS[@]}" 1
	assert_equal "pid ${DAEMON_PIDS[0]}" "$(awk '{ print $1, $2 }' "$BATS_TEST_TMPDIR/ens.1")"
	# a later client finds the same one
	run "$DAEMON" --ensure --instance "$INST"
	assert_success
	assert_output --regexp "^pid ${DAEMON_PIDS[0]} "
}

@test "the daemon is detached: own session, no preload, no inherited fd, no client's pipe held" {
	local pid fds
	# run captures stdout and stderr through pipes: a daemon holding them would hang this run
	# (under SAN=1 the sanitizer runtime must come first, as mprds-run puts it)
	run env LD_PRELOAD="${MPRDS_SAN_PRELOAD:+$MPRDS_SAN_PRELOAD }$MPRDS_BUILD/libmprds.so" \
		MPRDS_IDLE_EXIT=30 \
		"$DAEMON" --ensure --instance "$INST" 7<"$BATS_TEST_FILENAME"
	assert_success
	pid=$(daemon_pids "$INST")
	DAEMON_PIDS=($pid)
	[[ -n $pid ]] || fail "no daemon"
	# a session of its own (whose leader has exited: the daemon can never get a terminal)
	[[ $(ps -o sid= -p "$pid" | tr -d ' ') != $(ps -o sid= -p $$ | tr -d ' ') ]] ||
		fail "the daemon is in the client's session"
	run grep -c LD_PRELOAD "/proc/$pid/environ"
	assert_output 0
	# fd 7 was open in the client: not in the daemon
	[[ ! -e /proc/$pid/fd/7 ]] || [[ $(readlink "/proc/$pid/fd/7") != "$BATS_TEST_FILENAME" ]] ||
		fail "fd 7 inherited"
	for fds in 0 1; do
		assert_equal "$(readlink "/proc/$pid/fd/$fds")" /dev/null
	done
	assert_equal "$(readlink "/proc/$pid/fd/2")" "$MPRDS_DAEMON_LOG"
}

@test "an idle daemon exits after MPRDS_IDLE_EXIT; a client keeps it" {
	local pid i
	MPRDS_LOG=info MPRDS_IDLE_EXIT=1 "$DAEMON" --ensure --instance "$INST" >/dev/null
	pid=$(daemon_pids "$INST")
	DAEMON_PIDS=($pid)
	[[ -n $pid ]] || fail "no daemon"
	# a client that stays connected for 2.5 s keeps it past its idle time
	"$PY" - "$INST" <<'EOF' &
import os, socket, struct, sys, time
name = "\0mprdsd.%d.%s" % (os.stat("/proc/self/ns/net").st_ino, sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(name)
s.send(struct.pack("=II", 0x6d707264, 2))
assert len(s.recv(64)) == 28
time.sleep(2.5)
EOF
	local client=$!
	sleep 2
	proc_alive "$pid" || fail "the daemon left while a client was connected"
	wait "$client"
	for ((i = 0; i < 50; i++)); do
		proc_alive "$pid" || break
		sleep 0.1
	done
	proc_alive "$pid" && fail "still running 5 s after its last client left"
	run grep -c "idle: exiting" "$MPRDS_DAEMON_LOG"
	assert_output 1
}

@test "a daemon started by a user does not serve another user's processes" {
	local pid
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	[[ $(id -u) -eq 0 ]] || skip "needs root to act as another user"
	rm -f "$MPRDS_DAEMON_LOG"
	MPRDS_IDLE_EXIT=30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env MPRDS_DAEMON_LOG=/dev/null "$DAEMON" --ensure --instance "$INST" >/dev/null
	pid=$(daemon_pids "$INST")
	DAEMON_PIDS=($pid)
	[[ -n $pid ]] || fail "no daemon"
	assert_equal "$(ps -o user= -p "$pid" | tr -d ' ')" nobody
	run "$DAEMON" --ensure --instance "$INST"
	assert_failure
	assert_output --partial "no daemon for instance $INST"
}

@test "instance names are checked; --help and --version answer" {
	run "$DAEMON" --instance 'bad/name'
	assert_failure 2
	run "$DAEMON" --help
	assert_success
	assert_output --partial "--instance NAME"
	run "$DAEMON" --version
	assert_success
	assert_output "mprdsd $(make -s -C "$REPO_ROOT" --no-print-directory version)"
	run "$MPRDS_RUN" --version
	assert_success
	assert_output "mprds-run $(make -s -C "$REPO_ROOT" --no-print-directory version)"
}

@test "make install puts mprdsd and its systemd unit in place; systemd-analyze verify passes" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	local stage="$BATS_TEST_TMPDIR/stage"
	run make -C "$REPO_ROOT" --no-print-directory install BUILD="$MPRDS_BUILD" PREFIX=/usr \
		DESTDIR="$stage"
	assert_success
	[[ -x $stage/usr/bin/mprdsd ]] || fail "mprdsd not installed"
	assert_equal "$(grep '^ExecStart=' "$stage/usr/lib/systemd/system/mprdsd.service")" \
		"ExecStart=/usr/bin/mprdsd --idle-exit 0"
	# verify resolves ExecStart on this machine: the same unit, pointed at the build tree
	sed "s|^ExecStart=/usr/bin/|ExecStart=$MPRDS_BUILD/|" \
		"$stage/usr/lib/systemd/system/mprdsd.service" >"$BATS_TEST_TMPDIR/mprdsd.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/mprdsd.service"
	assert_success
	refute_output --partial "mprdsd.service"
}
