#!tests/lib/ctlua-tap
-- 52-bad-input.t - issue #10 section 2, the calls that need no kernel: every bad input is
-- refused with an exact message naming what it was and what was wanted, and the next
-- call still works. (The kernel's half is 54-bad-input-kernel.t, the command line's
-- 53-bad-cmdline.t.) Nothing here loads the BPF object: each call raises before.
local t = require "tap"

local U = { src = "198.18.0.2", dst = "198.18.0.1", sport = 40000, dport = 5353, proto = "udp" }
-- This file runs in the host's namespace. Should a check regress, the call must still not
-- touch it: interfaces that do not exist, and requests sent to a namespace that does not.
local NONS = { netns = "ctl-test-none-52" }

-- with(changes): U with some fields replaced.
local function with(changes)
	local r = {}
	for k, v in pairs(U) do r[k] = v end
	for k, v in pairs(changes) do r[k] = v end
	return r
end

-- The state still serves: a tuple is built and an errno explained after the misuse.
local function still_works(what)
	local okay, tuple = pcall(ct.tuple, U)
	t.ok(okay and tostring(tuple) == "udp 198.18.0.2:40000 → 198.18.0.1:5353"
		and ct.explain("EIO"):match("^EIO %(5%)"), "and the next call works (" .. what .. ")")
end

local function bad(want, f, ...)
	t.raises(want, f, ...)
	still_works(want:match("to '([^']*)'") or "?")
end

-- --- strings with a NUL byte are refused, not cut at the NUL -------------------------------
bad("bad argument #1 to 'ct.attach' ('ctlnosuch0\\0lo' contains a NUL byte)", ct.attach,
	"ctlnosuch0\0lo")
bad("bad argument #1 to 'ct.rule' (field 'src': '1.2.3.4\\0/8' contains a NUL byte)",
	ct.rule, { src = "1.2.3.4\0/8", action = "pass" })
bad("bad argument #1 to 'ct.tuple' (field 'src': '198.18.0.2\\0junk' contains a NUL byte)",
	ct.tuple, with { src = "198.18.0.2\0junk" })
bad("bad argument #1 to 'ct.alloc_many' (item 1: field 'dst': '198.18.0.1\\0' contains a NUL byte)",
	ct.alloc_many, { with { dst = "198.18.0.1\0" } }, NONS)
bad("bad argument #1 to 'ct.alloc_many' (item 2: field 'proto': 'udp\\0x' contains a NUL byte)",
	ct.alloc_many, { U, with { proto = "udp\0x" } }, NONS)
bad("bad argument #1 to 'ct.entries' (field 'netns': 'ctl-test-none-52\\0x' contains a NUL byte)",
	ct.entries, { netns = "ctl-test-none-52\0x" })
bad("bad argument #2 to 'ct.alloc' (field 'netns': 'ctl-test-none-52\\0x' contains a NUL byte)",
	ct.alloc, U, { netns = "ctl-test-none-52\0x" })
bad("bad argument #1 to 'ct.explain' ('alloc\\0x' contains a NUL byte)", ct.explain, "alloc\0x")
bad("bad argument #1 to 'ct.default' ('alloc\\0x' contains a NUL byte)", ct.default, "alloc\0x")
bad("bad argument #1 to 'ct.mode' ('off\\0x' contains a NUL byte)", ct.mode, "off\0x")
bad("bad argument #2 to 'ct.verdict' ('drop\\0x' contains a NUL byte)", ct.verdict, U,
	"drop\0x")
-- Strings an __index makes stay valid while ct.rule reads its other fields, even when
-- those reads collect garbage (the sanitizer pass sees a use after free otherwise).
bad("bad argument #1 to 'ct.rule' ('src' and 'dst' are of different address families)",
	ct.rule, setmetatable({ action = "pass" }, { __index = function(_, k)
		if k == "src" then return "198.18.0." .. "0/15" end
		if k == "dst" then return "2001:db8::" .. "/32" end
		collectgarbage()
	end }))
bad("bad argument #2 to 'ct.attach' (field 'dir': 'egress\\0' contains a NUL byte)",
	ct.attach, "ctlnosuch0", { dir = "egress\0" })
