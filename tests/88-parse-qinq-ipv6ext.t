#!/bin/bash
# 88-parse-qinq-ipv6ext.t - flows behind VLAN tags (802.1Q, and QinQ: 802.1ad outer,
# 802.1Q inner) and IPv6 flows with extension headers (hop-by-hop, destination options,
# routing, AH) are decided and allocated like plain ones, on the parent device's ingress
# and on a VLAN device's; a chain longer than the walk's bound is passed as ipv6_ext, a
# cut one as malformed. Before, tagged traffic past one tag and every IPv6 packet with
# an extension header passed undecided. Counts are compared with the packets sent.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/counting.sh

count_setup

# This kernel has no 802.1Q support (CONFIG_VLAN_8021Q): no VLAN device can be made.
# Tagged frames are written whole on NS_B's veth instead (AF_PACKET), which is what a
# VLAN device above it would put there. What TC sees does not depend on VLAN devices:
# on receive the core takes the outer tag out of the data into the skb (skb_vlan_untag,
# in net/core, whatever the config) before TC ingress; on egress, tags written whole
# (as here) are data.
# No conntrack hooks in either namespace: every entry there is ctlua's.
MAC_A=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{ print $3 }')

# --- VLAN tags on ingress ---------------------------------------------------------
# Three datagrams per flow: the first allocates, the other two find the entry. 802.1Q,
# QinQ (802.1ad outer, 802.1Q inner), two 802.1Q tags, and three tags (the kernel takes
# the outer one: two are left in the data, the program's bound) are decided; with four
# tags three are left: not_ip.
eth()
{
	echo "python3 $SEND eth $IF_B $MAC_A $1 $2 $3 $4 $5 3"
}
count_run "$IF_A" "
$(eth 8100:100 198.18.0.2 198.18.0.1 5001 41001)
$(eth 8100:100 2001:db8::2 2001:db8::1 5002 41002)
$(eth 88a8:200,8100:300 198.18.0.2 198.18.0.1 5003 41003)
$(eth 88a8:200,8100:300 2001:db8::2 2001:db8::1 5004 41004)
$(eth 8100:200,8100:300 198.18.0.2 198.18.0.1 5005 41005)
$(eth 88a8:200,8100:300,8100:400 2001:db8::2 2001:db8::1 5006 41006)
$(eth 88a8:200,8100:300,8100:400,8100:500 198.18.0.2 198.18.0.1 5007 41007)
$(eth - 198.18.0.2 198.18.0.1 5000 41000)"
for c in "41001 5001 802.1Q: an IPv4 flow" "41002 5002 802.1Q: an IPv6 flow" \
	 "41003 5003 QinQ: an IPv4 flow" "41004 5004 QinQ: an IPv6 flow" \
	 "41005 5005 two 802.1Q tags" "41006 5006 three tags, two left in the data" \
	 "41000 5000 no tag"; do
	read -r sport dport what <<<"$c"
	if ((dport % 2 == 0 && dport != 5000)); then
		like "$OUT" $'ALLOC\tveth-a\tudp \\[2001:db8::2\\]:'"$sport → \\[2001:db8::1\\]:$dport" \
			"$what is allocated at ingress" || show_ctlua
	else
		like "$OUT" $'ALLOC\tveth-a\tudp 198.18.0.2:'"$sport → 198.18.0.1:$dport" \
			"$what is allocated at ingress" || show_ctlua
	fi
done
unlike "$OUT" ':41007 ' "four tags: not decided" || show_ctlua
is "$(delta lookup_miss) $(delta alloc_ok) $(delta lookup_hit)" "7 7 14" \
	"7 flows of 3 datagrams: 7 misses, 7 allocated, 14 hits" || show_ctlua
is "$(delta not_ip) $(delta malformed) $(delta alloc_error)" "3 0 0" \
	"the 3 datagrams with four tags are not_ip; nothing malformed" || show_ctlua
like "$(ct_entry "$NS_A" "src=198.18.0.2 dst=198.18.0.1 sport=41003 dport=5003 ")" '^udp ' \
	"conntrack -L shows the QinQ flow's entry"
like "$(ct_entry "$NS_A" "src=2001:db8::2 dst=2001:db8::1 sport=41006 dport=5006 ")" '^udp ' \
	"and the three-tag one"

