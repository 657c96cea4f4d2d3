/*
 * The body shared by the four JSON venue fuzz targets (fuzz_binance.c,
 * fuzz_bybit.c, fuzz_coinbase.c, fuzz_kraken.c).  The input is decoded
 * whole, then line by line (recordings are JSON lines, so one input can be
 * a snapshot followed by updates).  Properties, checked after every
 * message: no crash or overread (each message is an exact-size heap copy,
 * so ASan sees any), the return is 0 or one of the venue's error reasons,
 * only well-formed market-data events come out, and every book is sorted
 * worst first with positive quantities and at most `cap` levels a side.
 *
 * The including file wraps its X_decode as a fuzz_decode_fn (emitting to
 * fuzz_check_event) and calls fuzz_venue_run from LLVMFuzzerTestOneInput.
 */
#ifndef FKS_FUZZ_VENUE_H
#define FKS_FUZZ_VENUE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/json_venue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_event(void *ctx, const union fks_event *ev)
{
	(void)ctx;
	if (ev->h.source != FKS_STAGE_FEED || ev->h.seq != 0 || ev->h.instrument == 0)
		abort();
	if (ev->h.type != FKS_EV_QUOTE && ev->h.type != FKS_EV_TRADE &&
	    ev->h.type != FKS_EV_BOOK_DELTA)
		abort();
	if (ev->h.event_time_ns < 0)
		abort();
	if (ev->h.type == FKS_EV_TRADE && (ev->trade.px <= 0 || ev->trade.qty <= 0))
		abort();
}

/* dir 1: bids, ascending; -1: asks, descending (both worst first). */
static void fuzz_check_side(const struct book_l2_side *s, uint32_t cap, int dir)
{
	if (s->n > cap)
		abort();
	for (uint32_t i = 0; i < s->n; i++)
		if (s->lv[i].qty <= 0 || (i + 1 < s->n && (s->lv[i + 1].px - s->lv[i].px) * dir <= 0))
			abort();
}

static void fuzz_check_books(const struct json_venue *v, uint32_t cap)
{
	for (uint32_t i = 0; i < v->nbooks; i++) {
		fuzz_check_side(&v->slot[i].book.bid, cap, 1);
		fuzz_check_side(&v->slot[i].book.ask, cap, -1);
	}
}

typedef int (*fuzz_decode_fn)(void *d, const char *msg, size_t len);

static void fuzz_decode_one(void *d, const struct json_venue *v, uint32_t cap,
			    fuzz_decode_fn decode, const uint8_t *p, size_t n)
{
	char *m = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
	if (!m)
		abort();
	memcpy(m, p, n);
	int rc = decode(d, m, n);
	free(m);
	if (rc > 0 || (rc < 0 && (uint32_t)-rc >= v->nerrors))
		abort();
	fuzz_check_books(v, cap);
}

/* The whole input, then (after between(d), when given) each line. */
static void fuzz_venue_run(void *d, const struct json_venue *v, uint32_t cap,
			   fuzz_decode_fn decode, void (*between)(void *d),
			   const uint8_t *data, size_t size)
{
	fuzz_decode_one(d, v, cap, decode, data, size);
	if (between) {
		between(d);
		fuzz_check_books(v, cap);
	}
	for (size_t i = 0, start = 0; i <= size; i++)
		if (i == size || data[i] == '\n') {
			fuzz_decode_one(d, v, cap, decode, data + start, i - start);
			start = i + 1;
		}
}

#endif
