#!tests/lib/ctlua-tap
-- 76-lua-library.t - the policy helpers of lua/ (ctlua.limit, ctlua.set, ctlua.window,
-- and ctlua.keys under them), on injected clocks; ct.now, and ct.timer/ct.every as
-- objects (misuse, cancel, <close>). Needs no kernel: 77-timers.t fires the timers.
local t = require "tap"
local limit = require "ctlua.limit"
local set = require "ctlua.set"
local window = require "ctlua.window"
local keys = require "ctlua.keys"

-- ---- ct.now ----------------------------------------------------------------------------

local a = ct.now()
local b = ct.now()
t.is(math.type(a), "float", "ct.now() is a float")
t.ok(b >= a, "ct.now() does not go back")
t.ok(math.abs(a - os.time()) < 5, "ct.now() reads as wall-clock seconds (ev.time's clock)")
t.raises("bad argument #1 to 'ct.timer' (expected an integer, got string)", ct.timer, "x",
	print)
t.raises("bad argument #1 to 'ct.timer' (-1 is out of range 0 to 2147483647)", ct.timer, -1,
	print)
t.raises("bad argument #1 to 'ct.timer' (expected an integer, got 1.5)", ct.timer, 1.5, print)
t.raises("bad argument #2 to 'ct.timer' (function expected, got no value)", ct.timer, 10)
t.raises("bad argument #1 to 'ct.every' (0 is out of range 1 to 2147483647)", ct.every, 0,
	print)
t.raises("bad argument #2 to 'ct.every' (function expected, got table)", ct.every, 10, {})

-- ---- timer objects ------------------------------------------------------------------------

local once = ct.timer(60000, print)
t.like(tostring(once), "^ct%.timer %(once, due in [56][09]%.%d+ s%)$", "tostring: a one-shot, when due")
t.is(once:active(), true, "a new timer is active")
t.is(once:cancel(), true, "cancel: it was scheduled")
t.is(once:active(), false, "and is not any more")
t.is(once:cancel(), false, "a second cancel says it was not")
t.is(tostring(once), "ct.timer (once, done)", "tostring of a cancelled one-shot")
local tick = ct.every(250, print)
t.like(tostring(tick), "^ct%.timer %(every 250 ms, due in 0%.%d+ s%)$", "tostring: every")
do
	local scoped <close> = tick
end
t.is(tick:active(), false, "<close> cancels the timer at the end of its block")
t.is(tostring(tick), "ct.timer (every 250 ms, stopped)", "tostring of a stopped ct.every")
t.raises_like("^[^ ]+:%d+: bad argument #1 to 'cancel' %(ct%.timer expected, got table%)$", function()
	local not_a_timer = {}
	tick.cancel(not_a_timer)
end)
do	-- not referenced, yet scheduled: the collector leaves it alone
	local weak = setmetatable({ ct.every(100000, print) }, { __mode = "v" })
	collectgarbage()
	collectgarbage()
	t.ok(weak[1] and weak[1]:active(), "a scheduled timer with no variable is kept")
	weak[1]:cancel()
	collectgarbage()
	collectgarbage()
	t.is(weak[1], nil, "once cancelled it is collected")
end

-- ---- ctlua.limit ---------------------------------------------------------------------------

local bucket = limit.bucket{ rate = 10, burst = 3 }
local got = {}
for i = 1, 4 do
	got[i] = tostring((bucket:take("198.18.0.1", 100)))
end
t.is(table.concat(got, " "), "true true true false", "a burst of 3 at once, then refused")
local ok, wait = bucket:take("198.18.0.1", 100)
t.ok(ok == false and math.abs(wait - 0.1) < 1e-9, "refused: a token comes in 0.1 s")
t.is(bucket:take("198.18.0.2", 100), true, "another key has its own bucket")
t.is(bucket:take("198.18.0.1", 100.1), true, "0.1 s later one token came back")
t.is(bucket:take("198.18.0.1", 100.1), false, "only one")
t.ok(math.abs(bucket:tokens("198.18.0.1", 100.25) - 1.5) < 1e-9, "tokens: 1.5 after 0.15 s")
t.is(bucket:tokens("198.18.0.9", 100.25), 3, "an unknown key has a full bucket")
-- steady rate: 10 a second for 10 seconds, with a take every 10 ms: 100 + the burst
local n = 0
for i = 0, 999 do
	if bucket:take("steady", 1000 + i / 100) then
		n = n + 1
	end
