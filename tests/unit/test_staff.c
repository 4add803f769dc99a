/* Staff accounts (lib/staff; include/jpki/staff.h): the scrypt password
 * hashes (an RFC 7914 test vector, the encoding read back with OpenSSL's
 * own base64 and scrypt, tampering, parameter limits, malformed strings),
 * then the accounts in a store: add, list, get, disable, verify, the
 * rules for names and passwords, and the audit rows.
 *
 * Every store is a fresh SQLite file in one temporary directory, removed
 * at the end. With JPKI_TEST_STORE set to a PostgreSQL URL (tests/pg/
 * pgserver.py run sets it), each is a new schema of that database instead
 * (jpkistaff_NNN, dropped at the end), as in test_store.c. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "jpki/staff.h"
#include "jpki/store.h"
#include "banned.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PATH_SZ	     512

/* 2026-02-21T10:00:00+09:00 */
#define T0 INT64_C(1771635600)

#define PW	    "correct horse battery"
#define PW_LEN	    (sizeof PW - 1)
#define REFUSED_MSG "wrong user or password"

static char g_dir[PATH_SZ];
static int g_stores;
static const char *g_pg;
static struct jpki_store *g_admin;

/* ---- fixture and helpers ---- */

static int make_dir(void **state)
{
	(void)state;
	int n = snprintf(g_dir, sizeof g_dir, "/tmp/jpki-test-staff-XXXXXX");
	if (n < 0 || (size_t)n >= sizeof g_dir || mkdtemp(g_dir) == NULL)
		return -1;
	return 0;
}

static int remove_dir(void **state)
{
	char path[PATH_SZ];
	DIR *d = opendir(g_dir);
	struct dirent *e;
	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int n = snprintf(path, sizeof path, "%s/%s", g_dir, e->d_name);
		if (n > 0 && (size_t)n < sizeof path)
			unlink(path);
	}
	closedir(d);
	return rmdir(g_dir);
}

static int pg_setup(void **state)
{
	struct jpki_errbuf eb = {{0}};
	(void)state;
	if (jpki_store_open(g_pg, &g_admin, &eb) != JPKI_OK) {
		fprintf(stderr, "JPKI_TEST_STORE: %s\n", eb.msg);
		return -1;
	}
	return 0;
}

static int pg_teardown(void **state)
{
	char sql[64];
	(void)state;
	for (int i = 1; i <= g_stores; i++) {
		snprintf(sql, sizeof sql,
			 "DROP SCHEMA IF EXISTS jpkistaff_%03d CASCADE", i);
		if (jpki_store_exec(g_admin, sql) != JPKI_OK)
			return -1;
	}
	jpki_store_close(g_admin);
	g_admin = NULL;
	return 0;
}

/* A store no test has used: a new SQLite file, or a new PostgreSQL schema. */
static struct jpki_store *open_fresh(void)
{
	char url[PATH_SZ], sql[128];
	struct jpki_store *s = NULL;
	struct jpki_errbuf eb = {{0}};
	int n = ++g_stores;
	if (g_pg == NULL) {
		n = snprintf(url, sizeof url, "%s/s%03d.db", g_dir, n);
	} else {
		snprintf(sql, sizeof sql,
			 "DROP SCHEMA IF EXISTS jpkistaff_%03d CASCADE; "
			 "CREATE SCHEMA jpkistaff_%03d",
			 n, n);
		assert_int_equal(jpki_store_exec(g_admin, sql), JPKI_OK);
		n = snprintf(url, sizeof url,
			     "%s%coptions=-csearch_path%%3Djpkistaff_%03d", g_pg,
			     strchr(g_pg, '?') != NULL ? '&' : '?', n);
	}
	assert_true(n > 0 && (size_t)n < sizeof url);
	jpki_err e = jpki_store_open(url, &s, &eb);
	if (e != JPKI_OK)
		fail_msg("open %s: %s: %s", url, jpki_strerror(e), eb.msg);
	return s;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_ok(struct jpki_store *s, const char *user, enum jpki_staff_role role,
		   const char *pw, int64_t now)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_staff_add(s, user, role, pw, strlen(pw), "tester", now, &eb);
	if (e != JPKI_OK)
		fail_msg("add %s: %s: %s", user, jpki_strerror(e), eb.msg);
}

/* ---- base64 and scrypt, independently of staff.c ---- */

/* Decodes unpadded standard base64 with OpenSSL (padding put back). */
static size_t b64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	char padded[256];
	unsigned char buf[256];
	size_t pad = (4 - len % 4) % 4;
	assert_true(len + pad < sizeof padded);
	memcpy(padded, s, len);
	memset(padded + len, '=', pad);
	int n = EVP_DecodeBlock(buf, (const unsigned char *)padded, (int)(len + pad));
	assert_true(n >= 0);
	n -= (int)pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	assert_true(n >= 0 && (size_t)n <= cap);
	memcpy(out, buf, (size_t)n);
	return (size_t)n;
}

/* Encodes with OpenSSL and drops the padding. */
static void b64_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
	assert_true((n + 2) / 3 * 4 + 1 <= cap);
	int w = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (w > 0 && out[w - 1] == '=')
		out[--w] = '\0';
}

