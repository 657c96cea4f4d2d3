/* RFC 3339 timestamps (timefmt.h). */
#include "feeds/decoders/timefmt.h"

#include <stdbool.h>
#include <stdio.h>

#include "shm/clock.h"

/* n decimal digits at s as an unsigned value, or -1. */
static int64_t digits(const char *s, size_t n)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int64_t m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return dim[m - 1] + (m == 2 && leap);
}

int timefmt_rfc3339_ns(const char *s, size_t len, int64_t *ns)
{
	/* YYYY-MM-DDThh:mm:ss is 19 bytes, then fraction and zone */
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		return -1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	int64_t y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int64_t h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 59)
		return -1;
	if (d > days_in_month(y, mo))
		return -1;
	size_t i = 19;
	int64_t frac = 0;
	if (s[i] == '.') {
		size_t k = 0;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, k++) {
			if (k == 9)
				return -1; /* more than ns: not exact */
			frac = frac * 10 + (s[i] - '0');
		}
		if (k == 0)
			return -1;
		for (; k < 9; k++)
			frac *= 10;
	}
	if (i >= len)
		return -1;
	int64_t offset_s = 0;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		if (len - i < 6 || s[i + 3] != ':')
			return -1;
		int64_t oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
		i += 6;
	} else {
		return -1;
	}
	if (i != len)
		return -1;
	/* local time minus its offset is UTC */
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset_s;
	/* INT64_MAX ns is 2262-04-11T23:47:16.854775807Z */
	if (secs < 0 || secs > INT64_MAX / 1000000000 - 1)
		return -1;
	*ns = secs * 1000000000 + frac;
	return 0;
}

int64_t timefmt_local_midnight_ns(const char *date, int32_t utc_offset_min)
{
	int y, m, d, used = 0;
	if (!date || sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || date[used] || used != 10)
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	/* Local midnight is UTC midnight minus the offset east of UTC. */
	int64_t s = days_from_civil(y, m, d) * 86400 - (int64_t)utc_offset_min * 60;
	return s < 0 ? -1 : s * 1000000000;
}

int64_t timefmt_today_midnight_ns(int32_t utc_offset_min)
{
	int64_t local = clock_real_ns() / CLOCK_NS_PER_SEC + (int64_t)utc_offset_min * 60;
	int64_t day = local >= 0 ? local / 86400 : 0;
	int64_t s = day * 86400 - (int64_t)utc_offset_min * 60;
	return s < 0 ? 0 : s * 1000000000;
}
