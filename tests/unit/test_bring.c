/* What to bring (DOMAIN §7; seeds 000-004): each procedure and applicant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jpki/bring.h"
#include "banned.h"

static const struct jpki_bring_list *get(enum jpki_procedure p, enum jpki_applicant a)
{
	const struct jpki_bring_list *l = NULL;
	struct jpki_errbuf eb = {{0}};
	if (jpki_bring(p, a, &l, &eb) != JPKI_OK)
		fail_msg("%s/%s refused: %s", jpki_procedure_name(p),
			 jpki_applicant_name(a), eb.msg);
	return l;
}

/* The item whose text contains needle (in a given visit, 0 = any). */
static const struct jpki_bring_item *find(const struct jpki_bring_list *l,
					  const char *needle, int visit)
{
	for (size_t i = 0; i < l->n_items; i++)
		if (strstr(l->items[i].text, needle) &&
		    (visit == 0 || l->items[i].visit == visit))
			return &l->items[i];
	return NULL;
}

static bool has_note(const struct jpki_bring_list *l, const char *needle)
{
	for (size_t i = 0; i < l->n_notes; i++)
		if (strstr(l->notes[i], needle))
			return true;
	return false;
}

static void test_renew_self(void **state)
{
	(void)state;
	const struct jpki_bring_list *l = get(JPKI_PROC_RENEW, JPKI_APPLICANT_SELF);
	/* Seeds 000, 002: the card and the PINs; an ID document only when
	 * the PINs are forgotten; any office; free. */
	assert_non_null(find(l, "マイナンバーカード", 1));
	assert_non_null(find(l, "暗証番号", 1));
	const struct jpki_bring_item *id = find(l, "本人確認書類", 1);
	assert_non_null(id);
	assert_non_null(strstr(id->text, "分からない"));
	/* Seed 000 accepts a health insurance card (class C). */
	assert_true(id->id_classes & JPKI_ID_C);
	assert_false(l->main_office_only);
	assert_int_equal(l->visits, 1);
	assert_int_equal(l->fee_yen, 0);
}

static void test_renew_proxies(void **state)
{
	(void)state;
	const struct jpki_bring_list *l =
	    get(JPKI_PROC_RENEW, JPKI_APPLICANT_PROXY_WITH_FORM);
	/* Seeds 000, 002, 003: the holder's card, the sealed form, the
	 * proxy's photo ID of class S, A or B; main office only (seed 002). */
	assert_non_null(find(l, "申請者本人のマイナンバーカード", 1));
	const struct jpki_bring_item *form = find(l, "照会書兼回答書", 1);
	assert_non_null(form);
	assert_non_null(strstr(form->text, "封"));
	const struct jpki_bring_item *id = find(l, "代理人の本人確認書類", 1);
	assert_non_null(id);
	assert_int_equal(id->id_classes, JPKI_ID_S | JPKI_ID_A | JPKI_ID_B);
	assert_true(l->main_office_only);
	assert_int_equal(l->visits, 1);

	/* Seed 004: without the form, a 文書照会 and two visits; the first
	 * visit accepts a health insurance card, the second needs a photo ID. */
	l = get(JPKI_PROC_RENEW, JPKI_APPLICANT_PROXY_WITHOUT_FORM);
	assert_int_equal(l->visits, 2);
	assert_true(l->main_office_only);
	assert_null(find(l, "照会書兼回答書", 1));
	assert_non_null(find(l, "照会書兼回答書", 2));
	id = find(l, "代理人の本人確認書類", 1);
	assert_non_null(id);
	assert_true(id->id_classes & JPKI_ID_C);
	id = find(l, "代理人の本人確認書類", 2);
	assert_non_null(id);
	assert_false(id->id_classes & JPKI_ID_C);
	assert_true(has_note(l, "2回"));
}

static void test_guardian_and_legal_rep(void **state)
{
	(void)state;
	/* Seed 004: 登記事項証明書, the guardian's photo ID, and the ward must
	 * come for the signing certificate. */
	const struct jpki_bring_list *l = get(JPKI_PROC_RENEW, JPKI_APPLICANT_GUARDIAN);
	assert_non_null(find(l, "登記事項証明書", 1));
	assert_non_null(find(l, "成年後見人の本人確認書類", 1));
	assert_true(has_note(l, "同行"));

	/* Seed 001: the legal representative of a child under 15 proves the
	 * authority (戸籍謄本) and gets no signing certificate. */
	for (int p = JPKI_PROC_RENEW; p <= JPKI_PROC_REVOKE; p++) {
		l = get((enum jpki_procedure)p, JPKI_APPLICANT_LEGAL_REP);
		assert_non_null(find(l, "戸籍謄本", 1));
		const struct jpki_bring_item *id =
		    find(l, "法定代理人の本人確認書類", 1);
		assert_non_null(id);
		assert_int_equal(id->id_classes, JPKI_ID_S | JPKI_ID_A | JPKI_ID_B);
	}
	l = get(JPKI_PROC_ISSUE, JPKI_APPLICANT_LEGAL_REP);
	assert_true(has_note(l, "15歳未満"));
}