bad("bad argument #2 to 'ct.alloc' (unknown field 'timeout\\0x' (known: timeout, status, mark, " ..
	"netns, zone, l4proto, dir, reserved, tuple_size, opts_size, snat, dnat))",
	ct.alloc, U, { ["timeout\0x"] = 1, netns = NONS.netns })
bad("bad argument #1 to 'ct.rule' (field 'status': 'assured\\0x' is not a status BPF can set " ..
	"(seen_reply, assured, fixed_timeout, helper))",
	ct.rule, { status = { "assured\0x" }, action = "alloc" })
bad("bad argument #1 to 'ct.events' (item 1: 'miss\\0' is not an event kind (miss, alloc, " ..
	"alloc_error, drop))", ct.events, { "miss\0" })
t.is(ct.tuple(U)["src\0x"], nil, "a tuple has no field 'src\\0x'")

-- --- integers: checked before conversion; the message says what the value was --------------
bad("bad argument #1 to 'ct.explain' (4294967367 is out of range -4095 to 4095)",
	ct.explain, 2 ^ 32 + 71)
bad("bad argument #1 to 'ct.explain' (4294967367 is out of range -4095 to 4095)",
	ct.explain, (1 << 32) + 71)
bad("bad argument #1 to 'ct.explain' (expected an integer, got nan)", ct.explain, 0 / 0)
bad("bad argument #1 to 'ct.unrule' (expected an integer, got nan)", ct.unrule, 0 / 0)
bad("bad argument #1 to 'ct.explain' (expected an integer, got 71.5)", ct.explain, 71.5)
bad("bad argument #1 to 'ct.explain' (0 is not an errno)", ct.explain, 0)
t.like(ct.explain(71.0), "^EPROTO %(71%)", "a float with an integer value is that integer")
for _, case in ipairs {
	{ 0 / 0, "expected an integer, got nan" },
	{ -(0 / 0), "expected an integer, got nan" },
	{ 1 / 0, "expected an integer, got inf" },
	{ -1 / 0, "expected an integer, got -inf" },
	{ 2 ^ 63, "9.2233720368548e+18 is out of range 0 to 65535" },
	{ -2 ^ 64, "-1.844674407371e+19 is out of range 0 to 65535" },
	{ 1.5, "expected an integer, got 1.5" },
	{ math.maxinteger, "9223372036854775807 is out of range 0 to 65535" },
	{ "53", "expected an integer, got string" },
} do
	bad("bad argument #1 to 'ct.tuple' (field 'dport': " .. case[2] .. ")", ct.tuple,
		with { dport = case[1] })
end
bad("bad argument #1 to 'ct.rule' (field 'timeout': expected an integer, got inf)",
	ct.rule, { timeout = 1 / 0, action = "alloc" })
bad("bad argument #1 to 'ct.rule' (field 'mark': 4294967296 is out of range 0 to 4294967295)",
	ct.rule, { mark = 2 ^ 32, action = "alloc" })
bad("bad argument #1 to 'ct.entries' (field 'zone': expected an integer, got nan)",
	ct.entries, { zone = 0 / 0 })
bad("bad argument #2 to 'ct.alloc' (field 'zone.id': 9.2233720368548e+18 is out of range 0 to 65535)",
	ct.alloc, U, { zone = { id = 2 ^ 63 } })

-- --- prefix lengths are digits only ---------------------------------------------------------
for _, p in ipairs { "1.2.3.4/ 8", "1.2.3.4/+8", "1.2.3.4/99999999999999999999" } do
	bad("bad argument #1 to 'ct.rule' (field 'src': '" .. p .. "': prefix length must be 0 to 32)",
		ct.rule, { src = p, action = "pass" })
end

-- --- lists: a table with keys, or with holes, is not a list ---------------------------------
bad("bad argument #1 to 'ct.rule' (field 'status': 'assured' is not a list index (expected a " ..
	"list of status names))", ct.rule, { status = { assured = true }, action = "alloc" })
bad("bad argument #1 to 'ct.rule' (field 'status': item 2 is nil (a list of status names " ..
	"cannot have holes))", ct.rule, { status = { "assured", nil, "seen_reply" }, action = "alloc" })
bad("bad argument #3 to 'ct.verdict' (field 'status': 0 is not a list index (expected a list " ..
	"of status names))", ct.verdict, U, "alloc", { status = { [0] = "assured" } })
