/* The public API: the rules of lib/core answered over HTTP, no login. The
 * answers match the jpki commands' --json output, with 和暦 added where a
 * resident reads a date. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/bring.h"
#include "jpki/holiday.h"
#include "jpki/validity.h"
#include "jpkid.h"
#include "banned.h"

static jpki_day today(void)
{
	return jpki_jst_day(now_s());
}

/* A date parameter: *d stays as given when absent and not required.
 * Returns false after replying 400. */
static bool qdate(struct req *r, const char *name, bool required, jpki_day *d,
		  enum MHD_Result *res)
{
	const char *v = query(r, name);
	if (v == NULL) {
		if (!required)
			return true;
		*res = reply_bad(r, name, "is required (YYYY-MM-DD)",
				 "必須です（YYYY-MM-DD）。");
		return false;
	}
	if (!parse_day(v, d)) {
		*res = reply_bad(r, name, "is not a date YYYY-MM-DD in range",
				 "日付（YYYY-MM-DD）として読めません。");
		return false;
	}
	return true;
}

static bool qbool(struct req *r, const char *name, bool *out, enum MHD_Result *res)
{
	const char *v = query(r, name);
	*out = false;
	if (v == NULL || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return true;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || v[0] == 0) {
		*out = true;
		return true;
	}
	*res = reply_bad(r, name, "must be true or false",
			 "true か false で指定してください。");
	return false;
}

static bool qfeb29(struct req *r, enum jpki_feb29 *p, enum MHD_Result *res)
{
	const char *v = query(r, "feb29");
	*p = cfg.feb29;
	if (v == NULL)
		return true;
	if (strcmp(v, "feb28") == 0)
		*p = JPKI_FEB29_FEB28;
	else if (strcmp(v, "mar1") == 0)
		*p = JPKI_FEB29_MAR1;
	else {
		*res = reply_bad(r, "feb29", "must be feb28 or mar1",
				 "feb28 か mar1 で指定してください。");
		return false;
	}
	return true;
}

static enum MHD_Result out_of_range(struct req *r, const char *field)
{
	return reply_bad(r, field, "is outside the range the rules know",
			 "扱える範囲外の日付です。");
}

/* ---- pieces shared with /api/v1/guide ---- */

static json_t *window_json(jpki_day expires, jpki_day on)
{
	jpki_day first, last;
	enum jpki_window_state s;
	if (jpki_renewal_window(expires, &first, &last) != JPKI_OK ||
	    jpki_window_state_on(expires, on, &s) != JPKI_OK)
		return NULL;
	json_t *o =
	    json_pack("{s:o,s:o,s:o,s:s,s:o,s:o,s:o}", "expires", jdate(expires),
		      "first", jdate(first), "last", jdate(last), "state",
		      jpki_window_state_name(s), "expires_wareki", jwareki(expires),
		      "first_wareki", jwareki(first), "last_wareki", jwareki(last));
	if (o && s == JPKI_WINDOW_OPEN)
		json_object_set_new(o, "days_left", json_integer(last - on));
	else if (o && s == JPKI_WINDOW_NOT_YET)
		json_object_set_new(o, "days_until_open", json_integer(first - on));
	return o;
}

static json_t *classes_json(unsigned mask)
{
	static const char *const letters[] = {"S", "A", "B", "C", "D"};
	json_t *a = json_array();
	for (int i = 0; a && i < 5; i++)
		if (mask & (1u << i))
			json_array_append_new(a, json_string(letters[i]));
	return a;
}

static json_t *bring_json(enum jpki_procedure p, enum jpki_applicant a,
			  struct jpki_errbuf *eb, jpki_err *e)
{
	const struct jpki_bring_list *l;
	if ((*e = jpki_bring(p, a, &l, eb)) != JPKI_OK)
		return NULL;
	json_t *items = json_array(), *notes = json_array();
	for (size_t i = 0; items && i < l->n_items; i++)
		json_array_append_new(
		    items, json_pack("{s:s,s:o,s:i}", "text", l->items[i].text,
				     "id_classes", classes_json(l->items[i].id_classes),
				     "visit", l->items[i].visit));
	for (size_t i = 0; notes && i < l->n_notes; i++)
		json_array_append_new(notes, json_string(l->notes[i]));
	return json_pack("{s:s,s:s,s:i,s:b,s:i,s:o,s:o}", "procedure",
			 jpki_procedure_name(p), "applicant", jpki_applicant_name(a),
			 "visits", l->visits, "main_office_only", l->main_office_only,
			 "fee_yen", l->fee_yen, "items", items, "notes", notes);
}

