#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# mprdsd, the host-wide engine's process (first step of issue 12): found by its abstract
# rendezvous name, started by the first client that finds none, race-free, detached, gone
# after its idle time. Instances are named per test run; only the --system test sends RDS
# messages, on $NET.196.

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

@test "a process of another ordinary user that binds an instance's name first is not taken for its daemon" {
	local netns imp
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	[[ $(id -u) -eq 0 ]] || skip "needs root to act as another user"
	netns=$(stat -L -c %i /proc/self/ns/net)
	# the impostor answers every hello with a well-formed welcome, and would serve what comes
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" -c "
import socket, struct, sys, time
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(b'\\0mprdsd.%s.%s' % (sys.argv[1].encode(), sys.argv[2].encode()))
l.listen(8)
print('ready', flush=True)
l.settimeout(20)
while True:
    c, _ = l.accept()
    try:
        c.recv(8)
        c.sendall(struct.pack('<IIiIIQ', 0x6d707264, 2, 1, 1, 1, 7))
    except OSError:
        pass
" "$netns" "$INST" >"$BATS_TEST_TMPDIR/impostor.log" 2>&1 &
	imp=$!
	DAEMON_PIDS=("$imp")
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$BATS_TEST_TMPDIR/impostor.log" && break
		sleep 0.1
	done
	run env MPRDS_INSTANCE="$INST" timeout 20 "$MPRDS_RUN" "$PY" -c "
import socket
try:
    socket.socket(21, socket.SOCK_SEQPACKET, 0)
    print('served by the impostor')
except OSError as e:
    print('refused:', e.strerror)
"
	assert_line "refused: Permission denied"
	assert_line --partial "answers as uid $(id -u nobody)"
	assert_line --partial "is it an impostor?"
	run "$DAEMON" --upgrade --instance "$INST"
	assert_failure 1
	assert_output --partial "Permission denied"
}

@test "mprdsd --system as its own user serves every user; an RDS fd passed between processes attaches without /proc" {
	local pid i addr=$NET.196
	id nobody >/dev/null 2>&1 && id daemon >/dev/null 2>&1 || skip "no users nobody and daemon"
	[[ $(id -u) -eq 0 ]] || skip "needs root to act as other users"
	# as mprdsd.service runs it: a user of its own (a uid of systemd's DynamicUser range, which
	# clients trust: rendezvous.c), no capability, never idle
	setpriv --reuid=61234 --regid=61234 --clear-groups --inh-caps=-all --bounding-set=-all \
		env MPRDS_LOG=info "$DAEMON" --system --instance "$INST" --idle-exit 0 \
		</dev/null 2>"$MPRDS_DAEMON_LOG" 3>&- &
	DAEMON_PIDS=($!)
	for ((i = 0; i < 50; i++)); do
		[[ -n $(daemon_pids "$INST") ]] && break
		sleep 0.1
	done
	assert_equal "$(daemon_pids "$INST")" "${DAEMON_PIDS[0]}"
	assert_equal "$(ps -o uid= -p "${DAEMON_PIDS[0]}" | tr -d ' ')" 61234
	# root's processes: an fd given to an unrelated process (whose /proc nobody may not read)
	start_bg give MPRDS_INSTANCE="$INST" "$PY" "$PYDIR/pass_rds_fd.py" give \
		"$BATS_TEST_TMPDIR/pass.sock" "$addr" 6700
	wait_for_line give '^ready'
	run timeout 20 env MPRDS_INSTANCE="$INST" "$MPRDS_RUN" "$PY" "$PYDIR/pass_rds_fd.py" take \
		"$BATS_TEST_TMPDIR/pass.sock" "$addr" 6700
	assert_success
	assert_line "got through a passed fd from $addr 6700"
	assert_exits_ok give 10
	# another user's process, on the same daemon
	run timeout 20 setpriv --reuid=daemon --regid=daemon --clear-groups \
		env MPRDS_INSTANCE="$INST" "$MPRDS_RUN" "$PY" -c "
import socket
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.settimeout(5)
s.bind(('$addr', 6800))
s.sendto(b'from user daemon', ('$addr', 6800))
print(s.recvfrom(100)[0].decode())"
	assert_success
	assert_output "from user daemon"
	assert_equal "$(daemon_pids "$INST")" "${DAEMON_PIDS[0]}"
	# a second --system daemon for a served instance fails, so that systemd says so
	run timeout 10 "$DAEMON" --system --instance "$INST"
	assert_failure 1
	assert_output --partial "served by another mprdsd already"
}

@test "instance names are checked; --help and --version answer" {
	run "$DAEMON" --instance 'bad/name'
	assert_failure 2
	run "$DAEMON" --help
	assert_success
	assert_output --partial "--instance NAME"
	assert_output --partial "--system"
	run "$DAEMON" --version
	assert_success
	assert_output "mprdsd $(make -s -C "$REPO_ROOT" --no-print-directory version)"
	run "$MPRDS_RUN" --version
	assert_success
	assert_output "mprds-run $(make -s -C "$REPO_ROOT" --no-print-directory version)"
}

@test "make install puts mprdsd and its systemd unit in place; systemd-analyze verifies it and rates its sandbox 1.5 or better" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	local stage="$BATS_TEST_TMPDIR/stage" level
	run make -C "$REPO_ROOT" --no-print-directory install BUILD="$MPRDS_BUILD" PREFIX=/usr \
		DESTDIR="$stage"
	assert_success
	[[ -x $stage/usr/bin/mprdsd ]] || fail "mprdsd not installed"
	# the man pages name where things went
	grep -q '^\.I /usr/lib/mprds/libmprds\.so$' "$stage/usr/share/man/man7/mprds.7" ||
		fail "mprds.7 does not name /usr/lib/mprds/libmprds.so"
	[[ -f $stage/usr/share/man/man8/mprdsd.8 ]] || fail "mprdsd.8 not installed"
	run grep -l '@[A-Z]*@' "$stage"/usr/share/man/man*/* "$stage/usr/bin/mprds-run"
	assert_failure
	assert_equal "$(grep '^ExecStart=' "$stage/usr/lib/systemd/system/mprdsd.service")" \
		"ExecStart=/usr/bin/mprdsd --system --idle-exit 0"
	# verify resolves ExecStart on this machine: the same unit, pointed at the build tree
	sed "s|^ExecStart=/usr/bin/|ExecStart=$MPRDS_BUILD/|" \
		"$stage/usr/lib/systemd/system/mprdsd.service" >"$BATS_TEST_TMPDIR/mprdsd.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/mprdsd.service"
	assert_success
	refute_output --partial "mprdsd.service"
	# the sandbox, by systemd's measure (0 best, 10 worst; 9.6 before it had one)
	run systemd-analyze security --offline=true "$BATS_TEST_TMPDIR/mprdsd.service"
	if [[ $status -eq 0 ]]; then
		level=$(grep -o 'exposure level for [^:]*: [0-9.]*' <<<"$output" | awk '{ print $NF }')
		awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 1.5) }' ||
			fail "exposure level '$level', more than 1.5: $output"
	else
		echo "# systemd-analyze security --offline: not supported here" >&3
	fi
}
