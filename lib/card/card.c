/* The APDU processor: what the chip answers (DOMAIN §9; ISO/IEC 7816-4).
 *
 * Every command is parsed strictly (short and extended forms), checked in
 * the order a chip checks (class, instruction, parameters, length, file,
 * security), and answered with data and a status word. State changes are
 * written to the card file before the answer; a failed write answers 6581
 * and leaves the card as it was. A VERIFY decrements the counter on disk
 * before it compares, so pulling the plug mid-command never gives a free
 * try. docs/internals/card.md lists every command and status word.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "card_internal.h"
#include "banned.h"

const uint8_t jpki_card_atr[JPKI_CARD_ATR_LEN] = {0x3B, 0xE0, 0x00, 0xFF, 0x81,
						  0x31, 0xFE, 0x45, 0x14};
const uint8_t jpki_aid_jpki[10] = {0xD3, 0x92, 0xF0, 0x00, 0x26,
				   0x01, 0x00, 0x00, 0x00, 0x01};
const uint8_t jpki_aid_text[10] = {0xD3, 0x92, 0x10, 0x00, 0x31,
				   0x00, 0x01, 0x01, 0x04, 0x08};
const uint8_t jpki_aid_juki[10] = {0xD3, 0x92, 0x10, 0x00, 0x31,
				   0x00, 0x01, 0x01, 0x04, 0x01};

/* clang-format off */
const struct jpkii_ef jpkii_efs[] = {
	{JPKI_APP_JPKI, JPKI_EF_SIGN_CERT,  EF_DATA,  SLOT_SIGN_CERT,   JPKI_PIN_SIGN},
	{JPKI_APP_JPKI, JPKI_EF_SIGN_CA,    EF_DATA,  SLOT_SIGN_CA,     -1},
	{JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO, EF_FIXED, 0,                -1},
	{JPKI_APP_JPKI, JPKI_EF_AUTH_CERT,  EF_DATA,  SLOT_AUTH_CERT,   -1},
	{JPKI_APP_JPKI, JPKI_EF_AUTH_CA,    EF_DATA,  SLOT_AUTH_CA,     -1},
	{JPKI_APP_JPKI, JPKI_EF_AUTH_KEY,   EF_KEY,   JPKI_KEY_AUTH,    JPKI_PIN_AUTH},
	{JPKI_APP_JPKI, JPKI_EF_AUTH_PIN,   EF_PIN,   JPKI_PIN_AUTH,    -1},
	{JPKI_APP_JPKI, JPKI_EF_SIGN_KEY,   EF_KEY,   JPKI_KEY_SIGN,    JPKI_PIN_SIGN},
	{JPKI_APP_JPKI, JPKI_EF_SIGN_PIN,   EF_PIN,   JPKI_PIN_SIGN,    -1},
	{JPKI_APP_TEXT, JPKI_EF_TEXT_NUMBER, EF_DATA, SLOT_TEXT_NUMBER, JPKI_PIN_TEXT},
	{JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS, EF_DATA,  SLOT_TEXT_ATTRS,  JPKI_PIN_TEXT},
	{JPKI_APP_TEXT, JPKI_EF_TEXT_PIN,   EF_PIN,   JPKI_PIN_TEXT,    -1},
	{JPKI_APP_JUKI, JPKI_EF_JUKI_PIN,   EF_PIN,   JPKI_PIN_JUKI,    -1},
};
/* clang-format on */
const size_t jpkii_n_efs = sizeof jpkii_efs / sizeof jpkii_efs[0];

/* EF 0006: the label, padded with spaces as clients trim it. */
static const uint8_t token_info[32] = "JPKIAPICCTOKEN2                 ";

static const char issuer_context[] = JPKII_ISSUER_CONTEXT;

const uint8_t jpkii_pubkey_head[9] = {0x7F, 0x49, 0x82, 0x01, 0x09,
				      0x81, 0x82, 0x01, 0x00};

const struct jpkii_ef *jpkii_ef_of(int type, int ref)
{
	for (size_t i = 0; i < jpkii_n_efs; i++)
		if (jpkii_efs[i].type == type && jpkii_efs[i].ref == ref)
			return &jpkii_efs[i];
	return NULL;
}

