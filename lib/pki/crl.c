/* CRLs (RFC 5280 §5): a full CRL per issuing CA and a shard per
 * municipality, the shard carrying a critical issuingDistributionPoint that
 * matches the cRLDistributionPoints of its certificates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "pki_internal.h"
#include "banned.h"

/* Takes the next CRL number of a scope; the caller's transaction commits
 * it before the CRL leaves, so a number is never handed out twice, even
 * across a crash (a crash can only leave a gap). */
static jpki_err next_crl_number(struct jpki_store *s, const char *scope, int64_t *out)
{
	return jpkii_counter_next(
	    s,
	    "INSERT INTO crl_number (scope, last) VALUES ($1, 1) ON CONFLICT (scope) DO "
	    "UPDATE SET last = crl_number.last + 1",
	    "SELECT last FROM crl_number WHERE scope = $1", scope, out);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Our serials are stored as lowercase hex of a positive integer whose
 * first byte is below 0x80: those bytes are its DER content as they are. */
static bool serial_set(ASN1_INTEGER *i, const char *hex)
{
	unsigned char b[32];
	size_t n = strlen(hex);
	if (n == 0 || n % 2 || n / 2 > sizeof b)
		return false;
	for (size_t k = 0; k < n / 2; k++) {
		int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);
		if (hi < 0 || lo < 0)
			return false;
		b[k] = (unsigned char)(hi << 4 | lo);
	}
	if (b[0] & 0x80)
		return false;
	return ASN1_STRING_set(i, b, (int)(n / 2)) == 1;
}

/* Reused for every entry: set_serialNumber and set_revocationDate copy. */
struct entry_tmp {
	ASN1_INTEGER *serial;
	ASN1_TIME *time;
	int64_t time_of; /* the instant in `time`, to skip re-formatting */
};

static jpki_err add_entry(X509_CRL *crl, struct entry_tmp *tmp, const char *serial_hex,
			  int64_t at, int reason)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_ENUMERATED *e = NULL;
	if (tmp->time_of != at) {
		if (!ASN1_TIME_adj(tmp->time, (time_t)at, 0, 0))
			return JPKI_ERR_CRYPTO;
		tmp->time_of = at;
	}
	bool ok = r && serial_set(tmp->serial, serial_hex) &&
		  X509_REVOKED_set_serialNumber(r, tmp->serial) &&
		  X509_REVOKED_set_revocationDate(r, tmp->time);
	/* RFC 5280 5.3.1: reasonCode is absent rather than unspecified. */
	if (ok && reason != JPKI_REASON_UNSPECIFIED)
		ok = (e = ASN1_ENUMERATED_new()) && ASN1_ENUMERATED_set(e, reason) &&
		     X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
	if (ok)
		ok = X509_CRL_add0_revoked(crl, r);
	if (ok)
		r = NULL;
	X509_REVOKED_free(r);
	ASN1_ENUMERATED_free(e);
	return ok ? JPKI_OK : JPKI_ERR_CRYPTO;
}

/* The issuingDistributionPoint of a shard: its URL, user certificates only. */
static jpki_err add_idp(X509_CRL *crl, const char *url)
{
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *uri = ASN1_IA5STRING_new();
	jpki_err rc = JPKI_ERR_CRYPTO;
	if (!idp || !gn || !uri || !ASN1_STRING_set(uri, url, (int)strlen(url)))
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_URI, uri);
	uri = NULL;
	if ((idp->distpoint = DIST_POINT_NAME_new()) == NULL)
		goto out;
	idp->distpoint->type = 0; /* fullName */
	if ((idp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    !sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn))
		goto out;
	gn = NULL;
	idp->onlyuser = 0xff; /* DER encodes TRUE as FF (X.690 11.1) */
	/* RFC 5280 5.2.5: the extension is critical. */
	if (X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0))
		rc = JPKI_OK;
out:
	ISSUING_DIST_POINT_free(idp);
	GENERAL_NAME_free(gn);
	ASN1_IA5STRING_free(uri);
	return rc;
}

static jpki_err add_crl_exts(X509_CRL *crl, X509 *issuer, int64_t number)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	X509_EXTENSION *aki =
	    X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	bool ok = aki && num && X509_CRL_add_ext(crl, aki, -1) &&
		  ASN1_INTEGER_set_int64(num, number) &&
		  X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	return ok ? JPKI_OK : JPKI_ERR_CRYPTO;
}

