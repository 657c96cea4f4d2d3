#!/usr/bin/env python3
"""Direct notifications (issue 16) against the real fks binary and a
webhook listener on loopback (http.server on a free port, answering what
each check scripts):

- stage_kill: SIGKILL the strategy during `fks run` with a Discord and a
  Slack target: each gets the kill switch (naming the strategy and signal
  9) and the stage's death, in its own JSON format.
- burst: 100 messages (`fks notify test --count 100`) with the rate window
  shortened to 3 s (FKS_NOTIFY_WINDOW_MS): 30 arrive, then one summary
  counting the other 70, and no window holds more than 30.
- retry_5xx: the listener answers 500, then 200: the message arrives twice,
  the second time accepted, and fks reports the retry.
- retry_429: 429 with Retry-After: 2, then 200: the retry waits at least
  the 2 s it was told (not the 0.1 s back-off), and says so.
- url_file_mode: a URL file of mode 0644 is refused, naming the file and
  the fix, at its line and column, before anything starts; the URL is
  never printed.

Usage: test_notify.py [CHECK...] (FKS_BIN names the fks executable).
"""
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_supervise as sup  # noqa: E402  (its Run, status and config helpers)

FKS = os.environ.get("FKS_BIN", "build/fks")
SCRATCH = tempfile.mkdtemp(prefix="fks-notify-")
SECRET_TOKEN = "s3cr3t-token-do-not-print"


