/* Issuance: the subject file, the JPKI certificate profiles, the lint that
 * checks every to-be-signed certificate, and the issuance transaction
 * (DOMAIN §8; docs/internals/pki.md has an annotated dump). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "jpki/utf8.h"
#include "pki_internal.h"
#include "banned.h"

/* JPKI's OIDs (DOMAIN §8). */
#define OID_SAN_BASE "1.2.392.200149.8.5.5."
#define OID_POLICY_SIGN "1.2.392.200149.8.5.1.1.20"
#define OID_POLICY_AUTH "1.2.392.200149.8.5.1.3.30"

#define NAME_MAX_CHARS 100
#define ADDRESS_MAX_CHARS 200

/* The six otherNames of the signing certificate, in order:
 * .1 氏名, .2 氏名代替文字の使用位置, .3 性別, .4 生年月日, .5 住所,
 * .6 住所代替文字の使用位置. */
enum { SAN_NAME, SAN_NAME_ALT, SAN_SEX, SAN_BIRTH, SAN_ADDRESS, SAN_ADDRESS_ALT, SAN_N };

/* ---- the subject file ---- */

void jpki_subject_release(struct jpki_subject *s)
{
	free(s->name);
	free(s->name_alt);
	free(s->address);
	free(s->address_alt);
	memset(s, 0, sizeof *s);
}

static jpki_err take_text(json_t *o, const char *key, size_t max_chars, char **out,
			  ssize_t *chars, struct jpki_errbuf *eb)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL)
		return jpki_errf(eb, JPKI_ERR_INVALID, "subject: \"%s\" is missing", key);
	if (!json_is_string(v))
		return jpki_errf(eb, JPKI_ERR_INVALID, "subject: \"%s\" must be a string",
				 key);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (strlen(s) != n || jpkii_has_control(s))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "subject: \"%s\" contains a control character", key);
	*chars = jpki_utf8_chars(s, n);
	if (*chars < 0)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "subject: \"%s\" is not valid UTF-8 text", key);
	if (*chars == 0 || (size_t)*chars > max_chars)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "subject: \"%s\" has %zd characters (1 to %zu allowed)",
				 key, *chars, max_chars);
	if ((*out = strdup(s)) == NULL)
		return JPKI_ERR_NOMEM;
	return JPKI_OK;
}

/* 代替文字の使用位置: one digit per character of its field (DOMAIN §8). */
static jpki_err check_alt(const char *key, const char *alt, ssize_t alt_chars,
			  ssize_t field_chars, struct jpki_errbuf *eb)
{
	if (alt_chars != field_chars)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "subject: \"%s\" has %zd characters; it must have "
				 "one per character of its field (%zd)",
				 key, alt_chars, field_chars);
	for (const char *p = alt; *p; p++)
		if (*p < '0' || *p > '9')
			return jpki_errf(eb, JPKI_ERR_INVALID,
					 "subject: \"%s\" must be digits", key);
	return JPKI_OK;
}

static jpki_err take_municipality(json_t *o, char out[7], struct jpki_errbuf *eb)
{
	json_t *v = json_object_get(o, "municipality");
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	if (s == NULL || strlen(s) != 6 || strspn(s, "0123456789") != 6)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "subject: \"municipality\" must be a 6-digit code "
				 "string");
	memcpy(out, s, 7);
	return JPKI_OK;
}

