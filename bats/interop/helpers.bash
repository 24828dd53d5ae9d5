# SPDX-License-Identifier: MIT
# Host-side helpers of the interop suite (interop.bats). The suite runs in the kvm-rds host
# netns (kvmrds) while the guest runs guest.sh on the shared directory INTEROP_DIR: a guest
# "job" is a bash script dropped into $INTEROP_DIR/req, run by the guest agent; its output,
# PID and exit status come back in $INTEROP_DIR/out. Every wait is bounded.
#
# Processes on our side run under mprds-run (start_bg and friends from ../helpers.bash);
# the same programs (build/progs) run in the guest with no preload, on the kernel's RDS.

load '../helpers'

: "${INTEROP_DIR:?INTEROP_DIR is not set: run the suite with bats/interop/run.sh (make interop)}"
G=$INTEROP_DIR
# Addresses (198.18.0.0/15 only): the guest's kernel, our smaller address, our larger ones.
K=${KVMRDS_GUEST_IP:-198.18.1.2}
S=${KVMRDS_HOST_IP:-198.18.1.1}
L=198.18.1.9
L1=198.18.1.10
# Host-wide mode: each of our addresses is a host of its own (an mprdsd instance), IPv6 too.
HOST_ADDR_RE='^(198\.1[89]\.[0-9]+\.[0-9]+|fe80:[0-9a-f:]*%[A-Za-z0-9_.-]+)'
GP=$PROGS # the same path in the guest (run.sh shares the run directory, which holds them)
# Guest job names: unique per bats run and test, so that a second run against the same guest
# never reads the output of an earlier one.
G_RUN=$(cksum <<<"${BATS_RUN_TMPDIR:-$PPID}" | cut -d' ' -f1)

# trace TEXT: a time-stamped line in $G/trace.log (what each test waited for, and how long).
trace() {
	printf '%s %s-%s %s\n' "$(date +%T.%3N)" "$G_RUN" "$BATS_TEST_NUMBER" "$*" >>"$G/trace.log"
}

interop_setup() {
	trace "setup: $BATS_TEST_DESCRIPTION"
	mprds_setup
	[[ -e $G/ready ]] || fail "the guest is not running (no $G/ready)"
	[[ -e $G/guest-gone ]] && fail "$(cat "$G/guest-gone") (console.log)"
	[[ -e $G/stop ]] && fail "the guest agent was stopped"
	G_JOBS=()
	# Our side's logs stay in the run directory (mprds_setup put them in a temporary one).
	LOGDIR=$G/host/$BATS_TEST_NUMBER
	rm -rf "$LOGDIR"
	mkdir -p "$LOGDIR"
}

