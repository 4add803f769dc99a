/* jpki office, jpki reservable: office calendars and booking limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jpki/holiday.h"
#include "jpki/office.h"
#include "jpki/validity.h"
#include "banned.h"

/* Office files are a few kilobytes; refuse anything absurd. */
#define OFFICE_FILE_MAX (1024 * 1024)

static int load_office(const struct cmd_ctx *c, const char *path,
		       struct jpki_office **out)
{
	char *text = NULL;
	size_t len;
	int rc = read_file(c, path, OFFICE_FILE_MAX, &text, &len);
	if (rc >= 0)
		return rc;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_office_parse(text, len, out, &eb);
	free(text);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s: %s", path, eb.msg);
	return -1;
}

static void hhmm(char buf[6], unsigned minutes)
{
	snprintf(buf, 6, "%02u:%02u", (minutes / 60) % 100, minutes % 60);
}

static const char office_usage[] =
    "usage: jpki office --config FILE --date D [--json]\n"
    "\n"
    "Says whether the office described by FILE (see docs/OFFICES.md and\n"
    "data/offices/) is open on D:\n"
    "  open HH:MM-HH:MM[,HH:MM-HH:MM]     one interval per continuous opening\n"
    "  closed REASON [DETAIL]              REASON: weekend, holiday (DETAIL: its\n"
    "                                      name), year-end, maintenance, closure\n"
    "                                      (DETAIL: its note, if the file gives one)\n"
    "\n"
    "  --json   "
    "{\"date\":\"2026-09-22\",\"open\":false,\"hours\":[],\"reason\":\"holiday\",\n"
    "            "
    "\"detail\":\"休日\",\"office\":\"...\",\"next_open\":\"2026-09-24\"}\n";

