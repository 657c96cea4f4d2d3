/* Shared JSON venue parsing (json.h).  The only file that compiles jsmn. */
#ifndef JSMN_STATIC   /* meson's jsmn dependency defines it too */
#define JSMN_STATIC
#endif
#define JSMN_STRICT
/* Without parent links jsmn finds the enclosing container by scanning back
 * over every token at each ',' and closing bracket: quadratic in a
 * 500-level book. */
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "feeds/decoders/json.h"
#include "shm/fixed.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

/* json_tok is what jsmn writes, seen through our own header so that only
 * this file includes jsmn.h. */
_Static_assert(sizeof(struct json_tok) == sizeof(jsmntok_t), "json_tok mirrors jsmntok_t");
_Static_assert(offsetof(struct json_tok, start) == offsetof(jsmntok_t, start), "start");
_Static_assert(offsetof(struct json_tok, end) == offsetof(jsmntok_t, end), "end");
_Static_assert(offsetof(struct json_tok, size) == offsetof(jsmntok_t, size), "size");
_Static_assert(offsetof(struct json_tok, parent) == offsetof(jsmntok_t, parent), "parent");
_Static_assert((int)JSON_OBJECT == (int)JSMN_OBJECT && (int)JSON_ARRAY == (int)JSMN_ARRAY &&
	       (int)JSON_STRING == (int)JSMN_STRING && (int)JSON_PRIMITIVE == (int)JSMN_PRIMITIVE,
	       "types");

static const char *const err_names[JSON_E_COUNT_] = {
	[0] = "ok",
	[-JSON_E_TRUNCATED] = "truncated",
	[-JSON_E_BAD_JSON] = "bad_json",
	[-JSON_E_BAD_UTF8] = "bad_utf8",
	[-JSON_E_MISSING_FIELD] = "missing_field",
	[-JSON_E_WRONG_TYPE] = "wrong_type",
	[-JSON_E_BAD_NUMBER] = "bad_number",
	[-JSON_E_NUMBER_OVERFLOW] = "number_overflow",
	[-JSON_E_PRECISION] = "precision",
	[-JSON_E_TOO_MANY_TOKENS] = "too_many_tokens",
	[-JSON_E_UNKNOWN_SYMBOL] = "unknown_symbol",
	[-JSON_E_UNKNOWN_TYPE] = "unknown_type",
	[-JSON_E_BAD_VALUE] = "bad_value",
	[-JSON_E_BOOK_FULL] = "book_full",
	[-JSON_E_GAP] = "gap",
	[-JSON_E_NOT_SYNCED] = "not_synced",
	[-JSON_E_BUFFER_FULL] = "buffer_full",
	[-JSON_E_CHECKSUM] = "checksum",
	[-JSON_E_TOO_LONG] = "too_long",
	[-JSON_E_STALE_UPDATE] = "stale_update",
	[-JSON_E_TOO_MANY_BOOKS] = "too_many_books",
};

const char *json_err_name(int err)
{
	if (err > 0 || err <= -JSON_E_COUNT_ || !err_names[-err])
		return "unknown";
	return err_names[-err];
}

