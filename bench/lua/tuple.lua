-- tuple.lua - what building one tuple costs in Lua (bench/rows/10-batch-insert.sh's
-- notes): ct.tuple from a prebuilt table, from a string, and the table constructor
-- alone, in ns per call, each the best of five runs of N calls.
--
--   ctlua bench/lua/tuple.lua [N]

local N = tonumber(arg and arg[1]) or 200000
local clock = os.clock

local function best(f)
	local b = math.huge
	for _ = 1, 5 do
		local t0 = clock()
		f()
		local t = clock() - t0
		if t < b then b = t end
	end
	return b / N * 1e9
end

local tab = { src = "198.18.0.1", dst = "198.19.0.1", sport = 10000, dport = 53, proto = "udp" }
local str = "udp 198.18.0.1:10000 -> 198.19.0.1:53"
local str6 = "udp [2001:db8::1]:10000 -> [2001:db8::2]:53"
local tuple = ct.tuple

assert(tuple(str) == tuple(tab))
local r = {
	{ "ct.tuple(table)", best(function() for _ = 1, N do tuple(tab) end end) },
	{ "ct.tuple(string)", best(function() for _ = 1, N do tuple(str) end end) },
	{ "ct.tuple(string, IPv6)", best(function() for _ = 1, N do tuple(str6) end end) },
	{ "table constructor alone", best(function()
		for i = 1, N do
			local _ = { src = "198.18.0.1", dst = "198.19.0.1", sport = i, dport = 53,
				    proto = "udp" }
		end
	end) },
	{ "empty loop", best(function() for _ = 1, N do end end) },
}
for _, v in ipairs(r) do
	io.write(string.format("%-26s %6.0f ns\n", v[1], v[2]))
end
