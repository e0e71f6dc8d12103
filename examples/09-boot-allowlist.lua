-- 09-boot-allowlist.lua - step 9: an allow-list policy meant for boot.
--
-- usage: ctlua lab examples/09-boot-allowlist.lua          (try it in the lab)
--        ctlua check examples/09-boot-allowlist.lua        (check it; nothing is loaded)
--        CTLUA_IFNAME=eth0 ctlua run /etc/ctlua/allow.lua  (serve it, as ctlua@allow)
--
-- New flows are refused unless listed. The decision is made in the kernel, on each
-- flow's first packet: "drop" is the default, and the allowed flows are rules. A flow
-- that was allowed gets a conntrack entry (netfilter makes it, since the rules say
-- "pass"), so its later packets, and the replies to the server's own connections, HIT
-- conntrack and are never judged again.
--
-- That needs conntrack on in the namespace (a ruleset that uses it: at boot, let
-- nftables.service come first). Without it nothing makes entries, every packet misses,
-- and the replies to connections the host opens itself are refused by the default.
--
-- As a service the file only DESCRIBES the policy: `ctlua run` attaches, makes it live
-- in one step once the whole top level succeeded, serves the callbacks and reloads on
-- SIGHUP. It takes no arguments; the interface comes from the environment (a systemd
-- drop-in: Environment=CTLUA_IFNAME=eth0).

local IFNAME = os.getenv("CTLUA_IFNAME") or "eth0"

local ALLOW = {
  {proto = "tcp", dport = 22},                                  -- ssh from anywhere
  {proto = "tcp", dport = 8080, src = "198.18.0.0/15"},         -- the web port, from
  {proto = "tcp", dport = 8080, src = "2001:db8::/32"},         --   our own networks
  {proto = "udp", dport = {5353, 5355}},                        -- mDNS, LLMNR
}

-- ct.policy replaces mode, default and rules in one step: no packet sees half of it.
local rules = {}
for i, a in ipairs(ALLOW) do
  rules[i] = {proto = a.proto, dport = a.dport, src = a.src, action = "pass"}
end
assert(ct.policy{mode = "enforce", default = "drop", rules = rules})

-- No judgement in Lua: the rules and the default decide everything. (This also clears
-- what an earlier step of the tour left, when the steps run in one lab.)
for _, kind in ipairs{"miss", "alloc", "alloc_error"} do ct.on(kind, nil) end

-- A line in the log for each refused packet. (On a busy host, count them instead:
-- ct.stats().drops; or ct.events{} to emit nothing.)
ct.on("drop", function(ev)
  print("refused " .. tostring(ev.tuple))
end)

-- In the lab, ctlua is attached to the server's veth already; elsewhere attach here.
-- (`lab` is a global of `ctlua lab` only: ctlua run and ctlua check have none.)
local lab = rawget(_G, "lab")
if not (lab and lab.link) then assert(ct.attach(IFNAME)) end

if not lab then return end
-- ---------------------------------------------------------------------------------
-- Only in the lab: try the list with real traffic. The lab listens on TCP 8080 itself.
assert(lab.listen{proto = "tcp", port = 22})
local denied = assert(lab.listen{proto = "tcp", port = 9999})   -- listening, not listed
local mdns = assert(lab.listen{proto = "udp", port = 5355})
local other = assert(lab.listen{proto = "udp", port = 5400})

assert(lab.connect{dport = 22}, "ssh was refused")
assert(lab.connect{dport = 8080}, "TCP 8080 over IPv4 was refused")
assert(lab.connect{dport = 8080, family = "ipv6"}, "TCP 8080 over IPv6 was refused")
print("look: TCP 22 and TCP 8080 (IPv4 and IPv6) connect: they are on the list")

assert(not lab.connect{dport = 9999, timeout = 1000}, "TCP 9999 is not on the list")
assert(denied:received() == 0)
assert(lab.send{proto = "udp", dport = 5355, count = 2})
assert(lab.send{proto = "udp", dport = 5400, count = 2})
os.execute("sleep 0.1")
assert(mdns:received() == 2 and other:received() == 0,
       ("UDP 5355 got %d, UDP 5400 got %d"):format(mdns:received(), other:received()))
print("look: TCP 9999 and UDP 5400 are refused though something listens; UDP 5355 passes")

ct.run(0.3)   -- the drop events: one line each, as the service would log them
local s = assert(ct.stats())
print(("look: %d packets refused by the default, %d flows let through by the rules")
      :format(s.drops, s.by_rule))
print("09-boot-allowlist: ok")
