-- keys.lua - a table of per-key state with a cap on its size, that forgets keys idle for a
-- period: what ctlua.limit and ctlua.window keep per source. Their owners choose the
-- period so that a key idle that long is back to its fresh state (a full bucket, a count
-- of 0): forgetting it changes no answer.
--
-- Two generations: keys touched since the last turn, and those touched in the turn
-- before. A turn comes at the first use a period after the last one; it drops the older
-- generation wholesale (idle at least a period), so no use ever scans the table.
local M = {}

local Keys = {}
Keys.__index = Keys

-- A store whose keys are forgotten once idle @period seconds; at most @max keys.
function M.new(period, max)
	return setmetatable({ period = period, max = max, cur = {}, prev = {}, ncur = 0,
		nprev = 0, turned = nil }, Keys)
end

-- Forget what was idle a period or more at @now (called before every use).
function Keys:age(now)
	local turned = self.turned
	if turned == nil or now < turned then	-- the first use, or a clock set back
		self.turned = now
		return
	end
	if now - turned < self.period then
		return
	end
	-- a key last used at a was used when a - turned < period: idle >= now - a > period
	if now - turned >= 2 * self.period then
		self.prev, self.nprev = {}, 0
	else
		self.prev, self.nprev = self.cur, self.ncur
	end
	self.cur, self.ncur = {}, 0
	self.turned = now
end

-- The value of @key, or nil; a key found in the older generation moves to the new one.
function Keys:get(key)
	local v = self.cur[key]
	if v ~= nil then
		return v
	end
	v = self.prev[key]
	if v ~= nil then
		self.prev[key], self.nprev = nil, self.nprev - 1
		self.cur[key], self.ncur = v, self.ncur + 1
	end
	return v
end

-- Set @key to @v (not nil). Returns false, changing nothing, when @key is new and the
-- store holds its maximum.
function Keys:put(key, v)
	if self.cur[key] == nil then
		if self:get(key) == nil then
			if self.ncur + self.nprev >= self.max then
				return false
			end
			self.ncur = self.ncur + 1
		end
	end
	self.cur[key] = v
	return true
end

-- How many keys are held (some may be idle past the period, not yet dropped).
function Keys:count()
	return self.ncur + self.nprev
end

-- Forget @key, or every key without one.
function Keys:forget(key)
	if key == nil then
		self.cur, self.prev, self.ncur, self.nprev = {}, {}, 0, 0
		return
	end
	if self.cur[key] ~= nil then
		self.cur[key], self.ncur = nil, self.ncur - 1
	elseif self.prev[key] ~= nil then
		self.prev[key], self.nprev = nil, self.nprev - 1
	end
end

-- Give @class (whose objects keep their keys in self.store) the methods :keys(), how
-- many keys are held, and :reset([key]), which forgets one key or all.
function M.methods(class)
	function class:keys()
		return self.store:count()
	end
	function class:reset(key)
		self.store:forget(key)
	end
end

-- The arguments (self, key [, now]) of @fname, a method of @class (@what names its
-- objects); @narg is the position of now. Returns now, from self.clock when nil. For a
-- helper of the method: errors point at the method's caller.
function M.check_use(self, class, what, fname, key, now, narg)
	if getmetatable(self) ~= class then
		error(("calling '%s' on bad self (%s expected, got %s)"):format(fname, what,
			type(self)), 4)
	end
	if key == nil or key ~= key then
		M.argerror(1, fname, ("key expected, got %s"):format(M.show(key)), 3)
	end
	if now == nil then
		return self.clock()
	end
	if type(now) ~= "number" or now ~= now then
		M.argerror(narg, fname, ("number expected, got %s"):format(
			type(now) == "number" and "nan" or type(now)), 3)
	end
	return now
end

-- The clock the policy helpers use when given none: ct.now (ctlua's, or ct.so's).
function M.now()
	local ct = package.loaded.ct or require "ct"
	M.now = ct.now
	return ct.now()
end

-- Raise "bad argument #@arg to '@fname' (@msg)" at the code that called the function
-- @level frames up (1: the function that calls argerror).
function M.argerror(arg, fname, msg, level)
	error(("bad argument #%d to '%s' (%s)"):format(arg, fname, msg), (level or 1) + 2)
end

-- A value as a message shows it: nan as "nan", whatever its sign bit.
function M.show(v)
	return v ~= v and "nan" or tostring(v)
end

-- Check argument 1 of @fname, an options table, against @spec {name = "number", ...}.
function M.options(o, fname, spec)
	if type(o) ~= "table" then
		M.argerror(1, fname, "table expected, got " .. (o == nil and "no value" or type(o)), 2)
	end
	for k, v in pairs(o) do
		local want = spec[k]
		if not want then
			M.argerror(1, fname, ("unknown field '%s'"):format(tostring(k)), 2)
		end
		if type(v) ~= want then
			M.argerror(1, fname, ("field '%s': %s expected, got %s"):format(k, want, type(v)), 2)
		end
	end
end

-- Option @k of @o (checked a number) as a finite number >= @min (> 0 without one), an
-- integer with @integer; @dflt when it is nil.
function M.number(o, k, fname, dflt, min, integer)
	local v = o[k]
	if v == nil then
		return dflt
	end
	if v ~= v or v == math.huge or (min and v < min) or (not min and v <= 0)
	   or (integer and v ~= math.floor(v)) then
		local want = (integer and "an integer" or "a number")
			.. (min and (" of at least " .. min) or " above 0")
		M.argerror(1, fname, ("field '%s': expected %s, got %s"):format(k, want,
			M.show(v)), 2)
	end
	return integer and math.tointeger(v) or v
end

return M
