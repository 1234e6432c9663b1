#!/bin/sh
# Run every cmocka suite, then replay every fuzz corpus; print one closing
# line "N passed, N failed" over all of them.  Usage:
#   tests/run.sh BUILD_DIR SUITE... -- REPLAY...
# Suites run from the top of the repository, so they find tests/vectors and
# traces/samples by relative path.
set -u
build=$1; shift
# The end-to-end suites run the capsim program of the same build.
export CAPSIM="$build/capsim"
pass=0; fail=0; failed=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	t=$1; shift
	echo "== $t"
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
[ $# -gt 0 ] && shift
for r in "$@"; do
	name=$(basename "$r" -replay)
	corpus=tests/fuzz/corpus/${name#fuzz_}
	echo "== $r $corpus"
	if [ ! -d "$corpus" ]; then
		echo "no corpus at $corpus"; fail=$((fail + 1)); failed="$failed $r"; continue
	fi
	if "$r" "$corpus"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $r"; fi
done
echo
[ -n "$failed" ] && echo "failed ($build):$failed"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
