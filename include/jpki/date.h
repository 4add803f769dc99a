/* openjpki — civil dates in JST, day numbers, 和暦, and instants.
 *
 * A civil date is a jpki_day: the number of days since 1970-01-01 in the
 * proleptic Gregorian calendar. Supported dates run from 1868-01-01 to
 * 2199-12-31 (DOMAIN §1); every function that builds a date from outside
 * input checks that range. Arithmetic is pure integer math (no libc time
 * functions, no locale, no clock). Weekdays are 0 = Sunday ... 6 = Saturday.
 *
 * Instants (a moment, "now") are int64 seconds since the Unix epoch. Japan
 * has used UTC+9 without daylight saving since 1952; JST conversions here
 * use +9 for every instant.
 */
#ifndef JPKI_DATE_H
#define JPKI_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t jpki_day;

/* "No date given" for optional inputs; never a valid day. */
#define JPKI_DAY_NONE INT32_MIN

#define JPKI_YEAR_MIN 1868
#define JPKI_YEAR_MAX 2199
#define JPKI_DAY_MIN  (-37255) /* 1868-01-01 */
#define JPKI_DAY_MAX  84005    /* 2199-12-31 */

/* Length of "YYYY-MM-DD" plus the terminating NUL. */
#define JPKI_DATE_BUFSZ 11

#define JPKI_JST_OFFSET_SECONDS (9 * 3600)

bool jpki_is_leap(int year);
int jpki_days_in_month(int year, int month); /* 0 if month is not 1..12 */

/* Unchecked conversions for any (y, m, d) with m 1..12, d 1..31 (callers
 * validate first) and any day number whose year fits in an int. */
jpki_day jpki_day_from_ymd_unchecked(int year, int month, int day);
void jpki_day_to_ymd(jpki_day d, int *year, int *month, int *day);

/* Checked: JPKI_ERR_INVALID for an impossible date, JPKI_ERR_RANGE outside
 * 1868-01-01..2199-12-31. */
jpki_err jpki_day_from_ymd(int year, int month, int day, jpki_day *out);

bool jpki_day_in_range(jpki_day d);

/* Strict ISO 8601 calendar date "YYYY-MM-DD": exactly ten characters, two
 * hyphens, a real day, in range. "2026-2-3", "2026-02-30", "2026-02-03x"
 * and "+2026-02-03" are JPKI_ERR_INVALID; "1867-12-31" is JPKI_ERR_RANGE. */
jpki_err jpki_date_parse(const char *s, jpki_day *out, struct jpki_errbuf *eb);

/* Writes "YYYY-MM-DD"; buf must hold JPKI_DATE_BUFSZ bytes. Returns buf. */
char *jpki_date_format(jpki_day d, char buf[static JPKI_DATE_BUFSZ]);

int jpki_weekday(jpki_day d);

/* The nth (1..5) given weekday of a month; JPKI_DAY_NONE when the month has
 * no such day (a fifth Monday, say) or the arguments are out of range. */
jpki_day jpki_nth_weekday(int year, int month, int weekday, int n);

/* d plus a number of calendar months, keeping the day of the month and
 * clamping it to the target month's last day (民法143条2項 by analogy:
 * 2026-05-31 minus 3 months is 2026-02-28). JPKI_ERR_RANGE if the result
 * leaves the supported range. */
jpki_err jpki_add_months(jpki_day d, int months, jpki_day *out);

/* 和暦 (DOMAIN §1): 明治 from 1873-01-01 (西暦 before it), 大正 1912-07-30,
 * 昭和 1926-12-25, 平成 1989-01-08, 令和 2019-05-01; year 1 is 元年.
 * Writes e.g. "令和7年6月15日" or, before 1873, "1872年12月31日".
 * era_out (optional) receives the era name or NULL for 西暦, year_out the
 * year within the era (or the Gregorian year). Returns JPKI_ERR_RANGE for
 * a day outside the supported range, JPKI_ERR_INVALID if buf is too small. */
#define JPKI_WAREKI_BUFSZ 40
jpki_err jpki_wareki(jpki_day d, char *buf, size_t bufsz, const char **era_out,
		     int *year_out);

/* Strict ISO 8601 instant with seconds and an offset:
 * "2026-02-21T10:00:00+09:00", "2026-02-21T01:00:00Z". No fractions, no
 * lowercase t/z, no missing seconds. The local date must be in range. */
jpki_err jpki_instant_parse(const char *s, int64_t *unix_seconds,
			    struct jpki_errbuf *eb);

/* An instant as "YYYY-MM-DDTHH:MM:SS+09:00" (JST), the form
 * jpki_instant_parse() reads. JPKI_ERR_RANGE when its JST day is outside
 * the supported range (buf is then ""). */
#define JPKI_INSTANT_BUFSZ 26
jpki_err jpki_instant_format(int64_t unix_seconds, char buf[static JPKI_INSTANT_BUFSZ]);

/* The JST civil date of an instant, and the seconds since JST midnight. */
jpki_day jpki_jst_day(int64_t unix_seconds);
int32_t jpki_jst_second_of_day(int64_t unix_seconds);

#ifdef __cplusplus
}
#endif
#endif
