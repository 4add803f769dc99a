/* The lifecycle operations that touch a card as well as the store: card
 * issue, renewal, PIN reset; and those that only touch the store: card
 * return or loss, voluntary revocation. docs/internals/registry.md has the
 * steps, the intent records and what reconcile does at each.
 *
 * An operation on a card runs as:
 *   lock the card file (an operation still running holds it: reconcile
 *   uses the lock to tell a live operation from a crashed one);
 *   T1  intent 'started' with the plan (expiries, certificates to replace);
 *   the card: PINs verified, issuer authentication, new key pairs;
 *   T2  the certificates issued, the old ones revoked, the card row, the
 *       audit row, intent 'issued';
 *   the card: certificates written;
 *   T3  intent 'done'.
 * A crash before T2 leaves the store unchanged and an intent 'started';
 * after T2, an intent 'issued' whose certificates reconcile writes. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jpki/card.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "reg_internal.h"
#include "banned.h"

static void *wipe_malloc(size_t n)
{
	return malloc(n);
}

static void wipe_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

void jpki_json_wipe_on_free(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

void jpki_reg_failpoint(const char *name)
{
	const char *want = getenv("JPKI_FAILPOINT");
	size_t n = strlen(name);
	if (want == NULL || strncmp(want, name, n) != 0)
		return;
	if (want[n] == '\0')
		(void)kill(getpid(), SIGKILL);
	else if (strcmp(want + n, ":stop") == 0)
		(void)kill(getpid(), SIGSTOP);
}

/* ---- plans: what an intent will do, stored as its details ---- */

struct plan {
	const char *op; /* "card_issue", "renew", "reset_pin" */
	bool sign;	/* a signing certificate is issued */
	bool set_sign_pin;
	jpki_day card_expires, auth_expires, sign_expires;
	char old[4][66]; /* certificates to revoke superseded */
	size_t n_old;
	char issued[2][66]; /* [0] auth, [1] sign; set at T2 */
	bool fresh, early;
	int pin_kind; /* reset_pin */
	/* SHA-256 (hex) of the card's public keys [0] auth, [1] sign when the
	 * intent was written ("" for none): reconcile tells from them whether
	 * the card's keys changed. */
	char key_hash[2][65];
};

static json_t *json_day(jpki_day d)
{
	char b[JPKI_DATE_BUFSZ];
	return d == JPKI_DAY_NONE ? json_null() : json_string(jpki_date_format(d, b));
}

static char *plan_json(const struct plan *p)
{
	json_t *old = json_array(), *issued = json_array();
	for (size_t i = 0; old && i < p->n_old; i++)
		json_array_append_new(old, json_string(p->old[i]));
	for (int i = 0; issued && i < 2; i++)
		if (p->issued[i][0])
			json_array_append_new(issued, json_string(p->issued[i]));
	json_t *o = json_pack(
	    "{s:s,s:b,s:b,s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:i,s:[s,s]}", "op", p->op,
	    "sign", p->sign, "set_sign_pin", p->set_sign_pin, "card_expires",
	    json_day(p->card_expires), "auth_expires", json_day(p->auth_expires),
	    "sign_expires", json_day(p->sign_expires), "old", old ? old : json_null(),
	    "issued", issued ? issued : json_null(), "fresh", p->fresh, "early",
	    p->early, "pin", p->pin_kind, "keys", p->key_hash[0], p->key_hash[1]);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

static jpki_day day_of(json_t *o, const char *key)
{
	jpki_day d;
	const char *s = json_string_value(json_object_get(o, key));
	return s && jpki_date_parse(s, &d, NULL) == JPKI_OK ? d : JPKI_DAY_NONE;
}

static jpki_err plan_parse(const char *text, struct plan *p)
{
	json_t *o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return JPKI_ERR_INVALID;
	}
	memset(p, 0, sizeof *p);
	p->sign = json_is_true(json_object_get(o, "sign"));
	p->set_sign_pin = json_is_true(json_object_get(o, "set_sign_pin"));
	p->fresh = json_is_true(json_object_get(o, "fresh"));
	p->early = json_is_true(json_object_get(o, "early"));
	p->pin_kind = (int)json_integer_value(json_object_get(o, "pin"));
	p->card_expires = day_of(o, "card_expires");
	p->auth_expires = day_of(o, "auth_expires");
	p->sign_expires = day_of(o, "sign_expires");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "old"), i, v)
	{
		if (p->n_old < 4 && json_is_string(v))
			snprintf(p->old[p->n_old++], 66, "%s", json_string_value(v));
	}
	json_array_foreach(json_object_get(o, "issued"), i, v)
	{
		if (i < 2 && json_is_string(v))
			snprintf(p->issued[i], 66, "%s", json_string_value(v));
	}
	json_array_foreach(json_object_get(o, "keys"), i, v)
	{
		if (i < 2 && json_is_string(v))
			snprintf(p->key_hash[i], 65, "%s", json_string_value(v));
	}
	json_decref(o);
	return JPKI_OK;
}

/* ---- intents ---- */

/* Inside T1: the resident and the card are still as the operation read
 * them (an event may have come in between; once the intent is written,
 * events wait for it). card_serial NULL: the resident has no active card. */
static jpki_err still_as_read(const struct jpki_reg_ctx *ctx,
			      const struct jpki_resident *res, const char *card_serial,
			      bool *same)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpkii_reg_query(
	    ctx->store, &st, "ittditi",
	    "SELECT 1 FROM resident WHERE id = $1 AND status = 'registered' AND "
	    "name = $2 AND address = $3 AND birth = $4 AND sex = $5 AND "
	    "municipality = $6 AND adult_ward = $7",
	    res->id, res->name, res->address, res->birth, (int64_t)res->sex,
	    res->municipality, (int64_t)res->adult_ward);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	*same = row;
	if (rc != JPKI_OK || !row)
		return rc;
	st = NULL;
	row = false;
	rc = jpkii_reg_query(ctx->store, &st, "i",
			     "SELECT serial FROM card WHERE resident = $1 AND state = "
			     "'active'",
			     res->id);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK)
		*same = card_serial
			    ? row && strcmp(jpki_stmt_text(st, 0), card_serial) == 0
			    : !row;
	jpki_stmt_finalize(st);
	return rc;
}

static jpki_err intent_begin(const struct jpki_reg_ctx *ctx, const struct plan *p,
			     const struct jpki_resident *res, const char *card_path,
			     const char *card_serial, int64_t *id,
			     struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false, same = false;
	int64_t resident = res->id;
	char *details = plan_json(p);
	jpki_err rc = details ? JPKI_OK : JPKI_ERR_NOMEM;
	if (rc == JPKI_OK && (rc = jpki_store_begin(ctx->store)) == JPKI_OK &&
	    (rc = still_as_read(ctx, res, card_serial, &same)) == JPKI_OK && !same) {
		free(details);
		jpki_store_rollback(ctx->store);
		return jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "changed",
		    "resident %" PRId64 " or the card changed while the "
		    "operation was prepared: start again",
		    "処理の準備中に住民 %" PRId64
		    " またはカードの登録内容が変わりました。やり直してください",
		    resident);
	}
	if (rc == JPKI_OK)
		rc = jpkii_reg_query(
		    ctx->store, &st, "tittti",
		    "INSERT INTO intent (op, resident, card_path, "
		    "card_serial, state, details, created_at, updated_at) "
		    "VALUES ($1, $2, $3, $4, 'started', $5, $6, $6) "
		    "RETURNING id",
		    p->op, resident, card_path, card_serial, details, ctx->now);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row)
		*id = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	free(details);
	if (rc == JPKI_OK)
		rc = jpki_store_commit(ctx->store);
	jpki_store_rollback(ctx->store);
	if (rc == JPKI_ERR_CONFLICT)
		return jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "in_progress",
		    "another operation on resident %" PRId64
		    " is in progress (or crashed: run jpki reconcile)",
		    "住民 %" PRId64 " の別の処理が進行中です "
		    "(中断した場合は jpki reconcile を実行してください)",
		    resident);
	return rc == JPKI_OK ? rc : jpkii_reg_store_fail(ctx, m, rc);
}

/* Sets an intent's state (and details when given), in the open
 * transaction or in one of its own. */
static jpki_err intent_set(const struct jpki_reg_ctx *ctx, int64_t id,
			   const char *state, const struct plan *p)
{
	bool own = !jpki_store_in_transaction(ctx->store);
	char *details = p ? plan_json(p) : NULL;
	jpki_err rc = p && !details ? JPKI_ERR_NOMEM : JPKI_OK;
	if (rc == JPKI_OK && own)
		rc = jpki_store_begin(ctx->store);
	if (rc == JPKI_OK)
		rc = jpkii_reg_sql(ctx->store, "tiit",
				   "UPDATE intent SET state = $1, updated_at = $2, "
				   "details = COALESCE($4, details) WHERE id = $3",
				   state, ctx->now, id, details);
	if (rc == JPKI_OK && own)
		rc = jpki_store_commit(ctx->store);
	if (own)
		jpki_store_rollback(ctx->store);
	free(details);
	return rc;
}

