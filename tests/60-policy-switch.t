#!/bin/bash
# 60-policy-switch.t - a policy switch that no packet sees half-done: two policies that
# differ in rules, default and mode, switched thousands of times with ct.policy while
# new UDP flows flood the TC program from both CPUs. Every miss event's (rule, action)
# must be one that a single policy gives that packet; the test counts those that are
# not (the two policies' parts mixed) and wants none.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup
if ! command -v python3 >/dev/null 2>&1 || ! command -v taskset >/dev/null 2>&1; then
	[[ "${CI:-}" == true ]] && BAIL_OUT "python3 and taskset are needed to flood (scripts/install-deps.sh)"
	skip_all "python3 and taskset are needed to flood"
fi
CPUS=$(nproc)

# The flood: UDP from one socket to ADDR_A, dports 20000-29999 (kind X) and 30000-39999
# (kind Y) in turn, a new flow each until they repeat 10000 packets later. Nothing in
# NS_A makes conntrack entries (no conntrack hooks; B only observes), so each is a miss.
cat >"$TEST_TMP/flood.py" <<'EOF_PY'
import socket, sys, time
dst, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + secs
i = 0
while time.monotonic() < end:
    for _ in range(500):
        p = i % 10000
        s.sendto(b"x", (dst, 20000 + p))
        s.sendto(b"x", (dst, 30000 + p))
        i += 1
EOF_PY

# Policy A: N rules, the last lets kind X pass; the default drops; enforce. Policy B:
# N rules, the first drops kind Y; the default allocates; observe (so nothing is
# allocated). The others are TCP rules no packet matches. So a packet of kind X gets
# (A's last rule, pass) or (no rule, alloc); one of kind Y (no rule, drop) or (B's first
# rule, drop). Anything else mixes the two: X with (no rule, drop) is B's rules with A's
# default, Y with (no rule, alloc) the reverse; a rule with the other's action is a
# rule torn between them. ct.policy numbers each switch's rules anew; gen[] remembers
# which policy each id came from.
cat >"$TEST_TMP/switch.lua" <<'EOF_LUA'
local ifname, switches, n = arg[1], tonumber(arg[2]), 16
local function rules(match, first)
	local l = {}
	for i = 1, n - 1 do
		l[i] = {proto = "tcp", dport = 1000 + i, action = first and "drop" or "pass"}
	end
	table.insert(l, first and 1 or n, match)
	return l
end
local A = {mode = "enforce", default = "drop",
           rules = rules({proto = "udp", dport = {20000, 29999}, action = "pass"}, false)}
local B = {mode = "observe", default = {action = "alloc", timeout = 1000},
           rules = rules({proto = "udp", dport = {30000, 39999}, action = "drop"}, true)}
local gen, events, mixed = {}, 0, 0
local function switch(name, p)
	for _, id in ipairs(assert(ct.policy(p))) do gen[id] = name end
end
ct.on("miss", function(ev)
	if ev.dir ~= "ingress" or ev.proto ~= "udp" or ev.dport < 20000 then return end
	local x, a, r = ev.dport < 30000, ev.action, ev.rule
	local ok
	if r then
		ok = (gen[r] == "A" and x and a == "pass") or (gen[r] == "B" and not x and a == "drop")
	else
		ok = (x and a == "alloc") or (not x and a == "drop")
	end
	events = events + 1
	if not ok then
		mixed = mixed + 1
		if mixed <= 5 then
			io.stderr:write(("mixed: dport %d rule %s (%s) action %s\n"):format(
				ev.dport, tostring(r), tostring(r and gen[r]), a))
		end
	end
end)
switch("A", A)
local link <close> = assert(ct.attach(ifname))
print("READY")
io.stdout:flush()
for _ = 1, 100 do		-- until the flood is on: up to 10 s
	ct.poll(100)
	if events >= 1000 then break end
end
local before = events
for i = 1, switches do
	if i % 2 == 1 then switch("B", B) else switch("A", A) end
	ct.poll(0)
end
ct.poll(200)
print(("SWITCHES %d EVENTS %d DURING %d MIXED %d LOST %d"):format(switches, events,
	events - before, mixed, ct.stats().events_lost))
EOF_LUA

SWITCHES=${SWITCHES:-4000}
ctlua_start "$NS_A" 120 "$TEST_TMP/switch.lua" "$IF_A" "$SWITCHES"
if ! wait_line "$CTLUA_OUT" '^READY' 10; then
	ctlua_finish
	BAIL_OUT "ctlua did not attach: $ERR"
fi
# one sender per CPU: veth hands each packet to NS_A's TC program on the sending CPU
senders=()
for ((cpu = 0; cpu < CPUS && cpu < 4; cpu++)); do
	bg_run "$NS_B" taskset -c "$cpu" python3 "$TEST_TMP/flood.py" "$ADDR_A" 100
	senders+=("$BG_PID")
done
ctlua_finish
kill "${senders[@]}" 2>/dev/null
is "$RC" 0 "ctlua exits 0" || show_ctlua
line=$(grep '^SWITCHES' <<<"$OUT")
diag "$line"
read -r _ switched _ events _ during _ mixed _ <<<"$line"
is "$switched" "$SWITCHES" "$SWITCHES switches made"
cmp_ok "${during:-0}" -ge 2000 "at least 2000 miss events came while switching" || show_ctlua
is "$mixed" 0 "no event mixes the two policies" || show_ctlua

done_testing