jpki_err jpki_subject_parse(const char *text, size_t len, enum jpki_pki_kind kind,
			    struct jpki_subject *out, struct jpki_errbuf *eb)
{
	static const char *const known[] = {"name",	   "name_alt", "sex",
					    "birth",	   "address",  "address_alt",
					    "municipality"};
	json_error_t je;
	jpki_err rc;
	ssize_t name_n, name_alt_n, addr_n, addr_alt_n;
	memset(out, 0, sizeof *out);
	out->birth = JPKI_DAY_NONE;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3, len -= 3; /* a UTF-8 byte order mark */
	if (jpki_utf8_chars(text, len) < 0)
		return jpki_errf(eb, JPKI_ERR_INVALID, "subject: not UTF-8 text");
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return jpki_errf(eb, JPKI_ERR_INVALID, "subject: line %d: %s", je.line,
				 je.text);
	if (!json_is_object(o)) {
		rc = jpki_errf(eb, JPKI_ERR_INVALID, "subject: not a JSON object");
		goto out;
	}
	const char *key;
	json_t *val;
	json_object_foreach(o, key, val)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			ok |= strcmp(key, known[i]) == 0;
		if (!ok) {
			rc = jpki_errf(eb, JPKI_ERR_INVALID, "subject: unknown key \"%.40s\"",
				       key);
			goto out;
		}
	}
	if ((rc = take_municipality(o, out->municipality, eb)) != JPKI_OK)
		goto out;
	if (kind == JPKI_PKI_AUTH) /* no personal data in the auth certificate */
		goto out;
	if ((rc = take_text(o, "name", NAME_MAX_CHARS, &out->name, &name_n, eb)) ||
	    (rc = take_text(o, "name_alt", NAME_MAX_CHARS, &out->name_alt, &name_alt_n,
			    eb)) ||
	    (rc = check_alt("name_alt", out->name_alt, name_alt_n, name_n, eb)) ||
	    (rc = take_text(o, "address", ADDRESS_MAX_CHARS, &out->address, &addr_n,
			    eb)) ||
	    (rc = take_text(o, "address_alt", ADDRESS_MAX_CHARS, &out->address_alt,
			    &addr_alt_n, eb)) ||
	    (rc = check_alt("address_alt", out->address_alt, addr_alt_n, addr_n, eb)))
		goto out;
	json_t *sex = json_object_get(o, "sex");
	if (!json_is_integer(sex) || json_integer_value(sex) < 1 ||
	    json_integer_value(sex) > 3) {
		rc = jpki_errf(eb, JPKI_ERR_INVALID,
			       "subject: \"sex\" must be 1 (male), 2 (female) or 3 "
			       "(unknown)");
		goto out;
	}
	out->sex = (int)json_integer_value(sex);
	json_t *birth = json_object_get(o, "birth");
	struct jpki_errbuf b = {{0}};
	if (!json_is_string(birth) ||
	    jpki_date_parse(json_string_value(birth), &out->birth, &b) != JPKI_OK) {
		rc = jpki_errf(eb, JPKI_ERR_INVALID, "subject: \"birth\": %s",
			       json_is_string(birth) ? b.msg : "must be YYYY-MM-DD");
		goto out;
	}
	if (out->birth < jpki_day_from_ymd_unchecked(1873, 1, 1)) {
		rc = jpki_errf(eb, JPKI_ERR_INVALID,
			       "subject: \"birth\" before 1873-01-01 has no era code");
		goto out;
	}
out:
	json_decref(o);
	if (rc != JPKI_OK)
		jpki_subject_release(out);
	return rc;
}

/* 生年月日 as EYYYYMMDD: E is the era (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和). */
static jpki_err birth_field(jpki_day birth, char out[10])
{
	static const char *const eras[] = {"明治", "大正", "昭和", "平成", "令和"};
	char text[JPKI_WAREKI_BUFSZ], ymd[JPKI_DATE_BUFSZ];
	const char *era = NULL;
	if (jpki_wareki(birth, text, sizeof text, &era, NULL) != JPKI_OK || era == NULL)
		return JPKI_ERR_INVALID;
	for (int i = 0; i < 5; i++) {
		if (strcmp(era, eras[i]) != 0)
			continue;
		jpki_date_format(birth, ymd);
		out[0] = (char)('1' + i);
		memcpy(out + 1, ymd, 4);
		memcpy(out + 5, ymd + 5, 2);
		memcpy(out + 7, ymd + 8, 2);
		out[9] = '\0';
		return JPKI_OK;
	}
	return JPKI_ERR_INVALID;
}

/* ---- building the certificate ---- */

static jpki_err add_other_name(GENERAL_NAMES *gens, int index, const char *value)
{
	char oid[40];
	snprintf(oid, sizeof oid, OID_SAN_BASE "%d", index + 1);
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_UTF8STRING *str = ASN1_UTF8STRING_new();
	ASN1_TYPE *type = ASN1_TYPE_new();
	if (!gn || !obj || !str || !type ||
	    !ASN1_STRING_set(str, value, (int)strlen(value)))
		goto fail;
	/* OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }: the
	 * value is a UTF8String. */
	ASN1_TYPE_set(type, V_ASN1_UTF8STRING, str);
	str = NULL;
	if (!GENERAL_NAME_set0_othername(gn, obj, type))
		goto fail;
	obj = NULL;
	type = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto fail;
	return JPKI_OK;
fail:
	GENERAL_NAME_free(gn);
	ASN1_OBJECT_free(obj);
	ASN1_UTF8STRING_free(str);
	ASN1_TYPE_free(type);
	return JPKI_ERR_CRYPTO;
}

