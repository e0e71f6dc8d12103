# shellcheck shell=bash
# counting.sh - how far ct.stats() moved while another namespace sent packets, for the
# tests that compare counters with the packets sent (88, 89). Needs tap.sh and netns.sh.
#
#   count_setup                            # pair_test_setup, a quiet link from NS_B
#   count_run IFNAME 'python3 ... ; ...'   # ctlua in NS_A on IFNAME's ingress, ct.default
#                                          # "alloc"; the commands run in NS_B (bash -e)
#   delta lookup_miss                      # how far that counter moved
#   OUT holds one "MISS/ALLOC <tab> ifname <tab> tuple" line per event.

# The packets the tests send (tests/lib/pkt_send.py).
# shellcheck disable=SC2034 # used by the tests that source this
SEND=$PWD/tests/lib/pkt_send.py

# count_setup: a pair whose NS_B puts nothing of its own on NS_A's veth (quiet_link),
# once the listener reports that its set-up causes are over.
count_setup()
{
	pair_test_setup
	quiet_link "$NS_A" "$IF_A" "$NS_B" "$IF_B" "$ADDR_A" "$ADDR6_A" -- "$ADDR_B" "$ADDR6_B" ||
		BAIL_OUT "cannot pin the neighbours"
	sleep 2.5
}

_count_lua()
{
	[[ -f "$TEST_TMP/count.lua" ]] && return 0
	cat >"$TEST_TMP/count.lua" <<'LUA'
assert(ct.attach(arg[1]))
ct.default("alloc")
ct.on("miss", function(e) print("MISS", e.ifname, e.tuple) end)
ct.on("alloc", function(e) print("ALLOC", e.ifname, e.tuple) end)
local s0 = assert(ct.stats())
local ok, how, code = os.execute(arg[2])
print("SENT", ok, how, code)
ct.run(0.5)
local s1 = assert(ct.stats())
for k, v in pairs(s1) do
	if math.type(v) == "integer" then print("D", k, v - s0[k]) end
end
LUA
}

# delta NAME: how far counter NAME moved in the last count_run.
delta()
{
	awk -F'\t' -v k="$1" '$1 == "D" && $2 == k { print $3 }' <<<"$OUT"
}

# count_run IFNAME COMMANDS: two checks of their own (ctlua's exit, the sender's).
count_run()
{
	_count_lua
	printf '%s\n' "set -e" "$2" >"$TEST_TMP/send.sh"
	ctlua_run "$NS_A" 30 "$TEST_TMP/count.lua" "$1" "ip netns exec $NS_B bash $TEST_TMP/send.sh"
	is "$RC" 0 "ctlua on $1 exits 0" || show_ctlua
	like "$OUT" $'SENT\ttrue\texit\t0' "the sender in $NS_B sent everything" || show_ctlua
}
