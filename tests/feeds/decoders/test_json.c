/* The shared JSON venue helpers: tokenising, lookups, numbers, UTF-8. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "feeds/decoders/json.h"

static struct json_tok tok[64];
static struct json_doc d;

static int parse(const char *s)
{
	return json_parse(&d, s, strlen(s), tok, 64);
}

Test(json, parse_accepts_any_whitespace_and_key_order)
{
	cr_assert_eq(parse(" \n\t{ \"b\" :\r\n[ 1 , 2 ] ,\"a\":\"x\" }\n "), JSON_OK);
	int a = json_get(&d, 0, "a"), b = json_get(&d, 0, "b");
	cr_assert(json_eq(&d, a, "x"));
	cr_assert_eq(d.tok[b].type, JSON_ARRAY);
	cr_assert_eq(d.tok[b].size, 2);
	cr_assert_eq(json_get(&d, 0, "c"), -1);
	cr_assert_eq(json_need(&d, 0, "c", JSON_STRING), JSON_E_MISSING_FIELD);
	cr_assert_eq(json_need(&d, 0, "a", JSON_ARRAY), JSON_E_WRONG_TYPE);
	cr_assert_eq(json_need(&d, 0, "b", JSON_ARRAY), b);
}

Test(json, lookup_skips_nested_values_and_unknown_keys)
{
	/* the "s" inside "x" must not be found as the top-level "s" */
	cr_assert_eq(parse("{\"x\":{\"s\":\"inner\",\"y\":[[1,{\"s\":2}]]},\"zz\":null,\"s\":\"outer\"}"),
		     JSON_OK);
	cr_assert(json_eq(&d, json_get(&d, 0, "s"), "outer"));
	int x = json_get(&d, 0, "x");
	cr_assert(json_eq(&d, json_get(&d, x, "s"), "inner"));
	cr_assert_eq(json_get(&d, json_get(&d, 0, "zz"), "s"), -1, "null is not an object");
}

Test(json, array_iteration)
{
	cr_assert_eq(parse("{\"b\":[[\"1.5\",\"2\"],[\"3\",\"4\"],[\"5\",\"6.25\"]]}"), JSON_OK);
	int b = json_get(&d, 0, "b");
	int64_t want_px[] = { 150, 300, 500 }, want_q[] = { 200, 400, 625 };
	int seen = 0;
	JSON_FOR_EACH(&d, b, k, e) {
		int64_t px, q;
		cr_assert_eq(json_level(&d, e, 2, 2, &px, &q), JSON_OK);
		cr_assert_eq(px, want_px[k]);
		cr_assert_eq(q, want_q[k]);
		seen++;
	}
	cr_assert_eq(seen, 3);
}

Test(json, parse_errors_have_specific_reasons)
{
	cr_assert_eq(parse("{\"a\":\"x"), JSON_E_TRUNCATED);
	cr_assert_eq(parse("{\"a\":[1,2"), JSON_E_TRUNCATED);
	cr_assert_eq(parse("{\"a\":12"), JSON_E_TRUNCATED);
	cr_assert_eq(parse(""), JSON_E_TRUNCATED);
	cr_assert_eq(parse("   "), JSON_E_TRUNCATED);
	cr_assert_eq(parse("\"str\""), JSON_E_BAD_JSON);
	cr_assert_eq(parse("42"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\":1}}"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\":1} x"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\":1}{\"b\":2}"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\"}"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{1:2}"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\":\"b\":\"c\"}"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\":[1,2}"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\":\"\\q\"}"), JSON_E_BAD_JSON);
	cr_assert_eq(parse("{\"a\":@}"), JSON_E_BAD_JSON);
	/* a NUL inside the length */
	cr_assert_eq(json_parse(&d, "{\"a\":1}\0", 8, tok, 64), JSON_E_BAD_JSON);
	/* too deep */
	char deep[200];
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	cr_assert_eq(json_parse(&d, deep, 200, tok, 64), JSON_E_TOO_MANY_TOKENS);
	struct json_tok many[128];
	cr_assert_eq(json_parse(&d, deep, 200, many, 128), JSON_E_BAD_JSON);
	/* too many tokens */
	cr_assert_eq(json_parse(&d, "[1,2,3,4]", 9, tok, 3), JSON_E_TOO_MANY_TOKENS);
	cr_assert_str_eq(json_err_name(JSON_E_TRUNCATED), "truncated");
	cr_assert_str_eq(json_err_name(JSON_E_PRECISION), "precision");
	cr_assert_str_eq(json_err_name(-999), "unknown");
}

