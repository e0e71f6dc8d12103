#!/bin/bash
# 63-privileges.t - the least privilege per feature, as doc/privileges.md lists it, held
# to the kernel: for each feature the minimal set of capabilities works (a real attach
# that a real packet goes through, a real ct.alloc, a real ct.entries, a table read in
# a namespace entered by name), each set with one capability fewer fails with a message
# naming the missing one, and `ctlua --check` says the same, line by line. setpriv gives
# ctlua exactly the set (root's bounding set, nothing inherited or ambient) and
# no_new_privs, as dist/ctlua@.service does. bpftool loading the same object shows the
# refusals are the kernel's, not only ctlua's check.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

require_root_kernel
require_ctlua
for cmd in setpriv prlimit bpftool; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		[[ "${CI:-}" == true ]] && BAIL_OUT "'$cmd' is missing (scripts/install-deps.sh installs it)"
		skip_all "needs $cmd"
	fi
done
make_pair || BAIL_OUT "cannot create the test namespaces"
ct_hooks "$NS_A" || BAIL_OUT "cannot load the conntrack ruleset in $NS_A"

L_CORE="load and attach (ct.attach, rules, verdicts, events)"
L_DIRECT="direct requests (ct.alloc, ct.lookup, ct.change)"
L_TABLE="conntrack table (ct.entries, ct.delete, ct.flush)"
L_NETNS='named namespaces (ct.entries, ct.delete, ct.flush with netns = "NAME")'
NEEDS="ctlua needs the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, and lacks"

