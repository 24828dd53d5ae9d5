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
	need_progs rds_echo rds_send_check rds_multi rds_ping rds_congest rds_rounds
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
	start_bg send "$PROGS/rds_send_check" -t 20 "$S" 5001 "$K" 4001 5
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
	start_bg ping "$PROGS/rds_ping" -c 3 -t 15 "$S" 0 "$K"
	assert_exits_ok ping 30
	grep -q '^3/3 pongs' "$(log_of ping)" || fail_with_logs "not 3/3 pongs"
}

@test "smaller: the kernel pings mprds (rds-ping style), gets pongs" {
	start_bg echo "$PROGS/rds_echo" "$S" 4002 0 60
	wait_for_line echo '^ready'
	g_run ping 30 "exec $GP/rds_ping -c 3 -t 15 $K 0 $S"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_ping: status $status"
	[[ $output == *"3/3 pongs"* ]] || fail_with_logs "not 3/3 pongs"
}

@test "smaller: data mprds -> kernel -> mprds, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	g_start echo "exec $GP/rds_echo $K 4003 5 40"
	g_wait_line echo '^ready' 10
	start_bg send "$PROGS/rds_send_check" -t 30 "$S" 5003 "$K" 4003 $SIZES
	assert_exits_ok send 60
	g_assert_ok echo 10
}

@test "smaller: data kernel -> mprds -> kernel, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	start_bg echo "$PROGS/rds_echo" "$S" 4004 5 40
	wait_for_line echo '^ready'
	g_run send 60 "exec $GP/rds_send_check -t 30 $K 5004 $S 4004 $SIZES"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_send_check: status $status"
	assert_exits_ok echo 10
}

@test "smaller: 16 sockets both ways (mprds first), order and content; the guest's ss shows 8 TCP paths" {
	g_start multi "exec $GP/rds_multi -m both -W -n 16 -c 100 -H 40 -t 60 $K 6000 $S 7000"
	g_wait_line multi '^ready' 10
	start_bg multi "$PROGS/rds_multi" -m both -n 16 -c 100 -H 40 -t 60 "$S" 7000 "$K" 6000
	wait_for_line multi '^done sent=1600 recv=1600' 60
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
	start_bg multi MPRDS_NPATHS=1 "$PROGS/rds_multi" -m both -n 16 -c 20 -H 40 -t 60 "$S" 7100 "$K" 6100
	wait_for_line multi '^done sent=320 recv=320' 60
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
	start_bg ping "$PROGS/rds_ping" -c 3 -t 15 "$L" 0 "$K"
	assert_exits_ok ping 30
	grep -q '^3/3 pongs' "$(log_of ping)" || fail_with_logs "not 3/3 pongs"
}

@test "larger: the kernel pings mprds, gets pongs" {
	start_bg echo "$PROGS/rds_echo" "$L" 4012 0 60
	wait_for_line echo '^ready'
	g_run ping 30 "exec $GP/rds_ping -c 3 -t 15 $K 0 $L"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_ping: status $status"
	[[ $output == *"3/3 pongs"* ]] || fail_with_logs "not 3/3 pongs"
}

@test "larger: data mprds -> kernel -> mprds, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	g_start echo "exec $GP/rds_echo $K 4013 5 40"
	g_wait_line echo '^ready' 10
	start_bg send "$PROGS/rds_send_check" -t 30 "$L" 5013 "$K" 4013 $SIZES
	assert_exits_ok send 60
	g_assert_ok echo 10
}

@test "larger: data kernel -> mprds -> kernel, 0 B 1 B 8 KiB 64 KiB 1 MiB, content checked" {
	start_bg echo "$PROGS/rds_echo" "$L" 4014 5 40
	wait_for_line echo '^ready'
	g_run send 60 "exec $GP/rds_send_check -t 30 $K 5014 $L 4014 $SIZES"
	echo "$output"
	((status == 0)) || fail_with_logs "kernel rds_send_check: status $status"
	assert_exits_ok echo 10
}

@test "larger: 16 sockets both ways (kernel first), order and content; the guest's ss shows 8 TCP paths" {
	start_bg multi "$PROGS/rds_multi" -m both -W -n 16 -c 100 -H 40 -t 60 "$L" 7200 "$K" 6200
	wait_for_line multi '^ready'
	g_start multi "exec $GP/rds_multi -m both -n 16 -c 100 -H 40 -t 60 $K 6200 $L 7200"
	g_wait_line multi '^done sent=1600 recv=1600' 60
	wait_for_line multi '^done sent=1600 recv=1600' 30
	g_wait_conns conns "$L" 8
	echo "$output"
	local ss_status=$status ss_output=$output
	g_signal multi TERM
	assert_stops_ok multi
	g_assert_ok multi 10
	((ss_status == 0)) || fail_with_logs "guest: want 8 TCP connections with $L, ss shows: $ss_output"
}

