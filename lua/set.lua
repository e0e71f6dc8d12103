-- set.lua - sets of address prefixes (IPv4 and IPv6 CIDR) and of ports, built from lists
-- or strings, for policies that ask "is this source one of ours?" (doc/library.md,
-- ctlua.set).
--
--   local set = require "ctlua.set"
--   local ours = set.prefixes{"198.18.0.0/15", "2001:db8::/32"}
--   local web = set.ports "80, 443, 8000-8100"
--   if ours:has(ev.src) and web:has(ev.dport) then return "alloc" end
--
-- Prefixes are kept in one hash table, keyed by the family, the length and the address
-- bytes the length covers, and IPv4 ones also in a table per length keyed by the masked
-- address as an integer; a lookup masks the address once per length in use, longest
-- first (at most 33 or 129 probes, a few in practice). Addresses looked up are
-- parsed once and remembered (up to 4096). Port ranges are merged and searched by
-- bisection.
local M = {}

local byte, char, sub, floor = string.byte, string.char, string.sub, math.floor
local unpack = string.unpack

-- The IPv4 netmask of each length, as an integer.
local MASK4 = {}
for len = 0, 32 do
	MASK4[len] = (0xffffffff << (32 - len)) & 0xffffffff
end

local CACHE_MAX = 4096

-- A string's text as a message shows it (cut after 60 characters).
local function quote(s)
	if #s > 60 then
		s = sub(s, 1, 60) .. "..."
	end
	return "'" .. s .. "'"
end

-- "198.18.0.1" as 4 bytes, or nil, why (nil, nil: not IPv4-shaped at all).
local function parse_v4(s)
	local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	if not a then
		return nil
	end
	local n = { a, b, c, d }
	for i = 1, 4 do
		local p = n[i]
		if #p > 1 and sub(p, 1, 1) == "0" then
			return nil, ("%s has a leading zero"):format(p)
		end
		n[i] = tonumber(p)
		if n[i] > 255 then
			return nil, ("%s is out of range 0 to 255"):format(p)
		end
	end
	return char(n[1], n[2], n[3], n[4])
end

