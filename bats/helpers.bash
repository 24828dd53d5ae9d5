# SPDX-License-Identifier: MIT
# Common set-up for the mprds bats tests: real processes under mprds-run on loopback
# addresses, every wait bounded, every started process stopped by its PID.
#
# Addresses: each test host has a local address of its own, $NET.N below (in host-wide mode,
# the default, an mprdsd instance named after it; in-process, one process). NET is 127.X.0
# with X (1..250) drawn from this bats run, so that two runs of the suite at once on one
# machine (two developers' `make check`) almost never share an address; `make demo` uses
# 127.0.0.2/.3. MPRDS_TEST_NET=127.0.0 (say) fixes it.
#   00-wrapper     127.0.0.30 (TCP/UDP only)
#   10-python-c    $NET.10 .. $NET.17
#   20-multipath   $NET.40 .. $NET.51
#   30-readiness   $NET.60 .. $NET.67
#   40-nonblock    $NET.70 .. $NET.79
#   50-api         $NET.80 .. $NET.89
#   50-daemon-crash $NET.24 .. $NET.29
#   60-faults      $NET.90 .. $NET.99
#   46-startup     $NET.190 .. $NET.193
#   47-daemon      $NET.196
#   71-tools-truth $NET.200 .. $NET.209
#   90-deb         $NET.230 .. $NET.231
#   61-hostile     $NET.120 .. $NET.181
#   62-netns       none: 198.18.1X.0/24 inside namespaces of its own

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
: "${MPRDS_BUILD:=$REPO_ROOT/build}"
export MPRDS_BUILD
MPRDS_RUN="$MPRDS_BUILD/mprds-run"
PROGS="$MPRDS_BUILD/progs"
TOOLS="$MPRDS_BUILD/tools"
PYDIR="$BATS_TEST_DIRNAME/py"
# The unmodified system interpreter: `python3` on PATH may be a pyenv shim script.
PY=/usr/bin/python3
# RDS/TCP port of the engines (MPRDS_TCP_PORT is not changed by these tests).
RDS_TCP_PORT=16385
export PYTHONDONTWRITEBYTECODE=1
if [[ -z ${MPRDS_TEST_NET:-} ]]; then
	MPRDS_TEST_NET="127.$(($(cksum <<<"${BATS_RUN_TMPDIR:-$PPID}" | cut -d' ' -f1) % 250 + 1)).0"
fi
NET=$MPRDS_TEST_NET

# Host-wide mode (MPRDS_ENGINE=daemon, the default): one machine is several RDS hosts as one
# mprdsd instance per loopback address (MPRDS_INSTANCE), named here by this run and the
# address, each logging to mprdsd-ADDR.log among the test's logs. The in-process engine
# (MPRDS_ENGINE=process) needs none of it: each process is its own host.
RUN_TAG="t$(cksum <<<"${BATS_RUN_TMPDIR:-$PPID}" | cut -d' ' -f1)"
host_wide() { [[ ${MPRDS_ENGINE:-daemon} != process ]]; }
# The addresses that name a test host: loopback here; the interop suite adds its own.
HOST_ADDR_RE='^(127\.[0-9]+\.[0-9]+\.[0-9]+)'
# An instance name holds letters, digits, '_', '.', '-' and at most 32 of them.
instance_of_addr() {
	if [[ $1 =~ ^[0-9.]+$ ]]; then
		echo "$RUN_TAG-$1"
	else
		echo "$RUN_TAG-h$(cksum <<<"$1" | cut -d' ' -f1)"
	fi
}

# Call from setup(): checks the build and starts with no recorded process.
mprds_setup() {
	local f
	for f in "$MPRDS_BUILD/libmprds.so" "$MPRDS_RUN"; do
		[[ -e $f ]] || fail "missing $f (run make first; MPRDS_BUILD=$MPRDS_BUILD)"
	done
	[[ -x $MPRDS_RUN ]] || fail "$MPRDS_RUN is not executable"
	[[ -x $PY ]] || fail "missing $PY"
	mprds_state_init
}

# What teardown goes by (processes, hosts, instances), empty; for tests that need no build.
mprds_state_init() {
	BG_PIDS=()
	declare -gA BG_PID_OF=()
	declare -gA BG_DONE=()
	declare -gA BG_HOST_OF=()
	declare -gA TEST_INSTANCES=()
	LOGDIR="$BATS_TEST_TMPDIR"
	# a test's daemons go with their last client (teardown kills any left, by PID)
	export MPRDS_IDLE_EXIT=${MPRDS_IDLE_EXIT:-1}
}

