#!/usr/bin/env python3
"""`fks status --watch` and `fks status --json` (issue 18).

A watch started before any run, with stdout to a pipe: it says it waits,
then shows the run, says when and how it stopped, waits again and follows
a second run on the same prefix.  Into the pipe it writes no escape codes,
no line over 80 columns, and times in human units (no "39845887 ns").
`fks status --json` during a run prints one JSON object.

Usage: test_status_watch.py (FKS_BIN names the fks executable).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

FKS = os.environ.get("FKS_BIN", "build/fks")
failures = []


def check(ok, what, detail=""):
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        failures.append(what)
        if detail:
            print("     " + detail.replace("\n", "\n     ")[-4000:])


def run_pipeline(prefix, journal, json_probe=None):
    """One short run; json_probe(prefix) is called while it runs."""
    run = subprocess.Popen([FKS, "run", "--duration=2", "--prefix=" + prefix, "--journal=" + journal],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    probe = None
    if json_probe:
        deadline = time.monotonic() + 10
        while probe is None and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            probe = json_probe(prefix)
    run.communicate(timeout=120)
    return probe


def status_json(prefix):
    p = subprocess.run([FKS, "status", "--json", "--prefix=" + prefix, "--interval=0.2"], capture_output=True,
                       text=True, timeout=30)
    return p if p.returncode == 0 else None


def main():
    prefix = "fks-watch-%d" % os.getpid()
    with tempfile.TemporaryDirectory(prefix="fks-watch-") as tmp:
        out_path = os.path.join(tmp, "watch.out")
        with open(out_path, "w") as out:
            watch = subprocess.Popen([FKS, "status", "--watch", "--prefix=" + prefix, "--interval=0.3"],
                                     stdout=out, stderr=subprocess.PIPE, text=True)
            try:
                time.sleep(0.5)
                probe = run_pipeline(prefix, os.path.join(tmp, "j1"), status_json)
                time.sleep(1.0)  # the watch sees the end
                run_pipeline(prefix, os.path.join(tmp, "j2"))
                time.sleep(1.0)
            finally:
                watch.send_signal(signal.SIGINT)
                _, err = watch.communicate(timeout=30)
        text = open(out_path).read()
    lines = text.splitlines()
    check(watch.returncode == 0, "the watch ends with exit 0 on SIGINT", err)
    check(bool(lines) and lines[0].startswith("waiting for a run with prefix '%s'" % prefix),
          "started before the run, it says it waits", text[:400])
    shown = [i for i, l in enumerate(lines) if l.startswith("pipeline '%s'" % prefix)]
    ends = [i for i, l in enumerate(lines) if l.startswith("run '%s'" % prefix) and " stopped at " in l]
    check(len(ends) == 2, "it reports the end of each of the two runs", text[-3000:])
    check(bool(shown) and bool(ends) and shown[0] < ends[0] and any(i > ends[0] for i in shown),
          "it shows the first run, then follows the second on the same prefix", text[-3000:])
    pids = {re.search(r"supervisor pid (\d+)", lines[i]).group(1) for i in shown}
    check(len(pids) == 2, "two runs, two supervisors shown", str(pids))
    hows = [lines[i + 1] for i in ends if i + 1 < len(lines)]
    check(len(hows) == 2 and all(re.match(r"how: (clean stop|killed stage|kill switch|stage \w+ failed)", h)
                                 for h in hows), "it says how each run stopped", "\n".join(hows))
    check(any(l.startswith("waiting for the next run") for l in lines), "after a run it waits for the next")
    check("\x1b" not in text, "no escape codes into a pipe")
    long_lines = [l for l in lines if len(l) > 80]
    check(not long_lines, "every line fits 80 columns", "\n".join(long_lines[:5]))
    check(not re.search(r"\d{4,} ns", text), "no raw nanosecond counts", text[:2000])
    check(bool(re.search(r"tick-to-trade: p50 [\d.]+ (ns|us|ms|s)", text)), "times in human units", text[:2000])
    check(bool(re.search(r"\n\npipeline '", text)), "snapshots separated by a blank line")
    check(probe is not None, "fks status --json during the run")
    if probe is not None:
        obj = json.loads(probe.stdout)
        check(obj["prefix"] == prefix and [s["stage"] for s in obj["stages"]][0] == "feed"
              and isinstance(obj["orders"], int) and probe.stdout.count("\n") == 1,
              "fks status --json prints one object", probe.stdout[:600])
    p = subprocess.run([FKS, "status", "--json", "--watch"], capture_output=True, text=True)
    check(p.returncode == 2 and p.stderr.startswith("fks status: "), "--json with --watch is a usage error",
          p.stderr)
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
