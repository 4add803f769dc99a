/* openjpki — staff accounts: who may log in to jpkid, with which role, and
 * their password hashes (scrypt).
 *
 * An account is a user name, a role and a password hash in the store's
 * staff table (migration 5). Adding and disabling an account are each one
 * store transaction with one audit row ("staff.add", "staff.disable"; the
 * object is the user name, the details {"role":...}); the audit log never
 * holds a password or a hash. Accounts are never deleted, only disabled,
 * so a name in the audit log always names one account.
 *
 * Passwords are held in the caller's buffers: this module wipes every copy
 * and every buffer derived from them it makes, and never puts one into a
 * message. "Now" is always a parameter (Unix seconds).
 */
#ifndef JPKI_STAFF_H
#define JPKI_STAFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/err.h"
#include "jpki/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What an account may do at the counter, in increasing power. */
enum jpki_staff_role {
	JPKI_ROLE_COUNTER = 1,
	JPKI_ROLE_SUPERVISOR = 2,
	JPKI_ROLE_ADMIN = 3
};

/* "counter", "supervisor", "admin"; "unknown" for any other value. */
const char *jpki_staff_role_name(enum jpki_staff_role r);

/* The role a name names, exactly as jpki_staff_role_name() writes it;
 * JPKI_ERR_INVALID for anything else (s may be NULL). */
jpki_err jpki_staff_role_parse(const char *s, enum jpki_staff_role *out);

struct jpki_staff {
	int64_t id;
	char user[33]; /* [a-z0-9._-], 1..32 chars, starts with a letter */
	enum jpki_staff_role role;
	bool disabled;
	int64_t created_at; /* Unix seconds */
	int64_t last_login; /* 0 = never */
};

/* Adds an account. The user name is 1..32 characters of [a-z0-9._-]
 * starting with a letter; the password is 10..128 bytes of UTF-8 without
 * control characters (C0, DEL, C1). actor is the audit actor ("jpki",
 * "staff:alice"). The password is hashed before the transaction opens, so
 * the store's write lock is not held for the hash.
 * JPKI_ERR_INVALID: a bad user name, role, password or actor (the message
 * says which, never the password); JPKI_ERR_CONFLICT: the user exists
 * ("user U exists"), disabled or not. */
jpki_err jpki_staff_add(struct jpki_store *s, const char *user,
			enum jpki_staff_role role, const char *password, size_t pwlen,
			const char *actor, int64_t now, struct jpki_errbuf *eb);

/* Every account, by user name. *out is malloc'd (the caller frees it) and
 * NULL when there is none; *n is the count. */
jpki_err jpki_staff_list(struct jpki_store *s, struct jpki_staff **out, size_t *n,
			 struct jpki_errbuf *eb);

/* One account. JPKI_ERR_NOTFOUND when no account has that name (a
 * malformed name included). */
jpki_err jpki_staff_get(struct jpki_store *s, const char *user, struct jpki_staff *out,
			struct jpki_errbuf *eb);

/* Disables an account: it can no longer log in. JPKI_ERR_NOTFOUND when
 * there is no such account. Disabling a disabled account is JPKI_OK and
 * changes nothing (no audit row either). */
jpki_err jpki_staff_disable(struct jpki_store *s, const char *user, const char *actor,
			    int64_t now, struct jpki_errbuf *eb);

/* Checks a login. JPKI_ERR_REFUSED, always with the message "wrong user or
 * password", for an unknown or malformed user name, a wrong or malformed
 * password, and a disabled account: the caller cannot tell them apart, and
 * neither can whoever times it, since an unknown user still costs one
 * scrypt (on a dummy hash) and a disabled account is only looked at after
 * its password verified. A caller that needs to know (to audit "disabled
 * account") can jpki_staff_get() after a refusal.
 * On success fills *out and sets last_login to now in a small transaction
 * of its own, which also re-checks that the account was neither disabled
 * nor given another password meanwhile. No audit row: jpkid audits logins.
 * JPKI_ERR_STORE when the store fails, JPKI_ERR_CRYPTO when scrypt does. */
jpki_err jpki_staff_verify(struct jpki_store *s, const char *user, const char *password,
			   size_t pwlen, int64_t now, struct jpki_staff *out,
			   struct jpki_errbuf *eb);

/* ---- password hashing, also used alone ----
 * scrypt (RFC 7914) through OpenSSL 3's EVP_KDF "SCRYPT": N = 2^15, r = 8,
 * p = 1 (32 MiB, about 0.1 s), a 16-byte random salt, a 32-byte key,
 * encoded as "$scrypt$ln=15,r=8,p=1$<salt>$<key>" in standard base64
 * without padding (RFC 4648 §4, "=" left off). */
#define JPKI_PASSWORD_HASH_MAX 160

/* Hashes len bytes at pw (any bytes; the policy is jpki_staff_add's) into
 * out, NUL-terminated. JPKI_ERR_CRYPTO when the random generator or scrypt
 * fails (out is then ""). */
jpki_err jpki_password_hash(const char *pw, size_t len,
			    char out[JPKI_PASSWORD_HASH_MAX], struct jpki_errbuf *eb);

/* Whether pw is the password of encoded. ln, r and p are read from the
 * string, so hashes made with other ones still check; absurd ones (ln > 20,
 * r > 32, p > 16), a salt outside 8..64 bytes, a key of other than 32
 * bytes or non-canonical base64 make it false without running scrypt. The
 * keys are compared in constant time (CRYPTO_memcmp). */
bool jpki_password_check(const char *encoded, const char *pw, size_t len);

#ifdef __cplusplus
}
#endif
#endif
