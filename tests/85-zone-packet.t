#!/bin/bash
# 85-zone-packet.t - zones on the packet path, with real packets: a rule's, the
# default's and a callback answer's zone put the flow's entry in that zone, and the
# flow's next packets find it there (the program looks the flow up in the verdict's zone
# after missing in zone 0: lookup_hit and zone_hit count them, no alloc_error). Then
# netfilter, told by nft `ct zone set 7`, uses the entry ctlua made in zone 7.
#
# The first part runs with no conntrack hooks in NS_A, so every entry is ctlua's and
# netfilter makes none in zone 0 that would hide the zone lookup.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup
command -v python3 >/dev/null || BAIL_OUT "python3 is needed (scripts/install-deps)"
ECHO=$PWD/tests/lib/echo.py

cat >"$TEST_TMP/zone.lua" <<'LUA'
ct.mode("enforce")
print("RULE", ct.rule{proto="udp", dport=5353, action="alloc", zone=7, timeout=60000})
print("RULE", ct.rule{proto="udp", dport=5354, action="alloc", zone={id=8, dir="original"}})
assert(ct.default("pass"))
-- port 5600: the callback answers with a zone; the rest of its flow goes there
ct.on("miss", function(ev)
	if ev.dport == 5600 and not ev.rule then return "alloc", {zone = 11} end
end)
for _, r in ipairs(ct.rules()) do
	print("LIST", r.id, type(r.zone) == "table" and r.zone.id .. "/" .. r.zone.dir or r.zone)
end
ct.on("alloc_error", function(ev) print("ALLOC_ERROR", ev.tuple, ev.err) end)
-- ct.explain shows the zone of the rule that decided
ct.on("alloc", function(ev)
	if ev.rule ~= 1 or ev.family ~= "ipv4" then return end
	for l in ct.explain(ev):gmatch("[^\n]+") do
		if l:match("zone") then print("EXPLAIN", l) end
	end
end)
assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
local s = ct.stats()
print("STATS", s.alloc_ok, s.alloc_error, s.zone_hit, s.lookup_hit, s.lookup_miss)
LUA

ctlua_start "$NS_A" 20 "$TEST_TMP/zone.lua" "$IF_A" 5
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID" || BAIL_OUT "ctlua did not attach"
for i in 1 2 3; do
	ok_run "datagram $i of udp $ADDR_B:40000 -> $ADDR_A:5353 (zone 7)" \
		udp_send "$NS_B" "$ADDR_A" 5353 40000
done
for i in 1 2; do
	ok_run "datagram $i of udp [$ADDR6_B]:40001 -> [$ADDR6_A]:5353 (zone 7)" \
		udp_send "$NS_B" "$ADDR6_A" 5353 40001
done
ok_run "datagram of udp $ADDR_B:40002 -> $ADDR_A:5354 (zone 8, original)" \
	udp_send "$NS_B" "$ADDR_A" 5354 40002
ok_run "first datagram to $ADDR_A:5600 (the callback answers zone 11)" \
	udp_send "$NS_B" "$ADDR_A" 5600 40003
sleep 0.3	# the answer is applied by the host, after the event
for i in 2 3; do
	ok_run "datagram $i to $ADDR_A:5600" udp_send "$NS_B" "$ADDR_A" 5600 40003
done

z7=$(ip netns exec "$NS_A" conntrack -L -w 7 2>/dev/null)
note "conntrack -L -w 7:"; while IFS= read -r l; do note "  $l"; done <<<"$z7"
like "$z7" "src=$ADDR_B dst=$ADDR_A sport=40000 dport=5353 .*zone=7" \
	"the IPv4 flow's entry is in zone 7"
like "$z7" "src=$ADDR6_B dst=$ADDR6_A sport=40001 dport=5353 .*zone=7" \
	"the IPv6 flow's entry is in zone 7"
is "$(ip netns exec "$NS_A" conntrack -L -w 0 2>/dev/null | grep -c 'dport=5353 ')" 0 \
	"zone 0 has no entry for them"
