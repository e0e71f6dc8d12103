#!/bin/bash
# 69-link-events.t - ct.on("link", fn): what happens to links reaches the policy as an
# event, not only the log: a waiting link that attaches when its interface appears
# ("attached"), one whose interface is deleted ("lost", with wait saying whether it waits
# for it again), one that cannot attach when its interface appears ("failed", with the
# errno). In a script's ct.run and in ctlua run's loop; a failing link callback is
# reported and counted, and the loop goes on.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

pair_test_setup
tab=$'\t'

OUT=$("$CTLUA" -e 'print(pcall(ct.on, "linky", print)) print(ct.on("link", print), ct.on("link", nil) == print)' 2>&1)
is "$OUT" "false${tab}bad argument #1 to 'ct.on' (invalid option 'linky')
nil${tab}true" "'link' is a kind ct.on takes, and clears; others are misuse"

add_w() { ip -n "$NS_A" link add "$1" type veth peer name "$1-p" && ip -n "$NS_A" link set "$1" up; }

# --- a script: attached, lost (waits), attached again; a plain link lost for good ---------
cat >"$TEST_TMP/events.lua" <<'EOF_LUA'
local n = 0
ct.on("link", function(ev)
	n = n + 1
	print("EV", ev.kind, ev.what, ev.ifname, ev.dir, tostring(ev.wait), math.type(ev.ifindex),
	      tostring(math.abs(ct.now() - ev.time) < 5), ev.err, tostring(ev))
	io.stdout:flush()
	if n == 2 then error("boom in the link callback") end
end)
local w = assert(ct.attach("w-a", {wait = true}))
local plain = assert(ct.attach(arg[1], {dir = "egress"}))
print("attached") io.stdout:flush()
ct.run(30)
print("ERRORS", ct.stats().callback_errors)
EOF_LUA
ctlua_start "$NS_A" 60 "$TEST_TMP/events.lua" "$IF_A"
wait_line "$CTLUA_OUT" '^attached' 10 || diag "did not start: $(cat "$CTLUA_ERR")"
add_w w-a
wait_line "$CTLUA_OUT" "^EV${tab}link${tab}attached" 5
has_line "$(cat "$CTLUA_OUT")" "EV${tab}link${tab}attached${tab}w-a${tab}ingress${tab}true${tab}integer${tab}true${tab}0${tab}link attached w-a ingress" \
	"w-a created: an 'attached' event, with the interface, direction, wait, index and a time on ct.now()'s clock" ||
	show_ctlua
ip -n "$NS_A" link del w-a
wait_line "$CTLUA_OUT" "^EV${tab}link${tab}lost" 5
has_line "$(cat "$CTLUA_OUT")" "EV${tab}link${tab}lost${tab}w-a${tab}ingress${tab}true${tab}integer${tab}true${tab}0${tab}link lost w-a ingress (it waits for the interface)" \
	"w-a deleted: a 'lost' event that says the link waits for it" || show_ctlua
wait_line "$CTLUA_ERR" "the 'link' callback" 5
like "$(cat "$CTLUA_ERR")" "ctlua: the 'link' callback \\(.*events.lua:2\\) failed: .*events.lua:7: boom in the link callback" \
	"a link callback that fails is reported, naming it" || show_ctlua
add_w w-a
wait_filter "$NS_A" w-a ingress "$CTLUA_PID"
ok $? "  and the loop goes on: w-a re-created gets the filter" || show_ctlua
wait_line "$CTLUA_OUT" "^EV${tab}link${tab}attached.*" 5
is "$(grep -c "^EV${tab}link${tab}attached${tab}w-a" "$CTLUA_OUT")" 2 "  and its 'attached' event" || show_ctlua
ip -n "$NS_A" link del w-a
wait_line "$CTLUA_OUT" "^EV${tab}link${tab}lost.*" 5
ip -n "$NS_A" link del "$IF_A"
wait_line "$CTLUA_OUT" "^EV${tab}link${tab}lost${tab}$IF_A" 5
has_line "$(cat "$CTLUA_OUT")" "EV${tab}link${tab}lost${tab}$IF_A${tab}egress${tab}false${tab}integer${tab}true${tab}0${tab}link lost $IF_A egress" \
	"a plain link's interface deleted: 'lost', wait false" || show_ctlua
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
has_line "$OUT" "ERRORS${tab}1" "the failed link callback counts in callback_errors"

