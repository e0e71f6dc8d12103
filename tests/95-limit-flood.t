#!/bin/bash
# 95-limit-flood.t - rate limits in the kernel hold under a flood: new UDP flows from
# several sources at a rule with limit {rate = R, burst = B}; each key's flows are
# admitted (allocated by the rule) up to B + R * t within 10 %, the rest get the over
# action (dropped and counted, or passed to netfilter, which tracks them itself). Keys:
# each source its own budget ("src"); a /24 shares one ("src/24"), another /24 has its
# own; IPv6 sources of one /64 share one.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/limit.sh

limit_test_setup
# more sources: one in another /24, IPv6 in one /64
ip -n "$NS_A" addr add 198.18.1.1/24 dev "$IF_A"
ip -n "$NS_B" addr add 198.18.1.2/24 dev "$IF_B"
ip -n "$NS_B" addr add 2001:db8::3/64 dev "$IF_B" nodad

RATE=40
BURST=40
SECS=2.5
PPS=600

# The policy: one rule with the limit under test, events counted per source by action.
cat >"$TEST_TMP/limit.lua" <<'EOF_LUA'
local ifname, secs, per, over, rate, burst = arg[1], tonumber(arg[2]), arg[3], arg[4],
	tonumber(arg[5]), tonumber(arg[6])
ct.rule{proto = "udp", dport = {20000, 29999}, action = "alloc", timeout = 30000,
	limit = {rate = rate, burst = burst, per = per, over = over, name = "flood"}}
local count = {}
local function add(src, what)
	count[src] = count[src] or {alloc = 0, drop = 0, pass = 0}
	count[src][what] = count[src][what] + 1
end
ct.on("alloc", function(ev) add(ev.src, "alloc") end)
ct.on("drop", function(ev) add(ev.src, "drop") end)
ct.on("miss", function(ev) if ev.action == "pass" then add(ev.src, "pass") end end)
local link = assert(ct.attach(ifname))
print("READY")
io.stdout:flush()
ct.run(secs)
for src, c in pairs(count) do
	print("SRC", src, c.alloc, c.drop, c.pass)
end
local l = ct.limits()[1]
print("LIMIT", l.admitted, l.limited, l.rate, l.burst, l.per, l.over)
local st = ct.stats()
print("STATS", st.alloc_ok, st.drops, st.passes, st.limited)
EOF_LUA

# flood PER OVER SRCS DST: run the policy and the flood; sets OUT (ctlua's) and FLOOD.
flood()
{
	local per=$1 over=$2 srcs=$3 dst=$4
	ctlua_start "$NS_A" 30 "$TEST_TMP/limit.lua" "$IF_A" "$(awk -v s="$SECS" 'BEGIN { print s + 2 }')" \
		"$per" "$over" "$RATE" "$BURST"
	wait_line "$CTLUA_OUT" '^READY' 10 || diag "the policy did not start"
	FLOOD=$(flood_from_b "$dst" "$SECS" "$PPS" "$srcs")
	ctlua_finish
	[[ "$RC" == 0 ]] || show_ctlua
}

# expected FIRST LAST: B + R * (LAST - FIRST), the flows a bucket admits over that time
expected() { awk -v a="$1" -v b="$2" -v r="$RATE" -v bu="$BURST" 'BEGIN { printf "%d", bu + r * (b - a) }'; }
# span SRC...: the first and last send time over those sources' lines of FLOOD
span()
{
	local re
	re="^($(IFS='|'; echo "$*")) "
	grep -E "$re" <<<"$FLOOD" | awk '{ if (f == "" || $5 < f) f = $5; if ($7 > l) l = $7 }
		END { print f, l }'
}
sent() { awk -v s="$1" '$1 == s { print $3 }' <<<"$FLOOD"; }
# field SRC N: column N of ctlua's "SRC" line for that source (3 alloc, 4 drop, 5 pass)
field() { awk -F'\t' -v s="$1" -v n="$2" '$1 == "SRC" && $2 == s { print $n }' <<<"$OUT"; }

# --- per source, over drop: each source its own budget ---
flood src drop 198.18.0.2,198.18.0.3 "$ADDR_A"
for src in 198.18.0.2 198.18.0.3; do
	# shellcheck disable=SC2046 # first and last
	want=$(expected $(span "$src"))
	within "$(field "$src" 3)" "$want" "per src, $src"
	is "$(($(field "$src" 3) + $(field "$src" 4)))" "$(sent "$src")" \
		"per src, $src: every flow sent was allocated or dropped"
