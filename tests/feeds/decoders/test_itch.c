/*
 * ITCH 5.0 decoder: the shared Nasdaq sample against the counts in
 * ../shared/data/README.md and against a naive replay written here, then
 * hand-built messages of every type that makes events, then bad input.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/itch.h"

/* 2010-12-24 00:00 US Eastern (EST, UTC-5) = 05:00 UTC, epoch seconds. */
#define MIDNIGHT_NS (1293166800LL * 1000000000LL)

/* ---- fixtures --------------------------------------------------------- */

static char *read_sample(size_t *len)
{
	const char *root = getenv("FKS_SHARED");
	cr_assert_not_null(root, "FKS_SHARED must point at the shared directory");
	char path[1024];
	snprintf(path, sizeof path, "%s/data/itch/ex20101224.TEST_ITCH_50", root);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct sink {
	size_t n, cap;
	union fks_event *ev;
};

static void collect(void *ctx, const union fks_event *ev)
{
	struct sink *s = ctx;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->ev = realloc(s->ev, s->cap * sizeof *s->ev);
	}
	s->ev[s->n++] = *ev;
}

struct fixture {
	struct feed_symtab tab;
	struct itch d;
	struct sink out;
};

static struct fixture *fx_new(bool learn, const struct itch_cfg *cfg)
{
	struct fixture *f = calloc(1, sizeof *f);
	feed_symtab_init(&f->tab, learn, 4, 0);
	struct itch_cfg def = {.session_midnight_ns = MIDNIGHT_NS};
	cr_assert_eq(itch_init(&f->d, &f->tab, cfg ? cfg : &def), 0);
	return f;
}

static void fx_free(struct fixture *f)
{
	itch_free(&f->d);
	free(f->out.ev);
	free(f);
}

static uint64_t count_of(const struct itch *d, const char *name)
{
	const struct named_counter *c;
	size_t n = itch_counts(d, &c);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].n;
	cr_assert_fail("no counter %s", name);
	return 0;
}

static uint64_t error_of(const struct itch *d, const char *name)
{
	const struct named_counter *c;
	size_t n = itch_errors(d, &c);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].n;
	cr_assert_fail("no error counter %s", name);
	return 0;
}

static uint64_t errors_total(const struct itch *d)
{
	const struct named_counter *c;
	size_t n = itch_errors(d, &c);
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += c[i].n;
	return t;
}

/* ---- the shared sample: counts ---------------------------------------- */

