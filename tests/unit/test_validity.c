/* Ages, birthdays, renewal windows, certificate and card expiry and
 * eligibility (DOMAIN §1, §2; seeds 000-004).
 *
 * Every expected value is worked out from the rule it cites: the legal age
 * of 年齢計算ニ関スル法律 + 民法143条 (DOMAIN §1), "発行の日後のN回目の誕生日"
 * counting birthdays strictly after the issue day, the renewal window of
 * seeds 002 and 004, and the caps of seeds 000, 001 and 003. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jpki/validity.h"
#include "banned.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define FEB28 JPKI_FEB29_FEB28
#define MAR1  JPKI_FEB29_MAR1

/* "YYYY-MM-DD" -> day; NULL -> JPKI_DAY_NONE. */
static jpki_day D(const char *s)
{
	jpki_day d = 0;
	if (s == NULL)
		return JPKI_DAY_NONE;
	if (jpki_date_parse(s, &d, NULL) != JPKI_OK)
		fail_msg("bad date in test table: %s", s);
	return d;
}

static const char *fmt(jpki_day d, char buf[static JPKI_DATE_BUFSZ])
{
	if (d == JPKI_DAY_NONE)
		return "(none)";
	return jpki_date_format(d, buf);
}

static void expect_day(jpki_day got, const char *want, const char *what)
{
	if (got != D(want)) {
		char buf[JPKI_DATE_BUFSZ];
		fail_msg("%s: got %s, expected %s", what, fmt(got, buf), want);
	}
}

/* ---- ages (DOMAIN §1) ---- */

static void test_ages(void **state)
{
	static const struct {
		const char *birth, *on;
		int ordinary, legal;
	} cases[] = {
	    /* DOMAIN §1: born 2011-04-01 is already 15 on 2026-03-31. */
	    {"2011-04-01", "2026-03-31", 14, 15},
	    {"2011-04-01", "2026-03-30", 14, 14},
	    {"2011-04-01", "2026-04-01", 15, 15},
	    /* 14 -> 15 and 17 -> 18 on the day before the birthday. */
	    {"2011-06-10", "2026-06-08", 14, 14},
	    {"2011-06-10", "2026-06-09", 14, 15},
	    {"2011-06-10", "2026-06-10", 15, 15},
	    {"2008-06-10", "2026-06-08", 17, 17},
	    {"2008-06-10", "2026-06-09", 17, 18},
	    {"2008-06-10", "2026-06-10", 18, 18},
	    /* Feb 29 births: a year older on Mar 1 ordinarily, at the end of
	     * Feb 28 legally (common years), independent of the feb29 option. */
	    {"2008-02-29", "2023-02-27", 14, 14},
	    {"2008-02-29", "2023-02-28", 14, 15},
	    {"2008-02-29", "2023-03-01", 15, 15},
	    {"2008-02-29", "2024-02-27", 15, 15},
	    {"2008-02-29", "2024-02-28", 15, 16},
	    {"2008-02-29", "2024-02-29", 16, 16},
	    /* Year ends. */
	    {"2000-01-01", "2025-12-31", 25, 26},
	    {"2000-01-01", "2026-01-01", 26, 26},
	    {"1999-12-31", "2025-12-30", 25, 26},
	    {"2026-03-01", "2026-03-01", 0, 0},
	    /* 20 -> 18 era boundary example of §2. */
	    {"2002-06-01", "2022-03-31", 19, 19},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		jpki_day b = D(cases[i].birth), on = D(cases[i].on);
		int o = jpki_ordinary_age(b, on), l = jpki_legal_age(b, on);
		if (o != cases[i].ordinary || l != cases[i].legal)
			fail_msg("born %s on %s: ordinary %d legal %d, expected %d %d",
				 cases[i].birth, cases[i].on, o, l, cases[i].ordinary,
				 cases[i].legal);
	}
}

static void test_ordinary_age_before_birth(void **state)
{
	(void)state;
	/* Negative when `on` is before the birth. */
	assert_true(jpki_ordinary_age(D("2000-05-20"), D("2000-05-19")) < 0);
	assert_int_equal(jpki_ordinary_age(D("2000-05-20"), D("2000-05-19")), -1);
	assert_int_equal(jpki_ordinary_age(D("2000-05-20"), D("1999-05-20")), -1);
	assert_int_equal(jpki_ordinary_age(D("2000-05-20"), D("1998-05-19")), -3);
}

/* ---- birthdays ---- */