bad("bad argument #1 to 'ct.events' ('miss' is not a list index (expected a list of event kinds))",
	ct.events, { miss = true })
bad("bad argument #1 to 'ct.events' (item 2 is nil (a list of event kinds cannot have holes))",
	ct.events, { "miss", nil, "drop" })
bad("bad argument #1 to 'ct.events' (1.5 is not a list index (expected a list of event kinds))",
	ct.events, { "miss", [1.5] = "drop" })
bad("bad argument #1 to 'ct.alloc_many' (item 2 is nil (a list of tuples cannot have holes))",
	ct.alloc_many, { U, nil, U }, NONS)
bad("bad argument #1 to 'ct.alloc_many' (item 1 is nil (a list of tuples cannot have holes))",
	ct.alloc_many, { [2] = U }, NONS)
bad("bad argument #1 to 'ct.alloc_many' ('n' is not a list index (expected a list of tuples))",
	ct.alloc_many, { U, n = 1 }, NONS)
bad("bad argument #1 to 'ct.alloc_many' (expected a list of tuples, got one tuple (a list of " ..
	"one is {tuple}))", ct.alloc_many, U, NONS)
bad("bad argument #1 to 'ct.alloc_many' (expected a list of tuples, got one tuple (a list of " ..
	"one is {tuple}))", ct.alloc_many, ct.tuple(U), NONS)
bad("bad argument #1 to 'ct.alloc_many' (item 3: field 'sport': expected an integer, got nan)",
	ct.alloc_many, { U, ct.tuple(U), with { sport = 0 / 0 } }, NONS)

-- --- names in messages: which NAT, which zone field -----------------------------------------
bad("bad argument #2 to 'ct.alloc' (field 'snat.port': 70000 is out of range 0 to 65535)",
	ct.alloc, U, { snat = { addr = "198.18.0.9", port = 70000 } })
bad("bad argument #2 to 'ct.alloc' (field 'dnat.port': -1 is out of range 0 to 65535)",
	ct.alloc, U, { dnat = { addr = "198.18.0.9", port = -1 } })
bad("bad argument #2 to 'ct.alloc_many' (field 'dnat.port': expected an integer, got 1.5)",
	ct.alloc_many, { U }, { dnat = { addr = "198.18.0.9", port = 1.5 } })
bad("bad argument #2 to 'ct.alloc' (field 'snat': unknown field 'prt' (known: addr, port))",
	ct.alloc, U, { snat = { addr = "198.18.0.9", prt = 1 } })
bad("bad argument #2 to 'ct.alloc' (field 'dnat.addr': missing (an IPv4 address like the tuple's))",
	ct.alloc, U, { dnat = { port = 1 } })
bad("bad argument #2 to 'ct.alloc' (field 'dnat.addr': expected a string, got number)",
	ct.alloc, U, { dnat = { addr = 1 } })
bad("bad argument #2 to 'ct.alloc' (field 'zone.id': missing (0 to 65535))",
	ct.alloc, U, { zone = { dir = "reply" } })
bad("bad argument #2 to 'ct.alloc' (field 'zone.dir': invalid option 'up')",
	ct.alloc, U, { zone = { id = 1, dir = "up" } })
bad("bad argument #2 to 'ct.alloc' (field 'zone': unknown field 'ID' (known: id, dir))",
	ct.alloc, U, { zone = { ID = 1 } })
bad("bad argument #1 to 'ct.alloc_many' (item 2: not of the first tuple's family, which the NAT " ..
	"addresses are)", ct.alloc_many,
	{ U, with { src = "2001:db8::2", dst = "2001:db8::1" } }, { snat = { addr = "198.18.0.9" } })

-- --- a tuple compared with anything else is false, not an error ----------------------------
local tuple = ct.tuple(U)
local okay, eq = pcall(function() return tuple == io.stdout end)
t.ok(okay and eq == false, "tuple == io.stdout is false")
okay, eq = pcall(function() return io.stdout == tuple end)
t.ok(okay and eq == false, "io.stdout == tuple is false")
t.is(tuple == ct.tuple(U), true, "two tuples with the same fields are still equal")
t.is(tuple ~= ct.tuple(with { sport = 1 }), true, "and different ones are not")
t.is(tuple == U, false, "a tuple and a table with its fields are not equal (Lua compares them raw)")

t.done_testing()
