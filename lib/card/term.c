/* The terminal: what a card reader's host software does, as sequences of
 * APDUs over any transport. The jpki command uses it in process; the same
 * sequences work against a card behind PC/SC. Only short APDUs are sent;
 * longer answers are collected with GET RESPONSE (61xx). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "card_internal.h"
#include "banned.h"

#define BUF 1024

static const char issuer_context[] = JPKII_ISSUER_CONTEXT;

static size_t local_transmit(void *ctx, const uint8_t *cmd, size_t len, uint8_t *resp,
			     size_t cap)
{
	return jpki_card_apdu(ctx, cmd, len, resp, cap);
}

void jpki_term_local(struct jpki_term *t, struct jpki_card *c)
{
	*t = (struct jpki_term){.transmit = local_transmit, .ctx = c};
}

static const char *sw_text(uint16_t sw)
{
	if ((sw & 0xFFF0) == 0x63C0)
		return "wrong PIN";
	switch (sw) {
	case JPKI_SW_AUTH_FAILED:
		return "authentication failed";
	case JPKI_SW_MEMORY:
		return "the card could not store the change";
	case JPKI_SW_WRONG_LENGTH:
		return "wrong length";
	case JPKI_SW_NO_EF_STRUCT:
		return "command incompatible with the file";
	case JPKI_SW_SECURITY:
		return "security status not satisfied";
	case JPKI_SW_BLOCKED:
		return "PIN blocked";
	case JPKI_SW_REF_UNUSABLE:
		return "PIN not set";
	case JPKI_SW_CONDITIONS:
		return "conditions of use not satisfied";
	case JPKI_SW_WRONG_DATA:
		return "data refused";
	case JPKI_SW_NOT_FOUND:
		return "file or application not found";
	case JPKI_SW_NO_SPACE:
		return "not enough memory in the file";
	case JPKI_SW_REF_NOT_FOUND:
		return "no key pair";
	case JPKI_SW_BAD_INS:
		return "instruction not supported";
	}
	return "error";
}

static jpki_err sw_err(struct jpki_term *t, struct jpki_errbuf *eb, const char *what)
{
	jpki_err e = JPKI_ERR_INTERNAL;
	switch (t->last_sw) {
	case JPKI_SW_SECURITY:
	case JPKI_SW_BLOCKED:
	case JPKI_SW_REF_UNUSABLE:
	case JPKI_SW_AUTH_FAILED:
		e = JPKI_ERR_REFUSED;
		break;
	case JPKI_SW_MEMORY:
		e = JPKI_ERR_IO;
		break;
	case JPKI_SW_WRONG_DATA:
		e = JPKI_ERR_INVALID;
		break;
	case JPKI_SW_NOT_FOUND:
	case JPKI_SW_REF_NOT_FOUND:
		e = JPKI_ERR_NOTFOUND;
		break;
	}
	return jpki_errf(eb, e, "%s: the card answered %04X (%s)", what, t->last_sw,
			 sw_text(t->last_sw));
}

/* Sends one APDU and collects the whole answer (following 61xx with GET
 * RESPONSE) into out (capacity cap). Returns the status word, or 0 when
 * the transport failed. */
static uint16_t xfer(struct jpki_term *t, const uint8_t *cmd, size_t len, uint8_t *out,
		     size_t cap, size_t *out_len)
{
	uint8_t r[BUF];
	size_t got = 0;
	uint8_t get[5] = {0x00, 0xC0, 0x00, 0x00, 0x00};
	for (;;) {
		size_t n = t->transmit(t->ctx, cmd, len, r, sizeof r);
		if (n < 2 || n > sizeof r) {
			t->last_sw = 0;
			break;
		}
		t->last_sw = (uint16_t)(r[n - 2] << 8 | r[n - 1]);
		if (got + n - 2 > cap) {
			t->last_sw = JPKI_SW_WRONG_LENGTH;
			break;
		}
		if (out && n > 2)
			memcpy(out + got, r, n - 2);
		got += n - 2;
		if ((t->last_sw & 0xFF00) != 0x6100)
			break;
		get[4] = (uint8_t)t->last_sw; /* 00: 256 */
		cmd = get;
		len = sizeof get;
	}
	OPENSSL_cleanse(r, sizeof r);
	if (out_len)
		*out_len = got;
	return t->last_sw;
}

static uint16_t simple(struct jpki_term *t, const uint8_t *cmd, size_t len)
{
	return xfer(t, cmd, len, NULL, 0, NULL);
}

