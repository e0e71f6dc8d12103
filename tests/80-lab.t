#!/bin/bash
# 80-lab.t - the lab (lua/lab.lua, ctlua lab): real packets from the client meet ctlua's
# rule in the server, whose conntrack table lab.entries and `conntrack -L` show; direct
# calls act in the server namespace, not the host's; lab.connect makes an established
# TCP entry; the lab's errors and misuse, in words.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua

# lab_run LIMIT ARGS...: ctlua ARGS in the host's namespace (the lab makes its own),
# killed after LIMIT s; RC, OUT, ERR as ctlua_run sets them.
_lab_n=0
lab_run()
{
	local limit=$1
	shift
	_lab_n=$((_lab_n + 1))
	timeout -k 2 "$limit" "$CTLUA" "$@" >"$TEST_TMP/lab.$_lab_n.out" \
		2>"$TEST_TMP/lab.$_lab_n.err" </dev/null
	RC=$?
	OUT=$(cat "$TEST_TMP/lab.$_lab_n.out")
	ERR=$(cat "$TEST_TMP/lab.$_lab_n.err")
}

script=$TEST_TMP/lab.lua

# --- a rule, real packets, the entry they made -----------------------------------------
cat >"$script" <<'EOF'
print("NAMES", lab.server, lab.client, lab.ifname, lab.client_ifname)
print("ADDR", lab.addr.server, lab.addr.client, lab.addr.server6, lab.addr.client6)
print("LINK", lab.link)
print(tostring(lab))
assert(ct.rule{proto = "udp", dport = 5353, action = "alloc", mark = 0x42})
local sent, t = assert(lab.send{proto = "udp", dport = 5353, count = 3})
print("SENT", sent, t)
for e in assert(lab.entries{proto = "udp", dport = 5353}) do
	print("ENTRY", e.tuple, e.mark, e.tuple == t)
end
-- what conntrack -L itself shows in the server namespace
local p = io.popen("ip netns exec " .. lab.server .. " conntrack -L -p udp --dport 5353 2>/dev/null")
for line in p:lines() do print("CONNTRACK", line) end
p:close()
-- the listener got the datagrams: the entry did not stop them
print("RECEIVED", ct.entries and select(2, pcall(function() return lab.send{count = 1} end)))
local sent6, t6 = assert(lab.send{proto = "udp", family = "ipv6", sport = 40006})
print("SENT6", sent6, t6)
print("ENTRY6", (assert(ct.lookup(t6)).mark))
EOF
lab_run 30 lab "$script"
is "$RC" 0 "ctlua lab SCRIPT exits 0" || show_ctlua
like "$OUT" $'NAMES\tctlab-[0-9]+-1-srv\tctlab-[0-9]+-1-cli\tlab-srv\tlab-cli' \
	"lab.server, lab.client, lab.ifname, lab.client_ifname" || show_ctlua
like "$OUT" $'ADDR\t198\\.1[89]\\.[0-9]+\\.[0-9]+\t198\\.1[89]\\.[0-9]+\\.[0-9]+\t2001:db8:c71a:[0-9a-f]+::1\t2001:db8:c71a:[0-9a-f]+::2' \
	"lab.addr: four addresses from 198.18.0.0/15 and 2001:db8::/32" || show_ctlua
like "$OUT" $'LINK\tlink lab-srv ingress' "lab.link is ctlua's link on lab-srv ingress" || show_ctlua
like "$OUT" $'lab: server namespace ctlab-[0-9]+-1-srv, lab-srv 198' \
	"tostring(lab) says what the lab is" || show_ctlua
like "$OUT" 'listening in the server: TCP 8080, UDP 5353' "and what listens" || show_ctlua
like "$OUT" $'SENT\t3\tudp 198\\.1[89][0-9.]+:[0-9]+ → 198\\.1[89][0-9.]+:5353' \
	"lab.send returns how many went and the flow's tuple" || show_ctlua
is "$(grep -c '^ENTRY	' <<<"$OUT")" 1 "lab.entries shows one entry for the flow" || show_ctlua
like "$OUT" $'ENTRY\tudp [^\t]+\t66\ttrue' \
	"with the mark 0x42 ctlua's rule gave it (the kernel's own conntrack sets none)" ||
	show_ctlua
