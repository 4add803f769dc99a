/* openjpki — expiry notices: the monthly batch (DOMAIN §6; seeds 000, 002,
 * 004).
 *
 * In the middle of each month, holders whose certificate or card expires
 * in the month after next get a letter (seed 000): here both the
 * municipality's own letter with a reservation ID and the 照会書兼回答書 on
 * its back (seed 004) and a J-LIS-style 有効期限通知書, as PDF for the
 * printing contractor, with a manifest CSV and a JSON summary.
 *
 * A notice is stored state. Each certificate and card is covered by at
 * most one notice ever, so a rerun, a crash half-way or a second process
 * never sends one twice; a run is claimed in one transaction and printed
 * file by file, each file marked printed only once it is complete on disk,
 * so a rerun finishes a crashed run without gaps. Sending can be
 * suspended (seed 004: it was, in 2020) and a month caught up later.
 * Removed and deceased residents get nothing.
 *
 * "Now" is ctx->now; the run day is its JST day. Every operation that
 * changes the store is one transaction with its audit row.
 */
#ifndef JPKI_NOTICE_H
#define JPKI_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"
#include "jpki/err.h"
#include "jpki/office.h"
#include "jpki/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- reservation IDs ----
 * 16 digits: 15 from the CSPRNG and a Damm check digit, which catches
 * every single-digit error and every swap of two adjacent digits. Printed
 * as four groups of four ("1234 5678 9012 3456"). */
#define JPKI_RID_DIGITS 16
#define JPKI_RID_BUFSZ	(JPKI_RID_DIGITS + 1)

/* A fresh ID. JPKI_ERR_CRYPTO when the CSPRNG fails. */
jpki_err jpki_rid_new(char out[static JPKI_RID_BUFSZ]);
/* The Damm check digit of a string of ASCII digits ('0'..'9'). */
char jpki_damm_digit(const char *digits, size_t n);
/* What a person typed (ASCII or full-width digits; spaces and hyphens,
 * ASCII or full-width, ignored) as 16 digits with a good check digit.
 * JPKI_ERR_INVALID with the reason ("the check digit does not match: a
 * digit is mistyped") otherwise. */
jpki_err jpki_rid_parse(const char *in, char out[static JPKI_RID_BUFSZ],
			struct jpki_errbuf *eb);
/* "1234 5678 9012 3456"; out holds 20 bytes. Returns out. */
char *jpki_rid_format(const char *rid, char out[static 20]);

/* ---- notices ---- */

enum jpki_notice_kind {
	JPKI_NOTICE_CERT = 0, /* certificates expire */
	JPKI_NOTICE_CARD = 1, /* the card expires, and its certificates with it */
};
enum jpki_notice_state {
	JPKI_NOTICE_SELECTED = 0,  /* claimed by a run, not yet in a finished PDF */
	JPKI_NOTICE_PRINTED = 1,   /* in a finished PDF handed to the printer */
	JPKI_NOTICE_CANCELLED = 2, /* pointless before printing: see cancel_reason */
};
const char *jpki_notice_kind_name(enum jpki_notice_kind k);   /* "cert", "card" */
const char *jpki_notice_state_name(enum jpki_notice_state s); /* "selected"... */

struct jpki_notice {
	int64_t id, run, seq, resident;
	enum jpki_notice_kind kind;
	enum jpki_notice_state state;
	char target[66]; /* the certificate or card serial */
	jpki_day expires, window_first, window_last;
	int year, month; /* the expiring month of the run */
	char reservation_id[JPKI_RID_BUFSZ];
	char application_id[24];	/* card notices: 23 digits; else "" */
	int64_t created_at, printed_at; /* printed_at 0 until printed */
	char file[64];		/* the municipal letter's PDF; "" until printed */
	char cancel_reason[40]; /* "deceased", "removed", "renewed", "card_ended" */
};

/* JPKI_ERR_NOTFOUND for an unknown id. */
jpki_err jpki_notice_get(const struct jpki_reg_ctx *ctx, int64_t id,
			 struct jpki_notice *out, struct jpki_reg_msg *m);

/* The notice holding reservation ID rid (any form jpki_rid_parse takes)
 * when its resident was born on birth. A mistyped ID is JPKI_ERR_INVALID
 * at once; an unknown ID and a wrong birth date are one answer,
 * JPKI_ERR_REFUSED, so the answer never tells which. Cancelled notices do
 * not verify. */
jpki_err jpki_notice_verify_reservation(const struct jpki_reg_ctx *ctx, const char *rid,
					jpki_day birth, struct jpki_notice *out,
					struct jpki_reg_msg *m);

