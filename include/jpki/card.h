/* openjpki — the virtual My Number card (DOMAIN §3, §9).
 *
 * A card is one file: the chip's memory. It holds the JPKI AP, the
 * 券面事項入力補助AP and the 住基AP with their elementary files, the four
 * PIN objects (salted PBKDF2 hashes and persistent retry counters), the two
 * RSA-2048 key pairs generated inside the card, and the public key of the
 * municipality's card issuer. Nothing in this API, nor any APDU, returns a
 * private key or a PIN.
 *
 * The card is driven only through ISO 7816-4 APDUs (jpki_card_apdu), as a
 * real chip is: by the vpcd bridge for PC/SC clients, and by the terminal
 * functions below (jpki_term_*) for the jpki command. Issuer operations
 * (key generation, writing files, resetting PINs) need issuer
 * authentication: GET CHALLENGE, then EXTERNAL AUTHENTICATE with an Ed25519
 * signature by the card-issuer key of the card's municipality.
 *
 * docs/internals/card.md documents the file format, every APDU and status
 * word, and how the virtual card differs from a real chip.
 */
#ifndef JPKI_CARD_H
#define JPKI_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"
#include "jpki/err.h"
#include "jpki/pin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants of the wire (DOMAIN §9) ---- */

#define JPKI_CARD_ATR_LEN 9
extern const uint8_t jpki_card_atr[JPKI_CARD_ATR_LEN]; /* 3B E0 00 FF 81 31 FE 45 14 */

extern const uint8_t jpki_aid_jpki[10]; /* D3 92 F0 00 26 01 00 00 00 01 */
extern const uint8_t
    jpki_aid_text[10]; /* D3 92 10 00 31 00 01 01 04 08 券面事項入力補助AP */
extern const uint8_t jpki_aid_juki[10]; /* D3 92 10 00 31 00 01 01 04 01 住基AP */

enum jpki_card_app {
	JPKI_APP_NONE = 0,
	JPKI_APP_JPKI = 1,
	JPKI_APP_TEXT = 2,
	JPKI_APP_JUKI = 3,
};

/* Elementary files (FIDs). JPKI AP: */
#define JPKI_EF_SIGN_CERT  0x0001 /* read needs the signing PIN */
#define JPKI_EF_SIGN_CA	   0x0002
#define JPKI_EF_TOKEN_INFO 0x0006 /* "JPKIAPICCTOKEN2" */
#define JPKI_EF_AUTH_CERT  0x000A
#define JPKI_EF_AUTH_CA	   0x000B
#define JPKI_EF_AUTH_KEY   0x0017
#define JPKI_EF_AUTH_PIN   0x0018
#define JPKI_EF_SIGN_KEY   0x001A
#define JPKI_EF_SIGN_PIN   0x001B
/* 券面事項入力補助AP: */
#define JPKI_EF_TEXT_NUMBER 0x0001 /* 個人番号, 12 digits (read needs its PIN) */
#define JPKI_EF_TEXT_ATTRS                                                             \
	0x0002 /* BER-TLV FF20 {DF22 name, DF23 address,                               \
		  DF24 birth YYYYMMDD, DF25 sex} (needs its PIN) */
#define JPKI_EF_TEXT_PIN 0x0011
/* 住基AP: */
#define JPKI_EF_JUKI_PIN 0x001C

/* Status words. */
enum {
	JPKI_SW_OK = 0x9000,
	JPKI_SW_EOF = 0x6282,	      /* end of file before Le bytes */
	JPKI_SW_AUTH_FAILED = 0x6300, /* EXTERNAL AUTHENTICATE failed */
	JPKI_SW_TRIES = 0x63C0,	      /* | tries left */
	JPKI_SW_MEMORY = 0x6581,      /* the card file could not be written */
	JPKI_SW_WRONG_LENGTH = 0x6700,
	JPKI_SW_NO_EF_STRUCT = 0x6981, /* command incompatible with the file */
	JPKI_SW_SECURITY = 0x6982,     /* security status not satisfied */
	JPKI_SW_BLOCKED = 0x6983,      /* authentication method blocked */
	JPKI_SW_REF_UNUSABLE = 0x6984, /* reference data not usable (PIN not set) */
	JPKI_SW_CONDITIONS = 0x6985,   /* conditions of use not satisfied */
	JPKI_SW_NO_CURRENT_EF = 0x6986,
	JPKI_SW_WRONG_DATA = 0x6A80,
	JPKI_SW_NOT_FOUND = 0x6A82,
	JPKI_SW_NO_SPACE = 0x6A84,
	JPKI_SW_BAD_P1P2 = 0x6A86,
	JPKI_SW_REF_NOT_FOUND = 0x6A88, /* no key generated yet */
	JPKI_SW_OFFSET = 0x6B00,	/* offset outside the EF */
	JPKI_SW_BAD_INS = 0x6D00,
	JPKI_SW_BAD_CLA = 0x6E00,
};

