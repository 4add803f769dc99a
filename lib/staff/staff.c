/* Staff accounts and their password hashes (include/jpki/staff.h).
 *
 * Passwords are hashed with scrypt (RFC 7914) through OpenSSL 3's EVP_KDF.
 * The encoding "$scrypt$ln=15,r=8,p=1$<salt>$<key>" follows the PHC string
 * format (github.com/P-H-C/phc-string-format): N = 2^ln, and standard
 * base64 without the "=" padding (RFC 4648 §3.2 allows leaving it off when
 * the length is known). Parsing is strict: one string per hash, so no two
 * strings check the same way.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "jpki/staff.h"
#include "jpki/utf8.h"
#include "banned.h"

#define USER_MAX     32
#define PASSWORD_MIN 10
#define PASSWORD_MAX 128

/* What new hashes are made with: 128 * r * 2^ln = 32 MiB of memory. */
#define SCRYPT_LN 15
#define SCRYPT_R  8
#define SCRYPT_P  1
#define SALT_LEN  16
#define KEY_LEN	  32

/* What a check accepts. Beyond these a stored hash is broken or hostile:
 * ln = 20 and r = 32 would already want 4 GiB, which OpenSSL's default
 * memory limit for scrypt (1025 MiB) refuses before allocating. The key is
 * always KEY_LEN bytes: a shorter one would be a prefix of the real one
 * (scrypt ends in PBKDF2), easier to guess and still checking. */
#define LN_MAX	 20
#define R_MAX	 32
#define P_MAX	 16
#define SALT_MIN 8
#define SALT_MAX 64

/* Characters of unpadded base64 for n bytes. */
#define B64_CHARS(n) (((n)*4 + 2) / 3)

/* A stored hash longer than this is refused unread. */
#define HASH_READ_MAX 256

#define STR_(x) #x
#define STR(x)	STR_(x)
/* "$scrypt$ln=15,r=8,p=1$", the head of every new hash. */
#define HEAD "$scrypt$ln=" STR(SCRYPT_LN) ",r=" STR(SCRYPT_R) ",p=" STR(SCRYPT_P) "$"

/* Checked against when the user is unknown, so that an unknown user costs
 * one scrypt like a known one, with the parameters new hashes get. Salt
 * and key are random bytes (not the hash of any password): a password
 * matches it with probability 2^-256. */
static const char dummy_hash[] =
    HEAD "YKntZC6xfA8huqE/A8/Kbg$rr0jtpSwBJ6QYthROvH0Fu+4pPAxmntxYVzzZdtt+iw";

static const char refused_msg[] = "wrong user or password";

/* ---- roles ---- */

const char *jpki_staff_role_name(enum jpki_staff_role r)
{
	switch (r) {
	case JPKI_ROLE_COUNTER:
		return "counter";
	case JPKI_ROLE_SUPERVISOR:
		return "supervisor";
	case JPKI_ROLE_ADMIN:
		return "admin";
	default:
		return "unknown";
	}
}

jpki_err jpki_staff_role_parse(const char *s, enum jpki_staff_role *out)
{
	static const enum jpki_staff_role roles[] = {
	    JPKI_ROLE_COUNTER, JPKI_ROLE_SUPERVISOR, JPKI_ROLE_ADMIN};
	for (size_t i = 0; s != NULL && i < sizeof roles / sizeof roles[0]; i++) {
		if (strcmp(s, jpki_staff_role_name(roles[i])) == 0) {
			*out = roles[i];
			return JPKI_OK;
		}
	}
	return JPKI_ERR_INVALID;
}

static bool role_ok(enum jpki_staff_role r)
{
	return r == JPKI_ROLE_COUNTER || r == JPKI_ROLE_SUPERVISOR ||
	       r == JPKI_ROLE_ADMIN;
}

/* ---- base64, RFC 4648 §4, without padding ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes B64_CHARS(n) characters and a NUL to out. */
static void b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		size_t chars = n - i >= 3 ? 4 : n - i + 1;
		for (size_t k = 0; k < chars; k++)
			out[o++] = b64_alphabet[(v >> (18 - 6 * k)) & 63];
	}
	out[o] = '\0';
}

static int b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;
	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Decodes the len characters at s into out (at most cap bytes). Returns
 * the byte count, or -1 unless s is canonical unpadded base64: only the
 * alphabet, no length that leaves a lone 6 bits, and zero in the bits the
 * last character carries beyond the data. */