interop_teardown() {
	local j stopped=()
	trace "teardown"
	for j in "${G_JOBS[@]}"; do
		[[ -e $G/out/$j.rc ]] || stopped+=("$j")
	done
	if ((${#stopped[@]})); then
		g_start_raw "$G_RUN-$BATS_TEST_NUMBER-zz-teardown" "$(for j in "${stopped[@]}"; do
			echo "[ -e $G/out/$j.pid ] && kill -TERM \$(cat $G/out/$j.pid) 2>/dev/null"
		done
		echo "sleep 2"
		for j in "${stopped[@]}"; do
			echo "[ -e $G/out/$j.rc ] || kill -KILL \$(cat $G/out/$j.pid) 2>/dev/null"
		done; echo true)"
		g_wait_raw "$G_RUN-$BATS_TEST_NUMBER-zz-teardown" 10 >/dev/null || true
		for j in "${stopped[@]}"; do
			g_wait_raw "$j" 5 >/dev/null || true
		done
	fi
	mprds_teardown
	for j in "${G_JOBS[@]}"; do
		echo "----- guest job $j (rc $(cat "$G/out/$j.rc" 2>/dev/null || echo -)) -----"
		tail -n 40 "$G/out/$j.out" 2>/dev/null
	done
}

g_start_raw() { # FULLNAME SCRIPT
	printf 'set -u\ncd %q || exit 99\n%s\n' "$G" "$2" >"$G/req/.$1.tmp"
	mv "$G/req/.$1.tmp" "$G/req/$1.sh"
}

# g_wait_raw FULLNAME TIMEOUT_S: waits for the job's exit status and returns it (124 after
# the time-out).
g_wait_raw() {
	local name=$1 t=$2 i
	for ((i = 0; i < t * 10; i++)); do
		if [[ -e $G/out/$name.rc ]]; then
			return "$(cat "$G/out/$name.rc")"
		fi
		[[ -e $G/guest-gone ]] && return 125
		sleep 0.1
	done
	return 124
}

# g_start NAME SCRIPT: runs SCRIPT (bash) in the guest, in the background. A job that is one
# long-running program should `exec` it.
g_start() {
	local name=$G_RUN-$BATS_TEST_NUMBER-$1
	G_JOBS+=("$name")
	trace "guest start $1: ${2:0:100}"
	g_start_raw "$name" "$2"
}

g_outfile() { echo "$G/out/$G_RUN-$BATS_TEST_NUMBER-$1.out"; }
g_out() { cat "$(g_outfile "$1")" 2>/dev/null; }

# g_wait NAME [TIMEOUT_S=30]: waits for guest job NAME to end and returns its status.
g_wait() {
	local rc=0
	g_wait_raw "$G_RUN-$BATS_TEST_NUMBER-$1" "${2:-30}" || rc=$?
	trace "guest end $1: status $rc"
	return "$rc"
}

# g_run NAME TIMEOUT_S SCRIPT: runs SCRIPT in the guest and waits; sets $output and $status
# like bats' run.
g_run() {
	g_start "$1" "$3"
	status=0
	g_wait "$1" "$2" || status=$?
	output=$(g_out "$1")
}

# g_assert_ok NAME [TIMEOUT_S]: guest job NAME ends with status 0.
g_assert_ok() {
	local rc=0
	g_wait "$1" "${2:-30}" || rc=$?
	((rc == 0)) || fail_with_logs "guest job $1 ended with status $rc (124: still running)"
}

# g_wait_line NAME REGEX [TIMEOUT_S=20]: until guest job NAME prints a line matching REGEX.
g_wait_line() {
	local name=$G_RUN-$BATS_TEST_NUMBER-$1 re=$2 t=${3:-20} i
	for ((i = 0; i < t * 10; i++)); do
		grep -aqE -- "$re" "$G/out/$name.out" 2>/dev/null && { trace "guest $1 printed /$re/"; return 0; }
		if [[ -e $G/out/$name.rc ]]; then
			grep -aqE -- "$re" "$G/out/$name.out" 2>/dev/null && return 0
			fail_with_logs "guest job $1 ended (status $(cat "$G/out/$name.rc")) without /$re/"
		fi
		[[ -e $G/guest-gone ]] && fail_with_logs "$(cat "$G/guest-gone")"
		sleep 0.1
	done
	fail_with_logs "guest job $1 did not print /$re/ within ${t}s"
}

# g_signal NAME SIG: sends SIG to guest job NAME (its PID, which is the program if it exec'd).
g_signal() {
	local name=$G_RUN-$BATS_TEST_NUMBER-$1 sig=$2 i
	for ((i = 0; i < 100; i++)); do
		[[ -s $G/out/$name.pid ]] && break
		sleep 0.1
	done
	[[ -s $G/out/$name.pid ]] || fail "guest job $1 has no PID"
	g_run "sig-$1-$sig-$RANDOM" 10 "kill -$sig $(cat "$G/out/$name.pid")"
}

# The guest's established RDS/TCP connections between the kernel's address ($K: a test over
# IPv6 sets a local K to the guest's link-local address) and ADDR, one a line: "local peer"
# (the v4-mapped form of accepted sockets, [::ffff:a.b.c.d], unwrapped; IPv6 addresses
# compared without brackets and %scope).
g_conns_script() {
	echo "ss -Htn state established '( sport = :16385 or dport = :16385 )' |
		sed 's/\\[::ffff:\\([0-9.]*\\)\\]/\\1/g' |
		awk -v k=$K -v a=$1 '{ l = \$3; r = \$4; sub(/:[0-9]+\$/, \"\", l); sub(/:[0-9]+\$/, \"\", r)
			gsub(/[][]/, \"\", l); gsub(/[][]/, \"\", r); sub(/%.*/, \"\", l); sub(/%.*/, \"\", r)
			if ((l == k && r == a) || (l == a && r == k)) print \$3, \$4 }'"
}

# g_wait_conns NAME ADDR WANT [TIMEOUT_S=15]: waits until the guest's ss shows WANT
# established connections with ADDR; then checks that it still does a second later. Sets
# $output to the lines and $status.
g_wait_conns() {
	local name=$1 addr=$2 want=$3 t=${4:-15}
	g_run "$name" $((t + 10)) "for i in \$(seq $((t * 5))); do
		n=\$($(g_conns_script "$addr") | wc -l)
		[ \"\$n\" = $want ] && break
		sleep 0.2
	done
	sleep 1
	$(g_conns_script "$addr") >/tmp/conns.\$\$
	n=\$(wc -l </tmp/conns.\$\$)
	cat /tmp/conns.\$\$
	echo \"count \$n\"
	[ \"\$n\" = $want ]"
}

# h_wait_line NAME REGEX [TIMEOUT_S]: wait_for_line (our side), traced.
h_wait_line() {
	wait_for_line "$@"
	trace "host $1 printed /$2/"
}

# h_start NAME ARGS...: start_bg (our side, under mprds-run), traced.
h_start() {
	trace "host start $*"
	start_bg "$@"
}

# need_2026: skips the test on a kernel without the 2026 RDS/TCP series (GEN_NUM and SPORT_IDX
# on the wire, lanes filed by source port, parking of surplus connections: 7.0+).
need_2026() {
	local major=${INTEROP_KERNEL%%.*}
	[[ $major =~ ^[0-9]+$ ]] || fail "INTEROP_KERNEL '$INTEROP_KERNEL' is not a kernel release"
	((major >= 7)) || skip "needs the 2026 RDS/TCP series (7.0+); $INTEROP_KERNEL is <= 6.19"
}

# need_lanes_by_port: skips a row that kills every path at once on a kernel <= 6.19. Such a
# kernel files each reconnected lane in its first free slot, whose receive sequence is another
# lane's: our retransmissions (flagged RDS_FLAG_RETRANSMITTED) then look old to it and are
# dropped, so in-flight messages can be lost (README: seen on 6.1 and 6.12). 7.0+ files a
# lane by its source port (SPORT_IDX) and runs the row.
need_lanes_by_port() {
	local major=${INTEROP_KERNEL%%.*}
	[[ $major =~ ^[0-9]+$ ]] || fail "INTEROP_KERNEL '$INTEROP_KERNEL' is not a kernel release"
	((major >= 7)) || skip "$INTEROP_KERNEL files reconnected lanes in the first free slot: with all 8 down at once in-flight retransmissions can be dropped as old (README)"
}

# h_lanes NAME [ADDR=$K]: our process NAME's established RDS/TCP connections with ADDR, one a
# line "INDEX PORT": the path index our log gave the socket (the last "path N: up (tcp fd F)"
# for its fd, which ss -p shows) and the client's source port (the end that is not 16385).
h_lanes() {
	local pid log
	pid=$(host_pid "$1")
	log=$(engine_log "$1")
	ss -Htnp state established '( sport = :16385 or dport = :16385 )' |
		awk -v pid="$pid" -v peer="${2:-$K}" -v logf="$log" '
		BEGIN {
			while ((getline line < logf) > 0)
				if (match(line, /->[^ ]* path [0-7]: up \(tcp fd [0-9]+\)/)) {
					s = substr(line, RSTART, RLENGTH)
					split(s, w, " ")
					a = substr(w[1], 3); i = w[3]; sub(/:/, "", i); f = w[7]; sub(/\)/, "", f)
					if (a == peer) idx[f] = i
				}
		}
		{
			l = $1; r = $2; p = $0
			if ($1 ~ /^[0-9]+$/) { l = $3; r = $4 }
			if (!match(p, "pid=" pid ",fd=[0-9]+")) next
			f = substr(p, RSTART, RLENGTH); sub(/.*fd=/, "", f)
			lp = l; sub(/.*:/, "", lp); rp = r; sub(/.*:/, "", rp)
			ra = r; sub(/:[0-9]+$/, "", ra); gsub(/[][]/, "", ra); sub(/^::ffff:/, "", ra)
			if (ra != peer) next
			print (f in idx ? idx[f] : "?"), (lp == 16385 ? rp : lp)
		}' | sort -n
}

# lanes_by_port LINES: LINES (h_lanes) are 8 paths, 0..7, each from a port = its index mod 8.
lanes_by_port() {
	local n
	n=$(awk 'NF == 2' <<<"$1" | wc -l)
	((n == 8)) || fail_with_logs "want 8 paths, ours are: $(tr '\n' ';' <<<"$1")"
	awk '$1 == "?" || $2 % 8 != $1 { bad = 1 } END { exit bad }' <<<"$1" ||
		fail_with_logs "a path's index is not its source port mod 8: $(tr '\n' ';' <<<"$1")"
	[[ $(awk '{ print $1 }' <<<"$1" | sort -u | wc -l) == 8 ]] ||
		fail_with_logs "two connections on one path: $(tr '\n' ';' <<<"$1")"
}

# lanes_groups LINES: prints which aligned groups of 8 (port / 8) the 8 source ports come
# from. A 7.3 kernel keeps one group counter per path (wire.md §1), so they may differ.
lanes_groups() {
	observe "source port groups (port / 8) by path: $(awk '{ printf "%s%d:%d", (NR > 1 ? " " : ""), $1, int($2 / 8) }' <<<"$1")"
}

# v6_setup: the link-local IPv6 addresses of this run (no scope): G6, the guest's eth0; S6 and
# L6, ours on the tap ($TAP6), smaller and larger than G6: the tap's own (EUI-64) address
# where it fits, else one that run.sh added (INTEROP_ADDRS6). Scopes: %$TAP6 on our side,
# %eth0 in the guest.
v6_setup() {
	local f=$G/guest-ll6 own
	TAP6=${INTEROP_TAP:-kvmrds0}
	if [[ ! -s $f ]]; then
		g_run ll6 20 "for i in \$(seq 50); do
			a=\$(ip -6 addr show dev eth0 scope link | awk '/inet6/ && !/tentative/ { sub(/\\/.*/, \"\", \$2); print \$2; exit }')
			[ -n \"\$a\" ] && break; sleep 0.2; done; echo \$a"
		[[ $output =~ ^fe80: ]] || fail "no link-local address on the guest's eth0: $output"
		echo "$output" >"$f"
	fi
	G6=$(cat "$f")
	own=$(ip -6 addr show dev "$TAP6" scope link | awk '/inet6/ && !/tentative/ { sub(/\/.*/, "", $2); print $2 }' |
		grep -vxF -e "${INTEROP_ADDRS6// /$'\n'}" | head -n1)
	read -r S6 L6 < <(/usr/bin/python3 -c '
import ipaddress, sys
g = ipaddress.IPv6Address(sys.argv[1])
c = [ipaddress.IPv6Address(a) for a in sys.argv[2:] if a]
s = [a for a in c if a < g]
l = [a for a in c if a > g]
print(s[0] if s else "-", l[0] if l else "-")' "$G6" "$own" ${INTEROP_ADDRS6:-})
	[[ $S6 != - && $L6 != - ]] || fail "no link-local address of ours smaller and larger than $G6 on $TAP6 (own: $own)"
}

# v6_role smaller|larger: v6_setup, then O6 (our address for the role) and, with scopes, OS
# (ours, here), KS (the kernel's, from here), GK (the kernel's, in the guest), GO (ours,
# from the guest).
v6_role() {
	v6_setup
	case $1 in
	smaller) O6=$S6 ;;
	larger) O6=$L6 ;;
	*) fail "v6_role: $1" ;;
	esac
	OS="$O6%$TAP6" KS="$G6%$TAP6" GK="$G6%eth0" GO="$O6%eth0"
	trace "IPv6 $1: ours $OS, the kernel's $GK"
	observe "IPv6 $1: mprds $OS, the kernel $GK"
}

# observe TEXT...: for the record (a passing test's output is not kept): appends the lines to
# $G/observed.txt under the test's name, and prints them.
observe() {
	{
		echo "[$BATS_TEST_NUMBER] $BATS_TEST_DESCRIPTION"
		printf '%s\n' "$@" | sed 's/^/    /'
	} >>"$G/observed.txt"
	printf '%s\n' "$@"
}
