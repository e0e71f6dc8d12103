# flood.py - new UDP flows from several source addresses at a steady pace, for the rate
# limit tests (95-limit-flood.t, 96-limit-live.t).
#
#   python3 flood.py DST SECONDS PPS SRC[,SRC...] [FIRST-DPORT]
#
# Each source sends PPS datagrams a second to DST, each to the next destination port
# from FIRST-DPORT (default 20000) on, so every datagram is a new flow; the sources take
# turns. Prints one line per source: "SRC sent N first T0 last T1", the times in
# CLOCK_MONOTONIC seconds (the clock of bpf_ktime_get_ns).
import socket
import sys
import time

dst, secs, pps = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
srcs = sys.argv[4].split(",")
first = int(sys.argv[5]) if len(sys.argv) > 5 else 20000
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
socks = []
for src in srcs:
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    socks.append(s)
sent = [0] * len(srcs)
times = [[None, None] for _ in srcs]
start = time.monotonic()
n = 0
while True:
    now = time.monotonic()
    if now - start >= secs:
        break
    due = int((now - start) * pps) + 1
    while n < due:
        for i, s in enumerate(socks):
            s.sendto(b"x", (dst, first + n))
            t = time.monotonic()
            if times[i][0] is None:
                times[i][0] = t
            times[i][1] = t
            sent[i] += 1
        n += 1
    time.sleep(0.002)
for i, src in enumerate(srcs):
    print("%s sent %d first %.6f last %.6f" % (src, sent[i], times[i][0], times[i][1]))
