/* Residents, their events, and what the registry shows of cards and
 * certificates (DOMAIN §4). Residents' names and addresses never go into
 * the audit log, which cannot be erased: rows name ids and serials. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/pki.h"
#include "jpki/registry.h"
#include "jpki/utf8.h"
#include "reg_internal.h"
#include "banned.h"

#define NAME_MAX_CHARS	  100
#define ADDRESS_MAX_CHARS 200

/* ---- shared helpers ---- */

jpki_err jpkii_reg_fail(struct jpki_reg_msg *m, jpki_err e, const char *code,
			const char *en, const char *ja, ...)
{
	if (m == NULL)
		return e;
	va_list ap, aq;
	va_start(ap, ja);
	va_copy(aq, ap);
	snprintf(m->code, sizeof m->code, "%s", code);
	if (vsnprintf(m->en, sizeof m->en, en, ap) < 0)
		m->en[0] = '\0';
		/* Japanese lines use the same arguments; the format is trusted. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (vsnprintf(m->ja, sizeof m->ja, ja, aq) < 0)
		m->ja[0] = '\0';
#pragma GCC diagnostic pop
	va_end(aq);
	va_end(ap);
	return e;
}

jpki_err jpkii_reg_store_fail(const struct jpki_reg_ctx *ctx, struct jpki_reg_msg *m,
			      jpki_err e)
{
	const char *t = jpki_store_errmsg(ctx->store);
	return jpkii_reg_fail(m, e, "store", "store: %s",
			      "データベースの処理に失敗しました (%s)", t);
}

jpki_err jpkii_reg_eb_fail(struct jpki_reg_msg *m, jpki_err e, const char *code,
			   const struct jpki_errbuf *eb)
{
	return jpkii_reg_fail(m, e, code, "%s", "処理できませんでした: %s", eb->msg);
}

static jpki_err bind_va(struct jpki_stmt *st, const char *types, va_list ap)
{
	jpki_err rc = JPKI_OK;
	char d[JPKI_DATE_BUFSZ];
	for (int i = 0; rc == JPKI_OK && types[i]; i++) {
		if (types[i] == 't') {
			const char *v = va_arg(ap, const char *);
			rc = v ? jpki_stmt_bind_text(st, i + 1, v)
			       : jpki_stmt_bind_null(st, i + 1);
		} else if (types[i] == 'd') {
			jpki_day v = va_arg(ap, jpki_day);
			rc = v == JPKI_DAY_NONE
				 ? jpki_stmt_bind_null(st, i + 1)
				 : jpki_stmt_bind_text(st, i + 1,
						       jpki_date_format(v, d));
		} else {
			rc = jpki_stmt_bind_int64(st, i + 1, va_arg(ap, int64_t));
		}
	}
	return rc;
}

jpki_err jpkii_reg_sql(struct jpki_store *s, const char *types, const char *sql, ...)
{
	struct jpki_stmt *st = NULL;
	jpki_err rc = jpki_stmt_prepare(s, sql, &st);
	va_list ap;
	va_start(ap, sql);
	if (rc == JPKI_OK)
		rc = bind_va(st, types, ap);
	va_end(ap);
	bool row;
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	return rc;
}

jpki_err jpkii_reg_query(struct jpki_store *s, struct jpki_stmt **st, const char *types,
			 const char *sql, ...)
{
	jpki_err rc = jpki_stmt_prepare(s, sql, st);
	va_list ap;
	va_start(ap, sql);
	if (rc == JPKI_OK)
		rc = bind_va(*st, types, ap);
	va_end(ap);
	if (rc != JPKI_OK) {
		jpki_stmt_finalize(*st);
		*st = NULL;
	}
	return rc;
}

bool jpkii_reg_grow(void *arrp, size_t *cap, size_t n, size_t elem)
{
	void *old, *p;
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 8;
	memcpy(&old, arrp, sizeof old);
	if ((p = realloc(old, nc * elem)) == NULL)
		return false;
	memcpy(arrp, &p, sizeof p);
	*cap = nc;
	return true;
}

jpki_day jpkii_reg_col_day(struct jpki_stmt *st, int col)
{
	jpki_day d;
	if (jpki_stmt_is_null(st, col) ||
	    jpki_date_parse(jpki_stmt_text(st, col), &d, NULL) != JPKI_OK)
		return JPKI_DAY_NONE;
	return d;
}

jpki_err jpkii_reg_audit(const struct jpki_reg_ctx *ctx, const char *action,
			 const char *object, const char *details_json,
			 struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err rc =
	    jpki_audit_append(ctx->store, ctx->now, ctx->actor ? ctx->actor : "jpki",
			      action, object, details_json, &eb);
	return rc == JPKI_OK ? rc : jpkii_reg_eb_fail(m, rc, "store", &eb);
}

jpki_err jpkii_reg_audit_commit(const struct jpki_reg_ctx *ctx, const char *action,
				const char *object, const char *details_json,
				struct jpki_reg_msg *m)
{
	jpki_err rc = jpkii_reg_audit(ctx, action, object, details_json, m);
	if (rc == JPKI_OK && (rc = jpki_store_commit(ctx->store)) != JPKI_OK)
		rc = jpkii_reg_store_fail(ctx, m, rc);
	if (rc != JPKI_OK)
		jpki_store_rollback(ctx->store);
	return rc;
}

jpki_err jpkii_reg_event(const struct jpki_reg_ctx *ctx, int64_t resident,
			 const char *kind, jpki_day on, const char *details_json)
{
	return jpkii_reg_sql(ctx->store, "itdit",
			     "INSERT INTO resident_event (resident, kind, on_day, at, "
			     "details) VALUES ($1, $2, $3, $4, $5)",
			     resident, kind, on, ctx->now, details_json);
}

static void zeros(const char *text, char *out, size_t cap)
{
	ssize_t n = text ? jpki_utf8_chars(text, strlen(text)) : 0;
	size_t k = n > 0 ? (size_t)n : 0;
	if (k >= cap)
		k = cap - 1;
	memset(out, '0', k);
	out[k] = '\0';
}

void jpkii_reg_subject(const struct jpki_resident *res, struct jpkii_subject_buf *b)
{
	zeros(res->name, b->name_alt, sizeof b->name_alt);
	zeros(res->address, b->address_alt, sizeof b->address_alt);
	b->s = (struct jpki_subject){.name = res->name,
				     .name_alt = b->name_alt,
				     .address = res->address,
				     .address_alt = b->address_alt,
				     .sex = res->sex,
				     .birth = res->birth};
	snprintf(b->s.municipality, sizeof b->s.municipality, "%s", res->municipality);
}

const char *jpkii_reg_kind_name(enum jpki_cert_kind k)
{
	return k == JPKI_CERT_SIGN ? "sign" : "auth";
}

jpki_err jpkii_reg_ca(const struct jpki_reg_ctx *ctx, struct jpki_ca **ca,
		      struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err rc = jpki_ca_open(ctx->store, ctx->keys_dir, ctx->passphrase, ca, &eb);
	if (rc == JPKI_ERR_REFUSED)
		return jpkii_reg_fail(
		    m, JPKI_ERR_CONFIG, "no_ca", "the store has no CA: run jpki init",
		    "認証局がありません (jpki init を実行してください)");
	return rc == JPKI_OK ? rc : jpkii_reg_eb_fail(m, rc, "ca", &eb);
}

/* ---- names of states ---- */

const char *jpki_resident_status_name(enum jpki_resident_status s)
{
	switch (s) {
	case JPKI_RESIDENT_REGISTERED:
		return "registered";
	case JPKI_RESIDENT_REMOVED:
		return "removed";
	case JPKI_RESIDENT_DECEASED:
		return "deceased";
	}
	return "unknown";
}

static enum jpki_resident_status status_parse(const char *s)
{
	if (strcmp(s, "removed") == 0)
		return JPKI_RESIDENT_REMOVED;
	if (strcmp(s, "deceased") == 0)
		return JPKI_RESIDENT_DECEASED;
	return JPKI_RESIDENT_REGISTERED;
}

static const char *const card_states[] = {"active", "returned", "lost", "expired",
					  "abolished"};

const char *jpki_card_state_name(enum jpki_card_state s)
{
	return (unsigned)s < 5 ? card_states[s] : "unknown";
}

static enum jpki_card_state card_state_parse(const char *s)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(s, card_states[i]) == 0)
			return (enum jpki_card_state)i;
	return JPKI_CARD_ABOLISHED;
}

