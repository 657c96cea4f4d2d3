/*
 * Config loader: YAML text -> struct fks_config, or one precise error.
 *
 * Why libyaml's document API and a table-driven walker rather than libcyaml:
 * libcyaml maps a schema onto structs with a little less code, but it gives
 * positions only as free text through its log callback, it places an unknown
 * key at the line of the enclosing mapping rather than at the key, and the
 * structs it returns carry no positions at all.  Every check that needs more
 * than one value (duplicate symbols, slow > fast, a limit that is not exact
 * at some instrument's scale, cores) could then not name a line.  libyaml's
 * document tree keeps a mark on every node, so with one table per section
 * every error below points at the exact key or value at fault.
 *
 * Loading makes two passes over one YAML document:
 *
 *  1. walk: the field tables say, per key, its type, its range and where in
 *     struct fks_config it goes.  Syntax, types, ranges, unknown, duplicate
 *     and missing keys fail here.  The mark and key path of every stored
 *     value are recorded, keyed by the address the value went to.
 *  2. check: rules over several values (ring defaults, symbols, slow > fast,
 *     per-instrument decimals, cores) are reported at the recorded mark of
 *     the value at fault.
 *
 * The walker descends only where a table has a section, three levels at
 * most, so YAML aliases - even a recursive one - cannot make it loop.
 */
#include "pipeline/config/config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "default_config.h"

#define DEFAULT_CONFIG_NAME "(default config)"

/* ---- error reporting ------------------------------------------------------- */

void cfg_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int vfail_at(struct loader *ld, const yaml_mark_t *m, const char *path, const char *fmt,
		    va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (path && *path)
		cfg_set_err(ld->err, ld->errlen, "%s:%zu:%zu: %s: %s", ld->name, m->line + 1, m->column + 1, path, msg);
	else
		cfg_set_err(ld->err, ld->errlen, "%s:%zu:%zu: %s", ld->name, m->line + 1, m->column + 1, msg);
	return -1;
}

/* Report at a mark; returns -1 so callers can `return cfg_fail_at(...)`. */
int cfg_fail_at(struct loader *ld, const yaml_mark_t *m, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(ld, m, path, fmt, ap);
	va_end(ap);
	return -1;
}

void cfg_remember(struct loader *ld, const void *dst, const yaml_node_t *v, const char *path)
{
	if (ld->n_marks == MAX_MARKS)
		return;
	struct value_mark *vm = &ld->marks[ld->n_marks++];
	vm->dst = dst;
	vm->mark = v->start_mark;
	snprintf(vm->path, sizeof vm->path, "%s", path);
}

const struct value_mark *cfg_find_mark(const struct loader *ld, const void *dst)
{
	for (unsigned i = 0; i < ld->n_marks; i++)
		if (ld->marks[i].dst == dst)
			return &ld->marks[i];
	return NULL;
}

/* Report against the value stored at dst, at the mark it was read from.  A
 * value nobody wrote is a default; defaults are valid, but say so anyway. */
