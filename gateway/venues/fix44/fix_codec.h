/*
 * FIX 4.4 tag=value codec: no allocation, no copies.
 *
 * Encoding writes a message straight into the caller's send buffer.  The
 * BodyLength(9) is not known until the body is written, so the body goes
 * at a fixed offset (FIX_PREFIX_MAX) and, at the end, the prefix
 * "8=FIX.4.4|9=<len>|" is written right-aligned just before it: the
 * message starts wherever that prefix begins (fix_w_end says where), so
 * nothing is ever moved.  CheckSum(10) is summed over the bytes once.
 *
 * Decoding frames one message at the start of a receive buffer, checks
 * BeginString(8) first, BodyLength(9) second, MsgType(35) third, that
 * CheckSum(10) follows the body exactly and matches, that every field is
 * tag=value with a decimal tag and a non-empty value, that no tag repeats
 * outside the repeating groups an ExecutionReport carries, and that the
 * header's and the message type's required tags are present.  Fields point
 * into the buffer.  Every refused message is counted by its reason.
 */
#ifndef FKS_GATEWAY_VENUES_FIX44_FIX_CODEC_H
#define FKS_GATEWAY_VENUES_FIX44_FIX_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIX_SOH '\001'
#define FIX_BEGIN_STRING "FIX.4.4"
#define FIX_MAX_MSG 4096        /* a whole message, prefix and checksum included */
#define FIX_MAX_FIELDS 128
#define FIX_INDEXED_TAGS 1024   /* tags below this are found in O(1) */
/* "8=FIX.4.4|9=" + up to 5 digits + "|": the room reserved before a body. */
#define FIX_PREFIX_MAX (sizeof("8=" FIX_BEGIN_STRING "\0019=") - 1 + 5 + 1)
#define FIX_TRAILER_LEN 7       /* "10=ddd|" */

/* ---- encoding ------------------------------------------------------------ */

struct fix_writer {
	char *buf;
	size_t cap, pos;        /* pos: the next body byte */
	bool overflow;          /* a field did not fit: fix_w_end returns 0 */
};

/* Start a message of type msg_type ("D", "A", ...) in buf[0..cap). */
void fix_w_begin(struct fix_writer *w, char *buf, size_t cap, const char *msg_type);
void fix_w_str(struct fix_writer *w, unsigned tag, const char *s);
void fix_w_strn(struct fix_writer *w, unsigned tag, const char *s, size_t n);
void fix_w_char(struct fix_writer *w, unsigned tag, char c);
void fix_w_u64(struct fix_writer *w, unsigned tag, uint64_t v);
/* A fixed-point value at scale, as the shortest exact decimal ("101.5"). */
void fix_w_dec(struct fix_writer *w, unsigned tag, int64_t v, unsigned scale);
/* A UTCTimestamp with milliseconds: 20260102-03:04:05.678. */
void fix_w_time(struct fix_writer *w, unsigned tag, int64_t unix_ns);
/* Fields already encoded ("tag=value|..."), appended as they are. */
void fix_w_raw(struct fix_writer *w, const char *fields, size_t n);
/* Close the message: prefix and CheckSum.  Its length, with *msg pointing
 * at its first byte inside buf; 0 if it did not fit (then *msg is NULL). */
size_t fix_w_end(struct fix_writer *w, const char **msg);

/* ---- decoding ------------------------------------------------------------ */

/* Why a message was refused.  Stable: they name counters. */
enum fix_err {
	FIX_OK = 0,
	FIX_ERR_BEGIN_STRING = 1,   /* not "8=FIX.4.4|" */
	FIX_ERR_BODY_LENGTH = 2,    /* 9 missing, not a number, or not ending where 10= starts */
	FIX_ERR_CHECKSUM = 3,       /* 10 not three digits, or not the sum */
	FIX_ERR_TOO_LONG = 4,       /* longer than FIX_MAX_MSG */
	FIX_ERR_GARBLED = 5,        /* a field that is not tag=value| */
	FIX_ERR_TOO_MANY_FIELDS = 6,
	FIX_ERR_MISSING_TAG = 7,    /* a required tag (fix_msg.bad_tag) is absent */
	FIX_ERR_DUPLICATE_TAG = 8,  /* fix_msg.bad_tag appears twice outside a group */
	FIX_ERR_GROUP = 9,          /* a group's count disagrees with its entries */
	FIX_ERR_COUNT
};
#define FIX_NEED_MORE (-1)      /* not an error: only part of a message so far */

struct fix_field {
	uint32_t tag;
	uint32_t len;
	const char *val;            /* into the decoded buffer; not terminated */
};

struct fix_msg {
	const char *raw;            /* the whole message, 8= to the last SOH */
	uint32_t raw_len;
	uint32_t n;
	uint32_t bad_tag;           /* the tag of a MISSING_ or DUPLICATE_TAG */
	char type[3];               /* MsgType(35), NUL-terminated */
	uint64_t seq;               /* MsgSeqNum(34) */
	struct fix_field f[FIX_MAX_FIELDS];
	/* Tags below FIX_INDEXED_TAGS seen outside groups, and their index in
	 * f: at[] is valid only where the bit is set, so it is never cleared. */
	uint64_t seen[FIX_INDEXED_TAGS / 64];
	uint8_t at[FIX_INDEXED_TAGS];
};

struct fix_decode_counters {
	uint64_t messages;          /* decoded */
	uint64_t bad[FIX_ERR_COUNT];/* refused, by enum fix_err */
};

/*
 * Decode the message at buf[0..len).  FIX_OK: *m holds it and *used its
 * length.  FIX_NEED_MORE: buf holds only the start of one (*used 0).  An
 * enum fix_err: refused and counted in c (which may be NULL), and *used is
 * how many bytes to drop before decoding again (the message when its
 * length was readable, else up to the next "8=FIX.4.4").
 */
int fix_decode(const char *buf, size_t len, struct fix_msg *m, size_t *used, struct fix_decode_counters *c);

const struct fix_field *fix_get(const struct fix_msg *m, unsigned tag);
bool fix_field_is(const struct fix_field *f, const char *s);
/* The tag's value as an unsigned decimal: false if absent or not one. */
bool fix_get_u64(const struct fix_msg *m, unsigned tag, uint64_t *out);
/* The tag's value as fixed point at scale, exactly: false otherwise. */
bool fix_get_dec(const struct fix_msg *m, unsigned tag, unsigned scale, int64_t *out);
/* The first byte of the tag's value, or 0 if absent. */
char fix_get_char(const struct fix_msg *m, unsigned tag);

/* "begin_string", "body_length", ...: the counter names. */
const char *fix_err_name(int err);

#endif
