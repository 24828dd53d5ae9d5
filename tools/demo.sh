#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make demo: two unmodified programs talk RDS through libmprds.so over 8 TCP paths.
#
#   127.0.0.2  build/progs/rds_multi   a C program written against <linux/rds.h>
#   127.0.0.3  tools/demo_peer.py      the system python3, socket.AF_RDS
#
# Part one runs both under build/mprds-run with MPRDS_LOG=info and the in-process engine
# (MPRDS_ENGINE=process: each process is a host of its own, and logs itself). Each opens 16
# RDS sockets bound to ports 5000..5015; socket i of each side sends COUNT messages to socket
# i of the other and checks what it receives (source, order, content). While both are alive
# the demo shows the TCP connections on port 16385 between the two addresses (ss); then it stops them (SIGTERM)
# and shows what the library printed at exit (per-path counters) and a summary.
# Then the same two addresses as two hosts of host-wide RDS (the default engine): on each, two
# processes share the address, served by that host's mprdsd, all four over one set of 8 TCP
# paths.
# Last, both hosts' daemons are replaced by a new binary (mprdsd --upgrade) under a running
# stream: the same TCP connections before and after, every message once and in order.
# Finishes by itself in well under 60 s; stops only the processes it started, by PID.
set -euo pipefail

PROGRAM=${0##*/}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${MPRDS_BUILD:-$ROOT/build}
RUN=$BUILD/mprds-run
C_PROG=$BUILD/progs/rds_multi
PY=/usr/bin/python3 # the unmodified system interpreter, not a pyenv shim
PY_PEER=$ROOT/tools/demo_peer.py
C_ADDR=127.0.0.2
PY_ADDR=127.0.0.3
BASE=5000
NSOCK=16
COUNT=${DEMO_COUNT:-200}
TCP_PORT=${MPRDS_TCP_PORT:-16385}
WANT_PATHS=${MPRDS_NPATHS:-8}

die() {
	echo "$PROGRAM: $*" >&2
	exit 1
}

for f in "$RUN" "$BUILD/libmprds.so" "$C_PROG" "$PY" "$PY_PEER"; do
	[[ -e $f ]] || die "missing $f (run make first)"
done
command -v ss >/dev/null || die "ss not found (Debian package iproute2)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mprds-demo.XXXXXX")
PIDS=()

# Signals a process and its descendants (in case the wrapper did not exec), by PID.
kill_tree() {
	local pid=$1 sig=$2 kid
	for kid in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		kill_tree "$kid" "$sig"
	done
	kill -s "$sig" "$pid" 2>/dev/null || true
}

alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# stop PID: SIGTERM, up to 5 s, then SIGKILL; sets STOP_RC to the exit status.
stop() {
	local pid=$1 i rc=0
	alive "$pid" && kill_tree "$pid" TERM
	for ((i = 0; i < 50; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "  (pid $pid ignored SIGTERM for 5 s: SIGKILL)" >&2
		kill_tree "$pid" KILL
	fi
	wait "$pid" 2>/dev/null || rc=$?
	STOP_RC=$rc
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		if alive "$pid"; then stop "$pid"; fi
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

section() { printf '\n=== %s ===\n' "$*"; }

# wait_line FILE REGEX TIMEOUT_S PID: until FILE has a line matching REGEX (bounded).
wait_line() {
	local file=$1 re=$2 t=$3 pid=$4 i
	for ((i = 0; i < t * 10; i++)); do
		grep -qE -- "$re" "$file" 2>/dev/null && return 0
		if ! alive "$pid"; then
			grep -qE -- "$re" "$file" 2>/dev/null && return 0
			break
		fi
		sleep 0.1
	done
	echo "$PROGRAM: no line /$re/ in ${file##*/} within ${t}s; its output:" >&2
	tail -n 40 "$file" >&2
	for f in "$TMP"/*.err; do
		echo "--- ${f##*/}" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

# The established connections on the RDS/TCP port between the two addresses, each once
# (the end whose peer is the listening port).
paths() {
	ss -Htn state established "( sport = :$TCP_PORT or dport = :$TCP_PORT )" |
		awk -v a="$C_ADDR" -v b="$PY_ADDR" -v p="$TCP_PORT" '
		{
			l = $3; r = $4
			li = l; sub(/:[0-9]+$/, "", li)
			ri = r; sub(/:[0-9]+$/, "", ri); rp = r; sub(/.*:/, "", rp)
			if (((li == a && ri == b) || (li == b && ri == a)) && rp == p && !seen[l " " r]++)
				print
		}'
}

indent() { sed "s/^/  $1 /"; }

# Part one: the in-process engine, one process per host.
export MPRDS_ENGINE=process
section "python3 on $PY_ADDR: $NSOCK RDS sockets, ports $BASE..$((BASE + NSOCK - 1)), waits for its peer"
echo "\$ MPRDS_ENGINE=process MPRDS_LOG=info mprds-run $PY tools/demo_peer.py -W -n $NSOCK -c $COUNT $PY_ADDR $BASE $C_ADDR $BASE"
MPRDS_LOG=info "$RUN" "$PY" "$PY_PEER" -m both -W -n "$NSOCK" -c "$COUNT" -H 25 -t 20 \
	"$PY_ADDR" "$BASE" "$C_ADDR" "$BASE" </dev/null >"$TMP/py.out" 2>"$TMP/py.err" &
PY_PID=$!
PIDS+=("$PY_PID")
wait_line "$TMP/py.out" '^ready' 10 "$PY_PID"
indent '[py]' <"$TMP/py.out"

section "C program on $C_ADDR: $NSOCK RDS sockets, sends first"
echo "\$ MPRDS_ENGINE=process MPRDS_LOG=info mprds-run build/progs/rds_multi -n $NSOCK -c $COUNT $C_ADDR $BASE $PY_ADDR $BASE"
MPRDS_LOG=info "$RUN" "$C_PROG" -m both -n "$NSOCK" -c "$COUNT" -H 25 -t 20 \
	"$C_ADDR" "$BASE" "$PY_ADDR" "$BASE" </dev/null >"$TMP/c.out" 2>"$TMP/c.err" &
C_PID=$!
PIDS+=("$C_PID")
wait_line "$TMP/c.out" '^done' 20 "$C_PID"
wait_line "$TMP/py.out" '^done' 20 "$PY_PID"
indent '[c] ' <"$TMP/c.out"

section "mprds log so far: the handshake (MPRDS_LOG=info, stderr)"
C_ERR_SEEN=$(wc -c <"$TMP/c.err")
PY_ERR_SEEN=$(wc -c <"$TMP/py.err")
head -n 40 "$TMP/c.err" | indent "[c]  $C_ADDR"
head -n 40 "$TMP/py.err" | indent "[py] $PY_ADDR"
[[ -s $TMP/c.err || -s $TMP/py.err ]] || echo "  (the library printed nothing yet)"

section "TCP connections on port $TCP_PORT between $C_ADDR and $PY_ADDR (ss -tn), both still running"
# Paths come up right after the handshake; give the last ones a bounded moment.
for ((i = 0; i < 50; i++)); do
	[[ $(paths | wc -l) -ge $WANT_PATHS ]] && break
	sleep 0.1
done
echo "  \$ ss -tn state established '( sport = :$TCP_PORT or dport = :$TCP_PORT )'"
printf '  %-7s %-7s %-22s %s\n' Recv-Q Send-Q "Local Address:Port" "Peer Address:Port"
paths | awk '{ printf "  %-7s %-7s %-22s %s\n", $1, $2, $3, $4 }'
NPATHS_SEEN=$(paths | wc -l)
echo "  -> $NPATHS_SEEN connections"

section "stopping both (SIGTERM); the library prints per-path counters at exit"
kill_tree "$C_PID" TERM
kill_tree "$PY_PID" TERM
stop "$C_PID"
C_RC=$STOP_RC
stop "$PY_PID"
PY_RC=$STOP_RC
echo "  C program exit status $C_RC, python3 exit status $PY_RC"
tail -c +"$((C_ERR_SEEN + 1))" "$TMP/c.err" | indent "[c]  $C_ADDR"
tail -c +"$((PY_ERR_SEEN + 1))" "$TMP/py.err" | indent "[py] $PY_ADDR"
if ! grep -qiE 'path' "$TMP/c.err" "$TMP/py.err"; then
	echo "  (no per-path lines from the library in this build; the programs' own totals follow)"
fi
{ grep -E '^(total|error)' "$TMP/c.out" || true; } | indent "[c] "
{ grep -E '^(total|error)' "$TMP/py.out" || true; } | indent '[py]'

section "summary"
c_total=$(grep -E '^total ' "$TMP/c.out" || echo "total: none")
py_total=$(grep -E '^total ' "$TMP/py.out" || echo "total: none")
want_total="total sockets=$NSOCK sent=$((NSOCK * COUNT)) recv=$((NSOCK * COUNT)) errors=0"
ok=1
printf '  %-34s %s\n' "C program ($C_ADDR):" "$c_total"
printf '  %-34s %s\n' "python3 ($PY_ADDR):" "$py_total"
printf '  %-34s %s (want %s)\n' "TCP connections on port $TCP_PORT:" "$NPATHS_SEEN" "$WANT_PATHS"
[[ $c_total == "$want_total" && $C_RC == 0 ]] || ok=0
[[ $py_total == "$want_total" && $PY_RC == 0 ]] || ok=0
[[ $NPATHS_SEEN == "$WANT_PATHS" ]] || ok=0
if ((ok)); then
	echo "  OK: $((2 * NSOCK * COUNT)) RDS messages, in order and intact, over $NPATHS_SEEN TCP paths"
else
	echo "  FAILED (see above)"
	exit 1
fi

# Part two: host-wide RDS, the default. Each address is a host whose mprdsd serves all its
# processes (an instance per host, as two machines would have one each).
HW_BASE=6000
HALF=$((NSOCK / 2))
unset MPRDS_ENGINE
export MPRDS_IDLE_EXIT=3 MPRDS_DAEMON_LOG="$TMP/mprdsd.log"
INST_C="demo$$c" INST_PY="demo$$py"

# hw_start NAME INSTANCE PROG ADDR BASE PEER [-W]: one process of a host, HALF sockets from
# BASE (-W: it waits for its peer's first message before it sends).
hw_start() {
	local name=$1 inst=$2 prog=$3 addr=$4 base=$5 peer=$6 wait=${7:-}
	MPRDS_INSTANCE=$inst "$RUN" $prog -m both $wait -n "$HALF" -c "$COUNT" -H 25 -t 20 \
		"$addr" "$base" "$peer" "$base" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	PIDS+=("$!")
	eval "${name}_PID=$!"
}

section "host-wide: 2 python3 processes share $PY_ADDR, 2 C programs share $C_ADDR (mprdsd, MPRDS_INSTANCE per host)"
echo "  each process: $HALF sockets; one mprdsd per address serves both of its processes"
hw_start hwpy1 "$INST_PY" "$PY $PY_PEER" "$PY_ADDR" "$HW_BASE" "$C_ADDR" -W
hw_start hwpy2 "$INST_PY" "$PY $PY_PEER" "$PY_ADDR" "$((HW_BASE + HALF))" "$C_ADDR" -W
wait_line "$TMP/hwpy1.out" '^ready' 10 "$hwpy1_PID"
wait_line "$TMP/hwpy2.out" '^ready' 10 "$hwpy2_PID"
hw_start hwc1 "$INST_C" "$C_PROG" "$C_ADDR" "$HW_BASE" "$PY_ADDR"
hw_start hwc2 "$INST_C" "$C_PROG" "$C_ADDR" "$((HW_BASE + HALF))" "$PY_ADDR"
for n in hwc1 hwc2 hwpy1 hwpy2; do
	pid_var=${n}_PID
	wait_line "$TMP/$n.out" '^done' 20 "${!pid_var}"
done
for ((i = 0; i < 50; i++)); do
	[[ $(paths | wc -l) -ge $WANT_PATHS ]] && break
	sleep 0.1
done
HW_PATHS=$(paths | wc -l)
echo "  \$ ps -C mprdsd -o pid,args"
ps -C mprdsd -o pid=,args= | grep -E "demo$$(c|py)" | indent ''
for n in hwc1 hwc2 hwpy1 hwpy2; do
	pid_var=${n}_PID
	stop "${!pid_var}"
	printf '  %-6s %s (exit %s)\n' "$n" "$(grep -E '^total ' "$TMP/$n.out" || echo 'total: none')" "$STOP_RC"
	grep -qx "total sockets=$HALF sent=$((HALF * COUNT)) recv=$((HALF * COUNT)) errors=0" \
		"$TMP/$n.out" && ((STOP_RC == 0)) || ok=0
done
printf '  %-34s %s (want %s, for all four processes)\n' "TCP connections on port $TCP_PORT:" \
	"$HW_PATHS" "$WANT_PATHS"
[[ $HW_PATHS == "$WANT_PATHS" ]] || ok=0
if ((ok)); then
	echo "  OK: 4 processes on 2 addresses, $((2 * NSOCK * COUNT)) messages over one set of $HW_PATHS TCP paths"
else
	echo "  FAILED (see above)"
	exit 1
fi

# Part three: the host's daemon replaced by a new binary under a running stream
# (mprdsd --upgrade): it takes the TCP paths, sockets and clients; nothing is lost or reset.
SEQ=$BUILD/progs/rds_seqcheck
UP_BASE=7000
UP_COUNT=40000
section "mprdsd --upgrade of both hosts while $C_ADDR streams $UP_COUNT messages to $PY_ADDR over $NSOCK sockets"
MPRDS_INSTANCE=$INST_PY "$RUN" "$SEQ" recv -n "$NSOCK" -c "$UP_COUNT" -t 30 \
	"$PY_ADDR" "$UP_BASE" "$C_ADDR" "$UP_BASE" </dev/null >"$TMP/uprecv.out" 2>&1 &
UPRECV_PID=$!
PIDS+=("$UPRECV_PID")
wait_line "$TMP/uprecv.out" '^ready' 10 "$UPRECV_PID"
MPRDS_INSTANCE=$INST_C "$RUN" "$SEQ" send -n "$NSOCK" -c "$UP_COUNT" -r 10000 -t 30 \
	"$C_ADDR" "$UP_BASE" "$PY_ADDR" "$UP_BASE" </dev/null >"$TMP/upsend.out" 2>&1 &
UPSEND_PID=$!
PIDS+=("$UPSEND_PID")
wait_line "$TMP/uprecv.out" '^first' 10 "$UPRECV_PID"
sleep 1
paths | awk '{ print $3, $4 }' | sort >"$TMP/paths.before"
for inst in "$INST_C" "$INST_PY"; do
	echo "  \$ MPRDS_INSTANCE=$inst mprdsd --upgrade"
	MPRDS_INSTANCE=$inst timeout 20 "$BUILD/mprdsd" --upgrade 2>&1 | indent '' || ok=0
done
paths | awk '{ print $3, $4 }' | sort >"$TMP/paths.after"
stop_when_done() { # PID: waits (bounded) for it to end by itself
	local i
	for ((i = 0; i < 300; i++)); do
		alive "$1" || break
		sleep 0.1
	done
	stop "$1"
}
stop_when_done "$UPSEND_PID"
UPSEND_RC=$STOP_RC
stop_when_done "$UPRECV_PID"
UPRECV_RC=$STOP_RC
up_recv=$(grep -E '^recv total=' "$TMP/uprecv.out" || echo 'recv: none')
printf '  %-34s %s (exit %s)\n' "sender ($C_ADDR):" "$(grep -E '^sent total=' "$TMP/upsend.out" || echo 'sent: none')" "$UPSEND_RC"
printf '  %-34s %s (exit %s)\n' "receiver ($PY_ADDR):" "$up_recv" "$UPRECV_RC"
printf '  %-34s %s\n' "longest pause at the receiver:" "$(grep -oE 'max_gap_ms=[0-9.]+' "$TMP/uprecv.out" | cut -d= -f2) ms"
if cmp -s "$TMP/paths.before" "$TMP/paths.after"; then same=yes; else same=no; fi
printf '  %-34s %s (%s before, %s after)\n' "the same TCP connections:" "$same" \
	"$(wc -l <"$TMP/paths.before")" "$(wc -l <"$TMP/paths.after")"
[[ $up_recv == "recv total=$UP_COUNT dups=0 reorder=0 gaps=0 errors=0" ]] || ok=0
((UPSEND_RC == 0 && UPRECV_RC == 0)) || ok=0
[[ $same == yes && $(wc -l <"$TMP/paths.before") == "$WANT_PATHS" ]] || ok=0
if ((ok)); then
	echo "  OK: both daemons replaced by new processes; every message once and in order, no TCP path reset"
else
	echo "  FAILED (see above)"
	exit 1
fi
