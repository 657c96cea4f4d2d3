#!/usr/bin/env python3
"""The systemd units of ops/systemd (issue 16): `systemd-analyze verify`
accepts each, in a copy whose ExecStart points at the fks just built (verify
checks that the binary exists); fks.service never restarts on failure and
stops with a drain (SIGTERM to the supervisor only).

Usage: test_systemd.py UNIT_DIR (FKS_BIN names the fks executable).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

FKS = os.path.abspath(os.environ.get("FKS_BIN", "build/fks"))


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(what + ("\n" + str(detail) if detail else ""))


def settings(text):
    return dict(re.findall(r"(?m)^(\w+)=(.*)$", text))


def cpus(text):
    """The cores of a CPUAffinity= value: "0-3 5" or "0,2"."""
    out = set()
    for part in re.split(r"[\s,]+", text.strip()):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def main():
    src = sys.argv[1]
    if not shutil.which("systemd-analyze"):
        print("systemd_units: skipped: no systemd-analyze (apt-get install systemd)")
        return 77
    scratch = tempfile.mkdtemp(prefix="fks-units-")
    try:
        for unit in ("fks.service", "fks-metrics.service", "fks-bus.service"):
            with open(os.path.join(src, unit)) as f:
                text = f.read()
            check(text.count("ExecStart=/usr/local/bin/fks ") == 1, "%s: one ExecStart of fks" % unit)
            copy = os.path.join(scratch, unit)
            with open(copy, "w") as f:
                f.write(text.replace("ExecStart=/usr/local/bin/fks ", "ExecStart=%s " % FKS))
            p = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True, timeout=60)
            ours = [l for l in (p.stdout + p.stderr).splitlines() if unit in l]
            check(p.returncode == 0 and not ours, "%s: systemd-analyze verify" % unit, p.stdout + p.stderr)
            print("%s: verified" % unit)
        with open(os.path.join(src, "fks.service")) as f:
            s = settings(f.read())
        check(s.get("Restart") == "no", "fks.service never restarts trading into an unknown state", s)
        check(s.get("KillMode") == "mixed" and s.get("KillSignal") == "SIGTERM",
              "fks.service stops with SIGTERM to the supervisor, which drains", s)
        check(s.get("LimitMEMLOCK") == "infinity" and "CPUAffinity" in s, "memlock and CPU affinity", s)
        check(" run " in s["ExecStart"], "fks.service runs fks run", s)
        # The unpinned supervisor needs a housekeeping core: isolated ones
        # alone would leave it on the first, beside a runner.
        check(0 in cpus(s["CPUAffinity"]) and len(cpus(s["CPUAffinity"])) > 1,
              "fks.service's CPUAffinity holds the housekeeping core 0 and the runners' cores", s["CPUAffinity"])
        with open(os.path.join(src, "fks-metrics.service")) as f:
            m = settings(f.read())
        check(re.search(r" metrics .*--prefix \S+ --listen \S+", m["ExecStart"]), "fks metrics --prefix --listen", m)
        run_cfg = re.search(r" -c (\S+)", s["ExecStart"]).group(1)
        check(" -c %s " % run_cfg in m["ExecStart"],
              "fks metrics reads the config fks run runs (names and scales are the config's)", m["ExecStart"])
        check(m.get("StartLimitIntervalSec") == "0",
              "the exporter keeps retrying until a pipeline runs (no start limit)", m)
        with open(os.path.join(src, "fks-bus.service")) as f:
            b = settings(f.read())
        check(" bus publish " in b["ExecStart"] and " -c %s " % run_cfg in b["ExecStart"],
              "fks-bus.service publishes the journal of the config fks run runs", b["ExecStart"])
        run_journal = re.search(r" --journal (\S+)", s["ExecStart"]).group(1)
        check(" -j %s " % run_journal in b["ExecStart"], "fks-bus.service follows fks.service's journal", b["ExecStart"])
        check(b.get("Restart") == "always", "the bus publisher resumes exactly where the stream ends: always restart", b)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("systemd_units: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
