#!/bin/bash
# SPDX-License-Identifier: MIT
#
# deb.sh OUTDIR: builds the Debian package (debian/) into OUTDIR and prints the path of
# mprds_VERSION_ARCH.deb (its -dbgsym package, .buildinfo and .changes lie beside it).
#
# It builds from a copy of the tree in OUTDIR: dpkg-buildpackage cleans the tree it runs in
# and writes its results to the directory above, and neither may touch the developer's tree.

set -euo pipefail
PROGRAM="${0##*/}"

die() {
	echo "$PROGRAM: $*" >&2
	exit 1
}

[[ $# -eq 1 ]] || die "usage: $PROGRAM OUTDIR"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
command -v dpkg-buildpackage >/dev/null || die "no dpkg-buildpackage: run tools/deps.sh deb"

version="$(make -s -C "$root" --no-print-directory version)"
logged="$(sed -n '1s/^mprds (\([^)]*\)).*/\1/p' "$root/debian/changelog")"
[[ $logged == "$version" ]] ||
	die "debian/changelog's version is '$logged', the Makefile's VERSION $version: give" \
		"debian/changelog an entry for $version"

src="$out/src/mprds-$version"
rm -rf "$out/src" "$out"/mprds*_"$version"_*
mkdir -p "$src"
tar -C "$root" --exclude=./build --exclude=./build-san --exclude=./.git -cf - . |
	tar -C "$src" -xf -
echo "[#] dpkg-buildpackage -us -uc -b (in $src, log $out/build.log)" >&2
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	die "dpkg-buildpackage failed: $out/build.log"
fi
mv "$out/src"/mprds*_"$version"_* "$out/"
rm -rf "$out/src"
deb="$(ls "$out"/mprds_"$version"_*.deb)"
[[ -f $deb ]] || die "no mprds_${version}_*.deb in $out"
echo "$deb"