end
t.is(n, 3 + 99, "over 10 s at 100 tries a second: the burst, then 10 a second")
-- ct.now's values are near 2e9: the same counts there
local far = limit.bucket{ rate = 1000, burst = 1 }
n = 0
for i = 0, 999 do
	if far:take("k", 1.8e9 + i / 1000) then
		n = n + 1
	end
end
t.is(n, 1000, "rate 1000, a take every ms, at times near 2e9: none refused by rounding")

-- memory: idle keys are forgotten, and a cap bounds the rest
local capped = limit.bucket{ rate = 1, burst = 2, keys = 3 }
for i = 1, 3 do
	capped:take(i, 0)
end
t.is(capped:keys(), 3, "three keys held")
local full, why = capped:take(4, 0)
t.ok(full == false and why == nil, "a fourth is refused while the three are not idle")
t.is(capped:take(4, 5), true, "idle past burst/rate (2 s): forgotten, the new key has room")
t.is(capped:keys(), 1, "only the new key is held")
local lenient = limit.bucket{ rate = 1, burst = 1, keys = 1, when_full = "allow" }
lenient:take("x", 0)
t.is(lenient:take("y", 0), true, "when_full='allow': a key that has no room is let through")
capped:reset()
t.is(capped:keys(), 0, "reset() forgets every key")

-- the default clock is ct.now
local live = limit.bucket{ rate = 1, burst = 1 }
t.is(live:take("k"), true, "take without now: ct.now's clock")
t.is(live:take("k"), false, "and the second at once is refused")
local fake = 0
local injected = limit.bucket{ rate = 1, burst = 1, clock = function() return fake end }
injected:take("k")
fake = 1
t.is(injected:take("k"), true, "an injected clock")
t.like(tostring(bucket), "^limit%.bucket %(rate 10/s, burst 3, %d keys%)$", "tostring")

t.raises("bad argument #1 to 'limit.bucket' (table expected, got no value)", limit.bucket)
t.raises("bad argument #1 to 'limit.bucket' (field 'rate' is required (tokens a second))",
	limit.bucket, {})
t.raises("bad argument #1 to 'limit.bucket' (field 'rate': expected a number above 0, got 0)",
	limit.bucket, { rate = 0 })
t.raises("bad argument #1 to 'limit.bucket' (field 'rate': expected a number above 0, got nan)",
	limit.bucket, { rate = 0 / 0 })
t.raises("bad argument #1 to 'limit.bucket' (field 'burst': expected a number of at least 1, got 0.5)",
	limit.bucket, { rate = 1, burst = 0.5 })
t.raises("bad argument #1 to 'limit.bucket' (field 'keys': expected an integer of at least 1, got 1.5)",
	limit.bucket, { rate = 1, keys = 1.5 })
t.raises("bad argument #1 to 'limit.bucket' (unknown field 'rte')", limit.bucket, { rte = 1 })
t.raises("bad argument #1 to 'limit.bucket' (field 'rate': number expected, got string)",
	limit.bucket, { rate = "10" })
t.raises("bad argument #1 to 'limit.bucket' (field 'when_full': 'deny' or 'allow' expected, got 'drop')",
	limit.bucket, { rate = 1, when_full = "drop" })
t.raises("bad argument #1 to 'take' (key expected, got nil)", bucket.take, bucket)
t.raises("bad argument #2 to 'take' (number expected, got string)", bucket.take, bucket, "k", "x")
t.raises("calling 'take' on bad self (a bucket expected, got table)", bucket.take, {}, "k")
local line = debug.getinfo(1, "l").currentline + 1
local function misuse() bucket:take(nil) end
t.raises(("tests/76-lua-library.t:%d: bad argument #1 to 'take' (key expected, got nil)"):format(line),
	misuse)
