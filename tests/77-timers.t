#!/bin/bash
# 77-timers.t - ct.timer and ct.every fire on the host's one loop: at the shell's prompt,
# inside ct.run and ct.poll (a script), and in `ctlua run`, where a reload's fresh state
# brings its own timers and the old state's stop at the switch. A timer callback that
# fails or never ends is stopped (the budget), reported, counted, and the loop goes on.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

nl=$'\n'
require_root_kernel
require_ctlua

# --- the shell's prompt (no kernel: the loop waits on the terminal alone) -------------------

out=$({
	echo 'n = 0; t = ct.every(100, function(t) n = n + 1; print("tick", n) end)'
	sleep 0.8
	echo 'print("n", n, t:cancel())'
	sleep 0.3
	echo 'print("after", n)'
} | timeout 10 "$CTLUA" 2>&1)
like "$out" "^tick	1${nl}tick	2${nl}tick	3${nl}" \
	"at the prompt: ct.every ticks while the shell waits for the next line"
n=$(grep -c '^tick' <<<"$out")
like "$(grep '^n' <<<"$out")" "^n	$n	true\$" "every tick ran its callback ($n in 0.8 s); cancel says it was on"
like "$(tail -n 1 <<<"$out")" "^after	$n\$" "no tick after cancel"

make_ns || BAIL_OUT "cannot create the test namespace"

# --- inside ct.run and ct.poll --------------------------------------------------------------

cat >"$TEST_TMP/run.lua" <<'EOF'
io.stdout:setvbuf("no")
ct.budget(100)
local t0 = ct.now()
local ticks, loops, zero = 0, 0, 0
ct.timer(300, function(t)
	local late = ct.now() - t0
	print("ONCE", late >= 0.3 and late < 1, t:active())
end)
ct.every(100, function(t)
	ticks = ticks + 1
	if ticks == 5 then print("CANCEL", t:cancel()) end
end)
local never = ct.timer(200, function() print("NEVER") end)
never:cancel()
do
	local scoped <close> = ct.every(50, function() print("SCOPED") end)
end
ct.timer(150, function() error("boom") end)
ct.every(400, function()
	loops = loops + 1
	while true do end	-- the budget (100 ms) stops it, every time
end)
-- a timer made by a timer callback with 0 ms fires at the next wait, not in the same round
local function again()
	zero = zero + 1
	if zero < 50 then ct.timer(0, again) end
end
ct.timer(0, again)
print("RUN", ct.run(1.25))
print("TICKS", ticks, "LOOPS", loops >= 2, "ZERO", zero)
local s = ct.stats()
print("STATS", s.callback_errors == 1 + loops, s.callback_timeouts == loops)
-- ct.poll waits on the same loop: a timer fires during it, and ct.poll counts only events
local fired = false
ct.timer(50, function() fired = true end)
print("POLL", ct.poll(200), fired)
EOF
ctlua_run "$NS" 20 "$TEST_TMP/run.lua"
is "$RC" 0 "the script runs to its end" || show_ctlua
like "$OUT" "(^|$nl)ONCE	true	false$nl" "ct.timer(300) fired once, 0.3 s after it was made, no longer active" ||
	show_ctlua
like "$OUT" "${nl}CANCEL	true$nl" "a ct.every callback cancels its own timer" || show_ctlua
like "$OUT" "${nl}RUN	timeout${nl}TICKS	5	LOOPS	true	ZERO	50$nl" \
	"ticks stop at the cancel; the endless one ran again after each stop; 50 zero-ms timers, one per wait" ||
	show_ctlua
unlike "$OUT" "NEVER|SCOPED" "a cancelled timer and one closed by <close> never fire"
is "$(grep '^STATS' <<<"$OUT")" "STATS	true	true" "ct.stats counts every failure, and those the time budget stopped" ||
	show_ctlua
is "$(grep '^POLL' <<<"$OUT")" "POLL	0	true" "ct.poll fires the timer while it waits; it counts events only (0)"
like "$ERR" "^ctlua: the timer callback \\($TEST_TMP/run.lua:18\\) failed: $TEST_TMP/run.lua:18: boom${nl}stack traceback:" \
	"an error in a timer callback is reported as an event callback's is: which, where, the error, a traceback" ||
	show_ctlua
n=$(grep -c "^ctlua: the timer callback ($TEST_TMP/run.lua:19) failed: $TEST_TMP/run.lua:21: callback exceeded its time budget of 100 ms$" <<<"$ERR")
cmp_ok "$n" -ge 2 "the endless callback is stopped by the budget each time, naming its line" || show_ctlua

# --- the memory limit holds a timer callback in ----------------------------------------------

