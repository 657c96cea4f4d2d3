#!/usr/bin/env python3
"""`fks doctor` (issue 16) against fabricated /proc and /sys trees: a fit
host where every check is ok (exit 0), then, one at a time, each check
turned bad (its status becomes warn or fail, the others stay ok, and a
fail makes the exit status 1), and back.  Then once on this host: it runs,
prints every check, and its JSON parses.  Usage errors exit 2.

Usage: test_doctor.py (FKS_BIN names the fks executable).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

FKS = os.environ.get("FKS_BIN", "build/fks")
CHECKS = ["isolated_cores", "nohz_full", "cpu_governor", "transparent_hugepages", "hugepages", "clocksource",
          "c_states", "nic_irq_affinity", "swap"]

FIT = {
    "proc/cmdline": "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=2-3 nohz_full=2-3 intel_idle.max_cstate=1\n",
    "sys/devices/system/cpu/isolated": "2-3\n",
    "sys/devices/system/cpu/nohz_full": "2-3\n",
    "sys/kernel/mm/transparent_hugepage/enabled": "always [madvise] never\n",
    "proc/meminfo": "MemTotal:       16000000 kB\nHugePages_Total:    1024\nHugePages_Free:     1024\n",
    "sys/devices/system/clocksource/clocksource0/current_clocksource": "tsc\n",
    "sys/class/net/eth0/device/msi_irqs/40": "msi\n",
    "sys/class/net/eth0/device/msi_irqs/41": "msi\n",
    "proc/irq/40/smp_affinity_list": "0-1\n",
    "proc/irq/41/smp_affinity_list": "0\n",
    "proc/swaps": "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
}
for cpu in range(4):
    FIT["sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor" % cpu] = "performance\n"


def idle_states(states, cpus=range(4)):
    """cpuidle files of states [(name, exit latency us, disabled)] on cpus."""
    files = {}
    for cpu in cpus:
        for i, (name, latency, off) in enumerate(states):
            base = "sys/devices/system/cpu/cpu%d/cpuidle/state%d/" % (cpu, i)
            files[base + "name"], files[base + "latency"] = name + "\n", "%d\n" % latency
            files[base + "disable"] = "%d\n" % off
    return files


# What intel_idle.max_cstate=1 registers: C6 is disabled (the check trusts
# sysfs, not the command line).
FIT.update(idle_states([("POLL", 0, 0), ("C1", 2, 0), ("C6", 133, 1)]))

# check -> (files changed, the status expected, a word its observation must hold)
BAD = {
    "isolated_cores": ({"sys/devices/system/cpu/isolated": "\n"}, "fail", "no isolated cores"),
    "nohz_full": ({"sys/devices/system/cpu/nohz_full": "(null)\n",
                   "proc/cmdline": "root=/dev/sda1 isolcpus=2-3 intel_idle.max_cstate=1\n"}, "warn", "no nohz_full"),
    "cpu_governor": ({"sys/devices/system/cpu/cpu1/cpufreq/scaling_governor": "powersave\n"}, "fail",
                     "cpu1: powersave"),
    "transparent_hugepages": ({"sys/kernel/mm/transparent_hugepage/enabled": "[always] madvise never\n"}, "warn",
                              "[always]"),
    "hugepages": ({"proc/meminfo": "MemTotal: 16000000 kB\nHugePages_Total:       0\n"}, "warn", "0 huge pages"),
    "clocksource": ({"sys/devices/system/clocksource/clocksource0/current_clocksource": "hpet\n"}, "fail", "hpet"),
    "c_states": (dict(idle_states([("POLL", 0, 0), ("C1", 2, 0), ("C6", 133, 0)], [2, 3]),
                      **{"proc/cmdline": "root=/dev/sda1 isolcpus=2-3 nohz_full=2-3\n"}), "warn",
                 "cpu2: C6 (exit latency 133 us)"),
    "nic_irq_affinity": ({"proc/irq/41/smp_affinity_list": "3\n"}, "fail", "irq 41 of eth0 on cores 3"),
    "swap": ({"proc/swaps": FIT["proc/swaps"] + "/swapfile file 1048572 0 -2\n"}, "warn", "1 swap area active"),
}


def write_tree(root, files):
    shutil.rmtree(root, ignore_errors=True)
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def doctor(*args):
    return subprocess.run([FKS, "doctor"] + list(args), capture_output=True, text=True, timeout=60)


def report(root):
    p = doctor("--root", root, "--json")
    return p.returncode, {c["name"]: c for c in json.loads(p.stdout)["checks"]}, json.loads(p.stdout)["fit"]


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(what + ("\n" + str(detail) if detail else ""))


def main():
    scratch = tempfile.mkdtemp(prefix="fks-doctor-")
    try:
        root = os.path.join(scratch, "host")
        write_tree(root, FIT)
        rc, checks, fit = report(root)
        check(rc == 0 and fit, "the fit tree is fit", checks)
        check(list(checks) == CHECKS, "every check, in order", list(checks))
        bad = [n for n, c in checks.items() if c["status"] != "ok"]
        check(not bad, "every check ok on the fit tree", [checks[n] for n in bad])
        text = doctor("--root", root)
        check(text.returncode == 0 and "fit: 0 fail, 0 warn, 9 ok" in text.stdout, "the text says fit", text.stdout)
        for name, (changes, status, word) in BAD.items():
            files = dict(FIT)
            files.update(changes)
            write_tree(root, files)
            rc, checks, fit = report(root)
            c = checks[name]
            check(c["status"] == status, "%s: %s on its bad tree" % (name, status), c)
            check(word in c["observed"], "%s: says what it saw (%r)" % (name, word), c)
            check(c["change"] and c["why"], "%s: says what to change and why" % name, c)
            others = [n for n, o in checks.items() if n != name and o["status"] != "ok" and
                      not (name == "isolated_cores" and n == "nic_irq_affinity")]
            check(not others, "%s: the other checks stay ok" % name, [checks[n] for n in others])
            check(rc == (1 if status == "fail" else 0) and fit == (status != "fail"),
                  "%s: exit %d when it is %s" % (name, 1 if status == "fail" else 0, status), rc)
            t = doctor("--root", root)
            check(("FAIL  " if status == "fail" else "warn  ") + name in t.stdout and "change: " in t.stdout,
                  "%s: the text names it and the change" % name, t.stdout)
        files = dict(FIT)
        files.update(BAD["c_states"][0])
        for cpu in (2, 3):
            files["sys/devices/system/cpu/cpu%d/cpuidle/state2/disable" % cpu] = "1\n"
        write_tree(root, files)
        check(report(root)[1]["c_states"]["status"] == "ok", "c_states: ok once the deep state is disabled")
        # intel_idle.max_cstate=0 turns intel_idle off: acpi_idle takes over
        # with its own deep states, which a command-line check would miss.
        files = dict(FIT)
        files.update(idle_states([("POLL", 0, 0), ("C1", 1, 0), ("C2", 18, 0), ("C3", 350, 0)]))
        files["proc/cmdline"] = "root=/dev/sda1 isolcpus=2-3 nohz_full=2-3 intel_idle.max_cstate=0\n"
        write_tree(root, files)
        c = report(root)[1]["c_states"]
        check(c["status"] == "warn" and "C3 (exit latency 350 us)" in c["observed"],
              "c_states: intel_idle.max_cstate=0 with acpi_idle's deep states is a warning", c)
        # No cpuidle driver at all: the default idle (halt) is shallow.
        files = {k: v for k, v in FIT.items() if "/cpuidle/" not in k}
        write_tree(root, files)
        c = report(root)[1]["c_states"]
        check(c["status"] == "ok" and "no cpuidle driver" in c["observed"], "c_states: no cpuidle driver", c)

        real = doctor()
        check(real.returncode in (0, 1), "runs on this host (exit 0 or 1)", real.stderr)
        for name in CHECKS:
            check(name in real.stdout, "this host: prints %s" % name, real.stdout)
        real_json = json.loads(doctor("--json").stdout)
        check([c["name"] for c in real_json["checks"]] == CHECKS, "this host: the JSON has every check")
        check(real_json["fit"] == (real.returncode == 0), "this host: fit agrees with the exit status")
        print(real.stdout, end="")

        check(doctor("--root", os.path.join(scratch, "missing")).returncode == 2, "a missing --root: exit 2")
        check(doctor("extra").returncode == 2, "an argument: exit 2")
        h = doctor("--help")
        check(h.returncode == 0 and "usage: fks doctor" in h.stdout, "--help", h.stdout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("doctor: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
