/* The table-driven option parser: every accepted form, every error
 * message, and --help generated from the same table. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/options.h"

static bool follow, from_seen;
static const char *dir;
static uint64_t from, last;
static int64_t offset;
static double interval;
static char words[64];
static uint64_t events;
static char *call_values[4];
static int n_calls;

/* OPT_CALL: keeps each whole value; "bad" is refused with its own message. */
static bool keep_value(void *ctx, char *v)
{
	(void)ctx;
	if (!strcmp(v, "bad")) {
		fprintf(stderr, "fks test: --set bad: the caller's words\n");
		return false;
	}
	call_values[n_calls++] = v;
	return true;
}

static bool add_word(void *ctx, const char *w)
{
	(void)ctx;
	if (strcmp(w, "trade") && strcmp(w, "quote"))
		return false;
	strcat(words, w);
	strcat(words, ";");
	return true;
}

static const struct opt test_opts[] = {
	{ .name = "journal", .short_name = 'j', .kind = OPT_STRING, .dest = &dir, .arg = "DIR",
	  .help = "the journal", .dflt = "\"journal\"" },
	{ .name = "follow", .short_name = 'f', .kind = OPT_FLAG, .dest = &follow,
	  .help = "keep printing\nuntil stopped" },
	{ .name = "from", .kind = OPT_UINT, .dest = &from, .arg = "SEQ", .help = "start at SEQ",
	  .expect = "a sequence number", .seen = &from_seen },
	{ .name = "last", .kind = OPT_UINT, .dest = &last, .arg = "N", .help = "the last N", .dflt = "10",
	  .expect = "a count from 1 to 1000", .umin = 1, .umax = 1000 },
	{ .name = "offset", .kind = OPT_INT, .dest = &offset, .arg = "K", .help = "shift by K",
	  .expect = "-5 to 5", .imin = -5, .imax = 5 },
	{ .name = "interval", .kind = OPT_DECIMAL, .dest = &interval, .arg = "SECONDS", .help = "sampling",
	  .expect = "seconds > 0", .dmin = 0, .dmin_open = true },
	{ .name = "type", .kind = OPT_LIST, .arg = "T,...", .word = add_word, .help = "only these" },
	{ .name = "events", .short_name = 'n', .kind = OPT_COUNT, .dest = &events, .arg = "N", .help = "events",
	  .expect = "a count from 1 to 2G, e.g. 10k", .umin = 1, .umax = 2000000000 },
	{ .name = "set", .kind = OPT_CALL, .call = keep_value, .arg = "K=V", .help = "repeatable" },
	{ 0 },
};
static const struct opt_table table = { .cmd = "fks test", .help_col = 22, .opts = test_opts };

static void reset(void)
{
	follow = from_seen = false;
	dir = NULL;
	from = last = 0;
	offset = 0;
	interval = 0;
	words[0] = 0;
	events = 0;
	n_calls = 0;
}

/* Parse a NULL-terminated list of words after the command name.  The words
 * are copied to a static argv, so the test can read what the parser moved
 * after the compound literal's statement has ended. */
#define PARSE(...) parse_words((char *[]){ "test", __VA_ARGS__, NULL })
static char *parsed[32];
static int parse_words(char **words)
{
	int argc = 0;
	while (words[argc] && argc < 31) {
		parsed[argc] = words[argc];
		argc++;
	}
	parsed[argc] = NULL;
	char **argv = parsed;
	reset();
	return opts_parse(&table, argc, argv);
}

Test(options, long_forms_with_space_and_equals)
{
	cr_assert_eq(PARSE("--journal", "a", "--from=7", "--last", "3"), 0);
	cr_assert_str_eq(dir, "a");
	cr_assert_eq(from, 7);
	cr_assert(from_seen);
	cr_assert_eq(last, 3);
	cr_assert_eq(PARSE("--journal=b=c"), 0);
	cr_assert_str_eq(dir, "b=c");
}

Test(options, short_forms_and_clusters)
{
	cr_assert_eq(PARSE("-j", "x", "-f"), 0);
	cr_assert_str_eq(dir, "x");
	cr_assert(follow);
	cr_assert_eq(PARSE("-fjy"), 0);
	cr_assert(follow);
	cr_assert_str_eq(dir, "y");
}

Test(options, unambiguous_prefix_of_a_long_name)
{
	cr_assert_eq(PARSE("--fol", "--jour", "z"), 0);
	cr_assert(follow);
	cr_assert_str_eq(dir, "z");
}

