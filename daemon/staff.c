/* The staff API: residents, their cards and certificates, and the
 * registry operations (lib/registry) with its refusals and messages; staff
 * accounts for admins. Every write runs as actor "staff:USER" and is
 * one transaction with its audit row (the registry's own). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/card.h"
#include "jpki/pin.h"
#include "jpki/validity.h"
#include "jpkid.h"
#include "banned.h"

#define MAX_SEARCH 200

static void actor_of(const struct req *r, char out[48])
{
	if (r->staff.user[0])
		snprintf(out, 48, "staff:%s", r->staff.user);
	else
		snprintf(out, 48, "jpkid");
}

jpki_err audit_staff(struct req *r, struct worker *w, const char *action,
		     const char *object, const char *details_json)
{
	char actor[48];
	actor_of(r, actor);
	struct jpki_errbuf eb = {{0}};
	jpki_err rc = jpki_store_begin(w->store);
	if (rc == JPKI_OK &&
	    (rc = jpki_audit_append(w->store, now_s(), actor, action, object,
				    details_json, &eb)) == JPKI_OK)
		rc = jpki_store_commit(w->store);
	if (rc != JPKI_OK) {
		jpki_store_rollback(w->store);
		fprintf(stderr, "jpkid: audit %s: %s\n", action,
			eb.msg[0] ? eb.msg : jpki_store_errmsg(w->store));
	}
	return rc;
}

bool op_ctx(struct req *r, struct jpki_reg_ctx *ctx, char actor[48],
	    enum MHD_Result *res)
{
	struct worker *w = worker_or_503(r, res);
	if (w == NULL)
		return false;
	actor_of(r, actor);
	*ctx = (struct jpki_reg_ctx){.store = w->store,
				     .keys_dir = cfg.keys_dir,
				     .passphrase = cfg.passphrase,
				     .actor = actor,
				     .now = now_s(),
				     .feb29 = cfg.feb29};
	return true;
}

static bool parse_id(struct req *r, const char *s, int64_t *id, enum MHD_Result *res)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || v <= 0 || strlen(s) > 18) {
		*res = reply_bad(r, "id", "is not a resident id",
				 "住民番号として読めません。");
		return false;
	}
	*id = v;
	return true;
}

/* ---- JSON of registry objects ---- */

static json_t *resident_json(const struct jpki_resident *x, jpki_day today)
{
	return json_pack(
	    "{s:I,s:s,s:s,s:i,s:o,s:o,s:i,s:s,s:o,s:s,s:o,s:o,s:b,s:s,s:o}", "id",
	    (json_int_t)x->id, "name", x->name, "kana", x->kana, "sex", x->sex, "birth",
	    jdate(x->birth), "birth_wareki", jwareki(x->birth), "age",
	    jpki_ordinary_age(x->birth, today), "address", x->address, "postal_code",
	    x->postal_code ? json_string(x->postal_code) : json_null(), "municipality",
	    x->municipality, "nationality",
	    x->nationality ? json_string(x->nationality) : json_null(), "stay_expires",
	    jdate(x->stay_expires), "adult_ward", x->adult_ward, "status",
	    jpki_resident_status_name(x->status), "status_on", jdate(x->status_on));
}

static json_t *card_json(const struct jpki_reg_card *c)
{
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:o}", "serial", c->serial,
			 "municipality", c->municipality, "issued", jdate(c->issued),
			 "expires", jdate(c->expires), "expires_wareki",
			 jwareki(c->expires), "state", jpki_card_state_name(c->state),
			 "state_on", jdate(c->state_on));
}

static json_t *window_of(jpki_day expires, jpki_day today)
{
	jpki_day first, last;
	enum jpki_window_state s;
	if (jpki_renewal_window(expires, &first, &last) != JPKI_OK ||
	    jpki_window_state_on(expires, today, &s) != JPKI_OK)
		return json_null();
	return json_pack("{s:o,s:o,s:o,s:o,s:s}", "first", jdate(first), "last",
			 jdate(last), "first_wareki", jwareki(first), "last_wareki",
			 jwareki(last), "state", jpki_window_state_name(s));
}