/* ---- keys and certificates between card and CA ---- */

static char *spki_pem(const uint8_t *der, size_t len, size_t *pem_len)
{
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *data;
	if (k && b && PEM_write_bio_PUBKEY(b, k)) {
		long n = BIO_get_mem_data(b, &data);
		if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
			*pem_len = (size_t)n;
		}
	}
	BIO_free(b);
	EVP_PKEY_free(k);
	return out;
}

/* The DER of a stored certificate (*der malloc'd). */
static jpki_err cert_der(struct jpki_store *s, const char *serial, uint8_t **der,
			 size_t *len)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	*der = NULL;
	*len = 0;
	jpki_err rc = jpkii_reg_query(
	    s, &st, "t", "SELECT der FROM certificate WHERE serial = $1", serial);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && !row)
		rc = JPKI_ERR_NOTFOUND;
	if (rc == JPKI_OK) {
		size_t n;
		const void *p = jpki_stmt_blob(st, 0, &n);
		if ((*der = malloc(n ? n : 1)) == NULL)
			rc = JPKI_ERR_NOMEM;
		else {
			memcpy(*der, p, n);
			*len = n;
		}
	}
	jpki_stmt_finalize(st);
	return rc;
}

/* The SHA-256 (hex) of the card's public key k, "" when it has none. */
static jpki_err key_hash(struct jpki_term *t, enum jpki_card_key k, char out[65])
{
	uint8_t *spki = NULL, md[32];
	size_t len = 0;
	struct jpki_errbuf eb = {{0}};
	out[0] = '\0';
	jpki_err rc = jpki_term_pubkey(t, k, &spki, &len, &eb);
	if (rc == JPKI_ERR_NOTFOUND)
		return JPKI_OK;
	if (rc == JPKI_OK && EVP_Digest(spki, len, md, NULL, EVP_sha256(), NULL) != 1)
		rc = JPKI_ERR_CRYPTO;
	for (int i = 0; rc == JPKI_OK && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	free(spki);
	return rc;
}

static jpki_err ca_der(struct jpki_ca *ca, const char *which, uint8_t **der,
		       size_t *len)
{
	char *pem = NULL;
	struct jpki_errbuf eb = {{0}};
	jpki_err rc = jpki_ca_cert_pem(ca, which, &pem, &eb);
	*der = NULL;
	if (rc != JPKI_OK)
		return rc;
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *out = NULL;
	int n = x ? i2d_X509(x, &out) : -1;
	X509_free(x);
	BIO_free(b);
	free(pem);
	if (n <= 0)
		return JPKI_ERR_CRYPTO;
	*der = malloc((size_t)n);
	if (*der)
		memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(out);
	return *der ? JPKI_OK : JPKI_ERR_NOMEM;
}

/* Writes the issued certificates and their CA certificates to the card
 * (issuer authentication done). Skips an EF that already holds them. */
static jpki_err write_certs(const struct jpki_reg_ctx *ctx, struct jpki_ca *ca,
			    struct jpki_card *card, struct jpki_term *t,
			    const struct plan *p, struct jpki_reg_msg *m)
{
	static const uint16_t cert_ef[2] = {JPKI_EF_AUTH_CERT, JPKI_EF_SIGN_CERT};
	static const uint16_t ca_ef[2] = {JPKI_EF_AUTH_CA, JPKI_EF_SIGN_CA};
	static const char *const ca_name[2] = {"auth", "sign"};
	static const char *const fp[2] = {"write.after-auth", "write.after-sign"};
	struct jpki_errbuf eb = {{0}};
	jpki_err rc = JPKI_OK;
	size_t old_len = 0;
	/* No new signing certificate (a ward, say): no old one stays on the
	 * card either — the store has revoked it. */
	if (!p->issued[1][0] &&
	    jpki_card_ef(card, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT, &old_len) &&
	    old_len > 0 &&
	    (rc =
		 jpki_term_write_ef(t, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT, NULL, 0, &eb)))
		return jpkii_reg_eb_fail(m, rc, "card", &eb);
	for (int i = 0; rc == JPKI_OK && i < 2; i++) {
		if (!p->issued[i][0])
			continue;
		uint8_t *der = NULL, *cad = NULL;
		size_t len = 0, calen = 0, have_len = 0;
		const uint8_t *have;
		if ((rc = cert_der(ctx->store, p->issued[i], &der, &len)) ||
		    (rc = ca_der(ca, ca_name[i], &cad, &calen))) {
			free(der);
			return jpkii_reg_store_fail(ctx, m, rc);
		}
		have = jpki_card_ef(card, JPKI_APP_JPKI, cert_ef[i], &have_len);
		if (!(have && have_len == len && memcmp(have, der, len) == 0))
			rc = jpki_term_write_ef(t, JPKI_APP_JPKI, cert_ef[i], der, len,
						&eb);
		have = jpki_card_ef(card, JPKI_APP_JPKI, ca_ef[i], &have_len);
		if (rc == JPKI_OK &&
		    !(have && have_len == calen && memcmp(have, cad, calen) == 0))
			rc = jpki_term_write_ef(t, JPKI_APP_JPKI, ca_ef[i], cad, calen,
						&eb);
		free(der);
		free(cad);
		if (rc != JPKI_OK)
			return jpkii_reg_eb_fail(m, rc, "card", &eb);
		jpki_reg_failpoint(fp[i]);
	}
	return rc;
}

/* The kind of a resident's certificate (auth when unknown). */
static enum jpki_cert_kind holder_kind(struct jpki_store *s, const char *serial)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	bool sign = false;
	if (jpkii_reg_query(s, &st, "t",
			    "SELECT kind FROM holder_cert WHERE serial = $1",
			    serial) == JPKI_OK &&
	    jpki_stmt_step(st, &row) == JPKI_OK && row)
		sign = strcmp(jpki_stmt_text(st, 0), "sign") == 0;
	jpki_stmt_finalize(st);
	return sign ? JPKI_CERT_SIGN : JPKI_CERT_AUTH;
}

/* T2: the certificates for the card's public keys (spki[0] auth, [1] sign,
 * NULL for none), the card row for a new card, the old certificates
 * revoked superseded, an event, the audit row, intent 'issued'. Fills
 * p->issued and r. */