static void test_birthday_in_year(void **state)
{
	static const struct {
		const char *birth;
		int year;
		enum jpki_feb29 p;
		const char *want;
	} cases[] = {
	    {"1990-05-20", 2026, FEB28, "2026-05-20"},
	    {"1990-05-20", 2026, MAR1, "2026-05-20"},
	    {"2000-02-29", 2026, FEB28, "2026-02-28"},
	    {"2000-02-29", 2026, MAR1, "2026-03-01"},
	    {"2000-02-29", 2028, FEB28, "2028-02-29"},
	    {"2000-02-29", 2028, MAR1, "2028-02-29"},
	    {"2000-02-29", 2100, FEB28, "2100-02-28"}, /* 2100 is common */
	    {"2000-02-29", 2100, MAR1, "2100-03-01"},
	    {"2000-02-28", 2026, MAR1, "2026-02-28"},
	    {"2000-03-01", 2028, FEB28, "2028-03-01"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		expect_day(
		    jpki_birthday_in_year(D(cases[i].birth), cases[i].year, cases[i].p),
		    cases[i].want, cases[i].birth);
}

static void test_nth_birthday_after(void **state)
{
	static const struct {
		const char *birth, *after;
		int n;
		enum jpki_feb29 p;
		jpki_err err;
		const char *want;
	} cases[] = {
	    {"1990-05-20", "2026-05-19", 1, FEB28, JPKI_OK, "2026-05-20"},
	    /* A birthday on the issue day itself does not count. */
	    {"1990-05-20", "2026-05-20", 1, FEB28, JPKI_OK, "2027-05-20"},
	    {"1990-05-20", "2026-05-20", 5, FEB28, JPKI_OK, "2031-05-20"},
	    {"1990-05-20", "2026-05-21", 5, FEB28, JPKI_OK, "2031-05-20"},
	    {"1990-05-20", "2026-05-19", 5, FEB28, JPKI_OK, "2030-05-20"},
	    {"1990-05-20", "2026-03-01", 6, FEB28, JPKI_OK, "2031-05-20"},
	    {"1990-05-20", "2026-05-20", 6, FEB28, JPKI_OK, "2032-05-20"},
	    {"1990-05-20", "1990-05-20", 1, FEB28, JPKI_OK, "1991-05-20"},
	    {"1990-12-31", "2026-12-31", 1, FEB28, JPKI_OK, "2027-12-31"},
	    {"1990-01-01", "2026-12-31", 1, FEB28, JPKI_OK, "2027-01-01"},
	    {"1990-05-20", "2026-05-19", 10, FEB28, JPKI_OK, "2035-05-20"},
	    /* Feb 29 births, both policies, leap and common years. */
	    {"2000-02-29", "2026-01-10", 1, FEB28, JPKI_OK, "2026-02-28"},
	    {"2000-02-29", "2026-01-10", 1, MAR1, JPKI_OK, "2026-03-01"},
	    {"2000-02-29", "2026-02-28", 1, FEB28, JPKI_OK, "2027-02-28"},
	    {"2000-02-29", "2026-02-28", 1, MAR1, JPKI_OK, "2026-03-01"},
	    {"2000-02-29", "2026-03-01", 1, FEB28, JPKI_OK, "2027-02-28"},
	    {"2000-02-29", "2026-03-01", 1, MAR1, JPKI_OK, "2027-03-01"},
	    {"2000-02-29", "2026-01-10", 3, FEB28, JPKI_OK, "2028-02-29"},
	    {"2000-02-29", "2026-01-10", 3, MAR1, JPKI_OK, "2028-02-29"},
	    {"2000-02-29", "2028-02-28", 1, FEB28, JPKI_OK, "2028-02-29"},
	    {"2000-02-29", "2028-02-28", 1, MAR1, JPKI_OK, "2028-02-29"},
	    {"2000-02-29", "2028-02-29", 1, FEB28, JPKI_OK, "2029-02-28"},
	    {"2000-02-29", "2028-02-29", 1, MAR1, JPKI_OK, "2029-03-01"},
	    {"2000-02-29", "2027-03-01", 5, FEB28, JPKI_OK, "2032-02-29"},
	    {"2000-02-29", "2027-03-01", 5, MAR1, JPKI_OK, "2032-02-29"},
	    {"2000-02-29", "2023-02-28", 5, FEB28, JPKI_OK, "2028-02-29"},
	    {"2000-02-29", "2023-02-28", 5, MAR1, JPKI_OK, "2027-03-01"},
	    {"2000-02-29", "2099-01-01", 1, FEB28, JPKI_OK, "2099-02-28"},
	    {"2000-02-29", "2099-03-01", 1, FEB28, JPKI_OK, "2100-02-28"},
	    {"2000-02-29", "2099-03-01", 1, MAR1, JPKI_OK, "2100-03-01"},
	    {"1990-05-20", "2194-05-20", 5, FEB28, JPKI_OK, "2199-05-20"},
	    /* negative */
	    {"1990-05-20", "2026-05-20", 0, FEB28, JPKI_ERR_INVALID, NULL},
	    {"1990-05-20", "2026-05-20", -1, FEB28, JPKI_ERR_INVALID, NULL},
	    {"1990-05-20", "2196-01-01", 5, FEB28, JPKI_ERR_RANGE, NULL},
	    {"1990-05-20", "2199-05-20", 1, FEB28, JPKI_ERR_RANGE, NULL},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		jpki_day out = JPKI_DAY_NONE;
		jpki_err e = jpki_nth_birthday_after(
		    D(cases[i].birth), D(cases[i].after), cases[i].n, cases[i].p, &out);
		if (e != cases[i].err)
			fail_msg("born %s, %d after %s: error %d, expected %d",
				 cases[i].birth, cases[i].n, cases[i].after, (int)e,
				 (int)cases[i].err);
		if (e == JPKI_OK)
			expect_day(out, cases[i].want, cases[i].after);
	}
}

/* ---- renewal window (DOMAIN §2; seeds 002, 004) ---- */

static void test_renewal_window(void **state)
{
	static const struct {
		const char *expires, *first;
	} cases[] = {
	    {"2026-05-20", "2026-02-21"}, /* seed 002 */
	    {"2026-03-24", "2025-12-25"}, /* seed 004 */
	    {"2026-04-01", "2026-01-02"}, /* DOMAIN §2 */
	    {"2026-05-30", "2026-03-01"}, /* DOMAIN §2 */
	    {"2026-04-10", "2026-01-11"}, /* DOMAIN §2 */
	    {"2026-05-31", "2026-03-01"}, /* DOMAIN §2 [decision] */
	    {"2026-03-31", "2026-01-01"},
	    {"2026-11-30", "2026-08-31"},
	    {"2026-12-31", "2026-10-01"},
	    {"2026-07-31", "2026-05-01"},
	    {"2026-06-30", "2026-03-31"},
	    {"2026-01-15", "2025-10-16"},
	    {"2026-02-28", "2025-11-29"},
	    {"2026-05-29", "2026-03-01"}, /* 2/29 clamps to 2/28 */
	    {"2027-05-28", "2027-03-01"},
	    /* leap years */
	    {"2028-05-28", "2028-02-29"},
	    {"2024-05-29", "2024-03-01"},
	    {"2024-05-30", "2024-03-01"},
	    {"2024-05-31", "2024-03-01"},
	    {"2024-02-29", "2023-11-30"},
	    {"2100-05-29", "2100-03-01"}, /* 2100 is common */
	    {"1868-04-01", "1868-01-02"},
	    {"2199-12-31", "2199-10-01"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		jpki_day first = JPKI_DAY_NONE, last = JPKI_DAY_NONE;
		assert_int_equal(
		    jpki_renewal_window(D(cases[i].expires), &first, &last), JPKI_OK);
		expect_day(first, cases[i].first, cases[i].expires);
		expect_day(last, cases[i].expires, cases[i].expires);
	}
}

static void test_renewal_window_range(void **state)
{
	jpki_day first, last;
	enum jpki_window_state s;
	(void)state;
	/* Three months before 1868-03-31 is outside the supported range. */
	assert_int_equal(jpki_renewal_window(D("1868-03-31"), &first, &last),
			 JPKI_ERR_RANGE);
	assert_int_equal(jpki_renewal_window(JPKI_DAY_MAX + 1, &first, &last),
			 JPKI_ERR_RANGE);
	assert_int_equal(jpki_window_state_on(JPKI_DAY_MAX + 1, D("2026-01-01"), &s),
			 JPKI_ERR_RANGE);
}

static void test_window_state(void **state)
{
	static const struct {
		const char *expires, *on;
		enum jpki_window_state want;
	} cases[] = {
	    {"2026-05-20", "2026-02-20", JPKI_WINDOW_NOT_YET},
	    {"2026-05-20", "2026-02-21", JPKI_WINDOW_OPEN},
	    {"2026-05-20", "2026-02-22", JPKI_WINDOW_OPEN},
	    {"2026-05-20", "2026-05-19", JPKI_WINDOW_OPEN},
	    {"2026-05-20", "2026-05-20", JPKI_WINDOW_OPEN},
	    {"2026-05-20", "2026-05-21", JPKI_WINDOW_EXPIRED},
	    {"2026-05-20", "2020-01-01", JPKI_WINDOW_NOT_YET},
	    {"2026-05-20", "2030-01-01", JPKI_WINDOW_EXPIRED},
	    {"2026-03-24", "2025-12-24", JPKI_WINDOW_NOT_YET},
	    {"2026-03-24", "2025-12-25", JPKI_WINDOW_OPEN},
	    {"2026-03-24", "2025-12-26", JPKI_WINDOW_OPEN},
	    {"2026-03-24", "2026-03-23", JPKI_WINDOW_OPEN},
	    {"2026-03-24", "2026-03-24", JPKI_WINDOW_OPEN},
	    {"2026-03-24", "2026-03-25", JPKI_WINDOW_EXPIRED},
	    {"2026-05-31", "2026-02-28", JPKI_WINDOW_NOT_YET},
	    {"2026-05-31", "2026-03-01", JPKI_WINDOW_OPEN},
	    {"2028-05-28", "2028-02-28", JPKI_WINDOW_NOT_YET},
	    {"2028-05-28", "2028-02-29", JPKI_WINDOW_OPEN},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		enum jpki_window_state s = (enum jpki_window_state)99;
		assert_int_equal(
		    jpki_window_state_on(D(cases[i].expires), D(cases[i].on), &s),
		    JPKI_OK);
		if (s != cases[i].want)
			fail_msg("expiry %s on %s: state %d, expected %d",
				 cases[i].expires, cases[i].on, (int)s,
				 (int)cases[i].want);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(jpki_window_state_name(JPKI_WINDOW_NOT_YET), "not_yet");
	assert_string_equal(jpki_window_state_name(JPKI_WINDOW_OPEN), "open");
	assert_string_equal(jpki_window_state_name(JPKI_WINDOW_EXPIRED), "expired");
	assert_non_null(jpki_window_state_name((enum jpki_window_state)99));
	assert_string_equal(jpki_limit_name(JPKI_LIMIT_BIRTHDAY), "birthday");
	assert_string_equal(jpki_limit_name(JPKI_LIMIT_CARD), "card");
	assert_string_equal(jpki_limit_name(JPKI_LIMIT_AUTH), "auth");
	assert_string_equal(jpki_limit_name(JPKI_LIMIT_STAY), "stay");
	assert_non_null(jpki_limit_name((enum jpki_limit)99));

	const char *r[3] = {jpki_ineligible_reason(JPKI_ELIGIBLE),
			    jpki_ineligible_reason(JPKI_INELIGIBLE_UNDER_15),
			    jpki_ineligible_reason(JPKI_INELIGIBLE_WARD)};
	for (size_t i = 0; i < 3; i++) {
		assert_non_null(r[i]);
		assert_true(r[i][0] != '\0');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(r[i], r[j]);
	}
	assert_non_null(jpki_ineligible_reason((enum jpki_ineligible)99));
}

/* ---- certificate expiry (DOMAIN §2; seeds 000, 001, 003, 004) ---- */

struct cert_case {
	const char *what;
	enum jpki_cert_kind kind;
	const char *birth, *issued;
	const char *card, *auth, *stay, *renewing; /* NULL: not given */
	enum jpki_feb29 p;
	jpki_err err;
	const char *expires;
	enum jpki_limit limited_by;
	int nth;
	bool in_window;
	enum jpki_window_state window; /* checked only when renewing */
};

#define SIGN   JPKI_CERT_SIGN
#define AUTH   JPKI_CERT_AUTH
#define L_BD   JPKI_LIMIT_BIRTHDAY
#define L_CARD JPKI_LIMIT_CARD
#define L_AUTH JPKI_LIMIT_AUTH
#define L_STAY JPKI_LIMIT_STAY
#define W_NOT  JPKI_WINDOW_NOT_YET
#define W_OPEN JPKI_WINDOW_OPEN
#define W_EXP  JPKI_WINDOW_EXPIRED

static const struct cert_case cert_cases[] = {
    /* DOMAIN §2 worked example: birth 5/20, expiry 2026-05-20. */
    {"renewed in the window", SIGN, "1990-05-20", "2026-03-01", NULL, NULL, NULL,
     "2026-05-20", FEB28, JPKI_OK, "2031-05-20", L_BD, 6, true, W_OPEN},
    {"renewed on the expiry day", SIGN, "1990-05-20", "2026-05-20", NULL, NULL, NULL,
     "2026-05-20", FEB28, JPKI_OK, "2032-05-20", L_BD, 6, true, W_OPEN},
    {"renewed on the window's first day", SIGN, "1990-05-20", "2026-02-21", NULL, NULL,
     NULL, "2026-05-20", FEB28, JPKI_OK, "2031-05-20", L_BD, 6, true, W_OPEN},
    {"renewed the day before the window", SIGN, "1990-05-20", "2026-02-20", NULL, NULL,
     NULL, "2026-05-20", FEB28, JPKI_OK, "2030-05-20", L_BD, 5, false, W_NOT},
    {"renewed the day after expiry", SIGN, "1990-05-20", "2026-05-21", NULL, NULL, NULL,
     "2026-05-20", FEB28, JPKI_OK, "2031-05-20", L_BD, 5, false, W_EXP},
    {"renewed long after expiry", AUTH, "1990-05-20", "2027-01-10", NULL, NULL, NULL,
     "2026-05-20", FEB28, JPKI_OK, "2031-05-20", L_BD, 5, false, W_EXP},
    {"auth renewed in the window", AUTH, "1990-05-20", "2026-04-01", NULL, NULL, NULL,
     "2026-05-20", FEB28, JPKI_OK, "2031-05-20", L_BD, 6, true, W_OPEN},
    {"seed 004 window 12/25..3/24", SIGN, "1980-03-24", "2025-12-25", NULL, NULL, NULL,
     "2026-03-24", FEB28, JPKI_OK, "2031-03-24", L_BD, 6, true, W_OPEN},
    {"seed 004 day before the window", SIGN, "1980-03-24", "2025-12-24", NULL, NULL,
     NULL, "2026-03-24", FEB28, JPKI_OK, "2030-03-24", L_BD, 5, false, W_NOT},
    {"first issuance", SIGN, "1990-05-20", "2026-03-01", NULL, NULL, NULL, NULL, FEB28,
     JPKI_OK, "2030-05-20", L_BD, 5, false, W_NOT},
    {"first issuance on the birthday", AUTH, "1990-05-20", "2026-05-20", NULL, NULL,
     NULL, NULL, FEB28, JPKI_OK, "2031-05-20", L_BD, 5, false, W_NOT},
    {"issued on the birth day", AUTH, "2026-05-20", "2026-05-20", NULL, NULL, NULL,
     NULL, FEB28, JPKI_OK, "2031-05-20", L_BD, 5, false, W_NOT},
    /* Feb 29 births with both policies. */
    {"feb29 birth, feb28", SIGN, "2000-02-29", "2026-03-01", NULL, NULL, NULL, NULL,
     FEB28, JPKI_OK, "2031-02-28", L_BD, 5, false, W_NOT},
    {"feb29 birth, mar1", SIGN, "2000-02-29", "2026-03-01", NULL, NULL, NULL, NULL,
     MAR1, JPKI_OK, "2031-03-01", L_BD, 5, false, W_NOT},
    {"feb29 birth, leap 5th", SIGN, "2000-02-29", "2027-03-01", NULL, NULL, NULL, NULL,
     FEB28, JPKI_OK, "2032-02-29", L_BD, 5, false, W_NOT},
    /* Caps: the earliest wins (seeds 000, 001, 003). */
    {"card cap", SIGN, "1990-05-20", "2026-03-01", "2029-01-01", NULL, NULL, NULL,
     FEB28, JPKI_OK, "2029-01-01", L_CARD, 5, false, W_NOT},
    {"card after the birthday", SIGN, "1990-05-20", "2026-03-01", "2031-01-01", NULL,
     NULL, NULL, FEB28, JPKI_OK, "2030-05-20", L_BD, 5, false, W_NOT},
    {"auth cap", SIGN, "1990-05-20", "2026-03-01", "2031-01-01", "2028-06-01", NULL,
     NULL, FEB28, JPKI_OK, "2028-06-01", L_AUTH, 5, false, W_NOT},
    {"stay cap", SIGN, "1990-05-20", "2026-03-01", "2029-01-01", "2028-06-01",
     "2027-01-01", NULL, FEB28, JPKI_OK, "2027-01-01", L_STAY, 5, false, W_NOT},
    {"stay cap on auth", AUTH, "1990-05-20", "2026-03-01", "2029-01-01", NULL,
     "2027-01-01", NULL, FEB28, JPKI_OK, "2027-01-01", L_STAY, 5, false, W_NOT},
    {"card cap on a renewal", SIGN, "1990-05-20", "2026-03-01", "2029-05-20", NULL,
     NULL, "2026-05-20", FEB28, JPKI_OK, "2029-05-20", L_CARD, 6, true, W_OPEN},
    {"card ends on the issue day", SIGN, "1990-05-20", "2026-03-01", "2026-03-01", NULL,
     NULL, NULL, FEB28, JPKI_OK, "2026-03-01", L_CARD, 5, false, W_NOT},
    /* Ties: the earlier in enum order is named (birthday < card < auth <
     * stay), as the header documents. */
    {"tie birthday/card", SIGN, "1990-05-20", "2026-03-01", "2030-05-20", NULL, NULL,
     NULL, FEB28, JPKI_OK, "2030-05-20", L_BD, 5, false, W_NOT},
    {"tie card/auth", SIGN, "1990-05-20", "2026-03-01", "2028-06-01", "2028-06-01",
     NULL, NULL, FEB28, JPKI_OK, "2028-06-01", L_CARD, 5, false, W_NOT},
    {"tie auth/stay", SIGN, "1990-05-20", "2026-03-01", "2029-01-01", "2028-06-01",
     "2028-06-01", NULL, FEB28, JPKI_OK, "2028-06-01", L_AUTH, 5, false, W_NOT},
    {"tie card/stay", AUTH, "1990-05-20", "2026-03-01", "2028-06-01", NULL,
     "2028-06-01", NULL, FEB28, JPKI_OK, "2028-06-01", L_CARD, 5, false, W_NOT},
    {"tie all four", SIGN, "1990-05-20", "2026-03-01", "2030-05-20", "2030-05-20",
     "2030-05-20", NULL, FEB28, JPKI_OK, "2030-05-20", L_BD, 5, false, W_NOT},
    /* negative: a cap before the issue day */
    {"card ended before issue", SIGN, "1990-05-20", "2026-03-01", "2026-02-28", NULL,
     NULL, NULL, FEB28, JPKI_ERR_REFUSED, NULL, L_BD, 0, false, W_NOT},
    {"auth ended before issue", SIGN, "1990-05-20", "2026-03-01", NULL, "2026-02-28",
     NULL, NULL, FEB28, JPKI_ERR_REFUSED, NULL, L_BD, 0, false, W_NOT},
    {"stay ended before issue", AUTH, "1990-05-20", "2026-03-01", NULL, NULL,
     "2026-02-28", NULL, FEB28, JPKI_ERR_REFUSED, NULL, L_BD, 0, false, W_NOT},
    /* negative: malformed requests */
    {"auth_expires on an auth request", AUTH, "1990-05-20", "2026-03-01", NULL,
     "2028-06-01", NULL, NULL, FEB28, JPKI_ERR_INVALID, NULL, L_BD, 0, false, W_NOT},
    {"issued before birth", SIGN, "1990-05-20", "1990-05-19", NULL, NULL, NULL, NULL,
     FEB28, JPKI_ERR_INVALID, NULL, L_BD, 0, false, W_NOT},
    {"issued before birth (auth)", AUTH, "2026-05-20", "2026-03-01", NULL, NULL, NULL,
     NULL, FEB28, JPKI_ERR_INVALID, NULL, L_BD, 0, false, W_NOT},
    {"5th birthday past 2199", SIGN, "1990-05-20", "2196-01-01", NULL, NULL, NULL, NULL,
     FEB28, JPKI_ERR_RANGE, NULL, L_BD, 0, false, W_NOT},
};

static void test_cert_expiry(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cert_cases); i++) {
		const struct cert_case *c = &cert_cases[i];
		struct jpki_cert_request r;
		struct jpki_cert_validity v;
		struct jpki_errbuf eb = {{0}};
		jpki_cert_request_init(&r, c->kind, D(c->birth), D(c->issued));
		r.card_expires = D(c->card);
		r.auth_expires = D(c->auth);
		r.stay_expires = D(c->stay);
		r.renewing = D(c->renewing);
		r.feb29 = c->p;
		memset(&v, 0, sizeof v);
		jpki_err e = jpki_cert_expiry(&r, &v, &eb);
		if (e != c->err)
			fail_msg("%s: error %d (%s), expected %d", c->what, (int)e,
				 eb.msg, (int)c->err);
		if (e != JPKI_OK) {
			if (eb.msg[0] == '\0')
				fail_msg("%s: no error detail", c->what);
			continue;
		}
		expect_day(v.expires, c->expires, c->what);
		if (v.limited_by != c->limited_by)
			fail_msg("%s: limited by %s, expected %s", c->what,
				 jpki_limit_name(v.limited_by),
				 jpki_limit_name(c->limited_by));
		if (v.nth_birthday != c->nth)
			fail_msg("%s: nth_birthday %d, expected %d", c->what,
				 v.nth_birthday, c->nth);
		if (v.in_window != c->in_window)
			fail_msg("%s: in_window %d", c->what, (int)v.in_window);
		if (v.renewing != (c->renewing != NULL))
			fail_msg("%s: renewing %d", c->what, (int)v.renewing);
		if (c->renewing != NULL && v.window != c->window)
			fail_msg("%s: window %s, expected %s", c->what,
				 jpki_window_state_name(v.window),
				 jpki_window_state_name(c->window));
		/* The errbuf is optional. */
		assert_int_equal(jpki_cert_expiry(&r, &v, NULL), JPKI_OK);
	}
}

static void test_cert_request_init(void **state)
{
	struct jpki_cert_request r;
	(void)state;
	memset(&r, 0x5a, sizeof r);
	jpki_cert_request_init(&r, JPKI_CERT_AUTH, D("1990-05-20"), D("2026-03-01"));
	assert_int_equal(r.kind, JPKI_CERT_AUTH);
	assert_int_equal(r.birth, D("1990-05-20"));
	assert_int_equal(r.issued, D("2026-03-01"));
	assert_int_equal(r.card_expires, JPKI_DAY_NONE);
	assert_int_equal(r.auth_expires, JPKI_DAY_NONE);
	assert_int_equal(r.stay_expires, JPKI_DAY_NONE);
	assert_int_equal(r.renewing, JPKI_DAY_NONE);
	assert_int_equal(r.feb29, JPKI_FEB29_FEB28);
}

/* ---- card expiry (DOMAIN §2) ---- */

static void test_card_expiry(void **state)
{
	static const struct {
		const char *what, *birth, *applied, *issued, *stay;
		enum jpki_feb29 p;
		jpki_err err;
		const char *expires;
		enum jpki_limit limited_by;
		int nth, age, adult_age;
	} cases[] = {
	    {"adult", "1990-05-20", "2026-01-10", "2026-02-20", NULL, FEB28, JPKI_OK,
	     "2035-05-20", L_BD, 10, 35, 18},
	    {"adult issued on the birthday", "1990-05-20", "2026-04-01", "2026-05-20",
	     NULL, FEB28, JPKI_OK, "2036-05-20", L_BD, 10, 35, 18},
	    {"minor", "2010-05-20", "2026-01-10", "2026-02-20", NULL, FEB28, JPKI_OK,
	     "2030-05-20", L_BD, 5, 15, 18},
	    {"applied and issued the same day", "2010-05-20", "2026-02-20",
	     "2026-02-20", NULL, FEB28, JPKI_OK, "2030-05-20", L_BD, 5, 15, 18},
	    /* 18 at the end of the day before the 18th birthday. */
	    {"18 the day before the birthday", "2008-04-02", "2026-04-01", "2026-05-01",
	     NULL, FEB28, JPKI_OK, "2036-04-02", L_BD, 10, 18, 18},
	    {"17 two days before", "2008-04-03", "2026-04-01", "2026-05-01", NULL,
	     FEB28, JPKI_OK, "2031-04-03", L_BD, 5, 17, 18},
	    /* The age is taken on the application day, not the issue day. */
	    {"17 at application, 18 at issue", "2008-04-10", "2026-04-01", "2026-05-01",
	     NULL, FEB28, JPKI_OK, "2031-04-10", L_BD, 5, 17, 18},
	    /* Threshold 20 before 2022-04-01. */
	    {"19 applying 2022-03-31", "2002-06-01", "2022-03-31", "2022-05-01", NULL,
	     FEB28, JPKI_OK, "2026-06-01", L_BD, 5, 19, 20},
	    {"19 applying 2022-04-01", "2002-06-01", "2022-04-01", "2022-05-01", NULL,
	     FEB28, JPKI_OK, "2031-06-01", L_BD, 10, 19, 18},
	    {"20 the day before, 2021", "2001-04-01", "2021-03-31", "2021-05-01", NULL,
	     FEB28, JPKI_OK, "2031-04-01", L_BD, 10, 20, 20},
	    {"19 in 2021", "2001-04-02", "2021-03-31", "2021-05-01", NULL, FEB28,
	     JPKI_OK, "2026-04-02", L_BD, 5, 19, 20},
	    /* Feb 29 births. */
	    {"feb29 adult, feb28", "2000-02-29", "2026-01-10", "2026-02-01", NULL,
	     FEB28, JPKI_OK, "2035-02-28", L_BD, 10, 25, 18},
	    {"feb29 adult, mar1", "2000-02-29", "2026-01-10", "2026-02-01", NULL, MAR1,
	     JPKI_OK, "2035-03-01", L_BD, 10, 25, 18},
	    /* The period of stay caps the card. */
	    {"stay cap", "1990-05-20", "2026-01-10", "2026-02-20", "2028-01-01", FEB28,
	     JPKI_OK, "2028-01-01", L_STAY, 10, 35, 18},
	    {"stay ends on the issue day", "1990-05-20", "2026-01-10", "2026-02-20",
	     "2026-02-20", FEB28, JPKI_OK, "2026-02-20", L_STAY, 10, 35, 18},
	    {"stay after the birthday", "1990-05-20", "2026-01-10", "2026-02-20",
	     "2040-01-01", FEB28, JPKI_OK, "2035-05-20", L_BD, 10, 35, 18},
	    {"stay ties the birthday", "1990-05-20", "2026-01-10", "2026-02-20",
	     "2035-05-20", FEB28, JPKI_OK, "2035-05-20", L_BD, 10, 35, 18},
	    /* negative */
	    {"stay ended before issue", "1990-05-20", "2026-01-10", "2026-02-20",
	     "2026-02-19", FEB28, JPKI_ERR_REFUSED, NULL, L_BD, 0, 0, 0},
	    {"applied before birth", "2026-05-20", "2026-05-19", "2026-06-01", NULL,
	     FEB28, JPKI_ERR_INVALID, NULL, L_BD, 0, 0, 0},
	    {"issued before applied", "1990-05-20", "2026-01-10", "2026-01-09", NULL,
	     FEB28, JPKI_ERR_INVALID, NULL, L_BD, 0, 0, 0},
	    {"10th birthday past 2199", "1990-05-20", "2195-01-10", "2195-02-20", NULL,
	     FEB28, JPKI_ERR_RANGE, NULL, L_BD, 0, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_card_validity v;
		struct jpki_errbuf eb = {{0}};
		memset(&v, 0, sizeof v);
		jpki_err e = jpki_card_expiry(D(cases[i].birth), D(cases[i].applied),
					      D(cases[i].issued), D(cases[i].stay),
					      cases[i].p, &v, &eb);
		if (e != cases[i].err)
			fail_msg("%s: error %d (%s), expected %d", cases[i].what,
				 (int)e, eb.msg, (int)cases[i].err);
		if (e != JPKI_OK) {
			if (eb.msg[0] == '\0')
				fail_msg("%s: no error detail", cases[i].what);
			continue;
		}
		expect_day(v.expires, cases[i].expires, cases[i].what);
		if (v.limited_by != cases[i].limited_by ||
		    v.nth_birthday != cases[i].nth ||
		    v.age_at_application != cases[i].age ||
		    v.adult_age != cases[i].adult_age)
			fail_msg("%s: limited_by %s nth %d age %d adult %d, expected "
				 "%s %d %d %d",
				 cases[i].what, jpki_limit_name(v.limited_by),
				 v.nth_birthday, v.age_at_application, v.adult_age,
				 jpki_limit_name(cases[i].limited_by), cases[i].nth,
				 cases[i].age, cases[i].adult_age);
	}
}

/* ---- eligibility (DOMAIN §2; seeds 001, 004) ---- */

static void test_eligibility(void **state)
{
	static const struct {
		const char *birth, *on;
		bool ward, present;
		enum jpki_ineligible sign;
		bool by_rep;
		int legal_age;
	} cases[] = {
	    {"2011-04-01", "2026-03-30", false, false, JPKI_INELIGIBLE_UNDER_15, true,
	     14},
	    {"2011-04-01", "2026-03-31", false, false, JPKI_ELIGIBLE, false, 15},
	    {"2011-06-10", "2026-06-08", false, false, JPKI_INELIGIBLE_UNDER_15, true,
	     14},
	    {"2011-06-10", "2026-06-09", false, false, JPKI_ELIGIBLE, false, 15},
	    {"2026-03-01", "2026-03-01", false, false, JPKI_INELIGIBLE_UNDER_15, true,
	     0},
	    {"1990-05-20", "2026-03-01", false, false, JPKI_ELIGIBLE, false, 35},
	    {"1990-05-20", "2026-03-01", false, true, JPKI_ELIGIBLE, false, 35},
	    /* Adult ward: signing only with the ward present [decision]. */
	    {"1990-05-20", "2026-03-01", true, false, JPKI_INELIGIBLE_WARD, true, 35},
	    {"1990-05-20", "2026-03-01", true, true, JPKI_ELIGIBLE, true, 35},
	    /* Under 15 wins over the ward rule. */
	    {"2015-01-01", "2026-03-01", true, true, JPKI_INELIGIBLE_UNDER_15, true,
	     11},
	    {"2008-02-29", "2023-02-28", false, false, JPKI_ELIGIBLE, false, 15},
	    {"2008-02-29", "2023-02-27", false, false, JPKI_INELIGIBLE_UNDER_15, true,
	     14},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_eligibility el;
		memset(&el, 0x5a, sizeof el);
		jpki_eligibility(D(cases[i].birth), D(cases[i].on), cases[i].ward,
				 cases[i].present, &el);
		if (el.sign != cases[i].sign || el.auth != true ||
		    el.auth_by_representative != cases[i].by_rep ||
		    el.legal_age != cases[i].legal_age)
			fail_msg("born %s on %s ward %d present %d: sign %d auth %d "
				 "by_rep %d age %d",
				 cases[i].birth, cases[i].on, (int)cases[i].ward,
				 (int)cases[i].present, (int)el.sign, (int)el.auth,
				 (int)el.auth_by_representative, el.legal_age);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ages),
	    cmocka_unit_test(test_ordinary_age_before_birth),
	    cmocka_unit_test(test_birthday_in_year),
	    cmocka_unit_test(test_nth_birthday_after),
	    cmocka_unit_test(test_renewal_window),
	    cmocka_unit_test(test_renewal_window_range),
	    cmocka_unit_test(test_window_state),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_cert_expiry),
	    cmocka_unit_test(test_cert_request_init),
	    cmocka_unit_test(test_card_expiry),
	    cmocka_unit_test(test_eligibility),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
