#!tests/lib/ctlua-tap
-- 10-api-misuse.t - the `ct` functions' argument checking: misuse raises
-- `bad argument #N to 'ct.f' (...)` with exact text, before the BPF object is needed;
-- and the functions that need no kernel (ct.on, ct.budget, ct.unrule of an unknown id).
local t = require "tap"

local U = { src = "198.18.0.2", dst = "198.18.0.1", sport = 40000, dport = 5353, proto = "udp" }

-- --- ct.rule ----------------------------------------------------------------------------
local R = "bad argument #1 to 'ct.rule' "
t.raises(R .. "(unknown field 'port' (known: proto, family, src, dst, sport, dport, src_set, dst_set, sport_set, dport_set, action, " ..
	"timeout, status, mark, zone, snat, dnat, priority, id, counts, limit))", ct.rule, { port = 53, action = "pass" })
t.raises(R .. "(field 'counts': expected a table (ct.rules() shows one), got number)", ct.rule,
	{ action = "pass", counts = 1 })
t.raises(R .. "(field 'dst': '198.18.0.0/33': prefix length must be 0 to 32)", ct.rule,
	{ dst = "198.18.0.0/33", action = "pass" })
t.raises(R .. "(field 'src': '1.2.3.4/': prefix length must be 0 to 32)", ct.rule,
	{ src = "1.2.3.4/", action = "pass" })
t.raises(R .. "(field 'src': 'abc/8': not an IPv4 or IPv6 address)", ct.rule,
	{ src = "abc/8", action = "pass" })
t.raises(R .. "(field 'dst': '2001:db8::/129': prefix length must be 0 to 128)", ct.rule,
	{ dst = "2001:db8::/129", action = "pass" })
t.raises(R .. "('src' and 'dst' are of different address families)", ct.rule,
	{ src = "198.18.0.0/15", dst = "2001:db8::/32", action = "pass" })
t.raises(R .. "(field 'family' does not match the addresses)", ct.rule,
	{ family = "ipv6", src = "198.18.0.0/15", action = "pass" })
t.raises(R .. "(field 'family': invalid option 'ip4')", ct.rule, { family = "ip4", action = "pass" })
t.raises(R .. "(field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535)", ct.rule,
	{ dport = { 10, 5 }, action = "pass" })
t.raises(R .. "(field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535)", ct.rule,
	{ dport = { 10 }, action = "pass" })
-- {} is a table of no port, not an absent field (it read as any port)
t.raises(R .. "(field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535)", ct.rule,
	{ dport = {}, action = "pass" })
t.raises(R .. "(field 'dport': 70000 is out of range 0 to 65535)", ct.rule,
	{ dport = 70000, action = "pass" })
t.raises(R .. "(field 'sport': 70000 is out of range 0 to 65535)", ct.rule,
	{ sport = 70000, action = "pass" })
t.raises(R .. "(field 'sport': -1 is out of range 0 to 65535)", ct.rule,
	{ sport = -1, action = "pass" })
t.raises(R .. "(field 'sport': expected {lo, hi} with 0 <= lo <= hi <= 65535)", ct.rule,
	{ sport = { 40010, 40000 }, action = "pass" })
t.raises(R .. "(field 'sport': expected {lo, hi} with 0 <= lo <= hi <= 65535)", ct.rule,
	{ sport = { 1, "2" }, action = "pass" })
t.raises(R .. "(field 'sport': expected {lo, hi} with 0 <= lo <= hi <= 65535)", ct.rule,
	{ sport = { 1, 70000 }, action = "pass" })
t.raises(R .. "(field 'sport': a range is {lo, hi}, got 3 items (one rule takes one port or " ..
	"one range))", ct.rule, { sport = { 1, 2, 3 }, action = "pass" })
t.raises(R .. "(field 'sport': expected an integer, got string)", ct.rule,
	{ sport = "53", action = "pass" })
t.raises(R .. "(field 'sport': expected an integer, got 1.5)", ct.rule,
	{ sport = 1.5, action = "pass" })
t.raises(R .. "(field 'status': 'confirmed' is not a status BPF can set (seen_reply, assured, " ..
	"fixed_timeout, helper))", ct.rule, { status = { "confirmed" }, action = "alloc" })
t.raises(R .. "(field 'status': bits 0x8 cannot be set from BPF (settable: seen_reply, assured, " ..
	"fixed_timeout, helper))", ct.rule, { status = 8, action = "alloc" })
t.raises(R .. "(field 'status': expected a list of names or a number, got string)", ct.rule,
	{ status = "assured", action = "alloc" })
t.raises(R .. "(field 'timeout': -1 is out of range 0 to 4294967295)", ct.rule,
	{ timeout = -1, action = "alloc" })
t.raises(R .. "(field 'action': missing (\"pass\", \"alloc\" or \"drop\"))", ct.rule,
	{ proto = "udp", dport = 53 })
t.raises(R .. "(field 'action': invalid option 'allow')", ct.rule, { action = "allow" })
t.raises(R .. "(field 'proto': 'icmp' is not \"tcp\" or \"udp\")", ct.rule,
	{ proto = "icmp", action = "pass" })
t.raises(R .. "(field 'priority': 2000000 is out of range -1000000 to 1000000)", ct.rule,
	{ priority = 2000000, action = "pass" })
t.raises(R .. "(table expected, got string)", ct.rule, "pass")