static json_t *cert_json(const struct jpki_reg_cert *c, jpki_day today)
{
	return json_pack(
	    "{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:o,s:o,s:o}", "serial", c->serial, "kind",
	    c->kind == JPKI_CERT_SIGN ? "sign" : "auth", "card", c->card, "issued",
	    jdate(c->issued), "expires", jdate(c->expires), "expires_wareki",
	    jwareki(c->expires), "status", jpki_cert_status_name(c->status), "reason",
	    c->reason >= 0 ? json_string(jpki_revocation_reason_name(c->reason))
			   : json_null(),
	    "revoked_at", jinstant(c->revoked_at), "window",
	    c->status == JPKI_CERT_GOOD ? window_of(c->expires, today) : json_null());
}

/* What the counter can do about renewal now. */
static json_t *renewal_json(const struct jpki_resident *res,
			    const struct jpki_reg_card *cards, size_t nc,
			    const struct jpki_reg_cert *certs, size_t nt,
			    jpki_day today)
{
	const struct jpki_reg_card *card = NULL;
	for (size_t i = 0; i < nc && card == NULL; i++)
		if (cards[i].state == JPKI_CARD_ACTIVE)
			card = &cards[i];
	const char *state, *msg;
	jpki_day expires = JPKI_DAY_NONE, first = JPKI_DAY_NONE, last = JPKI_DAY_NONE;
	if (res->status != JPKI_RESIDENT_REGISTERED) {
		state = "not_registered";
		msg = "住民登録がないため、手続はできません。";
	} else if (card == NULL) {
		state = "no_card";
		msg = "有効なマイナンバーカードがありません。";
	} else {
		/* The auth certificate on the card decides (every card has
		 * one; the signing one may be missing). */
		const struct jpki_reg_cert *best = NULL;
		for (size_t i = 0; i < nt; i++) {
			if (strcmp(certs[i].card, card->serial) != 0)
				continue;
			if (certs[i].status == JPKI_CERT_GOOD &&
			    (best == NULL || best->status != JPKI_CERT_GOOD ||
			     (certs[i].kind == JPKI_CERT_AUTH &&
			      best->kind != JPKI_CERT_AUTH)))
				best = &certs[i];
			else if (best == NULL)
				best = &certs[i];
		}
		if (best == NULL || best->status != JPKI_CERT_GOOD) {
			state = "expired";
			msg = "電子証明書の有効期限が過ぎています。カードが有効な間は新"
			      "たに発行できます（無料）。";
			if (best)
				expires = best->expires;
		} else {
			enum jpki_window_state s;
			expires = best->expires;
			jpki_renewal_window(expires, &first, &last);
			jpki_window_state_on(expires, today, &s);
			state = jpki_window_state_name(s);
			/* Certificates that end with the card cannot be
			 * extended on it: the card is renewed. */
			if (card->expires <= expires && s != JPKI_WINDOW_EXPIRED) {
				state = "card_renewal";
				msg = "電子証明書はカードの有効期限で終わります。"
				      "カードの更新（再交付）が必要です。";
				goto done;
			}
			msg =
			    s == JPKI_WINDOW_OPEN ? "更新手続ができます。"
			    : s == JPKI_WINDOW_NOT_YET
				? "更新期間前です。今更新すると有効期限が短くなります。"
				: "電子証明書の有効期限が過ぎています。";
		}
	}
done:
	return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s}", "state", state,
			 "window_first", jdate(first), "window_last", jdate(last),
			 "window_first_wareki", jwareki(first), "window_last_wareki",
			 jwareki(last), "expires", jdate(expires), "card",
			 card ? json_string(card->serial) : json_null(), "message",
			 msg);
}

