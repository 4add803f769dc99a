/* The monthly batch: claim, print file by file, manifest and summary
 * (include/jpki/notice.h; docs/internals/notice.md).
 *
 * Crash safety: a run's notices are claimed in one transaction; letter
 * file k (seq ((k-1)*per_file, k*per_file]) is drawn to a temporary name,
 * fsynced and renamed, and only then are its notices marked printed, in
 * one transaction. A crash anywhere leaves either a file whose notices are
 * still 'selected' (the rerun draws the same letters again under the same
 * name: no gap, and the printer gets each letter once) or a finished one.
 * The manifest and the summary are written last, from the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jpki/notice.h"
#include "letter.h"
#include "notice_internal.h"
#include "registry/reg_internal.h"
#include "banned.h"

/* Progress is committed to the run row (for jpki notice status and the
 * admin page, in any process) and suspension re-read this often. */
#define PROGRESS_EVERY 100

struct batch {
	const struct jpki_reg_ctx *ctx;
	const struct jpki_notice_run_opts *o;
	struct jpki_notice_report *rep;
	struct jpki_reg_msg *m;
	int64_t run;
	char dir[4096];
	size_t per_file, total, done;
	char base_url[256];
};

/* ---- small file helpers ---- */

static jpki_err fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return JPKI_ERR_IO;
	int r = fsync(fd);
	close(fd);
	return r == 0 ? JPKI_OK : JPKI_ERR_IO;
}

static int join(char *buf, size_t n, const char *dir, const char *name)
{
	int k = snprintf(buf, n, "%s/%s", dir, name);
	return (k < 0 || (size_t)k >= n) ? -1 : 0;
}

/* Writes data to dir/name through a temporary file, fsync and rename. */
static jpki_err write_atomic(const char *dir, const char *name, const char *data,
			     size_t len)
{
	char path[4200], tmp[4210];
	if (join(path, sizeof path, dir, name) != 0 ||
	    snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return JPKI_ERR_INVALID;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return JPKI_ERR_IO;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	bool ok = off == len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return JPKI_ERR_IO;
	}
	return fsync_dir(dir);
}

static jpki_err io_fail(struct jpki_reg_msg *m, const char *what, const char *path)
{
	return jpkii_reg_fail(m, JPKI_ERR_IO, "io", "%s %s: %s", "%s %s: %s", what,
			      path, strerror(errno ? errno : EIO));
}

/* ---- the letters of one file ---- */

struct row {
	struct jpki_notice n;
	char *name, *postal, *address, *muni;
	char status[16];
};

static void rows_free(struct row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].postal);
		free(v[i].address);
		free(v[i].muni);
	}
	free(v);
}

static jpki_err load_rows(struct batch *b, int64_t lo, int64_t hi, struct row **out,
			  size_t *n)
{
	struct jpki_stmt *st = NULL;
	struct row *v = NULL;
	size_t k = 0, cap = 0;
	bool row = false;
	/* The notice's own columns, then the resident's after them. */
	enum { NAME = JPKII_NOTICE_NCOLS, POSTAL, ADDRESS, STATUS, MUNI };
	jpki_err rc = jpkii_reg_query(
	    b->ctx->store, &st, "iii",
	    "SELECT " JPKII_NOTICE_COLS ", r.name, r.postal_code, r.address, r.status, "
	    "m.name FROM notice n JOIN resident r ON r.id = n.resident JOIN "
	    "municipality m ON m.code = r.municipality WHERE n.run = $1 AND n.seq "
	    "BETWEEN $2 AND $3 AND n.state <> 'cancelled' ORDER BY n.seq",
	    b->run, lo, hi);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(&v, &cap, k, sizeof *v)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		struct row *r = &v[k++];
		memset(r, 0, sizeof *r);
		jpkii_notice_from_row(st, &r->n);
		r->name = strdup(jpki_stmt_text(st, NAME));
		r->postal = jpki_stmt_is_null(st, POSTAL)
				? NULL
				: strdup(jpki_stmt_text(st, POSTAL));
		r->address = strdup(jpki_stmt_text(st, ADDRESS));
		snprintf(r->status, sizeof r->status, "%s", jpki_stmt_text(st, STATUS));
		r->muni = strdup(jpki_stmt_text(st, MUNI));
		if (!r->name || !r->address || !r->muni ||
		    (!jpki_stmt_is_null(st, POSTAL) && !r->postal)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		rows_free(v, k);
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	}
	*out = v;
	*n = k;
	return JPKI_OK;
}

/* What the resident holds now: the active card and the good certificates
 * on it. Fills the letter's expiries; *reason is set when the notice has
 * become pointless (the resident is gone, the target renewed or ended). */
