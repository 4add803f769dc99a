/* openjpki — what to bring to the counter (DOMAIN §7; seeds 000-004).
 *
 * For each procedure and applicant: the documents and items, in Japanese
 * (residents read them), the ID-document classes accepted (seed 003), how
 * many visits it takes and whether only the main office can do it. All
 * returned data is static.
 */
#ifndef JPKI_BRING_H
#define JPKI_BRING_H

#include <stdbool.h>
#include <stddef.h>

#include "jpki/err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum jpki_procedure {
	JPKI_PROC_RENEW = 0,	 /* 電子証明書の更新 */
	JPKI_PROC_ISSUE = 1,	 /* 電子証明書の発行 (new, or after expiry) */
	JPKI_PROC_PIN_RESET = 2, /* 暗証番号の再設定 */
	JPKI_PROC_REVOKE = 3,	 /* 失効申請 */
};

enum jpki_applicant {
	JPKI_APPLICANT_SELF = 0,
	JPKI_APPLICANT_PROXY_WITH_FORM = 1, /* 任意代理人, sealed 照会書兼回答書 */
	JPKI_APPLICANT_PROXY_WITHOUT_FORM = 2, /* 任意代理人, 文書照会 first */
	JPKI_APPLICANT_GUARDIAN = 3,	       /* 成年後見人 */
	JPKI_APPLICANT_LEGAL_REP = 4,	       /* 法定代理人 of a child under 15 */
};

/* ID-document classes (seed 003). */
enum {
	JPKI_ID_S = 1u << 0, /* マイナンバーカード, 住基カード */
	JPKI_ID_A = 1u << 1, /* 運転免許証, パスポート, 在留カード, 障害者手帳 ... */
	JPKI_ID_B = 1u << 2, /* other photo IDs issued by public bodies */
	JPKI_ID_C =
	    1u << 3, /* insurance card, pension book, bank book ... (no photo) */
	JPKI_ID_D = 1u << 4, /* temporary certificates ... */
};

struct jpki_bring_item {
	const char *text;    /* Japanese */
	unsigned id_classes; /* JPKI_ID_* accepted; 0 if not an ID document */
	int visit;	     /* 1, or 2 for the second visit */
};

struct jpki_bring_list {
	const struct jpki_bring_item *items;
	size_t n_items;
	const char *const *notes; /* Japanese, shown after the items */
	size_t n_notes;
	int visits;	       /* 1, or 2 when a 文書照会 comes first */
	bool main_office_only; /* seed 002: proxies only at 市民課, not branches */
	int fee_yen;	       /* seeds 001, 002 */
};

/* JPKI_ERR_REFUSED when the applicant cannot do the procedure (a voluntary
 * proxy cannot revoke: seed 001 has the holder come in person). */
jpki_err jpki_bring(enum jpki_procedure p, enum jpki_applicant a,
		    const struct jpki_bring_list **out, struct jpki_errbuf *eb);

/* Names as used on the command line: "renew", "pin-reset", "proxy-with-form"... */
jpki_err jpki_procedure_parse(const char *s, enum jpki_procedure *out);
jpki_err jpki_applicant_parse(const char *s, enum jpki_applicant *out);
const char *jpki_procedure_name(enum jpki_procedure p);
const char *jpki_applicant_name(enum jpki_applicant a);

/* "S・A・B" for a class mask; buf needs 16 bytes. Returns buf. */
char *jpki_id_classes_format(unsigned mask, char *buf, size_t bufsz);

#ifdef __cplusplus
}
#endif
#endif
