#!tests/lib/ctlua-tap
-- 51-sandbox-lua.t - the guard rails that need no kernel: text-only loading, the
-- replaced pcall/coroutine/table/string functions behave as Lua's outside callbacks,
-- string.rep's bounds, ct.memory_limit and the allocator's hard cap.
-- (Callbacks under their budget: tests/50-sandbox.t, with real events.)
local t = require "tap"

local REFUSED = "precompiled (binary) chunk refused: ctlua loads Lua source only "
	.. "(ctlua --allow-bytecode allows it)"
local tmp = os.tmpname()
local ctlua = os.getenv("CTLUA") or "build/ctlua"

-- Run ctlua with @args; its exit status and what it printed (stdout and stderr).
local function run(args)
	local p = io.popen(ctlua .. " " .. args .. " 2>&1")
	local out = p:read("a")
	local _, _, rc = p:close()
	return rc, out
end

-- --- text only ------------------------------------------------------------------------

local bytecode = string.dump(function() return 42 end)
local f, err = load(bytecode)
t.is(f, nil, "load(string.dump(f)) is refused")
t.is(err, REFUSED, "... with a message that says why and what allows it")
f, err = load(bytecode, "=dumped", "b")
t.is(err, REFUSED, "also when the mode asks for binary chunks")
t.is(load("return 6 * 7")(), 42, "load of source still works")
t.is(load("return ...", "=x", "t")(5), 5, "with mode 't' too")

local fh = assert(io.open(tmp, "wb"))
fh:write(bytecode)
fh:close()
f, err = loadfile(tmp)
t.is(err, tmp .. ": " .. REFUSED, "loadfile of a precompiled file is refused, naming it")
t.raises(tmp .. ": " .. REFUSED, dofile, tmp)

local dir = tmp:match("^(.*)/")
local mod = tmp:match("([^/]*)$")
package.path = dir .. "/?"
f, err = pcall(require, mod)
t.is(err, ("error loading module '%s' from file '%s':\n\t%s: %s"):format(mod, tmp, tmp, REFUSED),
	"require of a precompiled Lua module is refused")

local rc, out = run(tmp)
t.is(rc, 1, "ctlua refuses to run a precompiled script (exit 1)")
t.is(out, "ctlua: " .. tmp .. ": " .. REFUSED .. "\n", "... saying so")
rc, out = run("- <" .. tmp)
t.is(out, "ctlua: stdin: " .. REFUSED .. "\n", "the same for a script on stdin")
rc, out = run("--allow-bytecode " .. tmp)
t.is(rc, 0, "--allow-bytecode runs it")
rc, out = run("--allow-bytecode -e 'print(load(string.dump(function() return 7 end))())'")
t.is(out, "7\n", "--allow-bytecode lets load take bytecode")
os.remove(tmp)

-- --- the replaced functions work as Lua's outside callbacks ------------------------------

t.is(select("#", pcall(error)), 2, "pcall(error) returns false, nil")
t.is(select(2, pcall(error, "x", 0)), "x", "pcall returns the error")
t.is(select(2, xpcall(error, function(m) return "H:" .. m end, "y", 0)), "H:y",
	"xpcall calls the handler")
t.raises("bad argument #1 to 'pcall' (value expected)", pcall)
t.raises("bad argument #2 to 'xpcall' (function expected, got no value)", xpcall, print)
local gen = coroutine.wrap(function()
	local ok, v = pcall(function() return coroutine.yield(1) + 1 end)
	return ok, v
end)
t.is(gen(), 1, "a coroutine yields across the new pcall")
t.is(select(2, gen(41)), 42, "... and resumes inside it")
local co = coroutine.create(function(a) return a * 2 end)
t.is(select(2, coroutine.resume(co, 21)), 42, "coroutine.resume")
t.is(select(2, coroutine.resume(co)), "cannot resume dead coroutine", "... dead")
t.raises("bad argument #1 to 'coroutine.resume' (coroutine expected, got no value)",
	coroutine.resume)
local w = coroutine.wrap(function() error("in wrap") end)
t.like(select(2, pcall(w)), "51%-sandbox%-lua%.t:%d+: in wrap$", "coroutine.wrap raises")
t.is(select(2, pcall(w)), "cannot resume dead coroutine", "... and is dead after")
t.is(coroutine.close(coroutine.create(print)), true, "coroutine.close")
t.raises_like("^tests/51%-sandbox%-lua%.t:%d+: cannot close a running coroutine$", function()
	local c
	c = coroutine.create(function() return coroutine.close(c) end)
	local ok, e = coroutine.resume(c)
	error(e, 0)
end)
t.is(debug.sethook(function() end, "", 1000), nil, "debug.sethook works outside callbacks")
t.is(debug.gethook() ~= nil, true, "... and sets the hook")
debug.sethook()
t.is(debug.gethook(), nil, "... and removes it")

