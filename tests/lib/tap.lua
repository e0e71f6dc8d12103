-- tap.lua - TAP for ctlua's tests written in Lua, the counterpart of tests/lib/tap.sh.
--
--   local t = require "tap"
--   t.is(ct.tuple{...}.sport, 40000, "sport reads back")
--   t.raises("bad argument #1 to 'ct.tuple' (table expected, got no value)", ct.tuple)
--   t.done_testing()
--
-- A test file is run by tests/lib/ctlua-tap (its #! line), which puts this folder on
-- package.path. The exit status is the number of failed tests, capped at 254.
local M = {}

local count, failed, planned = 0, 0, nil

local function show(v)
	return type(v) == "string" and string.format("%q", v) or tostring(v)
end

-- Lines of @text as TAP diagnostics, on stderr so they never mix with the plan.
function M.diag(text)
	for line in (tostring(text) .. "\n"):gmatch("(.-)\n") do
		io.stderr:write("# ", line, "\n")
	end
end

function M.plan(n)
	planned = n
	print("1.." .. n)
end

-- The whole file cannot run here. In CI (CI=true) that is a failure, as in tap.sh.
function M.skip_all(reason)
	if os.getenv("CI") == "true" then
		print("1..1")
		print("not ok 1 - cannot run: " .. reason)
		os.exit(1, true)
	end
	print("1..0 # SKIP " .. reason)
	os.exit(0, true)
end

function M.ok(cond, name)
	count = count + 1
	if cond then
		print(("ok %d - %s"):format(count, name))
		return true
	end
	failed = failed + 1
	print(("not ok %d - %s"):format(count, name))
	-- where the failed check is: the first caller outside this file
	local here, level = debug.getinfo(1, "S").source, 2
	local where = debug.getinfo(level, "Sl")
	while where and (where.source == here or where.what == "C") do
		level = level + 1
		where = debug.getinfo(level, "Sl")
	end
	where = where or { short_src = "?", currentline = 0 }
	M.diag(("  Failed test '%s'\n  at %s line %d."):format(name, where.short_src,
		where.currentline))
	return false
end

-- got == want (raw values compared with ==).
function M.is(got, want, name)
	if got == want then
		return M.ok(true, name)
	end
	M.ok(false, name)
	M.diag(("         got: %s\n    expected: %s"):format(show(got), show(want)))
	return false
end

-- @text matches the Lua pattern @pattern.
function M.like(text, pattern, name)
	if type(text) == "string" and text:find(pattern) then
		return M.ok(true, name)
	end
	M.ok(false, name)
	M.diag(("                  %s\n    doesn't match '%s'"):format(show(text), pattern))
	return false
end

-- f(...) must raise exactly the message @want. Named after the message unless @name.
function M.raises(want, f, ...)
	local okay, err = pcall(f, ...)
	local name = "raises " .. want
	if okay then
		M.ok(false, name)
		M.diag("    it returned without an error")
		return false
	end
	return M.is(err, want, name)
end

-- f(...) must raise a message that matches @pattern.
function M.raises_like(pattern, f, ...)
	local okay, err = pcall(f, ...)
	local name = "raises /" .. pattern .. "/"
	if okay then
		M.ok(false, name)
		M.diag("    it returned without an error")
		return false
	end
	return M.like(tostring(err), pattern, name)
end

-- Print the plan if none was given; exit with the number of failures (the Lua state
-- is closed, so ct takes off whatever it attached).
function M.done_testing()
	if not planned then
		print("1.." .. count)
	elseif planned ~= count then
		M.diag(("planned %d tests but ran %d"):format(planned, count))
		failed = failed + 1
	end
	os.exit(math.min(failed, 254), true)
end

return M
