#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh [--check] [--results FILE] [--tap FILE] [--readme FILE] [KERNEL...]
#
# The interop suite against the Linux kernel's rds_tcp (make interop, make check): for each
# KERNEL (default: 6.1 6.12 7.3; "6.1" = the kernel Debian ships now, behind linux-image-amd64;
# "6.12" = the newest 6.12 kernel in this Debian's archive, behind linux-image-6.12-amd64;
# "7.3" = the newest 7.3.x kernel in $INTEROP_SUITE (trixie-backports), "7" the newest 7.x
# there, looked up through a private apt state in build/interop/apt (the host's apt sources
# are left alone) and fetched by kvm-rds with KVM_RDS_SUITE; or a package name
# linux-image-..., with KVM_RDS_SUITE set for one from another suite) it
#   1. prepares the kvm-rds harness for that kernel (../shared/kvm-rds or /work/shared/kvm-rds, KVM_RDS),
#   2. boots the guest once, in the background, running bats/interop/guest.sh (the agent),
#   3. runs bats/interop/interop.bats in the host netns kvmrds (mprds on 198.18.1.1, .9, .10)
#      while the guest runs, then stops the guest,
# and prints the matrix (kernel x test -> pass/FAIL), also written to --results FILE
# (default build/interop/RESULTS.md); --tap FILE gets every kernel's TAP output; --readme
# FILE gets the table between its lines "<!-- BEGIN interop matrix -->" and "<!-- END ... -->".
#
# Everything a run uses is copied into build/interop/KREL/ (the library, mprds-run and the
# test programs, so a rebuild meanwhile changes nothing) and that directory alone is shared
# with the guest. It keeps the logs: trace.log (each test's steps, timed), host/N/*.log (our
# side, MPRDS_LOG=debug), out/ (the guest's jobs), console.log, handshake.{pcap,txt}.
#
# A kernel that cannot be found, fetched or booted gets one line "interop: SKIPPED kernel K:
# why" and the others run. --check (make check): that is not a failure, and where no guest
# can be prepared or booted at all (not root, no harness, no kernel package, qemu fails) it
# prints one line saying the suite was skipped and why, and exits 0. Without --check a
# skipped kernel makes the exit status 1.
#
# Environment: KVM_RDS (path of kvm-rds), MPRDS_BUILD (default build), INTEROP_BOOT_WAIT
# (seconds to wait for the guest, default 300: another kvm-rds VM may hold the harness),
# INTEROP_CAPTURE=1 (tcpdump every RDS/TCP packet in the guest for the whole run, to
# build/interop/KREL/all.pcap; INTEROP_SNAPLEN: bytes kept of each packet, default 200, 0 =
# whole packets), INTEROP_FILTER (bats -f regex: run only matching tests).

set -u -o pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# Beside the checkout (../shared), or the workplace's shared folder for a clone elsewhere (CI).
find_kvmrds() {
	local c
	for c in "$REPO/../shared/kvm-rds/kvm-rds" /work/shared/kvm-rds/kvm-rds; do
		[[ -x $c ]] && { readlink -f "$c"; return; }
	done
	echo "$REPO/../shared/kvm-rds/kvm-rds"
}
KVMRDS=${KVM_RDS:-$(find_kvmrds)}
BUILD=$(readlink -f "${MPRDS_BUILD:-$REPO/build}")
CACHE=${KVM_RDS_CACHE:-/var/cache/kvm-rds}
NETNS=${KVM_RDS_NETNS:-kvmrds}
TAPDEV=${KVM_RDS_TAP:-kvmrds0}
BOOT_WAIT=${INTEROP_BOOT_WAIT:-300}
EXTRA_ADDRS="198.18.1.9 198.18.1.10"
# Link-local IPv6 on the tap besides its own (EUI-64) one, so that mprds can be the smaller
# and the larger address against the guest's eth0 (interop.bats picks, helpers.bash v6_setup).
EXTRA_ADDRS6="fe80::198:18:1:1 fe80::ffff:198:18:9"
SUITE_TIMEOUT=900 # seconds for one kernel's bats run
GUEST_LIFE=$((SUITE_TIMEOUT + 60))

