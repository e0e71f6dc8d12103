#!/bin/bash
# 50-sandbox.t - a callback cannot take the host down: each way of escaping its time
# budget (pcall loops, coroutines made outside it, debug.sethook, answers whose
# metamethods loop, long C calls) is stopped with the exact message, counted in ct.stats,
# and the next event's callback still runs; the memory limit stops a callback that
# allocates without bound. Real events from real packets, in namespaces.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup
ok_run "conntrack hooks in $NS_A" ct_hooks "$NS_A"
nl=$'\n'

# One case per destination port; each line that loops is marked, so the test knows the
# file:line every message must name. Port 7000 is a plain callback that prints.
P=$TEST_TMP/escape.lua
cat >"$P" <<'EOF'
ct.budget(100)
local spin = coroutine.create(function() while true do end end) -- @spin
local spin_wrap = coroutine.wrap(function() while true do end end) -- @wrap
local closing = coroutine.create(function()
	local x <close> = setmetatable({}, { __close = function() while true do end end }) -- @close
	coroutine.yield()
end)
coroutine.resume(closing)
local cases = {
	[7001] = function() while true do pcall(function() while true do end end) end end, -- @c1
	[7002] = function() while true do xpcall(function() while true do end end, print) end end, -- @c2
	[7003] = function() print("RESUMED", coroutine.resume(spin)) end,
	[7004] = function() while true do pcall(spin_wrap) end end,
	[7005] = function() debug.sethook() while true do end end, -- @c5
	[7006] = function() pcall(debug.sethook) while true do end end, -- @c6
	[7007] = function() return setmetatable({}, { __tostring = function() while true do end end }) end, -- @c7
	[7008] = function() return "alloc", setmetatable({}, { __index = function() while true do end end }) end, -- @c8
	[7009] = function() return "allow" end,
	[7010] = function() return "alloc", { timeout = 1.5 } end,
	[7011] = function() print("REP", #string.rep("", 1e12)) return string.rep("x", 2^40) end, -- @c11
	[7012] = function() table.move({}, 1, 1e15, 2) end, -- @c12
	[7013] = function() table.insert(setmetatable({}, { __len = function() return 1e15 end }), 1, 0) end, -- @c13
	[7014] = function() while true do pcall(coroutine.close, closing) end end,
	[7015] = function() while true do load(function() while true do end end) end end, -- @c15
	[7016] = function() local s = ("a"):rep(40) return s:find(("a?"):rep(40) .. s) end, -- @c16
	[7017] = function(ev) -- the printer runs __tostring under its own pcall: still stopped
		ev.x = setmetatable({}, { __tostring = function() while true do end end }) -- @c17
		local _ = tostring(ev)
		return "drop"
	end,
	[7018] = function() ct.memory_limit(2^40) end, -- @c18
}
function on_miss(ev)
	print("START", ev.dport)
	local case = cases[ev.dport]
	if case then return case(ev) end
end
ct.on("miss", on_miss)
local link = assert(ct.attach(arg[1]))
print("READY")
local last = os.time() + 60
repeat ct.poll(100) until io.open(arg[2]) or os.time() > last
local st = ct.stats()
print("STATS", st.callback_errors, st.callback_timeouts, st.callback_memory)
EOF
line() { grep -n -- "-- @$1\$" "$P" | cut -d: -f1; }
defined=$(grep -n '^function on_miss' "$P" | cut -d: -f1)
cb="the 'miss' callback (function 'on_miss', $P:$defined)"
over="callback exceeded its time budget of 100 ms"

ports="7001 7002 7003 7004 7005 7006 7007 7008 7009 7010 7011 7012 7013 7014 7015 7016 7017 7018"
start=$SECONDS
ctlua_start "$NS_A" 90 --memory-limit 256M "$P" "$IF_A" "$TEST_TMP/stop"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
sport=42000
for port in $ports 7000; do
	udp_send "$NS_B" "$ADDR_A" "$port" $((sport++))
	# wait until its callback started, then give the budget (100 ms) time to end it
	wait_line "$CTLUA_OUT" "^START	$port\$" 10 || diag "no callback for port $port"
	sleep 0.3
done
touch "$TEST_TMP/stop"
ctlua_finish
is "$RC" 0 "ctlua served every event and ended normally" || show_ctlua
note "$((SECONDS - start)) s for $(wc -w <<<"$ports") cases"

# has TEXT NAME: stderr has TEXT as a whole line
has() { grep -qxF -- "$1" <<<"$ERR" && pass "$2" || { fail "$2"; diag "wanted: $1"; show_ctlua; }; }

has "ctlua: $cb failed: $P:$(line c1): $over" "1: pcall in a loop cannot swallow the budget"
has "ctlua: $cb failed: $P:$(line c2): $over" "1: nor xpcall"
has "ctlua: $cb failed: $P:$(line spin): $over" \
	"2: a coroutine made outside the callback runs under it (coroutine.resume)"
unlike "$OUT" "RESUMED" "... and its resume does not return false to the callback"
has "ctlua: $cb failed: $P:$(line wrap): $over" "2: the same with coroutine.wrap, in a pcall loop"
has "ctlua: $cb failed: $P:$(line c5): 'debug.sethook' cannot be called from a callback (the callback's time budget uses the hook)" \
	"3: debug.sethook in a callback is refused"
has "ctlua: $cb failed: $P:$(line c6): $over" "3: and the budget holds when the refusal is caught"
has "ctlua: $cb, its answer: $P:$(line c7): $over" "4: an action whose __tostring loops is stopped"
has "ctlua: $cb, its answer: $P:$(line c8): $over" "4: opts whose __index loops are stopped"
has "ctlua: $cb, its answer: 'allow' is not an action (pass, alloc or drop)" \
	"a bad action names the callback, its file:line and the event kind"
has "ctlua: $cb, its answer: field 'timeout': expected an integer, got 1.5" \
	"bad opts too"
like "$OUT" "(^|$nl)REP	0($nl|\$)" "5: string.rep('', 1e12) returns at once"
has "ctlua: $cb failed: $P:$(line c11): string.rep: a result of 1099511627776 bytes would pass the memory limit of 256 MiB" \
	"5: string.rep of a huge size fails through the memory limit"
has "ctlua: $cb failed: $P:$(line c12): $over" "5: table.move over 1e15 slots is stopped"
has "ctlua: $cb failed: $P:$(line c13): $over" "5: table.insert under a lying __len is stopped"
has "ctlua: $cb failed: $P:$(line close): $over" \
	"2: coroutine.close of an outside coroutine runs its __close under the budget"
has "ctlua: $cb failed: $P:$(line c15): $over" "1: load's reader cannot swallow the budget"
has "ctlua: $cb failed: $P:$(line c16): $over" "5: a pathological pattern is stopped"
has "ctlua: $cb failed: $P:$(line c17): $over" \
	"4: a __tostring the printer's pcall runs is stopped all the same"
has "ctlua: $cb failed: $P:$(line c18): ct.memory_limit cannot change the limit from a callback" \
	"a callback cannot lift its own memory limit"
like "$ERR" "stack traceback:" "the reports carry a traceback"
like "$OUT" "(^|$nl)START	7000($nl|\$)" "the event after the last runaway reaches its callback"
n=$(wc -w <<<"$ports")
# timeouts: every case but 7005 (refused), 7009 and 7010 (bad answers), 7011 (memory),
# 7018 (refused)
is "$(grep '^STATS' <<<"$OUT")" "STATS	$n	$((n - 5))	0" \
	"ct.stats counts the callback errors and timeouts" || show_ctlua
cmp_ok $((SECONDS - start)) -le 60 "the whole run took less than a minute"

# --- the memory limit ---------------------------------------------------------------------

M=$TEST_TMP/memory.lua
cat >"$M" <<'EOF'
ct.budget(20000) -- time enough to fill the memory (the machine may be busy)
ct.on("miss", function(ev)
	print("START", ev.dport)
	if ev.dport == 7101 then
		local t = {}
		while true do t[#t + 1] = { ev.dport } end -- @m1
	elseif ev.dport == 7102 then
		while true do pcall(function() local t = {} while true do t[#t + 1] = {} end end) end -- @m2
	end
	return "pass"
end)
local link = assert(ct.attach(arg[1]))
local last = os.time() + 60
repeat ct.poll(100) until io.open(arg[2]) or os.time() > last
local st = ct.stats()
print("STATS", st.callback_errors, st.callback_timeouts, st.callback_memory)
EOF
mline() { grep -n -- "-- @$1\$" "$M" | cut -d: -f1; }
mcb="the 'miss' callback ($M:2)"
ctlua_start "$NS_A" 90 --memory-limit 32M "$M" "$IF_A" "$TEST_TMP/stop2"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
for port in 7101 7102 7100; do
	udp_send "$NS_B" "$ADDR_A" "$port" $((sport++))
	wait_line "$CTLUA_OUT" "^START	$port\$" 10 || diag "no callback for port $port"
	# filling 32 MiB may take a while on a busy machine: wait for its report
	case $port in
	7101) wait_line "$CTLUA_ERR" ":$(mline m1): memory limit" 20 ;;
	7102) wait_line "$CTLUA_ERR" ":$(mline m2): memory limit" 20 ;;
	esac
	sleep 0.3
done
touch "$TEST_TMP/stop2"
ctlua_finish
is "$RC" 0 "ctlua survives callbacks that allocate without bound" || show_ctlua
has "ctlua: $mcb failed: $M:$(mline m1): memory limit of 32 MiB reached" \
	"a callback that allocates without bound gets an error with its location"
has "ctlua: $mcb failed: $M:$(mline m2): memory limit of 32 MiB reached" \
	"... which a pcall cannot swallow"
like "$OUT" "(^|$nl)START	7100($nl|\$)" "the next event reaches the callback"
is "$(grep '^STATS' <<<"$OUT")" "STATS	2	0	2" "ct.stats counts them as memory errors" || show_ctlua

done_testing
