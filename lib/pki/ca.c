/* The CA hierarchy: init, open, CA certificates, revocation (DOMAIN §4, §8).
 *
 * Hierarchy (docs/internals/pki.md): a self-signed root; a signing CA and an
 * auth CA under it (pathlen 0); one OCSP responder per issuing CA
 * (id-kp-OCSPSigning, id-pkix-ocsp-nocheck). Names say openjpki, never
 * J-LIS: JPKI's issuers are "C=JP, O=JPKI, OU=JPKI for digital signature,
 * OU=Japan Agency for Local Authority Information Systems"; ours keep the
 * shape with O=openjpki.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "jpki/utf8.h"
#include "pki_internal.h"
#include "banned.h"

const char *const jpkii_ca_names[CA_N] = {"root", "sign", "auth", "ocsp-sign",
					  "ocsp-auth"};

/* Validity of the CA certificates [decision]: the root 20 years, issuing
 * CAs 12 (longer than any end-entity certificate: at most a card's 10
 * years plus a renewal), responders 5. */
static const int ca_years[CA_N] = {20, 12, 12, 5, 5};

static const char *const ca_ou[CA_N] = {
    "openjpki Root CA",
    "openjpki for digital signature",
    "openjpki for user authentication",
    "openjpki OCSP responder for digital signature",
    "openjpki OCSP responder for user authentication",
};

/* ---- small helpers ---- */

ASN1_TIME *jpkii_asn1_time(int64_t t)
{
	return ASN1_TIME_adj(NULL, (time_t)t, 0, 0);
}

jpki_err jpkii_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return JPKI_ERR_CRYPTO;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? JPKI_OK : JPKI_ERR_CRYPTO;
}

jpki_err jpkii_serial_hex(const ASN1_INTEGER *s, char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	unsigned char b[64];
	int len = bn ? BN_bn2bin(bn, b) : -1;
	BN_free(bn);
	if (len < 0 || (size_t)len * 2 + 1 > n)
		return JPKI_ERR_INVALID;
	for (int i = 0; i < len; i++) {
		buf[2 * i] = hex[b[i] >> 4];
		buf[2 * i + 1] = hex[b[i] & 15];
	}
	buf[2 * len] = '\0';
	return JPKI_OK;
}

int jpkii_url_shard(const struct jpki_ca *ca, enum jpki_pki_kind k, const char *muni,
		    char *buf, size_t n)
{
	return snprintf(buf, n, "%s/crl/%s/%s.crl", ca->base_url, jpkii_kind_name(k),
			muni);
}

int jpkii_url_ocsp(const struct jpki_ca *ca, enum jpki_pki_kind k, char *buf, size_t n)
{
	return snprintf(buf, n, "%s/ocsp/%s", ca->base_url, jpkii_kind_name(k));
}

jpki_err jpkii_sql(struct jpki_store *s, const char *types, const char *sql, ...)
{
	struct jpki_stmt *st = NULL;
	jpki_err rc = jpki_stmt_prepare(s, sql, &st);
	va_list ap;
	va_start(ap, sql);
	for (int i = 0; rc == JPKI_OK && types[i]; i++) {
		if (types[i] == 't')
			rc = jpki_stmt_bind_text(st, i + 1, va_arg(ap, const char *));
		else
			rc = jpki_stmt_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	bool row;
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	return rc;
}

jpki_err jpkii_counter_next(struct jpki_store *s, const char *upsert,
			    const char *select, const char *key, int64_t *out)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpkii_sql(s, "t", upsert, key);
	if (rc == JPKI_OK)
		rc = jpki_stmt_prepare(s, select, &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, key)))
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row)
		*out = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	return rc == JPKI_OK && !row ? JPKI_ERR_STORE : rc;
}

jpki_err jpkii_audit(struct jpki_ca *ca, int64_t now, const char *action,
		     const char *object, const char *details_json,
		     struct jpki_errbuf *eb)
{
	return jpki_audit_append(ca->store, now, "jpki-ca", action, object,
				 details_json, eb);
}