check=0 results='' tapout='' readme='' kernels=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--check) check=1 ;;
	--results) results=$2; shift ;;
	--tap) tapout=$2; shift ;;
	--readme) readme=$2; shift ;;
	-h | --help) sed -n '3,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) kernels+=("$1") ;;
	esac
	shift
done
((${#kernels[@]})) || kernels=(6.1 6.12 7.3)
SUITE=${INTEROP_SUITE:-trixie-backports} # where the 7.x kernels come from
: "${results:=$BUILD/interop/RESULTS.md}"

log() { echo "interop: $*" >&2; }

# skipped KERNEL: the one line saying that KERNEL did not run and why (NOTE_OF); the others
# go on. Not a failure with --check.
skipped() {
	echo "interop: SKIPPED kernel $1: ${NOTE_OF[$1]}"
	[[ -n $tapout ]] && echo "# interop: SKIPPED kernel $1: ${NOTE_OF[$1]}" >>"$tapout"
	((check)) || failed=1
}

# skip REASON: in --check mode the one line that says the suite did not run, and exit 0.
skip() {
	if ((check)); then
		echo "interop: SKIPPED (the kernel interop suite did not run): $*"
		[[ -n $tapout ]] && echo "1..0 # skip interop: $*" >"$tapout"
		exit 0
	fi
	echo "interop: cannot run: $*" >&2
	exit 1
}

[[ $(id -u) == 0 ]] || skip "needs root (qemu, tap device, network namespace)"
[[ -x $KVMRDS ]] || skip "no kvm-rds harness at $KVMRDS (set KVM_RDS)"
for f in "$BUILD/libmprds.so" "$BUILD/mprds-run" "$BUILD/progs/rds_multi" "$BUILD/progs/rds_ping"; do
	[[ -e $f ]] || { echo "interop: $f is missing: run make first" >&2; exit 1; }
done
command -v bats >/dev/null || { echo "interop: bats is missing (tools/deps.sh check)" >&2; exit 1; }

# tcpdump (the handshake capture): the guest runs the host's /usr/bin/tcpdump.
if ! command -v tcpdump >/dev/null; then
	log "installing tcpdump (the guest runs the host's)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tcpdump >&2 ||
		log "could not install tcpdump: the capture test will fail"
fi

# One interop run at a time on this machine (one netns, one tap, one harness kernel).
mkdir -p /run/lock 2>/dev/null
exec 8>/run/lock/mprds-interop.lock
lockwait=$((check ? 600 : 1200))
flock -w "$lockwait" 8 || skip "another interop run held /run/lock/mprds-interop.lock for ${lockwait} s"

apt_depends() { # the linux-image-X package that metapackage $1 depends on
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n 's/^Depends: *\(linux-image-[^ ,]*\).*/\1/p' | head -n1
}

# suite_apt CMD ARGS...: an apt command that sees this Debian's main suite and $SUITE, with a
# private state under build/interop/apt (refreshed once a day): kvm-rds's own lookup is done
# the same way, but is not a command of its own.
suite_apt() {
	local d=$BUILD/interop/apt/$SUITE base=${SUITE%%-*} uri
	local o=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache")
	if [[ ! -f $d/updated ]] || [[ -n $(find "$d/updated" -mmin +1440 2>/dev/null) ]]; then
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		uri=$({ grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
			grep -hs '^deb ' /etc/apt/sources.list | sed 's/\[[^]]*\]//' | awk '{print $2}'; } |
			grep -v security | head -n1)
		[[ -n $uri ]] || return 1
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$uri" "$base" "$uri" "$SUITE" | sort -u >"$d/sources.list"
		apt-get "${o[@]}" update -q >"$d/update.log" 2>&1 || return 1
		touch "$d/updated"
	fi
	"$1" "${o[@]}" "${@:2}"
}

# newest_in_suite X.Y: the newest linux-image-X.Y[.Z]+debN-amd64 of $SUITE (no -rt, -cloud).
newest_in_suite() {
	local re=${1//./\\.}
	suite_apt apt-cache pkgnames "linux-image-$1" 2>/dev/null |
		grep -E "^linux-image-$re(\.[0-9]+)*\+deb[0-9]+-amd64$" | sort -V | tail -n1
}

resolve_pkg() { # KERNEL -> package name, or empty
	case $1 in
	linux-image-*) echo "$1" ;;
	6.1) apt_depends linux-image-amd64 ;;
	7 | 7.*) newest_in_suite "$1" ;;
	*) apt_depends "linux-image-$1-amd64" ;;
	esac
}