/* ---- PINs ---- */

jpki_err jpkii_pin_hash(const struct jpkii_pin *p, const uint8_t *pin, size_t len,
			uint8_t out[32])
{
	return PKCS5_PBKDF2_HMAC((const char *)pin, (int)len, p->salt, sizeof p->salt,
				 (int)p->iter, EVP_sha256(), 32, out) == 1
		   ? JPKI_OK
		   : JPKI_ERR_CRYPTO;
}

jpki_err jpkii_pin_set(struct jpkii_pin *p, const char *pin, size_t len)
{
	if (RAND_bytes(p->salt, sizeof p->salt) != 1 ||
	    jpkii_pin_hash(p, (const uint8_t *)pin, len, p->hash) != JPKI_OK)
		return JPKI_ERR_CRYPTO;
	p->set = true;
	p->tries = p->max;
	return JPKI_OK;
}

/* A new PIN as it must be stored: valid for its kind and already in the
 * normalized form (clients upper-case the signing PIN). */
static bool pin_acceptable(int kind, const uint8_t *pin, size_t len)
{
	char norm[JPKI_PIN_MAX_LEN + 1];
	bool ok = len <= JPKI_PIN_MAX_LEN && memchr(pin, 0, len) == NULL &&
		  jpki_pin_check(kind, (const char *)pin, len, norm) == JPKI_PIN_OK &&
		  memcmp(norm, pin, len) == 0;
	explicit_bzero(norm, sizeof norm);
	return ok;
}

/* ---- session ---- */

static void drop_pending(struct jpki_card *c)
{
	if (c->pending) {
		OPENSSL_cleanse(c->pending, c->pending_len);
		free(c->pending);
	}
	c->pending = NULL;
	c->pending_len = 0;
}

void jpki_card_reset(struct jpki_card *c)
{
	c->app = JPKI_APP_NONE;
	c->ef = -1;
	memset(c->verified, 0, sizeof c->verified);
	c->issuer = false;
	OPENSSL_cleanse(c->chal, sizeof c->chal);
	c->chal_len = 0;
	drop_pending(c);
}

/* ---- parsing ---- */

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	size_t ne; /* 0: no Le */
};

static bool parse(const uint8_t *b, size_t n, struct apdu *a)
{
	*a = (struct apdu){0};
	if (n < 4)
		return false;
	a->cla = b[0];
	a->ins = b[1];
	a->p1 = b[2];
	a->p2 = b[3];
	if (n == 4)
		return true;
	if (n == 5) {
		a->ne = b[4] ? b[4] : 256;
		return true;
	}
	if (b[4] != 0) { /* short, with data */
		a->lc = b[4];
		a->data = b + 5;
		if (n == 5 + a->lc)
			return true;
		if (n == 6 + a->lc) {
			a->ne = b[5 + a->lc] ? b[5 + a->lc] : 256;
			return true;
		}
		return false;
	}
	if (n < 7)
		return false;
	size_t x = (size_t)b[5] << 8 | b[6];
	if (n == 7) { /* extended Le only */
		a->ne = x ? x : 65536;
		return true;
	}
	if (x == 0)
		return false;
	a->lc = x;
	a->data = b + 7;
	if (n == 7 + x)
		return true;
	if (n == 9 + x) {
		size_t le = (size_t)b[7 + x] << 8 | b[8 + x];
		a->ne = le ? le : 65536;
		return true;
	}
	return false;
}

/* ---- helpers ---- */

struct reply {
	const uint8_t *data;
	size_t len;
};

static const struct jpkii_ef *cur(const struct jpki_card *c)
{
	return c->ef >= 0 ? &jpkii_efs[c->ef] : NULL;
}

/* Writes the card after a change; on failure the caller undoes it. */
static bool persist(struct jpki_card *c)
{
	return jpkii_card_save(c, NULL) == JPKI_OK;
}

const uint8_t *jpkii_aid_of(int app)
{
	switch (app) {
	case JPKI_APP_JPKI:
		return jpki_aid_jpki;
	case JPKI_APP_TEXT:
		return jpki_aid_text;
	case JPKI_APP_JUKI:
		return jpki_aid_juki;
	}
	return NULL;
}