local l = { 1, 2, 3 }
table.insert(l, 1, 0)
table.insert(l, 4)
t.is(table.concat(l, " "), "0 1 2 3 4", "table.insert")
t.is(table.remove(l, 1), 0, "table.remove(t, 1)")
t.is(table.remove(l), 4, "table.remove(t)")
t.is(table.concat(l, " "), "1 2 3", "... leaves the rest")
t.is(table.remove({}), nil, "table.remove of an empty table")
local here = "tests/51-sandbox-lua.t:" .. debug.getinfo(1, "l").currentline + 1 .. ": "
t.raises(here .. "bad argument #2 to 'insert' (position out of bounds)", function() table.insert({}, 5, 1) end)
here = "tests/51-sandbox-lua.t:" .. debug.getinfo(1, "l").currentline + 1 .. ": "
t.raises(here .. "wrong number of arguments to 'insert'", function() table.insert({}, 1, 2, 3) end)
here = "tests/51-sandbox-lua.t:" .. debug.getinfo(1, "l").currentline + 1 .. ": "
t.raises(here .. "bad argument #1 to 'insert' (table expected, got nil)", function() table.insert(nil, 1) end)
t.raises("bad argument #2 to 'table.remove' (position out of bounds)", table.remove, {}, 3)
local s = { 5, 3, 1, 4 }
table.sort(s)
t.is(table.concat(s, " "), "1 3 4 5", "table.sort")
table.sort(s, function(a, b) return a > b end)
t.is(table.concat(s, " "), "5 4 3 1", "table.sort with a comparison")
t.raises("attempt to compare string with number", table.sort, { 1, "x" })
local seven = {}
for i = 1, 100 do seven[i] = i % 7 end
here = "tests/51-sandbox-lua.t:" .. debug.getinfo(1, "l").currentline + 1 .. ": "
t.raises(here .. "invalid order function for sorting", function() table.sort(seven, function() return true end) end)
t.raises("bad argument #2 to 'table.sort' (function expected, got number)", table.sort, { 2, 1 }, 3)
t.is(table.sort({}, 3), nil, "table.sort of less than two elements checks nothing more, as Lua's")
t.is(table.concat(table.move({ 1, 2, 3, 4, 5 }, 2, 4, 1), " "), "2 3 4 4 5", "table.move down")
t.is(table.concat(table.move({ 1, 2, 3, 4, 5 }, 1, 3, 3), " "), "1 2 1 2 3", "table.move up (overlap)")
t.is(table.concat(table.move({ 1, 2 }, 1, 2, 1, {}), " "), "1 2", "table.move to another table")
t.raises("bad argument #4 to 'table.move' (destination wrap around)", table.move, {}, 1, 10,
	math.maxinteger)

-- --- string.rep -------------------------------------------------------------------------

local t0 = os.clock()
t.is(string.rep("", 1e12), "", "string.rep('', 1e12) is empty")
t.is(string.rep("", 1e12, ""), "", "... also with an empty separator")
t.ok(os.clock() - t0 < 0.5, "... at once, without a loop of 1e12 rounds")
t.is(string.rep("ab", 3), "ababab", "string.rep")
t.is(string.rep("ab", 3, ","), "ab,ab,ab", "string.rep with a separator")
t.is(string.rep("", 3, ","), ",,", "string.rep of an empty string with a separator")
t.is(string.rep("x", 0), "", "string.rep 0 times")
t.is(string.rep("abc", 1000), ("abc"):rep(500) .. ("abc"):rep(500), "string.rep built by doubling")
t.is(#string.rep("abc", 1001, "-"), 1001 * 4 - 1, "... of an odd count")
t.raises("string.rep: a result of 1099511627776 bytes would pass the memory limit of 1 GiB",
	string.rep, "x", 2 ^ 40)

-- --- the memory limit -------------------------------------------------------------------

local limit, used = ct.memory_limit()
t.ok(limit >= 2 ^ 20 and used > 0 and used < limit, "ct.memory_limit() -> limit, used")
t.is(ct.memory_limit("64M"), 64 * 2 ^ 20, "ct.memory_limit('64M') sets it")
t.is(ct.memory_limit(2 ^ 26), 2 ^ 26, "... an integer is bytes")
t.raises("bad argument #1 to 'ct.memory_limit' (a size of at least 1M is expected)",
	ct.memory_limit, 1000)
t.raises("bad argument #1 to 'ct.memory_limit' (expected a size like 512M (bytes, or K, M, G))",
	ct.memory_limit, "1T")
local ok, e = pcall(function()
	local big = {}
	for i = 1, 1e8 do big[i] = { i } end
end)
t.is(e, "not enough memory", "past the hard cap, an allocation fails with Lua's error")
collectgarbage()
t.ok(select(2, ct.memory_limit()) < 2 ^ 26, "... and the memory comes back")
t.is(#string.rep("y", 2 ^ 20), 2 ^ 20, "the state goes on working")
ct.memory_limit(limit)

-- ct.so in stock lua5.4 sets the same guard rails up when it is loaded.
local lua = io.popen("command -v lua5.4"):read("l")
if lua then
	-- the ct.so under test: the sanitizer pass names its own in CT_SO
	local cpath = (os.getenv("CT_SO") or "build/ct.so"):gsub("[^/]*$", "?.so")
	local p = io.popen(lua .. [[ -e 'package.cpath = "]] .. cpath .. [["; local ct = require "ct"
		print(select(2, load(string.dump(function() end))))
		print(ct.memory_limit("16M"), select(2, pcall(string.rep, "x", 2^40)))' 2>&1]])
	t.is(p:read("a"), REFUSED .. "\n" .. "16777216\tstring.rep: a result of 1099511627776 "
		.. "bytes would pass the memory limit of 16 MiB\n", "ct.so: text only, and the memory limit")
	p:close()
else
	t.ok(true, "# SKIP lua5.4 is not installed")
end

-- 1 M verdict-building rounds fit in the default limit.
rc, out = run("-e 'local n = 0 for i = 1, 1e6 do local a, o = \"alloc\", "
	.. "{timeout = 1000, mark = i, status = {\"assured\"}} n = n + o.mark % 2 end print(n)'")
t.is(out, "500000\n", "a million answer tables are built under the default limit")
rc, out = run("--memory-limit 10x -e 1")
t.is(out, "ctlua: --memory-limit '10x': expected a size like 512M (bytes, or K, M, G)\n",
	"--memory-limit checks its size")
t.is(rc, 2, "... exit 2")

t.done_testing()
