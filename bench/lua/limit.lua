-- limit.lua - the ctlua contender of row 2c, rate limits (bench/rows/27-limits.sh): the
-- TC program on one interface, enforce, events off, default "pass", and one rule for
-- the bench's flows (udp to port 53) that allocates at most RATE new flows a second
-- per source after a burst of BURST, and drops the rest at TC.
--
--   ctlua bench/lua/limit.lua IFNAME RATE BURST
--
-- Prints "ready" once attached; then, for each line on stdin, the counters the bench
-- checks, as "stats admitted N limited N alloc_ok N drops N", until stdin ends.

local ifname, rate, burst = arg[1], tonumber(arg[2] or ""), math.tointeger(tonumber(arg[3] or ""))
if not ifname or not rate or not burst then
	io.stderr:write("usage: ctlua limit.lua IFNAME RATE BURST\n")
	os.exit(2)
end

assert(ct.mode("enforce"))
assert(ct.default("pass"))
assert(ct.events{})
assert(ct.rule{proto = "udp", dport = 53, action = "alloc",
	limit = {rate = rate, burst = burst, per = "src", over = "drop"}})
local link <close> = assert(ct.attach(ifname))
io.write("ready\n")
io.stdout:flush()

while io.read("l") do
	local l, s = assert(ct.limits())[1], assert(ct.stats())
	io.write(("stats admitted %d limited %d alloc_ok %d drops %d\n"):format(l.admitted,
		l.limited, s.alloc_ok, s.drops))
	io.stdout:flush()
end
