#!/bin/bash
# 81-lab-cleanup.t - the lab leaves nothing behind (namespace, veth, qdisc, filter) however
# ctlua ends: the script's end, an error, os.exit, SIGINT, SIGTERM, SIGHUP, and SIGKILL
# (the next lab removes it); two labs at once do not collide; and links act in the
# namespace they were attached in while ctlua's thread moves in and out of a lab.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

script=$TEST_TMP/lab.lua
cat >"$script" <<'EOF'
-- arg[1]: the file whose existence ends the wait; arg[2]: how to end
print("READY", lab.server, lab.client, lab.addr.server)
io.stdout:flush()
if arg[2] == "run" then return print("RUN", ct.run()) end
while not io.open(arg[1]) do ct.poll(50) end
local sent, t = assert(lab.send{count = 2})
local n = 0
for e in assert(lab.entries{proto = "udp", sport = t.sport}) do n = n + 1 end
print("ENTRIES", n)
io.stdout:flush()
if arg[2] == "error" then error("boom") end
if arg[2] == "exit" then os.exit(3) end
EOF

# lab_start HOW: ctlua lab SCRIPT in the background (the host's namespace); LAB_PID is
# ctlua's own pid, LAB_OUT its output; returns once the lab is up.
_n=0
lab_start()
{
	_n=$((_n + 1))
	LAB_OUT=$TEST_TMP/lab.$_n.out
	LAB_GO=$TEST_TMP/go.$_n
	"$CTLUA" lab "$script" "$LAB_GO" "$1" >"$LAB_OUT" 2>"$LAB_OUT.err" </dev/null &
	LAB_PID=$!
	wait_line "$LAB_OUT" '^READY' 10 || diag "the lab did not come up: $(cat "$LAB_OUT.err")"
}

# left PID: what a lab of process PID left: namespaces, its veths in the host.
left()
{
	ip netns list | grep "^ctlab-$1-"
	ip -o link show lab-srv 2>/dev/null
	ip -o link show lab-cli 2>/dev/null
}

# lab_case HOW SIGNAL WANT_RC WHAT
lab_case()
{
	local how=$1 sig=$2 want=$3 what=$4 rc srv
	lab_start "$how"
	srv=ctlab-$LAB_PID-1-srv
	like "$(ip netns list)" "$srv" "$what: the server namespace exists while it runs"
	like "$(tc -n "$srv" filter show dev lab-srv ingress 2>&1)" 'ctlua_ingress' \
		"$what: ctlua's filter is on lab-srv ingress"
	if [[ -n "$sig" ]]; then
		sleep 0.2
		kill "-$sig" "$LAB_PID"
	else
		touch "$LAB_GO"
	fi
	wait "$LAB_PID"
	rc=$?
	is "$rc" "$want" "$what: exit status $want" || diag_text "$(cat "$LAB_OUT" "$LAB_OUT.err")"
	is "$(left "$LAB_PID")" "" "$what: no namespace or veth is left"
}

lab_case end "" 0 "the script's end"
like "$(cat "$LAB_OUT")" $'ENTRIES\t1' "  the script saw its entry"
lab_case error "" 1 "a script that fails"
like "$(cat "$LAB_OUT.err")" 'ctlua: .*lab.lua:[0-9]+: boom' "  its error is reported"
lab_case exit "" 3 "os.exit(3) (the state is not closed: the exit handler deletes it)"
lab_case wait INT 1 "SIGINT"
like "$(cat "$LAB_OUT.err")" 'interrupted' "  the script was told it was interrupted"
lab_case wait TERM 1 "SIGTERM"
lab_case run HUP 0 "SIGHUP inside ct.run"

# --- SIGKILL: the next lab removes what the killed one left -----------------------------
lab_start wait
killed=$LAB_PID
kill -KILL "$killed"
{ wait "$killed"; } 2>/dev/null	# bash's "Killed" line too
like "$(ip netns list)" "ctlab-$killed-1-srv" "after SIGKILL the namespaces stay"
lab_start end
touch "$LAB_GO"
wait "$LAB_PID"
is "$(left "$killed")" "" "the next lab.up removes the namespaces of a lab whose process is gone"