static void test_issue_pin_reset_revoke(void **state)
{
	(void)state;
	/* Seed 001: issuance needs the 住基 PIN on the terminal; re-issue on
	 * a re-issued card costs 200 yen. */
	const struct jpki_bring_list *l = get(JPKI_PROC_ISSUE, JPKI_APPLICANT_SELF);
	assert_non_null(find(l, "住民基本台帳用暗証番号", 1));
	assert_true(has_note(l, "200円"));

	/* Seeds 001, 002: a forgotten PIN is re-set with an ID document. */
	l = get(JPKI_PROC_PIN_RESET, JPKI_APPLICANT_SELF);
	assert_non_null(find(l, "本人確認書類", 1));
	assert_non_null(find(l, "新しく設定する暗証番号", 1));

	/* Seed 001: revocation in person, or by the legal representative;
	 * never again valid. A voluntary proxy is refused. */
	l = get(JPKI_PROC_REVOKE, JPKI_APPLICANT_SELF);
	assert_true(has_note(l, "再び有効になることはありません"));
	const struct jpki_bring_list *none = NULL;
	struct jpki_errbuf eb = {{0}};
	assert_int_equal(
	    jpki_bring(JPKI_PROC_REVOKE, JPKI_APPLICANT_PROXY_WITH_FORM, &none, &eb),
	    JPKI_ERR_REFUSED);
	assert_null(none);
	assert_non_null(strstr(eb.msg, "in person"));
	assert_int_equal(
	    jpki_bring(JPKI_PROC_REVOKE, JPKI_APPLICANT_PROXY_WITHOUT_FORM, &none, &eb),
	    JPKI_ERR_REFUSED);
}

static void test_every_list_is_well_formed(void **state)
{
	(void)state;
	for (int p = 0; p < 4; p++) {
		for (int a = 0; a < 5; a++) {
			const struct jpki_bring_list *l = NULL;
			if (jpki_bring((enum jpki_procedure)p, (enum jpki_applicant)a,
				       &l, NULL) != JPKI_OK)
				continue;
			assert_true(l->n_items >= 1);
			/* Only the holder in person may use a branch (seed 002). */
			assert_int_equal(l->main_office_only, a != JPKI_APPLICANT_SELF);
			int max_visit = 0;
			for (size_t i = 0; i < l->n_items; i++) {
				assert_true(strlen(l->items[i].text) > 0);
				assert_true(l->items[i].visit >= 1 &&
					    l->items[i].visit <= 2);
				if (l->items[i].visit > max_visit)
					max_visit = l->items[i].visit;
				/* Class D (temporary papers) is never enough. */
				assert_false(l->items[i].id_classes & JPKI_ID_D);
			}
			assert_int_equal(max_visit, l->visits);
			/* Every proxy needs some ID document of the proxy. */
			if (a != JPKI_APPLICANT_SELF)
				assert_non_null(find(l, "本人確認書類", 0));
		}
	}
}

static void test_names(void **state)
{
	(void)state;
	static const char *const procs[] = {"renew", "issue", "pin-reset", "revoke"};
	static const char *const apps[] = {
	    "self", "proxy-with-form", "proxy-without-form", "guardian", "legal-rep"};
	for (int i = 0; i < 4; i++) {
		enum jpki_procedure p;
		assert_int_equal(jpki_procedure_parse(procs[i], &p), JPKI_OK);
		assert_int_equal(p, i);
		assert_string_equal(jpki_procedure_name(p), procs[i]);
	}
	for (int i = 0; i < 5; i++) {
		enum jpki_applicant a;
		assert_int_equal(jpki_applicant_parse(apps[i], &a), JPKI_OK);
		assert_int_equal(a, i);
		assert_string_equal(jpki_applicant_name(a), apps[i]);
	}
	enum jpki_procedure p;
	enum jpki_applicant a;
	static const char *const bad[] = {"", "Renew", "renew ", "reissue",
					  "pin_reset"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(jpki_procedure_parse(bad[i], &p), JPKI_ERR_INVALID);
		assert_int_equal(jpki_applicant_parse(bad[i], &a), JPKI_ERR_INVALID);
	}
	const struct jpki_bring_list *l;
	assert_int_equal(
	    jpki_bring((enum jpki_procedure)9, JPKI_APPLICANT_SELF, &l, NULL),
	    JPKI_ERR_INVALID);

	char buf[16];
	assert_string_equal(
	    jpki_id_classes_format(JPKI_ID_S | JPKI_ID_A | JPKI_ID_B, buf, sizeof buf),
	    "S・A・B");
	assert_string_equal(jpki_id_classes_format(JPKI_ID_C, buf, sizeof buf), "C");
	assert_string_equal(jpki_id_classes_format(0, buf, sizeof buf), "");
	/* Too small: truncated at a whole class, still terminated. */
	assert_string_equal(jpki_id_classes_format(JPKI_ID_S | JPKI_ID_A, buf, 4), "S");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_renew_self),
	    cmocka_unit_test(test_renew_proxies),
	    cmocka_unit_test(test_guardian_and_legal_rep),
	    cmocka_unit_test(test_issue_pin_reset_revoke),
	    cmocka_unit_test(test_every_list_is_well_formed),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