# bounding_set CAPS: setpriv's --bounding-set value that keeps exactly CAPS (a list of
# names as setpriv takes them, "bpf,perfmon"; "" for none): "-all,+bpf,+perfmon".
bounding_set()
{
	local set=-all c
	for c in ${1//,/ }; do
		set+=",+$c"
	done
	echo "$set"
}

# in_caps CAPS CMD...: run CMD in NS_A with exactly the capabilities CAPS in its bounding
# set, none inheritable or ambient, and no_new_privs. Redirections (and &) given to
# in_caps apply to CMD.
in_caps()
{
	local set
	set=$(bounding_set "$1")
	shift
	ip netns exec "$NS_A" setpriv --bounding-set="$set" --inh-caps=-all --ambient-caps=-all \
		--no-new-privs -- "$@"
}

# with CAPS ARGS...: run ctlua in NS_A with exactly the capabilities CAPS (as in_caps).
# Sets RC, OUT, ERR.
with()
{
	local caps=$1
	shift
	in_caps "$caps" timeout -k 2 20 "$CTLUA" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	RC=$? OUT=$(<"$TEST_TMP/out") ERR=$(<"$TEST_TMP/err")
}

# without SET CAP: SET (a comma list) minus CAP.
without()
{
	local c out=
	for c in ${1//,/ }; do
		[[ "$c" == "$2" ]] || out+=${out:+,}$c
	done
	echo "$out"
}

# report_line PREFIX: the line of the last --check output that starts with PREFIX: .
report_line()
{
	grep -F -- "$1: " <<<"$OUT" | head -n 1
}

# check_feature LABEL SET: --check says ok for LABEL with SET, and with SET minus any one
# capability names that one.
check_feature()
{
	local label=$1 set=$2 c less
	with "$set" --check
	is "$(report_line "$label")" "$label: ok" "--check with {$set}: '$label' ok"
	for c in ${set//,/ }; do
		less=$(without "$set" "$c")
		with "$less" --check
		is "$(report_line "$label")" "$label: missing CAP_${c^^}" \
			"--check with {$less}: '$label' is missing CAP_${c^^}" || diag_text "$OUT"
	done
}

CORE=bpf,perfmon,net_admin

# --- ctlua --check: the whole report with the minimal core set ---
with "$CORE" --check
is "$RC $ERR" "0 " "--check with {$CORE} exits 0, nothing on stderr" || show_ctlua
is "$(sed -n 1p <<<"$OUT")" "kernel: ok (Linux $(uname -r) with BTF)" "the first line is the kernel"
is "$(grep -Fv -e 'kernel: ' -e 'kfuncs: ' -e 'zones (' -e 'NAT (' <<<"$OUT")" \
"$L_CORE: ok
$L_DIRECT: ok
$L_TABLE: ok
$L_NETNS: missing CAP_SYS_ADMIN
locked memory: ok (not needed: the kernel charges BPF memory to the memory cgroup)" \
	"with {$CORE} only named namespaces are missing, and they name CAP_SYS_ADMIN" || show_ctlua
is "$(wc -l <<<"$OUT")" 9 "nine lines: kernel, kfuncs, four features, zones, NAT, memory"

check_feature "$L_CORE" "$CORE"
check_feature "$L_DIRECT" "$CORE"
check_feature "$L_TABLE" net_admin
check_feature "$L_NETNS" net_admin,sys_admin

for c in bpf perfmon net_admin; do
	less=$(without "$CORE" "$c")
	with "$less" --check
	is "$RC $ERR" "1 ctlua: $NEEDS CAP_${c^^} (run it as root)" \
		"--check with {$less} exits 1: the core cannot work without CAP_${c^^}"
done
with net_admin,sys_admin --check
is "$RC $(report_line "$L_NETNS")" "0 $L_NETNS: ok" \
	"CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, as in the kernel: --check exits 0"

# --- the kernel itself refuses the object with one capability fewer (bpftool, no check) ---
PIN=/sys/fs/bpf/ctl-test-$$
# keep the test's exit status (its failures) for _ns_cleanup to return
MADE_RUN=
trap '_status=$?; rm -rf "$PIN"; [[ -n "$MADE_RUN" ]] && rmdir /run/ctlua 2>/dev/null
(exit $_status); _ns_cleanup' EXIT
load_obj()
{
	rm -rf "$PIN"
	setpriv --bounding-set="$(bounding_set "$1")" --inh-caps=-all --ambient-caps=-all -- \
		bpftool prog loadall build/ctlua.bpf.o "$PIN" >"$TEST_TMP/bpftool" 2>&1
}
load_obj "$CORE"
ok $? "bpftool loads build/ctlua.bpf.o with {$CORE}" || diag_text "$(tail -5 "$TEST_TMP/bpftool")"
load_obj bpf,net_admin
is "$? $(grep -c 'pointer arithmetic with it prohibited for !root' "$TEST_TMP/bpftool")" "255 1" \
	"without CAP_PERFMON the verifier refuses it (pointer arithmetic prohibited for !root)"
like "$(cat "$TEST_TMP/bpftool")" "prog 'ctlua_ingress': failed to load: -13" "with EACCES"
load_obj bpf,perfmon
like "$(cat "$TEST_TMP/bpftool")" "prog 'ctlua_ingress': failed to load: -1"$'\n' \
	"without CAP_NET_ADMIN the kernel refuses a sched_cls program: EPERM"
load_obj perfmon,net_admin
like "$(cat "$TEST_TMP/bpftool")" "Couldn't load trivial BPF program" \
	"without CAP_BPF it refuses any program"
rm -rf "$PIN"

# --- load and attach: a real packet through the filter creates ctlua's entry ---
cat >"$TEST_TMP/attach.lua" <<'EOF'
ct.default("alloc", {timeout = 60000, mark = 66})
local link, msg, errno = ct.attach(arg[1])
print(link and "attached" or msg, errno)
io.stdout:flush()
if link then ct.run(tonumber(arg[2])) end
EOF
# attach_with CAPS SPORT: attach in NS_A with CAPS, send a datagram from SPORT; sets
# RC, OUT, ERR, and ENTRY (its conntrack line in NS_A).
attach_with()
{
	: >"$TEST_TMP/out"
	in_caps "$1" timeout -k 2 20 "$CTLUA" "$TEST_TMP/attach.lua" "$IF_A" 3 \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	local pid=$!
	wait_line "$TEST_TMP/out" . 10
	if [[ "$(head -n 1 "$TEST_TMP/out")" == attached* ]]; then
		udp_send "$NS_B" "$ADDR_A" 5353 "$2" || diag "udp_send failed"
	fi
	wait "$pid"
	RC=$? OUT=$(<"$TEST_TMP/out") ERR=$(<"$TEST_TMP/err")
	ENTRY=$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=$2 dport=5353 ")
}

attach_with "$CORE" 41000
is "$RC $OUT" "0 attached	nil" "ct.attach with {$CORE} attaches" || show_ctlua
like "$ENTRY" ' mark=66 ' "and a packet through it gets ctlua's entry (mark 66)" || diag "entry: $ENTRY"
attach_with net_admin,sys_admin 41001
like "$RC $ENTRY" '^0 .* mark=66 ' "with {net_admin,sys_admin} too (CAP_SYS_ADMIN stands in)" ||
	show_ctlua
sport=41002
for c in bpf perfmon net_admin; do
	less=$(without "$CORE" "$c")
	attach_with "$less" $sport
	is "$RC $OUT" "0 EPERM: $NEEDS CAP_${c^^} (run it as root)	1" \
		"ct.attach with {$less}: nil, EPERM naming CAP_${c^^}, 1" || show_ctlua
	is "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" "and no filter is left on $IF_A"
	sport=$((sport + 1))
done

# --- the service: ctlua run with the unit's set starts, attaches, serves; one fewer does not ---
SVC_POL=$TEST_TMP/svc.lua
printf 'ct.default("alloc", {timeout = 60000, mark = 68})\nassert(ct.attach("%s"))\n' "$IF_A" >"$SVC_POL"
chmod 600 "$SVC_POL"
# service_with CAPS: `ctlua run` in NS_A with exactly CAPS, in the background; sets SVC_BG.
service_with()
{
	: >"$TEST_TMP/svc.err"
	in_caps "$1" timeout -k 2 20 "$CTLUA" run "$SVC_POL" \
		>"$TEST_TMP/svc.out" 2>"$TEST_TMP/svc.err" </dev/null &
	SVC_BG=$!
}
service_with "$CORE"
wait_line "$TEST_TMP/svc.err" 'generation 1' 10
is "$(<"$TEST_TMP/svc.err")" "ctlua: info: policy '$SVC_POL' running (generation 1)" \
	"ctlua run with {$CORE}: the policy runs (its readiness line)"
like "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" ' bpf ' "its filter is on $IF_A"
udp_send "$NS_B" "$ADDR_A" 5353 41010
like "$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=41010 dport=5353 ")" ' mark=68 ' \
	"and a packet through it gets the policy's entry (mark 68)"
kill -TERM "$(ctlua_self "$SVC_BG")"
wait "$SVC_BG"
is "$? $(tail -n 1 "$TEST_TMP/svc.err")" "0 ctlua: info: stopped" "SIGTERM stops it: exit 0"
is "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" "its filter is gone"
for c in bpf perfmon net_admin; do
	less=$(without "$CORE" "$c")
	service_with "$less"
	wait "$SVC_BG"
	is "$? $(<"$TEST_TMP/svc.err")" \
		"1 ctlua: error: policy not started: $SVC_POL:2: EPERM: $NEEDS CAP_${c^^} (run it as root)" \
		"ctlua run with {$less}: exit 1, the message naming CAP_${c^^}"
	is "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" "  and no filter is left on $IF_A"
done

# --- locked memory: RLIMIT_MEMLOCK 0 changes nothing ---
ip netns exec "$NS_A" prlimit --memlock=0:0 setpriv --bounding-set=-all,+bpf,+perfmon,+net_admin \
	--inh-caps=-all --ambient-caps=-all -- "$CTLUA" -e '
print(ct.attach("lo"), ct.alloc({src="198.18.0.2", dst="198.18.0.1", sport=1, dport=7, proto="udp"},
	{timeout = 30000, mark = 70}).mark)' >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$? $(<"$TEST_TMP/out")" "0 link lo ingress	70" \
	"with RLIMIT_MEMLOCK 0 the program loads, attaches and allocates" || diag_text "$(<"$TEST_TMP/err")"

# --- direct requests: a real ct.alloc ---
ALLOC='print(ct.alloc({src="198.18.0.2", dst="198.18.0.1", sport=2000, dport=53, proto="udp"},
	{timeout = 60000, mark = 67}))'
