#!/bin/bash
# 38-alloc-threads.t - ct.alloc_many{threads=N} runs one slice of each chunk per thread,
# all at once: every entry is created exactly once, each request's result lands at its
# own index, a refusal in any slice is reported with that index, and tuples given as
# strings go in as the tables do. Runs in a namespace of its own.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
make_ns || BAIL_OUT "cannot create a test namespace"

# in_ns CODE: ctlua -e CODE in the namespace; sets OUT, ERR, RC (netns.sh).
in_ns() { ctlua_run "$NS" 60 -e "$1"; }
count() { ip netns exec "$NS" conntrack -C; }

# --- 40 000 tuples, three threads: three chunks (16384, 16384, 7232), each in three slices
in_ns '
local list = {}
for i = 1, 40000 do
	list[i] = {src="198.18.4." .. (1 + i // 20000), dst="198.18.5.1", sport=1 + i % 20000,
		   dport=53, proto="udp"}
end
local n, fails, msg = ct.alloc_many(list, {timeout=60000, threads=3})
print("FIRST", n, #fails, msg)
-- again, in two threads: every tuple now exists, so every request fails, once, at its index
local n2, f2 = ct.alloc_many(list, {timeout=60000, threads=2})
local seen, dup, eexist, ordered = {}, 0, 0, true
for k, f in ipairs(f2) do
	if seen[f.index] then dup = dup + 1 end
	seen[f.index] = true
	if f.errname == "EEXIST" and f.call == "bpf_ct_insert_entry" then eexist = eexist + 1 end
	if k > 1 and f.index <= f2[k - 1].index then ordered = false end
end
print("AGAIN", n2, #f2, dup, eexist, ordered, f2[1].index, f2[#f2].index)'
is "$RC" 0 "the threaded alloc_many script exits 0" || show_ctlua
like "$OUT" $'FIRST\t40000\t0\tnil' "40 000 tuples in three threads: all created, no failure" || show_ctlua
is "$(count)" 40000 "conntrack -C counts exactly 40 000 entries: none missing, none twice"
like "$OUT" $'AGAIN\t0\t40000\t0\t40000\ttrue\t1\t40000' \
	"the same list again in two threads: 40 000 EEXIST failures, one per index 1..40000, in order" || show_ctlua

# --- refusals in different slices, with their own indices ----------------------------------
in_ns '
local list = {}
for i = 1, 12 do
	list[i] = {src="198.18.6.1", dst="198.18.6.2", sport=1000 + i, dport=53, proto="udp"}
end
list[2] = {src="198.18.4.1", dst="198.18.5.1", sport=2, dport=53, proto="udp"}	-- exists
list[7] = {src="198.18.6.1", dst="198.18.6.2", sport=7, dport=53, proto=1}	-- EPROTO
list[11] = list[5]	-- created by another slice a moment before, or after: one of the two fails
local n, fails = ct.alloc_many(list, {threads=4})
local t = {}
for _, f in ipairs(fails) do t[#t + 1] = f.index .. ":" .. f.errname .. ":" .. f.call end
print("SLICES", n, table.concat(t, " "))
print("LOOKUP", ct.lookup(list[12]) ~= nil, ct.lookup(list[1]) ~= nil)'
is "$RC" 0 "the slices script exits 0" || show_ctlua
like "$OUT" $'SLICES\t9\t2:EEXIST:bpf_ct_insert_entry (5|11):EEXIST:bpf_ct_insert_entry 7:EPROTO:bpf_skb_ct_alloc|SLICES\t9\t2:EEXIST:bpf_ct_insert_entry 7:EPROTO:bpf_skb_ct_alloc 11:EEXIST:bpf_ct_insert_entry' \
	"12 tuples in 4 slices: 9 created; the duplicate (item 2), EPROTO (item 7) and the repeat within the batch each named by index" || show_ctlua
like "$OUT" $'LOOKUP\ttrue\ttrue' "the first and last slices' entries exist" || show_ctlua

# --- tuples as strings ---------------------------------------------------------------------
in_ns '
local list = {}
for i = 1, 1000 do
	list[i] = "udp 198.18.7.1:" .. (2000 + i) .. " -> 198.18.7.2:53"
end
list[1001] = "tcp [2001:db8::7]:40000 → [2001:db8::8]:443"
local n, fails = ct.alloc_many(list, {timeout=60000, mark=9, threads=2})
print("STRINGS", n, #fails)
print("ENTRY", ct.lookup(ct.tuple("udp 198.18.7.1:2500 -> 198.18.7.2:53")).mark,
	ct.lookup(ct.tuple(list[1001])).tuple)'
is "$RC" 0 "the strings script exits 0" || show_ctlua
like "$OUT" $'STRINGS\t1001\t0' "1001 tuples given as strings: all created" || show_ctlua
like "$OUT" $'ENTRY\t9\ttcp \\[2001:db8::7\\]:40000 → \\[2001:db8::8\\]:443' \
	"they carry the opts; the IPv6 one with the arrow tostring prints is the same flow" || show_ctlua
like "$(ct_entry "$NS" "src=198.18.7.1 dst=198.18.7.2 sport=2999 ")" ' mark=9 ' \
	"conntrack -L shows a string tuple's entry with its mark"

# --- interrupted in threads: what ran is counted, once ----------------------------------------
# As in 54-bad-input-kernel.t: SIGSTOP and SIGCONT until a run is caught. The caller's slice
# stops with EINTR; the other slices run on (or stop too: a group stop reaches every thread).
# Whatever ran is created or a failure, and "stopped after N" counts exactly those.
ctlua_start "$NS" 20 -e '
local list = {}
for i = 1, 40000 do
	list[i] = {src="198.18.8.2", dst="198.18.8.1", sport=1 + i % 60000, dport=53 + i // 60000, proto="udp"}
end
assert(ct.mode())	-- loaded now: the signals below fall on the runs, not on the load
print("READY")
io.stdout:flush()
local t0 = os.time()
while os.time() - t0 < 10 do
	local n, fails, msg, errno = ct.alloc_many(list, {timeout=60000, threads=2})
	if msg then
		local tried = tonumber(msg:match("stopped after (%d+) of"))
		print("STOPPED", errno, n + #fails == tried, tried < 40000)
		print((msg:gsub("%d+", "N")))
		break
	end
end'
wait_line "$CTLUA_OUT" READY 10
ctlua_stop_continue 200 0.045 STOPPED
ctlua_finish
is "$OUT" "READY
STOPPED	4	true	true
EINTR: BPF_PROG_TEST_RUN stopped after N of N tuples, N created (Interrupted system call)" \
	"an interrupted threaded ct.alloc_many counts what ran: created + failures = tried < all" ||
	show_ctlua

done_testing