bool jpkii_has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
		/* C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8. */
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return true;
	}
	return false;
}

/* ---- municipalities (全国地方公共団体コード) ---- */

static const char *const prefectures[47] = {
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県",	  "福島県", "茨城県",
    "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県",
    "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県",	  "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県",
    "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県",	  "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
};

const char *jpki_prefecture_name(const char *code)
{
	if (code == NULL || code[0] < '0' || code[0] > '9' || code[1] < '0' ||
	    code[1] > '9')
		return NULL;
	int p = (code[0] - '0') * 10 + (code[1] - '0');
	return p >= 1 && p <= 47 ? prefectures[p - 1] : NULL;
}

/* 総務省「全国地方公共団体コード」: five digits and a check digit, the last
 * digit of 11 - (sum of digits weighted 6,5,4,3,2 mod 11). */
static bool muni_code_valid(const char *c)
{
	static const int w[5] = {6, 5, 4, 3, 2};
	int sum = 0;
	for (int i = 0; i < 6; i++)
		if (c[i] < '0' || c[i] > '9')
			return false;
	if (c[6] != '\0')
		return false;
	for (int i = 0; i < 5; i++)
		sum += (c[i] - '0') * w[i];
	return (11 - sum % 11) % 10 == c[5] - '0' && jpki_prefecture_name(c) != NULL;
}

jpki_err jpki_municipality_parse(const char *s, struct jpki_municipality *out,
				 struct jpki_errbuf *eb)
{
	const char *colon = strchr(s, ':');
	memset(out, 0, sizeof *out);
	if (colon == NULL || colon - s != 6)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "'%.40s': expected CODE:NAME with a 6-digit code", s);
	memcpy(out->code, s, 6);
	if (!muni_code_valid(out->code))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "%s: not a municipality code (bad prefecture or "
				 "check digit)",
				 out->code);
	size_t n = strlen(colon + 1);
	if (n == 0 || n >= sizeof out->name)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "%s: the name is empty or too long", out->code);
	if (jpki_utf8_chars(colon + 1, n) < 0 || jpkii_has_control(colon + 1))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "%s: the name is not UTF-8 text without control "
				 "characters",
				 out->code);
	memcpy(out->name, colon + 1, n + 1);
	return JPKI_OK;
}

/* ---- building the CA certificates ---- */

static X509_NAME *ca_name(int i)
{
	X509_NAME *n = X509_NAME_new();
	if (n == NULL ||
	    !X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8,
					(const unsigned char *)"JP", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
					(const unsigned char *)"openjpki", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
					(const unsigned char *)ca_ou[i], -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(
		n, "OU", MBSTRING_UTF8,
		(const unsigned char *)"openjpki test hierarchy, not J-LIS", -1, -1,
		0)) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

jpki_err jpkii_new_serial(X509 *cert)
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		return JPKI_ERR_CRYPTO;
	b[0] &= 0x7f; /* positive */
	if (b[0] == 0)
		b[0] = 1; /* and exactly 16 bytes long */
	BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
	jpki_err rc = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))
			  ? JPKI_OK
			  : JPKI_ERR_CRYPTO;
	BN_free(bn);
	return rc;
}

static const char *const ca_exts[CA_N][4] = {
    {"critical,CA:TRUE", "critical,keyCertSign,cRLSign", NULL, NULL},
    {"critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign", NULL, NULL},
    {"critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign", NULL, NULL},
    {"critical,CA:FALSE", "critical,digitalSignature", "OCSPSigning", "ignored"},
    {"critical,CA:FALSE", "critical,digitalSignature", "OCSPSigning", "ignored"},
};

static int parent_of(int i)
{
	switch (i) {
	case CA_SIGN:
	case CA_AUTH:
		return CA_ROOT;
	case CA_OCSP_SIGN:
		return CA_SIGN;
	case CA_OCSP_AUTH:
		return CA_AUTH;
	default:
		return CA_ROOT;
	}
}

