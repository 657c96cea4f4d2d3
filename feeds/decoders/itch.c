/* Nasdaq TotalView-ITCH 5.0 decoder (itch.h). */
#include "feeds/decoders/itch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoder.h"
#include "feeds/decoders/moldudp.h"
#include "feeds/decoders/timefmt.h"
#include "feeds/xport/xport.h"
#include "shm/event_build.h"

#define LOCATE_IGNORED UINT32_MAX

/* Spec order; the index is the counter's position.  Lengths include the
 * type byte (ITCH 5.0, section 4). */
static const struct {
	char type;
	uint8_t len;
	const char *name;
} msg_types[ITCH_N_TYPES] = {
	{'S', 12, "S"},  /* system event */
	{'R', 39, "R"},  /* stock directory */
	{'H', 25, "H"},  /* stock trading action */
	{'Y', 20, "Y"},  /* Reg SHO restriction */
	{'L', 26, "L"},  /* market participant position */
	{'V', 35, "V"},  /* MWCB decline level */
	{'W', 12, "W"},  /* MWCB status */
	{'K', 28, "K"},  /* IPO quoting period update */
	{'J', 35, "J"},  /* LULD auction collar */
	{'h', 21, "h"},  /* operational halt */
	{'A', 36, "A"},  /* add order */
	{'F', 40, "F"},  /* add order with MPID attribution */
	{'E', 31, "E"},  /* order executed */
	{'C', 36, "C"},  /* order executed with price */
	{'X', 23, "X"},  /* order cancel */
	{'D', 19, "D"},  /* order delete */
	{'U', 35, "U"},  /* order replace */
	{'P', 44, "P"},  /* trade (non-cross) */
	{'Q', 40, "Q"},  /* cross trade */
	{'B', 19, "B"},  /* broken trade */
	{'I', 50, "I"},  /* net order imbalance indicator */
	{'N', 20, "N"},  /* retail price improvement indicator */
	{'O', 48, "O"},  /* direct listing with capital raise price discovery */
};

static const char *const error_names[ITCH_N_ERRORS] = {
	"empty", "unknown_type", "bad_length", "bad_side", "bad_price", "bad_qty",
	"bad_symbol", "unknown_symbol", "symtab_full", "books_full", "unknown_locate",
	"unknown_ref", "duplicate_ref", "orders_full", "levels_full", "over_qty",
	"truncated", "unframeable",
};

/* type byte -> msg_types index + 1; 0 for unknown.  Built at compile time. */
static const uint8_t type_slot[256] = {
	['S'] = 1, ['R'] = 2, ['H'] = 3, ['Y'] = 4, ['L'] = 5, ['V'] = 6,
	['W'] = 7, ['K'] = 8, ['J'] = 9, ['h'] = 10, ['A'] = 11, ['F'] = 12,
	['E'] = 13, ['C'] = 14, ['X'] = 15, ['D'] = 16, ['U'] = 17, ['P'] = 18,
	['Q'] = 19, ['B'] = 20, ['I'] = 21, ['N'] = 22, ['O'] = 23,
};

size_t itch_msg_len(uint8_t type)
{
	return type_slot[type] ? msg_types[type_slot[type] - 1].len : 0;
}

/* ---- big-endian fields ------------------------------------------------ */

static inline uint16_t be16(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	return (uint16_t)(u[0] << 8 | u[1]);
}

