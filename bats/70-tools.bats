#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The tools: mprds-ping gets replies from a peer's port 0; mprds-info lists the sockets,
# connection and 8 paths of the test's own processes (through their control sockets), and
# getsockopt RDS_INFO_* answers inside a program; mprds-stress runs for 2 s and prints a
# summary. No assertion on any figure. Addresses $NET.100 .. .119.

load helpers

setup() {
	mprds_setup
	need_tools
}
teardown() { mprds_teardown; }

@test "mprds-ping: every ping to a C peer is answered from the peer's port 0" {
	need_progs rds_multi
	# one socket that expects nothing, then holds until SIGTERM
	start_bg peer "$PROGS/rds_multi" -m recv -n 1 -c 0 -H 30 "$NET.101" 4000 "$NET.100" 4000
	wait_for_line peer '^ready'
	run shimt 30 "$TOOLS/mprds-ping" -c 3 -i 0.2 -v -I "$NET.100" "$NET.101"
	assert_success
	assert_line --regexp "^ +1: [0-9]+ usec from $NET.101:0, 0 bytes$"
	assert_line --regexp "^ +2: [0-9]+ usec from $NET.101:0, 0 bytes$"
	assert_line --regexp "^ +3: [0-9]+ usec from $NET.101:0, 0 bytes$"
	refute_output --partial ERROR
	# The application saw none of it: its engine answered.
	assert_stops_ok peer
	run cat "$(log_of peer)"
	assert_line "total sockets=1 sent=0 recv=0 errors=0"
}

@test "mprds-ping: a python3 peer answers too, in rds-ping's output format" {
	start_bg peer "$PY" "$PYDIR/rds_echo.py" "$NET.103" 4000 0 30
	wait_for_line peer '^ready'
	run shimt 30 "$TOOLS/mprds-ping" -c 2 -i 100ms -Q 0 -I "$NET.102" "$NET.103"
	assert_success
	assert_line --regexp '^ +1: [0-9]+ usec$'
	assert_line --regexp '^ +2: [0-9]+ usec$'
}

@test "mprds-ping: an address of its own process answers at once" {
	run shimt 30 "$TOOLS/mprds-ping" -c 2 -i 0.1 -v -I "$NET.104" "$NET.104"
	assert_success
	assert_line --regexp "^ +2: [0-9]+ usec from $NET.104:0, 0 bytes$"
}

@test "mprds-ping: nobody serves the address: no reply, status 1" {
	run shimt 30 "$TOOLS/mprds-ping" -c 2 -i 0.2 -I "$NET.105" "$NET.106"
	assert_failure 1
	refute_output --regexp 'usec'
}

# Two processes with 16 sockets each on $NET.110 and $NET.111, 8 paths between them, holding.
start_pair() {
	need_progs rds_multi
	start_bg first "$PROGS/rds_multi" -m both -W -n 16 -c 20 -H 60 -t 40 \
		"$NET.111" 5000 "$NET.110" 5000
	wait_for_line first '^ready'
	start_bg second "$PROGS/rds_multi" -m both -n 16 -c 20 -H 60 -t 40 \
		"$NET.110" 5000 "$NET.111" 5000
	wait_for_line second '^done' 45
	wait_for_line first '^done' 45
	assert_conns "$NET.110" "$NET.111" 8
}

# engine_name NAME: how mprds-info heads the engine that serves NAME: its pid and command.
engine_name() {
	local pid
	pid=$(host_pid "$1")
	echo "$pid \\($(cat "/proc/$pid/comm")\\)"
}

@test "mprds-info: the sockets, connection and 8 paths of a process" {
	start_pair
	# -p takes the application's pid: host-wide, it names the daemon that serves it
	run timeout 30 "$TOOLS/mprds-info" -p "$(pid_of second)" -k -n -T --paths
	assert_success
	if host_wide; then
		assert_line --regexp "^process $(pid_of second) \(rds_multi\) is served by mprdsd $(host_pid second) \(instance [^)]+\): the host's engine$"
	fi
	assert_line --regexp "^mprds process $(engine_name second): 16 sockets, 1 connections, npaths 8, tcp port $RDS_TCP_PORT$"
	local port n
	for ((port = 5000; port < 5016; port++)); do
		assert_line --regexp "^ +$NET.110 +$port +0\.0\.0\.0 +0 +[0-9]+ +[0-9]+ +[0-9]+$"
	done
	assert_line --regexp "^ +$NET.110 +$NET.111 +[0-9]+ +[0-9]+ +--C$"
	# TCP Connections: 8, from ephemeral ports (the smaller address connects) to 16385
	n=$(grep -cE "^ +$NET.110 +[0-9]+ +$NET.111 +$RDS_TCP_PORT +[0-9]+ " <<<"$output")
	[[ $n == 8 ]] || fail "want 8 TCP connections in mprds-info -T, found $n"
	# mprds Paths: path i of 8, up, each a different TCP connection
	local i
	for ((i = 0; i < 8; i++)); do
		assert_line --regexp "^ +$NET.110 +$NET.111 +$i/8 up +[0-9]+ +$RDS_TCP_PORT "
	done
	n=$(grep -cE "^ +$NET.110 +$NET.111 +[0-7]/8 up " <<<"$output")
	[[ $n == 8 ]] || fail "want 8 paths, found $n"
	assert_stops_ok first
	assert_stops_ok second
}