static jpki_err add_san(X509 *c, const struct jpki_subject *s)
{
	char sex[2] = {(char)('0' + s->sex), '\0'}, birth[10];
	const char *v[SAN_N] = {s->name, s->name_alt, sex, birth, s->address,
				s->address_alt};
	jpki_err rc = birth_field(s->birth, birth);
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		return JPKI_ERR_NOMEM;
	for (int i = 0; rc == JPKI_OK && i < SAN_N; i++)
		rc = add_other_name(gens, i, v[i]);
	if (rc == JPKI_OK &&
	    !X509_add1_ext_i2d(c, NID_subject_alt_name, gens, 0, X509V3_ADD_APPEND))
		rc = JPKI_ERR_CRYPTO;
	GENERAL_NAMES_free(gens);
	return rc;
}

/* certificatePolicies with one policy OID, non-critical. (OpenSSL's config
 * syntax cannot build it without a config database.) */
static jpki_err add_policy(X509 *c, const char *oid)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	jpki_err rc = JPKI_ERR_CRYPTO;
	if (!pols || !pi)
		goto out;
	ASN1_OBJECT_free(pi->policyid);
	if ((pi->policyid = OBJ_txt2obj(oid, 1)) == NULL || !sk_POLICYINFO_push(pols, pi))
		goto out;
	pi = NULL;
	if (X509_add1_ext_i2d(c, NID_certificate_policies, pols, 0, X509V3_ADD_APPEND))
		rc = JPKI_OK;
out:
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return rc;
}

static X509_NAME *subject_name(enum jpki_pki_kind kind, const char *prefecture,
			       const char *muni_name, const char *issue_number)
{
	X509_NAME *n = X509_NAME_new();
	bool ok = n && X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8,
						  (const unsigned char *)"JP", -1, -1, 0);
	/* DOMAIN §8: C=JP, L=<prefecture>, L=<municipality>, CN=<issue number>
	 * for the signing certificate; C=JP, CN=<issue number> for auth. */
	if (ok && kind == JPKI_PKI_SIGN)
		ok = X509_NAME_add_entry_by_txt(n, "L", MBSTRING_UTF8,
						(const unsigned char *)prefecture, -1,
						-1, 0) &&
		     X509_NAME_add_entry_by_txt(n, "L", MBSTRING_UTF8,
						(const unsigned char *)muni_name, -1,
						-1, 0);
	if (ok)
		ok = X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
						(const unsigned char *)issue_number, -1,
						-1, 0);
	if (!ok) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

struct build {
	enum jpki_pki_kind kind;
	const struct jpki_subject *subj;
	const char *muni_name;
	const char *issue_number;
	unsigned char *key; /* the RSAPublicKey DER of the subject's key */
	int key_len;
	int64_t not_before, not_after;
};

/* ---- the subject's public key, read without OpenSSL's key decoders ----
 * OpenSSL 3.0 spends about 300 us decoding a PEM public key and 175 us
 * encoding it back into a certificate, more than the RSA signature
 * itself. The certificate only needs the SubjectPublicKeyInfo's bytes, so
 * they are checked here with the generic DER parser and copied in. */

/* Bits of an RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent
 * INTEGER } (RFC 8017 A.1.1), or -1 when it is not one. */
static int rsa_public_bits(const unsigned char *der, int len)
{
	const unsigned char *p = der;
	int bits = -1;
	STACK_OF(ASN1_TYPE) *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
	if (seq == NULL || p != der + len || sk_ASN1_TYPE_num(seq) != 2)
		goto out;
	ASN1_TYPE *n = sk_ASN1_TYPE_value(seq, 0), *e = sk_ASN1_TYPE_value(seq, 1);
	if (n->type != V_ASN1_INTEGER || e->type != V_ASN1_INTEGER)
		goto out; /* negative integers have type V_ASN1_NEG_INTEGER */
	const unsigned char *m = ASN1_STRING_get0_data(n->value.integer);
	int mlen = ASN1_STRING_length(n->value.integer);
	const unsigned char *x = ASN1_STRING_get0_data(e->value.integer);
	int xlen = ASN1_STRING_length(e->value.integer);
	if (mlen < 1 || m[0] == 0 || xlen < 1 || !(x[xlen - 1] & 1) ||
	    (xlen == 1 && x[0] < 3))
		goto out;
	bits = mlen * 8;
	for (unsigned top = m[0]; !(top & 0x80); top <<= 1)
		bits--;
out:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	ERR_clear_error();
	return bits;
}

