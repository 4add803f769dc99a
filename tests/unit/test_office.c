/* Office calendars and reservations (DOMAIN §7; seeds 000, 001, 003, 004),
 * on the four shipped offices under data/offices/ and on inline configs.
 * Holiday facts used below were taken from the Cabinet Office list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jpki/office.h"
#include "banned.h"

static jpki_day D(const char *s)
{
	jpki_day d;
	assert_int_equal(jpki_date_parse(s, &d, NULL), JPKI_OK);
	return d;
}

static int64_t T(const char *s)
{
	int64_t t;
	assert_int_equal(jpki_instant_parse(s, &t, NULL), JPKI_OK);
	return t;
}

static struct jpki_office *parse_text(const char *text)
{
	struct jpki_office *o = NULL;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_office_parse(text, strlen(text), &o, &eb);
	if (e != JPKI_OK)
		fail_msg("parse failed: %s", eb.msg);
	return o;
}

static struct jpki_office *load(const char *file)
{
	const char *dir = getenv("JPKI_OFFICES");
	char path[512];
	assert_non_null(dir);
	assert_true(snprintf(path, sizeof path, "%s/%s", dir, file) < (int)sizeof path);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return parse_text(buf);
}

/* Renders a day as the CLI does: "open 08:30-17:15[,...]" or
 * "closed REASON[ DETAIL]" (detail only for holiday and closure). */
static void render(const struct jpki_office *o, const char *date, char *out, size_t cap)
{
	struct jpki_office_day od;
	assert_int_equal(jpki_office_day(o, D(date), &od), JPKI_OK);
	size_t off = 0;
	if (od.open) {
		assert_int_equal(od.reason, JPKI_REASON_NONE);
		off += (size_t)snprintf(out, cap, "open ");
		for (unsigned i = 0; i < od.hours.n; i++)
			off += (size_t)snprintf(
			    out + off, cap - off, "%s%02u:%02u-%02u:%02u", i ? "," : "",
			    od.hours.iv[i].open / 60u, od.hours.iv[i].open % 60u,
			    od.hours.iv[i].close / 60u, od.hours.iv[i].close % 60u);
		return;
	}
	assert_int_equal(od.hours.n, 0);
	if (od.detail &&
	    (od.reason == JPKI_REASON_HOLIDAY || od.reason == JPKI_REASON_CLOSURE))
		snprintf(out, cap, "closed %s %s", jpki_closed_reason_name(od.reason),
			 od.detail);
	else
		snprintf(out, cap, "closed %s", jpki_closed_reason_name(od.reason));
}

struct day_case {
	const char *date;
	const char *want;
};

static void check_days(const char *file, const struct day_case *c, size_t n)
{
	struct jpki_office *o = load(file);
	char got[256];
	for (size_t i = 0; i < n; i++) {
		render(o, c[i].date, got, sizeof got);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("%s %s: got '%s', want '%s'", file, c[i].date, got,
				 c[i].want);
	}
	jpki_office_free(o);
}

#define CHECK_DAYS(file, cases) check_days(file, cases, sizeof cases / sizeof cases[0])

static void test_atsugi(void **state)
{
	(void)state;
	/* Seed 000: 平日 8:30-17:15, 土曜日 8:30-12:00; closed Sundays,
	 * holidays (also on Saturdays), 振替休日 and 12/29-1/3. */
	static const struct day_case c[] = {
	    {"2026-03-05", "open 08:30-17:15"},
	    {"2026-03-07", "open 08:30-12:00"},
	    {"2026-03-08", "closed weekend"},
	    {"2026-09-22", "closed holiday 休日"},	 /* 国民の休日 */
	    {"2026-05-03", "closed holiday 憲法記念日"}, /* on a Sunday */
	    {"2026-05-06", "closed holiday 休日"},	 /* 振替休日 */
	    {"2029-08-11", "closed holiday 山の日"},	 /* on a Saturday */
	    {"2029-08-18", "open 08:30-12:00"},
	    {"2026-12-28", "open 08:30-17:15"},
	    {"2026-12-29", "closed year-end"},
	    {"2027-01-01", "closed year-end"}, /* year-end wins over 元日 */
	    {"2027-01-02", "closed year-end"}, /* a Saturday */
	    {"2027-01-03", "closed year-end"},
	    {"2027-01-04", "open 08:30-17:15"},
	};
	CHECK_DAYS("atsugi.ini", c);
}

