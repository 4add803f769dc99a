/* Civil dates, day numbers, strict parsing, month arithmetic, 和暦 and
 * instants (DOMAIN §1).
 *
 * Expected values come from the Gregorian calendar and DOMAIN §1, never from
 * the code: day numbers and weekdays of the anchors were checked against an
 * independent calendar (days since 1970-01-01), the whole-range walk below
 * counts days with its own month lengths, and the era start days are those
 * of DOMAIN §1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jpki/date.h"
#include "banned.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { SUN = 0, MON, TUE, WED, THU, FRI, SAT };

/* The Gregorian leap rule and month lengths, written out independently of
 * the library so the walk below does not check the code against itself. */
static int ref_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int ref_days_in_month(int y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && ref_is_leap(y) ? 29 : len[m - 1];
}

static jpki_day D(int y, int m, int d)
{
	jpki_day out = 0;
	assert_int_equal(jpki_day_from_ymd(y, m, d, &out), JPKI_OK);
	return out;
}

static void assert_ymd(jpki_day day, int y, int m, int d)
{
	int gy = 0, gm = 0, gd = 0;
	jpki_day_to_ymd(day, &gy, &gm, &gd);
	assert_int_equal(gy, y);
	assert_int_equal(gm, m);
	assert_int_equal(gd, d);
}

/* ---- day numbers ---- */

static void test_range_constants(void **state)
{
	(void)state;
	/* Days from 1970-01-01 to 1868-01-01 and to 2199-12-31. */
	assert_int_equal(JPKI_DAY_MIN, -37255);
	assert_int_equal(JPKI_DAY_MAX, 84005);
	assert_int_equal(D(1868, 1, 1), JPKI_DAY_MIN);
	assert_int_equal(D(2199, 12, 31), JPKI_DAY_MAX);
	assert_ymd(JPKI_DAY_MIN, 1868, 1, 1);
	assert_ymd(JPKI_DAY_MAX, 2199, 12, 31);
	assert_true(jpki_day_in_range(JPKI_DAY_MIN));
	assert_true(jpki_day_in_range(JPKI_DAY_MAX));
	assert_false(jpki_day_in_range(JPKI_DAY_MIN - 1));
	assert_false(jpki_day_in_range(JPKI_DAY_MAX + 1));
	assert_false(jpki_day_in_range(JPKI_DAY_NONE));
}

static void test_known_day_numbers(void **state)
{
	static const struct {
		int y, m, d;
		jpki_day day;
		int weekday;
	} cases[] = {
	    {1970, 1, 1, 0, THU},	{1969, 12, 31, -1, WED},
	    {1868, 1, 1, -37255, WED},	{1900, 3, 1, -25508, THU},
	    {2000, 2, 29, 11016, TUE},	{2000, 3, 1, 11017, WED},
	    {2024, 2, 29, 19782, THU},	{2026, 2, 21, 20505, SAT},
	    {2026, 11, 21, 20778, SAT}, {2199, 12, 31, 84005, TUE},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		jpki_day got = 0;
		assert_int_equal(
		    jpki_day_from_ymd(cases[i].y, cases[i].m, cases[i].d, &got),
		    JPKI_OK);
		assert_int_equal(got, cases[i].day);
		assert_int_equal(
		    jpki_day_from_ymd_unchecked(cases[i].y, cases[i].m, cases[i].d),
		    cases[i].day);
		assert_ymd(cases[i].day, cases[i].y, cases[i].m, cases[i].d);
		assert_int_equal(jpki_weekday(cases[i].day), cases[i].weekday);
	}
}

/* Every day of 1868-01-01..2199-12-31: ymd -> day -> ymd, consecutive day
 * numbers, the weekday advancing by one, and the range check. */
