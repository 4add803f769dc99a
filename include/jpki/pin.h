/* openjpki — PIN formats of the four card PINs (DOMAIN §3; seeds 000, 001, 004).
 *
 * A PIN is a secret: callers read it from stdin or a file, never the
 * command line, and wipe it after use. These functions never copy it
 * anywhere but the caller's `normalized` buffer.
 */
#ifndef JPKI_PIN_H
#define JPKI_PIN_H

#include <stddef.h>

#include "jpki/err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum jpki_pin_kind {
	JPKI_PIN_SIGN = 0, /* 署名用パスワード: 6-16 of A-Z 0-9, both present */
	JPKI_PIN_AUTH = 1, /* 利用者証明用: 4 digits */
	JPKI_PIN_JUKI = 2, /* 住民基本台帳用: 4 digits */
	JPKI_PIN_TEXT = 3, /* 券面事項入力補助用: 4 digits */
};

/* Retries before the PIN locks: 5 for the signing PIN, 3 for the others. */
int jpki_pin_max_tries(enum jpki_pin_kind k);

enum jpki_pin_problem {
	JPKI_PIN_OK = 0,
	JPKI_PIN_EMPTY,
	JPKI_PIN_TOO_SHORT,
	JPKI_PIN_TOO_LONG,
	JPKI_PIN_BAD_CHAR,  /* a character outside the allowed set */
	JPKI_PIN_NO_LETTER, /* signing PIN without a letter */
	JPKI_PIN_NO_DIGIT,  /* signing PIN without a digit */
};

#define JPKI_PIN_MAX_LEN 16

/* Checks a PIN's format. The signing PIN is upper-cased first, as J-LIS's
 * client software does ("abc123" is "ABC123"); the normalized PIN is
 * written to `normalized` (JPKI_PIN_MAX_LEN + 1 bytes) when it is valid,
 * and the buffer is zeroed otherwise. Returns the first problem found. */
enum jpki_pin_problem jpki_pin_check(enum jpki_pin_kind k, const char *pin, size_t len,
				     char normalized[static JPKI_PIN_MAX_LEN + 1]);

/* A snake_case token ("too_short"), an English line and a Japanese line for
 * the resident at the terminal. Static strings. */
const char *jpki_pin_problem_token(enum jpki_pin_problem p);
const char *jpki_pin_problem_en(enum jpki_pin_kind k, enum jpki_pin_problem p);
const char *jpki_pin_problem_ja(enum jpki_pin_kind k, enum jpki_pin_problem p);

#ifdef __cplusplus
}
#endif
#endif