static jpki_err build_ca_cert(int i, EVP_PKEY *key, X509 *issuer,
			      struct jpki_signer *issuer_signer, int64_t not_before,
			      int64_t now, X509 **out)
{
	jpki_err rc = JPKI_ERR_CRYPTO;
	X509 *c = X509_new();
	X509_NAME *name = ca_name(i);
	/* The validity counts from now even when notBefore is earlier. */
	ASN1_TIME *nb = jpkii_asn1_time(not_before);
	ASN1_TIME *na = jpkii_asn1_time(now + (int64_t)ca_years[i] * 365 * 86400 +
					(int64_t)(ca_years[i] / 4) * 86400);
	if (!c || !name || !nb || !na || !X509_set_version(c, X509_VERSION_3) ||
	    jpkii_new_serial(c) != JPKI_OK || !X509_set_subject_name(c, name) ||
	    !X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name) ||
	    !X509_set1_notBefore(c, nb) || !X509_set1_notAfter(c, na) ||
	    !X509_set_pubkey(c, key))
		goto out;
	X509 *iss = issuer ? issuer : c;
	if (jpkii_add_ext(c, iss, NID_basic_constraints, ca_exts[i][0]) ||
	    jpkii_add_ext(c, iss, NID_key_usage, ca_exts[i][1]) ||
	    jpkii_add_ext(c, iss, NID_subject_key_identifier, "hash") ||
	    (issuer &&
	     jpkii_add_ext(c, iss, NID_authority_key_identifier, "keyid:always")))
		goto out;
	if (ca_exts[i][2] != NULL &&
	    (jpkii_add_ext(c, iss, NID_ext_key_usage, ca_exts[i][2]) ||
	     /* RFC 6960 4.2.2.2.1: clients need not check the responder. */
	     jpkii_add_ext(c, iss, NID_id_pkix_OCSP_noCheck, ca_exts[i][3])))
		goto out;
	rc = issuer_signer->ops->sign_cert(issuer_signer, c);
	if (rc == JPKI_OK) {
		*out = c;
		c = NULL;
	}
out:
	X509_free(c);
	X509_NAME_free(name);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return rc;
}

static jpki_err cert_der(X509 *c, unsigned char **der, int *len)
{
	*der = NULL;
	*len = i2d_X509(c, der);
	return *len > 0 ? JPKI_OK : JPKI_ERR_CRYPTO;
}

static int path_join(char *buf, size_t n, const char *dir, const char *file)
{
	int w = snprintf(buf, n, "%s/%s", dir, file);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* ---- init ---- */

jpki_err jpki_ca_init_check(const struct jpki_ca_init_opts *o, struct jpki_errbuf *eb)
{
	if (o->key_bits != 2048 && o->key_bits != 3072 && o->key_bits != 4096)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "--key-bits must be 2048, 3072 "
				 "or 4096");
	if (o->crl_hours < 1 || o->crl_hours > 24 * 31)
		return jpki_errf(eb, JPKI_ERR_INVALID, "--crl-hours must be 1 to 744");
	if (o->ocsp_days < 1 || o->ocsp_days > 31)
		return jpki_errf(eb, JPKI_ERR_INVALID, "--ocsp-days must be 1 to 31");
	if (o->not_before != 0 &&
	    (o->not_before > o->now || o->now - o->not_before > 20LL * 365 * 86400))
		return jpki_errf(
		    eb, JPKI_ERR_INVALID,
		    "--history-from must be within the 20 years before now");
	size_t n = strlen(o->base_url);
	if ((strncmp(o->base_url, "http://", 7) != 0 &&
	     strncmp(o->base_url, "https://", 8) != 0) ||
	    n > 200 || o->base_url[n - 1] == '/' || strpbrk(o->base_url, " \"<>\\") ||
	    jpkii_has_control(o->base_url))
		return jpki_errf(
		    eb, JPKI_ERR_INVALID,
		    "--base-url: an http(s) URL without spaces, control "
		    "characters or a trailing slash, at most 200 characters");
	if (o->passphrase == NULL && !o->insecure_no_passphrase)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "a passphrase is required (JPKI_CA_PASSPHRASE or "
				 "--passphrase-file), or --insecure-no-passphrase");
	if (o->passphrase != NULL && strlen(o->passphrase) < 8)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "the passphrase must have at least 8 characters");
	if (o->n_munis == 0)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "at least one --municipality CODE:NAME is required "
				 "(certificates are issued for a municipality)");
	for (size_t i = 0; i < o->n_munis; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(o->munis[i].code, o->munis[j].code) == 0)
				return jpki_errf(eb, JPKI_ERR_INVALID,
						 "--municipality %s given twice",
						 o->munis[i].code);
	return JPKI_OK;
}