static json_t *hours_json(const struct jpki_hours *h)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < h->n; i++) {
		char o[6], c[6];
		snprintf(o, sizeof o, "%02u:%02u", (h->iv[i].open / 60) % 100,
			 h->iv[i].open % 60);
		snprintf(c, sizeof c, "%02u:%02u", (h->iv[i].close / 60) % 100,
			 h->iv[i].close % 60);
		json_array_append_new(a, json_pack("[s,s]", o, c));
	}
	return a;
}

static json_t *office_day_json(jpki_day d)
{
	struct jpki_office_day od;
	if (jpki_office_day(office, d, &od) != JPKI_OK)
		return NULL;
	jpki_day next = JPKI_DAY_NONE;
	if (jpki_office_next_open(office, d, 400, &next) != JPKI_OK)
		next = JPKI_DAY_NONE;
	return json_pack("{s:o,s:o,s:s,s:b,s:o,s:o,s:o,s:s,s:o,s:o}", "date", jdate(d),
			 "wareki", jwareki(d), "weekday", weekday_ja(d), "open",
			 od.open, "hours", hours_json(&od.hours), "reason",
			 od.open ? json_null()
				 : json_string(jpki_closed_reason_name(od.reason)),
			 "detail", od.detail ? json_string(od.detail) : json_null(),
			 "office", jpki_office_name(office), "next_open", jdate(next),
			 "next_open_wareki", jwareki(next));
}

static json_t *open_days_json(jpki_day from, int count)
{
	json_t *days = json_array();
	jpki_day d = from;
	for (int i = 0; days && i < count; i++) {
		jpki_day next;
		if (jpki_office_next_open(office, d, 400, &next) != JPKI_OK)
			break;
		struct jpki_office_day od;
		if (jpki_office_day(office, next, &od) != JPKI_OK)
			break;
		json_array_append_new(
		    days, json_pack("{s:o,s:o,s:s,s:o}", "date", jdate(next), "wareki",
				    jwareki(next), "weekday", weekday_ja(next), "hours",
				    hours_json(&od.hours)));
		d = next + 1;
	}
	return json_pack("{s:s,s:o}", "office", jpki_office_name(office), "days", days);
}

static json_t *reservable_json(jpki_day expires, int64_t now)
{
	jpki_day wfirst, wlast;
	if (jpki_renewal_window(expires, &wfirst, &wlast) != JPKI_OK)
		return NULL;
	struct jpki_reservable rv;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_reservable(office, expires, now, &rv, &eb);
	if (e != JPKI_OK && e != JPKI_ERR_REFUSED && e != JPKI_ERR_NOTFOUND)
		return NULL;
	/* The reason in Japanese for residents, in English for machines. */
	char ja[200] = "";
	char d[JPKI_DATE_BUFSZ];
	if (e == JPKI_ERR_REFUSED && rv.opens_on != JPKI_DAY_NONE) {
		char w[JPKI_WAREKI_BUFSZ];
		if (jpki_wareki(rv.opens_on, w, sizeof w, NULL, NULL) != JPKI_OK)
			snprintf(w, sizeof w, "%s", jpki_date_format(rv.opens_on, d));
		snprintf(ja, sizeof ja, "予約の受付は%sからです。", w);
	} else if (e != JPKI_OK) {
		snprintf(ja, sizeof ja, "予約できる開庁日がありません。");
	}
	return json_pack("{s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "bookable",
			 e == JPKI_OK, "first",
			 jdate(e == JPKI_OK ? rv.first : JPKI_DAY_NONE), "last",
			 jdate(e == JPKI_OK ? rv.last : JPKI_DAY_NONE), "opens_on",
			 jdate(rv.opens_on), "window_first", jdate(wfirst),
			 "window_last", jdate(wlast), "first_wareki",
			 jwareki(e == JPKI_OK ? rv.first : JPKI_DAY_NONE), "message",
			 e == JPKI_OK ? json_null() : json_string(ja), "message_en",
			 e == JPKI_OK ? json_null() : json_string(eb.msg));
}

