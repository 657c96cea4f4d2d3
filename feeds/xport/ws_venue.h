/*
 * What to connect to and what to say first, per JSON venue: the production
 * websocket URL and the subscribe messages for a set of symbols and
 * channels.  Pure string building, no I/O; the result plugs straight into
 * struct ws_config (url, subscribe[], n_subscribe).
 *
 * Venues and what each channel subscribes to:
 *
 *   venue              url (default)                              TRADE          AGGTRADE   TOP         BOOK                    HEARTBEAT
 *   binance-spot       wss://stream.binance.com:9443/stream       <s>@trade      <s>@aggTrade <s>@bookTicker <s>@depth@100ms   -
 *   binance-futures    wss://fstream.binance.com/stream           <s>@trade      <s>@aggTrade <s>@bookTicker <s>@depth@100ms   -
 *   bybit-linear       wss://stream.bybit.com/v5/public/linear    publicTrade.S  -          -           orderbook.<depth>.S     -
 *   bybit-spot         wss://stream.bybit.com/v5/public/spot      publicTrade.S  -          -           orderbook.<depth>.S     -
 *   coinbase           wss://advanced-trade-ws.coinbase.com       market_trades  -          ticker      level2                  heartbeats
 *   kraken             wss://ws.kraken.com/v2                     trade          -          ticker      book (depth)            -
 *
 * Message shapes (one message unless noted):
 *   Binance   {"method":"SUBSCRIBE","params":["btcusdt@trade",...],"id":1}
 *             (symbols lowercased; on /stream every event arrives in the
 *             combined envelope {"stream":..,"data":..}).  Alternatively
 *             ws_venue_binance_combined_url() puts the streams in the URL
 *             and no subscribe message is needed.
 *   Bybit v5  {"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"]}
 *   Coinbase  one message per channel (the API takes one channel each):
 *             {"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}
 *             heartbeats is worth subscribing: quiet channels are closed
 *             by the server after 60-90 s without it.
 *   Kraken v2 one message per channel:
 *             {"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}
 *             {"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]}}
 *
 * Book depth: Bybit 1, 50, 200, 500 or 1000 (0 means 50); Kraken 10, 25,
 * 100, 500 or 1000 (0 means 10); ignored elsewhere.
 *
 * Symbols are the venue's own spelling (BTCUSDT, BTC-USD, BTC/USD) and may
 * hold only letters, digits and - / _ . so no symbol can break out of the
 * JSON string it is placed in.
 */
#ifndef FKS_FEEDS_WS_VENUE_H
#define FKS_FEEDS_WS_VENUE_H

#include <stddef.h>

#include "feeds/net/ws_client.h"

enum ws_venue {
	WS_VENUE_BINANCE_SPOT = 0,
	WS_VENUE_BINANCE_FUTURES,
	WS_VENUE_BYBIT_LINEAR,
	WS_VENUE_BYBIT_SPOT,
	WS_VENUE_COINBASE,
	WS_VENUE_KRAKEN,
	WS_VENUE_COUNT
};

/* Channel bits. */
enum {
	WS_CH_TRADE = 1u << 0,      /* every trade */
	WS_CH_AGGTRADE = 1u << 1,   /* Binance aggregated trades */
	WS_CH_TOP = 1u << 2,        /* top of book / ticker */
	WS_CH_BOOK = 1u << 3,       /* L2 book: snapshot + deltas */
	WS_CH_HEARTBEAT = 1u << 4,  /* Coinbase heartbeats */
};

#define WS_VENUE_MAX_MSGS 8
#define WS_VENUE_MSG_MAX 4096
#define WS_VENUE_MAX_SYMBOLS 64

enum ws_venue_status {
	WS_VENUE_OK = 0,
	WS_VENUE_E_VENUE = -1,     /* unknown venue */
	WS_VENUE_E_SYMBOL = -2,    /* no symbols, too many, empty, too long or bad characters */
	WS_VENUE_E_CHANNEL = -3,   /* no channel, or one the venue does not have */
	WS_VENUE_E_DEPTH = -4,     /* book depth the venue does not offer */
	WS_VENUE_E_SPACE = -5,     /* the messages or the URL do not fit */
};
const char *ws_venue_strerror(int status);

/* "binance-spot", ...; NULL when out of range. */
const char *ws_venue_name(enum ws_venue v);
/* The venue of a name above; -1 if unknown. */
int ws_venue_parse(const char *name);
/* The production URL of v; NULL when out of range. */
const char *ws_venue_default_url(enum ws_venue v);

/* The connection plan: the URL and the subscribe messages, owned here. */
struct ws_venue_plan {
	char url[WS_URL_MAX];
	size_t n_msgs;
	char msg[WS_VENUE_MAX_MSGS][WS_VENUE_MSG_MAX];
};

/*
 * Fill plan for venue v, the given symbols (1..WS_VENUE_MAX_SYMBOLS) and
 * channel bits.  url_override, if not NULL, replaces the default URL (a
 * test server, a testnet).  Returns WS_VENUE_OK or a negative status.
 */
int ws_venue_plan(struct ws_venue_plan *plan, enum ws_venue v,
		  const char *const *symbols, size_t n_symbols,
		  unsigned channels, unsigned depth, const char *url_override);

/* Point cfg->url and cfg->subscribe at the plan (which must outlive
 * ws_client_new; the client copies them). */
void ws_venue_apply(const struct ws_venue_plan *plan, struct ws_config *cfg);

/*
 * Binance only: the combined-streams URL, base + "?streams=a/b/c", which
 * subscribes by itself.  base NULL: the venue's default.  Returns the
 * length, or a negative status.
 */
int ws_venue_binance_combined_url(char *out, size_t cap, enum ws_venue v, const char *base,
				  const char *const *symbols, size_t n_symbols, unsigned channels);

#endif
