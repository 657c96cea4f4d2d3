/*
 * `fks doctor`: is this host set up for low-latency operation?  Each check
 * reads /proc and /sys (under --root, so tests can hand it a fabricated
 * tree), and says ok, warn or fail, what it saw, what to change and why.
 * The host is fit when nothing fails; a warning costs latency in some
 * layouts but does not rule the host out.
 */
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/options.h"
#include "pipeline/runtime/run.h"

#define CPUS_MAX 1024
#define OBSERVED_MAX 512

enum verdict { V_OK, V_WARN, V_FAIL };
static const char *const verdict_name[] = { "ok", "warn", "fail" };

struct cpuset {
	uint64_t bit[CPUS_MAX / 64];
};

struct doctor {
	const char *root;
	const char *nic;   /* NULL: every interface with a device */
	char cmdline[4096];
	struct cpuset isolated;
	bool any_isolated;
};

struct result {
	const char *name;
	enum verdict v;
	char observed[OBSERVED_MAX];
	const char *change; /* NULL when ok */
	const char *why;
};

/* ---- reading the tree ------------------------------------------------------ */

/* ROOT/path into buf, trailing whitespace cut: false if it cannot be read. */
static bool read_at(const struct doctor *d, const char *path, char *buf, size_t cap)
{
	char full[1024];
	snprintf(full, sizeof full, "%s%s", d->root, path);
	FILE *f = fopen(full, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return true;
}

static DIR *open_dir_at(const struct doctor *d, const char *path)
{
	char full[1024];
	snprintf(full, sizeof full, "%s%s", d->root, path);
	return opendir(full);
}

/* "0-3,8,10-11" into s; false on anything else ("" is an empty set). */
static bool parse_cpulist(const char *text, struct cpuset *s)
{
	memset(s, 0, sizeof *s);
	const char *p = text;
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		if (end == p)
			return false;
		p = end;
		if (*p == '-') {
			hi = strtoul(++p, &end, 10);
			if (end == p)
				return false;
			p = end;
		}
		if (hi < lo || hi >= CPUS_MAX)
			return false;
		for (unsigned long c = lo; c <= hi; c++)
			s->bit[c / 64] |= 1ull << (c % 64);
		if (*p == ',')
			p++;
		else if (*p)
			return false;
	}
	return true;
}

static bool cpuset_empty(const struct cpuset *s)
{
	for (size_t i = 0; i < CPUS_MAX / 64; i++)
		if (s->bit[i])
			return false;
	return true;
}

static bool cpuset_meets(const struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < CPUS_MAX / 64; i++)
		if (a->bit[i] & b->bit[i])
			return true;
	return false;
}

static bool cpuset_covers(const struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < CPUS_MAX / 64; i++)
		if ((a->bit[i] & b->bit[i]) != b->bit[i])
			return false;
	return true;
}

/* The value of `key=` on the kernel command line, or NULL. */
static const char *cmdline_value(const struct doctor *d, const char *key, char *buf, size_t cap)
{
	size_t klen = strlen(key);
	for (const char *p = d->cmdline; *p;) {
		size_t n = strcspn(p, " ");
		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, cap, "%.*s", (int)(n - klen - 1), p + klen + 1);
			return buf;
		}
		p += n;
		p += strspn(p, " ");
	}
	return NULL;
}

static void appendf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	if (n < cap)
		vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* ---- the checks ------------------------------------------------------------ */

static void check_isolated(const struct doctor *d, struct result *r)
{
	char text[256];
	r->why = "a runner that spins must own its core: the scheduler, kernel threads and other processes put on "
		 "an isolated core only when pinned there, so nothing preempts the hot path";
	r->change = "boot with isolcpus=managed_irq,domain,2-3 (the runners' cores; keep core 0 for the OS), "
		    "then pin the runners there in the config";
	if (d->any_isolated) {
		read_at(d, "/sys/devices/system/cpu/isolated", text, sizeof text);
		snprintf(r->observed, sizeof r->observed, "isolated cores: %s", text);
		r->v = V_OK;
		r->change = NULL;
		return;
	}
	snprintf(r->observed, sizeof r->observed, "no isolated cores (/sys/devices/system/cpu/isolated is empty)");
	r->v = V_FAIL;
}

