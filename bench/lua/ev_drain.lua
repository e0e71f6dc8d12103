-- ev_drain.lua - row 4's drain case for ctlua (bench/rows/40-events.sh): events already
-- queued in the ring buffer, then consumed by a trivial Lua callback.
--
--   ctlua bench/lua/ev_drain.lua IFNAME COUNT CYCLES CMD
--
-- Attaches to IFNAME's ingress with miss events only, then CYCLES + 1 times: runs CMD
-- with the word PROGID replaced by the attached program's id (ev_sender fill: COUNT
-- test runs of that program, each one miss event, queued while Lua waits in
-- os.execute), collects the garbage, prints "begin C", calls ct.poll(0) until the
-- callback has seen COUNT events, prints "end C cpu_ns T" (os.clock around the same
-- calls). Each line is flushed, so build/bench/stamp can take the wall time between the
-- two. Cycle 0 is the warm-up: the first ct.poll opens the ring buffer.

local ifname, count, cycles, cmd = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4]
if not (ifname and count and cycles and cmd) then
	io.stderr:write("usage: ctlua ev_drain.lua IFNAME COUNT CYCLES CMD\n")
	os.exit(2)
end

local link <close> = assert(ct.attach(ifname))
assert(ct.events{ "miss" })
local n = 0
ct.on("miss", function(e) n = n + 1 end)

-- The program's id, as tc shows the filter ct.attach added (ctlua does not say it).
local tc <close> = assert(io.popen("tc filter show dev " .. ifname .. " ingress"))
local id = tc:read("a"):match(" id (%d+) ")
if not id then
	io.stderr:write("ev_drain.lua: no BPF filter on ", ifname, "'s ingress\n")
	os.exit(1)
end
cmd = cmd:gsub("PROGID", id)

for c = 0, cycles do
	if not os.execute(cmd) then
		io.stderr:write("ev_drain.lua: '", cmd, "' failed\n")
		os.exit(1)
	end
	collectgarbage()
	n = 0
	io.write("begin ", c, "\n")
	io.stdout:flush()
	local c0 = os.clock()
	while n < count do
		if assert(ct.poll(0)) == 0 then break end
	end
	local c1 = os.clock()
	io.write("end ", c, " cpu_ns ", string.format("%.0f", (c1 - c0) * 1e9), "\n")
	io.stdout:flush()
	if n ~= count then
		io.stderr:write(string.format("ev_drain.lua: cycle %d: %d events, expected %d\n", c, n, count))
		os.exit(1)
	end
end
