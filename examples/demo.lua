-- demo.lua - the policy `make demo` runs: create conntrack entries for TCP 8080 and
-- UDP 5353 ourselves, drop TCP 9999, leave the rest to netfilter, and print each event.
--
-- usage: ctlua examples/demo.lua IFNAME [SECONDS]
local ifname = arg[1] or error("usage: ctlua demo.lua IFNAME [SECONDS]", 0)
local seconds = tonumber(arg[2] or "10")

-- Entries this policy makes carry mark 0x42, so `conntrack -L -m 66` lists just them.
local MARK = 0x42

ct.mode("enforce")
ct.default("pass")
ct.rule{proto = "tcp", dport = 8080, action = "alloc", mark = MARK, timeout = 120000,
        status = {"seen_reply", "assured"}}
-- Netfilter resets a tracked flow's timeout on every packet unless fixed_timeout is set.
ct.rule{proto = "udp", dport = 5353, action = "alloc", mark = MARK, timeout = 60000,
        status = {"fixed_timeout"}}
ct.rule{proto = "tcp", dport = 9999, action = "drop"}

local function show(ev)
  local what = ev.kind
  if ev.rule then what = what .. " (rule " .. ev.rule .. ")" end
  if ev.errname then what = what .. " " .. ev.errname end
  print(string.format("   event: %-16s %-6s %s  -> %s", what, ev.dir, tostring(ev.tuple), ev.action))
end
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, show) end

local link <close> = assert(ct.attach(ifname))
io.stdout:setvbuf("line")
ct.run(seconds)

local s = assert(ct.stats())
print(string.format("   summary: %d packets, %d conntrack hits, %d misses: %d entries created, " ..
                    "%d failed, %d dropped, %d left to netfilter",
                    s.packets, s.lookup_hit, s.lookup_miss, s.alloc_ok, s.alloc_error,
                    s.drops, s.passes))