/* The two key pairs (and the certificates that go with them). */
enum jpki_card_key {
	JPKI_KEY_SIGN = 0, /* EF 001A, certificate EF 0001, signing PIN */
	JPKI_KEY_AUTH = 1, /* EF 0017, certificate EF 000A, auth PIN */
};

/* Capacity of a data EF (a certificate is about 1.2 KB). */
#define JPKI_CARD_EF_MAX 4096

/* ---- the card ---- */

struct jpki_card;

/* What a new card is made with. PINs are in the format of
 * jpki_pin_check (the signing PIN already upper-cased); a NULL sign PIN
 * leaves the signing PIN unset (a card without a signing certificate).
 * The holder fields may all be NULL: the 券面事項 EFs stay empty. */
struct jpki_card_init {
	const char *pin[4];			  /* indexed by enum jpki_pin_kind */
	const uint8_t *issuer_pub;		  /* 32-byte Ed25519 public key */
	const char *municipality;		  /* 6 digits: whose issuer key */
	const char *holder_name, *holder_address; /* UTF-8 */
	jpki_day holder_birth;			  /* JPKI_DAY_NONE if absent */
	int holder_sex;				  /* 1, 2, 3; 0 if absent */
	const char *holder_number;		  /* 12 digits or NULL */
	int64_t now;
	unsigned pbkdf2_iterations; /* 0: the default (JPKI_CARD_PBKDF2_ITER) */
};
#define JPKI_CARD_PBKDF2_ITER 20000u
#define JPKI_CARD_PBKDF2_MAX  1000000u /* a card file asking for more is refused */

/* Creates a card file (mode 0600, refusing an existing path:
 * JPKI_ERR_CONFLICT), with no key pairs yet. When out is non-NULL the
 * card is also opened (as jpki_card_open with lock). */
jpki_err jpki_card_create(const char *path, const struct jpki_card_init *init,
			  struct jpki_card **out, struct jpki_errbuf *eb);

/* The same card held only in memory (tests, fuzzing, benchmarks): every
 * state change is kept but nothing is written. */
jpki_err jpki_card_create_memory(const struct jpki_card_init *init,
				 struct jpki_card **out, struct jpki_errbuf *eb);

/* Writes a card held in memory to a new file (mode 0600, refusing an
 * existing path: JPKI_ERR_CONFLICT), fsync'd when sync. The card stays in
 * memory. */
jpki_err jpki_card_save_as(const struct jpki_card *c, const char *path, bool sync,
			   struct jpki_errbuf *eb);

/* Demo seeding only (jpki demo seed, bench/): puts a key pair from a pool
 * (an RSA-2048 EVP_PKEY *, a reference is taken) on a card held in memory
 * instead of generating it there, and empties the key's certificate EF.
 * JPKI_ERR_REFUSED for a card backed by a file: a real card's keys are
 * born on it. */
jpki_err jpki_card_demo_set_key(struct jpki_card *c, enum jpki_card_key k, void *pkey);

/* Opens a card file. With lock, the process holds an exclusive lock on it
 * until jpki_card_close (a card is in one reader at a time): another
 * holder makes this JPKI_ERR_CONFLICT at once. Without lock the card is
 * read-only: any APDU that changes state answers 6581. A file that is not
 * a card, is damaged (checksum) or has a newer version is
 * JPKI_ERR_INVALID with the reason. */
jpki_err jpki_card_open(const char *path, bool lock, struct jpki_card **out,
			struct jpki_errbuf *eb);
void jpki_card_close(struct jpki_card *c);

/* Power on, reset or off: the session state (selected application and
 * file, verified PINs, issuer authentication, challenge) is cleared. */
void jpki_card_reset(struct jpki_card *c);

/* Processes one command APDU (ISO 7816-4 short or extended) and writes
 * the response data and the two status bytes to resp (capacity cap,
 * at least 2; JPKI_CARD_RESP_MAX always suffices). Returns the response
 * length. State changes (PIN counters first of all) are on disk before
 * the response is returned. */
#define JPKI_CARD_RESP_MAX (65536 + 2)
size_t jpki_card_apdu(struct jpki_card *c, const uint8_t *cmd, size_t len,
		      uint8_t *resp, size_t cap);

/* ---- what the card shows without a PIN (status) ---- */

struct jpki_card_pin_state {
	bool set;	/* false: this PIN was never set */
	int tries_left; /* 0 when blocked */
	int max_tries;
	bool blocked;
};

struct jpki_card_info {
	char serial[33]; /* the card's serial, lowercase hex */
	char municipality[7];
	int64_t created;
	bool has_key[2];		   /* by enum jpki_card_key */
	struct jpki_card_pin_state pin[4]; /* by enum jpki_pin_kind */
};
void jpki_card_info(const struct jpki_card *c, struct jpki_card_info *out);

/* The contents of a data EF (certificates and 券面事項 included), for the
 * status report and tests; never a key or PIN EF. NULL/0 when empty. */
const uint8_t *jpki_card_ef(const struct jpki_card *c, enum jpki_card_app app,
			    uint16_t fid, size_t *len);

/* Ed25519 public key of the card issuer (32 bytes). */
const uint8_t *jpki_card_issuer_pub(const struct jpki_card *c);

