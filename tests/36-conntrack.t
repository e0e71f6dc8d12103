#!/bin/bash
# 36-conntrack.t - ct.entries, ct.delete and ct.flush read and remove conntrack entries
# over ctnetlink: what ct.entries lists is what `conntrack -L` lists (in ctlua's
# namespace or in a named one), what ct.delete and ct.flush remove is gone from
# `conntrack -L`, and bad input raises or returns the documented errors.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

# ct_insert NS ARGS...: `conntrack -I ARGS` in NS; a failure is a failed test.
ct_insert()
{
	local ns=$1
	shift
	ok_run "conntrack -I $*" ip netns exec "$ns" conntrack -I "$@"
}

# ct_lines NS [OPTIONS...]: `conntrack -L OPTIONS` in NS, one sorted line per entry:
# "proto src sport dst dport rsrc rsport rdst rdport mark zone", where proto is the
# number, the first src/dst/sport/dport are the original direction and the second the
# reply; absent ports (ICMP), mark and zone are 0.
ct_lines()
{
	local ns=$1
	shift
	ip netns exec "$ns" conntrack -L "$@" 2>/dev/null | awk '{
		delete v; delete n
		v["sport", 1] = v["sport", 2] = v["dport", 1] = v["dport", 2] = 0
		mark = 0; zone = 0
		for (i = 3; i <= NF; i++) {
			if (split($i, kv, "=") != 2)
				continue
			if (kv[1] ~ /^(src|dst|sport|dport)$/)
				v[kv[1], ++n[kv[1]]] = kv[2]
			else if (kv[1] == "mark")
				mark = kv[2]
			else if (kv[1] == "zone" || kv[1] == "zone-orig" || kv[1] == "zone-reply")
				zone = kv[2]
		}
		print $2, v["src", 1], v["sport", 1], v["dst", 1], v["dport", 1],
		      v["src", 2], v["sport", 2], v["dst", 2], v["dport", 2], mark, zone
	}' | sort
}

# The same line built from a ct.entries entry, and a loop that prints each entry a
# filter selects after a LABEL, so that lua_lines can pick the set out of $OUT.
LUA_LINES='
local pnum = { tcp = 6, udp = 17 }
local function line(e)
	local t, r = e.tuple, e.reply
	return table.concat({ pnum[t.proto] or t.proto, t.src, t.sport, t.dst, t.dport,
		r.src, r.sport, r.dst, r.dport, e.mark, e.zone }, " ")
end
local function show(label, filter)
	for e in assert(ct.entries(filter)) do print(label .. " " .. line(e)) end
end
'

# lua_lines LABEL: the lines show(LABEL, ...) printed, sorted, without the label.
lua_lines()
{
	grep "^$1 " <<<"$OUT" | cut -d' ' -f2- | sort
}

# same_set LABEL NAME EXPECTED: the LABEL lines of $OUT are EXPECTED (ct_lines output).
same_set()
{
	local got
	got=$(lua_lines "$1")
	if is "$(wc -l <<<"$got")" "$(wc -l <<<"$3")" "$2: as many entries as conntrack -L"; then
		is "$got" "$3" "$2: the same tuples, marks and zones as conntrack -L" || show_ctlua
	else
		diag "ct.entries:" && diag_text "$got"
		diag "conntrack -L:" && diag_text "$3"
		skip "the counts differ already"
	fi
}

# --- entries made by conntrack -I and by ct.alloc, IPv4 and IPv6 ------------------------
ct_insert "$NS_A" -s 198.18.0.2 -d 198.18.0.1 -p udp --sport 1000 --dport 53 -t 100 -m 7
ct_insert "$NS_A" -s 198.18.0.2 -d 198.18.0.1 -p udp --sport 1001 --dport 53 -t 100 -m 7
# The same tuple as the first, in zone 5: a separate entry.
ct_insert "$NS_A" -s 198.18.0.2 -d 198.18.0.1 -p udp --sport 1000 --dport 53 -t 100 -m 11 -w 5
ct_insert "$NS_A" -s 198.18.1.2 -d 198.18.0.1 -p tcp --sport 2000 --dport 80 -t 100 -m 8 \
	--state ESTABLISHED
