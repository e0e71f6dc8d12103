#!tests/lib/ctlua-tap
-- 16-tuple-text.t - tuples written as text, the form tostring(tuple) prints: ct.tuple
-- and ct.alloc_many's items read them back exactly, and refuse anything else with the
-- text named. Also ct.alloc_many's threads option's misuse. Needs no kernel.
local t = require "tap"

local function same(text, want, name)
	t.is(tostring(ct.tuple(text)), want, name)
end

-- --- what reads back -----------------------------------------------------------------------
-- each field read on its own, against the values written here, not the tuple's own ==
local function fields(tp)
	return string.format("%s %s %s %d %s %d", tp.family, tp.proto, tp.src, tp.sport, tp.dst,
		tp.dport)
end
local function reads(text, want, name) t.is(fields(ct.tuple(text)), want, name) end
reads("udp 198.18.0.2:40000 → 198.18.0.1:5353", "ipv4 udp 198.18.0.2 40000 198.18.0.1 5353",
	"the arrow tostring prints reads back field by field")
reads("udp 198.18.0.2:40000 -> 198.18.0.1:5353", "ipv4 udp 198.18.0.2 40000 198.18.0.1 5353",
	"\"->\" is the same arrow")
reads("tcp [2001:db8::2]:1 → [2001:db8::1]:443", "ipv6 tcp 2001:db8::2 1 2001:db8::1 443",
	"IPv6 in brackets reads back")
local U = ct.tuple { src = "198.18.0.2", dst = "198.18.0.1", sport = 40000, dport = 5353, proto = "udp" }
t.is(fields(ct.tuple(tostring(U))), fields(U), "ct.tuple(tostring(t)) gives t's fields back")
same("6 [2001:db8::1]:0 -> [2001:db8::2]:65535", "tcp [2001:db8::1]:0 → [2001:db8::2]:65535",
	"a protocol number, ports 0 and 65535")
same("132 0.0.0.0:1 -> 255.255.255.255:2", "132 0.0.0.0:1 → 255.255.255.255:2",
	"another protocol as a number; the extreme IPv4 addresses")
same("udp [::ffff:198.18.0.1]:1 -> [2001:db8::1]:2", "udp [::ffff:198.18.0.1]:1 → [2001:db8::1]:2",
	"an IPv4-mapped IPv6 address is IPv6")

-- --- what is refused, named ----------------------------------------------------------------
local LIKE = " is not a tuple like 'udp 198.18.0.2:40000 -> 198.18.0.1:53')"
for _, bad in ipairs {
	"", "udp", "udp 198.18.0.1:1", "udp 198.18.0.1:1 -> ", "icmp 198.18.0.1:1 -> 198.18.0.2:2",
	"256 198.18.0.1:1 -> 198.18.0.2:2", "017 198.18.0.1:1 -> 198.18.0.2:2",
	"udp 198.18.0.1:65536 -> 198.18.0.2:2", "udp 198.18.0.1:01 -> 198.18.0.2:2",
	"udp 198.18.0.1: -> 198.18.0.2:2", "udp 198.18.0.1:-1 -> 198.18.0.2:2",
	"udp 198.18.0.01:1 -> 198.18.0.2:2", "udp 256.18.0.1:1 -> 198.18.0.2:2",
	"udp 1.2.3:1 -> 1.2.3.4:5", "udp 1.2.3.4.5:1 -> 1.2.3.4:5", "udp 1.2.3.:1 -> 1.2.3.4:5",
	"udp 198.18.0.1:1 -> 2001:db8::1:2", "udp 198.18.0.1:1 -> [2001:db8::1]:2",
	"udp [198.18.0.1]:1 -> [198.18.0.2]:2", "udp [2001:db8::1:1 -> [2001:db8::2]:2",
	"udp 198.18.0.1:1  -> 198.18.0.2:2", "udp  198.18.0.1:1 -> 198.18.0.2:2",
	"udp 198.18.0.1:1 -> 198.18.0.2:2 ", "UDP 198.18.0.1:1 -> 198.18.0.2:2",
	"udp 198.18.0.1:1 => 198.18.0.2:2",
} do
	t.raises("bad argument #1 to 'ct.tuple' ('" .. bad .. "'" .. LIKE, ct.tuple, bad)
end
t.raises("bad argument #1 to 'ct.tuple' ('udp 198.18.0.1:1 -> 198.18.0.2:2\\0x'" .. LIKE, ct.tuple,
	"udp 198.18.0.1:1 -> 198.18.0.2:2\0x")
t.raises("bad argument #1 to 'ct.tuple' (table expected, got number)", ct.tuple, 5)

-- --- ct.alloc_many: strings are items; misuse is found before the kernel is needed ------------
t.raises("bad argument #1 to 'ct.alloc_many' (item 3: 'udp 198.18.0.1:1 -> x:2'" .. LIKE,
	ct.alloc_many, { "udp 198.18.0.1:1 -> 198.18.0.2:2", U, "udp 198.18.0.1:1 -> x:2" })
t.raises("bad argument #2 to 'ct.alloc_many' (field 'threads': 0 is out of range 1 to 64)",
	ct.alloc_many, { U }, { threads = 0 })
t.raises("bad argument #2 to 'ct.alloc_many' (field 'threads': 65 is out of range 1 to 64)",
	ct.alloc_many, { U }, { threads = 65 })
t.raises("bad argument #2 to 'ct.alloc_many' (field 'threads': expected an integer, got string)",
	ct.alloc_many, { U }, { threads = "all" })
t.raises("bad argument #2 to 'ct.alloc' (unknown field 'threads' (known: timeout, status, mark, " ..
	"netns, zone, l4proto, dir, reserved, tuple_size, opts_size, snat, dnat))",
	ct.alloc, U, { threads = 2 })

t.done_testing()
