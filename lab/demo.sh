#!/bin/bash
# demo.sh - `make demo`: ctlua deciding conntrack entries for real traffic between two
# network namespaces, then the entries it made, as `conntrack -L` shows them.
#
# Needs root. Creates everything it uses (namespaces ctl-PID-*, a veth pair, addresses
# from 198.18.0.0/15 and 2001:db8::/32) and removes it on exit, also on Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# netns.sh reports through these; outside a test they are plain messages.
diag() { echo "demo: $*" >&2; }
skip_all() { echo "demo: cannot run: $*" >&2; exit 1; }
BAIL_OUT() { echo "demo: $*" >&2; exit 1; }
source tests/lib/netns.sh

SECONDS_TO_RUN=6
POLICY=examples/demo.lua

heading() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }

require_root_kernel
require_ctlua
[[ -r "$POLICY" ]] || BAIL_OUT "'$POLICY' is missing"

heading "Two network namespaces joined by a veth pair"
make_pair || BAIL_OUT "cannot create the namespaces"
say "$NS_A  $IF_A  $ADDR_A  $ADDR6_A   <- ctlua runs here"
say "$NS_B  $IF_B  $ADDR_B  $ADDR6_B   <- traffic comes from here"
ct_hooks "$NS_A" || BAIL_OUT "cannot load the nft ruleset"
say "conntrack is on in $NS_A (an nft ruleset that uses 'ct state')"
tcp_listen "$NS_A" 8080 || BAIL_OUT "no TCP listener"
udp_listen "$NS_A" 5353 || BAIL_OUT "no UDP listener"
say "listening in $NS_A: TCP 8080, UDP 5353 (nothing on 9999)"

heading "ctlua $POLICY $IF_A $SECONDS_TO_RUN   (one line per event, then a summary)"
bg_run "$NS_A" timeout -k 2 $((SECONDS_TO_RUN + 10)) "$CTLUA" "$POLICY" "$IF_A" "$SECONDS_TO_RUN"
ctlua_pid=$BG_PID
wait_filter "$NS_A" "$IF_A" ingress "$ctlua_pid" || BAIL_OUT "ctlua did not attach to $IF_A"

# One line per thing sent; they interleave with ctlua's event lines, which is the point.
tcp() {
	local dst=$1 port=$2 what
	if tcp_connect "$NS_B" "$dst" "$port" "" demo 2>/dev/null; then
		what="connected"
	else
		what="no connection"
	fi
	say "sent: TCP $dst port $port: $what"
}
udp() {
	udp_send "$NS_B" "$1" "$2" "" demo
	say "sent: UDP $1 port $2"
}
for i in 1 2 3; do
	tcp "$ADDR_A" 8080
	tcp "$ADDR6_A" 8080
	udp "$ADDR_A" 5353
	udp "$ADDR6_A" 5353
done
# The policy drops these, so each waits for its connect timeout: run them side by side.
tcp "$ADDR_A" 9999 &
p4=$!
tcp "$ADDR6_A" 9999 &
p6=$!
wait "$p4" "$p6"

wait "$ctlua_pid"
rc=$?
if ((rc != 0)); then
	heading "ctlua failed (exit status $rc)"
	exit "$rc"
fi

heading "What ctlua put in conntrack: conntrack -L -m 66 (mark 0x42) in $NS_A"
say "each line: protocol, seconds left, the packet's direction (src dst sport dport),"
say "then the reply direction the kernel expects, the flags and the mark"
ip netns exec "$NS_A" conntrack -L -m 66 2>&1 | sed 's/^/   /'

heading "Cleaning up: deleting $NS_A and $NS_B"
exit 0