# --- two ctlua wait for one interface: one attaches, the other's attach fails -------------
cat >"$TEST_TMP/race.lua" <<'EOF_LUA'
ct.on("link", function(ev) print("EV", ev.what, ev.errname or "-", tostring(ev)) io.stdout:flush() end)
local w = assert(ct.attach("w-c", {wait = true}))
print("attached") io.stdout:flush()
ct.run(30)
EOF_LUA
ctlua_start "$NS_A" 60 "$TEST_TMP/race.lua"
first_pid=$CTLUA_PID first_out=$CTLUA_OUT
wait_line "$first_out" '^attached' 10
ctlua_start "$NS_A" 60 "$TEST_TMP/race.lua"
wait_line "$CTLUA_OUT" '^attached' 10
add_w w-c
wait_line "$first_out" '^EV' 5
wait_line "$CTLUA_OUT" '^EV' 5
both=$(cat "$first_out" "$CTLUA_OUT" | grep '^EV' | sort -u)	# the refused one tries at each change
like "$both" "^EV${tab}attached${tab}-${tab}link attached w-c ingress
EV${tab}failed${tab}EBUSY${tab}link failed w-c ingress \\(EBUSY\\)\$" \
	"one attaches ('attached'), the other is refused: 'failed', with errname EBUSY"
# the refused one tries again at the interface's next change, once the hook is free
if grep -q "^EV${tab}failed" "$first_out"; then
	winner=$CTLUA_PID loser=$first_pid loser_out=$first_out
else
	winner=$first_pid loser=$CTLUA_PID loser_out=$CTLUA_OUT
fi
kill -TERM "$winner"
wait "$winner"
ip -n "$NS_A" link set w-c down && ip -n "$NS_A" link set w-c up
wait_line "$loser_out" "^EV${tab}attached" 5
ok $? "the refused one attaches at w-c's next change once the other has gone" ||
	diag "$(cat "$loser_out")"
wait_filter "$NS_A" w-c ingress "$loser"
ok $? "  and its filter is on w-c"
kill -TERM "$loser"
wait "$loser"
ip -n "$NS_A" link del w-c

# --- ct.watch shows them too, with no callback ----------------------------------------------
ctlua_start "$NS_A" 30 -e 'ct.watch{kind = "link"} local w = assert(ct.attach("w-e", {wait = true}))
print("attached") io.stdout:flush() ct.run(20)'
wait_line "$CTLUA_OUT" '^attached' 10
add_w w-e
wait_line "$CTLUA_OUT" 'link attached w-e' 5
ip -n "$NS_A" link del w-e
wait_line "$CTLUA_OUT" 'link lost w-e' 5
kill -TERM "$(ctlua_self)"
ctlua_finish
like "$OUT" "^attached
[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\\.[0-9]{3} link attached w-e ingress
[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\\.[0-9]{3} link lost w-e ingress \\(it waits for the interface\\)\$" \
	"ct.watch{kind = 'link'} shows link events, time-stamped, without a callback" || show_ctlua

# --- the service: its loop delivers them too, also across a reload ------------------------
POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/links.lua
policy 'ct.on("link", function(ev) print("EV", tostring(ev)) io.stdout:flush() end)
ct.attach("w-d", {wait = true})'
ctlua_start "$NS_A" 60 run "$POL"
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 1\\)" 10
ok $? "the service starts" || show_ctlua
add_w w-d
wait_line "$CTLUA_OUT" "^EV${tab}link attached w-d ingress" 5
ok $? "the service's 'link' callback hears w-d attach" || show_ctlua
kill -HUP "$(ctlua_self)"
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 2\\)" 10
ok $? "reloaded" || show_ctlua
ip -n "$NS_A" link del w-d
wait_line "$CTLUA_OUT" "^EV${tab}link lost w-d ingress \\(it waits for the interface\\)" 5
ok $? "after the reload, the new policy's callback hears w-d lost" || show_ctlua
is "$(grep -c '^EV' "$CTLUA_OUT")" 2 "  and only the live policy's callback runs: one line each" ||
	show_ctlua
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "the service exits 0" || show_ctlua

done_testing
