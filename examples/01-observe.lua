-- 01-observe.lua - step 1 of the tour: watch what ctlua's TC program sees, change nothing.
--
-- usage: ctlua lab examples/01-observe.lua
--
-- The lab gave us two network namespaces: a client (lab.client) and a server
-- (lab.server), joined by a veth pair. ctlua's TC program is attached to the server's
-- end (lab.ifname, ingress), and the server runs a ruleset that uses conntrack, so the
-- kernel tracks every flow there.
--
-- For each TCP or UDP packet the program calls bpf_skb_ct_lookup on the packet's tuple.
-- A hit means conntrack knows the flow: the packet passes. A miss is a flow conntrack
-- has not seen yet: the program decides what to do with it, and reports a "miss" event.

-- "observe": decide and report, but never change a packet. Nothing below can break
-- the lab's traffic.
ct.mode("observe")
ct.default("pass")
-- Every step starts from a clean slate, so the steps can also run one after another in
-- the same lab (`ctlua lab`, then dofile each): no rules, no callbacks left from before.
ct.policy{rules = {}}
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

local misses = {}
ct.on("miss", function(ev)
  -- ev is one record from the ring buffer; its fields are decoded when read.
  misses[#misses + 1] = {tuple = tostring(ev.tuple), action = ev.action, rule = ev.rule}
  print("   event: " .. tostring(ev))
end)

local before = assert(ct.stats())

-- Three UDP datagrams of ONE flow (same source port) from the client to the server.
lab.send{proto = "udp", dport = 5353, sport = 40001, count = 3}
ct.run(0.3)   -- hand the events that arrived to the callback (0.3 s is plenty)

local after = assert(ct.stats())
local hits = after.lookup_hit - before.lookup_hit
local missed = after.lookup_miss - before.lookup_miss

-- Only the first datagram missed: netfilter made an entry for it a moment later
-- (PREROUTING runs after TC ingress), and the next two found that entry.
assert(#misses == 1, "expected one miss for the flow, got " .. #misses)
assert(missed == 1 and hits >= 2,
       ("expected 1 miss and 2 hits, got %d and %d"):format(missed, hits))
print(("look: 3 packets, %d miss (the first), %d lookup hits (the rest)"):format(missed, hits))

-- The event says what the policy would have done: the default, "pass", since no rule
-- and no per-flow verdict matched (so ev.rule is nil).
assert(misses[1].action == "pass" and misses[1].rule == nil)
print("look: the miss was decided by the default: action " .. misses[1].action)

-- The entry the lab's packets met is netfilter's own: no mark, made by the kernel's
-- conntrack, not by ctlua. lab.entries lists the server's conntrack table.
local n = 0
for e in assert(lab.entries{proto = "udp", sport = 40001}) do
  print("   entry: " .. tostring(e))
  n = n + 1
end
assert(n == 1, "expected netfilter's entry for the flow, found " .. n)
print("look: conntrack has one entry for the flow, made by netfilter, not by ctlua")
print("01-observe: ok")