static jpki_err check_shard(struct jpki_store *s, const char *shard,
			    struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	if (strlen(shard) != 6 || strspn(shard, "0123456789") != 6)
		return jpki_errf(eb, JPKI_ERR_INVALID, "--shard: '%.20s' is not a "
				 "6-digit municipality code", shard);
	jpki_err rc = jpki_stmt_prepare(s, "SELECT 1 FROM municipality WHERE code = $1",
					&st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, shard)))
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
	if (!row)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "--shard %s is not one of this CA's municipalities",
				 shard);
	return JPKI_OK;
}

/* Adds the entries of the scope: revoked, and not yet past their own
 * expiry (RFC 5280 3.3: entries may go once the certificate expires). */
static jpki_err add_entries(struct jpki_ca *ca, X509_CRL *crl, enum jpki_pki_kind kind,
			    const char *shard, int64_t now, int64_t *count)
{
	struct jpki_stmt *st = NULL;
	bool row;
	jpki_err rc = jpki_stmt_prepare(
	    ca->store,
	    shard ? "SELECT serial, revoked_at, reason FROM revocation WHERE "
		    "municipality = $3 AND kind = $1 AND not_after >= $2"
		  : "SELECT serial, revoked_at, reason FROM revocation WHERE kind = $1 "
		    "AND not_after >= $2",
	    &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, jpkii_kind_name(kind))) &&
	    !(rc = jpki_stmt_bind_int64(st, 2, now)) && shard)
		rc = jpki_stmt_bind_text(st, 3, shard);
	*count = 0;
	struct entry_tmp tmp = {ASN1_INTEGER_new(), ASN1_TIME_new(), INT64_MIN};
	if (!tmp.serial || !tmp.time)
		rc = JPKI_ERR_NOMEM;
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		rc = add_entry(crl, &tmp, jpki_stmt_text(st, 0), jpki_stmt_int64(st, 1),
			       (int)jpki_stmt_int64(st, 2));
		(*count)++;
	}
	ASN1_INTEGER_free(tmp.serial);
	ASN1_TIME_free(tmp.time);
	jpki_stmt_finalize(st);
	return rc;
}

jpki_err jpki_ca_crl(struct jpki_ca *ca, enum jpki_pki_kind kind, const char *shard,
		     int64_t now, unsigned char **der, size_t *len,
		     struct jpki_errbuf *eb)
{
	char scope[32], url[320], details[160];
	struct jpki_signer *signer;
	X509 *issuer = ca->cert[jpkii_issuer_of(kind)];
	X509_CRL *crl = NULL;
	ASN1_TIME *last = NULL, *next = NULL;
	int64_t number = 0, entries = 0;
	jpki_err rc;
	*der = NULL;

	if (shard && (rc = check_shard(ca->store, shard, eb)))
		return rc;
	if ((rc = jpkii_ca_signer(ca, jpkii_issuer_of(kind), &signer, eb)))
		return rc;
	snprintf(scope, sizeof scope, "%s%s%s", jpkii_kind_name(kind), shard ? "/" : "",
		 shard ? shard : "");
	if ((rc = jpki_store_begin(ca->store)))
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
	if ((rc = next_crl_number(ca->store, scope, &number)))
		goto out_store;
	crl = X509_CRL_new();
	last = jpkii_asn1_time(now);
	next = jpkii_asn1_time(now + (int64_t)ca->crl_hours * 3600);
	if (!crl || !last || !next || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next)) {
		rc = JPKI_ERR_CRYPTO;
		goto out_rollback;
	}
	if ((rc = add_entries(ca, crl, kind, shard, now, &entries)))
		goto out_store;
	X509_CRL_sort(crl);
	if (shard) {
		jpkii_url_shard(ca, kind, shard, url, sizeof url);
		if ((rc = add_idp(crl, url)))
			goto out_rollback;
	}
	if ((rc = add_crl_exts(crl, issuer, number)) ||
	    (rc = signer->ops->sign_crl(signer, crl))) {
		jpki_errf(eb, rc, "cannot sign the CRL");
		goto out_rollback;
	}
	int n = i2d_X509_CRL(crl, der);
	if (n <= 0) {
		rc = JPKI_ERR_CRYPTO;
		goto out_rollback;
	}
	*len = (size_t)n;
	snprintf(details, sizeof details, "{\"number\":%lld,\"entries\":%lld}",
		 (long long)number, (long long)entries);
	if ((rc = jpkii_audit(ca, now, "crl.issue", scope, details, eb)))
		goto out_rollback;
	if ((rc = jpki_store_commit(ca->store)))
		goto out_store;
	goto out;
out_store:
	jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
out_rollback:
	jpki_store_rollback(ca->store);
	OPENSSL_free(*der);
	*der = NULL;
out:
	X509_CRL_free(crl);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return rc;
}