/* A PEM "PUBLIC KEY" (SubjectPublicKeyInfo, RFC 5280 4.1.2.7) holding an
 * RSA key: rsaEncryption with NULL parameters. *key receives a copy of the
 * RSAPublicKey DER (OPENSSL_free it). */
static jpki_err read_rsa_spki(const char *pem, size_t len, unsigned char **key,
			      int *key_len, struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_ERR_INVALID;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long dlen = 0;
	STACK_OF(ASN1_TYPE) *top = NULL, *alg = NULL;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	*key = NULL;
	if (!bio || !PEM_read_bio(bio, &name, &header, &der, &dlen) ||
	    strcmp(name, "PUBLIC KEY") != 0) {
		jpki_errf(eb, rc, "the public key is not a PEM \"PUBLIC KEY\" "
			  "(SubjectPublicKeyInfo)");
		goto out;
	}
	const unsigned char *p = der;
	top = d2i_ASN1_SEQUENCE_ANY(NULL, &p, dlen);
	if (!top || p != der + dlen || sk_ASN1_TYPE_num(top) != 2 ||
	    sk_ASN1_TYPE_value(top, 0)->type != V_ASN1_SEQUENCE ||
	    sk_ASN1_TYPE_value(top, 1)->type != V_ASN1_BIT_STRING) {
		jpki_errf(eb, rc, "the public key is not a well-formed "
			  "SubjectPublicKeyInfo");
		goto out;
	}
	ASN1_STRING *a = sk_ASN1_TYPE_value(top, 0)->value.sequence;
	p = ASN1_STRING_get0_data(a);
	alg = d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(a));
	if (!alg || sk_ASN1_TYPE_num(alg) != 2 ||
	    sk_ASN1_TYPE_value(alg, 0)->type != V_ASN1_OBJECT ||
	    OBJ_obj2nid(sk_ASN1_TYPE_value(alg, 0)->value.object) != NID_rsaEncryption ||
	    sk_ASN1_TYPE_value(alg, 1)->type != V_ASN1_NULL) {
		jpki_errf(eb, rc, "lint: the key must be RSA (rsaEncryption)");
		goto out;
	}
	ASN1_BIT_STRING *bits = sk_ASN1_TYPE_value(top, 1)->value.bit_string;
	int n = ASN1_STRING_length(bits);
	if ((bits->flags & 0x07) != 0 ||
	    rsa_public_bits(ASN1_STRING_get0_data(bits), n) < 0) {
		jpki_errf(eb, rc, "the public key is not a well-formed RSA key");
		goto out;
	}
	if ((*key = OPENSSL_memdup(ASN1_STRING_get0_data(bits), (size_t)n)) == NULL) {
		rc = JPKI_ERR_NOMEM;
		goto out;
	}
	*key_len = n;
	rc = JPKI_OK;
out:
	sk_ASN1_TYPE_pop_free(top, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(alg, ASN1_TYPE_free);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/* Puts the key into the certificate without encoding an EVP_PKEY. */
static bool set_rsa_key(X509 *c, const unsigned char *key, int len)
{
	unsigned char *copy = OPENSSL_memdup(key, (size_t)len);
	if (copy == NULL)
		return false;
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(c), OBJ_nid2obj(NID_rsaEncryption),
				    V_ASN1_NULL, NULL, copy, len)) {
		OPENSSL_free(copy);
		return false;
	}
	return true;
}

