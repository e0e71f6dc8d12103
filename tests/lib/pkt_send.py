#!/usr/bin/env python3
# pkt_send.py - the packets the parser tests (88, 89) send: UDP and TCP with IPv6
# extension headers set as socket options, IPv6 packets with a chain of headers built
# byte by byte, ICMP and ICMPv6 echo requests, SCTP. No scapy: sockets only (root).
#
#   pkt_send.py udp DST DPORT SPORT COUNT [--size N] [--hop N] [--dstopts N] [--rthdr]
#   pkt_send.py tcp DST DPORT SPORT [--hop N] [--dstopts N] [--rthdr]
#   pkt_send.py icmp DST COUNT           # echo requests; ICMPv6 for an IPv6 DST
#   pkt_send.py sctp DST COUNT           # IP protocol 132: a common header and an INIT
#   pkt_send.py raw6 SRC DST DPORT SPORT CHAIN   # CHAIN: next-header types, e.g. 60,60,43
#   pkt_send.py eth IFNAME DSTMAC TAGS SRC DST DPORT SPORT COUNT   # TAGS: 88a8:200,8100:300
#
# --hop N / --dstopts N: an options header of N bytes (a multiple of 8) of PadN;
# --rthdr: a segment routing header (type 4) with no segment left, which Linux sends
# as a sticky option (types 0 and 2 are refused). raw6 writes the whole IPv6 packet
# (IPV6_HDRINCL): each header in CHAIN is 8 bytes (AH, 51: 16, its length in 4-byte
# units), then a UDP header and 4 bytes of payload; "cut" as the last element keeps only the
# first byte of the last header (its length is missing). Exits 0 once everything is sent.
# eth writes whole Ethernet frames of UDP datagrams (AF_PACKET) with the VLAN tags given,
# outermost first ("-": none), so tagged traffic needs no VLAN device (nor the kernel's
# 802.1Q support).
# Destinations must be in 198.18.0.0/15 or 2001:db8::/32 (the tests' ranges).
import ipaddress
import socket
import struct
import sys

IPPROTO_SCTP = 132


def fail(msg):
    sys.stderr.write("pkt_send: %s\n" % msg)
    sys.exit(2)


def family(dst):
    a = ipaddress.ip_address(dst)
    if not (a in ipaddress.ip_network("198.18.0.0/15") or a in ipaddress.ip_network("2001:db8::/32")):
        fail("refusing to send to '%s': not in 198.18.0.0/15 or 2001:db8::/32" % dst)
    return socket.AF_INET6 if a.version == 6 else socket.AF_INET


def options_header(size):
    """An options header of @size bytes: next header and length (the kernel writes the
    next header of sticky options), then PadN over the rest."""
    if size < 8 or size % 8:
        fail("an options header is a multiple of 8 bytes, not %d" % size)
    return bytes([0, size // 8 - 1, 1, size - 4]) + bytes(size - 4)


def srh(dst):
    """A segment routing header with one segment (the destination) and none left."""
    return bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, dst)


def set_ext(s, dst, opts):
    i = 0
    while i < len(opts):
        o = opts[i]
        if o == "--hop":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, options_header(int(opts[i + 1])))
            i += 2
        elif o == "--dstopts":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, options_header(int(opts[i + 1])))
            i += 2
        elif o == "--rthdr":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, srh(dst))
            i += 1
        elif o == "--size":
            i += 2
        else:
            fail("unknown option '%s'" % o)


def size_opt(opts):
    return int(opts[opts.index("--size") + 1]) if "--size" in opts else 8


def bound(dst, kind, sport, opts):
    """A socket of @kind bound to @sport, with the extension headers @opts asks for."""
    af = family(dst)
    s = socket.socket(af, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if af == socket.AF_INET6 else "0.0.0.0", int(sport)))
    if af == socket.AF_INET6:
        set_ext(s, dst, opts)
    return s


def udp(dst, dport, sport, count, opts):
    s = bound(dst, socket.SOCK_DGRAM, sport, opts)
    payload = b"x" * size_opt(opts)
    for _ in range(int(count)):
        s.sendto(payload, (dst, int(dport)))


def tcp(dst, dport, sport, opts):
    s = bound(dst, socket.SOCK_STREAM, sport, opts)
    s.settimeout(2)
    s.connect((dst, int(dport)))
    s.sendall(b"ctlua-tcp\n")
    s.close()


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def icmp(dst, count):
    af = family(dst)
    if af == socket.AF_INET6:
        s = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        kind = 128	# the kernel fills the ICMPv6 checksum
    else:
        s = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        kind = 8
    for seq in range(int(count)):
        msg = struct.pack("!BBHHH", kind, 0, 0, 0x4354, seq) + b"ctlua-ping"
        if af == socket.AF_INET:
            msg = msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]
        s.sendto(msg, (dst, 0))