/* "$scrypt$ln=L,r=R,p=P$SALT$KEY" made here: scrypt by EVP_PBE_scrypt. */
static void make_hash(const char *pw, unsigned ln, unsigned r, unsigned p, char *out,
		      size_t cap)
{
	static const unsigned char salt[16] = "0123456789abcdef";
	unsigned char key[32];
	char s64[64], k64[64];
	assert_int_equal(EVP_PBE_scrypt(pw, strlen(pw), salt, sizeof salt,
					UINT64_C(1) << ln, r, p, UINT64_C(1) << 30, key,
					sizeof key),
			 1);
	b64_encode(salt, sizeof salt, s64, sizeof s64);
	b64_encode(key, sizeof key, k64, sizeof k64);
	int n = snprintf(out, cap, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", ln, r, p, s64, k64);
	assert_true(n > 0 && (size_t)n < cap);
}

/* ---- password hashes ---- */

static void test_hash_round_trip(void **state)
{
	char h[JPKI_PASSWORD_HASH_MAX];
	struct jpki_errbuf eb = {{0}};
	(void)state;
	assert_int_equal(jpki_password_hash(PW, PW_LEN, h, &eb), JPKI_OK);
	assert_true(jpki_password_check(h, PW, PW_LEN));
	/* Any bytes hash; the policy is jpki_staff_add's. */
	static const char odd[] = "pass\0word\n";
	assert_int_equal(jpki_password_hash(odd, sizeof odd - 1, h, &eb), JPKI_OK);
	assert_true(jpki_password_check(h, odd, sizeof odd - 1));
	assert_false(jpki_password_check(h, odd, 4)); /* not cut at the NUL */
	assert_int_equal(jpki_password_hash("", 0, h, &eb), JPKI_OK);
	assert_true(jpki_password_check(h, "", 0));
	assert_false(jpki_password_check(h, " ", 1));
}

/* The string is "$scrypt$ln=15,r=8,p=1$<16 bytes>$<32 bytes>", and the key
 * is scrypt with those parameters as OpenSSL's other entry point computes. */
static void test_hash_encoding(void **state)
{
	char h[JPKI_PASSWORD_HASH_MAX];
	unsigned char salt[64], key[64], want[32];
	(void)state;
	assert_int_equal(jpki_password_hash(PW, PW_LEN, h, NULL), JPKI_OK);
	static const char prefix[] = "$scrypt$ln=15,r=8,p=1$";
	assert_int_equal(strncmp(h, prefix, sizeof prefix - 1), 0);
	const char *s = h + sizeof prefix - 1, *d = strchr(s, '$');
	assert_non_null(d);
	assert_null(strchr(d + 1, '$'));
	assert_null(strchr(s, '=')); /* no padding */
	assert_int_equal(d - s, 22);
	assert_int_equal(strlen(d + 1), 43);
	assert_int_equal(strlen(h), 22 + 22 + 1 + 43);
	assert_int_equal(b64_decode(s, (size_t)(d - s), salt, sizeof salt), 16);
	assert_int_equal(b64_decode(d + 1, strlen(d + 1), key, sizeof key), 32);
	assert_int_equal(EVP_PBE_scrypt(PW, PW_LEN, salt, 16, 32768, 8, 1,
					UINT64_C(1) << 30, want, sizeof want),
			 1);
	assert_memory_equal(key, want, 32);
}

/* RFC 7914 §12, the third vector: scrypt("pleaseletmein", "SodiumChloride",
 * N = 16384, r = 8, p = 1, dkLen = 64). Hashes hold 32-byte keys: the
 * vector's first 32 bytes are that key (scrypt ends in PBKDF2-SHA-256,
 * whose first block does not depend on dkLen). */
static void test_hash_rfc7914_vector(void **state)
{
	static const unsigned char dk[64] = {
	    0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48, 0x46, 0x1c, 0x06,
	    0xcd, 0x81, 0xfd, 0x38, 0xeb, 0xfd, 0xa8, 0xfb, 0xba, 0x90, 0x4f,
	    0x8e, 0x3e, 0xa9, 0xb5, 0x43, 0xf6, 0x54, 0x5d, 0xa1, 0xf2, 0xd5,
	    0x43, 0x29, 0x55, 0x61, 0x3f, 0x0f, 0xcf, 0x62, 0xd4, 0x97, 0x05,
	    0x24, 0x2a, 0x9a, 0xf9, 0xe6, 0x1e, 0x85, 0xdc, 0x0d, 0x65, 0x1e,
	    0x40, 0xdf, 0xcf, 0x01, 0x7b, 0x45, 0x57, 0x58, 0x87};
	static const unsigned char salt[] = "SodiumChloride";
	char s64[32], k64[96], h[200];
	(void)state;
	b64_encode(salt, sizeof salt - 1, s64, sizeof s64);
	b64_encode(dk, 32, k64, sizeof k64);
	snprintf(h, sizeof h, "$scrypt$ln=14,r=8,p=1$%s$%s", s64, k64);
	assert_true(jpki_password_check(h, "pleaseletmein", 13));
	assert_false(jpki_password_check(h, "pleaseletmeout", 14));
	/* The whole 64 bytes, or 31 of them: not a key of ours. */
	b64_encode(dk, sizeof dk, k64, sizeof k64);
	snprintf(h, sizeof h, "$scrypt$ln=14,r=8,p=1$%s$%s", s64, k64);
	assert_false(jpki_password_check(h, "pleaseletmein", 13));
	b64_encode(dk, 31, k64, sizeof k64);
	snprintf(h, sizeof h, "$scrypt$ln=14,r=8,p=1$%s$%s", s64, k64);
	assert_false(jpki_password_check(h, "pleaseletmein", 13));
}

/* One character changed anywhere: the password, the salt, the key. */
static void test_hash_tamper(void **state)
{
	char h[JPKI_PASSWORD_HASH_MAX], t[JPKI_PASSWORD_HASH_MAX];
	(void)state;
	assert_int_equal(jpki_password_hash(PW, PW_LEN, h, NULL), JPKI_OK);

	char pw[] = PW;
	for (size_t i = 0; i < PW_LEN; i += 7) {
		pw[i] ^= 1;
		assert_false(jpki_password_check(h, pw, PW_LEN));
		pw[i] ^= 1;
	}
	assert_false(jpki_password_check(h, PW, PW_LEN - 1));
	assert_false(jpki_password_check(h, PW "x", PW_LEN + 1));

	const char *salt = strchr(h + 1, '$');
	salt = strchr(salt + 1, '$') + 1;
	const char *key = strchr(salt, '$') + 1;
	size_t at[] = {(size_t)(salt - h),
		       (size_t)(salt - h) + 10,
		       (size_t)(key - 1 - h) - 1, /* the salt's last character */
		       (size_t)(key - h),
		       (size_t)(key - h) + 20,
		       strlen(h) - 1}; /* the key's last character */
	for (size_t i = 0; i < ARRAY_LEN(at); i++) {
		memcpy(t, h, sizeof t);
		t[at[i]] = t[at[i]] == 'A' ? 'B' : 'A';
		if (jpki_password_check(t, PW, PW_LEN))
			fail_msg("position %zu changed, still checks: %s", at[i], t);
	}
	memcpy(t, h, sizeof t);
	assert_true(jpki_password_check(t, PW, PW_LEN));
}

static void test_hash_salted(void **state)
{
	char a[JPKI_PASSWORD_HASH_MAX], b[JPKI_PASSWORD_HASH_MAX];
	(void)state;
	assert_int_equal(jpki_password_hash(PW, PW_LEN, a, NULL), JPKI_OK);
	assert_int_equal(jpki_password_hash(PW, PW_LEN, b, NULL), JPKI_OK);
	assert_string_not_equal(a, b);
	/* The salts differ, not only the keys. */
	assert_int_not_equal(strncmp(a, b, 22 + 22), 0);
	assert_true(jpki_password_check(a, PW, PW_LEN));
	assert_true(jpki_password_check(b, PW, PW_LEN));
}

/* Parameters come from the string; the limits are ln 20, r 32, p 16. A
 * string past them is refused even when its key is right. */
static void test_hash_parameters(void **state)
{
	char h[200];
	(void)state;
	make_hash(PW, 4, 8, 1, h, sizeof h);
	assert_true(jpki_password_check(h, PW, PW_LEN));
	make_hash(PW, 1, 32, 1, h, sizeof h);
	assert_true(jpki_password_check(h, PW, PW_LEN));
	make_hash(PW, 1, 33, 1, h, sizeof h);
	assert_false(jpki_password_check(h, PW, PW_LEN));
	make_hash(PW, 1, 1, 16, h, sizeof h);
	assert_true(jpki_password_check(h, PW, PW_LEN));
	make_hash(PW, 1, 1, 17, h, sizeof h);
	assert_false(jpki_password_check(h, PW, PW_LEN));
	/* ln = 21 (2 GiB with r = 8; at r = 1 scrypt itself needs N <
	 * 2^16): refused before scrypt runs, which would take seconds. */
	char big[JPKI_PASSWORD_HASH_MAX];
	assert_int_equal(jpki_password_hash(PW, PW_LEN, big, NULL), JPKI_OK);
	assert_int_equal(strncmp(big, "$scrypt$ln=15,", 14), 0);
	big[11] = '2';
	big[12] = '1';
	double t = seconds();
	assert_false(jpki_password_check(big, PW, PW_LEN));
	t = seconds() - t;
	if (t > 0.05)
		fail_msg("ln=21 took %.3f s: scrypt ran", t);
}

/* Strings that are not hashes: all false, none crash. */
static void test_hash_malformed(void **state)
{
	char good[JPKI_PASSWORD_HASH_MAX], t[400];
	(void)state;
	assert_int_equal(jpki_password_hash(PW, PW_LEN, good, NULL), JPKI_OK);
	const char *tail = good + strlen("$scrypt$ln=15,r=8,p=1$");
	const char *key = strchr(tail, '$') + 1;
	assert_false(jpki_password_check(NULL, PW, PW_LEN));
	static const char *const fixed[] = {
	    "",
	    "$scrypt$",
	    "$scrypt$ln=15,r=8,p=1$",
	    "$scrypt$ln=15,r=8,p=1$$",
	    "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
	    "plain text",
	};
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
		assert_false(jpki_password_check(fixed[i], PW, PW_LEN));
	/* The good salt and key with a broken head, or a broken tail. */
	static const char *const heads[] = {
	    "$scrypt$ln=0,r=8,p=1$",
	    "$scrypt$ln=015,r=8,p=1$",
	    "$scrypt$ln=15,r=0,p=1$",
	    "$scrypt$ln=15,r=8,p=0$",
	    "$scrypt$ln=+15,r=8,p=1$",
	    "$scrypt$ln=15,p=1,r=8$",
	    "$scrypt$ln=15,r=8$",
	    "$scrypt$ln=15,r=8,p=1,x=1$",
	    "$SCRYPT$ln=15,r=8,p=1$",
	    "$scrypt$ln=15, r=8,p=1$",
	    "$scrypt$ln=99999999999999999999,r=8,p=1$",
	    "scrypt$ln=15,r=8,p=1$",
	};
	for (size_t i = 0; i < ARRAY_LEN(heads); i++) {
		snprintf(t, sizeof t, "%s%s", heads[i], tail);
		if (jpki_password_check(t, PW, PW_LEN))
			fail_msg("checks: %s", t);
	}
	const size_t salt_len = (size_t)(key - 1 - tail);
	char salt[64];
	snprintf(salt, sizeof salt, "%.*s", (int)salt_len, tail);
	/* After the head: the salt, then the key, in these layouts. */
	static const char *const tails[] = {
	    "%s$%s=",	/* padding */
	    "%s==$%s",	/* padding on the salt */
	    "%s$%s$",	/* a third part */
	    "%s$%s\n",	/* a trailing newline */
	    "%s$ %s",	/* a space */
	    "%s$%.0s",	/* no key */
	    "%s%s",	/* no "$" between them */
	    "%s$%.42s", /* the key one character short */
	};
	for (size_t i = 0; i < ARRAY_LEN(tails); i++) {
		int n = snprintf(t, sizeof t, "$scrypt$ln=15,r=8,p=1$");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(t + n, sizeof t - (size_t)n, tails[i], salt, key);
#pragma GCC diagnostic pop
		if (jpki_password_check(t, PW, PW_LEN))
			fail_msg("checks: %s", t);
	}
	/* A key of 8 bytes, a salt of 4: not ours. */
	snprintf(t, sizeof t, "$scrypt$ln=15,r=8,p=1$%.*s$AAAAAAAAAAA", (int)salt_len,
		 tail);
	assert_false(jpki_password_check(t, PW, PW_LEN));
	snprintf(t, sizeof t, "$scrypt$ln=15,r=8,p=1$AAAAAA$%s", key);
	assert_false(jpki_password_check(t, PW, PW_LEN));
	/* A length no base64 has (4k + 1 characters). */
	snprintf(t, sizeof t, "$scrypt$ln=15,r=8,p=1$%.*s$%sA", (int)salt_len, tail,
		 key);
	assert_false(jpki_password_check(t, PW, PW_LEN));
	/* And the untouched string still checks. */
	snprintf(t, sizeof t, "$scrypt$ln=15,r=8,p=1$%.*s$%s", (int)salt_len, tail,
		 key);
	assert_true(jpki_password_check(t, PW, PW_LEN));
}

/* ---- roles ---- */

static void test_roles(void **state)
{
	static const struct {
		const char *name;
		enum jpki_staff_role role;
	} ok[] = {{"counter", JPKI_ROLE_COUNTER},
		  {"supervisor", JPKI_ROLE_SUPERVISOR},
		  {"admin", JPKI_ROLE_ADMIN}};
	static const char *const bad[] = {"",	  "Admin",    "admin ",
					  "root", "counters", "1"};
	enum jpki_staff_role r;
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		assert_string_equal(jpki_staff_role_name(ok[i].role), ok[i].name);
		assert_int_equal(jpki_staff_role_parse(ok[i].name, &r), JPKI_OK);
		assert_int_equal(r, ok[i].role);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(jpki_staff_role_parse(bad[i], &r), JPKI_ERR_INVALID);
	assert_int_equal(jpki_staff_role_parse(NULL, &r), JPKI_ERR_INVALID);
	assert_string_equal(jpki_staff_role_name((enum jpki_staff_role)0), "unknown");
	assert_string_equal(jpki_staff_role_name((enum jpki_staff_role)4), "unknown");
}

/* ---- accounts ---- */

static void test_add_list_get(void **state)
{
	struct jpki_store *s = open_fresh();
	struct jpki_staff *v = NULL, a;
	struct jpki_errbuf eb = {{0}};
	size_t n = 99;
	(void)state;
	assert_int_equal(jpki_staff_list(s, &v, &n, &eb), JPKI_OK);
	assert_int_equal(n, 0);
	assert_null(v);

	add_ok(s, "suzuki", JPKI_ROLE_SUPERVISOR, PW, T0);
	add_ok(s, "a.b_c-9", JPKI_ROLE_COUNTER, PW, T0 + 1);
	add_ok(s, "tanaka", JPKI_ROLE_ADMIN, PW, T0 + 2);
	/* 32 characters, the longest. */
	add_ok(s, "abcdefghijklmnopqrstuvwxyz012345", JPKI_ROLE_COUNTER, PW, T0 + 3);

	assert_int_equal(jpki_staff_list(s, &v, &n, &eb), JPKI_OK);
	assert_int_equal(n, 4);
	static const char *const order[] = {
	    "a.b_c-9", "abcdefghijklmnopqrstuvwxyz012345", "suzuki", "tanaka"};
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i].user, order[i]);
	assert_int_equal(v[2].role, JPKI_ROLE_SUPERVISOR);
	assert_int_equal(v[2].created_at, T0);
	assert_int_equal(v[2].last_login, 0);
	assert_false(v[2].disabled);
	assert_true(v[2].id > 0);
	assert_int_equal(v[3].role, JPKI_ROLE_ADMIN);
	free(v);

	assert_int_equal(jpki_staff_get(s, "a.b_c-9", &a, &eb), JPKI_OK);
	assert_string_equal(a.user, "a.b_c-9");
	assert_int_equal(a.role, JPKI_ROLE_COUNTER);
	assert_int_equal(a.created_at, T0 + 1);
	assert_int_equal(jpki_staff_get(s, "nobody", &a, &eb), JPKI_ERR_NOTFOUND);
	assert_contains(eb.msg, "nobody");
	assert_int_equal(jpki_staff_get(s, "Suzuki", &a, &eb), JPKI_ERR_NOTFOUND);
	assert_int_equal(jpki_staff_get(s, NULL, &a, &eb), JPKI_ERR_NOTFOUND);
	jpki_store_close(s);
}

