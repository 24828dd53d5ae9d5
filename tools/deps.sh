#!/bin/bash
# SPDX-License-Identifier: MIT
#
# deps.sh [demo|check|fuzz|bench|deb]: makes sure the Debian packages that target needs are
# installed (deb: what building and checking the Debian package needs).
# As root it installs what is missing with apt-get; otherwise it prints the command to run and
# fails.

set -eu
PROGRAM="${0##*/}"
target="${1:-check}"

die() {
	echo "$PROGRAM: $*" >&2
	exit 1
}

packages=(libev-dev check bats bats-assert bats-support iproute2 python3 pkg-config gcc make)
case "$target" in
demo) ;;
check) packages+=(clang libclang-rt-dev nftables) ;;
fuzz) packages+=(clang libclang-rt-dev) ;;
bench) packages+=(nftables gnuplot-nox) ;;
deb) packages+=(build-essential dpkg-dev debhelper lintian) ;;
*) die "usage: $PROGRAM demo|check|fuzz|bench|deb" ;;
esac

if ! command -v dpkg-query >/dev/null; then
	echo "$PROGRAM: not a Debian system; make sure these are installed: ${packages[*]}" >&2
	exit 0
fi

missing() {
	local p

	for p in "$@"; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] ||
			echo "$p"
	done
}

install() {
	[[ $# -gt 0 ]] || return 0
	if [[ $(id -u) -ne 0 ]]; then
		echo "$PROGRAM: missing Debian packages; install them with:" >&2
		echo "    sudo apt-get install -y --no-install-recommends $*" >&2
		exit 1
	fi
	echo "[#] apt-get install -y --no-install-recommends $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "$@"
}

# libFuzzer comes in clang's runtime (libclang-rt-dev), which Debian's clang only recommends.
mapfile -t need < <(missing "${packages[@]}")
install "${need[@]}"

for lib in bats-support bats-assert; do
	[[ -f /usr/lib/bats/$lib/load.bash ]] ||
		die "/usr/lib/bats/$lib/load.bash is missing: reinstall the $lib package"
done
