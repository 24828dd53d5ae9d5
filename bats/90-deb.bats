#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The Debian package (debian/, make deb): it builds, lintian finds no error in it, and once
# installed its own files serve programs: a python3 pair on two hosts, and rds-stress style
# forked workers on one address. Its unit verifies; dpkg --purge leaves none of its files.
# As root only, and never over an mprds installed by someone else; teardown purges what the
# test installed. MPRDS_DEB_DIR (make deb-check) names a directory with the package built
# already; else the test builds it. Addresses $NET.230 (host A) and $NET.231 (host B).

load helpers

# From here on programs are run from the installed files, found on PATH.
MPRDS_RUN=mprds-run
SYSTEM_PATH=/usr/sbin:/usr/bin:/sbin:/bin

setup() {
	# the daemons stay for the whole test; teardown ends them by PID
	export MPRDS_IDLE_EXIT=30
	mprds_state_init
	VERSION="$(make -s -C "$REPO_ROOT" --no-print-directory version)"
	INSTALLED=
	A=$NET.230
	B=$NET.231
}

teardown() {
	mprds_teardown
	if [[ -n $INSTALLED ]]; then
		dpkg --purge mprds >/dev/null 2>&1 || echo "# teardown: dpkg --purge mprds failed" >&3
	fi
}

# Why the package cannot be tested here (empty: it can), installing what building needs.
why_not() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "needs root to install the package"
	elif ! command -v dpkg >/dev/null; then
		echo "not a Debian system"
	elif [[ -n $(dpkg-query -W -f='${db:Status-Status}' mprds 2>/dev/null | grep -v not-installed) ]]; then
		echo "mprds is installed on this machine already: the test would replace and purge it"
	elif [[ -z ${MPRDS_DEB_DIR:-} ]] && ! have_build_tools &&
		! timeout 600 bash "$REPO_ROOT/tools/deps.sh" deb >"$BATS_TEST_TMPDIR/deps.log" 2>&1; then
		echo "dpkg-buildpackage, dh or lintian missing and tools/deps.sh deb could not install them"
	fi
}

have_build_tools() {
	command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null &&
		command -v lintian >/dev/null
}

# The .deb of this VERSION: MPRDS_DEB_DIR's, or built here.
the_deb() {
	if [[ -n ${MPRDS_DEB_DIR:-} ]]; then
		ls "$MPRDS_DEB_DIR"/mprds_"$VERSION"_*.deb
	else
		timeout 900 bash "$REPO_ROOT/tools/deb.sh" "$BATS_TEST_TMPDIR/deb"
	fi
}

@test "debian/changelog's version is the Makefile's VERSION" {
	run sed -n '1s/^mprds (\([^)]*\)).*/\1/p' "$REPO_ROOT/debian/changelog"
	assert_output "$VERSION"
}

# installed_files: the files dpkg -L lists for mprds, not the directories (nor /lib, a link
# to one on a merged /usr).
installed_files() {
	local p
	while read -r p; do
		[[ -d $p ]] || echo "$p"
	done < <(dpkg -L mprds)
}

# One host's processes for the python pair: it prints "ready", then what it received.
RECV_PY='
import socket, sys
s = socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET, 0)
s.settimeout(10)
s.bind((sys.argv[1], 4000))
print("ready", flush=True)
data, src = s.recvfrom(100)
print("got %s from %s %d" % (data.decode(), src[0], src[1]))
'
SEND_PY='
import socket, sys
s = socket.socket(socket.AF_RDS, socket.SOCK_SEQPACKET, 0)
s.bind((sys.argv[1], 4001))
s.sendto(b"hello from the package", (sys.argv[2], 4000))
'

# Each host's daemon is the installed /usr/bin/mprdsd, one per host.
assert_installed_daemons() {
	local addr pids
	for addr in "$A" "$B"; do
		pids=$(daemon_pids "$(instance_of_addr "$addr")")
		[[ $(wc -w <<<"$pids") -eq 1 ]] || fail_with_logs "host $addr: daemons '$pids', want one"
		assert_equal "$(readlink "/proc/$pids/exe")" /usr/bin/mprdsd
	done
}