static jpki_err holdings(struct batch *b, const struct row *r, struct jpkii_letter *x,
			 const char **reason)
{
	struct jpki_stmt *st = NULL;
	bool row = false, target_good = false;
	char card[33] = "";
	jpki_err rc;

	*reason = NULL;
	x->sign_expires = x->auth_expires = x->card_expires = JPKI_DAY_NONE;
	if (strcmp(r->status, "registered") != 0) {
		*reason = r->status; /* "deceased", "removed" */
		return JPKI_OK;
	}
	rc = jpkii_reg_query(b->ctx->store, &st, "i",
			     "SELECT serial, expires FROM card WHERE resident = $1 AND "
			     "state = 'active'",
			     r->n.resident);
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		snprintf(card, sizeof card, "%s", jpki_stmt_text(st, 0));
		x->card_expires = jpkii_reg_col_day(st, 1);
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	if (!card[0]) {
		*reason = "card_ended";
		return JPKI_OK;
	}
	rc = jpkii_reg_query(
	    b->ctx->store, &st, "t",
	    "SELECT h.serial, h.kind, h.expires FROM holder_cert h WHERE "
	    "h.card = $1 AND NOT EXISTS (SELECT 1 FROM revocation v "
	    "WHERE v.serial = h.serial)",
	    card);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		jpki_day e = jpkii_reg_col_day(st, 2);
		if (strcmp(jpki_stmt_text(st, 1), "sign") == 0)
			x->sign_expires = e;
		else
			x->auth_expires = e;
		if (strcmp(jpki_stmt_text(st, 0), r->n.target) == 0)
			target_good = true;
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	if (r->n.kind == JPKI_NOTICE_CARD ? strcmp(card, r->n.target) != 0
					  : !target_good)
		*reason = r->n.kind == JPKI_NOTICE_CARD ? "card_ended" : "renewed";
	return JPKI_OK;
}

static void file_name(char *buf, size_t n, const char *series, size_t k)
{
	snprintf(buf, n, "%s-%03zu.pdf", series, k);
}

static void progress(struct batch *b)
{
	if (b->o->progress) {
		struct jpki_notice_progress p = {b->run, b->done, b->total};
		b->o->progress(&p, b->o->progress_arg);
	}
}

/* Commits the progress counter and re-reads the suspension. */
static jpki_err checkpoint(struct batch *b)
{
	bool suspended = false;
	jpki_err rc =
	    jpkii_reg_sql(b->ctx->store, "iii",
			  "UPDATE notice_run SET rendered = $1, updated_at = $2 "
			  "WHERE id = $3",
			  (int64_t)b->done, b->ctx->now, b->run);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	if ((rc = jpkii_notice_suspended(b->ctx, &suspended, b->m)) != JPKI_OK)
		return rc;
	if (suspended)
		return jpkii_reg_fail(
		    b->m, JPKI_ERR_REFUSED, "suspended",
		    "sending notices was suspended during run %" PRId64
		    "; %zu of %zu letters drawn. Resume and run again "
		    "to finish it",
		    "作成中に通知の発送が停止されました（処理%" PRId64
		    "、%zu/%zu通）。再開後にもう一度実行してください",
		    b->run, b->done, b->total);
	return JPKI_OK;
}

static bool stopping(struct batch *b)
{
	return b->o->should_stop && b->o->should_stop(b->o->stop_arg);
}

/* Marks the file's notices printed (and the pointless ones cancelled)
 * with the run's counters and an audit row, in one transaction. */
static jpki_err commit_file(struct batch *b, size_t k, const struct row *v, size_t n,
			    const char **cancel, size_t printed)
{
	char name[32], object[40], details[160];
	jpki_err rc = jpki_store_begin(b->ctx->store);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	file_name(name, sizeof name, "municipal", k);
	for (size_t i = 0; rc == JPKI_OK && i < n; i++)
		rc = cancel[i]
			 ? jpkii_reg_sql(b->ctx->store, "ti",
					 "UPDATE notice SET state = 'cancelled', "
					 "cancel_reason = $1 WHERE id = $2",
					 cancel[i], v[i].n.id)
			 : jpkii_reg_sql(b->ctx->store, "iti",
					 "UPDATE notice SET state = 'printed', "
					 "printed_at = $1, file = $2 WHERE id = $3",
					 b->ctx->now, name, v[i].n.id);
	if (rc == JPKI_OK)
		rc = jpkii_reg_sql(
		    b->ctx->store, "ii",
		    "UPDATE notice_run SET printed = (SELECT count(*) FROM notice "
		    "WHERE "
		    "run = $1 AND state = 'printed'), cancelled = (SELECT count(*) "
		    "FROM "
		    "notice WHERE run = $1 AND state = 'cancelled'), updated_at = $2 "
		    "WHERE id = $1",
		    b->run, b->ctx->now);
	if (rc != JPKI_OK) {
		jpki_store_rollback(b->ctx->store);
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	}
	snprintf(object, sizeof object, "notice-run:%" PRId64, b->run);
	snprintf(details, sizeof details,
		 "{\"cancelled\":%zu,\"file\":\"%s\",\"letters\":%zu}", n - printed,
		 name, printed);
	return jpkii_reg_audit_commit(b->ctx, "notice.print", object, details, b->m);
}

