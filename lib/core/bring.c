/* What to bring, per procedure and applicant (DOMAIN §7).
 *
 * Sources: seed 000 (Atsugi: self and proxy with the sealed form), seed 001
 * (Shimotsuma: issuance, legal representatives, revocation, PIN reset),
 * seed 002 (Koshigaya: proxies only at 市民課; forgotten PINs re-set with an
 * ID document), seed 003 (Toshima: ID classes S/A/B/C/D, proxy needs S, A
 * or B), seed 004 (Yokohama: proxy without the form via 文書照会 in two
 * visits; adult guardian). Where the seeds are silent the choice is marked
 * [decision] and explained in docs/internals/core.md.
 */
#include <string.h>

#include "jpki/bring.h"
#include "banned.h"

/* Japanese data tables, laid out by hand: clang-format 14 measures UTF-8
 * in bytes and would pad them out of shape. */
/* clang-format off */
#define SAB (JPKI_ID_S | JPKI_ID_A | JPKI_ID_B)
#define SABC (JPKI_ID_S | JPKI_ID_A | JPKI_ID_B | JPKI_ID_C)
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Item texts used by several lists. */
#define CARD_SELF "マイナンバーカード"
#define CARD_HOLDER "申請者本人のマイナンバーカード"
#define NOTICE_IF_ANY "有効期限通知書（届いている場合。届いていなくても手続きできます）"
#define PINS_SELF                                                            \
	"署名用電子証明書の暗証番号（英数字6～16桁）と利用者証明用電子証明書の暗" \
	"証番号（数字4桁）（窓口の端末でご本人が入力します）"
#define NEW_PINS                                                             \
	"新しく設定する暗証番号（署名用は英数字混合6～16桁、利用者証明用は数字4" \
	"桁。窓口の端末でご本人が入力します）"
#define ID_PHOTO_PROXY "代理人の本人確認書類1点（官公署発行の顔写真付きのもの）"
#define ID_PHOTO_GUARDIAN                                                    \
	"成年後見人の本人確認書類1点（官公署発行の顔写真付きのもの。ない場合は文" \
	"書照会となります）"
#define ID_PHOTO_LEGAL_REP                                                   \
	"法定代理人の本人確認書類1点（官公署発行の顔写真付きのもの）"
#define REGISTRY_CERT "登記事項証明書（成年後見登記。代理権を証する書類）"
#define KOSEKI "代理権を証する書類（戸籍謄本など）"
#define SEALED_FORM                                                          \
	"照会書兼回答書（ご本人が暗証番号など必要事項を記入し、照会書兼回答書封入" \
	"用封筒に入れて封をしたもの）"
#define INQUIRY_FORM                                                         \
	"照会書兼回答書（文書照会で本人あてに郵送したもの。ご本人が暗証番号を記入" \
	"し、署名又は記名押印のうえ、暗証番号が見えないようシールを貼ったもの）"

#define NOTE_MAIN "本庁の窓口（市民課）でのみ手続きできます。出張所ではできません。"
#define NOTE_TWO_VISITS                                                      \
	"ご本人あてに文書照会を郵送するため、2回の来庁が必要です（即日の手続きは" \
	"できません）。"
#define NOTE_FORM_COMPLETE "照会書兼回答書に記入されていない箇所があると手続きできません。"
#define NOTE_PIN_MISMATCH                                                    \
	"暗証番号が照合できない場合は暗証番号の再設定が必要となり、文書照会によ" \
	"る再度の来庁が必要です。"
#define NOTE_WARD_SIGN "署名用電子証明書には、ご本人（成年被後見人）の同行が必要です。"
#define NOTE_UNDER15 "15歳未満の方には署名用電子証明書は発行されません（利用者証明用のみ）。"
#define NOTE_ORIGINALS "書類は原本をお持ちください。"
#define NOTE_ID_MATCH "本人確認書類の氏名・住所は住民票の記載と一致している必要があります。"
#define NOTE_REISSUE_FEE                                                     \
	"手数料は無料です。ただし、マイナンバーカードの再交付に伴う再発行は200円" \
	"です。"

/* ---- renew ---- */
static const struct jpki_bring_item renew_self[] = {
	{CARD_SELF, 0, 1},
	{NOTICE_IF_ANY, 0, 1},
	{PINS_SELF, 0, 1},
	{"本人確認書類1点（暗証番号が分からない・ロックされている場合のみ。暗証番号"
	 "を再設定します）", SABC, 1},
};
static const char *const renew_self_notes[] = {NOTE_ORIGINALS, NOTE_ID_MATCH};

