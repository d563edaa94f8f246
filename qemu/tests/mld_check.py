#!/usr/bin/env python3
"""Checks the MLDv2 reports in a pcap (Ethernet) against RFC 3810 5.2:
hop limit 1, a hop-by-hop header with the router alert option (MLD),
ICMPv6 type 143 to ff02::16 with a valid checksum, and change-to-exclude
(join) records. Prints the groups joined, with the count of reports per
group; exits 1 unless every group named on the command line was joined
by at least two valid reports (the robustness variable), 2 on a bad one.

    mld_check.py capture.pcap ff02::1:ff6a:7636
"""
import ipaddress
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    at = 24
    while at + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[at : at + 16])
        yield data[at + 16 : at + 16 + incl]
        at += 16 + incl


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def check(frame):
    """The groups a valid MLDv2 join report names; raises on a bad report."""
    if frame[12:14] != b"\x86\xdd":
        raise ValueError("not IPv6")
    ip = frame[14:]
    plen, nh, hlim = struct.unpack("!HBB", ip[4:8])
    src, dst = ip[8:24], ip[24:40]
    if hlim != 1:
        raise ValueError("hop limit %d" % hlim)
    if nh != 0 or ip[40:48] != bytes([58, 0, 5, 2, 0, 0, 1, 0]):
        raise ValueError("no hop-by-hop router alert: %s" % ip[40:48].hex())
    if ipaddress.IPv6Address(dst) != ipaddress.IPv6Address("ff02::16"):
        raise ValueError("to %s" % ipaddress.IPv6Address(dst))
    src_addr = ipaddress.IPv6Address(src)
    if not (src_addr.is_unspecified or src_addr.is_link_local):
        raise ValueError("from %s" % src_addr)
    msg = ip[48 : 40 + plen]
    pseudo = src + dst + struct.pack("!I", len(msg)) + b"\0\0\0\x3a"
    if checksum(pseudo + msg) != 0xFFFF:
        raise ValueError("bad checksum")
    if msg[0] != 143:
        raise ValueError("ICMPv6 type %d" % msg[0])
    (count,) = struct.unpack("!H", msg[6:8])
    groups, at = [], 8
    for _ in range(count):
        rtype, aux, nsrc = struct.unpack("!BBH", msg[at : at + 4])
        group = ipaddress.IPv6Address(msg[at + 4 : at + 20])
        if rtype == 4 and nsrc == 0:
            groups.append((str(group), str(src_addr)))
        at += 20 + 16 * nsrc + 4 * aux
    if at != len(msg):
        raise ValueError("records do not fill the message")
    return groups


def main():
    path, wanted = sys.argv[1], sys.argv[2:]
    joins = {}
    for frame in frames(path):
        try:
            for group, src in check(frame):
                joins.setdefault(group, []).append(src)
        except (ValueError, struct.error) as e:
            print("bad MLD report: %s (%s)" % (e, frame.hex()))
            return 2
    print(", ".join("%s x%d from %s" % (g, len(s), "/".join(sorted(set(s)))) for g, s in joins.items()) or "none")
    return 0 if all(len(joins.get(str(ipaddress.IPv6Address(w)), [])) >= 2 for w in wanted) else 1


if __name__ == "__main__":
    sys.exit(main())
