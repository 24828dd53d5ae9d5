#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Hostile and broken peers (bats/py/hostile_peer.py, raw TCP): each malformed case gets its
# log line and costs only that TCP connection; meanwhile the victim keeps serving a
# well-behaved peer (2,000 messages a second, checked by sequence number), and its memory
# stays under a stated bound. Addresses: victim $NET.180, good peer $NET.181, hostile
# peers $NET.120 .. $NET.179 (smaller than the victim: their connections become paths).

load helpers

VICTIM=$NET.180
GOOD=$NET.181

# The victim's resident memory must stay under this (KiB). Unbounded, the flood below would
# take hundreds of MiB; bounded, a few. ASan keeps freed memory in quarantine and shadow
# pages: its bound is larger.
if [[ -n ${MPRDS_SAN_PRELOAD:-} ]]; then
	RSS_BOUND_KB=$((128 * 1024))
else
	RSS_BOUND_KB=$((32 * 1024))
fi

setup() {
	mprds_setup
	need_progs rds_seqcheck
}
teardown() { mprds_teardown; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# with_victim: the victim (a receiver for the good peer, plus port 7000 that it never reads,
# until SIGTERM) and the good peer, 8,000 messages at 2,000 a second.
with_victim() {
	start_bg victim MPRDS_LOG=info "$PROGS/rds_seqcheck" recv -p 100 -t 60 -z 7000 \
		"$VICTIM" 6000 "$GOOD" 5000
	wait_for_line victim '^ready'
	start_bg good "$PROGS/rds_seqcheck" send -c 8000 -r 2000 -t 60 "$GOOD" 5000 "$VICTIM" 6000
	wait_for_line victim '^first'
}

# victim_served: memory stayed bounded, and the good peer got everything through.
victim_served() {
	local rss
	rss=$(rss_kb "$(host_pid victim)")
	echo "# victim RSS ${rss} KiB (bound ${RSS_BOUND_KB} KiB)" >&3
	((rss > 0 && rss < RSS_BOUND_KB)) || fail_with_logs "victim RSS $rss KiB"
	assert_exits_ok good 30
	wait_for_line victim '^progress t=[0-9]+ recv=8000$' 10
	assert_stops_ok victim
	run cat "$(log_of victim)"
	assert_line "recv total=8000 dups=0 reorder=0 gaps=0 errors=0"
}

# hostile N CASE [ARGS...]: runs one case from $NET.N; it must end well.
hostile() {
	local n=$1
	shift
	run timeout 60 "$PY" "$PYDIR/hostile_peer.py" "$NET.$n" "$VICTIM" "$@"
	echo "$output" | sed 's/^/# /' >&3
	assert_success
}

@test "hostile: h_len of 2 GiB drops that connection with one log line" {
	with_victim
	hostile 170 bad_hlen
	wait_for_engine_line victim "$NET.170 path 0: malformed stream from peer \(h_len 2147483647: longer than 1 MiB\)"
	victim_served
	run grep -c "malformed stream from peer" "$(engine_log victim)"
	assert_output 1
}

@test "hostile: a truncated header, then close, drops that connection with one log line" {
	with_victim
	hostile 171 truncated
	wait_for_engine_line victim "$NET.171 path 0: peer closed the connection after 20 of a header's 48 bytes"
	victim_served
}

@test "hostile: unknown h_flags drop that connection with one log line" {
	with_victim
	hostile 172 unknown_flags
	wait_for_engine_line victim "$NET.172 path 0: malformed stream from peer \(unknown h_flags bits 0x80\)"
	victim_served
}

@test "hostile: a congestion map of the wrong length is ignored with one log line" {
	with_victim
	hostile 173 cong_len
	wait_for_engine_line victim "$NET.173 path 0: congestion map of 100 bytes \(not 8192\) ignored"
	victim_served
}

@test "hostile: an extension area that overruns is parsed up to the overrun, one log line" {
	with_victim
	hostile 174 ext_overrun
	wait_for_engine_line victim "$NET.174 path 0: extension area runs past its 16 bytes"
	victim_served
}

@test "hostile: sequence games follow the kernel's rule and say so once" {
	with_victim
	hostile 175 seq_games --port-to 7000
	wait_for_engine_line victim "$NET.175 path 0: sequence number went back \(3 after 5\)"
	victim_served
}

@test "hostile: a peer that pings and never reads gets a bounded number of pongs" {
	with_victim
	hostile 176 never_reads --seconds 2
	wait_for_engine_line victim "$NET.176 path 0: peer sends pings and does not read the pongs"
	victim_served
}

@test "hostile: a slow drip of one valid message, a byte every 10 ms, harms nobody" {
	with_victim
	hostile 177 slow_drip --port-to 7000
	victim_served
}

@test "hostile: a flood to a socket that is never read: reading pauses, memory bounded" {
	with_victim
	hostile 178 flood --port-to 7000 --seconds 3
	wait_for_engine_line victim "$NET.178 path 0: port 7000 holds [0-9]+ unread bytes: reading paused"
	victim_served
}

@test "hostile: thousands of idle connections from 40 addresses: fds and memory bounded" {
	local addrs fds pid
	with_victim
	pid=$(host_pid victim)
	addrs=$(seq -s, -f "$NET.%g" 120 159)
	start_bg idle "$PY" "$PYDIR/hostile_peer.py" "$NET.120" "$VICTIM" idle_conns --count 50 \
		--addrs "$addrs" --seconds 3
	wait_for_line idle '^idle: opened' 30
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	echo "# $(grep '^idle:' "$(log_of idle)"); victim holds $fds fds" >&3
	((fds < 200)) || fail_with_logs "victim holds $fds fds"
	wait_for_engine_line victim "peers connected and sent nothing yet: closing the connections of the oldest"
	assert_exits_ok idle 30
	victim_served
}
