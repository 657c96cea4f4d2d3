#!/usr/bin/env python3
"""Corrupted journals against every reader (issue 12, item 5).

Makes a real journal with `fks run`, derives seeded corrupted copies of its
data.mdb (zeroed meta and data pages, truncations, flipped bytes in page
headers, records and meta fields) and runs every reader over each copy:
`fks journal verify|stats|export`, `fks tail` and `fks replay`.  Each must
exit 0 or 1 with a timeout: never a signal, never a hang.  `verify` must
exit 1, naming a key or a page, on every copy whose structure as read
differs from the original's: the keys, and each record's source stage,
stage sequence number and instrument, which are what verify can check.  A
flipped byte inside an event's other fields (a price) changes the export
without changing that shape; journal format 1 has no per-record checksum,
so verify cannot see it: such copies are counted and printed, not failed.
A reader that exits 1 must say
why on stderr.  Last, `fks run` over a truncated journal must not crash:
it refuses with a message naming the path, or moves the damaged journal
aside and starts.

Usage: test_journal_corrupt.py (FKS_BIN names the fks executable; the
seed is FKS_CORRUPT_SEED, default 12).  Exit 0: every check held.
"""
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

TIMEOUT_S = 30
META_OFF = 16          # LMDB's page header before the meta fields
READERS = [
    ("verify", ["journal", "verify", "{d}"]),
    ("stats", ["journal", "stats", "{d}"]),
    ("tail", ["tail", "-j", "{d}"]),
    ("export", ["journal", "export", "{d}", "--format", "jsonl"]),
    ("replay", ["replay", "--input", "{d}"]),
]
NAMES_KEY_OR_PAGE = re.compile(r"\b(key|seq|page)s? \d+")
SHAPE = re.compile(rb'^\{"seq":(\d+),"type":"[^"]*","source":"([^"]*)","src_seq":(\d+),"flags":\d+,"instrument":(\d+)')


def shape(export):
    """What verify checks of each exported record, in order."""
    return [m.groups() if m else None for m in map(SHAPE.match, export.splitlines())]


def run(fks, args, **kw):
    """(returncode or 'timeout', stdout, stderr); a signal is a negative code."""
    try:
        p = subprocess.run([fks] + args, capture_output=True, timeout=kw.get("timeout", TIMEOUT_S))
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", b"", ""


def page_size(data):
    # The free DB's md_pad in meta page 0 holds the page size.
    return struct.unpack_from("<I", data, META_OFF + 24)[0]


