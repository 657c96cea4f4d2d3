/*
 * Per-venue URLs and subscribe messages; see ws_venue.h.
 */
#include "feeds/xport/ws_venue.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const venue_name[WS_VENUE_COUNT] = {
	[WS_VENUE_BINANCE_SPOT] = "binance-spot",
	[WS_VENUE_BINANCE_FUTURES] = "binance-futures",
	[WS_VENUE_BYBIT_LINEAR] = "bybit-linear",
	[WS_VENUE_BYBIT_SPOT] = "bybit-spot",
	[WS_VENUE_COINBASE] = "coinbase",
	[WS_VENUE_KRAKEN] = "kraken",
};

static const char *const venue_url[WS_VENUE_COUNT] = {
	[WS_VENUE_BINANCE_SPOT] = "wss://stream.binance.com:9443/stream",
	[WS_VENUE_BINANCE_FUTURES] = "wss://fstream.binance.com/stream",
	[WS_VENUE_BYBIT_LINEAR] = "wss://stream.bybit.com/v5/public/linear",
	[WS_VENUE_BYBIT_SPOT] = "wss://stream.bybit.com/v5/public/spot",
	[WS_VENUE_COINBASE] = "wss://advanced-trade-ws.coinbase.com",
	[WS_VENUE_KRAKEN] = "wss://ws.kraken.com/v2",
};

/* Channels each venue has. */
static const unsigned venue_channels[WS_VENUE_COUNT] = {
	[WS_VENUE_BINANCE_SPOT] = WS_CH_TRADE | WS_CH_AGGTRADE | WS_CH_TOP | WS_CH_BOOK,
	[WS_VENUE_BINANCE_FUTURES] = WS_CH_TRADE | WS_CH_AGGTRADE | WS_CH_TOP | WS_CH_BOOK,
	[WS_VENUE_BYBIT_LINEAR] = WS_CH_TRADE | WS_CH_BOOK,
	[WS_VENUE_BYBIT_SPOT] = WS_CH_TRADE | WS_CH_BOOK,
	[WS_VENUE_COINBASE] = WS_CH_TRADE | WS_CH_TOP | WS_CH_BOOK | WS_CH_HEARTBEAT,
	[WS_VENUE_KRAKEN] = WS_CH_TRADE | WS_CH_TOP | WS_CH_BOOK,
};

const char *ws_venue_strerror(int status)
{
	switch (status) {
	case WS_VENUE_OK: return "ok";
	case WS_VENUE_E_VENUE: return "unknown venue";
	case WS_VENUE_E_SYMBOL: return "bad symbol list (none, too many, empty, too long or bad characters)";
	case WS_VENUE_E_CHANNEL: return "no channel, or a channel this venue does not have";
	case WS_VENUE_E_DEPTH: return "book depth not offered by this venue";
	case WS_VENUE_E_SPACE: return "subscribe messages or URL too long";
	default: return "unknown status";
	}
}

const char *ws_venue_name(enum ws_venue v)
{
	return (unsigned)v < WS_VENUE_COUNT ? venue_name[v] : NULL;
}

int ws_venue_parse(const char *name)
{
	for (int v = 0; v < WS_VENUE_COUNT; v++)
		if (name && strcmp(name, venue_name[v]) == 0)
			return v;
	return -1;
}

const char *ws_venue_default_url(enum ws_venue v)
{
	return (unsigned)v < WS_VENUE_COUNT ? venue_url[v] : NULL;
}

/* An appending writer that remembers overflow instead of truncating
 * silently. */
struct sbuf {
	char *p;
	size_t cap, len;
	bool overflow;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		b->p[b->len] = 0;
		return;
	}
	b->len += (size_t)n;
}

/* Symbol = letters, digits, - / _ . ; at most 32 bytes. */
static bool symbol_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!isalnum(ch) && ch != '-' && ch != '/' && ch != '_' && ch != '.')
			return false;
	}
	return true;
}