cat >"$TEST_TMP/memory.lua" <<'EOF'
ct.memory_limit("64M")
ct.timer(10, function()
	local t = {}
	for i = 1, 1e8 do t[i] = i end
end)
local after = false
ct.timer(100, function() after = true end)
ct.run(1)
print("AFTER", after, ct.stats().callback_memory)
EOF
ctlua_run "$NS" 30 "$TEST_TMP/memory.lua"
is "$RC:$OUT" "0:AFTER	true	1" "a timer callback past the memory limit is stopped and counted, the next timer fires" ||
	show_ctlua
like "$ERR" "^ctlua: the timer callback \\($TEST_TMP/memory.lua:2\\) failed: $TEST_TMP/memory.lua:4: memory limit of 64 MiB reached" \
	"and reported with its name and line" || show_ctlua

# --- the module closed under its timers ---------------------------------------------------

cat >"$TEST_TMP/close.lua" <<'EOF'
local st = select(2, debug.getupvalue(ct.stats, 1))
local gc = getmetatable(st).__gc
local t = ct.every(50, function() end)
ct.timer(20, function() gc(st) end)	-- closed by hand, from a timer callback
print(pcall(ct.run, 0.3))
print(t:active(), t:cancel(), tostring(t))
print(pcall(ct.timer, 10, print))
EOF
ctlua_run "$NS" 20 "$TEST_TMP/close.lua"
is "$RC:$OUT" "0:false	the ct module is closed${nl}false	false	ct.timer (every 50 ms, stopped)${nl}false	the ct module is closed" \
	"a timer callback that closes the module: ct.run says so, its timers are stopped, no new ones" ||
	show_ctlua
cat >"$TEST_TMP/exit.lua" <<'EOF'
ct.every(10, function() end)
ct.timer(30, function() print("exiting"); os.exit(3, true) end)
ct.run(2)
EOF
ctlua_run "$NS" 20 "$TEST_TMP/exit.lua"
is "$RC:$OUT:$ERR" "3:exiting:" "os.exit(3, true) in a timer callback closes everything and exits 3" || show_ctlua

# --- ct.so in stock lua5.4: the same timers in its ct.run ----------------------------------

CT_SO=${CT_SO:-$PWD/build/ct.so}
out=$(LUA_CPATH="${CT_SO%/*}/?.so" ns_exec "$NS" timeout 10 lua5.4 -e '
local ct = require "ct"
assert(ct.stats())	-- the datapath loaded first: the timers count from here
local n = 0
ct.every(50, function() n = n + 1 end)
ct.timer(120, function() print("once", n) end)
print(ct.run(0.33), n >= 5 and n <= 6)' 2>&1)
is "$out" "once	2${nl}timeout	true" "ct.so in lua5.4: ct.every and ct.timer fire in its ct.run" ||
	diag_text "$out"

# --- ctlua run: the live state's timers; a reload switches them ------------------------------

POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/timers.lua
policy 'io.stdout:setvbuf("line")
local n = 0
ct.every(100, function() n = n + 1; print("gen1", n) end)'
ctlua_start "$NS" 30 run "$POL"
wait_line "$CTLUA_OUT" '^gen1	3$' 5
like "$(cat "$CTLUA_OUT")" "^gen1	1${nl}gen1	2${nl}gen1	3" "ctlua run: the policy's ct.every ticks in the service's loop"
NS_A=$NS
svc=$(ctlua_self)
policy 'io.stdout:setvbuf("line")
ct.budget(100)
local n = 0
ct.every(100, function()
	n = n + 1
	if n == 2 then while true do end end	-- stopped by the budget
	print("gen2", n)
end)
ct.timer(0, function() print("gen2 first") end)'
kill -HUP "$svc"
wait_line "$CTLUA_ERR" 'generation 2' 5
wait_line "$CTLUA_OUT" '^gen2	4$' 5
ones=$(grep -c '^gen1' "$CTLUA_OUT")
sleep 0.5
is "$(grep -c '^gen1' "$CTLUA_OUT")" "$ones" "after the reload the old state's timer is stopped ($ones ticks)"
last1=$(grep -n '^gen1' "$CTLUA_OUT" | tail -n 1 | cut -d: -f1)
first2=$(grep -n '^gen2' "$CTLUA_OUT" | head -n 1 | cut -d: -f1)
((last1 < first2)); ok $? "no gen1 tick after the first of gen2 (line $last1 < $first2)"
is "$(sed -n "${first2}p" "$CTLUA_OUT")" "gen2 first" "the new state's timers fire once it is live"
like "$(grep -v '^gen1' "$CTLUA_OUT" | head -n 4 | tr '\n' ' ')" "^gen2 first gen2	1 gen2	3 gen2	4 \$" \
	"its ct.every goes on after the tick the budget stopped"
has_line "$(cat "$CTLUA_ERR")" "ctlua: error: the timer callback ($POL:4) failed: $POL:6: callback exceeded its time budget of 100 ms" \
	"the stopped tick is logged at level error, naming the callback and the line"
kill -TERM "$svc"
ctlua_finish
is "$RC" 0 "the service stops on SIGTERM" || show_ctlua

done_testing
