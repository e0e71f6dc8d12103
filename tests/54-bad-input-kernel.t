#!/bin/bash
# 54-bad-input-kernel.t - issue #10 section 2, the part that needs the kernel: which of
# the kfuncs' EINVAL checks a request failed, ct.default(nil, opts), ct.events with keys,
# and ct.alloc_many with a bad item after thousands of good ones (nothing is created and
# the error is raised; the next call still works). Runs in a namespace of its own.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
make_ns || BAIL_OUT "cannot create a test namespace"

# in_ns CODE: ctlua -e CODE in the namespace; sets OUT, ERR, RC (netns.sh).
in_ns() { ctlua_run "$NS" 30 -e "$1"; }

# --- EINVAL: the check that failed, not one text for five causes -------------------------
in_ns '
local u = {src="198.18.0.2", dst="198.18.0.1", sport=4000, dport=53, proto="udp"}
print((select(2, ct.alloc(u, {opts_size=13}))))
print((select(2, ct.alloc(u, {reserved=1, opts_size=16}))))
print((select(2, ct.alloc(u, {reserved=1}))))
print((select(2, ct.alloc(u, {zone=5, opts_size=12}))))
print((select(2, ct.alloc(u, {netns=-2}))))
print((select(2, ct.lookup(u, {opts_size=20}))))
print((select(2, ct.lookup(u, {netns=-7}))))
print(ct.alloc(u, {timeout=60000}).tuple)'
is "$RC" 0 "the EINVAL script exits 0" || show_ctlua
F="udp 198.18.0.2:4000 → 198.18.0.1:53"
is "$OUT" "EINVAL: bpf_skb_ct_alloc refused $F: opts size 13 is not one this kernel takes (12 or 16)
EINVAL: bpf_skb_ct_alloc refused $F: the reserved bytes of the 16-byte opts are not zero (1, 0, 0)
EINVAL: bpf_skb_ct_alloc refused $F: bytes 10-11 of the 12-byte opts (reserved, or the zone id) are 1, not zero: a zone needs opts size 16
EINVAL: bpf_skb_ct_alloc refused $F: bytes 10-11 of the 12-byte opts (reserved, or the zone id) are 5, not zero: a zone needs opts size 16
EINVAL: bpf_skb_ct_alloc refused $F: netns_id -2 is below -1
EINVAL: bpf_skb_ct_lookup refused $F: opts size 20 is not one this kernel takes (12 or 16)
EINVAL: bpf_skb_ct_lookup refused $F: netns_id -7 is below -1
$F" "each EINVAL names the check it failed; the next alloc works" || show_ctlua

