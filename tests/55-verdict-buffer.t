#!/bin/bash
# 55-verdict-buffer.t - per-flow verdicts wait up to 1 ms on the host and are written in
# batches (src/verdict_buf.c). What the script sees never differs from the kernel's
# table after ct.sync: buffered writes are read back, a ct.forget after a buffered write
# wins, a replace in the buffer keeps the last; the kernel's table (read with bpftool)
# holds exactly what the script stored. The table's bounds keep their meaning: a verdict
# that needs a slot in a full table fails at the call with ENOSPC, even while others
# wait; idle verdicts reclaimed make room that the host's count sees. And a script that
# never returns to a loop still has its verdicts in the kernel within about 1 ms,
# measured by a second process reading the map (tests/lib/verdict_poll.py).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup
command -v bpftool >/dev/null 2>&1 || BAIL_OUT "bpftool is needed to read the verdict map"
command -v jq >/dev/null 2>&1 || BAIL_OUT "jq is needed to read bpftool's output"

# What every script shares: flows, the map's id (by its unique size), and a dump of the
# map from the kernel as "sport action mark" lines, sorted (bpftool, another process).
cat >"$TEST_TMP/common.lua" <<'EOF_LUA'
function flow(p)
	return ct.tuple{src = "198.18.0.2", dst = "198.18.0.1", sport = p, dport = 6500, proto = "udp"}
end
function map_id(size)
	for fd = 0, 1023 do
		local f = io.open("/proc/self/fdinfo/" .. fd)
		if f then
			local info = f:read("a")
			f:close()
			if info:match("map_type:%s*1\n") and
			   info:match("max_entries:%s*(%d+)") == tostring(size) then
				return info:match("map_id:%s*(%d+)")
			end
		end
	end
