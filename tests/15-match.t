#!tests/lib/ctlua-tap
-- 15-match.t - src/match.c, the step-counting string.find/match/gmatch/gsub: the same
-- results and error messages as Lua's own string library, compared over hand-picked and
-- generated patterns, and a pathological pattern stopped by the poll function. The
-- functions are put in place by build/matchtest.so (tests/lib/matchtest.c). No kernel.
local t = require "tap"

local function err_of(f, ...)
	local ok, e = pcall(f, ...)
	return ok and "no error" or e
end

local so = "build/matchtest.so"
local open, why = package.loadlib(so, "luaopen_matchtest")
if not open then
	-- a missing module is a broken build, not a reason to skip
	t.ok(false, "load " .. so .. ": " .. tostring(why))
	t.done_testing()
end
local m = open()
-- lstrlib's functions: not the global ones, which ctlua's sandbox may have replaced already
local orig = m.originals()
local meta = getmetatable("")
m.install()
local mine = {
	find = string.find, match = string.match, gmatch = string.gmatch, gsub = string.gsub,
}
t.ok(mine.find ~= orig.find and mine.gsub ~= orig.gsub, "install replaces the string functions")
t.is(getmetatable(""), meta, "originals() leaves the strings' metatable as it was")
-- the comparison is not of match.c with itself: only match.c polls
m.limit(0)
t.is(err_of(orig.find, ("a"):rep(30), ("a*"):rep(3) .. "b"), "no error", "lstrlib does not poll")
t.is(err_of(mine.find, ("a"):rep(30), ("a*"):rep(3) .. "b"), "match poll limit reached",
	"match.c polls")
m.limit()
t.is(("abc"):find("b", 1, true), 2, "methods on strings use them too")
t.ok(("x"):gsub("x", "y") and string.gsub == mine.gsub, "string.gsub is match.c's")

-- Every call goes through the same upvalue `fn` from the same line, so that argument
-- errors name the function and place the error alike for both implementations.
local fn
local function call(...)
	local r = table.pack(fn(...))
	return r
end

local function show(v)
	if type(v) == "string" then
		return string.format("%q", v)
	elseif math.type(v) then
		return math.type(v) .. " " .. tostring(v)
	end
	return type(v) == "table" and "table" or tostring(v)
end

