/*
 * Tests for gateway/venues/fix44/fix_codec.h: what the encoder writes
 * (BodyLength and CheckSum recomputed here by hand), round trips, framing
 * of partial and concatenated input, and every refusal by its reason.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "gateway/venues/fix44/fix_codec.h"

static struct fix_msg msg;

/* A message from '|'-separated text, with 9= and 10= computed here, the
 * slow way: the reference the encoder and decoder are held to. */
static size_t build(char *out, size_t cap, const char *body_pipes)
{
	static char body[8192];
	size_t n = strlen(body_pipes);
	cr_assert_lt(n, sizeof body);
	for (size_t i = 0; i < n; i++)
		body[i] = body_pipes[i] == '|' ? '\001' : body_pipes[i];
	int len = snprintf(out, cap, "8=FIX.4.4\0019=%zu\001%.*s", n, (int)n, body);
	unsigned sum = 0;
	for (int i = 0; i < len; i++)
		sum += (unsigned char)out[i];
	len += snprintf(out + len, cap - (size_t)len, "10=%03u\001", sum % 256);
	return (size_t)len;
}

static void pipes(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\001')
			s[i] = '|';
}

#define HDR "35=8|49=V|56=F|34=7|52=20260102-03:04:05.678|"
#define ER HDR "37=O1|11=5|17=E1|150=0|39=0|55=BTC|54=1|151=2|14=0|6=0|"

Test(fix_codec, encoder_writes_length_and_checksum)
{
	char buf[512];
	struct fix_writer w;
	fix_w_begin(&w, buf, sizeof buf, "D");
	fix_w_str(&w, 49, "FKS");
	fix_w_u64(&w, 34, 12);
	fix_w_time(&w, 52, 1767323045678000000LL);   /* 2026-01-02T03:04:05.678Z */
	fix_w_dec(&w, 44, 1015000, 4);
	fix_w_dec(&w, 38, 3, 0);
	fix_w_char(&w, 54, '1');
	const char *p;
	size_t n = fix_w_end(&w, &p);
	cr_assert_gt(n, 0);

	char want[512];
	size_t wn = build(want, sizeof want, "35=D|49=FKS|34=12|52=20260102-03:04:05.678|44=101.5|38=3|54=1|");
	char got[512];
	memcpy(got, p, n);
	got[n] = '\0';
	pipes(got, n);
	pipes(want, wn);
	cr_assert_eq(n, wn);
	cr_assert_str_eq(got, want);
}

Test(fix_codec, encoder_refuses_what_does_not_fit)
{
	char buf[64];
	struct fix_writer w;
	fix_w_begin(&w, buf, sizeof buf, "D");
	fix_w_str(&w, 58, "a text far longer than the little buffer has room for, surely");
	const char *p;
	cr_assert_eq(fix_w_end(&w, &p), 0);
	cr_assert_null(p);
}

Test(fix_codec, round_trip_through_the_decoder)
{
	char buf[512];
	struct fix_writer w;
	fix_w_begin(&w, buf, sizeof buf, "8");
	fix_w_str(&w, 49, "V");
	fix_w_str(&w, 56, "F");
	fix_w_u64(&w, 34, 99);
	fix_w_time(&w, 52, 0);
	fix_w_str(&w, 37, "O1");
	fix_w_u64(&w, 11, 5);
	fix_w_str(&w, 17, "E1");
	fix_w_char(&w, 150, 'F');
	fix_w_char(&w, 39, '1');
	fix_w_str(&w, 55, "BTC");
	fix_w_char(&w, 54, '2');
	fix_w_dec(&w, 151, 15, 1);
	fix_w_dec(&w, 14, 5, 1);
	fix_w_dec(&w, 6, 1000125, 4);
	const char *p;
	size_t n = fix_w_end(&w, &p);
	struct fix_decode_counters c = { 0 };
	size_t used;
	cr_assert_eq(fix_decode(p, n, &msg, &used, &c), FIX_OK);
	cr_assert_eq(used, n);
	cr_assert_str_eq(msg.type, "8");
	cr_assert_eq(msg.seq, 99);
	int64_t v;
	cr_assert(fix_get_dec(&msg, 151, 1, &v));
	cr_assert_eq(v, 15);
	cr_assert(fix_get_dec(&msg, 6, 4, &v));
	cr_assert_eq(v, 1000125);
	cr_assert_eq(fix_get_char(&msg, 150), 'F');
	cr_assert(fix_field_is(fix_get(&msg, 37), "O1"));
	cr_assert_eq(c.messages, 1);
}

