/* lib/pki internals shared by its files (prefix jpkii_). */
#ifndef JPKI_PKI_INTERNAL_H
#define JPKI_PKI_INTERNAL_H

#include <limits.h>

#include <openssl/x509.h>

#include "jpki/pki.h"
#include "signer.h"

enum jpkii_ca_index {
	CA_ROOT = 0,
	CA_SIGN = 1,
	CA_AUTH = 2,
	CA_OCSP_SIGN = 3,
	CA_OCSP_AUTH = 4,
	CA_N = 5,
};

extern const char *const jpkii_ca_names[CA_N]; /* "root", "sign", ... */

struct jpki_ca {
	struct jpki_store *store;
	char keys_dir[PATH_MAX];
	char *passphrase; /* copy; wiped on close */
	X509 *cert[CA_N];
	char key_file[CA_N][64];
	struct jpki_signer *signer[CA_N]; /* loaded on first use */
	char base_url[256];
	int crl_hours;
	int ocsp_days;
	/* CertID hashes of the two issuing CAs (RFC 6960 4.1.1), computed once:
	 * [kind][0 = SHA-1, 1 = SHA-256]. */
	unsigned char id_name[2][2][32], id_key[2][2][32];
	/* Pre-signed responses held in memory (lib/pki/ocsp.c). */
	struct jpkii_ocsp_slot *mem;
	int64_t mem_version; /* the store's data version they reflect */
	int64_t mem_epoch;   /* and its epoch (jpki_store_touch) */
};

/* Makes the card-issuer key of every municipality of o: key files in
 * keys_dir (paths[m] names each one written, "" otherwise, for the caller
 * to remove on rollback) and card_issuer rows, in the caller's
 * transaction. */
jpki_err jpkii_card_issuers_create(struct jpki_store *s, const char *keys_dir,
				   const struct jpki_ca_init_opts *o,
				   char (*paths)[PATH_MAX], struct jpki_errbuf *eb);

/* Drops the in-memory responses (after this handle changed the store). */
void jpkii_ocsp_flush(struct jpki_ca *ca);

/* Fills ca->id_name and ca->id_key. */
jpki_err jpkii_ocsp_prepare(struct jpki_ca *ca);

/* The issuing CA index of a kind, and its OCSP responder. */
static inline int jpkii_issuer_of(enum jpki_pki_kind k)
{
	return k == JPKI_PKI_SIGN ? CA_SIGN : CA_AUTH;
}
static inline int jpkii_responder_of(enum jpki_pki_kind k)
{
	return k == JPKI_PKI_SIGN ? CA_OCSP_SIGN : CA_OCSP_AUTH;
}
static inline const char *jpkii_kind_name(enum jpki_pki_kind k)
{
	return k == JPKI_PKI_SIGN ? "sign" : "auth";
}

/* The signer of CA i, loading its key on first use. */
jpki_err jpkii_ca_signer(struct jpki_ca *ca, int i, struct jpki_signer **out,
			 struct jpki_errbuf *eb);

/* URLs written into certificates (issue text): CRLDP
 * {base}/crl/{kind}/{muni}.crl, full CRL {base}/crl/{kind}.crl, OCSP
 * {base}/ocsp/{kind}. */
int jpkii_url_shard(const struct jpki_ca *ca, enum jpki_pki_kind k,
		    const char *muni, char *buf, size_t n);
int jpkii_url_ocsp(const struct jpki_ca *ca, enum jpki_pki_kind k, char *buf,
		   size_t n);

/* Unix seconds <-> ASN1_TIME (UTCTime before 2050, GeneralizedTime after,
 * as RFC 5280 4.1.2.5 requires). */
ASN1_TIME *jpkii_asn1_time(int64_t t);

/* Adds an extension from OpenSSL's v3 config syntax ("critical,CA:TRUE"). */
jpki_err jpkii_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

/* Whether UTF-8 text has a C0 or C1 control character or DEL. */
bool jpkii_has_control(const char *s);

/* The certificate as PEM, malloc'd and NUL-terminated (caller frees). */
jpki_err jpkii_cert_pem(X509 *c, char **pem);

/* A fresh serial: 16 random bytes, positive, first byte non-zero. */
jpki_err jpkii_new_serial(X509 *cert);

/* Lowercase hex of an ASN1_INTEGER serial into buf (>= 2*len+1). */
jpki_err jpkii_serial_hex(const ASN1_INTEGER *s, char *buf, size_t n);

/* Increments a counter row (creating it at 1) inside the caller's
 * transaction and reads the new value: `upsert` and `select` take the key
 * as $1. Issue numbers and CRL numbers are such counters. */
jpki_err jpkii_counter_next(struct jpki_store *s, const char *upsert,
			    const char *select, const char *key, int64_t *out);

/* One audit row for a CA operation, inside the open transaction. */
jpki_err jpkii_audit(struct jpki_ca *ca, int64_t now, const char *action,
		     const char *object, const char *details_json,
		     struct jpki_errbuf *eb);

/* Runs one statement with text/int params given as a format of 't' (text)
 * and 'i' (int64) characters, e.g. jpkii_sql(s, "ti", sql, "x", (int64_t)1).
 * For writes without results. */
jpki_err jpkii_sql(struct jpki_store *s, const char *types, const char *sql, ...);

#endif
