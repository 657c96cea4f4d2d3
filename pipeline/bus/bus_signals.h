/*
 * Signals in from other hosts: JSON messages on <prefix>.signals.v1, in
 * their own stream (bus.signals.stream), read by the durable pull consumer
 * bus.signals.consumer ("execution"), each turned into an order request
 * and handed to a sink.  A message is acknowledged only after the sink
 * says the request is journaled; a sink that cannot take it now leaves it
 * unacknowledged (Nak: JetStream delivers it again); a message that is not
 * a valid signal is terminated (AckTerm: never delivered again), its
 * reason logged and counted.
 *
 * A signal (one JSON object; numbers may be quoted, decimals are exact):
 *   {"symbol": "BTCUSDT", "side": "buy"|"sell", "qty": "0.01",
 *    "type": "limit"|"market" (default limit), "px": "30000.5" (required
 *    for limit; for market, the reference price risk checks notional
 *    against), "tif": "day"|"gtc"|"ioc"|"fok" (default gtc),
 *    "take_profit": P, "stop_loss": P, "id": "the sender's reference"}
 * The order's signal_id is the message's stream sequence: unique in the
 * stream, and the same when a message is delivered again, so a sink can
 * tell a redelivery of what it journaled (an acknowledgement lost) from a
 * new signal.
 */
#ifndef FKS_PIPELINE_BUS_SIGNALS_H
#define FKS_PIPELINE_BUS_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/config/config.h"
#include "shm/event.h"

enum bus_signal_error {
	SIG_BAD_JSON, SIG_MISSING_FIELD, SIG_UNKNOWN_SYMBOL, SIG_BAD_SIDE, SIG_BAD_TYPE, SIG_BAD_TIF,
	SIG_BAD_NUMBER, SIG_UNKNOWN_KEY, SIG_TOO_LARGE, SIG_ERROR_COUNT
};

/* "bad_json", "missing_field", ...: the counters' and logs' names. */
const char *bus_signal_error_name(enum bus_signal_error e);

/*
 * Parse and check one signal against cfg's instruments (symbols, scales)
 * into an order request: ev's header (type order_new, source none,
 * instrument) and terms, order_id 0 (the sink numbers orders), signal_id
 * signal_id.  0, or -1 with *err the kind and why a sentence naming the
 * field.  No allocation; len at most 4096.
 */
int bus_signal_parse(const char *json, size_t len, const struct fks_config *cfg, uint64_t signal_id,
		     struct fks_ev_order_new *ev, enum bus_signal_error *err, char *why, size_t whylen);

/* Where order requests go: journal the request and return 0 (the message
 * is then acknowledged), or -1 when it cannot now (it is delivered again). */
struct bus_signal_sink {
	int (*submit)(void *ctx, const struct fks_ev_order_new *ev);
	void *ctx;
};

struct bus_signals_stats {
	uint64_t received, acked, naked, terminated;
	uint64_t err[SIG_ERROR_COUNT];
};

struct bus_signals;

/* Connect, create the signals stream and the durable consumer when they
 * do not exist, and bind to it.  cfg stays valid while it is used.  0, or
 * -1 with err. */
int bus_signals_open(const struct fks_config *cfg, struct bus_signal_sink sink, struct bus_signals **out,
		     char *err, size_t errlen);
/* Fetch up to max messages (waiting at most timeout_ms for the first)
 * and handle each.  Returns how many were handled, or -1 on a connection
 * error (bus_signals_error). */
int bus_signals_poll(struct bus_signals *s, int max, int timeout_ms);
const struct bus_signals_stats *bus_signals_stats(const struct bus_signals *s);
const char *bus_signals_error(const struct bus_signals *s);
void bus_signals_close(struct bus_signals *s);

#endif
