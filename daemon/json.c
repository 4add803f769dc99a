/* JSON helpers shared by the handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpkid.h"
#include "banned.h"

json_t *jdate(jpki_day d)
{
	char buf[JPKI_DATE_BUFSZ];
	if (d == JPKI_DAY_NONE)
		return json_null();
	return json_string(jpki_date_format(d, buf));
}

json_t *jwareki(jpki_day d)
{
	char buf[JPKI_WAREKI_BUFSZ];
	if (d == JPKI_DAY_NONE ||
	    jpki_wareki(d, buf, sizeof buf, NULL, NULL) != JPKI_OK)
		return json_null();
	return json_string(buf);
}

json_t *jinstant(int64_t t)
{
	char buf[JPKI_INSTANT_BUFSZ];
	if (t == 0 || jpki_instant_format(t, buf) != JPKI_OK)
		return json_null();
	return json_string(buf);
}

bool parse_day(const char *s, jpki_day *out)
{
	struct jpki_errbuf eb = {{0}};
	return s != NULL && jpki_date_parse(s, out, &eb) == JPKI_OK;
}

const char *weekday_ja(jpki_day d)
{
	static const char *const w[] = {"日", "月", "火", "水", "木", "金", "土"};
	int i = jpki_weekday(d);
	return i >= 0 && i < 7 ? w[i] : "";
}

json_t *body_json(struct req *r, enum MHD_Result *res)
{
	const char *ct = header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (r->len > 0 && (ct == NULL || strncmp(ct, "application/json", 16) != 0)) {
		*res = reply_error(r, 415, "unsupported_media_type",
				   "Content-Type は application/json にしてください。",
				   "Content-Type must be application/json");
		return NULL;
	}
	json_error_t je;
	json_t *doc = r->len ? json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je)
			     : json_object();
	if (doc == NULL) {
		*res = reply_error(r, 400, "bad_json",
				   "送信されたデータが JSON として読めません。",
				   "the body is not valid JSON");
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		*res = reply_error(
		    r, 400, "bad_json",
		    "送信されたデータは JSON のオブジェクトにしてください。",
		    "the body must be a JSON object");
		return NULL;
	}
	return doc;
}

bool jstr(struct req *r, json_t *o, const char *key, bool required, size_t max,
	  const char **out, enum MHD_Result *res)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return true;
		*res = reply_bad(r, key, "is required", "必須の項目です。");
		return false;
	}
	if (!json_is_string(v)) {
		*res =
		    reply_bad(r, key, "must be a string", "文字列で指定してください。");
		return false;
	}
	if (json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		*res = reply_bad(r, key, "is too long or contains NUL",
				 "長すぎるか、使えない文字を含んでいます。");
		return false;
	}
	*out = json_string_value(v);
	return true;
}

void jwipe(json_t *v)
{
	if (json_is_string(v)) {
		/* jansson owns the buffer; writing zeros over it in place is
		 * safe while the value is alive. */
		char *s = (char *)(uintptr_t)json_string_value(v);
		explicit_bzero(s, json_string_length(v));
	} else if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x) jwipe(x);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) jwipe(x);
	}
}

bool qint(struct req *r, const char *name, long lo, long hi, long *out,
	  enum MHD_Result *res)
{
	const char *v = query(r, name);
	if (v == NULL)
		return true;
	char *end;
	long x = strtol(v, &end, 10);
	if (end == v || *end || x < lo || x > hi) {
		char en[64], ja[96];
		snprintf(en, sizeof en, "must be %ld..%ld", lo, hi);
		snprintf(ja, sizeof ja, "%ldから%ldまでの数で指定してください。", lo,
			 hi);
		*res = reply_bad(r, name, en, ja);
		return false;
	}
	*out = x;
	return true;
}

/* Unknown members are refused, so a typo is not silently ignored. */
bool only_keys(struct req *r, json_t *o, const char *const *keys, enum MHD_Result *res)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		bool ok = false;
		for (size_t i = 0; keys[i] && !ok; i++)
			ok = strcmp(k, keys[i]) == 0;
		if (!ok) {
			char f[48];
			snprintf(f, sizeof f, "%.40s", k);
			*res = reply_bad(r, f, "is not a known field",
					 "知らない項目です。");
			return false;
		}
	}
	return true;
}
