#!/bin/bash
# 27-event-order.t - events reach the callback once each, in order, with their fields:
# real packets from a sender pinned to one CPU (per-CPU order is what the ring keeps),
# in bursts of sizes around a 16-event batch (1, 3, 15, 16, 17, 40, 5), each followed
# by silence, must each reach the callback promptly, in the order sent; a direct
# request made from a callback in mid-burst (ct.alloc) arrives once, dir "request";
# ct.stats().events counts each event once. Written for the per-CPU staging of events
# (doc/performance.md, "Staging"), which was measured and not kept; it guards any
# batching of events into ring records.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup
command -v python3 >/dev/null || BAIL_OUT "python3 is needed (scripts/install-deps)"

SIZES=(1 3 15 16 17 40 5)
BASE=20000	# the first burst's first source port; each datagram takes the next one

cat >"$TEST_TMP/order.lua" <<'EOF'
io.stdout:setvbuf("line")
local allocs = 0
ct.on("miss", function(e)
	print("EV", e.sport, e.dport, e.src, e.dst, e.dir, e.kind, e.ifname)
	if e.dport == 7009 then	-- the marker: a direct request while the burst goes on
		local ok, msg = ct.alloc({ src = "198.18.0.2", dst = "198.18.0.1", sport = 40000,
					   dport = 5353, proto = "udp" })
		allocs = allocs + 1
		print("ALLOC", ok and "ok" or msg)
	end
end)
ct.on("alloc", function(e)
	print("AL", e.sport, e.dport, e.dir)
end)
local link = assert(ct.attach(arg[1]))
assert(ct.events{ "miss", "alloc" })
print("ready")
ct.run(tonumber(arg[2]))
local s = assert(ct.stats())
print("END", s.events, s.events_lost, allocs)
EOF

# One datagram per source port from FIRST on, N of them to ADDR_A:PORT, as fast as
# python goes, from CPU 0 only; with MARK, datagram MARK goes to port 7009 instead.
cat >"$TEST_TMP/send.py" <<'EOF'
import socket, sys
dst, port, first, n, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
socks = []
for i in range(n):
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind(("", first + i))
	socks.append(s)
for i, s in enumerate(socks):
	s.sendto(b"x", (dst, 7009 if i == mark else port))
EOF

# wait_count N SECONDS: until the callback saw N events; prints the ms taken.
wait_count() { wait_lines "$CTLUA_OUT" "^EV	" "$1" "$2"; }

ctlua_start "$NS_A" 40 "$TEST_TMP/order.lua" "$IF_A" 8
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
wait_line "$CTLUA_OUT" '^ready$' 10 || fail "ctlua printed 'ready'"
sleep 0.2

total=0
port=$BASE
for size in "${SIZES[@]}"; do
	mark=-1
	((size == 40)) && mark=20	# the direct request in the middle of the largest burst
	ip netns exec "$NS_B" taskset -c 0 python3 "$TEST_TMP/send.py" "$ADDR_A" 7008 "$port" "$size" "$mark"
	total=$((total + size))
	port=$((port + size))
	ms=$(wait_count "$total" 1)
	ok $? "a burst of $size: every event reaches the callback within 1 s (${ms} ms)"
	sleep 0.1
done

ctlua_finish
is "$RC" 0 "ctlua exits 0 after ct.run" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua

got=$(grep "^EV	" "$CTLUA_OUT" | cut -f2 | tr '\n' ' ')
want=$(seq "$BASE" $((BASE + total - 1)) | tr '\n' ' ')
is "$got" "$want" "the $total events arrive once each, in the order sent (source ports)"
bad=$(grep "^EV	" "$CTLUA_OUT" |
	awk -F'\t' -v a="$ADDR_A" -v b="$ADDR_B" -v i="$IF_A" '
		!(($3 == 7008 || $3 == 7009) && $4 == b && $5 == a && $6 == "ingress" &&
		  $7 == "miss" && $8 == i)' | head -n 3)
is "$bad" "" "every event has its fields right (dport, addresses, dir, kind, interface)"
is "$(grep -c "^EV	.*	7009	" "$CTLUA_OUT")" 1 "one marker datagram"
is "$(grep "^ALLOC" "$CTLUA_OUT")" "ALLOC	ok" "the direct request from the callback succeeded"
is "$(grep "^AL	" "$CTLUA_OUT")" "AL	40000	5353	request" \
	"its alloc event arrives once, dir request"
read -r _ events lost allocs <<<"$(grep '^END' <<<"$OUT")"
is "$events" "$((total + allocs))" "ct.stats().events counts each event once ($events)"
is "$lost" 0 "no event lost"

done_testing