static jpki_err build_cert(struct jpki_ca *ca, const struct build *b, X509 **out)
{
	char url[320];
	jpki_err rc = JPKI_ERR_CRYPTO;
	X509 *issuer = ca->cert[jpkii_issuer_of(b->kind)];
	X509 *c = X509_new();
	X509_NAME *name = subject_name(b->kind, jpki_prefecture_name(b->subj->municipality),
				       b->muni_name, b->issue_number);
	ASN1_TIME *nb = jpkii_asn1_time(b->not_before), *na = jpkii_asn1_time(b->not_after);
	if (!c || !name || !nb || !na || !X509_set_version(c, X509_VERSION_3) ||
	    jpkii_new_serial(c) != JPKI_OK || !X509_set_subject_name(c, name) ||
	    !X509_set_issuer_name(c, X509_get_subject_name(issuer)) ||
	    !X509_set1_notBefore(c, nb) || !X509_set1_notAfter(c, na) ||
	    !set_rsa_key(c, b->key, b->key_len))
		goto out;
	bool sign = b->kind == JPKI_PKI_SIGN;
	if (jpkii_add_ext(c, issuer, NID_key_usage,
			  sign ? "critical,digitalSignature,nonRepudiation"
			       : "critical,digitalSignature") ||
	    add_policy(c, sign ? OID_POLICY_SIGN : OID_POLICY_AUTH) ||
	    jpkii_add_ext(c, issuer, NID_subject_key_identifier, "hash") ||
	    jpkii_add_ext(c, issuer, NID_authority_key_identifier, "keyid:always"))
		goto out;
	/* The CRL distribution point is the certificate's shard. */
	char value[340];
	jpkii_url_shard(ca, b->kind, b->subj->municipality, url, sizeof url);
	snprintf(value, sizeof value, "URI:%s", url);
	if (jpkii_add_ext(c, issuer, NID_crl_distribution_points, value))
		goto out;
	jpkii_url_ocsp(ca, b->kind, url, sizeof url);
	snprintf(value, sizeof value, "OCSP;URI:%s", url);
	if (jpkii_add_ext(c, issuer, NID_info_access, value))
		goto out;
	if (sign && add_san(c, b->subj) != JPKI_OK)
		goto out;
	*out = c;
	c = NULL;
	rc = JPKI_OK;
out:
	X509_free(c);
	X509_NAME_free(name);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return rc;
}

/* ---- lint: the to-be-signed certificate against the profile ---- */

#define LINT_FAIL(...) return jpki_errf(eb, JPKI_ERR_INVALID, "lint: " __VA_ARGS__)

static jpki_err lint_ext_critical(X509 *c, int nid, bool critical, const char *what,
				  struct jpki_errbuf *eb)
{
	int at = X509_get_ext_by_NID(c, nid, -1);
	if (at < 0)
		LINT_FAIL("%s is missing", what);
	if (X509_get_ext_by_NID(c, nid, at) >= 0)
		LINT_FAIL("%s appears twice", what);
	if ((X509_EXTENSION_get_critical(X509_get_ext(c, at)) != 0) != critical)
		LINT_FAIL("%s must %sbe critical", what, critical ? "" : "not ");
	return JPKI_OK;
}

static jpki_err lint_name(X509_NAME *n, struct jpki_errbuf *eb)
{
	for (int i = 0; i < X509_NAME_entry_count(n); i++) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
		if (jpki_utf8_chars((const char *)ASN1_STRING_get0_data(d),
				    (size_t)ASN1_STRING_length(d)) < 0)
			LINT_FAIL("subject attribute %d is not valid UTF-8", i);
	}
	return JPKI_OK;
}

static jpki_err lint_san(X509 *c, struct jpki_errbuf *eb)
{
	static const size_t max_chars[SAN_N] = {NAME_MAX_CHARS, NAME_MAX_CHARS, 1, 9,
						ADDRESS_MAX_CHARS, ADDRESS_MAX_CHARS};
	ssize_t chars[SAN_N];
	jpki_err rc = JPKI_OK;
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL || sk_GENERAL_NAME_num(gens) != SAN_N) {
		GENERAL_NAMES_free(gens);
		LINT_FAIL("subjectAltName must hold exactly the six JPKI otherNames");
	}
	for (int i = 0; i < SAN_N && rc == JPKI_OK; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		ASN1_OBJECT *oid;
		ASN1_TYPE *val;
		char want[40], got[80];
		snprintf(want, sizeof want, OID_SAN_BASE "%d", i + 1);
		if (!GENERAL_NAME_get0_otherName(gn, &oid, &val) ||
		    OBJ_obj2txt(got, sizeof got, oid, 1) <= 0 || strcmp(got, want) != 0 ||
		    val->type != V_ASN1_UTF8STRING) {
			rc = jpki_errf(eb, JPKI_ERR_INVALID,
				       "lint: subjectAltName entry %d must be otherName "
				       "%s as a UTF8String",
				       i + 1, want);
			break;
		}
		ASN1_STRING *s = val->value.utf8string;
		chars[i] = jpki_utf8_chars((const char *)ASN1_STRING_get0_data(s),
					   (size_t)ASN1_STRING_length(s));
		if (chars[i] < 1 || (size_t)chars[i] > max_chars[i])
			rc = jpki_errf(eb, JPKI_ERR_INVALID,
				       "lint: otherName %s is not UTF-8 of 1 to %zu "
				       "characters",
				       want, max_chars[i]);
	}
	if (rc == JPKI_OK && (chars[SAN_NAME_ALT] != chars[SAN_NAME] ||
			      chars[SAN_ADDRESS_ALT] != chars[SAN_ADDRESS]))
		rc = jpki_errf(eb, JPKI_ERR_INVALID,
			       "lint: a 代替文字の使用位置 field is not as long as "
			       "its field");
	GENERAL_NAMES_free(gens);
	return rc;
}