Test(fix_codec, partial_input_needs_more_and_two_messages_frame_apart)
{
	char buf[1024];
	size_t a = build(buf, sizeof buf, ER);
	size_t b = build(buf + a, sizeof buf - a, HDR "37=O2|11=6|17=E2|150=4|39=4|55=BTC|54=1|151=0|14=0|6=0|");
	struct fix_decode_counters c = { 0 };
	size_t used;
	for (size_t k = 0; k < a; k++)
		cr_assert_eq(fix_decode(buf, k, &msg, &used, &c), FIX_NEED_MORE, "prefix of %zu bytes", k);
	cr_assert_eq(fix_decode(buf, a + b, &msg, &used, &c), FIX_OK);
	cr_assert_eq(used, a);
	cr_assert_eq(fix_decode(buf + a, b, &msg, &used, &c), FIX_OK);
	cr_assert(fix_field_is(fix_get(&msg, 11), "6"));
	for (int e = 1; e < FIX_ERR_COUNT; e++)
		cr_assert_eq(c.bad[e], 0);
}

/* Decode text that must be refused for reason `want`. */
static void refused(const char *raw, size_t n, int want, unsigned bad_tag)
{
	struct fix_decode_counters c = { 0 };
	size_t used;
	int rc = fix_decode(raw, n, &msg, &used, &c);
	cr_assert_eq(rc, want, "got %s, want %s", fix_err_name(rc), fix_err_name(want));
	cr_assert_eq(c.bad[want], 1);
	cr_assert_eq(c.messages, 0);
	cr_assert_gt(used, 0, "a refusal must drop something, or the stream stalls");
	cr_assert_leq(used, n);
	if (bad_tag)
		cr_assert_eq(msg.bad_tag, bad_tag);
}

Test(fix_codec, wrong_checksum)
{
	char buf[512];
	size_t n = build(buf, sizeof buf, ER);
	buf[n - 2] = buf[n - 2] == '0' ? '1' : '0';
	refused(buf, n, FIX_ERR_CHECKSUM, 0);
}

Test(fix_codec, wrong_body_length)
{
	char buf[512], bad[512];
	size_t n = build(buf, sizeof buf, ER);
	/* One more than the truth: 10= is not where the body ends. */
	const char *nine = strstr(buf, "\0019=") + 3;
	unsigned long len = strtoul(nine, NULL, 10);
	int k = snprintf(bad, sizeof bad, "8=FIX.4.4\0019=%lu%s", len - 1, strchr(nine, '\001'));
	refused(bad, (size_t)k, FIX_ERR_BODY_LENGTH, 0);
	(void)n;
}

Test(fix_codec, wrong_begin_string)
{
	char buf[512];
	size_t n = build(buf, sizeof buf, ER);
	buf[8] = '2';                      /* FIX.4.2 */
	refused(buf, n, FIX_ERR_BEGIN_STRING, 0);
}

Test(fix_codec, truncated_then_garbage_is_dropped_up_to_the_next_message)
{
	char buf[1024];
	size_t a = build(buf, sizeof buf, ER);
	/* A message cut short by garbage where its body length was. */
	memcpy(buf + 12, "x", 1);
	size_t b = build(buf + a, sizeof buf - a, ER);
	struct fix_decode_counters c = { 0 };
	size_t used;
	cr_assert_eq(fix_decode(buf, a + b, &msg, &used, &c), FIX_ERR_BODY_LENGTH);
	cr_assert_eq(used, a);
	cr_assert_eq(fix_decode(buf + used, a + b - used, &msg, &used, &c), FIX_OK);
}

