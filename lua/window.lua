-- window.lua - time windows for policies (doc/library.md, ctlua.window): hours of the
-- week ("Mon-Fri 08:00-18:00"), and counts per key over the last N seconds.
--
--   local window = require "ctlua.window"
--   local office = window.hours "Mon-Fri 08:00-18:00; Sat 09:00-12:00"
--   local recent = window.sliding{seconds = 10}
--   ct.on("miss", function(ev)
--     if not office:open() then return "drop" end
--     if recent:add(ev.src) > 100 then return "drop" end
--   end)
--
-- Hours are read on the wall clock (os.time, local time unless utc), as people write
-- them; sliding counts on ct.now(). Both clocks can be replaced (clock =) for tests.
local keys = require "ctlua.keys"

local M = {}

local DAYS = { mon = 0, tue = 1, wed = 2, thu = 3, fri = 4, sat = 5, sun = 6 }
local DAY_NAMES = "Mon, Tue, Wed, Thu, Fri, Sat, Sun"
local WEEK = 7 * 86400

local Hours = {}
Hours.__index = Hours

-- "08:00" (or "24:00") as seconds into the day, or nil.
local function clock_time(s)
	local h, m = s:match("^(%d%d?):(%d%d)$")
	h, m = tonumber(h), tonumber(m)
	if not h or m > 59 or h > 24 or h == 24 and m > 0 then
		return nil
	end
	return (h * 60 + m) * 60
end

-- The days "Mon-Fri,Sun" names, as a set of day numbers (Mon 0), or nil, why.
local function parse_days(text)
	local set = {}
	for part in (text .. ","):gmatch("([^,]*),") do
		local a, b = part:match("^(%a+)%-(%a+)$")
		a = a or part
		local from, to = DAYS[a:lower()], DAYS[(b or a):lower()]
		if not from or not to then
			local bad = from and b or a
			return nil, ("unknown day '%s' (%s)"):format(bad, DAY_NAMES)
		end
		repeat	-- "Fri-Mon" goes round the week's end
			set[from] = true
			local last = from == to
			from = (from + 1) % 7
		until last
	end
	return set
end

