/* Ages, birthdays, certificate and card validity, renewal windows,
 * eligibility (DOMAIN §1-2). Every rule cites its source. */
#include <string.h>

#include "jpki/validity.h"
#include "banned.h"

/* The birthday of a (bm, bd) birth in `year`. */
static jpki_day birthday_ymd(int bm, int bd, int year, enum jpki_feb29 p)
{
	if (bm == 2 && bd == 29 && !jpki_is_leap(year)) {
		/* DOMAIN §1 [decision]: Feb 28 by default, Mar 1 as an option. */
		if (p == JPKI_FEB29_MAR1)
			return jpki_day_from_ymd_unchecked(year, 3, 1);
		return jpki_day_from_ymd_unchecked(year, 2, 28);
	}
	return jpki_day_from_ymd_unchecked(year, bm, bd);
}

jpki_day jpki_birthday_in_year(jpki_day birth, int year, enum jpki_feb29 p)
{
	int by, bm, bd;
	jpki_day_to_ymd(birth, &by, &bm, &bd);
	return birthday_ymd(bm, bd, year, p);
}

jpki_err jpki_nth_birthday_after(jpki_day birth, jpki_day after, int n,
				 enum jpki_feb29 p, jpki_day *out)
{
	int by, bm, bd, ay, am, ad;
	if (n < 1 || n > 200)
		return JPKI_ERR_INVALID;
	if (!jpki_day_in_range(birth) || !jpki_day_in_range(after))
		return JPKI_ERR_RANGE;
	jpki_day_to_ymd(birth, &by, &bm, &bd);
	jpki_day_to_ymd(after, &ay, &am, &ad);
	/* Strictly after: a birthday on `after` itself is not counted. The
	 * comparison is by (month, day) in after's year, with the Feb 29
	 * policy applied to that year. */
	int y = ay;
	if (birthday_ymd(bm, bd, y, p) <= after)
		y++;
	jpki_day r = birthday_ymd(bm, bd, y + n - 1, p);
	if (!jpki_day_in_range(r))
		return JPKI_ERR_RANGE;
	*out = r;
	return JPKI_OK;
}

int jpki_ordinary_age(jpki_day birth, jpki_day on)
{
	int by, bm, bd, y, m, d;
	jpki_day_to_ymd(birth, &by, &bm, &bd);
	jpki_day_to_ymd(on, &y, &m, &d);
	int age = y - by;
	if (m < bm || (m == bm && d < bd))
		age--;
	return age;
}

int jpki_legal_age(jpki_day birth, jpki_day on)
{
	/* 年齢計算ニ関スル法律 + 民法143条: age N is reached at the end of the
	 * day before the Nth birthday (DOMAIN §1). */
	return jpki_ordinary_age(birth, on + 1);
}

/* ---- renewal window ---- */

jpki_err jpki_renewal_window(jpki_day expires, jpki_day *first, jpki_day *last)
{
	jpki_day back;
	/* Seeds 002, 004: "有効期限満了日の3か月前の翌日以降", month-end
	 * clamped (DOMAIN §2; 5/31 -> 2/28 -> 3/1). */
	jpki_err e = jpki_add_months(expires, -3, &back);
	if (e != JPKI_OK)
		return e;
	*first = back + 1;
	*last = expires;
	return JPKI_OK;
}

jpki_err jpki_window_state_on(jpki_day expires, jpki_day on,
			      enum jpki_window_state *out)
{
	jpki_day first, last;
	jpki_err e = jpki_renewal_window(expires, &first, &last);
	if (e != JPKI_OK)
		return e;
	if (on < first)
		*out = JPKI_WINDOW_NOT_YET;
	else if (on <= last)
		*out = JPKI_WINDOW_OPEN;
	else
		*out = JPKI_WINDOW_EXPIRED;
	return JPKI_OK;
}

const char *jpki_window_state_name(enum jpki_window_state s)
{
	switch (s) {
	case JPKI_WINDOW_NOT_YET:
		return "not_yet";
	case JPKI_WINDOW_OPEN:
		return "open";
	case JPKI_WINDOW_EXPIRED:
		return "expired";
	default:
		return "unknown";
	}
}

