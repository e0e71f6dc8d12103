#!tests/lib/ctlua-tap
-- 14-tap-lua.t - tests written in Lua run under prove: tap.lua's own checks, run by ctlua
-- through tests/lib/ctlua-tap. Needs no kernel.
local t = require "tap"

t.is(type(ct), "table", "ctlua gives tests the ct module")
t.is(1 + 1, 2, "is compares values")
t.like("bad argument #1", "^bad argument #%d", "like matches a Lua pattern")
t.raises("boom", error, "boom", 0)
t.raises_like("^bad argument #1 to 'ct%.tuple' %(table expected", ct.tuple)
t.done_testing()
