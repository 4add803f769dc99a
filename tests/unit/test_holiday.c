/* National holidays 1948-2099 (DOMAIN §1, 国民の祝日に関する法律).
 *
 * The year tables below are written out by hand from the law's history
 * (DOMAIN §1) and the Gregorian calendar; names are those of the Cabinet
 * Office list (syukujitsu.csv): 振替休日 and 国民の休日 are both "休日",
 * 2019-05-01 and 2019-10-22 are "休日（祝日扱い）", 2019-10-14 is
 * "体育の日（スポーツの日）". Equinox days follow DOMAIN §1's formula with
 * floor division (the truncating `/` gives the wrong day before 1980). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jpki/holiday.h"
#include "banned.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define N   JPKI_HOLIDAY_NATIONAL
#define SUB JPKI_HOLIDAY_SUBSTITUTE
#define CIT JPKI_HOLIDAY_CITIZENS
#define SPE JPKI_HOLIDAY_SPECIAL

static jpki_day D(int y, int m, int d)
{
	jpki_day out = 0;
	assert_int_equal(jpki_day_from_ymd(y, m, d, &out), JPKI_OK);
	return out;
}

struct exp_holiday {
	int m, d;
	const char *name;
	enum jpki_holiday_kind kind;
};

/* The law took effect on 1948-07-20: only three holidays that year. */
static const struct exp_holiday y1948[] = {
    {9, 23, "秋分の日", N},
    {11, 3, "文化の日", N},
    {11, 23, "勤労感謝の日", N},
};

/* 皇太子明仁親王の結婚の儀; 5/3 is a Sunday, but no 振替休日 before 1973. */
static const struct exp_holiday y1959[] = {
    {1, 1, "元日", N},		 {1, 15, "成人の日", N},   {3, 21, "春分の日", N},
    {4, 10, "結婚の儀", SPE},	 {4, 29, "天皇誕生日", N}, {5, 3, "憲法記念日", N},
    {5, 5, "こどもの日", N},	 {9, 24, "秋分の日", N},   {11, 3, "文化の日", N},
    {11, 23, "勤労感謝の日", N},
};

/* 春分 on Sunday 3/20 (floor division: 1960 is before 1980). */
static const struct exp_holiday y1960[] = {
    {1, 1, "元日", N},	      {1, 15, "成人の日", N},  {3, 20, "春分の日", N},
    {4, 29, "天皇誕生日", N}, {5, 3, "憲法記念日", N}, {5, 5, "こどもの日", N},
    {9, 23, "秋分の日", N},   {11, 3, "文化の日", N},  {11, 23, "勤労感謝の日", N},
};

/* 敬老の日 9/15 and 体育の日 10/10 from 1966; no 建国記念の日 yet. */
static const struct exp_holiday y1966[] = {
    {1, 1, "元日", N},	      {1, 15, "成人の日", N},	   {3, 21, "春分の日", N},
    {4, 29, "天皇誕生日", N}, {5, 3, "憲法記念日", N},	   {5, 5, "こどもの日", N},
    {9, 15, "敬老の日", N},   {9, 23, "秋分の日", N},	   {10, 10, "体育の日", N},
    {11, 3, "文化の日", N},   {11, 23, "勤労感謝の日", N},
};

/* 建国記念の日 from 1967; Sunday holidays (1/1, 1/15, 9/24) have no
 * substitute yet. */
static const struct exp_holiday y1967[] = {
    {1, 1, "元日", N},	     {1, 15, "成人の日", N},   {2, 11, "建国記念の日", N},
    {3, 21, "春分の日", N},  {4, 29, "天皇誕生日", N}, {5, 3, "憲法記念日", N},
    {5, 5, "こどもの日", N}, {9, 15, "敬老の日", N},   {9, 24, "秋分の日", N},
    {10, 10, "体育の日", N}, {11, 3, "文化の日", N},   {11, 23, "勤労感謝の日", N},
};

/* 振替休日 from 1973-04-12: 2/11 (Sunday) gets none, 4/29 and 9/23 do. */
static const struct exp_holiday y1973[] = {
    {1, 1, "元日", N},	     {1, 15, "成人の日", N},	  {2, 11, "建国記念の日", N},
    {3, 21, "春分の日", N},  {4, 29, "天皇誕生日", N},	  {4, 30, "休日", SUB},
    {5, 3, "憲法記念日", N}, {5, 5, "こどもの日", N},	  {9, 15, "敬老の日", N},
    {9, 23, "秋分の日", N},  {9, 24, "休日", SUB},	  {10, 10, "体育の日", N},
    {11, 3, "文化の日", N},  {11, 23, "勤労感謝の日", N},
};

