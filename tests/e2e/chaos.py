#!/usr/bin/env python3
"""Chaos test of a live pipeline (issue 12, "What it must show").

Over N seeded runs of `fks run` (the synthetic feed at a moderate rate, a
short heartbeat timeout, a unique --prefix and --journal in a temp dir), it
picks a victim (a stage: feed, strategy, risk, gateway, journal; or the
runner, `fks run` itself), an action (SIGKILL, or SIGSTOP held past the
heartbeat timeout, then SIGCONT) and a moment, does it, and checks:

  exit           the supervisor exits within a bound: 1 when a live stage
                 was killed or stalled, 0 when the stage had already ended
                 or the runner was only stopped, killed-by-9 for a SIGKILLed
                 runner;
  kill_names_victim
                 a kill switch that tripped names the victim: no other
                 stage was declared dead or stalled (a false stall);
  stages_gone    no stage process outlives the supervisor;
  no_order_after_kill
                 when the kill switch tripped: the gateway sent no order
                 after it saw the switch (`orders` equals `orders_at_kill`
                 in the JSON summary) and the journal holds no more order
                 acks than that;
  journal_verifies
                 `fks journal verify` passes, whoever was killed: a journal
                 cut short by a crash is valid up to its last committed
                 batch (docs/operations.md, "Sync modes");
  not_journaled_exact
                 per stage: `tapped` minus the events of that source stage
                 in the journal equals `not_journaled` (the summary's
                 counters against `fks journal stats`);
  shm_clean      nothing with the run's prefix is left in /dev/shm (after a
                 SIGKILLed runner, whose segments stay by design: after the
                 next run);
  next_run       the next run with the same prefix and journal path starts,
                 completes a short run and exits 0.

An invariant that cannot apply (no summary from a killed runner; the
gateway itself killed) is "n/a", never a pass.  Each run prints one line
with its seed and every failed invariant; the end prints a tally by victim
and action and the failures by invariant.  A failure is reproduced with
`--seed S --only I` (both printed on its line).

Victim and action cycle through every pair in a seeded order (each block of
12 runs holds each pair once); the moment and the hold are seeded per run.

Failures that are defects still open on main are listed in KNOWN_OPEN with
their issue item: printed and counted like the others, and failing the run
unless --allow-known (which the suite's registration passes, so that main
stays green until the fix lands; the fix deletes its line).

Usage: chaos.py [--runs N] [--seed S] [--only I] [--heartbeat-ms MS]
                [--rate EV_PER_S] [--fks PATH] [--allow-known] [-v]
FKS_BIN names the fks executable when --fks is not given.  Exit 0: every
invariant held in every run; 1: some failed; 2: usage or set-up error.
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import fks_layout

VICTIMS = ["feed", "strategy", "risk", "gateway", "journal", "runner"]
STAGES = ["feed", "strategy", "risk", "gateway", "journal"]
TAPPING = ["feed", "strategy", "risk", "gateway"]  # stages with a journal tap
ACTIONS = ["SIGKILL", "SIGSTOP"]
INVARIANTS = ["exit", "kill_names_victim", "stages_gone", "no_order_after_kill", "journal_verifies",
              "not_journaled_exact", "shm_clean", "next_run"]
RUN_SECONDS = 3.0          # --duration of a chaos run
NEXT_RUN_SECONDS = 0.5     # --duration of the run after it
START_BOUND_S = 15         # the five stages must be up within this
DRAIN_BOUND_S = 10 + 10    # the supervisor's drain timeout plus slack
TOOL_TIMEOUT_S = 60
NA = "n/a"

# Failures that are defects still open on main, each with its issue item.
# They are checked and printed like any other failure; only --allow-known
# (the suite's registration, so that main stays green until the fix lands)
# keeps them out of the exit status.  The fix removes its line here.
KNOWN_OPEN = {
    # (victim, action, invariant): "issue and item".  Empty: every defect the
    # chaos test found (issue 12 items 4 and 8) is fixed.
}


def fail(msg):
    return "FAIL: " + msg


# ---- the config ----------------------------------------------------------

def chaos_config(fks, heartbeat_ms, rate):
    """The embedded default with a short heartbeat timeout and the feed at
    `rate` events per second."""
    text = subprocess.run([fks, "config", "default"], capture_output=True, text=True, check=True).stdout
    text, n_hb = re.subn(r"(?m)^(\s*heartbeat_timeout_ms:)\s*\d+", rf"\g<1> {heartbeat_ms}", text)
    text, n_rate = re.subn(r"(?m)^(\s*rate:)\s*\d+", rf"\g<1> {rate}", text)
    # One runner per stage (the dedicated layout), so that every stage is a
    # process of its own to kill or stop: the default's shared hot-path
    # runner would make feed, strategy, risk and gateway one victim.
    text, n_layout = fks_layout.dedicated(text)
    if n_hb != 1 or n_rate != 1 or n_layout != 1:
        raise SystemExit("chaos: the default config changed shape: cannot set heartbeat_timeout_ms, feed.rate "
                         "and the dedicated layout")
    return text


# ---- processes -----------------------------------------------------------

def stage_children(sup_pid):
    """{stage: pid} of the supervisor's children titled fks:<stage>."""
    found = {}
    try:
        tasks = os.listdir(f"/proc/{sup_pid}/task")
    except FileNotFoundError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{sup_pid}/task/{tid}/children") as f:
                pids = f.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    title = f.read().split(b"\0")[0].decode(errors="replace").strip()
            except OSError:
                continue
            if title.startswith("fks:") and title[4:] in STAGES:
                found[title[4:]] = int(pid)
    return found