const char *jpki_cert_status_name(enum jpki_cert_status s)
{
	switch (s) {
	case JPKI_CERT_GOOD:
		return "good";
	case JPKI_CERT_REVOKED:
		return "revoked";
	case JPKI_CERT_EXPIRED:
		return "expired";
	}
	return "unknown";
}

/* ---- checks of resident data ---- */

static bool has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return true;
	return false;
}

static jpki_err check_text(const char *field, const char *ja, const char *v, size_t max,
			   struct jpki_reg_msg *m)
{
	ssize_t n = v ? jpki_utf8_chars(v, strlen(v)) : 0;
	/* Only spaces (ASCII or the ideographic U+3000) is empty too. */
	const char *q = v ? v : "";
	while (*q == ' ' || strncmp(q, "\u3000", 3) == 0)
		q += *q == ' ' ? 1 : 3;
	if (v == NULL || n == 0 || *q == '\0')
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%s%.0s is empty", "%.0s%sが空です", field, ja);
	if (n < 0 || has_control(v))
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%s%.0s is not UTF-8 text",
				      "%.0s%sの文字が正しくありません", field, ja);
	if ((size_t)n > max)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%s%.0s has more than %zu characters",
				      "%.0s%sが長すぎます (%zu文字まで)", field, ja,
				      max);
	return JPKI_OK;
}

/* Full-width katakana (U+30A1..U+30FA, ー U+30FC, ・ U+30FB, ヽヾ) and
 * spaces (U+3000 or ASCII). */
static jpki_err check_kana(const char *v, struct jpki_reg_msg *m)
{
	jpki_err rc = check_text("kana", "フリガナ", v, NAME_MAX_CHARS, m);
	if (rc != JPKI_OK)
		return rc;
	const unsigned char *p = (const unsigned char *)v;
	while (*p) {
		if (*p == ' ') {
			p++;
			continue;
		}
		unsigned cp = 0;
		if (p[0] == 0xe3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80)
			cp = 0x3000u | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
		if (!(cp == 0x3000 || (cp >= 0x30a1 && cp <= 0x30fe)))
			return jpkii_reg_fail(
			    m, JPKI_ERR_INVALID, "bad_input",
			    "kana must be full-width katakana",
			    "フリガナは全角カタカナで入力してください");
		p += 3;
	}
	return JPKI_OK;
}

