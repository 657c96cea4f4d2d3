#include "gateway/venues/fix44/fix_codec.h"

#include <string.h>

#include "shm/fixed.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "find_soh reads words little-endian");

#define BEGIN_PREFIX "8=" FIX_BEGIN_STRING "\001"
#define BEGIN_PREFIX_LEN (sizeof(BEGIN_PREFIX) - 1)

_Static_assert(FIX_MAX_FIELDS <= 255, "fix_msg.at holds a field index in a byte");
_Static_assert(FIX_MAX_MSG < 100000, "BodyLength fits the 5 digits reserved for it");

/* ---- encoding ------------------------------------------------------------ */

static void put(struct fix_writer *w, const char *s, size_t n)
{
	if (w->overflow || n > w->cap - w->pos) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->pos, s, n);
	w->pos += n;
}

/* Decimal digits of v into the end of tmp[20]; returns the first. */
static char *u64_digits(uint64_t v, char *end)
{
	char *p = end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void fix_w_begin(struct fix_writer *w, char *buf, size_t cap, const char *msg_type)
{
	w->buf = buf;
	w->cap = cap < FIX_MAX_MSG ? cap : FIX_MAX_MSG;
	w->pos = FIX_PREFIX_MAX;
	w->overflow = cap < FIX_PREFIX_MAX + FIX_TRAILER_LEN;
	if (w->overflow)
		return;
	/* The trailer's room is kept back until fix_w_end. */
	w->cap -= FIX_TRAILER_LEN;
	fix_w_str(w, 35, msg_type);
}

void fix_w_strn(struct fix_writer *w, unsigned tag, const char *s, size_t n)
{
	char t[12];
	char *end = t + sizeof t;
	*--end = '=';
	char *tp = u64_digits(tag, end);
	size_t tn = (size_t)(t + sizeof t - tp);
	/* One capacity check for the whole field: this is the encoder's loop. */
	if (w->overflow || tn + n + 1 > w->cap - w->pos) {
		w->overflow = true;
		return;
	}
	char *p = w->buf + w->pos;
	memcpy(p, tp, tn);
	memcpy(p + tn, s, n);
	p[tn + n] = FIX_SOH;
	w->pos += tn + n + 1;
}

void fix_w_raw(struct fix_writer *w, const char *fields, size_t n)
{
	put(w, fields, n);
}

void fix_w_str(struct fix_writer *w, unsigned tag, const char *s)
{
	fix_w_strn(w, tag, s, strlen(s));
}

void fix_w_char(struct fix_writer *w, unsigned tag, char c)
{
	fix_w_strn(w, tag, &c, 1);
}

void fix_w_u64(struct fix_writer *w, unsigned tag, uint64_t v)
{
	char tmp[20];
	char *p = u64_digits(v, tmp + sizeof tmp);
	fix_w_strn(w, tag, p, (size_t)(tmp + sizeof tmp - p));
}

void fix_w_dec(struct fix_writer *w, unsigned tag, int64_t v, unsigned scale)
{
	char tmp[32];
	int n = fx_format(v, scale, tmp, sizeof tmp);
	if (n < 0) {
		w->overflow = true;
		return;
	}
	/* FIX wants no particular number of places: drop trailing zeros. */
	if (memchr(tmp, '.', (size_t)n)) {
		while (tmp[n - 1] == '0')
			n--;
		if (tmp[n - 1] == '.')
			n--;
	}
	fix_w_strn(w, tag, tmp, (size_t)n);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian), by eras of
 * 400 years starting in March, so the leap day ends a year. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void fix_w_time(struct fix_writer *w, unsigned tag, int64_t unix_ns)
{
	if (unix_ns < 0)
		unix_ns = 0;
	int64_t secs = unix_ns / 1000000000, days = secs / 86400;
	unsigned sod = (unsigned)(secs % 86400), mon, day, ms = (unsigned)(unix_ns / 1000000 % 1000);
	int year;
	civil_from_days(days, &year, &mon, &day);
	char t[21] = "YYYYMMDD-HH:MM:SS.mmm";
	digits(t, (unsigned)year, 4);
	digits(t + 4, mon, 2);
	digits(t + 6, day, 2);
	digits(t + 9, sod / 3600, 2);
	digits(t + 12, sod / 60 % 60, 2);
	digits(t + 15, sod % 60, 2);
	digits(t + 18, ms, 3);
	fix_w_strn(w, tag, t, sizeof t);
}

/* The byte sum CheckSum is taken from, eight bytes at a time: the bytes
 * are added in 16-bit lanes (at most 2 x 255 per lane per word, so 64
 * words fit before the lanes are folded). */
static unsigned sum_bytes(const char *p, size_t n)
{
	const uint64_t lo = 0x00ff00ff00ff00ffULL;
	uint64_t total = 0;
	while (n >= 8) {
		uint64_t lanes = 0;
		for (size_t k = 0; k < 64 && n >= 8; k++, p += 8, n -= 8) {
			uint64_t x;
			memcpy(&x, p, 8);
			lanes += (x & lo) + ((x >> 8) & lo);
		}
		total += (lanes & 0xffff) + ((lanes >> 16) & 0xffff) + ((lanes >> 32) & 0xffff) + (lanes >> 48);
	}
	while (n--)
		total += (unsigned char)*p++;
	return (unsigned)total;
}

size_t fix_w_end(struct fix_writer *w, const char **msg)
{
	*msg = NULL;
	if (w->overflow)
		return 0;
	size_t body = w->pos - FIX_PREFIX_MAX;
	char len[20];
	char *ld = u64_digits(body, len + sizeof len);
	size_t nd = (size_t)(len + sizeof len - ld);
	size_t start = FIX_PREFIX_MAX - (BEGIN_PREFIX_LEN + 2 + nd + 1);
	char *p = w->buf + start;
	memcpy(p, BEGIN_PREFIX "9=", BEGIN_PREFIX_LEN + 2);
	memcpy(p + BEGIN_PREFIX_LEN + 2, ld, nd);
	p[BEGIN_PREFIX_LEN + 2 + nd] = FIX_SOH;
	unsigned sum = sum_bytes(p, w->pos - start) % 256;
	char *t = w->buf + w->pos;
	memcpy(t, "10=", 3);
	digits(t + 3, sum, 3);
	t[6] = FIX_SOH;
	w->pos += FIX_TRAILER_LEN;
	*msg = p;
	return w->pos - start;
}

/* ---- decoding ------------------------------------------------------------ */

/* A repeating group an ExecutionReport may carry: its NoXXX count tag, the
 * tag that opens each entry, and every tag an entry may hold (nested
 * groups flattened into their parent). */
struct fix_group {
	unsigned count_tag, first;
	unsigned members[8];
};

static const struct fix_group groups[] = {
	{ 453, 448, { 448, 447, 452, 802, 523, 803 } },   /* Parties, PtysSubGrp */
	{ 382, 375, { 375, 337, 437, 438, 655 } },        /* ContraGrp */
	{ 136, 137, { 137, 138, 139, 891 } },             /* MiscFeesGrp */
	{ 518, 519, { 519, 520, 521 } },                  /* ContAmtGrp */
	{ 1362, 1363, { 1363, 1364, 1365, 1366 } },       /* FillsGrp */
};
#define N_GROUPS (sizeof groups / sizeof groups[0])

static bool is_member(const struct fix_group *g, unsigned tag)
{
	for (size_t i = 0; i < sizeof g->members / sizeof g->members[0] && g->members[i]; i++)
		if (g->members[i] == tag)
			return true;
	return false;
}

/* Whether tag belongs to any group above, by a switch the compiler turns
 * into a bit test: this runs for every field of every message. */
static bool in_any_group(unsigned tag)
{
	switch (tag) {
	case 448: case 447: case 452: case 802: case 523: case 803:
	case 375: case 337: case 437: case 438: case 655:
	case 137: case 138: case 139: case 891:
	case 519: case 520: case 521:
	case 1363: case 1364: case 1365: case 1366:
		return true;
	default:
		return false;
	}
}

static const struct fix_group *group_of_count(unsigned tag)
{
	switch (tag) {
	case 453: case 382: case 136: case 518: case 1362:
		break;
	default:
		return NULL;
	}
	for (size_t i = 0; i < N_GROUPS; i++)
		if (groups[i].count_tag == tag)
			return &groups[i];
	return NULL;
}

/* Tags every message of a type must carry, beyond the header's. */
struct fix_required {
	const char *type;
	unsigned tags[9];
};

static const unsigned header_required[] = { 49, 56, 34, 52 };

static const struct fix_required required[] = {
	{ "1", { 112 } },                                  /* TestRequest */
	{ "2", { 7, 16 } },                                /* ResendRequest */
	{ "3", { 45 } },                                   /* Reject */
	{ "4", { 36 } },                                   /* SequenceReset */
	{ "A", { 98, 108 } },                              /* Logon */
	{ "8", { 37, 17, 150, 39, 55, 54, 151, 14, 6 } },  /* ExecutionReport */
	{ "9", { 37, 11, 41, 39, 434 } },                  /* OrderCancelReject */
	{ "j", { 372, 380 } },                             /* BusinessMessageReject */
};

static bool tag_seen(const struct fix_msg *m, unsigned tag)
{
	return tag < FIX_INDEXED_TAGS && (m->seen[tag / 64] >> (tag % 64) & 1);
}

const struct fix_field *fix_get(const struct fix_msg *m, unsigned tag)
{
	if (tag < FIX_INDEXED_TAGS)
		return tag_seen(m, tag) ? &m->f[m->at[tag]] : NULL;
	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].tag == tag)
			return &m->f[i];
	return NULL;
}

