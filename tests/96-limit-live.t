#!/bin/bash
# 96-limit-live.t - rate limits seen and changed from Lua: ct.limits() and ct.limit()
# read them, ct.rules() shows a rule's limit and ct.policy takes it back, a rule gone
# frees its limit; misuse is refused with exact texts. With real packets: a rate raised
# live applies from then on, and a key left idle refills (its state expires into a
# full bucket).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/limit.sh

limit_test_setup

# --- the Lua API, no traffic ---
cat >"$TEST_TMP/api.lua" <<'EOF_LUA'
local function show(l)
	return ("%s %s %s %s %s %s"):format(l.id, l.name, l.rate, l.burst, l.per, l.over)
end
local function try(f, ...)
	local ok, err = pcall(f, ...)
	print("ERR", ok and "no error" or err)
end
local id = ct.rule{proto = "udp", dport = 53, action = "alloc",
	limit = {rate = 2.5, burst = 10, per = "src/16", over = "pass", name = "dns"}}
local r = ct.rules()[1]
print("RULE", show(r.limit), r.limit.admitted)
local l = ct.limits()[1]
print("LIMITS", #ct.limits(), show(l), l.rule == id, l.live, l.admitted, l.limited)
print("DEFAULTS", show(ct.rules()[1].limit), show(ct.limit(l.id)))
print("CHANGE", show(ct.limit("dns", {rate = 7, over = "drop"})), show(ct.limit(l.id, {burst = 3})))
-- ct.rules() pasted into ct.policy: the same limit, a new slot; the old one is freed
local ids = assert(ct.policy{rules = ct.rules()})
local all = ct.limits()
print("PASTED", #all, show(all[1]), all[1].rule == ids[1], all[1].id ~= l.id)
assert(ct.rule{action = "drop", dport = 9, limit = {rate = 1}})
print("DEFAULT", show(ct.rules()[2].limit))
print("NAMES", ct.limit("nope"))
print("IDS", ct.limit(1000))
ct.unrule(ids[1])
print("UNRULE", #ct.limits())
-- the default's limit: shown with its opts, listed without a rule, freed with it
local action, opts = ct.default("alloc", {timeout = 5000, limit = {rate = 50, per = "dport"}})
print("DEFAULT_LIMIT", action, opts.timeout, show(opts.limit), ct.limits()[2].rule, #ct.limits())
ct.policy{default = {action = "drop", limit = {rate = 2, over = "pass"}}}
local _, o2 = ct.default()
print("POLICY_DEFAULT", show(o2.limit), #ct.limits())
ct.default("pass")
print("DEFAULT_GONE", #ct.limits(), (ct.default()))
try(ct.default, "alloc", {limit = {rate = 0}})
try(ct.policy, {default = {action = "alloc", limit = {rate = 1, per = "sport"}}})
try(ct.verdict, ct.tuple "udp 198.18.0.1:1 -> 198.18.0.2:2", "alloc", {limit = {rate = 1}})
try(ct.rule, {action = "alloc", limit = {rate = 0}})
try(ct.rule, {action = "alloc", limit = {rate = -5, burst = 2}})
try(ct.rule, {action = "alloc", limit = {rate = 1e10}})
try(ct.rule, {action = "alloc", limit = {rate = "10"}})
try(ct.rule, {action = "alloc", limit = {burst = 5}})
try(ct.rule, {action = "alloc", limit = {rate = 5, burst = 0}})
try(ct.rule, {action = "alloc", limit = {rate = 5, burst = 1.5}})
try(ct.rule, {action = "alloc", limit = {rate = 5, per = "src/33/64"}})
try(ct.rule, {action = "alloc", limit = {rate = 5, per = "flow"}})
try(ct.rule, {action = "alloc", limit = {rate = 5, over = "alloc"}})
try(ct.rule, {action = "alloc", limit = {rate = 5, name = ""}})
try(ct.rule, {action = "alloc", limit = {rate = 5, rates = 1}})
try(ct.rule, {action = "alloc", limit = 100})
try(ct.policy, {rules = {{action = "alloc"}, {action = "drop", limit = {rate = 1, over = 2}}}})
try(ct.limit, "dns2", {rate = 0})
try(ct.limit, 1, {per = "dst"})
try(ct.limit, 1, {burst = -1})
try(ct.limit, {})
try(ct.limit, 1024)
print("AFTER", #ct.limits())
EOF_LUA
ctlua_run "$NS_A" 20 "$TEST_TMP/api.lua"
is "$RC" 0 "the API script runs" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua
has_line "$OUT" "RULE	1 dns 2.5 10 src/16/64 pass	nil" "ct.rules() shows the limit as a rule takes it (no counts)"
has_line "$OUT" "LIMITS	1	1 dns 2.5 10 src/16/64 pass	true	true	0	0" \
	"ct.limits(): id, name, rate, burst, key, over action, rule, live, counts"
has_line "$OUT" "CHANGE	1 dns 7 10 src/16/64 drop	1 dns 7 3 src/16/64 drop" \
	"ct.limit changes rate and over by name, burst by id, keeping the rest"
has_line "$OUT" "PASTED	1	2 dns 7 3 src/16/64 drop	true	true" \
	"ct.rules() pasted into ct.policy: the same limit in a new slot, the old one freed"
has_line "$OUT" "DEFAULT	1 nil 1 1 src drop" "defaults: burst max(1, rate), per src, over drop"
has_line "$OUT" "NAMES	nil	ENOENT: no rate limit named 'nope'	2" "an unknown name: nil, ENOENT"
has_line "$OUT" "IDS	nil	ENOENT: no rate limit with id 1000	2" "an unknown id: nil, ENOENT"
has_line "$OUT" "UNRULE	1" "ct.unrule frees its rule's limit"
pre="ERR	bad argument #1 to 'ct.rule' (field 'limit': "
rate="field 'rate': expected a number of new flows a second from 0.001 to 1e9"
burst="field 'burst': expected an integer number of flows from 1 to 1000000"
has_line "$OUT" "$pre$rate, got 0)" "rate 0 refused"
has_line "$OUT" "$pre$rate, got -5)" "a negative rate refused"
has_line "$OUT" "$pre$rate, got 10000000000.0)" "a rate too high refused"
has_line "$OUT" "$pre$rate, got string)" "a rate as a string refused"
has_line "$OUT" "${pre}field 'rate': missing (new flows a second))" "a missing rate refused"
has_line "$OUT" "$pre$burst, got 0)" "burst 0 refused"
has_line "$OUT" "$pre$burst, got 1.5)" "a fractional burst refused"
perr="is not \"rule\", \"dport\", \"src\", \"src/LEN\", \"src/LEN4/LEN6\" or the same of \"dst\")"
has_line "$OUT" "${pre}field 'per': 'src/33/64' $perr" "an IPv4 length over 32 refused"
has_line "$OUT" "${pre}field 'per': 'flow' $perr" "an unknown key refused"
has_line "$OUT" "${pre}field 'over': 'alloc' is not \"drop\" or \"pass\")" "over alloc refused"
has_line "$OUT" "${pre}field 'name': expected 1 to 31 characters, got 0)" "an empty name refused"
has_line "$OUT" "${pre}unknown field 'rates' (known: rate, burst, per, over, name, id))" \
	"an unknown field refused"
has_line "$OUT" "${pre}expected a table {rate=, burst=, per=, over=, name=}, got number)" \
	"a limit that is not a table refused"
has_line "$OUT" "ERR	bad argument #1 to 'ct.policy' (field 'rules': item 2: field 'limit': field 'over': expected a string, got number)" \
	"ct.policy names the rule whose limit is wrong"
has_line "$OUT" "ERR	bad argument #2 to 'ct.limit' ($rate, got 0)" "ct.limit: rate 0 refused"
has_line "$OUT" "ERR	bad argument #2 to 'ct.limit' (field 'per': a live limit keeps it (a new one comes with a new rule))" \
	"ct.limit: the key cannot change"
has_line "$OUT" "ERR	bad argument #2 to 'ct.limit' ($burst, got -1)" "ct.limit: a negative burst refused"
has_line "$OUT" "ERR	bad argument #1 to 'ct.limit' (expected a limit's id or name, got table)" \
	"ct.limit: a table is no id"
has_line "$OUT" "ERR	bad argument #1 to 'ct.limit' (1024 is out of range 1 to 1023)" \
	"ct.limit: an id out of range"
has_line "$OUT" "AFTER	1" "refused rules took no limit"

has_line "$OUT" "DEFAULT_LIMIT	alloc	5000	2 nil 50 50 dport drop	nil	2" \
	"ct.default takes a limit, shows it with its opts; ct.limits() lists it without a rule"
has_line "$OUT" "POLICY_DEFAULT	3 nil 2 2 src pass	2" "ct.policy's default takes one, the old one is freed"
has_line "$OUT" "DEFAULT_GONE	1	pass" "a default without a limit frees it"
has_line "$OUT" "ERR	bad argument #2 to 'ct.default' (field 'limit': $rate, got 0)" \
	"ct.default: a bad limit refused"
has_line "$OUT" "ERR	bad argument #1 to 'ct.policy' (field 'default': field 'limit': field 'per': 'sport' $perr" \
	"ct.policy: a bad default limit refused"
has_line "$OUT" "ERR	bad argument #3 to 'ct.verdict' (unknown field 'limit' (known: timeout, status, mark, zone, snat, dnat))" \
	"a per-flow verdict takes no limit"

# --- a staged policy (ctlua check, ctlua run): limits read, taken at the commit ---
mkdir -m 700 "$TEST_TMP/pol"
cat >"$TEST_TMP/pol/limits.lua" <<'EOF_LUA'
ct.rule{proto = "tcp", dport = 22, action = "alloc", limit = {rate = 10, per = "src/24"}}
-- replaces the rule above before anything is live: its limit must not stay behind
ct.policy{rules = {{proto = "udp", dport = 53, action = "alloc", limit = {rate = 5, name = "dns"}}}}
ct.timer(200, function()
	for _, l in ipairs(ct.limits()) do print("LIVE", l.name, l.rate, l.live, l.rule) end
	io.stdout:flush()
end)
EOF_LUA
printf 'ct.rule{action = "alloc", limit = {rate = 5, over = "alloc"}}\n' >"$TEST_TMP/pol/bad.lua"
ctlua_run "$NS_A" 20 check "$TEST_TMP/pol/limits.lua"
is "$RC $OUT" "0 policy '$TEST_TMP/pol/limits.lua': ok: no interface attached; mode enforce; default pass; 1 rule; callbacks none" \
	"ctlua check reads a policy with limits" || show_ctlua
ctlua_run "$NS_A" 20 check "$TEST_TMP/pol/bad.lua"
like "$RC $ERR" "^1 ctlua: $TEST_TMP/pol/bad.lua:1: bad argument #1 to 'ct.rule' \(field 'limit': field 'over': 'alloc' is not \"drop\" or \"pass\"\)" \
	"ctlua check refuses a bad limit, naming it" || show_ctlua
ctlua_start "$NS_A" 20 run "$TEST_TMP/pol/limits.lua"
wait_line "$CTLUA_OUT" '^LIVE' 10
kill -INT "$(ctlua_self)"
ctlua_finish
is "$(grep '^LIVE' <<<"$OUT")" "LIVE	dns	5	true	2" \
	"ctlua run: the live policy's limit alone, live; the one it replaced while staged is gone" ||
	show_ctlua

# a staged policy that calls ct.policy again and again holds only its last rules' limits,
# before its commit too
cat >"$TEST_TMP/pol/repeat.lua" <<'EOF_LUA'
for i = 1, 600 do
	assert(ct.policy{default = {action = "pass", limit = {rate = i}}, rules = {
		{proto = "udp", dport = 53, action = "alloc", limit = {rate = i}},
		{proto = "tcp", dport = 22, action = "alloc", limit = {rate = i, name = "ssh"}},
	}})
end
print("STAGED", #ct.limits())	-- the policy is not live yet
ct.timer(200, function()
	local n, live = 0, 0
	for _, l in ipairs(ct.limits()) do
		n = n + 1
		if l.live and l.rate == 600 then live = live + 1 end
	end
	print("REPEAT", n, live)
	io.stdout:flush()
end)
EOF_LUA
ctlua_start "$NS_A" 20 run "$TEST_TMP/pol/repeat.lua"
wait_line "$CTLUA_OUT" '^REPEAT' 10
kill -INT "$(ctlua_self)"
ctlua_finish
is "$(grep -E '^(STAGED|REPEAT)' <<<"$OUT")" $'STAGED\t3\nREPEAT\t3\t3' \
	"ctlua run: 600 ct.policy calls while staged hold only the last one's 3 limits" ||
	show_ctlua

# a reload that fails after its limits were taken leaves the running policy's alone
cat >"$TEST_TMP/pol/reload.lua" <<'EOF_LUA'
ct.rule{proto = "udp", dport = 53, action = "alloc", limit = {rate = 5, name = "first"}}
ct.every(100, function()
	local names = {}
	for _, l in ipairs(ct.limits()) do names[#names + 1] = l.name .. (l.live and "+" or "-") end
	print("LIMITS", table.concat(names, " "))
	io.stdout:flush()
end)
EOF_LUA
ctlua_start "$NS_A" 20 run "$TEST_TMP/pol/reload.lua"
wait_line "$CTLUA_OUT" '^LIMITS' 10
cat >"$TEST_TMP/pol/reload.lua" <<'EOF_LUA'
ct.rule{proto = "udp", dport = 53, action = "alloc", limit = {rate = 5, name = "second"}}
ct.default("alloc", {limit = {rate = 1, name = "third"}})
error("this reload fails")
EOF_LUA
kill -HUP "$(ctlua_self)"
wait_line "$CTLUA_ERR" 'reload failed' 10
sleep 0.3
kill -INT "$(ctlua_self)"
ctlua_finish
is "$(tail -n 1 <<<"$(grep '^LIMITS' <<<"$OUT")")" "LIMITS	first+" \
	"a reload that failed took nothing for good: the running policy's limit alone" || show_ctlua

# --- with traffic: a rate raised live, an idle key refilled ---
cat >"$TEST_TMP/live.lua" <<'EOF_LUA'
local ifname, secs, mode = arg[1], tonumber(arg[2]), arg[3]
if mode == "change" then	-- a rule's limit, and the default's
	ct.rule{proto = "udp", dport = {20000, 29999}, action = "alloc", timeout = 30000,
		limit = {rate = 20, burst = 20, per = "rule", name = "live"}}
else
	ct.default("alloc", {timeout = 30000, limit = {rate = 20, burst = 20, per = "dst", name = "live"}})
end
local first, phase, allocs = nil, {0, 0}, 0
ct.on("miss", function(ev)
	if first or mode ~= "change" then return end
	first = ev.time
	ct.timer(1500, function()
		local a = ct.limits()[1].admitted
		ct.limit("live", {rate = 80})
		print("CHANGED", a, ct.now() - first)
		io.stdout:flush()
	end)
end)
ct.on("alloc", function(ev)
	local p = ev.dport < 25000 and 1 or 2
	phase[p] = phase[p] + 1
end)
local link = assert(ct.attach(ifname))
print("READY")
io.stdout:flush()
ct.run(secs)
print("PHASES", phase[1], phase[2], ct.limits()[1].admitted)
EOF_LUA
span() { awk '{ if (f == "" || $5 < f) f = $5; if ($7 > l) l = $7 } END { print l - f }' <<<"$1"; }

# per rule (both sources share one bucket): 20/s, burst 20 for 1.5 s, then 80/s
ctlua_start "$NS_A" 30 "$TEST_TMP/live.lua" "$IF_A" 5 change
wait_line "$CTLUA_OUT" '^READY' 10 || diag "the policy did not start"
FLOOD=$(flood_from_b "$ADDR_A" 3 300 198.18.0.2,198.18.0.3)
ctlua_finish
is "$RC" 0 "the live change policy runs" || show_ctlua
grep -q '^CHANGED' <<<"$OUT" || show_ctlua
read -r _ a1 t1 <<<"$(grep '^CHANGED' <<<"$OUT")"
read -r _ _ _ total <<<"$(grep '^PHASES' <<<"$OUT")"
T=$(span "$FLOOD")
within "$a1" "$(awk -v t="$t1" 'BEGIN { printf "%d", 20 + 20 * t }')" "before the change, rate 20 burst 20"
within "$((total - a1))" "$(awk -v t="$t1" -v T="$T" 'BEGIN { printf "%d", 80 * (T - t) }')" \
	"after ct.limit raised it to 80, live"

# the default's limit, per dst: 1 s of flood, 1.5 s idle (the bucket refills in
# burst / rate = 1 s), 1 s more
ctlua_start "$NS_A" 30 "$TEST_TMP/live.lua" "$IF_A" 5 refill
wait_line "$CTLUA_OUT" '^READY' 10 || diag "the policy did not start"
F1=$(flood_from_b "$ADDR_A" 1 300 198.18.0.2 20000)
sleep 1.5
F2=$(flood_from_b "$ADDR_A" 1 300 198.18.0.2 25000)
ctlua_finish
is "$RC" 0 "the refill policy runs" || show_ctlua
read -r _ p1 p2 _ <<<"$(grep '^PHASES' <<<"$OUT")"
within "$p1" "$(awk -v T="$(span "$F1")" 'BEGIN { printf "%d", 20 + 20 * T }')" "first flood"
within "$p2" "$(awk -v T="$(span "$F2")" 'BEGIN { printf "%d", 20 + 20 * T }')" \
	"after an idle pause the key has its whole burst again"

done_testing