suite_of() { # KERNEL -> the KVM_RDS_SUITE kvm-rds needs to fetch it
	case $1 in
	7 | 7.*) echo "$SUITE" ;;
	*) echo "${KVM_RDS_SUITE:-}" ;;
	esac
}

orig_krel=$(cat "$CACHE/current" 2>/dev/null || true) orig_suite=
[[ $orig_krel == 7.* ]] && orig_suite=$SUITE
restore_harness() {
	local now
	now=$(cat "$CACHE/current" 2>/dev/null || true)
	if [[ -n $orig_krel && $now != "$orig_krel" ]]; then
		KVM_RDS_SUITE=${orig_suite:-} KVM_RDS_KPKG=linux-image-$orig_krel "$KVMRDS" prepare >/dev/null 2>&1 ||
			log "could not switch the harness back to $orig_krel"
	fi
}

descendants() { # PID: its descendants' PIDs, deepest first
	local kid
	for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		descendants "$kid"
		echo "$kid"
	done
}

vm_pid=
# The guest's qemu and the kvm-rds run around it: their process group and every descendant
# (kvm-rds starts qemu under timeout(1), which has a process group of its own), by PID.
stop_vm() {
	local kids
	if [[ -n $vm_pid ]] && kill -0 "$vm_pid" 2>/dev/null; then
		kids=$(descendants "$vm_pid")
		kill -TERM -- "-$vm_pid" $kids 2>/dev/null
		sleep 2
		kill -KILL -- "-$vm_pid" $kids 2>/dev/null
	fi
	wait "$vm_pid" 2>/dev/null
	vm_pid=
}
cleanup() {
	stop_vm
	for a in $EXTRA_ADDRS; do
		ip -n "$NETNS" addr del "$a/24" dev "$TAPDEV" 2>/dev/null
	done
	for a in $EXTRA_ADDRS6; do
		ip -n "$NETNS" addr del "$a/64" dev "$TAPDEV" 2>/dev/null
	done
	restore_harness
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z $(apt-cache policy linux-image-amd64 2>/dev/null | sed -n 's/ *Candidate: *//p' | grep -v none) ]]; then
	apt-get update -q >/dev/null 2>&1
fi

declare -A KREL_OF=() NOTE_OF=() TIME_OF=()
ran=0 booted=0 failed=0
mkdir -p "$BUILD/interop"
[[ -n $tapout ]] && : >"$tapout"

