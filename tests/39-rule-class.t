#!/bin/bash
# 39-rule-class.t - the rule classifier in the kernel gives the ordered scan's answer:
# `unit_tests rules-kernel` (tests/unit/rule_class.c) writes random rule tables with
# ctl_dp_put_policy, runs random IPv4 and IPv6 packets through ctlua_ingress with
# BPF_PROG_TEST_RUN (mode observe: decide and report, create nothing) and compares the
# rule each miss event names with the scan's, with tables that name sets (members
# written to the set maps, then changed under the table). Then a pinned state's set
# members reused by a new datapath. In a namespace of its own, as test runs look flows
# up in the caller's conntrack table. The unit binary prints the TAP.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

unit=${UNIT_TESTS:-build/unit_tests}
[[ -x "$unit" ]] || BAIL_OUT "'$unit' is missing: run make first"
require_root_kernel
make_ns || BAIL_OUT "cannot create a namespace"
# nsenter, not ip netns exec: the pinned sets' check needs the host's bpf file system
pin_dir
nsenter --net="/run/netns/$NS" "$unit" rules-kernel "$PIN"