Test(itch, sample_message_counts_match_the_readme)
{
	size_t len;
	char *buf = read_sample(&len);
	cr_assert_eq(len, 465048, "README: 465,048 bytes");
	struct fixture *f = fx_new(true, NULL);
	size_t used = itch_decode_stream(&f->d, buf, len, 7, collect, &f->out);
	cr_assert_eq(used, len);
	/* ../shared/data/README.md */
	static const struct { const char *type; uint64_t n; } want[] = {
		{"S", 6}, {"R", 3}, {"H", 3}, {"A", 4997}, {"F", 3}, {"E", 198},
		{"X", 45}, {"D", 1745}, {"U", 12}, {"P", 5000},
		{"Y", 0}, {"L", 0}, {"V", 0}, {"W", 0}, {"K", 0}, {"J", 0}, {"h", 0},
		{"C", 0}, {"Q", 0}, {"B", 0}, {"I", 0}, {"N", 0}, {"O", 0},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_expect_eq(count_of(&f->d, want[i].type), want[i].n, "%s: %llu", want[i].type,
			     (unsigned long long)count_of(&f->d, want[i].type));
	cr_assert_eq(itch_messages(&f->d), 12012);
	/* The three stocks of the directory, in file order. */
	cr_assert_eq(f->tab.n, 3);
	cr_assert_str_eq(feed_symtab_get(&f->tab, 1)->name, "ALC");
	cr_assert_str_eq(feed_symtab_get(&f->tab, 2)->name, "BOB");
	cr_assert_str_eq(feed_symtab_get(&f->tab, 3)->name, "CHAR");
	cr_assert_eq(feed_symtab_get(&f->tab, 2)->px_scale, 4);
	/* Only order references the sample never added may go wrong. */
	cr_assert_eq(errors_total(&f->d), error_of(&f->d, "unknown_ref"));
	for (size_t i = 0; i < f->out.n; i++) {
		cr_assert_eq(f->out.ev[i].h.recv_time_ns, 7);
		cr_assert_eq(f->out.ev[i].h.source, FKS_STAGE_FEED);
		cr_assert_eq(f->out.ev[i].h.seq, 0);
	}
	fx_free(f);
	free(buf);
}

/* ---- the shared sample: an independent replay ------------------------- */

/* Message lengths from the ITCH 5.0 spec, for the types in the sample. */
static size_t naive_len(char t)
{
	switch (t) {
	case 'S': return 12;
	case 'R': return 39;
	case 'H': return 25;
	case 'A': return 36;
	case 'F': return 40;
	case 'E': return 31;
	case 'X': return 23;
	case 'D': return 19;
	case 'U': return 35;
	case 'P': return 44;
	default: return 0;
	}
}

static uint64_t rd(const char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | (uint8_t)p[i];
	return v;
}

struct naive_order {
	uint16_t loc;
	uint64_t ref;
	char side;
	int64_t px, qty;
	bool live;
};

struct naive {
	struct naive_order o[8192];
	size_t n;
	char sym[4][9];
	uint64_t unknown[4];
	uint64_t trades, trade_qty;
};

static struct naive_order *naive_find(struct naive *r, uint16_t loc, uint64_t ref)
{
	for (size_t i = r->n; i-- > 0;)
		if (r->o[i].live && r->o[i].ref == ref && r->o[i].loc == loc)
			return &r->o[i];
	r->unknown[loc]++;
	return NULL;
}

static void naive_replay(const char *b, size_t len, struct naive *r)
{
	for (size_t off = 0; off < len;) {
		const char *m = b + off + 2; /* the 2-byte prefix is zero here */
		size_t n = naive_len(m[0]);
		cr_assert_neq(n, 0, "type %c at %zu", m[0], off);
		uint16_t loc = (uint16_t)rd(m + 1, 2);
		cr_assert_lt(loc, 4);
		struct naive_order *o;
		switch (m[0]) {
		case 'R': {
			memcpy(r->sym[loc], m + 11, 8);
			char *sp = strchr(r->sym[loc], ' ');
			if (sp)
				*sp = 0;
			break;
		}
		case 'A':
		case 'F':
			cr_assert_lt(r->n, 8192);
			r->o[r->n++] = (struct naive_order){loc, rd(m + 11, 8), m[19],
				(int64_t)rd(m + 32, 4), (int64_t)rd(m + 20, 4), true};
			break;
		case 'E':
		case 'X': {
			int64_t q = (int64_t)rd(m + 19, 4);
			if ((o = naive_find(r, loc, rd(m + 11, 8)))) {
				if (q > o->qty)
					q = o->qty;
				o->qty -= q;
				o->live = o->qty > 0;
				if (m[0] == 'E')
					r->trades++, r->trade_qty += (uint64_t)q;
			}
			break;
		}
		case 'D':
			if ((o = naive_find(r, loc, rd(m + 11, 8))))
				o->live = false;
			break;
		case 'U':
			if ((o = naive_find(r, loc, rd(m + 11, 8)))) {
				o->live = false;
				r->o[r->n++] = (struct naive_order){loc, rd(m + 19, 8), o->side,
					(int64_t)rd(m + 31, 4), (int64_t)rd(m + 27, 4), true};
			}
			break;
		case 'P':
			r->trades++, r->trade_qty += rd(m + 20, 4);
			break;
		}
		off += 2 + n;
	}
}

/* Levels of one stock and side, best first, by brute force. */
static size_t naive_levels(const struct naive *r, uint16_t loc, char side,
			   struct book_l3_level *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct naive_order *o = &r->o[i];
		if (!o->live || o->loc != loc || o->side != side)
			continue;
		size_t j = 0;
		while (j < k && out[j].px != o->px)
			j++;
		if (j == k) {
			cr_assert_lt(k, cap);
			out[k++] = (struct book_l3_level){.px = o->px};
		}
		out[j].qty += o->qty;
		out[j].orders++;
	}
	/* insertion sort, best first */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0; j--) {
			bool better = side == 'B' ? out[j].px > out[j - 1].px : out[j].px < out[j - 1].px;
			if (!better)
				break;
			struct book_l3_level t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return k;
}

/* The L2 book the deltas describe, per instrument and side. */
struct l2_from_events {
	struct book_l3_level lv[4][3][4096];
	size_t n[4][3];
	struct fks_ev_quote last_quote[4];
	uint64_t trades, trade_qty;
};

static void apply_event(void *ctx, const union fks_event *ev)
{
	struct l2_from_events *s = ctx;
	uint32_t id = ev->h.instrument;
	cr_assert(id >= 1 && id <= 3);
	if (ev->h.type == FKS_EV_TRADE) {
		s->trades++;
		s->trade_qty += (uint64_t)ev->trade.qty;
		return;
	}
	if (ev->h.type == FKS_EV_QUOTE) {
		s->last_quote[id] = ev->quote;
		return;
	}
	cr_assert_eq(ev->h.type, FKS_EV_BOOK_DELTA);
	uint8_t side = ev->book.side;
	struct book_l3_level *lv = s->lv[id][side];
	size_t *n = &s->n[id][side];
	size_t j = 0;
	while (j < *n && lv[j].px != ev->book.px)
		j++;
	if (ev->book.action == FKS_BOOK_DELETE) {
		cr_assert_eq(ev->book.qty, 0);
		cr_assert_lt(j, *n, "delete of a level never set");
		lv[j] = lv[--*n];
		return;
	}
	cr_assert_eq(ev->book.action, FKS_BOOK_SET);
	cr_assert_gt(ev->book.qty, 0);
	if (j == *n)
		lv[(*n)++].px = ev->book.px;
	lv[j].qty = ev->book.qty;
}