static void test_add_duplicate(void **state)
{
	struct jpki_store *s = open_fresh();
	struct jpki_errbuf eb = {{0}};
	struct jpki_staff *v = NULL;
	size_t n = 0;
	(void)state;
	add_ok(s, "suzuki", JPKI_ROLE_COUNTER, PW, T0);
	assert_int_equal(jpki_staff_add(s, "suzuki", JPKI_ROLE_ADMIN,
					"another password", 16, "tester", T0 + 1, &eb),
			 JPKI_ERR_CONFLICT);
	assert_string_equal(eb.msg, "user suzuki exists");
	/* A disabled account keeps its name. */
	assert_int_equal(jpki_staff_disable(s, "suzuki", "tester", T0 + 2, &eb),
			 JPKI_OK);
	assert_int_equal(jpki_staff_add(s, "suzuki", JPKI_ROLE_ADMIN, PW, PW_LEN,
					"tester", T0 + 3, &eb),
			 JPKI_ERR_CONFLICT);
	assert_int_equal(jpki_staff_list(s, &v, &n, &eb), JPKI_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].role, JPKI_ROLE_COUNTER);
	free(v);
	/* The store is still usable: the failed transaction was rolled back. */
	assert_false(jpki_store_in_transaction(s));
	add_ok(s, "sato", JPKI_ROLE_COUNTER, PW, T0 + 4);
	jpki_store_close(s);
}

