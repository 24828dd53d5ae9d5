#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# mprds-run itself, and programs that never use RDS running under the shim.

load helpers

setup() { mprds_setup; }
teardown() { mprds_teardown; }

# The value of LD_PRELOAD that a program started by `mprds-run ARGS...` sees.
preload_seen() {
	"$@" /usr/bin/env 2>/dev/null | sed -n 's/^LD_PRELOAD=//p'
}

@test "mprds-run --help exits 0 and documents its options and MPRDS_ variables" {
	run timeout 20 "$MPRDS_RUN" --help
	assert_success
	assert_output --partial "mprds-run"
	assert_output --partial "MPRDS_NPATHS"
	assert_output --partial "MPRDS_LOG"
}

@test "mprds-run --version exits 0 and prints a version number" {
	run timeout 20 "$MPRDS_RUN" --version
	assert_success
	assert_output --regexp '[0-9]+\.[0-9]+'
}

@test "mprds-run without a program, or with an unknown option, fails" {
	run timeout 20 "$MPRDS_RUN"
	assert_failure
	run timeout 20 "$MPRDS_RUN" --no-such-option /bin/true
	assert_failure
}

@test "programs that never use RDS run under the shim; their exit status passes through" {
	run timeout 20 "$MPRDS_RUN" /bin/true
	assert_success
	assert_output ""
	run timeout 20 "$MPRDS_RUN" /bin/false
	assert_failure 1
	run timeout 20 "$MPRDS_RUN" /bin/sh -c 'echo child; exit 7'
	assert_failure 7
	assert_output "child"
}

@test "the unmodified system python3 runs under the shim" {
	run timeout 20 "$MPRDS_RUN" "$PY" -c 'print(1)'
	assert_success
	assert_output "1"
}

@test "a program that never makes an RDS socket gets no engine thread" {
	run timeout 20 "$MPRDS_RUN" "$PY" -c 'import os; print(len(os.listdir("/proc/self/task")))'
	assert_success
	assert_output "1"
}

@test "TCP and UDP work in a python3 program that never uses RDS" {
	run timeout 30 "$MPRDS_RUN" "$PY" - <<'PYEOF'
import socket, selectors
A = "127.0.0.30"
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind((A, 0)); u1.settimeout(5)
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.bind((A, 0)); u2.settimeout(5)
u1.sendto(b"udp", u2.getsockname())
data, src = u2.recvfrom(100)
assert (data, src) == (b"udp", u1.getsockname()), (data, src)
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((A, 0)); l.listen(1)
c = socket.create_connection(l.getsockname(), timeout=5)
a, _ = l.accept(); a.settimeout(5)
c.sendall(b"x" * 100000)
got = b""
while len(got) < 100000:
    chunk = a.recv(65536)
    assert chunk, "EOF"
    got += chunk
assert got == b"x" * 100000
sel = selectors.DefaultSelector(); a.setblocking(False); sel.register(a, selectors.EVENT_READ)
c.sendall(b"ping")
assert sel.select(5), "selector did not wake"
assert a.recv(10) == b"ping"
print("tcp udp ok")
PYEOF
	assert_success
	assert_output "tcp udp ok"
}

@test "program arguments reach the program untouched, even ones that look like options" {
	run timeout 20 "$MPRDS_RUN" /usr/bin/printf '%s|' -d -n 3 --help --version -- 'a b'
	assert_success
	assert_output -- "-d|-n|3|--help|--version|--|a b|"
	run timeout 20 "$MPRDS_RUN" -- /usr/bin/printf '%s|' x --
	assert_success
	assert_output -- "x|--|"
}

# LD_PRELOAD as seen by the program, without the sanitizer runtimes that a SAN=1 build's
# mprds-run puts ahead of the library (MPRDS_SAN_PRELOAD).
preload_without_san() {
	local v entry out=""
	v=$(preload_seen "$@")
	for entry in ${v//:/ }; do
		[[ " ${MPRDS_SAN_PRELOAD:-} " == *" $entry "* ]] && continue
		out+="${out:+:}$entry"
	done
	echo "$out"
}

@test "LD_PRELOAD starts with the absolute path of libmprds.so, and has it once" {
	local v first
	v=$(preload_without_san "$MPRDS_RUN")
	first=${v%%:*}
	echo "LD_PRELOAD (less MPRDS_SAN_PRELOAD)=$v"
	[[ $first == /*/libmprds.so ]] || fail "first LD_PRELOAD entry '$first' is not an absolute libmprds.so"
	[[ -f $first ]] || fail "$first does not exist"
	assert_equal "$(grep -o 'libmprds\.so' <<<"$v" | wc -l)" 1
}

@test "mprds-run under mprds-run still has libmprds.so once in LD_PRELOAD" {
	local v
	v=$(preload_seen "$MPRDS_RUN" "$MPRDS_RUN")
	echo "LD_PRELOAD=$v"
	assert_equal "$(grep -o 'libmprds\.so' <<<"$v" | wc -l)" 1
}

@test "mprds-run keeps an existing LD_PRELOAD entry after libmprds.so" {
	local v
	v=$(LD_PRELOAD=/nonexistent/libkeepme.so preload_without_san "$MPRDS_RUN")
	echo "LD_PRELOAD=$v"
	[[ $v == /*/libmprds.so:* ]] || fail "libmprds.so is not first: $v"
	[[ $v == *"/nonexistent/libkeepme.so"* ]] || fail "earlier entry lost: $v"
}

@test "mprds-run -n 1 sets MPRDS_NPATHS=1 for the program" {
	run timeout 20 "$MPRDS_RUN" -n 1 /usr/bin/env
	assert_success
	assert_line "MPRDS_NPATHS=1"
}
