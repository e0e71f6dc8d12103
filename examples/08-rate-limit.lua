-- 08-rate-limit.lua - step 8: a per-source rate limit on new flows.
--
-- usage: ctlua lab examples/08-rate-limit.lua
--
-- Each source may open BURST new flows at once, then RATE more per second. This needs
-- judgement (a count per source, a clock), so it is a callback; but the refusal must
-- happen on the first packet, in the kernel, or netfilter makes an entry and the flow is
-- through (step 3). So the kernel's default is "drop": an undecided flow's first packet
-- is dropped and reported; the callback answers "alloc" while the source has tokens
-- (ctlua creates the entry at once, so the flow's next packet, a retransmission,
-- passes) or "drop" once it has none (a verdict the kernel applies to the flow's later
-- packets).
--
-- The buckets come from ctlua's Lua library: ctlua.limit keeps one number per key and
-- forgets idle keys, on ct.now(), the host's monotonic clock.

ct.policy{mode = "enforce", default = "drop", rules = {}}   -- no rules: all new flows miss
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

local limit = require "ctlua.limit"
local BURST, RATE = 3, 0.4        -- 3 flows at once, then one every 2.5 s, per source
local per_source = limit.bucket{rate = RATE, burst = BURST}

local allowed, refused = 0, 0
ct.on("miss", function(ev)
  if ev.rule or ev.action ~= "drop" or ev.err ~= 0 then return end
  -- Only the default decided this one (no verdict yet): judge the flow.
  if per_source:take(ev.src) then
    allowed = allowed + 1
    return "alloc", {timeout = 30000, mark = 0x80}
  end
  refused = refused + 1
  return "drop"
end)

-- Six new flows from the client, one packet each, as fast as the lab sends them.
for i = 1, 6 do lab.send{proto = "udp", dport = 5380, sport = 45000 + i} end
ct.run(0.3)
print(("look: 6 new flows at once: %d allowed (the burst), %d refused"):format(allowed, refused))
assert(allowed == BURST and refused == 3, ("allowed %d, refused %d"):format(allowed, refused))

-- The allowed ones have an entry, made by ctlua with mark 0x80.
local n = 0
for _ in assert(lab.entries{mark = 0x80}) do n = n + 1 end
assert(n == BURST, n .. " entries with mark 0x80")

-- Their next packets: the three allowed flows find their entries and pass; the three
-- refused meet their "drop" verdict in the kernel. No callback runs for either.
local before = assert(ct.stats())
for i = 1, 6 do lab.send{proto = "udp", dport = 5380, sport = 45000 + i} end
ct.run(0.3)
local after = assert(ct.stats())
assert(after.by_verdict - before.by_verdict == 3 and after.drops - before.drops == 3)
assert(after.lookup_hit - before.lookup_hit == 3)
print("look: the flows' next packets: 3 hit their entries, 3 dropped by their verdicts")

-- 2.5 s later the bucket has one token again: one more new flow gets through.
os.execute("sleep 2.5")
allowed, refused = 0, 0
for i = 7, 8 do lab.send{proto = "udp", dport = 5380, sport = 45000 + i} end
ct.run(0.3)
assert(allowed == 1 and refused == 1, ("allowed %d, refused %d"):format(allowed, refused))
print("look: 2.5 s later, one token: of 2 new flows, 1 allowed and 1 refused")
print("08-rate-limit: ok")