/* Group members are not indexed: the first entry's, by a scan. */
static const struct fix_field *find_any(const struct fix_msg *m, unsigned tag)
{
	const struct fix_field *f = fix_get(m, tag);
	for (uint32_t i = 0; !f && i < m->n; i++)
		if (m->f[i].tag == tag)
			f = &m->f[i];
	return f;
}

static int check_required(struct fix_msg *m)
{
	for (size_t i = 0; i < sizeof header_required / sizeof header_required[0]; i++)
		if (!fix_get(m, header_required[i])) {
			m->bad_tag = header_required[i];
			return FIX_ERR_MISSING_TAG;
		}
	for (size_t r = 0; r < sizeof required / sizeof required[0] && m->type[1] == '\0'; r++) {
		if (required[r].type[0] != m->type[0])
			continue;
		for (size_t i = 0; i < sizeof required[r].tags / sizeof required[r].tags[0] && required[r].tags[i]; i++)
			if (!find_any(m, required[r].tags[i])) {
				m->bad_tag = required[r].tags[i];
				return FIX_ERR_MISSING_TAG;
			}
	}
	return FIX_OK;
}

/* The first SOH in [p, end), or end: eight bytes at a time (a zero byte
 * of x ^ 0x01..01 is an SOH; the lowest flagged byte is always a true one,
 * which is the one taken), the tail byte by byte.  Little-endian. */