like "$OUT" $'CONNTRACK\tudp +17 [0-9]+ src=198\\.1[89][^ ]+ dst=[^ ]+ sport=[0-9]+ dport=5353 .* mark=66 ' \
	"conntrack -L in the server namespace shows the same entry" || show_ctlua
like "$OUT" $'SENT6\t1\tudp \\[2001:db8:c71a:[0-9a-f]+::2\\]:40006 → \\[2001:db8:c71a:[0-9a-f]+::1\\]:5353' \
	"family = \"ipv6\" and sport: an IPv6 flow from the given port" || show_ctlua
like "$OUT" $'ENTRY6\t66' "the IPv6 flow met the rule too" || show_ctlua

# --- direct calls act in the server namespace -------------------------------------------
cat >"$script" <<'EOF'
local t = ct.tuple{proto = "udp", src = lab.addr.client, dst = lab.addr.server,
	sport = 1111, dport = 2222}
local e = assert(ct.alloc(t, {mark = 0x77, timeout = 60000}))
print("ALLOC", e.tuple)
local p = io.popen("ip netns exec " .. lab.server .. " conntrack -L -p udp --dport 2222 2>/dev/null")
for line in p:lines() do print("SERVER", line) end
p:close()
-- commands ctlua runs are in the server namespace too: the host's is arg[1]'s
p = io.popen("conntrack -L -p udp --dport 2222 2>/dev/null")
for line in p:lines() do print("CHILD", line) end
p:close()
p = io.popen("nsenter --net=" .. arg[1] .. " conntrack -L -p udp --dport 2222 2>/dev/null")
for line in p:lines() do print("HOST", line) end
p:close()
print("LOOKUP", assert(ct.lookup(t)).mark)
-- ct.alloc_many's helper threads are started by ctlua's thread: in the server too
local many = {}
for i = 1, 64 do
	many[i] = ct.tuple{proto = "udp", src = lab.addr.client, dst = lab.addr.server,
		sport = 3000 + i, dport = 2223}
end
print("MANY", ct.alloc_many(many, {threads = 4, mark = 0x78}))
p = io.popen("ip netns exec " .. lab.server .. " conntrack -L -p udp --dport 2223 2>/dev/null | grep -c mark=120")
print("MANYSERVER", p:read("n"))
p:close()
p = io.popen("nsenter --net=" .. arg[1] .. " conntrack -L -p udp --dport 2223 2>/dev/null | wc -l")
print("MANYHOST", p:read("n"))
p:close()
print("FLUSHED", assert(ct.flush{proto = "udp", dport = 2222}))
print("ENTRIES", select("#", ct.entries()) > 0)
EOF
lab_run 30 lab "$script" "/proc/$$/ns/net"
is "$RC" 0 "the ct.alloc script exits 0" || show_ctlua
like "$OUT" $'SERVER\tudp +17 [0-9]+ src=198[^ ]+ dst=198[^ ]+ sport=1111 dport=2222 .*mark=119' \
	"ct.alloc in a lab creates the entry in the server namespace (conntrack -L there)" ||
	show_ctlua
unlike "$OUT" $'(^|\n)HOST\t' "and not in the host's table" || show_ctlua
like "$OUT" $'CHILD\tudp +17 [0-9]+ src=198[^ ]+ dst=198[^ ]+ sport=1111 dport=2222 ' \
	"a command the script runs (io.popen) runs in the server namespace too" || show_ctlua
like "$OUT" $'LOOKUP\t119' "ct.lookup finds it there" || show_ctlua
like "$OUT" $'MANY\t64\t' "ct.alloc_many with 4 threads creates its 64 entries" || show_ctlua
has_line "$OUT" $'MANYSERVER\t64' "  in the server namespace" || show_ctlua
has_line "$OUT" $'MANYHOST\t0' "  and none in the host's" || show_ctlua
like "$OUT" $'FLUSHED\t1' "ct.flush removes it there" || show_ctlua