static jpki_err draw(struct batch *b, struct jpkii_letters *mun,
		     struct jpkii_letters *jl, const struct row *r,
		     const struct jpkii_letter *base)
{
	struct jpki_errbuf eb = {{0}};
	struct jpkii_letter x = *base;
	char url[512];
	x.notice_id = r->n.id;
	x.card = r->n.kind == JPKI_NOTICE_CARD;
	x.name = r->name;
	x.postal_code = r->postal;
	x.address = r->address;
	x.municipality_name = r->muni;
	x.expires = r->n.expires;
	x.window_first = r->n.window_first;
	x.window_last = r->n.window_last;
	x.reservation_id = r->n.reservation_id;
	snprintf(url, sizeof url, "%s/reserve?id=%s", b->base_url, r->n.reservation_id);
	x.reserve_url = url;
	x.application_id = r->n.application_id[0] ? r->n.application_id : NULL;
	jpki_err rc = jpkii_letters_add(mun, &x, &eb);
	if (rc == JPKI_OK)
		rc = jpkii_letters_add(jl, &x, &eb);
	return rc == JPKI_OK ? rc : jpkii_reg_eb_fail(b->m, rc, "letter", &eb);
}

/* Draws file k: both series to temporary names, renamed when complete. */
static jpki_err print_file(struct batch *b, size_t k, int64_t lo, int64_t hi)
{
	struct row *v = NULL;
	const char **cancel = NULL;
	struct jpkii_letters *mun = NULL, *jl = NULL;
	struct jpki_errbuf eb = {{0}};
	char names[2][32], paths[2][4200], tmps[2][4210];
	size_t n = 0, printed = 0;
	jpki_err rc = load_rows(b, lo, hi, &v, &n);
	if (rc != JPKI_OK)
		return rc;
	bool todo = false;
	for (size_t i = 0; i < n; i++)
		todo |= v[i].n.state == JPKI_NOTICE_SELECTED;
	if (!todo)
		goto out; /* finished before a crash: already counted */
	if ((cancel = calloc(n, sizeof *cancel)) == NULL) {
		rc = jpkii_reg_fail(b->m, JPKI_ERR_NOMEM, "nomem", "out of memory",
				    "メモリが足りません");
		goto out;
	}
	for (int s = 0; s < 2; s++) {
		file_name(names[s], sizeof names[s], s ? "jlis" : "municipal", k);
		if (join(paths[s], sizeof paths[s], b->dir, names[s]) != 0 ||
		    snprintf(tmps[s], sizeof tmps[s], "%s.tmp", paths[s]) >=
			(int)sizeof tmps[s]) {
			rc = jpkii_reg_fail(b->m, JPKI_ERR_INVALID, "bad_input",
					    "--out path too long",
					    "出力先のパスが長すぎます");
			goto out;
		}
	}
	if ((rc = jpkii_letters_open(tmps[0], JPKII_LETTER_MUNICIPAL, &mun, &eb)) ||
	    (rc = jpkii_letters_open(tmps[1], JPKII_LETTER_JLIS, &jl, &eb))) {
		rc = jpkii_reg_eb_fail(b->m, rc, "letter", &eb);
		goto out;
	}
	struct jpkii_letter base = {0};
	base.office = b->o->office;
	base.sent_on = jpki_jst_day(b->ctx->now);
	for (size_t i = 0; i < n; i++) {
		if (stopping(b)) {
			rc = jpkii_reg_fail(
			    b->m, JPKI_ERR_REFUSED, "stopped",
			    "stopped; run again to finish run %" PRId64,
			    "中断しました。もう一度実行すると処理%" PRId64
			    "を完了します",
			    b->run);
			goto out;
		}
		struct jpkii_letter x = base;
		if ((rc = holdings(b, &v[i], &x, &cancel[i])) != JPKI_OK)
			goto out;
		if (cancel[i] == NULL) {
			if ((rc = draw(b, mun, jl, &v[i], &x)) != JPKI_OK)
				goto out;
			if (printed++ == 0)
				jpki_reg_failpoint("notice.mid-file");
		}
		b->done++;
		progress(b);
		if (b->done % PROGRESS_EVERY == 0 && (rc = checkpoint(b)) != JPKI_OK)
			goto out;
	}
	rc = jpkii_letters_close(mun, &eb);
	mun = NULL;
	if (rc == JPKI_OK)
		rc = jpkii_letters_close(jl, &eb);
	jl = NULL;
	if (rc != JPKI_OK) {
		rc = jpkii_reg_eb_fail(b->m, rc, "letter", &eb);
		goto out;
	}
	for (int s = 0; s < 2; s++) {
		/* No letters left (all cancelled): no file. */
		if (printed == 0 ? unlink(tmps[s]) != 0
				 : rename(tmps[s], paths[s]) != 0) {
			rc = io_fail(b->m, "cannot write", paths[s]);
			goto out;
		}
	}
	if (fsync_dir(b->dir) != JPKI_OK) {
		rc = io_fail(b->m, "cannot sync", b->dir);
		goto out;
	}
	jpki_reg_failpoint("notice.after-rename");
	rc = commit_file(b, k, v, n, cancel, printed);
out:
	if (mun || jl) {
		jpkii_letters_close(mun, NULL);
		jpkii_letters_close(jl, NULL);
		unlink(tmps[0]);
		unlink(tmps[1]);
	}
	free(cancel);
	rows_free(v, n);
	return rc;
}