static void check_nohz(const struct doctor *d, struct result *r)
{
	char text[256] = "", arg[256];
	struct cpuset nohz;
	bool have = read_at(d, "/sys/devices/system/cpu/nohz_full", text, sizeof text) && strcmp(text, "(null)") &&
		    text[0];
	if (!have && cmdline_value(d, "nohz_full", arg, sizeof arg))
		snprintf(text, sizeof text, "%s", arg), have = true;
	r->why = "without nohz_full the scheduler tick interrupts every core about 1000 times a second, a few "
		 "microseconds each, even on an isolated core that runs one spinning thread";
	r->change = "boot with nohz_full=<the isolated cores> (and rcu_nocbs=<the same>)";
	if (!have || !parse_cpulist(text, &nohz) || cpuset_empty(&nohz)) {
		snprintf(r->observed, sizeof r->observed, "no nohz_full cores");
		r->v = V_WARN;
		return;
	}
	snprintf(r->observed, sizeof r->observed, "nohz_full: %s", text);
	if (d->any_isolated && !cpuset_covers(&nohz, &d->isolated)) {
		appendf(r->observed, sizeof r->observed, " (not every isolated core)");
		r->v = V_WARN;
		return;
	}
	r->v = V_OK;
	r->change = NULL;
}

/* Every cpuN with a cpufreq governor: ok when all say "performance". */
static void check_governor(const struct doctor *d, struct result *r)
{
	r->why = "powersave and schedutil lower the clock of an idle-looking core; the first events after a quiet "
		 "spell then run slower, and a frequency change stalls the core for tens of microseconds";
	r->change = "cpupower frequency-set -g performance (or write performance to "
		    "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor), and make it persistent";
	DIR *dir = open_dir_at(d, "/sys/devices/system/cpu");
	int seen = 0, bad = 0;
	r->observed[0] = '\0';
	for (struct dirent *e; dir && (e = readdir(dir));) {
		if (strncmp(e->d_name, "cpu", 3) || !isdigit((unsigned char)e->d_name[3]))
			continue;
		char path[320], gov[64];
		snprintf(path, sizeof path, "/sys/devices/system/cpu/%s/cpufreq/scaling_governor", e->d_name);
		if (!read_at(d, path, gov, sizeof gov))
			continue;
		seen++;
		if (strcmp(gov, "performance")) {
			bad++;
			appendf(r->observed, sizeof r->observed, "%s%s: %s", bad > 1 ? ", " : "", e->d_name, gov);
		}
	}
	if (dir)
		closedir(dir);
	if (!seen) {
		snprintf(r->observed, sizeof r->observed, "no cpufreq governor (fixed frequency, or a VM)");
		r->v = V_OK;
		r->change = NULL;
	} else if (bad) {
		r->v = V_FAIL;
	} else {
		snprintf(r->observed, sizeof r->observed, "performance on all %d cores", seen);
		r->v = V_OK;
		r->change = NULL;
	}
}

static void check_thp(const struct doctor *d, struct result *r)
{
	char text[128];
	r->why = "with THP always, khugepaged compacts and collapses pages behind the pipeline's back, and a "
		 "page fault can stall for a compaction: milliseconds at random";
	r->change = "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (or boot with "
		    "transparent_hugepage=madvise)";
	if (!read_at(d, "/sys/kernel/mm/transparent_hugepage/enabled", text, sizeof text)) {
		snprintf(r->observed, sizeof r->observed, "no transparent huge pages in this kernel");
		r->v = V_OK;
		r->change = NULL;
		return;
	}
	snprintf(r->observed, sizeof r->observed, "%s", text);
	r->v = strstr(text, "[always]") ? V_WARN : V_OK;
	if (r->v == V_OK)
		r->change = NULL;
}

static void check_hugepages(const struct doctor *d, struct result *r)
{
	char text[8192];
	long total = -1;
	if (read_at(d, "/proc/meminfo", text, sizeof text)) {
		const char *p = strstr(text, "HugePages_Total:");
		if (p)
			total = strtol(p + strlen("HugePages_Total:"), NULL, 10);
	}
	r->why = "the DPDK feed needs reserved huge pages, and reserving them at boot is the only way to get them "
		 "once memory is fragmented";
	r->change = "reserve them: vm.nr_hugepages=1024 in /etc/sysctl.d/ (or hugepages=1024 at boot)";
	if (total < 0) {
		snprintf(r->observed, sizeof r->observed, "/proc/meminfo has no HugePages_Total");
		r->v = V_WARN;
		return;
	}
	snprintf(r->observed, sizeof r->observed, "%ld huge pages reserved", total);
	r->v = total > 0 ? V_OK : V_WARN;
	if (r->v == V_OK)
		r->change = NULL;
}

