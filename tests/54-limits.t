#!/bin/bash
# 54-limits.t - what the host fills has a bound, and reaching it is clear, counted and
# recoverable: the verdict table (its size from --verdicts or ct.config, reclaiming by
# idle time, real packets deciding which verdicts are idle), ct.forget, the rule table;
# and the misuse around them (dport={1,2,3}, sizes out of range, a size set too late),
# also through ct.so under stock lua5.4.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

# --- the command line -----------------------------------------------------------------

for bad in 0 4194305 -1 " 5" 12x ""; do
	out=$("$CTLUA" --verdicts "$bad" -e 'print(1)' 2>&1)
	rc=$?
	is "$rc:$out" "2:ctlua: --verdicts wants a whole number from 1 to 4194304, not '$bad'" \
		"--verdicts '$bad' is refused with exit status 2 and a clear message"
done
out=$(ip netns exec "$NS_A" "$CTLUA" --verdicts 4194304 -e 'print(ct.config().verdicts)' 2>&1)
is "$out" 4194304 "--verdicts 4194304, the largest, is taken (ct.config() says so)"

# --- misuse, raised before the kernel is needed ----------------------------------------

cat >"$TEST_TMP/misuse.lua" <<'EOF_LUA'
local function try(f, ...) print(select(2, pcall(f, ...))) end
try(ct.rule, {dport = {1, 2, 3}, action = "pass"})
try(ct.rule, {dport = {80, 443, x = 1}, action = "pass"})
try(ct.config, {verdicts = 0})
try(ct.config, {verdicts = 4194305})
try(ct.config, {verdicts = 1.5})
try(ct.config, {verdict_idle = -1})
try(ct.config, {verdict_idle = 86400001})
try(ct.config, {size = 5})
try(ct.config, 5)
local c = ct.config()
print("DEFAULT", c.verdicts, c.verdict_idle)
c = ct.config{verdicts = 3, verdict_idle = 500}
print("SET", c.verdicts, c.verdict_idle)
print("RULES", #ct.rules())
EOF_LUA
out=$(ip netns exec "$NS_A" timeout 20 "$CTLUA" "$TEST_TMP/misuse.lua" 2>&1)
R="bad argument #1 to 'ct.rule'"
C="bad argument #1 to 'ct.config'"
has_line "$out" "$R (field 'dport': a range is {lo, hi}, got 3 items (one rule takes one port or one range))" \
	"ct.rule refuses dport={1, 2, 3}: a range is {lo, hi}"
has_line "$out" "$R (field 'dport': a range is {lo, hi}, got 3 items (one rule takes one port or one range))" \
	"and counts a key beside the list as an item too"
has_line "$out" "$C (field 'verdicts': 0 is out of range 1 to 4194304)" \
	"ct.config{verdicts=0}: out of range 1 to 4194304"
has_line "$out" "$C (field 'verdicts': 4194305 is out of range 1 to 4194304)" \
	"ct.config{verdicts=4194305}: out of range"
has_line "$out" "$C (field 'verdicts': expected an integer, got 1.5)" \
	"ct.config{verdicts=1.5}: a fraction"
has_line "$out" "$C (field 'verdict_idle': -1 is out of range 0 to 86400000)" \
	"ct.config{verdict_idle=-1}: out of range 0 to 86400000"
has_line "$out" "$C (field 'verdict_idle': 86400001 is out of range 0 to 86400000)" \
	"ct.config{verdict_idle=86400001}: more than a day"
has_line "$out" "$C (unknown field 'size' (known: verdicts, verdict_idle, pin, when_stopped))" \
	"ct.config: an unknown field is named, with the known ones"
has_line "$out" "$C (table expected, got number)" "ct.config(5): a table is expected"
has_line "$out" $'DEFAULT\t131072\t120000' "ct.config(): 131072 verdicts, idle 120 s by default"
has_line "$out" $'SET\t3\t500' "ct.config{verdicts=3, verdict_idle=500} returns what is in force"
has_line "$out" $'RULES\t0' "no refused rule was added"

# --- a full table, ct.forget, a size set too late; and the same from stock lua5.4 -------

cat >"$TEST_TMP/forget.lua" <<'EOF_LUA'
local ct = ct or require "ct"
ct.config{verdicts = 2, verdict_idle = 0}
local function flow(p) return ct.tuple{src = "198.18.0.2", dst = "198.18.0.1", sport = p,
	dport = 6300, proto = "udp"} end
print("V1", ct.verdict(flow(1), "drop"))
print("V2", ct.verdict(flow(2), "pass"))
print("V3", ct.verdict(flow(3), "drop"))
print("REPLACE", ct.verdict(flow(2), "drop"))
print("FORGET", ct.forget(flow(1)))
print("V3", ct.verdict(flow(3), "drop"))
print("LATE", select(2, pcall(ct.config, {verdicts = 5})))
print("SAME", ct.config{verdicts = 2}.verdicts)
local s = ct.stats()
print("STATS", s.verdicts_full, s.verdicts_expired)
EOF_LUA
full="the verdict table is full (2 entries, reclaiming is off): cannot store udp 198.18.0.2:3 → 198.18.0.1:6300 (ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)"
check_forget()
{
	local who=$1 out=$2
	has_line "$out" $'V1\ttrue' "$who: the first verdict of 2 is stored"
	has_line "$out" $'V2\ttrue' "$who: the second too"
	has_line "$out" $'V3\tnil\tENOSPC: '"$full"$'\t28' \
		"$who: the third: nil, ENOSPC saying the table is full and what to do, 28"
	unlike "$out" "Argument list too long" "$who: no 'Argument list too long' anywhere"
	has_line "$out" $'REPLACE\ttrue' "$who: a full table still replaces a stored verdict"
	has_line "$out" $'FORGET\ttrue' "$who: ct.forget frees a slot"
	has_line "$out" $'V3\ttrue' "$who: after which the third verdict is stored"
	has_line "$out" $'LATE\t'"bad argument #1 to 'ct.config' (field 'verdicts': the verdict table is loaded already, with room for 2; set its size before the first call that loads the datapath)" \
		"$who: a different size once loaded is refused, saying when to set it"
	has_line "$out" $'SAME\t2' "$who: the size in force is accepted again"
	has_line "$out" $'STATS\t1\t0' "$who: ct.stats counts 1 refused verdict, 0 reclaimed"
}
out=$(ip netns exec "$NS_A" timeout 20 "$CTLUA" "$TEST_TMP/forget.lua" 2>&1)
check_forget ctlua "$out"
if command -v lua5.4 >/dev/null 2>&1; then
	CT_SO=${CT_SO:-$PWD/build/ct.so}	# the sanitizer pass gives its own
	out=$(LUA_CPATH="${CT_SO%/*}/?.so" ip netns exec "$NS_A" timeout 20 lua5.4 "$TEST_TMP/forget.lua" 2>&1)
	check_forget "lua5.4 with ct.so" "$out"
else
	skip "'lua5.4' is not installed" 10
fi

# --- the rule table: 16384 rules, then a clear E2BIG, then room again after ct.unrule ----

out=$(ip netns exec "$NS_A" timeout 20 "$CTLUA" -e '
local l = {}
for i = 1, 16384 do l[i] = {proto = "udp", dport = i, action = "pass"} end
local first = assert(ct.policy{rules = l})[1]
print("FULL", ct.rule{proto = "udp", dport = 9999, action = "pass"})
print("UNRULE", ct.unrule(first))
print("AGAIN", ct.rule{proto = "udp", dport = 9999, action = "pass"}, #ct.rules())' 2>&1)
has_line "$out" $'FULL\tnil\tE2BIG: the rule table is full (16384 rules)\t7' \
	"the 16385th rule: nil, E2BIG: the rule table is full (16384 rules), 7"
has_line "$out" $'UNRULE\ttrue' "ct.unrule frees a place"
has_line "$out" $'AGAIN\t16385\t16384' "and the next rule fits (id 16385: the refused one took none)"

# --- real packets: full, counted, then idle verdicts reclaimed while used ones stay ------
#
# Room for 2 verdicts, reclaimed after 2 s unused. Each flow's first datagram is
# undecided (the default passes it, so it arrives) and the callback answers "drop":
# later datagrams of a flow whose verdict was stored never arrive.

udp_listen "$NS_A" 6300
got=$LISTEN_OUT
cat >"$TEST_TMP/full.lua" <<'EOF_LUA'
ct.config{verdict_idle = 2000}
ct.on("miss", function(ev)
	-- only undecided flows: a packet a verdict dropped is a miss too
	if ev.dport == 6300 and ev.action == "pass" then
		print("ASKED", ev.sport)
		io.stdout:flush()
		return "drop"
	end
end)
local link <close> = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
local s = ct.stats()
print("STATS", s.verdicts_full, s.verdicts_expired, ct.config().verdicts)
EOF_LUA
ctlua_start "$NS_A" 60 --verdicts 2 "$TEST_TMP/full.lua" "$IF_A" 50
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"

send() { udp_send "$NS_B" "$ADDR_A" 6300 "$1" "$2"; }
# asked SPORT N: wait until the callback was asked about SPORT N times, then let the
# answer reach the map (the store follows the print at once; 0.5 s is generous).
asked()
{
	local i
	for i in $(seq 50); do
		(($(grep -c "^ASKED	$1\$" "$CTLUA_OUT") >= $2)) && break
		sleep 0.1
	done
	sleep 0.5
}

send 43001 A1; asked 43001 1
send 43002 B1; asked 43002 1
send 43003 C1; asked 43003 1	# the table is full: C gets no verdict
send 43001 A2
send 43002 B2			# B's last use
send 43003 C2; asked 43003 2	# still none for C
# 2.7 s with A in use every 0.3 s: B goes idle (2 s), A does not.
for i in 1 2 3 4 5 6 7 8 9; do
	send 43001 "A-keep"
	sleep 0.3
done
send 43004 D1; asked 43004 1	# full: B is reclaimed, D stored
send 43001 A3
send 43004 D2
send 43002 B3; asked 43002 2	# B's verdict is gone: asked again (and the table is full)
# to ctlua itself: timeout(1) passes a TERM on to its child and to its process group,
# so ctlua would get two, and the second could interrupt the policy after ct.run
kill -TERM "$(ctlua_self)"	# ct.run returns and the policy ends
ctlua_finish
is "$RC" 0 "the policy exits 0" || show_ctlua

is "$(sort "$got" | tr '\n' ' ')" "A1 B1 B3 C1 C2 D1 " \
	"arrived: every first datagram, C's second (no room for its verdict), B's third (reclaimed)" ||
	show_ctlua
full_c="the verdict table is full (2 entries, none unused for 2 s): cannot store udp $ADDR_B:43003 → $ADDR_A:6300 (ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)"
is "$(grep -cF -- "$full_c" <<<"$ERR")" 2 "both of C's answers were reported: the table is full, and what to do" ||
	show_ctlua
unlike "$ERR" "Argument list too long" "no 'Argument list too long'"
like "$OUT" $'STATS\t3\t1\t2' \
	"stats: 3 verdicts refused (C twice, B again), 1 reclaimed (B; A was in use), room for 2" ||
	show_ctlua

done_testing
