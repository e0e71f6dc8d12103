# shellcheck shell=bash
# policy_jobs.sh - several ctlua scripts running at once in NS_A, each known by a name,
# each telling its own PID: for the tests of what one ctlua leaves to the next.
#
#   source tests/lib/tap.sh
#   source tests/lib/netns.sh
#   source tests/lib/policy_jobs.sh
#   TMP=$TEST_TMP                       # where the scripts and their output go
#   policy a "assert(ct.attach('$IF_A')) print('attached') io.stdout:flush() ct.run(5000)"
#   start a --pin "$PIN"                # returns once "attached" is printed
#   finish a KILL                       # RC, OUT, ERR
#
# ctlua starts as ctlua_start starts it: through nsenter after pin_dir (CTLUA_NSENTER).

# PID[NAME]: ctlua's own pid; JOB[NAME]: the background job (a timeout wrapping it);
# OUTF[NAME], ERRF[NAME]: the files its stdout and stderr go to.
declare -A PID JOB OUTF ERRF

# policy NAME LUA: write $TMP/NAME.lua, a script that prints "PID <its pid>" (flushed),
# then runs LUA.
policy()
{
	cat >"$TMP/$1.lua" <<EOT
print("PID " .. io.open("/proc/self/stat"):read("n"))
io.stdout:flush()
$2
EOT
}

# start NAME [OPTIONS...]: run ctlua OPTIONS $TMP/NAME.lua in NS_A in the background
# (killed after 30 s), and wait (10 s at most) until it printed a line starting with
# "attached"; a diagnostic with its stderr if it did not. Sets PID[NAME], JOB[NAME],
# OUTF[NAME], ERRF[NAME], and CTLUA_OUT, CTLUA_ERR as ctlua_start does.
start()
{
	local name=$1
	shift
	ctlua_start "$NS_A" 30 "$@" "$TMP/$name.lua"
	JOB[$name]=$CTLUA_PID
	OUTF[$name]=$CTLUA_OUT
	ERRF[$name]=$CTLUA_ERR
	wait_line "$CTLUA_OUT" '^attached' 10 || diag "$name did not attach: $(cat "$CTLUA_ERR")"
	PID[$name]=$(sed -n 's/^PID //p' "$CTLUA_OUT")
}

# finish NAME [SIGNAL]: send SIGNAL to ctlua NAME (none: just wait), wait for its end;
# sets RC (its exit status), OUT and ERR (what it printed).
# shellcheck disable=SC2034 # RC, OUT and ERR are the caller's
finish()
{
	[[ -n "${2:-}" ]] && kill "-$2" "${PID[$1]}"
	# (bash would report a job killed by SIGKILL on stderr: it is expected here)
	{ wait "${JOB[$1]}"; RC=$?; } 2>/dev/null
	OUT=$(cat "${OUTF[$1]}")
	ERR=$(cat "${ERRF[$1]}")
}