static void test_shimotsuma(void **state)
{
	(void)state;
	/* Seed 001: 8:30-17:15, 1st/3rd Thursday to 19:00, listed holiday
	 * opening days 9:00-11:30. */
	static const struct day_case c[] = {
	    {"2029-05-03", "closed holiday 憲法記念日"}, /* a 1st Thursday */
	    {"2029-05-10", "open 08:30-17:15"},		 /* 2nd Thursday */
	    {"2029-05-17", "open 08:30-19:00"},		 /* 3rd Thursday */
	    {"2029-05-24", "open 08:30-17:15"},		 /* 4th Thursday */
	    {"2029-05-31", "open 08:30-17:15"},		 /* 5th Thursday */
	    {"2026-03-05", "open 08:30-19:00"},		 /* 1st Thursday */
	    {"2026-03-07", "closed weekend"},
	    {"2026-02-22", "open 09:00-11:30"}, /* listed opening, a Sunday */
	    {"2026-03-01", "closed weekend"},
	};
	CHECK_DAYS("shimotsuma.ini", c);
}

static void test_toshima(void **state)
{
	(void)state;
	/* Seed 003: weekdays 9:00-16:00, Sat/Sun 9:00-15:00 but not the 3rd
	 * Saturday and the Sunday after it; open on a holiday that falls on a
	 * weekend; closed on 振替休日. */
	static const struct day_case c[] = {
	    {"2026-03-04", "open 09:00-16:00"},
	    {"2026-03-07", "open 09:00-15:00"},	  /* 1st Saturday */
	    {"2026-03-21", "closed maintenance"}, /* 3rd Saturday */
	    {"2026-03-22", "closed maintenance"}, /* the Sunday after it */
	    {"2026-03-28", "open 09:00-15:00"},
	    {"2026-03-01", "open 09:00-15:00"}, /* 1st Sunday */
	    {"2026-02-21", "closed maintenance"},
	    {"2026-02-22", "closed maintenance"},
	    {"2026-05-03", "open 09:00-15:00"},	   /* 憲法記念日 on a Sunday */
	    {"2026-05-06", "closed holiday 休日"}, /* its 振替休日 */
	    {"2029-11-03", "open 09:00-15:00"},	   /* 文化の日 on a Saturday */
	    {"2032-03-20", "closed maintenance"},  /* a holiday on a 3rd Saturday */
	    {"2027-03-21", "closed maintenance"},  /* holiday, Sunday after 3rd Sat */
	    {"2027-03-22", "closed holiday 休日"}, /* its 振替休日 */
	    {"2026-09-22", "closed holiday 休日"},
	    {"2027-01-02", "closed year-end"},
	};
	CHECK_DAYS("toshima.ini", c);

	/* A holiday the office opens on still names the holiday. */
	struct jpki_office *o = load("toshima.ini");
	struct jpki_office_day od;
	assert_int_equal(jpki_office_day(o, D("2029-11-03"), &od), JPKI_OK);
	assert_true(od.open);
	assert_string_equal(od.detail, "文化の日");
	jpki_office_free(o);
}

static void test_yokohama(void **state)
{
	(void)state;
	/* Seed 004: weekdays 8:45-17:00, 2nd/4th Saturday 9:00-12:00, open
	 * when such a Saturday is a holiday. */
	static const struct day_case c[] = {
	    {"2026-03-02", "open 08:45-17:00"},
	    {"2026-03-07", "closed weekend"},	/* 1st Saturday */
	    {"2026-03-14", "open 09:00-12:00"}, /* 2nd */
	    {"2026-03-21", "closed weekend"},	/* 3rd */
	    {"2026-03-28", "open 09:00-12:00"}, /* 4th */
	    {"2026-05-30", "closed weekend"},	/* 5th */
	    {"2029-08-11", "open 09:00-12:00"}, /* 山の日 on a 2nd Saturday */
	    {"2030-02-23", "open 09:00-12:00"}, /* 天皇誕生日 on a 4th Saturday */
	    {"2029-11-03", "closed holiday 文化の日"}, /* on a 1st Saturday */
	    {"2032-03-20", "closed holiday 春分の日"}, /* on a 3rd Saturday */
	    {"2026-02-22", "closed weekend"},
	    {"2026-02-23", "closed holiday 天皇誕生日"},
	    {"2026-12-29", "closed year-end"},
	    {"2027-01-04", "open 08:45-17:00"},
	};
	CHECK_DAYS("yokohama-ward.ini", c);
}

