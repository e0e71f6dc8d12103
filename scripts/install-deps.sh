#!/bin/bash
# install-deps.sh - install the Debian 12 packages ctlua needs to build, test and demo.
#
# Only what is missing is installed, and `apt-get update` runs only then, so a second run
# is a fast no-op. Runs unattended as root; as another user it names what is missing.
set -euo pipefail

PACKAGES=(
	make clang llvm bpftool pkg-config		# build
	libclang-rt-14-dev				# libFuzzer for fuzz/ (clang -fsanitize=fuzzer)
	libbpf-dev libelf-dev zlib1g-dev		# libbpf and what it links
	liblua5.4-dev lua5.4				# the policy language
	lua-cjson					# scripts/bench-table reads bench/results.json
	libnetfilter-conntrack-dev libmnl-dev		# reading the table, netns ids
	libreadline-dev					# the REPL's line editing
	libsystemd-dev					# ctlua run tells systemd it is ready (sd_notify)
	conntrack nftables iproute2 socat tmux		# kernel tests and the lab
	perl						# prove
	strace						# 23-startup.t counts BTF reads
	libcap2-bin					# 56-capabilities.t drops capabilities (capsh)
	jq python3					# 55-verdict-buffer.t reads bpftool JSON, polls the map
	groff-base					# 41-help.t reads the man page
	systemd						# 64-install.t: systemd-analyze verify, the unit dir (systemd.pc)
	man-db						# 64-install.t reads the installed page (man -l)
	util-linux					# 63-privileges.t: setpriv, prlimit
	libclang-rt-14-dev				# clang's libFuzzer runtime (make fuzz, make test)
)

installed() {
	# dpkg-query fails for a package it has never heard of; both mean "missing".
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
	installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if ((EUID != 0)); then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/install-deps.XXXXXX)
trap 'rm -f "$log"' EXIT

# apt's own chatter goes to the log, shown only when a step fails.
apt() {
	if ! apt-get "$@" </dev/null >"$log" 2>&1; then
		cat "$log" >&2
		echo "install-deps: apt-get $1 failed" >&2
		exit 1
	fi
}

echo "install-deps: apt-get update (missing: ${missing[*]})"
apt update
echo "install-deps: apt-get install ${missing[*]}"
apt install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