static long b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > cap)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

/* ---- scrypt ---- */

struct scrypt_hash {
	unsigned ln, r, p;
	uint8_t salt[SALT_MAX];
	size_t salt_len;
	uint8_t key[KEY_LEN];
};

/* A decimal number at *s up to max, without a sign or leading zeros. */
static bool parse_num(const char **s, unsigned max, unsigned *out)
{
	const char *p = *s;
	unsigned v = 0;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return false;
	}
	*s = p;
	*out = v;
	return true;
}

static bool expect(const char **s, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* "$scrypt$ln=L,r=R,p=P$SALT$KEY", each number from 1 to its maximum. */
static bool parse_hash(const char *e, struct scrypt_hash *h)
{
	const char *p = e;
	if (e == NULL || strnlen(e, HASH_READ_MAX) >= HASH_READ_MAX)
		return false;
	if (!expect(&p, "$scrypt$ln=") || !parse_num(&p, LN_MAX, &h->ln) || h->ln < 1 ||
	    !expect(&p, ",r=") || !parse_num(&p, R_MAX, &h->r) || h->r < 1 ||
	    !expect(&p, ",p=") || !parse_num(&p, P_MAX, &h->p) || h->p < 1 ||
	    !expect(&p, "$"))
		return false;
	const char *dollar = strchr(p, '$');
	if (dollar == NULL)
		return false;
	long n = b64_decode(p, (size_t)(dollar - p), h->salt, sizeof h->salt);
	if (n < SALT_MIN)
		return false;
	h->salt_len = (size_t)n;
	p = dollar + 1;
	n = b64_decode(p, strlen(p), h->key, sizeof h->key);
	return n == KEY_LEN;
}

/* RFC 7914 scrypt(pw, salt, N = 2^ln, r, p) into key_len bytes at key. */
static jpki_err scrypt(const char *pw, size_t len, const uint8_t *salt, size_t salt_len,
		       unsigned ln, unsigned r, unsigned p, uint8_t *key,
		       size_t key_len)
{
	jpki_err rc = JPKI_ERR_CRYPTO;
	uint64_t n = UINT64_C(1) << ln;
	uint32_t r32 = r, p32 = p;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
	    /* OpenSSL copies the password and wipes its copy on free. */
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
					      (void *)(pw != NULL ? pw : ""), len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
					      salt_len),
	    OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
	    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
	    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
	    OSSL_PARAM_construct_end()};
	if (ctx == NULL || EVP_KDF_derive(ctx, key, key_len, params) != 1)
		goto out;
	rc = JPKI_OK;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

jpki_err jpki_password_hash(const char *pw, size_t len,
			    char out[JPKI_PASSWORD_HASH_MAX], struct jpki_errbuf *eb)
{
	uint8_t salt[SALT_LEN], key[KEY_LEN];
	char salt64[B64_CHARS(SALT_LEN) + 1], key64[B64_CHARS(KEY_LEN) + 1];
	jpki_err rc = JPKI_ERR_CRYPTO;
	out[0] = '\0';
	if (RAND_bytes(salt, sizeof salt) != 1) {
		jpki_errf(eb, rc, "password hash: no random bytes for the salt");
		goto out;
	}
	if (scrypt(pw, len, salt, sizeof salt, SCRYPT_LN, SCRYPT_R, SCRYPT_P, key,
		   sizeof key) != JPKI_OK) {
		jpki_errf(eb, rc, "password hash: scrypt failed");
		goto out;
	}
	b64_encode(salt, sizeof salt, salt64);
	b64_encode(key, sizeof key, key64);
	int w = snprintf(out, JPKI_PASSWORD_HASH_MAX, HEAD "%s$%s", salt64, key64);
	if (w < 0 || w >= JPKI_PASSWORD_HASH_MAX) {
		OPENSSL_cleanse(out, JPKI_PASSWORD_HASH_MAX);
		out[0] = '\0';
		rc = jpki_errf(eb, JPKI_ERR_INTERNAL, "password hash: too long");
		goto out;
	}
	rc = JPKI_OK;
out:
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(key64, sizeof key64);
	return rc;
}

/* 1 when pw is the password of encoded, 0 when not (or encoded does not
 * parse), -1 when scrypt itself failed. */