static int check_symbols(const char *const *symbols, size_t n)
{
	if (!symbols || n == 0 || n > WS_VENUE_MAX_SYMBOLS)
		return WS_VENUE_E_SYMBOL;
	for (size_t i = 0; i < n; i++)
		if (!symbol_ok(symbols[i]))
			return WS_VENUE_E_SYMBOL;
	return WS_VENUE_OK;
}

static void sb_lower(struct sbuf *b, const char *s)
{
	for (; *s && !b->overflow; s++)
		sb_printf(b, "%c", tolower((unsigned char)*s));
}

/* Binance stream names "sym@kind" for every symbol and channel, joined
 * by sep, each wrapped in quote. */
static void binance_streams(struct sbuf *b, const char *const *symbols, size_t n, unsigned ch,
			    const char *sep, const char *quote)
{
	static const struct { unsigned bit; const char *suffix; } kinds[] = {
		{WS_CH_TRADE, "@trade"},
		{WS_CH_AGGTRADE, "@aggTrade"},
		{WS_CH_TOP, "@bookTicker"},
		{WS_CH_BOOK, "@depth@100ms"},
	};
	bool first = true;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			if (!(ch & kinds[k].bit))
				continue;
			sb_printf(b, "%s%s", first ? "" : sep, quote);
			sb_lower(b, symbols[i]);
			sb_printf(b, "%s%s", kinds[k].suffix, quote);
			first = false;
		}
}

static void json_symbol_list(struct sbuf *b, const char *const *symbols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_printf(b, "%s\"%s\"", i ? "," : "", symbols[i]);
}