static void test_queries(void **state)
{
	(void)state;
	struct jpki_office *o = load("yokohama-ward.ini");
	jpki_day d;
	size_t n;
	jpki_day days[32];

	/* Feb 2026: 20 weekdays less 2/11 and 2/23, plus Saturdays 2/14, 2/28. */
	assert_int_equal(
	    jpki_office_open_days(o, D("2026-02-01"), D("2026-02-28"), days, 32, &n),
	    JPKI_OK);
	assert_int_equal(n, 20);
	assert_int_equal(days[0], D("2026-02-02"));
	assert_int_equal(days[19], D("2026-02-28"));
	/* cap smaller than the count: count is still the total */
	assert_int_equal(
	    jpki_office_open_days(o, D("2026-02-01"), D("2026-02-28"), NULL, 0, &n),
	    JPKI_OK);
	assert_int_equal(n, 20);

	assert_int_equal(jpki_office_next_open(o, D("2026-02-21"), 30, &d), JPKI_OK);
	assert_int_equal(d, D("2026-02-24"));
	assert_int_equal(jpki_office_next_open(o, D("2026-02-24"), 30, &d), JPKI_OK);
	assert_int_equal(d, D("2026-02-24")); /* inclusive */
	assert_int_equal(jpki_office_prev_open(o, D("2026-02-23"), 30, &d), JPKI_OK);
	assert_int_equal(d, D("2026-02-20"));
	assert_int_equal(jpki_office_next_open(o, D("2026-12-29"), 5, &d),
			 JPKI_ERR_NOTFOUND); /* 12/29..1/2 closed */
	assert_int_equal(jpki_office_next_open(o, D("2026-12-29"), 30, &d), JPKI_OK);
	assert_int_equal(d, D("2027-01-04"));

	/* Holidays are unknown after 2099. */
	struct jpki_office_day od;
	assert_int_equal(jpki_office_day(o, D("2100-01-05"), &od), JPKI_ERR_RANGE);
	assert_int_equal(jpki_office_day(o, D("2099-12-28"), &od), JPKI_OK);
	assert_true(jpki_office_is_main(o));
	assert_string_equal(jpki_office_name(o), "横浜市 区役所 戸籍課登録担当");
	jpki_office_free(o);
}

static void test_closures_and_lunch(void **state)
{
	(void)state;
	struct jpki_office *o = parse_text(
	    "[office]\nname = 出張所\nkind = branch\n"
	    "[hours]\nweekdays = 08:30-12:00, 13:00-17:15\nsat = closed\n"
	    "sun = closed\n"
	    "[closures]\n2026-03-04 = 臨時閉庁\n2026-03-05 =\n"
	    "[openings]\n2026-03-08 = 09:00-12:00\n2026-03-04 = 10:00-11:00\n");
	static const struct day_case c[] = {
	    {"2026-03-02", "open 08:30-12:00,13:00-17:15"},
	    {"2026-03-04", "open 10:00-11:00"}, /* an opening wins over a closure */
	    {"2026-03-05", "closed closure"},
	    {"2026-03-08", "open 09:00-12:00"},
	    {"2026-03-20", "closed holiday 春分の日"},
	};
	char got[256];
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		render(o, c[i].date, got, sizeof got);
		assert_string_equal(got, c[i].want);
	}
	assert_false(jpki_office_is_main(o));
	jpki_office_free(o);

	/* Indented comments and blank lines are fine; an opening alone is
	 * enough for an office that opens. */
	o = parse_text("  ; an indented comment\n[office]\nname = x\n"
		       "[openings]\n2026-03-08 = 09:00-12:00\n");
	render(o, "2026-03-08", got, sizeof got);
	assert_string_equal(got, "open 09:00-12:00");
	jpki_office_free(o);

	o = parse_text("[office]\nname = x\n[closures]\n2026-03-04 = 臨時閉庁\n"
		       "[hours]\nweekdays = 09:00-17:00\n");
	render(o, "2026-03-04", got, sizeof got);
	assert_string_equal(got, "closed closure 臨時閉庁");
	jpki_office_free(o);
}

