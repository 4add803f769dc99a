/* Reservation limits (DOMAIN §7, seed 004).
 *
 * Seed 004 (Yokohama): 予約は電子証明書の更新手続期間の初日（有効期限の3か月前の
 * 翌日）から行うことができます。予約受付は来庁希望日前日の午後5時までです。
 * 予約受付は40日後まで承っております。（40日後が閉庁日の場合は、その前の開庁日まで）
 */
#include "jpki/holiday.h"
#include "jpki/office.h"
#include "jpki/validity.h"
#include "banned.h"

jpki_err jpki_reservable(const struct jpki_office *o, jpki_day expires, int64_t now,
			 struct jpki_reservable *out, struct jpki_errbuf *eb)
{
	struct jpki_booking_rules rules;
	jpki_day wfirst, wlast;
	char a[JPKI_DATE_BUFSZ], b[JPKI_DATE_BUFSZ];
	jpki_err e;

	jpki_office_booking_rules(o, &rules);
	out->first = out->last = out->opens_on = JPKI_DAY_NONE;
	if ((e = jpki_renewal_window(expires, &wfirst, &wlast)) != JPKI_OK)
		return jpki_errf(eb, e,
				 "--expires: the renewal window would start "
				 "before %d-01-01",
				 JPKI_YEAR_MIN);

	jpki_day today = jpki_jst_day(now);
	if (!jpki_day_in_range(today))
		return jpki_errf(eb, JPKI_ERR_RANGE,
				 "now (%s JST) is out of range (%d-01-01 to %d-12-31)",
				 jpki_date_format(today, a), JPKI_YEAR_MIN, JPKI_YEAR_MAX);
	if (today < wfirst) {
		out->opens_on = wfirst;
		return jpki_errf(eb, JPKI_ERR_REFUSED, "booking opens on %s",
				 jpki_date_format(wfirst, a));
	}

	/* A visit on D can be booked while now < deadline on D - 1 [decision:
	 * "午後5時まで" read as up to, not including, 17:00:00]. */
	int32_t sec = jpki_jst_second_of_day(now);
	jpki_day earliest = today + 1 + (sec >= rules.deadline_minute * 60 ? 1 : 0);
	jpki_day horizon = today + rules.horizon_days;
	int span = (int)(horizon - earliest) + 1;

	if (span <= 0)
		goto none;
	e = jpki_office_prev_open(o, horizon, span, &out->last);
	if (e == JPKI_ERR_NOTFOUND)
		goto none;
	if (e != JPKI_OK)
		return jpki_errf(eb, e,
				 "the office calendar is known only to %d-12-31 "
				 "(national holidays)",
				 JPKI_HOLIDAY_YEAR_MAX);
	e = jpki_office_next_open(o, earliest, span, &out->first);
	if (e != JPKI_OK)
		return jpki_errf(eb, e,
				 "the office calendar is known only to %d-12-31 "
				 "(national holidays)",
				 JPKI_HOLIDAY_YEAR_MAX);
	return JPKI_OK;
none:
	return jpki_errf(eb, JPKI_ERR_NOTFOUND, "no open day between %s and %s",
			 jpki_date_format(earliest, a), jpki_date_format(horizon, b));
}