Test(options, positionals_are_moved_to_the_front_in_order)
{
	cr_assert_eq(PARSE("one", "-f", "two", "--", "--from"), 3);
	cr_assert_str_eq(parsed[1], "one");
	cr_assert_str_eq(parsed[2], "two");
	cr_assert_str_eq(parsed[3], "--from");
	cr_assert(follow);
	cr_assert_not(from_seen, "after --, --from is a word");
}

Test(options, negative_and_bounded_integers)
{
	cr_assert_eq(PARSE("--offset", "-5"), 0);
	cr_assert_eq(offset, -5);
	cr_assert_eq(PARSE("--interval", "0.25"), 0);
	cr_assert_float_eq(interval, 0.25, 1e-12);
}

Test(options, list_hands_each_word_over)
{
	cr_assert_eq(PARSE("--type", "trade,quote"), 0);
	cr_assert_str_eq(words, "trade;quote;");
}

Test(options, help_wins, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("-f", "--help", "--bogus"), OPTS_HELP);
	cr_assert_eq(PARSE("-h"), OPTS_HELP);
	cr_assert_eq(PARSE("--he"), OPTS_HELP);
}

Test(options, unknown_long_option, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--frm", "3"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: unknown option '--frm'; did you mean --from?\n"
				"Try 'fks test --help'.\n");
}

Test(options, unknown_short_option, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("-fq"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: unknown option '-q'\n"
				"Try 'fks test --help'.\n");
}

Test(options, far_off_option_gets_no_suggestion, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--frobnicate"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: unknown option '--frobnicate'\n"
				"Try 'fks test --help'.\n");
}

Test(options, swapped_letters_suggest_the_option, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--jounral=x", "--evnets", "3"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: unknown option '--jounral'; did you mean --journal?\n"
				"fks test: unknown option '--evnets'; did you mean --events?\n"
				"Try 'fks test --help'.\n");
}

Test(options, edit_distance_counts_each_mistake_once)
{
	cr_assert_eq(opts_edit_distance("input", 5, "input"), 0);
	cr_assert_eq(opts_edit_distance("inptu", 5, "input"), 1);
	cr_assert_eq(opts_edit_distance("inpt", 4, "input"), 1);
	cr_assert_eq(opts_edit_distance("innput", 6, "input"), 1);
	cr_assert_eq(opts_edit_distance("onput", 5, "input"), 1);
	cr_assert_eq(opts_edit_distance("", 0, "input"), 5);
	cr_assert_eq(opts_edit_distance("inputXYZ", 5, "input"), 0, "only a[0..alen) counts");
	cr_assert(opts_is_close(2, "journal"));
	cr_assert_not(opts_is_close(2, "from"));
	cr_assert_not(opts_is_close(0, "from"), "an exact name is no suggestion");
}

Test(options, ambiguous_prefix, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--f"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: ambiguous option '--f' (--follow, --from)\n"
				"Try 'fks test --help'.\n");
}

Test(options, missing_argument, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("-f", "--from"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: --from needs a value\n"
				"Try 'fks test --help'.\n");
}

Test(options, flag_given_a_value, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--follow=yes"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: --follow takes no value\n"
				"Try 'fks test --help'.\n");
}

Test(options, malformed_numbers_are_refused_by_name, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--from", "-3", "--from=", "--from", "12x", "--offset", "1.5", "--interval", "soon"),
		     OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: --from: expected a sequence number, got '-3'\n"
				"fks test: --from: expected a sequence number, got ''\n"
				"fks test: --from: expected a sequence number, got '12x'\n"
				"fks test: --offset: expected -5 to 5, got '1.5'\n"
				"fks test: --interval: expected seconds > 0, got 'soon'\n"
				"Try 'fks test --help'.\n");
}

Test(options, out_of_range_is_refused_by_name, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--last", "0", "--last", "1001", "--offset", "6", "--interval", "0",
			   "--from", "18446744073709551616"),
		     OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: --last: expected a count from 1 to 1000, got '0'\n"
				"fks test: --last: expected a count from 1 to 1000, got '1001'\n"
				"fks test: --offset: expected -5 to 5, got '6'\n"
				"fks test: --interval: expected seconds > 0, got '0'\n"
				"fks test: --from: expected a sequence number, got '18446744073709551616'\n"
				"Try 'fks test --help'.\n");
}

Test(options, bad_list_word_names_option_and_word, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--type", "trade,frob"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: --type: unknown 'frob'\n"
				"Try 'fks test --help'.\n");
}