static int check(const char *encoded, const char *pw, size_t len)
{
	struct scrypt_hash h;
	uint8_t key[KEY_LEN];
	int rc = 0;
	if (!parse_hash(encoded, &h))
		goto out;
	if (scrypt(pw, len, h.salt, h.salt_len, h.ln, h.r, h.p, key, sizeof key) !=
	    JPKI_OK)
		rc = -1;
	else
		rc = CRYPTO_memcmp(key, h.key, sizeof key) == 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(&h, sizeof h);
	return rc;
}

bool jpki_password_check(const char *encoded, const char *pw, size_t len)
{
	return check(encoded, pw, len) == 1;
}

/* ---- the rules for names and passwords ---- */

static bool user_ok(const char *u)
{
	if (u == NULL || u[0] < 'a' || u[0] > 'z')
		return false;
	for (size_t i = 0; u[i] != '\0'; i++) {
		char c = u[i];
		if (i >= USER_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Why the password is not acceptable, or NULL when it is. */
static const char *password_problem(const char *pw, size_t len)
{
	if (pw == NULL || len < PASSWORD_MIN)
		return "the password is shorter than 10 bytes";
	if (len > PASSWORD_MAX)
		return "the password is longer than 128 bytes";
	if (jpki_utf8_chars(pw, len) < 0) /* NUL bytes too */
		return "the password is not UTF-8 text";
	const unsigned char *p = (const unsigned char *)pw;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		     p[i + 1] <= 0x9f))
			return "the password has a control character";
	return NULL;
}

#define BAD_USER_MSG                                                                   \
	"bad user name: 1 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter"

/* ---- the store ---- */

static jpki_err store_fail(struct jpki_store *s, struct jpki_errbuf *eb, jpki_err e)
{
	return jpki_errf(eb, e, "store: %s", jpki_store_errmsg(s));
}

/* Binds the parameters of st: types has 't' (const char *) or 'i'
 * (int64_t) for each, in order. */
static jpki_err bind_va(struct jpki_stmt *st, const char *types, va_list ap)
{
	jpki_err rc = JPKI_OK;
	for (int i = 0; rc == JPKI_OK && types[i] != '\0'; i++)
		rc = types[i] == 't'
			 ? jpki_stmt_bind_text(st, i + 1, va_arg(ap, const char *))
			 : jpki_stmt_bind_int64(st, i + 1, va_arg(ap, int64_t));
	return rc;
}

/* Prepares sql and binds its parameters; the caller steps and finalizes. */
static jpki_err query(struct jpki_store *s, struct jpki_stmt **st, const char *types,
		      const char *sql, ...)
{
	va_list ap;
	jpki_err rc = jpki_stmt_prepare(s, sql, st);
	va_start(ap, sql);
	if (rc == JPKI_OK)
		rc = bind_va(*st, types, ap);
	va_end(ap);
	if (rc != JPKI_OK) {
		jpki_stmt_finalize(*st);
		*st = NULL;
	}
	return rc;
}

/* Runs one statement without results; a failure's store message in eb. */
static jpki_err run(struct jpki_store *s, struct jpki_errbuf *eb, const char *types,
		    const char *sql, ...)
{
	struct jpki_stmt *st = NULL;
	bool row;
	va_list ap;
	jpki_err rc = jpki_stmt_prepare(s, sql, &st);
	va_start(ap, sql);
	if (rc == JPKI_OK)
		rc = bind_va(st, types, ap);
	va_end(ap);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc != JPKI_OK)
		store_fail(s, eb, rc);
	jpki_stmt_finalize(st);
	return rc;
}

#define STAFF_COLUMNS                                                                  \
	"id, username, role, disabled, created_at, last_login, password_hash"

/* The current row into out, and its hash into hash (when not NULL; "" when
 * it does not fit). JPKI_ERR_STORE for a row this module did not write. */
static jpki_err read_row(struct jpki_stmt *st, struct jpki_staff *out, char *hash,
			 size_t hash_cap)
{
	memset(out, 0, sizeof *out);
	out->id = jpki_stmt_int64(st, 0);
	int w = snprintf(out->user, sizeof out->user, "%s", jpki_stmt_text(st, 1));
	if (w < 0 || (size_t)w >= sizeof out->user ||
	    jpki_staff_role_parse(jpki_stmt_text(st, 2), &out->role) != JPKI_OK)
		return JPKI_ERR_STORE;
	out->disabled = jpki_stmt_int64(st, 3) != 0;
	out->created_at = jpki_stmt_int64(st, 4);
	out->last_login = jpki_stmt_int64(st, 5);
	if (hash != NULL) {
		w = snprintf(hash, hash_cap, "%s", jpki_stmt_text(st, 6));
		if (w < 0 || (size_t)w >= hash_cap)
			hash[0] = '\0';
	}
	return JPKI_OK;
}