const char *jpki_limit_name(enum jpki_limit l)
{
	switch (l) {
	case JPKI_LIMIT_BIRTHDAY:
		return "birthday";
	case JPKI_LIMIT_CARD:
		return "card";
	case JPKI_LIMIT_AUTH:
		return "auth";
	case JPKI_LIMIT_STAY:
		return "stay";
	default:
		return "unknown";
	}
}

/* ---- certificate expiry ---- */

void jpki_cert_request_init(struct jpki_cert_request *r, enum jpki_cert_kind kind,
			    jpki_day birth, jpki_day issued)
{
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->birth = birth;
	r->issued = issued;
	r->card_expires = JPKI_DAY_NONE;
	r->auth_expires = JPKI_DAY_NONE;
	r->stay_expires = JPKI_DAY_NONE;
	r->renewing = JPKI_DAY_NONE;
	r->feb29 = JPKI_FEB29_FEB28;
}

static bool given(jpki_day d)
{
	return d != JPKI_DAY_NONE;
}

/* Lowers *best to cap when cap is earlier; ties keep the earlier limit. */
static jpki_err apply_cap(struct jpki_cert_validity *v, jpki_day cap,
			  enum jpki_limit why, jpki_day issued, struct jpki_errbuf *eb)
{
	char a[JPKI_DATE_BUFSZ], b[JPKI_DATE_BUFSZ];
	if (!given(cap))
		return JPKI_OK;
	if (!jpki_day_in_range(cap))
		return JPKI_ERR_RANGE;
	if (cap < issued)
		return jpki_errf(eb, JPKI_ERR_REFUSED,
				 "the %s ended on %s, before the issue day %s",
				 why == JPKI_LIMIT_CARD	  ? "card"
				 : why == JPKI_LIMIT_AUTH ? "auth certificate"
							  : "period of stay",
				 jpki_date_format(cap, a), jpki_date_format(issued, b));
	if (cap < v->expires) {
		v->expires = cap;
		v->limited_by = why;
	}
	return JPKI_OK;
}

jpki_err jpki_cert_expiry(const struct jpki_cert_request *r,
			  struct jpki_cert_validity *out, struct jpki_errbuf *eb)
{
	struct jpki_cert_validity v = {0};
	jpki_err e;

	if (!jpki_day_in_range(r->birth) || !jpki_day_in_range(r->issued))
		return jpki_errf(eb, JPKI_ERR_RANGE, "date out of range");
	if (r->issued < r->birth)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "the issue day is before the birth date");
	if (r->kind == JPKI_CERT_AUTH && given(r->auth_expires))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "the auth certificate's expiry caps only a "
				 "signing certificate");

	/* Seed 000: "有効期限の3か月前から期限までに更新手続きをした場合は発行から
	 * 6回目の誕生日"; the window is the one seeds 002/004 define. */
	v.nth_birthday = 5;
	if (given(r->renewing)) {
		v.renewing = true;
		e = jpki_window_state_on(r->renewing, r->issued, &v.window);
		if (e != JPKI_OK)
			return jpki_errf(eb, e,
					 "--renewing: the renewal window would "
					 "start before %d-01-01",
					 JPKI_YEAR_MIN);
		if (v.window == JPKI_WINDOW_OPEN) {
			v.in_window = true;
			v.nth_birthday = 6;
		}
	}
	e = jpki_nth_birthday_after(r->birth, r->issued, v.nth_birthday, r->feb29,
				    &v.expires);
	if (e != JPKI_OK)
		return jpki_errf(eb, e, "the expiry would fall after %d-12-31",
				 JPKI_YEAR_MAX);
	v.limited_by = JPKI_LIMIT_BIRTHDAY;

	/* Seeds 000, 001, 003: the earliest of the birthday, the card's
	 * expiry and (signing only) the auth certificate's; seed 001 and the
	 * law for foreign residents: the end of the period of stay. */
	if ((e = apply_cap(&v, r->card_expires, JPKI_LIMIT_CARD, r->issued, eb)) ||
	    (e = apply_cap(&v, r->auth_expires, JPKI_LIMIT_AUTH, r->issued, eb)) ||
	    (e = apply_cap(&v, r->stay_expires, JPKI_LIMIT_STAY, r->issued, eb)))
		return e;
	*out = v;
	return JPKI_OK;
}