Test(itch, sample_final_books_match_a_naive_replay)
{
	size_t len;
	char *buf = read_sample(&len);
	struct naive *r = calloc(1, sizeof *r);
	naive_replay(buf, len, r);

	struct fixture *f = fx_new(true, NULL);
	struct l2_from_events *l2 = calloc(1, sizeof *l2);
	itch_decode_stream(&f->d, buf, len, 0, apply_event, l2);

	uint64_t unknown_total = 0;
	static struct book_l3_level want[4096], got[4096];
	for (uint16_t loc = 1; loc <= 3; loc++) {
		uint32_t id = feed_symtab_lookup(&f->tab, r->sym[loc], strlen(r->sym[loc]));
		cr_assert_neq(id, 0, "stock %s", r->sym[loc]);
		const struct book_l3 *b = itch_book(&f->d, id);
		cr_assert_not_null(b);
		cr_expect_eq(b->unknown_refs, r->unknown[loc], "%s unknown refs %llu vs %llu",
			     r->sym[loc], (unsigned long long)b->unknown_refs,
			     (unsigned long long)r->unknown[loc]);
		unknown_total += r->unknown[loc];
		for (int s = 0; s < 2; s++) {
			char side = s ? 'S' : 'B';
			uint8_t fside = s ? FKS_SIDE_SELL : FKS_SIDE_BUY;
			size_t nw = naive_levels(r, loc, side, want, 4096);
			uint32_t ng = book_l3_top(b, fside, got, 4096);
			cr_assert_eq(ng, nw, "%s %c: %u levels, naive %zu", r->sym[loc], side, ng, nw);
			cr_assert_gt(nw, 0, "the sample leaves both sides of %s populated", r->sym[loc]);
			for (size_t i = 0; i < nw; i++) {
				cr_assert_eq(got[i].px, want[i].px, "%s %c level %zu", r->sym[loc], side, i);
				cr_assert_eq(got[i].qty, want[i].qty, "%s %c level %zu", r->sym[loc], side, i);
				cr_assert_eq(got[i].orders, want[i].orders);
			}
			/* The deltas, applied in order, give the same levels. */
			cr_assert_eq(l2->n[id][fside], nw, "%s %c from events", r->sym[loc], side);
			for (size_t i = 0; i < nw; i++) {
				size_t j = 0;
				while (j < nw && l2->lv[id][fside][j].px != want[i].px)
					j++;
				cr_assert_lt(j, nw);
				cr_assert_eq(l2->lv[id][fside][j].qty, want[i].qty);
			}
		}
		/* And the last quote is the final top of book. */
		naive_levels(r, loc, 'B', want, 4096);
		cr_assert_eq(l2->last_quote[id].bid_px, want[0].px);
		cr_assert_eq(l2->last_quote[id].bid_qty, want[0].qty);
		naive_levels(r, loc, 'S', want, 4096);
		cr_assert_eq(l2->last_quote[id].ask_px, want[0].px);
		cr_assert_eq(l2->last_quote[id].ask_qty, want[0].qty);
	}
	cr_assert_gt(unknown_total, 0, "the sample starts mid-day");
	cr_assert_eq(error_of(&f->d, "unknown_ref"), unknown_total);
	cr_assert_eq(l2->trades, r->trades);
	cr_assert_eq(l2->trade_qty, r->trade_qty);
	free(l2);
	fx_free(f);
	free(r);
	free(buf);
}

