/* openjpki — ages, birthdays, certificate and card validity, renewal
 * windows and eligibility (DOMAIN §1, §2).
 *
 * Pure functions of their arguments: "today" is always a parameter.
 */
#ifndef JPKI_VALIDITY_H
#define JPKI_VALIDITY_H

#include <stdbool.h>

#include "jpki/date.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a Feb 29 birthday falls in a common year [decision, DOMAIN §1]. */
enum jpki_feb29 {
	JPKI_FEB29_FEB28 = 0, /* default */
	JPKI_FEB29_MAR1 = 1,
};

/* The birthday of someone born on `birth` in `year`, with the Feb 29 policy. */
jpki_day jpki_birthday_in_year(jpki_day birth, int year, enum jpki_feb29 p);

/* The nth (n >= 1) birthday strictly after `after`: a birthday on `after`
 * itself does not count (発行の日後の5回目の誕生日). JPKI_ERR_RANGE if the
 * result leaves the supported range, JPKI_ERR_INVALID for n < 1. */
jpki_err jpki_nth_birthday_after(jpki_day birth, jpki_day after, int n,
				 enum jpki_feb29 p, jpki_day *out);

/* Age counting whole years by (month, day): a Feb 29 birth becomes a year
 * older on Mar 1 in common years. Negative if on < birth. */
int jpki_ordinary_age(jpki_day birth, jpki_day on);

/* Legal age (年齢計算ニ関スル法律, 民法143条): a person reaches age N at the
 * end of the day before the Nth birthday, so legal_age(D) =
 * ordinary_age(D + 1). Born 2011-04-01: 15 on 2026-03-31. */
int jpki_legal_age(jpki_day birth, jpki_day on);

/* ---- renewal window (DOMAIN §2, seeds 002 and 004) ---- */

/* From the day after the date three months before expiry (month-end
 * clamped) to the expiry day inclusive: 5/20 -> 2/21..5/20, 3/24 ->
 * 12/25..3/24, 5/31 -> 3/1..5/31. */
jpki_err jpki_renewal_window(jpki_day expires, jpki_day *first, jpki_day *last);

enum jpki_window_state {
	JPKI_WINDOW_NOT_YET = 0, /* renewing now gives a shorter certificate */
	JPKI_WINDOW_OPEN = 1,
	JPKI_WINDOW_EXPIRED = 2, /* a fresh, free issuance while the card is valid */
};
jpki_err jpki_window_state_on(jpki_day expires, jpki_day on,
			      enum jpki_window_state *out);
const char *jpki_window_state_name(enum jpki_window_state s); /* "not_yet"... */

/* ---- certificate expiry (DOMAIN §2; seeds 000, 001, 003) ---- */

enum jpki_cert_kind {
	JPKI_CERT_SIGN = 0, /* 署名用電子証明書 */
	JPKI_CERT_AUTH = 1, /* 利用者証明用電子証明書 */
};

/* What bounded the expiry. On a tie the earlier one in this list is named. */
enum jpki_limit {
	JPKI_LIMIT_BIRTHDAY = 0,
	JPKI_LIMIT_CARD = 1,
	JPKI_LIMIT_AUTH = 2,
	JPKI_LIMIT_STAY = 3,
};
const char *jpki_limit_name(enum jpki_limit l); /* "birthday", "card", ... */

struct jpki_cert_request {
	enum jpki_cert_kind kind;
	jpki_day birth;
	jpki_day issued;
	jpki_day card_expires; /* JPKI_DAY_NONE: not given */
	jpki_day auth_expires; /* sign only: the auth certificate issued with it */
	jpki_day stay_expires; /* foreign residents: end of the period of stay */
	jpki_day renewing;     /* expiry of the certificate being replaced */
	enum jpki_feb29 feb29;
};

/* Initializes a request with every optional date set to JPKI_DAY_NONE. */
void jpki_cert_request_init(struct jpki_cert_request *r, enum jpki_cert_kind kind,
			    jpki_day birth, jpki_day issued);

struct jpki_cert_validity {
	jpki_day expires;
	enum jpki_limit limited_by;
	int nth_birthday; /* 5, or 6 when renewed inside the window */
	bool in_window;	  /* issued inside the renewing certificate's window */
	bool renewing;	  /* a renewing expiry was given */
	enum jpki_window_state window; /* of the renewing certificate on issue day */
};

/* The earliest of the 5th birthday after issue (6th when renewing inside
 * the window), the card's expiry, the auth certificate's (sign only) and
 * the end of the period of stay.
 * JPKI_ERR_INVALID: issued before birth, auth_expires on an auth request.
 * JPKI_ERR_REFUSED: a cap (card, auth, stay) ends before the issue day.
 * Eligibility is separate: see jpki_eligibility(). */
jpki_err jpki_cert_expiry(const struct jpki_cert_request *r,
			  struct jpki_cert_validity *out, struct jpki_errbuf *eb);

/* ---- card expiry (DOMAIN §2) ---- */

struct jpki_card_validity {
	jpki_day expires;
	enum jpki_limit limited_by; /* BIRTHDAY or STAY */
	int nth_birthday;	    /* 10 (adult at application) or 5 */
	int age_at_application;	    /* legal age on the application day */
	int adult_age;		    /* 18, or 20 for applications before 2022-04-01 */
};

/* The 10th birthday after issuance when the holder's legal age on the day
 * J-LIS receives the application is at least 18 (20 before 2022-04-01),
 * else the 5th; capped by the end of the period of stay.
 * JPKI_ERR_INVALID: applied before birth or after issued.
 * JPKI_ERR_REFUSED: the period of stay ends before the issue day. */
jpki_err jpki_card_expiry(jpki_day birth, jpki_day applied, jpki_day issued,
			  jpki_day stay_expires, enum jpki_feb29 p,
			  struct jpki_card_validity *out, struct jpki_errbuf *eb);

/* ---- eligibility (DOMAIN §2; seeds 001, 004) ---- */

enum jpki_ineligible {
	JPKI_ELIGIBLE = 0,
	JPKI_INELIGIBLE_UNDER_15 = 1, /* no signing certificate under 15 */
	JPKI_INELIGIBLE_WARD = 2,     /* adult ward without the ward present */
};

struct jpki_eligibility {
	enum jpki_ineligible sign; /* JPKI_ELIGIBLE when a signing cert may be issued */
	bool auth;		   /* always true: the auth certificate is available */
	bool auth_by_representative; /* under 15 or ward: the legal representative
					applies */
	int legal_age;
};

/* Who may have which certificate on day `on`. An adult ward (成年被後見人)
 * gets a signing certificate only when present at the counter with the
 * guardian [decision: seed 001 says "原則発行不可", seed 004 renews one with
 * the ward present]. */
void jpki_eligibility(jpki_day birth, jpki_day on, bool adult_ward, bool ward_present,
		      struct jpki_eligibility *out);
const char *jpki_ineligible_reason(enum jpki_ineligible r); /* English */

#ifdef __cplusplus
}
#endif
#endif
