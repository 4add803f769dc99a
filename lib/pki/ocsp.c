/* OCSP (RFC 6960) with the RFC 5019 lightweight profile.
 *
 * A request without a nonce for one certificate by SHA-1 CertID (what RFC
 * 5019 clients send) is answered from the pre-signed response stored for
 * that certificate while it is younger than half its validity; otherwise it
 * is signed live, and a live answer for a known certificate is stored for
 * the next request. A request with a nonce is always live (the nonce must
 * be echoed). Revocation deletes the stored response, so a stored "good"
 * never outlives it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "pki_internal.h"
#include "banned.h"

#define MAX_SINGLE_REQUESTS 16

/* ---- pre-signed responses in memory ----
 * A direct-mapped table keyed by the exact request bytes (RFC 5019 clients
 * send the same bytes for the same certificate), so a hit needs neither
 * the DER parser nor SQL. An entry is what the store holds; it is served
 * under the same freshness rule and dropped whenever the store changed:
 * by another connection (the store's data version moved) or by this handle
 * (revocation, refresh). Bounded: MEM_SLOTS entries of about 2 KB. */
#define MEM_SLOTS 4096

/* RFC 5019-style caching: a stored response is served, and left alone by
 * refresh-ocsp, until half its validity has passed. A response produced
 * at or before this instant is due for re-signing. */
static int64_t stale_before(const struct jpki_ca *ca, int64_t now)
{
	return now - (int64_t)ca->ocsp_days * 86400 / 2;
}

struct jpkii_ocsp_slot {
	unsigned char *req, *resp;
	size_t req_len, resp_len;
	int64_t produced_at;
};

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

void jpkii_ocsp_flush(struct jpki_ca *ca)
{
	for (int i = 0; ca->mem && i < MEM_SLOTS; i++) {
		OPENSSL_free(ca->mem[i].req);
		OPENSSL_free(ca->mem[i].resp);
		memset(&ca->mem[i], 0, sizeof ca->mem[i]);
	}
}

/* Drops everything if another connection committed since the table was
 * filled, or a revocation was made on this connection (by this or another
 * CA object: the registry opens its own). */
static jpki_err mem_validate(struct jpki_ca *ca)
{
	int64_t v, epoch = jpki_store_epoch(ca->store);
	jpki_err rc = jpki_store_data_version(ca->store, &v);
	if (rc != JPKI_OK)
		return rc;
	if (v != ca->mem_version || epoch != ca->mem_epoch) {
		jpkii_ocsp_flush(ca);
		ca->mem_version = v;
		ca->mem_epoch = epoch;
	}
	return JPKI_OK;
}

static bool mem_get(struct jpki_ca *ca, const unsigned char *req, size_t len,
		    int64_t now, unsigned char **resp, size_t *resp_len)
{
	if (ca->mem == NULL)
		return false;
	struct jpkii_ocsp_slot *e = &ca->mem[fnv1a(req, len) % MEM_SLOTS];
	if (e->req == NULL || e->req_len != len || memcmp(e->req, req, len) != 0 ||
	    e->produced_at > now || e->produced_at <= stale_before(ca, now))
		return false;
	if ((*resp = OPENSSL_memdup(e->resp, e->resp_len)) == NULL)
		return false;
	*resp_len = e->resp_len;
	return true;
}

static void mem_put(struct jpki_ca *ca, const unsigned char *req, size_t len,
		    const unsigned char *resp, size_t resp_len, int64_t produced_at)
{
	if (ca->mem == NULL && (ca->mem = calloc(MEM_SLOTS, sizeof *ca->mem)) == NULL)
		return;
	struct jpkii_ocsp_slot *e = &ca->mem[fnv1a(req, len) % MEM_SLOTS];
	unsigned char *q = OPENSSL_memdup(req, len),
		      *r = OPENSSL_memdup(resp, resp_len);
	if (!q || !r) {
		OPENSSL_free(q);
		OPENSSL_free(r);
		return;
	}
	OPENSSL_free(e->req);
	OPENSSL_free(e->resp);
	*e = (struct jpkii_ocsp_slot){q, r, len, resp_len, produced_at};
}

