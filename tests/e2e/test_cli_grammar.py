#!/usr/bin/env python3
"""One CLI grammar for every fks command and benchmark (issue 18).

For every command: one option given as --opt=value is taken (its effect,
or at least a message that shows the value got past the parser); a
mistyped option exits 2 with the "fks CMD: " prefix, a "did you mean" and a
one-line hint to --help instead of the whole usage; `fks help CMD` prints
exactly what `fks CMD --help` prints, exit 0.  An unknown command suggests
the closest one.  No benchmark is run: their --opt=value cases give a value
the benchmark refuses by name before it starts.

Usage: test_cli_grammar.py (FKS_BIN names the fks executable, FKS_SHARED
the shared data directory).
"""
import json
import os
import subprocess
import sys
import tempfile

FKS = os.environ.get("FKS_BIN", "build/fks")
SHARED = os.environ.get("FKS_SHARED", "/work/shared")
ITCH = os.path.join(SHARED, "data/itch/ex20101224.TEST_ITCH_50")
failures = []


def check(ok, what, detail=""):
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        failures.append(what)
        if detail:
            print("     " + detail.replace("\n", "\n     ")[:3000])


def fks(*args, timeout=60):
    return subprocess.run([FKS, *args], capture_output=True, text=True, timeout=timeout)


def make_fixtures(tmp):
    """A journal from a short run, and the default config as a file."""
    journal = os.path.join(tmp, "j")
    prefix = "fks-cli-%d" % os.getpid()
    run = fks("run", "--events=3000", "--prefix=" + prefix, "--journal=" + journal, timeout=120)
    config = os.path.join(tmp, "config.yaml")
    with open(config, "w") as f:
        f.write(fks("config", "default").stdout)
    return run, journal, prefix, config


def cases(run, journal, prefix, config, tmp):
    """command words -> (argv with --opt=value, a check of its result, a mistyped option, the one meant)."""
    gone = prefix + "-none"

    def has(rc, text, where="stderr"):
        return lambda p: (rc is None or p.returncode == rc) and text in getattr(p, where)

    def export_csv(p):
        lines = p.stdout.splitlines()
        return p.returncode == 0 and len(lines) >= 2 and lines[0].startswith("seq")

    def doctor_json(p):
        try:
            return p.returncode in (0, 1) and "checks" in json.loads(p.stdout)
        except ValueError:
            return False

    root = os.path.join(tmp, "emptyroot")
    os.makedirs(root, exist_ok=True)
    return {
        # run: checked on the run that made the fixtures (below)
        "replay": (["--input=" + journal, "--speed=asap"], lambda p: p.returncode == 0 and p.stdout.strip(),
                   "--inptu", "--input"),
        "tail": (["--journal=" + journal, "--last=2"],
                 lambda p: p.returncode == 0 and len(p.stdout.splitlines()) == 2, "--jounral", "--journal"),
        "status": (["--prefix=" + gone, "--interval=0.01"], has(1, "prefix '%s'" % gone), "--prefxi", "--prefix"),
        "kill": (["--prefix=" + gone], has(1, "prefix '%s'" % gone), "--reasno", "--reason"),
        "journal list": ([journal, "--json"], lambda p: p.returncode == 0 and json.loads(p.stdout.splitlines()[0]),
                         "--jsno", "--json"),
        "journal stats": ([journal, "--config"], has(0, "config", "stdout"), "--cofnig", "--config"),
        "journal verify": ([journal], lambda p: p.returncode == 0, "--hepl", "--help"),
        "journal export": ([journal, "--format=csv", "--to=5"], export_csv, "--fromat", "--format"),
        "feed decode": (["--venue=itch", ITCH, "--book=1"],
                        lambda p: p.returncode == 0 and " bid  1 " in p.stdout and " bid  2 " not in p.stdout,
                        "--veneu", "--venue"),
        "config default": ([], has(0, "instruments", "stdout"), "--hepl", "--help"),
        "config check": (["--config=" + config], lambda p: p.returncode == 0, "--cofnig", "--config"),
        "metrics": (["--listen=nonsense"], has(2, 'fks metrics: --listen: "nonsense"'), "--lisetn", "--listen"),
        "notify test": (["--config=" + config], has(2, "no notify targets"), "--severtiy", "--severity"),
        "doctor": (["--root=" + root, "--json"], doctor_json, "--roto", "--root"),
        "bench ring": (["--only=nosuch"], has(2, "nosuch"), "--olny", "--only"),
        "bench journal": (["--modes=nosuch"], has(2, "'nosuch'"), "--mdoes", "--modes"),
        "bench pipeline": (["--events=0"], has(2, "'0'"), "--evnets", "--events"),
        "bench replay": (["--tape=0"], has(2, "got '0'"), "--tpae", "--tape"),
    }