local counter = window.sliding{ seconds = 1 }
local function misuse2() local _ = counter:count(1, "x") end
line = debug.getinfo(1, "l").currentline - 1
t.raises(("tests/76-lua-library.t:%d: bad argument #2 to 'count' (number expected, got string)"):format(line),
	misuse2)
local function misuse3() local _ = set.prefixes{ "x" } end
line = debug.getinfo(1, "l").currentline - 1
t.raises(("tests/76-lua-library.t:%d: bad argument #1 to 'set.prefixes' (item 1: 'x' is not a prefix: neither IPv4 (a.b.c.d) nor IPv6)"):format(line),
	misuse3)
local function misuse4() local _ = limit.bucket{ rate = -1 } end
line = debug.getinfo(1, "l").currentline - 1
t.raises(("tests/76-lua-library.t:%d: bad argument #1 to 'limit.bucket' (field 'rate': expected a number above 0, got -1)"):format(line),
	misuse4)

-- ---- ctlua.keys -------------------------------------------------------------------------------

local store = keys.new(10, 100)
store:age(0)
store:put("a", 1)
store:age(5)
store:put("b", 2)
store:age(12)	-- a turn: a and b go to the older generation
t.is(store:get("a"), 1, "a key idle less than two periods is still there")
store:age(23)	-- another turn: b, idle 18 s, is dropped; a was used at 12
t.is(store:get("b"), nil, "a key idle past the period is forgotten at the next turn")
t.is(store:get("a"), 1, "one used since is kept")
store:age(100)
t.is(store:count(), 0, "a long quiet spell forgets everything")

-- ---- ctlua.set: prefixes ----------------------------------------------------------------------

local nets = set.prefixes{ "198.18.0.0/15", "2001:db8::/32", "198.18.7.0/24", "10.1.2.3",
	"::ffff:198.18.0.1/128" }