static jpki_err store_issue(const struct jpki_reg_ctx *ctx, struct jpki_ca *ca,
			    int64_t intent, struct plan *p,
			    const struct jpki_resident *res, const char *card_serial,
			    const char *image, uint8_t *const spki[2],
			    const size_t spki_len[2], struct jpki_reg_result *r,
			    struct jpki_reg_msg *m)
{
	struct jpkii_subject_buf subj;
	struct jpki_errbuf eb = {{0}};
	jpki_day today = jpki_jst_day(ctx->now);
	char object[48], details[512];
	bool new_card = strcmp(p->op, "card_issue") == 0;
	jpki_err rc;
	jpkii_reg_subject(res, &subj);
	if ((rc = jpki_store_begin(ctx->store)))
		return jpkii_reg_store_fail(ctx, m, rc);
	if (new_card &&
	    (rc = jpkii_reg_sql(
		 ctx->store, "titddti",
		 "INSERT INTO card (serial, resident, municipality, issued, "
		 "expires, image, created_at) VALUES ($1, $2, $3, $4, $5, $6, "
		 "$7)",
		 card_serial, res->id, res->municipality, today, p->card_expires, image,
		 ctx->now))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	/* Supersede first: a revocation drops the stored OCSP answer. */
	for (size_t i = 0; i < p->n_old; i++) {
		struct jpki_revoke_result rr;
		if ((rc = jpki_ca_revoke(ca, p->old[i], JPKI_REASON_SUPERSEDED,
					 ctx->now, ctx->now, &rr, &eb))) {
			jpkii_reg_eb_fail(m, rc, "revoke", &eb);
			goto out;
		}
		if (!rr.already && r->n_revoked < 8) {
			struct jpki_reg_revoked *v = &r->revoked[r->n_revoked++];
			snprintf(v->serial, sizeof v->serial, "%s", rr.serial);
			v->reason = JPKI_REASON_SUPERSEDED;
			v->kind = holder_kind(ctx->store, rr.serial);
		}
	}
	for (int i = 0; i < 2; i++) {
		if (spki[i] == NULL)
			continue;
		enum jpki_pki_kind kind = i == 0 ? JPKI_PKI_AUTH : JPKI_PKI_SIGN;
		jpki_day exp = i == 0 ? p->auth_expires : p->sign_expires;
		size_t pem_len = 0;
		char *pem = spki_pem(spki[i], spki_len[i], &pem_len);
		struct jpki_issued is = {0};
		if (pem == NULL) {
			rc = jpkii_reg_fail(m, JPKI_ERR_CRYPTO, "card",
					    "the card's public key does not parse",
					    "カードの公開鍵を読み取れません");
			goto out;
		}
		rc = jpki_ca_issue(ca, kind, pem, pem_len, &subj.s, exp, ctx->now, &is,
				   &eb);
		free(pem);
		if (rc != JPKI_OK) {
			jpki_issued_release(&is);
			jpkii_reg_eb_fail(m, rc, "issue", &eb);
			goto out;
		}
		snprintf(p->issued[i], sizeof p->issued[i], "%s", is.serial);
		jpki_issued_release(&is);
		if ((rc = jpkii_reg_sql(
			 ctx->store, "tittdd",
			 "INSERT INTO holder_cert (serial, resident, card, kind, "
			 "issued, expires) VALUES ($1, $2, $3, $4, $5, $6)",
			 p->issued[i], res->id, card_serial, i == 0 ? "auth" : "sign",
			 today, exp))) {
			jpkii_reg_store_fail(ctx, m, rc);
			goto out;
		}
		struct jpki_reg_cert *c = &r->issued[r->n_issued++];
		memset(c, 0, sizeof *c);
		snprintf(c->serial, sizeof c->serial, "%s", p->issued[i]);
		snprintf(c->card, sizeof c->card, "%s", card_serial);
		c->kind = i == 0 ? JPKI_CERT_AUTH : JPKI_CERT_SIGN;
		c->issued = today;
		c->expires = exp;
		c->reason = -1;
	}
	char ae[JPKI_DATE_BUFSZ], se[JPKI_DATE_BUFSZ];
	snprintf(
	    details, sizeof details,
	    "{\"auth\":\"%s\",\"auth_expires\":\"%s\",\"card\":\"%s\",\"early\":%s,"
	    "\"fresh\":%s,\"intent\":%" PRId64
	    ",\"sign\":%s%s%s,\"sign_expires\":%s%s%s,"
	    "\"superseded\":%zu}",
	    p->issued[0], jpki_date_format(p->auth_expires, ae), card_serial,
	    p->early ? "true" : "false", p->fresh ? "true" : "false", intent,
	    p->issued[1][0] ? "\"" : "", p->issued[1][0] ? p->issued[1] : "null",
	    p->issued[1][0] ? "\"" : "", p->issued[1][0] ? "\"" : "",
	    p->issued[1][0] ? jpki_date_format(p->sign_expires, se) : "null",
	    p->issued[1][0] ? "\"" : "", p->n_old);
	snprintf(object, sizeof object, "resident:%" PRId64, res->id);
	if ((rc = jpkii_reg_event(ctx, res->id, new_card ? "card_issued" : "renewed",
				  today, details))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	if ((rc = jpkii_reg_audit(ctx, new_card ? "card.issue" : "cert.renew", object,
				  details, m)))
		goto out;
	if ((rc = intent_set(ctx, intent, "issued", p)) ||
	    (rc = jpki_store_commit(ctx->store)))
		jpkii_reg_store_fail(ctx, m, rc);
out:
	jpki_store_rollback(ctx->store);
	if (rc != JPKI_OK) {
		p->issued[0][0] = p->issued[1][0] = '\0';
		r->n_issued = r->n_revoked = 0;
	}
	return rc;
}

/* ---- shared steps ---- */

static jpki_err check_pins(const struct jpki_reg_pins *pins, bool need_sign,
			   struct jpki_reg_msg *m)
{
	static const int need[] = {JPKI_PIN_AUTH, JPKI_PIN_JUKI, JPKI_PIN_TEXT};
	if (pins == NULL)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input", "no PINs given",
				      "暗証番号がありません");
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!pins->has[need[i]])
			return jpkii_reg_fail(
			    m, JPKI_ERR_INVALID, "bad_input", "the %s PIN is missing",
			    "%s の暗証番号がありません", jpki_pin_kind_name(need[i]));
	if (need_sign && !pins->has[JPKI_PIN_SIGN])
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "the sign PIN is missing",
				      "署名用電子証明書の暗証番号がありません");
	return JPKI_OK;
}

/* Loads the card issuer's key for a card (the passphrase is checked here,
 * before anything changes); free with jpki_card_issuer_key_free. */
static jpki_err issuer_key(const struct jpki_reg_ctx *ctx, struct jpki_card *card,
			   void **key, struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	char muni[7];
	jpki_err rc = jpki_card_issuer_key(ctx->store, ctx->keys_dir, ctx->passphrase,
					   jpki_card_issuer_pub(card), key, muni, &eb);
	if (rc == JPKI_ERR_NOTFOUND)
		return jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "foreign_card",
		    "the card was not issued by a municipality of this store",
		    "このカードはこの団体が発行したものではありません");
	if (rc == JPKI_ERR_PASSPHRASE)
		return jpkii_reg_fail(m, rc, "passphrase", "%s",
				      "鍵のパスフレーズが違います (%s)", eb.msg);
	return rc == JPKI_OK ? rc : jpkii_reg_eb_fail(m, rc, "card", &eb);
}

/* Issuer authentication to the card with a loaded key. */
static jpki_err term_auth(struct jpki_term *t, void *key, struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err rc = jpki_term_issuer_auth(t, key, &eb);
	return rc == JPKI_OK ? rc : jpkii_reg_eb_fail(m, rc, "card", &eb);
}

/* Loads the key and authenticates, for a single issuer operation. */
static jpki_err issuer_auth(const struct jpki_reg_ctx *ctx, struct jpki_card *card,
			    struct jpki_term *t, struct jpki_reg_msg *m)
{
	void *key = NULL;
	jpki_err rc = issuer_key(ctx, card, &key, m);
	if (rc == JPKI_OK)
		rc = term_auth(t, key, m);
	jpki_card_issuer_key_free(key);
	return rc;
}

static jpki_err open_card(const char *path, struct jpki_card **card,
			  struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err rc = jpki_card_open(path, true, card, &eb);
	if (rc == JPKI_ERR_CONFLICT)
		return jpkii_reg_fail(m, JPKI_ERR_REFUSED, "card_busy",
				      "the card is in use by another process",
				      "カードは別の処理で使用中です");
	if (rc == JPKI_ERR_NOTFOUND)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%s: no such card file",
				      "%s: カードのファイルがありません", path);
	return rc == JPKI_OK ? rc : jpkii_reg_eb_fail(m, rc, "card", &eb);
}

/* An absolute path for a card file that may not exist yet. */
static jpki_err abs_path(const char *path, char out[PATH_MAX], struct jpki_reg_msg *m)
{
	char dir[PATH_MAX], real[PATH_MAX];
	if (path == NULL)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "no card file given",
				      "カードのファイルが指定されていません");
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (*base == '\0' || realpath(dir, real) == NULL ||
	    snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") ? real : "", base) >=
		PATH_MAX)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%s: the directory does not exist",
				      "%s: ディレクトリがありません", path);
	return JPKI_OK;
}

/* Eligibility and expiries for new certificates issued today. */
static jpki_err plan_certs(const struct jpki_reg_ctx *ctx,
			   const struct jpki_resident *res, jpki_day card_expires,
			   jpki_day renewing, bool ward_present, struct plan *p,
			   struct jpki_reg_msg *m)
{
	struct jpki_eligibility el;
	struct jpki_cert_request rq;
	struct jpki_cert_validity v;
	struct jpki_errbuf eb = {{0}};
	jpki_day today = jpki_jst_day(ctx->now);
	jpki_eligibility(res->birth, today, res->adult_ward, ward_present, &el);
	p->sign = el.sign == JPKI_ELIGIBLE;
	jpki_cert_request_init(&rq, JPKI_CERT_AUTH, res->birth, today);
	rq.card_expires = card_expires;
	rq.stay_expires = res->stay_expires;
	rq.renewing = renewing;
	rq.feb29 = ctx->feb29;
	jpki_err rc = jpki_cert_expiry(&rq, &v, &eb);
	if (rc == JPKI_ERR_REFUSED)
		return jpkii_reg_fail(m, rc, "cap_passed", "%s",
				      "有効期限の上限を過ぎています (%s)", eb.msg);
	if (rc != JPKI_OK)
		return jpkii_reg_eb_fail(m, rc, "bad_input", &eb);
	p->auth_expires = v.expires;
	p->sign_expires = JPKI_DAY_NONE;
	if (p->sign) {
		rq.kind = JPKI_CERT_SIGN;
		rq.auth_expires = p->auth_expires;
		if ((rc = jpki_cert_expiry(&rq, &v, &eb)))
			return jpkii_reg_eb_fail(m, rc, "bad_input", &eb);
		p->sign_expires = v.expires;
	}
	return JPKI_OK;
}

static void set_result_card(struct jpki_reg_result *r, struct jpki_card *card)
{
	struct jpki_card_info info;
	jpki_card_info(card, &info);
	snprintf(r->card, sizeof r->card, "%s", info.serial);
}

/* ---- card issue ---- */