with "$CORE" -e "$ALLOC"
like "$RC $OUT" '^0 entry\{udp 198\.18\.0\.2:2000 → 198\.18\.0\.1:53, .* mark 0x43\}$' \
	"ct.alloc with {$CORE} creates the entry" || show_ctlua
like "$(ct_entry "$NS_A" "src=198.18.0.2 dst=198.18.0.1 sport=2000 dport=53 ")" ' mark=67 ' \
	"conntrack -L shows it"
for c in bpf perfmon net_admin; do
	less=$(without "$CORE" "$c")
	with "$less" -e "$ALLOC"
	is "$RC $OUT" "0 nil	EPERM: $NEEDS CAP_${c^^} (run it as root)	1" \
		"ct.alloc with {$less}: nil, EPERM naming CAP_${c^^}, 1" || show_ctlua
done
# a namespace named in ct.alloc is a peer id (RTM_GETNSID), not setns: no CAP_SYS_ADMIN
with "$CORE" -e 'print(ct.alloc({src="198.18.0.2", dst="198.18.0.1", sport=2001, dport=53,
	proto="udp"}, {timeout = 60000, mark = 69, netns = arg[1]}).mark)' "$NS_B"
is "$RC $OUT" "0 69" "ct.alloc{netns = NAME} with {$CORE}: no CAP_SYS_ADMIN needed" || show_ctlua
like "$(ct_entry "$NS_B" "sport=2001 dport=53 ")" ' mark=69 ' "the entry is in $NS_B"

