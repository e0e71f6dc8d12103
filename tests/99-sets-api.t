#!tests/lib/ctlua-tap
-- 99-sets-api.t - named sets from Lua (ct.set, its methods, ct.sets, the rule fields
-- that name a set): what each returns, and the exact text of every misuse. The sets
-- live in the datapath's maps (loaded here, attached nowhere: no namespace needed).
local t = require "tap"

-- A method's misuse, called as the user calls it (set:add(...) names 'add'): the
-- message without the position of the call.
local function mraises(want, f)
	local ok, err = pcall(f)
	t.is(not ok and (tostring(err):gsub("^[^:]+:%d+: ", "")) or "no error", want, "raises " .. want)
end

-- --- making sets ------------------------------------------------------------------------
local S = "bad argument #1 to 'ct.set' "
t.raises(S .. "(string expected, got no value)", ct.set)
t.raises(S .. "(a set's name has 1 to 64 characters, got 0)", ct.set, "")
t.raises(S .. "(a set's name has 1 to 64 characters, got 65)", ct.set, ("x"):rep(65))
t.raises("bad argument #2 to 'ct.set' (invalid option 'ports')", ct.set, "web", "ports")

local bl = assert(ct.set("blocklist"))
t.is(tostring(bl), "set blocklist (prefix, 0 prefixes)", "a new prefix set is empty")
t.is(bl.name, "blocklist", "set.name")
t.is(bl.kind, "prefix", "set.kind: prefix by default")
t.ok(rawequal(ct.set("blocklist"), bl), "the same name again: the same set")
local web = assert(ct.set("web", "port"))
t.is(web.kind, "port", "a port set")
t.raises("bad argument #2 to 'ct.set' ('web' is a port set, not a prefix set)", ct.set, "web")
t.raises("bad argument #2 to 'ct.set' ('blocklist' is a prefix set, not a port set)", ct.set,
	"blocklist", "port")

-- --- prefix sets ------------------------------------------------------------------------
t.ok(rawequal(bl:add{ "198.18.0.0/24", "198.18.0.1", "2001:db8::/48" }, bl),
	"add returns the set (chainable)")
t.is(bl:count(), 3, "three prefixes")
t.is(bl:add("198.18.0.1"):count(), 3, "a prefix held already changes nothing")
local held, longest = bl:has("198.18.0.1")
t.ok(held and longest == "198.18.0.1/32", "has: the longest prefix holding it (/32)")
held, longest = bl:has("198.18.0.77")
t.ok(held and longest == "198.18.0.0/24", "has: 198.18.0.77 is in the /24")
t.is(bl:has("198.19.0.1"), false, "has: a non-member is false")
held, longest = bl:has("2001:db8:0:ffff::1")
t.ok(held and longest == "2001:db8::/48", "has: IPv6 in the same set")
t.is(table.concat(bl:list(), " "), "198.18.0.0/24 198.18.0.1/32 2001:db8::/48",
	"list: IPv4 first, by address")
t.is(bl:del("198.18.0.0/24"):count(), 2, "del one")
t.is(bl:has("198.18.0.77"), false, "has after del: out")
t.is(bl:del("198.18.5.0/24"):count(), 2, "del of a prefix not held changes nothing")
bl:add("198.18.0.1/24")
t.is(bl:has("198.18.0.200") and select(2, bl:has("198.18.0.200")), "198.18.0.0/24",
	"a prefix with host bits is held masked, as ct.rule takes it")

local A = "bad argument #1 to 'add' "
mraises(A .. "(item 2: '198.18.0.0/33': prefix length must be 0 to 32)",
	function() bl:add{ "198.18.1.0/24", "198.18.0.0/33" } end)
t.is(bl:has("198.18.1.1"), false, "a bad item adds nothing of the list")
mraises(A .. "('nope': not an IPv4 or IPv6 address)", function() bl:add("nope") end)
mraises(A .. "(expected a prefix (\"ADDR\" or \"ADDR/LEN\"), got number)",
	function() bl:add(42) end)
mraises(A .. "(item 1: expected a prefix (\"ADDR\" or \"ADDR/LEN\"), got table)",
	function() bl:add{ {} } end)
mraises(A .. "(expected a prefix or a list of them, got nil)", function() bl:add() end)
mraises(A .. "(item 2 is nil (a list of prefixes cannot have holes))",
	function() bl:add{ [1] = "198.18.0.1", [3] = "198.18.0.3" } end)
