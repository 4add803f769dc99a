/* openjpki — one error enum for the whole API.
 *
 * Codes are only ever appended; their numeric values are stable.
 * Functions that can fail return a jpki_err and, where useful, fill an
 * optional struct jpki_errbuf with a one-line English detail for the
 * operator ("2026-02-30: no such day"). The buffer may be NULL.
 */
#ifndef JPKI_ERR_H
#define JPKI_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jpki_err {
	JPKI_OK = 0,
	JPKI_ERR_INVALID = 1, /* malformed input: unparseable, impossible */
	JPKI_ERR_RANGE = 2,   /* well-formed but outside the supported range */
	JPKI_ERR_REFUSED = 3, /* a rule says no (not yet open, not eligible) */
	JPKI_ERR_NOMEM = 4,
	JPKI_ERR_CONFIG =
	    5, /* a configuration file does not parse or is inconsistent */
	JPKI_ERR_NOTFOUND = 6, /* nothing matches (no open day in the horizon) */
	JPKI_ERR_IO = 7,
	JPKI_ERR_INTERNAL = 8,
	JPKI_ERR_CONFLICT = 9,   /* already exists (a store uniqueness rule) */
	JPKI_ERR_CRYPTO = 10,    /* a cryptographic operation failed */
	JPKI_ERR_STORE = 11,     /* the database failed */
	JPKI_ERR_PASSPHRASE = 12, /* a key could not be decrypted with the passphrase */
} jpki_err;

/* Static English text for a code; never NULL. */
const char *jpki_strerror(jpki_err e);

/* A detail line. Fixed size so that no allocation can fail while reporting. */
struct jpki_errbuf {
	char msg[256];
};

/* Formats a detail into eb (if non-NULL), truncating safely; returns e. */
jpki_err jpki_errf(struct jpki_errbuf *eb, jpki_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
