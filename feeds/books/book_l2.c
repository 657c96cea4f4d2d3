/* The L2 price-level book (book_l2.h). */
#include "feeds/books/book_l2.h"

#include <string.h>

void book_l2_init(struct book_l2 *b, uint32_t instrument, struct book_level *storage,
		  uint32_t max_levels)
{
	memset(b, 0, sizeof *b);
	b->instrument = instrument;
	b->bid.lv = storage;
	b->ask.lv = storage + max_levels;
	b->bid.cap = b->ask.cap = max_levels;
}

void book_l2_clear(struct book_l2 *b)
{
	b->bid.n = b->ask.n = 0;
	b->last_update_id = 0;
}

/*
 * Both sides are sorted by one ascending key, worst first: the price for
 * bids, minus the price for asks (prices are > 0, so negation is safe).
 */
static inline int64_t key(uint8_t side, int64_t px)
{
	return side == FKS_SIDE_BUY ? px : -px;
}

/* First index whose key is >= k (n when none). */
static uint32_t lower_bound(const struct book_l2_side *s, uint8_t side, int64_t k)
{
	uint32_t lo = 0, hi = s->n;

	/* Most changes are at the touch: look there first. */
	if (hi && key(side, s->lv[hi - 1].px) < k)
		return hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (key(side, s->lv[mid].px) < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct book_l2_side *side_of(struct book_l2 *b, uint8_t side)
{
	return side == FKS_SIDE_BUY ? &b->bid : side == FKS_SIDE_SELL ? &b->ask : NULL;
}

int book_l2_set(struct book_l2 *b, uint8_t side, int64_t px, int64_t qty)
{
	struct book_l2_side *s = side_of(b, side);

	if (!s)
		return BOOK_L2_E_SIDE;
	if (px <= 0)
		return BOOK_L2_E_PRICE;
	if (qty < 0)
		return BOOK_L2_E_QTY;

	uint32_t i = lower_bound(s, side, key(side, px));
	bool found = i < s->n && s->lv[i].px == px;

	if (found) {
		if (qty) {
			s->lv[i].qty = qty;
		} else {
			memmove(&s->lv[i], &s->lv[i + 1], (s->n - i - 1) * sizeof s->lv[0]);
			s->n--;
		}
		return BOOK_L2_OK;
	}
	if (!qty)
		return BOOK_L2_OK;
	if (s->n == s->cap)
		return BOOK_L2_E_FULL;
	memmove(&s->lv[i + 1], &s->lv[i], (s->n - i) * sizeof s->lv[0]);
	s->lv[i] = (struct book_level){ .px = px, .qty = qty };
	s->n++;
	return BOOK_L2_OK;
}

int64_t book_l2_qty(const struct book_l2 *b, uint8_t side, int64_t px)
{
	const struct book_l2_side *s = side == FKS_SIDE_BUY ? &b->bid
				     : side == FKS_SIDE_SELL ? &b->ask : NULL;

	if (!s || px <= 0)
		return 0;
	uint32_t i = lower_bound(s, side, key(side, px));

	return i < s->n && s->lv[i].px == px ? s->lv[i].qty : 0;
}

uint32_t book_l2_top(const struct book_l2 *b, uint8_t side, struct book_level *out, uint32_t n)
{
	const struct book_l2_side *s = side == FKS_SIDE_BUY ? &b->bid
				     : side == FKS_SIDE_SELL ? &b->ask : NULL;

	if (!s)
		return 0;
	if (n > s->n)
		n = s->n;
	for (uint32_t k = 0; k < n; k++)
		out[k] = s->lv[s->n - 1 - k];
	return n;
}

static void truncate_side(struct book_l2_side *s, uint32_t depth)
{
	if (s->n <= depth)
		return;
	memmove(&s->lv[0], &s->lv[s->n - depth], depth * sizeof s->lv[0]);
	s->n = depth;
}

void book_l2_truncate(struct book_l2 *b, uint32_t depth)
{
	truncate_side(&b->bid, depth);
	truncate_side(&b->ask, depth);
}

bool book_l2_crossed(const struct book_l2 *b)
{
	const struct book_level *bid = book_l2_best(b, FKS_SIDE_BUY);
	const struct book_level *ask = book_l2_best(b, FKS_SIDE_SELL);

	return bid && ask && bid->px >= ask->px;
}

const char *book_l2_strerror(int status)
{
	switch (status) {
	case BOOK_L2_OK:
		return "ok";
	case BOOK_L2_E_FULL:
		return "book full: new level beyond max_levels";
	case BOOK_L2_E_PRICE:
		return "price not positive";
	case BOOK_L2_E_QTY:
		return "negative quantity";
	case BOOK_L2_E_SIDE:
		return "side neither buy nor sell";
	default:
		return "unknown book_l2 status";
	}
}
