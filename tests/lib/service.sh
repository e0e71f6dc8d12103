# shellcheck shell=bash
# service.sh - the policy file and the process of a `ctlua run` service, for the service tests.
#
#   source tests/lib/tap.sh
#   source tests/lib/netns.sh
#   source tests/lib/service.sh
#   POL=$POLDIR/edge.lua                # in a directory of mode 0700 (StrictModes)
#   policy 'assert(ct.attach("'"$IF_A"'"))'
#   ctlua_start "$NS_A" 30 run "$POL"
#   kill -HUP "$(ctlua_self)"      # ctlua_self is netns.sh's

# policy TEXT: write TEXT and a newline to $POL (the test sets it) with mode 0600, as the
# service's StrictModes want a policy file; replaces what was there.
policy()
{
	printf '%s\n' "$1" >"$POL"
	chmod 600 "$POL"
}
