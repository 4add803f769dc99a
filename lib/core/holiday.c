/* National holidays under 国民の祝日に関する法律, 1948-07-20 to 2099 (DOMAIN §1).
 *
 * Sources: the law as promulgated (昭和23年法律第178号) and its amendments of
 * 1966 (敬老の日, 体育の日, 建国記念の日), 1973 (振替休日), 1985 (国民の休日),
 * 1989 (天皇誕生日 moves, みどりの日), 1995 (海の日), 1998 and 2001 (Happy
 * Monday, from 2000 and 2003), 2005 (昭和の日, みどりの日 on 5/4, the 2007
 * 振替休日 and 国民の休日 wording), 2014 (山の日), 2017 and 2018 (天皇誕生日
 * 2/23 from 2020, スポーツの日), the special laws for 1959-04-10,
 * 1989-02-24, 1990-11-12, 1993-06-09 and 2019 (5/1 and 10/22 treated as
 * national holidays), and the Olympic special measures for 2020 and 2021.
 * Names: the Cabinet Office list syukujitsu.csv (内閣府「国民の祝日について」).
 * Equinox days: the approximation the Cabinet Office publishes from the
 * National Astronomical Observatory's ephemeris, with C's truncating `/`
 * replaced by floor division (DOMAIN §1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "jpki/holiday.h"
#include "banned.h"

#define DAY(y, m, d) jpki_day_from_ymd_unchecked((y), (m), (d))

enum { MON = 1, SUN = 0 };

struct acc {
	struct jpki_holiday *h;
	size_t n;
};

static void add(struct acc *a, jpki_day d, const char *name,
		enum jpki_holiday_kind kind)
{
	/* The law took effect on 1948-07-20; nothing before it is a holiday. */
	if (d < DAY(1948, 7, 20) || a->n >= JPKI_HOLIDAYS_MAX)
		return;
	a->h[a->n].day = d;
	a->h[a->n].name = name;
	a->h[a->n].kind = kind;
	a->n++;
}