/* ---- handlers ---- */

enum MHD_Result h_window(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	jpki_day expires = JPKI_DAY_NONE, on = today();
	if (!qdate(r, "expires", true, &expires, &res) ||
	    !qdate(r, "on", false, &on, &res))
		return res;
	json_t *o = window_json(expires, on);
	return o ? reply_json(r, 200, o) : out_of_range(r, "expires");
}

enum MHD_Result h_cert_expiry(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	struct jpki_cert_request q;
	jpki_cert_request_init(&q, JPKI_CERT_SIGN, 0, 0);
	bool ward, ward_present;
	const char *kind = query(r, "kind");
	if (kind == NULL || (strcmp(kind, "sign") != 0 && strcmp(kind, "auth") != 0))
		return reply_bad(r, "kind", "must be sign or auth",
				 "sign か auth で指定してください。");
	q.kind = strcmp(kind, "sign") == 0 ? JPKI_CERT_SIGN : JPKI_CERT_AUTH;
	if (!qdate(r, "birth", true, &q.birth, &res) ||
	    !qdate(r, "issued", true, &q.issued, &res) ||
	    !qdate(r, "card_expires", false, &q.card_expires, &res) ||
	    !qdate(r, "auth_expires", false, &q.auth_expires, &res) ||
	    !qdate(r, "stay_expires", false, &q.stay_expires, &res) ||
	    !qdate(r, "renewing", false, &q.renewing, &res) ||
	    !qfeb29(r, &q.feb29, &res) || !qbool(r, "ward", &ward, &res) ||
	    !qbool(r, "ward_present", &ward_present, &res))
		return res;
	if (q.issued < q.birth)
		return reply_bad(r, "issued", "is before birth",
				 "生年月日より前です。");
	if (q.kind == JPKI_CERT_AUTH && q.auth_expires != JPKI_DAY_NONE)
		return reply_bad(r, "auth_expires",
				 "caps only a signing certificate (kind=sign)",
				 "署名用電子証明書（kind=sign）にだけ指定できます。");
	if (q.kind == JPKI_CERT_SIGN) {
		struct jpki_eligibility el;
		jpki_eligibility(q.birth, q.issued, ward, ward_present, &el);
		if (el.sign != JPKI_ELIGIBLE)
			return reply_error(
			    r, 422, "not_eligible",
			    el.sign == JPKI_INELIGIBLE_UNDER_15
				? "15歳未満の方には署名用電子証明書は発行されません。"
				: "成年被後見人の方の署名用電子証明書は、本人が来庁した"
				  "場合に限り発行します。",
			    jpki_ineligible_reason(el.sign));
	}
	struct jpki_cert_validity v;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_cert_expiry(&q, &v, &eb);
	if (e == JPKI_ERR_REFUSED)
		return reply_error(
		    r, 422, "not_eligible",
		    "発行日の時点でカード・利用者証明用電子証明書・在留期間の"
		    "いずれかが終わっているため、発行できません。",
		    eb.msg);
	if (e != JPKI_OK)
		return out_of_range(r, "issued");
	return reply_json(
	    r, 200,
	    json_pack("{s:o,s:o,s:s,s:b,s:i,s:o}", "expires", jdate(v.expires),
		      "expires_wareki", jwareki(v.expires), "limited_by",
		      jpki_limit_name(v.limited_by), "in_window", v.in_window,
		      "nth_birthday", v.nth_birthday, "window",
		      v.renewing ? json_string(jpki_window_state_name(v.window))
				 : json_null()));
}

