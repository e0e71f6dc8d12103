# shellcheck shell=bash
# service.sh - the policy file and the process of a `ctlua run` service, for the service tests.
#
#   source tests/lib/tap.sh
#   source tests/lib/netns.sh
#   source tests/lib/service.sh
#   POL=$POLDIR/edge.lua                # in a directory of mode 0700 (StrictModes)
#   policy 'assert(ct.attach("'"$IF_A"'"))'
#   ctlua_start "$NS_A" 30 run "$POL"
#   kill -HUP "$(ctlua_pid)"

# policy TEXT: write TEXT and a newline to $POL (the test sets it) with mode 0600, as the
# service's StrictModes want a policy file; replaces what was there.
policy()
{
	printf '%s\n' "$1" >"$POL"
	chmod 600 "$POL"
}

# ctlua_pid: the PIDs (one a line) of the processes named ctlua in $NS_A: ctlua itself,
# not the timeout that ctlua_start puts around it (CTLUA_PID); nothing when none runs.
ctlua_pid()
{
	local p
	for p in $(ip netns pids "$NS_A"); do
		[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == ctlua ]] && echo "$p"
	done
}