int ws_venue_plan(struct ws_venue_plan *plan, enum ws_venue v,
		  const char *const *symbols, size_t n_symbols,
		  unsigned channels, unsigned depth, const char *url_override)
{
	memset(plan, 0, sizeof *plan);
	if ((unsigned)v >= WS_VENUE_COUNT)
		return WS_VENUE_E_VENUE;
	int r = check_symbols(symbols, n_symbols);
	if (r)
		return r;
	if (channels == 0 || (channels & ~venue_channels[v]))
		return WS_VENUE_E_CHANNEL;
	const char *url = url_override ? url_override : venue_url[v];
	if (strlen(url) >= sizeof plan->url)
		return WS_VENUE_E_SPACE;
	strcpy(plan->url, url);

	switch (v) {
	case WS_VENUE_BINANCE_SPOT:
	case WS_VENUE_BINANCE_FUTURES: {
		struct sbuf b = {plan->msg[0], WS_VENUE_MSG_MAX, 0, false};
		sb_printf(&b, "{\"method\":\"SUBSCRIBE\",\"params\":[");
		binance_streams(&b, symbols, n_symbols, channels, ",", "\"");
		sb_printf(&b, "],\"id\":1}");
		if (b.overflow)
			return WS_VENUE_E_SPACE;
		plan->n_msgs = 1;
		return WS_VENUE_OK;
	}
	case WS_VENUE_BYBIT_LINEAR:
	case WS_VENUE_BYBIT_SPOT: {
		if (depth == 0)
			depth = 50;
		if (depth != 1 && depth != 50 && depth != 200 && depth != 500 && depth != 1000)
			return WS_VENUE_E_DEPTH;
		struct sbuf b = {plan->msg[0], WS_VENUE_MSG_MAX, 0, false};
		sb_printf(&b, "{\"op\":\"subscribe\",\"args\":[");
		bool first = true;
		for (size_t i = 0; i < n_symbols; i++) {
			if (channels & WS_CH_BOOK) {
				sb_printf(&b, "%s\"orderbook.%u.%s\"", first ? "" : ",", depth, symbols[i]);
				first = false;
			}
			if (channels & WS_CH_TRADE) {
				sb_printf(&b, "%s\"publicTrade.%s\"", first ? "" : ",", symbols[i]);
				first = false;
			}
		}
		sb_printf(&b, "]}");
		if (b.overflow)
			return WS_VENUE_E_SPACE;
		plan->n_msgs = 1;
		return WS_VENUE_OK;
	}
	case WS_VENUE_COINBASE: {
		/* heartbeats first: it keeps quiet subscriptions open */
		static const struct { unsigned bit; const char *name; } chans[] = {
			{WS_CH_HEARTBEAT, "heartbeats"},
			{WS_CH_BOOK, "level2"},
			{WS_CH_TRADE, "market_trades"},
			{WS_CH_TOP, "ticker"},
		};
		for (size_t k = 0; k < sizeof chans / sizeof chans[0]; k++) {
			if (!(channels & chans[k].bit))
				continue;
			struct sbuf b = {plan->msg[plan->n_msgs], WS_VENUE_MSG_MAX, 0, false};
			sb_printf(&b, "{\"type\":\"subscribe\",\"product_ids\":[");
			json_symbol_list(&b, symbols, n_symbols);
			sb_printf(&b, "],\"channel\":\"%s\"}", chans[k].name);
			if (b.overflow)
				return WS_VENUE_E_SPACE;
			plan->n_msgs++;
		}
		return WS_VENUE_OK;
	}
	case WS_VENUE_KRAKEN: {
		if (depth == 0)
			depth = 10;
		if (depth != 10 && depth != 25 && depth != 100 && depth != 500 && depth != 1000)
			return WS_VENUE_E_DEPTH;
		static const struct { unsigned bit; const char *name; } chans[] = {
			{WS_CH_BOOK, "book"},
			{WS_CH_TRADE, "trade"},
			{WS_CH_TOP, "ticker"},
		};
		for (size_t k = 0; k < sizeof chans / sizeof chans[0]; k++) {
			if (!(channels & chans[k].bit))
				continue;
			struct sbuf b = {plan->msg[plan->n_msgs], WS_VENUE_MSG_MAX, 0, false};
			sb_printf(&b, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"%s\",\"symbol\":[", chans[k].name);
			json_symbol_list(&b, symbols, n_symbols);
			if (chans[k].bit == WS_CH_BOOK)
				sb_printf(&b, "],\"depth\":%u}}", depth);
			else
				sb_printf(&b, "]}}");
			if (b.overflow)
				return WS_VENUE_E_SPACE;
			plan->n_msgs++;
		}
		return WS_VENUE_OK;
	}
	default:
		return WS_VENUE_E_VENUE;
	}
}

void ws_venue_apply(const struct ws_venue_plan *plan, struct ws_config *cfg)
{
	cfg->url = plan->url;
	cfg->n_subscribe = plan->n_msgs;
	for (size_t i = 0; i < plan->n_msgs && i < WS_MAX_SUBSCRIBE; i++)
		cfg->subscribe[i] = plan->msg[i];
}

int ws_venue_binance_combined_url(char *out, size_t cap, enum ws_venue v, const char *base,
				  const char *const *symbols, size_t n_symbols, unsigned channels)
{
	if (v != WS_VENUE_BINANCE_SPOT && v != WS_VENUE_BINANCE_FUTURES)
		return WS_VENUE_E_VENUE;
	int r = check_symbols(symbols, n_symbols);
	if (r)
		return r;
	if (channels == 0 || (channels & ~venue_channels[v]))
		return WS_VENUE_E_CHANNEL;
	if (!out || cap == 0)
		return WS_VENUE_E_SPACE;
	struct sbuf b = {out, cap, 0, false};
	out[0] = 0;
	sb_printf(&b, "%s?streams=", base ? base : venue_url[v]);
	binance_streams(&b, symbols, n_symbols, channels, "/", "");
	if (b.overflow)
		return WS_VENUE_E_SPACE;
	return (int)b.len;
}
