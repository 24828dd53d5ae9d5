#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
#
# Interop with the Linux kernel's rds_tcp: mprds on the host (netns kvmrds, 198.18.1.1 =
# smaller than the guest, 198.18.1.9/.10 = larger) and the kernel's RDS in the kvm-rds guest
# (198.18.1.2). Run by bats/interop/run.sh (make interop), which boots the guest with
# bats/interop/guest.sh and runs this file in the host netns while the guest is up; the
# tests share the guest and its kernel's connection state, in this order. Each test's name is
# one row of the matrix in bats/interop/RESULTS.md.
#
# The programs are the plain <linux/rds.h> programs of bats/progs, unchanged on both sides:
# in the guest with no preload, here under mprds-run.

load helpers

SIZES="0 1 8192 65536 1048576"

setup() {
	interop_setup
	need_progs rds_echo rds_send_check rds_multi rds_ping rds_congest rds_rounds rds_stream
}

teardown() {
	interop_teardown
}

# --- the handshake on the wire ----------------------------------------------------------

@test "handshake capture (tcpdump in the guest) matches wire.md §15: our probe, the kernel's pong, our data header" {
	command -v tcpdump >/dev/null || fail "tcpdump is not installed on the host (the guest uses the host's /usr)"
	local pcap=$G/handshake.pcap
	rm -f "$pcap"
	g_start tcpdump "exec tcpdump -i eth0 -n -U -Z root -s 0 -w $pcap 'tcp port 16385 and host $S'"
	g_wait_line tcpdump 'listening on' 20
	g_start echo "exec $GP/rds_echo $K 4001 1 30"
	g_wait_line echo '^ready' 10
	h_start send "$PROGS/rds_send_check" -t 20 "$S" 5001 "$K" 4001 5
	assert_exits_ok send 30
	g_assert_ok echo 10
	sleep 1
	g_signal tcpdump INT
	g_wait tcpdump 10 || true
	[[ -s $pcap ]] || fail_with_logs "no capture in $pcap"
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/decode_handshake.py" --ours "$S" --kernel "$K" \
		--sport 5001 --dport 4001 --len 5 "$pcap"
	echo "$output" | tee "$G/handshake.txt"
	assert_success
}

# --- mprds is the smaller address (it opens every path) ---------------------------------

@test "smaller: mprds pings the kernel (zero-length to port 0), gets pongs" {
	h_start ping "$PROGS/rds_ping" -c 3 -t 15 "$S" 0 "$K"
	assert_exits_ok ping 30
	grep -q '^3/3 pongs' "$(log_of ping)" || fail_with_logs "not 3/3 pongs"
}

@test "smaller: the kernel pings mprds (rds-ping style), gets pongs" {
	# Any bound socket makes our engine listen; rds_rounds also stops at once on SIGTERM.
	h_start server "$PROGS/rds_rounds" -H 60 "$S" 4002 "$K" 4002
	h_wait_line server '^ready'
	g_run ping 30 "exec $GP/rds_ping -c 3 -t 15 $K 0 $S"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_ping: status $status"
	[[ $output == *"3/3 pongs"* ]] || fail_with_logs "not 3/3 pongs"
}

@test "smaller: data mprds -> kernel -> mprds, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	g_start echo "exec $GP/rds_echo $K 4003 5 40"
	g_wait_line echo '^ready' 10
	h_start send "$PROGS/rds_send_check" -t 30 "$S" 5003 "$K" 4003 $SIZES
	assert_exits_ok send 60
	g_assert_ok echo 10
}

@test "smaller: data kernel -> mprds -> kernel, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	h_start echo "$PROGS/rds_echo" "$S" 4004 5 40
	h_wait_line echo '^ready'
	g_run send 60 "exec $GP/rds_send_check -t 30 $K 5004 $S 4004 $SIZES"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_send_check: status $status"
	assert_exits_ok echo 10
}

@test "smaller: 16 sockets both ways (mprds first), order and content; the guest's ss shows 8 TCP paths" {
	g_start multi "exec $GP/rds_multi -m both -W -n 16 -c 100 -H 40 -t 60 $K 6000 $S 7000"
	g_wait_line multi '^ready' 10
	h_start multi "$PROGS/rds_multi" -m both -n 16 -c 100 -H 40 -t 60 "$S" 7000 "$K" 6000
	h_wait_line multi '^done sent=1600 recv=1600' 60
	g_wait_line multi '^done sent=1600 recv=1600' 30
	g_wait_conns conns "$S" 8
	echo "$output"
	local ss_status=$status ss_output=$output
	g_signal multi TERM
	assert_stops_ok multi
	g_assert_ok multi 10
	((ss_status == 0)) || fail_with_logs "guest: want 8 TCP connections with $S, ss shows: $ss_output"
}

@test "smaller: MPRDS_NPATHS=1 (legacy single-path peer): the kernel uses one TCP path" {
	g_wait_conns gone "$S" 0 15 || true
	g_start multi "exec $GP/rds_multi -m both -W -n 16 -c 20 -H 40 -t 60 $K 6100 $S 7100"
	g_wait_line multi '^ready' 10
	h_start multi MPRDS_NPATHS=1 "$PROGS/rds_multi" -m both -n 16 -c 20 -H 40 -t 60 "$S" 7100 "$K" 6100
	h_wait_line multi '^done sent=320 recv=320' 60
	g_wait_line multi '^done sent=320 recv=320' 30
	g_wait_conns conns "$S" 1
	echo "$output"
	local ss_status=$status ss_output=$output
	g_signal multi TERM
	assert_stops_ok multi
	g_assert_ok multi 10
	((ss_status == 0)) || fail_with_logs "guest: want 1 TCP connection with $S, ss shows: $ss_output"
}

# --- mprds is the larger address (it only pokes; the kernel opens every path) ------------

@test "larger: mprds pings the kernel first (poke: the kernel connects back), gets pongs" {
	h_start ping "$PROGS/rds_ping" -c 3 -t 15 "$L" 0 "$K"
	assert_exits_ok ping 30
	grep -q '^3/3 pongs' "$(log_of ping)" || fail_with_logs "not 3/3 pongs"
}

@test "larger: the kernel pings mprds, gets pongs" {
	# Any bound socket makes our engine listen; rds_rounds also stops at once on SIGTERM.
	h_start server "$PROGS/rds_rounds" -H 60 "$L" 4012 "$K" 4012
	h_wait_line server '^ready'
	g_run ping 30 "exec $GP/rds_ping -c 3 -t 15 $K 0 $L"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_ping: status $status"
	[[ $output == *"3/3 pongs"* ]] || fail_with_logs "not 3/3 pongs"
}

@test "larger: data mprds -> kernel -> mprds, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	g_start echo "exec $GP/rds_echo $K 4013 5 40"
	g_wait_line echo '^ready' 10
	h_start send "$PROGS/rds_send_check" -t 30 "$L" 5013 "$K" 4013 $SIZES
	assert_exits_ok send 60
	g_assert_ok echo 10
}

