#!/bin/bash
# 90-rule-counts.t - the counters of what decided each miss (ct.rules()'s counts,
# ct.stats().sources) equal the packets sent: per rule, for the default, for per-flow
# verdicts set with ct.verdict and for those a callback answered; allocations, drops
# and an allocation the kernel refused with EEXIST; and the sums agree with ct.stats().
#
# NS_A has no conntrack hooks: every entry there is ctlua's, and a flow's packets miss
# until ctlua allocates it. The policy script sends the packets itself (from NS_B, one
# socat per datagram) and waits until the program has seen them all.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

cat >"$TEST_TMP/counts.lua" <<'EOF'
local ifname, ns_b, A, B = arg[1], arg[2], arg[3], arg[4]

local traffic = dofile("tests/lib/traffic.lua")(ns_b, A)
local send, phase = traffic.send, traffic.phase

local function errs(e)
	local t = {}
	for k, v in pairs(e) do t[#t + 1] = k .. "=" .. v end
	table.sort(t)
	return #t > 0 and table.concat(t, ",") or "-"
end

local function show(name, c)
	print(("COUNT %s decided=%d allocated=%d dropped=%d errors=%s"):format(name,
		c.decided, c.allocated, c.dropped, errs(c.errors)))
end

ct.mode("enforce")
ct.default("pass")
ct.events{"miss"}
local ids = {
	a = ct.rule{proto = "udp", dport = 7001, action = "alloc"},
	b = ct.rule{proto = "udp", dport = 7002, action = "drop"},
	c = ct.rule{proto = "udp", dport = 7003, action = "alloc"},
}
-- a callback's answer: drop the flow from port 41003 to 7005 from its next packet on
ct.on("miss", function(ev)
	if ev.dport == 7005 and ev.sport == 41003 then return "drop" end
end)
assert(ct.attach(ifname))

-- per-flow verdicts set with ct.verdict
assert(ct.verdict({src = B, dst = A, sport = 41001, dport = 7004, proto = "udp"}, "alloc"))
assert(ct.verdict({src = B, dst = A, sport = 41002, dport = 7004, proto = "udp"}, "drop"))
-- an entry whose reply tuple is that of the flow B:40100 -> A:7003 (SNAT to B:40100):
-- that flow misses, and inserting its entry fails with EEXIST
assert(ct.alloc({src = "198.18.0.99", dst = A, sport = 999, dport = 7003, proto = "udp"},
	{snat = {addr = B, port = 40100}, timeout = 60000}))

for p = 40001, 40004 do send(7001, p) end	-- rule a: 4 new flows, allocated
phase(4)
for p = 40001, 40004 do send(7001, p) end	-- their entries exist: no decision
phase(4)
send(7002, 40011, 2) send(7002, 40012)		-- rule b: 3 packets dropped
send(7003, 40100) send(7003, 40101)		-- rule c: EEXIST, then allocated
for p = 40201, 40203 do send(7009, p) end	-- the default: 3 passed
send(7004, 41001, 2)				-- ct.verdict alloc: 1 decided, then a hit
send(7004, 41002, 2)				-- ct.verdict drop: 2 decided
send(7005, 41003)				-- the default, and the callback answers
phase(3 + 2 + 3 + 2 + 2 + 1)
send(7005, 41003, 2)				-- the answer: 2 dropped
phase(2)

for _, r in ipairs(ct.rules()) do
	for name, id in pairs(ids) do
		if r.id == id then show("rule_" .. name, r.counts) end
	end
end
local st = ct.stats()
for _, name in ipairs{"rules", "default", "verdict", "answer"} do show(name, st.sources[name]) end
for _, k in ipairs{"lookup_miss", "lookup_hit", "by_rule", "by_default", "by_verdict",
		   "alloc_ok", "alloc_error", "drops", "passes"} do
	print("STAT " .. k .. "=" .. st[k])
end
print("STAT errors=" .. errs(st.errors))
EOF

ctlua_run "$NS_A" 60 "$TEST_TMP/counts.lua" "$IF_A" "$NS_B" "$ADDR_A" "$ADDR_B"
is "$RC" 0 "the policy sends its packets and exits 0" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua

counts() { grep "^COUNT $1 " <<<"$OUT" | cut -d' ' -f3-; }
stat() { grep "^STAT $1=" <<<"$OUT" | cut -d= -f2-; }

is "$(counts rule_a)" "decided=4 allocated=4 dropped=0 errors=-" \
	"rule a (alloc): 4 new flows decided and allocated; their second packets hit"
is "$(counts rule_b)" "decided=3 allocated=0 dropped=3 errors=-" \
	"rule b (drop): every packet decided and dropped, 2 of them one flow's"
is "$(counts rule_c)" "decided=2 allocated=1 dropped=0 errors=EEXIST=1" \
	"rule c (alloc): one flow allocated, one refused with EEXIST (its reply tuple was taken)"
is "$(counts default)" "decided=4 allocated=0 dropped=0 errors=-" \
	"the default (pass): 3 flows, and the first packet of the answered one"
is "$(counts verdict)" "decided=3 allocated=1 dropped=2 errors=-" \
	"ct.verdict's verdicts: one allocated (its next packet hit), two drops"
is "$(counts answer)" "decided=2 allocated=0 dropped=2 errors=-" \
	"the callback's answer, a per-flow verdict of its own source: its 2 later packets dropped"
is "$(counts rules)" "decided=9 allocated=5 dropped=3 errors=EEXIST=1" \
	"ct.stats().sources.rules is the sum of the rules'"

is "$(stat lookup_miss)" 18 "18 misses: every decision counted once"
is "$(stat lookup_hit)" 5 "5 hits, which no counter of a decision counts"
is "$(stat by_rule)" 9 "by_rule = sources.rules.decided"
is "$(stat by_default)" 4 "by_default = sources.default.decided"
is "$(stat by_verdict)" 5 "by_verdict = sources.verdict.decided + sources.answer.decided"
is "$(stat alloc_ok)" 7 "alloc_ok = the sources' allocated (6) + the direct ct.alloc"
is "$(stat alloc_error)" 1 "alloc_error = the rules' errors"
is "$(stat errors)" "EEXIST=1" "ct.stats().errors has the same EEXIST"
is "$(stat drops)" 7 "drops = the sources' dropped"
is "$(stat passes)" 4 "passes: the default's 4"

done_testing
