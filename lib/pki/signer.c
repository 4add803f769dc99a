/* The file backend of the signer interface. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "signer.h"
#include "banned.h"

struct file_signer {
	struct jpki_signer base;
	EVP_PKEY *key;
};

static EVP_PKEY *key_of(struct jpki_signer *s)
{
	return ((struct file_signer *)s)->key;
}

static jpki_err sign_cert(struct jpki_signer *s, X509 *cert)
{
	return X509_sign(cert, key_of(s), EVP_sha256()) > 0 ? JPKI_OK : JPKI_ERR_CRYPTO;
}

static jpki_err sign_crl(struct jpki_signer *s, X509_CRL *crl)
{
	return X509_CRL_sign(crl, key_of(s), EVP_sha256()) > 0 ? JPKI_OK
							       : JPKI_ERR_CRYPTO;
}

static jpki_err sign_ocsp(struct jpki_signer *s, OCSP_BASICRESP *bs, X509 *cert)
{
	/* RFC 6960 4.2.2.3: responder ID by key hash; the responder
	 * certificate goes along so clients can check it. producedAt is the
	 * real signing time (OpenSSL stamps the clock; RFC 6960 4.2.2.1 "the
	 * time at which the OCSP responder signed this response"), while
	 * thisUpdate and nextUpdate follow the caller's `now`. */
	return OCSP_basic_sign(bs, cert, key_of(s), EVP_sha256(), NULL,
			       OCSP_RESPID_KEY) > 0
		   ? JPKI_OK
		   : JPKI_ERR_CRYPTO;
}

static void file_free(struct jpki_signer *s)
{
	struct file_signer *f = (struct file_signer *)s;
	EVP_PKEY_free(f->key); /* OpenSSL clears RSA key material on free */
	free(f);
}

static const struct jpki_signer_ops file_ops = {sign_cert, sign_crl, sign_ocsp,
						file_free};

jpki_err jpkii_signer_from_key(EVP_PKEY *key, struct jpki_signer **out)
{
	struct file_signer *f = calloc(1, sizeof *f);
	if (f == NULL)
		return JPKI_ERR_NOMEM;
	if (EVP_PKEY_up_ref(key) != 1) {
		free(f);
		return JPKI_ERR_CRYPTO;
	}
	f->base.ops = &file_ops;
	f->key = key;
	*out = &f->base;
	return JPKI_OK;
}

/* PEM password callback: the passphrase, or fail when there is none. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	const char *p = u;
	if (p == NULL)
		return -1;
	size_t n = strlen(p);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, p, n);
	return (int)n;
}

jpki_err jpkii_key_read(const char *path, const char *passphrase, EVP_PKEY **out,
			struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_OK;
	BIO *bio = BIO_new_file(path, "rb");
	if (bio == NULL)
		return jpki_errf(eb, JPKI_ERR_IO, "cannot read the key %s", path);
	*out = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)passphrase);
	if (*out == NULL) {
		ERR_clear_error();
		/* Tell "no passphrase" from "wrong passphrase". */
		BIO_free(bio);
		bio = BIO_new_file(path, "rb");
		char line[64] = "";
		if (bio && BIO_gets(bio, line, sizeof line) > 0 &&
		    strstr(line, "ENCRYPTED") != NULL && passphrase == NULL)
			rc = jpki_errf(eb, JPKI_ERR_REFUSED,
				       "the CA keys are encrypted: set "
				       "JPKI_CA_PASSPHRASE or --passphrase-file");
		else
			rc = jpki_errf(eb, JPKI_ERR_PASSPHRASE,
				       "cannot decrypt the key %s: wrong passphrase?",
				       path);
	}
	BIO_free(bio);
	return rc;
}

jpki_err jpkii_signer_file_open(const char *path, const char *passphrase, X509 *cert,
				struct jpki_signer **out, struct jpki_errbuf *eb)
{
	EVP_PKEY *key = NULL;
	jpki_err rc = jpkii_key_read(path, passphrase, &key, eb);
	if (rc != JPKI_OK)
		return rc;
	/* A key that is not the certificate's would sign things no one can
	 * verify: refuse it before the first signature. */
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		rc = jpki_errf(eb, JPKI_ERR_CRYPTO,
			       "the key %s does not belong to its CA certificate", path);
	} else {
		rc = jpkii_signer_from_key(key, out);
	}
	EVP_PKEY_free(key);
	return rc;
}

jpki_err jpkii_key_generate(int bits, EVP_PKEY **out, struct jpki_errbuf *eb)
{
	EVP_PKEY *k = EVP_RSA_gen((unsigned)bits);
	if (k == NULL)
		return jpki_errf(eb, JPKI_ERR_CRYPTO, "RSA-%d key generation failed",
				 bits);
	*out = k;
	return JPKI_OK;
}

jpki_err jpkii_key_write(const char *path, EVP_PKEY *key, const char *passphrase,
			 struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_ERR_IO;
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n = 0;
	int fd = -1;
	if (mem == NULL)
		return JPKI_ERR_NOMEM;
	int ok = passphrase
		     ? PEM_write_bio_PKCS8PrivateKey(mem, key, EVP_aes_256_cbc(), NULL,
						     0, pass_cb, (void *)passphrase)
		     : PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL);
	if (!ok) {
		rc = jpki_errf(eb, JPKI_ERR_CRYPTO, "cannot encode the key");
		goto out;
	}
	n = BIO_get_mem_data(mem, &data);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = jpki_errf(eb, errno == EEXIST ? JPKI_ERR_CONFLICT : JPKI_ERR_IO,
			       "%s: %s", path, strerror(errno));
		goto out;
	}
	for (long off = 0; off < n;) {
		ssize_t w = write(fd, data + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = jpki_errf(eb, JPKI_ERR_IO, "%s: write failed", path);
			goto out_unlink;
		}
		off += w;
	}
	if (fsync(fd) != 0) {
		rc = jpki_errf(eb, JPKI_ERR_IO, "%s: fsync failed", path);
		goto out_unlink;
	}
	rc = JPKI_OK;
	goto out;
out_unlink:
	unlink(path);
out:
	if (fd >= 0)
		close(fd);
	if (data && n > 0)
		OPENSSL_cleanse(data, (size_t)n); /* a plaintext key in insecure mode */
	BIO_free(mem);
	return rc;
}