static json_t *result_json(const char *op, int64_t resident,
			   const struct jpki_reg_result *x, jpki_day today)
{
	json_t *issued = json_array(), *revoked = json_array();
	for (size_t i = 0; issued && i < x->n_issued; i++)
		json_array_append_new(issued, cert_json(&x->issued[i], today));
	for (size_t i = 0; revoked && i < x->n_revoked; i++)
		json_array_append_new(
		    revoked,
		    json_pack("{s:s,s:s,s:s}", "serial", x->revoked[i].serial, "kind",
			      x->revoked[i].kind == JPKI_CERT_SIGN ? "sign" : "auth",
			      "reason",
			      jpki_revocation_reason_name(x->revoked[i].reason)));
	return json_pack("{s:s,s:o,s:o,s:b,s:b,s:o,s:o}", "operation", op, "resident",
			 resident ? json_integer(resident) : json_null(), "card",
			 x->card[0] ? json_string(x->card) : json_null(), "fresh",
			 x->fresh, "early", x->early, "issued", issued, "revoked",
			 revoked);
}

/* ---- reading ---- */

enum MHD_Result h_search(struct req *r, char **p)
{
	(void)p;
	const char *q = query(r, "q");
	long limit = 50;
	enum MHD_Result res;
	if (q == NULL || q[0] == 0)
		return reply_bad(r, "q", "is required", "検索語を入力してください。");
	if (!qint(r, "limit", 1, MAX_SEARCH, &limit, &res))
		return res;
	struct jpki_reg_ctx ctx;
	char actor[48];
	if (!op_ctx(r, &ctx, actor, &res))
		return res;
	struct jpki_reg_msg m = {0};
	int64_t *ids = NULL;
	size_t n = 0;
	bool truncated = false;
	jpki_err e = jpki_reg_search(&ctx, q, (size_t)limit, &ids, &n, &truncated, &m);
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	json_t *arr = json_array();
	jpki_day today = jpki_jst_day(ctx.now);
	for (size_t i = 0; i < n && e == JPKI_OK; i++) {
		struct jpki_resident x;
		if ((e = jpki_reg_resident_get(&ctx, ids[i], &x, &m)) == JPKI_OK) {
			json_array_append_new(arr, resident_json(&x, today));
			jpki_resident_release(&x);
		}
	}
	free(ids);
	if (e != JPKI_OK) {
		json_decref(arr);
		return reply_reg(r, e, &m);
	}
	return reply_json(
	    r, 200, json_pack("{s:o,s:b}", "residents", arr, "truncated", truncated));
}

enum MHD_Result h_resident(struct req *r, char **p)
{
	enum MHD_Result res;
	int64_t id;
	if (!parse_id(r, p[0], &id, &res))
		return res;
	struct jpki_reg_ctx ctx;
	char actor[48];
	if (!op_ctx(r, &ctx, actor, &res))
		return res;
	struct jpki_reg_msg m = {0};
	struct jpki_resident x;
	jpki_err e = jpki_reg_resident_get(&ctx, id, &x, &m);
	if (e == JPKI_ERR_NOTFOUND)
		return reply_error(r, 404, "no_resident", "該当する住民がいません。",
				   "no such resident");
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	struct jpki_reg_card *cards = NULL;
	struct jpki_reg_cert *certs = NULL;
	size_t nc = 0, nt = 0;
	if ((e = jpki_reg_cards(&ctx, id, &cards, &nc, &m)) != JPKI_OK ||
	    (e = jpki_reg_certs(&ctx, id, &certs, &nt, &m)) != JPKI_OK) {
		jpki_resident_release(&x);
		free(cards);
		return reply_reg(r, e, &m);
	}
	jpki_day today = jpki_jst_day(ctx.now);
	json_t *ca = json_array(), *ce = json_array();
	for (size_t i = 0; i < nc; i++)
		json_array_append_new(ca, card_json(&cards[i]));
	for (size_t i = 0; i < nt; i++)
		json_array_append_new(ce, cert_json(&certs[i], today));
	json_t *doc =
	    json_pack("{s:o,s:o,s:o,s:o}", "resident", resident_json(&x, today),
		      "cards", ca, "certificates", ce, "renewal",
		      renewal_json(&x, cards, nc, certs, nt, today));
	jpki_resident_release(&x);
	free(cards);
	free(certs);
	return reply_json(r, 200, doc);
}

