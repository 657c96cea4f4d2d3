/*
 * Venue timestamps as text -> ns since the Unix epoch, exactly (no
 * floating point, no clock, no locale, no allocation).  Coinbase and Kraken
 * both write RFC 3339; one parser serves both (coinbase_parse_time is its
 * old name and stays as a wrapper).
 */
#ifndef FKS_FEEDS_TIMEFMT_H
#define FKS_FEEDS_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * RFC 3339 / ISO 8601 UTC time to ns since the Unix epoch:
 *
 *   YYYY-MM-DD ('T'|'t'|' ') hh:mm:ss [ '.' 1-9 digits ] ( 'Z'|'z'|(+|-)hh:mm )
 *
 * Years 1970..2261 (an int64 of ns ends in 2262), real calendar days, no
 * leap second (60), the offset subtracted to give UTC.  A fraction finer
 * than ns is refused, never rounded.  Returns 0, or -1 with *ns unchanged.
 */
int timefmt_rfc3339_ns(const char *s, size_t len, int64_t *ns);

/* Epoch ns of 00:00 on date "YYYY-MM-DD" (1970 or later) in the zone
 * utc_offset_min minutes east of UTC; -1 on a malformed date.  ITCH times
 * are ns since the session's midnight. */
int64_t timefmt_local_midnight_ns(const char *date, int32_t utc_offset_min);

/* Epoch ns of today's midnight in that zone (reads the realtime clock: for
 * live sources only, never on a decode path). */
int64_t timefmt_today_midnight_ns(int32_t utc_offset_min);

#endif
