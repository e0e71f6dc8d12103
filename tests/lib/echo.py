#!/usr/bin/env python3
# echo.py - a UDP/TCP echo server and client that say which addresses they saw, for the
# NAT tests: the server tells where a translated packet came from, the client where the
# reply did.
#
#   echo.py serve udp|tcp ADDR PORT    prints "got PAYLOAD from ADDR PORT" per message
#   echo.py send udp|tcp DST PORT SPORT PAYLOAD
#                                      prints "reply PAYLOAD from ADDR PORT", or
#                                      "no reply (REASON)" and exits 1 after 2 s
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(proto, addr, port):
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(family(addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if proto == "udp":
        while True:
            data, peer = s.recvfrom(2048)
            print("got", data.decode().strip(), "from", peer[0], peer[1], flush=True)
            s.sendto(data, peer)
    s.listen(16)
    while True:
        c, peer = s.accept()
        data = c.recv(2048)
        print("got", data.decode().strip(), "from", peer[0], peer[1], flush=True)
        c.sendall(data)
        c.close()


def send(proto, dst, port, sport, payload):
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(family(dst), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", sport))
    s.settimeout(2)
    try:
        if proto == "udp":
            s.sendto(payload.encode(), (dst, port))
            data, peer = s.recvfrom(2048)
        else:
            s.connect((dst, port))
            s.sendall(payload.encode())
            data, peer = s.recv(2048), s.getpeername()
    except OSError as e:
        print("no reply (%s)" % (e.strerror or e))
        return 1
    print("reply", data.decode().strip(), "from", peer[0], peer[1])
    return 0


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "serve":
        serve(a[2], a[3], int(a[4]))
    sys.exit(send(a[2], a[3], int(a[4]), int(a[5]), a[6]))