static void test_add_bad_input(void **state)
{
	struct jpki_store *s = open_fresh();
	struct jpki_errbuf eb = {{0}};
	struct jpki_staff *v = NULL;
	size_t n = 0;
	(void)state;
	static const char *const bad_users[] = {"",
						"Suzuki",
						"SUZUKI",
						"suzukI",
						"abcdefghijklmnopqrstuvwxyz0123456",
						"1suzuki",
						"a/b",
						".a",
						"-a",
						"_a",
						"suzu ki",
						"suzuki\n",
						"すずき",
						"a@b",
						"a:b"};
	for (size_t i = 0; i < ARRAY_LEN(bad_users); i++) {
		eb.msg[0] = '\0';
		jpki_err e = jpki_staff_add(s, bad_users[i], JPKI_ROLE_COUNTER, PW,
					    PW_LEN, "tester", T0, &eb);
		if (e != JPKI_ERR_INVALID)
			fail_msg("user \"%s\": %s", bad_users[i], jpki_strerror(e));
		assert_contains(eb.msg, "user name");
	}
	assert_int_equal(
	    jpki_staff_add(s, NULL, JPKI_ROLE_COUNTER, PW, PW_LEN, "tester", T0, &eb),
	    JPKI_ERR_INVALID);

#define PW_AND_LEN(x) x, sizeof x - 1
	static const struct {
		const char *pw;
		size_t len;
		const char *why;
	} bad_pw[] = {
	    {PW_AND_LEN(""), "shorter"},
	    {PW_AND_LEN("123456789"), "shorter"},
	    {PW_AND_LEN("tab\tinside it"), "control"},
	    {PW_AND_LEN("new\nline in it"), "control"},
	    {PW_AND_LEN("delete \x7f inside"), "control"},
	    {PW_AND_LEN("c1 \xc2\x85 next line"), "control"},
	    {PW_AND_LEN("nul \0 inside it"), "UTF-8"},
	    {PW_AND_LEN("latin1 \xe9t\xe9 text"), "UTF-8"},
	    {PW_AND_LEN("overlong \xc0\xaf slash"), "UTF-8"},
	    {PW_AND_LEN("surrogate \xed\xa0\x80 half"), "UTF-8"},
	};
#undef PW_AND_LEN
	for (size_t i = 0; i < ARRAY_LEN(bad_pw); i++) {
		eb.msg[0] = '\0';
		jpki_err e =
		    jpki_staff_add(s, "suzuki", JPKI_ROLE_COUNTER, bad_pw[i].pw,
				   bad_pw[i].len, "tester", T0, &eb);
		if (e != JPKI_ERR_INVALID)
			fail_msg("password %zu: %s", i, jpki_strerror(e));
		assert_contains(eb.msg, "password");
		assert_contains(eb.msg, bad_pw[i].why);
	}
	char long_pw[130];
	memset(long_pw, 'x', sizeof long_pw);
	assert_int_equal(jpki_staff_add(s, "suzuki", JPKI_ROLE_COUNTER, long_pw, 129,
					"tester", T0, &eb),
			 JPKI_ERR_INVALID);
	assert_contains(eb.msg, "longer than 128");
	assert_int_equal(
	    jpki_staff_add(s, "suzuki", JPKI_ROLE_COUNTER, NULL, 20, "tester", T0, &eb),
	    JPKI_ERR_INVALID);
	/* A bad role or actor. */
	assert_int_equal(jpki_staff_add(s, "suzuki", (enum jpki_staff_role)0, PW,
					PW_LEN, "tester", T0, &eb),
			 JPKI_ERR_INVALID);
	assert_int_equal(jpki_staff_add(s, "suzuki", (enum jpki_staff_role)4, PW,
					PW_LEN, "tester", T0, &eb),
			 JPKI_ERR_INVALID);
	assert_int_equal(
	    jpki_staff_add(s, "suzuki", JPKI_ROLE_COUNTER, PW, PW_LEN, "", T0, &eb),
	    JPKI_ERR_INVALID);
	assert_int_equal(
	    jpki_staff_add(s, "suzuki", JPKI_ROLE_COUNTER, PW, PW_LEN, NULL, T0, &eb),
	    JPKI_ERR_INVALID);
	assert_int_equal(jpki_staff_list(s, &v, &n, &eb), JPKI_OK);
	assert_int_equal(n, 0);

	/* The edges that pass: 10 and 128 bytes, and UTF-8 text. */
	add_ok(s, "a", JPKI_ROLE_COUNTER, "0123456789", T0);
	long_pw[128] = '\0';
	add_ok(s, "b", JPKI_ROLE_COUNTER, long_pw, T0);
	add_ok(s, "c", JPKI_ROLE_COUNTER, "パスワードです", T0);
	struct jpki_staff a;
	assert_int_equal(jpki_staff_verify(s, "b", long_pw, 128, T0, &a, &eb), JPKI_OK);
	assert_int_equal(jpki_staff_verify(s, "c", "パスワードです",
					   strlen("パスワードです"), T0, &a, &eb),
			 JPKI_OK);
	jpki_store_close(s);
}