void json_counters_init(struct named_counter *c)
{
	for (int i = 0; i < JSON_E_COUNT_; i++)
		c[i] = (struct named_counter){ .name = err_names[i], .n = 0 };
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * jsmn checks brackets and strings but not the shape around them.  Walk the
 * tree once: object members must be string keys holding exactly one value,
 * values must not themselves act as keys, and nesting stays shallow.
 * Returns the index after the value at i, or -1.
 */
static int check_value(const jsmntok_t *t, int n, int i, int depth)
{
	if (i >= n || depth > JSON_MAX_DEPTH)
		return -1;
	switch (t[i].type) {
	case JSMN_STRING:
	case JSMN_PRIMITIVE:
		return t[i].size == 0 ? i + 1 : -1;
	case JSMN_ARRAY: {
		int j = i + 1;
		for (int k = 0; k < t[i].size && j >= 0; k++)
			j = check_value(t, n, j, depth + 1);
		return j;
	}
	case JSMN_OBJECT: {
		int j = i + 1;
		for (int k = 0; k < t[i].size && j >= 0; k++) {
			if (j >= n || t[j].type != JSMN_STRING || t[j].size != 1)
				return -1;
			j = check_value(t, n, j + 1, depth + 1);
		}
		return j;
	}
	default:
		return -1;
	}
}

int json_parse(struct json_doc *d, const char *js, size_t len, struct json_tok *tok, int cap)
{
	jsmn_parser p;

	d->js = js;
	d->len = len;
	d->tok = tok;
	d->n = 0;
	if (len > JSON_MAX_LEN)
		return JSON_E_TOO_LONG;
	/* jsmn stops at a NUL as if the text ended there: a NUL is never
	 * valid JSON outside a string, and inside one it must be escaped. */
	if (memchr(js, '\0', len))
		return JSON_E_BAD_JSON;

	size_t lo = 0;
	while (lo < len && is_ws(js[lo]))
		lo++;
	if (lo == len)
		return JSON_E_TRUNCATED;
	if (js[lo] != '{' && js[lo] != '[')
		return JSON_E_BAD_JSON;

	/* Read back through the type jsmn wrote, here where jsmn may be
	 * inlined; callers read json_tok in other functions. */
	jsmntok_t *jt = (jsmntok_t *)(void *)tok;

	if (cap <= 0)
		return JSON_E_TOO_MANY_TOKENS;
	jsmn_init(&p);
	int r = jsmn_parse(&p, js, len, jt, (unsigned)cap);
	if (r == JSMN_ERROR_NOMEM)
		return JSON_E_TOO_MANY_TOKENS;
	if (r == JSMN_ERROR_PART)
		return JSON_E_TRUNCATED;
	if (r < 0)
		return JSON_E_BAD_JSON;
	if (r == 0)
		return JSON_E_TRUNCATED;

	/* One value, then only whitespace. */
	if (check_value(jt, r, 0, 0) != r)
		return JSON_E_BAD_JSON;
	for (size_t i = (size_t)jt[0].end; i < len; i++)
		if (!is_ws(js[i]))
			return JSON_E_BAD_JSON;
	d->n = r;
	return JSON_OK;
}

int json_next(const struct json_doc *d, int i)
{
	/* Everything inside a container starts before the container ends. */
	int end = d->tok[i].end;
	int j = i + 1;

	while (j < d->n && d->tok[j].start < end)
		j++;
	return j;
}

static bool tok_is(const struct json_doc *d, int i, const char *s, size_t n)
{
	const struct json_tok *t = &d->tok[i];

	return (size_t)(t->end - t->start) == n && memcmp(d->js + t->start, s, n) == 0;
}

int json_get(const struct json_doc *d, int obj, const char *key)
{
	if (obj < 0 || obj >= d->n || d->tok[obj].type != JSON_OBJECT)
		return -1;
	size_t n = strlen(key);
	int j = obj + 1;

	for (int k = 0; k < d->tok[obj].size; k++) {
		if (tok_is(d, j, key, n))
			return j + 1;
		j = json_next(d, j + 1);
	}
	return -1;
}

int json_need(const struct json_doc *d, int obj, const char *key, int type)
{
	int v = json_get(d, obj, key);

	if (v < 0)
		return JSON_E_MISSING_FIELD;
	return d->tok[v].type == type ? v : JSON_E_WRONG_TYPE;
}

bool json_eq(const struct json_doc *d, int i, const char *s)
{
	return i >= 0 && i < d->n && d->tok[i].type == JSON_STRING && tok_is(d, i, s, strlen(s));
}

bool json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	while (p < e) {
		unsigned c = *p;

		if (c < 0x80) {
			p++;
			continue;
		}
		size_t n;
		unsigned lo = 0x80, hi = 0xbf;   /* range of the second byte */

		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			if (c == 0xe0)
				lo = 0xa0;       /* overlong */
			else if (c == 0xed)
				hi = 0x9f;       /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			if (c == 0xf0)
				lo = 0x90;       /* overlong */
			else if (c == 0xf4)
				hi = 0x8f;       /* above U+10FFFF */
		} else {
			return false;
		}
		if ((size_t)(e - p) < n || p[1] < lo || p[1] > hi)
			return false;
		for (size_t k = 2; k < n; k++)
			if (p[k] < 0x80 || p[k] > 0xbf)
				return false;
		p += n;
	}
	return true;
}