static jpki_err status_response(int status, unsigned char **der, size_t *len)
{
	OCSP_RESPONSE *r = OCSP_response_create(status, NULL);
	int n = r ? i2d_OCSP_RESPONSE(r, der) : -1;
	OCSP_RESPONSE_free(r);
	if (n <= 0)
		return JPKI_ERR_CRYPTO;
	*len = (size_t)n;
	return JPKI_OK;
}

jpki_err jpkii_ocsp_prepare(struct jpki_ca *ca)
{
	const EVP_MD *md[2] = {EVP_sha1(), EVP_sha256()};
	for (int k = 0; k < 2; k++) {
		X509 *iss = ca->cert[jpkii_issuer_of((enum jpki_pki_kind)k)];
		for (int a = 0; a < 2; a++) {
			unsigned int n;
			if (!X509_NAME_digest(X509_get_subject_name(iss), md[a],
					      ca->id_name[k][a], &n) ||
			    !X509_pubkey_digest(iss, md[a], ca->id_key[k][a], &n))
				return JPKI_ERR_CRYPTO;
		}
	}
	return JPKI_OK;
}

static bool same(const ASN1_OCTET_STRING *o, const unsigned char *h, int n)
{
	return ASN1_STRING_length(o) == n &&
	       memcmp(ASN1_STRING_get0_data(o), h, (size_t)n) == 0;
}

/* Which issuing CA a CertID names (its hash algorithm, issuer name hash
 * and key hash); -1 if neither or an algorithm we do not answer for. */
static int issuer_of_id(struct jpki_ca *ca, OCSP_CERTID *id)
{
	ASN1_OCTET_STRING *name = NULL, *key = NULL;
	ASN1_OBJECT *md_oid = NULL;
	if (!OCSP_id_get0_info(&name, &md_oid, &key, NULL, id))
		return -1;
	int nid = OBJ_obj2nid(md_oid);
	int a = nid == NID_sha1 ? 0 : nid == NID_sha256 ? 1 : -1;
	int len = a == 0 ? 20 : 32;
	if (a < 0)
		return -1;
	for (int k = 0; k < 2; k++)
		if (same(name, ca->id_name[k][a], len) &&
		    same(key, ca->id_key[k][a], len))
			return k;
	return -1;
}

struct cert_status {
	int status; /* V_OCSP_CERTSTATUS_* */
	int64_t revoked_at;
	int reason;
	char serial[66];
	bool known;
};

static jpki_err lookup_status(struct jpki_ca *ca, enum jpki_pki_kind kind,
			      const ASN1_INTEGER *serial, struct cert_status *cs)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	memset(cs, 0, sizeof *cs);
	cs->status = V_OCSP_CERTSTATUS_UNKNOWN;
	if (ASN1_STRING_length(serial) > 32 || serial->type != V_ASN1_INTEGER ||
	    jpkii_serial_hex(serial, cs->serial, sizeof cs->serial) != JPKI_OK)
		return JPKI_OK; /* not one of ours: unknown */
	jpki_err rc = jpki_stmt_prepare(
	    ca->store,
	    "SELECT r.revoked_at, r.reason FROM certificate c LEFT JOIN revocation r "
	    "ON r.serial = c.serial WHERE c.serial = $1 AND c.kind = $2",
	    &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, cs->serial)) &&
	    !(rc = jpki_stmt_bind_text(st, 2, jpkii_kind_name(kind))))
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row) {
		cs->known = true;
		if (jpki_stmt_is_null(st, 0)) {
			cs->status = V_OCSP_CERTSTATUS_GOOD;
		} else {
			cs->status = V_OCSP_CERTSTATUS_REVOKED;
			cs->revoked_at = jpki_stmt_int64(st, 0);
			cs->reason = (int)jpki_stmt_int64(st, 1);
		}
	}
	jpki_stmt_finalize(st);
	return rc;
}