/* ---- the schedule ---- */

/* "YYYY-MM" exactly: four digits, a hyphen, two digits, a month 01..12 of
 * a supported year. JPKI_ERR_INVALID otherwise ("2027-1", "2027-+1"). */
jpki_err jpki_notice_parse_month(const char *s, int *year, int *month);

/* The month a run on day d sends by default: the month after next. */
void jpki_notice_default_month(jpki_day d, int *year, int *month);
/* A month a run on day d may send: from d's month (catching up) to the
 * month after next. JPKI_ERR_RANGE with the reason otherwise. */
jpki_err jpki_notice_check_month(jpki_day d, int year, int month,
				 struct jpki_errbuf *eb);

/* ---- selection ----
 * For an expiring month: the active cards and the good certificates on
 * active cards of registered residents expiring in it, that no notice
 * covers yet. One notice per resident: a card notice when the card
 * expires in the month (it covers the certificates on that card expiring
 * in the month too), else a certificate notice covering the resident's
 * certificates that expire in the month, about the first to expire.
 * Targets that expired before the run day get no notice (counted). In
 * print order: postal code (unknown last), address, resident. */
struct jpki_notice_plan {
	int64_t resident;
	enum jpki_notice_kind kind;
	char target[66];
	jpki_day expires;
	size_t first_target, n_targets; /* in the selection's targets[] */
};
struct jpki_notice_selection {
	struct jpki_notice_plan *plans;
	size_t n;
	char (*targets)[72]; /* "cert:SERIAL" / "card:SERIAL" */
	size_t n_targets;
	size_t by_kind[2];
	size_t expired_before; /* targets in the month already expired on the run day */
};
void jpki_notice_selection_release(struct jpki_notice_selection *sel);

jpki_err jpki_notice_select(const struct jpki_reg_ctx *ctx, int year, int month,
			    struct jpki_notice_selection *out, struct jpki_reg_msg *m);

/* ---- runs ---- */

struct jpki_notice_progress {
	int64_t run;
	size_t done, total; /* letters drawn (this run), letters to draw */
};

struct jpki_notice_run_opts {
	int year, month;     /* 0: jpki_notice_default_month() of the run day */
	const char *out_dir; /* must exist unless create_out; not for a dry run */
	bool create_out;     /* create out_dir (and its parents) for a new run */
	bool dry_run;	 /* select and count only: nothing stored, nothing written */
	size_t per_file; /* letters per PDF; 0: one PDF per series */
	const struct jpki_office *office; /* on the letters (hours, closed days) */
	const char *base_url; /* of {base}/reserve?id=RID; NULL: the CA's base URL */
	void (*progress)(const struct jpki_notice_progress *p, void *arg);
	void *progress_arg;
	bool (*should_stop)(void *arg); /* asked between letters; stops cleanly */
	void *stop_arg;
};

struct jpki_notice_report {
	int64_t run; /* 0 for a dry run */
	int year, month;
	bool resumed;		   /* an unfinished run of the month was finished */
	size_t selected;	   /* notices this call claimed */
	size_t total;		   /* notices of the run */
	size_t printed, cancelled; /* of the run */
	size_t by_kind[2];	   /* of this call's selection */
	size_t expired_before;
	size_t files; /* PDFs of the run (both series) */
	char out_dir[4096];
};

/* Runs (or, when the month has an unfinished run, finishes) the batch:
 * claims the month's selection in one transaction, draws the letters into
 * OUT/municipal-NNN.pdf and OUT/jlis-NNN.pdf (each written to a temporary
 * name and renamed when complete, then its notices marked printed), then
 * writes OUT/manifest.csv and OUT/summary.json. One run at a time per
 * store (jpki_store_try_lock "notice"): another is JPKI_ERR_CONFLICT.
 * Refused (JPKI_ERR_REFUSED, code "suspended") while sending is suspended,
 * also between files of a run in progress; JPKI_ERR_RANGE for a month
 * jpki_notice_check_month() refuses; JPKI_ERR_INVALID when an unfinished
 * run was started in another directory than out_dir. Stopped by
 * should_stop: JPKI_ERR_REFUSED, code "stopped"; a rerun finishes it. */
jpki_err jpki_notice_run(const struct jpki_reg_ctx *ctx,
			 const struct jpki_notice_run_opts *o,
			 struct jpki_notice_report *rep, struct jpki_reg_msg *m);

/* Where a run of the month writes by default: the unfinished run's
 * directory, else root/YYYY-MM (root/YYYY-MM.2, .3 ... when that exists),
 * created with its parents; as an absolute path (a rerun from another
 * working directory finds it). */
