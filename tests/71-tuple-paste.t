#!tests/lib/ctlua-tap
-- 71-tuple-paste.t - a printed tuple pastes back: ct.tuple(tostring(t)) == t for IPv4
-- and IPv6, TCP and UDP, with either arrow; every function that takes a tuple takes its
-- text, and refuses bad text naming itself (ct.alloc, not alloc) before anything is
-- loaded; errors name ct.rule also from a script's own pcall. Needs no kernel.
local t = require "tap"

-- --- round trips ---------------------------------------------------------------------------
for _, f in ipairs {
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 40000, dport = 53, proto = "udp" },
	{ src = "198.18.0.2", dst = "198.18.0.1", sport = 1, dport = 443, proto = "tcp" },
	{ src = "2001:db8::2", dst = "2001:db8::1", sport = 65535, dport = 0, proto = "udp" },
	{ src = "2001:db8::ffff:2", dst = "2001:db8::1", sport = 5, dport = 80, proto = "tcp" },
} do
	local tp = ct.tuple(f)
	local text = tostring(tp)
	t.ok(ct.tuple(text) == tp, "ct.tuple(tostring(t)) == t: " .. text)
	t.ok(ct.tuple((text:gsub("→", "->"))) == tp, "and with -> for the arrow")
	local back = ct.tuple(text)
	t.is(string.format("%s %s %d %s %d", back.proto, back.src, back.sport, back.dst, back.dport),
		string.format("%s %s %d %s %d", f.proto, f.src, f.sport, f.dst, f.dport),
		"field by field, as written: " .. text)
end
local U = ct.tuple { src = "198.18.0.2", dst = "198.18.0.1", sport = 40000, dport = 53, proto = "udp" }
t.ok(ct.tuple(tostring(U.reply)) == U.reply, "the reply tuple round-trips too")

-- --- every function that takes a tuple takes the text: bad text is misuse, named ---------------
local LIKE = " is not a tuple like 'udp 198.18.0.2:40000 -> 198.18.0.1:53')"
for _, c in ipairs {
	{ "ct.alloc", ct.alloc }, { "ct.lookup", ct.lookup }, { "ct.delete", ct.delete },
	{ "ct.verdict", ct.verdict }, { "ct.forget", ct.forget },
} do
	t.raises("bad argument #1 to '" .. c[1] .. "' ('udp 198.18.0.1:1 -> x:2'" .. LIKE, c[2],
		"udp 198.18.0.1:1 -> x:2")
	t.raises("bad argument #1 to '" .. c[1] .. "' (tuple, table or string expected, got number)",
		c[2], 5)
end
t.raises("bad argument #1 to 'ct.change' ('udp'" .. LIKE, ct.change, "udp", { timeout = 1 })
-- a good text gets past the tuple: the next argument's misuse is what is reported
t.raises("bad argument #2 to 'ct.alloc' (unknown field 'ttl' (known: timeout, status, mark, " ..
	"netns, zone, l4proto, dir, reserved, tuple_size, opts_size, snat, dnat))",
	ct.alloc, "udp 198.18.0.2:40000 → 198.18.0.1:53", { ttl = 1 })
t.raises("bad argument #2 to 'ct.delete' (unknown field 'mark' (known: zone, netns))",
	ct.delete, "udp 198.18.0.2:40000 -> 198.18.0.1:53", { mark = 1 })
t.raises("bad argument #3 to 'ct.verdict' (unknown field 'ttl' (known: timeout, status, mark, zone, snat, dnat))",
	ct.verdict, "tcp [2001:db8::2]:1 -> [2001:db8::1]:2", "alloc", { ttl = 1 })

-- filters: a tuple or its text is that flow; bad text is misuse
t.raises("bad argument #1 to 'ct.entries' ('udp 1.2.3:1 -> 1.2.3.4:5'" .. LIKE, ct.entries,
	"udp 1.2.3:1 -> 1.2.3.4:5")
t.raises("bad argument #1 to 'ct.flush' ('nope'" .. LIKE, ct.flush, "nope")
t.raises("bad argument #1 to 'ct.watch' ('nope'" .. LIKE, ct.watch, "nope")

-- --- errors name ct.rule, also caught by the script's own pcall ------------------------------
local ok, err = pcall(function() ct.rule { proto = "udp" } end)
t.is((err:gsub("^[^:]*:%d+: ", "")), "bad argument #1 to 'ct.rule' (field 'action': missing " ..
	"(\"pass\", \"alloc\" or \"drop\"))", "a script's ct.rule{...} error names ct.rule")
ok, err = pcall(function() ct.alloc(U, { mark = -1 }) end)
t.like(err, "bad argument #2 to 'ct%.alloc' %(field 'mark'", "and ct.alloc's names ct.alloc")

t.done_testing()
