#!/bin/sh
# Install the Debian packages capsim needs, and only those that are missing,
# so a warm machine pays nothing.  Non-interactive: CI has no terminal.
set -eu
PKGS="build-essential libpcap-dev libcmocka-dev libjansson-dev graphviz iproute2 nftables tcpdump tshark clang libclang-rt-14-dev valgrind cppcheck bc time"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "capsim: these Debian packages are missing:$missing" >&2
	echo "capsim: run 'make deps' as root, or install them yourself." >&2
	exit 1
fi
echo "capsim: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