static const struct jpki_bring_item renew_proxy_form[] = {
	{CARD_HOLDER, 0, 1},
	{SEALED_FORM, 0, 1},
	{"有効期限通知書", 0, 1},
	{ID_PHOTO_PROXY, SAB, 1},
};
static const char *const renew_proxy_form_notes[] = {
	NOTE_MAIN, NOTE_FORM_COMPLETE, NOTE_PIN_MISMATCH, NOTE_ORIGINALS,
	NOTE_ID_MATCH};

static const struct jpki_bring_item renew_proxy_noform[] = {
	{CARD_HOLDER, 0, 1},
	{NOTICE_IF_ANY, 0, 1},
	{"代理人の本人確認書類1点（マイナンバーカード、運転免許証、健康保険証など）",
	 SABC, 1},
	{CARD_HOLDER, 0, 2},
	{NOTICE_IF_ANY, 0, 2},
	{INQUIRY_FORM, 0, 2},
	{ID_PHOTO_PROXY, SAB, 2},
};
static const char *const renew_proxy_noform_notes[] = {
	NOTE_MAIN, NOTE_TWO_VISITS, NOTE_ORIGINALS, NOTE_ID_MATCH};

static const struct jpki_bring_item renew_guardian[] = {
	{"ご本人（成年被後見人）のマイナンバーカード", 0, 1},
	{NOTICE_IF_ANY, 0, 1},
	{REGISTRY_CERT, 0, 1},
	{ID_PHOTO_GUARDIAN, SAB, 1},
	{"マイナンバーカードの暗証番号（窓口で確認します）", 0, 1},
};
static const char *const guardian_notes[] = {NOTE_WARD_SIGN, NOTE_MAIN,
					     NOTE_ORIGINALS, NOTE_ID_MATCH};

static const struct jpki_bring_item renew_legal_rep[] = {
	{"ご本人（15歳未満の方）のマイナンバーカード", 0, 1},
	{NOTICE_IF_ANY, 0, 1},
	{KOSEKI, 0, 1},
	{ID_PHOTO_LEGAL_REP, SAB, 1},
	{"利用者証明用電子証明書の暗証番号（数字4桁）", 0, 1},
};
static const char *const legal_rep_notes[] = {NOTE_UNDER15, NOTE_MAIN,
					      NOTE_ORIGINALS, NOTE_ID_MATCH};

/* ---- issue (seed 001: the 住基 PIN is entered on the terminal) ---- */
static const struct jpki_bring_item issue_self[] = {
	{"マイナンバーカード（住民基本台帳用暗証番号（数字4桁）の入力が必要です）", 0,
	 1},
	{NEW_PINS, 0, 1},
};
static const char *const issue_self_notes[] = {NOTE_REISSUE_FEE, NOTE_ORIGINALS};

static const struct jpki_bring_item issue_proxy_form[] = {
	{CARD_HOLDER, 0, 1},
	{SEALED_FORM, 0, 1},
	{ID_PHOTO_PROXY, SAB, 1},
};
static const char *const issue_proxy_form_notes[] = {
	NOTE_MAIN, NOTE_FORM_COMPLETE, NOTE_REISSUE_FEE, NOTE_ORIGINALS,
	NOTE_ID_MATCH};

static const struct jpki_bring_item issue_proxy_noform[] = {
	{CARD_HOLDER, 0, 1},
	{"代理人の本人確認書類1点（マイナンバーカード、運転免許証、健康保険証など）",
	 SABC, 1},
	{CARD_HOLDER, 0, 2},
	{INQUIRY_FORM, 0, 2},
	{ID_PHOTO_PROXY, SAB, 2},
};
static const char *const issue_proxy_noform_notes[] = {
	NOTE_MAIN, NOTE_TWO_VISITS, NOTE_REISSUE_FEE, NOTE_ORIGINALS,
	NOTE_ID_MATCH};

static const struct jpki_bring_item issue_guardian[] = {
	{"ご本人（成年被後見人）のマイナンバーカード", 0, 1},
	{REGISTRY_CERT, 0, 1},
	{ID_PHOTO_GUARDIAN, SAB, 1},
};

static const struct jpki_bring_item issue_legal_rep[] = {
	{"ご本人（15歳未満の方）のマイナンバーカード", 0, 1},
	{KOSEKI, 0, 1},
	{ID_PHOTO_LEGAL_REP, SAB, 1},
};