static jpki_err select_app(struct jpki_term *t, int app, struct jpki_errbuf *eb)
{
	if (t->app == app)
		return JPKI_OK;
	uint8_t cmd[15] = {0x00, 0xA4, 0x04, 0x0C, 0x0A};
	memcpy(cmd + 5, jpkii_aid_of(app), 10);
	if (simple(t, cmd, sizeof cmd) != JPKI_SW_OK) {
		t->app = 0;
		return sw_err(t, eb, "SELECT application");
	}
	t->app = app;
	return JPKI_OK;
}

static uint16_t select_ef(struct jpki_term *t, uint16_t fid)
{
	uint8_t cmd[7] = {0x00,	       0xA4, 0x02, 0x0C, 0x02, (uint8_t)(fid >> 8),
			  (uint8_t)fid};
	return simple(t, cmd, sizeof cmd);
}

static jpki_err select_pin(struct jpki_term *t, enum jpki_pin_kind k,
			   struct jpki_errbuf *eb)
{
	const struct jpkii_ef *e = jpkii_ef_of(EF_PIN, k);
	if (e == NULL)
		return jpki_errf(eb, JPKI_ERR_INVALID, "no such PIN");
	jpki_err rc = select_app(t, e->app, eb);
	if (rc != JPKI_OK)
		return rc;
	if (select_ef(t, e->fid) != JPKI_SW_OK)
		return sw_err(t, eb, "SELECT PIN");
	return JPKI_OK;
}

jpki_err jpki_term_pin_status(struct jpki_term *t, enum jpki_pin_kind k,
			      int *tries_left, struct jpki_errbuf *eb)
{
	static const uint8_t query[4] = {0x00, 0x20, 0x00, 0x80};
	jpki_err rc = select_pin(t, k, eb);
	if (rc != JPKI_OK)
		return rc;
	uint16_t sw = simple(t, query, sizeof query);
	if ((sw & 0xFFF0) != 0x63C0)
		return sw_err(t, eb, "PIN status");
	*tries_left = sw & 0x0F;
	return JPKI_OK;
}

jpki_err jpki_term_verify(struct jpki_term *t, enum jpki_pin_kind k, const char *pin,
			  size_t len, enum jpki_verify_result *res, int *tries_left,
			  struct jpki_errbuf *eb)
{
	uint8_t cmd[5 + JPKI_PIN_MAX_LEN] = {0x00, 0x20, 0x00, 0x80};
	if (len == 0 || len > JPKI_PIN_MAX_LEN)
		return jpki_errf(eb, JPKI_ERR_INVALID, "a PIN has 1 to %d characters",
				 JPKI_PIN_MAX_LEN);
	jpki_err rc = select_pin(t, k, eb);
	if (rc != JPKI_OK)
		return rc;
	cmd[4] = (uint8_t)len;
	memcpy(cmd + 5, pin, len);
	uint16_t sw = simple(t, cmd, 5 + len);
	OPENSSL_cleanse(cmd, sizeof cmd);
	*tries_left = 0;
	if (sw == JPKI_SW_OK) {
		*res = JPKI_VERIFY_OK;
		*tries_left = jpki_pin_max_tries(k);
	} else if (sw == JPKI_SW_BLOCKED || sw == JPKI_SW_TRIES) {
		*res = JPKI_VERIFY_BLOCKED;
	} else if ((sw & 0xFFF0) == 0x63C0) {
		*res = JPKI_VERIFY_WRONG;
		*tries_left = sw & 0x0F;
	} else if (sw == JPKI_SW_REF_UNUSABLE) {
		*res = JPKI_VERIFY_UNSET;
	} else {
		return sw_err(t, eb, "VERIFY");
	}
	return JPKI_OK;
}

static uint16_t key_fid(enum jpki_card_key k)
{
	const struct jpkii_ef *e = jpkii_ef_of(EF_KEY, k);
	return e ? e->fid : 0; /* FID 0000: the card answers 6A82 */
}