enum MHD_Result h_stats_expiring(struct req *r, char **p)
{
	(void)p;
	const char *from = query(r, "from");
	int64_t now = now_s();
	int y, mo, d;
	long months = 24;
	enum MHD_Result res;
	jpki_day_to_ymd(jpki_jst_day(now), &y, &mo, &d);
	if (from) {
		char *end;
		long yy = strtol(from, &end, 10);
		long mm = *end == '-' ? strtol(end + 1, &end, 10) : 0;
		if (strlen(from) != 7 || *end || yy < 1900 || yy > 2200 || mm < 1 ||
		    mm > 12)
			return reply_bad(r, "from", "must be YYYY-MM",
					 "YYYY-MM で指定してください。");
		y = (int)yy;
		mo = (int)mm;
	}
	if (!qint(r, "months", 1, 60, &months, &res))
		return res;
	struct jpki_reg_ctx ctx;
	char actor[48];
	if (!op_ctx(r, &ctx, actor, &res))
		return res;
	struct jpki_reg_msg m = {0};
	struct jpki_expiry_count counts[60];
	jpki_err e = jpki_reg_expiry_counts(&ctx, y, mo, (int)months, counts, &m);
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	json_t *arr = json_array();
	for (int i = 0; i < months; i++) {
		char ym[16];
		snprintf(ym, sizeof ym, "%04d-%02d", counts[i].year % 10000,
			 counts[i].month % 100);
		json_array_append_new(arr,
				      json_pack("{s:s,s:I,s:I,s:I}", "month", ym,
						"sign", (json_int_t)counts[i].sign,
						"auth", (json_int_t)counts[i].auth,
						"cards", (json_int_t)counts[i].cards));
	}
	char fm[16];
	snprintf(fm, sizeof fm, "%04d-%02d", y % 10000, mo % 100);
	return reply_json(r, 200, json_pack("{s:s,s:o}", "from", fm, "months", arr));
}

/* ---- operations ---- */

/* The resident's active card file, or replies (404 no_card). */
static bool active_card(struct req *r, const struct jpki_reg_ctx *ctx, int64_t id,
			char *path, size_t cap, enum MHD_Result *res)
{
	struct jpki_reg_msg m = {0};
	struct jpki_resident x;
	jpki_err e = jpki_reg_resident_get(ctx, id, &x, &m);
	if (e != JPKI_OK) {
		*res = e == JPKI_ERR_NOTFOUND
			   ? reply_error(r, 404, "no_resident",
					 "該当する住民がいません。", "no such resident")
			   : reply_reg(r, e, &m);
		return false;
	}
	enum jpki_resident_status status = x.status;
	jpki_resident_release(&x);
	if (status != JPKI_RESIDENT_REGISTERED) {
		*res = reply_error(r, 422, jpki_resident_status_name(status),
				   status == JPKI_RESIDENT_DECEASED
				       ? "死亡した方の手続はできません。"
				       : "住民登録のない方の手続はできません。",
				   "the resident is no longer registered");
		return false;
	}
	struct jpki_reg_card *cards = NULL;
	size_t n = 0;
	if ((e = jpki_reg_cards(ctx, id, &cards, &n, &m)) != JPKI_OK) {
		*res = reply_reg(r, e, &m);
		return false;
	}
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		if (cards[i].state == JPKI_CARD_ACTIVE && cards[i].image[0]) {
			snprintf(path, cap, "%s", cards[i].image);
			found = true;
		}
	free(cards);
	if (!found)
		*res = reply_error(r, 404, "no_card",
				   "有効なマイナンバーカードがありません。",
				   "the resident has no active card");
	return found;
}

/* A PIN from JSON into out (normalized); replies 400 naming the field
 * (never the PIN) on a bad one. */