Test(itch, sample_first_add_order_by_hand)
{
	/* Bytes 0xEA..0x10D of the file: the first A, read off a hex dump.
	 * BOB (locate 2), ref 0, buy 1000 @ 0xcfaf = 53167 -> 5.3167,
	 * timestamp 0x1c522027c055 ns after midnight. */
	size_t len;
	char *buf = read_sample(&len);
	struct fixture *f = fx_new(true, NULL);
	size_t off = 0, n;
	const char *m;
	while (itch_frame_next(buf, len, &off, &m, &n) == ITCH_FRAME_OK && m[0] != 'A')
		itch_decode(&f->d, m, n, 0, collect, &f->out);
	cr_assert_eq(m - buf, 0xEA);
	f->out.n = 0;
	cr_assert_eq(itch_decode(&f->d, m, n, 99, collect, &f->out), 0);
	cr_assert_eq(f->out.n, 2);
	const struct fks_ev_book_delta *bd = &f->out.ev[0].book;
	cr_assert_eq(bd->h.type, FKS_EV_BOOK_DELTA);
	cr_assert_eq(bd->h.instrument, 2);
	cr_assert_eq(bd->px, 53167);
	cr_assert_eq(bd->qty, 1000);
	cr_assert_eq(bd->side, FKS_SIDE_BUY);
	cr_assert_eq(bd->action, FKS_BOOK_SET);
	cr_assert_eq(bd->h.event_time_ns, MIDNIGHT_NS + 0x1c522027c055LL);
	cr_assert_eq(bd->h.recv_time_ns, 99);
	cr_assert_eq(bd->h.flags, 0);
	const struct fks_ev_quote *q = &f->out.ev[1].quote;
	cr_assert_eq(q->h.type, FKS_EV_QUOTE);
	cr_assert_eq(q->h.flags, FKS_EVF_LAST);
	cr_assert_eq(q->bid_px, 53167);
	cr_assert_eq(q->bid_qty, 1000);
	cr_assert_eq(q->ask_px, 0);
	cr_assert_eq(q->ask_qty, 0);
	fx_free(f);
	free(buf);
}

/* ---- hand-built messages ---------------------------------------------- */

/*
 * Build a message from a layout: 'c' one char, '2' '4' '6' '8' big-endian
 * integers of that many bytes, 's' an 8-byte space-padded symbol.  Every
 * integer argument is a uint64_t, chars are ints, symbols const char *.
 */
static size_t build(char *out, const char *layout, ...)
{
	va_list ap;
	va_start(ap, layout);
	size_t n = 0;
	for (const char *l = layout; *l; l++) {
		if (*l == 'c') {
			out[n++] = (char)va_arg(ap, int);
		} else if (*l == 's') {
			const char *s = va_arg(ap, const char *);
			memset(out + n, ' ', 8);
			memcpy(out + n, s, strlen(s));
			n += 8;
		} else {
			int w = *l - '0';
			uint64_t v = va_arg(ap, uint64_t);
			for (int i = w - 1; i >= 0; i--)
				out[n++] = (char)(v >> (8 * i));
		}
	}
	va_end(ap);
	return n;
}

#define U(x) ((uint64_t)(x))
#define TS 34200000000000ull /* 09:30:00.000000000 */

static size_t msg_R(char *b, uint16_t loc, const char *sym)
{
	return build(b, "c226scc4cc2ccccc4c", 'R', U(loc), U(0), U(TS), sym, 'Q', 'N', U(100), 'N',
		     'C', U(0x2020), 'P', 'N', 'N', '1', 'N', U(0), 'N');
}
static size_t msg_A(char *b, uint16_t loc, uint64_t ref, char side, uint32_t qty, const char *sym,
		    uint32_t px)
{
	return build(b, "c2268c4s4", 'A', U(loc), U(0), U(TS), ref, side, U(qty), sym, U(px));
}
static size_t msg_F(char *b, uint16_t loc, uint64_t ref, char side, uint32_t qty, const char *sym,
		    uint32_t px)
{
	return build(b, "c2268c4s4cccc", 'F', U(loc), U(0), U(TS), ref, side, U(qty), sym, U(px),
		     'M', 'P', 'I', 'D');
}
static size_t msg_E(char *b, uint16_t loc, uint64_t ref, uint32_t qty, uint64_t match)
{
	return build(b, "c226848", 'E', U(loc), U(0), U(TS + 5), ref, U(qty), match);
}
static size_t msg_C(char *b, uint16_t loc, uint64_t ref, uint32_t qty, uint64_t match, char print,
		    uint32_t px)
{
	return build(b, "c226848c4", 'C', U(loc), U(0), U(TS), ref, U(qty), match, print, U(px));
}
static size_t msg_X(char *b, uint16_t loc, uint64_t ref, uint32_t qty)
{
	return build(b, "c22684", 'X', U(loc), U(0), U(TS), ref, U(qty));
}
static size_t msg_D(char *b, uint16_t loc, uint64_t ref)
{
	return build(b, "c2268", 'D', U(loc), U(0), U(TS), ref);
}
static size_t msg_U(char *b, uint16_t loc, uint64_t ref, uint64_t new_ref, uint32_t qty, uint32_t px)
{
	return build(b, "c22688" "44", 'U', U(loc), U(0), U(TS), ref, new_ref, U(qty), U(px));
}

/* A fixture with stock "TEST" at locate 7 (instrument 1). */
static struct fixture *fx_test(void)
{
	struct fixture *f = fx_new(true, NULL);
	char b[64];
	size_t n = msg_R(b, 7, "TEST");
	cr_assert_eq(n, 39);
	cr_assert_eq(itch_decode(&f->d, b, n, 0, collect, &f->out), 0);
	cr_assert_eq(f->out.n, 0, "a directory message makes no event");
	return f;
}