/* ---- the terminal: high-level operations as sequences of APDUs ---- */

/* A transport for APDUs: in process (jpki_term_local) or any other. Must
 * write the response (data + SW) to resp (capacity cap) and return its
 * length, or 0 on a transport failure. */
typedef size_t (*jpki_transmit_fn)(void *ctx, const uint8_t *cmd, size_t len,
				   uint8_t *resp, size_t cap);

struct jpki_term {
	jpki_transmit_fn transmit;
	void *ctx;
	uint16_t last_sw; /* the status word of the last APDU */
	int app;	  /* the application it selected last (0: unknown);
			     set to 0 after a card reset */
};

/* A terminal talking to a card in this process. */
void jpki_term_local(struct jpki_term *t, struct jpki_card *c);

/* Result of a PIN verification. */
enum jpki_verify_result {
	JPKI_VERIFY_OK = 0,
	JPKI_VERIFY_WRONG,   /* tries_left > 0 remain */
	JPKI_VERIFY_BLOCKED, /* blocked now or before */
	JPKI_VERIFY_UNSET,   /* the PIN was never set */
};

/* Tries left of a PIN (the no-data VERIFY). */
jpki_err jpki_term_pin_status(struct jpki_term *t, enum jpki_pin_kind k,
			      int *tries_left, struct jpki_errbuf *eb);

/* Selects the PIN's application and PIN EF and verifies. The PIN is sent
 * as given (callers normalize with jpki_pin_check first). */
jpki_err jpki_term_verify(struct jpki_term *t, enum jpki_pin_kind k, const char *pin,
			  size_t len, enum jpki_verify_result *res, int *tries_left,
			  struct jpki_errbuf *eb);

/* Signs a DigestInfo with a key (its PIN verified before, in this
 * session). sig needs 256 bytes. */
jpki_err jpki_term_sign(struct jpki_term *t, enum jpki_card_key k,
			const uint8_t *digest_info, size_t len, uint8_t *sig,
			size_t *sig_len, struct jpki_errbuf *eb);

/* Reads a whole data EF of an application (selects both). *out is
 * malloc'd (NULL and 0 for an empty or absent EF). */
jpki_err jpki_term_read_ef(struct jpki_term *t, enum jpki_card_app app, uint16_t fid,
			   uint8_t **out, size_t *len, struct jpki_errbuf *eb);

/* Issuer authentication with the card-issuer private key (an Ed25519
 * EVP_PKEY, passed as void * to keep OpenSSL out of this header). */
jpki_err jpki_term_issuer_auth(struct jpki_term *t, void *issuer_key,
			       struct jpki_errbuf *eb);

/* Issuer operations (after jpki_term_issuer_auth): */
/* Generates a key pair on the card; *spki_der (malloc'd) is the public key
 * as a DER SubjectPublicKeyInfo. The key's certificate EF is emptied. */
jpki_err jpki_term_keygen(struct jpki_term *t, enum jpki_card_key k, uint8_t **spki_der,
			  size_t *len, struct jpki_errbuf *eb);
/* Replaces the contents of a data EF. */
jpki_err jpki_term_write_ef(struct jpki_term *t, enum jpki_card_app app, uint16_t fid,
			    const uint8_t *data, size_t len, struct jpki_errbuf *eb);
/* Sets a new PIN and resets its retry counter (unblocks it); new_pin NULL
 * resets the counter only. */
jpki_err jpki_term_reset_pin(struct jpki_term *t, enum jpki_pin_kind k,
			     const char *new_pin, size_t len, struct jpki_errbuf *eb);

/* Public key of a key pair (no authentication needed), DER SPKI. */
jpki_err jpki_term_pubkey(struct jpki_term *t, enum jpki_card_key k, uint8_t **spki_der,
			  size_t *len, struct jpki_errbuf *eb);

/* ---- the vpcd bridge (vsmartcard's virtual reader) ---- */

/* Connects to vpcd at host:port as the card and answers it until *stop
 * becomes non-zero: power off, on and reset clear the session, an ATR
 * request gets jpki_card_atr, any other frame is an APDU. When the
 * connection drops (pcscd restarted), it reconnects, retrying with
 * backoff. log (may be NULL) gets one line per connection event; APDUs and
 * PINs are never logged. Returns JPKI_OK when stopped, JPKI_ERR_INVALID
 * for a bad host. */
jpki_err jpki_vpcd_serve(struct jpki_card *c, const char *host, int port,
			 volatile int *stop, void (*log)(const char *line),
			 struct jpki_errbuf *eb);

/* ---- helpers ---- */

/* "sign"/"auth"/"juki"/"text" <-> enum jpki_pin_kind; -1 if unknown. */
int jpki_pin_kind_parse(const char *s);
const char *jpki_pin_kind_name(enum jpki_pin_kind k);

/* Builds the 券面事項 BER-TLV (FF20 {DF22, DF23, DF24, DF25}). *out malloc'd. */
jpki_err jpki_card_attrs_encode(const char *name, const char *address, jpki_day birth,
				int sex, uint8_t **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
