/* openjpki — the registry: residents, their cards and certificates, and
 * the lifecycle that ties them together (DOMAIN §2, §4, §5).
 *
 * Every operation is one store transaction with one audit row of its own
 * (the CA adds its cert.issue and cert.revoke rows in the same
 * transaction), checks the rules of lib/core, and refuses with
 * JPKI_ERR_REFUSED and a reason in English and Japanese when a rule says
 * no. Operations that change a card as well as the store (card issue,
 * renewal, PIN reset) write an intent record first and finish it last; a
 * crash in between leaves the intent open, and jpki_reg_reconcile()
 * completes or rolls it back (docs/internals/registry.md).
 *
 * "Now" is always ctx->now (Unix seconds); days are JST.
 */
#ifndef JPKI_REGISTRY_H
#define JPKI_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"
#include "jpki/err.h"
#include "jpki/pin.h"
#include "jpki/store.h"
#include "jpki/validity.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What an operation runs with. */
struct jpki_reg_ctx {
	struct jpki_store *store;
	const char *keys_dir;	/* CA and card-issuer keys */
	const char *passphrase; /* of the keys; NULL for an unencrypted store */
	const char *actor;	/* audit actor: "jpki", "staff:alice" */
	int64_t now;
	enum jpki_feb29 feb29;
};

/* Why an operation failed, for people: a snake_case code for machines
 * ("not_in_window"), an English line and a Japanese line. Filled on every
 * failure; en is also what a jpki_errbuf would say. */
struct jpki_reg_msg {
	char code[40];
	char en[256];
	char ja[512];
};

/* ---- residents ---- */

enum jpki_resident_status {
	JPKI_RESIDENT_REGISTERED = 0,
	JPKI_RESIDENT_REMOVED = 1,
	JPKI_RESIDENT_DECEASED = 2,
};
const char *jpki_resident_status_name(enum jpki_resident_status s);

struct jpki_resident {
	int64_t id;
	char *name; /* UTF-8, <= 100 characters */
	char *kana; /* full-width katakana, spaces allowed */
	int sex;    /* 1 male, 2 female, 3 unknown (DOMAIN §8) */
	jpki_day birth;
	char *address;	   /* <= 200 characters */
	char *postal_code; /* "NNN-NNNN" or NULL */
	char municipality[7];
	char *nationality;     /* ISO 3166-1 alpha-2 for foreign residents, or NULL */
	jpki_day stay_expires; /* end of the period of stay, or JPKI_DAY_NONE */
	bool adult_ward;
	enum jpki_resident_status status;
	jpki_day status_on; /* the day of removal or death, or JPKI_DAY_NONE */
	bool synthetic;
	int64_t created_at, updated_at;
};
void jpki_resident_release(struct jpki_resident *r);

/* Checks and adds a resident (an event "added"). Bad fields are
 * JPKI_ERR_INVALID with the field named; *id is the new id. */
jpki_err jpki_reg_resident_add(const struct jpki_reg_ctx *ctx,
			       const struct jpki_resident *in, int64_t *id,
			       struct jpki_reg_msg *m);

/* JPKI_ERR_NOTFOUND for an unknown id. */
jpki_err jpki_reg_resident_get(const struct jpki_reg_ctx *ctx, int64_t id,
			       struct jpki_resident *out, struct jpki_reg_msg *m);

/* Residents with a good certificate or an active card expiring in the
 * month, in id order (*ids malloc'd). */
jpki_err jpki_reg_expiring(const struct jpki_reg_ctx *ctx, int year, int month,
			   int64_t **ids, size_t *n, struct jpki_reg_msg *m);

/* All residents in id order (*ids malloc'd). */
jpki_err jpki_reg_residents(const struct jpki_reg_ctx *ctx, int64_t **ids, size_t *n,
			    struct jpki_reg_msg *m);

/* Residents matching q, for the counter's search box: an id (digits), a
 * birth date (YYYY-MM-DD), or part of the name or the kana (spaces,
 * ASCII or full-width, ignored), at least 2 characters. At most limit
 * ids, by kana then id; *truncated when there were more. JPKI_ERR_INVALID
 * for a query too short or too long (64 bytes). */
jpki_err jpki_reg_search(const struct jpki_reg_ctx *ctx, const char *q, size_t limit,
			 int64_t **ids, size_t *n, bool *truncated,
			 struct jpki_reg_msg *m);

/* Good certificates (by kind) and active cards expiring in each of
 * `months` months from (year, month): what counter capacity is planned
 * with. out[i] is month i. */
struct jpki_expiry_count {
	int year, month;
	size_t sign, auth, cards;
};
jpki_err jpki_reg_expiry_counts(const struct jpki_reg_ctx *ctx, int year, int month,
				int months, struct jpki_expiry_count *out,
				struct jpki_reg_msg *m);

/* ---- cards and certificates as stored ---- */

enum jpki_card_state {
	JPKI_CARD_ACTIVE = 0,
	JPKI_CARD_RETURNED = 1,
	JPKI_CARD_LOST = 2,
	JPKI_CARD_EXPIRED = 3,
	JPKI_CARD_ABOLISHED = 4,
};
const char *jpki_card_state_name(enum jpki_card_state s);