/* The current EF's `ref` (PIN kind, key or data slot) when it is of the
 * type a command works on, or the status word why not. */
static uint16_t cur_ref(const struct jpki_card *c, int type, int *ref)
{
	const struct jpkii_ef *e = cur(c);
	if (e == NULL)
		return JPKI_SW_NO_CURRENT_EF;
	if (e->type != type)
		return JPKI_SW_NO_EF_STRUCT;
	*ref = e->ref;
	return JPKI_SW_OK;
}

/* ---- SELECT ---- */

static uint16_t cmd_select(struct jpki_card *c, const struct apdu *a)
{
	if (a->p2 != 0x0C && a->p2 != 0x00)
		return JPKI_SW_BAD_P1P2;
	if (a->p1 == 0x04) {
		if (a->lc == 0)
			return JPKI_SW_WRONG_LENGTH;
		for (int app = JPKI_APP_JPKI; app <= JPKI_APP_JUKI; app++) {
			if (a->lc == 10 &&
			    memcmp(a->data, jpkii_aid_of(app), 10) == 0) {
				c->app = (uint8_t)app;
				c->ef = -1;
				memset(c->verified, 0, sizeof c->verified);
				return JPKI_SW_OK;
			}
		}
		return JPKI_SW_NOT_FOUND;
	}
	if (a->p1 == 0x02) {
		if (a->lc != 2)
			return JPKI_SW_WRONG_LENGTH;
		uint16_t fid = (uint16_t)(a->data[0] << 8 | a->data[1]);
		for (size_t i = 0; i < jpkii_n_efs; i++) {
			const struct jpkii_ef *e = &jpkii_efs[i];
			if (e->app != c->app || e->fid != fid)
				continue;
			/* An empty data EF does not exist for a reader. */
			if (e->type == EF_DATA && c->slot[e->ref].len == 0 &&
			    !c->issuer)
				return JPKI_SW_NOT_FOUND;
			c->ef = (int)i;
			return JPKI_SW_OK;
		}
		return JPKI_SW_NOT_FOUND;
	}
	return JPKI_SW_BAD_P1P2;
}

/* ---- READ BINARY ---- */

static uint16_t cmd_read(struct jpki_card *c, const struct apdu *a, struct reply *r)
{
	if (a->p1 & 0x80)
		return JPKI_SW_BAD_P1P2;
	const struct jpkii_ef *e = cur(c);
	if (e == NULL)
		return JPKI_SW_NO_CURRENT_EF;
	if (e->type == EF_PIN || e->type == EF_KEY)
		return JPKI_SW_NO_EF_STRUCT;
	if (e->pin >= 0 && !c->verified[e->pin])
		return JPKI_SW_SECURITY;
	if (a->lc != 0 || a->ne == 0)
		return JPKI_SW_WRONG_LENGTH;
	const uint8_t *d;
	size_t n;
	if (e->type == EF_FIXED) {
		d = token_info;
		n = sizeof token_info;
	} else {
		d = c->slot[e->ref].data;
		n = c->slot[e->ref].len;
	}
	size_t off = (size_t)a->p1 << 8 | a->p2;
	if (off >= n)
		return JPKI_SW_OFFSET;
	r->data = d + off;
	if (n - off < a->ne) {
		r->len = n - off;
		return JPKI_SW_EOF;
	}
	r->len = a->ne;
	return JPKI_SW_OK;
}

/* ---- VERIFY ---- */