/* ---- PIN reset (seeds 001, 002, 004) ---- */
static const struct jpki_bring_item pin_self[] = {
	{CARD_SELF, 0, 1},
	{"本人確認書類1点（運転免許証、パスポート、健康保険証、年金手帳など）", SABC, 1},
	{NEW_PINS, 0, 1},
};
static const char *const pin_self_notes[] = {NOTE_ORIGINALS, NOTE_ID_MATCH};

static const struct jpki_bring_item pin_proxy_form[] = {
	{CARD_HOLDER, 0, 1},
	{"照会書兼回答書（文書照会で本人あてに郵送したもの。ご本人が新しい暗証番号を"
	 "記入し、封をしたもの）", 0, 1},
	{ID_PHOTO_PROXY, SAB, 1},
};
#define NOTE_NOTICE_FORM_NO_RESET                                            \
	"有効期限通知書に同封の照会書兼回答書（現在の暗証番号を記入するもの）では暗証" \
	"番号を再設定できません。"
static const char *const pin_proxy_form_notes[] = {
	NOTE_MAIN, NOTE_NOTICE_FORM_NO_RESET, NOTE_ORIGINALS, NOTE_ID_MATCH};

static const struct jpki_bring_item pin_proxy_noform[] = {
	{CARD_HOLDER, 0, 1},
	{"代理人の本人確認書類1点（マイナンバーカード、運転免許証、健康保険証など）",
	 SABC, 1},
	{CARD_HOLDER, 0, 2},
	{"照会書兼回答書（文書照会で本人あてに郵送したもの。ご本人が新しい暗証番号を"
	 "記入し、封をしたもの）", 0, 2},
	{ID_PHOTO_PROXY, SAB, 2},
};
static const char *const pin_proxy_noform_notes[] = {
	NOTE_MAIN, NOTE_TWO_VISITS, NOTE_ORIGINALS, NOTE_ID_MATCH};

static const struct jpki_bring_item pin_guardian[] = {
	{"ご本人（成年被後見人）のマイナンバーカード", 0, 1},
	{REGISTRY_CERT, 0, 1},
	{ID_PHOTO_GUARDIAN, SAB, 1},
	{NEW_PINS, 0, 1},
};

static const struct jpki_bring_item pin_legal_rep[] = {
	{"ご本人（15歳未満の方）のマイナンバーカード", 0, 1},
	{KOSEKI, 0, 1},
	{ID_PHOTO_LEGAL_REP, SAB, 1},
	{"新しく設定する利用者証明用電子証明書の暗証番号（数字4桁）", 0, 1},
};

/* ---- revoke (seed 001: the holder in person, or the legal representative) ---- */
static const struct jpki_bring_item revoke_self[] = {
	{"マイナンバーカード（失効させる電子証明書が搭載されたもの）", 0, 1},
	{"本人確認書類1点（申請時と同様のもの。マイナンバーカードで確認できます）",
	 SAB, 1},
};
static const char *const revoke_self_notes[] = {
	"失効した電子証明書は、再び有効になることはありません。", NOTE_ORIGINALS};

static const struct jpki_bring_item revoke_guardian[] = {
	{"ご本人（成年被後見人）のマイナンバーカード", 0, 1},
	{REGISTRY_CERT, 0, 1},
	{ID_PHOTO_GUARDIAN, SAB, 1},
};
static const struct jpki_bring_item revoke_legal_rep[] = {
	{"ご本人（15歳未満の方）のマイナンバーカード", 0, 1},
	{KOSEKI, 0, 1},
	{ID_PHOTO_LEGAL_REP, SAB, 1},
};
static const char *const revoke_rep_notes[] = {
	"失効した電子証明書は、再び有効になることはありません。", NOTE_MAIN,
	NOTE_ORIGINALS, NOTE_ID_MATCH};

#define LIST(items, notes, visits, main)                                     \
	{(items), N(items), (notes), N(notes), (visits), (main), 0}

