-- pkt_ctlua.lua - ctlua's contender in rows 2, 2c and 3 (bench/rows/20-*, 22-*, 30-*): the
-- TC (or XDP) program attached to one interface with ct.attach, in enforce mode, for as
-- long as the bench wants it.
--
--   ctlua bench/lua/pkt_ctlua.lua IFNAME DEFAULT EVENTS [HOOK [XDP_MODE]]
--
-- HOOK and XDP_MODE are ct.attach's hook and xdp_mode ("tc" and the default when absent).
-- DEFAULT is what a flow without an entry gets (ct.default: "alloc" in row 2, "pass"
-- in row 3). EVENTS "off" turns every event kind off (ct.events{}), "on" leaves all
-- four on, as ctlua starts. Prints "ready" once attached, then waits until the bench
-- writes a line to stdin or closes it, and prints the counters of ct.stats() the bench
-- checks, as "stats NAME VALUE ...".

local ifname, default, events, hook, mode = arg[1], arg[2], arg[3], arg[4], arg[5]
if not ifname or (events ~= "on" and events ~= "off") then
	io.stderr:write("usage: ctlua pkt_ctlua.lua IFNAME DEFAULT on|off\n")
	os.exit(2)
end

assert(ct.mode("enforce"))
assert(ct.default(default))
if events == "off" then
	assert(ct.events{})
end
local link <close> = assert(ct.attach(ifname, {hook = hook, xdp_mode = mode}))
dofile("bench/lua/pkt_ready.lua"){ "packets", "lookup_hit", "lookup_miss", "lookup_error", "alloc_ok",
	"alloc_error", "passes", "drops", "events", "events_lost" }