@test "mprds-info: every mprds process on the host, all tables, and the IPv6 variants" {
	start_pair
	run timeout 30 "$TOOLS/mprds-info"
	assert_success
	assert_line --regexp "^mprds process $(engine_name first): 16 sockets"
	assert_line --regexp "^mprds process $(engine_name second): 16 sockets"
	assert_line "Counters:"
	assert_line --regexp '^ +conn_reset +[0-9]+$'
	assert_line --regexp '^ +mprds_path_msgs_sent +[1-9][0-9]*$'
	assert_line "RDS Sockets:"
	assert_line "RDS Connections:"
	assert_line "Receive Message Queue:"
	assert_line "Send Message Queue:"
	assert_line "Retransmit Message Queue:"
	assert_line "TCP Connections:"
	assert_line "mprds Paths:"
	assert_line --regexp "^ +$NET.111 +$NET.110 +[0-7]/8 up +$RDS_TCP_PORT "
	# one process's engine counts under the kernel's names: messages, probes, maps, reads
	run timeout 30 "$TOOLS/mprds-info" -c -p "$(host_pid second)"
	assert_success
	local c
	for c in send_queued copy_from_user recv_queued recv_delivered copy_to_user \
		recv_bytes_added_to_sock recv_bytes_freed_fromsock recv_ping send_pong \
		cong_update_queued cong_update_received tcp_data_ready_calls; do
		assert_line --regexp "^ *$c +[1-9][0-9]*$" # the longest names fill the column
	done
	assert_line --regexp '^ *recv_drop_no_sock +0$'
	run timeout 30 "$TOOLS/mprds-info" -6 -k -n -p "$(host_pid first)"
	assert_success
	assert_line --regexp "^ +$NET.111 +5015 +:: +0 +[0-9]+ +[0-9]+ +[0-9]+$"
	assert_line --regexp "^ +$NET.111 +$NET.110 +[0-9]+ +[0-9]+ +--C$"
	run timeout 30 "$TOOLS/mprds-info" -p 1
	assert_failure
	assert_output --partial "process 1 does not use mprds"
	assert_stops_ok first
	assert_stops_ok second
}

@test "getsockopt RDS_INFO_* inside a program: size probe, its own sockets, ENOPROTOOPT" {
	run shimt 30 "$PY" -c '
import errno, socket, struct, sys
SOL_RDS, RDS_INFO_SOCKETS, RDS6_INFO_SOCKETS, RDS_INFO_IB_CONNECTIONS = 276, 10006, 10015, 10008
addr = sys.argv[1]
socks = [socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET) for i in range(3)]
for i, s in enumerate(socks[:2]):
    s.bind((addr, 6000 + i))
try:
    socks[2].getsockopt(SOL_RDS, RDS_INFO_SOCKETS)  # a 4-byte buffer
    print("probe: no error")
except OSError as e:
    print("probe:", errno.errorcode[e.errno])
b = socks[2].getsockopt(SOL_RDS, RDS_INFO_SOCKETS, 1024)
for i in range(0, len(b), 28):
    snd, ba, ca, bp, cp, rcv, ino = struct.unpack("<I4s4s2s2sIQ", b[i:i + 28])
    print("socket %s:%d" % (socket.inet_ntoa(ba), struct.unpack(">H", bp)[0]))
print("rds6 sockets:", len(socks[2].getsockopt(SOL_RDS, RDS6_INFO_SOCKETS, 1024)) // 52)
try:
    socks[2].getsockopt(SOL_RDS, RDS_INFO_IB_CONNECTIONS, 1024)
except OSError as e:
    print("ib:", errno.errorcode[e.errno])
' "$NET.107"
	assert_success
	assert_line "probe: ENOSPC"
	assert_line "socket $NET.107:6000"
	assert_line "socket $NET.107:6001"
	assert_line "rds6 sockets: 3"
	assert_line "ib: ENOPROTOOPT"
}

@test "mprds-stress: a 2 s run prints throughput lines and a summary on both sides" {
	start_bg passive "$TOOLS/mprds-stress" -r "$NET.113" -p 4000
	wait_for_line passive '^waiting'
	run shimt 60 "$TOOLS/mprds-stress" -r "$NET.112" -s "$NET.113" -p 4000 \
		-T 2 -d 4 -q 4K
	assert_success
	assert_line --regexp '^tsks +tx/s +rx/s +tx\+rx K/s +tx us/c +rtt us$'
	assert_line --regexp '^summary: [0-9.]+ s, 1 tasks, req 4096 B, ack 64 B, depth 4$'
	assert_line --regexp '^  messages: tx [1-9][0-9]* '
	assert_line --regexp '^  rtt us: +avg [0-9.]+, p50 [0-9.]+, p99 [0-9.]+'
	assert_line '  errors:   0'
	assert_exits_ok passive 20
	run cat "$(log_of passive)"
	assert_line --regexp "^testing with $NET.112: 1 tasks, req 4096 B, ack 64 B, depth 4, 2 s$"
	assert_line --regexp '^summary: '
	assert_line '  errors:   0'
}

@test "mprds-stress: 4 tasks as threads, summary only" {
	start_bg passive "$TOOLS/mprds-stress" -r "$NET.115"
	wait_for_line passive '^waiting'
	run shimt 60 "$TOOLS/mprds-stress" -r "$NET.114" -s "$NET.115" \
		-t 4 --threads -T 2 -z
	assert_success
	refute_line --regexp '^tsks'
	assert_line --regexp '^summary: [0-9.]+ s, 4 tasks, req 1024 B, ack 64 B, depth 1$'
	assert_line '  errors:   0'
	assert_exits_ok passive 20
}
