#!/usr/bin/env python3
# verdict_poll.py - a second process that watches ctlua's verdict map, for
# tests/55-verdict-buffer.t: how long after ct.verdict a verdict is in the kernel.
#
#   ctlua writer.lua | python3 tests/lib/verdict_poll.py READY SRC DST DPORT SPORT...
#
# Polls the map without pause for the UDP flows SRC:SPORT -> DST:DPORT, noting when
# each first appears (CLOCK_MONOTONIC). Meanwhile reads the writer's lines: "MAP ID"
# names the map (then the file READY is created: the writer waits for it, as this
# takes a while to start); "W SPORT NS" says the writer read CLOCK_MONOTONIC as NS (from
# /proc/timer_list) just before ct.verdict for SPORT. At the end of input prints
# "SPORT MICROSECONDS" from NS to the key found, an upper bound of the delay (or
# "SPORT missing"); other lines are passed through.
import ctypes
import os
import select
import socket
import struct
import sys
import time

SYS_BPF = 321  # x86_64
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_GET_FD_BY_ID = 14
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    return libc.syscall(SYS_BPF, cmd, buf, 128)


def main():
    ready, src, dst, dport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    sports = [int(p) for p in sys.argv[5:]]
    value = ctypes.create_string_buffer(32)
    keys = {}
    for sport in sports:
        keys[sport] = ctypes.create_string_buffer(
            socket.inet_aton(src) + bytes(12) + socket.inet_aton(dst) + bytes(12) +
            struct.pack("!HH", sport, dport) + bytes([2, 17, 0, 0]), 40)
    called, found = {}, {}
    fd, pending, rest, eof = -1, [], b"", False
    stdin = sys.stdin.fileno()
    while not eof:
        if fd >= 0:
            for sport in pending:
                attr = struct.pack("=IIQQQ", fd, 0, ctypes.addressof(keys[sport]),
                                   ctypes.addressof(value), 0)
                if bpf(BPF_MAP_LOOKUP_ELEM, attr) == 0:
                    found[sport] = time.monotonic_ns()
            pending = [p for p in pending if p not in found]
        if not select.select([stdin], [], [], 0)[0]:
            continue
        data = os.read(stdin, 4096)
        eof = not data
        *lines, rest = (rest + data).split(b"\n")
        for raw in lines:
            words = raw.decode().split()
            if words[:1] == ["MAP"]:
                fd = bpf(BPF_MAP_GET_FD_BY_ID, struct.pack("=III", int(words[1]), 0, 0))
                if fd < 0:
                    print("cannot open map", words[1], ctypes.get_errno(), flush=True)
                    return 1
                pending = list(sports)
                open(ready, "w").close()
            elif words[:1] == ["W"]:
                called[int(words[1])] = int(words[2])
            else:
                print(raw.decode(), flush=True)
    for sport in sports:
        if sport in found and sport in called:
            print(sport, (found[sport] - called[sport]) // 1000)
        else:
            print(sport, "missing")
    return 0


sys.exit(main())
