-- 04-alloc-errors.lua - step 4: allocate directly, and meet every error the kfuncs give.
--
-- usage: ctlua lab examples/04-alloc-errors.lua
--
-- ct.alloc(tuple, opts) calls the kfuncs right now, with exactly the values you give:
-- bpf_skb_ct_alloc(ctx, &tuple, tuple__sz, &opts, opts__sz), then bpf_ct_set_timeout,
-- the mark, bpf_ct_set_status, bpf_ct_set_nat_info and bpf_ct_insert_entry. It runs a
-- small BPF program through BPF_PROG_TEST_RUN; in the lab, in the server's namespace.
--
-- struct bpf_ct_opts, as this kernel (6.11+) has it (opts__sz 16; 12 is still taken):
--   offset 0  s32 netns_id   -1 = the caller's namespace, 0.. = a peer's nsid
--   offset 4  s32 error      written by the kernel, only on failure
--   offset 8  u8  l4proto    IPPROTO_TCP or IPPROTO_UDP
--   offset 9  u8  dir        output of lookup (which direction matched), ignored on input
--   offset 10 u16 ct_zone_id  } 6.11+; in the 12-byte layout these two bytes are
--   offset 12 u8  ct_zone_dir } "reserved" and must be zero
--   offset 13 u8  reserved[3] must be zero

ct.policy{mode = "enforce", default = "pass", rules = {}}   -- a clean slate (step 1)
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

-- One flow per case, so that no case meets an entry an earlier one made.
local sport = 41000
local function flow(proto)
  sport = sport + 1
  return ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = sport, dport = 53,
                  proto = proto or "udp"}
end

-- First, one that works: the entry as the kernel holds it.
local e = assert(ct.alloc(flow(), {timeout = 30000, mark = 7}))
print("   ok: " .. tostring(e))
print("look: a direct alloc returns the entry: its reply tuple is the original, swapped")
-- A lookup matches either direction: the reply tuple finds the same entry (the kernel
-- writes opts.dir = 1, the reply direction, where it matched); e.tuple is the original.
local back = assert(ct.lookup(e.reply))
assert(back.tuple == e.tuple)
print("look: ct.lookup(e.reply) finds the entry too: " .. tostring(back.tuple))
-- IPv6: the tuple is 36 bytes (tuple__sz 36) instead of 12.
local v6 = assert(ct.alloc{src = lab.addr.client6, dst = lab.addr.server6, sport = 41000,
                           dport = 53, proto = "udp"})
print("   ok: " .. tostring(v6))
-- Without a timeout the kernel gives 10 s.
local d = assert(ct.alloc(flow()))
assert(d.timeout <= 10000 and d.timeout > 9000, "default timeout " .. d.timeout)
print("look: without a timeout the kernel's default is 10 s: " .. d.timeout .. " ms")

-- Each case: the opts, the errno name we expect, and what it teaches. The messages name
-- the kfunc that refused, the flow, and which of the kernel's checks applied, in the
-- kernel's own order; ct.explain(name) says the rest.
local cases = {
  {{reserved = 1}, "EINVAL", "reserved bytes must be zero (12-byte opts: the zone bytes)"},
  {{reserved = 1, zone = 3}, "EINVAL", "reserved bytes must be zero (16-byte opts)"},
  {{zone = 3, opts_size = 12}, "EINVAL", "a zone id needs opts__sz 16"},
  {{netns = -2}, "EINVAL", "netns_id below -1 (BPF_F_CURRENT_NETNS)"},
  {{opts_size = 13}, "EINVAL", "opts__sz is 12 or 16, nothing else"},
  {{l4proto = 1}, "EPROTO", "l4proto is not TCP or UDP (1 is ICMP)"},
  {{netns = 2000000}, "ENONET", "no peer namespace has that nsid"},
  {{tuple_size = 11}, "EAFNOSUPPORT", "tuple__sz is 12 (IPv4) or 36 (IPv6)"},
  {{status = 1}, "EBUSY", "status bits BPF may not set (1 = IPS_EXPECTED)"},
}
for _, c in ipairs(cases) do
  local opts, want, why = c[1], c[2], c[3]
  local ok, msg, errno = ct.alloc(flow(), opts)
  assert(not ok, "expected " .. want .. " for " .. why)
  assert(msg:match("^" .. want .. ":"), "expected " .. want .. ", got " .. msg)
  print(("   %-12s %-3d %s"):format(want, errno, why))
  print("                " .. msg:match(": (.*)$"))
end
print("look: each documented error, from the kernel itself, in the order it checks")

-- EBUSY came from bpf_ct_set_status, after the allocation: no kfunc can throw an
-- allocation away, so ctlua inserted it already expired (timeout 0). It does not stand
-- in the way of the same flow later.

-- The errors the documentation leaves out. A duplicate: bpf_ct_insert_entry returns
-- NULL with no reason; ctlua looks the tuple up to tell you it was EEXIST. Either
-- direction counts: the reply tuple of an existing entry is a duplicate too.
local t = flow()
assert(ct.alloc(t))
local _, dup = ct.alloc(t)
assert(dup:match("^EEXIST:"), dup)
local _, dup_reply = ct.alloc(t.reply)
assert(dup_reply:match("^EEXIST:"), dup_reply)
print("   " .. dup)
print("look: a duplicate, in either direction, is EEXIST (ctlua found it by a lookup)")

-- A lookup that finds nothing: ENOENT. Zone and namespace are part of the key.
local _, none = ct.lookup(flow())
assert(none:match("^ENOENT:"), none)
print("   " .. none)

-- ENOMEM (the table is full: nf_conntrack_max), ENOSPC (a hash chain too long) and
-- the rest cannot be produced on demand here; ct.explain tells what they mean.
for _, name in ipairs{"ENOMEM", "ENOSPC"} do
  print("   " .. ct.explain(name):match("^[^\n]*"))
end
print("look: ct.explain() knows " .. table.concat(ct.explain(), " "))
print("04-alloc-errors: ok")