static bool store_has_ca(struct jpki_store *s, jpki_err *err)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	*err = jpki_stmt_prepare(s, "SELECT 1 FROM ca LIMIT 1", &st);
	if (*err == JPKI_OK)
		*err = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	return row;
}

static jpki_err insert_ca(struct jpki_store *s, int i, X509 *c, const char *key_file,
			  int64_t now)
{
	unsigned char *der = NULL;
	int len;
	struct jpki_stmt *st = NULL;
	bool row;
	jpki_err rc = cert_der(c, &der, &len);
	if (rc == JPKI_OK)
		rc = jpki_stmt_prepare(s,
				       "INSERT INTO ca (name, cert_der, key_file, "
				       "created_at) VALUES ($1, $2, $3, $4)",
				       &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, jpkii_ca_names[i])) &&
	    !(rc = jpki_stmt_bind_blob(st, 2, der, (size_t)len)) &&
	    !(rc = jpki_stmt_bind_text(st, 3, key_file)) &&
	    !(rc = jpki_stmt_bind_int64(st, 4, now)))
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	OPENSSL_free(der);
	return rc;
}

jpki_err jpki_ca_init(struct jpki_store *s, const char *keys_dir,
		      const struct jpki_ca_init_opts *o, struct jpki_errbuf *eb)
{
	jpki_err rc;
	EVP_PKEY *key[CA_N] = {0};
	X509 *cert[CA_N] = {0};
	struct jpki_signer *sig[CA_N] = {0};
	char path[CA_N][PATH_MAX];
	bool written[CA_N] = {0};
	char(*issuer_paths)[PATH_MAX] = NULL;
	char buf[512];

	if ((rc = jpki_ca_init_check(o, eb)) != JPKI_OK)
		return rc;
	/* Refuse before touching anything: no key file, no row. */
	if (store_has_ca(s, &rc) || rc != JPKI_OK)
		return rc != JPKI_OK
			   ? jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s))
			   : jpki_errf(eb, JPKI_ERR_REFUSED,
				       "the store already holds a CA; "
				       "nothing was changed");
	if (mkdir(keys_dir, 0700) != 0 && errno != EEXIST)
		return jpki_errf(eb, JPKI_ERR_IO, "%s: %s", keys_dir, strerror(errno));
	for (int i = 0; i < CA_N; i++) {
		snprintf(buf, sizeof buf, "%s.key.pem", jpkii_ca_names[i]);
		if (path_join(path[i], sizeof path[i], keys_dir, buf) != 0)
			return jpki_errf(eb, JPKI_ERR_INVALID, "%s: path too long",
					 keys_dir);
		if (access(path[i], F_OK) == 0)
			return jpki_errf(eb, JPKI_ERR_REFUSED,
					 "%s already exists (left by an earlier "
					 "init?); nothing was changed",
					 path[i]);
	}

	for (int i = 0; i < CA_N; i++) {
		if ((rc = jpkii_key_generate(o->key_bits, &key[i], eb)) ||
		    (rc = jpkii_signer_from_key(key[i], &sig[i])))
			goto out;
		int p = parent_of(i);
		rc = build_ca_cert(i, key[i], i == CA_ROOT ? NULL : cert[p],
				   i == CA_ROOT ? sig[i] : sig[p],
				   o->not_before ? o->not_before : o->now, o->now,
				   &cert[i]);
		if (rc != JPKI_OK) {
			jpki_errf(eb, rc, "cannot build the %s certificate",
				  jpkii_ca_names[i]);
			goto out;
		}
	}

	if ((rc = jpki_store_begin(s)) != JPKI_OK) {
		jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
		goto out;
	}
	for (int i = 0; i < CA_N; i++) {
		rc = jpkii_key_write(path[i], key[i],
				     o->insecure_no_passphrase ? NULL : o->passphrase,
				     eb);
		if (rc != JPKI_OK)
			goto out_rollback;
		written[i] = true;
		snprintf(buf, sizeof buf, "%s.key.pem", jpkii_ca_names[i]);
		if ((rc = insert_ca(s, i, cert[i], buf, o->now)) != JPKI_OK)
			goto out_store;
	}
	char num[16];
	snprintf(num, sizeof num, "%d", o->crl_hours);
	if ((rc = jpkii_sql(s, "tt", "INSERT INTO ca_setting VALUES ($1, $2)",
			    "base_url", o->base_url)) ||
	    (rc = jpkii_sql(s, "tt", "INSERT INTO ca_setting VALUES ($1, $2)",
			    "crl_hours", num)))
		goto out_store;
	snprintf(num, sizeof num, "%d", o->ocsp_days);
	if ((rc = jpkii_sql(s, "tt", "INSERT INTO ca_setting VALUES ($1, $2)",
			    "ocsp_days", num)))
		goto out_store;
	snprintf(num, sizeof num, "%d", o->key_bits);
	if ((rc = jpkii_sql(s, "tt", "INSERT INTO ca_setting VALUES ($1, $2)",
			    "key_bits", num)) ||
	    (rc = jpkii_sql(s, "tt", "INSERT INTO ca_setting VALUES ($1, $2)",
			    "keys_encrypted", o->insecure_no_passphrase ? "0" : "1")))
		goto out_store;
	for (size_t m = 0; m < o->n_munis; m++)
		if ((rc = jpkii_sql(s, "tt",
				    "INSERT INTO municipality (code, name) VALUES "
				    "($1, $2)",
				    o->munis[m].code, o->munis[m].name)))
			goto out_store;
	if ((issuer_paths = calloc(o->n_munis, sizeof *issuer_paths)) == NULL) {
		rc = JPKI_ERR_NOMEM;
		goto out_rollback;
	}
	if ((rc = jpkii_card_issuers_create(s, keys_dir, o, issuer_paths, eb)))
		goto out_rollback;

	snprintf(buf, sizeof buf,
		 "{\"key_bits\":%d,\"crl_hours\":%d,\"ocsp_days\":%d,"
		 "\"municipalities\":%zu,\"keys_encrypted\":%s}",
		 o->key_bits, o->crl_hours, o->ocsp_days, o->n_munis,
		 o->insecure_no_passphrase ? "false" : "true");
	if ((rc = jpki_audit_append(s, o->now, "jpki-ca", "ca.init", "ca", buf, eb)))
		goto out_rollback;
	if ((rc = jpki_store_commit(s)) != JPKI_OK)
		goto out_store;
	rc = JPKI_OK;
	goto out;
