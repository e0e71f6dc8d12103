#!/bin/bash
# 64-install.t - `make install` puts exactly the expected files where a package would
# (DESTDIR, PREFIX=/usr), with their modes; what it installed runs (the binary, ct.so,
# the man page); the systemd unit passes `systemd-analyze verify` with no warning,
# against the installed binary and page; `make uninstall` leaves no file behind. A file
# in lua/ is installed as the module ctlua.NAME. No systemd needs to run: the unit is
# only verified, not started.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh

((EUID == 0)) || skip_all "needs root (ctlua --check reports the capabilities of root)"
for cmd in systemd-analyze man lua5.4 pkg-config; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		[[ "${CI:-}" == true ]] && BAIL_OUT "'$cmd' is missing (scripts/install-deps.sh installs it)"
		skip_all "needs $cmd"
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ctlua-install.$$.XXXXXX")
trap '_status=$?; rm -rf "$TMP"; exit $_status' EXIT

# mk ARGS...: make quietly; its output goes to $TMP/make.log, shown on failure.
mk()
{
	make --no-print-directory -s "$@" >"$TMP/make.log" 2>&1 ||
		{ diag "make $* failed:"; diag_text "$(cat "$TMP/make.log")"; return 1; }
}

# files DIR: every file under DIR with its mode, "MODE path", sorted.
files()
{
	(cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | LC_ALL=C sort)
}

# --- a staged install, as a package builds it ---
DEST=$TMP/dest
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
UNITDIR=${UNITDIR:-/usr/lib/systemd/system}
mk install DESTDIR="$DEST" PREFIX=/usr
ok $? "make install DESTDIR=... PREFIX=/usr succeeds"
want="755 usr/bin/ctlua
644 usr/lib/lua/5.4/ct.so
644 usr/share/man/man1/ctlua.1
644 ${UNITDIR#/}/ctlua@.service"
for f in examples/*; do
	want+=$'\n'"644 usr/share/ctlua/examples/${f#examples/}"
done
for f in lua/*.lua; do
	[[ -e "$f" ]] && want+=$'\n'"644 usr/share/lua/5.4/ctlua/${f#lua/}"
done
is "$(files "$DEST")" "$(LC_ALL=C sort <<<"$want")" \
	"it installs exactly the binary, ct.so, the man page, the unit, the examples (and lua/)"
is "$(grep '^Exec' "$DEST$UNITDIR/ctlua@.service")" \
"ExecStart=/usr/bin/ctlua run /etc/ctlua/%i.lua
ExecReload=kill -HUP \$MAINPID" "the unit runs /usr/bin/ctlua run /etc/ctlua/NAME.lua; reload is SIGHUP"
is "$(grep -c '@BINDIR@' "$DEST$UNITDIR/ctlua@.service")" 0 "no placeholder is left in the unit"

out=$("$DEST/usr/bin/ctlua" --version 2>&1)
like "$out" '^ctlua [0-9]+\.[0-9]+\.[0-9]+ \(Lua 5\.4\.[0-9]+\)$' "the installed binary runs: $out"
out=$("$DEST/usr/bin/ctlua" --check 2>&1)
is "$? $(head -n 1 <<<"$out")" "0 kernel: ok (Linux $(uname -r) with BTF)" \
	"the installed binary's --check passes as root" || diag_text "$out"
out=$(lua5.4 -e "package.cpath = '$DEST/usr/lib/lua/5.4/?.so'
local ct = require 'ct'; print(ct.version)" 2>&1)
is "$out" "$("$DEST/usr/bin/ctlua" -e 'print(ct.version)')" "lua5.4 loads the installed ct.so"
out=$(MANWIDTH=80 man -P cat -l "$DEST/usr/share/man/man1/ctlua.1" 2>"$TMP/man.err")
like "$out" $'^CTLUA\\(1\\)' "man -l reads the installed page" || diag_text "$(head -3 <<<"$out")"
is "$(cat "$TMP/man.err")" "" "without a warning"

mk uninstall DESTDIR="$DEST" PREFIX=/usr
ok $? "make uninstall succeeds"
is "$(files "$DEST")" "" "it leaves no file in DESTDIR"
is "$(cd "$DEST" && find . -path '*ctlua*')" "" "nor a directory of ctlua's own"

# --- the unit, verified against what it names: installed under a prefix that exists ---
# systemd-analyze verify checks that ExecStart's binary and the Documentation= page exist
# on this machine, so the prefix is a real directory (no DESTDIR) and man finds the
# installed page through MANPATH. Warnings count as failures, not only the exit status.
ROOT=$TMP/root
mk install PREFIX="$ROOT/usr"
ok $? "make install PREFIX=<tmp>/usr succeeds"
UNIT=$ROOT/usr/lib/systemd/system/ctlua@.service
is "$(grep '^ExecStart=' "$UNIT")" "ExecStart=$ROOT/usr/bin/ctlua run /etc/ctlua/%i.lua" \
	"its unit runs that prefix's binary"
out=$(MANPATH=$ROOT/usr/share/man systemd-analyze verify "$UNIT" 2>&1)
is "$? $out" "0 " "systemd-analyze verify passes the unit without a warning"
# the same check sees a broken unit (so the one above can fail)
sed -e 's/^KillMode=mixed/KillMode=mixd/' "$UNIT" >"$TMP/ctlua@.service"
out=$(MANPATH=$ROOT/usr/share/man systemd-analyze verify "$TMP/ctlua@.service" 2>&1)
like "$out" "ctlua@.service:[0-9]*: Failed to parse kill mode specification, ignoring: mixd" "and it reports a bad directive"
rm -f "$ROOT/usr/bin/ctlua"
out=$(MANPATH=$ROOT/usr/share/man systemd-analyze verify "$UNIT" 2>&1)
like "$out" "Command $ROOT/usr/bin/ctlua is not executable" "and a missing binary"
mk uninstall PREFIX="$ROOT/usr"
is "$(files "$ROOT")" "" "make uninstall PREFIX=<tmp>/usr leaves no file"

# --- the Lua library, installed, serves stock lua5.4 with the installed ct.so ---
mk install DESTDIR="$DEST" PREFIX=/usr
out=$(lua5.4 -e "package.path = '$DEST/usr/share/lua/5.4/?.lua'
package.cpath = '$DEST/usr/lib/lua/5.4/?.so'
local limit = require 'ctlua.limit'
local b = limit.bucket{rate = 1, burst = 2}
print(b:take('k', 0), b:take('k', 0), b:take('k', 0))
print(type(require('ctlua.lab').up))" 2>&1)
is "$out" "true	true	false	1.0
function" "lua5.4 finds the installed library as require 'ctlua.NAME' (ctlua.limit, ctlua.lab)"
"${CTLUA:-build/ctlua}" -e 'assert(require "ctlua.limit")' 2>&1
ok $? "and the build's own ctlua still has its whole library built in"
mk uninstall DESTDIR="$DEST" PREFIX=/usr
is "$(files "$DEST")" "" "make uninstall removes it too"
is "$(cd "$DEST" && find . -path '*ctlua*')" "" "and its directory"
done_testing