static int feed(struct fixture *f, const char *b, size_t n)
{
	f->out.n = 0;
	return itch_decode(&f->d, b, n, 1234, collect, &f->out);
}

Test(itch, add_execute_cancel_delete_make_deltas_trades_and_quotes)
{
	struct fixture *f = fx_test();
	char b[64];
	cr_assert_eq(feed(f, b, msg_A(b, 7, 11, 'B', 300, "TEST", 270600)), 0);
	cr_assert_eq(f->out.n, 2);
	cr_assert_eq(f->out.ev[0].book.px, 270600);
	cr_assert_eq(f->out.ev[0].h.event_time_ns, MIDNIGHT_NS + (int64_t)TS);
	cr_assert_eq(f->out.ev[0].h.recv_time_ns, 1234);
	cr_assert_eq(f->out.ev[1].quote.bid_px, 270600);

	/* F: same price, the level grows to 500; top size changes. */
	cr_assert_eq(feed(f, b, msg_F(b, 7, 12, 'B', 200, "TEST", 270600)), 0);
	cr_assert_eq(f->out.n, 2);
	cr_assert_eq(f->out.ev[0].book.qty, 500);
	cr_assert_eq(f->out.ev[1].quote.bid_qty, 500);

	/* A lower bid: a new level, top unchanged, so no quote. */
	cr_assert_eq(feed(f, b, msg_A(b, 7, 13, 'B', 100, "TEST", 270500)), 0);
	cr_assert_eq(f->out.n, 1);
	cr_assert_eq(f->out.ev[0].h.type, FKS_EV_BOOK_DELTA);
	cr_assert_eq(f->out.ev[0].h.flags, FKS_EVF_LAST);

	/* An offer. */
	cr_assert_eq(feed(f, b, msg_A(b, 7, 14, 'S', 50, "TEST", 270700)), 0);
	cr_assert_eq(f->out.n, 2);
	cr_assert_eq(f->out.ev[0].book.side, FKS_SIDE_SELL);
	cr_assert_eq(f->out.ev[1].quote.ask_px, 270700);
	cr_assert_eq(f->out.ev[1].quote.bid_px, 270600);

	/* E 120 of ref 11: trade at the resting price, seller aggressed. */
	cr_assert_eq(feed(f, b, msg_E(b, 7, 11, 120, 777)), 0);
	cr_assert_eq(f->out.n, 3);
	const struct fks_ev_trade *t = &f->out.ev[0].trade;
	cr_assert_eq(t->h.type, FKS_EV_TRADE);
	cr_assert_eq(t->px, 270600);
	cr_assert_eq(t->qty, 120);
	cr_assert_eq(t->trade_id, 777);
	cr_assert_eq(t->aggressor, FKS_SIDE_SELL);
	cr_assert_eq(t->h.event_time_ns, MIDNIGHT_NS + (int64_t)TS + 5);
	cr_assert_eq(f->out.ev[1].book.qty, 380);
	cr_assert_eq(f->out.ev[2].quote.bid_qty, 380);
	cr_assert_eq(f->out.ev[2].h.flags, FKS_EVF_LAST);
	cr_assert_eq(f->out.ev[0].h.flags, 0);

	/* C printable at a different price; aggressor buy against the offer. */
	cr_assert_eq(feed(f, b, msg_C(b, 7, 14, 50, 778, 'Y', 270650)), 0);
	cr_assert_eq(f->out.n, 3);
	cr_assert_eq(f->out.ev[0].trade.px, 270650);
	cr_assert_eq(f->out.ev[0].trade.qty, 50);
	cr_assert_eq(f->out.ev[0].trade.aggressor, FKS_SIDE_BUY);
	cr_assert_eq(f->out.ev[1].book.action, FKS_BOOK_DELETE);
	cr_assert_eq(f->out.ev[1].book.qty, 0);
	cr_assert_eq(f->out.ev[1].book.px, 270700);
	cr_assert_eq(f->out.ev[2].quote.ask_px, 0, "the ask side is empty");

	/* C non-printable: the book changes, no trade prints. */
	cr_assert_eq(feed(f, b, msg_C(b, 7, 12, 10, 779, 'N', 270600)), 0);
	cr_assert_eq(f->out.n, 2);
	cr_assert_eq(f->out.ev[0].h.type, FKS_EV_BOOK_DELTA);
	cr_assert_eq(f->out.ev[0].book.qty, 370);

	/* X 70 of ref 12 (190 left) and D of ref 11 (180). */
	cr_assert_eq(feed(f, b, msg_X(b, 7, 12, 70)), 0);
	cr_assert_eq(f->out.ev[0].book.qty, 300);
	cr_assert_eq(feed(f, b, msg_D(b, 7, 11)), 0);
	cr_assert_eq(f->out.ev[0].book.qty, 120);
	cr_assert_eq(f->out.ev[1].quote.bid_qty, 120);

	/* U ref 12 -> 15 at a better price: two levels change. */
	cr_assert_eq(feed(f, b, msg_U(b, 7, 12, 15, 40, 270800)), 0);
	cr_assert_eq(f->out.n, 3);
	cr_assert_eq(f->out.ev[0].book.px, 270600);
	cr_assert_eq(f->out.ev[0].book.action, FKS_BOOK_DELETE);
	cr_assert_eq(f->out.ev[1].book.px, 270800);
	cr_assert_eq(f->out.ev[1].book.qty, 40);
	cr_assert_eq(f->out.ev[1].book.side, FKS_SIDE_BUY);
	cr_assert_eq(f->out.ev[2].quote.bid_px, 270800);

	/* U at the same price: one delta. */
	cr_assert_eq(feed(f, b, msg_U(b, 7, 15, 16, 45, 270800)), 0);
	cr_assert_eq(f->out.n, 2);
	cr_assert_eq(f->out.ev[0].book.qty, 45);

	const struct book_l3 *bk = itch_book(&f->d, 1);
	cr_assert_eq(bk->orders, 2);
	cr_assert_eq(book_l3_best(bk, FKS_SIDE_BUY)->px, 270800);
	cr_assert_eq(bk->unknown_refs, 0);
	fx_free(f);
}

