/* shm/params: the error names the key it was given, the integer parser takes
 * exactly the integers in [lo, hi] and words each refusal as documented. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "shm/params.h"

static const char *const KEY = "depth";

Test(params, fail_fills_key_and_sentence)
{
	struct fks_param_error err = { 0 };

	cr_assert_eq(fks_param_fail(&err, KEY, "%s: %d is odd", KEY, 7), -1);
	cr_assert_eq(err.key, KEY);
	cr_assert_str_eq(err.msg, "depth: 7 is odd");
	cr_assert_eq(fks_param_fail(&err, NULL, "no key"), -1);
	cr_assert_null(err.key);
	cr_assert_str_eq(err.msg, "no key");
	cr_assert_eq(fks_param_fail(NULL, KEY, "dropped"), -1);
}

Test(params, fail_truncates_to_the_buffer)
{
	struct fks_param_error err = { 0 };
	char longer[400];

	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	fks_param_fail(&err, KEY, "%s", longer);
	cr_assert_eq(strlen(err.msg), sizeof err.msg - 1);
}

Test(params, unknown_names_the_key_and_lists_the_valid_ones)
{
	const struct fks_param p = { "limt", "5" };
	struct fks_param_error err = { 0 };

	cr_assert_eq(fks_param_unknown(&p, "limit", &err), -1);
	cr_assert_eq(err.key, p.key);
	cr_assert_str_eq(err.msg, "unknown parameter; valid: limit");
}

Test(params, u32_takes_integers_in_range)
{
	static const struct { const char *text; uint32_t want; } ok[] = {
		{ "1", 1 }, { "100", 100 }, { "+7", 7 }, { "007", 7 }, { "50", 50 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		const struct fks_param p = { KEY, ok[i].text };
		struct fks_param_error err = { 0 };
		uint32_t v = 0;

		cr_assert_eq(fks_param_u32(&p, 1, 100, &v, &err), 0, "%s: %s", ok[i].text, err.msg);
		cr_assert_eq(v, ok[i].want, "%s read as %u", ok[i].text, v);
	}
	const struct fks_param top = { KEY, "4294967295" };
	uint32_t v = 0;

	cr_assert_eq(fks_param_u32(&top, 0, UINT32_MAX, &v, NULL), 0);
	cr_assert_eq(v, UINT32_MAX);
}

Test(params, u32_refuses_what_is_not_an_integer)
{
	static const char *const bad[] = {
		"", "abc", "5x", "1.0", "1.", ".5", " 5", "5 ", "0x10", "1e3", "--1",
		"99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct fks_param p = { KEY, bad[i] };
		struct fks_param_error err = { 0 };
		uint32_t v = 42;
		char want[200];

		cr_assert_eq(fks_param_u32(&p, 0, 100, &v, &err), -1, "'%s' accepted", bad[i]);
		cr_assert_eq(err.key, KEY, "'%s': error names %s", bad[i], err.key ? err.key : "nothing");
		snprintf(want, sizeof want, "\"%s\": expected an integer", bad[i]);
		cr_assert_str_eq(err.msg, want);
		cr_assert_eq(v, 42, "'%s' wrote %u", bad[i], v);
	}
	const struct fks_param none = { KEY, NULL };
	struct fks_param_error err = { 0 };
	uint32_t v;

	cr_assert_eq(fks_param_u32(&none, 0, 100, &v, &err), -1);
	cr_assert_str_eq(err.msg, "\"\": expected an integer");
}

Test(params, u32_refuses_what_is_out_of_range)
{
	static const char *const bad[] = { "0", "101", "-1", "-0", "4294967296", "9223372036854775807" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct fks_param p = { KEY, bad[i] };
		struct fks_param_error err = { 0 };
		uint32_t v = 42;
		char want[200];

		cr_assert_eq(fks_param_u32(&p, 1, 100, &v, &err), -1, "'%s' accepted", bad[i]);
		cr_assert_eq(err.key, KEY);
		snprintf(want, sizeof want, "%s is out of range: expected 1..100", bad[i]);
		cr_assert_str_eq(err.msg, want);
		cr_assert_eq(v, 42, "'%s' wrote %u", bad[i], v);
	}
}
