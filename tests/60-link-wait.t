#!/bin/bash
# 60-link-wait.t - interfaces that come and go: ct.attach(name, {wait = true}) on an
# interface that does not exist yet attaches when it is created, and again when it is
# deleted and created anew; both times real packets are decided by the program (a rule
# drops them). link.attached is false while it waits and turns false when the interface
# is deleted, which stderr reports. A link without wait is lost for good.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

pair_test_setup
tab=$'\t'

OUT=$("$CTLUA" -e 'print(pcall(ct.attach, "w-a", {wait = "yes"}))' 2>&1)
is "$OUT" "false${tab}bad argument #2 to 'ct.attach' (field 'wait': expected a boolean, got string)" \
	"a wait that is not a boolean is misuse"

# w-a (NS_A) / w-b (NS_B): a second veth pair, made and unmade while ctlua runs.
add_w()
{
	ip -n "$NS_A" link add w-a type veth peer name w-b netns "$NS_B" &&
	ip -n "$NS_A" addr add 198.18.1.1/24 dev w-a &&
	ip -n "$NS_B" addr add 198.18.1.2/24 dev w-b &&
	ip -n "$NS_A" link set w-a up && ip -n "$NS_B" link set w-b up
}

# The script reports link.attached whenever it changes (read between short waits, as a
# policy would), and each drop event.
cat >"$TEST_TMP/wait.lua" <<'EOF_LUA'
ct.rule{proto = "udp", dport = 7777, action = "drop"}
ct.on("drop", function(ev) print("DROP", ev.ifname, ev.dport) io.stdout:flush() end)
local w = assert(ct.attach("w-a", {wait = true}))
local plain = assert(ct.attach(arg[1]))
local was
print("LINK", tostring(w))
local t0 = os.time()
while os.time() - t0 < 40 do
	if w.attached ~= was then
		was = w.attached
		print("ATTACHED", tostring(was), w.ifindex, tostring(w))
		io.stdout:flush()
	end
	if ct.run(0.05) == "signal" then break end
end
print("PLAIN", tostring(plain.attached))
EOF_LUA

ctlua_start "$NS_A" 60 "$TEST_TMP/wait.lua" "$IF_A"
wait_line "$CTLUA_OUT" '^ATTACHED' 10
has_line "$(cat "$CTLUA_OUT")" "LINK${tab}link w-a ingress (waiting)" "a link that waits prints as waiting" ||
	show_ctlua
has_line "$(cat "$CTLUA_OUT")" "ATTACHED${tab}false${tab}0${tab}link w-a ingress (waiting)" \
	"before the interface exists: attached false, ifindex 0"

count_drops() { grep -c "^DROP${tab}w-a${tab}7777$" "$CTLUA_OUT"; }
# send_until N: send to 198.18.1.1:7777 until N drop events were seen (up to 5 s)
send_until()
{
	local i
	for i in $(seq 25); do
		udp_send "$NS_B" 198.18.1.1 7777 >/dev/null 2>&1
		(($(count_drops) >= $1)) && return 0
		sleep 0.2
	done
	return 1
}

add_w || BAIL_OUT "cannot create w-a"
idx1=$(ip -n "$NS_A" -o link show w-a | cut -d: -f1)
wait_line "$CTLUA_OUT" "^ATTACHED${tab}true${tab}$idx1${tab}" 5
ok $? "created after the start, w-a is attached (ifindex $idx1)" || show_ctlua
wait_filter "$NS_A" w-a ingress
ok $? "the filter is on w-a"
send_until 1
ok $? "a packet on w-a is dropped by the rule: enforced" || show_ctlua

ip -n "$NS_A" link del w-a
wait_line "$CTLUA_OUT" "^ATTACHED${tab}false${tab}0${tab}link w-a ingress \\(waiting\\)" 5
ok $? "deleted, w-a's link reads attached false and waits again" || show_ctlua
wait_line "$CTLUA_ERR" "'w-a' was deleted: its ingress link is lost; it attaches again" 2
ok $? "stderr says the link was lost" || show_ctlua
ino=$(stat -L -c %i "/run/netns/$NS_A")
is "$(find /run/ctlua -name "tc-$ino-$idx1-*" -printf '%f\n')" "" \
	"the lost link's ownership record is gone with its interface"