/* 1979: 春分 3/21 and 秋分 9/24 need floor division (t = -1). */
static const struct exp_holiday y1979[] = {
    {1, 1, "元日", N},	    {1, 15, "成人の日", N},	 {2, 11, "建国記念の日", N},
    {2, 12, "休日", SUB},   {3, 21, "春分の日", N},	 {4, 29, "天皇誕生日", N},
    {4, 30, "休日", SUB},   {5, 3, "憲法記念日", N},	 {5, 5, "こどもの日", N},
    {9, 15, "敬老の日", N}, {9, 24, "秋分の日", N},	 {10, 10, "体育の日", N},
    {11, 3, "文化の日", N}, {11, 23, "勤労感謝の日", N},
};

/* 1985: 国民の休日 only from 1985-12-27, so Saturday 5/4 is ordinary. */
static const struct exp_holiday y1985[] = {
    {1, 1, "元日", N},	     {1, 15, "成人の日", N},   {2, 11, "建国記念の日", N},
    {3, 21, "春分の日", N},  {4, 29, "天皇誕生日", N}, {5, 3, "憲法記念日", N},
    {5, 5, "こどもの日", N}, {5, 6, "休日", SUB},      {9, 15, "敬老の日", N},
    {9, 16, "休日", SUB},    {9, 23, "秋分の日", N},   {10, 10, "体育の日", N},
    {11, 3, "文化の日", N},  {11, 4, "休日", SUB},     {11, 23, "勤労感謝の日", N},
};

/* 1986: 5/4 is a Sunday, so not a 国民の休日 (before 2007). */
static const struct exp_holiday y1986[] = {
    {1, 1, "元日", N},	     {1, 15, "成人の日", N},   {2, 11, "建国記念の日", N},
    {3, 21, "春分の日", N},  {4, 29, "天皇誕生日", N}, {5, 3, "憲法記念日", N},
    {5, 5, "こどもの日", N}, {9, 15, "敬老の日", N},   {9, 23, "秋分の日", N},
    {10, 10, "体育の日", N}, {11, 3, "文化の日", N},   {11, 23, "勤労感謝の日", N},
    {11, 24, "休日", SUB},
};

/* 1987: 5/3 is a Sunday, so 5/4 is a 振替休日, not a 国民の休日. */
static const struct exp_holiday y1987[] = {
    {1, 1, "元日", N},		 {1, 15, "成人の日", N},   {2, 11, "建国記念の日", N},
    {3, 21, "春分の日", N},	 {4, 29, "天皇誕生日", N}, {5, 3, "憲法記念日", N},
    {5, 4, "休日", SUB},	 {5, 5, "こどもの日", N},  {9, 15, "敬老の日", N},
    {9, 23, "秋分の日", N},	 {10, 10, "体育の日", N},  {11, 3, "文化の日", N},
    {11, 23, "勤労感謝の日", N},
};

/* 1988: the first 国民の休日 (Wednesday 5/4). */
static const struct exp_holiday y1988[] = {
    {1, 1, "元日", N},	     {1, 15, "成人の日", N},	  {2, 11, "建国記念の日", N},
    {3, 20, "春分の日", N},  {3, 21, "休日", SUB},	  {4, 29, "天皇誕生日", N},
    {5, 3, "憲法記念日", N}, {5, 4, "休日", CIT},	  {5, 5, "こどもの日", N},
    {9, 15, "敬老の日", N},  {9, 23, "秋分の日", N},	  {10, 10, "体育の日", N},
    {11, 3, "文化の日", N},  {11, 23, "勤労感謝の日", N},
};

/* 1989: 大喪の礼, 4/29 becomes みどりの日, 天皇誕生日 moves to 12/23. */
static const struct exp_holiday y1989[] = {
    {1, 1, "元日", N},		 {1, 2, "休日", SUB},	     {1, 15, "成人の日", N},
    {1, 16, "休日", SUB},	 {2, 11, "建国記念の日", N}, {2, 24, "大喪の礼", SPE},
    {3, 21, "春分の日", N},	 {4, 29, "みどりの日", N},   {5, 3, "憲法記念日", N},
    {5, 4, "休日", CIT},	 {5, 5, "こどもの日", N},    {9, 15, "敬老の日", N},
    {9, 23, "秋分の日", N},	 {10, 10, "体育の日", N},    {11, 3, "文化の日", N},
    {11, 23, "勤労感謝の日", N}, {12, 23, "天皇誕生日", N},
};