static inline uint32_t be32(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static inline uint64_t be48(const char *p)
{
	return (uint64_t)be16(p) << 32 | be32(p + 2);
}

static inline uint64_t be64(const char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* ---- set-up ----------------------------------------------------------- */

int itch_init(struct itch *d, struct feed_symtab *symbols, const struct itch_cfg *cfg)
{
	memset(d, 0, sizeof *d);
	/* midnight + 2^48 ns must fit: refuse anything near INT64_MAX. */
	if (cfg->session_midnight_ns < 0 || cfg->session_midnight_ns > INT64_MAX / 2)
		return -1;
	struct book_l3_cfg bc = {
		.max_books = cfg->max_books ? cfg->max_books : 256,
		.max_levels = cfg->max_levels ? cfg->max_levels : 2048,
		.max_orders = cfg->max_orders ? cfg->max_orders : 1u << 20,
	};
	if (bc.max_books > FEED_MAX_SYMBOLS)
		return -1;
	d->book_of_locate = calloc(65536, sizeof *d->book_of_locate);
	if (!d->book_of_locate || book_l3_pool_init(&d->pool, &bc) != BOOK_L3_OK) {
		free(d->book_of_locate);
		d->book_of_locate = NULL;
		return -1;
	}
	d->symbols = symbols;
	d->midnight_ns = cfg->session_midnight_ns;
	for (int i = 0; i < ITCH_N_TYPES; i++)
		d->counts[i].name = msg_types[i].name;
	for (int i = 0; i < ITCH_N_ERRORS; i++)
		d->errors[i].name = error_names[i];
	return 0;
}

void itch_free(struct itch *d)
{
	book_l3_pool_free(&d->pool);
	free(d->book_of_locate);
	d->book_of_locate = NULL;
}

size_t itch_counts(const struct itch *d, const struct named_counter **out)
{
	*out = d->counts;
	return ITCH_N_TYPES;
}

size_t itch_errors(const struct itch *d, const struct named_counter **out)
{
	*out = d->errors;
	return ITCH_N_ERRORS;
}

uint64_t itch_messages(const struct itch *d)
{
	uint64_t n = 0;
	for (int i = 0; i < ITCH_N_TYPES; i++)
		n += d->counts[i].n;
	return n;
}

const struct book_l3 *itch_book(const struct itch *d, uint32_t instrument)
{
	if (instrument == 0 || instrument > FEED_MAX_SYMBOLS || !d->book_of_inst[instrument])
		return NULL;
	return &d->pool.books[d->book_of_inst[instrument] - 1];
}

void itch_mark_stale(struct itch *d)
{
	d->stale = true;
	for (uint32_t i = 0; i < d->pool.n_books; i++)
		d->pool.books[i].stale = true;
}

void itch_reset_books(struct itch *d)
{
	book_l3_pool_clear(&d->pool);
	d->stale = false;
}

static int fail(struct itch *d, int e)
{
	d->errors[-e - 1].n++;
	return e;
}

/* ---- instruments ------------------------------------------------------ */

/* Bind locate to the stock in an 8-byte, space-padded field. */
static int bind_locate(struct itch *d, uint16_t locate, const char *stock)
{
	size_t n = 8;
	while (n && stock[n - 1] == ' ')
		n--;
	if (n == 0)
		return fail(d, ITCH_E_SYMBOL);
	uint32_t id;
	if (d->symbols->learn) {
		/* ITCH scales are fixed: don't depend on the table's defaults. */
		id = feed_symtab_add(d->symbols, stock, n, ITCH_PX_SCALE, ITCH_QTY_SCALE);
		if (!id)
			return fail(d, ITCH_E_SYMTAB_FULL);
	} else {
		id = feed_symtab_lookup(d->symbols, stock, n);
		if (!id) {
			d->book_of_locate[locate] = LOCATE_IGNORED;
			return fail(d, ITCH_E_UNKNOWN_SYMBOL);
		}
	}
	if (id > FEED_MAX_SYMBOLS)
		return fail(d, ITCH_E_SYMTAB_FULL);
	if (!d->book_of_inst[id]) {
		struct book_l3 *b = book_l3_new(&d->pool, id);
		if (!b) {
			d->book_of_locate[locate] = LOCATE_IGNORED;
			return fail(d, ITCH_E_BOOKS_FULL);
		}
		b->stale = d->stale;
		d->book_of_inst[id] = b->index + 1;
	}
	d->book_of_locate[locate] = d->book_of_inst[id];
	return ITCH_OK;
}

/*
 * The book of a message's locate.  stock (or NULL) binds an unbound locate.
 * Returns the book, or NULL with *rc set: ITCH_OK for an ignored stock
 * (counted in d->ignored), else the counted error.
 */
static struct book_l3 *book_for(struct itch *d, uint16_t locate, const char *stock, int *rc)
{
	uint32_t k = d->book_of_locate[locate];
	if (k == 0) {
		if (!stock) {
			*rc = fail(d, ITCH_E_UNKNOWN_LOCATE);
			return NULL;
		}
		if ((*rc = bind_locate(d, locate, stock)) != ITCH_OK)
			return NULL;
		k = d->book_of_locate[locate];
	}
	if (k == LOCATE_IGNORED) {
		d->ignored++;
		*rc = ITCH_OK;
		return NULL;
	}
	return &d->pool.books[k - 1];
}

/* ---- events ----------------------------------------------------------- */

struct out {
	int n;
	union fks_event ev[4];
};

/* The header of every event of one message on book b. */
static struct fks_event_hdr msg_hdr(const struct book_l3 *b, int64_t event_ns, int64_t recv_ns)
{
	struct fks_event_hdr h;
	fks_hdr_origin(&h, FKS_EV_NONE, FKS_STAGE_FEED, 0, b->instrument,
		       b->stale ? FKS_EVF_STALE : 0, event_ns, recv_ns);
	return h;
}

static void push_trade(struct out *o, const struct book_l3 *b, int64_t t, int64_t recv,
		       int64_t px, int64_t qty, uint64_t match, uint8_t aggressor)
{
	struct fks_event_hdr h = msg_hdr(b, t, recv);
	fks_build_trade(&o->ev[o->n++].trade, &h, px, qty, match, aggressor);
}

static void push_book(struct out *o, const struct book_l3 *b, int64_t t, int64_t recv,
		      const struct book_l3_change *ch)
{
	struct fks_event_hdr h = msg_hdr(b, t, recv);
	for (int k = 0; k < ch->n; k++) {
		fks_build_book_delta(&o->ev[o->n++].book, &h, ch->lv[k].side,
				     ch->lv[k].qty ? FKS_BOOK_SET : FKS_BOOK_DELETE, ch->lv[k].px,
				     ch->lv[k].qty, 0);
	}
	if (ch->top_changed) {
		const struct book_l3_level *bid = book_l3_best(b, FKS_SIDE_BUY);
		const struct book_l3_level *ask = book_l3_best(b, FKS_SIDE_SELL);
		fks_build_quote(&o->ev[o->n++].quote, &h, bid ? bid->px : 0, bid ? bid->qty : 0,
				ask ? ask->px : 0, ask ? ask->qty : 0);
	}
}

static void flush(struct out *o, feed_emit_fn emit, void *ctx)
{
	if (!o->n)
		return;
	o->ev[o->n - 1].h.flags |= FKS_EVF_LAST;
	for (int k = 0; k < o->n; k++)
		emit(ctx, &o->ev[k]);
}

static int book_error(struct itch *d, int rc)
{
	switch (rc) {
	case BOOK_L3_OK: return ITCH_OK;
	case BOOK_L3_E_UNKNOWN_REF: return fail(d, ITCH_E_UNKNOWN_REF);
	case BOOK_L3_E_DUP_REF: return fail(d, ITCH_E_DUP_REF);
	case BOOK_L3_E_ORDERS_FULL: return fail(d, ITCH_E_ORDERS_FULL);
	case BOOK_L3_E_LEVELS_FULL: return fail(d, ITCH_E_LEVELS_FULL);
	case BOOK_L3_E_OVER_QTY: return fail(d, ITCH_E_OVER_QTY);
	case BOOK_L3_E_SIDE: return fail(d, ITCH_E_SIDE);
	case BOOK_L3_E_PRICE: return fail(d, ITCH_E_PRICE);
	default: return fail(d, ITCH_E_QTY);
	}
}

static uint8_t side_of(char c)
{
	return c == 'B' ? FKS_SIDE_BUY : c == 'S' ? FKS_SIDE_SELL : FKS_SIDE_NONE;
}

static uint8_t opposite(uint8_t side)
{
	return side == FKS_SIDE_BUY ? FKS_SIDE_SELL : FKS_SIDE_BUY;
}

/* ---- decode ----------------------------------------------------------- */

int itch_decode(struct itch *d, const char *msg, size_t len, int64_t recv_ns,
		feed_emit_fn emit, void *ctx)
{
	if (len == 0)
		return fail(d, ITCH_E_EMPTY);
	uint8_t slot = type_slot[(uint8_t)msg[0]];
	if (!slot)
		return fail(d, ITCH_E_UNKNOWN_TYPE);
	if (len != msg_types[slot - 1].len)
		return fail(d, ITCH_E_LENGTH);
	d->counts[slot - 1].n++;

	uint16_t locate = be16(msg + 1);
	int64_t t = d->midnight_ns + (int64_t)be48(msg + 5);
	struct book_l3_change ch;
	struct out o;
	o.n = 0;
	struct book_l3 *b;
	int rc = ITCH_OK;

	switch (msg[0]) {
	case 'R':
		return bind_locate(d, locate, msg + 11);
	case 'A':
	case 'F': {
		uint8_t side = side_of(msg[19]);
		uint32_t qty = be32(msg + 20);
		int64_t px = be32(msg + 32);
		if (!side)
			return fail(d, ITCH_E_SIDE);
		if (!(b = book_for(d, locate, msg + 24, &rc)))
			return rc;
		rc = book_error(d, book_l3_add(&d->pool, b, be64(msg + 11), side, px, qty, &ch));
		break;
	}
	case 'E':
	case 'C': {
		uint32_t qty = be32(msg + 19);
		if (!(b = book_for(d, locate, NULL, &rc)))
			return rc;
		rc = book_error(d, book_l3_reduce(&d->pool, b, be64(msg + 11), qty, &ch));
		if (ch.n == 0)
			return rc;
		/* An execution beyond the order (over_qty) trades what rested. */
		bool print = msg[0] == 'E' || msg[31] == 'Y';
		if (print)
			push_trade(&o, b, t, recv_ns, msg[0] == 'E' ? ch.px : (int64_t)be32(msg + 32),
				   ch.qty, be64(msg + 23), opposite(ch.side));
		break;
	}
	case 'X':
		if (!(b = book_for(d, locate, NULL, &rc)))
			return rc;
		rc = book_error(d, book_l3_reduce(&d->pool, b, be64(msg + 11), be32(msg + 19), &ch));
		break;
	case 'D':
		if (!(b = book_for(d, locate, NULL, &rc)))
			return rc;
		rc = book_error(d, book_l3_delete(&d->pool, b, be64(msg + 11), &ch));
		break;
	case 'U':
		if (!(b = book_for(d, locate, NULL, &rc)))
			return rc;
		rc = book_error(d, book_l3_replace(&d->pool, b, be64(msg + 11), be64(msg + 19),
						   be32(msg + 31), be32(msg + 27), &ch));
		break;
	case 'P': {
		uint32_t qty = be32(msg + 20);
		if (qty == 0)
			return fail(d, ITCH_E_QTY);
		if (!(b = book_for(d, locate, msg + 24, &rc)))
			return rc;
		/* Non-displayed liquidity: the book does not change. */
		push_trade(&o, b, t, recv_ns, be32(msg + 32), qty, be64(msg + 36), FKS_SIDE_NONE);
		flush(&o, emit, ctx);
		return ITCH_OK;
	}
	case 'Q': {
		uint64_t qty = be64(msg + 11);
		if (qty > INT64_MAX)
			return fail(d, ITCH_E_QTY);
		if (!(b = book_for(d, locate, msg + 19, &rc)))
			return rc;
		/* A cross that did not happen is published with 0 shares. */
		if (qty) {
			push_trade(&o, b, t, recv_ns, be32(msg + 27), (int64_t)qty, be64(msg + 31),
				   FKS_SIDE_NONE);
			flush(&o, emit, ctx);
		}
		return ITCH_OK;
	}
	default:
		return ITCH_OK; /* validated and counted; nothing to emit */
	}
	push_book(&o, b, t, recv_ns, &ch);
	flush(&o, emit, ctx);
	return rc;
}

/* ---- framing ---------------------------------------------------------- */

int itch_frame_next(const char *buf, size_t len, size_t *off, const char **msg, size_t *msg_len)
{
	size_t at = *off;
	if (at >= len)
		return ITCH_FRAME_END;
	if (len - at < 3)
		return ITCH_FRAME_PARTIAL;
	size_t n = be16(buf + at);
	if (n == 0) {
		/* Zero prefix (the shared sample): the type says how long. */
		n = itch_msg_len((uint8_t)buf[at + 2]);
		if (n == 0)
			return ITCH_FRAME_LOST;
	}
	if (len - at - 2 < n)
		return ITCH_FRAME_PARTIAL;
	*msg = buf + at + 2;
	*msg_len = n;
	*off = at + 2 + n;
	return ITCH_FRAME_OK;
}

size_t itch_decode_stream(struct itch *d, const char *buf, size_t len, int64_t recv_ns,
			  feed_emit_fn emit, void *ctx)
{
	size_t off = 0;
	const char *m;
	size_t n;
	int st;
	while ((st = itch_frame_next(buf, len, &off, &m, &n)) == ITCH_FRAME_OK)
		itch_decode(d, m, n, recv_ns, emit, ctx);
	if (st == ITCH_FRAME_PARTIAL)
		fail(d, ITCH_E_TRUNCATED);
	else if (st == ITCH_FRAME_LOST)
		fail(d, ITCH_E_UNFRAMEABLE);
	return off;
}

/* ---- ops table (feeds/decoder.h) ------------------------------------------ */

/* The decoder with its MoldUDP64 framing, for packet transports. */
struct itch_feed {
	struct itch itch;
	struct moldudp mold;
	bool packets;        /* fed by a packet transport: the framing's counters count */
};

/* Every configured instrument must be at ITCH's scales. */
static int check_scales(const struct feed_symtab *symbols, char *err, size_t errlen)
{
	if (symbols->learn)
		return 0;
	for (uint32_t id = 1; id <= symbols->n; id++) {
		const struct feed_symbol *sym = feed_symtab_get(symbols, id);
		if (sym->px_scale != ITCH_PX_SCALE || sym->qty_scale != ITCH_QTY_SCALE) {
			snprintf(err, errlen,
				 "itch: instrument %.*s must have px_scale %d and qty_scale %d (ITCH prices "
				 "have 4 decimals, quantities are whole shares)",
				 (int)sym->len, sym->name, ITCH_PX_SCALE, ITCH_QTY_SCALE);
			return -1;
		}
	}
	return 0;
}

/* The session's midnight: the configured date; else today for a live
 * source; else 0 for a recording, whose event times are then plainly ns
 * since its midnight rather than a guessed date. */
static int session_midnight(const struct feed_decoder_params *p, int64_t *midnight, char *err, size_t errlen)
{
	if (p->session_date && p->session_date[0]) {
		*midnight = timefmt_local_midnight_ns(p->session_date, p->utc_offset_min);
		if (*midnight < 0) {
			snprintf(err, errlen, "itch: bad session_date \"%s\" (expected YYYY-MM-DD, 1970 or later)",
				 p->session_date);
			return -1;
		}
	} else {
		*midnight = p->live ? timefmt_today_midnight_ns(p->utc_offset_min) : 0;
	}
	return 0;
}

static void *itch_create(const struct feed_decoder_params *p, char *err, size_t errlen)
{
	int64_t midnight;
	if (check_scales(p->symbols, err, errlen) || session_midnight(p, &midnight, err, errlen))
		return NULL;
	struct itch_feed *f = calloc(1, sizeof *f);
	struct itch_cfg ic = {
		.session_midnight_ns = midnight,
		/* learning: room for as many stocks as the table can name */
		.max_books = p->symbols->learn ? FEED_MAX_SYMBOLS : (p->symbols->n ? p->symbols->n : 1),
	};
	if (!f || itch_init(&f->itch, p->symbols, &ic) != 0) {
		free(f);
		snprintf(err, errlen, "itch: cannot allocate the books and order table");
		return NULL;
	}
	moldudp_init(&f->mold);
	f->packets = p->packets;
	return f;
}

static void itch_destroy(void *d)
{
	struct itch_feed *f = d;
	itch_free(&f->itch);
	free(f);
}

static int itch_decode_op(void *d, const char *msg, size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	return itch_decode(&((struct itch_feed *)d)->itch, msg, len, recv_ns, emit, ctx);
}

static uint32_t itch_packet_op(void *d, const uint8_t *pkt, size_t len, int64_t recv_ns, feed_emit_fn emit,
			       void *ctx)
{
	struct itch_feed *f = d;
	uint64_t before = f->mold.st.messages;
	moldudp_itch_packet(&f->mold, &f->itch, (const char *)pkt, len, recv_ns, emit, ctx);
	return (uint32_t)(f->mold.st.messages - before);
}

/* Raw ITCH files are paced by the message's own timestamp: bytes 5..10,
 * big-endian ns since midnight. */
static int64_t itch_record_op(const void *d, const uint8_t *msg, size_t len)
{
	if (len < 11)
		return XPORT_NO_TIME;
	uint64_t t = 0;
	for (int i = 5; i < 11; i++)
		t = t << 8 | msg[i];
	return ((const struct itch_feed *)d)->itch.midnight_ns + (int64_t)t;
}

static size_t itch_counts_op(const void *d, const struct named_counter **out)
{
	return itch_counts(&((const struct itch_feed *)d)->itch, out);
}

static size_t itch_errors_op(const void *d, const struct named_counter **out)
{
	return itch_errors(&((const struct itch_feed *)d)->itch, out);
}

static size_t itch_counters_op(const void *d, struct named_counter *out, size_t cap)
{
	const struct itch_feed *f = d;
	size_t n = 0;
	if (f->packets) {
		const struct moldudp_stats *m = &f->mold.st;
		n = feed_counter_put(out, cap, n, "mold_packets", m->packets);
		n = feed_counter_put(out, cap, n, "mold_heartbeats", m->heartbeats);
		n = feed_counter_put(out, cap, n, "mold_end_of_session", m->end_of_session);
		n = feed_counter_put(out, cap, n, "mold_gaps", m->gaps);
		n = feed_counter_put(out, cap, n, "mold_missed", m->missed);
		n = feed_counter_put(out, cap, n, "mold_duplicates", m->duplicates);
		n = feed_counter_put(out, cap, n, "mold_dup_messages", m->dup_messages);
		n = feed_counter_put(out, cap, n, "mold_malformed", m->malformed);
		n = feed_counter_put(out, cap, n, "mold_session_changes", m->session_changes);
	}
	return feed_counter_put(out, cap, n, "ignored_messages", itch_ignored(&f->itch));
}

static bool itch_book_op(const void *d, uint32_t inst, struct feed_book_info *info)
{
	const struct book_l3 *b = itch_book(&((const struct itch_feed *)d)->itch, inst);
	if (!b)
		return false;
	info->bid_levels = b->bid.n;
	info->ask_levels = b->ask.n;
	info->unknown_refs = b->unknown_refs;
	info->has_unknown_refs = true;
	info->stale = b->stale;
	return true;
}

/* L3 sides keep their best level last. */
static uint32_t itch_top_op(const void *d, uint32_t inst, uint8_t side, struct book_level *out, uint32_t n)
{
	const struct book_l3 *b = itch_book(&((const struct itch_feed *)d)->itch, inst);
	if (!b)
		return 0;
	const struct book_l3_side *sd = side == FKS_SIDE_BUY ? &b->bid : &b->ask;
	uint32_t k = 0;
	for (; k < n && k < sd->n; k++)
		out[k] = (struct book_level){ sd->lv[sd->n - 1 - k].px, sd->lv[sd->n - 1 - k].qty };
	return k;
}

const struct feed_decoder_ops itch_decoder_ops = {
	.name = "itch",
	.framing = FEED_FRAMING_LENGTH_PREFIXED,
	.size_of_type = itch_msg_len,
	.create = itch_create,
	.destroy = itch_destroy,
	.decode = itch_decode_op,
	.decode_packet = itch_packet_op,
	.record_ns = itch_record_op,
	.counts = itch_counts_op,
	.errors = itch_errors_op,
	.counters = itch_counters_op,
	.book = itch_book_op,
	.book_top = itch_top_op,
};
