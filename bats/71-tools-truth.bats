#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The tools tell the truth (issue 13): every tool answers --version (the Makefile's VERSION)
# and --help, a bad option is status 2 with the usage line; each exit status a man page
# documents is produced; a peer where nothing answers is said once (mprds-ping says why it
# got no reply); a bad MPRDS_* value is always said; a port held by a program that is not
# mprds is named as such. Addresses $NET.200 .. .209.

load helpers

bats_require_minimum_version 1.5.0

DAEMON="$MPRDS_BUILD/mprdsd"
VERSION=$(sed -n 's/^VERSION := //p' "$REPO_ROOT/Makefile")

setup() {
	mprds_setup
	need_tools
	[[ -x $DAEMON ]] || fail "missing $DAEMON"
	[[ -n $VERSION ]] || fail "no VERSION := line in the Makefile"
}
teardown() { mprds_teardown; }

# tool_path NAME: where the build put tool NAME.
tool_path() {
	case $1 in
	mprds-run) echo "$MPRDS_RUN" ;;
	mprdsd) echo "$DAEMON" ;;
	*) echo "$TOOLS/$1" ;;
	esac
}

ALL_TOOLS=(mprds-run mprdsd mprds-info mprds-ping mprds-stress)

@test "every tool: --version and -V print its name and the Makefile's VERSION on stdout, status 0" {
	local t opt
	for t in "${ALL_TOOLS[@]}"; do
		for opt in --version -V; do
			run --separate-stderr timeout 20 "$(tool_path "$t")" "$opt"
			assert_success
			assert_output "$t $VERSION"
			[[ -z $stderr ]] || fail "$t $opt wrote to stderr: $stderr"
		done
	done
}

@test "every tool: --help and -h print the usage on stdout, status 0" {
	local t opt
	for t in "${ALL_TOOLS[@]}"; do
		for opt in --help -h; do
			run --separate-stderr timeout 20 "$(tool_path "$t")" "$opt"
			assert_success
			assert_line --index 0 --regexp "^Usage: $t "
			assert_output --partial -- "--version"
			[[ -z $stderr ]] || fail "$t $opt wrote to stderr: $stderr"
		done
	done
}

# assert_usage_error TOOL ARGS...: status 2, nothing on stdout, the usage line on stderr.
assert_usage_error() {
	local t=$1
	shift
	run --separate-stderr timeout 20 "$(tool_path "$t")" "$@"
	[[ $status == 2 ]] || fail "$t $*: status $status, want 2 (stderr: $stderr)"
	[[ -z $output ]] || fail "$t $*: wrote to stdout: $output"
	grep -q "^Usage: $t " <<<"$stderr" || fail "$t $*: no usage line on stderr: $stderr"
}

@test "every tool: an unknown option or a bad value is status 2 with the usage line on stderr" {
	local t
	for t in "${ALL_TOOLS[@]}"; do
		assert_usage_error "$t" --no-such-option
	done
	assert_usage_error mprds-run
	assert_usage_error mprds-run -n 9 /bin/true
	assert_usage_error mprds-run -n
	assert_usage_error mprdsd --idle-exit -1
	assert_usage_error mprdsd --idle-exit soon
	assert_usage_error mprdsd extra
	assert_usage_error mprdsd --allow 10.0.0.0/33
	assert_usage_error mprds-info -p x
	assert_usage_error mprds-info extra
	assert_usage_error mprds-ping
	assert_usage_error mprds-ping -c x "$NET.200"
	assert_usage_error mprds-ping -i -1 "$NET.200"
	assert_usage_error mprds-ping -Q 256 "$NET.200"
	assert_usage_error mprds-ping "$NET.200" "$NET.201"
	assert_usage_error mprds-stress -t 0
	assert_usage_error mprds-stress -q 1
	assert_usage_error mprds-stress extra
}

@test "mprds-run: the program's status, 127 not found, 126 not executable, 1 no library (mprds-run.1)" {
	run timeout 20 "$MPRDS_RUN" /bin/sh -c 'exit 5'
	assert_failure 5
	run -127 timeout 20 "$MPRDS_RUN" no-such-program-mprds
	assert_output "mprds-run: no-such-program-mprds: command not found"
	run -127 timeout 20 "$MPRDS_RUN" "$BATS_TEST_TMPDIR/missing/program"
	printf 'not a program\n' >"$BATS_TEST_TMPDIR/plain"
	run timeout 20 "$MPRDS_RUN" "$BATS_TEST_TMPDIR/plain"
	assert_failure 126
	assert_output --partial "cannot execute"
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$MPRDS_RUN" "$BATS_TEST_TMPDIR/bin/"
	run timeout 20 "$BATS_TEST_TMPDIR/bin/mprds-run" /bin/true
	assert_failure 1
	assert_output --partial "cannot find $BATS_TEST_TMPDIR/bin/libmprds.so"
}