static uint16_t cmd_verify(struct jpki_card *c, const struct apdu *a)
{
	int k;
	uint16_t sw;
	if (a->p1 != 0x00 || a->p2 != 0x80)
		return JPKI_SW_BAD_P1P2;
	if ((sw = cur_ref(c, EF_PIN, &k)) != JPKI_SW_OK)
		return sw;
	struct jpkii_pin *p = &c->pin[k];
	if (a->lc == 0) /* the status query */
		return (uint16_t)(JPKI_SW_TRIES | (p->set ? p->tries : 0));
	if (a->lc > JPKI_PIN_MAX_LEN)
		return JPKI_SW_WRONG_LENGTH;
	if (!p->set)
		return JPKI_SW_REF_UNUSABLE;
	if (p->tries == 0)
		return JPKI_SW_BLOCKED;
	c->verified[k] = false;
	/* Count the try on disk before comparing. */
	uint8_t counted = --p->tries;
	if (!persist(c)) {
		p->tries++;
		return JPKI_SW_MEMORY;
	}
	uint8_t h[32];
	if (jpkii_pin_hash(p, a->data, a->lc, h) != JPKI_OK)
		return JPKI_SW_MEMORY;
	bool right = CRYPTO_memcmp(h, p->hash, sizeof h) == 0;
	OPENSSL_cleanse(h, sizeof h);
	if (!right)
		return (uint16_t)(JPKI_SW_TRIES | p->tries);
	p->tries = p->max;
	if (!persist(c)) {
		p->tries = counted; /* what the file says */
		return JPKI_SW_MEMORY;
	}
	c->verified[k] = true;
	return JPKI_SW_OK;
}

/* ---- CHANGE REFERENCE DATA, RESET RETRY COUNTER ---- */

static uint16_t cmd_change(struct jpki_card *c, const struct apdu *a)
{
	int k;
	uint16_t sw;
	if (a->p1 != 0x01 || a->p2 != 0x80)
		return JPKI_SW_BAD_P1P2;
	if ((sw = cur_ref(c, EF_PIN, &k)) != JPKI_SW_OK)
		return sw;
	struct jpkii_pin *p = &c->pin[k];
	if (!p->set)
		return JPKI_SW_REF_UNUSABLE;
	if (p->tries == 0)
		return JPKI_SW_BLOCKED;
	if (!c->verified[k])
		return JPKI_SW_SECURITY;
	if (a->lc == 0)
		return JPKI_SW_WRONG_LENGTH;
	if (!pin_acceptable(k, a->data, a->lc))
		return JPKI_SW_WRONG_DATA;
	struct jpkii_pin old = *p;
	if (jpkii_pin_set(p, (const char *)a->data, a->lc) != JPKI_OK || !persist(c)) {
		*p = old;
		OPENSSL_cleanse(&old, sizeof old);
		return JPKI_SW_MEMORY;
	}
	OPENSSL_cleanse(&old, sizeof old);
	return JPKI_SW_OK;
}

static uint16_t cmd_reset_counter(struct jpki_card *c, const struct apdu *a)
{
	int k;
	uint16_t sw;
	if ((a->p1 != 0x02 && a->p1 != 0x03) || a->p2 != 0x80)
		return JPKI_SW_BAD_P1P2;
	if (!c->issuer)
		return JPKI_SW_SECURITY;
	if ((sw = cur_ref(c, EF_PIN, &k)) != JPKI_SW_OK)
		return sw;
	struct jpkii_pin *p = &c->pin[k];
	struct jpkii_pin old = *p;
	if (a->p1 == 0x03) {
		if (a->lc != 0)
			return JPKI_SW_WRONG_LENGTH;
		if (!p->set)
			return JPKI_SW_REF_UNUSABLE;
		p->tries = p->max;
	} else {
		if (a->lc == 0)
			return JPKI_SW_WRONG_LENGTH;
		if (!pin_acceptable(k, a->data, a->lc))
			return JPKI_SW_WRONG_DATA;
		if (jpkii_pin_set(p, (const char *)a->data, a->lc) != JPKI_OK) {
			*p = old;
			return JPKI_SW_MEMORY;
		}
	}
	if (!persist(c)) {
		*p = old;
		OPENSSL_cleanse(&old, sizeof old);
		return JPKI_SW_MEMORY;
	}
	OPENSSL_cleanse(&old, sizeof old);
	c->verified[k] = false;
	return JPKI_SW_OK;
}

/* ---- COMPUTE DIGITAL SIGNATURE ---- */

static EVP_PKEY_CTX *sign_ctx(struct jpki_card *c, int k)
{
	if (c->sign_ctx[k] == NULL) {
		EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(c->key[k], NULL);
		if (x == NULL || EVP_PKEY_sign_init(x) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_PADDING) <= 0) {
			EVP_PKEY_CTX_free(x);
			return NULL;
		}
		c->sign_ctx[k] = x;
	}
	return c->sign_ctx[k];
}

