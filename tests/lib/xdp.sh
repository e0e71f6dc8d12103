# shellcheck shell=bash
# xdp.sh - what the XDP tests ask of an interface's XDP hook.
#
#   source tests/lib/xdp.sh             # after netns.sh
#   wait_xdp "$NS_A" "$IF_A" xdp "$CTLUA_PID"
#   xdp_word "$NS_A" "$IF_A"            # xdp, xdpgeneric, or nothing

# xdp_word NS IF: how `ip link show` names the XDP program on IF: "xdp" (native),
# "xdpgeneric", "xdpoffload", or nothing when there is none.
xdp_word()
{
	ip -n "$1" -d link show dev "$2" 2>/dev/null |
		grep -oE '(^| )(xdp|xdpgeneric|xdpoffload|xdpmulti) ' | head -n 1 | tr -d ' '
}

# wait_xdp NS IF WORD [PID]: wait (5 s at most) until IF has an XDP program shown as WORD,
# giving up early when PID ends. Returns 0, or 1 with a diagnostic.
wait_xdp()
{
	local ns=$1 ifname=$2 word=$3 pid=${4:-} i
	for i in $(seq 50); do
		[[ "$(xdp_word "$ns" "$ifname")" == "$word" ]] && return 0
		if [[ -n "$pid" ]] && ! _ns_alive "$pid"; then
			diag "no $word program on $ifname in $ns: the process ended first"
			return 1
		fi
		sleep 0.1
	done
	diag "no $word program on $ifname in $ns after 5 s (ip link: $(xdp_word "$ns" "$ifname"))"
	return 1
}

# owner_records NS: the ownership records under /run/ctlua of namespace NS, one a line.
owner_records()
{
	local ino
	ino=$(ip netns exec "$1" stat -L -c %i /proc/self/ns/net)
	ls /run/ctlua 2>/dev/null | grep -E -- "-$ino-" || true
}
