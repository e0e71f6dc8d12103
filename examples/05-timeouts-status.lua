-- 05-timeouts-status.lua - step 5: timeouts, status bits and FIXED_TIMEOUT, against real
-- traffic.
--
-- usage: ctlua lab examples/05-timeouts-status.lua
--
-- bpf_ct_set_timeout(ct, ms) sets an allocated entry's timeout (before insert);
-- bpf_ct_change_timeout(ct, ms) changes an inserted one. bpf_ct_set_status and
-- bpf_ct_change_status set status bits: only SEEN_REPLY, ASSURED, FIXED_TIMEOUT and
-- HELPER can be set from BPF, and no bit can ever be cleared.
--
-- The catch: netfilter refreshes a tracked flow's timeout on every packet, to its own
-- default for the protocol and state (UDP: 30 s one way, 120 s once replied), which
-- overwrites the timeout you set. IPS_FIXED_TIMEOUT makes it skip the refresh.

ct.policy{mode = "enforce", default = "pass", rules = {}}   -- a clean slate (step 1)
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

local function flow(sport)
  return ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = sport,
                  dport = 5300, proto = "udp"}
end
local plain, fixed = flow(42001), flow(42002)

-- Two entries with the same 5 s timeout; one of them with FIXED_TIMEOUT.
assert(ct.alloc(plain, {timeout = 5000}))
assert(ct.alloc(fixed, {timeout = 5000, status = {"fixed_timeout"}}))

-- Real packets of both flows from the client. They find the entries (no miss).
lab.send{proto = "udp", dport = 5300, sport = 42001, count = 2}
lab.send{proto = "udp", dport = 5300, sport = 42002, count = 2}

local p = assert(ct.lookup(plain))
local f = assert(ct.lookup(fixed))
print(("   without fixed_timeout: %6d ms left  %s"):format(p.timeout, table.concat(p.status, ",")))
print(("   with fixed_timeout:    %6d ms left  %s"):format(f.timeout, table.concat(f.status, ",")))
assert(p.timeout > 5000, "netfilter should have refreshed the plain entry's timeout")
assert(f.timeout <= 5000, "the fixed entry's timeout should have held")
print("look: traffic reset the plain entry to netfilter's UDP timeout; the fixed one kept 5 s")

-- Changing the timeout later: allowed on the plain entry, refused once FIXED_TIMEOUT is
-- set (bpf_ct_change_timeout returns -EPERM, and changes nothing).
assert(ct.change(plain, {timeout = 300000}))
local ok, msg = ct.change(fixed, {timeout = 300000})
assert(not ok and msg:match("^EPERM:"), tostring(msg))
print("   " .. msg)
print("look: a fixed timeout cannot be changed: EPERM")

-- Status bits. Entries you insert start without SEEN_REPLY, so netfilter classes the
-- next original-direction packet as NEW (ct state new), even though the entry is
-- confirmed. Setting seen_reply makes it ESTABLISHED; assured protects the entry from
-- early drop when the table is full. Bits are only ever added.
local s = assert(ct.change(plain, {status = {"seen_reply", "assured"}}))
print("   status now: " .. table.concat(s.status, ",") .. (" (0x%x)"):format(s.status_bits))
assert(s.status_bits & 0x6 == 0x6)

-- What SEEN_REPLY changes for netfilter: a packet in the original direction of an entry
-- without it is classed NEW (`ct state new`), though the entry is confirmed; with it,
-- ESTABLISHED. Rules such as `ct state established accept` match only the second.
-- Two counters in the server's input hook show which state each packet was given.
assert(os.execute("ip netns exec " .. lab.server .. " nft 'add table inet tour05; " ..
  "add chain inet tour05 in { type filter hook input priority filter; }; " ..
  "add rule inet tour05 in udp dport 5301 ct state new counter; " ..
  "add rule inet tour05 in udp dport 5301 ct state established counter'"))
local function states()
  local nft = assert(io.popen("ip netns exec " .. lab.server .. " nft list chain inet tour05 in"))
  local text = nft:read("a")
  nft:close()
  return tonumber(text:match("state new counter packets (%d+)")),
         tonumber(text:match("state established counter packets (%d+)"))
end
assert(ct.alloc({src = lab.addr.client, dst = lab.addr.server, sport = 42011, dport = 5301,
                 proto = "udp"}, {timeout = 30000}))
lab.send{proto = "udp", dport = 5301, sport = 42011}
local new1, est1 = states()
assert(ct.alloc({src = lab.addr.client, dst = lab.addr.server, sport = 42012, dport = 5301,
                 proto = "udp"}, {timeout = 30000, status = {"seen_reply"}}))
lab.send{proto = "udp", dport = 5301, sport = 42012}
local new2, est2 = states()
assert(new1 == 1 and est1 == 0 and new2 == 1 and est2 == 1,
       ("ct state counters: new %s/%s, established %s/%s"):format(new1, new2, est1, est2))
print("look: netfilter saw the packet of the plain entry as NEW, the seen_reply one as ESTABLISHED")

-- ct.change passes the entry's status OR'ed with what you ask (as code must that works
-- on every kernel), so nothing is ever dropped by accident. A number reaches the kernel
-- as given: a bit that touches EXPECTED (0x1), CONFIRMED or DYING is refused, EBUSY.
local _, busy = ct.change(plain, {status = 0x1})
assert(busy and busy:match("^EBUSY:"), tostring(busy))
print("   " .. busy)
print("look: status bits are only added; EXPECTED, CONFIRMED and DYING are the kernel's: EBUSY")

-- A timeout of 0 marks the entry expired: the next lookup or the garbage collector
-- reaps it. That is the only way BPF can "delete" an entry.
assert(ct.change(plain, {timeout = 0}))
local gone, why = ct.lookup(plain)
assert(not gone and why:match("^ENOENT:"), tostring(why))
print("look: timeout 0 expired the entry: " .. why)
print("05-timeouts-status: ok")