/* The certificate key pairs of a new card, generated on it. */
static jpki_err new_keys(struct jpki_term *t, const struct plan *p, uint8_t *spki[2],
			 size_t spki_len[2], struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	static const enum jpki_card_key keys[2] = {JPKI_KEY_AUTH, JPKI_KEY_SIGN};
	for (int i = 0; i < 2; i++) {
		if (i == 1 && !p->sign)
			continue;
		jpki_err rc = jpki_term_keygen(t, keys[i], &spki[i], &spki_len[i], &eb);
		if (rc != JPKI_OK)
			return jpkii_reg_eb_fail(m, rc, "card", &eb);
	}
	return JPKI_OK;
}

jpki_err jpki_reg_card_issue(const struct jpki_reg_ctx *ctx, int64_t resident,
			     const struct jpki_reg_issue_opts *o,
			     struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct jpki_resident res = {0};
	struct jpki_reg_card cur;
	struct jpki_card_validity cv;
	struct jpki_card *card = NULL;
	struct jpki_ca *ca = NULL;
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	struct plan p = {.op = "card_issue"};
	uint8_t *spki[2] = {NULL, NULL};
	size_t spki_len[2] = {0, 0};
	char path[PATH_MAX];
	int64_t intent = 0;
	void *issuer_key = NULL;
	char issuer_muni[7];
	jpki_day today = jpki_jst_day(ctx->now);
	uint8_t pub[32];
	jpki_err rc;
	memset(r, 0, sizeof *r);
	if ((rc = abs_path(o->card_path, path, m)))
		return rc;
	if (access(path, F_OK) == 0)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "card_file_exists",
				      "%s already exists", "%s は既に存在します",
				      o->card_path);
	if ((rc = jpkii_reg_resident_for_op(ctx, resident, false, &res, m)))
		return rc;
	rc = jpkii_reg_active_card(ctx, resident, &cur, m);
	if (rc == JPKI_OK) {
		rc = jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "has_card",
		    "resident %" PRId64 " already has an active card (%s): "
		    "return it or report it lost first",
		    "住民 %" PRId64 " には有効なカード (%s) があります。"
		    "先に返納または紛失の届出をしてください",
		    resident, cur.serial);
		goto out;
	} else if (rc != JPKI_ERR_NOTFOUND) {
		goto out;
	}
	rc = jpki_card_expiry(res.birth, today, today, res.stay_expires, ctx->feb29,
			      &cv, &eb);
	if (rc != JPKI_OK) {
		jpkii_reg_fail(m, rc, "cap_passed", "%s", "カードを発行できません (%s)",
			       eb.msg);
		goto out;
	}
	p.card_expires = cv.expires;
	if ((rc = plan_certs(ctx, &res, cv.expires, JPKI_DAY_NONE, o->ward_present, &p,
			     m)) ||
	    (rc = check_pins(o->pins, p.sign, m)))
		goto out;
	if ((rc = jpki_card_issuer_public(ctx->store, res.municipality, pub, &eb))) {
		jpkii_reg_fail(m, JPKI_ERR_REFUSED, "no_issuer_key", "%s",
			       "この市区町村のカード発行者鍵がありません (%s)", eb.msg);
		goto out;
	}
	/* The passphrase is checked before anything is made. */
	if ((rc = jpki_card_issuer_key(ctx->store, ctx->keys_dir, ctx->passphrase, pub,
				       &issuer_key, issuer_muni, &eb))) {
		jpkii_reg_fail(m, rc,
			       rc == JPKI_ERR_PASSPHRASE ? "passphrase" : "issuer",
			       "%s", "カード発行者鍵を使えません (%s)", eb.msg);
		goto out;
	}
	if ((rc = jpkii_reg_ca(ctx, &ca, m)))
		goto out;
	if ((rc = intent_begin(ctx, &p, &res, path, NULL, &intent, m)))
		goto out;
	r->intent = intent;
	jpki_reg_failpoint("issue.after-intent");
	struct jpki_card_init init = {
	    .issuer_pub = pub,
	    .municipality = res.municipality,
	    .holder_name = res.name,
	    .holder_address = res.address,
	    .holder_birth = res.birth,
	    .holder_sex = res.sex,
	    .now = ctx->now,
	};
	for (int k = 0; k < 4; k++)
		init.pin[k] = o->pins->has[k] && (k != JPKI_PIN_SIGN || p.sign)
				  ? o->pins->pin[k]
				  : NULL;
	rc = jpki_card_create(path, &init, &card, &eb);
	if (rc != JPKI_OK) {
		jpkii_reg_eb_fail(m, rc == JPKI_ERR_CONFLICT ? JPKI_ERR_INVALID : rc,
				  "card", &eb);
		rc = rc == JPKI_ERR_CONFLICT ? JPKI_ERR_INVALID : rc;
		goto out_rollback;
	}
	set_result_card(r, card);
	jpki_reg_failpoint("issue.after-create");
	jpki_term_local(&t, card);
	if ((rc = term_auth(&t, issuer_key, m)) ||
	    (rc = new_keys(&t, &p, spki, spki_len, m)))
		goto out_rollback;
	jpki_reg_failpoint("issue.after-keygen");
	if ((rc = store_issue(ctx, ca, intent, &p, &res, r->card, path, spki, spki_len,
			      r, m)))
		goto out_rollback;
	jpki_reg_failpoint("issue.after-commit");
	r->card_expires = p.card_expires;
	/* From here the store has the card and its certificates: a failure
	 * leaves the intent 'issued' for reconcile to finish. */
	if ((rc = write_certs(ctx, ca, card, &t, &p, m)))
		goto out;
	if ((rc = intent_set(ctx, intent, "done", NULL)))
		jpkii_reg_store_fail(ctx, m, rc);
	goto out;
out_rollback:
	/* Nothing was issued: the new card goes, and so does the intent. */
	if (card != NULL) {
		jpki_card_close(card);
		card = NULL;
		unlink(path);
	}
	if (intent)
		(void)intent_set(ctx, intent, "rolled_back", NULL);
out:
	jpki_card_issuer_key_free(issuer_key);
	jpki_card_close(card);
	jpki_ca_close(ca);
	free(spki[0]);
	free(spki[1]);
	jpki_resident_release(&res);
	return rc;
}

/* ---- card return and loss ---- */