Test(itch, trade_and_cross_messages_print_without_aggressor)
{
	struct fixture *f = fx_test();
	char b[64];
	size_t n = build(b, "c2268c4s48", 'P', U(7), U(0), U(TS), U(1), 'B', U(250), "TEST",
			 U(99990000), U(4242));
	cr_assert_eq(n, 44);
	cr_assert_eq(feed(f, b, n), 0);
	cr_assert_eq(f->out.n, 1);
	cr_assert_eq(f->out.ev[0].trade.px, 99990000);
	cr_assert_eq(f->out.ev[0].trade.qty, 250);
	cr_assert_eq(f->out.ev[0].trade.trade_id, 4242);
	cr_assert_eq(f->out.ev[0].trade.aggressor, FKS_SIDE_NONE);
	cr_assert_eq(f->out.ev[0].h.flags, FKS_EVF_LAST);

	n = build(b, "c2268s48c", 'Q', U(7), U(0), U(TS), U(5000000000), "TEST", U(1000),
		  U(4243), 'O');
	cr_assert_eq(n, 40);
	cr_assert_eq(feed(f, b, n), 0);
	cr_assert_eq(f->out.n, 1);
	cr_assert_eq(f->out.ev[0].trade.qty, 5000000000LL, "cross shares are 8 bytes");
	cr_assert_eq(f->out.ev[0].trade.px, 1000);

	n = build(b, "c2268s48c", 'Q', U(7), U(0), U(TS), U(0), "TEST", U(1000), U(4244), 'C');
	cr_assert_eq(feed(f, b, n), 0);
	cr_assert_eq(f->out.n, 0, "a cross of 0 shares did not happen");
	fx_free(f);
}

Test(itch, every_other_type_is_length_checked_and_counted)
{
	struct fixture *f = fx_test();
	/* ITCH 5.0 lengths, from the spec's field tables. */
	static const struct { char t; size_t len; } types[] = {
		{'S', 12}, {'H', 25}, {'Y', 20}, {'L', 26}, {'V', 35}, {'W', 12}, {'K', 28},
		{'J', 35}, {'h', 21}, {'B', 19}, {'I', 50}, {'N', 20}, {'O', 48},
	};
	char b[64];
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		memset(b, 0, sizeof b);
		b[0] = types[i].t;
		b[2] = 7;
		char name[2] = {types[i].t, 0};
		cr_assert_eq(itch_msg_len((uint8_t)types[i].t), types[i].len);
		cr_assert_eq(feed(f, b, types[i].len), 0, "%c", types[i].t);
		cr_assert_eq(f->out.n, 0);
		cr_assert_eq(feed(f, b, types[i].len - 1), ITCH_E_LENGTH, "%c short", types[i].t);
		cr_assert_eq(feed(f, b, types[i].len + 1), ITCH_E_LENGTH, "%c long", types[i].t);
		cr_assert_eq(count_of(&f->d, name), 1, "%c", types[i].t);
	}
	cr_assert_eq(error_of(&f->d, "bad_length"), 26);
	fx_free(f);
}

/* ---- bad input -------------------------------------------------------- */