# The first loopback address among the arguments (as "A", "A:port" or "A,..."): the host a
# test program plays, by the convention that a program names its own address first.
first_host_addr() {
	local a
	for a in "$@"; do
		if [[ $a =~ $HOST_ADDR_RE ]]; then
			echo "${BASH_REMATCH[1]}"
			return
		fi
	done
}

# host_env ARGS...: sets HOST_ENV to the variables that make a program with these arguments
# a process of its host: its instance and the instance's log. None when the instance is set
# already, in process mode, or when no loopback address is named.
host_env() {
	host_env_for "$(first_host_addr "$@")"
}

# host_env_for ADDR: HOST_ENV for a process of the host at ADDR.
host_env_for() {
	local addr=$1 inst
	HOST_ENV=()
	host_wide && [[ -z ${MPRDS_INSTANCE+x} ]] || return 0
	[[ -n $addr ]] || return 0
	inst=$(instance_of_addr "$addr")
	TEST_INSTANCES[$inst]=1
	HOST_ENV=("MPRDS_INSTANCE=$inst")
	[[ -n ${MPRDS_DAEMON_LOG:-} ]] || HOST_ENV+=("MPRDS_DAEMON_LOG=$LOGDIR/mprdsd-$addr.log")
}

# shim PROG ARGS...: runs PROG under mprds-run in the foreground as a process of its host.
shim() {
	host_env "$@"
	env "${HOST_ENV[@]}" "$MPRDS_RUN" "$@"
}

# shimt SECS PROG ARGS...: the same under timeout(1).
shimt() {
	local t=$1
	shift
	host_env "$@"
	timeout "$t" env "${HOST_ENV[@]}" "$MPRDS_RUN" "$@"
}

# engine_log NAME: where the engine's log lines for NAME's host go: its daemon's log in
# host-wide mode, NAME's own log in process mode.
engine_log() {
	local addr=${BG_HOST_OF[$1]:-}
	if host_wide && [[ -n $addr ]]; then
		echo "$LOGDIR/mprdsd-$addr.log"
	else
		log_of "$1"
	fi
}

# host_pid NAME: the process that holds NAME's host's engine: its daemon in host-wide mode
# (the first that answers its instance), NAME itself in process mode.
host_pid() {
	local addr=${BG_HOST_OF[$1]:-}
	if host_wide && [[ -n $addr ]]; then
		daemon_pids "$(instance_of_addr "$addr")" | head -n 1
	else
		pid_of "$1"
	fi
}

# wait_for_engine_line NAME REGEX [TIMEOUT_S=10]: wait_for_line in engine_log NAME.
wait_for_engine_line() {
	wait_for_line_in "$1" "$(engine_log "$1")" "${@:2}"
}

# daemon_pids INSTANCE: the pids of processes listening on INSTANCE's rendezvous name.
daemon_pids() {
	ss -xlpH | grep -F "@mprdsd." | grep -F ".$1 " | grep -o 'pid=[0-9]*' | cut -d= -f2 |
		sort -u
}

# stop_instance INSTANCE: its daemon stops (SIGTERM, by PID) and is gone, its listeners too.
stop_instance() {
	local pid i
	for pid in $(daemon_pids "$1"); do
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
}

# kill_host ADDR [SIGNAL=KILL]: the host at ADDR dies: its daemon (host-wide mode), by PID.
kill_host() {
	local pid
	host_wide || return 0
	for pid in $(daemon_pids "$(instance_of_addr "$1")"); do
		kill -s "${2:-KILL}" "$pid" 2>/dev/null || true
	done
}

# Checks that build/progs/NAME exists for each NAME.
need_progs() {
	local p
	for p in "$@"; do
		[[ -x $PROGS/$p ]] || fail "missing $PROGS/$p (built from bats/progs/$p.c)"
	done
}