jpki_err jpki_reg_card_end(const struct jpki_reg_ctx *ctx, int64_t resident,
			   enum jpki_card_state state, struct jpki_reg_result *r,
			   struct jpki_reg_msg *m)
{
	struct jpki_resident res = {0};
	struct jpki_reg_card card;
	struct jpki_ca *ca = NULL;
	char details[160], object[48];
	jpki_err rc;
	memset(r, 0, sizeof *r);
	if (state != JPKI_CARD_RETURNED && state != JPKI_CARD_LOST)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "a card ends as returned or lost",
				      "カードの終了は返納か紛失です");
	if ((rc = jpkii_reg_ca(ctx, &ca, m)))
		return rc;
	if ((rc = jpki_store_begin(ctx->store))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	/* A removed or deceased resident's card was abolished already. */
	if ((rc = jpkii_reg_resident_for_op(ctx, resident, true, &res, m)) ||
	    (rc = jpkii_reg_no_open_intent(ctx, resident, m)) ||
	    (rc = jpkii_reg_active_card(ctx, resident, &card, m)))
		goto out;
	snprintf(r->card, sizeof r->card, "%s", card.serial);
	int reason = state == JPKI_CARD_LOST ? JPKI_REASON_KEY_COMPROMISE
					     : JPKI_REASON_CESSATION_OF_OPERATION;
	if ((rc = jpkii_reg_revoke_card_certs(ctx, ca, card.serial,
					      JPKII_KIND_SIGN | JPKII_KIND_AUTH, reason,
					      r, m)))
		goto out;
	const char *name = jpki_card_state_name(state);
	if ((rc = jpkii_reg_sql(
		 ctx->store, "tdt",
		 "UPDATE card SET state = $1, state_on = $2 WHERE serial = $3", name,
		 jpki_jst_day(ctx->now), card.serial))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	snprintf(details, sizeof details,
		 "{\"card\":\"%s\",\"revoked\":%zu,\"state\":\"%s\"}", card.serial,
		 r->n_revoked, name);
	snprintf(object, sizeof object, "card:%s", card.serial);
	if ((rc = jpkii_reg_event(
		 ctx, resident, state == JPKI_CARD_LOST ? "card_lost" : "card_returned",
		 jpki_jst_day(ctx->now), details))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	rc = jpkii_reg_audit_commit(
	    ctx, state == JPKI_CARD_LOST ? "card.lost" : "card.return", object, details,
	    m);
out:
	if (rc != JPKI_OK)
		r->n_revoked = 0;
	jpki_store_rollback(ctx->store);
	jpki_ca_close(ca);
	jpki_resident_release(&res);
	return rc;
}

/* ---- renewal ---- */

/* Verifies a PIN; a wrong one refuses with the tries left. */
static jpki_err verify_pin(struct jpki_term *t, enum jpki_pin_kind k, const char *pin,
			   struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	enum jpki_verify_result res;
	int left = 0;
	jpki_err rc = jpki_term_verify(t, k, pin, strlen(pin), &res, &left, &eb);
	if (rc != JPKI_OK)
		return jpkii_reg_eb_fail(m, rc, "card", &eb);
	const char *ja =
	    k == JPKI_PIN_SIGN ? "署名用電子証明書" : "利用者証明用電子証明書";
	switch (res) {
	case JPKI_VERIFY_OK:
		return JPKI_OK;
	case JPKI_VERIFY_WRONG:
		return jpkii_reg_fail(m, JPKI_ERR_REFUSED, "wrong_pin",
				      "the %s%.0s PIN is wrong: %d tries left",
				      "%.0s%sの暗証番号が違います (残り%d回)",
				      k == JPKI_PIN_SIGN ? "sign" : "auth", ja, left);
	case JPKI_VERIFY_BLOCKED:
		return jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "pin_blocked",
		    "the %s%.0s PIN is blocked: reset it at the counter",
		    "%.0s%sの暗証番号がロックされています。窓口で初期化してください",
		    k == JPKI_PIN_SIGN ? "sign" : "auth", ja);
	case JPKI_VERIFY_UNSET:
		break;
	}
	return jpkii_reg_fail(m, JPKI_ERR_REFUSED, "pin_unset",
			      "the %s%.0s PIN is not set",
			      "%.0s%sの暗証番号が設定されていません",
			      k == JPKI_PIN_SIGN ? "sign" : "auth", ja);
}

/* The card's good certificates (by kind) as the store has them. */
static jpki_err current_certs(const struct jpki_reg_ctx *ctx, const char *card,
			      struct jpki_reg_cert cur[2], bool have[2],
			      struct jpki_reg_msg *m)
{
	struct jpki_reg_cert *all = NULL;
	size_t n = 0;
	struct jpki_stmt *st = NULL;
	bool row = false;
	int64_t resident = 0;
	have[0] = have[1] = false;
	jpki_err rc = jpkii_reg_query(
	    ctx->store, &st, "t", "SELECT resident FROM card WHERE serial = $1", card);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row)
		resident = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if ((rc = jpki_reg_certs(ctx, resident, &all, &n, m)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		int k = all[i].kind == JPKI_CERT_AUTH ? 0 : 1;
		if (strcmp(all[i].card, card) == 0 && all[i].status == JPKI_CERT_GOOD &&
		    !have[k]) {
			cur[k] = all[i];
			have[k] = true;
		}
	}
	free(all);
	return JPKI_OK;
}

jpki_err jpki_reg_renew(const struct jpki_reg_ctx *ctx, int64_t resident,
			const struct jpki_reg_renew_opts *o, struct jpki_reg_result *r,
			struct jpki_reg_msg *m)
{
	struct jpki_resident res = {0};
	struct jpki_reg_card cur;
	struct jpki_reg_cert certs[2];
	struct jpki_card *card = NULL;
	struct jpki_card_info info;
	struct jpki_ca *ca = NULL;
	struct jpki_term t;
	void *key = NULL;
	struct jpki_errbuf eb = {{0}};
	struct plan p = {.op = "renew"};
	uint8_t *spki[2] = {NULL, NULL};
	size_t spki_len[2] = {0, 0};
	bool have[2];
	char path[PATH_MAX], d1[JPKI_DATE_BUFSZ], d2[JPKI_DATE_BUFSZ];
	int64_t intent = 0;
	jpki_day today = jpki_jst_day(ctx->now);
	jpki_err rc;
	memset(r, 0, sizeof *r);
	if ((rc = abs_path(o->card_path, path, m)))
		return rc;
	/* A renewal verifies the auth PIN (and the signing one when the card
	 * has it): the juki and text PINs play no part. */
	if (o->pins == NULL || !o->pins->has[JPKI_PIN_AUTH])
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "the auth PIN is missing",
				      "利用者証明用電子証明書の暗証番号がありません");
	if ((rc = jpkii_reg_resident_for_op(ctx, resident, false, &res, m)))
		return rc;
	if ((rc = jpkii_reg_active_card(ctx, resident, &cur, m))) {
		rc = rc == JPKI_ERR_NOTFOUND ? JPKI_ERR_REFUSED : rc;
		goto out;
	}
	if (cur.expires < today) {
		rc = jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "card_expired",
		    "the card expired on %s: a new card is needed",
		    "カードの有効期限 (%s) が過ぎています。カードの再発行が必要です",
		    jpki_date_format(cur.expires, d1));
		goto out;
	}
	if ((rc = current_certs(ctx, cur.serial, certs, have, m)))
		goto out;
	/* The window is the auth certificate's (both are renewed together). */
	jpki_day ref = have[0]	 ? certs[0].expires
		       : have[1] ? certs[1].expires
				 : JPKI_DAY_NONE;
	jpki_day renewing = JPKI_DAY_NONE;
	if (ref == JPKI_DAY_NONE) {
		p.fresh = true; /* after expiry or revocation: a fresh issuance */
	} else {
		enum jpki_window_state ws;
		jpki_day first, last;
		if ((rc = jpki_window_state_on(ref, today, &ws)) ||
		    (rc = jpki_renewal_window(ref, &first, &last))) {
			jpkii_reg_fail(m, rc, "bad_input", "no renewal window for %s",
				       "%s の更新期間を計算できません",
				       jpki_date_format(ref, d1));
			goto out;
		}
		if (ws == JPKI_WINDOW_NOT_YET && !o->early) {
			rc = jpkii_reg_fail(m, JPKI_ERR_REFUSED, "not_in_window",
					    "the renewal window opens on %s (the "
					    "certificates expire on %s); "
					    "renewing now gives a shorter validity: "
					    "confirm with --early",
					    "更新の受付は %s からです (有効期限 "
					    "%s)。今更新すると有効期間が短くなります "
					    "(--early で確認)",
					    jpki_date_format(first, d1),
					    jpki_date_format(ref, d2));
			goto out;
		}
		p.early = ws == JPKI_WINDOW_NOT_YET;
		renewing = ref;
	}
	for (int k = 0; k < 2; k++)
		if (have[k])
			snprintf(p.old[p.n_old++], sizeof p.old[0], "%s",
				 certs[k].serial);
	p.card_expires = cur.expires;
	if ((rc = plan_certs(ctx, &res, cur.expires, renewing, o->ward_present, &p, m)))
		goto out;
	if ((rc = open_card(path, &card, m)))
		goto out;
	jpki_card_info(card, &info);
	if (strcmp(info.serial, cur.serial) != 0) {
		rc = jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "wrong_card",
		    "%s is card %s, not the resident's active card %s",
		    "%s はカード %s で、この住民の有効なカード %s ではありません",
		    o->card_path, info.serial, cur.serial);
		goto out;
	}
	bool sign_pin_set = info.pin[JPKI_PIN_SIGN].set;
	p.set_sign_pin = p.sign && !sign_pin_set;
	if (p.sign && !o->pins->has[JPKI_PIN_SIGN]) {
		rc = jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				    "the sign PIN is missing",
				    "署名用電子証明書の暗証番号がありません");
		goto out;
	}
	if ((rc = jpkii_reg_ca(ctx, &ca, m)))
		goto out;
	/* The issuer key (and so the passphrase) before anything changes. */
	jpki_term_local(&t, card);
	if ((rc = issuer_key(ctx, card, &key, m)))
		goto out;
	if ((rc = key_hash(&t, JPKI_KEY_AUTH, p.key_hash[0])) ||
	    (rc = key_hash(&t, JPKI_KEY_SIGN, p.key_hash[1]))) {
		jpkii_reg_fail(m, rc, "card", "cannot read the card's public keys",
			       "カードの公開鍵を読み取れません");
		goto out;
	}
	if ((rc = intent_begin(ctx, &p, &res, path, cur.serial, &intent, m)))
		goto out;
	r->intent = intent;
	snprintf(r->card, sizeof r->card, "%s", cur.serial);
	jpki_reg_failpoint("renew.after-intent");
	/* The holder proves the card is theirs: each PIN they hold. */
	if ((rc = verify_pin(&t, JPKI_PIN_AUTH, o->pins->pin[JPKI_PIN_AUTH], m)) ||
	    (p.sign && sign_pin_set &&
	     (rc = verify_pin(&t, JPKI_PIN_SIGN, o->pins->pin[JPKI_PIN_SIGN], m))))
		goto out_rollback;
	jpki_reg_failpoint("renew.after-verify");
	if ((rc = term_auth(&t, key, m)))
		goto out_rollback;
	if ((rc = jpki_term_keygen(&t, JPKI_KEY_AUTH, &spki[0], &spki_len[0], &eb))) {
		jpkii_reg_eb_fail(m, rc, "card", &eb);
		goto out_rollback;
	}
	jpki_reg_failpoint("renew.after-keygen-auth");
	if (p.sign &&
	    (rc = jpki_term_keygen(&t, JPKI_KEY_SIGN, &spki[1], &spki_len[1], &eb)))
		jpkii_reg_eb_fail(m, rc, "card", &eb);
	else if (!p.sign && have[1])
		/* No new signing certificate: the old one leaves the card. */
		rc = jpki_term_write_ef(&t, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT, NULL, 0,
					&eb);
	if (rc == JPKI_OK && p.set_sign_pin) {
		const char *pin = o->pins->pin[JPKI_PIN_SIGN];
		rc = jpki_term_reset_pin(&t, JPKI_PIN_SIGN, pin, strlen(pin), &eb);
	}
	if (rc != JPKI_OK) {
		jpkii_reg_eb_fail(m, rc, "card", &eb);
		goto out; /* the keys changed: reconcile rolls forward */
	}
	jpki_reg_failpoint("renew.after-keygen");
	if ((rc = store_issue(ctx, ca, intent, &p, &res, cur.serial, path, spki,
			      spki_len, r, m)))
		goto out; /* the keys changed: reconcile rolls forward */
	jpki_reg_failpoint("renew.after-commit");
	r->fresh = p.fresh;
	r->early = p.early;
	if ((rc = write_certs(ctx, ca, card, &t, &p, m)))
		goto out;
	if ((rc = intent_set(ctx, intent, "done", NULL)))
		jpkii_reg_store_fail(ctx, m, rc);
	goto out;
