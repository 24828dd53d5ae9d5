#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fuzz.sh SECONDS ARTIFACT_DIR FUZZER...: runs each libFuzzer target for SECONDS on a copy of
# its seed corpus (tests/corpus/NAME for build/fuzz/fuzz_NAME), so the tree stays as it was,
# and prints its execution figures. A crash leaves its input in ARTIFACT_DIR and fails.

set -e -o pipefail
PROGRAM="${0##*/}"

die() {
	echo "$PROGRAM: $*" >&2
	exit 1
}

[[ $# -ge 2 && $1 =~ ^[0-9]+$ ]] || die "usage: $PROGRAM SECONDS ARTIFACT_DIR FUZZER..."
seconds=$1
artifacts=$2
shift 2
[[ $# -gt 0 ]] || { echo "  FUZZ     no tests/fuzz_*.c yet"; exit 0; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"

for fuzzer in "$@"; do
	name=${fuzzer##*/fuzz_}
	corpus="$work/$name"
	mkdir -p "$corpus"
	[[ ! -d tests/corpus/$name ]] || cp -R "tests/corpus/$name/." "$corpus/"
	echo "  FUZZ     $fuzzer: ${seconds} s from $(find "$corpus" -type f | wc -l) seed inputs"
	if ! "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$artifacts/$name-" "$corpus" \
		>"$work/$name.log" 2>&1; then
		tail -n 60 "$work/$name.log" >&2
		die "$fuzzer failed; its input is in $artifacts/"
	fi
	grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb):' \
		"$work/$name.log" | sed 's/^stat::/           /'
	echo "           corpus_after: $(find "$corpus" -type f | wc -l) inputs"
done