enum MHD_Result h_card_expiry(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	jpki_day birth = JPKI_DAY_NONE, applied = JPKI_DAY_NONE, issued = JPKI_DAY_NONE,
		 stay = JPKI_DAY_NONE;
	enum jpki_feb29 f;
	if (!qdate(r, "birth", true, &birth, &res) ||
	    !qdate(r, "applied", true, &applied, &res) ||
	    !qdate(r, "issued", true, &issued, &res) ||
	    !qdate(r, "stay_expires", false, &stay, &res) || !qfeb29(r, &f, &res))
		return res;
	if (applied < birth)
		return reply_bad(r, "applied", "is before birth",
				 "生年月日より前です。");
	if (issued < applied)
		return reply_bad(r, "issued", "is before applied",
				 "申請日より前です。");
	struct jpki_card_validity v;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_card_expiry(birth, applied, issued, stay, f, &v, &eb);
	if (e == JPKI_ERR_REFUSED)
		return reply_error(
		    r, 422, "not_eligible",
		    "発行日の時点で在留期間が終わっているため、発行できません。",
		    eb.msg);
	if (e != JPKI_OK)
		return out_of_range(r, "issued");
	return reply_json(r, 200,
			  json_pack("{s:o,s:o,s:s,s:i,s:i,s:i}", "expires",
				    jdate(v.expires), "expires_wareki",
				    jwareki(v.expires), "limited_by",
				    jpki_limit_name(v.limited_by), "nth_birthday",
				    v.nth_birthday, "age_at_application",
				    v.age_at_application, "adult_age", v.adult_age));
}

enum MHD_Result h_bring(struct req *r, char **p)
{
	(void)p;
	enum jpki_procedure pr;
	enum jpki_applicant a;
	const char *ps = query(r, "procedure"), *as = query(r, "applicant");
	if (ps == NULL || jpki_procedure_parse(ps, &pr) != JPKI_OK)
		return reply_bad(r, "procedure",
				 "must be renew, issue, pin-reset or revoke",
				 "renew, issue, pin-reset, revoke のいずれかです。");
	if (as == NULL || jpki_applicant_parse(as, &a) != JPKI_OK)
		return reply_bad(
		    r, "applicant",
		    "must be self, proxy-with-form, proxy-without-form, guardian or "
		    "legal-rep",
		    "self, proxy-with-form, proxy-without-form, guardian, legal-rep "
		    "のいずれかです。");
	struct jpki_errbuf eb = {{0}};
	jpki_err e;
	json_t *o = bring_json(pr, a, &eb, &e);
	if (e == JPKI_ERR_REFUSED)
		return reply_error(
		    r, 422, "not_allowed",
		    "この手続は代理人ではできません。本人が来庁してください。", eb.msg);
	return o ? reply_json(r, 200, o) : reply_internal(r, eb.msg);
}

enum MHD_Result h_office(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	jpki_day d = today();
	if (!qdate(r, "date", false, &d, &res))
		return res;
	json_t *o = office_day_json(d);
	return o ? reply_json(r, 200, o) : out_of_range(r, "date");
}

enum MHD_Result h_open_days(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	jpki_day from = today();
	if (!qdate(r, "from", false, &from, &res))
		return res;
	long count = 10;
	if (!qint(r, "count", 1, 60, &count, &res))
		return res;
	return reply_json(r, 200, open_days_json(from, (int)count));
}

enum MHD_Result h_holidays(struct req *r, char **p)
{
	(void)p;
	const char *y = query(r, "year");
	char *end;
	long year = y ? strtol(y, &end, 10) : 0;
	struct jpki_holiday hs[JPKI_HOLIDAYS_MAX];
	size_t n;
	if (y == NULL || end == y || *end || year < JPKI_HOLIDAY_YEAR_MIN ||
	    year > JPKI_HOLIDAY_YEAR_MAX ||
	    jpki_holidays_in_year((int)year, hs, &n) != JPKI_OK)
		return reply_bad(r, "year", "must be a year 1948..2099",
				 "1948年から2099年までの西暦で指定してください。");
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(
		    a, json_pack("{s:o,s:s,s:s}", "date", jdate(hs[i].day), "weekday",
				 weekday_ja(hs[i].day), "name", hs[i].name));
	return reply_json(r, 200,
			  json_pack("{s:i,s:o}", "year", (int)year, "holidays", a));
}