/* 1990: 即位礼正殿の儀. */
static const struct exp_holiday y1990[] = {
    {1, 1, "元日", N},		 {1, 15, "成人の日", N},
    {2, 11, "建国記念の日", N},	 {2, 12, "休日", SUB},
    {3, 21, "春分の日", N},	 {4, 29, "みどりの日", N},
    {4, 30, "休日", SUB},	 {5, 3, "憲法記念日", N},
    {5, 4, "休日", CIT},	 {5, 5, "こどもの日", N},
    {9, 15, "敬老の日", N},	 {9, 23, "秋分の日", N},
    {9, 24, "休日", SUB},	 {10, 10, "体育の日", N},
    {11, 3, "文化の日", N},	 {11, 12, "即位礼正殿の儀", SPE},
    {11, 23, "勤労感謝の日", N}, {12, 23, "天皇誕生日", N},
    {12, 24, "休日", SUB},
};

/* 1993: 皇太子徳仁親王の結婚の儀. */
static const struct exp_holiday y1993[] = {
    {1, 1, "元日", N},	       {1, 15, "成人の日", N},	 {2, 11, "建国記念の日", N},
    {3, 20, "春分の日", N},    {4, 29, "みどりの日", N}, {5, 3, "憲法記念日", N},
    {5, 4, "休日", CIT},       {5, 5, "こどもの日", N},	 {6, 9, "結婚の儀", SPE},
    {9, 15, "敬老の日", N},    {9, 23, "秋分の日", N},	 {10, 10, "体育の日", N},
    {10, 11, "休日", SUB},     {11, 3, "文化の日", N},	 {11, 23, "勤労感謝の日", N},
    {12, 23, "天皇誕生日", N},
};

/* 2006: the last year of the old wording; Happy Monday for all four. */
static const struct exp_holiday y2006[] = {
    {1, 1, "元日", N},		{1, 2, "休日", SUB},	{1, 9, "成人の日", N},
    {2, 11, "建国記念の日", N}, {3, 21, "春分の日", N}, {4, 29, "みどりの日", N},
    {5, 3, "憲法記念日", N},	{5, 4, "休日", CIT},	{5, 5, "こどもの日", N},
    {7, 17, "海の日", N},	{9, 18, "敬老の日", N}, {9, 23, "秋分の日", N},
    {10, 9, "体育の日", N},	{11, 3, "文化の日", N}, {11, 23, "勤労感謝の日", N},
    {12, 23, "天皇誕生日", N},
};

/* 2007: 昭和の日 4/29, みどりの日 5/4. */
static const struct exp_holiday y2007[] = {
    {1, 1, "元日", N},	     {1, 8, "成人の日", N},	  {2, 11, "建国記念の日", N},
    {2, 12, "休日", SUB},    {3, 21, "春分の日", N},	  {4, 29, "昭和の日", N},
    {4, 30, "休日", SUB},    {5, 3, "憲法記念日", N},	  {5, 4, "みどりの日", N},
    {5, 5, "こどもの日", N}, {7, 16, "海の日", N},	  {9, 17, "敬老の日", N},
    {9, 23, "秋分の日", N},  {9, 24, "休日", SUB},	  {10, 8, "体育の日", N},
    {11, 3, "文化の日", N},  {11, 23, "勤労感謝の日", N}, {12, 23, "天皇誕生日", N},
    {12, 24, "休日", SUB},
};

/* 2008: 5/4 (Sunday) is substituted by 5/6, the next non-holiday. */
static const struct exp_holiday y2008[] = {
    {1, 1, "元日", N},	     {1, 14, "成人の日", N},	{2, 11, "建国記念の日", N},
    {3, 20, "春分の日", N},  {4, 29, "昭和の日", N},	{5, 3, "憲法記念日", N},
    {5, 4, "みどりの日", N}, {5, 5, "こどもの日", N},	{5, 6, "休日", SUB},
    {7, 21, "海の日", N},    {9, 15, "敬老の日", N},	{9, 23, "秋分の日", N},
    {10, 13, "体育の日", N}, {11, 3, "文化の日", N},	{11, 23, "勤労感謝の日", N},
    {11, 24, "休日", SUB},   {12, 23, "天皇誕生日", N},
};

