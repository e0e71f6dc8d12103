-- pkt_ready.lua - what the packet rows' ctlua contenders do once attached
-- (pkt_ctlua.lua, rules.lua, sets.lua): print "ready", wait for a line on stdin (or its
-- end), then print the ct.stats() counters the row checks, as "stats NAME VALUE ...".
--
--   dofile("bench/lua/pkt_ready.lua"){ "packets", "lookup_miss", ... }
--
-- The rows run ctlua from the top of the tree (bench/lib/bench.sh, bench_pkt_start).

return function(names)
	io.write("ready\n")
	io.stdout:flush()
	io.read("l")
	local s = assert(ct.stats())
	local out = { "stats" }
	for _, name in ipairs(names) do
		out[#out + 1] = name .. " " .. tostring(s[name])
	end
	io.write(table.concat(out, " "), "\n")
end