Test(itch, malformed_messages_are_counted_and_the_stream_goes_on)
{
	struct fixture *f = fx_test();
	char b[64];
	size_t n = msg_A(b, 7, 1, 'B', 100, "TEST", 10000);
	cr_assert_eq(feed(f, b, 0), ITCH_E_EMPTY);
	cr_assert_eq(feed(f, b, n - 1), ITCH_E_LENGTH, "truncated");
	cr_assert_eq(feed(f, b, 1), ITCH_E_LENGTH);
	b[0] = 'Z';
	cr_assert_eq(feed(f, b, n), ITCH_E_UNKNOWN_TYPE);
	b[0] = '\xff';
	cr_assert_eq(feed(f, b, n), ITCH_E_UNKNOWN_TYPE);
	cr_assert_eq(feed(f, b, msg_A(b, 7, 1, 'Q', 100, "TEST", 10000)), ITCH_E_SIDE);
	cr_assert_eq(feed(f, b, msg_A(b, 7, 1, 'B', 100, "TEST", 0)), ITCH_E_PRICE);
	cr_assert_eq(feed(f, b, msg_A(b, 7, 1, 'B', 0, "TEST", 100)), ITCH_E_QTY);
	cr_assert_eq(f->out.n, 0);
	/* Huge values are still exact: 429496.7295 x 4294967295 shares. */
	cr_assert_eq(feed(f, b, msg_A(b, 7, UINT64_MAX, 'S', UINT32_MAX, "TEST", UINT32_MAX)), 0);
	cr_assert_eq(f->out.ev[0].book.px, 4294967295LL);
	cr_assert_eq(f->out.ev[0].book.qty, 4294967295LL);
	cr_assert_eq(feed(f, b, msg_A(b, 7, UINT64_MAX - 1, 'S', UINT32_MAX, "TEST", UINT32_MAX)), 0);
	cr_assert_eq(f->out.ev[0].book.qty, 2 * 4294967295LL, "level totals are 64-bit");
	cr_assert_eq(feed(f, b, msg_A(b, 7, UINT64_MAX, 'B', 1, "TEST", 1)), ITCH_E_DUP_REF);
	/* Executing more than rests trades what rested and says so. */
	cr_assert_eq(feed(f, b, msg_E(b, 7, UINT64_MAX, UINT32_MAX, 1)), 0);
	cr_assert_eq(feed(f, b, msg_E(b, 7, UINT64_MAX - 1, 10, 2)), 0);
	cr_assert_eq(feed(f, b, msg_X(b, 7, UINT64_MAX - 1, UINT32_MAX)), ITCH_E_OVER_QTY);
	cr_assert_eq(f->out.ev[0].book.action, FKS_BOOK_DELETE);
	cr_assert_eq(feed(f, b, msg_E(b, 7, 12345, 10, 3)), ITCH_E_UNKNOWN_REF);
	cr_assert_eq(feed(f, b, msg_X(b, 7, 12345, 0)), ITCH_E_QTY);
	cr_assert_eq(feed(f, b, msg_D(b, 7, 12345)), ITCH_E_UNKNOWN_REF);
	cr_assert_eq(feed(f, b, msg_U(b, 7, 12345, 5, 10, 10)), ITCH_E_UNKNOWN_REF);
	cr_assert_eq(feed(f, b, msg_D(b, 8, 1)), ITCH_E_UNKNOWN_LOCATE, "locate 8 was never bound");
	cr_assert_eq(feed(f, b, msg_R(b, 9, "")), ITCH_E_SYMBOL);
	cr_assert_eq(itch_book(&f->d, 1)->unknown_refs, 3);
	cr_assert_eq(error_of(&f->d, "empty"), 1);
	cr_assert_eq(error_of(&f->d, "bad_length"), 2);
	cr_assert_eq(error_of(&f->d, "unknown_type"), 2);
	cr_assert_eq(error_of(&f->d, "bad_side"), 1);
	cr_assert_eq(error_of(&f->d, "bad_price"), 1);
	cr_assert_eq(error_of(&f->d, "bad_qty"), 2);
	cr_assert_eq(error_of(&f->d, "duplicate_ref"), 1);
	cr_assert_eq(error_of(&f->d, "over_qty"), 1);
	cr_assert_eq(error_of(&f->d, "unknown_ref"), 3);
	cr_assert_eq(error_of(&f->d, "unknown_locate"), 1);
	cr_assert_eq(error_of(&f->d, "bad_symbol"), 1);
	/* And a good message still works. */
	cr_assert_eq(feed(f, b, msg_A(b, 7, 1, 'B', 100, "TEST", 10000)), 0);
	cr_assert_eq(f->out.n, 2);
	fx_free(f);
}