out_store:
	jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
out_rollback:
	jpki_store_rollback(s);
	for (int i = 0; i < CA_N; i++)
		if (written[i])
			unlink(path[i]);
	for (size_t m = 0; issuer_paths && m < o->n_munis; m++)
		if (issuer_paths[m][0])
			unlink(issuer_paths[m]);
out:
	free(issuer_paths);
	for (int i = 0; i < CA_N; i++) {
		jpkii_signer_free(sig[i]);
		EVP_PKEY_free(key[i]);
		X509_free(cert[i]);
	}
	return rc;
}

/* ---- open ---- */

static jpki_err load_settings(struct jpki_ca *ca, struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	bool row;
	jpki_err rc =
	    jpki_stmt_prepare(ca->store, "SELECT key, value FROM ca_setting", &st);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		const char *k = jpki_stmt_text(st, 0), *v = jpki_stmt_text(st, 1);
		if (strcmp(k, "base_url") == 0)
			snprintf(ca->base_url, sizeof ca->base_url, "%s", v);
		else if (strcmp(k, "crl_hours") == 0)
			ca->crl_hours = (int)strtol(v, NULL, 10);
		else if (strcmp(k, "ocsp_days") == 0)
			ca->ocsp_days = (int)strtol(v, NULL, 10);
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
	if (ca->base_url[0] == '\0' || ca->crl_hours < 1 || ca->ocsp_days < 1)
		return jpki_errf(eb, JPKI_ERR_STORE, "the CA settings are incomplete");
	return JPKI_OK;
}

