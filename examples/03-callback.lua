-- 03-callback.lua - step 3: a Lua callback that decides, for what rules cannot express.
--
-- usage: ctlua lab examples/03-callback.lua
--
-- A rule decides in the kernel; a callback decides in Lua, after the fact: the flow's
-- first packet has already met the rules or the default (here "pass") when the "miss"
-- event reaches Lua. The callback's answer, `return action, opts`, is stored as that
-- flow's per-flow verdict (what ct.verdict stores), which the kernel consults before
-- the rules for the flow's later packets. In enforce mode an "alloc" answer is also
-- applied at once: a flow that already has an entry (netfilter made one for the first
-- packet) gets the answer's timeout, status and mark through bpf_ct_change_timeout,
-- bpf_ct_change_status and a mark write; one without gets a new entry.

ct.policy{mode = "enforce", default = "pass", rules = {}}   -- a clean slate (step 1)
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

-- The judgement: ports we trust get an entry with mark 0x30; port 6000 is "refused".
local TRUSTED = {[7000] = true, [7001] = true}
local answered = {}
ct.on("miss", function(ev)
  if ev.rule or ev.action ~= "pass" then return end   -- a rule or a verdict decided already
  answered[ev.dport] = true
  if TRUSTED[ev.dport] then
    return "alloc", {timeout = 120000, mark = 0x30}
  elseif ev.dport == 6000 then
    return "drop"
  end
  -- no answer: the flow stays with the default, and its next miss asks again
end)

lab.send{proto = "udp", dport = 7000, sport = 40010}
lab.send{proto = "udp", dport = 6000, sport = 40011}
ct.run(0.3)   -- the callback runs here
assert(answered[7000] and answered[6000], "the callback did not see both flows")

-- 7000: netfilter made an entry for the first packet; the answer changed it in place.
local e = assert(ct.lookup{src = lab.addr.client, dst = lab.addr.server, sport = 40010,
                           dport = 7000, proto = "udp"})
assert(e.mark == 0x30, "mark " .. e.mark)
print("   entry: " .. tostring(e))
print("look: the callback's alloc answer gave netfilter's entry for UDP 7000 mark 0x30")

-- The answers are stored as verdicts, keyed by the tuple in the packet's direction.
local t6000 = ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = 40011,
                       dport = 6000, proto = "udp"}
print("   verdict for " .. tostring(t6000) .. ": " .. assert(ct.verdict(t6000)))
assert(ct.verdict(t6000) == "drop")

-- But a "drop" answer comes too late where netfilter tracks the flow: the first packet
-- passed and made an entry, so the flow's later packets HIT conntrack and never miss
-- again; the verdict is never consulted. To refuse flows, decide on the first packet
-- with a rule or the default (step 2, step 9), or allocate nothing and drop by default
-- (step 8).
local drops = assert(ct.stats()).drops
lab.send{proto = "udp", dport = 6000, sport = 40011, count = 2}
ct.run(0.3)
assert(assert(ct.stats()).drops == drops, "packets of the established flow were dropped")
print("look: the drop verdict for UDP 6000 came too late: its entry lets the flow through")

-- A new flow to 6000 (another source port) has no verdict yet: the same thing again.
-- A verdict is per flow; ct.forget removes one.
assert(ct.forget(t6000))
print("03-callback: ok")