static jpki_err check_postal(const char *v, struct jpki_reg_msg *m)
{
	if (v == NULL)
		return JPKI_OK;
	bool ok = strlen(v) == 8 && v[3] == '-';
	for (int i = 0; ok && i < 8; i++)
		if (i != 3 && !(v[i] >= '0' && v[i] <= '9'))
			ok = false;
	return ok ? JPKI_OK
		  : jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				   "postal code must be NNN-NNNN",
				   "郵便番号は NNN-NNNN の形で入力してください");
}

static jpki_err check_municipality(const struct jpki_reg_ctx *ctx, const char *code,
				   struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "t",
				      "SELECT 1 FROM municipality WHERE code = $1",
				      code ? code : "");
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if (!row)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "unknown_municipality",
				      "municipality %.10s is not in this store",
				      "市区町村コード %.10s は登録されていません",
				      code ? code : "");
	return JPKI_OK;
}

static jpki_err check_birth(const struct jpki_reg_ctx *ctx, jpki_day birth,
			    struct jpki_reg_msg *m)
{
	jpki_day min = jpki_day_from_ymd_unchecked(1873, 1, 1);
	if (birth == JPKI_DAY_NONE || birth < min || birth > jpki_jst_day(ctx->now))
		return jpkii_reg_fail(
		    m, JPKI_ERR_INVALID, "bad_input",
		    "the birth date must be between 1873-01-01 and today",
		    "生年月日は1873年1月1日から今日までの日付です");
	return JPKI_OK;
}

static jpki_err check_resident(const struct jpki_reg_ctx *ctx,
			       const struct jpki_resident *r, struct jpki_reg_msg *m)
{
	jpki_err rc;
	if ((rc = check_text("name", "氏名", r->name, NAME_MAX_CHARS, m)) ||
	    (rc = check_kana(r->kana, m)) ||
	    (rc = check_text("address", "住所", r->address, ADDRESS_MAX_CHARS, m)) ||
	    (rc = check_postal(r->postal_code, m)) ||
	    (rc = check_birth(ctx, r->birth, m)))
		return rc;
	if (r->sex < 1 || r->sex > 3)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "sex must be 1 (male), 2 (female) or 3 (unknown)",
				      "性別は 1 (男)、2 (女)、3 (不明) のいずれかです");
	if (r->nationality && !(strlen(r->nationality) == 2 &&
				r->nationality[0] >= 'A' && r->nationality[0] <= 'Z' &&
				r->nationality[1] >= 'A' && r->nationality[1] <= 'Z'))
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "nationality must be an ISO 3166 code such as VN",
				      "国籍は VN のような ISO 3166 の2文字コードです");
	if (r->stay_expires != JPKI_DAY_NONE &&
	    r->stay_expires < jpki_jst_day(ctx->now))
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "the period of stay has already ended",
				      "在留期間が既に満了しています");
	return check_municipality(ctx, r->municipality, m);
}

/* ---- residents ---- */

void jpki_resident_release(struct jpki_resident *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->kana);
	free(r->address);
	free(r->postal_code);
	free(r->nationality);
	memset(r, 0, sizeof *r);
}

jpki_err jpki_reg_resident_add(const struct jpki_reg_ctx *ctx,
			       const struct jpki_resident *in, int64_t *id,
			       struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc;
	char details[64];
	if ((rc = check_resident(ctx, in, m)))
		return rc;
	if ((rc = jpki_store_begin(ctx->store)))
		return jpkii_reg_store_fail(ctx, m, rc);
	rc = jpkii_reg_query(
	    ctx->store, &st, "ttidtttttdiii",
	    "INSERT INTO resident (name, kana, sex, birth, address, postal_code, "
	    "municipality, nationality, status, stay_expires, adult_ward, synthetic, "
	    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	    "$11, $12, $13, $13) RETURNING id",
	    in->name, in->kana, (int64_t)in->sex, in->birth, in->address,
	    in->postal_code, in->municipality, in->nationality, "registered",
	    in->stay_expires, (int64_t)in->adult_ward, (int64_t)in->synthetic,
	    ctx->now);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && !row)
		rc = JPKI_ERR_STORE;
	if (rc != JPKI_OK) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	*id = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	st = NULL;
	char object[32];
	snprintf(object, sizeof object, "resident:%" PRId64, *id);
	snprintf(details, sizeof details, "{\"municipality\":\"%s\"}",
		 in->municipality);
	if ((rc =
		 jpkii_reg_event(ctx, *id, "added", jpki_jst_day(ctx->now), details))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	rc = jpkii_reg_audit_commit(ctx, "resident.add", object, details, m);
out:
	jpki_stmt_finalize(st);
	jpki_store_rollback(ctx->store);
	return rc;
}

static char *dup_col(struct jpki_stmt *st, int col)
{
	return jpki_stmt_is_null(st, col) ? NULL : strdup(jpki_stmt_text(st, col));
}

