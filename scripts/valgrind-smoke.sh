#!/bin/sh
# valgrind-smoke.sh - a small end-to-end run of capsim under valgrind:
# no invalid reads or writes, no uses of uninitialised values, no leaks.
#
#   scripts/valgrind-smoke.sh [CAPSIM]     (default ./capsim)
#
# `make check` runs it on the normal (non-sanitizer) build: valgrind and
# ASan cannot run in one process.  Each command runs on the shipped traces
# with valgrind --leak-check=full, and each must both exit with its own
# expected code and be clean.  valgrind reports its findings with exit code
# 97 (--error-exitcode=97) rather than 1, because 1 is an ordinary capsim
# answer ("rejected", "differs").  Leaks counted: definite and indirect;
# "still reachable" memory (libpcap's and the C library's one-time tables)
# is not a leak.  Live commands are not run: valgrind does not follow the
# namespace helpers they fork, and they need root.
set -u
cd "$(dirname "$0")/.." || exit 2
capsim=${1:-./capsim}
S=traces/samples

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind-smoke.sh: valgrind is not installed (apt-get install valgrind)" >&2
	exit 4
fi
if [ ! -x "$capsim" ]; then
	echo "valgrind-smoke.sh: no capsim program at $capsim" >&2
	exit 2
fi
tmp=$(mktemp -d /tmp/capsim-valgrind-XXXXXX) || exit 5
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
# vg EXPECTED-EXIT ARGS...
vg() {
	want=$1; shift
	valgrind --quiet --error-exitcode=97 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--track-origins=yes --log-file="$tmp/vg.log" \
		"$capsim" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -eq "$want" ] && [ ! -s "$tmp/vg.log" ]; then
		pass=$((pass + 1))
		echo "ok    capsim $*"
	else
		fail=$((fail + 1))
		echo "FAIL  capsim $*  (exit $rc, expected $want${rc:+; 97 = valgrind found errors})"
		sed 's/^/      /' "$tmp/vg.log" | head -40
		sed 's/^/      stderr: /' "$tmp/err" | head -5
	fi
}

printf 'ldh [12]\njeq #0x800, ip, drop\nip: ldb [23]\njeq #6, keep, drop\nkeep: ret #65535\ndrop: ret #0\n' >"$tmp/tcp.asm"
head -c 30000 "$S/mixed.pcap" >"$tmp/half.pcap"

vg 0 trace gen -n 200 --seed 5 --vlan 30 --truncate 20 --runt 10 -w "$tmp/gen.pcap"
vg 0 filter run -r "$tmp/gen.pcap" 'udp or (vlan and tcp port 80)'
vg 0 filter run --verdicts -r "$S/mixed.pcap" 'tcp port 80 or icmp6'
vg 0 filter run --semantics libpcap -w "$tmp/out.pcap" --count -r "$S/mixed.pcapng" 'ip and udp'
vg 0 filter run --sock dgram --count -r "$S/vlan.pcap" 'vlan and ip'
vg 3 filter run -w "$tmp/none.pcap" --count -r "$tmp/half.pcap" tcp
vg 0 filter compile --format asm 'tcp[tcpflags] & tcp-syn != 0'
vg 0 filter asm "$tmp/tcp.asm"
vg 0 filter check -F "$tmp/tcp.asm"
vg 0 filter disasm --to asm 'ip6 and udp port 53'
vg 0 filter dot -r "$S/vlan.pcap" -o "$tmp/g.dot" 'vlan 10 and udp'
vg 0 filter step -r "$S/mixed.pcap" -p 3 --json 'tcp or udp'
vg 0 filter diff -q --opt-vs-noopt 'tcp or udp or icmp' -r "$S/mixed.pcap"
vg 3 filter check -F "$tmp/nosuch.bpf"
vg 0 fuzz programs --no-live -n 200 --seed 3
# The simulator, when this tree has it.
if [ -f scenarios/egress-netfilter-drop.scn ]; then
	mkdir -p "$tmp/sim"
	vg 0 sim -w "$tmp/sim" --json="$tmp/sim.json" scenarios/egress-netfilter-drop.scn
	printf 'host a\nhots b\n' >"$tmp/bad.scn"
	vg 3 sim "$tmp/bad.scn"
fi

echo "valgrind: $pass clean, $fail failed"
[ "$fail" -eq 0 ]