jpki_err jpki_term_sign(struct jpki_term *t, enum jpki_card_key k,
			const uint8_t *digest_info, size_t len, uint8_t *sig,
			size_t *sig_len, struct jpki_errbuf *eb)
{
	uint8_t cmd[6 + 255] = {0x80, 0x2A, 0x00, 0x80};
	if (len == 0 || len > 245)
		return jpki_errf(eb, JPKI_ERR_INVALID, "a DigestInfo of %zu bytes",
				 len);
	jpki_err rc = select_app(t, JPKI_APP_JPKI, eb);
	if (rc != JPKI_OK)
		return rc;
	if (select_ef(t, key_fid(k)) != JPKI_SW_OK)
		return sw_err(t, eb, "SELECT key");
	cmd[4] = (uint8_t)len;
	memcpy(cmd + 5, digest_info, len);
	cmd[5 + len] = 0x00;
	if (xfer(t, cmd, 6 + len, sig, 256, sig_len) != JPKI_SW_OK)
		return sw_err(t, eb, "COMPUTE DIGITAL SIGNATURE");
	return JPKI_OK;
}

jpki_err jpki_term_read_ef(struct jpki_term *t, enum jpki_card_app app, uint16_t fid,
			   uint8_t **out, size_t *len, struct jpki_errbuf *eb)
{
	*out = NULL;
	*len = 0;
	jpki_err rc = select_app(t, app, eb);
	if (rc != JPKI_OK)
		return rc;
	uint16_t sw = select_ef(t, fid);
	if (sw == JPKI_SW_NOT_FOUND)
		return JPKI_OK; /* nothing written */
	if (sw != JPKI_SW_OK)
		return sw_err(t, eb, "SELECT file");
	uint8_t *buf = malloc(JPKI_CARD_EF_MAX);
	if (buf == NULL)
		return JPKI_ERR_NOMEM;
	size_t n = 0;
	for (;;) {
		uint8_t cmd[5] = {0x00, 0xB0, (uint8_t)(n >> 8), (uint8_t)n, 0x00};
		size_t got;
		if (n + 256 > JPKI_CARD_EF_MAX) /* the last chunk: ask for the rest */
			cmd[4] = (uint8_t)(JPKI_CARD_EF_MAX - n);
		sw = xfer(t, cmd, sizeof cmd, buf + n, JPKI_CARD_EF_MAX - n, &got);
		n += got;
		if (sw == JPKI_SW_EOF || sw == JPKI_SW_OFFSET || n == JPKI_CARD_EF_MAX)
			break;
		if (sw != JPKI_SW_OK) {
			free(buf);
			return sw_err(t, eb, "READ BINARY");
		}
	}
	if (n == 0) {
		free(buf);
		return JPKI_OK;
	}
	*out = buf;
	*len = n;
	return JPKI_OK;
}

jpki_err jpki_term_issuer_auth(struct jpki_term *t, void *issuer_key,
			       struct jpki_errbuf *eb)
{
	static const uint8_t get_challenge[5] = {0x00, 0x84, 0x00, 0x00, 0x10};
	uint8_t msg[sizeof issuer_context - 1 + 16];
	uint8_t cmd[5 + 64] = {0x00, 0x82, 0x00, 0x00, 0x40};
	size_t n, siglen = 64;
	if (xfer(t, get_challenge, sizeof get_challenge,
		 msg + sizeof issuer_context - 1, 16, &n) != JPKI_SW_OK ||
	    n != 16)
		return sw_err(t, eb, "GET CHALLENGE");
	memcpy(msg, issuer_context, sizeof issuer_context - 1);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	bool ok = m && EVP_DigestSignInit(m, NULL, NULL, NULL, issuer_key) == 1 &&
		  EVP_DigestSign(m, cmd + 5, &siglen, msg, sizeof msg) == 1 &&
		  siglen == 64;
	EVP_MD_CTX_free(m);
	if (!ok)
		return jpki_errf(eb, JPKI_ERR_CRYPTO,
				 "the card-issuer key cannot sign (not Ed25519?)");
	if (simple(t, cmd, sizeof cmd) != JPKI_SW_OK)
		return sw_err(t, eb,
			      "EXTERNAL AUTHENTICATE (is this the card's issuer key?)");
	return JPKI_OK;
}