jpki_err jpki_reg_resident_get(const struct jpki_reg_ctx *ctx, int64_t id,
			       struct jpki_resident *out, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	memset(out, 0, sizeof *out);
	jpki_err rc = jpkii_reg_query(
	    ctx->store, &st, "i",
	    "SELECT id, name, kana, sex, birth, address, postal_code, municipality, "
	    "nationality, stay_expires, adult_ward, status, status_on, synthetic, "
	    "created_at, updated_at FROM resident WHERE id = $1",
	    id);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc != JPKI_OK) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	if (!row) {
		rc = jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "no_resident",
				    "no resident with id %" PRId64,
				    "住民 %" PRId64 " は登録されていません", id);
		goto out;
	}
	out->id = jpki_stmt_int64(st, 0);
	out->name = dup_col(st, 1);
	out->kana = dup_col(st, 2);
	out->sex = (int)jpki_stmt_int64(st, 3);
	out->birth = jpkii_reg_col_day(st, 4);
	out->address = dup_col(st, 5);
	out->postal_code = dup_col(st, 6);
	snprintf(out->municipality, sizeof out->municipality, "%s",
		 jpki_stmt_text(st, 7));
	out->nationality = dup_col(st, 8);
	out->stay_expires = jpkii_reg_col_day(st, 9);
	out->adult_ward = jpki_stmt_int64(st, 10) != 0;
	out->status = status_parse(jpki_stmt_text(st, 11));
	out->status_on = jpkii_reg_col_day(st, 12);
	out->synthetic = jpki_stmt_int64(st, 13) != 0;
	out->created_at = jpki_stmt_int64(st, 14);
	out->updated_at = jpki_stmt_int64(st, 15);
	if (!out->name || !out->kana || !out->address) {
		jpki_resident_release(out);
		rc = jpkii_reg_fail(m, JPKI_ERR_NOMEM, "internal", "out of memory",
				    "メモリが足りません");
	}
out:
	jpki_stmt_finalize(st);
	return rc;
}

jpki_err jpkii_reg_resident_for_op(const struct jpki_reg_ctx *ctx, int64_t id,
				   bool allow_gone, struct jpki_resident *out,
				   struct jpki_reg_msg *m)
{
	jpki_err rc = jpki_reg_resident_get(ctx, id, out, m);
	if (rc != JPKI_OK || allow_gone || out->status == JPKI_RESIDENT_REGISTERED)
		return rc;
	char d[JPKI_DATE_BUFSZ];
	jpki_date_format(out->status_on, d);
	bool dead = out->status == JPKI_RESIDENT_DECEASED;
	jpki_resident_release(out);
	return jpkii_reg_fail(
	    m, JPKI_ERR_REFUSED, dead ? "deceased" : "removed",
	    dead ? "resident %" PRId64 " died on %s"
		 : "resident %" PRId64 " was removed from the register on %s",
	    dead ? "住民 %" PRId64 " は %s に死亡しています"
		 : "住民 %" PRId64 " は %s に住民票が消除されています",
	    id, d);
}

static jpki_err id_list(const struct jpki_reg_ctx *ctx, struct jpki_stmt *st,
			int64_t **ids, size_t *n, struct jpki_reg_msg *m)
{
	size_t cap = 0;
	bool row = false;
	jpki_err rc;
	*ids = NULL;
	*n = 0;
	while ((rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(ids, &cap, *n, sizeof **ids)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		(*ids)[(*n)++] = jpki_stmt_int64(st, 0);
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return rc == JPKI_ERR_NOMEM
			   ? jpkii_reg_fail(m, rc, "internal", "out of memory",
					    "メモリが足りません")
			   : jpkii_reg_store_fail(ctx, m, rc);
	}
	return JPKI_OK;
}

jpki_err jpki_reg_expiring(const struct jpki_reg_ctx *ctx, int year, int month,
			   int64_t **ids, size_t *n, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	jpki_day first, last;
	*ids = NULL;
	*n = 0;
	if (jpki_day_from_ymd(year, month, 1, &first) != JPKI_OK ||
	    jpki_add_months(first, 1, &last) != JPKI_OK)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%04d-%02d is not a month we support",
				      "%04d年%02d月は扱えない年月です", year, month);
	last -= 1;
	/* Both halves run on an index: holder_cert(expires, resident) and the
	 * partial card(expires) index of active cards. */
	jpki_err rc = jpkii_reg_query(
	    ctx->store, &st, "dd",
	    "SELECT h.resident FROM holder_cert h WHERE h.expires BETWEEN $1 AND $2 "
	    "AND NOT EXISTS (SELECT 1 FROM revocation r WHERE r.serial = h.serial) "
	    "UNION SELECT c.resident FROM card c WHERE c.state = 'active' AND "
	    "c.expires BETWEEN $1 AND $2 ORDER BY 1",
	    first, last);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	return id_list(ctx, st, ids, n, m);
}

jpki_err jpki_reg_residents(const struct jpki_reg_ctx *ctx, int64_t **ids, size_t *n,
			    struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	*ids = NULL;
	*n = 0;
	jpki_err rc =
	    jpkii_reg_query(ctx->store, &st, "", "SELECT id FROM resident ORDER BY id");
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	return id_list(ctx, st, ids, n, m);
}

/* Copies q without spaces (ASCII and U+3000) into out, with LIKE's
 * wildcards escaped by backslash. False when it does not fit. */
static bool like_pattern(const char *q, char *out, size_t cap, size_t *chars)
{
	size_t k = 0;
	*chars = 0;
	if (cap < 3)
		return false;
	out[k++] = '%';
	for (const char *p = q; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if ((unsigned char)p[0] == 0xe3 && (unsigned char)p[1] == 0x80 &&
		    (unsigned char)p[2] == 0x80) {
			p += 3;
			continue;
		}
		if (k + 3 >= cap)
			return false;
		if (*p == '%' || *p == '_' || *p == '\\')
			out[k++] = '\\';
		if (((unsigned char)*p & 0xc0) != 0x80)
			(*chars)++;
		out[k++] = *p++;
	}
	out[k++] = '%';
	out[k] = 0;
	return true;
}