Test(json, fixed_point_from_strings_and_bare_numbers)
{
	cr_assert_eq(parse("{\"s\":\"27.06\",\"n\":27.06,\"z\":\"27.0600000\",\"neg\":-0.5,"
			   "\"exp\":2.7e1,\"sexp\":\"2.7E1\",\"plus\":\"+1\",\"dot\":\".5\","
			   "\"trail\":\"5.\",\"big\":\"99999999999999999999\",\"prec\":\"1.23456\","
			   "\"t\":true,\"o\":{},\"ws\":\" 1\",\"empty\":\"\",\"hex\":\"0x10\"}"),
		     JSON_OK);
	int64_t v = 0;
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "s"), 4, &v), JSON_OK);
	cr_assert_eq(v, 270600);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "n"), 2, &v), JSON_OK);
	cr_assert_eq(v, 2706);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "z"), 2, &v), JSON_OK, "trailing zeros are exact");
	cr_assert_eq(v, 2706);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "neg"), 1, &v), JSON_OK);
	cr_assert_eq(v, -5);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "exp"), 2, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "sexp"), 2, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "plus"), 2, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "dot"), 2, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "trail"), 2, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "big"), 2, &v), JSON_E_NUMBER_OVERFLOW);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "prec"), 4, &v), JSON_E_PRECISION);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "t"), 4, &v), JSON_E_WRONG_TYPE);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "o"), 4, &v), JSON_E_WRONG_TYPE);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "ws"), 4, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "empty"), 4, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "hex"), 4, &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_fx(&d, json_get(&d, 0, "missing"), 4, &v), JSON_E_MISSING_FIELD);
	cr_assert_eq(v, -5, "failures leave the output alone");
}