/* ---- manifest and summary ---- */

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static bool csv_field(FILE *f, const char *s, bool last)
{
	bool q = strpbrk(s, ",\"\r\n") != NULL;
	if (q) {
		fputc('"', f);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	return fputs(last ? "\r\n" : ",", f) >= 0;
}

static jpki_err manifest(struct batch *b, size_t *by_kind)
{
	struct jpki_stmt *st = NULL;
	char *buf = NULL;
	size_t len = 0;
	bool row = false;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return jpkii_reg_fail(b->m, JPKI_ERR_NOMEM, "nomem", "out of memory",
				      "メモリが足りません");
	fputs("notice_id,resident_id,kind,name,postal_address,reservation_id,"
	      "window_first,window_last\r\n",
	      f);
	jpki_err rc = jpkii_reg_query(
	    b->ctx->store, &st, "i",
	    "SELECT n.id, n.resident, n.kind, r.name, r.postal_code, r.address, "
	    "n.reservation_id, n.expires FROM notice n JOIN resident r ON r.id = "
	    "n.resident WHERE n.run = $1 AND n.state = 'printed' ORDER BY n.seq",
	    b->run);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		char id[24], res[24], addr[1100], wf[JPKI_DATE_BUFSZ],
		    wl[JPKI_DATE_BUFSZ];
		jpki_day first = JPKI_DAY_NONE, last = JPKI_DAY_NONE;
		const char *kind = jpki_stmt_text(st, 2),
			   *postal = jpki_stmt_text(st, 4);
		snprintf(id, sizeof id, "%" PRId64, jpki_stmt_int64(st, 0));
		snprintf(res, sizeof res, "%" PRId64, jpki_stmt_int64(st, 1));
		/* The postal address starts with 〒 and the code when known. */
		if (*postal)
			snprintf(addr, sizeof addr, "〒%s %s", postal,
				 jpki_stmt_text(st, 5));
		else
			snprintf(addr, sizeof addr, "%s", jpki_stmt_text(st, 5));
		jpki_renewal_window(jpkii_reg_col_day(st, 7), &first, &last);
		by_kind[strcmp(kind, "card") == 0]++;
		csv_field(f, id, false);
		csv_field(f, res, false);
		csv_field(f, kind, false);
		csv_field(f, jpki_stmt_text(st, 3), false);
		csv_field(f, addr, false);
		csv_field(f, jpki_stmt_text(st, 6), false);
		csv_field(f, jpki_date_format(first, wf), false);
		csv_field(f, jpki_date_format(last, wl), true);
	}
	jpki_stmt_finalize(st);
	bool ok = fclose(f) == 0;
	if (rc != JPKI_OK) {
		free(buf);
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	}
	rc = ok ? write_atomic(b->dir, "manifest.csv", buf, len) : JPKI_ERR_NOMEM;
	free(buf);
	return rc == JPKI_OK ? rc
			     : io_fail(b->m, "cannot write manifest.csv in", b->dir);
}