jpki_err jpki_reg_search(const struct jpki_reg_ctx *ctx, const char *q, size_t limit,
			 int64_t **ids, size_t *n, bool *truncated,
			 struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	jpki_err rc;
	jpki_day birth;
	struct jpki_errbuf eb = {{0}};
	size_t len = strlen(q), digits = strspn(q, "0123456789");
	*ids = NULL;
	*n = 0;
	*truncated = false;
	if (len > 64)
		return jpkii_reg_fail(
		    m, JPKI_ERR_INVALID, "bad_input",
		    "the search text is too long (64 bytes at most)%s",
		    "検索語が長すぎます%s", "");
	if (limit == 0)
		limit = 50;
	if (len > 0 && digits == len) {
		if (len > 18)
			return JPKI_OK;
		rc = jpkii_reg_query(ctx->store, &st, "i",
				     "SELECT id FROM resident WHERE id = $1",
				     (int64_t)strtoll(q, NULL, 10));
	} else if (len == 10 && jpki_date_parse(q, &birth, &eb) == JPKI_OK) {
		rc = jpkii_reg_query(ctx->store, &st, "di",
				     "SELECT id FROM resident WHERE birth = $1 "
				     "ORDER BY kana, id LIMIT $2",
				     birth, (int64_t)limit + 1);
	} else {
		char pat[200];
		size_t chars;
		if (!like_pattern(q, pat, sizeof pat, &chars) || chars < 2)
			return jpkii_reg_fail(
			    m, JPKI_ERR_INVALID, "bad_input",
			    "give an id, a birth date, or at least 2 "
			    "characters of the name or kana%s",
			    "番号、生年月日、または氏名・カナの2文字以上を"
			    "入力してください%s",
			    "");
		rc = jpkii_reg_query(
		    ctx->store, &st, "ti",
		    "SELECT id FROM resident WHERE "
		    "REPLACE(REPLACE(name, ' ', ''), '\u3000', '') LIKE $1 ESCAPE '\\' "
		    "OR "
		    "REPLACE(REPLACE(kana, ' ', ''), '\u3000', '') LIKE $1 ESCAPE '\\' "
		    "ORDER BY kana, id LIMIT $2",
		    pat, (int64_t)limit + 1);
	}
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if ((rc = id_list(ctx, st, ids, n, m)) != JPKI_OK)
		return rc;
	if (*n > limit) {
		*n = limit;
		*truncated = true;
	}
	return JPKI_OK;
}

jpki_err jpki_reg_expiry_counts(const struct jpki_reg_ctx *ctx, int year, int month,
				int months, struct jpki_expiry_count *out,
				struct jpki_reg_msg *m)
{
	jpki_day first, end;
	if (months < 1 || months > 120 ||
	    jpki_day_from_ymd(year, month, 1, &first) != JPKI_OK ||
	    jpki_add_months(first, months, &end) != JPKI_OK)
		return jpkii_reg_fail(
		    m, JPKI_ERR_INVALID, "bad_input",
		    "%04d-%02d and %d months is not a range we support",
		    "%04d年%02d月から%dか月は扱えない範囲です", year, month, months);
	for (int i = 0; i < months; i++) {
		jpki_day d;
		jpki_add_months(first, i, &d);
		int dd;
		out[i] = (struct jpki_expiry_count){0};
		jpki_day_to_ymd(d, &out[i].year, &out[i].month, &dd);
	}
	/* Both run on the expiry indexes; a month is the first 7 bytes of an
	 * ISO date, which both SQLite and PostgreSQL can take. */
	struct jpki_stmt *st = NULL;
	jpki_err rc = jpkii_reg_query(
	    ctx->store, &st, "dd",
	    "SELECT SUBSTR(h.expires, 1, 7), h.kind, COUNT(*) FROM holder_cert h "
	    "WHERE h.expires >= $1 AND h.expires < $2 AND NOT EXISTS "
	    "(SELECT 1 FROM revocation r WHERE r.serial = h.serial) "
	    "GROUP BY 1, 2 "
	    "UNION ALL SELECT SUBSTR(c.expires, 1, 7), 'card', COUNT(*) FROM card c "
	    "WHERE c.state = 'active' AND c.expires >= $1 AND c.expires < $2 "
	    "GROUP BY 1",
	    first, end);
	bool row = false;
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		const char *ym = jpki_stmt_text(st, 0), *kind = jpki_stmt_text(st, 1);
		int y = (int)strtol(ym, NULL, 10), mo = (int)strtol(ym + 5, NULL, 10);
		int i = (y - year) * 12 + (mo - month);
		if (i < 0 || i >= months)
			continue;
		size_t v = (size_t)jpki_stmt_int64(st, 2);
		if (strcmp(kind, "sign") == 0)
			out[i].sign = v;
		else if (strcmp(kind, "auth") == 0)
			out[i].auth = v;
		else
			out[i].cards = v;
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	return JPKI_OK;
}

/* ---- cards and certificates ---- */

static void card_from_row(struct jpki_stmt *st, struct jpki_reg_card *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->serial, sizeof c->serial, "%s", jpki_stmt_text(st, 0));
	snprintf(c->municipality, sizeof c->municipality, "%s", jpki_stmt_text(st, 1));
	c->issued = jpkii_reg_col_day(st, 2);
	c->expires = jpkii_reg_col_day(st, 3);
	c->state = card_state_parse(jpki_stmt_text(st, 4));
	c->state_on = jpkii_reg_col_day(st, 5);
	snprintf(c->image, sizeof c->image, "%s", jpki_stmt_text(st, 6));
}