static jpki_err lint(X509 *c, X509 *issuer, enum jpki_pki_kind kind,
		     struct jpki_errbuf *eb)
{
	jpki_err rc;
	if (X509_get_version(c) != X509_VERSION_3)
		LINT_FAIL("not a version 3 certificate");
	const ASN1_INTEGER *serial = X509_get0_serialNumber(c);
	if (ASN1_STRING_length(serial) != 16 || serial->type != V_ASN1_INTEGER)
		LINT_FAIL("the serial must be a positive 16-byte integer");
	/* The key, from the encoded SubjectPublicKeyInfo (no decoder). */
	ASN1_OBJECT *alg = NULL;
	const unsigned char *kd = NULL;
	int kl = 0;
	if (!X509_PUBKEY_get0_param(&alg, &kd, &kl, NULL, X509_get_X509_PUBKEY(c)) ||
	    OBJ_obj2nid(alg) != NID_rsaEncryption)
		LINT_FAIL("the key must be RSA");
	int bits = rsa_public_bits(kd, kl);
	if (bits < 2048)
		LINT_FAIL("an RSA key of %d bits is too small (at least 2048)", bits);
	if (ASN1_TIME_compare(X509_get0_notBefore(c), X509_get0_notAfter(c)) >= 0)
		LINT_FAIL("notAfter is not after notBefore");
	if (ASN1_TIME_compare(X509_get0_notAfter(c), X509_get0_notAfter(issuer)) > 0)
		LINT_FAIL("notAfter is after the issuing CA's own notAfter");
	if (ASN1_TIME_compare(X509_get0_notBefore(c), X509_get0_notBefore(issuer)) < 0)
		LINT_FAIL("notBefore is before the issuing CA's notBefore");
	if ((rc = lint_ext_critical(c, NID_key_usage, true, "keyUsage", eb)) ||
	    (rc = lint_ext_critical(c, NID_certificate_policies, false,
				    "certificatePolicies", eb)) ||
	    (rc = lint_ext_critical(c, NID_crl_distribution_points, false,
				    "cRLDistributionPoints", eb)) ||
	    (rc = lint_ext_critical(c, NID_info_access, false,
				    "authorityInfoAccess", eb)) ||
	    (rc = lint_name(X509_get_subject_name(c), eb)))
		return rc;
	/* Decoded here, not from OpenSSL's flag cache, which an unsigned
	 * certificate being built may have filled too early. */
	ASN1_BIT_STRING *kubits = X509_get_ext_d2i(c, NID_key_usage, NULL, NULL);
	uint32_t ku = 0;
	for (int bit = 0; kubits && bit < 9; bit++)
		if (ASN1_BIT_STRING_get_bit(kubits, bit))
			ku |= 1u << bit;
	ASN1_BIT_STRING_free(kubits);
	/* RFC 5280 4.2.1.3: bit 0 digitalSignature, bit 1 nonRepudiation. */
	uint32_t want = kind == JPKI_PKI_SIGN ? 3u : 1u;
	if (ku != want)
		LINT_FAIL("keyUsage must be exactly %s",
			  kind == JPKI_PKI_SIGN ? "digitalSignature, nonRepudiation"
						: "digitalSignature");
	if (kind == JPKI_PKI_SIGN)
		return lint_san(c, eb);
	if (X509_get_ext_by_NID(c, NID_subject_alt_name, -1) >= 0)
		LINT_FAIL("the auth certificate carries no personal data (no "
			  "subjectAltName)");
	if (X509_NAME_entry_count(X509_get_subject_name(c)) != 2)
		LINT_FAIL("the auth certificate's subject is C and CN only");
	return JPKI_OK;
}