/* SHA-256 of a file as lowercase hex; "" when it cannot be read. */
static void file_sha256(const char *path, char hex[65])
{
	unsigned char md[32], buf[65536];
	unsigned mdlen = 0;
	hex[0] = '\0';
	FILE *f = fopen(path, "rbe");
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = f && c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = EVP_DigestUpdate(c, buf, n) == 1;
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(c, md, &mdlen) == 1;
	for (unsigned i = 0; ok && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(c);
	if (f)
		fclose(f);
}

/* ---- the run's files ---- */

static jpki_err file_push(struct jpki_notice_file **v, size_t *n, size_t *cap,
			  const char *dir, const char *name, const char *series,
			  const char *type, size_t letters, size_t pages)
{
	if (!jpkii_reg_grow(v, cap, *n, sizeof **v))
		return JPKI_ERR_NOMEM;
	struct jpki_notice_file *f = &(*v)[(*n)++];
	char path[4200];
	struct stat sb;
	snprintf(f->name, sizeof f->name, "%s", name);
	f->series = series;
	f->type = type;
	f->letters = letters;
	f->pages = pages;
	f->bytes = join(path, sizeof path, dir, name) == 0 && lstat(path, &sb) == 0 &&
			   S_ISREG(sb.st_mode)
		       ? (int64_t)sb.st_size
		       : -1;
	return JPKI_OK;
}

/* The files of run in dir, finished or not: the PDFs of its printed
 * letter files, then the manifest and the summary (which exist once the
 * run is done). */
static jpki_err list_files(const struct jpki_reg_ctx *ctx, int64_t run, const char *dir,
			   struct jpki_notice_file **out, size_t *n,
			   struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "i",
				      "SELECT file, count(*) FROM notice "
				      "WHERE run = $1 AND state = 'printed' "
				      "GROUP BY file ORDER BY file",
				      run);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		const char *mun = jpki_stmt_text(st, 0);
		size_t letters = (size_t)jpki_stmt_int64(st, 1);
		char name[64];
		if (strncmp(mun, "municipal-", 10) != 0 || strlen(mun) > 40)
			continue; /* not a name this batch writes */
		/* municipal-NNN.pdf (two pages a letter) and its twin jlis-NNN.pdf */
		rc = file_push(out, n, &cap, dir, mun, "municipal", "application/pdf",
			       letters, 2 * letters);
		snprintf(name, sizeof name, "jlis%s", mun + strlen("municipal"));
		if (rc == JPKI_OK)
			rc = file_push(out, n, &cap, dir, name, "jlis",
				       "application/pdf", letters, letters);
	}
	jpki_stmt_finalize(st);
	if (rc == JPKI_OK)
		rc = file_push(out, n, &cap, dir, "manifest.csv", "manifest",
			       "text/csv; charset=utf-8; header=present", 0, 0);
	if (rc == JPKI_OK)
		rc = file_push(out, n, &cap, dir, "summary.json", "summary",
			       "application/json", 0, 0);
	if (rc == JPKI_OK)
		return rc;
	free(*out);
	*out = NULL;
	*n = 0;
	return rc == JPKI_ERR_NOMEM ? jpkii_reg_fail(m, rc, "nomem", "out of memory",
						     "メモリが足りません")
				    : jpkii_reg_store_fail(ctx, m, rc);
}

static jpki_err not_done(int64_t id, struct jpki_reg_msg *m)
{
	return jpkii_reg_fail(m, JPKI_ERR_REFUSED, "running",
			      "notice run %" PRId64 " is not finished: its files "
			      "are not complete",
			      "通知の作成処理%" PRId64 "は完了していません。"
			      "ファイルはまだ揃っていません",
			      id);
}

jpki_err jpki_notice_run_files(const struct jpki_reg_ctx *ctx, int64_t id,
			       struct jpki_notice_file **out, size_t *n,
			       struct jpki_reg_msg *m)
{
	struct jpki_notice_run_info ri;
	*out = NULL;
	*n = 0;
	jpki_err rc = jpki_notice_run_get(ctx, id, &ri, m);
	if (rc != JPKI_OK)
		return rc;
	if (!ri.done)
		return not_done(id, m);
	return list_files(ctx, id, ri.out_dir, out, n, m);
}

jpki_err jpki_notice_open_file(const struct jpki_reg_ctx *ctx, int64_t id,
			       const char *name, int *fd, struct jpki_notice_file *out,
			       struct jpki_reg_msg *m)
{
	struct jpki_notice_run_info ri;
	struct jpki_notice_file *files = NULL;
	size_t n = 0, k;
	char path[4200], object[40], *details = NULL;
	*fd = -1;
	jpki_err rc = jpki_notice_run_get(ctx, id, &ri, m);
	if (rc == JPKI_OK && !ri.done)
		rc = not_done(id, m);
	if (rc == JPKI_OK)
		rc = list_files(ctx, id, ri.out_dir, &files, &n, m);
	if (rc != JPKI_OK)
		return rc;
	for (k = 0; k < n && strcmp(files[k].name, name) != 0; k++)
		;
	if (k < n)
		*out = files[k];
	free(files);
	if (k == n)
		return jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "no_file",
				      "run %" PRId64 " has no file %.64s",
				      "処理%" PRId64 "にファイル %.64s はありません",
				      id, name);
	struct stat sb;
	int f = join(path, sizeof path, ri.out_dir, out->name) == 0
		    ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
		    : -1;
	if (f < 0 || fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (f >= 0)
			close(f);
		return jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "file_gone",
				      "run %" PRId64 ": %s is no longer in %s",
				      "処理%" PRId64 "の %s は %s にもうありません", id,
				      out->name, ri.out_dir);
	}
	out->bytes = (int64_t)sb.st_size;
	snprintf(object, sizeof object, "notice-run:%" PRId64, id);
	json_t *d =
	    json_pack("{s:s,s:I}", "file", out->name, "bytes", (json_int_t)out->bytes);
	details = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	if (details == NULL)
		rc = jpkii_reg_fail(m, JPKI_ERR_NOMEM, "nomem", "out of memory",
				    "メモリが足りません");
	else if ((rc = jpki_store_begin(ctx->store)) != JPKI_OK)
		rc = jpkii_reg_store_fail(ctx, m, rc);
	else
		rc = jpkii_reg_audit_commit(ctx, "notice.download", object, details, m);
	free(details);
	if (rc != JPKI_OK) {
		close(f);
		return rc;
	}
	*fd = f;
	return JPKI_OK;
}