static bool read_pin(struct req *r, json_t *v, enum jpki_pin_kind k, const char *field,
		     char out[JPKI_PIN_MAX_LEN + 1], enum MHD_Result *res)
{
	if (!json_is_string(v)) {
		*res = reply_bad(r, field, "must be a string",
				 "文字列で指定してください。");
		return false;
	}
	enum jpki_pin_problem pp =
	    jpki_pin_check(k, json_string_value(v), json_string_length(v), out);
	if (pp != JPKI_PIN_OK) {
		*res = reply_bad(r, field, jpki_pin_problem_en(k, pp),
				 jpki_pin_problem_ja(k, pp));
		return false;
	}
	return true;
}

static bool jbool(struct req *r, json_t *o, const char *key, bool *out,
		  enum MHD_Result *res)
{
	json_t *v = json_object_get(o, key);
	*out = false;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_boolean(v)) {
		*res = reply_bad(r, key, "must be true or false",
				 "true か false で指定してください。");
		return false;
	}
	*out = json_is_true(v);
	return true;
}

enum MHD_Result h_renew(struct req *r, char **p)
{
	enum MHD_Result res;
	int64_t id;
	if (!parse_id(r, p[0], &id, &res))
		return res;
	json_t *body = body_json(r, &res);
	if (body == NULL)
		return res;
	static const char *const keys[] = {"pins", "early", "ward_present", NULL};
	struct jpki_reg_pins pins = {0};
	struct jpki_reg_renew_opts o = {.pins = &pins};
	json_t *jp = json_object_get(body, "pins");
	bool ok = only_keys(r, body, keys, &res) &&
		  jbool(r, body, "early", &o.early, &res) &&
		  jbool(r, body, "ward_present", &o.ward_present, &res);
	if (ok && !json_is_object(jp)) {
		res = reply_bad(r, "pins", "must be an object {\"sign\",\"auth\"}",
				"暗証番号を指定してください。");
		ok = false;
	}
	const char *k;
	json_t *v;
	if (ok)
		json_object_foreach(jp, k, v)
		{
			int kind = jpki_pin_kind_parse(k);
			char field[32];
			snprintf(field, sizeof field, "pins.%.16s", k);
			if (kind != JPKI_PIN_SIGN && kind != JPKI_PIN_AUTH) {
				res = reply_bad(r, field, "is not sign or auth",
						"sign か auth を指定してください。");
				ok = false;
				break;
			}
			if (!(ok = read_pin(r, v, (enum jpki_pin_kind)kind, field,
					    pins.pin[kind], &res)))
				break;
			pins.has[kind] = true;
		}
	json_decref(body);
	if (!ok) {
		OPENSSL_cleanse(&pins, sizeof pins);
		return res;
	}
	if (!pins.has[JPKI_PIN_AUTH]) {
		OPENSSL_cleanse(&pins, sizeof pins);
		return reply_bad(r, "pins.auth", "is required",
				 "利用者証明用の暗証番号が必要です。");
	}
	struct jpki_reg_ctx ctx;
	char actor[48], card[4096];
	if (!op_ctx(r, &ctx, actor, &res)) {
		OPENSSL_cleanse(&pins, sizeof pins);
		return res;
	}
	if (!active_card(r, &ctx, id, card, sizeof card, &res)) {
		OPENSSL_cleanse(&pins, sizeof pins);
		return res;
	}
	o.card_path = card;
	struct jpki_reg_result x = {0};
	struct jpki_reg_msg m = {0};
	jpki_err e = jpki_reg_renew(&ctx, id, &o, &x, &m);
	OPENSSL_cleanse(&pins, sizeof pins);
	if (x.n_revoked)
		pki_invalidate();
	if (e == JPKI_ERR_REFUSED && strcmp(m.code, "not_in_window") == 0)
		return reply_error(
		    r, 422, "not_in_window",
		    "更新期間の前です。今更新すると有効期限が短くなります。"
		    "よろしければ「期間前更新」を選んでください（early: true）。",
		    "the renewal window has not opened; renewing now gives a "
		    "shorter validity: send \"early\": true to confirm");
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	return reply_json(r, 200, result_json("renew", id, &x, jpki_jst_day(ctx.now)));
}

