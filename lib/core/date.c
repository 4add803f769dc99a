/* Civil dates as day numbers, strict ISO parsing, 和暦, JST instants.
 *
 * Day numbers follow the proleptic Gregorian calendar, day 0 = 1970-01-01.
 * The conversions use the era-of-400-years method described by Howard
 * Hinnant, "chrono-Compatible Low-Level Date Algorithms"
 * (https://howardhinnant.github.io/date_algorithms.html): a year is shifted
 * to start on March 1 so that the leap day is the last day of the year, and
 * everything is integer arithmetic. Range: 1868-01-01..2199-12-31 (DOMAIN §1).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jpki/date.h"
#include "internal.h"
#include "banned.h"

bool jpki_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int jpki_days_in_month(int y, int m)
{
	static const unsigned char len[12] = {31, 28, 31, 30, 31, 30,
					      31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12)
		return 0;
	if (m == 2 && jpki_is_leap(y))
		return 29;
	return len[m - 1];
}

static int floordiv(int a, int b)
{
	int q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

jpki_day jpki_day_from_ymd_unchecked(int y, int m, int d)
{
	y -= m <= 2;
	int era = floordiv(y, 400);
	int yoe = y - era * 400;				  /* [0, 399] */
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	  /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void jpki_day_to_ymd(jpki_day z, int *year, int *month, int *day)
{
	int32_t zz = z + 719468;
	int32_t era = (zz >= 0 ? zz : zz - 146096) / 146097;
	int32_t doe = zz - era * 146097;
	int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int32_t mp = (5 * doy + 2) / 153;
	int32_t d = doy - (153 * mp + 2) / 5 + 1;
	int32_t m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(yoe + era * 400 + (m <= 2));
	*month = (int)m;
	*day = (int)d;
}

bool jpki_day_in_range(jpki_day d)
{
	return d >= JPKI_DAY_MIN && d <= JPKI_DAY_MAX;
}

jpki_err jpki_day_from_ymd(int y, int m, int d, jpki_day *out)
{
	if (m < 1 || m > 12 || d < 1 || d > jpki_days_in_month(y, m))
		return JPKI_ERR_INVALID;
	if (y < JPKI_YEAR_MIN || y > JPKI_YEAR_MAX)
		return JPKI_ERR_RANGE;
	*out = jpki_day_from_ymd_unchecked(y, m, d);
	return JPKI_OK;
}

/* Reads exactly n ASCII digits; -1 if any is not a digit. */
int jpkii_digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether s starts with the shape DDDD-DD-DD (ten characters examined). */
static bool ymd10_shape(const char *s)
{
	return jpkii_digits(s, 4) >= 0 && s[4] == '-' && jpkii_digits(s + 5, 2) >= 0 &&
	       s[7] == '-' && jpkii_digits(s + 8, 2) >= 0;
}

/* "YYYY-MM-DD" at s (exactly ten characters are examined). */
static jpki_err parse_ymd10(const char *s, jpki_day *out)
{
	if (!ymd10_shape(s))
		return JPKI_ERR_INVALID;
	return jpki_day_from_ymd(jpkii_digits(s, 4), jpkii_digits(s + 5, 2),
				 jpkii_digits(s + 8, 2), out);
}

jpki_err jpki_date_parse(const char *s, jpki_day *out, struct jpki_errbuf *eb)
{
	if (s == NULL || strnlen(s, 11) != 10 || !ymd10_shape(s))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "'%.40s': not a date (expected YYYY-MM-DD)",
				 s ? s : "");
	jpki_err e = parse_ymd10(s, out);
	if (e == JPKI_ERR_RANGE)
		return jpki_errf(eb, e, "'%s': out of range (%d-01-01 to %d-12-31)", s,
				 JPKI_YEAR_MIN, JPKI_YEAR_MAX);
	if (e != JPKI_OK)
		return jpki_errf(eb, e, "'%s': no such day", s);
	return JPKI_OK;
}

char *jpki_date_format(jpki_day d, char buf[static JPKI_DATE_BUFSZ])
{
	int y, m, dd;
	jpki_day_to_ymd(d, &y, &m, &dd);
	/* A checked day has a four-digit year; clamp anything else so the
	 * output always fits. Digits are written directly: this is on the hot
	 * path of every listing. */
	if (y < 0 || y > 9999)
		y = 0;
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + dd / 10);
	buf[9] = (char)('0' + dd % 10);
	buf[10] = '\0';
	return buf;
}

int jpki_weekday(jpki_day d)
{
	/* 1970-01-01 was a Thursday (4). */
	int w = (int)((d % 7 + 7 + 4) % 7);
	return w;
}

jpki_day jpki_nth_weekday(int y, int m, int wd, int n)
{
	if (m < 1 || m > 12 || wd < 0 || wd > 6 || n < 1 || n > 5)
		return JPKI_DAY_NONE;
	jpki_day first = jpki_day_from_ymd_unchecked(y, m, 1);
	int delta = (wd - jpki_weekday(first) + 7) % 7;
	int dom = 1 + delta + 7 * (n - 1);
	if (dom > jpki_days_in_month(y, m))
		return JPKI_DAY_NONE;
	return first + delta + 7 * (n - 1);
}