/* summary.json's "files": the PDFs with their SHA-256. */
static json_t *files_json(struct batch *b, size_t *nfiles)
{
	struct jpki_notice_file *f = NULL;
	size_t n = 0;
	if (list_files(b->ctx, b->run, b->dir, &f, &n, b->m) != JPKI_OK)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		char path[4200], hex[65];
		if (strcmp(f[i].type, "application/pdf") != 0 ||
		    join(path, sizeof path, b->dir, f[i].name) != 0)
			continue;
		file_sha256(path, hex);
		json_array_append_new(
		    a, json_pack("{s:s,s:s,s:I,s:I,s:s}", "name", f[i].name, "series",
				 f[i].series, "letters", (json_int_t)f[i].letters,
				 "pages", (json_int_t)f[i].pages, "sha256", hex));
		(*nfiles)++;
	}
	free(f);
	return a;
}

static json_t *cancelled_json(struct batch *b)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	json_t *o = json_object();
	jpki_err rc =
	    jpkii_reg_query(b->ctx->store, &st, "i",
			    "SELECT cancel_reason, count(*) FROM notice WHERE "
			    "run = $1 AND state = 'cancelled' GROUP BY "
			    "cancel_reason ORDER BY cancel_reason",
			    b->run);
	while (o && rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row)
		json_object_set_new(o, jpki_stmt_text(st, 0),
				    json_integer(jpki_stmt_int64(st, 1)));
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static jpki_err summary(struct batch *b, const struct jpki_notice_run_info *ri,
			const size_t *by_kind)
{
	char mon[8], day[JPKI_DATE_BUFSZ], started[JPKI_INSTANT_BUFSZ],
	    finished[JPKI_INSTANT_BUFSZ];
	size_t nfiles = 0;
	jpkii_notice_month(ri->year, ri->month, mon);
	jpki_instant_format(ri->started_at, started);
	jpki_instant_format(b->ctx->now, finished);
	json_t *files = files_json(b, &nfiles), *cancelled = cancelled_json(b);
	json_t *doc = NULL;
	if (files && cancelled)
		doc = json_pack(
		    "{s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:{s:I,s:I},s:I,s:I,s:s,s:o,s:s,"
		    "s:s,s:s}",
		    "run", (json_int_t)b->run, "expiring", mon, "run_on",
		    jpki_date_format(ri->run_on, day), "state", "done", "notices",
		    (json_int_t)ri->selected, "printed",
		    (json_int_t)(by_kind[0] + by_kind[1]), "cancelled",
		    (json_int_t)ri->cancelled, "cancelled_by_reason", cancelled,
		    "by_kind", "cert", (json_int_t)by_kind[0], "card",
		    (json_int_t)by_kind[1], "expired_before",
		    (json_int_t)ri->expired_before, "per_file",
		    (json_int_t)ri->per_file, "manifest", "manifest.csv", "files",
		    files, "reserve_base", b->base_url, "started_at", started,
		    "finished_at", finished);
	else {
		json_decref(files);
		json_decref(cancelled);
	}
	b->rep->files = nfiles;
	char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (s == NULL)
		return jpkii_reg_store_fail(b->ctx, b->m, JPKI_ERR_STORE);
	size_t len = strlen(s);
	char *t = realloc(s, len + 2);
	if (t == NULL) {
		free(s);
		return jpkii_reg_fail(b->m, JPKI_ERR_NOMEM, "nomem", "out of memory",
				      "メモリが足りません");
	}
	t[len] = '\n';
	t[len + 1] = '\0';
	jpki_err rc = write_atomic(b->dir, "summary.json", t, len + 1);
	free(t);
	return rc == JPKI_OK ? rc
			     : io_fail(b->m, "cannot write summary.json in", b->dir);
}

static jpki_err finish_run(struct batch *b)
{
	struct jpki_notice_run_info ri;
	size_t by_kind[2] = {0, 0};
	char object[40];
	jpki_err rc = manifest(b, by_kind);
	if (rc == JPKI_OK)
		rc = jpki_notice_run_get(b->ctx, b->run, &ri, b->m);
	if (rc == JPKI_OK)
		rc = summary(b, &ri, by_kind);
	if (rc != JPKI_OK)
		return rc;
	if ((rc = jpki_store_begin(b->ctx->store)) != JPKI_OK)
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	rc = jpkii_reg_sql(b->ctx->store, "iii",
			   "UPDATE notice_run SET state = 'done', rendered = $1, "
			   "finished_at = $2, updated_at = $2 WHERE id = $3",
			   (int64_t)b->total, b->ctx->now, b->run);
	snprintf(object, sizeof object, "notice-run:%" PRId64, b->run);
	char details[128];
	snprintf(details, sizeof details, "{\"cancelled\":%zu,\"printed\":%zu}",
		 ri.cancelled, by_kind[0] + by_kind[1]);
	if (rc != JPKI_OK) {
		rc = jpkii_reg_store_fail(b->ctx, b->m, rc);
		jpki_store_rollback(b->ctx->store);
		return rc;
	}
	return jpkii_reg_audit_commit(b->ctx, "notice.done", object, details, b->m);
}