# a directional zone is shown per direction, and -w matches neither
like "$(ct_entry "$NS_A" "sport=40002 dport=5354 ")" "zone-orig=8 " \
	"the zone {id=8, dir=\"original\"} entry has zone 8 in its original direction"
like "$(ip netns exec "$NS_A" conntrack -L -w 11 2>/dev/null)" \
	"sport=40003 dport=5600 .*zone=11" "the callback answer's entry is in zone 11"

ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
is "$ERR" "" "ctlua printed nothing on stderr" || show_ctlua
has_line "$OUT" $'LIST\t1\t7' "ct.rules() shows zone 7" || show_ctlua
has_line "$OUT" $'LIST\t2\t8/original' "and {id=8, dir=\"original\"}" || show_ctlua
has_line "$OUT" $'EXPLAIN\t  2. bpf_skb_ct_lookup: in the rule\'s zone 7: no entry there either (an entry there would have made the packet a hit)' \
	"ct.explain shows the lookup in the rule's zone" || show_ctlua
has_line "$OUT" $'EXPLAIN\t  3. bpf_skb_ct_alloc: ok: an entry allocated, not yet in the table (opts of 16 bytes: netns_id -1, l4proto of the packet, zone 7)' \
	"and the allocation's 16-byte opts with the zone" || show_ctlua
unlike "$OUT" "ALLOC_ERROR" "no allocation failed (no flow was allocated twice)" ||
	show_ctlua
# 4 allocations (3 by rules, 1 by the answer); the zone finds: 2 + 1 + 2 packets
like "$(grep '^STATS' <<<"$OUT")" $'^STATS\t4\t0\t5\t5\t4$' \
	"4 allocations, 0 errors, 5 zone hits counted as lookup hits, 4 misses" || show_ctlua

# --- netfilter in zone 7 (nft ct zone set) uses ctlua's zone-7 entry ---
ip netns exec "$NS_A" nft -f - <<'NFT' || BAIL_OUT "cannot load the zone ruleset"
table inet ctlua_zone {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		udp dport 5353 ct zone set 7
	}
	chain out {
		type filter hook output priority raw; policy accept;
		udp sport 5353 ct zone set 7
	}
}
NFT
bg_run "$NS_A" python3 -u "$ECHO" serve udp 0.0.0.0 5353 >"$TEST_TMP/echo.out"
_ns_wait_bound "$NS_A" u 5353 || BAIL_OUT "no echo on 5353"
ctlua_start "$NS_A" 10 -e '
ct.mode("enforce")
ct.rule{proto="udp", dport=5353, action="alloc", zone=7, mark=0x77}
assert(ct.attach(arg[1]))
ct.run(3)
local s = ct.stats()
print("STATS", s.alloc_ok, s.alloc_error, s.zone_hit)' "$IF_A"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID" || BAIL_OUT "ctlua did not attach"
send() { ip netns exec "$NS_B" python3 "$ECHO" send "$@"; }
is "$(send udp "$ADDR_A" 5353 40100 one)" "reply one from $ADDR_A 5353" \
	"a datagram to the zone-7 echo is answered"
is "$(send udp "$ADDR_A" 5353 40100 two)" "reply two from $ADDR_A 5353" "so is the next one"
e=$(ip netns exec "$NS_A" conntrack -L -w 7 2>/dev/null | grep -F "sport=40100 dport=5353 ")
like "$e" " mark=119 zone=7 " "the flow has one entry, in zone 7, with the rule's mark: ctlua's"
unlike "$e" "UNREPLIED" "netfilter saw the reply on it: it used ctlua's entry"
is "$(ip netns exec "$NS_A" conntrack -L -w 0 2>/dev/null | grep -c 'sport=40100 ')" 0 \
	"and made none in zone 0"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
has_line "$OUT" $'STATS\t1\t0\t1' \
	"one allocation; the second datagram found it by the zone lookup" || show_ctlua

done_testing