/* 2009: the first autumn 国民の休日 (9/22); 5/3 (Sunday) -> 5/6. */
static const struct exp_holiday y2009[] = {
    {1, 1, "元日", N},		 {1, 12, "成人の日", N},    {2, 11, "建国記念の日", N},
    {3, 20, "春分の日", N},	 {4, 29, "昭和の日", N},    {5, 3, "憲法記念日", N},
    {5, 4, "みどりの日", N},	 {5, 5, "こどもの日", N},   {5, 6, "休日", SUB},
    {7, 20, "海の日", N},	 {9, 21, "敬老の日", N},    {9, 22, "休日", CIT},
    {9, 23, "秋分の日", N},	 {10, 12, "体育の日", N},   {11, 3, "文化の日", N},
    {11, 23, "勤労感謝の日", N}, {12, 23, "天皇誕生日", N},
};

/* 2016: the first 山の日; 秋分 9/22. */
static const struct exp_holiday y2016[] = {
    {1, 1, "元日", N},		 {1, 11, "成人の日", N},    {2, 11, "建国記念の日", N},
    {3, 20, "春分の日", N},	 {3, 21, "休日", SUB},	    {4, 29, "昭和の日", N},
    {5, 3, "憲法記念日", N},	 {5, 4, "みどりの日", N},   {5, 5, "こどもの日", N},
    {7, 18, "海の日", N},	 {8, 11, "山の日", N},	    {9, 19, "敬老の日", N},
    {9, 22, "秋分の日", N},	 {10, 10, "体育の日", N},   {11, 3, "文化の日", N},
    {11, 23, "勤労感謝の日", N}, {12, 23, "天皇誕生日", N},
};

/* 2018: the last 12/23 天皇誕生日 (a Sunday, so 12/24 too). */
static const struct exp_holiday y2018[] = {
    {1, 1, "元日", N},	       {1, 8, "成人の日", N},	{2, 11, "建国記念の日", N},
    {2, 12, "休日", SUB},      {3, 21, "春分の日", N},	{4, 29, "昭和の日", N},
    {4, 30, "休日", SUB},      {5, 3, "憲法記念日", N}, {5, 4, "みどりの日", N},
    {5, 5, "こどもの日", N},   {7, 16, "海の日", N},	{8, 11, "山の日", N},
    {9, 17, "敬老の日", N},    {9, 23, "秋分の日", N},	{9, 24, "休日", SUB},
    {10, 8, "体育の日", N},    {11, 3, "文化の日", N},	{11, 23, "勤労感謝の日", N},
    {12, 23, "天皇誕生日", N}, {12, 24, "休日", SUB},
};

/* 2019: 22 days; no 天皇誕生日. 5/1 and 10/22 count as national holidays
 * (平成30年法律第99号), so 4/30 and 5/2 are 国民の休日. */
static const struct exp_holiday y2019[] = {
    {1, 1, "元日", N},
    {1, 14, "成人の日", N},
    {2, 11, "建国記念の日", N},
    {3, 21, "春分の日", N},
    {4, 29, "昭和の日", N},
    {4, 30, "休日", CIT},
    {5, 1, "休日（祝日扱い）", N},
    {5, 2, "休日", CIT},
    {5, 3, "憲法記念日", N},
    {5, 4, "みどりの日", N},
    {5, 5, "こどもの日", N},
    {5, 6, "休日", SUB},
    {7, 15, "海の日", N},
    {8, 11, "山の日", N},
    {8, 12, "休日", SUB},
    {9, 16, "敬老の日", N},
    {9, 23, "秋分の日", N},
    {10, 14, "体育の日（スポーツの日）", N},
    {10, 22, "休日（祝日扱い）", N},
    {11, 3, "文化の日", N},
    {11, 4, "休日", SUB},
    {11, 23, "勤労感謝の日", N},
};

/* 2020: 天皇誕生日 2/23; Olympic moves 7/23, 7/24, 8/10. */
static const struct exp_holiday y2020[] = {
    {1, 1, "元日", N},		{1, 13, "成人の日", N},	 {2, 11, "建国記念の日", N},
    {2, 23, "天皇誕生日", N},	{2, 24, "休日", SUB},	 {3, 20, "春分の日", N},
    {4, 29, "昭和の日", N},	{5, 3, "憲法記念日", N}, {5, 4, "みどりの日", N},
    {5, 5, "こどもの日", N},	{5, 6, "休日", SUB},	 {7, 23, "海の日", N},
    {7, 24, "スポーツの日", N}, {8, 10, "山の日", N},	 {9, 21, "敬老の日", N},
    {9, 22, "秋分の日", N},	{11, 3, "文化の日", N},	 {11, 23, "勤労感謝の日", N},
};

