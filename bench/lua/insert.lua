-- insert.lua - the ctlua contender of bench/rows/10-batch-insert.sh, and its pre-fill.
--
--   ctlua bench/lua/insert.lua COUNT FIRST-SRC [THREADS [e2e]]
--
-- Builds the list of COUNT tuples (the formula of bench/progs/flowgen.h), loads the BPF
-- object and makes a first ct.alloc_many call that creates nothing ("warm-begin" and
-- "warm-end" around it), then prints "begin", runs ct.alloc_many on the list, prints
-- "end", each line flushed, so build/bench/stamp can take the wall time between the two.
-- THREADS (1 by default) is ct.alloc_many's opts.threads. With "e2e" the list is built
-- inside the timed window instead, as strings ("udp 198.18.0.1:10000 -> 198.19.0.1:53",
-- the cheapest tuples to build in Lua: bench/lua/tuple.lua), as a script that makes its
-- own tuples would.
-- Last line: "inserted N of COUNT, cpu_ns C, F failed", where C is os.clock()'s
-- process CPU time around the same call, the cross-check for the wall time.

local count, first, threads, e2e = tonumber(arg[1]), arg[2], math.tointeger(arg[3] or 1), arg[4]
if not count or not first or not threads or (e2e and e2e ~= "e2e") then
	io.stderr:write("usage: ctlua insert.lua COUNT FIRST-SRC [THREADS [e2e]]\n")
	os.exit(2)
end

local PER_SRC, SPORT0, DST, DPORT = 50000, 10000, "198.19.0.1", 53

local function to_int(dotted)
	local a, b, c, d = dotted:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	assert(a, "bad address '" .. dotted .. "'")
	return ((a * 256 + b) * 256 + c) * 256 + d
end

local function to_dotted(n)
	return string.format("%d.%d.%d.%d", n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)
end

local base = to_int(first)
-- 198.18.0.0/15, also for the last tuple's source.
assert(base >> 17 == 0xc612 >> 1 and (base + (count - 1) // PER_SRC) >> 17 == 0xc612 >> 1,
	"the tuples would leave 198.18.0.0/15")

-- The list of tables, or (e2e) of strings, built by build() below.
local function build_tables()
	local tuples, srcs = {}, {}
	for i = 0, count - 1 do
		local s = i // PER_SRC
		srcs[s] = srcs[s] or to_dotted(base + s)
		tuples[i + 1] = { src = srcs[s], dst = DST, sport = SPORT0 + i % PER_SRC, dport = DPORT,
				  proto = "udp" }
	end
	return tuples
end

local function build_strings()
	local tuples, tail = {}, " -> " .. DST .. ":" .. DPORT
	local n = 0
	for s = 0, (count - 1) // PER_SRC do
		local head = "udp " .. to_dotted(base + s) .. ":"
		for i = s * PER_SRC, math.min(count, (s + 1) * PER_SRC) - 1 do
			n = n + 1
			tuples[n] = head .. (SPORT0 + i % PER_SRC) .. tail
		end
	end
	return tuples
end

local tuples = not e2e and build_tables() or nil
local opts = { timeout = 600000, status = { "assured" }, threads = threads }

-- The first ct call loads the BPF object: make it one outside the timed window.
local _, msg, errno = ct.lookup({ src = "198.19.255.254", dst = DST, sport = 1, dport = 1,
				  proto = "udp" })
if errno ~= 2 then
	io.stderr:write("insert.lua: warm-up lookup: ", tostring(msg), "\n")
	os.exit(1)
end

-- The first ct.alloc_many of a process also does one-time work of its own (tens of ms
-- on 6.18). Do it here, on one tuple the kernel refuses (protocol 1: EPROTO, nothing is
-- created), with the same opts, and stamp it separately: the bench reports it apart
-- from the rate, as kfunc_batch's set-up is not in its time either.
io.write("warm-begin\n")
io.stdout:flush()
local wn, wfail = ct.alloc_many({ { src = "198.19.255.254", dst = DST, sport = 1, dport = 1,
				    proto = 1 } }, opts)
io.write("warm-end\n")
io.stdout:flush()
if wn ~= 0 or not wfail[1] or wfail[1].errname ~= "EPROTO" then
	io.stderr:write("insert.lua: the warm-up call did not fail with EPROTO: ",
			tostring(wn), " ", tostring(wfail and wfail[1] and wfail[1].errname or wfail), "\n")
	os.exit(1)
end
collectgarbage()	-- the garbage of building the list is not the insert's

io.write("begin\n")
io.stdout:flush()
local c0 = os.clock()
if e2e then
	tuples = build_strings()
end
local n, failures = ct.alloc_many(tuples, opts)
local c1 = os.clock()
io.write("end\n")
io.stdout:flush()

if not n then
	io.stderr:write("insert.lua: ct.alloc_many: ", tostring(failures), "\n")
	os.exit(1)
end
io.write(string.format("inserted %d of %d, cpu_ns %.0f, %d failed\n", n, count,
		       (c1 - c0) * 1e9, #failures))
if #failures > 0 then
	io.stderr:write(string.format("insert.lua: %d tuples failed, the first (item %d) with %s\n",
				      #failures, failures[1].index, failures[1].errname))
	os.exit(1)
end