jpki_err jpki_ca_open(struct jpki_store *s, const char *keys_dir,
		      const char *passphrase, struct jpki_ca **out,
		      struct jpki_errbuf *eb)
{
	jpki_err rc;
	struct jpki_stmt *st = NULL;
	bool row;
	struct jpki_ca *ca = calloc(1, sizeof *ca);
	if (ca == NULL)
		return JPKI_ERR_NOMEM;
	ca->store = s;
	snprintf(ca->keys_dir, sizeof ca->keys_dir, "%s", keys_dir);
	if (passphrase && (ca->passphrase = strdup(passphrase)) == NULL) {
		rc = JPKI_ERR_NOMEM;
		goto fail;
	}
	rc = jpki_stmt_prepare(s, "SELECT name, cert_der, key_file FROM ca", &st);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		const char *name = jpki_stmt_text(st, 0);
		size_t n;
		const unsigned char *der = jpki_stmt_blob(st, 1, &n);
		for (int i = 0; i < CA_N; i++) {
			if (strcmp(name, jpkii_ca_names[i]) != 0)
				continue;
			ca->cert[i] = d2i_X509(NULL, &der, (long)n);
			snprintf(ca->key_file[i], sizeof ca->key_file[i], "%s",
				 jpki_stmt_text(st, 2));
		}
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
		goto fail;
	}
	for (int i = 0; i < CA_N; i++) {
		if (ca->cert[i] == NULL) {
			rc = jpki_errf(eb, JPKI_ERR_REFUSED,
				       i == 0 ? "no CA in this store: run jpki ca init"
					      : "the store's CA is incomplete");
			goto fail;
		}
	}
	if ((rc = load_settings(ca, eb)) != JPKI_OK)
		goto fail;
	if ((rc = jpkii_ocsp_prepare(ca)) != JPKI_OK) {
		jpki_errf(eb, rc, "cannot hash the CA certificates");
		goto fail;
	}
	*out = ca;
	return JPKI_OK;
fail:
	jpki_ca_close(ca);
	return rc;
}

void jpki_ca_close(struct jpki_ca *ca)
{
	if (ca == NULL)
		return;
	for (int i = 0; i < CA_N; i++) {
		jpkii_signer_free(ca->signer[i]);
		X509_free(ca->cert[i]);
	}
	jpkii_ocsp_flush(ca);
	free(ca->mem);
	if (ca->passphrase) {
		OPENSSL_cleanse(ca->passphrase, strlen(ca->passphrase));
		free(ca->passphrase);
	}
	free(ca);
}

jpki_err jpkii_ca_signer(struct jpki_ca *ca, int i, struct jpki_signer **out,
			 struct jpki_errbuf *eb)
{
	char path[PATH_MAX];
	if (ca->signer[i] == NULL) {
		if (path_join(path, sizeof path, ca->keys_dir, ca->key_file[i]) != 0)
			return jpki_errf(eb, JPKI_ERR_INVALID, "keys path too long");
		jpki_err rc = jpkii_signer_file_open(path, ca->passphrase, ca->cert[i],
						     &ca->signer[i], eb);
		if (rc != JPKI_OK)
			return rc;
	}
	*out = ca->signer[i];
	return JPKI_OK;
}