mraises("bad argument #1 to 'del' (item 1: '2001:db8::/129': prefix length must be 0 to 128)",
	function() bl:del{ "2001:db8::/129" } end)
mraises("bad argument #1 to 'has' ('198.18.0.0/24' is not an IPv4 or IPv6 address)",
	function() bl:has("198.18.0.0/24") end)

-- --- port sets --------------------------------------------------------------------------
web:add(80):add{ 443, { 8000, 8099 } }
t.is(web:count(), 102, "count: the ports held")
t.ok(web:has(8050) and web:has(80) and not web:has(81), "has: ports and ranges")
local l = web:list()
t.ok(#l == 3 and l[1] == 80 and l[2] == 443 and l[3][1] == 8000 and l[3][2] == 8099,
	"list: ports, then ranges as {lo, hi}")
web:del{ { 8050, 8099 } }
t.ok(web:has(8049) and not web:has(8050), "del of a range")
mraises(A .. "(70000 is out of range 0 to 65535)", function() web:add(70000) end)
mraises(A .. "(item 2: 70000 is out of range 0 to 65535)", function() web:add{ 1, 70000 } end)
mraises(A .. "(item 1: expected a port or {lo, hi} with 0 <= lo <= hi <= 65535, got another table)",
	function() web:add{ { 9, 3 } } end)
mraises(A .. "(item 1: expected a port or {lo, hi} with 0 <= lo <= hi <= 65535, got string)",
	function() web:add{ "80" } end)
mraises(A .. "(expected an integer, got string)", function() web:add("80") end)
mraises("bad argument #1 to 'has' (number expected, got no value)", function() web:has() end)
t.is(web:flush():count(), 0, "flush empties it")
web:add{ 80, 443 }

