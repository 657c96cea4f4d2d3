#!/usr/bin/env python3
"""The Prometheus exporter (pipeline/metrics/, issue 16) against the real fks
binary, promtool and prometheus:

- exposition: `fks run` with metrics.listen serves /metrics that `promtool
  check metrics` accepts, /health ok and /ready true while it runs.
- dashboard: every query of ops/grafana/dashboards/fks-pipeline.json and of
  ops/prometheus/fks-alerts.yml names only metrics the exporter served in
  that run.
- prometheus: a real Prometheus on loopback scrapes `fks metrics`, and its
  HTTP API returns fks_orders_total and fks_journal_events_total equal to
  the run's JSON summary.
- dead_stage: with the supervisor stopped (so it cannot trip the kill switch
  or stop anything), SIGKILL the strategy's runner: /health turns 503 and
  names the strategy as dead, from the exporter's own look at the process.
- refusals: `fks metrics` refuses a bad --listen (exit 2), a prefix with no
  running pipeline and a taken port (exit 1), each with its own message.

Usage: test_metrics.py [CHECK...] (FKS_BIN names the fks executable).
Exit 0: every check held.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

FKS = os.environ.get("FKS_BIN", "build/fks")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRATCH = tempfile.mkdtemp(prefix="fks-metrics-")
PROCS = []
_n = [0]


def prefix(tag):
    _n[0] += 1
    return "fksm%d%s%d" % (os.getpid() % 100000, tag, _n[0])


def path(name):
    _n[0] += 1
    return os.path.join(SCRATCH, "%s%d" % (name, _n[0]))


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(what + ("\n" + str(detail) if detail else ""))


class Proc:
    """A background process, stdout and stderr to files; stopped at exit."""

    def __init__(self, argv):
        self.out_path, self.err_path = path("out"), path("err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.p = subprocess.Popen(argv, stdout=out, stderr=err)
        PROCS.append(self)

    def err(self):
        with open(self.err_path) as f:
            return f.read()

    def out(self):
        with open(self.out_path) as f:
            return f.read()

    def wait_for(self, pattern, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(pattern, self.err())
            if m:
                return m
            check(self.p.poll() is None, "exited (%s) before printing %r" % (self.p.returncode, pattern), self.err())
            time.sleep(0.05)
        raise AssertionError("never printed %r\n%s" % (pattern, self.err()))

    def stop(self, sig=signal.SIGINT, timeout=60):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.p.wait(timeout=timeout)


def get(url):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def config(extra="", dedicated=False):
    text = subprocess.run([FKS, "config", "default"], capture_output=True, text=True, check=True).stdout
    if dedicated:
        text, n = re.subn(r"(?ms)^runners:\n.*?^    runner: journal\n",
                          "stages:\n  feed: {core: 0, wait: park}\n  strategy: {core: 1, wait: park}\n"
                          "  risk: {core: 1, wait: park}\n  gateway: {core: 0, wait: park}\n"
                          "  journal: {core: 0, wait: park}\n", text)
        check(n == 1, "the default config has no runners/stages block to replace")
    # A loaded machine must not make the supervisor kill a starved stage.
    check("  heartbeat_timeout_ms: 1000\n" in text, "the default config has heartbeat_timeout_ms: 1000")
    text = text.replace("  heartbeat_timeout_ms: 1000\n", "  heartbeat_timeout_ms: 60000\n")
    p = path("cfg") + ".yaml"
    with open(p, "w") as f:
        f.write(text + extra)
    return p


def served_names(exposition):
    """Sample names of an exposition: the names a query can use."""
    names = set()
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def query_names(expr):
    return set(re.findall(r"\b(fks_[a-zA-Z0-9_]+)", expr))


# ---- exposition and dashboard ------------------------------------------------

SERVED = {}


def exposition():
    pfx = prefix("x")
    run = Proc([FKS, "run", "-c", config('metrics:\n  listen: "127.0.0.1:0"\n'), "--duration", "120", "--prefix",
                pfx, "--journal", path("j"), "--json"])
    base = run.wait_for(r"metrics on (http://[0-9.:]+)/metrics").group(1)
    end = time.time() + 60
    while time.time() < end:  # until orders and fills have flowed
        status, body = get(base + "/metrics")
        check(status == 200, "GET /metrics: 200", status)
        if re.search(r"^fks_fills_total [1-9]", body, re.M):
            break
        time.sleep(0.2)
    check(re.search(r"^fks_fills_total [1-9]", body, re.M), "fills were counted", body[-2000:])
    lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
    check(lint.returncode == 0, "promtool check metrics accepts the exposition", lint.stdout + lint.stderr)
    for family in ("fks_stage_events_in_total", "fks_stage_busy_ratio", "fks_stage_heartbeat_age_seconds",
                   "fks_ring_depth", "fks_ring_blocked_seconds_total", "fks_orders_total", "fks_fills_total",
                   "fks_order_rejects_total", "fks_position", "fks_realized_pnl", "fks_tick_to_trade_seconds",
                   "fks_stage_latency_seconds", "fks_journal_commits_total", "fks_journal_lag_events",
                   "fks_journal_not_journaled_events", "fks_kill_switch", "fks_feed_stale"):
        check("# TYPE %s " % family in body, "the family %s is served" % family)
    check('fks_position{instrument="BTCUSDT"}' in body, "positions are labelled by symbol")
    check('fks_stage_events_in_total{stage="risk",runner="hot"}' in body, "stages are labelled with their runner")
    # Histogram buckets are cumulative and end at _count.
    buckets = [int(v) for v in re.findall(r'^fks_tick_to_trade_seconds_bucket\{le="[^"]+"\} (\d+)', body, re.M)]
    count = int(re.search(r"^fks_tick_to_trade_seconds_count (\d+)", body, re.M).group(1))
    check(buckets == sorted(buckets) and buckets[-1] == count and count > 0, "cumulative buckets ending at _count")
    # The documented bounds, and only them: two per power of two, 1.5 * 2^p
    # and 2^(p+1) ns less one (exact hist edges), 128 ns to 8.6 s, then +Inf.
    want = ["%d.%09d" % divmod(e, 10**9) for p in range(7, 33) for e in (3 << (p - 1), 2 << p)]
    want = [w for w in ("%d.%09d" % divmod(int(w.replace(".", "")) - 1, 10**9) for w in want)] + ["+Inf"]
    les = {}
    for name, labels, le in re.findall(r'^(fks_\w+)_bucket\{(.*?),?le="([^"]+)"\}', body, re.M):
        les.setdefault((name, labels), []).append(le)
    check(len(les) == 6, "six histograms: tick-to-trade and one per stage", sorted(les))
    for key, got in les.items():
        check(got == want, "%s{%s}: the %d documented le bounds" % (key[0], key[1], len(want)), got)
    status, health = get(base + "/health")
    check(status == 200 and json.loads(health)["status"] == "ok", "/health: 200 ok while it runs", health)
    status, ready = get(base + "/ready")
    check(status == 200 and json.loads(ready)["ready"] is True, "/ready: true while it runs", ready)
    check(run.stop() == 0, "fks run stops cleanly on SIGINT with the exporter", run.err())
    SERVED["names"] = served_names(body)


def dashboard():
    if "names" not in SERVED:
        exposition()
    names = SERVED["names"]
    with open(os.path.join(ROOT, "ops/grafana/dashboards/fks-pipeline.json")) as f:
        dash = json.load(f)
    check(dash["panels"], "the dashboard has panels")
    for panel in dash["panels"]:
        exprs = [t["expr"] for t in panel.get("targets", [])]
        check(exprs, "panel %r has a query" % panel["title"])
        used = set().union(*(query_names(e) for e in exprs))
        check(used, "panel %r queries an fks_ metric" % panel["title"], exprs)
        missing = used - names
        check(not missing, "panel %r queries metrics the exporter does not serve: %s" %
              (panel["title"], sorted(missing)))
    with open(os.path.join(ROOT, "ops/prometheus/fks-alerts.yml")) as f:
        rules = f.read()
    for expr in re.findall(r"^\s*expr: (.*)$", rules, re.M):
        missing = query_names(expr) - names
        check(not missing, "alert expression %r uses metrics the exporter does not serve: %s" %
              (expr, sorted(missing)))


# ---- a real Prometheus -----------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus():
    pfx = prefix("p")
    run = Proc([FKS, "run", "-c", config(), "--events", "300000", "--prefix", pfx, "--journal", path("j"), "--json"])
    run.wait_for(r"runners:")
    end = time.time() + 30
    while time.time() < end and not os.path.exists("/dev/shm/%s.run" % pfx):
        time.sleep(0.05)
    exporter = Proc([FKS, "metrics", "--prefix", pfx, "--listen", "127.0.0.1:0"])
    target = exporter.wait_for(r"on http://([0-9.:]+)/metrics").group(1)
    check(run.p.wait(timeout=120) == 0, "the run ends after its events", run.err())
    summary = json.loads(run.out().strip().splitlines()[-1])
    orders, journaled = summary["stages"]["gateway"]["orders"], summary["journal"]["events"]
    check(orders > 0, "the run sent orders", summary)
    data = path("prom")
    os.makedirs(data)
    cfg = os.path.join(data, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\n"
                "scrape_configs:\n  - job_name: fks\n    static_configs:\n      - targets: ['%s']\n" % target)
    port = free_port()
    prom = Proc(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(data, "tsdb"),
                 "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"])
    api = "http://127.0.0.1:%d/api/v1/query?query=" % port
    got = {}
    end = time.time() + 60
    while time.time() < end and len(got) < 2:
        check(prom.p.poll() is None, "prometheus runs", prom.err())
        for name in ("fks_orders_total", "fks_journal_events_total"):
            try:
                status, body = get(api + urllib.parse.quote(name))
            except (urllib.error.URLError, ConnectionError):
                continue  # not listening yet
            result = json.loads(body)["data"]["result"] if status == 200 else []
            if result:
                got[name] = int(float(result[0]["value"][1]))
        time.sleep(0.2)
    check(got.get("fks_orders_total") == orders, "Prometheus has fks_orders_total %s, the summary %d orders" %
          (got.get("fks_orders_total"), orders), prom.err())
    check(got.get("fks_journal_events_total") == journaled,
          "Prometheus has fks_journal_events_total %s, the summary %d events" %
          (got.get("fks_journal_events_total"), journaled))
    prom.stop(signal.SIGTERM)
    check(exporter.stop(signal.SIGTERM) == 0, "fks metrics exits 0 on SIGTERM", exporter.err())


# ---- a dead stage -----------------------------------------------------------

def dead_stage():
    pfx = prefix("d")
    run = Proc([FKS, "run", "-c", config(dedicated=True), "--duration", "120", "--prefix", pfx, "--journal",
                path("j"), "--json"])
    run.wait_for(r"runners:")
    end = time.time() + 30
    while time.time() < end and not os.path.exists("/dev/shm/%s.run" % pfx):
        time.sleep(0.05)
    exporter = Proc([FKS, "metrics", "-c", config(dedicated=True), "--prefix", pfx, "--listen", "127.0.0.1:0"])
    base = exporter.wait_for(r"on (http://[0-9.:]+)/metrics").group(1)
    end = time.time() + 60
    while time.time() < end:
        status, body = get(base + "/ready")
        if status == 200:
            break
        time.sleep(0.1)
    check(status == 200, "/ready once every stage runs", body)
    status, body = get(base + "/health")
    check(status == 200, "/health is ok before the kill", body)
    victim = json.loads(body)["stages"]["strategy"]["pid"]
    # Stopped, the supervisor can neither reap the runner nor trip the kill
    # switch: what /health says next is the exporter's own finding.
    os.kill(run.p.pid, signal.SIGSTOP)
    try:
        os.kill(victim, signal.SIGKILL)
        end = time.time() + 30
        while time.time() < end:
            status, body = get(base + "/health")
            if status == 503:
                break
            time.sleep(0.05)
        check(status == 503, "/health: 503 after the strategy was killed", body)
        h = json.loads(body)
        check(h["status"] == "unhealthy", "status unhealthy", body)
        check(h["stages"]["strategy"]["dead"] is True and h["stages"]["risk"]["dead"] is False,
              "the strategy, and only it, is dead", body)
        check("stage strategy died (pid %d gone)" % victim in h["reasons"], "the reason names the stage", body)
        check(h["kill_switch"] is False, "the verdict did not come from the kill switch", body)
        status, metrics = get(base + "/metrics")
        check(re.search(r'^fks_stage_up\{stage="strategy",runner="strategy"\} 0$', metrics, re.M),
              "fks_stage_up of the strategy is 0", metrics[:3000])
        check(re.search(r"^fks_health 2$", metrics, re.M), "fks_health 2 (unhealthy)")
    finally:
        os.kill(run.p.pid, signal.SIGCONT)
    check(run.p.wait(timeout=120) == 1, "the run fails after the strategy's death", run.err())
    status, body = get(base + "/health")
    check(status == 503 and json.loads(body)["kill_switch"] is True, "after the supervisor woke: the kill switch", body)
    exporter.stop(signal.SIGTERM)


# ---- refusals ---------------------------------------------------------------

def refusals():
    p = subprocess.run([FKS, "metrics", "--listen", "nonsense"], capture_output=True, text=True)
    check(p.returncode == 2, "a bad --listen: exit 2 (got %d)" % p.returncode, p.stderr)
    check('fks metrics: --listen: "nonsense": expected HOST:PORT' in p.stderr, "names the bad address", p.stderr)
    p = subprocess.run([FKS, "metrics", "--listen", "127.0.0.1:99999"], capture_output=True, text=True)
    check(p.returncode == 2 and "expected a port 0..65535" in p.stderr, "a port out of range: exit 2", p.stderr)
    # Started before any run (systemd starts it beside the pipeline): it
    # serves "down" and waits, then follows the run once it starts.
    pfx = prefix("none")
    exp = Proc([FKS, "metrics", "--prefix", pfx, "--listen", "127.0.0.1:0"])
    addr = exp.wait_for(r"on http://([0-9.:]+)/metrics.*waiting for one").group(1)
    st, body = get("http://%s/metrics" % addr)
    check(st == 200 and "fks_up 0" in body and "fks_health 2" in body, "no run yet: fks_up 0, unhealthy", body)
    st, body = get("http://%s/health" % addr)
    check(st == 503 and "no pipeline has run under prefix" in body, "no run yet: /health 503 says why", body)
    run = Proc([FKS, "run", "-c", config(), "--duration", "120", "--prefix", pfx, "--journal", path("jw")])
    run.wait_for(r"runners:")
    end = time.time() + 30
    while time.time() < end:
        st, body = get("http://%s/metrics" % addr)
        if "fks_up 1" in body:
            break
        time.sleep(0.1)
    check("fks_up 1" in body and "fks_stage_events_out_total" in body, "follows the run once it starts", body[:400])
    check(run.stop() == 0, "the run stops cleanly", run.err())
    check(exp.stop() == 0, "fks metrics exits 0 on SIGINT", exp.err())
    p = subprocess.run([FKS, "metrics", "--help"], capture_output=True, text=True)
    check(p.returncode == 0 and "usage: fks metrics" in p.stdout, "--help", p.stdout + p.stderr)
    # A taken port, with a pipeline to serve.
    pfx = prefix("busy")
    run = Proc([FKS, "run", "-c", config(), "--duration", "120", "--prefix", pfx, "--journal", path("j")])
    run.wait_for(r"runners:")
    end = time.time() + 30
    while time.time() < end and not os.path.exists("/dev/shm/%s.run" % pfx):
        time.sleep(0.05)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = subprocess.run([FKS, "metrics", "--prefix", pfx, "--listen", "127.0.0.1:%d" % port],
                           capture_output=True, text=True, timeout=30)
    check(p.returncode == 1, "a taken port: exit 1 (got %d)" % p.returncode, p.stderr)
    check("cannot listen on 127.0.0.1:%d: Address already in use" % port in p.stderr, "says the port is taken",
          p.stderr)
    check(run.stop() == 0, "the run stops cleanly", run.err())


CHECKS = {"exposition": exposition, "dashboard": dashboard, "prometheus": prometheus, "dead_stage": dead_stage,
          "refusals": refusals}


def main():
    names = sys.argv[1:] or list(CHECKS)
    failed = 0
    try:
        for name in names:
            try:
                CHECKS[name]()
                print("ok %s" % name)
            except AssertionError as e:
                failed += 1
                print("FAIL %s: %s" % (name, e))
            finally:
                for p in PROCS:
                    if p.p.poll() is None:
                        try:
                            os.kill(p.p.pid, signal.SIGCONT)
                        except ProcessLookupError:
                            pass
                        p.stop(signal.SIGTERM)
                del PROCS[:]
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