def check_mistyped(words, typo, meant):
    cmd = "fks " + words
    p = fks(*words.split(), typo)
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check(p.returncode == 2, "%s %s: exit 2" % (cmd, typo), "rc %d\n%s" % (p.returncode, p.stderr))
    check(first == "%s: unknown option '%s'; did you mean %s?" % (cmd, typo, meant),
          "%s %s: the prefix and the suggestion" % (cmd, typo), p.stderr)
    check(p.stderr.endswith("Try '%s --help'.\n" % cmd) and "usage:" not in p.stderr,
          "%s %s: one hint line, not the usage" % (cmd, typo), p.stderr)


def check_help(words):
    via_help, direct = fks("help", *words.split()), fks(*words.split(), "--help")
    check(via_help.returncode == 0 and direct.returncode == 0 and via_help.stdout == direct.stdout
          and "usage: fks " + words in direct.stdout,
          "fks help %s prints fks %s --help" % (words, words),
          "rc %d/%d\n%s---\n%s" % (via_help.returncode, direct.returncode, via_help.stdout, direct.stdout))


def check_unknown_commands():
    for words, meant, group in (("replya", "replay", "fks"), ("journal stast", "stats", "fks journal"),
                                ("bench rign", "ring", "fks bench"), ("sattus", "status", "fks")):
        p = fks(*words.split())
        check(p.returncode == 2 and ("did you mean '%s'?" % meant) in p.stderr
              and p.stderr.startswith(group + ": unknown command")
              and p.stderr.endswith("Try '%s --help'.\n" % group),
              "fks %s suggests %s" % (words, meant), "rc %d\n%s" % (p.returncode, p.stderr))
    p = fks("frobnicate")
    check(p.returncode == 2 and "did you mean" not in p.stderr, "a far-off command gets no suggestion", p.stderr)
    p = fks("replay", "--input")
    check(p.returncode == 2 and p.stderr.startswith("fks replay: --input needs a value"),
          "a missing value: exit 2, fks replay: prefix", p.stderr)
    p = fks("feed", "decode", "--venue=itch", ITCH, "--book=x")
    check(p.returncode == 2 and p.stderr.startswith("fks feed decode: --book"), "a bad value: exit 2", p.stderr)


def main():
    with tempfile.TemporaryDirectory(prefix="fks-cli-") as tmp:
        run, journal, prefix, config = make_fixtures(tmp)
        check(os.path.isdir(journal) and ("prefix '%s'" % prefix) in run.stderr,
              "fks run --events=N --prefix=P --journal=DIR: the run used P and DIR", run.stderr)
        check_mistyped("run", "--evnets", "--events")
        check_help("run")
        for words, (argv, ok, typo, meant) in cases(run, journal, prefix, config, tmp).items():
            p = fks(*words.split(), *argv)
            try:
                good = bool(ok(p))
            except (ValueError, IndexError):
                good = False
            check(good, "fks %s %s" % (words, " ".join(argv)),
                  "rc %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout[:800], p.stderr[:800]))
            check_mistyped(words, typo, meant)
            check_help(words)
        for group in ("journal", "feed", "config", "bench", "notify"):
            via_help, direct = fks("help", group), fks(group, "--help")
            check(via_help.returncode == 0 and via_help.stdout == direct.stdout, "fks help %s" % group)
        check_unknown_commands()
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
