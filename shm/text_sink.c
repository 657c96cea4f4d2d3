/* Text sink and the JSON string escaper (text_sink.h). */
#include "shm/text_sink.h"

#include <assert.h>
#include <string.h>

#include "shm/fixed.h"

char *fks_sink_reserve(struct fks_sink *s, size_t n)
{
	assert(n <= s->cap); /* the header's 64-byte minimum covers every reservation here */
	if (s->len + n > s->cap)
		s->drain(s);
	return s->buf + s->len;
}

void fks_sink_mem(struct fks_sink *s, const char *p, size_t n)
{
	while (n) {
		size_t k = n < s->cap / 2 ? n : s->cap / 2;
		memcpy(fks_sink_reserve(s, k), p, k);
		s->len += k;
		p += k;
		n -= k;
	}
}

void fks_sink_str(struct fks_sink *s, const char *str) { fks_sink_mem(s, str, strlen(str)); }

void fks_sink_ch(struct fks_sink *s, char c)
{
	*fks_sink_reserve(s, 1) = c;
	s->len++;
}

void fks_sink_u64(struct fks_sink *s, uint64_t x)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	char *p = fks_sink_reserve(s, sizeof tmp);
	while (n)
		*p++ = tmp[--n];
	s->len = (size_t)(p - s->buf);
}

void fks_sink_i64(struct fks_sink *s, int64_t x)
{
	if (x < 0) {
		fks_sink_ch(s, '-');
		fks_sink_u64(s, 0 - (uint64_t)x);
	} else {
		fks_sink_u64(s, (uint64_t)x);
	}
}

void fks_sink_fx(struct fks_sink *s, int64_t v, unsigned scale)
{
	char *p = fks_sink_reserve(s, FX_FORMAT_MAX + 1);
	int n = fx_format(v, scale, p, FX_FORMAT_MAX + 1);
	if (n < 0)
		fks_sink_i64(s, v);
	else
		s->len += (size_t)n;
}

size_t fks_json_escape_byte(unsigned char c, char out[FKS_JSON_ESCAPE_MAX])
{
	static const char hex[] = "0123456789abcdef";
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c >= 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	out[0] = (char)c;
	return 1;
}

void fks_sink_json_string(struct fks_sink *s, const char *p, size_t n)
{
	fks_sink_ch(s, '"');
	for (size_t i = 0; i < n; i++) {
		char *at = fks_sink_reserve(s, FKS_JSON_ESCAPE_MAX);
		s->len += fks_json_escape_byte((unsigned char)p[i], at);
	}
	fks_sink_ch(s, '"');
}

void fks_json_fput_chars(FILE *f, const char *p, size_t n)
{
	char esc[FKS_JSON_ESCAPE_MAX];
	for (size_t i = 0; i < n; i++)
		fwrite(esc, 1, fks_json_escape_byte((unsigned char)p[i], esc), f);
}