enum MHD_Result h_pin_reset(struct req *r, char **p)
{
	enum MHD_Result res;
	int64_t id;
	if (!parse_id(r, p[0], &id, &res))
		return res;
	json_t *body = body_json(r, &res);
	if (body == NULL)
		return res;
	static const char *const keys[] = {"kind", "pin", NULL};
	const char *ks;
	char pin[JPKI_PIN_MAX_LEN + 1] = "";
	int kind = -1;
	bool ok =
	    only_keys(r, body, keys, &res) && jstr(r, body, "kind", true, 8, &ks, &res);
	if (ok && (kind = jpki_pin_kind_parse(ks)) < 0) {
		res = reply_bad(r, "kind", "must be sign, auth, juki or text",
				"sign, auth, juki, text のいずれかです。");
		ok = false;
	}
	json_t *jp = json_object_get(body, "pin");
	bool has_pin = jp && !json_is_null(jp);
	if (ok && has_pin)
		ok = read_pin(r, jp, (enum jpki_pin_kind)kind, "pin", pin, &res);
	json_decref(body);
	if (!ok) {
		OPENSSL_cleanse(pin, sizeof pin);
		return res;
	}
	struct jpki_reg_ctx ctx;
	char actor[48], card[4096];
	if (!op_ctx(r, &ctx, actor, &res)) {
		OPENSSL_cleanse(pin, sizeof pin);
		return res;
	}
	if (!active_card(r, &ctx, id, card, sizeof card, &res)) {
		OPENSSL_cleanse(pin, sizeof pin);
		return res;
	}
	struct jpki_reg_result x = {0};
	struct jpki_reg_msg m = {0};
	jpki_err e = jpki_reg_reset_pin(&ctx, id, card, (enum jpki_pin_kind)kind,
					has_pin ? pin : NULL, &x, &m);
	OPENSSL_cleanse(pin, sizeof pin);
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	json_t *doc = result_json("pin_reset", id, &x, jpki_jst_day(ctx.now));
	if (doc) {
		json_object_set_new(doc, "kind", json_string(jpki_pin_kind_name(kind)));
		json_object_set_new(doc, "new_pin", json_boolean(has_pin));
	}
	return reply_json(r, 200, doc);
}

