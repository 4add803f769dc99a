/* Reservation IDs: 15 random digits and a Damm check digit.
 *
 * The Damm algorithm (H. M. Damm, "Total anti-symmetrische Quasigruppen",
 * 2004) uses a totally anti-symmetric quasigroup of order 10: the check
 * digit catches every single-digit error and every transposition of two
 * adjacent digits, which a person reading an ID off a letter over the
 * phone makes most. The table is the one Damm published (as reprinted in
 * the Wikipedia article "Damm algorithm"); its example: "572" -> 4.
 *
 * 15 digits are about 50 bits: with the birth date required alongside
 * (jpki_notice_verify_reservation) and a rate limit on the web form, an ID
 * cannot be guessed.
 */
#include <string.h>

#include <openssl/rand.h>

#include "jpki/notice.h"
#include "notice_internal.h"
#include "banned.h"

static const unsigned char damm[10][10] = {
    {0, 3, 1, 7, 5, 9, 8, 6, 4, 2}, {7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
    {4, 2, 0, 6, 8, 7, 1, 3, 5, 9}, {1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
    {6, 1, 2, 3, 0, 4, 5, 9, 7, 8}, {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
    {5, 8, 6, 9, 7, 2, 0, 1, 3, 4}, {8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
    {9, 4, 3, 8, 6, 1, 7, 2, 0, 5}, {2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
};

char jpki_damm_digit(const char *digits, size_t n)
{
	unsigned interim = 0;
	for (size_t i = 0; i < n; i++)
		interim = damm[interim][(unsigned)(digits[i] - '0') % 10];
	return (char)('0' + interim);
}

jpki_err jpki_rid_new(char out[static JPKI_RID_BUFSZ])
{
	/* A leading zero is fine for a computer and confusing on the phone:
	 * draw again (one in ten). */
	do {
		jpki_err e = jpkii_notice_digits(out, JPKI_RID_DIGITS - 1);
		if (e != JPKI_OK)
			return e;
	} while (out[0] == '0');
	return JPKI_OK;
}

/* Bytes of one separator at p (ASCII space or hyphen, U+3000 ideographic
 * space, U+FF0D fullwidth hyphen-minus, U+2010 hyphen, U+2212 minus,
 * U+30FC prolonged sound mark typed for a dash), or 0. */
static size_t separator(const unsigned char *p)
{
	if (*p == ' ' || *p == '-' || *p == '\t')
		return 1;
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	if (p[0] == 0xef && p[1] == 0xbc && p[2] == 0x8d)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0x90)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x88 && p[2] == 0x92)
		return 3;
	if (p[0] == 0xe3 && p[1] == 0x83 && p[2] == 0xbc)
		return 3;
	return 0;
}

jpki_err jpki_rid_parse(const char *in, char out[static JPKI_RID_BUFSZ],
			struct jpki_errbuf *eb)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t n = 0, k;
	out[0] = '\0';
	while (*p) {
		char d;
		if (*p >= '0' && *p <= '9') {
			d = (char)*p++;
		} else if (p[0] == 0xef && p[1] == 0xbc && p[2] >= 0x90 &&
			   p[2] <= 0x99) {
			d = (char)('0' + (p[2] - 0x90)); /* U+FF10..FF19 */
			p += 3;
		} else if ((k = separator(p)) > 0) {
			p += k;
			continue;
		} else {
			return jpki_errf(
			    eb, JPKI_ERR_INVALID,
			    "a reservation ID has only digits (16 of them)");
		}
		if (n == JPKI_RID_DIGITS)
			return jpki_errf(
			    eb, JPKI_ERR_INVALID,
			    "a reservation ID has 16 digits, this has more");
		out[n++] = d;
	}
	if (n != JPKI_RID_DIGITS)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "a reservation ID has 16 digits, this has %zu", n);
	if (jpki_damm_digit(out, n) != '0') {
		out[0] = '\0';
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "not a reservation ID: the check digit does not match "
				 "(a digit is mistyped)");
	}
	out[n] = '\0';
	return JPKI_OK;
}

char *jpki_rid_format(const char *rid, char out[static 20])
{
	size_t o = 0;
	for (size_t i = 0; i < JPKI_RID_DIGITS && rid[i]; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = rid[i];
	}
	out[o] = '\0';
	return out;
}

jpki_err jpkii_notice_digits(char *out, size_t n)
{
	unsigned char buf[32];
	size_t k = 0;
	while (k < n) {
		if (RAND_bytes(buf, sizeof buf) != 1)
			return JPKI_ERR_CRYPTO;
		for (size_t i = 0; i < sizeof buf && k < n; i++)
			if (buf[i] < 250)
				out[k++] = (char)('0' + buf[i] % 10);
	}
	out[n] = jpki_damm_digit(out, n);
	out[n + 1] = '\0';
	return JPKI_OK;
}