/* Signs a response for ids[0..n) (all of one issuing CA). */
static jpki_err sign_live(struct jpki_ca *ca, enum jpki_pki_kind kind,
			  OCSP_CERTID **ids, const struct cert_status *cs, int n,
			  OCSP_REQUEST *nonce_from, int64_t now, unsigned char **der,
			  size_t *len, struct jpki_errbuf *eb)
{
	struct jpki_signer *signer;
	int resp = jpkii_responder_of(kind);
	jpki_err rc = jpkii_ca_signer(ca, resp, &signer, eb);
	if (rc != JPKI_OK)
		return rc;
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_RESPONSE *r = NULL;
	ASN1_TIME *this_upd = jpkii_asn1_time(now);
	ASN1_TIME *next_upd = jpkii_asn1_time(now + (int64_t)ca->ocsp_days * 86400);
	ASN1_TIME *rev = NULL;
	rc = JPKI_ERR_CRYPTO;
	if (!bs || !this_upd || !next_upd)
		goto out;
	for (int i = 0; i < n; i++) {
		ASN1_TIME_free(rev);
		rev = NULL;
		int reason = -1; /* OCSP_REVOKED_STATUS_NOSTATUS: no reason given */
		if (cs[i].status == V_OCSP_CERTSTATUS_REVOKED) {
			rev = jpkii_asn1_time(cs[i].revoked_at);
			if (cs[i].reason != JPKI_REASON_UNSPECIFIED)
				reason = cs[i].reason;
		}
		if (!OCSP_basic_add1_status(bs, ids[i], cs[i].status, reason, rev,
					    this_upd, next_upd))
			goto out;
	}
	if (nonce_from && OCSP_copy_nonce(bs, nonce_from) <= 0)
		goto out;
	if ((rc = signer->ops->sign_ocsp(signer, bs, ca->cert[resp])) != JPKI_OK)
		goto out;
	rc = JPKI_ERR_CRYPTO;
	r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	int dn = r ? i2d_OCSP_RESPONSE(r, der) : -1;
	if (dn > 0) {
		*len = (size_t)dn;
		rc = JPKI_OK;
	}
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	ASN1_TIME_free(this_upd);
	ASN1_TIME_free(next_upd);
	ASN1_TIME_free(rev);
	return rc;
}

static jpki_err store_response(struct jpki_ca *ca, const char *serial, int64_t now,
			       const unsigned char *der, size_t len)
{
	struct jpki_stmt *st = NULL;
	bool row;
	jpki_err rc = jpki_stmt_prepare(
	    ca->store,
	    "INSERT INTO ocsp_response (serial, produced_at, next_update, der) "
	    "VALUES ($1, $2, $3, $4) ON CONFLICT (serial) DO UPDATE SET "
	    "produced_at = excluded.produced_at, next_update = excluded.next_update, "
	    "der = excluded.der",
	    &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, serial)) &&
	    !(rc = jpki_stmt_bind_int64(st, 2, now)) &&
	    !(rc = jpki_stmt_bind_int64(st, 3, now + (int64_t)ca->ocsp_days * 86400)) &&
	    !(rc = jpki_stmt_bind_blob(st, 4, der, len)))
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	return rc;
}

/* A stored response for serial of kind, if younger than half its validity. */
static jpki_err cached(struct jpki_ca *ca, enum jpki_pki_kind kind, const char *serial,
		       int64_t now, unsigned char **der, size_t *len, int64_t *produced)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpki_stmt_prepare(
	    ca->store,
	    "SELECT o.der, o.produced_at FROM ocsp_response o JOIN certificate c ON "
	    "c.serial = "
	    "o.serial WHERE o.serial = $1 AND c.kind = $2 AND o.produced_at > $3 AND "
	    "o.produced_at <= $4",
	    &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, serial)) &&
	    !(rc = jpki_stmt_bind_text(st, 2, jpkii_kind_name(kind))) &&
	    !(rc = jpki_stmt_bind_int64(st, 3, stale_before(ca, now))) &&
	    !(rc = jpki_stmt_bind_int64(st, 4, now)))
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row) {
		size_t n;
		const void *p = jpki_stmt_blob(st, 0, &n);
		if ((*der = OPENSSL_malloc(n)) == NULL) {
			rc = JPKI_ERR_NOMEM;
		} else {
			memcpy(*der, p, n);
			*len = n;
			*produced = jpki_stmt_int64(st, 1);
		}
	}
	jpki_stmt_finalize(st);
	return rc;
}

/* RFC 6960 4.1.1: the request is DER. OpenSSL's parser also takes BER and
 * odd encodings of ANY it cannot write back (a fuzzer found a CertID whose
 * algorithm parameters parse but do not re-encode, so no response could
 * be signed for it). Only a request that re-encodes to its own bytes is
 * answered. */
