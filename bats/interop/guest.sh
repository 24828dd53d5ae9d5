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
# (TERM, then KILL), by PID, and writes RUNDIR/done. With INTEROP_CAPTURE=1 it also
# captures every RDS/TCP packet's headers for the whole run into RUNDIR/all.pcap (the first
# INTEROP_SNAPLEN bytes of each, default 200; 0: whole packets).
#
# RUNDIR is a directory of the host shared into the guest (kvm-rds run --share).

set -u
dir=${1:?usage: guest.sh RUNDIR [LIFETIME_S]}
life=${2:-500}
mkdir -p "$dir/req" "$dir/out"
declare -A pid_of=() running=()

say() { echo "interop-guest: $*"; }

# Starts one job; its PID (the bash running NAME.sh, or what that exec'd) goes to .pid.
launch() {
	local name=$1
	bash "$dir/req/$name.sh" >"$dir/out/$name.out" 2>&1 </dev/null &
	pid_of[$name]=$!
	running[$name]=$!
	echo "$!" >"$dir/out/$name.pid"
}

# Collects the jobs that ended: exit status to .rc (through a temporary file: the host
# polls .rc). A child that ended is a zombie until waited for (no fork, no ps: the agent must
# stay light, everything is slow under emulation).
reap() {
	local name pid st rc
	for name in "${!running[@]}"; do
		pid=${running[$name]}
		st=Z
		[[ -r /proc/$pid/stat ]] && read -r _ _ st _ <"/proc/$pid/stat" 2>/dev/null
		[[ $st == Z ]] || continue
		rc=0
		wait "$pid" || rc=$?
		echo "$rc" >"$dir/out/$name.rc.tmp"
		mv "$dir/out/$name.rc.tmp" "$dir/out/$name.rc"
		unset "running[$name]"
	done
}

# Sends a signal to pid and its descendants.
kill_tree() {
	local pid=$1 sig=$2 kid
	for kid in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		kill_tree "$kid" "$sig"
	done
	kill -s "$sig" "$pid" 2>/dev/null
}

cap_pid=
if [[ ${INTEROP_CAPTURE:-0} == 1 ]] && command -v tcpdump >/dev/null; then
	tcpdump -i eth0 -n -U -Z root -s "${INTEROP_SNAPLEN:-200}" -w /tmp/all.pcap 'tcp port 16385' >/tmp/all.log 2>&1 &
	cap_pid=$!
fi
# Keep the kernel's packet-timestamp static key (netstamp_needed_key) on for the whole run:
# a test that turns timestamps on (rds_api_table's SO_TIMESTAMP rows) would otherwise patch
# netif_rx_internal's code while the other vCPU runs it, and under QEMU's multi-threaded TCG
# that once ended in "Oops: int3" at netif_rx_internal and a panic (7.3.4, during the
# socket API table row).
ts_pid=
if command -v python3 >/dev/null; then
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_TIMESTAMP, 1)
time.sleep(float(sys.argv[1]))' "$((life + 60))" >/dev/null 2>&1 &
	ts_pid=$!
fi
sysctl -qw net.core.wmem_max=8388608 net.core.rmem_max=8388608 2>/dev/null
# What the jobs write to the shared directory must reach the host at once: newer kernels'
# 9p (netfs, 6.x) keep written pages in the guest's cache until writeback.
sysctl -qw vm.dirty_writeback_centisecs=10 vm.dirty_expire_centisecs=10 2>/dev/null
{
	echo "kernel $(uname -r)"
	echo "wmem_max $(cat /proc/sys/net/core/wmem_max) rmem_max $(cat /proc/sys/net/core/rmem_max)"
} >"$dir/ready.tmp"
mv "$dir/ready.tmp" "$dir/ready"
say "ready in $dir (kernel $(uname -r))"

# nap: sleeps 0.1 s without a fork (read on a FIFO nobody writes).
mkfifo /tmp/interop-agent.fifo 2>/dev/null
exec 9<>/tmp/interop-agent.fifo
nap() { read -r -t 0.1 -u 9 _; }

shopt -s nullglob
end=$((SECONDS + life))
while ((SECONDS < end)) && [[ ! -e $dir/stop ]]; do
	for f in "$dir"/req/*.sh; do
		name=${f##*/}
		name=${name%.sh}
		[[ -n ${pid_of[$name]:-} ]] && continue
		launch "$name"
	done
	reap
	nap
done

[[ -e $dir/stop ]] || say "lifetime of ${life}s over"
reap
for name in "${!running[@]}"; do
	say "stopping job $name"
	kill_tree "${running[$name]}" TERM
done
for _ in $(seq 20); do
	reap
	((${#running[@]})) || break
	nap
done
for name in "${!running[@]}"; do
	kill_tree "${running[$name]}" KILL
done
reap
if [[ -n $cap_pid ]]; then
	kill -INT "$cap_pid" 2>/dev/null
	wait "$cap_pid"
	cp /tmp/all.pcap "$dir/all.pcap"
fi
[[ -n $ts_pid ]] && kill "$ts_pid" 2>/dev/null
wait
echo "done" >"$dir/done"
say "done"
