#!/bin/bash
# 60-policy-api.t - ct.policy: misuse raised before anything is loaded or changed (no
# kernel needed), and in a namespace of its own what it sets: rules, default and mode
# together, ids that go on from ct.rule's, fields not given left as they were, and
# E2BIG for a list longer than the table.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
require_ctlua

cat >"$TEST_TMP/misuse.lua" <<'EOF_LUA'
local P = "bad argument #1 to 'ct.policy' "
local cases = {
	{{rules = {{action = "drop", dport = 5}, {action = "pass", dport = 70000}}},
	 "(field 'rules': item 2: field 'dport': 70000 is out of range 0 to 65535)"},
	{{rules = {{action = "drop"}, 3}}, "(field 'rules': item 2: expected a rule table, got number)"},
	{{rules = {{dport = 5}}}, "(field 'rules': item 1: field 'action': missing (\"pass\", \"alloc\" or \"drop\"))"},
	{{rules = {{action = "drop", port = 5}}}, "(field 'rules': item 1: unknown field 'port' " ..
	 "(known: proto, family, src, dst, sport, dport, src_set, dst_set, sport_set, dport_set, action, timeout, status, mark, zone, snat, dnat, " ..
	 "priority, id, counts, limit))"},
	{{rules = {{action = "drop", sport = {9, 8}}}},
	 "(field 'rules': item 1: field 'sport': expected {lo, hi} with 0 <= lo <= hi <= 65535)"},
	{{rules = {x = 1}}, "(field 'rules': 'x' is not a list index (expected a list of rules))"},
	{{rules = {[1] = {action = "drop"}, [3] = {action = "drop"}}},
	 "(field 'rules': item 2 is nil (a list of rules cannot have holes))"},
	{{rules = 5}, "(field 'rules': expected a list of rules, got number)"},
	{{default = "allow"}, "(field 'default': field 'action': invalid option 'allow')"},
	{{default = {action = "alloc", timeout = -1}},
	 "(field 'default': field 'timeout': -1 is out of range 0 to 4294967295)"},
	{{default = {timeout = 1}}, "(field 'default': field 'action': missing (\"pass\", \"alloc\" or \"drop\"))"},
	{{default = {action = "alloc", ttl = 1}},
	 "(field 'default': unknown field 'ttl' (known: action, timeout, status, mark, zone, snat, dnat, limit))"},
	{{default = 5}, "(field 'default': expected an action or {action=, timeout=, status=, mark=, limit=}, got number)"},
	{{mode = "on"}, "(field 'mode': invalid option 'on')"},
	{{rule = {}}, "(unknown field 'rule' (known: mode, default, rules))"},
}
for i, c in ipairs(cases) do
	local ok, err = pcall(ct.policy, c[1])
	print(("CASE %d %s %s"):format(i, tostring(ok), err == P .. c[2] and "same" or err))
end
print("CASES", #cases)
local ok, err = pcall(ct.policy, "drop")
print("STRING", ok, err)
-- the E2BIG list is refused before loading too
local l = {}
for i = 1, 16385 do l[i] = {action = "pass"} end
print("E2BIG", ct.policy{rules = l})
print("LOADED", ct.stats ~= nil and #ct.rules())
EOF_LUA
run_misuse()
{
	OUT=$(timeout -k 1 20 "$CTLUA" "$TEST_TMP/misuse.lua" 2>"$TEST_TMP/err" </dev/null)
	RC=$?
	ERR=$(<"$TEST_TMP/err")
}
run_misuse
is "$RC" 0 "the misuse script runs" || show_ctlua
n=$(grep -c '^CASE [0-9]* false same$' <<<"$OUT")
has_line "$OUT" "CASES	$n" "each misuse raises its exact message ($n cases)" || show_ctlua
has_line "$OUT" "STRING	false	bad argument #1 to 'ct.policy' (table expected, got string)" \
	"a string is not a policy"
has_line "$OUT" "E2BIG	nil	E2BIG: the rule table holds 16384 rules, got 16385	7" \
	"16385 rules: nil, E2BIG, 7" || show_ctlua
has_line "$OUT" "LOADED	0" "no rule was added by any of them" || show_ctlua

# What it sets, read back through ct.mode, ct.default and ct.rules, in a namespace.
require_root_kernel
make_ns || BAIL_OUT "cannot create a namespace"
cat >"$TEST_TMP/set.lua" <<'EOF_LUA'
local function show(tag, ids)
	local rules = {}
	for _, r in ipairs(ct.rules()) do
		local d = type(r.dport) == "table" and r.dport[1] .. "-" .. r.dport[2] or tostring(r.dport)
		rules[#rules + 1] = ("%d:%s:%s"):format(r.id, r.action, d)
	end
	local action, opts = ct.default()
	print(tag, table.concat(ids, ","), ct.mode(), action, tostring(opts.timeout),
	      table.concat(rules, " "))
end
assert(ct.rule{proto = "tcp", dport = 1, action = "pass"})
show("ALL", assert(ct.policy{mode = "observe", default = {action = "alloc", timeout = 5000},
	rules = {{proto = "udp", dport = 53, action = "drop"},
	         {proto = "tcp", dport = {80, 90}, action = "pass", priority = -1}}}))
show("MODE", assert(ct.policy{mode = "enforce"}))
show("DEFAULT", assert(ct.policy{default = "drop"}))
show("EMPTY", assert(ct.policy{rules = {}}))
show("NOTHING", assert(ct.policy{}))
print("RULE", ct.rule{action = "drop", dport = 7})
EOF_LUA
OUT=$(timeout -k 1 20 ip netns exec "$NS" "$CTLUA" "$TEST_TMP/set.lua" 2>"$TEST_TMP/err" </dev/null)
RC=$?
ERR=$(<"$TEST_TMP/err")
is "$RC" 0 "the script that sets policies runs" || show_ctlua
has_line "$OUT" "ALL	2,3	observe	alloc	5000	3:pass:80-90 2:drop:53" \
	"rules, default and mode set at once; ids go on from ct.rule's; priority orders" || show_ctlua
has_line "$OUT" "MODE		enforce	alloc	5000	3:pass:80-90 2:drop:53" \
	"mode alone: rules and default stay" || show_ctlua
has_line "$OUT" "DEFAULT		enforce	drop	nil	3:pass:80-90 2:drop:53" \
	"a default given as an action has no opts" || show_ctlua
has_line "$OUT" "EMPTY		enforce	drop	nil	" "an empty list empties the table" || show_ctlua
has_line "$OUT" "NOTHING		enforce	drop	nil	" "an empty policy changes nothing" || show_ctlua
has_line "$OUT" "RULE	4" "ct.rule goes on numbering after ct.policy" || show_ctlua

done_testing