stop_daemons() {
	local inst
	for inst in "${!TEST_INSTANCES[@]}"; do
		stop_instance "$inst"
	done
}

@test "the Debian package: builds, lints clean, installed it serves programs, purges clean" {
	local why deb libdir unit f left=()
	why=$(why_not)
	[[ -z $why ]] || skip "$why"
	export PATH=$SYSTEM_PATH
	# the package's own files, as a user would run them (not make check SAN=1's runtimes)
	unset MPRDS_DAEMON MPRDS_ENGINE MPRDS_INSTANCE MPRDS_SAN_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS

	deb=$(the_deb) || fail "no package (see the build log above)"
	assert_equal "$(dpkg-deb -f "$deb" Version)" "$VERSION"
	run lintian --fail-on error "$deb"
	grep -E '^[WIE]: ' <<<"$output" | sed 's/^/# lintian: /' >&3 || true
	assert_success
	refute_line --regexp '^E: '

	INSTALLED=1
	run dpkg -i "$deb"
	assert_success
	installed_files >"$BATS_TEST_TMPDIR/files"
	# the library: the multiarch directory's mprds/, which the linker does not search
	libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/mprds
	[[ -f $libdir/libmprds.so ]] || fail "no $libdir/libmprds.so"
	ldconfig -p | grep -q libmprds && fail "libmprds.so is in the linker's cache"
	grep -qx "LIBDIR=\"$libdir\"" /usr/bin/mprds-run || fail "mprds-run does not name $libdir"
	zgrep -q "^\.I $libdir/libmprds\.so$" /usr/share/man/man7/mprds.7.gz ||
		fail "mprds.7 does not name $libdir/libmprds.so"
	assert_equal "$(command -v mprds-run)" /usr/bin/mprds-run
	assert_equal "$(mprds-run --version)" "mprds-run $VERSION"
	assert_equal "$(mprdsd --version)" "mprdsd $VERSION"

	# a python3 pair, each its own host (mprdsd instance)
	start_bg recv /usr/bin/python3 -c "$RECV_PY" "$A"
	wait_for_line recv '^ready'
	start_bg send /usr/bin/python3 -c "$SEND_PY" "$B" "$A"
	assert_exits_ok send 20
	assert_exits_ok recv 20
	grep -qx "got hello from the package from $B 4001" "$(log_of recv)" ||
		fail_with_logs "the receiver did not get the message"
	assert_installed_daemons

	# rds-stress style: 4 forked workers bind their own ports on ONE address (host A)
	start_bg echo /usr/bin/python3 "$PYDIR/rds_echo.py" "$B" 5200 202 20
	wait_for_line echo '^ready'
	start_bg workers /usr/bin/python3 "$PYDIR/hostwide_fork.py" "$A" 7000 "$B" 5200 4 50
	assert_exits_ok workers 60
	assert_exits_ok echo 20
	for f in 0 1 2 3; do
		grep -qx "task $f ok 50 echoes" "$(log_of workers)" || fail_with_logs "task $f"
	done
	grep -qx "all ok" "$(log_of workers)" || fail_with_logs "the workers did not all succeed"
	assert_installed_daemons

	# the installed unit
	unit=$(grep '/systemd/system/mprdsd\.service$' "$BATS_TEST_TMPDIR/files") ||
		fail "no mprdsd.service in the package"
	if command -v systemd-analyze >/dev/null; then
		run systemd-analyze verify --man=no "$unit"
		assert_success
		refute_output --partial mprdsd.service
	else
		echo "# no systemd-analyze: $unit not verified" >&3
	fi

	stop_daemons
	run dpkg --purge mprds
	assert_success
	INSTALLED=
	while read -r f; do
		[[ -e $f || -L $f ]] && left+=("$f")
	done <"$BATS_TEST_TMPDIR/files"
	[[ ${#left[@]} -eq 0 ]] || fail "left after dpkg --purge: ${left[*]}"
	[[ ! -e $libdir ]] || fail "left after dpkg --purge: $libdir"
	run find /etc/systemd /var/lib/systemd -name 'mprdsd*'
	assert_output ""
}