#define CARD_COLS "serial, municipality, issued, expires, state, state_on, image"

jpki_err jpki_reg_cards(const struct jpki_reg_ctx *ctx, int64_t resident,
			struct jpki_reg_card **out, size_t *n, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	jpki_err rc =
	    jpkii_reg_query(ctx->store, &st, "i",
			    "SELECT " CARD_COLS " FROM card WHERE resident = $1 "
			    "ORDER BY created_at DESC, state = 'active' DESC, "
			    "issued DESC, serial",
			    resident);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(out, &cap, *n, sizeof **out)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		card_from_row(st, &(*out)[(*n)++]);
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
		return jpkii_reg_store_fail(ctx, m, rc);
	}
	return JPKI_OK;
}

jpki_err jpki_reg_card_get(const struct jpki_reg_ctx *ctx, const char *serial,
			   struct jpki_reg_card *out, int64_t *resident,
			   struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "t",
				      "SELECT " CARD_COLS ", resident FROM card WHERE "
				      "serial = $1",
				      serial);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row) {
		card_from_row(st, out);
		*resident = jpki_stmt_int64(st, 7);
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if (!row)
		return jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "no_card",
				      "card %.32s is not in the registry",
				      "カード %.32s は登録されていません", serial);
	return JPKI_OK;
}

jpki_err jpkii_reg_no_open_intent(const struct jpki_reg_ctx *ctx, int64_t resident,
				  struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	int64_t id = 0;
	jpki_err rc =
	    jpkii_reg_query(ctx->store, &st, "i",
			    "SELECT id FROM intent WHERE resident = $1 AND state IN "
			    "('started', 'issued')",
			    resident);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row)
		id = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if (row)
		return jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "in_progress",
		    "an operation on resident %" PRId64 "'s card is open "
		    "(intent %" PRId64 "): run jpki reconcile first",
		    "住民 %" PRId64 " のカードの処理 (記録 %" PRId64
		    ") が完了していません。先に jpki reconcile を実行してください",
		    resident, id);
	return JPKI_OK;
}

jpki_err jpkii_reg_active_card(const struct jpki_reg_ctx *ctx, int64_t resident,
			       struct jpki_reg_card *out, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc =
	    jpkii_reg_query(ctx->store, &st, "i",
			    "SELECT " CARD_COLS " FROM card WHERE resident = $1 "
			    "AND state = 'active'",
			    resident);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row)
		card_from_row(st, out);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if (!row)
		return jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "no_card",
				      "resident %" PRId64 " has no active card",
				      "住民 %" PRId64 " には有効なカードがありません",
				      resident);
	return JPKI_OK;
}

static void cert_from_row(const struct jpki_reg_ctx *ctx, struct jpki_stmt *st,
			  struct jpki_reg_cert *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->serial, sizeof c->serial, "%s", jpki_stmt_text(st, 0));
	c->kind = strcmp(jpki_stmt_text(st, 1), "sign") == 0 ? JPKI_CERT_SIGN
							     : JPKI_CERT_AUTH;
	snprintf(c->card, sizeof c->card, "%s", jpki_stmt_text(st, 2));
	c->issued = jpkii_reg_col_day(st, 3);
	c->expires = jpkii_reg_col_day(st, 4);
	c->reason = -1;
	if (!jpki_stmt_is_null(st, 5)) {
		c->status = JPKI_CERT_REVOKED;
		c->reason = (int)jpki_stmt_int64(st, 5);
		c->revoked_at = jpki_stmt_int64(st, 6);
	} else if (c->expires < jpki_jst_day(ctx->now)) {
		c->status = JPKI_CERT_EXPIRED;
	}
}

#define CERT_SELECT                                                                    \
	"SELECT h.serial, h.kind, h.card, h.issued, h.expires, r.reason, "             \
	"r.revoked_at FROM holder_cert h JOIN certificate c ON c.serial = h.serial "   \
	"LEFT JOIN revocation r ON r.serial = h.serial "

jpki_err jpki_reg_certs(const struct jpki_reg_ctx *ctx, int64_t resident,
			struct jpki_reg_cert **out, size_t *n, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "i",
				      CERT_SELECT "WHERE h.resident = $1 ORDER BY "
						  "c.not_before DESC, h.kind DESC",
				      resident);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(out, &cap, *n, sizeof **out)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		cert_from_row(ctx, st, &(*out)[(*n)++]);
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
		return jpkii_reg_store_fail(ctx, m, rc);
	}
	return JPKI_OK;
}