@test "mprdsd: 0 after its idle time, 1 when --ensure finds no daemon, 2 on a bad name (mprdsd.8)" {
	local inst="$RUN_TAG-idle" squat="$RUN_TAG-squat" sq
	TEST_INSTANCES[$inst]=1
	TEST_INSTANCES[$squat]=1
	export MPRDS_DAEMON_LOG="$LOGDIR/mprdsd-own.log"
	run timeout 20 "$DAEMON" --instance "$inst" --idle-exit 0.3
	assert_success
	run timeout 20 "$DAEMON" --instance 'bad/name'
	assert_failure 2
	assert_output --partial -- "--instance bad/name: instance names are"
	run timeout 20 env MPRDS_INSTANCE='bad name' "$DAEMON"
	assert_failure 2
	assert_output --partial "MPRDS_INSTANCE=bad name: instance names are"
	# the instance's name is taken by a socket that never answers: no daemon can serve it
	"$PY" -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0mprdsd.%d.%s" % (os.stat("/proc/self/ns/net").st_ino, sys.argv[1]))
print("ready", flush=True)
time.sleep(30)' "$squat" >"$LOGDIR/squat.log" 2>&1 3>&- &
	sq=$!
	BG_PIDS+=("$sq")
	BG_PID_OF[squat]=$sq
	wait_for_line squat '^ready'
	run timeout 20 "$DAEMON" --ensure --instance "$squat"
	assert_failure 1
	assert_output --partial "no daemon for instance $squat"
}

@test "mprds-info: 0 for a process, 1 for a pid without mprds or no RDS at all (mprds-info.1)" {
	need_progs rds_multi
	start_bg holder "$PROGS/rds_multi" -m recv -n 1 -c 0 -H 30 "$NET.208" 4000 "$NET.209" 4000
	wait_for_line holder '^ready'
	run timeout 30 "$TOOLS/mprds-info" -k -p "$(host_pid holder)"
	assert_success
	assert_line --regexp "^ +$NET.208 +4000 "
	run timeout 30 "$TOOLS/mprds-info" -p 1
	assert_failure 1
	assert_output --partial "process 1 does not use mprds"
	assert_stops_ok holder
	[[ $(id -u) == 0 ]] || skip "an empty network namespace needs root"
	! "$PY" -c 'import socket; socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET)' \
		2>/dev/null || skip "this kernel has RDS"
	run timeout 30 unshare -n "$TOOLS/mprds-info"
	assert_failure 1
	assert_output --partial "no process on this host uses mprds, and socket(AF_RDS) failed"
}

@test "mprds-stress: 1 when the test cannot start (mprds-stress.1)" {
	# nothing listens for the options on $NET.207:4000
	run shimt 30 "$TOOLS/mprds-stress" -r "$NET.206" -s "$NET.207" -T 1
	assert_failure 1
	assert_output --partial "connect to $NET.207:4000"
}

# engine_text ADDR: what the engine serving ADDR's host logged: its daemon's log (host-wide),
# or the output of the last `run` (in-process: the engine logs to the program's stderr).
engine_text() {
	if host_wide; then
		cat "$LOGDIR/mprdsd-$1.log" 2>/dev/null || true
	else
		echo "$output"
	fi
}

# assert_said_once TEXT REGEX: exactly one line of TEXT matches REGEX.
assert_said_once() {
	local n
	n=$(grep -cE -- "$2" <<<"$1" || true)
	[[ $n == 1 ]] || fail "want 1 line /$2/, found $n in:"$'\n'"$1"
}