# --- ct.default(nil, opts) applies the opts to the action in force --------------------------
in_ns '
local function show(a, o)
	local t = {}
	for k, v in pairs(o) do
		t[#t + 1] = k .. "=" .. (type(v) == "table" and table.concat(v, ",") or tostring(v))
	end
	table.sort(t)
	print(a, table.concat(t, " "))
end
show(ct.default("alloc", {mark=7}))
show(ct.default(nil, {timeout=1}))
show(ct.default())
show(ct.default(nil, {}))
show(ct.default("drop"))
show(ct.default(nil, {status={"assured"}}))'
is "$OUT" "alloc	mark=7
alloc	timeout=1
alloc	timeout=1
alloc	
drop	
drop	status=assured" "ct.default(nil, opts) keeps the action and replaces its opts" || show_ctlua

# --- ct.events with keys is refused, and the mask stays as it was -------------------------
in_ns '
print(table.concat(ct.events({"drop"}), ","))
print(pcall(ct.events, {miss=true}))
print(pcall(ct.events, {"miss", nil, "alloc"}))
print(table.concat(ct.events(), ","))
print(table.concat(ct.events({"miss", "alloc"}), ","))'
is "$OUT" "drop
false	bad argument #1 to 'ct.events' ('miss' is not a list index (expected a list of event kinds))
false	bad argument #1 to 'ct.events' (item 2 is nil (a list of event kinds cannot have holes))
drop
miss,alloc" "ct.events{miss=true} and a list with a hole are refused; the mask is unchanged; the next call works" ||
	show_ctlua

# --- ct.alloc_many: a bad item is found before anything is created -----------------------
# 20 000 tuples span two runs of 16 384: the bad last one used to raise after the first
# run had created its entries, and their count was lost.
in_ns '
local list = {}
for i = 1, 20000 do
	list[i] = {src="198.18.0.2", dst="198.18.1.1", sport=10000 + i % 50000, dport=53 + i // 50000, proto="udp"}
end
list[20001] = {src="198.18.0.2", dst="198.18.1.1", sport=1, dport=70000, proto="udp"}
print(pcall(ct.alloc_many, list, {timeout=60000}))
print((select(2, ct.lookup(list[1]))))
list[20001] = nil
local n, fails, msg = ct.alloc_many(list, {timeout=60000})
print(n, #fails, msg)
print(ct.alloc_many({list[1], list[2]}))
local n2, f2 = ct.alloc_many({list[1], list[2]})
print(n2, #f2, f2[1].index, f2[1].errname, f2[2].index)'
is "$RC" 0 "the alloc_many script exits 0" || show_ctlua
like "$OUT" "^false	bad argument #1 to 'ct.alloc_many' \\(item 20001: field 'dport': 70000 is out of range 0 to 65535\\)
ENOENT: no conntrack entry for udp 198.18.0.2:10001 → 198.18.1.1:53
20000	0	nil
0	table: 0x[0-9a-f]+
0	2	1	EEXIST	2$" \
	"a bad 20 001st item raises before any entry exists; then all 20 000 are created; duplicates are failures" ||
	show_ctlua

# --- ct.alloc_many interrupted: what was done, then the error ------------------------------
# SIGSTOP and SIGCONT make a pending signal without a handler: BPF_PROG_TEST_RUN stops with
# EINTR between two requests, as it would for any signal. They are sent until a run is caught
# (after the first run, every request is a duplicate the kernel refuses: the loop spends
# nearly all its time inside BPF_PROG_TEST_RUN; it gives up after 10 s, generous under load).
ctlua_start "$NS" 20 -e '
local list = {}
for i = 1, 40000 do
	list[i] = {src="198.18.0.2", dst="198.18.2.1", sport=1 + i % 60000, dport=53 + i // 60000, proto="udp"}
end
assert(ct.mode())	-- loaded now: the signals below fall on the runs, not on the load
print("READY")
io.stdout:flush()
local t0 = os.time()
while os.time() - t0 < 10 do
	local n, fails, msg, errno = ct.alloc_many(list, {timeout=60000})
	if msg then
		local tried = tonumber(msg:match("stopped after (%d+) of"))
		print("STOPPED", math.type(n), type(fails), errno, n + #fails == tried, n < 40000)
		print((msg:gsub("%d+", "N")))
		break
	end
end'
wait_line "$CTLUA_OUT" READY 10
ctlua_stop_continue 200 0.045 STOPPED
ctlua_finish
is "$OUT" "READY
STOPPED	integer	table	4	true	true
EINTR: BPF_PROG_TEST_RUN stopped after N of N tuples, N created (Interrupted system call)" \
	"an interrupted ct.alloc_many returns the count and failures so far, then EINTR's message and errno" ||
	show_ctlua


# --- the program's load interrupted by a stop and continue: tried again ---------------------
# The verifier gives up with EAGAIN when a signal is pending while it works (Ctrl-Z then fg,
# a debugger): ctlua loads again from the start (datapath.c, CTL_DP_LOAD_TRIES). The load
# takes a few hundred ms; four stops in its first 150 ms land in it.
ctlua_start "$NS" 20 -e '
print("READY")
io.stdout:flush()
print(ct.mode())'
wait_line "$CTLUA_OUT" READY 10
ctlua_stop_continue 4 0.03
ctlua_finish
is "$OUT" "READY
enforce" "a load stopped and continued midway is tried again and succeeds" || show_ctlua

done_testing