# --- the same on egress: every tag is in the data -------------------------------------
ctlua_start "$NS_B" 30 -e '
assert(ct.attach(arg[1], {dir = "egress"}))
ct.default("alloc")
ct.on("alloc", function(e) print("ALLOC", e.ifname, e.tuple) end)
print("READY")
ct.run(3)
local s = assert(ct.stats())
print("S", s.lookup_miss, s.alloc_ok, s.not_ip, s.malformed)' "$IF_B"
wait_line "$CTLUA_OUT" '^READY' 5 || diag "ctlua in $NS_B did not start"
ip netns exec "$NS_B" bash -c "set -e
$(eth 8100:100 198.18.0.2 198.18.0.1 5021 41021)
$(eth 88a8:200,8100:300 2001:db8::2 2001:db8::1 5022 41022)
$(eth 88a8:200,8100:300,8100:400 198.18.0.2 198.18.0.1 5023 41023)" ||
	fail "the sender in $NS_B sent everything"
ctlua_finish
like "$OUT" $'ALLOC\tveth-b\tudp 198.18.0.2:41021 → 198.18.0.1:5021' \
	"802.1Q on egress: allocated" || show_ctlua
like "$OUT" $'ALLOC\tveth-b\tudp \\[2001:db8::2\\]:41022 → \\[2001:db8::1\\]:5022' \
	"QinQ on egress, both tags in the data: allocated" || show_ctlua
unlike "$OUT" ':41023 ' "three tags in the data: not decided" || show_ctlua
like "$OUT" $'S\t2\t2\t3\t0' "2 flows allocated; the 3 datagrams with three tags are not_ip" ||
	show_ctlua

# --- IPv6 extension headers -----------------------------------------------------------
# Set as socket options (hop-by-hop, destination options, a segment routing header),
# or written whole (raw6) for AH (this kernel has no IPv6 AH to make real ones), for
# the bound (six headers walked, seven not) and for a header cut short.
tcp_listen "$NS_A" 5108 >/dev/null
count_run "$IF_A" "
python3 $SEND udp $ADDR6_A 5101 42101 3 --hop 8
python3 $SEND udp $ADDR6_A 5102 42102 3 --dstopts 24
python3 $SEND udp $ADDR6_A 5103 42103 3 --rthdr
python3 $SEND udp $ADDR6_A 5104 42104 3 --hop 16 --dstopts 8 --rthdr
python3 $SEND raw6 $ADDR6_B $ADDR6_A 5105 42105 51
python3 $SEND raw6 $ADDR6_B $ADDR6_A 5106 42106 0,43,51,60
python3 $SEND raw6 $ADDR6_B $ADDR6_A 5107 42107 60,60,60,60,60,60
python3 $SEND raw6 $ADDR6_B $ADDR6_A 5109 42109 60,60,60,60,60,60,60
python3 $SEND raw6 $ADDR6_B $ADDR6_A 5110 42110 0,51,60,cut"
for c in "42101 5101 hop-by-hop" "42102 5102 destination options" "42103 5103 a routing header" \
	 "42104 5104 all three" "42105 5105 AH" "42106 5106 hop-by-hop, routing, AH, destination" \
	 "42107 5107 six destination options headers (the bound)"; do
	read -r sport dport what <<<"$c"
	like "$OUT" $'ALLOC\tveth-a\tudp \\[2001:db8::2\\]:'"$sport → \\[2001:db8::1\\]:$dport" \
		"IPv6 UDP with $what is allocated" || show_ctlua
done
unlike "$OUT" ':42109 ' "seven headers: past the bound, not decided" || show_ctlua
unlike "$OUT" ':42110 ' "a chain cut short: not decided" || show_ctlua
is "$(delta lookup_miss) $(delta alloc_ok) $(delta lookup_hit)" "7 7 8" \
	"4 flows of 3 datagrams and 3 of 1: 7 allocated, 8 hits" || show_ctlua
is "$(delta ipv6_ext_walked) $(delta ipv6_ext) $(delta malformed)" "15 1 1" \
	"ipv6_ext_walked 15 (those datagrams), ipv6_ext 1 (seven headers), malformed 1 (cut)" ||
	show_ctlua

count_run "$IF_A" "python3 $SEND tcp $ADDR6_A 5108 42108 --hop 8 --dstopts 8"
like "$OUT" $'ALLOC\tveth-a\ttcp \\[2001:db8::2\\]:42108 → \\[2001:db8::1\\]:5108' \
	"IPv6 TCP with hop-by-hop and destination options is allocated" || show_ctlua
is "$(delta alloc_ok) $(delta lookup_miss)" "1 1" "one TCP connection, one entry" || show_ctlua
cmp_ok "$(delta ipv6_ext_walked)" -ge 3 "its packets' headers were walked (SYN, ACK, data)"
like "$(ct_entry "$NS_A" "src=2001:db8::2 dst=2001:db8::1 sport=42108 dport=5108 ")" '^tcp ' \
	"conntrack -L shows the TCP entry"
like "$(cat "$LISTEN_OUT")" 'ctlua-tcp' "the connection carried its data"

done_testing
