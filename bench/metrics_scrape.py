#!/usr/bin/env python3
"""The exporter's cost on the hot path: tick-to-trade of `fks run` with no
exporter ("off") and with the supervisor's exporter scraped every 100 ms
("scraped"), alternating the two modes round after round so both see the
same machine.  Each run is the embedded default config (or -c FILE) over a
fixed number of feed events; its tick-to-trade comes from the run's own
JSON summary (the gateway's histogram).

  bench/metrics_scrape.py [--fks build/fks] [--rounds 5] [--events 400000]
                          [--interval 0.1] [-c FILE] [--json]

Prints per mode the median over the rounds of p50, p99 and p99.9 (ns) and
of the run's events per second, and the scraped/off ratio of each median.
Absolute times on a shared machine are noise: read the ratios.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def configs(fks, base, scratch):
    """The two modes' configs: the same text, the second with the exporter.
    A heartbeat timeout of a minute: on a loaded machine a starved journal
    must not be killed as stalled in the middle of a round."""
    text = open(base).read() if base else subprocess.run([fks, "config", "default"], capture_output=True,
                                                           text=True, check=True).stdout
    text = text.replace("  heartbeat_timeout_ms: 1000\n", "  heartbeat_timeout_ms: 60000\n")
    paths = []
    for name, extra in (("off", ""), ("scraped", '\nmetrics:\n  listen: "127.0.0.1:0"\n')):
        paths.append(os.path.join(scratch, name + ".yaml"))
        with open(paths[-1], "w") as f:
            f.write(text + extra)
    return paths


def scrape_until(err_path, proc, interval, counts):
    """GET /metrics every interval seconds while proc runs."""
    url = None
    while proc.poll() is None and not url:
        with open(err_path) as f:
            m = re.search(r"metrics on (http://[0-9.:]+/metrics)", f.read())
        url = m.group(1) if m else None
        time.sleep(0.01)
    next_at = time.monotonic()
    while url and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
            counts[0] += 1
        except OSError:
            pass  # the run is ending
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


def one_run(args, mode, cfg, scratch, n):
    err_path = os.path.join(scratch, "err%d" % n)
    argv = [args.fks, "run", "-c", cfg, "--events", str(args.events), "--prefix", "fksbm%d" % os.getpid(),
            "--journal", os.path.join(scratch, "j"), "--json"]
    counts = [0]
    with open(err_path, "w") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        scraper = None
        if mode == "scraped":
            scraper = threading.Thread(target=scrape_until, args=(err_path, p, args.interval, counts))
            scraper.start()
        out, _ = p.communicate()
        secs = time.monotonic() - t0
        if scraper:
            scraper.join()
    if p.returncode != 0:
        sys.exit("fks run (%s) failed: %s" % (mode, open(err_path).read()))
    s = json.loads(out.strip().splitlines()[-1])
    t = s["tick_to_trade_ns"]
    return {"p50": t["p50"], "p99": t["p99"], "p999": t["p999"], "orders": t["count"],
            "events_per_s": args.events / s["seconds"], "scrapes": counts[0], "wall_s": secs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fks", default="build/fks")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--events", type=int, default=400000)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between scrapes")
    ap.add_argument("-c", "--config", help="pipeline config (default: the embedded one)")
    ap.add_argument("--json", action="store_true", help="one JSON object per mode")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="fks-bench-metrics-")
    off_cfg, scraped_cfg = configs(args.fks, args.config, scratch)
    results = {"off": [], "scraped": []}
    n = 0
    try:
        for r in range(args.rounds):
            # Alternate which mode goes first, so neither always runs on a warmer machine.
            for mode in (("off", "scraped") if r % 2 == 0 else ("scraped", "off")):
                n += 1
                results[mode].append(one_run(args, mode, scraped_cfg if mode == "scraped" else off_cfg,
                                             scratch, n))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    med = {m: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for m, rs in results.items()}
    if args.json:
        for m in med:
            print(json.dumps(dict(mode=m, rounds=args.rounds, events=args.events, interval_s=args.interval, **med[m])))
        return
    print("exporter cost on tick-to-trade: %d rounds of %d events, scrape every %.0f ms (medians over rounds)" %
          (args.rounds, args.events, args.interval * 1e3))
    print("%-8s %10s %10s %10s %14s %8s" % ("mode", "p50 ns", "p99 ns", "p99.9 ns", "events/s", "scrapes"))
    for m in ("off", "scraped"):
        x = med[m]
        print("%-8s %10.0f %10.0f %10.0f %14.0f %8.0f" % (m, x["p50"], x["p99"], x["p999"], x["events_per_s"],
                                                       x["scrapes"]))
    ratio = {k: med["scraped"][k] / med["off"][k] if med["off"][k] else float("nan")
             for k in ("p50", "p99", "p999", "events_per_s")}
    print("%-8s %10.2f %10.2f %10.2f %14.2f" % ("ratio", ratio["p50"], ratio["p99"], ratio["p999"],
                                                ratio["events_per_s"]))


if __name__ == "__main__":
    main()