@test "mprds-ping: no reply says why, status 1; the engine says once that nothing answers" {
	# the smaller address connects, the larger pokes (wire.md §1): both say it once
	run shimt 30 "$TOOLS/mprds-ping" -c 4 -i 0.25 -I "$NET.200" "$NET.201"
	assert_failure 1
	assert_line "mprds-ping: no reply from $NET.201: nothing answered at its RDS/TCP port (no RDS there?)"
	refute_output --regexp 'usec'
	assert_said_once "$(engine_text "$NET.200")" \
		"warn: no RDS at $NET.201:$RDS_TCP_PORT \(from $NET.200\): connection refused; retrying$"
	run shimt 30 "$TOOLS/mprds-ping" -c 4 -i 0.25 -I "$NET.203" "$NET.202"
	assert_failure 1
	assert_line "mprds-ping: no reply from $NET.202: nothing answered at its RDS/TCP port (no RDS there?)"
	assert_said_once "$(engine_text "$NET.203")" \
		"warn: no RDS at $NET.202:$RDS_TCP_PORT \(from $NET.203\): connection refused; retrying$"
	# and 1 on an error: no RDS socket without mprds (on a kernel without RDS)
	! "$PY" -c 'import socket; socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET)' \
		2>/dev/null || skip "this kernel has RDS"
	run timeout 20 "$TOOLS/mprds-ping" -c 1 -I "$NET.200" "$NET.201"
	assert_failure 1
	assert_output --partial "socket(AF_RDS)"
}

@test "a peer that comes later: one warn line for many refused connects, one info line when it answers" {
	need_progs rds_multi
	start_bg ping MPRDS_LOG=debug "$TOOLS/mprds-ping" -i 0.2 -I "$NET.204" "$NET.205"
	wait_for_engine_line ping "warn: no RDS at $NET.205:$RDS_TCP_PORT \(from $NET.204\): connection refused; retrying$"
	sleep 1.5 # the backoff retries meanwhile, up to once a second
	start_bg peer "$PROGS/rds_multi" -m recv -n 1 -c 0 -H 30 "$NET.205" 4000 "$NET.204" 4000
	wait_for_line peer '^ready'
	wait_for_engine_line ping "info: RDS at $NET.205:$RDS_TCP_PORT answers$"
	wait_for_line ping '^ +[0-9]+: [0-9]+ usec$'
	assert_stops_ok ping
	local log n
	log=$(cat "$(engine_log ping)")
	n=$(grep -cE "$NET.204->$NET.205 path 0: cannot connect: Connection refused|$NET.204->$NET.205 path 0: down: Connection refused" <<<"$log" || true)
	((n >= 3)) || fail "want 3 or more refused connects, found $n"
	assert_said_once "$log" "warn: no RDS at $NET.205"
	assert_said_once "$log" "info: RDS at $NET.205:$RDS_TCP_PORT answers$"
	assert_stops_ok peer
}

# A program that makes an RDS socket and binds it to ADDR:4000; prints "bound" or the errno.
BIND_PROG='
import socket, sys
try:
    s = socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET)
    s.bind((sys.argv[1], 4000))
    print("bound")
except OSError as e:
    print("errno", e.errno)'

