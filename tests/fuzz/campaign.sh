#!/bin/sh
# campaign.sh - the `make fuzz` driver: build every fuzz target with
# libFuzzer (clang, ASan + UBSan), run each for a while, fold what it found
# into the committed corpus, and report.
#
#   tests/fuzz/campaign.sh SECONDS [NAME...]
#
# SECONDS is the time per target (`make fuzz FUZZ_SECONDS=1800` for the
# 30-minute campaigns); NAMEs pick targets (format, interp, trace, expr,
# ...; default: every tests/fuzz/fuzz_*.c).  Run from the top of the tree.
#
# Per target:
#   1. the library is built by the Makefile with clang and
#      -fsanitize=fuzzer-no-link,address,undefined into $FUZZ_BUILD/rel
#      (its own folder: never mixed with the gcc builds), and the target
#      linked with -fsanitize=fuzzer;
#   2. it runs for SECONDS on a scratch copy of tests/fuzz/corpus/NAME
#      (-timeout=10: an input taking longer is a hang; -rss_limit_mb=2048;
#      inputs at most FUZZ_MAX_LEN bytes, 4096);
#   3. what it found is merged back (-merge=1, so only inputs that add
#      coverage), under a cap that keeps the corpus small enough to commit
#      and to replay in `make test`: at most FUZZ_MAX_FILES (4000) files and
#      FUZZ_MAX_BYTES (1 MiB) per target.  (After the 30-minute campaigns
#      of 2026-12-07 the five corpora hold 4706 files, 670 KB in all, and
#      replay in 3 s, 9 s under ASan; a cap of 200 files had been keeping
#      out most of what those campaigns found.)  New inputs are added smallest
#      first until either cap is reached; files already committed are kept.
#      Inputs the caps leave out are counted in the table ("left-out"):
#      coverage the committed corpus does not keep.
#      With FUZZ_MINIMIZE=1 the corpus is instead rebuilt as the smallest
#      set that keeps all the coverage of old and new inputs (this removes
#      committed files that add nothing) - but only when that set fits the
#      caps; otherwise the committed corpus is left as it was and the
#      report says so (a corpus cut to the caps would lose coverage).
#   4. a crash, leak, hang or out-of-memory stops that target; libFuzzer
#      leaves the input in $FUZZ_BUILD/crashes/NAME/ (crash-*, leak-*,
#      timeout-*, oom-*), the report names it, and the script exits 1 once
#      every target has run.  Replay one with
#      $FUZZ_BUILD/bin/fuzz_NAME FILE, or with the gcc replay program.
#
# The closing table: target, seconds run, runs (executions), crashes,
# corpus files and bytes after the merge, files added, files left out.
set -u

secs=${1:-60}
[ $# -gt 0 ] && shift
FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-4096}
FUZZ_MAX_FILES=${FUZZ_MAX_FILES:-4000}
FUZZ_MAX_BYTES=${FUZZ_MAX_BYTES:-1048576}
FUZZ_MINIMIZE=${FUZZ_MINIMIZE:-0}
CLANG=${CLANG:-clang}

# libFuzzer takes -max_total_time=0 as "no limit": refuse it.
case $secs in
''|*[!0-9]*|0) echo "usage: $0 SECONDS [NAME...]   (SECONDS >= 1)" >&2; exit 2 ;;
esac
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "campaign: $CLANG not found: libFuzzer needs clang" >&2
	exit 4
