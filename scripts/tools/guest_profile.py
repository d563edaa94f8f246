#!/usr/bin/env python3
"""Samples the guest's program counter through QEMU's gdbstub (-gdb
tcp:HOST:PORT): interrupt, read PC, continue, N times; then maps the
addresses to functions with `nm` on the kernel ELF and prints where the
guest spends its time. A poor man's profiler for TCG, where perf cannot see
guest code."""
import argparse
import bisect
import collections
import socket
import subprocess
import time


def packet(body: str) -> bytes:
    return f"${body}#{sum(body.encode()) % 256:02x}".encode()


def read_packet(s: socket.socket) -> str:
    buf = b""
    while True:
        c = s.recv(1)
        if not c:
            raise EOFError
        if c == b"$":
            break
    while True:
        c = s.recv(1)
        if c == b"#":
            s.recv(2)
            s.sendall(b"+")
            return buf.decode()
        buf += c


def command(s, body):
    s.sendall(packet(body))
    while s.recv(1) != b"+":
        pass
    return read_packet(s)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("elf")
    p.add_argument("--port", type=int, default=1234)
    p.add_argument("--samples", type=int, default=400)
    p.add_argument("--interval", type=float, default=0.005)
    a = p.parse_args()
    syms = []
    for line in subprocess.run(["nm", "-C", "-n", a.elf], capture_output=True, text=True).stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    addrs = [x[0] for x in syms]
    s = socket.create_connection(("127.0.0.1", a.port))
    s.sendall(b"+")
    command(s, "?")  # the stub stops the guest when a debugger attaches
    counts = collections.Counter()
    pcs = collections.Counter()
    for _ in range(a.samples):
        s.sendall(packet("c"))
        while s.recv(1) != b"+":
            pass
        time.sleep(a.interval)
        s.sendall(b"\x03")
        read_packet(s)  # stop reply
        pc_hex = command(s, "p20")  # register 32: pc on aarch64
        pc = int.from_bytes(bytes.fromhex(pc_hex), "little")
        i = bisect.bisect_right(addrs, pc) - 1
        counts[syms[i][1] if i >= 0 else hex(pc)] += 1
        pcs[pc] += 1
    s.sendall(packet("D"))
    total = sum(counts.values())
    for name, n in counts.most_common(30):
        print(f"{100 * n / total:5.1f}%  {name[:140]}")
    print("hottest addresses (see them with objdump -d --start-address=...):")
    for pc, n in pcs.most_common(5):
        print(f"{100 * n / total:5.1f}%  {pc:#x}")


if __name__ == "__main__":
    main()