struct jpki_reg_card {
	char serial[33];
	char municipality[7];
	jpki_day issued, expires;
	enum jpki_card_state state;
	jpki_day state_on; /* JPKI_DAY_NONE while active */
	char image[4096];  /* the card file; "" when none */
};

enum jpki_cert_status {
	JPKI_CERT_GOOD = 0,
	JPKI_CERT_REVOKED = 1,
	JPKI_CERT_EXPIRED = 2,
};
const char *jpki_cert_status_name(enum jpki_cert_status s);

struct jpki_reg_cert {
	char serial[66];
	enum jpki_cert_kind kind;
	char card[33];
	jpki_day issued, expires;
	enum jpki_cert_status status; /* on ctx->now */
	int reason;		      /* CRLReason when revoked, else -1 */
	int64_t revoked_at;	      /* 0 unless revoked */
};

/* The resident's cards, newest first (*out malloc'd). */
jpki_err jpki_reg_cards(const struct jpki_reg_ctx *ctx, int64_t resident,
			struct jpki_reg_card **out, size_t *n, struct jpki_reg_msg *m);

/* A card by serial and its holder. JPKI_ERR_NOTFOUND when the registry
 * does not know it. */
jpki_err jpki_reg_card_get(const struct jpki_reg_ctx *ctx, const char *serial,
			   struct jpki_reg_card *out, int64_t *resident,
			   struct jpki_reg_msg *m);

/* The resident's certificates, newest first (*out malloc'd). */
jpki_err jpki_reg_certs(const struct jpki_reg_ctx *ctx, int64_t resident,
			struct jpki_reg_cert **out, size_t *n, struct jpki_reg_msg *m);

/* ---- results of operations ---- */

struct jpki_reg_revoked {
	char serial[66];
	enum jpki_cert_kind kind;
	int reason;
};

struct jpki_reg_result {
	char card[33];			    /* the card concerned, if any */
	struct jpki_reg_revoked revoked[8]; /* certificates revoked by the operation */
	size_t n_revoked;
	struct jpki_reg_cert issued[2]; /* certificates issued (issue, renew) */
	size_t n_issued;
	jpki_day card_expires; /* card issue */
	bool fresh;	       /* renew: after expiry, a fresh issuance */
	bool early;	       /* renew: before the window, shorter validity */
	int64_t intent;	       /* the intent record, 0 if none */
};

/* ---- resident events (DOMAIN §4) ----
 * Each updates the resident, records an event and revokes what the rule
 * says, in one transaction:
 *   move, rename, correct (birth date, sex): the signing certificate,
 *     affiliationChanged;
 *   decease, remove: both, cessationOfOperation, and the card is abolished.
 * A removed or deceased resident refuses every further event. */
jpki_err jpki_reg_move(const struct jpki_reg_ctx *ctx, int64_t id, const char *address,
		       const char *municipality, const char *postal_code,
		       struct jpki_reg_result *r, struct jpki_reg_msg *m);
jpki_err jpki_reg_rename(const struct jpki_reg_ctx *ctx, int64_t id, const char *name,
			 const char *kana, struct jpki_reg_result *r,
			 struct jpki_reg_msg *m);
/* birth JPKI_DAY_NONE and sex 0 leave that field alone. */
jpki_err jpki_reg_correct(const struct jpki_reg_ctx *ctx, int64_t id, jpki_day birth,
			  int sex, struct jpki_reg_result *r, struct jpki_reg_msg *m);
jpki_err jpki_reg_decease(const struct jpki_reg_ctx *ctx, int64_t id, jpki_day on,
			  struct jpki_reg_result *r, struct jpki_reg_msg *m);
jpki_err jpki_reg_remove(const struct jpki_reg_ctx *ctx, int64_t id, jpki_day on,
			 struct jpki_reg_result *r, struct jpki_reg_msg *m);

/* ---- cards ---- */

/* Holder PINs as the resident set them (jpki_pin_check format, the
 * signing PIN upper-cased); has[k] false when not given. */
struct jpki_reg_pins {
	char pin[4][JPKI_PIN_MAX_LEN + 1];
	bool has[4];
};

struct jpki_reg_issue_opts {
	const char *card_path; /* created; refused if it exists */
	const struct jpki_reg_pins *pins;
	bool ward_present;
};

/* Issues a card with the auth certificate and, when eligible, the signing
 * certificate, keys generated on the card. The card expires by
 * jpki_card_expiry; a previous active card must have been returned or
 * reported lost first. */
jpki_err jpki_reg_card_issue(const struct jpki_reg_ctx *ctx, int64_t resident,
			     const struct jpki_reg_issue_opts *o,
			     struct jpki_reg_result *r, struct jpki_reg_msg *m);

/* Ends the resident's active card (RETURNED or LOST): both certificates
 * revoked, cessationOfOperation or (lost) keyCompromise. */
jpki_err jpki_reg_card_end(const struct jpki_reg_ctx *ctx, int64_t resident,
			   enum jpki_card_state state, struct jpki_reg_result *r,
			   struct jpki_reg_msg *m);