/* ---- the run ---- */

static int make_dirs(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

jpki_err jpki_notice_out_dir(const struct jpki_reg_ctx *ctx, const char *root, int year,
			     int month, char *out, size_t cap, struct jpki_reg_msg *m)
{
	struct jpki_notice_run_info ri;
	struct stat sb;
	char dir[4096], abs[PATH_MAX];
	int64_t run = 0;
	jpki_err rc = jpki_notice_unfinished(ctx, year, month, &run, m);
	if (rc == JPKI_OK && run != 0 &&
	    (rc = jpki_notice_run_get(ctx, run, &ri, m)) == JPKI_OK)
		snprintf(dir, sizeof dir, "%s", ri.out_dir);
	if (rc != JPKI_OK)
		return rc;
	if (run != 0) {
		if (realpath(dir, abs) == NULL)
			return io_fail(m, "cannot open", dir);
		snprintf(dir, sizeof dir, "%s", abs);
	} else {
		/* Not created here: a run that is refused must leave nothing;
		 * jpki_notice_run creates it (opts.create_out). */
		char cwd[PATH_MAX] = "";
		if (root[0] != '/' && getcwd(cwd, sizeof cwd) == NULL)
			return io_fail(m, "cannot find", "the working directory");
		int n = snprintf(dir, sizeof dir, "%s%s%s/%04d-%02d", cwd,
				 cwd[0] ? "/" : "", root, year, month);
		for (int k = 2;
		     n > 0 && (size_t)n < sizeof dir && stat(dir, &sb) == 0 && k < 1000;
		     k++)
			n = snprintf(dir, sizeof dir, "%s%s%s/%04d-%02d.%d", cwd,
				     cwd[0] ? "/" : "", root, year, month, k);
	}
	if (snprintf(out, cap, "%s", dir) >= (int)cap)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_out",
				      "%s: path too long", "%s: パスが長すぎます", dir);
	return JPKI_OK;
}

/* A new run's directory exists, is writable and holds no other run's
 * letters (they would be overwritten). */
static jpki_err check_new_dir(struct batch *b, const char *dir)
{
	static const char *const ours[] = {"manifest.csv", "summary.json",
					   "municipal-001.pdf", "jlis-001.pdf"};
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) != 0)
		return jpkii_reg_fail(b->m, JPKI_ERR_INVALID, "bad_out",
				      "%s is not a writable directory",
				      "%s は書き込めるディレクトリではありません", dir);
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
		char path[4200];
		if (join(path, sizeof path, dir, ours[i]) == 0 &&
		    access(path, F_OK) == 0)
			return jpkii_reg_fail(
			    b->m, JPKI_ERR_INVALID, "out_in_use",
			    "%s already holds the letters of another "
			    "run (%s): choose another directory",
			    "%s には別の処理の通知（%s）があります。別の"
			    "出力先を指定してください",
			    dir, ours[i]);
	}
	return JPKI_OK;
}

static jpki_err base_url(struct batch *b)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	if (b->o->base_url) {
		snprintf(b->base_url, sizeof b->base_url, "%s", b->o->base_url);
		return JPKI_OK;
	}
	jpki_err rc =
	    jpkii_reg_query(b->ctx->store, &st, "",
			    "SELECT value FROM ca_setting WHERE key = 'base_url'");
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row)
		snprintf(b->base_url, sizeof b->base_url, "%s", jpki_stmt_text(st, 0));
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(b->ctx, b->m, rc);
	if (!row)
		return jpkii_reg_fail(
		    b->m, JPKI_ERR_CONFIG, "no_base_url",
		    "the store has no CA base URL; give --base-url",
		    "CAのベースURLがありません。--base-url を指定してください");
	return JPKI_OK;
}

static jpki_err print_run(struct batch *b)
{
	struct jpki_notice_run_info ri;
	jpki_err rc = jpki_notice_run_get(b->ctx, b->run, &ri, b->m);
	if (rc != JPKI_OK)
		return rc;
	b->per_file = ri.per_file;
	b->total = ri.selected;
	b->done = 0;
	size_t per = b->per_file ? b->per_file : (b->total ? b->total : 1);
	size_t nfiles = (b->total + per - 1) / per;
	for (size_t k = 1; rc == JPKI_OK && k <= nfiles; k++) {
		int64_t lo = (int64_t)((k - 1) * per + 1), hi = (int64_t)(k * per);
		size_t before = b->done;
		rc = print_file(b, k, lo, hi);
		/* A file finished before a crash counts as drawn. */
		if (rc == JPKI_OK && b->done == before)
			b->done =
			    (size_t)(hi < (int64_t)b->total ? hi : (int64_t)b->total);
		if (rc == JPKI_OK) {
			jpki_reg_failpoint("notice.between-files");
			rc = checkpoint(b);
		}
		progress(b);
	}
	if (rc == JPKI_OK) {
		jpki_reg_failpoint("notice.before-done");
		rc = finish_run(b);
	}
	return rc;
}

