#!/bin/sh
# Whole-process speed, as the filter-toolkit issue sets it:
#   capsim filter run --count EXPR -r BIG.pcap   against
#   tcpdump -r BIG.pcap -w /dev/null EXPR
# on one generated trace, best of three runs each, and the ratio.
# Prints timings; never fails on them.
set -eu
capsim=${1:-./capsim}
records=${BENCH_RECORDS:-1000000}
expr='tcp port 80 or udp port 53 or (vlan and ip6)'
dir=$(mktemp -d /tmp/capsim-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM

"$capsim" trace gen -n "$records" --seed 7 -w "$dir/big.pcap"
size=$(du -m "$dir/big.pcap" | cut -f1)

# best_of CMD...: the shortest wall time of three runs, in seconds.
best_of() {
	best=""
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
	done
	echo "$best"
}

tcpdump_s=$(best_of tcpdump -r "$dir/big.pcap" -w /dev/null "$expr")
pcap_s=$(best_of "$capsim" filter run --semantics libpcap --count -r "$dir/big.pcap" "$expr")
linux_s=$(best_of "$capsim" filter run --no-linux-ext --count -r "$dir/big.pcap" "$expr")

echo
echo "whole process, $records records ($size MiB), filter '$expr', best of 3:"
printf '  %-58s %7.3f s\n' "tcpdump -r BIG -w /dev/null EXPR" "$tcpdump_s"
printf '  %-58s %7.3f s  ratio %.2fx\n' "capsim filter run --semantics libpcap --count EXPR -r BIG" \
	"$pcap_s" "$(echo "$tcpdump_s / $pcap_s" | bc -l)"
printf '  %-58s %7.3f s  ratio %.2fx\n' "capsim filter run --count EXPR -r BIG (linux semantics)" \
	"$linux_s" "$(echo "$tcpdump_s / $linux_s" | bc -l)"
echo "  (ratio = tcpdump time / capsim time; at least 1x is the target)"
