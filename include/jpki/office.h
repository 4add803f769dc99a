/* openjpki — office calendars and reservation limits (DOMAIN §7; seeds 000-004).
 *
 * An office is described by a small INI file (format: docs/OFFICES.md,
 * examples: data/offices/). Parsing takes the file's text, not a path, so
 * lib/core stays free of I/O. A day is decided in this order, first match
 * wins:
 *   1. [openings]  an extra open date with its own hours          -> open
 *   2. [closures]  an extra closed date                           -> closure
 *   3. year-end    e.g. 12-29..01-03                               -> year-end
 *   4. maintenance nth-weekday rules (Toshima's 3rd Sat + Sunday)  -> maintenance
 *   5. a national holiday (incl. 振替休日, 国民の休日): closed, unless
 *      holidays = open-on-weekend and it falls on a Saturday or Sunday the
 *      weekly schedule opens                                       -> holiday NAME
 *   6. the weekly schedule with its nth-weekday rules               -> open / weekend
 */
#ifndef JPKI_OFFICE_H
#define JPKI_OFFICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JPKI_HOURS_MAX 4

/* Minutes since midnight; close may be 24:00 (1440). open < close. */
struct jpki_interval {
	uint16_t open;
	uint16_t close;
};

struct jpki_hours {
	uint8_t n; /* 0: closed */
	struct jpki_interval iv[JPKI_HOURS_MAX];
};

enum jpki_closed_reason {
	JPKI_REASON_NONE = 0, /* open */
	JPKI_REASON_WEEKEND,  /* no regular opening that day of the week */
	JPKI_REASON_HOLIDAY,  /* detail: the holiday's name */
	JPKI_REASON_YEAR_END,
	JPKI_REASON_MAINTENANCE,
	JPKI_REASON_CLOSURE, /* an extra closed date; detail: its note, if any */
};
const char *jpki_closed_reason_name(enum jpki_closed_reason r); /* "weekend"... */

struct jpki_office_day {
	bool open;
	struct jpki_hours hours;
	enum jpki_closed_reason reason;
	/* Holiday name or closure note, NULL if none. Owned by the office (or
	 * static); valid until jpki_office_free(). A holiday's name is given
	 * even when the office opens on it. */
	const char *detail;
};

struct jpki_office;

/* Parses an office file's text (UTF-8). On failure returns JPKI_ERR_CONFIG
 * with "line N: ..." in eb, or JPKI_ERR_NOMEM. *out is owned by the caller
 * and released with jpki_office_free(). */
jpki_err jpki_office_parse(const char *text, size_t len, struct jpki_office **out,
			   struct jpki_errbuf *eb);
void jpki_office_free(struct jpki_office *o);

const char *jpki_office_name(const struct jpki_office *o);
bool jpki_office_is_main(const struct jpki_office *o); /* main office, not a branch */

/* Is the office open on d, with which hours, or why not.
 * JPKI_ERR_RANGE outside 1868..2099 (holidays after 2099 are unknown). */
jpki_err jpki_office_day(const struct jpki_office *o, jpki_day d,
			 struct jpki_office_day *out);

/* The first open day on or after `from`, searching at most `limit` days.
 * JPKI_ERR_NOTFOUND when there is none. */
jpki_err jpki_office_next_open(const struct jpki_office *o, jpki_day from, int limit,
			       jpki_day *out);
/* The last open day on or before `from`, searching at most `limit` days. */
jpki_err jpki_office_prev_open(const struct jpki_office *o, jpki_day from, int limit,
			       jpki_day *out);

/* The open days in [from, to]: writes at most cap of them to out (which
 * may be NULL when cap is 0) and stores the total count in *count. */
jpki_err jpki_office_open_days(const struct jpki_office *o, jpki_day from, jpki_day to,
			       jpki_day *out, size_t cap, size_t *count);

/* ---- reservations (DOMAIN §7, seed 004) ----
 * Booking opens on the first day of the renewal window; a visit on day D
 * can be booked until the office's deadline (default 17:00) of the
 * calendar day before D; the latest visit day is today + horizon (default
 * 40) days, moved back to the last open day before it when closed; only
 * open days can be booked; no cap at the expiry [decision]. */
struct jpki_booking_rules {
	int deadline_minute; /* minutes after midnight of the day before */
	int horizon_days;
};
void jpki_office_booking_rules(const struct jpki_office *o,
			       struct jpki_booking_rules *out);

struct jpki_reservable {
	jpki_day first;	   /* first bookable visit day */
	jpki_day last;	   /* last bookable visit day */
	jpki_day opens_on; /* set when refused: the first booking day */
};

/* JPKI_ERR_REFUSED before the window opens (opens_on set), JPKI_ERR_NOTFOUND
 * when no open day lies between the earliest and latest visit days. */
jpki_err jpki_reservable(const struct jpki_office *o, jpki_day expires, int64_t now,
			 struct jpki_reservable *out, struct jpki_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