int cfg_fail_field(struct loader *ld, const void *dst, const char *fmt, ...)
{
	const struct value_mark *vm = cfg_find_mark(ld, dst);
	static const yaml_mark_t top = { 0, 0, 0 };
	va_list ap;
	va_start(ap, fmt);
	vfail_at(ld, vm ? &vm->mark : &top, vm ? vm->path : "(a default)", fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- parsing and the entry points ------------------------------------------ */

/* The reader reports invalid bytes by offset only: turn it into a mark. */
static yaml_mark_t mark_at_offset(const char *text, size_t len, size_t offset)
{
	yaml_mark_t m = { 0, 0, 0 };
	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

static int fail_yaml(struct loader *ld, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR) {
		cfg_set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	yaml_mark_t m = p->problem_mark;
	if (p->error == YAML_READER_ERROR)
		m = mark_at_offset(ld->text, ld->len, p->problem_offset);
	const char *problem = p->problem ? p->problem : "malformed document";
	if (p->context)
		return cfg_fail_at(ld, &m, NULL, "invalid YAML: %s (%s at line %zu)", problem, p->context,
			       p->context_mark.line + 1);
	return cfg_fail_at(ld, &m, NULL, "invalid YAML: %s", problem);
}

/* Load the one document of ld->text into ld->doc; a second one is an error. */
static int parse_document(struct loader *ld)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		cfg_set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld->text, ld->len);
	int rc = 0;
	if (!yaml_parser_load(&parser, &ld->doc)) {
		fail_yaml(ld, &parser);
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_document_t extra;
	if (!yaml_parser_load(&parser, &extra)) {
		rc = fail_yaml(ld, &parser);
	} else {
		if (yaml_document_get_root_node(&extra))
			rc = cfg_fail_at(ld, &extra.start_mark, NULL, "only one YAML document is allowed");
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	if (rc)
		yaml_document_delete(&ld->doc);
	return rc;
}

static void start_load(struct fks_config *out, const char *name, char *err, size_t errlen)
{
	cfg_set_defaults(out);
	snprintf(out->name, sizeof out->name, "%s", name ? name : "(config)");
	cfg_set_err(err, errlen, "%s", "");
}

/* Parse, walk and check out->text[0..text_len); with `host`, also what
 * running it needs of this host. */
static int load_text(struct fks_config *out, bool host, char *err, size_t errlen)
{
	/* ~50 KiB of marks: too much for the stack of a small thread. */
	struct loader *ld = calloc(1, sizeof *ld);
	if (!ld) {
		cfg_set_err(err, errlen, "%s: out of memory", out->name);
		return -1;
	}
	ld->name = out->name;
	ld->text = out->text;
	ld->len = out->text_len;
	ld->err = err;
	ld->errlen = errlen;
	int rc = parse_document(ld);
	if (rc == 0) {
		const yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
		static const yaml_mark_t start = { 0, 0, 0 };
		if (!root)
			rc = cfg_fail_at(ld, &start, NULL, "the config is empty");
		else
			rc = cfg_walk_mapping(ld, root, &root->start_mark, "", cfg_top_fields, (char *)out);
		if (rc == 0)
			rc = cfg_check_config(ld, out);
		if (rc == 0 && host)
			rc = cfg_check_host(ld, out);
		yaml_document_delete(&ld->doc);
	}
	free(ld);
	return rc;
}

static int fail_too_large(struct fks_config *out, char *err, size_t errlen)
{
	cfg_set_err(err, errlen, "%s: the config is larger than %d bytes", out->name, FKS_CONFIG_TEXT_MAX);
	return -1;
}

static int load_string(const char *text, size_t len, const char *name, bool host,
		       struct fks_config *out, char *err, size_t errlen)
{
	start_load(out, name, err, errlen);
	if (len > FKS_CONFIG_TEXT_MAX)
		return fail_too_large(out, err, errlen);
	if (len)
		memmove(out->text, text, len);
	out->text[len] = '\0';
	out->text_len = len;
	return load_text(out, host, err, errlen);
}

int config_load_string(const char *text, size_t len, const char *name,
		       struct fks_config *out, char *err, size_t errlen)
{
	return load_string(text, len, name, false, out, err, errlen);
}

/* Read at most FKS_CONFIG_TEXT_MAX + 1 bytes: enough to know it is too big,
 * and it bounds the read of a FIFO or a device. */
static ssize_t read_bounded(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int load_file(const char *path, bool host, struct fks_config *out, char *err, size_t errlen)
{
	char why[128];
	start_load(out, path, err, errlen);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cfg_set_err(err, errlen, "%s: cannot open: %s", out->name, strerror_r(errno, why, sizeof why));
		return -1;
	}
	ssize_t n = read_bounded(fd, out->text, FKS_CONFIG_TEXT_MAX + 1);
	int saved = errno;
	close(fd);
	if (n < 0) {
		cfg_set_err(err, errlen, "%s: cannot read: %s", out->name, strerror_r(saved, why, sizeof why));
		return -1;
	}
	if (n > FKS_CONFIG_TEXT_MAX)
		return fail_too_large(out, err, errlen);
	out->text[n] = '\0';
	out->text_len = (size_t)n;
	return load_text(out, host, err, errlen);
}

int config_load_file(const char *path, struct fks_config *out, char *err, size_t errlen)
{
	return load_file(path, false, out, err, errlen);
}

const char *config_default_text(void)
{
	return fks_default_config_yaml;
}

int config_load_default(struct fks_config *out, char *err, size_t errlen)
{
	return config_load_string(fks_default_config_yaml, fks_default_config_yaml_len,
				  DEFAULT_CONFIG_NAME, out, err, errlen);
}

int config_load_to_run(const char *path, struct fks_config *out, char *err, size_t errlen)
{
	if (path)
		return load_file(path, true, out, err, errlen);
	return load_string(fks_default_config_yaml, fks_default_config_yaml_len, DEFAULT_CONFIG_NAME, true, out,
			   err, errlen);
}