@test "larger: data kernel -> mprds -> kernel, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	h_start echo "$PROGS/rds_echo" "$L" 4014 5 40
	h_wait_line echo '^ready'
	g_run send 60 "exec $GP/rds_send_check -t 30 $K 5014 $L 4014 $SIZES"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_send_check: status $status"
	assert_exits_ok echo 10
}

@test "larger: 16 sockets both ways (kernel first), order and content; the guest's ss shows 8 TCP paths" {
	h_start multi "$PROGS/rds_multi" -m both -W -n 16 -c 100 -H 40 -t 60 "$L" 7200 "$K" 6200
	h_wait_line multi '^ready'
	g_start multi "exec $GP/rds_multi -m both -n 16 -c 100 -H 40 -t 60 $K 6200 $L 7200"
	g_wait_line multi '^done sent=1600 recv=1600' 60
	h_wait_line multi '^done sent=1600 recv=1600' 30
	g_wait_conns conns "$L" 8
	echo "$output"
	local ss_status=$status ss_output=$output
	g_signal multi TERM
	assert_stops_ok multi
	g_assert_ok multi 10
	((ss_status == 0)) || fail_with_logs "guest: want 8 TCP connections with $L, ss shows: $ss_output"
}

@test "larger: MPRDS_NPATHS=1 (legacy single-path peer): the kernel uses one TCP path" {
	h_start multi MPRDS_NPATHS=1 "$PROGS/rds_multi" -m both -W -n 16 -c 20 -H 40 -t 60 "$L1" 7300 "$K" 6300
	h_wait_line multi '^ready'
	g_start multi "exec $GP/rds_multi -m both -n 16 -c 20 -H 40 -t 60 $K 6300 $L1 7300"
	g_wait_line multi '^done sent=320 recv=320' 60
	h_wait_line multi '^done sent=320 recv=320' 30
	g_wait_conns conns "$L1" 1
	echo "$output"
	local ss_status=$status ss_output=$output
	g_signal multi TERM
	assert_stops_ok multi
	g_assert_ok multi 10
	((ss_status == 0)) || fail_with_logs "guest: want 1 TCP connection with $L1, ss shows: $ss_output"
}

# --- congestion --------------------------------------------------------------------------

@test "congestion: a kernel receiver that stops reading -> the mprds sender gets ENOBUFS, then resumes" {
	g_start sink "exec $GP/rds_congest sink -r 32768 -H 40 -t 20 $K 4020"
	g_wait_line sink '^ready' 10
	h_start flood "$PROGS/rds_congest" flood -s 4096 -n 20000 -t 20 "$S" 5020 "$K" 4020
	h_wait_line flood '^(ENOBUFS|error)' 30
	g_signal sink USR1
	assert_exits_ok flood 30
	g_assert_ok sink 30
	local sent
	sent=$(sed -n 's/^sent \([0-9]*\) messages/\1/p' "$(log_of flood)")
	grep -q "^received $sent messages in order" "$(g_outfile sink)" ||
		fail_with_logs "mprds sent $sent messages, the kernel received: $(tail -n1 "$(g_outfile sink)")"
}

@test "congestion: an mprds receiver that stops reading -> the kernel sender gets ENOBUFS, then resumes" {
	h_start sink "$PROGS/rds_congest" sink -r 32768 -H 40 -t 20 "$S" 4021
	h_wait_line sink '^ready'
	g_start flood "exec $GP/rds_congest flood -s 4096 -n 5000 -t 20 $K 5021 $S 4021"
	g_wait_line flood '^(ENOBUFS|error)' 40
	kill -USR1 "$(pid_of sink)"
	local rc=0
	g_wait flood 40 || rc=$?
	assert_exits_ok sink 30
	((rc == 0)) || fail_with_logs "kernel flooder: status $rc: $(grep -E 'ENOBUFS|error' "$(g_outfile flood)")"
	local sent
	sent=$(sed -n 's/^sent \([0-9]*\) messages/\1/p' "$(g_outfile flood)")
	grep -q "^received $sent messages in order" "$(log_of sink)" ||
		fail_with_logs "the kernel sent $sent messages, mprds received: $(tail -n1 "$(log_of sink)")"
}

# --- path failures and peer restart ------------------------------------------------------