# --- lab.connect: an established TCP entry ---------------------------------------------
cat >"$script" <<'EOF'
local c, t = assert(lab.connect{})
print("CONN", t, c:port() == t.sport)
print("SENDS", c:send("hello\n"))
local e = assert(ct.lookup(t))
print("STATUS", table.concat(e.status, ","))
local p = io.popen("ip netns exec " .. lab.server .. " conntrack -L -p tcp --dport 8080 2>/dev/null")
for line in p:lines() do print("CONNTRACK", line) end
p:close()
local c6, t6 = assert(lab.connect{family = "ipv6"})
print("CONN6", t6)
print("REFUSED", lab.connect{dport = 9})
local l = assert(lab.listen{proto = "tcp", port = 9000})
assert(lab.connect{dport = 9000})
print("ACCEPTED", l:received())
print("INUSE", lab.listen{port = 8080})
print("TCPSEND", lab.send{proto = "tcp", count = 2, size = 100})
EOF
lab_run 30 lab "$script"
is "$RC" 0 "the lab.connect script exits 0" || show_ctlua
like "$OUT" $'CONN\ttcp 198[^ ]+ → 198[^ ]+:8080\ttrue' \
	"lab.connect returns the connection and its tuple (conn:port() is its sport)" || show_ctlua
like "$OUT" $'SENDS\t6' "conn:send sends" || show_ctlua
like "$OUT" $'STATUS\t[a-z_,]*assured' "the entry is assured (the handshake went both ways)" ||
	show_ctlua
like "$OUT" $'CONNTRACK\ttcp +6 [0-9]+ ESTABLISHED src=198' \
	"conntrack -L in the server shows it ESTABLISHED" || show_ctlua
like "$OUT" $'CONN6\ttcp \\[2001:db8:' "lab.connect over IPv6" || show_ctlua
like "$OUT" $'REFUSED\tnil\tECONNREFUSED: no TCP connection to 198[0-9.]+ port 9 \\(Connection refused\\)\t111' \
	"a port nothing listens on: nil, ECONNREFUSED, 111" || show_ctlua
like "$OUT" $'ACCEPTED\t1' "lab.listen: a listener of the script's own, which counts connections" ||
	show_ctlua
like "$OUT" $'INUSE\tnil\tEADDRINUSE: lab.listen: cannot listen on tcp port 8080 \\(Address already in use\\)\t98' \
	"a port the lab listens on already: EADDRINUSE" || show_ctlua
like "$OUT" $'TCPSEND\t2\ttcp ' "lab.send{proto=\"tcp\"} makes count connections" || show_ctlua

# --- misuse and errors -----------------------------------------------------------------
cat >"$script" <<'EOF'
local function try(f, ...) print("ERR", select(2, pcall(f, ...))) end
try(lab.send, {proto = "icmp"})
try(lab.send, {dport = 70000})
try(lab.send, {count = 1.5})
try(lab.send, {ttl = 3})
try(lab.send, "udp")
try(lab.connect, {family = 6})
try(lab.listen, {proto = "udp"})
try(lab.up, {attach = "yes"})
print("TWICE", lab.up())
print("DOWN", lab.down())
print("DOWN2", lab.down())
print("STR", tostring(lab))
print("FIELDS", lab.server, lab.link, lab.addr)
try(lab.entries)
try(lab.send, {})
print("UP", lab.up() == lab, lab.server)
EOF
lab_run 30 lab "$script"
is "$RC" 0 "the misuse script exits 0" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.send\' (field \'proto\': invalid option \'icmp\' (expected \'udp\', \'tcp\'))' \
	"an unknown protocol names the field and the choices" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.send\' (field \'dport\': 70000 is out of range 0 to 65535)' \
	"a port out of range" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.send\' (field \'count\': expected an integer, got 1.5)' \
	"a count that is not an integer" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.send\' (unknown field \'ttl\' (known: count, dport, family, proto, size, sport))' \
	"an unknown field lists the known ones" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.send\' (table expected, got string)' \
	"a string instead of a table" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.connect\' (field \'family\': invalid option \'6\' (expected \'ipv4\', \'ipv6\'))' \
	"family is a name" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.listen\' (field \'port\': missing (a port, 1 to 65535))' \
	"lab.listen needs a port" || show_ctlua
has_line "$OUT" $'ERR\tbad argument #1 to \'lab.up\' (field \'attach\': expected a boolean, got string)' \
	"lab.up's options are checked" || show_ctlua
like "$OUT" $'TWICE\tnil\tEBUSY: the lab is up already \\(ctlab-[0-9]+-1-srv\\); lab.down\\(\\) first\t16' \
	"lab.up while up: EBUSY" || show_ctlua