static bool is_der(OCSP_REQUEST *r, const unsigned char *req, size_t len)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_REQUEST(r, &der);
	bool same_bytes = n > 0 && (size_t)n == len && memcmp(der, req, len) == 0;
	OPENSSL_free(der);
	return same_bytes;
}

static bool is_sha1(OCSP_CERTID *id)
{
	ASN1_OBJECT *md = NULL;
	return OCSP_id_get0_info(NULL, &md, NULL, NULL, id) &&
	       OBJ_obj2nid(md) == NID_sha1;
}

jpki_err jpki_ca_ocsp(struct jpki_ca *ca, const unsigned char *req, size_t req_len,
		      int64_t now, unsigned char **resp, size_t *resp_len,
		      struct jpki_ocsp_stats *stats, struct jpki_errbuf *eb)
{
	const unsigned char *p = req;
	OCSP_REQUEST *r = NULL;
	OCSP_CERTID *ids[MAX_SINGLE_REQUESTS];
	struct cert_status cs[MAX_SINGLE_REQUESTS];
	jpki_err rc;
	int kind = -1;
	*resp = NULL;
	memset(stats, 0, sizeof *stats);

	if ((rc = mem_validate(ca)) != JPKI_OK)
		goto out_store;
	if (mem_get(ca, req, req_len, now, resp, resp_len)) {
		stats->cached = true;
		return JPKI_OK;
	}
	/* RFC 6960 2.3: anything that does not parse as one OCSPRequest, with
	 * nothing after it, is malformedRequest. */
	if (req_len > 0 && req_len < (1u << 20))
		r = d2i_OCSP_REQUEST(NULL, &p, (long)req_len);
	int n = r ? OCSP_request_onereq_count(r) : 0;
	if (r == NULL || p != req + req_len || n < 1 || n > MAX_SINGLE_REQUESTS ||
	    !is_der(r, req, req_len)) {
		ERR_clear_error();
		stats->status = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
		rc = status_response(stats->status, resp, resp_len);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		ids[i] = OCSP_onereq_get0_id(OCSP_request_onereq_get0(r, i));
		int k = issuer_of_id(ca, ids[i]);
		if (k < 0 || (kind >= 0 && k != kind)) {
			/* Not one of our issuing CAs (or a mix): RFC 6960 2.3. */
			stats->status = OCSP_RESPONSE_STATUS_UNAUTHORIZED;
			rc = status_response(stats->status, resp, resp_len);
			goto out;
		}
		kind = k;
	}
	bool nonce = OCSP_REQUEST_get_ext_by_NID(r, NID_id_pkix_OCSP_Nonce, -1) >= 0;
	/* RFC 5019's request (one SHA-1 CertID, no nonce): the stored response,
	 * if there is a fresh one, is the answer. Revocation deletes it. */
	bool cacheable = !nonce && n == 1 && is_sha1(ids[0]);
	if (cacheable) {
		ASN1_INTEGER *serial = NULL;
		char hex[66];
		OCSP_id_get0_info(NULL, NULL, NULL, &serial, ids[0]);
		if (serial->type == V_ASN1_INTEGER &&
		    ASN1_STRING_length(serial) <= 32 &&
		    jpkii_serial_hex(serial, hex, sizeof hex) == JPKI_OK) {
			int64_t produced = 0;
			if ((rc = cached(ca, (enum jpki_pki_kind)kind, hex, now, resp,
					 resp_len, &produced)))
				goto out_store;
			if (*resp) {
				mem_put(ca, req, req_len, *resp, *resp_len, produced);
				stats->cached = true;
				goto out;
			}
		}
	}
	/* A response that will be stored is read, signed and stored in one
	 * write transaction: a revocation cannot commit in between and leave a
	 * stored "good" behind it. A nonce response is only sent, so a read
	 * without the lock is enough. */
	if (cacheable && (rc = jpki_store_begin(ca->store)))
		goto out_store;
	for (int i = 0; i < n; i++) {
		ASN1_INTEGER *serial = NULL;
		OCSP_id_get0_info(NULL, NULL, NULL, &serial, ids[i]);
		if ((rc = lookup_status(ca, (enum jpki_pki_kind)kind, serial, &cs[i])))
			goto out_store;
	}
	bool store = cacheable && cs[0].known;
	if ((rc = sign_live(ca, (enum jpki_pki_kind)kind, ids, cs, n, nonce ? r : NULL,
			    now, resp, resp_len, eb)))
		goto out;
	if (store && ((rc = store_response(ca, cs[0].serial, now, *resp, *resp_len)) ||
		      (rc = jpki_store_commit(ca->store))))
		goto out_store;
	jpki_store_rollback(ca->store); /* the read-only case; no-op after commit */
	if (store)
		mem_put(ca, req, req_len, *resp, *resp_len, now);
	rc = JPKI_OK;
	goto out;
out_store:
	jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
	OPENSSL_free(*resp);
	*resp = NULL;
out:
	jpki_store_rollback(ca->store); /* no-op outside a transaction */
	OCSP_REQUEST_free(r);
	return rc;
}