/* ---- the issuance transaction ---- */

static jpki_err lookup_municipality(struct jpki_store *s, const char *code, char *name,
				    size_t n, struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpki_stmt_prepare(s, "SELECT name FROM municipality WHERE code = $1",
					&st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, code)))
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row)
		snprintf(name, n, "%s", jpki_stmt_text(st, 0));
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
	if (!row)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "municipality %s is not one of this CA's (jpki ca "
				 "init --municipality)",
				 code);
	return JPKI_OK;
}

/* The next issue number of a kind: "S" or "A" and 15 digits [decision:
 * unique per certificate, no personal data, readable at the counter]. */
static jpki_err next_issue_number(struct jpki_store *s, enum jpki_pki_kind kind,
				  char *out, size_t n)
{
	int64_t seq = 0;
	jpki_err rc = jpkii_counter_next(
	    s,
	    "INSERT INTO issue_sequence (kind, last) VALUES ($1, 1) ON CONFLICT (kind) "
	    "DO UPDATE SET last = issue_sequence.last + 1",
	    "SELECT last FROM issue_sequence WHERE kind = $1", jpkii_kind_name(kind), &seq);
	if (rc == JPKI_OK)
		snprintf(out, n, "%c%015lld", kind == JPKI_PKI_SIGN ? 'S' : 'A',
			 (long long)seq);
	return rc;
}

static jpki_err insert_cert(struct jpki_store *s, const char *serial,
			    enum jpki_pki_kind kind, const char *muni,
			    const char *issue_number, int64_t nb, int64_t na,
			    const unsigned char *der, size_t len)
{
	struct jpki_stmt *st = NULL;
	bool row;
	jpki_err rc = jpki_stmt_prepare(
	    s,
	    "INSERT INTO certificate (serial, ca, kind, municipality, issue_number, "
	    "not_before, not_after, der) VALUES ($1, $2, $2, $3, $4, $5, $6, $7)",
	    &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, serial)) &&
	    !(rc = jpki_stmt_bind_text(st, 2, jpkii_kind_name(kind))) &&
	    !(rc = jpki_stmt_bind_text(st, 3, muni)) &&
	    !(rc = jpki_stmt_bind_text(st, 4, issue_number)) &&
	    !(rc = jpki_stmt_bind_int64(st, 5, nb)) &&
	    !(rc = jpki_stmt_bind_int64(st, 6, na)) &&
	    !(rc = jpki_stmt_bind_blob(st, 7, der, len)))
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	return rc;
}

void jpki_issued_release(struct jpki_issued *i)
{
	free(i->pem);
	memset(i, 0, sizeof *i);
}

jpki_err jpkii_cert_pem(X509 *c, char **pem)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	if (b == NULL || !PEM_write_bio_X509(b, c)) {
		BIO_free(b);
		return JPKI_ERR_CRYPTO;
	}
	long n = BIO_get_mem_data(b, &data);
	*pem = malloc((size_t)n + 1);
	if (*pem) {
		memcpy(*pem, data, (size_t)n);
		(*pem)[n] = '\0';
	}
	BIO_free(b);
	return *pem ? JPKI_OK : JPKI_ERR_NOMEM;
}

jpki_err jpki_ca_issue(struct jpki_ca *ca, enum jpki_pki_kind kind,
		       const char *pubkey_pem, size_t pubkey_len,
		       const struct jpki_subject *subj, jpki_day expires, int64_t now,
		       struct jpki_issued *out, struct jpki_errbuf *eb)
{
	return jpki_ca_issue_backdated(ca, kind, pubkey_pem, pubkey_len, subj, expires,
				       now, now, out, eb);
}

jpki_err jpki_ca_issue_backdated(struct jpki_ca *ca, enum jpki_pki_kind kind,
				 const char *pubkey_pem, size_t pubkey_len,
				 const struct jpki_subject *subj, jpki_day expires,
				 int64_t not_before, int64_t now, struct jpki_issued *out,
				 struct jpki_errbuf *eb)
{
	jpki_err rc;
	struct jpki_signer *signer;
	struct build b = {.kind = kind, .subj = subj, .not_before = not_before};
	char muni_name[128], issue_number[32], details[256];
	X509 *c = NULL;
	unsigned char *der = NULL;
	int der_len = 0;
	memset(out, 0, sizeof *out);