@test "a bad MPRDS_* value: one warn line naming it, its value and what is used instead" {
	local rows=(
		# variable|value|where (stderr, or daemon: only mprdsd reads it)|what is said
		"MPRDS_LOG|verbose|stderr|MPRDS_LOG=verbose is not error, warn, info or debug: using warn"
		"MPRDS_NPATHS|9|stderr|MPRDS_NPATHS=9 is not in 1\.\.8; using 8"
		"MPRDS_NPATHS|two|stderr|MPRDS_NPATHS=two is not in 1\.\.8; using 8"
		"MPRDS_TCP_PORT|0|stderr|MPRDS_TCP_PORT=0 is not in 1\.\.65535; using 16385"
		"MPRDS_TCP_PORT|70000|stderr|MPRDS_TCP_PORT=70000 is not in 1\.\.65535; using 16385"
		"MPRDS_LINGER_MS|abc|stderr|MPRDS_LINGER_MS=abc is not in 0\.\.3600000; using 2000"
		"MPRDS_ENGINE|kernel|stderr|MPRDS_ENGINE=kernel is neither daemon nor process: using daemon"
		"MPRDS_INSTANCE|no/such|stderr-daemon|MPRDS_INSTANCE=no/such is not 1 to 32 of \[A-Za-z0-9_.-\]: no daemon serves it; RDS sockets fail with EINVAL"
		"MPRDS_DAEMON|/nonexistent/mprdsd|stderr-daemon|MPRDS_DAEMON=/nonexistent/mprdsd is not a program that can be run \(No such file or directory\): using the default mprdsd"
		"MPRDS_DAEMON_LOG|/nonexistent/d.log|stderr-daemon|MPRDS_DAEMON_LOG=/nonexistent/d.log cannot be written \(No such file or directory\): mprdsd logs to $LOGDIR/mprdsd\.[0-9]+\.$RUN_TAG-v[0-9]+\.log"
		"MPRDS_IDLE_EXIT|-1|daemon|MPRDS_IDLE_EXIT=-1 is not a number of seconds, 0 or more: using 10"
		"MPRDS_CLIENT_SOCKETS|x|daemon|MPRDS_CLIENT_SOCKETS=x is not a count from 1 to 65536: using 4096"
		"MPRDS_CLIENT_MIB|0|daemon|MPRDS_CLIENT_MIB=0 is not a count from 1 to 65536: using 64"
		"MPRDS_ALLOW|10.0.0.0/33|stderr|MPRDS_ALLOW=10.0.0.0/33: '10.0.0.0/33' is not an address or network \(CIDR\): no peer may connect until it is fixed"
	)
	local i=0 row var value where said inst dlog text
	for row in "${rows[@]}"; do
		IFS='|' read -r var value where said <<<"$row"
		i=$((i + 1))
		if [[ $where != stderr ]] && ! host_wide; then
			continue # read by mprdsd or to find it: not used in-process
		fi
		# a daemon of its own for each row: it reads the environment when it starts
		inst="$RUN_TAG-v$i"
		dlog="$LOGDIR/mprdsd-v$i.log"
		TEST_INSTANCES[$inst]=1
		run timeout 30 env MPRDS_INSTANCE="$inst" MPRDS_DAEMON_LOG="$dlog" \
			XDG_RUNTIME_DIR="$LOGDIR" "$var=$value" "$MPRDS_RUN" "$PY" -c "$BIND_PROG" "$NET.206"
		if [[ $var == MPRDS_INSTANCE ]]; then
			assert_line "errno 22"
		else
			assert_line "bound"
		fi
		if [[ $where == daemon ]]; then
			text=$(cat "$dlog" 2>/dev/null || true)
		else
			text=$output
		fi
		assert_said_once "$text" "warn: $said$"
		stop_instance "$inst" # the next row's daemon listens on the same address
	done
	((i == ${#rows[@]}))
}

@test "EADDRINUSE on the RDS/TCP port: a program that is not mprds is named, and MPRDS_TCP_PORT" {
	start_bg squat "$PY" -c '
import signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
print("ready", flush=True)
time.sleep(30)' "$NET.207" "$RDS_TCP_PORT"
	wait_for_line squat '^ready'
	local pid inst="$RUN_TAG-port"
	pid=$(pid_of squat)
	run shimt 30 "$PY" -c "$BIND_PROG" "$NET.207"
	assert_line "errno 98"
	assert_said_once "$(engine_text "$NET.207")" \
		"warn: $NET.207:$RDS_TCP_PORT, the RDS/TCP port, is held by process $pid \(python3\), which is not mprds: bind fails with EADDRINUSE; set MPRDS_TCP_PORT to run beside it$"
	# as it says: another port runs beside it (a daemon of its own: it reads the port at start)
	TEST_INSTANCES[$inst]=1
	run timeout 30 env MPRDS_INSTANCE="$inst" MPRDS_DAEMON_LOG="$LOGDIR/mprdsd-port.log" \
		MPRDS_TCP_PORT=$((RDS_TCP_PORT + 1)) "$MPRDS_RUN" "$PY" -c "$BIND_PROG" "$NET.207"
	assert_line "bound"
	assert_stops_ok squat
}

@test "EADDRINUSE on the RDS/TCP port held by another mprds engine says so" {
	need_progs rds_multi
	start_bg holder "$PROGS/rds_multi" -m recv -n 1 -c 0 -H 30 "$NET.209" 4000 "$NET.208" 4000
	wait_for_line holder '^ready'
	local pid inst="$RUN_TAG-other" text
	pid=$(host_pid holder)
	TEST_INSTANCES[$inst]=1
	# another engine (another instance; in-process, another process) for the same address
	run timeout 30 env MPRDS_INSTANCE="$inst" MPRDS_DAEMON_LOG="$LOGDIR/mprdsd-other.log" \
		"$MPRDS_RUN" "$PY" -c "$BIND_PROG" "$NET.209"
	assert_line "errno 98"
	if host_wide; then
		text=$(cat "$LOGDIR/mprdsd-other.log")
	else
		text=$output
	fi
	assert_said_once "$text" \
		"warn: $NET.209:$RDS_TCP_PORT is already served by process $pid \([^)]+\), another mprds engine \(one per local address\): bind fails with EADDRINUSE"
	assert_stops_ok holder
}