class Listener:
    """A webhook on 127.0.0.1:<free port>.  `script` maps a path to a list
    of (status, headers) answers, used in turn; past its end, 204."""

    def __init__(self, script=None):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.got = []  # (monotonic time, path, parsed JSON, status answered)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    answers = outer.script.get(self.path.split("/")[1], [])
                    status, headers = answers.pop(0) if answers else (204, {})
                    outer.got.append((time.monotonic(), self.path, json.loads(body), status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name):
        return "http://127.0.0.1:%d/%s/%s" % (self.server.server_port, name, SECRET_TOKEN)

    def bodies(self, name):
        with self.lock:
            return [g for g in self.got if g[1].split("/")[1] == name]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def notify_config(base_text, url_file):
    text = base_text + ("notify:\n  targets:\n"
                        "    - {name: ops-discord, kind: discord, url_env: FKS_TEST_DISCORD_URL}\n"
                        "    - {name: ops-slack, kind: slack, url_file: %s, min_severity: critical}\n" % url_file)
    path = os.path.join(SCRATCH, "notify%d.yaml" % len(os.listdir(SCRATCH)))
    with open(path, "w") as f:
        f.write(text)
    return path


def url_file(url, mode=0o600):
    path = os.path.join(SCRATCH, "hook%d.url" % len(os.listdir(SCRATCH)))
    with open(path, "w") as f:
        f.write(url + "\n")
    os.chmod(path, mode)
    return path


def default_text():
    return subprocess.run([FKS, "config", "default"], capture_output=True, text=True, check=True).stdout


def env_with(**kv):
    env = dict(os.environ)
    env.update(kv)
    return env


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(what + ("\n" + str(detail) if detail else ""))


def fields_of_discord(body):
    return {f["name"]: f["value"] for f in body["embeds"][0]["fields"]}


def stage_kill():
    li = Listener()
    try:
        with open(sup.config()) as f:
            base = f.read()
        cfg = notify_config(base, url_file(li.url("slack")))
        pfx = sup.prefix("ntf")
        os.environ["FKS_TEST_DISCORD_URL"] = li.url("discord")
        try:
            r = sup.Run(["-c", cfg, "--duration", "60", "--prefix", pfx, "--journal", sup.journal_dir()])
        finally:
            del os.environ["FKS_TEST_DISCORD_URL"]
        pids = sup.wait_for_orders(pfx, 5)
        os.kill(pids["strategy"], signal.SIGKILL)
        check(r.wait() == 1, "exit 1 after the strategy died", r.err())
        check(SECRET_TOKEN not in r.err() + r.out(), "the URL is never printed", r.err())
        discord = [b for _, _, b, _ in li.bodies("discord")]
        titles = [b["embeds"][0]["title"] for b in discord]
        check("FKS kill switch tripped" in titles, "Discord got the kill switch", titles)
        check("FKS stage strategy died" in titles, "Discord got the strategy's death", titles)
        kill = discord[titles.index("FKS kill switch tripped")]
        emb = kill["embeds"][0]
        check(emb["color"] == 0xE01E2E, "critical is red", emb)
        f = fields_of_discord(kill)
        check(re.match(r"strategy killed by signal 9", f["Reason"]), "the reason names the stage and signal", f)
        check(f["Severity"] == "critical" and f["Pipeline"] == cfg, "severity and pipeline fields", f)
        check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", emb["timestamp"]), "an ISO timestamp", emb)
        slack = [b for _, _, b, _ in li.bodies("slack")]
        headers = [b["blocks"][0]["text"]["text"] for b in slack]
        check("FKS kill switch tripped" in headers and "FKS stage strategy died" in headers,
              "Slack got both (critical reaches min_severity critical)", headers)
        dead = slack[headers.index("FKS stage strategy died")]
        check(dead["text"].startswith("[critical] FKS stage strategy died: Stage strategy killed by signal 9"),
              "Slack's fallback text", dead["text"])
        texts = [fl["text"] for fl in dead["blocks"][2]["fields"]]
        check("*Stage*\nstrategy" in texts, "Slack's fields name the stage", texts)
    finally:
        li.close()


def notify_test(li, args, window_ms="60000", backoff_ms="100", cfg=None):
    cfg = cfg or notify_config(default_text(), url_file(li.url("slack")))
    return subprocess.run([FKS, "notify", "test", "-c", cfg] + args, capture_output=True, text=True, timeout=120,
                          env=env_with(FKS_TEST_DISCORD_URL=li.url("discord"), FKS_NOTIFY_WINDOW_MS=window_ms,
                                       FKS_NOTIFY_BACKOFF_MS=backoff_ms))


def burst():
    li = Listener()
    try:
        window = 3.0
        p = notify_test(li, ["--count", "100", "--wait", "30"], window_ms=str(int(window * 1000)))
        check(p.returncode == 0, "every message delivered or summarised", p.stdout + p.stderr)
        for target in ("discord", "slack"):
            got = li.bodies(target)
            check(len(got) == 31, "%s: 30 messages and one summary, got %d" % (target, len(got)))
            times = [t for t, _, _, _ in got]
            for i in range(len(times)):
                in_window = sum(1 for t in times[i:] if t - times[i] < window * 0.95)
                check(in_window <= 30, "%s: at most 30 in any window" % target, times)
            last = got[-1][2]
            title = last["embeds"][0]["title"] if target == "discord" else last["blocks"][0]["text"]["text"]
            check(title == "FKS: 70 notifications held back by the rate limit", "%s: the summary" % target, title)
            firsts = [b["embeds"][0]["title"] if target == "discord" else b["blocks"][0]["text"]["text"]
                      for _, _, b, _ in got[:30]]
            check(firsts == ["FKS test notification %d of 100" % i for i in range(1, 31)],
                  "%s: the first 30, in order" % target, firsts)
        check("held back 140 (summarised 140)" in p.stdout, "counted on both targets", p.stdout)
    finally:
        li.close()


def retry_5xx():
    li = Listener({"discord": [(500, {})], "slack": [(503, {}), (502, {})]})
    try:
        p = notify_test(li, ["--wait", "20"])
        check(p.returncode == 0, "delivered after the retries", p.stdout + p.stderr)
        check([s for _, _, _, s in li.bodies("discord")] == [500, 204], "discord: 500 then accepted",
              li.bodies("discord"))
        check([s for _, _, _, s in li.bodies("slack")] == [503, 502, 204], "slack: 503, 502, then accepted",
              li.bodies("slack"))
        check("notify target ops-discord: HTTP 500; retrying in" in p.stderr, "the retry is reported", p.stderr)
        check("retries 3, failed 0" in p.stdout, "three retries counted", p.stdout)
        check(SECRET_TOKEN not in p.stdout + p.stderr, "the URL is never printed", p.stderr)
    finally:
        li.close()


def retry_429():
    li = Listener({"discord": [(429, {"Retry-After": "2"})]})
    try:
        p = notify_test(li, ["--wait", "20"], backoff_ms="100")
        check(p.returncode == 0, "delivered after the 429", p.stdout + p.stderr)
        got = li.bodies("discord")
        check([s for _, _, _, s in got] == [429, 204], "429 then accepted", got)
        check(got[1][0] - got[0][0] >= 1.9, "waited the Retry-After (2 s), not the back-off (0.1 s): %.2f s"
              % (got[1][0] - got[0][0]))
        check("HTTP 429; retrying in 2 s (its Retry-After)" in p.stderr, "says it honours Retry-After", p.stderr)
    finally:
        li.close()


def url_file_mode():
    li = Listener()
    try:
        path = url_file(li.url("slack"), mode=0o644)
        cfg = notify_config(default_text(), path)
        p = notify_test(li, [], cfg=cfg)
        check(p.returncode == 2, "refused as a config error (exit 2)", p.stdout + p.stderr)
        m = re.search(r":(\d+):(\d+): notify\.targets\[1\]\.url_file: notify target \"ops-slack\": %s: the secret "
                      r"file is open to group or others \(chmod 600 it\)" % re.escape(path), p.stderr)
        check(m, "names the target, the file and the fix, at a line and column", p.stderr)
        check(SECRET_TOKEN not in p.stderr, "the URL is never printed", p.stderr)
        check(not li.bodies("slack") and not li.bodies("discord"), "nothing was sent")
        r = subprocess.run([FKS, "run", "-c", cfg, "--duration", "1"], capture_output=True, text=True, timeout=60,
                           env=env_with(FKS_TEST_DISCORD_URL=li.url("discord")))
        check(r.returncode == 2 and "open to group or others" in r.stderr, "fks run refuses it too", r.stderr)
    finally:
        li.close()


CHECKS = [stage_kill, burst, retry_5xx, retry_429, url_file_mode]


def main():
    want = sys.argv[1:]
    failed = 0
    try:
        for c in CHECKS:
            if want and c.__name__ not in want:
                continue
            t = time.time()
            try:
                c()
                print("%s: ok (%.1f s)" % (c.__name__, time.time() - t))
            except Exception as e:  # report every check, then fail
                failed += 1
                print("%s: FAILED: %s" % (c.__name__, e))
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
        shutil.rmtree(sup.SCRATCH, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