static const struct jpki_bring_list lists[4][5] = {
	[JPKI_PROC_RENEW] = {
		[JPKI_APPLICANT_SELF] = LIST(renew_self, renew_self_notes, 1, false),
		[JPKI_APPLICANT_PROXY_WITH_FORM] =
			LIST(renew_proxy_form, renew_proxy_form_notes, 1, true),
		[JPKI_APPLICANT_PROXY_WITHOUT_FORM] =
			LIST(renew_proxy_noform, renew_proxy_noform_notes, 2, true),
		[JPKI_APPLICANT_GUARDIAN] = LIST(renew_guardian, guardian_notes, 1, true),
		[JPKI_APPLICANT_LEGAL_REP] =
			LIST(renew_legal_rep, legal_rep_notes, 1, true),
	},
	[JPKI_PROC_ISSUE] = {
		[JPKI_APPLICANT_SELF] = LIST(issue_self, issue_self_notes, 1, false),
		[JPKI_APPLICANT_PROXY_WITH_FORM] =
			LIST(issue_proxy_form, issue_proxy_form_notes, 1, true),
		[JPKI_APPLICANT_PROXY_WITHOUT_FORM] =
			LIST(issue_proxy_noform, issue_proxy_noform_notes, 2, true),
		[JPKI_APPLICANT_GUARDIAN] = LIST(issue_guardian, guardian_notes, 1, true),
		[JPKI_APPLICANT_LEGAL_REP] =
			LIST(issue_legal_rep, legal_rep_notes, 1, true),
	},
	[JPKI_PROC_PIN_RESET] = {
		[JPKI_APPLICANT_SELF] = LIST(pin_self, pin_self_notes, 1, false),
		[JPKI_APPLICANT_PROXY_WITH_FORM] =
			LIST(pin_proxy_form, pin_proxy_form_notes, 1, true),
		[JPKI_APPLICANT_PROXY_WITHOUT_FORM] =
			LIST(pin_proxy_noform, pin_proxy_noform_notes, 2, true),
		[JPKI_APPLICANT_GUARDIAN] = LIST(pin_guardian, guardian_notes, 1, true),
		[JPKI_APPLICANT_LEGAL_REP] = LIST(pin_legal_rep, legal_rep_notes, 1, true),
	},
	[JPKI_PROC_REVOKE] = {
		[JPKI_APPLICANT_SELF] = LIST(revoke_self, revoke_self_notes, 1, false),
		[JPKI_APPLICANT_GUARDIAN] =
			LIST(revoke_guardian, revoke_rep_notes, 1, true),
		[JPKI_APPLICANT_LEGAL_REP] =
			LIST(revoke_legal_rep, revoke_rep_notes, 1, true),
	},
};

/* clang-format on */

jpki_err jpki_bring(enum jpki_procedure p, enum jpki_applicant a,
		    const struct jpki_bring_list **out, struct jpki_errbuf *eb)
{
	if ((unsigned)p >= N(lists) || (unsigned)a >= N(lists[0]))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "unknown procedure or applicant");
	const struct jpki_bring_list *l = &lists[p][a];
	if (l->items == NULL)
		return jpki_errf(eb, JPKI_ERR_REFUSED,
				 "%s by a voluntary proxy is not accepted: the holder "
				 "comes in person, or the legal representative "
				 "(seed 001)",
				 jpki_procedure_name(p));
	*out = l;
	return JPKI_OK;
}

static const char *const proc_names[] = {"renew", "issue", "pin-reset", "revoke"};
static const char *const applicant_names[] = {
    "self", "proxy-with-form", "proxy-without-form", "guardian", "legal-rep"};

jpki_err jpki_procedure_parse(const char *s, enum jpki_procedure *out)
{
	for (size_t i = 0; i < N(proc_names); i++) {
		if (strcmp(s, proc_names[i]) == 0) {
			*out = (enum jpki_procedure)i;
			return JPKI_OK;
		}
	}
	return JPKI_ERR_INVALID;
}

jpki_err jpki_applicant_parse(const char *s, enum jpki_applicant *out)
{
	for (size_t i = 0; i < N(applicant_names); i++) {
		if (strcmp(s, applicant_names[i]) == 0) {
			*out = (enum jpki_applicant)i;
			return JPKI_OK;
		}
	}
	return JPKI_ERR_INVALID;
}

const char *jpki_procedure_name(enum jpki_procedure p)
{
	return (unsigned)p < N(proc_names) ? proc_names[p] : "unknown";
}

const char *jpki_applicant_name(enum jpki_applicant a)
{
	return (unsigned)a < N(applicant_names) ? applicant_names[a] : "unknown";
}

char *jpki_id_classes_format(unsigned mask, char *buf, size_t bufsz)
{
	static const char letters[] = "SABCD";
	size_t off = 0;
	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < 5; i++) {
		if (!(mask & (1u << i)))
			continue;
		/* "・" is three bytes in UTF-8. */
		const char *sep = off ? "・" : "";
		size_t need = strlen(sep) + 1;
		if (off + need + 1 > bufsz)
			break;
		memcpy(buf + off, sep, strlen(sep));
		off += strlen(sep);
		buf[off++] = letters[i];
		buf[off] = '\0';
	}
	return buf;
}