Test(itch, framing_handles_prefixes_zero_lengths_and_bad_tails)
{
	struct fixture *f = fx_test();
	char s[256];
	size_t n = 0;
	/* A real prefix, then a zero prefix, then a wrong real prefix. */
	n += build(s + n, "2", U(36));
	n += msg_A(s + n, 7, 1, 'B', 100, "TEST", 10000);
	n += build(s + n, "2", U(0));
	n += msg_A(s + n, 7, 2, 'B', 100, "TEST", 10000);
	n += build(s + n, "2", U(20));
	n += msg_D(s + n, 7, 1);
	n += build(s + n, "c", 0); /* one byte: pads the 20-byte frame above */
	size_t full = n;
	cr_assert_eq(itch_decode_stream(&f->d, s, full, 0, collect, &f->out), full);
	cr_assert_eq(count_of(&f->d, "A"), 2);
	cr_assert_eq(error_of(&f->d, "bad_length"), 1, "the 20-byte D");
	cr_assert_eq(error_of(&f->d, "truncated"), 0);

	/* A stream cut inside a message. */
	n = build(s, "2", U(0));
	n += msg_D(s + n, 7, 2);
	cr_assert_eq(itch_decode_stream(&f->d, s, n - 3, 0, collect, &f->out), 0);
	cr_assert_eq(error_of(&f->d, "truncated"), 1);

	/* A zero length before an unknown type cannot be framed. */
	n = build(s, "2", U(0));
	n += msg_D(s + n, 7, 2);
	n += build(s + n, "2c", U(0), 'z');
	n += build(s + n, "2", U(0));
	n += msg_D(s + n, 7, 2);
	cr_assert_eq(itch_decode_stream(&f->d, s, n, 0, collect, &f->out), 21);
	cr_assert_eq(error_of(&f->d, "unframeable"), 1);
	cr_assert_eq(count_of(&f->d, "D"), 1);

	size_t off = 0;
	const char *m;
	size_t ml;
	cr_assert_eq(itch_frame_next(s, 0, &off, &m, &ml), ITCH_FRAME_END);
	cr_assert_eq(itch_frame_next(s, 2, &off, &m, &ml), ITCH_FRAME_PARTIAL);
	fx_free(f);
}

Test(itch, fixed_table_ignores_other_stocks)
{
	size_t len;
	char *buf = read_sample(&len);
	struct fixture *f = fx_new(false, NULL);
	cr_assert_eq(feed_symtab_add(&f->tab, "BOB", 3, 4, 0), 1);
	itch_decode_stream(&f->d, buf, len, 0, collect, &f->out);
	cr_assert_eq(itch_messages(&f->d), 12012);
	cr_assert_eq(error_of(&f->d, "unknown_symbol"), 2, "ALC and CHAR");
	cr_assert_gt(itch_ignored(&f->d), 0);
	for (size_t i = 0; i < f->out.n; i++)
		cr_assert_eq(f->out.ev[i].h.instrument, 1);
	cr_assert_not_null(itch_book(&f->d, 1));
	cr_assert_null(itch_book(&f->d, 2));
	fx_free(f);
	free(buf);
}

Test(itch, a_late_join_binds_the_locate_from_the_add)
{
	struct fixture *f = fx_new(true, NULL);
	char b[64];
	cr_assert_eq(feed(f, b, msg_A(b, 3, 1, 'S', 10, "LATE", 500)), 0);
	cr_assert_eq(f->out.n, 2);
	cr_assert_eq(f->out.ev[0].h.instrument, 1);
	cr_assert_eq(feed(f, b, msg_D(b, 3, 1)), 0);
	fx_free(f);
}

Test(itch, full_order_table_is_a_counted_error)
{
	struct itch_cfg cfg = {.session_midnight_ns = 0, .max_orders = 3, .max_levels = 2};
	struct fixture *f = fx_new(true, &cfg);
	char b[64];
	feed(f, b, msg_R(b, 1, "T"));
	for (uint64_t r = 1; r <= 3; r++)
		cr_assert_eq(feed(f, b, msg_A(b, 1, r, 'B', 1, "T", 100)), 0);
	cr_assert_eq(feed(f, b, msg_A(b, 1, 4, 'B', 1, "T", 100)), ITCH_E_ORDERS_FULL);
	cr_assert_eq(f->out.n, 0);
	cr_assert_eq(feed(f, b, msg_D(b, 1, 2)), 0);
	cr_assert_eq(feed(f, b, msg_A(b, 1, 4, 'B', 1, "T", 101)), 0, "room again");
	cr_assert_eq(feed(f, b, msg_D(b, 1, 1)), 0);
	cr_assert_eq(feed(f, b, msg_A(b, 1, 5, 'B', 1, "T", 102)), ITCH_E_LEVELS_FULL);
	cr_assert_eq(error_of(&f->d, "orders_full"), 1);
	cr_assert_eq(error_of(&f->d, "levels_full"), 1);
	fx_free(f);
	struct feed_symtab tab;
	struct itch bad;
	feed_symtab_init(&tab, true, 4, 0);
	cr_assert_eq(itch_init(&bad, &tab, &(struct itch_cfg){.session_midnight_ns = -1}), -1);
}
