#!/bin/bash
# 83-tour.t - the guided tour: every examples/[0-9]*.lua runs under `ctlua lab`, exits 0
# with nothing on stderr, prints the lines that show what it teaches, and leaves no lab
# namespace (which holds the veths, the clsact qdisc and ctlua's filter) and no lab veth
# behind; neither does an example that fails, one stopped by SIGINT, nor (the check's own
# check) only a SIGKILL leaves them, and the check sees it.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua

# What each example must print (grep -E, one pattern a line), besides "NN-name: ok".
declare -A KEY=(
	[01-observe]='^look: 3 packets, 1 miss \(the first\), 2 lookup hits \(the rest\)$
^   event: event\{miss ingress lab-srv udp .*:40001 → .*:5353, action pass\}$
^look: conntrack has one entry for the flow, made by netfilter, not by ctlua$'
	[02-rules]='^look: UDP 5353 got an alloc event naming rule 1, TCP 9999 a drop event naming rule 2$
^   entry: entry\{udp .* status confirmed,fixed_timeout, timeout [0-9]+ ms, mark 0x42\}$
^look: UDP 5354 was passed: its entry is netfilter.s \(mark 0\)$'
	[03-callback]='^look: the callback.s alloc answer gave netfilter.s entry for UDP 7000 mark 0x30$
^   verdict for udp .*:40011 → .*:6000: drop$
^look: the drop verdict for UDP 6000 came too late: its entry lets the flow through$'
	[04-alloc-errors]='^look: ct.lookup\(e.reply\) finds the entry too: udp .*:41001 → .*:53$
^   ok: entry\{udp \[2001:db8:[0-9a-f:]+\]:41000 → \[2001:db8:[0-9a-f:]+\]:53, reply udp 
^look: without a timeout the kernel.s default is 10 s: [0-9]+ ms$
^   EINVAL       22  reserved bytes must be zero \(12-byte opts: the zone bytes\)$
: the reserved bytes of the 16-byte opts are not zero \(1, 0, 0\)$
: bytes 10-11 of the 12-byte opts \(reserved, or the zone id\) are 3, not zero: a zone needs opts size 16$
: netns_id -2 is below -1$
: opts size 13 is not one this kernel takes \(12 or 16\)$
^   EPROTO       71  l4proto is not TCP or UDP
^   ENONET       64  no peer namespace has that nsid$
^   EAFNOSUPPORT 97  tuple__sz is 12
^   EBUSY        16  status bits BPF may not set
^   EEXIST: bpf_ct_insert_entry refused udp .*: an entry with this tuple \(either direction\) is already in the table$
^   ENOENT: no conntrack entry for udp
^   ENOMEM \(12\): '
	[05-timeouts-status]='^look: netfilter saw the packet of the plain entry as NEW, the seen_reply one as ESTABLISHED$
^   without fixed_timeout: +[0-9]{5} ms left  confirmed$
^   with fixed_timeout: +[0-9]{4} ms left  confirmed,fixed_timeout$
^   EPERM: bpf_ct_change_timeout refused .*: it has fixed_timeout, so its timeout cannot change$
^   EBUSY: bpf_ct_change_status refused status 0x1
^look: timeout 0 expired the entry: ENOENT: '
	[06-mark-zones]='^look: nft.s `ct mark 0x42` rule counted the 3 packets of the marked flow, not the other 3$
^look: an entry in zone 7 is invisible from zone 0, and the same tuple fits in both$
^look: zone 9 dir original is found with dir original, not with dir reply$
^look: netns = .ctlab-[0-9]+-[0-9]+-cli. put the entry in the client.s table, not the server.s$'
	[07-nat]='^look: the reply tuple now comes FROM port 9090: tcp .*:9090 → .*:44001$
^look: a real connection to port 7070 was accepted by the listener on 9090$
^look: without the entry, the same connection to 7070 is refused$
^look: 2 datagrams sent to UDP 7071 were received on 9091$
^look: snat with port 0 kept the source port: the reply goes to 198.18.0.9:44010$'
	[08-rate-limit]='^look: 6 new flows at once: 3 allowed \(the burst\), 3 refused$
^look: the flows. next packets: 3 hit their entries, 3 dropped by their verdicts$
^look: 2.5 s later, one token: of 2 new flows, 1 allowed and 1 refused$'
	[09-boot-allowlist]='^look: TCP 22 and TCP 8080 \(IPv4 and IPv6\) connect: they are on the list$
^refused tcp .*:[0-9]+ → .*:9999$
^refused udp .*:[0-9]+ → .*:5400$
^look: TCP 9999 and UDP 5400 are refused though something listens; UDP 5355 passes$'
)

# lab_run FILE [SIGNAL AFTER_LINE]: `ctlua lab FILE` in the background, stopped after 90 s
# at most; with SIGNAL, sent once its stdout has a line matching AFTER_LINE. Sets RC, OUT,
# ERR and LAB_PID (ctlua's, which names the lab's namespaces ctlab-PID-N-*).
lab_run()
{
	local file=$1 sig=${2:-} after=${3:-} i
	"$CTLUA" lab "$file" >"$TEST_TMP/lab.out" 2>"$TEST_TMP/lab.err" </dev/null &
	LAB_PID=$!
	if [[ -n "$sig" ]]; then
		wait_line "$TEST_TMP/lab.out" "$after" 20 || diag "no line /$after/ from $file"
		kill "-$sig" "$LAB_PID"
	fi
	# a watchdog without a background process (one would hold prove's pipe open)
	for ((i = 0; i < 900; i++)); do
		_ns_alive "$LAB_PID" || break
		sleep 0.1
	done
	((i == 900)) && diag "$file still ran after 90 s: killed" && kill -KILL "$LAB_PID"
	{ wait "$LAB_PID"; } 2>/dev/null   # no "Killed" notice from bash
	RC=$?
	OUT=$(cat "$TEST_TMP/lab.out")
	ERR=$(cat "$TEST_TMP/lab.err")
}

# leftovers PID: what the lab of ctlua process PID left: its namespaces, and lab veths in
# this namespace (they are made inside the lab's; one here would be a leak).
leftovers()
{
	ip netns list | grep -E "^ctlab-$1-[0-9]+-(srv|cli)"
	ip -o link show | grep -E ': lab-(srv|cli)[@:]'
}

no_leftovers()
{
	is "$(leftovers "$LAB_PID")" "" "$1: no lab namespace, veth, qdisc or filter is left"
}

# --- every example ------------------------------------------------------------------------
examples=(examples/[0-9]*.lua)
cmp_ok "${#examples[@]}" -ge 9 "the tour has its nine steps"
for file in "${examples[@]}"; do
	name=$(basename "$file" .lua)
	lab_run "$file"
	if ! is "$RC" 0 "$name: exit status 0"; then
		diag_text "$OUT"
		diag_text "$ERR"
	fi
	is "$ERR" "" "$name: nothing on stderr"
	has_line "$OUT" "$name: ok" "$name: ends with '$name: ok'"
	if [[ -z "${KEY[$name]:-}" ]]; then
		fail "$name: its key lines are listed in this test"
	fi
	while IFS= read -r re; do
		[[ -z "$re" ]] && continue
		if grep -Eq -- "$re" <<<"$OUT"; then
			pass "$name prints /$re/"
		else
			fail "$name prints /$re/"
			diag_text "$OUT"
		fi
	done <<<"${KEY[$name]:-}"
	no_leftovers "$name"
done

# --- the tour as a new user takes it: `ctlua lab`, then each step with dofile, in order ----
all=$TEST_TMP/all.lua
printf '%s\n' 'for i = 1, #arg do dofile(arg[i]) end' >"$all"
"$CTLUA" lab "$all" "${examples[@]}" >"$TEST_TMP/all.out" 2>&1 </dev/null
is "$?" 0 "every step, one after another in one lab: exit status 0"
want=
for file in "${examples[@]}"; do
	want+="$(basename "$file" .lua): ok"$'\n'
done
is "$(grep -E '^[0-9]+-[a-z-]+: ok$' "$TEST_TMP/all.out")"$'\n' "$want" \
	"and each says ok, in order (each step starts from a clean slate)" || diag_text "$(cat "$TEST_TMP/all.out")"

# --- a failing example cleans up too ------------------------------------------------------
# 07 with an error after its nft table, listeners, entries and a connection exist.
broken=$TEST_TMP/07-broken.lua
sed 's/^-- 2\. SNAT and port 0.*/error("failing on purpose")\n&/' examples/07-nat.lua >"$broken"
grep -q 'failing on purpose' "$broken" || BAIL_OUT "could not make the failing copy of 07-nat.lua"
lab_run "$broken"
is "$RC" 1 "a failing example: exit status 1"
like "$ERR" "07-broken.lua:[0-9]+: failing on purpose" "its error names file and line"
like "$OUT" "accepted by the listener on 9090" "it failed after its lab was busy"
no_leftovers "the failing example"

# --- Ctrl-C in the middle of a step -------------------------------------------------------
waiting=$TEST_TMP/waiting.lua
cat >"$waiting" <<'EOF'
assert(ct.rule{proto = "udp", dport = 5353, action = "alloc"})
assert(lab.send{proto = "udp", dport = 5353})
print("waiting")
io.stdout:flush()
print(ct.run(60))
EOF
lab_run "$waiting" INT '^waiting$'
like "$OUT" $'waiting\nsignal' "SIGINT ends ct.run in a lab"
no_leftovers "an example stopped by SIGINT"

# --- the check can fail: SIGKILL leaves the lab, and leftovers() sees it -------------------
lab_run "$waiting" KILL '^waiting$'
is "$RC" 137 "SIGKILL kills ctlua lab"
isnt "$(leftovers "$LAB_PID")" "" "and its namespaces are found left behind"
for ns in $(ip netns list | grep -Eo "^ctlab-$LAB_PID-[0-9]+-(srv|cli)"); do
	ip netns del "$ns"
done
is "$(leftovers "$LAB_PID")" "" "which the test removes"

# the steps are read as code to copy: no unused or misspelt names (ct and lab are the
# globals ctlua lab gives them)
if command -v luacheck >/dev/null 2>&1; then
	ok_run "luacheck finds nothing in the steps" luacheck --no-color --globals ct lab -- "${examples[@]}"
else
	skip "'luacheck' is not installed (Debian's lua-check)"
fi

# demo.lua is not a step (it needs IFNAME) but stays where lab/demo.sh finds it
[[ -r examples/demo.lua ]]
ok $? "examples/demo.lua is still there for make demo"

done_testing
