/* The signer interface (lib/pki internal).
 *
 * Every signature the CA makes goes through these three operations, so a
 * PKCS#11 backend (or a separate signer process) can replace the file
 * backend without touching callers. The file backend keeps an EVP_PKEY
 * decrypted in memory for as long as the signer lives; free() wipes it.
 * All signatures are sha256WithRSAEncryption.
 */
#ifndef JPKI_PKI_SIGNER_H
#define JPKI_PKI_SIGNER_H

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "jpki/err.h"

struct jpki_signer;

struct jpki_signer_ops {
	jpki_err (*sign_cert)(struct jpki_signer *s, X509 *cert);
	jpki_err (*sign_crl)(struct jpki_signer *s, X509_CRL *crl);
	/* Signs a basic OCSP response as `cert` (the responder), responder ID
	 * by key hash, with `cert` included. */
	jpki_err (*sign_ocsp)(struct jpki_signer *s, OCSP_BASICRESP *bs, X509 *cert);
	void (*free)(struct jpki_signer *s);
};

struct jpki_signer {
	const struct jpki_signer_ops *ops;
};

/* File backend: a PEM private key (PKCS#8, encrypted with AES-256-CBC when
 * a passphrase is given) that must belong to `cert`. JPKI_ERR_PASSPHRASE
 * when it does not decrypt, JPKI_ERR_REFUSED when it is encrypted and no
 * passphrase was given, JPKI_ERR_CRYPTO when it is not cert's key. */
jpki_err jpkii_signer_file_open(const char *path, const char *passphrase, X509 *cert,
				struct jpki_signer **out, struct jpki_errbuf *eb);

/* A file-backend signer over a key already in memory (init). Takes a
 * reference to key. */
/* Reads a PEM private key, decrypting it with the passphrase when it is
 * encrypted: JPKI_ERR_REFUSED without one, JPKI_ERR_PASSPHRASE when wrong. */
jpki_err jpkii_key_read(const char *path, const char *passphrase, EVP_PKEY **out,
			struct jpki_errbuf *eb);
jpki_err jpkii_signer_from_key(EVP_PKEY *key, struct jpki_signer **out);

/* A fresh RSA key of `bits` bits. */
jpki_err jpkii_key_generate(int bits, EVP_PKEY **out, struct jpki_errbuf *eb);

/* Writes the private key to a new file: O_CREAT|O_EXCL|O_NOFOLLOW, mode
 * 0600, fsync'd. Encrypted PKCS#8 when passphrase is non-NULL. An existing
 * file is JPKI_ERR_CONFLICT (never overwritten). */
jpki_err jpkii_key_write(const char *path, EVP_PKEY *key, const char *passphrase,
			 struct jpki_errbuf *eb);

static inline void jpkii_signer_free(struct jpki_signer *s)
{
	if (s)
		s->ops->free(s);
}

#endif