-- Add the item "[DAYS ]HH:MM-HH:MM" to @spans; returns nil, or why it is not one.
local function add_hours(spans, item)
	if type(item) ~= "string" then
		return "a string expected, got " .. type(item)
	end
	local days, from, to = item:match("^%s*(%a[%a,%-]*)%s+(%S+)%-(%S+)%s*$")
	if not days then
		from, to = item:match("^%s*(%S+)%-(%S+)%s*$")
	end
	local a, b = from and clock_time(from), to and clock_time(to)
	if not a or not b then
		return "'[DAYS ]HH:MM-HH:MM' expected, as 'Mon-Fri 08:00-18:00'"
	end
	if a == b then
		return "it is empty (use 00:00-24:00 for a whole day)"
	end
	local set = { [0] = true, true, true, true, true, true, true }
	if days then
		local why
		set, why = parse_days(days)
		if not set then
			return why
		end
	end
	if b < a then	-- "22:00-06:00": into the next day
		b = b + 86400
	end
	for day = 0, 6 do
		if set[day] then
			spans[#spans + 1] = { day * 86400 + a, day * 86400 + b }
		end
	end
	return nil
end

-- The items of @spec: a list, or a string of items split by ';'. Raises for @fname.
local function each_item(spec, fname, add)
	local list = spec
	if type(spec) == "string" then
		list = {}
		for item in (spec .. ";"):gmatch("([^;]*);") do
			list[#list + 1] = item
		end
	elseif type(spec) ~= "table" then
		keys.argerror(1, fname, ("table or string expected, got %s"):format(
			spec == nil and "no value" or type(spec)), 2)
	end
	for i, item in ipairs(list) do
		local why = add(item)
		if why then
			keys.argerror(1, fname, ("item %d: '%s' is not a time window: %s"):format(i,
				tostring(item), why), 2)
		end
	end
end

-- window.hours(spec [, {utc =, clock =}]) -> hours
function M.hours(spec, o)
	local self = setmetatable({ spans = {}, text = spec }, Hours)
	each_item(spec, "window.hours", function(item) return add_hours(self.spans, item) end)
	if o ~= nil then
		if type(o) ~= "table" then
			keys.argerror(2, "window.hours", "table expected, got " .. type(o))
		end
		for k, v in pairs(o) do
			if k ~= "utc" and k ~= "clock" then
				keys.argerror(2, "window.hours", ("unknown field '%s'"):format(tostring(k)))
			end
			if k == "clock" and type(v) ~= "function" then
				keys.argerror(2, "window.hours", "field 'clock': function expected, got "
					.. type(v))
			end
		end
		self.utc, self.clock = o.utc and true or false, o.clock
	end
	return self
end

-- Seconds into the week (Monday 00:00 is 0) of the time @t (epoch seconds). os.date is
-- most of the cost, so its answer is kept for the minute (clocks change on the minute).
local function week_seconds(self, t)
	t = math.floor(t)
	local minute = t // 60
	if minute ~= self.minute then
		local d = os.date(self.utc and "!*t" or "*t", minute * 60)
		self.minute = minute
		self.minute_at = ((d.wday + 5) % 7) * 86400 + (d.hour * 60 + d.min) * 60 + d.sec
	end
	return self.minute_at + t % 60
end

-- hours:open([t]) -> whether the time @t (epoch seconds; now without) is in a window
function Hours:open(t)
	if t == nil then
		t = self.clock and self.clock() or os.time()
	elseif type(t) ~= "number" or t ~= t or t == math.huge or t == -math.huge then
		keys.argerror(1, "open", "epoch seconds expected, got " .. keys.show(t))
	end
	local s = week_seconds(self, t)
	for _, span in ipairs(self.spans) do
		local a, b = span[1], span[2]
		if s >= a and s < b or s + WEEK >= a and s + WEEK < b then
			return true
		end
	end
	return false
end

function Hours:__tostring()
	local text = self.text
	if type(text) == "table" then
		text = table.concat(text, "; ")
	end
	return ("window.hours (%s%s)"):format(text, self.utc and ", UTC" or "")
end

local Sliding = {}
Sliding.__index = Sliding

local SLIDING_OPTIONS = { seconds = "number", slots = "number", keys = "number",
	clock = "function" }

-- window.sliding{seconds =, slots =, keys =, clock =} -> counter
function M.sliding(o)
	keys.options(o, "window.sliding", SLIDING_OPTIONS)
	if o.seconds == nil then
		keys.argerror(1, "window.sliding", "field 'seconds' is required (the window's length)")
	end
	local seconds = keys.number(o, "seconds", "window.sliding")
	local slots = keys.number(o, "slots", "window.sliding", 10, 1, true)
	local max = keys.number(o, "keys", "window.sliding", 65536, 1, true)
	return setmetatable({ seconds = seconds, slots = slots, width = seconds / slots,
		clock = o.clock or keys.now, store = keys.new(seconds, max) }, Sliding)
end

-- Check (self, key [, n], now) of @fname; returns now and the slot it falls in.
local function slot_of(self, fname, key, now, narg)
	now = keys.check_use(self, Sliding, "a sliding window", fname, key, now, narg)
	return now, math.floor(now / self.width)
end

-- The count of @counts ({[slot] = n}) in the window that ends with @slot, dropping
-- older slots.
local function total(self, counts, slot)
	local sum, oldest = 0, slot - self.slots
	for s, n in pairs(counts) do
		if s <= oldest then
			counts[s] = nil	-- allowed during pairs: it only clears a field
		else
			sum = sum + n
		end
	end
	return sum
end

-- counter:add(key [, n [, now]]) -> the key's count over the window, n (default 1)
-- included; math.huge when @key is new and the counter holds its maximum of keys
function Sliding:add(key, n, now)
	local slot
	now, slot = slot_of(self, "add", key, now, 3)
	if n == nil then
		n = 1
	elseif type(n) ~= "number" or n ~= n or n < 0 or n == math.huge then
		keys.argerror(2, "add", ("a number of at least 0 expected, got %s"):format(
			keys.show(n)))
	end
	local store = self.store
	store:age(now)
	local counts = store:get(key)
	if counts == nil then
		counts = {}
		if not store:put(key, counts) then
			return math.huge
		end
	end
	counts[slot] = (counts[slot] or 0) + n
	return total(self, counts, slot)
end

-- counter:count(key [, now]) -> the key's count over the window
function Sliding:count(key, now)
	local slot
	now, slot = slot_of(self, "count", key, now, 2)
	self.store:age(now)
	local counts = self.store:get(key)
	return counts and total(self, counts, slot) or 0
end

-- counter:keys() -> how many keys are held; counter:reset([key]) forgets one or all
keys.methods(Sliding)

function Sliding:__tostring()
	return ("window.sliding (%g s in %d slots, %d keys)"):format(self.seconds, self.slots,
		self.store:count())
end

return M
