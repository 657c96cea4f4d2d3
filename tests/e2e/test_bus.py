#!/usr/bin/env python3
"""The bus (issue 17) against a real `nats-server -js` on loopback, started
here on free ports with a store in a temporary directory and stopped at the
end, also when a check fails.

Each check runs `fks run` with `fks bus publish` following its journal,
then compares `fks tail --nats --from 1` (every message of the run in the
stream, in stream order) with `fks tail -j --from 1` (every event of the
journal): equal text means every event arrived exactly once and in order.

- live: the publisher follows a live run from its start.
- publisher_killed: SIGKILL of the publisher mid-run, then a restart.
- server_restarted: the server is stopped mid-run and started again on the
  same port and store; the publisher rides it out and catches up.
- server_missing: no server while the run runs; the publisher neither
  fails nor stops the run, reports its lag, and catches up when a server
  comes.
- two_publishers: two publishers of one journal (fks run's and a service's):
  the second waits on the journal's lock and takes over when the first
  stops (SIGKILLed here mid-run); the stream still equals the journal.
- tail_filters: the remote tail equals the local one with --last, --type,
  --symbol, --stage and --json.
- replay: `fks replay --input nats://...` writes a report byte-identical to
  the replay of the journal.
- json_payload: --json publishes the tail's JSON lines; the remote tail
  refuses them, counted, with the reason.
- run_side: `fks run -c` with a bus section starts the publisher beside the
  pipeline: the stream equals the journal when the run ends; with the bus
  unreachable the run still succeeds and says the bus did not catch up.
- cluster: three servers in a cluster on loopback ports, a stream with
  replicas 3; one server is killed and the stream is still read whole from
  the others (skipped when the cluster does not form).

Usage: test_bus.py [CHECK...] (FKS_BIN names the fks executable).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FKS = os.environ.get("FKS_BIN", "build/fks")
NATS_SERVER = shutil.which("nats-server")
SCRATCH = tempfile.mkdtemp(prefix="fks-bus-")
PROCS = []  # everything started here, killed at exit whatever happened


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    PROCS.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=15):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Server:
    """One nats-server -js on 127.0.0.1, optionally in a cluster."""

    def __init__(self, name, port=None, cluster_port=None, routes=None):
        self.name, self.port = name, port or free_port()
        self.store = os.path.join(SCRATCH, name + "-store")
        self.args = [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self.store,
                     "-n", name]
        if cluster_port:
            self.args += ["--cluster_name", "fks", "--cluster", "nats://127.0.0.1:%d" % cluster_port,
                          "--routes", ",".join(routes)]
        self.log = os.path.join(SCRATCH, name + ".log")
        self.p = None

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def start(self):
        self.p = start(self.args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        assert wait_port(self.port), "nats-server did not listen: " + open(self.log).read()[-2000:]

    def stop(self, sig=signal.SIGTERM):
        stop(self.p, sig)


def journal_dir(name):
    return os.path.join(SCRATCH, name + "-journal")


def base_config(extra=""):
    """The default config with a 10 s heartbeat timeout: what is tested here
    is the bus, and on a loaded 2-core machine a durable commit has taken
    over a second, which the default 1 s would call a stalled journal."""
    default = subprocess.run([FKS, "config", "default"], capture_output=True, check=True).stdout.decode()
    assert "heartbeat_timeout_ms: 1000" in default
    return default.replace("heartbeat_timeout_ms: 1000", "heartbeat_timeout_ms: 10000") + extra


def run_pipeline(name, events):
    """fks run of `events` feed events into a fresh journal, in the background."""
    out = open(os.path.join(SCRATCH, name + "-run.log"), "wb")
    cfg = os.path.join(SCRATCH, name + "-run.yaml")
    with open(cfg, "w") as f:
        f.write(base_config())
    return start([FKS, "run", "-c", cfg, "--events", str(events), "--prefix", "fksbus" + name, "--journal",
                  journal_dir(name)], stdout=out, stderr=subprocess.STDOUT)


def publisher(name, url, *extra):
    log = open(os.path.join(SCRATCH, name + "-publish.log"), "ab")
    metrics = os.path.join(SCRATCH, name + "-bus.prom")
    p = start([FKS, "bus", "publish", "-j", journal_dir(name), "--url", url, "--until-closed",
               "--report-ms", "50", "--metrics-file", metrics] + list(extra),
              stdout=log, stderr=subprocess.STDOUT)
    return p, metrics


def metric(path, name):
    try:
        m = re.search(r"^%s (\d+)$" % name, open(path).read(), re.M)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def wait_for(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def tail(*args):
    r = subprocess.run([FKS, "tail"] + list(args), capture_output=True, timeout=120)
    return r.returncode, r.stdout, r.stderr.decode()


def check_same_events(name, url):
    rc, local, err = tail("-j", journal_dir(name), "--from", "1")
    assert rc == 0, err
    rc, remote, err = tail("--nats", url, "--from", "1")
    assert rc == 0, err
    n_local, n_remote = local.count(b"\n"), remote.count(b"\n")
    assert n_local > 1000, "the run journaled only %d events" % n_local
    assert local == remote, "stream and journal differ: %d events in the journal, %d messages in the stream" % (
        n_local, n_remote)
    return n_local


def finish(name, run, pub):
    assert run.wait(120) == 0, open(os.path.join(SCRATCH, name + "-run.log")).read()[-3000:]
    assert pub.wait(120) == 0, open(os.path.join(SCRATCH, name + "-publish.log")).read()[-3000:]


def check_live(srv):
    pub, _ = publisher("live", srv.url)
    run = run_pipeline("live", 100000)
    finish("live", run, pub)
    print("live: %d events, exactly once, in order" % check_same_events("live", srv.url))


def check_publisher_killed(srv):
    url = srv.url + "?stream=KILLED&prefix=killed"
    pub, metrics = publisher("killed", srv.url, "--stream", "KILLED", "--prefix", "killed")
    run = run_pipeline("killed", 150000)
    wait_for(lambda: (metric(metrics, "fks_bus_published_seq") or 0) > 0, 60, "a first publish")
    at = metric(metrics, "fks_bus_published_seq")
    stop(pub, signal.SIGKILL)
    assert run.poll() is None, "the run ended before the publisher was killed: not mid-run"
    pub, metrics = publisher("killed", srv.url, "--stream", "KILLED", "--prefix", "killed")
    finish("killed", run, pub)
    n = check_same_events("killed", url)
    log = open(os.path.join(SCRATCH, "killed-publish.log")).read()
    assert "stream KILLED holds run" in log, log
    print("publisher_killed: killed at seq %d of %d; restarted, exactly once, in order" % (at, n))


def check_two_publishers(srv):
    url = srv.url + "?stream=TWO&prefix=two"
    first, metrics = publisher("two", srv.url, "--stream", "TWO", "--prefix", "two")
    wait_for(lambda: os.path.exists(metrics), 30, "the first publisher")
    second, _ = publisher("two", srv.url, "--stream", "TWO", "--prefix", "two")
    log = os.path.join(SCRATCH, "two-publish.log")
    wait_for(lambda: "waiting to take over" in open(log).read(), 30, "the second publisher to wait")
    run = run_pipeline("two", 150000)
    wait_for(lambda: (metric(metrics, "fks_bus_published_seq") or 0) > 0, 60, "a first publish")
    stop(first, signal.SIGKILL)
    finish("two", run, second)
    n = check_same_events("two", url)
    print("two_publishers: the second waited, took over after the first was killed; %d events exactly once" % n)


def check_server_restarted(srv):
    url = srv.url + "?stream=RESTART&prefix=restart"
    pub, metrics = publisher("restart", srv.url, "--stream", "RESTART", "--prefix", "restart")
    run = run_pipeline("restart", 150000)
    wait_for(lambda: (metric(metrics, "fks_bus_published_seq") or 0) > 0, 60, "a first publish")
    srv.stop()
    at = metric(metrics, "fks_bus_published_seq")
    time.sleep(0.5)
    assert pub.poll() is None, "the publisher stopped when the server went away"
    srv.start()
    finish("restart", run, pub)
    n = check_same_events("restart", url)
    print("server_restarted: server stopped at seq %d of %d; exactly once, in order" % (at, n))


def check_server_missing(_srv):
    late = Server("late")
    pub, metrics = publisher("missing", late.url)
    run = run_pipeline("missing", 50000)
    assert run.wait(120) == 0, "the run failed without a bus server"
    wait_for(lambda: (metric(metrics, "fks_bus_lag_events") or 0) > 1000, 30, "the lag to be reported")
    assert metric(metrics, "fks_bus_connected") == 0
    assert pub.poll() is None, "the publisher gave up without a server"
    late.start()
    try:
        assert pub.wait(120) == 0
        assert metric(metrics, "fks_bus_lag_events") == 0
        n = check_same_events("missing", late.url)
    finally:
        late.stop()
    print("server_missing: the run ran, lag reported, %d events caught up" % n)


def check_tail_filters(srv):
    for args in (["--last", "25"], ["--type", "fill,order_new", "--symbol", "ETHUSDT", "--last", "7"],
                 ["--stage", "gateway", "--json", "--last", "40"], ["--from", "500", "--type", "quote"],
                 []):
        rc_l, local, err_l = tail("-j", journal_dir("live"), *args)
        rc_r, remote, err_r = tail("--nats", srv.url, *args)
        assert rc_l == rc_r == 0, err_l + err_r
        assert local and local == remote, "fks tail %s: the remote tail differs" % " ".join(args)
    rc, _, err = tail("--nats", srv.url, "--symbol", "NOPE")
    assert rc == 2 and "unknown 'NOPE'" in err and "BTCUSDT" in err, err
    rc, _, err = tail("--nats", srv.url + "?stream=ABSENT")
    assert rc == 1 and "ABSENT" in err, err
    print("tail_filters: --last, --type, --symbol, --stage, --json, --from: equal to the local tail")


def check_replay(srv):
    reports = {}
    for kind, inp in (("local", journal_dir("live")), ("remote", srv.url)):
        d = os.path.join(SCRATCH, "report-" + kind)
        r = subprocess.run([FKS, "replay", "--input", inp, "--report", d], capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr.decode()
        reports[kind] = (r.stdout, open(os.path.join(d, "report.json"), "rb").read(),
                         open(os.path.join(d, "report.html"), "rb").read())
    assert reports["local"][1] == reports["remote"][1], "report.json differs"
    assert reports["local"][2] == reports["remote"][2], "report.html differs"
    print("replay: the report of the remote replay is byte-identical to the local one")


def check_json_payload(srv):
    pub, _ = publisher("live", srv.url, "--stream", "JSON", "--prefix", "json", "--json")
    assert pub.wait(120) == 0
    rc, out, err = tail("--nats", srv.url + "?stream=JSON&prefix=json", "--from", "1")
    assert rc == 1 and not out, err
    assert "a JSON payload" in err and re.search(r"\d+ corrupted records skipped", err), err
    print("json_payload: published as JSON lines; the remote tail refuses them, counted")


def bus_config(name, url, stream):
    cfg = os.path.join(SCRATCH, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(base_config("\nbus:\n  url: %s\n  stream: %s\n  subjects_prefix: %s\n" % (url, stream, stream.lower())))
    return cfg


def check_run_side(srv):
    for name, url in (("side", srv.url), ("sidedown", "nats://127.0.0.1:%d" % free_port())):
        cfg = bus_config(name, url, name.upper())
        r = subprocess.run([FKS, "run", "-c", cfg, "--events", "50000", "--prefix", "fksbus" + name, "--journal",
                            journal_dir(name)], capture_output=True, timeout=180)
        err = r.stderr.decode()
        assert r.returncode == 0, "the run failed with the bus %s: %s" % (name, err[-2000:])
        assert "fks bus publish started" in err, err[-2000:]
        if name == "side":
            n = check_same_events(name, srv.url + "?stream=SIDE&prefix=side")
        else:
            assert "not caught up" in err, err[-2000:]
    print("run_side: fks run published %d events beside the pipeline; with no server the run still succeeded" % n)


def check_cluster(_srv):
    ports = [free_port() for _ in range(3)]
    cports = [free_port() for _ in range(3)]
    routes = ["nats://127.0.0.1:%d" % p for p in cports]
    nodes = [Server("node%d" % i, ports[i], cports[i], routes) for i in range(3)]
    for n in nodes:
        n.start()
    try:
        url = ",".join(n.url for n in nodes)
        cfg = os.path.join(SCRATCH, "cluster.yaml")
        default = subprocess.run([FKS, "config", "default"], capture_output=True, check=True).stdout.decode()
        with open(cfg, "w") as f:
            f.write(default + "\nbus:\n  url: %s\n  stream: REPL\n  replicas: 3\n" % url)
        args = [FKS, "bus", "publish", "-c", cfg, "-j", journal_dir("live"), "--until-closed"]
        ok = False
        for _ in range(40):  # the cluster elects its JetStream leader first
            r = subprocess.run(args, capture_output=True, timeout=120)
            if r.returncode == 0 and b"lag 0 events" in r.stderr:
                ok = True
                break
            time.sleep(0.5)
        if not ok:
            print("cluster: SKIP: the three-node JetStream cluster did not form here: " + r.stderr.decode()[-500:])
            return
        nodes[0].stop(signal.SIGKILL)
        survivors = ",".join(n.url for n in nodes[1:])
        rc, local, err = tail("-j", journal_dir("live"), "--from", "1")
        for _ in range(40):
            rc, remote, err = tail("--nats", survivors + "?stream=REPL", "--from", "1")
            if rc == 0 and remote == local:
                break
            time.sleep(0.5)
        assert rc == 0 and remote == local, "the stream was not whole after a node died: " + err
        print("cluster: replicas 3 on three nodes; one killed; the stream read whole from the other two")
    finally:
        for n in nodes:
            n.stop()


CHECKS = {
    "live": check_live,
    "publisher_killed": check_publisher_killed,
    "two_publishers": check_two_publishers,
    "server_restarted": check_server_restarted,
    "server_missing": check_server_missing,
    "tail_filters": check_tail_filters,
    "replay": check_replay,
    "json_payload": check_json_payload,
    "run_side": check_run_side,
    "cluster": check_cluster,
}


def main():
    if not NATS_SERVER:
        print("SKIP: nats-server is not installed (scripts/setup installs it)")
        return 77
    names = sys.argv[1:] or list(CHECKS)
    srv = Server("one")
    failed = 0
    try:
        srv.start()
        for name in names:
            try:
                CHECKS[name](srv)
            except Exception as e:  # report every check, then fail
                failed += 1
                print("%s: FAIL: %s" % (name, e))
    finally:
        for p in PROCS:
            stop(p, signal.SIGKILL, 5)
        if failed:
            print("scratch kept for inspection: " + SCRATCH)
        else:
            shutil.rmtree(SCRATCH, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