static void test_disable(void **state)
{
	struct jpki_store *s = open_fresh();
	struct jpki_errbuf eb = {{0}};
	struct jpki_staff a;
	(void)state;
	add_ok(s, "suzuki", JPKI_ROLE_COUNTER, PW, T0);
	add_ok(s, "sato", JPKI_ROLE_ADMIN, PW, T0);
	assert_int_equal(jpki_staff_disable(s, "suzuki", "tester", T0 + 60, &eb),
			 JPKI_OK);
	assert_int_equal(jpki_staff_get(s, "suzuki", &a, &eb), JPKI_OK);
	assert_true(a.disabled);
	assert_int_equal(a.role, JPKI_ROLE_COUNTER);
	assert_int_equal(jpki_staff_get(s, "sato", &a, &eb), JPKI_OK);
	assert_false(a.disabled);
	/* Twice: fine, nothing changes. */
	assert_int_equal(jpki_staff_disable(s, "suzuki", "tester", T0 + 120, &eb),
			 JPKI_OK);
	assert_int_equal(jpki_staff_get(s, "suzuki", &a, &eb), JPKI_OK);
	assert_true(a.disabled);
	assert_int_equal(jpki_staff_disable(s, "nobody", "tester", T0, &eb),
			 JPKI_ERR_NOTFOUND);
	assert_contains(eb.msg, "nobody");
	assert_int_equal(jpki_staff_disable(s, "No/Body", "tester", T0, &eb),
			 JPKI_ERR_NOTFOUND);
	assert_int_equal(jpki_staff_disable(s, "sato", NULL, T0, &eb),
			 JPKI_ERR_INVALID);
	assert_false(jpki_store_in_transaction(s));
	jpki_store_close(s);
}

