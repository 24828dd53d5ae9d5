#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The socket API table (bats/progs/rds_api_table.c: one row or a few per row of
# shared/spec/socket-api.md §2-§13, expectations checked against the kernel's RDS) under the
# shim. Every row must pass except those listed in bats/progs/rds_api_table.known (one row id
# per line, then the reason). One process, $NET.240 and $NET.241.

load helpers

KNOWN="$BATS_TEST_DIRNAME/progs/rds_api_table.known"

# Runs the table once for the file; both tests read its output.
setup_file() {
	local out="$BATS_FILE_TMPDIR/api_table.out"
	[[ -x $PROGS/rds_api_table && -x $MPRDS_RUN ]] || return 0
	local rc=0
	# STRICT: no row is skipped for the kernel's loopback-connection quirks. First the
	# in-process engine (MPRDS_ENGINE=process)...
	MPRDS_ENGINE=process RDS_API_STRICT=1 timeout 300 "$MPRDS_RUN" "$PROGS/rds_api_table" "$NET.240" "$NET.241" >"$out" 2>&1 || rc=$?
	echo "$rc" >"$BATS_FILE_TMPDIR/api_table.rc"
	# again, served by mprdsd (host-wide mode), which then leaves ::1 and 127.0.0.1 free
	local inst="apitab$$" i
	rc=0
	MPRDS_ENGINE=daemon MPRDS_INSTANCE=$inst MPRDS_IDLE_EXIT=0.5 \
		MPRDS_DAEMON_LOG="$BATS_FILE_TMPDIR/daemon.log" RDS_API_STRICT=1 timeout 300 \
		"$MPRDS_RUN" "$PROGS/rds_api_table" "$NET.240" "$NET.241" \
		>"$BATS_FILE_TMPDIR/api_table_daemon.out" 2>&1 || rc=$?
	echo "$rc" >"$BATS_FILE_TMPDIR/api_table_daemon.rc"
	for ((i = 0; i < 100; i++)); do
		ss -xlH | grep -qF ".$inst " || return 0
		sleep 0.1
	done
	for i in $(ss -xlpH | grep -F ".$inst " | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
		kill -KILL "$i"
	done
}

setup() {
	mprds_setup
	need_progs rds_api_table
	[[ -f $KNOWN ]] || fail "missing $KNOWN"
	OUT="$BATS_FILE_TMPDIR/api_table.out"
	RC=$(cat "$BATS_FILE_TMPDIR/api_table.rc")
}
teardown() { mprds_teardown; }

known_ids() { awk '!/^#/ && NF { print $1 }' "$KNOWN"; }

# check_table OUT RC: the table ran, and every row that failed is in rds_api_table.known.
check_table() {
	local out=$1 rc=$2
	run cat "$out"
	# 0: all passed, 1: some row failed; anything else: crash, timeout or usage error.
	[[ $rc == 0 || $rc == 1 ]] || fail "rds_api_table exited $rc"
	assert_line --regexp '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'
	local id unexpected=()
	for id in $(awk '$1 == "FAIL" { print $2 }' "$out"); do
		known_ids | grep -qxF -- "$id" || unexpected+=("$id")
	done
	if ((${#unexpected[@]})); then
		grep '^FAIL' "$out"
		fail "rows failing that rds_api_table.known does not list: ${unexpected[*]}"
	fi
}

@test "socket API table served by mprdsd (MPRDS_ENGINE=daemon): the same rows pass" {
	check_table "$BATS_FILE_TMPDIR/api_table_daemon.out" \
		"$(cat "$BATS_FILE_TMPDIR/api_table_daemon.rc")"
}

@test "socket API table under the shim, in-process engine (MPRDS_ENGINE=process): no failing row outside rds_api_table.known" {
	check_table "$OUT" "$RC"
}

@test "rds_api_table.known lists only rows that fail (and exist)" {
	local id stale=()
	for id in $(known_ids); do
		grep -q "^FAIL $id " "$OUT" || stale+=("$id")
	done
	((${#stale[@]} == 0)) || fail "listed in rds_api_table.known but not failing: ${stale[*]}"
}
