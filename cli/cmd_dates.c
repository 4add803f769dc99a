/* jpki holidays, jpki age, jpki wareki. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jpki/holiday.h"
#include "jpki/validity.h"
#include "banned.h"

static const char holidays_usage[] =
    "usage: jpki holidays YEAR [--json]\n"
    "\n"
    "Prints the national holidays of YEAR (1948-2099), one per line:\n"
    "YYYY-MM-DD<TAB>name, sorted by date. Names are those of the Cabinet\n"
    "Office list; 振替休日 and 国民の休日 are \"休日\", 2019-05-01 and 2019-10-22\n"
    "are \"休日（祝日扱い）\".\n"
    "\n"
    "  --json   [{\"date\":\"2026-01-01\",\"name\":\"元日\"}, ...]\n";

int cmd_holidays(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {
	    .name = "holidays", .usage = holidays_usage, .json = &json};
	struct opt opts[] = {{"json", OPT_FLAG, &json, false, false}};
	const char *pos[1];
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 1, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1)
		return fail(&c, EXIT_USAGE, "YEAR is required (see --help)");
	int year = 0;
	for (size_t i = 0; i < 4 && year >= 0; i++)
		year = pos[0][i] >= '0' && pos[0][i] <= '9'
			   ? year * 10 + (pos[0][i] - '0')
			   : -1;
	if (year < 0 || pos[0][4] != '\0')
		return fail(&c, EXIT_USAGE, "'%.20s' is not a year (YYYY)", pos[0]);

	struct jpki_holiday h[JPKI_HOLIDAYS_MAX];
	size_t n;
	if (jpki_holidays_in_year(year, h, &n) != JPKI_OK)
		return fail(&c, EXIT_USAGE, "%d: out of range (%d-%d)", year,
			    JPKI_HOLIDAY_YEAR_MIN, JPKI_HOLIDAY_YEAR_MAX);
	char buf[JPKI_DATE_BUFSZ];
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, json_pack("{s:o,s:s}", "date",
							   json_date(h[i].day), "name",
							   h[i].name));
		return print_json(&c, a);
	}
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\n", jpki_date_format(h[i].day, buf), h[i].name);
	return EXIT_OK;
}

static const char age_usage[] =
    "usage: jpki age --birth D --on D [--json]\n"
    "\n"
    "Prints the legal age on D (年齢計算ニ関スル法律: a year older at the end\n"
    "of the day before the birthday, so born 2011-04-01 is 15 on 2026-03-31).\n"
    "\n"
    "  --json   {\"age\":15,\"ordinary_age\":14}\n";

int cmd_age(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {.name = "age", .usage = age_usage, .json = &json};
	jpki_day birth = JPKI_DAY_NONE, on = JPKI_DAY_NONE;
	struct opt opts[] = {
	    {"birth", OPT_DATE, &birth, true, false},
	    {"on", OPT_DATE, &on, true, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 3, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	if (on < birth)
		return fail(&c, EXIT_USAGE, "--on is before --birth");
	int age = jpki_legal_age(birth, on);
	if (json)
		return print_json(&c, json_pack("{s:i,s:i}", "age", age, "ordinary_age",
						jpki_ordinary_age(birth, on)));
	printf("%d\n", age);
	return EXIT_OK;
}

static const char wareki_usage[] =
    "usage: jpki wareki D [--json]\n"
    "\n"
    "Prints D in the Japanese era calendar, e.g. 令和7年6月15日; year 1 is\n"
    "元年. 明治 is used from 1873-01-01; earlier dates are printed in the\n"
    "Western year (1872年12月31日).\n"
    "\n"
    "  --json   "
    "{\"date\":\"2025-06-15\",\"era\":\"令和\",\"year\":7,\"text\":\"令和7年6月15日\"}"
    "\n";

int cmd_wareki(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {
	    .name = "wareki", .usage = wareki_usage, .json = &json};
	struct opt opts[] = {{"json", OPT_FLAG, &json, false, false}};
	const char *pos[1];
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 1, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1)
		return fail(&c, EXIT_USAGE, "a date D is required (see --help)");
	struct jpki_errbuf eb = {{0}};
	jpki_day d;
	if (jpki_date_parse(pos[0], &d, &eb) != JPKI_OK)
		return fail(&c, EXIT_USAGE, "%s", eb.msg);
	char text[JPKI_WAREKI_BUFSZ];
	const char *era;
	int year;
	if (jpki_wareki(d, text, sizeof text, &era, &year) != JPKI_OK)
		return fail(&c, EXIT_INTERNAL, "cannot format %s", pos[0]);
	if (json)
		return print_json(&c,
				  json_pack("{s:o,s:o,s:i,s:s}", "date", json_date(d),
					    "era", era ? json_string(era) : json_null(),
					    "year", year, "text", text));
	puts(text);
	return EXIT_OK;
}
