/*
 * A text sink: a caller-owned buffer that fills with formatted text and
 * drains through the caller's callback when full, so that event printers in
 * shm/ can write to a file descriptor, a FILE or memory without knowing
 * which.  Also the one JSON string escaper of FKS (fks_json_escape_byte),
 * used by every command that prints JSON.
 */
#ifndef FKS_SHM_TEXT_SINK_H
#define FKS_SHM_TEXT_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fks_sink {
	char *buf;
	size_t cap;                          /* at least 64 bytes */
	size_t len;
	/* Hands buf[0..len) on and sets len to 0; may drop the bytes (a
	 * closed pipe), but must empty the buffer. */
	void (*drain)(struct fks_sink *s);
	void *ctx;                           /* the drain's own state */
};

/* Room for n more bytes at buf + len (n <= cap), draining first if needed. */
char *fks_sink_reserve(struct fks_sink *s, size_t n);
void fks_sink_mem(struct fks_sink *s, const char *p, size_t n);
void fks_sink_str(struct fks_sink *s, const char *str);
void fks_sink_ch(struct fks_sink *s, char c);
void fks_sink_u64(struct fks_sink *s, uint64_t x);
void fks_sink_i64(struct fks_sink *s, int64_t x);
/* Fixed point at scale decimals (fx_format); the raw integer if the scale
 * is out of range. */
void fks_sink_fx(struct fks_sink *s, int64_t v, unsigned scale);

/* ---- JSON strings ------------------------------------------------------ */

#define FKS_JSON_ESCAPE_MAX 6                /* "\u00XX" */

/* Writes byte c as it goes inside a JSON string into out and returns how
 * many bytes that took: '"' and '\\' get a backslash, and every byte that
 * is not printable ASCII (control bytes, DEL, and bytes >= 0x80, which may
 * not be valid UTF-8) is spelled \u00XX, so the output is ASCII and always
 * valid JSON whatever bytes came in. */
size_t fks_json_escape_byte(unsigned char c, char out[FKS_JSON_ESCAPE_MAX]);
/* The n bytes of p as a JSON string, quotes included. */
void fks_sink_json_string(struct fks_sink *s, const char *p, size_t n);
/* The n bytes of p escaped as the inside of a JSON string, no quotes. */
void fks_json_fput_chars(FILE *f, const char *p, size_t n);

#endif