	if (!jpki_day_in_range(expires))
		return jpki_errf(eb, JPKI_ERR_RANGE, "the expiry is out of range");
	if (not_before > now)
		return jpki_errf(eb, JPKI_ERR_INVALID, "notBefore is in the future");
	if (expires < jpki_jst_day(not_before))
		return jpki_errf(eb, JPKI_ERR_INVALID, "the expiry is in the past");
	if (kind == JPKI_PKI_SIGN && subj->birth > jpki_jst_day(not_before))
		return jpki_errf(eb, JPKI_ERR_INVALID, "the birth date is in the future");
	/* notAfter: 23:59:59 JST of the expiry day. */
	b.not_after = (int64_t)expires * 86400 + 86399 - JPKI_JST_OFFSET_SECONDS;
	if (pubkey_len > 1024 * 1024)
		return jpki_errf(eb, JPKI_ERR_INVALID, "the public key file is too large");
	if ((rc = read_rsa_spki(pubkey_pem, pubkey_len, &b.key, &b.key_len, eb)))
		return rc;
	if ((rc = jpkii_ca_signer(ca, jpkii_issuer_of(kind), &signer, eb)))
		goto out;
	/* Inside the caller's transaction when one is open (a renewal issues
	 * both certificates in one), else in one of our own. */
	bool own = !jpki_store_in_transaction(ca->store);
	if (own && (rc = jpki_store_begin(ca->store))) {
		jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
		goto out;
	}
	if ((rc = lookup_municipality(ca->store, subj->municipality, muni_name,
				      sizeof muni_name, eb)))
		goto out_rollback;
	if ((rc = next_issue_number(ca->store, kind, issue_number, sizeof issue_number)))
		goto out_store;
	b.muni_name = muni_name;
	b.issue_number = issue_number;
	/* A serial collision (2^-127 a pair) is retried with a fresh one. */
	for (int attempt = 0; attempt < 3; attempt++) {
		X509_free(c);
		c = NULL;
		OPENSSL_free(der);
		der = NULL;
		if ((rc = build_cert(ca, &b, &c))) {
			jpki_errf(eb, rc, "cannot build the certificate");
			goto out_rollback;
		}
		if ((rc = lint(c, ca->cert[jpkii_issuer_of(kind)], kind, eb)))
			goto out_rollback;
		if ((rc = signer->ops->sign_cert(signer, c))) {
			jpki_errf(eb, rc, "signing failed");
			goto out_rollback;
		}
		if ((der_len = i2d_X509(c, &der)) <= 0 ||
		    jpkii_serial_hex(X509_get0_serialNumber(c), out->serial,
				     sizeof out->serial)) {
			rc = JPKI_ERR_CRYPTO;
			goto out_rollback;
		}
		rc = insert_cert(ca->store, out->serial, kind, subj->municipality,
				 issue_number, b.not_before, b.not_after, der,
				 (size_t)der_len);
		if (rc != JPKI_ERR_CONFLICT)
			break;
	}
	if (rc != JPKI_OK)
		goto out_store;
	snprintf(details, sizeof details,
		 "{\"kind\":\"%s\",\"municipality\":\"%s\",\"issue_number\":\"%s\","
		 "\"not_after\":%lld}",
		 jpkii_kind_name(kind), subj->municipality, issue_number,
		 (long long)b.not_after);
	if ((rc = jpkii_audit(ca, now, "cert.issue", out->serial, details, eb)))
		goto out_rollback;
	if (own && (rc = jpki_store_commit(ca->store)))
		goto out_store;
	snprintf(out->issue_number, sizeof out->issue_number, "%s", issue_number);
	rc = jpkii_cert_pem(c, &out->pem);
	goto out;
out_store:
	jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(ca->store));
out_rollback:
	if (own)
		jpki_store_rollback(ca->store); /* else the caller rolls back */
	memset(out->serial, 0, sizeof out->serial);
out:
	X509_free(c);
	OPENSSL_free(der);
	OPENSSL_free(b.key);
	return rc;
}