jpki_err jpkii_reg_revoke_card_certs(const struct jpki_reg_ctx *ctx, struct jpki_ca *ca,
				     const char *card, unsigned kinds, int reason,
				     struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	struct jpki_reg_cert certs[8];
	size_t n = 0;
	bool row = false;
	/* Good certificates only: an expired one is dead already. */
	jpki_err rc =
	    jpkii_reg_query(ctx->store, &st, "td",
			    CERT_SELECT "WHERE h.card = $1 AND r.serial IS NULL "
					"AND h.expires >= $2",
			    card, jpki_jst_day(ctx->now));
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row &&
	       n < 8)
		cert_from_row(ctx, st, &certs[n++]);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	for (size_t i = 0; i < n; i++) {
		unsigned bit =
		    certs[i].kind == JPKI_CERT_SIGN ? JPKII_KIND_SIGN : JPKII_KIND_AUTH;
		if (!(kinds & bit))
			continue;
		struct jpki_revoke_result rr;
		struct jpki_errbuf eb = {{0}};
		rc = jpki_ca_revoke(ca, certs[i].serial,
				    (enum jpki_revocation_reason)reason, ctx->now,
				    ctx->now, &rr, &eb);
		if (rc != JPKI_OK)
			return jpkii_reg_eb_fail(m, rc, "revoke", &eb);
		if (r && r->n_revoked < sizeof r->revoked / sizeof r->revoked[0]) {
			struct jpki_reg_revoked *v = &r->revoked[r->n_revoked++];
			snprintf(v->serial, sizeof v->serial, "%s", rr.serial);
			v->kind = certs[i].kind;
			v->reason = reason;
		}
	}
	return JPKI_OK;
}

/* ---- events ---- */

enum event_kind { EV_MOVE, EV_RENAME, EV_CORRECT, EV_DECEASE, EV_REMOVE };

struct event {
	enum event_kind kind;
	const char *address, *municipality, *postal_code; /* move */
	const char *name, *kana;			  /* rename */
	jpki_day birth;					  /* correct */
	int sex;					  /* correct */
	jpki_day on;					  /* decease, remove */
};

static const char *const event_names[] = {"moved", "renamed", "corrected", "deceased",
					  "removed"};
static const char *const event_actions[] = {"resident.move", "resident.rename",
					    "resident.correct", "resident.decease",
					    "resident.remove"};

static jpki_err check_event(const struct jpki_reg_ctx *ctx, const struct event *e,
			    const struct jpki_resident *res, struct jpki_reg_msg *m)
{
	jpki_err rc = JPKI_OK;
	switch (e->kind) {
	case EV_MOVE:
		if ((rc = check_text("address", "住所", e->address, ADDRESS_MAX_CHARS,
				     m)) ||
		    (rc = check_postal(e->postal_code, m)))
			return rc;
		return e->municipality ? check_municipality(ctx, e->municipality, m)
				       : JPKI_OK;
	case EV_RENAME:
		if ((rc = check_text("name", "氏名", e->name, NAME_MAX_CHARS, m)))
			return rc;
		return check_kana(e->kana, m);
	case EV_CORRECT:
		if (e->birth == JPKI_DAY_NONE && e->sex == 0)
			return jpkii_reg_fail(
			    m, JPKI_ERR_INVALID, "bad_input",
			    "nothing to correct: give a birth date or sex",
			    "訂正する項目 (生年月日または性別) がありません");
		if (e->birth != JPKI_DAY_NONE && (rc = check_birth(ctx, e->birth, m)))
			return rc;
		if (e->sex != 0 && (e->sex < 1 || e->sex > 3))
			return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
					      "sex must be 1, 2 or 3",
					      "性別は 1、2、3 のいずれかです");
		return JPKI_OK;
	case EV_DECEASE:
	case EV_REMOVE:
		if (e->on == JPKI_DAY_NONE || e->on > jpki_jst_day(ctx->now) ||
		    e->on < res->birth)
			return jpkii_reg_fail(
			    m, JPKI_ERR_INVALID, "bad_input",
			    "the date must be between the birth date and "
			    "today",
			    "日付は生年月日から今日までの間です");
		return JPKI_OK;
	}
	return rc;
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* An event that changes nothing is refused: it would revoke a signing
 * certificate for no reason. */
static jpki_err check_changes(const struct event *e, const struct jpki_resident *res,
			      struct jpki_reg_msg *m)
{
	bool nothing = false;
	switch (e->kind) {
	case EV_MOVE:
		nothing = same(e->address, res->address) &&
			  (e->municipality == NULL ||
			   same(e->municipality, res->municipality)) &&
			  same(e->postal_code, res->postal_code);
		break;
	case EV_RENAME:
		nothing = same(e->name, res->name) && same(e->kana, res->kana);
		break;
	case EV_CORRECT:
		nothing = (e->birth == JPKI_DAY_NONE || e->birth == res->birth) &&
			  (e->sex == 0 || e->sex == res->sex);
		break;
	case EV_DECEASE:
	case EV_REMOVE:
		break;
	}
	if (nothing)
		return jpkii_reg_fail(m, JPKI_ERR_REFUSED, "no_change",
				      "nothing changes: the register already says so",
				      "変更がありません (登録内容と同じです)");
	return JPKI_OK;
}

static jpki_err apply_event(const struct jpki_reg_ctx *ctx, const struct event *e,
			    int64_t id)
{
	switch (e->kind) {
	case EV_MOVE:
		return jpkii_reg_sql(
		    ctx->store, "ttiit",
		    "UPDATE resident SET address = $1, municipality = COALESCE($2, "
		    "municipality), postal_code = $5, updated_at = $3 WHERE id = $4",
		    e->address, e->municipality, ctx->now, id, e->postal_code);
	case EV_RENAME:
		return jpkii_reg_sql(ctx->store, "ttii",
				     "UPDATE resident SET name = $1, kana = $2, "
				     "updated_at = $3 WHERE id = $4",
				     e->name, e->kana, ctx->now, id);
	case EV_CORRECT:
		return jpkii_reg_sql(ctx->store, "diii",
				     "UPDATE resident SET birth = COALESCE($1, birth), "
				     "sex = CASE WHEN $2 = 0 THEN sex ELSE $2 END, "
				     "updated_at = $3 WHERE id = $4",
				     e->birth, (int64_t)e->sex, ctx->now, id);
	case EV_DECEASE:
	case EV_REMOVE:
		return jpkii_reg_sql(ctx->store, "tdii",
				     "UPDATE resident SET status = $1, status_on = $2, "
				     "updated_at = $3 WHERE id = $4",
				     e->kind == EV_DECEASE ? "deceased" : "removed",
				     e->on, ctx->now, id);
	}
	return JPKI_ERR_INTERNAL;
}