out_rollback:
	/* Only PINs were tried: the card's keys and the store are unchanged. */
	(void)intent_set(ctx, intent, "rolled_back", NULL);
out:
	jpki_card_issuer_key_free(key);
	jpki_card_close(card);
	jpki_ca_close(ca);
	free(spki[0]);
	free(spki[1]);
	jpki_resident_release(&res);
	return rc;
}

/* ---- voluntary revocation ---- */

jpki_err jpki_reg_revoke(const struct jpki_reg_ctx *ctx, const char *serial_hex,
			 int reason, struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct jpki_ca *ca = NULL;
	struct jpki_stmt *st = NULL;
	struct jpki_revoke_result rr;
	struct jpki_errbuf eb = {{0}};
	char details[160], object[80], kind[8] = "";
	bool row = false;
	int64_t resident = 0;
	jpki_err rc;
	memset(r, 0, sizeof *r);
	if (strcmp(jpki_revocation_reason_name(reason), "unknown") == 0)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "unknown reason", "失効理由が正しくありません");
	if ((rc = jpkii_reg_ca(ctx, &ca, m)))
		return rc;
	if ((rc = jpki_store_begin(ctx->store))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	/* Revoking inside our transaction: jpki_ca_revoke normalizes the
	 * serial; a revocation it reports as "already" is refused here. */
	rc = jpki_ca_revoke(ca, serial_hex, (enum jpki_revocation_reason)reason,
			    ctx->now, ctx->now, &rr, &eb);
	if (rc == JPKI_ERR_NOTFOUND) {
		jpkii_reg_fail(m, rc, "no_cert", "%s", "証明書が見つかりません (%s)",
			       eb.msg);
		goto out;
	}
	if (rc == JPKI_ERR_INVALID) {
		jpkii_reg_fail(m, rc, "bad_input", "%s",
			       "シリアル番号の形式が正しくありません (%s)", eb.msg);
		goto out;
	}
	if (rc != JPKI_OK) {
		jpkii_reg_eb_fail(m, rc, "revoke", &eb);
		goto out;
	}
	if ((rc = jpkii_reg_query(ctx->store, &st, "t",
				  "SELECT resident, kind, card FROM holder_cert WHERE "
				  "serial = $1",
				  rr.serial)) ||
	    (rc = jpki_stmt_step(st, &row))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	if (!row) {
		rc =
		    jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "no_cert",
				   "certificate %s is not a resident's",
				   "証明書 %s は住民の証明書ではありません", rr.serial);
		goto out;
	}
	resident = jpki_stmt_int64(st, 0);
	snprintf(kind, sizeof kind, "%s", jpki_stmt_text(st, 1));
	snprintf(r->card, sizeof r->card, "%s", jpki_stmt_text(st, 2));
	if (rr.already) {
		rc = jpkii_reg_fail(m, JPKI_ERR_REFUSED, "already_revoked",
				    "certificate %s was revoked before (%s)",
				    "証明書 %s は既に失効しています (%s)", rr.serial,
				    jpki_revocation_reason_name(rr.reason));
		goto out;
	}
	r->n_revoked = 1;
	snprintf(r->revoked[0].serial, sizeof r->revoked[0].serial, "%s", rr.serial);
	r->revoked[0].kind =
	    strcmp(kind, "sign") == 0 ? JPKI_CERT_SIGN : JPKI_CERT_AUTH;
	r->revoked[0].reason = reason;
	snprintf(details, sizeof details,
		 "{\"kind\":\"%s\",\"reason\":\"%s\",\"serial\":\"%s\"}", kind,
		 jpki_revocation_reason_name(reason), rr.serial);
	snprintf(object, sizeof object, "resident:%" PRId64, resident);
	if ((rc = jpkii_reg_event(ctx, resident, "revoked", jpki_jst_day(ctx->now),
				  details))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	rc = jpkii_reg_audit_commit(ctx, "cert.revoke", object, details, m);
out:
	if (rc != JPKI_OK)
		r->n_revoked = 0;
	jpki_stmt_finalize(st);
	jpki_store_rollback(ctx->store);
	jpki_ca_close(ca);
	return rc;
}

/* ---- PIN reset ---- */

jpki_err jpki_reg_reset_pin(const struct jpki_reg_ctx *ctx, int64_t resident,
			    const char *card_path, enum jpki_pin_kind k,
			    const char *new_pin, struct jpki_reg_result *r,
			    struct jpki_reg_msg *m)
{
	struct jpki_resident res = {0};
	struct jpki_reg_card cur;
	struct jpki_card *card = NULL;
	struct jpki_card_info info;
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	struct plan p = {.op = "reset_pin", .pin_kind = (int)k};
	char path[PATH_MAX], details[128], object[48];
	int64_t intent = 0;
	jpki_err rc;
	memset(r, 0, sizeof *r);
	if ((unsigned)k > JPKI_PIN_TEXT)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "unknown PIN kind",
				      "暗証番号の種類が正しくありません");
	if ((rc = abs_path(card_path, path, m)))
		return rc;
	if ((rc = jpkii_reg_resident_for_op(ctx, resident, false, &res, m)))
		return rc;
	if ((rc = jpkii_reg_active_card(ctx, resident, &cur, m))) {
		rc = rc == JPKI_ERR_NOTFOUND ? JPKI_ERR_REFUSED : rc;
		goto out;
	}
	if ((rc = open_card(path, &card, m)))
		goto out;
	jpki_card_info(card, &info);
	if (strcmp(info.serial, cur.serial) != 0) {
		rc = jpkii_reg_fail(m, JPKI_ERR_REFUSED, "wrong_card",
				    "%s is not the resident's active card %s",
				    "%s はこの住民の有効なカード %s ではありません",
				    card_path, cur.serial);
		goto out;
	}
	snprintf(r->card, sizeof r->card, "%s", cur.serial);
	jpki_term_local(&t, card);
	if ((rc = issuer_auth(ctx, card, &t, m)) ||
	    (rc = intent_begin(ctx, &p, &res, path, cur.serial, &intent, m)))
		goto out;
	r->intent = intent;
	jpki_reg_failpoint("reset-pin.after-intent");
	rc = jpki_term_reset_pin(&t, k, new_pin, new_pin ? strlen(new_pin) : 0, &eb);
	if (rc != JPKI_OK) {
		jpkii_reg_eb_fail(m, rc, "card", &eb);
		(void)intent_set(ctx, intent, "rolled_back", NULL);
		goto out;
	}
	jpki_reg_failpoint("reset-pin.after-card");
	snprintf(details, sizeof details,
		 "{\"intent\":%" PRId64 ",\"new_pin\":%s,\"pin\":\"%s\"}", intent,
		 new_pin ? "true" : "false", jpki_pin_kind_name(k));
	snprintf(object, sizeof object, "card:%s", cur.serial);
	if ((rc = jpki_store_begin(ctx->store)) ||
	    (rc = jpkii_reg_event(ctx, resident, "pin_reset", jpki_jst_day(ctx->now),
				  details))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	if ((rc = jpkii_reg_audit(ctx, "card.reset-pin", object, details, m)))
		goto out;
	if ((rc = intent_set(ctx, intent, "done", NULL)) ||
	    (rc = jpki_store_commit(ctx->store)))
		jpkii_reg_store_fail(ctx, m, rc);
out:
	jpki_store_rollback(ctx->store);
	jpki_card_close(card);
	jpki_resident_release(&res);
	return rc;
}

/* ---- reconciliation ---- */

struct open_intent {
	int64_t id, resident;
	char op[16], state[16];
	char path[PATH_MAX];
	char serial[33];
	char *details;
};

static jpki_err open_intents(const struct jpki_reg_ctx *ctx, struct open_intent **out,
			     size_t *n)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "",
				      "SELECT id, resident, op, state, card_path, "
				      "card_serial, details FROM intent WHERE state IN "
				      "('started', 'issued') ORDER BY id");
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(out, &cap, *n, sizeof **out)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		struct open_intent *i = &(*out)[(*n)++];
		memset(i, 0, sizeof *i);
		i->id = jpki_stmt_int64(st, 0);
		i->resident = jpki_stmt_int64(st, 1);
		snprintf(i->op, sizeof i->op, "%s", jpki_stmt_text(st, 2));
		snprintf(i->state, sizeof i->state, "%s", jpki_stmt_text(st, 3));
		snprintf(i->path, sizeof i->path, "%s", jpki_stmt_text(st, 4));
		snprintf(i->serial, sizeof i->serial, "%s", jpki_stmt_text(st, 5));
		i->details = strdup(jpki_stmt_text(st, 6));
	}
	jpki_stmt_finalize(st);
	return rc;
}

