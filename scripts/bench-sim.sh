#!/bin/sh
# The simulator's speed and memory, as the sim issue sets them: simulated
# packets a second through the full receive path with one tcpdump tap and a
# filter (target: 1,000,000/s on one core), and peak memory for a
# 10-million-packet run (target: under 100 MB).  Prints; never fails on
# the numbers (machines are noisy), only when a run itself fails.
set -eu
capsim=${1:-./capsim}
run() {	# run SCENARIO PACKETS
	out=$( { /usr/bin/time -f "TIME %e %M" "$capsim" sim "$1" >/dev/null; } 2>&1 ) || {
		echo "$out" >&2
		exit 1
	}
	set -- $(echo "$out" | grep '^TIME' | tail -1) "$2"
	echo "$4 $2 $3"
}
printf '%-34s %10s %10s %12s %10s\n' "simulator" "packets" "wall s" "packets/s" "max RSS"
for s in benchmarks/sim-rx-1M.scn benchmarks/sim-rx-10M.scn; do
	n=$(grep -c '^at .* inject' "$s")
	n=$((n * 1000000))
	set -- $(run "$s" "$n")
	printf '%-34s %10d %10s %12.0f %7d MB\n' "$(basename "$s" .scn)" "$1" "$2" \
		"$(echo "$1 / $2" | bc -l)" "$(($3 / 1024))"
done
echo "(targets: at least 1,000,000 packets/s; under 100 MB for 10 million packets;"
echo " wall time includes start-up and compiling the tap's filter)"