jpki_err jpki_notice_out_dir(const struct jpki_reg_ctx *ctx, const char *root, int year,
			     int month, char *out, size_t cap, struct jpki_reg_msg *m);

struct jpki_notice_run_info {
	int64_t id;
	int year, month;
	jpki_day run_on;
	bool done;
	char actor[64];
	char out_dir[4096];
	size_t per_file, selected, printed, cancelled, rendered, expired_before;
	int64_t started_at, updated_at, finished_at; /* finished_at 0 while running */
};

/* Runs, newest first, at most limit (*out malloc'd). */
jpki_err jpki_notice_runs(const struct jpki_reg_ctx *ctx, size_t limit,
			  struct jpki_notice_run_info **out, size_t *n,
			  struct jpki_reg_msg *m);
/* The unfinished run of a month (a crash, a stop, a suspension): *run is
 * 0 when there is none. */
jpki_err jpki_notice_unfinished(const struct jpki_reg_ctx *ctx, int year, int month,
				int64_t *run, struct jpki_reg_msg *m);
/* JPKI_ERR_NOTFOUND for an unknown run. */
jpki_err jpki_notice_run_get(const struct jpki_reg_ctx *ctx, int64_t id,
			     struct jpki_notice_run_info *out, struct jpki_reg_msg *m);

/* A file a finished run left in its directory, to hand to the printing
 * contractor (jpkid serves them to administrators). */
struct jpki_notice_file {
	char name[64];	    /* "municipal-001.pdf", "jlis-001.pdf", "manifest.csv"... */
	const char *series; /* "municipal", "jlis", "manifest", "summary" */
	const char *type;   /* its media type */
	size_t letters, pages; /* of a PDF; 0 for the manifest and the summary */
	int64_t bytes;	       /* its size on disk; -1 when it is not there */
};

/* The files of run id: each letter file's PDFs (municipal-NNN.pdf, then
 * its twin jlis-NNN.pdf), then manifest.csv and summary.json (*out
 * malloc'd). JPKI_ERR_NOTFOUND for an unknown run; JPKI_ERR_REFUSED (code
 * "running") while the run is unfinished: its files are not complete. */
jpki_err jpki_notice_run_files(const struct jpki_reg_ctx *ctx, int64_t id,
			       struct jpki_notice_file **out, size_t *n,
			       struct jpki_reg_msg *m);

/* Opens one of run id's files for reading (*fd is the caller's to close)
 * and records who took it in the audit log ("notice.download": the letters
 * carry residents' names, addresses and reservation IDs), in one
 * transaction. JPKI_ERR_NOTFOUND when name is not one of the run's files or
 * the file is no longer on disk (moved away after printing). */
jpki_err jpki_notice_open_file(const struct jpki_reg_ctx *ctx, int64_t id,
			       const char *name, int *fd, struct jpki_notice_file *out,
			       struct jpki_reg_msg *m);

/* The months a run on ctx->now's day may send (this month to the month
 * after next), each with what its runs did: NOT_SENT (no run), UNFINISHED
 * (a run stopped half-way) or DONE, and the sums over its runs. */
enum jpki_month_state {
	JPKI_MONTH_NOT_SENT = 0,
	JPKI_MONTH_UNFINISHED = 1,
	JPKI_MONTH_DONE = 2,
};
const char *jpki_month_state_name(enum jpki_month_state s); /* "not_sent"... */
struct jpki_notice_month {
	int year, month;
	bool due; /* the month after next: this month's regular run */
	enum jpki_month_state state;
	size_t runs, notices, printed, cancelled;
	int64_t last_run; /* 0 when none */
};
jpki_err jpki_notice_months(const struct jpki_reg_ctx *ctx,
			    struct jpki_notice_month out[static 3],
			    struct jpki_reg_msg *m);

/* ---- suspension (seed 004) ---- */

struct jpki_notice_suspension {
	bool suspended;
	int64_t since;
	char by[64];
	char reason[256];
};
jpki_err jpki_notice_suspension_get(const struct jpki_reg_ctx *ctx,
				    struct jpki_notice_suspension *out,
				    struct jpki_reg_msg *m);
/* Refused when already suspended (or, resume, when not). reason may be
 * NULL; at most 200 bytes of UTF-8. */
jpki_err jpki_notice_suspend(const struct jpki_reg_ctx *ctx, const char *reason,
			     struct jpki_reg_msg *m);
jpki_err jpki_notice_resume(const struct jpki_reg_ctx *ctx, struct jpki_reg_msg *m);

#ifdef __cplusplus
}
#endif
#endif