fi

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(for f in tests/fuzz/fuzz_*.c; do n=${f#tests/fuzz/fuzz_}; echo "${n%.c}"; done)
fi

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-std=c11 -O1 -g -Wall -Wextra $san -fsanitize=fuzzer-no-link"
echo "== building the library with $CLANG into $FUZZ_BUILD"
if ! make --no-print-directory -s BUILDROOT="$FUZZ_BUILD" CC="$CLANG" CFLAGS="$cflags" \
	"$FUZZ_BUILD/rel/libcapsim.a"; then
	echo "campaign: the library does not build" >&2
	exit 5
fi
mkdir -p "$FUZZ_BUILD/bin" "$FUZZ_BUILD/logs"

# Sum of file sizes in a folder.
bytes_of() {
	find "$1" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
count_of() {
	find "$1" -maxdepth 1 -type f | wc -l
}

# Copy files from $1 into $2 smallest first while $2 stays under the caps;
# print how many were copied and how many the caps left out.
add_capped() {
	added=0
	left=0
	files=$(count_of "$2")
	total=$(bytes_of "$2")
	for f in $(find "$1" -maxdepth 1 -type f -printf '%s %p\n' | sort -n | cut -d' ' -f2-); do
		b=$(stat -c %s "$f")
		[ -e "$2/$(basename "$f")" ] && continue
		if [ "$files" -ge "$FUZZ_MAX_FILES" ] || [ $((total + b)) -gt "$FUZZ_MAX_BYTES" ]; then
			left=$((left + 1))
			continue
		fi
		cp "$f" "$2/"
		files=$((files + 1)); total=$((total + b)); added=$((added + 1))
	done
	echo "$added $left"
}

table=""
status=0
for name in $names; do
	src=tests/fuzz/fuzz_$name.c
	bin=$FUZZ_BUILD/bin/fuzz_$name
	corpus=tests/fuzz/corpus/$name
	work=$FUZZ_BUILD/work/$name
	crashes=$FUZZ_BUILD/crashes/$name
	log=$FUZZ_BUILD/logs/$name.log
	if [ ! -f "$src" ]; then
		echo "campaign: no target $src" >&2
		status=1; continue
	fi
	echo "== $name: building $bin"
	if ! "$CLANG" -D_GNU_SOURCE -Ibpfvm -Isim -Ilive -Itraces $cflags -fsanitize=fuzzer \
		-o "$bin" "$src" "$FUZZ_BUILD/rel/libcapsim.a" -lpcap -ljansson -lm; then
		table="$table$name - - build-failed - - - -\n"
		status=1; continue
	fi
	mkdir -p "$corpus" "$crashes"
	rm -rf "$work"; mkdir -p "$work"
	cp "$corpus"/* "$work"/ 2>/dev/null
	before=$(ls "$crashes" | wc -l)
	echo "== $name: fuzzing for ${secs}s (log: $log)"
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$FUZZ_MAX_LEN" \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$work" >"$log" 2>&1
	rc=$?
	ran=$(( $(date +%s) - start ))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	[ -n "$runs" ] || runs="?"
	found=$(( $(ls "$crashes" | wc -l) - before ))
	if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
		status=1
		[ "$found" -gt 0 ] || found="1?"
		echo "== $name: FOUND A CRASH (exit $rc); inputs in $crashes/:"
		ls -t "$crashes" | head -5 | sed "s|^|   $crashes/|"
		grep -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz_[a-z]*:' "$log" | sed 's/^/   /'
	fi

	# Merge what is new into the committed corpus, under the caps.
	staged=$FUZZ_BUILD/merge/$name
	rm -rf "$staged"; mkdir -p "$staged"
	if [ "$FUZZ_MINIMIZE" = 1 ]; then
		"$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$staged" "$corpus" "$work" \
			>>"$log" 2>&1
		n=$(count_of "$staged")
		if [ "$n" -gt 0 ] && [ "$n" -le "$FUZZ_MAX_FILES" ] &&
		   [ "$(bytes_of "$staged")" -le "$FUZZ_MAX_BYTES" ]; then
			rm -f "$corpus"/*
			counts=$(add_capped "$staged" "$corpus")
		else
			echo "== $name: the minimal corpus ($n files, $(bytes_of "$staged") bytes) is over" \
			     "the caps; $corpus left as it was"
			counts="0 $n"
		fi
	else
		cp "$corpus"/* "$staged"/ 2>/dev/null
		ls "$staged" >"$FUZZ_BUILD/merge/$name.before"
		"$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$staged" "$work" >>"$log" 2>&1
		fresh=$FUZZ_BUILD/merge/$name.new
		rm -rf "$fresh"; mkdir -p "$fresh"
		for f in "$staged"/*; do
			grep -qxF "$(basename "$f")" "$FUZZ_BUILD/merge/$name.before" || cp "$f" "$fresh"/
		done
		counts=$(add_capped "$fresh" "$corpus")
	fi
	table="$table$name $ran $runs $found $(count_of "$corpus") $(bytes_of "$corpus") $counts\n"
done

echo
printf "target seconds runs crashes corpus-files corpus-bytes added left-out\n$table" | column -t
[ "$status" -eq 0 ] || echo "campaign: crashes or failures above; inputs under $FUZZ_BUILD/crashes/"
exit "$status"