static void test_round_trip_whole_range(void **state)
{
	(void)state;
	jpki_day expect = -37255; /* 1868-01-01, a Wednesday */
	int weekday = WED;
	long count = 0;
	for (int y = 1868; y <= 2199; y++) {
		for (int m = 1; m <= 12; m++) {
			int len = ref_days_in_month(y, m);
			if (jpki_days_in_month(y, m) != len)
				fail_msg("days_in_month(%d, %d) != %d", y, m, len);
			for (int d = 1; d <= len; d++) {
				jpki_day got = 0;
				if (jpki_day_from_ymd(y, m, d, &got) != JPKI_OK ||
				    got != expect)
					fail_msg("%04d-%02d-%02d: day %d, expected %d",
						 y, m, d, (int)got, (int)expect);
				if (jpki_day_from_ymd_unchecked(y, m, d) != expect)
					fail_msg("%04d-%02d-%02d: unchecked differs", y,
						 m, d);
				int gy = 0, gm = 0, gd = 0;
				jpki_day_to_ymd(expect, &gy, &gm, &gd);
				if (gy != y || gm != m || gd != d)
					fail_msg("day %d -> %04d-%02d-%02d, expected "
						 "%04d-%02d-%02d",
						 (int)expect, gy, gm, gd, y, m, d);
				if (jpki_weekday(expect) != weekday)
					fail_msg(
					    "%04d-%02d-%02d: weekday %d, expected %d",
					    y, m, d, jpki_weekday(expect), weekday);
				if (!jpki_day_in_range(expect))
					fail_msg("%04d-%02d-%02d: not in range", y, m,
						 d);
				expect++;
				weekday = (weekday + 1) % 7;
				count++;
			}
		}
	}
	assert_int_equal(expect - 1, JPKI_DAY_MAX);
	/* 332 years: 121261 days. */
	assert_int_equal(count, 121261);
}

static void test_leap_years(void **state)
{
	static const struct {
		int year;
		bool leap;
	} cases[] = {
	    {1868, true},  {1900, false}, {1996, true},	 {2000, true},
	    {2023, false}, {2024, true},  {2100, false}, {2104, true},
	    {2199, false}, {1600, true},  {1800, false},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(jpki_is_leap(cases[i].year), cases[i].leap);
		assert_int_equal(jpki_days_in_month(cases[i].year, 2),
				 cases[i].leap ? 29 : 28);
	}
}