int json_str(const struct json_doc *d, int i, const char **s, size_t *len)
{
	if (i < 0 || i >= d->n || d->tok[i].type != JSON_STRING)
		return JSON_E_WRONG_TYPE;
	const char *p = d->js + d->tok[i].start;
	size_t n = (size_t)(d->tok[i].end - d->tok[i].start);

	if (!json_utf8_valid(p, n))
		return JSON_E_BAD_UTF8;
	*s = p;
	*len = n;
	return JSON_OK;
}

/* The text of a number token: a string or a primitive that is not
 * true/false/null. */
static int number_text(const struct json_doc *d, int i, const char **s, size_t *len)
{
	if (i < 0 || i >= d->n)
		return JSON_E_MISSING_FIELD;
	const struct json_tok *t = &d->tok[i];

	if (t->type != JSON_STRING && t->type != JSON_PRIMITIVE)
		return JSON_E_WRONG_TYPE;
	*s = d->js + t->start;
	*len = (size_t)(t->end - t->start);
	if (t->type == JSON_PRIMITIVE && *len && (**s == 't' || **s == 'f' || **s == 'n'))
		return JSON_E_WRONG_TYPE;
	return JSON_OK;
}

/* -?digits(.digits)?  The JSON number grammar without the exponent (an
 * exponent could hide any number of digits: refused) and allowing leading
 * zeros, which change nothing. */
static bool decimal_ok(const char *s, size_t n, bool allow_frac)
{
	size_t i = 0, digits = 0;

	if (i < n && s[i] == '-')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (!digits)
		return false;
	if (i < n && s[i] == '.' && allow_frac) {
		size_t frac = 0;

		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (!frac)
			return false;
	}
	return i == n;
}

int json_fx(const struct json_doc *d, int i, unsigned scale, int64_t *out)
{
	const char *s;
	size_t n;
	int r = number_text(d, i, &s, &n);

	if (r)
		return r;
	if (!decimal_ok(s, n, true))
		return JSON_E_BAD_NUMBER;
	switch (fx_parse(s, n, scale, out)) {
	case FX_OK:
		return JSON_OK;
	case FX_E_OVERFLOW:
		return JSON_E_NUMBER_OVERFLOW;
	case FX_E_PRECISION:
		return JSON_E_PRECISION;
	default:
		return JSON_E_BAD_NUMBER;
	}
}

int json_i64(const struct json_doc *d, int i, int64_t *out)
{
	const char *s;
	size_t n;
	int r = number_text(d, i, &s, &n);

	if (r)
		return r;
	if (!decimal_ok(s, n, false))
		return JSON_E_BAD_NUMBER;
	bool neg = s[0] == '-';
	/* Accumulate negatively: |INT64_MIN| > INT64_MAX. */
	int64_t v = 0;

	for (size_t k = neg; k < n; k++) {
		int dgt = s[k] - '0';

		if (v < (INT64_MIN + dgt) / 10)
			return JSON_E_NUMBER_OVERFLOW;
		v = v * 10 - dgt;
	}
	if (!neg) {
		if (v == INT64_MIN)
			return JSON_E_NUMBER_OVERFLOW;
		v = -v;
	}
	*out = v;
	return JSON_OK;
}

int json_u64(const struct json_doc *d, int i, uint64_t *out)
{
	const char *s;
	size_t n;
	int r = number_text(d, i, &s, &n);

	if (r)
		return r;
	if (!decimal_ok(s, n, false) || s[0] == '-')
		return JSON_E_BAD_NUMBER;
	uint64_t v = 0;

	for (size_t k = 0; k < n; k++) {
		unsigned dgt = (unsigned)(s[k] - '0');

		if (v > (UINT64_MAX - dgt) / 10)
			return JSON_E_NUMBER_OVERFLOW;
		v = v * 10 + dgt;
	}
	*out = v;
	return JSON_OK;
}

int json_bool(const struct json_doc *d, int i, bool *out)
{
	if (i < 0 || i >= d->n)
		return JSON_E_MISSING_FIELD;
	if (d->tok[i].type == JSON_PRIMITIVE) {
		if (tok_is(d, i, "true", 4)) {
			*out = true;
			return JSON_OK;
		}
		if (tok_is(d, i, "false", 5)) {
			*out = false;
			return JSON_OK;
		}
	}
	return JSON_E_WRONG_TYPE;
}