static int64_t floordiv64(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Day of March (spring) or September (autumn) of the equinox holiday:
 * floor(C + 0.242194 (y - 1980)) - floor((y - 1980) / 4), in fixed point
 * with six decimals so no rounding can differ between machines. */
static int equinox_dom(int y, bool autumn)
{
	int64_t c;
	if (y >= 1980)
		c = autumn ? 23248800 : 20843100;
	else
		c = autumn ? 23258800 : 20835700;
	int64_t t = y - 1980;
	return (int)(floordiv64(c + 242194 * t, 1000000) - floordiv64(t, 4));
}

static void national_days(int y, struct acc *a)
{
	const enum jpki_holiday_kind N = JPKI_HOLIDAY_NATIONAL;

	add(a, DAY(y, 1, 1), "元日", N);
	if (y < 2000)
		add(a, DAY(y, 1, 15), "成人の日", N);
	else
		add(a, jpki_nth_weekday(y, 1, MON, 2), "成人の日", N);
	if (y >= 1967)
		add(a, DAY(y, 2, 11), "建国記念の日", N);
	if (y >= 2020)
		add(a, DAY(y, 2, 23), "天皇誕生日", N);
	add(a, DAY(y, 3, equinox_dom(y, false)), "春分の日", N);
	if (y < 1989)
		add(a, DAY(y, 4, 29), "天皇誕生日", N);
	else if (y < 2007)
		add(a, DAY(y, 4, 29), "みどりの日", N);
	else
		add(a, DAY(y, 4, 29), "昭和の日", N);
	add(a, DAY(y, 5, 3), "憲法記念日", N);
	if (y >= 2007)
		add(a, DAY(y, 5, 4), "みどりの日", N);
	add(a, DAY(y, 5, 5), "こどもの日", N);

	/* 海の日: 7/20 from 1996, third Monday of July from 2003; moved for
	 * the Tokyo Olympics in 2020 and 2021. */
	if (y == 2020)
		add(a, DAY(2020, 7, 23), "海の日", N);
	else if (y == 2021)
		add(a, DAY(2021, 7, 22), "海の日", N);
	else if (y >= 2003)
		add(a, jpki_nth_weekday(y, 7, MON, 3), "海の日", N);
	else if (y >= 1996)
		add(a, DAY(y, 7, 20), "海の日", N);

	/* 山の日: 8/11 from 2016; 8/10 in 2020 and 8/8 in 2021. */
	if (y == 2020)
		add(a, DAY(2020, 8, 10), "山の日", N);
	else if (y == 2021)
		add(a, DAY(2021, 8, 8), "山の日", N);
	else if (y >= 2016)
		add(a, DAY(y, 8, 11), "山の日", N);

	/* 敬老の日: 9/15 from 1966, third Monday of September from 2003. */
	if (y >= 2003)
		add(a, jpki_nth_weekday(y, 9, MON, 3), "敬老の日", N);
	else if (y >= 1966)
		add(a, DAY(y, 9, 15), "敬老の日", N);
	add(a, DAY(y, 9, equinox_dom(y, true)), "秋分の日", N);

	/* 体育の日: 10/10 from 1966, second Monday of October from 2000;
	 * スポーツの日 from 2020 (7/24 in 2020, 7/23 in 2021). The Cabinet
	 * Office list names 2019-10-14 "体育の日（スポーツの日）". */
	if (y == 2020)
		add(a, DAY(2020, 7, 24), "スポーツの日", N);
	else if (y == 2021)
		add(a, DAY(2021, 7, 23), "スポーツの日", N);
	else if (y >= 2022)
		add(a, jpki_nth_weekday(y, 10, MON, 2), "スポーツの日", N);
	else if (y == 2019)
		add(a, jpki_nth_weekday(y, 10, MON, 2), "体育の日（スポーツの日）", N);
	else if (y >= 2000)
		add(a, jpki_nth_weekday(y, 10, MON, 2), "体育の日", N);
	else if (y >= 1966)
		add(a, DAY(y, 10, 10), "体育の日", N);

	add(a, DAY(y, 11, 3), "文化の日", N);
	add(a, DAY(y, 11, 23), "勤労感謝の日", N);
	if (y >= 1989 && y <= 2018)
		add(a, DAY(y, 12, 23), "天皇誕生日", N);
}

/* One-off days. The 2019 ones are "国民の祝日とみなす" (天皇の即位の日及び
 * 即位礼正殿の儀の行われる日を休日とする法律, 平成30年法律第99号), so they
 * count for 振替休日 and 国民の休日; the earlier ones are plain 休日 under
 * their own laws and never fell next to a holiday. */
static const struct {
	int y, m, d;
	const char *name;
	enum jpki_holiday_kind kind;
} one_off[] = {
    {1959, 4, 10, "結婚の儀", JPKI_HOLIDAY_SPECIAL},
    {1989, 2, 24, "大喪の礼", JPKI_HOLIDAY_SPECIAL},
    {1990, 11, 12, "即位礼正殿の儀", JPKI_HOLIDAY_SPECIAL},
    {1993, 6, 9, "結婚の儀", JPKI_HOLIDAY_SPECIAL},
    {2019, 5, 1, "休日（祝日扱い）", JPKI_HOLIDAY_NATIONAL},
    {2019, 10, 22, "休日（祝日扱い）", JPKI_HOLIDAY_NATIONAL},
};

static void sort_by_day(struct jpki_holiday *h, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct jpki_holiday t = h[i];
		size_t j = i;
		for (; j > 0 && h[j - 1].day > t.day; j--)
			h[j] = h[j - 1];
		h[j] = t;
	}
}

static bool is_national(const struct acc *a, jpki_day d)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->h[i].day == d && a->h[i].kind == JPKI_HOLIDAY_NATIONAL)
			return true;
	return false;
}