/* ---- logins ---- */

static void verify_refused(struct jpki_store *s, const char *user, const char *pw,
			   size_t len)
{
	struct jpki_errbuf eb = {{0}};
	struct jpki_staff a = {.id = 12345};
	jpki_err e = jpki_staff_verify(s, user, pw, len, T0 + 999, &a, &eb);
	if (e != JPKI_ERR_REFUSED)
		fail_msg("%s: %s (%s)", user ? user : "(null)", jpki_strerror(e),
			 eb.msg);
	assert_string_equal(eb.msg, REFUSED_MSG);
	assert_int_equal(a.id, 12345); /* *out untouched */
}

static void test_verify(void **state)
{
	struct jpki_store *s = open_fresh();
	struct jpki_errbuf eb = {{0}};
	struct jpki_staff a, b;
	(void)state;
	add_ok(s, "suzuki", JPKI_ROLE_SUPERVISOR, PW, T0);
	add_ok(s, "sato", JPKI_ROLE_COUNTER, PW, T0);

	assert_int_equal(jpki_staff_verify(s, "suzuki", PW, PW_LEN, T0 + 3600, &a, &eb),
			 JPKI_OK);
	assert_string_equal(a.user, "suzuki");
	assert_int_equal(a.role, JPKI_ROLE_SUPERVISOR);
	assert_int_equal(a.created_at, T0);
	assert_int_equal(a.last_login, T0 + 3600);
	assert_false(a.disabled);
	assert_int_equal(jpki_staff_get(s, "suzuki", &b, &eb), JPKI_OK);
	assert_int_equal(b.last_login, T0 + 3600);
	assert_int_equal(b.id, a.id);
	/* The other account is untouched. */
	assert_int_equal(jpki_staff_get(s, "sato", &b, &eb), JPKI_OK);
	assert_int_equal(b.last_login, 0);

	/* Wrong password, unknown user, bad input: one answer. */
	verify_refused(s, "suzuki", "correct horse batterz", PW_LEN);
	verify_refused(s, "suzuki", PW, PW_LEN - 1);
	verify_refused(s, "suzuki", "", 0);
	verify_refused(s, "suzuki", NULL, 0);
	verify_refused(s, "nobody", PW, PW_LEN);
	verify_refused(s, "Suzuki", PW, PW_LEN);
	verify_refused(s, "", PW, PW_LEN);
	verify_refused(s, NULL, PW, PW_LEN);
	verify_refused(s, "suzuki", "nul \0 inside it", 15);
	assert_int_equal(jpki_staff_get(s, "suzuki", &b, &eb), JPKI_OK);
	assert_int_equal(b.last_login, T0 + 3600); /* failures leave it */

	/* Disabled, with the right password: the same answer. */
	assert_int_equal(jpki_staff_disable(s, "sato", "tester", T0, &eb), JPKI_OK);
	verify_refused(s, "sato", PW, PW_LEN);
	verify_refused(s, "sato", "not the password", 16);
	assert_int_equal(jpki_staff_get(s, "sato", &b, &eb), JPKI_OK);
	assert_int_equal(b.last_login, 0);
	assert_false(jpki_store_in_transaction(s));
	jpki_store_close(s);
}