/* 2021: Olympic moves 7/22, 7/23, 8/8 (Sunday) + 8/9 振替休日. */
static const struct exp_holiday y2021[] = {
    {1, 1, "元日", N},	      {1, 11, "成人の日", N},	   {2, 11, "建国記念の日", N},
    {2, 23, "天皇誕生日", N}, {3, 20, "春分の日", N},	   {4, 29, "昭和の日", N},
    {5, 3, "憲法記念日", N},  {5, 4, "みどりの日", N},	   {5, 5, "こどもの日", N},
    {7, 22, "海の日", N},     {7, 23, "スポーツの日", N},  {8, 8, "山の日", N},
    {8, 9, "休日", SUB},      {9, 20, "敬老の日", N},	   {9, 23, "秋分の日", N},
    {11, 3, "文化の日", N},   {11, 23, "勤労感謝の日", N},
};

/* 2026: 5/6 振替休日 (for Sunday 5/3), 9/22 国民の休日. */
static const struct exp_holiday y2026[] = {
    {1, 1, "元日", N},		 {1, 12, "成人の日", N},  {2, 11, "建国記念の日", N},
    {2, 23, "天皇誕生日", N},	 {3, 20, "春分の日", N},  {4, 29, "昭和の日", N},
    {5, 3, "憲法記念日", N},	 {5, 4, "みどりの日", N}, {5, 5, "こどもの日", N},
    {5, 6, "休日", SUB},	 {7, 20, "海の日", N},	  {8, 11, "山の日", N},
    {9, 21, "敬老の日", N},	 {9, 22, "休日", CIT},	  {9, 23, "秋分の日", N},
    {10, 12, "スポーツの日", N}, {11, 3, "文化の日", N},  {11, 23, "勤労感謝の日", N},
};

/* 2099: the last supported year (same calendar as 2026). */
static const struct exp_holiday y2099[] = {
    {1, 1, "元日", N},		 {1, 12, "成人の日", N},  {2, 11, "建国記念の日", N},
    {2, 23, "天皇誕生日", N},	 {3, 20, "春分の日", N},  {4, 29, "昭和の日", N},
    {5, 3, "憲法記念日", N},	 {5, 4, "みどりの日", N}, {5, 5, "こどもの日", N},
    {5, 6, "休日", SUB},	 {7, 20, "海の日", N},	  {8, 11, "山の日", N},
    {9, 21, "敬老の日", N},	 {9, 22, "休日", CIT},	  {9, 23, "秋分の日", N},
    {10, 12, "スポーツの日", N}, {11, 3, "文化の日", N},  {11, 23, "勤労感謝の日", N},
};

static const struct {
	int year;
	const struct exp_holiday *h;
	size_t n;
} years[] = {
    {1948, y1948, ARRAY_LEN(y1948)}, {1959, y1959, ARRAY_LEN(y1959)},
    {1960, y1960, ARRAY_LEN(y1960)}, {1966, y1966, ARRAY_LEN(y1966)},
    {1967, y1967, ARRAY_LEN(y1967)}, {1973, y1973, ARRAY_LEN(y1973)},
    {1979, y1979, ARRAY_LEN(y1979)}, {1985, y1985, ARRAY_LEN(y1985)},
    {1986, y1986, ARRAY_LEN(y1986)}, {1987, y1987, ARRAY_LEN(y1987)},
    {1988, y1988, ARRAY_LEN(y1988)}, {1989, y1989, ARRAY_LEN(y1989)},
    {1990, y1990, ARRAY_LEN(y1990)}, {1993, y1993, ARRAY_LEN(y1993)},
    {2006, y2006, ARRAY_LEN(y2006)}, {2007, y2007, ARRAY_LEN(y2007)},
    {2008, y2008, ARRAY_LEN(y2008)}, {2009, y2009, ARRAY_LEN(y2009)},
    {2016, y2016, ARRAY_LEN(y2016)}, {2018, y2018, ARRAY_LEN(y2018)},
    {2019, y2019, ARRAY_LEN(y2019)}, {2020, y2020, ARRAY_LEN(y2020)},
    {2021, y2021, ARRAY_LEN(y2021)}, {2026, y2026, ARRAY_LEN(y2026)},
    {2099, y2099, ARRAY_LEN(y2099)},
};

static void test_year_lists(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(years); i++) {
		struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
		size_t n = 0;
		int y = years[i].year;
		assert_int_equal(jpki_holidays_in_year(y, h, &n), JPKI_OK);
		for (size_t k = 0; k < years[i].n && k < n; k++) {
			const struct exp_holiday *e = &years[i].h[k];
			char buf[JPKI_DATE_BUFSZ];
			if (h[k].day != D(y, e->m, e->d))
				fail_msg("%d #%zu: %s, expected %d-%02d-%02d %s", y, k,
					 jpki_date_format(h[k].day, buf), y, e->m, e->d,
					 e->name);
			if (h[k].name == NULL || strcmp(h[k].name, e->name) != 0)
				fail_msg("%d-%02d-%02d: name '%s', expected '%s'", y,
					 e->m, e->d, h[k].name ? h[k].name : "(null)",
					 e->name);
			if (h[k].kind != e->kind)
				fail_msg("%d-%02d-%02d: kind %d, expected %d", y, e->m,
					 e->d, (int)h[k].kind, (int)e->kind);
		}
		if (n != years[i].n)
			fail_msg("%d: %zu holidays, expected %zu", y, n, years[i].n);
	}
}