/* The account named user (well formed). JPKI_ERR_NOTFOUND when none; a
 * store failure with its message in eb. */
static jpki_err lookup(struct jpki_store *s, const char *user, struct jpki_staff *out,
		       char *hash, size_t hash_cap, struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc =
	    query(s, &st, "t",
		  "SELECT " STAFF_COLUMNS " FROM staff WHERE username = $1", user);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc != JPKI_OK)
		store_fail(s, eb, rc);
	else if (!row)
		rc = jpki_errf(eb, JPKI_ERR_NOTFOUND, "no user %s", user);
	else if ((rc = read_row(st, out, hash, hash_cap)) != JPKI_OK)
		jpki_errf(eb, rc, "store: the staff row of %s does not read back",
			  user);
	jpki_stmt_finalize(st);
	return rc;
}

jpki_err jpki_staff_add(struct jpki_store *s, const char *user,
			enum jpki_staff_role role, const char *password, size_t pwlen,
			const char *actor, int64_t now, struct jpki_errbuf *eb)
{
	char hash[JPKI_PASSWORD_HASH_MAX], details[64];
	const char *why;
	jpki_err rc;
	if (!user_ok(user))
		return jpki_errf(eb, JPKI_ERR_INVALID, BAD_USER_MSG);
	if (!role_ok(role))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "bad role: counter, supervisor or admin");
	if ((why = password_problem(password, pwlen)) != NULL)
		return jpki_errf(eb, JPKI_ERR_INVALID, "%s", why);
	if (actor == NULL || actor[0] == '\0')
		return jpki_errf(eb, JPKI_ERR_INVALID, "no audit actor");
	/* Hashed first: scrypt must not hold the store's write lock. */
	if ((rc = jpki_password_hash(password, pwlen, hash, eb)) != JPKI_OK)
		return rc;
	if ((rc = jpki_store_begin(s)) != JPKI_OK) {
		store_fail(s, eb, rc);
		goto out;
	}
	rc = run(s, eb, "ttti",
		 "INSERT INTO staff (username, role, password_hash, disabled, "
		 "created_at, last_login) VALUES ($1, $2, $3, 0, $4, 0)",
		 user, jpki_staff_role_name(role), hash, now);
	if (rc == JPKI_ERR_CONFLICT)
		jpki_errf(eb, rc, "user %s exists", user);
	if (rc != JPKI_OK)
		goto out_rollback;
	/* Never the password or its hash: the log cannot be erased. */
	snprintf(details, sizeof details, "{\"role\":\"%s\"}",
		 jpki_staff_role_name(role));
	if ((rc = jpki_audit_append(s, now, actor, "staff.add", user, details, eb)) !=
	    JPKI_OK)
		goto out_rollback;
	if ((rc = jpki_store_commit(s)) != JPKI_OK)
		store_fail(s, eb, rc);
out_rollback:
	jpki_store_rollback(s); /* a no-op after the commit */
out:
	OPENSSL_cleanse(hash, sizeof hash);
	return rc;
}

static int by_user(const void *a, const void *b)
{
	return strcmp(((const struct jpki_staff *)a)->user,
		      ((const struct jpki_staff *)b)->user);
}

jpki_err jpki_staff_list(struct jpki_store *s, struct jpki_staff **out, size_t *n,
			 struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	struct jpki_staff *v = NULL;
	size_t cap = 0, k = 0;
	bool row = false;
	*out = NULL;
	*n = 0;
	jpki_err rc = query(s, &st, "", "SELECT " STAFF_COLUMNS " FROM staff");
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct jpki_staff *nv = realloc(v, nc * sizeof *v);
			if (nv == NULL) {
				rc = jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		if ((rc = read_row(st, &v[k], NULL, 0)) != JPKI_OK) {
			jpki_errf(eb, rc, "store: a staff row does not read back");
			goto out;
		}
		k++;
	}
	if (rc != JPKI_OK) {
		store_fail(s, eb, rc);
		goto out;
	}
	/* Sorted here, not by ORDER BY: PostgreSQL would use the database's
	 * collation, SQLite bytes. */
	if (k > 1)
		qsort(v, k, sizeof *v, by_user);
	*out = v;
	*n = k;
	v = NULL;
out:
	free(v);
	jpki_stmt_finalize(st);
	return rc;
}