enum MHD_Result h_events(struct req *r, char **p)
{
	enum MHD_Result res;
	int64_t id;
	if (!parse_id(r, p[0], &id, &res))
		return res;
	json_t *body = body_json(r, &res);
	if (body == NULL)
		return res;
	const char *type;
	if (!jstr(r, body, "type", true, 16, &type, &res)) {
		json_decref(body);
		return res;
	}
	struct jpki_reg_ctx ctx;
	char actor[48];
	if (!op_ctx(r, &ctx, actor, &res)) {
		json_decref(body);
		return res;
	}
	struct jpki_reg_result x = {0};
	struct jpki_reg_msg m = {0};
	jpki_err e = JPKI_OK;
	bool ok = true;
	const char *a = NULL, *b = NULL, *c = NULL;
	if (strcmp(type, "move") == 0) {
		static const char *const keys[] = {"type", "address", "municipality",
						   "postal_code", NULL};
		ok = only_keys(r, body, keys, &res) &&
		     jstr(r, body, "address", true, 800, &a, &res) &&
		     jstr(r, body, "municipality", false, 6, &b, &res) &&
		     jstr(r, body, "postal_code", false, 8, &c, &res);
		if (ok)
			e = jpki_reg_move(&ctx, id, a, b, c, &x, &m);
	} else if (strcmp(type, "rename") == 0) {
		static const char *const keys[] = {"type", "name", "kana", NULL};
		ok = only_keys(r, body, keys, &res) &&
		     jstr(r, body, "name", true, 400, &a, &res) &&
		     jstr(r, body, "kana", true, 400, &b, &res);
		if (ok)
			e = jpki_reg_rename(&ctx, id, a, b, &x, &m);
	} else if (strcmp(type, "correct") == 0) {
		static const char *const keys[] = {"type", "birth", "sex", NULL};
		jpki_day birth = JPKI_DAY_NONE;
		json_t *sex = json_object_get(body, "sex");
		ok = only_keys(r, body, keys, &res) &&
		     jstr(r, body, "birth", false, 10, &a, &res);
		if (ok && a && !parse_day(a, &birth)) {
			res = reply_bad(r, "birth", "is not a date YYYY-MM-DD",
					"日付（YYYY-MM-DD）として読めません。");
			ok = false;
		}
		if (ok && sex && !json_is_null(sex) &&
		    (!json_is_integer(sex) || json_integer_value(sex) < 1 ||
		     json_integer_value(sex) > 3)) {
			res = reply_bad(r, "sex", "must be 1, 2 or 3",
					"1, 2, 3 のいずれかです。");
			ok = false;
		}
		if (ok)
			e = jpki_reg_correct(&ctx, id, birth,
					     sex && json_is_integer(sex)
						 ? (int)json_integer_value(sex)
						 : 0,
					     &x, &m);
	} else if (strcmp(type, "decease") == 0 || strcmp(type, "remove") == 0) {
		static const char *const keys[] = {"type", "on", NULL};
		jpki_day on = JPKI_DAY_NONE;
		ok = only_keys(r, body, keys, &res) &&
		     jstr(r, body, "on", true, 10, &a, &res);
		if (ok && !parse_day(a, &on)) {
			res = reply_bad(r, "on", "is not a date YYYY-MM-DD",
					"日付（YYYY-MM-DD）として読めません。");
			ok = false;
		}
		if (ok)
			e = type[0] == 'd' ? jpki_reg_decease(&ctx, id, on, &x, &m)
					   : jpki_reg_remove(&ctx, id, on, &x, &m);
	} else if (strcmp(type, "card_return") == 0 || strcmp(type, "card_lost") == 0) {
		static const char *const keys[] = {"type", NULL};
		ok = only_keys(r, body, keys, &res);
		if (ok)
			e = jpki_reg_card_end(&ctx, id,
					      type[5] == 'r' ? JPKI_CARD_RETURNED
							     : JPKI_CARD_LOST,
					      &x, &m);
	} else {
		res = reply_bad(r, "type",
				"must be move, rename, correct, decease, remove, "
				"card_return or card_lost",
				"異動の種類が正しくありません。");
		ok = false;
	}
	char op[24];
	snprintf(op, sizeof op, "%s", ok ? type : "");
	json_decref(body);
	if (!ok)
		return res;
	if (x.n_revoked)
		pki_invalidate();
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	return reply_json(r, 200, result_json(op, id, &x, jpki_jst_day(ctx.now)));
}

enum MHD_Result h_revoke(struct req *r, char **p)
{
	enum MHD_Result res;
	const char *serial = p[0];
	size_t n = strlen(serial);
	if (n == 0 || n > 64 || strspn(serial, "0123456789abcdefABCDEF") != n)
		return reply_bad(r, "serial", "is not a hexadecimal serial",
				 "シリアル番号（16進）として読めません。");
	json_t *body = body_json(r, &res);
	if (body == NULL)
		return res;
	static const char *const keys[] = {"reason", NULL};
	const char *rs = NULL;
	bool ok = only_keys(r, body, keys, &res) &&
		  jstr(r, body, "reason", false, 32, &rs, &res);
	enum jpki_revocation_reason reason = JPKI_REASON_UNSPECIFIED;
	if (ok && rs && jpki_revocation_reason_parse(rs, &reason) != JPKI_OK) {
		res =
		    reply_bad(r, "reason",
			      "must be unspecified, keyCompromise, affiliationChanged, "
			      "superseded or cessationOfOperation",
			      "失効理由が正しくありません。");
		ok = false;
	}
	json_decref(body);
	if (!ok)
		return res;
	struct jpki_reg_ctx ctx;
	char actor[48];
	if (!op_ctx(r, &ctx, actor, &res))
		return res;
	struct jpki_reg_result x = {0};
	struct jpki_reg_msg m = {0};
	jpki_err e = jpki_reg_revoke(&ctx, serial, (int)reason, &x, &m);
	if (x.n_revoked)
		pki_invalidate();
	if (e == JPKI_ERR_NOTFOUND)
		return reply_error(r, 404, "no_cert",
				   "その電子証明書は登録されていません。",
				   "no such registered certificate");
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	return reply_json(r, 200, result_json("revoke", 0, &x, jpki_jst_day(ctx.now)));
}