/* jpki_holiday_on agrees with the tables, kind included. */
static void test_holiday_on_tables(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(years); i++) {
		for (size_t k = 0; k < years[i].n; k++) {
			const struct exp_holiday *e = &years[i].h[k];
			struct jpki_holiday h;
			memset(&h, 0xa5, sizeof h);
			assert_int_equal(
			    jpki_holiday_on(D(years[i].year, e->m, e->d), &h), JPKI_OK);
			assert_non_null(h.name);
			assert_string_equal(h.name, e->name);
			assert_int_equal(h.kind, e->kind);
			assert_int_equal(h.day, D(years[i].year, e->m, e->d));
		}
	}
}

/* Spring/autumn equinox days (DOMAIN §1 formula, floor division). */
static void test_equinoxes(void **state)
{
	static const struct {
		int year, spring, autumn; /* spring 0: before the law began */
	} cases[] = {
	    {1948, 0, 23},  {1949, 21, 23}, {1955, 21, 24}, {1960, 20, 23},
	    {1975, 21, 24}, {1979, 21, 24}, {1980, 20, 23}, {1988, 20, 23},
	    {2012, 20, 22}, {2016, 20, 22}, {2026, 20, 23}, {2044, 20, 22},
	    {2092, 19, 22}, {2099, 20, 23},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
		size_t n = 0;
		jpki_day spring = JPKI_DAY_NONE, autumn = JPKI_DAY_NONE;
		int y = cases[i].year;
		assert_int_equal(jpki_holidays_in_year(y, h, &n), JPKI_OK);
		for (size_t k = 0; k < n; k++) {
			if (strcmp(h[k].name, "春分の日") == 0)
				spring = h[k].day;
			if (strcmp(h[k].name, "秋分の日") == 0)
				autumn = h[k].day;
		}
		if (cases[i].spring == 0)
			assert_int_equal(spring, JPKI_DAY_NONE);
		else if (spring != D(y, 3, cases[i].spring))
			fail_msg("%d: 春分の日 not on 3/%d", y, cases[i].spring);
		if (autumn != D(y, 9, cases[i].autumn))
			fail_msg("%d: 秋分の日 not on 9/%d", y, cases[i].autumn);
	}
}

