#!/bin/bash
# 89-parse-passed.t - what the packet path passes undecided, counted per kind against
# the packets sent: IPv4 and IPv6 fragments (fragments, ipv6_fragments: netfilter
# reassembles them after TC ingress and tracks the datagram), and upper layers the
# kfuncs refuse (other_l4, with icmp, icmpv6 and sctp beside it; ESP and "no next
# header" end an IPv6 chain there too). None of them is looked up or allocated. Then
# random frames through the parser (BPF_PROG_TEST_RUN), each against what the guide says
# becomes of it (tests/lib/parse_check.c).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/counting.sh

count_setup
PARSE_CHECK=${PARSE_CHECK:-$PWD/build/parse_check}
[[ -x "$PARSE_CHECK" ]] || BAIL_OUT "'$PARSE_CHECK' is missing: run make first"

# netfilter tracks NS_A: what ctlua passes meets its defragmentation and conntrack.
ct_hooks "$NS_A" || BAIL_OUT "cannot load the conntrack ruleset"
udp_listen "$NS_A" 5353 >/dev/null

# --- fragments ------------------------------------------------------------------------
# 4000 bytes of UDP payload over a 1500-byte MTU: IPv4 fragments carry 1480 bytes each,
# IPv6's 1448 (a fragment header and 8-byte units): 3 fragments per datagram either way.
count_run "$IF_A" "
python3 $SEND udp $ADDR_A 5353 43001 2 --size 4000
python3 $SEND udp $ADDR6_A 5353 43002 2 --size 4000"
is "$(delta fragments) $(delta ipv6_fragments)" "12 6" \
	"2 datagrams per family, 3 fragments each: fragments 12, ipv6_fragments 6" || show_ctlua
is "$(delta lookup_miss) $(delta lookup_hit) $(delta alloc_ok) $(delta malformed)" "0 0 0 0" \
	"no fragment is looked up, allocated or malformed" || show_ctlua
unlike "$OUT" 'MISS' "no miss event" || show_ctlua
is "$(wc -c <"$LISTEN_OUT")" 16000 "netfilter reassembled the 4 datagrams and they arrived whole"
like "$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=43001 dport=5353 ")" '^udp ' \
	"netfilter tracks the IPv4 datagrams' flow itself"
like "$(ct_entry "$NS_A" "src=$ADDR6_B dst=$ADDR6_A sport=43002 dport=5353 ")" '^udp ' \
	"and the IPv6 one"

# --- protocols the kfuncs refuse -----------------------------------------------------
count_run "$IF_A" "
python3 $SEND icmp $ADDR_A 4
python3 $SEND icmp $ADDR6_A 5
python3 $SEND sctp $ADDR_A 2
python3 $SEND sctp $ADDR6_A 1
python3 $SEND raw6 $ADDR6_B $ADDR6_A 5353 43003 50
python3 $SEND raw6 $ADDR6_B $ADDR6_A 5353 43004 60,59"
is "$(delta icmp) $(delta icmpv6) $(delta sctp)" "4 5 3" \
	"4 ICMP echo requests, 5 ICMPv6 ones, 3 SCTP packets: each counted in its slot" ||
	show_ctlua
is "$(delta other_l4)" 14 "other_l4 counts them all, and ESP and 'no next header' (1 each)" ||
	show_ctlua
is "$(delta ipv6_ext_walked) $(delta fragments) $(delta malformed) $(delta not_ip)" "1 0 0 0" \
	"the destination options before 'no next header' were walked; nothing else counted" ||
	show_ctlua
is "$(delta lookup_miss) $(delta lookup_hit) $(delta lookup_error) $(delta alloc_ok)" "0 0 0 0" \
	"none of them is looked up or allocated" || show_ctlua
like "$(ip netns exec "$NS_A" conntrack -L -p icmp 2>/dev/null)" "src=$ADDR_B dst=$ADDR_A type=8" \
	"the ICMP echo requests went on to netfilter, which tracks them"
like "$(ip netns exec "$NS_A" conntrack -L -f ipv6 -p icmpv6 2>/dev/null)" \
	"src=$ADDR6_B dst=$ADDR6_A type=128" "and the ICMPv6 ones"

# --- random frames ----------------------------------------------------------------------
make_ns || BAIL_OUT "cannot create a namespace"
seed=$RANDOM
out=$(ip netns exec "$NS" "$PARSE_CHECK" "$seed" 20000 2>&1)
like "$out" '^ok [0-9]+ frames' \
	"20000 random frames (seed $seed) land in the counters the guide names" || diag_text "$out"

done_testing