jpki_err jpki_staff_get(struct jpki_store *s, const char *user, struct jpki_staff *out,
			struct jpki_errbuf *eb)
{
	if (!user_ok(user))
		return jpki_errf(eb, JPKI_ERR_NOTFOUND, "no such user");
	return lookup(s, user, out, NULL, 0, eb);
}

jpki_err jpki_staff_disable(struct jpki_store *s, const char *user, const char *actor,
			    int64_t now, struct jpki_errbuf *eb)
{
	struct jpki_staff a;
	char details[64];
	jpki_err rc;
	if (!user_ok(user))
		return jpki_errf(eb, JPKI_ERR_NOTFOUND, "no such user");
	if (actor == NULL || actor[0] == '\0')
		return jpki_errf(eb, JPKI_ERR_INVALID, "no audit actor");
	if ((rc = jpki_store_begin(s)) != JPKI_OK)
		return store_fail(s, eb, rc);
	if ((rc = lookup(s, user, &a, NULL, 0, eb)) != JPKI_OK || a.disabled)
		goto out; /* disabled already: nothing to do, nothing to log */
	if ((rc = run(s, eb, "i", "UPDATE staff SET disabled = 1 WHERE id = $1", a.id)))
		goto out;
	snprintf(details, sizeof details, "{\"role\":\"%s\"}",
		 jpki_staff_role_name(a.role));
	if ((rc = jpki_audit_append(s, now, actor, "staff.disable", user, details, eb)))
		goto out;
	if ((rc = jpki_store_commit(s)) != JPKI_OK)
		store_fail(s, eb, rc);
out:
	jpki_store_rollback(s);
	return rc;
}

/* Records a login, unless the account was disabled or given another
 * password since it was read: the UPDATE matches nothing then. */
static jpki_err touch(struct jpki_store *s, const struct jpki_staff *a,
		      const char *hash, int64_t now, struct jpki_errbuf *eb)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpki_store_begin(s);
	if (rc == JPKI_OK)
		rc =
		    query(s, &st, "iit",
			  "UPDATE staff SET last_login = $1 WHERE id = $2 AND disabled "
			  "= 0 AND password_hash = $3 RETURNING id",
			  now, a->id, hash);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	jpki_stmt_finalize(st);
	if (rc == JPKI_OK && row)
		rc = jpki_store_commit(s);
	if (rc != JPKI_OK)
		store_fail(s, eb, rc);
	else if (!row)
		rc = jpki_errf(eb, JPKI_ERR_REFUSED, "%s", refused_msg);
	jpki_store_rollback(s);
	return rc;
}

jpki_err jpki_staff_verify(struct jpki_store *s, const char *user, const char *password,
			   size_t pwlen, int64_t now, struct jpki_staff *out,
			   struct jpki_errbuf *eb)
{
	struct jpki_staff a = {0};
	char hash[HASH_READ_MAX] = "";
	const char *against = dummy_hash;
	bool known = false;
	jpki_err rc = JPKI_OK;
	/* A password no account can have still costs one scrypt; its length
	 * is capped so that a huge one costs no more than a real one. */
	if (password == NULL)
		pwlen = 0;
	if (pwlen > PASSWORD_MAX + 1)
		pwlen = PASSWORD_MAX + 1;
	if (user_ok(user) && password_problem(password, pwlen) == NULL) {
		rc = lookup(s, user, &a, hash, sizeof hash, eb);
		if (rc == JPKI_OK)
			known = true, against = hash;
		else if (rc != JPKI_ERR_NOTFOUND)
			goto out;
	}
	int ok = check(against, password, pwlen);
	if (ok < 0) {
		rc = jpki_errf(eb, JPKI_ERR_CRYPTO, "scrypt failed");
		goto out;
	}
	/* The same answer for all three, and disabled looked at last. */
	if (!known || ok == 0 || a.disabled) {
		rc = jpki_errf(eb, JPKI_ERR_REFUSED, "%s", refused_msg);
		goto out;
	}
	if ((rc = touch(s, &a, hash, now, eb)) != JPKI_OK)
		goto out;
	a.last_login = now;
	*out = a;
out:
	OPENSSL_cleanse(hash, sizeof hash);
	return rc;
}