add_w || BAIL_OUT "cannot create w-a again"
idx2=$(ip -n "$NS_A" -o link show w-a | cut -d: -f1)
wait_line "$CTLUA_OUT" "^ATTACHED${tab}true${tab}$idx2${tab}" 5
ok $? "re-created (ifindex $idx2, was $idx1), w-a is attached again" || show_ctlua
send_until 2
ok $? "a packet on the new w-a is dropped too: enforced again" || show_ctlua

# The same in the service: a staged ct.attach{wait = true} of an interface that does not
# exist yet goes live waiting, and the service's own loop attaches it when it appears,
# and again when it is re-created.
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "the script exits 0" || show_ctlua
ip -n "$NS_A" link del w-a
cat >"$TEST_TMP/served.lua" <<'EOF_LUA'
ct.rule{proto = "udp", dport = 7777, action = "drop"}
ct.on("drop", function(ev) print("DROP", ev.ifname, ev.dport) io.stdout:flush() end)
ct.attach("w-a", {wait = true})
EOF_LUA
chmod 600 "$TEST_TMP/served.lua"

# A staged link closed or detached before the policy goes live is never attached, and
# the commit does not read it after the collector freed it.
cat >"$TEST_TMP/closed.lua" <<'EOF_LUA'
do local gone <close> = ct.attach("w-a", {wait = true}) end
assert(ct.attach("w-a", {dir = "egress", wait = true}):detach())
collectgarbage() collectgarbage()
ct.rule{proto = "udp", dport = 7777, action = "drop"}
EOF_LUA
chmod 600 "$TEST_TMP/closed.lua"
ctlua_start "$NS_A" 60 run "$TEST_TMP/closed.lua"
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 1\\)" 10
ok $? "a policy that closes and detaches its staged links starts" || show_ctlua
add_w || BAIL_OUT "cannot create w-a"
sleep 0.5
is "$(tc -n "$NS_A" filter show dev w-a ingress)$(tc -n "$NS_A" filter show dev w-a egress)" "" \
	"neither link is attached when w-a appears"
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "the service exits 0" || show_ctlua
ip -n "$NS_A" link del w-a
ctlua_start "$NS_A" 150 run "$TEST_TMP/served.lua"
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 1\\)" 10
ok $? "ctlua run starts with a link that waits for w-a" || show_ctlua
add_w || BAIL_OUT "cannot create w-a for the service"
wait_filter "$NS_A" w-a ingress "$CTLUA_PID"
ok $? "created after the service started, w-a gets the filter" || show_ctlua
send_until 3
ok $? "a packet on w-a is dropped by the service's rule" || show_ctlua
ip -n "$NS_A" link del w-a
wait_line "$CTLUA_ERR" "^ctlua: warning: 'w-a' was deleted: its ingress link is lost; it attaches again" 5
ok $? "the service logs w-a's lost link as a warning" || show_ctlua
add_w || BAIL_OUT "cannot create w-a again for the service"
wait_filter "$NS_A" w-a ingress "$CTLUA_PID"
ok $? "re-created, w-a gets the filter again" || show_ctlua
send_until 4
ok $? "and its packets are dropped again" || show_ctlua
kill -HUP "$(ctlua_self)"	# ctlua itself: timeout would pass HUP on and then kill
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 2\\)" 10
ok $? "a reload keeps the waiting link's attachment" || show_ctlua
send_until 5
ok $? "after the reload w-a's packets are still dropped" || show_ctlua