struct bad_case {
	const char *text;
	const char *want; /* substring of the error detail */
};

static void test_parse_errors(void **state)
{
	(void)state;
	static const struct bad_case c[] = {
	    {"[hours]\nweekdays = 09:00-17:00\n", "name is required"},
	    {"name = x\n", "line 1: 'name' outside a section"},
	    {"\n\n; comment\n\nkey = v\n[office]\nname = x\n",
	     "line 5: 'key' outside a section"},
	    {"[office]\nname = x\n[bogus]\nk = v\n", "line 3: unknown section [bogus]"},
	    {"[office]\nname = x\n[Hours]\n", "line 3: unknown section [Hours]"},
	    {"[office]\nname = x\n", "the office never opens"},
		{"[office]\nname = x\n[hours]\nweekdays = closed\n", "the office never opens"},
		{"[office]\nname = x\n  [hours]\n", "line 3: starts with a blank"},
	    {"[office]\nname = x\n[hours]\nmon = 09:00-17:00\n  tue = 09:00-17:00\n",
	     "line 5: starts with a blank"},
	    {"a\nb\nc\nkey = v\n", "line 1: not a section"},
	    {"[office]\nname: x\n", "line 2: not a section"},
	    {"[office]\n= x\n", "line 2: not a section"},
	    {"[office]\nname = x\n[hours]\nmon = 09:00-17:00\n\n\nfoo = 1\n",
	     "line 7: [hours] unknown key 'foo'"},
	    {"[office]\nname = x\n[hours\n", "line 3: unknown section [hours"},
	    {"[office]\nname = x\ncolour = red\n", "line 3: [office] unknown key"},
	    {"[office]\nname = x\nname = y\n", "line 3"},
	    {"[office]\nname = x\nkind = annex\n", "not main or branch"},
	    {"[office]\nname = x\n[hours]\nmon = 17:00-08:00\n",
	     "line 4: [hours] mon: bad hours"},
	    {"[office]\nname = x\n[hours]\nmon = 08:00-25:00\n", "bad hours"},
	    {"[office]\nname = x\n[hours]\nmon = 8:00-17:00\n", "bad hours"},
	    {"[office]\nname = x\n[hours]\nmon = 08:00-12:00,11:00-17:00\n",
	     "bad hours"},
	    {"[office]\nname = x\n[hours]\nmon = 08:00-12:00,12:00-17:00\n",
	     "bad hours"},
	    {"[office]\nname = x\n[hours]\nmon = 08:00-12:00;x\n", "bad hours"},
	    {"[office]\nname = x\n[hours]\nmon = 09:00-17:00\nweekdays = 09:00-17:00\n",
	     "mon already given"},
	    {"[office]\nname = x\n[hours]\nmon = 09:00-17:00\nmon = 09:00-17:00\n",
	     "given twice"},
	    {"[office]\nname = x\n[hours]\nsat = 09:00-12:00\nsat.weeks = 2,6\n",
	     "not a list of 1-5"},
	    {"[office]\nname = x\n[hours]\nsat = 09:00-12:00\nsat.weeks = 2,2\n",
	     "not a list of 1-5"},
	    {"[office]\nname = x\n[hours]\nsat = closed\nsat.weeks = 2\n",
	     "sat.weeks given for a closed day"},
	    {"[office]\nname = x\n[hours]\nthu#6 = 09:00-19:00\n", "unknown key"},
	    {"[office]\nname = x\n[hours]\nthu#1+1 = 09:00-19:00\n", "unknown key"},
	    {"[office]\nname = x\n[hours]\nfoo = 09:00-19:00\n", "unknown key 'foo'"},
	    {"[office]\nname = x\n[rules]\nholidays = sometimes\n",
	     "not closed or open-on-weekend"},
	    {"[office]\nname = x\n[rules]\nyear-end = 12-29-01-03\n",
	     "not MM-DD..MM-DD"},
	    {"[office]\nname = x\n[rules]\nyear-end = 12-32..01-03\n",
	     "not MM-DD..MM-DD"},
	    {"[office]\nname = x\n[rules]\nmaintenance = sat#3, sat#3+7\n", "sat#3+7"},
	    {"[office]\nname = x\n[rules]\nmaintenance = saturday\n", "'saturday'"},
	    {"[office]\nname = x\n[rules]\nbooking-deadline = 5pm\n",
	     "booking-deadline"},
	    {"[office]\nname = x\n[rules]\nbooking-horizon = 0\n", "booking-horizon"},
	    {"[office]\nname = x\n[rules]\nbooking-horizon = 400\n", "booking-horizon"},
	    {"[office]\nname = x\n[closures]\n2026-02-30 = x\n", "not a date"},
	    {"[office]\nname = x\n[closures]\n2026-03-01 = a\n2026-03-01 = b\n",
	     "given twice"},
	    {"[office]\nname = x\n[openings]\n2026-03-01 = closed\n", "bad hours"},
	    {"[office]\nname = \xff\xfe\n", "not UTF-8"},
	    {"[office]\nname = x\nthis line has no equals sign\n", "line 3"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct jpki_office *o = (struct jpki_office *)&c; /* must be reset */
		struct jpki_errbuf eb = {{0}};
		jpki_err e = jpki_office_parse(c[i].text, strlen(c[i].text), &o, &eb);
		if (e != JPKI_ERR_CONFIG || o != NULL ||
		    strstr(eb.msg, c[i].want) == NULL)
			fail_msg("case %zu: e=%d msg='%s', want '%s'", i, (int)e,
				 eb.msg, c[i].want);
	}

	/* A NUL inside the text and an over-long line are refused up front. */
	struct jpki_office *o = NULL;
	struct jpki_errbuf eb = {{0}};
	static const char with_nul[] = "[office]\nname = x\0y\n";
	assert_int_equal(jpki_office_parse(with_nul, sizeof with_nul - 1, &o, &eb),
			 JPKI_ERR_CONFIG);
	assert_non_null(strstr(eb.msg, "line 2: NUL byte"));
	char longline[400];
	memset(longline, 'a', sizeof longline);
	memcpy(longline, "[office]\nname = ", 16);
	longline[sizeof longline - 1] = '\0';
	assert_int_equal(jpki_office_parse(longline, strlen(longline), &o, &eb),
			 JPKI_ERR_CONFIG);
	assert_non_null(strstr(eb.msg, "line 2: longer than"));
	assert_null(o);
}

/* ---- reservations (DOMAIN §7, seed 004) ---- */

struct resv_case {
	const char *expires, *now;
	jpki_err want;
	const char *first, *last; /* or opens_on for REFUSED */
};

static void check_reservable(struct jpki_office *o, const struct resv_case *c, size_t n)
{
	char a[JPKI_DATE_BUFSZ], b[JPKI_DATE_BUFSZ];
	for (size_t i = 0; i < n; i++) {
		struct jpki_reservable r;
		struct jpki_errbuf eb = {{0}};
		jpki_err e = jpki_reservable(o, D(c[i].expires), T(c[i].now), &r, &eb);
		if (e != c[i].want)
			fail_msg("case %zu (%s): e=%d want %d (%s)", i, c[i].now,
				 (int)e, (int)c[i].want, eb.msg);
		if (e == JPKI_OK) {
			jpki_date_format(r.first, a);
			jpki_date_format(r.last, b);
			if (strcmp(a, c[i].first) != 0 || strcmp(b, c[i].last) != 0)
				fail_msg("case %zu (%s): got %s %s, want %s %s", i,
					 c[i].now, a, b, c[i].first, c[i].last);
		} else if (e == JPKI_ERR_REFUSED) {
			assert_string_equal(jpki_date_format(r.opens_on, a),
					    c[i].first);
			snprintf(b, sizeof b, "%s", c[i].first);
			assert_non_null(strstr(eb.msg, "booking opens on"));
			assert_non_null(strstr(eb.msg, b));
		}
	}
}

static void test_reservable_yokohama(void **state)
{
	(void)state;
	struct jpki_office *o = load("yokohama-ward.ini");
	static const struct resv_case c[] = {
	    /* The worked example: 2/22 is a Sunday, 2/23 天皇誕生日. */
	    {"2026-05-20", "2026-02-21T10:00:00+09:00", JPKI_OK, "2026-02-24",
	     "2026-04-02"},
	    {"2026-05-20", "2026-02-21T01:00:00Z", JPKI_OK, "2026-02-24", "2026-04-02"},
	    /* Midnight JST: the window's first day has begun. */
	    {"2026-05-20", "2026-02-20T15:00:00Z", JPKI_OK, "2026-02-24", "2026-04-02"},
	    {"2026-05-20", "2026-02-20T23:59:59+09:00", JPKI_ERR_REFUSED, "2026-02-21",
	     NULL},
	    {"2026-05-20", "2026-01-05T09:00:00+09:00", JPKI_ERR_REFUSED, "2026-02-21",
	     NULL},
	    /* The 17:00 deadline of the day before; 2/23 + 40 = 4/4 is a
	     * 1st Saturday (closed), so the last day moves back to 4/3. */
	    {"2026-05-20", "2026-02-23T16:59:59+09:00", JPKI_OK, "2026-02-24",
	     "2026-04-03"},
	    {"2026-05-20", "2026-02-23T17:00:00+09:00", JPKI_OK, "2026-02-25",
	     "2026-04-03"},
	    /* No cap at the expiry: still bookable after it. 7/11 is a 2nd Saturday. */
	    {"2026-05-20", "2026-06-01T09:00:00+09:00", JPKI_OK, "2026-06-02",
	     "2026-07-11"},
	    /* Across the year-end closure. */
	    {"2027-02-10", "2026-12-27T18:00:00+09:00", JPKI_OK, "2027-01-04",
	     "2027-02-05"},
	};
	check_reservable(o, c, sizeof c / sizeof c[0]);
	jpki_office_free(o);
}

static void test_reservable_rules(void **state)
{
	(void)state;
	/* Another office's own deadline and horizon. */
	struct jpki_office *o =
	    parse_text("[office]\nname = x\n[hours]\nweekdays = 09:00-17:00\n"
		       "[rules]\nbooking-deadline = 12:00\nbooking-horizon = 7\n");
	struct jpki_booking_rules br;
	jpki_office_booking_rules(o, &br);
	assert_int_equal(br.deadline_minute, 12 * 60);
	assert_int_equal(br.horizon_days, 7);
	static const struct resv_case c[] = {
	    /* Mon 2026-03-02 11:59: tomorrow bookable; +7 = Mon 3/9. */
	    {"2026-05-20", "2026-03-02T11:59:00+09:00", JPKI_OK, "2026-03-03",
	     "2026-03-09"},
	    {"2026-05-20", "2026-03-02T12:00:00+09:00", JPKI_OK, "2026-03-04",
	     "2026-03-09"},
	    /* Thu 3/5 +7 = Thu 3/12; Fri 3/6 first. */
	    {"2026-05-20", "2026-03-05T08:00:00+09:00", JPKI_OK, "2026-03-06",
	     "2026-03-12"},
	};
	check_reservable(o, c, sizeof c / sizeof c[0]);
	jpki_office_free(o);

	/* Nothing bookable: a one-day horizon landing on a Sunday. */
	o = parse_text("[office]\nname = x\n[hours]\nweekdays = 09:00-17:00\n"
		       "[rules]\nbooking-horizon = 1\n");
	static const struct resv_case none[] = {
	    {"2026-05-20", "2026-02-21T10:00:00+09:00", JPKI_ERR_NOTFOUND, NULL, NULL},
	    /* After the deadline the earliest day is beyond the horizon. */
	    {"2026-05-20", "2026-02-24T18:00:00+09:00", JPKI_ERR_NOTFOUND, NULL, NULL},
	    {"2026-05-20", "2026-02-24T10:00:00+09:00", JPKI_OK, "2026-02-25",
	     "2026-02-25"},
	};
	check_reservable(o, none, sizeof none / sizeof none[0]);
	jpki_office_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_atsugi),
	    cmocka_unit_test(test_shimotsuma),
	    cmocka_unit_test(test_toshima),
	    cmocka_unit_test(test_yokohama),
	    cmocka_unit_test(test_queries),
	    cmocka_unit_test(test_closures_and_lunch),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_reservable_yokohama),
	    cmocka_unit_test(test_reservable_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