static uint16_t cmd_sign(struct jpki_card *c, const struct apdu *a, struct reply *r)
{
	int k;
	uint16_t sw;
	if (a->p1 != 0x00 || a->p2 != 0x80)
		return JPKI_SW_BAD_P1P2;
	if ((sw = cur_ref(c, EF_KEY, &k)) != JPKI_SW_OK)
		return sw;
	if (c->key[k] == NULL)
		return JPKI_SW_REF_NOT_FOUND;
	if (!c->verified[cur(c)->pin])
		return JPKI_SW_SECURITY;
	if (a->lc == 0 || a->lc > 256 - 11)
		return JPKI_SW_WRONG_LENGTH;
	EVP_PKEY_CTX *x = sign_ctx(c, k);
	size_t n = 256;
	if (x == NULL || EVP_PKEY_sign(x, c->scratch, &n, a->data, a->lc) <= 0)
		return JPKI_SW_MEMORY;
	r->data = c->scratch;
	r->len = n;
	return JPKI_SW_OK;
}

/* ---- issuer authentication ---- */

static uint16_t cmd_challenge(struct jpki_card *c, const struct apdu *a,
			      struct reply *r)
{
	if (a->p1 != 0 || a->p2 != 0)
		return JPKI_SW_BAD_P1P2;
	if (a->lc != 0 || a->ne == 0 || a->ne > sizeof c->chal)
		return JPKI_SW_WRONG_LENGTH;
	if (RAND_bytes(c->chal, (int)a->ne) != 1)
		return JPKI_SW_MEMORY;
	c->chal_len = a->ne;
	r->data = c->chal;
	r->len = a->ne;
	return JPKI_SW_OK;
}

static uint16_t cmd_external_auth(struct jpki_card *c, const struct apdu *a)
{
	if (a->p1 != 0 || a->p2 != 0)
		return JPKI_SW_BAD_P1P2;
	if (c->chal_len < 16)
		return JPKI_SW_CONDITIONS;
	/* One try per challenge, whatever the try looks like; a failed try
	 * also ends an earlier authentication. */
	uint8_t msg[sizeof issuer_context - 1 + sizeof c->chal];
	size_t mlen = sizeof issuer_context - 1 + c->chal_len;
	memcpy(msg, issuer_context, sizeof issuer_context - 1);
	memcpy(msg + sizeof issuer_context - 1, c->chal, c->chal_len);
	OPENSSL_cleanse(c->chal, sizeof c->chal);
	c->chal_len = 0;
	c->issuer = false;
	if (a->lc != 64)
		return JPKI_SW_WRONG_LENGTH;
	EVP_PKEY *pk =
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, c->issuer_pub, 32);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	bool ok = pk && m && EVP_DigestVerifyInit(m, NULL, NULL, NULL, pk) == 1 &&
		  EVP_DigestVerify(m, a->data, 64, msg, mlen) == 1;
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(pk);
	if (!ok)
		return JPKI_SW_AUTH_FAILED;
	c->issuer = true;
	return JPKI_SW_OK;
}

/* ---- GENERATE ASYMMETRIC KEY PAIR ---- */

/* The key's public template (jpkii_pubkey_head). */
static uint16_t public_template(EVP_PKEY *k, uint8_t *out, size_t *len)
{
	BIGNUM *n = NULL, *e = NULL;
	uint16_t sw = JPKI_SW_MEMORY;
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	    BN_num_bytes(n) != 256 || BN_num_bytes(e) > 3)
		goto out;
	const size_t h = sizeof jpkii_pubkey_head;
	memcpy(out, jpkii_pubkey_head, h);
	BN_bn2binpad(n, out + h, 256);
	out[h + 256] = 0x82;
	out[h + 257] = 0x03;
	BN_bn2binpad(e, out + h + 258, 3);
	*len = JPKII_PUBKEY_LEN;
	sw = JPKI_SW_OK;
out:
	BN_free(n);
	BN_free(e);
	return sw;
}