static void check_clocksource(const struct doctor *d, struct result *r)
{
	char text[64];
	r->why = "every event is timestamped with clock_gettime; with tsc it is a vDSO read of a few ns, with "
		 "hpet or acpi_pm a system call of a microsecond or more";
	r->change = "boot with clocksource=tsc tsc=reliable on hardware with an invariant TSC (constant_tsc "
		    "nonstop_tsc in /proc/cpuinfo)";
	if (!read_at(d, "/sys/devices/system/clocksource/clocksource0/current_clocksource", text, sizeof text)) {
		snprintf(r->observed, sizeof r->observed, "cannot read the current clocksource");
		r->v = V_WARN;
		return;
	}
	snprintf(r->observed, sizeof r->observed, "clocksource %s", text);
	if (!strcmp(text, "tsc")) {
		r->v = V_OK;
		r->change = NULL;
	} else {
		/* kvm-clock is read in the vDSO too: slower than tsc, not a syscall. */
		r->v = !strcmp(text, "kvm-clock") ? V_WARN : V_FAIL;
	}
}

/* cpuN's enabled idle states deeper than C1, appended to out as "C6 (exit
 * latency 133 us)"; their count, or -1 when cpuN has no cpuidle directory. */
static int deep_cstates(const struct doctor *d, unsigned cpu, char *out, size_t cap)
{
	char dirpath[96];
	snprintf(dirpath, sizeof dirpath, "/sys/devices/system/cpu/cpu%u/cpuidle", cpu);
	DIR *dir = open_dir_at(d, dirpath);
	if (!dir)
		return -1;
	int deep = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		if (strncmp(e->d_name, "state", 5))
			continue;
		char path[400], name[64] = "", latency[32] = "", disabled[8] = "0";
		snprintf(path, sizeof path, "%s/%s/name", dirpath, e->d_name);
		read_at(d, path, name, sizeof name);
		snprintf(path, sizeof path, "%s/%s/latency", dirpath, e->d_name);
		read_at(d, path, latency, sizeof latency);
		snprintf(path, sizeof path, "%s/%s/disable", dirpath, e->d_name);
		read_at(d, path, disabled, sizeof disabled);
		if (!strcmp(disabled, "1") || !strcmp(name, "POLL") || !strcmp(name, "C1") || atoi(latency) <= 2)
			continue;
		appendf(out, cap, "%s%s (exit latency %s us)", deep++ ? ", " : "", name, latency);
	}
	closedir(dir);
	return deep;
}

/* Deep C-states, as the idle driver registered them in sysfs: on the
 * isolated cores (the runners'), or cpu0 when none are.  sysfs is the
 * truth; the command line only when there is no cpuidle driver, because a
 * limit there can miss: intel_idle.max_cstate=0 turns intel_idle off and
 * hands idle to acpi_idle, deep states and all, and intel_idle.* does
 * nothing on AMD. */
static void check_cstates(const struct doctor *d, struct result *r)
{
	char arg[32];
	r->why = "a core that sleeps in a deep C-state takes tens to hundreds of microseconds to wake for the next "
		 "packet; spinning runners stay awake, parked and backoff ones do not";
	r->change = "boot with intel_idle.max_cstate=1 processor.max_cstate=1 (not intel_idle.max_cstate=0, which "
		    "hands idle to acpi_idle and its deep states), or disable the deep states in "
		    "/sys/devices/system/cpu/cpu*/cpuidle/state*/disable";
	r->observed[0] = '\0';
	bool any_driver = false;
	for (unsigned cpu = 0; cpu < CPUS_MAX; cpu++) {
		bool look = d->any_isolated ? (d->isolated.bit[cpu / 64] >> (cpu % 64)) & 1 : cpu == 0;
		if (!look)
			continue;
		char states[OBSERVED_MAX - 64] = "";
		int deep = deep_cstates(d, cpu, states, sizeof states);
		any_driver |= deep >= 0;
		if (deep > 0) {
			snprintf(r->observed, sizeof r->observed, "deep C-states enabled on cpu%u: %s", cpu, states);
			r->v = V_WARN;
			return;
		}
	}
	r->v = V_OK;
	r->change = NULL;
	if (any_driver) {
		snprintf(r->observed, sizeof r->observed, "no deep C-state enabled on the %s",
			 d->any_isolated ? "isolated cores" : "cpu0");
		return;
	}
	const char *limit = cmdline_value(d, "intel_idle.max_cstate", arg, sizeof arg);
	if (!limit)
		limit = cmdline_value(d, "processor.max_cstate", arg, sizeof arg);
	if (cmdline_value(d, "idle", arg, sizeof arg) && !strcmp(arg, "poll"))
		snprintf(r->observed, sizeof r->observed, "idle=poll on the kernel command line");
	else if (limit)
		snprintf(r->observed, sizeof r->observed, "no cpuidle driver; max_cstate %s on the command line", limit);
	else
		snprintf(r->observed, sizeof r->observed, "no cpuidle driver (the kernel's default idle: halt, C1)");
}