ct_insert "$NS_A" -s 2001:db8::2 -d 2001:db8::1 -p udp --sport 3000 --dport 53 -t 100 -m 7
# No ports: ICMP entries are listed too.
ct_insert "$NS_A" -s 198.18.0.2 -d 198.18.0.1 -p icmp --icmp-type 8 --icmp-code 0 \
	--icmp-id 77 -t 100 -m 9
ct_insert "$NS_B" -s 198.18.0.1 -d 198.18.0.2 -p udp --sport 7000 --dport 7001 -t 100 -m 21
ct_insert "$NS_B" -s 2001:db8::1 -d 2001:db8::2 -p tcp --sport 7002 --dport 22 -t 100 -m 22 \
	--state ESTABLISHED

ctlua_run "$NS_A" 20 -e '
assert(ct.alloc({src="198.18.0.3", dst="198.18.0.1", sport=4000, dport=443, proto="tcp"},
	{timeout=100000, mark=7, status={"assured"}}))
-- a zone for the original direction only: conntrack -L says zone-orig=9
assert(ct.alloc({src="198.18.0.4", dst="198.18.0.1", sport=4001, dport=443, proto="tcp"},
	{timeout=100000, mark=12, zone={id=9, dir="original"}}))
assert(ct.alloc({src="2001:db8::3", dst="2001:db8::1", sport=5000, dport=5353, proto="udp"},
	{timeout=100000, mark=10}))'
is "$RC" 0 "ct.alloc adds two entries" || show_ctlua
is "$(ct_lines "$NS_A" | wc -l)" 9 "NS_A's table holds the nine entries made"

# --- ct.entries agrees with conntrack -L ---------------------------------------------------
ctlua_run "$NS_A" 20 -e "$LUA_LINES"'
show("ALL")
show("MARK7", {mark=7})
show("UDP", {proto="udp"})
show("ICMP", {proto=1})
show("V6", {family="ipv6"})
show("V4", {family="ipv4"})
show("PREFIX", {src="198.18.0.0/24"})
show("DST6", {dst="2001:db8::/32", sport=5000})
show("DPORT", {dport=53})
show("ZONE5", {zone=5})
show("ZONE9", {zone=9})
show("BOTH", {proto="udp", family="ipv4", mark=7})
show("NONE", {mark=12345})
show("SELF", {netns=os.getenv("NS_A")})
show("B", {netns=os.getenv("NS_B")})
for e in ct.entries{src="198.18.0.3/32"} do
	print("ALLOC", e.tuple, e.reply, e.mark, table.concat(e.status, ","),
		math.type(e.timeout), e.timeout > 90000 and e.timeout <= 100000, e.timeout % 1000)
end
for e in ct.entries() do break end	-- leaving a loop early frees the snapshot
local it, _, _, box = ct.entries{mark=7}
print("VALUES", type(it), type(box), math.type(select("#", ct.entries())))
print("END")'
is "$RC" 0 "the ct.entries script exits 0" || show_ctlua
same_set ALL "ct.entries()" "$(ct_lines "$NS_A")"
same_set MARK7 "ct.entries{mark=7}" "$(ct_lines "$NS_A" -m 7)"
same_set UDP "ct.entries{proto=\"udp\"}" "$(ct_lines "$NS_A" -p udp)"
same_set ICMP "ct.entries{proto=1} (ICMP, ports 0)" "$(ct_lines "$NS_A" -p icmp)"
same_set V6 "ct.entries{family=\"ipv6\"}" "$(ct_lines "$NS_A" -f ipv6)"
same_set V4 "ct.entries{family=\"ipv4\"}" "$(ct_lines "$NS_A" -f ipv4)"
same_set PREFIX "ct.entries{src=\"198.18.0.0/24\"}" \
	"$(ct_lines "$NS_A" | awk '$2 ~ /^198\.18\.0\./')"
same_set DST6 "ct.entries{dst=\"2001:db8::/32\", sport=5000}" \
	"$(ct_lines "$NS_A" -f ipv6 | awk '$3 == 5000')"
same_set DPORT "ct.entries{dport=53}" "$(ct_lines "$NS_A" | awk '$5 == 53')"
same_set ZONE5 "ct.entries{zone=5}" "$(ct_lines "$NS_A" -w 5)"
same_set ZONE9 "ct.entries{zone=9}: a zone for the original direction only" \
	"$(ct_lines "$NS_A" | awk '$11 == 9')"
