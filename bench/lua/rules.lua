-- rules.lua - a ctlua contender of row 2b, rules at scale (bench/rows/25-rules.sh): the TC
-- program on one interface, enforce, events off, default "alloc", with N rules in front
-- of the default, built so that the bench's flows (bench/progs/flowgen.h: udp from
-- 198.18.0.0/15 to 198.19.0.1 port 53) are decided by the last rule or by none.
--
--   ctlua bench/lua/rules.lua IFNAME N last|none
--
-- Rules 1..N-1 never match the flows, and each fails as late as the ordered scan checks
-- (the rule's protocol and addresses agree; the port does not), or on its source
-- address, so that the source prefixes are many and of many lengths:
--   odd k:  udp, src 198.18.0.0/L (L from 15 to 31, contains the flows), dst 198.19.0.1,
--           dport 1000 + k
--   even k: udp, src 198.19.H.L/32 (no flow's source), dport 53
-- Rule N: udp, dst 198.19.0.1, dport 53 ("last": every flow matches it, action alloc)
-- or dport 54 ("none": no rule matches; the default allocates).
-- Prints "ready" once attached, then waits for a line on stdin and prints the counters
-- the bench checks, as "stats NAME VALUE ...".

local ifname, n, case = arg[1], math.tointeger(tonumber(arg[2] or "")), arg[3]
if not ifname or not n or n < 1 or (case ~= "last" and case ~= "none") then
	io.stderr:write("usage: ctlua rules.lua IFNAME N last|none\n")
	os.exit(2)
end

assert(ct.mode("enforce"))
assert(ct.default("alloc"))
assert(ct.events{})
local rules = {}
for k = 1, n - 1 do
	if k % 2 == 1 then
		rules[k] = { proto = "udp", src = ("198.18.0.0/%d"):format(15 + (k // 2) % 17),
			     dst = "198.19.0.1", dport = 1000 + k, action = "alloc" }
	else
		rules[k] = { proto = "udp", src = ("198.19.%d.%d/32"):format(128 + k // 256, k % 256),
			     dport = 53, action = "alloc" }
	end
end
rules[n] = { proto = "udp", dst = "198.19.0.1", dport = case == "last" and 53 or 54,
	     action = "alloc" }
-- one change for the whole table: ct.rule one by one would build it n times
assert(ct.policy{ rules = rules })
assert(#ct.rules() == n, "rule count")
local link <close> = assert(ct.attach(ifname))
dofile("bench/lua/pkt_ready.lua"){ "packets", "lookup_miss", "alloc_ok", "alloc_error", "by_rule",
	"by_default" }
