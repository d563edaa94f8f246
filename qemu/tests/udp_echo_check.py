#!/usr/bin/env python3
"""Sends UDP datagrams of every size in a range to an echo server and checks
each reply byte for byte. With --retries, a lost datagram (or reply) is sent
again, for lossy paths. Prints one summary line; exit status 0 only if every
size was echoed exactly."""
import argparse
import os
import socket
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--min", type=int, default=1)
    p.add_argument("--max", type=int, default=1472)
    p.add_argument("--timeout", type=float, default=0.5)
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--deadline", type=float, default=60.0, help="seconds for the whole run")
    a = p.parse_args()

    # IPv4 or IPv6 (a link-local address takes its zone: fe80::1%tap0).
    family, _, _, _, addr = socket.getaddrinfo(a.host, a.port, type=socket.SOCK_DGRAM)[0]
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    end = time.monotonic() + a.deadline
    echoed, resent, bad = 0, 0, []
    for size in range(a.min, a.max + 1):
        data = os.urandom(size)
        for attempt in range(a.retries + 1):
            if time.monotonic() > end:
                print(f"udp echo: deadline passed at size {size}")
                return 1
            s.sendto(data, addr)
            try:
                while True:
                    reply, src = s.recvfrom(65536)
                    if reply == data:
                        break
                    # A late duplicate of an earlier size: keep waiting.
            except socket.timeout:
                resent += 1
                continue
            echoed += 1
            break
        else:
            bad.append(size)
    print(f"udp echo: {echoed} of {a.max - a.min + 1} sizes echoed exactly "
          f"({resent} resends), missing: {bad[:10]}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
