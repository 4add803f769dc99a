/* openjpki — Japan's national holidays, 1948 to 2099.
 *
 * Follows 国民の祝日に関する法律 (from 1948-07-20) and its amendments year by
 * year, with the special laws for one-off days (DOMAIN §1). Names are the
 * strings of the Cabinet Office list (syukujitsu.csv) from 1955 on, quirks
 * included: 振替休日 and 国民の休日 are both "休日"; 2019-05-01 and
 * 2019-10-22 are "休日（祝日扱い）"; 2019-10-14 is "体育の日（スポーツの日）".
 * Names are static strings; callers never free them.
 */
#ifndef JPKI_HOLIDAY_H
#define JPKI_HOLIDAY_H

#include <stddef.h>

#include "jpki/date.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JPKI_HOLIDAY_YEAR_MIN 1948
#define JPKI_HOLIDAY_YEAR_MAX 2099
/* No year has more than 24 holidays of all kinds (2019 has 22). */
#define JPKI_HOLIDAYS_MAX 32

enum jpki_holiday_kind {
	JPKI_HOLIDAY_NATIONAL = 0, /* 国民の祝日 (and days the law treats as one) */
	JPKI_HOLIDAY_SUBSTITUTE = 1, /* 振替休日 (law art. 3(2), from 1973-04-12) */
	JPKI_HOLIDAY_CITIZENS = 2, /* 国民の休日 (law art. 3(3), from 1985-12-27) */
	JPKI_HOLIDAY_SPECIAL = 3, /* a 休日 by a special law (1959, 1989, 1990, 1993) */
};

struct jpki_holiday {
	jpki_day day;
	const char *name;
	enum jpki_holiday_kind kind;
};

/* All holidays of a year, sorted by date, into out; *n receives the count.
 * JPKI_ERR_RANGE outside 1948..2099. */
jpki_err jpki_holidays_in_year(int year,
			       struct jpki_holiday out[static JPKI_HOLIDAYS_MAX],
			       size_t *n);

/* Whether d is a holiday. On JPKI_OK, *h (optional) receives it, or has
 * name == NULL when d is an ordinary day. Days before 1948-07-20 are never
 * holidays under this law; days after 2099 are JPKI_ERR_RANGE (unknown).
 * Thread-safe; keeps a per-thread memo of the last year computed. */
jpki_err jpki_holiday_on(jpki_day d, struct jpki_holiday *h);

#ifdef __cplusplus
}
#endif
#endif
