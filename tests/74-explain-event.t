#!/bin/bash
# 74-explain-event.t - the stage field and ct.explain(ev) on real events: a duplicate
# ct.alloc stops at bpf_ct_insert_entry (EEXIST, stage "insert"), a refused status at
# bpf_ct_set_status (EBUSY, stage "status", then the expired insert); a real packet's
# alloc and miss say which rule decided and which kfuncs ran, in order, with the
# rule's timeout. The kernel facts name the running kernel.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

pair_test_setup

SCRIPT=$TEST_TMP/explain.lua
cat >"$SCRIPT" <<EOF
local out = {}
ct.on("alloc_error", function(ev) out[#out + 1] = ev end)
local t = ct.tuple{proto = "udp", src = "198.18.0.1", dst = "198.18.0.2", sport = 1000, dport = 53}
assert(ct.alloc(t))
print(ct.alloc(t))
print(ct.alloc(ct.tuple{proto = "udp", src = "198.18.0.1", dst = "198.18.0.2", sport = 1001,
			dport = 53}, {status = 8}))
for _ = 1, 20 do if #out >= 2 then break end ct.poll(100) end
for _, ev in ipairs(out) do
	print("EVENT", ev.kind, ev.stage, ev.errname)
	print(ct.explain(ev))
end
print("explain(miss table):", pcall(ct.explain, {}))
EOF
ctlua_run "$NS_A" 30 "$SCRIPT"
is "$RC" 0 "the script runs" || show_ctlua
like "$OUT" "EVENT	alloc_error	insert	EEXIST" "a duplicate's alloc_error has stage \"insert\""
like "$OUT" "EVENT	alloc_error	status	EBUSY" "a refused status's has stage \"status\""
ins=$(sed -n '/^alloc_error: udp 198.18.0.1:1000/,/^EVENT\|^explain/p' <<<"$OUT")
like "$ins" "on lo \\(a direct request\\)" "the insert's explanation: a direct request, on lo"
like "$ins" "  1\\. bpf_skb_ct_alloc: ok: an entry allocated, not yet in the table
.*
  2\\. bpf_ct_insert_entry: refused \\(NULL, no reason given\\): EEXIST
     a direct request then looks the tuple up: EEXIST if an entry has it, ENOSPC if none does" \
	"  the kfuncs in order: alloc ok, then the insert refused" || diag_text "$ins"
like "$ins" "the kernel answered: EEXIST \\(17\\): an entry with this tuple is already in the table" \
	"  what the kernel answered, explained"
like "$ins" "  at: bpf_ct_insert_entry \\(stage \"insert\"\\)" "  and where"
like "$ins" "this kernel \\($(uname -r)\\) takes opts of 12 or 16 bytes; zones yes \\(6\\.11\\+\\)" \
	"  the running kernel's facts: opts sizes and zones"
st=$(sed -n '/^alloc_error: udp 198.18.0.1:1001/,/^explain/p' <<<"$OUT")
like "$st" "  2\\. bpf_ct_set_status: refused: EBUSY
  3\\. bpf_ct_set_timeout: 0: no kfunc discards an allocation, so it goes in already expired
  4\\. bpf_ct_insert_entry: the expired entry is inserted \\(or refused\\); the event reports the status failure" \
	"a refused status: set_status refused, then the entry inserted already expired" || diag_text "$st"
like "$st" "the kernel answered: EBUSY \\(16\\): this status change is not allowed" "  EBUSY explained"
like "$OUT" "explain\\(miss table\\):	false	bad argument #1 to 'ct.explain' \\(errno, errno name or event expected, got table\\)" \
	"a table that is no event is misuse"

# --- a real packet: miss and alloc, decided by a rule ----------------------------------------
cat >"$SCRIPT" <<EOF
ct.rule{proto = "udp", dport = 5355, action = "alloc", timeout = 30000, mark = 16}
local n = 0
local function show(ev) print("EVENT", ev.kind, ev.stage) print(ct.explain(ev)) n = n + 1 end
ct.on("miss", show)
ct.on("alloc", show)
assert(ct.attach("$IF_A"))
print("ready") io.stdout:flush()
for _ = 1, 50 do if n >= 2 then break end ct.poll(100) end
EOF
# send_to PORT SPORT...: run $SCRIPT in A, and send one datagram from B to A:PORT from each SPORT
send_to()
{
	local port=$1 sport
	shift
	ctlua_start "$NS_A" 30 "$SCRIPT"
	wait_line "$CTLUA_OUT" ready 10
	for sport in "$@"; do
		udp_send "$NS_B" "$ADDR_A" "$port" "$sport" "packet-$sport"
	done
	ctlua_finish
}
send_to 5355 40002
is "$RC" 0 "the packet script runs" || show_ctlua
miss=$(sed -n '/^EVENT	miss/,/^EVENT/p' <<<"$OUT")
like "$miss" "^EVENT	miss	nil
miss: udp $ADDR_B:40002 → $ADDR_A:5355 on $IF_A ingress
decided: alloc, by rule 1 " "a miss: no stage; decided by rule 1" || diag_text "$OUT"
like "$miss" "  1\\. bpf_skb_ct_lookup: no entry \\(ENOENT\\): the flow is new, so the policy decides
  then: bpf_skb_ct_alloc and the rest" "  the lookup missed, the allocation follows"
alloc=$(sed -n '/^EVENT	alloc/,$p' <<<"$OUT")
like "$alloc" "  1\\. bpf_skb_ct_lookup: no entry \\(ENOENT\\): the flow is new, so the policy decides
  2\\. bpf_skb_ct_alloc: ok: an entry allocated, not yet in the table \\(opts of 12 bytes: netns_id -1, l4proto of the packet\\)
  3\\. bpf_ct_set_timeout: 30000 ms \\(it returns nothing: it cannot fail\\)
  4\\. ct->mark: 0x10, written directly \\(not a kfunc; 6\\.1\\+\\)
  5\\. bpf_ct_insert_entry: ok: the entry is in the table
  6\\. bpf_ct_release: the reference the insert returned is dropped" \
	"an alloc: lookup, alloc, the rule's timeout and mark, insert, release, in order" ||
	diag_text "$alloc"
like "$alloc" "the packet path passes opts of 12 bytes, which every kernel from 6\\.0 takes" \
	"  and the packet path's opts size"

# --- a miss over the rule's rate limit: the over action, not the rule's ---------------------
cat >"$SCRIPT" <<EOF
ct.rule{proto = "udp", dport = 5356, action = "alloc", mark = 16,
	limit = {rate = 0.001, burst = 1, over = "drop", name = "tight"}}
local n = 0
ct.on("miss", function(ev)
	n = n + 1
	if ev.action == "drop" then print("EVENT", ev.kind, ev.action) print(ct.explain(ev)) end
end)
assert(ct.attach("$IF_A"))
print("ready") io.stdout:flush()
for _ = 1, 50 do if n >= 2 then break end ct.poll(100) end
EOF
send_to 5356 40003 40004	# the first within the burst, the second over the limit
is "$RC" 0 "the limit script runs" || show_ctlua
like "$OUT" "EVENT	miss	drop
miss: udp $ADDR_B:40004 → $ADDR_A:5356 on $IF_A ingress
decided: drop, by rule 1 .*
over the limit: rule 1's action is alloc, but the flow was over its rate limit \\(slot [0-9]+ 'tight', over \"drop\"\\): the limit's over action applied, so none of the rule's opts ran" \
	"a limited miss: the limit's over action, named, and not the rule's alloc" || diag_text "$OUT"
unlike "$OUT" "bpf_skb_ct_alloc: ok" "  and no allocation steps with the rule's opts"

done_testing