static const char *find_soh(const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	while (end - p >= 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		x ^= ones;
		uint64_t hit = (x - ones) & ~x & highs;
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
	while (p < end && *p != FIX_SOH)
		p++;
	return p;
}

/* Parse "tag=value|" at p (end: one past the last byte it may read). */
static const char *parse_field(const char *p, const char *end, struct fix_field *f)
{
	uint32_t tag = 0;
	const char *q = p;
	while (q < end && *q >= '0' && *q <= '9' && q - p < 9)
		tag = tag * 10 + (uint32_t)(*q++ - '0');
	if (q == p || tag == 0 || *p == '0' || q >= end || *q != '=')
		return NULL;
	const char *v = ++q, *soh = find_soh(v, end);
	if (soh == end || soh == v)
		return NULL;
	f->tag = tag;
	f->val = v;
	f->len = (uint32_t)(soh - v);
	return soh + 1;
}

static bool parse_u64(const char *s, uint32_t len, uint64_t *out)
{
	if (len == 0 || len > 19)
		return false;
	uint64_t v = 0;
	for (uint32_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* An open repeating group while the fields are read. */
struct group_state {
	const struct fix_group *g;
	uint64_t declared, entries;
};

static int close_group(struct group_state *gs)
{
	int rc = gs->g && gs->entries != gs->declared ? FIX_ERR_GROUP : FIX_OK;
	gs->g = NULL;
	return rc;
}

/* One field into m: group bookkeeping and the duplicate check. */
static int add_field(struct fix_msg *m, const struct fix_field *f, struct group_state *gs)
{
	if (gs->g && is_member(gs->g, f->tag)) {
		gs->entries += f->tag == gs->g->first;
		if (gs->entries == 0)
			return FIX_ERR_GROUP;          /* a member before the first */
	} else {
		if (close_group(gs) != FIX_OK)
			return FIX_ERR_GROUP;
		if (tag_seen(m, f->tag) || (f->tag >= FIX_INDEXED_TAGS && fix_get(m, f->tag)) ||
		    (in_any_group(f->tag) && find_any(m, f->tag))) {
			m->bad_tag = f->tag;
			return FIX_ERR_DUPLICATE_TAG;
		}
		if (f->tag < FIX_INDEXED_TAGS) {
			m->seen[f->tag / 64] |= 1ull << (f->tag % 64);
			m->at[f->tag] = (uint8_t)m->n;
		}
		const struct fix_group *g = group_of_count(f->tag);
		if (g) {
			if (!parse_u64(f->val, f->len, &gs->declared))
				return FIX_ERR_GROUP;
			gs->g = g;
			gs->entries = 0;
		}
	}
	m->f[m->n++] = *f;
	return FIX_OK;
}

/* The fields between BodyLength and CheckSum: 35 first, then the rest. */
static int parse_body(struct fix_msg *m, const char *p, const char *end)
{
	struct group_state gs = { 0 };
	while (p < end) {
		struct fix_field f;
		if (m->n == FIX_MAX_FIELDS)
			return FIX_ERR_TOO_MANY_FIELDS;
		p = parse_field(p, end, &f);
		if (!p)
			return FIX_ERR_GARBLED;
		if (m->n == 0 && (f.tag != 35 || f.len > 2)) {
			m->bad_tag = 35;
			return FIX_ERR_MISSING_TAG;
		}
		if (f.tag == 8 || f.tag == 9 || f.tag == 10) {
			m->bad_tag = f.tag;
			return FIX_ERR_DUPLICATE_TAG;
		}
		int rc = add_field(m, &f, &gs);
		if (rc != FIX_OK)
			return rc;
	}
	if (m->n == 0) {
		m->bad_tag = 35;
		return FIX_ERR_MISSING_TAG;
	}
	return close_group(&gs);
}

/* Bytes to drop after a message whose length could not be read: up to the
 * next BeginString, or all but a tail that may be the start of one. */
static size_t resync(const char *buf, size_t len)
{
	for (size_t i = 1; i + BEGIN_PREFIX_LEN <= len; i++)
		if (buf[i] == '8' && memcmp(buf + i, BEGIN_PREFIX, BEGIN_PREFIX_LEN) == 0)
			return i;
	return len > BEGIN_PREFIX_LEN ? len - BEGIN_PREFIX_LEN + 1 : 1;
}

static int refuse(int err, size_t drop, size_t *used, struct fix_decode_counters *c)
{
	*used = drop;
	if (c)
		c->bad[err]++;
	return err;
}

/* "9=<digits>|" at p: the BodyLength and the first body byte, or -1. */
static long body_length(const char *p, const char *end, const char **body)
{
	if (end - p < 4 || p[0] != '9' || p[1] != '=')
		return -1;
	long n = 0;
	const char *q = p + 2;
	while (q < end && *q >= '0' && *q <= '9' && q - p < 8)
		n = n * 10 + (*q++ - '0');
	if (q == p + 2 || q >= end || *q != FIX_SOH)
		return q >= end ? -2 : -1;
	*body = q + 1;
	return n;
}

static bool checksum_ok(const char *msg, size_t upto, const char *t)
{
	for (int i = 3; i < 6; i++)
		if (t[i] < '0' || t[i] > '9')
			return false;
	unsigned want = (unsigned)((t[3] - '0') * 100 + (t[4] - '0') * 10 + (t[5] - '0'));
	return t[6] == FIX_SOH && sum_bytes(msg, upto) % 256 == want;
}

int fix_decode(const char *buf, size_t len, struct fix_msg *m, size_t *used, struct fix_decode_counters *c)
{
	*used = 0;
	size_t cmp = len < BEGIN_PREFIX_LEN ? len : BEGIN_PREFIX_LEN;
	if (memcmp(buf, BEGIN_PREFIX, cmp) != 0)
		return refuse(FIX_ERR_BEGIN_STRING, resync(buf, len), used, c);
	if (len < BEGIN_PREFIX_LEN + 4)
		return FIX_NEED_MORE;
	const char *body;
	long blen = body_length(buf + BEGIN_PREFIX_LEN, buf + len, &body);
	if (blen == -2)
		return FIX_NEED_MORE;
	if (blen < 0)
		return refuse(FIX_ERR_BODY_LENGTH, resync(buf, len), used, c);
	size_t head = (size_t)(body - buf), total = head + (size_t)blen + FIX_TRAILER_LEN;
	if (total > FIX_MAX_MSG)
		return refuse(FIX_ERR_TOO_LONG, resync(buf, len), used, c);
	if (len < total)
		return FIX_NEED_MORE;
	const char *trailer = body + blen;
	if (blen == 0 || body[blen - 1] != FIX_SOH || memcmp(trailer, "10=", 3) != 0)
		return refuse(FIX_ERR_BODY_LENGTH, resync(buf, len), used, c);
	if (!checksum_ok(buf, head + (size_t)blen, trailer))
		return refuse(FIX_ERR_CHECKSUM, total, used, c);

	m->raw = buf;
	m->raw_len = (uint32_t)total;
	m->n = 0;
	m->bad_tag = 0;
	memset(m->seen, 0, sizeof m->seen);
	int rc = parse_body(m, body, trailer);
	if (rc == FIX_OK) {
		memcpy(m->type, m->f[0].val, m->f[0].len);
		m->type[m->f[0].len] = '\0';
		rc = check_required(m);
	}
	if (rc == FIX_OK && !fix_get_u64(m, 34, &m->seq)) {
		m->bad_tag = 34;
		rc = FIX_ERR_GARBLED;
	}
	if (rc != FIX_OK)
		return refuse(rc, total, used, c);
	*used = total;
	if (c)
		c->messages++;
	return FIX_OK;
}

bool fix_field_is(const struct fix_field *f, const char *s)
{
	size_t n = strlen(s);
	return f && f->len == n && memcmp(f->val, s, n) == 0;
}

bool fix_get_u64(const struct fix_msg *m, unsigned tag, uint64_t *out)
{
	const struct fix_field *f = fix_get(m, tag);
	return f && parse_u64(f->val, f->len, out);
}

bool fix_get_dec(const struct fix_msg *m, unsigned tag, unsigned scale, int64_t *out)
{
	const struct fix_field *f = fix_get(m, tag);
	return f && fx_parse(f->val, f->len, scale, out) == FX_OK;
}

char fix_get_char(const struct fix_msg *m, unsigned tag)
{
	const struct fix_field *f = fix_get(m, tag);
	return f ? f->val[0] : 0;
}

const char *fix_err_name(int err)
{
	static const char *const names[FIX_ERR_COUNT] = {
		[FIX_OK] = "ok",
		[FIX_ERR_BEGIN_STRING] = "begin_string",
		[FIX_ERR_BODY_LENGTH] = "body_length",
		[FIX_ERR_CHECKSUM] = "checksum",
		[FIX_ERR_TOO_LONG] = "too_long",
		[FIX_ERR_GARBLED] = "garbled",
		[FIX_ERR_TOO_MANY_FIELDS] = "too_many_fields",
		[FIX_ERR_MISSING_TAG] = "missing_tag",
		[FIX_ERR_DUPLICATE_TAG] = "duplicate_tag",
		[FIX_ERR_GROUP] = "group",
	};
	return err >= 0 && err < FIX_ERR_COUNT ? names[err] : "?";
}
