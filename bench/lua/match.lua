-- match.lua - src/match.c's pattern functions against Lua's own string library: CPU time
-- of each, best of 4 rounds, and the ratio (match.c / lstrlib). Not a row of bench/run;
-- from the top of the tree after make: build/ctlua bench/lua/match.lua
local m = package.loadlib("build/matchtest.so", "luaopen_matchtest")()
local orig = { find = string.find, match = string.match, gmatch = string.gmatch, gsub = string.gsub }
m.install()
local mine = { find = string.find, match = string.match, gmatch = string.gmatch, gsub = string.gsub }
local big = ("the quick brown fox 12.5 (jumps) over\n"):rep(27000) -- ~1 MB
local benches = {
	{ "1e6 find ^(%d+)%.(%d+)", function(x) local f = x.find local s = "12.345 rest" for _ = 1, 1e6 do f(s, "^(%d+)%.(%d+)") end end },
	{ "1e6 find plain-ish 'fox'", function(x) local f = x.find for _ = 1, 1e6 do f("the quick brown fox", "fox") end end },
	{ "1e6 match (%w+)=(%w+)", function(x) local f = x.match for _ = 1, 1e6 do f("  key=value", "(%w+)=(%w+)") end end },
	{ "gsub 1MB %w+ -> <%0>", function(x) x.gsub(big, "%w+", "<%0>") end },
	{ "gsub 1MB 'o' -> '0'", function(x) x.gsub(big, "o", "0") end },
	{ "gsub 1MB %s+ -> ' '", function(x) x.gsub(big, "%s+", " ") end },
	{ "gmatch 1MB %a+", function(x) for _ in x.gmatch(big, "%a+") do end end },
	{ "gmatch 1MB lines (.-)\\n", function(x) for _ in x.gmatch(big, "(.-)\n") do end end },
	{ "5x gsub 1MB %b() -> ''", function(x) for _ = 1, 5 do x.gsub(big, "%b()", "") end end },
	{ "5x gsub 1MB [%w_]+ -> x", function(x) for _ = 1, 5 do x.gsub(big, "[%w_]+", "x") end end },
	{ "5x gmatch 1MB [^%s]+", function(x) for _ = 1, 5 do for _ in x.gmatch(big, "[^%s]+") do end end end },
	{ "gsub 1MB %f[%a]%a+ fn", function(x) x.gsub(big, "%f[%a](%a+)", function(w) return nil end) end },
	{ "20x match 1MB ^.*%d$", function(x) for _ = 1, 20 do x.match(big, "^.*%d$") end end },
}
for _, b in ipairs(benches) do
	local best = { orig = math.huge, mine = math.huge }
	for round = 1, 4 do	-- each goes first in half the rounds: order matters to the GC
		for _, which in ipairs(round % 2 == 1 and { "orig", "mine" } or { "mine", "orig" }) do
			collectgarbage()
			local t0 = os.clock()
			b[2](which == "orig" and orig or mine)
			local dt = os.clock() - t0
			if dt < best[which] then best[which] = dt end
		end
	end
	print(("%-30s lstrlib %7.3f s  match.c %7.3f s  ratio %.2f"):format(b[1], best.orig, best.mine, best.mine / best.orig))
end