# --- the conntrack table: a real ct.entries finds the entry ct.alloc made ---
ENTRIES='local it, msg, errno = ct.entries{mark = 67}
if not it then print(nil, msg, errno) return end
for e in it do print(e.tuple, e.mark) end'
with net_admin -e "$ENTRIES"
is "$RC $OUT" "0 udp 198.18.0.2:2000 → 198.18.0.1:53	67" "ct.entries with {net_admin} lists it" ||
	show_ctlua
with "" -e "$ENTRIES"
is "$RC $OUT" "0 nil	EPERM: ct.entries needs the capability CAP_NET_ADMIN (run it as root)	1" \
	"ct.entries with {}: nil, EPERM naming CAP_NET_ADMIN, 1" || show_ctlua

# --- named namespaces: ct.entries{netns = NAME} enters it (setns) ---
NSREAD='local it, msg, errno = ct.entries{mark = 69, netns = arg[1]}
if not it then print(nil, msg, errno) return end
for e in it do print(e.tuple, e.mark) end'
with net_admin,sys_admin -e "$NSREAD" "$NS_B"
is "$RC $OUT" "0 udp 198.18.0.2:2001 → 198.18.0.1:53	69" \
	"ct.entries{netns = NAME} with {net_admin,sys_admin} reads that namespace's table" || show_ctlua
with net_admin -e "$NSREAD" "$NS_B"
is "$RC $OUT" "0 nil	EPERM: ct.entries needs the capability CAP_SYS_ADMIN to enter network namespace '$NS_B' (run it as root)	1" \
	"with {net_admin}: nil, EPERM naming CAP_SYS_ADMIN, 1" || show_ctlua
with sys_admin -e "$NSREAD" "$NS_B"
is "$RC $OUT" "0 nil	EPERM: ct.entries needs the capability CAP_NET_ADMIN (run it as root)	1" \
	"with {sys_admin}: nil, EPERM naming CAP_NET_ADMIN, 1" || show_ctlua