t.is(#nets, 5, "five prefixes")
t.is(nets:has("198.19.255.255"), "198.18.0.0/15", "has: the prefix that holds the address")
t.is(nets:has("198.18.7.9"), "198.18.7.0/24", "the longest prefix wins")
t.is(nets:has("198.20.0.1"), nil, "an address outside: nil")
t.is(nets:has("10.1.2.3"), "10.1.2.3", "a bare address is a /32")
t.is(nets:has("10.1.2.4"), nil, "and holds only itself")
t.is(nets:has("2001:db8:ffff::1"), "2001:db8::/32", "IPv6")
t.is(nets:has("2001:0db8:0:0:0:0:0:1"), "2001:db8::/32", "IPv6 written in full")
t.is(nets:has("2001:db9::"), nil, "IPv6 outside")
t.is(nets:has("::ffff:198.18.0.1"), "::ffff:198.18.0.1/128", "IPv4 inside IPv6 text")
t.is(nets:has("::1"), nil, "the families do not mix")
t.is(set.prefixes("0.0.0.0/0, ::/0"):has("203.0.113.1"), "0.0.0.0/0", "/0 holds everything")
local short = set.prefixes{ "192.0.0.0/2", "128.0.0.0/1", "198.18.0.0/24", "8000::/1", "c000::/2" }
t.is(short:has("200.1.1.1"), "192.0.0.0/2", "lengths 1 and 2 beside 24: the longest wins")
t.is(short:has("129.1.1.1"), "128.0.0.0/1", "and /1 is probed too")
t.is(short:has("198.18.0.7"), "198.18.0.0/24", "and /24")
t.is(short:has("127.0.0.1"), nil, "outside them all")
t.is(short:has("c001::1"), "c000::/2", "IPv6: /2")
t.is(short:has("8001::1"), "8000::/1", "IPv6: /1")
t.is(set.prefixes("198.18.0.0/15 2001:db8::/32"):has("2001:db8::2"), "2001:db8::/32",
	"a string of prefixes split by spaces")
nets:add("198.20.0.0/16")
t.is(nets:has("198.20.0.1"), "198.20.0.0/16", "add: one more")
t.is(table.concat(set.prefixes{ "10.0.0.0/8", "1.0.0.0/8" }:list(), " "), "1.0.0.0/8 10.0.0.0/8",
	"list: the prefixes, sorted")
local P = "bad argument #1 to 'set.prefixes' (item 2: "
local function bad_prefix(text, why)
	t.raises(P .. "'" .. text .. "' is not a prefix: " .. why .. ")", set.prefixes,
		{ "10.0.0.0/8", text })
end
bad_prefix("198.18.0.1/15", "it has bits set past its length /15")
bad_prefix("1.2.3", "neither IPv4 (a.b.c.d) nor IPv6")
bad_prefix("1.2.3.256", "256 is out of range 0 to 255")
bad_prefix("01.2.3.4", "01 has a leading zero")
bad_prefix("1.2.3.4/33", "the length '33' is not a number from 0 to 32")
bad_prefix("1.2.3.4/x", "the length 'x' is not a number from 0 to 32")
bad_prefix("2001:db8::/129", "the length '129' is not a number from 0 to 128")
bad_prefix("1::2::3", "'::' appears twice")
bad_prefix("1:2:3:4:5:6:7:8:9", "9 groups, 8 expected")
bad_prefix("1:2:3:4::5:6:7:8", "more than 7 groups beside '::'")
bad_prefix("g::1", "'g' is not a group of 1 to 4 hex digits")
bad_prefix("12345::", "'12345' is not a group of 1 to 4 hex digits")
bad_prefix("::1.2.3.999", "999 is out of range 0 to 255")
t.raises(P .. "'1.2.3.4/33' is not a prefix: the length '33' is not a number from 0 to 32)",
	set.prefixes, "10.0.0.0/8, 1.2.3.4/33")
t.raises("bad argument #1 to 'set.prefixes' (item 1: '7' is not a prefix: a string expected, got number)",
	set.prefixes, { 7 })
t.raises("bad argument #1 to 'set.prefixes' (table or string expected, got no value)",
	set.prefixes)
t.raises("bad argument #1 to 'has' ('nope' is not an address: neither IPv4 (a.b.c.d) nor IPv6)",
	nets.has, nets, "nope")
t.raises("bad argument #1 to 'has' (string expected, got no value)", nets.has, nets)
t.raises("bad argument #1 to 'add' (item 1: '300.1.1.1' is not a prefix: 300 is out of range 0 to 255)",
	nets.add, nets, "300.1.1.1")

-- The address parser against the C one behind ct.tuple (inet_pton): the same strings
-- accepted, and an accepted one names the same address (ct.tuple's text read back).
local function c_parse(text)
	local okay, tuple = pcall(ct.tuple, { src = text, dst = text:find(":", 1, true) and "::1"
		or "1.1.1.1", sport = 1, dport = 1, proto = "udp" })
	return okay and tuple.src or nil
end
local PIECES = { "0", "1", "9", "00", "01", "255", "256", "ff", "ffff", "fffff", "g", ":", "::",
	".", "1.2.3.4", " ", "/", "%" }
math.randomseed(76)
local function random_text()
	local kind, parts = math.random(3), {}
	if kind == 1 then	-- pieces at random
		for j = 1, math.random(8) do
			parts[j] = PIECES[math.random(#PIECES)]
		end
		return table.concat(parts)
	elseif kind == 2 then	-- dotted quads, some out of range or short
		for j = 1, math.random(3, 5) do
			parts[j] = tostring(math.random(0, 300))
		end
		return table.concat(parts, ".")
	end
	for j = 1, math.random(5, 9) do	-- IPv6 groups, some "::", maybe an IPv4 tail
		parts[j] = math.random(4) == 1 and "" or ("%x"):format(math.random(0, 0x1ffff))
	end
	if math.random(3) == 1 then
		parts[#parts] = "198.18.0.1"
	end
	return table.concat(parts, ":")
end
local differ, valid = {}, 0
for _ = 1, 5000 do
	local text = random_text()
	local mine, theirs = set.address(text), c_parse(text)
	if (mine ~= nil) ~= (theirs ~= nil) or theirs and set.address(theirs) ~= mine then
		differ[#differ + 1] = ("'%s' (set: %s, ct.tuple: %s)"):format(text, tostring(mine ~= nil),
			tostring(theirs))
	end
	valid = valid + (mine and 1 or 0)
end
t.is(table.concat(differ, ", "), "", "5000 random texts: set's parser and inet_pton agree")
t.ok(valid > 200, ("and many of them are addresses (%d)"):format(valid))

-- ---- ctlua.set: ports ---------------------------------------------------------------------------

local web = set.ports "22, 80 443 8000-8100, 8050-8200"
t.is(tostring(web), "set.ports (22, 80, 443, 8000-8200)", "ranges merged")
t.is(web:has(22), true, "has: a single port")
t.is(web:has(23), false, "a port outside")
t.is(web:has(8150), true, "inside a merged range")
t.is(web:has(8201), false, "past it")
t.is(web:has(80.0), true, "a float with an integer value")
t.is(set.ports{ 0, 65535, "1-2" }:has(65535), true, "0 and 65535 are ports")
web:add(25)
t.is(web:has(25), true, "add: a port")
t.is(table.concat(set.ports{ 5, 3, 4, "9-10" }:list(), " "), "3-5 9-10", "list: merged ranges")
t.raises("bad argument #1 to 'set.ports' (item 2: '70000' is not a port: out of range 0 to 65535)",
	set.ports, { 22, "70000" })
t.raises("bad argument #1 to 'set.ports' (item 1: '9-1' is not a port: its range is empty (low above high))",
	set.ports, "9-1")
t.raises("bad argument #1 to 'set.ports' (item 1: '1.5' is not a port: an integer or a string expected, got float)",
	set.ports, { 1.5 })
t.raises("bad argument #1 to 'set.ports' (item 3: 'http' is not a port: a port (0 to 65535) or a range 'LOW-HIGH' expected)",
	set.ports, "22,80,http")
t.raises("bad argument #1 to 'has' (integer expected, got string)", web.has, web, "22")
t.raises("bad argument #1 to 'has' (integer expected, got float)", web.has, web, 1.5)

-- ---- ctlua.window: hours --------------------------------------------------------------------

-- Monday 7 December 2026, 00:00 UTC
local MON = 1796601600
t.is(os.date("!%a %H:%M", MON), "Mon 00:00", "the test's Monday")
local office = window.hours("Mon-Fri 08:00-18:00; Sat 22:00-02:00", { utc = true })
local function at(day, h, m)
	return office:open(MON + day * 86400 + h * 3600 + (m or 0) * 60)
end
t.is(office:open(MON + 8 * 3600 - 1), false, "Monday 07:59:59: closed")
t.is(office:open(MON + 8 * 3600), true, "the next second, 08:00:00: open")
t.is(office:open(MON + 18 * 3600 - 1), true, "17:59:59: open")
t.is(office:open(MON + 18 * 3600 - 1.5), true, "17:59:58.5: open, in the same minute")
t.is(office:open(MON + 18 * 3600), false, "18:00:00: closed")
t.is(at(0, 7, 59), false, "Monday 07:59: closed")
t.is(at(0, 8, 0), true, "Monday 08:00: open (the start is in)")
t.is(at(4, 17, 59), true, "Friday 17:59: open")
t.is(at(4, 18, 0), false, "Friday 18:00: closed (the end is out)")
t.is(at(5, 12), false, "Saturday noon: closed")
t.is(at(5, 23), true, "Saturday 23:00: open")
t.is(at(6, 1, 59), true, "Sunday 01:59: open (22:00-02:00 runs past midnight)")
t.is(at(6, 2), false, "Sunday 02:00: closed")
local weekend = window.hours({ "Sun 22:00-02:00" }, { utc = true })
t.is(weekend:open(MON + 3600), true, "Sunday night into Monday: across the week's end")
t.is(window.hours("Fri-Mon 00:00-24:00", { utc = true }):open(MON + 6 * 86400), true,
	"Fri-Mon goes round the week's end")
t.is(window.hours("Fri-Mon 00:00-24:00", { utc = true }):open(MON + 86400), false,
	"and leaves Tuesday out")
t.is(window.hours("Mon,Wed 10:00-11:00", { utc = true }):open(MON + 2 * 86400 + 37800), true,
	"a list of days")
t.is(window.hours("09:00-17:00", { utc = true }):open(MON + 6 * 86400 + 43200), true,
	"no days: every day")
local when = MON + 9 * 3600
t.is(window.hours("Mon 09:00-10:00", { utc = true, clock = function() return when end }):open(),
	true, "an injected clock")
t.is(tostring(office), "window.hours (Mon-Fri 08:00-18:00; Sat 22:00-02:00, UTC)", "tostring")
local H = "bad argument #1 to 'window.hours' (item "
t.raises(H .. "1: 'Mon-Fry 08:00-18:00' is not a time window: unknown day 'Fry' (Mon, Tue, Wed, Thu, Fri, Sat, Sun))",
	window.hours, "Mon-Fry 08:00-18:00")
t.raises(H .. "2: 'Mon 8-18' is not a time window: '[DAYS ]HH:MM-HH:MM' expected, as 'Mon-Fri 08:00-18:00')",
	window.hours, { "Tue 01:00-02:00", "Mon 8-18" })
t.raises(H .. "1: '08:00-08:00' is not a time window: it is empty (use 00:00-24:00 for a whole day))",
	window.hours, "08:00-08:00")
t.raises(H .. "1: '08:00-25:00' is not a time window: '[DAYS ]HH:MM-HH:MM' expected, as 'Mon-Fri 08:00-18:00')",
	window.hours, "08:00-25:00")
t.raises("bad argument #2 to 'window.hours' (unknown field 'tz')", window.hours, "08:00-09:00",
	{ tz = 1 })
t.raises("bad argument #1 to 'open' (epoch seconds expected, got nan)", office.open, office,
	0 / 0)

-- ---- ctlua.window: sliding counts -------------------------------------------------------------

local recent = window.sliding{ seconds = 10 }
for i = 1, 5 do
	recent:add("198.18.0.1", 1, 100 + i)
end
t.is(recent:add("198.18.0.1", 2, 106), 7, "add returns the count over the window, n included")
t.is(recent:count("198.18.0.1", 110.5), 7, "all of it within the last 10 s")
t.is(recent:count("198.18.0.1", 112.5), 5, "2.5 s later the first two have left the window")
t.is(recent:count("198.18.0.1", 130), 0, "all gone after the window")
t.is(recent:count("198.18.0.2", 130), 0, "an unknown key counts 0")
recent:add("x", 1, 200)
t.is(recent:keys(), 1, "idle keys are forgotten: one key held")
local tiny = window.sliding{ seconds = 1, keys = 1 }
tiny:add("a", 1, 0)
t.is(tiny:add("b", 1, 0), math.huge, "no room for a new key: math.huge (over any limit)")
t.like(tostring(recent), "^window%.sliding %(10 s in 10 slots, 1 keys%)$", "tostring")
t.raises("bad argument #1 to 'window.sliding' (field 'seconds' is required (the window's length))",
	window.sliding, {})
t.raises("bad argument #1 to 'window.sliding' (field 'seconds': expected a number above 0, got -1)",
	window.sliding, { seconds = -1 })
t.raises("bad argument #1 to 'window.sliding' (field 'slots': expected an integer of at least 1, got 0)",
	window.sliding, { seconds = 1, slots = 0 })
t.raises("bad argument #2 to 'add' (a number of at least 0 expected, got -1)", recent.add,
	recent, "k", -1)
t.raises("bad argument #1 to 'count' (key expected, got nil)", recent.count, recent)

t.done_testing()
