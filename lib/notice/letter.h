/* lib/notice internals: the letters as PDF (cairo + pango, Noto CJK,
 * fonts embedded by cairo). Not installed.
 *
 * Two series, each a PDF of many letters:
 *   MUNICIPAL  the municipality's own letter (white envelope, seed 004):
 *              page 1 the letter — expiry and renewal window in 和暦, the
 *              office with its hours and the days it is closed in the
 *              window, what to bring for each way of applying, the
 *              reservation ID with a QR code; page 2 (its back, printed
 *              duplex) the 照会書兼回答書 with boxes for the three PINs, the
 *              委任状 with the proxy's name and address, and dates.
 *   JLIS       a J-LIS-style 有効期限通知書 (blue envelope, seed 000, 002),
 *              one page; for a card notice also the card application
 *              section with the 23-digit application ID.
 * Everything residents read is Japanese.
 */
#ifndef JPKI_NOTICE_LETTER_H
#define JPKI_NOTICE_LETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"
#include "jpki/err.h"
#include "jpki/office.h"

/* One letter's data. Strings are UTF-8 and owned by the caller. */
struct jpkii_letter {
	int64_t notice_id;
	bool card;		       /* the card expires (and the certificates with it) */
	const char *name;	       /* the resident's name */
	const char *postal_code;       /* "NNN-NNNN" or NULL */
	const char *address;	       /* as registered */
	const char *municipality_name; /* "東京都豊島区": the sender */
	jpki_day sent_on;	       /* the date printed on the letter */
	jpki_day sign_expires;	       /* JPKI_DAY_NONE when there is none */
	jpki_day auth_expires;	       /* JPKI_DAY_NONE when there is none */
	jpki_day card_expires;
	jpki_day expires; /* what the notice is about: the window is of this */
	jpki_day window_first, window_last;
	const char *reservation_id; /* 16 digits, printed 4-4-4-4 */
	const char *reserve_url;    /* the QR code's content */
	const char *application_id; /* card notices: 23 digits; else NULL */
	const struct jpki_office *office;
};

enum jpkii_letter_kind {
	JPKII_LETTER_MUNICIPAL = 0,
	JPKII_LETTER_JLIS = 1,
};

struct jpkii_letters;

/* Starts a PDF at path (created or truncated). JPKI_ERR_IO when it cannot
 * be written, JPKI_ERR_CONFIG when no CJK font is installed. */
jpki_err jpkii_letters_open(const char *path, enum jpkii_letter_kind kind,
			    struct jpkii_letters **out, struct jpki_errbuf *eb);
/* Appends one letter (its pages). */
jpki_err jpkii_letters_add(struct jpkii_letters *l, const struct jpkii_letter *x,
			   struct jpki_errbuf *eb);
/* Pages written so far. */
size_t jpkii_letters_pages(const struct jpkii_letters *l);
/* Finishes the PDF, fsyncs it and frees l (also on failure). NULL is fine. */
jpki_err jpkii_letters_close(struct jpkii_letters *l, struct jpki_errbuf *eb);

#endif
