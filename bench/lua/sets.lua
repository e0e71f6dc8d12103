-- sets.lua - the ctlua contenders of row 2e, sets at scale (bench/rows/28-sets.sh).
--
--   ctlua bench/lua/sets.lua IFNAME N     the packet part
--   ctlua bench/lua/sets.lua - N          the load part
--
-- Set "src" holds N prefixes: N = 1 is 198.18.0.0/15, which holds every source of the
-- bench's flows (bench/progs/flowgen.h: udp from 198.18.0.0/15 to 198.19.0.1 port 53);
-- otherwise N host addresses from 198.18.0.0 on (100 000 of them reach 198.19.134.159),
-- the flows' sources among them, each a /32 of the trie.
-- The packet part: the TC program on IFNAME, enforce, events off, one rule (udp, source in
-- "src", dport 53: alloc) and the default "drop", so a source the set did not hold would
-- show as a drop. Prints "ready" once attached, then waits for a line on stdin and prints
-- the counters the bench checks, as "stats NAME VALUE ...".
-- The load part: prints "load NS", the nanoseconds that one set:add() of the N prefixes
-- took (the list built before the clock starts), and "count N" as the set counted them.

local ifname, n = arg[1], math.tointeger(tonumber(arg[2] or ""))
if not ifname or not n or n < 1 then
	io.stderr:write("usage: ctlua sets.lua IFNAME|- N\n")
	os.exit(2)
end

local prefixes = {}
if n == 1 then
	prefixes[1] = "198.18.0.0/15"
else
	for i = 0, n - 1 do
		prefixes[i + 1] = ("198.%d.%d.%d"):format(18 + i // 65536, i // 256 % 256, i % 256)
	end
end
local src = ct.set("src")

if ifname == "-" then
	local t0 = ct.now()
	src:add(prefixes)
	local t1 = ct.now()
	io.write(("load %d\ncount %d\n"):format(math.floor((t1 - t0) * 1e9), src:count()))
	return
end

src:add(prefixes)
assert(src:count() == n, "set count")
assert(ct.mode("enforce"))
assert(ct.default("drop"))
assert(ct.events{})
assert(ct.rule{ proto = "udp", src_set = "src", dport = 53, action = "alloc" })
local link <close> = assert(ct.attach(ifname))
dofile("bench/lua/pkt_ready.lua"){ "packets", "lookup_miss", "alloc_ok", "alloc_error", "by_rule",
	"by_default" }