# --- the unit's file-system sandbox, emulated (no systemd runs here): in a private mount
# namespace everything is read-only but /sys/fs/bpf and /run/ctlua (ProtectSystem=strict,
# ProtectKernelTunables=, ReadWritePaths=, RuntimeDirectory=), /root and /home are empty
# (ProtectHome=), /tmp is private (PrivateTmp=); then the unit's capabilities and
# no_new_privs. A fresh network namespace (unshare -n) rather than `ip netns exec`, which
# mounts a sysfs of its own over /sys and would hide the bpffs. ---
cat >"$TEST_TMP/sandbox.sh" <<'EOF'
mount --make-rslave / || exit 1
for mp in $(awk '{ print $2 }' /proc/self/mounts | sort -u); do
	case "$mp" in
	/proc | /proc/* | /dev | /dev/* | /sys/fs/bpf | /run/ctlua) ;;
	*) mount -o remount,bind,ro "$mp" 2>/dev/null ;;
	esac
done
for rw in /sys/fs/bpf /run/ctlua; do
	mount --bind "$rw" "$rw" && mount -o remount,bind,rw "$rw" || exit 1
done
# the checkout under test stays visible where these hide it (a clone under /tmp or
# /root): the unit's binary is installed under /usr, which they do not hide
repo=$PWD
exec 9<"$repo"
mount -t tmpfs tmpfs /root && mount -t tmpfs tmpfs /home && mount -t tmpfs tmpfs /tmp ||
	exit 1
if [ ! -d "$repo" ]; then
	mkdir -p "$repo" && mount --no-canonicalize --bind /proc/self/fd/9 "$repo" || exit 1
fi
exec 9<&-
mount -o remount,ro /root && mount -o remount,ro /home || exit 1
exec setpriv --bounding-set=-all,+bpf,+perfmon,+net_admin --inh-caps=-all \
	--ambient-caps=-all --no-new-privs -- "$@"
EOF
# /run/ctlua is made as systemd would (and removed at exit if this test made it)
if [[ ! -e /run/ctlua ]]; then
	mkdir -m 0700 /run/ctlua && MADE_RUN=1
fi
# in_sandbox CMD...: CMD in the emulated sandbox; sets RC, OUT, ERR.
in_sandbox()
{
	unshare -m -n bash "$TEST_TMP/sandbox.sh" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	RC=$? OUT=$(<"$TEST_TMP/out") ERR=$(<"$TEST_TMP/err")
}
in_sandbox sh -c 'touch /etc/ctlua-sandbox-probe; touch /run/ctlua-sandbox-probe'
is "$ERR" "touch: cannot touch '/etc/ctlua-sandbox-probe': Read-only file system
touch: cannot touch '/run/ctlua-sandbox-probe': Read-only file system" \
	"the emulated sandbox is read-only where the unit's is"
in_sandbox timeout -k 2 20 "$CTLUA" -e '
local link = assert(ct.attach("lo"))
local e = assert(ct.alloc({src = "198.18.0.2", dst = "198.18.0.1", sport = 5, dport = 7,
	proto = "udp"}, {timeout = 30000, mark = 72}))
local n = 0
for x in assert(ct.entries{mark = 72}) do n = n + 1 end
print(link, e.mark, n)'
is "$RC $OUT" "0 link lo ingress	72	1" "in it, ctlua attaches, allocates and reads the table" ||
	show_ctlua
rm -rf "$PIN"
in_sandbox bpftool map create "$PIN" type array key 4 value 4 entries 1 name ctl_sandbox
ok $? "and a map can be pinned in /sys/fs/bpf (ReadWritePaths=)" || diag_text "$ERR"
[[ -e "$PIN" ]]
ok $? "the pin is there afterwards"
rm -rf "$PIN"

# --- the core as an unprivileged user with ambient capabilities (what a unit with User=
# could do). Such a unit's RuntimeDirectory=ctlua is that user's: here a tmpfs of
# nobody's on /run/ctlua, in a mount namespace of the test's own. ---
mkdir -p /run/ctlua
unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0700,uid=65534,gid=65534 \
	ctlua-test /run/ctlua && exec "$@"' sh \
	ip netns exec "$NS_A" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all,+bpf,+perfmon,+net_admin --ambient-caps=-all,+bpf,+perfmon,+net_admin -- \
	"$CTLUA" -e 'print(ct.attach("lo"), ct.alloc({src="198.18.0.2", dst="198.18.0.1", sport=3,
	dport=7, proto="udp"}, {timeout = 30000, mark = 71}).mark)' >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$? $(<"$TEST_TMP/out")" "0 link lo ingress	71" \
	"as user nobody with the three as ambient capabilities: attach and alloc work" ||
	diag_text "$(<"$TEST_TMP/err")"
done_testing
