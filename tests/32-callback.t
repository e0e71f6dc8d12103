#!/bin/bash
# 32-callback.t - ct.on("miss") callbacks: the event's fields, an "alloc" answer applied to
# the flow's conntrack entry, and a host that survives callbacks that fail or never end.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

# Netfilter tracks packets in NS_A, so with the default "pass" it creates the entries.
ok_run "conntrack hooks in $NS_A" ct_hooks "$NS_A"
for port in 6000 6001 6002; do
	udp_listen "$NS_A" "$port"
done
tab=$'\t'
nl=$'\n'

# --- the miss event, and an "alloc" answer with opts ---------------------------------

cat >"$TEST_TMP/miss.lua" <<'EOF'
ct.on("miss", function(ev)
	print("MISS", ev.proto, ev.src, ev.sport, ev.dst, ev.dport, ev.dir, ev.ifname, ev.action)
	print("MORE", ev.kind, ev.family, type(ev.time), ev.rule, ev.err, tostring(ev.tuple))
	if ev.dport == 6000 then
		return "alloc", {timeout=90000, mark=7, status={"fixed_timeout"}}
	end
end)
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
EOF

ctlua_start "$NS_A" 20 "$TEST_TMP/miss.lua" "$IF_A" 3
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
for i in 1 2 3; do
	udp_send "$NS_B" "$ADDR_A" 6000 41000 "6000-$i"
	sleep 0.5
done
ctlua_finish
is "$RC" 0 "ctlua exits 0 after ct.run(3)" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua

misses=$(grep "^MISS${tab}udp${tab}$ADDR_B${tab}41000${tab}" <<<"$OUT")
is "$misses" "MISS${tab}udp${tab}$ADDR_B${tab}41000${tab}$ADDR_A${tab}6000${tab}ingress${tab}$IF_A${tab}pass" \
	"exactly one miss event for the flow, with its fields (the entry exists after it)" ||
	show_ctlua
more=$(grep "^MORE" <<<"$OUT" | head -n 1)
is "$more" "MORE${tab}miss${tab}ipv4${tab}number${tab}nil${tab}0${tab}udp $ADDR_B:41000 → $ADDR_A:6000" \
	"ev.kind, ev.family, ev.time, ev.rule (nil: no rule), ev.err, ev.tuple" || show_ctlua

e=$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=41000 dport=6000 ")
note "entry: $e"
like "$e" '^udp ' "conntrack has an entry for the flow"
like "$e" ' mark=7 ' "the callback's alloc opts set its mark to 7"
t=$(ct_timeout "$e")
# fixed_timeout keeps netfilter from resetting it to 30 s on datagrams 2 and 3 (KERNEL.md 6)
cmp_ok "$t" -gt 60 "its timeout ($t s) is over 60 s (the callback said 90000 ms, fixed)"
is "$(sort "$TEST_TMP/$NS_A-udp-6000.out" | tr '\n' ' ')" "6000-1 6000-2 6000-3 " \
	"all three datagrams were delivered"

# --- a callback that raises an error ---------------------------------------------------

cat >"$TEST_TMP/cb-error.lua" <<'EOF'
local n = 0
ct.on("miss", function(ev)
	n = n + 1
	if n == 1 then error("boom in callback " .. ev.dport) end
	print("AFTER", ev.dport)
end)
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
print("END", n)
EOF

ctlua_start "$NS_A" 20 "$TEST_TMP/cb-error.lua" "$IF_A" 3
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
udp_send "$NS_B" "$ADDR_A" 6001 41001
sleep 0.5
udp_send "$NS_B" "$ADDR_A" 6002 41002
ctlua_finish
is "$RC" 0 "an error in a callback does not end ctlua (exit 0 after ct.run)" || show_ctlua
like "$ERR" "(^|$nl)ctlua: [^$nl]*cb-error\\.lua:4: boom in callback 6001" \
	"stderr has 'ctlua: SCRIPT:LINE: message'" || show_ctlua
like "$ERR" "traceback" "... with a traceback" || show_ctlua
like "$OUT" "AFTER${tab}6002" "a later event still reaches the callback" || show_ctlua
like "$OUT" "END${tab}2" "the script continues after ct.run" || show_ctlua

# --- a callback that never returns ----------------------------------------------------

cat >"$TEST_TMP/cb-loop.lua" <<'EOF'
local n = 0
ct.on("miss", function(ev)
	n = n + 1
	if n == 1 then while true do end end
	print("AFTER", ev.dport)
end)
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
print("END", n)
EOF

start=$SECONDS
ctlua_start "$NS_A" 20 "$TEST_TMP/cb-loop.lua" "$IF_A" 4
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
udp_send "$NS_B" "$ADDR_A" 6001 41003
sleep 1.5
udp_send "$NS_B" "$ADDR_A" 6002 41004
ctlua_finish
is "$RC" 0 "a callback stuck in a loop does not end ctlua (exit 0 after ct.run)" || show_ctlua
like "$ERR" "(^|$nl)ctlua: [^$nl]*cb-loop\\.lua:4: [^$nl]*time budget" \
	"stderr says the callback ran out of its time budget, and where" || show_ctlua
like "$OUT" "AFTER${tab}6002" "a later event still reaches the callback" || show_ctlua
like "$OUT" "END${tab}2" "the script continues after ct.run" || show_ctlua
cmp_ok $((SECONDS - start)) -le 8 "ct.run(4) still ends on time"

done_testing
