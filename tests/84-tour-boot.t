#!/bin/bash
# 84-tour-boot.t - the tour's boot policy, examples/09-boot-allowlist.lua, as a policy:
# `ctlua check` accepts it and says what it would do, and `ctlua run` serves it in a lab's
# server namespace (CTLUA_IFNAME names the lab's veth): listed ports connect from the
# lab's client, others are refused and logged, and SIGTERM takes its filter off. (83-tour.t
# runs it as a step of the tour.)
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

require_root_kernel
require_ctlua

# A lab held up by a ctlua that has let go of the lab's veth, so the service can attach
# there; it prints the lab's names and addresses, then waits (SIGINT takes the lab down).
cat >"$TEST_TMP/hold.lua" <<'EOF'
assert(lab.link:detach())
print(("%s %s %s %s %s"):format(lab.server, lab.client, lab.ifname, lab.addr.server,
                                lab.addr.server6))
io.stdout:flush()
ct.run(60)
EOF
"$CTLUA" lab "$TEST_TMP/hold.lua" >"$TEST_TMP/hold.out" 2>&1 </dev/null &
HOLD_PID=$!
wait_line "$TEST_TMP/hold.out" '^ctlab-' 20 || BAIL_OUT "the lab did not come up: $(cat "$TEST_TMP/hold.out")"
read -r NS_A NS_B IF_A ADDR_A ADDR6_A <"$TEST_TMP/hold.out"

# As a service wants it: a file of mode 0600 in a directory no one else may write.
POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/allow.lua
policy "$(cat examples/09-boot-allowlist.lua)"

# --- ctlua check --------------------------------------------------------------------------
OUT=$(CTLUA_IFNAME=$IF_A ip netns exec "$NS_A" "$CTLUA" check "$POL" 2>"$TEST_TMP/check.err")
RC=$?
is "$RC" 0 "ctlua check accepts the boot policy"
is "$OUT" "policy '$POL': ok: attach $IF_A ingress; mode enforce; default drop; 4 rules; callbacks drop" \
	"and says what it would do"
is "$(cat "$TEST_TMP/check.err")" "" "with nothing on stderr"

OUT=$(CTLUA_IFNAME=nosuch0 ip netns exec "$NS_A" "$CTLUA" check "$POL" 2>&1)
is "$?" 1 "ctlua check fails where CTLUA_IFNAME names no interface"
like "$OUT" "allow.lua:[0-9]+: no interface named 'nosuch0'" "naming it, with file and line"

# --- ctlua run ----------------------------------------------------------------------------
tcp_listen "$NS_A" 8080 || BAIL_OUT "no listener on 8080"
tcp_listen "$NS_A" 9999 || BAIL_OUT "no listener on 9999"
udp_listen "$NS_A" 5355 || BAIL_OUT "no listener on UDP 5355"
mdns_out=$LISTEN_OUT

export CTLUA_IFNAME=$IF_A
ctlua_start "$NS_A" 30 run "$POL"
unset CTLUA_IFNAME
wait_line "$CTLUA_ERR" "running \(generation 1\)" 10 || wait_line "$CTLUA_OUT" "running \(generation 1\)" 1
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID" || BAIL_OUT "ctlua run did not attach"

tcp_connect "$NS_B" "$ADDR_A" 8080 "" allowed
ok $? "TCP 8080 (listed, IPv4) connects under ctlua run"
tcp_connect "$NS_B" "$ADDR6_A" 8080 "" allowed6
ok $? "TCP 8080 (listed, IPv6) connects"
tcp_connect "$NS_B" "$ADDR_A" 9999 "" denied 2>/dev/null
isnt "$?" 0 "TCP 9999 (not listed) does not, though something listens"
udp_send "$NS_B" "$ADDR_A" 5355 "" mdns
wait_line "$mdns_out" '^mdns$' 2
ok $? "UDP 5355 (listed) arrives"

# the service's ctlua (the holder's is in the namespace too: its thread entered it)
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "SIGTERM stops the service, exit status 0"
like "$OUT$ERR" "refused tcp [0-9.]+:[0-9]+ → $ADDR_A:9999" "the refused SYN is in the log"
unlike "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" bpf "and its filter is gone"

kill -INT "$HOLD_PID"
wait "$HOLD_PID"
is "$(ip netns list | grep -E "^($NS_A|$NS_B)( |$)")" "" "the lab is gone afterwards"

done_testing