/* An unknown user costs a scrypt like a known one (the dummy hash). The
 * bound is loose: without it an unknown user takes well under 1% of the
 * time. */
static void test_verify_timing(void **state)
{
	struct jpki_store *s = open_fresh();
	double known = 1e9, unknown = 1e9;
	(void)state;
	add_ok(s, "suzuki", JPKI_ROLE_COUNTER, PW, T0);
	for (int i = 0; i < 3; i++) {
		double t = seconds();
		verify_refused(s, "suzuki", "not the password", 16);
		t = seconds() - t;
		known = t < known ? t : known;
		t = seconds();
		verify_refused(s, "nobody", "not the password", 16);
		t = seconds() - t;
		unknown = t < unknown ? t : unknown;
	}
	if (unknown < known / 4)
		fail_msg("unknown user %.4f s, known %.4f s", unknown, known);
	jpki_store_close(s);
}

/* ---- the audit log ---- */

static void test_audit(void **state)
{
	struct jpki_store *s = open_fresh();
	struct jpki_errbuf eb = {{0}};
	struct jpki_stmt *st = NULL;
	struct jpki_staff a;
	char hash[JPKI_PASSWORD_HASH_MAX] = "";
	bool row = false;
	(void)state;
	add_ok(s, "suzuki", JPKI_ROLE_SUPERVISOR, PW, T0);
	assert_int_equal(jpki_staff_verify(s, "suzuki", PW, PW_LEN, T0 + 1, &a, &eb),
			 JPKI_OK);
	verify_refused(s, "suzuki", "not the password", 16);
	assert_int_equal(jpki_staff_disable(s, "suzuki", "admin:sato", T0 + 2, &eb),
			 JPKI_OK);
	assert_int_equal(jpki_staff_disable(s, "suzuki", "admin:sato", T0 + 3, &eb),
			 JPKI_OK);
	assert_int_equal(jpki_staff_add(s, "suzuki", JPKI_ROLE_ADMIN, PW, PW_LEN,
					"tester", T0 + 4, &eb),
			 JPKI_ERR_CONFLICT);

	assert_int_equal(jpki_stmt_prepare(s,
					   "SELECT password_hash FROM staff WHERE "
					   "username = 'suzuki'",
					   &st),
			 JPKI_OK);
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_true(row);
	snprintf(hash, sizeof hash, "%s", jpki_stmt_text(st, 0));
	jpki_stmt_finalize(st);
	assert_true(jpki_password_check(hash, PW, PW_LEN));

	/* One row for the add, one for the first disable: no logins, no
	 * no-ops, no failures. */
	static const struct {
		const char *at, *actor, *action, *details;
	} want[] = {
	    {"2026-02-21T10:00:00+09:00", "tester", "staff.add",
	     "{\"role\":\"supervisor\"}"},
	    {"2026-02-21T10:00:02+09:00", "admin:sato", "staff.disable",
	     "{\"role\":\"supervisor\"}"},
	};
	assert_int_equal(
	    jpki_stmt_prepare(s,
			      "SELECT at, actor, action, object, details, "
			      "prev_hash, hash FROM audit_log ORDER BY seq",
			      &st),
	    JPKI_OK);
	size_t i = 0;
	while (jpki_stmt_step(st, &row) == JPKI_OK && row) {
		assert_true(i < ARRAY_LEN(want));
		assert_string_equal(jpki_stmt_text(st, 0), want[i].at);
		assert_string_equal(jpki_stmt_text(st, 1), want[i].actor);
		assert_string_equal(jpki_stmt_text(st, 2), want[i].action);
		assert_string_equal(jpki_stmt_text(st, 3), "suzuki");
		assert_string_equal(jpki_stmt_text(st, 4), want[i].details);
		for (int c = 0; c < 7; c++) {
			const char *v = jpki_stmt_text(st, c);
			if (strstr(v, "horse") != NULL || strstr(v, "scrypt") != NULL ||
			    strstr(v, hash + 22) != NULL)
				fail_msg("audit row %zu column %d: %s", i + 1, c, v);
		}
		i++;
	}
	jpki_stmt_finalize(st);
	assert_int_equal(i, ARRAY_LEN(want));
	struct jpki_audit_report r = {0};
	assert_int_equal(jpki_audit_verify(s, &r, &eb), JPKI_OK);
	assert_int_equal(r.rows, 2);
	jpki_store_close(s);
}