# ctlua's filter removed by hand: the reload attaches it again instead of adopting a
# filter that is not there.
tc -n "$NS_A" filter del dev w-a ingress pref 50970
kill -HUP "$(ctlua_self)"	# ctlua itself: timeout would pass HUP on and then kill
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 3\\)" 10
ok $? "reloaded after ctlua's filter was removed by hand" || show_ctlua
has_line "$(cat "$CTLUA_ERR")" \
	"ctlua: warning: 'w-a' ingress: ctlua's filter is gone; the new policy attaches it again" \
	"the reload says the filter was gone" || show_ctlua
send_until 6
ok $? "and attaches it again: w-a's packets are dropped" || show_ctlua

# Interfaces that change while a policy is staged, before its notifications are watched:
# w-a deleted after the new policy's ct.attach (the running link must not be adopted:
# it waits, and attaches when w-a is back), and a tun device that appears after its
# ct.attach{wait = true} gets the program that parses from the IP header.
cat >"$TEST_TMP/served.lua" <<'EOF_LUA'
ct.rule{proto = "udp", dport = 7777, action = "drop"}
ct.on("drop", function(ev) print("DROP", ev.ifname, ev.dport) io.stdout:flush() end)
ct.attach("w-a", {wait = true})
ct.attach("t-a", {wait = true})
assert(os.execute("ip link del w-a && ip tuntap add dev t-a mode tun && ip link set t-a up"))
EOF_LUA
kill -HUP "$(ctlua_self)"	# ctlua itself: timeout would pass HUP on and then kill
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 4\\)" 10
ok $? "reloaded with a policy that deletes w-a and creates t-a while it is staged" ||
	show_ctlua
like "$(tc -n "$NS_A" filter show dev t-a ingress)" "ctlua_ingress_l:" \
	"t-a, created while staged, runs the program that parses from the IP header" ||
	show_ctlua
add_w || BAIL_OUT "cannot create w-a again for the service"
wait_filter "$NS_A" w-a ingress "$CTLUA_PID"
ok $? "w-a, deleted while staged, gets the filter when it is back" || show_ctlua
send_until 7
ok $? "and its packets are dropped" || show_ctlua
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "the service exits 0 on SIGTERM" || show_ctlua
is "$(tc -n "$NS_A" filter show dev w-a ingress)" "" "no filter left on w-a"
is "$(tc -n "$NS_A" filter show dev t-a ingress)" "" "no filter left on t-a"
ip -n "$NS_A" link del t-a

# The same with a plain link (no wait): removed by hand, a reload attaches it again, and
# the old state lets go of the link it lost (its close once spun on it for ever).
cat >"$TEST_TMP/plain.lua" <<EOF_LUA
assert(ct.attach("$IF_A"))
EOF_LUA
chmod 600 "$TEST_TMP/plain.lua"
ctlua_start "$NS_A" 60 run "$TEST_TMP/plain.lua"
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 1\\)" 10
tc -n "$NS_A" filter del dev "$IF_A" ingress pref 50970
kill -HUP "$(ctlua_self)"
wait_line "$CTLUA_ERR" "policy '.*' running \\(generation 2\\)" 10
ok $? "a plain link's filter removed by hand: the reload goes live" || show_ctlua
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
ok $? "  and attaches the filter again" || show_ctlua
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "  and the service stops at SIGTERM, exit 0 (the old state closed)" || show_ctlua

# a link without wait whose interface goes is lost for good
ctlua_start "$NS_A" 60 "$TEST_TMP/wait.lua" "$IF_A"
wait_line "$CTLUA_OUT" '^ATTACHED' 10
ip -n "$NS_A" link del "$IF_A"
wait_line "$CTLUA_ERR" "'$IF_A' was deleted: its ingress link is lost\$" 5
ok $? "a plain link's loss is reported, without waiting" || show_ctlua
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
has_line "$OUT" "PLAIN${tab}false" "the plain link reads attached false" || show_ctlua
netns_ino=$(stat -L -c %i "/run/netns/$NS_A")
is "$(find /run/ctlua -name "*-$netns_ino-*" -printf '%f\n' 2>/dev/null)" "" \
	"no record or qdisc marker of ctlua's is left under /run/ctlua for the namespace"

done_testing
