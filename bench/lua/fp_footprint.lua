-- fp_footprint.lua - ctlua in row 6 (bench/rows/60-footprint.sh): start-up, and the memory
-- it holds idle and with many per-flow verdicts.
--
--   ctlua bench/lua/fp_footprint.lua IFNAME VERDICTS
--
-- Prints, each line flushed (build/bench/stamp stamps them):
--   attached                          once ct.attach(IFNAME) returned
--   idle rss_kb R mapped_kb P maps_kb M
--                                     VmRSS, the part of it that is BPF maps mapped
--                                     into the process (smaps), and the kernel's
--                                     memory for the object's maps (memlock)
--   verdicts-begin / verdicts-end     around VERDICTS ct.verdict(tuple, "alloc") calls
--                                     and the ct.sync() that writes the last of them
--   verdicts N rss_kb R gc_rss_kb G maps_kb M
-- where gc_rss_kb is VmRSS again after a full garbage collection. The tuples are those
-- of bench/progs/flowgen.h, built in the loop as a script would.

local ifname, n = arg[1], tonumber(arg[2])
if not ifname or not n then
	io.stderr:write("usage: ctlua fp_footprint.lua IFNAME VERDICTS\n")
	os.exit(2)
end

local link <close> = assert(ct.attach(ifname))
io.write("attached\n")
io.stdout:flush()

local function rss_kb()
	local f <close> = assert(io.open("/proc/self/status"))
	return tonumber(f:read("a"):match("VmRSS:%s*(%d+)"))
end

-- The resident part of the mappings of BPF maps (the .bss with its request array).
local function mapped_kb()
	local sum, in_map = 0, false
	for line in io.lines("/proc/self/smaps") do
		if line:match("^%x+%-%x+ ") then
			in_map = line:find("anon_inode:bpf-map", 1, true) ~= nil
		elseif in_map then
			local kb = line:match("^Rss:%s*(%d+)")
			if kb then sum = sum + tonumber(kb) end
		end
	end
	return sum
end

-- The kernel's memory for the object's maps: memlock of every map fd (fdinfo).
local function maps_kb()
	local sum = 0
	for fd = 0, 1023 do
		local f = io.open("/proc/self/fdinfo/" .. fd)
		if f then
			local info = f:read("a")
			f:close()
			if info:find("map_type:", 1, true) then
				sum = sum + tonumber(info:match("memlock:%s*(%d+)"))
			end
		end
	end
	return sum // 1024
end

io.write(string.format("idle rss_kb %d mapped_kb %d maps_kb %d\n", rss_kb(), mapped_kb(), maps_kb()))
io.stdout:flush()

local srcs = {}
io.write("verdicts-begin\n")
io.stdout:flush()
for i = 0, n - 1 do
	local s = i // 50000
	srcs[s] = srcs[s] or string.format("198.18.%d.%d", (1 + s) >> 8, (1 + s) & 255)
	assert(ct.verdict({ src = srcs[s], dst = "198.19.0.1", sport = 10000 + i % 50000, dport = 53,
			    proto = "udp" }, "alloc"))
end
assert(ct.sync())	-- in the kernel, all of them, before the clock stops
io.write("verdicts-end\n")
io.stdout:flush()
local after = rss_kb()
-- the last one is in the kernel (nothing waits after ct.sync), and none was refused
local last = n - 1
assert(ct.verdict{ src = srcs[last // 50000], dst = "198.19.0.1", sport = 10000 + last % 50000,
		   dport = 53, proto = "udp" } == "alloc")
assert(ct.stats().verdicts_full == 0)
collectgarbage()
collectgarbage()
io.write(string.format("verdicts %d rss_kb %d gc_rss_kb %d maps_kb %d\n", n, after, rss_kb(),
		       maps_kb()))
