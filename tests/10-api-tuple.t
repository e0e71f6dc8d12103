#!tests/lib/ctlua-tap
-- 10-api-tuple.t - ct.tuple: its fields, printing, equality, immutability and the exact
-- text of every misuse. Needs no kernel (ct.tuple loads nothing).
local t = require "tap"

local U = { src = "198.18.0.2", dst = "198.18.0.1", sport = 40000, dport = 5353, proto = "udp" }

-- --- success ----------------------------------------------------------------------------
local tu = ct.tuple(U)
t.is(type(tu), "userdata", "ct.tuple returns a userdata")
t.is(table.concat({ tu.src, tu.dst, tu.sport, tu.dport, tu.proto, tu.family }, " "),
	"198.18.0.2 198.18.0.1 40000 5353 udp ipv4", "its fields read back")
t.is(math.type(tu.sport), "integer", "ports are integers")
t.is(tostring(tu), "udp 198.18.0.2:40000 → 198.18.0.1:5353", "tostring prints the flow")
t.is(tu == ct.tuple(U), true, "== compares by content")
t.is(rawequal(tu, ct.tuple(U)), false, "two tuples are two values")
t.is(tu == ct.tuple { src = "198.18.0.2", dst = "198.18.0.1", sport = 40001, dport = 5353,
	proto = "udp" }, false, "another sport: not equal")
t.is(tu == ct.tuple { src = "198.18.0.2", dst = "198.18.0.1", sport = 40000, dport = 5353,
	proto = "tcp" }, false, "another proto: not equal")
local r = tu.reply
t.is(table.concat({ r.src, r.dst, r.sport, r.dport, r.proto }, " "),
	"198.18.0.1 198.18.0.2 5353 40000 udp", ".reply swaps both ends")
t.is(tostring(r), "udp 198.18.0.1:5353 → 198.18.0.2:40000", "and prints so")
t.is(r == tu, false, "the reply is another tuple")
t.is(r.reply == tu, true, "whose reply is the tuple again")
t.is(tu.nosuch, nil, "unknown keys are nil")

local v6 = ct.tuple { src = "2001:db8::2", dst = "2001:db8::1", sport = 40000, dport = 443, proto = "tcp" }
t.is(v6.family .. " " .. v6.proto, "ipv6 tcp", "IPv6 tuples: family and protocol")
t.is(tostring(v6), "tcp [2001:db8::2]:40000 → [2001:db8::1]:443", "IPv6 prints in brackets")
local g = ct.tuple { src = "198.18.0.2", dst = "198.18.0.1", sport = 0, dport = 65535, proto = 47 }
t.is(g.proto, 47, "other protocols stay numbers")
t.is(math.type(g.proto), "integer", "integers")
t.is(tostring(g), "47 198.18.0.2:0 → 198.18.0.1:65535", "and print as numbers")
t.is(ct.tuple { src = "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = 2, proto = 17 }.proto,
	"udp", "17 reads back as udp")

-- --- a tuple cannot be changed --------------------------------------------------------------
local here = debug.getinfo(1, "S").short_src
local line = debug.getinfo(1, "l").currentline + 2
t.raises(here .. ":" .. line .. ": a tuple cannot be changed: build a new one with ct.tuple",
	function() tu.sport = 1 end)
line = debug.getinfo(1, "l").currentline + 2
t.raises(here .. ":" .. line .. ": a tuple cannot be changed: build a new one with ct.tuple",
	function() tu.color = "red" end)
t.is(tu.sport, 40000, "the tuple is unchanged afterwards")
t.is(tu.color, nil, "and has no new field")

-- --- misuse ---------------------------------------------------------------------------------
local T = "bad argument #1 to 'ct.tuple' "
t.raises(T .. "(field 'sport': 70000 is out of range 0 to 65535)", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 70000, dport = 53, proto = "udp" })
t.raises(T .. "(field 'dport': -1 is out of range 0 to 65535)", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = -1, proto = "udp" })
t.raises(T .. "(field 'dst': missing (an IPv4 or IPv6 address))", ct.tuple,
	{ src = "198.18.0.2", sport = 1, dport = 53, proto = "udp" })
t.raises(T .. "(field 'sport': missing (a port, 0 to 65535))", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", dport = 53, proto = "udp" })
t.raises(T .. "(field 'proto': missing (\"tcp\", \"udp\" or a number))", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = 53 })
t.raises(T .. "(field 'src': '198.18.0.256' is not an IPv4 or IPv6 address)", ct.tuple,
	{ src = "198.18.0.256", dst = "198.18.0.1", sport = 1, dport = 53, proto = "udp" })
t.raises(T .. "(field 'dst': '198.18.0.0/15' is not an IPv4 or IPv6 address)", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.0/15", sport = 1, dport = 53, proto = "udp" })
t.raises(T .. "('src' and 'dst' are of different address families)", ct.tuple,
	{ src = "198.18.0.2", dst = "2001:db8::1", sport = 1, dport = 53, proto = "udp" })
t.raises(T .. "(field 'proto': 'icmp' is not \"tcp\", \"udp\" or a number)", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = 53, proto = "icmp" })
t.raises(T .. "(field 'proto': 256 is out of range 0 to 255)", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = 53, proto = 256 })
t.raises(T .. "('198.18.0.2' is not a tuple like 'udp 198.18.0.2:40000 -> 198.18.0.1:53')", ct.tuple,
	"198.18.0.2")
t.raises(T .. "(table expected, got no value)", ct.tuple)
t.raises(T .. "(field 'sport': expected an integer, got string)", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = "40000", dport = 53, proto = "udp" })
t.raises(T .. "(field 'sport': expected an integer, got 1.5)", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 1.5, dport = 53, proto = "udp" })
t.raises(T .. "(field 'src': expected a string, got number)", ct.tuple,
	{ src = 1, dst = "198.18.0.1", sport = 1, dport = 53, proto = "udp" })
t.raises(T .. "(unknown field 'port' (known: src, dst, sport, dport, proto))", ct.tuple,
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = 53, proto = "udp", port = 1 })
t.raises(T .. "(unexpected value 198.18.0.2 at [1]: give fields by name)", ct.tuple,
	{ "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = 53, proto = "udp" })

t.done_testing()
