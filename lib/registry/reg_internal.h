/* Internals shared by the files of lib/registry (prefix jpkii_reg). */
#ifndef JPKI_REG_INTERNAL_H
#define JPKI_REG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "jpki/pki.h"
#include "jpki/registry.h"

/* Fills m (code, English, Japanese; the two formats take the same
 * arguments in the same order) and returns e. */
jpki_err jpkii_reg_fail(struct jpki_reg_msg *m, jpki_err e, const char *code,
			const char *en, const char *ja, ...)
    __attribute__((format(printf, 4, 6)));

/* The store failed: code "store", the store's text in both lines. */
jpki_err jpkii_reg_store_fail(const struct jpki_reg_ctx *ctx, struct jpki_reg_msg *m,
			      jpki_err e);

/* An error from another layer (its errbuf text in both lines). */
jpki_err jpkii_reg_eb_fail(struct jpki_reg_msg *m, jpki_err e, const char *code,
			   const struct jpki_errbuf *eb);

/* Runs one statement without results. types: 't' text (NULL binds NULL),
 * 'i' int64, 'd' jpki_day (as YYYY-MM-DD text; JPKI_DAY_NONE binds NULL). */
jpki_err jpkii_reg_sql(struct jpki_store *s, const char *types, const char *sql, ...);

/* Prepares and binds the same way; the caller steps and finalizes. */
jpki_err jpkii_reg_query(struct jpki_store *s, struct jpki_stmt **st, const char *types,
			 const char *sql, ...);

/* Makes room for element n of a growing array: arrp points to the array
 * pointer, *cap is its capacity in elements of elem bytes. False when out
 * of memory (the array is left as it was). */
bool jpkii_reg_grow(void *arrp, size_t *cap, size_t n, size_t elem);

/* A date column: JPKI_DAY_NONE for NULL or unparseable. */
jpki_day jpkii_reg_col_day(struct jpki_stmt *st, int col);

/* Appends the operation's audit row (actor from ctx). */
jpki_err jpkii_reg_audit(const struct jpki_reg_ctx *ctx, const char *action,
			 const char *object, const char *details_json,
			 struct jpki_reg_msg *m);

/* Appends the audit row and commits: how every operation ends. On any
 * failure the transaction is rolled back and m says why (a failed commit
 * as a store failure). */
jpki_err jpkii_reg_audit_commit(const struct jpki_reg_ctx *ctx, const char *action,
				const char *object, const char *details_json,
				struct jpki_reg_msg *m);

/* Records a resident event. */
jpki_err jpkii_reg_event(const struct jpki_reg_ctx *ctx, int64_t resident,
			 const char *kind, jpki_day on, const char *details_json);

/* Loads a resident for an operation: NOTFOUND, or REFUSED when the
 * resident is removed or deceased (unless allow_gone). */
jpki_err jpkii_reg_resident_for_op(const struct jpki_reg_ctx *ctx, int64_t id,
				   bool allow_gone, struct jpki_resident *out,
				   struct jpki_reg_msg *m);

/* Refuses (in_progress) while an operation on the resident's card is
 * open: an event must not overtake a renewal that reconcile may still
 * complete. */
jpki_err jpkii_reg_no_open_intent(const struct jpki_reg_ctx *ctx, int64_t resident,
				  struct jpki_reg_msg *m);

/* The resident's active card: NOTFOUND (with a message) when none. */
jpki_err jpkii_reg_active_card(const struct jpki_reg_ctx *ctx, int64_t resident,
			       struct jpki_reg_card *out, struct jpki_reg_msg *m);

/* Revokes the good certificates of a card (kinds: bit 0 sign, bit 1 auth)
 * inside the open transaction, recording them in r. */
jpki_err jpkii_reg_revoke_card_certs(const struct jpki_reg_ctx *ctx, struct jpki_ca *ca,
				     const char *card, unsigned kinds, int reason,
				     struct jpki_reg_result *r, struct jpki_reg_msg *m);

/* Opens the CA for an operation. */
jpki_err jpkii_reg_ca(const struct jpki_reg_ctx *ctx, struct jpki_ca **ca,
		      struct jpki_reg_msg *m);

/* The certificate subject of a resident (DOMAIN §8). The *_alt fields are
 * the 代替文字の使用位置: one digit per character of the name or address,
 * 0 where no substitute character is used (always, here). */
struct jpkii_subject_buf {
	struct jpki_subject s;
	char name_alt[256], address_alt[256];
};
void jpkii_reg_subject(const struct jpki_resident *res, struct jpkii_subject_buf *b);

#define JPKII_KIND_SIGN 1u
#define JPKII_KIND_AUTH 2u

const char *jpkii_reg_kind_name(enum jpki_cert_kind k);

#endif
