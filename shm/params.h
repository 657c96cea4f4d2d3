/*
 * Plug-in parameters: the text key/value pairs a strategy, a venue or a risk
 * rule is initialised from (straight from the config, or `fks replay
 * --sweep`), the error that names the key a plug-in refused, and the parsers
 * they share.
 *
 * Every plug-in parses and range-checks its own keys, so the config loader
 * knows none of them; what it needs back is the exact key at fault (which it
 * maps to its file, line and column) and a sentence.  That contract is
 * struct fks_param_error, the same for every seam.
 */
#ifndef FKS_SHM_PARAMS_H
#define FKS_SHM_PARAMS_H

#include <stdint.h>

struct fks_param {
	const char *key;
	const char *value;       /* as written in the config, NUL-terminated */
};

/* Why init refused: the key at fault (NULL when none) and a sentence. */
struct fks_param_error {
	const char *key;
	char msg[160];
};

/* Fill *err (key may be NULL; err may be NULL, to only return) and return
 * -1.  The sentence is truncated to fit msg. */
int fks_param_fail(struct fks_param_error *err, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* -1 naming p->key, "unknown parameter; valid: <valid>" (valid lists the
 * keys the plug-in takes, as it wants them shown: "limit", "(none)"). */
int fks_param_unknown(const struct fks_param *p, const char *valid, struct fks_param_error *err);

/*
 * An integer in [lo, hi], written in decimal: an optional sign and digits
 * (the shm/fixed.h grammar at scale 0, without a '.': "7", "+7", "007"; "-0"
 * is 0).  0 and *out, or -1 with err naming p->key and *out untouched:
 *   not an integer ("", "abc", "5x", "1.0", " 5", or past int64):
 *       "\"<text>\": expected an integer"
 *   outside [lo, hi]:  "<text> is out of range: expected <lo>..<hi>"
 * A NULL value reads as "".  The wording is the config loader's own for its
 * numbers, so a refused plug-in number reads like any other.
 */
int fks_param_u32(const struct fks_param *p, uint32_t lo, uint32_t hi, uint32_t *out,
		  struct fks_param_error *err);

#endif