jpki_err jpki_add_months(jpki_day d, int months, jpki_day *out)
{
	int y, m, dd;
	if (!jpki_day_in_range(d) || months > 12 * 400 || months < -12 * 400)
		return JPKI_ERR_RANGE;
	jpki_day_to_ymd(d, &y, &m, &dd);
	int idx = (y * 12 + (m - 1)) + months;
	int ny = floordiv(idx, 12);
	int nm = idx - ny * 12 + 1;
	int last = jpki_days_in_month(ny, nm);
	if (dd > last)
		dd = last;
	jpki_day r = jpki_day_from_ymd_unchecked(ny, nm, dd);
	if (!jpki_day_in_range(r))
		return JPKI_ERR_RANGE;
	*out = r;
	return JPKI_OK;
}

/* ---- 和暦 ---- */

struct era {
	int y, m, d; /* first day */
	int base;    /* era year = Gregorian year - base */
	const char *name;
};

/* Newest first. Start days: 改元の詔書/元号を改める政令 of each era; 明治
 * is used from the Gregorian calendar's adoption on 1873-01-01 (明治6年). */
static const struct era eras[] = {
    {2019, 5, 1, 2018, "令和"},	  {1989, 1, 8, 1988, "平成"},
    {1926, 12, 25, 1925, "昭和"}, {1912, 7, 30, 1911, "大正"},
    {1873, 1, 1, 1867, "明治"},
};

jpki_err jpki_wareki(jpki_day d, char *buf, size_t bufsz, const char **era_out,
		     int *year_out)
{
	int y, m, dd;
	if (!jpki_day_in_range(d))
		return JPKI_ERR_RANGE;
	jpki_day_to_ymd(d, &y, &m, &dd);
	const char *era = NULL;
	int ey = y;
	for (size_t i = 0; i < sizeof eras / sizeof eras[0]; i++) {
		const struct era *e = &eras[i];
		if (d >= jpki_day_from_ymd_unchecked(e->y, e->m, e->d)) {
			era = e->name;
			ey = y - e->base;
			break;
		}
	}
	int n;
	if (era == NULL)
		n = snprintf(buf, bufsz, "%d年%d月%d日", y, m, dd);
	else if (ey == 1)
		n = snprintf(buf, bufsz, "%s元年%d月%d日", era, m, dd);
	else
		n = snprintf(buf, bufsz, "%s%d年%d月%d日", era, ey, m, dd);
	if (n < 0 || (size_t)n >= bufsz)
		return JPKI_ERR_INVALID;
	if (era_out)
		*era_out = era;
	if (year_out)
		*year_out = ey;
	return JPKI_OK;
}

/* ---- instants ---- */

jpki_err jpki_instant_parse(const char *s, int64_t *unix_seconds,
			    struct jpki_errbuf *eb)
{
	/* YYYY-MM-DDTHH:MM:SS then Z or ±HH:MM: 20 or 25 characters. */
	size_t len = s ? strnlen(s, 26) : 0;
	jpki_day day = 0;
	int hh, mm, ss, off = 0;

	if ((len != 20 && len != 25) || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		goto bad;
	if (!ymd10_shape(s))
		goto bad;
	jpki_err de = parse_ymd10(s, &day);
	hh = jpkii_digits(s + 11, 2);
	mm = jpkii_digits(s + 14, 2);
	ss = jpkii_digits(s + 17, 2);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59)
		goto bad;
	if (len == 20) {
		if (s[19] != 'Z')
			goto bad;
	} else {
		int oh = jpkii_digits(s + 20, 2), om = jpkii_digits(s + 23, 2);
		if ((s[19] != '+' && s[19] != '-') || s[22] != ':' || oh < 0 ||
		    oh > 23 || om < 0 || om > 59)
			goto bad;
		off = (oh * 60 + om) * 60 * (s[19] == '-' ? -1 : 1);
	}
	if (de == JPKI_ERR_RANGE)
		return jpki_errf(eb, de, "'%s': out of range (%d-01-01 to %d-12-31)", s,
				 JPKI_YEAR_MIN, JPKI_YEAR_MAX);
	if (de != JPKI_OK)
		return jpki_errf(eb, de, "'%.10s': no such day", s);
	*unix_seconds = (int64_t)day * 86400 + hh * 3600 + mm * 60 + ss - off;
	return JPKI_OK;
bad:
	return jpki_errf(eb, JPKI_ERR_INVALID,
			 "'%.40s': not a date-time (expected "
			 "YYYY-MM-DDTHH:MM:SS+09:00)",
			 s ? s : "");
}

jpki_err jpki_instant_format(int64_t t, char buf[static JPKI_INSTANT_BUFSZ])
{
	char date[JPKI_DATE_BUFSZ];
	jpki_day d = jpki_jst_day(t);
	int32_t sec = jpki_jst_second_of_day(t);
	buf[0] = '\0';
	if (!jpki_day_in_range(d))
		return JPKI_ERR_RANGE;
	snprintf(buf, JPKI_INSTANT_BUFSZ, "%sT%02d:%02d:%02d+09:00", jpki_date_format(d, date),
		 (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
	return JPKI_OK;
}

jpki_day jpki_jst_day(int64_t t)
{
	int64_t local = t + JPKI_JST_OFFSET_SECONDS;
	int64_t day = local / 86400;
	if (local % 86400 < 0)
		day--;
	return (jpki_day)day;
}

int32_t jpki_jst_second_of_day(int64_t t)
{
	int64_t local = t + JPKI_JST_OFFSET_SECONDS;
	int64_t r = local % 86400;
	return (int32_t)(r < 0 ? r + 86400 : r);
}