Test(fix_codec, missing_required_tags)
{
	char buf[512];
	size_t n = build(buf, sizeof buf, HDR "37=O1|11=5|17=E1|39=0|55=BTC|54=1|151=2|14=0|6=0|");
	refused(buf, n, FIX_ERR_MISSING_TAG, 150);
	n = build(buf, sizeof buf, "35=0|49=V|56=F|52=20260102-03:04:05.678|");
	refused(buf, n, FIX_ERR_MISSING_TAG, 34);
	n = build(buf, sizeof buf, "49=V|35=0|56=F|34=1|52=20260102-03:04:05.678|");
	refused(buf, n, FIX_ERR_MISSING_TAG, 35);
	n = build(buf, sizeof buf, "35=A|49=V|56=F|34=1|52=20260102-03:04:05.678|98=0|");
	refused(buf, n, FIX_ERR_MISSING_TAG, 108);
}

Test(fix_codec, duplicate_tags)
{
	char buf[512];
	size_t n = build(buf, sizeof buf, ER "11=6|");
	refused(buf, n, FIX_ERR_DUPLICATE_TAG, 11);
	n = build(buf, sizeof buf, ER "9=4|");
	refused(buf, n, FIX_ERR_DUPLICATE_TAG, 9);
}

Test(fix_codec, garbled_fields)
{
	char buf[512];
	size_t n = build(buf, sizeof buf, ER "58|");
	refused(buf, n, FIX_ERR_GARBLED, 0);
	n = build(buf, sizeof buf, ER "58=|");
	refused(buf, n, FIX_ERR_GARBLED, 0);
	n = build(buf, sizeof buf, ER "058=x|");
	refused(buf, n, FIX_ERR_GARBLED, 0);
	n = build(buf, sizeof buf, "35=0|49=V|56=F|34=x1|52=20260102-03:04:05.678|");
	refused(buf, n, FIX_ERR_GARBLED, 34);
}

Test(fix_codec, repeating_groups_may_repeat_their_tags_and_must_count_right)
{
	char buf[512];
	size_t n = build(buf, sizeof buf, ER "453=2|448=A|447=D|452=1|448=B|447=D|452=3|58=ok|");
	struct fix_decode_counters c = { 0 };
	size_t used;
	cr_assert_eq(fix_decode(buf, n, &msg, &used, &c), FIX_OK);
	cr_assert(fix_field_is(fix_get(&msg, 58), "ok"));
	n = build(buf, sizeof buf, ER "453=3|448=A|447=D|452=1|448=B|447=D|452=3|58=x|");
	refused(buf, n, FIX_ERR_GROUP, 0);
	n = build(buf, sizeof buf, ER "453=1|447=D|448=A|");
	refused(buf, n, FIX_ERR_GROUP, 0);
	/* A group's member outside its group is an ordinary duplicate. */
	n = build(buf, sizeof buf, ER "453=1|448=A|58=x|448=B|");
	refused(buf, n, FIX_ERR_DUPLICATE_TAG, 448);
}

Test(fix_codec, too_many_fields_and_too_long)
{
	char body[4096] = HDR;
	size_t k = strlen(body);
	for (int i = 0; i < FIX_MAX_FIELDS; i++)
		k += (size_t)snprintf(body + k, sizeof body - k, "%d=1|", 5000 + i);
	static char buf[8192];
	size_t n = build(buf, sizeof buf, body);
	refused(buf, n, FIX_ERR_TOO_MANY_FIELDS, 0);

	char big[2 * FIX_MAX_MSG];
	memset(big, 'x', sizeof big);
	memcpy(big, HDR "58=", strlen(HDR "58="));
	big[sizeof big - 1200] = '\0';
	strcat(big, "|");
	n = build(buf, sizeof buf, big);
	refused(buf, n, FIX_ERR_TOO_LONG, 0);
}

Test(fix_codec, error_names)
{
	cr_assert_str_eq(fix_err_name(FIX_ERR_CHECKSUM), "checksum");
	cr_assert_str_eq(fix_err_name(FIX_ERR_GROUP), "group");
	cr_assert_str_eq(fix_err_name(99), "?");
}