Test(options, help_is_generated_from_the_table)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	opts_print_help(&table, out);
	fclose(out);
	cr_assert_str_eq(text, "  -j, --journal DIR   the journal (default \"journal\")\n"
			       "  -f, --follow        keep printing\n"
			       "                      until stopped\n"
			       "  --from SEQ          start at SEQ\n"
			       "  --last N            the last N (default 10)\n"
			       "  --offset K          shift by K\n"
			       "  --interval SECONDS  sampling\n"
			       "  --type T,...        only these\n"
			       "  -n, --events N      events\n"
			       "  --set K=V           repeatable\n");
	free(text);
}

Test(options, counts_take_k_m_g_suffixes)
{
	cr_assert_eq(PARSE("--events", "250"), 0);
	cr_assert_eq(events, 250);
	cr_assert_eq(PARSE("-n", "10k"), 0);
	cr_assert_eq(events, 10000);
	cr_assert_eq(PARSE("--events=3M"), 0);
	cr_assert_eq(events, 3000000);
	cr_assert_eq(PARSE("-n2g"), 0);
	cr_assert_eq(events, 2000000000);
	cr_assert_eq(PARSE("-n", "1K"), 0);
	cr_assert_eq(events, 1000);
}

Test(options, bad_counts_are_refused_by_name, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("-n", "0", "-n", "3G", "-n", "10kk", "-n", "k", "-n", "-1k", "-n", "1.5M", "-n", "10x"),
		     OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: --events: expected a count from 1 to 2G, e.g. 10k, got '0'\n"
				"fks test: --events: expected a count from 1 to 2G, e.g. 10k, got '3G'\n"
				"fks test: --events: expected a count from 1 to 2G, e.g. 10k, got '10kk'\n"
				"fks test: --events: expected a count from 1 to 2G, e.g. 10k, got 'k'\n"
				"fks test: --events: expected a count from 1 to 2G, e.g. 10k, got '-1k'\n"
				"fks test: --events: expected a count from 1 to 2G, e.g. 10k, got '1.5M'\n"
				"fks test: --events: expected a count from 1 to 2G, e.g. 10k, got '10x'\n"
				"Try 'fks test --help'.\n");
}

Test(options, count_overflow_is_refused)
{
	uint64_t v = 7;
	cr_assert(opts_parse_count("18446744073709551615", UINT64_MAX, &v));
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_not(opts_parse_count("18446744073709552k", UINT64_MAX, &v));
	cr_assert_not(opts_parse_count("18446744073709551616", UINT64_MAX, &v));
	cr_assert_not(opts_parse_count("", UINT64_MAX, &v));
	cr_assert_eq(v, UINT64_MAX, "a refused count leaves *out alone");
}

Test(options, call_gets_each_whole_value_in_order)
{
	cr_assert_eq(PARSE("--set", "a=1,2", "--set=b=3"), 0);
	cr_assert_eq(n_calls, 2);
	cr_assert_str_eq(call_values[0], "a=1,2");
	cr_assert_str_eq(call_values[1], "b=3");
}

Test(options, call_reports_its_own_error, .init = cr_redirect_stderr)
{
	cr_assert_eq(PARSE("--set", "bad", "--set", "ok"), OPTS_BAD);
	fflush(stderr);
	cr_assert_stderr_eq_str("fks test: --set bad: the caller's words\n"
				"Try 'fks test --help'.\n");
	cr_assert_eq(n_calls, 1, "parsing goes on after a refused value");
}

Test(options, help_entry_wider_than_the_column_keeps_two_spaces)
{
	static const struct opt wide[] = {
		{ .name = "strategy", .kind = OPT_STRING, .dest = &dir, .arg = "KIND[:k=v,...]",
		  .help = "run it\non every instrument" },
		{ 0 },
	};
	const struct opt_table t = { .cmd = "fks test", .help_col = 12, .opts = wide };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	opts_print_help(&t, out);
	fclose(out);
	cr_assert_str_eq(text, "  --strategy KIND[:k=v,...]  run it\n"
			       "            on every instrument\n");
	free(text);
}

Test(options, unknown_options_are_counted_for_the_caller, .init = cr_redirect_stderr)
{
	unsigned unknown = 0;
	const struct opt_table t = { .cmd = "fks test", .help_col = 22, .opts = test_opts, .unknown = &unknown };
	char *argv[] = { "test", "--frm", "-q", "--f", "--from", "x", NULL };
	cr_assert_eq(opts_parse(&t, 6, argv), OPTS_BAD);
	cr_assert_eq(unknown, 3, "unknown, unknown short and ambiguous count; a bad value does not");
}