def wait_for_stages(sup, prefix):
    """{stage: pidfd} once all five stages run, or None if they never do."""
    until = time.monotonic() + START_BOUND_S
    while time.monotonic() < until and sup.poll() is None:
        kids = stage_children(sup.pid)
        if len(kids) == len(STAGES) and os.path.exists(f"/dev/shm/{prefix}.run"):
            fds = {}
            for stage, pid in kids.items():
                try:
                    fds[stage] = os.pidfd_open(pid)
                except ProcessLookupError:
                    break
            else:
                return fds
            for fd in fds.values():
                os.close(fd)
        time.sleep(0.01)
    return None


def pid_alive_not_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


def pidfd_signal(fd, sig):
    """True if delivered; False if the process is gone (pidfds never reach
    a recycled pid)."""
    try:
        signal.pidfd_send_signal(fd, sig)
        return True
    except ProcessLookupError:
        return False


def pidfd_gone(fd, bound_s):
    until = time.monotonic() + bound_s
    while time.monotonic() < until:
        if not pidfd_signal(fd, 0):
            return True
        time.sleep(0.02)
    return False


# ---- tools ---------------------------------------------------------------

def shm_left(prefix):
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith(prefix + "."))


def journal_counts(fks, journal):
    """({source stage: events}, {type: events}) from `fks journal stats`."""
    p = subprocess.run([fks, "journal", "stats", journal], capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    if p.returncode != 0:
        return None, (p.stderr.strip() or f"exit {p.returncode}")
    by = {"by type:": {}, "by stage:": {}}
    section = None
    for line in p.stdout.splitlines():
        if line in by:
            section = by[line]
            continue
        m = re.match(r"^  (\S+)\s+(\d+)$", line)
        if section is not None and m:
            section[m.group(1)] = int(m.group(2))
        elif not line.startswith("  "):
            section = None
    return by["by stage:"], by["by type:"]


# ---- one run -------------------------------------------------------------

CASES = [(v, a) for v in VICTIMS for a in ACTIONS]


def case_of(seed, index):
    """(victim, action) of run `index`: each block of len(CASES) runs is a
    seeded permutation of every case, so a short series covers them all."""
    block = random.Random(f"{seed}:block{index // len(CASES)}").sample(CASES, len(CASES))
    return block[index % len(CASES)]


class Run:
    def __init__(self, index, seed, heartbeat_ms):
        rng = random.Random(f"{seed}:{index}")
        self.index, self.seed = index, seed
        self.victim, self.action = case_of(seed, index)
        self.moment_s = rng.uniform(0.2, RUN_SECONDS - 1.0)
        # Held long enough that the supervisor must see the stall.
        self.hold_s = rng.uniform(2.0, 4.0) * heartbeat_ms / 1000.0
        self.results = {}
        self.delivered = False
        self.notes = []

    def failed(self, known):
        """Invariants that failed: the known-open ones if known, else the rest."""
        return [k for k in INVARIANTS if self.results.get(k, NA).startswith("FAIL")
                and ((self.victim, self.action, k) in KNOWN_OPEN) == known]


def perform(run, sup, fds):
    """Do the run's action; sets run.delivered."""
    if run.victim == "runner":
        run.delivered = sup.poll() is None
        if run.delivered:
            os.kill(sup.pid, getattr(signal, run.action))
            if run.action == "SIGSTOP":
                time.sleep(run.hold_s)
                os.kill(sup.pid, signal.SIGCONT)
        return
    fd = fds[run.victim]
    pid = stage_children(sup.pid).get(run.victim)
    run.delivered = pid is not None and pid_alive_not_zombie(pid) and pidfd_signal(fd, getattr(signal, run.action))
    if run.delivered and run.action == "SIGSTOP":
        time.sleep(run.hold_s)
        pidfd_signal(fd, signal.SIGCONT)  # the supervisor has usually killed it by now


def kill_cause(stderr):
    """The stage a KILL SWITCH line of the supervisor names, or None."""
    m = re.search(r"KILL SWITCH: stage (\w+)", stderr)
    return m.group(1) if m else None


def check_kill_names_victim(run, cause):
    if cause is None or cause == run.victim:
        return "ok"
    return fail(f"the kill switch names stage {cause}, not the victim {run.victim}")


def check_exit(run, rc, cause):
    if rc == "hang":
        return fail("the supervisor did not exit within its bound (killed it)")
    if run.victim == "runner":
        want = -signal.SIGKILL if run.action == "SIGKILL" else 0
    else:
        # Not delivered: the stage had ended; 1 only if something else tripped the switch.
        want = 1 if run.delivered or cause else 0
    if rc != want:
        how = "delivered to a live process" if run.delivered else "not delivered: the victim had ended"
        return fail(f"exit {rc}, expected {want} ({run.action} {how})")
    return "ok"


def check_no_order_after_kill(run, summary, by_type, cause):
    if summary is None:
        return NA
    if not summary.get("kill"):
        return NA
    if run.victim == "gateway" or cause == "gateway":
        return NA  # it died or was stalled before it could see the switch
    gw = summary["stages"]["gateway"]
    sent, at_kill = gw["orders"], gw["orders_at_kill"]
    if sent != at_kill:
        return fail(f"gateway sent {sent} orders, {at_kill} when it saw the kill switch: {sent - at_kill} after")
    if by_type is not None and by_type.get("order_ack", 0) > at_kill:
        return fail(f"the journal holds {by_type['order_ack']} order acks, more than the {at_kill} orders sent before the kill switch")
    return "ok"


def check_not_journaled(summary, by_stage, stats_err):
    if summary is None:
        return NA
    if by_stage is None:
        return fail(f"journal stats: {stats_err}")
    bad = []
    for s in TAPPING:
        c = summary["stages"][s]
        missing = c["tapped"] - by_stage.get(s, 0)
        if missing != c["not_journaled"]:
            bad.append(f"{s}: tapped {c['tapped']} - journaled {by_stage.get(s, 0)} = {missing}, "
                       f"not_journaled {c['not_journaled']}")
    return fail("; ".join(bad)) if bad else "ok"


def start(fks, cfg, prefix, journal, seconds):
    return subprocess.Popen([fks, "run", "-c", cfg, "--duration", str(seconds), "--prefix", prefix,
                             "--journal", journal, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, bound_s):
    """(returncode or 'hang', stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=bound_s)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        out, err = proc.communicate()
        return "hang", out, err


def one_run(fks, cfg, tmp, run, verbose):
    prefix = f"chaos{os.getpid()}-{run.index}"
    journal = os.path.join(tmp, f"journal-{run.index}")
    r = run.results
    sup = start(fks, cfg, prefix, journal, RUN_SECONDS)
    fds = wait_for_stages(sup, prefix)
    if fds is None:
        rc, _, err = finish(sup, DRAIN_BOUND_S)
        r["exit"] = fail(f"the five stages never came up (exit {rc}): {err.strip()[-300:]}")
        for inv in INVARIANTS[1:]:
            r[inv] = NA
        return cleanup(prefix)
    try:
        time.sleep(run.moment_s)
        perform(run, sup, fds)
        rc, out, err = finish(sup, RUN_SECONDS + run.hold_s + DRAIN_BOUND_S)
        run.notes += why_lines(err)[:2]
        cause = kill_cause(err)
        r["exit"] = check_exit(run, rc, cause)
        r["kill_names_victim"] = check_kill_names_victim(run, cause)
        gone = all(pidfd_gone(fd, 5) for fd in fds.values())
        r["stages_gone"] = "ok" if gone else fail("a stage outlived the supervisor")
    finally:
        for fd in fds.values():
            os.close(fd)
    summary = None
    if rc in (0, 1):
        try:
            summary = json.loads(out)
        except ValueError:
            r["exit"] = fail(f"exit {rc} without a JSON summary: {out[:200]!r}")
    by_stage, by_type = journal_counts(fks, journal)
    stats_err = by_type if by_stage is None else None
    if by_stage is None:
        by_type = None
    v = subprocess.run([fks, "journal", "verify", journal], capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    r["journal_verifies"] = "ok" if v.returncode == 0 else fail(
        f"verify exit {v.returncode}: {(v.stdout + v.stderr).strip()[:300]}")
    r["no_order_after_kill"] = check_no_order_after_kill(run, summary, by_type, cause)
    r["not_journaled_exact"] = check_not_journaled(summary, by_stage, stats_err)
    crashed_runner = run.victim == "runner" and run.action == "SIGKILL"
    left = shm_left(prefix)
    if not crashed_runner:
        r["shm_clean"] = "ok" if not left else fail(f"left in /dev/shm: {' '.join(left)}")
    nxt = start(fks, cfg, prefix, journal, NEXT_RUN_SECONDS)
    nrc, _, nerr = finish(nxt, NEXT_RUN_SECONDS + DRAIN_BOUND_S)
    r["next_run"] = "ok" if nrc == 0 else fail(f"exit {nrc}: " + " / ".join(why_lines(nerr)))
    left = shm_left(prefix)
    if crashed_runner:
        r["shm_clean"] = "ok" if not left else fail(f"left in /dev/shm after the next run: {' '.join(left)}")
    elif left and r["shm_clean"] == "ok":
        r["next_run"] = fail(f"the next run left in /dev/shm: {' '.join(left)}")
    if verbose:
        sys.stderr.write(err)
    return cleanup(prefix)


def why_lines(stderr):
    """The lines of a run's stderr that say why it stopped, not its banner."""
    lines = [ln for ln in stderr.splitlines() if not ln.startswith("fks run: (") and "cores:" not in ln]
    return lines[:4]


def cleanup(prefix):
    """Remove what a failed run left, so runs do not pile up in RAM."""
    for name in shm_left(prefix):
        try:
            os.unlink(os.path.join("/dev/shm", name))
        except OSError:
            pass


# ---- the tally -----------------------------------------------------------

def line_for(run):
    failed = run.failed(False) + run.failed(True)
    head = (f"run {run.index:3d} seed {run.seed} --only {run.index}: {run.victim:8s} {run.action:7s} "
            f"at {run.moment_s:.2f}s" + (f" held {run.hold_s:.2f}s" if run.action == "SIGSTOP" else "")
            + ("" if run.delivered or run.victim == "runner" else " (victim had ended)"))
    if not failed:
        return head + ": ok"
    lines = [head + ": FAILED " + ", ".join(failed)]
    for k in failed:
        known = KNOWN_OPEN.get((run.victim, run.action, k))
        lines.append(f"      {k}: {run.results[k]}" + (f"\n        (known open: {known})" if known else ""))
    lines += [f"      stderr: {n}" for n in run.notes]
    return "\n".join(lines)


def tally(runs):
    by_case = collections.Counter((r.victim, r.action) for r in runs)
    bad_case = collections.Counter((r.victim, r.action) for r in runs if r.failed(False) or r.failed(True))
    print(f"\n{len(runs)} runs")
    print("victim    action   runs  failed")
    for v in VICTIMS:
        for a in ACTIONS:
            if by_case[(v, a)]:
                print(f"{v:9s} {a:7s} {by_case[(v, a)]:5d} {bad_case[(v, a)]:7d}")
    print("invariant               ok  failed  (known open)  n/a")
    for inv in INVARIANTS:
        vals = [r.results.get(inv, NA) for r in runs]
        known = sum(inv in r.failed(True) for r in runs)
        print(f"{inv:22s} {vals.count('ok'):3d} {sum(v.startswith('FAIL') for v in vals):7d} {known:13d} "
              f"{vals.count(NA):4d}")
        which = [f"{r.index}({r.victim} {r.action})" for r in runs if r.results.get(inv, NA).startswith("FAIL")]
        if which:
            print(f"    failed in runs: {' '.join(which)}")
    for (v, a, inv), why in KNOWN_OPEN.items():
        ran = [r for r in runs if (r.victim, r.action) == (v, a)]
        if ran and not any(inv in r.failed(True) for r in ran):
            print(f"known open {v} {a} {inv} held in all {len(ran)} runs: fixed? ({why})")
    return sum(len(r.failed(False)) for r in runs), sum(len(r.failed(True)) for r in runs)


def main():
    ap = argparse.ArgumentParser(description="Chaos test: kill or stop a stage of a live pipeline, check the invariants.")
    ap.add_argument("--runs", type=int, default=30, help="number of runs (default 30)")
    ap.add_argument("--seed", type=int, default=12, help="seed of the whole series (default 12)")
    ap.add_argument("--only", type=int, help="run only this run index of the series (to reproduce one)")
    ap.add_argument("--heartbeat-ms", type=int, default=500, help="supervisor.heartbeat_timeout_ms (default 500)")
    ap.add_argument("--rate", type=int, default=20000, help="synthetic feed events per second (default 20000)")
    ap.add_argument("--fks", default=os.environ.get("FKS_BIN"), help="the fks executable (default $FKS_BIN)")
    ap.add_argument("--allow-known", action="store_true",
                    help="exit 0 when the only failures are the known open defects (KNOWN_OPEN)")
    ap.add_argument("-v", "--verbose", action="store_true", help="copy each run's stderr")
    a = ap.parse_args()
    if not a.fks or a.runs < 1 or a.heartbeat_ms < 100 or a.rate < 1:
        ap.error("need --fks or FKS_BIN, --runs >= 1, --heartbeat-ms >= 100, --rate >= 1")
    tmp = tempfile.mkdtemp(prefix="fks-chaos-")
    try:
        cfg = os.path.join(tmp, "chaos.yaml")
        with open(cfg, "w") as f:
            f.write(chaos_config(a.fks, a.heartbeat_ms, a.rate))
        print(f"chaos: seed {a.seed}, {a.runs} runs of {RUN_SECONDS}s, heartbeat timeout {a.heartbeat_ms} ms, "
              f"feed {a.rate}/s", flush=True)
        runs = []
        for i in range(a.runs):
            if a.only is not None and i != a.only:
                continue
            run = Run(i, a.seed, a.heartbeat_ms)
            one_run(a.fks, cfg, tmp, run, a.verbose)
            runs.append(run)
            print(line_for(run), flush=True)
        n_fail, n_known = tally(runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if n_known and a.allow_known:
        print(f"{n_known} failures of known open defects, allowed by --allow-known")
    return 1 if n_fail or (n_known and not a.allow_known) else 0


if __name__ == "__main__":
    sys.exit(main())