/* The NIC's MSI interrupts (sys/class/net/IF/device/msi_irqs): none may
 * land on an isolated core. */
static void check_nic_irqs(const struct doctor *d, struct result *r)
{
	r->why = "a NIC interrupt served on a runner's core preempts the hot path for every packet batch; "
		 "interrupts belong on the housekeeping cores";
	r->change = "write the housekeeping cores to /proc/irq/<n>/smp_affinity_list for each of the NIC's "
		    "interrupts (and keep irqbalance off the isolated cores: IRQBALANCE_BANNED_CPULIST)";
	DIR *net = open_dir_at(d, "/sys/class/net");
	int irqs = 0, on_isolated = 0, nics = 0;
	r->observed[0] = '\0';
	for (struct dirent *e; net && (e = readdir(net));) {
		if (e->d_name[0] == '.' || (d->nic && strcmp(d->nic, e->d_name)))
			continue;
		char path[320];
		snprintf(path, sizeof path, "/sys/class/net/%s/device/msi_irqs", e->d_name);
		DIR *msi = open_dir_at(d, path);
		if (!msi)
			continue;
		nics++;
		for (struct dirent *m; (m = readdir(msi));) {
			if (!isdigit((unsigned char)m->d_name[0]))
				continue;
			char aff[256];
			struct cpuset cpus;
			snprintf(path, sizeof path, "/proc/irq/%s/smp_affinity_list", m->d_name);
			if (!read_at(d, path, aff, sizeof aff) || !parse_cpulist(aff, &cpus))
				continue;
			irqs++;
			if (d->any_isolated && cpuset_meets(&cpus, &d->isolated))
				appendf(r->observed, sizeof r->observed, "%sirq %s of %s on cores %s", on_isolated++ ? ", " : "",
					m->d_name, e->d_name, aff);
		}
		closedir(msi);
	}
	if (net)
		closedir(net);
	if (on_isolated) {
		r->v = V_FAIL;
		return;
	}
	if (!irqs) {
		if (d->nic)
			snprintf(r->observed, sizeof r->observed, "no MSI interrupts found for %s", d->nic);
		else
			snprintf(r->observed, sizeof r->observed, "no NIC with MSI interrupts found (a VM, or no PCI NIC)");
		r->v = d->nic ? V_WARN : V_OK;
		if (r->v == V_OK)
			r->change = NULL;
		return;
	}
	if (!d->any_isolated) {
		snprintf(r->observed, sizeof r->observed, "%d interrupts of %d NICs; no isolated cores to keep them off",
			 irqs, nics);
		r->v = V_WARN;
		return;
	}
	snprintf(r->observed, sizeof r->observed, "%d interrupts of %d NICs, none on an isolated core", irqs, nics);
	r->v = V_OK;
	r->change = NULL;
}

