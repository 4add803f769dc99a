/* openjpki — the certification authorities (DOMAIN §4, §8).
 *
 * One root, a signing CA and an auth CA modelled on JPKI's hierarchy (with
 * O=openjpki, never J-LIS's names), and one OCSP responder per issuing CA.
 * Certificates, revocations, CRL numbers and pre-signed OCSP responses live
 * in the store; private keys live in files in a keys directory and are
 * used only through the signer interface (lib/pki/signer.h). Every CA
 * operation is one store transaction and writes one audit row.
 *
 * Times are Unix seconds ("now" is always a parameter); days are jpki_day.
 */
#ifndef JPKI_PKI_H
#define JPKI_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"
#include "jpki/err.h"
#include "jpki/store.h"

#ifdef __cplusplus
extern "C" {
#endif

enum jpki_pki_kind {
	JPKI_PKI_SIGN = 0, /* 署名用 */
	JPKI_PKI_AUTH = 1, /* 利用者証明用 */
};

struct jpki_municipality {
	char code[7]; /* 全国地方公共団体コード, 6 digits */
	char name[97];
};

/* Parses "CODE:NAME" (CODE: six digits with a valid check digit). */
jpki_err jpki_municipality_parse(const char *s, struct jpki_municipality *out,
				 struct jpki_errbuf *eb);

/* The prefecture of a municipality code (its first two digits), e.g.
 * "東京都" for 13; NULL if not 01..47. Static string. */
const char *jpki_prefecture_name(const char *code);

struct jpki_ca_init_opts {
	const char *base_url; /* default "http://127.0.0.1:8080" */
	int key_bits;	      /* 2048 (default), 3072 or 4096 */
	int crl_hours;	      /* CRL nextUpdate, default 24 */
	int ocsp_days;	      /* OCSP validity, default 4 */
	const struct jpki_municipality *munis;
	size_t n_munis;
	const char *passphrase;	     /* encrypts the key files */
	bool insecure_no_passphrase; /* demos and tests only */
	int64_t now;
	/* notBefore of the CA certificates when earlier than now (0: now), so
	 * that certificates with a history can be issued under them
	 * (jpki demo seed); their validity still counts from now. */
	int64_t not_before;
};

/* Checks the options alone (before a store is created for them). */
jpki_err jpki_ca_init_check(const struct jpki_ca_init_opts *o, struct jpki_errbuf *eb);

/* Creates the hierarchy in an empty store: five keys in keys_dir (created
 * 0700 if missing; files 0600, O_EXCL|O_NOFOLLOW, encrypted PEM) and their
 * certificates, settings and municipalities in the store, in one
 * transaction. JPKI_ERR_REFUSED when the store already has a CA (nothing
 * is changed); JPKI_ERR_INVALID for bad options. */
jpki_err jpki_ca_init(struct jpki_store *s, const char *keys_dir,
		      const struct jpki_ca_init_opts *o, struct jpki_errbuf *eb);

struct jpki_ca;

/* Opens an initialized CA. The passphrase (may be NULL) is needed only when
 * an operation signs; keys are loaded on first use and wiped on close.
 * JPKI_ERR_REFUSED when the store has no CA. */
jpki_err jpki_ca_open(struct jpki_store *s, const char *keys_dir,
		      const char *passphrase, struct jpki_ca **out,
		      struct jpki_errbuf *eb);
void jpki_ca_close(struct jpki_ca *ca);

/* The CA passphrase for jpki and jpkid: the first line of file (read with
 * read(2) into a buffer that is wiped, never through stdio), or, when file
 * is NULL, $JPKI_CA_PASSPHRASE. *out is malloc'd, NULL when neither is
 * given; wipe it with jpki_passphrase_free. JPKI_ERR_INVALID for a missing
 * file, one that is not a regular file or over 1024 bytes, or an empty
 * first line; JPKI_ERR_IO when it cannot be read. Messages start with the
 * path. */
jpki_err jpki_passphrase_read(const char *file, char **out, struct jpki_errbuf *eb);
void jpki_passphrase_free(char *p);

/* PEM of one CA certificate: "root", "sign", "auth", "ocsp-sign",
 * "ocsp-auth". *pem is malloc'd, NUL-terminated; the caller frees it. */
jpki_err jpki_ca_cert_pem(struct jpki_ca *ca, const char *which, char **pem,
			  struct jpki_errbuf *eb);

/* ---- issuance ---- */

/* The subject file (UTF-8 JSON), DOMAIN §8 limits: name <= 100 characters,
 * address <= 200, each *_alt exactly as long (in characters) as its field,
 * sex 1 (male), 2 (female) or 3 (unknown), birth a date from 1873-01-01.
 * Auth certificates use only municipality. */
struct jpki_subject {
	char *name, *name_alt, *address, *address_alt;
	int sex;
	jpki_day birth;
	char municipality[7];
};
jpki_err jpki_subject_parse(const char *json, size_t len, enum jpki_pki_kind kind,
			    struct jpki_subject *out, struct jpki_errbuf *eb);
void jpki_subject_release(struct jpki_subject *s);

struct jpki_issued {
	char serial[33];       /* lowercase hex */
	char issue_number[32]; /* the CN */
	char *pem;	       /* malloc'd; jpki_issued_release() frees it */
};
void jpki_issued_release(struct jpki_issued *i);

/* Issues a certificate for the public key (PEM SubjectPublicKeyInfo) valid
 * from now to 23:59:59 JST of `expires`. The to-be-signed certificate is
 * linted against the profile first; a failure is JPKI_ERR_INVALID with the
 * reason. Runs in its own transaction, or inside the caller's when one is
 * open (a renewal issues its signing and auth certificates in one
 * transaction; on failure the caller rolls back). */
jpki_err jpki_ca_issue(struct jpki_ca *ca, enum jpki_pki_kind kind,
		       const char *pubkey_pem, size_t pubkey_len,
		       const struct jpki_subject *subj, jpki_day expires, int64_t now,
		       struct jpki_issued *out, struct jpki_errbuf *eb);

/* The same with notBefore in the past (not_before <= now; the lint still
 * wants it inside the issuing CA's validity): for a synthetic population
 * with a history (jpki demo seed) only. The audit row is written at now. */
jpki_err jpki_ca_issue_backdated(struct jpki_ca *ca, enum jpki_pki_kind kind,
				 const char *pubkey_pem, size_t pubkey_len,
				 const struct jpki_subject *subj, jpki_day expires,
				 int64_t not_before, int64_t now,
				 struct jpki_issued *out, struct jpki_errbuf *eb);

/* ---- revocation (DOMAIN §4) ---- */

/* RFC 5280 CRLReason codes we use. certificateHold is never offered. */
enum jpki_revocation_reason {
	JPKI_REASON_UNSPECIFIED = 0,
	JPKI_REASON_KEY_COMPROMISE = 1,
	JPKI_REASON_AFFILIATION_CHANGED = 3,
	JPKI_REASON_SUPERSEDED = 4,
	JPKI_REASON_CESSATION_OF_OPERATION = 5,
};
/* camelCase RFC 5280 names: "keyCompromise" ... */
jpki_err jpki_revocation_reason_parse(const char *s, enum jpki_revocation_reason *out);
const char *jpki_revocation_reason_name(int code);

struct jpki_revoke_result {
	char serial[66];    /* the serial, normalized: lowercase whole-byte hex */
	bool already;	    /* it was revoked before: nothing changed */
	int64_t revoked_at; /* the (first) revocation time */
	int reason;
};

/* Revokes by serial (hex, any case) at `at` (<= now, >= notBefore).
 * Revoking again changes nothing and sets `already`. JPKI_ERR_NOTFOUND for
 * an unknown serial. Runs in its own transaction, or inside the caller's
 * when one is open (on failure the caller rolls back). */
jpki_err jpki_ca_revoke(struct jpki_ca *ca, const char *serial_hex,
			enum jpki_revocation_reason reason, int64_t at, int64_t now,
			struct jpki_revoke_result *out, struct jpki_errbuf *eb);

/* ---- CRLs ---- */

/* Builds and signs the full CRL of an issuing CA (shard NULL), or the shard
 * of one municipality. A new CRL number is committed first. Entries of
 * certificates past their own expiry are dropped. *der is malloc'd. */
jpki_err jpki_ca_crl(struct jpki_ca *ca, enum jpki_pki_kind kind, const char *shard,
		     int64_t now, unsigned char **der, size_t *len,
		     struct jpki_errbuf *eb);

/* ---- OCSP (RFC 6960, RFC 5019) ---- */

struct jpki_ocsp_stats {
	bool cached; /* answered from a pre-signed response */
	int status;  /* OCSP response status (0 successful, 1 malformed, 6 unauthorized)
		      */
};

/* Answers a DER request with a DER response (*resp malloc'd). Malformed
 * requests get malformedRequest, unknown issuers unauthorized; both are
 * JPKI_OK. Requests with a nonce, and misses, are signed live; misses are
 * then stored. */
jpki_err jpki_ca_ocsp(struct jpki_ca *ca, const unsigned char *req, size_t req_len,
		      int64_t now, unsigned char **resp, size_t *resp_len,
		      struct jpki_ocsp_stats *st, struct jpki_errbuf *eb);

/* Re-signs stored responses older than half their validity, and signs one
 * for every unexpired certificate that has none. *count: responses signed. */
jpki_err jpki_ca_refresh_ocsp(struct jpki_ca *ca, int64_t now, size_t *count,
			      struct jpki_errbuf *eb);

/* ---- card issuers ----
 * Each municipality has an Ed25519 card-issuer key, made by jpki_ca_init
 * (key file card-issuer-CODE.key.pem in the keys directory, encrypted like
 * the CA keys; the public key in the store). Cards are personalised with
 * the public key; the counter terminal proves it holds the private key
 * before it generates keys, writes files or resets PINs on a card. */

/* The municipalities of the store, in code order (*out malloc'd). */
jpki_err jpki_municipalities(struct jpki_store *s, struct jpki_municipality **out,
			     size_t *n, struct jpki_errbuf *eb);

/* The card-issuer public key (32 bytes) of a municipality.
 * JPKI_ERR_NOTFOUND when the store has none. */
jpki_err jpki_card_issuer_public(struct jpki_store *s, const char *municipality,
				 uint8_t pub[32], struct jpki_errbuf *eb);

/* Loads the card-issuer private key whose public key is pub (a card's):
 * *key is an EVP_PKEY * (freed with jpki_card_issuer_key_free). The
 * passphrase is the CA's (NULL for an unencrypted store).
 * JPKI_ERR_NOTFOUND when no municipality of this store issued the card. */
jpki_err jpki_card_issuer_key(struct jpki_store *s, const char *keys_dir,
			      const char *passphrase, const uint8_t pub[32], void **key,
			      char municipality[7], struct jpki_errbuf *eb);
void jpki_card_issuer_key_free(void *key);

#ifdef __cplusplus
}
#endif
#endif
