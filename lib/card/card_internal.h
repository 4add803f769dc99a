/* lib/card internals shared by its files (prefix jpkii_). */
#ifndef JPKI_CARD_INTERNAL_H
#define JPKI_CARD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "jpki/card.h"

/* Data EFs that hold bytes written by the issuer. */
enum jpkii_slot {
	SLOT_SIGN_CERT = 0,
	SLOT_SIGN_CA,
	SLOT_AUTH_CERT,
	SLOT_AUTH_CA,
	SLOT_TEXT_NUMBER,
	SLOT_TEXT_ATTRS,
	SLOT_N,
};

enum jpkii_ef_type { EF_DATA, EF_PIN, EF_KEY, EF_FIXED };

/* One entry of the file table: which application, what kind of file, and
 * `ref`: the data slot (EF_DATA), PIN kind (EF_PIN) or key (EF_KEY). A
 * data EF's `pin` is the PIN its READ needs (-1: free); a key's, the PIN
 * its signatures need. */
struct jpkii_ef {
	uint8_t app;
	uint16_t fid;
	uint8_t type;
	int8_t ref;
	int8_t pin;
};
extern const struct jpkii_ef jpkii_efs[];
extern const size_t jpkii_n_efs;

struct jpkii_pin {
	bool set;
	uint8_t tries;
	uint8_t max;
	uint32_t iter;
	uint8_t salt[16];
	uint8_t hash[32];
};

struct jpkii_buf {
	uint8_t *data;
	size_t len;
};

struct jpki_card {
	/* The chip's memory (what the file holds). */
	uint8_t serial[16];
	int64_t created;
	uint8_t issuer_pub[32];
	char muni[7];
	struct jpkii_pin pin[4];
	EVP_PKEY *key[2];
	struct jpkii_buf slot[SLOT_N];

	/* Where it lives. */
	char *path;  /* NULL: held in memory only */
	int lock_fd; /* the locked file, -1 without a lock */
	bool writable;

	/* The session (cleared by jpki_card_reset). */
	uint8_t app;
	int ef; /* index into jpkii_efs, -1: none */
	bool verified[4];
	bool issuer;
	uint8_t chal[32];
	size_t chal_len;
	uint8_t *pending; /* response bytes left for GET RESPONSE */
	size_t pending_len;

	EVP_PKEY_CTX *sign_ctx[2]; /* ready for PKCS#1 v1.5 signing */
	uint8_t scratch[512];
};

/* The card's file image (*out malloc'd; wipe it: it holds the keys), and
 * a memory card from an image (tests and fuzzing). */
jpki_err jpkii_card_image(const struct jpki_card *c, uint8_t **out, size_t *len);
jpki_err jpkii_card_from_image(const uint8_t *p, size_t n, struct jpki_card **out,
			       struct jpki_errbuf *eb);

/* What the issuer signs: this context, then the card's challenge. */
#define JPKII_ISSUER_CONTEXT "openjpki-card-issuer-v1"

/* GENERATE ASYMMETRIC KEY PAIR's answer for RSA-2048 (ISO 7816-8):
 * 7F49 82 01 09 { 81 82 01 00 <modulus, 256> 82 03 <exponent, 3> }. This is
 * its head, up to the modulus; the whole template is JPKII_PUBKEY_LEN. */
extern const uint8_t jpkii_pubkey_head[9];
#define JPKII_PUBKEY_LEN (9 + 256 + 2 + 3)

/* The file table entry of a PIN (EF_PIN) or key (EF_KEY), by its kind. */
const struct jpkii_ef *jpkii_ef_of(int type, int ref);

/* The 10-byte AID of an application (enum jpki_card_app), NULL for none. */
const uint8_t *jpkii_aid_of(int app);

/* Writes the card to its file (nothing for a memory card). */
jpki_err jpkii_card_save(struct jpki_card *c, struct jpki_errbuf *eb);

/* PBKDF2-HMAC-SHA256 of a PIN with the object's salt and iterations. */
jpki_err jpkii_pin_hash(const struct jpkii_pin *p, const uint8_t *pin, size_t len,
			uint8_t out[32]);
/* Sets a PIN object to a new PIN (fresh salt, counter at max). */
jpki_err jpkii_pin_set(struct jpkii_pin *p, const char *pin, size_t len);

#endif
