/* PIN format rules (DOMAIN §3; seeds 000, 001, 004). */
#include <stdbool.h>
#include <string.h>

#include "jpki/pin.h"
#include "banned.h"

int jpki_pin_max_tries(enum jpki_pin_kind k)
{
	/* DOMAIN §3: the signing PIN locks after 5 wrong entries, the others 3. */
	return k == JPKI_PIN_SIGN ? 5 : 3;
}

static enum jpki_pin_problem check_sign(const char *pin, size_t len, char *out)
{
	bool letter = false, digit = false;
	/* Seeds 000, 001, 004: 6桁以上16桁以下の英数字混合. */
	if (len < 6)
		return JPKI_PIN_TOO_SHORT;
	if (len > JPKI_PIN_MAX_LEN)
		return JPKI_PIN_TOO_LONG;
	for (size_t i = 0; i < len; i++) {
		char c = pin[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A'); /* clients upper-case */
		if (c >= 'A' && c <= 'Z')
			letter = true;
		else if (c >= '0' && c <= '9')
			digit = true;
		else
			return JPKI_PIN_BAD_CHAR;
		out[i] = c;
	}
	if (!letter)
		return JPKI_PIN_NO_LETTER;
	if (!digit)
		return JPKI_PIN_NO_DIGIT;
	return JPKI_PIN_OK;
}

static enum jpki_pin_problem check_digits4(const char *pin, size_t len, char *out)
{
	/* Seeds 000, 004: 4桁の数字. Report a bad character before a bad
	 * length so "12a" says what is wrong with it. */
	for (size_t i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return JPKI_PIN_BAD_CHAR;
	if (len < 4)
		return JPKI_PIN_TOO_SHORT;
	if (len > 4)
		return JPKI_PIN_TOO_LONG;
	memcpy(out, pin, len);
	return JPKI_PIN_OK;
}

enum jpki_pin_problem jpki_pin_check(enum jpki_pin_kind k, const char *pin, size_t len,
				     char normalized[static JPKI_PIN_MAX_LEN + 1])
{
	enum jpki_pin_problem p;
	memset(normalized, 0, JPKI_PIN_MAX_LEN + 1);
	if (pin == NULL || len == 0)
		return JPKI_PIN_EMPTY;
	if (k == JPKI_PIN_SIGN)
		p = check_sign(pin, len, normalized);
	else
		p = check_digits4(pin, len, normalized);
	if (p != JPKI_PIN_OK)
		explicit_bzero(normalized, JPKI_PIN_MAX_LEN + 1);
	return p;
}

const char *jpki_pin_problem_token(enum jpki_pin_problem p)
{
	switch (p) {
	case JPKI_PIN_OK:
		return "ok";
	case JPKI_PIN_EMPTY:
		return "empty";
	case JPKI_PIN_TOO_SHORT:
		return "too_short";
	case JPKI_PIN_TOO_LONG:
		return "too_long";
	case JPKI_PIN_BAD_CHAR:
		return "bad_character";
	case JPKI_PIN_NO_LETTER:
		return "no_letter";
	case JPKI_PIN_NO_DIGIT:
		return "no_digit";
	default:
		return "unknown";
	}
}

const char *jpki_pin_problem_en(enum jpki_pin_kind k, enum jpki_pin_problem p)
{
	bool sign = k == JPKI_PIN_SIGN;
	switch (p) {
	case JPKI_PIN_OK:
		return "valid";
	case JPKI_PIN_EMPTY:
		return "the PIN is empty";
	case JPKI_PIN_TOO_SHORT:
		return sign ? "too short: the signing PIN has 6 to 16 characters"
			    : "too short: the PIN has exactly 4 digits";
	case JPKI_PIN_TOO_LONG:
		return sign ? "too long: the signing PIN has 6 to 16 characters"
			    : "too long: the PIN has exactly 4 digits";
	case JPKI_PIN_BAD_CHAR:
		return sign ? "invalid character: only letters A-Z and digits 0-9"
			    : "invalid character: only digits 0-9";
	case JPKI_PIN_NO_LETTER:
		return "the signing PIN needs at least one letter";
	case JPKI_PIN_NO_DIGIT:
		return "the signing PIN needs at least one digit";
	default:
		return "unknown problem";
	}
}

const char *jpki_pin_problem_ja(enum jpki_pin_kind k, enum jpki_pin_problem p)
{
	bool sign = k == JPKI_PIN_SIGN;
	/* Shown to the resident at the terminal: say what is wrong, then the rule. */
	switch (p) {
	case JPKI_PIN_OK:
		return "有効な暗証番号です";
	case JPKI_PIN_EMPTY:
		return "暗証番号が入力されていません";
	case JPKI_PIN_TOO_SHORT:
		return sign ? "桁数が足りません。署名用電子証明書の暗証番号は英数字6桁"
			      "以上16桁以下です"
			    : "桁数が足りません。暗証番号は数字4桁です";
	case JPKI_PIN_TOO_LONG:
		return sign ? "桁数が多すぎます。署名用電子証明書の暗証番号は英数字6桁"
			      "以上16桁以下です"
			    : "桁数が多すぎます。暗証番号は数字4桁です";
	case JPKI_PIN_BAD_CHAR:
		return sign ? "使用できない文字が含まれています。使えるのは英字（A～Z）"
			      "と数字（0～9）だけです"
			    : "数字以外の文字が含まれています。暗証番号は数字4桁です";
	case JPKI_PIN_NO_LETTER:
		return "英字が含まれていません。英字と数字を両方含めてください（英数字"
		       "混合）";
	case JPKI_PIN_NO_DIGIT:
		return "数字が含まれていません。英字と数字を両方含めてください（英数字"
		       "混合）";
	default:
		return "暗証番号を確認してください";
	}
}