end
local actions = {[0] = "pass", "alloc", "drop"}
function dump(size)
	local p = assert(io.popen("bpftool -j map dump id " .. map_id(size) .. " | jq -r '.[] | " ..
		".formatted | (.key.sport % 256 * 256 + (.key.sport / 256 | floor) | tostring) " ..
		"+ \" \" + (.value.v.action | tostring) + \" \" + (.value.v.opts.mark | tostring)' | sort -n"))
	local out = {}
	for line in p:lines() do
		local sport, action, mark = line:match("^(%d+) (%d+) (%d+)$")
		out[#out + 1] = sport .. " " .. actions[tonumber(action)] .. " " .. mark
	end
	p:close()
	return out
end
EOF_LUA

# --- reads, forgets and replaces see the buffer; the kernel holds exactly the result ---

cat >"$TEST_TMP/semantics.lua" <<'EOF_LUA'
dofile(arg[1])
ct.config{verdicts = 1000, verdict_idle = 0}
assert(ct.verdict(flow(1), "alloc", {mark = 7, timeout = 30000}))
local a, o = ct.verdict(flow(1))
print("READ", a, o.mark, o.timeout)
print("NONE", ct.verdict(flow(99)))
assert(ct.verdict(flow(2), "drop"))
print("FORGET-WAITING", ct.forget(flow(2)))
print("READ-FORGOTTEN", ct.verdict(flow(2)))
assert(ct.verdict(flow(3), "drop"))
print("SYNC", ct.sync())
assert(ct.verdict(flow(3), "pass"))	-- written, then replaced in the buffer
print("READ-REPLACED", (ct.verdict(flow(3))))
print("FORGET-BOTH", ct.forget(flow(3)))
print("FORGET-AGAIN", ct.forget(flow(3)))
assert(ct.verdict(flow(4), "drop"))
assert(ct.verdict(flow(4), "alloc", {mark = 9}))	-- the last write wins
assert(ct.verdict(flow(5), "drop"))
assert(ct.forget(flow(5)))
assert(ct.verdict(flow(5), "pass", {mark = 11}))	-- a write after the forget wins
assert(ct.sync())
print("KERNEL " .. table.concat(dump(1000), ","))

-- fill the table exactly: 3 stored, 997 more
for p = 1000, 1996 do assert(ct.verdict(flow(p), "drop")) end
print("FULL", ct.verdict(flow(1997), "drop"))
print("REPLACE-FULL", ct.verdict(flow(1001), "pass", {mark = 1}))
-- every other one forgotten, some waiting, some written: the count follows
for p = 1000, 1996, 2 do assert(ct.forget(flow(p))) end
for p = 3000, 3498 do assert(ct.verdict(flow(p), "drop")) end
print("FULL-AGAIN", ct.verdict(flow(3499), "drop"))
print("STATS", ct.stats().verdicts_full)
assert(ct.sync())
local want = {"1 alloc 7", "4 alloc 9", "5 pass 11"}
for p = 1001, 1995, 2 do want[#want + 1] = p .. (p == 1001 and " pass 1" or " drop 0") end
for p = 3000, 3498 do want[#want + 1] = p .. " drop 0" end
local got = dump(1000)
print("COUNT", #got)
print("EXACT", table.concat(got, ",") == table.concat(want, ","))
EOF_LUA
out=$(ip netns exec "$NS_A" timeout 30 "$CTLUA" "$TEST_TMP/semantics.lua" "$TEST_TMP/common.lua" 2>&1)
F="udp 198.18.0.2:%s → 198.18.0.1:6500"
has_line "$out" $'READ\talloc\t7\t30000' "a buffered verdict reads back with its opts"
has_line "$out" $'NONE\tnil\tENOENT: no verdict for '"$(printf "$F" 99)"$'\t2' \
	"a flow with no verdict reads as nil, ENOENT naming it, 2"
has_line "$out" $'FORGET-WAITING\ttrue' "ct.forget of a verdict still waiting returns true"
has_line "$out" $'READ-FORGOTTEN\tnil\tENOENT: no verdict for '"$(printf "$F" 2)"$'\t2' \
	"and the forgotten verdict reads as gone"
has_line "$out" $'SYNC\ttrue' "ct.sync returns true"
has_line "$out" $'READ-REPLACED\tpass' "a replace waiting in the buffer reads back, not the written one"
has_line "$out" $'FORGET-BOTH\ttrue' "ct.forget takes the waiting replace and the written one"
has_line "$out" $'FORGET-AGAIN\tnil\tENOENT: no verdict for '"$(printf "$F" 3)"$'\t2' \
	"so forgetting again finds nothing"
has_line "$out" "KERNEL 1 alloc 7,4 alloc 9,5 pass 11" \
	"the kernel's table after ct.sync is exactly what the script stored (bpftool)"
full="the verdict table is full (1000 entries, reclaiming is off): cannot store $(printf "$F" 1997) (ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)"
has_line "$out" $'FULL\tnil\tENOSPC: '"$full"$'\t28' \
	"the 1001st flow fails at the call with ENOSPC, though most of the 1000 wait in the buffer"
has_line "$out" $'REPLACE-FULL\ttrue' "a full table still replaces a stored verdict"
has_line "$out" $'FULL-AGAIN\tnil\tENOSPC: '"${full/1997/3499}"$'\t28' \
	"after 499 forgets and 499 new flows the table is full again, to the flow"
has_line "$out" $'STATS\t2' "ct.stats counts the 2 refused verdicts"
has_line "$out" $'COUNT\t1000' "the kernel holds 1000 verdicts"
has_line "$out" $'EXACT\ttrue' "and exactly the ones stored, with their last actions and marks"
unlike "$out" "ctlua:" "no error on the way" || diag_text "$out"

# --- reclaim: idle verdicts removed make room, and the host's count knows it ---------

cat >"$TEST_TMP/reclaim.lua" <<'EOF_LUA'
dofile(arg[1])
ct.config{verdicts = 3, verdict_idle = 300}
for p = 1, 3 do assert(ct.verdict(flow(p), "drop")) end
print("FULL", ct.verdict(flow(4), "drop") == nil)	-- none idle yet
os.execute("sleep 0.5")
print("RECLAIM", ct.verdict(flow(5), "pass"))
print("EXPIRED", ct.stats().verdicts_expired)
print("MORE", ct.verdict(flow(6), "drop"), ct.verdict(flow(7), "drop"))
print("FULL", select(2, ct.verdict(flow(8), "drop")))
assert(ct.sync())
print("KERNEL " .. table.concat(dump(3), ","))
EOF_LUA
out=$(ip netns exec "$NS_A" timeout 30 "$CTLUA" "$TEST_TMP/reclaim.lua" "$TEST_TMP/common.lua" 2>&1)
has_line "$out" $'FULL\ttrue' "a 4th flow in a table of 3 with none idle is refused"
has_line "$out" $'RECLAIM\ttrue' "after 500 ms the 3 idle verdicts are reclaimed for a new one"
has_line "$out" $'EXPIRED\t3' "and counted in verdicts_expired"
has_line "$out" $'MORE\ttrue\ttrue' "the freed slots take two more flows"
has_line "$out" $'FULL\tENOSPC: the verdict table is full (3 entries, none unused for 300 ms): cannot store '"$(printf "$F" 8)"' (ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)'$'\t28' \
	"then the table is full again: the host counted the reclaimed ones out"
has_line "$out" "KERNEL 5 pass 0,6 drop 0,7 drop 0" "and the kernel holds exactly those three"

# --- a write the kernel refuses when the buffer is written: reported, named, counted ---
#
# Another writer (bpftool) fills the table behind the host's back, so the host's count
# lets two verdicts wait that the kernel then refuses. Each is retried alone at the
# next call, fails, and that call returns ENOSPC naming it.

cat >"$TEST_TMP/refused.lua" <<'EOF_LUA'
dofile(arg[1])
ct.config{verdicts = 3, verdict_idle = 0}
assert(ct.verdict(flow(1), "drop"))
assert(ct.sync())
local z12 = (" 00"):rep(12)
for i = 8, 9 do
	assert(os.execute("bpftool map update id " .. map_id(3) .. " key hex c6 12 00 0" .. i .. z12 ..
		" c6 12 00 01" .. z12 .. " 00 0" .. i .. " 19 64 02 11 00 00 value hex" ..
		(" 00"):rep(80)))	-- sizeof(struct ctlua_flow_verdict)
end
print("WAIT", ct.verdict(flow(10), "drop"), ct.verdict(flow(11), "drop"))
print("SYNC1", ct.sync())
print("SYNC2", ct.sync())
print("SYNC3", ct.sync())
print("READ", ct.verdict(flow(10)))
print("STATS", ct.stats().verdicts_full)
EOF_LUA
out=$(ip netns exec "$NS_A" timeout 30 "$CTLUA" "$TEST_TMP/refused.lua" "$TEST_TMP/common.lua" 2>&1)
full="the verdict table is full (3 entries, reclaiming is off): cannot store"
tail="(ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)"
has_line "$out" $'WAIT	true	true' "with room by the host's count, both verdicts wait"
has_line "$out" $'SYNC1	nil	ENOSPC: '"$full $(printf "$F" 10) $tail"$'\t28' \
	"the kernel refuses them: ct.sync retries the first alone and returns ENOSPC naming it"
has_line "$out" $'SYNC2	nil	ENOSPC: '"$full $(printf "$F" 11) $tail"$'\t28' \
	"the next call does the same for the second"
has_line "$out" $'SYNC3	true' "after which nothing waits"
has_line "$out" $'READ	nil	ENOENT: no verdict for '"$(printf "$F" 10)"$'\t2' \
	"a refused verdict is dropped, not left half-stored"
has_line "$out" $'STATS\t2' "both are counted in verdicts_full"

# --- a forgotten refused write, then a live one: the buffer's counts stay right ---------
#
# The flusher's batch is refused (bpftool filled the table); the script forgets one of
# the refused flows, makes room, and writes a new flow, whose call settles the refused
# ones. Forgetting an unrelated stored flow then must not take the live write with it.

cat >>"$TEST_TMP/common.lua" <<'EOF_LUA'
-- the map's key for 198.18.0.A:P -> 198.18.0.1:6500 udp, in bpftool's hex
function hexkey(a, p)
	local z12 = (" 00"):rep(12)
	return ("c6 12 00 %02x"):format(a) .. z12 .. " c6 12 00 01" .. z12 ..
		(" %02x %02x 19 64 02 11 00 00"):format(p >> 8, p & 255)
end
function foreign_put(size, a, p)
	assert(os.execute("bpftool map update id " .. map_id(size) .. " key hex " .. hexkey(a, p) ..
		" value hex" .. (" 00"):rep(80)))	-- sizeof(struct ctlua_flow_verdict)
end
function foreign_del(size, a, p)
	assert(os.execute("bpftool map delete id " .. map_id(size) .. " key hex " .. hexkey(a, p)))
end
EOF_LUA

cat >"$TEST_TMP/dead.lua" <<'EOF_LUA'
dofile(arg[1])
ct.config{verdicts = 3, verdict_idle = 0}
assert(ct.verdict(flow(1), "drop"))
assert(ct.sync())
foreign_put(3, 8, 8)
foreign_put(3, 9, 9)
assert(ct.verdict(flow(10), "drop"))
assert(ct.verdict(flow(11), "drop"))
os.execute("sleep 0.05")	-- the flusher writes both; the kernel refuses them
print("FORGET-REFUSED", ct.forget(flow(10)))
foreign_del(3, 8, 8)
foreign_del(3, 9, 9)
print("WRITE", ct.verdict(flow(12), "pass", {mark = 12}), ct.forget(flow(1)))
print("SYNC", ct.sync())
print("KERNEL " .. table.concat(dump(3), ","))
EOF_LUA
out=$(ip netns exec "$NS_A" timeout 30 "$CTLUA" "$TEST_TMP/dead.lua" "$TEST_TMP/common.lua" 2>&1)
has_line "$out" $'FORGET-REFUSED\ttrue' "ct.forget of a refused write returns true"
has_line "$out" $'WRITE\ttrue\ttrue' "the next write settles the refused ones; an unrelated forget succeeds"
has_line "$out" $'SYNC\ttrue' "ct.sync returns true"
has_line "$out" "KERNEL 11 drop 0,12 pass 12" \
	"the kernel holds the settled write and the live one: the forget did not drop it"
unlike "$out" "ctlua:" "no error on the way" || diag_text "$out"

# --- reclaim while a newer write for the reclaimed flow waits: it keeps its slot ------
#
# A refused write's flow gets an old, idle value in the kernel behind the host's back;
# reclaiming (for the first refused write) deletes that value, but the waiting write puts
# the flow back, so the host must go on counting it: the table is full one flow later.

cat >"$TEST_TMP/gone.lua" <<'EOF_LUA'
dofile(arg[1])
ct.config{verdicts = 3, verdict_idle = 300}
ct.mode()	-- loads the datapath
for a = 7, 9 do foreign_put(3, a, a) end	-- full, all idle (used_ns 0)
assert(ct.verdict(flow(10), "drop"))
assert(ct.verdict(flow(11), "drop"))
os.execute("sleep 0.05")	-- the flusher writes both; the kernel refuses them
foreign_del(3, 7, 7)
foreign_put(3, 2, 11)		-- flow(11) with an idle value
print("SYNC", ct.sync())
print("ROOM", ct.verdict(flow(12), "drop"))
print("FULL", ct.verdict(flow(13), "drop"))
assert(ct.sync())
print("KERNEL " .. table.concat(dump(3), ","))
EOF_LUA
out=$(ip netns exec "$NS_A" timeout 30 "$CTLUA" "$TEST_TMP/gone.lua" "$TEST_TMP/common.lua" 2>&1)
has_line "$out" $'SYNC\ttrue' "ct.sync settles both refused writes, reclaiming the idle values"
has_line "$out" $'ROOM\ttrue' "the third slot takes a new flow"
has_line "$out" $'FULL\tnil\tENOSPC: the verdict table is full (3 entries, none unused for 300 ms): cannot store '"$(printf "$F" 13)"' (ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)'$'\t28' \
	"the fourth fails at the call: the reclaimed flow whose write waited is still counted"
has_line "$out" "KERNEL 10 drop 0,11 drop 0,12 drop 0" "the kernel holds the three"
unlike "$out" "ctlua:" "no error on the way" || diag_text "$out"

# --- the deadline: a script that never returns to a loop ------------------------------
#
# Each verdict is followed by 30 ms of pure Lua: no ct call, no loop, nothing that
# writes the buffer but the flusher's 1 ms deadline. A second process polls the map
# without pause; the delay runs from the writer's clock read before the call to the
# poller finding the key (both CLOCK_MONOTONIC), so it can only be overstated.

cat >"$TEST_TMP/deadline.lua" <<'EOF_LUA'
dofile(arg[1])
ct.config{verdicts = 555}
ct.mode()	-- loads the datapath
print("MAP " .. map_id(555))
io.stdout:flush()
local function busy(ms)
	local t = os.clock() + ms / 1000
	while os.clock() < t do end
end
for _ = 1, 1000 do	-- until the poller polls (10 s at most)
	local f = io.open(arg[2])
	if f then f:close() break end
	busy(10)
end
-- CLOCK_MONOTONIC as the kernel reads it for /proc/timer_list ("now at N nsecs")
local function now_ns()
	local f <close> = assert(io.open("/proc/timer_list"))
	return assert(f:read(200):match("now at (%d+) nsecs"))
end
for i = 1, 20 do
	local t = now_ns()	-- before the call: the delay measured is an upper bound
	assert(ct.verdict(flow(7000 + i), "drop"))
	io.write("W ", 7000 + i, " ", t, "\n")
	io.stdout:flush()
	busy(30)
end
print("END")
EOF_LUA
if command -v python3 >/dev/null 2>&1; then
	out=$(ip netns exec "$NS_A" timeout 30 "$CTLUA" "$TEST_TMP/deadline.lua" "$TEST_TMP/common.lua" \
		"$TEST_TMP/ready" 2>&1 |
		python3 tests/lib/verdict_poll.py "$TEST_TMP/ready" 198.18.0.2 198.18.0.1 6500 $(seq 7001 7020))
	has_line "$out" END "the writer ran to its end"
	delays=$(awk 'NF == 2 && $1 ~ /^70[0-9][0-9]$/ { print $2 }' <<<"$out" | sort -n)
	is "$(wc -l <<<"$delays")" 20 "the second process saw all 20 verdicts" || diag_text "$out"
	median=$(sed -n 10p <<<"$delays") max=$(tail -n 1 <<<"$delays")
	diag "ct.verdict -> in the map, seen from another process: median ${median} us, max ${max} us"
	# the bound also holds the clock read before the call and one round of the poller
	cmp_ok "${median:-999999}" -le 1500 "half are in the kernel within 1.5 ms (deadline 0.9 ms, waking, writing)"
	# the worst of 20 reached 18 ms on this 2-CPU machine with builds running beside it;
	# what must hold is that no verdict waits for the script's next call
	cmp_ok "${max:-999999}" -lt 25000 "all before the script's next call, 30 ms later"
else
	[[ "${CI:-}" == true ]] && BAIL_OUT "python3 is missing (scripts/install-deps.sh installs it)"
	skip "python3 is needed to poll the map from a second process" 4
fi
done_testing