static void report_run(struct batch *b)
{
	struct jpki_notice_run_info ri;
	struct jpki_reg_msg m2;
	if (jpki_notice_run_get(b->ctx, b->run, &ri, &m2) != JPKI_OK)
		return;
	b->rep->total = ri.selected;
	b->rep->printed = ri.printed;
	b->rep->cancelled = ri.cancelled;
	if (b->rep->resumed)
		b->rep->expired_before = ri.expired_before;
}

jpki_err jpki_notice_run(const struct jpki_reg_ctx *ctx,
			 const struct jpki_notice_run_opts *o,
			 struct jpki_notice_report *rep, struct jpki_reg_msg *m)
{
	struct batch b = {.ctx = ctx, .o = o, .rep = rep, .m = m};
	struct jpki_notice_selection sel = {0};
	struct jpki_errbuf eb = {{0}};
	jpki_day today = jpki_jst_day(ctx->now);
	bool locked = false, suspended = false;
	jpki_err rc;

	memset(rep, 0, sizeof *rep);
	rep->year = o->year;
	rep->month = o->month;
	if (rep->year == 0)
		jpki_notice_default_month(today, &rep->year, &rep->month);
	if ((rc = jpki_notice_check_month(today, rep->year, rep->month, &eb)) !=
	    JPKI_OK)
		return jpkii_reg_eb_fail(m, rc, "bad_month", &eb);
	if (o->dry_run) {
		rc = jpki_notice_select(ctx, rep->year, rep->month, &sel, m);
		rep->selected = rep->total = sel.n;
		rep->by_kind[0] = sel.by_kind[0];
		rep->by_kind[1] = sel.by_kind[1];
		rep->expired_before = sel.expired_before;
		jpki_notice_selection_release(&sel);
		return rc;
	}
	if (o->office == NULL || o->out_dir == NULL)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "a run needs an office and an output directory",
				      "窓口の情報と出力先が必要です");
	if ((rc = jpkii_notice_suspended(ctx, &suspended, m)) != JPKI_OK)
		return rc;
	if (suspended)
		return jpkii_reg_fail(m, JPKI_ERR_REFUSED, "suspended",
				      "sending notices is suspended: nothing was sent "
				      "(jpki notice resume first)",
				      "通知の発送は停止中です。何も作成していません");
	if ((rc = base_url(&b)) != JPKI_OK)
		return rc;
	if ((rc = jpki_store_try_lock(ctx->store, "notice")) != JPKI_OK) {
		if (rc == JPKI_ERR_CONFLICT)
			return jpkii_reg_fail(m, rc, "busy",
					      "another notice run is in progress",
					      "別の通知作成処理が実行中です");
		return jpkii_reg_store_fail(ctx, m, rc);
	}
	locked = true;
	if ((rc = jpki_notice_unfinished(ctx, rep->year, rep->month, &b.run, m)) !=
	    JPKI_OK)
		goto out;
	if (b.run != 0) {
		struct jpki_notice_run_info ri;
		if ((rc = jpki_notice_run_get(ctx, b.run, &ri, m)) != JPKI_OK)
			goto out;
		if (strcmp(ri.out_dir, o->out_dir) != 0) {
			rc = jpkii_reg_fail(
			    m, JPKI_ERR_INVALID, "other_dir",
			    "run %" PRId64 " of %04d-%02d is unfinished in "
			    "%s: finish it there (--out %s)",
			    "処理%" PRId64 "（%04d-%02d）が%sで未完了です"
			    "（--out %s で再実行してください）",
			    b.run, rep->year, rep->month, ri.out_dir, ri.out_dir);
			goto out;
		}
		rep->resumed = true;
	} else {
		if (o->create_out && make_dirs(o->out_dir) != 0) {
			rc = io_fail(m, "cannot create", o->out_dir);
			goto out;
		}
		if ((rc = check_new_dir(&b, o->out_dir)) != JPKI_OK)
			goto out;
		if ((rc = jpki_notice_select(ctx, rep->year, rep->month, &sel, m)) !=
		    JPKI_OK)
			goto out;
		rep->selected = sel.n;
		rep->by_kind[0] = sel.by_kind[0];
		rep->by_kind[1] = sel.by_kind[1];
		rep->expired_before = sel.expired_before;
		rc = jpkii_notice_claim(ctx, rep->year, rep->month, o->out_dir,
					o->per_file, &sel, &b.run, m);
		if (rc != JPKI_OK)
			goto out;
		jpki_reg_failpoint("notice.after-claim");
	}
	rep->run = b.run;
	snprintf(b.dir, sizeof b.dir, "%s", o->out_dir);
	snprintf(rep->out_dir, sizeof rep->out_dir, "%s", o->out_dir);
	rc = print_run(&b);
	report_run(&b);
out:
	jpki_notice_selection_release(&sel);
	if (locked)
		jpki_store_unlock(ctx->store, "notice");
	return rc;
}
