-- ev_first.lua - ctlua in row 5 (bench/rows/50-first-packet.sh): every new flow's first
-- packet is a miss, and the callback answers "alloc", which becomes the flow's verdict
-- (and, in enforce mode, creates its conntrack entry at once).
--
--   ctlua bench/lua/ev_first.lua IFNAME
--
-- Attaches to IFNAME's ingress with miss events only, prints "ready", stays in ct.run()
-- until SIGTERM. The callback keeps each event's source port and e.time; at the end
-- they are printed, one "sport time" line per event, so the bench can split each
-- flow's latency at the moment the TC program emitted its event.

local ifname = arg[1]
if not ifname then
	io.stderr:write("usage: ctlua ev_first.lua IFNAME\n")
	os.exit(2)
end

local link <close> = assert(ct.attach(ifname))
assert(ct.events{ "miss" })
local sports, times, n = {}, {}, 0
ct.on("miss", function(e)
	n = n + 1
	sports[n], times[n] = e.sport, e.time
	return "alloc"
end)
print("ready")
io.stdout:flush()
ct.run()
for i = 1, n do
	io.write(sports[i], " ", string.format("%.7f", times[i]), "\n")
end