enum MHD_Result h_wareki(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	jpki_day d = JPKI_DAY_NONE;
	if (!qdate(r, "date", true, &d, &res))
		return res;
	char buf[JPKI_WAREKI_BUFSZ];
	const char *era = NULL;
	if (jpki_wareki(d, buf, sizeof buf, &era, NULL) != JPKI_OK)
		return out_of_range(r, "date");
	return reply_json(r, 200,
			  json_pack("{s:o,s:s,s:o}", "date", jdate(d), "wareki", buf,
				    "era", era ? json_string(era) : json_null()));
}

enum MHD_Result h_reservable(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	jpki_day expires = JPKI_DAY_NONE;
	if (!qdate(r, "expires", true, &expires, &res))
		return res;
	int64_t now = now_s();
	const char *ns = query(r, "now");
	struct jpki_errbuf eb = {{0}};
	if (ns && jpki_instant_parse(ns, &now, &eb) != JPKI_OK)
		return reply_bad(r, "now", eb.msg,
				 "日時（ISO 8601）として読めません。");
	json_t *o = reservable_json(expires, now);
	return o ? reply_json(r, 200, o) : out_of_range(r, "expires");
}

enum MHD_Result h_guide(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	jpki_day on = today(), expires = JPKI_DAY_NONE, birth = JPKI_DAY_NONE,
		 issued = JPKI_DAY_NONE;
	if (!qdate(r, "on", false, &on, &res) ||
	    !qdate(r, "expires", false, &expires, &res) ||
	    !qdate(r, "birth", false, &birth, &res) ||
	    !qdate(r, "issued", false, &issued, &res))
		return res;
	const char *from = "expires";
	if (expires == JPKI_DAY_NONE) {
		if (birth == JPKI_DAY_NONE || issued == JPKI_DAY_NONE)
			return reply_bad(
			    r, "expires", "give expires, or birth and issued",
			    "有効期限、または生年月日と発行日を入力してください。");
		if (issued < birth)
			return reply_bad(r, "issued", "is before birth",
					 "発行日が生年月日より前です。");
		/* A certificate runs to the 5th birthday after its issue. */
		if (jpki_nth_birthday_after(birth, issued, 5, cfg.feb29, &expires) !=
		    JPKI_OK)
			return out_of_range(r, "issued");
		from = "birth_issued";
	} else if (birth != JPKI_DAY_NONE || issued != JPKI_DAY_NONE) {
		return reply_bad(
		    r, "expires", "give expires, or birth and issued, not both",
		    "有効期限か、生年月日と発行日の、どちらか一方を入力してください。");
	}
	json_t *win = window_json(expires, on);
	if (win == NULL)
		return out_of_range(r, "expires");
	static const enum jpki_applicant who[] = {
	    JPKI_APPLICANT_SELF, JPKI_APPLICANT_PROXY_WITH_FORM,
	    JPKI_APPLICANT_PROXY_WITHOUT_FORM, JPKI_APPLICANT_GUARDIAN,
	    JPKI_APPLICANT_LEGAL_REP};
	json_t *bring = json_object();
	struct jpki_errbuf eb = {{0}};
	for (size_t i = 0; bring && i < sizeof who / sizeof who[0]; i++) {
		jpki_err e;
		json_t *b = bring_json(JPKI_PROC_RENEW, who[i], &eb, &e);
		if (b)
			json_object_set_new(bring, jpki_applicant_name(who[i]), b);
	}
	json_t *today_o = office_day_json(on);
	json_t *days = open_days_json(on, 7);
	json_t *office_o =
	    json_pack("{s:s,s:o,s:o}", "name", jpki_office_name(office), "today",
		      today_o ? today_o : json_null(), "open_days",
		      days ? json_incref(json_object_get(days, "days")) : json_array());
	json_decref(days);
	/* Booking as of now, or as of 09:00 JST (00:00 UTC) of `on` when
	 * asked about another day. */
	int64_t now = now_s();
	if (on != jpki_jst_day(now))
		now = (int64_t)on * 86400;
	json_t *rv = reservable_json(expires, now);
	return reply_json(r, 200,
			  json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "today",
				    jdate(on), "today_wareki", jwareki(on),
				    "computed_from", from, "expires", jdate(expires),
				    "expires_wareki", jwareki(expires), "window", win,
				    "bring", bring, "office", office_o, "reservable",
				    rv ? rv : json_null()));
}