-- One call of @f (a gmatch is iterated, up to 40 results) as a comparable string.
local function outcome(f, gmatch, ...)
	fn = f
	local ok, r = pcall(call, ...)
	if not ok then
		return "error " .. show(r)
	end
	local out = {}
	if gmatch then
		local iter = r[1]
		for _ = 1, 40 do
			fn = iter
			local iok, v = pcall(call)
			if not iok then
				out[#out + 1] = "error " .. show(v)
				break
			end
			if v.n == 0 or v[1] == nil then
				out[#out + 1] = "end"
				break
			end
			for i = 1, v.n do
				out[#out + 1] = show(v[i])
			end
			out[#out + 1] = ";"
		end
		return table.concat(out, " ")
	end
	for i = 1, r.n do
		out[#out + 1] = show(r[i])
	end
	return table.concat(out, " ")
end

local function arglist(args)
	local out = {}
	for i = 1, args.n do
		out[i] = show(args[i])
	end
	return table.concat(out, ", ")
end

-- Compare match.c with the original on one call. Returns true if both agree, or
-- "skip" when match.c hit the poll limit (then the original might run for minutes).
local POLL_LIMIT = 40
local checked, skipped, differences = 0, 0, 0
local function same(name, ...)
	local args = table.pack(...)
	m.limit(POLL_LIMIT)
	local got = outcome(mine[name], name == "gmatch", ...)
	if got:find("match poll limit reached", 1, true) then
		m.limit()
		skipped = skipped + 1
		return "skip"
	end
	m.limit()
	local want = outcome(orig[name], name == "gmatch", ...)
	checked = checked + 1
	if got == want then
		return true
	end
	differences = differences + 1
	if differences <= 10 then
		t.diag(("string.%s(%s)\n     match.c: %s\n      lstrlib: %s"):format(name,
			arglist(args), got, want))
	end
	return false
end

-- Hand-picked cases: each feature of the manual's §6.4.1 and each error message.
local repl_table = { a = "A", b = false, ab = 7, x = {}, [1] = "one", [3] = "three" }
local function repl_func(a, b)
	if a == "x" then
		return {}
	elseif b then
		return b
	elseif a == "b" then
		return false
	end
	return a
end
local cases = {
	{ "find", "hello world", "o w" }, { "find", "hello world", "o", 6 },
	{ "find", "hello", "l", -2 }, { "find", "hello", "l", -100 }, { "find", "hello", "", 6 },
	{ "find", "hello", "", 7 }, { "find", "hello", "", 0 }, { "find", "a.b", ".", 1, true },
	{ "find", "a+b", "+", 1, true }, { "find", "a+b", "a+", 1, false },
	{ "find", ("ab"):rep(30) .. "c", ("ab"):rep(20) .. "c" }, { "find", ("ab"):rep(30), ("ab"):rep(20) },
	{ "find", ("ab"):rep(30), ("ab"):rep(20), 22 }, { "find", ("ab"):rep(30), ("ab"):rep(20), 23 },
	{ "find", ("ab"):rep(10), ("ab"):rep(20) }, { "find", "abc", "abc" }, { "find", "abc", "abcd" },
	{ "find", "abcabd", "abd" }, { "find", "aab", "ab", -2 }, { "find", "aab", "ab", -1 },
	{ "find", "a\0b\0c", "\0c" }, { "find", "a\0b\0c", "%z" }, { "find", "a\0b", "[\0]" },
	{ "find", "abc", "^b" }, { "find", "abc", "^a" }, { "find", "abc", "c$" }, { "find", "a$c", "$c" },
	{ "find", "x = 12.5", "(%d+)%.(%d+)" }, { "find", "x = 12.5", "^(%d+)%.(%d+)" },
	{ "match", "key = value", "(%w+)%s*=%s*(%w+)" }, { "match", "hello", "()ll()" },
	{ "match", "THE (quick) fox", "%((%a+)%)" }, { "match", "f(a(b)c)d", "%b()" },
	{ "match", "THE (quick) fox", "%f[%a]%a+" }, { "match", "THE (quick) fox", "%f[%l]%a+" },
	{ "match", "hello", "(l)%1" }, { "match", "abab", "(ab)%1" }, { "match", "aaa", "a-b" },
	{ "match", "aaab", "a-b" }, { "match", "aaab", "^a*" }, { "match", "aaab", "a+?" },
	{ "match", "[]", "[]]" }, { "match", "a-z", "[a-]+" }, { "match", "x]", "[^]]" },
	{ "match", "%a", "%%a" }, { "match", "1a", "[%d%a]+" }, { "match", "\1\2 ", "%c+" },
	{ "match", "AbC", "%u%l%u" }, { "match", "a,b", "%p" }, { "match", "ff0G", "%x+" },
	{ "match", "ab", "%W*" }, { "match", "ab", "" }, { "match", "", ".-" },
	{ "match", "()", "(()" }, { "match", "a", "(a" }, { "match", "a", "a)" },
	{ "match", "a", "%" }, { "match", "a", "[a" }, { "match", "a", "[^" }, { "match", "a", "[%" },
	{ "match", "a", "%f" }, { "match", "a", "%fa" }, { "match", "a", "%b" }, { "match", "a", "%ba" },
	{ "match", "a", "%1" }, { "match", "a", "%0" }, { "match", "a", "(a)%2" },
	{ "match", "a", "()%1" }, { "match", ("a"):rep(300), ("a?"):rep(300) },
	{ "match", "a", ("()"):rep(33) }, { "match", "a", ("()"):rep(32) },
	{ "match", nil, "a" }, { "match", "a", nil }, { "match", "a", "a", "x" },
	{ "match", 123, 2 }, { "find", "a", "a", 1.5 },
	{ "gmatch", "one two  three", "%a+" }, { "gmatch", "k=v, a=b", "(%w+)=(%w+)" },
	{ "gmatch", "abc", "" }, { "gmatch", "abc", "^a" }, { "gmatch", "hello world", "o", 6 },
	{ "gmatch", "hello", ".", -2 }, { "gmatch", "hello", ".", 10 }, { "gmatch", "a", "(" },
	{ "gmatch", "aXbX", "()X" }, { "gmatch", "abc", "%f" },
	{ "gsub", "hello world", "o", "0" }, { "gsub", "hello world", "(o)", "[%1%1]" },
	{ "gsub", "hello world", "%w+", "%0 %0", 1 }, { "gsub", "abc", "", "-" },
	{ "gsub", "abc", "^", "-" }, { "gsub", "abc", "$", "-" }, { "gsub", "abc", "b*", "-" },
	{ "gsub", "abc", "%w", "%%" }, { "gsub", "abc", "%w", "%" }, { "gsub", "abc", "%w", "%x" },
	{ "gsub", "abc", "%w", "%1" }, { "gsub", "abc", "%w", "%2" }, { "gsub", "abc", "(%w)", "%2" },
	{ "gsub", "abc", "()%w", "%1" }, { "gsub", "abc", "(%w", "x%1" }, { "gsub", "abc", "(%w", "x" },
	{ "gsub", "abc", "%w", 5 }, { "gsub", "abc", "%w", 2.5 }, { "gsub", "abc", "%w" },
	{ "gsub", "abc", "%w", true }, { "gsub", "abc", "%w", "x", -1 }, { "gsub", "abc", "%w", "x", "2" },
	{ "gsub", "abc", "%w", "x", "y" }, { "gsub", "abc", "%w", "x", 2.5 },
	{ "gsub", "abxab", "%w+", repl_table }, { "gsub", "abc", "%w", repl_table },
	{ "gsub", "a b x", "%w", repl_table }, { "gsub", "abc", "()", repl_table },
	{ "gsub", "abc", "%w", repl_func }, { "gsub", "a=b x", "(%w)=(%w)", repl_func },
	{ "gsub", "a x", "%w", repl_func }, { "gsub", "abc", "()(%w)", repl_func },
	{ "gsub", "a\0b", "%z", "<%0>" }, { "gsub", "a\0b", "\0", "%%\0" },
	{ "gsub", "hello", "l+", function() error("inside") end },
}
local agreed = 0
for _, c in ipairs(cases) do
	if same(c[1], table.unpack(c, 2, 5)) == true then
		agreed = agreed + 1
	end
end
t.is(agreed, #cases, "all " .. #cases .. " hand-picked calls agree with lstrlib")

-- Error messages, written out, so a message that both got wrong would show.
t.is(err_of(string.find, "a", "a%"), "malformed pattern (ends with '%')", "ends with %")
t.is(err_of(string.find, "a", "[a"), "malformed pattern (missing ']')", "missing ]")
t.is(err_of(string.find, "a", "%fa"), "missing '[' after '%f' in pattern", "%f without [")
t.is(err_of(string.find, "a", "%b("), "malformed pattern (missing arguments to '%b')",
	"%b without its two bytes")
t.is(err_of(string.find, "a", "a)"), "no error", "')' alone in a plain-looking pattern is text")
t.is(err_of(string.match, "a", "a)"), "invalid pattern capture", "')' without '('")
t.is(err_of(string.match, "a", "(a)%2"), "invalid capture index %2", "back-reference too high")
t.is(err_of(string.match, "a", "(a"), "unfinished capture", "capture never closed")
t.is(err_of(string.match, "a", ("()"):rep(33)), "too many captures", "33 captures")
t.is(err_of(string.match, ("a"):rep(300), ("a?"):rep(300)), "pattern too complex",
	"nesting deeper than 200")
t.is(err_of(string.gsub, "abc", "(%w)", "%2"), "invalid capture index %2",
	"replacement names a missing capture")
t.is(err_of(string.gsub, "abc", "%w", "%"), "invalid use of '%' in replacement string",
	"replacement ends with %")
t.is(err_of(string.gsub, "abc", "%w", { a = {} }), "invalid replacement value (a table)",
	"table answers a table")
t.is(err_of(string.gsub, "abc", "%w"),
	"bad argument #3 to 'string.gsub' (string/function/table expected, got no value)",
	"gsub without repl")

-- Generated patterns: random items from the whole pattern alphabet, malformed ones
-- included, against random subjects, through every function and argument form.
local items = {
	"a", "b", "c", ".", "%a", "%d", "%s", "%w", "%p", "%l", "%u", "%c", "%g", "%x", "%z",
	"%A", "%D", "%S", "%W", "%P", "%%", "%.", "%]", "%-", "(", ")", "()", "%1", "%2", "%0",
	"[ab]", "[^a]", "[a-c]", "[%d%s]", "[]]", "[^]]", "[a-]", "[%a-]", "[b-a]", "[\0-\31]",
	"%b()", "%bab", "%f[%w]", "%f[^a]", "%f[%z]", "$", "^", "\0", "-", "%", "[", "[a", "%f",
	"%b", "%ba", "%fa", "[%", "[^",
}
local quants = { "", "", "", "*", "+", "-", "?" }
local chars = { "a", "a", "b", "c", "(", ")", " ", "1", ".", "%", "\0", "]", "-", "A", "\200" }
local repls = {
	"x", "%0", "%1", "%2", "<%1>", "%%", "%", "%x", "", 5, repl_table, repl_func,
}
local inits = { nil, 1, 2, -1, -3, 0, 100, -100 }

local function random_pattern()
	local out = {}
	if math.random(4) == 1 then
		out[1] = "^"
	end
	for _ = 1, math.random(0, 6) do
		out[#out + 1] = items[math.random(#items)] .. quants[math.random(#quants)]
	end
	if math.random(5) == 1 then
		out[#out + 1] = "$"
	end
	return table.concat(out)
end

local function random_subject()
	local out = {}
	for i = 1, math.random(0, 12) do
		out[i] = chars[math.random(#chars)]
	end
	return table.concat(out)
end

math.randomseed(15)
local gen_ok, gen_total = 0, 0
for _ = 1, 3000 do
	local p, s = random_pattern(), random_subject()
	local init = inits[math.random(#inits)]
	local calls = {
		{ "find", s, p, init }, { "find", s, p, init, true }, { "match", s, p, init },
		{ "gmatch", s, p, init },
		{ "gsub", s, p, repls[math.random(#repls)] },
		{ "gsub", s, p, repls[math.random(#repls)], math.random(-1, 3) },
	}
	for _, c in ipairs(calls) do
		gen_total = gen_total + 1
		if same(table.unpack(c, 1, 5)) then
			gen_ok = gen_ok + 1
		end
	end
end
t.is(gen_ok, gen_total, gen_total .. " calls with generated patterns agree with lstrlib")
t.diag(("%d calls compared, %d stopped by the poll limit (not compared)"):format(checked,
	skipped))
t.ok(skipped < checked / 100, "few generated calls reach the poll limit")

-- Pathological patterns: the poll function stops them, promptly, and the state is fine.
-- os.clock() is this process's CPU time, so a loaded machine does not make it fail;
-- lstrlib takes minutes on the first one.
local function stops(what, f, ...)
	m.limit(20)
	local t0 = os.clock()
	local ok, err = pcall(f, ...)
	local took = os.clock() - t0
	local polls = m.polls()
	m.limit()
	t.is(ok and "no error" or err, "match poll limit reached", what .. " is stopped")
	t.is(polls, 21, what .. ": by the 21st poll")
	t.ok(took < 0.5, what .. ": within 0.5 s of CPU (took " .. took .. " s)")
end
stops("find of (a*)^40 b", string.find, ("a"):rep(40), ("a*"):rep(40) .. "b")
stops("match of (.-)^20 x", string.match, ("ab"):rep(30), (".-"):rep(20) .. "x")
stops("gsub of (.-)^20 x", string.gsub, ("ab"):rep(30), (".-"):rep(20) .. "x", "")
stops("gmatch of (a?)^30 b", function(s, p)
	for _ in string.gmatch(s, p) do
	end
end, ("a"):rep(30), ("a?"):rep(30) .. "b")
stops("%b over 4 MB", string.find, ("("):rep(1 << 22), "%b()")
stops("back-references", string.find, ("a"):rep(200000), "(.*)%1b")
stops("a long pattern without repetitions", string.find, ("a"):rep(200000),
	("a"):rep(100000) .. "b.")
stops("a long set", string.find, ("b"):rep(100000), "[" .. ("c"):rep(100000) .. "]")
stops("a long frontier set", string.find, ("b"):rep(100000), "%f[" .. ("c"):rep(100000) .. "]")
-- A plain search is linear: lstrlib compares the whole needle at each candidate.
local t0 = os.clock()
t.is(string.find(("a"):rep(1 << 20), ("a"):rep(1 << 19) .. "b", 1, true), nil,
	"plain search for a 512 kB needle in 1 MB")
t.ok(os.clock() - t0 < 0.5, "plain search is linear (took " .. os.clock() - t0 .. " s of CPU)")

local co = coroutine.wrap(function()
	return string.find(("a"):rep(40), ("a*"):rep(40) .. "b")
end)
m.limit(5)
t.is(err_of(co), "match poll limit reached", "a match in a coroutine is stopped too")
m.limit()

t.is(select(3, string.find("key = 42", "(%w+) = (%d+)")), "key", "find works afterwards")
t.is(select(2, string.gsub(("ab"):rep(1000), "b", "c")), 1000, "gsub works afterwards")
m.limit(0)
t.is(string.find(("a"):rep(4000), "%d"), nil, "a short match never polls")
t.is(m.polls(), 0, "no poll for 4000 steps")
m.limit()

-- Large subjects run through the same code as small ones: compare a few.
local big = ("the quick brown fox 12.5 (jumps) "):rep(3000)
for _, p in ipairs({ "%a+", "(%d+)%.(%d+)", "%b()", "%f[%w]%w+", "o.-x", "(%w+) (%w+)" }) do
	same("gsub", big, p, "<%0>")
	same("match", big, p .. "$")
end
t.is(differences, 0, "large subjects agree with lstrlib")

t.done_testing()