# start_killer FILE REGEX ADDR [all]: a guest job that picks one established RDS/TCP
# connection with ADDR (the second ss lists; with "all": every one) once there are 8, then
# waits (bounded) until FILE (a file of the shared run directory: a guest job's output or one
# of our logs) has a line matching REGEX and at once kills them with one ss -K. It runs in
# the guest and has its targets ready, so that the kill follows the trigger closely (ss itself
# is slow under emulation); it looks again every second while it waits, so that a lane that
# reconnected meanwhile (a new source port) is among them. grep -a: a file that another
# program appends to can read with NUL bytes in it over 9p, and grep would then call it binary.
start_killer() {
	local pick='sed -n 2p'
	[[ ${4:-} == all ]] && pick=cat
	g_start killer "for i in \$(seq 300); do
			$(g_conns_script "$3") >/tmp/conns.\$\$
			[ \$(wc -l </tmp/conns.\$\$) -ge 8 ] && break
			sleep 0.1
		done
		for i in \$(seq 1200); do grep -aqE '$2' '$1' 2>/dev/null && break; sleep 0.05
			[ \$((i % 20)) -eq 0 ] && $(g_conns_script "$3") >/tmp/conns.\$\$
		done
		filter=\$($pick /tmp/conns.\$\$ | awk '{ l = \$1; r = \$2; sub(/.*:/, \"\", l); sub(/.*:/, \"\", r)
			printf \"%s( sport = :%s and dport = :%s )\", (NR > 1 ? \" or \" : \"\"), l, r }')
		[ -n \"\$filter\" ] || { echo 'no connection to kill'; exit 1; }
		ss -K -tn state established \"( \$filter )\" >/tmp/killed.\$\$
		echo \"killed \$(( \$(wc -l </tmp/killed.\$\$) - 1 )) after: \$(grep -aE '^progress' '$1' | tail -n1)\"
		cat /tmp/killed.\$\$"
}

# killer_done: the killer's result; fails the test if it did not kill.
killer_done() {
	local rc=0
	g_wait killer 70 || rc=$?
	g_out killer
	((rc == 0)) || fail_with_logs "ss -K in the guest: status $rc"
	g_out killer | grep -qE '^killed [1-9]' || fail_with_logs "ss -K in the guest killed nothing"
}

# killed_mid_stream: the receiver had not got everything when the killer struck.
killed_mid_stream() {
	local n
	n=$(g_out killer | sed -n 's/^killed [0-9]* after: progress sent=[0-9]* recv=\([0-9]*\)$/\1/p')
	[[ -n $n ]] || fail_with_logs "the killer did not say when it struck"
	((n < STREAM_TOTAL)) || fail_with_logs "the stream was over ($n messages) before the kill"
}

# The stream: 16 sockets x 64 messages of 32 KiB, paced at 4 MiB/s (8 s), so that the kill
# (once 48 have arrived) comes early, with the stream still on every path afterwards.
STREAM="-n 16 -c 64 -s 32768 -r 4096"
STREAM_TOTAL=1024
KILL_AT='^progress sent=0 recv=(4[89]|[5-9][0-9]|[1-9][0-9]{2,})$'

# path_report LOG: our side's per-path counters (at exit) and path events, for the record.
path_report() {
	grep -E 'down:|up \(|path [0-7]: sent' "$1" | sed 's/^mprds\[[0-9]*\]: //'
}

@test "ss -K of a path in the guest during a stream mprds -> kernel: completes, nothing lost or duplicated" {
	g_wait_conns gone "$S" 0 20 || true
	g_start recv "exec $GP/rds_stream -m recv $STREAM -t 120 $K 6400 $S 7400"
	g_wait_line recv '^ready' 10
	start_killer "$(g_outfile recv)" "$KILL_AT" "$S"
	h_start send "$PROGS/rds_stream" -m send $STREAM -t 120 -H 100 "$S" 7400 "$K" 6400
	killer_done
	killed_mid_stream
	g_wait recv 120 || fail_with_logs "kernel receiver: status $? (loss/duplicates/order above)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(g_outfile recv)" ||
		fail_with_logs "the kernel did not get all $STREAM_TOTAL messages in order"
	h_wait_line send '^done' 10
	assert_stops_ok send
	path_report "$(engine_log send)"
	grep -qE 'path [0-7]: down' "$(engine_log send)" || fail_with_logs "no path of ours went down"
}

@test "ss -K of a path in the guest during a stream kernel -> mprds: completes, nothing lost or duplicated" {
	g_wait_conns gone "$S" 0 20 || true
	h_start recv "$PROGS/rds_stream" -m recv $STREAM -t 120 "$S" 7500 "$K" 6500
	h_wait_line recv '^ready'
	start_killer "$(log_of recv)" "$KILL_AT" "$S"
	g_start send "exec $GP/rds_stream -m send $STREAM -t 120 -H 100 $K 6500 $S 7500"
	killer_done
	killed_mid_stream
	assert_exits_ok recv 120
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(log_of recv)" ||
		fail_with_logs "mprds did not get all $STREAM_TOTAL messages in order"
	g_wait_line send '^done' 10
	path_report "$(engine_log recv)"
	grep -qE 'path [0-7]: down' "$(engine_log recv)" || fail_with_logs "no path of ours went down"
}

@test "ss -K of a path in the guest during a stream mprds (larger) -> kernel: the kernel reconnects, nothing lost or duplicated" {
	g_wait_conns gone "$L" 0 20 || true
	g_start recv "exec $GP/rds_stream -m recv $STREAM -t 120 $K 6600 $L 7600"
	g_wait_line recv '^ready' 10
	start_killer "$(g_outfile recv)" "$KILL_AT" "$L"
	h_start send "$PROGS/rds_stream" -m send $STREAM -t 120 -H 100 "$L" 7600 "$K" 6600
	killer_done
	killed_mid_stream
	g_wait recv 120 || fail_with_logs "kernel receiver: status $? (loss/duplicates/order above)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(g_outfile recv)" ||
		fail_with_logs "the kernel did not get all $STREAM_TOTAL messages in order"
	h_wait_line send '^done' 10
	assert_stops_ok send
	path_report "$(engine_log send)"
	grep -qE 'path [0-7]: down' "$(engine_log send)" || fail_with_logs "no path of ours went down"
}

@test "ss -K of every path at once during a stream kernel -> mprds: completes, nothing lost or duplicated" {
	need_lanes_by_port
	g_wait_conns gone "$S" 0 20 || true
	h_start recv "$PROGS/rds_stream" -m recv $STREAM -t 120 "$S" 7700 "$K" 6700
	h_wait_line recv '^ready'
	start_killer "$(log_of recv)" "$KILL_AT" "$S" all
	g_start send "exec $GP/rds_stream -m send $STREAM -t 120 -H 100 $K 6700 $S 7700"
	killer_done
	killed_mid_stream
	assert_exits_ok recv 120
	path_report "$(engine_log recv)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(log_of recv)" ||
		fail_with_logs "mprds did not get all $STREAM_TOTAL messages in order"
	g_wait_line send '^done' 10
}

@test "ss -K of every path at once during a stream mprds -> kernel: completes, nothing lost or duplicated" {
	need_lanes_by_port
	g_wait_conns gone "$S" 0 20 || true
	g_start recv "exec $GP/rds_stream -m recv $STREAM -t 120 $K 6800 $S 7800"
	g_wait_line recv '^ready' 10
	start_killer "$(g_outfile recv)" "$KILL_AT" "$S" all
	h_start send "$PROGS/rds_stream" -m send $STREAM -t 120 -H 100 "$S" 7800 "$K" 6800
	killer_done
	killed_mid_stream
	g_wait recv 120 || fail_with_logs "kernel receiver: status $? (loss/duplicates/order above)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(g_outfile recv)" ||
		fail_with_logs "the kernel did not get all $STREAM_TOTAL messages in order"
	h_wait_line send '^done' 10
	assert_stops_ok send
	path_report "$(engine_log send)"
}

@test "peer restart (rds_tcp reloaded in the guest): mprds reconnects, traffic resumes both ways" {
	h_start rounds "$PROGS/rds_rounds" -t 30 -H 120 "$S" 4030 "$K" 4130
	h_wait_line rounds '^ready'
	g_start echo1 "exec $GP/rds_echo $K 4130 0 60"
	g_wait_line echo1 '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	h_wait_line rounds '^round 1 (ok|error)' 40
	grep -q '^round 1 ok' "$(log_of rounds)" || fail_with_logs "round 1 before the restart failed"
	g_run send1 40 "exec $GP/rds_send_check -t 30 $K 5030 $S 4030 0 1 8192 65536"
	((status == 0)) || fail_with_logs "kernel -> mprds before the restart: status $status"
	g_signal echo1 KILL
	g_wait echo1 10 || true
	# Unloading needs every kernel RDS socket closed (a bound socket holds the transport).
	g_run reload 60 "for i in \$(seq 50); do [ \$(cat /sys/module/rds_tcp/refcnt) = 0 ] && break; sleep 0.2; done
		echo rds_tcp refcnt \$(cat /sys/module/rds_tcp/refcnt)
		modprobe -r rds_tcp && ! grep -q '^rds_tcp ' /proc/modules && echo unloaded &&
		modprobe rds_tcp && grep -q '^rds_tcp ' /proc/modules && echo reloaded"
	echo "$output"
	((status == 0)) || fail_with_logs "reloading rds_tcp in the guest failed: $output"
	g_start echo2 "exec $GP/rds_echo $K 4130 0 60"
	g_wait_line echo2 '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	h_wait_line rounds '^round 2 (ok|error)' 45
	grep -q '^round 2 ok' "$(log_of rounds)" || fail_with_logs "round 2 (mprds -> restarted kernel) failed"
	g_run send2 40 "exec $GP/rds_send_check -t 30 $K 5030 $S 4030 0 1 8192 65536"
	((status == 0)) || fail_with_logs "restarted kernel -> mprds: status $status"
	assert_stops_ok rounds
}

# --- the 2026 series (7.0+: GEN_NUM and SPORT_IDX on the wire, lanes by source port, parking)

@test "2026 (7.0+): the kernel's own probe and its pong carry NPATHS=8, its own GEN_NUM (the pong does not echo ours) and SPORT_IDX" {
	need_2026
	command -v tcpdump >/dev/null || fail "tcpdump is not installed on the host (the guest uses the host's /usr)"
	local pcap=$G/handshake-2026.pcap
	rm -f "$pcap"
	g_wait_conns gone "$S" 0 20 || true
	g_start tcpdump "exec tcpdump -i eth0 -n -U -Z root -s 0 -w $pcap 'tcp port 16385 and host $S'"
	g_wait_line tcpdump 'listening on' 20
	g_start echo "exec $GP/rds_echo $K 4041 1 30"
	g_wait_line echo '^ready' 10
	h_start send "$PROGS/rds_send_check" -t 20 "$S" 5041 "$K" 4041 5
	assert_exits_ok send 30
	g_assert_ok echo 10
	sleep 1
	g_signal tcpdump INT
	g_wait tcpdump 10 || true
	[[ -s $pcap ]] || fail_with_logs "no capture in $pcap"
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/decode_handshake.py" --ours "$S" --kernel "$K" \
		--sport 5041 --dport 4041 --len 5 --kernel-2026 "$pcap"
	echo "$output" | tee "$G/handshake-2026.txt"
	assert_success
}

# A later trigger than KILL_AT (200 of 1024 messages), so that the 8 paths are listed first.
KILL_LATE='^progress sent=0 recv=([2-9][0-9]{2}|[1-9][0-9]{3})$'

# h_wait_lanes NAME OLD [ADDR]: waits (at most 60 s) until NAME has 8 paths with ADDR none
# of whose source ports is in OLD (h_lanes lines; empty: any), and prints them. NAME holds
# its paths after its stream (-H), so that they can be listed.
h_wait_lanes() {
	local i lanes old_ports end=$((SECONDS + 60))
	old_ports=$(awk '{ print $2 }' <<<"$2" | tr '\n' ' ')
	for ((i = 0; i < 600 && SECONDS < end; i++)); do
		lanes=$(h_lanes "$1" "${3:-$K}")
		# "?": the socket is established but NAME has not logged its path coming up yet.
		if [[ $(wc -l <<<"$lanes") == 8 ]] && ! grep -q '^?' <<<"$lanes" &&
			! awk -v old=" $old_ports" 'index(old, " " $2 " ") { f = 1 } END { exit !f }' <<<"$lanes"; then
			echo "$lanes"
			return 0
		fi
		sleep 0.1
	done
	echo "$lanes"
	return 1
}

# lanes_at_once LOG: after the first "down" of LOG, some lane k >= 2 started connecting
# before lane k-1 was up (lanes reconnect together, not one after the other as against a
# kernel <= 6.19). Prints how many did.
lanes_at_once() {
	local n
	n=$(awk '
		/ path [0-7]: down/ { down = 1 }
		!down { next }
		match($0, / path [0-7]: connecting/) { i = substr($0, RSTART + 6, 1); if (!(i in c)) c[i] = NR }
		match($0, / path [0-7]: up /) { i = substr($0, RSTART + 6, 1); if (!(i in u)) u[i] = NR }
		END { n = 0; for (k = 2; k < 8; k++) if ((k in c) && (!((k - 1) in u) || c[k] < u[k - 1])) n++; print n }' "$1")
	observe "lanes (of 6) that started connecting before the lane below was up: $n"
	((n >= 1)) || fail_with_logs "the lanes reconnected one at a time"
}

@test "2026 lanes, mprds smaller: our 8 paths from ports = index mod 8, the kernel files them so; ss -K of all 8: they reconnect at once, each to its slot, nothing lost or duplicated" {
	need_2026
	g_wait_conns gone "$S" 0 20 || true
	h_start recv "$PROGS/rds_stream" -m recv $STREAM -t 120 -H 60 "$S" 8100 "$K" 9100
	h_wait_line recv '^ready'
	start_killer "$(log_of recv)" "$KILL_LATE" "$S" all
	g_start send "exec $GP/rds_stream -m send $STREAM -t 120 -H 100 $K 9100 $S 8100"
	local before after
	before=$(h_wait_lanes recv "") || fail_with_logs "not 8 paths before the kill: $before"
	observe "paths (index source-port) before: $(tr '\n' ' ' <<<"$before")"
	lanes_by_port "$before"
	killer_done
	killed_mid_stream
	after=$(h_wait_lanes recv "$before") || fail_with_logs "not 8 new paths after the kill: $after"
	observe "paths (index source-port) after: $(tr '\n' ' ' <<<"$after")"
	lanes_by_port "$after"
	h_wait_line recv '^done' 120
	assert_stops_ok recv
	path_report "$(engine_log recv)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(log_of recv)" ||
		fail_with_logs "mprds did not get all $STREAM_TOTAL messages in order"
	lanes_at_once "$(engine_log recv)"
	g_wait_line send '^done' 10
}

@test "2026 lanes, kernel smaller: each of its 8 paths comes from a port = its index mod 8 (a group of 8 per path, not one for all), mprds files each by port mod 8; ss -K of all 8: again, nothing lost or duplicated" {
	need_2026
	g_wait_conns gone "$L" 0 20 || true
	h_start recv "$PROGS/rds_stream" -m recv $STREAM -t 120 -H 60 "$L" 8200 "$K" 9200
	h_wait_line recv '^ready'
	start_killer "$(log_of recv)" "$KILL_LATE" "$L" all
	g_start send "exec $GP/rds_stream -m send $STREAM -t 120 -H 100 $K 9200 $L 8200"
	local before after
	before=$(h_wait_lanes recv "") || fail_with_logs "not 8 paths before the kill: $before"
	observe "paths (index source-port) before: $(tr '\n' ' ' <<<"$before")"
	lanes_by_port "$before"
	lanes_groups "$before"
	killer_done
	killed_mid_stream
	after=$(h_wait_lanes recv "$before") || fail_with_logs "not 8 new paths after the kill: $after"
	observe "paths (index source-port) after: $(tr '\n' ' ' <<<"$after")"
	lanes_by_port "$after"
	lanes_groups "$after"
	h_wait_line recv '^done' 120
	assert_stops_ok recv
	path_report "$(engine_log recv)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(log_of recv)" ||
		fail_with_logs "mprds did not get all $STREAM_TOTAL messages in order"
	g_wait_line send '^done' 10
}

# g_capture NAME PCAP: a full capture in the guest of RDS/TCP with our address S.
g_capture() {
	rm -f "$2"
	g_start "$1" "exec tcpdump -i eth0 -n -U -Z root -s 0 -w $2 'tcp port 16385 and host ${3:-$S}'"
	g_wait_line "$1" 'listening on' 20
}

g_capture_end() {
	sleep 1
	g_signal "$1" INT
	g_wait "$1" 60 || fail_with_logs "tcpdump in the guest did not end"
	[[ -s $2 ]] || fail_with_logs "no capture in $2"
}

@test "2026 peer restart, kernel side: rds_tcp reloaded (its GEN_NUM changes): mprds starts its sequence numbers again, drops what it held for the old kernel, nothing delivered twice" {
	need_2026
	h_start rounds "$PROGS/rds_rounds" -t 30 -H 120 "$S" 4050 "$K" 4150
	h_wait_line rounds '^ready'
	g_start echo1 "exec $GP/rds_echo $K 4150 0 60"
	g_wait_line echo1 '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	h_wait_line rounds '^round 1 (ok|error)' 40
	grep -q '^round 1 ok' "$(log_of rounds)" || fail_with_logs "round 1 before the restart failed"
	g_signal echo1 KILL
	g_wait echo1 10 || true
	# From before the reload: we reconnect to the new kernel as soon as it listens.
	local pcap=$G/restart-kernel.pcap
	g_capture tcpdump "$pcap"
	g_run reload 60 "for i in \$(seq 50); do [ \$(cat /sys/module/rds_tcp/refcnt) = 0 ] && break; sleep 0.2; done
		modprobe -r rds_tcp && ! grep -q '^rds_tcp ' /proc/modules && echo unloaded &&
		modprobe rds_tcp && grep -q '^rds_tcp ' /proc/modules && echo reloaded"
	echo "$output"
	((status == 0)) || fail_with_logs "reloading rds_tcp in the guest failed: $output"
	g_start echo2 "exec $GP/rds_echo $K 4150 0 60"
	g_wait_line echo2 '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	h_wait_line rounds '^round 2 (ok|error)' 45
	grep -q '^round 2 ok' "$(log_of rounds)" || fail_with_logs "round 2 (mprds -> restarted kernel) failed"
	g_run send2 40 "exec $GP/rds_send_check -t 30 $K 5050 $S 4050 0 1 8192 65536"
	((status == 0)) || fail_with_logs "restarted kernel -> mprds (each echo once, in order): status $status"
	g_capture_end tcpdump "$pcap"
	assert_stops_ok rounds
	# The new generation, as our log saw it.
	local line
	line=$(grep -E "peer $K restarted \(generation [0-9a-f]{8} -> [0-9a-f]{8}\)" "$(engine_log rounds)")
	observe "$line"
	[[ $(wc -l <<<"$line") == 1 && -n $line ]] || fail_with_logs "want one 'peer $K restarted' line"
	[[ $line =~ generation\ ([0-9a-f]{8})\ -\>\ ([0-9a-f]{8}) ]] &&
		[[ ${BASH_REMATCH[1]} != "${BASH_REMATCH[2]}" ]] || fail_with_logs "the generation did not change"
	# On the wire: our round-2 data to the new kernel starts again at sequence number 1.
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/decode_handshake.py" --ours "$S" --kernel "$K" --seqs "$pcap"
	echo "$output"
	local first
	first=$(awk '$2 == "ours" { for (i = 3; i <= NF; i++) if ($i ~ /:4050>4150$/) { print $i; exit } }' <<<"$output")
	observe "our first message to the new kernel: $first" \
		"$(awk '{ printf "%s %s:", $1, $2; for (i = 3; i <= NF && i < 9; i++) printf " %s", $i; print "" }' <<<"$output")"
	[[ $first == 1:4050\>4150 ]] ||
		fail_with_logs "our first message to the restarted kernel is $first, want seq 1, not retransmitted"
	! grep -qE ' [0-9]+R:4050>' <<<"$output" || fail_with_logs "we retransmitted to the new kernel"
}

@test "2026 peer restart, our side: a new mprds process (new GEN_NUM): the kernel starts its numbers again at 1 on every path, nothing delivered twice" {
	need_2026
	g_wait_conns gone "$S" 0 20 || true
	h_start recv1 "$PROGS/rds_seqcheck" recv -g -n 16 -t 60 -p 250 "$S" 8300 "$K" 9300
	h_wait_line recv1 '^ready'
	g_start send "exec $GP/rds_seqcheck send -n 16 -c 0 -d 60 -r 400 -T 200 -t 90 $K 9300 $S 8300"
	h_wait_line recv1 '^progress t=[0-9]+ recv=([2-9][0-9]|[1-9][0-9]{2,})$' 30
	kill -KILL "$(pid_of recv1)"
	kill_host "$S" # host-wide: our engine is the daemon's
	local pcap=$G/restart-ours.pcap
	g_capture tcpdump "$pcap"
	h_start recv2 "$PROGS/rds_seqcheck" recv -g -n 16 -t 60 -p 250 "$S" 8300 "$K" 9300
	h_wait_line recv2 '^progress t=[0-9]+ recv=([2-9][0-9]{2}|[1-9][0-9]{3,})$' 40
	g_signal send TERM
	g_wait send 10 || true
	sleep 1
	kill -TERM "$(pid_of recv2)"
	local rc=0
	wait "$(pid_of recv2)" || rc=$?
	g_capture_end tcpdump "$pcap"
	grep -E '^recv total' "$(log_of recv2)"
	((rc == 0)) || fail_with_logs "the new process: status $rc (duplicates, a step back or bad content)"
	grep -qE '^recv total=[0-9]+ dups=0 reorder=0 .*errors=0' "$(log_of recv2)" ||
		fail_with_logs "the new process saw duplicates or reordering"
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/decode_handshake.py" --ours "$S" --kernel "$K" --seqs "$pcap"
	observe "$(grep -E '^recv total' "$(log_of recv2)")" \
		"$(awk '$2 == "kernel" && NF > 2 { printf "%s %s:", $1, $2; for (i = 3; i <= NF && i < 12; i++) printf " %s", $i; print " ..." }' <<<"$output")"
	# Each lane (source port != 0 mod 8) of the new process that carried the kernel's data: its
	# numbering starts again at 1 (messages it had queued before it saw our new GEN_NUM keep
	# their old numbers and come first: wire.md §13 resets only the next number).
	local bad
	bad=$(awk '$2 == "kernel" && $1 % 8 != 0 && NF > 2 && !/ 1:[0-9]/ { print $1, $3 }' <<<"$output")
	[[ -z $bad ]] || fail_with_logs "lanes where the kernel did not start again at 1: $bad"
	awk '$2 == "kernel" && $1 % 8 != 0 && NF > 2 { n++ } END { exit !(n >= 1) }' <<<"$output" ||
		fail_with_logs "no lane of the new process carried the kernel's data"
	# What the old process had not acknowledged when it died was moved back to the send
	# queue when its paths dropped, so the kernel's flush at the new GEN_NUM (which empties
	# only the retransmit queue, wire.md §13) misses it: it comes to the new process, once,
	# marked retransmitted, with its old numbers. Counted for the record.
	observe "messages the kernel marked retransmitted to the new process: $(awk '$2 == "kernel"' <<<"$output" | grep -oE ' [0-9]+R:' | wc -l)"
}

@test "2026 parking: a ninth TCP connection from us for a lane that is up: the kernel parks it (unread), our 8 paths are unaffected" {
	need_2026
	g_wait_conns gone "$S" 0 20 || true
	h_start rounds "$PROGS/rds_rounds" -t 30 -H 120 "$S" 4070 "$K" 4170
	h_wait_line rounds '^ready'
	g_start echo "exec $GP/rds_echo $K 4170 0 60"
	g_wait_line echo '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	h_wait_line rounds '^round 1 (ok|error)' 40
	grep -q '^round 1 ok' "$(log_of rounds)" || fail_with_logs "round 1 failed"
	local before after
	before=$(h_wait_lanes rounds "") || fail_with_logs "not 8 paths: $before"
	lanes_by_port "$before"
	local downs
	downs=$(grep -c ': down' "$(engine_log rounds)" || true)
	/usr/bin/python3 "$BATS_TEST_DIRNAME/park.py" "$S" "$K" 3 6 >"$LOGDIR/park.log" 2>&1 &
	local park=$!
	local port i
	for ((i = 0; i < 50; i++)); do
		port=$(sed -n 's/^connected from //p' "$LOGDIR/park.log")
		[[ -n $port ]] && break
		sleep 0.1
	done
	[[ -n $port ]] || fail_with_logs "park.py did not connect: $(cat "$LOGDIR/park.log")"
	sleep 2
	g_run ss 20 "ss -Htn '( sport = :16385 and dport = :$port )'; ss -Htn state established '( sport = :16385 )' | grep -c ':$port\$' || true"
	echo "guest: $output"
	local guest=$output
	wait "$park" || true
	observe "park.py: $(tr '\n' ';' <<<"$(cat "$LOGDIR/park.log")")" "the guest's ss while it was held: $(tr '\n' ';' <<<"$guest")"
	after=$(h_lanes rounds)
	kill -USR1 "$(pid_of rounds)"
	h_wait_line rounds '^round 2 (ok|error)' 40
	grep -q '^round 2 ok' "$(log_of rounds)" || fail_with_logs "round 2 (after the ninth connection) failed"
	assert_stops_ok rounds
	[[ $after == "$before" ]] || fail_with_logs "our paths changed: before $(tr '\n' ' ' <<<"$before"), after $(tr '\n' ' ' <<<"$after")"
	[[ $(grep -c ': down' "$(engine_log rounds)" || true) == "$downs" ]] || fail_with_logs "a path of ours went down"
	# What the kernel did with it: kept it open and did not read (or answer) the probe.
	grep -q '^held 6 s: open, 0 bytes received' "$LOGDIR/park.log" ||
		fail_with_logs "the kernel did not keep the ninth connection open and silent"
	[[ $guest =~ ^ESTAB\ +48\  ]] || fail_with_logs "the guest does not show it established with the 48 bytes unread: $guest"
}

# --- IPv6: the link-local addresses of the tap and the guest's eth0, with scope ids ---------
# Each function is the body of a row, for mprds as the smaller and as the larger address.

v6_ping_both() {
	v6_role "$1"
	# mprds pings the kernel (as the larger it pokes first: the kernel connects back).
	h_start ping "$PROGS/rds_ping" -c 3 -t 15 "$OS" 0 "$KS"
	assert_exits_ok ping 30
	grep -q '^3/3 pongs' "$(log_of ping)" || fail_with_logs "mprds -> kernel: not 3/3 pongs"
	# The kernel pings mprds (any bound socket makes our engine listen).
	h_start server "$PROGS/rds_rounds" -H 60 "$OS" "$2" "$KS" "$2"
	h_wait_line server '^ready'
	g_run ping 30 "exec $GP/rds_ping -c 3 -t 15 $GK 0 $GO"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_ping: status $status"
	[[ $output == *"3/3 pongs"* ]] || fail_with_logs "kernel -> mprds: not 3/3 pongs"
}

v6_data_both() {
	v6_role "$1"
	local p=$2
	g_start echo "exec $GP/rds_echo $GK $p 5 40"
	g_wait_line echo '^ready' 10
	h_start send "$PROGS/rds_send_check" -t 30 "$OS" $((p + 1)) "$KS" "$p" $SIZES
	assert_exits_ok send 60
	g_assert_ok echo 10
	grep "^echoes from" "$(log_of send)"
	h_start echo "$PROGS/rds_echo" "$OS" $((p + 2)) 5 40
	h_wait_line echo '^ready'
	g_run send 60 "exec $GP/rds_send_check -t 30 $GK $((p + 3)) $GO $((p + 2)) $SIZES"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_send_check: status $status"
	assert_exits_ok echo 10
}

v6_multi() {
	v6_role "$1"
	local p=$2 K=$G6
	if [[ $1 == smaller ]]; then
		g_start multi "exec $GP/rds_multi -m both -W -n 16 -c 100 -H 40 -t 60 $GK $p $GO $((p + 100))"
		g_wait_line multi '^ready' 10
		h_start multi "$PROGS/rds_multi" -m both -n 16 -c 100 -H 40 -t 60 "$OS" $((p + 100)) "$KS" "$p"
		h_wait_line multi '^done sent=1600 recv=1600' 60
		g_wait_line multi '^done sent=1600 recv=1600' 30
	else
		h_start multi "$PROGS/rds_multi" -m both -W -n 16 -c 100 -H 40 -t 60 "$OS" $((p + 100)) "$KS" "$p"
		h_wait_line multi '^ready'
		g_start multi "exec $GP/rds_multi -m both -n 16 -c 100 -H 40 -t 60 $GK $p $GO $((p + 100))"
		g_wait_line multi '^done sent=1600 recv=1600' 60
		h_wait_line multi '^done sent=1600 recv=1600' 30
	fi
	g_wait_conns conns "$O6" 8
	echo "$output"
	local ss_status=$status ss_output=$output
	g_signal multi TERM
	assert_stops_ok multi
	g_assert_ok multi 10
	((ss_status == 0)) || fail_with_logs "guest: want 8 TCP connections with $O6, ss shows: $ss_output"
	grep -q "^\[$O6\]" <<<"$(awk '{ print $2 }' <<<"$ss_output" | sed 's/%.*//')" ||
		[[ $ss_output == *"[$O6]"* ]] || fail_with_logs "the guest's ss does not show IPv6 ends: $ss_output"
}

v6_kill_one() {
	v6_role "$1"
	local p=$2 K=$G6
	g_wait_conns gone "$O6" 0 20 || true
	g_start recv "exec $GP/rds_stream -m recv $STREAM -t 120 $GK $p $GO $((p + 100))"
	g_wait_line recv '^ready' 10
	start_killer "$(g_outfile recv)" "$KILL_AT" "$O6"
	h_start send "$PROGS/rds_stream" -m send $STREAM -t 120 -H 100 "$OS" $((p + 100)) "$KS" "$p"
	killer_done
	killed_mid_stream
	g_wait recv 120 || fail_with_logs "kernel receiver: status $? (loss/duplicates/order above)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(g_outfile recv)" ||
		fail_with_logs "the kernel did not get all $STREAM_TOTAL messages in order"
	h_wait_line send '^done' 10
	assert_stops_ok send
	path_report "$(engine_log send)"
	grep -qE 'path [0-7]: down' "$(engine_log send)" || fail_with_logs "no path of ours went down"
}

@test "IPv6 link-local, smaller: pings both ways (zero-length to port 0), pongs back" {
	v6_ping_both smaller 4200
}

@test "IPv6 link-local, smaller: data both ways 0 B 1 B 8 KiB 64 KiB 1 MiB, content and order checked" {
	v6_data_both smaller 4210
}

@test "IPv6 link-local, smaller: 16 sockets both ways; the guest's ss shows 8 TCP paths over IPv6" {
	v6_multi smaller 6220
}

@test "IPv6 link-local, smaller: ss -K of a path in the guest during a stream mprds -> kernel: nothing lost or duplicated" {
	v6_kill_one smaller 6240
}

@test "IPv6 link-local, larger: pings both ways (zero-length to port 0), pongs back" {
	v6_ping_both larger 4250
}

@test "IPv6 link-local, larger: data both ways 0 B 1 B 8 KiB 64 KiB 1 MiB, content and order checked" {
	v6_data_both larger 4260
}

@test "IPv6 link-local, larger: 16 sockets both ways; the guest's ss shows 8 TCP paths over IPv6" {
	v6_multi larger 6270
}

@test "IPv6 link-local, larger: ss -K of a path in the guest during a stream mprds -> kernel: the kernel reconnects, nothing lost or duplicated" {
	v6_kill_one larger 6290
}

@test "IPv6: RDS6_INFO_CONNECTIONS and RDS6_INFO_SOCKETS in an mprds program list the connection and sockets as the kernel's do on its side" {
	v6_role smaller
	[[ -x $MPRDS_BUILD/mprds-info ]] || skip "no mprds-info in $MPRDS_BUILD"
	h_start rounds "$PROGS/rds_rounds" -t 30 -H 60 "$OS" 4300 "$KS" 4400
	h_wait_line rounds '^ready'
	g_start echo "exec $GP/rds_echo $GK 4400 0 60"
	g_wait_line echo '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	h_wait_line rounds '^round 1 (ok|error)' 40
	grep -q '^round 1 ok' "$(log_of rounds)" || fail_with_logs "round 1 failed"
	# Ours: what getsockopt(RDS6_INFO_*) returns inside the program (its engine answers).
	local ours theirs
	ours=$("$MPRDS_BUILD/mprds-info" -6 -n -k -p "$(host_pid rounds)" 2>&1)
	g_run info 30 "exec $GP/../mprds-info --self -6 -n -k"
	theirs=$output
	observe "--- mprds-info -6 -n -k -p $(host_pid rounds) (the mprds program):" "$ours" \
		"--- mprds-info --self -6 -n -k in the guest (the kernel):" "$theirs"
	# Connections: ours S6 -> G6, the kernel's G6 -> S6, each connected (flag C).
	awk -v l="$O6" -v f="$G6" '$1 == l && $2 == f && $5 ~ /C/ { ok = 1 } END { exit !ok }' <<<"$ours" ||
		fail_with_logs "mprds lists no connected connection $O6 -> $G6"
	awk -v l="$G6" -v f="$O6" '$1 == l && $2 == f && $5 ~ /C/ { ok = 1 } END { exit !ok }' <<<"$theirs" ||
		fail_with_logs "the kernel lists no connected connection $G6 -> $O6"
	# Path 0's sequence numbers, quiet after the round: the kernel's next to send is our next
	# expected; our next to send is its next expected, or 0 where our probe's new GEN_NUM
	# reset it after it had been counted and nothing followed on path 0 (6.1, 6.12).
	local mtx mrx ktx krx
	read -r mtx mrx < <(awk -v l="$O6" -v f="$G6" '$1 == l && $2 == f { print $3, $4 }' <<<"$ours")
	read -r ktx krx < <(awk -v l="$G6" -v f="$O6" '$1 == l && $2 == f { print $3, $4 }' <<<"$theirs")
	observe "path 0: mprds NextTX $mtx NextRX $mrx; the kernel NextTX $ktx NextRX $krx"
	[[ -n $mrx && $mrx == "$ktx" ]] || fail_with_logs "our NextRX $mrx is not the kernel's NextTX $ktx"
	[[ -n $krx && ($krx == "$mtx" || $krx == 0) ]] ||
		fail_with_logs "the kernel's NextRX $krx is neither our NextTX $mtx nor 0"
	# Sockets: each side's bound IPv6 socket.
	awk -v a="$O6" '$1 == a && $2 == 4300 { ok = 1 } END { exit !ok }' <<<"$ours" ||
		fail_with_logs "mprds lists no socket bound to [$O6]:4300"
	awk -v a="$G6" '$1 == a && $2 == 4400 { ok = 1 } END { exit !ok }' <<<"$theirs" ||
		fail_with_logs "the kernel lists no socket bound to [$G6]:4400"
	g_signal echo TERM
	assert_stops_ok rounds
}

# hw_daemon_pids INSTANCE: our mprdsd of that instance (listening on its rendezvous name).
hw_daemon_pids() {
	ss -xlpH | grep -F "@mprdsd." | grep -F ".$1 " | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

@test "host-wide: two host processes share $S through mprdsd, 8 sockets each, both ways with the kernel; the guest's ss shows 8 TCP paths for both" {
	local inst="interop$$x$BATS_TEST_NUMBER" pid i
	g_start multi1 "exec $GP/rds_multi -m both -W -n 8 -c 100 -H 40 -t 60 $K 6100 $S 7100"
	g_start multi2 "exec $GP/rds_multi -m both -W -n 8 -c 100 -H 40 -t 60 $K 6108 $S 7108"
	g_wait_line multi1 '^ready' 10
	g_wait_line multi2 '^ready' 10
	h_start hw1 MPRDS_ENGINE=daemon MPRDS_INSTANCE="$inst" MPRDS_IDLE_EXIT=1 \
		"$PROGS/rds_multi" -m both -n 8 -c 100 -H 40 -t 60 "$S" 7100 "$K" 6100
	h_start hw2 MPRDS_ENGINE=daemon MPRDS_INSTANCE="$inst" MPRDS_IDLE_EXIT=1 \
		"$PROGS/rds_multi" -m both -n 8 -c 100 -H 40 -t 60 "$S" 7108 "$K" 6108
	h_wait_line hw1 '^done sent=800 recv=800' 60
	h_wait_line hw2 '^done sent=800 recv=800' 60
	g_wait_line multi1 '^done sent=800 recv=800' 30
	g_wait_line multi2 '^done sent=800 recv=800' 30
	g_wait_conns conns "$S" 8
	echo "$output"
	local ss_status=$status ss_output=$output
	assert_equal "$(hw_daemon_pids "$inst" | wc -l)" 1
	g_signal multi1 TERM
	g_signal multi2 TERM
	assert_stops_ok hw1
	assert_stops_ok hw2
	g_assert_ok multi1 10
	g_assert_ok multi2 10
	# the daemon holds $S:16385 while it runs: gone before the next row binds it
	for pid in $(hw_daemon_pids "$inst"); do
		kill -TERM "$pid"
	done
	for ((i = 0; i < 50; i++)); do
		[[ -z $(hw_daemon_pids "$inst") ]] && break
		sleep 0.1
	done
	((ss_status == 0)) || fail_with_logs "guest: want 8 TCP connections with $S, ss shows: $ss_output"
}

@test "mprdsd --upgrade during streams both ways with the kernel: nothing lost, duplicated or reordered; the kernel keeps the same 8 TCP connections and sees no restart" {
	local before after old
	g_wait_conns gone "$S" 0 20 || true
	h_start recv "$PROGS/rds_seqcheck" recv -n 16 -c 16000 -t 90 -p 250 "$S" 8600 "$K" 9600
	h_wait_line recv '^ready'
	g_start krecv "exec $GP/rds_seqcheck recv -n 16 -c 16000 -t 90 $K 9700 $S 8700"
	g_wait_line krecv '^ready' 10
	g_start ksend "exec $GP/rds_seqcheck send -n 16 -c 16000 -r 2000 -t 90 $K 9600 $S 8600"
	h_start send "$PROGS/rds_seqcheck" send -n 16 -c 16000 -r 2000 -t 90 "$S" 8700 "$K" 9700
	h_wait_line recv '^progress t=[0-9]+ recv=([3-9][0-9]{3}|[1-9][0-9]{4,})$' 30
	g_run conns1 20 "$(g_conns_script "$S") | sort"
	before=$output
	old=$(daemon_pids "$(instance_of_addr "$S")")
	run env MPRDS_INSTANCE="$(instance_of_addr "$S")" timeout 20 "$MPRDS_BUILD/mprdsd" --upgrade
	((status == 0)) || fail_with_logs "mprdsd --upgrade: status $status: $output"
	observe "$output"
	[[ $(daemon_pids "$(instance_of_addr "$S")") != "$old" ]] || fail_with_logs "the same daemon serves"
	g_run conns2 20 "$(g_conns_script "$S") | sort"
	after=$output
	assert_equal "$(wc -l <<<"$before")" 8
	assert_equal "$after" "$before"
	assert_exits_ok send 90
	assert_exits_ok recv 90
	g_assert_ok ksend 90
	g_assert_ok krecv 90
	grep -q '^recv total=16000 dups=0 reorder=0 gaps=0 errors=0' "$(log_of recv)" ||
		fail_with_logs "mprds did not get the kernel's 16000 messages exactly once, in order"
	g_out krecv | grep -q '^recv total=16000 dups=0 reorder=0 gaps=0 errors=0' ||
		fail_with_logs "the kernel did not get our 16000 messages exactly once, in order"
	! grep -qE ' down: |restarted \(generation' "$(engine_log recv)" ||
		fail_with_logs "a path went down or a restart was seen"
	observe "longest pause at our receiver: $(grep -o 'max_gap_ms=.*' "$(log_of recv)")"
}

@test "IPv4-mapped IPv6 destination (::ffff:198.18.1.2) from an IPv4 socket: reaches the kernel as the IPv4 peer" {
	g_start echo "exec $GP/rds_echo $K 4310 3 30"
	g_wait_line echo '^ready' 10
	h_start send "$PROGS/rds_send_check" -t 20 "$S" 4311 "::ffff:$K" 4310 0 1 8192
	assert_exits_ok send 30
	g_assert_ok echo 10
	observe "the kernel: $(g_out echo | tr '\n' ';')" "mprds: $(grep "^echoes from" "$(log_of send)")"
	[[ $(grep -c "^echo len=[0-9]* from=$S:4311\$" "$(g_outfile echo)") == 3 ]] ||
		fail_with_logs "the kernel did not see 3 messages from the IPv4 peer $S:4311"
	grep -q "^echoes from $K:4310\$" "$(log_of send)" ||
		fail_with_logs "the echoes' source is not the IPv4 $K:4310 (as the kernel's recvmsg gives it)"
}

# --- the socket contract on the guest's kernel ----------------------------------------------

@test "socket API table (bats/progs/rds_api_table) on the guest's own kernel RDS: every runnable row passes" {
	# Last: it toggles much of the guest kernel's state (see guest.sh on timestamps).
	need_progs rds_api_table
	# Two network namespaces of the guest (a = 198.18.0.1, b = .2, joined by a veth), so that
	# ADDR1 -> ADDR2 crosses a real RDS/TCP connection (the program's header says why).
	g_run table 240 "ip -n a link set lo up; ip -n b link set lo up
		RDS_API_NETNS2=/var/run/netns/b exec ip netns exec a $GP/rds_api_table 198.18.0.1 198.18.0.2"
	grep -E '^(FAIL|SKIP)' <<<"$output" || true
	local summary
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' <<<"$output")
	echo "$INTEROP_KERNEL: $summary"
	echo "$INTEROP_KERNEL: $summary" >"$G/api-table.txt"
	[[ -n $summary ]] || fail_with_logs "rds_api_table did not finish (status $status)"
	((status == 0)) || fail_with_logs "rows failing on the kernel: $(grep '^FAIL' <<<"$output" | cut -c1-200)"
	[[ $summary =~ ^[1-9][0-9]*\ passed,\ 0\ failed ]] || fail_with_logs "not every runnable row passed: $summary"
}
