# shellcheck shell=bash
# limit.sh - what the rate limit tests (95-limit-flood.t, 96-limit-live.t) share: a
# namespace pair with conntrack hooks in NS_A and a second IPv4 source in NS_B, the
# flood sender (tests/lib/flood.py), and the 10 % check. Source after netns.sh.

# limit_test_setup: pair_test_setup, python3 (or skip; a failure under CI=true), the
# conntrack ruleset in NS_A, and 198.18.0.3 in NS_B (ADDR_B's /24).
limit_test_setup()
{
	pair_test_setup
	if ! command -v python3 >/dev/null 2>&1; then
		[[ "${CI:-}" == true ]] && BAIL_OUT "python3 is needed to flood (scripts/install-deps.sh)"
		skip_all "python3 is needed to flood"
	fi
	ct_hooks "$NS_A" || BAIL_OUT "cannot load the conntrack ruleset"
	ip -n "$NS_B" addr add 198.18.0.3/24 dev "$IF_B"
}

# flood_from_b [--cpu N] DST SECONDS PPS SRCS [FIRST-DPORT]: tests/lib/flood.py from NS_B
# (on CPU N alone, with --cpu); prints its lines.
flood_from_b()
{
	local pin=()

	if [[ "$1" == --cpu ]]; then
		pin=(taskset -c "$2")
		shift 2
	fi
	ip netns exec "$NS_B" "${pin[@]}" python3 tests/lib/flood.py "$@"
}

# within GOT WANT NAME: a test that GOT is within 10 % of WANT.
within()
{
	ok "$(awk -v g="$1" -v w="$2" 'BEGIN { d = g - w; if (d < 0) d = -d; print (d <= w / 10) ? 0 : 1 }')" \
		"$3: $1 admitted, $2 wanted (10 %)"
}