/* ---- certificates ---- */

struct jpki_reg_renew_opts {
	const char *card_path; /* the resident's active card */
	const struct jpki_reg_pins *pins;
	bool early;	   /* accept the shorter validity before the window */
	bool ward_present; /* an adult ward at the counter with the guardian */
};

/* Renews both certificates on the resident's active card (DOMAIN §2):
 * inside the window with the 6th-birthday rule, before it only with
 * early, after expiry as a fresh issuance while the card is valid. The
 * card's PINs must verify first (a wrong PIN costs a try and refuses);
 * new key pairs are generated on the card; the old certificates are
 * revoked superseded. */
jpki_err jpki_reg_renew(const struct jpki_reg_ctx *ctx, int64_t resident,
			const struct jpki_reg_renew_opts *o, struct jpki_reg_result *r,
			struct jpki_reg_msg *m);

/* Voluntary (or any other) revocation of one registered certificate.
 * JPKI_ERR_NOTFOUND for a serial the registry does not know; revoking a
 * revoked certificate is refused. */
jpki_err jpki_reg_revoke(const struct jpki_reg_ctx *ctx, const char *serial_hex,
			 int reason, struct jpki_reg_result *r, struct jpki_reg_msg *m);

/* Sets a new PIN on the resident's active card and unblocks it (an issuer
 * operation); new_pin NULL only resets the retry counter. */
jpki_err jpki_reg_reset_pin(const struct jpki_reg_ctx *ctx, int64_t resident,
			    const char *card_path, enum jpki_pin_kind k,
			    const char *new_pin, struct jpki_reg_result *r,
			    struct jpki_reg_msg *m);

/* ---- reconciliation ---- */

struct jpki_reconcile_report {
	size_t completed;     /* intents finished forward */
	size_t rolled_back;   /* intents undone */
	size_t busy;	      /* intents whose card is in use: left alone */
	size_t failed;	      /* intents that could not be settled (see msg) */
	size_t expired_cards; /* active cards past their expiry, now expired */
};

/* Settles every open intent (the card file it names is locked first: an
 * operation still running holds that lock, and is left alone), and marks
 * active cards past their expiry as expired, revoking what they hold. */
jpki_err jpki_reg_reconcile(const struct jpki_reg_ctx *ctx,
			    struct jpki_reconcile_report *rep, struct jpki_reg_msg *m);

/* Gives up an open intent whose card file is gone or unreadable (a card
 * destroyed mid-operation): the certificates it issued are revoked
 * (cessationOfOperation), a card it registered is abolished, and the
 * intent is rolled_back. Refused while the card file can be opened:
 * reconcile settles those. */
jpki_err jpki_reg_abandon(const struct jpki_reg_ctx *ctx, int64_t intent,
			  struct jpki_reg_result *r, struct jpki_reg_msg *m);

/* ---- a synthetic population (jpki demo seed; demos and benchmarks) ----
 * N residents with Japan's age pyramid, about 8 in 10 with a card issued
 * since 2016 (more in the 2022-2023 wave), certificates renewed through
 * their windows (some left to expire), under-15s and adult wards without
 * a signing certificate, foreign residents with a period of stay, lost
 * cards and moves with their revocations. Real certificates from the
 * store's CA and real card files (PINs sign ABC123, others 1234), made by a
 * fast path: key pairs from a pool, few PBKDF2 iterations, no fsync of
 * card files, batches of 250 residents per transaction. Never the way a
 * real card is issued. */
struct jpki_seed_opts {
	size_t residents;
	uint64_t seed;
	const char *cards_dir; /* created if missing; files SERIAL.card */
	int64_t history_from;  /* the CA's notBefore: no card before it */
	size_t key_pool;       /* RSA keys in the pool (0: 16, at most 64) */
	void (*progress)(size_t done, size_t total, void *arg);
	void *progress_arg;
};

struct jpki_seed_report {
	size_t residents, cards, certificates, revoked, expired;
	size_t without_sign, adult_wards, foreign;
};

jpki_err jpki_reg_demo_seed(const struct jpki_reg_ctx *ctx,
			    const struct jpki_seed_opts *o,
			    struct jpki_seed_report *rep, struct jpki_reg_msg *m);

/* ---- process set-up ----
 * Makes jansson wipe every block it frees: its copies of parsed request
 * bodies and PIN files hold PINs and passwords. Process-wide; call once at
 * start-up, before any JSON is parsed or built. */
void jpki_json_wipe_on_free(void);

/* ---- test hook ----
 * When the environment variable JPKI_FAILPOINT names a step
 * ("renew.after-keygen"), the process kills itself with SIGKILL there:
 * how the tests crash an operation at each step. With ":stop" after the
 * name ("notice.between-files:stop") it stops itself (SIGSTOP) there
 * instead, so a test can act at that exact point and then SIGCONT it. The
 * names are listed in docs/internals/registry.md and notice.md. */
void jpki_reg_failpoint(const char *name);

#ifdef __cplusplus
}
#endif
#endif