@test "larger: MPRDS_NPATHS=1 (legacy single-path peer): the kernel uses one TCP path" {
	start_bg multi MPRDS_NPATHS=1 "$PROGS/rds_multi" -m both -W -n 16 -c 20 -H 40 -t 60 "$L1" 7300 "$K" 6300
	wait_for_line multi '^ready'
	g_start multi "exec $GP/rds_multi -m both -n 16 -c 20 -H 40 -t 60 $K 6300 $L1 7300"
	g_wait_line multi '^done sent=320 recv=320' 60
	wait_for_line multi '^done sent=320 recv=320' 30
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
	start_bg flood "$PROGS/rds_congest" flood -s 4096 -n 20000 -t 20 "$S" 5020 "$K" 4020
	wait_for_line flood '^(ENOBUFS|error)' 30
	g_signal sink USR1
	assert_exits_ok flood 30
	g_assert_ok sink 30
	local sent
	sent=$(sed -n 's/^sent \([0-9]*\) messages/\1/p' "$(log_of flood)")
	grep -q "^received $sent messages in order" "$(g_outfile sink)" ||
		fail_with_logs "mprds sent $sent messages, the kernel received: $(tail -n1 "$(g_outfile sink)")"
}

@test "congestion: an mprds receiver that stops reading -> the kernel sender gets ENOBUFS, then resumes" {
	start_bg sink "$PROGS/rds_congest" sink -r 32768 -H 40 -t 20 "$S" 4021
	wait_for_line sink '^ready'
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

# ss_kill_one ADDR: in the guest, kills (ss -K) one established RDS/TCP connection with ADDR.
ss_kill_one() {
	g_run sskill 15 "line=\$($(g_conns_script "$1") | sed -n 2p)
		[ -n \"\$line\" ] || line=\$($(g_conns_script "$1") | sed -n 1p)
		[ -n \"\$line\" ] || { echo 'no connection to kill'; exit 1; }
		set -- \$line
		echo \"killing \$3 <-> \$4\"
		lp=\${3##*:}; rp=\${4##*:}
		ss -K -tn state established \"( sport = :\$lp and dport = :\$rp )\""
	echo "$output"
	((status == 0)) || fail_with_logs "ss -K in the guest: status $status"
}

@test "ss -K of a path in the guest during a stream mprds -> kernel: completes, nothing lost or duplicated" {
	g_start recv "exec $GP/rds_multi -m recv -n 16 -c 3000 -t 90 $K 6400 $S 7400"
	g_wait_line recv '^ready' 10
	start_bg send "$PROGS/rds_multi" -m send -n 16 -c 3000 -H 60 -t 90 "$S" 7400 "$K" 6400
	g_wait_conns up "$S" 8 10 || true
	ss_kill_one "$S"
	g_wait recv 100 || fail_with_logs "kernel receiver: status $? (order/loss/duplicates above)"
	grep -q 'total sockets=16 sent=0 recv=48000 errors=0' "$(g_outfile recv)" ||
		fail_with_logs "kernel receiver did not get all 48000 messages in order"
	wait_for_line send '^done sent=48000' 10
}

@test "ss -K of a path in the guest during a stream kernel -> mprds: completes, nothing lost or duplicated" {
	start_bg recv "$PROGS/rds_multi" -m recv -n 16 -c 3000 -t 90 "$S" 7500 "$K" 6500
	wait_for_line recv '^ready'
	g_start send "exec $GP/rds_multi -m send -n 16 -c 3000 -H 60 -t 90 $K 6500 $S 7500"
	g_wait_conns up "$S" 8 10 || true
	ss_kill_one "$S"
	assert_exits_ok recv 100
	grep -q 'total sockets=16 sent=0 recv=48000 errors=0' "$(log_of recv)" ||
		fail_with_logs "mprds receiver did not get all 48000 messages in order"
	g_wait_line send '^done sent=48000' 10
}

@test "peer restart (rds_tcp reloaded in the guest): mprds reconnects, traffic resumes both ways" {
	start_bg rounds "$PROGS/rds_rounds" -t 30 -H 120 "$S" 4030 "$K" 4130
	wait_for_line rounds '^ready'
	g_start echo1 "exec $GP/rds_echo $K 4130 0 60"
	g_wait_line echo1 '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	wait_for_line rounds '^round 1 (ok|error)' 40
	grep -q '^round 1 ok' "$(log_of rounds)" || fail_with_logs "round 1 before the restart failed"
	g_run send1 40 "exec $GP/rds_send_check -t 30 $K 5030 $S 4030 0 1 8192 65536"
	((status == 0)) || fail_with_logs "kernel -> mprds before the restart: status $status"
	g_signal echo1 TERM
	g_wait echo1 10 || true
	g_run reload 60 "modprobe -r rds_tcp && ! grep -q '^rds_tcp ' /proc/modules && echo unloaded &&
		modprobe rds_tcp && grep -q '^rds_tcp ' /proc/modules && echo reloaded"
	echo "$output"
	((status == 0)) || fail_with_logs "reloading rds_tcp in the guest failed: $output"
	g_start echo2 "exec $GP/rds_echo $K 4130 0 60"
	g_wait_line echo2 '^ready' 10
	kill -USR1 "$(pid_of rounds)"
	wait_for_line rounds '^round 2 (ok|error)' 45
	grep -q '^round 2 ok' "$(log_of rounds)" || fail_with_logs "round 2 (mprds -> restarted kernel) failed"
	g_run send2 40 "exec $GP/rds_send_check -t 30 $K 5030 $S 4030 0 1 8192 65536"
	((status == 0)) || fail_with_logs "restarted kernel -> mprds: status $status"
	assert_stops_ok rounds
}