/* ---- card expiry ---- */

jpki_err jpki_card_expiry(jpki_day birth, jpki_day applied, jpki_day issued,
			  jpki_day stay_expires, enum jpki_feb29 p,
			  struct jpki_card_validity *out, struct jpki_errbuf *eb)
{
	struct jpki_card_validity v = {0};
	char a[JPKI_DATE_BUFSZ], b[JPKI_DATE_BUFSZ];

	if (!jpki_day_in_range(birth) || !jpki_day_in_range(applied) ||
	    !jpki_day_in_range(issued))
		return jpki_errf(eb, JPKI_ERR_RANGE, "date out of range");
	if (applied < birth)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "the application day is before the birth date");
	if (issued < applied)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "the issue day is before the application day");

	/* 番号法施行令: 10th birthday for holders of age at the day J-LIS
	 * receives the application, else 5th. The age of majority moved from
	 * 20 to 18 on 2022-04-01 (民法改正, 平成30年法律第59号). */
	v.adult_age = applied < jpki_day_from_ymd_unchecked(2022, 4, 1) ? 20 : 18;
	v.age_at_application = jpki_legal_age(birth, applied);
	v.nth_birthday = v.age_at_application >= v.adult_age ? 10 : 5;
	jpki_err e =
	    jpki_nth_birthday_after(birth, issued, v.nth_birthday, p, &v.expires);
	if (e != JPKI_OK)
		return jpki_errf(eb, e, "the expiry would fall after %d-12-31",
				 JPKI_YEAR_MAX);
	v.limited_by = JPKI_LIMIT_BIRTHDAY;
	if (given(stay_expires)) {
		if (!jpki_day_in_range(stay_expires))
			return jpki_errf(eb, JPKI_ERR_RANGE, "date out of range");
		if (stay_expires < issued)
			return jpki_errf(eb, JPKI_ERR_REFUSED,
					 "the period of stay ended on %s, before "
					 "the issue day %s",
					 jpki_date_format(stay_expires, a),
					 jpki_date_format(issued, b));
		if (stay_expires < v.expires) {
			v.expires = stay_expires;
			v.limited_by = JPKI_LIMIT_STAY;
		}
	}
	*out = v;
	return JPKI_OK;
}

/* ---- eligibility ---- */

void jpki_eligibility(jpki_day birth, jpki_day on, bool adult_ward, bool ward_present,
		      struct jpki_eligibility *out)
{
	memset(out, 0, sizeof *out);
	out->legal_age = jpki_legal_age(birth, on);
	out->auth = true;
	/* Seed 001: 15歳未満の方、成年被後見人の方は署名用電子証明書を原則発行不可;
	 * their auth certificate is applied for by the legal representative. */
	if (out->legal_age < 15) {
		out->sign = JPKI_INELIGIBLE_UNDER_15;
		out->auth_by_representative = true;
	} else if (adult_ward) {
		out->auth_by_representative = true;
		/* Seed 004: the ward must come too for the signing certificate. */
		out->sign = ward_present ? JPKI_ELIGIBLE : JPKI_INELIGIBLE_WARD;
	}
}

const char *jpki_ineligible_reason(enum jpki_ineligible r)
{
	switch (r) {
	case JPKI_ELIGIBLE:
		return "eligible";
	case JPKI_INELIGIBLE_UNDER_15:
		return "no signing certificate under 15";
	case JPKI_INELIGIBLE_WARD:
		return "an adult ward gets a signing certificate only when present "
		       "with the guardian";
	default:
		return "unknown";
	}
}
