/* Plug-in parameters: the error every seam reports and the parsers they share. */
#include "shm/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shm/fixed.h"

int fks_param_fail(struct fks_param_error *err, const char *key, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->key = key;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int fks_param_unknown(const struct fks_param *p, const char *valid, struct fks_param_error *err)
{
	return fks_param_fail(err, p->key, "unknown parameter; valid: %s", valid);
}

int fks_param_u32(const struct fks_param *p, uint32_t lo, uint32_t hi, uint32_t *out,
		  struct fks_param_error *err)
{
	const char *s = p->value ? p->value : "";
	int64_t v;
	int rc = fx_parse(s, strlen(s), 0, &v);

	/* fx_parse at scale 0 takes "5.0"; an integer key does not. */
	if (rc != FX_OK || strchr(s, '.'))
		return fks_param_fail(err, p->key, "\"%s\": expected an integer", s);
	if (v < lo || v > hi)
		return fks_param_fail(err, p->key, "%s is out of range: expected %u..%u", s, lo, hi);
	*out = (uint32_t)v;
	return 0;
}
