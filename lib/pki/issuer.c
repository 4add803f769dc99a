/* Card-issuer keys: one Ed25519 key per municipality (jpki/pki.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pki_internal.h"
#include "banned.h"

jpki_err jpkii_card_issuers_create(struct jpki_store *s, const char *keys_dir,
				   const struct jpki_ca_init_opts *o,
				   char (*paths)[PATH_MAX], struct jpki_errbuf *eb)
{
	for (size_t m = 0; m < o->n_munis; m++) {
		char file[64];
		uint8_t pub[32];
		size_t publen = sizeof pub;
		jpki_err rc;
		snprintf(file, sizeof file, "card-issuer-%s.key.pem", o->munis[m].code);
		if (snprintf(paths[m], PATH_MAX, "%s/%s", keys_dir, file) >= PATH_MAX)
			return jpki_errf(eb, JPKI_ERR_INVALID, "%s: path too long",
					 keys_dir);
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		if (k == NULL || EVP_PKEY_get_raw_public_key(k, pub, &publen) != 1) {
			EVP_PKEY_free(k);
			paths[m][0] = '\0';
			return jpki_errf(eb, JPKI_ERR_CRYPTO,
					 "Ed25519 key generation failed");
		}
		rc = jpkii_key_write(
		    paths[m], k, o->insecure_no_passphrase ? NULL : o->passphrase, eb);
		EVP_PKEY_free(k);
		if (rc != JPKI_OK) {
			paths[m][0] = '\0'; /* not ours to remove */
			return rc;
		}
		struct jpki_stmt *st = NULL;
		bool row;
		rc = jpki_stmt_prepare(
		    s,
		    "INSERT INTO card_issuer (municipality, public_key, "
		    "key_file, created_at) VALUES ($1, $2, $3, $4)",
		    &st);
		if (rc == JPKI_OK &&
		    !(rc = jpki_stmt_bind_text(st, 1, o->munis[m].code)) &&
		    !(rc = jpki_stmt_bind_blob(st, 2, pub, sizeof pub)) &&
		    !(rc = jpki_stmt_bind_text(st, 3, file)) &&
		    !(rc = jpki_stmt_bind_int64(st, 4, o->now)))
			rc = jpki_stmt_step(st, &row);
		jpki_stmt_finalize(st);
		if (rc != JPKI_OK)
			return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
	}
	return JPKI_OK;
}

jpki_err jpki_municipalities(struct jpki_store *s, struct jpki_municipality **out,
			     size_t *n, struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	struct jpki_municipality *v = NULL;
	size_t cnt = 0, cap = 0;
	bool row;
	jpki_err rc = jpki_stmt_prepare(
	    s, "SELECT code, name FROM municipality ORDER BY code", &st);
	while (rc == JPKI_OK && !(rc = jpki_stmt_step(st, &row)) && row) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			struct jpki_municipality *nv = realloc(v, cap * sizeof *v);
			if (nv == NULL) {
				rc = JPKI_ERR_NOMEM;
				break;
			}
			v = nv;
		}
		snprintf(v[cnt].code, sizeof v[cnt].code, "%s", jpki_stmt_text(st, 0));
		snprintf(v[cnt].name, sizeof v[cnt].name, "%s", jpki_stmt_text(st, 1));
		cnt++;
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		free(v);
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
	}
	*out = v;
	*n = cnt;
	return JPKI_OK;
}

jpki_err jpki_card_issuer_public(struct jpki_store *s, const char *municipality,
				 uint8_t pub[32], struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	size_t n = 0;
	jpki_err rc = jpki_stmt_prepare(
	    s, "SELECT public_key FROM card_issuer WHERE municipality = $1", &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_text(st, 1, municipality)))
		rc = jpki_stmt_step(st, &row);
	const void *p = row ? jpki_stmt_blob(st, 0, &n) : NULL;
	if (rc == JPKI_OK && row && n == 32)
		memcpy(pub, p, 32);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
	if (!row || n != 32)
		return jpki_errf(eb, JPKI_ERR_NOTFOUND,
				 "the store has no card-issuer key for municipality %s",
				 municipality);
	return JPKI_OK;
}

jpki_err jpki_card_issuer_key(struct jpki_store *s, const char *keys_dir,
			      const char *passphrase, const uint8_t pub[32], void **key,
			      char municipality[7], struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	char file[128] = "", path[PATH_MAX];
	jpki_err rc = jpki_stmt_prepare(
	    s, "SELECT municipality, key_file FROM card_issuer WHERE public_key = $1",
	    &st);
	if (rc == JPKI_OK && !(rc = jpki_stmt_bind_blob(st, 1, pub, 32)))
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row) {
		snprintf(municipality, 7, "%s", jpki_stmt_text(st, 0));
		snprintf(file, sizeof file, "%s", jpki_stmt_text(st, 1));
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpki_errf(eb, rc, "store: %s", jpki_store_errmsg(s));
	if (!row)
		return jpki_errf(
		    eb, JPKI_ERR_NOTFOUND,
		    "this card was not issued by a municipality of this store");
	if (snprintf(path, sizeof path, "%s/%s", keys_dir, file) >= (int)sizeof path)
		return jpki_errf(eb, JPKI_ERR_INVALID, "%s: path too long", keys_dir);
	EVP_PKEY *k = NULL;
	if ((rc = jpkii_key_read(path, passphrase, &k, eb)) != JPKI_OK)
		return rc;
	uint8_t got[32];
	size_t n = sizeof got;
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(k, got, &n) != 1 || n != 32 ||
	    memcmp(got, pub, 32) != 0) {
		EVP_PKEY_free(k);
		return jpki_errf(eb, JPKI_ERR_CRYPTO,
				 "%s is not the card-issuer key the store names", path);
	}
	*key = k;
	return JPKI_OK;
}

void jpki_card_issuer_key_free(void *key)
{
	EVP_PKEY_free(key); /* OpenSSL clears key material on free */
}