same_set BOTH "ct.entries{proto=\"udp\", family=\"ipv4\", mark=7}" \
	"$(ct_lines "$NS_A" -p udp -f ipv4 -m 7)"
is "$(lua_lines NONE)" "" "ct.entries{mark=12345} yields nothing"
same_set SELF "ct.entries{netns=NS_A} from NS_A" "$(ct_lines "$NS_A")"
same_set B "ct.entries{netns=NS_B} from NS_A" "$(ct_lines "$NS_B")"
like "$OUT" $'\nALLOC\ttcp 198.18.0.3:4000 → 198.18.0.1:443\ttcp 198.18.0.1:443 → 198.18.0.3:4000\t7\tassured,confirmed\tinteger\ttrue\t0\n' \
	"an entry: tuple, reply, mark, status names, timeout in ms (ctnetlink's seconds × 1000)" ||
	show_ctlua
like "$OUT" $'\nVALUES\tfunction\tuserdata\tinteger\n' \
	"ct.entries returns the iterator and, fourth, the closing value of the for" || show_ctlua
like "$OUT" $'\nEND$' "the script ran to its end" || show_ctlua

# --- misuse raises, a missing namespace returns ENOENT -------------------------------------
ctlua_run "$NS_A" 20 -e '
local function try(...) print("R", select(2, pcall(...))) end
try(ct.entries, {mark="x"})
try(ct.entries, {sport=70000})
try(ct.entries, {port=53})
try(ct.entries, {src="198.18.0.0/33"})
try(ct.entries, {src="198.18.0.0/16", family="ipv6"})
try(ct.entries, {proto="sctp"})
try(ct.entries, {family="ipx"})
try(ct.entries, {netns="a/b"})
try(ct.entries, "mark")
try(ct.flush, {zone=65536})
try(ct.delete, {src="198.18.0.2", dst="198.18.0.1", sport=1, proto="udp"})
try(ct.delete, {src="198.18.0.2", dst="198.18.0.1", sport=1, dport=2, proto="udp"}, {mark=1})
print("ENOENT", ct.entries{netns="ctl-no-such-ns"})
print("ENOENT", ct.flush{netns="ctl-no-such-ns", mark=7})
print("ENOENT", ct.delete({src="198.18.0.2", dst="198.18.0.1", sport=1, dport=2, proto="udp"},
	{netns="ctl-no-such-ns"}))
print("END")'
is "$RC" 0 "the misuse script exits 0: every error was caught or returned" || show_ctlua
r=$(grep '^R' <<<"$OUT")
is "$r" "R	bad argument #1 to 'ct.entries' (field 'mark': expected an integer, got string)
R	bad argument #1 to 'ct.entries' (field 'sport': 70000 is out of range 0 to 65535)
R	bad argument #1 to 'ct.entries' (unknown field 'port' (known: src, dst, sport, dport, proto, family, mark, zone, netns))
R	bad argument #1 to 'ct.entries' (field 'src': '198.18.0.0/33': prefix length must be 0 to 32)
R	bad argument #1 to 'ct.entries' (field 'family' does not match the addresses)
R	bad argument #1 to 'ct.entries' (field 'proto': 'sctp' is not \"tcp\", \"udp\" or a number)
R	bad argument #1 to 'ct.entries' (field 'family': invalid option 'ipx')
R	bad argument #1 to 'ct.entries' (field 'netns': 'a/b' is not a namespace name (ip netns list shows them))
R	bad argument #1 to 'ct.entries' ('mark' is not a tuple like 'udp 198.18.0.2:40000 -> 198.18.0.1:53')
R	bad argument #1 to 'ct.flush' (field 'zone': 65536 is out of range 0 to 65535)
R	bad argument #1 to 'ct.delete' (field 'dport': missing (a port, 0 to 65535))
R	bad argument #2 to 'ct.delete' (unknown field 'mark' (known: zone, netns))" \
	"bad filters and tuples raise, naming the argument and the field" || show_ctlua
is "$(grep '^ENOENT' <<<"$OUT")" "ENOENT	nil	ENOENT: no network namespace 'ctl-no-such-ns' (ip netns list shows them)	2
ENOENT	nil	ENOENT: no network namespace 'ctl-no-such-ns' (ip netns list shows them)	2
ENOENT	nil	ENOENT: no network namespace 'ctl-no-such-ns' (ip netns list shows them)	2" \
	"a namespace that does not exist: nil, ENOENT naming it, 2 (entries, flush, delete)" ||
	show_ctlua
