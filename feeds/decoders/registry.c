/* The registry of feed decoders (feeds/decoder.h): one line per venue. */
#include "feeds/decoder.h"

#include <string.h>

extern const struct feed_decoder_ops itch_decoder_ops;
extern const struct feed_decoder_ops binance_decoder_ops;
extern const struct feed_decoder_ops bybit_decoder_ops;
extern const struct feed_decoder_ops coinbase_decoder_ops;
extern const struct feed_decoder_ops kraken_decoder_ops;

static const struct feed_decoder_ops *const registry[] = {
	&itch_decoder_ops,
	&binance_decoder_ops,
	&bybit_decoder_ops,
	&coinbase_decoder_ops,
	&kraken_decoder_ops,
};

const struct feed_decoder_ops *feed_decoder_at(size_t i)
{
	return i < sizeof registry / sizeof *registry ? registry[i] : NULL;
}

const struct feed_decoder_ops *feed_decoder_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof registry / sizeof *registry; i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

bool feed_decoder_l2_info(const struct book_l2 *b, struct feed_book_info *info)
{
	if (!b)
		return false;
	info->bid_levels = b->bid.n;
	info->ask_levels = b->ask.n;
	info->stale = b->stale;
	return true;
}

uint32_t feed_decoder_l2_top(const struct book_l2 *b, uint8_t side, struct book_level *out, uint32_t n)
{
	return b ? book_l2_top(b, side, out, n) : 0;
}