static void check_swap(const struct doctor *d, struct result *r)
{
	char text[4096];
	r->why = "a page of a stage that was swapped out costs a disk read, milliseconds, when it is touched "
		 "again; the runners do not lock their memory";
	r->change = "swapoff -a and remove swap from /etc/fstab (or set vm.swappiness=0 at least)";
	int n = 0;
	if (read_at(d, "/proc/swaps", text, sizeof text))
		for (const char *p = strchr(text, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
			n++;
	if (n) {
		snprintf(r->observed, sizeof r->observed, "%d swap area%s active", n, n == 1 ? "" : "s");
		r->v = V_WARN;
		return;
	}
	snprintf(r->observed, sizeof r->observed, "no swap");
	r->v = V_OK;
	r->change = NULL;
}

/* ---- the command ------------------------------------------------------------- */

static void (*const checks[])(const struct doctor *, struct result *) = {
	check_isolated, check_nohz, check_governor, check_thp, check_hugepages,
	check_clocksource, check_cstates, check_nic_irqs, check_swap,
};
static const char *const check_names[] = {
	"isolated_cores", "nohz_full", "cpu_governor", "transparent_hugepages", "hugepages",
	"clocksource", "c_states", "nic_irq_affinity", "swap",
};
#define N_CHECKS (sizeof checks / sizeof checks[0])

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void print_json(const struct doctor *d, const struct result *r, bool fit)
{
	printf("{\"root\":");
	json_str(stdout, d->root[0] ? d->root : "/");
	printf(",\"fit\":%s,\"checks\":[", fit ? "true" : "false");
	for (size_t i = 0; i < N_CHECKS; i++) {
		printf("%s{\"name\":\"%s\",\"status\":\"%s\",\"observed\":", i ? "," : "", r[i].name,
		       verdict_name[r[i].v]);
		json_str(stdout, r[i].observed);
		printf(",\"change\":");
		if (r[i].change)
			json_str(stdout, r[i].change);
		else
			printf("null");
		printf(",\"why\":");
		json_str(stdout, r[i].why);
		printf("}");
	}
	printf("]}\n");
}

static void print_text(const struct doctor *d, const struct result *r, int fails, int warns)
{
	printf("fks doctor: this host for low-latency operation (root %s)\n", d->root[0] ? d->root : "/");
	for (size_t i = 0; i < N_CHECKS; i++) {
		printf("  %-4s  %-22s %s\n", r[i].v == V_FAIL ? "FAIL" : verdict_name[r[i].v], r[i].name, r[i].observed);
		if (r[i].change) {
			printf("        change: %s\n", r[i].change);
			printf("        why:    %s\n", r[i].why);
		}
	}
	printf("%s: %d fail, %d warn, %zu ok\n", fails ? "not fit" : "fit", fails, warns,
	       N_CHECKS - (size_t)fails - (size_t)warns);
}

static void usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks doctor [--root DIR] [--nic IFACE] [--json]\n"
		"\n"
		"Check this host for low-latency operation: isolated cores, nohz_full, the CPU\n"
		"frequency governor, transparent huge pages, reserved huge pages, the\n"
		"clocksource, C-states, the NIC's interrupt affinity and swap.  Each check says\n"
		"ok, warn or fail, what it saw, and for warn and fail what to change and why.\n"
		"It only reads /proc and /sys; it changes nothing.\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out, "\nExit status: 0 fit (no check fails; warnings allowed), 1 not fit, 2 usage error.\n");
}

int doctor_main(int argc, char **argv)
{
	static struct doctor d = { .root = "" };
	const char *root = NULL;
	bool json = false;
	const struct opt opts[] = {
		{ .name = "root", .kind = OPT_STRING, .dest = &root, .arg = "DIR",
		  .help = "read proc/ and sys/ under DIR instead of / (tests)" },
		{ .name = "nic", .kind = OPT_STRING, .dest = &d.nic, .arg = "IFACE",
		  .help = "check this interface's interrupts only\n(default: every interface with a device)" },
		{ .name = "json", .kind = OPT_FLAG, .dest = &json, .help = "print one JSON object" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks doctor", .help_col = 18, .opts = opts };
	int code, npos = opts_parse_or_usage(&table, argc, argv, usage, &code);
	if (npos < 0)
		return code;
	if (npos > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	if (root) {
		DIR *dir = opendir(root);
		if (!dir) {
			fprintf(stderr, "fks doctor: --root: %s is not a readable directory\n", root);
			return 2;
		}
		closedir(dir);
		d.root = strcmp(root, "/") ? root : "";
	}
	char isolated[256];
	read_at(&d, "/proc/cmdline", d.cmdline, sizeof d.cmdline);
	d.any_isolated = read_at(&d, "/sys/devices/system/cpu/isolated", isolated, sizeof isolated) &&
			 parse_cpulist(isolated, &d.isolated) && !cpuset_empty(&d.isolated);
	struct result r[N_CHECKS];
	int fails = 0, warns = 0;
	for (size_t i = 0; i < N_CHECKS; i++) {
		r[i] = (struct result){ .name = check_names[i] };
		checks[i](&d, &r[i]);
		fails += r[i].v == V_FAIL;
		warns += r[i].v == V_WARN;
	}
	if (json)
		print_json(&d, r, fails == 0);
	else
		print_text(&d, r, fails, warns);
	return fails ? 1 : 0;
}
