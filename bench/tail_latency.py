#!/usr/bin/env python3
"""How soon `fks tail -f` shows what a live run journals.

usage: bench/tail_latency.py FKS_BIN JOURNAL_DIR SECONDS [TYPE]

Start `fks run --journal JOURNAL_DIR` first (the tail waits for the journal
to appear).  For every event of TYPE (default fill) that the tail prints,
this takes CLOCK_MONOTONIC when the line arrives minus the event's
recv_time_ns (the same clock, stamped by the feed when the market event that
caused it was received).  That is an upper bound on commit -> display: it
also holds the pipeline's own latency and the group-commit wait.  Events
journaled before the tail started count from their receive time too, so
the maximum includes that start-up backlog; read p50 and p99.
A rare type (fill, a few thousand a second) keeps this reader from being
the bottleneck.
"""
import json
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    fks, journal, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    kind = sys.argv[4] if len(sys.argv) > 4 else "fill"
    tail = subprocess.Popen([fks, "tail", "-f", "-j", journal, "--json", "--type", kind],
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    lat = []
    until = time.monotonic() + seconds
    for line in tail.stdout:
        now = time.monotonic_ns()
        recv = json.loads(line).get("recv_time_ns", 0)
        if recv > 0:
            lat.append((now - recv) / 1e6)
        if time.monotonic() > until:
            break
    tail.terminate()
    if not lat:
        print("no events seen", file=sys.stderr)
        return 1
    lat.sort()
    n = len(lat)
    print(f"{n} {kind} events; feed receive -> tail prints: p50 {lat[n // 2]:.1f} ms, "
          f"p99 {lat[int(n * 0.99)]:.1f} ms, max {lat[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