done
line=$(grep '^LIMIT' <<<"$OUT")
a2=$(field 198.18.0.2 3)
a3=$(field 198.18.0.3 3)
d2=$(field 198.18.0.2 4)
d3=$(field 198.18.0.3 4)
is "$line" "LIMIT	$((a2 + a3))	$((d2 + d3))	$RATE	$BURST	src	drop" \
	"ct.limits() counts what was admitted and what went over"
is "$(grep '^STATS' <<<"$OUT")" "STATS	$((a2 + a3))	$((d2 + d3))	0	$((d2 + d3))" \
	"ct.stats(): alloc_ok, drops and limited agree"
cnt=$(ip netns exec "$NS_A" conntrack -L -p udp 2>/dev/null | grep -c 'dport=2[0-9][0-9][0-9][0-9] ')
is "$cnt" "$((a2 + a3))" "conntrack holds exactly the admitted flows"
ip netns exec "$NS_A" conntrack -F >/dev/null 2>&1

# --- per /24, over pass: two sources of one /24 share a budget, another /24 has its own ---
flood src/24 pass 198.18.0.2,198.18.0.3,198.18.1.2 "$ADDR_A"
# shellcheck disable=SC2046
want=$(expected $(span 198.18.0.2 198.18.0.3))
within "$(($(field 198.18.0.2 3) + $(field 198.18.0.3 3)))" "$want" "per src/24, 198.18.0.0/24 together"
# shellcheck disable=SC2046
want=$(expected $(span 198.18.1.2))
within "$(field 198.18.1.2 3)" "$want" "per src/24, 198.18.1.0/24 alone"
for src in 198.18.0.2 198.18.0.3 198.18.1.2; do
	is "$(field "$src" 4)" 0 "over pass, $src: nothing dropped"
done
total=$(($(sent 198.18.0.2) + $(sent 198.18.0.3) + $(sent 198.18.1.2)))
admitted=$(($(field 198.18.0.2 3) + $(field 198.18.0.3 3) + $(field 198.18.1.2 3)))
passed=$(($(field 198.18.0.2 5) + $(field 198.18.0.3 5) + $(field 198.18.1.2 5)))
is "$((admitted + passed))" "$total" "over pass: every flow was allocated or passed"
like "$(grep '^LIMIT' <<<"$OUT")" "^LIMIT	$admitted	$passed	$RATE	$BURST	src/24/64	pass\$" \
	"ct.limits(): the /24 key reads back as src/24/64"
cnt=$(ip netns exec "$NS_A" conntrack -L -p udp 2>/dev/null | grep -c 'dport=2[0-9][0-9][0-9][0-9] ')
is "$cnt" "$total" "netfilter tracked the passed flows itself: one entry per flow sent"
ip netns exec "$NS_A" conntrack -F >/dev/null 2>&1

# --- IPv6, per src/24 (IPv6 by /64): two sources of one /64 share a budget ---
flood src/24 drop 2001:db8::2,2001:db8::3 "$ADDR6_A"
# shellcheck disable=SC2046
want=$(expected $(span 2001:db8::2 2001:db8::3))
within "$(($(field 2001:db8::2 3) + $(field 2001:db8::3 3)))" "$want" "IPv6 per /64, 2001:db8::/64 together"

# --- per rule, from both CPUs at once: one bucket shared across CPUs holds its rate ---
if (($(nproc) >= 2)) && command -v taskset >/dev/null 2>&1; then
	ctlua_start "$NS_A" 30 "$TEST_TMP/limit.lua" "$IF_A" "$(awk -v s="$SECS" 'BEGIN { print s + 2 }')" \
		rule drop "$RATE" "$BURST"
	wait_line "$CTLUA_OUT" '^READY' 10 || diag "the policy did not start"
	# each sender's datagrams are received on its own CPU (veth), so the two race
	flood_from_b --cpu 0 "$ADDR_A" "$SECS" "$PPS" 198.18.0.2 20000 >"$TEST_TMP/cpu0" &
	flood_from_b --cpu 1 "$ADDR_A" "$SECS" "$PPS" 198.18.0.3 25000 >"$TEST_TMP/cpu1"
	wait $!
	ctlua_finish
	FLOOD=$(cat "$TEST_TMP/cpu0" "$TEST_TMP/cpu1")
	# shellcheck disable=SC2046
	want=$(expected $(span 198.18.0.2 198.18.0.3))
	within "$(($(field 198.18.0.2 3) + $(field 198.18.0.3 3)))" "$want" "per rule, two CPUs at once"
	like "$(grep '^LIMIT' <<<"$OUT")" "	rule	drop\$" "ct.limits(): per rule"
else
	skip "needs 2 CPUs and taskset" 2
fi

done_testing
