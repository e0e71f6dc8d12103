-- 06-mark-zones.lua - step 6: the mark, conntrack zones, and the namespace in opts.
--
-- usage: ctlua lab examples/06-mark-zones.lua
--
-- mark: ct->mark, the one nf_conn field BPF may write (6.1+, CONFIG_NF_CONNTRACK_MARK).
--   Netfilter rules can match it (nft `ct mark`), and `conntrack -L -m` filters by it.
-- zone: opts.ct_zone_id and opts.ct_zone_dir (6.11+, opts__sz 16). Zone and namespace are
--   part of an entry's key: the same tuple can exist once per zone.
-- netns: opts.netns_id; -1 is the caller's namespace, 0 and up a peer namespace's id.

ct.policy{mode = "enforce", default = "pass", rules = {}}   -- a clean slate (step 1)
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

-- 1. The mark, seen by netfilter. A counter in the server's input hook counts packets
-- whose conntrack entry has mark 0x42.
local function nft(cmd)
  local p = assert(io.popen("ip netns exec " .. lab.server .. " nft " .. cmd .. " 2>&1"))
  local out = p:read("a")
  assert(p:close(), "nft " .. cmd .. ": " .. out)
  return out
end
nft("'add table inet tour06; add chain inet tour06 in { type filter hook input " ..
    "priority filter; }; add rule inet tour06 in ct mark 0x42 counter'")

assert(ct.rule{proto = "udp", dport = 5360, action = "alloc", mark = 0x42})
lab.send{proto = "udp", dport = 5360, sport = 43001, count = 3}
lab.send{proto = "udp", dport = 5361, sport = 43002, count = 3}   -- no rule: mark 0
local counted = tonumber(nft("list chain inet tour06 in"):match("packets (%d+)"))
assert(counted == 3, "nft counted " .. tostring(counted) .. " packets with ct mark 0x42")
print("look: nft's `ct mark 0x42` rule counted the 3 packets of the marked flow, not the other 3")

-- The mark can be changed on an inserted entry, and filters the table.
local t = ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = 43001, dport = 5360,
                   proto = "udp"}
assert(ct.change(t, {mark = 0xbeef}))
local n = 0
for e in assert(lab.entries{mark = 0xbeef}) do n = n + 1; print("   entry: " .. tostring(e)) end
assert(n == 1)
print("look: ct.change wrote mark 0xbeef; lab.entries{mark = 0xbeef} finds it")

-- 2. Zones. The same tuple in zone 7 and in zone 0 are two entries: no EEXIST.
local z = ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = 43010, dport = 5362,
                   proto = "udp"}
print("   " .. tostring(assert(ct.alloc(z, {zone = 7}))))
local _, none = ct.lookup(z)                       -- zone 0, the default
assert(none:match("^ENOENT:"), tostring(none))
assert(ct.lookup(z, {zone = 7}))
assert(ct.alloc(z))                                -- zone 0: a second, separate entry
print("look: an entry in zone 7 is invisible from zone 0, and the same tuple fits in both")

-- ct_zone_dir says which direction's tuple the zone applies to: 1 original, 2 reply,
-- 3 both (0 means both: the kernel writes 3 back). An entry made in zone 9 for the
-- original direction only is not found by a lookup in zone 9 for the reply direction.
local zd = ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = 43011, dport = 5362,
                    proto = "udp"}
assert(ct.alloc(zd, {zone = {id = 9, dir = "original"}}))
assert(ct.lookup(zd, {zone = {id = 9, dir = "original"}}))
local _, other = ct.lookup(zd, {zone = {id = 9, dir = "reply"}})
assert(other:match("^ENOENT:"), tostring(other))
print("look: zone 9 dir original is found with dir original, not with dir reply")

-- 3. The namespace. netns_id names a peer namespace by its id as seen from ours; ctlua
-- takes a name from `ip netns` and finds the id. This entry goes to the CLIENT's table.
local c = ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = 43020, dport = 5363,
                   proto = "udp"}
assert(ct.alloc(c, {netns = lab.client, mark = 0x77}))
local _, here = ct.lookup(c)
assert(here:match("^ENOENT:"), tostring(here))
local found = 0
for _ in assert(ct.entries{netns = lab.client, mark = 0x77}) do found = found + 1 end
assert(found == 1)
print("look: netns = '" .. lab.client .. "' put the entry in the client's table, not the server's")
print("06-mark-zones: ok")