for k in "${kernels[@]}"; do
	t0=$SECONDS
	pkg=$(resolve_pkg "$k")
	if [[ -z $pkg ]]; then
		case $k in
		7 | 7.*) NOTE_OF[$k]="no linux-image-$k.*-amd64 in $SUITE (apt lookup: see $BUILD/interop/apt/$SUITE/update.log)" ;;
		*) NOTE_OF[$k]="no $k kernel package in this Debian's archive (linux-image-$k-amd64)" ;;
		esac
		skipped "$k"
		continue
	fi
	krel=${pkg#linux-image-}
	krel=${krel%-unsigned}
	KREL_OF[$k]=$krel
	rundir=$BUILD/interop/$krel
	rm -rf "$rundir"
	mkdir -p "$rundir/build/progs"
	log "$k: preparing $pkg"
	ksuite=$(suite_of "$k")
	if ! KVM_RDS_SUITE=$ksuite KVM_RDS_KPKG=$pkg "$KVMRDS" prepare >"$rundir/prepare.log" 2>&1; then
		NOTE_OF[$k]="kvm-rds prepare of $pkg${ksuite:+ ($ksuite)} failed: $(grep -v '^ *$' "$rundir/prepare.log" | tail -n1) (see $rundir/prepare.log)"
		skipped "$k"
		((check)) || tail -n 5 "$rundir/prepare.log" >&2
		continue
	fi
	cp "$BUILD/libmprds.so" "$BUILD/mprds-run" "$rundir/build/"
	# host-wide rows: the shim starts the mprdsd beside the library
	[[ -x $BUILD/mprdsd ]] && cp "$BUILD/mprdsd" "$rundir/build/"
	[[ -x $BUILD/tools/mprds-info ]] && cp "$BUILD/tools/mprds-info" "$rundir/build/"
	find "$BUILD/progs" -maxdepth 1 -type f -perm -u+x -exec cp {} "$rundir/build/progs/" \;
	cp "$HERE/guest.sh" "$rundir/"
	"$KVMRDS" net-up >/dev/null 2>&1
	for a in $EXTRA_ADDRS; do
		ip -n "$NETNS" addr replace "$a/24" dev "$TAPDEV"
	done
	for a in $EXTRA_ADDRS6; do
		ip -n "$NETNS" addr replace "$a/64" dev "$TAPDEV" nodad
	done

	tprep=$((SECONDS - t0))
	log "$k: booting $krel (guest agent in $rundir)"
	setsid "$KVMRDS" run --share "$rundir" --timeout $((GUEST_LIFE + BOOT_WAIT + 60)) \
		--log "$rundir/console.log" -- \
		env INTEROP_CAPTURE="${INTEROP_CAPTURE:-0}" INTEROP_SNAPLEN="${INTEROP_SNAPLEN:-200}" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" bash "$rundir/guest.sh" "$rundir" "$GUEST_LIFE" \
		>"$rundir/vm.log" 2>&1 </dev/null &
	vm_pid=$!
	tlock=
	for ((i = 0; i < BOOT_WAIT * 5; i++)); do
		[[ -z $tlock ]] && grep -q '^kvm-rds: booting' "$rundir/vm.log" 2>/dev/null && tlock=$SECONDS
		[[ -e $rundir/ready ]] && break
		kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.2
	done
	if [[ ! -e $rundir/ready ]]; then
		NOTE_OF[$k]="the guest did not come up within ${BOOT_WAIT}s (see $rundir/vm.log)"
		skipped "$k"
		((check)) || tail -n 8 "$rundir/vm.log" >&2
		stop_vm
		continue
	fi
	booted=$((booted + 1))
	: "${tlock:=$SECONDS}"
	twait=$((tlock - t0 - tprep)) tboot=$((SECONDS - tlock)) tsuite=$SECONDS
	log "$k: guest up after ${tboot}s ($(head -n1 "$rundir/ready")); running the suite"

	# If the guest dies (a panic, qemu gone), the tests say so at once instead of waiting.
	(
		while kill -0 "$vm_pid" 2>/dev/null && [[ ! -e $rundir/stop ]]; do sleep 1; done
		[[ -e $rundir/stop ]] || echo "the guest is gone: $(grep -m1 -E 'Kernel panic|Oops|BUG' "$rundir/console.log" 2>/dev/null)" >"$rundir/guest-gone"
	) &
	watch_pid=$!
	filter=()
	[[ -n ${INTEROP_FILTER:-} ]] && filter=(-f "$INTEROP_FILTER")
	ip netns exec "$NETNS" env INTEROP_DIR="$rundir" MPRDS_BUILD="$rundir/build" \
		MPRDS_LOG=debug INTEROP_KERNEL="$krel" INTEROP_TAP="$TAPDEV" INTEROP_ADDRS6="$EXTRA_ADDRS6" \
		timeout -k 10 "$SUITE_TIMEOUT" bats --tap --timing "${filter[@]}" "$HERE/interop.bats" \
		</dev/null 2>&1 | tee "$rundir/bats.tap" | grep --line-buffered -E '^(ok|not ok) '
	ran=$((ran + 1))
	touch "$rundir/stop"
	wait "$watch_pid" 2>/dev/null
	[[ -e $rundir/guest-gone ]] && log "$k: $(cat "$rundir/guest-gone")"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$vm_pid" 2>/dev/null && log "$k: the guest did not stop: killing it"
	stop_vm
	TIME_OF[$k]="suite $((SECONDS - tsuite)) s, boot $tboot s, prepare $tprep s"
	((twait > 1)) && TIME_OF[$k]+=", $twait s waiting for another kvm-rds VM"
	log "$k: done in ${TIME_OF[$k]}"
	[[ -n $tapout ]] && { echo "# kernel $krel"; cat "$rundir/bats.tap"; } >>"$tapout"
	grep -q '^not ok ' "$rundir/bats.tap" && failed=1
	grep -qE '^(ok|not ok) ' "$rundir/bats.tap" || failed=1
done

((booted)) || skip "the guest could not be prepared or booted: $(for k in "${kernels[@]}"; do
	[[ -n ${NOTE_OF[$k]:-} ]] && printf '%s: %s; ' "$k" "${NOTE_OF[$k]}"; done | sed 's/; $//')"