-- The 16-bit groups of one side of "::" in @part (IPv4 at its end when @v4 allows).
local function groups(part, v4, out)
	if part == "" then
		return out
	end
	local fields = {}
	for f in (part .. ":"):gmatch("([^:]*):") do
		fields[#fields + 1] = f
	end
	for i, f in ipairs(fields) do
		if i == #fields and v4 and f:find(".", 1, true) then
			local b, why = parse_v4(f)
			if not b then
				return nil, why or quote(f) .. " is not an IPv4 address"
			end
			out[#out + 1] = byte(b, 1) * 256 + byte(b, 2)
			out[#out + 1] = byte(b, 3) * 256 + byte(b, 4)
		elseif f:match("^%x%x?%x?%x?$") then
			out[#out + 1] = tonumber(f, 16)
		else
			return nil, quote(f) .. " is not a group of 1 to 4 hex digits"
		end
	end
	return out
end

-- "2001:db8::1" as 16 bytes, or nil, why.
local function parse_v6(s)
	local head, tail = s, nil
	local gap = s:find("::", 1, true)
	if gap then
		head, tail = sub(s, 1, gap - 1), sub(s, gap + 2)
		if tail:find("::", 1, true) then
			return nil, "'::' appears twice"
		end
	end
	local g, why = groups(head, not gap, {})
	if not g then
		return nil, why
	end
	local t = {}
	if gap then
		t, why = groups(tail, true, t)
		if not t then
			return nil, why
		end
		if #g + #t > 7 then
			return nil, "more than 7 groups beside '::'"
		end
		for _ = 1, 8 - #g - #t do
			g[#g + 1] = 0
		end
		for _, v in ipairs(t) do
			g[#g + 1] = v
		end
	elseif #g ~= 8 then
		return nil, ("%d groups, 8 expected"):format(#g)
	end
	local b = {}
	for i = 1, 8 do
		b[2 * i - 1], b[2 * i] = g[i] >> 8, g[i] & 0xff
	end
	return char(table.unpack(b))
end

-- An address as bytes (4 or 16), or nil, why.
local function parse_addr(s)
	if s:find(":", 1, true) then
		return parse_v6(s)
	end
	local b, why = parse_v4(s)
	if not b and not why then
		why = "neither IPv4 (a.b.c.d) nor IPv6"
	end
	return b, why
end

-- The key of the @len-bit prefix of the address bytes @a.
local function key_of(a, len)
	local whole, rest = len >> 3, len & 7
	local k = char(#a, len) .. sub(a, 1, whole)
	if rest > 0 then
		k = k .. char(byte(a, whole + 1) & (0xff << (8 - rest)) & 0xff)
	end
	return k
end

-- "ADDR[/LEN]" as address bytes and length, or nil, why.
local function parse_prefix(s)
	local addr, len = s:match("^([^/]*)/(.*)$")
	addr = addr or s
	local a, why = parse_addr(addr)
	if not a then
		return nil, why
	end
	local bits = #a * 8
	if not len then
		return a, bits
	end
	local n = len:match("^%d+$") and tonumber(len)
	if not n or n > bits then
		return nil, ("the length %s is not a number from 0 to %d"):format(quote(len), bits)
	end
	local m = sub(key_of(a, n), 3)
	if m .. char(0):rep(#a - #m) ~= a then
		return nil, ("it has bits set past its length /%d"):format(n)
	end
	return a, n
end

-- The items of @spec (a list, or a string of items split by commas or spaces), checked
-- by @fname's argument @arg: calls @each(item text, index) and raises its complaint.
local function items(spec, fname, what, each)
	local list = spec
	if type(spec) == "string" then
		list = {}
		for item in spec:gmatch("[^,%s]+") do
			list[#list + 1] = item
		end
	elseif type(spec) ~= "table" then
		error(("bad argument #1 to '%s' (table or string expected, got %s)"):format(fname,
			spec == nil and "no value" or type(spec)), 3)
	end
	for i, item in ipairs(list) do
		local why = each(item, i)
		if why then
			error(("bad argument #1 to '%s' (item %d: %s is not %s: %s)"):format(fname, i,
				quote(tostring(item)), what, why), 3)
		end
	end
end

local Prefixes = {}
Prefixes.__index = Prefixes

-- Add the prefix text @p; returns nil, or why it is not one.
local function add_prefix(self, p)
	if type(p) ~= "string" then
		return "a string expected, got " .. type(p)
	end
	local a, len = parse_prefix(p)
	if not a then
		return len
	end
	local k = key_of(a, len)
	if self.map[k] == nil then
		self.n = self.n + 1
		local lens = #a == 4 and self.v4 or self.v6
		if not lens.has[len] then
			lens.has[len] = true
			lens[#lens + 1] = len
			table.sort(lens, function(x, y) return x > y end)
		end
	end
	self.map[k] = p
	if #a == 4 then	-- IPv4 also by integer: a probe is then one AND and one index
		local by_len = self.map4[len] or {}
		self.map4[len] = by_len
		by_len[unpack(">I4", a)] = p
	end
	return nil
end

-- set.prefixes(list | string) -> set
function M.prefixes(spec)
	local self = setmetatable({ map = {}, map4 = {}, v4 = { has = {} }, v6 = { has = {} }, n = 0,
		cache = {}, ncache = 0 }, Prefixes)
	items(spec, "set.prefixes", "a prefix", function(p) return add_prefix(self, p) end)
	return self
end

-- set:add(prefix | list | string): more prefixes
function Prefixes:add(spec)
	items(spec, "add", "a prefix", function(p) return add_prefix(self, p) end)
	return self
end

-- set:has(address) -> the prefix that holds it (the longest), or nil
function Prefixes:has(addr)
	local a = self.cache[addr]
	if not a then
		if type(addr) ~= "string" then
			error(("bad argument #1 to 'has' (string expected, got %s)"):format(
				addr == nil and "no value" or type(addr)), 2)
		end
		local why
		a, why = parse_addr(addr)
		if not a then
			error(("bad argument #1 to 'has' (%s is not an address: %s)"):format(
				quote(addr), why), 2)
		end
		if #a == 4 then
			a = unpack(">I4", a)
		end
		if self.ncache >= CACHE_MAX then
			self.cache, self.ncache = {}, 0
		end
		self.cache[addr], self.ncache = a, self.ncache + 1
	end
	if math.type(a) == "integer" then
		local map4 = self.map4
		for _, len in ipairs(self.v4) do
			local p = map4[len][a & MASK4[len]]
			if p then
				return p
			end
		end
		return nil
	end
	local map = self.map
	for _, len in ipairs(self.v6) do
		local p = map[key_of(a, len)]
		if p then
			return p
		end
	end
	return nil
end

-- set:list() -> the prefixes, as given, sorted
function Prefixes:list()
	local out = {}
	for _, p in pairs(self.map) do
		out[#out + 1] = p
	end
	table.sort(out)
	return out
end

function Prefixes:__len()
	return self.n
end

function Prefixes:__tostring()
	return ("set.prefixes (%d: %s)"):format(self.n, table.concat(self:list(), ", "))
end

local Ports = {}
Ports.__index = Ports

-- Add the port or range @p to @lo/@hi; returns nil, or why it is not one.
local function add_ports(self, p)
	local lo, hi
	if math.type(p) == "integer" then
		lo, hi = p, p
	elseif type(p) == "string" then
		local a, b = p:match("^(%d+)%-(%d+)$")
		a = a or p:match("^%d+$")
		lo, hi = tonumber(a), tonumber(b or a)
		if not lo then
			return "a port (0 to 65535) or a range 'LOW-HIGH' expected"
		end
	else
		return "an integer or a string expected, got " .. (math.type(p) or type(p))
	end
	if lo > 65535 or hi > 65535 or lo < 0 then
		return "out of range 0 to 65535"
	end
	if lo > hi then
		return "its range is empty (low above high)"
	end
	self.ranges[#self.ranges + 1] = { lo, hi }
	return nil
end

-- Sort and merge the ranges into the arrays bisection reads.
local function merge(self)
	table.sort(self.ranges, function(x, y) return x[1] < y[1] end)
	local lo, hi = {}, {}
	for _, r in ipairs(self.ranges) do
		if #hi > 0 and r[1] <= hi[#hi] + 1 then
			hi[#hi] = math.max(hi[#hi], r[2])
		else
			lo[#lo + 1], hi[#hi + 1] = r[1], r[2]
		end
	end
	self.lo, self.hi = lo, hi
end

-- set.ports(list | string) -> set
function M.ports(spec)
	local self = setmetatable({ ranges = {} }, Ports)
	items(spec, "set.ports", "a port", function(p) return add_ports(self, p) end)
	merge(self)
	return self
end

-- set:add(port | range | list | string): more ports
function Ports:add(spec)
	if type(spec) ~= "table" and type(spec) ~= "string" then
		spec = { spec }
	end
	items(spec, "add", "a port", function(p) return add_ports(self, p) end)
	merge(self)
	return self
end

-- set:has(port) -> whether it holds @port
function Ports:has(port)
	if math.type(port) ~= "integer" then
		if port ~= nil and port == floor(tonumber(port) or 0.5) and type(port) == "number" then
			port = math.tointeger(port)
		else
			error(("bad argument #1 to 'has' (integer expected, got %s)"):format(
				port == nil and "no value" or math.type(port) or type(port)), 2)
		end
	end
	local lo, hi = self.lo, self.hi
	local i, j = 1, #lo
	while i <= j do
		local m = (i + j) // 2
		if port < lo[m] then
			j = m - 1
		elseif port > hi[m] then
			i = m + 1
		else
			return true
		end
	end
	return false
end

-- set:list() -> the merged ranges as strings ("22", "8000-8100")
function Ports:list()
	local out = {}
	for i, lo in ipairs(self.lo) do
		out[i] = lo == self.hi[i] and tostring(lo) or lo .. "-" .. self.hi[i]
	end
	return out
end

function Ports:__tostring()
	return ("set.ports (%s)"):format(table.concat(self:list(), ", "))
end

-- set.address(text) -> the address as bytes (4 or 16) | nil, why: the parser the sets use
M.address = parse_addr

return M
