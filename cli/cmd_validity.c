/* jpki cert-expiry, jpki card-expiry, jpki renewal-window. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jpki/validity.h"
#include "banned.h"

static int parse_feb29(const struct cmd_ctx *c, const char *s, enum jpki_feb29 *out)
{
	if (s == NULL || strcmp(s, "feb28") == 0)
		*out = JPKI_FEB29_FEB28;
	else if (strcmp(s, "mar1") == 0)
		*out = JPKI_FEB29_MAR1;
	else
		return fail(c, EXIT_USAGE, "--feb29: '%.20s' is not feb28 or mar1", s);
	return -1;
}

static const char cert_usage[] =
    "usage: jpki cert-expiry --kind sign|auth --birth D --issued D\n"
    "                        [--card-expires D] [--auth-expires D] [--stay-expires D]\n"
    "                        [--renewing D] [--feb29 feb28|mar1]\n"
    "                        [--ward [--ward-present]] [--json]\n"
    "\n"
    "Prints the expiry (YYYY-MM-DD) of a certificate issued on --issued: the\n"
    "earliest of the 5th birthday after issuance, the card's expiry, the auth\n"
    "certificate's expiry (sign only) and the end of the period of stay.\n"
    "\n"
    "  --renewing D     expiry of the certificate being renewed; when --issued\n"
    "                   is inside its renewal window the 6th birthday counts.\n"
    "                   Renewing before the window gives a shorter certificate\n"
    "                   (a warning is printed on stderr).\n"
    "  --feb29 P        where a Feb 29 birthday falls in common years (feb28)\n"
    "  --ward           the holder is an adult ward (成年被後見人): no signing\n"
    "                   certificate unless --ward-present\n"
    "  --json           {\"expires\":\"2030-04-01\",\"limited_by\":\"birthday\",\n"
    "                    \"in_window\":true,...}; limited_by is birthday, card,\n"
    "                   auth or stay\n"
    "\n"
    "Exit 1 when a rule refuses: no signing certificate under 15, or for an\n"
    "adult ward without --ward-present; the card, the auth certificate or the\n"
    "period of stay ended before the issue day.\n";

int cmd_cert_expiry(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {
	    .name = "cert-expiry", .usage = cert_usage, .json = &json};
	const char *kind = NULL, *feb29 = NULL;
	bool ward = false, ward_present = false;
	struct jpki_cert_request r;
	jpki_cert_request_init(&r, JPKI_CERT_SIGN, 0, 0);
	struct opt opts[] = {
	    {"kind", OPT_STRING, &kind, true, false},
	    {"birth", OPT_DATE, &r.birth, true, false},
	    {"issued", OPT_DATE, &r.issued, true, false},
	    {"card-expires", OPT_DATE, &r.card_expires, false, false},
	    {"auth-expires", OPT_DATE, &r.auth_expires, false, false},
	    {"stay-expires", OPT_DATE, &r.stay_expires, false, false},
	    {"renewing", OPT_DATE, &r.renewing, false, false},
	    {"feb29", OPT_STRING, &feb29, false, false},
	    {"ward", OPT_FLAG, &ward, false, false},
	    {"ward-present", OPT_FLAG, &ward_present, false, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	if ((rc = parse_feb29(&c, feb29, &r.feb29)) >= 0)
		return rc;
	if (strcmp(kind, "sign") == 0)
		r.kind = JPKI_CERT_SIGN;
	else if (strcmp(kind, "auth") == 0)
		r.kind = JPKI_CERT_AUTH;
	else
		return fail(&c, EXIT_USAGE, "--kind: '%.20s' is not sign or auth",
			    kind);
	if (ward_present && !ward)
		return fail(&c, EXIT_USAGE, "--ward-present needs --ward");
	if (r.issued < r.birth)
		return fail(&c, EXIT_USAGE, "--issued is before --birth");

	if (r.kind == JPKI_CERT_SIGN) {
		struct jpki_eligibility el;
		jpki_eligibility(r.birth, r.issued, ward, ward_present, &el);
		if (el.sign != JPKI_ELIGIBLE)
			return fail(&c, EXIT_REFUSED,
				    "%s (legal age %d on the issue day)",
				    jpki_ineligible_reason(el.sign), el.legal_age);
	}

	struct jpki_cert_validity v;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_cert_expiry(&r, &v, &eb);
	if (e != JPKI_OK)
		return fail(&c, exit_for(e), "%s", eb.msg);
	if (v.renewing && v.window == JPKI_WINDOW_NOT_YET) {
		jpki_day first, last;
		char b[JPKI_DATE_BUFSZ];
		if (jpki_renewal_window(r.renewing, &first, &last) == JPKI_OK)
			fprintf(stderr,
				"jpki cert-expiry: warning: renewing before the window "
				"(opens %s) gives the 5th birthday, a shorter "
				"certificate\n",
				jpki_date_format(first, b));
	}
	if (json)
		return print_json(
		    &c,
		    json_pack("{s:o,s:s,s:b,s:i,s:o}", "expires", json_date(v.expires),
			      "limited_by", jpki_limit_name(v.limited_by), "in_window",
			      v.in_window, "nth_birthday", v.nth_birthday, "window",
			      v.renewing ? json_string(jpki_window_state_name(v.window))
					 : json_null()));
	char buf[JPKI_DATE_BUFSZ];
	puts(jpki_date_format(v.expires, buf));
	return EXIT_OK;
}

static const char card_usage[] =
    "usage: jpki card-expiry --birth D --applied D --issued D [--stay-expires D]\n"
    "                        [--feb29 feb28|mar1] [--json]\n"
    "\n"
    "Prints the card's expiry: the 10th birthday after issuance when the holder\n"
    "is of age (18; 20 for applications before 2022-04-01) on the day J-LIS\n"
    "receives the application (--applied), else the 5th; never after the end\n"
    "of the period of stay.\n"
    "\n"
    "  --json   {\"expires\":\"2036-05-20\",\"limited_by\":\"birthday\",\n"
    "            \"nth_birthday\":10,\"age_at_application\":18,\"adult_age\":18}\n"
    "\n"
    "Exit 1 when the period of stay ended before the issue day.\n";

int cmd_card_expiry(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {
	    .name = "card-expiry", .usage = card_usage, .json = &json};
	const char *feb29 = NULL;
	jpki_day birth = JPKI_DAY_NONE, applied = JPKI_DAY_NONE, issued = JPKI_DAY_NONE;
	jpki_day stay = JPKI_DAY_NONE;
	enum jpki_feb29 p = JPKI_FEB29_FEB28;
	struct opt opts[] = {
	    {"birth", OPT_DATE, &birth, true, false},
	    {"applied", OPT_DATE, &applied, true, false},
	    {"issued", OPT_DATE, &issued, true, false},
	    {"stay-expires", OPT_DATE, &stay, false, false},
	    {"feb29", OPT_STRING, &feb29, false, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	if ((rc = parse_feb29(&c, feb29, &p)) >= 0)
		return rc;
	struct jpki_card_validity v;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_card_expiry(birth, applied, issued, stay, p, &v, &eb);
	if (e != JPKI_OK)
		return fail(&c, exit_for(e), "%s", eb.msg);
	if (json)
		return print_json(
		    &c,
		    json_pack("{s:o,s:s,s:i,s:i,s:i}", "expires", json_date(v.expires),
			      "limited_by", jpki_limit_name(v.limited_by),
			      "nth_birthday", v.nth_birthday, "age_at_application",
			      v.age_at_application, "adult_age", v.adult_age));
	char buf[JPKI_DATE_BUFSZ];
	puts(jpki_date_format(v.expires, buf));
	return EXIT_OK;
}

static const char window_usage[] =
    "usage: jpki renewal-window --expires D [--on D] [--json]\n"
    "\n"
    "Prints \"FIRST LAST\": renewal opens the day after the date three months\n"
    "before the expiry (month-end clamped) and lasts to the expiry day.\n"
    "Expiry 2026-05-20 -> 2026-02-21 2026-05-20.\n"
    "\n"
    "  --on D   also say whether the window is not_yet, open or expired on D\n"
    "           (a third word in text output)\n"
    "  --json   {\"first\":\"2026-02-21\",\"last\":\"2026-05-20\",\"state\":null}\n"
    "           (state: not_yet, open or expired with --on)\n";

int cmd_renewal_window(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {
	    .name = "renewal-window", .usage = window_usage, .json = &json};
	jpki_day expires = JPKI_DAY_NONE, on = JPKI_DAY_NONE, first, last;
	struct opt opts[] = {
	    {"expires", OPT_DATE, &expires, true, false},
	    {"on", OPT_DATE, &on, false, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 3, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	if (jpki_renewal_window(expires, &first, &last) != JPKI_OK)
		return fail(&c, EXIT_USAGE,
			    "--expires: the renewal window would "
			    "start before %d-01-01",
			    JPKI_YEAR_MIN);
	const char *state = NULL;
	if (on != JPKI_DAY_NONE) {
		enum jpki_window_state s;
		if (jpki_window_state_on(expires, on, &s) != JPKI_OK)
			return fail(&c, EXIT_USAGE,
				    "--expires: the renewal window "
				    "would start before %d-01-01",
				    JPKI_YEAR_MIN);
		state = jpki_window_state_name(s);
	}
	if (json) {
		return print_json(&c,
				  json_pack("{s:o,s:o,s:o}", "first", json_date(first),
					    "last", json_date(last), "state",
					    state ? json_string(state) : json_null()));
	}
	char a[JPKI_DATE_BUFSZ], b[JPKI_DATE_BUFSZ];
	if (state)
		printf("%s %s %s\n", jpki_date_format(first, a),
		       jpki_date_format(last, b), state);
	else
		printf("%s %s\n", jpki_date_format(first, a),
		       jpki_date_format(last, b));
	return EXIT_OK;
}