/* ---- refresh ---- */

struct due {
	char serial[66];
	enum jpki_pki_kind kind;
};

static jpki_err list_due(struct jpki_ca *ca, int64_t now, struct due **out, size_t *n)
{
	struct jpki_stmt *st = NULL;
	bool row;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	/* Unexpired certificates whose stored response is missing or has
	 * lived half its validity. */
	jpki_err rc = jpki_stmt_prepare(
	    ca->store,
	    "SELECT c.serial, c.kind FROM certificate c LEFT JOIN ocsp_response o ON "
	    "o.serial = c.serial WHERE c.not_after > $1 AND (o.serial IS NULL OR "
	    "o.produced_at <= $2)",
	    &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_int64(st, 1, now)))
		rc = jpki_stmt_bind_int64(st, 2, stale_before(ca, now));
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			struct due *v = realloc(*out, cap * sizeof *v);
			if (v == NULL) {
				rc = JPKI_ERR_NOMEM;
				break;
			}
			*out = v;
		}
		snprintf((*out)[*n].serial, sizeof(*out)[*n].serial, "%s",
			 jpki_stmt_text(st, 0));
		(*out)[*n].kind = strcmp(jpki_stmt_text(st, 1), "sign") == 0
				      ? JPKI_PKI_SIGN
				      : JPKI_PKI_AUTH;
		(*n)++;
	}
	jpki_stmt_finalize(st);
	return rc;
}

static jpki_err refresh_one(struct jpki_ca *ca, const struct due *d, int64_t now,
			    struct jpki_errbuf *eb)
{
	X509 *iss = ca->cert[jpkii_issuer_of(d->kind)];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	OCSP_CERTID *id = NULL;
	struct cert_status cs;
	unsigned char *der = NULL;
	size_t len;
	jpki_err rc = JPKI_ERR_CRYPTO;
	if (!BN_hex2bn(&bn, d->serial) || !(serial = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    !(id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(iss),
				    X509_get0_pubkey_bitstr(iss), serial)))
		goto out;
	if ((rc = lookup_status(ca, d->kind, serial, &cs)) ||
	    (rc = sign_live(ca, d->kind, &id, &cs, 1, NULL, now, &der, &len, eb)) ||
	    (rc = store_response(ca, d->serial, now, der, len)))
		goto out;
out:
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	OCSP_CERTID_free(id);
	OPENSSL_free(der);
	return rc;
}

jpki_err jpki_ca_refresh_ocsp(struct jpki_ca *ca, int64_t now, size_t *count,
			      struct jpki_errbuf *eb)
{
	struct due *due = NULL;
	size_t n = 0;
	char details[64];
	jpki_err rc;
	*count = 0;
	if ((rc = jpki_store_begin(ca->store)))
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
	if ((rc = list_due(ca, now, &due, &n)))
		goto out_store;
	for (size_t i = 0; i < n; i++)
		if ((rc = refresh_one(ca, &due[i], now, eb)))
			goto out_rollback;
	snprintf(details, sizeof details, "{\"signed\":%zu}", n);
	if ((rc = jpkii_audit(ca, now, "ocsp.refresh", "ocsp", details, eb)))
		goto out_rollback;
	if ((rc = jpki_store_commit(ca->store)))
		goto out_store;
	jpkii_ocsp_flush(ca);
	*count = n;
	free(due);
	return JPKI_OK;
out_store:
	jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
out_rollback:
	jpki_store_rollback(ca->store);
	free(due);
	return rc;
}
