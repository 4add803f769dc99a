/* Reservation IDs (lib/notice/rid.c): the Damm check digit, fresh IDs,
 * what a person may type, and that every single-digit error and every
 * adjacent transposition is caught. Also the strict "YYYY-MM" of a run's
 * month (jpki_notice_parse_month), read by jpki notice and jpkid alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jpki/notice.h"
#include "banned.h"

static void test_damm_published_example(void **state)
{
	(void)state;
	/* Damm's worked example: 572 -> 4, and 5724 checks to 0. */
	assert_int_equal(jpki_damm_digit("572", 3), '4');
	assert_int_equal(jpki_damm_digit("5724", 4), '0');
	assert_int_equal(jpki_damm_digit("", 0), '0');
}

static void test_new_ids(void **state)
{
	(void)state;
	char seen[200][JPKI_RID_BUFSZ];
	for (int i = 0; i < 200; i++) {
		char id[JPKI_RID_BUFSZ], back[JPKI_RID_BUFSZ];
		assert_int_equal(jpki_rid_new(id), JPKI_OK);
		assert_int_equal(strlen(id), JPKI_RID_DIGITS);
		assert_true(id[0] != '0');
		assert_int_equal(strspn(id, "0123456789"), JPKI_RID_DIGITS);
		assert_int_equal(jpki_rid_parse(id, back, NULL), JPKI_OK);
		assert_string_equal(back, id);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(seen[j], id);
		snprintf(seen[i], sizeof seen[i], "%s", id);
	}
}

static void test_typed_forms(void **state)
{
	(void)state;
	char id[JPKI_RID_BUFSZ], out[JPKI_RID_BUFSZ], shown[20], typed[128];
	assert_int_equal(jpki_rid_new(id), JPKI_OK);
	assert_string_equal(jpki_rid_format(id, shown), shown);
	assert_int_equal(strlen(shown), 19);
	assert_true(shown[4] == ' ' && shown[9] == ' ' && shown[14] == ' ');
	assert_int_equal(jpki_rid_parse(shown, out, NULL), JPKI_OK);
	assert_string_equal(out, id);
	snprintf(typed, sizeof typed, "%.4s-%.4s-%.4s-%.4s", id, id + 4, id + 8,
		 id + 12);
	assert_int_equal(jpki_rid_parse(typed, out, NULL), JPKI_OK);
	assert_string_equal(out, id);
	/* Full-width digits (U+FF10..) and an ideographic space, as an IME
	 * types them. */
	size_t k = 0;
	for (int i = 0; i < JPKI_RID_DIGITS; i++) {
		if (i == 8) {
			memcpy(typed + k, "\xe3\x80\x80", 3);
			k += 3;
		}
		typed[k++] = (char)0xef;
		typed[k++] = (char)0xbc;
		typed[k++] = (char)(0x90 + (id[i] - '0'));
	}
	typed[k] = '\0';
	assert_int_equal(jpki_rid_parse(typed, out, NULL), JPKI_OK);
	assert_string_equal(out, id);
}

static void test_errors_caught(void **state)
{
	(void)state;
	for (int n = 0; n < 20; n++) {
		char id[JPKI_RID_BUFSZ], bad[JPKI_RID_BUFSZ], out[JPKI_RID_BUFSZ];
		struct jpki_errbuf eb = {{0}};
		assert_int_equal(jpki_rid_new(id), JPKI_OK);
		for (int i = 0; i < JPKI_RID_DIGITS; i++) {
			for (char d = '0'; d <= '9'; d++) {
				if (d == id[i])
					continue;
				memcpy(bad, id, sizeof bad);
				bad[i] = d;
				assert_int_equal(jpki_rid_parse(bad, out, &eb),
						 JPKI_ERR_INVALID);
				assert_non_null(strstr(eb.msg, "check digit"));
			}
			if (i + 1 < JPKI_RID_DIGITS && id[i] != id[i + 1]) {
				memcpy(bad, id, sizeof bad);
				bad[i] = id[i + 1];
				bad[i + 1] = id[i];
				assert_int_equal(jpki_rid_parse(bad, out, NULL),
						 JPKI_ERR_INVALID);
			}
		}
	}
}

static void test_malformed(void **state)
{
	(void)state;
	char out[JPKI_RID_BUFSZ];
	struct jpki_errbuf eb = {{0}};
	const char *bad[] = {"",
			     "123",
			     "12345678901234567",
			     "1234567890123456789",
			     "1234x67890123456",
			     "１２３",
			     "1234_5678_9012_3456",
			     NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(jpki_rid_parse(bad[i], out, &eb), JPKI_ERR_INVALID);
	assert_int_equal(jpki_rid_parse(NULL, out, &eb), JPKI_ERR_INVALID);
	assert_non_null(strstr(eb.msg, "16 digits"));
}

static void test_parse_month(void **state)
{
	(void)state;
	int y = 0, m = 0;
	assert_int_equal(jpki_notice_parse_month("2027-01", &y, &m), JPKI_OK);
	assert_int_equal(y * 100 + m, 202701);
	assert_int_equal(jpki_notice_parse_month("2026-12", &y, &m), JPKI_OK);
	assert_int_equal(y * 100 + m, 202612);
	const char *bad[] = {"2027-1",	 "2027-13", "2027-00", "27-01",
			     "2027-+1",	 "+202-01", " 2027-1", "2027/01",
			     "2027-01x", "1867-12", "2200-01", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(jpki_notice_parse_month(bad[i], &y, &m),
				 JPKI_ERR_INVALID);
	assert_int_equal(jpki_notice_parse_month(NULL, &y, &m), JPKI_ERR_INVALID);
	assert_int_equal(y * 100 + m, 202612); /* left alone on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_damm_published_example),
	    cmocka_unit_test(test_new_ids),
	    cmocka_unit_test(test_typed_forms),
	    cmocka_unit_test(test_errors_caught),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_parse_month),
	};
	return cmocka_run_group_tests_name("reservation IDs", tests, NULL, NULL);
}