def corruptions(data, rng):
    """(name, bytes) for every corrupted copy; seeded, so reproducible."""
    ps = page_size(data)
    npages = len(data) // ps
    out = []

    def zero_page(p):
        b = bytearray(data)
        b[p * ps:(p + 1) * ps] = bytes(ps)
        return bytes(b)

    def flip(off):
        b = bytearray(data)
        b[off] ^= rng.randrange(1, 256)
        return bytes(b)

    out.append(("zero meta page 0", zero_page(0)))
    out.append(("zero meta page 1", zero_page(1)))
    out.append(("zero both meta pages", bytes(2 * ps) + data[2 * ps:]))
    for p in sorted(rng.sample(range(2, npages), 8)):
        out.append((f"zero data page {p}", zero_page(p)))
    for n in [0, 100, ps - 1, ps, ps + 100, 2 * ps - 1, 2 * ps, 3 * ps,
              (npages // 2) * ps, (npages // 2) * ps + 123, len(data) - ps, len(data) - 1]:
        out.append((f"truncate to {n} bytes", data[:n]))
    for _ in range(10):
        p, off = rng.randrange(2, npages), rng.randrange(0, 16)
        out.append((f"flip page {p} header byte {off}", flip(p * ps + off)))
    for _ in range(12):
        p, off = rng.randrange(2, npages), rng.randrange(16, ps)
        out.append((f"flip page {p} byte {off}", flip(p * ps + off)))
    for _ in range(8):
        p, off = rng.randrange(0, 2), rng.randrange(META_OFF, META_OFF + 136)
        out.append((f"flip meta page {p} byte {off}", flip(p * ps + off)))
    return out


def make_journal(fks, work):
    src = os.path.join(work, "orig")
    rc, _, err = run(fks, ["run", "--events", "20000", "--journal", src,
                           "--prefix", f"fkscorrupt{os.getpid()}"], timeout=300)
    if rc != 0:
        sys.exit(f"FAIL: fks run made no journal (exit {rc}): {err}")
    return src


def check_readers(fks, work, name, data, orig_export, tally):
    d = os.path.join(work, "c")
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d)
    with open(os.path.join(d, "data.mdb"), "wb") as f:
        f.write(data)
    failures = []
    results = {}
    for reader, args in READERS:
        rc, out, err = run(fks, [a.format(d=d) for a in args])
        results[reader] = (rc, out, err)
        tally["runs"] += 1
        if rc == "timeout" or rc < 0:
            tally["crashes" if rc != "timeout" else "hangs"] += 1
            failures.append(f"{reader}: {'hung' if rc == 'timeout' else f'killed by signal {-rc}'}")
        elif rc not in (0, 1):
            failures.append(f"{reader}: exit {rc}")
        elif rc == 1 and not err.strip() and reader != "verify":
            failures.append(f"{reader}: exit 1 with nothing on stderr")
    vrc, vout, verr = results["verify"]
    erc, eout, _ = results["export"]
    if vrc == 0 and (erc != 0 or shape(eout) != shape(orig_export)):
        failures.append("verify: exit 0, but the journal's structure as read differs from the original's")
    elif vrc == 0 and eout != orig_export:
        tally["values_only"] += 1
        print(f"note: {name}: an event's field values changed, which format 1 cannot detect (no checksum)")
    if vrc == 1 and not NAMES_KEY_OR_PAGE.search(vout.decode(errors="replace") + verr):
        failures.append(f"verify: exit 1 without naming a key or page: {vout!r} {verr!r}")
    return [f"{name}: {f}" for f in failures]


def check_run_over_truncated(fks, work, src, ps):
    failures = []
    for n in [100, 2 * ps - 1, os.path.getsize(os.path.join(src, "data.mdb")) // 2]:
        d = os.path.join(work, f"run{n}")
        shutil.copytree(src, d)
        os.truncate(os.path.join(d, "data.mdb"), n)
        rc, _, err = run(fks, ["run", "--events", "2000", "--journal", d,
                               "--prefix", f"fkscorrupt{os.getpid()}r"], timeout=120)
        what = f"fks run over a journal truncated to {n} bytes"
        if rc == "timeout" or rc < 0:
            failures.append(f"{what}: {'hung' if rc == 'timeout' else f'killed by signal {-rc}'}")
        elif rc == 0:
            moved = [e for e in os.listdir(work) if e.startswith(f"run{n}.")]
            vrc, _, _ = run(fks, ["journal", "verify", d])
            if not moved or vrc != 0 or d not in err:
                failures.append(f"{what}: exit 0, but the damaged journal was not moved aside and said so ({err!r})")
        elif d not in err:
            failures.append(f"{what}: exit {rc} without naming the journal: {err!r}")
    return failures


def main():
    fks = os.environ.get("FKS_BIN")
    if not fks:
        sys.exit("FAIL: FKS_BIN must name the fks executable")
    seed = int(os.environ.get("FKS_CORRUPT_SEED", "12"))
    work = tempfile.mkdtemp(prefix="fks-corrupt-")
    try:
        src = make_journal(fks, work)
        with open(os.path.join(src, "data.mdb"), "rb") as f:
            data = f.read()
        rc, orig_export, err = run(fks, ["journal", "export", src, "--format", "jsonl"])
        if rc != 0:
            sys.exit(f"FAIL: the original journal does not export: {err}")
        tally = {"runs": 0, "crashes": 0, "hangs": 0, "values_only": 0}
        copies = corruptions(data, random.Random(seed))
        failures = []
        for name, bad in copies:
            failures += check_readers(fks, work, name, bad, orig_export, tally)
        failures += check_run_over_truncated(fks, work, src, page_size(data))
        print(f"seed {seed}: {len(copies)} corrupted copies x {len(READERS)} readers = {tally['runs']} runs: "
              f"{tally['crashes']} crashed, {tally['hangs']} hung, {len(failures)} failures; "
              f"{tally['values_only']} copies changed only field values (undetectable without a checksum)")
        for f in failures:
            print("FAIL:", f)
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