like "$OUT" $'\nEND$' "the script ran on after each error" || show_ctlua
is "$(ct_lines "$NS_A" | wc -l)" 9 "and NS_A's table is untouched"

# --- ct.delete -----------------------------------------------------------------------------
before=$(ct_lines "$NS_A")
ctlua_run "$NS_A" 20 -e '
local t = ct.tuple{src="198.18.0.2", dst="198.18.0.1", sport=1000, dport=53, proto="udp"}
print("FIRST", ct.delete(t))
print("AGAIN", ct.delete(t))
print("ZONE", ct.delete(t, {zone=5}))
for e in ct.entries{family="ipv6", mark=10} do print("OWN", ct.delete(e.tuple)) end
print("OTHER", ct.delete({src="2001:db8::1", dst="2001:db8::2", sport=7002, dport=22, proto="tcp"},
	{netns=os.getenv("NS_B")}))'
is "$RC" 0 "the ct.delete script exits 0" || show_ctlua
like "$OUT" $'FIRST\ttrue\n' "ct.delete of an entry: true" || show_ctlua
like "$OUT" $'\nAGAIN\tnil\tENOENT: no conntrack entry for udp 198.18.0.2:1000 → 198.18.0.1:53\t2\n' \
	"the second ct.delete of it: nil, ENOENT naming the flow, 2" || show_ctlua
like "$OUT" $'\nZONE\ttrue\n' "ct.delete with {zone=5} removes the zone's twin" || show_ctlua
like "$OUT" $'\nOWN\ttrue\n' "ct.delete takes the tuple of an entry ct.entries gave" || show_ctlua
like "$OUT" $'\nOTHER\ttrue' "ct.delete with {netns=NS_B} works from NS_A" || show_ctlua
gone="17 198.18.0.2 1000 198.18.0.1 53 198.18.0.1 53 198.18.0.2 1000 7 0
17 198.18.0.2 1000 198.18.0.1 53 198.18.0.1 53 198.18.0.2 1000 11 5
17 2001:db8::3 5000 2001:db8::1 5353 2001:db8::1 5353 2001:db8::3 5000 10 0"
is "$(comm -23 <(echo "$before") <(ct_lines "$NS_A"))" "$(sort <<<"$gone")" \
	"conntrack -L lost exactly those three entries in NS_A" || diag_text "$before"
is "$(ct_lines "$NS_A" | wc -l)" 6 "and kept the other six"
is "$(ct_lines "$NS_B")" "17 198.18.0.1 7000 198.18.0.2 7001 198.18.0.2 7001 198.18.0.1 7000 21 0" \
	"NS_B lost its TCP entry and kept the UDP one"

# --- ct.flush --------------------------------------------------------------------------------
mark7=$(ct_lines "$NS_A" -m 7 | wc -l)
others=$(ct_lines "$NS_A" | awk '$10 != 7')
ctlua_run "$NS_A" 20 -e 'print("MARK7", ct.flush{mark=7})'
is "$RC" 0 "the ct.flush{mark=7} script exits 0" || show_ctlua
is "$OUT" "MARK7	$mark7" "ct.flush{mark=7} returns how many it removed ($mark7)" || show_ctlua
is "$(ct_lines "$NS_A" -m 7)" "" "conntrack -L shows no entry with mark 7 any more"
is "$(ct_lines "$NS_A")" "$others" "and every other entry is still there"

left=$(ct_lines "$NS_A" | wc -l)
ctlua_run "$NS_A" 20 -e '
print("NONE", ct.flush{mark=12345})
print("ALL", ct.flush())
print("EMPTY", ct.flush())
print("B", ct.flush{netns=os.getenv("NS_B")})'
is "$RC" 0 "the ct.flush() script exits 0" || show_ctlua
is "$OUT" "NONE	0
ALL	$left
EMPTY	0
B	1" "ct.flush(): 0 when nothing matches, all $left left, then 0; NS_B's one entry by netns" ||
	show_ctlua
is "$(ct_lines "$NS_A")" "" "conntrack -L in NS_A is empty"
is "$(ct_lines "$NS_B")" "" "conntrack -L in NS_B is empty"
done_testing
