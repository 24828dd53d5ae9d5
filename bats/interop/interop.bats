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
# is slow under emulation).
start_killer() {
	local pick='sed -n 2p'
	[[ ${4:-} == all ]] && pick=cat
	g_start killer "for i in \$(seq 300); do
			$(g_conns_script "$3") >/tmp/conns.\$\$
			[ \$(wc -l </tmp/conns.\$\$) -ge 8 ] && break
			sleep 0.1
		done
		filter=\$($pick /tmp/conns.\$\$ | awk '{ l = \$1; r = \$2; sub(/.*:/, \"\", l); sub(/.*:/, \"\", r)
			printf \"%s( sport = :%s and dport = :%s )\", (NR > 1 ? \" or \" : \"\"), l, r }')
		[ -n \"\$filter\" ] || { echo 'no connection to kill'; exit 1; }
		for i in \$(seq 1200); do grep -qE '$2' '$1' 2>/dev/null && break; sleep 0.05; done
		ss -K -tn state established \"( \$filter )\" >/tmp/killed.\$\$
		echo \"killed \$(( \$(wc -l </tmp/killed.\$\$) - 1 )) after: \$(grep -E '^progress' '$1' | tail -n1)\"
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
	path_report "$(log_of send)"
	grep -qE 'path [0-7]: down' "$(log_of send)" || fail_with_logs "no path of ours went down"
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
	path_report "$(log_of recv)"
	grep -qE 'path [0-7]: down' "$(log_of recv)" || fail_with_logs "no path of ours went down"
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
	path_report "$(log_of send)"
	grep -qE 'path [0-7]: down' "$(log_of send)" || fail_with_logs "no path of ours went down"
}

@test "ss -K of every path at once during a stream kernel -> mprds: completes, nothing lost or duplicated" {
	g_wait_conns gone "$S" 0 20 || true
	h_start recv "$PROGS/rds_stream" -m recv $STREAM -t 120 "$S" 7700 "$K" 6700
	h_wait_line recv '^ready'
	start_killer "$(log_of recv)" "$KILL_AT" "$S" all
	g_start send "exec $GP/rds_stream -m send $STREAM -t 120 -H 100 $K 6700 $S 7700"
	killer_done
	killed_mid_stream
	assert_exits_ok recv 120
	path_report "$(log_of recv)"
	grep -q "total sockets=16 sent=0 recv=$STREAM_TOTAL errors=0" "$(log_of recv)" ||
		fail_with_logs "mprds did not get all $STREAM_TOTAL messages in order"
	g_wait_line send '^done' 10
}

@test "ss -K of every path at once during a stream mprds -> kernel: completes, nothing lost or duplicated" {
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
	path_report "$(log_of send)"
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
