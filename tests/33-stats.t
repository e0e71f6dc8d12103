#!/bin/bash
# 33-stats.t - ct.stats() counts what the TC program did with real packets.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

# No conntrack hooks in NS_A: the only entry is the one ctlua allocates, so the first
# datagram misses and allocates, and the next two hit that entry.
udp_listen "$NS_A" 5353

cat >"$TEST_TMP/stats.lua" <<'EOF'
ct.rule{proto="udp", dport=5353, action="alloc", timeout=60000}
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
local s = ct.stats()
print(type(s.packets), type(s.lookup_hit), type(s.lookup_miss), type(s.alloc_ok))
print(s.packets > 0, s.alloc_ok >= 1)
print("COUNTS", s.lookup_miss, s.lookup_hit, s.alloc_ok, s.alloc_error, s.drops)
EOF

ctlua_start "$NS_A" 20 "$TEST_TMP/stats.lua" "$IF_A" 3
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
for i in 1 2 3; do
	udp_send "$NS_B" "$ADDR_A" 5353 43000 "stats-$i"
done
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua

tab=$'\t'
mapfile -t lines <<<"$OUT"
is "${lines[0]:-}" "number${tab}number${tab}number${tab}number" \
	"packets, lookup_hit, lookup_miss, alloc_ok are numbers" || show_ctlua
is "${lines[1]:-}" "true${tab}true" "packets > 0 and alloc_ok >= 1 after the rule fired" ||
	show_ctlua

IFS=$'\t' read -r _ miss hit alloc_ok alloc_error drops <<<"${lines[2]:-}"
cmp_ok "$alloc_ok" -eq 1 "alloc_ok is 1: one flow, allocated once"
cmp_ok "$miss" -ge 1 "lookup_miss counts the flow's first packet"
cmp_ok "$hit" -ge 2 "lookup_hit counts the two packets that found the entry"
cmp_ok "$alloc_error" -eq 0 "alloc_error is 0"
cmp_ok "$drops" -eq 0 "drops is 0"

like "$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=43000 dport=5353 ")" '^udp ' \
	"the entry the counters speak of is in conntrack"
is "$(sort "$TEST_TMP/$NS_A-udp-5353.out" | tr '\n' ' ')" "stats-1 stats-2 stats-3 " \
	"the datagrams were delivered"

done_testing