int json_ms_to_ns(int64_t ms, int64_t *ns)
{
	if (ms < 0 || ms > INT64_MAX / 1000000)
		return JSON_E_NUMBER_OVERFLOW;
	*ns = ms * 1000000;
	return JSON_OK;
}

int json_level(const struct json_doc *d, int lv, unsigned px_scale, unsigned qty_scale,
	       int64_t *px, int64_t *qty)
{
	if (lv < 0 || lv >= d->n || d->tok[lv].type != JSON_ARRAY || d->tok[lv].size < 2)
		return JSON_E_WRONG_TYPE;
	int p = lv + 1, q = json_next(d, p);
	int r = json_fx(d, p, px_scale, px);

	if (r)
		return r;
	if ((r = json_fx(d, q, qty_scale, qty)))
		return r;
	if (*px <= 0 || *qty < 0)
		return JSON_E_BAD_VALUE;
	return JSON_OK;
}

int json_ms_tok_to_ns(const struct json_doc *d, int i, int64_t *ns)
{
	int64_t ms;
	int r = json_i64(d, i, &ms);

	return r ? r : json_ms_to_ns(ms, ns);
}

uint64_t json_fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t k = 0; k < n; k++)
		h = (h ^ (uint8_t)s[k]) * 1099511628211ull;
	return h;
}

void json_emit_delta(uint8_t side, int64_t px, int64_t qty, uint64_t update_id,
		     const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx)
{
	union fks_event ev;

	if (!emit)
		return;
	fks_build_book_delta(&ev.book, hdr, side, qty ? FKS_BOOK_SET : FKS_BOOK_DELETE, px, qty,
			     update_id);
	emit(ctx, &ev);
}

void json_emit_clear(uint64_t update_id, const struct fks_event_hdr *hdr, feed_emit_fn emit,
		     void *ctx)
{
	union fks_event ev;

	if (!emit)
		return;
	fks_build_book_delta(&ev.book, hdr, FKS_SIDE_NONE, FKS_BOOK_CLEAR, 0, 0, update_id);
	emit(ctx, &ev);
}

int json_book_set(struct book_l2 *b, uint8_t side, int64_t px, int64_t qty, uint64_t update_id,
		  const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx)
{
	if ((side != FKS_SIDE_BUY && side != FKS_SIDE_SELL) || px <= 0 || qty < 0)
		return JSON_E_BAD_VALUE;
	if (book_l2_qty(b, side, px) == qty)
		return JSON_OK;   /* no change: a delete of an absent level, or a repeat */
	int r = book_l2_set(b, side, px, qty);

	if (r == BOOK_L2_E_FULL) {
		const struct book_l2_side *s = side == FKS_SIDE_BUY ? &b->bid : &b->ask;

		if (!s->cap)
			return JSON_E_BOOK_FULL;
		int64_t worst = s->lv[0].px;   /* worst first; full, so n > 0 */
		bool better = side == FKS_SIDE_BUY ? px > worst : px < worst;

		if (!better)
			return JSON_E_BOOK_FULL;
		book_l2_set(b, side, worst, 0);
		json_emit_delta(side, worst, 0, update_id, hdr, emit, ctx);
		r = book_l2_set(b, side, px, qty);
	}
	if (r)
		return r == BOOK_L2_E_FULL ? JSON_E_BOOK_FULL : JSON_E_BAD_VALUE;
	json_emit_delta(side, px, qty, update_id, hdr, emit, ctx);
	return JSON_OK;
}

bool json_quote_if_changed(const struct book_l2 *b, struct json_top *last,
			   const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx)
{
	const struct book_level *bid = book_l2_best(b, FKS_SIDE_BUY);
	const struct book_level *ask = book_l2_best(b, FKS_SIDE_SELL);
	struct json_top now = {
		.bid_px = bid ? bid->px : 0, .bid_qty = bid ? bid->qty : 0,
		.ask_px = ask ? ask->px : 0, .ask_qty = ask ? ask->qty : 0,
	};

	if (memcmp(&now, last, sizeof now) == 0)
		return false;
	*last = now;
	if (emit) {
		union fks_event ev;

		fks_build_quote(&ev.quote, hdr, now.bid_px, now.bid_qty, now.ask_px, now.ask_qty);
		emit(ctx, &ev);
	}
	return true;
}
