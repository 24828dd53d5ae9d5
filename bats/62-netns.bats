#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Real network faults between two network namespaces that each test makes (names unique to
# the run, a veth pair, addresses in 198.18.10.0/24 .. 198.18.19.0/24 only): nftables drops
# 2% of the RDS/TCP packets at random (`numgen random`), and a link goes down under a
# sender. Needs root (ip netns, nft); skipped without.

load helpers

setup() {
	mprds_setup
	need_progs rds_seqcheck
	[[ $(id -u) -eq 0 ]] || skip "needs root for ip netns"
	command -v nft >/dev/null || skip "needs nft (tools/deps.sh installs nftables)"
	NS_TAG="mprds5-$$-$RANDOM"
	NS_A="$NS_TAG-a"
	NS_B="$NS_TAG-b"
	NS_MADE=()
}

teardown() {
	local ns
	mprds_teardown
	for ns in "${NS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# drop_2pct NS: 2% of the TCP packets to or from port 16385 that reach NS are dropped.
drop_2pct() {
	ip netns exec "$1" nft -f - <<-EOF
		table inet mprds_faults {
			chain input {
				type filter hook input priority 0; policy accept;
				tcp dport $RDS_TCP_PORT numgen random mod 100 < 2 counter drop
				tcp sport $RDS_TCP_PORT numgen random mod 100 < 2 counter drop
			}
		}
	EOF
}

dropped() {
	ip netns exec "$1" nft list table inet mprds_faults |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) }
			END { print n + 0 }'
}

# in_ns NAME NS [VAR=VALUE ...] PROG ARGS...: start_bg, inside namespace NS.
in_ns() {
	local name=$1 ns=$2
	shift 2
	local -a envs=()
	while [[ $# -gt 0 && $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
		envs+=("$1")
		shift
	done
	start_bg "$name" "${envs[@]}" ip netns exec "$ns" "$@"
}

@test "netns: 2% of RDS/TCP packets dropped at random: every message arrives, in order" {
	local n=${MPRDS_NETNS_MSGS:-20000}
	make_ns_pair 198.18.11
	drop_2pct "$NS_A"
	drop_2pct "$NS_B"
	in_ns recv "$NS_B" "$PROGS/rds_seqcheck" recv -c "$n" -t 120 "$B" 6000 "$A" 5000
	wait_for_line recv '^ready'
	in_ns send "$NS_A" "$PROGS/rds_seqcheck" send -c "$n" -r 5000 -t 120 "$A" 5000 "$B" 6000
	assert_exits_ok recv 150
	assert_exits_ok send 30
	run cat "$(log_of recv)"
	assert_line "recv total=$n dups=0 reorder=0 gaps=0 errors=0"
	echo "# $n messages, in order; nftables dropped $(dropped "$NS_A") + $(dropped "$NS_B")" \
		"packets; $(sed -n 's/^elapsed_ms=//p' "$(log_of recv)") ms" >&3
}

@test "netns: the link goes down under a sender: SO_SNDTIMEO sends end with ETIMEDOUT" {
	local start elapsed
	make_ns_pair 198.18.12
	in_ns recv "$NS_B" "$PROGS/rds_seqcheck" recv -g -t 60 "$B" 6000 "$A" 5000
	wait_for_line recv '^ready'
	# 60 KB messages at 200 a second with SO_SNDTIMEO 1 s; stops at the first ETIMEDOUT.
	in_ns send "$NS_A" MPRDS_LINGER_MS=1000 "$PROGS/rds_seqcheck" send -c 0 -s 60000 -r 200 \
		-T 1000 -x -t 60 "$A" 5000 "$B" 6000
	wait_for_line recv '^first'
	sleep 0.5
	start=$(date +%s%N)
	ip -n "$NS_A" link set veth0 down
	assert_exits_ok send 30
	elapsed=$((($(date +%s%N) - start) / 1000000))
	run cat "$(log_of send)"
	assert_line --regexp '^etimedout after [0-9]+ ms'
	echo "# link down: the sender had ETIMEDOUT and exited (linger 1 s) ${elapsed} ms later" >&3
	assert_stops_ok recv
	run cat "$(log_of recv)"
	assert_line --regexp '^recv total=[1-9][0-9]* dups=0 reorder=0 gaps=0 errors=0$'
}
