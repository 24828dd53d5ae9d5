#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# RDS over IPv6 TCP paths, with sockaddr_in6 and scope ids: two network namespaces made here,
# joined by a veth. No address is assigned: each end has only its automatic link-local
# address (fe80::/64, on that veth), so no traffic can leave the pair. Needs root.

load helpers

setup() {
	mprds_setup
	need_progs rds_v6
	[[ $(id -u) == 0 ]] || skip "needs root for network namespaces"
	command -v ip >/dev/null || skip "no ip(8)"
	NSA="mprds6a$$" NSB="mprds6b$$" VA="m6a$$" VB="m6b$$"
	ip netns add "$NSA"
	ip netns add "$NSB"
	ip link add "$VA" netns "$NSA" type veth peer name "$VB" netns "$NSB"
	ip -n "$NSA" link set lo up
	ip -n "$NSB" link set lo up
	ip -n "$NSA" link set "$VA" up
	ip -n "$NSB" link set "$VB" up
}

teardown() {
	mprds_teardown
	ip netns del "$NSA" 2>/dev/null || true
	ip netns del "$NSB" 2>/dev/null || true
}

# link_local NS DEV: the address, once duplicate address detection is over (bounded).
link_local() {
	local i a
	for ((i = 0; i < 50; i++)); do
		a=$(ip -n "$1" -6 addr show dev "$2" scope link | awk '/inet6/ && !/tentative/ {print $2}')
		[[ -n $a ]] && { echo "${a%/*}"; return 0; }
		sleep 0.1
	done
	return 1
}

@test "IPv6: link-local addresses with scope ids, 8 TCP paths, echoes from a sockaddr_in6" {
	local la lb n i
	la=$(link_local "$NSA" "$VA") || fail "no link-local address on $VA"
	lb=$(link_local "$NSB" "$VB") || fail "no link-local address on $VB"
	start_bg echo ip netns exec "$NSB" "$MPRDS_RUN" "$PROGS/rds_v6" echo "$lb%$VB" 5000 64 4
	wait_for_line echo '^ready'
	# the peer's scope is our own interface, as for any link-local destination
	ip netns exec "$NSA" "$MPRDS_RUN" "$PROGS/rds_v6" send "$la%$VA" 5001 "$lb%$VA" 5000 64 3 \
		>"$(log_of send)" 2>&1 &
	BG_PIDS+=("$!")
	BG_PID_OF[send]=$!
	wait_for_line send '^ok' 20
	for ((i = 0; i < 20; i++)); do
		n=$(ip netns exec "$NSA" ss -Htn state established \
			'( sport = :16385 or dport = :16385 )' | wc -l)
		((n == 8)) && break
		sleep 0.1
	done
	assert_exits_ok send 30
	assert_exits_ok echo 30
	run cat "$(log_of send)"
	assert_line 'ok 64 echoes'
	[[ $n == 8 ]] || fail "want 8 IPv6 TCP paths, saw $n"
}
