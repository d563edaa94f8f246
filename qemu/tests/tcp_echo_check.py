#!/usr/bin/env python3
"""TCP echo integrity check: K clients at once each send N bytes of seeded
random data to an echo server while reading the echo back, compare every
byte, half-close, and wait for the server to close. Prints one summary line
(with the aggregate rate); exit status 0 only if every client got every
byte back exactly and saw a clean close."""
import argparse
import random
import socket
import sys
import threading
import time


def client(i, a, results):
    rng = random.Random(a.seed * 1000 + i)
    # In 1 MiB pieces: randbytes of more than 256 MiB at once overflows.
    data = b"".join(rng.randbytes(min(1 << 20, a.bytes - off)) for off in range(0, a.bytes, 1 << 20))
    try:
        s = socket.create_connection((a.host, a.port), timeout=a.deadline)
    except OSError as e:
        results[i] = f"connect: {e}"
        return
    s.settimeout(a.deadline)
    errors = []

    def sender():
        try:
            view = memoryview(data)
            for off in range(0, len(data), 65536):
                s.sendall(view[off:off + 65536])
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append(f"send: {e}")

    t = threading.Thread(target=sender)
    t.start()
    got = 0
    try:
        while True:
            chunk = s.recv(262144)
            if not chunk:
                break
            if chunk != data[got:got + len(chunk)]:
                errors.append(f"byte mismatch near offset {got}")
                break
            got += len(chunk)
    except OSError as e:
        errors.append(f"recv after {got} bytes: {e}")
    t.join()
    s.close()
    if got != len(data) and not errors:
        errors.append(f"closed after {got} of {len(data)} bytes")
    results[i] = "; ".join(errors) if errors else None


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--deadline", type=float, default=60.0)
    a = p.parse_args()
    results = [f"did not finish in {a.deadline} s"] * a.clients
    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(i, a, results), daemon=True) for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, start + a.deadline - time.monotonic()))
    elapsed = time.monotonic() - start
    bad = [(i, r) for i, r in enumerate(results) if r]
    total = a.bytes * a.clients
    rate = total / elapsed / 1e6 if elapsed > 0 else 0.0
    print(f"tcp echo: {a.clients - len(bad)} of {a.clients} clients x {a.bytes} bytes intact, "
          f"{elapsed:.2f} s, {rate:.1f} MB/s each way" + (f"; failures: {bad[:3]}" if bad else ""))
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