int cmd_office(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {
	    .name = "office", .usage = office_usage, .json = &json};
	const char *config = NULL;
	jpki_day d = JPKI_DAY_NONE;
	struct opt opts[] = {
	    {"config", OPT_STRING, &config, true, false},
	    {"date", OPT_DATE, &d, true, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 3, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	struct jpki_office *o = NULL;
	if ((rc = load_office(&c, config, &o)) >= 0)
		return rc;

	struct jpki_office_day od;
	jpki_err e = jpki_office_day(o, d, &od);
	if (e != JPKI_OK) {
		char buf[JPKI_DATE_BUFSZ];
		jpki_office_free(o);
		return fail(&c, exit_for(e),
			    "%s: the office calendar is known only to %d-12-31 "
			    "(national holidays)",
			    jpki_date_format(d, buf), JPKI_HOLIDAY_YEAR_MAX);
	}
	char a[6], b[6];
	if (json) {
		json_t *hours = json_array();
		for (unsigned i = 0; hours && i < od.hours.n; i++) {
			hhmm(a, od.hours.iv[i].open);
			hhmm(b, od.hours.iv[i].close);
			json_array_append_new(hours, json_pack("[s,s]", a, b));
		}
		jpki_day next = JPKI_DAY_NONE;
		if (jpki_office_next_open(o, d, 400, &next) != JPKI_OK)
			next = JPKI_DAY_NONE;
		json_t *doc = json_pack(
		    "{s:o,s:b,s:o,s:o,s:o,s:s,s:o}", "date", json_date(d), "open",
		    od.open, "hours", hours, "reason",
		    od.open ? json_null()
			    : json_string(jpki_closed_reason_name(od.reason)),
		    "detail", od.detail ? json_string(od.detail) : json_null(),
		    "office", jpki_office_name(o), "next_open", json_date(next));
		jpki_office_free(o);
		return print_json(&c, doc);
	}
	if (od.open) {
		fputs("open ", stdout);
		for (unsigned i = 0; i < od.hours.n; i++) {
			hhmm(a, od.hours.iv[i].open);
			hhmm(b, od.hours.iv[i].close);
			printf("%s%s-%s", i ? "," : "", a, b);
		}
		putchar('\n');
	} else if (od.detail && (od.reason == JPKI_REASON_HOLIDAY ||
				 od.reason == JPKI_REASON_CLOSURE)) {
		printf("closed %s %s\n", jpki_closed_reason_name(od.reason), od.detail);
	} else {
		printf("closed %s\n", jpki_closed_reason_name(od.reason));
	}
	jpki_office_free(o);
	return EXIT_OK;
}

static const char reservable_usage[] =
    "usage: jpki reservable --config FILE --expires D [--now DATETIME] [--json]\n"
    "\n"
    "Prints \"FIRST LAST\", the first and last visit days that can be booked\n"
    "now for renewing a certificate that expires on D (seed 004): booking opens\n"
    "on the first day of the renewal window; a visit can be booked until 17:00\n"
    "of the day before; the latest visit is 40 days ahead, moved back to the\n"
    "last open day; only open days count. The office file may change the\n"
    "deadline and the horizon. There is no cap at the expiry: after it a new\n"
    "certificate can still be issued (free) while the card is valid, so visits\n"
    "stay bookable.\n"
    "\n"
    "  --now DATETIME   ISO 8601 with offset, e.g. 2026-02-21T10:00:00+09:00\n"
    "                   (default: $JPKI_NOW, else the clock)\n"
    "  --json           {\"bookable\":true,\"first\":\"2026-02-24\",\n"
    "                    \"last\":\"2026-04-02\",\"opens_on\":null,\n"
    "                    \"window_first\":\"2026-02-21\",\"window_last\":\"2026-05-20\"}\n"
    "\n"
    "Exit 1 before the window opens (\"booking opens on YYYY-MM-DD\"; with\n"
    "--json bookable is false and opens_on set), or when no day between the\n"
    "earliest and the latest visit day is open (\"no open day between ...\").\n";

int cmd_reservable(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {
	    .name = "reservable", .usage = reservable_usage, .json = &json};
	const char *config = NULL, *now_s = NULL;
	jpki_day expires = JPKI_DAY_NONE, wfirst, wlast;
	int64_t now;
	struct opt opts[] = {
	    {"config", OPT_STRING, &config, true, false},
	    {"expires", OPT_DATE, &expires, true, false},
	    {"now", OPT_STRING, &now_s, false, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 4, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	struct jpki_errbuf eb = {{0}};
	if (now_s) {
		if (jpki_instant_parse(now_s, &now, &eb) != JPKI_OK)
			return fail(&c, EXIT_USAGE, "--now: %s", eb.msg);
	} else if ((rc = cli_now(&c, &now)) >= 0) {
		return rc;
	}
	if (jpki_renewal_window(expires, &wfirst, &wlast) != JPKI_OK)
		return fail(&c, EXIT_USAGE,
			    "--expires: the renewal window would start "
			    "before %d-01-01",
			    JPKI_YEAR_MIN);
	struct jpki_office *o = NULL;
	if ((rc = load_office(&c, config, &o)) >= 0)
		return rc;
	struct jpki_reservable r;
	jpki_err e = jpki_reservable(o, expires, now, &r, &eb);
	jpki_office_free(o);
	if (e != JPKI_OK && e != JPKI_ERR_REFUSED && e != JPKI_ERR_NOTFOUND)
		return fail(&c, exit_for(e), "%s", eb.msg);
	if (json) {
		json_t *doc =
		    json_pack("{s:b,s:o,s:o,s:o,s:o,s:o}", "bookable", e == JPKI_OK,
			      "first", json_date(r.first), "last", json_date(r.last),
			      "opens_on", json_date(r.opens_on), "window_first",
			      json_date(wfirst), "window_last", json_date(wlast));
		rc = print_json(&c, doc);
		if (rc == EXIT_OK && e != JPKI_OK)
			return say(&c, EXIT_REFUSED, "%s", eb.msg);
		return rc;
	}
	if (e != JPKI_OK)
		return fail(&c, EXIT_REFUSED, "%s", eb.msg);
	char a[JPKI_DATE_BUFSZ], b[JPKI_DATE_BUFSZ];
	printf("%s %s\n", jpki_date_format(r.first, a), jpki_date_format(r.last, b));
	return EXIT_OK;
}
