# pkt_paced.py - the paced sender of row 2d (bench/rows/27-limits.sh): new UDP flows
# from many sources at a steady rate, written as frames straight to one or more
# interfaces (AF_PACKET), every interface getting the same frames at the same moments.
#
#   python3 pkt_paced.py SECONDS PPS FIRST-SRC SOURCES IFNAME DST-MAC [IFNAME DST-MAC]...
#
# Every source (FIRST-SRC and the next SOURCES - 1 addresses) sends PPS frames a second
# to 198.19.0.1:53, each from the next source port, so each frame is a new flow; in
# every tick all sources send, in turn. Prints "sent N per interface, first T0 last T1",
# the times in CLOCK_MONOTONIC seconds: each source's flows span [T0, T1].
import ipaddress
import socket
import struct
import sys
import time


def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def frame(dst_mac, src, sport):
    payload = b"x"
    udp = struct.pack("!HHHH", sport, 53, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     src, socket.inet_aton("198.19.0.1"))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = dst_mac + bytes.fromhex("020000000fff") + b"\x08\x00"
    return eth + ip + udp


secs, pps = float(sys.argv[1]), float(sys.argv[2])
first, nsrc = ipaddress.IPv4Address(sys.argv[3]), int(sys.argv[4])
targets = []
for i in range(5, len(sys.argv), 2):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((sys.argv[i], 0))
    targets.append((s, bytes.fromhex(sys.argv[i + 1].replace(":", ""))))
srcs = [(first + k).packed for k in range(nsrc)]
start = time.monotonic()
t0 = t1 = None
n = 0
while True:
    now = time.monotonic()
    if now - start >= secs:
        break
    due = int((now - start) * pps) + 1
    while n < due:
        for src in srcs:
            for s, mac in targets:
                s.send(frame(mac, src, 10000 + n))
        t1 = time.monotonic()
        if t0 is None:
            t0 = t1
        n += 1
    time.sleep(0.002)
print("sent %d per interface, first %.6f last %.6f" % (n * nsrc, t0, t1))
