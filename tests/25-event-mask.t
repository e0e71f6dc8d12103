#!/bin/bash
# 25-event-mask.t - the TC program emits a kind only while something listens to it (a
# ct.on callback, ct.watch) and ct.events allows it: with real packets, the events
# counter of ct.stats() grows by exactly the events someone wanted.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

tab=$'\t'
SEND="ip netns exec $NS_B socat -u -T 2 STDIN UDP-SENDTO:$ADDR_A:%d,sourceport=%d,reuseaddr"

# Each phase sends three packets: two pass (a miss each), one a rule drops (a miss and a
# drop). No conntrack hooks in NS_A, so nothing else makes entries or events.
cat >"$TEST_TMP/mask.lua" <<'EOF'
local send = arg[2]
local seen = {}
local function count(ev) seen[ev.kind] = (seen[ev.kind] or 0) + 1 end
ct.on("alloc", count)	-- before the program is loaded: set when ct.attach loads it
ct.rule{proto = "udp", dport = 7009, action = "drop"}
local link = assert(ct.attach(arg[1]))
local sport = 43000
local function phase(name)
	local before = ct.stats().events
	seen = {}
	for _, dport in ipairs{7000, 7001, 7009} do
		assert(os.execute("echo x | " .. send:format(dport, sport)))
		sport = sport + 1
	end
	ct.run(0.3)
	print(name, ct.stats().events - before, seen.miss or 0, seen.drop or 0,
	      table.concat(ct.events(), ","))
end
phase("ALLOC")				-- alloc only: none of these
ct.on("miss", count)
phase("MISS")				-- 3 misses
ct.events{"drop", "alloc"}
phase("ALLOWED")			-- miss not allowed: nothing
ct.watch{kind = "drop"}
phase("WATCH")				-- the watched drop
ct.events{"miss", "alloc", "alloc_error", "drop"}
phase("ALL")				-- 3 misses and the drop
ct.on("miss", nil)
ct.watch(false)
phase("NONE")				-- nobody listens: nothing
ct.on("drop", count)
ct.watch{}
phase("EVERY")				-- the watch without a kind wants every kind
EOF

ctlua_start "$NS_A" 40 "$TEST_TMP/mask.lua" "$IF_A" "$SEND"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua

get() { grep "^$1${tab}" <<<"$OUT"; }
all="miss,alloc,alloc_error,drop"
is "$(get ALLOC)" "ALLOC${tab}0${tab}0${tab}0${tab}$all" \
	"an alloc callback set before loading: no miss or drop is emitted" || show_ctlua
is "$(get MISS)" "MISS${tab}3${tab}3${tab}0${tab}$all" \
	"ct.on('miss'): the three misses, the drop nobody wants is not emitted" || show_ctlua
is "$(get ALLOWED)" "ALLOWED${tab}0${tab}0${tab}0${tab}alloc,drop" \
	"ct.events without miss: the miss callback gets nothing, nothing is emitted" || show_ctlua
is "$(get WATCH)" "WATCH${tab}1${tab}0${tab}0${tab}alloc,drop" \
	"ct.watch{kind = 'drop'}: the drop is emitted (and shown)" || show_ctlua
is "$(get ALL)" "ALL${tab}4${tab}3${tab}0${tab}$all" \
	"every kind allowed again: the misses and the watched drop" || show_ctlua
is "$(get NONE)" "NONE${tab}0${tab}0${tab}0${tab}$all" \
	"callback and watch gone: nothing is emitted" || show_ctlua
is "$(get EVERY)" "EVERY${tab}4${tab}0${tab}1${tab}$all" \
	"a watch without a kind: every kind is emitted (misses shown, the drop to its callback)" ||
	show_ctlua
is "$(grep -c '^[0-9:.]* event{drop ' <<<"$OUT")" 3 "the watch showed the drops of three phases" ||
	show_ctlua
is "$(grep -c '^[0-9:.]* event{miss ' <<<"$OUT")" 3 "and the misses of the last, which watches all" ||
	show_ctlua

done_testing
