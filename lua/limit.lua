-- limit.lua - per-key token buckets: "at most 10 new flows a second per source, in bursts
-- of 20", in a miss callback (doc/library.md, ctlua.limit).
--
--   local limit = require "ctlua.limit"
--   local per_src = limit.bucket{rate = 10, burst = 20}
--   ct.on("miss", function(ev)
--     if not per_src:take(ev.src) then return "drop" end
--   end)
--
-- Each key holds one number, the time its bucket will be full again (the "theoretical
-- arrival time" of GCRA, the generic cell rate algorithm): a take adds 1/rate to it, and
-- is refused while that would put it more than burst/rate ahead of now. A key idle for
-- burst/rate seconds has a full bucket, the same as no entry, so ctlua.keys forgets it;
-- a cap bounds how many keys are held at once.
local keys = require "ctlua.keys"

local M = {}

local Bucket = {}
Bucket.__index = Bucket

local OPTIONS = { rate = "number", burst = "number", keys = "number", clock = "function",
	when_full = "string" }

-- limit.bucket{rate =, burst =, keys =, clock =, when_full =} -> bucket
function M.bucket(o)
	keys.options(o, "limit.bucket", OPTIONS)
	if o.rate == nil then
		keys.argerror(1, "limit.bucket", "field 'rate' is required (tokens a second)")
	end
	local rate = keys.number(o, "rate", "limit.bucket")
	local burst = keys.number(o, "burst", "limit.bucket", math.max(1, rate), 1)
	local max = keys.number(o, "keys", "limit.bucket", 65536, 1, true)
	local when_full = o.when_full or "deny"
	if when_full ~= "deny" and when_full ~= "allow" then
		keys.argerror(1, "limit.bucket", ("field 'when_full': 'deny' or 'allow' expected, " ..
			"got '%s'"):format(when_full))
	end
	-- Slack, in tokens, for rounding: times near ct.now()'s 2e9 are 0.24 us apart
	local slack = 1e-3 + rate * 1e-6
	return setmetatable({ rate = rate, burst = burst, step = 1 / rate, span = burst / rate,
		slack = slack,
		clock = o.clock or keys.now, allow_full = when_full == "allow",
		store = keys.new(burst / rate, max) }, Bucket)
end

-- Check the arguments of a method named @fname: (self, key [, now]); returns now, in
-- seconds since the bucket's first use: ct.now() is near 2e9, where a double's steps are
-- 0.24 us, too coarse to add 1/rate to again and again.
local function check(self, fname, key, now)
	now = keys.check_use(self, Bucket, "a bucket", fname, key, now, 2)
	local t0 = self.t0
	if not t0 then
		t0 = now
		self.t0 = now
	end
	return now - t0
end

-- bucket:take(key [, now]) -> true | false, seconds until a token comes (nil: no room for
-- a new key and when_full is "deny")
function Bucket:take(key, now)
	now = check(self, "take", key, now)
	local store = self.store
	store:age(now)
	local full_at = store:get(key)
	if full_at == nil or full_at < now then
		full_at = now
	end
	local next_at = full_at + self.step
	if (next_at - now) * self.rate > self.burst + self.slack then
		return false, next_at - now - self.span
	end
	if not store:put(key, next_at) then
		return self.allow_full
	end
	return true
end

-- bucket:tokens(key [, now]) -> the tokens @key has now (a float, from 0 to burst)
function Bucket:tokens(key, now)
	now = check(self, "tokens", key, now)
	self.store:age(now)
	local full_at = self.store:get(key)
	if full_at == nil or full_at < now then
		return self.burst
	end
	return math.max(0, self.burst - (full_at - now) * self.rate)
end

-- bucket:keys() -> how many keys are held; bucket:reset([key]) forgets one or all
keys.methods(Bucket)

function Bucket:__tostring()
	return ("limit.bucket (rate %g/s, burst %g, %d keys)"):format(self.rate, self.burst,
		self.store:count())
end

return M