/* The intent's state now (under the card lock). */
static jpki_err intent_state(const struct jpki_reg_ctx *ctx, int64_t id, char state[16])
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "i",
				      "SELECT state FROM intent WHERE id = $1", id);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	snprintf(state, 16, "%s", rc == JPKI_OK && row ? jpki_stmt_text(st, 0) : "");
	jpki_stmt_finalize(st);
	return rc;
}

static jpki_err card_registered(const struct jpki_reg_ctx *ctx, const char *serial,
				bool *yes)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "t",
				      "SELECT 1 FROM card WHERE serial = $1", serial);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	*yes = row;
	return rc;
}

/* Rolls a renewal forward from 'started' with new keys on the card: any
 * key still certified by an old certificate is replaced too, then T2. */
static jpki_err renew_forward(const struct jpki_reg_ctx *ctx, struct jpki_ca *ca,
			      struct open_intent *in, struct plan *p,
			      struct jpki_card *card, struct jpki_term *t,
			      struct jpki_reg_msg *m)
{
	struct jpki_resident res = {0};
	struct jpki_reg_result r;
	struct jpki_card_info info;
	struct jpki_errbuf eb = {{0}};
	uint8_t *spki[2] = {NULL, NULL};
	size_t spki_len[2] = {0, 0};
	static const enum jpki_card_key keys[2] = {JPKI_KEY_AUTH, JPKI_KEY_SIGN};
	jpki_err rc = jpkii_reg_resident_for_op(ctx, in->resident, true, &res, m);
	if (rc != JPKI_OK)
		return rc;
	memset(&r, 0, sizeof r);
	jpki_card_info(card, &info);
	/* Without its PIN a signing key is of no use: it is not certified. */
	if (p->sign && !info.pin[JPKI_PIN_SIGN].set)
		p->sign = false;
	if ((rc = issuer_auth(ctx, card, t, m)))
		goto out;
	for (int i = 0; i < 2; i++) {
		if (i == 1 && !p->sign)
			continue;
		char now_hash[65];
		if ((rc = key_hash(t, keys[i], now_hash))) {
			jpkii_reg_fail(m, rc, "card",
				       "cannot read the card's public key",
				       "カードの公開鍵を読み取れません");
			goto out;
		}
		/* A key the crash left unchanged (or none) is generated now. */
		bool stale =
		    now_hash[0] == '\0' || strcmp(now_hash, p->key_hash[i]) == 0;
		rc = stale ? jpki_term_keygen(t, keys[i], &spki[i], &spki_len[i], &eb)
			   : jpki_term_pubkey(t, keys[i], &spki[i], &spki_len[i], &eb);
		if (rc != JPKI_OK) {
			jpkii_reg_eb_fail(m, rc, "card", &eb);
			goto out;
		}
	}
	if ((rc = store_issue(ctx, ca, in->id, p, &res, in->serial, in->path, spki,
			      spki_len, &r, m)))
		goto out;
	rc = write_certs(ctx, ca, card, t, p, m);
out:
	free(spki[0]);
	free(spki[1]);
	jpki_resident_release(&res);
	return rc;
}

/* Settles one intent with its card locked. Returns JPKI_OK with *done
 * "completed" or "rolled_back". */
static jpki_err settle(const struct jpki_reg_ctx *ctx, struct jpki_ca *ca,
		       struct open_intent *in, struct jpki_card *card,
		       const char **done, struct jpki_reg_msg *m)
{
	struct plan p;
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	jpki_err rc;
	bool issued = strcmp(in->state, "issued") == 0;
	if (plan_parse(in->details ? in->details : "", &p) != JPKI_OK)
		return jpkii_reg_fail(m, JPKI_ERR_INTERNAL, "intent",
				      "intent %" PRId64 ": unreadable details",
				      "処理記録 %" PRId64 " を読み取れません", in->id);
	p.op = in->op;
	jpki_term_local(&t, card);
	if (strcmp(in->op, "reset_pin") == 0) {
		int left = 0;
		rc = jpki_term_pin_status(&t, (enum jpki_pin_kind)p.pin_kind, &left,
					  &eb);
		if (rc != JPKI_OK)
			return jpkii_reg_eb_fail(m, rc, "card", &eb);
		/* A reset leaves the counter full; a counter short of it means
		 * the reset never reached the card. */
		bool reached =
		    left == jpki_pin_max_tries((enum jpki_pin_kind)p.pin_kind);
		*done = reached ? "completed" : "rolled_back";
		if (!reached)
			return intent_set(ctx, in->id, "rolled_back", NULL);
		/* The reset happened: its event and audit row, as T3 would. */
		char details[128], object[48];
		snprintf(details, sizeof details,
			 "{\"intent\":%" PRId64 ",\"pin\":\"%s\",\"reconciled\":true}",
			 in->id, jpki_pin_kind_name((enum jpki_pin_kind)p.pin_kind));
		snprintf(object, sizeof object, "card:%s", in->serial);
		if ((rc = jpki_store_begin(ctx->store)) ||
		    (rc = jpkii_reg_event(ctx, in->resident, "pin_reset",
					  jpki_jst_day(ctx->now), details)) ||
		    (rc = jpkii_reg_audit(ctx, "card.reset-pin", object, details, m)) ||
		    (rc = intent_set(ctx, in->id, "done", NULL)) ||
		    (rc = jpki_store_commit(ctx->store))) {
			jpki_store_rollback(ctx->store);
			return rc;
		}
		return JPKI_OK;
	}
	if (issued) {
		if ((rc = issuer_auth(ctx, card, &t, m)) ||
		    (rc = write_certs(ctx, ca, card, &t, &p, m)))
			return rc;
		*done = "completed";
		return intent_set(ctx, in->id, "done", NULL);
	}
	if (strcmp(in->op, "card_issue") == 0) {
		/* Nothing was issued: the half-made card goes. */
		struct jpki_card_info info;
		bool reg = false;
		jpki_card_info(card, &info);
		if ((rc = card_registered(ctx, info.serial, &reg)))
			return rc;
		if (reg)
			return jpkii_reg_fail(
			    m, JPKI_ERR_INTERNAL, "intent",
			    "intent %" PRId64 ": %s is a registered card",
			    "処理記録 %" PRId64 ": %s は登録済みのカードです", in->id,
			    in->path);
		if (unlink(in->path) != 0)
			return jpkii_reg_fail(m, JPKI_ERR_IO, "io", "%s: %s",
					      "%s を削除できません (%s)", in->path,
					      strerror(errno));
		*done = "rolled_back";
		return intent_set(ctx, in->id, "rolled_back", NULL);
	}
	/* A renewal before T2: if no key changed, only PINs were tried. */
	bool changed = false;
	for (int i = 0; i < 2; i++) {
		char now_hash[65];
		if ((rc = key_hash(&t, i == 0 ? JPKI_KEY_AUTH : JPKI_KEY_SIGN,
				   now_hash)))
			return jpkii_reg_fail(m, rc, "card",
					      "cannot read the card's public key",
					      "カードの公開鍵を読み取れません");
		if (strcmp(now_hash, p.key_hash[i]) != 0)
			changed = true;
	}
	if (!changed) {
		*done = "rolled_back";
		return intent_set(ctx, in->id, "rolled_back", NULL);
	}
	if ((rc = renew_forward(ctx, ca, in, &p, card, &t, m)))
		return rc;
	*done = "completed";
	return intent_set(ctx, in->id, "done", NULL);
}

/* Active cards past their expiry become expired; what they still hold is
 * revoked (DOMAIN §4: the card ended). */