has_line "$OUT" $'DOWN\ttrue' "lab.down returns true" || show_ctlua
has_line "$OUT" $'DOWN2\ttrue' "and again, doing nothing" || show_ctlua
has_line "$OUT" $'STR\tlab (down: lab.up() starts it)' "tostring of a lab that is down" || show_ctlua
has_line "$OUT" $'FIELDS\tnil\tnil\tnil' "its fields are gone" || show_ctlua
like "$OUT" $'ERR\t[^\t]*\'lab.entries\': the lab is down \\(lab.up\\(\\) starts it\\)' \
	"lab.entries when down says so" || show_ctlua
like "$OUT" $'UP\ttrue\tctlab-[0-9]+-2-srv' "a second lab.up makes a new lab (N = 2)" || show_ctlua

# --- not root, no nft ------------------------------------------------------------------
lab_run 20 -e 'print(require("ctlua.lab").up())'
# (as root it works: the contrast for the two cases below)
like "$OUT" $'^lab: server namespace' "as root, lab.up() works from -e (require \"ctlua.lab\")" ||
	show_ctlua
if command -v setpriv >/dev/null; then
	_lab_n=$((_lab_n + 1))
	OUT=$(timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--inh-caps=-all "$CTLUA" lab 2>&1 </dev/null)
	RC=$?
	is "$RC" 1 "ctlua lab as a user without capabilities exits 1"
	is "$OUT" "ctlua: lab: EPERM: the lab needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)" \
		"and says the lab needs root"
else
	skip "setpriv is not installed" 2
fi
mkdir -p "$TEST_TMP/bin"
ln -s "$(command -v ip)" "$TEST_TMP/bin/ip"
OUT=$(PATH=$TEST_TMP/bin "$(command -v timeout)" 20 "$CTLUA" lab 2>&1 </dev/null)
RC=$?
is "$RC" 1 "ctlua lab without nft exits 1"
is "$OUT" "ctlua: lab: ENOENT: the lab needs 'nft' (Debian's package nftables)" \
	"and names the command and its package"

# --- stock lua5.4 with ct.so: require "ctlua.lab" as installed (ctlua/lab.lua) ----------
if command -v lua5.4 >/dev/null 2>&1; then
	CT_SO=${CT_SO:-$PWD/build/ct.so}	# the sanitizer pass gives its own
	mkdir -p "$TEST_TMP/share" "$TEST_TMP/plain"
	ln -s "$PWD/lua" "$TEST_TMP/share/ctlua"
	# the sanitizer pass's lua5.4 preloads ASan, which the lab's commands would inherit
	# (and report the leaks of ip itself): they run without it
	for cmd in ip nft sleep; do
		printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$(command -v "$cmd")" \
			>"$TEST_TMP/plain/$cmd"
		chmod +x "$TEST_TMP/plain/$cmd"
	done
	_lab_n=$((_lab_n + 1))
	PATH=$TEST_TMP/plain:$PATH LUA_CPATH="${CT_SO%/*}/?.so" LUA_PATH="$TEST_TMP/share/?.lua" \
		timeout 30 lua5.4 -e '
		local ct = require "ct"
		local lab = require "ctlua.lab"
		assert(lab.up())
		assert(ct.rule{proto = "udp", dport = 5353, action = "alloc", mark = 9})
		local n, t = assert(lab.send{})
		print("SO", n, assert(ct.lookup(t)).mark, lab.server)' \
		>"$TEST_TMP/lab.$_lab_n.out" 2>&1 </dev/null
	is "$?" 0 "stock lua5.4 with ct.so runs the lab" || diag_text "$(cat "$TEST_TMP/lab.$_lab_n.out")"
	like "$(cat "$TEST_TMP/lab.$_lab_n.out")" $'SO\t1\t9\tctlab-' \
		"  its packet met ctlua's rule in the server namespace"
else
	skip "'lua5.4' is not installed" 2
fi

# the labs of these runs, by their names in what they printed
labs=$(cat "$TEST_TMP"/lab.*.out | grep -o 'ctlab-[0-9]*-[0-9]*-' | sort -u)
cmp_ok "$(wc -l <<<"$labs")" -ge 4 "the runs named their labs"
left=$(ip netns list | grep -F "$labs")
is "$left" "" "no lab namespace is left after these runs"

done_testing
