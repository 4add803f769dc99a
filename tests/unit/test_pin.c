/* PIN formats (DOMAIN §3; seeds 000, 001, 004) and fees (DOMAIN §5;
 * seeds 001, 002).
 *
 * Signing PIN (署名用パスワード): 6 to 16 of A-Z and 0-9 with at least one
 * letter and one digit, upper-cased first as J-LIS's client does; locks after
 * 5 wrong entries. The other three (利用者証明用, 住民基本台帳用,
 * 券面事項入力補助用): exactly 4 digits; lock after 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jpki/fee.h"
#include "jpki/pin.h"
#include "banned.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define NORM_SZ (JPKI_PIN_MAX_LEN + 1)

static const enum jpki_pin_kind all_kinds[] = {JPKI_PIN_SIGN, JPKI_PIN_AUTH,
					       JPKI_PIN_JUKI, JPKI_PIN_TEXT};
static const enum jpki_pin_kind digit_kinds[] = {JPKI_PIN_AUTH, JPKI_PIN_JUKI,
						 JPKI_PIN_TEXT};
static const enum jpki_pin_problem all_problems[] = {
    JPKI_PIN_OK,       JPKI_PIN_EMPTY,	   JPKI_PIN_TOO_SHORT, JPKI_PIN_TOO_LONG,
    JPKI_PIN_BAD_CHAR, JPKI_PIN_NO_LETTER, JPKI_PIN_NO_DIGIT,
};
/* The problems a 4-digit PIN can have. */
static const enum jpki_pin_problem digit_problems[] = {
    JPKI_PIN_OK,       JPKI_PIN_EMPTY,	  JPKI_PIN_TOO_SHORT,
    JPKI_PIN_TOO_LONG, JPKI_PIN_BAD_CHAR,
};

struct pin_case {
	const char *pin;
	size_t len; /* 0 with a non-empty pin: strlen(pin) */
	enum jpki_pin_problem want;
	const char *normalized; /* when valid */
};

static void check_pin(enum jpki_pin_kind k, const struct pin_case *c)
{
	char norm[NORM_SZ];
	size_t len = c->len ? c->len : strlen(c->pin);
	memset(norm, 'X', sizeof norm);
	enum jpki_pin_problem p = jpki_pin_check(k, c->pin, len, norm);
	if (p != c->want)
		fail_msg("kind %d '%.*s' (%zu bytes): %s, expected %s", (int)k,
			 (int)len, c->pin, len, jpki_pin_problem_token(p),
			 jpki_pin_problem_token(c->want));
	if (p == JPKI_PIN_OK) {
		if (memchr(norm, '\0', sizeof norm) == NULL)
			fail_msg("'%s': normalized PIN not terminated", c->pin);
		assert_string_equal(norm, c->normalized);
		return;
	}
	/* After a failure the buffer holds nothing of the PIN: all zero. */
	for (size_t i = 0; i < sizeof norm; i++)
		if (norm[i] != '\0')
			fail_msg("kind %d '%.*s': normalized[%zu] = 0x%02x after %s",
				 (int)k, (int)len, c->pin, i, (unsigned char)norm[i],
				 jpki_pin_problem_token(p));
}