# need_tools [NAME...]: checks that build/tools/NAME exists for each NAME; by default for each
# tool of tools/.
need_tools() {
	local t
	(($#)) || set -- mprds-ping mprds-info mprds-stress
	for t in "$@"; do
		[[ -x $TOOLS/$t ]] || fail "missing $TOOLS/$t (built from tools/$t.c)"
	done
}

log_of() { echo "$LOGDIR/$1.log"; }

# start_bg NAME [VAR=VALUE ...] PROG [ARGS...]
# Starts PROG under mprds-run in the background with the variables set, stdout and stderr to
# $(log_of NAME), and records its PID. fd 3 is closed so bats never waits on it. The host it
# plays is the first loopback address among ARGS, or AS_HOST=ADDR among the variables.
start_bg() {
	local name=$1 as_host=
	shift
	local -a envs=()
	while [[ $# -gt 0 && $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
		if [[ $1 == AS_HOST=* ]]; then
			as_host=${1#AS_HOST=}
		else
			envs+=("$1")
		fi
		shift
	done
	[[ -n $as_host ]] || as_host=$(first_host_addr "$@")
	[[ -z ${BG_PID_OF[$name]:-} ]] || fail "start_bg: $name already started"
	if [[ " ${envs[*]}" != *" MPRDS_INSTANCE="* ]]; then
		host_env_for "$as_host"
		envs+=("${HOST_ENV[@]}")
		BG_HOST_OF[$name]=$as_host
	fi
	env "${envs[@]}" "$MPRDS_RUN" "$@" </dev/null >"$(log_of "$name")" 2>&1 3>&- &
	BG_PIDS+=("$!")
	BG_PID_OF[$name]=$!
}

pid_of() { echo "${BG_PID_OF[$1]}"; }

# True while pid exists and is not a zombie.
# (ps, not /proc/PID/stat: the file can vanish between a test and a read, and a failed
# redirection inside a bats test function aborts the test.)
proc_alive() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $state && $state != Z* ]]
}

# Sends a signal to pid and to its descendants (in case mprds-run did not exec), by PID.
kill_tree() {
	local pid=$1 sig=${2:-TERM} kid
	for kid in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		kill_tree "$kid" "$sig"
	done
	kill -s "$sig" "$pid" 2>/dev/null || true
}

# Prints the tail of every log of this test (shown by bats when a test fails).
dump_logs() {
	local f
	for f in "$LOGDIR"/*.log; do
		[[ -e $f ]] || continue
		echo "----- ${f##*/} (last 60 lines) -----"
		tail -n 60 "$f"
	done
}

fail_with_logs() {
	dump_logs
	fail "$*"
}

# wait_for_line NAME REGEX [TIMEOUT_S=10]: until NAME's log has a line matching REGEX (ERE).
# Fails early if the process exits without printing it.
wait_for_line() {
	wait_for_line_in "$1" "$(log_of "$1")" "${@:2}"
}

# wait_for_line_in NAME LOG REGEX [TIMEOUT_S=10]: the same in LOG, while NAME runs.
wait_for_line_in() {
	local name=$1 log=$2 re=$3 t=${4:-10} pid i
	pid=$(pid_of "$name")
	for ((i = 0; i < t * 10; i++)); do
		grep -qE -- "$re" "$log" 2>/dev/null && return 0
		if ! proc_alive "$pid"; then
			grep -qE -- "$re" "$log" 2>/dev/null && return 0
			fail_with_logs "$name (pid $pid) exited without printing /$re/"
			return 1
		fi
		sleep 0.1
	done
	fail_with_logs "$name did not print /$re/ within ${t}s"
}

# wait_exit NAME [TIMEOUT_S=15]: waits (bounded) for NAME to end; returns its exit status,
# or kills it and returns 124 on timeout.
wait_exit() {
	local name=$1 t=${2:-15} pid i rc=0
	pid=$(pid_of "$name")
	[[ -n $pid ]] || fail "wait_exit: no process $name"
	for ((i = 0; i < t * 10; i++)); do
		proc_alive "$pid" || break
		sleep 0.1
	done
	if proc_alive "$pid"; then
		echo "# $name (pid $pid) still running after ${t}s: killing it"
		kill_tree "$pid" KILL
		wait "$pid" 2>/dev/null || true
		BG_DONE[$pid]=1
		return 124
	fi
	wait "$pid" || rc=$?
	BG_DONE[$pid]=1
	return "$rc"
}

# assert_exits_ok NAME [TIMEOUT_S]: NAME ends by itself with status 0.
assert_exits_ok() {
	local rc=0
	wait_exit "$@" || rc=$?
	((rc == 0)) || fail_with_logs "$1 exited with status $rc"
}

# stop_bg NAME [SIGNAL=TERM]: asks NAME to stop, waits (bounded); returns its exit status.
stop_bg() {
	local name=$1 sig=${2:-TERM} pid
	pid=$(pid_of "$name")
	proc_alive "$pid" && kill_tree "$pid" "$sig"
	wait_exit "$name" 10
}

# assert_stops_ok NAME: stopped with SIGTERM, NAME exits with status 0.
assert_stops_ok() {
	local rc=0
	stop_bg "$1" || rc=$?
	((rc == 0)) || fail_with_logs "$1 exited with status $rc after SIGTERM"
}

# Call from teardown(): stops every recorded process that is still there, by PID.
mprds_teardown() {
	local pid i inst
	for pid in "${BG_PIDS[@]}"; do
		[[ -n ${BG_DONE[$pid]:-} ]] && continue
		proc_alive "$pid" && kill_tree "$pid" TERM
	done
	for pid in "${BG_PIDS[@]}"; do
		[[ -n ${BG_DONE[$pid]:-} ]] && continue
		for ((i = 0; i < 50; i++)); do
			proc_alive "$pid" || break
			sleep 0.1
		done
		proc_alive "$pid" && kill_tree "$pid" KILL
		wait "$pid" 2>/dev/null || true
		BG_DONE[$pid]=1
	done
	for inst in "${!TEST_INSTANCES[@]}"; do
		for pid in $(daemon_pids "$inst"); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	dump_logs
}

# rds_tcp_lines A B: the established TCP sockets on the RDS/TCP port between addresses A and B.
rds_tcp_lines() {
	local a=$1 b=$2 p=${3:-$RDS_TCP_PORT}
	ss -Htn state established "( sport = :$p or dport = :$p )" |
		awk -v a="$a" -v b="$b" -v p="$p" '
		{
			l = $3; r = $4
			li = l; sub(/:[0-9]+$/, "", li); lp = l; sub(/.*:/, "", lp)
			ri = r; sub(/:[0-9]+$/, "", ri); rp = r; sub(/.*:/, "", rp)
			if (((li == a && ri == b) || (li == b && ri == a)) && (lp == p || rp == p))
				print
		}'
}

# count_rds_conns A B: number of established TCP connections between A and B with one end on
# the RDS/TCP port. On one host ss shows both ends of each connection: count each once.
count_rds_conns() {
	rds_tcp_lines "$@" | awk '{ k = ($3 < $4) ? $3 " " $4 : $4 " " $3; seen[k] = 1 }
		END { n = 0; for (k in seen) n++; print n }'
}

# wait_conns A B N [TIMEOUT_S=10]: waits (bounded) until exactly N connections are
# established between A and B; prints the final count either way.
wait_conns() {
	local a=$1 b=$2 want=$3 t=${4:-10} i n
	for ((i = 0; i < t * 10; i++)); do
		n=$(count_rds_conns "$a" "$b")
		[[ $n == "$want" ]] && break
		sleep 0.1
	done
	echo "$n"
}

# assert_conns A B N: exactly N established connections between A and B, also a moment later.
assert_conns() {
	local a=$1 b=$2 want=$3 n
	n=$(wait_conns "$a" "$b" "$want")
	if [[ $n != "$want" ]]; then
		echo "# ss between $a and $b:"
		rds_tcp_lines "$a" "$b"
		fail_with_logs "want $want TCP connections between $a and $b on port $RDS_TCP_PORT, found $n"
	fi
	sleep 0.5
	n=$(count_rds_conns "$a" "$b")
	if [[ $n != "$want" ]]; then
		rds_tcp_lines "$a" "$b"
		fail_with_logs "had $want TCP connections between $a and $b, then $n"
	fi
}

# make_ns_pair SUBNET: namespaces NS_A (SUBNET.1) and NS_B (SUBNET.2), recorded in NS_MADE for
# teardown, joined by a veth pair; sets A and B. Addresses in 198.18.0.0/15 only.
make_ns_pair() {
	local net=$1
	ip netns add "$NS_A" && NS_MADE+=("$NS_A")
	ip netns add "$NS_B" && NS_MADE+=("$NS_B")
	ip link add veth0 netns "$NS_A" type veth peer name veth0 netns "$NS_B"
	ip -n "$NS_A" addr add "$net.1/24" dev veth0
	ip -n "$NS_B" addr add "$net.2/24" dev veth0
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" link set veth0 up
	ip -n "$NS_B" link set veth0 up
	A=$net.1
	B=$net.2
}