static bool is_listed(const struct acc *a, jpki_day d)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->h[i].day == d)
			return true;
	return false;
}

/* 第3条第2項: a national holiday on a Sunday makes a 休日. From 1973-04-12
 * to 2006 the next day; from 2007 the nearest following day that is not a
 * national holiday. */
static void substitutes(struct acc *a)
{
	const jpki_day start = DAY(1973, 4, 12), wording2007 = DAY(2007, 1, 1);
	size_t n = a->n;
	for (size_t i = 0; i < n; i++) {
		jpki_day d = a->h[i].day;
		if (a->h[i].kind != JPKI_HOLIDAY_NATIONAL || d < start ||
		    jpki_weekday(d) != SUN)
			continue;
		jpki_day s = d + 1;
		if (d >= wording2007)
			while (is_national(a, s))
				s++;
		if (!is_listed(a, s))
			add(a, s, "休日", JPKI_HOLIDAY_SUBSTITUTE);
	}
}

/* 第3条第3項, from 1985-12-27: a day whose previous and next days are both
 * national holidays is a 休日 if it is not one itself; before 2007 not if
 * it is a Sunday or a 振替休日. The national holidays of a year never
 * sandwich a day across New Year, so one year's list suffices. */
static void citizens_days(struct acc *a, int y)
{
	const jpki_day start = DAY(1985, 12, 27);
	size_t n = a->n;
	for (size_t i = 0; i < n; i++) {
		jpki_day mid = a->h[i].day + 1;
		if (a->h[i].kind != JPKI_HOLIDAY_NATIONAL || mid < start ||
		    !is_national(a, mid + 1) || is_listed(a, mid))
			continue;
		if (y < 2007 && jpki_weekday(mid) == SUN)
			continue;
		add(a, mid, "休日", JPKI_HOLIDAY_CITIZENS);
	}
}

jpki_err jpki_holidays_in_year(int y, struct jpki_holiday out[static JPKI_HOLIDAYS_MAX],
			       size_t *n)
{
	if (y < JPKI_HOLIDAY_YEAR_MIN || y > JPKI_HOLIDAY_YEAR_MAX)
		return JPKI_ERR_RANGE;
	struct acc a = {out, 0};
	national_days(y, &a);
	for (size_t i = 0; i < sizeof one_off / sizeof one_off[0]; i++)
		if (one_off[i].y == y)
			add(&a, DAY(y, one_off[i].m, one_off[i].d), one_off[i].name,
			    one_off[i].kind);
	/* Substitutes are decided before 国民の休日: before 2007 a 振替休日
	 * cannot also be a 国民の休日, and is_listed() keeps that true. */
	substitutes(&a);
	citizens_days(&a, y);
	sort_by_day(a.h, a.n);
	*n = a.n;
	return JPKI_OK;
}

jpki_err jpki_holiday_on(jpki_day d, struct jpki_holiday *h)
{
	static _Thread_local struct {
		int year; /* 0: empty */
		size_t n;
		struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
	} memo;
	int y, m, dd;

	if (!jpki_day_in_range(d))
		return JPKI_ERR_RANGE;
	jpki_day_to_ymd(d, &y, &m, &dd);
	if (y > JPKI_HOLIDAY_YEAR_MAX)
		return JPKI_ERR_RANGE;
	if (h)
		memset(h, 0, sizeof *h);
	if (y < JPKI_HOLIDAY_YEAR_MIN)
		return JPKI_OK;
	if (memo.year != y) {
		jpki_err e = jpki_holidays_in_year(y, memo.h, &memo.n);
		if (e != JPKI_OK)
			return e;
		memo.year = y;
	}
	for (size_t i = 0; i < memo.n; i++) {
		if (memo.h[i].day == d) {
			if (h)
				*h = memo.h[i];
			break;
		}
	}
	return JPKI_OK;
}
