-- 02-rules.lua - step 2: rules, decided in the kernel on a flow's first packet.
--
-- usage: ctlua lab examples/02-rules.lua
--
-- On a miss the TC program looks for a decision in this order: a per-flow verdict
-- (step 3), then the rule table, then the default. A rule's action is one of:
--   "pass"   leave the packet to netfilter (which makes its own entry, if it tracks)
--   "alloc"  create the entry now: bpf_skb_ct_alloc, bpf_ct_set_timeout, the mark,
--            bpf_ct_set_status, bpf_ct_insert_entry; then the packet goes on
--   "drop"   drop the packet (TC_ACT_SHOT)
-- No round trip to Lua: the rules are in a BPF map, and the first packet already gets
-- the rule's answer.

-- ct.policy sets mode, default and rules in one step ("enforce": act on packets now,
-- not just report); rules = {} empties the rule table, and no callbacks are left.
ct.policy{mode = "enforce", default = "pass", rules = {}}
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

-- Entries ctlua makes carry this mark, so we can pick them out of the table.
local MARK = 0x42
-- fixed_timeout keeps our 60 s: without it netfilter would reset the timeout to its own
-- on the flow's next packet (step 5 shows that).
local alloc_rule = assert(ct.rule{proto = "udp", dport = 5353, action = "alloc",
                                  timeout = 60000, mark = MARK, status = {"fixed_timeout"}})
local drop_rule = assert(ct.rule{proto = "tcp", dport = 9999, action = "drop"})
for _, r in ipairs(ct.rules()) do
  print(("   rule %d: %s %s dport %s"):format(r.id, r.action, r.proto, r.dport))
end

local events = {}
for _, kind in ipairs{"alloc", "drop"} do
  ct.on(kind, function(ev)
    events[#events + 1] = ev.kind .. " rule " .. tostring(ev.rule)
    print("   event: " .. tostring(ev))
  end)
end

-- UDP 5353: the rule creates the entry on the first packet, with our timeout and mark.
lab.send{proto = "udp", dport = 5353, sport = 40002, count = 2}
-- TCP 9999: every SYN is dropped, so the connection cannot be made.
local connected = lab.connect{dport = 9999, timeout = 1000}
-- UDP 5354: no rule matches, the default passes it to netfilter.
lab.send{proto = "udp", dport = 5354, sport = 40003}
ct.run(0.3)

assert(not connected, "the connection to TCP 9999 should have been refused by the drop rule")
assert(events[1] == "alloc rule " .. alloc_rule, "first event: " .. tostring(events[1]))
assert(events[2] == "drop rule " .. drop_rule, "second event: " .. tostring(events[2]))
print("look: UDP 5353 got an alloc event naming rule " .. alloc_rule ..
      ", TCP 9999 a drop event naming rule " .. drop_rule)

-- The entry ctlua made: mark 0x42, timeout close to 60 s (ctnetlink rounds to seconds).
local ours = {}
for e in assert(lab.entries{mark = MARK}) do ours[#ours + 1] = e end
assert(#ours == 1 and ours[1].tuple.dport == 5353, "expected one entry with mark 0x42")
assert(ours[1].timeout > 50000, "timeout " .. ours[1].timeout)
print("   entry: " .. tostring(ours[1]))
print("look: the UDP 5353 entry carries mark 0x42 and the rule's 60 s timeout")

-- UDP 5354 has an entry too, but netfilter made it: mark 0, its own 30 s timeout.
local theirs = {}
for e in assert(lab.entries{proto = "udp", dport = 5354}) do theirs[#theirs + 1] = e end
assert(#theirs == 1 and theirs[1].mark == 0, "expected netfilter's entry for UDP 5354")
print("look: UDP 5354 was passed: its entry is netfilter's (mark 0)")

-- The counters say who decided: by_rule for the two rules, by_default for the rest.
local s = assert(ct.stats())
assert(s.alloc_ok >= 1 and s.drops >= 1)
print(("look: counters: %d decided by rules, %d by the default; %d created, %d dropped")
      :format(s.by_rule, s.by_default, s.alloc_ok, s.drops))
print("02-rules: ok")