/* The 7F49 template of GENERATE ASYMMETRIC KEY PAIR as a DER SPKI. */
static jpki_err template_to_spki(const uint8_t *p, size_t n, uint8_t **der, size_t *len)
{
	const size_t h = sizeof jpkii_pubkey_head;
	if (n != JPKII_PUBKEY_LEN || memcmp(p, jpkii_pubkey_head, h) != 0 ||
	    p[h + 256] != 0x82 || p[h + 257] != 0x03)
		return JPKI_ERR_INVALID;
	jpki_err rc = JPKI_ERR_CRYPTO;
	BIGNUM *bn_n = BN_bin2bn(p + h, 256, NULL);
	BIGNUM *bn_e = BN_bin2bn(p + h + 258, 3, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;
	unsigned char *out = NULL;
	if (!bn_n || !bn_e || !bld || !ctx ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	int l = i2d_PUBKEY(pk, &out);
	if (l <= 0)
		goto out;
	if ((*der = malloc((size_t)l)) == NULL) {
		rc = JPKI_ERR_NOMEM;
		goto out;
	}
	memcpy(*der, out, (size_t)l);
	*len = (size_t)l;
	rc = JPKI_OK;
out:
	OPENSSL_free(out);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return rc;
}

static jpki_err generate(struct jpki_term *t, enum jpki_card_key k, uint8_t p1,
			 uint8_t **spki, size_t *len, struct jpki_errbuf *eb)
{
	uint8_t cmd[5] = {0x00, 0x47, p1, 0x00, 0x00};
	uint8_t tmpl[512];
	size_t n;
	jpki_err rc = select_app(t, JPKI_APP_JPKI, eb);
	if (rc != JPKI_OK)
		return rc;
	if (select_ef(t, key_fid(k)) != JPKI_SW_OK)
		return sw_err(t, eb, "SELECT key");
	if (xfer(t, cmd, sizeof cmd, tmpl, sizeof tmpl, &n) != JPKI_SW_OK)
		return sw_err(t, eb,
			      p1 == 0x80 ? "GENERATE KEY PAIR" : "read public key");
	if ((rc = template_to_spki(tmpl, n, spki, len)) != JPKI_OK)
		return jpki_errf(eb, rc, "the card's public key does not parse");
	return JPKI_OK;
}

jpki_err jpki_term_keygen(struct jpki_term *t, enum jpki_card_key k, uint8_t **spki_der,
			  size_t *len, struct jpki_errbuf *eb)
{
	return generate(t, k, 0x80, spki_der, len, eb);
}

jpki_err jpki_term_pubkey(struct jpki_term *t, enum jpki_card_key k, uint8_t **spki_der,
			  size_t *len, struct jpki_errbuf *eb)
{
	return generate(t, k, 0x81, spki_der, len, eb);
}

jpki_err jpki_term_write_ef(struct jpki_term *t, enum jpki_card_app app, uint16_t fid,
			    const uint8_t *data, size_t len, struct jpki_errbuf *eb)
{
	static const uint8_t erase[4] = {0x00, 0x0E, 0x00, 0x00};
	uint8_t cmd[5 + 255] = {0x00, 0xD6};
	if (len > JPKI_CARD_EF_MAX)
		return jpki_errf(eb, JPKI_ERR_RANGE, "%zu bytes do not fit a card file",
				 len);
	jpki_err rc = select_app(t, app, eb);
	if (rc != JPKI_OK)
		return rc;
	if (select_ef(t, fid) != JPKI_SW_OK)
		return sw_err(t, eb, "SELECT file");
	if (simple(t, erase, sizeof erase) != JPKI_SW_OK)
		return sw_err(t, eb, "ERASE BINARY");
	for (size_t off = 0; off < len;) {
		size_t n = len - off < 255 ? len - off : 255;
		cmd[2] = (uint8_t)(off >> 8);
		cmd[3] = (uint8_t)off;
		cmd[4] = (uint8_t)n;
		memcpy(cmd + 5, data + off, n);
		if (simple(t, cmd, 5 + n) != JPKI_SW_OK)
			return sw_err(t, eb, "UPDATE BINARY");
		off += n;
	}
	return JPKI_OK;
}

jpki_err jpki_term_reset_pin(struct jpki_term *t, enum jpki_pin_kind k,
			     const char *new_pin, size_t len, struct jpki_errbuf *eb)
{
	uint8_t cmd[5 + JPKI_PIN_MAX_LEN] = {0x00, 0x2C, 0x03, 0x80};
	size_t n = 4;
	if (new_pin) {
		if (len == 0 || len > JPKI_PIN_MAX_LEN)
			return jpki_errf(eb, JPKI_ERR_INVALID,
					 "a PIN has 1 to %d characters",
					 JPKI_PIN_MAX_LEN);
		cmd[2] = 0x02;
		cmd[4] = (uint8_t)len;
		memcpy(cmd + 5, new_pin, len);
		n = 5 + len;
	}
	jpki_err rc = select_pin(t, k, eb);
	if (rc == JPKI_OK && simple(t, cmd, n) != JPKI_SW_OK)
		rc = sw_err(t, eb, "RESET RETRY COUNTER");
	OPENSSL_cleanse(cmd, sizeof cmd);
	return rc;
}
