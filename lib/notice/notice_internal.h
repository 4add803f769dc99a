/* Internals shared by the files of lib/notice (prefix jpkii_notice). */
#ifndef JPKI_NOTICE_INTERNAL_H
#define JPKI_NOTICE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/notice.h"

/* n digits from the CSPRNG followed by their Damm check digit: n + 2 bytes
 * of out with the NUL. JPKI_ERR_CRYPTO when the CSPRNG fails. */
jpki_err jpkii_notice_digits(char *out, size_t n);

/* "YYYY-MM" of a month; buf holds 8 bytes. */
void jpkii_notice_month(int year, int month, char buf[static 8]);

/* Claims the selection as a new run in one transaction (with its audit
 * row): the run row, its notices numbered in print order and their
 * targets. *run is the new run's id. */
jpki_err jpkii_notice_claim(const struct jpki_reg_ctx *ctx, int year, int month,
			    const char *out_dir, size_t per_file,
			    const struct jpki_notice_selection *sel, int64_t *run,
			    struct jpki_reg_msg *m);

/* The columns of a notice n, in the order jpkii_notice_from_row reads
 * them (columns 0..14; a query may add its own after them). */
#define JPKII_NOTICE_COLS                                                              \
	"n.id, n.run, n.seq, n.resident, n.kind, n.state, n.target, n.expires, "       \
	"n.expiring, n.reservation_id, n.application_id, n.created_at, "               \
	"n.printed_at, n.file, n.cancel_reason"
#define JPKII_NOTICE_NCOLS 15
struct jpki_stmt;
void jpkii_notice_from_row(struct jpki_stmt *st, struct jpki_notice *o);

/* Whether sending is suspended now. */
jpki_err jpkii_notice_suspended(const struct jpki_reg_ctx *ctx, bool *out,
				struct jpki_reg_msg *m);

#endif