static void test_holiday_on(void **state)
{
	static const struct {
		int y, m, d;
		jpki_err err;
		const char *name; /* NULL: an ordinary day */
		enum jpki_holiday_kind kind;
	} cases[] = {
	    {2026, 1, 1, JPKI_OK, "元日", N},
	    {2026, 5, 6, JPKI_OK, "休日", SUB},
	    {2026, 9, 22, JPKI_OK, "休日", CIT},
	    {1959, 4, 10, JPKI_OK, "結婚の儀", SPE},
	    {1989, 2, 24, JPKI_OK, "大喪の礼", SPE},
	    {1990, 11, 12, JPKI_OK, "即位礼正殿の儀", SPE},
	    {1993, 6, 9, JPKI_OK, "結婚の儀", SPE},
	    {2019, 5, 1, JPKI_OK, "休日（祝日扱い）", N},
	    {2021, 8, 9, JPKI_OK, "休日", SUB},
	    {2099, 11, 23, JPKI_OK, "勤労感謝の日", N},
	    {1948, 9, 23, JPKI_OK, "秋分の日", N},
	    /* ordinary days */
	    {2026, 5, 7, JPKI_OK, NULL, N},
	    {2026, 2, 21, JPKI_OK, NULL, N},
	    {1973, 2, 12, JPKI_OK, NULL, N},  /* before 振替休日 existed */
	    {1986, 5, 4, JPKI_OK, NULL, N},   /* a Sunday sandwich, pre-2007 */
	    {2019, 12, 23, JPKI_OK, NULL, N}, /* no 天皇誕生日 in 2019 */
	    {2020, 7, 20, JPKI_OK, NULL, N},  /* 海の日 moved to 7/23 */
	    {2020, 10, 12, JPKI_OK, NULL, N}, /* スポーツの日 moved to 7/24 */
	    {2021, 8, 11, JPKI_OK, NULL, N},  /* 山の日 moved to 8/8 */
	    {2099, 12, 31, JPKI_OK, NULL, N},
	    /* before the law: never a holiday, but not an error */
	    {1948, 1, 1, JPKI_OK, NULL, N},
	    {1948, 5, 5, JPKI_OK, NULL, N},
	    {1948, 7, 19, JPKI_OK, NULL, N},
	    {1948, 7, 20, JPKI_OK, NULL, N},
	    {1900, 1, 1, JPKI_OK, NULL, N},
	    {1868, 1, 1, JPKI_OK, NULL, N},
	    /* negative: after 2099 the holidays are unknown */
	    {2100, 1, 1, JPKI_ERR_RANGE, NULL, N},
	    {2199, 12, 31, JPKI_ERR_RANGE, NULL, N},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_holiday h;
		memset(&h, 0xa5, sizeof h);
		jpki_day d = D(cases[i].y, cases[i].m, cases[i].d);
		jpki_err e = jpki_holiday_on(d, &h);
		if (e != cases[i].err)
			fail_msg("%d-%02d-%02d: error %d, expected %d", cases[i].y,
				 cases[i].m, cases[i].d, (int)e, (int)cases[i].err);
		/* The output is optional. */
		assert_int_equal(jpki_holiday_on(d, NULL), cases[i].err);
		if (e != JPKI_OK)
			continue;
		if (cases[i].name == NULL) {
			if (h.name != NULL)
				fail_msg("%d-%02d-%02d: '%s', expected no holiday",
					 cases[i].y, cases[i].m, cases[i].d, h.name);
			continue;
		}
		if (h.name == NULL || strcmp(h.name, cases[i].name) != 0)
			fail_msg("%d-%02d-%02d: '%s', expected '%s'", cases[i].y,
				 cases[i].m, cases[i].d, h.name ? h.name : "(null)",
				 cases[i].name);
		assert_int_equal(h.kind, cases[i].kind);
		assert_int_equal(h.day, d);
	}
	/* Outside the supported date range altogether. */
	assert_int_equal(jpki_holiday_on(JPKI_DAY_MIN - 1, NULL), JPKI_ERR_RANGE);
	assert_int_equal(jpki_holiday_on(JPKI_DAY_MAX + 1, NULL), JPKI_ERR_RANGE);
}

static void test_holidays_in_year_range(void **state)
{
	static const int bad[] = {1947, 2100, 1868, 2199, 0, -1};
	static const int good[] = {1948, 2099};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
		size_t n = 0;
		assert_int_equal(jpki_holidays_in_year(bad[i], h, &n), JPKI_ERR_RANGE);
	}
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
		size_t n = 0;
		assert_int_equal(jpki_holidays_in_year(good[i], h, &n), JPKI_OK);
		assert_true(n > 0);
	}
}

/* Every year 1948..2099: sorted, no duplicates, inside the year, not before
 * 1948-07-20, named, at most JPKI_HOLIDAYS_MAX, and jpki_holiday_on agrees
 * with the list on every day of the year (across its per-thread memo). */
static void test_every_year_consistent(void **state)
{
	(void)state;
	for (int y = 1948; y <= 2099; y++) {
		struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
		size_t n = 0;
		assert_int_equal(jpki_holidays_in_year(y, h, &n), JPKI_OK);
		assert_true(n <= JPKI_HOLIDAYS_MAX);
		/* 9 national holidays a year from 1949, more later. */
		if (y >= 1949 && n < 9)
			fail_msg("%d: only %zu holidays", y, n);
		for (size_t k = 0; k < n; k++) {
			int hy, hm, hd;
			jpki_day_to_ymd(h[k].day, &hy, &hm, &hd);
			if (hy != y)
				fail_msg("%d: holiday %zu is in %d", y, k, hy);
			if (h[k].day < D(1948, 7, 20))
				fail_msg("%d: holiday before the law", y);
			if (h[k].name == NULL || h[k].name[0] == '\0')
				fail_msg("%d: holiday %zu has no name", y, k);
			if (k > 0 && h[k].day <= h[k - 1].day)
				fail_msg("%d: not sorted or duplicated at %zu", y, k);
		}
		jpki_day first = D(y, 1, 1), last = D(y, 12, 31);
		size_t k = 0;
		for (jpki_day d = first; d <= last; d++) {
			struct jpki_holiday one = {0, NULL, N};
			assert_int_equal(jpki_holiday_on(d, &one), JPKI_OK);
			bool listed = k < n && h[k].day == d;
			if (listed != (one.name != NULL)) {
				char buf[JPKI_DATE_BUFSZ];
				fail_msg("%s: holiday_on and holidays_in_year disagree",
					 jpki_date_format(d, buf));
			}
			if (listed) {
				assert_string_equal(one.name, h[k].name);
				assert_int_equal(one.kind, h[k].kind);
				k++;
			}
		}
	}
}

