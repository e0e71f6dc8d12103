-- limit.lua - the ctlua contender of row 2d, rate limits (bench/rows/27-limits.sh): the
-- TC program on one interface, enforce, events off, default "pass", and one rule for
-- the bench's flows (udp to port 53) that allocates at most RATE new flows a second
-- per source after a burst of BURST, and drops the rest at TC. With "drop" for RATE and
-- BURST, the same rule drops every flow, without a limit: the cost of the rest.
--
--   ctlua bench/lua/limit.lua IFNAME RATE|drop BURST|drop
--
-- Prints "ready" once attached; then, for each line on stdin, the counters the bench
-- checks, as "stats admitted N limited N alloc_ok N drops N"; it ends after a line
-- other than "stats" (bench_pkt_stop's "stop") or at the end of stdin.

local ifname, rate, burst = arg[1], tonumber(arg[2] or ""), math.tointeger(tonumber(arg[3] or ""))
local drop = arg[2] == "drop" and arg[3] == "drop"
if not ifname or not drop and (not rate or not burst) then
	io.stderr:write("usage: ctlua limit.lua IFNAME RATE BURST\n")
	os.exit(2)
end

assert(ct.mode("enforce"))
assert(ct.default("pass"))
assert(ct.events{})
if drop then
	assert(ct.rule{proto = "udp", dport = 53, action = "drop"})
else
	assert(ct.rule{proto = "udp", dport = 53, action = "alloc",
		limit = {rate = rate, burst = burst, per = "src", over = "drop"}})
end
local link <close> = assert(ct.attach(ifname))
io.write("ready\n")
io.stdout:flush()

repeat	-- not until the end of stdin: another helper may hold the FIFO open too
	local line = io.read("l")
	local l, s = assert(ct.limits())[1] or {admitted = 0, limited = 0}, assert(ct.stats())
	io.write(("stats admitted %d limited %d alloc_ok %d drops %d\n"):format(l.admitted,
		l.limited, s.alloc_ok, s.drops))
	io.stdout:flush()
until line ~= "stats"