static uint16_t cmd_generate(struct jpki_card *c, const struct apdu *a, struct reply *r)
{
	int k;
	uint16_t sw;
	if ((a->p1 != 0x80 && a->p1 != 0x81) || a->p2 != 0)
		return JPKI_SW_BAD_P1P2;
	if (a->p1 == 0x80 && !c->issuer)
		return JPKI_SW_SECURITY;
	if ((sw = cur_ref(c, EF_KEY, &k)) != JPKI_SW_OK)
		return sw;
	if (a->lc != 0)
		return JPKI_SW_WRONG_LENGTH;
	if (a->p1 == 0x81) {
		if (c->key[k] == NULL)
			return JPKI_SW_REF_NOT_FOUND;
	} else {
		EVP_PKEY *nk = EVP_RSA_gen(2048);
		if (nk == NULL)
			return JPKI_SW_MEMORY;
		int slot = k == JPKI_KEY_SIGN ? SLOT_SIGN_CERT : SLOT_AUTH_CERT;
		EVP_PKEY *old = c->key[k];
		struct jpkii_buf old_cert = c->slot[slot];
		c->key[k] = nk;
		c->slot[slot] = (struct jpkii_buf){0};
		if (!persist(c)) {
			c->key[k] = old;
			c->slot[slot] = old_cert;
			EVP_PKEY_free(nk);
			return JPKI_SW_MEMORY;
		}
		EVP_PKEY_free(old);
		free(old_cert.data);
		EVP_PKEY_CTX_free(c->sign_ctx[k]);
		c->sign_ctx[k] = NULL;
	}
	size_t n;
	if ((sw = public_template(c->key[k], c->scratch, &n)) != JPKI_SW_OK)
		return sw;
	r->data = c->scratch;
	r->len = n;
	return JPKI_SW_OK;
}