/* Rules of the law that hold every year (DOMAIN §1), checked on the lists:
 * fixed days, Happy Monday days on Mondays, and 振替休日 after every Sunday
 * national holiday from 1973-04-12 on. */
static void test_rules_every_year(void **state)
{
	(void)state;
	for (int y = 1949; y <= 2099; y++) {
		struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
		size_t n = 0;
		assert_int_equal(jpki_holidays_in_year(y, h, &n), JPKI_OK);
		struct jpki_holiday one = {0, NULL, N};
		assert_int_equal(jpki_holiday_on(D(y, 1, 1), &one), JPKI_OK);
		assert_non_null(one.name);
		assert_string_equal(one.name, "元日");
		assert_int_equal(jpki_holiday_on(D(y, 11, 3), &one), JPKI_OK);
		assert_string_equal(one.name, "文化の日");
		assert_int_equal(jpki_holiday_on(D(y, 11, 23), &one), JPKI_OK);
		assert_string_equal(one.name, "勤労感謝の日");
		for (size_t k = 0; k < n; k++) {
			const char *name = h[k].name;
			int wd = jpki_weekday(h[k].day);
			bool monday_rule =
			    (y >= 2000 && strcmp(name, "成人の日") == 0) ||
			    (y >= 2000 && y <= 2019 &&
			     strncmp(name, "体育の日", strlen("体育の日")) == 0) ||
			    (y >= 2022 && strcmp(name, "スポーツの日") == 0) ||
			    (y >= 2003 && y != 2020 && y != 2021 &&
			     strcmp(name, "海の日") == 0) ||
			    (y >= 2003 && strcmp(name, "敬老の日") == 0);
			if (monday_rule && wd != 1)
				fail_msg("%d: %s is not on a Monday", y, name);
			/* 振替休日: a national holiday on a Sunday from 1973-04-12
			 * makes the next non-holiday a 休日 (from 2007: the next
			 * day that is not a national holiday). */
			if (h[k].kind == N && wd == 0 && h[k].day >= D(1973, 4, 12)) {
				jpki_day s = h[k].day + 1;
				while (jpki_holiday_on(s, &one) == JPKI_OK &&
				       one.name != NULL && one.kind == N)
					s++;
				assert_int_equal(jpki_holiday_on(s, &one), JPKI_OK);
				if (one.name == NULL || one.kind != SUB) {
					char buf[JPKI_DATE_BUFSZ];
					fail_msg("%s: no 振替休日 after Sunday %s",
						 jpki_date_format(s, buf), name);
				}
			}
			/* No 振替休日 or 国民の休日 before their laws. */
			if (h[k].kind == SUB && h[k].day < D(1973, 4, 13))
				fail_msg("%d: 振替休日 before 1973-04-12", y);
			if (h[k].kind == CIT && h[k].day < D(1985, 12, 27))
				fail_msg("%d: 国民の休日 before 1985-12-27", y);
			if ((h[k].kind == SUB || h[k].kind == CIT) &&
			    strcmp(name, "休日") != 0)
				fail_msg("%d: a 振替休日/国民の休日 named '%s'", y,
					 name);
		}
		/* 天皇誕生日: 4/29 until 1988, 12/23 1989-2018, none in 2019,
		 * 2/23 from 2020. */
		jpki_day emperor = y < 1989    ? D(y, 4, 29)
				   : y <= 2018 ? D(y, 12, 23)
				   : y >= 2020 ? D(y, 2, 23)
					       : JPKI_DAY_NONE;
		size_t count = 0;
		for (size_t k = 0; k < n; k++) {
			if (strcmp(h[k].name, "天皇誕生日") != 0)
				continue;
			count++;
			assert_int_equal(h[k].day, emperor);
		}
		assert_int_equal(count, emperor == JPKI_DAY_NONE ? 0 : 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_year_lists),
	    cmocka_unit_test(test_holiday_on_tables),
	    cmocka_unit_test(test_equinoxes),
	    cmocka_unit_test(test_holiday_on),
	    cmocka_unit_test(test_holidays_in_year_range),
	    cmocka_unit_test(test_every_year_consistent),
	    cmocka_unit_test(test_rules_every_year),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
