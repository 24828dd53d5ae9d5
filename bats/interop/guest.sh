#!/bin/bash
# SPDX-License-Identifier: MIT
#
# guest.sh RUNDIR [LIFETIME_S]: the interop suite's agent inside the kvm-rds guest.
#
# Runs the jobs that the host-side suite (interop.bats) drops into RUNDIR/req as NAME.sh,
# each in the background with bash, output to RUNDIR/out/NAME.out, its PID in
# RUNDIR/out/NAME.pid and, when it ends, its exit status in RUNDIR/out/NAME.rc. A job that
# is one long-running program should `exec` it, so that the PID is the program's.
# RUNDIR/stop (or LIFETIME_S, default 500) ends the agent: it stops the jobs still running
# (TERM, then KILL), by PID, and writes RUNDIR/done.
#
# RUNDIR is a directory of the host shared into the guest (kvm-rds run --share).

set -u
dir=${1:?usage: guest.sh RUNDIR [LIFETIME_S]}
life=${2:-500}
mkdir -p "$dir/req" "$dir/out"
declare -A pid_of=()

say() { echo "interop-guest: $*"; }

# Runs one job: the exit status goes to .rc through a temporary file (the host polls .rc).
launch() {
	local name=$1
	(
		bash "$dir/req/$name.sh" >"$dir/out/$name.out" 2>&1 </dev/null
		echo $? >"$dir/out/$name.rc.tmp"
		mv "$dir/out/$name.rc.tmp" "$dir/out/$name.rc"
	) &
	pid_of[$name]=$!
}

# The job's own PID (the bash running NAME.sh, or what it exec'd) is the child of the
# subshell launched above.
record_pid() {
	local name=$1 kid
	[[ -e $dir/out/$name.pid || -e $dir/out/$name.rc ]] && return
	kid=$(ps -o pid= --ppid "${pid_of[$name]}" 2>/dev/null | head -n1 | tr -d ' ')
	[[ -n $kid ]] && echo "$kid" >"$dir/out/$name.pid"
}

# Sends a signal to pid and its descendants.
kill_tree() {
	local pid=$1 sig=$2 kid
	for kid in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		kill_tree "$kid" "$sig"
	done
	kill -s "$sig" "$pid" 2>/dev/null
}

sysctl -qw net.core.wmem_max=8388608 net.core.rmem_max=8388608 2>/dev/null
{
	echo "kernel $(uname -r)"
	echo "wmem_max $(cat /proc/sys/net/core/wmem_max) rmem_max $(cat /proc/sys/net/core/rmem_max)"
} >"$dir/ready.tmp"
mv "$dir/ready.tmp" "$dir/ready"
say "ready in $dir (kernel $(uname -r))"

end=$((SECONDS + life))
while ((SECONDS < end)) && [[ ! -e $dir/stop ]]; do
	for f in "$dir"/req/*.sh; do
		[[ -e $f ]] || continue
		name=${f##*/}
		name=${name%.sh}
		[[ -n ${pid_of[$name]:-} ]] && continue
		launch "$name"
	done
	for name in "${!pid_of[@]}"; do
		record_pid "$name"
	done
	sleep 0.1
done

[[ -e $dir/stop ]] || say "lifetime of ${life}s over"
for name in "${!pid_of[@]}"; do
	[[ -e $dir/out/$name.rc ]] && continue
	say "stopping job $name"
	kill_tree "${pid_of[$name]}" TERM
done
for _ in $(seq 20); do
	jobs -r | grep -q . || break
	sleep 0.1
done
for name in "${!pid_of[@]}"; do
	[[ -e $dir/out/$name.rc ]] || kill_tree "${pid_of[$name]}" KILL
done
wait
echo done >"$dir/done"
say "done"