static void test_days_in_month(void **state)
{
	static const struct {
		int y, m, len;
	} cases[] = {
	    {2026, 1, 31},
	    {2026, 2, 28},
	    {2026, 3, 31},
	    {2026, 4, 30},
	    {2026, 5, 31},
	    {2026, 6, 30},
	    {2026, 7, 31},
	    {2026, 8, 31},
	    {2026, 9, 30},
	    {2026, 10, 31},
	    {2026, 11, 30},
	    {2026, 12, 31},
	    {2000, 2, 29},
	    {1900, 2, 28},
	    {2100, 2, 28},
	    /* negative: not a month */
	    {2026, 0, 0},
	    {2026, 13, 0},
	    {2026, -1, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(jpki_days_in_month(cases[i].y, cases[i].m),
				 cases[i].len);
}

static void test_day_from_ymd_checked_errors(void **state)
{
	static const struct {
		int y, m, d;
		jpki_err err;
	} cases[] = {
	    {2026, 2, 29, JPKI_ERR_INVALID}, {2100, 2, 29, JPKI_ERR_INVALID},
	    {2026, 4, 31, JPKI_ERR_INVALID}, {2026, 0, 10, JPKI_ERR_INVALID},
	    {2026, 13, 1, JPKI_ERR_INVALID}, {2026, 1, 0, JPKI_ERR_INVALID},
	    {2026, 1, 32, JPKI_ERR_INVALID}, {2026, 1, -1, JPKI_ERR_INVALID},
	    {1867, 12, 31, JPKI_ERR_RANGE},  {2200, 1, 1, JPKI_ERR_RANGE},
	    {1, 1, 1, JPKI_ERR_RANGE},	     {9999, 12, 31, JPKI_ERR_RANGE},
	    {2024, 2, 29, JPKI_OK},	     {1868, 1, 1, JPKI_OK},
	    {2199, 12, 31, JPKI_OK},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		jpki_day out = 0;
		jpki_err e =
		    jpki_day_from_ymd(cases[i].y, cases[i].m, cases[i].d, &out);
		if (e != cases[i].err)
			fail_msg("%d-%d-%d: got %d, expected %d", cases[i].y,
				 cases[i].m, cases[i].d, (int)e, (int)cases[i].err);
	}
}

/* ---- strict parsing and formatting ---- */

static void test_date_parse(void **state)
{
	static const struct {
		const char *s;
		jpki_err err;
		int y, m, d;
	} cases[] = {
	    {"2026-02-03", JPKI_OK, 2026, 2, 3},
	    {"2024-02-29", JPKI_OK, 2024, 2, 29},
	    {"2000-02-29", JPKI_OK, 2000, 2, 29},
	    {"2026-12-31", JPKI_OK, 2026, 12, 31},
	    {"1868-01-01", JPKI_OK, 1868, 1, 1},
	    {"2199-12-31", JPKI_OK, 2199, 12, 31},
	    /* negative: malformed or impossible */
	    {"2026-02-30", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-2-3", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-02-03x", JPKI_ERR_INVALID, 0, 0, 0},
	    {" 2026-02-03", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-02-03 ", JPKI_ERR_INVALID, 0, 0, 0},
	    {"+2026-02-03", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-02-3", JPKI_ERR_INVALID, 0, 0, 0},
	    {"20260203", JPKI_ERR_INVALID, 0, 0, 0},
	    {"", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-13-01", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-00-10", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-01-00", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-04-31", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2100-02-29", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026/02/03", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-02-+3", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-0a-03", JPKI_ERR_INVALID, 0, 0, 0},
	    {"２０２６-02-03", JPKI_ERR_INVALID, 0, 0, 0},
	    {"2026-02-03T00:00:00Z", JPKI_ERR_INVALID, 0, 0, 0},
	    /* negative: well-formed but outside 1868..2199 */
	    {"1867-12-31", JPKI_ERR_RANGE, 0, 0, 0},
	    {"2200-01-01", JPKI_ERR_RANGE, 0, 0, 0},
	    {"0000-01-01", JPKI_ERR_RANGE, 0, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_errbuf eb = {{0}};
		jpki_day out = 0;
		jpki_err e = jpki_date_parse(cases[i].s, &out, &eb);
		if (e != cases[i].err)
			fail_msg("'%s': got %d, expected %d", cases[i].s, (int)e,
				 (int)cases[i].err);
		if (e == JPKI_OK) {
			assert_int_equal(out, D(cases[i].y, cases[i].m, cases[i].d));
		} else if (eb.msg[0] == '\0') {
			fail_msg("'%s': no error detail", cases[i].s);
		}
		/* The error buffer is optional. */
		assert_int_equal(jpki_date_parse(cases[i].s, &out, NULL), cases[i].err);
	}
}

static void test_date_format(void **state)
{
	static const struct {
		jpki_day day;
		const char *s;
	} cases[] = {
	    {0, "1970-01-01"},	   {-37255, "1868-01-01"}, {84005, "2199-12-31"},
	    {20505, "2026-02-21"}, {11016, "2000-02-29"},  {-1, "1969-12-31"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char buf[JPKI_DATE_BUFSZ];
		memset(buf, 'X', sizeof buf);
		assert_ptr_equal(jpki_date_format(cases[i].day, buf), buf);
		assert_string_equal(buf, cases[i].s);
		/* format and parse are inverses. */
		jpki_day back = 0;
		assert_int_equal(jpki_date_parse(buf, &back, NULL), JPKI_OK);
		assert_int_equal(back, cases[i].day);
	}
}

/* ---- weekdays ---- */

static void test_nth_weekday(void **state)
{
	static const struct {
		int y, m, wd, n;
		int ey, em, ed; /* ey == 0: JPKI_DAY_NONE */
	} cases[] = {
	    {2026, 1, MON, 2, 2026, 1, 12},   /* 成人の日 2026 */
	    {2026, 9, MON, 3, 2026, 9, 21},   /* 敬老の日 2026 */
	    {2026, 7, MON, 3, 2026, 7, 20},   /* 海の日 2026 */
	    {2026, 10, MON, 2, 2026, 10, 12}, /* スポーツの日 2026 */
	    {2026, 2, SUN, 1, 2026, 2, 1},    /* the 1st is the weekday itself */
	    {2026, 1, THU, 1, 2026, 1, 1},
	    {2026, 1, THU, 5, 2026, 1, 29}, /* a fifth that exists */
	    {2026, 3, TUE, 5, 2026, 3, 31}, /* fifth on the last day */
	    {2024, 2, THU, 5, 2024, 2, 29}, /* fifth on a leap day */
	    {2000, 1, MON, 2, 2000, 1, 10},
	    /* negative */
	    {2026, 2, MON, 5, 0, 0, 0}, /* Feb 2026 has four Mondays */
	    {2026, 1, MON, 5, 0, 0, 0}, /* Jan 2026: Mondays 5..26 */
	    {2025, 2, THU, 5, 0, 0, 0},
	    {2026, 1, MON, 0, 0, 0, 0},
	    {2026, 1, MON, 6, 0, 0, 0},
	    {2026, 1, MON, -1, 0, 0, 0},
	    {2026, 1, 7, 1, 0, 0, 0},
	    {2026, 1, -1, 1, 0, 0, 0},
	    {2026, 0, MON, 1, 0, 0, 0},
	    {2026, 13, MON, 1, 0, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		jpki_day got =
		    jpki_nth_weekday(cases[i].y, cases[i].m, cases[i].wd, cases[i].n);
		jpki_day want = cases[i].ey ? D(cases[i].ey, cases[i].em, cases[i].ed)
					    : JPKI_DAY_NONE;
		if (got != want)
			fail_msg("nth_weekday(%d, %d, wd %d, n %d) = %d, expected %d",
				 cases[i].y, cases[i].m, cases[i].wd, cases[i].n,
				 (int)got, (int)want);
	}
}

/* ---- month arithmetic (DOMAIN §1: same day, clamped to the month end) ---- */

static void test_add_months(void **state)
{
	static const struct {
		int y, m, d, months;
		jpki_err err;
		int ey, em, ed;
	} cases[] = {
	    {2026, 5, 31, -3, JPKI_OK, 2026, 2, 28},
	    {2024, 5, 31, -3, JPKI_OK, 2024, 2, 29},
	    {2026, 3, 31, -1, JPKI_OK, 2026, 2, 28},
	    {2026, 11, 30, -3, JPKI_OK, 2026, 8, 30},
	    {2026, 1, 31, 1, JPKI_OK, 2026, 2, 28},
	    {2024, 1, 31, 1, JPKI_OK, 2024, 2, 29},
	    {2026, 5, 20, -3, JPKI_OK, 2026, 2, 20},
	    {2026, 3, 24, -3, JPKI_OK, 2025, 12, 24}, /* across a year back */
	    {2026, 1, 15, -1, JPKI_OK, 2025, 12, 15},
	    {2026, 1, 31, -2, JPKI_OK, 2025, 11, 30},
	    {2026, 11, 30, 3, JPKI_OK, 2027, 2, 28}, /* across a year forward */
	    {2026, 12, 31, 1, JPKI_OK, 2027, 1, 31},
	    {2026, 10, 31, 4, JPKI_OK, 2027, 2, 28},
	    {2027, 10, 31, 4, JPKI_OK, 2028, 2, 29},
	    {2024, 2, 29, 12, JPKI_OK, 2025, 2, 28},
	    {2024, 2, 29, -12, JPKI_OK, 2023, 2, 28},
	    {2024, 2, 29, 48, JPKI_OK, 2028, 2, 29},
	    {2026, 8, 31, -6, JPKI_OK, 2026, 2, 28},
	    {2026, 6, 15, 0, JPKI_OK, 2026, 6, 15},
	    {1900, 1, 1, 1200, JPKI_OK, 2000, 1, 1},
	    {2000, 3, 31, -1200, JPKI_OK, 1900, 3, 31},
	    {2199, 11, 30, 1, JPKI_OK, 2199, 12, 30},
	    {1868, 2, 1, -1, JPKI_OK, 1868, 1, 1},
	    {2199, 9, 30, 3, JPKI_OK, 2199, 12, 30},
	    /* negative: leaves the range */
	    {2199, 12, 31, 1, JPKI_ERR_RANGE, 0, 0, 0},
	    {2199, 12, 1, 1, JPKI_ERR_RANGE, 0, 0, 0},
	    {1868, 1, 1, -1, JPKI_ERR_RANGE, 0, 0, 0},
	    {1868, 1, 31, -1, JPKI_ERR_RANGE, 0, 0, 0},
	    {2026, 1, 1, 12 * 200, JPKI_ERR_RANGE, 0, 0, 0},
	    {2026, 1, 1, -12 * 200, JPKI_ERR_RANGE, 0, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		jpki_day out = 12345;
		jpki_err e = jpki_add_months(D(cases[i].y, cases[i].m, cases[i].d),
					     cases[i].months, &out);
		if (e != cases[i].err)
			fail_msg("%d-%02d-%02d %+d months: got error %d, expected %d",
				 cases[i].y, cases[i].m, cases[i].d, cases[i].months,
				 (int)e, (int)cases[i].err);
		if (e == JPKI_OK && out != D(cases[i].ey, cases[i].em, cases[i].ed)) {
			char buf[JPKI_DATE_BUFSZ];
			fail_msg("%d-%02d-%02d %+d months = %s, expected %d-%02d-%02d",
				 cases[i].y, cases[i].m, cases[i].d, cases[i].months,
				 jpki_date_format(out, buf), cases[i].ey, cases[i].em,
				 cases[i].ed);
		}
	}
}

static void test_add_months_input_out_of_range(void **state)
{
	jpki_day out = 0;
	(void)state;
	assert_int_equal(jpki_add_months(JPKI_DAY_MIN - 1, 1, &out), JPKI_ERR_RANGE);
	assert_int_equal(jpki_add_months(JPKI_DAY_MAX + 1, -1, &out), JPKI_ERR_RANGE);
	assert_int_equal(jpki_add_months(JPKI_DAY_NONE, 0, &out), JPKI_ERR_RANGE);
}

/* ---- 和暦 (DOMAIN §1) ---- */

static void test_wareki(void **state)
{
	static const struct {
		int y, m, d;
		const char *text;
		const char *era; /* NULL: 西暦 */
		int year;
	} cases[] = {
	    {2025, 6, 15, "令和7年6月15日", "令和", 7},
	    {2019, 5, 1, "令和元年5月1日", "令和", 1},
	    {2019, 12, 31, "令和元年12月31日", "令和", 1},
	    {2020, 1, 1, "令和2年1月1日", "令和", 2},
	    {2019, 4, 30, "平成31年4月30日", "平成", 31},
	    {1989, 1, 8, "平成元年1月8日", "平成", 1},
	    {1990, 1, 1, "平成2年1月1日", "平成", 2},
	    {1989, 1, 7, "昭和64年1月7日", "昭和", 64},
	    {1926, 12, 25, "昭和元年12月25日", "昭和", 1},
	    {1927, 1, 1, "昭和2年1月1日", "昭和", 2},
	    {1926, 12, 24, "大正15年12月24日", "大正", 15},
	    {1912, 7, 30, "大正元年7月30日", "大正", 1},
	    {1912, 7, 29, "明治45年7月29日", "明治", 45},
	    {1873, 1, 1, "明治6年1月1日", "明治", 6},
	    {1872, 12, 31, "1872年12月31日", NULL, 1872},
	    {1868, 1, 1, "1868年1月1日", NULL, 1868},
	    {2199, 12, 31, "令和181年12月31日", "令和", 181},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char buf[JPKI_WAREKI_BUFSZ];
		const char *era = "unset";
		int year = -1;
		jpki_err e = jpki_wareki(D(cases[i].y, cases[i].m, cases[i].d), buf,
					 sizeof buf, &era, &year);
		if (e != JPKI_OK)
			fail_msg("%d-%d-%d: error %d", cases[i].y, cases[i].m,
				 cases[i].d, (int)e);
		assert_string_equal(buf, cases[i].text);
		if (cases[i].era == NULL)
			assert_null(era);
		else
			assert_string_equal(era, cases[i].era);
		assert_int_equal(year, cases[i].year);
		/* The optional outputs may be NULL. */
		assert_int_equal(jpki_wareki(D(cases[i].y, cases[i].m, cases[i].d), buf,
					     sizeof buf, NULL, NULL),
				 JPKI_OK);
		assert_string_equal(buf, cases[i].text);
	}
}

static void test_wareki_errors(void **state)
{
	static const struct {
		int y, m, d;
		const char *text;
	} cases[] = {
	    {2025, 6, 15, "令和7年6月15日"},
	    {1872, 12, 31, "1872年12月31日"},
	    {1912, 7, 29, "明治45年7月29日"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char buf[JPKI_WAREKI_BUFSZ];
		jpki_day d = D(cases[i].y, cases[i].m, cases[i].d);
		size_t need = strlen(cases[i].text) + 1;
		/* One byte short of the text and its NUL: an error. */
		assert_int_equal(jpki_wareki(d, buf, need - 1, NULL, NULL),
				 JPKI_ERR_INVALID);
		assert_int_equal(jpki_wareki(d, buf, 1, NULL, NULL), JPKI_ERR_INVALID);
		/* Exactly enough: fine. */
		assert_int_equal(jpki_wareki(d, buf, need, NULL, NULL), JPKI_OK);
		assert_string_equal(buf, cases[i].text);
	}
	/* Outside the supported range. */
	char buf[JPKI_WAREKI_BUFSZ];
	assert_int_equal(jpki_wareki(JPKI_DAY_MIN - 1, buf, sizeof buf, NULL, NULL),
			 JPKI_ERR_RANGE);
	assert_int_equal(jpki_wareki(JPKI_DAY_MAX + 1, buf, sizeof buf, NULL, NULL),
			 JPKI_ERR_RANGE);
}

/* ---- instants ---- */

static void test_instant_parse(void **state)
{
	static const struct {
		const char *s;
		jpki_err err;
		int64_t unix_seconds;
		int jy, jm, jd; /* the JST civil date */
		int32_t sod;	/* seconds since JST midnight */
	} cases[] = {
	    {"2026-02-21T10:00:00+09:00", JPKI_OK, 1771635600, 2026, 2, 21, 36000},
	    {"2026-02-21T01:00:00Z", JPKI_OK, 1771635600, 2026, 2, 21, 36000},
	    {"2026-02-20T23:30:00-01:00", JPKI_OK, 1771633800, 2026, 2, 21, 34200},
	    {"2026-02-21T10:00:00+05:30", JPKI_OK, 1771648200, 2026, 2, 21, 48600},
	    {"1970-01-01T09:00:00+09:00", JPKI_OK, 0, 1970, 1, 1, 32400},
	    {"1969-12-31T23:59:59Z", JPKI_OK, -1, 1970, 1, 1, 32399},
	    {"2024-02-29T23:59:59+09:00", JPKI_OK, 1709218799, 2024, 2, 29, 86399},
	    {"1900-03-01T12:00:00-12:00", JPKI_OK, -2203804800, 1900, 3, 2, 32400},
	    {"1868-01-01T00:00:00+09:00", JPKI_OK, -3218864400, 1868, 1, 1, 0},
	    {"2199-12-31T23:59:59+09:00", JPKI_OK, 7258085999, 2199, 12, 31, 86399},
	    /* negative: malformed */
	    {"2026-02-21T10:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21t10:00:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T01:00:00z", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:00+0900", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:00+09", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:00.5+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:00.000Z", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T24:00:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:60:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:60+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-30T10:00:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:00+09:00x", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T01:00:00Zx", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T01:00:00ZZ", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21 10:00:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T10:00:00*09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-2-21T10:00:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21T1:00:00+09:00Z", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {" 2026-02-21T10:00:00+09:00", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"2026-02-21", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    {"", JPKI_ERR_INVALID, 0, 0, 0, 0, 0},
	    /* negative: the local date outside 1868..2199 */
	    {"1867-12-31T10:00:00+09:00", JPKI_ERR_RANGE, 0, 0, 0, 0, 0},
	    {"2200-01-01T00:00:00+09:00", JPKI_ERR_RANGE, 0, 0, 0, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_errbuf eb = {{0}};
		int64_t t = 42;
		jpki_err e = jpki_instant_parse(cases[i].s, &t, &eb);
		if (e != cases[i].err)
			fail_msg("'%s': got %d, expected %d", cases[i].s, (int)e,
				 (int)cases[i].err);
		assert_int_equal(jpki_instant_parse(cases[i].s, &t, NULL),
				 cases[i].err);
		if (e != JPKI_OK) {
			if (eb.msg[0] == '\0')
				fail_msg("'%s': no error detail", cases[i].s);
			continue;
		}
		assert_int_equal(t, cases[i].unix_seconds);
		assert_int_equal(jpki_jst_day(t),
				 D(cases[i].jy, cases[i].jm, cases[i].jd));
		assert_int_equal(jpki_jst_second_of_day(t), cases[i].sod);
	}
}

static void test_jst_day_boundaries(void **state)
{
	static const struct {
		int64_t t;
		jpki_day day;
		int32_t sod;
	} cases[] = {
	    {0, 0, 32400}, /* 1970-01-01 09:00 JST */
	    {-1, 0, 32399},
	    {-32400, 0, 0},	 /* JST midnight */
	    {-32401, -1, 86399}, /* 1969-12-31 23:59:59 JST */
	    {53999, 0, 86399},
	    {54000, 1, 0}, /* 1970-01-02 00:00 JST */
	    {1771635600, 20505, 36000},
	    {-3218864400, -37255, 0},
	    {7258085999, 84005, 86399},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(jpki_jst_day(cases[i].t), cases[i].day);
		assert_int_equal(jpki_jst_second_of_day(cases[i].t), cases[i].sod);
	}
}

/* jpki_instant_format writes what jpki_instant_parse reads, always in JST. */
static void test_instant_format(void **state)
{
	static const struct {
		const char *in, *want;
	} c[] = {
	    {"2026-02-21T01:00:00Z", "2026-02-21T10:00:00+09:00"},
	    {"2026-02-20T15:00:00Z", "2026-02-21T00:00:00+09:00"},
	    {"2026-02-20T23:30:00-01:00", "2026-02-21T09:30:00+09:00"},
	    {"1868-01-01T00:00:00+09:00", "1868-01-01T00:00:00+09:00"},
	    {"2199-12-31T23:59:59+09:00", "2199-12-31T23:59:59+09:00"},
	};
	char buf[JPKI_INSTANT_BUFSZ];
	int64_t t;
	(void)state;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		assert_int_equal(jpki_instant_parse(c[i].in, &t, NULL), JPKI_OK);
		assert_int_equal(jpki_instant_format(t, buf), JPKI_OK);
		assert_string_equal(buf, c[i].want);
	}
	/* One second past 2199-12-31 23:59:59 JST, and one before 1868. */
	assert_int_equal(jpki_instant_parse("2199-12-31T23:59:59+09:00", &t, NULL), JPKI_OK);
	assert_int_equal(jpki_instant_format(t + 1, buf), JPKI_ERR_RANGE);
	assert_string_equal(buf, "");
	assert_int_equal(jpki_instant_parse("1868-01-01T00:00:00+09:00", &t, NULL), JPKI_OK);
	assert_int_equal(jpki_instant_format(t - 1, buf), JPKI_ERR_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range_constants),
	    cmocka_unit_test(test_known_day_numbers),
	    cmocka_unit_test(test_round_trip_whole_range),
	    cmocka_unit_test(test_leap_years),
	    cmocka_unit_test(test_days_in_month),
	    cmocka_unit_test(test_day_from_ymd_checked_errors),
	    cmocka_unit_test(test_date_parse),
	    cmocka_unit_test(test_date_format),
	    cmocka_unit_test(test_nth_weekday),
	    cmocka_unit_test(test_add_months),
	    cmocka_unit_test(test_add_months_input_out_of_range),
	    cmocka_unit_test(test_wareki),
	    cmocka_unit_test(test_wareki_errors),
	    cmocka_unit_test(test_instant_parse),
	    cmocka_unit_test(test_jst_day_boundaries),
	    cmocka_unit_test(test_instant_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