Test(json, integers_with_overflow_detection)
{
	cr_assert_eq(parse("{\"a\":9223372036854775807,\"b\":-9223372036854775808,"
			   "\"c\":9223372036854775808,\"d\":\"18446744073709551615\","
			   "\"e\":18446744073709551616,\"f\":1.5,\"g\":-1,\"h\":1e3,\"i\":\"705291099\"}"),
		     JSON_OK);
	int64_t v;
	uint64_t u;
	cr_assert_eq(json_i64(&d, json_get(&d, 0, "a"), &v), JSON_OK);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(json_i64(&d, json_get(&d, 0, "b"), &v), JSON_OK);
	cr_assert_eq(v, INT64_MIN);
	cr_assert_eq(json_i64(&d, json_get(&d, 0, "c"), &v), JSON_E_NUMBER_OVERFLOW);
	cr_assert_eq(json_u64(&d, json_get(&d, 0, "c"), &u), JSON_OK);
	cr_assert_eq(u, 9223372036854775808ull);
	cr_assert_eq(json_u64(&d, json_get(&d, 0, "d"), &u), JSON_OK);
	cr_assert_eq(u, UINT64_MAX);
	cr_assert_eq(json_u64(&d, json_get(&d, 0, "e"), &u), JSON_E_NUMBER_OVERFLOW);
	cr_assert_eq(json_i64(&d, json_get(&d, 0, "f"), &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_u64(&d, json_get(&d, 0, "g"), &u), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_i64(&d, json_get(&d, 0, "g"), &v), JSON_OK);
	cr_assert_eq(v, -1);
	cr_assert_eq(json_i64(&d, json_get(&d, 0, "h"), &v), JSON_E_BAD_NUMBER);
	cr_assert_eq(json_u64(&d, json_get(&d, 0, "i"), &u), JSON_OK);
	cr_assert_eq(u, 705291099);
}

Test(json, booleans_and_times)
{
	cr_assert_eq(parse("{\"t\":true,\"f\":false,\"s\":\"true\",\"x\":tru}"), JSON_OK);
	bool b = false;
	cr_assert_eq(json_bool(&d, json_get(&d, 0, "t"), &b), JSON_OK);
	cr_assert(b);
	cr_assert_eq(json_bool(&d, json_get(&d, 0, "f"), &b), JSON_OK);
	cr_assert_not(b);
	cr_assert_eq(json_bool(&d, json_get(&d, 0, "s"), &b), JSON_E_WRONG_TYPE);
	cr_assert_eq(json_bool(&d, json_get(&d, 0, "x"), &b), JSON_E_WRONG_TYPE);
	int64_t ns;
	cr_assert_eq(json_ms_to_ns(1639351062244, &ns), JSON_OK);
	cr_assert_eq(ns, 1639351062244000000);
	cr_assert_eq(json_ms_to_ns(-1, &ns), JSON_E_NUMBER_OVERFLOW);
	cr_assert_eq(json_ms_to_ns(INT64_MAX / 1000, &ns), JSON_E_NUMBER_OVERFLOW);
}

Test(json, utf8_validation)
{
	cr_assert(json_utf8_valid("BTCUSDT", 7));
	cr_assert(json_utf8_valid("\xc3\xa9", 2));              /* é */
	cr_assert(json_utf8_valid("\xe2\x82\xac", 3));          /* € */
	cr_assert(json_utf8_valid("\xf0\x9f\x98\x80", 4));      /* U+1F600 */
	cr_assert_not(json_utf8_valid("\xc3", 1));              /* truncated */
	cr_assert_not(json_utf8_valid("\xc0\xaf", 2));          /* overlong */
	cr_assert_not(json_utf8_valid("\xe0\x80\xaf", 3));      /* overlong */
	cr_assert_not(json_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	cr_assert_not(json_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	cr_assert_not(json_utf8_valid("\xff", 1));
	cr_assert_not(json_utf8_valid("\x80", 1));
	cr_assert_eq(parse("{\"s\":\"BTC\xff\"}"), JSON_OK, "jsmn does not look at UTF-8");
	const char *s;
	size_t n;
	cr_assert_eq(json_str(&d, json_get(&d, 0, "s"), &s, &n), JSON_E_BAD_UTF8);
}

Test(json, levels_need_positive_prices)
{
	cr_assert_eq(parse("{\"a\":[\"0\",\"1\"],\"b\":[\"1\",\"-1\"],\"c\":[\"1\"],\"d\":\"1\","
			   "\"e\":[\"1\",\"2\",\"extra\"]}"), JSON_OK);
	int64_t px, q;
	cr_assert_eq(json_level(&d, json_get(&d, 0, "a"), 2, 2, &px, &q), JSON_E_BAD_VALUE);
	cr_assert_eq(json_level(&d, json_get(&d, 0, "b"), 2, 2, &px, &q), JSON_E_BAD_VALUE);
	cr_assert_eq(json_level(&d, json_get(&d, 0, "c"), 2, 2, &px, &q), JSON_E_WRONG_TYPE);
	cr_assert_eq(json_level(&d, json_get(&d, 0, "d"), 2, 2, &px, &q), JSON_E_WRONG_TYPE);
	cr_assert_eq(json_level(&d, json_get(&d, 0, "e"), 2, 2, &px, &q), JSON_OK);
	cr_assert_eq(px, 100);
	cr_assert_eq(q, 200);
}

struct sink {
	union fks_event ev[8];
	int n;
};

static void collect(void *ctx, const union fks_event *ev)
{
	struct sink *s = ctx;
	if (s->n < 8)
		s->ev[s->n] = *ev;
	s->n++;
}

Test(json, book_set_emits_deltas_and_quotes_only_on_change)
{
	static struct book_level st[8];
	struct book_l2 b;
	struct json_top top = { 0 };
	struct fks_event_hdr h;
	struct sink s = { .n = 0 };

	book_l2_init(&b, 3, st, 4);
	json_hdr(&h, 3, 1000, 2000, 0);
	cr_assert_eq(json_book_set(&b, FKS_SIDE_BUY, 100, 5, 77, &h, collect, &s), JSON_OK);
	cr_assert_eq(json_book_set(&b, FKS_SIDE_BUY, 100, 5, 78, &h, collect, &s), JSON_OK);
	cr_assert_eq(json_book_set(&b, FKS_SIDE_SELL, 101, 0, 79, &h, collect, &s), JSON_OK);
	cr_assert_eq(s.n, 1, "a repeat and a delete of nothing emit nothing");
	cr_assert_eq(s.ev[0].h.type, FKS_EV_BOOK_DELTA);
	cr_assert_eq(s.ev[0].h.source, FKS_STAGE_FEED);
	cr_assert_eq(s.ev[0].h.instrument, 3);
	cr_assert_eq(s.ev[0].h.seq, 0);
	cr_assert_eq(s.ev[0].h.event_time_ns, 1000);
	cr_assert_eq(s.ev[0].h.recv_time_ns, 2000);
	cr_assert_eq(s.ev[0].book.px, 100);
	cr_assert_eq(s.ev[0].book.qty, 5);
	cr_assert_eq(s.ev[0].book.update_id, 77);
	cr_assert_eq(s.ev[0].book.side, FKS_SIDE_BUY);
	cr_assert_eq(s.ev[0].book.action, FKS_BOOK_SET);
	cr_assert(json_quote_if_changed(&b, &top, &h, collect, &s));
	cr_assert_not(json_quote_if_changed(&b, &top, &h, collect, &s));
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.ev[1].h.type, FKS_EV_QUOTE);
	cr_assert_eq(s.ev[1].quote.bid_px, 100);
	cr_assert_eq(s.ev[1].quote.bid_qty, 5);
	cr_assert_eq(s.ev[1].quote.ask_px, 0);
	cr_assert_eq(json_book_set(&b, FKS_SIDE_BUY, 100, 0, 80, &h, collect, &s), JSON_OK);
	cr_assert_eq(s.ev[2].book.action, FKS_BOOK_DELETE);
	cr_assert_eq(json_book_set(&b, FKS_SIDE_BUY, -1, 3, 80, &h, collect, &s), JSON_E_BAD_VALUE);
	for (int i = 1; i <= 4; i++)
		json_book_set(&b, FKS_SIDE_SELL, 200 + i, 1, 81, &h, NULL, NULL);
	cr_assert_eq(json_book_set(&b, FKS_SIDE_SELL, 300, 1, 82, &h, collect, &s), JSON_E_BOOK_FULL);
	cr_assert_eq(s.n, 3);
	/* a better level evicts the worst one, and says so */
	cr_assert_eq(json_book_set(&b, FKS_SIDE_SELL, 150, 9, 83, &h, collect, &s), JSON_OK);
	cr_assert_eq(s.n, 5);
	cr_assert_eq(s.ev[3].book.px, 204);
	cr_assert_eq(s.ev[3].book.action, FKS_BOOK_DELETE);
	cr_assert_eq(s.ev[4].book.px, 150);
	cr_assert_eq(book_l2_best(&b, FKS_SIDE_SELL)->px, 150);
	cr_assert_eq(book_l2_qty(&b, FKS_SIDE_SELL, 204), 0);
	cr_assert_eq(b.ask.n, 4);
}