def sctp(dst, count):
    # Not a real association: the common header and an INIT chunk are what a first
    # packet carries; the receiver may answer with an ICMP error, which is not ours.
    s = socket.socket(family(dst), socket.SOCK_RAW, IPPROTO_SCTP)
    init = struct.pack("!BBHIIHHI", 1, 0, 20, 0x43544c55, 65536, 1, 1, 1)
    for _ in range(int(count)):
        s.sendto(struct.pack("!HHII", 5000, 5001, 0, 0) + init, (dst, 0))


def raw6(src, dst, dport, sport, chain):
    family(dst)
    types = chain.split(",") if chain else []
    cut = types and types[-1] == "cut"
    if cut:
        types = types[:-1]
    nums = [int(t) for t in types]
    body = struct.pack("!HHHH", int(sport), int(dport), 12, 0) + b"ctlu"
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    pseudo = s6 + d6 + struct.pack("!I3xB", len(body), socket.IPPROTO_UDP)
    body = body[:6] + struct.pack("!H", checksum(pseudo + body)) + body[8:]
    ext = b""
    for i, t in enumerate(nums):
        nxt = nums[i + 1] if i + 1 < len(nums) else socket.IPPROTO_UDP
        if t == 51:	# AH: 16 bytes, length 2 (in 4-byte units, less 2)
            ext += bytes([nxt, 2, 0, 0]) + struct.pack("!II", 0x100, 1) + bytes(4)
        else:
            ext += bytes([nxt, 0, 1, 4, 0, 0, 0, 0])
    if cut:
        ext, body = ext[:-7], b""
    first = nums[0] if nums else socket.IPPROTO_UDP
    payload = ext + body
    hdr = struct.pack("!IHBB", 6 << 28, len(payload), first, 64) + s6 + d6
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(hdr + payload, (dst, 0))


def ip_udp(src, dst, dport, sport):
    """An IPv4 or IPv6 packet of one UDP datagram with 4 bytes of payload; (type, bytes)."""
    af = family(dst)
    s, d = socket.inet_pton(af, src), socket.inet_pton(af, dst)
    body = struct.pack("!HHHH", int(sport), int(dport), 12, 0) + b"ctlu"
    if af == socket.AF_INET6:
        pseudo = s + d + struct.pack("!I3xB", len(body), socket.IPPROTO_UDP)
    else:
        pseudo = s + d + struct.pack("!xBH", socket.IPPROTO_UDP, len(body))
    body = body[:6] + struct.pack("!H", checksum(pseudo + body) or 0xffff) + body[8:]
    if af == socket.AF_INET6:
        return 0x86dd, struct.pack("!IHBB", 6 << 28, len(body), socket.IPPROTO_UDP, 64) + s + d + body
    hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(body), 1, 0x4000, 64, socket.IPPROTO_UDP, 0) + s + d
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return 0x0800, hdr + body


def eth(ifname, dstmac, tags, src, dst, dport, sport, count):
    ethertype, packet = ip_udp(src, dst, dport, sport)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    srcmac = s.getsockname()[4]
    frame = bytes.fromhex(dstmac.replace(":", "")) + srcmac
    for tag in ([] if tags == "-" else tags.split(",")):
        tpid, vid = tag.split(":")
        frame += struct.pack("!HH", int(tpid, 16), int(vid))
    frame += struct.pack("!H", ethertype) + packet
    for _ in range(int(count)):
        s.send(frame)


def main(argv):
    if len(argv) < 3:
        fail("usage: pkt_send.py udp|tcp|icmp|sctp|raw6|eth ...")
    kind, args = argv[1], argv[2:]
    if kind == "udp" and len(args) >= 4:
        udp(args[0], args[1], args[2], args[3], args[4:])
    elif kind == "tcp" and len(args) >= 3:
        tcp(args[0], args[1], args[2], args[3:])
    elif kind == "icmp" and len(args) == 2:
        icmp(args[0], args[1])
    elif kind == "sctp" and len(args) == 2:
        sctp(args[0], args[1])
    elif kind == "eth" and len(args) == 8:
        eth(*args)
    elif kind == "raw6" and len(args) in (4, 5):
        raw6(args[0], args[1], args[2], args[3], args[4] if len(args) == 5 else "")
    else:
        fail("bad arguments for '%s'" % kind)


if __name__ == "__main__":
    main(sys.argv)
