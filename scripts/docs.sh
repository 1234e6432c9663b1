#!/bin/sh
# Generate what docs/ holds that is made from the code: the pictures (DOT
# sources, SVG for the web, PNG for slides) and the man page as text.
#
#   scripts/docs.sh [--sources] CAPSIM OVERVIEW [OUTDIR]
#
# CAPSIM is the capsim program, OVERVIEW the docs/gen/overview program (or
# '-' to leave the overview out), OUTDIR the folder to write to (docs).
# Pictures go to OUTDIR/pictures, the man page's text to OUTDIR/capsim.txt.
# --sources writes only what tests/test_docs.c compares - the .dot files
# and capsim.txt - and draws nothing.
#
# Everything written is a function of the code and the shipped scenarios:
# no dates, no paths, no host names, so a second run changes nothing and
# the staleness test can compare.  Pictures that need root (a filter
# compiled with Linux extensions opens a live libpcap handle; scenarios
# whose tcpdump taps have filters do too) are skipped with a note when not
# root, and the committed ones stay.
set -eu
sources_only=0
if [ "${1:-}" = "--sources" ]; then sources_only=1; shift; fi
[ $# -ge 2 ] || { echo "usage: $0 [--sources] CAPSIM OVERVIEW [OUTDIR]" >&2; exit 2; }
capsim=$1 overview=$2 out=${3:-docs}
pics=$out/pictures
mkdir -p "$pics"
# One locale and one time zone for every tool below.
export LC_ALL=C TZ=UTC
skipped=0

# Draw NAME.dot as NAME.svg and NAME.png.  PNGs are for slides: 96 dpi on
# white, and squeezed to a palette by pngquant when it is installed (the
# pictures stay under ~200 KB that way).
draw() {
	[ "$sources_only" = 1 ] && return 0
	dot -Tsvg "$pics/$1.dot" -o "$pics/$1.svg"
	dot -Tpng -Gdpi=96 -Gbgcolor=white "$pics/$1.dot" -o "$pics/$1.png"
	if command -v pngquant >/dev/null 2>&1; then
		pngquant --force --strip --speed 1 --quality 50-90 --output "$pics/$1.png" "$pics/$1.png" ||
			echo "docs: pngquant left $pics/$1.png as it was" >&2
	fi
}

skip() {
	echo "docs: $1: not regenerated ($2)" >&2
	skipped=$((skipped + 1))
}

# 1. The overview, from sim/stages.h and sim/dropreasons.h.
if [ "$overview" != "-" ]; then
	"$overview" >"$pics/overview.tmp.dot"
	mv "$pics/overview.tmp.dot" "$pics/overview.dot"
	draw overview
fi

# 2. Each shipped scenario: the stages its packets passed, the drops.
for scn in scenarios/*.scn; do
	name=scenario-$(basename "$scn" .scn)
	rc=0
	"$capsim" sim --dot "$pics/$name.tmp.dot" "$scn" >/dev/null 2>"$pics/$name.err" || rc=$?
	# 0: every expectation passed; 1: one failed (the picture still holds).
	if [ $rc -le 1 ] && [ -s "$pics/$name.tmp.dot" ]; then
		mv "$pics/$name.tmp.dot" "$pics/$name.dot"
		draw "$name"
	elif [ $rc -eq 4 ]; then
		skip "$name" "needs root: $(head -1 "$pics/$name.err")"
	else
		cat "$pics/$name.err" >&2
		echo "docs: capsim sim --dot $scn failed (exit $rc)" >&2
		rm -f "$pics/$name.tmp.dot" "$pics/$name.err"
		exit 1
	fi
	rm -f "$pics/$name.tmp.dot" "$pics/$name.err"
done

# 3. Filters worth looking at.  Each line: picture name, then the arguments
# of `capsim filter dot`.  The coverage runs use the shipped sample trace.
filter_pic() {
	name=$1; shift
	rc=0
	"$capsim" filter dot -o "$pics/$name.tmp.dot" "$@" 2>"$pics/$name.err" || rc=$?
	if [ $rc -eq 0 ]; then
		mv "$pics/$name.tmp.dot" "$pics/$name.dot"
		draw "$name"
	elif [ $rc -eq 4 ]; then
		skip "$name" "needs root: $(head -1 "$pics/$name.err")"
	else
		skip "$name" "capsim filter dot failed: $(head -1 "$pics/$name.err")"
	fi
	rm -f "$pics/$name.tmp.dot" "$pics/$name.err"
}
filter_pic filter-tcp-port-80 -r traces/samples/mixed.pcap --semantics libpcap 'tcp port 80'
filter_pic filter-vlan-and-ip-offline --no-linux-ext -r traces/samples/vlan.pcap --semantics libpcap 'vlan and ip'
if [ "$(id -u)" = 0 ]; then
	filter_pic filter-vlan-and-ip-linux-ext --linux-ext -r traces/samples/vlan.pcap 'vlan and ip'
else
	skip filter-vlan-and-ip-linux-ext "--linux-ext needs root"
fi
filter_pic filter-ip6-protochain --semantics libpcap 'ip6 protochain 6'

# 4. The man page as plain text, 78 columns.
groff -man -Tutf8 -P-c -rLL=78n -rLT=78n docs/capsim.1 2>/dev/null | col -bx >"$out/capsim.txt.tmp"
mv "$out/capsim.txt.tmp" "$out/capsim.txt"

[ $skipped -eq 0 ] || echo "docs: $skipped picture(s) not regenerated; the committed ones stay" >&2
exit 0
