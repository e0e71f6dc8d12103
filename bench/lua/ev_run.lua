-- ev_run.lua - ctlua as the consumer of rows 4's traffic cases (bench/rows/40-events.sh),
-- the Lua side of ev_consumer's run and ack modes.
--
--   ctlua bench/lua/ev_run.lua IFNAME run|ack [on|off]
--
-- Attaches to IFNAME's ingress, turns miss events on (ct.events{"miss"}) or off
-- (ct.events{}), prints "ready" and stays in ct.run() until SIGTERM.
-- run: the callback counts (n = n + 1); at the end "handled N events E lost L".
-- ack: the callback writes the event's e.time and flushes, one line per event, for
--      ev_sender lone, which reads them from a FIFO.

local ifname, mode, events = arg[1], arg[2], arg[3] or "on"
if not ifname or (mode ~= "run" and mode ~= "ack") or (events ~= "on" and events ~= "off") then
	io.stderr:write("usage: ctlua ev_run.lua IFNAME run|ack [on|off]\n")
	os.exit(2)
end

local link <close> = assert(ct.attach(ifname))
assert(ct.events(events == "on" and { "miss" } or {}))
local n = 0
if mode == "ack" then
	local out = io.stdout
	ct.on("miss", function(e)
		out:write(string.format("%.7f\n", e.time))
		out:flush()
	end)
else
	ct.on("miss", function(e) n = n + 1 end)
end
print("ready")
io.stdout:flush()
ct.run()
if mode == "run" then
	local s = assert(ct.stats())
	print(string.format("handled %d events %d lost %d", n, s.events, s.events_lost))
end