jpki_err jpki_card_demo_set_key(struct jpki_card *c, enum jpki_card_key k, void *pkey)
{
	EVP_PKEY *nk = pkey;
	if (c->path != NULL)
		return JPKI_ERR_REFUSED;
	if ((k != JPKI_KEY_SIGN && k != JPKI_KEY_AUTH) || nk == NULL ||
	    EVP_PKEY_get_base_id(nk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(nk) != 2048)
		return JPKI_ERR_INVALID;
	if (!EVP_PKEY_up_ref(nk))
		return JPKI_ERR_CRYPTO;
	int slot = k == JPKI_KEY_SIGN ? SLOT_SIGN_CERT : SLOT_AUTH_CERT;
	EVP_PKEY_free(c->key[k]);
	c->key[k] = nk;
	free(c->slot[slot].data);
	c->slot[slot] = (struct jpkii_buf){0};
	EVP_PKEY_CTX_free(c->sign_ctx[k]);
	c->sign_ctx[k] = NULL;
	return JPKI_OK;
}

/* ---- ERASE BINARY, UPDATE BINARY ---- */

static uint16_t writable_slot(const struct jpki_card *c, int *slot)
{
	return c->issuer ? cur_ref(c, EF_DATA, slot) : JPKI_SW_SECURITY;
}

static uint16_t cmd_erase(struct jpki_card *c, const struct apdu *a)
{
	int s;
	uint16_t sw;
	if (a->p1 != 0 || a->p2 != 0)
		return JPKI_SW_BAD_P1P2;
	if ((sw = writable_slot(c, &s)) != JPKI_SW_OK)
		return sw;
	if (a->lc != 0)
		return JPKI_SW_WRONG_LENGTH;
	struct jpkii_buf old = c->slot[s];
	c->slot[s] = (struct jpkii_buf){0};
	if (!persist(c)) {
		c->slot[s] = old;
		return JPKI_SW_MEMORY;
	}
	free(old.data);
	return JPKI_SW_OK;
}

static uint16_t cmd_update(struct jpki_card *c, const struct apdu *a)
{
	int s;
	uint16_t sw;
	if (a->p1 & 0x80)
		return JPKI_SW_BAD_P1P2;
	if ((sw = writable_slot(c, &s)) != JPKI_SW_OK)
		return sw;
	if (a->lc == 0)
		return JPKI_SW_WRONG_LENGTH;
	size_t off = (size_t)a->p1 << 8 | a->p2;
	struct jpkii_buf old = c->slot[s];
	if (off > old.len)
		return JPKI_SW_OFFSET;
	if (off + a->lc > JPKI_CARD_EF_MAX)
		return JPKI_SW_NO_SPACE;
	size_t n = off + a->lc > old.len ? off + a->lc : old.len;
	uint8_t *d = malloc(n);
	if (d == NULL)
		return JPKI_SW_MEMORY;
	if (old.len)
		memcpy(d, old.data, old.len);
	memcpy(d + off, a->data, a->lc);
	c->slot[s] = (struct jpkii_buf){d, n};
	if (!persist(c)) {
		c->slot[s] = old;
		free(d);
		return JPKI_SW_MEMORY;
	}
	free(old.data);
	return JPKI_SW_OK;
}

/* ---- dispatch ---- */

static size_t finish(struct jpki_card *c, const struct apdu *a, struct reply r,
		     uint16_t sw, uint8_t *resp, size_t cap)
{
	size_t room = cap - 2;
	size_t ne = a->ne < room ? a->ne : room;
	if (r.len > ne) {
		/* Keep the rest for GET RESPONSE (ISO 7816-4 5.3.4). */
		uint8_t *rest = malloc(r.len - ne);
		if (rest == NULL) {
			sw = JPKI_SW_MEMORY;
			r.len = 0;
		} else {
			memcpy(rest, r.data + ne, r.len - ne);
			size_t left = r.len - ne;
			drop_pending(c);
			c->pending = rest;
			c->pending_len = left;
			r.len = ne;
			sw = (uint16_t)(0x6100 | (left > 255 ? 0 : left));
		}
	}
	if (r.len)
		memmove(resp, r.data, r.len);
	resp[r.len] = (uint8_t)(sw >> 8);
	resp[r.len + 1] = (uint8_t)sw;
	return r.len + 2;
}

size_t jpki_card_apdu(struct jpki_card *c, const uint8_t *cmd, size_t len,
		      uint8_t *resp, size_t cap)
{
	struct apdu a;
	struct reply r = {0};
	uint16_t sw;
	if (cap < 2)
		return 0;
	if (!parse(cmd, len, &a)) {
		drop_pending(c);
		struct apdu none = {0};
		return finish(c, &none, r, JPKI_SW_WRONG_LENGTH, resp, cap);
	}
	if (a.cla != 0x00 && a.cla != 0x80) {
		drop_pending(c);
		return finish(c, &a, r, JPKI_SW_BAD_CLA, resp, cap);
	}
	if (a.ins == 0xC0) { /* GET RESPONSE */
		if (a.p1 != 0 || a.p2 != 0)
			sw = JPKI_SW_BAD_P1P2;
		else if (c->pending == NULL)
			sw = JPKI_SW_CONDITIONS;
		else if (a.lc != 0 || a.ne == 0)
			sw = JPKI_SW_WRONG_LENGTH;
		else {
			/* Hand over the pending bytes, then re-chunk them. */
			uint8_t *p = c->pending;
			size_t n = c->pending_len;
			c->pending = NULL;
			c->pending_len = 0;
			r.data = p;
			r.len = n;
			size_t out = finish(c, &a, r, JPKI_SW_OK, resp, cap);
			OPENSSL_cleanse(p, n);
			free(p);
			return out;
		}
		drop_pending(c);
		return finish(c, &a, r, sw, resp, cap);
	}
	drop_pending(c);
	switch (a.ins) {
	case 0xA4:
		sw = cmd_select(c, &a);
		break;
	case 0xB0:
		sw = cmd_read(c, &a, &r);
		break;
	case 0x20:
		sw = cmd_verify(c, &a);
		break;
	case 0x24:
		sw = cmd_change(c, &a);
		break;
	case 0x2C:
		sw = cmd_reset_counter(c, &a);
		break;
	case 0x2A:
		sw = cmd_sign(c, &a, &r);
		break;
	case 0x84:
		sw = cmd_challenge(c, &a, &r);
		break;
	case 0x82:
		sw = cmd_external_auth(c, &a);
		break;
	case 0x47:
		sw = cmd_generate(c, &a, &r);
		break;
	case 0x0E:
		sw = cmd_erase(c, &a);
		break;
	case 0xD6:
		sw = cmd_update(c, &a);
		break;
	default:
		sw = JPKI_SW_BAD_INS;
	}
	if (sw != JPKI_SW_OK && sw != JPKI_SW_EOF)
		r.len = 0;
	return finish(c, &a, r, sw, resp, cap);
}

/* ---- what the card shows without a PIN ---- */

void jpki_card_info(const struct jpki_card *c, struct jpki_card_info *out)
{
	static const char hex[] = "0123456789abcdef";
	*out = (struct jpki_card_info){0};
	for (int i = 0; i < 16; i++) {
		out->serial[2 * i] = hex[c->serial[i] >> 4];
		out->serial[2 * i + 1] = hex[c->serial[i] & 15];
	}
	memcpy(out->municipality, c->muni, 7);
	out->created = c->created;
	for (int k = 0; k < 2; k++)
		out->has_key[k] = c->key[k] != NULL;
	for (int k = 0; k < 4; k++) {
		const struct jpkii_pin *p = &c->pin[k];
		out->pin[k].set = p->set;
		out->pin[k].max_tries = p->max;
		out->pin[k].tries_left = p->set ? p->tries : 0;
		out->pin[k].blocked = p->set && p->tries == 0;
	}
}

const uint8_t *jpki_card_ef(const struct jpki_card *c, enum jpki_card_app app,
			    uint16_t fid, size_t *len)
{
	*len = 0;
	for (size_t i = 0; i < jpkii_n_efs; i++) {
		const struct jpkii_ef *e = &jpkii_efs[i];
		if (e->app == app && e->fid == fid && e->type == EF_DATA) {
			*len = c->slot[e->ref].len;
			return c->slot[e->ref].len ? c->slot[e->ref].data : NULL;
		}
	}
	return NULL;
}

const uint8_t *jpki_card_issuer_pub(const struct jpki_card *c)
{
	return c->issuer_pub;
}

/* ---- names ---- */

static const char *const pin_names[4] = {"sign", "auth", "juki", "text"};

int jpki_pin_kind_parse(const char *s)
{
	for (int k = 0; k < 4; k++)
		if (s && strcmp(s, pin_names[k]) == 0)
			return k;
	return -1;
}

const char *jpki_pin_kind_name(enum jpki_pin_kind k)
{
	return (unsigned)k < 4 ? pin_names[k] : "?";
}

/* ---- 券面事項 (BER-TLV) ---- */

static void put_len(uint8_t *p, size_t *off, size_t n)
{
	if (n < 128) {
		p[(*off)++] = (uint8_t)n;
	} else if (n < 256) {
		p[(*off)++] = 0x81;
		p[(*off)++] = (uint8_t)n;
	} else {
		p[(*off)++] = 0x82;
		p[(*off)++] = (uint8_t)(n >> 8);
		p[(*off)++] = (uint8_t)n;
	}
}

static size_t tlv_size(size_t n)
{
	return 2 + (n < 128 ? 1 : n < 256 ? 2 : 3) + n;
}

jpki_err jpki_card_attrs_encode(const char *name, const char *address, jpki_day birth,
				int sex, uint8_t **out, size_t *len)
{
	char bd[9];
	int y, m, d;
	if (name == NULL || address == NULL || sex < 1 || sex > 3 ||
	    !jpki_day_in_range(birth))
		return JPKI_ERR_INVALID;
	jpki_day_to_ymd(birth, &y, &m, &d);
	snprintf(bd, sizeof bd, "%04d%02d%02d", y, m, d);
	char sx[2] = {(char)('0' + sex), 0};
	const char *v[4] = {name, address, bd, sx};
	size_t body = 0;
	for (int i = 0; i < 4; i++)
		body += tlv_size(strlen(v[i]));
	if (body > JPKI_CARD_EF_MAX - 8)
		return JPKI_ERR_RANGE;
	uint8_t *p = malloc(tlv_size(body));
	if (p == NULL)
		return JPKI_ERR_NOMEM;
	size_t off = 0;
	p[off++] = 0xFF;
	p[off++] = 0x20;
	put_len(p, &off, body);
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(v[i]);
		p[off++] = 0xDF;
		p[off++] = (uint8_t)(0x22 + i);
		put_len(p, &off, n);
		memcpy(p + off, v[i], n);
		off += n;
	}
	*out = p;
	*len = off;
	return JPKI_OK;
}