# --- two labs at once ------------------------------------------------------------------
lab_start wait
pid1=$LAB_PID out1=$LAB_OUT go1=$LAB_GO
lab_start wait
pid2=$LAB_PID out2=$LAB_OUT go2=$LAB_GO
a1=$(grep '^READY' "$out1" | cut -f4)
a2=$(grep '^READY' "$out2" | cut -f4)
isnt "$a1" "$a2" "two labs at once have different addresses ($a1, $a2)"
like "$(ip netns list)" "ctlab-$pid1-1-srv" "the first lab's namespace is there"
like "$(ip netns list)" "ctlab-$pid2-1-srv" "and the second's"
touch "$go1" "$go2"
wait "$pid1"
is "$?" 0 "the first lab's script exits 0"
wait "$pid2"
is "$?" 0 "the second lab's script exits 0"
like "$(cat "$out1")" $'ENTRIES\t1' "the first lab saw its own entry"
like "$(cat "$out2")" $'ENTRIES\t1' "the second lab saw its own entry"
is "$(left "$pid1")$(left "$pid2")" "" "both left nothing"

# --- links keep their namespace --------------------------------------------------------
# ctlua starts in NS_A (nsenter keeps the mount namespace, so the lab's `ip netns add`
# is the host's), where veth-a has the same ifindex as lab-srv has in the lab's server.
cat >"$script" <<EOF
local lab = require "ctlua.lab"
local host = assert(ct.attach("$IF_A"))
assert(lab.up{attach = false})
local mine = assert(ct.attach(lab.ifname))
print("IFINDEX", host.ifindex == mine.ifindex)
-- detached from inside the lab: the filter in NS_A goes, the lab's stays
print("DETACH", host:detach())
local p = io.popen("tc filter show dev lab-srv ingress")
print("LABFILTER", (p:read("a"):match("ctlua_ingress")))
p:close()
print("MINE", mine.attached, lab.server)
-- a link waiting for an interface follows the lab's namespace, not NS_A's
local late = assert(ct.attach("late0", {wait = true}))
os.execute("ip link add late0 type veth peer name late1")
for _ = 1, 20 do
	ct.poll(50)
	if late.attached then break end
end
print("LATE", late.attached)
-- back in NS_A: a link of the lab left attached is detached in the lab, not here
assert(lab.down())
host = assert(ct.attach("$IF_A"))
print("GONE", mine:detach())
print("HOST", host.attached)
os.execute("tc filter show dev $IF_A ingress | grep -q ctlua_ingress && echo HOSTFILTER kept")
EOF
out=$(timeout 30 nsenter --net="/run/netns/$NS_A" "$CTLUA" "$script" 2>&1 </dev/null)
is "$?" 0 "the namespace-switching script exits 0" || diag_text "$out"
has_line "$out" $'IFINDEX\ttrue' "veth-a in NS_A and lab-srv in the lab have the same ifindex" ||
	diag_text "$out"
has_line "$out" $'DETACH\ttrue' "a link of NS_A detached from inside the lab" || diag_text "$out"
unlike "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" 'ctlua_ingress' \
	"  took its filter off NS_A's veth-a"
has_line "$out" $'LABFILTER\tctlua_ingress' "  and left the lab's filter on lab-srv (same ifindex)" ||
	diag_text "$out"
like "$out" $'MINE\ttrue\t' "  whose link is still attached" || diag_text "$out"
has_line "$out" $'LATE\ttrue' "a waiting link attaches when its interface appears in the lab" ||
	diag_text "$out"
has_line "$out" $'GONE\ttrue' "a link left in a lab that went down detaches without error" ||
	diag_text "$out"
has_line "$out" $'HOST\ttrue' "  and NS_A's link on the same ifindex is still attached" ||
	diag_text "$out"
has_line "$out" 'HOSTFILTER kept' "  with its filter" || diag_text "$out"
is "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" "ctlua's exit took NS_A's filter off"
lab_ns=$(grep -o 'ctlab-[0-9]*-[0-9]*-srv' <<<"$out" | head -n 1)
like "$lab_ns" '^ctlab-' "the script named its lab"
is "$(ip netns list | grep -c "^${lab_ns%-srv}-")" 0 "no lab namespace is left"

done_testing