/* ---- staff accounts (admin) ---- */

static json_t *staff_json(const struct jpki_staff *s)
{
	return json_pack("{s:s,s:s,s:b,s:o,s:o}", "user", s->user, "role",
			 jpki_staff_role_name(s->role), "disabled", s->disabled,
			 "created_at", jinstant(s->created_at), "last_login",
			 jinstant(s->last_login));
}

enum MHD_Result h_staff_list(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL)
		return res;
	struct jpki_staff *list = NULL;
	size_t n = 0;
	struct jpki_errbuf eb = {{0}};
	if (jpki_staff_list(w->store, &list, &n, &eb) != JPKI_OK)
		return reply_internal(r, eb.msg);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, staff_json(&list[i]));
	free(list);
	return reply_json(r, 200, json_pack("{s:o}", "staff", arr));
}

enum MHD_Result h_staff_add(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	json_t *body = body_json(r, &res);
	if (body == NULL)
		return res;
	static const char *const keys[] = {"user", "role", "password", NULL};
	const char *user, *role_s, *pw;
	enum jpki_staff_role role = JPKI_ROLE_COUNTER;
	bool ok = only_keys(r, body, keys, &res) &&
		  jstr(r, body, "user", true, 64, &user, &res) &&
		  jstr(r, body, "role", true, 16, &role_s, &res) &&
		  jstr(r, body, "password", true, 256, &pw, &res);
	if (ok && jpki_staff_role_parse(role_s, &role) != JPKI_OK) {
		res = reply_bad(r, "role", "must be counter, supervisor or admin",
				"counter, supervisor, admin のいずれかです。");
		ok = false;
	}
	struct worker *w = ok ? worker_or_503(r, &res) : NULL;
	ok = ok && w != NULL;
	if (!ok) {
		json_decref(body);
		return res;
	}
	char actor[48];
	actor_of(r, actor);
	struct jpki_errbuf eb = {{0}};
	jpki_err e =
	    jpki_staff_add(w->store, user, role, pw, strlen(pw), actor, now_s(), &eb);
	char u[40];
	snprintf(u, sizeof u, "%.32s", user);
	json_decref(body);
	if (e == JPKI_ERR_INVALID)
		return reply_error(
		    r, 400, "bad_input",
		    "ユーザー名は英小文字で始まる英小文字・数字・._- の32文字まで、"
		    "パスワードは10文字以上にしてください。",
		    eb.msg);
	if (e == JPKI_ERR_CONFLICT)
		return reply_error(r, 409, "user_exists",
				   "そのユーザー名は使われています。", eb.msg);
	if (e != JPKI_OK)
		return reply_internal(r, eb.msg);
	return reply_json(
	    r, 201,
	    json_pack("{s:s,s:s}", "user", u, "role", jpki_staff_role_name(role)));
}

enum MHD_Result h_staff_disable(struct req *r, char **p)
{
	const char *user = p[0];
	if (strcmp(user, r->staff.user) == 0)
		return reply_error(r, 422, "self",
				   "自分自身のアカウントは停止できません。",
				   "you cannot disable your own account");
	enum MHD_Result res;
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL)
		return res;
	char actor[48];
	actor_of(r, actor);
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_staff_disable(w->store, user, actor, now_s(), &eb);
	if (e == JPKI_ERR_NOTFOUND || e == JPKI_ERR_INVALID)
		return reply_error(r, 404, "not_found", "そのユーザーはいません。",
				   eb.msg);
	if (e != JPKI_OK)
		return reply_internal(r, eb.msg);
	sessions_end_user(user);
	return reply_json(r, 200, json_pack("{s:s,s:b}", "user", user, "disabled", 1));
}
