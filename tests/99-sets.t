#!/bin/bash
# 99-sets.t - named sets on real packets: a rule's src_set drops the members of a prefix
# set (IPv4 and IPv6 in one set, host addresses and shorter prefixes of both: the hash
# maps and the tries) and leaves the other sources to the default, a dport_set drops the
# ports of a port set, and a rule after 10 000 others naming a set of 100 000 prefixes
# still decides. Then the sets change live (set:add, set:del, no rule written; the set's
# last IPv6 host address goes, so the program looks no more in the IPv6 hash for it but
# still in the trie, and ctl_set_kinds says so) and the next flows follow; ctlua replay
# of the flows before the change decides them alike from the sets on the host. Loading
# the 100 000 prefixes with one set:add is timed: under 1 s (5 s for the sanitizer
# build, whose every memory access is checked).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

# ctlua_map NAME: the id of the running ctlua's map NAME, found by its descriptors
ctlua_map()
{
	local pid f id
	pid=$(ctlua_self) || return 1
	for f in /proc/"$pid"/fdinfo/*; do
		id=$(sed -n 's/^map_id:\t//p' "$f" 2>/dev/null)
		[[ -n "$id" && "$(bpftool -j map show id "$id" | jq -r .name)" == "$1" ]] &&
			echo "$id" && return 0
	done
	return 1
}

# More sources in NS_B: .3 and ::3 go in the blocklist as host addresses, .6 and ::6 as
# members of its shorter prefixes, .4 in the big set.
ip -n "$NS_B" addr add 198.18.0.3/24 dev "$IF_B" &&
	ip -n "$NS_B" addr add 198.18.0.4/24 dev "$IF_B" &&
	ip -n "$NS_B" addr add 198.18.0.6/24 dev "$IF_B" &&
	ip -n "$NS_B" addr add 2001:db8::3/64 dev "$IF_B" nodad &&
	ip -n "$NS_B" addr add 2001:db8::6/64 dev "$IF_B" nodad ||
	BAIL_OUT "cannot add the extra source addresses"

udp_listen "$NS_A" 5000
out5000=$LISTEN_OUT
udp_listen "$NS_A" 6005
out6005=$LISTEN_OUT

# send_from SRC DST PORT SPORT PAYLOAD: one datagram from NS_B, from address SRC.
send_from()
{
	local src=$1 dst=$2 port=$3 sport=$4 payload=$5 to from
	_ns_check_dst "$dst" || return 1
	if [[ "$dst" == *:* ]]; then
		to="UDP6-SENDTO:[$dst]:$port" from="bind=[$src]:$sport"
	else
		to="UDP4-SENDTO:$dst:$port" from="bind=$src:$sport"
	fi
	printf '%s\n' "$payload" |
		timeout -k 1 3 ip netns exec "$NS_B" socat -u -T 2 STDIN "$to,$from,reuseaddr"
}

cat >"$TEST_TMP/sets.lua" <<'EOF_LUA'
local go = arg[2]
assert(ct.mode("enforce"))
assert(ct.record(arg[4]))	-- the flows before the change, for ctlua replay
local bl = assert(ct.set("blocklist")):add{ "198.18.0.3", "2001:db8::3/128", "198.19.0.0/16",
					    "198.18.0.6/31", "2001:db8::4/126" }
local web = assert(ct.set("web", "port")):add{ { 6000, 6099 } }
-- a port set sharing some of web's ports: its bits stay as web's change
local other = assert(ct.set("other", "port")):add{ { 6040, 6060 } }
local big = assert(ct.set("big"))
-- 100 000 host prefixes: 198.18.64.0 upwards, and .4, which a rule then finds
local list = { "198.18.0.4" }
for i = 1, 99999 do
	local a = 64 * 256 + i
	list[#list + 1] = string.format("198.%d.%d.%d", 18 + a // 65536, a // 256 % 256, a % 256)
end
local t0 = ct.now()
assert(big:add(list))
print(string.format("LOAD\t%d\t%.3f", big:count(), ct.now() - t0))

local rules = {
	{ proto = "udp", src_set = "blocklist", action = "drop" },
	{ proto = "udp", dport_set = "web", action = "drop" },
	{ proto = "udp", dport_set = "other", action = "drop" },
}
for i = 1, 9996 do	-- rules no packet here matches, between them and the big set's
	rules[#rules + 1] = { proto = "tcp", dst = string.format("198.19.%d.%d", i // 256, i % 256),
			      dport = 1 + i, action = "drop" }
end
rules[#rules + 1] = { proto = "udp", src_set = "big", dport = 5000, action = "drop" }
local ids = assert(ct.policy{ rules = rules })
print("RULES", ids[1], ids[2], ids[3], ids[#ids], #ids)
ct.on("miss", function(ev)
	print("MISS", ev.src, ev.sport, ev.dport, ev.rule, ev.action)
end)
ct.every(20, function()	-- the shell says when: then the sets change, no rule is written
	local f = io.open(go)
	if not f then
		return
	end
	f:close()
	os.remove(go)
	ct.record(false)
	bl:del("198.18.0.3"):add("198.18.0.2"):del("2001:db8::3")	-- its last IPv6 host
	web:del{ { 6000, 6099 } }
	print("CHANGED", bl:count(), web:count(), #ct.rules())
end)
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[3]))
EOF_LUA

ctlua_start "$NS_A" 40 "$TEST_TMP/sets.lua" "$IF_A" "$TEST_TMP/go" 12 "$TEST_TMP/rec.jsonl"
wait_line "$CTLUA_OUT" '^RULES' 20 || diag "no RULES line after 20 s"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"

# before the change: src addr, dport, sport, and what decides it (in the comment)
sends=(
	"198.18.0.3 $ADDR_A 5000 41001"		# blocklist: drop
	"$ADDR_B $ADDR_A 5000 41002"		# not a member: the default (pass)
	"2001:db8::3 $ADDR6_A 5000 41003"	# blocklist, IPv6: drop
	"$ADDR6_B $ADDR6_A 5000 41004"		# not a member: pass
	"$ADDR_B $ADDR_A 6005 41005"		# web: drop
	"$ADDR6_B $ADDR6_A 6050 41007"		# web too (first), other also holds it
	"198.18.0.4 $ADDR_A 5000 41006"		# big, after 10 000 rules: drop
	"198.18.0.6 $ADDR_A 5000 41008"		# blocklist's 198.18.0.6/31: drop
	"2001:db8::6 $ADDR6_A 5000 41009"	# blocklist's 2001:db8::4/126: drop
)
for s in "${sends[@]}"; do
	read -r src dst dport sport <<<"$s"
	ok_run "UDP $src:$sport -> $dport" send_from "$src" "$dst" "$dport" "$sport" "from-$sport"
done
wait_lines "$CTLUA_OUT" '^MISS' 9 5 >/dev/null
# set_kinds: ctl_set_kinds' value (which sets have host addresses, shorter prefixes, per
# family) in the running ctlua, as bytes in hex
set_kinds()
{
	local id
	id=$(ctlua_map ctl_set_kinds) &&
		bpftool -j map dump id "$id" | jq -r '.[0].value | map(.[2:]) | join(" ")'
}
# blocklist is set 0, big set 3: host[v4] 0b1001, host[v6] 1, shorter[v4] 1, shorter[v6] 1
is "$(set_kinds)" "09 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00" \
	"ctl_set_kinds: the sets with host addresses and with shorter prefixes, per family"
touch "$TEST_TMP/go"
wait_line "$CTLUA_OUT" '^CHANGED' 5
ok $? "the policy changed its sets live"
sends=(
	"198.18.0.3 $ADDR_A 5000 41011"		# no longer in the blocklist: pass
	"$ADDR_B $ADDR_A 5000 41012"		# now in it: drop
	"$ADDR6_B $ADDR6_A 6005 41013"		# web is empty now: pass
	"$ADDR6_B $ADDR6_A 6050 41014"		# other still holds 6050: drop
	"2001:db8::3 $ADDR6_A 5000 41015"	# its last IPv6 host is gone: pass
	"2001:db8::6 $ADDR6_A 5000 41016"	# 2001:db8::4/126 still holds it: drop
	"198.18.0.6 $ADDR_A 5000 41017"		# 198.18.0.6/31 too: drop
)
for s in "${sends[@]}"; do
	read -r src dst dport sport <<<"$s"
	ok_run "UDP $src:$sport -> $dport" send_from "$src" "$dst" "$dport" "$sport" "from-$sport"
done
wait_lines "$CTLUA_OUT" '^MISS' 16 5 >/dev/null
is "$(set_kinds)" "09 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00" \
	"ctl_set_kinds: the blocklist's IPv6 host bit is clear once its last IPv6 host is gone"
ctlua_finish
is "$RC" 0 "ctlua exits 0 after ct.run" || show_ctlua
is "$ERR" "" "ctlua printed nothing on stderr" || show_ctlua

tab=$'\t'
IFS=$'\t' read -r _ n secs <<<"$(grep '^LOAD' <<<"$OUT")"
is "$n" 100000 "the big set holds 100 000 prefixes"
limit=1
[[ "$CTLUA" == *asan* ]] && limit=5	# the sanitizer build checks every access
ok "$(awk -v s="$secs" -v l="$limit" 'BEGIN { print (s != "" && s < l) ? 0 : 1 }')" \
	"100 000 prefixes loaded by one set:add in ${secs}s (under ${limit}s)"
IFS=$'\t' read -r _ r1 r2 r3 rbig nrules <<<"$(grep '^RULES' <<<"$OUT")"
is "$nrules" 10000 "the policy holds 10 000 rules"
is "$(grep '^CHANGED' <<<"$OUT")" "CHANGED${tab}4${tab}0${tab}10000" \
	"after the change: 4 prefixes in the blocklist, web empty, the rules as they were"

want="MISS${tab}198.18.0.3${tab}41001${tab}5000${tab}$r1${tab}drop
MISS${tab}$ADDR_B${tab}41002${tab}5000${tab}nil${tab}pass
MISS${tab}2001:db8::3${tab}41003${tab}5000${tab}$r1${tab}drop
MISS${tab}$ADDR6_B${tab}41004${tab}5000${tab}nil${tab}pass
MISS${tab}$ADDR_B${tab}41005${tab}6005${tab}$r2${tab}drop
MISS${tab}$ADDR6_B${tab}41007${tab}6050${tab}$r2${tab}drop
MISS${tab}198.18.0.4${tab}41006${tab}5000${tab}$rbig${tab}drop
MISS${tab}198.18.0.6${tab}41008${tab}5000${tab}$r1${tab}drop
MISS${tab}2001:db8::6${tab}41009${tab}5000${tab}$r1${tab}drop
MISS${tab}198.18.0.3${tab}41011${tab}5000${tab}nil${tab}pass
MISS${tab}$ADDR_B${tab}41012${tab}5000${tab}$r1${tab}drop
MISS${tab}$ADDR6_B${tab}41013${tab}6005${tab}nil${tab}pass
MISS${tab}$ADDR6_B${tab}41014${tab}6050${tab}$r3${tab}drop
MISS${tab}2001:db8::3${tab}41015${tab}5000${tab}nil${tab}pass
MISS${tab}2001:db8::6${tab}41016${tab}5000${tab}$r1${tab}drop
MISS${tab}198.18.0.6${tab}41017${tab}5000${tab}$r1${tab}drop"
is "$(grep '^MISS' <<<"$OUT")" "$want" \
	"members are dropped by their set's rule, others left to the default, before and after the change" ||
	show_ctlua

got=$(sort <"$out5000" | tr '\n' ' ')
is "$got" "from-41002 from-41004 from-41011 from-41015 " "port 5000 received only what no set held"
got=$(sort <"$out6005" | tr '\n' ' ')
is "$got" "from-41013 " "port 6005 received only the datagram sent once web was empty"

# --- replayed: the same decisions from the sets on the host alone -----------------------------
cat >"$TEST_TMP/replay.lua" <<'EOF_LUA'
ct.set("blocklist"):add{ "198.18.0.3", "2001:db8::3/128", "198.18.0.6/31", "2001:db8::4/126" }
ct.set("web", "port"):add{ { 6000, 6099 } }
ct.set("other", "port"):add{ { 6040, 6060 } }
ct.set("big"):add{ "198.18.0.4", "198.19.0.0/16" }
local rules = {
	{ proto = "udp", src_set = "blocklist", action = "drop" },
	{ proto = "udp", dport_set = "web", action = "drop" },
	{ proto = "udp", dport_set = "other", action = "drop" },
}
for i = 1, 9996 do
	rules[#rules + 1] = { proto = "tcp", dst = string.format("198.19.%d.%d", i // 256, i % 256),
			      dport = 1 + i, action = "drop" }
end
rules[#rules + 1] = { proto = "udp", src_set = "big", dport = 5000, action = "drop" }
ct.policy{ rules = rules }
EOF_LUA
out=$("$CTLUA" replay "$TEST_TMP/rec.jsonl" "$TEST_TMP/replay.lua" 2>&1)
is "$?" 0 "ctlua replay of the recording: exit 0" || diag_text "$out"
is "$(tail -n 1 <<<"$out")" "replay of '$TEST_TMP/replay.lua': 16 events, 9 decided (pass 2, \
alloc 0, drop 7; by verdict 0, default 2, rule $r1: 4, rule $r2: 2, rule $rbig: 1), 7 delivered, \
0 skipped; callbacks 0 run, 0 failed; 0 differ from the recording; 0 malformed lines" \
	"replay decides the set rules from the host's sets as the program did" || diag_text "$out"

# --- ctlua run: a reload's sets are its own; the old generation's leave the maps ---------------
mkdir -m 700 "$TEST_TMP/pol"
POL=$TEST_TMP/pol/sets.lua
gen_policy()	# gen_policy MEMBER...: the blocklist holds them; its id and members printed
{
	local members
	members=$(printf '"%s", ' "$@")
	cat >"$POL" <<EOF_LUA
local bl = assert(ct.set("bl")):add{ $members }
assert(ct.rule{ proto = "udp", src_set = "bl", action = "drop" })
assert(ct.attach("$IF_A"))
print("GEN", ct.sets()[1].id, bl:count())
ct.on("miss", function(ev)
	print("MISS", ev.src, ev.sport, ev.rule, ev.action)
	io.stdout:flush()
end)
EOF_LUA
	chmod 600 "$POL"
}
# set4_entries: the entries of the IPv4 set trie and of the IPv4 host hash that the
# running ctlua holds, as "TRIE HASH"
set4_entries()
{
	local trie hash
	trie=$(ctlua_map ctl_set4) && hash=$(ctlua_map ctl_set_h4) &&
		echo "$(bpftool -j map dump id "$trie" | jq length)" \
			"$(bpftool -j map dump id "$hash" | jq length)"
}
gen_policy 198.18.0.2 198.18.0.96/30
ctlua_start "$NS_A" 30 run "$POL"
wait_line "$CTLUA_OUT" '^GEN' 10 || diag "no GEN line"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
ok_run "UDP from $ADDR_B, generation 1" send_from "$ADDR_B" "$ADDR_A" 5000 41021 from-41021
is "$(set4_entries)" "1 1" "generation 1: its /30 is in the trie, its host in the hash"
gen_policy 198.18.0.3
kill -HUP "$(ctlua_self)"
wait_line "$CTLUA_ERR" 'running \(generation 2\)' 10
ok $? "the reload runs"
ok_run "UDP from $ADDR_B, generation 2" send_from "$ADDR_B" "$ADDR_A" 5000 41022 from-41022
ok_run "UDP from 198.18.0.3, generation 2" send_from 198.18.0.3 "$ADDR_A" 5000 41023 from-41023
is "$(set4_entries)" "0 1" \
	"generation 2: the old generation's prefixes left the trie and the hash, its own host is in"
kill -INT "$(ctlua_self)"
ctlua_finish
is "$(grep -E '^(GEN|MISS)' <<<"$OUT")" "GEN${tab}0${tab}2
MISS${tab}$ADDR_B${tab}41021${tab}1${tab}drop
GEN${tab}1${tab}1
MISS${tab}$ADDR_B${tab}41022${tab}nil${tab}pass
MISS${tab}198.18.0.3${tab}41023${tab}1${tab}drop" \
	"the reload's set has an id of its own and the next flows follow its members" || show_ctlua

# a reload holds both generations' members while the new one loads: a set of 120 000
# host addresses (more than half of a hash of 2^17) reloads
cat >"$POL" <<EOF_LUA
local all = {}
for i = 0, 119999 do
	all[i + 1] = ("198.%d.%d.%d"):format(18 + i // 65536, i // 256 % 256, i % 256)
end
local big = assert(ct.set("big")):add(all)
assert(ct.rule{ proto = "udp", src_set = "big", action = "drop" })
assert(ct.attach("$IF_A"))
print("BIG", big:count())
io.stdout:flush()
EOF_LUA
ctlua_start "$NS_A" 60 run "$POL"
wait_line "$CTLUA_ERR" 'running \(generation 1\)' 20
kill -HUP "$(ctlua_self)"
wait_line "$CTLUA_ERR" 'running \(generation 2\)|reload failed' 20
kill -INT "$(ctlua_self)"
ctlua_finish
is "$(grep -c '^BIG.120000$' <<<"$OUT") $(grep -c 'running (generation 2)' <<<"$ERR")" "2 1" \
	"a policy with 120 000 host addresses reloads (both generations' sets in the maps at once)" ||
	show_ctlua

# --- an exit that leaves the policy enforcing on pins leaves its sets' members too -------------
pin_dir
udp_listen "$NS_A" 5001
out5001=$LISTEN_OUT
cat >"$TEST_TMP/keep.lua" <<'EOF_LUA'
ct.config{ pin = arg[2], when_stopped = "enforce" }
assert(ct.set("bl")):add{ "198.18.0.3" }
assert(ct.rule{ proto = "udp", src_set = "bl", action = "drop" })
assert(ct.attach(arg[1]))
EOF_LUA
ctlua_start "$NS_A" 20 "$TEST_TMP/keep.lua" "$IF_A" "$PIN"
ctlua_finish
is "$RC" 0 "a policy left enforcing on pins exits 0" || show_ctlua
ok_run "UDP from 198.18.0.3, no ctlua running" send_from 198.18.0.3 "$ADDR_A" 5001 41031 from-41031
ok_run "UDP from $ADDR_B, no ctlua running" send_from "$ADDR_B" "$ADDR_A" 5001 41032 from-41032
sleep 0.2
is "$(sort <"$out5001" | tr '\n' ' ')" "from-41032 " \
	"the filter left behind still drops the set's member, and only it"
# the next ctlua adopts the filter and, ending, takes it away
ctlua_run "$NS_A" 20 -e "ct.config{pin = '$PIN'} assert(ct.attach('$IF_A'))"
is "$RC" 0 "the next ctlua on the pins adopts the filter and detaches it" || show_ctlua

done_testing