static jpki_err expire_cards(const struct jpki_reg_ctx *ctx, struct jpki_ca *ca,
			     size_t *count, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	struct {
		char serial[33];
		int64_t resident;
	} *ended = NULL;
	size_t n = 0, cap = 0;
	jpki_day today = jpki_jst_day(ctx->now);
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "d",
				      "SELECT serial, resident FROM card WHERE state = "
				      "'active' AND expires < $1",
				      today);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(&ended, &cap, n, sizeof *ended)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		snprintf(ended[n].serial, sizeof ended[n].serial, "%s",
			 jpki_stmt_text(st, 0));
		ended[n++].resident = jpki_stmt_int64(st, 1);
	}
	jpki_stmt_finalize(st);
	for (size_t i = 0; rc == JPKI_OK && i < n; i++) {
		char details[96], object[48];
		if ((rc = jpki_store_begin(ctx->store)))
			break;
		rc = jpkii_reg_revoke_card_certs(
		    ctx, ca, ended[i].serial, JPKII_KIND_SIGN | JPKII_KIND_AUTH,
		    JPKI_REASON_CESSATION_OF_OPERATION, NULL, m);
		snprintf(details, sizeof details, "{\"card\":\"%s\"}", ended[i].serial);
		snprintf(object, sizeof object, "card:%s", ended[i].serial);
		if (rc == JPKI_OK)
			rc = jpkii_reg_sql(
			    ctx->store, "dt",
			    "UPDATE card SET state = 'expired', state_on = $1 "
			    "WHERE serial = $2",
			    today, ended[i].serial);
		if (rc == JPKI_OK)
			rc = jpkii_reg_event(ctx, ended[i].resident, "card_expired",
					     today, details);
		if (rc == JPKI_OK)
			rc = jpkii_reg_audit(ctx, "card.expire", object, details, m);
		if (rc == JPKI_OK)
			rc = jpki_store_commit(ctx->store);
		jpki_store_rollback(ctx->store);
		if (rc == JPKI_OK)
			(*count)++;
	}
	free(ended);
	return rc == JPKI_OK ? rc : jpkii_reg_store_fail(ctx, m, rc);
}

jpki_err jpki_reg_reconcile(const struct jpki_reg_ctx *ctx,
			    struct jpki_reconcile_report *rep, struct jpki_reg_msg *m)
{
	struct open_intent *list = NULL;
	struct jpki_ca *ca = NULL;
	size_t n = 0;
	memset(rep, 0, sizeof *rep);
	jpki_err rc = jpkii_reg_ca(ctx, &ca, m);
	if (rc != JPKI_OK)
		return rc;
	if ((rc = open_intents(ctx, &list, &n))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct open_intent *in = &list[i];
		struct jpki_card *card = NULL;
		struct jpki_errbuf eb = {{0}};
		struct jpki_reg_msg im = {0};
		const char *done = NULL;
		jpki_err e = jpki_card_open(in->path, true, &card, &eb);
		if (e == JPKI_ERR_CONFLICT) {
			rep->busy++;
			continue;
		}
		if (e == JPKI_ERR_NOTFOUND && strcmp(in->op, "card_issue") == 0 &&
		    strcmp(in->state, "started") == 0) {
			/* The card was never made. */
			if (intent_set(ctx, in->id, "rolled_back", NULL) == JPKI_OK)
				rep->rolled_back++;
			else
				rep->failed++;
			continue;
		}
		if (e != JPKI_OK) {
			rep->failed++;
			jpkii_reg_fail(m, e, "card",
				       "intent %" PRId64
				       ": %s (if the card is gone: jpki "
				       "reconcile --abandon %" PRId64 ")",
				       "処理記録 %" PRId64
				       ": カードを開けません: %s (カードが失われた"
				       "場合は jpki reconcile --abandon %" PRId64 ")",
				       in->id, eb.msg, in->id);
			continue;
		}
		/* Under the lock: the operation may have finished meanwhile. */
		if ((e = intent_state(ctx, in->id, in->state)) == JPKI_OK &&
		    (strcmp(in->state, "started") == 0 ||
		     strcmp(in->state, "issued") == 0))
			e = settle(ctx, ca, in, card, &done, &im);
		jpki_card_close(card);
		if (e != JPKI_OK) {
			rep->failed++;
			*m = im;
		} else if (done && strcmp(done, "completed") == 0) {
			rep->completed++;
		} else if (done) {
			rep->rolled_back++;
		}
	}
	rc = expire_cards(ctx, ca, &rep->expired_cards, m);
	if (rc == JPKI_OK && rep->failed > 0)
		rc = JPKI_ERR_IO;
out:
	for (size_t i = 0; i < n; i++)
		free(list[i].details);
	free(list);
	jpki_ca_close(ca);
	return rc;
}

jpki_err jpki_reg_abandon(const struct jpki_reg_ctx *ctx, int64_t intent,
			  struct jpki_reg_result *r, struct jpki_reg_msg *m)
{
	struct open_intent *list = NULL, *in = NULL;
	struct jpki_ca *ca = NULL;
	struct jpki_card *card = NULL;
	struct jpki_errbuf eb = {{0}};
	struct plan p;
	char details[256], object[32];
	size_t n = 0;
	memset(r, 0, sizeof *r);
	jpki_err rc = open_intents(ctx, &list, &n);
	if (rc != JPKI_OK) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (list[i].id == intent)
			in = &list[i];
	if (in == NULL) {
		rc = jpkii_reg_fail(
		    m, JPKI_ERR_NOTFOUND, "no_intent", "no open intent %" PRId64,
		    "未完了の処理記録 %" PRId64 " はありません", intent);
		goto out;
	}
	jpki_err e = jpki_card_open(in->path, false, &card, &eb);
	jpki_card_close(card);
	if (e == JPKI_OK || e == JPKI_ERR_CONFLICT) {
		rc = jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "card_present",
		    "intent %" PRId64 ": the card file is there: run jpki reconcile",
		    "処理記録 %" PRId64
		    ": カードがあります。jpki reconcile を実行してください",
		    intent);
		goto out;
	}
	if (plan_parse(in->details ? in->details : "", &p) != JPKI_OK) {
		rc = jpkii_reg_fail(m, JPKI_ERR_INTERNAL, "intent",
				    "intent %" PRId64 ": unreadable",
				    "処理記録 %" PRId64 " を読み取れません", intent);
		goto out;
	}
	if ((rc = jpkii_reg_ca(ctx, &ca, m)))
		goto out;
	if ((rc = jpki_store_begin(ctx->store))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	/* The card is gone (DOMAIN §4: the card ends, both certificates end):
	 * whatever it holds in the store is revoked and it is abolished. A
	 * card issue's intent names the file only. */
	char serial[33] = "";
	if (in->serial[0]) {
		snprintf(serial, sizeof serial, "%s", in->serial);
	} else {
		struct jpki_stmt *st = NULL;
		bool row = false;
		if ((rc =
			 jpkii_reg_query(ctx->store, &st, "ti",
					 "SELECT serial FROM card WHERE image = $1 AND "
					 "resident = $2",
					 in->path, in->resident)) == JPKI_OK &&
		    (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row)
			snprintf(serial, sizeof serial, "%s", jpki_stmt_text(st, 0));
		jpki_stmt_finalize(st);
		if (rc != JPKI_OK) {
			jpkii_reg_store_fail(ctx, m, rc);
			goto out;
		}
	}
	if (serial[0] && (rc = jpkii_reg_revoke_card_certs(
			      ctx, ca, serial, JPKII_KIND_SIGN | JPKII_KIND_AUTH,
			      JPKI_REASON_CESSATION_OF_OPERATION, r, m)))
		goto out;
	if (serial[0] &&
	    (rc = jpkii_reg_sql(ctx->store, "dt",
				"UPDATE card SET state = 'abolished', state_on = "
				"$1 WHERE serial = $2 AND state = 'active'",
				jpki_jst_day(ctx->now), serial))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	snprintf(details, sizeof details,
		 "{\"intent\":%" PRId64
		 ",\"op\":\"%s\",\"revoked\":%zu,\"state\":\"%s\"}",
		 intent, in->op, r->n_revoked, in->state);
	snprintf(object, sizeof object, "resident:%" PRId64, in->resident);
	if ((rc = jpkii_reg_event(ctx, in->resident, "abandoned",
				  jpki_jst_day(ctx->now), details))) {
		jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	if ((rc = jpkii_reg_audit(ctx, "intent.abandon", object, details, m)))
		goto out;
	if ((rc = intent_set(ctx, intent, "rolled_back", NULL)) ||
	    (rc = jpki_store_commit(ctx->store)))
		jpkii_reg_store_fail(ctx, m, rc);
out:
	if (rc != JPKI_OK)
		r->n_revoked = 0;
	jpki_store_rollback(ctx->store);
	jpki_ca_close(ca);
	for (size_t i = 0; i < n; i++)
		free(list[i].details);
	free(list);
	return rc;
}