/* The table's own rules, below the library: the role CHECK and the
 * unique user name hold even for a row written by hand. */
static void test_schema(void **state)
{
	struct jpki_store *s = open_fresh();
	(void)state;
	assert_int_not_equal(jpki_store_exec(s,
					     "INSERT INTO staff (username, role, "
					     "password_hash, created_at) VALUES ('x', "
					     "'root', 'h', 1)"),
			     JPKI_OK);
	assert_int_equal(jpki_store_exec(s, "INSERT INTO staff (username, role, "
					    "password_hash, created_at) VALUES ('x', "
					    "'admin', 'h', 1)"),
			 JPKI_OK);
	struct jpki_staff a;
	struct jpki_errbuf eb = {{0}};
	assert_int_equal(jpki_staff_get(s, "x", &a, &eb), JPKI_OK);
	assert_int_equal(a.last_login, 0);
	assert_false(a.disabled);
	/* A hash that does not parse never verifies, and does not crash. */
	verify_refused(s, "x", PW, PW_LEN);
	jpki_store_close(s);
}

int main(void)
{
	const struct CMUnitTest hash_tests[] = {
	    cmocka_unit_test(test_hash_round_trip),
	    cmocka_unit_test(test_hash_encoding),
	    cmocka_unit_test(test_hash_rfc7914_vector),
	    cmocka_unit_test(test_hash_tamper),
	    cmocka_unit_test(test_hash_salted),
	    cmocka_unit_test(test_hash_parameters),
	    cmocka_unit_test(test_hash_malformed),
	    cmocka_unit_test(test_roles),
	};
	const struct CMUnitTest store_tests[] = {
	    cmocka_unit_test(test_add_list_get),  cmocka_unit_test(test_add_duplicate),
	    cmocka_unit_test(test_add_bad_input), cmocka_unit_test(test_disable),
	    cmocka_unit_test(test_verify),	  cmocka_unit_test(test_verify_timing),
	    cmocka_unit_test(test_audit),	  cmocka_unit_test(test_schema),
	};
	const char *url = getenv("JPKI_TEST_STORE");
	if (url != NULL && (strncmp(url, "postgresql://", 13) == 0 ||
			    strncmp(url, "postgres://", 11) == 0)) {
		g_pg = url;
		return cmocka_run_group_tests_name("staff on PostgreSQL", store_tests,
						   pg_setup, pg_teardown);
	}
	int rc = cmocka_run_group_tests_name("password hashes", hash_tests, NULL, NULL);
	return rc | cmocka_run_group_tests_name("staff accounts", store_tests, make_dir,
						remove_dir);
}