static void test_sign_pin(void **state)
{
	static const struct pin_case cases[] = {
	    {"ABC123", 0, JPKI_PIN_OK, "ABC123"},
	    {"abc123", 0, JPKI_PIN_OK, "ABC123"}, /* upper-cased (DOMAIN §3) */
	    {"aBc1x9", 0, JPKI_PIN_OK, "ABC1X9"},
	    {"1a2b3c", 0, JPKI_PIN_OK, "1A2B3C"},
	    {"A12345", 0, JPKI_PIN_OK, "A12345"}, /* 6: the minimum */
	    {"zzzzz9", 0, JPKI_PIN_OK, "ZZZZZ9"},
	    {"ABCDEFGH12345678", 0, JPKI_PIN_OK, "ABCDEFGH12345678"}, /* 16 */
	    {"abcdefghijklmno0", 0, JPKI_PIN_OK, "ABCDEFGHIJKLMNO0"},
	    {"Z00000000000000Z", 0, JPKI_PIN_OK, "Z00000000000000Z"},
	    /* Only `len` bytes count. */
	    {"ABC123XYZ", 6, JPKI_PIN_OK, "ABC123"},
	    /* negative: length */
	    {"ABC12", 0, JPKI_PIN_TOO_SHORT, NULL}, /* 5 */
	    {"A1", 0, JPKI_PIN_TOO_SHORT, NULL},
	    {"ABCDEFGH123456789", 0, JPKI_PIN_TOO_LONG, NULL}, /* 17 */
	    {"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 0, JPKI_PIN_TOO_LONG, NULL},
	    /* negative: letters and digits both present */
	    {"ABCDEF", 0, JPKI_PIN_NO_DIGIT, NULL},
	    {"abcdef", 0, JPKI_PIN_NO_DIGIT, NULL},
	    {"ABCDEFGHIJKLMNOP", 0, JPKI_PIN_NO_DIGIT, NULL},
	    {"123456", 0, JPKI_PIN_NO_LETTER, NULL},
	    {"1234567890123456", 0, JPKI_PIN_NO_LETTER, NULL},
	    /* negative: characters outside A-Z 0-9 */
	    {"ABC12!", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"ABC 123", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"ABC-123", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"ABC_123", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"ABC\t123", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"ABC123\n", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"ABC\0"
	     "123",
	     7, JPKI_PIN_BAD_CHAR, NULL},	       /* embedded NUL */
	    {"ＡＢＣ123", 0, JPKI_PIN_BAD_CHAR, NULL}, /* full-width, 12 bytes */
	    {"ABC123é", 0, JPKI_PIN_BAD_CHAR, NULL},   /* 8 bytes */
	    {"パス12", 0, JPKI_PIN_BAD_CHAR, NULL},    /* 8 bytes */
	    {"\xff\xfe"
	     "ABC1",
	     0, JPKI_PIN_BAD_CHAR, NULL}, /* not UTF-8 */
	    /* negative: empty */
	    {"", 0, JPKI_PIN_EMPTY, NULL},
	    {"ABC123", 0, JPKI_PIN_OK, "ABC123"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_pin(JPKI_PIN_SIGN, &cases[i]);
}

static void test_digit_pins(void **state)
{
	static const struct pin_case cases[] = {
	    {"1234", 0, JPKI_PIN_OK, "1234"},
	    {"0000", 0, JPKI_PIN_OK, "0000"},
	    {"9876", 0, JPKI_PIN_OK, "9876"},
	    {"123456", 4, JPKI_PIN_OK, "1234"}, /* only `len` bytes count */
	    /* negative */
	    {"123", 0, JPKI_PIN_TOO_SHORT, NULL},
	    {"1", 0, JPKI_PIN_TOO_SHORT, NULL},
	    {"12345", 0, JPKI_PIN_TOO_LONG, NULL},
	    {"12345678901234567", 0, JPKI_PIN_TOO_LONG, NULL},
	    {"12a4", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"abcd", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"12 4", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"-123", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"+123", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"12.4", 0, JPKI_PIN_BAD_CHAR, NULL},
	    {"é12", 0, JPKI_PIN_BAD_CHAR, NULL}, /* 4 bytes */
	    {"12\0"
	     "4",
	     4, JPKI_PIN_BAD_CHAR, NULL}, /* embedded NUL */
	    {"", 0, JPKI_PIN_EMPTY, NULL},
	};
	(void)state;
	for (size_t k = 0; k < ARRAY_LEN(digit_kinds); k++)
		for (size_t i = 0; i < ARRAY_LEN(cases); i++)
			check_pin(digit_kinds[k], &cases[i]);
}

/* A valid PIN of one kind is not valid for the other. */
static void test_kinds_differ(void **state)
{
	static const struct pin_case digits_as_sign = {"1234", 0, JPKI_PIN_TOO_SHORT,
						       NULL};
	(void)state;
	for (size_t k = 0; k < ARRAY_LEN(digit_kinds); k++) {
		char norm[NORM_SZ];
		memset(norm, 'X', sizeof norm);
		/* Both too long and not digits: either problem, never OK. */
		enum jpki_pin_problem p =
		    jpki_pin_check(digit_kinds[k], "ABC123", 6, norm);
		if (p != JPKI_PIN_BAD_CHAR && p != JPKI_PIN_TOO_LONG)
			fail_msg("kind %d: 'ABC123' gave %s", (int)digit_kinds[k],
				 jpki_pin_problem_token(p));
		for (size_t i = 0; i < sizeof norm; i++)
			assert_int_equal(norm[i], 0);
	}
	check_pin(JPKI_PIN_SIGN, &digits_as_sign);
}

/* The input is never modified: normalization goes to the caller's buffer. */
static void test_input_untouched(void **state)
{
	char pin[] = "abc123";
	char norm[NORM_SZ];
	(void)state;
	assert_int_equal(jpki_pin_check(JPKI_PIN_SIGN, pin, strlen(pin), norm),
			 JPKI_PIN_OK);
	assert_string_equal(pin, "abc123");
	assert_string_equal(norm, "ABC123");
}

static void test_max_tries(void **state)
{
	static const struct {
		enum jpki_pin_kind k;
		int tries;
	} cases[] = {
	    {JPKI_PIN_SIGN, 5},
	    {JPKI_PIN_AUTH, 3},
	    {JPKI_PIN_JUKI, 3},
	    {JPKI_PIN_TEXT, 3},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(jpki_pin_max_tries(cases[i].k), cases[i].tries);
}

static bool is_snake_case(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

static void test_tokens(void **state)
{
	(void)state;
	assert_string_equal(jpki_pin_problem_token(JPKI_PIN_TOO_SHORT), "too_short");
	for (size_t i = 0; i < ARRAY_LEN(all_problems); i++) {
		const char *t = jpki_pin_problem_token(all_problems[i]);
		if (!is_snake_case(t))
			fail_msg("problem %d: token '%s' is not snake_case",
				 (int)all_problems[i], t ? t : "(null)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(t, jpki_pin_problem_token(all_problems[j])) == 0)
				fail_msg("problems %d and %d share the token '%s'",
					 (int)all_problems[i], (int)all_problems[j], t);
	}
	/* An unknown value still gets a string. */
	assert_non_null(jpki_pin_problem_token((enum jpki_pin_problem)99));
}

typedef const char *(*message_fn)(enum jpki_pin_kind, enum jpki_pin_problem);

/* Every message is non-NULL and non-empty; within a kind, each problem the
 * kind can have gets its own message. */
static void check_messages(message_fn fn, const char *lang)
{
	for (size_t k = 0; k < ARRAY_LEN(all_kinds); k++) {
		enum jpki_pin_kind kind = all_kinds[k];
		const enum jpki_pin_problem *ps =
		    kind == JPKI_PIN_SIGN ? all_problems : digit_problems;
		size_t np = kind == JPKI_PIN_SIGN ? ARRAY_LEN(all_problems)
						  : ARRAY_LEN(digit_problems);
		for (size_t i = 0; i < np; i++) {
			const char *m = fn(kind, ps[i]);
			if (m == NULL || m[0] == '\0')
				fail_msg("%s: kind %d problem %d: no message", lang,
					 (int)kind, (int)ps[i]);
			for (size_t j = 0; j < i; j++)
				if (strcmp(m, fn(kind, ps[j])) == 0)
					fail_msg(
					    "%s: kind %d: problems %s and %s share "
					    "the message '%s'",
					    lang, (int)kind,
					    jpki_pin_problem_token(ps[j]),
					    jpki_pin_problem_token(ps[i]), m);
		}
		assert_non_null(fn(kind, (enum jpki_pin_problem)99));
	}
}

static void test_messages_en(void **state)
{
	(void)state;
	check_messages(jpki_pin_problem_en, "en");
	/* The length and character rules differ between the signing PIN and
	 * the 4-digit PINs, and so do the messages saying them. */
	assert_string_not_equal(jpki_pin_problem_en(JPKI_PIN_SIGN, JPKI_PIN_TOO_SHORT),
				jpki_pin_problem_en(JPKI_PIN_AUTH, JPKI_PIN_TOO_SHORT));
	assert_string_not_equal(jpki_pin_problem_en(JPKI_PIN_SIGN, JPKI_PIN_BAD_CHAR),
				jpki_pin_problem_en(JPKI_PIN_AUTH, JPKI_PIN_BAD_CHAR));
}

static void test_messages_ja(void **state)
{
	(void)state;
	check_messages(jpki_pin_problem_ja, "ja");
	assert_string_not_equal(jpki_pin_problem_ja(JPKI_PIN_SIGN, JPKI_PIN_TOO_SHORT),
				jpki_pin_problem_ja(JPKI_PIN_AUTH, JPKI_PIN_TOO_SHORT));
}

/* ---- fees (DOMAIN §5; seeds 001, 002) ---- */

static void test_fees(void **state)
{
	static const struct {
		enum jpki_fee_case c;
		int yen;
	} cases[] = {
	    {JPKI_FEE_CERT_RENEWAL, 0},			/* seed 002 Q1 */
	    {JPKI_FEE_CERT_FIRST_ISSUE, 0},		/* seed 001 初回無料 */
	    {JPKI_FEE_CERT_REISSUE_NEW_CARD, 200},	/* seed 001 */
	    {JPKI_FEE_CARD_RENEWAL_RETURNED, 0},	/* seed 002 Q7 */
	    {JPKI_FEE_CARD_RENEWAL_NOT_RETURNED, 1000}, /* seed 002 Q7 */
	    {JPKI_FEE_CARD_RENEWAL_NOT_RETURNED_NO_CERTS, 800}, /* seed 002 Q7 */
	    /* negative: not a case */
	    {(enum jpki_fee_case)6, -1},
	    {(enum jpki_fee_case)99, -1},
	    {(enum jpki_fee_case) - 1, -1},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (jpki_fee_yen(cases[i].c) != cases[i].yen)
			fail_msg("fee case %d: %d yen, expected %d", (int)cases[i].c,
				 jpki_fee_yen(cases[i].c), cases[i].yen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sign_pin),	 cmocka_unit_test(test_digit_pins),
	    cmocka_unit_test(test_kinds_differ), cmocka_unit_test(test_input_untouched),
	    cmocka_unit_test(test_max_tries),	 cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_messages_en),	 cmocka_unit_test(test_messages_ja),
	    cmocka_unit_test(test_fees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