# The matrix: one row per test (in the suite's order), one column per kernel.
{
	echo "# mprds against the Linux kernel's rds_tcp"
	echo
	echo "Produced by \`make interop\` (bats/interop/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
	accel=$(grep -ho 'booting [^ ]* ([a-z]*' "$BUILD"/interop/*/vm.log 2>/dev/null | head -n1 | sed 's/.*(//')
	echo "mprds $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'), guest under ${accel:-?}."
	echo "mprds runs in the host netns kvmrds (198.18.1.1 = smaller than the kernel's"
	echo "198.18.1.2; 198.18.1.9 and .10 = larger; IPv6: link-local addresses of the tap and the"
	echo "guest's eth0), the kernel's RDS in the kvm-rds guest. \"skipped\": the row needs a newer kernel"
	echo "(the 2026 rows: 7.0+). Each kernel's time: suite, guest boot, kvm-rds prepare."
	echo
	printf '| Test |'
	for k in "${kernels[@]}"; do printf ' %s |' "${KREL_OF[$k]:-$k}"; done
	echo
	printf '|---|'
	for k in "${kernels[@]}"; do printf -- '---|'; done
	echo
	names=$(for k in "${kernels[@]}"; do
		[[ -n ${KREL_OF[$k]:-} && -f $BUILD/interop/${KREL_OF[$k]}/bats.tap ]] &&
			sed -E -n 's/^(not )?ok [0-9]+ (.*)$/\2/p' "$BUILD/interop/${KREL_OF[$k]}/bats.tap" |
				sed -E 's/ # skip.*$//; s/ in [0-9]+ms$//'
	done | awk '!seen[$0]++')
	while IFS= read -r name; do
		[[ -n $name ]] || continue
		printf '| %s |' "$name"
		for k in "${kernels[@]}"; do
			f=$BUILD/interop/${KREL_OF[$k]:-none}/bats.tap
			r=$(awk -v n="$name" '{
				line = $0; st = ""
				if (sub(/^ok [0-9]+ /, "", line)) st = "pass"
				else if (sub(/^not ok [0-9]+ /, "", line)) st = "**FAIL**"
				else next
				if (sub(/ # skip.*$/, "", line)) st = "skipped"
				sub(/ in [0-9]+ms$/, "", line)
				if (line == n) { print st; exit }
			}' "$f" 2>/dev/null)
			printf ' %s |' "${r:-not run}"
		done
		echo
	done <<<"$names"
	echo
	for k in "${kernels[@]}"; do
		if [[ -n ${TIME_OF[$k]:-} ]]; then
			echo "- ${KREL_OF[$k]}: ${TIME_OF[$k]}."
		else
			echo "- $k: not run: ${NOTE_OF[$k]:-?}"
		fi
	done
} >"$results.tmp" && mv "$results.tmp" "$results"
if [[ -n $readme && -f $readme ]] && grep -q '^<!-- BEGIN interop matrix' "$readme"; then
	awk -v res="$results" '
		/^<!-- BEGIN interop matrix/ { print; skip = 1
			while ((getline line < res) > 0) if (line ~ /^[|-]/) {
				if (line ~ /^- / && prev ~ /^[|]/) print ""
				print line; prev = line
			}
			next }
		/^<!-- END interop matrix/ { skip = 0 }
		!skip' "$readme" >"$readme.tmp" && mv "$readme.tmp" "$readme"
fi
echo
cat "$results"
exit $failed
