#!/bin/bash
# 24-event-object.t - the event a callback gets, from real packets: every field as the
# table it replaced gave it, kept events that go on reading their own record after
# later events, keys a callback writes, pairs(), tostring() and ct.watch on it, and the
# errors of its metamethods given something else.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

tab=$'\t'
# The script sends its own packets (from NS_B, one per os.execute), so it knows what came.
SEND="ip netns exec $NS_B socat -u -T 2 STDIN UDP-SENDTO:$ADDR_A:%d,sourceport=%d,reuseaddr"

cat >"$TEST_TMP/object.lua" <<'EOF'
local send = arg[2]
local function packet(dport, sport)
	assert(os.execute("echo x | " .. send:format(dport, sport)))
end
local kept, keys = {}, {}
local co = coroutine.wrap(function(first)	-- a coroutine holding the first event
	while true do coroutine.yield(first.sport) end
end)
ct.on("miss", function(ev)
	kept[#kept + 1] = ev
	if #kept == 1 then co(ev) end
	if ev.dport ~= 7002 then ev.note = "seen " .. ev.sport end
	local t = {}
	for k in pairs(ev) do t[#t + 1] = k end
	table.sort(t)
	keys[#keys + 1] = table.concat(t, ",")
end)
local link = assert(ct.attach(arg[1]))
ct.watch{dport = 7001}
for i = 0, 2 do
	packet(7000 + i, 42000 + i)
	ct.run(0.3)
end
print("N", #kept)
for i, ev in ipairs(kept) do
	print("KEPT", i, ev.kind, ev.src, ev.sport, ev.dst, ev.dport, ev.proto, ev.family, ev.dir,
	      ev.ifname, ev.action, ev.rule, ev.err, ev.errname, math.type(ev.time), ev.note,
	      tostring(ev.tuple))
end
local a, b = kept[1], kept[2]
print("SAME", type(a), a == a, a == b, a.tuple == a.tuple, a.tuple == b.tuple, a.nope)
print("TIME", math.abs(a.time - os.time()) < 60, a.time <= b.time)
print("CORO", co())	-- the first event's sport, read after the others came
print("KEYS", keys[1])
print("KEYS", keys[3])
print("SHOW", tostring(kept[3]))
print("NOTE", tostring(kept[1]):match("note = \"seen 42000\"") ~= nil)
local mt = getmetatable(a)
print("ERR", pcall(mt.__index, io.stdout, "kind"))
print("ERR", pcall(mt.__index, {}, "kind"))
print("ERR", pcall(function() a[nil] = 1 end))
a.note = nil
print("UNSET", a.note, a.kind)
EOF

ctlua_start "$NS_A" 30 "$TEST_TMP/object.lua" "$IF_A" "$SEND"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua

get() { grep "^$1${tab}" <<<"$OUT" | sed -n "${2:-1}p"; }
is "$(get N)" "N${tab}3" "one miss event per packet, three kept" || show_ctlua
for i in 0 1 2; do
	note=${tab}"seen 4200$i"
	((i == 2)) && note=${tab}nil
	is "$(get KEPT $((i + 1)))" "KEPT${tab}$((i + 1))${tab}miss${tab}$ADDR_B${tab}4200$i${tab}$ADDR_A${tab}700$i${tab}udp${tab}ipv4${tab}ingress${tab}$IF_A${tab}pass${tab}nil${tab}0${tab}nil${tab}float$note${tab}udp $ADDR_B:4200$i → $ADDR_A:700$i" \
		"kept event $((i + 1)) still reads its own record after later events came" ||
		show_ctlua
done
is "$(get SAME)" "SAME${tab}userdata${tab}true${tab}false${tab}true${tab}false${tab}nil" \
	"an event is a userdata, each event its own; its tuple compares equal to itself" ||
	show_ctlua
is "$(get TIME)" "TIME${tab}true${tab}true" "ev.time is wall-clock seconds, in order" ||
	show_ctlua
is "$(get CORO)" "CORO${tab}42000" "a coroutine's event reads its own sport later" || show_ctlua
is "$(get KEYS 1)" "KEYS${tab}action,dir,dport,dst,err,family,ifname,kind,note,proto,sport,src,time,tuple" \
	"pairs() walks the fields and a key the callback wrote" || show_ctlua
is "$(get KEYS 2)" "KEYS${tab}action,dir,dport,dst,err,family,ifname,kind,proto,sport,src,time,tuple" \
	"no rule and no errname on a miss the default decided" || show_ctlua
is "$(get SHOW)" "SHOW${tab}event{miss ingress $IF_A udp $ADDR_B:42002 → $ADDR_A:7002, action pass}" \
	"tostring shows the event as the shell does" || show_ctlua
is "$(get NOTE)" "NOTE${tab}true" "with a key of its own it shows as a table, the key in it" ||
	show_ctlua
is "$(grep -c '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9] event{' <<<"$OUT")" 1 \
	"ct.watch{dport = 7001} printed one event, behind its time" || show_ctlua
is "$(sed -n 's/^[0-9:.]* event{/event{/p' <<<"$OUT")" "event{miss ingress $IF_A udp $ADDR_B:42001 → $ADDR_A:7001, action pass}" \
	"the watched one" || show_ctlua
is "$(get ERR 1)" "ERR${tab}false${tab}bad argument #1 to '?' (ct.event expected, got FILE*)" \
	"__index given another userdata raises" || show_ctlua
is "$(get ERR 2)" "ERR${tab}false${tab}bad argument #1 to '?' (ct.event expected, got table)" \
	"__index given a table raises" || show_ctlua
like "$(get ERR 3)" "ERR${tab}false${tab}.*index is nil$" "a nil key cannot be written, as on a table" ||
	show_ctlua
is "$(get UNSET)" "UNSET${tab}nil${tab}miss" "a written key can be cleared" || show_ctlua

done_testing