jpki_err jpki_ca_cert_pem(struct jpki_ca *ca, const char *which, char **pem,
			  struct jpki_errbuf *eb)
{
	for (int i = 0; i < CA_N; i++) {
		if (strcmp(which, jpkii_ca_names[i]) == 0)
			return jpkii_cert_pem(ca->cert[i], pem);
	}
	return jpki_errf(eb, JPKI_ERR_INVALID,
			 "'%.20s' is not root, sign, auth, ocsp-sign or ocsp-auth",
			 which);
}

/* ---- revocation (DOMAIN §4) ---- */

static const struct {
	int code;
	const char *name;
} reasons[] = {
    {JPKI_REASON_UNSPECIFIED, "unspecified"},
    {JPKI_REASON_KEY_COMPROMISE, "keyCompromise"},
    {JPKI_REASON_AFFILIATION_CHANGED, "affiliationChanged"},
    {JPKI_REASON_SUPERSEDED, "superseded"},
    {JPKI_REASON_CESSATION_OF_OPERATION, "cessationOfOperation"},
};

jpki_err jpki_revocation_reason_parse(const char *s, enum jpki_revocation_reason *out)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		if (strcmp(s, reasons[i].name) == 0) {
			*out = (enum jpki_revocation_reason)reasons[i].code;
			return JPKI_OK;
		}
	}
	return JPKI_ERR_INVALID;
}

const char *jpki_revocation_reason_name(int code)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return "unknown";
}

/* Normalizes a hex serial to lowercase without leading zeros. */
static jpki_err normalize_serial(const char *in, char out[65])
{
	size_t n = strlen(in), o = 0;
	if (n == 0 || n > 64)
		return JPKI_ERR_INVALID;
	bool lead = true;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return JPKI_ERR_INVALID;
		if (lead && c == '0' && i + 1 < n)
			continue;
		lead = false;
		out[o++] = c;
	}
	out[o] = '\0';
	/* Our serials are whole bytes: an odd length lost a leading 0. */
	if (o % 2) {
		memmove(out + 1, out, o + 1);
		out[0] = '0';
	}
	return JPKI_OK;
}

