#!/bin/bash
# 53-bad-cmdline.t - issue #10 section 2 on the command line: `ctlua explain` parses
# errnos strictly, `ctlua ""` says it cannot open '', and -e CODE takes any number of
# arguments. Each bad input gets its exact message and exit status, and the next good
# command still works. Needs no kernel.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
CTLUA=${CTLUA:-build/ctlua}
[[ -x "$CTLUA" ]] || BAIL_OUT "$CTLUA is missing: run make first"

# run ARGS...: ctlua ARGS with a time limit; sets OUT, ERR and RC.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run()
{
	OUT=$(timeout -k 1 20 "$CTLUA" "$@" 2>"$TMP/err" </dev/null)
	RC=$?
	ERR=$(<"$TMP/err")
}

# explain_bad ARG MESSAGE: `ctlua explain ARG` exits 2 with MESSAGE and prints nothing.
explain_bad()
{
	run explain "$1"
	is "$RC" 2 "ctlua explain '$1' exits 2"
	is "$ERR" "ctlua: explain: $2" "and says: $2"
	is "$OUT" "" "and explains nothing"
}

explain_bad 71abc "'71abc' is not an errno name or number"
explain_bad "71 " "'71 ' is not an errno name or number"
explain_bad " 71" "' 71' is not an errno name or number"
explain_bad "" "'' is not an errno name or number"
explain_bad 0x47 "'0x47' is not an errno name or number"
explain_bad 4294967367 "'4294967367' is out of range -4095 to 4095"
explain_bad 99999999999999999999 "'99999999999999999999' is out of range -4095 to 4095"
explain_bad -99999999999999999999 "'-99999999999999999999' is out of range -4095 to 4095"
explain_bad 4096 "'4096' is out of range -4095 to 4095"
explain_bad 0 "'0' is not an errno (they start at 1)"
explain_bad $'EPROTO\x01' $'\'EPROTO\x01\' is not an errno name or number'

run explain 71
is "$RC" 0 "after them, ctlua explain 71 exits 0"
like "$OUT" '^EPROTO \(71\): ' "and explains EPROTO"
run explain -16 4095
is "$RC" 0 "a negative errno and the largest one are numbers too"
like "$OUT" $'^EBUSY \\(16\\): .*\nE4095 \\(4095\\): not returned by the conntrack kfuncs' \
	"-16 is EBUSY; 4095 has no name"
run explain EIO 71abc EPROTO
is "$RC" 2 "one bad errno among good ones exits 2"
is "$OUT" "EIO (5): not returned by the conntrack kfuncs (Input/output error)" \
	"after explaining the ones before it"

# --- ctlua "" -------------------------------------------------------------------------
run ""
is "$RC" 1 "ctlua '' exits 1"
is "$ERR" "ctlua: cannot open '': No such file or directory" "and says it cannot open ''"
is "$OUT" "" "and runs no shell"
run "" -e 'print(1)'
is "$RC" 1 "ctlua '' -e CODE: '' is the script, so it exits 1 too"

# --- many arguments ---------------------------------------------------------------------
run -e 'print(select("#", ...), #arg, arg[1], arg[100], (...))' $(seq 100)
is "$RC" 0 "-e CODE with 100 arguments exits 0" || diag "$ERR"
is "$OUT" $'100\t100\t1\t100\t1' "and passes all of them, in arg and as ..."
run -e 'print(select("#", ...), arg[#arg])' $(seq 20000)
is "$OUT" $'20000\t20000' "20 000 arguments too"
printf 'print(select("#", ...))\n' >"$TMP/args.lua"
run "$TMP/args.lua" $(seq 300)
is "$OUT" 300 "a script file with 300 arguments"

# --- bytecode on standard input ---------------------------------------------------------
# The shell reads piped lines as chunks, text only like a script: a precompiled chunk is
# refused by name and the next line still runs.
if command -v lua5.4 >/dev/null 2>&1; then
	lua5.4 -e 'io.write((string.dump(function() return 1 end):gsub("\n", "")), "\n",
		"print(\"still here\")\n")' >"$TMP/piped"
	OUT=$(timeout -k 1 20 "$CTLUA" <"$TMP/piped" 2>"$TMP/err")
	RC=$?
	ERR=$(<"$TMP/err")
	is "$ERR" "ctlua: stdin: precompiled (binary) chunk refused: ctlua loads Lua source only (ctlua --allow-bytecode allows it)" \
		"a bytecode line piped to the shell is refused by name"
	is "$OUT" "still here" "and the next line runs"
	is "$RC" 1 "the exit status says a line failed"
else
	skip "lua5.4 is not installed" 3
fi

# --name names a service's control socket: it means nothing to a script or to check
run --name edge -e 'print(1)'
is "$RC:$OUT:$ERR" "2::ctlua: --name is an option of 'ctlua run' (its control socket's name)" \
	"--name with a script is refused, and nothing runs"
printf 'ct.mode("observe")\n' >"$TMP/named.lua"
chmod 600 "$TMP/named.lua"
run check --name edge "$TMP/named.lua"
is "$RC:$OUT:$ERR" "2::ctlua: check does not take --name (it is an option of 'ctlua run')" \
	"ctlua check refuses --name"

done_testing