/* One event: update, record, revoke (DOMAIN §4), audit, in one
 * transaction. */
static jpki_err run_event(const struct jpki_reg_ctx *ctx, int64_t id,
			  const struct event *e, struct jpki_reg_result *r,
			  struct jpki_reg_msg *m)
{
	struct jpki_resident res = {0};
	struct jpki_reg_card card;
	struct jpki_ca *ca = NULL;
	char details[160], object[32];
	bool gone = e->kind == EV_DECEASE || e->kind == EV_REMOVE;
	memset(r, 0, sizeof *r);
	jpki_err rc = jpkii_reg_ca(ctx, &ca, m);
	if (rc != JPKI_OK)
		return rc;
	if ((rc = jpki_store_begin(ctx->store))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	if ((rc = jpkii_reg_resident_for_op(ctx, id, false, &res, m)) ||
	    (rc = jpkii_reg_no_open_intent(ctx, id, m)) ||
	    (rc = check_event(ctx, e, &res, m)) || (rc = check_changes(e, &res, m)) ||
	    (rc = apply_event(ctx, e, id)))
		goto out_store;
	rc = jpkii_reg_active_card(ctx, id, &card, m);
	if (rc == JPKI_OK) {
		snprintf(r->card, sizeof r->card, "%s", card.serial);
		unsigned kinds =
		    gone ? JPKII_KIND_SIGN | JPKII_KIND_AUTH : JPKII_KIND_SIGN;
		int reason = gone ? JPKI_REASON_CESSATION_OF_OPERATION
				  : JPKI_REASON_AFFILIATION_CHANGED;
		if ((rc = jpkii_reg_revoke_card_certs(ctx, ca, card.serial, kinds,
						      reason, r, m)))
			goto out;
		/* The card ends with the register entry (DOMAIN §4). */
		if (gone && (rc = jpkii_reg_sql(ctx->store, "dt",
						"UPDATE card SET state = 'abolished', "
						"state_on = $1 WHERE serial = $2",
						jpki_jst_day(ctx->now), card.serial)))
			goto out_store;
	} else if (rc != JPKI_ERR_NOTFOUND) {
		goto out;
	}
	char ds[JPKI_DATE_BUFSZ];
	jpki_day on = gone ? e->on : jpki_jst_day(ctx->now);
	snprintf(details, sizeof details,
		 "{\"card\":%s%s%s,\"on\":\"%s\",\"revoked\":%zu}",
		 r->card[0] ? "\"" : "", r->card[0] ? r->card : "null",
		 r->card[0] ? "\"" : "", jpki_date_format(on, ds), r->n_revoked);
	snprintf(object, sizeof object, "resident:%" PRId64, id);
	if ((rc = jpkii_reg_event(ctx, id, event_names[e->kind], on, details)))
		goto out_store;
	if ((rc = jpkii_reg_audit(ctx, event_actions[e->kind], object, details, m)))
		goto out;
	if ((rc = jpki_store_commit(ctx->store)))
		goto out_store;
	goto out;
out_store:
	if (rc != JPKI_ERR_REFUSED && rc != JPKI_ERR_NOTFOUND && rc != JPKI_ERR_INVALID)
		jpkii_reg_store_fail(ctx, m, rc);
out:
	if (rc != JPKI_OK)
		r->n_revoked = 0;
	jpki_store_rollback(ctx->store);
	jpki_ca_close(ca);
	jpki_resident_release(&res);
	return rc;
}

jpki_err jpki_reg_move(const struct jpki_reg_ctx *ctx, int64_t id, const char *address,
		       const char *municipality, const char *postal_code,
		       struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct event e = {.kind = EV_MOVE,
			  .address = address,
			  .municipality = municipality,
			  .postal_code = postal_code};
	return run_event(ctx, id, &e, r, m);
}

jpki_err jpki_reg_rename(const struct jpki_reg_ctx *ctx, int64_t id, const char *name,
			 const char *kana, struct jpki_reg_result *r,
			 struct jpki_reg_msg *m)
{
	struct event e = {.kind = EV_RENAME, .name = name, .kana = kana};
	return run_event(ctx, id, &e, r, m);
}

jpki_err jpki_reg_correct(const struct jpki_reg_ctx *ctx, int64_t id, jpki_day birth,
			  int sex, struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct event e = {.kind = EV_CORRECT, .birth = birth, .sex = sex};
	return run_event(ctx, id, &e, r, m);
}

jpki_err jpki_reg_decease(const struct jpki_reg_ctx *ctx, int64_t id, jpki_day on,
			  struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct event e = {.kind = EV_DECEASE, .on = on};
	return run_event(ctx, id, &e, r, m);
}

jpki_err jpki_reg_remove(const struct jpki_reg_ctx *ctx, int64_t id, jpki_day on,
			 struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct event e = {.kind = EV_REMOVE, .on = on};
	return run_event(ctx, id, &e, r, m);
}