jpki_err jpki_ca_revoke(struct jpki_ca *ca, const char *serial_hex,
			enum jpki_revocation_reason reason, int64_t at, int64_t now,
			struct jpki_revoke_result *out, struct jpki_errbuf *eb)
{
	char serial[66];
	struct jpki_stmt *st = NULL;
	bool row;
	jpki_err rc;
	memset(out, 0, sizeof *out);
	if (normalize_serial(serial_hex, serial) != JPKI_OK)
		return jpki_errf(eb, JPKI_ERR_INVALID, "'%.70s' is not a hex serial",
				 serial_hex);
	memcpy(out->serial, serial, sizeof out->serial);
	if (strcmp(jpki_revocation_reason_name((int)reason), "unknown") == 0)
		return jpki_errf(eb, JPKI_ERR_INVALID, "unknown reason");
	if (at > now)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "the revocation time is in the "
				 "future");
	/* Inside the caller's transaction when one is open (an event revokes
	 * with its registry change), else in one of our own. */
	bool own = !jpki_store_in_transaction(ca->store);
	if (own && (rc = jpki_store_begin(ca->store)) != JPKI_OK)
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
	rc = jpki_stmt_prepare(ca->store,
			       "SELECT c.not_before, r.revoked_at, r.reason FROM "
			       "certificate c LEFT JOIN revocation r ON r.serial = "
			       "c.serial WHERE c.serial = $1",
			       &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, serial)))
		rc = jpki_stmt_step(st, &row);
	if (rc != JPKI_OK)
		goto out_store;
	if (!row) {
		rc = jpki_errf(eb, JPKI_ERR_NOTFOUND, "no certificate with serial %s",
			       serial);
		goto out_rollback;
	}
	if (!jpki_stmt_is_null(st, 1)) {
		/* Revoking again is a no-op: a revocation is final (seed 001). */
		out->already = true;
		out->revoked_at = jpki_stmt_int64(st, 1);
		out->reason = (int)jpki_stmt_int64(st, 2);
		rc = JPKI_OK;
		goto out_rollback;
	}
	if (at < jpki_stmt_int64(st, 0)) {
		rc = jpki_errf(eb, JPKI_ERR_INVALID,
			       "the revocation time is before the certificate's "
			       "notBefore");
		goto out_rollback;
	}
	jpki_stmt_finalize(st);
	st = NULL;
	if ((rc =
		 jpkii_sql(ca->store, "tiii",
			   "INSERT INTO revocation (serial, kind, municipality, "
			   "not_after, revoked_at, reason, recorded_at) SELECT serial, "
			   "kind, municipality, not_after, $2, $3, $4 FROM certificate "
			   "WHERE serial = $1",
			   serial, at, (int64_t)reason, now)) ||
	    /* A stored "good" OCSP response must never outlive this: drop it,
	     * the next request is signed live. */
	    (rc = jpkii_sql(ca->store, "t",
			    "DELETE FROM ocsp_response WHERE serial = $1", serial)))
		goto out_store;
	char details[128];
	snprintf(details, sizeof details, "{\"reason\":\"%s\",\"revoked_at\":%lld}",
		 jpki_revocation_reason_name((int)reason), (long long)at);
	if ((rc = jpkii_audit(ca, now, "cert.revoke", serial, details, eb)))
		goto out_rollback;
	if (own && (rc = jpki_store_commit(ca->store)))
		goto out_store;
	/* Every CA object on this connection drops its remembered OCSP
	 * answers at its next use (data_version does not count our own
	 * commits). */
	jpki_store_touch(ca->store);
	out->revoked_at = at;
	out->reason = (int)reason;
	return JPKI_OK;
out_store:
	jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
out_rollback:
	jpki_stmt_finalize(st);
	if (own)
		jpki_store_rollback(ca->store); /* else the caller rolls back */
	return rc;
}

/* ---- the passphrase ---- */

#define PASSPHRASE_MAX 1024

jpki_err jpki_passphrase_read(const char *file, char **out, struct jpki_errbuf *eb)
{
	*out = NULL;
	if (file == NULL) {
		const char *env = getenv("JPKI_CA_PASSPHRASE");
		if (env && env[0] && (*out = strdup(env)) == NULL)
			return jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
		return JPKI_OK;
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return jpki_errf(eb, errno == ENOENT ? JPKI_ERR_INVALID : JPKI_ERR_IO,
				 "%s: %s", file, strerror(errno));
	struct stat st;
	jpki_err rc = JPKI_OK;
	char *b = NULL;
	size_t n = 0, size = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = jpki_errf(eb, JPKI_ERR_INVALID, "%s: not a regular file", file);
	else if ((size = (size_t)st.st_size) > PASSPHRASE_MAX)
		rc = jpki_errf(eb, JPKI_ERR_INVALID, "%s: larger than %d bytes", file,
			       PASSPHRASE_MAX);
	else if ((b = malloc(size + 1)) == NULL)
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
	while (rc == JPKI_OK && n < size) {
		ssize_t r = read(fd, b + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			rc = jpki_errf(eb, JPKI_ERR_IO, "%s: read failed", file);
		else
			n += (size_t)r;
	}
	close(fd);
	if (rc == JPKI_OK) {
		b[n] = '\0';
		b[strcspn(b, "\r\n")] = '\0';
		if (b[0] == '\0')
			rc = jpki_errf(eb, JPKI_ERR_INVALID,
				       "%s: the first line is empty", file);
	}
	if (rc != JPKI_OK) {
		if (b)
			OPENSSL_clear_free(b, size + 1);
		return rc;
	}
	*out = b;
	return JPKI_OK;
}

void jpki_passphrase_free(char *p)
{
	if (p)
		OPENSSL_clear_free(p, strlen(p) + 1);
}