-- --- ct.sets ----------------------------------------------------------------------------
local all = ct.sets()
t.is(#all, 2, "ct.sets: two")
t.ok(all[1].name == "blocklist" and all[1].kind == "prefix" and all[1].count == 3 and
	math.type(all[1].id) == "integer", "ct.sets: the prefix set's row")
t.ok(all[2].name == "web" and all[2].kind == "port" and all[2].count == 2,
	"ct.sets: the port set's row")

-- --- rules that name sets ---------------------------------------------------------------
local R = "bad argument #1 to 'ct.rule' "
t.raises(R .. "(field 'src_set': 'nope' is not a set (ct.set makes one))", ct.rule,
	{ src_set = "nope", action = "drop" })
t.raises(R .. "(field 'dport_set': 'blocklist' is a prefix set, not a port set)", ct.rule,
	{ dport_set = "blocklist", action = "drop" })
t.raises(R .. "(field 'dst_set': 'web' is a port set, not a prefix set)", ct.rule,
	{ dst_set = "web", action = "drop" })
t.raises(R .. "(field 'src_set': expected a string, got number)", ct.rule,
	{ src_set = 1, action = "drop" })
local id = assert(ct.rule{ proto = "tcp", src_set = "blocklist", dport_set = "web",
	action = "drop" })
local row = ct.rules()[1]
t.ok(row.id == id and row.src_set == "blocklist" and row.dport_set == "web" and
	row.dst_set == nil, "ct.rules() shows the sets by name")
t.ok(ct.unrule(id), "unrule")

-- eight (field, set) pairs at most in one table
local rules = {}
for i = 1, 9 do
	assert(ct.set("r" .. i))
	rules[i] = { src_set = "r" .. i, action = "drop" }
end
local E = "E2BIG: cannot write the policy: its rules name more than 8 sets (each set in " ..
	"each of src_set, dst_set, sport_set, dport_set counts once)"
local ok, msg, errno = ct.policy{ rules = rules }
t.ok(ok == nil and msg == E and errno == 7, "ct.policy: nine (field, set) pairs are refused")
t.is(#ct.rules(), 0, "and nothing changed")
rules[9] = nil
t.is(#assert(ct.policy{ rules = rules }), 8, "eight pairs: the table is written")
ok, msg, errno = ct.rule{ dst_set = "r1", action = "drop" }
t.ok(ok == nil and errno == 7 and msg == E:gsub("the policy", "the rule table"),
	"ct.rule: a ninth pair (a set in a second field counts again) is refused")
t.is(#ct.rules(), 8, "and the table stays as it was")
t.ok(ct.rule{ src_set = "r1", dport = 53, action = "pass" }, "a pair named again adds none")
assert(ct.policy{ rules = {} })

-- the hashes' room: 262144 host addresses per family, all sets together (CTLUA_SET_HOSTS)
assert(ct.set("one-host"):add("198.19.255.255"))
local held = 0
for _, row in ipairs(ct.sets()) do
	if row.kind == "prefix" then
		for _, p in ipairs(ct.set(row.name):list()) do
			if not p:find(":") and (not p:find("/") or p:find("/32$")) then held = held + 1 end
		end
	end
end
-- two sets of 131072 (198.18.0.0/15): no more addresses in the test's range
local room, all = 262144 - held, {}
for i = 0, 131071 do
	all[i + 1] = ("198.%d.%d.%d"):format(18 + i // 65536, i // 256 % 256, i % 256)
end
local half = assert(ct.set("half"))
assert(half:add(all))
room = room - 131072
local hosts = assert(ct.set("hosts"))
ok, msg, errno = hosts:add(all)
t.ok(ok == nil and errno == 28 and msg == ("ENOSPC: set 'hosts': cannot add item %d (the set " ..
	"maps are full; the items before it are in)"):format(room + 1),
	"a host address past the hashes' room: ENOSPC, naming the item (" .. tostring(msg) .. ")")
t.is(hosts:count(), room, "  and the items before it are in")
t.ok(hosts:has("198.18.0.0") and not hosts:has(all[room + 1]), "  as has() says")
t.ok(hosts:flush() and hosts:add("198.18.0.0/24") and hosts:add(all[room + 1]),
	"emptied, the room is back (a shorter prefix goes to the trie regardless)")
assert(hosts:flush() and half:flush())

-- set:list() past the state's memory cap fails with Lua's error and leaks nothing (the
-- sanitizer pass's LSan would report the sort's buffer)
local many = {}
for i = 0, 99999 do
	many[i + 1] = ("198.%d.%d.%d"):format(18 + i // 65536, i // 256 % 256, i % 256)
end
local big = assert(ct.set("listed")):add(many)
many = nil
collectgarbage()
local limit, used = ct.memory_limit()
ct.memory_limit(math.max(1 << 20, used + (256 << 10)))
ok, msg = pcall(big.list, big)
ct.memory_limit(limit)
t.is(ok and "listed" or msg, "not enough memory", "set:list() past the memory cap: not enough memory")
t.is(#big:list(), 100000, "  and lists all once the cap is back")
assert(big:flush())

-- 32 sets at most
for i = #ct.sets() + 1, 32 do
	assert(ct.set("more" .. i))
end
ok, msg, errno = ct.set("one-too-many")
t.ok(ok == nil and errno == 28 and
	msg == "ENOSPC: no room for set 'one-too-many': the datapath holds 32 sets at most",
	"the 33rd set: ENOSPC")
t.ok(rawequal(ct.set("blocklist"), bl), "a set that exists is still found")

-- --- ctlua check: sets on the host alone -----------------------------------------------
local ctlua = os.getenv("CTLUA") or "build/ctlua"
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -m 700 " .. dir))
local function check(body)
	local f = assert(io.open(dir .. "/p.lua", "w"))
	f:write(body)
	f:close()
	local p = assert(io.popen(ctlua .. " check " .. dir .. "/p.lua 2>&1"))
	local out = p:read("a")
	local _, _, code = p:close()
	return code, (out:gsub(dir .. "/", ""))
end
local code, out = check([[
local bl = ct.set("blocklist"):add{"198.18.0.0/24"}
ct.rule{src_set = "blocklist", action = "drop"}
print(bl:has("198.18.0.5"))
]])
t.is(code .. " " .. out, "0 true\t198.18.0.0/24\npolicy 'p.lua': ok: no interface attached; mode " ..
	"enforce; default pass; 1 rule; callbacks none\n", "ctlua check: a policy with a set")
code, out = check([[ct.rule{src_set = "blocklist", action = "drop"}]])
t.is(code .. " " .. out, "1 ctlua: p.lua:1: bad argument #1 to 'ct.rule' (field 'src_set': " ..
	"'blocklist' is not a set (ct.set makes one))\nctlua: policy 'p.lua': 1 problem\n",
	"ctlua check: a rule naming no set is its problem")
os.execute("rm -rf " .. dir)

t.done_testing()