-- --- the other functions --------------------------------------------------------------------
t.is(select("#", ct.unrule(99)), 3, "ct.unrule of an unknown id returns three values")
local v, msg, errno = ct.unrule(99)
t.ok(v == nil and msg == "ENOENT: no rule with id 99" and errno == 2, "nil, ENOENT, 2")
t.is(select(2, ct.unrule(4294967297)), "ENOENT: no rule with id 4294967297",
	"an id beyond 32 bits is named in the message")
t.raises("bad argument #1 to 'ct.unrule' (expected an integer, got string)", ct.unrule, "one")
t.raises("bad argument #1 to 'ct.mode' (invalid option 'bogus')", ct.mode, "bogus")
t.raises("bad argument #1 to 'ct.default' (invalid option 'allow')", ct.default, "allow")
t.raises("bad argument #2 to 'ct.default' (unknown field 'ttl' (known: timeout, status, mark, zone, snat, dnat, limit))",
	ct.default, "alloc", { ttl = 5 })
t.raises("bad argument #2 to 'ct.default' (table expected, got number)", ct.default, "alloc", 5)
t.raises("bad argument #2 to 'ct.default' (unknown field 'ttl' (known: timeout, status, mark, zone, snat, dnat, limit))",
	ct.default, nil, { ttl = 5 })
t.raises("bad argument #2 to 'ct.verdict' (invalid option 'nah')", ct.verdict, U, "nah")
t.raises("bad argument #2 to 'ct.verdict' (string expected, got nil)", ct.verdict, U, nil)
t.raises("bad argument #2 to 'ct.verdict' (string expected, got nil)", ct.verdict, U, nil, { mark = 1 })
t.raises("bad argument #1 to 'ct.verdict' ('198.18.0.2' is not a tuple like " ..
	"'udp 198.18.0.2:40000 -> 198.18.0.1:53')", ct.verdict, "198.18.0.2", "drop")
t.raises("bad argument #1 to 'ct.verdict' (tuple, table or string expected, got number)",
	ct.verdict, 5, "drop")
t.raises("bad argument #3 to 'ct.verdict' (field 'status': 'confirmed' is not a status BPF can " ..
	"set (seen_reply, assured, fixed_timeout, helper))", ct.verdict, U, "alloc",
	{ status = { "confirmed" } })
t.raises("bad argument #1 to 'ct.forget' (field 'dst': missing (an IPv4 or IPv6 address))",
	ct.forget, { src = "198.18.0.2", sport = 1, dport = 53, proto = "udp" })
t.raises("bad argument #1 to 'ct.events' (table expected, got string)", ct.events, "drop")
t.raises("bad argument #1 to 'ct.events' (item 2: 'nope' is not an event kind (miss, alloc, " ..
	"alloc_error, drop))", ct.events, { "drop", "nope" })
t.raises("bad argument #2 to 'ct.on' (function expected, got number)", ct.on, "miss", 1)
t.raises("bad argument #2 to 'ct.on' (function expected, got string)", ct.on, "miss", "print")
t.raises("bad argument #1 to 'ct.on' (invalid option 'nope')", ct.on, "nope", print)
t.raises("bad argument #1 to 'ct.budget' (0 is out of range 1 to 3600000)", ct.budget, 0)
t.raises("bad argument #1 to 'ct.budget' (3600001 is out of range 1 to 3600000)", ct.budget, 3600001)
t.raises("bad argument #1 to 'ct.budget' (expected an integer, got 1.5)", ct.budget, 1.5)
t.raises("bad argument #1 to 'ct.budget' (expected an integer, got nan)", ct.budget, 0 / 0)
t.raises("bad argument #1 to 'ct.run' (-1 is out of range 0 to inf)", ct.run, -1)
t.raises("bad argument #1 to 'ct.run' (expected a number, got nan)", ct.run, 0 / 0)
t.raises("bad argument #1 to 'ct.run' (number expected, got string)", ct.run, "soon")
t.raises("bad argument #1 to 'ct.poll' (-1 is out of range 0 to 2147483647)", ct.poll, -1)
t.raises("bad argument #1 to 'ct.poll' (expected an integer, got inf)", ct.poll, math.huge)
t.raises("bad argument #1 to 'ct.on' ('miss\\0x' contains a NUL byte)", ct.on, "miss\0x", print)
t.raises("bad argument #1 to 'ct.attach' (interface names are at most 15 characters)", ct.attach,
	"abcdefghijklmnop")
t.raises("bad argument #2 to 'ct.attach' (field 'dir': invalid option 'up')", ct.attach, "lo",
	{ dir = "up" })
t.raises("bad argument #2 to 'ct.attach' (unknown field 'direction' (known: dir, wait, takeover, orphans, hook, xdp_mode))", ct.attach, "lo",
	{ direction = "egress" })
t.raises("bad argument #1 to 'ct.attach' (string expected, got no value)", ct.attach)

-- --- ct.on and ct.budget need no kernel -----------------------------------------------------
local f = function() end
t.is(ct.on("miss", f), nil, "ct.on returns the previous callback: none at first")
t.is(ct.on("miss", print), f, "then the one it replaced")
t.is(ct.on("miss", nil), print, "nil removes it, returning it")
t.is(ct.on("miss", nil), nil, "and then there is none")
t.is(ct.budget(), 1000, "ct.budget defaults to 1000 ms")
t.is(ct.budget(250), 250, "setting returns the budget now in force")
t.is(ct.budget(), 250, "and it stays")
t.is(type(ct.version), "string", "ct.version is a string")
t.is(#ct.rules(), 0, "no rules at first")
t.is(package.loaded.ct, ct, "the global ct is the module")

t.done_testing()
